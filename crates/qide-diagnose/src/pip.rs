//! pip's install failures: a requirement no index satisfies (`ERROR: Could
//! not find a version that satisfies the requirement …`, then the `No
//! matching distribution found` that repeats it) and resolver conflicts
//! (`ERROR: Cannot install a and b because these package versions have
//! conflicting dependencies.`, the `The conflict is caused by:` lines, then
//! `ERROR: ResolutionImpossible`). Both are missing dependencies.

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

/// A resolver conflict whose `The conflict is caused by:` lines are still
/// being read.
#[derive(Debug)]
pub(crate) struct Block {
    draft: Draft,
    lines: u32,
}

impl Block {
    /// Offers the next line; returns whether it belongs to the conflict:
    /// blank lines, `The conflict is caused by:` and the indented causes.
    /// pip's advice (`To fix this you could try to:`) ends it.
    pub(crate) fn feed(&mut self, n: u64, line: &str) -> bool {
        if self.lines >= MAX_BLOCK_LINES {
            return false;
        }
        let blank = line.trim().is_empty();
        if !(blank || line.starts_with(' ') || line.starts_with("The conflict is caused by")) {
            return false;
        }
        self.lines += 1;
        if !blank {
            self.draft.log_lines.1 = n;
        }
        true
    }

    /// The finished diagnostic.
    pub(crate) fn close(self) -> Draft {
        self.draft
    }
}
