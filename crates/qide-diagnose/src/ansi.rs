//! Removal of terminal escape sequences, so colourised logs parse like plain ones.

use std::borrow::Cow;

/// Returns `text` without ANSI escape sequences (colours, cursor moves,
/// hyperlinks) and without other C0 control characters except tab.
///
/// Borrows when there is nothing to remove, which is the common case, so
/// the cost on a plain line is a single `memchr` scan.
///
/// ```
/// assert_eq!(qide_diagnose::strip_ansi("\x1b[1m\x1b[91merror\x1b[0m: x"), "error: x");
/// assert!(matches!(qide_diagnose::strip_ansi("plain"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn strip_ansi(text: &str) -> Cow<'_, str> {
    if !has_control(text) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    strip_into(text, &mut out);
    Cow::Owned(out)
}

/// Whether [`strip_ansi`] would remove anything from `text`.
pub(crate) fn has_control(text: &str) -> bool {
    // A branch-free fold vectorises; `any` with its early exit does not,
    // and this check runs on every line of every log.
    text.as_bytes()
        .iter()
        .fold(false, |found, &b| found | ((b < 0x20) & (b != b'\t')))
}

/// Whether `text` has what [`has_control`] looks for, and whether it has
/// non-ASCII text, in one pass.
pub(crate) fn scan(text: &str) -> (bool, bool) {
    // Branch-free, so it vectorises.
    text.as_bytes()
        .iter()
        .fold((false, false), |(control, wide), &b| {
            (control | ((b < 0x20) & (b != b'\t')), wide | (b >= 0x80))
        })
}

/// Appends what [`strip_ansi`] returns for a `text` that [`has_control`]
/// to `out`, so a caller can reuse one buffer for every line.
pub(crate) fn strip_into(text: &str, out: &mut String) {
    let bytes = text.as_bytes();
    // Runs of plain text are copied whole; escapes and controls are ASCII,
    // so every cut falls on a character boundary.
    let char_len = |i: usize| text[i..].chars().next().map_or(0, char::len_utf8);
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !is_control(b) {
            i = next_control(bytes, i);
            continue;
        }
        if run < i {
            out.push_str(&text[run..i]);
        }
        i += 1;
        if b == 0x1b {
            match bytes.get(i) {
                // CSI: ESC [ parameters intermediates final-byte (0x40..=0x7e).
                Some(b'[') => {
                    i += 1;
                    while i < bytes.len() {
                        let c = bytes[i];
                        i += 1;
                        if (0x40..=0x7e).contains(&c) {
                            break;
                        }
                    }
                }
                // OSC (hyperlinks, titles): ends with BEL or ESC \.
                Some(b']') => {
                    i += 1;
                    while i < bytes.len() {
                        let c = bytes[i];
                        i += 1;
                        if c == 0x07 {
                            break;
                        }
                        if c == 0x1b {
                            if bytes.get(i) == Some(&b'\\') {
                                i += 1;
                            }
                            break;
                        }
                    }
                }
                // Two-character sequences such as ESC ( B or ESC =.
                Some(b'(' | b')' | b'*' | b'+') => {
                    i += 1;
                    if i < bytes.len() {
                        i += char_len(i);
                    }
                }
                Some(_) => i += char_len(i),
                None => {}
            }
        }
        run = i;
    }
    out.push_str(&text[run..]);
}

