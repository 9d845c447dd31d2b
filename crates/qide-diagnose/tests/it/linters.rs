//! Linters and checkers QIDE has no parser of its own for, read by the
//! located-findings form: real output from the errorformat project's
//! fixtures (`test_data/errorformat/`, MIT, see its LICENSE), each `NAME.in`
//! with the entries a correct parser extracts from it in `NAME.ok`
//! (`file|line col N type| message`). Every expected location must be
//! reported, and nothing else that names a location.

use std::{collections::BTreeSet, path::Path};

use crate::diagnose;

const TOOLS: &[&str] = &[
    "ansible-lint",
    "bandit",
    "black",
    "buf",
    "dotenv-linter",
    "erb-lint",
    "eslint-compact",
    "fasterer",
    "govet",
    "haml-lint",
    "hlint",
    "isort",
    "luacheck",
    "misspell",
    "phpstan",
    "protolint",
    "psalm",
    "puppet-lint",
    "pydocstyle",
    "reek",
    "remark-lint",
    "sbt",
    "scalastyle",
    "slim-lint",
    "sorbet",
    "standardjs",
    "standardrb",
    "stylelint",
    "tslint",
    "yamllint",
];

/// The distinct (file, line) pairs of a `.ok` file; the line is `None`
/// for an entry that names a severity but no line (isort). Entries with
/// neither (black's `would reformat` list) are not findings.
fn expected(text: &str) -> BTreeSet<(String, Option<u32>)> {
    text.lines()
        .filter_map(|entry| {
            let (file, rest) = entry.split_once('|')?;
            let (position, _) = rest.split_once('|')?;
            let first = position.split_whitespace().next()?;
            // QIDE reports `./main.go` as `main.go`.
            Some((
                file.trim().trim_start_matches("./").to_string(),
                first.parse().ok(),
            ))
        })
        .filter(|(file, _)| !file.is_empty())
        .collect()
}

#[test]
fn every_expected_location_and_nothing_else() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/errorformat");
    for tool in TOOLS {
        let input = std::fs::read(dir.join(format!("{tool}.in"))).expect("fixture");
        let ok = std::fs::read_to_string(dir.join(format!("{tool}.ok"))).expect("fixture");
        let reported: BTreeSet<(String, Option<u32>)> = diagnose(&String::from_utf8_lossy(&input))
            .diagnostics
            .into_iter()
            .filter_map(|d| Some((d.file?, d.line)))
            .collect();
        assert_eq!(reported, expected(&ok), "{tool}");
    }
}

#[test]
fn findings_of_a_failed_lint_step_are_its_root_causes() {
    let log = "\
[qide] step \"lint\" started: luacheck .
format.lua:5:17: trailing whitespace in a comment
format.lua:50:121: line is too long (126 > 120)
Total: 2 warnings / 0 errors in 1 file
[qide] step \"lint\" exited with code 1 after 0.1s";
    let diagnosis = diagnose(log);
    let roots: Vec<_> = diagnosis
        .diagnostics
        .iter()
        .filter(|d| d.root_cause && d.file.is_some())
        .map(|d| {
            (
                d.file.as_deref().unwrap(),
                d.line.unwrap(),
                d.category.as_str(),
            )
        })
        .collect();
    assert_eq!(
        roots,
        [("format.lua", 5, "lint"), ("format.lua", 50, "lint")]
    );
    // The runner's note is reported too, after the findings, without
    // repeating them as its context.
    let note = diagnosis
        .diagnostics
        .iter()
        .find(|d| d.root_cause && d.file.is_none())
        .expect("the step's failure is reported");
    assert_eq!(note.log_lines, (4, 5));
    assert!(note.message.contains("exited with code 1"), "{note:?}");
}

#[test]
fn findings_of_a_step_that_passed_stay_warnings() {
    let log = "\
format.lua:5:17: trailing whitespace in a comment
[qide] step \"lint\" exited with code 0 after 0.1s
error: could not connect to the test database
[qide] step \"test\" exited with code 1 after 0.1s";
    let diagnosis = diagnose(log);
    let finding = diagnosis
        .diagnostics
        .iter()
        .find(|d| d.file.as_deref() == Some("format.lua"))
        .expect("the finding is kept");
    assert!(!finding.root_cause);
    assert!(
        diagnosis.diagnostics.iter().any(|d| d.root_cause),
        "the failure is still explained: {:?}",
        diagnosis.diagnostics
    );
}

#[test]
fn findings_in_a_log_that_shows_no_failure_stay_warnings() {
    let diagnosis = diagnose("format.lua:5:17: trailing whitespace in a comment\nall done");
    assert_eq!(diagnosis.diagnostics.len(), 1);
    assert!(!diagnosis.diagnostics[0].root_cause);
    assert_eq!(diagnosis.diagnostics[0].severity.as_str(), "warning");
}
