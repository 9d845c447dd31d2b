//! The JavaScript toolchain's own output: eslint's default (`stylish`)
//! report, jest's and vitest's test listings and failure sections, and
//! the package managers' error blocks (npm, pnpm, yarn).
//!
//! - eslint prints a file's absolute path on a line of its own, then one
//!   `  line:col  error|warning  message  rule` line per problem, and
//!   `✖ N problems (…)` at the end (a summary, not a cause); remark prints
//!   the same under a relative path, and stylelint with `✖` (error) and `⚠`
//!   (warning) marks in place of the words.
//! - jest prints `FAIL path` / `PASS path`, the suite's tests as an indented
//!   tree (`✓`, `✕`, `○ skipped`; describe blocks as plain lines), then one
//!   `  ● describe › test` section per failure with the assertion, a code
//!   frame and `at … (file:line:col)` frames; `Test Suites:`/`Tests:` sum up.
//! - vitest lists a failing file's tests under ` ❯ path (N tests | M failed)`
//!   (`✓`, `×`, `↓` skipped), then one ` FAIL  path > describe > test` section
//!   per failure, its error, and ` ❯ path:line:col`; `Test Files`/`Tests` sum
//!   up.
//! - npm prints `npm error …` (npm ≥ 10) or `npm ERR! …` blocks whose
//!   `code` line names the failure; pnpm prints ` ERR_PNPM_CODE  message`;
//!   yarn prints `error message`. A script that failed (`ELIFECYCLE`,
//!   `Lifecycle script … failed`, `Command failed with exit code`) only
//!   repeats the failure printed above it: a cascade.

use std::sync::LazyLock;

use regex::Regex;

use crate::{
    Category, Severity, TestCase, TestOutcome,
    classify::message_category,
    sink::{Draft, Sink},
};

static ESLINT: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s+(\d+):(\d+)\s+(error|warning)\s+(.+?)(?:\s{2,}(@?[\w./-]+))?\s*$")
        .expect("valid regex")
});
static STYLISH_MARKED: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s+(\d+):(\d+)\s+(✖|⚠)\s+(.+?)(?:\s{2,}(@?[\w./-]+))?\s*$").expect("valid regex")
});
/// Whether `t`, an indented line without its indentation, may go on as
/// [`STYLISH_MARKED`] needs: `line:column`, spaces, then a mark, whose
/// first byte is not ASCII. Many indented lines start with a number (test
/// timings, tables); few have a mark after it, and the rest skip a
/// capturing search. Where `\d` or `\s` may take a character that is not
/// ASCII, the answer is yes.
fn marked_after_place(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let n = digits(0);
    match b.get(n) {
        Some(&c) if c >= 0x80 => return true,
        Some(b':') if n > 0 => {}
        _ => return false,
    }
    let m = digits(n + 1);
    let mut i = n + 1 + m;
    match b.get(i) {
        Some(&c) if c >= 0x80 => return true,
        Some(&c) if m > 0 && (c.is_ascii_whitespace() || c == 0x0b) => {}
        _ => return false,
    }
    while b
        .get(i)
        .is_some_and(|&c| c.is_ascii_whitespace() || c == 0x0b)
    {
        i += 1;
    }
    b.get(i).is_some_and(|&c| c >= 0x80)
}

static JEST_FILE: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s?(PASS|FAIL) +(\S+\.[cm]?[jt]sx?)(?: \(.*\))?$").expect("valid regex")
});
static VITEST_FILE: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s*❯ (\S+) \(\d+ tests? \|.* failed").expect("valid regex")
});
static FRAME: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s*(?:at |❯ )(?:.*? \()?([^\s()]+):(\d+):(\d+)\)?\s*$").expect("valid regex")
});
static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"\s+(?:\(\d+(?:\.\d+)? ?m?s\)|\d+(?:\.\d+)?m?s)$").expect("valid regex")
});

