//! Located compiler messages in the common `path:line[:col]: severity: msg`
//! shape (gcc, clang, go, javac, mypy, rustc's short format), its variants
//! (tsc's `path(line,col): error TS…`, lint `path:line:col: CODE msg`), and
//! the C toolchain's surroundings: `In function` context, linker errors and
//! make's `*** [target] Error 1` summaries.

use std::sync::LazyLock;

use regex::Regex;

use crate::{Category, Severity, classify::message_category, sink::Draft};

static LOCATED: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(
        r"^((?:[A-Za-z]:)?[^\s:]+):(\d+):(?:(\d+):)?\s*((?i:fatal error|error|warning|note|remark))(?:\[([^\]]+)\])?:\s*(.*)$",
    )
    .expect("valid regex")
});
static TSC: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^(\S+?)(?:\((\d+),(\d+)\):|:(\d+):(\d+) -) (error|warning) (TS\d+): (.*)$")
        .expect("valid regex")
});
static MSBUILD: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(
        r"^\s*((?:[A-Za-z]:)?[^\s(:][^(]*?)(?:\((\d+)(?:,(\d+))?(?:,\d+,\d+)?\))? ?: ((?i:fatal error|error|warning)) ([A-Za-z]{1,4}\d{1,5}): (.*?)(?: \[[^\]]+\])?$",
    )
    .expect("valid regex")
});
static LINT: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^(\S+?\.pyi?):(\d+):(\d+): ([A-Z]{1,4}\d{1,4}) (?:\[\*\] )?(.*)$")
        .expect("valid regex")
});
static GO: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^(\S+\.go):(\d+):(\d+): (.*)$").expect("valid regex")
});
static GCC_FLAG: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^(.*?)\s*\[(-W[^\]]+)\]$").expect("valid regex")
});
static MYPY_CODE: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^(.*?)\s+\[([a-z][a-z0-9-]*)\]$").expect("valid regex")
});
static MAKE: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^(?:\S*/)?g?make(?:\[\d+\])?: \*\*\* (.*)$").expect("valid regex")
});
static MAKEFILE: LazyLock<Regex> = LazyLock::new(|| {
    // Reason: a fixed, tested pattern.
    Regex::new(r"^(\S+?):(\d+): \*\*\* (.*)$").expect("valid regex")
});

/// A located diagnostic whose continuation lines are still being read.
#[derive(Debug)]
pub(crate) struct Block {
    draft: Draft,
    lines: u32,
    /// The next line may be a C-family source excerpt printed flush left
    /// (clang prints the source line as it is, unindented at top level;
    /// gcc's numbered gutter is indented): it follows a header or a note.
    excerpt_next: bool,
    /// An unindented excerpt line was taken; it joins the range only when
    /// the caret line under it follows.
    excerpt_at: Option<u64>,
}

/// Continuation lines beyond this many end a block, so a mis-detected
/// header cannot swallow the log.
const MAX_BLOCK_LINES: u32 = 60;

/// The tool that prints located messages for files with this name.
pub(crate) fn tool_for(file: &str) -> &'static str {
    let ext = file.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "c" | "h" | "cc" | "cpp" | "cxx" | "c++" | "hpp" | "hh" | "hxx" | "m" | "mm" | "cu"
        | "ipp" | "tpp" | "inl" => "gcc",
        "go" => "go",
        "py" | "pyi" => "mypy",
        "java" => "javac",
        "rs" => "rustc",
        "ts" | "tsx" | "mts" | "cts" => "tsc",
        "swift" => "swiftc",
        "kt" | "kts" => "kotlinc",
        "scala" => "scalac",
        "hs" | "lhs" => "ghc",
        _ => "generic",
    }
}

pub(crate) fn error_category(tool: &str, message: &str) -> Category {
    if message.starts_with("package ") && message.ends_with(" does not exist") {
        return Category::MissingDependency;
    }
    // clang's `fatal error: 'zlib.h' file not found`.
    if tool == "gcc" && message.ends_with("' file not found") {
        return Category::MissingDependency;
    }
    if let Some(category) = message_category(message) {
        return category;
    }
    if tool == "gcc" && (message.starts_with("expected ") || message.starts_with("stray ")) {
        return Category::SyntaxError;
    }
    Category::CompileError
}

