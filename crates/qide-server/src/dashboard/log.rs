//! The log viewer (`/builds/{id}/log`): one page of numbered lines at a
//! time, read from the chunks that hold them (a 100 MB log costs what its
//! page costs), with anchors per line, highlighted ranges, ANSI colours as
//! classes, a search that scans a bounded number of lines per request, and
//! a live tail for running builds.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use super::layout::{self, Nav, page, status_badge};
use super::text::Untrusted;
use super::{ansi, text};
use crate::extract::{ApiQuery, BuildId};
use crate::{AppError, AppState};

/// Lines per page unless the page asks otherwise.
const PAGE_LINES: i64 = 500;
/// Most lines one page may show.
const MAX_LINES: i64 = 2000;
/// Most lines one search request reads; the page links onwards.
const SEARCH_SCAN: i64 = 200_000;
/// Most matches one search request shows.
const SEARCH_MATCHES: usize = 200;
/// Longest line shown whole; the rest is counted, not sent.
const MAX_LINE_BYTES: usize = 8 * 1024;
/// Chunks read per store query (each holds up to about a MiB of text).
const CHUNKS_PER_READ: i64 = 2;

/// One stored line, ready to show.
#[derive(Debug, Clone)]
pub(super) struct Line {
    pub(super) n: i64,
    /// `o` stdout, `e` stderr, `s` QIDE's own note.
    pub(super) stream: u8,
    pub(super) step: String,
    pub(super) text: String,
    /// Bytes cut off the end of an overlong line.
    pub(super) cut: usize,
}

/// Step names by index, as the chunks refer to them.
async fn step_names(state: &AppState, id: i64) -> Result<HashMap<i64, String>, AppError> {
    Ok(state
        .store
        .list_steps(id)
        .await?
        .into_iter()
        .map(|s| (s.idx, s.name))
        .collect())
}

/// Turns stored line bytes into a [`Line`]: lossy UTF-8, cut at
/// [`MAX_LINE_BYTES`].
fn line(n: i64, stream: u8, step: &str, bytes: &[u8]) -> Line {
    let (shown, cut) = if bytes.len() > MAX_LINE_BYTES {
        (&bytes[..MAX_LINE_BYTES], bytes.len() - MAX_LINE_BYTES)
    } else {
        (bytes, 0)
    };
    Line {
        n,
        stream,
        step: step.to_owned(),
        text: String::from_utf8_lossy(shown).into_owned(),
        cut,
    }
}

/// Up to `limit` lines from line `from` on, reading only the chunks that
/// hold them.
pub(super) async fn read_lines(
    state: &AppState,
    id: i64,
    from: i64,
    limit: usize,
) -> Result<Vec<Line>, AppError> {
    let names = step_names(state, id).await?;
    let mut lines = Vec::with_capacity(limit.min(4096));
    let mut cursor = from.max(1);
    while lines.len() < limit {
        let chunks = state
            .store
            .log_chunks_from(id, cursor, CHUNKS_PER_READ)
            .await?;
        let Some(last) = chunks.last() else { break };
        let next = last.last_line() + 1;
        for chunk in &chunks {
            let step = names.get(&chunk.step_idx).map_or("", String::as_str);
            for (n, stream, bytes) in chunk.lines() {
                if n < cursor || lines.len() == limit {
                    continue;
                }
                lines.push(line(n, stream, step, bytes));
            }
        }
        if next <= cursor {
            break;
        }
        cursor = next;
    }
    Ok(lines)
}

/// What a terminal would show of a line with carriage returns (progress
/// bars redraw themselves): the last non-empty segment, and how many
/// segments it overwrote.
fn visible_segment(text: &str) -> (&str, usize) {
    let trimmed = text.strip_suffix('\r').unwrap_or(text);
    if !trimmed.contains('\r') {
        return (trimmed, 0);
    }
    let segments: Vec<&str> = trimmed.split('\r').collect();
    let shown = segments
        .iter()
        .rposition(|s| !s.is_empty())
        .unwrap_or(segments.len() - 1);
    (segments[shown], shown)
}

