//! The dashboard: server-rendered HTML pages (maud, which escapes by
//! default) over the same store and summary code as the JSON API.
//!
//! Pages: `/` (builds), `/builds/{id}` (one build), `/builds/{id}/log` (the
//! log, one page of lines at a time), `/patterns`, `/stats`, `/run`. Forms
//! post to `/run`, `/builds/{id}/cancel` and `/builds/{id}/rerun`, each with
//! a CSRF token. Assets (`/assets/...`) are compiled into the binary.
//!
//! Two rules hold for every page. Everything that came from a build (log
//! lines, diagnostics, reports, file names, commands, branch names) goes
//! through [`text::untrusted`] or [`ansi::render_line`], which escape it and
//! make control and bidirectional characters visible. And no page reads an
//! unbounded amount: lists are pages of a fixed size, the log viewer reads
//! the chunks of one page of lines, a log search scans a bounded number of
//! lines per request, and charts read aggregates, never builds.
//!
//! Live updates are small plain JavaScript (`assets/live.js`) that follows
//! the API's server-sent events and fetches fresh HTML fragments of the same
//! pages; without JavaScript every page still reads correctly.

mod actions;
mod ansi;
mod assets;
mod builds;
mod charts;
mod insights;
mod layout;
mod log;
mod text;

use axum::Router;
use axum::routing::{get, post};
use tower_http::timeout::TimeoutLayer;

use crate::{AppState, REQUEST_TIMEOUT};

/// The dashboard's routes. The caller mounts them behind the access check,
/// which gives `GET` pages the `read` scope, the forms `run`, and leaves
/// `/assets/...` open.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(builds::list))
        .route("/builds/{id}", get(builds::detail))
        .route("/builds/{id}/log", get(log::viewer))
        .route("/builds/{id}/cancel", post(actions::cancel))
        .route("/builds/{id}/rerun", post(actions::rerun))
        .route("/run", get(actions::run_form).post(actions::run))
        .route("/patterns", get(insights::patterns))
        .route("/stats", get(insights::stats))
        .route("/assets/{*file}", get(assets::asset))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
}

/// The failure categories `qide-diagnose` assigns, for the list's filter.
pub(crate) const CATEGORIES: [&str; 12] = [
    "compile_error",
    "syntax_error",
    "test_failure",
    "missing_dependency",
    "lint",
    "timeout",
    "out_of_memory",
    "crash",
    "network",
    "config_error",
    "infrastructure",
    "unknown",
];
