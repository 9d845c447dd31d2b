//! The comparison with the last green log: a failed build of a tool no
//! parser knows, next to the successful log of the same steps.

use expect_test::expect;
use qide_diagnose::{Baseline, Diagnosis, LogDiagnoser};

use crate::{read_log, render};

fn diagnose_against(failed: &str, green: Option<&str>) -> Diagnosis {
    let mut diagnoser = LogDiagnoser::new();
    if let Some(green) = green {
        let mut baseline = Baseline::new();
        for line in green.split('\n') {
            baseline.push_line(line);
        }
        diagnoser = diagnoser.with_baseline(baseline);
    }
    for (i, line) in failed.split('\n').enumerate() {
        diagnoser.push_line(i as u64 + 1, line);
    }
    diagnoser.finish()
}

#[test]
fn new_lines_since_the_green_log_come_first() {
    let red = read_log("novelty/terraform_fmt_red.log");
    let green = read_log("novelty/terraform_fmt_green.log");
    let diagnosis = diagnose_against(&red, Some(&green));
    // Line 39 names the file `terraform fmt -check` rejected; the diff
    // follows. The warning every command prints is in both logs.
    let first = &diagnosis.diagnostics[0];
    assert!(first.root_cause);
    assert!(
        first.log_lines.0 <= 39 && 39 <= first.log_lines.1,
        "{:?}",
        first.log_lines
    );
    assert!(
        diagnosis
            .diagnostics
            .iter()
            .all(|d| !d.message.contains("Unable to open CLI configuration")),
        "noise the green log printed too is left out"
    );
    expect![[r#"
        category: unknown
        E root novelty new-since-green - unknown L39-46 main.tf
    "#]]
    .assert_eq(&render(&diagnosis));
}

#[test]
fn without_a_green_log_the_error_looking_lines_are_the_answer() {
    let red = read_log("novelty/terraform_fmt_red.log");
    let diagnosis = diagnose_against(&red, None);
    // What a keyword scan can do alone: the warnings, not the diff.
    assert!(
        diagnosis
            .diagnostics
            .iter()
            .all(|d| !(d.log_lines.0 <= 39 && 39 <= d.log_lines.1)),
        "{}",
        render(&diagnosis)
    );
}

#[test]
fn a_green_log_changes_nothing_when_a_parser_found_the_cause() {
    let red = read_log("rustc/type_errors.log");
    let green = read_log("rustc/warnings_only.log");
    assert_eq!(
        render(&diagnose_against(&red, Some(&green))),
        render(&diagnose_against(&red, None))
    );
}