/// The lines as HTML: numbered, anchored, coloured, the `hl` range marked,
/// a separator where the step changes.
pub(super) fn lines_block(lines: &[Line], hl: Option<(i64, i64)>) -> Markup {
    html! {
        div.log role="log" aria-label="build log" {
            (lines_html(lines, hl, None))
        }
    }
}

/// The line elements alone (what the live tail appends). `previous` is the
/// line before the first one, to tell whether a step or a gap starts here.
fn lines_html(lines: &[Line], hl: Option<(i64, i64)>, previous: Option<(i64, &str)>) -> Markup {
    let mut out = String::with_capacity(lines.len() * 120);
    let mut prev = previous.map(|(n, step)| (n, step.to_owned()));
    for l in lines {
        if let Some((pn, _)) = &prev
            && l.n > pn + 1
        {
            out.push_str("<div class=\"gap\" role=\"note\">lines ");
            out.push_str(&format!("{}\u{2013}{}", pn + 1, l.n - 1));
            out.push_str(" are not stored (the log outgrew its cap)</div>");
        }
        if prev.as_ref().is_none_or(|(_, s)| *s != l.step) {
            out.push_str("<div class=\"step-sep\">step ");
            text::push_escaped(&mut out, &l.step);
            out.push_str("</div>");
        }
        let stream = match l.stream {
            b'e' => "se",
            b's' => "ss",
            _ => "so",
        };
        let marked = hl.is_some_and(|(a, b)| (a..=b).contains(&l.n));
        out.push_str(&format!(
            "<div class=\"ln {stream}{}\" id=\"L{n}\" data-n=\"{n}\"><a class=\"n\" href=\"#L{n}\">{n}</a><span class=\"t\">",
            if marked { " hl" } else { "" },
            n = l.n
        ));
        let (shown, overwritten) = visible_segment(&l.text);
        if overwritten > 0 {
            out.push_str(&format!(
                "<span class=\"cr\" title=\"{overwritten} earlier version(s) of this line were redrawn over\">\u{21ba}</span>"
            ));
        }
        ansi::render_line(&mut out, shown);
        if l.cut > 0 {
            out.push_str(&format!(
                "<span class=\"cut\">\u{2026} {} more bytes</span>",
                l.cut
            ));
        }
        out.push_str("</span></div>");
        prev = Some((l.n, l.step.clone()));
    }
    PreEscaped(out)
}

#[derive(Debug, Deserialize)]
pub(super) struct ViewerQuery {
    from: Option<i64>,
    limit: Option<i64>,
    /// `1`: the last page.
    tail: Option<String>,
    /// Lines to highlight: `12` or `12-20`.
    hl: Option<String>,
    /// Text to search for.
    q: Option<String>,
    /// `1`: `q` is a regular expression.
    re: Option<String>,
    /// `lines`: only the line elements, for the live tail.
    fragment: Option<String>,
}

fn parse_range(hl: &str) -> Option<(i64, i64)> {
    let (a, b) = hl.split_once('-').unwrap_or((hl, hl));
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    Some((a, b))
}

