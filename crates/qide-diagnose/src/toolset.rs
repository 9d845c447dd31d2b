//! One door from `LogDiagnoser` to the parsers of Python's `unittest`,
//! CMake, Gradle (and the Kotlin compiler it runs), ruff, pip (and the other
//! resolvers), Erlang's Common Test, PowerShell's Pester, Haskell's tasty
//! PHP's run-tests, TAP, GoogleTest, Catch2, `dotnet test`, XCTest and
//! minitest, so the
//! engine's line
//! loop knows one
//! more construct,
//! not one per tool; and the clang relabelling of C-family diagnostics.

use std::sync::LazyLock;

use regex::Regex;

use crate::{
    Category, Diagnostic, TestOutcome, catch2, cmake, ct, dotnet, gradle, gtest, minitest, pester,
    phpt, pip, ruff,
    sink::{Draft, FailedTest, Sink, Verdict},
    tap, tasty, unittest, xctest,
};

static CLANG_SUMMARY: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\d+ (?:warnings?|errors?)(?: and \d+ errors?)? generated\.$")
        .expect("valid regex")
});

/// Per-log state of the parsers behind this door.
#[derive(Debug, Default)]
pub(crate) struct Toolset {
    ruff: ruff::Ruff,
    pip: pip::Pip,
    /// A line naming a unittest test alone (above its docstring), with
    /// its number: the verdict on the next line is that test's.
    unittest_name: Option<(u64, String)>,
    /// The log shows clang's own lines (`3 errors generated.`, `clang:
    /// error: …`), so its `path:line:col: error:` lines are clang's, not
    /// gcc's (they look the same).
    clang: bool,
    /// Where PHP's run-tests last began a failed test's diff.
    phpt_diff: Option<u64>,
    /// The GoogleTest test running (its `[ RUN      ]` seen, its verdict
    /// not yet), and the last one whose failed assertion was reported.
    gtest_running: Option<String>,
    gtest_failed: Option<String>,
    /// How many diagnostics were kept when the running XCTest test
    /// started: a failure with more since is explained.
    xctest_started: Option<usize>,
}

/// A multi-line construct of one of these tools, still being read.
#[derive(Debug)]
pub(crate) enum Section {
    Unittest(unittest::Section),
    Cmake(cmake::Block),
    Gradle(gradle::Section),
    Ruff(ruff::Block),
    Pip(pip::Block),
    Ct(ct::Block),
    Pester(pester::Failure),
    Tasty(tasty::Failure),
    Tap(tap::Failure),
    Gtest(gtest::Failure),
    Dotnet(dotnet::Failure),
    Minitest(minitest::Problem),
    Catch2(catch2::Failure),
}

/// What a line was to these parsers.
pub(crate) enum Line {
    /// A construct opened; the lines that follow go to it first.
    Open(Box<Section>),
    /// The line was read (a diagnostic or test result recorded).
    Handled,
}

impl Toolset {
    /// Looks at every line no open construct took, before the keyword
    /// gate: ruff's full-form headers hold no keyword.
    #[inline]
    pub(crate) fn ungated(&mut self, n: u64, line: &str) {
        self.ruff.remember(n, line);
        if line.ends_with(')') {
            self.unittest_name = unittest::name_line(line).map(|name| (n, name));
        }
    }

    /// Reads a line that passed the keyword gate.
    pub(crate) fn line(&mut self, n: u64, line: &str, sink: &mut Sink) -> Option<Line> {
        let emit = |sink: &mut Sink, draft: Draft| {
            sink.emit(draft);
            Some(Line::Handled)
        };
        let named = match self.unittest_name.take() {
            Some((at, name)) if at + 1 == n => Some(name),
            _ => None,
        };
        if let Some(case) = unittest::result_line(line, named) {
            sink.test(n, "unittest", case);
            return Some(Line::Handled);
        }
        if let Some(section) = unittest::section_start(n, line) {
            return Some(Line::Open(Box::new(Section::Unittest(section))));
        }
        if let Some(draft) = unittest::summary_line(n, line) {
            return emit(sink, draft);
        }
        match cmake::line(n, line) {
            Some(cmake::Line::Block(block)) => {
                return Some(Line::Open(Box::new(Section::Cmake(block))));
            }
            Some(cmake::Line::Draft(draft)) => return emit(sink, draft),
            None => {}
        }
        match gradle::line(n, line, sink) {
            Some(gradle::Line::Open(section)) => {
                return Some(Line::Open(Box::new(Section::Gradle(section))));
            }
            Some(gradle::Line::Draft(draft)) => return emit(sink, draft),
            Some(gradle::Line::Handled) => return Some(Line::Handled),
            None => {}
        }
        match self.ruff.line(n, line) {
            Some(ruff::Line::Block(block)) => {
                return Some(Line::Open(Box::new(Section::Ruff(block))));
            }
            Some(ruff::Line::Draft(draft)) => return emit(sink, draft),
            None => {}
        }
        match self.pip.line(n, line) {
            Some(pip::Line::Block(block)) => {
                return Some(Line::Open(Box::new(Section::Pip(block))));
            }
            Some(pip::Line::Draft(draft)) => return emit(sink, draft),
            None => {}
        }
        if let Some(found) = self.runners(n, line, sink) {
            return Some(found);
        }
        if line.ends_with(" generated.") && CLANG_SUMMARY.is_match(line) {
            self.clang = true;
            if line.contains("error") {
                return emit(
                    sink,
                    Draft::error(
                        "clang",
                        crate::Category::CompileError,
                        line.to_string(),
                        (n, n),
                    )
                    .cascade(),
                );
            }
            return Some(Line::Handled);
        }
        if line.starts_with("clang") && line.contains(": error: ") {
            self.clang = true;
        }
        None
    }