/// Recognises a located diagnostic header. `note:` lines on their own are
/// not diagnostics; they only extend the one before ([`Block::feed`]).
pub(crate) fn header(n: u64, line: &str, context_start: Option<u64>) -> Option<Block> {
    let start = context_start.unwrap_or(n);
    // tsc's, flake8's and go's forms start with their path: an indented
    // line is none of them, and skips their searches (`\S` takes a
    // character that is not ASCII as it may).
    let flush = line
        .as_bytes()
        .first()
        .is_some_and(|&b| !(b.is_ascii_whitespace() || b == 0x0b));
    let draft = undefined_symbols(line)
        .or_else(|| located(line))
        .or_else(|| flush.then(|| tsc(line)).flatten())
        .or_else(|| msbuild(line))
        .or_else(|| flush.then(|| lint(line)).flatten())
        .or_else(|| flush.then(|| go(line)).flatten())?;
    let excerpt_next = draft.tool == "gcc";
    Some(Block {
        draft: Draft {
            log_lines: (start, n),
            ..draft
        },
        lines: 0,
        excerpt_next,
        excerpt_at: None,
    })
}

/// Whether `line` may match [`LOCATED`]: a name without a colon or
/// space (after an optional drive letter), a colon, the line number and a
/// colon, perhaps a column and a colon, then (after spaces) a word that
/// starts like a severity. Most lines that reach the parsers fail this
/// within their first few bytes, without the cost of a regex search. A
/// byte that is not ASCII where a digit or a space is due answers yes:
/// `\d` and `\s` take Unicode's digits and spaces.
fn may_be_located(line: &str) -> bool {
    let b = line.as_bytes();
    at_location(b)
        || (b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && at_location(&b[2..]))
}

/// [`may_be_located`] for the text after a drive letter, if any.
fn at_location(text: &[u8]) -> bool {
    let Some(colon) = memchr::memchr(b':', text) else {
        return false;
    };
    if colon == 0 || text[..colon].iter().any(u8::is_ascii_whitespace) {
        return false;
    }
    // The line number, then perhaps the column, each with its colon.
    let mut i = colon + 1;
    for number in 0..2 {
        let digits = text[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        match text.get(i + digits) {
            Some(c) if *c >= 0x80 => return true,
            Some(b':') if digits > 0 => i += digits + 1,
            // No column: the severity follows the line's colon.
            _ if number == 1 && digits == 0 => break,
            _ => return false,
        }
    }
    // `\s` takes the vertical tab too, which ASCII's whitespace does not.
    let spaces = text[i..]
        .iter()
        .take_while(|&&c| c.is_ascii_whitespace() || c == 0x0b)
        .count();
    match text.get(i + spaces) {
        Some(c) if *c >= 0x80 => true,
        Some(c) => matches!(c.to_ascii_lowercase(), b'f' | b'e' | b'w' | b'n' | b'r'),
        None => false,
    }
}

/// What [`LOCATED`] captures of a line: groups 1 to 5 (the file, the line
/// number, the column, the severity, the code) and group 6, the message.
#[derive(Debug, PartialEq)]
struct LocatedParts<'a> {
    groups: [Option<&'a str>; 5],
    message: &'a str,
}

/// [`LOCATED`]'s captures of `line`. A capturing regex search cost more
/// than the rest of the engine's reading of such a line (its backtracking
/// walks the name and the message through Unicode's classes), so the line
/// is read by hand as the regex reads it, which its deterministic shape
/// allows; the regex decides for a line with a line break or with a byte
/// that is not ASCII where Unicode's spaces, digits or case folding would
/// count.
fn located_parts(line: &str) -> Option<LocatedParts<'_>> {
    if !may_be_located(line) {
        return None;
    }
    if !line.contains('\n')
        && let Some(parts) = located_by_hand(line)
    {
        return parts;
    }
    let caps = LOCATED.captures(line)?;
    let group = |i| caps.get(i).map(|m| m.as_str());
    Some(LocatedParts {
        groups: [group(1), group(2), group(3), group(4), group(5)],
        message: group(6).unwrap_or(""),
    })
}

