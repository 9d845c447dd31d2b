//! The regex outline, tree-sitter tags per language, and the ranked,
//! budgeted, incremental repo map.

use std::path::Path;

use qide_codebase::{
    MapCache, MapFocus, MapReason, TagMethod, check_queries, file_tags, outline, repo_map,
};

use crate::{project, write};

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
    let ruby = "module Shop\n  class Cart\n    def total\n    end\n  end\nend\n";
    assert_eq!(
        names("Ruby", ruby),
        owned(&[
            ("module", "Shop", false),
            ("class", "Cart", true),
            ("def", "total", true),
        ])
    );
    assert!(outline("Markdown", "# fn not_code()\n").is_empty());
}

#[test]
fn every_tags_query_compiles_against_its_grammar() {
    assert_eq!(check_queries(), 9);
}

/// (kind, name, member) of each definition, and the references, of `text`
/// read as the file `path`.
fn tags(
    language: &'static str,
    path: &str,
    text: &str,
) -> (Vec<(String, String, bool)>, Vec<String>) {
    let tags = file_tags(language, path, text).expect("a known language");
    assert_eq!(tags.method, TagMethod::TreeSitter, "{path}");
    let definitions = tags
        .definitions
        .into_iter()
        .map(|d| (d.kind, d.name, d.member))
        .collect();
    let references = tags.references.into_iter().map(|(name, _)| name).collect();
    (definitions, references)
}

#[test]
fn rust_tags_place_members_and_drop_locals() {
    let text = "use crate::store::{Store, open_store};\n\n#[derive(Debug)]\npub struct Version {\n    major: u64,\n}\n\nimpl fmt::Display for Version {\n    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {\n        fn deep() {}\n        let s = Store::open();\n        write!(f, \"{}\", s.major)\n    }\n}\n\npub trait Parse {\n    fn parse(text: &str) -> Self;\n}\n\npub(crate) async fn parse_version(text: &str) -> Version {\n    helper_one(text).parse_thing()\n}\nconst MAX: u32 = 3;\nmacro_rules! check { () => {} }\nmod tests {\n    fn it_works() {}\n}\n";
    let (definitions, references) = tags("Rust", "src/lib.rs", text);
    assert_eq!(
        definitions,
        owned(&[
            ("struct", "Version", false),
            ("impl", "fmt::Display for Version", false),
            ("fn", "fmt", true),
            ("trait", "Parse", false),
            ("fn", "parse", true),
            ("fn", "parse_version", false),
            ("const", "MAX", false),
            ("macro_rules", "check", false),
            ("mod", "tests", false),
            ("fn", "it_works", true),
        ])
    );
    assert_eq!(
        references,
        [
            "Display",
            "Formatter",
            "Result",
            "Self",
            "Store",
            "Version",
            "helper_one",
            "open",
            "open_store",
            "parse_thing",
            "write"
        ]
    );
    let tags = file_tags("Rust", "src/lib.rs", text).unwrap();
    assert_eq!(
        tags.definitions[2].signature,
        "fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {"
    );
    assert_eq!(tags.definitions[2].line, 9);
    assert_eq!(tags.parents[2], Some(1));
}

