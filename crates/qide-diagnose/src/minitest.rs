//! Ruby's minitest (Rails' default): after the run, each problem is
//! numbered, `  1) Failure:` (an assertion) or `  2) Error:` (an exception)
//! or `  3) Skipped:`, then `MathTest#test_multiplies [test/math_test.rb:8]:`
//! (an error names no place there), the message, and for an error the
//! backtrace, `    test/math_test.rb:12:in 'test_raises'`. From minitest's
//! documented output (no Ruby on this machine).

use crate::{
    Category, TestCase, TestOutcome,
    sink::{FailedTest, Sink},
    trim_indent,
};

/// A problem's text longer than this many lines is cut there.
const MAX_PROBLEM_LINES: u32 = 40;

/// A numbered problem whose test, message and backtrace are still being read.
#[derive(Debug)]
pub(crate) struct Problem {
    skipped: bool,
    error: bool,
    name: Option<String>,
    message: Vec<String>,
    file: Option<String>,
    line: Option<u32>,
    log_lines: (u64, u64),
    lines: u32,
}

/// `  1) Failure:`, `  2) Error:` or `  3) Skipped:`.
pub(crate) fn start(n: u64, line: &str) -> Option<Problem> {
    let t = trim_indent(line);
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let (error, skipped) = match &t[digits..] {
        ") Failure:" => (false, false),
        ") Error:" => (true, false),
        ") Skipped:" => (false, true),
        _ => return None,
    };
    Some(Problem {
        skipped,
        error,
        name: None,
        message: Vec::new(),
        file: None,
        line: None,
        log_lines: (n, n),
        lines: 0,
    })
}

impl Problem {
    /// Offers the next line; returns whether it belongs to the problem:
    /// its test line, then everything up to a blank line.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        let t = line.trim();
        if t.is_empty() || self.lines >= MAX_PROBLEM_LINES {
            return false;
        }
        self.lines += 1;
        self.log_lines.1 = n;
        if self.name.is_none() {
            let head = t.strip_suffix(':').unwrap_or(t);
            match head.strip_suffix(']').and_then(|h| h.rsplit_once(" [")) {
                Some((name, place)) => {
                    self.name = Some(name.to_string());
                    self.place(place);
                }
                None => self.name = Some(head.to_string()),
            }
        } else if self.error && line.starts_with("    ") {
            // A backtrace frame: `test/math_test.rb:12:in 'test_raises'`.
            if self.file.is_none()
                && let Some((place, _)) = t.split_once(":in ")
            {
                self.place(place);
            }
        } else if self.message.len() < 3 {
            self.message.push(t.to_string());
        }
        true
    }

    /// `path:line`.
    fn place(&mut self, place: &str) {
        if let Some((file, number)) = place.rsplit_once(':')
            && let Ok(number) = number.parse()
        {
            self.file = Some(file.to_string());
            self.line = Some(number);
        }
    }

    /// Records the test's outcome and, for a failure or an error, its
    /// diagnostic.
    pub(crate) fn close(self, sink: &mut Sink) {
        let Some(name) = self.name else { return };
        let detail = self.message.join(" ");
        let detail = (!detail.is_empty()).then_some(detail);
        if self.skipped {
            let case = TestCase {
                name,
                outcome: TestOutcome::Skipped,
                message: detail,
                file: self.file,
                line: self.line,
            };
            sink.test(self.log_lines.0, "minitest", case);
            return;
        }
        sink.failed_test(FailedTest {
            tool: "minitest",
            category: if self.error {
                Category::Crash
            } else {
                Category::TestFailure
            },
            name,
            detail,
            file: self.file,
            line: self.line,
            log_lines: self.log_lines,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_verdicts() {
        assert!(start(1, "  1) Failure:").is_some());
        assert!(start(1, "  12) Error:").is_some());
        assert!(start(1, "  1) Failure: in the build").is_none());
        assert!(start(1, "1) MathTest adds").is_none());
    }
}
