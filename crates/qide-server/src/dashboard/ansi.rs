//! Terminal colours in log lines, rendered safely: SGR sequences (`ESC [ …
//! m`) become `<span>`s with classes (`fg1`, `bg4`, `b` for bold, …) that
//! the stylesheet colours; every other escape sequence (cursor movement,
//! OSC titles and hyperlinks) is dropped; the text between is escaped with
//! control characters made visible ([`super::text`]). No byte of the log
//! reaches the page unescaped.

use std::borrow::Cow;

use super::text::push_escaped;

/// The look of a run of text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Style {
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
    /// One of the 16 terminal colours.
    fg: Option<u8>,
    bg: Option<u8>,
}

impl Style {
    fn classes(&self) -> String {
        let mut classes = Vec::new();
        if self.bold {
            classes.push("b".to_owned());
        }
        if self.dim {
            classes.push("d".to_owned());
        }
        if self.italic {
            classes.push("i".to_owned());
        }
        if self.underline {
            classes.push("u".to_owned());
        }
        if let Some(fg) = self.fg {
            classes.push(format!("fg{fg}"));
        }
        if let Some(bg) = self.bg {
            classes.push(format!("bg{bg}"));
        }
        classes.join(" ")
    }

    /// Applies one SGR sequence's parameters.
    fn apply(&mut self, params: &str) {
        let mut codes = params.split([';', ':']).map(|p| {
            if p.is_empty() {
                0
            } else {
                p.parse::<u32>().unwrap_or(u32::MAX)
            }
        });
        while let Some(code) = codes.next() {
            match code {
                0 => *self = Style::default(),
                1 => self.bold = true,
                2 => self.dim = true,
                3 => self.italic = true,
                4 => self.underline = true,
                22 => (self.bold, self.dim) = (false, false),
                23 => self.italic = false,
                24 => self.underline = false,
                30..=37 => self.fg = Some((code - 30) as u8),
                39 => self.fg = None,
                40..=47 => self.bg = Some((code - 40) as u8),
                49 => self.bg = None,
                90..=97 => self.fg = Some((code - 90 + 8) as u8),
                100..=107 => self.bg = Some((code - 100 + 8) as u8),
                38 | 48 => {
                    let colour = match codes.next() {
                        Some(5) => codes.next().and_then(palette_256),
                        Some(2) => {
                            let (r, g, b) = (codes.next(), codes.next(), codes.next());
                            match (r, g, b) {
                                (Some(r), Some(g), Some(b)) => Some(nearest(r, g, b)),
                                _ => None,
                            }
                        }
                        _ => None,
                    };
                    if code == 38 {
                        self.fg = colour;
                    } else {
                        self.bg = colour;
                    }
                }
                _ => {}
            }
        }
    }
}

/// One of the 256-colour palette, mapped to the nearest of the 16 the
/// stylesheet knows (themes pick those to be readable in light and dark).
fn palette_256(n: u32) -> Option<u8> {
    match n {
        0..=15 => Some(n as u8),
        16..=231 => {
            let n = n - 16;
            let level = |v: u32| if v == 0 { 0 } else { 55 + v * 40 };
            Some(nearest(level(n / 36), level((n / 6) % 6), level(n % 6)))
        }
        232..=255 => {
            let grey = 8 + (n - 232) * 10;
            Some(if grey < 64 {
                0
            } else if grey < 160 {
                8
            } else if grey < 220 {
                7
            } else {
                15
            })
        }
        _ => None,
    }
}

/// The nearest of the 16 terminal colours to an RGB value.
fn nearest(r: u32, g: u32, b: u32) -> u8 {
    const BASE: [(u32, u32, u32); 16] = [
        (0, 0, 0),
        (205, 0, 0),
        (0, 205, 0),
        (205, 205, 0),
        (0, 0, 238),
        (205, 0, 205),
        (0, 205, 205),
        (229, 229, 229),
        (127, 127, 127),
        (255, 0, 0),
        (0, 255, 0),
        (255, 255, 0),
        (92, 92, 255),
        (255, 0, 255),
        (0, 255, 255),
        (255, 255, 255),
    ];
    let distance = |(br, bg, bb): (u32, u32, u32)| {
        let d = |a: u32, b: u32| (a.min(255) as i64 - b as i64).pow(2);
        d(r, br) + d(g, bg) + d(b, bb)
    };
    (0..16u8)
        .min_by_key(|&i| distance(BASE[i as usize]))
        .unwrap_or(7)
}

