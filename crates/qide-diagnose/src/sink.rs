//! Where parsers put what they found: diagnostics (fingerprinted, merged
//! when duplicated, capped) and test cases (one entry per test name).

use std::collections::{HashMap, HashSet};

use crate::{Category, Diagnostic, Severity, TestCase, TestOutcome, fingerprint::fingerprint};

/// At most this many diagnostics are kept; a log with more is dominated by
/// repetition and the first ones are the ones that matter.
pub(crate) const MAX_DIAGNOSTICS: usize = 5_000;
/// At most this many test cases are kept, so a huge suite cannot grow
/// memory without bound.
pub(crate) const MAX_TESTS: usize = 50_000;
/// Messages are headlines; anything longer is cut at this many bytes.
const MAX_MESSAGE: usize = 500;

/// A diagnostic before its fingerprint is computed.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub(crate) severity: Severity,
    pub(crate) tool: &'static str,
    pub(crate) code: Option<String>,
    pub(crate) message: String,
    pub(crate) file: Option<String>,
    pub(crate) line: Option<u32>,
    pub(crate) column: Option<u32>,
    pub(crate) log_lines: (u64, u64),
    pub(crate) root_cause: bool,
    pub(crate) category: Category,
}

impl Draft {
    /// A root-cause error with only the essentials set.
    pub(crate) fn error(
        tool: &'static str,
        category: Category,
        message: String,
        log_lines: (u64, u64),
    ) -> Draft {
        Draft {
            severity: Severity::Error,
            tool,
            code: None,
            message,
            file: None,
            line: None,
            column: None,
            log_lines,
            root_cause: true,
            category,
        }
    }

    /// The same draft, marked as a consequence of an earlier failure.
    pub(crate) fn cascade(mut self) -> Draft {
        self.root_cause = false;
        self
    }
}

/// At most this many [`Emitted`] keys are remembered, so memory stays
/// bounded when many drafts differ only in what fingerprints ignore.
const MAX_EMITTED: usize = 2 * MAX_DIAGNOSTICS;

/// Everything a draft's fingerprint and its place in [`Sink::seen`] come
/// from: two drafts with the same are the same diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Emitted {
    category: Category,
    tool: &'static str,
    code: Option<String>,
    message: String,
    file: Option<String>,
    line: Option<u32>,
}

/// Bookkeeping for one test beside its public [`TestCase`].
#[derive(Debug, Clone)]
struct TestMeta {
    /// The log line that first mentioned the test, for a fallback diagnostic.
    first_line: u64,
    /// The tool that ran it.
    tool: &'static str,
    /// Whether a failure diagnostic was already emitted for it.
    diagnosed: bool,
}

/// What a test runner's verdict line was: a failure, whose details follow
/// (the reader's construct `F` takes them), or a result already recorded.
pub(crate) enum Verdict<F> {
    Failed(F),
    Recorded,
}

/// A failed test as a runner's reader found it (see [`Sink::failed_test`]).
pub(crate) struct FailedTest {
    pub(crate) tool: &'static str,
    pub(crate) category: Category,
    pub(crate) name: String,
    /// What failed, as the runner says it: an assertion, a message.
    pub(crate) detail: Option<String>,
    pub(crate) file: Option<String>,
    pub(crate) line: Option<u32>,
    pub(crate) log_lines: (u64, u64),
}

/// The growing result of one log.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    pub(crate) diagnostics: Vec<Diagnostic>,
    seen: HashSet<(String, Option<String>, Option<u32>)>,
    /// What went into the fingerprints of kept or dropped drafts, at most
    /// [`MAX_EMITTED`] of them: the same again is a duplicate without
    /// computing its fingerprint, which most drafts are (a failure that
    /// repeats, a summary that names it again).
    emitted: HashSet<Emitted>,
    pub(crate) tests: Vec<TestCase>,
    test_meta: Vec<TestMeta>,
    test_index: HashMap<String, usize>,
    pub(crate) project_root: Option<String>,
}

impl Sink {
    /// Fingerprints `draft` and keeps it, unless the same failure at the same
    /// place was already kept.
    pub(crate) fn emit(&mut self, draft: Draft) {
        if self.diagnostics.len() >= MAX_DIAGNOSTICS {
            return;
        }
        let file = draft.file.map(|f| self.relative(f));
        let mut message = headline(&draft.message);
        if message.is_empty() {
            message = draft.severity.as_str().to_string();
        }
        let emitted = Emitted {
            category: draft.category,
            tool: draft.tool,
            code: draft.code.clone(),
            message,
            file,
            line: draft.line,
        };
        if self.emitted.contains(&emitted) {
            return;
        }
        if self.emitted.len() < MAX_EMITTED {
            self.emitted.insert(emitted.clone());
        }
        let Emitted { message, file, .. } = emitted;
        let fingerprint = fingerprint(
            draft.category,
            draft.tool,
            draft.code.as_deref(),
            &message,
            file.as_deref(),
        );
        if !self
            .seen
            .insert((fingerprint.clone(), file.clone(), draft.line))
        {
            return;
        }
        self.diagnostics.push(Diagnostic {
            severity: draft.severity,
            tool: draft.tool.to_string(),
            code: draft.code,
            message,
            file,
            line: draft.line,
            column: draft.column,
            end_line: None,
            end_column: None,
            log_lines: (draft.log_lines.0, draft.log_lines.1.max(draft.log_lines.0)),
            root_cause: draft.root_cause,
            category: draft.category,
            fingerprint,
        });
    }

