//! `qide serve`: the server over a project, and the same server started
//! in-process when `qide run` finds none running.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use qide_runner::{BuildLimits, Runner};
use qide_server::{AppState, LogSummarizer};
use qide_store::{SqlStore, Store};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// QIDE's own folder inside the project.
pub(crate) const STATE_DIR: &str = ".qide";

/// A server running in this process.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    /// Whether it speaks HTTPS.
    pub(crate) tls: bool,
    pub(crate) root: PathBuf,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    runner: tokio::task::JoinHandle<()>,
    /// Held while this server owns the project's embedded database (see
    /// [`ServerLock`]); released when the server stops or the process dies.
    _lock: Option<ServerLock>,
}

impl Running {
    /// Stops taking requests, stops running builds (recorded as
    /// interrupted), and waits for both.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        let grace = BuildLimits::default().kill_grace + Duration::from_secs(10);
        if tokio::time::timeout(grace, self.runner).await.is_err() {
            tracing::warn!("running builds did not stop in time");
        }
        match tokio::time::timeout(Duration::from_secs(10), self.server).await {
            Ok(Ok(result)) => result.context("serving HTTP")?,
            Ok(Err(e)) => bail!("server task failed: {e}"),
            Err(_) => tracing::warn!("open connections did not close in time"),
        }
        Ok(())
    }

    /// Completes when the server stops by itself (an accept error).
    pub(crate) fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }
}

/// Options of a server.
pub(crate) struct ServeOptions {
    pub(crate) dir: PathBuf,
    pub(crate) bind: SocketAddr,
    pub(crate) database: Option<String>,
    pub(crate) insecure_open: bool,
    /// TLS, limits, sessions, CORS: all off or at their defaults for the
    /// servers `qide run` and `qide mcp` start on loopback.
    pub(crate) security: ServeSecurity,
}

/// How `qide serve` guards a server beyond tokens.
#[derive(Debug, Default)]
pub(crate) struct ServeSecurity {
    /// PEM certificate chain and private key: serve HTTPS.
    pub(crate) tls: Option<(PathBuf, PathBuf)>,
    /// Builds run at once (the runner's default when `None`).
    pub(crate) max_concurrent_builds: Option<usize>,
    /// Sessions, rate limits, CORS.
    pub(crate) options: qide_server::SecurityOptions,
}

/// Opens the store, recovers interrupted builds, and starts the runner and
/// the HTTP server.
pub(crate) async fn start(options: ServeOptions) -> anyhow::Result<Running> {
    let root = options
        .dir
        .canonicalize()
        .with_context(|| format!("project directory {}", options.dir.display()))?;
    if !root.is_dir() {
        bail!("{} is not a directory", root.display());
    }
    let store: Arc<dyn Store> = Arc::new(open_store(&root, options.database.as_deref()).await?);
    if !options.bind.ip().is_loopback()
        && !options.insecure_open
        && store.active_token_count().await? == 0
        && store.user_count().await? == 0
    {
        bail!(
            "refusing to serve {} on a non-loopback address with no tokens or users: anyone \
             who can reach it could run commands; create a token with `qide token create` \
             (or a user with `qide user add`), bind 127.0.0.1, or pass --insecure-open if \
             this network is trusted",
            options.bind
        );
    }
    // Read the certificate before anything starts, so a wrong path is a
    // clear error at once.
    let tls = match &options.security.tls {
        Some((cert, key)) => Some(qide_server::load_tls_config(cert, key).await?),
        None => None,
    };
    // One server per embedded database: a second one would mark the first's
    // running builds as interrupted and run the same queue twice.
    let lock = match options.database {
        Some(_) => None,
        None => Some(ServerLock::take(&root)?),
    };
    let interrupted = store.mark_interrupted(qide_runner::now_ms()).await?;
    if !interrupted.is_empty() {
        tracing::warn!(builds = ?interrupted, "builds left running by a previous server marked as interrupted");
    }
    let summarizer = Arc::new(LogSummarizer {
        store: store.clone(),
        root: root.clone(),
    });
    let mut limits = BuildLimits::default();
    if let Some(max) = options.security.max_concurrent_builds {
        if max == 0 {
            bail!("--max-concurrent-builds must be at least 1");
        }
        limits.max_concurrent_builds = max;
    } else if let Some(max) = configured_concurrency(&root)? {
        limits.max_concurrent_builds = max;
    }
    let runner = Runner::new(store.clone(), root.clone(), limits, summarizer);
    let orphans = runner.kill_orphans();
    if orphans > 0 {
        tracing::warn!(
            processes = orphans,
            "killed processes left by builds of a previous server"
        );
    }
    let listener = TcpListener::bind(options.bind)
        .await
        .with_context(|| format!("binding {}", options.bind))?;
    let addr = listener.local_addr()?;
    if let Some(lock) = &lock {
        lock.announce(&format!(
            "{}://{addr}",
            if tls.is_some() { "https" } else { "http" }
        ));
    }
    let shutdown = CancellationToken::new();
    let runner_task = {
        let runner = runner.clone();
        let token = shutdown.clone();
        tokio::spawn(async move { runner.run(token).await })
    };
    let mut state = AppState::new(store, runner).with_security(options.security.options);
    state.allow_any_host = !options.bind.ip().is_loopback();
    let server = {
        let token = shutdown.clone();
        let stopped = async move { token.cancelled().await };
        match tls.clone() {
            Some(config) => tokio::spawn(qide_server::serve_tls(
                listener.into_std()?,
                config,
                state,
                stopped,
            )),
            None => tokio::spawn(qide_server::serve(listener, state, stopped)),
        }
    };
    Ok(Running {
        addr,
        tls: tls.is_some(),
        root,
        shutdown,
        server,
        runner: runner_task,
        _lock: lock,
    })
}

