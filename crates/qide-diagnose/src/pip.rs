//! pip's install failures: a requirement no index satisfies (`ERROR: Could
//! not find a version that satisfies the requirement …`, then the `No
//! matching distribution found` that repeats it) and resolver conflicts
//! (`ERROR: Cannot install a and b because these package versions have
//! conflicting dependencies.`, the `The conflict is caused by:` lines, then
//! `ERROR: ResolutionImpossible`). Both are missing dependencies.
//!
//! uv's resolver failures, `error: No solution found when resolving
//! dependencies` (uv 0.13; older releases print `× No solution found …:`)
//! with the derivation on `  cause: Because …` (or `╰─▶ Because …`) and
//! indented lines after it; and Poetry's `Package flask (3.0.0) not found.`
//! and `Could not find a matching version of package x`, captured from the
//! real tools, and its `Because … version solving failed.` conflict, from
//! Poetry's documented output (its resolver cannot reach PyPI's metadata
//! where QIDE's test logs are made).
//!
//! Composer's (PHP) `Your requirements could not be resolved to an
//! installable set of packages.`, then `  Problem 1` and the indented
//! `    - …` lines that say what clashes; from its documented output (no PHP
//! here).

use crate::{Category, sink::Draft};

/// A conflict explanation longer than this many lines ends, so a
/// mis-detected header cannot swallow the log.
const MAX_BLOCK_LINES: u32 = 40;

/// What was seen of pip so far in one log.
#[derive(Debug, Default)]
pub(crate) struct Pip {
    /// The requirement of the last `Could not find a version` line, which
    /// the next `No matching distribution found` repeats.
    unsatisfied: Option<String>,
}

/// What a gated line was to pip.
pub(crate) enum Line {
    /// A resolver conflict whose explanation follows.
    Block(Block),
    /// A complete one-line diagnostic.
    Draft(Draft),
}

impl Pip {
    /// Reads a line that passed the keyword gate.
    pub(crate) fn line(&mut self, n: u64, line: &str) -> Option<Line> {
        if let Some(found) = uv_or_poetry(n, line) {
            return Some(found);
        }
        if line.starts_with("Your requirements could not be resolved") {
            return Some(Line::Block(Block {
                draft: Draft::error(
                    "composer",
                    Category::MissingDependency,
                    line.trim_end().trim_end_matches('.').to_string(),
                    (n, n),
                ),
                lines: 0,
                derivation: None,
                problem: Some(false),
            }));
        }
        let rest = line.strip_prefix("ERROR: ")?;
        if let Some(requirement) =
            rest.strip_prefix("Could not find a version that satisfies the requirement ")
        {
            // The list of versions that do exist grows with every release;
            // it is not part of what failed.
            let requirement = requirement
                .split_once(" (from versions:")
                .map_or(requirement, |(r, _)| r)
                .trim();
            self.unsatisfied = Some(requirement.to_string());
            return Some(Line::Draft(Draft::error(
                "pip",
                Category::MissingDependency,
                format!("Could not find a version that satisfies the requirement {requirement}"),
                (n, n),
            )));
        }
        if let Some(requirement) = rest.strip_prefix("No matching distribution found for ") {
            let draft = Draft::error("pip", Category::MissingDependency, rest.to_string(), (n, n));
            let repeated = self.unsatisfied.take().as_deref() == Some(requirement.trim());
            return Some(Line::Draft(if repeated { draft.cascade() } else { draft }));
        }
        if rest.starts_with("Cannot install ") && rest.contains("conflicting dependencies") {
            return Some(Line::Block(Block {
                draft: Draft::error("pip", Category::MissingDependency, rest.to_string(), (n, n)),
                lines: 0,
                derivation: None,
                problem: None,
            }));
        }
        if rest.starts_with("ResolutionImpossible") {
            return Some(Line::Draft(
                Draft::error("pip", Category::MissingDependency, rest.to_string(), (n, n))
                    .cascade(),
            ));
        }
        None
    }
}

/// uv's `No solution found` header, which opens a block that reads its
/// derivation, and Poetry's one-line resolver failures.
fn uv_or_poetry(n: u64, line: &str) -> Option<Line> {
    let t = crate::trim_indent(line);
    if let Some(rest) = t.strip_prefix("error: ").or_else(|| t.strip_prefix("× "))
        && rest.starts_with("No solution found when resolving")
    {
        let message = rest.trim_end_matches(':').to_string();
        return Some(Line::Block(Block {
            draft: Draft::error("uv", Category::MissingDependency, message, (n, n)),
            lines: 0,
            derivation: Some(false),
            problem: None,
        }));
    }
    let poetry = (t.starts_with("Package ") && t.ends_with(") not found."))
        || t.starts_with("Could not find a matching version of package ")
        || (t.starts_with("Because ") && t.ends_with("version solving failed."));
    poetry.then(|| {
        Line::Draft(Draft::error(
            "poetry",
            Category::MissingDependency,
            t.to_string(),
            (n, n),
        ))
    })
}

