//! The routes, next to their handlers.

mod builds;
mod codebase;
mod learning;
mod log;
mod ops;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

/// Routes answered at once, under the request timeout.
pub(crate) fn quick_routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(ops::health))
        .route("/metrics", get(ops::metrics))
        .route("/build/run", post(builds::run))
        .route("/build/{id}/cancel", post(builds::cancel))
        .route("/build/{id}/log", get(log::log_page))
        .route("/llm/learning/builds", get(learning::builds))
        .route("/llm/learning/build/{id}", get(learning::build_detail))
        .route("/llm/learning/codebase", get(codebase::codebase))
        .route("/llm/learning/report", post(learning::report))
        .route("/llm/learning/patterns", get(learning::patterns))
        .route("/llm/learning/build/{id}/claim", post(learning::claim))
        .route("/llm/learning/file", get(codebase::file))
}

/// Routes that hold the connection: long polls and event streams.
pub(crate) fn streaming_routes() -> Router<AppState> {
    Router::new()
        .route("/build/{id}", get(builds::get_build))
        .route("/build/{id}/events", get(log::events))
        .route("/events", get(log::all_events))
}
