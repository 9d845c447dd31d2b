//! The summary cache: the same summary while the tree stands, a fresh one
//! once it moves, whether a watcher vouches for the tree or its hash does.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use qide_codebase::SummaryCache;

use crate::{project, write};

#[test]
fn an_unchanged_tree_reuses_the_summary_and_a_change_is_seen() {
    let dir = project(&[("src/main.rs", "fn main() {}\n"), ("README.md", "hi\n")]);
    // Without a watcher every call checks the tree hash: a change is seen on
    // the very next call.
    let cache = SummaryCache::unwatched();
    let first = cache.summary(dir.path()).unwrap();
    let second = cache.summary(dir.path()).unwrap();
    assert!(Arc::ptr_eq(&first.summary, &second.summary));
    assert_eq!(first.tree_hash, second.tree_hash);
    assert_eq!(
        *first.summary,
        qide_codebase::summarize(dir.path()).unwrap()
    );

    write(dir.path(), "src/lib.rs", "pub fn a() {}\n");
    let third = cache.summary(dir.path()).unwrap();
    assert_ne!(third.tree_hash, first.tree_hash);
    assert!(third.summary.files.iter().any(|f| f.path == "src/lib.rs"));

    // Changed content: still seen.
    write(dir.path(), "src/lib.rs", "pub fn b() {}\nfn c() {}\n");
    let fourth = cache.summary(dir.path()).unwrap();
    let lib = fourth.summary.files.iter().find(|f| f.path == "src/lib.rs");
    assert_eq!(lib.map(|f| f.lines), Some(2));

    // Ignored files do not count.
    write(dir.path(), ".gitignore", "*.log\n");
    let fifth = cache.summary(dir.path()).unwrap();
    write(dir.path(), "debug.log", "noise\n");
    let sixth = cache.summary(dir.path()).unwrap();
    assert!(Arc::ptr_eq(&fifth.summary, &sixth.summary));
}

/// Waits until the cache's watcher is running, or fails the test.
fn wait_for_watch(cache: &SummaryCache, root: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cache.is_watching(root) {
        assert!(Instant::now() < deadline, "the watcher never started");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_watched_tree_is_not_walked_again_until_it_changes() {
    let dir = project(&[("src/main.rs", "fn main() {}\n"), ("README.md", "hi\n")]);
    let cache = SummaryCache::new();
    let first = cache.summary(dir.path()).unwrap();
    assert_eq!(cache.walks(), 1);
    wait_for_watch(&cache, dir.path());

    // The first call after the watch is ready checks the hash once (the
    // summary predates the watch); from then on nothing is walked.
    let checked = cache.summary(dir.path()).unwrap();
    assert!(Arc::ptr_eq(&first.summary, &checked.summary));
    let walks = cache.walks();
    for _ in 0..20 {
        let again = cache.summary(dir.path()).unwrap();
        assert!(Arc::ptr_eq(&first.summary, &again.summary));
    }
    assert_eq!(cache.walks(), walks, "an unchanged watched tree was walked");

    // A changed file is seen on the very next call: the call syncs with
    // the watcher before trusting its generation.
    write(dir.path(), "src/main.rs", "fn main() {}\nfn more() {}\n");
    let changed = cache.summary(dir.path()).unwrap();
    let main = changed
        .summary
        .files
        .iter()
        .find(|f| f.path == "src/main.rs");
    assert_eq!(main.map(|f| f.lines), Some(2));
    assert_ne!(changed.tree_hash, first.tree_hash);
    assert_eq!(
        changed.tree_hash,
        qide_codebase::tree_hash(dir.path()).unwrap()
    );
    assert_eq!(
        *changed.summary,
        qide_codebase::summarize(dir.path()).unwrap()
    );

    // A file in a new directory: the directory's watch is added as it
    // appears, and the file is seen.
    std::fs::create_dir_all(dir.path().join("src/deep/er")).unwrap();
    write(dir.path(), "src/deep/er/mod.rs", "pub fn x() {}\n");
    let deeper = cache.summary(dir.path()).unwrap();
    assert!(
        deeper
            .summary
            .files
            .iter()
            .any(|f| f.path == "src/deep/er/mod.rs")
    );
    // A deleted file is gone.
    std::fs::remove_file(dir.path().join("README.md")).unwrap();
    let fewer = cache.summary(dir.path()).unwrap();
    assert!(fewer.summary.files.iter().all(|f| f.path != "README.md"));
    assert!(cache.is_watching(dir.path()));
}

#[test]
fn every_write_is_seen_by_the_call_right_after_it() {
    let dir = project(&[("src/lib.rs", "pub fn a() {}\n")]);
    let cache = SummaryCache::new();
    cache.summary(dir.path()).unwrap();
    wait_for_watch(&cache, dir.path());
    cache.summary(dir.path()).unwrap();
    for lines in 1..=40u64 {
        let body = "fn f() {}\n".repeat(lines as usize);
        write(dir.path(), "src/lib.rs", &body);
        let seen = cache.summary(dir.path()).unwrap();
        let lib = seen.summary.files.iter().find(|f| f.path == "src/lib.rs");
        assert_eq!(lib.map(|f| f.lines), Some(lines), "write {lines} unseen");
        // The repeat after it is answered without walking.
        let walks = cache.walks();
        let again = cache.summary(dir.path()).unwrap();
        assert!(Arc::ptr_eq(&seen.summary, &again.summary));
        assert_eq!(cache.walks(), walks);
    }
    // The cookies are cleaned up behind the calls.
    let left: Vec<_> = std::fs::read_dir(dir.path().join(".qide"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "cookies left behind: {left:?}");
}

#[test]
fn a_change_to_git_s_excludes_alone_is_seen_by_a_watched_tree() {
    let dir = project(&[
        ("src/main.rs", "fn main() {}\n"),
        ("notes.txt", "todo\n"),
        (".git/info/exclude", "# nothing yet\n"),
    ]);
    let cache = SummaryCache::new();
    let paths = |cache: &SummaryCache| -> Vec<String> {
        let summary = cache.summary(dir.path()).unwrap().summary;
        summary.files.iter().map(|f| f.path.clone()).collect()
    };
    assert_eq!(paths(&cache), ["notes.txt", "src/main.rs"]);
    wait_for_watch(&cache, dir.path());
    assert_eq!(paths(&cache), ["notes.txt", "src/main.rs"]);
    let walks = cache.walks();
    assert_eq!(paths(&cache), ["notes.txt", "src/main.rs"]);
    assert_eq!(cache.walks(), walks, "the watch vouches for the tree");

    // Only `.git/info/exclude` changes: under `.git/`, which the walk never
    // keeps, but its rules are the walk's.
    write(dir.path(), ".git/info/exclude", "notes.txt\n");
    assert_eq!(paths(&cache), ["src/main.rs"]);
    write(dir.path(), ".git/info/exclude", "# nothing again\n");
    assert_eq!(paths(&cache), ["notes.txt", "src/main.rs"]);
}
