//! QIDE's HTTP server: the seed's `/llm/learning/*` API, builds, logs,
//! server-sent events, health and metrics, all errors as problem+json.
//!
//! [`router`] builds the routes over an [`AppState`]; [`serve`] runs them on
//! a listener until the `shutdown` future completes. Handlers are thin: the
//! work is in `qide-runner`, `qide-store`, `qide-diagnose` and
//! `qide-codebase`.

mod cache;
mod convert;
mod error;
mod extract;
mod packet;
mod routes;
mod summary;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use qide_runner::Runner;
use qide_store::Store;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;

pub use error::AppError;
pub use summary::LogSummarizer;

/// Largest request body accepted (1 MiB).
pub const BODY_LIMIT: usize = 1 << 20;
/// Longest an ordinary request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest `GET /build/{id}?wait=` may wait.
pub const MAX_WAIT_S: u64 = 300;

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub(crate) requests: AtomicU64,
    pub(crate) client_errors: AtomicU64,
    pub(crate) server_errors: AtomicU64,
    pub(crate) reports: AtomicU64,
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub runner: Runner,
    /// The project root (canonical).
    pub root: Arc<PathBuf>,
    pub metrics: Arc<Metrics>,
    /// Serialised answers that only builds and reports change.
    pub(crate) answers: Arc<cache::AnswerCache>,
    /// The codebase summary, remembered by tree hash.
    pub(crate) codebase: Arc<qide_codebase::SummaryCache>,
}

impl AppState {
    /// State over a store and a runner for the project at the runner's root.
    pub fn new(store: Arc<dyn Store>, runner: Runner) -> AppState {
        let root = Arc::new(runner.root().to_path_buf());
        let answers = Arc::new(cache::AnswerCache::default());
        // Any build event (a status change, new log lines, a lag that hid
        // some) makes cached answers stale.
        let mut events = runner.subscribe();
        let watched = Arc::downgrade(&answers);
        tokio::spawn(async move {
            loop {
                let event = events.recv().await;
                let Some(answers) = watched.upgrade() else {
                    return;
                };
                match event {
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        answers.invalidate()
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        AppState {
            store,
            runner,
            root,
            metrics: Arc::new(Metrics::default()),
            answers,
            codebase: Arc::new(qide_codebase::SummaryCache::new()),
        }
    }
}

/// All routes.
pub fn router(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    // Long polls and event streams manage their own time; everything else
    // gets the request timeout.
    let quick = routes::quick_routes().layer(TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        REQUEST_TIMEOUT,
    ));
    Router::new()
        .merge(quick)
        .merge(routes::streaming_routes())
        .fallback(|| async { AppError::NotFound("no such route".to_owned()) })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(error::problem_for_bare_errors))
        .layer(axum::middleware::from_fn(
            move |req, next: axum::middleware::Next| {
                let metrics = metrics.clone();
                async move {
                    let response = next.run(req).await;
                    metrics.requests.fetch_add(1, Ordering::Relaxed);
                    if response.status().is_client_error() {
                        metrics.client_errors.fetch_add(1, Ordering::Relaxed);
                    } else if response.status().is_server_error() {
                        metrics.server_errors.fetch_add(1, Ordering::Relaxed);
                    }
                    response
                }
            },
        ))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes, then lets open
/// requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
