//! The build list (`/`) and one build (`/builds/{id}`): steps, root causes
//! with their code and a link to their log lines, warnings, tests, reports,
//! known issues, suspect changes, and the cancel and re-run buttons.

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use qide_api as api;
use qide_api::BuildStatus;
use qide_store::{BuildQuery, BuildRecord, StepRecord};
use serde::Deserialize;

use super::layout::{self, Nav, duration_text, page, status_badge, time, word_badge};
use super::text::{Untrusted, attribute, commit};
use super::{CATEGORIES, log};
use crate::extract::{ApiQuery, BuildId};
use crate::{AppError, AppState, Caller, now_ms};

/// Builds per page of the list.
const PAGE: i64 = 50;
/// Most builds a page may ask for.
const MAX_PAGE: i64 = 200;
/// Lines of the log's end shown on a build's page.
const TAIL_LINES: i64 = 20;
/// Known issues shown on a build's page.
const MAX_KNOWN: usize = 50;
/// Earlier reports shown per known issue, newest first.
const REPORTS_PER_ISSUE: i64 = 5;

#[derive(Debug, Deserialize)]
pub(super) struct ListQuery {
    status: Option<String>,
    category: Option<String>,
    skip: Option<i64>,
    limit: Option<i64>,
    /// `rows`: only the list itself, for `live.js` to swap in.
    fragment: Option<String>,
}

/// `GET /`: builds, newest first, filtered by status and failure category.
pub(super) async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, AppError> {
    let skip = q.skip.unwrap_or(0);
    let limit = q.limit.unwrap_or(PAGE);
    if skip < 0 {
        return Err(AppError::field("skip", "skip must be 0 or more"));
    }
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::field(
            "limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(BuildStatus::parse(s).ok_or_else(|| {
            AppError::field(
                "status",
                format!("status must be one of queued, running, success, failed, error, not {s:?}"),
            )
        })?),
    };
    let category = match q.category.as_deref() {
        None | Some("") => None,
        Some(c) if CATEGORIES.contains(&c) => Some(c.to_owned()),
        Some(c) => {
            return Err(AppError::field(
                "category",
                format!(
                    "category must be one of {}, not {c:?}",
                    CATEGORIES.join(", ")
                ),
            ));
        }
    };
    let fragment = q.fragment.as_deref() == Some("rows");
    let key = format!(
        "dashboard:list:{}:{}:{skip}:{limit}:{fragment}",
        status.map_or("", |s| s.as_str()),
        category.as_deref().unwrap_or("")
    );
    let render = async {
        let (builds, total) = state
            .store
            .search_builds(&BuildQuery {
                status,
                category: category.clone(),
                skip,
                limit,
            })
            .await?;
        Ok(list_html(
            status,
            category.as_deref(),
            skip,
            limit,
            fragment,
            &builds,
            total,
        ))
    };
    layout::cached(&state, key, render).await
}

/// The build list's page, or only the list itself (`fragment`).
fn list_html(
    status: Option<BuildStatus>,
    category: Option<&str>,
    skip: i64,
    limit: i64,
    fragment: bool,
    builds: &[BuildRecord],
    total: i64,
) -> String {
    let href = |skip: i64| {
        let mut url = format!("/?skip={skip}");
        if let Some(s) = status {
            url.push_str(&format!("&status={}", s.as_str()));
        }
        if let Some(c) = category {
            url.push_str(&format!("&category={c}"));
        }
        if limit != PAGE {
            url.push_str(&format!("&limit={limit}"));
        }
        url
    };
    let rows = html! {
        @if builds.is_empty() {
            p.empty {
                @if total == 0 && status.is_none() && category.is_none() {
                    "No builds yet. " a href="/run" { "Run one" } "."
                } @else {
                    "No builds match these filters."
                }
            }
        } @else {
            div.table-wrap {
                table.builds {
                    caption.visually-hidden { "Builds, newest first" }
                    thead {
                        tr {
                            th scope="col" { "Build" }
                            th scope="col" { "Status" }
                            th scope="col" { "Trigger" }
                            th scope="col" { "Commit" }
                            th scope="col" { "Started" }
                            th scope="col" { "Duration" }
                            th scope="col" { "Failure" }
                            th scope="col" { "Errors" }
                            th scope="col" { "Warnings" }
                            th scope="col" { "Reports" }
                        }
                    }
                    tbody {
                        @for build in builds {
                            (row(build))
                        }
                    }
                }
            }
        }
        (layout::pager(skip, limit, total, href))
    };
    if fragment {
        return rows.into_string();
    }
    let selected = |a: Option<&str>, b: &str| a == Some(b);
    let body = html! {
        h1 { "Builds" }
        form.filters method="get" action="/" {
            label {
                "Status "
                select name="status" {
                    option value="" { "any" }
                    @for s in ["queued", "running", "success", "failed", "error"] {
                        option value=(s) selected[selected(status.map(|s| s.as_str()), s)] { (s) }
                    }
                }
            }
            label {
                "Failure category "
                select name="category" {
                    option value="" { "any" }
                    @for c in CATEGORIES {
                        option value=(c) selected[selected(category, c)] { (c.replace('_', " ")) }
                    }
                }
            }
            button type="submit" { "Filter" }
            @if status.is_some() || category.is_some() {
                a href="/" { "Clear" }
            }
        }
        section #builds aria-live="polite" { (rows) }
    };
    layout::page_html(
        "Builds",
        Nav::Builds,
        Some(&[("page", "list".to_owned())]),
        body,
    )
}

