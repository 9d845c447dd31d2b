//! Human-readable output: tables and summaries for a terminal.

use std::fmt::Write;

use qide_api as api;

fn duration(ms: Option<i64>) -> String {
    match ms {
        None => "-".to_owned(),
        Some(ms) if ms < 1000 => format!("{ms}ms"),
        Some(ms) if ms < 60_000 => format!("{:.1}s", ms as f64 / 1000.0),
        Some(ms) => format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

fn short_commit(commit: &Option<String>, dirty: Option<bool>) -> String {
    match commit {
        None => "-".to_owned(),
        Some(c) => format!(
            "{}{}",
            &c[..c.len().min(8)],
            if dirty == Some(true) { "+" } else { "" }
        ),
    }
}

/// `qide builds`.
pub(crate) fn builds_table(list: &api::BuildList) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>6}  {:<8}  {:<6}  {:<9}  {:>8}  {:>6}  {:>8}  {:<18}  CREATED",
        "ID", "STATUS", "TRIGGER", "COMMIT", "DURATION", "ERRORS", "WARNINGS", "CATEGORY",
    );
    for b in &list.builds {
        let _ = writeln!(
            out,
            "{:>6}  {:<8}  {:<6}  {:<9}  {:>8}  {:>6}  {:>8}  {:<18}  {}",
            b.id,
            b.status.as_str(),
            b.trigger,
            short_commit(&b.commit, b.dirty),
            duration(b.duration_ms),
            b.error_count,
            b.warning_count,
            b.failure_category
                .as_deref()
                .or(b.failure_kind.as_deref())
                .unwrap_or("-"),
            b.created_at
        );
    }
    let _ = writeln!(out, "{} of {} builds", list.builds.len(), list.total);
    out
}

/// `qide show ID`.
pub(crate) fn build_detail(detail: &api::BuildDetail) -> String {
    let b = &detail.build;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "build #{}  {}{}  {}  commit {}  {}",
        b.id,
        b.status.as_str(),
        b.failure_kind
            .as_deref()
            .map(|k| format!(" ({k})"))
            .unwrap_or_default(),
        duration(b.duration_ms),
        short_commit(&b.commit, b.dirty),
        b.branch.as_deref().unwrap_or("-"),
    );
    for s in b.steps.iter().flatten() {
        let _ = writeln!(
            out,
            "  {:<8} {:<14} {:>8}  $ {}",
            s.status,
            s.name,
            duration(s.duration_ms),
            s.run
        );
    }
    let summary = &detail.log_summary;
    if let Some(category) = &summary.failure_category {
        let _ = writeln!(out, "\nfailure: {category}");
    }
    for d in summary.errors.iter().chain(&summary.warnings) {
        let location = match (&d.file, d.line) {
            (Some(f), Some(l)) => format!("{f}:{l}: "),
            (Some(f), None) => format!("{f}: "),
            _ => String::new(),
        };
        let marker = if d.root_cause {
            "root cause"
        } else {
            d.severity.as_str()
        };
        let _ = writeln!(
            out,
            "\n[{marker}] {location}{}{}  (log lines {}-{})",
            d.code
                .as_deref()
                .map(|c| format!("[{c}] "))
                .unwrap_or_default(),
            d.message,
            d.log_lines[0],
            d.log_lines[1]
        );
        if let Some(snippet) = &d.snippet {
            for (i, line) in snippet.lines.iter().enumerate() {
                let _ = writeln!(out, "  {:>5} | {line}", snippet.start_line as usize + i);
            }
        }
    }
    let t = &summary.tests;
    if t.passed + t.failed + t.skipped > 0 {
        let _ = writeln!(
            out,
            "\ntests: {} passed, {} failed, {} skipped",
            t.passed, t.failed, t.skipped
        );
        for f in &t.failures {
            let _ = writeln!(
                out,
                "  FAILED {} {}",
                f.name,
                f.message.as_deref().unwrap_or("")
            );
        }
    }
    if !summary.tail.is_empty() {
        let _ = writeln!(out, "\nlog tail:");
        for line in &summary.tail {
            let _ = writeln!(out, "  {line}");
        }
    }
    for r in &detail.reports {
        let _ = writeln!(
            out,
            "\nreport #{} ({}, confidence {:.2}): {}",
            r.id, r.kind, r.confidence, r.analysis
        );
        for rec in &r.recommendations {
            let _ = writeln!(out, "  - {rec}");
        }
    }
    out
}

/// A progress line for a status event, when a step starts.
pub(crate) fn progress_line(build: &api::Build) -> Option<String> {
    let steps = build.steps.as_ref()?;
    let running = steps.iter().position(|s| s.status == "running")?;
    Some(format!(
        "qide: build #{} step {}/{} {:?} running",
        build.id,
        running + 1,
        steps.len(),
        steps[running].name
    ))
}