#[test]
fn tags_for_python_go_and_java() {
    let python = "from .store import Store, open_store as opener\n\n@dataclass\nclass Parser(Base, mod.Mixin):\n    def parse(self, text: Tokens) -> Result:\n        def inner():\n            pass\n        return helper(text).run()\n\nasync def main():\n    class Local:\n        pass\n";
    let (definitions, references) = tags("Python", "p/parser.py", python);
    assert_eq!(
        definitions,
        owned(&[
            ("class", "Parser", false),
            ("def", "parse", true),
            ("def", "main", false),
        ])
    );
    assert_eq!(
        references,
        [
            "Base",
            "Mixin",
            "Result",
            "Store",
            "Tokens",
            "dataclass",
            "helper",
            "open_store",
            "run"
        ]
    );

    let go = "package x\n\ntype Server struct {\n\tstore *Store\n}\n\ntype Reader interface {\n\tRead(p []byte) (int, error)\n}\n\nfunc (s *Server) Run() error {\n\treturn s.store.Open()\n}\n\nfunc New() *Server {\n\tconst local = 1\n\thelper()\n\treturn &Server{}\n}\n";
    let (definitions, references) = tags("Go", "server.go", go);
    assert_eq!(
        definitions,
        owned(&[
            ("type", "Server", false),
            ("type", "Reader", false),
            ("method", "Read", true),
            ("func", "Run", false),
            ("func", "New", false),
        ])
    );
    assert_eq!(
        references,
        ["Open", "Server", "Store", "byte", "error", "helper", "int"]
    );

    let java = "package a;\nimport com.x.Store;\n\npublic final class Shop extends Base {\n    @Override\n    public static Store open(String path) {\n        helper.doThing();\n        return new Store();\n    }\n    interface Inner { void run(); }\n}\nrecord Point(int x, int y) {}\n";
    let (definitions, references) = tags("Java", "Shop.java", java);
    assert_eq!(
        definitions,
        owned(&[
            ("class", "Shop", false),
            ("method", "open", true),
            ("interface", "Inner", true),
            ("method", "run", true),
            ("record", "Point", false),
        ])
    );
    assert_eq!(references, ["Base", "Store", "String", "doThing"]);
    let tags = file_tags("Java", "Shop.java", java).unwrap();
    assert_eq!(
        tags.definitions[1].signature,
        "@Override public static Store open(String path) {"
    );
}

#[test]
fn tags_for_javascript_typescript_and_tsx() {
    let js = "class App extends Component {\n  render() { return helper(); }\n  #secret() {}\n}\nfunction* gen() {}\nvar old = 1;\nlet mutable = () => { const local = 2; };\nexport function View() { return <Layout><Item/></Layout>; }\n";
    let (definitions, references) = tags("JavaScript", "web/app.jsx", js);
    assert_eq!(
        definitions,
        owned(&[
            ("class", "App", false),
            ("method", "render", true),
            ("method", "#secret", true),
            ("function", "gen", false),
            ("var", "old", false),
            ("let", "mutable", false),
            ("function", "View", false),
        ])
    );
    assert_eq!(references, ["Component", "Item", "Layout", "helper"]);

    let ts = "import { Store, openStore } from './store';\nexport default class App extends Base implements Props {\n  private store: Store;\n  async load(): Promise<void> { await openStore(); }\n}\nexport interface Props { a: string; render(): void }\nexport type Id = string;\nexport enum Color { Red }\ndeclare function declared(x: number): void;\nnamespace Util { export function inner() {} }\nexport const handler = async (req: Request) => new Response();\n";
    let expected = owned(&[
        ("class", "App", false),
        ("method", "load", true),
        ("interface", "Props", false),
        ("method", "render", true),
        ("type", "Id", false),
        ("enum", "Color", false),
        ("function", "declared", false),
        ("namespace", "Util", false),
        ("function", "inner", true),
        ("const", "handler", false),
    ]);
    let (definitions, references) = tags("TypeScript", "src/app.ts", ts);
    assert_eq!(definitions, expected);
    assert_eq!(
        references,
        [
            "Base",
            "Promise",
            "Props",
            "Request",
            "Response",
            "Store",
            "openStore"
        ]
    );
    // The same text as TSX, with a component using JSX.
    let tsx = format!("{ts}export function View() {{ return <Layout><Item/></Layout>; }}\n");
    let (definitions, references) = tags("TypeScript", "src/App.tsx", &tsx);
    assert_eq!(definitions.len(), expected.len() + 1);
    assert!(references.contains(&"Layout".to_owned()) && references.contains(&"Item".to_owned()));
}