/// [`LOCATED`] read by hand: `Some(parts)` is the regex's answer, `None`
/// means the regex must decide. The regex tries a drive letter first.
fn located_by_hand(line: &str) -> Option<Option<LocatedParts<'_>>> {
    let b = line.as_bytes();
    if b.len() > 2
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && let Some(parts) = located_from(line, 2)?
    {
        return Some(Some(parts));
    }
    located_from(line, 0)
}

/// [`located_by_hand`] with the name (after a drive letter, if any)
/// starting at byte `name_start`.
fn located_from(line: &str, name_start: usize) -> Option<Option<LocatedParts<'_>>> {
    // `\s` as the regex has it on ASCII: the vertical tab too.
    let is_space = |c: u8| c.is_ascii_whitespace() || c == 0x0b;
    let b = line.as_bytes();
    let mut i = name_start;
    // `[^\s:]+:`
    while i < b.len() && b[i] != b':' {
        match b[i] {
            c if c >= 0x80 => return None,
            c if is_space(c) => return Some(None),
            _ => i += 1,
        }
    }
    if i == name_start || i == b.len() {
        return Some(None);
    }
    let file = &line[..i];
    i += 1;
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    // `(\d+):`, then `(?:(\d+):)?`: digits without their colon fail,
    // as the severity cannot start with one.
    let n = digits(i);
    match b.get(i + n) {
        Some(&c) if c >= 0x80 => return None,
        Some(b':') if n > 0 => {}
        _ => return Some(None),
    }
    let number = &line[i..i + n];
    i += n + 1;
    let n = digits(i);
    let column = match b.get(i + n) {
        Some(&c) if c >= 0x80 => return None,
        Some(b':') if n > 0 => {
            let column = &line[i..i + n];
            i += n + 1;
            Some(column)
        }
        _ if n > 0 => return Some(None),
        _ => None,
    };
    // `\s*`, then the severity in any case.
    while b.get(i).is_some_and(|&c| is_space(c)) {
        i += 1;
    }
    let rest = &b[i..];
    let Some(word) = ["fatal error", "error", "warning", "note", "remark"]
        .iter()
        .find(|w| {
            rest.get(..w.len())
                .is_some_and(|r| r.eq_ignore_ascii_case(w.as_bytes()))
        })
    else {
        // Case folding takes the Kelvin sign for a `k`, and `\s` more.
        if rest.iter().take(11).any(|&c| c >= 0x80) {
            return None;
        }
        return Some(None);
    };
    let severity = &line[i..i + word.len()];
    i += word.len();
    // `(?:\[([^\]]+)\])?:`: without the code, the colon would have to
    // stand where the bracket does.
    let mut code = None;
    if b.get(i) == Some(&b'[') {
        match b[i + 1..].iter().position(|&c| c == b']') {
            Some(k) if k > 0 && b.get(i + k + 2) == Some(&b':') => {
                code = Some(&line[i + 1..i + 1 + k]);
                i += k + 2;
            }
            _ => return Some(None),
        }
    } else if b.get(i) != Some(&b':') {
        return Some(None);
    }
    // `\s*(.*)$`: the rest, without its leading spaces (Unicode's, as
    // `trim_start` takes them), on a line without a line break.
    let message = line[i + 1..].trim_start();
    Some(Some(LocatedParts {
        groups: [Some(file), Some(number), column, Some(severity), code],
        message,
    }))
}