/// The last line `qide run` prints.
pub(crate) fn finish_line(build: &api::Build) -> String {
    let mut line = format!(
        "qide: build #{} {} in {}",
        build.id,
        build.status.as_str(),
        duration(build.duration_ms)
    );
    if let Some(kind) = &build.failure_kind {
        let _ = write!(line, " ({kind})");
    }
    if build.error_count > 0 || build.warning_count > 0 {
        let _ = write!(
            line,
            ", {} errors, {} warnings",
            build.error_count, build.warning_count
        );
    }
    if build.status != api::BuildStatus::Success {
        let _ = write!(line, "; details: qide show {}", build.id);
    }
    line
}

/// `qide patterns`.
pub(crate) fn patterns_table(list: &api::PatternList) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<20}  {:<8}  {:<16}  {:>5}  {:>11}  {:>7}  MESSAGE",
        "FINGERPRINT", "STATUS", "CATEGORY", "SEEN", "BUILDS", "REPORTS"
    );
    for p in &list.patterns {
        let location = p
            .file
            .as_deref()
            .map(|f| format!("{f}: "))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<20}  {:<8}  {:<16}  {:>5}  {:>11}  {:>7}  {location}{}",
            p.fingerprint,
            p.status,
            p.category,
            p.occurrences,
            format!("#{}-#{}", p.first_build, p.last_build),
            p.report_count,
            p.message
        );
    }
    let _ = writeln!(out, "{} of {} patterns", list.patterns.len(), list.total);
    for c in &list.categories {
        let _ = writeln!(
            out,
            "  {:<18} {} open, {} resolved, {} occurrences",
            c.category, c.open, c.resolved, c.occurrences
        );
    }
    out
}

/// `qide codebase`.
/// The pack as text for a model: each file under a
/// `=== path (N tokens, reason)` line. The headers cost tokens as the
/// contents do, so files are dropped from the end until the whole text,
/// counted as one with `count`, fits the pack's budget. Returns the text and
/// how many packed files were dropped.
pub(crate) fn pack_text(pack: &api::CodebasePack, count: impl Fn(&str) -> u64) -> (String, usize) {
    let headers: Vec<String> = pack
        .files
        .iter()
        .map(|f| format!("=== {} ({} tokens, {})\n", f.path, f.tokens, f.reason))
        .collect();
    // A first cut by the parts' counts, then exact counts of the whole.
    let mut kept = 0;
    let mut spent = 0u64;
    for (file, header) in pack.files.iter().zip(&headers) {
        spent += count(header) + file.tokens + 1;
        if spent > pack.budget_tokens {
            break;
        }
        kept += 1;
    }
    loop {
        let mut text = String::new();
        for (file, header) in pack.files.iter().zip(&headers).take(kept) {
            text.push_str(header);
            text.push_str(&file.content);
            text.push('\n');
        }
        if kept == 0 || count(&text) <= pack.budget_tokens {
            return (text, pack.files.len() - kept);
        }
        kept -= 1;
    }
}

pub(crate) fn codebase_summary(codebase: &api::Codebase) -> String {
    let s = &codebase.structure_summary;
    let mut out = String::new();
    let _ = writeln!(out, "{}", codebase.root);
    let _ = writeln!(
        out,
        "{} files, {} lines, ~{} tokens; backend: {}, frontend: {}, tests: {}",
        s.file_count,
        s.total_lines,
        s.total_tokens,
        if s.has_backend { "yes" } else { "no" },
        if s.has_frontend { "yes" } else { "no" },
        if s.has_tests { "yes" } else { "no" }
    );
    if let Some(head) = &codebase.git.head {
        let _ = writeln!(
            out,
            "git: {} on {}{}",
            &head[..head.len().min(12)],
            codebase.git.branch.as_deref().unwrap_or("(detached)"),
            if codebase.git.dirty == Some(true) {
                ", uncommitted changes"
            } else {
                ""
            }
        );
    }
    for l in &s.languages {
        let _ = writeln!(
            out,
            "  {:<14} {:>6} files {:>9} lines",
            l.name, l.files, l.lines
        );
    }
    if !codebase.key_files.is_empty() {
        let names: Vec<&str> = codebase.key_files.keys().map(String::as_str).collect();
        let _ = writeln!(out, "key files: {}", names.join(", "));
    }
    out
}

/// The live progress line of `qide run` on a terminal: one line on stderr,
/// redrawn in place, and cleared before log lines are printed so the log
/// and the line never share a row.
pub(crate) struct LiveLine {
    /// Whether the line is on screen now (and must be cleared first).
    shown: bool,
    /// Columns available: the line is cut to fit, since a wrapped line
    /// cannot be redrawn in place.
    width: usize,
}

/// Moves to the start of the row and erases it.
const CLEAR_ROW: &str = "\r\x1b[2K";

impl LiveLine {
    /// A line for a terminal `width` columns wide.
    pub(crate) fn new(width: usize) -> LiveLine {
        LiveLine {
            shown: false,
            width: width.max(20),
        }
    }

    /// Erases the line, if shown.
    pub(crate) fn clear(&mut self, err: &mut impl std::io::Write) {
        if self.shown {
            let _ = write!(err, "{CLEAR_ROW}");
            let _ = err.flush();
            self.shown = false;
        }
    }

