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
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
    if let Some(token) = token {
        config = config.auth_header(token);
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
