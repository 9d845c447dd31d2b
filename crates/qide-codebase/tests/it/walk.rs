//! What the walk keeps and skips.

use std::path::Path;

use qide_codebase::{EntryKind, Error, LeftOutReason, READ_MAX_LINE_BYTES};

use crate::{project, walked, write};

#[test]
fn nested_gitignore_with_negation() {
    let dir = project(&[
        (".gitignore", "*.log\n!keep.log\n"),
        ("a.log", ""),
        ("keep.log", ""),
        ("main.rs", ""),
        ("sub/.gitignore", "*.txt\n!wanted.txt\n"),
        ("sub/x.txt", ""),
        ("sub/wanted.txt", ""),
        ("sub/b.log", ""),
        ("sub/keep.log", ""),
        ("other/x.txt", ""),
    ]);
    assert_eq!(
        walked(dir.path()),
        [
            ".gitignore",
            "keep.log",
            "main.rs",
            "other/x.txt",
            "sub/.gitignore",
            "sub/keep.log",
            "sub/wanted.txt"
        ]
    );
}

#[test]
fn ignored_directory_contents_with_an_unignored_child() {
    // As in git: `logs/*` ignores the children, so one can be re-included;
    // `cache/` ignores the directory itself, so nothing under it comes back.
    let dir = project(&[
        (
            ".gitignore",
            "logs/*\n!logs/keep.txt\ncache/\n!cache/keep.txt\n",
        ),
        ("logs/keep.txt", ""),
        ("logs/other.txt", ""),
        ("cache/keep.txt", ""),
        ("cache/other.txt", ""),
    ]);
    assert_eq!(walked(dir.path()), [".gitignore", "logs/keep.txt"]);
}

#[test]
fn gitignore_counts_without_git_and_dot_git_is_never_walked() {
    let files = [
        (".gitignore", "secret_output/\n"),
        ("secret_output/a", ""),
        ("src/lib.rs", ""),
    ];
    let plain = project(&files);
    assert_eq!(walked(plain.path()), [".gitignore", "src/lib.rs"]);

    let repository = project(&files);
    write(repository.path(), ".git/HEAD", "ref: refs/heads/main\n");
    write(repository.path(), ".git/info/exclude", "src/excluded.rs\n");
    write(repository.path(), "src/excluded.rs", "");
    assert_eq!(walked(repository.path()), [".gitignore", "src/lib.rs"]);
}

#[test]
fn git_file_of_a_worktree_is_never_walked() {
    let dir = project(&[(".git", "gitdir: /elsewhere\n"), ("a.rs", "")]);
    assert_eq!(walked(dir.path()), ["a.rs"]);
}

#[test]
fn qideignore_and_dot_ignore_are_honoured() {
    let dir = project(&[
        (".gitignore", "*.log\n"),
        (".ignore", "scratch/\n"),
        (".qideignore", "generated/\n!wanted.log\n"),
        ("generated/big.rs", ""),
        ("scratch/notes.md", ""),
        ("wanted.log", ""),
        ("unwanted.log", ""),
        ("sub/.qideignore", "local.rs\n"),
        ("sub/local.rs", ""),
        ("sub/kept.rs", ""),
    ]);
    assert_eq!(
        walked(dir.path()),
        [
            ".gitignore",
            ".ignore",
            ".qideignore",
            "sub/.qideignore",
            "sub/kept.rs",
            "wanted.log"
        ]
    );
}

#[test]
fn build_output_and_state_directories_are_skipped_at_any_depth() {
    let dir = project(&[
        ("target/debug/app", "binary"),
        ("crates/a/target/x", ""),
        ("crates/a/src/lib.rs", ""),
        ("web/node_modules/react/index.js", ""),
        (".venv/lib/site.py", ""),
        ("venv/lib/site.py", ""),
        ("pkg/__pycache__/m.pyc", ""),
        (".mypy_cache/x", ""),
        (".pytest_cache/x", ""),
        (".tox/x", ""),
        (".qide/qide.db", ""),
        ("sub/.qide/x", ""),
        ("docs/target", "a file named target is kept"),
        (".github/workflows/ci.yml", ""),
        (".hidden", ""),
    ]);
    assert_eq!(
        walked(dir.path()),
        [
            ".github/workflows/ci.yml",
            ".hidden",
            "crates/a/src/lib.rs",
            "docs/target"
        ]
    );
}

#[test]
fn empty_project_and_empty_directories() {
    let dir = project(&[]);
    assert!(walked(dir.path()).is_empty());
    std::fs::create_dir_all(dir.path().join("a/b/c")).expect("creating empty dirs");
    write(dir.path(), "a/file.txt", "x");
    assert_eq!(walked(dir.path()), ["a/file.txt"]);
}

