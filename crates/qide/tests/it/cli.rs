//! The CLI against a running server, as a user types it.

use crate::server::{qide, start};

fn run(args: &[&str]) -> (i32, String, String) {
    let out = qide().args(args).output().expect("run qide");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn run_follows_the_log_and_exits_with_the_build_result() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let url = server.url.clone();
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || {
        run(&[
            "run",
            "--server",
            &url,
            "--step",
            "hello=echo hello from a step",
        ])
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("hello from a step"), "{stdout}");
    assert!(stderr.contains("success"), "{stderr}");

    let url = server.url.clone();
    let (code, _, stderr) = tokio::task::spawn_blocking(move || {
        run(&["run", "--server", &url, "--step", "bad=exit 4"])
    })
    .await
    .unwrap();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("qide show 2"), "{stderr}");

    let url = server.url.clone();
    let (code, stdout, _) =
        tokio::task::spawn_blocking(move || run(&["builds", "--server", &url, "--json"]))
            .await
            .unwrap();
    assert_eq!(code, 0);
    let list: qide_api::BuildList = serde_json::from_str(&stdout).unwrap();
    assert_eq!(list.total, 2);
    assert_eq!(list.builds[0].status, qide_api::BuildStatus::Failed);

    let url = server.url.clone();
    let (code, stdout, _) = tokio::task::spawn_blocking(move || {
        run(&["log", "1", "--server", &url, "--grep", "hello"])
    })
    .await
    .unwrap();
    assert_eq!(code, 0);
    assert!(stdout.lines().any(|l| l == "hello from a step"), "{stdout}");

    let url = server.url.clone();
    let (code, stdout, _) =
        tokio::task::spawn_blocking(move || run(&["show", "2", "--server", &url]))
            .await
            .unwrap();
    assert_eq!(code, 0);
    assert!(
        stdout.contains("build #2  failed (exit_non_zero)"),
        "{stdout}"
    );
}

#[tokio::test]
async fn unknown_build_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let url = server.url.clone();
    let (code, _, stderr) =
        tokio::task::spawn_blocking(move || run(&["show", "42", "--server", &url]))
            .await
            .unwrap();
    assert_ne!(code, 0);
    assert!(stderr.contains("build 42 does not exist"), "{stderr}");
}

#[test]
fn init_writes_the_detected_steps_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("go.mod"), "module example.com/x\n").unwrap();
    let path = dir.path().to_str().unwrap();
    let (code, _, stderr) = run(&["init", path]);
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(dir.path().join("qide.toml")).unwrap();
    assert!(text.contains("run = \"go test ./...\""), "{text}");
    let (code, _, stderr) = run(&["init", path]);
    assert_ne!(code, 0);
    assert!(stderr.contains("--force"), "{stderr}");
}

#[test]
fn serve_refuses_an_open_non_loopback_bind() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(&["serve", dir.path().to_str().unwrap(), "--bind", "0.0.0.0:0"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("--insecure-open"), "{stderr}");
}

#[tokio::test]
async fn a_second_server_over_the_same_project_is_refused_until_the_first_stops() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = start(dir.path()).await;
    let path = dir.path().to_str().unwrap().to_owned();
    let (code, _, stderr) =
        tokio::task::spawn_blocking(move || run(&["serve", &path, "--bind", "127.0.0.1:0"]))
            .await
            .unwrap();
    assert_ne!(code, 0);
    assert!(
        stderr.contains("another QIDE server already serves") && stderr.contains(&first.url),
        "{stderr}"
    );
    // The lock goes with the process, even one killed without warning.
    first.kill_hard();
    let second = start(dir.path()).await;
    assert!(second.client().health().await.is_ok());
}

