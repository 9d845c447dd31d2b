//! PHP's `run-tests.php` (PHP itself and its extensions): a failed `.phpt`
//! test prints its diff between `========DIFF========` and
//! `========DONE========`, then `FAIL title [path/to/test.phpt]`. From real
//! CI logs (PHP is not on this machine).

use crate::{
    Category, TestCase, TestOutcome,
    sink::{Draft, Sink},
};

/// How far back a diff may start and still be the failing test's.
const MAX_DIFF_LINES: u64 = 60;

/// Whether `line` opens a failed test's diff.
pub(crate) fn is_diff_start(line: &str) -> bool {
    line.starts_with("========DIFF========")
}

/// `title [path.phpt]` without a verdict: an entry of the closing `FAILED
/// TEST SUMMARY`, which only repeats a failure (a title may well say
/// "Segmentation fault" of the bug it tests).
pub(crate) fn is_summary_entry(line: &str) -> bool {
    let t = line.strip_suffix(' ').unwrap_or(line);
    t.ends_with(".phpt]") && has!(t, " [")
}

/// `FAIL title [path.phpt]`: a failed test and its root cause, over its
/// diff when one began at `diff_at` shortly before.
pub(crate) fn fail_line(n: u64, line: &str, diff_at: Option<u64>, sink: &mut Sink) -> bool {
    let Some(rest) = line.strip_prefix("FAIL ") else {
        return false;
    };
    let Some((title, path)) = rest
        .trim_end()
        .strip_suffix(".phpt]")
        .and_then(|r| r.rsplit_once(" ["))
    else {
        return false;
    };
    let file = format!("{path}.phpt");
    let title = title.trim();
    let start = diff_at.filter(|&at| at < n && n - at <= MAX_DIFF_LINES);
    sink.test(
        n,
        "phpt",
        TestCase {
            name: file.clone(),
            outcome: TestOutcome::Failed,
            message: Some(title.to_string()),
            file: Some(file.clone()),
            line: None,
        },
    );
    sink.test_diagnosed(&file);
    let mut draft = Draft::error(
        "phpt",
        Category::TestFailure,
        format!("{title} failed"),
        (start.unwrap_or(n), n),
    );
    draft.file = Some(file);
    sink.emit(draft);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fail_line_names_its_test_file_and_lookalikes_do_not() {
        let mut sink = Sink::default();
        assert!(fail_line(
            9,
            "FAIL Bug #72294 Segfault [in a] stmt [ext/pdo_pgsql/tests/bug72294.phpt] ",
            Some(5),
            &mut sink
        ));
        let d = &sink.diagnostics[0];
        assert_eq!(d.file.as_deref(), Some("ext/pdo_pgsql/tests/bug72294.phpt"));
        assert_eq!(d.message, "Bug #72294 Segfault [in a] stmt failed");
        assert_eq!(d.log_lines, (5, 9));
        for line in [
            "FAIL tests/test_a.py::test_b",
            "FAIL: test_x (tests.TestA)",
            "FAIL src/App.test.js",
            "FAIL [x.phpt",
        ] {
            assert!(!fail_line(9, line, None, &mut sink), "{line}");
        }
        // A diff long before is another test's.
        assert!(fail_line(200, "FAIL t [a.phpt]", Some(5), &mut sink));
        assert_eq!(sink.diagnostics[1].log_lines, (200, 200));
    }
}