/// Whether the stripped text leaves `b` out: C0 controls but tab, and DEL.
#[inline]
fn is_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// The index of the first control byte at or after `from`, or the length.
/// Eight bytes at a time as one number: the runs of text between escapes
/// are most of a coloured line, and are often shorter than sixteen bytes,
/// so the place of the control in the eight is computed, not searched.
fn next_control(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        // High bits of the bytes below 0x20 and of the bytes 0x7f. A
        // borrow may mark a byte above a marked one too, never below, so
        // the lowest mark is exact.
        let below = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        let del = x ^ (ONES * 0x7f);
        let marks = below | (del.wrapping_sub(ONES) & !del & HIGH);
        if marks != 0 {
            let k = (marks.trailing_zeros() / 8) as usize;
            if chunk[k] != b'\t' {
                return i + k;
            }
            // A tab is not a control: the rest of the eight, one by one.
            if let Some(p) = chunk[k + 1..].iter().position(|&b| is_control(b)) {
                return i + k + 1 + p;
            }
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|&b| is_control(b))
        .map_or(bytes.len(), |k| i + k)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::{is_control, next_control, strip_ansi};

    /// The char-at-a-time version this replaced, as an oracle.
    fn reference(text: &str) -> Cow<'_, str> {
        let bytes = text.as_bytes();
        // A branch-free fold vectorises; `any` with its early exit does not,
        // and this check runs on every line of every log.
        let has_control = bytes
            .iter()
            .fold(false, |found, &b| found | ((b < 0x20) & (b != b'\t')));
        if !has_control {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut chars = text.char_indices().peekable();
        while let Some((_, c)) = chars.next() {
            match c {
                '\x1b' => match chars.peek().map(|&(_, c)| c) {
                    // CSI: ESC [ parameters intermediates final-byte (0x40..=0x7e).
                    Some('[') => {
                        chars.next();
                        for (_, c) in chars.by_ref() {
                            if ('\x40'..='\x7e').contains(&c) {
                                break;
                            }
                        }
                    }
                    // OSC (hyperlinks, titles): ends with BEL or ESC \.
                    Some(']') => {
                        chars.next();
                        while let Some((_, c)) = chars.next() {
                            if c == '\x07' {
                                break;
                            }
                            if c == '\x1b' {
                                if chars.peek().map(|&(_, c)| c) == Some('\\') {
                                    chars.next();
                                }
                                break;
                            }
                        }
                    }
                    // Two-byte sequences such as ESC ( B or ESC =.
                    Some('(' | ')' | '*' | '+') => {
                        chars.next();
                        chars.next();
                    }
                    Some(_) => {
                        chars.next();
                    }
                    None => {}
                },
                '\t' => out.push('\t'),
                c if (c as u32) < 0x20 || c == '\x7f' => {}
                c => out.push(c),
            }
        }
        Cow::Owned(out)
    }

    proptest::proptest! {
        #[test]
        fn finds_the_next_control_as_a_byte_search_does(
            bytes in proptest::collection::vec(
                proptest::sample::select(vec![b'a', b' ', b'\t', 0x1b, 0x1f, 0x20, 0x7f, 0x80, 0xa0, 0x09, 0x0a, 0x00]),
                0..40,
            ),
            from in 0..40usize,
        ) {
            let from = from.min(bytes.len());
            let expected = bytes[from..]
                .iter()
                .position(|&b| is_control(b))
                .map_or(bytes.len(), |k| from + k);
            proptest::prop_assert_eq!(next_control(&bytes, from), expected);
        }

        #[test]
        fn same_as_the_char_version(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::string::string_regex("[a-z\u{e9}\u{2717} ]{0,4}").unwrap(),
                    proptest::string::string_regex("\u{1b}[\\[\\]()*+=\\\\a-z0-9;\u{e9}]{0,3}").unwrap(),
                    proptest::string::string_regex("[\u{0}-\u{1f}\u{7f}]").unwrap(),
                ],
                0..8,
            )
        ) {
            let text = parts.concat();
            proptest::prop_assert_eq!(strip_ansi(&text), reference(&text));
        }
    }

    #[test]
    fn strips_csi_osc_and_controls() {
        assert_eq!(
            strip_ansi("\x1b[1m\x1b[94m--> \x1b[0msrc/lib.rs:1:5"),
            "--> src/lib.rs:1:5"
        );
        assert_eq!(
            strip_ansi("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x07b"),
            "alinkb"
        );
        assert_eq!(strip_ansi("tab\there\x08"), "tab\there");
        assert_eq!(strip_ansi("\x1b"), "");
        assert_eq!(strip_ansi("\x1b[31"), "");
    }
}