/// Lines one failure section may span before it is closed anyway.
const MAX_SECTION_LINES: u64 = 200;
/// Lines of a failure section put in its log range.
const MAX_REPORTED_LINES: u64 = 16;

/// State that spans lines.
#[derive(Debug, Default)]
pub(crate) struct Js {
    /// eslint: the latest line that was a source file's path alone.
    eslint_file: Option<String>,
    /// A jest or vitest test tree being read.
    listing: Option<Listing>,
}

/// A test file's listing of its tests.
#[derive(Debug)]
struct Listing {
    tool: &'static str,
    file: String,
    /// Open describe blocks: their indentation and title (jest).
    describe: Vec<(usize, String)>,
}

/// What [`Js::line`] made of a line.
pub(crate) enum Line {
    /// A failure whose detail lines follow.
    Section(Section),
    /// Taken.
    Handled,
}

impl Js {
    /// Whether lines without any keyword must still be offered to
    /// [`Js::ungated`]: a test tree is being read, or `line` may be a
    /// marked problem of a lint report whose file was named.
    pub(crate) fn listing(&self, line: &str) -> bool {
        self.listing.is_some() || self.eslint_file.is_some() && line.starts_with(' ')
    }

    /// Reads a line before the keyword gate: test-tree entries and eslint's
    /// file headers carry no keyword. Returns whether the line was taken.
    pub(crate) fn ungated(&mut self, n: u64, line: &str, sink: &mut Sink) -> bool {
        if line.starts_with('/') {
            if is_source_path(line) {
                self.eslint_file = Some(line.to_string());
            }
            return false;
        }
        // stylelint and remark print the same report under a relative path,
        // stylelint with marks (`✖`, `⚠`) instead of words.
        if is_relative_report_path(line) {
            self.eslint_file = Some(line.to_string());
            return false;
        }
        if self.eslint_file.is_some()
            && line.starts_with(' ')
            && let Some(draft) = self.stylish_marked(n, line)
        {
            sink.emit(draft);
            return true;
        }
        let Some(listing) = &mut self.listing else {
            return false;
        };
        let t = crate::trim_indent(line);
        let indent = line.len() - t.len();
        if t.is_empty() || indent == 0 {
            self.listing = None;
            return false;
        }
        let (outcome, title) = if let Some(rest) = strip_mark(t, &["✓", "√"]) {
            (Some(TestOutcome::Passed), rest)
        } else if let Some(rest) = strip_mark(t, &["✕", "×"]) {
            (Some(TestOutcome::Failed), rest)
        } else if let Some(rest) = strip_mark(t, &["○", "↓"]) {
            (
                Some(TestOutcome::Skipped),
                rest.strip_prefix("skipped ").unwrap_or(rest),
            )
        } else {
            (None, t)
        };
        let title = DURATION.replace(title, "");
        while listing.describe.last().is_some_and(|(i, _)| *i >= indent) {
            listing.describe.pop();
        }
        let Some(outcome) = outcome else {
            if listing.tool == "jest" {
                listing.describe.push((indent, title.into_owned()));
            }
            return true;
        };
        let name = match listing.tool {
            "jest" => listing
                .describe
                .iter()
                .map(|(_, d)| d.as_str())
                .chain([title.as_ref()])
                .collect::<Vec<_>>()
                .join(" › "),
            _ => format!("{} > {title}", listing.file),
        };
        // vitest names a failure by its describe path, which its tree
        // leaves out; the failure section records it.
        if listing.tool == "vitest" && outcome == TestOutcome::Failed {
            return true;
        }
        let file = listing.file.clone();
        sink.test(
            n,
            listing.tool,
            TestCase {
                name,
                outcome,
                message: None,
                file: Some(file),
                line: None,
            },
        );
        true
    }

