//! Running builds.
//!
//! A build is a list of steps; each step is a shell command run in its own
//! process group in the project root, with a timeout, a no-output timeout and
//! cancellation (SIGTERM to the group, a grace period, SIGKILL). Output of
//! both pipes is captured in arrival order into numbered lines that stream to
//! the store in chunks ([`capture`]), so neither the child nor memory is held
//! up by how much a build prints.
//!
//! [`Runner`] is the queue's consumer: it claims queued builds from the store,
//! runs them, asks a [`Diagnose`] implementation to read the finished log, and
//! records the outcome with a stable [`FailureKind`].

mod capture;
mod junit;
mod plan;
mod process;
mod redact;
mod rerun;
mod secrets;
mod step;
mod workspace;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qide_store::{
    BuildFinish, BuildRecord, BuildStatus, DiagnosisRecord, LogChunk, NewBuild, NewStep,
    StepUpdate, Store, StoreError,
};
use tokio::sync::{Notify, Semaphore, broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use capture::{STDERR, STDOUT, SYSTEM};
pub use junit::{TestReports, find_reports};
pub use plan::{
    BuildSection, CONFIG_FILE, Plan, PlanError, Profile, ProjectConfig, StepSpec, detect_steps,
    render_init, validate_step,
};
pub use process::{command, signal_name};
pub use redact::{MASK, Redactor};
pub use rerun::{FailedTest, RerunError, RerunPlan, TestTool, detect_test_tool, rerun_command};

/// `text` with the secrets the detectors recognise masked: cloud and service
/// keys and tokens, private key blocks, JWTs, passwords in URLs and in
/// `password=`-style assignments.
pub fn mask_secrets(text: &str) -> std::borrow::Cow<'_, str> {
    secrets::mask(text)
}
pub use workspace::{FileDiff, changed_files, file_diff, git_state, workspace_state};

/// Limits that bound a build; every field has a documented default.
#[derive(Debug, Clone, Copy)]
pub struct BuildLimits {
    /// Longest a whole build may run unless it asks otherwise (1 hour).
    pub build_timeout: Duration,
    /// A step that prints nothing for this long is stopped (10 minutes).
    pub no_output_timeout: Duration,
    /// Between SIGTERM and SIGKILL when a step is stopped (5 seconds).
    pub kill_grace: Duration,
    /// After a step's main process exits, how long its pipes may stay open
    /// (held by a background grandchild) before the group is killed (2 s).
    pub linger_after_exit: Duration,
    /// Log bytes kept per build; past it, head and tail are kept (64 MiB).
    pub log_cap_bytes: u64,
    /// Longest stored line; the rest is counted, not kept (64 KiB).
    pub max_line_bytes: usize,
    /// Size at which a log chunk is written (1 MiB): big enough that the
    /// per-write cost of the database is small next to the bytes.
    pub chunk_bytes: usize,
    /// Longest a captured line waits before readers can see it (100 ms).
    pub flush_interval: Duration,
    /// Builds run at the same time (1: builds share one working tree).
    pub max_concurrent_builds: usize,
}

impl Default for BuildLimits {
    fn default() -> BuildLimits {
        BuildLimits {
            build_timeout: Duration::from_secs(3600),
            no_output_timeout: Duration::from_secs(600),
            kill_grace: Duration::from_secs(5),
            linger_after_exit: Duration::from_secs(2),
            log_cap_bytes: 64 << 20,
            max_line_bytes: 64 << 10,
            chunk_bytes: 1 << 20,
            flush_interval: Duration::from_millis(100),
            max_concurrent_builds: 1,
        }
    }
}

/// Why a build or step did not succeed. [`FailureKind::kind`] is the stable
/// name stored in the database and sent on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The command exited with a non-zero code.
    ExitNonZero,
    /// The command was ended by a signal it did not get from QIDE (a crash).
    Signal,
    /// The step or build ran past its timeout.
    Timeout,
    /// The step printed nothing for longer than the no-output timeout.
    NoOutputTimeout,
    /// The shell could not find the command (exit code 127).
    CommandNotFound,
    /// The command exists but could not be executed (exit code 126).
    CommandNotExecutable,
    /// The process could not be started at all.
    SpawnFailed,
    /// Someone cancelled the build.
    Cancelled,
    /// The server stopped or died while the build ran.
    Interrupted,
}

