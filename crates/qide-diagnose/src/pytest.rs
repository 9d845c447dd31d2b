//! pytest output: the `FAILURES`/`ERRORS` sections (message from the `E`
//! lines, location from the innermost project frame), the short test
//! summary (`FAILED path::test - msg`), verbose per-test lines and the
//! final `N failed, M passed` count.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::Regex;

use crate::{
    Category, TestCase, TestOutcome,
    python::{exception_category, frame_location, is_project_file},
    sink::{Draft, Sink},
};

/// A verbose result line's test id and outcome word (`tests/t.py::test_x
/// PASSED [ 50%]`): what `^(\S+::.+?) (PASSED|FAILED|SKIPPED|ERROR|XFAIL|
/// XPASS)(?: |$)` captures, without a regex (Python logs hold one such line
/// per test, and the pattern's backtracking cost a fortieth of the engine's
/// time). `outcomes` finds ` PASSED` and the others, leftmost first.
fn verbose_outcome<'a>(line: &'a str, outcomes: &AhoCorasick) -> Option<(&'a str, &'a str)> {
    // The id starts with a run of non-space characters holding `::` after
    // at least one of them, and goes on for at least one more after it. As
    // the pattern backtracks, the last such `::` of the run is tried first,
    // with the earliest outcome word after it, then earlier `::`s.
    let run = line.find(char::is_whitespace).unwrap_or(line.len());
    let words: Vec<(usize, usize)> = outcomes
        .find_iter(line)
        .map(|m| (m.start(), m.end()))
        .filter(|&(_, end)| line[end..].is_empty() || line[end..].starts_with(' '))
        .collect();
    if words.is_empty() {
        return None;
    }
    let head = line.get(..run)?;
    let mut colons = head.len();
    while let Some(k) = head[..colons].rfind("::") {
        if k >= 1
            && let Some(&(start, end)) = words.iter().find(|&&(start, _)| start >= k + 3)
        {
            return Some((&line[..start], &line[start + 1..end]));
        }
        if k == 0 {
            break;
        }
        // The next search ends inside this `::`, so `:::` yields both.
        colons = k + 1;
    }
    None
}

/// The title of a pytest banner line (`===== FAILURES =====`): what
/// `^=+ (.+?) =+\s*$` captures, without a regex (LogChunks logs hold many
/// lines of `=`, and the regex cost a ninth of the engine's time).
fn banner_title(line: &str) -> Option<&str> {
    let rest = line.trim_start_matches('=');
    if rest.len() == line.len() {
        return None;
    }
    let body = rest.strip_prefix(' ')?.trim_end();
    let inner = body.trim_end_matches('=');
    if inner.len() == body.len() {
        return None;
    }
    inner.strip_suffix(' ').filter(|title| !title.is_empty())
}
static SECTION: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^_{3,} (.+?) _{3,}\s*$").expect("valid regex")
});
static SUMMARY: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^(FAILED|ERROR) (\S+)(?: - (.*))?$").expect("valid regex")
});
static COUNTS: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\d+ (?:failed|passed|errors?|skipped|deselected|xfailed|xpassed|warnings?)\b.* in [\d.]+s\b")
        .expect("valid regex")
});
static LOCATION: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^([^\s:][^:]*?\.py):(\d+):(?: (.*))?$").expect("valid regex")
});

