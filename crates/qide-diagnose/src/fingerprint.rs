//! Stable identities for failures: the same mistake gets the same id in
//! build 40 and build 90, even when line numbers, addresses, temp paths or
//! timings in its text changed.

use std::sync::LazyLock;

use regex::Regex;

use crate::Category;

/// Gives the diagnostics of tool `from` the name `to`, with the
/// fingerprints that name makes: concise ruff output reads like flake8's and
/// clang's like gcc's until the whole log shows whose it is.
pub(crate) fn rename_tool(diagnostics: &mut [crate::Diagnostic], from: &str, to: &str) {
    for d in diagnostics.iter_mut().filter(|d| d.tool == from) {
        d.tool = to.to_string();
        refingerprint(d);
    }
}

/// Recomputes a diagnostic's fingerprint after its tool or category
/// changed.
pub(crate) fn refingerprint(d: &mut crate::Diagnostic) {
    d.fingerprint = fingerprint(
        d.category,
        &d.tool,
        d.code.as_deref(),
        &d.message,
        d.file.as_deref(),
    );
}

/// Computes the fingerprint of a failure: `fp_` and 16 hex digits of a
/// BLAKE3 hash over the category, tool, code, normalised message and
/// normalised file path.
///
/// The line number is deliberately not part of it, so an unrelated edit
/// above the failing line keeps the id.
pub fn fingerprint(
    category: Category,
    tool: &str,
    code: Option<&str>,
    message: &str,
    file: Option<&str>,
) -> String {
    let mut hasher = blake3::Hasher::new();
    for part in [
        category.as_str(),
        tool,
        code.unwrap_or(""),
        &normalize_message(message),
        &normalize_file(file.unwrap_or("")),
    ] {
        hasher.update(part.as_bytes());
        hasher.update(&[0]);
    }
    let hex = hasher.finalize().to_hex();
    format!("fp_{}", &hex[..16])
}

/// Masks the parts of a message that change from run to run without the
/// failure changing: temp paths, timestamps, UUIDs, hex addresses and hashes,
/// and free-standing numbers (durations, counts, thread ids, line numbers).
///
/// Digits inside identifiers (`u64`, `E0308`, `test_2`) are kept, because
/// they name things rather than measure them.
pub fn normalize_message(message: &str) -> String {
    static TEMP_PATH: LazyLock<Regex> = LazyLock::new(|| {
        // Reason: a fixed, tested pattern.
        Regex::new(r"(?:/private)?/var/folders/\S*|/tmp/\S*|(?i:[a-z]:\\Users\\[^\\\s]+\\AppData\\Local\\Temp)\\\S*")
            .expect("valid regex")
    });
    static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
        // Reason: a fixed, tested pattern.
        Regex::new(
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?",
        )
        .expect("valid regex")
    });
    static UUID: LazyLock<Regex> = LazyLock::new(|| {
        // Reason: a fixed, tested pattern.
        Regex::new(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
            .expect("valid regex")
    });
    static HEX: LazyLock<Regex> = LazyLock::new(|| {
        // Reason: a fixed, tested pattern.
        Regex::new(r"(?i)\b0x[0-9a-f]+\b|\b[0-9a-f]*[0-9][0-9a-f]*[a-f][0-9a-f]*\b|\b[0-9a-f]*[a-f][0-9a-f]*[0-9][0-9a-f]*\b")
            .expect("valid regex")
    });
    let text = TEMP_PATH.replace_all(message, "<tmp>");
    let text = TIMESTAMP.replace_all(&text, "<time>");
    let text = UUID.replace_all(&text, "<uuid>");
    // Hex words need at least 8 characters or a 0x prefix to count as hex,
    // otherwise words like `face` or `add` would be masked.
    let text = HEX.replace_all(&text, |caps: &regex::Captures<'_>| {
        let word = &caps[0];
        if word.starts_with("0x") || word.starts_with("0X") || word.len() >= 8 {
            "<hex>".to_string()
        } else {
            word.to_string()
        }
    });
    mask_numbers(&text)
}

/// Replaces digit runs (with decimals) that do not continue an identifier
/// by `N`.
fn mask_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let in_word = prev.is_some_and(|p| p.is_alphanumeric() || p == '_');
        if c.is_ascii_digit() && !in_word {
            while let Some(&next) = chars.peek() {
                if next.is_ascii_digit() || next == '.' || next == '_' {
                    chars.next();
                } else {
                    break;
                }
            }
            out.push('N');
            prev = Some('N');
            continue;
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

/// Keeps the last two components of a path, with temp prefixes removed and
/// separators unified, so the same file checked out in another directory or
/// on another OS gets the same key.
pub fn normalize_file(file: &str) -> String {
    let file = file.replace('\\', "/");
    let file = file.trim_start_matches("./");
    let mut parts = file.rsplit('/').filter(|p| !p.is_empty() && *p != ".");
    let last = parts.next().unwrap_or("");
    match parts.next() {
        Some(parent) => format!("{parent}/{last}"),
        None => last.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_what_changes_between_runs() {
        assert_eq!(
            normalize_message("thread 'x' (6076) took 0.13s at 0x7fbc347b1310 in /tmp/ab12/x.rs"),
            "thread 'x' (N) took Ns at <hex> in <tmp>"
        );
        assert_eq!(
            normalize_message("expected `u64`, found `String` E0308 test_2 add face"),
            "expected `u64`, found `String` E0308 test_2 add face"
        );
        assert_eq!(
            normalize_message(
                "at 2024-05-01T12:03:04.123Z id 123e4567-e89b-12d3-a456-426614174000 build rs4-8028deed59b39080"
            ),
            "at <time> id <uuid> build rs4-<hex>"
        );
    }

    #[test]
    fn file_keeps_last_two_components() {
        assert_eq!(normalize_file("/tmp/caps/py1/app/core.py"), "app/core.py");
        assert_eq!(normalize_file("./app/core.py"), "app/core.py");
        assert_eq!(normalize_file("C:\\w\\app\\core.py"), "app/core.py");
        assert_eq!(normalize_file("main.c"), "main.c");
        assert_eq!(normalize_file(""), "");
    }
}