impl FailureKind {
    /// The stable name.
    pub fn kind(self) -> &'static str {
        match self {
            FailureKind::ExitNonZero => "exit_non_zero",
            FailureKind::Signal => "signal",
            FailureKind::Timeout => "timeout",
            FailureKind::NoOutputTimeout => "no_output_timeout",
            FailureKind::CommandNotFound => "command_not_found",
            FailureKind::CommandNotExecutable => "command_not_executable",
            FailureKind::SpawnFailed => "spawn_failed",
            FailureKind::Cancelled => "cancelled",
            FailureKind::Interrupted => "interrupted",
        }
    }

    /// `failed` when the build ran and failed, `error` when it could not run
    /// or was interrupted.
    pub fn status(self) -> BuildStatus {
        match self {
            FailureKind::ExitNonZero
            | FailureKind::Signal
            | FailureKind::Timeout
            | FailureKind::NoOutputTimeout => BuildStatus::Failed,
            FailureKind::CommandNotFound
            | FailureKind::CommandNotExecutable
            | FailureKind::SpawnFailed
            | FailureKind::Cancelled
            | FailureKind::Interrupted => BuildStatus::Error,
        }
    }
}

/// What happens to builds, for live readers (server-sent events, long polls).
#[derive(Debug, Clone)]
pub enum RunnerEvent {
    /// The build or one of its steps changed state; read it from the store.
    Status { build_id: i64 },
    /// Lines were stored.
    Log { build_id: i64, chunk: Arc<LogChunk> },
    /// The build finished and its diagnosis is stored.
    Finished { build_id: i64 },
}

impl RunnerEvent {
    /// The build the event is about.
    pub fn build_id(&self) -> i64 {
        match self {
            RunnerEvent::Status { build_id }
            | RunnerEvent::Log { build_id, .. }
            | RunnerEvent::Finished { build_id } => *build_id,
        }
    }
}

/// Reads a finished build's log and returns what to store about it.
#[async_trait::async_trait]
pub trait Diagnose: Send + Sync + 'static {
    /// Called after the last step, before the build is marked finished,
    /// with the JUnit XML reports the steps wrote.
    async fn diagnose(&self, build: &BuildRecord, reports: &TestReports)
    -> Option<DiagnosisRecord>;

    /// Called once the build is recorded as finished with its diagnosis,
    /// before anyone is told it finished: what it shows about other builds
    /// (a test that passed here after failing on the same tree) is settled
    /// by the time a waiting client looks.
    async fn finished(&self, _build_id: i64) {}
}

/// A build to queue, as a client asks for it.
#[derive(Debug, Clone, Default)]
pub struct BuildRequest {
    /// Explicit steps; `None` lets `qide.toml` or detection decide.
    pub steps: Option<Vec<StepSpec>>,
    pub profile: Option<String>,
    pub env: BTreeMap<String, String>,
    pub timeout_s: Option<u64>,
    pub trigger: String,
    /// The build this one reruns (its failed tests, on the same tree).
    pub rerun_of: Option<i64>,
}

/// Why a build could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    /// No steps could be planned.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A requested step is not valid.
    #[error("{0}")]
    InvalidStep(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a cancel request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The build had not started; it is now `error`/`cancelled`.
    Dequeued,
    /// The build is being stopped; it ends as `error`/`cancelled`.
    Stopping,
    /// The build had already finished.
    AlreadyFinished(BuildStatus),
}

#[derive(Debug, Clone)]
struct CancelHandle {
    token: CancellationToken,
    reason: Arc<Mutex<FailureKind>>,
}

impl CancelHandle {
    fn cancel(&self, reason: FailureKind) {
        if let Ok(mut r) = self.reason.lock()
            && !self.token.is_cancelled()
        {
            *r = reason;
        }
        self.token.cancel();
    }

    fn reason(&self) -> FailureKind {
        self.reason
            .lock()
            .map(|r| *r)
            .unwrap_or(FailureKind::Cancelled)
    }
}

