//! Odd input never panics and yields sane output: random bytes, huge
//! lines, lines of only escape codes, cut-off constructs, skipped numbers.

use qide_diagnose::{Diagnosis, LogDiagnoser, strip_ansi};

use crate::diagnose;

/// A small deterministic generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn assert_sane(diagnosis: &Diagnosis, last_line: u64) {
    for d in &diagnosis.diagnostics {
        assert!(
            d.log_lines.0 >= 1 && d.log_lines.0 <= d.log_lines.1 && d.log_lines.1 <= last_line,
            "{d:?}"
        );
        assert!(d.message.len() <= 504, "{}", d.message.len());
        assert!(!d.message.contains('\n'));
        assert!(d.fingerprint.starts_with("fp_") && d.fingerprint.len() == 19);
    }
}

#[test]
fn random_bytes_do_not_panic() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    // Bytes biased towards the ones parsers react to.
    let alphabet = b"error[E0308]: warning --> |:0123456789 \x1b[m\r\t'\"_=-FAILED test ...ok\xff\xfe panicked at Traceback File line in";
    let mut diagnoser = LogDiagnoser::new();
    for n in 1..=20_000u64 {
        let len = (rng.next() % 120) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
            .collect();
        diagnoser.push_line(n, &String::from_utf8_lossy(&bytes));
    }
    assert_sane(&diagnoser.finish(), 20_000);
}

#[test]
fn fragments_of_real_logs_in_any_order_do_not_panic() {
    let mut lines = Vec::new();
    for log in [
        "rustc/type_errors_color.log",
        "cargo_test/failures.log",
        "gcc/errors.log",
        "pytest/failures.log",
        "python/traceback_stdlib.log",
        "go/test_failures.log",
    ] {
        lines.extend(
            crate::read_log(log)
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>(),
        );
    }
    let mut rng = XorShift(42);
    let mut diagnoser = LogDiagnoser::new();
    for n in 1..=5_000u64 {
        let line = &lines[(rng.next() % lines.len() as u64) as usize];
        // Cut lines at arbitrary char boundaries too.
        let cut = line
            .char_indices()
            .map(|(i, _)| i)
            .nth((rng.next() % 40) as usize)
            .unwrap_or(line.len());
        let text = if rng.next().is_multiple_of(3) {
            &line[..cut]
        } else {
            line.as_str()
        };
        diagnoser.push_line(n, text);
    }
    assert_sane(&diagnoser.finish(), 5_000);
}

#[test]
fn huge_lines_are_cut_to_a_headline() {
    let huge = format!("error[E0308]: {}", "é".repeat(2_000_000));
    let log = format!("{huge}\n --> src/lib.rs:1:1\n\n{}", "x".repeat(5_000_000));
    let diagnosis = diagnose(&log);
    assert_sane(&diagnosis, 4);
    assert_eq!(diagnosis.diagnostics.len(), 1);
    assert!(diagnosis.diagnostics[0].message.ends_with('…'));
}

#[test]
fn lines_of_only_escape_codes_are_empty() {
    let diagnosis = diagnose("\x1b[0m\x1b[1m\n\x1b]8;;\x07\n\x1b[\n\x1b\n\r\r\n\x1b[31m\x1b[0m\r");
    assert_eq!(diagnosis, Diagnosis::default());
    assert_eq!(strip_ansi("\x1b[38;5;196m\x1b[0m"), "");
}

#[test]
fn cut_off_constructs_are_still_reported_at_the_end() {
    let diagnosis = diagnose("error[E0308]: mismatched types\n --> src/lib.rs:3:1\n  |");
    assert_eq!(diagnosis.diagnostics.len(), 1);
    assert_eq!(diagnosis.diagnostics[0].log_lines, (1, 3));
    let diagnosis = diagnose("Traceback (most recent call last):\n  File \"app.py\", line 3, in f");
    assert_eq!(diagnosis.diagnostics[0].file.as_deref(), Some("app.py"));
    let diagnosis =
        diagnose("---- tests::x stdout ----\nthread 'tests::x' panicked at src/a.rs:1:2:");
    assert_eq!(diagnosis.diagnostics[0].line, Some(1));
}

#[test]
fn skipped_line_numbers_are_kept() {
    let mut diagnoser = LogDiagnoser::new();
    diagnoser.push_line(1, "error[E0308]: mismatched types");
    diagnoser.push_line(1_000_000, " --> src/lib.rs:3:1");
    diagnoser.push_line(1_000_001, "");
    let diagnosis = diagnoser.finish();
    assert_eq!(diagnosis.diagnostics[0].log_lines, (1, 1_000_000));
}

