//! The answer for logs no parser understood: the error-looking lines of
//! the log, grouped into short blocks with a few lines of context, so an
//! unknown tool still gets a short report instead of none.
//!
//! Every cleaned line is checked against a few case-insensitive keywords
//! (`error`, `fail`, `fatal`, `exception`, `panic`, `denied`, `not found`,
//! `cannot`, `undefined`, …), not counting keywords inside file, package or
//! CamelCase names and lines that report success or an echoed command.
//! Lines within [`GAP`] lines of each other form one block; at most
//! [`MAX_BLOCKS`] blocks are remembered, so memory stays constant however
//! long the log: when full, the oldest block that does not say outright
//! that something failed (see `is_strong`) makes room. When the log ends
//! without a root cause, the blocks become `generic` diagnostics until
//! [`MAX_LINES`] log lines are reported: the latest [`RECENT_BLOCKS`]
//! first, then the strong ones, then the rest, each latest first; a block
//! that repeats an earlier one's headline (a retried step) is reported
//! where it first happened.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::LazyLock,
};

use aho_corasick::AhoCorasick;

use crate::{Category, classify::message_category, sink::Draft};

/// Keywords of an error-looking line, matched without regard to case.
pub(crate) const KEYWORDS: &[&str] = &[
    "error",
    "fail",
    "fatal",
    "exception",
    "panic",
    "denied",
    "not found",
    "cannot",
    "can't",
    "undefined",
    "unable to",
    "could not",
    "couldn't",
    "traceback",
    "abort",
    "segmentation fault",
    "killed",
    "timed out",
    "exited with",
    "exit code",
    "exit status",
    "assert",
    "no such file",
    "refused",
    "not ok",
    "expected",
    "✗",
    "✖",
    "×",
    "[-]",
    // What `classify::infra_line` knows, so its hits always form blocks.
    "no output has been received",
    "provided but not defined",
    "maximum execution time",
    "no space left",
    "quota exceeded",
    "out of memory",
    "bad_alloc",
    "sigkill",
    "sigsegv",
    "sigabrt",
    "sigbus",
    "core dumped",
    "illegal instruction",
    "connection re",
    "connection timed out",
    "resolve host",
    "name resolution",
    "service not known",
    "servname",
    "unreachable",
    "econn",
    "enotfound",
    "eai_again",
    "ssl certificate",
    "no matching distribution",
    "satisfies the requirement",
    "unable to locate package",
];

/// Phrases that look like errors but report success, an option, a name or
/// an echoed command. Checked only on lines that hit a keyword.
const NOT_ERRORS: &[&str] = &[
    " 0 errors",
    " 0 failures",
    " 0 failed",
    " 0 failing",
    "failures: 0",
    "errors: 0",
    "failed: 0",
    "-werror",
    "--fail",
    "error_",
    "_error",
    "ignoring",
    "retrying",
    "exited with 0",
    "exited with code 0 ",
    "exit code 0",
    "exit status 0",
    "expected_",
];

/// Line starts of lines that are not outcomes: echoed commands, the CI
/// service's own bookkeeping and the final status line that every failed
/// build ends with.
const NOT_ERROR_STARTS: &[&str] = &[
    "$ ",
    "+ ",
    "travis_fold",
    "travis_time",
    "Done. Your build exited with",
    "npm WARN",
    "\u{2713}",
    "\u{2714}",
    "[+]",
    "ok ",
    "PASS",
    "[PASS]",
    "info ",
    "INFO",
    "[INFO]",
    "DEBUG",
    "[DEBUG]",
    "warning:",
];

/// The latest blocks, reported before any other.
const RECENT_BLOCKS: usize = 2;

/// Lines this close together belong to one block.
const GAP: u64 = 3;
/// How many of the latest blocks are remembered and at most reported.
const MAX_BLOCKS: usize = 32;
/// Lines of a block reported from its first error-looking line on.
const BLOCK_LINES: u64 = 5;
/// Lines of context reported before a block: what explains a failure is
/// often printed just before the line that says it failed.
const CONTEXT_BEFORE: u64 = 5;
/// Lines reported in all, so the fallback stays a short answer.
const MAX_LINES: u64 = 60;
/// A block's message is its first line, cut to this many bytes.
const MAX_HEADLINE: usize = 200;

/// A run of error-looking lines.
#[derive(Debug)]
struct Block {
    /// First error-looking line.
    start: u64,
    /// Last error-looking line.
    end: u64,
    /// The first line's text, the diagnostic's message.
    headline: String,
    /// One of its lines says outright that something failed.
    strong: bool,
}

