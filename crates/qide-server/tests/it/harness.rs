//! `spawn_app`: a real server and runner over a fresh temporary project with
//! its own SQLite database, on a loopback port chosen by the OS.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use qide_api as api;
use qide_client::Client;
use qide_runner::{BuildLimits, Runner};
use qide_server::{AppState, LogSummarizer};
use qide_store::{SqlStore, Store};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub(crate) struct TestApp {
    pub(crate) client: Client,
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    pub(crate) dir: TempDir,
    pub(crate) store: Arc<dyn Store>,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Limits for tests: quick to give up, so stopping a step takes a second.
pub(crate) fn test_limits() -> BuildLimits {
    BuildLimits {
        kill_grace: Duration::from_secs(1),
        linger_after_exit: Duration::from_millis(500),
        ..BuildLimits::default()
    }
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(test_limits(), |_| {}).await
}

/// A server over a fresh project that `prepare` fills first.
pub(crate) async fn spawn_app_with(limits: BuildLimits, prepare: impl FnOnce(&Path)) -> TestApp {
    // Rate limits are off: suites that start many builds in a second are
    // not what they are for (`limits.rs` tests them).
    let security = qide_server::SecurityOptions {
        rate_limits: qide_server::RateLimits::off(),
        ..qide_server::SecurityOptions::default()
    };
    spawn_app_secured(limits, security, prepare).await
}

/// A server with its own session, rate-limit and CORS options.
pub(crate) async fn spawn_app_secured(
    limits: BuildLimits,
    security: qide_server::SecurityOptions,
    prepare: impl FnOnce(&Path),
) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    prepare(dir.path());
    let root = dir.path().canonicalize().expect("canonical root");
    std::fs::create_dir_all(root.join(".qide")).expect("state dir");
    let store: Arc<dyn Store> = Arc::new(
        SqlStore::open_sqlite(&root.join(".qide/qide.db"))
            .await
            .expect("open store"),
    );
    let summarizer = Arc::new(LogSummarizer {
        store: store.clone(),
        root: root.clone(),
    });
    let runner = Runner::new(store.clone(), root, limits, summarizer);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let shutdown = CancellationToken::new();
    {
        let runner = runner.clone();
        let token = shutdown.clone();
        tokio::spawn(async move { runner.run(token).await });
    }
    {
        let token = shutdown.clone();
        let state = AppState::new(store.clone(), runner).with_security(security);
        tokio::spawn(qide_server::serve(listener, state, async move {
            token.cancelled().await
        }));
    }
    let base = format!("http://{addr}");
    TestApp {
        client: Client::new(&base).expect("client"),
        base,
        http: reqwest::Client::new(),
        dir,
        store,
        shutdown,
    }
}

pub(crate) fn step(name: &str, run: &str) -> api::StepRequest {
    api::StepRequest {
        name: Some(name.to_owned()),
        run: run.to_owned(),
        timeout_s: None,
        env: Default::default(),
    }
}

impl TestApp {
    pub(crate) fn path(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }

    /// Queues a build of `steps` and returns its id.
    pub(crate) async fn start(&self, steps: Vec<api::StepRequest>) -> i64 {
        let request = api::RunRequest {
            steps: Some(steps),
            ..Default::default()
        };
        let accepted = self.client.run_build(&request).await.expect("queue build");
        assert_eq!(accepted.status, api::BuildStatus::Queued);
        accepted.id
    }

    /// Waits for a build to finish (at most two minutes).
    pub(crate) async fn wait(&self, id: i64) -> api::Build {
        for _ in 0..4 {
            let build = self.client.build(id, Some(30)).await.expect("get build");
            if build.status.is_finished() {
                return build;
            }
        }
        panic!("build {id} did not finish in two minutes");
    }

    /// Runs `steps` to the end.
    pub(crate) async fn run(&self, steps: Vec<api::StepRequest>) -> api::Build {
        let id = self.start(steps).await;
        self.wait(id).await
    }

    /// Every stored line of a build's log.
    pub(crate) async fn log_text(&self, id: i64) -> Vec<api::LogLine> {
        let mut lines = Vec::new();
        let mut query = qide_client::LogQuery {
            limit: Some(5000),
            ..Default::default()
        };
        loop {
            let page = self.client.log(id, &query).await.expect("log page");
            lines.extend(page.lines);
            match page.next_from {
                Some(next) => query.from = Some(next),
                None => return lines,
            }
        }
    }
}

/// True while a process exists and is not a zombie.
pub(crate) fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rfind(')').and_then(|i| stat[i + 2..].chars().next());
            state != Some('Z')
        }
        Err(_) => false,
    }
}

/// Reads a pid a build step wrote to a file in the project.
pub(crate) fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .trim()
        .parse()
        .expect("pid")
}

/// Waits up to two seconds for a process to be gone.
pub(crate) async fn gone(pid: i32) -> bool {
    for _ in 0..40 {
        if !alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Runs git in `dir` as a test's fixture (with a committer identity),
/// failing the test when git fails.
pub(crate) fn git(dir: &Path, args: &[&str]) {
    #[allow(clippy::disallowed_methods)] // a test's own git fixture
    let output = std::process::Command::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Makes `dir` a git repository whose one commit holds all its files.
pub(crate) fn git_repo(dir: &Path) {
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "start"]);
}