fn located(line: &str) -> Option<Draft> {
    let LocatedParts {
        groups: [Some(file), Some(number), column, Some(severity), code],
        message,
    } = located_parts(line)?
    else {
        return None;
    };
    let severity = match severity.to_ascii_lowercase().as_str() {
        "error" | "fatal error" => Severity::Error,
        "warning" => Severity::Warning,
        _ => return None,
    };
    let file = file.to_string();
    let tool = tool_for(&file);
    let mut code = code.map(str::to_string);
    let mut message = message.trim().to_string();
    // A flag or a code ends the message in brackets; most messages have
    // none, and skip both regexes.
    let bracketed = message.ends_with(']');
    if bracketed && let Some(flag) = GCC_FLAG.captures(&message) {
        code = Some(flag[2].to_string());
        message = flag[1].to_string();
    } else if bracketed
        && tool == "mypy"
        && let Some(c) = MYPY_CODE.captures(&message)
    {
        code = Some(c[2].to_string());
        message = c[1].to_string();
    }
    let category = match severity {
        Severity::Error => error_category(tool, &message),
        Severity::Warning => Category::Lint,
    };
    Some(Draft {
        severity,
        tool,
        code,
        message,
        file: Some(file),
        line: number.parse().ok(),
        column: column.and_then(|c| c.parse().ok()),
        log_lines: (0, 0),
        root_cause: severity == Severity::Error,
        category,
    })
}

/// Apple's linker: `Undefined symbols for architecture arm64:`, then the
/// quoted symbols ([`Block::feed`] adds the first to the message).
fn undefined_symbols(line: &str) -> Option<Draft> {
    if !line.starts_with("Undefined symbols for architecture ") {
        return None;
    }
    Some(Draft::error(
        "ld",
        Category::CompileError,
        line.trim_end_matches(':').to_string(),
        (0, 0),
    ))
}

fn tsc(line: &str) -> Option<Draft> {
    if !has!(line, " TS") {
        return None;
    }
    let caps = TSC.captures(line)?;
    let severity = if &caps[6] == "error" {
        Severity::Error
    } else {
        Severity::Warning
    };
    let code = caps[7].to_string();
    let message = caps[8].trim().to_string();
    let category = match severity {
        Severity::Warning => Category::Lint,
        // TS1xxx are the parser's codes; TS2307 is "Cannot find module".
        Severity::Error if code.starts_with("TS1") && code.len() == 6 => Category::SyntaxError,
        Severity::Error if code == "TS2307" => Category::MissingDependency,
        Severity::Error => Category::CompileError,
    };
    let number = |a: usize, b: usize| {
        caps.get(a)
            .or(caps.get(b))
            .and_then(|m| m.as_str().parse().ok())
    };
    Some(Draft {
        severity,
        tool: "tsc",
        code: Some(code),
        message,
        file: Some(caps[1].to_string()),
        line: number(2, 4),
        column: number(3, 5),
        log_lines: (0, 0),
        root_cause: severity == Severity::Error,
        category,
    })
}

/// MSBuild's form, shared by `dotnet build`, the C#, F# and VB compilers,
/// MSVC and NuGet: `path(line[,col[,end_line,end_col]]): error CODE: message
/// [project]`, or `path : error CODE: …` without a line (a project file),
/// or `TOOL : fatal error CODE: …` (the linker), often indented when the
/// summary repeats it. From the documented format (no .NET SDK runs where
/// QIDE's test logs are made).
fn msbuild(line: &str) -> Option<Draft> {
    // `: error `, `: warning ` or `: fatal error `, with one search for
    // their colon and space instead of one for each.
    static COLON: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(": "));
    let b = line.as_bytes();
    let severity_follows = COLON.find_iter(b).any(|at| {
        let rest = &b[at + 2..];
        rest.starts_with(b"error ")
            || rest.starts_with(b"warning ")
            || rest.starts_with(b"fatal error ")
    });
    if !severity_follows {
        return None;
    }
    let caps = MSBUILD.captures(line)?;
    let severity = match caps[4].to_ascii_lowercase().as_str() {
        "warning" => Severity::Warning,
        _ => Severity::Error,
    };
    let code = caps[5].to_string();
    let message = caps[6].trim().to_string();
    let prefix: String = code.chars().take_while(char::is_ascii_alphabetic).collect();
    let tool = match prefix.to_ascii_uppercase().as_str() {
        "CS" => "csc",
        "FS" => "fsc",
        "BC" => "vbc",
        "C" | "LNK" => "msvc",
        "NU" => "nuget",
        _ => "msbuild",
    };
    let category = match severity {
        Severity::Warning => Category::Lint,
        // The C# compiler's 1000s are the parser's; CS0246 is a type or
        // namespace not found (a missing package or `using`), NU1101 a
        // package no source has.
        Severity::Error if tool == "csc" && code.len() == 6 && code[2..].starts_with('1') => {
            Category::SyntaxError
        }
        Severity::Error if code == "CS0246" || code == "NU1101" || code == "NU1102" => {
            Category::MissingDependency
        }
        Severity::Error => error_category(tool, &message),
    };
    Some(Draft {
        severity,
        tool,
        code: Some(code),
        message,
        // `LINK : fatal error …` names the tool, not a file.
        file: Some(caps[1].trim().to_string()).filter(|f| f.contains(['.', '/', '\\'])),
        line: caps.get(2).and_then(|m| m.as_str().parse().ok()),
        column: caps.get(3).and_then(|m| m.as_str().parse().ok()),
        log_lines: (0, 0),
        root_cause: severity == Severity::Error,
        category,
    })
}

