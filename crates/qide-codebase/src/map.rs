//! The repo map: the project's definitions, files ranked by how much the
//! rest of the project refers to them, fitted to a token budget.
//!
//! A simple, honest first version of aider's repo map:
//!
//! - definitions come from the regex [`outline`](crate::outline) (not a
//!   parser; see that module for what it misses);
//! - a file's score is the number of (other file, name) pairs where another
//!   outlined file mentions, as a whole word, a top-level name the file
//!   defines. That is a reference count, not PageRank, and a common name
//!   (`new`, `run`) counts wherever the word appears;
//! - with `first` (a failing build's files), those files come first in the
//!   caller's order, then the files defining names they mention, then the
//!   rest, each group by score, then by path.
//!
//! Files are then taken greedily as rendered text (`path`, then one
//! `line: signature` line per definition) counted by the caller's function:
//! a file that does not fit whole is tried with its top-level definitions
//! only, else left out. The map is recomputed on each call; only the tree
//! hash says whether it would change.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::classify::{file_name, is_lock_file, is_secret};
use crate::outline::{Definition, can_outline, outline};
use crate::summary::{MAX_READ_BYTES, is_binary, utf8_prefix};
use crate::walk::{self, EntryKind};
use crate::{Error, language};

/// Names shorter than this are not counted as references: too many false
/// matches.
pub const MIN_REFERENCE_NAME: usize = 3;

/// Why a file is where it is in the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MapReason {
    /// Named first by the caller (a failing build's diagnostics).
    Failing,
    /// Defines a name that one of the failing files mentions.
    ReferencedByFailing,
    /// Ranked by references alone.
    Ranked,
}

impl MapReason {
    /// The wire name: `failing`, `referenced_by_failing`, `ranked`.
    pub fn as_str(self) -> &'static str {
        match self {
            MapReason::Failing => "failing",
            MapReason::ReferencedByFailing => "referenced_by_failing",
            MapReason::Ranked => "ranked",
        }
    }
}

/// One file of the map.
#[derive(Debug, Clone, PartialEq)]
pub struct MapFile {
    /// Path relative to the root, `/`-separated.
    pub path: String,
    /// The language.
    pub language: &'static str,
    /// Why it is where it is.
    pub reason: MapReason,
    /// References from other files to the names it defines.
    pub score: u64,
    /// Its definitions in line order (members dropped if `truncated`).
    pub definitions: Vec<Definition>,
    /// Members were dropped to fit the budget.
    pub truncated: bool,
    /// Tokens of the rendered text, as the caller's function counted it.
    pub tokens: u64,
    /// The rendered text: the path, then `line: signature` per definition.
    pub text: String,
}

/// The map, within its budget.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepoMap {
    /// The files, most relevant first.
    pub files: Vec<MapFile>,
    /// Files with definitions that did not fit the budget, in rank order.
    pub left_out: Vec<String>,
    /// The sum of the files' tokens: never more than the budget.
    pub tokens: u64,
}

/// What the parallel scan learns about one file.
struct Scanned {
    language: &'static str,
    definitions: Vec<Definition>,
    /// Every identifier-like word of the file.
    words: HashSet<String>,
}

