//! The seed's `/llm/learning/*` endpoints: build history, the failure packet,
//! failure patterns and reports. The codebase and its files are in
//! `codebase.rs`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use qide_api as api;
use qide_store::{BuildFilter, ClaimOutcome, NewReport, PatternFilter};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::extract::{ApiJson, ApiQuery, BuildId};
use crate::{AppError, AppState};
use crate::{convert, flaky};
use crate::{packet, summary};

/// Most builds one page may hold.
const MAX_PAGE: i64 = 500;
/// Most flaky tests listed with the patterns.
const MAX_FLAKY: i64 = 50;

/// A test name as a model may read it (names come from logs).
fn clean_name(name: &str) -> String {
    convert::clean_for_model(name)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct BuildsQuery {
    /// Builds to skip, newest first (default 0).
    #[param(minimum = 0)]
    skip: Option<i64>,
    /// Most builds to return (default 50, at most 500).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// Only builds with this status.
    #[param(value_type = Option<api::BuildStatus>)]
    status: Option<String>,
}

/// `GET /llm/learning/builds?skip=&limit=&status=`: builds, newest first.
#[utoipa::path(
    get,
    path = "/llm/learning/builds",
    operation_id = "list_builds",
    tag = "learning",
    summary = "Build history",
    description = "Builds, newest first, without their steps; `total` counts every build \
                   the filter matches.",
    security(("bearer" = ["read"])),
    params(BuildsQuery),
    responses((status = 200, description = "A page of builds.", body = api::BuildList))
)]
pub(crate) async fn builds(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<BuildsQuery>,
) -> Result<Response, AppError> {
    let skip = query.skip.unwrap_or(0);
    let limit = query.limit.unwrap_or(50);
    if skip < 0 {
        return Err(AppError::field("skip", "skip must be 0 or more"));
    }
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::field(
            "limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(api::BuildStatus::parse(s).ok_or_else(|| {
            AppError::field(
                "status",
                format!("status must be one of queued, running, success, failed, error, not {s:?}"),
            )
        })?),
    };
    let key = format!(
        "builds:{}:{skip}:{limit}",
        status.map_or("", |s| s.as_str())
    );
    if let Some(bytes) = state.answers.get(&key) {
        return Ok(json_bytes(bytes));
    }
    let generation = state.answers.generation();
    let (records, total) = state
        .store
        .list_builds(&BuildFilter {
            status,
            skip,
            limit,
        })
        .await?;
    let builds = records.iter().map(|r| convert::build(r, None)).collect();
    let list = api::BuildList {
        builds,
        total,
        skip,
        limit,
    };
    let bytes = Bytes::from(
        serde_json::to_vec(&list)
            .map_err(|e| AppError::Internal(format!("serialising builds: {e}")))?,
    );
    state.answers.put(key, generation, bytes.clone());
    Ok(json_bytes(bytes))
}

