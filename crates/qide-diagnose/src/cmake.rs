//! CMake's configure and generate messages: `CMake Error at
//! CMakeLists.txt:5 (add_executable):` with its indented paragraphs and
//! call stack, `CMake Warning …`, located-less `CMake Error: …`, and the
//! `-- Configuring incomplete, errors occurred!` that only repeats them.

use std::sync::LazyLock;

use regex::Regex;

use crate::{Category, Severity, classify::message_category, sink::Draft};

static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(
        r"^CMake (Error|Warning|Deprecation Warning|Deprecation Error)(?: \(dev\))?(?: (?:at|in) (.+?)(?::(\d+))?(?: \(([^)]*)\))?)?:\s*(.*)$",
    )
    .expect("valid regex")
});
static FRAME: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^\s+(\S+):(\d+) \(([^)]*)\)$").expect("valid regex")
});

/// A message longer than this many lines ends, so a mis-detected header
/// cannot swallow the log.
const MAX_BLOCK_LINES: u32 = 120;

/// What a line starting with `CMake` or `-- ` is.
pub(crate) enum Line {
    /// A message whose indented body follows.
    Block(Block),
    /// A one-line message, complete.
    Draft(Draft),
}

/// Reads a CMake message header or summary line.
pub(crate) fn line(n: u64, line: &str) -> Option<Line> {
    if let Some(status) = line.strip_prefix("-- ") {
        if status.starts_with("Configuring incomplete, errors occurred") {
            return Some(Line::Draft(
                Draft::error("cmake", Category::ConfigError, status.to_string(), (n, n)).cascade(),
            ));
        }
        return None;
    }
    if !line.starts_with("CMake ") {
        return None;
    }
    if line.starts_with("CMake Generate step failed") {
        return Some(Line::Draft(
            Draft::error("cmake", Category::ConfigError, line.to_string(), (n, n)).cascade(),
        ));
    }
    let caps = HEADER.captures(line)?;
    let severity = if caps[1].ends_with("Error") {
        Severity::Error
    } else {
        Severity::Warning
    };
    let inline = caps[5].trim().to_string();
    let draft = Draft {
        severity,
        tool: "cmake",
        code: caps.get(4).map(|m| m.as_str().to_string()),
        message: inline.clone(),
        file: caps.get(2).map(|m| m.as_str().to_string()),
        line: caps.get(3).and_then(|m| m.as_str().parse().ok()),
        column: None,
        log_lines: (n, n),
        root_cause: severity == Severity::Error,
        category: Category::ConfigError,
    };
    // `CMake Error: The source directory "…" does not exist.` says it all
    // on one line; CMake's usage hint may follow, unindented.
    if !inline.is_empty() && draft.file.is_none() {
        return Some(Line::Draft(categorised(draft)));
    }
    Some(Line::Block(Block {
        draft,
        paragraphs: vec![inline].into_iter().filter(|s| !s.is_empty()).collect(),
        in_stack: false,
        stack_frame: None,
        blanks: 0,
        lines: 0,
    }))
}

/// Sets the category from the message: a package CMake could not find is
/// a missing dependency, a parse error a syntax error.
fn categorised(mut draft: Draft) -> Draft {
    if draft.severity == Severity::Error {
        let lower = draft.message.to_ascii_lowercase();
        draft.category = if lower.contains("could not find")
            || lower.contains("package configuration file")
            || lower.contains("was not found")
        {
            Category::MissingDependency
        } else {
            match message_category(&draft.message) {
                Some(Category::SyntaxError) => Category::SyntaxError,
                Some(Category::MissingDependency) => Category::MissingDependency,
                _ => Category::ConfigError,
            }
        };
    }
    draft
}

/// A CMake message whose indented body is still being read.
#[derive(Debug)]
pub(crate) struct Block {
    draft: Draft,
    /// The message's paragraphs, each joined into one line; the headline is
    /// built from the first (and the second, when the first ends in `:`).
    paragraphs: Vec<String>,
    /// Inside `Call Stack (most recent call first):`.
    in_stack: bool,
    /// The most recent call-stack frame in the project's own files, where
    /// the message is raised in one of CMake's modules.
    stack_frame: Option<(String, u32, String)>,
    /// Blank lines in a row; CMake ends a message with two.
    blanks: u32,
    lines: u32,
}

impl Block {
    /// Offers the next line; returns whether it belongs to the message
    /// (indented paragraphs, single blank lines between them, the call
    /// stack).
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        if self.lines >= MAX_BLOCK_LINES {
            return false;
        }
        if line.trim().is_empty() {
            self.blanks += 1;
            self.lines += 1;
            return true;
        }
        let indented = line.starts_with(' ') || line.starts_with('\t');
        let stack_header = line.starts_with("Call Stack (most recent call first)");
        // Developer warnings end with this unindented line.
        if line.starts_with("This warning is for project developers") {
            self.lines += 1;
            self.draft.log_lines.1 = n;
            return true;
        }
        if !(indented || stack_header) {
            return false;
        }
        self.lines += 1;
        self.draft.log_lines.1 = n;
        if stack_header {
            self.in_stack = true;
        } else if self.in_stack {
            if self.stack_frame.is_none()
                && let Some(caps) = FRAME.captures(line)
                && !is_cmake_module(&caps[1])
            {
                self.stack_frame = Some((
                    caps[1].to_string(),
                    caps[2].parse().unwrap_or(0),
                    caps[3].to_string(),
                ));
            }
        } else {
            let text = line.trim();
            match self.paragraphs.last_mut() {
                Some(last) if self.blanks == 0 => {
                    last.push(' ');
                    last.push_str(text);
                }
                _ => self.paragraphs.push(text.to_string()),
            }
        }
        self.blanks = 0;
        true
    }

    /// Whether the two blank lines that end a message were read.
    pub(crate) fn done(&self) -> bool {
        self.blanks >= 2
    }

    /// The finished message.
    pub(crate) fn close(self) -> Draft {
        let mut draft = self.draft;
        let mut paragraphs = self.paragraphs.into_iter();
        let mut message = paragraphs.next().unwrap_or_default();
        if message.ends_with(':')
            && let Some(next) = paragraphs.next()
        {
            message.push(' ');
            message.push_str(&next);
        }
        draft.message = message;
        if draft.file.as_deref().is_some_and(is_cmake_module)
            && let Some((file, line, command)) = self.stack_frame
        {
            draft.file = Some(file);
            draft.line = (line > 0).then_some(line);
            draft.code = Some(command);
        }
        let relayed = draft.code.as_deref() == Some("message") && relays_failure(&draft.message);
        let draft = categorised(draft);
        if relayed {
            // A script's `message(FATAL_ERROR "tests failed with error: 1")`
            // reports a command that failed earlier in the log; that
            // command's output holds the cause.
            return Draft {
                category: Category::Unknown,
                ..draft
            }
            .cascade();
        }
        draft
    }
}

/// Whether a project's own error message only relays that a command it ran
/// failed.
fn relays_failure(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    [
        "failed",
        "non-zero",
        "nonzero",
        "exit code",
        "exited with",
        "returned",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// Whether `file` is one of CMake's own modules rather than the project's
/// `CMakeLists.txt` or `*.cmake` files.
fn is_cmake_module(file: &str) -> bool {
    file.contains("/share/cmake") || file.contains("/Modules/")
}