#[test]
fn a_ten_megabyte_minified_file_is_listed_but_never_read_whole() {
    let dir = project(&[("src/app.js", "export function start() {}\n")]);
    let minified = format!(
        "!function(){{{}}}();",
        "var a=1;".repeat(10 * 1024 * 1024 / 8)
    );
    write(dir.path(), "dist/app.min.js", &minified);
    assert_eq!(walked(dir.path()), ["dist/app.min.js", "src/app.js"]);

    let summary = qide_codebase::summarize(dir.path()).expect("summarising");
    let entry = summary
        .files
        .iter()
        .find(|f| f.path == "dist/app.min.js")
        .expect("listed");
    assert_eq!(
        (entry.size, entry.lines, entry.tokens),
        (minified.len() as u64, 0, 0)
    );
    assert!(
        summary
            .source_previews
            .iter()
            .all(|p| p.path == "src/app.js")
    );

    let packed = qide_codebase::pack(dir.path(), 1_000_000, &[], |t| {
        (t.to_owned(), t.len() as u64)
    })
    .expect("packing");
    let left_out: Vec<(&str, LeftOutReason)> = packed
        .left_out
        .iter()
        .map(|l| (l.path.as_str(), l.reason))
        .collect();
    assert_eq!(left_out, [("dist/app.min.js", LeftOutReason::TooLarge)]);

    let map = qide_codebase::repo_map(dir.path(), 1_000, &[], |t| t.len() as u64).expect("mapping");
    let mapped: Vec<&str> = map.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(mapped, ["src/app.js"]);
    assert_eq!((map.parsed, map.left_out.len()), (1, 0));

    // Reading it is capped: one line, cut, marked truncated.
    let text = qide_codebase::read_file(dir.path(), "dist/app.min.js", None, None)
        .expect("reading a large file");
    assert_eq!((text.total_lines, text.lines.len()), (1, 1));
    assert!(text.truncated);
    assert!(text.lines[0].text.len() <= READ_MAX_LINE_BYTES + '…'.len_utf8());
}

#[test]
fn an_empty_git_repository_has_nothing_to_walk() {
    let repository = project(&[
        (".git/HEAD", "ref: refs/heads/main\n"),
        (".git/config", "[core]\n\tbare = false\n"),
    ]);
    std::fs::create_dir_all(repository.path().join(".git/objects")).expect("objects dir");
    assert!(walked(repository.path()).is_empty());
    let summary = qide_codebase::summarize(repository.path()).expect("summarising");
    assert_eq!(summary, qide_codebase::Summary::default());
    // The same hash as a directory with nothing in it at all.
    let empty = project(&[]);
    assert_eq!(
        qide_codebase::tree_hash(repository.path()).expect("hashing"),
        qide_codebase::tree_hash(empty.path()).expect("hashing")
    );
    let map =
        qide_codebase::repo_map(repository.path(), 100, &[], |t| t.len() as u64).expect("mapping");
    assert_eq!(map, qide_codebase::RepoMap::default());
    let packed = qide_codebase::pack(repository.path(), 100, &[], |t| {
        (t.to_owned(), t.len() as u64)
    })
    .expect("packing");
    assert_eq!(packed, qide_codebase::Pack::default());
}

#[test]
fn entries_are_sorted_and_carry_size_and_kind() {
    let dir = project(&[
        ("b.txt", "12345"),
        ("a/z.txt", ""),
        ("a.txt", "1"),
        ("a/b/c.txt", ""),
    ]);
    let entries = qide_codebase::walk(dir.path()).expect("walking");
    let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["a.txt", "a/b/c.txt", "a/z.txt", "b.txt"]);
    assert_eq!(entries[3].size, 5);
    assert!(entries.iter().all(|e| e.kind == EntryKind::File));
}

#[test]
fn root_that_is_not_a_directory_is_an_error() {
    let dir = project(&[("file", "")]);
    for root in [dir.path().join("file"), dir.path().join("missing")] {
        assert!(matches!(
            qide_codebase::walk(&root),
            Err(Error::NotADirectory(_))
        ));
        assert!(matches!(
            qide_codebase::summarize(&root),
            Err(Error::NotADirectory(_))
        ));
        assert!(matches!(
            qide_codebase::tree_hash(&root),
            Err(Error::NotADirectory(_))
        ));
    }
}

#[cfg(unix)]
mod unix {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::symlink;

    #[test]
    fn symlinks_are_listed_not_followed_and_loops_do_not_hang() {
        let outside = project(&[("outside.txt", "")]);
        let dir = project(&[("a/file.txt", "x")]);
        symlink(dir.path(), ".", "loop");
        symlink(dir.path(), "../a", "a/parent_loop");
        symlink(dir.path(), outside.path(), "out");
        symlink(dir.path(), "a/file.txt", "to_file");
        let entries = qide_codebase::walk(dir.path()).expect("walking");
        let listed: Vec<(&str, EntryKind)> =
            entries.iter().map(|e| (e.path.as_str(), e.kind)).collect();
        assert_eq!(
            listed,
            [
                ("a/file.txt", EntryKind::File),
                ("a/parent_loop", EntryKind::Symlink),
                ("loop", EntryKind::Symlink),
                ("out", EntryKind::Symlink),
                ("to_file", EntryKind::Symlink),
            ]
        );
        qide_codebase::summarize(dir.path()).expect("summarising a tree with loops");
        qide_codebase::tree_hash(dir.path()).expect("hashing a tree with loops");
    }