/// The latest error-looking blocks of a log.
#[derive(Debug, Default)]
pub(crate) struct Fallback {
    blocks: VecDeque<Block>,
    /// The highest line number pushed, so context never runs past the log.
    last_line: u64,
}

impl Fallback {
    /// Offers a cleaned line; `keyword_from` is `None` when the line is
    /// known to hold no keyword, or else a byte no keyword starts before
    /// (see [`crate::prefilter`]). Returns whether the line looks like an
    /// error.
    pub(crate) fn line(&mut self, n: u64, line: &str, keyword_from: Option<usize>) -> bool {
        self.last_line = self.last_line.max(n);
        let Some(from) = keyword_from else {
            return false;
        };
        if !is_error_looking(line, from) {
            return false;
        }
        let strong = is_strong(line);
        if let Some(last) = self.blocks.back_mut()
            && n.saturating_sub(last.end) <= GAP
        {
            last.end = n;
            last.strong |= strong;
            return true;
        }
        if self.blocks.len() == MAX_BLOCKS {
            // The oldest block that does not say outright that something
            // failed makes room; a long log's noise must not push out its
            // one clear failure.
            let weak = self.blocks.iter().position(|b| !b.strong);
            match weak {
                Some(i) => {
                    self.blocks.remove(i);
                }
                None => {
                    self.blocks.pop_front();
                }
            }
        }
        self.blocks.push_back(Block {
            start: n,
            end: n,
            headline: cut(line.trim(), MAX_HEADLINE).to_string(),
            strong,
        });
        true
    }

    /// The first line of the `k`-th latest block (1 = the latest), or of
    /// the earliest remembered one when there are fewer; `None` when no
    /// line looked like an error.
    pub(crate) fn recent_start(&self, k: usize) -> Option<u64> {
        let i = self.blocks.len().saturating_sub(k);
        self.blocks.get(i).map(|b| b.start)
    }

    /// The remembered blocks as root-cause diagnostics, latest first, with
    /// [`CONTEXT_BEFORE`] lines of context before each and at most
    /// [`MAX_LINES`] in all.
    pub(crate) fn drafts(self) -> Vec<Draft> {
        self.drafts_beside(&[], 0, 0, MAX_LINES)
    }

    /// What to add to a parser's root causes: the blocks that start after
    /// line `after`, and the blocks that say outright that something failed
    /// and lie more than `apart` lines from every `covered` range, as
    /// [`drafts`](Self::drafts) gives them, in at most `budget` lines.
    pub(crate) fn drafts_beside(
        self,
        covered: &[(u64, u64)],
        apart: u64,
        after: u64,
        mut budget: u64,
    ) -> Vec<Draft> {
        // The latest blocks first, then those that say outright that
        // something failed, then the rest, each latest first: noise after
        // the failure (an uploader's retries, a cleanup step) must not
        // crowd out the line that names it.
        let order = self.blocks.iter().enumerate().rev().map(|(i, block)| {
            let rank = if i + RECENT_BLOCKS >= self.blocks.len() {
                0
            } else if block.strong {
                1
            } else {
                2
            };
            (rank, std::cmp::Reverse(i), i)
        });
        let mut order: Vec<_> = order.collect();
        order.sort_unstable();
        // A block that repeats an earlier one's headline (a retried step)
        // stands for the earliest: the first failure is the one to read.
        let mut earliest: HashMap<&str, usize> = HashMap::new();
        for (i, block) in self.blocks.iter().enumerate() {
            earliest.entry(block.headline.as_str()).or_insert(i);
        }
        let mut taken = HashSet::new();
        let mut drafts = Vec::new();
        let picks = order.into_iter().map(|(_, _, i)| {
            earliest
                .get(self.blocks[i].headline.as_str())
                .copied()
                .unwrap_or(i)
        });
        for i in picks {
            if budget == 0 {
                break;
            }
            if !taken.insert(i) {
                continue;
            }
            let block = &self.blocks[i];
            // A line a parser read, if only as a cascade, is known: it is
            // never repeated as an unknown error.
            if covered
                .iter()
                .any(|&(a, b)| block.start <= b && block.end >= a)
            {
                continue;
            }
            let far = covered
                .iter()
                .all(|&(a, b)| block.end + apart < a || block.start > b + apart);
            if block.start <= after && !(block.strong && far) {
                continue;
            }
            let first = block.start.saturating_sub(CONTEXT_BEFORE).max(1);
            let last = (block.end + 1)
                .min(block.start + BLOCK_LINES)
                .min(self.last_line)
                .min(first + budget - 1)
                .max(first);
            budget = budget.saturating_sub(last - first + 1);
            let category = message_category(&block.headline).unwrap_or(Category::Unknown);
            drafts.push(Draft::error(
                "generic",
                category,
                block.headline.clone(),
                (first, last),
            ));
        }
        drafts
    }
}