fn lint(line: &str) -> Option<Draft> {
    if !has!(line, ".py") {
        return None;
    }
    let caps = LINT.captures(line)?;
    let code = caps[4].to_string();
    // E9 and E999 are flake8's "could not parse", F821 is an undefined
    // name: errors the program cannot run with, unlike style codes.
    let category = if code.starts_with("E9") {
        Category::SyntaxError
    } else {
        Category::Lint
    };
    Some(Draft {
        severity: Severity::Error,
        tool: "flake8",
        code: Some(code),
        message: caps[5].trim().to_string(),
        file: Some(caps[1].to_string()),
        line: caps[2].parse().ok(),
        column: caps[3].parse().ok(),
        log_lines: (0, 0),
        root_cause: true,
        category,
    })
}

fn go(line: &str) -> Option<Draft> {
    if !has!(line, ".go:") {
        return None;
    }
    let caps = GO.captures(line)?;
    let message = caps[4].trim().to_string();
    Some(Draft {
        severity: Severity::Error,
        tool: "go",
        code: None,
        category: error_category("go", &message),
        message,
        file: Some(caps[1].to_string()),
        line: caps[2].parse().ok(),
        column: caps[3].parse().ok(),
        log_lines: (0, 0),
        root_cause: true,
    })
}

impl Block {
    /// Offers the next line; returns whether it continues this diagnostic
    /// (source excerpts, carets, notes, indented details).
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        if self.lines >= MAX_BLOCK_LINES || line.trim().is_empty() {
            return false;
        }
        let excerpt_at = self.excerpt_at.take();
        if std::mem::take(&mut self.excerpt_next) && may_be_excerpt(line) {
            self.lines += 1;
            self.excerpt_at = Some(n);
            return true;
        }
        let caret = line.trim_start().starts_with(['^', '~']);
        if caret && let Some(at) = excerpt_at {
            self.draft.log_lines.1 = self.draft.log_lines.1.max(at);
        }
        let note = located_parts(line)
            .is_some_and(|parts| parts.groups[3].is_some_and(|s| s.eq_ignore_ascii_case("note")));
        let continues = line.starts_with(' ')
            || line.starts_with('\t')
            || line.starts_with('|')
            || line == "compilation terminated."
            || note;
        if note && self.draft.tool == "gcc" {
            self.excerpt_next = true;
        }
        if continues {
            self.take_message_from(line);
            if self.draft.tool == "ld"
                && self.draft.message.starts_with("Undefined symbols")
                && !self.draft.message.contains('"')
                && let Some(symbol) = line.trim().strip_suffix(", referenced from:")
            {
                self.draft.message = format!("{}: {symbol}", self.draft.message);
            }
            self.lines += 1;
            self.draft.log_lines.1 = n;
        }
        continues
    }

    /// GHC puts the message on the lines after its header
    /// (`Foo.hs:94:10: Warning:`, or `warning: [-Wmissing-methods]` with
    /// the flag alone): the first continuation line is the message, and a
    /// bracketed flag its code.
    fn take_message_from(&mut self, line: &str) {
        // Nearly every header has its message: one look rules it out.
        if !matches!(
            self.draft.message.as_bytes().first(),
            None | Some(b'[' | b' ')
        ) {
            return;
        }
        let message = self.draft.message.trim();
        let flag = message
            .strip_prefix('[')
            .and_then(|m| m.strip_suffix(']'))
            .filter(|f| f.starts_with('-') && !f.contains(' '));
        if !message.is_empty() && flag.is_none() {
            return;
        }
        let text = line.trim().trim_start_matches('•').trim();
        if text.is_empty() || text.starts_with('|') {
            return;
        }
        if let Some(flag) = flag
            && self.draft.code.is_none()
        {
            self.draft.code = Some(flag.to_string());
        }
        self.draft.message = text.to_string();
    }

    /// The finished diagnostic.
    pub(crate) fn close(self) -> Draft {
        self.draft
    }
}

