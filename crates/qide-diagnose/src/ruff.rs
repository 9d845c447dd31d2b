//! ruff's `check` output. The concise form (`src/a.py:1:8: F401 [*] msg`)
//! is flake8's shape and is read by `generic`; this module reads what
//! flake8 never prints: the full form (a `F401 [*] msg` header, then
//! ` --> src/a.py:1:8` and a source excerpt up to a blank line), located
//! `invalid-syntax:` errors and the `Found N errors.` summary. When the log
//! shows it is ruff's, [`relabel`] names the concise lines' tool `ruff`.

use std::sync::LazyLock;

use regex::Regex;

use crate::{Category, Diagnostic, sink::Draft};

static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^([A-Z]{1,4}\d{1,4}|invalid-syntax)(?::)? (?:\[\*\] )?(.+)$").expect("valid regex")
});
static ARROW: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s*--> (\S+?):(\d+):(\d+)$").expect("valid regex")
});
static SYNTAX: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^(\S+?\.pyi?):(\d+):(\d+): (?:invalid-syntax|SyntaxError): (.*)$")
        .expect("valid regex")
});
static FOUND: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^Found \d+ errors?\.$").expect("valid regex")
});

/// A full-form diagnostic longer than this many lines ends, so a
/// mis-detected header cannot swallow the log.
const MAX_BLOCK_LINES: u32 = 60;

/// What was seen of ruff so far in one log.
#[derive(Debug, Default)]
pub(crate) struct Ruff {
    /// The line before, when it may be a full-form header (`F401 msg`):
    /// such headers hold no keyword, so they are kept until the next line
    /// says whether a ` --> file:line:col` follows.
    header: Option<(u64, String)>,
    /// [`Ruff::header`] as it was for the line before this one.
    before: Option<(u64, String)>,
    /// The log shows ruff's own marks (`[*]`, `invalid-syntax`, the full
    /// form, `Found N errors.`).
    seen: bool,
}

impl Ruff {
    /// Notes a line that may be a full-form header. Called for every line
    /// no open construct took, so it looks at the first bytes only before
    /// anything else.
    #[inline]
    pub(crate) fn remember(&mut self, n: u64, line: &str) {
        let b = line.as_bytes();
        let maybe = match b.first() {
            // A rule code: one to four capitals, then a digit (`F401`).
            Some(b'A'..=b'Z') => {
                let letters = b.iter().take(5).take_while(|c| c.is_ascii_uppercase());
                b.get(letters.count()).is_some_and(u8::is_ascii_digit)
            }
            Some(b'i') => line.starts_with("invalid-syntax: "),
            _ => false,
        };
        if !maybe && self.header.is_none() && self.before.is_none() {
            // The common case: nothing to remember, nothing to forget.
            return;
        }
        let header = if maybe && HEADER.is_match(line) {
            Some((n, line.to_string()))
        } else {
            None
        };
        self.before = std::mem::replace(&mut self.header, header);
    }

    /// Reads a line that passed the keyword gate.
    pub(crate) fn line(&mut self, n: u64, line: &str) -> Option<Line> {
        if has!(line, "[*]") && has!(line, ".py") {
            self.seen = true;
        }
        if line.starts_with("Found ") && FOUND.is_match(line) {
            self.seen = true;
            return Some(Line::Draft(
                Draft::error("ruff", Category::Lint, line.to_string(), (n, n)).cascade(),
            ));
        }
        if has!(line, "-->") {
            return self.arrow(n, line).map(Line::Block);
        }
        if has!(line, ": invalid-syntax: ") || has!(line, ": SyntaxError: ") {
            let caps = SYNTAX.captures(line)?;
            self.seen = true;
            let mut draft = Draft::error(
                "ruff",
                Category::SyntaxError,
                caps[4].trim().to_string(),
                (n, n),
            );
            draft.code = Some("invalid-syntax".to_string());
            draft.file = Some(caps[1].to_string());
            draft.line = caps[2].parse().ok();
            draft.column = caps[3].parse().ok();
            return Some(Line::Draft(draft));
        }
        None
    }

    /// Opens a full-form diagnostic at its ` --> file:line:col` line, when
    /// the line before was a header.
    fn arrow(&mut self, n: u64, line: &str) -> Option<Block> {
        let (start, header) = self.before.take()?;
        if start + 1 != n {
            return None;
        }
        let at = ARROW.captures(line)?;
        let caps = HEADER.captures(&header)?;
        self.seen = true;
        let code = caps[1].to_string();
        let category = if code == "invalid-syntax" || code.starts_with("E9") {
            Category::SyntaxError
        } else {
            Category::Lint
        };
        let mut draft = Draft::error("ruff", category, caps[2].trim().to_string(), (start, n));
        draft.code = Some(code);
        draft.file = Some(at[1].to_string());
        draft.line = at[2].parse().ok();
        draft.column = at[3].parse().ok();
        Some(Block { draft, lines: 0 })
    }

    /// Names the tool of flake8-shaped diagnostics `ruff` when the log
    /// showed ruff's marks, refreshing their fingerprints.
    pub(crate) fn relabel(&self, diagnostics: &mut [Diagnostic]) {
        if !self.seen {
            return;
        }
        crate::fingerprint::rename_tool(diagnostics, "flake8", "ruff");
    }
}

/// What a gated line was to ruff.
pub(crate) enum Line {
    /// A full-form diagnostic whose excerpt follows.
    Block(Block),
    /// A complete one-line diagnostic.
    Draft(Draft),
}

/// A full-form diagnostic whose excerpt, help and notes are still being
/// read; a blank line ends it.
#[derive(Debug)]
pub(crate) struct Block {
    draft: Draft,
    lines: u32,
}

impl Block {
    /// Offers the next line; returns whether it belongs to the diagnostic.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        if self.lines >= MAX_BLOCK_LINES || line.trim().is_empty() {
            return false;
        }
        self.lines += 1;
        self.draft.log_lines.1 = n;
        true
    }

    /// The finished diagnostic.
    pub(crate) fn close(self) -> Draft {
        self.draft
    }
}
