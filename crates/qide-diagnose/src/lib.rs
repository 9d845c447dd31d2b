//! Build logs in, diagnostics out.
//!
//! `qide-diagnose` is the sans-I/O heart of QIDE: it is fed the lines of a
//! build log one at a time ([`LogDiagnoser::push_line`]) and, at the end,
//! returns what it found ([`LogDiagnoser::finish`]): errors and warnings with
//! file:line, test results, the failure category and stable fingerprints.
//! It never panics and never fails on odd input; lines it cannot parse are
//! skipped.
//!
//! The line-at-a-time interface lets the caller stream a log of any size from
//! storage without holding it whole in memory.
//!
//! # How a line is read
//!
//! Each line is cleaned (ANSI escapes, carriage-return overwrites and CI
//! timestamp prefixes removed). If a multi-line construct is open (a rustc
//! diagnostic body, a Python traceback, a test's failure section), it gets
//! the line first. Otherwise one pass of a four-byte-window table
//! (`prefilter`) tells which keyword sets the line holds; only lines that
//! hold a parser keyword meet the tool parsers and their regexes, and only
//! those that hold a fallback keyword get the error-looking test, so a
//! clean log costs one cheap pass per line.
//!
//! Parsers live one tool family per module: [`rust`](crate) (rustc, clippy,
//! cargo), libtest, Python tracebacks, pytest, `go test`, located compiler
//! messages (gcc, clang, go, javac, mypy, tsc, flake8/ruff, make, ld), and
//! plain infrastructure lines (OOM kills, segfaults, DNS failures, full
//! disks, missing commands, timeouts).

use std::sync::LazyLock;

/// Whether `haystack` holds the literal `needle`, with a searcher built
/// once: the parsers ask this of every line that passes the keyword gate,
/// and `str::contains` builds its searcher on each call (a third slower on
/// log lines).
macro_rules! has {
    ($haystack:expr, $needle:literal) => {{
        static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new($needle));
        FINDER.find($haystack.as_bytes()).is_some()
    }};
}

mod ansi;
mod cargo_json;
mod catch2;
mod classify;
mod cmake;
mod ct;
mod dotnet;
mod fallback;
mod findings;
mod fingerprint;
mod generic;
mod gotest;
mod gradle;
mod gtest;
mod js;
mod junit;
mod libtest;
mod minitest;
mod nextest;
mod novelty;
mod pester;
mod phpt;
mod pip;
mod prefilter;
mod pytest;
mod python;
mod ruff;
mod runners;
mod rust;
mod sink;
mod tap;
mod tasty;
mod toolset;
mod unittest;
mod werror;
mod xctest;

pub use ansi::strip_ansi;
pub use fingerprint::{fingerprint, normalize_file, normalize_message};
pub use junit::{JunitReport, looks_like_junit, parse_junit};
pub use novelty::Baseline;

use sink::Sink;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The build failed because of it (or it would have).
    Error,
    /// Reported by a tool, but not fatal on its own.
    Warning,
}

impl Severity {
    /// The stable wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Why a build failed, as one coarse class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// The code does not compile (type errors, unresolved names, link errors).
    CompileError,
    /// The code does not parse.
    SyntaxError,
    /// The build passed and tests failed.
    TestFailure,
    /// A package, crate, module, header or library is not installed or declared.
    MissingDependency,
    /// A linter or a lint-as-error compiler warning.
    Lint,
    /// A step ran out of time.
    Timeout,
    /// A process ran out of memory or was killed for it.
    OutOfMemory,
    /// A program crashed: a signal, a panic or an uncaught exception.
    Crash,
    /// DNS, connection or TLS failures.
    Network,
    /// The build is set up wrong: a missing command, a bad Makefile.
    ConfigError,
    /// The machine failed the build: disk full, permissions, cancellation.
    Infrastructure,
    /// Something failed that no rule classifies.
    Unknown,
}

impl Category {
    /// The stable name stored in the database and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::CompileError => "compile_error",
            Category::SyntaxError => "syntax_error",
            Category::TestFailure => "test_failure",
            Category::MissingDependency => "missing_dependency",
            Category::Lint => "lint",
            Category::Timeout => "timeout",
            Category::OutOfMemory => "out_of_memory",
            Category::Crash => "crash",
            Category::Network => "network",
            Category::ConfigError => "config_error",
            Category::Infrastructure => "infrastructure",
            Category::Unknown => "unknown",
        }
    }
}

