//! The dashboard's stylesheet and script, compiled into the binary and
//! served under `/assets/{version}/{name}`, where the version is a hash of
//! their contents: a browser may cache them forever, and a new binary with
//! new assets gets new URLs.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppError;

/// The embedded files: name, content type, bytes.
const FILES: [(&str, &str, &str); 2] = [
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("assets/style.css"),
    ),
    (
        "live.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/live.js"),
    ),
];

static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = blake3::Hasher::new();
    for (name, _, body) in FILES {
        hasher.update(name.as_bytes());
        hasher.update(body.as_bytes());
    }
    hasher.finalize().to_hex()[..12].to_owned()
});

/// The current asset version (a hash of the embedded files).
pub(super) fn version() -> &'static str {
    &VERSION
}

/// `GET /assets/{version}/{name}`: an embedded file. A request for an older
/// version still gets the current file, uncached, so a page rendered by the
/// previous binary keeps working.
pub(super) async fn asset(Path(path): Path<String>) -> Result<Response, AppError> {
    let (asked_version, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
    let Some((_, content_type, body)) = FILES.iter().find(|(n, _, _)| *n == name) else {
        return Err(AppError::NotFound(format!("no asset named {name:?}")));
    };
    let cache = if asked_version == version() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = (StatusCode::OK, *body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}