    /// Reads a line that holds a keyword or a runner's prefix.
    pub(crate) fn line(&mut self, n: u64, line: &str, sink: &mut Sink) -> Option<Line> {
        let t = crate::trim_indent(line);
        if let Some(rest) = t
            .strip_prefix("npm error")
            .or_else(|| t.strip_prefix("npm ERR!"))
        {
            return Some(Line::Section(Section::npm(n, rest)));
        }
        if let Some(draft) = pnpm_or_yarn(n, t) {
            sink.emit(draft);
            return Some(Line::Handled);
        }
        if t.starts_with("✖ ") && t.contains(" problem") {
            let draft = Draft::error("eslint", Category::Lint, t.to_string(), (n, n));
            sink.emit(draft.cascade());
            return Some(Line::Handled);
        }
        if line.starts_with(' ')
            && t.as_bytes().first().is_some_and(u8::is_ascii_digit)
            && let Some(draft) = self.eslint(n, line)
        {
            sink.emit(draft);
            return Some(Line::Handled);
        }
        if let Some(title) = t.strip_prefix("● ") {
            let tool = "jest";
            return Some(Line::Section(Section::test(tool, n, title.trim())));
        }
        if let Some(rest) = t.strip_prefix("FAIL  ")
            && line.starts_with(' ')
            && rest.contains(" > ")
        {
            return Some(Line::Section(Section::test("vitest", n, rest.trim())));
        }
        if (t.starts_with("PASS") || t.starts_with("FAIL"))
            && let Some(caps) = JEST_FILE.captures(line)
        {
            self.listing = Some(Listing {
                tool: "jest",
                file: caps[2].to_string(),
                describe: Vec::new(),
            });
            return Some(Line::Handled);
        }
        if t.starts_with('❯')
            && let Some(caps) = VITEST_FILE.captures(line)
        {
            self.listing = Some(Listing {
                tool: "vitest",
                file: caps[1].to_string(),
                describe: Vec::new(),
            });
            return Some(Line::Handled);
        }
        // The runners' totals only count the failures listed above them.
        let summary = ["Test Suites:", "Tests:", "Test Files ", "Tests  "];
        if summary.iter().any(|s| t.starts_with(s)) && t.contains(" failed") {
            let draft = Draft::error("tests", Category::TestFailure, t.to_string(), (n, n));
            sink.emit(draft.cascade());
            return Some(Line::Handled);
        }
        None
    }

    /// stylelint's `  46:3  ✖  message  rule` (an error) or `⚠` (a warning).
    fn stylish_marked(&self, n: u64, line: &str) -> Option<Draft> {
        let t = crate::trim_indent(line);
        if !t.as_bytes().first().is_some_and(u8::is_ascii_digit) || !marked_after_place(t) {
            return None;
        }
        let caps = STYLISH_MARKED.captures(line)?;
        let severity = if &caps[3] == "✖" {
            Severity::Error
        } else {
            Severity::Warning
        };
        Some(Draft {
            severity,
            tool: "stylelint",
            code: caps.get(5).map(|m| m.as_str().to_string()),
            message: caps[4].trim().to_string(),
            file: self.eslint_file.clone(),
            line: caps[1].parse().ok(),
            column: caps[2].parse().ok(),
            log_lines: (n, n),
            root_cause: severity == Severity::Error,
            category: Category::Lint,
        })
    }

    fn eslint(&self, n: u64, line: &str) -> Option<Draft> {
        let caps = ESLINT.captures(line)?;
        let severity = if &caps[3] == "error" {
            Severity::Error
        } else {
            Severity::Warning
        };
        let message = caps[4].trim().to_string();
        let category = if message.starts_with("Parsing error") {
            Category::SyntaxError
        } else {
            Category::Lint
        };
        Some(Draft {
            severity,
            tool: "eslint",
            code: caps.get(5).map(|m| m.as_str().to_string()),
            message,
            file: self.eslint_file.clone(),
            line: caps[1].parse().ok(),
            column: caps[2].parse().ok(),
            log_lines: (n, n),
            root_cause: severity == Severity::Error,
            category,
        })
    }
}

