//! The QIDE wire format.
//!
//! Every type that crosses the HTTP boundary lives here, so the server, the
//! clients and the MCP adapter agree by construction and the wire format only
//! changes on purpose. Field names are snake_case; times are RFC 3339 UTC
//! strings; build ids are integers that only grow. This crate does no I/O.
//!
//! Every type derives `utoipa::ToSchema`: the server's OpenAPI document
//! (`GET /openapi.json`) takes its schemas from these definitions, doc
//! comments and `#[schema]` limits included, so the two cannot disagree.

mod security;

use std::collections::BTreeMap;

pub use security::{AuditEvent, AuditList, SessionCreated, SignInRequest};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a build is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BuildStatus {
    /// Accepted, waiting for the runner.
    Queued,
    /// A step is running.
    Running,
    /// Every step exited with status 0.
    Success,
    /// The build ran and failed: a step exited non-zero, crashed or timed out.
    Failed,
    /// The build could not run or was interrupted: spawn failure, missing
    /// command, cancellation, server restart.
    Error,
}

impl BuildStatus {
    /// The stable name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            BuildStatus::Queued => "queued",
            BuildStatus::Running => "running",
            BuildStatus::Success => "success",
            BuildStatus::Failed => "failed",
            BuildStatus::Error => "error",
        }
    }

    /// Parses a stable name; `None` for anything else.
    pub fn parse(s: &str) -> Option<BuildStatus> {
        Some(match s {
            "queued" => BuildStatus::Queued,
            "running" => BuildStatus::Running,
            "success" => BuildStatus::Success,
            "failed" => BuildStatus::Failed,
            "error" => BuildStatus::Error,
            _ => return None,
        })
    }

    /// True once the build can no longer change.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            BuildStatus::Success | BuildStatus::Failed | BuildStatus::Error
        )
    }
}

/// A build as `GET /build/{id}` returns it (and, without `steps`, as an item
/// of `GET /llm/learning/builds`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Build {
    pub id: i64,
    pub status: BuildStatus,
    /// Who asked for it: `api`, `cli`, `ui`, `agent`, `rerun`.
    pub trigger: String,
    /// The git commit checked out when the build started (full hash).
    pub commit: Option<String>,
    pub branch: Option<String>,
    /// True when the working tree had uncommitted changes.
    pub dirty: Option<bool>,
    /// Content hash of the working tree (`b3:…`), equal for equal code.
    pub tree_hash: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    /// Exit code of the step that decided the result.
    pub exit_code: Option<i32>,
    /// Why it failed, as a stable kind (`exit_non_zero`, `timeout`, …).
    pub failure_kind: Option<String>,
    /// What the diagnostics say the failure is (`compile_error`, …).
    pub failure_category: Option<String>,
    pub error_count: i64,
    pub warning_count: i64,
    pub report_count: i64,
    /// Lines captured over the whole build, dropped ones included.
    pub log_line_count: i64,
    /// Present when the per-build log cap dropped part of the middle.
    pub log_dropped: Option<LogDropped>,
    /// The steps, in order. Absent in lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<BuildStep>>,
    /// The build whose failed tests this one reruns (trigger `rerun`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_of: Option<i64>,
}

/// The part of an over-long log that was not kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LogDropped {
    /// First and last dropped line number, inclusive.
    #[schema(min_items = 2, max_items = 2)]
    pub lines: [i64; 2],
    pub bytes: i64,
}

/// One step of a build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BuildStep {
    pub name: String,
    /// The shell command.
    pub run: String,
    /// `queued`, `running`, `success`, `failed`, `error` or `skipped`.
    pub status: String,
    pub exit_code: Option<i32>,
    /// Signal that ended the step's process, if any (`SIGSEGV`, …).
    pub signal: Option<String>,
    pub failure_kind: Option<String>,
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub timeout_s: Option<u64>,
    /// First and last log line of the step, inclusive; absent before output.
    #[schema(min_items = 2, max_items = 2)]
    pub log_lines: Option<[i64; 2]>,
}

/// `GET /llm/learning/builds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BuildList {
    pub builds: Vec<Build>,
    pub total: i64,
    pub skip: i64,
    pub limit: i64,
}

