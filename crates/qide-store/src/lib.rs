//! QIDE's persistence.
//!
//! One [`Store`] trait holds builds, their steps, their logs (as line-numbered
//! chunks, so ranges, tails and greps read only what they need), diagnoses
//! and reports. [`SqlStore`] implements it over SQLite (the embedded default,
//! WAL mode) and PostgreSQL with the same SQL, differing only where the two
//! dialects must. One contract test suite runs against both.

mod log_text;
mod migrations;
mod sql;

use std::collections::BTreeMap;

pub use log_text::{LogPacker, PackedText};
pub use qide_api::BuildStatus;
pub use sql::{Backend, SqlStore};

/// What can go wrong talking to the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist (a build id, say).
    #[error("{0} not found")]
    NotFound(String),
    /// The change conflicts with the stored state (finishing a finished build).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached in time (pool exhausted, I/O).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// A stored value could not be read back (a corrupt row).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e.to_string())
            }
            e => StoreError::Database(e),
        }
    }
}

/// Result of a store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A build to queue.
#[derive(Debug, Clone, Default)]
pub struct NewBuild {
    pub trigger: String,
    /// Timeout for the whole build.
    pub timeout_s: Option<u64>,
    /// Environment for every step, on top of the server's.
    pub env: BTreeMap<String, String>,
    pub steps: Vec<NewStep>,
    pub created_at_ms: i64,
    /// The build this one reruns (failed tests run again on the same tree).
    pub rerun_of: Option<i64>,
}

/// A step of a build to queue.
#[derive(Debug, Clone, Default)]
pub struct NewStep {
    pub name: String,
    pub run: String,
    pub timeout_s: Option<u64>,
    pub env: BTreeMap<String, String>,
}

/// A build as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildRecord {
    pub id: i64,
    pub status: BuildStatus,
    pub trigger: String,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub dirty: Option<bool>,
    pub tree_hash: Option<String>,
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub exit_code: Option<i32>,
    pub failure_kind: Option<String>,
    pub failure_category: Option<String>,
    pub error_count: i64,
    pub warning_count: i64,
    pub report_count: i64,
    pub timeout_s: Option<u64>,
    /// The build's own environment; kept only until it finishes, because
    /// values may be secrets.
    pub env: BTreeMap<String, String>,
    pub log: LogMeta,
    /// The build this one reruns, when it is a rerun of failed tests.
    pub rerun_of: Option<i64>,
}

/// A step as stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepRecord {
    pub idx: i64,
    pub name: String,
    pub run: String,
    pub status: String,
    pub exit_code: Option<i32>,
    pub signal: Option<String>,
    pub failure_kind: Option<String>,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub timeout_s: Option<u64>,
    pub env: BTreeMap<String, String>,
    pub first_line: Option<i64>,
    pub last_line: Option<i64>,
}

/// The state of the working tree a build ran on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkspaceState {
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub dirty: Option<bool>,
    pub tree_hash: Option<String>,
}

/// Progress of a step, written as it starts and as it ends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepUpdate {
    pub idx: i64,
    pub status: String,
    pub exit_code: Option<i32>,
    pub signal: Option<String>,
    pub failure_kind: Option<String>,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub first_line: Option<i64>,
    pub last_line: Option<i64>,
}

/// How a build ended.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildFinish {
    pub status: BuildStatus,
    pub exit_code: Option<i32>,
    pub failure_kind: Option<String>,
    pub finished_at_ms: i64,
}

/// What the diagnoser made of a finished build's log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiagnosisRecord {
    pub error_count: i64,
    pub warning_count: i64,
    pub failure_category: Option<String>,
    /// The serialised log summary, opaque to the store.
    pub summary: Vec<u8>,
    /// The root-cause failures of the build, tracked across builds.
    pub fingerprints: Vec<FingerprintSeen>,
    /// Every test result the log and the test reports showed, passed ones
    /// included: a test that failed and passed on the same working tree is
    /// flaky.
    pub tests: Vec<TestResult>,
}

/// A failure as one build saw it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FingerprintSeen {
    pub fingerprint: String,
    pub category: String,
    pub tool: String,
    pub code: Option<String>,
    pub message: String,
    pub file: Option<String>,
}

