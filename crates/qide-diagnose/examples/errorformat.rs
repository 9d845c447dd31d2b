//! Scores the engine on the errorformat fixtures (`shared/data/errorformat`):
//! real output of about 50 compilers and linters (`NAME.in`), each with the
//! entries a correct parser extracts from it (`NAME.ok`, one per line as
//! `file|line col N type| message`). Most of these tools have no parser of
//! their own in QIDE, so this measures how far the generic forms carry on
//! output the engine was not written for.
//!
//! For each tool it prints how many expected locations (file and line) some
//! diagnostic names, and how many diagnostics name a location that is not
//! expected (noise); then the totals. `--misses` lists the locations not
//! found.
//!
//! ```text
//! cargo run --release -p qide-diagnose --example errorformat -- ../shared/data/errorformat [--misses]
//! ```
//!
//! A file matches when one path ends with the other at a `/` or `\`
//! boundary (tools print `./a.rb` or absolute paths where the fixture says
//! `a.rb`). An expected entry without a line is matched by file alone.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::ExitCode,
};

use qide_diagnose::LogDiagnoser;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: errorformat DIR [--misses] (DIR holds NAME.in and NAME.ok)");
        return ExitCode::from(2);
    };
    let misses = args.any(|a| a == "--misses");
    match run(&dir, misses) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("errorformat: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A location an entry or a diagnostic names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Location {
    file: String,
    line: Option<u32>,
}

fn run(dir: &Path, show_misses: bool) -> std::io::Result<()> {
    let mut names: Vec<String> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".ok").map(str::to_string)
        })
        .collect();
    names.sort();
    let (mut found_all, mut expected_all, mut noise_all, mut tools_full) = (0, 0, 0, 0);
    println!(
        "{:<16} {:>6} {:>9} {:>6}",
        "tool", "found", "expected", "noise"
    );
    for name in &names {
        let input = fs::read(dir.join(format!("{name}.in")))?;
        let expected = expected(&fs::read_to_string(dir.join(format!("{name}.ok")))?);
        let reported = reported(&input);
        let found: Vec<&Location> = expected
            .iter()
            .filter(|e| reported.iter().any(|r| matches(e, r)))
            .collect();
        let noise = reported
            .iter()
            .filter(|r| !expected.iter().any(|e| matches(e, r)))
            .count();
        println!(
            "{name:<16} {:>6} {:>9} {noise:>6}",
            found.len(),
            expected.len()
        );
        if show_misses {
            for missing in expected.iter().filter(|e| !found.contains(e)) {
                println!("    missed {}:{}", missing.file, show_line(missing.line));
            }
        }
        found_all += found.len();
        expected_all += expected.len();
        noise_all += noise;
        tools_full += usize::from(found.len() == expected.len());
    }
    println!(
        "locations found {found_all}/{expected_all} ({:.1}%), tools fully covered {tools_full}/{}, \
         noise {noise_all}",
        100.0 * found_all as f64 / expected_all.max(1) as f64,
        names.len()
    );
    Ok(())
}

fn show_line(line: Option<u32>) -> String {
    line.map_or_else(|| "-".to_string(), |n| n.to_string())
}

/// The distinct locations of a `.ok` file.
fn expected(text: &str) -> BTreeSet<Location> {
    text.lines()
        .filter_map(|entry| {
            let (file, rest) = entry.split_once('|')?;
            let (position, _) = rest.split_once('|')?;
            let line = position.split_whitespace().next()?.parse().ok();
            Some(Location {
                file: file.trim().to_string(),
                line,
            })
        })
        .filter(|l| !l.file.is_empty())
        .collect()
}

/// The distinct locations the engine's diagnostics name, warnings included.
fn reported(input: &[u8]) -> BTreeSet<Location> {
    let mut diagnoser = LogDiagnoser::new();
    let text = String::from_utf8_lossy(input);
    for (i, line) in text.split('\n').enumerate() {
        diagnoser.push_line(i as u64 + 1, line.strip_suffix('\r').unwrap_or(line));
    }
    diagnoser
        .finish()
        .diagnostics
        .into_iter()
        .filter_map(|d| {
            Some(Location {
                file: d.file?,
                line: d.line,
            })
        })
        .collect()
}

/// Whether a reported location is the expected one.
fn matches(expected: &Location, reported: &Location) -> bool {
    (expected.line.is_none() || expected.line == reported.line)
        && same_file(&expected.file, &reported.file)
}

fn same_file(a: &str, b: &str) -> bool {
    let a = a.trim_start_matches("./");
    let b = b.trim_start_matches("./");
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    long == short
        || long
            .strip_suffix(short)
            .is_some_and(|head| head.ends_with('/') || head.ends_with('\\'))
}
