//! `qide run --rerun-failed N`: after a build that failed in its tests, the
//! failed tests alone run again on the same tree, up to N times, each rerun
//! a real build (trigger `rerun`, linked to the original) whose results the
//! server stores. The server's per-test verdict (a test that failed and
//! passed on the same tree is flaky) decides: only flaky failures → success
//! with a warning; any test that failed every time → failure.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use qide_api as api;
use qide_client::Client;
use qide_runner::FailedTest;

/// The whole packet: every failed test must be seen.
const ALL_TOKENS: u64 = 1_000_000;

/// What `--json` prints after reruns.
#[derive(Debug, serde::Serialize)]
struct Verdict {
    /// `flaky` (every failure passed on a rerun), `failed` (some test
    /// failed every time) or `not_rerun` (no rerun was possible).
    verdict: &'static str,
    /// The build that failed.
    build: api::Build,
    /// The rerun builds, in order.
    reruns: Vec<api::Build>,
    /// Failed tests that passed on the same tree.
    flaky_tests: Vec<String>,
    /// Failed tests that never passed on it.
    failed_tests: Vec<String>,
    /// Why there was no rerun, or what the verdict rests on.
    message: String,
}

/// Reruns the failed tests of `build` (a failed build) up to `times` times
/// and exits with the verdict. `dir` is where package.json is read from
/// (for `npm test` and its kin).
pub(crate) async fn decide(
    c: &Client,
    build: &api::Build,
    times: u32,
    dir: &Path,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut verdict = Verdict {
        verdict: "not_rerun",
        build: build.clone(),
        reruns: Vec::new(),
        flaky_tests: Vec::new(),
        failed_tests: Vec::new(),
        message: String::new(),
    };
    let detail = c
        .build_detail_budgeted(build.id, ALL_TOKENS, None)
        .await
        .context("reading the failed build's tests")?;
    let failures = &detail.log_summary.tests.failures;
    verdict.failed_tests = failures.iter().map(|f| f.name.clone()).collect();
    let other_errors: Vec<&str> = detail
        .log_summary
        .errors
        .iter()
        .filter(|d| d.root_cause && d.category != "test_failure" && d.category != "flaky")
        .map(|d| d.category.as_str())
        .collect();
    let step = detail
        .build
        .steps
        .iter()
        .flatten()
        .find(|s| s.status == "failed");
    let refusal = if failures.is_empty() {
        Some(format!(
            "build #{} failed without failed tests ({}): nothing to rerun",
            build.id,
            detail
                .log_summary
                .failure_category
                .as_deref()
                .unwrap_or("no category")
        ))
    } else if !other_errors.is_empty() {
        Some(format!(
            "build #{} failed with more than tests ({}): not rerun",
            build.id,
            other_errors.join(", ")
        ))
    } else if step.is_none() {
        Some(format!("build #{} has no failed step to rerun", build.id))
    } else {
        None
    };
    if let Some(message) = refusal {
        return finish(verdict, message, json);
    }
    let step = step.expect("checked above");
    let script = package_test_script(dir);
    let mut remaining = unproven(&detail);
    for attempt in 1..=times {
        if remaining.is_empty() {
            break;
        }
        let plan = match qide_runner::rerun_command(&step.run, &remaining, script.as_deref()) {
            Ok(plan) => plan,
            Err(e) => {
                let message = format!("step {:?} of build #{}: {e}", step.name, build.id);
                return finish(verdict, message, json);
            }
        };
        if !json {
            eprintln!(
                "qide: rerun {attempt}/{times} of {} failed test{} on the same tree: $ {}",
                remaining.len(),
                if remaining.len() == 1 { "" } else { "s" },
                plan.command
            );
        }
        let request = api::RunRequest {
            steps: Some(vec![api::StepRequest {
                name: Some(format!("rerun-{}", step.name)),
                run: plan.command,
                timeout_s: step.timeout_s,
                env: Default::default(),
            }]),
            trigger: Some("rerun".to_owned()),
            rerun_of: Some(build.id),
            ..Default::default()
        };
        let accepted = c.run_build(&request).await?;
        let rerun = crate::cli::follow(c, accepted.id, json).await?;
        if rerun.tree_hash != build.tree_hash && !json {
            eprintln!(
                "qide: warning: the working tree changed since build #{}: passes in rerun #{} \
                 do not count for it",
                build.id, rerun.id
            );
        }
        verdict.reruns.push(rerun);
        let detail = c.build_detail_budgeted(build.id, ALL_TOKENS, None).await?;
        remaining = unproven(&detail);
    }
    // The server's labels are the verdict: a failure with `passed_in`
    // passed on this build's tree.
    let detail = c.build_detail_budgeted(build.id, ALL_TOKENS, None).await?;
    let (flaky, real): (Vec<_>, Vec<_>) = detail
        .log_summary
        .tests
        .failures
        .iter()
        .partition(|f| f.passed_in.is_some());
    verdict.flaky_tests = flaky.iter().map(|f| f.name.clone()).collect();
    verdict.failed_tests = real.iter().map(|f| f.name.clone()).collect();
    let message = if real.is_empty() {
        verdict.verdict = "flaky";
        format!(
            "build #{} failed only in flaky tests, which passed on the same tree: {}",
            build.id,
            verdict.flaky_tests.join(", ")
        )
    } else {
        verdict.verdict = "failed";
        let runs = verdict.reruns.len() + 1;
        let mut m = format!(
            "{} of build #{} failed in all {runs} runs: {}",
            plural(real.len(), "test"),
            build.id,
            verdict.failed_tests.join(", ")
        );
        if !flaky.is_empty() {
            m.push_str(&format!(
                "; flaky (passed on a rerun): {}",
                verdict.flaky_tests.join(", ")
            ));
        }
        m
    };
    finish(verdict, message, json)
}

/// The failed tests without a pass on the build's tree yet.
fn unproven(detail: &api::BuildDetail) -> Vec<FailedTest> {
    detail
        .log_summary
        .tests
        .failures
        .iter()
        .filter(|f| f.passed_in.is_none())
        .map(|f| FailedTest {
            name: f.name.clone(),
            file: f.file.clone(),
        })
        .collect()
}

/// package.json's `scripts.test`, if the project has one.
fn package_test_script(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("package.json")).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["scripts"]["test"].as_str().map(str::to_owned)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Prints the verdict and gives the exit code: 0 when every failure was
/// flaky, 1 otherwise.
fn finish(mut verdict: Verdict, message: String, json: bool) -> anyhow::Result<ExitCode> {
    let success = verdict.verdict == "flaky";
    if json {
        verdict.message = message;
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &verdict)?;
        writeln!(out)?;
    } else if success {
        eprintln!("qide: warning: {message}");
    } else {
        eprintln!("qide: {message}");
    }
    Ok(if success {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
