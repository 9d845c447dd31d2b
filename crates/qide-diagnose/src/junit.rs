//! JUnit XML test reports (`<testsuites>`/`<testsuite>`/`<testcase>`), the
//! machine-readable results that cargo-nextest, Maven Surefire, Gradle,
//! pytest (`--junitxml`), jest-junit, vitest and go-junit-report write.
//!
//! The format has no formal standard; what the writers agree on, and what
//! is read here:
//!
//! - `<testcase name="…" classname="…" file="…" line="…">` is one test.
//!   `classname` is a Java class, a Python module, or (nextest) the test
//!   binary; `file` and `line` are pytest's and jest's.
//! - A `<failure message="…" type="…">body</failure>` or `<error …>` child
//!   makes it failed; `<skipped/>` (or `<ignored/>`, `<disabled/>`) makes it
//!   skipped; no such child means it passed. nextest's flaky retries are
//!   `<flakyFailure>`/`<rerunFailure>` children of a test that passed in the
//!   end, so they do not count as failures.
//! - The message is the `message` attribute, else the first non-empty line
//!   of the body; the location is `file`/`line`, else the first `path:line`
//!   in the body that names a source file (a Java frame `(Foo.java:12)`, a
//!   Rust panic `src/lib.rs:22:9`, a Python `file.py:3:`).
//!
//! The parser is sans-I/O and lenient: it takes bytes, keeps every test it
//! read before a malformed part, and reports what went wrong in
//! [`JunitReport::issues`] instead of failing.

use std::sync::LazyLock;

use quick_xml::events::{BytesStart, Event};
use regex::Regex;

use crate::{TestCase, TestOutcome};

/// At most this many test cases are read from one report.
const MAX_CASES: usize = 50_000;
/// At most this many bytes of a failure body are kept while reading it; the
/// message and location come from its first lines.
const MAX_BODY: usize = 16 * 1024;
/// Messages are headlines: cut at this many bytes.
const MAX_MESSAGE: usize = 500;
/// Elements nested deeper than this end the parse: real reports nest four
/// levels, so deeper ones are hostile or broken.
const MAX_DEPTH: usize = 64;

/// What a JUnit XML report holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JunitReport {
    /// Every `<testcase>`, in document order.
    pub tests: Vec<TestCase>,
    /// What could not be read (malformed XML, truncation), in words; the
    /// tests before it are kept.
    pub issues: Vec<String>,
}

/// Whether `xml` looks like a JUnit report: it names `<testsuite` or
/// `<testcase` near its start. Lets a caller skip other XML files (build
/// descriptors, coverage reports) without parsing them.
pub fn looks_like_junit(xml: &[u8]) -> bool {
    let head = &xml[..xml.len().min(4096)];
    memchr::memmem::find(head, b"<testsuite").is_some()
        || memchr::memmem::find(head, b"<testcase").is_some()
}

/// The test cases of a JUnit XML report.
///
/// ```
/// let xml = br#"<testsuite name="s"><testcase classname="a.B" name="ok"/>
///   <testcase classname="a.B" name="bad"><failure message="boom"/></testcase></testsuite>"#;
/// let report = qide_diagnose::parse_junit(xml);
/// assert_eq!(report.tests.len(), 2);
/// assert_eq!(report.tests[1].name, "a.B.bad");
/// assert_eq!(report.tests[1].message.as_deref(), Some("boom"));
/// ```
pub fn parse_junit(xml: &[u8]) -> JunitReport {
    let text = String::from_utf8_lossy(xml);
    let mut reader = quick_xml::Reader::from_str(&text);
    // Writers differ in whether end tags match (some truncate); a
    // mismatch is not worth losing the report over.
    reader.config_mut().check_end_names = false;
    let mut report = JunitReport::default();
    let mut case: Option<CaseBuilder> = None;
    // Which element the text being read belongs to.
    let mut body: Option<Body> = None;
    let mut depth = 0usize;
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                report.issues.push(format!(
                    "malformed XML at byte {}: {e}",
                    reader.error_position()
                ));
                break;
            }
        };
        match event {
            Event::Start(start) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    report
                        .issues
                        .push(format!("elements nested deeper than {MAX_DEPTH}"));
                    break;
                }
                let name = start.local_name();
                match name.as_ref() {
                    "testcase" => case = Some(CaseBuilder::from_element(&start)),
                    tag => {
                        if let Some(case) = &mut case
                            && let Some(kind) = Body::of(tag)
                        {
                            case.child(kind, &start);
                            body = Some(kind);
                        }
                    }
                }
            }
            Event::Empty(start) => {
                let name = start.local_name();
                match name.as_ref() {
                    "testcase" => {
                        let done = CaseBuilder::from_element(&start);
                        push_case(&mut report, done.finish());
                    }
                    tag => {
                        if let Some(case) = &mut case
                            && let Some(kind) = Body::of(tag)
                        {
                            case.child(kind, &start);
                        }
                    }
                }
            }
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                let name = end.local_name();
                match name.as_ref() {
                    "testcase" => {
                        if let Some(done) = case.take() {
                            push_case(&mut report, done.finish());
                        }
                        body = None;
                    }
                    tag if Body::of(tag).is_some() => body = None,
                    _ => {}
                }
            }
            Event::Text(text) => {
                if let (Some(kind), Some(case)) = (body, &mut case) {
                    case.text(kind, &text.xml_content(quick_xml::XmlVersion::Implicit1_0));
                }
            }
            Event::CData(data) => {
                if let (Some(kind), Some(case)) = (body, &mut case) {
                    case.text(kind, &data.xml_content(quick_xml::XmlVersion::Implicit1_0));
                }
            }
            Event::GeneralRef(reference) => {
                if let (Some(kind), Some(case)) = (body, &mut case) {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => Some(c.to_string()),
                        _ => quick_xml::escape::resolve_predefined_entity(&reference)
                            .map(str::to_string),
                    };
                    if let Some(resolved) = resolved {
                        case.text(kind, &resolved);
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        if report.tests.len() >= MAX_CASES {
            report.issues.push(format!(
                "more than {MAX_CASES} test cases; the rest are left out"
            ));
            break;
        }
    }
    // A report cut off inside a test (a killed writer) still says what
    // that test was doing.
    if let Some(done) = case.take() {
        push_case(&mut report, done.finish());
    }
    report
}