/// One error or warning found in a log.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Whether it failed the build.
    pub severity: Severity,
    /// The tool that printed it (`rustc`, `gcc`, `pytest`, …), or `generic`.
    pub tool: String,
    /// The tool's own code for it, such as `E0308`.
    pub code: Option<String>,
    /// The headline message, one line.
    pub message: String,
    /// Path as printed by the tool, relative to the project where possible.
    pub file: Option<String>,
    /// 1-based line in `file`.
    pub line: Option<u32>,
    /// 1-based column in `line`.
    pub column: Option<u32>,
    /// Last line of the span, when the tool gives one.
    pub end_line: Option<u32>,
    /// Last column of the span, when the tool gives one.
    pub end_column: Option<u32>,
    /// First and last log line (1-based, inclusive) the diagnostic spans.
    pub log_lines: (u64, u64),
    /// True for a first, real error; false for the cascade that follows one.
    pub root_cause: bool,
    /// The failure class of this diagnostic.
    pub category: Category,
    /// Stable hash of what the failure is, not where in the log it appeared.
    pub fingerprint: String,
}

/// The outcome of one test case.
#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    /// The name as the runner prints it (`tests::add`, `tests/test_x.py::test_y`).
    pub name: String,
    /// Passed, failed or skipped.
    pub outcome: TestOutcome,
    /// The failure message (panic message, assertion), when it failed.
    pub message: Option<String>,
    /// Where it failed, as printed.
    pub file: Option<String>,
    /// The line it failed at.
    pub line: Option<u32>,
}

/// How a test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestOutcome {
    /// Ran and passed (pytest's xfail/xpass count as passed).
    Passed,
    /// Ran and failed, or errored in setup.
    Failed,
    /// Ignored or skipped.
    Skipped,
}

/// Everything found in one log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diagnosis {
    /// Errors and warnings in log order; root causes have `root_cause` set.
    pub diagnostics: Vec<Diagnostic>,
    /// Every test outcome seen, in log order of first mention.
    pub tests: Vec<TestCase>,
    /// The failure's class, when the log shows one.
    pub category: Option<Category>,
}

/// A multi-line construct that is still being read.
#[derive(Debug)]
enum Open {
    Rust(rust::Block),
    Libtest(libtest::Section),
    Traceback(python::Traceback),
    Pytest(pytest::Section),
    Located(generic::Block),
    GoFailure(gotest::Failure),
    Runner(runners::Failure),
    Nextest(nextest::Failure),
    Js(js::Section),
    /// unittest, CMake, Gradle, ruff and pip constructs.
    Tools(Box<toolset::Section>),
}

/// Incremental log diagnoser: push every line, then call [`finish`](Self::finish).
#[derive(Debug, Default)]
pub struct LogDiagnoser {
    sink: Sink,
    /// The construct that gets the next line first.
    open: Option<Open>,
    /// First line of C/C++ context (`In function …`) printed just before a
    /// diagnostic, so the diagnostic's log range includes it.
    context_start: Option<u64>,
    /// cargo's progress lines were seen, so a located-less `error:` is cargo's.
    seen_cargo: bool,
    pytest: pytest::Pytest,
    go: gotest::GoTest,
    nextest: nextest::Nextest,
    js: js::Js,
    runners: runners::Runners,
    /// The parsers of unittest, CMake, Gradle, ruff and pip.
    toolset: toolset::Toolset,
    /// The error-looking lines reported when no parser finds a root cause.
    fallback: fallback::Fallback,
    /// Linters' `path:line: message` findings that name no severity.
    findings: findings::Findings,
    /// The lines new since a green log of the same steps, when the caller
    /// has one ([`LogDiagnoser::with_baseline`]).
    novelty: Option<novelty::Novelty>,
    /// Infrastructure lines (a refused connection, a missing command, a
    /// segfault) waiting for the end of the log: builds often carry on past
    /// them, so only those among the last failure signals are root causes.
    infra: std::collections::VecDeque<sink::Draft>,
    /// Where a line's escapes are stripped, kept from line to line.
    buffer: String,
    /// The first diagnostic a `-Werror` verdict or an unexplained failure
    /// may still blame (see [`werror`]): those before the last verdict were
    /// its, and those before a step that exited 0 did not fail the build.
    werror_from: usize,
}

impl LogDiagnoser {
    /// A diagnoser for one log.
    pub fn new() -> LogDiagnoser {
        LogDiagnoser::default()
    }

