//! Build logs: line-numbered pages, tail and grep with context, and the live
//! event stream.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use qide_api as api;
use qide_runner::RunnerEvent;
use qide_store::{LogChunk, Store};
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use utoipa::{IntoParams, ToSchema};

use crate::convert;
use crate::extract::{ApiQuery, BuildId};
use crate::{AppError, AppState};

/// Most lines one page may hold.
const MAX_LIMIT: i64 = 5000;
/// Most context lines around a grep match.
const MAX_CONTEXT: i64 = 50;
/// Chunks read per store query while scanning (each up to about a MiB).
const CHUNKS_PER_READ: i64 = 2;
/// Lines per `log` event.
const LINES_PER_EVENT: usize = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct LogQuery {
    /// First line to return (default 1; lines count from 1 over the whole
    /// build). Not with `tail`.
    #[param(minimum = 1)]
    from: Option<i64>,
    /// Most lines to return (default 200, at most 5000).
    #[param(minimum = 1, maximum = 5000)]
    limit: Option<i64>,
    /// Return the last N lines instead (at most 5000). Not with `from` or
    /// `grep`.
    #[param(minimum = 1, maximum = 5000)]
    tail: Option<i64>,
    /// A regular expression: only matching lines (and their `context`) are
    /// returned, at most `limit` matches.
    grep: Option<String>,
    /// Lines to show before and after each `grep` match (default 0, at most
    /// 50).
    #[param(minimum = 0, maximum = 50)]
    context: Option<i64>,
}

async fn step_names(store: &dyn Store, build_id: i64) -> Result<HashMap<i64, String>, AppError> {
    Ok(store
        .list_steps(build_id)
        .await?
        .into_iter()
        .map(|s| (s.idx, s.name))
        .collect())
}

fn name_of(names: &HashMap<i64, String>, chunk: &LogChunk) -> String {
    names
        .get(&chunk.step_idx)
        .cloned()
        .unwrap_or_else(|| format!("step{}", chunk.step_idx + 1))
}

