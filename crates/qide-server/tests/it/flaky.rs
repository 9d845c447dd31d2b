//! Learning over HTTP with real builds: diff hunks of suspect changes on
//! request (`?diff=1`, `?diff_context=N`) over a temporary git repository,
//! per-test flaky labels from builds on the same tree, and reruns linked to
//! their build (`rerun_of`).

use qide_api as api;
use serde_json::Value;

use crate::harness::{git, git_repo, spawn_app, spawn_app_with, step, test_limits};

async fn get(app: &crate::harness::TestApp, path: &str) -> (u16, Value) {
    let response = app
        .http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Writes a step that prints libtest output for `tests`, each `once:NAME`
/// (fails on the first run only) or `always:NAME`, and exits as cargo test
/// would; returns the run counter (kept outside the project, so the tree
/// hash does not move between runs) and the step's command.
fn fake_cargo_test(
    app: &crate::harness::TestApp,
    tests: &[&str],
) -> (tempfile::NamedTempFile, String) {
    let counter = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        app.path("fake_cargo_test.sh"),
        r#"n=$(cat "$1" 2>/dev/null); n=${n:-0}; echo $((n + 1)) > "$1"; shift
echo "running $# tests"
failed=""
for t in "$@"; do
  name=${t#*:}
  if [ "${t%%:*}" = always ] || [ "$n" -eq 0 ]; then
    failed="$failed $name"; echo "test $name ... FAILED"
  else
    echo "test $name ... ok"
  fi
done
if [ -z "$failed" ]; then
  echo "test result: ok. $# passed; 0 failed; 0 ignored; 0 measured; 0 filtered out"
  exit 0
fi
echo; echo 'failures:'; echo
for name in $failed; do
  echo "---- $name stdout ----"; echo
  echo "thread '$name' panicked at src/lib.rs:5:9:"; echo "$name broke"; echo
done
echo 'failures:'
for name in $failed; do echo "    $name"; done; echo
echo 'test result: FAILED. 0 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out'
exit 101
"#,
    )
    .unwrap();
    let run = format!(
        "sh fake_cargo_test.sh {} {}",
        counter.path().display(),
        tests.join(" ")
    );
    (counter, run)
}

#[tokio::test]
async fn suspect_files_carry_their_diff_hunks_on_request() {
    let app = spawn_app_with(test_limits(), |dir| {
        let lines: Vec<String> = (1..=30).map(|i| format!("int v{i} = {i};")).collect();
        std::fs::write(dir.join("b.c"), lines.join("\n") + "\n").unwrap();
        std::fs::write(
            dir.join("check.sh"),
            "if [ -f broken ]; then echo 'b.c:10:5: error: conflicting types for v10'; exit 1; fi\n",
        )
        .unwrap();
        git_repo(dir);
    })
    .await;
    let steps = || vec![step("check", "sh check.sh")];
    let green = app.run(steps()).await;
    assert_eq!(green.status, api::BuildStatus::Success);

    // A committed change, then uncommitted ones: a new file with a secret.
    let text = std::fs::read_to_string(app.path("b.c")).unwrap();
    std::fs::write(
        app.path("b.c"),
        text.replace("int v10 = 10;", "float v10 = 10;"),
    )
    .unwrap();
    git(app.dir.path(), &["commit", "-qam", "change b"]);
    std::fs::write(app.path("broken"), "").unwrap();
    std::fs::write(
        app.path("new.c"),
        "const char *key = \"AKIAIOSFODNN7EXAMPLE\";\n",
    )
    .unwrap();
    let failed = app.run(steps()).await;
    assert_eq!(failed.status, api::BuildStatus::Failed);
    let id = failed.id;

    // Without asking: paths only.
    let (status, plain) = get(&app, &format!("/llm/learning/build/{id}")).await;
    assert_eq!(status, 200);
    let files = plain["suspect_changes"]["files"].as_array().unwrap();
    assert!(files.iter().all(|f| f.get("hunks").is_none()), "{files:?}");

    let (status, detail) = get(
        &app,
        &format!("/llm/learning/build/{id}?diff=1&budget_tokens=100000"),
    )
    .await;
    assert_eq!(status, 200, "{detail}");
    let files = detail["suspect_changes"]["files"].as_array().unwrap();
    let b = files.iter().find(|f| f["path"] == "b.c").unwrap();
    assert_eq!(b["diagnostics"], 1);
    let hunks = b["hunks"].as_array().unwrap();
    assert_eq!(hunks.len(), 1);
    assert_eq!(
        hunks[0],
        "@@ -7,7 +7,7 @@ int v6 = 6;\n int v7 = 7;\n int v8 = 8;\n int v9 = 9;\n-int v10 = 10;\n\
         +float v10 = 10;\n int v11 = 11;\n int v12 = 12;\n int v13 = 13;\n"
    );
    let new = files.iter().find(|f| f["path"] == "new.c").unwrap();
    let new_hunk = new["hunks"][0].as_str().unwrap();
    assert!(
        new_hunk.starts_with("@@ -0,0 +1 @@\n+const char *key = "),
        "{new_hunk}"
    );
    assert!(!new_hunk.contains("AKIAIOSFODNN7EXAMPLE"), "{new_hunk}");
    assert!(!detail.to_string().contains("AKIAIOSFODNN7EXAMPLE"));

    // Less context.
    let (_, detail) = get(
        &app,
        &format!("/llm/learning/build/{id}?diff_context=0&budget_tokens=100000"),
    )
    .await;
    let b = &detail["suspect_changes"]["files"][0];
    assert_eq!(b["path"], "b.c");
    assert_eq!(
        b["hunks"][0],
        "@@ -10 +10 @@ int v9 = 9;\n-int v10 = 10;\n+float v10 = 10;\n"
    );

    // Inside a tight budget, hunks give way and say so; never over budget.
    let (_, tight) = get(
        &app,
        &format!("/llm/learning/build/{id}?diff=1&budget_tokens=400"),
    )
    .await;
    assert!(tight["tokens"].as_u64().unwrap() <= 400, "{tight}");
    assert_eq!(tight["truncated"], true);

    // Bad values name their field.
    for (query, field) in [
        ("diff=maybe", "diff"),
        ("diff_context=99", "diff_context"),
        ("diff_context=-1", "diff_context"),
    ] {
        let (status, problem) = get(&app, &format!("/llm/learning/build/{id}?{query}")).await;
        assert_eq!(status, 422, "{query}: {problem}");
        assert_eq!(problem["field"], field, "{query}: {problem}");
        assert_eq!(problem["code"], "invalid_field");
    }
}

#[tokio::test]
async fn a_rerun_names_its_build_and_a_pass_on_the_same_tree_labels_the_test_flaky() {
    let app = spawn_app().await;
    // Two libtest-style tests: `random` fails on the first run only.
    let (_counter, run) = fake_cargo_test(&app, &["once:tests::random", "always:tests::broken"]);
    let first = app.run(vec![step("test", &run)]).await;
    assert_eq!(first.status, api::BuildStatus::Failed);
    assert_eq!(first.rerun_of, None);
    let detail = app.client.build_detail(first.id).await.unwrap();
    let names: Vec<&str> = detail
        .log_summary
        .tests
        .failures
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["tests::random", "tests::broken"]);
    assert!(detail.log_summary.tests.failures.iter().all(|f| !f.flaky));

    // The rerun: same tree, linked, trigger `rerun` by default.
    let accepted = app
        .client
        .run_build(&api::RunRequest {
            steps: Some(vec![step("rerun-test", &run)]),
            rerun_of: Some(first.id),
            ..Default::default()
        })
        .await
        .unwrap();
    let rerun = app.wait(accepted.id).await;
    assert_eq!(rerun.trigger, "rerun");
    assert_eq!(rerun.rerun_of, Some(first.id));
    assert_eq!(rerun.tree_hash, first.tree_hash);

    let detail = app.client.build_detail(first.id).await.unwrap();
    let failures = &detail.log_summary.tests.failures;
    assert!(failures[0].flaky);
    assert_eq!(failures[0].passed_in, Some(rerun.id));
    assert!(!failures[1].flaky);
    assert_eq!(
        detail.log_summary.failure_category.as_deref(),
        Some("test_failure"),
        "a real failure remains"
    );
    let list = app.client.builds(0, 10, None).await.unwrap();
    let listed = list.builds.iter().find(|b| b.id == first.id).unwrap();
    assert_eq!(listed.failure_category.as_deref(), Some("test_failure"));
    // The packet says so on the wire, and only where true.
    let (_, raw) = get(&app, &format!("/llm/learning/build/{}", first.id)).await;
    assert_eq!(raw["log_summary"]["tests"]["failures"][0]["flaky"], true);
    assert!(
        raw["log_summary"]["tests"]["failures"][1]
            .get("flaky")
            .is_none()
    );

    // The patterns list it.
    let patterns = app.client.patterns(None, None, 0, 50).await.unwrap();
    assert_eq!(patterns.flaky_test_count, 1);
    assert_eq!(patterns.flaky_tests[0].name, "tests::random");
    assert_eq!(patterns.flaky_tests[0].last_failed_build, Some(first.id));

    // A rerun of a build that does not exist is refused, naming the field.
    let response = app
        .http
        .post(format!("{}/build/run", app.base))
        .json(&serde_json::json!({"steps": [{"run": "true"}], "rerun_of": 999}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["field"], "rerun_of");
}

#[tokio::test]
async fn a_build_that_failed_only_on_flaky_tests_is_listed_as_flaky() {
    let app = spawn_app().await;
    // One libtest-style test that fails on the first run only.
    let (_counter, run) = fake_cargo_test(&app, &["once:tests::random"]);
    let first = app.run(vec![step("test", &run)]).await;
    assert_eq!(first.status, api::BuildStatus::Failed);
    assert_eq!(first.failure_category.as_deref(), Some("test_failure"));

    let rerun = app.run(vec![step("test", &run)]).await;
    assert_eq!(rerun.status, api::BuildStatus::Success);
    assert_eq!(rerun.tree_hash, first.tree_hash);

    // Once the rerun has finished, the list, the build and its packet agree.
    let list = app.client.builds(0, 10, None).await.unwrap();
    let listed = list.builds.iter().find(|b| b.id == first.id).unwrap();
    assert_eq!(listed.failure_category.as_deref(), Some("flaky"));
    let listed = list.builds.iter().find(|b| b.id == rerun.id).unwrap();
    assert_eq!(listed.failure_category, None);
    let (_, build) = get(&app, &format!("/build/{}", first.id)).await;
    assert_eq!(build["failure_category"], "flaky");
    let detail = app.client.build_detail(first.id).await.unwrap();
    assert_eq!(
        detail.log_summary.failure_category.as_deref(),
        Some("flaky")
    );
    assert_eq!(detail.build.failure_category.as_deref(), Some("flaky"));
}
