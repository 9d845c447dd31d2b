//! Per-test results and flakiness: the test results a diagnosis hands the
//! store (each with the runner that ran it), and the labels a failure packet
//! gets from them. A test that failed and passed on the same working tree
//! is flaky: its failures are labelled so, not counted as code failures.

use std::collections::HashMap;

use qide_api as api;
use qide_diagnose::{TestCase, TestOutcome};
use qide_store::{FlakyFailure, StepRecord, Store, StoreError, TestResult};

/// The category a build gets when every failure is a flaky test.
pub(crate) const FLAKY: &str = "flaky";

/// The results of `cases` for the store. The runner of each is the test
/// tool of the build's steps; when steps run several, the one whose names
/// the test's has.
///
/// A name the build reports more than once (`tests::it_works` in two crates
/// of a workspace) is left out: the store tells tests apart by name, and two
/// tests under one name, one failing and one passing, would look flaky.
pub(crate) fn test_results(cases: &[TestCase], steps: &[StepRecord]) -> Vec<TestResult> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for case in cases {
        *seen.entry(case.name.as_str()).or_default() += 1;
    }
    let mut tools: Vec<qide_runner::TestTool> = Vec::new();
    for step in steps {
        if let Some(tool) = qide_runner::detect_test_tool(&step.run, None)
            && !tools.contains(&tool)
        {
            tools.push(tool);
        }
    }
    cases
        .iter()
        .filter(|case| seen.get(case.name.as_str()) == Some(&1))
        .map(|case| {
            let tool = match tools.as_slice() {
                [only] => Some(*only),
                several => several.iter().copied().find(|t| t.accepts(&case.name)),
            };
            TestResult {
                name: case.name.clone(),
                tool: tool.map(|t| t.as_str().to_owned()),
                outcome: match case.outcome {
                    TestOutcome::Passed => "passed",
                    TestOutcome::Failed => "failed",
                    TestOutcome::Skipped => "skipped",
                }
                .to_owned(),
                duration_ms: None,
                message: case.message.clone(),
                file: case.file.clone(),
                line: case.line.map(i64::from),
            }
        })
        .collect()
}

/// Gives the category `flaky` to each finished build that, in the light of
/// `build_id` (just finished), failed only on flaky tests: the build itself
/// and the earlier builds whose failed tests it passed on the same tree.
/// The failure packet labels them when read; this makes build lists and
/// statistics agree with it. Returns the builds relabelled.
pub(crate) async fn relabel_flaky_builds(
    store: &dyn Store,
    build_id: i64,
) -> Result<Vec<i64>, StoreError> {
    let mut builds = store.builds_failing_what_passed_in(build_id).await?;
    builds.push(build_id);
    let mut relabelled = Vec::new();
    for id in builds {
        let Some(bytes) = store.diagnosis(id).await? else {
            continue;
        };
        let Ok(mut summary) = serde_json::from_slice::<api::LogSummary>(&bytes) else {
            continue;
        };
        if summary.failure_category.as_deref() == Some(FLAKY) {
            continue;
        }
        let flaky = store.flaky_failures(id).await?;
        if flaky.is_empty() {
            continue;
        }
        label(&mut summary, &flaky);
        if summary.failure_category.as_deref() == Some(FLAKY) {
            store.set_failure_category(id, FLAKY).await?;
            relabelled.push(id);
        }
    }
    Ok(relabelled)
}

/// Whether a diagnostic's message is about test `name`: test failures are
/// reported as `NAME: message` or `NAME failed`.
fn names_test(message: &str, name: &str) -> bool {
    message
        .strip_prefix(name)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(':') || rest.starts_with(' '))
}

