//! JUnit XML reports written by real tools, read into test cases.

use std::fmt::Write;

use expect_test::{Expect, expect};
use qide_diagnose::{JunitReport, TestOutcome, looks_like_junit, parse_junit};

fn render(report: &JunitReport) -> String {
    let mut out = String::new();
    for t in &report.tests {
        let outcome = match t.outcome {
            TestOutcome::Passed => "passed",
            TestOutcome::Failed => "FAILED",
            TestOutcome::Skipped => "skipped",
        };
        let place = match (&t.file, t.line) {
            (Some(f), Some(l)) => format!(" @ {f}:{l}"),
            (Some(f), None) => format!(" @ {f}"),
            _ => String::new(),
        };
        let message = t
            .message
            .as_deref()
            .map(|m| format!(" | {m}"))
            .unwrap_or_default();
        let _ = writeln!(out, "{outcome} {}{place}{message}", t.name);
    }
    for issue in &report.issues {
        let _ = writeln!(out, "issue: {issue}");
    }
    out
}

fn check(name: &str, expect: Expect) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test_data/junit")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    assert!(looks_like_junit(&bytes), "{name} is not recognised");
    expect.assert_eq(&render(&parse_junit(&bytes)));
}

#[test]
fn nextest_report() {
    check(
        "nextest.xml",
        expect![[r#"
        FAILED nexcalc tests::it_fails @ src/lib.rs:20 | assertion `left == right` failed: math is broken
        passed nexcalc tests::it_works
        FAILED nexcalc tests::parse_panics @ src/lib.rs:6 | called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }
    "#]],
    );
}

#[test]
fn vitest_report() {
    check(
        "vitest.xml",
        expect![[r#"
        passed vt/calc.test.ts > calc > adds
        FAILED vt/calc.test.ts > calc > adds wrong @ vt/calc.test.ts:10 | expected 5 to be 6 // Object.is equality
        FAILED vt/calc.test.ts > calc > throws @ vt/calc.test.ts:15 | Cannot read properties of undefined (reading 'length')
        skipped vt/calc.test.ts > calc > later
    "#]],
    );
}

#[test]
fn pytest_report() {
    check(
        "pytest.xml",
        expect![[r#"
        passed tests.test_calc.test_adds
        FAILED tests.test_calc.test_adds_wrong @ tests/test_calc.py:18 | AssertionError: sum of 2 and 3
        FAILED tests.test_calc.test_uses_fixture @ tests/test_calc.py:10 | failed on setup with "RuntimeError: fixture could not start"
        skipped tests.test_calc.test_later
    "#]],
    );
}

#[test]
fn surefire_report() {
    check(
        "surefire_TEST-com.example.CalcTest.xml",
        expect![[r#"
        passed com.example.CalcTest.adds
        FAILED com.example.CalcTest.addsWrong @ CalcTest.java:16 | sum of 2 and 3 expected:<6> but was:<5>
        FAILED com.example.CalcTest.dividesByZero @ Calc.java:9 | / by zero
        skipped com.example.CalcTest.later
    "#]],
    );
}

#[test]
fn a_truncated_report_keeps_what_came_before() {
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/junit/nextest.xml"),
    )
    .expect("fixture");
    // Cut inside the second test case's failure, as a killed writer would.
    let marker = b"called `Result::unwrap()`";
    let cut = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("second failure's body");
    let report = parse_junit(&bytes[..cut]);
    let names: Vec<_> = report.tests.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "nexcalc tests::it_fails",
            "nexcalc tests::it_works",
            "nexcalc tests::parse_panics"
        ]
    );
    assert_eq!(report.tests[2].outcome, TestOutcome::Failed);
}

#[test]
fn other_xml_is_not_a_report() {
    let pom = b"<?xml version=\"1.0\"?><project><modelVersion>4.0.0</modelVersion></project>";
    assert!(!looks_like_junit(pom));
    assert!(parse_junit(pom).tests.is_empty());
    let broken = parse_junit(b"<testsuite><testcase name=\"a\"><failure message=\"x\"></testsuite");
    assert_eq!(broken.tests.len(), 1);
    assert_eq!(broken.tests[0].outcome, TestOutcome::Failed);
}
