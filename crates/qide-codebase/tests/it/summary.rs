//! What the summary says about a project.

use qide_codebase::{FileEntry, MAX_KEY_FILE_BYTES, PREVIEW_LINES, Summary};

use crate::{project, write};

fn summarize(root: &std::path::Path) -> Summary {
    qide_codebase::summarize(root).expect("summarising")
}

fn file<'a>(summary: &'a Summary, path: &str) -> &'a FileEntry {
    summary
        .files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} not listed"))
}

fn numbered_lines(n: usize) -> String {
    (1..=n).map(|i| format!("// line {i}\n")).collect()
}

#[test]
fn files_carry_size_lines_language_and_tokens() {
    let dir = project(&[
        ("src/main.rs", "fn main() {\n    println!(\"hi\");\n}\n"),
        ("README.md", "# Title\nno trailing newline"),
        ("app.py", "print(1)\n"),
        ("web/App.tsx", "export {}\n"),
        ("empty.txt", ""),
        ("data.unknownext", "x\n"),
    ]);
    let summary = summarize(dir.path());
    let paths: Vec<&str> = summary.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "README.md",
            "app.py",
            "data.unknownext",
            "empty.txt",
            "src/main.rs",
            "web/App.tsx"
        ]
    );
    let main = file(&summary, "src/main.rs");
    assert_eq!(
        (main.size, main.lines, main.language, main.tokens),
        (34, 3, Some("Rust"), 9)
    );
    let readme = file(&summary, "README.md");
    assert_eq!((readme.lines, readme.language), (2, Some("Markdown")));
    assert_eq!(file(&summary, "empty.txt").lines, 0);
    assert_eq!(file(&summary, "data.unknownext").language, None);
    assert_eq!(file(&summary, "web/App.tsx").language, Some("TypeScript"));
    let structure = &summary.structure;
    assert_eq!(structure.file_count, 6);
    assert_eq!(structure.total_lines, 3 + 2 + 1 + 1 + 1);
    assert_eq!(
        structure.total_tokens,
        summary.files.iter().map(|f| f.tokens).sum::<u64>()
    );
}

#[test]
fn binary_and_large_files_are_listed_without_lines() {
    let dir = project(&[("small.rs", "fn a() {}\n")]);
    write(
        dir.path(),
        "image.png",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\n\n",
    );
    let big = "x\n".repeat(600 * 1024);
    write(dir.path(), "big.rs", &big);
    let summary = summarize(dir.path());
    let image = file(&summary, "image.png");
    assert_eq!((image.size, image.lines, image.tokens), (18, 0, 0));
    let big_entry = file(&summary, "big.rs");
    assert_eq!(
        (big_entry.size, big_entry.lines, big_entry.tokens),
        (big.len() as u64, 0, 0)
    );
    assert!(summary.source_previews.iter().all(|p| p.path == "small.rs"));
}

#[test]
fn key_files_exclude_lock_files_and_secrets_and_are_truncated() {
    let long_makefile = "all:\n".repeat(MAX_KEY_FILE_BYTES);
    let dir = project(&[
        ("Cargo.toml", "[package]\nname = \"demo\"\n"),
        ("Cargo.lock", "# lock\n"),
        ("package.json", "{\"name\": \"web\"}\n"),
        ("package-lock.json", "{}\n"),
        ("yarn.lock", ""),
        ("go.sum", ""),
        ("requirements-dev.txt", "pytest\n"),
        (".github/workflows/ci.yml", "on: push\n"),
        (".github/workflows/nested/x.yml", "on: push\n"),
        ("crates/a/Cargo.toml", "[package]\nname = \"a\"\n"),
        ("qide.toml", "[build]\n"),
        ("Makefile", &long_makefile),
        (".env", "API_KEY=hunter2\n"),
        (".env.production", "API_KEY=hunter2\n"),
        ("notes.txt", "not a key file\n"),
    ]);
    let summary = summarize(dir.path());
    let key_paths: Vec<&str> = summary.key_files.iter().map(|k| k.path.as_str()).collect();
    assert_eq!(
        key_paths,
        [
            "Cargo.toml",
            "Makefile",
            "package.json",
            "qide.toml",
            "requirements-dev.txt",
            ".github/workflows/ci.yml",
            "crates/a/Cargo.toml",
        ]
    );
    let cargo = &summary.key_files[0];
    assert_eq!(cargo.content, "[package]\nname = \"demo\"\n");
    assert!(!cargo.truncated);
    let makefile = &summary.key_files[1];
    assert!(makefile.truncated);
    assert_eq!(makefile.content.len(), MAX_KEY_FILE_BYTES);
    // Lock files are still listed, with their lines.
    assert_eq!(file(&summary, "Cargo.lock").lines, 1);
}