/// A failure tracked across builds.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternRecord {
    pub fingerprint: String,
    pub category: String,
    pub tool: String,
    pub code: Option<String>,
    /// The message as it was last seen.
    pub message: String,
    pub file: Option<String>,
    pub first_build: i64,
    pub last_build: i64,
    /// Builds it appeared in.
    pub occurrences: i64,
    pub first_seen_at_ms: i64,
    pub last_seen_at_ms: i64,
    /// `open`, or `resolved` once a later build of the same steps succeeded.
    pub status: String,
    /// The green build that resolved it.
    pub resolved_build: Option<i64>,
    /// Reports linked to it.
    pub report_count: i64,
}

/// An access token as stored: its hash, never the token itself.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub id: i64,
    pub name: String,
    /// Hex digest of the token.
    pub hash: String,
    /// `read`, `run`, `report`, `admin`.
    pub scopes: Vec<String>,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    pub last_used_at_ms: Option<i64>,
}

/// An agent's lease on a build it is analysing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub build_id: i64,
    pub agent: String,
    pub expires_at_ms: i64,
}

/// What a claim attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The lease is the caller's (new, taken over after expiry, or renewed).
    Claimed(Claim),
    /// Another agent holds an unexpired lease.
    Held(Claim),
    /// An agent already reported on the build.
    Analyzed,
}

/// How well an agent's confidence matched what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    pub agent: Option<String>,
    pub model: Option<String>,
    /// Reports about failures that could be judged.
    pub reports: i64,
    /// Of those, how many were followed by a green build resolving them.
    pub resolved: i64,
    /// Mean squared gap between confidence and outcome (0 is perfect).
    pub brier: f64,
}

/// Which patterns to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatternFilter {
    pub status: Option<String>,
    pub category: Option<String>,
    pub skip: i64,
    pub limit: i64,
}

/// Patterns of one category.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryCount {
    pub category: String,
    pub open: i64,
    pub resolved: i64,
    /// Builds with a failure of this category.
    pub occurrences: i64,
}

/// Size and gaps of a build's log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogMeta {
    /// Lines captured, dropped ones included; the next line is `line_count + 1`.
    pub line_count: i64,
    /// Bytes captured, dropped ones included.
    pub bytes: i64,
    /// The dropped middle, when the log outgrew its cap.
    pub dropped: Option<Dropped>,
}

/// A contiguous run of log lines that were not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    pub first_line: i64,
    pub last_line: i64,
    pub bytes: i64,
}

/// A run of consecutive log lines of one step, stored together.
///
/// `text` is the lines joined by `\n` (a line never contains `\n`), `streams`
/// has one byte per line: `o` stdout, `e` stderr, `s` QIDE's own notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChunk {
    pub seq: i64,
    pub step_idx: i64,
    pub first_line: i64,
    pub text: Vec<u8>,
    pub streams: Vec<u8>,
}

impl LogChunk {
    /// Number of lines in the chunk.
    pub fn line_count(&self) -> i64 {
        self.streams.len() as i64
    }

    /// The last line number in the chunk.
    pub fn last_line(&self) -> i64 {
        self.first_line + self.line_count() - 1
    }

    /// The lines with their numbers and stream bytes.
    pub fn lines(&self) -> impl Iterator<Item = (i64, u8, &[u8])> + '_ {
        self.text
            .split(|&b| b == b'\n')
            .zip(self.streams.iter().copied())
            .enumerate()
            .map(|(i, (text, stream))| (self.first_line + i as i64, stream, text))
    }
}

/// A report to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    pub build_id: i64,
    pub kind: String,
    pub analysis: String,
    pub recommendations: Vec<String>,
    pub confidence: f64,
    pub fingerprints: Vec<String>,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub created_at_ms: i64,
}

/// A stored report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRecord {
    pub id: i64,
    pub build_id: i64,
    pub kind: String,
    pub analysis: String,
    pub recommendations: Vec<String>,
    pub confidence: f64,
    pub fingerprints: Vec<String>,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub created_at_ms: i64,
}

