//! MCP over streamable HTTP at the QIDE server's own `/mcp`, driven by
//! rmcp's HTTP client.

use rmcp::ServiceExt;
use rmcp::model::ClientConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::json;

use crate::harness::{McpClient, call, spawn_app};

/// An MCP client of `url`, sending `token` as its bearer token.
async fn connect_http(url: &str, token: Option<&str>) -> McpClient {
    connect_with(url, token, None).await
}

/// An MCP client of `url` with a bearer token and an `X-Session-Id`.
async fn connect_with(url: &str, token: Option<&str>, session: Option<&str>) -> McpClient {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
    if let Some(token) = token {
        config = config.auth_header(token);
    }
    if let Some(session) = session {
        config.custom_headers.insert(
            http::HeaderName::from_static("x-session-id"),
            http::HeaderValue::from_str(session).unwrap(),
        );
    }
    ClientConfig::default()
        .serve(StreamableHttpClientTransport::from_config(config))
        .await
        .expect("initialize over HTTP")
}

#[tokio::test]
async fn mcp_at_slash_mcp_lists_runs_and_reports_errors() {
    let app = spawn_app(crate::c_project).await;
    let url = format!("{}/mcp", app.client.base_url());
    let mcp = connect_http(&url, None).await;
    let info = mcp.peer_info().expect("server info");
    assert!(
        info.instructions
            .as_deref()
            .unwrap_or_default()
            .contains("get_build")
    );
    let tools = mcp.list_all_tools().await.expect("tools/list");
    assert_eq!(tools.len(), crate::TOOLS.len());

    let run = call(
        &mcp,
        "run_build",
        json!({"steps": [crate::FAILING_STEP], "wait": true}),
    )
    .await;
    assert!(!run.is_error, "{}", run.text);
    assert_eq!(run.json()["status"], "failed");
    let id = run.json()["id"].as_i64().unwrap();

    let detail = call(&mcp, "get_build", json!({"id": id, "budget_tokens": 800})).await;
    assert!(!detail.is_error, "{}", detail.text);
    assert!(qide_mcp::estimate_tokens(&detail.text) <= 800);
    assert!(detail.text.contains("src/app.c"), "{}", detail.text);

    let missing = call(&mcp, "get_build", json!({"id": 31337})).await;
    assert!(missing.is_error);
    assert_eq!(missing.json()["error"]["code"], "not_found");
    mcp.cancel().await.ok();

    // The caller's token goes along with each call: a wrong one is refused
    // by the API behind the tool.
    let mcp = connect_http(&url, Some("not-a-token")).await;
    let refused = call(&mcp, "list_builds", json!({})).await;
    assert!(refused.is_error, "{}", refused.text);
    assert_eq!(refused.json()["error"]["status"], 401, "{}", refused.text);
    mcp.cancel().await.ok();
}

#[tokio::test]
async fn a_dashboard_session_goes_along_with_each_tool_call() {
    let app = spawn_app(crate::c_project).await;
    let token = qide_server::new_token().unwrap();
    app.store
        .create_token(
            "agent",
            &qide_server::token_hash(&token),
            &["read".to_owned()],
            1,
        )
        .await
        .unwrap();
    let base = app.client.base_url().to_owned();
    let signed_in: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/login"))
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = signed_in["session_id"].as_str().unwrap().to_owned();

    // With tokens in use, a caller with no credentials is refused...
    let url = format!("{base}/mcp");
    let mcp = connect_http(&url, None).await;
    let refused = call(&mcp, "list_builds", json!({})).await;
    assert_eq!(refused.json()["error"]["status"], 401, "{}", refused.text);
    mcp.cancel().await.ok();

    // ...a session, as the header or as the seed's query parameter, is
    // used by each call...
    let by_header = connect_with(&url, None, Some(&session)).await;
    let listed = call(&by_header, "list_builds", json!({})).await;
    assert!(!listed.is_error, "{}", listed.text);
    // ...within its scopes: read only, so no build may start.
    let run = call(
        &by_header,
        "run_build",
        json!({"steps": [crate::FAILING_STEP]}),
    )
    .await;
    assert_eq!(run.json()["error"]["status"], 403, "{}", run.text);
    by_header.cancel().await.ok();
    let by_query = connect_http(&format!("{url}?session_id={session}"), None).await;
    let listed = call(&by_query, "list_builds", json!({})).await;
    assert!(!listed.is_error, "{}", listed.text);
    by_query.cancel().await.ok();

    // ...and an unknown one is refused.
    let stale = connect_with(&url, None, Some("not-a-session")).await;
    let refused = call(&stale, "list_builds", json!({})).await;
    assert_eq!(refused.json()["error"]["status"], 401, "{}", refused.text);
    stale.cancel().await.ok();
}
