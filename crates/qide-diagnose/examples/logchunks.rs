//! Runs the engine over every log of the LogChunks data set and writes, per
//! log, the line ranges QIDE would put in the failure packet, in the JSON
//! lines format `shared/tools/logchunks_score.py` reads.
//!
//! ```text
//! cargo run --release -p qide-diagnose --example logchunks -- ../shared/data/logchunks > reported.jsonl
//! python3 ../shared/tools/logchunks_score.py reported.jsonl
//! ```
//!
//! "Reported" is what the server keeps as root causes: every Error-severity
//! diagnostic with `root_cause` set (the engine's own fallback included).
//! Cascade errors and warnings are left out, as the server leaves them out
//! of the packet. Each output record also carries `by_tool` (each
//! diagnostic's tool and range, for finding what went wrong) and `tokens`, the reported
//! lines' cleaned text (ANSI escapes and carriage-return overwrites
//! removed) in bytes / 4, rounded up: the estimate the server uses.

use std::{
    fs,
    io::{self, BufRead, BufWriter, Write},
    path::{Path, PathBuf},
    process::ExitCode,
};

use qide_diagnose::{LogDiagnoser, Severity, strip_ansi};

fn main() -> ExitCode {
    let Some(data) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: logchunks DATA_DIR (the folder holding labels.jsonl and logs/)");
        return ExitCode::from(2);
    };
    match run(&data) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("logchunks: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(data: &Path) -> io::Result<()> {
    let labels = fs::File::open(data.join("labels.jsonl"))?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for line in io::BufReader::new(labels).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let label: serde_json::Value = serde_json::from_str(&line).map_err(io::Error::other)?;
        let Some(log) = label["log"].as_str() else {
            return Err(io::Error::other(format!("label without log: {line}")));
        };
        let bytes = fs::read(data.join("logs").join(log))?;
        let lines = split_lines(&bytes);
        let reported = reported(&lines);
        let ranges = merged(reported.iter().map(|r| r.1).collect());
        let tokens: usize = ranges
            .iter()
            .flat_map(|&(a, b)| &lines[a as usize - 1..b as usize])
            .map(|l| cleaned_len(l) + 1)
            .sum::<usize>()
            .div_ceil(4);
        let record = serde_json::json!({
            "log": log,
            "lines": ranges,
            "tokens": tokens,
            "by_tool": reported,
        });
        writeln!(out, "{record}")?;
    }
    out.flush()
}

/// The log's lines split at LF only, as the labels count them; the empty
/// piece after a final newline is not a line.
fn split_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// The tool and log range of each root-cause error found in `lines`.
fn reported(lines: &[&[u8]]) -> Vec<(String, (u64, u64))> {
    let mut diagnoser = LogDiagnoser::new();
    for (i, line) in lines.iter().enumerate() {
        diagnoser.push_line(i as u64 + 1, &String::from_utf8_lossy(line));
    }
    diagnoser
        .finish()
        .diagnostics
        .into_iter()
        .filter(|d| d.severity == Severity::Error && d.root_cause)
        .map(|d| (d.tool, d.log_lines))
        .collect()
}

/// `ranges` sorted, with overlapping and adjacent ones merged, so no line
/// is counted twice.
fn merged(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// Bytes of what a reader sees of a raw line: the text after its last
/// carriage return, without escape sequences.
fn cleaned_len(line: &[u8]) -> usize {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches('\r');
    let visible = text.rsplit('\r').next().unwrap_or("");
    strip_ansi(visible).trim_end().len()
}
