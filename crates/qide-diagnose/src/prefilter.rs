//! One cheap scan per line that tells exactly which keyword sets the line
//! holds.
//!
//! Two keyword sets decide what happens to a line: the parsers' gate
//! ([`crate::KEYWORDS`], case-sensitive, which `may_matter` asks about) and
//! the fallback's error-looking test ([`crate::fallback::KEYWORDS`], ASCII
//! case ignored). Scanning every line with an automaton per set (60-odd
//! patterns each, too many for a SIMD searcher) cost half the engine's
//! time, yet only about one line in thirty holds a keyword of either set.
//!
//! So each line is walked once against a table of four-byte windows
//! ([`QUADGRAMS`], ASCII case folded, hashed into 32 KiB, a byte each:
//! which sets file a keyword under it). Every keyword of four bytes or
//! more holds one of them, so a line without a hit holds none of those
//! keywords, and a line that holds no keyword costs one pass of a few
//! instructions per byte. A hit is then checked exactly: the keywords filed
//! under the window's quadgram are compared with the line where they would
//! stand, so a hash collision or a quadgram outside a keyword (`fail` of
//! `fails` is a keyword, `aile` of `trailer` is not) costs a few
//! comparisons and never lets a line through. Non-ASCII keywords are looked
//! for only on lines that are not ASCII; an ASCII keyword of three bytes
//! is filed under every window that holds it, and shorter ones (none
//! today) are searched with `memmem`.

use std::sync::LazyLock;

use memchr::memmem;

/// Four-byte windows, at least one of which every ASCII keyword of four
/// bytes or more of `may_matter` and of the fallback holds (ignoring ASCII
/// case); the unit tests hold both lists to it. Rarest in real logs first:
/// a keyword is filed under the first window it holds. For each keyword the
/// window chosen is its rarest among the LogChunks logs' lines (`econn` under
/// `conn`, not `econ`, which every "seconds" holds), so few windows of a
/// line need the exact check.
pub(crate) const QUADGRAMS: &[&str] = &[
    "pani", "<<< ", "sigk", "ervn", "sigb", "fies", "igab", "r_pn", "o ou", "eai_", ".go:", "f me",
    "ota ", "enot", "gal ", "um e", "xpas", "refu", "me r", "mped", "ot k", "ot d", "[+] ", "[-] ",
    "[!] ", "xcee", "nrea", "o sp", "res:", "nied", "l ce", "ve h", "ad_a", "gseg", "ceba", ".py:",
    "uldn", " fau", "re w", "can'", "no m", "fata", "d -l", "segm", "kill", "to l", "le \"",
    "unab", "pm e", "med ", "ot o", "aili", ": **", "coul", "ed r", "d mo", "uded", "it s", "ired",
    "ct t", "mory", ") te", "ndef", "no s", "bort", "cann", "ssed", "n re", " cod", "xite", "xfai",
    "epti", "sser", ": in", "ot f", "ippe", "xpec", "aile", "arni", "erro", "fail", "nect", "conn",
    ". ok",
];

/// The line holds a keyword of the parsers' gate (`may_matter`).
pub(crate) const PARSERS: u8 = 1;
/// The line holds a keyword of the fallback's error-looking test.
pub(crate) const FALLBACK: u8 = 2;

/// The table has 2^SLOTS one-byte slots: 32 KiB, which stays in the
/// fastest cache; a slot shared by chance only costs an exact check.
const SLOTS: u32 = 15;

/// Sets bit 5 of each byte of a window: ASCII letters become lower case;
/// other bytes may share a fold ('[' and '{'), which only costs an exact
/// check.
const FOLD: u32 = 0x2020_2020;

/// The index of filed quadgrams has 2^INDEX_BITS entries, a few times
/// more than there are quadgrams, so a probe mostly ends at once.
const INDEX_BITS: u32 = 12;

/// A folded quadgram's first place in the index: another hash than
/// [`slot`]'s, so quadgrams that share a slot spread out here.
#[inline]
fn index_slot(folded: u32) -> usize {
    (folded.wrapping_mul(0x85EB_CA6B) >> (32 - INDEX_BITS)) as usize
}

/// A folded four-byte window (little-endian) hashed to a slot.
#[inline]
fn slot(folded: u32) -> usize {
    (folded.wrapping_mul(0x9E37_79B1) >> (32 - SLOTS)) as usize
}

