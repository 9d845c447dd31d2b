//! The finished build's log summary: the log streamed from the store through
//! `qide-diagnose`, turned into the wire's `log_summary` with source snippets
//! from the project, and stored with the build.
//!
//! Two inputs join the log: the last successful log of the same steps,
//! streamed first into a `qide_diagnose::Baseline` so that a log no parser
//! understands is answered with what is new since then; and the JUnit XML
//! reports the runner found, whose tests join those the log showed.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use qide_api as api;
use qide_diagnose::{Baseline, Diagnosis, LogDiagnoser, Severity, TestCase, TestOutcome};
use qide_runner::{Diagnose, TestReports};
use qide_store::{BuildFilter, BuildRecord, BuildStatus, DiagnosisRecord, FingerprintSeen, Store};

use crate::convert::clean_for_model;

/// Lines of the log's end kept in `tail`.
const TAIL_LINES: usize = 20;
/// Chunks read from the store per query while streaming a log (each up to
/// about a MiB: memory, not round trips, is what this bounds).
const CHUNKS_PER_READ: i64 = 2;
/// Source lines shown before and after a diagnostic's line.
const SNIPPET_CONTEXT: u32 = 3;
/// Successful builds looked at, newest first, for one with the same steps.
const GREEN_CANDIDATES: i64 = 20;

/// Diagnoses finished builds for the runner.
pub struct LogSummarizer {
    pub store: Arc<dyn Store>,
    pub root: PathBuf,
}

#[async_trait::async_trait]
impl Diagnose for LogSummarizer {
    async fn diagnose(
        &self,
        build: &BuildRecord,
        reports: &TestReports,
    ) -> Option<DiagnosisRecord> {
        match summarize_build(self.store.as_ref(), &self.root, build.id, reports).await {
            Ok((summary, tests)) => {
                let fingerprints = summary
                    .errors
                    .iter()
                    .filter(|d| d.root_cause)
                    .map(|d| FingerprintSeen {
                        fingerprint: d.fingerprint.clone(),
                        category: d.category.clone(),
                        tool: d.tool.clone(),
                        code: d.code.clone(),
                        message: d.message.clone(),
                        file: d.file.clone(),
                    })
                    .collect();
                let record = DiagnosisRecord {
                    error_count: summary.error_count,
                    warning_count: summary.warning_count,
                    failure_category: summary.failure_category.clone(),
                    summary: serde_json::to_vec(&summary).ok()?,
                    fingerprints,
                    tests,
                };
                Some(record)
            }
            Err(e) => {
                tracing::error!(build = build.id, %e, "diagnosing build log");
                None
            }
        }
    }