struct Inner {
    store: Arc<dyn Store>,
    root: PathBuf,
    limits: BuildLimits,
    events: broadcast::Sender<RunnerEvent>,
    wake: Notify,
    running: Mutex<HashMap<i64, CancelHandle>>,
    /// Values of secret-looking environment variables of queued builds,
    /// kept in memory only: the store gets the names with empty values.
    secret_env: Mutex<HashMap<i64, SecretEnv>>,
    enqueue_gate: tokio::sync::Mutex<()>,
    diagnose: Arc<dyn Diagnose>,
}

/// Secret environment values of one build: its own and each step's.
#[derive(Debug, Default)]
struct SecretEnv {
    build: BTreeMap<String, String>,
    steps: HashMap<i64, BTreeMap<String, String>>,
}

/// Moves the values of secret-looking variables out of `env`, leaving the
/// names with empty values.
fn take_secrets(env: &mut BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut secrets = BTreeMap::new();
    for (name, value) in env.iter_mut() {
        if redact::is_secret_name(name) && !value.is_empty() {
            secrets.insert(name.clone(), std::mem::take(value));
        }
    }
    secrets
}

/// True when `env` names a secret whose value is not in `secrets`.
fn missing_secret(
    env: &BTreeMap<String, String>,
    secrets: Option<&BTreeMap<String, String>>,
) -> Option<String> {
    env.iter()
        .find(|(name, value)| {
            redact::is_secret_name(name)
                && value.is_empty()
                && secrets.is_none_or(|s| !s.contains_key(*name))
        })
        .map(|(name, _)| name.clone())
}

