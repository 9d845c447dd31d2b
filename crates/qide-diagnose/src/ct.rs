//! Erlang's Common Test (`ct_run`, `rebar3 ct`, `make ct`): a failed case
//! is printed between dashed rules as `suite:case failed on line 593` (or
//! `suite:init_per_group failed` for a configuration function), then
//! `Reason: …`, an Erlang term that may run over several indented lines;
//! then `Testing app: *** FAILED test case 89 of 1470 ***`, which only
//! repeats it. From real CI logs of Erlang projects (Common Test is not on
//! this machine).

use crate::{
    Category, TestCase, TestOutcome,
    sink::{Draft, Sink},
};

/// A reason longer than this many lines is cut there: the term can print
/// a whole process state.
const MAX_REASON_LINES: u32 = 30;

/// A failed case whose reason is still being read.
#[derive(Debug)]
pub(crate) struct Block {
    name: String,
    line: Option<u32>,
    draft: Draft,
    lines: u32,
    /// Whether the `Reason:` line was read.
    reason: bool,
}

/// `suite:case failed` or `suite:case failed on line N`: opens the case's
/// block.
pub(crate) fn start(n: u64, line: &str) -> Option<Block> {
    // Every line that reaches a parser is asked: an atom and a colon must
    // open it before anything is searched.
    let atom = line
        .bytes()
        .take_while(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'@')
        .count();
    if atom == 0 || line.as_bytes().get(atom) != Some(&b':') {
        return None;
    }
    // Cleaned lines end in no space.
    if !line.ends_with(" failed") && !has!(line, " failed on line ") {
        return None;
    }
    let t = line.trim_end();
    let (head, at) = match t.split_once(" failed on line ") {
        Some((head, number)) => (head, Some(number.parse::<u32>().ok()?)),
        None => (t.strip_suffix(" failed")?, None),
    };
    let (suite, case) = head.split_once(':')?;
    if !is_atom(suite) || !is_atom(case) {
        return None;
    }
    let message = match at {
        Some(at) => format!("{head} failed on line {at}"),
        None => format!("{head} failed"),
    };
    Some(Block {
        name: head.to_string(),
        line: at,
        draft: Draft::error("common_test", Category::TestFailure, message, (n, n)),
        lines: 0,
        reason: false,
    })
}

/// `… *** FAILED test case 89 of 1470 ***` or `*** FAILED {suite,group}
/// ***`: the verdict that repeats a case already read, a cascade.
pub(crate) fn verdict(n: u64, line: &str) -> Option<Draft> {
    if !line.ends_with("***") || !has!(line, "*** FAILED ") {
        return None;
    }
    let (_, rest) = line.split_once("*** FAILED ")?;
    // ScalaTest's `- test name *** FAILED ***` is not one.
    let ours = rest.starts_with("test case ") || rest.starts_with('{');
    (ours && rest.trim_end().ends_with("***")).then(|| {
        Draft::error(
            "common_test",
            Category::TestFailure,
            line.trim().to_string(),
            (n, n),
        )
        .cascade()
    })
}

/// An Erlang atom as Common Test prints a suite or function name.
fn is_atom(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'@')
}

impl Block {
    /// Offers the next line; returns whether it belongs to the case: its
    /// `Reason:` line and the reason's indented continuation. The closing
    /// dashed rule, a blank line or anything else ends it.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        if self.lines >= MAX_REASON_LINES {
            return false;
        }
        if !self.reason {
            let Some(reason) = line.strip_prefix("Reason: ") else {
                return false;
            };
            self.draft.message.push_str(": ");
            self.draft.message.push_str(reason.trim());
            self.reason = true;
        } else if !line.starts_with([' ', '\t']) || line.trim().is_empty() {
            return false;
        }
        self.lines += 1;
        self.draft.log_lines.1 = n;
        true
    }

    /// Records the failed case and its diagnostic.
    pub(crate) fn close(self, sink: &mut Sink) {
        let n = self.draft.log_lines.0;
        sink.test(
            n,
            "common_test",
            TestCase {
                name: self.name.clone(),
                outcome: TestOutcome::Failed,
                message: Some(self.draft.message.clone()),
                file: None,
                line: self.line,
            },
        );
        sink.test_diagnosed(&self.name);
        sink.emit(self.draft);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_name_a_case_and_lookalikes_do_not() {
        let block = start(7, "suite:send_recv failed on line 593").expect("a case");
        assert_eq!(block.name, "suite:send_recv");
        assert_eq!(block.line, Some(593));
        assert!(start(7, "ejabberd_SUITE:init_per_group failed").is_some());
        for line in [
            "Build failed",
            "make: *** [all] failed",
            "Suite:case failed",
            "suite:case failed on line twelve",
            "a b:c failed",
            "npm ERR! Test failed",
        ] {
            assert!(start(7, line).is_none(), "{line}");
        }
        assert!(verdict(9, "Testing app: *** FAILED test case 89 of 1470 ***").is_some());
        assert!(verdict(9, "*** FAILED {ejabberd_SUITE,init_per_group} ***").is_some());
        assert!(verdict(9, "make: *** [all] Error 2").is_none());
        assert!(verdict(9, "[info] - divides by zero *** FAILED ***").is_none());
    }
}
