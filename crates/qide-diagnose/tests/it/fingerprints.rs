//! Fingerprints survive what changes between runs and tell failures apart.

use qide_diagnose::{Category, fingerprint};

use crate::{diagnose, read_log, root_fingerprints};

#[test]
fn format_is_fp_and_16_hex_digits() {
    let fp = fingerprint(
        Category::CompileError,
        "rustc",
        Some("E0308"),
        "mismatched types",
        Some("src/lib.rs"),
    );
    assert_eq!(fp.len(), 19);
    assert!(fp.starts_with("fp_"));
    assert!(fp[3..].bytes().all(|b| b.is_ascii_hexdigit()));
}

#[test]
fn rustc_error_keeps_its_id_when_code_moves() {
    let log = read_log("rustc/syntax_error.log");
    let moved = format!(
        "   Compiling other v0.1.0\n\n{}",
        log.replace("src/lib.rs:2:19", "src/lib.rs:42:7")
    );
    let before = diagnose(&log);
    let after = diagnose(&moved);
    assert_eq!(before.diagnostics[0].line, Some(2));
    assert_eq!(after.diagnostics[0].line, Some(42));
    assert_eq!(
        before.diagnostics[0].fingerprint,
        after.diagnostics[0].fingerprint
    );
}

#[test]
fn panic_keeps_its_id_across_thread_ids_addresses_temp_paths_and_timings() {
    let run = |thread: u32, addr: &str, tmp: &str, time: &str| {
        let log = format!(
            "---- tests::reads stdout ----\n\
             thread 'tests::reads' ({thread}) panicked at src/io.rs:{thread}:5:\n\
             failed to open {tmp}/cfg.toml at {addr} after {time} on 2024-05-0{}T10:00:00Z\n\
             \n\
             failures:\n",
            thread % 9 + 1
        );
        root_fingerprints(&log)
    };
    let a = run(6076, "0x7fbc347b1310", "/tmp/.tmpA1b2C3", "0.13s");
    let b = run(91, "0x55d0c0ffee00", "/tmp/.tmpZz9", "12.5s");
    assert_eq!(a.len(), 1);
    assert_eq!(a, b);
}

#[test]
fn python_traceback_keeps_its_id_in_another_checkout() {
    let log = read_log("python/zero_division.log");
    let elsewhere = log
        .replace("/tmp/caps/py1/", "/home/ci/build/4711/")
        .replace("line 9", "line 19");
    assert_eq!(root_fingerprints(&log), root_fingerprints(&elsewhere));
}

#[test]
fn different_failures_get_different_ids() {
    let ids: Vec<String> = [
        "rustc/type_errors.log",
        "rustc/syntax_error.log",
        "rustc/missing_crate.log",
        "cargo_test/no_fail_fast.log",
        "gcc/errors.log",
        "python/zero_division.log",
        "python/traceback_stdlib.log",
        "pytest/failures.log",
    ]
    .iter()
    .flat_map(|log| root_fingerprints(&read_log(log)))
    .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    // rustc prints "mismatched types" three times in one file: those are the
    // same kind of failure and share an id; everything else is distinct.
    assert_eq!(ids.len() - unique.len(), 2, "{ids:#?}");
}

#[test]
fn test_names_with_digits_stay_distinct() {
    let a = fingerprint(
        Category::TestFailure,
        "libtest",
        None,
        "tests::case_1: boom",
        Some("src/lib.rs"),
    );
    let b = fingerprint(
        Category::TestFailure,
        "libtest",
        None,
        "tests::case_2: boom",
        Some("src/lib.rs"),
    );
    assert_ne!(a, b);
}

#[test]
fn the_same_error_twice_at_the_same_place_is_reported_once() {
    let log = read_log("rustc/warnings_only.log");
    let twice = format!("{log}\n{log}");
    assert_eq!(diagnose(&log).diagnostics.len(), 2);
    assert_eq!(diagnose(&twice).diagnostics.len(), 2);
}
