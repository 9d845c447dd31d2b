//! XCTest's verdicts (`xcodebuild test` and `swift test`): `Test Case
//! '-[App.MathTests testAdds]' passed (0.001 seconds).` on Apple,
//! `Test Case 'MathTests.testAdds' passed (0.001 seconds)` on Linux, and
//! `failed` or `skipped`. A failed assertion is its own `path:line: error:`
//! line, which the located-diagnostic reader takes. From XCTest's
//! documented output (no Swift on this machine).

use crate::{Category, TestCase, TestOutcome, fingerprint::refingerprint, sink::Sink};

/// The test a verdict line names, and its outcome; `None` for `started`.
pub(crate) fn verdict(line: &str) -> Option<(&str, TestOutcome)> {
    let rest = line.strip_prefix("Test Case '")?;
    let (name, after) = rest.split_once("' ")?;
    let outcome = if after.starts_with("passed (") {
        TestOutcome::Passed
    } else if after.starts_with("failed (") {
        TestOutcome::Failed
    } else if after.starts_with("skipped (") {
        TestOutcome::Skipped
    } else {
        return None;
    };
    // `-[App.MathTests testAdds]` names the same test as `MathTests.testAdds`.
    let name = name
        .strip_prefix("-[")
        .and_then(|n| n.strip_suffix(']'))
        .map_or(name, |n| n);
    Some((name, outcome))
}

/// Records a verdict at line `n`; a failure the log already explained
/// (a diagnostic was kept since the test started, at `diagnostics_before`)
/// is not reported again.
pub(crate) fn record(
    n: u64,
    name: &str,
    outcome: TestOutcome,
    diagnostics_before: Option<usize>,
    sink: &mut Sink,
) {
    sink.outcome(n, "xctest", name, outcome);
    let Some(before) = diagnostics_before.filter(|&before| sink.diagnostics.len() > before) else {
        return;
    };
    if outcome != TestOutcome::Failed {
        return;
    }
    // The assertion's `path:line: error: Test : XCTAssertEqual failed: …`
    // read as a compiler's error: it is the test's failure.
    let mut place = None;
    for d in sink.diagnostics.iter_mut().skip(before) {
        if d.message.contains(" : XCT") {
            d.category = Category::TestFailure;
            d.tool = "xctest".to_string();
            refingerprint(d);
            place = place.or(Some((d.file.clone(), d.line, d.message.clone())));
        }
    }
    if let Some((file, line, message)) = place {
        sink.test(
            n,
            "xctest",
            TestCase {
                name: name.to_string(),
                outcome,
                message: Some(message),
                file,
                line,
            },
        );
    }
    sink.test_diagnosed(name);
}

/// Whether `line` is XCTest's note that a test skipped itself
/// (`path:line: Test : Test skipped - reason`), not a finding.
pub(crate) fn is_skip_note(line: &str) -> bool {
    has!(line, " : Test skipped")
}

/// Whether `line` says a test started: `Test Case '…' started.` (Apple) or
/// `… started at 2024-…` (Linux).
pub(crate) fn is_start(line: &str) -> bool {
    line.starts_with("Test Case '") && line.contains("' started")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_on_both_platforms() {
        assert_eq!(
            verdict("Test Case '-[App.MathTests testAdds]' passed (0.001 seconds)."),
            Some(("App.MathTests testAdds", TestOutcome::Passed))
        );
        assert_eq!(
            verdict("Test Case 'MathTests.testMultiplies' failed (0.002 seconds)"),
            Some(("MathTests.testMultiplies", TestOutcome::Failed))
        );
        assert_eq!(
            verdict("Test Case 'MathTests.testAdds' started at 2024-01-01 10:00:00.000"),
            None
        );
        assert!(is_start("Test Case '-[App.MathTests testAdds]' started."));
        assert_eq!(verdict("Test Suite 'All tests' failed at 2024-01-01"), None);
    }
}