/// Source lines around a diagnostic, from the project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Snippet {
    pub start_line: u32,
    pub lines: Vec<String>,
}

/// One error or warning extracted from a build log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Diagnostic {
    /// Id within the build (`d1`, `d2`, …), referenced by `root_causes`.
    pub id: String,
    /// `error` or `warning`.
    pub severity: String,
    pub tool: String,
    pub code: Option<String>,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub end_line: Option<u32>,
    pub end_column: Option<u32>,
    pub snippet: Option<Snippet>,
    /// First and last log line it spans, inclusive.
    #[schema(min_items = 2, max_items = 2)]
    pub log_lines: [u64; 2],
    /// True for a first, real error; false for the cascade that follows.
    pub root_cause: bool,
    pub category: String,
    /// Stable across builds: the same failure gets the same fingerprint.
    pub fingerprint: String,
    pub suggestion: Option<String>,
}

/// A failed test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TestFailure {
    pub name: String,
    pub message: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// True when the test is flaky, not broken by the code: it passed on
    /// this build's working tree too (`passed_in`), or it has failed and
    /// passed on one tree before.
    #[serde(default, skip_serializing_if = "is_false")]
    pub flaky: bool,
    /// A build on the same working tree in which this test passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed_in: Option<i64>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Test results of a build.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TestSummary {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
    pub failures: Vec<TestFailure>,
}

/// What the log says, structured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LogSummary {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    pub error_count: i64,
    pub warning_count: i64,
    pub failure_category: Option<String>,
    /// Ids of the diagnostics that are root causes, first one first.
    pub root_causes: Vec<String>,
    pub tests: TestSummary,
    /// The last lines of the log, control characters stripped.
    pub tail: Vec<String>,
}

/// An analysis sent back by a model or a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Report {
    pub id: i64,
    pub build_id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub analysis: String,
    pub recommendations: Vec<String>,
    pub confidence: f64,
    pub fingerprints: Vec<String>,
    pub agent: Option<String>,
    pub model: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// `POST /llm/learning/report`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// The build the analysis is about (404 when it does not exist).
    pub build_id: i64,
    /// `failure_analysis`, `code_improvement`, `test_coverage` or `other`
    /// (see `REPORT_TYPES`).
    #[serde(rename = "type")]
    #[schema(
        example = "failure_analysis",
        pattern = "^(failure_analysis|code_improvement|test_coverage|other)$"
    )]
    pub kind: String,
    /// The analysis itself: not empty, at most 64 KiB.
    #[schema(min_length = 1)]
    pub analysis: String,
    /// What to change, at most 100 of at most 8192 bytes each.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub recommendations: Vec<String>,
    /// How sure the author is, from 0 to 1.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub confidence: f64,
    /// Failure fingerprints the analysis is about, so the next build with
    /// the same failure finds it (at most 100 of 1 to 128 characters).
    #[serde(default)]
    #[schema(max_items = 100)]
    pub fingerprints: Vec<String>,
    /// Who wrote it (at most 200 characters).
    #[serde(default)]
    pub agent: Option<String>,
    /// The model behind the agent, if any (at most 200 characters).
    #[serde(default)]
    pub model: Option<String>,
}

/// The report types the API accepts.
pub const REPORT_TYPES: [&str; 4] = [
    "failure_analysis",
    "code_improvement",
    "test_coverage",
    "other",
];

/// A failure tracked across builds by its fingerprint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Pattern {
    pub fingerprint: String,
    pub category: String,
    pub tool: String,
    pub code: Option<String>,
    /// The message as last seen.
    pub message: String,
    pub file: Option<String>,
    pub first_build: i64,
    pub last_build: i64,
    /// Builds it appeared in.
    pub occurrences: i64,
    #[schema(format = DateTime)]
    pub first_seen_at: String,
    #[schema(format = DateTime)]
    pub last_seen_at: String,
    /// `open`, or `resolved` once a later build of the same steps succeeded.
    pub status: String,
    /// The green build that resolved it (kept when it came back).
    pub resolved_build: Option<i64>,
    /// Reports linked to it.
    pub report_count: i64,
}

