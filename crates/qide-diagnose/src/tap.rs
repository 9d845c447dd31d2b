//! The Test Anything Protocol, which Perl's `prove`, tape, node-tap, bats,
//! git's test suite and many others print: `ok 3 - name` or `not ok 4 -
//! name`, perhaps with a `# SKIP` or `# TODO` directive. A failure's
//! details follow: `#` comment lines (Perl's `#   Failed test 'x'` and
//! `#   at t/x.t line 12.`, bats's `# (in test file t/x.bats, line 4)`) or
//! an indented YAML block between `---` and `...` (tape's `operator:`,
//! `expected:`, `actual:`, `at:`; node-tap's `message:` and `at:` with
//! `file:` and `line:`). From the protocol's specification and the tools'
//! documented output.

use crate::{
    Category, TestOutcome,
    sink::{FailedTest, Sink, Verdict},
    trim_indent,
};

/// A failure's range ends after this many detail lines.
const MAX_DETAIL_LINES: u32 = 40;
/// A YAML block is read to its `...` (a stack trace in it can be long) up
/// to this many lines, so a block never closed cannot swallow the log.
const MAX_YAML_LINES: u32 = 400;

/// A failed test whose details are still being read.
#[derive(Debug)]
pub(crate) struct Failure {
    name: String,
    /// The YAML block is open (`---` seen, `...` not yet).
    yaml: bool,
    /// The YAML block's `stack:` began: its frames are read but left out
    /// of the range (`at:` already said where the test failed).
    in_stack: bool,
    /// The detail that says what failed: a `message:`, bats's failed
    /// command, Perl's first comment after `Failed test`.
    detail: Option<String>,
    expected: Option<String>,
    actual: Option<String>,
    file: Option<String>,
    line: Option<u32>,
    log_lines: (u64, u64),
    lines: u32,
}