/// Whether an unindented line right after a C-family diagnostic may be
/// its source excerpt: not a diagnostic, context or build-tool line of its
/// own (those hold one of these words), which must reach the parsers.
fn may_be_excerpt(line: &str) -> bool {
    const OWN_LINE: &[&str] = &[
        "error",
        "Error",
        "warning",
        "Warning",
        "***",
        "FAIL",
        "fatal",
        "included from",
        "generated.",
        "make",
    ];
    !line.starts_with(' ') && !line.starts_with('\t') && !OWN_LINE.iter().any(|w| line.contains(w))
}

/// Whether `line` is context printed before a C/C++ diagnostic
/// (`main.c: In function ‘f’:`, `In file included from …`, template
/// instantiation chains, the linker's `in function` lines).
pub(crate) fn is_context(line: &str) -> bool {
    line.starts_with("In file included from ")
        || (line.starts_with("                 from ") && line.ends_with([',', ':']))
        || {
            // `   required from ` or `   required by `, in one search.
            static REQUIRED: LazyLock<memchr::memmem::Finder<'static>> =
                LazyLock::new(|| memchr::memmem::Finder::new("   required "));
            let b = line.as_bytes();
            REQUIRED.find_iter(b).any(|at| {
                let rest = &b[at + "   required ".len()..];
                rest.starts_with(b"from ") || rest.starts_with(b"by ")
            })
        }
        || line.ends_with("   required from here")
        || (line.ends_with(':')
            && [
                ": In function ",
                ": In member function ",
                ": In instantiation of ",
                ": In constructor ",
                ": In destructor ",
                ": In lambda function",
                ": At top level",
                ": in function `",
            ]
            .iter()
            .any(|c| line.contains(c)))
}

