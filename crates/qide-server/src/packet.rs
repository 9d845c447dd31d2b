//! The failure packet fitted to a token budget: root causes first, then the
//! other diagnostics, test failures, the suspect files' diff hunks (when
//! asked for) and the log's tail, as much as fits.
//! Tokens are counted with a real tokenizer (o200k_base) over the exact JSON
//! the client receives, so the answer is never over the budget asked.

use std::sync::LazyLock;

use qide_api as api;
use tiktoken_rs::CoreBPE;

/// Budget when the client names none.
pub(crate) const DEFAULT_BUDGET: u64 = 2000;
/// Smallest budget accepted: the build's own fields must fit.
pub(crate) const MIN_BUDGET: u64 = 300;
/// Largest budget accepted.
pub(crate) const MAX_BUDGET: u64 = 1_000_000;

static TOKENIZER: LazyLock<Option<CoreBPE>> = LazyLock::new(|| match tiktoken_rs::o200k_base() {
    Ok(bpe) => Some(bpe),
    Err(e) => {
        tracing::error!(%e, "loading the tokenizer; falling back to bytes / 3");
        None
    }
});

/// Tokens of a text, as budgets count them (o200k_base).
pub fn count_tokens(text: &str) -> u64 {
    match TOKENIZER.as_ref() {
        Some(bpe) => bpe.encode_ordinary(text).len() as u64,
        // A conservative over-estimate, so budgets still hold.
        None => text.len().div_ceil(3) as u64,
    }
}

fn tokens_of<T: serde::Serialize>(value: &T) -> u64 {
    serde_json::to_string(value).map_or(u64::MAX, |s| count_tokens(&s))
}

/// One diagnostic at a time, root causes first: the packet's unit of paging.
fn ordered(summary: &api::LogSummary) -> Vec<api::Diagnostic> {
    let mut items: Vec<api::Diagnostic> = summary
        .errors
        .iter()
        .filter(|d| d.root_cause)
        .cloned()
        .collect();
    items.extend(summary.errors.iter().filter(|d| !d.root_cause).cloned());
    items.extend(summary.warnings.iter().cloned());
    items
}

/// A diagnostic with less source around it, for a tight budget.
fn slimmer(d: &api::Diagnostic) -> Option<api::Diagnostic> {
    let snippet = d.snippet.as_ref()?;
    let mut slim = d.clone();
    if snippet.lines.len() > 1 {
        let at = d
            .line
            .map_or(0, |l| l.saturating_sub(snippet.start_line) as usize);
        let at = at.min(snippet.lines.len() - 1);
        slim.snippet = Some(api::Snippet {
            start_line: snippet.start_line + at as u32,
            lines: vec![snippet.lines[at].clone()],
        });
    } else {
        slim.snippet = None;
    }
    Some(slim)
}