/// `GET /build/{id}/log`: lines `from` on (default 1), at most `limit`
/// (default 200); or the last `tail` lines; or, with `grep` (a regular
/// expression), the matching lines with `context` lines around each.
#[utoipa::path(
    get,
    path = "/build/{id}/log",
    operation_id = "get_build_log",
    tag = "logs",
    summary = "Lines of a build's log",
    description = "Line-numbered access to the stored log: a page from `from`, the last \
                   `tail` lines, or the lines matching `grep` with `context` around each. \
                   `next_from` continues a page that was cut at `limit`.",
    security(("bearer" = ["read"])),
    params(
        ("id" = i64, Path, description = "The build's id.", minimum = 1),
        LogQuery,
    ),
    responses(
        (status = 200, description = "The lines asked for.", body = api::LogPage),
        (status = 404, description = "`not_found`: no such build.",
         body = api::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_field`: `grep` is not a valid regular \
            expression, or `tail` was combined with `from` or `grep`.",
         body = api::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn log_page(
    State(state): State<AppState>,
    BuildId(id): BuildId,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> Result<Json<api::LogPage>, AppError> {
    let limit = q.limit.unwrap_or(200);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::field(
            "limit",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    if q.from.is_some_and(|f| f < 1) {
        return Err(AppError::field(
            "from",
            "from must be 1 or more (lines count from 1)",
        ));
    }
    if let Some(t) = q.tail {
        if !(1..=MAX_LIMIT).contains(&t) {
            return Err(AppError::field(
                "tail",
                format!("tail must be between 1 and {MAX_LIMIT}"),
            ));
        }
        if q.from.is_some() || q.grep.is_some() {
            return Err(AppError::field(
                "tail",
                "tail cannot be combined with from or grep",
            ));
        }
    }
    let context = q.context.unwrap_or(0);
    if !(0..=MAX_CONTEXT).contains(&context) {
        return Err(AppError::field(
            "context",
            format!("context must be between 0 and {MAX_CONTEXT}"),
        ));
    }
    let grep = match q.grep.as_deref() {
        None | Some("") => None,
        Some(pattern) => Some(
            regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| {
                    AppError::field(
                        "grep",
                        format!("grep is not a valid regular expression: {e}"),
                    )
                })?,
        ),
    };
    let build = state.store.get_build(id).await?;
    let names = step_names(state.store.as_ref(), id).await?;
    let total_lines = build.log.line_count;
    let dropped = build.log.dropped.map(|d| api::LogDropped {
        lines: [d.first_line, d.last_line],
        bytes: d.bytes,
    });
    let from = match q.tail {
        Some(t) => (total_lines - t + 1).max(1),
        None => q.from.unwrap_or(1),
    };
    let limit = q.tail.unwrap_or(limit) as usize;

    let mut lines: Vec<api::LogLine> = Vec::new();
    let mut truncated = false;
    let mut next_from = None;
    let mut before: VecDeque<api::LogLine> = VecDeque::new();
    let mut after_left = 0i64;
    let mut last_pushed = 0i64;
    let mut cursor = from;
    'scan: loop {
        let chunks = state
            .store
            .log_chunks_from(id, cursor, CHUNKS_PER_READ)
            .await?;
        let Some(last) = chunks.last() else { break };
        let next = last.last_line() + 1;
        for chunk in &chunks {
            let step = name_of(&names, chunk);
            for line in convert::chunk_lines(chunk, &step) {
                if line.n < cursor {
                    continue;
                }
                let Some(re) = &grep else {
                    if lines.len() == limit {
                        truncated = true;
                        next_from = Some(line.n);
                        break 'scan;
                    }
                    lines.push(line);
                    continue;
                };
                if re.is_match(&line.text) {
                    if lines.len() >= limit {
                        truncated = true;
                        next_from = Some(line.n);
                        break 'scan;
                    }
                    for ctx in before.drain(..) {
                        if ctx.n > last_pushed {
                            last_pushed = ctx.n;
                            lines.push(ctx);
                        }
                    }
                    last_pushed = line.n;
                    lines.push(line);
                    after_left = context;
                } else if after_left > 0 {
                    after_left -= 1;
                    last_pushed = line.n;
                    lines.push(line);
                } else if context > 0 {
                    if before.len() == context as usize {
                        before.pop_front();
                    }
                    before.push_back(line);
                }
            }
        }
        if next <= cursor {
            break;
        }
        cursor = next;
    }
    Ok(Json(api::LogPage {
        lines,
        total_lines,
        truncated,
        next_from,
        dropped,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// First stored log line to replay (default 1).
    #[param(minimum = 1)]
    from: Option<i64>,
}

/// One server-sent event of `GET /build/{id}/events`.
// Only the document uses this type: the handler writes `Event`s.
#[derive(ToSchema)]
#[allow(dead_code)]
struct BuildStreamEvent {
    // No doc comment and no `inline` here: utoipa 6 would wrap the enum in
    // an `allOf` with `type: object`, which no string satisfies.
    event: BuildStreamEventName,
    /// The JSON of a `BuildEvent` whose `event` field repeats the name.
    #[schema(content_media_type = "application/json")]
    data: String,
}

/// The SSE event name of a `BuildStreamEvent`.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum BuildStreamEventName {
    Status,
    Log,
    Done,
}

/// One server-sent event of `GET /events`.
// Only the document uses this type: the handler writes `Event`s.
#[derive(ToSchema)]
#[allow(dead_code)]
struct BuildsStreamEvent {
    // See `BuildStreamEvent::event`.
    event: BuildsStreamEventName,
    /// For `build`, the JSON of a `Build` without steps; for `lagged`, `{}`.
    #[schema(content_media_type = "application/json")]
    data: String,
}

/// The SSE event name of a `BuildsStreamEvent`: `build` (a build changed
/// state) or `lagged` (events were missed; rescan).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum BuildsStreamEventName {
    Build,
    Lagged,
}

/// `GET /build/{id}/events`: server-sent events. First a `status` event with
/// the build, then `log` events with every stored line from `from` (default
/// 1), then live `status` and `log` events, and a final `done` event with
/// the finished build.
#[utoipa::path(
    get,
    path = "/build/{id}/events",
    operation_id = "follow_build",
    tag = "logs",
    summary = "Follow one build (server-sent events)",
    description = "A `text/event-stream`. The SSE `event` name is `status`, `log` or \
                   `done`; each `data` is the JSON of a `BuildEvent` (schema in \
                   components): first a `status` event with the build, then `log` events \
                   with every stored line from `from`, then live `status` and `log` events, \
                   and a final `done` event with the finished build, after which the \
                   stream ends. For a finished build the stream replays and ends at once. \
                   Comments keep the connection alive every 15 seconds.",
    security(("bearer" = ["read"])),
    params(
        ("id" = i64, Path, description = "The build's id.", minimum = 1),
        EventsQuery,
    ),
    responses(
        (status = 200, description = "The event stream; the schema is that of one event \
            (each `data` is the JSON of a `BuildEvent`).",
         content_type = "text/event-stream", body = BuildStreamEvent),
        (status = 404, description = "`not_found`: no such build.",
         body = api::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn events(
    State(state): State<AppState>,
    BuildId(id): BuildId,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    if q.from.is_some_and(|f| f < 1) {
        return Err(AppError::field("from", "from must be 1 or more"));
    }
    let live = state.runner.subscribe();
    // Fail with a 404 before the stream starts.
    state.store.get_build(id).await?;
    let (tx, rx) = mpsc::channel::<Event>(16);
    tokio::spawn(stream_build(state, id, q.from.unwrap_or(1), live, tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok(event), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn event(name: &str, data: &api::BuildEvent) -> Event {
    Event::default()
        .event(name)
        .json_data(data)
        .unwrap_or_else(|_| Event::default().event(name))
}

/// Feeds one client's event stream until the build is done or the client
/// goes away (the send fails).
async fn stream_build(
    state: AppState,
    id: i64,
    from: i64,
    mut live: broadcast::Receiver<RunnerEvent>,
    tx: mpsc::Sender<Event>,
) {
    let result: Result<(), AppError> = async {
        let store = state.store.as_ref();
        let names = step_names(store, id).await?;
        let build = store.get_build(id).await?;
        let steps = store.list_steps(id).await?;
        let status = api::BuildEvent::Status {
            build: convert::build(&build, Some(&steps)),
        };
        if tx.send(event("status", &status)).await.is_err() {
            return Ok(());
        }
        let mut sent = from - 1;
        sent = send_stored(store, id, sent, &names, &tx).await?;
        if build.status.is_finished() {
            return send_done(store, id, &tx).await;
        }
        loop {
            match live.recv().await {
                Ok(RunnerEvent::Log { build_id, chunk }) if build_id == id => {
                    if chunk.last_line() <= sent {
                        continue;
                    }
                    if chunk.first_line > sent + 1 {
                        // A gap: lines stored before we subscribed, or a cap drop.
                        sent = send_stored(store, id, sent, &names, &tx).await?;
                        continue;
                    }
                    let step = name_of(&names, &chunk);
                    let lines: Vec<api::LogLine> = convert::chunk_lines(&chunk, &step)
                        .filter(|l| l.n > sent)
                        .collect();
                    if let Some(last) = lines.last() {
                        sent = last.n;
                    }
                    for part in lines.chunks(LINES_PER_EVENT) {
                        let data = api::BuildEvent::Log {
                            lines: part.to_vec(),
                        };
                        if tx.send(event("log", &data)).await.is_err() {
                            return Ok(());
                        }
                    }
                }
                Ok(RunnerEvent::Status { build_id }) if build_id == id => {
                    let build = store.get_build(id).await?;
                    let steps = store.list_steps(id).await?;
                    let data = api::BuildEvent::Status {
                        build: convert::build(&build, Some(&steps)),
                    };
                    if tx.send(event("status", &data)).await.is_err() {
                        return Ok(());
                    }
                }
                Ok(RunnerEvent::Finished { build_id }) if build_id == id => {
                    send_stored(store, id, sent, &names, &tx).await?;
                    return send_done(store, id, &tx).await;
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    sent = send_stored(store, id, sent, &names, &tx).await?;
                    if store.get_build(id).await?.status.is_finished() {
                        return send_done(store, id, &tx).await;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            }
        }
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(build = id, ?e, "event stream ended early");
    }
}

/// Sends stored lines after `sent`; returns the last line number sent.
async fn send_stored(
    store: &dyn Store,
    id: i64,
    mut sent: i64,
    names: &HashMap<i64, String>,
    tx: &mpsc::Sender<Event>,
) -> Result<i64, AppError> {
    loop {
        let chunks = store.log_chunks_from(id, sent + 1, CHUNKS_PER_READ).await?;
        let before = sent;
        for chunk in &chunks {
            let step = name_of(names, chunk);
            let lines: Vec<api::LogLine> = convert::chunk_lines(chunk, &step)
                .filter(|l| l.n > sent)
                .collect();
            if let Some(last) = lines.last() {
                sent = last.n;
            }
            for part in lines.chunks(LINES_PER_EVENT) {
                let data = api::BuildEvent::Log {
                    lines: part.to_vec(),
                };
                if tx.send(event("log", &data)).await.is_err() {
                    return Ok(sent);
                }
            }
        }
        if sent == before {
            return Ok(sent);
        }
    }
}

async fn send_done(store: &dyn Store, id: i64, tx: &mpsc::Sender<Event>) -> Result<(), AppError> {
    let build = store.get_build(id).await?;
    let steps = store.list_steps(id).await?;
    let data = api::BuildEvent::Done {
        build: convert::build(&build, Some(&steps)),
    };
    let _ = tx.send(event("done", &data)).await;
    Ok(())
}

/// `GET /events`: server-sent `build` events, one each time any build
/// changes state (queued, started, a step moved, finished), with the build
/// (without steps). Agents wait on this instead of polling.
#[utoipa::path(
    get,
    path = "/events",
    operation_id = "follow_all_builds",
    tag = "builds",
    summary = "Follow every build (server-sent events)",
    description = "A `text/event-stream` that does not end: a `build` event each time any \
                   build changes state (queued, started, a step moved, finished), its \
                   `data` the JSON of a `Build` without steps; a `lagged` event (`data` \
                   `{}`) when events were missed and the client should rescan. Comments \
                   keep the connection alive every 15 seconds.",
    security(("bearer" = ["read"])),
    responses(
        (status = 200, description = "The event stream; the schema is that of one event \
            (a `build` event's `data` is the JSON of a `Build`).",
         content_type = "text/event-stream", body = BuildsStreamEvent),
    )
)]
pub(crate) async fn all_events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut live = state.runner.subscribe();
    let (tx, rx) = mpsc::channel::<Event>(64);
    tokio::spawn(async move {
        loop {
            let build_id = match live.recv().await {
                Ok(RunnerEvent::Status { build_id } | RunnerEvent::Finished { build_id }) => {
                    build_id
                }
                Ok(RunnerEvent::Log { .. }) => continue,
                // Missed events: say so, so the client can rescan.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if tx
                        .send(Event::default().event("lagged").data("{}"))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let Ok(build) = state.store.get_build(build_id).await else {
                continue;
            };
            let data = convert::build(&build, None);
            let event = Event::default()
                .event("build")
                .json_data(&data)
                .unwrap_or_else(|_| Event::default());
            if tx.send(event).await.is_err() {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok(event), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
