//! Writes every diagnosis of a folder of logs, one `Debug` rendering per
//! log in path order, so a change meant only to make the engine faster can
//! be checked to leave every answer byte for byte the same:
//!
//! ```text
//! cargo run --release -p qide-diagnose --example diagnoses -- ../shared/data/logchunks/logs > before.txt
//! (change the engine)
//! cargo run --release -p qide-diagnose --example diagnoses -- ../shared/data/logchunks/logs > after.txt
//! cmp before.txt after.txt
//! ```
//!
//! Lines are split at LF and fed as the server feeds stored chunks; bytes
//! that are not UTF-8 are replaced. Given a file instead of a folder, it
//! writes that one log's diagnosis (the logs concatenated, say, which also
//! checks the state carried from line to line over a long log).

use std::{
    fs,
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
    process::ExitCode,
};

use qide_diagnose::LogDiagnoser;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: diagnoses DIR|FILE (every *.log under DIR is read)");
        return ExitCode::from(2);
    };
    match run(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("diagnoses: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(dir: &Path) -> io::Result<()> {
    let mut logs = Vec::new();
    if dir.is_file() {
        logs.push(dir.to_path_buf());
    } else {
        collect_logs(dir, &mut logs)?;
    }
    logs.sort();
    let mut out = BufWriter::new(io::stdout().lock());
    for path in &logs {
        let bytes = fs::read(path)?;
        let mut diagnoser = LogDiagnoser::new();
        let text = String::from_utf8_lossy(&bytes);
        let body = text.strip_suffix('\n').unwrap_or(&text);
        for (i, line) in body.split('\n').enumerate() {
            diagnoser.push_line(i as u64 + 1, line);
        }
        writeln!(out, "== {}", path.display())?;
        writeln!(out, "{:#?}", diagnoser.finish())?;
    }
    out.flush()
}

fn collect_logs(dir: &Path, logs: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_logs(&path, logs)?;
        } else if path.extension().is_some_and(|e| e == "log") {
            logs.push(path);
        }
    }
    Ok(())
}
