//! cargo's `--message-format=json` (and its `json-diagnostic-rendered-ansi`
//! and `json-render-diagnostics` variants) and rustc's `--error-format=json`:
//! one JSON object per line.
//!
//! cargo wraps each rustc diagnostic as
//! `{"reason":"compiler-message", …, "message": {…}}`; rustc alone prints the
//! diagnostic object itself (`{"$message_type":"diagnostic", …}`). Either
//! way the diagnostic carries `rendered`, the exact text rustc would have
//! printed, so it is read by the same code as human output ([`crate::rust`])
//! and gets the same tool, code, location and category. Other reasons
//! (`compiler-artifact`, `build-script-executed`, `build-finished`) say
//! nothing about a failure and are skipped.

use crate::{ansi::strip_ansi, rust, sink::Draft};

/// Whether `line` is one of the JSON messages this module reads; cheap, so
/// it can be asked of every line that may matter.
pub(crate) fn is_message(line: &str) -> bool {
    line.starts_with("{\"reason\":\"compiler-message\"")
        || line.starts_with("{\"$message_type\":\"diagnostic\"")
}

/// The diagnostic of a compiler-message line at log line `n`, or `None`
/// when the line is not valid JSON, has no rendered text, or renders to
/// something that is not a rustc diagnostic (a summary such as "aborting
/// due to 2 previous errors").
pub(crate) fn message(n: u64, line: &str) -> Option<Draft> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let diagnostic = match value.get("message") {
        Some(message) if value.get("reason").is_some() => message,
        _ => &value,
    };
    let rendered = diagnostic.get("rendered")?.as_str()?;
    // Escapes are stripped line by line: stripping removes control
    // characters, newlines among them.
    let mut lines = rendered.lines().map(strip_ansi);
    let header = lines.next()?;
    let rust::Header::Open(mut block) = rust::header(n, header.trim_end())? else {
        return None;
    };
    for body in lines {
        let body = body.trim_end();
        if rust::Block::ended_by(body) {
            break;
        }
        block.feed(n, body);
    }
    Some(block.close(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_rustc_diagnostic_object() {
        let line = r#"{"$message_type":"diagnostic","message":"mismatched types","code":{"code":"E0308","explanation":null},"level":"error","spans":[],"children":[],"rendered":"error[E0308]: mismatched types\n --> src/lib.rs:5:22\n  |\n5 |     let total: u32 = a + b;\n  |                ---   ^^^^^ expected `u32`, found `u64`\n\n"}"#;
        assert!(is_message(line));
        let draft = message(7, line).expect("a diagnostic");
        assert_eq!(draft.code.as_deref(), Some("E0308"));
        assert_eq!(draft.file.as_deref(), Some("src/lib.rs"));
        assert_eq!(draft.line, Some(5));
        assert_eq!(draft.log_lines, (7, 7));
        assert!(message(7, "{\"reason\":\"compiler-message\"").is_none());
    }
}
