//! Integration tests of the MCP server: a real QIDE server on port 0 over a
//! temporary project running real builds, driven by rmcp's client as a
//! coding agent would drive it.

mod canary;
mod harness;
mod http;
#[path = "../../../qide-server/tests/it/planted.rs"]
mod planted;

use harness::{call, connect, spawn_app, try_call};
use qide_mcp::estimate_tokens;
use serde_json::json;

const TOOLS: [&str; 9] = [
    "list_builds",
    "get_build",
    "get_build_log",
    "run_build",
    "wait_for_build",
    "get_codebase",
    "read_file",
    "submit_report",
    "list_patterns",
];

const FAILING_STEP: &str = "echo compiling; echo 'src/app.c:3:1: error: boom'; exit 1";

fn c_project(dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("src/app.c"),
        "#include <stdio.h>\nint main(void) {\n  boom();\n  return 0;\n}\n",
    )
    .unwrap();
}

#[tokio::test]
async fn initialize_lists_every_tool_with_instructions_and_warnings() {
    let app = spawn_app(|_| {}).await;
    let mcp = connect(app.client.clone()).await;

    let info = mcp.peer_info().expect("server info after initialize");
    let instructions = info.instructions.clone().expect("instructions");
    let order: Vec<usize> = [
        "list_builds",
        "get_build",
        "get_build_log",
        "run_build",
        "submit_report",
    ]
    .iter()
    .map(|tool| {
        instructions
            .find(tool)
            .unwrap_or_else(|| panic!("{tool} in instructions"))
    })
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "order: {instructions}"
    );
    assert!(instructions.contains("untrusted"));

    let tools = mcp.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for tool in TOOLS {
        assert!(names.contains(&tool), "{tool} missing from {names:?}");
    }
    for tool in &tools {
        let description = tool.description.as_deref().unwrap_or_default();
        if ["get_build", "get_build_log", "read_file", "get_codebase"].contains(&tool.name.as_ref())
        {
            assert!(
                description.contains("untrusted data")
                    && description.contains("never as instructions"),
                "{}: {description}",
                tool.name
            );
        }
        assert!(
            tool.input_schema.contains_key("properties"),
            "{}",
            tool.name
        );
    }
    let get_build = tools.iter().find(|t| t.name == "get_build").unwrap();
    let props = get_build.input_schema["properties"].as_object().unwrap();
    assert!(props.contains_key("id") && props.contains_key("budget_tokens"));
    mcp.cancel().await.ok();
}

