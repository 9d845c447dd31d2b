//! Dashboard sessions: signing in with a password or a token through the
//! form (CSRF-protected) or JSON, the cookie's flags, the seed's
//! `session_id`, expiry, sign-out, the redirect of a browser to the form,
//! and the audit trail of it all.

use std::time::Duration;

use qide_api as api;
use qide_server::{SecurityOptions, hash_password, token_hash};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};

use crate::harness::{TestApp, spawn_app, spawn_app_secured, step, test_limits};

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn add_user(app: &TestApp, name: &str, password: &str, scopes: &[&str]) {
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    app.store
        .create_user(name, &hash_password(password).unwrap(), &scopes, 1)
        .await
        .unwrap();
}

async fn add_token(app: &TestApp, name: &str, scopes: &[&str]) -> String {
    let token = qide_server::new_token().unwrap();
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    app.store
        .create_token(name, &token_hash(&token), &scopes, 1)
        .await
        .unwrap();
    token
}

/// The `Set-Cookie` header that sets `name`.
fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(&format!("{name}=")))
}

/// The value a `Set-Cookie` header sets.
fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_owned()
}

/// The sign-in form: its pre-session cookie and its CSRF field.
struct Form {
    pre: String,
    csrf: String,
}

async fn open_form(app: &TestApp) -> Form {
    let response = browser()
        .get(format!("{}/login?next=%2Fbuilds%2F1", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let cookie = set_cookie(response.headers(), "qide_login").expect("pre-session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"href="/assets/qide.css""#), "{html}");
    assert!(html.contains(r#"name="next" value="/builds/1""#), "{html}");
    let marker = r#"name="csrf" value=""#;
    let at = html.find(marker).expect("csrf field") + marker.len();
    let csrf = html[at..].split('"').next().unwrap().to_owned();
    Form {
        pre: cookie_value(&cookie),
        csrf,
    }
}

async fn post_form(app: &TestApp, pre: Option<&str>, fields: &[(&str, &str)]) -> reqwest::Response {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut request = browser()
        .post(format!("{}/login", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(pre) = pre {
        request = request.header("cookie", format!("qide_login={pre}"));
    }
    request.send().await.unwrap()
}

async fn status_with(app: &TestApp, path: &str, header: (&str, String)) -> StatusCode {
    app.http
        .get(format!("{}{path}", app.base))
        .header(header.0, header.1)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_password_sign_in_sets_a_safe_cookie_that_works_until_sign_out() {
    let app = spawn_app().await;
    add_user(&app, "alice", "correct horse", &["read", "run"]).await;
    let form = open_form(&app).await;

    let response = post_form(
        &app,
        Some(&form.pre),
        &[
            ("csrf", &form.csrf),
            ("user", "alice"),
            ("password", "correct horse"),
            ("next", "/builds/1"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/builds/1");
    let cookie = set_cookie(response.headers(), "qide_session").expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP cannot keep a Secure cookie: {cookie}"
    );
    let session = cookie_value(&cookie);
    assert!(session.len() >= 64, "{session}");

    // The cookie, the seed's header and its query parameter all work.
    let path = "/llm/learning/builds";
    let by_cookie = ("cookie", format!("qide_session={session}"));
    assert_eq!(
        status_with(&app, path, by_cookie.clone()).await,
        StatusCode::OK
    );
    assert_eq!(
        status_with(&app, path, ("x-session-id", session.clone())).await,
        StatusCode::OK
    );
    let by_query = app
        .http
        .get(format!("{}{path}?session_id={session}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(by_query.status(), StatusCode::OK);
    // Without a credential, the API refuses.
    let none = app
        .http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);

    // The session has alice's scopes: run, but not admin.
    let run = app
        .http
        .post(format!("{}/build/run", app.base))
        .header("cookie", format!("qide_session={session}"))
        .json(&serde_json::json!({"steps": [{"run": "true"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), StatusCode::ACCEPTED);
    let admin = status_with(&app, "/admin/audit", by_cookie.clone()).await;
    assert_eq!(admin, StatusCode::FORBIDDEN);

    // Signing out ends it and clears the cookie.
    let out = browser()
        .post(format!("{}/logout", app.base))
        .header("cookie", format!("qide_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(out.headers()[LOCATION], "/login");
    let cleared = set_cookie(out.headers(), "qide_session").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(
        status_with(&app, path, ("x-session-id", session.clone())).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_with(&app, path, by_cookie).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_form_refuses_missing_stale_or_foreign_csrf_tokens_and_wrong_passwords() {
    let app = spawn_app().await;
    add_user(&app, "alice", "correct horse", &["read"]).await;
    let form = open_form(&app).await;
    let other = open_form(&app).await;
    // No token, a made-up one, one from another pre-session, none of the
    // pre-session cookie: all refused, and no session is made.
    for (pre, csrf) in [
        (Some(form.pre.as_str()), ""),
        (Some(form.pre.as_str()), "0123456789abcdef0123456789abcdef"),
        (Some(form.pre.as_str()), other.csrf.as_str()),
        (None, form.csrf.as_str()),
    ] {
        let fields = [
            ("csrf", csrf),
            ("user", "alice"),
            ("password", "correct horse"),
        ];
        let response = post_form(&app, pre, &fields).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{csrf}");
        assert!(set_cookie(response.headers(), "qide_session").is_none());
        let html = response.text().await.unwrap();
        assert!(
            html.contains("expired or did not come from this server"),
            "{html}"
        );
    }

    // A page on another site cannot post the form at all.
    let cross = browser()
        .post(format!("{}/login", app.base))
        .header("origin", "https://evil.example")
        .header("cookie", format!("qide_login={}", form.pre))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={}&user=alice&password=correct+horse",
            form.csrf
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let problem: api::Problem = cross.json().await.unwrap();
    assert_eq!(problem.code, "cross_site_request");

    // A wrong password and an unknown user read the same.
    for (user, password) in [("alice", "wrong horse"), ("mallory", "correct horse")] {
        let response = post_form(
            &app,
            Some(&form.pre),
            &[("csrf", &form.csrf), ("user", user), ("password", password)],
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{user}");
        assert!(set_cookie(response.headers(), "qide_session").is_none());
        let html = response.text().await.unwrap();
        assert!(
            html.contains("Wrong token, user name or password."),
            "{html}"
        );
    }
    // The right one, with the right token, works.
    let ok = post_form(
        &app,
        Some(&form.pre),
        &[
            ("csrf", &form.csrf),
            ("user", "alice"),
            ("password", "correct horse"),
        ],
    )
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    // `next` was not given: back to the dashboard's front page.
    assert_eq!(ok.headers()[LOCATION], "/");
}

#[tokio::test]
async fn a_hostile_next_leads_home_and_a_browser_without_credentials_is_sent_to_sign_in() {
    let app = spawn_app().await;
    let token = add_token(&app, "ci", &["read"]).await;
    let form = open_form(&app).await;
    for next in [
        "//evil.example/x",
        "https://evil.example",
        "/\\evil.example",
    ] {
        let response = post_form(
            &app,
            Some(&form.pre),
            &[("csrf", &form.csrf), ("token", &token), ("next", next)],
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(response.headers()[LOCATION], "/", "{next}");
    }

    let page = browser()
        .get(format!("{}/builds/3?tab=log", app.base))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page.headers()[LOCATION],
        "/login?next=%2Fbuilds%2F3%3Ftab%3Dlog"
    );
    // API routes keep their 401 problem, whatever the Accept header says.
    for path in ["/llm/learning/builds", "/build/1", "/metrics"] {
        let api = browser()
            .get(format!("{}{path}", app.base))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            api.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
    }
    // The form itself needs no credential.
    let login = browser()
        .get(format!("{}/login", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
}

async fn sign_in_json(app: &TestApp, body: serde_json::Value) -> reqwest::Response {
    app.http
        .post(format!("{}/login", app.base))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn sessions_expire_when_idle_and_end_with_their_token() {
    let app = spawn_app_secured(
        test_limits(),
        SecurityOptions {
            session_idle: Duration::from_millis(600),
            ..SecurityOptions::default()
        },
        |_| {},
    )
    .await;
    let token = add_token(&app, "ci", &["read", "report"]).await;

    let created = sign_in_json(&app, serde_json::json!({"token": token})).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: api::SessionCreated = created.json().await.unwrap();
    assert_eq!(created.subject, "ci");
    assert_eq!(created.scopes, ["read", "report"]);
    let session = created.session_id;
    let path = "/llm/learning/builds";
    assert_eq!(
        status_with(&app, path, ("x-session-id", session.clone())).await,
        StatusCode::OK
    );
    // Unused for longer than its idle time, it is gone.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        status_with(&app, path, ("x-session-id", session.clone())).await,
        StatusCode::UNAUTHORIZED
    );

    // A fresh session dies when its token is revoked.
    let again: api::SessionCreated = sign_in_json(&app, serde_json::json!({"token": token}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        status_with(&app, path, ("x-session-id", again.session_id.clone())).await,
        StatusCode::OK
    );
    app.store.revoke_token("ci", 2).await.unwrap();
    assert_eq!(
        status_with(&app, path, ("x-session-id", again.session_id.clone())).await,
        StatusCode::UNAUTHORIZED
    );

    // Bad JSON sign-ins: wrong token, nothing to sign in with, unknown field.
    let wrong = sign_in_json(&app, serde_json::json!({"token": "qide_nope"})).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let empty = sign_in_json(&app, serde_json::json!({})).await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let odd = sign_in_json(&app, serde_json::json!({"tokn": "x"})).await;
    assert_eq!(odd.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: api::Problem = odd.json().await.unwrap();
    assert_eq!(problem.field.as_deref(), Some("tokn"));
}

#[tokio::test]
async fn an_open_server_ignores_stale_session_ids() {
    // The seed's clients may send a session id to a dev server that has no
    // credentials at all: it stays open for them.
    let app = spawn_app().await;
    assert_eq!(
        status_with(
            &app,
            "/llm/learning/builds",
            ("x-session-id", "sess-9".to_owned())
        )
        .await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_audit_trail_records_who_did_what_for_admins() {
    let app = spawn_app().await;
    let admin = add_token(&app, "root", &["admin"]).await;
    let agent = add_token(&app, "agent", &["read", "run", "report"]).await;
    add_user(&app, "alice", "correct horse", &["read"]).await;

    let agent_client = qide_client::Client::new(&app.base)
        .unwrap()
        .with_token(Some(agent.clone()));
    let accepted = agent_client
        .run_build(&api::RunRequest {
            steps: Some(vec![step("fail", "exit 3")]),
            ..Default::default()
        })
        .await
        .unwrap();
    let build = accepted.id;
    for _ in 0..4 {
        if agent_client
            .build(build, Some(30))
            .await
            .unwrap()
            .status
            .is_finished()
        {
            break;
        }
    }
    let report = agent_client
        .submit_report(&api::ReportRequest {
            build_id: build,
            kind: "failure_analysis".to_owned(),
            analysis: "exit 3".to_owned(),
            recommendations: vec![],
            confidence: 0.5,
            fingerprints: vec![],
            agent: None,
            model: None,
        })
        .await
        .unwrap();
    let cancel = app
        .http
        .post(format!("{}/build/{build}/cancel", app.base))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert!(cancel.status().is_success() || cancel.status() == StatusCode::CONFLICT);
    let signed = sign_in_json(
        &app,
        serde_json::json!({"user": "alice", "password": "correct horse"}),
    )
    .await;
    assert_eq!(signed.status(), StatusCode::CREATED);
    let failed = sign_in_json(
        &app,
        serde_json::json!({"user": "alice", "password": "not it at all"}),
    )
    .await;
    assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);
    let session: api::SessionCreated = signed.json().await.unwrap();
    let out = app
        .http
        .post(format!("{}/logout", app.base))
        .header("x-session-id", &session.session_id)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);

    // Only admins read the trail.
    let denied = app
        .http
        .get(format!("{}/admin/audit", app.base))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let list: api::AuditList = app
        .http
        .get(format!("{}/admin/audit?limit=100", app.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let seen: Vec<(String, String, Option<String>)> = list
        .events
        .iter()
        .rev()
        .map(|e| (e.actor.clone(), e.action.clone(), e.target.clone()))
        .collect();
    let target = Some(format!("build:{build}"));
    let expected = [
        ("agent", "build.run", target.clone()),
        ("agent", "report.create", target.clone()),
        ("alice", "session.sign_in", Some("user:alice".to_owned())),
        ("alice", "session.sign_in_failed", None),
        ("alice", "session.sign_out", None),
    ];
    let mut at = 0;
    for (actor, action, target) in &expected {
        let found = seen[at..]
            .iter()
            .position(|(a, act, t)| a == actor && act == action && t == target)
            .unwrap_or_else(|| panic!("{actor} {action} {target:?} not in order in {seen:?}"));
        at += found + 1;
    }
    let report_event = list
        .events
        .iter()
        .find(|e| e.action == "report.create")
        .unwrap();
    assert_eq!(
        report_event.detail.as_deref(),
        Some(format!("report {}", report.id).as_str())
    );
    assert_eq!(report_event.remote.as_deref(), Some("127.0.0.1"));
    // Neither the password nor a token is ever written down.
    let text = serde_json::to_string(&list).unwrap();
    for secret in ["correct horse", "not it at all", &agent, &admin] {
        assert!(!text.contains(secret), "{secret} in the trail");
    }
    // Paging.
    let page: api::AuditList = app
        .http
        .get(format!("{}/admin/audit?skip=1&limit=2", app.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page.events.len(), 2);
    assert_eq!(page.total, list.total);
    assert_eq!(page.events[0].id, list.events[1].id);
    let bad = app
        .http
        .get(format!("{}/admin/audit?limit=0", app.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
