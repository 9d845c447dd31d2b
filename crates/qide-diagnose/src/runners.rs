//! Test runners and runtimes common in CI logs that print failures in one
//! of three shapes:
//!
//! - numbered failure entries (`  1) test name`) after a header: RSpec's
//!   `Failures:`, mocha's `N failing`, PHPUnit's `There was 1 failure:`,
//!   and ExUnit's `  1) test … (Module)`, which needs no header;
//! - an uncaught exception followed by `at …` frames: node's
//!   `TypeError: x\n    at f (file.js:1:2)` and the JVM's
//!   `java.lang.IllegalStateException: x\n\tat a.B.c(B.java:12)`;
//! - Maven Surefire's `testX(a.BTest)  Time elapsed: 0.1 s  <<< FAILURE!`
//!   with the assertion and frames below it.
//!
//! Each becomes one root-cause diagnostic whose log range covers the
//! headline and at most [`MAX_REPORTED_LINES`] lines of its details.

use std::sync::LazyLock;

use regex::Regex;

use crate::{
    Category, TestCase, TestOutcome,
    classify::message_category,
    python::exception_category,
    sink::{Draft, Sink},
};

static SCALATEST: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^(?:\[info\] )?\s*- (.+?) \*\*\* FAILED \*\*\*\s*$").expect("valid regex")
});
static NUMBERED: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s*(\d{1,5})\) (\S.*)$").expect("valid regex")
});
static EXUNIT: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s+\d{1,5}\) test .+ \([\w.]+\)$").expect("valid regex")
});
static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s*(?:Failures:|\d+ failing\b|There (?:was|were) \d+ (?:failure|error|risky test|incomplete test)s?:|Failed tests?:|Failing tests?:)")
        .expect("valid regex")
});
static EXCEPTION: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s*(?:Uncaught |Exception in thread \S+ |Caused by: )?((?:[A-Za-z_$][\w$]*\.)*(?:[A-Za-z_$][\w$]*)?(?:Error|Exception|Failure|Failed))(?::\s*(.*))?$")
        .expect("valid regex")
});
static FRAME: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s+at \S.*(?:\(.*:\d+(?::\d+)?\)|:\d+:\d+|\(native\)|\(<anonymous>\))$")
        .expect("valid regex")
});
static SUREFIRE: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^(?:\[ERROR\] )?(\S.*?)\s+Time elapsed: .*<<< (FAILURE|ERROR)!$")
        .expect("valid regex")
});

/// Detail lines of one failure put in its log range; the rest is read
/// (so other parsers do not mistake it for new failures) but not reported.
const MAX_REPORTED_LINES: u64 = 8;
/// Lines after a header within which numbered entries are expected.
const ARMED_LINES: u64 = 2_000;
/// Lines one failure may span before it is closed anyway.
const MAX_BLOCK_LINES: u64 = 300;

/// State that spans lines: whether a failure list's header was seen.
#[derive(Debug, Default)]
pub(crate) struct Runners {
    /// The line of the last failure-list header.
    armed_at: Option<u64>,
}

/// A failure whose detail lines are still being read.
#[derive(Debug)]
pub(crate) struct Failure {
    shape: Shape,
    draft: Draft,
    /// Last line read as part of it.
    last: u64,
    /// Frames seen (stack traces need one to count).
    frames: u32,
    /// A blank line was read: a numbered entry ends at the next line that
    /// is neither indented nor blank.
    after_blank: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Numbered,
    Stack,
    Surefire,
}

impl Runners {
    /// Whether a failure-list header was seen recently, so numbered lines
    /// without any keyword must be offered to [`Runners::line`].
    pub(crate) fn armed(&self) -> bool {
        self.armed_at.is_some()
    }

    /// Recognises a line that starts a failure, or arms the numbered-entry
    /// parser at a header (returning `None` then too).
    pub(crate) fn line(&mut self, n: u64, line: &str) -> Option<Failure> {
        if may_be_header(line) && HEADER.is_match(line) {
            self.armed_at = Some(n);
            return None;
        }
        let armed = self
            .armed_at
            .is_some_and(|at| n.saturating_sub(at) <= ARMED_LINES);
        if starts_with_digit(line)
            && has!(line, ") ")
            && let Some(title) = numbered(line)
            && (armed || EXUNIT.is_match(line))
        {
            let title = title.trim().to_string();
            let draft = Draft::error("tests", Category::TestFailure, title, (n, n));
            return Some(Failure::new(Shape::Numbered, draft, n));
        }
        // Its verdict ends the line with `!`.
        if line.ends_with('!')
            && has!(line, "<<< ")
            && let Some(caps) = SUREFIRE.captures(line)
        {
            let message = format!("{} {}", caps[1].trim(), caps[2].to_ascii_lowercase());
            let draft = Draft::error("surefire", Category::TestFailure, message, (n, n));
            return Some(Failure::new(Shape::Surefire, draft, n));
        }
        if names_an_exception(line)
            && may_be_exception(line)
            && let Some(caps) = EXCEPTION.captures(line)
        {
            let kind = caps[1].to_string();
            let detail = caps.get(2).map_or("", |m| m.as_str().trim());
            let category =
                message_category(detail).unwrap_or(match exception_category(&kind, detail) {
                    Category::Crash if kind.ends_with("Failure") || kind.contains("Assert") => {
                        Category::TestFailure
                    }
                    other => other,
                });
            let message = if detail.is_empty() {
                kind.clone()
            } else {
                format!("{kind}: {detail}")
            };
            let mut draft = Draft::error("runtime", category, message, (n, n));
            draft.code = Some(kind);
            return Some(Failure::new(Shape::Stack, draft, n));
        }
        None
    }
}