/// The first four bytes of `text` as a little-endian number, folded.
fn window(text: &[u8]) -> u32 {
    u32::from_le_bytes([text[0], text[1], text[2], text[3]]) | FOLD
}

/// A keyword filed under a quadgram.
struct Filed {
    keyword: &'static [u8],
    /// Where the quadgram stands in the keyword (the first place it does;
    /// any place works, as every occurrence of the keyword holds it there).
    offset: usize,
    /// Bytes of the quadgram before the keyword: 1 for a three-byte
    /// keyword at a line's end, filed under the window that ends with it.
    lead: usize,
    set: u8,
}

impl Filed {
    /// Whether the keyword stands in `line` with its quadgram at `at`.
    #[inline]
    fn at(&self, line: &[u8], at: usize) -> bool {
        let Some(start) = (at + self.lead).checked_sub(self.offset) else {
            return false;
        };
        let Some(text) = line.get(start..start + self.keyword.len()) else {
            return false;
        };
        if self.set == PARSERS {
            text == self.keyword
        } else {
            text.eq_ignore_ascii_case(self.keyword)
        }
    }
}

struct Filter {
    /// Per slot, the sets ([`PARSERS`], [`FALLBACK`]) that file a keyword
    /// under a quadgram hashed there.
    table: Box<[u8; 1 << SLOTS]>,
    /// Folded quadgrams with the keywords filed under each.
    filed: Vec<(u32, Vec<Filed>)>,
    /// An open-addressing index into `filed` by quadgram (index + 1; 0 is
    /// empty), 8 KiB: most windows `check` sees hold no keyword (another
    /// quadgram shares their slot), and this answers them in a probe or
    /// two where a binary search took eight.
    index: Box<[u16; 1 << INDEX_BITS]>,
    /// Keywords that are not ASCII, with their set.
    wide: Vec<(&'static str, memmem::Finder<'static>, u8)>,
    /// ASCII keywords of three bytes, with their set: filed under every
    /// window that holds them, and compared whole with a line of three.
    three: Vec<(&'static str, u8)>,
    /// ASCII keywords shorter than three bytes, with their set.
    short: Vec<(&'static str, memmem::Finder<'static>, u8)>,
    /// The furthest a fallback keyword's quadgram stands from its start.
    fallback_reach: usize,
}

static FILTER: LazyLock<Filter> = LazyLock::new(|| {
    let mut filter = Filter {
        table: Box::new([0; 1 << SLOTS]),
        filed: Vec::new(),
        index: Box::new([0; 1 << INDEX_BITS]),
        wide: Vec::new(),
        three: Vec::new(),
        short: Vec::new(),
        fallback_reach: 0,
    };
    for keyword in crate::KEYWORDS {
        filter.add(keyword, PARSERS);
    }
    for keyword in crate::fallback::KEYWORDS {
        filter.add(keyword, FALLBACK);
    }
    for (i, (q, _)) in filter.filed.iter().enumerate() {
        let mut at = index_slot(*q);
        while filter.index[at] != 0 {
            at = (at + 1) & ((1 << INDEX_BITS) - 1);
        }
        // The unit tests hold `filed` to fewer entries than u16 counts.
        filter.index[at] = u16::try_from(i + 1).unwrap_or(u16::MAX);
    }
    filter
});

impl Filter {
    fn add(&mut self, keyword: &'static str, set: u8) {
        if !keyword.is_ascii() {
            // A searcher built once: `memmem::find` builds one per call,
            // and every line that is not ASCII asks.
            self.wide.push((keyword, memmem::Finder::new(keyword), set));
            return;
        }
        let b = keyword.as_bytes();
        if let &[k0, k1, k2] = b {
            // In a line of four bytes or more, a three-byte keyword stands
            // in a window with some byte after it or, at the line's end,
            // before it: filed under all 512 such windows, it costs the
            // line scan nothing (a `memmem` search of its own cost more
            // than a tenth of the scan).
            self.three.push((keyword, set));
            for x in 0..=u8::MAX {
                let after = Filed {
                    keyword: b,
                    offset: 0,
                    lead: 0,
                    set,
                };
                self.file(window(&[k0, k1, k2, x]), after);
                let before = Filed {
                    keyword: b,
                    offset: 0,
                    lead: 1,
                    set,
                };
                self.file(window(&[x, k0, k1, k2]), before);
            }
            return;
        }
        if keyword.len() < 3 {
            self.short
                .push((keyword, memmem::Finder::new(keyword), set));
            return;
        }
        // The unit tests hold every keyword to having one.
        let Some((q, offset)) = QUADGRAMS.iter().find_map(|q| {
            let q = window(q.as_bytes());
            let offset = b.windows(4).position(|w| window(w) == q)?;
            Some((q, offset))
        }) else {
            return;
        };
        let filed = Filed {
            keyword: b,
            offset,
            lead: 0,
            set,
        };
        self.file(q, filed);
    }

