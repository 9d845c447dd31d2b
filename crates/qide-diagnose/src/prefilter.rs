//! One cheap scan per line that rules out the lines no keyword check can
//! pass.
//!
//! Two keyword sets decide what happens to a line: the parsers' gate
//! (`may_matter`, case-sensitive) and the fallback's error-looking test
//! (case-insensitive). Scanning every line with both automata (60-odd
//! patterns each, too many for a SIMD searcher) cost half the engine's
//! time, yet only about one line in ten holds a keyword of either set.
//!
//! So each line is first walked once against a table of four-byte
//! windows ([`QUADGRAMS`], ASCII case folded, hashed into 256 KiB, two bits
//! each: which set has a keyword holding it). Every keyword of four bytes
//! or more holds one of them; non-ASCII keywords are looked for only on
//! lines that are not ASCII, and the shorter ASCII ones with `memmem`. Only
//! the sets whose bits a line collects get their exact check, so a line
//! that holds no keyword costs one pass of a few instructions per byte. A
//! hash collision only lets a line through to an exact check.

use std::sync::LazyLock;

use memchr::memmem;

/// Four-byte windows, at least one of which every ASCII keyword of four
/// bytes or more of `may_matter` and of the fallback holds (ignoring ASCII
/// case); the unit tests hold both lists to it. Rarest in real logs first:
/// a keyword is filed under the first window it holds. For each keyword the
/// window chosen is its rarest among the LogChunks logs' lines (`econn` under
/// `conn`, not `econ`, which every "seconds" holds), which let 8.8% of lines
/// through to the exact scans instead of 14.2%.
pub(crate) const QUADGRAMS: &[&str] = &[
    "pani", "<<< ", "sigk", "ervn", "sigb", "fies", "igab", "r_pn", "o ou", "eai_", ".go:", "f me",
    "ota ", "enot", "gal ", "um e", "xpas", "refu", "me r", "mped", "ot k", "nrea", "o sp", "res:",
    "nied", "l ce", "ve h", "ad_a", "gseg", "ceba", ".py:", "uldn", " fau", "re w", "can'", "no m",
    "fata", "d -l", "segm", "kill", "to l", "le \"", "unab", "pm e", "med ", "ot o", "aili",
    ": **", "coul", "ed r", "d mo", "uded", "it s", "ired", "ct t", "mory", ") te", "ndef", "no s",
    "bort", "cann", "ssed", "n re", " cod", "xite", "xfai", "epti", "sser", ": in", "ot f", "ippe",
    "xpec", "aile", "arni", "erro", "fail", "nect", "conn",
];

/// A keyword of the parsers' gate (`may_matter`) may be in the line.
pub(crate) const PARSERS: u8 = 1;
/// A keyword of the fallback's error-looking test may be in the line.
pub(crate) const FALLBACK: u8 = 2;

const SLOTS: u32 = 20;

/// Words of the table: two bits per slot.
const WORDS: usize = (1 << SLOTS) / 32;

/// Four bytes (little-endian) with ASCII case ignored, hashed to a slot.
/// Setting bit 5 of every byte lower-cases letters; other bytes may share a
/// fold ('[' and '{'), which only lets a few more lines through.
#[inline]
fn slot(window: u32) -> usize {
    ((window | 0x2020_2020).wrapping_mul(0x9E37_79B1) >> (32 - SLOTS)) as usize
}

fn fold(text: &str) -> Vec<u8> {
    text.bytes().map(|b| b | 0x20).collect()
}