/// The file and line number (groups 1 and 2) of a line that matches
/// [`LOCATION`], read by hand on an ASCII line as the regex reads it (a
/// traceback's lines are long, and the capturing search cost more than the
/// rest of their reading): the name runs to the first colon and ends in
/// `.py`, then the number and a colon end the line or are followed by a
/// space. A line that is not ASCII, or has a line break, is left to the
/// regex.
fn location(line: &str) -> Option<(&str, &str)> {
    if !line.is_ascii() || line.contains('\n') {
        let caps = LOCATION.captures(line)?;
        return Some((caps.get(1)?.as_str(), caps.get(2)?.as_str()));
    }
    let b = line.as_bytes();
    let colon = memchr::memchr(b':', b)?;
    let file = &line[..colon];
    // `[^\s:]` (the vertical tab is a space too), then `[^:]*?\.py`.
    if file.len() < 4 || !file.ends_with(".py") || b[0].is_ascii_whitespace() || b[0] == 0x0b {
        return None;
    }
    let digits = b[colon + 1..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    let end = colon + 1 + digits;
    if digits == 0 || b.get(end) != Some(&b':') || !matches!(b.get(end + 1), None | Some(b' ')) {
        return None;
    }
    Some((file, &line[colon + 1..end]))
}

/// At most this many finished sections wait for the short summary.
const MAX_PENDING: usize = 1_000;

/// pytest state that spans sections.
#[derive(Debug, Default)]
pub(crate) struct Pytest {
    /// Inside the `FAILURES` or `ERRORS` part, where `___ name ___` opens a section.
    in_report: bool,
    /// Sections read but not yet emitted: the short summary that follows
    /// gives them their full node id.
    pending: Vec<Finished>,
}

/// A finished failure section.
#[derive(Debug)]
pub(crate) struct Finished {
    title: String,
    node_id: Option<String>,
    summary_message: Option<String>,
    section: Section,
}

/// A failure section being read.
#[derive(Debug)]
pub(crate) struct Section {
    title: String,
    start: u64,
    end: u64,
    message: Option<String>,
    location: Option<(String, u32)>,
    project_location: Option<(String, u32)>,
    /// Past a `Captured stdout` divider: the test's own output, not pytest's.
    captured: bool,
    /// Past an `E   File "x.py", line N` line: the source line and caret
    /// that follow are not the message; the exception line is.
    after_frame: bool,
}

/// What a top-level line meant to pytest.
pub(crate) enum Line {
    /// A failure section starts here.
    Section(Section),
    /// The line was pytest's and is handled.
    Handled,
}

impl Pytest {
    /// Handles a line outside any section; `None` when it is not pytest's.
    pub(crate) fn line(&mut self, n: u64, line: &str, sink: &mut Sink) -> Option<Line> {
        match line.as_bytes().first()? {
            b'=' => {
                let title = banner_title(line)?;
                match title {
                    "FAILURES" | "ERRORS" => self.in_report = true,
                    _ if COUNTS.is_match(title) => self.counts(n, title, sink),
                    _ => self.in_report = false,
                }
                Some(Line::Handled)
            }
            b'_' if self.in_report => {
                let caps = SECTION.captures(line)?;
                Some(Line::Section(Section {
                    title: caps[1].to_string(),
                    start: n,
                    end: n,
                    message: None,
                    location: None,
                    project_location: None,
                    captured: false,
                    after_frame: false,
                }))
            }
            b'F' | b'E' if line.starts_with("FAILED ") || line.starts_with("ERROR ") => {
                let caps = SUMMARY.captures(line)?;
                self.summary(n, &caps[1], &caps[2], caps.get(3).map(|m| m.as_str()), sink);
                Some(Line::Handled)
            }
            // Many lines start with a digit (timestamps, versions): the
            // regex runs only on `N word … in Ns` shapes.
            b'0'..=b'9'
                if line
                    .trim_start_matches(|c: char| c.is_ascii_digit())
                    .starts_with(' ')
                    && line.contains(" in ")
                    && COUNTS.is_match(line) =>
            {
                self.counts(n, line, sink);
                Some(Line::Handled)
            }
            _ if has!(line, "::") => {
                // Most `::` lines (C++, Rust paths) name no outcome; a
                // literal scan rules them out before the regex.
                static OUTCOME: LazyLock<AhoCorasick> = LazyLock::new(|| {
                    AhoCorasick::builder()
                        .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                        .build([
                            " PASSED", " FAILED", " SKIPPED", " ERROR", " XFAIL", " XPASS",
                        ])
                        // Reason: literal patterns always build.
                        .expect("valid outcomes")
                });
                let (name, word) = verbose_outcome(line, &OUTCOME)?;
                let outcome = match word {
                    "PASSED" | "XFAIL" | "XPASS" => TestOutcome::Passed,
                    "FAILED" | "ERROR" => TestOutcome::Failed,
                    _ => TestOutcome::Skipped,
                };
                let name = name.to_string();
                let file = name.split("::").next().map(str::to_string);
                sink.test(
                    n,
                    "pytest",
                    TestCase {
                        name,
                        outcome,
                        message: None,
                        file,
                        line: None,
                    },
                );
                Some(Line::Handled)
            }
            _ => None,
        }
    }

    /// Keeps a finished section until the short summary names it.
    pub(crate) fn finished(&mut self, section: Section, sink: &mut Sink) {
        let finished = Finished {
            title: section.title.clone(),
            node_id: None,
            summary_message: None,
            section,
        };
        if self.pending.len() >= MAX_PENDING {
            emit(finished, sink);
        } else {
            self.pending.push(finished);
        }
    }

    fn summary(
        &mut self,
        n: u64,
        kind: &str,
        node_id: &str,
        message: Option<&str>,
        sink: &mut Sink,
    ) {
        let test = node_id.split_once("::").map(|(_, t)| t.replace("::", "."));
        let candidates = match (kind, &test) {
            ("FAILED", Some(t)) => vec![t.clone()],
            ("ERROR", Some(t)) => vec![
                format!("ERROR at setup of {t}"),
                format!("ERROR at teardown of {t}"),
            ],
            _ => vec![format!("ERROR collecting {node_id}")],
        };
        if let Some(p) = self
            .pending
            .iter_mut()
            .find(|p| p.node_id.is_none() && candidates.contains(&p.title))
        {
            p.node_id = Some(node_id.to_string());
            p.summary_message = message.map(str::to_string);
            return;
        }
        let section = Section {
            title: node_id.to_string(),
            start: n,
            end: n,
            message: None,
            location: node_id.split("::").next().map(|f| (f.to_string(), 0)),
            project_location: None,
            captured: false,
            after_frame: false,
        };
        emit(
            Finished {
                title: node_id.to_string(),
                node_id: Some(node_id.to_string()),
                summary_message: message.map(str::to_string),
                section,
            },
            sink,
        );
    }

    fn counts(&mut self, n: u64, counts: &str, sink: &mut Sink) {
        self.flush(sink);
        self.in_report = false;
        if counts.contains("failed") || counts.contains("error") {
            sink.emit(
                Draft::error("pytest", Category::TestFailure, counts.to_string(), (n, n)).cascade(),
            );
        }
    }

    /// Emits every pending section.
    pub(crate) fn flush(&mut self, sink: &mut Sink) {
        for finished in self.pending.drain(..) {
            emit(finished, sink);
        }
    }
}

fn emit(finished: Finished, sink: &mut Sink) {
    let Finished {
        title,
        node_id,
        summary_message,
        section,
    } = finished;
    let collection = title.starts_with("ERROR collecting ");
    let name = node_id.unwrap_or_else(|| {
        title
            .strip_prefix("ERROR collecting ")
            .unwrap_or(&title)
            .to_string()
    });
    let detail = section.message.or(summary_message);
    let mut category = Category::TestFailure;
    if let Some(d) = &detail {
        let kind = d.split(':').next().unwrap_or("");
        if let c @ (Category::SyntaxError | Category::MissingDependency) =
            exception_category(kind, d)
        {
            category = c;
        }
    }
    let location = section.project_location.or(section.location);
    let file = location.as_ref().map(|(f, _)| f.clone());
    let line = location.and_then(|(_, l)| (l > 0).then_some(l));
    let message = match &detail {
        Some(d) if collection => format!("error collecting {name}: {d}"),
        Some(d) => format!("{name}: {d}"),
        None => format!("{name} failed"),
    };
    let mut draft = Draft::error("pytest", category, message, (section.start, section.end));
    draft.file = file.clone();
    draft.line = line;
    sink.emit(draft);
    if !collection {
        sink.test(
            section.start,
            "pytest",
            TestCase {
                name: name.clone(),
                outcome: TestOutcome::Failed,
                message: detail,
                file,
                line,
            },
        );
        sink.test_diagnosed(&name);
    }
}

impl Section {
    /// Offers the next line; returns whether it belongs to this section.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        if n != self.start
            && (line.starts_with("___") && SECTION.is_match(line)
                || line.starts_with("==") && banner_title(line).is_some())
        {
            return false;
        }
        if line.starts_with('-') && line.contains(" Captured ") {
            self.captured = true;
        }
        if !self.captured {
            if let Some(rest) = line.strip_prefix("E ") {
                let rest = rest.trim();
                if rest.starts_with("File \"")
                    && let Some(location) = frame_location(rest)
                {
                    // A SyntaxError raised while importing prints where the
                    // bad code is in its `E` lines, under the import's frame:
                    // that is the innermost place, so it wins.
                    if is_project_file(&location.0) {
                        self.project_location = Some(location.clone());
                    }
                    self.location = Some(location);
                    self.after_frame = true;
                } else if self.after_frame {
                    if is_exception_line(rest) {
                        self.message = Some(rest.to_string());
                        self.after_frame = false;
                    }
                } else if self.message.is_none() && !rest.is_empty() {
                    self.message = Some(rest.to_string());
                }
            } else if has!(line, ".py:")
                && let Some((file, number)) = location(line)
                && let Ok(number) = number.parse::<u32>()
            {
                let location = (file.to_string(), number);
                if is_project_file(&location.0) {
                    self.project_location = Some(location.clone());
                }
                self.location = Some(location);
            }
        }
        if !line.trim().is_empty() {
            self.end = n;
        }
        true
    }
}