#[test]
fn run_against_an_unreachable_server_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    // Only the default address falls back to an in-process server; a named
    // server that does not answer is a clear error with exit code 3.
    let out = qide()
        .args(["run", "--server", "http://127.0.0.1:9", "--step", "echo hi"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach the QIDE server"));
}

#[tokio::test]
async fn report_patterns_and_codebase_commands() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Makefile"),
        "all:\n\t@echo 'src/main.c:4:2: error: expected ;'; exit 1\n",
    )
    .unwrap();
    let server = start(dir.path()).await;
    let url = server.url.clone();
    let (code, _, stderr) = tokio::task::spawn_blocking(move || run(&["run", "--server", &url]))
        .await
        .unwrap();
    assert_eq!(code, 1, "{stderr}");

    let url = server.url.clone();
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || {
        run(&[
            "report",
            "1",
            "--server",
            &url,
            "--analysis",
            "a missing semicolon",
            "--recommend",
            "add it",
            "--confidence",
            "0.9",
        ])
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("report #1 stored for build #1"), "{stdout}");

    let url = server.url.clone();
    let (code, _, stderr) = tokio::task::spawn_blocking(move || {
        run(&[
            "report",
            "1",
            "--server",
            &url,
            "--analysis",
            "x",
            "--confidence",
            "3",
        ])
    })
    .await
    .unwrap();
    assert_ne!(code, 0);
    assert!(
        stderr.contains("confidence must be between 0 and 1"),
        "{stderr}"
    );

    let url = server.url.clone();
    let (code, stdout, _) =
        tokio::task::spawn_blocking(move || run(&["patterns", "--server", &url]))
            .await
            .unwrap();
    assert_eq!(code, 0);
    assert!(
        stdout.contains("syntax_error") && stdout.contains("src/main.c: expected ;"),
        "{stdout}"
    );
    assert!(stdout.contains("1 of 1 patterns"), "{stdout}");

    let url = server.url.clone();
    let (code, stdout, _) =
        tokio::task::spawn_blocking(move || run(&["codebase", "--server", &url, "--json"]))
            .await
            .unwrap();
    assert_eq!(code, 0);
    let codebase: qide_api::Codebase = serde_json::from_str(&stdout).unwrap();
    assert!(codebase.key_files.contains_key("Makefile"));

    let url = server.url.clone();
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || {
        run(&[
            "codebase",
            "--server",
            &url,
            "--mode",
            "pack",
            "--budget-tokens",
            "500",
            "--json",
        ])
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{stderr}");
    let pack: qide_api::CodebasePack = serde_json::from_str(&stdout).unwrap();
    assert!(pack.tokens <= 500);
    assert!(pack.files.iter().any(|f| f.path == "Makefile"), "{stdout}");

    let url = server.url.clone();
    let (code, _, stderr) = tokio::task::spawn_blocking(move || {
        run(&[
            "codebase", "--server", &url, "--mode", "map", "--build", "1",
        ])
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("tokens of"), "{stderr}");
}

#[tokio::test]
async fn tokens_close_the_server_and_open_it_to_their_holders() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let path = dir.path().to_str().unwrap().to_owned();

    let p = path.clone();
    let (code, token, stderr) = tokio::task::spawn_blocking(move || {
        run(&[
            "token",
            "create",
            "--dir",
            &p,
            "--name",
            "agent",
            "--scope",
            "read,report",
        ])
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{stderr}");
    let token = token.trim().to_owned();
    assert!(token.starts_with("qide_"), "{token}");
    let p = path.clone();
    let (_, listed, _) = tokio::task::spawn_blocking(move || run(&["token", "list", "--dir", &p]))
        .await
        .unwrap();
    assert!(
        listed.contains("agent") && listed.contains("read,report"),
        "{listed}"
    );
    assert!(!listed.contains(&token), "tokens are never shown again");
    // The server notices the new token within a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let url = server.url.clone();
    let (code, _, stderr) = tokio::task::spawn_blocking(move || run(&["builds", "--server", &url]))
        .await
        .unwrap();
    assert_ne!(code, 0);
    assert!(stderr.contains("needs a credential"), "{stderr}");

    let url = server.url.clone();
    let t = token.clone();
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || run(&["builds", "--server", &url, "--token", &t]))
            .await
            .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("0 of 0 builds"), "{stdout}");

    let url = server.url.clone();
    let t = token.clone();
    let (code, _, stderr) = tokio::task::spawn_blocking(move || {
        run(&["run", "--server", &url, "--token", &t, "--step", "echo hi"])
    })
    .await
    .unwrap();
    assert_ne!(code, 0);
    assert!(stderr.contains("\"run\" scope"), "{stderr}");

    let p = path.clone();
    let (code, _, _) =
        tokio::task::spawn_blocking(move || run(&["token", "revoke", "agent", "--dir", &p]))
            .await
            .unwrap();
    assert_eq!(code, 0);
    let url = server.url.clone();
    let (code, _, stderr) =
        tokio::task::spawn_blocking(move || run(&["builds", "--server", &url, "--token", &token]))
            .await
            .unwrap();
    assert_ne!(code, 0);
    assert!(stderr.contains("revoked"), "{stderr}");
}

#[tokio::test]
async fn agent_once_reports_on_failed_builds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Makefile"),
        "all:\n\t@echo 'lib/x.c:9:3: error: unknown type name size_tt'; exit 1\n",
    )
    .unwrap();
    let server = start(dir.path()).await;
    let url = server.url.clone();
    tokio::task::spawn_blocking(move || run(&["run", "--server", &url]))
        .await
        .unwrap();
    let url = server.url.clone();
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || {
        run(&["agent", "--once", "--server", &url, "--name", "cli-agent"])
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("build #1:") && stdout.contains("lib/x.c:9"),
        "{stdout}"
    );
    let detail = server.client().build_detail(1).await.unwrap();
    assert_eq!(detail.reports[0].agent.as_deref(), Some("cli-agent"));
}
