//! `--json` on every command that prints something: stdout is JSON (one
//! document, or one per line for `log`), whatever the command.

use serde_json::Value;

use crate::server::{qide, start};

/// Runs `qide ARGS` and returns its exit code and stdout parsed as JSON
/// values (several for commands that print one per line).
fn json_of(args: &[&str]) -> (i32, Vec<Value>) {
    let out = qide().args(args).output().expect("run qide");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let values: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(&stdout)
        .into_iter::<Value>()
        .collect();
    let values = values.unwrap_or_else(|e| {
        panic!(
            "qide {args:?} printed no JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(!values.is_empty(), "qide {args:?} printed nothing");
    (out.status.code().unwrap_or(-1), values)
}

#[tokio::test]
async fn every_client_command_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Makefile"),
        "all:\n\t@echo 'src/main.c:4:2: error: expected ;'; exit 1\n",
    )
    .unwrap();
    let server = start(dir.path()).await;
    let url = server.url.clone();
    let path = dir.path().to_str().unwrap().to_owned();
    tokio::task::spawn_blocking(move || {
        let s = ["--server", url.as_str(), "--json"];
        let with = |args: &[&str]| -> Vec<String> {
            args.iter().chain(&s).map(|a| a.to_string()).collect()
        };
        let run = |args: &[&str]| {
            let args = with(args);
            json_of(&args.iter().map(String::as_str).collect::<Vec<_>>())
        };

        let (code, v) = run(&["run"]);
        assert_eq!(code, 1);
        assert_eq!(v[0]["status"], "failed", "{v:?}");
        let (code, v) = run(&["run", "--no-follow", "--step", "echo hi"]);
        assert_eq!(code, 0);
        assert_eq!(v[0]["id"], 2, "{v:?}");

        let (_, v) = run(&["builds"]);
        assert_eq!(v[0]["total"], 2, "{v:?}");
        let (_, v) = run(&["show", "1"]);
        assert_eq!(
            v[0]["log_summary"]["errors"][0]["file"], "src/main.c",
            "{v:?}"
        );
        let (_, v) = run(&["log", "1", "--grep", "error"]);
        assert_eq!(
            v[0]["lines"][0]["text"],
            "src/main.c:4:2: error: expected ;"
        );
        let (_, v) = run(&[
            "report",
            "1",
            "--analysis",
            "a missing ;",
            "--confidence",
            "0.8",
        ]);
        assert_eq!(v[0]["build_id"], 1, "{v:?}");
        let (_, v) = run(&["patterns"]);
        let patterns = v[0]["patterns"].as_array().expect("patterns");
        assert!(patterns.iter().any(|p| p["file"] == "src/main.c"), "{v:?}");
        for mode in ["summary", "map", "pack"] {
            let (_, v) = run(&["codebase", "--mode", mode]);
            assert!(v[0]["root"].is_string(), "{mode}: {v:?}");
        }
        let (code, v) = run(&["agent", "--once"]);
        assert_eq!(code, 0);
        assert!(v[0].is_array(), "{v:?}");

        let (_, v) = json_of(&["token", "create", "--name", "ci", "--dir", &path, "--json"]);
        assert!(
            v[0]["token"].as_str().unwrap().starts_with("qide_"),
            "{v:?}"
        );
        let (_, v) = json_of(&["token", "list", "--dir", &path, "--json"]);
        assert_eq!(v[0][0]["name"], "ci", "{v:?}");
        let (_, v) = json_of(&["token", "revoke", "ci", "--dir", &path, "--json"]);
        assert_eq!(v[0], serde_json::json!({"name": "ci", "revoked": true}));
    })
    .await
    .unwrap();

    let fresh = tempfile::tempdir().unwrap();
    std::fs::write(fresh.path().join("go.mod"), "module example.com/x\n").unwrap();
    let (code, v) = json_of(&["init", fresh.path().to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    assert!(
        v[0]["path"].as_str().unwrap().ends_with("qide.toml"),
        "{v:?}"
    );
    assert!(
        v[0]["content"].as_str().unwrap().contains("go test ./..."),
        "{v:?}"
    );
}
