//! What joins the log in a build's summary: the JUnit XML reports its
//! steps wrote, and the last green log of the same steps.

use qide_api::BuildStatus;

use crate::harness::{spawn_app_with, step, test_limits};

/// A file captured from a real tool, kept with the diagnose crate's tests.
fn captured(rel: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../qide-diagnose/test_data")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[tokio::test]
async fn junit_reports_a_step_writes_fill_the_tests() {
    let app = spawn_app_with(test_limits(), |dir| {
        std::fs::create_dir_all(dir.join("fixtures")).unwrap();
        std::fs::write(
            dir.join("fixtures/report.xml"),
            captured("junit/nextest.xml"),
        )
        .unwrap();
        // A report from before the build is not this build's.
        std::fs::create_dir_all(dir.join("old")).unwrap();
        std::fs::write(dir.join("old/junit.xml"), captured("junit/vitest.xml")).unwrap();
        let old = std::fs::File::options()
            .write(true)
            .open(dir.join("old/junit.xml"))
            .unwrap();
        old.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
            .unwrap();
    })
    .await;
    // The step says nothing a parser reads; only its report knows.
    let build = app
        .run(vec![step(
            "test",
            "mkdir -p target/nextest/ci && cp fixtures/report.xml target/nextest/ci/junit.xml && echo done && exit 1",
        )])
        .await;
    assert_eq!(build.status, BuildStatus::Failed);
    let detail = app.client.build_detail(build.id).await.unwrap();
    let tests = &detail.log_summary.tests;
    assert_eq!(
        (tests.passed, tests.failed, tests.skipped),
        (1, 2, 0),
        "{tests:?}"
    );
    let failure = tests
        .failures
        .iter()
        .find(|f| f.name == "nexcalc tests::it_fails")
        .expect("the failed test");
    assert_eq!(
        failure.message.as_deref(),
        Some("assertion `left == right` failed: math is broken")
    );
    assert_eq!(failure.file.as_deref(), Some("src/lib.rs"));
    assert_eq!(failure.line, Some(20));
}

#[tokio::test]
async fn an_unknown_tool_is_answered_with_what_is_new_since_green() {
    let app = spawn_app_with(test_limits(), |dir| {
        std::fs::write(dir.join("build.sh"), "cat out.log\nexit \"$(cat code)\"\n").unwrap();
        std::fs::write(
            dir.join("out.log"),
            captured("novelty/terraform_fmt_green.log"),
        )
        .unwrap();
        std::fs::write(dir.join("code"), "0").unwrap();
    })
    .await;
    let green = app.run(vec![step("build", "sh build.sh")]).await;
    assert_eq!(green.status, BuildStatus::Success);
    // A build of other steps in between is not the one to compare with.
    let other = app.run(vec![step("other", "echo unrelated")]).await;
    assert_eq!(other.status, BuildStatus::Success);

    std::fs::write(
        app.path("out.log"),
        captured("novelty/terraform_fmt_red.log"),
    )
    .unwrap();
    std::fs::write(app.path("code"), "3").unwrap();
    let red = app.run(vec![step("build", "sh build.sh")]).await;
    assert_eq!(red.status, BuildStatus::Failed);
    let summary = app.client.build_detail(red.id).await.unwrap().log_summary;
    let first = summary
        .errors
        .iter()
        .find(|d| summary.root_causes.contains(&d.id))
        .expect("a root cause");
    assert_eq!(first.message, "main.tf", "{summary:?}");
    assert_eq!(first.tool, "novelty");
    assert!(
        summary
            .errors
            .iter()
            .all(|d| !d.message.contains("Unable to open CLI configuration")),
        "{summary:?}"
    );
}
