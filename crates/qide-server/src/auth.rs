//! Access control: bearer tokens, dashboard sessions, scopes.
//!
//! With no active token and no user, the server is open (a loopback server
//! for one developer); once either exists, every route but `/health`, the
//! sign-in page and the dashboard's assets needs a credential:
//! `Authorization: Bearer TOKEN`, or a session made by signing in
//! (`session.rs`), sent as the `qide_session` cookie, the `X-Session-Id`
//! header or the `session_id` query parameter (the seed's name). Tokens and
//! session ids are random, shown once, and stored only as digests.
//! Scopes: `read` (every GET), `run` (start and cancel builds), `report`
//! (submit reports), `admin` (everything, the audit trail included).
//!
//! The check leaves a [`Caller`] in the request's extensions for handlers
//! that need to know who asked. Forms posted from the dashboard carry a
//! CSRF token ([`AuthState::csrf_token`]) that handlers check with
//! [`AuthState::verify_csrf`]; cross-site posts are refused outright. A
//! browser asking for a page without a credential is sent to `/login`; an
//! API client gets a 401 problem. The same middleware applies the rate
//! limits of `limits.rs` and records audited actions (`audit.rs`).

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::limits::{Expensive, Limiters, RateLimits};
use crate::{AppError, AppState};

/// The scopes a token can carry.
pub const SCOPES: [&str; 4] = ["read", "run", "report", "admin"];

/// How long the "is any token or user active" answer is reused.
const REQUIRED_TTL: Duration = Duration::from_secs(1);

/// The cookie a dashboard session travels in.
pub(crate) const SESSION_COOKIE: &str = "qide_session";

/// How a server guards itself beyond tokens: sessions, TLS cookies, rate
/// limits, CORS. [`SecurityOptions::default`] is what `qide serve` uses
/// without flags.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityOptions {
    /// A dashboard session ends after this long unused (default 12 h).
    pub session_idle: Duration,
    /// Mark cookies `Secure`: set when the server speaks TLS, so a session
    /// cookie never travels in clear text.
    pub secure_cookies: bool,
    /// Per-caller limits on expensive requests.
    pub rate_limits: RateLimits,
    /// Origins whose pages may call the API from a browser (CORS); none by
    /// default, which keeps browsers from reading answers cross-site.
    pub cors_origins: Vec<String>,
}

impl Default for SecurityOptions {
    fn default() -> SecurityOptions {
        SecurityOptions {
            session_idle: Duration::from_secs(12 * 3600),
            secure_cookies: false,
            rate_limits: RateLimits::default(),
            cors_origins: Vec::new(),
        }
    }
}

/// Who made a request, as the access check established it. Present in the
/// extensions of every request that passed the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's or user's name; `local` on an open server.
    pub name: String,
    /// What the caller may do (see [`SCOPES`]).
    pub scopes: Vec<String>,
    /// The dashboard session the request came with, if any (the digest of
    /// its id, never the id): CSRF tokens are bound to it.
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

/// Whether credentials are required, rechecked at most once a second so
/// tokens and users created by the CLI in another process take effect at
/// once without a query per request; the key CSRF tokens are derived from;
/// the server's security options and rate limiters.
#[derive(Debug)]
pub(crate) struct AuthState {
    required: Mutex<Option<(Instant, bool)>>,
    /// Random per server process: a restart invalidates open forms, which
    /// then fail with a clear "reload the page" error.
    csrf_key: [u8; 32],
    pub(crate) options: SecurityOptions,
    pub(crate) limiters: Limiters,
}

impl Default for AuthState {
    fn default() -> AuthState {
        AuthState::new(SecurityOptions::default())
    }
}

impl AuthState {
    pub(crate) fn new(options: SecurityOptions) -> AuthState {
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
            limiters: Limiters::new(&options.rate_limits),
            options,
        }
    }

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
        if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            Ok(())
        } else {
            Err(AppError::Forbidden {
                code: "csrf_failed",
                detail: "the form's CSRF token is missing or stale: reload the page and try again"
                    .to_owned(),
            })
        }
    }

    /// Whether any token or user exists, so that callers must say who they
    /// are.
    pub(crate) async fn required(&self, state: &AppState) -> Result<bool, AppError> {
        if let Ok(guard) = self.required.lock()
            && let Some((at, required)) = *guard
            && at.elapsed() < REQUIRED_TTL
        {
            return Ok(required);
        }
        let required =
            state.store.active_token_count().await? > 0 || state.store.user_count().await? > 0;
        if let Ok(mut guard) = self.required.lock() {
            *guard = Some((Instant::now(), required));
        }
        Ok(required)
    }
}

impl AppState {
    /// The state with `options` for sessions, cookies, rate limits and
    /// CORS in place of the defaults.
    pub fn with_security(mut self, options: SecurityOptions) -> AppState {
        self.auth = std::sync::Arc::new(AuthState::new(options));
        self
    }

