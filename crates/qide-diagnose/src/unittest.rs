//! Python's `unittest` runner (`python -m unittest [-v]`): the verbose
//! per-test lines (`test_x (pkg.mod.Class.test_x) ... ok`), the `FAIL:` and
//! `ERROR:` sections with their tracebacks, and the `FAILED (failures=N)`
//! summary, which only repeats what the sections said.

use std::sync::LazyLock;

use regex::Regex;

use crate::{
    Category, TestCase, TestOutcome, python,
    sink::{Draft, Sink},
};

static RESULT: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(
        r"^([A-Za-z_]\w*) \(([A-Za-z_][\w.]*)\)(?: \((.*)\))? \.\.\. (ok|FAIL|ERROR|skipped(?: .*)?|expected failure|unexpected success)$",
    )
    .expect("valid regex")
});
static NAME: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s*([A-Za-z_]\w*) \(([A-Za-z_][\w.]*)\)(?: \((.*)\))?$").expect("valid regex")
});
static VERDICT: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r" \.\.\. (ok|FAIL|ERROR|skipped(?: .*)?|expected failure|unexpected success)$")
        .expect("valid regex")
});
static SECTION: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^(FAIL|ERROR|UNEXPECTED SUCCESS): ([A-Za-z_]\w*) \(([A-Za-z_][\w.]*)\)(.*)$")
        .expect("valid regex")
});
static SUMMARY: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^FAILED \((?:failures|errors|unexpected successes)=\d+[^)]*\)$")
        .expect("valid regex")
});

/// A section's body longer than this ends it, so a header that is not
/// unittest's cannot swallow the log.
const MAX_SECTION_LINES: u32 = 400;

/// The id unittest gives a test: Python 3.11 prints the full id in the
/// parentheses (`pkg.mod.Class.test_x`), older versions the class only.
fn test_id(method: &str, parens: &str, extra: &str) -> String {
    let mut id = if parens
        .strip_suffix(method)
        .is_some_and(|rest| rest.ends_with('.'))
    {
        parens.to_string()
    } else {
        format!("{parens}.{method}")
    };
    // A failing subtest names its parameters after the id: `(i=1)`.
    let extra = extra.trim();
    if !extra.is_empty() {
        id.push(' ');
        id.push_str(extra);
    }
    id
}

/// The outcome a verbose verdict word stands for.
fn outcome(verdict: &str) -> TestOutcome {
    match verdict {
        "ok" | "expected failure" => TestOutcome::Passed,
        "FAIL" | "ERROR" | "unexpected success" => TestOutcome::Failed,
        _ => TestOutcome::Skipped,
    }
}

/// Reads a verbose result line (`test_x (mod.Class.test_x) ... ok`), or,
/// for a test with a docstring, the verdict line under the name
/// (`Each number is even. ... FAIL`) with `named`, the name line read just
/// before ([`name_line`]).
pub(crate) fn result_line(line: &str, named: Option<String>) -> Option<TestCase> {
    if !has!(line, " ... ") {
        return None;
    }
    let (name, verdict) = match RESULT.captures(line) {
        Some(caps) => {
            let extra = caps
                .get(3)
                .map_or(String::new(), |m| format!("({})", m.as_str()));
            (test_id(&caps[1], &caps[2], &extra), outcome(&caps[4]))
        }
        None => (named?, outcome(&VERDICT.captures(line)?[1])),
    };
    Some(TestCase {
        name,
        outcome: verdict,
        message: None,
        file: None,
        line: None,
    })
}

/// The test id of a line that names a test alone, as verbose mode prints
/// it above the docstring of a test that has one, and indented above each
/// failing subtest (`  test_x (mod.Class.test_x) (i=1)`).
pub(crate) fn name_line(line: &str) -> Option<String> {
    // Every line that ends with `)` comes here: a first word, then ` (`,
    // rules out nearly all of them before the pattern runs.
    if !line.ends_with(')') {
        return None;
    }
    let t = crate::trim_indent(line).as_bytes();
    let word = t.iter().position(|&b| b == b' ')?;
    if word == 0 || !t[word..].starts_with(b" (") || t[0].is_ascii_digit() {
        return None;
    }
    let caps = NAME.captures(line)?;
    let extra = caps
        .get(3)
        .map_or(String::new(), |m| format!("({})", m.as_str()));
    Some(test_id(&caps[1], &caps[2], &extra))
}

