//! Real builds end in the right status and failure kind, with their log
//! intact and nothing left running.

use std::time::{Duration, Instant};

use qide_api as api;
use qide_api::BuildStatus;

use crate::harness::{gone, read_pid, spawn_app, spawn_app_with, step, test_limits};

const CARGO_TOML: &str = "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\npath = \"src/lib.rs\"\n";

fn cargo_project(dir: &std::path::Path, lib: &str) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), CARGO_TOML).unwrap();
    std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
}

/// A cargo build with the project's own target directory, so the test's
/// build cache is not touched.
async fn run_detected(app: &crate::harness::TestApp) -> api::Build {
    let env = [(
        "CARGO_TARGET_DIR".to_owned(),
        app.path("target").display().to_string(),
    )]
    .into();
    let request = api::RunRequest {
        env,
        ..Default::default()
    };
    let id = app.client.run_build(&request).await.expect("queue").id;
    app.wait(id).await
}

#[tokio::test]
async fn passing_cargo_project_succeeds_with_detected_steps() {
    let app = spawn_app_with(test_limits(), |dir| {
        cargo_project(dir, "pub fn add(a: u64, b: u64) -> u64 { a + b }\n\n#[test]\nfn adds() { assert_eq!(add(2, 2), 4); }\n")
    })
    .await;
    let build = run_detected(&app).await;
    assert_eq!(build.status, BuildStatus::Success, "{build:?}");
    assert_eq!(build.exit_code, Some(0));
    assert_eq!(build.failure_kind, None);
    // Nothing in a green build's log is an error, the runner's own
    // "exited with code 0" notes included.
    let detail = app.client.build_detail(build.id).await.unwrap();
    assert_eq!(
        detail.log_summary.error_count, 0,
        "{:?}",
        detail.log_summary
    );
    let steps = build.steps.unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["build", "test"]);
    assert!(steps.iter().all(|s| s.status == "success"));
    assert!(build.tree_hash.unwrap().starts_with("b3:"));
    let log = app.log_text(build.id).await;
    assert!(
        log.iter()
            .any(|l| l.step == "test" && l.text.contains("test adds ... ok")),
        "{log:?}"
    );
}

#[tokio::test]
async fn compile_error_is_diagnosed_with_file_line_and_snippet() {
    let app = spawn_app_with(test_limits(), |dir| {
        cargo_project(
            dir,
            "pub fn parse() -> u64 {\n    let value: u64 = \"text\";\n    value\n}\n",
        )
    })
    .await;
    let build = run_detected(&app).await;
    assert_eq!(build.status, BuildStatus::Failed);
    assert_eq!(build.failure_kind.as_deref(), Some("exit_non_zero"));
    assert_eq!(build.exit_code, Some(101));
    assert_eq!(build.failure_category.as_deref(), Some("compile_error"));
    let steps = build.steps.as_ref().unwrap();
    assert_eq!(steps[1].status, "skipped", "the test step never ran");

    let detail = app.client.build_detail(build.id).await.unwrap();
    let summary = &detail.log_summary;
    let root = summary
        .errors
        .iter()
        .find(|d| summary.root_causes.contains(&d.id))
        .expect("a root cause");
    assert_eq!(root.code.as_deref(), Some("E0308"));
    assert_eq!(root.file.as_deref(), Some("src/lib.rs"));
    assert_eq!(root.line, Some(2));
    assert!(root.fingerprint.starts_with("fp_"));
    let snippet = root.snippet.as_ref().expect("snippet");
    assert!(
        snippet
            .lines
            .iter()
            .any(|l| l.contains("let value: u64 = \"text\";")),
        "{snippet:?}"
    );
    // The cascade ("could not compile") is left out of the packet.
    assert!(
        !summary
            .errors
            .iter()
            .any(|d| d.message.contains("could not compile"))
    );
    assert_eq!(build.error_count, summary.errors.len() as i64);
    assert!(!summary.tail.is_empty());
    // The log lines the diagnostic names hold its header.
    let log = app.log_text(build.id).await;
    let header = log
        .iter()
        .find(|l| l.n == root.log_lines[0] as i64)
        .unwrap();
    assert!(header.text.contains("E0308"), "{header:?}");
}