/// Patterns of one category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CategoryStat {
    pub category: String,
    pub open: i64,
    pub resolved: i64,
    /// Build occurrences of failures in this category.
    pub occurrences: i64,
}

/// `GET /llm/learning/patterns`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PatternList {
    pub patterns: Vec<Pattern>,
    pub total: i64,
    pub skip: i64,
    pub limit: i64,
    pub categories: Vec<CategoryStat>,
    /// Per agent and model, how well reported confidence matched outcomes.
    pub calibration: Vec<CalibrationStat>,
    /// Tests that failed and passed on the same working tree, the most
    /// recently failed first (at most 50).
    #[serde(default)]
    pub flaky_tests: Vec<FlakyTest>,
    /// How many flaky tests there are in all.
    #[serde(default)]
    pub flaky_test_count: i64,
}

/// A test that has failed and passed on the same code: its failures are
/// flaky, not caused by a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FlakyTest {
    pub name: String,
    /// The runner (`cargo-test`, `nextest`, `pytest`, `jest`, `vitest`,
    /// `go`), when known.
    pub tool: Option<String>,
    /// Builds in which it failed.
    pub failures: i64,
    /// Builds in which it passed.
    pub passes: i64,
    /// Working trees on which it both failed and passed.
    pub trees: i64,
    pub first_build: i64,
    pub last_build: i64,
    pub last_failed_build: Option<i64>,
}

/// How well an agent's reported confidence matched what happened: a report
/// on a failure counts as right (1) when a green build resolved the failure
/// after it, else 0; `brier` is the mean squared gap to the confidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CalibrationStat {
    pub agent: Option<String>,
    pub model: Option<String>,
    pub reports: i64,
    pub resolved: i64,
    pub brier: f64,
}

/// A failure of this build that earlier builds had too, with what was
/// written about it then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KnownIssue {
    pub fingerprint: String,
    pub category: String,
    pub message: String,
    pub first_build: i64,
    pub last_build: i64,
    pub occurrences: i64,
    pub status: String,
    /// A green build that resolved it before it came back, if any.
    pub resolved_build: Option<i64>,
    /// Reports about earlier builds with this failure, oldest first.
    pub reports: Vec<Report>,
}

/// A changed file and how many diagnostics point into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SuspectFile {
    pub path: String,
    pub diagnostics: i64,
    /// With `?diff=1`: the file's unified diff hunks since the base build,
    /// each with its `@@` header, secrets masked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hunks: Vec<String>,
    /// True when hunks of this file were left out (size caps or the token
    /// budget).
    #[serde(default, skip_serializing_if = "is_false")]
    pub diff_truncated: bool,
}

/// `POST /llm/learning/build/{id}/claim`: an agent asks for a lease on a
/// build before analysing it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    /// The agent's name (1 to 200 characters, not only spaces); the same
    /// name renews its own lease.
    #[schema(min_length = 1, max_length = 200)]
    pub agent: String,
    /// Lease length (default 300, at most 3600).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3600)]
    pub lease_s: Option<u64>,
}

/// A granted lease.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Claim {
    pub build_id: i64,
    pub agent: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// Files changed since the last green build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SuspectChanges {
    pub base_build: Option<i64>,
    pub files: Vec<SuspectFile>,
}

/// `GET /llm/learning/build/{id}`: the failure packet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BuildDetail {
    pub build: Build,
    pub log_summary: LogSummary,
    pub reports: Vec<Report>,
    pub known_issues: Vec<KnownIssue>,
    pub suspect_changes: Option<SuspectChanges>,
    /// True when something was left out to fit the token budget.
    pub truncated: bool,
    /// Size of this answer in tokens (OpenAI's o200k_base encoding of the
    /// compact JSON), never more than `budget_tokens`.
    pub tokens: u64,
    /// The budget this answer was fitted to (`?budget_tokens=`, default 2000).
    pub budget_tokens: u64,
    /// Pass as `?cursor=` to get the diagnostics that did not fit.
    pub next_cursor: Option<String>,
    /// Set when the same code (working-tree hash and steps) also built green:
    /// the failure is flaky, not caused by the code.
    #[serde(default)]
    pub flaky: Option<Flaky>,
}

