//! cargo test / libtest output: `test x ... ok` lines, `---- x stdout ----`
//! failure sections with their panic location and message, and panics of
//! programs outside any test.

use std::sync::LazyLock;

use regex::Regex;

use crate::{Category, TestCase, TestOutcome, sink::Draft};

static RESULT: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^test (.+?) \.\.\. (ok|FAILED|ignored(?:, .*)?)\s*$").expect("valid regex")
});
static SECTION: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^---- (.+?) std(?:out|err) ----\s*$").expect("valid regex")
});
/// Rust ≥ 1.73 prints the message on the next line; older ones inline it.
static PANIC: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(
        r"^thread '([^']*)'(?: \(\d+\))? panicked at (?:'(.*)', )?([^\s:'][^:']*?):(\d+):(\d+):?\s*$",
    )
    .expect("valid regex")
});

/// rustc's ` --> file:line:col` under an error, as printed in the section
/// of a doctest that does not compile.
static ARROW: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s*--> ([^\s:][^:]*):(\d+):(\d+)\s*$").expect("valid regex")
});

/// A test outcome line such as `test tests::add ... ok`.
pub(crate) fn result_line(line: &str) -> Option<TestCase> {
    if !line.starts_with("test ") {
        return None;
    }
    let caps = RESULT.captures(line)?;
    let outcome = match &caps[2] {
        "ok" => TestOutcome::Passed,
        "FAILED" => TestOutcome::Failed,
        _ => TestOutcome::Skipped,
    };
    Some(TestCase {
        name: caps[1].to_string(),
        outcome,
        message: None,
        file: None,
        line: None,
    })
}

/// `test result: FAILED. …`, the summary after the failures.
pub(crate) fn summary_line(n: u64, line: &str) -> Option<Draft> {
    let rest = line.strip_prefix("test result: FAILED")?;
    let message = format!("test result: FAILED{rest}");
    Some(Draft::error("libtest", Category::TestFailure, message, (n, n)).cascade())
}

/// A failure section or a bare panic whose lines are still being read.
#[derive(Debug)]
pub(crate) struct Section {
    /// The test's name; `None` for a panic outside libtest.
    test: Option<String>,
    thread: Option<String>,
    start: u64,
    end: u64,
    file: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
    message: Option<String>,
    /// The panic header was seen and its message is on the next line.
    want_message: bool,
    /// A compiler error was read (a doctest that does not compile): its
    /// first ` --> file:line:col` is where the failure is.
    compile_error: bool,
}

/// Opens a section at `---- name stdout ----`.
pub(crate) fn section_start(n: u64, line: &str) -> Option<Section> {
    if !line.starts_with("---- ") {
        return None;
    }
    let caps = SECTION.captures(line)?;
    Some(Section::new(Some(caps[1].to_string()), n))
}

/// Opens a bare-panic section at a `thread 'main' panicked at …` line that
/// is not inside a test's section.
pub(crate) fn bare_panic(n: u64, line: &str) -> Option<Section> {
    if !line.starts_with("thread '") {
        return None;
    }
    let mut section = Section::new(None, n);
    section.feed(n, line).then_some(section)
}

impl Section {
    fn new(test: Option<String>, start: u64) -> Section {
        Section {
            test,
            thread: None,
            start,
            end: start,
            file: None,
            line: None,
            column: None,
            message: None,
            want_message: false,
            compile_error: false,
        }
    }

    /// Offers the next line; returns whether it belongs to this section.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        let ends_section = line == "failures:"
            || line == "successes:"
            || line.starts_with("test result: ")
            || (line.starts_with("---- ") && SECTION.is_match(line));
        if n != self.start && ends_section {
            return false;
        }
        if self.test.is_none() && n != self.start && !self.want_message {
            // A bare panic is its header and message; the rest is backtrace
            // and notes, which we let other parsers see.
            return false;
        }
        if self.want_message {
            if !line.trim().is_empty() {
                self.message = Some(line.trim().to_string());
                self.want_message = false;
                self.end = n;
            }
            return true;
        }
        if line.starts_with("thread '")
            && self.file.is_none()
            && let Some(caps) = PANIC.captures(line)
        {
            self.thread = Some(caps[1].to_string());
            self.file = Some(caps[3].to_string());
            self.line = caps[4].parse().ok();
            self.column = caps[5].parse().ok();
            match caps.get(2) {
                Some(message) => self.message = Some(message.as_str().to_string()),
                None => self.want_message = true,
            }
            self.end = n;
            return true;
        }
        if self.test.is_some() && self.file.is_none() {
            if !self.compile_error
                && line.starts_with("error")
                && !line.starts_with("error: aborting")
            {
                self.compile_error = true;
                self.message = Some(line.to_string());
            } else if self.compile_error
                && line.trim_start().starts_with("--> ")
                && let Some(caps) = ARROW.captures(line)
            {
                self.file = Some(caps[1].to_string());
                self.line = caps[2].parse().ok();
                self.column = caps[3].parse().ok();
            }
        }
        if self.message.is_none() && line.starts_with("Error: ") {
            // A test returning `Err` prints it with its Debug format.
            self.message = Some(line.to_string());
        }
        if !line.trim().is_empty() {
            self.end = n;
        }
        true
    }

    /// The finished failure: a diagnostic and, for a test, its test case.
    pub(crate) fn close(self) -> (Draft, Option<TestCase>) {
        let (tool, category, name) = match &self.test {
            Some(name) => ("libtest", Category::TestFailure, name.clone()),
            None => (
                "rust",
                Category::Crash,
                format!(
                    "thread '{}' panicked",
                    self.thread.as_deref().unwrap_or("?")
                ),
            ),
        };
        let message = match &self.message {
            Some(m) => format!("{name}: {m}"),
            None if self.test.is_some() => format!("{name} failed"),
            None => name.clone(),
        };
        let mut draft = Draft::error(tool, category, message, (self.start, self.end));
        draft.file = self.file.clone();
        draft.line = self.line;
        draft.column = self.column;
        let case = self.test.map(|name| TestCase {
            name,
            outcome: TestOutcome::Failed,
            message: self.message,
            file: self.file,
            line: self.line,
        });
        (draft, case)
    }
}