/// Whether a cleaned line reads like a failure; no keyword starts before
/// byte `from`, so the search for them starts there.
fn is_error_looking(line: &str, from: usize) -> bool {
    static SCAN: LazyLock<AhoCorasick> = LazyLock::new(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(KEYWORDS)
            // Reason: literal patterns always build.
            .expect("valid keywords")
    });
    static NOT: LazyLock<AhoCorasick> = LazyLock::new(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(NOT_ERRORS)
            // Reason: literal patterns always build.
            .expect("valid phrases")
    });
    let t = crate::trim_indent(line);
    if NOT_ERROR_STARTS.iter().any(|s| t.starts_with(s)) {
        return false;
    }
    // A keyword inside a file or package name (`libgpg-error`,
    // `Error.swift`, `spdx-exceptions@2.2.0`) says nothing about the line.
    // Leftmost-first matches from `from` are those from the line's start,
    // as none starts before it.
    let input = aho_corasick::Input::new(line).range(from.min(line.len())..);
    SCAN.find_iter(input)
        .any(|m| !in_a_name(line, m.start(), m.end()))
        && !NOT.is_match(t)
}

/// Whether the keyword at `start..end` lies inside a whitespace-delimited
/// word that names a file, a path or a versioned package rather than
/// saying something: it holds a `/`, an `@` or a `-` followed by a digit,
/// or ends in a lower-case file extension that is not the keyword itself.
fn in_a_name(line: &str, start: usize, end: usize) -> bool {
    let b = line.as_bytes();
    // The middle of an identifier: `testThatRetryErrorWhenThrown`.
    if start > 0
        && b[start - 1].is_ascii_alphabetic()
        && b.get(end).is_some_and(u8::is_ascii_alphabetic)
        && b[start].is_ascii_uppercase()
    {
        return true;
    }
    let word_start = b[..start]
        .iter()
        .rposition(|c| c.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let word_end = b[end..]
        .iter()
        .position(|c| c.is_ascii_whitespace())
        .map_or(b.len(), |i| end + i);
    let word = line[word_start..word_end]
        .trim_matches(|c: char| matches!(c, '\'' | '"' | '`' | '(' | ')' | '[' | ']' | ',' | ';'));
    let word = word.trim_end_matches([':', '.']);
    if word.contains('/') || word.contains('@') {
        return true;
    }
    let w = word.as_bytes();
    if w.windows(2).any(|p| p[0] == b'-' && p[1].is_ascii_digit()) {
        return true;
    }
    // `Error.swift`, `error.js`, `NMBExceptionCapture.m`: the keyword
    // ends before the extension.
    let offset = word.as_ptr() as usize - line.as_ptr() as usize;
    match word.rfind('.') {
        Some(dot) if dot > 0 && dot + 1 < word.len() => {
            let ext = &word[dot + 1..];
            ext.len() <= 5
                && ext
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && end <= offset + dot
        }
        _ => false,
    }
}

/// Whether an error-looking line says outright that something failed:
/// it starts with a severity or verdict (`error`, `FAIL`, `fatal:`,
/// `not ok`, `[ERROR]`, `✗`) or holds `error:` or `Exception:`.
fn is_strong(line: &str) -> bool {
    const STARTS: &[&str] = &[
        "error", "fail", "fatal", "not ok", "[error]", "[fail", "[fatal", "[-]", "e   ",
        "\u{2717}", "\u{2716}", "\u{d7}", "!", "**", "panic",
    ];
    let t = crate::trim_indent(line);
    let head = t.get(..12).unwrap_or(t);
    let lower = head.to_ascii_lowercase();
    STARTS.iter().any(|s| lower.starts_with(s))
        || has!(line, "error:")
        || has!(line, "Error:")
        || has!(line, "ERROR:")
        || has!(line, "Exception:")
        || has!(line, " FAILED")
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
    use proptest::strategy::Strategy;

    use super::*;
    use crate::prefilter;

    /// [`is_error_looking`] as the engine asks it: after the prefilter,
    /// from where the prefilter says the keywords start.
    fn looks(line: &str) -> bool {
        let scan = prefilter::scan(line, !line.is_ascii());
        let from_start = scan.sets & prefilter::FALLBACK != 0 && is_error_looking(line, 0);
        let from_scan =
            scan.sets & prefilter::FALLBACK != 0 && is_error_looking(line, scan.fallback_from);
        assert_eq!(from_scan, from_start, "{line:?}");
        from_scan
    }

    proptest::proptest! {
        #[test]
        fn starting_where_the_prefilter_says_changes_nothing(
            line in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(KEYWORDS.to_vec()).prop_map(str::to_string),
                    proptest::sample::select(NOT_ERRORS.to_vec()).prop_map(str::to_string),
                    proptest::string::string_regex("[a-zA-Z ./@:_\\[\\]-]{0,6}").unwrap(),
                ],
                0..7,
            )
            .prop_map(|parts| parts.concat())
        ) {
            // `looks` asserts that both starts agree.
            looks(&line);
        }
    }

    #[test]
    fn keeps_the_latest_blocks_within_the_log() {
        let mut fallback = Fallback::default();
        for n in 1..=100 {
            let line = match n {
                10 => "Error: first",
                11 => "more failures",
                50 => "$ make || echo failed",
                60 => "0 errors, 0 failures",
                97 => "FATAL: last",
                _ => "all good",
            };
            fallback.line(n, line, Some(0));
        }
        let ranges: Vec<_> = fallback.drafts().iter().map(|d| d.log_lines).collect();
        assert_eq!(
            ranges,
            vec![(97 - CONTEXT_BEFORE, 98), (10 - CONTEXT_BEFORE, 12)]
        );
    }

    #[test]
    fn keywords_inside_names_do_not_count() {
        assert!(!looks("Removing: /usr/lib/libgpg-error... (64B)"));
        assert!(!looks("Linting 'Error.swift' (10/48)"));
        assert!(!looks("  ├─┬ error-ex@1.3.2"));
        assert!(!looks("▸ Compiling NMBExceptionCapture.m"));
        assert!(looks("src/a.c:3:1: error: expected ';'"));
        assert!(looks("java.lang.IllegalStateException: boom"));
        assert!(looks("Error.swift:3: error: x"));
        assert!(looks("FAILED tests/test_a.py::test_b"));
    }

    #[test]
    fn the_runners_note_on_a_step_that_succeeded_is_not_an_error() {
        assert!(!looks(
            "[qide] step \"hello\" exited with code 0 after 0.0s"
        ));
        assert!(looks(
            "[qide] step \"hello\" exited with code 101 after 0.0s"
        ));
    }

    #[test]
    fn strong_blocks_outrank_older_noise() {
        let mut fallback = Fallback::default();
        fallback.line(10, "FAIL: the real one", Some(0));
        for n in 1..=20 {
            fallback.line(
                100 + 10 * n,
                "upload of the cache could not finish",
                Some(0),
            );
        }
        let ranges: Vec<_> = fallback.drafts().iter().map(|d| d.log_lines).collect();
        assert!(ranges.contains(&(10 - CONTEXT_BEFORE, 11)), "{ranges:?}");
    }

    #[test]
    fn a_retried_failure_is_reported_where_it_first_happened() {
        let mut fallback = Fallback::default();
        for start in [100, 200, 300] {
            fallback.line(
                start,
                "xcodebuild: error: Unable to find a destination",
                Some(0),
            );
            fallback.line(
                start + 30,
                "The command \"x\" failed and exited with 70",
                Some(0),
            );
        }
        let ranges: Vec<_> = fallback.drafts().iter().map(|d| d.log_lines).collect();
        assert!(ranges.contains(&(100 - CONTEXT_BEFORE, 101)), "{ranges:?}");
        assert!(
            !ranges.iter().any(|r| r.0 <= 300 && r.1 >= 300),
            "{ranges:?}"
        );
    }

    #[test]
    fn noise_does_not_push_out_a_clear_failure() {
        let mut fallback = Fallback::default();
        fallback.line(10, "fail: no such hash", Some(0));
        for n in 1..=200 {
            fallback.line(
                100 + 10 * n,
                &format!("got message {n}: unable to verify"),
                Some(0),
            );
        }
        let ranges: Vec<_> = fallback.drafts().iter().map(|d| d.log_lines).collect();
        assert!(ranges.contains(&(10 - CONTEXT_BEFORE, 11)), "{ranges:?}");
    }

    #[test]
    fn reports_at_most_max_lines() {
        let mut fallback = Fallback::default();
        for n in 1..=1_000 {
            let line = if n % 10 == 0 {
                format!("error {n}")
            } else {
                "x".to_string()
            };
            fallback.line(n, &line, Some(0));
        }
        let drafts = fallback.drafts();
        let total: u64 = drafts
            .iter()
            .map(|d| d.log_lines.1 - d.log_lines.0 + 1)
            .sum();
        assert!(total <= MAX_LINES);
        assert_eq!(drafts[0].log_lines, (1_000 - CONTEXT_BEFORE, 1_000));
    }
}
