//! What the walk keeps and skips.

use std::path::Path;

use qide_codebase::{EntryKind, Error};

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
    fn unreadable_files_and_directories_do_not_panic() {
        // Tests may run as root, for whom mode 000 is still readable: the
        // assertions hold either way.
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

        let paths = walked(dir.path());
        assert!(paths.contains(&"locked.rs".to_owned()));
        assert!(paths.contains(&"ok.rs".to_owned()));
        let summary = qide_codebase::summarize(dir.path()).expect("summarising");
        assert!(
            summary
                .files
                .iter()
                .any(|f| f.path == "locked.rs" && f.size == 13)
        );
        let before = qide_codebase::tree_hash(dir.path()).expect("hashing");
        assert_eq!(
            before,
            qide_codebase::tree_hash(dir.path()).expect("hashing again")
        );
        let _ = qide_codebase::read_file(dir.path(), "locked.rs", None, None);

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