struct Filter {
    /// Two bits per slot: [`PARSERS`] and [`FALLBACK`].
    table: Box<[u64; WORDS]>,
    /// Keywords that are not ASCII, with their set.
    wide: Vec<(&'static str, u8)>,
    /// ASCII keywords shorter than four bytes, with their set.
    short: Vec<(memmem::Finder<'static>, u8)>,
}

static FILTER: LazyLock<Filter> = LazyLock::new(|| {
    let mut filter = Filter {
        // Built on the heap: 256 KiB is too much for a thread's stack.
        table: vec![0u64; WORDS]
            .into_boxed_slice()
            .try_into()
            .unwrap_or_else(|_| unreachable!("the length is WORDS")),
        wide: Vec::new(),
        short: Vec::new(),
    };
    for keyword in crate::KEYWORDS {
        filter.add(keyword, PARSERS);
    }
    for keyword in crate::fallback::KEYWORDS {
        filter.add(keyword, FALLBACK);
    }
    filter
});

impl Filter {
    fn add(&mut self, keyword: &'static str, set: u8) {
        if !keyword.is_ascii() {
            self.wide.push((keyword, set));
        } else if keyword.len() < 4 {
            self.short.push((memmem::Finder::new(keyword), set));
        } else {
            let folded = fold(keyword);
            // The unit tests hold every keyword to having one.
            let Some(q) = QUADGRAMS
                .iter()
                .find(|q| folded.windows(4).any(|w| w == fold(q)))
            else {
                return;
            };
            let b = q.as_bytes();
            let i = slot(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            self.table[i / 32] |= u64::from(set) << (2 * (i % 32));
        }
    }

    #[inline]
    fn sets(&self, window: u32) -> u8 {
        let i = slot(window);
        (self.table[i / 32] >> (2 * (i % 32))) as u8 & 3
    }
}

/// Which keyword sets ([`PARSERS`], [`FALLBACK`]) may have a keyword in
/// `line`: a set left out has none there.
pub(crate) fn sets(line: &str) -> u8 {
    let filter: &Filter = &FILTER;
    let b = line.as_bytes();
    let mut found = 0;
    // Eight bytes hold five windows: one load and one branch for five.
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let sets = (0..5).fold(0, |sets, k| sets | filter.sets((x >> (8 * k)) as u32));
        if sets != 0 {
            found |= sets;
            if found == PARSERS | FALLBACK {
                return found;
            }
        }
        i += 5;
    }
    for w in b[i..].windows(4) {
        found |= filter.sets(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
    }
    if !line.is_ascii() {
        for (keyword, set) in &filter.wide {
            if found & set == 0 && line.contains(keyword) {
                found |= set;
            }
        }
    }
    for (finder, set) in &filter.short {
        if found & set == 0 && finder.find(b).is_some() {
            found |= set;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_keyword_passes_anywhere_in_any_case() {
        let keywords = crate::KEYWORDS.iter().chain(crate::fallback::KEYWORDS);
        for keyword in keywords {
            for text in [
                keyword.to_string(),
                keyword.to_ascii_uppercase(),
                keyword.to_ascii_lowercase(),
                format!("x{keyword}"),
                format!("x {keyword} y"),
                format!("xy{keyword}yz"),
                format!("{keyword}z"),
            ] {
                assert!(sets(&text) != 0, "{text:?} does not pass");
            }
        }
        // Few short keywords, each a scan of its own.
        assert!(FILTER.short.len() <= 2);
        for keyword in crate::KEYWORDS.iter().chain(crate::fallback::KEYWORDS) {
            if keyword.is_ascii() && keyword.len() >= 4 {
                let folded = fold(keyword);
                assert!(
                    QUADGRAMS
                        .iter()
                        .any(|q| folded.windows(4).any(|w| w == fold(q))),
                    "no quadgram for {keyword:?}"
                );
            }
        }
        for q in QUADGRAMS {
            assert_eq!(q.len(), 4);
        }
        assert_eq!(sets("Aborted"), FALLBACK);
        // Both sets file a keyword under `conn` (`Connection`, `econn`).
        assert_eq!(sets("Connection"), PARSERS | FALLBACK);
        assert_eq!(sets("the number of seconds"), 0);
        assert_eq!(sets("an error"), PARSERS | FALLBACK);
    }

    #[test]
    fn lines_without_keywords_mostly_fail() {
        assert!(sets("FATAL: x") != 0);
        assert!(sets("src/a.go:3: Undefined") != 0);
        assert_eq!(sets("1 \u{d7} 2"), FALLBACK);
        assert_eq!(sets("Compiling foo v0.1.0"), 0);
        assert_eq!(sets(""), 0);
        assert_eq!(sets("ok"), 0);
    }
}
