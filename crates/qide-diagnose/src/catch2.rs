//! Catch2 (C++): a failed assertion is `path:line: FAILED:`, then the
//! assertion indented (`  REQUIRE( 2 * 2 == 5 )`), `with expansion:` and
//! the values (`  4 == 5`); the closing `test cases: 2 | 1 passed | 1
//! failed` only counts. From Catch2's documented output (v2 and v3; it is
//! not on this machine).

use crate::{
    Category,
    sink::{Draft, Sink},
};

/// An assertion's text longer than this many lines is cut there.
const MAX_ASSERTION_LINES: u32 = 20;

/// A failed assertion whose text is still being read.
#[derive(Debug)]
pub(crate) struct Failure {
    file: String,
    line: u32,
    text: Vec<String>,
    log_lines: (u64, u64),
    lines: u32,
}

/// `path:line: FAILED:`.
pub(crate) fn start(n: u64, line: &str) -> Option<Failure> {
    let place = line.strip_suffix(": FAILED:")?;
    let (file, number) = place.rsplit_once(':')?;
    Some(Failure {
        file: file.to_string(),
        line: number.parse().ok()?,
        text: Vec::new(),
        log_lines: (n, n),
        lines: 0,
    })
}

/// `test cases: 2 | 1 passed | 1 failed`, or `assertions: …`: counts.
pub(crate) fn is_summary(line: &str) -> bool {
    (line.starts_with("test cases: ") || line.starts_with("assertions: ")) && line.contains(" | ")
}

impl Failure {
    /// Offers the next line; returns whether it is the assertion's text:
    /// indented lines and `with expansion:`/`with message:`, up to a blank
    /// line after some text.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        let t = line.trim();
        if self.lines >= MAX_ASSERTION_LINES
            || (t.is_empty() && !self.text.is_empty())
            || (!t.is_empty() && !line.starts_with(' ') && !t.starts_with("with "))
        {
            return false;
        }
        self.lines += 1;
        if !t.is_empty() {
            self.log_lines.1 = n;
            if self.text.len() < 4 {
                self.text.push(t.to_string());
            }
        }
        true
    }

    /// The diagnostic: the assertion and its expansion.
    pub(crate) fn close(self, sink: &mut Sink) {
        let message = if self.text.is_empty() {
            "assertion failed".to_string()
        } else {
            self.text.join(" ")
        };
        let mut draft = Draft::error("catch2", Category::TestFailure, message, self.log_lines);
        draft.file = Some(self.file);
        draft.line = Some(self.line);
        sink.emit(draft);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_place_of_a_failed_assertion() {
        let failure = start(3, "/home/ci/app/tests/math_test.cpp:9: FAILED:").expect("a place");
        assert_eq!(
            (failure.file.as_str(), failure.line),
            ("/home/ci/app/tests/math_test.cpp", 9)
        );
        assert!(start(3, "Build FAILED:").is_none());
        assert!(start(3, "a.cpp:x: FAILED:").is_none());
        assert!(is_summary("test cases: 2 | 1 passed | 1 failed"));
        assert!(!is_summary("test cases: none"));
    }
}