    /// The security options the server runs with.
    pub fn security(&self) -> &SecurityOptions {
        &self.auth.options
    }
}

/// Compares two secrets without an early exit that would tell an attacker
/// how many leading bytes they got right.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new random token: `qide_` and 64 hex digits from the OS's generator.
pub fn new_token() -> std::io::Result<String> {
    random_secret("qide_")
}

/// `prefix` and 64 hex digits from the OS's generator.
pub(crate) fn random_secret(prefix: &str) -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    random_bytes(&mut bytes)?;
    let mut secret = String::from(prefix);
    for b in bytes {
        secret.push_str(&format!("{b:02x}"));
    }
    Ok(secret)
}

/// Fills `buf` from the OS's random generator.
fn random_bytes(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}

/// The digest stored for a token (and for a session id).
pub fn token_hash(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

/// The scope a request needs; `None` for routes open to all.
pub(crate) fn required_scope(method: &Method, path: &str) -> Option<&'static str> {
    // Signing in and out must work without a credential; the stylesheet
    // the sign-in page links is no secret.
    if path == "/health" || path == "/login" || path == "/logout" || path.starts_with("/assets/") {
        return None;
    }
    if path == "/admin" || path.starts_with("/admin/") {
        return Some("admin");
    }
    if method == Method::GET || method == Method::HEAD {
        return Some("read");
    }
    // The dashboard's forms: run a build, cancel or rerun one.
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

/// Whether the request's `Origin` is one the server was told to allow
/// (`--cors-origin`): its pages may call the API with a token.
fn allowed_origin(request: &Request, options: &SecurityOptions) -> bool {
    request
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| options.cors_origins.iter().any(|allowed| allowed == o))
}

/// The value of cookie `name`, if the request carries it.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The credential a request carries, strongest first.
enum Credential {
    None,
    /// An `Authorization` header that is not `Bearer TOKEN`.
    Malformed,
    Bearer(String),
    /// A session id; `from_cookie` when the browser sent it by itself.
    Session {
        id: String,
        from_cookie: bool,
    },
}

fn credential(request: &Request) -> Credential {
    let headers = request.headers();
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        return match value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
        {
            Some(token) if !token.is_empty() => Credential::Bearer(token.to_owned()),
            _ => Credential::Malformed,
        };
    }
    if let Some(id) = headers.get("x-session-id").and_then(|v| v.to_str().ok()) {
        return Credential::Session {
            id: id.trim().to_owned(),
            from_cookie: false,
        };
    }
    let from_query = request.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "session_id")
            .map(|(_, v)| v.into_owned())
    });
    if let Some(id) = from_query {
        return Credential::Session {
            id,
            from_cookie: false,
        };
    }
    match cookie(headers, SESSION_COOKIE) {
        Some(id) => Credential::Session {
            id: id.to_owned(),
            from_cookie: true,
        },
        None => Credential::None,
    }
}

/// Takes the seed's `session_id` out of the query once it has been read:
/// it is a credential, not a parameter of the route (whose strict query
/// parsing would refuse it).
fn strip_session_id(request: &mut Request) {
    let Some(query) = request.uri().query() else {
        return;
    };
    if !form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "session_id") {
        return;
    }
    let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != "session_id")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut path_and_query = request.uri().path().to_owned();
    if !kept.is_empty() {
        path_and_query.push('?');
        path_and_query.push_str(
            &form_urlencoded::Serializer::new(String::new())
                .extend_pairs(kept)
                .finish(),
        );
    }
    let mut parts = request.uri().clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
}

