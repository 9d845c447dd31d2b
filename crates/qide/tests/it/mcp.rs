//! `qide mcp`: the real binary serving MCP on stdio against a real
//! `qide serve`, driven by rmcp's client over the child's pipes.

use std::process::Stdio;

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ClientConfig};
use serde_json::{Value, json};

use crate::server::{qide, start};

async fn call(
    mcp: &rmcp::service::RunningService<rmcp::RoleClient, ClientConfig>,
    name: &str,
    args: Value,
) -> (bool, String) {
    let result = mcp
        .call_tool(
            CallToolRequestParams::new(name.to_owned())
                .with_arguments(args.as_object().cloned().unwrap_or_default()),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let text = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<String>();
    (result.is_error == Some(true), text)
}

#[tokio::test]
async fn mcp_over_stdio_runs_and_explains_a_failing_build() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/app.c"),
        "int main(void) {\n\n  boom();\n}\n",
    )
    .unwrap();
    let server = start(dir.path()).await;

    let mut command = tokio::process::Command::from(qide());
    command
        .args(["mcp", "--server", &server.url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("start qide mcp");
    let stdout = child.stdout.take().unwrap();
    let stdin = child.stdin.take().unwrap();
    let mcp = ClientConfig::default()
        .serve((stdout, stdin))
        .await
        .expect("initialize over stdio");
    let instructions = mcp.peer_info().unwrap().instructions.clone().unwrap();
    assert!(instructions.contains("list_builds"), "{instructions}");
    let tools = mcp.list_all_tools().await.expect("tools/list");
    assert_eq!(
        tools.len(),
        9,
        "{:?}",
        tools.iter().map(|t| &t.name).collect::<Vec<_>>()
    );

    let step = "echo 'src/app.c:3:1: error: boom'; exit 1";
    let (is_error, text) = call(&mcp, "run_build", json!({"steps": [step], "wait": true})).await;
    assert!(!is_error, "{text}");
    let build: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(build["status"], "failed", "{build}");
    let id = build["id"].as_i64().unwrap();

    let (is_error, text) = call(&mcp, "get_build", json!({"id": id, "budget_tokens": 1000})).await;
    assert!(!is_error, "{text}");
    assert!(text.len().div_ceil(3) <= 1000);
    assert!(
        text.contains("src/app.c") && text.contains("boom"),
        "{text}"
    );

    let (is_error, text) = call(&mcp, "get_build", json!({"id": 424242})).await;
    assert!(is_error && text.contains("not_found"), "{text}");

    mcp.cancel().await.ok();
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .expect("qide mcp exits when its input closes")
        .unwrap();
    assert!(status.success(), "{status}");
}
