//! A regex outline of a source file: its top-level definitions and one
//! level of members, line by line.
//!
//! This is a deliberately simple first step, not a parser: one regular
//! expression per language family, applied to each line, with indentation
//! deciding what is top level (column 0) and what is a member (indented by
//! at most [`MAX_MEMBER_INDENT`] columns, such as methods in a Rust `impl`,
//! a Python class or a Java class). It misses definitions split over lines
//! or hidden behind macros, and can take a commented-out or string-embedded
//! definition for a real one. Tree-sitter would do better; the wire format
//! would not change.
//!
//! Languages: Rust, Python, Ruby, Go, JavaScript/TypeScript, Java, Kotlin,
//! C#, Scala, Swift, Dart, PHP, C, C++ and Objective-C.

use std::sync::LazyLock;

use regex::Regex;

/// Deeper indentation than this (in columns, a tab counting 4) is not
/// outlined: function bodies, nested items.
pub const MAX_MEMBER_INDENT: usize = 4;
/// A signature longer than this (in bytes) is cut.
pub const MAX_SIGNATURE_BYTES: usize = 160;

/// One definition found by the outline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// `fn`, `struct`, `class`, `def`, `func`, `type`, `impl`, `method`…:
    /// the keyword as the language spells it, or `function`/`method` where
    /// it has none.
    pub kind: String,
    /// The defined name (for a Rust `impl`, what is implemented:
    /// `Display for Version`).
    pub name: String,
    /// Line number, from 1.
    pub line: u64,
    /// The defining line, trimmed, at most [`MAX_SIGNATURE_BYTES`].
    pub signature: String,
    /// Indented: a member of a type, impl or class rather than a top-level
    /// item.
    pub member: bool,
}

fn compile(pattern: &str) -> Regex {
    // The patterns are constants, exercised by the tests.
    Regex::new(pattern).expect("outline patterns are valid")
}

static RUST: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r#"^(?P<indent>[ \t]*)(?:pub(?:\([^)]*\))?\s+)?(?:(?:const|async|unsafe|default|extern\s+"[^"]*")\s+)*(?:(?P<kind>fn|struct|enum|trait|type|mod|union|const|static|macro_rules!)\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<impl>impl)\b(?:<[^{]*?>)?\s*(?P<target>[^{;]+))"#,
    )
});
static PYTHON: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"^(?P<indent>[ \t]*)(?:async\s+)?(?P<kind>def|class)\s+(?P<name>[A-Za-z_]\w*)")
});
static RUBY: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"^(?P<indent>[ \t]*)(?P<kind>def|class|module)\s+(?P<name>(?:self\.)?[A-Za-z_][\w:]*[?!=]?)",
    )
});
static GO: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"^(?P<indent>)(?P<kind>func|type)\s+(?:\([^)]*\)\s*)?(?P<name>[A-Za-z_]\w*)")
});
static SCRIPT: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"^(?P<indent>[ \t]*)(?:export\s+(?:default\s+)?)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?P<kind>function\*?|class|interface|type|enum|const|let|var|namespace)\s+(?P<name>[A-Za-z_$][\w$]*)",
    )
});
static JVM: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"^(?P<indent>[ \t]*)(?:@\w+\s+)*(?:(?:public|private|protected|internal|static|final|abstract|sealed|data|open|partial|override|suspend|inline|async|virtual|readonly|case|enum|annotation)\s+)*(?P<kind>class|interface|enum|record|object|trait|fun|func|struct|protocol|extension|def|function)\s+(?P<name>[A-Za-z_]\w*)",
    )
});
static METHOD: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"^(?P<indent>[ \t]+)(?:(?:public|private|protected|internal|static|final|abstract|synchronized|override|virtual|async)\s+)+[\w<>\[\],.? ]+?\s+(?P<name>[A-Za-z_]\w*)\s*\(",
    )
});
static C_TYPE: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"^(?P<indent>)(?:typedef\s+)?(?P<kind>struct|class|enum|union|namespace)\s+(?P<name>[A-Za-z_]\w*)\s*[:{]?\s*[^;]*$",
    )
});
static C_FUNCTION: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"^(?P<indent>)(?:[A-Za-z_][\w:<>,]*[\s*&]+)+(?P<name>[A-Za-z_][\w:~]*)\s*\([^;]*$")
});

/// The patterns for a language, by the display name `language::detect`
/// gives: the main one, and one tried when it does not match (functions
/// for C, methods for the Java family).
fn patterns(language: &str) -> Option<(&'static Regex, Option<&'static Regex>)> {
    Some(match language {
        "Rust" => (&RUST, None),
        "Python" => (&PYTHON, None),
        "Ruby" => (&RUBY, None),
        "Go" => (&GO, None),
        "JavaScript" | "TypeScript" => (&SCRIPT, None),
        "Java" | "Kotlin" | "C#" | "Scala" | "Swift" | "Dart" | "PHP" | "Groovy" => {
            (&JVM, Some(&METHOD))
        }
        "C" | "C++" | "Objective-C" => (&C_TYPE, Some(&C_FUNCTION)),
        _ => return None,
    })
}

/// Whether [`outline`] knows the language.
pub fn can_outline(language: &str) -> bool {
    patterns(language).is_some()
}

/// The definitions in `text`, a file in `language` (a display name such as
/// `Rust`), in line order. Empty for a language without a pattern.
pub fn outline(language: &str, text: &str) -> Vec<Definition> {
    let Some((main, fallback)) = patterns(language) else {
        return Vec::new();
    };
    let c_like = matches!(language, "C" | "C++" | "Objective-C");
    let mut definitions = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let found = main
            .captures(line)
            .or_else(|| fallback.and_then(|f| f.captures(line)));
        let Some(captures) = found else {
            continue;
        };
        let indent = captures.name("indent").map_or(0, |m| {
            m.as_str()
                .chars()
                .map(|c| if c == '\t' { 4 } else { 1 })
                .sum()
        });
        if indent > MAX_MEMBER_INDENT {
            continue;
        }
        let (kind, name) = if let Some(target) = captures.name("target") {
            ("impl", target.as_str().trim().to_owned())
        } else {
            let Some(name) = captures.name("name") else {
                continue;
            };
            let kind = captures.name("kind").map_or_else(
                || if indent > 0 { "method" } else { "function" },
                |k| k.as_str(),
            );
            (kind, name.as_str().to_owned())
        };
        if c_like && is_c_keyword(&name) {
            continue;
        }
        // Locals at the top of a script are not worth a map entry.
        if indent > 0 && matches!(kind, "const" | "let" | "var") {
            continue;
        }
        let mut signature = line.trim().to_owned();
        if signature.len() > MAX_SIGNATURE_BYTES {
            let mut cut = MAX_SIGNATURE_BYTES;
            while !signature.is_char_boundary(cut) {
                cut -= 1;
            }
            signature.truncate(cut);
            signature.push('…');
        }
        definitions.push(Definition {
            kind: kind.trim_end_matches('!').to_owned(),
            name,
            line: index as u64 + 1,
            signature,
            member: indent > 0,
        });
    }
    definitions
}

fn is_c_keyword(name: &str) -> bool {
    matches!(
        name,
        "if" | "while" | "for" | "switch" | "return" | "sizeof" | "else" | "do" | "case"
    )
}
