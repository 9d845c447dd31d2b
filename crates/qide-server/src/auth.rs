//! Access control: bearer tokens with scopes.
//!
//! With no active token, the server is open (a loopback server for one
//! developer); once a token exists, every route but `/health` needs one.
//! Tokens are random, shown once when created, and stored only as a BLAKE3
//! digest. Scopes: `read` (every GET), `run` (start and cancel builds),
//! `report` (submit reports), `admin` (everything).
//!
//! The check leaves a [`Caller`] in the request's extensions for handlers
//! that need to know who asked. Forms posted from the dashboard carry a
//! CSRF token ([`AuthState::csrf_token`]) that handlers check with
//! [`AuthState::verify_csrf`]; cross-site form posts are refused outright.

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

/// Who made a request, as the access check established it. Present in the
/// extensions of every request that passed the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's or user's name; `local` on an open server.
    pub name: String,
    /// What the caller may do (see [`SCOPES`]).
    pub scopes: Vec<String>,
    /// The dashboard session the request came with, if any: CSRF tokens
    /// are bound to it.
    pub session: Option<String>,
}

impl Caller {
    /// The caller of an open server: a developer on loopback, allowed all.
    pub(crate) fn local() -> Caller {
        Caller {
            name: "local".to_owned(),
            scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            session: None,
        }
    }

    /// Whether the caller holds `scope` (or `admin`, which holds all).
    pub fn may(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope || s == "admin")
    }
}

/// Whether tokens are required, rechecked at most once a second so tokens
/// created by `qide token create` in another process take effect at once
/// without a query per request; and the key CSRF tokens are derived from.
#[derive(Debug)]
pub(crate) struct AuthState {
    required: Mutex<Option<(Instant, bool)>>,
    /// Random per server process: a restart invalidates open forms, which
    /// then fail with a clear "reload the page" error.
    csrf_key: [u8; 32],
}

impl Default for AuthState {
    fn default() -> AuthState {
        let mut csrf_key = [0u8; 32];
        // The OS generator failing is not something a server can run
        // without; fall back to a key nobody outside this process can
        // guess from the time and the address of a stack value.
        if random_bytes(&mut csrf_key).is_err() {
            let seed = format!("{:?}{:p}", std::time::SystemTime::now(), &csrf_key);
            csrf_key = *blake3::hash(seed.as_bytes()).as_bytes();
        }
        AuthState {
            required: Mutex::new(None),
            csrf_key,
        }
    }
}

impl AuthState {
    /// The CSRF token forms rendered for `caller` must send back, bound to
    /// the caller's session (or name, without one) so a token taken from
    /// one session is worthless in another.
    pub(crate) fn csrf_token(&self, caller: &Caller) -> String {
        let subject = format!(
            "csrf\0{}\0{}",
            caller.session.as_deref().unwrap_or(""),
            caller.name
        );
        blake3::keyed_hash(&self.csrf_key, subject.as_bytes()).to_hex()[..32].to_owned()
    }

    /// Checks a form's CSRF token, in constant time.
    pub(crate) fn verify_csrf(&self, caller: &Caller, given: &str) -> Result<(), AppError> {
        let expected = self.csrf_token(caller);
        let same = given.len() == expected.len()
            && given
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(())
        } else {
            Err(AppError::Forbidden {
                code: "csrf_failed",
                detail: "the form's CSRF token is missing or stale: reload the page and try again"
                    .to_owned(),
            })
        }
    }

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
    let mut bytes = [0u8; 32];
    random_bytes(&mut bytes)?;
    let mut token = String::from("qide_");
    for b in bytes {
        token.push_str(&format!("{b:02x}"));
    }
    Ok(token)
}

/// Fills `buf` from the OS's random generator.
fn random_bytes(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}