    /// A diagnoser that reports files under `root` relative to it: tools
    /// such as Python print absolute paths, which would otherwise differ
    /// between machines.
    pub fn with_project_root(root: &str) -> LogDiagnoser {
        let mut diagnoser = LogDiagnoser::new();
        let root = root.trim_end_matches('/');
        if !root.is_empty() {
            diagnoser.sink.project_root = Some(root.to_string());
        }
        diagnoser
    }

    /// Compares the log with `baseline`, the lines of the last successful
    /// log of the same steps: when no parser finds a root cause, the lines
    /// the green log did not print are the answer, best first, and
    /// error-looking lines the green log printed too are left out.
    pub fn with_baseline(mut self, baseline: Baseline) -> LogDiagnoser {
        self.novelty = Some(novelty::Novelty::new(baseline));
        self
    }

    /// Feeds one log line. `n` is its 1-based line number in the whole build
    /// log; lines arrive in increasing order but numbers may skip (dropped
    /// middle of an over-long log).
    pub fn push_line(&mut self, n: u64, text: &str) {
        // One buffer for every line that needs escapes stripped.
        let mut buffer = std::mem::take(&mut self.buffer);
        let (line, wide) = clean_line(text, &mut buffer);
        self.read_line(n, line, wide);
        self.buffer = buffer;
    }

    /// Reads a cleaned line; `wide` is false when it is ASCII.
    fn read_line(&mut self, n: u64, line: &str, wide: bool) {
        // One scan rules out most lines for both keyword checks.
        let scan = prefilter::scan(line, wide);
        let sets = scan.sets;
        let keyword_from = (sets & prefilter::FALLBACK != 0).then_some(scan.fallback_from);
        let error_looking = self.fallback.line(n, line, keyword_from);
        if let Some(novelty) = &mut self.novelty {
            novelty.line(n, line, error_looking);
        }
        if let Some(open) = &mut self.open {
            let (taken, ended) = match open {
                Open::Rust(block) => {
                    if rust::Block::ended_by(line) {
                        (true, true)
                    } else {
                        let taken = block.feed(n, line);
                        (taken, !taken)
                    }
                }
                Open::Libtest(section) => {
                    let taken = section.feed(n, line);
                    (taken, !taken)
                }
                Open::Traceback(traceback) => {
                    let taken = traceback.feed(n, line);
                    (taken, !taken || traceback.done())
                }
                Open::Pytest(section) => {
                    let taken = section.feed(n, line);
                    (taken, !taken)
                }
                Open::Located(block) => {
                    let taken = block.feed(n, line);
                    (taken, !taken)
                }
                Open::GoFailure(failure) => {
                    let taken = failure.feed(n, line);
                    (taken, !taken)
                }
                Open::Runner(failure) => {
                    let taken = failure.feed(n, line);
                    (taken, !taken)
                }
                Open::Nextest(failure) => {
                    let taken = failure.feed(n, line);
                    (taken, !taken)
                }
                Open::Js(section) => {
                    let taken = section.feed(n, line);
                    (taken, !taken)
                }
                Open::Tools(section) => section.feed(n, line),
            };
            if ended {
                self.close_open();
            }
            if taken {
                return;
            }
        }
        self.fresh_line(n, line, sets & prefilter::PARSERS != 0);
    }

