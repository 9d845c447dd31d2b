//! Access control: bearer tokens with scopes.
//!
//! With no active token, the server is open (a loopback server for one
//! developer); once a token exists, every route but `/health` needs one.
//! Tokens are random, shown once when created, and stored only as a BLAKE3
//! digest. Scopes: `read` (every GET), `run` (start and cancel builds),
//! `report` (submit reports), `admin` (everything).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::{AppError, AppState};

/// The scopes a token can carry.
pub const SCOPES: [&str; 4] = ["read", "run", "report", "admin"];

/// How long the "is any token active" answer is reused.
const REQUIRED_TTL: Duration = Duration::from_secs(1);

/// Whether tokens are required, rechecked at most once a second so tokens
/// created by `qide token create` in another process take effect at once
/// without a query per request.
#[derive(Debug, Default)]
pub(crate) struct AuthState {
    required: Mutex<Option<(Instant, bool)>>,
}

impl AuthState {
    async fn required(&self, state: &AppState) -> Result<bool, AppError> {
        if let Ok(guard) = self.required.lock()
            && let Some((at, required)) = *guard
            && at.elapsed() < REQUIRED_TTL
        {
            return Ok(required);
        }
        let required = state.store.active_token_count().await? > 0;
        if let Ok(mut guard) = self.required.lock() {
            *guard = Some((Instant::now(), required));
        }
        Ok(required)
    }
}

/// A new random token: `qide_` and 64 hex digits from the OS's generator.
pub fn new_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    let mut token = String::from("qide_");
    for b in bytes {
        token.push_str(&format!("{b:02x}"));
    }
    Ok(token)
}

/// The digest stored for a token.
pub fn token_hash(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

/// The scope a request needs; `None` for routes open to all.
fn required_scope(method: &Method, path: &str) -> Option<&'static str> {
    if path == "/health" {
        return None;
    }
    if method == Method::GET || method == Method::HEAD {
        return Some("read");
    }
    if method == Method::POST && (path == "/build/run" || path.ends_with("/cancel")) {
        return Some("run");
    }
    if method == Method::POST && (path == "/llm/learning/report" || path.ends_with("/claim")) {
        return Some("report");
    }
    Some("admin")
}

fn unauthorized(detail: &str) -> Response {
    let mut response = AppError::Unauthorized(detail.to_owned()).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"qide\""),
    );
    response
}

/// Checks the bearer token of every request against the scope its route
/// needs.
pub(crate) async fn authorize(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(scope) = required_scope(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let bearer = request.headers().get(header::AUTHORIZATION).map(|v| {
        v.to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
    });
    match bearer {
        None => match state.auth.required(&state).await {
            Ok(false) => next.run(request).await,
            Ok(true) => unauthorized("this server needs a token: send Authorization: Bearer TOKEN"),
            Err(e) => e.into_response(),
        },
        Some(None) => unauthorized("the Authorization header must be `Bearer TOKEN`"),
        Some(Some(token)) => match state
            .store
            .use_token(&token_hash(token), crate::now_ms())
            .await
        {
            Err(e) => AppError::from(e).into_response(),
            Ok(None) => unauthorized("the token is not valid or was revoked"),
            Ok(Some(record)) => {
                if record.scopes.iter().any(|s| s == scope || s == "admin") {
                    next.run(request).await
                } else {
                    AppError::Forbidden {
                        code: "insufficient_scope",
                        detail: format!(
                            "this route needs the {scope:?} scope; the token has {}",
                            record.scopes.join(", ")
                        ),
                    }
                    .into_response()
                }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_need_the_scopes_their_method_and_path_imply() {
        assert_eq!(required_scope(&Method::GET, "/health"), None);
        assert_eq!(
            required_scope(&Method::GET, "/llm/learning/builds"),
            Some("read")
        );
        assert_eq!(required_scope(&Method::POST, "/build/run"), Some("run"));
        assert_eq!(
            required_scope(&Method::POST, "/build/7/cancel"),
            Some("run")
        );
        assert_eq!(
            required_scope(&Method::POST, "/llm/learning/report"),
            Some("report")
        );
        assert_eq!(required_scope(&Method::DELETE, "/build/7"), Some("admin"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 5 + 64);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
