//! cargo-nextest's human output: one status line per test
//! (`        PASS [   0.023s] (2/3) crate tests::name`, also `FAIL`,
//! `SIGSEGV`, `TIMEOUT`, `LEAK`, `FLAKY`, `SKIP`, `TRY 2 FAIL`), each
//! failure followed by the test's captured `stdout ───`/`stderr ───`
//! indented by four spaces, and a `Summary` that repeats the failures.
//!
//! A failure's diagnostic spans its status line and the captured output
//! up to the panic message; the test is named as nextest names it, the
//! binary then the test (`nexcalc tests::it_fails`). The status lines after
//! `Summary` repeat what was already read and `error: test run failed`
//! only says that some test failed: neither is a root cause.

use std::sync::LazyLock;

use regex::Regex;

use crate::{
    Category, TestCase, TestOutcome,
    sink::{Draft, Sink},
};

static STATUS: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(
        r"^\s*(PASS|FAIL|SIGSEGV|SIGABRT|SIGBUS|SIGILL|SIGKILL|SIGTERM|TIMEOUT|LEAK|LEAK-FAIL|FLAKY|SKIP|ABORT|(?:TRY \d+ (?:FAIL|PASS|SIGSEGV|SIGABRT|TIMEOUT))|(?:\d+/\d+ PASS)) \[\s*[\d.]+s\] (?:\(\s*\d+/\s*\d+\) )?(\S+) (\S.*?)\s*$",
    )
    .expect("valid regex")
});
static PANIC: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^thread '[^']*'(?: \(\d+\))? panicked at ([^\s:'][^:']*?):(\d+):(\d+):?\s*$")
        .expect("valid regex")
});

/// Lines of captured output one failure may span before it is closed.
const MAX_SECTION_LINES: u64 = 400;

/// nextest state across lines.
#[derive(Debug, Default)]
pub(crate) struct Nextest {
    /// A `Summary [` line was read: status lines now repeat earlier ones.
    in_summary: bool,
    /// A status line was read, so this log is nextest's.
    seen: bool,
}

/// What [`Nextest::line`] made of a line.
pub(crate) enum Line {
    /// A failure whose captured output follows.
    Failure(Failure),
    /// Taken: a passing or skipped test, the summary, a repeat.
    Handled,
}

impl Nextest {
    /// Reads a line that may be nextest's.
    pub(crate) fn line(&mut self, n: u64, line: &str, sink: &mut Sink) -> Option<Line> {
        let t = crate::trim_indent(line);
        if t.starts_with("Summary [") {
            self.in_summary = self.seen;
            return self.seen.then_some(Line::Handled);
        }
        if self.seen && t == "error: test run failed" {
            sink.emit(
                Draft::error("nextest", Category::TestFailure, t.to_string(), (n, n)).cascade(),
            );
            return Some(Line::Handled);
        }
        if !is_status(t) {
            return None;
        }
        let caps = STATUS.captures(line)?;
        self.seen = true;
        let status = &caps[1];
        let name = format!("{} {}", &caps[2], &caps[3]);
        if self.in_summary {
            return Some(Line::Handled);
        }
        let outcome = if status.starts_with("TRY ") {
            // A retry's attempt: the final status line gives the verdict.
            return Some(Line::Handled);
        } else if status == "SKIP" {
            TestOutcome::Skipped
        } else if status.ends_with("PASS") || status == "FLAKY" || status == "LEAK" {
            TestOutcome::Passed
        } else {
            TestOutcome::Failed
        };
        let case = TestCase {
            name: name.clone(),
            outcome,
            message: None,
            file: None,
            line: None,
        };
        sink.test(n, "nextest", case);
        if outcome != TestOutcome::Failed {
            return Some(Line::Handled);
        }
        let category = match status {
            "TIMEOUT" => Category::Timeout,
            s if s.starts_with("SIG") || s == "ABORT" => Category::Crash,
            _ => Category::TestFailure,
        };
        Some(Line::Failure(Failure {
            name,
            status: status.to_string(),
            category,
            start: n,
            end: n,
            file: None,
            line: None,
            column: None,
            message: None,
            want_message: false,
        }))
    }
}

/// Whether a trimmed line may be a status line: a cheap test before the
/// regex.
fn is_status(t: &str) -> bool {
    t.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && t.contains("s] ")
        && STATUS.is_match(t)
}

/// A failed test whose captured output is still being read.
#[derive(Debug)]
pub(crate) struct Failure {
    name: String,
    status: String,
    category: Category,
    start: u64,
    end: u64,
    file: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
    message: Option<String>,
    /// The panic header was read; its message is the next line.
    want_message: bool,
}

impl Failure {
    /// Offers the next line: the captured output is indented or blank, and
    /// `stdout ───`/`stderr ───` headers are indented by two.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        if n.saturating_sub(self.start) > MAX_SECTION_LINES {
            return false;
        }
        if !line.is_empty() && !line.starts_with("  ") {
            return false;
        }
        let t = line.trim();
        // The next test's status line is indented too.
        if t.starts_with("Summary [") || is_status(t) {
            return false;
        }
        if self.want_message && !t.is_empty() {
            self.message = Some(t.to_string());
            self.want_message = false;
            self.end = n;
        } else if self.file.is_none()
            && t.starts_with("thread '")
            && let Some(caps) = PANIC.captures(t)
        {
            self.file = Some(caps[1].to_string());
            self.line = caps[2].parse().ok();
            self.column = caps[3].parse().ok();
            self.want_message = true;
            self.end = n;
        } else if self.message.is_none() && t.starts_with("Error: ") {
            // A test that returns `Err` prints its Debug form.
            self.message = Some(t.to_string());
            self.end = n;
        }
        true
    }

    /// Emits the failure and completes its test case.
    pub(crate) fn close(self, sink: &mut Sink) {
        let message = match &self.message {
            Some(m) => format!("{}: {m}", self.name),
            None => format!("{} {}", self.name, self.status.to_ascii_lowercase()),
        };
        let mut draft = Draft::error("nextest", self.category, message, (self.start, self.end));
        draft.file = self.file.clone();
        draft.line = self.line;
        draft.column = self.column;
        sink.emit(draft);
        sink.test(
            self.start,
            "nextest",
            TestCase {
                name: self.name.clone(),
                outcome: TestOutcome::Failed,
                message: self.message,
                file: self.file,
                line: self.line,
            },
        );
        sink.test_diagnosed(&self.name);
    }
}
