//! Limits: per-caller rate limits on builds and codebase packs and maps
//! (429 with `Retry-After`), CORS only for configured origins, and builds
//! running side by side when the cap allows it.

use qide_api as api;
use qide_runner::BuildLimits;
use qide_server::{Rate, RateLimits, SecurityOptions, token_hash};
use reqwest::StatusCode;

use crate::harness::{TestApp, spawn_app, spawn_app_secured, step, test_limits};

fn tight() -> SecurityOptions {
    let two = Some(Rate {
        burst: 2,
        per_minute: 1,
    });
    SecurityOptions {
        rate_limits: RateLimits {
            builds: two,
            codebase: two,
            sign_in: two,
        },
        ..SecurityOptions::default()
    }
}

async fn run_build(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = app
        .http
        .post(format!("{}/build/run", app.base))
        .json(&serde_json::json!({"steps": [{"run": "true"}]}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn assert_limited(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let problem: api::Problem = response.json().await.unwrap();
    assert_eq!(problem.code, "rate_limited");
    assert_eq!(problem.status, 429);
}

#[tokio::test]
async fn builds_are_limited_per_caller() {
    let app = spawn_app_secured(test_limits(), tight(), |_| {}).await;
    // On an open server, the caller is its address.
    for _ in 0..2 {
        assert_eq!(run_build(&app, None).await.status(), StatusCode::ACCEPTED);
    }
    assert_limited(run_build(&app, None).await).await;

    // With tokens, each token has an allowance of its own.
    let mut tokens = Vec::new();
    for name in ["a", "b"] {
        let token = qide_server::new_token().unwrap();
        app.store
            .create_token(
                name,
                &token_hash(&token),
                &["run".to_owned(), "read".to_owned()],
                1,
            )
            .await
            .unwrap();
        tokens.push(token);
    }
    for _ in 0..2 {
        assert_eq!(
            run_build(&app, Some(&tokens[0])).await.status(),
            StatusCode::ACCEPTED
        );
    }
    assert_limited(run_build(&app, Some(&tokens[0])).await).await;
    assert_eq!(
        run_build(&app, Some(&tokens[1])).await.status(),
        StatusCode::ACCEPTED
    );
    // Cheap requests are not counted.
    for _ in 0..5 {
        let list = app
            .http
            .get(format!("{}/llm/learning/builds", app.base))
            .bearer_auth(&tokens[0])
            .send()
            .await
            .unwrap();
        assert_eq!(list.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn codebase_packs_and_maps_are_limited_but_summaries_are_not() {
    let app = spawn_app_secured(test_limits(), tight(), |dir| {
        std::fs::write(dir.join("lib.rs"), "pub fn f() {}\n").unwrap();
    })
    .await;
    let get = |query: &'static str| {
        let url = format!("{}/llm/learning/codebase{query}", app.base);
        let http = app.http.clone();
        async move { http.get(url).send().await.unwrap() }
    };
    for _ in 0..5 {
        assert_eq!(get("").await.status(), StatusCode::OK);
    }
    assert_eq!(get("?mode=pack").await.status(), StatusCode::OK);
    assert_eq!(get("?mode=map").await.status(), StatusCode::OK);
    assert_limited(get("?mode=pack&budget_tokens=100").await).await;
    assert_eq!(get("?mode=summary").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn password_guessing_is_limited_per_address() {
    let app = spawn_app_secured(test_limits(), tight(), |_| {}).await;
    let guess = || {
        app.http
            .post(format!("{}/login", app.base))
            .json(&serde_json::json!({"user": "alice", "password": "guess guess"}))
            .send()
    };
    for _ in 0..2 {
        assert_eq!(guess().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    assert_limited(guess().await.unwrap()).await;
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/llm/learning/builds", app.base),
        )
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cors_is_off_unless_an_origin_is_allowed() {
    let closed = spawn_app().await;
    let response = preflight(&closed, "https://ci.example.com").await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let get = closed
        .http
        .get(format!("{}/llm/learning/builds", closed.base))
        .header("origin", "https://ci.example.com")
        .send()
        .await
        .unwrap();
    assert!(get.headers().get("access-control-allow-origin").is_none());

    let open = spawn_app_secured(
        test_limits(),
        SecurityOptions {
            cors_origins: vec!["https://ci.example.com".to_owned()],
            ..SecurityOptions::default()
        },
        |_| {},
    )
    .await;
    let allowed = preflight(&open, "https://ci.example.com").await;
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://ci.example.com"
    );
    let headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(headers.contains("authorization"), "{headers}");
    let other = preflight(&open, "https://evil.example").await;
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // The allowed origin may post with a token; others are refused.
    let post = |origin: &'static str| {
        open.http
            .post(format!("{}/build/run", open.base))
            .header("origin", origin)
            .json(&serde_json::json!({"steps": [{"run": "true"}]}))
            .send()
    };
    assert_eq!(
        post("https://ci.example.com").await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        post("https://evil.example").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn two_builds_run_side_by_side_when_the_cap_allows() {
    // Each step waits for the other's file: they finish only if both run
    // at once. With a cap of one, they would time out.
    let app = spawn_app_secured(
        BuildLimits {
            max_concurrent_builds: 2,
            ..test_limits()
        },
        SecurityOptions::default(),
        |_| {},
    )
    .await;
    let wait_for = |mine: &str, theirs: &str| {
        let mut s = step(
            mine,
            &format!(
                "touch {mine}.flag; for i in $(seq 1 200); do [ -f {theirs}.flag ] && exit 0; sleep 0.05; done; exit 1"
            ),
        );
        s.timeout_s = Some(30);
        s
    };
    let a = app.start(vec![wait_for("a", "b")]).await;
    let b = app.start(vec![wait_for("b", "a")]).await;
    assert_eq!(app.wait(a).await.status, api::BuildStatus::Success);
    assert_eq!(app.wait(b).await.status, api::BuildStatus::Success);
}