    /// Ends the log and returns what was found.
    pub fn finish(mut self) -> Diagnosis {
        self.close_open();
        self.pytest.flush(&mut self.sink);
        self.sink.diagnose_remaining_failed_tests();
        // Infrastructure lines do not hold the fallback back: a build that
        // died of one printed it among its last error-looking lines, which
        // the fallback reports with their context anyway.
        let has_root_cause = self
            .sink
            .diagnostics
            .iter()
            .any(|d| d.root_cause && d.severity == Severity::Error);
        // Findings that name no severity explain a failure nothing else
        // does (an error-looking line says there was one), but only
        // perhaps: the fallback still reports as if nothing had.
        let unexplained = !has_root_cause && self.fallback.recent_start(1).is_some();
        let mut promoted: Vec<u64> = Vec::new();
        if unexplained {
            promoted.extend(werror::promote_last(&mut self.sink, self.werror_from));
        }
        for draft in std::mem::take(&mut self.findings).finish(unexplained) {
            if draft.root_cause {
                promoted.push(draft.log_lines.0);
            }
            self.sink.emit(draft);
        }
        let infra_lines = self.settle_infra();
        // Without a root cause the fallback is the answer. With one, the
        // error-looking lines well after the last of them, and those apart
        // from them that say outright that something failed, are reported
        // too, briefly: a parser's find (an exception logged by a passing
        // test, an error in a dependency the build went past) may not be
        // why the build failed.
        let drafts = if has_root_cause {
            // Whatever a parser read (cascades and failed tests' verdict
            // lines too) is not repeated.
            let covered: Vec<(u64, u64)> = self
                .sink
                .diagnostics
                .iter()
                .map(|d| d.log_lines)
                .chain(self.sink.failed_test_lines().map(|n| (n, n)))
                .collect();
            let last = self
                .sink
                .diagnostics
                .iter()
                .filter(|d| d.root_cause && d.severity == Severity::Error)
                .map(|d| d.log_lines.1)
                .max()
                .unwrap_or(0);
            self.fallback
                .drafts_beside(&covered, LATE_GAP, last + LATE_GAP, LATE_FALLBACK_LINES)
        } else if let Some(novelty) = self.novelty.take() {
            // What the green log did not print comes first; error-looking
            // lines it printed too are no news, and are left out below.
            let mut drafts = self.fallback.drafts_beside(&[], 0, 0, BESIDE_NOVELTY_LINES);
            drafts.retain(|d| !novelty.baseline().has_line(&d.message));
            let mut all = novelty.drafts(novelty::MAX_LINES);
            all.extend(drafts);
            all
        } else {
            self.fallback.drafts()
        };
        let drafts = match &self.novelty {
            Some(novelty) => drafts
                .into_iter()
                .filter(|d| !novelty.baseline().has_line(&d.message))
                .collect(),
            None => drafts,
        };
        // A block that holds an infrastructure root cause would only
        // repeat it; one whose leading context holds findings made root
        // causes starts after them, so it neither repeats them nor comes
        // first (the runner's `exited with code 1` after a linter's list).
        for mut draft in drafts {
            let (first, last) = draft.log_lines;
            if infra_lines.iter().any(|n| (first..=last).contains(n)) {
                continue;
            }
            if let Some(&finding) = promoted.iter().rev().find(|&&n| first <= n && n < last) {
                draft.log_lines.0 = finding + 1;
            }
            self.sink.emit(draft);
        }
        self.toolset.finish(&mut self.sink.diagnostics);
        // Parsers emit when a construct closes and the fallback at the end;
        // callers get log order.
        self.sink.diagnostics.sort_by_key(|d| d.log_lines.0);
        let category = self
            .sink
            .diagnostics
            .iter()
            .filter(|d| d.root_cause && d.severity == Severity::Error)
            .map(|d| d.category)
            .max_by_key(|c| classify::rank(*c));
        Diagnosis {
            diagnostics: self.sink.diagnostics,
            tests: self.sink.tests,
            category,
        }
    }

