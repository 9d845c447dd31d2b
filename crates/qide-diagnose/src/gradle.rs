//! Gradle's console output, after its documented format (Gradle cannot run
//! where QIDE's test logs were captured): the Kotlin compiler's `e: file:///
//! …/App.kt:10:5 message` lines, the test task's `AppTest > name() FAILED`
//! verdicts with their indented exception, and the `FAILURE:` / `* What
//! went wrong:` report, which is a cascade when a task merely failed
//! (`Execution failed for task ':app:compileJava'.`) and a root cause when
//! it names the problem itself (an unresolvable dependency, a broken build
//! script). javac's own errors are read by `generic`.

use std::sync::LazyLock;

use regex::Regex;

use crate::{
    Category, Severity, TestCase, TestOutcome,
    sink::{Draft, Sink},
};

static KOTLIN: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^([ew]): (?:file://)?(\S+?\.kts?)(?::(\d+):(\d+)|: \((\d+), (\d+)\):) (.*)$")
        .expect("valid regex")
});
static TEST: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    // The class is a (qualified) Java name; what follows may be a
    // JUnit 5 display name with spaces, or nested classes (`A > B > c()`).
    Regex::new(r"^([A-Za-z_][\w$.]* > .+?) (FAILED|PASSED|SKIPPED)$").expect("valid regex")
});
static SHORT_EXCEPTION: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^(\S+) at (\S+\.(?:java|kt|groovy|scala)):(\d+)$").expect("valid regex")
});
static FRAME: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^at (?:\S+/)?([\w$.]+)\((\w+\.(?:java|kt|groovy|scala)):(\d+)\)$")
        .expect("valid regex")
});
static TASK: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^> Task (:\S+) FAILED$").expect("valid regex")
});
static COMPLETED: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\d+ tests? completed, \d+ failed").expect("valid regex")
});

/// A report or a test's exception longer than this many lines ends, so a
/// mis-detected header cannot swallow the log.
const MAX_BLOCK_LINES: u32 = 80;

/// What a gated line was to Gradle.
pub(crate) enum Line {
    /// A construct whose lines follow.
    Open(Section),
    /// A complete one-line diagnostic.
    Draft(Draft),
    /// A passing or skipped test, recorded.
    Handled,
}

/// Reads a line that passed the keyword gate.
pub(crate) fn line(n: u64, line: &str, sink: &mut Sink) -> Option<Line> {
    if line.starts_with("e: ") || line.starts_with("w: ") {
        return kotlin(n, line).map(Line::Draft);
    }
    if line.starts_with("FAILURE: Build ") {
        return Some(Line::Open(Section::Report(Report {
            start: n,
            entries: Vec::new(),
            in_entry: false,
            lines: 0,
        })));
    }
    if line.starts_with("BUILD FAILED") {
        return Some(Line::Draft(
            Draft::error("gradle", Category::Unknown, line.to_string(), (n, n)).cascade(),
        ));
    }
    if line.starts_with("> Task ") {
        let caps = TASK.captures(line)?;
        let task = &caps[1];
        let category = if task.ends_with("test") || task.ends_with("Test") {
            Category::TestFailure
        } else if task.contains(":compile") {
            Category::CompileError
        } else {
            Category::Unknown
        };
        return Some(Line::Draft(
            Draft::error("gradle", category, line.to_string(), (n, n)).cascade(),
        ));
    }
    // The summary starts with its count (`\d` is any Unicode digit).
    if line
        .as_bytes()
        .first()
        .is_some_and(|&b| b.is_ascii_digit() || b >= 0x80)
        && has!(line, " completed, ")
        && COMPLETED.is_match(line)
    {
        return Some(Line::Draft(
            Draft::error("gradle", Category::TestFailure, line.to_string(), (n, n)).cascade(),
        ));
    }
    if line.ends_with('D') && has!(line, " > ") {
        let (name, verdict) = test_verdict(line)?;
        let name = name.to_string();
        let outcome = match verdict {
            "FAILED" => TestOutcome::Failed,
            "PASSED" => TestOutcome::Passed,
            _ => TestOutcome::Skipped,
        };
        if outcome != TestOutcome::Failed {
            let case = TestCase {
                name,
                outcome,
                message: None,
                file: None,
                line: None,
            };
            sink.test(n, "gradle", case);
            return Some(Line::Handled);
        }
        return Some(Line::Open(Section::Test(TestFailure {
            name,
            start: n,
            end: n,
            message: None,
            place: None,
            lines: 0,
        })));
    }
    None
}

