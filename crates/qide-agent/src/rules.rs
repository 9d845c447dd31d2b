//! Analyses without a model: reuse of a fix that worked before, and rules
//! per failure kind and category. Their confidence is honest: a rule that
//! only names the failing step is not sure of much.

use qide_api as api;

use crate::Analysis;

/// Most root causes named in one analysis.
const MAX_CAUSES: usize = 5;

fn location(d: &api::Diagnostic) -> String {
    match (&d.file, d.line) {
        (Some(file), Some(line)) => format!("{file}:{line}"),
        (Some(file), None) => file.clone(),
        _ => "the log".to_owned(),
    }
}

/// A failure of this build seen before, whose report was followed by a green
/// build: its recommendations are reused.
pub fn known_fix(packet: &api::BuildDetail) -> Option<Analysis> {
    let issue = packet
        .known_issues
        .iter()
        .find(|issue| issue.resolved_build.is_some() && !issue.reports.is_empty())?;
    let report = issue.reports.last()?;
    let resolved = issue.resolved_build?;
    Some(Analysis {
        analysis: format!(
            "This failure ({}: {}) was seen in {} builds since build #{}; after the report on \
             build #{} it was resolved by build #{} and has now come back. That report said: {}",
            issue.category,
            issue.message,
            issue.occurrences,
            issue.first_build,
            report.build_id,
            resolved,
            report.analysis
        ),
        recommendations: report.recommendations.clone(),
        confidence: 0.8,
        source: "known_fix",
        model: None,
    })
}

/// A packet whose every failure is a known-flaky test (each failed and
/// passed on one working tree before, though not yet on this one).
fn flaky_by_history(packet: &api::BuildDetail) -> Option<Analysis> {
    let summary = &packet.log_summary;
    if summary.failure_category.as_deref() != Some("flaky") || summary.tests.failures.is_empty() {
        return None;
    }
    let names: Vec<&str> = summary
        .tests
        .failures
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    Some(Analysis {
        analysis: format!(
            "Flaky: every failed test ({}) is known to fail and pass on unchanged code; the \
             failure is likely not caused by this change.",
            names.join(", ")
        ),
        recommendations: vec![
            "rerun only the failed tests on the same tree (`qide run --rerun-failed 3`) to \
             confirm"
                .to_owned(),
            format!(
                "make {} deterministic: look for timing, test order, shared state, randomness \
                 or network",
                names.join(", ")
            ),
        ],
        confidence: 0.65,
        source: "rules",
        model: None,
    })
}

