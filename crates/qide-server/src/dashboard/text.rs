//! Untrusted text made safe to show: HTML-escaped (by maud), terminal
//! escapes dropped, control characters shown as their Unicode pictures and
//! bidirectional controls as a visible `U+XXXX` mark, so a log line or a
//! branch name can neither inject markup nor reorder what is displayed.

use maud::{Markup, PreEscaped, Render, html};

/// What to do with one character of untrusted text.
pub(super) enum Shown {
    /// Show it as it is.
    Plain,
    /// Show this visible stand-in, marked as a control character.
    Visible(String),
}

/// How `c` is shown. Tabs are kept (the page lays them out); newlines are
/// the caller's business.
pub(super) fn classify(c: char) -> Shown {
    match c {
        '\t' | '\n' => Shown::Plain,
        // C0 controls have pictures at U+2400 + code; DEL at U+2421.
        '\0'..='\u{1f}' => Shown::Visible(
            char::from_u32(0x2400 + c as u32)
                .unwrap_or('\u{fffd}')
                .to_string(),
        ),
        '\u{7f}' => Shown::Visible("\u{2421}".to_owned()),
        // C1 controls, bidirectional embeddings, overrides and isolates,
        // directional marks, zero-width joiners and the BOM.
        '\u{80}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200b}'..='\u{200f}'
        | '\u{061c}'
        | '\u{feff}' => Shown::Visible(format!("U+{:04X}", c as u32)),
        _ => Shown::Plain,
    }
}

/// Writes `text` escaped into `out`, control characters as visible marks.
pub(super) fn push_escaped(out: &mut String, text: &str) {
    let mut plain_from = 0;
    for (i, c) in text.char_indices() {
        if let Shown::Visible(mark) = classify(c) {
            escape_into(out, &text[plain_from..i]);
            out.push_str("<span class=\"cc\" title=\"control character\">");
            escape_into(out, &mark);
            out.push_str("</span>");
            plain_from = i + c.len_utf8();
        }
    }
    escape_into(out, &text[plain_from..]);
}

/// HTML-escapes `text` into `out` (the five characters that matter in
/// text and attribute values).
pub(super) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Untrusted text as markup: escaped, terminal escape sequences removed,
/// control and bidirectional characters visible.
pub(super) fn untrusted(text: &str) -> Markup {
    let stripped = super::ansi::strip(text);
    let mut out = String::with_capacity(stripped.len() + 16);
    push_escaped(&mut out, &stripped);
    PreEscaped(out)
}

/// Untrusted text for an attribute value (a `title`): escapes removed and
/// control characters replaced, since markup cannot live in an attribute.
pub(super) fn attribute(text: &str) -> String {
    super::ansi::strip(text)
        .chars()
        .map(|c| match classify(c) {
            Shown::Plain if c != '\n' => c.to_string(),
            Shown::Plain => " ".to_owned(),
            Shown::Visible(mark) => mark,
        })
        .collect()
}

/// An untrusted string rendered with [`untrusted`], for `(Untrusted(s))`
/// in templates.
pub(super) struct Untrusted<'a>(pub(super) &'a str);

impl Render for Untrusted<'_> {
    fn render(&self) -> Markup {
        untrusted(self.0)
    }
}

/// A short commit hash with the full one in its title.
pub(super) fn commit(full: Option<&str>) -> Markup {
    match full {
        None => html! { span.muted { "—" } },
        Some(full) => {
            let short: String = full.chars().take(9).collect();
            html! { code title=(attribute(full)) { (Untrusted(&short)) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_controls_are_shown_as_text() {
        assert_eq!(
            untrusted("<script>alert(1)</script> & \"x\"").into_string(),
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"
        );
        let shown = untrusted("a\u{7}b\u{202e}c\u{1b}[31md").into_string();
        assert_eq!(
            shown,
            "a<span class=\"cc\" title=\"control character\">\u{2407}</span>b\
             <span class=\"cc\" title=\"control character\">U+202E</span>cd"
        );
    }

    #[test]
    fn attributes_carry_no_controls() {
        assert_eq!(attribute("main\u{202e}\n\u{1b}[1mx"), "mainU+202E x");
    }
}
