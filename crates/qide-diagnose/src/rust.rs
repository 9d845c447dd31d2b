//! rustc, clippy and cargo human-readable output: `error[E0308]: …` headers,
//! their ` --> file:line:col` locations and gutter bodies, and cargo's
//! summary lines, which are consequences rather than causes.

use std::sync::LazyLock;

use regex::Regex;

use crate::{Category, Severity, classify::message_category, sink::Draft};

static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^(error|warning)(?:\[([^\]\s]+)\])?: (.+)$").expect("valid regex")
});
static LOCATION: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s*(-->|:::)\s+(.+?):(\d+):(\d+)\s*$").expect("valid regex")
});
static TARGETS_FAILED: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\d+ targets? failed").expect("valid regex")
});

/// What a line starting with `error`/`warning` turned out to be.
pub(crate) enum Header {
    /// The start of a diagnostic whose body follows.
    Open(Block),
    /// A one-line summary of failures reported before it.
    Cascade(Draft),
    /// A summary that adds nothing (warning counts).
    Drop,
}

/// Recognises a rustc/cargo diagnostic header.
pub(crate) fn header(n: u64, line: &str) -> Option<Header> {
    if !(line.starts_with("error") || line.starts_with("warning")) {
        return None;
    }
    let caps = HEADER.captures(line)?;
    let severity = if &caps[1] == "error" {
        Severity::Error
    } else {
        Severity::Warning
    };
    let code = caps.get(2).map(|m| m.as_str().to_string());
    let message = caps[3].trim().to_string();
    if code.is_none()
        && let Some(cascade) = cascade(n, severity, &message)
    {
        return Some(cascade);
    }
    Some(Header::Open(Block {
        severity,
        code,
        message,
        file: None,
        line: None,
        column: None,
        start: n,
        end: n,
        lint: None,
        missing_dependency: false,
    }))
}

fn cascade(n: u64, severity: Severity, message: &str) -> Option<Header> {
    let draft =
        |tool, category| Draft::error(tool, category, message.to_string(), (n, n)).cascade();
    if severity == Severity::Warning {
        let count_summary = (message.starts_with('`') && message.contains(" generated "))
            || message.ends_with(" emitted")
            || message.starts_with("build failed, waiting for other jobs");
        return count_summary.then_some(Header::Drop);
    }
    if message.starts_with("could not compile `") {
        return Some(Header::Cascade(draft("cargo", Category::CompileError)));
    }
    if message.starts_with("aborting due to") {
        return Some(Header::Cascade(draft("rustc", Category::CompileError)));
    }
    if message.starts_with("test failed, to rerun pass") || TARGETS_FAILED.is_match(message) {
        return Some(Header::Cascade(draft("cargo", Category::TestFailure)));
    }
    None
}

/// A rustc diagnostic whose body is still being read.
#[derive(Debug)]
pub(crate) struct Block {
    severity: Severity,
    code: Option<String>,
    message: String,
    file: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
    start: u64,
    end: u64,
    /// The lint named in a `#[warn(...)]`/`-D ...` note, used as the code.
    lint: Option<String>,
    /// The body says the crate is not a dependency (`cargo add`, unlinked crate).
    missing_dependency: bool,
}

impl Block {
    /// Offers the next line; returns whether it belongs to this diagnostic.
    /// A blank line belongs to it and ends it, which the caller learns from
    /// [`Block::ended_by`].
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        if let Some(caps) = LOCATION.captures(line) {
            if &caps[1] == "-->" && self.file.is_none() {
                self.file = Some(caps[2].to_string());
                self.line = caps[3].parse().ok();
                self.column = caps[4].parse().ok();
            }
            self.end = n;
            return true;
        }
        if !is_body(line) {
            return false;
        }
        self.end = n;
        if line.contains("unlinked crate")
            || line.contains("cargo add")
            || line.contains("undeclared crate")
        {
            self.missing_dependency = true;
        }
        if self.lint.is_none() {
            self.lint = lint_name(line);
        }
        true
    }

    /// Whether `line` is the blank line that ends a rustc diagnostic.
    pub(crate) fn ended_by(line: &str) -> bool {
        line.trim().is_empty()
    }

    /// Turns the finished block into a draft.
    pub(crate) fn close(self, seen_cargo: bool) -> Draft {
        let is_clippy = self
            .lint
            .as_deref()
            .is_some_and(|l| l.starts_with("clippy::"));
        let tool = if is_clippy {
            "clippy"
        } else if self.file.is_some() || self.code.is_some() {
            "rustc"
        } else if seen_cargo {
            "cargo"
        } else {
            "generic"
        };
        let category = self.category();
        let code = self.code.or(self.lint);
        Draft {
            severity: self.severity,
            tool,
            code,
            message: self.message,
            file: self.file,
            line: self.line,
            column: self.column,
            log_lines: (self.start, self.end),
            root_cause: self.severity == Severity::Error,
            category,
        }
    }

    fn category(&self) -> Category {
        if self.severity == Severity::Warning || self.lint.is_some() {
            return Category::Lint;
        }
        let msg = self.message.as_str();
        match self.code.as_deref() {
            Some("E0463") => return Category::MissingDependency,
            Some("E0432" | "E0433") if self.missing_dependency => {
                return Category::MissingDependency;
            }
            Some(_) => return Category::CompileError,
            None => {}
        }
        const SYNTAX: &[&str] = &[
            "expected ",
            "unexpected ",
            "unterminated ",
            "unclosed ",
            "mismatched closing delimiter",
            "this file contains an unclosed delimiter",
            "unknown start of token",
            "found invalid character",
            "missing `fn`",
            "invalid ",
        ];
        if self.file.is_some() && SYNTAX.iter().any(|s| msg.starts_with(s)) {
            return Category::SyntaxError;
        }
        if self.file.is_some() {
            return Category::CompileError;
        }
        message_category(msg).unwrap_or(Category::Unknown)
    }
}

/// Whether `line` is part of a rustc diagnostic body: gutter lines
/// (`  |`, `12 |`, `1 + fixed`), notes, helps and elisions.
fn is_body(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with('|')
        || t.starts_with("= ")
        || t.starts_with("...")
        || t.starts_with("help:")
        || t.starts_with("note:")
        || t.starts_with("suggestion:")
    {
        return true;
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0
        && t[digits..].starts_with(' ')
        && matches!(
            t[digits..].trim_start().as_bytes().first(),
            Some(b'|' | b'+' | b'-' | b'~')
        )
}

/// The lint a note or help names: `#[warn(unused_variables)]`,
/// `#[deny(clippy::x)]`, or `-D clippy::len-zero`.
fn lint_name(line: &str) -> Option<String> {
    for open in ["#[warn(", "#[deny(", "#[forbid("] {
        if let Some(i) = line.find(open) {
            let rest = &line[i + open.len()..];
            let end = rest.find(')')?;
            return Some(rest[..end].to_string());
        }
    }
    let i = line.find("`-D ")?;
    let rest = &line[i + 4..];
    let end = rest.find('`')?;
    Some(rest[..end].replace('-', "_"))
}