#[test]
fn tags_for_c_and_cpp() {
    let c = "#include <stdio.h>\n#define GUARD_H\n#define MAX(a, b) ((a) > (b) ? (a) : (b))\n\nstruct point {\n    int x;\n};\n\ntypedef struct node { int v; } node_t;\n\nstatic int\nadd(int a, int b) {\n    return helper(a);\n}\n\nchar *name(void) { return 0; }\nint main(void)\n{\n    struct point p;\n    return add(1, 2);\n}\nint declared(void);\n";
    let (definitions, references) = tags("C", "src/main.c", c);
    assert_eq!(
        definitions,
        owned(&[
            ("macro", "MAX", false),
            ("struct", "point", false),
            ("typedef", "node_t", false),
            ("function", "add", false),
            ("function", "name", false),
            ("function", "main", false),
            ("function", "declared", false),
        ])
    );
    assert_eq!(references, ["add", "helper", "point"]);
    let parsed = file_tags("C", "src/main.c", c).unwrap();
    assert_eq!(
        parsed.definitions[3].signature,
        "static int add(int a, int b) {"
    );

    let cpp = "namespace app {\nclass Server : public Base {\npublic:\n    void run();\n    int count() const { return n; }\n};\nvoid Server::run() { helper(); store.open(); std::sort(v.begin(), v.end()); }\nusing Id = int;\n}\n";
    let (definitions, references) = tags("C++", "src/server.cpp", cpp);
    assert_eq!(
        definitions,
        owned(&[
            ("namespace", "app", false),
            ("class", "Server", true),
            ("function", "run", true),
            ("function", "count", true),
            ("function", "run", true),
            ("using", "Id", true),
        ])
    );
    assert_eq!(
        references,
        ["Base", "begin", "end", "helper", "open", "sort"]
    );
}

#[test]
fn languages_without_a_grammar_and_minified_files_use_the_outline() {
    let ruby = file_tags(
        "Ruby",
        "lib/cart.rb",
        "class Cart\n  def total\n  end\nend\n",
    )
    .unwrap();
    assert_eq!(ruby.method, TagMethod::Outline);
    assert_eq!(ruby.parents, [None, Some(0)]);
    let minified = format!("function a(){{{}}}\n", "x();".repeat(40_000));
    let tags = file_tags("JavaScript", "dist/app.min.js", &minified).unwrap();
    assert_eq!(tags.method, TagMethod::Outline);
    assert!(file_tags("Markdown", "README.md", "# title\n").is_none());
}

/// One token per whitespace-separated word.
fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

fn sample() -> tempfile::TempDir {
    project(&[
        (
            "src/store.rs",
            "pub struct Store;\nimpl Store {\n    pub fn open_store() -> Store { Store }\n}\n",
        ),
        (
            "src/util.rs",
            "pub fn helper_one() {}\npub fn helper_two() {}\n",
        ),
        (
            "src/a.rs",
            "use crate::store::Store;\npub fn alpha() { Store::open_store(); }\n",
        ),
        (
            "src/b.rs",
            "use crate::store::Store;\npub fn beta() { Store::open_store(); helper_one(); }\n",
        ),
        (
            "lib/cart.rb",
            "class Cart\n  def total\n    Store.new\n  end\nend\n",
        ),
        ("README.md", "Store helper_one\n"),
        (".env", "pub fn secret() {}\n"),
    ])
}

fn order(map: &qide_codebase::RepoMap) -> Vec<(&str, MapReason)> {
    map.files
        .iter()
        .map(|f| (f.path.as_str(), f.reason))
        .collect()
}

#[test]
fn files_are_ranked_by_pagerank_and_rendered_with_their_containers() {
    let dir = sample();
    let map = repo_map(dir.path(), 10_000, &[], words).unwrap();
    let ranked: Vec<(&str, u64)> = map
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.score))
        .collect();
    // store.rs: `Store` twice from a.rs and b.rs (the import and the call's
    // path) and once from cart.rb, `open_store` from a.rs and b.rs; util.rs:
    // `helper_one` from b.rs.
    assert_eq!(
        ranked,
        [
            ("src/store.rs", 7),
            ("src/util.rs", 1),
            ("lib/cart.rb", 0),
            ("src/a.rs", 0),
            ("src/b.rs", 0),
        ]
    );
    assert_eq!(
        map.files[0].text,
        "src/store.rs\n  1: pub struct Store;\n  2: impl Store {\n    3: pub fn open_store() -> Store { Store }\n"
    );
    assert_eq!(map.method(), "tree_sitter+regex_outline");
    assert_eq!(map.files[2].method, TagMethod::Outline);
    assert_eq!(map.tokens, map.files.iter().map(|f| f.tokens).sum::<u64>());
    let ranks: f64 = map.files.iter().map(|f| f.rank).sum();
    assert!((ranks - 1.0).abs() < 1e-6, "{ranks}");
    assert!(map.left_out.is_empty());
}