#[tokio::test]
async fn step_past_its_timeout_is_stopped_and_marked_timeout() {
    let app = spawn_app().await;
    let mut s = step("slow", "echo before; sleep 30; echo after");
    s.timeout_s = Some(1);
    let started = Instant::now();
    let build = app.run(vec![s]).await;
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(build.status, BuildStatus::Failed);
    assert_eq!(build.failure_kind.as_deref(), Some("timeout"));
    let log = app.log_text(build.id).await;
    assert!(
        log.iter()
            .any(|l| l.text == "before" && l.stream == "stdout")
    );
    assert!(!log.iter().any(|l| l.text == "after"));
    assert!(
        log.iter()
            .any(|l| l.stream == "system" && l.text.contains("timed out"))
    );
}

#[tokio::test]
async fn build_timeout_applies_across_steps() {
    let app = spawn_app().await;
    let request = api::RunRequest {
        steps: Some(vec![step("a", "sleep 0.2"), step("b", "sleep 30")]),
        timeout_s: Some(1),
        ..Default::default()
    };
    let id = app.client.run_build(&request).await.unwrap().id;
    let build = app.wait(id).await;
    assert_eq!(build.failure_kind.as_deref(), Some("timeout"));
    let steps = build.steps.unwrap();
    assert_eq!(steps[0].status, "success");
    assert_eq!(steps[1].failure_kind.as_deref(), Some("timeout"));
}

#[tokio::test]
async fn silent_step_hits_the_no_output_timeout() {
    let limits = qide_runner::BuildLimits {
        no_output_timeout: Duration::from_secs(1),
        ..test_limits()
    };
    let app = spawn_app_with(limits, |_| {}).await;
    let build = app.run(vec![step("quiet", "echo hello; sleep 30")]).await;
    assert_eq!(build.status, BuildStatus::Failed);
    assert_eq!(build.failure_kind.as_deref(), Some("no_output_timeout"));
    let log = app.log_text(build.id).await;
    assert!(log.iter().any(|l| l.text == "hello"));
}

