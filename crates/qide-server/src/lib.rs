//! QIDE's HTTP server: the seed's `/llm/learning/*` API, builds, logs,
//! server-sent events, health and metrics, all errors as problem+json.
//!
//! [`router`] builds the routes over an [`AppState`]; [`serve`] runs them on
//! a listener until the `shutdown` future completes. Handlers are thin: the
//! work is in `qide-runner`, `qide-store`, `qide-diagnose` and
//! `qide-codebase`.

mod audit;
mod auth;
mod cache;
mod convert;
mod dashboard;
mod error;
mod extract;
mod flaky;
mod limits;
mod openapi;
mod packet;
mod routes;
mod session;
mod summary;
mod tls;

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

pub use auth::SecurityOptions;
pub use auth::{Caller, SCOPES, new_token, token_hash};
pub use error::AppError;
pub use limits::{Rate, RateLimits};
pub use openapi::{DocumentedOperation, document, document_json_pretty, documented_operations};
pub use packet::count_tokens;
pub use session::hash_password;
pub use summary::LogSummarizer;
pub use tls::{load_tls_config, serve_tls};

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
    /// Accept requests for any `Host`. Off for a loopback server, where only
    /// `localhost` and IP literals are answered: a web page that rebinds its
    /// own DNS name to 127.0.0.1 must not reach a server that runs commands.
    pub allow_any_host: bool,
    /// Whether tokens are required (any active token exists).
    pub(crate) auth: Arc<auth::AuthState>,
    /// The server's own base URL (`http://127.0.0.1:PORT`), which the MCP
    /// tools at `/mcp` call back; [`serve`] sets it from its listener when
    /// it is `None`. Without it `/mcp` is not mounted.
    pub self_url: Option<String>,
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
            allow_any_host: false,
            auth: Arc::new(auth::AuthState::default()),
            self_url: None,
        }
    }
}

impl AppState {
    /// The CSRF token a form rendered for `caller` carries (a hidden `csrf`
    /// field); see [`AppState::verify_csrf`].
    pub fn csrf_token(&self, caller: &Caller) -> String {
        self.auth.csrf_token(caller)
    }

    /// Checks the CSRF token a posted form sent back: a 403 `csrf_failed`
    /// problem when it is missing, stale or someone else's.
    pub fn verify_csrf(&self, caller: &Caller, given: &str) -> Result<(), AppError> {
        self.auth.verify_csrf(caller, given)
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
    let api = Router::new()
        .merge(quick)
        .merge(routes::streaming_routes())
        .merge(dashboard::routes())
        .merge(session::routes())
        .fallback(|| async { AppError::NotFound("no such route".to_owned()) })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ));
    let cors = auth::cors_layer(state.security());
    let app = Router::new()
        .merge(with_mcp(api, &state))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            host_guard,
        ))
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
        .with_state(state);
    // Outermost, so a preflight is answered before the access check.
    match cors {
        Some(cors) => app.layer(cors),
        None => app,
    }
}

/// `api` with MCP over streamable HTTP at `/mcp`, outside the token check:
/// its tools call the API with the caller's own bearer token, so each call
/// is checked for the scope it needs. The host guard covers it.
fn with_mcp(api: Router<AppState>, state: &AppState) -> Router<AppState> {
    let Some(url) = &state.self_url else {
        return api;
    };
    match qide_client::Client::new(url) {
        Ok(client) => api.nest_service("/mcp", qide_mcp::http_service(client)),
        Err(e) => {
            tracing::warn!("MCP at /mcp is off: {e}");
            api
        }
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    qide_runner::now_ms()
}

/// Refuses requests whose `Host` is a DNS name other than `localhost`,
/// unless the server allows any host (see [`AppState::allow_any_host`]).
async fn host_guard(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !state.allow_any_host {
        let host = request
            .headers()
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        if !is_local_host(host) {
            return AppError::Forbidden {
                code: "host_not_allowed",
                detail: format!(
                    "this server answers only localhost and IP addresses, not {host:?}; \
                     serve on a non-loopback address to accept other names"
                ),
            }
            .into_response();
        }
    }
    next.run(request).await
}

/// True for `localhost` (and `*.localhost`) and IP literals, with or without
/// a port.
fn is_local_host(host: &str) -> bool {
    if let Some(rest) = host.strip_prefix('[') {
        // [v6] or [v6]:port
        return rest
            .split(']')
            .next()
            .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok());
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost") || name.parse::<std::net::IpAddr>().is_ok()
}

/// Serves `state` on `listener` until `shutdown` completes, then lets open
/// requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut state = state;
    if state.self_url.is_none() {
        let mut addr = listener.local_addr()?;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr {
                std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        state.self_url = Some(format!("http://{addr}"));
    }
    // The peer address feeds the audit trail and per-address rate limits.
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

#[cfg(test)]
mod tests {
    use super::is_local_host;

    #[test]
    fn only_local_names_and_ip_literals_pass_the_host_guard() {
        for ok in [
            "localhost",
            "localhost:8000",
            "127.0.0.1:8000",
            "[::1]:8000",
            "10.0.0.5",
            "app.localhost:3000",
        ] {
            assert!(is_local_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8000",
            "localhost.evil.example",
            "127.0.0.1.nip.io:80",
        ] {
            assert!(!is_local_host(bad), "{bad}");
        }
    }
}