/// Reads `ok N …` and `not ok N …` (a test number is required, so prose
/// that starts with "ok" is left alone).
pub(crate) fn line(n: u64, line: &str, sink: &mut Sink) -> Option<Verdict<Failure>> {
    let t = trim_indent(line);
    let (ok, rest) = match t.as_bytes().first()? {
        b'o' => (true, t.strip_prefix("ok ")?),
        b'n' => (false, t.strip_prefix("not ok ")?),
        _ => return None,
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || rest.as_bytes().get(digits).is_some_and(|&b| b != b' ') {
        return None;
    }
    let after = rest[digits..].trim_start();
    let after = after.strip_prefix("- ").unwrap_or(after);
    let (description, directive) = match after.strip_prefix("# ") {
        Some(directive) => ("", Some(directive.trim_start().to_ascii_lowercase())),
        None => match after.split_once(" # ") {
            Some((d, directive)) => (d, Some(directive.trim_start().to_ascii_lowercase())),
            None => (after, None),
        },
    };
    let skipped = directive
        .as_deref()
        .is_some_and(|d| d.starts_with("skip") || d.starts_with("todo"));
    let description = description.trim();
    let name = if description.is_empty() {
        format!("test {}", &rest[..digits])
    } else {
        description.to_string()
    };
    if ok || skipped {
        let outcome = if skipped {
            TestOutcome::Skipped
        } else {
            TestOutcome::Passed
        };
        sink.outcome(n, "tap", &name, outcome);
        return Some(Verdict::Recorded);
    }
    Some(Verdict::Failed(Failure {
        name,
        yaml: false,
        in_stack: false,
        detail: None,
        expected: None,
        actual: None,
        file: None,
        line: None,
        log_lines: (n, n),
        lines: 0,
    }))
}

impl Failure {
    /// Offers the next line; returns whether it is one of the failure's
    /// details: a comment line, or the YAML block and what it holds.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        let limit = if self.yaml {
            MAX_YAML_LINES
        } else {
            MAX_DETAIL_LINES
        };
        if self.lines >= limit {
            return false;
        }
        let t = line.trim();
        if self.yaml {
            if t == "..." {
                self.yaml = false;
            } else if !line.starts_with(' ') && !t.is_empty() {
                return false;
            } else {
                self.yaml_line(t);
            }
        } else if t == "---" && line.starts_with(' ') {
            self.yaml = true;
        } else if let Some(comment) = t.strip_prefix('#') {
            self.comment(comment.trim());
        } else {
            return false;
        }
        self.lines += 1;
        if self.lines <= MAX_DETAIL_LINES && !self.in_stack && t != "..." {
            self.log_lines.1 = n;
        }
        true
    }

    /// One `key: value` line of the YAML block.
    fn yaml_line(&mut self, t: &str) {
        let Some((key, value)) = t.split_once(':') else {
            return;
        };
        let value = value.trim().trim_matches(['\'', '"']);
        // `|-` and `>` open a multi-line value, which stays in the range.
        let single = !value.is_empty() && !value.starts_with('|') && value != ">";
        if key == "stack" {
            self.in_stack = true;
        }
        match key {
            "message" if single => self.detail = Some(value.to_string()),
            "expected" if single => self.expected = Some(value.to_string()),
            "actual" | "found" if single => self.actual = Some(value.to_string()),
            "file" if single && self.file.is_none() => self.file = Some(value.to_string()),
            "line" if self.line.is_none() => self.line = value.parse().ok(),
            // tape: `at: Test.<anonymous> (/path/test.js:57:7)`.
            "at" if single && self.file.is_none() => self.locate_frame(value),
            _ => {}
        }
    }

    /// `name (/path/test.js:57:7)`: the place in the parentheses.
    fn locate_frame(&mut self, frame: &str) {
        let place = frame
            .rsplit_once('(')
            .map_or(frame, |(_, p)| p.trim_end_matches(')'));
        let mut parts = place.rsplitn(3, ':');
        let (Some(last), Some(middle)) = (parts.next(), parts.next()) else {
            return;
        };
        let (file, line) = match parts.next() {
            Some(file) => (file, middle),
            None => (middle, last),
        };
        if let Ok(line) = line.parse() {
            self.file = Some(file.to_string());
            self.line = Some(line);
        }
    }

    /// One comment line: Perl's `at t/x.t line 12.` and got/expected,
    /// bats's `(in test file t/x.bats, line 4)` and failed command.
    fn comment(&mut self, c: &str) {
        if let Some(place) = c
            .strip_prefix("(in test file ")
            .and_then(|p| p.strip_suffix(')'))
            && let Some((file, line)) = place.rsplit_once(", line ")
        {
            self.file.get_or_insert_with(|| file.to_string());
            self.line = self.line.or(line.parse().ok());
            return;
        }
        if let Some(place) = c.strip_prefix("at ")
            && let Some((file, line)) = place.trim_end_matches('.').rsplit_once(" line ")
            && let Ok(line) = line.parse()
        {
            if self.file.is_none() {
                self.file = Some(file.to_string());
                self.line = Some(line);
            }
            return;
        }
        if let Some(got) = c.strip_prefix("got:") {
            self.actual.get_or_insert_with(|| got.trim().to_string());
        } else if let Some(expected) = c.strip_prefix("expected:") {
            self.expected
                .get_or_insert_with(|| expected.trim().to_string());
        } else if !c.is_empty() && !c.starts_with("Failed test") && self.detail.is_none() {
            self.detail = Some(c.to_string());
        }
    }

    /// Records the failed test and its diagnostic.
    pub(crate) fn close(self, sink: &mut Sink) {
        let detail = match (self.expected, self.actual) {
            (Some(expected), Some(actual)) => Some(format!("expected {expected}, got {actual}")),
            _ => self.detail,
        };
        sink.failed_test(FailedTest {
            tool: "tap",
            category: Category::TestFailure,
            name: self.name,
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
    fn test_lines_need_a_number_and_prose_is_left_alone() {
        let mut sink = Sink::default();
        for line in [
            "ok  \tgithub.com/acme/app\t0.012s",
            "ok, that worked",
            "not ok",
            "ok 3x",
            "nothing ok 3",
        ] {
            assert!(super::line(1, line, &mut sink).is_none(), "{line}");
        }
        assert!(sink.tests.is_empty());
        assert!(matches!(
            super::line(1, "ok 1 - adds", &mut sink),
            Some(Verdict::Recorded)
        ));
        assert!(matches!(
            super::line(2, "not ok 2 - pending # TODO not yet", &mut sink),
            Some(Verdict::Recorded)
        ));
        assert!(matches!(
            super::line(3, "ok 3 # skip no network", &mut sink),
            Some(Verdict::Recorded)
        ));
        let outcomes: Vec<_> = sink
            .tests
            .iter()
            .map(|t| (t.name.as_str(), t.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("adds", TestOutcome::Passed),
                ("pending", TestOutcome::Skipped),
                ("test 3", TestOutcome::Skipped),
            ]
        );
    }
}
