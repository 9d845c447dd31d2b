//! The routes, next to their handlers, and the OpenAPI operations they make.
//!
//! Each group is an `OpenApiRouter`: a handler is registered through its
//! `#[utoipa::path]` annotation (`routes!`), which gives the router its
//! path and method and the document its operation in one step. The server
//! and `GET /openapi.json` build the same groups, so what is served and what
//! is documented are one list.

mod builds;
mod codebase;
mod learning;
mod log;
mod ops;

// The dashboard shows a build's suspect changes as the failure packet does.
pub(crate) use learning::suspect_changes;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::{AppState, openapi};

/// Routes answered at once, under the request timeout.
pub(crate) fn quick_routes() -> Router<AppState> {
    quick_api().split_for_parts().0
}

/// Routes that hold the connection: long polls and event streams.
pub(crate) fn streaming_routes() -> Router<AppState> {
    streaming_api().split_for_parts().0
}

fn quick_api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ops::health))
        .routes(routes!(ops::metrics))
        .routes(routes!(openapi::openapi_json))
        .routes(routes!(builds::run))
        .routes(routes!(builds::cancel))
        .routes(routes!(log::log_page))
        .routes(routes!(learning::builds))
        .routes(routes!(learning::build_detail))
        .routes(routes!(codebase::codebase))
        .routes(routes!(learning::report))
        .routes(routes!(learning::patterns))
        .routes(routes!(learning::claim))
        .routes(routes!(codebase::file))
        .routes(routes!(crate::audit::list))
}

fn streaming_api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(builds::get_build))
        .routes(routes!(log::events))
        .routes(routes!(log::all_events))
}

/// The operations of both groups, for the OpenAPI document; the quick ones
/// with the 408 their timeout answers.
pub(crate) fn operations() -> utoipa::openapi::OpenApi {
    let mut quick = quick_api().into_openapi();
    openapi::for_each_operation(&mut quick, |_, _, operation| {
        openapi::add_problem(
            operation,
            408,
            "`timeout`: the answer took longer than the request timeout (30 s).",
        );
    });
    quick.merge(streaming_api().into_openapi());
    quick
}
