//! The audit trail: who ran, cancelled and reported what, who signed in
//! and out, recorded in the store with the time and the peer address, and
//! shown to admins at `GET /admin/audit`.
//!
//! Requests are recorded by the access check (`auth::authorize`) after the
//! handler answered with success, so the trail holds what happened, not
//! what was tried; the build a run created is read from the answer.
//! Sign-ins (failed ones too) are recorded by `session.rs`; token and user
//! changes by the CLI, which writes to the same store.

use std::net::SocketAddr;

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use qide_api as api;
use qide_store::{AuditRecord, NewAudit};

use crate::extract::ApiQuery;
use crate::{AppError, AppState, Caller};

/// Largest answer read back to find the id of what was created; the
/// answers audited are small JSON objects.
const MAX_ANSWER: usize = 64 * 1024;

/// Records one event; a failure to record is logged, never the caller's
/// problem.
pub(crate) async fn record(
    state: &AppState,
    actor: &str,
    action: &str,
    target: Option<String>,
    detail: Option<String>,
    peer: Option<SocketAddr>,
) {
    let event = NewAudit {
        at_ms: crate::now_ms(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        target,
        detail,
        remote: peer.map(|p| p.ip().to_string()),
    };
    if let Err(e) = state.store.add_audit(&event).await {
        tracing::error!(error = %e, action, "recording an audit event failed");
    }
}

/// An audited request: what it does, and to which build when the path
/// says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Audited {
    action: &'static str,
    build: Option<i64>,
}

impl Audited {
    /// Whether `method path` is audited.
    pub(crate) fn of(method: &Method, path: &str) -> Option<Audited> {
        if method != Method::POST {
            return None;
        }
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let build = |s: &str| s.parse::<i64>().ok();
        let (action, build) = match segments.as_slice() {
            ["build", "run"] | ["run"] => ("build.run", None),
            ["build" | "builds", id, "cancel"] => ("build.cancel", build(id)),
            ["builds", id, "rerun"] => ("build.rerun", build(id)),
            ["llm", "learning", "report"] => ("report.create", None),
            ["llm", "learning", "build", id, "claim"] => ("build.claim", build(id)),
            _ => return None,
        };
        Some(Audited { action, build })
    }

    /// Records the request if it succeeded, and hands its answer on.
    pub(crate) async fn record(
        self,
        state: &AppState,
        caller: &Caller,
        peer: Option<SocketAddr>,
        response: Response,
    ) -> Response {
        let status = response.status();
        if !(status.is_success() || status.is_redirection()) {
            return response;
        }
        let (response, created) = match self.build {
            Some(_) => (response, Created::default()),
            None => read_created(response).await,
        };
        let build = self.build.or(created.build_id);
        let detail = match (self.action, created.id) {
            ("report.create", Some(id)) => Some(format!("report {id}")),
            ("build.rerun", Some(id)) => Some(format!("new build {id}")),
            _ => None,
        };
        record(
            state,
            &caller.name,
            self.action,
            build.map(|b| format!("build:{b}")),
            detail,
            peer,
        )
        .await;
        response
    }
}

/// Ids found in an answer: `{"id"}` of a queued build, `{"id",
/// "build_id"}` of a report, or a `Location: /builds/ID` redirect.
#[derive(Debug, Default)]
struct Created {
    id: Option<i64>,
    build_id: Option<i64>,
}

async fn read_created(response: Response) -> (Response, Created) {
    if let Some(id) = response
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| l.strip_prefix("/builds/"))
        .and_then(|rest| rest.split(['/', '?', '#']).next())
        .and_then(|id| id.parse().ok())
    {
        return (
            response,
            Created {
                id: Some(id),
                build_id: Some(id),
            },
        );
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !is_json {
        return (response, Created::default());
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ANSWER).await else {
        // Too long to be an audited answer; it is gone, so say so rather
        // than send half of it.
        return (
            AppError::Internal("an audited answer was too long to read".to_owned()).into_response(),
            Created::default(),
        );
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let id = value.get("id").and_then(serde_json::Value::as_i64);
    let build_id = value
        .get("build_id")
        .and_then(serde_json::Value::as_i64)
        .or(id);
    (
        Response::from_parts(parts, Body::from(bytes)),
        Created { id, build_id },
    )
}

/// Paging of `GET /admin/audit`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Events to skip, newest first (default 0).
    #[serde(default)]
    #[param(minimum = 0)]
    skip: Option<i64>,
    /// Most events to return (default 50, at most 500).
    #[serde(default)]
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

fn to_wire(record: AuditRecord) -> api::AuditEvent {
    api::AuditEvent {
        id: record.id,
        at: crate::convert::rfc3339(record.at_ms),
        actor: record.actor,
        action: record.action,
        target: record.target,
        detail: record.detail,
        remote: record.remote,
    }
}

/// `GET /admin/audit?skip=&limit=`: the trail, newest first (admin scope).
#[utoipa::path(
    get,
    path = "/admin/audit",
    operation_id = "list_audit_events",
    tag = "admin",
    summary = "The audit trail",
    description = "Who ran, cancelled and re-ran builds, claimed them, reported, signed in \
                   and out, and changed tokens and users, with when and from where; newest \
                   first. Tokens and passwords are never recorded.",
    security(("bearer" = ["admin"])),
    params(AuditQuery),
    responses((status = 200, description = "A page of audit events.", body = api::AuditList))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<api::AuditList>, AppError> {
    let skip = query.skip.unwrap_or(0);
    let limit = query.limit.unwrap_or(50);
    if skip < 0 {
        return Err(AppError::field("skip", "skip must be 0 or more"));
    }
    if !(1..=500).contains(&limit) {
        return Err(AppError::field("limit", "limit must be between 1 and 500"));
    }
    let (events, total) = state.store.list_audit(skip, limit).await?;
    Ok(Json(api::AuditList {
        events: events.into_iter().map(to_wire).collect(),
        total,
        skip,
        limit,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audited_requests_are_the_ones_that_change_builds_and_reports() {
        let of = |m: Method, p: &str| Audited::of(&m, p).map(|a| (a.action, a.build));
        assert_eq!(of(Method::POST, "/build/run"), Some(("build.run", None)));
        assert_eq!(of(Method::POST, "/run"), Some(("build.run", None)));
        assert_eq!(
            of(Method::POST, "/build/7/cancel"),
            Some(("build.cancel", Some(7)))
        );
        assert_eq!(
            of(Method::POST, "/builds/7/cancel"),
            Some(("build.cancel", Some(7)))
        );
        assert_eq!(
            of(Method::POST, "/builds/3/rerun"),
            Some(("build.rerun", Some(3)))
        );
        assert_eq!(
            of(Method::POST, "/llm/learning/report"),
            Some(("report.create", None))
        );
        assert_eq!(of(Method::GET, "/build/run"), None);
        assert_eq!(of(Method::POST, "/llm/learning/builds"), None);
    }
}