/// Whether `line` holds `Error`, `Exception` or `Fail`: one scan for the
/// two capitals they start with, which few lines hold, instead of three.
fn names_an_exception(line: &str) -> bool {
    let bytes = line.as_bytes();
    memchr::memchr2_iter(b'E', b'F', bytes).any(|at| {
        let rest = &bytes[at..];
        rest.starts_with(b"Error") || rest.starts_with(b"Exception") || rest.starts_with(b"Fail")
    })
}

/// Whether `line` may match [`HEADER`]: every header starts, after
/// leading space, with `F`, `T` or a digit (`\d` is any Unicode digit, so
/// a non-ASCII byte may start one too).
fn may_be_header(line: &str) -> bool {
    line.trim_start()
        .as_bytes()
        .first()
        .is_some_and(|&b| matches!(b, b'F' | b'T' | b'0'..=b'9' | 0x80..))
}

/// Whether `line` starts, after leading space, with what may be a digit
/// (`\d` is any Unicode digit): numbered entries do, and most lines that
/// hold `) ` do not.
fn starts_with_digit(line: &str) -> bool {
    line.trim_start()
        .as_bytes()
        .first()
        .is_some_and(|&b| b.is_ascii_digit() || b >= 0x80)
}

/// Whether `line` may match [`EXCEPTION`]: its exception name, which
/// holds no colon, runs from the start (after leading space and an
/// optional `Uncaught `, `Caused by: ` or `Exception in thread NAME `) to
/// the first colon or the end, so what stands before that colon holds no
/// space and ends in one of the four endings. Most lines that name an error say more
/// around it, and fail this without a regex search.
fn may_be_exception(line: &str) -> bool {
    let ends_well = |text: &str| {
        let name = text.split_once(':').map_or(text, |(name, _)| name);
        ["Error", "Exception", "Failure", "Failed"]
            .iter()
            .any(|end| name.ends_with(end))
            && !name.bytes().any(|b| b == b' ' || b == b'\t')
    };
    let t = line.trim_start();
    let after_prefix = t
        .strip_prefix("Uncaught ")
        .or_else(|| t.strip_prefix("Caused by: "))
        .or_else(|| {
            let thread = t.strip_prefix("Exception in thread ")?;
            let end = thread.find(char::is_whitespace)?;
            thread[end..].strip_prefix(' ')
        });
    ends_well(t) || after_prefix.is_some_and(ends_well)
}