    /// Files a keyword under the folded quadgram `q`, once.
    fn file(&mut self, q: u32, filed: Filed) {
        self.table[slot(q)] |= filed.set;
        if filed.set == FALLBACK {
            self.fallback_reach = self.fallback_reach.max(filed.offset);
        }
        match self.filed.iter_mut().find(|(x, _)| *x == q) {
            Some((_, list)) => {
                let known = list.iter().any(|f| {
                    f.keyword == filed.keyword
                        && f.offset == filed.offset
                        && f.lead == filed.lead
                        && f.set == filed.set
                });
                if !known {
                    list.push(filed);
                }
            }
            None => self.filed.push((q, vec![filed])),
        }
    }

    /// The sets a folded window's slot files keywords of.
    #[inline]
    fn hint(&self, folded: u32) -> u8 {
        // The mask only tells the compiler the index is in bounds.
        self.table[slot(folded) & ((1 << SLOTS) - 1)]
    }

    /// The sets of the keywords that stand in `line` with their quadgram
    /// (`folded`) at `at`, of those in `missing`; sets `fallback_at` to
    /// `at` when a fallback keyword is among them.
    #[cold]
    fn check(
        &self,
        line: &[u8],
        at: usize,
        folded: u32,
        missing: u8,
        fallback_at: &mut usize,
    ) -> u8 {
        let mut probe = index_slot(folded);
        let i = loop {
            let entry = usize::from(self.index[probe]);
            if entry == 0 {
                return 0;
            }
            if self.filed[entry - 1].0 == folded {
                break entry - 1;
            }
            probe = (probe + 1) & ((1 << INDEX_BITS) - 1);
        };
        let sets = self.filed[i]
            .1
            .iter()
            .filter(|f| missing & f.set != 0 && f.at(line, at))
            .fold(0, |sets, f| sets | f.set);
        if sets & FALLBACK != 0 {
            *fallback_at = at;
        }
        sets
    }
}

/// What one scan of a line found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scan {
    /// The keyword sets ([`PARSERS`], [`FALLBACK`]) the line holds.
    pub(crate) sets: u8,
    /// When the line holds a fallback keyword, no fallback keyword starts
    /// before this byte: the fallback's own search starts there.
    pub(crate) fallback_from: usize,
}

/// Which keyword sets ([`PARSERS`], [`FALLBACK`]) have a keyword in `line`,
/// exactly: [`PARSERS`] when it holds one of [`crate::KEYWORDS`] as written,
/// [`FALLBACK`] when it holds one of [`crate::fallback::KEYWORDS`] in any
/// ASCII case. `wide` is false only when the line is known to be ASCII,
/// which saves a pass over it.
#[cfg(test)]
pub(crate) fn sets_of(line: &str, wide: bool) -> u8 {
    scan(line, wide).sets
}