/// Evidence that a failure is flaky: the same code passed, as a whole build
/// or test by test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Flaky {
    /// A green build of the same steps on the same working-tree hash, or,
    /// when every failed test passed on this tree (a rerun of the failed
    /// tests), the newest build in which one of them passed.
    pub passed_build: i64,
    pub tree_hash: String,
    /// The tests that failed here and passed there.
    pub tests: Vec<String>,
}

/// One step as a client asks for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    /// The step's name (default `stepN`).
    #[serde(default)]
    pub name: Option<String>,
    /// The shell command, run in the project root.
    pub run: String,
    /// Seconds the step may take (at most a day).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 86400)]
    pub timeout_s: Option<u64>,
    /// Environment variables for this step only.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// `POST /build/run`. Every field is optional: with no steps, the project's
/// `qide.toml` (or detection) decides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    #[serde(default)]
    pub steps: Option<Vec<StepRequest>>,
    /// A `[profiles.NAME]` of `qide.toml`.
    #[serde(default)]
    pub profile: Option<String>,
    /// Environment variables for every step; secret-looking values are
    /// masked in the log.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Seconds the whole build may take (at most a day).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 86400)]
    pub timeout_s: Option<u64>,
    /// Who asks; defaults to `api` (1 to 40 characters), or `rerun` with
    /// `rerun_of`.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 40)]
    pub trigger: Option<String>,
    /// The build this one reruns: its failed tests, run again on the same
    /// working tree to tell flaky tests from real failures (422 when it
    /// does not exist).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub rerun_of: Option<i64>,
}

/// 202 answer of `POST /build/run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunAccepted {
    pub id: i64,
    pub status: BuildStatus,
}

/// One stored log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LogLine {
    /// Line number, from 1 over the whole build.
    pub n: i64,
    /// `stdout`, `stderr` or `system` (QIDE's own notes).
    pub stream: String,
    pub step: String,
    pub text: String,
}

/// `GET /build/{id}/log`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LogPage {
    pub lines: Vec<LogLine>,
    /// Lines captured so far over the whole build, dropped ones included.
    pub total_lines: i64,
    /// True when more lines matched than `limit` allowed.
    pub truncated: bool,
    /// Where to continue (`from=`) for the next page, if any.
    pub next_from: Option<i64>,
    pub dropped: Option<LogDropped>,
}

/// A server-sent event of `GET /build/{id}/events`, as its `data` JSON. The
/// SSE `event` name is the variant name (`status`, `log`, `done`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum BuildEvent {
    /// The build or one of its steps changed state.
    Status { build: Build },
    /// New log lines.
    Log { lines: Vec<LogLine> },
    /// The build finished; nothing follows.
    Done { build: Build },
}

/// Git state of the project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GitInfo {
    pub head: Option<String>,
    pub branch: Option<String>,
    pub dirty: Option<bool>,
}

/// A file of the project in the codebase listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CodebaseFile {
    pub path: String,
    pub size: u64,
    pub lines: u64,
    pub language: Option<String>,
    pub tokens: u64,
}

/// A source file's first lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SourcePreview {
    pub path: String,
    pub lines: Vec<String>,
    pub truncated: bool,
}

/// Files and lines of one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LanguageStat {
    pub name: String,
    pub files: u64,
    pub lines: u64,
}

/// The project at a glance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StructureSummary {
    pub has_backend: bool,
    pub has_frontend: bool,
    pub has_tests: bool,
    pub languages: Vec<LanguageStat>,
    pub file_count: u64,
    pub total_lines: u64,
    pub total_tokens: u64,
}

/// `GET /llm/learning/codebase`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Codebase {
    pub root: String,
    pub files: Vec<CodebaseFile>,
    /// Path → content of the project's configuration files.
    pub key_files: BTreeMap<String, String>,
    pub source_previews: Vec<SourcePreview>,
    pub structure_summary: StructureSummary,
    pub git: GitInfo,
    /// The working-tree hash (`b3:<hex>`) the answer was computed under: the
    /// same hash means the same files.
    #[serde(default)]
    pub tree_hash: Option<String>,
}