    #[test]
    fn non_utf8_file_names_are_skipped_without_panicking() {
        let dir = project(&[("ok.txt", "fine")]);
        let name = std::ffi::OsStr::from_bytes(b"bad\xff.txt");
        std::fs::write(dir.path().join(name), "x").expect("writing a non-UTF-8 name");
        std::fs::create_dir(dir.path().join(std::ffi::OsStr::from_bytes(b"dir\xfe")))
            .expect("creating a non-UTF-8 directory");
        std::fs::write(
            dir.path()
                .join(std::ffi::OsStr::from_bytes(b"dir\xfe/inner.txt")),
            "x",
        )
        .expect("writing under a non-UTF-8 directory");
        assert_eq!(walked(dir.path()), ["ok.txt"]);
        qide_codebase::summarize(dir.path()).expect("summarising");
        qide_codebase::tree_hash(dir.path()).expect("hashing");
    }

    #[test]
    fn unreadable_files_and_directories_are_listed_or_skipped_exactly() {
        let dir = project(&[
            ("locked.rs", "fn main() {}\n"),
            ("closed/inner.rs", ""),
            ("ok.rs", ""),
        ]);
        let locked = dir.path().join("locked.rs");
        let closed = dir.path().join("closed");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000))
            .expect("chmod 000");
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o000))
            .expect("chmod 000");
        // Root reads through mode 000; everyone else is refused. The walk
        // must say exactly what the process can see either way.
        let privileged = std::fs::read(&locked).is_ok();

        let expected: &[&str] = if privileged {
            &["closed/inner.rs", "locked.rs", "ok.rs"]
        } else {
            // The closed directory cannot be listed, so its file is not
            // seen; the locked file is listed (its directory can be).
            &["locked.rs", "ok.rs"]
        };
        assert_eq!(walked(dir.path()), expected);
        let summary = qide_codebase::summarize(dir.path()).expect("summarising");
        let entry = summary
            .files
            .iter()
            .find(|f| f.path == "locked.rs")
            .expect("listed");
        // Listed by size; its lines are counted only if it can be read.
        assert_eq!(
            (entry.size, entry.lines),
            (13, if privileged { 1 } else { 0 })
        );
        let before = qide_codebase::tree_hash(dir.path()).expect("hashing");
        assert_eq!(
            before,
            qide_codebase::tree_hash(dir.path()).expect("hashing again")
        );
        let read = qide_codebase::read_file(dir.path(), "locked.rs", None, None);
        match (privileged, read) {
            (true, Ok(text)) => assert_eq!(text.total_lines, 1),
            (false, Err(Error::Io { source, .. })) => {
                assert_eq!(source.kind(), std::io::ErrorKind::PermissionDenied)
            }
            (privileged, other) => panic!("privileged {privileged}: {other:?}"),
        }
        let packed =
            qide_codebase::pack(dir.path(), 1_000, &[], |t| (t.to_owned(), t.len() as u64))
                .expect("packing");
        let unreadable: Vec<&str> = packed
            .left_out
            .iter()
            .filter(|l| l.reason == LeftOutReason::Unreadable)
            .map(|l| l.path.as_str())
            .collect();
        assert_eq!(
            unreadable,
            if privileged {
                vec![]
            } else {
                vec!["locked.rs"]
            }
        );

        // Restore permissions so the temp dir can be removed.
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o755))
            .expect("chmod back");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644))
            .expect("chmod back");
    }

    #[test]
    fn special_files_are_skipped_so_nothing_blocks_on_them() {
        // A socket stands for every special file (FIFOs, devices): the walk
        // keeps regular files and symlinks only, so none is ever opened.
        let dir = project(&[("a.txt", "")]);
        let _listener = std::os::unix::net::UnixListener::bind(dir.path().join("socket"))
            .expect("binding a unix socket");
        assert!(dir.path().join("socket").exists());
        assert_eq!(walked(dir.path()), ["a.txt"]);
        qide_codebase::summarize(dir.path()).expect("summarising");
        qide_codebase::tree_hash(dir.path()).expect("hashing");
        assert!(matches!(
            qide_codebase::read_file(dir.path(), "socket", None, None),
            Err(Error::NotAFile(_))
        ));
    }

    #[test]
    fn walking_through_a_symlinked_root_works() {
        let dir = project(&[("real/a.rs", "")]);
        symlink(dir.path(), "real", "alias");
        assert_eq!(walked(&dir.path().join("alias")), ["a.rs"]);
        assert_eq!(
            walked(Path::new(&dir.path().join("real/../real"))),
            ["a.rs"]
        );
    }
}
