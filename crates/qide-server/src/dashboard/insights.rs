//! Patterns (`/patterns`: failures that recur, with a sparkline each) and
//! statistics (`/stats`: outcomes, success rate and duration over time,
//! failures by category, reports and how well agents' confidence held up).
//! Both read aggregates from the store, never the builds themselves.

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use axum::extract::{RawQuery, State};
use axum::response::Response;
use maud::{Markup, html};
use qide_store::PatternFilter;
use serde::Deserialize;

use super::charts::{self, Column, Series};
use super::layout::{self, Nav, duration_text, word_badge};
use super::text::{Untrusted, attribute};
use super::{CATEGORIES, builds};
use crate::extract::ApiQuery;
use crate::{AppError, AppState, now_ms};

/// Patterns per page.
const PAGE: i64 = 50;
/// Reports shown for one failure, newest first.
const LINKED_REPORTS: i64 = 50;

/// The period a chart covers and how it is cut into buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Range {
    Day,
    Week,
    Month,
    Quarter,
}

impl Range {
    const ALL: [Range; 4] = [Range::Day, Range::Week, Range::Month, Range::Quarter];

    fn parse(s: Option<&str>) -> Result<Range, AppError> {
        Ok(match s {
            None | Some("") | Some("week") => Range::Week,
            Some("day") => Range::Day,
            Some("month") => Range::Month,
            Some("quarter") => Range::Quarter,
            Some(other) => {
                return Err(AppError::field(
                    "range",
                    format!("range must be day, week, month or quarter, not {other:?}"),
                ));
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            Range::Day => "day",
            Range::Week => "week",
            Range::Month => "month",
            Range::Quarter => "quarter",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Range::Day => "last 24 hours",
            Range::Week => "last 7 days",
            Range::Month => "last 30 days",
            Range::Quarter => "last 90 days",
        }
    }

    /// Bucket length and count.
    fn buckets(self) -> (i64, i64) {
        const HOUR: i64 = 3_600_000;
        match self {
            Range::Day => (HOUR, 24),
            Range::Week => (6 * HOUR, 28),
            Range::Month => (24 * HOUR, 30),
            Range::Quarter => (72 * HOUR, 30),
        }
    }

    /// The start of every bucket, oldest first, the last one holding `now`.
    fn starts(self, now: i64) -> Vec<i64> {
        let (len, n) = self.buckets();
        let last = (now / len) * len;
        (0..n).map(|i| last - (n - 1 - i) * len).collect()
    }

    /// A short x label for a bucket.
    fn bucket_label(self, start_ms: i64) -> String {
        let t = UNIX_EPOCH + Duration::from_millis(u64::try_from(start_ms).unwrap_or(0));
        let iso = humantime::format_rfc3339_seconds(t).to_string();
        // 2026-11-26T10:00:00Z
        match self {
            Range::Day => iso[11..16].to_owned(),
            Range::Week => format!("{} {}h", &iso[5..10], &iso[11..13]),
            Range::Month | Range::Quarter => iso[5..10].to_owned(),
        }
    }
}

/// Links to the same page over each range.
fn range_links(path: &str, current: Range) -> Markup {
    html! {
        nav.ranges aria-label="Period" {
            @for r in Range::ALL {
                a href={ (path) "?range=" (r.name()) } aria-current=[(r == current).then_some("page")] { (r.label()) }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct PatternsQuery {
    status: Option<String>,
    category: Option<String>,
    skip: Option<i64>,
    range: Option<String>,
    /// Show the reports linked to this fingerprint.
    fingerprint: Option<String>,
}

/// `GET /patterns`: failures tracked across builds.
pub(super) async fn patterns(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    ApiQuery(q): ApiQuery<PatternsQuery>,
) -> Result<Response, AppError> {
    let key = cache_key("patterns", raw.as_deref());
    layout::cached(&state, key, patterns_html(&state, q)).await
}

/// The cache key of a page of aggregates: the page, its query, and the
/// hour, since every bucket starts on a whole hour.
fn cache_key(page: &str, query: Option<&str>) -> String {
    format!(
        "dashboard:{page}:{}:{}",
        query.unwrap_or(""),
        now_ms() / 3_600_000
    )
}

async fn patterns_html(state: &AppState, q: PatternsQuery) -> Result<String, AppError> {
    let skip = q.skip.unwrap_or(0);
    if skip < 0 {
        return Err(AppError::field("skip", "skip must be 0 or more"));
    }
    let status = q.status.filter(|s| !s.is_empty());
    if let Some(s) = &status
        && s != "open"
        && s != "resolved"
    {
        return Err(AppError::field(
            "status",
            format!("status must be open or resolved, not {s:?}"),
        ));
    }
    let category = q.category.filter(|c| !c.is_empty());
    let range = Range::parse(q.range.as_deref())?;
    let (patterns, total) = state
        .store
        .list_patterns(&PatternFilter {
            status: status.clone(),
            category: category.clone(),
            skip,
            limit: PAGE,
        })
        .await?;
    let categories = state.store.category_counts().await?;
    let now = now_ms();
    let starts = range.starts(now);
    let (bucket_ms, _) = range.buckets();
    let fingerprints: Vec<String> = patterns.iter().map(|p| p.fingerprint.clone()).collect();
    let activity = state
        .store
        .pattern_activity(&fingerprints, starts[0], bucket_ms)
        .await?;
    let mut counts: HashMap<&str, HashMap<i64, i64>> = HashMap::new();
    for a in &activity {
        counts
            .entry(a.fingerprint.as_str())
            .or_default()
            .insert(a.start_ms, a.builds);
    }
    let linked = match q.fingerprint.as_deref().filter(|f| !f.is_empty()) {
        Some(fp) => Some((
            fp.to_owned(),
            state
                .store
                .latest_reports_for_fingerprint(fp, i64::MAX, LINKED_REPORTS)
                .await?,
        )),
        None => None,
    };
    let href = |skip: i64| {
        let mut url = format!("/patterns?skip={skip}&range={}", range.name());
        if let Some(s) = &status {
            url.push_str(&format!("&status={s}"));
        }
        if let Some(c) = &category {
            url.push_str(&format!("&category={}", layout::query_value(c)));
        }
        url
    };
    let body = html! {
        h1 { "Recurring failures" }
        @if let Some((fp, (reports, total))) = &linked {
            section #linked-reports {
                h2 { "Reports about failure " code { (Untrusted(fp)) } }
                @if reports.is_empty() { p.muted { "No report is linked to this failure." } }
                @if *total > reports.len() as i64 { p.muted { "The newest " (reports.len()) " of " (total) ", newest first." } }
                @for r in reports { (builds::report(r)) }
            }
        }
        @if !categories.is_empty() {
            section #categories {
                h2 { "By category" }
                div.table-wrap { table {
                    thead { tr { th scope="col" { "Category" } th scope="col" { "Open" } th scope="col" { "Resolved" } th scope="col" { "Build occurrences" } } }
                    tbody { @for c in &categories { tr {
                        th scope="row" { a href={ "/patterns?category=" (layout::query_value(&c.category)) } { (Untrusted(&c.category)) } }
                        td.num { (c.open) } td.num { (c.resolved) } td.num { (c.occurrences) }
                    } } }
                } }
            }
        }
        form.filters method="get" action="/patterns" {
            label { "Status " select name="status" {
                option value="" { "any" }
                @for s in ["open", "resolved"] { option value=(s) selected[status.as_deref() == Some(s)] { (s) } }
            } }
            label { "Category " select name="category" {
                option value="" { "any" }
                @for c in CATEGORIES { option value=(c) selected[category.as_deref() == Some(c)] { (c.replace('_', " ")) } }
            } }
            input type="hidden" name="range" value=(range.name());
            button type="submit" { "Filter" }
        }
        (range_links("/patterns", range))
        @if patterns.is_empty() {
            p.empty { "No recurring failures" @if status.is_some() || category.is_some() { " match these filters" } "." }
        } @else {
            div.table-wrap { table.patterns {
                caption.visually-hidden { "Failures tracked across builds, most recently seen first" }
                thead { tr {
                    th scope="col" { "Failure" } th scope="col" { "Status" } th scope="col" { "Builds" }
                    th scope="col" { "Trend (" (range.label()) ")" } th scope="col" { "First seen" } th scope="col" { "Last seen" }
                    th scope="col" { "Reports" }
                } }
                tbody { @for p in &patterns {
                    @let series: Vec<i64> = starts.iter().map(|s| counts.get(p.fingerprint.as_str()).and_then(|m| m.get(s)).copied().unwrap_or(0)).collect();
                    tr data-fingerprint=(attribute(&p.fingerprint)) {
                        th scope="row" {
                            span.category { (Untrusted(&p.category)) } " "
                            @if let Some(code) = &p.code { code { (Untrusted(code)) } " " }
                            span.msg { (Untrusted(&p.message)) }
                            @if let Some(file) = &p.file { br; code.loc { (Untrusted(file)) } }
                            br; span.muted.fp { (Untrusted(&p.tool)) " · " (Untrusted(&p.fingerprint)) }
                        }
                        td { (word_badge(&p.status))
                            @if let Some(r) = p.resolved_build { br; "by " a href={ "/builds/" (r) } { "#" (r) } } }
                        td.num { (p.occurrences) }
                        td { (charts::sparkline(&p.message, &series)) }
                        td { a href={ "/builds/" (p.first_build) } { "#" (p.first_build) } br; span.muted { (layout::time_text(p.first_seen_at_ms)) } }
                        td { a href={ "/builds/" (p.last_build) } { "#" (p.last_build) } br; span.muted { (layout::time_text(p.last_seen_at_ms)) } }
                        td.num {
                            @if p.report_count > 0 {
                                a href={ "/patterns?fingerprint=" (layout::query_value(&p.fingerprint)) "#linked-reports" } { (p.report_count) }
                            } @else { span.muted { "—" } }
                        }
                    }
                } }
            } }
            (layout::pager(skip, PAGE, total, href))
        }
    };
    Ok(layout::page_html("Patterns", Nav::Patterns, None, body))
}

#[derive(Debug, Deserialize)]
pub(super) struct StatsQuery {
    range: Option<String>,
}

/// `GET /stats`: trends and the agents' record.
pub(super) async fn stats(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> Result<Response, AppError> {
    let key = cache_key("stats", raw.as_deref());
    layout::cached(&state, key, stats_html(&state, q)).await
}

async fn stats_html(state: &AppState, q: StatsQuery) -> Result<String, AppError> {
    let range = Range::parse(q.range.as_deref())?;
    let now = now_ms();
    let starts = range.starts(now);
    let (bucket_ms, _) = range.buckets();
    let since = starts[0];
    let trend = state.store.build_trend(since, bucket_ms).await?;
    let categories = state.store.failure_categories(since).await?;
    let kinds = state.store.report_kinds(since).await?;
    let calibration = state.store.calibration().await?;

    let by_start: HashMap<i64, &qide_store::TrendBucket> =
        trend.iter().map(|b| (b.start_ms, b)).collect();
    let columns: Vec<Column> = starts
        .iter()
        .map(|s| {
            let b = by_start.get(s);
            Column {
                label: range.bucket_label(*s),
                values: vec![
                    b.map_or(0.0, |b| b.success as f64),
                    b.map_or(0.0, |b| b.failed as f64),
                    b.map_or(0.0, |b| b.error as f64),
                ],
            }
        })
        .collect();
    let rate: Vec<(String, Option<f64>)> = starts
        .iter()
        .map(|s| {
            let rate = by_start.get(s).and_then(|b| {
                let finished = b.success + b.failed + b.error;
                (finished > 0).then(|| 100.0 * b.success as f64 / finished as f64)
            });
            (range.bucket_label(*s), rate)
        })
        .collect();
    let durations: Vec<(String, Option<f64>)> = starts
        .iter()
        .map(|s| {
            (
                range.bucket_label(*s),
                by_start.get(s).and_then(|b| b.mean_duration_ms),
            )
        })
        .collect();
    let total: i64 = trend.iter().map(|b| b.total).sum();
    let success: i64 = trend.iter().map(|b| b.success).sum();
    let finished: i64 = trend.iter().map(|b| b.success + b.failed + b.error).sum();
    let weighted: f64 = trend
        .iter()
        .filter_map(|b| {
            b.mean_duration_ms
                .map(|m| m * (b.success + b.failed) as f64)
        })
        .sum();
    let timed: i64 = trend
        .iter()
        .filter(|b| b.mean_duration_ms.is_some())
        .map(|b| b.success + b.failed)
        .sum();
    let reports: i64 = kinds.iter().map(|k| k.reports).sum();
    let ms_text = |v: f64| duration_text(v as i64);
    let body = html! {
        h1 { "Statistics" }
        (range_links("/stats", range))
        ul.summary {
            li { strong { (total) } " builds" }
            li { strong { @if finished > 0 { (format!("{:.0}%", 100.0 * success as f64 / finished as f64)) } @else { "—" } } " succeeded" }
            li { strong { @if timed > 0 { (duration_text((weighted / timed as f64) as i64)) } @else { "—" } } " mean duration" }
            li { strong { (reports) } " reports" }
        }
        section #outcomes {
            h2 { "Builds over time" }
            (charts::stacked_bars(
                &format!("Builds per outcome, {}", range.label()),
                &[
                    Series { name: "success", class: "c-success" },
                    Series { name: "failed", class: "c-failed" },
                    Series { name: "error", class: "c-error" },
                ],
                &columns,
            ))
            (charts::line(&format!("Success rate, {}", range.label()), "c-rate", &rate, Some(100.0), &|v| format!("{v:.0}%")))
            (charts::line(&format!("Mean build duration, {}", range.label()), "c-duration", &durations, None, &ms_text))
            details {
                summary { "The numbers" }
                div.table-wrap { table {
                    thead { tr { th scope="col" { "From" } th scope="col" { "Builds" } th scope="col" { "Success" } th scope="col" { "Failed" } th scope="col" { "Error" } th scope="col" { "Mean duration" } th scope="col" { "Longest" } } }
                    tbody { @for b in &trend { tr {
                        th scope="row" { (layout::time_text(b.start_ms)) }
                        td.num { (b.total) } td.num { (b.success) } td.num { (b.failed) } td.num { (b.error) }
                        td { @if let Some(m) = b.mean_duration_ms { (duration_text(m as i64)) } }
                        td { @if let Some(m) = b.max_duration_ms { (duration_text(m)) } }
                    } } }
                } }
            }
        }
        section #failures {
            h2 { "Failures by category" }
            @if categories.is_empty() { p.muted { "No failed builds in this period." } }
            @else {
                (charts::hbars(
                    &format!("Failed builds per category, {}", range.label()),
                    "c-failed",
                    &categories.iter().map(|c| (c.category.clone().unwrap_or_else(|| "uncategorised".to_owned()), c.builds as f64)).collect::<Vec<_>>(),
                ))
            }
        }
        section #reports {
            h2 { "Agent reports" }
            @if kinds.is_empty() { p.muted { "No reports in this period." } }
            @else {
                (charts::hbars(
                    &format!("Reports per type, {}", range.label()),
                    "c-rate",
                    &kinds.iter().map(|k| (k.kind.replace('_', " "), k.reports as f64)).collect::<Vec<_>>(),
                ))
                div.table-wrap { table {
                    thead { tr { th scope="col" { "Type" } th scope="col" { "Reports" } th scope="col" { "Mean confidence" } } }
                    tbody { @for k in &kinds { tr {
                        th scope="row" { (Untrusted(&k.kind)) } td.num { (k.reports) }
                        td.num { (format!("{:.0}%", 100.0 * k.mean_confidence)) }
                    } } }
                } }
            }
            h3 { "Calibration" }
            p.muted { "A report counts as right when a green build resolved its failure afterwards. The Brier score is the mean squared gap between confidence and outcome: 0 is perfect, 0.25 is what always saying 50% scores." }
            @if calibration.is_empty() { p.muted { "No report about a tracked failure yet." } }
            @else {
                div.table-wrap { table.calibration {
                    thead { tr { th scope="col" { "Agent" } th scope="col" { "Model" } th scope="col" { "Judged reports" } th scope="col" { "Followed by a fix" } th scope="col" { "Brier score" } } }
                    tbody { @for c in &calibration { tr {
                        th scope="row" { @if let Some(a) = &c.agent { (Untrusted(a)) } @else { span.muted { "unnamed" } } }
                        td { @if let Some(m) = &c.model { (Untrusted(m)) } }
                        td.num { (c.reports) }
                        td.num { (c.resolved) " (" (format!("{:.0}%", if c.reports > 0 { 100.0 * c.resolved as f64 / c.reports as f64 } else { 0.0 })) ")" }
                        td.num { (format!("{:.3}", c.brier)) " "
                            meter min="0" max="1" low="0.1" high="0.25" optimum="0" value=(c.brier) { (format!("{:.3}", c.brier)) } }
                    } } }
                } }
            }
        }
    };
    Ok(layout::page_html("Statistics", Nav::Stats, None, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_end_with_the_bucket_holding_now() {
        let now = 10 * 3_600_000 + 5;
        let starts = Range::Day.starts(now);
        assert_eq!(starts.len(), 24);
        assert_eq!(*starts.last().unwrap(), 10 * 3_600_000);
        assert_eq!(starts[1] - starts[0], 3_600_000);
        assert_eq!(Range::Day.bucket_label(10 * 3_600_000), "10:00");
        assert!(Range::parse(Some("year")).is_err());
    }
}