/// The digest stored for a token.
pub fn token_hash(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

/// The scope a request needs; `None` for routes open to all.
fn required_scope(method: &Method, path: &str) -> Option<&'static str> {
    // The dashboard's stylesheet and script are no secret.
    if path == "/health" || path.starts_with("/assets/") {
        return None;
    }
    if method == Method::GET || method == Method::HEAD {
        return Some("read");
    }
    // The dashboard's forms: run a build, cancel or re-run one.
    let dashboard_build_action = path == "/run"
        || (path.starts_with("/builds/")
            && (path.ends_with("/cancel") || path.ends_with("/rerun")));
    if method == Method::POST
        && (path == "/build/run" || path.ends_with("/cancel") || dashboard_build_action)
    {
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

/// True for a request a browser sent from another site. Browsers set
/// `Sec-Fetch-Site` on every request (and `Origin` on every POST); a page
/// elsewhere must never post a dashboard form, whatever it carries.
fn cross_site(request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"cross-site";
    }
    let (Some(origin), Some(host)) = (headers.get(header::ORIGIN), headers.get(header::HOST))
    else {
        return false;
    };
    // An opaque origin ("null": sandboxed frames, data: pages) is never
    // this server.
    let origin = origin.to_str().unwrap_or("null");
    let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    origin == "null" || authority.as_bytes() != host.as_bytes()
}

/// Checks the bearer token of every request against the scope its route
/// needs, and leaves the [`Caller`] in the request's extensions.
pub(crate) async fn authorize(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(scope) = required_scope(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    if request.method() != Method::GET && request.method() != Method::HEAD && cross_site(&request) {
        return AppError::Forbidden {
            code: "cross_site_request",
            detail: "requests from another site are refused".to_owned(),
        }
        .into_response();
    }
    let bearer = request.headers().get(header::AUTHORIZATION).map(|v| {
        v.to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
    });
    match bearer {
        None => match state.auth.required(&state).await {
            Ok(false) => {
                request.extensions_mut().insert(Caller::local());
                next.run(request).await
            }
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
                let caller = Caller {
                    name: record.name,
                    scopes: record.scopes,
                    session: None,
                };
                if caller.may(scope) {
                    request.extensions_mut().insert(caller);
                    next.run(request).await
                } else {
                    AppError::Forbidden {
                        code: "insufficient_scope",
                        detail: format!(
                            "this route needs the {scope:?} scope; the token has {}",
                            caller.scopes.join(", ")
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
        // The dashboard.
        assert_eq!(required_scope(&Method::GET, "/assets/v1/style.css"), None);
        assert_eq!(required_scope(&Method::GET, "/builds/7/log"), Some("read"));
        assert_eq!(required_scope(&Method::POST, "/run"), Some("run"));
        assert_eq!(
            required_scope(&Method::POST, "/builds/7/cancel"),
            Some("run")
        );
        assert_eq!(
            required_scope(&Method::POST, "/builds/7/rerun"),
            Some("run")
        );
    }

    #[test]
    fn csrf_tokens_are_bound_to_the_session_and_the_server() {
        let auth = AuthState::default();
        let alice = Caller {
            name: "alice".to_owned(),
            scopes: vec!["run".to_owned()],
            session: Some("s1".to_owned()),
        };
        let token = auth.csrf_token(&alice);
        assert!(auth.verify_csrf(&alice, &token).is_ok());
        assert!(auth.verify_csrf(&alice, "").is_err());
        assert!(auth.verify_csrf(&alice, &token[..31]).is_err());
        let other_session = Caller {
            session: Some("s2".to_owned()),
            ..alice.clone()
        };
        assert!(auth.verify_csrf(&other_session, &token).is_err());
        // Another server process (a restart) has another key.
        assert!(AuthState::default().verify_csrf(&alice, &token).is_err());
    }

    #[test]
    fn cross_site_posts_are_recognised() {
        let request = |headers: &[(&str, &str)]| {
            let mut builder = axum::http::Request::post("/run");
            for (name, value) in headers {
                builder = builder.header(*name, *value);
            }
            builder.body(axum::body::Body::empty()).unwrap()
        };
        assert!(cross_site(&request(&[("sec-fetch-site", "cross-site")])));
        assert!(!cross_site(&request(&[("sec-fetch-site", "same-origin")])));
        assert!(cross_site(&request(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:8000")
        ])));
        assert!(cross_site(&request(&[
            ("origin", "null"),
            ("host", "127.0.0.1:8000")
        ])));
        assert!(!cross_site(&request(&[
            ("origin", "http://127.0.0.1:8000"),
            ("host", "127.0.0.1:8000")
        ])));
        // Agents and curl send neither header.
        assert!(!cross_site(&request(&[("host", "127.0.0.1:8000")])));
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