/// Which builds to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildFilter {
    /// Only builds in this status; all builds when `None`.
    pub status: Option<BuildStatus>,
    /// Matching builds to pass over, newest first; negative means 0.
    pub skip: i64,
    /// Most builds to return; 0 or negative returns none (the total is
    /// still counted).
    pub limit: i64,
}

// --- Dashboard: filtered build lists, trends and chart data ---

/// Which builds the dashboard lists: [`BuildFilter`] plus a failure
/// category.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildQuery {
    /// Only builds in this status; all builds when `None`.
    pub status: Option<BuildStatus>,
    /// Only builds whose diagnosis gave this failure category.
    pub category: Option<String>,
    /// Matching builds to pass over, newest first; negative means 0.
    pub skip: i64,
    /// Most builds to return; 0 or negative returns none.
    pub limit: i64,
}

/// Builds created in one time bucket, for the success-rate and duration
/// charts.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendBucket {
    /// Start of the bucket (a multiple of the bucket length since the epoch).
    pub start_ms: i64,
    /// Builds created in the bucket, whatever their status.
    pub total: i64,
    pub success: i64,
    pub failed: i64,
    pub error: i64,
    /// Mean run time of the bucket's finished builds that ran.
    pub mean_duration_ms: Option<f64>,
    /// Longest run time among them.
    pub max_duration_ms: Option<i64>,
}

/// How many failed or errored builds had one failure category.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryFailures {
    /// `None` for failures the diagnosis could not put in a category.
    pub category: Option<String>,
    pub builds: i64,
}

/// How many builds saw a fingerprint in one time bucket: a point of a
/// pattern's sparkline.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternActivity {
    pub fingerprint: String,
    pub start_ms: i64,
    pub builds: i64,
}

/// Reports of one type.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportKindCount {
    pub kind: String,
    pub reports: i64,
    pub mean_confidence: f64,
}

// --- Tests: per-test results across builds, for flaky detection ---

/// One test's result in a build.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestResult {
    /// The name as the runner prints it (`tests::parses`,
    /// `tests/test_x.py::test_y`).
    pub name: String,
    /// The runner that ran it (`cargo-test`, `nextest`, `pytest`, `jest`,
    /// `go`), when known.
    pub tool: Option<String>,
    /// `passed`, `failed` or `skipped` (see [`TEST_OUTCOMES`]).
    pub outcome: String,
    pub duration_ms: Option<i64>,
    /// The head of the failure message (the store keeps at most
    /// [`MAX_TEST_MESSAGE`] bytes of it).
    pub message: Option<String>,
    pub file: Option<String>,
    pub line: Option<i64>,
}

/// The outcomes a [`TestResult`] may have.
pub const TEST_OUTCOMES: [&str; 3] = ["passed", "failed", "skipped"];

/// Longest failure message head stored per test, in bytes.
pub const MAX_TEST_MESSAGE: usize = 1000;

/// A stored test result with the build it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct TestResultRecord {
    pub build_id: i64,
    /// The working-tree hash of the build, copied when the result was
    /// stored.
    pub tree_hash: Option<String>,
    pub test: TestResult,
}

/// A failed test of one build that is flaky: it passed on the same working
/// tree, or it is known to have done so on another tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlakyFailure {
    pub name: String,
    /// The newest build on the same working tree in which the test passed.
    pub passed_build: Option<i64>,
    /// Working trees on which the test has both failed and passed.
    pub flaky_trees: i64,
}

/// A test that has failed and passed on the same working tree, with its
/// history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlakyTestRecord {
    pub name: String,
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

// --- Users, dashboard sessions and the audit trail (auth and security) ---

/// A person who signs in to the dashboard with a password.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: i64,
    pub name: String,
    /// The argon2 hash in PHC string form; never the password.
    pub password_hash: String,
    /// What the user's sessions may do: `read`, `run`, `report`, `admin`.
    pub scopes: Vec<String>,
    pub created_at_ms: i64,
}

