//! `qide mcp`: the real binary serving MCP on stdio, against a real
//! `qide serve` or over a project it serves itself, driven by rmcp's client
//! over the child's pipes.

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

/// A git project with one commit: a source file and a qide.toml whose
/// default steps fail with one diagnostic pointing into it.
fn git_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/app.py"),
        "def greet(name):\n    return \"hello \" + name\nx = greet(1)\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("qide.toml"),
        "[[steps]]\nname = \"check\"\nrun = \"echo 'src/app.py:3:1: error: boom'; exit 1\"\n",
    )
    .unwrap();
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "init",
        ],
    ] {
        #[allow(clippy::disallowed_methods)] // git for the fixture, not a build
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .status()
            .expect("run git");
        assert!(status.success(), "git {args:?}");
    }
    dir
}

#[tokio::test]
async fn mcp_serves_a_project_directly_when_no_server_runs() {
    let dir = git_project();
    let mut command = tokio::process::Command::from(qide());
    // Nothing listens on port 9: `qide mcp` must serve DIR itself.
    command
        .args(["mcp", dir.path().to_str().unwrap()])
        .args(["--server", "http://127.0.0.1:9"])
        .env_remove("QIDE_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("start qide mcp DIR");
    let stdout = child.stdout.take().unwrap();
    let stdin = child.stdin.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    // Every byte on stdout must be JSON-RPC, so the client reading it would
    // fail on a stray log line; stderr is kept to explain a failure.
    let stderr_text = tokio::spawn(async move {
        let mut text = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut tokio::io::BufReader::new(stderr), &mut text)
            .await
            .ok();
        text
    });
    let mcp = ClientConfig::default()
        .serve((stdout, stdin))
        .await
        .expect("initialize over stdio");
    let tools = mcp.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for name in ["run_build", "get_build", "read_file", "list_builds"] {
        assert!(names.contains(&name), "{names:?}");
    }

    let (is_error, text) = call(&mcp, "run_build", json!({"wait": true, "timeout_s": 60})).await;
    assert!(!is_error, "{text}");
    let build: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(build["status"], "failed", "{build}");
    assert_eq!(build["finished"], true, "{build}");
    // The project is a git checkout: the build records its commit.
    assert_eq!(build["commit"].as_str().map(str::len), Some(40), "{build}");
    let id = build["id"].as_i64().unwrap();

    let (is_error, text) = call(&mcp, "get_build", json!({"id": id, "budget_tokens": 600})).await;
    assert!(!is_error, "{text}");
    assert!(text.len().div_ceil(3) <= 600, "{} bytes", text.len());
    let packet: Value = serde_json::from_str(&text).unwrap();
    let error = &packet["log_summary"]["errors"][0];
    assert_eq!(error["file"], "src/app.py", "{packet}");
    assert_eq!(error["line"], 3, "{packet}");

    let (is_error, text) = call(
        &mcp,
        "read_file",
        json!({"path": "src/app.py", "start": 3, "end": 3}),
    )
    .await;
    assert!(!is_error, "{text}");
    let file: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(file["lines"][0]["text"], "x = greet(1)", "{file}");

    let (is_error, text) = call(&mcp, "read_file", json!({"path": "../outside"})).await;
    assert!(is_error, "{text}");

    mcp.cancel().await.ok();
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
        .await
        .expect("qide mcp stops its server and exits when its input closes")
        .unwrap();
    let stderr = stderr_text.await.unwrap();
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("serving"), "{stderr}");
    // The server kept its data in the project, where `qide serve DIR` finds it.
    assert!(dir.path().join(".qide/qide.db").exists());
}