    async fn finished(&self, build_id: i64) {
        match crate::flaky::relabel_flaky_builds(self.store.as_ref(), build_id).await {
            Ok(relabelled) if !relabelled.is_empty() => {
                tracing::info!(
                    build = build_id,
                    ?relabelled,
                    "builds found to fail only on flaky tests"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(build = build_id, %e, "relabelling flaky builds"),
        }
    }
}

/// Reads a build's whole log from the store, chunk by chunk, and summarises
/// it with the tests of the JUnit `reports` its steps wrote; also returns
/// every test result seen, for the store's per-test history.
pub(crate) async fn summarize_build(
    store: &dyn Store,
    root: &Path,
    build_id: i64,
    reports: &TestReports,
) -> Result<(api::LogSummary, Vec<qide_store::TestResult>), qide_store::StoreError> {
    let mut diagnoser = LogDiagnoser::with_project_root(&root.to_string_lossy());
    if let Some(green) = last_green_of_same_steps(store, build_id).await? {
        let mut baseline = Baseline::new();
        for_each_line(store, green, |_, text| baseline.push_line(text)).await?;
        tracing::debug!(
            build = build_id,
            green,
            lines = baseline.lines_read(),
            "comparing with the last green log"
        );
        diagnoser = diagnoser.with_baseline(baseline);
    }
    let mut tail: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    for_each_line(store, build_id, |n, text| {
        diagnoser.push_line(n, text);
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(text.to_owned());
    })
    .await?;
    let mut diagnosis = diagnoser.finish();
    merge_reported_tests(&mut diagnosis.tests, reports.tests());
    let tests = crate::flaky::test_results(&diagnosis.tests, &store.list_steps(build_id).await?);
    let root = root.to_path_buf();
    let summary = tokio::task::spawn_blocking(move || to_summary(diagnosis, &root, tail.into()))
        .await
        .map_err(|e| qide_store::StoreError::Corrupt(format!("summary task: {e}")))?;
    Ok((summary, tests))
}

/// Streams a build's stored log, line by line with its number, without
/// holding more than [`CHUNKS_PER_READ`] chunks.
async fn for_each_line(
    store: &dyn Store,
    build_id: i64,
    mut line: impl FnMut(u64, &str),
) -> Result<(), qide_store::StoreError> {
    let mut from = 1;
    loop {
        let chunks = store
            .log_chunks_from(build_id, from, CHUNKS_PER_READ)
            .await?;
        let Some(last) = chunks.last() else { break };
        let next = last.last_line() + 1;
        for chunk in &chunks {
            for (n, _stream, text) in chunk.lines() {
                if n < from {
                    continue;
                }
                line(n as u64, &String::from_utf8_lossy(text));
            }
        }
        if next <= from {
            break;
        }
        from = next;
    }
    Ok(())
}

/// The newest successful build before `build_id` whose steps (names and
/// commands) are the same: its log is what this one's is compared with.
async fn last_green_of_same_steps(
    store: &dyn Store,
    build_id: i64,
) -> Result<Option<i64>, qide_store::StoreError> {
    let key = |steps: Vec<qide_store::StepRecord>| -> Vec<(String, String)> {
        steps.into_iter().map(|s| (s.name, s.run)).collect()
    };
    let steps = key(store.list_steps(build_id).await?);
    let (greens, _) = store
        .list_builds(&BuildFilter {
            status: Some(BuildStatus::Success),
            skip: 0,
            limit: GREEN_CANDIDATES,
        })
        .await?;
    for green in greens.into_iter().filter(|b| b.id < build_id) {
        if key(store.list_steps(green.id).await?) == steps {
            return Ok(Some(green.id));
        }
    }
    Ok(None)
}

/// Adds the tests of JUnit reports to those read from the log. A test the
/// log already showed keeps the log's entry (it has a log line) and gains
/// what the report adds (a message, a location); names are compared after
/// separators are unified, and a report's name may carry a prefix the log
/// leaves out (nextest's binary, a Java package).
fn merge_reported_tests<'a>(
    tests: &mut Vec<TestCase>,
    reported: impl Iterator<Item = &'a TestCase>,
) {
    let mut index: std::collections::HashMap<String, usize> = tests
        .iter()
        .enumerate()
        .map(|(i, t)| (comparable_test_name(&t.name), i))
        .collect();
    for case in reported {
        let name = comparable_test_name(&case.name);
        let known = std::iter::once(name.as_str())
            .chain(name.match_indices('.').map(|(i, _)| &name[i + 1..]))
            .find_map(|suffix| index.get(suffix).copied());
        match known {
            Some(i) => {
                let test = &mut tests[i];
                if test.outcome != TestOutcome::Failed && case.outcome == TestOutcome::Failed {
                    test.outcome = TestOutcome::Failed;
                }
                if test.message.is_none() {
                    test.message.clone_from(&case.message);
                }
                if test.file.is_none() {
                    test.file.clone_from(&case.file);
                    test.line = test.line.or(case.line);
                }
            }
            None => {
                index.insert(name, tests.len());
                tests.push(case.clone());
            }
        }
    }
}

/// A test name with its runner's separators (`::`, `/`, ` > `, ` › `,
/// spaces) made `.` and a Python file's `.py` dropped, so the log's and a
/// report's names for one test compare equal.
fn comparable_test_name(name: &str) -> String {
    let mut out = name.replace(".py::", ".");
    for separator in ["::", " › ", " > ", "/", " "] {
        out = out.replace(separator, ".");
    }
    out
}

/// The wire summary of a diagnosis.
pub(crate) fn to_summary(diagnosis: Diagnosis, root: &Path, tail: Vec<String>) -> api::LogSummary {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut root_causes = Vec::new();
    // Cascade errors ("could not compile", "make: *** Error 2", the test
    // harness' final FAILED) only repeat a root cause: they stay in the log
    // and its tail, not in the packet.
    let kept = diagnosis
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning || d.root_cause);
    for (i, d) in kept.enumerate() {
        let id = format!("d{}", i + 1);
        if d.root_cause && d.severity == Severity::Error {
            root_causes.push(id.clone());
        }
        let snippet = match (&d.file, d.line) {
            (Some(file), Some(line)) => snippet(root, file, line),
            _ => None,
        };
        let wire = api::Diagnostic {
            id,
            severity: d.severity.as_str().to_owned(),
            tool: d.tool.clone(),
            code: d.code.clone(),
            message: clean_for_model(&d.message),
            file: d.file.clone(),
            line: d.line,
            column: d.column,
            end_line: d.end_line,
            end_column: d.end_column,
            snippet,
            log_lines: [d.log_lines.0, d.log_lines.1],
            root_cause: d.root_cause,
            category: d.category.as_str().to_owned(),
            fingerprint: d.fingerprint.clone(),
            suggestion: None,
        };
        match d.severity {
            Severity::Error => errors.push(wire),
            Severity::Warning => warnings.push(wire),
        }
    }
    let mut tests = api::TestSummary::default();
    for case in &diagnosis.tests {
        match case.outcome {
            TestOutcome::Passed => tests.passed += 1,
            TestOutcome::Skipped => tests.skipped += 1,
            TestOutcome::Failed => {
                tests.failed += 1;
                tests.failures.push(api::TestFailure {
                    name: case.name.clone(),
                    message: case.message.as_deref().map(clean_for_model),
                    file: case.file.clone(),
                    line: case.line,
                    flaky: false,
                    passed_in: None,
                });
            }
        }
    }
    api::LogSummary {
        error_count: errors.len() as i64,
        warning_count: warnings.len() as i64,
        errors,
        warnings,
        failure_category: diagnosis.category.map(|c| c.as_str().to_owned()),
        root_causes,
        tests,
        tail: tail.iter().map(|l| clean_for_model(l)).collect(),
    }
}