/// An exclusive `flock` on `.qide/server.lock`, which holds the URL of the
/// server that took it so a second one can say where the first is.
struct ServerLock(nix::fcntl::Flock<std::fs::File>);

impl ServerLock {
    fn take(root: &Path) -> anyhow::Result<ServerLock> {
        let path = root.join(STATE_DIR).join("server.lock");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(ServerLock(lock)),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                let url = std::fs::read_to_string(&path).unwrap_or_default();
                let url = url.trim();
                bail!(
                    "another QIDE server already serves {}{}: point --server at it, or stop it \
                     first",
                    root.display(),
                    if url.is_empty() {
                        String::new()
                    } else {
                        format!(" at {url}")
                    }
                )
            }
            Err((_, e)) => Err(e).with_context(|| format!("locking {}", path.display())),
        }
    }

    /// Records the server's URL in the lock file; only a courtesy for the
    /// message above, so a failure to write it is ignored.
    fn announce(&self, url: &str) {
        use std::io::Write;
        let mut file: &std::fs::File = &self.0;
        let _ = file.set_len(0);
        let _ = file.write_all(format!("{url}\n").as_bytes());
    }
}

pub(crate) async fn open_store(root: &Path, database: Option<&str>) -> anyhow::Result<SqlStore> {
    match database {
        Some(url) => SqlStore::open(url)
            .await
            .with_context(|| format!("opening database {}", redact_url(url))),
        None => {
            let dir = root.join(STATE_DIR);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            // Keeps QIDE's state out of `git status` without touching the
            // project's own .gitignore.
            let ignore = dir.join(".gitignore");
            if !ignore.exists() {
                std::fs::write(&ignore, "*\n")
                    .with_context(|| format!("writing {}", ignore.display()))?;
            }
            let path = dir.join("qide.db");
            SqlStore::open_sqlite(&path)
                .await
                .with_context(|| format!("opening {}", path.display()))
        }
    }
}

/// A database URL without its password, for messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// `qide serve`: runs until ctrl-c or SIGTERM.
pub(crate) async fn serve(options: ServeOptions) -> anyhow::Result<()> {
    let running = start(options).await?;
    eprintln!(
        "qide: serving {} on {}://{}",
        running.root.display(),
        if running.tls { "https" } else { "http" },
        running.addr
    );
    let token = running.shutdown_token();
    tokio::select! {
        () = shutdown_signal() => eprintln!("qide: shutting down"),
        () = token.cancelled() => {}
    }
    running.stop().await
}

/// `[build] max_concurrent_builds` of the project's `qide.toml`, if set. A
/// file that does not parse is left to each build to report (its steps
/// come from it too), but a cap of 0 would run nothing and is refused.
fn configured_concurrency(root: &Path) -> anyhow::Result<Option<usize>> {
    let config = match qide_runner::ProjectConfig::load(root) {
        Ok(config) => config,
        Err(e) => {
            tracing::warn!(%e, "qide.toml: using the default build concurrency");
            return Ok(None);
        }
    };
    match config.and_then(|c| c.build.max_concurrent_builds) {
        Some(0) => bail!("[build] max_concurrent_builds in qide.toml must be at least 1"),
        max => Ok(max),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_passwords_stay_out_of_messages() {
        assert_eq!(
            super::redact_url("postgres://qide:s3cret@db:5432/qide"),
            "postgres://qide:***@db:5432/qide"
        );
        assert_eq!(super::redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
