//! Lines that are new since the last green build: the answer for a log no
//! parser understood, when a successful log of the same steps exists
//! (the logreduce / LogFaultFlagger idea, cut down to what streams).
//!
//! Both logs are read one line at a time. Each line is normalised to its
//! words: split at anything that is not a letter, digit or `_`, and every
//! word that holds a digit (numbers, hashes, addresses, timestamps, temp
//! names, durations) becomes one placeholder, so `took 3.2s at 0x7f3a` and
//! `took 1.9s at 0x55d1` read the same. The green log gives a [`Baseline`]:
//! the hashes of its normalised lines and of its words, a constant-size
//! summary however long the log.
//!
//! A line of the failed log whose normalised form the green log also
//! printed is not new. Any other line is new, and scored by how many of its
//! words the green log never used (token-set novelty): a line of known
//! words in a new order scores a little, a line of unknown words a lot, and
//! an error-looking one (see `fallback`) more. Adjacent new lines form a
//! block scored by its best line; the [`MAX_BLOCKS`] best blocks are kept
//! while the log streams and reported best first, in at most
//! [`MAX_LINES`] log lines.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};

use crate::{Category, ansi::strip_ansi, classify::message_category, sink::Draft};

/// At most this many distinct lines and words are remembered from a green
/// log (8 bytes each, plus the set's overhead): a bound on memory for a
/// baseline of any size. Past it, new lines and words are not added, which
/// only makes more of the failed log look new.
const MAX_BASELINE_ENTRIES: usize = 1 << 20;
/// Blocks kept while the failed log streams.
const MAX_BLOCKS: usize = 32;
/// New lines this close together form one block: one line between them
/// may be old or wordless (a diff's `@@ -1,5 +1,5 @@`, a blank line).
const GAP: u64 = 2;
/// Log lines reported in all.
pub(crate) const MAX_LINES: u64 = 40;
/// Log lines of one block reported.
const BLOCK_LINES: u64 = 8;
/// A block's message is its best line, cut to this many bytes.
const MAX_HEADLINE: usize = 200;
/// Score a new line gets whatever its words, so that a known-word line
/// in a new arrangement still ranks above nothing.
const BASE_SCORE: f32 = 0.3;
/// Added for a line that also looks like an error.
const ERROR_BONUS: f32 = 1.0;

/// What a successful log printed, as normalised line and word hashes.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    lines: HashSet<u64, Fixed>,
    words: HashSet<u64, Fixed>,
    /// Lines read, for callers that report it.
    read: u64,
}

impl Baseline {
    /// An empty baseline: every line is new against it.
    pub fn new() -> Baseline {
        Baseline::default()
    }

    /// Adds one line of the successful log.
    pub fn push_line(&mut self, text: &str) {
        self.read += 1;
        let cleaned = strip_ansi(text);
        let Some(line) = normalize(&cleaned) else {
            return;
        };
        if self.lines.len() < MAX_BASELINE_ENTRIES {
            self.lines.insert(line.hash);
        }
        for word in line.words {
            if self.words.len() >= MAX_BASELINE_ENTRIES {
                break;
            }
            self.words.insert(word);
        }
    }

    /// How many lines were pushed.
    pub fn lines_read(&self) -> u64 {
        self.read
    }

    /// Whether a line with this cleaned text was printed by the green log.
    pub(crate) fn has_line(&self, line: &str) -> bool {
        normalize(line).is_some_and(|l| self.lines.contains(&l.hash))
    }

    /// The novelty score of a cleaned line: `None` when the green log
    /// printed it (or it has no words), else how new it is.
    fn score(&self, line: &str) -> Option<f32> {
        let normal = normalize(line)?;
        if self.lines.contains(&normal.hash) {
            return None;
        }
        let total = normal.words.len().max(1) as f32;
        let unknown = normal
            .words
            .iter()
            .filter(|w| !self.words.contains(w))
            .count() as f32;
        Some(BASE_SCORE + (1.0 - BASE_SCORE) * unknown / total)
    }
}

/// A fixed-key hasher: the hashes are compared within one process only,
/// and a fixed key keeps them cheap (FNV-1a over 8-byte words).
#[derive(Debug, Clone, Copy, Default)]
struct Fixed;

impl BuildHasher for Fixed {
    type Hasher = Identity;
    fn build_hasher(&self) -> Identity {
        Identity(0)
    }
}

/// The set's keys are already hashes: use them as they are.
#[derive(Debug, Clone, Copy)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A line reduced to its words.
struct Normal {
    /// Hash of the words in order.
    hash: u64,
    /// Hash of each word that holds no digit.
    words: Vec<u64>,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// The words of `line` with digit-bearing ones masked; `None` when it has
/// no word without a digit (a bare number, a rule of dashes).
fn normalize(line: &str) -> Option<Normal> {
    let mut hash = FNV_OFFSET;
    let mut words = Vec::new();
    for word in line
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
    {
        let masked = word.bytes().any(|b| b.is_ascii_digit());
        let mut h = FNV_OFFSET;
        if masked {
            h = (h ^ u64::from(b'#')).wrapping_mul(FNV_PRIME);
        } else {
            for b in word.bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(FNV_PRIME);
            }
            words.push(h);
        }
        hash = (hash ^ h).wrapping_mul(FNV_PRIME).rotate_left(5);
    }
    (!words.is_empty()).then_some(Normal { hash, words })
}

/// A run of new lines in the failed log.
#[derive(Debug)]
struct Block {
    start: u64,
    end: u64,
    /// The best line's score.
    score: f32,
    /// The best line's text.
    headline: String,
}