/// The ranked map of the project under `root` within `budget_tokens`,
/// centred on `first` (paths relative to the root) when given. `count`
/// counts the tokens of a rendered file. See the module documentation.
pub fn repo_map(
    root: &Path,
    budget_tokens: u64,
    first: &[String],
    count: impl Fn(&str) -> u64,
) -> Result<RepoMap, Error> {
    let scanned = walk::walk_map(root, |entry, scratch| {
        if entry.kind != EntryKind::File
            || entry.size > MAX_READ_BYTES
            || is_secret(&entry.path)
            || is_lock_file(&entry.path)
        {
            return None;
        }
        let (language, _) = language::detect(file_name(&entry.path))?;
        if !can_outline(language) {
            return None;
        }
        scratch.clear();
        File::open(&entry.abs)
            .and_then(|f| f.take(MAX_READ_BYTES).read_to_end(scratch))
            .ok()?;
        if is_binary(scratch) {
            return None;
        }
        let text = utf8_prefix(scratch.clone());
        Some(Scanned {
            language,
            definitions: outline(language, &text),
            words: words(&text),
        })
    })?;

    // How many files mention each top-level name.
    let mut mentions: HashMap<&str, u64> = HashMap::new();
    for (_, file) in &scanned {
        for definition in file.definitions.iter().filter(|d| counts(d)) {
            mentions.entry(definition.name.as_str()).or_insert(0);
        }
    }
    for (_, file) in &scanned {
        for word in &file.words {
            if let Some(n) = mentions.get_mut(word.as_str()) {
                *n += 1;
            }
        }
    }
    let first_rank: HashMap<&str, usize> = first
        .iter()
        .enumerate()
        .rev()
        .map(|(i, path)| (path.as_str(), i))
        .collect();
    let failing_words: Vec<&HashSet<String>> = scanned
        .iter()
        .filter(|(entry, _)| first_rank.contains_key(entry.path.as_str()))
        .map(|(_, file)| &file.words)
        .collect();

    let mut ranked: Vec<(MapReason, usize, u64, &str, &Scanned)> = scanned
        .iter()
        .filter(|(_, file)| !file.definitions.is_empty())
        .map(|(entry, file)| {
            let names: HashSet<&str> = file
                .definitions
                .iter()
                .filter(|d| counts(d))
                .map(|d| d.name.as_str())
                .collect();
            // Each name's mentions, less the defining file's own.
            let score = names
                .iter()
                .map(|name| mentions.get(name).map_or(0, |n| n.saturating_sub(1)))
                .sum();
            let (reason, order) = match first_rank.get(entry.path.as_str()) {
                Some(&i) => (MapReason::Failing, i),
                None if failing_words
                    .iter()
                    .any(|words| names.iter().any(|name| words.contains(*name))) =>
                {
                    (MapReason::ReferencedByFailing, 0)
                }
                None => (MapReason::Ranked, 0),
            };
            (reason, order, score, entry.path.as_str(), file)
        })
        .collect();
    ranked.sort_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then(b.2.cmp(&a.2))
            .then(a.3.cmp(b.3))
    });

    let mut map = RepoMap::default();
    for (reason, _, score, path, file) in ranked {
        let remaining = budget_tokens - map.tokens;
        let whole = render(path, file.definitions.iter());
        let whole_tokens = count(&whole);
        let fitted = if whole_tokens <= remaining {
            Some((whole, whole_tokens, file.definitions.clone(), false))
        } else if file.definitions.iter().any(|d| d.member) {
            let top: Vec<Definition> = file
                .definitions
                .iter()
                .filter(|d| !d.member)
                .cloned()
                .collect();
            let text = render(path, top.iter());
            let tokens = count(&text);
            (tokens <= remaining && !top.is_empty()).then_some((text, tokens, top, true))
        } else {
            None
        };
        match fitted {
            Some((text, tokens, definitions, truncated)) => {
                map.tokens += tokens;
                map.files.push(MapFile {
                    path: path.to_owned(),
                    language: file.language,
                    reason,
                    score,
                    definitions,
                    truncated,
                    tokens,
                    text,
                });
            }
            None => map.left_out.push(path.to_owned()),
        }
    }
    Ok(map)
}

/// Whether a definition's name counts for references: top level, and long
/// enough to be telling.
fn counts(definition: &Definition) -> bool {
    !definition.member && definition.kind != "impl" && definition.name.len() >= MIN_REFERENCE_NAME
}

/// The identifier-like words of a text.
fn words(text: &str) -> HashSet<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .filter(|w| w.len() >= MIN_REFERENCE_NAME && !w.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_owned)
        .collect()
}

/// A file as the model reads it: its path, then `line: signature` per
/// definition, members indented.
fn render<'a>(path: &str, definitions: impl Iterator<Item = &'a Definition>) -> String {
    let mut text = format!("{path}\n");
    for definition in definitions {
        let indent = if definition.member { "    " } else { "  " };
        text.push_str(&format!(
            "{indent}{}: {}\n",
            definition.line, definition.signature
        ));
    }
    text
}