/// One escape sequence at the start of `rest` (which starts with ESC):
/// its length in bytes, and the SGR parameters if it is a colour change.
fn sequence(rest: &str) -> (usize, Option<&str>) {
    let bytes = rest.as_bytes();
    match bytes.get(1) {
        // CSI: parameters and intermediates, then a final byte @ to ~.
        Some(b'[') => {
            for (i, &b) in bytes.iter().enumerate().skip(2) {
                if (0x40..=0x7e).contains(&b) {
                    let params = (b == b'm').then(|| &rest[2..i]);
                    return (i + 1, params);
                }
                if !(0x20..=0x3f).contains(&b) {
                    // Not a well-formed CSI: drop the introducer only.
                    return (i, None);
                }
            }
            (bytes.len(), None)
        }
        // OSC (titles, hyperlinks), DCS, APC, PM, SOS: up to BEL or ESC \.
        Some(b']' | b'P' | b'_' | b'^' | b'X') => {
            let mut i = 2;
            while i < bytes.len() {
                if bytes[i] == 0x07 {
                    return (i + 1, None);
                }
                if bytes[i] == 0x1b && bytes.get(i + 1) == Some(&b'\\') {
                    return (i + 2, None);
                }
                i += 1;
            }
            (bytes.len(), None)
        }
        // Other escapes: intermediates (ESC ( B selects a character set),
        // then one final character (ESC 7, ESC =, …), kept whole if it is
        // not ASCII.
        Some(_) => {
            let mut i = 1;
            while bytes.get(i).is_some_and(|b| (0x20..=0x2f).contains(b)) {
                i += 1;
            }
            let last = rest[i..].chars().next().map_or(0, char::len_utf8);
            (i + last, None)
        }
        None => (1, None),
    }
}

/// `text` without terminal escape sequences.
pub(super) fn strip(text: &str) -> Cow<'_, str> {
    if !text.contains('\u{1b}') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\u{1b}') {
        out.push_str(&rest[..at]);
        let (len, _) = sequence(&rest[at..]);
        rest = &rest[at + len..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Appends one log line as HTML to `out`: colours as spans, everything
/// else escaped, control characters visible.
pub(super) fn render_line(out: &mut String, text: &str) {
    let mut style = Style::default();
    let mut open = false;
    let mut rest = text;
    loop {
        let at = rest.find('\u{1b}').unwrap_or(rest.len());
        push_escaped(out, &rest[..at]);
        if at == rest.len() {
            break;
        }
        let (len, params) = sequence(&rest[at..]);
        rest = &rest[at + len..];
        if let Some(params) = params {
            let before = style;
            style.apply(params);
            if style != before {
                if open {
                    out.push_str("</span>");
                    open = false;
                }
                if style != Style::default() {
                    out.push_str("<span class=\"");
                    out.push_str(&style.classes());
                    out.push_str("\">");
                    open = true;
                }
            }
        }
    }
    if open {
        out.push_str("</span>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str) -> String {
        let mut out = String::new();
        render_line(&mut out, text);
        out
    }

    #[test]
    fn colours_become_classes_and_markup_stays_text() {
        assert_eq!(
            render("\u{1b}[1;31merror\u{1b}[0m: <b>bad</b>"),
            "<span class=\"b fg1\">error</span>: &lt;b&gt;bad&lt;/b&gt;"
        );
        assert_eq!(
            render("\u{1b}[38;5;196mred\u{1b}[39m \u{1b}[48;2;0;0;238mblue"),
            "<span class=\"fg9\">red</span> <span class=\"bg4\">blue</span>"
        );
    }

    #[test]
    fn other_sequences_are_dropped_and_controls_shown() {
        assert_eq!(
            render("\u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{7}\u{1b}[2K done\u{7}"),
            "link done<span class=\"cc\" title=\"control character\">\u{2407}</span>"
        );
        // A sequence cut off at the end of the line, and a lone ESC.
        assert_eq!(render("a\u{1b}[31"), "a");
        assert_eq!(render("a\u{1b}"), "a");
        assert_eq!(strip("x\u{1b}[31my\u{1b}(Bz"), "xyz");
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "\u{1b}[",
            "\u{1b}]",
            "\u{1b}é",
            "\u{1b}[99999999999m",
            "\u{1b}[38;5m",
            "\u{1b}[38;2;1m",
        ] {
            let _ = render(text);
            let _ = strip(text);
        }
    }
}
