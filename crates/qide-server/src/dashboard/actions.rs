//! What the dashboard's forms do: start a build (`/run`), cancel one, run
//! one again. Every form carries the caller's CSRF token, checked before
//! anything happens; success answers `303 See Other` to the build's page.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use qide_runner::{BuildRequest, EnqueueError, PlanError, StepSpec};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::layout::{Nav, page};
use super::text::Untrusted;
use crate::extract::BuildId;
use crate::{AppError, AppState, Caller};

/// Longest build timeout the form accepts (one day), as the API does.
const MAX_TIMEOUT_S: u64 = 24 * 3600;
/// Most steps one form may list.
const MAX_STEPS: usize = 100;

/// A form body (`application/x-www-form-urlencoded`), with a problem that
/// names the bad field.
fn form<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(body));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner().to_string();
        let field = if field == "." {
            inner.split('`').nth(1).unwrap_or("body").to_owned()
        } else {
            field
        };
        AppError::field(field.clone(), format!("{field}: {inner}"))
    })
}

/// `303 See Other` to `location`.
fn see_other(location: String) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A form that carries nothing but its CSRF token.
#[derive(Debug, Deserialize)]
struct TokenOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /builds/{id}/cancel`: stop a queued or running build.
pub(super) async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    BuildId(id): BuildId,
    body: Bytes,
) -> Result<Response, AppError> {
    let form: TokenOnly = form(&body)?;
    state.verify_csrf(&caller, &form.csrf)?;
    // Cancelling a build that has just finished is no error for a person
    // who clicked a moment too late: the build's page shows how it ended.
    state.runner.cancel(id).await?;
    Ok(see_other(format!("/builds/{id}")))
}

/// `POST /builds/{id}/rerun`: queue a new build with the same steps.
pub(super) async fn rerun(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    BuildId(id): BuildId,
    body: Bytes,
) -> Result<Response, AppError> {
    let form: TokenOnly = form(&body)?;
    state.verify_csrf(&caller, &form.csrf)?;
    let build = state.store.get_build(id).await?;
    let steps = state.store.list_steps(id).await?;
    let request = BuildRequest {
        steps: Some(
            steps
                .into_iter()
                .map(|s| StepSpec {
                    name: s.name,
                    run: s.run,
                    timeout_s: s.timeout_s,
                    env: s.env,
                })
                .collect(),
        ),
        profile: None,
        env: Default::default(),
        timeout_s: build.timeout_s,
        trigger: "rerun".to_owned(),
        rerun_of: Some(id),
    };
    let new_id = enqueue(&state, request).await?;
    Ok(see_other(format!("/builds/{new_id}")))
}

/// Queues a build, with the API's problems for what cannot be planned.
async fn enqueue(state: &AppState, request: BuildRequest) -> Result<i64, AppError> {
    state.runner.enqueue(request).await.map_err(|e| match e {
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
    })
}

/// `GET /run`: the form that starts a build, with what would run by
/// default.
pub(super) async fn run_form(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, AppError> {
    let root = state.root.clone();
    let (config, plan) = tokio::task::spawn_blocking(move || {
        (
            qide_runner::ProjectConfig::load(&root),
            qide_runner::Plan::for_project(&root, None),
        )
    })
    .await
    .map_err(|e| AppError::Internal(format!("reading qide.toml: {e}")))?;
    let profiles: Vec<String> = config
        .ok()
        .flatten()
        .map(|c| c.profiles.into_keys().collect())
        .unwrap_or_default();
    let csrf = state.csrf_token(&caller);
    let body = html! {
        h1 { "Run a build" }
        @if !caller.may("run") {
            p.notice role="note" { "You may read builds but not start them (your access lacks the run scope)." }
        }
        section {
            h2 { "What runs by default" }
            @match &plan {
                Ok(plan) => {
                    ol.plan {
                        @for step in &plan.steps {
                            li { strong { (Untrusted(&step.name)) } ": " code.cmd { (Untrusted(&qide_runner::mask_secrets(&step.run))) } }
                        }
                    }
                }
                Err(e) => { p.notice { (Untrusted(&e.to_string())) } }
            }
        }
        form.run method="post" action="/run" {
            input type="hidden" name="csrf" value=(csrf);
            @if !profiles.is_empty() {
                label {
                    "Profile "
                    select name="profile" {
                        option value="" { "default steps" }
                        @for p in &profiles { option value=(p) { (Untrusted(p)) } }
                    }
                }
            }
            label for="steps" { "Or these commands instead, one per line (leave empty for the default)" }
            textarea #steps name="steps" rows="4" spellcheck="false" placeholder="cargo test" {}
            label {
                "Timeout in seconds (optional) "
                input type="number" name="timeout_s" min="1" max=(MAX_TIMEOUT_S);
            }
            button.primary type="submit" disabled[!caller.may("run")] { "Start build" }
        }
    };
    Ok(page("Run a build", Nav::Run, None, body))
}

#[derive(Debug, Deserialize)]
struct RunForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    profile: String,
    #[serde(default)]
    steps: String,
    /// A string, since an empty number field is sent as `timeout_s=`.
    #[serde(default)]
    timeout_s: String,
}

/// `POST /run`: queue a build from the form, then show it.
pub(super) async fn run(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Response, AppError> {
    let form: RunForm = form(&body)?;
    state.verify_csrf(&caller, &form.csrf)?;
    let timeout_s = match form.timeout_s.trim() {
        "" => None,
        t => match t.parse::<u64>() {
            Ok(t) if (1..=MAX_TIMEOUT_S).contains(&t) => Some(t),
            _ => {
                return Err(AppError::field(
                    "timeout_s",
                    format!(
                        "timeout_s must be a whole number of seconds from 1 to {MAX_TIMEOUT_S}"
                    ),
                ));
            }
        },
    };
    let commands: Vec<&str> = form
        .steps
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if commands.len() > MAX_STEPS {
        return Err(AppError::field(
            "steps",
            format!("at most {MAX_STEPS} steps"),
        ));
    }
    let steps = (!commands.is_empty()).then(|| {
        commands
            .iter()
            .enumerate()
            .map(|(i, run)| StepSpec {
                name: format!("step{}", i + 1),
                run: (*run).to_owned(),
                timeout_s: None,
                env: Default::default(),
            })
            .collect::<Vec<_>>()
    });
    let profile = Some(form.profile.trim().to_owned()).filter(|p| !p.is_empty());
    if steps.is_some() && profile.is_some() {
        return Err(AppError::field(
            "steps",
            "give either commands or a profile, not both",
        ));
    }
    let id = enqueue(
        &state,
        BuildRequest {
            steps,
            profile,
            env: Default::default(),
            timeout_s,
            trigger: "ui".to_owned(),
            rerun_of: None,
        },
    )
    .await?;
    Ok(see_other(format!("/builds/{id}")))
}
