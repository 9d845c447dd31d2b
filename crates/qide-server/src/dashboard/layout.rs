//! The page shell (head, navigation, footer) and the small pieces every
//! page uses: status badges, times, durations, pagination links.

use std::future::Future;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::{Body, Bytes};

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use qide_api::BuildStatus;

use crate::{AppError, AppState};

/// Which navigation item is the current page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Nav {
    Builds,
    Run,
    Patterns,
    Stats,
}

/// A whole page: `title`, the current navigation item, and the body.
/// `live` names what `live.js` should follow (`data-live` on `<body>`).
pub(super) fn page(
    title: &str,
    nav: Nav,
    live: Option<&[(&str, String)]>,
    body: Markup,
) -> Response {
    html_response(page_html(title, nav, live, body))
}

/// The HTML of a whole page, for pages that are cached (see [`cached`]).
pub(super) fn page_html(
    title: &str,
    nav: Nav,
    live: Option<&[(&str, String)]>,
    body: Markup,
) -> String {
    let item = |target: Nav, href: &str, label: &str| {
        html! {
            a href=(href) aria-current=[(nav == target).then_some("page")] { (label) }
        }
    };
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · QIDE" }
                link rel="stylesheet" href=(asset_url("style.css"));
                script src=(asset_url("live.js")) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    nav aria-label="Main" {
                        a.brand href="/" { "QIDE" }
                        (item(Nav::Builds, "/", "Builds"))
                        (item(Nav::Patterns, "/patterns", "Patterns"))
                        (item(Nav::Stats, "/stats", "Statistics"))
                        (item(Nav::Run, "/run", "Run a build"))
                    }
                }
                main #main data-live=[live.map(|_| "1")] {
                    @if let Some(pairs) = live {
                        // Parameters for live.js, as data attributes of an
                        // element it looks for; never inline script.
                        div #live hidden {
                            @for (name, value) in pairs {
                                span data-name=(name) data-value=(value) {}
                            }
                        }
                    }
                    (body)
                }
                footer.bottom {
                    "QIDE " (env!("CARGO_PKG_VERSION")) " · "
                    a href="/openapi.json" { "API" }
                }
            }
        }
    };
    markup.into_string()
}

/// A page that depends only on what the store holds (no caller, no clock
/// beyond its time buckets): served from the server's answer cache, which
/// every build event and report invalidates, and rendered on a miss. Lists
/// and charts over 10,000 builds then cost a lookup, not queries, while an
/// agent's builds keep the dashboard open.
pub(super) async fn cached<F>(
    state: &AppState,
    key: String,
    render: F,
) -> Result<Response, AppError>
where
    F: Future<Output = Result<String, AppError>>,
{
    if let Some(bytes) = state.answers.get(&key) {
        return Ok(html_response(bytes));
    }
    let generation = state.answers.generation();
    let bytes = Bytes::from(render.await?);
    state.answers.put(key, generation, bytes.clone());
    Ok(html_response(bytes))
}

/// A 200 HTML answer that no one may frame or sniff.
pub(super) fn html_response(body: impl Into<Body>) -> Response {
    let mut response = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.into(),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The URL of an embedded asset, versioned so browsers cache it until the
/// binary changes.
pub(super) fn asset_url(name: &str) -> String {
    format!("/assets/{}/{name}", super::assets::version())
}

/// A build status as icon and word, coloured: never colour alone.
pub(super) fn status_badge(status: BuildStatus) -> Markup {
    let (icon, label) = match status {
        BuildStatus::Queued => ("\u{25cc}", "queued"),
        BuildStatus::Running => ("\u{25b6}", "running"),
        BuildStatus::Success => ("\u{2714}", "success"),
        BuildStatus::Failed => ("\u{2716}", "failed"),
        BuildStatus::Error => ("\u{26a0}", "error"),
    };
    html! {
        span class={ "badge st-" (label) } data-status=(label) {
            span.icon aria-hidden="true" { (icon) } " " (label)
        }
    }
}

/// A step's or pattern's status word as a badge (`success`, `skipped`,
/// `open`, `resolved`, …).
pub(super) fn word_badge(word: &str) -> Markup {
    let (icon, class) = match word {
        "success" | "resolved" => ("\u{2714}", "st-success"),
        "failed" | "open" => ("\u{2716}", "st-failed"),
        "error" => ("\u{26a0}", "st-error"),
        "running" => ("\u{25b6}", "st-running"),
        _ => ("\u{25cc}", "st-queued"),
    };
    html! {
        span class={ "badge " (class) } data-status=(word) {
            span.icon aria-hidden="true" { (icon) } " " (super::text::Untrusted(word))
        }
    }
}

/// Milliseconds since the epoch as `2026-11-26 10:00:01 UTC`.
pub(super) fn time_text(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    let iso = humantime::format_rfc3339_seconds(t).to_string();
    format!("{} UTC", iso.replace('T', " ").trim_end_matches('Z'))
}

/// A `<time>` element: the exact time as text and machine-readable, and how
/// long ago it was in its title.
pub(super) fn time(ms: i64, now_ms: i64) -> Markup {
    let t = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    html! {
        time datetime=(humantime::format_rfc3339_seconds(t).to_string())
            title=(format!("{} ago", duration_text((now_ms - ms).max(0)))) {
            (time_text(ms))
        }
    }
}

/// A `<time>` element with the exact time only, for cached pages.
pub(super) fn time_plain(ms: i64) -> Markup {
    let t = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    html! {
        time datetime=(humantime::format_rfc3339_seconds(t).to_string()) { (time_text(ms)) }
    }
}

/// A duration in the largest sensible units: `850 ms`, `12.3 s`, `4 min
/// 05 s`, `2 h 10 min`.
pub(super) fn duration_text(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{} min {:02} s", ms / 60_000, (ms / 1000) % 60)
    } else if ms < 86_400_000 {
        format!("{} h {:02} min", ms / 3_600_000, (ms / 60_000) % 60)
    } else {
        format!("{} d {} h", ms / 86_400_000, (ms / 3_600_000) % 24)
    }
}

/// Links to the previous and next page of a list: `href(skip)` builds the
/// URL of the page that starts at `skip`.
pub(super) fn pager(skip: i64, limit: i64, total: i64, href: impl Fn(i64) -> String) -> Markup {
    let last_page_skip = if total == 0 {
        0
    } else {
        ((total - 1) / limit) * limit
    };
    html! {
        nav.pager aria-label="Pages" {
            @if skip > 0 {
                a href=(href(0)) rel="first" { "\u{ab} Newest" }
                a href=(href((skip - limit).max(0))) rel="prev" { "\u{2039} Newer" }
            }
            span.muted {
                @if total == 0 { "none" } @else {
                    (skip + 1) "\u{2013}" ((skip + limit).min(total)) " of " (total)
                }
            }
            @if skip + limit < total {
                a href=(href(skip + limit)) rel="next" { "Older \u{203a}" }
                a href=(href(last_page_skip)) rel="last" { "Oldest \u{bb}" }
            }
        }
    }
}

/// Percent-encodes a query parameter value.
pub(super) fn query_value(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(850), "850 ms");
        assert_eq!(duration_text(12_340), "12.3 s");
        assert_eq!(duration_text(245_000), "4 min 05 s");
        assert_eq!(duration_text(7_800_000), "2 h 10 min");
    }

    #[test]
    fn times_are_utc_to_the_second() {
        assert_eq!(time_text(1_795_000_000_123), "2026-11-18 11:06:40 UTC");
    }
}