#[test]
fn secret_files_are_listed_with_size_only_and_never_shown() {
    let planted = "PLANTED_SECRET_b8f1";
    let secrets = [
        ".env",
        ".env.local",
        "config/server.pem",
        "tls.key",
        "id_rsa",
        "id_rsa.pub",
        "keys/id_ed25519",
        "credentials.json",
        "cert.p12",
        "cert.pfx",
        ".npmrc",
        ".pypirc",
        ".netrc",
        ".aws/config",
        "CREDENTIALS.txt",
    ];
    let dir = project(&[("src/main.rs", "fn main() {}\n")]);
    for path in secrets {
        write(dir.path(), path, format!("fn main() {{}} // {planted}\n"));
    }
    let summary = summarize(dir.path());
    for path in secrets {
        let entry = file(&summary, path);
        assert_eq!(
            (entry.lines, entry.tokens, entry.language),
            (0, 0, None),
            "{path}"
        );
        assert!(entry.size > 0, "{path}");
        assert!(matches!(
            qide_codebase::read_file(dir.path(), path, None, None),
            Err(qide_codebase::Error::Secret(_))
        ));
    }
    assert!(!format!("{summary:?}").contains(planted));
}

#[test]
fn previews_start_with_entry_points_then_the_largest_sources() {
    let dir = project(&[
        ("src/lib.rs", &numbered_lines(50)),
        ("src/main.rs", "fn main() {}\n"),
        ("src/big.rs", &numbered_lines(30)),
        ("src/small.rs", &numbered_lines(2)),
        ("src/medium.rs", &numbered_lines(10)),
        ("tests/huge.rs", &numbered_lines(100)),
        ("README.md", &numbered_lines(200)),
        ("Cargo.lock", &numbered_lines(500)),
        ("styles.css", &numbered_lines(300)),
    ]);
    let summary = summarize(dir.path());
    let paths: Vec<&str> = summary
        .source_previews
        .iter()
        .map(|p| p.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "src/main.rs",
            "src/lib.rs",
            "src/big.rs",
            "src/medium.rs",
            "src/small.rs"
        ]
    );
    let main = &summary.source_previews[0];
    assert_eq!(
        (main.lines.as_slice(), main.truncated),
        (&["fn main() {}".to_owned()][..], false)
    );
    let lib = &summary.source_previews[1];
    assert_eq!(lib.lines.len(), PREVIEW_LINES);
    assert_eq!(lib.lines[0], "// line 1");
    assert_eq!(lib.lines[PREVIEW_LINES - 1], "// line 40");
    assert!(lib.truncated);
    assert!(!summary.source_previews[2].truncated);
}

#[test]
fn previews_are_capped_and_long_lines_cut() {
    let dir = project(&[]);
    for i in 0..20 {
        write(
            dir.path(),
            &format!("m{i:02}.py"),
            numbered_lines(i + 1).replace("//", "#"),
        );
    }
    let summary = summarize(dir.path());
    let paths: Vec<&str> = summary
        .source_previews
        .iter()
        .map(|p| p.path.as_str())
        .collect();
    assert_eq!(paths.len(), qide_codebase::MAX_PREVIEWS);
    assert_eq!((paths[0], paths[11]), ("m19.py", "m08.py"));

    let minified = project(&[("one_line.js", &format!("var x = '{}';\n", "a".repeat(5000)))]);
    let summary = summarize(minified.path());
    let cut = &summary.source_previews[0];
    assert!(cut.truncated);
    assert_eq!(cut.lines.len(), 1);
    assert_eq!(cut.lines[0].len(), qide_codebase::PREVIEW_MAX_LINE_BYTES);
}

#[test]
fn structure_detects_backend_frontend_tests_and_ranks_languages() {
    let rust_only = project(&[
        ("src/lib.rs", "pub fn a() {}\n"),
        ("README.md", "# a\n\nb\n"),
    ]);
    let structure = summarize(rust_only.path()).structure;
    assert!(structure.has_backend);
    assert!(!structure.has_frontend);
    assert!(!structure.has_tests);
    let names: Vec<&str> = structure.languages.iter().map(|l| l.name).collect();
    assert_eq!(names, ["Markdown", "Rust"]);
    assert_eq!(
        (structure.languages[0].files, structure.languages[0].lines),
        (1, 3)
    );

    let web = project(&[
        ("package.json", "{\"dependencies\": {\"react\": \"^19\"}}\n"),
        ("src/index.js", "x\n"),
        ("src/util.test.js", "x\n"),
    ]);
    let structure = summarize(web.path()).structure;
    assert!(structure.has_frontend);
    assert!(!structure.has_backend);
    assert!(structure.has_tests);

    let node_server = project(&[("package.json", "{\"dependencies\": {\"express\": \"5\"}}\n")]);
    assert!(summarize(node_server.path()).structure.has_backend);

    for test_file in [
        "pkg/a_test.go",
        "test_app.py",
        "tests/it.rs",
        "src/App.spec.tsx",
        "FooTest.java",
    ] {
        let dir = project(&[(test_file, "x\n")]);
        assert!(summarize(dir.path()).structure.has_tests, "{test_file}");
    }
    for frontend_file in ["a.vue", "b.svelte", "index.html", "c.css", "d.jsx"] {
        let dir = project(&[(frontend_file, "x\n")]);
        assert!(
            summarize(dir.path()).structure.has_frontend,
            "{frontend_file}"
        );
    }
}