/// Runs the queued builds of one project.
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Runner {
    /// A runner for the project at `root`.
    pub fn new(
        store: Arc<dyn Store>,
        root: PathBuf,
        limits: BuildLimits,
        diagnose: Arc<dyn Diagnose>,
    ) -> Runner {
        // Log events hold chunks of up to `chunk_bytes`: the ring's size
        // bounds the memory a slow subscriber can pin (16 × ~1 MiB). A
        // subscriber that falls behind is told so and rereads the store.
        let (events, _) = broadcast::channel(16);
        Runner {
            inner: Arc::new(Inner {
                store,
                root,
                limits,
                events,
                wake: Notify::new(),
                running: Mutex::new(HashMap::new()),
                secret_env: Mutex::new(HashMap::new()),
                enqueue_gate: tokio::sync::Mutex::new(()),
                diagnose,
            }),
        }
    }

    /// The project root builds run in.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// Live build events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<RunnerEvent> {
        self.inner.events.subscribe()
    }

    /// Plans and queues a build; the runner picks it up at once.
    pub async fn enqueue(&self, request: BuildRequest) -> Result<i64, EnqueueError> {
        let (steps, timeout_s, env) = match request.steps {
            Some(steps) => {
                if steps.is_empty() {
                    return Err(EnqueueError::InvalidStep(
                        "steps must not be empty".to_owned(),
                    ));
                }
                for step in &steps {
                    validate_step(step).map_err(EnqueueError::InvalidStep)?;
                }
                (steps, request.timeout_s, request.env)
            }
            None => {
                let plan = Plan::for_project(&self.inner.root, request.profile.as_deref())?;
                let mut env = plan.env;
                env.extend(request.env);
                (plan.steps, request.timeout_s.or(plan.timeout_s), env)
            }
        };
        if timeout_s == Some(0) {
            return Err(EnqueueError::InvalidStep(
                "timeout_s must be at least 1".to_owned(),
            ));
        }
        let mut new = NewBuild {
            trigger: request.trigger,
            timeout_s,
            env,
            steps: steps
                .into_iter()
                .map(|s| NewStep {
                    name: s.name,
                    run: s.run,
                    timeout_s: s.timeout_s,
                    env: s.env,
                })
                .collect(),
            created_at_ms: now_ms(),
            rerun_of: request.rerun_of,
        };
        let mut secrets = SecretEnv {
            build: take_secrets(&mut new.env),
            steps: HashMap::new(),
        };
        for (idx, step) in new.steps.iter_mut().enumerate() {
            secrets
                .steps
                .insert(idx as i64, take_secrets(&mut step.env));
        }
        let id = {
            // The runner takes this gate before it reads a build's secrets,
            // so it cannot start the build before they are in place.
            let _gate = self.inner.enqueue_gate.lock().await;
            let id = self.inner.store.create_build(&new).await?;
            if let Ok(mut map) = self.inner.secret_env.lock() {
                map.insert(id, secrets);
            }
            id
        };
        let _ = self.inner.events.send(RunnerEvent::Status { build_id: id });
        self.inner.wake.notify_one();
        Ok(id)
    }

    /// Cancels a queued or running build.
    pub async fn cancel(&self, build_id: i64) -> Result<CancelOutcome, StoreError> {
        if self.inner.store.cancel_queued(build_id, now_ms()).await? {
            if let Ok(mut map) = self.inner.secret_env.lock() {
                map.remove(&build_id);
            }
            let _ = self.inner.events.send(RunnerEvent::Status { build_id });
            let _ = self.inner.events.send(RunnerEvent::Finished { build_id });
            return Ok(CancelOutcome::Dequeued);
        }
        let handle = self.running_handle(build_id);
        if let Some(handle) = handle {
            handle.cancel(FailureKind::Cancelled);
            return Ok(CancelOutcome::Stopping);
        }
        let build = self.inner.store.get_build(build_id).await?;
        if build.status.is_finished() {
            Ok(CancelOutcome::AlreadyFinished(build.status))
        } else {
            // Claimed by a runner elsewhere, or between claim and start.
            Ok(CancelOutcome::Stopping)
        }
    }

    /// Where running steps' process groups are recorded: `.qide/running`.
    fn groups_dir(&self) -> Option<PathBuf> {
        let dir = self.inner.root.join(".qide").join("running");
        match std::fs::create_dir_all(&dir) {
            Ok(()) => Some(dir),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), %e, "cannot record process groups");
                None
            }
        }
    }

    /// Kills the processes of steps that a previous server was running when
    /// it died. Call once at start, before [`Runner::run`]. Returns how many
    /// processes were killed.
    pub fn kill_orphans(&self) -> usize {
        let Some(dir) = self.groups_dir() else {
            return 0;
        };
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return 0;
        };
        let mut killed = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "pgid") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let mut parts = text.split_whitespace().map(str::parse::<u64>);
                if let (Some(Ok(pgid)), Some(Ok(start))) = (parts.next(), parts.next()) {
                    killed += process::kill_leftovers(pgid as i32, start);
                }
                let _ = std::fs::remove_file(&path);
            }
        }
        killed
    }

    fn running_handle(&self, build_id: i64) -> Option<CancelHandle> {
        self.inner
            .running
            .lock()
            .ok()
            .and_then(|m| m.get(&build_id).cloned())
    }

    /// Claims and runs queued builds until `shutdown` fires; then stops the
    /// running builds (they end as `error`/`interrupted`, logs kept) and
    /// returns once they are recorded.
    pub async fn run(&self, shutdown: CancellationToken) {
        let permits = Arc::new(Semaphore::new(
            self.inner.limits.max_concurrent_builds.max(1),
        ));
        let tracker = TaskTracker::new();
        loop {
            let permit = tokio::select! {
                p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
                () = shutdown.cancelled() => break,
            };
            match self.inner.store.claim_next_build(now_ms()).await {
                Ok(Some(build)) => {
                    let runner = self.clone();
                    tracker.spawn(async move {
                        runner.execute(build).await;
                        drop(permit);
                    });
                }
                Ok(None) => {
                    drop(permit);
                    tokio::select! {
                        () = self.inner.wake.notified() => {}
                        // Builds queued by another server sharing the database.
                        () = tokio::time::sleep(Duration::from_secs(2)) => {}
                        () = shutdown.cancelled() => break,
                    }
                }
                Err(e) => {
                    drop(permit);
                    tracing::error!(%e, "claiming the next build");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        () = shutdown.cancelled() => break,
                    }
                }
            }
        }
        let handles: Vec<CancelHandle> = self
            .inner
            .running
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        for handle in handles {
            handle.cancel(FailureKind::Interrupted);
        }
        tracker.close();
        tracker.wait().await;
    }

    async fn execute(&self, build: BuildRecord) {
        let id = build.id;
        let handle = CancelHandle {
            token: CancellationToken::new(),
            reason: Arc::new(Mutex::new(FailureKind::Cancelled)),
        };
        if let Ok(mut running) = self.inner.running.lock() {
            running.insert(id, handle.clone());
        }
        tracing::info!(build = id, "build started");
        let mut reports = TestReports::new();
        let finish = self.execute_steps(&build, &handle, &mut reports).await;
        if let Ok(mut running) = self.inner.running.lock() {
            running.remove(&id);
        }
        let (status, exit_code, kind) = match finish {
            Ok(result) => result,
            Err(e) => {
                tracing::error!(build = id, %e, "running build");
                (BuildStatus::Error, None, Some("infrastructure"))
            }
        };
        let mut record = match self.inner.store.get_build(id).await {
            Ok(record) => record,
            Err(e) => {
                tracing::error!(build = id, %e, "reading finished build");
                build
            }
        };
        record.status = status;
        let diagnosis = self.inner.diagnose.diagnose(&record, &reports).await;
        let finish = BuildFinish {
            status,
            exit_code,
            failure_kind: kind.map(str::to_owned),
            finished_at_ms: now_ms(),
        };
        match self
            .inner
            .store
            .finish_build(id, &finish, diagnosis.as_ref())
            .await
        {
            Ok(()) => {
                tracing::info!(build = id, status = status.as_str(), "build finished");
                self.inner.diagnose.finished(id).await;
            }
            Err(e) => tracing::error!(build = id, %e, "recording build result"),
        }
        let _ = self.inner.events.send(RunnerEvent::Status { build_id: id });
        let _ = self
            .inner
            .events
            .send(RunnerEvent::Finished { build_id: id });
    }

    async fn execute_steps(
        &self,
        build: &BuildRecord,
        handle: &CancelHandle,
        reports: &mut TestReports,
    ) -> Result<(BuildStatus, Option<i32>, Option<&'static str>), StoreError> {
        let store = &self.inner.store;
        let limits = self.inner.limits;
        let id = build.id;
        let _ = self.inner.events.send(RunnerEvent::Status { build_id: id });
        let state = workspace_state(&self.inner.root).await;
        store.set_workspace(id, &state).await?;
        let _ = self.inner.events.send(RunnerEvent::Status { build_id: id });

        let mut steps = store.list_steps(id).await?;
        let mut build_env = build.env.clone();
        drop(self.inner.enqueue_gate.lock().await);
        let secrets = self
            .inner
            .secret_env
            .lock()
            .ok()
            .and_then(|mut m| m.remove(&id));
        let lost = missing_secret(&build_env, secrets.as_ref().map(|s| &s.build)).or_else(|| {
            steps.iter().find_map(|s| {
                missing_secret(&s.env, secrets.as_ref().and_then(|x| x.steps.get(&s.idx)))
            })
        });
        if let Some(secrets) = secrets {
            build_env.extend(secrets.build);
            for step in &mut steps {
                if let Some(values) = secrets.steps.get(&step.idx) {
                    step.env.extend(values.clone());
                }
            }
        }
        let config = ProjectConfig::load(&self.inner.root)
            .ok()
            .flatten()
            .unwrap_or_default();
        let no_output_timeout = config
            .build
            .no_output_timeout_s
            .map(Duration::from_secs)
            .unwrap_or(limits.no_output_timeout);
        let mut all_env = build_env.clone();
        for step in &steps {
            all_env.extend(step.env.clone());
        }
        let redactor = Arc::new(Redactor::for_build(&all_env, &config.build.redact));
        let capture_limits = capture::CaptureLimits {
            chunk_bytes: limits.chunk_bytes,
            flush_interval: limits.flush_interval,
            max_line_bytes: limits.max_line_bytes,
        };
        let mut chunks = capture::ChunkBuilder::new(capture_limits, redactor);
        // A couple of chunks of slack between the pipes and the compressor
        // (which has its own before the database): each is a MiB of memory.
        let (chunk_tx, chunk_rx) = mpsc::channel::<LogChunk>(2);
        let writer = tokio::spawn(
            capture::LogWriter {
                store: store.clone(),
                build_id: id,
                events: self.inner.events.clone(),
                cap: limits.log_cap_bytes,
                buffers: chunks.buffers(),
            }
            .run(chunk_rx),
        );
        let build_timeout = build
            .timeout_s
            .map(Duration::from_secs)
            .unwrap_or(limits.build_timeout);
        let build_deadline = tokio::time::Instant::now() + build_timeout;

        let mut result: Option<(FailureKind, Option<i32>)> = None;
        if let Some(name) = lost {
            // Secret values live in memory only; a restart loses them.
            chunks.note(&format!(
                "the value of {name} was lost when the server restarted (secrets are never stored); queue the build again"
            ));
            result = Some((FailureKind::Interrupted, None));
        }
        for step in &steps {
            if result.is_some() {
                store
                    .update_step(
                        id,
                        &StepUpdate {
                            idx: step.idx,
                            status: "skipped".to_owned(),
                            ..Default::default()
                        },
                    )
                    .await?;
                continue;
            }
            chunks.set_step(step.idx);
            let first_line = chunks.next_line();
            let started = now_ms();
            let started_wall = std::time::SystemTime::now();
            store
                .update_step(
                    id,
                    &StepUpdate {
                        idx: step.idx,
                        status: "running".to_owned(),
                        started_at_ms: Some(started),
                        ..Default::default()
                    },
                )
                .await?;
            let _ = self.inner.events.send(RunnerEvent::Status { build_id: id });
            let mut env = build_env.clone();
            env.extend(step.env.clone());
            let step_deadline = match step.timeout_s {
                Some(s) => build_deadline.min(tokio::time::Instant::now() + Duration::from_secs(s)),
                None => build_deadline,
            };
            let group_file = self.groups_dir().map(|d| d.join(format!("{id}.pgid")));
            let outcome = step::run_step(
                step::StepRun {
                    name: &step.name,
                    run: &step.run,
                    root: &self.inner.root,
                    env: &env,
                    deadline: step_deadline,
                    no_output_timeout,
                    kill_grace: limits.kill_grace,
                    linger_after_exit: limits.linger_after_exit,
                    cancel: &handle.token,
                    group_file: group_file.as_deref(),
                },
                &mut chunks,
                &chunk_tx,
            )
            .await;
            let failure = match outcome.ended {
                step::Ended::Exited => outcome.failure,
                step::Ended::Cancelled => Some(handle.reason()),
                step::Ended::Timeout => Some(FailureKind::Timeout),
                step::Ended::NoOutput => Some(FailureKind::NoOutputTimeout),
            };
            let last_line = chunks.next_line() - 1;
            let status = match failure {
                None => "success".to_owned(),
                Some(kind) => kind.status().as_str().to_owned(),
            };
            for chunk in chunks.take_ready(true) {
                if chunk_tx.send(chunk).await.is_err() {
                    break;
                }
            }
            store
                .update_step(
                    id,
                    &StepUpdate {
                        idx: step.idx,
                        status,
                        exit_code: outcome.exit_code,
                        signal: outcome.signal.clone(),
                        failure_kind: failure.map(|k| k.kind().to_owned()),
                        started_at_ms: Some(started),
                        finished_at_ms: Some(now_ms()),
                        first_line: Some(first_line),
                        last_line: Some(last_line.max(first_line)),
                    },
                )
                .await?;
            let _ = self.inner.events.send(RunnerEvent::Status { build_id: id });
            // JUnit reports the step wrote: a walk of the project, so off
            // the async threads.
            let root = self.inner.root.clone();
            let found = tokio::task::spawn_blocking(move || {
                let mut found = TestReports::new();
                found.collect(&root, started_wall);
                found
            })
            .await;
            if let Ok(found) = found {
                reports.extend(found);
            }
            if let Some(kind) = failure {
                result = Some((kind, outcome.exit_code));
            }
        }
        for chunk in chunks.take_ready(true) {
            let _ = chunk_tx.send(chunk).await;
        }
        drop(chunk_tx);
        let _meta = writer
            .await
            .map_err(|e| StoreError::Corrupt(format!("log writer: {e}")))?;
        Ok(match result {
            None => (BuildStatus::Success, Some(0), None),
            Some((kind, code)) => (kind.status(), code, Some(kind.kind())),
        })
    }
}