/// A 200 answer with an already serialised JSON body.
fn json_bytes(bytes: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DetailQuery {
    /// The most tokens (o200k_base) the answer may take (default 2000,
    /// from 300 to 1000000).
    #[param(minimum = 300, maximum = 1_000_000)]
    budget_tokens: Option<u64>,
    /// `next_cursor` of an earlier answer: the diagnostics that did not fit.
    cursor: Option<String>,
    /// `1` (or `true`): each suspect file carries its unified diff hunks
    /// since the last green build (3 lines of context), within the budget.
    #[param(value_type = Option<bool>)]
    diff: Option<String>,
    /// Lines of context around each change (0 to 20); implies `diff=1`.
    #[param(minimum = 0, maximum = 20)]
    diff_context: Option<u32>,
}

/// `GET /llm/learning/build/{id}?budget_tokens=N&cursor=C`: the build, its
/// steps, what its log says and the reports written about it, fitted to N
/// tokens (default 2000), root causes first; `next_cursor` pages on.
#[utoipa::path(
    get,
    path = "/llm/learning/build/{id}",
    operation_id = "get_build_detail",
    tag = "learning",
    summary = "The failure packet",
    description = "The build, its steps, what its log says (root-cause errors with file, \
                   line and source snippet, the cascade, tests, the log's tail), reports \
                   about it, known issues (failures seen before, with what was written about \
                   them), suspect changes since the last green build and flakiness, fitted \
                   to `budget_tokens` root causes first. `truncated` says something was \
                   left out; `next_cursor` fetches the rest.",
    security(("bearer" = ["read"])),
    params(
        ("id" = i64, Path, description = "The build's id.", minimum = 1),
        DetailQuery,
    ),
    responses(
        (status = 200, description = "The failure packet.", body = api::BuildDetail),
        (status = 404, description = "`not_found`: no such build.",
         body = api::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn build_detail(
    State(state): State<AppState>,
    BuildId(id): BuildId,
    ApiQuery(query): ApiQuery<DetailQuery>,
) -> Result<Json<api::BuildDetail>, AppError> {
    let budget = query.budget_tokens.unwrap_or(packet::DEFAULT_BUDGET);
    if !(packet::MIN_BUDGET..=packet::MAX_BUDGET).contains(&budget) {
        return Err(AppError::field(
            "budget_tokens",
            format!(
                "budget_tokens must be between {} and {}",
                packet::MIN_BUDGET,
                packet::MAX_BUDGET
            ),
        ));
    }
    let cursor = match query.cursor.as_deref() {
        None | Some("") => 0,
        Some(c) => c.parse::<usize>().map_err(|_| {
            AppError::field(
                "cursor",
                "cursor must be a next_cursor value from an earlier answer",
            )
        })?,
    };
    let diff_context = diff_context(query.diff.as_deref(), query.diff_context)?;
    let record = state.store.get_build(id).await?;
    let steps = state.store.list_steps(id).await?;
    let mut log_summary = match state.store.diagnosis(id).await? {
        Some(bytes) => serde_json::from_slice::<api::LogSummary>(&bytes)
            .map_err(|e| AppError::Internal(format!("stored summary of build {id}: {e}")))?,
        None => summary::live_summary(state.store.as_ref(), id).await?,
    };
    let reports = state.store.list_reports(id).await?;
    let mut known_issues = Vec::new();
    for issue in state.store.known_issues(id).await? {
        let earlier = state
            .store
            .reports_for_fingerprint(&issue.fingerprint, id)
            .await?;
        known_issues.push(api::KnownIssue {
            fingerprint: issue.fingerprint,
            category: issue.category,
            message: issue.message,
            first_build: issue.first_build,
            last_build: issue.last_build,
            occurrences: issue.occurrences,
            status: issue.status,
            resolved_build: issue.resolved_build,
            reports: earlier.iter().map(convert::report).collect(),
        });
    }
    // Tests that failed and passed on the same code are labelled flaky, not
    // code failures.
    let flaky_failures = state.store.flaky_failures(id).await?;
    let passed_here = flaky::label(&mut log_summary, &flaky_failures);
    let mut suspect_changes = suspect_changes(&state, &record, &log_summary).await?;
    if let (Some(context), Some(changes)) = (diff_context, suspect_changes.as_mut()) {
        suspect_diffs(&state, &record, changes, context).await?;
    }
    let flaky = match (&record.tree_hash, record.status) {
        (Some(hash), api::BuildStatus::Failed) => state
            .store
            .green_build_on_tree(hash, id, id)
            .await?
            .map(|passed_build| api::Flaky {
                passed_build,
                tree_hash: hash.clone(),
                tests: log_summary
                    .tests
                    .failures
                    .iter()
                    .map(|f| f.name.clone())
                    .collect(),
            }),
        _ => None,
    };
    // Every failed test passed on this tree (a rerun of the failed tests
    // said so): the same evidence, test by test.
    let flaky = flaky.or_else(|| {
        let passed_build = passed_here?;
        Some(api::Flaky {
            passed_build,
            tree_hash: record.tree_hash.clone()?,
            tests: log_summary
                .tests
                .failures
                .iter()
                .map(|f| f.name.clone())
                .collect(),
        })
    });
    let mut build = convert::build(&record, Some(&steps));
    if log_summary.failure_category.as_deref() == Some(flaky::FLAKY) {
        build.failure_category = log_summary.failure_category.clone();
    }
    let detail = api::BuildDetail {
        build,
        log_summary,
        reports: reports.iter().map(convert::report).collect(),
        known_issues,
        suspect_changes,
        truncated: false,
        tokens: 0,
        budget_tokens: budget,
        next_cursor: None,
        flaky,
    };
    let fitted = tokio::task::spawn_blocking(move || packet::fit(detail, budget, cursor))
        .await
        .map_err(|e| AppError::Internal(format!("fitting the packet: {e}")))?;
    Ok(Json(fitted))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PatternsQuery {
    /// Only open or only resolved failures.
    #[param(value_type = Option<PatternStatus>, inline)]
    status: Option<String>,
    /// Only failures of this category (`compile_error`, `test_failure`, …).
    category: Option<String>,
    /// Patterns to skip (default 0).
    #[param(minimum = 0)]
    skip: Option<i64>,
    /// Most patterns to return (default 50, at most 500).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// Open failures, or resolved ones.
// Only the document uses this type: the handler reads the parameter as
// text, so that it can name a wrong value in its answer.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum PatternStatus {
    Open,
    Resolved,
}

/// `GET /llm/learning/patterns?status=&category=&skip=&limit=`: failures
/// tracked across builds, most recently seen first, with counts per
/// category.
#[utoipa::path(
    get,
    path = "/llm/learning/patterns",
    operation_id = "list_patterns",
    tag = "learning",
    summary = "Failures tracked across builds",
    description = "Failure fingerprints, most recently seen first: first and last build, \
                   occurrences, open or resolved (and the green build that resolved it), \
                   linked reports; counts per category; and per agent and model, how well \
                   reported confidence matched what followed.",
    security(("bearer" = ["read"])),
    params(PatternsQuery),
    responses((status = 200, description = "A page of patterns.", body = api::PatternList))
)]
pub(crate) async fn patterns(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PatternsQuery>,
) -> Result<Json<api::PatternList>, AppError> {
    let skip = query.skip.unwrap_or(0);
    let limit = query.limit.unwrap_or(50);
    if skip < 0 {
        return Err(AppError::field("skip", "skip must be 0 or more"));
    }
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::field(
            "limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    let status = query.status.filter(|s| !s.is_empty());
    if let Some(s) = &status
        && s != "open"
        && s != "resolved"
    {
        return Err(AppError::field(
            "status",
            format!("status must be open or resolved, not {s:?}"),
        ));
    }
    let category = query.category.filter(|c| !c.is_empty());
    let filter = PatternFilter {
        status,
        category,
        skip,
        limit,
    };
    let (records, total) = state.store.list_patterns(&filter).await?;
    let categories = state
        .store
        .category_counts()
        .await?
        .into_iter()
        .map(|c| api::CategoryStat {
            category: c.category,
            open: c.open,
            resolved: c.resolved,
            occurrences: c.occurrences,
        })
        .collect();
    let calibration = state
        .store
        .calibration()
        .await?
        .into_iter()
        .map(|c| api::CalibrationStat {
            agent: c.agent,
            model: c.model,
            reports: c.reports,
            resolved: c.resolved,
            brier: c.brier,
        })
        .collect();
    let (flaky_records, flaky_test_count) = state.store.list_flaky_tests(0, MAX_FLAKY).await?;
    let flaky_tests = flaky_records
        .into_iter()
        .map(|t| api::FlakyTest {
            name: clean_name(&t.name),
            tool: t.tool,
            failures: t.failures,
            passes: t.passes,
            trees: t.trees,
            first_build: t.first_build,
            last_build: t.last_build,
            last_failed_build: t.last_failed_build,
        })
        .collect();
    Ok(Json(api::PatternList {
        patterns: records.iter().map(convert::pattern).collect(),
        total,
        skip,
        limit,
        categories,
        calibration,
        flaky_tests,
        flaky_test_count,
    }))
}

/// Files changed since the last green build before this one, ranked by how
/// many of this build's diagnostics point into them. Uncommitted changes
/// count for the newest build only (the working tree has moved on for older
/// ones). `None` without git history or an earlier green build.
pub(crate) async fn suspect_changes(
    state: &AppState,
    build: &qide_store::BuildRecord,
    summary: &api::LogSummary,
) -> Result<Option<api::SuspectChanges>, AppError> {
    if build.status == api::BuildStatus::Success {
        return Ok(None);
    }
    let Some(base) = state.store.last_green_before(build.id).await? else {
        return Ok(None);
    };
    let head = diff_head(state, build).await?;
    let Some(base_commit) = base.commit.as_deref() else {
        return Ok(None);
    };
    let Some(paths) = qide_runner::changed_files(&state.root, base_commit, head).await else {
        return Ok(None);
    };
    let mut files: Vec<api::SuspectFile> = paths
        .into_iter()
        .map(|path| {
            let diagnostics = summary
                .errors
                .iter()
                .chain(&summary.warnings)
                .filter(|d| {
                    d.file
                        .as_deref()
                        .is_some_and(|f| f == path || f.ends_with(&format!("/{path}")))
                })
                .count() as i64;
            api::SuspectFile {
                path,
                diagnostics,
                hunks: Vec::new(),
                diff_truncated: false,
            }
        })
        .collect();
    files.sort_by(|a, b| {
        b.diagnostics
            .cmp(&a.diagnostics)
            .then_with(|| a.path.cmp(&b.path))
    });
    files.truncate(50);
    Ok(Some(api::SuspectChanges {
        base_build: Some(base.id),
        files,
    }))
}

/// The commit a build's changes end at: `None` for the working tree, which
/// only the newest build saw (uncommitted changes included).
async fn diff_head<'b>(
    state: &AppState,
    build: &'b qide_store::BuildRecord,
) -> Result<Option<&'b str>, AppError> {
    let (newest, _) = state
        .store
        .list_builds(&BuildFilter {
            status: None,
            skip: 0,
            limit: 1,
        })
        .await?;
    let is_newest = newest.first().is_some_and(|b| b.id == build.id);
    Ok(if is_newest && build.dirty != Some(false) {
        None
    } else {
        build.commit.as_deref()
    })
}

/// Lines of context for `?diff=`/`?diff_context=`: `None` when no diff was
/// asked for.
fn diff_context(diff: Option<&str>, context: Option<u32>) -> Result<Option<u32>, AppError> {
    let asked = match diff {
        None | Some("" | "0" | "false") => false,
        Some("1" | "true") => true,
        Some(other) => {
            return Err(AppError::field(
                "diff",
                format!("diff must be 1, true, 0 or false, not {other:?}"),
            ));
        }
    };
    match context {
        Some(n) if n > MAX_DIFF_CONTEXT => Err(AppError::field(
            "diff_context",
            format!("diff_context must be between 0 and {MAX_DIFF_CONTEXT}"),
        )),
        Some(n) => Ok(Some(n)),
        None => Ok(asked.then_some(DEFAULT_DIFF_CONTEXT)),
    }
}

/// Context lines of a diff when none are asked for, as `git diff` does.
const DEFAULT_DIFF_CONTEXT: u32 = 3;
/// Most context lines accepted.
const MAX_DIFF_CONTEXT: u32 = 20;
/// Most bytes of hunks per suspect file.
const MAX_DIFF_FILE_BYTES: usize = 16 << 10;
/// Most bytes of hunks over all suspect files of one answer.
const MAX_DIFF_BYTES: usize = 64 << 10;

/// Gives each suspect file its diff hunks since the base build, most
/// suspect files first, within [`MAX_DIFF_FILE_BYTES`] per file and
/// [`MAX_DIFF_BYTES`] in all. Text is cleaned for a model.
async fn suspect_diffs(
    state: &AppState,
    build: &qide_store::BuildRecord,
    changes: &mut api::SuspectChanges,
    context: u32,
) -> Result<(), AppError> {
    let Some(base_id) = changes.base_build else {
        return Ok(());
    };
    let base = state.store.get_build(base_id).await?;
    let Some(base_commit) = base.commit.as_deref() else {
        return Ok(());
    };
    let head = diff_head(state, build).await?;
    let mut left = MAX_DIFF_BYTES;
    for file in &mut changes.files {
        if left == 0 {
            file.diff_truncated = true;
            continue;
        }
        let cap = left.min(MAX_DIFF_FILE_BYTES);
        let Some(diff) =
            qide_runner::file_diff(&state.root, base_commit, head, &file.path, context, cap).await
        else {
            continue;
        };
        file.hunks = diff
            .hunks
            .iter()
            .map(|h| convert::clean_for_model(h))
            .collect();
        left -= file.hunks.iter().map(String::len).sum::<usize>().min(left);
        file.diff_truncated = diff.truncated;
    }
    Ok(())
}

/// `POST /llm/learning/build/{id}/claim`: a lease for an agent about to
/// analyse a build. 409 `claimed` while another agent holds one, 409
/// `analyzed` once an agent has reported on the build.
#[utoipa::path(
    post,
    path = "/llm/learning/build/{id}/claim",
    operation_id = "claim_build",
    tag = "learning",
    summary = "Claim a build to analyse",
    description = "A lease for an agent about to analyse a build, so two agents never \
                   analyse the same failure. The same agent renews its own lease.",
    security(("bearer" = ["report"])),
    params(("id" = i64, Path, description = "The build's id.", minimum = 1)),
    request_body(content = api::ClaimRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The lease is the caller's.", body = api::Claim),
        (status = 404, description = "`not_found`: no such build.",
         body = api::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`claimed`: another agent holds a lease. `analyzed`: \
            an agent has already reported on the build.",
         body = api::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_field`: `agent` is empty or over 200 \
            characters, or `lease_s` is out of range.",
         body = api::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn claim(
    State(state): State<AppState>,
    BuildId(id): BuildId,
    ApiJson(request): ApiJson<api::ClaimRequest>,
) -> Result<Json<api::Claim>, AppError> {
    let agent = request.agent.trim();
    if agent.is_empty() || agent.len() > 200 {
        return Err(AppError::field(
            "agent",
            "agent must be 1 to 200 characters",
        ));
    }
    let lease_s = request.lease_s.unwrap_or(300);
    if !(1..=3600).contains(&lease_s) {
        return Err(AppError::field(
            "lease_s",
            "lease_s must be between 1 and 3600",
        ));
    }
    let outcome = state
        .store
        .claim_build(id, agent, qide_runner::now_ms(), lease_s as i64 * 1000)
        .await?;
    match outcome {
        ClaimOutcome::Claimed(claim) => Ok(Json(api::Claim {
            build_id: claim.build_id,
            agent: claim.agent,
            expires_at: convert::rfc3339(claim.expires_at_ms),
        })),
        ClaimOutcome::Held(claim) => Err(AppError::ConflictCode {
            code: "claimed",
            detail: format!(
                "build {id} is being analysed by {:?} until {}",
                claim.agent,
                convert::rfc3339(claim.expires_at_ms)
            ),
        }),
        ClaimOutcome::Analyzed => Err(AppError::ConflictCode {
            code: "analyzed",
            detail: format!("an agent has already reported on build {id}"),
        }),
    }
}

/// Longest analysis accepted, in bytes.
const MAX_ANALYSIS: usize = 64 << 10;

/// `POST /llm/learning/report`: store an analysis of a build. 201 with the
/// stored report once it is durable.
#[utoipa::path(
    post,
    path = "/llm/learning/report",
    operation_id = "submit_report",
    tag = "learning",
    summary = "Send an analysis",
    description = "Stores an analysis of a build, linked to the build and to the failure \
                   fingerprints it names, so the next agent that meets the same failure \
                   finds it in `known_issues`. Secrets quoted in it are masked before it \
                   is stored. Answers once the report is durable.",
    security(("bearer" = ["report"])),
    request_body(content = api::ReportRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Stored.", body = api::Report),
        (status = 404, description = "`not_found`: `build_id` names no build.",
         body = api::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_field`: `field` names the field that is \
            missing, unknown or out of range (`type`, `confidence`, `analysis`, …).",
         body = api::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn report(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<api::ReportRequest>,
) -> Result<(StatusCode, Json<api::Report>), AppError> {
    if !api::REPORT_TYPES.contains(&request.kind.as_str()) {
        return Err(AppError::field(
            "type",
            format!(
                "type must be one of {}, not {:?}",
                api::REPORT_TYPES.join(", "),
                request.kind
            ),
        ));
    }
    if !request.confidence.is_finite() || !(0.0..=1.0).contains(&request.confidence) {
        return Err(AppError::field(
            "confidence",
            "confidence must be between 0 and 1",
        ));
    }
    if request.analysis.trim().is_empty() {
        return Err(AppError::field("analysis", "analysis must not be empty"));
    }
    if request.analysis.len() > MAX_ANALYSIS {
        return Err(AppError::field(
            "analysis",
            format!("analysis must be at most {MAX_ANALYSIS} bytes"),
        ));
    }
    if request.recommendations.len() > 100 || request.recommendations.iter().any(|r| r.len() > 8192)
    {
        return Err(AppError::field(
            "recommendations",
            "at most 100 recommendations of at most 8192 bytes each",
        ));
    }
    if request.fingerprints.len() > 100
        || request
            .fingerprints
            .iter()
            .any(|f| f.is_empty() || f.len() > 128)
    {
        return Err(AppError::field(
            "fingerprints",
            "at most 100 fingerprints of 1 to 128 characters",
        ));
    }
    for (field, value) in [("agent", &request.agent), ("model", &request.model)] {
        if value.as_ref().is_some_and(|v| v.len() > 200) {
            return Err(AppError::field(
                field,
                format!("{field} must be at most 200 characters"),
            ));
        }
    }
    if request.build_id <= 0 {
        return Err(AppError::NotFound(format!(
            "build {} does not exist",
            request.build_id
        )));
    }
    let stored = state
        .store
        .insert_report(&NewReport {
            build_id: request.build_id,
            kind: request.kind,
            // A model may quote a secret from what it read; it is masked
            // before the report is stored.
            analysis: qide_runner::mask_secrets(&request.analysis).into_owned(),
            recommendations: request
                .recommendations
                .iter()
                .map(|r| qide_runner::mask_secrets(r).into_owned())
                .collect(),
            confidence: request.confidence,
            fingerprints: request.fingerprints,
            agent: request.agent,
            model: request.model,
            created_at_ms: qide_runner::now_ms(),
        })
        .await?;
    state.answers.invalidate();
    state
        .metrics
        .reports
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok((StatusCode::CREATED, Json(convert::report(&stored))))
}