/// The test name and verdict (groups 1 and 2) of a line that matches
/// [`TEST`], read by hand on an ASCII line as the regex reads it: the
/// verdict ends the line after a space, and the name before it is a Java
/// name, ` > ` and at least one more character. A line that is not ASCII,
/// or has a line break, is left to the regex.
fn test_verdict(line: &str) -> Option<(&str, &str)> {
    if !line.is_ascii() || line.contains('\n') {
        let caps = TEST.captures(line)?;
        return Some((caps.get(1)?.as_str(), caps.get(2)?.as_str()));
    }
    let (name, verdict) = ["FAILED", "PASSED", "SKIPPED"].iter().find_map(|verdict| {
        let name = line.strip_suffix(verdict)?.strip_suffix(' ')?;
        Some((name, *verdict))
    })?;
    let b = name.as_bytes();
    if !b
        .first()
        .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
    {
        return None;
    }
    let java = b
        .iter()
        .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b'.'))
        .count();
    // ` > `, then at least one character.
    (b[java..].starts_with(b" > ") && b.len() > java + 3).then_some((name, verdict))
}

/// `e: file:///…/App.kt:10:5 Unresolved reference: x`, or the older
/// `e: /…/App.kt: (10, 5): …`.
fn kotlin(n: u64, line: &str) -> Option<Draft> {
    let caps = KOTLIN.captures(line)?;
    let error = &caps[1] == "e";
    let number = |a: usize, b: usize| {
        caps.get(a)
            .or(caps.get(b))
            .and_then(|m| m.as_str().parse().ok())
    };
    let message = caps[7].trim().to_string();
    let category = if !error {
        Category::Lint
    } else if message.starts_with("Expecting ") {
        Category::SyntaxError
    } else {
        Category::CompileError
    };
    let mut draft = Draft::error("kotlinc", category, message, (n, n));
    if !error {
        draft.severity = Severity::Warning;
        draft.root_cause = false;
    }
    draft.file = Some(caps[2].to_string());
    draft.line = number(3, 5);
    draft.column = number(4, 6);
    Some(draft)
}

/// A Gradle construct whose lines are still being read.
#[derive(Debug)]
pub(crate) enum Section {
    /// `FAILURE: Build failed …` and its `* What went wrong:` entries.
    Report(Report),
    /// A failed test and its indented exception.
    Test(TestFailure),
}

impl Section {
    /// Offers the next line; returns whether it belongs to the construct.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        match self {
            Section::Report(report) => report.feed(n, line),
            Section::Test(test) => test.feed(n, line),
        }
    }

    /// Emits what was read.
    pub(crate) fn close(self, sink: &mut Sink) {
        match self {
            Section::Report(report) => report.close(sink),
            Section::Test(test) => test.close(sink),
        }
    }
}

/// One `* What went wrong:` entry: its headline and the `>` causes under it.
#[derive(Debug)]
struct Entry {
    start: u64,
    end: u64,
    headline: Option<String>,
    causes: Vec<String>,
}

/// The failure report Gradle prints at the end of a failed build.
#[derive(Debug)]
pub(crate) struct Report {
    start: u64,
    entries: Vec<Entry>,
    /// Reading an entry's lines; a blank line ends them.
    in_entry: bool,
    lines: u32,
}

impl Report {
    fn feed(&mut self, n: u64, line: &str) -> bool {
        // `* Try:`, `* Exception is:` and `BUILD FAILED` end the report.
        if self.lines >= MAX_BLOCK_LINES
            || line.starts_with("BUILD FAILED")
            || (line.starts_with("* ") && !line.starts_with("* What went wrong"))
        {
            return false;
        }
        self.lines += 1;
        if line.trim().is_empty() {
            self.in_entry = false;
            return true;
        }
        if line.starts_with("* What went wrong") {
            self.entries.push(Entry {
                start: n,
                end: n,
                headline: None,
                causes: Vec::new(),
            });
            self.in_entry = true;
            return true;
        }
        if self.in_entry
            && let Some(entry) = self.entries.last_mut()
        {
            entry.end = n;
            let text = line.trim();
            match (&entry.headline, text.strip_prefix("> ")) {
                (None, _) => entry.headline = Some(text.to_string()),
                (Some(_), Some(cause)) => entry.causes.push(cause.to_string()),
                (Some(_), None) => {}
            }
        }
        true
    }

    fn close(self, sink: &mut Sink) {
        let first = self.entries.first().map(|e| e.start);
        for entry in self.entries {
            let start = if Some(entry.start) == first {
                self.start
            } else {
                entry.start
            };
            sink.emit(entry_draft(entry, start));
        }
    }
}