/// `GET /builds/{id}/log`: a page of the log, a search, or (with
/// `fragment=lines`) the lines from `from` for the live tail.
pub(super) async fn viewer(
    State(state): State<AppState>,
    BuildId(id): BuildId,
    ApiQuery(q): ApiQuery<ViewerQuery>,
) -> Result<Response, AppError> {
    let limit = q.limit.unwrap_or(PAGE_LINES);
    if !(1..=MAX_LINES).contains(&limit) {
        return Err(AppError::field(
            "limit",
            format!("limit must be between 1 and {MAX_LINES}"),
        ));
    }
    if q.from.is_some_and(|f| f < 1) {
        return Err(AppError::field(
            "from",
            "from must be 1 or more (lines count from 1)",
        ));
    }
    let hl = match q.hl.as_deref() {
        None | Some("") => None,
        Some(h) => Some(parse_range(h).ok_or_else(|| {
            AppError::field("hl", "hl must be a line number or a range like 12-20")
        })?),
    };
    let build = state.store.get_build(id).await?;
    let total = build.log.line_count;

    if q.fragment.as_deref() == Some("lines") {
        let from = q.from.unwrap_or(1);
        let lines = read_lines(&state, id, from, limit as usize).await?;
        // The line before, so a step change shows its separator.
        let before = if from > 1 {
            read_lines(&state, id, from - 1, 1).await?
        } else {
            Vec::new()
        };
        let previous = before.first().map(|l| (l.n, l.step.as_str()));
        return Ok(layout::html_response(
            lines_html(&lines, None, previous).into_string(),
        ));
    }

    let search = q.q.as_deref().filter(|s| !s.is_empty());
    let regex_mode = q.re.as_deref() == Some("1");
    let header = html! {
        div.title-row {
            h1 { "Log of " a href={ "/builds/" (id) } { "build #" (id) } " " (status_badge(build.status)) }
        }
        p.muted #log-status {
            (total) " lines"
            @if let Some(d) = build.log.dropped {
                " · lines " (d.first_line) "\u{2013}" (d.last_line) " (" (d.bytes) " bytes) were dropped by the log cap"
            }
            @if !build.status.is_finished() { " · the build is running; new lines appear below" }
        }
        form.log-tools method="get" action={ "/builds/" (id) "/log" } role="search" {
            label { "Search " input type="search" name="q" value=[search] placeholder="text in the log"; }
            label.check { input type="checkbox" name="re" value="1" checked[regex_mode]; " regular expression" }
            button type="submit" { "Search" }
        }
        form.log-tools method="get" action={ "/builds/" (id) "/log" } {
            label { "Go to line " input type="number" name="from" min="1" max=(total.max(1)) value=[q.from] required; }
            button type="submit" { "Go" }
        }
    };

    if let Some(needle) = search {
        let body = search_page(&state, id, needle, regex_mode, q.from.unwrap_or(1), total).await?;
        let body = html! { (header) (body) };
        return Ok(page(
            &format!("Log of build #{id}"),
            Nav::Builds,
            None,
            body,
        ));
    }

    let tail_wanted = q.tail.as_deref() == Some("1")
        || (q.from.is_none() && !build.status.is_finished() && hl.is_none());
    let from = match q.from {
        Some(f) => f,
        None if tail_wanted => (total - limit + 1).max(1),
        None => 1,
    };
    let lines = read_lines(&state, id, from, limit as usize).await?;
    let last_shown = lines.last().map_or(from - 1, |l| l.n);
    let at_end = last_shown >= total;
    let href = |from: i64| format!("/builds/{id}/log?from={from}");
    let nav = html! {
        nav.pager aria-label="Log pages" {
            @if from > 1 {
                a href=(href(1)) rel="first" { "\u{ab} Start" }
                a href=(href((from - limit).max(1))) rel="prev" { "\u{2039} Earlier" }
            }
            span.muted {
                @if lines.is_empty() { "no lines here" }
                @else { "lines " (lines[0].n) "\u{2013}" (last_shown) " of " (total) }
            }
            @if !at_end {
                a href=(href(last_shown + 1)) rel="next" { "Later \u{203a}" }
                a href={ "/builds/" (id) "/log?tail=1" } rel="last" { "End \u{bb}" }
            }
        }
    };
    let body = html! {
        (header)
        (nav)
        @if lines.is_empty() && total == 0 { p.muted { "Nothing has been printed yet." } }
        div #log-lines data-keep="5000" { (lines_block(&lines, hl)) }
        (nav)
    };
    // The live tail: only when the page reaches the end of a running
    // build's log.
    let live: Vec<(&str, String)> = if !build.status.is_finished() && at_end {
        vec![
            ("page", "log".to_owned()),
            ("build", id.to_string()),
            ("next", (last_shown + 1).to_string()),
        ]
    } else {
        Vec::new()
    };
    Ok(page(
        &format!("Log of build #{id}"),
        Nav::Builds,
        (!live.is_empty()).then_some(live.as_slice()),
        body,
    ))
}

