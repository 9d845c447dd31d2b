//! Bad input gets a 4xx problem+json that names the problem, and nothing is
//! stored half-way.

use qide_api as api;
use reqwest::StatusCode;

use crate::harness::{TestApp, spawn_app, step};

async fn problem(response: reqwest::Response) -> (StatusCode, api::Problem) {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert_eq!(content_type, "application/problem+json", "status {status}");
    let body: api::Problem = response.json().await.expect("problem body");
    assert_eq!(body.status, status.as_u16());
    (status, body)
}

async fn post(app: &TestApp, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
    app.http
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap()
}

async fn a_build(app: &TestApp) -> i64 {
    app.run(vec![step("ok", "true")]).await.id
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;
    let (status, p) = problem(post(&app, "/llm/learning/report", "{\"build_id\": 1,").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(p.code, "malformed_json");
    let (status, _) = problem(post(&app, "/build/run", "\u{0}\u{1}garbage").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn wrong_types_are_a_422_naming_the_field() {
    let app = spawn_app().await;
    let id = a_build(&app).await;
    let body = format!(
        r#"{{"build_id": {id}, "type": "failure_analysis", "analysis": "x", "recommendations": [], "confidence": "high"}}"#
    );
    let (status, p) = problem(post(&app, "/llm/learning/report", body).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p.code, "invalid_field");
    assert_eq!(p.field.as_deref(), Some("confidence"));

    let body = r#"{"build_id": "seven", "type": "other", "analysis": "x", "confidence": 0.5}"#;
    let (_, p) = problem(post(&app, "/llm/learning/report", body).await).await;
    assert_eq!(p.field.as_deref(), Some("build_id"));

    let body = r#"{"steps": [{"run": 5}]}"#;
    let (status, p) = problem(post(&app, "/build/run", body).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p.field.as_deref(), Some("steps[0].run"));

    let (_, p) = problem(post(&app, "/build/run", r#"{"stepz": []}"#).await).await;
    assert_eq!(p.field.as_deref(), Some("stepz"), "{p:?}");

    let (_, p) = problem(post(&app, "/build/run", "[1, 2]").await).await;
    assert_eq!(p.code, "invalid_field");
}

#[tokio::test]
async fn missing_required_field_is_named() {
    let app = spawn_app().await;
    let id = a_build(&app).await;
    let body = format!(r#"{{"build_id": {id}, "type": "other", "confidence": 0.5}}"#);
    let (status, p) = problem(post(&app, "/llm/learning/report", body).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p.field.as_deref(), Some("analysis"));
}

#[tokio::test]
async fn confidence_outside_zero_one_is_rejected_and_nothing_is_stored() {
    let app = spawn_app().await;
    let id = a_build(&app).await;
    for confidence in ["1.5", "-0.1", "2"] {
        let body = format!(
            r#"{{"build_id": {id}, "type": "failure_analysis", "analysis": "x", "recommendations": ["y"], "confidence": {confidence}}}"#
        );
        let response = post(&app, "/llm/learning/report", body).await;
        assert!(response.status().is_client_error(), "{confidence}");
        let (_, p) = problem(response).await;
        assert_eq!(
            p.field.as_deref(),
            Some("confidence"),
            "{confidence}: {p:?}"
        );
    }
    let body =
        format!(r#"{{"build_id": {id}, "type": "guess", "analysis": "x", "confidence": 0.5}}"#);
    let (_, p) = problem(post(&app, "/llm/learning/report", body).await).await;
    assert_eq!(p.field.as_deref(), Some("type"));
    assert!(app.store.list_reports(id).await.unwrap().is_empty());
    assert_eq!(app.client.build(id, None).await.unwrap().report_count, 0);
}

#[tokio::test]
async fn unknown_build_ids_are_404() {
    let app = spawn_app().await;
    for path in [
        "/build/999",
        "/build/abc",
        "/build/-1",
        "/llm/learning/build/999",
        "/build/999/log",
        "/build/999/events",
    ] {
        let (status, p) = problem(get(&app, path).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(p.code, "not_found");
    }
    let (status, _) = problem(post(&app, "/build/999/cancel", "").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let body = r#"{"build_id": 999, "type": "other", "analysis": "x", "confidence": 0.5}"#;
    let (status, _) = problem(post(&app, "/llm/learning/report", body).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = problem(get(&app, "/no/such/route").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, p) = problem(
        app.http
            .delete(format!("{}/health", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(p.code, "method_not_allowed");
}

#[tokio::test]
async fn body_over_the_limit_is_a_413() {
    let app = spawn_app().await;
    let id = a_build(&app).await;
    let analysis = "x".repeat(2 << 20);
    let body = format!(
        r#"{{"build_id": {id}, "type": "other", "analysis": "{analysis}", "confidence": 0.5}}"#
    );
    let (status, p) = problem(post(&app, "/llm/learning/report", body).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(p.code, "body_too_large");
    assert!(app.store.list_reports(id).await.unwrap().is_empty());
}

#[tokio::test]
async fn bad_paging_parameters_are_422() {
    let app = spawn_app().await;
    for (query, field) in [
        ("limit=-1", "limit"),
        ("limit=0", "limit"),
        ("limit=100000000", "limit"),
        ("limit=abc", "limit"),
        ("skip=-5", "skip"),
        ("status=broken", "status"),
        ("limit=99999999999999999999999", "limit"),
    ] {
        let (status, p) = problem(get(&app, &format!("/llm/learning/builds?{query}")).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(p.field.as_deref(), Some(field), "{query}: {p:?}");
    }
    let id = a_build(&app).await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("from=0", "from"),
        ("grep=(", "grep"),
        ("context=1000", "context"),
        ("tail=-3", "tail"),
    ] {
        let (status, p) = problem(get(&app, &format!("/build/{id}/log?{query}")).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(p.field.as_deref(), Some(field), "{query}");
    }
    let (_, p) = problem(get(&app, &format!("/build/{id}?wait=100000")).await).await;
    assert_eq!(p.field.as_deref(), Some("wait"));
}

#[tokio::test]
async fn invalid_steps_are_rejected_before_anything_is_queued() {
    let app = spawn_app().await;
    let bad = [
        r#"{"steps": []}"#,
        r#"{"steps": [{"run": "   "}]}"#,
        r#"{"steps": [{"run": "true", "timeout_s": 0}]}"#,
        r#"{"timeout_s": 0, "steps": [{"run": "true"}]}"#,
        r#"{"env": {"A=B": "x"}, "steps": [{"run": "true"}]}"#,
    ];
    for body in bad {
        let (status, _) = problem(post(&app, "/build/run", body).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    assert_eq!(app.client.builds(0, 10, None).await.unwrap().total, 0);
}

#[tokio::test]
async fn bodies_must_be_declared_json_and_foreign_hosts_are_refused() {
    let app = spawn_app().await;
    // A web page can send these cross-origin without a preflight.
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = app
            .http
            .post(format!("{}/build/run", app.base))
            .body(r#"{"steps": [{"run": "touch pwned"}]}"#);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let (status, p) = problem(request.send().await.unwrap()).await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(p.code, "unsupported_media_type");
    }
    // DNS rebinding: a page's own name pointed at 127.0.0.1.
    let response = app
        .http
        .get(format!("{}/llm/learning/builds", app.base))
        .header("host", "attacker.example:8000")
        .send()
        .await
        .unwrap();
    let (status, p) = problem(response).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(p.code, "host_not_allowed");
    assert_eq!(app.client.builds(0, 10, None).await.unwrap().total, 0);
    assert!(!app.path("pwned").exists());
}
