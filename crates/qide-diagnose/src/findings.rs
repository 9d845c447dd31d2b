//! Linters' located findings: `path:line[:col][:] message`, the form
//! (vim's `%f:%l:%c: %m`) most linters and checkers print (rubocop,
//! luacheck, yamllint, buf, phpstan, hlint, go vet, reek, fasterer,
//! dotenv-linter, misspell, sorbet, standard…), with the variants of
//! protolint (`[path:line:col] msg`), tslint (`path[line, col]: msg`),
//! eslint's compact formatter (`path: line N, col M, Error - msg`),
//! loggers' `[error] `/`[warn] ` prefixes (sbt) and xcpretty's and
//! xcbeautify's `❌ `/`⚠️ ` marks (Xcode builds).
//!
//! Unlike a compiler's `path:line: error: msg` ([`crate::generic`]), many of
//! these name no severity, and a line only counts when its path ends in a
//! known source or configuration file name, so timestamps, URLs and
//! `host:port` are never taken for one. A finding that names its severity
//! (`[error]`, `E:`, `[W]`, `warning -`…) is reported as it says. One that
//! does not is held back: it is reported as a warning, unless nothing else
//! in the log explains a failure while the log shows one (an error-looking
//! line, such as the runner's note that the step exited non-zero), in which
//! case it is the root cause: a linter failing the build is the common
//! reason such lines are printed at all. Findings printed by a step the
//! runner saw exit 0 stay warnings.

use crate::{Category, Severity, generic, sink::Draft};

/// At most this many findings without a severity wait for the end of the
/// log; a linter listing thousands has made its point by then.
const MAX_HELD: usize = 500;

/// Findings whose severity waits for the end of the log.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    /// Held findings, in log order.
    held: Vec<Draft>,
    /// How many of `held` were printed before the runner's last note that a
    /// step exited 0: those never become root causes.
    passed: usize,
}

/// How a line names its severity, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Error,
    Warning,
    None,
}

impl Findings {
    /// Offers a line no parser took; returns the finding that names its
    /// severity (to be emitted now), holding one that does not. `keyword`:
    /// the line holds one of the parsers' keywords (every worded form
    /// does; see [`worded`]).
    pub(crate) fn line(&mut self, n: u64, line: &str, keyword: bool) -> Option<Draft> {
        let (draft, label) = parse(line, keyword)?;
        let draft = Draft {
            log_lines: (n, n),
            ..draft
        };
        match label {
            Label::None => {
                if self.held.len() < MAX_HELD {
                    self.held.push(draft);
                }
                None
            }
            _ => Some(draft),
        }
    }

    /// Notes the runner's line that a step ended: findings printed before a
    /// step that exited 0 did not fail the build.
    pub(crate) fn step_ended(&mut self, line: &str) {
        if step_passed(line) {
            self.passed = self.held.len();
        }
    }

    /// The held findings: root causes when `failed_unexplained` (the log
    /// shows a failure and no parser found why), warnings otherwise.
    pub(crate) fn finish(self, failed_unexplained: bool) -> Vec<Draft> {
        let passed = self.passed;
        self.held
            .into_iter()
            .enumerate()
            .map(|(i, draft)| {
                if failed_unexplained && i >= passed {
                    Draft {
                        severity: Severity::Error,
                        root_cause: true,
                        ..draft
                    }
                } else {
                    draft
                }
            })
            .collect()
    }
}

/// The rest of a line from xcpretty's or xcbeautify's mark on, when only a
/// short stray word (at most three ASCII letters, as a shell's botched
/// `echo` leaves) comes before the mark.
fn after_stray_word(line: &str) -> Option<&str> {
    // Every line no parser took is asked: the mark's first byte is looked
    // for where it could stand before anything else.
    let b = line.as_bytes();
    let word = (1..=3).find(|&i| b.get(i) == Some(&0xE2))?;
    if !b[..word].iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let rest = &line[word..];
    (rest.starts_with('❌') || rest.starts_with("⚠️")).then_some(rest)
}