/// `rest` after one of `marks` and a space.
fn strip_mark<'a>(t: &'a str, marks: &[&str]) -> Option<&'a str> {
    marks
        .iter()
        .find_map(|m| t.strip_prefix(m))
        .and_then(|rest| rest.strip_prefix(' '))
}

/// Whether `line` is a JavaScript or TypeScript source file's absolute
/// path and nothing else, as eslint prints before a file's problems.
fn is_source_path(line: &str) -> bool {
    const EXTENSIONS: &[&str] = &[
        ".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".mts", ".cts", ".vue", ".svelte", ".astro",
        ".json", ".md",
    ];
    !line.contains([' ', ':']) && EXTENSIONS.iter().any(|e| line.ends_with(e))
}

/// Whether `line` is a relative path alone to a stylesheet or Markdown
/// file, as stylelint and remark print before a file's problems. Most lines
/// hold a space early and are ruled out there.
pub(crate) fn is_relative_report_path(line: &str) -> bool {
    const EXTENSIONS: &[&str] = &[
        ".css",
        ".scss",
        ".sass",
        ".less",
        ".sss",
        ".md",
        ".markdown",
        ".mdx",
        ".vue",
        ".html",
    ];
    let bytes = line.as_bytes();
    // The last byte of every extension above, then the first of a path.
    matches!(bytes.last(), Some(b's' | b'd' | b'x' | b'e' | b'n' | b'l'))
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'.' || bytes[0] == b'_')
        && EXTENSIONS.iter().any(|e| line.ends_with(e))
        && memchr::memchr3(b' ', b':', b'\t', bytes).is_none()
}

/// pnpm's ` ERR_PNPM_CODE  message` and yarn's `error message` lines.
fn pnpm_or_yarn(n: u64, t: &str) -> Option<Draft> {
    if let Some(rest) = t.strip_prefix("ERR_PNPM_") {
        let (code, message) = rest.split_once(' ').unwrap_or((rest, ""));
        let code = format!("ERR_PNPM_{code}");
        let message = message.trim();
        let cascade = code == "ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL" || code.ends_with("_FAIL");
        let category = package_category(&code, message);
        let mut draft = Draft::error("pnpm", category, message.to_string(), (n, n));
        draft.code = Some(code);
        return Some(if cascade { draft.cascade() } else { draft });
    }
    let message = t.strip_prefix("error ")?;
    if message.starts_with("Command failed with exit code") {
        return Some(Draft::error("yarn", Category::Unknown, t.to_string(), (n, n)).cascade());
    }
    if message.starts_with("An unexpected error occurred")
        || message.starts_with("Couldn't find")
        || message.contains("doesn't seem to be present in your lockfile")
        || message.starts_with("Your lockfile needs to be updated")
    {
        let category = package_category("", message);
        return Some(Draft::error("yarn", category, message.to_string(), (n, n)));
    }
    None
}

/// The category of a package manager's error from its code and message.
fn package_category(code: &str, message: &str) -> Category {
    let code = code.trim_start_matches("ERR_PNPM_");
    match code {
        "E404"
        | "ETARGET"
        | "ERESOLVE"
        | "ENOVERSIONS"
        | "NO_MATCHING_VERSION"
        | "FETCH_404"
        | "PEER_DEP_ISSUES"
        | "OUTDATED_LOCKFILE" => Category::MissingDependency,
        "ENOTFOUND" | "ETIMEDOUT" | "ECONNRESET" | "ECONNREFUSED" | "EAI_AGAIN"
        | "META_FETCH_FAIL" => Category::Network,
        "EUSAGE" | "EJSONPARSE" | "NO_SCRIPT" | "ENOWORKSPACES" => Category::ConfigError,
        "EACCES" | "EPERM" | "ENOSPC" | "EROFS" => Category::Infrastructure,
        _ if message.starts_with("Missing script") => Category::ConfigError,
        _ => message_category(message).unwrap_or(Category::Unknown),
    }
}