    /// Strips the project root from an absolute path, so files read the same
    /// whichever directory the build ran in.
    pub(crate) fn relative(&self, file: String) -> String {
        if let Some(root) = &self.project_root
            && let Some(rest) = file.strip_prefix(root.as_str())
            && let Some(rest) = rest.strip_prefix('/')
        {
            return rest.to_string();
        }
        match file.strip_prefix("./") {
            Some(rest) => rest.to_string(),
            None => file,
        }
    }

    /// The log lines that first named each failed test (a verdict line
    /// such as `test x ... FAILED`): read by a parser, so not news.
    pub(crate) fn failed_test_lines(&self) -> impl Iterator<Item = u64> + '_ {
        self.tests
            .iter()
            .zip(&self.test_meta)
            .filter(|(case, _)| case.outcome == TestOutcome::Failed)
            .map(|(_, meta)| meta.first_line)
    }

    /// Starts the results of another test binary: a name seen from now on
    /// is a different test from the same name seen before.
    pub(crate) fn new_test_suite(&mut self) {
        self.test_index.clear();
    }

    /// Records a test outcome; a later report for the same name in the same
    /// test binary updates the earlier one (a verbose line first, the
    /// failure details later).
    pub(crate) fn test(&mut self, log_line: u64, tool: &'static str, case: TestCase) {
        let case = TestCase {
            file: case.file.map(|f| self.relative(f)),
            ..case
        };
        if let Some(&i) = self.test_index.get(&case.name) {
            let old = &mut self.tests[i];
            old.outcome = case.outcome;
            old.message = case.message.or(old.message.take());
            old.file = case.file.or(old.file.take());
            old.line = case.line.or(old.line);
            return;
        }
        if self.tests.len() >= MAX_TESTS {
            return;
        }
        self.test_index.insert(case.name.clone(), self.tests.len());
        self.tests.push(case);
        self.test_meta.push(TestMeta {
            first_line: log_line,
            tool,
            diagnosed: false,
        });
    }

    /// Records a test that ran with `outcome`, with nothing more said of it
    /// (a passed or skipped test's verdict line).
    pub(crate) fn outcome(&mut self, n: u64, tool: &'static str, name: &str, outcome: TestOutcome) {
        let case = TestCase {
            name: name.to_string(),
            outcome,
            message: None,
            file: None,
            line: None,
        };
        self.test(n, tool, case);
    }

    /// Records a failed test and its root-cause diagnostic, `name: detail`
    /// (or `name failed`) at the test's place, so the test is not reported
    /// again at the end.
    pub(crate) fn failed_test(&mut self, failed: FailedTest) {
        let message = match &failed.detail {
            Some(detail) => format!("{}: {detail}", failed.name),
            None => format!("{} failed", failed.name),
        };
        let case = TestCase {
            name: failed.name.clone(),
            outcome: TestOutcome::Failed,
            message: failed.detail,
            file: failed.file.clone(),
            line: failed.line,
        };
        self.test(failed.log_lines.0, failed.tool, case);
        self.test_diagnosed(&failed.name);
        let mut draft = Draft::error(failed.tool, failed.category, message, failed.log_lines);
        draft.file = failed.file;
        draft.line = failed.line;
        self.emit(draft);
    }

    /// Notes that the failure of test `name` already has its diagnostic.
    pub(crate) fn test_diagnosed(&mut self, name: &str) {
        if let Some(&i) = self.test_index.get(name) {
            self.test_meta[i].diagnosed = true;
        }
    }

    /// Gives every failed test that has no diagnostic yet one built from what
    /// is known about it, so a failure whose details were cut from the log is
    /// still reported.
    pub(crate) fn diagnose_remaining_failed_tests(&mut self) {
        let mut drafts = Vec::new();
        for (case, meta) in self.tests.iter().zip(&mut self.test_meta) {
            if case.outcome != TestOutcome::Failed || meta.diagnosed {
                continue;
            }
            meta.diagnosed = true;
            let message = match &case.message {
                Some(m) => format!("{}: {m}", case.name),
                None => format!("{} failed", case.name),
            };
            let mut draft = Draft::error(
                meta.tool,
                Category::TestFailure,
                message,
                (meta.first_line, meta.first_line),
            );
            draft.file = case.file.clone();
            draft.line = case.line;
            drafts.push(draft);
        }
        for draft in drafts {
            self.emit(draft);
        }
    }
}

/// First line of `message`, trimmed and cut at [`MAX_MESSAGE`] bytes on a
/// character boundary.
fn headline(message: &str) -> String {
    let line = message.lines().next().unwrap_or("").trim();
    if line.len() <= MAX_MESSAGE {
        return line.to_string();
    }
    let mut end = MAX_MESSAGE;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(message: &str, line: u32) -> Draft {
        let mut draft = Draft::error("gcc", Category::CompileError, message.to_string(), (1, 1));
        draft.file = Some("./src/a.c".to_string());
        draft.line = Some(line);
        draft
    }

    #[test]
    fn a_repeated_draft_is_kept_once_and_memory_stays_bounded() {
        let mut sink = Sink::default();
        sink.emit(draft("expected ';'", 3));
        sink.emit(draft("expected ';'", 3));
        // The same file written with `./` is the same diagnostic.
        let mut other = draft("expected ';'", 3);
        other.file = Some("src/a.c".to_string());
        sink.emit(other);
        sink.emit(draft("expected ';'", 4));
        let lines: Vec<_> = sink.diagnostics.iter().map(|d| d.line).collect();
        assert_eq!(lines, [Some(3), Some(4)]);
        // Messages that differ only in a number share one fingerprint: each
        // is a duplicate, and only MAX_EMITTED of them are remembered.
        for i in 0..3 * MAX_EMITTED {
            sink.emit(draft(&format!("timed out after {i} s"), 9));
        }
        assert_eq!(sink.diagnostics.len(), 3);
        assert_eq!(sink.emitted.len(), MAX_EMITTED);
    }
}