/// Whether `line` is the runner's note that a step exited 0
/// (`[qide] step "lint" exited with code 0 after 0.2s`).
pub(crate) fn step_passed(line: &str) -> bool {
    line.strip_prefix("[qide] step ")
        .and_then(|rest| rest.rsplit_once(" exited with code "))
        .is_some_and(|(_, code)| code.starts_with("0 "))
}

/// Reads a finding: the draft (severity Warning when the line names none)
/// and how the line named its severity.
fn parse(line: &str, keyword: bool) -> Option<(Draft, Label)> {
    // Every line no parser took comes here: most are ruled out by their
    // first byte or their first word.
    let (prefix_label, rest) = match line.as_bytes().first()? {
        b'[' => logger_prefix(line),
        // xcpretty's and xcbeautify's marks: `❌  path:line:col: message`.
        0xE2 => match (line.strip_prefix('❌'), line.strip_prefix("⚠️")) {
            (Some(rest), _) => (Label::Error, rest.trim_start()),
            (_, Some(rest)) => (Label::Warning, rest.trim_start()),
            _ => return None,
        },
        // black's `error:path:1:3:message`.
        b'e' if line.starts_with("error:") && !line.starts_with("error: ") => {
            (Label::Error, &line["error:".len()..])
        }
        b if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'_' | b'~' | b' ') => {
            if let Some(marked) = after_stray_word(line) {
                return parse(marked, keyword);
            }
            if keyword && let Some(found) = worded(line) {
                return Some(found);
            }
            (Label::None, line)
        }
        _ => return None,
    };
    // A finding is flush left, or indented by a formatter (standard, reek).
    let body = rest.strip_prefix("  ").unwrap_or(rest);
    let (bracketed, body) = match body.strip_prefix('[') {
        Some(inner) => (true, inner),
        None => (false, body),
    };
    let path_len = path_len(body)?;
    let (file, after) = body.split_at(path_len);
    // The position first: it rules out `Note:` and `remote:` cheaply.
    let Position {
        line: line_no,
        column,
        message,
        after_colon,
    } = position(after, bracketed)?;
    let known = known_file(file);
    // An unknown name still counts under a directory when the finding names
    // its severity (rubocop on `bin/rails`).
    if !known && !file.contains(['/', '\\']) {
        return None;
    }
    let message = message.trim();
    // make's `Makefile:12: recipe for target 'all' failed` is a cascade;
    // tsc's `  path:5:23 - 'x' is declared here.` belongs to the error
    // above it.
    if message.is_empty()
        || after_colon && is_frame(message)
        || message.starts_with("recipe for target")
        || message.starts_with("- ")
    {
        return None;
    }
    let (label, message) = match prefix_label {
        Label::None => severity(message),
        label => (label, message),
    };
    if !known && label == Label::None {
        return None;
    }
    let tool = generic::tool_for(file);
    let (severity, category) = match label {
        Label::Error if tool == "generic" => (Severity::Error, Category::Lint),
        Label::Error => (Severity::Error, generic::error_category(tool, message)),
        _ => (Severity::Warning, Category::Lint),
    };
    Some((
        Draft {
            severity,
            tool,
            code: None,
            message: message.to_string(),
            file: Some(file.to_string()),
            line: Some(line_no),
            column,
            log_lines: (0, 0),
            root_cause: severity == Severity::Error,
            category,
        },
        label,
    ))
}

