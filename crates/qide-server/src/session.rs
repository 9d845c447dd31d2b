//! Signing in and out: `GET /login` (the form), `POST /login` (a token, or
//! a user's name and password, checked against its argon2 hash), and
//! `POST /logout`.
//!
//! A sign-in creates a session: a random id that only the browser (the
//! `qide_session` cookie: HttpOnly, SameSite=Lax, Path=/, Secure under TLS)
//! or the agent (the JSON answer's `session_id`) holds, stored as a digest
//! with the scopes of the token or user and an idle expiry. Revoking the
//! token or removing the user ends it at the next request.
//!
//! The form itself is protected against login CSRF (a page elsewhere
//! signing the browser in as someone else) by a pre-session: `GET /login`
//! sets a random `qide_login` cookie, and the form's hidden `csrf` field is
//! a keyed hash of it, which a page on another site can neither read nor
//! forge.

use std::net::SocketAddr;
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::Json;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};
use qide_api as api;
use qide_store::NewSession;

use crate::auth::{Caller, SESSION_COOKIE, cookie, random_secret, remote, token_hash};
use crate::{AppError, AppState, BODY_LIMIT};

/// The pre-session cookie that binds the sign-in form's CSRF token.
const LOGIN_COOKIE: &str = "qide_login";

/// Longest user name, token or password considered: longer ones are
/// refused before any hashing.
const MAX_FIELD: usize = 1024;

/// The sign-in routes, which the access check lets through without a
/// credential. They are the browser's, like the dashboard's pages, and so
/// not in the OpenAPI document; agents use bearer tokens.
pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

/// Hashes a password for storage (argon2id, a random salt, the crate's
/// default cost), as a PHC string.
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| format!("hashing the password: {e}"))
}

/// Whether `password` matches the stored PHC `hash`.
fn password_matches(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// A hash to check wrong user names against, so that an unknown name takes
/// as long to refuse as a wrong password and does not reveal who exists.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("qide decoy password").unwrap_or_default())
}

/// A `next` value to return to after signing in: only a path on this
/// server, never another site (`//host`, `/\host`, `https://…`).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && !next.starts_with("/\\")
                && !next.chars().any(|c| c.is_control() || c == '\\')
                && next.len() <= 2048 =>
        {
            next.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// A cookie header value; `Secure` when the server speaks TLS.
fn set_cookie(state: &AppState, name: &str, value: &str, attributes: &str) -> HeaderValue {
    let secure = if state.auth.options.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let text = format!("{name}={value}; {attributes}{secure}");
    // Names and values here are ours: hex digits and fixed words.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The caller the sign-in form's CSRF token is bound to: the pre-session.
fn pre_session_caller(pre: &str) -> Caller {
    Caller {
        name: String::new(),
        scopes: Vec::new(),
        session: Some(format!("login:{}", token_hash(pre))),
    }
}

/// Headers every sign-in answer carries: never cached, never framed.
fn page_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

fn page(csrf: &str, next: &str, error: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Sign in · QIDE" }
                link rel="stylesheet" href="/assets/qide.css";
            }
            body class="login" {
                main {
                    h1 { "Sign in to QIDE" }
                    p { "Use an access token (" code { "qide token create" } "), or a user name and password (" code { "qide user add" } ")." }
                    @if let Some(error) = error {
                        p class="error" role="alert" { (error) }
                    }
                    form method="post" action="/login" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="next" value=(next);
                        fieldset {
                            legend { "With a token" }
                            label for="token" { "Access token" }
                            input id="token" name="token" type="password" autocomplete="off";
                        }
                        fieldset {
                            legend { "Or with a user" }
                            label for="user" { "User name" }
                            input id="user" name="user" type="text" autocomplete="username";
                            label for="password" { "Password" }
                            input id="password" name="password" type="password" autocomplete="current-password";
                        }
                        button type="submit" { "Sign in" }
                    }
                }
            }
        }
    }
}

/// The form with a fresh pre-session, answered with `status`.
fn form_response(
    state: &AppState,
    status: StatusCode,
    next: &str,
    error: Option<&str>,
) -> Response {
    let pre = match random_secret("") {
        Ok(pre) => pre,
        Err(e) => return AppError::Internal(format!("reading random bytes: {e}")).into_response(),
    };
    let csrf = state.auth.csrf_token(&pre_session_caller(&pre));
    let mut response = (
        status,
        axum::response::Html(page(&csrf, next, error).into_string()),
    )
        .into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(
            state,
            LOGIN_COOKIE,
            &pre,
            "Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600",
        ),
    );
    page_headers(&mut response);
    response
}

/// `GET /login?next=PATH`: the sign-in form.
async fn login_page(State(state): State<AppState>, request: Request) -> Response {
    let next = request.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "next")
            .map(|(_, v)| v.into_owned())
    });
    form_response(&state, StatusCode::OK, &safe_next(next.as_deref()), None)
}