    /// The test runners and tools read by how a line starts (after its
    /// indent) or ends, so a gated line meets only the checks that could
    /// match it.
    fn runners(&mut self, n: u64, line: &str, sink: &mut Sink) -> Option<Line> {
        let open = |section: Section| Some(Line::Open(Box::new(section)));
        let t = crate::trim_indent(line);
        match t.as_bytes().first()? {
            b'[' => {
                if let Some(found) = self.gtest(n, line, sink) {
                    return Some(found);
                }
                match pester::line(n, line, sink) {
                    Some(Verdict::Failed(failure)) => return open(Section::Pester(failure)),
                    Some(Verdict::Recorded) => return Some(Line::Handled),
                    None => {}
                }
            }
            b'T' if line.starts_with("Test Case '") => {
                if xctest::is_start(line) {
                    self.xctest_started = Some(sink.diagnostics.len());
                    return Some(Line::Handled);
                }
                if let Some((name, outcome)) = xctest::verdict(line) {
                    xctest::record(n, name, outcome, self.xctest_started.take(), sink);
                    return Some(Line::Handled);
                }
            }
            b'o' | b'n' => match tap::line(n, line, sink) {
                Some(Verdict::Failed(failure)) => return open(Section::Tap(failure)),
                Some(Verdict::Recorded) => return Some(Line::Handled),
                None => {}
            },
            b'=' if phpt::is_diff_start(line) => {
                self.phpt_diff = Some(n);
                return Some(Line::Handled);
            }
            b'F' | b'P' | b'S' => {
                if phpt::fail_line(n, line, self.phpt_diff, sink) {
                    self.phpt_diff = None;
                    return Some(Line::Handled);
                }
                match dotnet::line(n, line, sink) {
                    Some(Verdict::Failed(failure)) => return open(Section::Dotnet(failure)),
                    Some(Verdict::Recorded) => return Some(Line::Handled),
                    None => {}
                }
                // size-limit (JavaScript bundles): `Package size limit has
                // exceeded by 4.72 KB`, then the limit and the size.
                if t.starts_with("Package size limit has exceeded")
                    || t.starts_with("Size limit has exceeded")
                {
                    let draft = Draft::error("size-limit", Category::Lint, t.to_string(), (n, n));
                    sink.emit(draft);
                    return Some(Line::Handled);
                }
            }
            b'0'..=b'9' => {
                if let Some(problem) = minitest::start(n, line) {
                    return open(Section::Minitest(problem));
                }
            }
            _ => {}
        }
        // GoogleTest's `path:line: Skipped` only says where a test skipped
        // itself; `path:line: Failure` opens an assertion's explanation.
        if self.gtest_running.is_some() && line.ends_with(": Skipped") {
            return Some(Line::Handled);
        }
        if line.ends_with(": Failure")
            && let Some(failure) = gtest::failure_start(n, line, self.gtest_running.clone())
        {
            self.gtest_failed = failure.test().map(str::to_string);
            return open(Section::Gtest(failure));
        }
        if line.ends_with(": FAILED:")
            && let Some(failure) = catch2::start(n, line)
        {
            return open(Section::Catch2(failure));
        }
        if catch2::is_summary(line) {
            return Some(Line::Handled);
        }
        if self.xctest_started.is_some() && xctest::is_skip_note(line) {
            return Some(Line::Handled);
        }
        if phpt::is_summary_entry(line) {
            return Some(Line::Handled);
        }
        if (line.ends_with(')') || line.ends_with(" FAIL"))
            && let Some(failure) = tasty::start(n, line)
        {
            return open(Section::Tasty(failure));
        }
        if let Some(block) = ct::start(n, line) {
            return open(Section::Ct(block));
        }
        if let Some(draft) = ct::verdict(n, line) {
            sink.emit(draft);
            return Some(Line::Handled);
        }
        None
    }