#[test]
fn a_clean_log_has_no_category() {
    let diagnosis = diagnose(&crate::read_log("rustc/warnings_only.log"));
    assert_eq!(diagnosis.category, None);
    let diagnosis = diagnose(
        "   Compiling x v0.1.0\n    Finished `dev` profile\ntest result: ok. 3 passed; 0 failed; 0 timed out",
    );
    assert_eq!(diagnosis, Diagnosis::default());
}

#[test]
fn project_root_is_stripped_from_absolute_paths() {
    let mut diagnoser = LogDiagnoser::with_project_root("/tmp/caps/py1/");
    for (i, line) in crate::read_log("python/zero_division.log")
        .lines()
        .enumerate()
    {
        diagnoser.push_line(i as u64 + 1, line);
    }
    let diagnosis = diagnoser.finish();
    assert_eq!(
        diagnosis.diagnostics[0].file.as_deref(),
        Some("app/core.py")
    );
}

#[test]
fn command_echoes_and_test_names_are_not_infrastructure_failures() {
    let diagnosis = diagnose(
        "$ timeout 35m ci/build.sh\n\
         tests/rules/test_sudo.py::test_match[Permission denied] PASSED           [ 85%]\n\
         foo.c:12: error: ",
    );
    let rendered = crate::render(&diagnosis);
    expect_test::expect![[r#"
        category: compile_error
        E root gcc - foo.c:12 compile_error L3-3 error
        test passed tests/rules/test_sudo.py::test_match[Permission denied] @ tests/rules/test_sudo.py
    "#]]
    .assert_eq(&rendered);
}

/// Lines built from fragments the parsers react to, joined at random, plus
/// arbitrary text: closer to real logs than uniform bytes.
fn arbitrary_line() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let fragment = prop_oneof![
        Just("error: ".to_string()),
        Just("error[E0308]: x".to_string()),
        Just(" --> src/lib.rs:1:2".to_string()),
        Just("Traceback (most recent call last):".to_string()),
        Just("  File \"a.py\", line 3, in f".to_string()),
        Just("ValueError: bad".to_string()),
        Just("  1) test x (M)".to_string()),
        Just("Failures:".to_string()),
        Just("TypeError: t".to_string()),
        Just("    at f (a.js:1:2)".to_string()),
        Just("--- FAIL: TestX (0.00s)".to_string()),
        Just("x.go:3:4: undefined: y".to_string()),
        Just("a.c:1:2: error: e".to_string()),
        Just("make: *** [all] Error 1".to_string()),
        Just("Killed".to_string()),
        Just("\r\x1b[0K".to_string()),
        Just("\x1b[31m".to_string()),
        Just("FAILED tests/t.py::t - x".to_string()),
        Just("x <<< FAILURE!".to_string()),
        Just("        FAIL [   0.011s] (1/3) crate tests::x".to_string()),
        Just("    thread 'x' (1) panicked at src/lib.rs:2:3:".to_string()),
        Just("  ● suite › test".to_string()),
        Just("FAIL test/a.test.js".to_string()),
        Just("    ✕ adds (3 ms)".to_string()),
        Just(" FAIL  a.test.ts > s > t".to_string()),
        Just(" ❯ a.test.ts (2 tests | 1 failed) 3ms".to_string()),
        Just("npm error code E404".to_string()),
        Just("/home/x/a.js".to_string()),
        Just("   2:9  error  x  no-undef".to_string()),
        Just("{\"reason\":\"compiler-message\",\"message\":{\"rendered\":\"error[E1]: x\\n --> a.rs:1:1\"}}".to_string()),
        Just("ERR_PNPM_X  y".to_string()),
        ".{0,30}",
    ];
    proptest::collection::vec(fragment, 0..4).prop_map(|parts| parts.concat())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    #[test]
    fn random_logs_never_panic_and_stay_in_range(
        lines in proptest::collection::vec(arbitrary_line(), 0..120)
    ) {
        let mut diagnoser = LogDiagnoser::new();
        for (i, line) in lines.iter().enumerate() {
            diagnoser.push_line(i as u64 + 1, line);
        }
        let pushed = lines.len() as u64;
        let diagnosis = diagnoser.finish();
        for d in &diagnosis.diagnostics {
            proptest::prop_assert!(
                1 <= d.log_lines.0 && d.log_lines.0 <= d.log_lines.1 && d.log_lines.1 <= pushed,
                "{:?} outside 1..={}", d.log_lines, pushed
            );
        }
    }
}

proptest::proptest! {
    // Debug builds read arbitrary bytes at a few MB/s; 64 cases of a few
    // KiB keep the suite quick, and the fuzz target goes further.
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Arbitrary bytes, invalid UTF-8 included, read as the server reads a
    /// stored log (split at LF, replaced lossily), against a green log made
    /// of other arbitrary bytes.
    #[test]
    fn arbitrary_bytes_with_a_baseline_never_panic(
        failed in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096),
        green in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
    ) {
        let mut baseline = qide_diagnose::Baseline::new();
        for line in green.split(|&b| b == b'\n') {
            baseline.push_line(&String::from_utf8_lossy(line));
        }
        let mut diagnoser = LogDiagnoser::new().with_baseline(baseline);
        let mut n = 0;
        for line in failed.split(|&b| b == b'\n') {
            n += 1;
            diagnoser.push_line(n, &String::from_utf8_lossy(line));
        }
        let diagnosis = diagnoser.finish();
        for d in &diagnosis.diagnostics {
            proptest::prop_assert!(
                1 <= d.log_lines.0 && d.log_lines.0 <= d.log_lines.1 && d.log_lines.1 <= n,
                "{:?} outside 1..={}", d.log_lines, n
            );
            proptest::prop_assert!(!d.message.contains('\n'));
        }
    }

    /// JUnit XML made of real report pieces in any order and arbitrary
    /// bytes: no panic, and every test has a name.
    #[test]
    fn arbitrary_junit_never_panics(
        parts in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::strategy::Just("<testsuite name=\"s\">".to_string()),
                proptest::strategy::Just("<testcase classname=\"a.B\" name=\"t\">".to_string()),
                proptest::strategy::Just("<testcase name=\"e\"/>".to_string()),
                proptest::strategy::Just("<failure message=\"m &amp; &#10; &bogus;\">".to_string()),
                proptest::strategy::Just("</failure></testcase>".to_string()),
                proptest::strategy::Just("<skipped/>".to_string()),
                proptest::strategy::Just("<![CDATA[ at a.B(B.java:3) ]]>".to_string()),
                proptest::strategy::Just("&#xFFFFFF;&lt;".to_string()),
                proptest::strategy::Just("</testsuite>".to_string()),
                ".{0,20}",
            ],
            0..40,
        )
    ) {
        let report = qide_diagnose::parse_junit(parts.concat().as_bytes());
        for test in &report.tests {
            proptest::prop_assert!(!test.name.is_empty());
        }
    }
}