/// A browser asking for a page, which is better sent to the sign-in form
/// than shown a problem document.
fn wants_page(request: &Request) -> bool {
    const API: [&str; 9] = [
        "/llm/", "/build/", "/mcp", "/events", "/metrics", "/health", "/openapi", "/admin/",
        "/assets/",
    ];
    let method = request.method();
    let path = request.uri().path();
    (method == Method::GET || method == Method::HEAD)
        && !API.iter().any(|prefix| path.starts_with(prefix))
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|a| a.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

/// 303 to the sign-in page, which comes back to this page afterwards.
fn to_sign_in(next: &str) -> Response {
    let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
    let location = format!("/login?next={next}");
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The peer's address, when the server was started with connection info.
pub(crate) fn remote(request: &Request) -> Option<SocketAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// What the access check needs to know of a request, taken out of it
/// before any await (a request body is not `Sync`).
struct Asked {
    credential: Credential,
    /// A browser asking for a page: sent to sign in rather than refused.
    page: bool,
    /// Where the sign-in page should lead back to.
    path_and_query: String,
}

impl Asked {
    fn of(request: &Request) -> Asked {
        Asked {
            credential: credential(request),
            page: wants_page(request),
            path_and_query: request
                .uri()
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned()),
        }
    }

    /// The answer to a request without a credential: the open server's
    /// local caller, a redirect to sign in, or a 401.
    async fn anonymous(&self, state: &AppState) -> Result<Caller, Response> {
        match state.auth.required(state).await {
            Ok(false) => Ok(Caller::local()),
            Ok(true) if self.page => Err(to_sign_in(&self.path_and_query)),
            Ok(true) => Err(unauthorized(
                "this server needs a credential: send Authorization: Bearer TOKEN, \
                 or sign in at /login",
            )),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// Who the request's credential says the caller is, or the answer to give
/// instead.
async fn identify(state: &AppState, asked: &Asked) -> Result<Caller, Response> {
    match &asked.credential {
        Credential::None => asked.anonymous(state).await,
        Credential::Malformed => Err(unauthorized(
            "the Authorization header must be `Bearer TOKEN`",
        )),
        Credential::Bearer(token) => {
            match state
                .store
                .use_token(&token_hash(token), crate::now_ms())
                .await
            {
                Err(e) => Err(AppError::from(e).into_response()),
                Ok(None) => Err(unauthorized("the token is not valid or was revoked")),
                Ok(Some(record)) => Ok(Caller {
                    name: record.name,
                    scopes: record.scopes,
                    session: None,
                }),
            }
        }
        Credential::Session { id, from_cookie } => {
            let hash = token_hash(id);
            let idle_ms =
                i64::try_from(state.auth.options.session_idle.as_millis()).unwrap_or(i64::MAX);
            match state
                .store
                .use_session(&hash, crate::now_ms(), idle_ms)
                .await
            {
                Err(e) => Err(AppError::from(e).into_response()),
                Ok(Some(session)) => Ok(Caller {
                    name: session.subject,
                    scopes: session.scopes,
                    session: Some(hash),
                }),
                // A stale cookie is no credential at all: an open server
                // lets the developer in, a closed one asks to sign in
                // again. An explicit session id that is unknown is an
                // error, except on an open server, where the seed's
                // clients may send one out of habit.
                Ok(None) if *from_cookie => asked.anonymous(state).await,
                Ok(None) => match state.auth.required(state).await {
                    Ok(false) => Ok(Caller::local()),
                    Ok(true) => Err(unauthorized(
                        "the session is unknown, expired or was signed out: sign in again",
                    )),
                    Err(e) => Err(e.into_response()),
                },
            }
        }
    }
}

/// The key a caller's rate limits are counted under: its session, its
/// token, or for the anonymous caller of an open server its address.
fn limit_key(caller: &Caller, request: &Request) -> String {
    if let Some(session) = &caller.session {
        return format!("session:{session}");
    }
    if caller.name != "local" {
        return format!("caller:{}", caller.name);
    }
    match remote(request) {
        Some(addr) => format!("ip:{}", addr.ip()),
        None => "local".to_owned(),
    }
}

/// Checks the credential of every request against the scope its route
/// needs, applies the rate limits, leaves the [`Caller`] in the request's
/// extensions, and records audited actions.
pub(crate) async fn authorize(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    if method != Method::GET
        && method != Method::HEAD
        && cross_site(&request)
        && !allowed_origin(&request, &state.auth.options)
    {
        return AppError::Forbidden {
            code: "cross_site_request",
            detail: "requests from another site are refused".to_owned(),
        }
        .into_response();
    }
    let path = request.uri().path().to_owned();
    let Some(scope) = required_scope(&method, &path) else {
        // Sign-in attempts are limited per peer: they have no caller yet.
        if let Some(kind) = Expensive::of(&method, &path, request.uri().query()) {
            let key = remote(&request).map_or_else(|| "local".to_owned(), |a| a.ip().to_string());
            if let Err(refused) = state.auth.limiters.check(kind, &format!("ip:{key}")) {
                return refused.into_response();
            }
        }
        return next.run(request).await;
    };
    let asked = Asked::of(&request);
    strip_session_id(&mut request);
    let caller = match identify(&state, &asked).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    if !caller.may(scope) {
        return AppError::Forbidden {
            code: "insufficient_scope",
            detail: format!(
                "this route needs the {scope:?} scope; the caller has {}",
                caller.scopes.join(", ")
            ),
        }
        .into_response();
    }
    if let Some(kind) = Expensive::of(&method, &path, request.uri().query())
        && let Err(refused) = state
            .auth
            .limiters
            .check(kind, &limit_key(&caller, &request))
    {
        return refused.into_response();
    }
    let audited = crate::audit::Audited::of(&method, &path);
    let peer = remote(&request);
    request.extensions_mut().insert(caller.clone());
    let response = next.run(request).await;
    match audited {
        Some(action) => action.record(&state, &caller, peer, response).await,
        None => response,
    }
}

/// CORS for the origins the server was told to trust; `None` (no CORS
/// headers at all, so browsers keep other sites from reading answers)
/// without any.
pub(crate) fn cors_layer(options: &SecurityOptions) -> Option<tower_http::cors::CorsLayer> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins: Vec<HeaderValue> = options
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::HeaderName::from_static("x-session-id"),
            ])
            .max_age(Duration::from_secs(600)),
    )
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