/// Findings that spell their place out in words: isort's `ERROR: path
/// message` (no line), puppet-lint's `path - ERROR: message on line N` and
/// scalastyle's `error file=path message=… line=N column=M`. Each holds a
/// keyword of the parsers' gate, so only those lines are asked (puppet-lint's
/// `WARNING:` holds none, and is not read).
fn worded(line: &str) -> Option<(Draft, Label)> {
    // The first word decides, found with one memchr.
    let (first, rest) = line.split_once(' ')?;
    let (label, file, line_no, column, message) = match first {
        "ERROR:" => {
            let (file, message) = rest.split_once(' ')?;
            (Label::Error, file, None, None, message)
        }
        "error" | "warning" => {
            let label = if first == "error" {
                Label::Error
            } else {
                Label::Warning
            };
            let (file, rest) = rest.strip_prefix("file=")?.split_once(" message=")?;
            // ` line=N column=M` close the message when the check names a
            // place.
            let (message, line_no, column) = match rest.rsplit_once(" line=") {
                Some((message, place)) => {
                    let (line_no, column) = place.split_once(" column=").unwrap_or((place, ""));
                    (message, line_no.parse().ok(), column.parse().ok())
                }
                None => (rest, None, None),
            };
            (label, file, line_no, column, message)
        }
        file => {
            let (label, rest) = match rest.strip_prefix("- ERROR: ") {
                Some(rest) => (Label::Error, rest),
                None => (Label::Warning, rest.strip_prefix("- WARNING: ")?),
            };
            let (message, line_no) = rest.rsplit_once(" on line ")?;
            (label, file, Some(line_no.parse().ok()?), None, message)
        }
    };
    if file.contains(char::is_whitespace) || !known_file(file) || message.trim().is_empty() {
        return None;
    }
    let severity = if label == Label::Error {
        Severity::Error
    } else {
        Severity::Warning
    };
    Some((
        Draft {
            severity,
            tool: "generic",
            code: None,
            message: message.trim().to_string(),
            file: Some(file.to_string()),
            line: line_no,
            column,
            log_lines: (0, 0),
            root_cause: severity == Severity::Error,
            category: Category::Lint,
        },
        label,
    ))
}

/// A logger's severity prefix (`[error] `, `[warn] `), as sbt prints before
/// the compiler's own lines.
fn logger_prefix(line: &str) -> (Label, &str) {
    for (prefix, label) in [
        ("[error] ", Label::Error),
        ("[ERROR] ", Label::Error),
        ("[warn] ", Label::Warning),
        ("[WARN] ", Label::Warning),
        ("[warning] ", Label::Warning),
        ("[WARNING] ", Label::Warning),
    ] {
        if let Some(rest) = line.strip_prefix(prefix) {
            return (label, rest);
        }
    }
    (Label::None, line)
}

/// The length of the path at the start of `text`: up to the `:` before the
/// line number, or tslint's `[`. A Windows drive (`C:\`) is part of it.
fn path_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let skip = match bytes {
        [d, b':', b'\\' | b'/', ..] if d.is_ascii_alphabetic() => 2,
        _ => 0,
    };
    // Bytes that end a path, as a table: this runs on most lines.
    static ENDS: [bool; 256] = {
        let mut ends = [false; 256];
        let mut i = 0;
        while i < 7 {
            ends[[b':', b'[', b' ', b'\t', b'(', b'"', b'\''][i] as usize] = true;
            i += 1;
        }
        ends
    };
    let end = skip + bytes[skip..].iter().position(|&b| ENDS[usize::from(b)])?;
    (end > 0 && matches!(bytes[end], b':' | b'[')).then_some(end)
}

/// After the path: `:line[:col]` then `: msg`, `:msg` or ` msg` (or `] msg`
/// when the finding opened with `[`), tslint's `[line, col]: msg`, or the
/// compact formatter's `: line N, col M, msg`.
fn position(after: &str, bracketed: bool) -> Option<Position<'_>> {
    if let Some(rest) = after.strip_prefix('[') {
        let (line, rest) = number(rest)?;
        let rest = rest.strip_prefix(", ")?;
        let (column, rest) = number(rest)?;
        let message = rest.strip_prefix("]: ")?;
        return Some(Position {
            line,
            column: Some(column),
            message,
            after_colon: true,
        });
    }
    let rest = after.strip_prefix(':')?;
    if let Some(rest) = rest.strip_prefix(" line ") {
        let (line, rest) = number(rest)?;
        let rest = rest.strip_prefix(", col ")?;
        let (column, rest) = number(rest)?;
        let message = rest.strip_prefix(", ")?;
        return Some(Position {
            line,
            column: Some(column),
            message,
            after_colon: false,
        });
    }
    let (line, rest) = number(rest)?;
    let (column, rest) = match rest.strip_prefix(':').and_then(number) {
        Some((column, rest)) => (Some(column), rest),
        None => (None, rest),
    };
    let (message, after_colon) = if bracketed {
        (rest.strip_prefix("] ")?, false)
    } else if let Some(message) = rest.strip_prefix(':') {
        (message, true)
    } else {
        (rest.strip_prefix(' ')?, false)
    };
    Some(Position {
        line,
        column,
        message,
        after_colon,
    })
}