/// The diagnostic for one `* What went wrong:` entry.
fn entry_draft(entry: Entry, start: u64) -> Draft {
    let headline = entry.headline.unwrap_or_default();
    let span = (start, entry.end);
    let missing = entry.causes.iter().find(|c| {
        c.starts_with("Could not find ")
            || c.starts_with("Could not resolve ") && !c.starts_with("Could not resolve all ")
    });
    if let Some(cause) = missing {
        return Draft::error("gradle", Category::MissingDependency, cause.clone(), span);
    }
    if headline.starts_with("Execution failed for task") {
        let category = if entry.causes.iter().any(|c| c.contains("failing tests")) {
            Category::TestFailure
        } else if entry.causes.iter().any(|c| c.starts_with("Compilation")) {
            Category::CompileError
        } else {
            Category::Unknown
        };
        return Draft::error("gradle", category, headline, span).cascade();
    }
    // The build itself is broken: a script that does not evaluate, a
    // plugin that cannot be found. The innermost cause says what.
    let category = if headline.contains("was not found") || headline.contains("Could not resolve") {
        Category::MissingDependency
    } else {
        Category::ConfigError
    };
    let message = entry.causes.last().cloned().unwrap_or(headline);
    Draft::error("gradle", category, message, span)
}

/// A failed test and the indented exception Gradle prints under it.
#[derive(Debug)]
pub(crate) struct TestFailure {
    name: String,
    start: u64,
    end: u64,
    /// The exception line (`org.opentest4j.AssertionFailedError: …`).
    message: Option<String>,
    /// Where it failed: the short form's `at AppTest.java:12`, or the first
    /// stack frame outside the test framework and the JDK.
    place: Option<(String, u32)>,
    lines: u32,
}

impl TestFailure {
    fn feed(&mut self, n: u64, line: &str) -> bool {
        if self.lines >= MAX_BLOCK_LINES || !line.starts_with(' ') || line.trim().is_empty() {
            return false;
        }
        self.lines += 1;
        self.end = n;
        let text = line.trim();
        if self.message.is_none() {
            if let Some(caps) = SHORT_EXCEPTION.captures(text) {
                self.message = Some(caps[1].to_string());
                self.place = Some((caps[2].to_string(), caps[3].parse().unwrap_or(0)));
            } else {
                self.message = Some(text.to_string());
            }
        } else if self.place.is_none()
            && let Some(caps) = FRAME.captures(text)
            && !is_framework(&caps[1])
        {
            self.place = Some((caps[2].to_string(), caps[3].parse().unwrap_or(0)));
        }
        true
    }

    fn close(self, sink: &mut Sink) {
        let message = match &self.message {
            Some(m) => format!("{}: {m}", self.name),
            None => format!("{} failed", self.name),
        };
        let mut draft = Draft::error(
            "gradle",
            Category::TestFailure,
            message,
            (self.start, self.end),
        );
        let (file, line) = self.place.unzip();
        draft.file.clone_from(&file);
        draft.line = line.filter(|&l| l > 0);
        sink.emit(draft);
        let case = TestCase {
            name: self.name.clone(),
            outcome: TestOutcome::Failed,
            message: self.message,
            file,
            line: line.filter(|&l| l > 0),
        };
        sink.test(self.start, "gradle", case);
        sink.test_diagnosed(&self.name);
    }
}

/// Whether a stack frame's class belongs to the JDK or a test framework
/// rather than to the project.
fn is_framework(class: &str) -> bool {
    const FOREIGN: &[&str] = &[
        "java.",
        "javax.",
        "jdk.",
        "sun.",
        "kotlin.",
        "org.junit.",
        "junit.",
        "org.opentest4j.",
        "org.gradle.",
        "org.testng.",
        "org.assertj.",
        "org.hamcrest.",
    ];
    FOREIGN.iter().any(|f| class.starts_with(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_test_verdicts_as_the_regex_does() {
        for line in [
            "com.example.AppTest > addsNumbers() FAILED",
            "com.example.AppTest > adds numbers PASSED",
            "AppTest > A > b() SKIPPED",
            "App$Inner > x PASSED",
            "_a > x FAILED",
            "1App > x FAILED",
            "App > FAILED",
            "App >  FAILED",
            "App x > y FAILED",
            "App > y FAILED ",
            "App > y NOT FAILED",
            "App.\u{e9} > y FAILED",
            "App > y\nFAILED",
            "App>y FAILED",
        ] {
            let regex = TEST
                .captures(line)
                .map(|c| (c[1].to_string(), c[2].to_string()));
            let ours = test_verdict(line).map(|(n, v)| (n.to_string(), v.to_string()));
            assert_eq!(ours, regex, "{line:?}");
        }
    }
}
