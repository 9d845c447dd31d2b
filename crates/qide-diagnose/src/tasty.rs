//! Haskell's tasty: a tree of test groups, each test on its own line as
//! `name:` padded to a column and its verdict, `OK (0.03s)` or
//! `FAIL (0.06s)`; a failure's details follow, indented under it. From
//! tasty's documented output and real CI logs (GHC is not on this machine).

use crate::{
    Category,
    sink::{FailedTest, Sink},
};

/// A failure's details longer than this many lines are cut there.
const MAX_DETAIL_LINES: u32 = 40;

/// A failed test whose details are still being read.
#[derive(Debug)]
pub(crate) struct Failure {
    name: String,
    /// The test line's indentation: details are indented deeper.
    indent: usize,
    message: Option<String>,
    log_lines: (u64, u64),
    lines: u32,
}

/// `      tables:          FAIL (0.06s)`: opens the failure.
pub(crate) fn start(n: u64, line: &str) -> Option<Failure> {
    // Many lines end in `)`: the verdict is found from the last `(`, and
    // nothing is searched unless it follows ` FAIL `.
    let t = line;
    let before = match t.strip_suffix(')') {
        Some(timed) => {
            let open = timed.rfind('(')?;
            let before = timed[..open].strip_suffix(" FAIL ")?;
            is_seconds(&timed[open + 1..]).then_some(before)?
        }
        None => t.strip_suffix(" FAIL")?,
    };
    let name = before.trim_end().strip_suffix(':')?;
    let indent = name.len() - name.trim_start().len();
    let name = name.trim_start();
    // Tasty indents every test under its groups.
    if indent == 0 || name.is_empty() {
        return None;
    }
    Some(Failure {
        name: name.to_string(),
        indent,
        message: None,
        log_lines: (n, n),
        lines: 0,
    })
}

/// `0.06s`, as tasty times a test.
fn is_seconds(time: &str) -> bool {
    time.strip_suffix('s').is_some_and(|number| {
        !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    })
}

impl Failure {
    /// Offers the next line; returns whether it is part of the failure's
    /// details: blank, or indented deeper than the test.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        if self.lines >= MAX_DETAIL_LINES {
            return false;
        }
        let t = line.trim_start();
        if !t.is_empty() && line.len() - t.len() <= self.indent {
            return false;
        }
        self.lines += 1;
        let t = t.trim_end();
        if !t.is_empty() {
            self.log_lines.1 = n;
            if self.message.is_none() && t.bytes().any(|b| b != b'-') {
                self.message = Some(t.to_string());
            }
        }
        true
    }

    /// Records the failed test and its diagnostic.
    pub(crate) fn close(self, sink: &mut Sink) {
        sink.failed_test(FailedTest {
            tool: "tasty",
            category: Category::TestFailure,
            name: self.name,
            detail: self.message,
            file: None,
            line: None,
            log_lines: self.log_lines,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_indented_tests_and_lookalikes_are_not() {
        let failure =
            start(3, "      tables:                        FAIL (0.06s)").expect("a failure");
        assert_eq!(failure.name, "tables");
        assert_eq!(failure.indent, 6);
        assert!(start(3, "    parses a list: FAIL").is_some());
        for line in [
            "Test suite test-pandoc: FAIL",
            "      tables:                        OK (0.04s)",
            "FAIL: test_x (tests.TestA)",
            "    FAIL (0.06s)",
            "      tables: FAIL (slow)",
        ] {
            assert!(start(3, line).is_none(), "{line}");
        }
    }
}