/// Where a finding points, and its message.
struct Position<'a> {
    line: u32,
    column: Option<u32>,
    message: &'a str,
    /// A colon separated the message from the place (frames are told from
    /// findings only then; see [`is_frame`]).
    after_colon: bool,
}

/// A line or column number at the start of `text`, and what follows.
fn number(text: &str) -> Option<(u32, &str)> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 7 {
        return None;
    }
    Some((text[..digits].parse().ok()?, &text[digits..]))
}

/// After a colon, a stack frame rather than a finding: Ruby's
/// `path:12:in 'method'`, pytest's `path:12: in test_x` (pydocstyle's
/// `path:12 in public function` is a finding).
fn is_frame(message: &str) -> bool {
    message.starts_with("in ") || message.starts_with("in`")
}

/// The severity a finding's message opens with, and the message after it.
fn severity(message: &str) -> (Label, &str) {
    const LABELS: &[(&str, Label)] = &[
        ("error - ", Label::Error),
        ("error: ", Label::Error),
        ("[error] ", Label::Error),
        ("Error: ", Label::Error),
        ("ERROR: ", Label::Error),
        ("fatal: ", Label::Error),
        ("[E] ", Label::Error),
        ("[F] ", Label::Error),
        ("E: ", Label::Error),
        ("F: ", Label::Error),
        ("Error - ", Label::Error),
        ("warning - ", Label::Warning),
        ("warning: ", Label::Warning),
        ("[warning] ", Label::Warning),
        ("Warning: ", Label::Warning),
        ("Warning - ", Label::Warning),
        ("info: ", Label::Warning),
        ("note: ", Label::Warning),
        ("[W] ", Label::Warning),
        ("[C] ", Label::Warning),
        ("[R] ", Label::Warning),
        ("W: ", Label::Warning),
        ("C: ", Label::Warning),
        ("R: ", Label::Warning),
        ("I: ", Label::Warning),
        ("Suggestion: ", Label::Warning),
    ];
    for (prefix, label) in LABELS {
        if let Some(rest) = message.strip_prefix(prefix) {
            return (*label, rest);
        }
    }
    // Python's `DeprecationWarning: …` and its kin.
    if message
        .split_once(": ")
        .is_some_and(|(word, _)| word.ends_with("Warning") && !word.contains(' '))
    {
        return (Label::Warning, message);
    }
    (Label::None, message)
}