/// Who signed in, and how.
struct SignedIn {
    subject: String,
    scopes: Vec<String>,
    user_id: Option<i64>,
    token_id: Option<i64>,
    method: &'static str,
}

/// Why a sign-in failed, in words a person can act on.
enum Refused {
    /// Neither a token nor a user and password was given.
    Incomplete,
    /// The token or the password is wrong (which one is not said).
    Wrong {
        who: String,
    },
    Store(AppError),
}

/// A form field with something in it.
fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

async fn authenticate(
    state: &AppState,
    token: Option<&str>,
    user: Option<&str>,
    password: Option<&str>,
) -> Result<SignedIn, Refused> {
    if [token, user, password]
        .iter()
        .any(|v| v.is_some_and(|v| v.len() > MAX_FIELD))
    {
        return Err(Refused::Wrong {
            who: "anonymous".to_owned(),
        });
    }
    if let Some(token) = present(token) {
        return match state
            .store
            .use_token(&token_hash(token), crate::now_ms())
            .await
        {
            Err(e) => Err(Refused::Store(e.into())),
            Ok(None) => Err(Refused::Wrong {
                who: "unknown token".to_owned(),
            }),
            Ok(Some(record)) => Ok(SignedIn {
                subject: record.name,
                scopes: record.scopes,
                user_id: None,
                token_id: Some(record.id),
                method: "token",
            }),
        };
    }
    let (Some(name), Some(password)) = (present(user), password.filter(|p| !p.is_empty())) else {
        return Err(Refused::Incomplete);
    };
    let found = state
        .store
        .get_user(name)
        .await
        .map_err(|e| Refused::Store(e.into()))?;
    let hash = found
        .as_ref()
        .map_or_else(|| decoy_hash().to_owned(), |u| u.password_hash.clone());
    let password = password.to_owned();
    // argon2 is deliberately slow: keep it off the async workers.
    let matches = tokio::task::spawn_blocking(move || password_matches(&password, &hash))
        .await
        .unwrap_or(false);
    match found {
        Some(user) if matches => Ok(SignedIn {
            subject: user.name,
            scopes: user.scopes,
            user_id: Some(user.id),
            token_id: None,
            method: "password",
        }),
        _ => Err(Refused::Wrong {
            who: name.to_owned(),
        }),
    }
}

/// Stores a new session for `who`; returns its id.
async fn start_session(state: &AppState, who: &SignedIn) -> Result<(String, i64), AppError> {
    let id = random_secret("qs_").map_err(|e| AppError::Internal(format!("random bytes: {e}")))?;
    let now = crate::now_ms();
    let idle = i64::try_from(state.auth.options.session_idle.as_millis()).unwrap_or(i64::MAX);
    let expires = now.saturating_add(idle);
    state
        .store
        .create_session(&NewSession {
            hash: token_hash(&id),
            subject: who.subject.clone(),
            user_id: who.user_id,
            token_id: who.token_id,
            scopes: who.scopes.clone(),
            created_at_ms: now,
            expires_at_ms: expires,
        })
        .await?;
    Ok((id, expires))
}

async fn audit_attempt(
    state: &AppState,
    result: &Result<SignedIn, Refused>,
    peer: Option<SocketAddr>,
) {
    match result {
        Ok(who) => {
            let target = match who.method {
                "token" => format!("token:{}", who.subject),
                _ => format!("user:{}", who.subject),
            };
            crate::audit::record(
                state,
                &who.subject,
                "session.sign_in",
                Some(target),
                Some(who.method.to_owned()),
                peer,
            )
            .await;
        }
        Err(Refused::Wrong { who }) => {
            crate::audit::record(
                state,
                who,
                "session.sign_in_failed",
                None,
                Some("wrong token or password".to_owned()),
                peer,
            )
            .await;
        }
        Err(_) => {}
    }
}

/// `POST /login`: a form from the sign-in page, or JSON from an agent.
async fn login(State(state): State<AppState>, request: Request) -> Response {
    let peer = remote(&request);
    let headers = request.headers().clone();
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let body = match to_bytes(request.into_body(), BODY_LIMIT).await {
        Ok(body) => body,
        Err(_) => {
            return AppError::TooLarge("the sign-in request is over the size limit".to_owned())
                .into_response();
        }
    };
    if is_json {
        login_json(&state, &body, peer).await
    } else {
        login_form(&state, &headers, &body, peer).await
    }
}