/// [`sets_of`], and where the fallback's keywords may start: windows are
/// checked in order, so none before the first that holds a fallback
/// keyword's quadgram does, and a keyword starts at most
/// `fallback_reach` bytes before its quadgram. Keywords found without the
/// windows (not ASCII, or shorter) may stand anywhere.
pub(crate) fn scan(line: &str, wide: bool) -> Scan {
    let filter: &Filter = &FILTER;
    let b = line.as_bytes();
    // The first window that holds a fallback keyword's quadgram, set by
    // `check` so the loop stays as lean as it is without it.
    let mut fallback_at = 0;
    // Keywords found without the windows may stand before the first.
    let anywhere = wide || !filter.short.is_empty();
    // The sets not found yet, kept as the loop's mask so a window costs a
    // load, a hash and a test, with no mask to compute per window.
    let mut missing = PARSERS | FALLBACK;
    // One window at a time: the compiler pipelines this plain loop better
    // than hand-made five-window steps from one eight-byte load.
    for (at, w) in b.windows(4).enumerate() {
        let folded = window(w);
        if filter.hint(folded) & missing != 0 {
            missing &= !filter.check(b, at, folded, missing, &mut fallback_at);
            if missing == 0 {
                // Returning from here, not breaking out, keeps `missing`
                // in one register through the loop.
                return Scan {
                    sets: PARSERS | FALLBACK,
                    fallback_from: if anywhere {
                        0
                    } else {
                        fallback_at.saturating_sub(filter.fallback_reach)
                    },
                };
            }
        }
    }
    let mut found = (PARSERS | FALLBACK) & !missing;
    let mut fallback_from = if anywhere {
        0
    } else {
        fallback_at.saturating_sub(filter.fallback_reach)
    };
    if b.len() == 3 {
        for (keyword, set) in &filter.three {
            if found & set == 0 && contains(b, keyword.as_bytes(), *set) {
                found |= set;
                fallback_from = 0;
            }
        }
    }
    if wide {
        for (keyword, finder, set) in &filter.wide {
            if found & set == 0 && holds(b, keyword.as_bytes(), finder, *set) {
                found |= set;
            }
        }
    }
    for (keyword, finder, set) in &filter.short {
        if found & set == 0 && holds(b, keyword.as_bytes(), finder, *set) {
            found |= set;
        }
    }
    Scan {
        sets: found,
        fallback_from,
    }
}

/// [`contains`] with `finder`, `keyword`'s searcher, where it gives the
/// answer: the keyword matched as written.
fn holds(line: &[u8], keyword: &[u8], finder: &memmem::Finder<'_>, set: u8) -> bool {
    if set == PARSERS || !keyword.iter().any(u8::is_ascii_alphabetic) {
        finder.find(line).is_some()
    } else {
        contains(line, keyword, set)
    }
}

/// Whether `keyword` stands in `line`, in any ASCII case for the fallback's.
fn contains(line: &[u8], keyword: &[u8], set: u8) -> bool {
    if set == PARSERS || !keyword.iter().any(u8::is_ascii_alphabetic) {
        memmem::find(line, keyword).is_some()
    } else {
        line.windows(keyword.len())
            .any(|w| w.eq_ignore_ascii_case(keyword))
    }
}

#[cfg(test)]
mod tests {
    use proptest::strategy::Strategy;

    use super::*;

    fn sets(line: &str) -> u8 {
        sets_of(line, !line.is_ascii())
    }

    /// The two automata the prefilter replaced, as an oracle: the parsers'
    /// keywords as written, the fallback's in any ASCII case.
    fn reference(line: &str) -> u8 {
        let lower = line.to_ascii_lowercase();
        let parsers = crate::KEYWORDS.iter().any(|k| line.contains(k));
        let fallback = crate::fallback::KEYWORDS
            .iter()
            .any(|k| lower.contains(&k.to_ascii_lowercase()));
        (u8::from(parsers) * PARSERS) | (u8::from(fallback) * FALLBACK)
    }

    #[test]
    fn every_keyword_passes_anywhere() {
        for (keywords, set) in [
            (crate::KEYWORDS, PARSERS),
            (crate::fallback::KEYWORDS, FALLBACK),
        ] {
            for keyword in keywords {
                assert!(!keyword.is_empty());
                let mut cases = vec![keyword.to_string()];
                if set == FALLBACK {
                    cases.push(keyword.to_ascii_uppercase());
                    cases.push(keyword.to_ascii_lowercase());
                }
                for case in cases {
                    for text in [
                        case.clone(),
                        format!("x{case}"),
                        format!("x {case} y"),
                        format!("xy{case}yz"),
                        format!("{case}z"),
                        format!("{}{case}", "-".repeat(13)),
                    ] {
                        assert!(sets(&text) & set != 0, "{text:?} does not pass");
                        assert_eq!(sets(&text), reference(&text), "{text:?}");
                    }
                }
            }
        }
        // Few short keywords, each a scan of its own.
        assert!(FILTER.short.len() <= 2);
        // The index stays sparse, and its entries fit.
        assert!(FILTER.filed.len() * 4 < 1 << INDEX_BITS);
        for keyword in crate::KEYWORDS.iter().chain(crate::fallback::KEYWORDS) {
            if keyword.is_ascii() && keyword.len() >= 4 {
                let folded: Vec<u8> = keyword.bytes().map(|b| b | 0x20).collect();
                assert!(
                    QUADGRAMS.iter().any(|q| {
                        let q: Vec<u8> = q.bytes().map(|b| b | 0x20).collect();
                        folded.windows(4).any(|w| w == q)
                    }),
                    "no quadgram for {keyword:?}"
                );
            }
        }
        for q in QUADGRAMS {
            assert_eq!(q.len(), 4);
        }
    }