/// Whether `path` names a source, markup or configuration file: its
/// extension is one such files have, or its name is one they go by.
fn known_file(path: &str) -> bool {
    const NAMES: &[&str] = &[
        "Gemfile",
        "Rakefile",
        "Dockerfile",
        "Containerfile",
        "Jenkinsfile",
        "Vagrantfile",
        "Podfile",
        "Guardfile",
        "Capfile",
        "Brewfile",
        "Fastfile",
        "Berksfile",
        "Justfile",
        "BUILD",
        "WORKSPACE",
    ];
    const EXTENSIONS: &[&str] = &[
        "c",
        "h",
        "cc",
        "cpp",
        "cxx",
        "hpp",
        "hh",
        "m",
        "mm",
        "cu",
        "rs",
        "go",
        "py",
        "pyi",
        "pyx",
        "rb",
        "rake",
        "gemspec",
        "erb",
        "haml",
        "slim",
        "js",
        "jsx",
        "mjs",
        "cjs",
        "ts",
        "tsx",
        "mts",
        "cts",
        "vue",
        "svelte",
        "java",
        "kt",
        "kts",
        "scala",
        "sc",
        "groovy",
        "gradle",
        "clj",
        "cljs",
        "cljc",
        "hs",
        "lhs",
        "elm",
        "ml",
        "mli",
        "fs",
        "fsx",
        "cs",
        "vb",
        "swift",
        "php",
        "phtml",
        "pl",
        "pm",
        "t",
        "lua",
        "ex",
        "exs",
        "erl",
        "hrl",
        "r",
        "jl",
        "dart",
        "nim",
        "zig",
        "v",
        "sv",
        "vhd",
        "sh",
        "bash",
        "zsh",
        "fish",
        "ps1",
        "psm1",
        "bat",
        "cmd",
        "tf",
        "hcl",
        "nix",
        "sql",
        "proto",
        "thrift",
        "graphql",
        "css",
        "scss",
        "sass",
        "less",
        "styl",
        "html",
        "htm",
        "xml",
        "xsd",
        "yml",
        "yaml",
        "json",
        "jsonc",
        "toml",
        "ini",
        "cfg",
        "conf",
        "md",
        "markdown",
        "rst",
        "adoc",
        "tex",
        "txt",
        "cmake",
        "dockerfile",
        "env",
        "coffee",
        "vim",
        "el",
        "lisp",
        "scm",
        "rkt",
        "pp",
        "cr",
        "d",
        "f90",
        "f",
        "for",
        "asm",
        "s",
        "in",
        "bzl",
        "star",
        "sol",
        "csproj",
        "props",
        "targets",
        "sbt",
        "lock",
        "jbuilder",
        "ru",
        "podspec",
        "arb",
        "builder",
    ];
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    if NAMES.contains(&name) {
        return true;
    }
    name.rsplit_once('.').is_some_and(|(stem, ext)| {
        // `.env` is a name of its own; `1.2` is a version, not a file.
        (stem.is_empty() && ext == "env" || !stem.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
            && EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// File, line, column, message and label of a finding.
    type Finding<S> = (S, u32, Option<u32>, S, Label);

    fn parsed(line: &str) -> Option<Finding<String>> {
        parse(line, true)
            .map(|(d, label)| (d.file.unwrap(), d.line.unwrap(), d.column, d.message, label))
    }

    #[test]
    fn reads_the_common_forms() {
        let cases: &[(&str, Finding<&str>)] = &[
            (
                "format.lua:5:17: trailing whitespace in a comment",
                (
                    "format.lua",
                    5,
                    Some(17),
                    "trailing whitespace in a comment",
                    Label::None,
                ),
            ),
            (
                "google/type/datetime.proto:17:1:Package name is wrong.",
                (
                    "google/type/datetime.proto",
                    17,
                    Some(1),
                    "Package name is wrong.",
                    Label::None,
                ),
            ),
            (
                "app/models/post.rb:57 Array#select.first is slower",
                (
                    "app/models/post.rb",
                    57,
                    None,
                    "Array#select.first is slower",
                    Label::None,
                ),
            ),
            (
                ".env:1 Leading space detected",
                (".env", 1, None, "Leading space detected", Label::None),
            ),
            (
                "[protolint.new.proto:11:5] Found an incorrect indentation style",
                (
                    "protolint.new.proto",
                    11,
                    Some(5),
                    "Found an incorrect indentation style",
                    Label::None,
                ),
            ),
            (
                "path/to/file1.ts[418, 38]: missing semicolon",
                (
                    "path/to/file1.ts",
                    418,
                    Some(38),
                    "missing semicolon",
                    Label::None,
                ),
            ),
            (
                "/path/to/eslint.js: line 2, col 10, Error - 'a' is unused. (no-unused-vars)",
                (
                    "/path/to/eslint.js",
                    2,
                    Some(10),
                    "'a' is unused. (no-unused-vars)",
                    Label::Error,
                ),
            ),
            (
                "foo/widget.yml:1:81: [error] line too long (122 > 80 characters)",
                (
                    "foo/widget.yml",
                    1,
                    Some(81),
                    "line too long (122 > 80 characters)",
                    Label::Error,
                ),
            ),
            (
                "Gemfile:50:81: C: Line is too long. [83/80]",
                (
                    "Gemfile",
                    50,
                    Some(81),
                    "Line is too long. [83/80]",
                    Label::Warning,
                ),
            ),
            (
                "x/a.haml:33 [W] ImplicitDiv: can be written as `.section`",
                (
                    "x/a.haml",
                    33,
                    None,
                    "ImplicitDiv: can be written as `.section`",
                    Label::Warning,
                ),
            ),
            (
                "/p/main.php:258:4:error - InvalidGlobal: Cannot use global scope",
                (
                    "/p/main.php",
                    258,
                    Some(4),
                    "InvalidGlobal: Cannot use global scope",
                    Label::Error,
                ),
            ),
            (
                "[error] /src/scalac.scala:6: missing argument list for method error",
                (
                    "/src/scalac.scala",
                    6,
                    None,
                    "missing argument list for method error",
                    Label::Error,
                ),
            ),
            (
                "  app/models/order.rb:45:5: Style/TrailingComma: Put a comma after the last item.",
                (
                    "app/models/order.rb",
                    45,
                    Some(5),
                    "Style/TrailingComma: Put a comma after the last item.",
                    Label::None,
                ),
            ),
            (
                "❌  /Users/ci/App/Source/JSON.swift:97:2: unknown attribute 'dynamicMemberLookup'",
                (
                    "/Users/ci/App/Source/JSON.swift",
                    97,
                    Some(2),
                    "unknown attribute 'dynamicMemberLookup'",
                    Label::Error,
                ),
            ),
            (
                "⚠️  /Users/ci/App/Source/JSON.swift:12:5: variable 'x' was never used",
                (
                    "/Users/ci/App/Source/JSON.swift",
                    12,
                    Some(5),
                    "variable 'x' was never used",
                    Label::Warning,
                ),
            ),
            // A stray word left before the mark by the shell.
            (
                "nl❌  /Users/ci/App/Source/JSON.swift:97:2: unknown attribute 'dynamicMemberLookup'",
                (
                    "/Users/ci/App/Source/JSON.swift",
                    97,
                    Some(2),
                    "unknown attribute 'dynamicMemberLookup'",
                    Label::Error,
                ),
            ),
            (
                "bin/rails:3:1: C: Missing frozen string literal comment.",
                (
                    "bin/rails",
                    3,
                    Some(1),
                    "Missing frozen string literal comment.",
                    Label::Warning,
                ),
            ),
            (
                r"C:\src\Program.cs:12:3: unused variable",
                (
                    r"C:\src\Program.cs",
                    12,
                    Some(3),
                    "unused variable",
                    Label::None,
                ),
            ),
            (
                "/usr/lib/python3/x.py:123: DeprecationWarning: the imp module is deprecated",
                (
                    "/usr/lib/python3/x.py",
                    123,
                    None,
                    "DeprecationWarning: the imp module is deprecated",
                    Label::Warning,
                ),
            ),
        ];
        for (line, (file, n, column, message, label)) in cases {
            assert_eq!(
                parsed(line),
                Some((file.to_string(), *n, *column, message.to_string(), *label)),
                "{line}"
            );
        }
    }

    #[test]
    fn reads_places_spelt_out_in_words() {
        let read = |line: &str| {
            parse(line, true)
                .map(|(d, label)| (d.file.unwrap(), d.line, d.column, d.message, label))
        };
        assert_eq!(
            read("ERROR: /app/main.py Imports are incorrectly sorted and/or formatted."),
            Some((
                "/app/main.py".to_string(),
                None,
                None,
                "Imports are incorrectly sorted and/or formatted.".to_string(),
                Label::Error
            ))
        );
        assert_eq!(
            read(
                "/modules/manifests/init.pp - ERROR: docker not in autoload module layout on line 347"
            ),
            Some((
                "/modules/manifests/init.pp".to_string(),
                Some(347),
                None,
                "docker not in autoload module layout".to_string(),
                Label::Error
            ))
        );
        assert_eq!(
            read(
                "warning file=/src/hello.scala message=Object name does not match line=6 column=7"
            ),
            Some((
                "/src/hello.scala".to_string(),
                Some(6),
                Some(7),
                "Object name does not match".to_string(),
                Label::Warning
            ))
        );
        assert_eq!(
            read("error file=/src/hello.scala message=File length exceeds 5 lines"),
            Some((
                "/src/hello.scala".to_string(),
                None,
                None,
                "File length exceeds 5 lines".to_string(),
                Label::Error
            ))
        );
        assert_eq!(
            read("error:/src/x.py:1:3:cannot format: Cannot parse: jan~20"),
            Some((
                "/src/x.py".to_string(),
                Some(1),
                Some(3),
                "cannot format: Cannot parse: jan~20".to_string(),
                Label::Error
            ))
        );
        for line in [
            "ERROR: Could not find a version that satisfies the requirement x",
            "ERROR: /usr/lib/libfoo.so: cannot open shared object file",
            "Step 3 - ERROR: something on line 4",
            "error file=not a path message=x",
        ] {
            assert_eq!(read(line), None, "{line}");
        }
    }

    #[test]
    fn leaves_what_only_looks_like_a_location() {
        for line in [
            "2019-07-08 08:32:46.109 [info] <0.10393.0>@ejabberd_c2s:bind:426 opened",
            "12:30:45 starting",
            "Connecting to example.com:443 ... connected.",
            "localhost:8080: connection refused",
            "http://example.com:8080/x.js: not found",
            "/usr/lib/ruby/2.6.0/rubygems.rb:12:in `require'",
            "tests/test_a.py:12: in test_x",
            "lib/a.rb:12:",
            "rules.mk:4: recipe for target 'ct-fast' failed",
            "  src/math.ts:5:23 - 'name' is declared here.",
            "build/x.cmake:4: recipe for target 'all' failed",
            "v1.2:3: nothing",
            "README:3: a file with no extension we know",
            "bin/rails:3: a script named no severity",
            "example.com:443: Error: connection refused",
            "see src/main.rs:12:5 for details",
            "    deeply/indented.rb:3: a quoted excerpt",
            "src/a.rs:99999999: too long a number",
            "abcd❌  src/App.swift:3:1: a word too long to be stray",
            "1❌  src/App.swift:3:1: a digit is not a stray word",
        ] {
            assert_eq!(parsed(line), None, "{line}");
        }
    }

    #[test]
    fn held_findings_become_root_causes_only_when_a_failure_is_unexplained() {
        let mut findings = Findings::default();
        assert!(
            findings
                .line(1, "a.rb:1:1: C: Extra blank line.", false)
                .is_some()
        );
        assert!(findings.line(2, "lib/x.rb:3 slow call", false).is_none());
        findings.step_ended("[qide] step \"lint\" exited with code 0 after 0.2s");
        assert!(findings.line(4, "lib/y.rb:5 slower call", false).is_none());
        findings.step_ended("[qide] step \"lint2\" exited with code 1 after 0.2s");
        let promoted = findings.finish(true);
        let roots: Vec<_> = promoted
            .iter()
            .map(|d| (d.log_lines.0, d.root_cause, d.severity))
            .collect();
        assert_eq!(
            roots,
            [(2, false, Severity::Warning), (4, true, Severity::Error)]
        );

        let mut findings = Findings::default();
        assert!(findings.line(7, "lib/y.rb:5 slower call", false).is_none());
        let kept = findings.finish(false);
        assert_eq!(kept.len(), 1);
        assert!(!kept[0].root_cause);
        assert_eq!(kept[0].severity, Severity::Warning);
    }
}