/// One row of the build list. Nothing in it depends on the clock, so the
/// list is cached until the next build event.
fn row(build: &BuildRecord) -> Markup {
    let duration = match (build.started_at_ms, build.finished_at_ms) {
        (Some(s), Some(f)) => Some(duration_text(f - s)),
        _ => None,
    };
    html! {
        tr data-build=(build.id) data-status=(build.status.as_str()) {
            th scope="row" { a href={ "/builds/" (build.id) } { "#" (build.id) } }
            td data-label="Status" { (status_badge(build.status)) }
            td data-label="Trigger" { (Untrusted(&build.trigger)) }
            td data-label="Commit" {
                (commit(build.commit.as_deref()))
                @if let Some(branch) = &build.branch { " " span.branch { (Untrusted(branch)) } }
                @if build.dirty == Some(true) { " " span.dirty title="uncommitted changes" { "+dirty" } }
            }
            td data-label="Started" { (layout::time_plain(build.started_at_ms.unwrap_or(build.created_at_ms))) }
            td data-label="Duration" { @if let Some(d) = duration { (d) } @else { span.muted { "—" } } }
            td data-label="Failure" {
                // A green build has no failure, whatever its log looked like.
                @if matches!(build.status, BuildStatus::Failed | BuildStatus::Error) {
                    @if let Some(c) = &build.failure_category { span.category { (Untrusted(c)) } }
                    @else if let Some(k) = &build.failure_kind { span.category { (Untrusted(k)) } }
                }
            }
            td.num data-label="Errors" { @if build.error_count > 0 { strong.errors { (build.error_count) } } @else { "0" } }
            td.num data-label="Warnings" { (build.warning_count) }
            td.num data-label="Reports" {
                @if build.report_count > 0 {
                    span.report-badge title="reports written about this build" { "\u{270e} " (build.report_count) }
                } @else { span.muted { "—" } }
            }
        }
    }
}