/// The best blocks of new lines of a failed log, against a baseline.
#[derive(Debug)]
pub(crate) struct Novelty {
    baseline: Baseline,
    blocks: Vec<Block>,
    /// The block being extended.
    current: Option<Block>,
    last_line: u64,
}

impl Novelty {
    pub(crate) fn new(baseline: Baseline) -> Novelty {
        Novelty {
            baseline,
            blocks: Vec::new(),
            current: None,
            last_line: 0,
        }
    }

    /// The baseline, for filtering what other parts report.
    pub(crate) fn baseline(&self) -> &Baseline {
        &self.baseline
    }

    /// Offers a cleaned line of the failed log; `error_looking` is the
    /// fallback's verdict on it.
    pub(crate) fn line(&mut self, n: u64, line: &str, error_looking: bool) {
        self.last_line = self.last_line.max(n);
        let Some(mut score) = self.baseline.score(line) else {
            return;
        };
        if error_looking {
            score += ERROR_BONUS;
        }
        if let Some(block) = &mut self.current
            && n.saturating_sub(block.end) <= GAP
        {
            block.end = n;
            if score > block.score {
                block.score = score;
                block.headline = cut(line.trim(), MAX_HEADLINE).to_string();
            }
            return;
        }
        self.settle();
        self.current = Some(Block {
            start: n,
            end: n,
            score,
            headline: cut(line.trim(), MAX_HEADLINE).to_string(),
        });
    }

    /// Keeps the current block if it is among the best.
    fn settle(&mut self) {
        let Some(block) = self.current.take() else {
            return;
        };
        if self.blocks.len() < MAX_BLOCKS {
            self.blocks.push(block);
            return;
        }
        // The weakest, and of equals the oldest, makes room: failures are
        // printed late.
        let weakest = self
            .blocks
            .iter()
            .enumerate()
            .min_by(|(_, a), (_, b)| a.score.total_cmp(&b.score))
            .map(|(i, _)| i);
        if let Some(i) = weakest
            && self.blocks[i].score <= block.score
        {
            self.blocks.remove(i);
            self.blocks.push(block);
        }
    }

    /// The kept blocks as root-cause drafts, best first (of equals, the
    /// latest), in at most `budget` log lines.
    pub(crate) fn drafts(mut self, mut budget: u64) -> Vec<Draft> {
        self.settle();
        let mut blocks = self.blocks;
        blocks.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.start.cmp(&a.start)));
        let mut drafts = Vec::new();
        for block in blocks {
            if budget == 0 {
                break;
            }
            let last = block
                .end
                .min(block.start + BLOCK_LINES - 1)
                .min(block.start + budget - 1)
                .min(self.last_line.max(block.start));
            budget = budget.saturating_sub(last - block.start + 1);
            let category = message_category(&block.headline).unwrap_or(Category::Unknown);
            let mut draft = Draft::error("novelty", category, block.headline, (block.start, last));
            draft.code = Some("new-since-green".to_string());
            drafts.push(draft);
        }
        drafts
    }
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

    fn baseline(lines: &[&str]) -> Baseline {
        let mut baseline = Baseline::new();
        for line in lines {
            baseline.push_line(line);
        }
        baseline
    }

    #[test]
    fn numbers_hashes_and_durations_do_not_make_a_line_new() {
        let green = baseline(&["took 3.2s at 0x7f3a, build 1a2b3c4d5e on 2026-11-26T10:00:01Z"]);
        assert_eq!(
            green.score("took 1.9s at 0x55d1, build 9f8e7d6c5b on 2026-11-27T11:02:03Z"),
            None
        );
        assert!(green.score("took 1.9s and then crashed").is_some());
        assert_eq!(green.score("12345 -- 678"), None);
    }

    #[test]
    fn unknown_words_score_higher_than_known_ones_rearranged() {
        let green = baseline(&["linking the widget", "checking the gadget"]);
        let rearranged = green.score("checking the widget").expect("new");
        let unknown = green
            .score("segment violation in frobnicator")
            .expect("new");
        assert!(unknown > rearranged, "{unknown} <= {rearranged}");
    }

    #[test]
    fn the_best_blocks_come_first_within_the_budget() {
        let green = baseline(&["step one", "step two", "done"]);
        let mut novelty = Novelty::new(green);
        novelty.line(1, "step one", false);
        novelty.line(2, "fresh chatter here", false);
        novelty.line(3, "step two", false);
        novelty.line(10, "the thing broke badly", true);
        novelty.line(11, "with more detail", false);
        let drafts = novelty.drafts(MAX_LINES);
        let ranges: Vec<_> = drafts.iter().map(|d| d.log_lines).collect();
        assert_eq!(ranges, [(10, 11), (2, 2)]);
        assert_eq!(drafts[0].message, "the thing broke badly");
    }

    #[test]
    fn memory_stays_bounded_on_a_long_failed_log() {
        let mut novelty = Novelty::new(Baseline::new());
        for n in 1..=10_000u64 {
            novelty.line(
                n * 3,
                &format!("line word{} alpha{}", "x".repeat((n % 7) as usize), n),
                n % 100 == 0,
            );
        }
        assert!(novelty.blocks.len() <= MAX_BLOCKS);
        let drafts = novelty.drafts(MAX_LINES);
        let total: u64 = drafts
            .iter()
            .map(|d| d.log_lines.1 - d.log_lines.0 + 1)
            .sum();
        assert!(total <= MAX_LINES);
        assert!(
            drafts.iter().all(|d| d.log_lines.0 % 300 == 0),
            "error-looking lines first"
        );
    }
}