/// What a section is reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A jest or vitest failure.
    Test,
    /// An npm error block.
    Npm,
}

/// A failure whose detail lines are still being read.
#[derive(Debug)]
pub(crate) struct Section {
    kind: Kind,
    tool: &'static str,
    /// The test's name, for test failures.
    name: String,
    start: u64,
    end: u64,
    message: Option<String>,
    file: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
    /// npm's `code` line.
    code: Option<String>,
}

impl Section {
    fn test(tool: &'static str, n: u64, name: &str) -> Section {
        Section {
            kind: Kind::Test,
            tool,
            name: name.to_string(),
            start: n,
            end: n,
            message: None,
            file: None,
            line: None,
            column: None,
            code: None,
        }
    }

    fn npm(n: u64, rest: &str) -> Section {
        let mut section = Section::test("npm", n, "");
        section.kind = Kind::Npm;
        section.npm_line(n, rest);
        section
    }

    /// Offers the next line; returns whether it belongs to this failure.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        if n.saturating_sub(self.start) > MAX_SECTION_LINES {
            return false;
        }
        match self.kind {
            Kind::Npm => {
                let t = crate::trim_indent(line);
                let Some(rest) = t
                    .strip_prefix("npm error")
                    .or_else(|| t.strip_prefix("npm ERR!"))
                else {
                    return false;
                };
                self.npm_line(n, rest);
                true
            }
            Kind::Test => self.test_line(n, line),
        }
    }

    fn npm_line(&mut self, n: u64, rest: &str) {
        let rest = rest.trim();
        if let Some(code) = rest.strip_prefix("code ") {
            self.code.get_or_insert_with(|| code.trim().to_string());
        } else if self.message.is_none()
            && !rest.is_empty()
            && !rest.starts_with("errno ")
            && !rest.starts_with("syscall ")
            && !rest.starts_with("path ")
            && !rest.starts_with("command ")
            && !rest.starts_with("A complete log of this run")
        {
            self.message = Some(rest.to_string());
        }
        if !rest.is_empty() && n.saturating_sub(self.start) < MAX_REPORTED_LINES {
            self.end = n;
        }
    }

    fn test_line(&mut self, n: u64, line: &str) -> bool {
        let t = crate::trim_indent(line);
        let next_section = t.starts_with("● ")
            || t.starts_with("FAIL  ")
            || t.starts_with('⎯')
            || t.starts_with("Test Suites:")
            || t.starts_with("Test Files ");
        if next_section {
            return false;
        }
        // jest indents what belongs to a failure; vitest does not, and
        // ends it with a rule of `⎯`.
        if self.tool == "jest" && !line.is_empty() && !line.starts_with("  ") {
            return false;
        }
        if t.is_empty() {
            return true;
        }
        let reported = n.saturating_sub(self.start) < MAX_REPORTED_LINES;
        if self.message.is_none() {
            self.message = Some(t.to_string());
            self.end = n;
        } else if self.file.is_none()
            && (t.starts_with("at ") || t.starts_with('❯'))
            && let Some(caps) = FRAME.captures(line)
            && !caps[1].contains("node_modules")
            && !caps[1].starts_with("node:")
            && !caps[1].starts_with("internal/")
        {
            self.file = Some(caps[1].trim_start_matches("file://").to_string());
            self.line = caps[2].parse().ok();
            self.column = caps[3].parse().ok();
            if reported {
                self.end = n;
            }
        }
        true
    }

    /// Emits the failure (and completes a test's case).
    pub(crate) fn close(self, sink: &mut Sink) {
        match self.kind {
            Kind::Npm => {
                let code = self.code.clone().unwrap_or_default();
                let message = self
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("npm error {code}"));
                // Only a block that names what went wrong (a code other
                // than a script's exit, or a missing script) is a cause:
                // the rest points at a debug log or says a script failed,
                // whose own output above says why.
                let says_why = !code.is_empty()
                    && code != "ELIFECYCLE"
                    && !code.bytes().all(|b| b.is_ascii_digit());
                let cascade = !(says_why || message.starts_with("Missing script"));
                let category = package_category(&code, &message);
                let mut draft = Draft::error("npm", category, message, (self.start, self.end));
                draft.code = self.code;
                sink.emit(if cascade { draft.cascade() } else { draft });
            }
            Kind::Test => {
                let suite_failed = self.name == "Test suite failed to run";
                let category = self
                    .message
                    .as_deref()
                    .and_then(message_category)
                    .unwrap_or(if suite_failed {
                        Category::Crash
                    } else {
                        Category::TestFailure
                    });
                let message = match &self.message {
                    Some(m) => format!("{}: {m}", self.name),
                    None => format!("{} failed", self.name),
                };
                let mut draft = Draft::error(self.tool, category, message, (self.start, self.end));
                draft.file = self.file.clone();
                draft.line = self.line;
                draft.column = self.column;
                sink.emit(draft);
                if !suite_failed {
                    sink.test(
                        self.start,
                        self.tool,
                        TestCase {
                            name: self.name.clone(),
                            outcome: TestOutcome::Failed,
                            message: self.message,
                            file: self.file,
                            line: self.line,
                        },
                    );
                    sink.test_diagnosed(&self.name);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::strategy::Strategy;

    use super::*;

    #[test]
    fn the_mark_check_rules_out_plain_numbers() {
        assert!(marked_after_place(
            "46:3  ✖  Unexpected empty block  block-no-empty"
        ));
        assert!(marked_after_place("46:3  ⚠  x  rule"));
        assert!(!marked_after_place("12:30:01 passed"));
        assert!(!marked_after_place("12 tests passed"));
        assert!(!marked_after_place("1:2 error x"));
    }

    proptest::proptest! {
        #[test]
        fn the_mark_check_lets_every_match_through(
            line in proptest::collection::vec(
                proptest::sample::select(vec![
                    " ", "  ", "\t", "\u{a0}", "\u{b}", "1", "46", "\u{663}", ":", "3", "✖", "⚠",
                    "x", "message", "  rule",
                ]),
                0..9,
            )
            .prop_map(|parts| parts.concat())
        ) {
            if STYLISH_MARKED.is_match(&line) {
                let t = crate::trim_indent(&line);
                proptest::prop_assert!(marked_after_place(t), "{:?}", line);
            }
        }
    }

    /// pnpm and yarn cannot run offline here; these lines follow their
    /// documented output.
    #[test]
    fn pnpm_and_yarn_lines_from_their_documented_format() {
        let draft = pnpm_or_yarn(3, "ERR_PNPM_NO_SCRIPT  Missing script: build").expect("pnpm");
        assert_eq!(draft.code.as_deref(), Some("ERR_PNPM_NO_SCRIPT"));
        assert_eq!(draft.category, Category::ConfigError);
        assert!(draft.root_cause);
        let draft = pnpm_or_yarn(
            4,
            "ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL  app@1.0.0 test: `jest`",
        )
        .expect("pnpm");
        assert!(!draft.root_cause);
        let draft = pnpm_or_yarn(5, "error Command failed with exit code 1.").expect("yarn");
        assert!(!draft.root_cause);
        let draft = pnpm_or_yarn(
            6,
            "error Couldn't find package \"lefpad\" on the \"npm\" registry.",
        )
        .expect("yarn");
        assert!(draft.root_cause);
        assert!(pnpm_or_yarn(7, "error: something else").is_none());
    }

    #[test]
    fn eslint_paths() {
        assert!(is_source_path("/home/x/src/a.ts"));
        assert!(!is_source_path("/home/x/src/a.ts:3:1"));
        assert!(!is_source_path("/usr/bin/make all"));
    }
}