    /// Handles a line no open construct took.
    fn fresh_line(&mut self, n: u64, line: &str, maybe: bool) {
        self.toolset.ungated(n, line);
        if line.starts_with("[qide] step ") {
            // Warnings of a step that passed did not fail the build.
            if findings::step_passed(line) {
                self.werror_from = self.sink.diagnostics.len();
            }
            self.findings.step_ended(line);
        }
        if line.starts_with(' ') && is_test_binary_start(line) {
            // Test names are unique within one test binary only: two
            // crates' `tests::it_works` are two tests.
            self.sink.new_test_suite();
        }
        if !self.seen_cargo && is_cargo_progress(line) {
            self.seen_cargo = true;
            return;
        }
        // Test trees and eslint's file headers hold no keyword.
        if (self.js.listing(line) || line.starts_with('/') || js::is_relative_report_path(line))
            && self.js.ungated(n, line, &mut self.sink)
        {
            return;
        }
        if !may_matter(line, maybe) {
            self.context_start = None;
            // Numbered failure entries carry no keyword; only a runner's
            // failure-list header makes them worth a look.
            if self.runners.armed()
                && line.contains(") ")
                && let Some(failure) = self.runners.line(n, line)
            {
                self.open = Some(Open::Runner(failure));
            } else if let Some(draft) = self.findings.line(n, line, false) {
                self.sink.emit(draft);
            }
            return;
        }
        let context_start = self.context_start.take();
        if werror::is_verdict(line) && self.warnings_failed(n, line) {
            return;
        }
        if cargo_json::is_message(line) {
            if let Some(draft) = cargo_json::message(n, line) {
                self.sink.emit(draft);
            }
            return;
        }
        match self.toolset.line(n, line, &mut self.sink) {
            Some(toolset::Line::Open(section)) => {
                self.open = Some(Open::Tools(section));
                return;
            }
            Some(toolset::Line::Handled) => return,
            None => {}
        }
        match self.nextest.line(n, line, &mut self.sink) {
            Some(nextest::Line::Failure(failure)) => {
                self.open = Some(Open::Nextest(failure));
                return;
            }
            Some(nextest::Line::Handled) => return,
            None => {}
        }
        match self.js.line(n, line, &mut self.sink) {
            Some(js::Line::Section(section)) => {
                self.open = Some(Open::Js(section));
                return;
            }
            Some(js::Line::Handled) => return,
            None => {}
        }
        if let Some(header) = rust::header(n, line) {
            match header {
                rust::Header::Open(block) => self.open = Some(Open::Rust(block)),
                rust::Header::Cascade(draft) => self.sink.emit(draft),
                rust::Header::Drop => {}
            }
            return;
        }
        if let Some(draft) = libtest::summary_line(n, line) {
            self.sink.emit(draft);
            return;
        }
        if let Some(case) = libtest::result_line(line) {
            self.sink.test(n, "libtest", case);
            return;
        }
        if let Some(section) =
            libtest::section_start(n, line).or_else(|| libtest::bare_panic(n, line))
        {
            self.open = Some(Open::Libtest(section));
            return;
        }
        if let Some(traceback) = python::start(n, line) {
            self.open = Some(Open::Traceback(traceback));
            return;
        }
        match self.pytest.line(n, line, &mut self.sink) {
            Some(pytest::Line::Section(section)) => {
                self.open = Some(Open::Pytest(section));
                return;
            }
            Some(pytest::Line::Handled) => return,
            None => {}
        }
        match self.go.line(n, line, &mut self.sink) {
            (Some(failure), _) => {
                self.open = Some(Open::GoFailure(failure));
                return;
            }
            (None, true) => return,
            (None, false) => {}
        }
        if let Some(failure) = self.runners.line(n, line) {
            self.open = Some(Open::Runner(failure));
            return;
        }
        if runners::scalatest_line(n, line, &mut self.sink) {
            return;
        }
        if generic::is_context(line) {
            self.context_start = context_start.or(Some(n));
            return;
        }
        if let Some(draft) = generic::toolchain_line(n, line, context_start) {
            self.sink.emit(draft);
            return;
        }
        if let Some(block) = generic::header(n, line, context_start) {
            self.open = Some(Open::Located(block));
            return;
        }
        if let Some(draft) = self.findings.line(n, line, true) {
            self.sink.emit(draft);
            return;
        }
        if let Some(hit) = classify::infra_line(line) {
            if self.infra.len() == MAX_PENDING_INFRA {
                self.infra.pop_front();
            }
            self.infra.push_back(sink::Draft::error(
                hit.tool,
                hit.category,
                line.trim().to_string(),
                (n, n),
            ));
        }
    }

    /// A `-Werror` verdict at line `n`: the warnings just before it become
    /// its root causes, and the verdict, which only follows them, a
    /// cascade. Returns false, changing nothing, when no warning comes
    /// before it (the errors were errors already, or the compiler, as
    /// erlc does, prints the verdict first).
    fn warnings_failed(&mut self, n: u64, line: &str) -> bool {
        let promoted = werror::promote(&mut self.sink, self.werror_from, n);
        self.werror_from = self.sink.diagnostics.len();
        if promoted == 0 {
            return false;
        }
        let draft = sink::Draft::error("generic", Category::Lint, line.trim().to_string(), (n, n));
        self.sink.emit(draft.cascade());
        true
    }

    /// Emits the pending infrastructure lines: the latest occurrence of
    /// each, a root cause only when it lies among the last
    /// [`INFRA_RECENT_BLOCKS`] error-looking blocks of the log, a cascade
    /// (kept, but out of the failure packet) when the build went on.
    /// Returns the lines of those that are root causes.
    fn settle_infra(&mut self) -> Vec<u64> {
        let mut root_lines = Vec::new();
        let recent = self.fallback.recent_start(INFRA_RECENT_BLOCKS).unwrap_or(0);
        // Latest first, so the sink's de-duplication keeps the latest.
        while let Some(draft) = self.infra.pop_back() {
            if draft.log_lines.0 >= recent {
                root_lines.push(draft.log_lines.0);
                self.sink.emit(draft);
            } else {
                self.sink.emit(draft.cascade());
            }
        }
        root_lines
    }

