//! GoogleTest: `[ RUN      ] Suite.Test` starts a test and `[       OK ]`,
//! `[  FAILED  ]` or `[  SKIPPED ]` with its time ends it; a failed
//! assertion prints `path:line: Failure` (`unknown file: Failure` for an
//! exception) and its explanation in between. The closing lists repeat the
//! names without a time. Captured from GoogleTest 1.12.

use crate::{
    Category, TestOutcome,
    sink::{Draft, FailedTest, Sink},
};

/// An assertion's explanation longer than this many lines is cut there.
const MAX_EXPLANATION_LINES: u32 = 30;

/// `[ RUN      ] Suite.Test`: the test that starts.
pub(crate) fn run_line(line: &str) -> Option<&str> {
    let name = line.strip_prefix("[ RUN      ] ")?.trim();
    (!name.is_empty()).then_some(name)
}

/// `[       OK ] Suite.Test (0 ms)` and the like: the outcome, the name and
/// whether it was timed (the closing lists name tests without a time).
pub(crate) fn verdict(line: &str) -> Option<(TestOutcome, &str, bool)> {
    let (outcome, rest) = if let Some(rest) = line.strip_prefix("[       OK ] ") {
        (TestOutcome::Passed, rest)
    } else if let Some(rest) = line.strip_prefix("[  FAILED  ] ") {
        (TestOutcome::Failed, rest)
    } else if let Some(rest) = line.strip_prefix("[  SKIPPED ] ") {
        (TestOutcome::Skipped, rest)
    } else {
        return None;
    };
    let rest = rest.trim_end();
    match rest.strip_suffix(" ms)").and_then(|r| r.rsplit_once(" (")) {
        Some((name, ms)) if ms.bytes().all(|b| b.is_ascii_digit()) => Some((outcome, name, true)),
        _ => Some((outcome, rest, false)),
    }
}

/// An assertion that failed, whose explanation is still being read.
#[derive(Debug)]
pub(crate) struct Failure {
    test: Option<String>,
    file: Option<String>,
    line: Option<u32>,
    explanation: Vec<String>,
    log_lines: (u64, u64),
    lines: u32,
}

/// `path:line: Failure` or `unknown file: Failure`, in the test `test`.
pub(crate) fn failure_start(n: u64, line: &str, test: Option<String>) -> Option<Failure> {
    let place = line.strip_suffix(": Failure")?;
    let (file, number) = if place == "unknown file" {
        (None, None)
    } else {
        let (file, number) = place.rsplit_once(':')?;
        (Some(file.to_string()), Some(number.parse::<u32>().ok()?))
    };
    Some(Failure {
        test,
        file,
        line: number,
        explanation: Vec::new(),
        log_lines: (n, n),
        lines: 0,
    })
}

impl Failure {
    /// Offers the next line; returns whether it explains the failure: every
    /// line up to the next of GoogleTest's own (`[ … ]`) or another
    /// assertion's.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        if self.lines >= MAX_EXPLANATION_LINES
            || line.starts_with('[')
            || line.ends_with(": Failure")
        {
            return false;
        }
        self.lines += 1;
        let t = line.trim();
        if !t.is_empty() {
            self.log_lines.1 = n;
            if self.explanation.len() < 4 {
                self.explanation.push(t.to_string());
            }
        }
        true
    }

    /// The test it failed, if known.
    pub(crate) fn test(&self) -> Option<&str> {
        self.test.as_deref()
    }

    /// Records the failed test and its diagnostic.
    pub(crate) fn close(self, sink: &mut Sink) {
        let explanation = self.explanation.join(" ");
        let detail = (!explanation.is_empty()).then_some(explanation);
        match self.test {
            Some(name) => sink.failed_test(FailedTest {
                tool: "gtest",
                category: Category::TestFailure,
                name,
                detail,
                file: self.file,
                line: self.line,
                log_lines: self.log_lines,
            }),
            // An assertion outside any test (a global fixture's).
            None => {
                let message = detail.unwrap_or_else(|| "assertion failed".to_string());
                let mut draft =
                    Draft::error("gtest", Category::TestFailure, message, self.log_lines);
                draft.file = self.file;
                draft.line = self.line;
                sink.emit(draft);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_places() {
        assert_eq!(
            run_line("[ RUN      ] MathTest.Adds"),
            Some("MathTest.Adds")
        );
        assert_eq!(
            verdict("[  FAILED  ] MathTest.Multiplies (12 ms)"),
            Some((TestOutcome::Failed, "MathTest.Multiplies", true))
        );
        assert_eq!(
            verdict("[  FAILED  ] MathTest.Multiplies"),
            Some((TestOutcome::Failed, "MathTest.Multiplies", false))
        );
        assert_eq!(verdict("[  PASSED  ] 1 test."), None);
        let failure = failure_start(3, "test/math_test.cc:4: Failure", None).expect("a place");
        assert_eq!(
            (failure.file.as_deref(), failure.line),
            (Some("test/math_test.cc"), Some(4))
        );
        let unknown = failure_start(3, "unknown file: Failure", None).expect("no place");
        assert_eq!((unknown.file, unknown.line), (None, None));
        assert!(failure_start(3, "Build Failure", None).is_none());
        assert!(failure_start(3, "a.cc:x: Failure", None).is_none());
    }
}