/// `GET /builds/{id}`: everything about one build.
pub(super) async fn detail(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    BuildId(id): BuildId,
) -> Result<Response, AppError> {
    let record = state.store.get_build(id).await?;
    let steps = state.store.list_steps(id).await?;
    let summary = match state.store.diagnosis(id).await? {
        Some(bytes) => serde_json::from_slice::<api::LogSummary>(&bytes)
            .map_err(|e| AppError::Internal(format!("stored summary of build {id}: {e}")))?,
        None => api::LogSummary::default(),
    };
    let reports = state.store.list_reports(id).await?;
    let mut known = Vec::new();
    for issue in state
        .store
        .known_issues(id)
        .await?
        .into_iter()
        .take(MAX_KNOWN)
    {
        let earlier = state
            .store
            .latest_reports_for_fingerprint(&issue.fingerprint, id, REPORTS_PER_ISSUE)
            .await?;
        known.push((issue, earlier));
    }
    let flaky = match (&record.tree_hash, record.status) {
        (Some(hash), BuildStatus::Failed) => state.store.green_build_on_tree(hash, id, id).await?,
        _ => None,
    };
    let suspects = crate::routes::suspect_changes(&state, &record, &summary).await?;
    let tail_from = (record.log.line_count - TAIL_LINES + 1).max(1);
    let tail = log::read_lines(&state, id, tail_from, TAIL_LINES as usize).await?;
    let csrf = state.csrf_token(&caller);
    let may_run = caller.may("run");
    let now = now_ms();
    let finished = record.status.is_finished();

    let body = html! {
        div.title-row {
            h1 { "Build #" (id) " " (status_badge(record.status)) }
            @if may_run {
                div.actions {
                    @if !finished {
                        form method="post" action={ "/builds/" (id) "/cancel" } {
                            input type="hidden" name="csrf" value=(csrf);
                            button.danger type="submit" { "Cancel build" }
                        }
                    } @else {
                        form method="post" action={ "/builds/" (id) "/rerun" } {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { "Re-run" }
                        }
                    }
                }
            }
        }
        (facts(&record, now))
        @if let Some(passed) = flaky {
            p.notice role="note" {
                strong { "Flaky: " }
                "the same code and steps built green in "
                a href={ "/builds/" (passed) } { "build #" (passed) }
                ", so this failure is not caused by the code."
            }
        }
        (steps_table(id, &steps))
        (diagnostics(id, &summary, finished))
        (tests(&summary.tests))
        (reports_section(&reports))
        (known_issues(&known))
        @if let Some(s) = &suspects { (suspect_section(s)) }
        section #log-tail {
            h2 { "Log" }
            p {
                a href={ "/builds/" (id) "/log" } { "Open the full log" }
                " (" (record.log.line_count) " lines)"
            }
            // The live tail keeps the last 200 lines here; the log viewer
            // has the rest.
            div #log-lines data-keep="200" { (log::lines_block(&tail, None)) }
        }
    };
    let mut live = vec![("page", "build".to_owned()), ("build", id.to_string())];
    if !finished {
        let last = tail.last().map_or(record.log.line_count, |l| l.n);
        live.push(("next", (last + 1).to_string()));
    }
    Ok(page(
        &format!("Build #{id}"),
        Nav::Builds,
        Some(&live),
        body,
    ))
}

/// The build's facts as a definition list.
fn facts(b: &BuildRecord, now: i64) -> Markup {
    html! {
        dl.facts {
            dt { "Trigger" } dd { (Untrusted(&b.trigger)) }
            dt { "Commit" } dd {
                (commit(b.commit.as_deref()))
                @if let Some(branch) = &b.branch { " on " span.branch { (Untrusted(branch)) } }
                @if b.dirty == Some(true) { " " span.dirty { "with uncommitted changes" } }
            }
            dt { "Queued" } dd { (time(b.created_at_ms, now)) }
            @if let Some(s) = b.started_at_ms { dt { "Started" } dd { (time(s, now)) } }
            @if let Some(f) = b.finished_at_ms { dt { "Finished" } dd { (time(f, now)) } }
            @if let (Some(s), Some(f)) = (b.started_at_ms, b.finished_at_ms) {
                dt { "Duration" } dd { (duration_text(f - s)) }
            }
            @if let Some(code) = b.exit_code { dt { "Exit code" } dd { (code) } }
            @if let Some(kind) = &b.failure_kind { dt { "Failure kind" } dd { (Untrusted(kind)) } }
            @if let Some(c) = &b.failure_category { dt { "Category" } dd { span.category { (Untrusted(c)) } } }
            @if let Some(h) = &b.tree_hash {
                dt { "Tree hash" } dd { code title=(attribute(h)) { (Untrusted(&h.chars().take(15).collect::<String>())) "…" } }
            }
        }
    }
}