    fn close_open(&mut self) {
        let Some(open) = self.open.take() else { return };
        match open {
            Open::Rust(block) => self.sink.emit(block.close(self.seen_cargo)),
            Open::Libtest(section) => {
                let (draft, case) = section.close();
                let start = draft.log_lines.0;
                self.sink.emit(draft);
                if let Some(case) = case {
                    let name = case.name.clone();
                    self.sink.test(start, "libtest", case);
                    self.sink.test_diagnosed(&name);
                }
            }
            Open::Traceback(traceback) => {
                if let Some(draft) = traceback.close() {
                    self.sink.emit(draft);
                }
            }
            Open::Pytest(section) => self.pytest.finished(section, &mut self.sink),
            Open::Located(block) => self.sink.emit(block.close()),
            Open::GoFailure(failure) => failure.close(&mut self.sink),
            Open::Runner(failure) => failure.close(&mut self.sink),
            Open::Nextest(failure) => failure.close(&mut self.sink),
            Open::Js(section) => section.close(&mut self.sink),
            Open::Tools(section) => section.close(&mut self.sink),
        }
    }
}

/// Error-looking lines this far past a parser's last root cause (and
/// strong ones apart from its root causes) are reported with them, in at
/// most [`LATE_FALLBACK_LINES`] lines.
const LATE_GAP: u64 = 20;
const LATE_FALLBACK_LINES: u64 = 20;
/// Lines of error-looking blocks reported after the new-since-green ones.
const BESIDE_NOVELTY_LINES: u64 = 20;

/// At most this many infrastructure lines wait for the end of the log; the
/// latest are kept.
const MAX_PENDING_INFRA: usize = 64;
/// An infrastructure line is a root cause when it lies among this many of
/// the log's last error-looking blocks.
const INFRA_RECENT_BLOCKS: usize = 3;

/// The keywords a line needs to contain for any parser to care about it.
/// Kept to literal substrings (matched as written) so the prefilter's one
/// pass decides.
pub(crate) const KEYWORDS: &[&str] = &[
    "error",
    "Error",
    "ERROR",
    "warning",
    "Warning",
    "fatal",
    "FAIL",
    "failed",
    "panicked",
    "Traceback",
    "File \"",
    "PASSED",
    "SKIPPED",
    "XFAIL",
    "XPASS",
    ": *** ",
    ": In ",
    "included from",
    "required from",
    "required by",
    "undefined reference",
    "cannot find -l",
    "Killed",
    "memory",
    "Segmentation",
    "SIGKILL",
    "SIGSEGV",
    "SIGABRT",
    "SIGBUS",
    "core dumped",
    "Illegal instruction",
    "resolve host",
    "name resolution",
    "not known",
    "servname",
    "Connection",
    "connect to",
    "unreachable",
    "ENOTFOUND",
    "ECONN",
    "EAI_AGAIN",
    "SSL certificate",
    "not found",
    "No output has been received",
    "maximum execution time",
    "timed out",
    "Timed out",
    "No matching distribution",
    "satisfies the requirement",
    "npm ERR",
    "ERR_PNPM",
    "Unable to locate package",
    "Cannot find module",
    "Permission denied",
    "No space left",
    "quota exceeded",
    "bad_alloc",
    ".go:",
    ".py:",
    "Exception",
    "failing",
    "Failures:",
    "There was ",
    "There were ",
    "Failed test",
    "Failing test",
    "<<< ",
    ") test ",
    // unittest's verbose verdicts; its failures hold `FAIL` or `ERROR`.
    " ... ok",
    " ... skipped",
    " ... expected failure",
    " ... unexpected success",
    "UNEXPECTED SUCCESS",
    // Apple's linker.
    "Undefined symbols",
    // Go's flag package.
    "provided but not defined",
    // GoogleTest's failed assertion and its skip's place; XCTest's skip.
    ": Failure",
    ": Skipped",
    " : Test skipped",
    // minitest's numbered problems.
    ") Failure:",
    ") Error:",
    ") Skipped:",
    // size-limit's verdict on a JavaScript bundle.
    "limit has exceeded",
    // Pester's verdicts, indented by how deep the test is.
    "[+] ",
    "[-] ",
    "[!] ",
];

