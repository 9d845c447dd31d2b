//! Times the codebase summary on one tree (compare with `hyperfine -N
//! 'rg --files --hidden TREE'` in the same session), in process (no HTTP,
//! no JSON): the old two-walk path, the one-walk cold path ("first ever":
//! no scans saved under `TREE/.qide/`), a fresh cache over the scans an
//! earlier one saved ("fresh server"), and warm calls answered through the
//! watcher or, unwatched, the hash check.
//! `cargo run --release -p qide-codebase --example summary_speed -- TREE`;
//! it writes `TREE/.qide/`, so point it at a copy (`cp -al`) and wait a few
//! seconds after copying (hard links move every file's ctime, and files
//! changed within the racy window are always read). bench/README.md has the
//! results.
//!
//! `-- TREE first-ever [RUNS]` times only the first-ever summary (the saved
//! scans deleted before each run), for profiling that path alone with
//! `perf record -g`.

use std::time::{Duration, Instant};
/// Prints medians for each path; asserts the one-walk path agrees with the
/// separate tree hash and summary.
fn main() {
    let root = std::env::args().nth(1).unwrap();
    let root = std::path::Path::new(&root);
    if std::env::args().nth(2).as_deref() == Some("first-ever") {
        let runs = std::env::args().nth(3).map_or(5, |n| n.parse().unwrap());
        first_ever(root, runs);
        return;
    }
    let mut old = vec![];
    let mut cold = vec![];
    let scans = root.join(".qide/codebase-scans-v1");
    for _ in 0..3 {
        let t = Instant::now();
        let h = qide_codebase::tree_hash(root).unwrap();
        let s = qide_codebase::summarize(root).unwrap();
        old.push(t.elapsed());
        let _ = std::fs::remove_file(&scans);
        let cache = qide_codebase::SummaryCache::unwatched();
        let t = Instant::now();
        let c = cache.summary(root).unwrap();
        cold.push(t.elapsed());
        assert_eq!(c.tree_hash, h);
        assert_eq!(*c.summary, s);
    }
    old.sort();
    cold.sort();
    println!(
        "old path (tree_hash + summarize) median {:?}; first ever (no saved scans) median {:?}",
        old[1], cold[1]
    );
    let mut fresh = vec![];
    let mut read = 0;
    for _ in 0..3 {
        let cache = qide_codebase::SummaryCache::unwatched();
        let t = Instant::now();
        cache.summary(root).unwrap();
        fresh.push(t.elapsed());
        read = cache.files_read();
    }
    fresh.sort();
    println!(
        "fresh cache, saved scans: median {:?}, {read} files read",
        fresh[1]
    );
    let mut w = vec![];
    let mut su = vec![];
    for _ in 0..3 {
        let t = Instant::now();
        qide_codebase::walk(root).unwrap();
        w.push(t.elapsed());
        let t = Instant::now();
        qide_codebase::summarize(root).unwrap();
        su.push(t.elapsed());
    }
    w.sort();
    su.sort();
    println!(
        "walk (lstat each) median {:?}; summarize without hashing median {:?}",
        w[1], su[1]
    );
    let cache = qide_codebase::SummaryCache::new();
    cache.summary(root).unwrap();
    let t = Instant::now();
    while !cache.is_watching(root) {
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("watch ready after {:?}", t.elapsed());
    cache.summary(root).unwrap();
    let walks = cache.walks();
    let mut warm = vec![];
    for _ in 0..20 {
        let t = Instant::now();
        cache.summary(root).unwrap();
        warm.push(t.elapsed());
    }
    warm.sort();
    println!(
        "warm median {:?} max {:?}, walks during warm: {}",
        warm[10],
        warm[19],
        cache.walks() - walks
    );
    let un = qide_codebase::SummaryCache::unwatched();
    un.summary(root).unwrap();
    let mut fb = vec![];
    for _ in 0..5 {
        let t = Instant::now();
        un.summary(root).unwrap();
        fb.push(t.elapsed());
    }
    fb.sort();
    println!("unwatched (hash check) repeat median {:?}", fb[2]);
}

/// Times `runs` first-ever summaries (no saved scans, a fresh cache each
/// time) and prints each, their median, the files read and the tree hash, so
/// two builds can be compared for speed and for the same answer.
fn first_ever(root: &std::path::Path, runs: usize) {
    let scans = root.join(".qide/codebase-scans-v1");
    let mut times = vec![];
    let mut last = None;
    for _ in 0..runs {
        let _ = std::fs::remove_file(&scans);
        let cache = qide_codebase::SummaryCache::unwatched();
        let t = Instant::now();
        let c = cache.summary(root).unwrap();
        times.push(t.elapsed());
        last = Some((c, cache.files_read()));
    }
    let (c, read) = last.unwrap();
    let mut sorted = times.clone();
    sorted.sort();
    // The whole answer, digested: equal across builds means identical answers.
    let answer = blake3::hash(format!("{:?}", c.summary).as_bytes());
    println!(
        "first ever: {times:?}; median {:?}; {read} files read; tree {}; answer b3:{}",
        sorted[runs / 2],
        c.tree_hash,
        answer.to_hex()
    );
}