/// A session to store when someone signs in.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSession {
    /// Hex digest of the session id; the id itself lives only in the
    /// browser's cookie (or the agent's `session_id`).
    pub hash: String,
    /// The user's or token's name, shown as who did what.
    pub subject: String,
    /// The user signed in, when it was a password sign-in: removing the
    /// user ends the session.
    pub user_id: Option<i64>,
    /// The token signed in with, when it was a token sign-in: revoking the
    /// token ends the session.
    pub token_id: Option<i64>,
    pub scopes: Vec<String>,
    pub created_at_ms: i64,
    /// When the session ends unless it is used before then.
    pub expires_at_ms: i64,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub subject: String,
    pub user_id: Option<i64>,
    pub token_id: Option<i64>,
    pub scopes: Vec<String>,
    pub created_at_ms: i64,
    pub last_seen_at_ms: i64,
    pub expires_at_ms: i64,
}

/// Something to record in the audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAudit {
    pub at_ms: i64,
    /// Who did it: a token's or user's name, `local` on an open server, or
    /// `cli` for commands run on the server's machine.
    pub actor: String,
    /// What was done, a stable word: `build.run`, `build.cancel`,
    /// `report.create`, `session.sign_in`, `token.create`, …
    pub action: String,
    /// What it was done to (`build:42`, `user:alice`), if anything.
    pub target: Option<String>,
    /// A short human note (the sign-in method, a failure reason).
    pub detail: Option<String>,
    /// The peer address the request came from, when there was one.
    pub remote: Option<String>,
}

/// A recorded audit event.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: i64,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub remote: Option<String>,
}