/// Matching lines from `from` on: at most [`SEARCH_MATCHES`] of them within
/// [`SEARCH_SCAN`] lines, with a link to go on from where the scan stopped.
async fn search_page(
    state: &AppState,
    id: i64,
    needle: &str,
    regex_mode: bool,
    from: i64,
    total: i64,
) -> Result<Markup, AppError> {
    let pattern = if regex_mode {
        needle.to_owned()
    } else {
        regex::escape(needle)
    };
    let re = regex::RegexBuilder::new(&pattern)
        .case_insensitive(!regex_mode)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| AppError::field("q", format!("q is not a valid regular expression: {e}")))?;
    let names = step_names(state, id).await?;
    let mut matches = Vec::new();
    let mut cursor = from;
    let mut scanned = 0i64;
    let mut resume = None;
    'scan: loop {
        let chunks = state
            .store
            .log_chunks_from(id, cursor, CHUNKS_PER_READ)
            .await?;
        let Some(last) = chunks.last() else { break };
        let next = last.last_line() + 1;
        for chunk in &chunks {
            let step = names.get(&chunk.step_idx).map_or("", String::as_str);
            for (n, stream, bytes) in chunk.lines() {
                if n < cursor {
                    continue;
                }
                if matches.len() == SEARCH_MATCHES || scanned == SEARCH_SCAN {
                    resume = Some(n);
                    break 'scan;
                }
                scanned += 1;
                let text = String::from_utf8_lossy(bytes);
                if re.is_match(&ansi::strip(&text)) {
                    matches.push(line(n, stream, step, bytes));
                }
            }
        }
        if next <= cursor {
            break;
        }
        cursor = next;
    }
    let query = format!(
        "q={}{}",
        layout::query_value(needle),
        if regex_mode { "&re=1" } else { "" }
    );
    Ok(html! {
        h2 { "Lines matching " code { (Untrusted(needle)) } }
        p.muted {
            (matches.len()) " match(es) in lines " (from) "\u{2013}" (resume.map_or(total, |r| r - 1))
            @if let Some(r) = resume {
                " · " a href={ "/builds/" (id) "/log?" (query) "&from=" (r) } { "search on from line " (r) }
            }
            " · " a href={ "/builds/" (id) "/log" } { "back to the log" }
        }
        div.log.results role="list" {
            @for m in &matches {
                div role="listitem" {
                    a.jump href=(super::builds::log_link(id, m.n as u64, m.n as u64)) { "go to line " (m.n) }
                    (lines_html(std::slice::from_ref(m), None, Some((m.n - 1, m.step.as_str()))))
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> String {
        let l = Line {
            n: 7,
            stream: b'e',
            step: "build".to_owned(),
            text: text.to_owned(),
            cut: 0,
        };
        lines_html(&[l], Some((7, 7)), Some((6, "build"))).into_string()
    }

    #[test]
    fn a_line_is_anchored_escaped_and_highlighted() {
        let html = one("<script>alert(1)</script>");
        assert_eq!(
            html,
            "<div class=\"ln se hl\" id=\"L7\" data-n=\"7\"><a class=\"n\" href=\"#L7\">7</a>\
             <span class=\"t\">&lt;script&gt;alert(1)&lt;/script&gt;</span></div>"
        );
    }

    #[test]
    fn carriage_returns_show_what_a_terminal_shows() {
        assert_eq!(visible_segment("10%\r50%\r100%\r"), ("100%", 2));
        assert_eq!(visible_segment("done\r"), ("done", 0));
        assert_eq!(visible_segment("a\r\r"), ("a", 0));
        assert!(one("50%\rdone").contains("\u{21ba}</span>done"));
    }

    #[test]
    fn gaps_and_step_changes_are_marked() {
        let mk = |n, step: &str| Line {
            n,
            stream: b'o',
            step: step.to_owned(),
            text: "x".to_owned(),
            cut: 0,
        };
        let html = lines_html(&[mk(1, "build"), mk(5, "test")], None, None).into_string();
        assert!(html.contains("step build"));
        assert!(html.contains("lines 2\u{2013}4 are not stored"));
        assert!(html.contains("step test"));
    }

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("12-20"), Some((12, 20)));
        assert_eq!(parse_range("9"), Some((9, 9)));
        assert_eq!(parse_range("x"), None);
    }
}