#[test]
fn a_failing_file_and_the_symbols_it_names_lead_the_map() {
    let dir = sample();
    let centred = repo_map(dir.path(), 10_000, &["src/a.rs".to_owned()], words).unwrap();
    assert_eq!(
        order(&centred)[..2],
        [
            ("src/a.rs", MapReason::Failing),
            ("src/store.rs", MapReason::ReferencedByFailing),
        ]
    );
    assert!(
        centred.files[2..]
            .iter()
            .all(|f| f.reason == MapReason::Ranked)
    );

    // A symbol from a diagnostic pulls its definition up, ahead of what
    // the rest of the project references most.
    let focus = MapFocus {
        files: Vec::new(),
        symbols: vec!["helper_two".to_owned()],
    };
    let cache = MapCache::new();
    let map = cache.repo_map(dir.path(), 10_000, &focus, words).unwrap();
    assert_eq!(map.files[0].path, "src/util.rs");
    // With room for one definition only, it is the named one.
    let tight = cache.repo_map(dir.path(), 6, &focus, words).unwrap();
    assert_eq!(tight.files.len(), 1);
    assert_eq!(
        tight.files[0].text,
        "src/util.rs\n  2: pub fn helper_two() {}\n"
    );
    assert!(tight.files[0].truncated);
    assert_eq!(tight.tokens, 6);
}

#[test]
fn the_budget_holds_for_every_size_and_what_does_not_fit_is_listed() {
    let dir = sample();
    let mut previous = 0;
    for budget in 0..60 {
        let map = repo_map(dir.path(), budget, &[], words).unwrap();
        assert!(map.tokens <= budget, "{budget}: {}", map.tokens);
        assert_eq!(map.tokens, map.files.iter().map(|f| f.tokens).sum::<u64>());
        assert_eq!(map.files.len() + map.left_out.len(), 5, "{budget}");
        let definitions: usize = map.files.iter().map(|f| f.definitions.len()).sum();
        assert!(definitions >= previous, "{budget}");
        previous = definitions;
    }
    let nothing = repo_map(dir.path(), 0, &[], words).unwrap();
    assert_eq!(nothing.left_out[0], "src/store.rs");
}

/// Moves a file's times two minutes back, so the cache may trust them.
fn settle(root: &Path, rel: &str) {
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(120);
    let file = std::fs::File::options()
        .write(true)
        .open(root.join(rel))
        .expect("opening to set times");
    file.set_times(
        std::fs::FileTimes::new()
            .set_modified(past)
            .set_accessed(past),
    )
    .expect("setting times");
}

#[test]
fn a_repeat_map_reparses_only_changed_files() {
    let dir = sample();
    let cache = MapCache::new();
    let focus = MapFocus::default();
    let first = cache.repo_map(dir.path(), 10_000, &focus, words).unwrap();
    // Five source files; README.md and .env are never parsed.
    assert_eq!((first.parsed, first.reused), (5, 0));
    let second = cache.repo_map(dir.path(), 10_000, &focus, words).unwrap();
    assert_eq!((second.parsed, second.reused), (0, 5));
    assert_eq!(second.files, first.files);

    // Rewritten with the same content: read again, not parsed.
    let text = std::fs::read_to_string(dir.path().join("src/a.rs")).unwrap();
    write(dir.path(), "src/a.rs", &text);
    let third = cache.repo_map(dir.path(), 10_000, &focus, words).unwrap();
    assert_eq!((third.parsed, third.reused), (0, 5));

    // A changed file is parsed again, and what it now says is in the map.
    write(
        dir.path(),
        "src/util.rs",
        "pub fn helper_one() {}\npub fn helper_three() {}\n",
    );
    let fourth = cache.repo_map(dir.path(), 10_000, &focus, words).unwrap();
    assert_eq!((fourth.parsed, fourth.reused), (1, 4));
    let util = fourth
        .files
        .iter()
        .find(|f| f.path == "src/util.rs")
        .unwrap();
    assert!(util.text.contains("helper_three") && !util.text.contains("helper_two"));

    // Settled files are trusted by their metadata; removed ones are gone.
    for rel in [
        "src/a.rs",
        "src/b.rs",
        "src/store.rs",
        "src/util.rs",
        "lib/cart.rb",
    ] {
        settle(dir.path(), rel);
    }
    cache.repo_map(dir.path(), 10_000, &focus, words).unwrap();
    std::fs::remove_file(dir.path().join("src/b.rs")).unwrap();
    let fifth = cache.repo_map(dir.path(), 10_000, &focus, words).unwrap();
    assert_eq!((fifth.parsed, fifth.reused), (0, 4));
    assert!(fifth.files.iter().all(|f| f.path != "src/b.rs"));
    // `Store` and `open_store` lost a referrer.
    assert_eq!(fifth.files[0].score, 4);
}

