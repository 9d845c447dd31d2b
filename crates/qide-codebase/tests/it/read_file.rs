//! Reading files by path: numbering, ranges and refusals.

use qide_codebase::{Error, FileText, read_file};

use crate::{project, write};

fn texts(file: &FileText) -> Vec<(u64, &str)> {
    file.lines.iter().map(|l| (l.n, l.text.as_str())).collect()
}

#[test]
fn lines_are_numbered_from_one_and_ranges_apply() {
    let dir = project(&[("src/a.rs", "one\r\ntwo\nthree\nfour\nfive")]);
    let whole = read_file(dir.path(), "src/a.rs", None, None).expect("reading");
    assert_eq!(whole.path, "src/a.rs");
    assert_eq!(
        texts(&whole),
        [
            (1, "one"),
            (2, "two"),
            (3, "three"),
            (4, "four"),
            (5, "five")
        ]
    );
    assert_eq!((whole.total_lines, whole.truncated), (5, false));

    let middle = read_file(dir.path(), "./src//a.rs", Some(2), Some(3)).expect("reading");
    assert_eq!(middle.path, "src/a.rs");
    assert_eq!(texts(&middle), [(2, "two"), (3, "three")]);
    assert_eq!(middle.total_lines, 5);

    let tail = read_file(dir.path(), "src/a.rs", Some(4), None).expect("reading");
    assert_eq!(texts(&tail), [(4, "four"), (5, "five")]);
    let past_the_end = read_file(dir.path(), "src/a.rs", Some(9), Some(12)).expect("reading");
    assert!(past_the_end.lines.is_empty());
    assert_eq!(past_the_end.total_lines, 5);

    for (start, end) in [(Some(0), None), (Some(3), Some(2))] {
        assert!(matches!(
            read_file(dir.path(), "src/a.rs", start, end),
            Err(Error::InvalidRange { .. })
        ));
    }
}

#[test]
fn total_lines_counts_the_whole_file_and_output_is_capped() {
    let lines = qide_codebase::READ_MAX_LINES as usize + 500;
    let content: String = (1..=lines).map(|i| format!("{i}\n")).collect();
    let dir = project(&[("many.txt", &content), ("empty.txt", "")]);
    let file = read_file(dir.path(), "many.txt", None, None).expect("reading");
    assert_eq!(file.total_lines, lines as u64);
    assert_eq!(file.lines.len() as u64, qide_codebase::READ_MAX_LINES);
    assert!(file.truncated);
    let end = read_file(dir.path(), "many.txt", Some(lines as u64), None).expect("reading");
    assert_eq!(texts(&end), [(lines as u64, lines.to_string().as_str())]);

    let empty = read_file(dir.path(), "empty.txt", None, None).expect("reading");
    assert_eq!((empty.lines.len(), empty.total_lines), (0, 0));
}

#[test]
fn long_lines_are_cut() {
    let long = "a".repeat(qide_codebase::READ_MAX_LINE_BYTES * 3);
    let dir = project(&[("min.js", &format!("{long}\nsecond\n"))]);
    let file = read_file(dir.path(), "min.js", None, None).expect("reading");
    assert!(file.truncated);
    assert_eq!(file.lines[0].text.len(), qide_codebase::READ_MAX_LINE_BYTES);
    assert_eq!(texts(&file)[1], (2, "second"));
    assert_eq!(file.total_lines, 2);
}

#[test]
fn hostile_paths_are_refused() {
    let dir = project(&[("a/b.txt", "x\n"), ("b", "x\n")]);
    let root = dir.path().join("a");
    for path in [
        "../b",
        "/etc/passwd",
        "a/../../x",
        "b.txt/../b.txt",
        "C:\\x",
        "C:/x",
        "c:x",
        "a\\..\\b",
        "a\0b",
        "",
        ".",
        "./",
    ] {
        let result = read_file(&root, path, None, None);
        assert!(
            matches!(result, Err(Error::InvalidPath(_))),
            "{path:?}: {result:?}"
        );
    }
}