fn push_case(report: &mut JunitReport, case: Option<TestCase>) {
    if let Some(case) = case {
        report.tests.push(case);
    }
}

/// A child of `<testcase>` whose text matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// `<failure>` or `<error>`: the test failed.
    Failure,
    /// `<skipped>`, `<ignored>`, `<disabled>`.
    Skipped,
    /// nextest's `<flakyFailure>`/`<rerunFailure>`: an attempt failed, the
    /// test's own verdict is read elsewhere.
    Retry,
}

impl Body {
    fn of(tag: &str) -> Option<Body> {
        match tag {
            "failure" | "error" => Some(Body::Failure),
            "skipped" | "ignored" | "disabled" => Some(Body::Skipped),
            "flakyFailure" | "flakyError" | "rerunFailure" | "rerunError" => Some(Body::Retry),
            _ => None,
        }
    }
}

/// One `<testcase>` being read.
#[derive(Debug, Default)]
struct CaseBuilder {
    name: String,
    classname: String,
    file: Option<String>,
    line: Option<u32>,
    outcome: Option<TestOutcome>,
    message: Option<String>,
    /// The start of the first failure's body.
    failure_body: String,
}

impl CaseBuilder {
    fn from_element(start: &BytesStart<'_>) -> CaseBuilder {
        let mut case = CaseBuilder::default();
        for attribute in start.attributes().flatten() {
            let Ok(value) = attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0) else {
                continue;
            };
            match attribute.key.local_name().as_ref() {
                "name" => case.name = value.trim().to_string(),
                "classname" => case.classname = value.trim().to_string(),
                "file" if !value.trim().is_empty() => case.file = Some(value.trim().to_string()),
                "line" => case.line = value.trim().parse().ok(),
                _ => {}
            }
        }
        case
    }

    fn child(&mut self, kind: Body, start: &BytesStart<'_>) {
        match kind {
            Body::Failure => {
                if self.outcome == Some(TestOutcome::Failed) {
                    return;
                }
                self.outcome = Some(TestOutcome::Failed);
                self.message = attribute(start, "message");
            }
            Body::Skipped => {
                if self.outcome.is_none() {
                    self.outcome = Some(TestOutcome::Skipped);
                }
            }
            Body::Retry => {}
        }
    }

    fn text(&mut self, kind: Body, text: &str) {
        if kind == Body::Failure && self.failure_body.len() < MAX_BODY {
            let room = MAX_BODY - self.failure_body.len();
            self.failure_body.push_str(cut(text, room));
        }
    }

    fn finish(self) -> Option<TestCase> {
        if self.name.is_empty() && self.classname.is_empty() {
            return None;
        }
        let outcome = self.outcome.unwrap_or(TestOutcome::Passed);
        let mut message = None;
        let mut file = self.file;
        let mut line = self.line;
        if outcome == TestOutcome::Failed {
            let body_line = |skip_panic_header: bool| {
                self.failure_body
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .find(|l| !(skip_panic_header && is_panic_header(l)))
                    .map(str::to_string)
            };
            message = self
                .message
                .filter(|m| !m.trim().is_empty())
                // nextest's message is the panic's `thread 'x' panicked at
                // file:line` header; what the panic said is the next line.
                .map(|m| match is_panic_header(&m) {
                    true => body_line(true).unwrap_or(m),
                    false => m,
                })
                .or_else(|| body_line(false))
                .map(|m| headline(&m));
            if line.is_none()
                && let Some((f, l)) = location_in(&self.failure_body)
            {
                file = file.or(Some(f));
                line = Some(l);
            }
        }
        Some(TestCase {
            name: display_name(&self.classname, &self.name),
            outcome,
            message,
            file,
            line,
        })
    }
}