/// Fits `detail` into `budget` tokens, starting at diagnostic `cursor`.
pub(crate) fn fit(mut detail: api::BuildDetail, budget: u64, cursor: usize) -> api::BuildDetail {
    let items = ordered(&detail.log_summary);
    let tail = std::mem::take(&mut detail.log_summary.tail);
    let failures = std::mem::take(&mut detail.log_summary.tests.failures);
    // Diff hunks wait for the diagnostics and test failures: the paths stay.
    let hunks: Vec<Vec<String>> = detail
        .suspect_changes
        .iter_mut()
        .flat_map(|c| c.files.iter_mut())
        .map(|f| std::mem::take(&mut f.hunks))
        .collect();
    detail.log_summary.errors.clear();
    detail.log_summary.warnings.clear();
    detail.log_summary.root_causes.clear();
    detail.budget_tokens = budget;
    detail.truncated = false;
    detail.next_cursor = None;
    // Counted with a wide number in `tokens`, so the real one never adds.
    detail.tokens = 999_999;

    // Reports and known issues get at most half the budget, newest first,
    // so the diagnostics always have room.
    let reports = std::mem::take(&mut detail.reports);
    let known = std::mem::take(&mut detail.known_issues);
    let mut used = tokens_of(&detail);
    let share = budget.saturating_sub(used) / 2;
    let mut spent = 0;
    for report in reports.iter().rev() {
        let cost = tokens_of(report) + 1;
        if spent + cost > share {
            detail.truncated = true;
            break;
        }
        spent += cost;
        detail.reports.push(report.clone());
    }
    detail.reports.reverse();
    for issue in known {
        let cost = tokens_of(&issue) + 1;
        if spent + cost > share {
            detail.truncated = true;
            break;
        }
        spent += cost;
        detail.known_issues.push(issue);
    }
    used += spent;
    if used > budget {
        if let Some(steps) = detail.build.steps.as_mut() {
            steps.clear();
        }
        used = tokens_of(&detail);
    }

    let mut next = None;
    for (i, item) in items.iter().enumerate().skip(cursor) {
        let cost = tokens_of(item) + 1;
        if used + cost <= budget {
            used += cost;
            push(&mut detail.log_summary, item.clone());
            continue;
        }
        // Less source around it, then none, before giving up on it.
        let slim = slimmer(item);
        let slimmest = slim.as_ref().and_then(slimmer);
        if let Some(fitting) = [slim, slimmest]
            .into_iter()
            .flatten()
            .find(|d| used + tokens_of(d) < budget)
        {
            used += tokens_of(&fitting) + 1;
            push(&mut detail.log_summary, fitting);
            detail.truncated = true;
            continue;
        }
        next = Some(i);
        break;
    }
    if next.is_some() {
        detail.truncated = true;
    }
    for failure in failures {
        let cost = tokens_of(&failure) + 1;
        if used + cost > budget {
            detail.truncated = true;
            break;
        }
        used += cost;
        detail.log_summary.tests.failures.push(failure);
    }
    if let Some(changes) = detail.suspect_changes.as_mut() {
        'files: for (file, hunks) in changes.files.iter_mut().zip(hunks) {
            for hunk in hunks {
                let cost = count_tokens(&hunk) + 2;
                if used + cost > budget {
                    file.diff_truncated = true;
                    detail.truncated = true;
                    continue 'files;
                }
                used += cost;
                file.hunks.push(hunk);
            }
        }
    }
    let mut kept_tail = Vec::new();
    for line in tail.iter().rev() {
        let cost = count_tokens(line) + 2;
        if used + cost > budget {
            detail.truncated = true;
            break;
        }
        used += cost;
        kept_tail.push(line.clone());
    }
    kept_tail.reverse();
    detail.log_summary.tail = kept_tail;
    detail.next_cursor = next.map(|i| i.to_string());

    // The sums above are estimates (token boundaries shift when JSON is
    // joined); the exact count decides, dropping from the end until it fits.
    loop {
        let exact = tokens_of(&detail);
        if exact <= budget {
            // Counted with the wide placeholder: the real number is no longer.
            detail.tokens = exact;
            return detail;
        }
        detail.truncated = true;
        if !detail.log_summary.tail.is_empty() {
            detail.log_summary.tail.remove(0);
        } else if pop_last_hunk(&mut detail.suspect_changes)
            || detail.log_summary.tests.failures.pop().is_some()
        {
            continue;
        } else if pop_last(&mut detail.log_summary) {
            let index = cursor + count(&detail.log_summary);
            detail.next_cursor = Some(index.to_string());
        } else if detail
            .suspect_changes
            .as_mut()
            .is_some_and(|c| c.files.pop().is_some())
        {
            // The least suspect file goes last of all: `truncated` says so.
            continue;
        } else {
            // Nothing left to drop but the build itself: still answer, with
            // the count saying so.
            detail.tokens = exact;
            return detail;
        }
    }
}

fn push(summary: &mut api::LogSummary, d: api::Diagnostic) {
    if d.severity == "warning" {
        summary.warnings.push(d);
    } else {
        if d.root_cause {
            summary.root_causes.retain(|id| id != &d.id);
            summary.root_causes.push(d.id.clone());
        }
        summary.errors.push(d);
    }
}

fn count(summary: &api::LogSummary) -> usize {
    summary.errors.len() + summary.warnings.len()
}

/// Drops the last diff hunk of the least suspect file that has one; false
/// when there is none.
fn pop_last_hunk(changes: &mut Option<api::SuspectChanges>) -> bool {
    let Some(changes) = changes else {
        return false;
    };
    match changes.files.iter_mut().rev().find(|f| !f.hunks.is_empty()) {
        Some(file) => {
            file.hunks.pop();
            file.diff_truncated = true;
            true
        }
        None => false,
    }
}

