//! `qide run --rerun-failed N` over real projects with a genuinely flaky test
//! (it fails on odd runs, counted in a file) and a genuinely broken one, for
//! cargo test and pytest: the failed tests rerun alone as linked builds on
//! the same tree, the verdict is the exit code, and the server labels the
//! flaky test in the failure packet and the patterns.

use std::path::Path;

use qide_api as api;
use serde_json::Value;

use crate::server::{qide, start};

/// Files every project ignores, so that the working-tree hash stays the
/// same across reruns: build output, caches and the flaky test's counter.
const GITIGNORE: &str = "target/\nCargo.lock\ncounter.txt\n__pycache__/\n.pytest_cache/\n";

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A crate whose `tests::flaky` fails on odd runs and, with `broken`,
/// a `tests::broken` that always fails.
fn cargo_project(dir: &Path, broken: bool) {
    write(dir, ".gitignore", GITIGNORE);
    write(
        dir,
        "Cargo.toml",
        "[package]\nname = \"flaky_demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    let mut lib = String::from(
        r#"pub fn add(a: u32, b: u32) -> u32 { a + b }

#[cfg(test)]
mod tests {
    #[test]
    fn flaky() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/counter.txt");
        let n: u32 = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
            + 1;
        std::fs::write(path, n.to_string()).unwrap();
        assert!(n % 2 == 0, "odd run {n}");
    }

    #[test]
    fn fine() {
        assert_eq!(super::add(1, 1), 2);
    }
"#,
    );
    if broken {
        lib.push_str(
            r#"
    #[test]
    fn broken() {
        assert_eq!(super::add(2, 2), 5);
    }
"#,
        );
    }
    lib.push_str("}\n");
    write(dir, "src/lib.rs", &lib);
}

/// The same two tests for pytest.
fn pytest_project(dir: &Path, broken: bool) {
    write(dir, ".gitignore", GITIGNORE);
    let mut tests = String::from(
        r#"import pathlib

COUNTER = pathlib.Path(__file__).parent.parent / "counter.txt"


def test_flaky():
    n = (int(COUNTER.read_text()) if COUNTER.exists() else 0) + 1
    COUNTER.write_text(str(n))
    assert n % 2 == 0, f"odd run {n}"


def test_fine():
    assert 1 + 1 == 2
"#,
    );
    if broken {
        tests.push_str("\n\ndef test_broken():\n    assert 2 + 2 == 5\n");
    }
    write(dir, "tests/test_app.py", &tests);
}

/// `qide run --json --rerun-failed N --step test=COMMAND` against `url`:
/// the exit code and the verdict.
async fn run_with_reruns(url: &str, command: &str, times: u32) -> (i32, Value) {
    let args: Vec<String> = [
        "run",
        "--server",
        url,
        "--json",
        "--rerun-failed",
        &times.to_string(),
        "--step",
        &format!("test={command}"),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let out = tokio::task::spawn_blocking(move || qide().args(&args).output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let verdict: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), verdict)
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect()
}

/// Checks what every verdict with reruns shares: the reruns are real builds
/// on the same tree, triggered `rerun` and linked to the original.
fn check_reruns(verdict: &Value, count: usize) -> i64 {
    let original = verdict["build"]["id"].as_i64().unwrap();
    let reruns = verdict["reruns"].as_array().unwrap();
    assert_eq!(reruns.len(), count, "{verdict:#}");
    for rerun in reruns {
        assert_eq!(rerun["trigger"], "rerun");
        assert_eq!(rerun["rerun_of"].as_i64(), Some(original));
        assert_eq!(rerun["tree_hash"], verdict["build"]["tree_hash"]);
        assert!(rerun["tree_hash"].is_string());
    }
    original
}

/// The original build's failure packet, whole.
async fn packet(client: &qide_client::Client, id: i64) -> api::BuildDetail {
    client
        .build_detail_budgeted(id, 1_000_000, None)
        .await
        .unwrap()
}

// Steps set their own CARGO_TARGET_DIR: the test's own may be set to the
// workspace's, whose lock the outer `cargo test` can hold.
const CARGO_TEST: &str = "CARGO_TARGET_DIR=target cargo test --offline";