/// The rules' analysis of a failure packet.
pub fn analyse(packet: &api::BuildDetail) -> Analysis {
    if let Some(by_history) = flaky_by_history(packet) {
        return by_history;
    }
    if let Some(flaky) = &packet.flaky {
        let tests = if flaky.tests.is_empty() {
            String::new()
        } else {
            format!(" (failing here: {})", flaky.tests.join(", "))
        };
        return Analysis {
            analysis: format!(
                "Flaky: the same code (tree {}) built green in build #{}{tests}; the failure is \
                 not caused by a code change.",
                flaky.tree_hash, flaky.passed_build
            ),
            recommendations: vec![
                "rerun the build; if it fails again on the same tree, look for order-dependent \
                 tests, timing, shared state or network in the failing tests"
                    .to_owned(),
            ],
            confidence: 0.75,
            source: "rules",
            model: None,
        };
    }
    let build = &packet.build;
    let summary = &packet.log_summary;
    let failed_step = build
        .steps
        .iter()
        .flatten()
        .find(|s| s.status == "failed" || s.status == "error")
        .map(|s| format!("step {:?} (`{}`)", s.name, s.run))
        .unwrap_or_else(|| "the build".to_owned());
    let causes: Vec<&api::Diagnostic> = summary
        .errors
        .iter()
        .filter(|d| d.root_cause)
        .take(MAX_CAUSES)
        .collect();
    let cause_lines: Vec<String> = causes
        .iter()
        .map(|d| format!("{}: {}", location(d), d.message))
        .collect();

    let (analysis, mut recommendations, confidence) = match build.failure_kind.as_deref() {
        Some("timeout") => (
            format!("{failed_step} ran past its timeout and was stopped."),
            vec![
                "look for a hang (a test waiting on a lock, network or input) in the last lines of the log".to_owned(),
                "if the work is just slow, raise timeout_s for the step in qide.toml".to_owned(),
            ],
            0.6,
        ),
        Some("no_output_timeout") => (
            format!("{failed_step} printed nothing for too long and was stopped: it is probably stuck."),
            vec!["find what the step waits on (input, a lock, a server that never starts)".to_owned()],
            0.6,
        ),
        Some("command_not_found") => (
            format!("{failed_step} could not run: the shell did not find a command."),
            vec!["install the missing tool or fix the command's spelling in qide.toml".to_owned()],
            0.7,
        ),
        Some("signal") => (
            format!("{failed_step} was killed by a signal (a crash or the OOM killer)."),
            vec!["run the step under a debugger or with more memory to see where it dies".to_owned()],
            0.5,
        ),
        _ => by_category(summary, &failed_step, &cause_lines),
    };
    // Flaky tests are named as such, not as failures to fix.
    let flaky: Vec<String> = summary
        .tests
        .failures
        .iter()
        .filter(|f| f.flaky)
        .map(|f| match f.passed_in {
            Some(build) => format!("{} (passed on the same tree in build #{build})", f.name),
            None => format!("{} (known flaky)", f.name),
        })
        .collect();
    if !flaky.is_empty() {
        recommendations.push(format!(
            "these failed tests are flaky, not broken by the change: {}",
            flaky.join(", ")
        ));
    }
    for failure in summary
        .tests
        .failures
        .iter()
        .filter(|f| !f.flaky)
        .take(MAX_CAUSES)
    {
        let at = match (&failure.file, failure.line) {
            (Some(f), Some(l)) => format!(" at {f}:{l}"),
            _ => String::new(),
        };
        recommendations.push(format!(
            "make test {} pass{at}{}",
            failure.name,
            failure
                .message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ));
    }
    recommendations.dedup();
    Analysis {
        analysis,
        recommendations,
        confidence,
        source: "rules",
        model: None,
    }
}

