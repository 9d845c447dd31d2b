//! Integration tests: real logs captured from real tools under
//! `test_data/`, fed line by line, with the diagnosis rendered as compact
//! text and compared against snapshots (`UPDATE_EXPECT=1` refreshes them).

mod build_tools;
mod fingerprints;
mod junit;
mod linters;
mod logs;
mod novelty;
mod robustness;
mod tools;

use std::{fmt::Write, path::Path};

use qide_diagnose::{Diagnosis, LogDiagnoser, Severity, TestOutcome};

/// Diagnoses a text, line by line with 1-based numbers, as a caller would.
pub(crate) fn diagnose(text: &str) -> Diagnosis {
    let mut diagnoser = LogDiagnoser::new();
    for (i, line) in text.split('\n').enumerate() {
        diagnoser.push_line(i as u64 + 1, line);
    }
    diagnoser.finish()
}

/// Reads a log from `test_data/`.
/// The fingerprints of a log's root causes, in log order.
pub(crate) fn root_fingerprints(text: &str) -> Vec<String> {
    diagnose(text)
        .diagnostics
        .into_iter()
        .filter(|d| d.root_cause)
        .map(|d| d.fingerprint)
        .collect()
}

pub(crate) fn read_log(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test_data")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// One line per diagnostic and per test case, plus the overall category.
pub(crate) fn render(diagnosis: &Diagnosis) -> String {
    let mut out = String::new();
    let category = diagnosis.category.map_or("none", |c| c.as_str());
    let _ = writeln!(out, "category: {category}");
    for d in &diagnosis.diagnostics {
        let severity = match d.severity {
            Severity::Error => "E",
            Severity::Warning => "W",
        };
        let place = match (&d.file, d.line, d.column) {
            (Some(f), Some(l), Some(c)) => format!("{f}:{l}:{c}"),
            (Some(f), Some(l), None) => format!("{f}:{l}"),
            (Some(f), None, _) => f.clone(),
            (None, _, _) => "-".to_string(),
        };
        let _ = writeln!(
            out,
            "{severity} {}{} {} {place} {} L{}-{} {}",
            if d.root_cause { "root " } else { "cascade " },
            d.tool,
            d.code.as_deref().unwrap_or("-"),
            d.category.as_str(),
            d.log_lines.0,
            d.log_lines.1,
            d.message,
        );
    }
    for t in &diagnosis.tests {
        let outcome = match t.outcome {
            TestOutcome::Passed => "passed",
            TestOutcome::Failed => "FAILED",
            TestOutcome::Skipped => "skipped",
        };
        let place = match (&t.file, t.line) {
            (Some(f), Some(l)) => format!(" @ {f}:{l}"),
            (Some(f), None) => format!(" @ {f}"),
            _ => String::new(),
        };
        let message = t
            .message
            .as_deref()
            .map(|m| format!(" | {m}"))
            .unwrap_or_default();
        let _ = writeln!(out, "test {outcome} {}{place}{message}", t.name);
    }
    out
}

/// Diagnoses `test_data/<log>` and compares the rendering with `expect`.
pub(crate) fn check(log: &str, expect: expect_test::Expect) {
    expect.assert_eq(&render(&diagnose(&read_log(log))));
}