/// The `FAILED (failures=1, errors=1)` summary: a cascade of the sections.
pub(crate) fn summary_line(n: u64, line: &str) -> Option<Draft> {
    if !line.starts_with("FAILED (") || !SUMMARY.is_match(line) {
        return None;
    }
    Some(Draft::error("unittest", Category::TestFailure, line.to_string(), (n, n)).cascade())
}

/// Opens a section at `FAIL: test_x (mod.Class.test_x)`.
pub(crate) fn section_start(n: u64, line: &str) -> Option<Section> {
    if !line.starts_with("FAIL: ")
        && !line.starts_with("ERROR: ")
        && !line.starts_with("UNEXPECTED SUCCESS: ")
    {
        return None;
    }
    let caps = SECTION.captures(line)?;
    Some(Section {
        name: test_id(&caps[2], &caps[3], &caps[4]),
        unexpected_success: &caps[1] == "UNEXPECTED SUCCESS",
        start: n,
        end: n,
        lines: 0,
        ruled: false,
        traceback: None,
        done: false,
    })
}

/// One `FAIL:`/`ERROR:` section, read up to the rule that ends it.
#[derive(Debug)]
pub(crate) struct Section {
    /// The test's id.
    name: String,
    /// `UNEXPECTED SUCCESS:` sections hold no traceback.
    unexpected_success: bool,
    start: u64,
    /// Last non-blank line of the section.
    end: u64,
    lines: u32,
    /// The dashed rule under the header was read; the next rule ends the
    /// section (the one above `Ran N tests`).
    ruled: bool,
    /// The section's traceback, read by the Python traceback parser.
    traceback: Option<python::Traceback>,
    done: bool,
}

impl Section {
    /// Offers the next line; returns whether it belongs to the section.
    /// Blank lines do (assertion diffs hold them); the rule of `=` that
    /// opens the next section, or the rule of `-` above the summary, ends
    /// it ([`Section::done`]).
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        if self.lines >= MAX_SECTION_LINES {
            return false;
        }
        self.lines += 1;
        let rule = line.len() >= 20;
        if rule && line.bytes().all(|b| b == b'=') {
            self.done = true;
            return true;
        }
        if rule && line.bytes().all(|b| b == b'-') {
            if self.ruled {
                self.done = true;
            } else {
                self.ruled = true;
                self.end = n;
            }
            return true;
        }
        if line.starts_with("Ran ") && line.contains(" test") {
            // The rule above the summary was cut off.
            return false;
        }
        if !line.trim().is_empty() {
            self.end = n;
        }
        match &mut self.traceback {
            Some(traceback) if !traceback.done() => {
                traceback.feed(n, line);
            }
            Some(_) => {}
            None => self.traceback = python::start(n, line),
        }
        true
    }

    /// Whether the rule that ends the section was read.
    pub(crate) fn done(&self) -> bool {
        self.done
    }

    /// Emits the section's failure and the test's outcome.
    pub(crate) fn close(self, sink: &mut Sink) {
        let exception = self.traceback.and_then(python::Traceback::close);
        let mut case = TestCase {
            name: self.name.clone(),
            outcome: TestOutcome::Failed,
            message: None,
            file: None,
            line: None,
        };
        let mut draft = match exception {
            Some(exception) => {
                // A test module that cannot be imported is a missing
                // module or a syntax error, not a failing test.
                let category = match exception.category {
                    Category::MissingDependency | Category::SyntaxError => exception.category,
                    _ => Category::TestFailure,
                };
                case.message = Some(exception.message.clone());
                case.file.clone_from(&exception.file);
                case.line = exception.line;
                Draft {
                    category,
                    code: None,
                    tool: "unittest",
                    message: format!("{}: {}", self.name, exception.message),
                    ..exception
                }
            }
            None => {
                let what = if self.unexpected_success {
                    "unexpected success"
                } else {
                    "failed"
                };
                Draft::error(
                    "unittest",
                    Category::TestFailure,
                    format!("{} {what}", self.name),
                    (self.start, self.end),
                )
            }
        };
        draft.log_lines = (self.start, self.end);
        sink.emit(draft);
        sink.test(self.start, "unittest", case);
        sink.test_diagnosed(&self.name);
    }
}
