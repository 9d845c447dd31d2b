//! The regex outline and the ranked repo map.

use qide_codebase::{MapReason, outline, repo_map};

use crate::project;

fn names(language: &str, text: &str) -> Vec<(String, String, bool)> {
    outline(language, text)
        .into_iter()
        .map(|d| (d.kind, d.name, d.member))
        .collect()
}

fn owned(items: &[(&str, &str, bool)]) -> Vec<(String, String, bool)> {
    items
        .iter()
        .map(|(k, n, m)| ((*k).to_owned(), (*n).to_owned(), *m))
        .collect()
}

#[test]
fn the_outline_names_top_level_items_and_members_per_language() {
    let rust = "use std::fmt;\n\npub struct Version {\n    major: u64,\n}\n\nimpl fmt::Display for Version {\n    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {\n        let x = 1;\n        fn deep() {}\n    }\n}\n\npub(crate) async fn parse(text: &str) {}\nconst MAX: u32 = 3;\nmacro_rules! check { () => {} }\npub enum Op { Eq }\n";
    assert_eq!(
        names("Rust", rust),
        owned(&[
            ("struct", "Version", false),
            ("impl", "fmt::Display for Version", false),
            ("fn", "fmt", true),
            ("fn", "parse", false),
            ("const", "MAX", false),
            ("macro_rules", "check", false),
            ("enum", "Op", false),
        ])
    );
    let python = "import os\n\nclass Parser(Base):\n    def parse(self, text):\n        def inner():\n            pass\n\nasync def main():\n    pass\n";
    assert_eq!(
        names("Python", python),
        owned(&[
            ("class", "Parser", false),
            ("def", "parse", true),
            ("def", "main", false),
        ])
    );
    let go = "package x\n\ntype Server struct {\n}\n\nfunc (s *Server) Run() error {\n}\n\nfunc New() *Server {\n}\n";
    assert_eq!(
        names("Go", go),
        owned(&[
            ("type", "Server", false),
            ("func", "Run", false),
            ("func", "New", false),
        ])
    );
    let ts = "import x from 'y';\nexport default class App {}\nexport async function load(): Promise<void> {}\nexport interface Props { a: string }\nconst local = 1;\nfunction f() {\n  const inner = 2;\n}\n";
    assert_eq!(
        names("TypeScript", ts),
        owned(&[
            ("class", "App", false),
            ("function", "load", false),
            ("interface", "Props", false),
            ("const", "local", false),
            ("function", "f", false),
        ])
    );
    let java = "package a;\n\npublic final class Store {\n    private final Map<String, X> cache = new HashMap<>();\n    public static Store open(String path) {\n        return null;\n    }\n}\n";
    assert_eq!(
        names("Java", java),
        owned(&[("class", "Store", false), ("function", "open", true)])
            .into_iter()
            .map(|(k, n, m)| (if m { "method".to_owned() } else { k }, n, m))
            .collect::<Vec<_>>()
    );
    let c = "#include <stdio.h>\n\nstruct point {\n    int x;\n};\n\nstatic int add(int a, int b) {\n    if (a) {\n        return a;\n    }\n}\n\nint main(void)\n{\n    return add(1, 2);\n}\nint declared(void);\n";
    assert_eq!(
        names("C", c),
        owned(&[
            ("struct", "point", false),
            ("function", "add", false),
            ("function", "main", false),
        ])
    );
    assert!(outline("Markdown", "# fn not_code()\n").is_empty());
}

/// One token per whitespace-separated word.
fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

#[test]
fn files_are_ranked_by_references_and_a_failing_file_leads() {
    let dir = project(&[
        (
            "src/store.rs",
            "pub struct Store;\nimpl Store {\n    pub fn open() -> Store { Store }\n}\n",
        ),
        (
            "src/util.rs",
            "pub fn helper_one() {}\npub fn helper_two() {}\n",
        ),
        (
            "src/a.rs",
            "use crate::store::Store;\npub fn alpha() { Store::open(); }\n",
        ),
        (
            "src/b.rs",
            "use crate::store::Store;\npub fn beta() { Store::open(); helper_one(); }\n",
        ),
        ("README.md", "Store helper_one\n"),
        (".env", "pub fn secret() {}\n"),
    ]);
    let map = repo_map(dir.path(), 10_000, &[], words).unwrap();
    let order: Vec<(&str, u64)> = map
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.score))
        .collect();
    assert_eq!(
        order,
        [
            ("src/store.rs", 2),
            ("src/util.rs", 1),
            ("src/a.rs", 0),
            ("src/b.rs", 0),
        ]
    );
    assert_eq!(
        map.files[0].text,
        "src/store.rs\n  1: pub struct Store;\n  2: impl Store {\n    3: pub fn open() -> Store { Store }\n"
    );
    assert_eq!(map.tokens, map.files.iter().map(|f| f.tokens).sum::<u64>());

    let centred = repo_map(dir.path(), 10_000, &["src/a.rs".to_owned()], words).unwrap();
    let order: Vec<(&str, MapReason)> = centred
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.reason))
        .collect();
    assert_eq!(
        order,
        [
            ("src/a.rs", MapReason::Failing),
            ("src/store.rs", MapReason::ReferencedByFailing),
            ("src/util.rs", MapReason::Ranked),
            ("src/b.rs", MapReason::Ranked),
        ]
    );

    for budget in [0, 3, 8, 12, 20, 40] {
        let map = repo_map(dir.path(), budget, &[], words).unwrap();
        assert!(map.tokens <= budget, "{budget}");
        assert_eq!(map.files.len() + map.left_out.len(), 4, "{budget}");
    }
    // Members are dropped before a file is.
    let tight = repo_map(dir.path(), 9, &[], words).unwrap();
    assert_eq!(tight.files[0].path, "src/store.rs");
    assert!(tight.files[0].truncated);
}
