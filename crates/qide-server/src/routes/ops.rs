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
pub(crate) async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// `GET /metrics`: Prometheus text format.
pub(crate) async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, AppError> {
    let counts = state.store.build_counts().await?;
    let m = &state.metrics;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP qide_http_requests_total HTTP requests answered."
    );
    let _ = writeln!(out, "# TYPE qide_http_requests_total counter");
    let _ = writeln!(
        out,
        "qide_http_requests_total {}",
        m.requests.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP qide_http_errors_total HTTP error answers by class."
    );
    let _ = writeln!(out, "# TYPE qide_http_errors_total counter");
    let _ = writeln!(
        out,
        "qide_http_errors_total{{class=\"4xx\"}} {}",
        m.client_errors.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "qide_http_errors_total{{class=\"5xx\"}} {}",
        m.server_errors.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP qide_reports_total Reports accepted by this process."
    );
    let _ = writeln!(out, "# TYPE qide_reports_total counter");
    let _ = writeln!(
        out,
        "qide_reports_total {}",
        m.reports.load(Ordering::Relaxed)
    );
    let _ = writeln!(out, "# HELP qide_builds Builds stored, by status.");
    let _ = writeln!(out, "# TYPE qide_builds gauge");
    for status in ["queued", "running", "success", "failed", "error"] {
        let n = counts
            .iter()
            .find(|(s, _)| s.as_str() == status)
            .map_or(0, |(_, n)| *n);
        let _ = writeln!(out, "qide_builds{{status=\"{status}\"}} {n}");
    }
    if let Some(rss) = resident_bytes() {
        let _ = writeln!(
            out,
            "# HELP process_resident_memory_bytes Resident memory size in bytes."
        );
        let _ = writeln!(out, "# TYPE process_resident_memory_bytes gauge");
        let _ = writeln!(out, "process_resident_memory_bytes {rss}");
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    ))
}

/// The process' resident set size, from `/proc/self/statm` (Linux).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
