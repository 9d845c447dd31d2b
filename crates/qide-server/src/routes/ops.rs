//! `/health` and `/metrics`.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use qide_api::Health;

use crate::{AppError, AppState};

/// `GET /health`: the server is up and answering.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "health",
    tag = "ops",
    summary = "Whether the server is up",
    description = "Answers without a token, for load balancers and scripts that wait for \
                   the server to start.",
    responses((status = 200, description = "The server is up.", body = Health))
)]
pub(crate) async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "ops",
    summary = "Prometheus metrics",
    description = "Requests and error answers by class, reports accepted, builds stored by \
                   status, resident memory; Prometheus text format 0.0.4.",
    security(("bearer" = ["read"])),
    responses((status = 200, description = "The metrics, Prometheus text format 0.0.4.",
               content_type = "text/plain", body = String))
)]
pub(crate) async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, AppError> {
    let counts = state.store.build_counts().await?;
    let m = &state.metrics;
    let load = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
    let mut out = String::new();
    family(
        &mut out,
        "qide_http_requests_total",
        "counter",
        "HTTP requests answered.",
        &[("", load(&m.requests))],
    );
    family(
        &mut out,
        "qide_http_errors_total",
        "counter",
        "HTTP error answers by class.",
        &[
            ("class=\"4xx\"", load(&m.client_errors)),
            ("class=\"5xx\"", load(&m.server_errors)),
        ],
    );
    family(
        &mut out,
        "qide_reports_total",
        "counter",
        "Reports accepted by this process.",
        &[("", load(&m.reports))],
    );
    let statuses = ["queued", "running", "success", "failed", "error"];
    let by_status: Vec<(String, u64)> = statuses
        .iter()
        .map(|status| {
            let n = counts
                .iter()
                .find(|(s, _)| s.as_str() == *status)
                .map_or(0, |(_, n)| *n);
            (
                format!("status=\"{status}\""),
                u64::try_from(n).unwrap_or(0),
            )
        })
        .collect();
    let by_status: Vec<(&str, u64)> = by_status.iter().map(|(l, n)| (l.as_str(), *n)).collect();
    family(
        &mut out,
        "qide_builds",
        "gauge",
        "Builds stored, by status.",
        &by_status,
    );
    if let Some(rss) = resident_bytes() {
        family(
            &mut out,
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            &[("", rss)],
        );
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    ))
}

/// Writes one metric family: its HELP and TYPE lines, then a sample per
/// label set (`""` for none).
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(&str, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

/// The process' resident set size, from `/proc/self/statm` (Linux).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