    /// GoogleTest's `[ … ]` lines: a test's start and its verdict (its
    /// failed assertions and skips are read in [`Toolset::runners`]).
    fn gtest(&mut self, n: u64, line: &str, sink: &mut Sink) -> Option<Line> {
        if let Some(name) = gtest::run_line(line) {
            self.gtest_running = Some(name.to_string());
            return Some(Line::Handled);
        }
        if let Some((outcome, name, timed)) = gtest::verdict(line) {
            // The closing lists only repeat names.
            if !timed {
                return Some(Line::Handled);
            }
            self.gtest_running = None;
            if outcome == TestOutcome::Failed && self.gtest_failed.as_deref() == Some(name) {
                return Some(Line::Handled);
            }
            if outcome == TestOutcome::Failed {
                // Failed with no assertion of its own: a crash or a
                // fixture's failure, which the lines before it tell.
                sink.failed_test(FailedTest {
                    tool: "gtest",
                    category: Category::TestFailure,
                    name: name.to_string(),
                    detail: None,
                    file: None,
                    line: None,
                    log_lines: (n, n),
                });
            } else {
                sink.outcome(n, "gtest", name, outcome);
            }
            return Some(Line::Handled);
        }
        None
    }

    /// Renames tools once the whole log is known: concise ruff output reads
    /// like flake8's and clang's like gcc's until the log shows whose it is.
    pub(crate) fn finish(&self, diagnostics: &mut [Diagnostic]) {
        self.ruff.relabel(diagnostics);
        if self.clang {
            crate::fingerprint::rename_tool(diagnostics, "gcc", "clang");
        }
    }
}

impl Section {
    /// Offers the next line; returns whether it was taken and whether the
    /// construct is complete.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> (bool, bool) {
        match self {
            Section::Unittest(section) => {
                let taken = section.feed(n, line);
                (taken, !taken || section.done())
            }
            Section::Cmake(block) => {
                let taken = block.feed(n, line);
                (taken, !taken || block.done())
            }
            Section::Gradle(section) => {
                let taken = section.feed(n, line);
                (taken, !taken)
            }
            Section::Ruff(block) => {
                let taken = block.feed(n, line);
                (taken, !taken)
            }
            Section::Pip(block) => {
                let taken = block.feed(n, line);
                (taken, !taken)
            }
            Section::Ct(block) => {
                let taken = block.feed(n, line);
                (taken, !taken)
            }
            Section::Pester(failure) => {
                let taken = failure.feed(n, line);
                (taken, !taken)
            }
            Section::Tasty(failure) => {
                let taken = failure.feed(n, line);
                (taken, !taken)
            }
            Section::Tap(failure) => {
                let taken = failure.feed(n, line);
                (taken, !taken)
            }
            Section::Gtest(failure) => {
                let taken = failure.feed(n, line);
                (taken, !taken)
            }
            Section::Dotnet(failure) => {
                let taken = failure.feed(n, line);
                (taken, !taken)
            }
            Section::Minitest(problem) => {
                let taken = problem.feed(n, line);
                (taken, !taken)
            }
            Section::Catch2(failure) => {
                let taken = failure.feed(n, line);
                (taken, !taken)
            }
        }
    }

    /// Emits what the construct found.
    pub(crate) fn close(self, sink: &mut Sink) {
        match self {
            Section::Unittest(section) => section.close(sink),
            Section::Cmake(block) => sink.emit(block.close()),
            Section::Gradle(section) => section.close(sink),
            Section::Ruff(block) => sink.emit(block.close()),
            Section::Pip(block) => sink.emit(block.close()),
            Section::Ct(block) => block.close(sink),
            Section::Pester(failure) => failure.close(sink),
            Section::Tasty(failure) => failure.close(sink),
            Section::Tap(failure) => failure.close(sink),
            Section::Gtest(failure) => failure.close(sink),
            Section::Dotnet(failure) => failure.close(sink),
            Section::Minitest(problem) => problem.close(sink),
            Section::Catch2(failure) => failure.close(sink),
        }
    }
}