async fn login_json(state: &AppState, body: &[u8], peer: Option<SocketAddr>) -> Response {
    let request: api::SignInRequest = match crate::extract::parse_json(body) {
        Ok(request) => request,
        Err(e) => return e.into_response(),
    };
    let result = authenticate(
        state,
        request.token.as_deref(),
        request.user.as_deref(),
        request.password.as_deref(),
    )
    .await;
    audit_attempt(state, &result, peer).await;
    let who = match result {
        Ok(who) => who,
        Err(Refused::Incomplete) => {
            return AppError::field("token", "send a token, or a user and a password")
                .into_response();
        }
        Err(Refused::Wrong { .. }) => {
            return AppError::Unauthorized("wrong token, user name or password".to_owned())
                .into_response();
        }
        Err(Refused::Store(e)) => return e.into_response(),
    };
    match start_session(state, &who).await {
        Ok((id, expires)) => (
            StatusCode::CREATED,
            [(header::CACHE_CONTROL, "no-store")],
            Json(api::SessionCreated {
                session_id: id,
                subject: who.subject,
                scopes: who.scopes,
                expires_at: crate::convert::rfc3339(expires),
            }),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn login_form(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    peer: Option<SocketAddr>,
) -> Response {
    let mut csrf = None;
    let mut next = None;
    let mut token = None;
    let mut user = None;
    let mut password = None;
    for (key, value) in form_urlencoded::parse(body) {
        let slot = match key.as_ref() {
            "csrf" => &mut csrf,
            "next" => &mut next,
            "token" => &mut token,
            "user" => &mut user,
            "password" => &mut password,
            _ => continue,
        };
        *slot = Some(value.into_owned());
    }
    let next = safe_next(next.as_deref());
    let csrf_ok = cookie(headers, LOGIN_COOKIE).is_some_and(|pre| {
        state
            .auth
            .verify_csrf(&pre_session_caller(pre), csrf.as_deref().unwrap_or(""))
            .is_ok()
    });
    if !csrf_ok {
        return form_response(
            state,
            StatusCode::FORBIDDEN,
            &next,
            Some("This form expired or did not come from this server. Please sign in again."),
        );
    }
    let result = authenticate(
        state,
        token.as_deref(),
        user.as_deref(),
        password.as_deref(),
    )
    .await;
    audit_attempt(state, &result, peer).await;
    let who = match result {
        Ok(who) => who,
        Err(Refused::Incomplete) => {
            return form_response(
                state,
                StatusCode::UNPROCESSABLE_ENTITY,
                &next,
                Some("Enter an access token, or a user name and password."),
            );
        }
        Err(Refused::Wrong { .. }) => {
            return form_response(
                state,
                StatusCode::UNAUTHORIZED,
                &next,
                Some("Wrong token, user name or password."),
            );
        }
        Err(Refused::Store(e)) => return e.into_response(),
    };
    let (id, _) = match start_session(state, &who).await {
        Ok(started) => started,
        Err(e) => return e.into_response(),
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&next) {
        headers.insert(header::LOCATION, location);
    }
    headers.append(
        header::SET_COOKIE,
        set_cookie(state, SESSION_COOKIE, &id, "Path=/; HttpOnly; SameSite=Lax"),
    );
    headers.append(
        header::SET_COOKIE,
        set_cookie(
            state,
            LOGIN_COOKIE,
            "",
            "Path=/login; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    page_headers(&mut response);
    response
}

/// `POST /logout`: ends the session of the cookie or `X-Session-Id`.
async fn logout(State(state): State<AppState>, request: Request) -> Response {
    let peer = remote(&request);
    let headers = request.headers();
    let from_header = headers
        .get("x-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let from_cookie = cookie(headers, SESSION_COOKIE);
    if let Some(id) = from_header.or(from_cookie) {
        let hash = token_hash(id);
        // Look the session up first, for the name the trail records.
        let subject = match state.store.use_session(&hash, crate::now_ms(), 0).await {
            Ok(found) => found.map(|s| s.subject),
            Err(e) => return AppError::from(e).into_response(),
        };
        match state.store.end_session(&hash).await {
            Ok(true) => {
                let who = subject.unwrap_or_else(|| "unknown".to_owned());
                crate::audit::record(&state, &who, "session.sign_out", None, None, peer).await;
            }
            Ok(false) => {}
            Err(e) => return AppError::from(e).into_response(),
        }
    }
    if from_header.is_some() && from_cookie.is_none() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, HeaderValue::from_static("/login"));
    headers.insert(
        header::SET_COOKIE,
        set_cookie(
            &state,
            SESSION_COOKIE,
            "",
            "Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_server_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/builds/4?x=1")), "/builds/4?x=1");
        assert_eq!(safe_next(Some("/")), "/");
        for hostile in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "evil.example",
            "javascript:alert(1)",
            "/ok\r\nSet-Cookie: x=1",
            "/a\\b",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn passwords_are_hashed_with_a_salt_and_verified() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(password_matches("correct horse", &a));
        assert!(!password_matches("correct horse ", &a));
        assert!(!password_matches("correct horse", "not a hash"));
    }

    #[test]
    fn the_page_escapes_what_it_echoes() {
        let html = page("c\"s<rf", "/x\"><script>", Some("<b>no</b>")).into_string();
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>no</b>"), "{html}");
        assert!(html.contains("&lt;b&gt;no&lt;/b&gt;"), "{html}");
        assert!(html.contains(r#"href="/assets/qide.css""#));
    }
}