#[test]
fn missing_directories_excluded_binary_and_secret_files_are_distinct_errors() {
    let dir = project(&[
        (".gitignore", "*.log\n"),
        ("debug.log", "x\n"),
        (".git/config", "[core]\n"),
        (".qide/state", "x\n"),
        ("target/out.txt", "x\n"),
        ("src/lib.rs", "x\n"),
        (".env", "SECRET=1\n"),
    ]);
    write(dir.path(), "logo.png", b"\x89PNG\0\0");
    type Check = fn(&Error) -> bool;
    let cases: [(&str, Check); 9] = [
        ("missing.rs", |e| matches!(e, Error::NotFound(_))),
        ("src/missing/deeper.rs", |e| matches!(e, Error::NotFound(_))),
        ("src/lib.rs/child", |e| matches!(e, Error::NotFound(_))),
        ("src", |e| matches!(e, Error::NotAFile(_))),
        ("debug.log", |e| matches!(e, Error::Excluded(_))),
        (".git/config", |e| matches!(e, Error::Excluded(_))),
        (".qide/state", |e| matches!(e, Error::Excluded(_))),
        ("target/out.txt", |e| matches!(e, Error::Excluded(_))),
        ("logo.png", |e| matches!(e, Error::Binary(_))),
    ];
    for (path, expected) in cases {
        let result = read_file(dir.path(), path, None, None);
        match &result {
            Err(e) if expected(e) => {}
            other => panic!("{path}: unexpected {other:?}"),
        }
    }
    assert!(matches!(
        read_file(dir.path(), ".env", None, None),
        Err(Error::Secret(_))
    ));
    let missing_root = dir.path().join("nope");
    assert!(matches!(
        read_file(&missing_root, "src/lib.rs", None, None),
        Err(Error::NotADirectory(_))
    ));
}

#[cfg(unix)]
mod unix {
    use super::*;
    use crate::symlink;

    #[test]
    fn symlinks_leaving_the_root_are_refused() {
        let outside = project(&[("secret.txt", "outside\n"), ("dir/file.txt", "outside\n")]);
        let dir = project(&[("src/lib.rs", "inside\n")]);
        symlink(dir.path(), outside.path().join("secret.txt"), "to_file");
        symlink(dir.path(), outside.path().join("dir"), "to_dir");
        symlink(dir.path(), "/etc/passwd", "passwd");
        symlink(dir.path(), "../../..", "src/up");
        for path in [
            "to_file",
            "to_dir/file.txt",
            "to_dir/missing.txt",
            "passwd",
            "src/up/etc/passwd",
        ] {
            let result = read_file(dir.path(), path, None, None);
            assert!(
                matches!(result, Err(Error::OutsideRoot(_))),
                "{path}: {result:?}"
            );
        }
    }

    #[test]
    fn symlinks_inside_the_root_are_checked_at_both_ends() {
        let dir = project(&[
            ("src/lib.rs", "inside\n"),
            (".env", "SECRET=1\n"),
            (".qide/state", "x\n"),
            (".gitignore", "ignored/\n"),
            ("ignored/file.txt", "x\n"),
        ]);
        symlink(dir.path(), "src/lib.rs", "alias.rs");
        symlink(dir.path(), ".env", "innocent.txt");
        symlink(dir.path(), ".qide/state", "state.txt");
        symlink(dir.path(), "ignored/file.txt", "unignored.txt");
        symlink(dir.path(), "src", "src_alias");
        symlink(dir.path(), "nowhere", "dangling");
        symlink(dir.path(), "loop_b", "loop_a");
        symlink(dir.path(), "loop_a", "loop_b");

        let alias = read_file(dir.path(), "alias.rs", None, None).expect("reading");
        assert_eq!(texts(&alias), [(1, "inside")]);
        assert!(matches!(
            read_file(dir.path(), "innocent.txt", None, None),
            Err(Error::Secret(_))
        ));
        assert!(matches!(
            read_file(dir.path(), "state.txt", None, None),
            Err(Error::Excluded(_))
        ));
        assert!(matches!(
            read_file(dir.path(), "unignored.txt", None, None),
            Err(Error::Excluded(_))
        ));
        assert!(matches!(
            read_file(dir.path(), "src_alias/lib.rs", None, None),
            Err(Error::Excluded(_))
        ));
        assert!(matches!(
            read_file(dir.path(), "dangling", None, None),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            read_file(dir.path(), "loop_a", None, None),
            Err(Error::NotFound(_))
        ));
    }

    #[test]
    fn a_root_given_through_a_symlink_still_confines() {
        let dir = project(&[("real/a.txt", "a\n"), ("sibling.txt", "s\n")]);
        symlink(dir.path(), "real", "alias");
        let root = dir.path().join("alias");
        let file = read_file(&root, "a.txt", None, None).expect("reading");
        assert_eq!(texts(&file), [(1, "a")]);
        symlink(dir.path(), "../sibling.txt", "real/escape");
        assert!(matches!(
            read_file(&root, "escape", None, None),
            Err(Error::OutsideRoot(_))
        ));
    }
}