/// QIDE's persistence, one implementation per database.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Queues a build with its steps; returns its id.
    async fn create_build(&self, new: &NewBuild) -> Result<i64>;

    /// Takes the oldest queued build and marks it running, atomically, so
    /// two runners never claim the same build.
    async fn claim_next_build(&self, now_ms: i64) -> Result<Option<BuildRecord>>;

    /// Records the working-tree state a running build sees; `NotFound` if
    /// the build does not exist.
    async fn set_workspace(&self, build_id: i64, state: &WorkspaceState) -> Result<()>;

    /// Records a step starting or ending.
    async fn update_step(&self, build_id: i64, update: &StepUpdate) -> Result<()>;

    /// Stores a log chunk and the log's new size in one transaction;
    /// `NotFound` if the build does not exist.
    async fn append_log_chunk(&self, build_id: i64, chunk: &LogChunk, meta: &LogMeta)
    -> Result<()>;

    /// Deletes a stored chunk (the log cap dropping the middle) and records
    /// the new gap, in one transaction; `NotFound` if the build does not
    /// exist.
    async fn drop_log_chunk(&self, build_id: i64, seq: i64, meta: &LogMeta) -> Result<()>;

    /// Stores new chunks (their text packed beforehand with a
    /// [`LogPacker`], so compression need not wait for the database),
    /// deletes the chunks numbered in `drop` (the log cap dropping the
    /// middle; a chunk appended in the same call may be among them) and
    /// records the log's new size, all in one transaction; `NotFound` if the
    /// build does not exist. Once it returns, the chunks survive a crash.
    async fn write_log(
        &self,
        build_id: i64,
        append: &[(&LogChunk, &PackedText)],
        drop: &[i64],
        meta: &LogMeta,
    ) -> Result<()>;

    /// Chunks holding lines at or after `from_line`, in line order, at most
    /// `max_chunks` of them: the chunk holding `from_line` comes first, and a
    /// `from_line` in a dropped gap starts at the first chunk after it.
    async fn log_chunks_from(
        &self,
        build_id: i64,
        from_line: i64,
        max_chunks: i64,
    ) -> Result<Vec<LogChunk>>;

    /// The last `max_chunks` chunks, in line order.
    async fn log_chunks_last(&self, build_id: i64, max_chunks: i64) -> Result<Vec<LogChunk>>;

    /// Ends a running build with its diagnosis; `Conflict` if it was not
    /// running. Forgets the build's environment. Records the diagnosis'
    /// fingerprints across builds, and when the build succeeded, resolves
    /// the open fingerprints last seen in a build of the same steps. Stores
    /// the diagnosis' test results with the build's tree hash; `Conflict`
    /// (and nothing stored) for a test outcome not in [`TEST_OUTCOMES`].
    async fn finish_build(
        &self,
        build_id: i64,
        finish: &BuildFinish,
        diagnosis: Option<&DiagnosisRecord>,
    ) -> Result<()>;

    /// Ends a build that is still queued as cancelled; false if it was not
    /// queued.
    async fn cancel_queued(&self, build_id: i64, now_ms: i64) -> Result<bool>;

    /// A build, or `NotFound`.
    async fn get_build(&self, build_id: i64) -> Result<BuildRecord>;

    /// The steps of a build, in order.
    async fn list_steps(&self, build_id: i64) -> Result<Vec<StepRecord>>;

    /// Builds, newest first, and how many match in all.
    async fn list_builds(&self, filter: &BuildFilter) -> Result<(Vec<BuildRecord>, i64)>;

    /// The stored diagnosis summary of a build, if it has one.
    async fn diagnosis(&self, build_id: i64) -> Result<Option<Vec<u8>>>;

    /// Stores a report; `NotFound` if its build does not exist. Durable when
    /// it returns. The report is linked to its `fingerprints`, or when it
    /// names none, to the fingerprints of its build.
    async fn insert_report(&self, new: &NewReport) -> Result<ReportRecord>;

    /// Reports of a build, oldest first.
    async fn list_reports(&self, build_id: i64) -> Result<Vec<ReportRecord>>;

    /// Failure patterns, most recently seen first, and how many match.
    async fn list_patterns(&self, filter: &PatternFilter) -> Result<(Vec<PatternRecord>, i64)>;

    /// Pattern counts per category.
    async fn category_counts(&self) -> Result<Vec<CategoryCount>>;

    /// The patterns of a build that earlier builds had too.
    async fn known_issues(&self, build_id: i64) -> Result<Vec<PatternRecord>>;

    /// Reports linked to a fingerprint, written about builds before
    /// `before_build`, oldest first.
    async fn reports_for_fingerprint(
        &self,
        fingerprint: &str,
        before_build: i64,
    ) -> Result<Vec<ReportRecord>>;

    /// Stores a new token; `Conflict` if the name is taken.
    async fn create_token(
        &self,
        name: &str,
        hash: &str,
        scopes: &[String],
        now_ms: i64,
    ) -> Result<TokenRecord>;

    /// Every token, revoked ones included, oldest first.
    async fn list_tokens(&self) -> Result<Vec<TokenRecord>>;

    /// Revokes the token with this name; `NotFound` if there is none.
    async fn revoke_token(&self, name: &str, now_ms: i64) -> Result<()>;

    /// The unrevoked token with this hash, marking it used.
    async fn use_token(&self, hash: &str, now_ms: i64) -> Result<Option<TokenRecord>>;

    /// How many tokens are not revoked: with none, a loopback server is open.
    async fn active_token_count(&self) -> Result<i64>;

    /// Gives `agent` a lease of `lease_ms` on a build, atomically: unless
    /// another agent holds an unexpired one, or an agent already reported
    /// on the build. `NotFound` for an unknown build.
    async fn claim_build(
        &self,
        build_id: i64,
        agent: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<ClaimOutcome>;

    /// Per agent and model: reports linked to failures, judged by whether a
    /// green build resolved the failure after the report (outcome 1) or not
    /// yet (0), with the Brier score of their confidence.
    async fn calibration(&self) -> Result<Vec<Calibration>>;

    /// How many builds there are in each status.
    async fn build_counts(&self) -> Result<Vec<(BuildStatus, i64)>>;

    /// The newest successful build with a commit that came before
    /// `build_id`: the base suspect changes are measured from.
    async fn last_green_before(&self, build_id: i64) -> Result<Option<BuildRecord>>;

    /// The newest successful build of the same steps on this working-tree
    /// hash other than `except`: the same code passing, which makes a
    /// failure on it flaky.
    async fn green_build_on_tree(
        &self,
        tree_hash: &str,
        steps_of: i64,
        except: i64,
    ) -> Result<Option<i64>>;

    // --- Tests and flakiness ---

    /// The test results stored with a build's diagnosis, in the order they
    /// were seen.
    async fn test_results(&self, build_id: i64) -> Result<Vec<TestResultRecord>>;

    /// The failed tests of a build that are flaky: each has passed on the
    /// build's working tree (in any build), or has failed and passed on some
    /// other tree. In the order the build saw them.
    async fn flaky_failures(&self, build_id: i64) -> Result<Vec<FlakyFailure>>;

    /// Tests that have failed and passed on the same working tree, the most
    /// recently failed first, and how many there are in all.
    async fn list_flaky_tests(&self, skip: i64, limit: i64) -> Result<(Vec<FlakyTestRecord>, i64)>;

    /// The other builds, oldest first, that failed a test which passed in
    /// `build_id` on the same working tree: the builds whose failures that
    /// pass may have shown to be flaky.
    async fn builds_failing_what_passed_in(&self, build_id: i64) -> Result<Vec<i64>>;

    /// Sets the failure category of a finished build, when what it failed
    /// on turns out, later, to be something else (flaky tests); `NotFound`
    /// if the build does not exist.
    async fn set_failure_category(&self, build_id: i64, category: &str) -> Result<()>;

    // --- Users, sessions and the audit trail ---

    /// Stores a new user; `Conflict` if the name is taken.
    async fn create_user(
        &self,
        name: &str,
        password_hash: &str,
        scopes: &[String],
        now_ms: i64,
    ) -> Result<UserRecord>;

    /// Every user, oldest first.
    async fn list_users(&self) -> Result<Vec<UserRecord>>;

    /// The user with this name, if any.
    async fn get_user(&self, name: &str) -> Result<Option<UserRecord>>;

    /// How many users exist: like a token, a user makes the server require
    /// sign-in.
    async fn user_count(&self) -> Result<i64>;

    /// Removes a user and ends their sessions; `NotFound` if there is none.
    async fn remove_user(&self, name: &str) -> Result<()>;

    /// Stores a session, and forgets sessions that expired before it began.
    async fn create_session(&self, new: &NewSession) -> Result<()>;

    /// The live session with this hash (unexpired, its token unrevoked, its
    /// user not removed), its idle expiry pushed to `now_ms + idle_ms`.
    async fn use_session(
        &self,
        hash: &str,
        now_ms: i64,
        idle_ms: i64,
    ) -> Result<Option<SessionRecord>>;

    /// Ends a session; false if there was none with this hash.
    async fn end_session(&self, hash: &str) -> Result<bool>;

    /// Records an audit event.
    async fn add_audit(&self, new: &NewAudit) -> Result<AuditRecord>;

    /// Audit events, newest first, and how many there are in all.
    async fn list_audit(&self, skip: i64, limit: i64) -> Result<(Vec<AuditRecord>, i64)>;

    /// Marks every build left `running` (by a server that died) as `error`
    /// with kind `interrupted`, keeping their logs. Returns their ids.
    async fn mark_interrupted(&self, now_ms: i64) -> Result<Vec<i64>>;

    // --- Dashboard: filtered build lists, trends and chart data ---

    /// Builds matching `query`, newest first, and how many match in all.
    async fn search_builds(&self, query: &BuildQuery) -> Result<(Vec<BuildRecord>, i64)>;

    /// Builds created at or after `since_ms`, counted per `bucket_ms`-long
    /// bucket (buckets without builds are left out), oldest first.
    async fn build_trend(&self, since_ms: i64, bucket_ms: i64) -> Result<Vec<TrendBucket>>;

    /// Failed and errored builds created at or after `since_ms`, per failure
    /// category, most frequent first.
    async fn failure_categories(&self, since_ms: i64) -> Result<Vec<CategoryFailures>>;

    /// For each of `fingerprints`, the builds created at or after `since_ms`
    /// that saw it, per `bucket_ms`-long bucket (empty buckets left out).
    async fn pattern_activity(
        &self,
        fingerprints: &[String],
        since_ms: i64,
        bucket_ms: i64,
    ) -> Result<Vec<PatternActivity>>;

    /// Reports written at or after `since_ms`, per type.
    async fn report_kinds(&self, since_ms: i64) -> Result<Vec<ReportKindCount>>;

    /// The newest `limit` reports linked to a fingerprint, about builds
    /// before `before_build`, newest first, and how many there are in all.
    async fn latest_reports_for_fingerprint(
        &self,
        fingerprint: &str,
        before_build: i64,
        limit: i64,
    ) -> Result<(Vec<ReportRecord>, i64)>;
}
