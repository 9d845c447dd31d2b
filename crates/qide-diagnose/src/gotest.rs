//! `go test` output: `--- FAIL: TestX (0.00s)` with the indented
//! `x_test.go:12: message` lines that belong to it (after it by default,
//! before it with `-v`), `--- PASS`/`--- SKIP` lines and `FAIL pkg` summaries.

use std::sync::LazyLock;

use regex::Regex;

use crate::{
    Category, TestCase, TestOutcome,
    sink::{Draft, Sink},
};

static RESULT: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s*--- (FAIL|PASS|SKIP): (\S+)(?: \([\d.]+s\))?").expect("valid regex")
});
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
        let t = line.trim_start();
        if t.starts_with("=== RUN") {
            self.last_log = None;
            return (None, true);
        }
        if t.starts_with("--- ")
            && let Some(caps) = RESULT.captures(line)
        {
            let name = caps[2].to_string();
            match &caps[1] {
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
        if line.contains("_test.go:")
            && self.last_log.is_none()
            && let Some(log) = log_line(line)
        {
            self.last_log = Some((log, n));
            return (None, true);
        }
        (None, false)
    }
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
        let t = line.trim_start();
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