#[tokio::test]
async fn hundred_megabytes_of_output_are_captured_with_head_and_tail() {
    let limits = qide_runner::BuildLimits {
        log_cap_bytes: 8 << 20,
        ..test_limits()
    };
    let app = spawn_app_with(limits, |_| {}).await;
    // 1,000,000 numbered lines of 100 bytes each.
    let run = "awk 'BEGIN { for (i = 1; i <= 1000000; i++) printf \"%-99d\\n\", i }'";
    let build = app.run(vec![step("flood", run)]).await;
    assert_eq!(build.status, BuildStatus::Success, "{build:?}");
    // One note line before the output, one after it.
    assert_eq!(build.log_line_count, 1_000_002);
    let dropped = build
        .log_dropped
        .expect("the middle is dropped past the cap");
    assert!(
        dropped.lines[0] > 1000 && dropped.lines[1] < 1_000_000,
        "{dropped:?}"
    );
    assert!(dropped.bytes > 80 << 20);
    let head = app
        .client
        .log(
            build.id,
            &qide_client::LogQuery {
                from: Some(2),
                limit: Some(3),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(head.lines[0].text.trim_end(), "1");
    assert_eq!(head.lines[0].n, 2);
    let tail = app
        .client
        .log(
            build.id,
            &qide_client::LogQuery {
                tail: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(tail.lines[0].text.trim_end(), "1000000");
    assert_eq!(tail.lines[0].n, 1_000_001);
    assert_eq!(tail.total_lines, 1_000_002);
    assert!(tail.dropped.is_some());
}

#[tokio::test]
async fn cancelled_build_stops_at_once_and_is_marked_cancelled() {
    let app = spawn_app().await;
    let id = app
        .start(vec![step("long", "echo $$ > leader.pid; sleep 60")])
        .await;
    // Wait until it runs.
    for _ in 0..100 {
        if app.path("leader.pid").exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = read_pid(&app.path("leader.pid"));
    let started = Instant::now();
    let answer = app.client.cancel(id).await.expect("cancel");
    assert!(!answer.status.is_finished() || answer.status == BuildStatus::Error);
    let build = app.wait(id).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(build.status, BuildStatus::Error);
    assert_eq!(build.failure_kind.as_deref(), Some("cancelled"));
    assert!(gone(pid).await, "the step's process is gone");
    // Cancelling a finished build is a conflict.
    let err = app.client.cancel(id).await.unwrap_err();
    assert_eq!(err.status(), Some(409));
}

#[tokio::test]
async fn cancelling_a_queued_build_dequeues_it() {
    let app = spawn_app().await;
    let first = app.start(vec![step("hold", "sleep 2")]).await;
    let second = app.start(vec![step("never", "touch ran")]).await;
    let build = app.client.cancel(second).await.unwrap();
    assert_eq!(build.status, BuildStatus::Error);
    assert_eq!(build.failure_kind.as_deref(), Some("cancelled"));
    app.wait(first).await;
    assert!(!app.path("ran").exists());
}

#[tokio::test]
async fn missing_command_is_an_error_not_a_failure() {
    let app = spawn_app().await;
    let build = app
        .run(vec![step("typo", "qide-no-such-command-here --flag")])
        .await;
    assert_eq!(build.status, BuildStatus::Error);
    assert_eq!(build.failure_kind.as_deref(), Some("command_not_found"));
    assert_eq!(build.exit_code, Some(127));
    let log = app.log_text(build.id).await;
    assert!(
        log.iter()
            .any(|l| l.stream == "stderr" && l.text.contains("not found")),
        "{log:?}"
    );
}

#[tokio::test]
async fn step_killed_by_a_signal_is_a_failure_naming_the_signal() {
    let app = spawn_app().await;
    let build = app
        .run(vec![step("crash", "echo going down; kill -SEGV $$")])
        .await;
    assert_eq!(build.status, BuildStatus::Failed);
    assert_eq!(build.failure_kind.as_deref(), Some("signal"));
    let steps = build.steps.unwrap();
    assert_eq!(steps[0].signal.as_deref(), Some("SIGSEGV"));
    let log = app.log_text(build.id).await;
    assert!(log.iter().any(|l| l.text == "going down"));
}

#[tokio::test]
async fn grandchildren_left_behind_are_killed_when_the_step_ends() {
    let app = spawn_app().await;
    // One grandchild keeps the output pipe open, one does not.
    let run = "sleep 300 & echo $! > holder.pid; \
               sleep 300 > /dev/null 2>&1 & echo $! > detached.pid; \
               echo started";
    let started = Instant::now();
    let build = app.run(vec![step("spawner", run)]).await;
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(build.status, BuildStatus::Success, "{build:?}");
    assert!(
        gone(read_pid(&app.path("holder.pid"))).await,
        "pipe holder killed"
    );
    assert!(
        gone(read_pid(&app.path("detached.pid"))).await,
        "detached grandchild killed"
    );
    let log = app.log_text(build.id).await;
    assert!(log.iter().any(|l| l.text == "started"));
}

#[tokio::test]
async fn stdout_and_stderr_are_interleaved_and_tagged() {
    let app = spawn_app().await;
    let build = app
        .run(vec![step("mixed", "echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; printf 'crlf\\r\\nbare\\rcr\\n'")])
        .await;
    assert_eq!(build.status, BuildStatus::Success);
    let log = app.log_text(build.id).await;
    let out: Vec<(&str, &str)> = log
        .iter()
        .filter(|l| l.stream != "system")
        .map(|l| (l.stream.as_str(), l.text.as_str()))
        .collect();
    assert_eq!(
        out,
        [
            ("stdout", "one"),
            ("stderr", "two"),
            ("stdout", "three"),
            ("stdout", "crlf"),
            ("stdout", "bare\rcr")
        ]
    );
    // Numbers count from 1 without gaps.
    for (i, line) in log.iter().enumerate() {
        assert_eq!(line.n, i as i64 + 1);
    }
}

#[tokio::test]
async fn later_steps_are_skipped_after_a_failure() {
    let app = spawn_app().await;
    let build = app
        .run(vec![
            step("ok", "true"),
            step("bad", "exit 3"),
            step("after", "touch ran"),
        ])
        .await;
    assert_eq!(build.status, BuildStatus::Failed);
    assert_eq!(build.exit_code, Some(3));
    let steps = build.steps.unwrap();
    let statuses: Vec<&str> = steps.iter().map(|s| s.status.as_str()).collect();
    assert_eq!(statuses, ["success", "failed", "skipped"]);
    assert!(!app.path("ran").exists());
}

#[tokio::test]
async fn secret_env_values_never_reach_the_stored_log() {
    let app = spawn_app().await;
    let mut s = step("leak", "echo token=$DEPLOY_TOKEN");
    s.env
        .insert("DEPLOY_TOKEN".to_owned(), "tok_9f8e7d6c5b4a".to_owned());
    let build = app.run(vec![s]).await;
    let log = app.log_text(build.id).await;
    assert!(log.iter().any(|l| l.text == "token=[redacted]"), "{log:?}");
    let db = std::fs::read(app.path(".qide/qide.db")).unwrap();
    let wal = std::fs::read(app.path(".qide/qide.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(16).any(|w| w == b"tok_9f8e7d6c5b4a"),
            "secret found in the database files"
        );
    }
}

#[tokio::test]
async fn a_secret_typed_into_a_command_is_masked_in_answers() {
    let app = spawn_app().await;
    let secret = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
    let build = app
        .run(vec![step("push", &format!("true --token {secret}"))])
        .await;
    let shown = app.client.build(build.id, None).await.unwrap();
    let run = &shown.steps.unwrap()[0].run;
    assert!(!run.contains(secret), "{run}");
    assert!(run.starts_with("true --token "), "{run}");
    let detail = app.client.build_detail(build.id).await.unwrap();
    let text = serde_json::to_string(&detail).unwrap();
    assert!(
        !text.contains(secret),
        "the failure packet shows the secret"
    );
}

#[tokio::test]
async fn wait_returns_as_soon_as_the_build_finishes() {
    let app = spawn_app().await;
    let id = app.start(vec![step("short", "sleep 0.5")]).await;
    let started = Instant::now();
    let build = app.client.build(id, Some(60)).await.unwrap();
    assert!(build.status.is_finished());
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn no_steps_and_nothing_to_detect_is_a_clear_422() {
    let app = spawn_app().await;
    let err = app
        .client
        .run_build(&api::RunRequest::default())
        .await
        .unwrap_err();
    let qide_client::Error::Problem { problem } = err else {
        panic!("{err:?}")
    };
    assert_eq!(problem.status, 422);
    assert_eq!(problem.code, "no_build_steps");
}

#[tokio::test]
async fn qide_toml_steps_and_profiles_are_used() {
    let app = spawn_app_with(test_limits(), |dir| {
        std::fs::write(
            dir.join("qide.toml"),
            "[env]\nGREETING = \"hi\"\n\n[[steps]]\nname = \"greet\"\nrun = \"echo $GREETING from toml\"\n\n[profiles.other]\nsteps = [{ name = \"alt\", run = \"echo alt\" }]\n",
        )
        .unwrap();
    })
    .await;
    let id = app
        .client
        .run_build(&api::RunRequest::default())
        .await
        .unwrap()
        .id;
    let build = app.wait(id).await;
    assert_eq!(build.steps.unwrap()[0].name, "greet");
    assert!(
        app.log_text(id)
            .await
            .iter()
            .any(|l| l.text == "hi from toml")
    );

    let request = api::RunRequest {
        profile: Some("other".to_owned()),
        ..Default::default()
    };
    let id = app.client.run_build(&request).await.unwrap().id;
    assert_eq!(app.wait(id).await.steps.unwrap()[0].name, "alt");

    let request = api::RunRequest {
        profile: Some("nope".to_owned()),
        ..Default::default()
    };
    let err = app.client.run_build(&request).await.unwrap_err();
    let qide_client::Error::Problem { problem } = err else {
        panic!("{err:?}")
    };
    assert_eq!(problem.field.as_deref(), Some("profile"));
}
