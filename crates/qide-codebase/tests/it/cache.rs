//! The summary cache: the same summary while the tree stands, a fresh one
//! once it moves.

use std::sync::Arc;

use qide_codebase::SummaryCache;

use crate::{project, write};

#[test]
fn an_unchanged_tree_reuses_the_summary_and_a_change_is_seen() {
    let dir = project(&[("src/main.rs", "fn main() {}\n"), ("README.md", "hi\n")]);
    let cache = SummaryCache::new();
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
