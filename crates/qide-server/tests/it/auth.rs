//! Every route with no token, each scope, a revoked token and a malformed
//! header: allowed or denied as its scope says.

use qide_server::token_hash;
use reqwest::StatusCode;

use crate::harness::{TestApp, spawn_app, step};

struct Route {
    method: &'static str,
    path: String,
    body: Option<String>,
    scope: Option<&'static str>,
}

fn routes(build: i64) -> Vec<Route> {
    let get = |path: String| Route {
        method: "GET",
        path,
        body: None,
        scope: Some("read"),
    };
    vec![
        Route {
            method: "GET",
            path: "/health".to_owned(),
            body: None,
            scope: None,
        },
        get("/metrics".to_owned()),
        get("/llm/learning/builds".to_owned()),
        get(format!("/llm/learning/build/{build}")),
        get("/llm/learning/codebase".to_owned()),
        get("/llm/learning/file?path=notes.txt".to_owned()),
        get("/llm/learning/patterns".to_owned()),
        get(format!("/build/{build}")),
        get(format!("/build/{build}/log")),
        get(format!("/build/{build}/events")),
        Route {
            method: "POST",
            path: "/build/run".to_owned(),
            body: Some(r#"{"steps": [{"run": "true"}]}"#.to_owned()),
            scope: Some("run"),
        },
        Route {
            method: "POST",
            path: format!("/build/{build}/cancel"),
            body: None,
            scope: Some("run"),
        },
        Route {
            method: "POST",
            path: "/llm/learning/report".to_owned(),
            body: Some(format!(
                r#"{{"build_id": {build}, "type": "other", "analysis": "x", "confidence": 0.5}}"#
            )),
            scope: Some("report"),
        },
    ]
}

async fn call(app: &TestApp, route: &Route, token: Option<&str>) -> StatusCode {
    let url = format!("{}{}", app.base, route.path);
    let mut request = match route.method {
        "GET" => app.http.get(url),
        _ => app.http.post(url),
    };
    if let Some(body) = &route.body {
        request = request
            .header("content-type", "application/json")
            .body(body.clone());
    }
    if let Some(token) = token {
        request = request.header("authorization", token);
    }
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn every_route_checks_its_scope() {
    let app = spawn_app().await;
    std::fs::write(app.path("notes.txt"), "hello\n").unwrap();
    let build = app.run(vec![step("ok", "true")]).await.id;

    // With no token anywhere the loopback server is open.
    for route in routes(build) {
        let status = call(&app, &route, None).await;
        assert!(
            status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
            "{} {}: {status}",
            route.method,
            route.path
        );
    }

    let mut tokens = Vec::new();
    for scope in ["read", "run", "report", "admin"] {
        let token = qide_server::new_token().unwrap();
        app.store
            .create_token(scope, &token_hash(&token), &[scope.to_owned()], 1)
            .await
            .unwrap();
        tokens.push((scope, format!("Bearer {token}")));
    }
    let revoked = qide_server::new_token().unwrap();
    app.store
        .create_token("old", &token_hash(&revoked), &["admin".to_owned()], 1)
        .await
        .unwrap();
    app.store.revoke_token("old", 2).await.unwrap();
    // The open/closed answer is cached for a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    for route in routes(build) {
        let what = format!("{} {}", route.method, route.path);
        let none = call(&app, &route, None).await;
        let bad = call(&app, &route, Some(&format!("Bearer {revoked}"))).await;
        let malformed = call(&app, &route, Some("Basic dXNlcjpwYXNz")).await;
        if route.scope.is_none() {
            assert_eq!(none, StatusCode::OK, "{what}");
            continue;
        }
        assert_eq!(none, StatusCode::UNAUTHORIZED, "{what} without a token");
        assert_eq!(bad, StatusCode::UNAUTHORIZED, "{what} with a revoked token");
        assert_eq!(
            malformed,
            StatusCode::UNAUTHORIZED,
            "{what} with a malformed header"
        );
        for (scope, token) in &tokens {
            let status = call(&app, &route, Some(token)).await;
            let allowed = *scope == "admin" || Some(*scope) == route.scope;
            if allowed {
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{what} with {scope}: {status}"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{what} with {scope}");
            }
        }
    }
    // The typed client carries its token.
    let (_, read) = &tokens[0];
    let client = qide_client::Client::new(&app.base)
        .unwrap()
        .with_token(Some(read.trim_start_matches("Bearer ").to_owned()));
    assert!(client.builds(0, 5, None).await.unwrap().total >= 1);
    let denied = app.client.builds(0, 5, None).await.unwrap_err();
    assert_eq!(denied.status(), Some(401));
}
