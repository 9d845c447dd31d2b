//! Pester, PowerShell's test runner. Each test's verdict is one line, `[+]`
//! passed, `[-]` failed, `[!]` skipped, then the name and its time
//! (`    [-] returns a thing 54ms` in Pester 4, `[-] Get-Thing.returns a
//! thing 45ms (42ms|3ms)` in Pester 5); a failure's message and its
//! `at <ScriptBlock>, path: line 12` frames follow. From Pester's
//! documented output and real CI logs (PowerShell is not on this machine).

use crate::{
    Category, TestOutcome,
    sink::{FailedTest, Sink, Verdict},
};

/// A failure's details longer than this many lines are cut there.
const MAX_DETAIL_LINES: u32 = 30;

/// A failed test whose message and frames are still being read.
#[derive(Debug)]
pub(crate) struct Failure {
    name: String,
    message: Option<String>,
    file: Option<String>,
    line: Option<u32>,
    /// Whether the location came from a test file's frame, which a later
    /// frame may not replace.
    in_test_file: bool,
    log_lines: (u64, u64),
    lines: u32,
}

/// Reads a line that may be a verdict: `[+]`, `[-]` or `[!]`, indented or
/// not, then the test's name and either its time (`54ms`, `1.2s`, Pester 5's
/// `(42ms|3ms)` after it) or, for a failure, ` -> ` and the message.
pub(crate) fn line(n: u64, line: &str, sink: &mut Sink) -> Option<Verdict<Failure>> {
    let t = crate::trim_indent(line);
    let outcome = match t.get(..4)? {
        "[+] " => TestOutcome::Passed,
        "[-] " => TestOutcome::Failed,
        "[!] " => TestOutcome::Skipped,
        _ => return None,
    };
    let rest = t[4..].trim_end();
    let (name, message) = match rest.split_once(" -> ") {
        Some((name, message)) if outcome == TestOutcome::Failed => {
            (name.trim_start_matches("- "), Some(message.trim()))
        }
        _ => (without_time(rest)?, None),
    };
    if name.is_empty() {
        return None;
    }
    if outcome != TestOutcome::Failed {
        sink.outcome(n, "pester", name, outcome);
        return Some(Verdict::Recorded);
    }
    Some(Verdict::Failed(Failure {
        name: name.to_string(),
        message: message.filter(|m| !m.is_empty()).map(str::to_string),
        file: None,
        line: None,
        in_test_file: false,
        log_lines: (n, n),
        lines: 0,
    }))
}

/// The name before a test's time (`returns a thing 54ms`, `x 1.2s`,
/// `x 45ms (42ms|3ms)`); `None` when the line does not end in one, as a
/// docker build's `[+] Building 12.3s (8/8) FINISHED` does not.
fn without_time(rest: &str) -> Option<&str> {
    let rest = match rest.rsplit_once(" (") {
        Some((before, split)) if split.ends_with(')') && split.contains('|') => before,
        _ => rest,
    };
    let (name, time) = rest.rsplit_once(' ')?;
    let number = time.strip_suffix("ms").or_else(|| time.strip_suffix('s'))?;
    let is_number = !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && number.bytes().next().is_some_and(|b| b.is_ascii_digit());
    is_number.then_some(name.trim_end())
}

impl Failure {
    /// Offers the next line; returns whether it is part of the failure: its
    /// message and frames, up to a blank line or the next verdict.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        let t = line.trim();
        if t.is_empty()
            || self.lines >= MAX_DETAIL_LINES
            || ["[+] ", "[-] ", "[!] "].iter().any(|v| t.starts_with(v))
            || t.starts_with("Tests completed in ")
            || t.starts_with("Describing ")
            || t.starts_with("Context ")
        {
            return false;
        }
        self.lines += 1;
        self.log_lines.1 = n;
        if let Some(frame) = t.strip_prefix("at ") {
            self.locate(frame);
        } else if self.message.is_none() {
            self.message = Some(t.to_string());
        }
        true
    }

    /// A frame's place: `<ScriptBlock>, path: line 12` (Pester 4) or
    /// `<ScriptBlock>, path:12` (Pester 5). The first frame in a test file
    /// wins; until one is seen, the first frame with a place.
    fn locate(&mut self, frame: &str) {
        let Some((_, place)) = frame.rsplit_once(", ") else {
            return;
        };
        let (file, number) = match place.rsplit_once(": line ") {
            Some(found) => found,
            None => match place.rsplit_once(':') {
                Some(found) => found,
                None => return,
            },
        };
        let Ok(number) = number.trim().parse::<u32>() else {
            return;
        };
        if !(file.ends_with(".ps1") || file.ends_with(".psm1")) {
            return;
        }
        let in_test_file = file.contains(".Tests.") || file.contains(".tests.");
        if self.file.is_none() || (in_test_file && !self.in_test_file) {
            self.file = Some(file.to_string());
            self.line = Some(number);
            self.in_test_file = in_test_file;
        }
    }

    /// Records the failed test and its diagnostic.
    pub(crate) fn close(self, sink: &mut Sink) {
        sink.failed_test(FailedTest {
            tool: "pester",
            category: Category::TestFailure,
            name: self.name,
            detail: self.message,
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
    fn times_end_verdicts_and_lookalikes_are_left_alone() {
        assert_eq!(
            without_time("returns a thing 54ms"),
            Some("returns a thing")
        );
        assert_eq!(
            without_time("Get-Thing.works 45ms (42ms|3ms)"),
            Some("Get-Thing.works")
        );
        assert_eq!(without_time("slow one 1.25s"), Some("slow one"));
        assert_eq!(without_time("Building 12.3s (8/8) FINISHED"), None);
        assert_eq!(without_time("Running 3/3"), None);
        assert_eq!(without_time("no time at all"), None);
        let mut sink = Sink::default();
        for line in [
            "[+] Building 12.3s (8/8) FINISHED",
            "[+] Running 3/3",
            "[-]",
            "[x] done 3ms",
        ] {
            assert!(super::line(1, line, &mut sink).is_none(), "{line}");
        }
        assert!(sink.tests.is_empty());
    }
}