/// The source lines around `line` of `file`, if the file is inside the
/// project and readable as text.
fn snippet(root: &Path, file: &str, line: u32) -> Option<api::Snippet> {
    let path = Path::new(file);
    let relative = if path.is_absolute() {
        path.strip_prefix(root).ok()?
    } else {
        path
    };
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return None;
    }
    let full = root.join(relative);
    let canonical = full.canonicalize().ok()?;
    if !canonical.starts_with(root.canonicalize().ok()?) {
        return None;
    }
    let meta = std::fs::metadata(&canonical).ok()?;
    if !meta.is_file() || meta.len() > 4 << 20 {
        return None;
    }
    let text = std::fs::read(&canonical).ok()?;
    if text.contains(&0) {
        return None;
    }
    let text = String::from_utf8_lossy(&text);
    let start = line.saturating_sub(SNIPPET_CONTEXT).max(1);
    let end = line.saturating_add(SNIPPET_CONTEXT);
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .skip(start as usize - 1)
        .take_while(|(i, _)| (*i as u32) < end)
        .map(|(_, l)| clean_for_model(l))
        .collect();
    if lines.is_empty() {
        return None;
    }
    Some(api::Snippet {
        start_line: start,
        lines,
    })
}

/// The summary of an unfinished build: nothing diagnosed yet, and the tail
/// of what it has printed so far.
pub(crate) async fn live_summary(
    store: &dyn Store,
    build_id: i64,
) -> Result<api::LogSummary, qide_store::StoreError> {
    let chunks = store.log_chunks_last(build_id, 2).await?;
    let mut lines: Vec<String> = chunks
        .iter()
        .flat_map(|c| {
            c.lines()
                .map(|(_, _, t)| clean_for_model(&String::from_utf8_lossy(t)))
                .collect::<Vec<_>>()
        })
        .collect();
    let skip = lines.len().saturating_sub(TAIL_LINES);
    lines.drain(..skip);
    Ok(api::LogSummary {
        tail: lines,
        ..Default::default()
    })
}
