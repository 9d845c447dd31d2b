//! The pack: order, budget, and what is never packed.

use qide_codebase::{LeftOutReason, PackReason, pack};

use crate::{project, write};

/// One token per whitespace-separated word: easy to reason about.
fn words(text: &str) -> (String, u64) {
    (text.to_owned(), text.split_whitespace().count() as u64)
}

fn sample() -> tempfile::TempDir {
    let dir = project(&[
        ("src/main.rs", "fn main ( ) { }\n"),
        ("src/util.rs", "pub fn util ( ) { }\n"),
        ("src/deep/inner.rs", "pub fn inner ( ) { }\n"),
        ("tests/it.rs", "# [ test ] fn t ( ) { }\n"),
        ("Cargo.toml", "[package] name = demo\n"),
        ("Cargo.lock", "lock lock lock\n"),
        ("README.md", "hello world\n"),
        (".env", "SECRET=1\n"),
        ("big.rs", &"word ".repeat(1000)),
    ]);
    write(dir.path(), "logo.png", b"\x89PNG\0\0");
    dir
}

#[test]
fn failing_files_come_first_then_entry_points_key_files_sources_tests_and_the_rest() {
    let dir = sample();
    let first = ["src/deep/inner.rs".to_owned(), "nowhere.rs".to_owned()];
    let packed = pack(dir.path(), 100_000, &first, words).unwrap();
    let order: Vec<(&str, PackReason)> = packed
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.reason))
        .collect();
    assert_eq!(
        order,
        [
            ("src/deep/inner.rs", PackReason::Failing),
            ("src/main.rs", PackReason::EntryPoint),
            ("Cargo.toml", PackReason::KeyFile),
            ("big.rs", PackReason::Source),
            ("src/util.rs", PackReason::Source),
            ("tests/it.rs", PackReason::Test),
            ("README.md", PackReason::Other),
        ]
    );
    let left_out: Vec<(&str, LeftOutReason)> = packed
        .left_out
        .iter()
        .map(|l| (l.path.as_str(), l.reason))
        .collect();
    assert_eq!(
        left_out,
        [
            (".env", LeftOutReason::Secret),
            ("Cargo.lock", LeftOutReason::LockFile),
            ("logo.png", LeftOutReason::Binary),
        ]
    );
    assert_eq!(
        packed.tokens,
        packed.files.iter().map(|f| f.tokens).sum::<u64>()
    );
    assert_eq!(packed.files[0].content, "pub fn inner ( ) { }\n");
}

#[test]
fn the_budget_holds_exactly_and_small_files_fill_the_gaps() {
    let dir = sample();
    for budget in [0, 1, 6, 7, 12, 30, 999, 1000, 1040, 5000] {
        let packed = pack(dir.path(), budget, &[], words).unwrap();
        assert!(packed.tokens <= budget, "{budget}: {}", packed.tokens);
        assert_eq!(
            packed.tokens,
            packed.files.iter().map(|f| f.tokens).sum::<u64>()
        );
        // Every kept text file is either packed or left out, once.
        assert_eq!(packed.files.len() + packed.left_out.len(), 10, "{budget}");
    }
    // 1000 words do not fit in 30, but the small files behind them do.
    let packed = pack(dir.path(), 30, &[], words).unwrap();
    assert!(packed.files.iter().any(|f| f.path == "README.md"));
    let big = packed.left_out.iter().find(|l| l.path == "big.rs").unwrap();
    assert_eq!(big.reason, LeftOutReason::OverBudget);
    // Exactly the budget fits.
    let packed = pack(dir.path(), 6, &[], words).unwrap();
    assert_eq!(
        packed
            .files
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>(),
        ["src/main.rs"]
    );
    assert_eq!(packed.tokens, 6);
}
