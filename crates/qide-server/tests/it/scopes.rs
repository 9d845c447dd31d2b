//! Every operation of the OpenAPI document, called with no credential, a
//! revoked token and a token of each scope: allowed exactly when the scope
//! the document declares is held, and refused naming that same scope, so
//! the document and the access check cannot disagree.

use qide_api as api;
use qide_server::token_hash;
use reqwest::{Method, StatusCode};

use crate::harness::{TestApp, spawn_app};

async fn call(
    app: &TestApp,
    operation: &qide_server::DocumentedOperation,
    build: i64,
    bearer: Option<&str>,
) -> (StatusCode, String) {
    let path = operation.path.replace("{id}", &build.to_string());
    let method = Method::from_bytes(operation.method.as_bytes()).unwrap();
    let mut request = app.http.request(method, format!("{}{path}", app.base));
    if operation.method == "POST" {
        // An empty object: enough to pass the access check, which comes
        // first; the handler may then refuse it as incomplete.
        request = request
            .header("content-type", "application/json")
            .body("{}");
    }
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let streams = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    // An event stream never ends: its status is all there is to read.
    let body = if streams {
        String::new()
    } else {
        response.text().await.unwrap()
    };
    (status, body)
}

#[tokio::test]
async fn every_documented_operation_enforces_the_scope_it_declares() {
    let app = spawn_app().await;
    let build = app.run(vec![crate::harness::step("ok", "true")]).await.id;
    let operations = qide_server::documented_operations();
    assert!(operations.len() >= 16, "{operations:?}");

    let mut tokens = Vec::new();
    for scope in qide_server::SCOPES {
        let token = qide_server::new_token().unwrap();
        app.store
            .create_token(scope, &token_hash(&token), &[scope.to_owned()], 1)
            .await
            .unwrap();
        tokens.push((scope, token));
    }
    let revoked = qide_server::new_token().unwrap();
    app.store
        .create_token("old", &token_hash(&revoked), &["admin".to_owned()], 1)
        .await
        .unwrap();
    app.store.revoke_token("old", 2).await.unwrap();
    // The open/closed answer is cached for a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    for operation in &operations {
        let what = format!("{} {}", operation.method, operation.path);
        let Some(scope) = operation.scope.as_deref() else {
            // Open to all: no credential needed, a bad one not looked at.
            let (status, body) = call(&app, operation, build, None).await;
            assert!(status.is_success(), "{what}: {status} {body}");
            continue;
        };
        assert!(
            qide_server::SCOPES.contains(&scope),
            "{what} declares an unknown scope {scope:?}"
        );
        for bearer in [None, Some(revoked.as_str())] {
            let (status, body) = call(&app, operation, build, bearer).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
            let problem: api::Problem = serde_json::from_str(&body).unwrap();
            assert_eq!(problem.code, "unauthorized", "{what}");
        }
        for (held, token) in &tokens {
            let (status, body) = call(&app, operation, build, Some(token)).await;
            let allowed = *held == scope || *held == "admin";
            if allowed {
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{what} with {held}: {status} {body}"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{what} with {held}: {body}");
                let problem: api::Problem = serde_json::from_str(&body).unwrap();
                assert_eq!(problem.code, "insufficient_scope", "{what} with {held}");
                // The middleware names the scope it enforces: the one the
                // document declares.
                assert!(
                    problem.detail.contains(&format!("{scope:?} scope")),
                    "{what} documents {scope:?} but the check says: {}",
                    problem.detail
                );
            }
        }
    }
}
