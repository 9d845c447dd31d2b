//! The canary over MCP: secrets planted in a project file, build output and
//! report text never come back in any tool's answer.

use serde_json::json;

use crate::harness::{call, connect, spawn_app};
use crate::planted::planted;

#[tokio::test]
async fn planted_secrets_never_come_back_through_any_tool() {
    let secrets = planted();
    assert!(secrets.len() >= 20);
    let file_text: String = secrets.iter().map(|(_, s, _)| format!("{s}\n")).collect();
    let app = spawn_app(|dir| {
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("src/settings.py"),
            format!("# settings\n{file_text}"),
        )
        .unwrap();
    })
    .await;
    let mcp = connect(app.client.clone()).await;

    let mut answers = Vec::new();
    let run = call(
        &mcp,
        "run_build",
        json!({
            "steps": ["cat src/settings.py; echo 'src/settings.py:2:1: error: leaked'; exit 1"],
            "wait": true,
        }),
    )
    .await;
    assert!(!run.is_error, "{}", run.text);
    let id = run.json()["id"].as_i64().unwrap();
    answers.push(run.text);
    let report = call(
        &mcp,
        "submit_report",
        json!({
            "build_id": id,
            "type": "failure_analysis",
            "analysis": format!("the log shows {file_text}"),
            "recommendations": secrets.iter().map(|(_, s, _)| format!("rotate {s}")).collect::<Vec<_>>(),
            "confidence": 0.5,
        }),
    )
    .await;
    assert!(!report.is_error, "{}", report.text);
    answers.push(report.text);

    for (tool, args) in [
        ("list_builds", json!({})),
        ("get_build", json!({"id": id, "budget_tokens": 20000})),
        ("get_build_log", json!({"id": id, "limit": 2000})),
        (
            "get_build_log",
            json!({"id": id, "grep": ".", "context": 2}),
        ),
        ("wait_for_build", json!({"id": id})),
        ("get_codebase", json!({})),
        (
            "get_codebase",
            json!({"mode": "pack", "budget_tokens": 20000}),
        ),
        ("get_codebase", json!({"mode": "map"})),
        ("read_file", json!({"path": "src/settings.py"})),
        ("list_patterns", json!({})),
    ] {
        let answer = call(&mcp, tool, args.clone()).await;
        assert!(!answer.is_error, "{tool} {args}: {}", answer.text);
        answers.push(answer.text);
    }
    // The file's lines did come back, masked.
    assert!(answers.iter().any(|a| a.contains("[redacted]")));
    for (kind, _, core) in &secrets {
        for (i, answer) in answers.iter().enumerate() {
            assert!(
                !answer.contains(core.as_str()),
                "{kind} came back in answer {i}"
            );
        }
    }
    mcp.cancel().await.ok();
}