fn steps_table(id: i64, steps: &[StepRecord]) -> Markup {
    html! {
        section #steps {
            h2 { "Steps" }
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { "Step" } th scope="col" { "Command" } th scope="col" { "Status" }
                        th scope="col" { "Exit" } th scope="col" { "Duration" } th scope="col" { "Log" }
                    } }
                    tbody {
                        @for step in steps {
                            tr {
                                th scope="row" { (Untrusted(&step.name)) }
                                td { code.cmd { (Untrusted(&qide_runner::mask_secrets(&step.run))) } }
                                td { (word_badge(&step.status))
                                    @if let Some(sig) = &step.signal { " " span.muted { (Untrusted(sig)) } }
                                    @if let Some(kind) = &step.failure_kind { " " span.muted { (Untrusted(kind)) } } }
                                td.num { @if let Some(c) = step.exit_code { (c) } }
                                td { @if let (Some(s), Some(f)) = (step.started_at_ms, step.finished_at_ms) { (duration_text(f - s)) } }
                                td { @if let (Some(first), Some(last)) = (step.first_line, step.last_line) {
                                    a href={ "/builds/" (id) "/log?from=" (first) "#L" (first) } { "lines " (first) "\u{2013}" (last) }
                                } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Root causes first, then the cascade, then warnings.
fn diagnostics(id: i64, summary: &api::LogSummary, finished: bool) -> Markup {
    let root: Vec<&api::Diagnostic> = summary
        .root_causes
        .iter()
        .filter_map(|rid| summary.errors.iter().find(|d| &d.id == rid))
        .collect();
    let rest: Vec<&api::Diagnostic> = summary
        .errors
        .iter()
        .filter(|d| !summary.root_causes.contains(&d.id))
        .collect();
    html! {
        section #diagnostics {
            h2 { "Root causes" }
            @if root.is_empty() {
                p.muted {
                    @if !finished { "The build is still running; diagnostics come when it finishes." }
                    @else if summary.errors.is_empty() { "No errors were found in the log." }
                    @else { "No error was marked as a root cause; all errors are listed below." }
                }
            }
            @for d in &root { (diagnostic(id, d, true)) }
            @if !rest.is_empty() {
                h3 { "Other errors (" (rest.len()) ")" }
                @for d in &rest { (diagnostic(id, d, false)) }
            }
            @if !summary.warnings.is_empty() {
                details.warnings {
                    summary { "Warnings (" (summary.warnings.len()) ")" }
                    @for d in &summary.warnings { (diagnostic(id, d, false)) }
                }
            }
        }
    }
}

/// The log viewer URL that shows lines `first..=last` of a build, a little
/// context above, highlighted.
pub(super) fn log_link(id: i64, first: u64, last: u64) -> String {
    let from = first.saturating_sub(10).max(1);
    format!("/builds/{id}/log?from={from}&hl={first}-{last}#L{first}")
}

fn diagnostic(id: i64, d: &api::Diagnostic, root: bool) -> Markup {
    let location = d.file.as_ref().map(|f| {
        let mut s = f.clone();
        if let Some(l) = d.line {
            s.push_str(&format!(":{l}"));
            if let Some(c) = d.column {
                s.push_str(&format!(":{c}"));
            }
        }
        s
    });
    let [first, last] = d.log_lines;
    html! {
        article class={ "diag sev-" (attribute(&d.severity)) @if root { " root" } } data-fingerprint=(attribute(&d.fingerprint)) {
            header {
                span.sev { (Untrusted(&d.severity)) }
                @if let Some(code) = &d.code { " " code { (Untrusted(code)) } }
                " " span.msg { (Untrusted(&d.message)) }
            }
            p.where {
                @if let Some(loc) = &location { code.loc { (Untrusted(loc)) } " · " }
                span.muted { (Untrusted(&d.tool)) " · " (Untrusted(&d.category)) }
                " · "
                a.log-link href=(log_link(id, first, last)) {
                    @if first == last { "log line " (first) } @else { "log lines " (first) "\u{2013}" (last) }
                }
            }
            @if let Some(snippet) = &d.snippet {
                div.snippet role="region" aria-label="source" {
                    @for (i, line) in snippet.lines.iter().enumerate() {
                        @let n = snippet.start_line + i as u32;
                        div class={ "src" @if Some(n) == d.line { " hit" } } {
                            span.n { (n) } span.t { (Untrusted(line)) }
                        }
                    }
                }
            }
            @if let Some(s) = &d.suggestion { p.suggestion { "Suggestion: " (Untrusted(s)) } }
        }
    }
}

fn tests(t: &api::TestSummary) -> Markup {
    html! {
        @if t.passed + t.failed + t.skipped > 0 || !t.failures.is_empty() {
            section #tests {
                h2 { "Tests" }
                p.counts {
                    span.st-success { "\u{2714} " (t.passed) " passed" } " · "
                    span.st-failed { "\u{2716} " (t.failed) " failed" } " · "
                    span.muted { (t.skipped) " skipped" }
                }
                @if !t.failures.is_empty() {
                    div.table-wrap {
                        table {
                            thead { tr { th scope="col" { "Failed test" } th scope="col" { "Message" } th scope="col" { "Location" } } }
                            tbody {
                                @for f in &t.failures {
                                    tr {
                                        th scope="row" { code { (Untrusted(&f.name)) } }
                                        td { @if let Some(m) = &f.message { span.pre { (Untrusted(m)) } } }
                                        td { @if let Some(file) = &f.file {
                                            code { (Untrusted(file)) @if let Some(l) = f.line { ":" (l) } }
                                        } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Reports as articles: type, confidence, who wrote it, the analysis and
/// recommendations as text.
pub(super) fn report(r: &qide_store::ReportRecord) -> Markup {
    let pct = (r.confidence * 100.0).round() as i64;
    html! {
        article.report data-report=(r.id) {
            header {
                span.kind { (Untrusted(&r.kind.replace('_', " "))) }
                " · confidence "
                meter min="0" max="1" value=(r.confidence) title={ (pct) "%" } { (pct) "%" }
                " " (pct) "%"
                @if let Some(agent) = &r.agent { " · by " (Untrusted(agent)) }
                @if let Some(model) = &r.model { " (" (Untrusted(model)) ")" }
                " · " span.muted { (layout::time_text(r.created_at_ms)) }
                @if r.build_id > 0 { " · " a href={ "/builds/" (r.build_id) } { "build #" (r.build_id) } }
            }
            div.analysis { (Untrusted(&r.analysis)) }
            @if !r.recommendations.is_empty() {
                h4 { "Recommendations" }
                ul { @for rec in &r.recommendations { li { (Untrusted(rec)) } } }
            }
        }
    }
}

fn reports_section(reports: &[qide_store::ReportRecord]) -> Markup {
    html! {
        section #reports {
            h2 { "Reports (" (reports.len()) ")" }
            @if reports.is_empty() { p.muted { "No analysis has been reported for this build." } }
            @for r in reports { (report(r)) }
        }
    }
}

/// A known issue with the newest of its earlier reports and how many there
/// are in all.
type KnownIssue = (
    qide_store::PatternRecord,
    (Vec<qide_store::ReportRecord>, i64),
);

fn known_issues(known: &[KnownIssue]) -> Markup {
    html! {
        @if !known.is_empty() {
            section #known {
                h2 { "Seen before" }
                ul.known {
                    @for (p, (earlier, total)) in known {
                        li {
                            (word_badge(&p.status)) " "
                            span.msg { (Untrusted(&p.message)) }
                            " — " (p.occurrences) " builds, first in "
                            a href={ "/builds/" (p.first_build) } { "#" (p.first_build) }
                            @if let Some(r) = p.resolved_build {
                                ", resolved by " a href={ "/builds/" (r) } { "#" (r) } " before it came back"
                            }
                            " · " a href={ "/patterns?fingerprint=" (layout::query_value(&p.fingerprint)) } { "pattern" }
                            @if !earlier.is_empty() {
                                details {
                                    summary {
                                        (total) " earlier report(s)"
                                        @if *total > earlier.len() as i64 { ", the newest " (earlier.len()) " shown" }
                                    }
                                    @for r in earlier { (report(r)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn suspect_section(s: &api::SuspectChanges) -> Markup {
    html! {
        section #suspects {
            h2 { "Changed since the last green build" }
            @if let Some(base) = s.base_build {
                p.muted { "Files changed since " a href={ "/builds/" (base) } { "build #" (base) } ", most diagnostics first." }
            }
            @if s.files.is_empty() { p.muted { "No files changed." } }
            ul.files {
                @for f in &s.files {
                    li { code { (Untrusted(&f.path)) }
                        @if f.diagnostics > 0 { " " strong.errors { (f.diagnostics) " diagnostic(s)" } } }
                }
            }
        }
    }
}