/// Whether `line` matches [`FRAME`], read by hand on an ASCII line (stack
/// traces are long, and the regex search was a tenth of reading them): an
/// indented `at `, one character that is not a space, then anything that
/// ends in a place: `(….:N)` or `(….:N:M)`, `:N:M`, `(native)` or
/// `(<anonymous>)`. A line that is not ASCII, or has a line break, is left
/// to the regex.
fn is_frame(line: &str) -> bool {
    if !may_be_frame(line) {
        return false;
    }
    if !line.is_ascii() || line.contains('\n') {
        return FRAME.is_match(line);
    }
    let b = line.as_bytes();
    let t = trim_ascii_space(b);
    // `at `, then `\S` (ASCII, so one byte).
    let Some(&first) = t.get(3) else {
        return false;
    };
    if is_ascii_space(first) {
        return false;
    }
    let rest = &t[4..];
    let digits_before = |end: usize| {
        rest[..end]
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    // `:\d+:\d+$`
    let n = digits_before(rest.len());
    if n > 0 && rest.len() > n && rest[rest.len() - n - 1] == b':' {
        let end = rest.len() - n - 1;
        let m = digits_before(end);
        if m > 0 && end > m && rest[end - m - 1] == b':' {
            return true;
        }
    }
    let Some(inner) = rest.strip_suffix(b")") else {
        return false;
    };
    if inner.ends_with(b"(native") || inner.ends_with(b"(<anonymous>") {
        return true;
    }
    // `\(.*:\d+(?::\d+)?\)$`: digits and a colon before the `)`, and a `(`
    // before that colon (the optional `:N` is taken by `.*` as well).
    let n = inner
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .count();
    n > 0
        && inner.len() > n
        && inner[inner.len() - n - 1] == b':'
        && inner[..inner.len() - n - 1].contains(&b'(')
}

/// The title (group 2) of a line that matches [`NUMBERED`], read by hand
/// on an ASCII line: up to five digits, `) `, then a character that is not
/// a space. A line that is not ASCII, or has a line break, is left to the
/// regex.
fn numbered(line: &str) -> Option<&str> {
    if !line.is_ascii() || line.contains('\n') {
        let caps = NUMBERED.captures(line)?;
        return caps.get(2).map(|m| m.as_str());
    }
    let t = trim_ascii_space(line.as_bytes());
    let digits = t.iter().take_while(|c| c.is_ascii_digit()).count();
    let title_at = digits + 2;
    let titled = (1..=5).contains(&digits)
        && t[digits..].starts_with(b") ")
        && t.get(title_at).is_some_and(|&c| !is_ascii_space(c));
    // The title runs to the end of the line, an ASCII one.
    titled.then(|| &line[line.len() - (t.len() - title_at)..])
}

/// `\s` on ASCII: the vertical tab too.
fn is_ascii_space(c: u8) -> bool {
    c.is_ascii_whitespace() || c == 0x0b
}

/// `b` without its leading ASCII spaces.
fn trim_ascii_space(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&c| is_ascii_space(c)).count();
    &b[n..]
}

/// Whether `line` may match [`FRAME`]: indented, then `at `.
fn may_be_frame(line: &str) -> bool {
    let t = line.trim_start();
    t.len() < line.len() && t.starts_with("at ")
}

impl Failure {
    fn new(shape: Shape, draft: Draft, n: u64) -> Failure {
        Failure {
            shape,
            draft,
            last: n,
            frames: 0,
            after_blank: false,
        }
    }

    /// Offers the next line; returns whether it belongs to this failure.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        let start = self.draft.log_lines.0;
        if n.saturating_sub(start) > MAX_BLOCK_LINES {
            return false;
        }
        let blank = line.trim().is_empty();
        let indented = line.starts_with([' ', '\t']);
        let taken = match self.shape {
            Shape::Stack => {
                if is_frame(line) {
                    self.frames += 1;
                    true
                } else {
                    // Before the first frame, a message may run on over a
                    // few lines (node prints the offending source first).
                    self.frames == 0 && !blank && n - start <= 3
                        || line.trim_start().starts_with("... ")
                }
            }
            Shape::Numbered => {
                if numbered(line).is_some() && !indented_more_than(line, 4) {
                    false
                } else if blank {
                    self.after_blank = true;
                    true
                } else {
                    // PHPUnit prints its entries unindented; a blank line and
                    // then an unindented line is the next part of the log.
                    let ends = self.after_blank && !indented && !looks_like_location(line);
                    !ends
                }
            }
            Shape::Surefire => {
                !blank
                    && !SUREFIRE.is_match(line)
                    && !line.starts_with("Tests run:")
                    && !line.starts_with("[INFO]")
            }
        };
        if taken {
            self.last = n;
            if !blank && n - start < MAX_REPORTED_LINES {
                self.draft.log_lines.1 = n;
                if self.draft.file.is_none() {
                    self.locate(line);
                }
            }
        }
        taken
    }

    /// Takes the first `file:line` the details mention.
    fn locate(&mut self, line: &str) {
        static LOCATION: LazyLock<Regex> = LazyLock::new(|| {
            // Reason: a fixed, tested pattern.
            Regex::new(r"([\w./-]+\.[A-Za-z]{1,5}):(\d+)").expect("valid regex")
        });
        if let Some(caps) = LOCATION.captures(line)
            && !caps[1].contains("node_modules")
            && !caps[1].starts_with("internal/")
        {
            self.draft.file = Some(caps[1].to_string());
            self.draft.line = caps[2].parse().ok();
        }
    }

    /// Emits the failure; a stack-trace headline without any frame is
    /// just a line that mentions an error, and is dropped.
    pub(crate) fn close(self, sink: &mut Sink) {
        if self.shape == Shape::Stack && self.frames == 0 {
            return;
        }
        sink.emit(self.draft);
    }
}

fn indented_more_than(line: &str, spaces: usize) -> bool {
    line.len() - line.trim_start().len() > spaces
}