/// Marks the failed tests of `summary` that are `flaky` (and the test
/// failure diagnostics about them); when every failure is a flaky test and
/// no other error remains, the summary's category becomes `flaky`. Returns
/// the newest build in which a failed test passed on this tree, when every
/// failed test did.
pub(crate) fn label(summary: &mut api::LogSummary, flaky: &[FlakyFailure]) -> Option<i64> {
    if flaky.is_empty() || summary.tests.failures.is_empty() {
        return None;
    }
    let by_name: HashMap<&str, &FlakyFailure> =
        flaky.iter().map(|f| (f.name.as_str(), f)).collect();
    let mut all_passed_here = true;
    let mut newest_pass = None;
    for failure in &mut summary.tests.failures {
        match by_name.get(failure.name.as_str()) {
            Some(evidence) => {
                failure.flaky = true;
                failure.passed_in = evidence.passed_build;
                if evidence.passed_build.is_none() {
                    all_passed_here = false;
                }
                newest_pass = newest_pass.max(evidence.passed_build);
            }
            None => all_passed_here = false,
        }
    }
    let flaky_names: Vec<&str> = summary
        .tests
        .failures
        .iter()
        .filter(|f| f.flaky)
        .map(|f| f.name.as_str())
        .collect();
    for d in &mut summary.errors {
        if d.category == "test_failure" && flaky_names.iter().any(|n| names_test(&d.message, n)) {
            d.category = FLAKY.to_owned();
        }
    }
    let every_failure_flaky = summary.tests.failures.iter().all(|f| f.flaky);
    if every_failure_flaky && summary.errors.iter().all(|d| d.category == FLAKY) {
        summary.failure_category = Some(FLAKY.to_owned());
    }
    all_passed_here.then_some(newest_pass).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(name: &str) -> api::TestFailure {
        api::TestFailure {
            name: name.to_owned(),
            message: Some("boom".to_owned()),
            file: None,
            line: None,
            flaky: false,
            passed_in: None,
        }
    }

    fn diagnostic(id: &str, message: &str, category: &str) -> api::Diagnostic {
        api::Diagnostic {
            id: id.to_owned(),
            severity: "error".to_owned(),
            tool: "libtest".to_owned(),
            code: None,
            message: message.to_owned(),
            file: None,
            line: None,
            column: None,
            end_line: None,
            end_column: None,
            snippet: None,
            log_lines: [1, 1],
            root_cause: true,
            category: category.to_owned(),
            fingerprint: format!("fp_{id}"),
            suggestion: None,
        }
    }

    fn summary(failures: &[&str], errors: Vec<api::Diagnostic>) -> api::LogSummary {
        api::LogSummary {
            failure_category: Some("test_failure".to_owned()),
            tests: api::TestSummary {
                failed: failures.len() as u64,
                failures: failures.iter().map(|n| failure(n)).collect(),
                ..Default::default()
            },
            errors,
            ..Default::default()
        }
    }

    fn evidence(name: &str, passed_build: Option<i64>) -> FlakyFailure {
        FlakyFailure {
            name: name.to_owned(),
            passed_build,
            flaky_trees: 1,
        }
    }

    #[test]
    fn every_failure_flaky_makes_the_build_flaky() {
        let mut s = summary(
            &["tests::a", "tests::ab"],
            vec![
                diagnostic("d1", "tests::a: assertion failed", "test_failure"),
                diagnostic("d2", "tests::ab failed", "test_failure"),
            ],
        );
        let newest = label(
            &mut s,
            &[
                evidence("tests::a", Some(7)),
                evidence("tests::ab", Some(9)),
            ],
        );
        assert_eq!(newest, Some(9));
        assert_eq!(s.failure_category.as_deref(), Some(FLAKY));
        assert!(s.tests.failures.iter().all(|f| f.flaky));
        assert_eq!(s.tests.failures[0].passed_in, Some(7));
        assert!(s.errors.iter().all(|d| d.category == FLAKY));
    }

    #[test]
    fn a_real_failure_beside_a_flaky_one_keeps_the_category() {
        let mut s = summary(
            &["tests::a", "tests::ab"],
            vec![
                diagnostic("d1", "tests::a: assertion failed", "test_failure"),
                diagnostic("d2", "tests::ab: assertion failed", "test_failure"),
            ],
        );
        // Only tests::a is flaky: tests::ab, whose name starts the same,
        // stays a real failure.
        assert_eq!(label(&mut s, &[evidence("tests::a", Some(7))]), None);
        assert_eq!(s.failure_category.as_deref(), Some("test_failure"));
        assert!(s.tests.failures[0].flaky);
        assert!(!s.tests.failures[1].flaky);
        assert_eq!(s.errors[0].category, FLAKY);
        assert_eq!(s.errors[1].category, "test_failure");
    }

    #[test]
    fn a_compile_error_is_never_hidden_by_flaky_tests() {
        let mut s = summary(
            &["tests::a"],
            vec![
                diagnostic("d1", "tests::a: boom", "test_failure"),
                diagnostic("d2", "mismatched types", "compile_error"),
            ],
        );
        label(&mut s, &[evidence("tests::a", Some(3))]);
        assert_eq!(s.failure_category.as_deref(), Some("test_failure"));
    }

    #[test]
    fn flaky_by_history_labels_but_names_no_passing_build() {
        let mut s = summary(&["tests::a"], vec![]);
        assert_eq!(label(&mut s, &[evidence("tests::a", None)]), None);
        assert!(s.tests.failures[0].flaky);
        assert_eq!(s.tests.failures[0].passed_in, None);
        assert_eq!(s.failure_category.as_deref(), Some(FLAKY));
    }

    #[test]
    fn results_get_the_runner_of_their_step() {
        let case = |name: &str, outcome| TestCase {
            name: name.to_owned(),
            outcome,
            message: None,
            file: None,
            line: Some(4),
        };
        let step = |run: &str| StepRecord {
            run: run.to_owned(),
            ..StepRecord::default()
        };
        let cases = [
            case("tests::a", TestOutcome::Passed),
            case("tests/t.py::test_b", TestOutcome::Failed),
            case("tests::c", TestOutcome::Skipped),
        ];
        let one = test_results(&cases, &[step("cargo build"), step("cargo test")]);
        assert!(one.iter().all(|r| r.tool.as_deref() == Some("cargo-test")));
        assert_eq!(
            one.iter().map(|r| r.outcome.as_str()).collect::<Vec<_>>(),
            ["passed", "failed", "skipped"]
        );
        assert_eq!(one[0].line, Some(4));
        let two = test_results(&cases, &[step("cargo test"), step("python -m pytest")]);
        assert_eq!(two[0].tool.as_deref(), Some("cargo-test"));
        assert_eq!(two[1].tool.as_deref(), Some("pytest"));
        let none = test_results(&cases, &[step("make check")]);
        assert!(none.iter().all(|r| r.tool.is_none()));
    }

    #[test]
    fn a_name_reported_twice_is_kept_out_of_the_history() {
        let case = |name: &str, outcome| TestCase {
            name: name.to_owned(),
            outcome,
            message: None,
            file: None,
            line: None,
        };
        // Two crates' `tests::it_works`: one fails, the other passes.
        let cases = [
            case("tests::it_works", TestOutcome::Failed),
            case("tests::other", TestOutcome::Passed),
            case("tests::it_works", TestOutcome::Passed),
        ];
        let stored = test_results(&cases, &[]);
        let names: Vec<&str> = stored.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["tests::other"]);
    }
}