    /// Shows `text` in place of the line shown before.
    pub(crate) fn draw(&mut self, err: &mut impl std::io::Write, text: &str) {
        let cut: String = text.chars().take(self.width - 1).collect();
        let _ = write!(err, "{CLEAR_ROW}{cut}");
        let _ = err.flush();
        self.shown = true;
    }
}

/// What the live line says: the step running, time since the build
/// started and the log lines so far.
pub(crate) fn live_text(build: &api::Build, elapsed: std::time::Duration, lines: i64) -> String {
    let mut text = format!("qide: build #{} {}", build.id, build.status.as_str());
    if let Some(steps) = &build.steps
        && let Some(i) = steps.iter().position(|s| s.status == "running")
    {
        let _ = write!(
            text,
            " · step {}/{} {:?}",
            i + 1,
            steps.len(),
            steps[i].name
        );
    }
    let _ = write!(
        text,
        " · {} · {lines} log lines",
        duration(Some(elapsed.as_millis() as i64))
    );
    text
}

/// Columns of the terminal: `$COLUMNS` when the shell exports it, else 80.
pub(crate) fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(80)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running_build() -> api::Build {
        serde_json::from_value(serde_json::json!({
            "id": 7, "status": "running", "trigger": "cli", "commit": null, "branch": null,
            "dirty": null, "tree_hash": null, "created_at": "2026-11-26T10:00:00Z",
            "started_at": "2026-11-26T10:00:01Z", "finished_at": null, "duration_ms": null,
            "exit_code": null, "failure_kind": null, "failure_category": null,
            "error_count": 0, "warning_count": 0, "report_count": 0, "log_line_count": 0,
            "log_dropped": null,
            "steps": [
                {"name": "build", "run": "cargo build", "status": "success", "exit_code": 0,
                 "signal": null, "failure_kind": null, "started_at": null, "finished_at": null,
                 "duration_ms": 10, "timeout_s": null, "log_lines": null},
                {"name": "test", "run": "cargo test", "status": "running", "exit_code": null,
                 "signal": null, "failure_kind": null, "started_at": null, "finished_at": null,
                 "duration_ms": null, "timeout_s": null, "log_lines": null}
            ]
        }))
        .expect("a build")
    }

    #[test]
    fn live_text_names_the_step_time_and_lines() {
        let text = live_text(
            &running_build(),
            std::time::Duration::from_millis(12_300),
            340,
        );
        assert_eq!(
            text,
            "qide: build #7 running · step 2/2 \"test\" · 12.3s · 340 log lines"
        );
    }

    #[test]
    fn the_live_line_is_redrawn_in_place_cut_to_the_width_and_cleared() {
        let mut line = LiveLine::new(20);
        let mut err = Vec::new();
        line.clear(&mut err);
        assert!(err.is_empty(), "nothing shown, nothing to clear");
        line.draw(&mut err, "qide: build #7 running · step 2/2");
        line.draw(&mut err, "short");
        line.clear(&mut err);
        line.clear(&mut err);
        let text = String::from_utf8(err).unwrap();
        assert_eq!(
            text,
            format!("{CLEAR_ROW}qide: build #7 runn{CLEAR_ROW}short{CLEAR_ROW}")
        );
    }

    #[test]
    fn a_printed_pack_holds_its_budget_with_the_headers() {
        let count = qide_server::count_tokens;
        // Many small files: their headers alone are a good part of the text.
        let files: Vec<api::PackedFile> = (0..200)
            .map(|i| {
                let content = format!("pub fn f{i}() -> u32 {{ {i} }}");
                api::PackedFile {
                    path: format!("src/module_{i}/file_{i}.rs"),
                    language: Some("rust".to_owned()),
                    reason: "source".to_owned(),
                    tokens: count(&content),
                    content,
                }
            })
            .collect();
        let contents: u64 = files.iter().map(|f| f.tokens).sum();
        let pack = api::CodebasePack {
            mode: "pack".to_owned(),
            root: "/p".to_owned(),
            budget_tokens: contents,
            tokens: contents,
            build: None,
            tree_hash: None,
            files,
            left_out: Vec::new(),
            left_out_count: 0,
        };
        let (text, dropped) = pack_text(&pack, count);
        assert!(
            count(&text) <= pack.budget_tokens,
            "{} tokens",
            count(&text)
        );
        assert!(dropped > 0, "the headers must cost some files");
        // The files kept are the first ones, whole.
        let kept = pack.files.len() - dropped;
        assert!(text.contains(&pack.files[kept - 1].content));
        assert!(!text.contains(&format!("{}\n", pack.files[kept].path)));
        // With room for everything, nothing is dropped.
        let roomy = api::CodebasePack {
            budget_tokens: contents * 3,
            ..pack.clone()
        };
        let (text, dropped) = pack_text(&roomy, count);
        assert_eq!(dropped, 0);
        assert_eq!(text.matches("=== ").count(), 200);
    }
}