/// Linker, make and compiler-driver lines.
pub(crate) fn toolchain_line(n: u64, line: &str, context_start: Option<u64>) -> Option<Draft> {
    let span = (context_start.unwrap_or(n), n);
    if line.starts_with("collect2: error:") || has!(line, ": error: linker command failed") {
        return Some(Draft::error("ld", Category::CompileError, line.to_string(), span).cascade());
    }
    // `str::find` builds its searcher on each call, and this runs on every
    // line that passes the keyword gate.
    static UNDEFINED: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new("undefined reference to "));
    if let Some(i) = UNDEFINED.find(line.as_bytes()) {
        let mut draft = Draft::error("ld", Category::CompileError, line[i..].to_string(), span);
        // `link.c:(.text+0xa): undefined reference to `helper'`
        if let Some((file, _)) = line.split_once(":(") {
            draft.file = Some(file.to_string());
        }
        return Some(draft);
    }
    if let Some(rest) = line
        .strip_prefix("/usr/bin/ld: ")
        .or_else(|| line.strip_prefix("ld: "))
    {
        // ld64's `ld: symbol(s) not found for architecture arm64` follows
        // the `Undefined symbols` block that names them.
        if rest.starts_with("symbol(s) not found") {
            return Some(
                Draft::error("ld", Category::CompileError, line.to_string(), span).cascade(),
            );
        }
        if rest.starts_with("cannot find -l") || rest.starts_with("library not found") {
            return Some(Draft::error(
                "ld",
                Category::MissingDependency,
                rest.to_string(),
                span,
            ));
        }
        return None;
    }
    if has!(line, "***") {
        if let Some(caps) = MAKE.captures(line) {
            let message = caps[1].to_string();
            if message.starts_with("No rule to make target") || message.contains("Stop.") {
                return Some(Draft::error("make", Category::ConfigError, message, span));
            }
            return Some(Draft::error("make", Category::Unknown, message, span).cascade());
        }
        if let Some(caps) = MAKEFILE.captures(line) {
            let mut draft = Draft::error("make", Category::ConfigError, caps[3].to_string(), span);
            draft.file = Some(caps[1].to_string());
            draft.line = caps[2].parse().ok();
            return Some(draft);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines built from the pieces [`LOCATED`] is made of, Unicode digits
    /// and spaces among them.
    fn located_shapes() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::collection::vec(
            proptest::sample::select(vec![
                "C:",
                "src/a.c",
                "a",
                ":",
                "12",
                "3",
                "\u{663}",
                " ",
                "\t",
                "\x0b",
                "\u{a0}",
                "error",
                "ERROR",
                "fatal error",
                "warning",
                "note",
                "remark",
                "\u{212a}",
                "[",
                "]",
                "-Wx",
                "x: y",
                "Get",
                "\n",
                "\u{3000}",
                ": ",
                "é",
            ]),
            0..9,
        )
        .prop_map(|parts| parts.concat())
    }

    use proptest::strategy::Strategy;

    proptest::proptest! {
        #[test]
        fn the_located_check_lets_every_match_through(line in located_shapes()) {
            if LOCATED.is_match(&line) {
                proptest::prop_assert!(may_be_located(&line), "{:?}", line);
            }
            let whole = LOCATED.captures(&line).map(|c| {
                let groups: Vec<_> = (1..=6).map(|i| c.get(i).map(|m| m.as_str())).collect();
                format!("{groups:?}")
            });
            let parts = located_parts(&line).map(|parts| {
                let mut groups = parts.groups.to_vec();
                groups.push(Some(parts.message));
                format!("{groups:?}")
            });
            proptest::prop_assert_eq!(parts, whole, "{:?}", line);
        }
    }

    #[test]
    fn the_head_and_the_rest_read_as_the_whole_regex() {
        for line in [
            "src/a.c:3:5: error: expected ';'  ",
            "a.c:3: error:\u{3000}wide space",
            "a.c:3: error: x\ny",
            "a.c:3: error:\n x",
            "a.c:3: error:\n",
            "C:1:2:3: warning[W1]: x",
            "C:12:3: Error: x",
            "a.c:3: note:",
            "a.c:3: remar\u{212a}: kelvin",
            "a.c:3:\u{3000}error: wide",
            "a.c:\u{663}: error: arabic digit",
            "a.c:3:4 error: no colon",
            "a.c:3: error[]: empty code",
            "a.c:3: error[x]y: x",
            "a.c:3: errors: x",
            "a b.c:3: error: space",
            "a.c:3:\x0b error: vertical tab",
            "é.c:3: error: x",
        ] {
            let whole = LOCATED.captures(line).map(|c| {
                (1..=6)
                    .map(|i| c.get(i).map(|m| m.as_str().to_string()))
                    .collect::<Vec<_>>()
            });
            let parts = located_parts(line).map(|parts| {
                let mut groups: Vec<_> =
                    parts.groups.iter().map(|g| g.map(str::to_string)).collect();
                groups.push(Some(parts.message.to_string()));
                groups
            });
            assert_eq!(parts, whole, "{line:?}");
        }
    }

    #[test]
    fn the_located_check_rules_out_look_alikes() {
        for line in [
            "src/a.c:3:5: error: expected ';'",
            "src/a.c:3: warning: unused",
            "C:\\src\\a.c:3:5: fatal error: x.h: No such file",
            "a.py:3: note: see here",
            "a.c:\u{663}: error: x",
        ] {
            assert!(LOCATED.is_match(line), "{line:?}");
            assert!(may_be_located(line), "{line:?}");
        }
        for line in [
            "Get:9 http://archive.ubuntu.com/ubuntu trusty/main",
            "12:34:56 building",
            "src/a.c:3:5: undefined",
            "see: 3 errors",
            "error: plain",
        ] {
            assert!(!may_be_located(line), "{line:?}");
        }
    }
}
