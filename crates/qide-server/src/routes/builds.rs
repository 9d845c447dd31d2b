//! Builds: queue one, read one (optionally waiting for it), cancel one.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use qide_api as api;
use qide_runner::{BuildRequest, CancelOutcome, EnqueueError, PlanError, RunnerEvent, StepSpec};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::convert;
use crate::extract::{ApiJson, ApiQuery, BuildId};
use crate::{AppError, AppState, MAX_WAIT_S};

/// Longest `timeout_s` a build may ask for (one day).
const MAX_TIMEOUT_S: u64 = 24 * 3600;

/// `POST /build/run`: plan and queue a build.
#[utoipa::path(
    post,
    path = "/build/run",
    operation_id = "run_build",
    tag = "builds",
    summary = "Start a build",
    description = "Queues a build of the given steps, or, without `steps`, of the project's \
                   `qide.toml` (a `profile` of it) or the steps detected for the project. \
                   Follow it with `GET /build/{id}?wait=`, `GET /build/{id}/events` or \
                   `GET /events`.",
    security(("bearer" = ["run"])),
    request_body(content = api::RunRequest, content_type = "application/json",
                 description = "What to run; every field is optional (send `{}`)."),
    responses(
        (status = 202, description = "Queued.", body = api::RunAccepted,
         links(
            ("get_build" = (operation_id = "get_build",
                            parameters(("id" = "$response.body#/id")),
                            description = "The build, or with `wait` its end.")),
            ("follow_build" = (operation_id = "follow_build",
                               parameters(("id" = "$response.body#/id")),
                               description = "Its events as it runs.")),
            ("get_build_log" = (operation_id = "get_build_log",
                                parameters(("id" = "$response.body#/id")),
                                description = "Its log.")),
            ("get_build_detail" = (operation_id = "get_build_detail",
                                   parameters(("id" = "$response.body#/id")),
                                   description = "Its failure packet.")),
            ("cancel_build" = (operation_id = "cancel_build",
                               parameters(("id" = "$response.body#/id")),
                               description = "Stop it.")),
         )),
        (status = 422, description = "`invalid_field`: a field is out of range (`field` \
            names it; a step's fields as `steps[N].timeout_s`), or the `profile` is not in \
            `qide.toml`. `no_build_steps`: no steps were sent and none are configured or \
            detected. `invalid_config`: `qide.toml` cannot be read.",
         body = api::Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many builds started by this \
            caller; `Retry-After` says when to try again.",
         body = api::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn run(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<api::RunRequest>,
) -> Result<(StatusCode, Json<api::RunAccepted>), AppError> {
    if let Some(t) = request.timeout_s
        && (t == 0 || t > MAX_TIMEOUT_S)
    {
        return Err(AppError::field(
            "timeout_s",
            format!("timeout_s must be between 1 and {MAX_TIMEOUT_S}"),
        ));
    }
    let steps = match request.steps {
        None => None,
        Some(steps) => {
            if steps.is_empty() {
                return Err(AppError::field(
                    "steps",
                    "steps must not be empty; leave it out to use qide.toml",
                ));
            }
            if steps.len() > 100 {
                return Err(AppError::field("steps", "at most 100 steps"));
            }
            let mut specs = Vec::with_capacity(steps.len());
            for (i, step) in steps.into_iter().enumerate() {
                if let Some(t) = step.timeout_s
                    && (t == 0 || t > MAX_TIMEOUT_S)
                {
                    return Err(AppError::field(
                        format!("steps[{i}].timeout_s"),
                        format!("timeout_s must be between 1 and {MAX_TIMEOUT_S}"),
                    ));
                }
                let spec = StepSpec {
                    name: step.name.unwrap_or_else(|| format!("step{}", i + 1)),
                    run: step.run,
                    timeout_s: step.timeout_s,
                    env: step.env,
                };
                qide_runner::validate_step(&spec)
                    .map_err(|detail| AppError::field(format!("steps[{i}]"), detail))?;
                specs.push(spec);
            }
            Some(specs)
        }
    };
    for name in request.env.keys() {
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            return Err(AppError::field(
                "env",
                format!("invalid environment variable name {name:?}"),
            ));
        }
    }
    // A rerun of failed tests names the build it reruns, which must exist.
    if let Some(original) = request.rerun_of {
        match state.store.get_build(original).await {
            Ok(_) => {}
            Err(qide_store::StoreError::NotFound(_)) => {
                return Err(AppError::field(
                    "rerun_of",
                    format!("rerun_of names build {original}, which does not exist"),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let default_trigger = if request.rerun_of.is_some() {
        "rerun"
    } else {
        "api"
    };
    let trigger = request
        .trigger
        .unwrap_or_else(|| default_trigger.to_owned());
    if trigger.is_empty() || trigger.len() > 40 {
        return Err(AppError::field(
            "trigger",
            "trigger must be 1 to 40 characters",
        ));
    }
    let build_request = BuildRequest {
        steps,
        profile: request.profile,
        env: request.env,
        timeout_s: request.timeout_s,
        trigger,
        rerun_of: request.rerun_of,
    };
    let id = state
        .runner
        .enqueue(build_request)
        .await
        .map_err(|e| match e {
            EnqueueError::Plan(PlanError::UnknownProfile(p)) => AppError::field(
                "profile",
                format!("profile {p:?} is not defined in qide.toml"),
            ),
            EnqueueError::Plan(PlanError::NoSteps) => AppError::Unprocessable {
                code: "no_build_steps",
                detail: PlanError::NoSteps.to_string(),
            },
            EnqueueError::Plan(e @ (PlanError::InvalidConfig(_) | PlanError::Read(_))) => {
                AppError::Unprocessable {
                    code: "invalid_config",
                    detail: e.to_string(),
                }
            }
            EnqueueError::InvalidStep(detail) => AppError::field("steps", detail),
            EnqueueError::Store(e) => e.into(),
        })?;
    Ok((
        StatusCode::ACCEPTED,
        Json(api::RunAccepted {
            id,
            status: api::BuildStatus::Queued,
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct WaitQuery {
    /// Seconds to wait for the build to finish before answering (at most
    /// 300; default 0, answer at once).
    #[param(maximum = 300)]
    wait: Option<u64>,
}

/// `GET /build/{id}`: the build with its steps; with `?wait=N`, answers as
/// soon as the build finishes or after N seconds, whichever comes first.
#[utoipa::path(
    get,
    path = "/build/{id}",
    operation_id = "get_build",
    tag = "builds",
    summary = "A build and its steps",
    description = "With `?wait=N`, answers as soon as the build finishes or after N \
                   seconds, whichever comes first: the way to wait without polling.",
    security(("bearer" = ["read"])),
    params(
        ("id" = i64, Path, description = "The build's id.", minimum = 1),
        WaitQuery,
    ),
    responses(
        (status = 200, description = "The build, with its steps.", body = api::Build),
        (status = 404, description = "`not_found`: no such build.",
         body = api::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_build(
    State(state): State<AppState>,
    BuildId(id): BuildId,
    ApiQuery(query): ApiQuery<WaitQuery>,
) -> Result<Json<api::Build>, AppError> {
    let wait = query.wait.unwrap_or(0);
    if wait > MAX_WAIT_S {
        return Err(AppError::field(
            "wait",
            format!("wait must be at most {MAX_WAIT_S} seconds"),
        ));
    }
    // Subscribe before reading, so a finish in between is not missed.
    let mut events = state.runner.subscribe();
    let mut build = state.store.get_build(id).await?;
    if wait > 0 && !build.status.is_finished() {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
        loop {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Err(_) => break,
                Ok(Ok(RunnerEvent::Finished { build_id })) if build_id == id => break,
                Ok(Ok(_)) => continue,
                Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {
                    if state.store.get_build(id).await?.status.is_finished() {
                        break;
                    }
                }
                Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => break,
            }
        }
        build = state.store.get_build(id).await?;
    }
    let steps = state.store.list_steps(id).await?;
    Ok(Json(convert::build(&build, Some(&steps))))
}

/// `POST /build/{id}/cancel`: stop a queued or running build. 202 while it
/// stops, 200 when it was still queued, 409 when it had already finished.
#[utoipa::path(
    post,
    path = "/build/{id}/cancel",
    operation_id = "cancel_build",
    tag = "builds",
    summary = "Cancel a build",
    description = "A queued build is dropped at once (200); a running one is stopped: \
                   SIGTERM to its process group, a grace period, then SIGKILL (202 while \
                   it stops). Takes no body.",
    security(("bearer" = ["run"])),
    params(("id" = i64, Path, description = "The build's id.", minimum = 1)),
    responses(
        (status = 200, description = "It was still queued and will not run.",
         body = api::Build),
        (status = 202, description = "It is being stopped.", body = api::Build),
        (status = 404, description = "`not_found`: no such build.",
         body = api::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: the build had already finished.",
         body = api::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    BuildId(id): BuildId,
) -> Result<(StatusCode, Json<api::Build>), AppError> {
    let outcome = state.runner.cancel(id).await?;
    let status = match outcome {
        CancelOutcome::Dequeued => StatusCode::OK,
        CancelOutcome::Stopping => StatusCode::ACCEPTED,
        CancelOutcome::AlreadyFinished(s) => {
            return Err(AppError::Conflict(format!(
                "build {id} already finished ({})",
                s.as_str()
            )));
        }
    };
    let build = state.store.get_build(id).await?;
    let steps = state.store.list_steps(id).await?;
    Ok((status, Json(convert::build(&build, Some(&steps)))))
}