/// Whether `text` reads as an exception line (`SyntaxError: expected ':'`)
/// rather than source code or a caret under it.
fn is_exception_line(text: &str) -> bool {
    let name = text.split_once(':').map_or(text, |(name, _)| name);
    name.rsplit('.').next().is_some_and(|short| {
        short.starts_with(|c: char| c.is_ascii_uppercase())
            && short.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    }) && name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_locations_as_the_regex_does() {
        for line in [
            "tests/test_a.py:12: AssertionError",
            "tests/test_a.py:12:",
            "tests/test_a.py:12:x",
            "a.py:1: x",
            ".py:1: x",
            " a.py:1: x",
            "\u{b}a.py:1: x",
            "a b/c.py:3: x",
            "a.pyc:3: x",
            "a.py:x:3: y",
            "a.py:3",
            "a.py:\u{663}: x",
            "\u{e9}.py:3: x",
            "a.py:3: x\ny",
            "src/x.py:10: in test_f",
        ] {
            let regex = super::LOCATION
                .captures(line)
                .map(|c| (c[1].to_string(), c[2].to_string()));
            let ours = super::location(line).map(|(f, n)| (f.to_string(), n.to_string()));
            assert_eq!(ours, regex, "{line:?}");
        }
    }

    use super::*;

    #[test]
    fn verbose_outcomes_are_what_the_regex_captured() {
        let regex =
            Regex::new(r"^(\S+::.+?) (PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS)(?: |$)").unwrap();
        let outcomes = AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build([
                " PASSED", " FAILED", " SKIPPED", " ERROR", " XFAIL", " XPASS",
            ])
            .unwrap();
        let expected = |line: &str| {
            regex
                .captures(line)
                .map(|c| (c[1].to_owned(), c[2].to_owned()))
        };
        // Every sequence of up to six pieces over the ones that matter.
        let pieces = [
            ":", "::", " ", "a", "é", " PASSED", " ERROR", "S", "\t", "x",
        ];
        let mut lines = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..6 {
            last = last
                .iter()
                .flat_map(|l| pieces.iter().map(move |p| format!("{l}{p}")))
                .collect();
            lines.extend(last.iter().cloned());
        }
        assert!(lines.len() > 1_000_000);
        lines.extend(
            [
                "tests/test_a.py::test_x PASSED                       [ 50%]",
                "tests/test_a.py::test_y[1 PASSED] FAILED",
                "tests/test_a.py::TestK::test_z SKIPPED (no db)",
                "::a::b PASSED",
                "a::b ERRORS ERROR",
            ]
            .map(str::to_owned),
        );
        for line in &lines {
            assert_eq!(
                verbose_outcome(line, &outcomes).map(|(n, w)| (n.to_owned(), w.to_owned())),
                expected(line),
                "{line:?}"
            );
        }
    }

    #[test]
    fn banner_titles_are_what_the_regex_captured() {
        let regex = Regex::new(r"^=+ (.+?) =+\s*$").unwrap();
        let expected = |line: &str| {
            regex
                .captures(line)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().to_owned())
        };
        // Every line of up to seven characters over the bytes that matter.
        let alphabet = ['=', ' ', 'a', '\t'];
        let mut lines = vec![String::new()];
        for _ in 0..7 {
            let longer: Vec<String> = lines
                .iter()
                .filter(|l| l.chars().count() == lines.last().map_or(0, |l| l.chars().count()))
                .flat_map(|l| alphabet.iter().map(move |c| format!("{l}{c}")))
                .collect();
            lines.extend(longer);
        }
        assert!(lines.len() > 20_000);
        lines.extend(
            [
                "==================== FAILURES ====================",
                "===== 1 failed, 2 passed in 0.12s =====\r",
                "=== a = b ===",
                "=== x= ===  ",
                "== é ==",
            ]
            .map(str::to_owned),
        );
        for line in &lines {
            assert_eq!(
                banner_title(line).map(str::to_owned),
                expected(line),
                "{line:?}"
            );
        }
    }
}
