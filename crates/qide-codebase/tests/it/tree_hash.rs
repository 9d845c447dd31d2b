//! When the working-tree hash moves, and when it must not.

use std::path::Path;

use crate::{project, write};

fn hash(root: &Path) -> String {
    qide_codebase::tree_hash(root).expect("hashing")
}

/// A project with a little of everything the hash must see or ignore.
fn sample() -> tempfile::TempDir {
    let dir = project(&[
        (".gitignore", "*.log\nout/\n"),
        ("src/main.rs", "fn main() {}\n"),
        ("src/lib.rs", "pub fn a() {}\n"),
        ("debug.log", "ignored\n"),
        ("out/artifact", "ignored\n"),
        (".qide/qide.db", "state"),
        (".git/HEAD", "ref: refs/heads/main\n"),
        ("target/debug/app", "build output"),
        (".env", "SECRET=1\n"),
    ]);
    write(dir.path(), "image.bin", b"\0\x01\x02binary");
    dir
}

#[test]
fn format_is_b3_and_hex_and_stable() {
    let dir = sample();
    let first = hash(dir.path());
    assert!(first.starts_with("b3:"));
    assert_eq!(first.len(), 3 + 64);
    assert!(
        first[3..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(first, hash(dir.path()));
    // The same content elsewhere hashes the same: paths are relative.
    assert_eq!(first, hash(sample().path()));
}

#[test]
fn changes_to_kept_files_move_the_hash() {
    type Change = fn(&Path);
    let changes: [(&str, Change); 9] = [
        ("edit", |r| write(r, "src/main.rs", "fn main() { }\n")),
        ("append a byte", |r| {
            write(r, "src/lib.rs", "pub fn a() {}\n\n")
        }),
        ("add", |r| write(r, "src/new.rs", "")),
        ("add an empty file", |r| write(r, "empty", "")),
        ("remove", |r| {
            std::fs::remove_file(r.join("src/lib.rs")).expect("removing")
        }),
        ("rename", |r| {
            std::fs::rename(r.join("src/lib.rs"), r.join("src/lib2.rs")).expect("renaming")
        }),
        ("edit a binary", |r| {
            write(r, "image.bin", b"\0\x01\x02binarY")
        }),
        ("edit a secret", |r| write(r, ".env", "SECRET=2\n")),
        ("edit the gitignore", |r| write(r, ".gitignore", "*.log\n")),
    ];
    for (what, change) in changes {
        let dir = sample();
        let before = hash(dir.path());
        change(dir.path());
        assert_ne!(before, hash(dir.path()), "{what} must change the hash");
    }
}

#[test]
fn changes_outside_the_kept_set_leave_the_hash_alone() {
    type Change = fn(&Path);
    let changes: [(&str, Change); 7] = [
        ("edit an ignored file", |r| {
            write(r, "debug.log", "changed\n")
        }),
        ("add an ignored file", |r| write(r, "more.log", "")),
        ("edit under an ignored dir", |r| {
            write(r, "out/artifact", "changed\n")
        }),
        ("edit .qide", |r| write(r, ".qide/qide.db", "new state")),
        ("add to .qide", |r| write(r, ".qide/logs/1.log", "log")),
        ("edit .git", |r| write(r, ".git/index", "index")),
        ("edit target", |r| write(r, "target/debug/app", "rebuilt")),
    ];
    for (what, change) in changes {
        let dir = sample();
        let before = hash(dir.path());
        change(dir.path());
        assert_eq!(before, hash(dir.path()), "{what} must not change the hash");
    }
    let dir = sample();
    let before = hash(dir.path());
    std::fs::create_dir_all(dir.path().join("empty/dir")).expect("creating dirs");
    assert_eq!(
        before,
        hash(dir.path()),
        "empty directories are not part of the tree"
    );
}

#[test]
fn swapping_contents_between_files_moves_the_hash() {
    let a = project(&[("a", "1"), ("b", "2")]);
    let b = project(&[("a", "2"), ("b", "1")]);
    assert_ne!(hash(a.path()), hash(b.path()));
    // Framing: a path/content boundary cannot be shifted.
    let c = project(&[("ab", "")]);
    let d = project(&[("a", "b")]);
    assert_ne!(hash(c.path()), hash(d.path()));
}

#[test]
fn large_files_are_streamed_and_hashed_whole() {
    let big = vec![b'x'; 3 * 1024 * 1024];
    let dir = project(&[]);
    write(dir.path(), "big.bin", &big);
    let before = hash(dir.path());
    let mut changed = big;
    *changed.last_mut().expect("not empty") = b'y';
    write(dir.path(), "big.bin", &changed);
    assert_ne!(before, hash(dir.path()));
}

#[cfg(unix)]
#[test]
fn symlinks_count_by_their_target() {
    use crate::symlink;
    let dir = project(&[("a.rs", "a"), ("b.rs", "b")]);
    symlink(dir.path(), "a.rs", "link");
    let to_a = hash(dir.path());
    std::fs::remove_file(dir.path().join("link")).expect("removing the link");
    symlink(dir.path(), "b.rs", "link");
    assert_ne!(to_a, hash(dir.path()));
    // Editing the target changes the hash through the target itself only.
    let outside = project(&[("x", "1")]);
    symlink(dir.path(), outside.path().join("x"), "out");
    let before = hash(dir.path());
    write(outside.path(), "x", "2");
    assert_eq!(before, hash(dir.path()), "a symlink is never followed");
}

#[test]
fn the_cache_never_changes_the_answer() {
    let dir = sample();
    let cache = qide_codebase::TreeHashCache::new();
    let cached = |root: &Path| qide_codebase::tree_hash_cached(root, &cache).expect("hashing");
    assert_eq!(cached(dir.path()), hash(dir.path()));
    assert_eq!(cached(dir.path()), hash(dir.path()));
    // Same size, same second: only the content and change time differ.
    write(dir.path(), "src/main.rs", "fn main() {}\r");
    assert_eq!(cached(dir.path()), hash(dir.path()));
    std::fs::remove_file(dir.path().join("src/lib.rs")).expect("removing");
    assert_eq!(cached(dir.path()), hash(dir.path()));
    // Another root through the same cache.
    let other = project(&[("x", "y")]);
    assert_eq!(cached(other.path()), hash(other.path()));
    assert_eq!(cached(dir.path()), hash(dir.path()));
}