/// A resolver conflict whose `The conflict is caused by:` lines (pip) or
/// derivation (uv) are still being read.
#[derive(Debug)]
pub(crate) struct Block {
    draft: Draft,
    lines: u32,
    /// uv's: whether its derivation began (`cause:` or `╰─▶`), whose text
    /// joins the message.
    derivation: Option<bool>,
    /// Composer's: whether the first problem's `- …` line, which joins the
    /// message, was read.
    problem: Option<bool>,
}

impl Block {
    /// Offers the next line; returns whether it belongs to the conflict:
    /// blank lines, `The conflict is caused by:` and the indented causes.
    /// pip's advice (`To fix this you could try to:`) ends it.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        if self.lines >= MAX_BLOCK_LINES {
            return false;
        }
        if let Some(began) = self.derivation {
            return self.feed_derivation(n, line, began);
        }
        let blank = line.trim().is_empty();
        if !(blank || line.starts_with(' ') || line.starts_with("The conflict is caused by")) {
            return false;
        }
        self.lines += 1;
        if !blank {
            self.draft.log_lines.1 = n;
        }
        if self.problem == Some(false)
            && let Some(detail) = line.trim_start().strip_prefix("- ")
        {
            self.draft.message.push_str(": ");
            self.draft.message.push_str(detail.trim_end());
            self.problem = Some(true);
        }
        true
    }

    /// uv: `  cause: Because …` or `  ╰─▶ Because …`, then the lines
    /// indented under it; the text joins the message, so the diagnostic says
    /// which requirements clash.
    fn feed_derivation(&mut self, n: u64, line: &str, began: bool) -> bool {
        let t = crate::trim_indent(line);
        let text = if began {
            (t.len() < line.len() && !t.is_empty()).then_some(t)
        } else {
            t.strip_prefix("cause: ").or_else(|| t.strip_prefix("╰─▶ "))
        };
        let Some(text) = text else { return false };
        let joiner = if began { " " } else { ": " };
        self.draft.message.push_str(joiner);
        self.draft.message.push_str(text.trim_end());
        self.derivation = Some(true);
        self.lines += 1;
        self.draft.log_lines.1 = n;
        true
    }

    /// The finished diagnostic.
    pub(crate) fn close(self) -> Draft {
        self.draft
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `lines` from line 1 and returns the diagnostics.
    fn read(lines: &[&str]) -> Vec<Draft> {
        let mut pip = Pip::default();
        let mut open: Option<Block> = None;
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let n = i as u64 + 1;
            if let Some(block) = &mut open {
                if block.feed(n, line) {
                    continue;
                }
                out.push(open.take().expect("open").close());
            }
            match pip.line(n, line) {
                Some(Line::Block(block)) => open = Some(block),
                Some(Line::Draft(draft)) => out.push(draft),
                None => {}
            }
        }
        out.extend(open.map(Block::close));
        out
    }

    /// uv before 0.13 printed the failure as a report with a cross and an
    /// arrow (its documented form).
    #[test]
    fn older_uv_report() {
        let drafts = read(&[
            "  × No solution found when resolving dependencies:",
            "  ╰─▶ Because there is no version of requests==99.0.0 and you require",
            "      requests==99.0.0, we can conclude that your requirements are unsatisfiable.",
            "",
            "Done.",
        ]);
        assert_eq!(drafts.len(), 1);
        assert_eq!(drafts[0].tool, "uv");
        assert_eq!(drafts[0].log_lines, (1, 3));
        assert_eq!(
            drafts[0].message,
            "No solution found when resolving dependencies: Because there is no version of \
             requests==99.0.0 and you require requests==99.0.0, we can conclude that your \
             requirements are unsatisfiable."
        );
    }

    /// Poetry's conflict (its documented `SolverProblemError` text).
    #[test]
    fn poetry_conflict() {
        let drafts = read(&[
            "Because demo depends on both flask (3.0.0) and werkzeug (<3.0), version solving failed.",
        ]);
        assert_eq!(drafts.len(), 1);
        assert_eq!(drafts[0].tool, "poetry");
        assert_eq!(drafts[0].category, Category::MissingDependency);
        assert!(drafts[0].root_cause);
    }

    /// A uv header with no derivation after it still says what failed, and
    /// unrelated lines that start like Poetry's are left alone.
    #[test]
    fn bare_header_and_lookalikes() {
        let drafts = read(&[
            "error: No solution found when resolving dependencies",
            "next",
        ]);
        assert_eq!(drafts.len(), 1);
        assert_eq!(drafts[0].log_lines, (1, 1));
        assert!(read(&["Package installed.", "Because it rained, we stayed in."]).is_empty());
    }
}