#[tokio::test]
async fn every_tool_works_against_a_failing_build() {
    let app = spawn_app(c_project).await;
    let mcp = connect(app.client.clone()).await;

    // run_build with wait: the build fails, its steps come back.
    let run = call(
        &mcp,
        "run_build",
        json!({"steps": [FAILING_STEP], "wait": true, "timeout_s": 120}),
    )
    .await;
    assert!(!run.is_error, "{}", run.text);
    let build = run.json();
    assert_eq!(build["status"], "failed", "{build}");
    assert_eq!(build["finished"], true);
    assert_eq!(build["steps"][0]["run"], FAILING_STEP);
    let id = build["id"].as_i64().unwrap();

    // run_build without wait answers at once; wait_for_build follows it.
    let queued = call(&mcp, "run_build", json!({"steps": ["echo fine"]})).await;
    assert!(!queued.is_error, "{}", queued.text);
    let second = queued.json()["id"].as_i64().unwrap();
    let waited = call(
        &mcp,
        "wait_for_build",
        json!({"id": second, "timeout_s": 120}),
    )
    .await;
    assert!(!waited.is_error, "{}", waited.text);
    assert_eq!(waited.json()["status"], "success");
    assert_eq!(waited.json()["finished"], true);

    let list = call(&mcp, "list_builds", json!({"status": "failed"})).await;
    let list = list.json();
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["builds"][0]["id"], id);
    let all = call(&mcp, "list_builds", json!({"limit": 1})).await.json();
    assert_eq!(all["total"], 2);
    assert_eq!(all["builds"].as_array().unwrap().len(), 1);

    // The failure packet names the file, line and message.
    let detail = call(&mcp, "get_build", json!({"id": id})).await;
    assert!(!detail.is_error, "{}", detail.text);
    assert!(estimate_tokens(&detail.text) <= 2000);
    let detail = detail.json();
    let errors = detail["log_summary"]["errors"].as_array().unwrap();
    let boom = errors
        .iter()
        .find(|e| e["message"].as_str().unwrap_or_default().contains("boom"))
        .unwrap_or_else(|| panic!("no boom diagnostic in {detail}"));
    assert_eq!(boom["file"], "src/app.c");
    assert_eq!(boom["line"], 3);
    let fingerprint = boom["fingerprint"].as_str().unwrap().to_owned();

    // The log: grep with context, tail, range.
    let grep = call(
        &mcp,
        "get_build_log",
        json!({"id": id, "grep": "error: boom", "context": 1}),
    )
    .await;
    let grep = grep.json();
    let texts: Vec<&str> = grep["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"src/app.c:3:1: error: boom"), "{texts:?}");
    assert!(texts.contains(&"compiling"), "context line: {texts:?}");
    let tail = call(&mcp, "get_build_log", json!({"id": id, "tail": 1}))
        .await
        .json();
    assert_eq!(tail["lines"].as_array().unwrap().len(), 1);
    let range = call(
        &mcp,
        "get_build_log",
        json!({"id": id, "from": 1, "limit": 2}),
    )
    .await
    .json();
    assert!(range["lines"].as_array().unwrap().len() <= 2);

    // The file the diagnostic names.
    let file = call(
        &mcp,
        "read_file",
        json!({"path": "src/app.c", "start": 2, "end": 3}),
    )
    .await;
    assert!(!file.is_error, "{}", file.text);
    let file = file.json();
    assert_eq!(file["lines"][1]["n"], 3);
    assert_eq!(file["lines"][1]["text"], "  boom();");

    let codebase = call(&mcp, "get_codebase", json!({})).await;
    assert!(!codebase.is_error, "{}", codebase.text);
    let paths: Vec<String> = codebase.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    assert!(paths.contains(&"src/app.c".to_owned()), "{paths:?}");

    let report = call(
        &mcp,
        "submit_report",
        json!({"build_id": id, "type": "failure_analysis", "analysis": "boom is undeclared",
               "recommendations": ["declare boom"], "confidence": 0.8,
               "fingerprints": [fingerprint]}),
    )
    .await;
    assert!(!report.is_error, "{}", report.text);
    let report = report.json();
    assert_eq!(report["build_id"], id);
    assert_eq!(report["agent"], "qide-mcp");

    let patterns = call(&mcp, "list_patterns", json!({"status": "open"})).await;
    assert!(!patterns.is_error, "{}", patterns.text);
    let patterns = patterns.json();
    let pattern = patterns["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["fingerprint"] == fingerprint.as_str())
        .unwrap_or_else(|| panic!("{fingerprint} not in {patterns}"));
    assert_eq!(pattern["report_count"], 1);

    // The report shows up in the packet.
    let detail = call(&mcp, "get_build", json!({"id": id})).await.json();
    assert_eq!(detail["reports"][0]["analysis"], "boom is undeclared");
    mcp.cancel().await.ok();
}

#[tokio::test]
async fn server_errors_come_back_as_tool_errors_with_the_problem() {
    let app = spawn_app(c_project).await;
    let mcp = connect(app.client.clone()).await;

    for tool in ["get_build", "get_build_log", "wait_for_build"] {
        let answer = call(&mcp, tool, json!({"id": 987654})).await;
        assert!(answer.is_error, "{tool}: {}", answer.text);
        let problem = &answer.json()["error"];
        assert_eq!(problem["status"], 404, "{tool}: {}", answer.text);
        assert_eq!(problem["code"], "not_found", "{tool}: {}", answer.text);
        assert!(
            problem["detail"].as_str().unwrap().contains("987654"),
            "{}",
            answer.text
        );
    }

    let outside = call(&mcp, "read_file", json!({"path": "../etc/passwd"})).await;
    assert!(outside.is_error, "{}", outside.text);
    let problem = &outside.json()["error"];
    assert!(
        (400..500).contains(&problem["status"].as_u64().unwrap()),
        "{problem}"
    );
    assert!(
        problem["detail"].as_str().unwrap().contains(".."),
        "{problem}"
    );

    let report = call(
        &mcp,
        "submit_report",
        json!({"build_id": 987654, "type": "failure_analysis", "analysis": "x", "confidence": 0.5}),
    )
    .await;
    assert!(report.is_error, "{}", report.text);

    let bad_status = call(&mcp, "list_builds", json!({"status": "exploded"})).await;
    assert!(bad_status.is_error);
    assert_eq!(bad_status.json()["error"]["field"], "status");

    // Arguments the tool cannot take at all are MCP errors.
    assert!(
        try_call(&mcp, "get_build", json!({"id": 1, "budget_tokens": 5}))
            .await
            .is_err()
    );
    match try_call(&mcp, "get_build", json!({})).await {
        Err(_) => {}
        Ok(answer) => assert!(
            answer.is_error && answer.text.contains("id"),
            "{}",
            answer.text
        ),
    }
    mcp.cancel().await.ok();
}

#[tokio::test]
async fn answers_stay_within_the_budget_asked() {
    let app = spawn_app(|dir| {
        c_project(dir);
        for i in 0..300 {
            std::fs::write(
                dir.join(format!("src/module_with_a_long_name_{i:03}.c")),
                format!("int f{i}(void) {{ return {i}; }}\n"),
            )
            .unwrap();
        }
    })
    .await;
    let mcp = connect(app.client.clone()).await;
    // Many distinct errors and a long log.
    let step = "for i in $(seq 1 400); do echo \"src/app.c:$i:1: error: undefined symbol number_$i in this translation unit\"; done; exit 1";
    let run = call(&mcp, "run_build", json!({"steps": [step], "wait": true})).await;
    let id = run.json()["id"].as_i64().unwrap();
    assert_eq!(run.json()["status"], "failed");

    for budget in [300u64, 1000, 4000] {
        let detail = call(
            &mcp,
            "get_build",
            json!({"id": id, "budget_tokens": budget}),
        )
        .await;
        assert!(!detail.is_error, "{}", detail.text);
        assert!(
            estimate_tokens(&detail.text) <= budget,
            "budget {budget}: {} bytes",
            detail.text.len()
        );
        let detail = detail.json();
        assert_eq!(detail["build"]["id"], id);
        assert_eq!(detail["truncated"], true);
    }
    let small = call(&mcp, "get_build", json!({"id": id, "budget_tokens": 100})).await;
    assert!(estimate_tokens(&small.text) <= 100, "{}", small.text.len());

    let log = call(
        &mcp,
        "get_build_log",
        json!({"id": id, "limit": 5000, "budget_tokens": 500}),
    )
    .await;
    assert!(estimate_tokens(&log.text) <= 500);
    let log = log.json();
    let kept = log["lines"].as_array().unwrap();
    assert!(!kept.is_empty());
    assert_eq!(log["truncated"], true);
    let next = log["next_from"].as_i64().unwrap();
    assert_eq!(next, kept.last().unwrap()["n"].as_i64().unwrap() + 1);
    assert!(
        log["mcp_note"]
            .as_str()
            .unwrap()
            .contains(&format!("from={next}"))
    );

    let tail = call(
        &mcp,
        "get_build_log",
        json!({"id": id, "tail": 400, "budget_tokens": 300}),
    )
    .await;
    assert!(estimate_tokens(&tail.text) <= 300);
    let tail = tail.json();
    let last = tail["lines"].as_array().unwrap().last().unwrap().clone();
    assert!(
        last["text"].as_str().unwrap().contains("number_400") || last["stream"] == "system",
        "{last}"
    );

    let codebase = call(&mcp, "get_codebase", json!({"budget_tokens": 1000})).await;
    assert!(estimate_tokens(&codebase.text) <= 1000);
    let codebase = codebase.json();
    assert!(
        codebase["mcp_note"]
            .as_str()
            .unwrap()
            .contains("files left out"),
        "{codebase}"
    );

    let builds = call(&mcp, "list_builds", json!({"budget_tokens": 100})).await;
    assert!(estimate_tokens(&builds.text) <= 100, "{}", builds.text);
    mcp.cancel().await.ok();
}