#[tokio::test]
async fn cargo_test_reruns_tell_the_flaky_test_from_the_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    cargo_project(dir.path(), true);
    let server = start(dir.path()).await;
    let (code, verdict) = run_with_reruns(&server.url, CARGO_TEST, 3).await;
    assert_eq!(code, 1, "{verdict:#}");
    assert_eq!(verdict["verdict"], "failed");
    assert_eq!(names(&verdict["flaky_tests"]), ["tests::flaky"]);
    assert_eq!(names(&verdict["failed_tests"]), ["tests::broken"]);
    // The first rerun passes the flaky test; the broken one reruns alone
    // until N is spent.
    let original = check_reruns(&verdict, 3);
    let first_rerun = verdict["reruns"][0]["id"].as_i64().unwrap();
    let steps = &verdict["reruns"][0]["steps"];
    assert!(steps.is_null() || steps.is_array());

    let client = server.client();
    let detail = packet(&client, original).await;
    let failures = &detail.log_summary.tests.failures;
    let flaky = failures.iter().find(|f| f.name == "tests::flaky").unwrap();
    assert!(flaky.flaky);
    assert_eq!(flaky.passed_in, Some(first_rerun));
    let broken = failures.iter().find(|f| f.name == "tests::broken").unwrap();
    assert!(!broken.flaky);
    assert_eq!(broken.passed_in, None);
    // A real failure remains: the build is not flaky.
    assert_eq!(
        detail.log_summary.failure_category.as_deref(),
        Some("test_failure")
    );
    assert!(detail.flaky.is_none());

    // Each rerun ran only what had not passed yet.
    let last = verdict["reruns"][2]["id"].as_i64().unwrap();
    let last_detail = packet(&client, last).await;
    assert_eq!(last_detail.log_summary.tests.passed, 0);
    assert_eq!(last_detail.log_summary.tests.failed, 1);
    let first = packet(&client, first_rerun).await;
    assert_eq!(first.log_summary.tests.passed, 1);
    assert_eq!(first.log_summary.tests.failed, 1);
    // libtest runs tests in parallel, so the failures (and the names
    // rerun) come in either order.
    let run = &first.build.steps.unwrap()[0].run;
    let (_, names) = run.split_once("-- --exact ").expect("an exact rerun");
    let mut names: Vec<&str> = names.split_whitespace().collect();
    names.sort_unstable();
    assert_eq!(names, ["tests::broken", "tests::flaky"], "{run}");

    // The patterns list the flaky test with its counts.
    let patterns = client.patterns(None, None, 0, 50).await.unwrap();
    assert_eq!(patterns.flaky_test_count, 1);
    let listed = &patterns.flaky_tests[0];
    assert_eq!(listed.name, "tests::flaky");
    assert_eq!(listed.tool.as_deref(), Some("cargo-test"));
    assert_eq!((listed.failures, listed.passes, listed.trees), (1, 1, 1));
}

#[tokio::test]
async fn a_build_that_fails_only_in_flaky_tests_exits_zero_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    cargo_project(dir.path(), false);
    let server = start(dir.path()).await;
    let url = server.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        qide()
            .args([
                "run",
                "--server",
                &url,
                "--rerun-failed",
                "2",
                "--step",
                &format!("test={CARGO_TEST}"),
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("qide: warning: build #1 failed only in flaky tests"),
        "{stderr}"
    );
    assert!(stderr.contains("rerun 1/2 of 1 failed test"), "{stderr}");
    assert!(
        !stderr.contains("rerun 2/2"),
        "one rerun decided it: {stderr}"
    );

    let detail = packet(&server.client(), 1).await;
    assert_eq!(
        detail.log_summary.failure_category.as_deref(),
        Some("flaky")
    );
    assert_eq!(detail.build.failure_category.as_deref(), Some("flaky"));
    let evidence = detail.flaky.expect("flaky evidence");
    assert_eq!(evidence.passed_build, 2);
    assert_eq!(evidence.tests, ["tests::flaky"]);
}

#[tokio::test]
async fn pytest_reruns_node_ids() {
    // .ci/run installs pytest when it is missing.
    let pytest = qide_runner::command("python3", Path::new("."), &Default::default())
        .args(["-m", "pytest", "--version"])
        .output()
        .await;
    assert!(
        pytest.is_ok_and(|o| o.status.success()),
        "pytest is needed for this test: python3 -m pip install pytest"
    );
    let dir = tempfile::tempdir().unwrap();
    pytest_project(dir.path(), true);
    let server = start(dir.path()).await;
    let (code, verdict) = run_with_reruns(&server.url, "python3 -m pytest -q tests", 2).await;
    assert_eq!(code, 1, "{verdict:#}");
    assert_eq!(verdict["verdict"], "failed");
    assert_eq!(
        names(&verdict["flaky_tests"]),
        ["tests/test_app.py::test_flaky"]
    );
    assert_eq!(
        names(&verdict["failed_tests"]),
        ["tests/test_app.py::test_broken"]
    );
    let original = check_reruns(&verdict, 2);

    // Only flaky failures: the next project's build exits 0.
    let dir = tempfile::tempdir().unwrap();
    pytest_project(dir.path(), false);
    let server = start(dir.path()).await;
    let (code, verdict) = run_with_reruns(&server.url, "python3 -m pytest -q tests", 2).await;
    assert_eq!(code, 0, "{verdict:#}");
    assert_eq!(verdict["verdict"], "flaky");
    assert!(names(&verdict["failed_tests"]).is_empty());
    check_reruns(&verdict, 1);
    let detail = packet(&server.client(), 1).await;
    assert_eq!(
        detail.log_summary.failure_category.as_deref(),
        Some("flaky")
    );
    assert!(original > 0);
}

#[tokio::test]
async fn a_step_qide_cannot_filter_is_not_rerun_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    cargo_project(dir.path(), true);
    write(dir.path(), "run-tests.sh", &format!("{CARGO_TEST}\n"));
    let server = start(dir.path()).await;
    let (code, verdict) = run_with_reruns(&server.url, "sh run-tests.sh", 2).await;
    assert_eq!(code, 1, "{verdict:#}");
    assert_eq!(verdict["verdict"], "not_rerun");
    assert!(verdict["reruns"].as_array().unwrap().is_empty());
    let message = verdict["message"].as_str().unwrap();
    assert!(
        message.contains("rerunning failed tests is not supported for `sh run-tests.sh`"),
        "{message}"
    );

    // A build that fails without failed tests is not rerun either.
    let (code, verdict) = run_with_reruns(&server.url, "exit 3", 2).await;
    assert_eq!(code, 1);
    assert_eq!(verdict["verdict"], "not_rerun");
    assert!(
        verdict["message"]
            .as_str()
            .unwrap()
            .contains("without failed tests"),
        "{verdict:#}"
    );
}