/// `GET /llm/learning/codebase?mode=pack&budget_tokens=N&build=ID`: file
/// contents within a token budget, most relevant first.
///
/// Order: the files named by the build's diagnostics (root causes first),
/// entry points, key files, other sources, tests, the rest. Files are taken
/// greedily: one that does not fit is left out and smaller ones after it
/// still get in. `tokens` (o200k_base over each file's `content`) is never
/// more than `budget_tokens`; the JSON around the contents is not counted.
/// Secret and lock files are never packed.
///
/// ```json
/// {"mode": "pack", "root": "/src/demo", "budget_tokens": 8000, "tokens": 7412, "build": 42,
///  "tree_hash": "b3:5d1f…",
///  "files": [{"path": "src/lib.rs", "language": "Rust", "reason": "failing", "tokens": 3120,
///             "content": "…"}],
///  "left_out": [{"path": ".env", "reason": "secret", "tokens": null},
///               {"path": "src/big.rs", "reason": "over_budget", "tokens": 9120}],
///  "left_out_count": 2}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CodebasePack {
    /// Always `pack`.
    pub mode: String,
    /// The project root on the server.
    pub root: String,
    /// The budget asked for.
    pub budget_tokens: u64,
    /// Tokens of all packed contents: at most `budget_tokens`.
    pub tokens: u64,
    /// The build whose failing files went first, if one was named.
    pub build: Option<i64>,
    /// The working-tree hash when the pack was made.
    pub tree_hash: Option<String>,
    /// The packed files, most relevant first.
    pub files: Vec<PackedFile>,
    /// Files not packed, in pack order, at most a few thousand; see
    /// `left_out_count` for all.
    pub left_out: Vec<LeftOutFile>,
    /// How many files were left out in all.
    pub left_out_count: u64,
}

/// One file of a [`CodebasePack`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PackedFile {
    /// Path relative to the root.
    pub path: String,
    pub language: Option<String>,
    /// Why it is where it is: `failing`, `entry_point`, `key_file`,
    /// `source`, `test` or `other`.
    pub reason: String,
    /// Tokens of `content`.
    pub tokens: u64,
    /// The whole file, cleaned for models (control characters and ANSI
    /// escapes removed).
    pub content: String,
}

/// A file left out of a [`CodebasePack`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LeftOutFile {
    /// Path relative to the root.
    pub path: String,
    /// `over_budget`, `secret`, `lock_file`, `binary`, `too_large`,
    /// `symlink` or `unreadable`.
    pub reason: String,
    /// Its tokens, when it was read and counted before being left out.
    pub tokens: Option<u64>,
}

/// `GET /llm/learning/codebase?mode=map&budget_tokens=N&build=ID`: the
/// project's definitions, files ranked by how much the rest of the project
/// refers to them, within a token budget.
///
/// `method` says how definitions were found: `regex_outline` (one regular
/// expression per language family, line by line, not a parser). A file's
/// `score` counts mentions of its top-level names in other files. With
/// `build`, the files its diagnostics name come first (`failing`), then the
/// files defining names they mention (`referenced_by_failing`), then the
/// rest (`ranked`). `tokens` (o200k_base over each file's `text`) is never
/// more than `budget_tokens`; a file that does not fit whole may appear with
/// its top-level definitions only (`truncated`).
///
/// A map answers within a time limit (10 s on the server). When parsing
/// every source file would take longer (a cold map of a large tree), the
/// map is made from the files parsed by then, failing files and their
/// neighbours first: `partial` is true, `files_parsed` of `files_total`
/// says how much was seen and `note` says so in a sentence. The rest go on
/// being parsed on the server, so a repeat call is more complete.
///
/// ```json
/// {"mode": "map", "method": "regex_outline", "root": "/src/demo", "budget_tokens": 4096,
///  "tokens": 880, "build": null, "tree_hash": "b3:5d1f…",
///  "partial": false, "files_total": 2, "files_parsed": 2, "note": null,
///  "files": [{"path": "src/store.rs", "language": "Rust", "reason": "ranked", "score": 12,
///             "tokens": 40, "truncated": false,
///             "definitions": [{"kind": "struct", "name": "Store", "line": 10,
///                              "signature": "pub struct Store {", "member": false}],
///             "text": "src/store.rs\n  10: pub struct Store {\n"}],
///  "left_out": ["src/rare.rs"], "left_out_count": 1}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CodebaseMap {
    /// Always `map`.
    pub mode: String,
    /// How definitions were found: `regex_outline`.
    pub method: String,
    /// The project root on the server.
    pub root: String,
    /// The budget asked for.
    pub budget_tokens: u64,
    /// Tokens of all files' `text`: at most `budget_tokens`.
    pub tokens: u64,
    /// The build the map is centred on, if one was named.
    pub build: Option<i64>,
    /// The working-tree hash when the map was made.
    pub tree_hash: Option<String>,
    /// The files, most relevant first.
    pub files: Vec<MapFile>,
    /// Files with definitions that did not fit, in rank order (at most a few
    /// thousand listed).
    pub left_out: Vec<String>,
    /// How many files were left out in all.
    pub left_out_count: u64,
    /// The time limit came before every source file was parsed: the map is
    /// made from `files_parsed` of `files_total` files, and the rest are
    /// being parsed for the next call.
    #[serde(default)]
    pub partial: bool,
    /// Source files the map reads: kept files in a language it knows, not
    /// secret, not lock files, not over the size limit.
    #[serde(default)]
    pub files_total: u64,
    /// Of those, the files whose definitions the map was made from.
    #[serde(default)]
    pub files_parsed: u64,
    /// For a partial map, what was left out and why; `null` otherwise.
    #[serde(default)]
    pub note: Option<String>,
}