    #[test]
    fn answers_exactly() {
        assert_eq!(sets("Aborted"), FALLBACK);
        assert_eq!(sets("Connection"), PARSERS);
        assert_eq!(sets("Connection refused"), PARSERS | FALLBACK);
        assert_eq!(sets("the number of seconds"), 0);
        assert_eq!(sets("an error"), PARSERS | FALLBACK);
        assert_eq!(sets("AN ERROR"), PARSERS | FALLBACK);
        assert_eq!(sets("An ErRoR"), FALLBACK);
        // `fail` and `aile` are quadgrams; `trailer` and `mailer` hold no keyword.
        assert_eq!(sets("a trailer for the mailer"), 0);
        assert_eq!(sets("passed"), 0);
        assert_eq!(sets("PASSED"), PARSERS);
        assert_eq!(sets("FATAL: x"), FALLBACK);
        assert_eq!(sets("src/a.go:3: Undefined"), PARSERS | FALLBACK);
        assert_eq!(sets("1 \u{d7} 2"), FALLBACK);
        // Pester's verdict is both; without its space, the fallback's alone.
        assert_eq!(sets("[-] x"), PARSERS | FALLBACK);
        assert_eq!(sets("[-]x"), FALLBACK);
        assert_eq!(sets("x [-]"), FALLBACK);
        assert_eq!(sets("[-]"), FALLBACK);
        assert_eq!(sets("[-["), 0);
        assert_eq!(sets("x {-}"), 0);
        assert_eq!(sets("Compiling foo v0.1.0"), 0);
        assert_eq!(sets(""), 0);
        assert_eq!(sets("ok"), 0);
    }

    proptest::proptest! {
        #[test]
        fn same_as_the_automata(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    // A keyword of either set, cut or whole, in a random case.
                    (
                        proptest::sample::select(
                            crate::KEYWORDS
                                .iter()
                                .chain(crate::fallback::KEYWORDS)
                                .copied()
                                .collect::<Vec<_>>(),
                        ),
                        0..4usize,
                        0..4usize,
                        proptest::collection::vec(proptest::bool::ANY, 32),
                    )
                        .prop_map(|(k, cut_start, cut_end, upper)| {
                            let chars: Vec<char> = k.chars().collect();
                            let end = chars.len().saturating_sub(cut_end % 2 * cut_end);
                            let start = (cut_start % 2 * cut_start).min(end);
                            chars[start..end]
                                .iter()
                                .zip(upper.iter().cycle())
                                .map(|(c, &u)| {
                                    if u {
                                        c.to_ascii_uppercase()
                                    } else {
                                        c.to_ascii_lowercase()
                                    }
                                })
                                .collect::<String>()
                        }),
                    // A keyword as written.
                    proptest::sample::select(
                        crate::KEYWORDS
                            .iter()
                            .chain(crate::fallback::KEYWORDS)
                            .copied()
                            .collect::<Vec<_>>(),
                    )
                    .prop_map(str::to_string),
                    proptest::string::string_regex("[a-zA-Z :_\\[\\]{}\u{e9}\u{d7}-]{0,9}").unwrap(),
                ],
                0..6,
            )
        ) {
            let line = parts.concat();
            proptest::prop_assert_eq!(sets(&line), reference(&line), "{:?}", line);
            // Not knowing that a line is ASCII changes nothing.
            proptest::prop_assert_eq!(sets_of(&line, true), reference(&line), "{:?}", line);
        }
    }
}