/// Line starts that matter without any keyword (test runners' own lines).
const PREFIXES: &[&str] = &[
    "test ",
    "---- ",
    "--- ",
    "=== ",
    "==",
    "__",
    "ok  ",
    "    --- ",
    // cargo-nextest's verdicts without a keyword, right-aligned.
    "        PASS [",
    "        SKIP [",
    "        LEAK [",
    "       FLAKY [",
    "     TIMEOUT [",
    "     Summary [",
    // jest's suite verdicts and failure sections, eslint's summary.
    "PASS ",
    " PASS ",
    "  ● ",
    "✖ ",
    // The Kotlin compiler's errors and warnings, as Gradle prints them.
    "e: ",
    "w: ",
    // uv's resolver failure before 0.13, and Poetry's.
    "× No solution found",
    "  × No solution found",
    "Package ",
    "Could not find a matching version",
    "Because ",
    // Composer's resolver failure.
    "Your requirements could not be resolved",
    // TAP's test lines.
    "ok ",
    "not ok ",
    // GoogleTest's start and pass markers.
    "[ RUN      ] ",
    "[       OK ] ",
    // `dotnet test`'s results.
    "  Failed ",
    "  Passed ",
    "  Skipped ",
    // XCTest's starts and verdicts.
    "Test Case '",
];

/// Whether a line can matter to a parser; `keyword` is the prefilter's
/// answer, whether the line holds one of [`KEYWORDS`].
fn may_matter(line: &str, keyword: bool) -> bool {
    // The prefixes by first byte: most lines start with a byte no prefix
    // starts with, and are ruled out with one look-up. Those that start
    // with spaces (indented lines are common) are filed by their first
    // other byte, which a line must share, so an indented line is compared
    // with one or two prefixes, not ten.
    static BY_FIRST_BYTE: LazyLock<[Vec<Vec<&'static str>>; 2]> = LazyLock::new(|| {
        let mut unindented = vec![Vec::new(); 256];
        let mut indented = vec![Vec::new(); 256];
        for prefix in PREFIXES {
            let text = prefix.trim_start_matches(' ');
            let Some(&b) = text.as_bytes().first() else {
                continue;
            };
            if text.len() == prefix.len() {
                unindented[usize::from(b)].push(*prefix);
            } else {
                indented[usize::from(b)].push(*prefix);
            }
        }
        [unindented, indented]
    });
    if keyword {
        return true;
    }
    let [unindented, indented] = &*BY_FIRST_BYTE;
    let Some(&first) = line.as_bytes().first() else {
        return false;
    };
    let candidates = if first == b' ' {
        match line.bytes().find(|&b| b != b' ') {
            Some(b) => &indented[usize::from(b)],
            None => return false,
        }
    } else {
        &unindented[usize::from(first)]
    };
    candidates.iter().any(|p| line.starts_with(p))
}

/// `line.trim_start()`, faster on the common indentation of spaces: those
/// are skipped a byte at a time, and only a line whose indentation holds
/// another kind of space (a tab, or one that is not ASCII) is left to
/// `trim_start`'s decoding of each character.
pub(crate) fn trim_indent(line: &str) -> &str {
    let spaces = line.bytes().take_while(|&b| b == b' ').count();
    let rest = &line[spaces..];
    match rest.as_bytes().first() {
        Some(&b) if b.is_ascii_whitespace() || b == 0x0b || b >= 0x80 => rest.trim_start(),
        _ => rest,
    }
}

/// Whether `line` is cargo's announcement of the next test binary
/// (`     Running unittests src/lib.rs (target/debug/deps/app-1a2b)`) or of
/// a crate's doc-tests.
fn is_test_binary_start(line: &str) -> bool {
    let t = trim_indent(line);
    t.starts_with("Running ") && t.ends_with(')') || t.starts_with("Doc-tests ")
}

fn is_cargo_progress(line: &str) -> bool {
    let t = trim_indent(line);
    t.len() != line.len()
        && [
            "Compiling ",
            "Checking ",
            "Finished ",
            "Running ",
            "Updating ",
            "Downloaded ",
            "Doc-tests ",
        ]
        .iter()
        .any(|p| t.starts_with(p))
}

/// What a parser sees of a raw line: the text after the last carriage
/// return (progress bars overwrite themselves) that leaves something
/// visible, without a CI timestamp prefix, ANSI escapes or trailing
/// whitespace. Travis CI ends many lines with `\r` and an erase-line escape
/// (`error: x\r\x1b[0K`), which must not hide the text before it.
/// `buffer` holds the text when escapes had to be removed. Also returns
/// whether the raw line has non-ASCII text (the cleaned one has less).
fn clean_line<'a>(text: &'a str, buffer: &'a mut String) -> (&'a str, bool) {
    // `trim_end_matches(['\r', '\n'])`, a byte at a time.
    let ends = text
        .bytes()
        .rev()
        .take_while(|&b| b == b'\r' || b == b'\n')
        .count();
    let kept = text.len() - ends;
    let mut line = &text[..kept];
    // One pass for both answers; most lines hold neither a carriage
    // return nor an escape, and skip the rest.
    let (control, wide) = ansi::scan(line);
    if !control {
        return (trim_end(strip_timestamp(line)), wide);
    }
    while let Some(i) = memchr::memrchr(b'\r', line.as_bytes()) {
        let after = &line[i + 1..];
        if !invisible(after) {
            line = after;
            break;
        }
        line = &line[..i];
    }
    line = strip_timestamp(line);
    if !ansi::has_control(line) {
        return (trim_end(line), wide);
    }
    buffer.clear();
    ansi::strip_into(line, buffer);
    (trim_end(buffer), wide)
}