/// A crate of `modules` modules that each call the next one's function,
/// with `lib.rs` declaring them all.
fn chain_project(modules: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut lib = String::from("pub fn crate_entry_point() {\n    module_00::step_00();\n}\n");
    for i in 0..modules {
        lib.push_str(&format!("pub mod module_{i:02};\n"));
        let next = (i + 1) % modules;
        write(
            dir.path(),
            &format!("src/module_{i:02}.rs"),
            format!(
                "pub fn step_{i:02}() {{\n    crate::module_{next:02}::step_{next:02}();\n}}\n\
                 pub struct StepState{i:02} {{\n    pub count: u64,\n}}\n"
            ),
        );
    }
    write(dir.path(), "src/lib.rs", lib);
    dir
}

#[test]
fn a_map_out_of_time_is_partial_says_so_and_the_next_call_is_more_complete() {
    use std::time::Duration;
    let dir = chain_project(40);
    let root = dir.path();
    let cache = MapCache::new();
    let focus = MapFocus::files(&["src/module_17.rs".to_owned()]);
    // No time at all: every core still parses a file per stage, the
    // failing file first, and the map is made from what was parsed.
    let first = cache
        .repo_map_within(root, 200, &focus, words, Duration::ZERO)
        .unwrap();
    assert!(first.partial);
    assert_eq!(first.files_total, 41);
    assert!(
        (2..41).contains(&first.files_parsed),
        "{} parsed",
        first.files_parsed
    );
    assert!(first.tokens <= 200);
    assert_eq!(first.files[0].path, "src/module_17.rs");
    assert_eq!(first.files[0].reason, MapReason::Failing);
    assert_eq!(first.time_limit, Some(Duration::ZERO));
    let note = first.note().expect("a partial map says so");
    assert!(
        note.starts_with(&format!(
            "partial map: {} of 41 source files were parsed within the 0.0 s time limit",
            first.files_parsed
        )),
        "{note}"
    );

    // The next call keeps what was parsed and adds to it.
    let second = cache
        .repo_map_within(root, 200, &focus, words, Duration::ZERO)
        .unwrap();
    assert!(
        second.files_parsed > first.files_parsed,
        "{} then {}",
        first.files_parsed,
        second.files_parsed
    );
    assert!(second.reused >= first.files_parsed);

    // Given time, the map is complete and is the map a fresh cache makes.
    let complete = cache
        .repo_map_within(root, 200, &focus, words, Duration::from_secs(3600))
        .unwrap();
    assert!(!complete.partial);
    assert_eq!(complete.note(), None);
    assert_eq!(complete.files_parsed, 41);
    let fresh = MapCache::new().repo_map(root, 200, &focus, words).unwrap();
    assert_eq!(complete.files, fresh.files);
    assert_eq!(complete.left_out, fresh.left_out);
}

#[test]
fn a_partial_map_leaves_the_rest_to_background_parsing() {
    use std::time::{Duration, Instant};
    let dir = chain_project(60);
    let root = dir.path();
    let cache = MapCache::new();
    let whole = MapFocus::default();
    let first = cache
        .repo_map_within(root, 300, &whole, words, Duration::ZERO)
        .unwrap();
    assert!(first.partial);
    // Entry points come before the modules they declare.
    assert!(first.files.iter().any(|f| f.path == "src/lib.rs"));
    let left = first.files_total - first.files_parsed;
    let waited = Instant::now() + Duration::from_secs(60);
    while cache.background_parsed() < left {
        assert!(Instant::now() < waited, "background parsing never finished");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Everything is in the cache now: nothing left to parse.
    let next = cache
        .repo_map_within(root, 300, &whole, words, Duration::ZERO)
        .unwrap();
    assert!(!next.partial);
    assert_eq!((next.parsed, next.files_parsed), (0, 61));
    let fresh = MapCache::new().repo_map(root, 300, &whole, words).unwrap();
    assert_eq!(next.files, fresh.files);
}