/// The value of attribute `key`, unescaped.
fn attribute(start: &BytesStart<'_>, key: &str) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// How a test is named: Java and Python classnames are dotted paths
/// (`com.example.AppTest.adds`), nextest's is the test binary
/// (`crate::bin tests::adds`), and some writers repeat the class in the
/// name, which is then used alone.
fn display_name(classname: &str, name: &str) -> String {
    if classname.is_empty() || name.starts_with(classname) {
        return name.to_string();
    }
    if name.is_empty() {
        return classname.to_string();
    }
    if name.contains("::") || !classname.contains('.') && classname.contains("::") {
        // nextest: `qide-diagnose::it` and `logs::rustc_type_errors`.
        return format!("{classname} {name}");
    }
    if classname.contains(' ') || name.contains(' ') {
        // jest and vitest: suite titles and test titles are sentences.
        return format!("{classname} > {name}");
    }
    format!("{classname}.{name}")
}

/// The first `path:line` in a failure body that names a source file.
fn location_in(body: &str) -> Option<(String, u32)> {
    static LOCATION: LazyLock<Regex> = LazyLock::new(|| {
        // Reason: a fixed, tested pattern.
        Regex::new(
            r"(?:^|[\s(\[])((?:[A-Za-z]:)?[\w./\\-]+\.(?:rs|java|kt|scala|py|go|js|jsx|ts|tsx|mjs|cjs|rb|php|cs|c|cc|cpp|h|hpp|swift|ex|exs)):(\d+)",
        )
        .expect("valid regex")
    });
    // Frames of the test framework and the runtime come first in JVM
    // stacks (`at org.junit.Assert.fail(Assert.java:89)`): the first frame
    // outside them is where the test failed. A bounded look keeps a huge
    // body cheap.
    const FRAMEWORK: &[&str] = &[
        "at org.junit.",
        "at junit.",
        "at org.opentest4j.",
        "at org.testng.",
        "at java.",
        "at javax.",
        "at jdk.",
        "at sun.",
        "at kotlin.",
        "at org.apache.maven.",
        "at org.gradle.",
        "at scala.",
        "at org.scalatest.",
        "at org.hamcrest.",
        "at org.assertj.",
    ];
    cut(body, 8 * 1024)
        .lines()
        .filter(|l| !FRAMEWORK.iter().any(|f| l.trim_start().starts_with(f)))
        .find_map(|l| {
            let caps = LOCATION.captures(l)?;
            Some((caps[1].to_string(), caps[2].parse().ok()?))
        })
}

/// libtest's `thread 'name' (pid) panicked at src/lib.rs:3:5:` header.
fn is_panic_header(line: &str) -> bool {
    line.starts_with("thread '") && line.contains("' panicked at ")
        || line.contains(") panicked at ")
}

fn headline(message: &str) -> String {
    let line = message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    cut(line, MAX_MESSAGE).to_string()
}

/// `text` cut to at most `max` bytes on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_like_their_runner() {
        assert_eq!(
            display_name("com.example.AppTest", "adds"),
            "com.example.AppTest.adds"
        );
        assert_eq!(
            display_name("my-crate::it", "tests::adds"),
            "my-crate::it tests::adds"
        );
        assert_eq!(display_name("", "adds"), "adds");
        assert_eq!(display_name("math adds", "math adds two"), "math adds two");
        assert_eq!(display_name("math", "adds two"), "math > adds two");
    }

    #[test]
    fn finds_a_location_in_a_stack() {
        assert_eq!(
            location_in("java.lang.AssertionError\n\tat com.x.AppTest.adds(AppTest.java:14)"),
            Some(("AppTest.java".to_string(), 14))
        );
        assert_eq!(
            location_in("thread 'x' panicked at src/lib.rs:22:9:\nboom"),
            Some(("src/lib.rs".to_string(), 22))
        );
        assert_eq!(location_in("no place here"), None);
    }
}