/// Drops the last diagnostic in packet order; false when there is none.
fn pop_last(summary: &mut api::LogSummary) -> bool {
    match summary.warnings.pop().or_else(|| summary.errors.pop()) {
        Some(d) => {
            summary.root_causes.retain(|id| id != &d.id);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build() -> api::Build {
        api::Build {
            id: 2,
            status: api::BuildStatus::Failed,
            trigger: "api".to_owned(),
            commit: None,
            branch: None,
            dirty: None,
            tree_hash: None,
            created_at: "2026-11-26T10:00:00Z".to_owned(),
            started_at: None,
            finished_at: None,
            duration_ms: None,
            exit_code: Some(1),
            failure_kind: None,
            failure_category: None,
            error_count: 0,
            warning_count: 0,
            report_count: 0,
            log_line_count: 0,
            log_dropped: None,
            steps: None,
            rerun_of: None,
        }
    }

    /// A hunk of `lines` changed lines, each a few tokens.
    fn hunk(start: u32, lines: u32) -> String {
        let mut text = format!("@@ -{start},{lines} +{start},{lines} @@\n");
        for i in 0..lines {
            text.push_str(&format!(
                "-let value_{i} = old_call({i});\n+let value_{i} = new_call({i});\n"
            ));
        }
        text
    }

    fn detail(files: Vec<(&str, Vec<String>)>) -> api::BuildDetail {
        api::BuildDetail {
            build: build(),
            log_summary: api::LogSummary {
                tail: (0..30).map(|i| format!("tail line {i}")).collect(),
                ..Default::default()
            },
            reports: vec![],
            known_issues: vec![],
            suspect_changes: Some(api::SuspectChanges {
                base_build: Some(1),
                files: files
                    .into_iter()
                    .map(|(path, hunks)| api::SuspectFile {
                        path: path.to_owned(),
                        diagnostics: 0,
                        hunks,
                        diff_truncated: false,
                    })
                    .collect(),
            }),
            truncated: false,
            tokens: 0,
            budget_tokens: 0,
            next_cursor: None,
            flaky: None,
        }
    }

    #[test]
    fn hunks_fit_the_budget_most_suspect_file_first() {
        let big = detail(vec![
            ("src/a.rs", vec![hunk(1, 10), hunk(50, 10)]),
            ("src/b.rs", vec![hunk(1, 200)]),
            ("src/c.rs", vec![hunk(7, 2)]),
        ]);
        // Everything fits a large budget.
        let all = fit(big.clone(), 100_000, 0);
        assert!(!all.truncated);
        let files = &all.suspect_changes.as_ref().unwrap().files;
        assert_eq!(files[0].hunks.len(), 2);
        assert_eq!(files[1].hunks.len(), 1);
        assert!(files.iter().all(|f| !f.diff_truncated));

        // A tight budget: the huge hunk of b.rs is left out, the small ones
        // of a.rs and c.rs kept, every path still listed, never over budget.
        let tight = fit(big, 1500, 0);
        assert!(tight.tokens <= 1500, "{}", tight.tokens);
        // `tokens` was counted with a wide placeholder in its own place.
        assert!(tokens_of(&tight) <= tight.tokens);
        assert!(tight.truncated);
        let files = &tight.suspect_changes.as_ref().unwrap().files;
        assert_eq!(files.len(), 3);
        assert_eq!(files[0].hunks.len(), 2, "the most suspect file comes first");
        assert!(files[1].hunks.is_empty());
        assert!(files[1].diff_truncated);
        assert_eq!(files[2].hunks.len(), 1);
    }

    #[test]
    fn hunks_give_way_to_the_budget_before_the_build_does() {
        let many: Vec<String> = (0..40).map(|i| hunk(i * 100 + 1, 6)).collect();
        let fitted = fit(detail(vec![("src/a.rs", many)]), 400, 0);
        assert!(fitted.tokens <= 400, "{}", fitted.tokens);
        let file = &fitted.suspect_changes.as_ref().unwrap().files[0];
        assert!(file.diff_truncated);
        assert!(file.hunks.len() < 40);
    }
}