/// PHPUnit's `/path/FooTest.php:12` location line under an entry.
fn looks_like_location(line: &str) -> bool {
    line.starts_with('/')
        && line
            .rsplit_once(':')
            .is_some_and(|(_, l)| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
}

/// ScalaTest's verdict on one test, `- name *** FAILED ***` (sbt prefixes
/// `[info] `): a root cause and a failed test. Its message follows on
/// indented lines, which are left to the fallback's context.
pub(crate) fn scalatest_line(n: u64, line: &str, sink: &mut Sink) -> bool {
    if !line.ends_with("*** FAILED ***") {
        return false;
    }
    let Some(caps) = SCALATEST.captures(line) else {
        return false;
    };
    let name = caps[1].to_string();
    sink.test(
        n,
        "scalatest",
        TestCase {
            name: name.clone(),
            outcome: TestOutcome::Failed,
            message: None,
            file: None,
            line: None,
        },
    );
    sink.emit(Draft::error(
        "scalatest",
        Category::TestFailure,
        format!("{name} failed"),
        (n, n),
    ));
    sink.test_diagnosed(&name);
    true
}

#[cfg(test)]
mod tests {
    use proptest::strategy::Strategy;

    use super::*;

    /// Lines built from the pieces the runners' regexes are made of,
    /// Unicode digits and spaces among them.
    fn runner_shapes() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            proptest::sample::select(vec![
                " ",
                "\t",
                "\u{a0}",
                "1",
                "\u{663}",
                ") ",
                "test x (A.B)",
                "Failures:",
                " failing",
                "There was ",
                "There were ",
                " failure",
                "s:",
                "Failed tests:",
                "Uncaught ",
                "Caused by: ",
                "Exception in thread ",
                "main",
                "java.lang.",
                "TypeError",
                "Exception",
                "Failure",
                "Failed",
                "Error",
                ":",
                " x",
                "at ",
                "f (a.js:1:2)",
                "(native)",
                ".",
                "$",
                "(",
                ")",
                "12",
                "123456",
                "\u{b}",
                "\n",
                "(<anonymous>)",
                ":3",
                "    at ",
                "  at f ",
            ]),
            0..8,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest::proptest! {
        #[test]
        fn the_checks_let_every_match_through(line in runner_shapes()) {
            if HEADER.is_match(&line) {
                proptest::prop_assert!(may_be_header(&line), "{:?}", line);
            }
            if NUMBERED.is_match(&line) {
                proptest::prop_assert!(starts_with_digit(&line), "{:?}", line);
            }
            let title = NUMBERED.captures(&line).map(|c| c[2].to_string());
            proptest::prop_assert_eq!(numbered(&line).map(str::to_string), title, "{:?}", line);
            if EXCEPTION.is_match(&line) {
                proptest::prop_assert!(may_be_exception(&line), "{:?}", line);
            }
            if FRAME.is_match(&line) {
                proptest::prop_assert!(may_be_frame(&line), "{:?}", line);
            }
            proptest::prop_assert_eq!(is_frame(&line), FRAME.is_match(&line), "{:?}", line);
        }
    }

    #[test]
    fn frames_and_numbered_entries_read_as_the_regexes_do() {
        for line in [
            "    at f (a.js:1:2)",
            "    at f (a.js:1)",
            "    at a.js:1:2",
            "    at f (native)",
            "    at new Promise (<anonymous>)",
            "    at (x:1)",
            "    at x:1",
            "\tat a.B.c(B.java:12)",
            "    at f (a.js:1:2) trailing",
            "    at  f (a.js:1:2)",
            "    at f (a.js:\u{663})",
            "  1) test x",
            "  123456) x",
            "12345) x",
            "1)  x",
            "1) x\ny",
            "\u{a0}1) x",
        ] {
            assert_eq!(is_frame(line), FRAME.is_match(line), "{line:?}");
            let title = NUMBERED.captures(line).map(|c| c[2].to_string());
            assert_eq!(numbered(line).map(str::to_string), title, "{line:?}");
        }
    }

    #[test]
    fn the_checks_rule_out_look_alikes() {
        assert!(may_be_exception(
            "Caused by: java.lang.IllegalStateException: x"
        ));
        assert!(may_be_exception(
            "Exception in thread \"main\" java.lang.Error"
        ));
        assert!(may_be_exception("  TypeError: x is not a function"));
        assert!(!may_be_exception("the build failed with an Error: x"));
        assert!(!may_be_header("1 passing"[2..].trim_start()));
        assert!(may_be_header("  3 failing"));
        assert!(!starts_with_digit("(see above) for details"));
        assert!(may_be_frame("    at f (a.js:1:2)"));
        assert!(!may_be_frame("at f (a.js:1:2)"));
    }
}
