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

#[cfg(test)]
mod tests {
    use super::strip_ansi;

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
