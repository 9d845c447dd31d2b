//! `go test` output: `--- FAIL: TestX (0.00s)` with the indented
//! `x_test.go:12: message` lines that belong to it (after it by default,
//! before it with `-v`), `--- PASS`/`--- SKIP` lines and `FAIL pkg` summaries.

use std::sync::LazyLock;

use regex::Regex;

use crate::{
    Category, TestCase, TestOutcome,
    sink::{Draft, Sink},
};

static LOG: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s+(\S+\.go):(\d+): (.*)$").expect("valid regex")
});

/// A log line of a test: file, line, message.
type LogLine = (String, u32, String);

/// go test state that spans lines.
#[derive(Debug, Default)]
pub(crate) struct GoTest {
    /// The first `x_test.go:N: msg` line since the last `=== RUN`, which
    /// in `-v` output precedes the `--- FAIL` line it explains.
    last_log: Option<(LogLine, u64)>,
}

/// A `--- FAIL` whose indented log lines are still being read.
#[derive(Debug)]
pub(crate) struct Failure {
    name: String,
    start: u64,
    end: u64,
    log: Option<LogLine>,
}

impl GoTest {
    /// Handles a line outside any block: `Some(failure)` opens a failure
    /// block, `None` with `true` means the line was handled.
    pub(crate) fn line(&mut self, n: u64, line: &str, sink: &mut Sink) -> (Option<Failure>, bool) {
        let t = crate::trim_indent(line);
        if t.starts_with("=== RUN") {
            self.last_log = None;
            return (None, true);
        }
        if let Some((verdict, name)) = result(t) {
            let name = name.to_string();
            match verdict {
                "FAIL" => {
                    let (log, start) = match self.last_log.take() {
                        Some((log, at)) => (Some(log), at),
                        None => (None, n),
                    };
                    return (
                        Some(Failure {
                            name,
                            start,
                            end: n,
                            log,
                        }),
                        true,
                    );
                }
                kind => {
                    let outcome = if kind == "PASS" {
                        TestOutcome::Passed
                    } else {
                        TestOutcome::Skipped
                    };
                    sink.test(
                        n,
                        "go",
                        TestCase {
                            name,
                            outcome,
                            message: None,
                            file: None,
                            line: None,
                        },
                    );
                    self.last_log = None;
                    return (None, true);
                }
            }
        }
        if let Some(rest) = line.strip_prefix("FAIL\t") {
            let message = format!("FAIL {}", rest.replace('\t', " "));
            sink.emit(Draft::error("go", Category::TestFailure, message, (n, n)).cascade());
            return (None, true);
        }
        if has!(line, "_test.go:")
            && self.last_log.is_none()
            && let Some(log) = log_line(line)
        {
            self.last_log = Some((log, n));
            return (None, true);
        }
        (None, false)
    }
}

/// The verdict and test name of a `--- FAIL: TestX (0.00s)` line whose
/// leading space is trimmed, read as the regex
/// `^\s*--- (FAIL|PASS|SKIP): (\S+)` would (it ran on every `--- ` line,
/// and costs more than the rest of the line's reading): the name runs to
/// the first space, and what follows it does not matter.
fn result(t: &str) -> Option<(&str, &str)> {
    let rest = t.strip_prefix("--- ")?;
    let verdict = rest
        .get(..4)
        .filter(|v| matches!(*v, "FAIL" | "PASS" | "SKIP"))?;
    let rest = rest[4..].strip_prefix(": ")?;
    let name = rest.split(char::is_whitespace).next()?;
    (!name.is_empty()).then_some((verdict, name))
}

fn log_line(line: &str) -> Option<LogLine> {
    let caps = LOG.captures(line)?;
    Some((
        caps[1].to_string(),
        caps[2].parse().ok()?,
        caps[3].trim().to_string(),
    ))
}

impl Failure {
    /// Offers the next line; returns whether it is one of this test's
    /// indented log lines. A nested `--- FAIL` of a subtest is not.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        let t = crate::trim_indent(line);
        if t.len() == line.len() || t.starts_with("--- ") || t.starts_with("=== ") {
            return false;
        }
        if self.log.is_none() {
            self.log = log_line(line);
        }
        self.end = n;
        true
    }

    /// The finished failure. A test that logged nothing itself failed
    /// because of its subtests, which are reported on their own, so it is
    /// marked as a consequence.
    pub(crate) fn close(self, sink: &mut Sink) {
        let (message, file, line) = match &self.log {
            Some((file, line, message)) => (Some(message.clone()), Some(file.clone()), Some(*line)),
            None => (None, None, None),
        };
        let text = match &message {
            Some(m) => format!("{}: {m}", self.name),
            None => format!("{} failed", self.name),
        };
        let mut draft = Draft::error("go", Category::TestFailure, text, (self.start, self.end));
        draft.file = file.clone();
        draft.line = line;
        if self.log.is_none() {
            draft = draft.cascade();
        }
        sink.emit(draft);
        sink.test(
            self.start,
            "go",
            TestCase {
                name: self.name.clone(),
                outcome: TestOutcome::Failed,
                message,
                file,
                line,
            },
        );
        sink.test_diagnosed(&self.name);
    }
}

#[cfg(test)]
mod tests {
    use proptest::strategy::Strategy;

    use super::*;

    /// The regex [`result`] replaced, as an oracle.
    static RESULT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*--- (FAIL|PASS|SKIP): (\S+)(?: \([\d.]+s\))?").expect("valid regex")
    });

    fn reference(line: &str) -> Option<(String, String)> {
        let caps = RESULT.captures(line)?;
        Some((caps[1].to_string(), caps[2].to_string()))
    }

    proptest::proptest! {
        #[test]
        fn reads_results_as_the_regex_did(
            line in proptest::collection::vec(
                proptest::sample::select(vec![
                    " ", "\t", "\u{a0}", "\u{3000}", "--- ", "---", "FAIL", "PASS", "SKIP",
                    "FAI", ": ", ":", "TestX", "é", "/sub", " (0.00s)", "x",
                ]),
                0..7,
            )
            .prop_map(|parts| parts.concat())
        ) {
            let ours = result(line.trim_start()).map(|(v, n)| (v.to_string(), n.to_string()));
            proptest::prop_assert_eq!(ours, reference(&line), "{:?}", line);
        }
    }

    #[test]
    fn reads_a_result_line() {
        assert_eq!(
            result("--- FAIL: TestAdd/negative (0.00s)"),
            Some(("FAIL", "TestAdd/negative"))
        );
        assert_eq!(
            result("--- PASS: TestAdd\u{a0}x"),
            Some(("PASS", "TestAdd"))
        );
        assert_eq!(result("--- FAIL: "), None);
        assert_eq!(result("--- a/src/main.go"), None);
    }
}
