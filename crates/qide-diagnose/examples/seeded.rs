//! Diagnoses one captured build log the way the server does and prints what
//! it found as one JSON object, for `bench/seeded.sh`, which seeds failures
//! into real projects and checks the file and line QIDE reports.
//!
//! ```text
//! cargo run --release -p qide-diagnose --example seeded -- PROJECT_ROOT LOG
//! ```
//!
//! The server reads a build's stored log line by line into a
//! `LogDiagnoser::with_project_root` (`push_line` per line, then `finish`);
//! this does the same with the log file, split at LF. The output holds every
//! Error-severity diagnostic with its root-cause flag (the packet keeps the
//! root causes) and every failed test with the place the runner printed.

use std::{fs, path::PathBuf, process::ExitCode};

use qide_diagnose::{LogDiagnoser, Severity, TestOutcome};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(root), Some(log)) = (args.next(), args.next().map(PathBuf::from)) else {
        eprintln!("usage: seeded PROJECT_ROOT LOG");
        return ExitCode::from(2);
    };
    let bytes = match fs::read(&log) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("seeded: reading {}: {e}", log.display());
            return ExitCode::FAILURE;
        }
    };
    let mut diagnoser = LogDiagnoser::with_project_root(&root.to_string_lossy());
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    // The empty piece after a final newline is not a line.
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    for (i, line) in lines.iter().enumerate() {
        diagnoser.push_line(i as u64 + 1, &String::from_utf8_lossy(line));
    }
    let diagnosis = diagnoser.finish();
    let errors: Vec<_> = diagnosis
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            serde_json::json!({
                "tool": d.tool,
                "code": d.code,
                "message": d.message,
                "file": d.file,
                "line": d.line,
                "root_cause": d.root_cause,
            })
        })
        .collect();
    let failed: Vec<_> = diagnosis
        .tests
        .iter()
        .filter(|t| t.outcome == TestOutcome::Failed)
        .map(|t| {
            serde_json::json!({
                "name": t.name,
                "message": t.message,
                "file": t.file,
                "line": t.line,
            })
        })
        .collect();
    println!(
        "{}",
        serde_json::json!({ "errors": errors, "failed_tests": failed })
    );
    ExitCode::SUCCESS
}