#[test]
fn junit_nested_100_000_deep_finishes() {
    let mut xml = String::from("<testsuite><testcase name=\"deep\"><failure>");
    xml.push_str(&"<a>".repeat(100_000));
    xml.push_str(&"</a>".repeat(100_000));
    xml.push_str("</failure></testcase></testsuite>");
    let report = qide_diagnose::parse_junit(xml.as_bytes());
    assert_eq!(report.tests.len(), 1, "{:?}", report.issues);
    assert!(!report.issues.is_empty(), "the depth is reported");
}

#[test]
fn a_10_mb_line_without_newline_finishes() {
    let line = format!("{}error: end", "ab\x1b[1mcd\r".repeat(1_250_000));
    let mut diagnoser = LogDiagnoser::new();
    diagnoser.push_line(1, &line);
    assert_sane(&diagnoser.finish(), 1);
}

#[test]
fn a_traceback_of_100_000_frames_finishes() {
    let mut log = String::from("Traceback (most recent call last):\n");
    for i in 0..100_000 {
        log.push_str(&format!(
            "  File \"app/m{i}.py\", line {i}, in f\n    f()\n"
        ));
    }
    log.push_str("RecursionError: maximum recursion depth exceeded\n");
    let diagnosis = diagnose(&log);
    assert_sane(&diagnosis, 200_003);
    assert_eq!(diagnosis.diagnostics.len(), 1);
    assert_eq!(diagnosis.diagnostics[0].log_lines, (1, 200_002));
}

#[test]
fn a_stack_trace_of_100_000_frames_finishes() {
    let mut log = String::from("TypeError: x\n");
    for i in 0..100_000 {
        log.push_str(&format!("    at f{i} (a.js:{i}:1)\n"));
    }
    assert_sane(&diagnose(&log), 100_002);
}

#[test]
fn carriage_return_and_escape_soup_finishes() {
    let mut rng = XorShift(7);
    let pieces = [
        "\r",
        "\x1b[0K",
        "\x1b[31;1m",
        "\x1b]8;;x\x07",
        "error",
        " ",
        "\r\r",
        "%",
    ];
    let mut diagnoser = LogDiagnoser::new();
    for n in 1..=2_000u64 {
        let line: String = (0..2_000)
            .map(|_| pieces[(rng.next() % pieces.len() as u64) as usize])
            .collect();
        diagnoser.push_line(n, &line);
    }
    assert_sane(&diagnoser.finish(), 2_000);
}
