//! `dotnet test`'s console logger (xUnit, NUnit and MSTest alike): `  Failed
//! Name [12 ms]`, then `  Error Message:` with the assertion's text and
//! `  Stack Trace:` with `at Method() in /path/File.cs:line 14` frames;
//! `  Passed Name [1 ms]` and `  Skipped Name [1 ms]` at detailed verbosity;
//! and the closing `Failed!  - Failed: 1, Passed: 2, …` line, which only
//! counts. From the logger's documented output (no .NET on this machine).

use crate::{
    Category, TestOutcome,
    sink::{FailedTest, Sink, Verdict},
    trim_indent,
};

/// A failure's details longer than this many lines are cut there.
const MAX_DETAIL_LINES: u32 = 40;

/// `  Failed Name [12 ms]` (or `Passed`, `Skipped`).
pub(crate) fn line(n: u64, line: &str, sink: &mut Sink) -> Option<Verdict<Failure>> {
    if !line.starts_with("  ") || !line.ends_with(']') {
        return None;
    }
    let t = trim_indent(line);
    let (outcome, rest) = if let Some(rest) = t.strip_prefix("Failed ") {
        (TestOutcome::Failed, rest)
    } else if let Some(rest) = t.strip_prefix("Passed ") {
        (TestOutcome::Passed, rest)
    } else if let Some(rest) = t.strip_prefix("Skipped ") {
        (TestOutcome::Skipped, rest)
    } else {
        return None;
    };
    let (name, time) = rest.strip_suffix(']')?.rsplit_once(" [")?;
    let timed = time.bytes().any(|b| b.is_ascii_digit())
        && (time.ends_with("ms") || time.ends_with(" s") || time.ends_with(" m"));
    if !timed || name.is_empty() {
        return None;
    }
    if outcome != TestOutcome::Failed {
        sink.outcome(n, "dotnet", name, outcome);
        return Some(Verdict::Recorded);
    }
    Some(Verdict::Failed(Failure {
        name: name.to_string(),
        part: Part::Before,
        message: Vec::new(),
        file: None,
        line: None,
        log_lines: (n, n),
        lines: 0,
    }))
}

/// Which part of a failure is being read.
#[derive(Debug, PartialEq)]
enum Part {
    Before,
    Message,
    Stack,
}

/// A failed test whose message and stack trace are still being read.
#[derive(Debug)]
pub(crate) struct Failure {
    name: String,
    part: Part,
    message: Vec<String>,
    file: Option<String>,
    line: Option<u32>,
    log_lines: (u64, u64),
    lines: u32,
}

impl Failure {
    /// Offers the next line; returns whether it is part of the failure: the
    /// `Error Message:` and `Stack Trace:` sections and what they hold, up
    /// to a blank line or the next result.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        let t = line.trim();
        if self.lines >= MAX_DETAIL_LINES || t.is_empty() {
            return false;
        }
        if t == "Error Message:" {
            self.part = Part::Message;
        } else if t == "Stack Trace:" {
            self.part = Part::Stack;
        } else {
            match self.part {
                Part::Before => return false,
                Part::Message => {
                    if is_result(line) {
                        return false;
                    }
                    if self.message.len() < 3 {
                        self.message.push(t.to_string());
                    }
                }
                Part::Stack => {
                    if !t.starts_with("at ") {
                        return false;
                    }
                    self.locate(t);
                }
            }
        }
        self.lines += 1;
        self.log_lines.1 = n;
        true
    }

    /// The first frame with a place: `at M() in /path/File.cs:line 14`.
    fn locate(&mut self, frame: &str) {
        if self.file.is_some() {
            return;
        }
        if let Some((_, place)) = frame.rsplit_once(" in ")
            && let Some((file, number)) = place.rsplit_once(":line ")
            && let Ok(number) = number.trim().parse()
        {
            self.file = Some(file.to_string());
            self.line = Some(number);
        }
    }

    /// Records the failed test and its diagnostic.
    pub(crate) fn close(self, sink: &mut Sink) {
        let detail = self.message.join(" ");
        sink.failed_test(FailedTest {
            tool: "dotnet",
            category: Category::TestFailure,
            name: self.name,
            detail: (!detail.is_empty()).then_some(detail),
            file: self.file,
            line: self.line,
            log_lines: self.log_lines,
        });
    }
}

/// Whether `line` is another test's result line.
fn is_result(line: &str) -> bool {
    let t = trim_indent(line);
    line.starts_with("  ")
        && line.ends_with(']')
        && (t.starts_with("Failed ") || t.starts_with("Passed ") || t.starts_with("Skipped "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_need_their_time_and_indent() {
        let mut sink = Sink::default();
        for line in [
            "Failed!  - Failed:     1, Passed:     1, Skipped:     0, Total:     2",
            "  Failed to restore /home/ci/app/App.csproj [/home/ci/app/App.sln]",
            "Failed Name [12 ms]",
            "  Passed the checks [warnings]",
        ] {
            assert!(super::line(1, line, &mut sink).is_none(), "{line}");
        }
        assert!(matches!(
            super::line(1, "  Passed App.Tests.Adds [< 1 ms]", &mut sink),
            Some(Verdict::Recorded)
        ));
        assert!(matches!(
            super::line(
                2,
                "  Failed App.Tests.Multiplies(a: 2, b: 2) [12 ms]",
                &mut sink
            ),
            Some(Verdict::Failed(_))
        ));
        assert_eq!(sink.tests.len(), 1);
    }
}
