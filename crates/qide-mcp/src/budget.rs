//! Fitting tool answers to a token budget.
//!
//! Tokens are estimated as bytes / 3 (rounded up), which overestimates
//! every common tokenizer on JSON and code, so an answer that fits the
//! estimate fits the model's count. Lists are cut item by item (the answer
//! stays valid JSON, with an `mcp_note` field saying what was left out);
//! only an answer whose fixed part alone is over the budget is cut as text.

use qide_api as api;
use serde::Serialize;
use serde_json::Value;

/// Bytes kept free for the `mcp_note` field.
const NOTE_RESERVE: usize = 300;

/// Estimated tokens of `text`: bytes / 3, rounded up.
pub fn estimate_tokens(text: &str) -> u64 {
    text.len().div_ceil(3) as u64
}

/// An answer's text, within its budget.
#[derive(Debug)]
pub(crate) struct Fit {
    pub(crate) text: String,
}

impl Fit {
    /// `value` whole, as compact JSON.
    pub(crate) fn whole(value: impl Serialize) -> Fit {
        Fit {
            text: to_json(&value),
        }
    }

    /// `value` with an `mcp_note`, cut as text if still over `budget`.
    fn noted(value: impl Serialize, note: Option<String>, budget: u64) -> Fit {
        let mut value = serde_json::to_value(value).unwrap_or(Value::Null);
        if let (Some(note), Some(object)) = (note, value.as_object_mut()) {
            object.insert("mcp_note".to_owned(), Value::String(note));
        }
        Fit {
            text: cut_text(to_json(&value), budget),
        }
    }
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

fn room(budget: u64) -> usize {
    usize::try_from(budget).unwrap_or(usize::MAX / 4) * 3
}

fn fits(text: &str, budget: u64) -> bool {
    estimate_tokens(text) <= budget
}

/// `text` cut to `budget` with a marker saying so (then no longer valid JSON).
fn cut_text(text: String, budget: u64) -> String {
    if fits(&text, budget) {
        return text;
    }
    let total = text.len();
    let marker = format!(
        "…[qide-mcp: answer cut at about {} of {total} bytes to fit budget_tokens={budget}; \
         ask for less (smaller limit, a range, grep) to get it whole]",
        room(budget).saturating_sub(200)
    );
    let mut end = room(budget).saturating_sub(marker.len());
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = text;
    out.truncate(end);
    out.push_str(&marker);
    out
}

/// How many of `items` fit in `room` bytes of a JSON array, in order.
fn count_fitting<'a, I: Serialize + 'a>(items: impl Iterator<Item = &'a I>, room: usize) -> usize {
    let mut used = 0usize;
    let mut n = 0;
    for item in items {
        used = used.saturating_add(to_json(item).len() + 1);
        if used > room {
            break;
        }
        n += 1;
    }
    n
}

/// `value` with the list `items` cut from its end (or, `from_end`, from its
/// start) to fit `budget`; `on_cut` sees the answer and the first item left
/// out next to the kept ones. `cut_before` names parts already left out.
fn keep<T: Serialize, I: Serialize>(
    mut value: T,
    budget: u64,
    what: &str,
    from_end: bool,
    items: impl Fn(&mut T) -> &mut Vec<I>,
    on_cut: impl FnOnce(&mut T, &I) -> String,
    cut_before: Option<String>,
) -> Fit {
    let text = to_json(&value);
    if fits(&text, budget) && cut_before.is_none() {
        return Fit { text };
    }
    let mut all = std::mem::take(items(&mut value));
    let base = to_json(&value).len() + NOTE_RESERVE;
    let space = room(budget).saturating_sub(base);
    let total = all.len();
    let kept = if from_end {
        count_fitting(all.iter().rev(), space)
    } else {
        count_fitting(all.iter(), space)
    };
    let left_out = total - kept;
    let (kept_items, boundary) = if from_end {
        let rest = all.split_off(left_out);
        let boundary = all.pop();
        (rest, boundary)
    } else {
        let rest = all.split_off(kept);
        (all, rest.into_iter().next())
    };
    *items(&mut value) = kept_items;
    let mut notes: Vec<String> = cut_before.into_iter().collect();
    if left_out > 0 {
        notes.push(format!("{left_out} of {total} {what} left out"));
    }
    let mut note = format!("{} to fit budget_tokens={budget}", notes.join("; "));
    if let Some(boundary) = boundary {
        let hint = on_cut(&mut value, &boundary);
        if !hint.is_empty() {
            note.push_str("; ");
            note.push_str(&hint);
        }
    }
    Fit::noted(value, Some(note), budget)
}

/// A list answer with its first items kept.
pub(crate) fn keep_head<T: Serialize, I: Serialize>(
    value: T,
    budget: u64,
    items: impl Fn(&mut T) -> &mut Vec<I>,
    what: &str,
) -> Fit {
    keep(
        value,
        budget,
        what,
        false,
        items,
        |_, _| "ask for fewer (limit) or page on (skip)".to_owned(),
        None,
    )
}

/// A list answer with its last items kept.
pub(crate) fn keep_tail<T: Serialize, I: Serialize>(
    value: T,
    budget: u64,
    items: impl Fn(&mut T) -> &mut Vec<I>,
    what: &str,
) -> Fit {
    keep(
        value,
        budget,
        what,
        true,
        items,
        |_, _| format!("the earliest {what} were left out: ask for a smaller tail"),
        None,
    )
}

/// A log page with its first lines kept; `next_from` continues after them.
pub(crate) fn fit_log_head(page: api::LogPage, budget: u64) -> Fit {
    keep(
        page,
        budget,
        "lines",
        false,
        |p| &mut p.lines,
        |p, first_left| {
            p.truncated = true;
            p.next_from = Some(first_left.n);
            format!("continue with from={}", first_left.n)
        },
        None,
    )
}

/// A file's lines with the first ones kept; `next_start` continues.
pub(crate) fn fit_file(file: api::FileText, budget: u64) -> Fit {
    keep(
        file,
        budget,
        "lines",
        false,
        |f| &mut f.lines,
        |f, first_left| {
            f.truncated = true;
            f.next_start = Some(first_left.n);
            f.end = first_left.n.saturating_sub(1);
            format!("continue with start={}", first_left.n)
        },
        None,
    )
}

/// The codebase summary: source previews, then key files, then file
/// entries beyond the budget are left out.
pub(crate) fn fit_codebase(mut codebase: api::Codebase, budget: u64) -> Fit {
    let text = to_json(&codebase);
    if fits(&text, budget) {
        return Fit { text };
    }
    let files = std::mem::take(&mut codebase.files);
    let mut parts = Vec::new();
    // Keep room for at least a few file entries before the fixed parts.
    let wanted = room(budget) * 2 / 3;
    if to_json(&codebase).len() + NOTE_RESERVE > wanted && !codebase.source_previews.is_empty() {
        codebase.source_previews.clear();
        parts.push("source_previews");
    }
    if to_json(&codebase).len() + NOTE_RESERVE > wanted && !codebase.key_files.is_empty() {
        codebase.key_files.clear();
        parts.push("key_files");
    }
    codebase.files = files;
    let cut_before = (!parts.is_empty()).then(|| format!("{} left out", parts.join(" and ")));
    keep(
        codebase,
        budget,
        "files",
        false,
        |c| &mut c.files,
        |_, _| "read_file reads any file".to_owned(),
        cut_before,
    )
}

/// A failure packet the server could not make small enough: the log tail
/// goes first, then the answer is cut as text.
pub(crate) fn fit_detail(mut detail: api::BuildDetail, budget: u64) -> Fit {
    let text = to_json(&detail);
    if fits(&text, budget) {
        return Fit { text };
    }
    detail.log_summary.tail.clear();
    detail.truncated = true;
    Fit::noted(
        detail,
        Some(format!(
            "log_summary.tail left out to fit budget_tokens={budget}; get_build_log has the log"
        )),
        budget,
    )
}

/// Any answer: whole, or cut as text.
pub(crate) fn fit_value(value: Value, budget: u64) -> Fit {
    Fit::noted(value, None, budget)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_text_holds_the_budget_on_multibyte_text() {
        let text = "é".repeat(10_000);
        let cut = cut_text(text, 100);
        assert!(estimate_tokens(&cut) <= 100, "{}", cut.len());
        assert!(cut.contains("qide-mcp: answer cut"));
    }

    #[test]
    fn keep_head_cuts_items_and_notes_it() {
        #[derive(Serialize)]
        struct List {
            items: Vec<String>,
        }
        let list = List {
            items: (0..1000).map(|i| format!("item number {i}")).collect(),
        };
        let fit = keep_head(list, 200, |l| &mut l.items, "items");
        assert!(estimate_tokens(&fit.text) <= 200);
        let value: Value = serde_json::from_str(&fit.text).unwrap();
        assert_eq!(value["items"][0], "item number 0");
        assert!(
            value["mcp_note"]
                .as_str()
                .unwrap()
                .contains("of 1000 items left out")
        );
    }

    #[test]
    fn keep_tail_keeps_the_last_items() {
        #[derive(Serialize)]
        struct List {
            items: Vec<u32>,
        }
        let list = List {
            items: (0..5000).collect(),
        };
        let fit = keep_tail(list, 150, |l| &mut l.items, "items");
        assert!(estimate_tokens(&fit.text) <= 150);
        let value: Value = serde_json::from_str(&fit.text).unwrap();
        let items = value["items"].as_array().unwrap();
        assert_eq!(items.last().unwrap(), 4999);
    }
}
