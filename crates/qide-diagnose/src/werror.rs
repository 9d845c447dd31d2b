//! Warnings that failed the build. A compiler told to treat warnings as
//! errors (`-Werror`) may still print them as warnings, then fail with one
//! line that says why: javac's `error: warnings found and -Werror
//! specified`, GHC's `Failing due to -Werror.`, MSVC's `warning treated as
//! error`, gcc's `cc1: all warnings being treated as errors`. That line
//! only follows the failure; the warnings before it are what the author
//! must fix.

use crate::sink::Sink;
use crate::{Category, Severity, fingerprint::refingerprint};

/// How far before the verdict a warning may stand and still be one of the
/// warnings it speaks of: the same compiler run prints them together.
const REACH_LINES: u64 = 500;

/// Whether `line` says that the warnings before it failed the build.
///
/// Every line that reaches a parser is asked, so each form is known by how
/// it ends or starts (cleaned lines end in no space) before any search.
pub(crate) fn is_verdict(line: &str) -> bool {
    // gcc's cc1 and cc1plus: "all" or "some".
    line.ends_with("warnings being treated as errors")
        // GHC.
        || line.starts_with("Failing due to -Werror")
        // javac.
        || line.ends_with("warnings found and -Werror specified")
        // MSVC's C2220: "warning treated as error - no 'object' file
        // generated", or "the following warning is treated as an error".
        || ((line.ends_with("file generated") || line.ends_with("treated as an error"))
            && has!(line, "C2220"))
}

/// Makes the located warnings in `sink` from index `from` on, that end at
/// most [`REACH_LINES`] before the verdict at line `n`, root-cause lint
/// errors. Returns how many there were.
pub(crate) fn promote(sink: &mut Sink, from: usize, n: u64) -> usize {
    let mut promoted = 0;
    for d in sink.diagnostics.iter_mut().skip(from) {
        if d.severity != Severity::Warning
            || d.file.is_none()
            || d.log_lines.1 > n
            || d.log_lines.1 + REACH_LINES < n
        {
            continue;
        }
        make_root(d);
        promoted += 1;
    }
    promoted
}

/// How many of the last located warnings an unexplained failure blames:
/// enough for a linter's handful, few enough that a log full of warnings
/// cannot crowd the packet.
const UNEXPLAINED_WARNINGS: usize = 5;

/// For a failure nothing else explains: makes the last
/// [`UNEXPLAINED_WARNINGS`] located warnings in `sink` from index `from` on
/// root-cause lint errors, as a linter in strict mode (SwiftLint's
/// `--strict`, RuboCop's failing offenses) or a compiler's warnings-as-errors
/// without a verdict line fails on them. Returns their first log lines.
pub(crate) fn promote_last(sink: &mut Sink, from: usize) -> Vec<u64> {
    let mut lines = Vec::new();
    for d in sink
        .diagnostics
        .iter_mut()
        .skip(from)
        .rev()
        .filter(|d| d.severity == Severity::Warning && d.file.is_some())
        .take(UNEXPLAINED_WARNINGS)
    {
        make_root(d);
        lines.push(d.log_lines.0);
    }
    lines
}

/// A warning become a root-cause lint error, fingerprinted as one.
fn make_root(d: &mut crate::Diagnostic) {
    d.severity = Severity::Error;
    d.root_cause = true;
    d.category = Category::Lint;
    refingerprint(d);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_of_each_compiler_are_known_and_ordinary_errors_are_not() {
        for line in [
            "cc1: all warnings being treated as errors",
            "cc1plus: some warnings being treated as errors",
            "Failing due to -Werror.",
            "error: warnings found and -Werror specified",
            "foo.c(3): error C2220: warning treated as error - no 'object' file generated",
            "foo.cpp(3,1): error C2220: the following warning is treated as an error",
        ] {
            assert!(is_verdict(line), "{line}");
        }
        for line in [
            "src/a.c:3:1: error: expected ';'",
            "error: could not compile `app` due to 2 previous errors",
            "warning: unused variable: `x`",
        ] {
            assert!(!is_verdict(line), "{line}");
        }
    }
}
