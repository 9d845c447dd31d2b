//! Errors as `application/problem+json` (RFC 9457) with a stable `code`.
//! A 5xx never carries internal detail: the cause is logged, the client gets
//! a generic message.

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use qide_api::Problem;
use qide_store::StoreError;

/// Every error a handler can answer with.
#[derive(Debug)]
pub enum AppError {
    /// 400: the request could not be read (malformed JSON, bad query).
    BadRequest { code: &'static str, detail: String },
    /// 401: no valid token.
    Unauthorized(String),
    /// 403: the thing exists but is never shown (a secret file, a path that
    /// leads outside the project); `code` says why.
    Forbidden { code: &'static str, detail: String },
    /// 404: the thing does not exist.
    NotFound(String),
    /// 409: the request conflicts with the current state.
    Conflict(String),
    /// 409 with a code of its own (`claimed`, `analyzed`).
    ConflictCode { code: &'static str, detail: String },
    /// 413: the body is over the limit.
    TooLarge(String),
    /// 415: the body is not JSON.
    UnsupportedMediaType(String),
    /// 422: a field has a wrong type or value.
    InvalidField { field: String, detail: String },
    /// 422: the project's configuration does not allow the request.
    Unprocessable { code: &'static str, detail: String },
    /// 429: the caller is over a rate limit; the response carries
    /// `Retry-After` (see `limits.rs`).
    TooManyRequests(String),
    /// 503: a dependency (the database) is unavailable.
    Unavailable(String),
    /// 500: a bug or an unexpected failure; logged, never shown.
    Internal(String),
}

impl AppError {
    /// A 422 naming the offending field.
    pub fn field(field: impl Into<String>, detail: impl Into<String>) -> AppError {
        AppError::InvalidField {
            field: field.into(),
            detail: detail.into(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::NotFound(what) => AppError::NotFound(format!("{what} does not exist")),
            StoreError::Conflict(what) => AppError::Conflict(what),
            StoreError::Unavailable(what) => AppError::Unavailable(what),
            StoreError::Database(e) => AppError::Internal(e.to_string()),
            StoreError::Corrupt(what) => AppError::Internal(what),
        }
    }
}

fn problem(
    status: StatusCode,
    code: &str,
    title: &str,
    detail: String,
    field: Option<String>,
) -> Response {
    let body = Problem {
        kind: format!("/problems/{}", code.replace('_', "-")),
        title: title.to_owned(),
        status: status.as_u16(),
        detail,
        code: code.to_owned(),
        field,
    };
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::BadRequest { code, detail } => {
                problem(StatusCode::BAD_REQUEST, code, "Bad request", detail, None)
            }
            AppError::Forbidden { code, detail } => {
                problem(StatusCode::FORBIDDEN, code, "Forbidden", detail, None)
            }
            AppError::Unauthorized(detail) => problem(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Unauthorized",
                detail,
                None,
            ),
            AppError::NotFound(detail) => problem(
                StatusCode::NOT_FOUND,
                "not_found",
                "Not found",
                detail,
                None,
            ),
            AppError::Conflict(detail) => {
                problem(StatusCode::CONFLICT, "conflict", "Conflict", detail, None)
            }
            AppError::ConflictCode { code, detail } => {
                problem(StatusCode::CONFLICT, code, "Conflict", detail, None)
            }
            AppError::TooLarge(detail) => problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "Request body too large",
                detail,
                None,
            ),
            AppError::UnsupportedMediaType(detail) => problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
                detail,
                None,
            ),
            AppError::InvalidField { field, detail } => problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "Invalid field",
                detail,
                Some(field),
            ),
            AppError::Unprocessable { code, detail } => problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
                "Request cannot be processed",
                detail,
                None,
            ),
            AppError::TooManyRequests(detail) => problem(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests",
                detail,
                None,
            ),
            AppError::Unavailable(cause) => {
                tracing::error!(%cause, "service unavailable");
                problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Service unavailable",
                    "the database is unavailable; retry shortly".to_owned(),
                    None,
                )
            }
            AppError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal server error",
                    "the server failed to answer; the cause is in its log".to_owned(),
                    None,
                )
            }
        }
    }
}

/// Turns error responses that lack a problem body (from axum's routing or
/// tower layers: 404 for an unknown path, 405, 408, 413) into problem+json,
/// so every error a client sees has the same shape.
pub(crate) async fn problem_for_bare_errors(request: Request<Body>, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    // Pages (the dashboard's, the sign-in form) carry their own error
    // text for the person reading them.
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_problem || is_page {
        return response;
    }
    let (code, title, detail) = match status {
        StatusCode::NOT_FOUND => ("not_found", "Not found", "no such route".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "Method not allowed",
            "this route does not accept that method".to_owned(),
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "timeout",
            "Request timeout",
            "the request took too long".to_owned(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "body_too_large",
            "Request body too large",
            "the request body is over the limit".to_owned(),
        ),
        s if s.is_server_error() => (
            "internal",
            "Internal server error",
            "the server failed to answer; the cause is in its log".to_owned(),
        ),
        s => (
            "bad_request",
            "Bad request",
            s.canonical_reason().unwrap_or("bad request").to_owned(),
        ),
    };
    let mut fresh = problem(status, code, title, detail, None);
    if let Some(allow) = response.headers().get(header::ALLOW) {
        fresh.headers_mut().insert(header::ALLOW, allow.clone());
    }
    fresh
}