/// One file of a [`CodebaseMap`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MapFile {
    /// Path relative to the root.
    pub path: String,
    pub language: String,
    /// `failing`, `referenced_by_failing` or `ranked`.
    pub reason: String,
    /// Mentions of the file's top-level names in other files.
    pub score: u64,
    /// Tokens of `text`.
    pub tokens: u64,
    /// Members (methods) were dropped to fit the budget.
    pub truncated: bool,
    /// The definitions, in line order.
    pub definitions: Vec<MapDefinition>,
    /// The file as a model reads it: the path, then `line: signature` per
    /// definition, members indented further.
    pub text: String,
}

/// One definition in a [`MapFile`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MapDefinition {
    /// The keyword (`fn`, `struct`, `class`, `def`, `func`, `impl`…), or
    /// `function`/`method` where the language has none.
    pub kind: String,
    pub name: String,
    /// Line number, from 1.
    pub line: u64,
    /// The defining line, trimmed and cleaned, at most 160 bytes.
    pub signature: String,
    /// A member of a type, impl or class rather than a top-level item.
    pub member: bool,
}

/// `GET /llm/learning/file?path=&start=&end=`: lines of one file of the
/// project, numbered from 1, text cleaned for models (ANSI escapes, control
/// characters other than tab and bidirectional overrides removed).
///
/// ```json
/// {"path": "src/lib.rs", "start": 10, "end": 12, "total_lines": 575, "truncated": false,
///  "next_start": null,
///  "lines": [{"n": 10, "text": "use std::fmt;"}, {"n": 11, "text": ""}, {"n": 12, "text": "pub struct Version {"}]}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FileText {
    /// The path, relative to the project root, `/`-separated and normalised
    /// (`./a//b` is `a/b`).
    pub path: String,
    /// The first line of the range: `start` as asked, or 1.
    pub start: u64,
    /// The number of the last line returned. When the range starts past the
    /// end of the file no lines are returned and `end` is `start - 1`.
    pub end: u64,
    /// How many lines the whole file has.
    pub total_lines: u64,
    /// Fewer lines were returned than the range holds (a server limit on
    /// lines or bytes per answer), or a very long line was cut.
    pub truncated: bool,
    /// Where to continue (`start=`) when the range was cut short by a limit.
    pub next_start: Option<u64>,
    /// The lines, in order.
    pub lines: Vec<NumberedLine>,
}

/// One line of a [`FileText`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NumberedLine {
    /// Line number, from 1.
    pub n: u64,
    /// The text, without its line end.
    pub text: String,
}

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub version: String,
}

/// An error answer, `application/problem+json` (RFC 9457).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable error code (`invalid_field`, `not_found`, …).
    pub code: String,
    /// The offending field, for validation errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