/// `text.trim_end()`, answered from the last byte when it is ASCII and
/// not a space, as on most lines.
fn trim_end(text: &str) -> &str {
    match text.as_bytes().last() {
        Some(&b) if b < 0x80 && !b.is_ascii_whitespace() && b != 0x0b => text,
        _ => text.trim_end(),
    }
}

/// Whether `text` shows nothing: only whitespace and escape sequences.
/// Travis CI ends most lines with `\r\x1b[0K`, so the common case (CSI
/// sequences and spaces) is answered without building a stripped copy.
fn invisible(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' => i += 1,
            0x1b if b.get(i + 1) == Some(&b'[') => {
                i += 2;
                while i < b.len() && !(0x40..=0x7e).contains(&b[i]) {
                    i += 1;
                }
                i += 1;
            }
            _ => return strip_ansi(text).trim().is_empty(),
        }
    }
    true
}

/// Removes a leading RFC 3339 timestamp such as GitHub Actions writes
/// (`2024-05-01T12:03:04.1234567Z `).
fn strip_timestamp(line: &str) -> &str {
    let b = line.as_bytes();
    if b.len() < 21 || !b[0].is_ascii_digit() || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return line;
    }
    match line.find(' ') {
        Some(i) if i <= 40 && b[i - 1] == b'Z' => &line[i + 1..],
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn trim_indent_is_trim_start(
            line in proptest::string::string_regex("[ \t\u{b}\u{a0}\u{3000}\u{85}ax-]{0,8}").unwrap()
        ) {
            proptest::prop_assert_eq!(trim_indent(&line), line.trim_start());
        }
    }

    proptest::proptest! {
        #[test]
        fn trim_end_is_trim_end(
            line in proptest::string::string_regex("[ \t\u{b}\u{c}\u{a0}\u{3000}\u{85}\u{1f}ax\r\n-]{0,8}").unwrap()
        ) {
            proptest::prop_assert_eq!(trim_end(&line), line.trim_end());
        }
    }

    #[test]
    fn prefixes_are_found_as_by_a_plain_search() {
        for prefix in PREFIXES {
            // `may_matter` files a prefix by its first byte that is not a
            // space.
            assert!(prefix.bytes().any(|b| b != b' '), "{prefix:?}");
            for line in [prefix.to_string(), format!("{prefix}x")] {
                assert!(may_matter(&line, false), "{line:?}");
            }
        }
        for line in [
            "", " ", "    ", "x", "  PASSED", "    -- x", " e: x", "\tPASS x",
        ] {
            let plain = PREFIXES.iter().any(|p| line.starts_with(p));
            assert_eq!(may_matter(line, false), plain, "{line:?}");
        }
    }

    #[test]
    fn invisible_matches_stripping() {
        for text in [
            "",
            " \t",
            "\x1b[0K",
            "\x1b[0K \x1b[32;1m",
            "\x1b[31",
            "x",
            "\x1b[0Kx",
            "\x1b(B",
            "\u{a0}",
        ] {
            assert_eq!(
                invisible(text),
                strip_ansi(text).trim().is_empty(),
                "{text:?}"
            );
        }
        let mut buffer = String::from("left from an earlier line");
        let mut clean = |text| clean_line(text, &mut buffer).0.to_string();
        assert_eq!(clean("error: x\r\x1b[0K"), "error: x");
        assert_eq!(clean("50%\r100%\r\x1b[0K"), "100%");
        assert_eq!(clean("\x1b[31mred\x1b[0m  "), "red");
        assert_eq!(clean("plain  "), "plain");
        assert_eq!(clean("2024-05-01T12:03:04.1234567Z error: x"), "error: x");
        assert_eq!(clean("a\x7fb\r"), "a\x7fb");
        assert!(clean_line("\u{e9}\x1b[0m", &mut buffer).1);
        assert!(!clean_line("e\x1b[0m", &mut buffer).1);
    }
}