fn by_category(
    summary: &api::LogSummary,
    failed_step: &str,
    causes: &[String],
) -> (String, Vec<String>, f64) {
    let listed = if causes.is_empty() {
        String::new()
    } else {
        format!(": {}", causes.join("; "))
    };
    let fix_each = || {
        causes
            .iter()
            .map(|c| format!("fix {c}"))
            .collect::<Vec<_>>()
    };
    match summary.failure_category.as_deref() {
        Some("compile_error") => (
            format!("{failed_step} failed to compile{listed}."),
            fix_each(),
            0.7,
        ),
        Some("syntax_error") => (
            format!("{failed_step} hit a syntax error{listed}."),
            fix_each(),
            0.75,
        ),
        Some("missing_dependency") => (
            format!("{failed_step} is missing a dependency{listed}."),
            vec!["add the missing package to the project's dependencies and install it".to_owned()],
            0.65,
        ),
        Some("test_failure") => (
            format!("{failed_step} ran and tests failed{listed}."),
            Vec::new(),
            0.6,
        ),
        Some("lint") => (
            format!("{failed_step} failed on lint findings{listed}."),
            fix_each(),
            0.6,
        ),
        Some("out_of_memory") => (
            format!("{failed_step} ran out of memory{listed}."),
            vec!["reduce parallelism (e.g. -j1) or give the build more memory".to_owned()],
            0.6,
        ),
        Some("network") => (
            format!(
                "{failed_step} failed on the network{listed}; this is likely not a code problem."
            ),
            vec![
                "retry the build; if it persists, check proxies, DNS and registry access"
                    .to_owned(),
            ],
            0.55,
        ),
        Some("config_error") => (
            format!("{failed_step} is misconfigured{listed}."),
            vec!["check the step's command and the build configuration".to_owned()],
            0.5,
        ),
        Some(other) => (
            format!("{failed_step} failed ({other}){listed}."),
            fix_each(),
            0.4,
        ),
        None => (
            format!(
                "{failed_step} failed without an error QIDE could recognise; see the log's tail."
            ),
            vec!["read the last lines of the log (GET /build/{id}/log?tail=50)".to_owned()],
            0.2,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(name: &str, flaky: bool, passed_in: Option<i64>) -> api::TestFailure {
        api::TestFailure {
            name: name.to_owned(),
            message: Some("assertion failed".to_owned()),
            file: None,
            line: None,
            flaky,
            passed_in,
        }
    }

    fn packet(category: &str, failures: Vec<api::TestFailure>) -> api::BuildDetail {
        api::BuildDetail {
            build: api::Build {
                id: 3,
                status: api::BuildStatus::Failed,
                trigger: "cli".to_owned(),
                commit: None,
                branch: None,
                dirty: None,
                tree_hash: Some("b3:t".to_owned()),
                created_at: "2026-11-26T10:00:00Z".to_owned(),
                started_at: None,
                finished_at: None,
                duration_ms: None,
                exit_code: Some(101),
                failure_kind: Some("exit_non_zero".to_owned()),
                failure_category: Some(category.to_owned()),
                error_count: 0,
                warning_count: 0,
                report_count: 0,
                log_line_count: 0,
                log_dropped: None,
                steps: None,
                rerun_of: None,
            },
            log_summary: api::LogSummary {
                failure_category: Some(category.to_owned()),
                tests: api::TestSummary {
                    failed: failures.len() as u64,
                    failures,
                    ..Default::default()
                },
                ..Default::default()
            },
            reports: vec![],
            known_issues: vec![],
            suspect_changes: None,
            truncated: false,
            tokens: 0,
            budget_tokens: 2000,
            next_cursor: None,
            flaky: None,
        }
    }

    #[test]
    fn known_flaky_tests_alone_make_a_flaky_analysis() {
        let p = packet("flaky", vec![failure("tests::random", true, None)]);
        let a = analyse(&p);
        assert!(a.analysis.starts_with("Flaky: "), "{}", a.analysis);
        assert!(a.analysis.contains("tests::random"));
        assert!(a.recommendations[0].contains("--rerun-failed"));
    }

    #[test]
    fn tests_that_passed_on_the_same_tree_cite_the_build() {
        let mut p = packet("flaky", vec![failure("tests::random", true, Some(5))]);
        p.flaky = Some(api::Flaky {
            passed_build: 5,
            tree_hash: "b3:t".to_owned(),
            tests: vec!["tests::random".to_owned()],
        });
        // Category flaky goes to the history rule first; with the evidence
        // of a pass on this tree, the build-level rule speaks.
        p.log_summary.failure_category = Some("test_failure".to_owned());
        let a = analyse(&p);
        assert!(a.analysis.contains("build #5"), "{}", a.analysis);
        assert!(a.analysis.contains("tests::random"));
        assert!(a.confidence > 0.7);
    }

    #[test]
    fn a_real_failure_beside_a_flaky_one_is_the_one_to_fix() {
        let p = packet(
            "test_failure",
            vec![
                failure("tests::random", true, Some(5)),
                failure("tests::broken", false, None),
            ],
        );
        let a = analyse(&p);
        assert!(!a.analysis.starts_with("Flaky"), "{}", a.analysis);
        let fix: Vec<&String> = a
            .recommendations
            .iter()
            .filter(|r| r.starts_with("make test "))
            .collect();
        assert_eq!(fix.len(), 1, "{:?}", a.recommendations);
        assert!(fix[0].contains("tests::broken"));
        assert!(
            a.recommendations.iter().any(|r| r.contains("flaky")
                && r.contains("tests::random (passed on the same tree in build #5)")),
            "{:?}",
            a.recommendations
        );
    }
}
