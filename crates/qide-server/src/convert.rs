//! Store records into wire types: the one place where stored fields meet
//! the API's names and formats (RFC 3339 times, stream names).

use std::time::{Duration, UNIX_EPOCH};

use qide_api as api;
use qide_store::{BuildRecord, LogChunk, PatternRecord, ReportRecord, StepRecord};

/// Milliseconds since the epoch as RFC 3339 UTC with milliseconds.
pub(crate) fn rfc3339(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(t).to_string()
}

/// A build, with its steps when given.
pub(crate) fn build(record: &BuildRecord, steps: Option<&[StepRecord]>) -> api::Build {
    let duration_ms = match (record.started_at_ms, record.finished_at_ms) {
        (Some(s), Some(f)) => Some((f - s).max(0)),
        _ => None,
    };
    api::Build {
        id: record.id,
        status: record.status,
        trigger: record.trigger.clone(),
        commit: record.commit.clone(),
        branch: record.branch.clone(),
        dirty: record.dirty,
        tree_hash: record.tree_hash.clone(),
        created_at: rfc3339(record.created_at_ms),
        started_at: record.started_at_ms.map(rfc3339),
        finished_at: record.finished_at_ms.map(rfc3339),
        duration_ms,
        exit_code: record.exit_code,
        failure_kind: record.failure_kind.clone(),
        failure_category: record.failure_category.clone(),
        error_count: record.error_count,
        warning_count: record.warning_count,
        report_count: record.report_count,
        log_line_count: record.log.line_count,
        log_dropped: record.log.dropped.map(|d| api::LogDropped {
            lines: [d.first_line, d.last_line],
            bytes: d.bytes,
        }),
        steps: steps.map(|steps| steps.iter().map(step).collect()),
        rerun_of: record.rerun_of,
    }
}

/// A step.
pub(crate) fn step(record: &StepRecord) -> api::BuildStep {
    let duration_ms = match (record.started_at_ms, record.finished_at_ms) {
        (Some(s), Some(f)) => Some((f - s).max(0)),
        _ => None,
    };
    api::BuildStep {
        name: record.name.clone(),
        // A command can carry a secret typed into it (a token in a curl
        // header); it is stored as given, so re-runs still work, and masked
        // on the way out like every log line.
        run: qide_runner::mask_secrets(&record.run).into_owned(),
        status: record.status.clone(),
        exit_code: record.exit_code,
        signal: record.signal.clone(),
        failure_kind: record.failure_kind.clone(),
        started_at: record.started_at_ms.map(rfc3339),
        finished_at: record.finished_at_ms.map(rfc3339),
        duration_ms,
        timeout_s: record.timeout_s,
        log_lines: match (record.first_line, record.last_line) {
            (Some(f), Some(l)) => Some([f, l]),
            _ => None,
        },
    }
}

/// A report.
pub(crate) fn report(record: &ReportRecord) -> api::Report {
    api::Report {
        id: record.id,
        build_id: record.build_id,
        kind: record.kind.clone(),
        analysis: record.analysis.clone(),
        recommendations: record.recommendations.clone(),
        confidence: record.confidence,
        fingerprints: record.fingerprints.clone(),
        agent: record.agent.clone(),
        model: record.model.clone(),
        created_at: rfc3339(record.created_at_ms),
    }
}

/// A pattern.
pub(crate) fn pattern(record: &PatternRecord) -> api::Pattern {
    api::Pattern {
        fingerprint: record.fingerprint.clone(),
        category: record.category.clone(),
        tool: record.tool.clone(),
        code: record.code.clone(),
        message: record.message.clone(),
        file: record.file.clone(),
        first_build: record.first_build,
        last_build: record.last_build,
        occurrences: record.occurrences,
        first_seen_at: rfc3339(record.first_seen_at_ms),
        last_seen_at: rfc3339(record.last_seen_at_ms),
        status: record.status.clone(),
        resolved_build: record.resolved_build,
        report_count: record.report_count,
    }
}

/// The wire name of a stored stream tag.
pub(crate) fn stream_name(tag: u8) -> &'static str {
    match tag {
        qide_runner::STDOUT => "stdout",
        qide_runner::STDERR => "stderr",
        _ => "system",
    }
}

/// The lines of a chunk as wire lines, `step` naming its step.
pub(crate) fn chunk_lines<'a>(
    chunk: &'a LogChunk,
    step: &'a str,
) -> impl Iterator<Item = api::LogLine> + 'a {
    chunk.lines().map(move |(n, stream, text)| api::LogLine {
        n,
        stream: stream_name(stream).to_owned(),
        step: step.to_owned(),
        text: String::from_utf8_lossy(text).into_owned(),
    })
}

/// Text for a language model: detected secrets masked, ANSI escapes,
/// control characters (tab and newline excepted) and bidirectional overrides removed.
pub(crate) fn clean_for_model(text: &str) -> String {
    // Secrets in project files or reports are masked here; log lines were
    // masked before they were stored.
    let masked = qide_runner::mask_secrets(text);
    let text: &str = &masked;
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // CSI: ESC [ params final-byte; OSC: ESC ] … BEL or ESC \.
                match chars.peek() {
                    Some('[') => {
                        chars.next();
                        for c in chars.by_ref() {
                            if ('\u{40}'..='\u{7e}').contains(&c) {
                                break;
                            }
                        }
                    }
                    Some(']') => {
                        chars.next();
                        while let Some(c) = chars.next() {
                            if c == '\u{7}' {
                                break;
                            }
                            if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                                chars.next();
                                break;
                            }
                        }
                    }
                    _ => {
                        chars.next();
                    }
                }
            }
            '\t' | '\n' => out.push(c),
            c if c.is_control() => {}
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_for_model_strips_escapes_controls_and_bidi() {
        assert_eq!(
            clean_for_model(
                "\u{1b}[31merror\u{1b}[0m: bad\r\u{202e}evil\u{7}\tok\u{1b}]8;;http://x\u{7}link"
            ),
            "error: badevil\toklink"
        );
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_795_000_000_123), "2026-11-18T11:06:40.123Z");
    }
}
