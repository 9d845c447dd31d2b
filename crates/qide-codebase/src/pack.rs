//! The pack: file contents within a token budget, most relevant first.
//!
//! Every kept file gets a place in one order:
//!
//! 1. the files the caller names first (a failing build's files), in the
//!    caller's order;
//! 2. entry points (`main.rs`, `lib.rs`, `main.py`, `index.ts`…), shallowest
//!    first;
//! 3. key files (`Cargo.toml`, `package.json`, CI workflows…);
//! 4. other source files, then tests, then everything else (docs, data),
//!    each shallowest first, then by path.
//!
//! Files are then taken greedily in that order: a file that does not fit
//! what is left of the budget is left out and the next one tried, so small
//! files further down still fill the gaps. Tokens are counted by the
//! caller's function over the exact text that is sent, so the sum of the
//! packed files' tokens never exceeds the budget.
//!
//! Secret files, lock files, symlinks, files over [`MAX_READ_BYTES`] and
//! binary files are never packed; each is listed as left out with its
//! reason. A file whose size makes it clearly too big for what is left
//! (more than [`BYTES_PER_TOKEN_BOUND`] bytes per remaining token) is left
//! out without being read or counted; its `tokens` is then `None`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use crate::Error;
use crate::classify::{entry_point_rank, file_name, is_key_file, is_lock_file, is_secret, is_test};
use crate::language;
use crate::summary::{MAX_READ_BYTES, is_binary, utf8_prefix};
use crate::walk::{self, EntryKind, WalkEntry};

/// A file larger than this many bytes per token still available is not
/// read: even very repetitive text rarely packs more bytes into one token.
/// Only a shortcut; the budget is held by counting, never by this bound.
pub const BYTES_PER_TOKEN_BOUND: u64 = 24;

/// Why a file is in the pack where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PackReason {
    /// Named first by the caller (a failing build's diagnostics).
    Failing,
    /// An entry point: `main.rs`, `lib.rs`, `main.py`, `index.ts`…
    EntryPoint,
    /// A build or configuration file.
    KeyFile,
    /// Other source code.
    Source,
    /// A test.
    Test,
    /// Anything else the walk keeps: docs, data, scripts without a known
    /// language.
    Other,
}

impl PackReason {
    /// The wire name: `failing`, `entry_point`, `key_file`, `source`,
    /// `test`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            PackReason::Failing => "failing",
            PackReason::EntryPoint => "entry_point",
            PackReason::KeyFile => "key_file",
            PackReason::Source => "source",
            PackReason::Test => "test",
            PackReason::Other => "other",
        }
    }
}

/// Why a file is not in the pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftOutReason {
    /// It did not fit what was left of the budget.
    OverBudget,
    /// It may hold secrets (see [`is_secret`](crate::is_secret)).
    Secret,
    /// A dependency lock file (see [`is_lock_file`](crate::is_lock_file)).
    LockFile,
    /// Binary content.
    Binary,
    /// Larger than [`MAX_READ_BYTES`].
    TooLarge,
    /// A symlink: never followed.
    Symlink,
    /// It could not be read.
    Unreadable,
}

impl LeftOutReason {
    /// The wire name: `over_budget`, `secret`, `lock_file`, `binary`,
    /// `too_large`, `symlink`, `unreadable`.
    pub fn as_str(self) -> &'static str {
        match self {
            LeftOutReason::OverBudget => "over_budget",
            LeftOutReason::Secret => "secret",
            LeftOutReason::LockFile => "lock_file",
            LeftOutReason::Binary => "binary",
            LeftOutReason::TooLarge => "too_large",
            LeftOutReason::Symlink => "symlink",
            LeftOutReason::Unreadable => "unreadable",
        }
    }
}

/// One file in the pack.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedFile {
    /// Path relative to the root, `/`-separated.
    pub path: String,
    /// The language, if recognised.
    pub language: Option<&'static str>,
    /// Why it is where it is.
    pub reason: PackReason,
    /// Its tokens, as the caller's function counted `content`.
    pub tokens: u64,
    /// The text, as the caller's function prepared it.
    pub content: String,
}

/// One file left out of the pack.
#[derive(Debug, Clone, PartialEq)]
pub struct LeftOut {
    /// Path relative to the root, `/`-separated.
    pub path: String,
    /// Why.
    pub reason: LeftOutReason,
    /// Its tokens when they were counted (only for files left out for the
    /// budget after being read).
    pub tokens: Option<u64>,
}

/// File contents within a budget.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pack {
    /// The packed files, most relevant first.
    pub files: Vec<PackedFile>,
    /// Every kept file not packed, in pack order.
    pub left_out: Vec<LeftOut>,
    /// The sum of the packed files' tokens: never more than the budget.
    pub tokens: u64,
}

/// Packs the files of the project under `root` into `budget_tokens`, the
/// files in `first` (paths relative to the root, as the walk names them)
/// before all others. `prepare` turns a file's text into what is sent and
/// counts its tokens. See the module documentation for the order.
pub fn pack(
    root: &Path,
    budget_tokens: u64,
    first: &[String],
    prepare: impl Fn(&str) -> (String, u64),
) -> Result<Pack, Error> {
    let first_rank: HashMap<&str, usize> = first
        .iter()
        .enumerate()
        .rev()
        .map(|(i, path)| (path.as_str(), i))
        .collect();
    let mut entries: Vec<(SortKey, WalkEntry)> = walk::walk(root)?
        .into_iter()
        .map(|entry| (sort_key(&entry.path, &first_rank), entry))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));

    let mut pack = Pack::default();
    let mut buffer = Vec::new();
    for (key, entry) in entries {
        let left_out = |reason, tokens| LeftOut {
            path: entry.path.clone(),
            reason,
            tokens,
        };
        let refused = if is_secret(&entry.path) {
            Some(LeftOutReason::Secret)
        } else if is_lock_file(&entry.path) {
            Some(LeftOutReason::LockFile)
        } else if entry.kind == EntryKind::Symlink {
            Some(LeftOutReason::Symlink)
        } else if entry.size > MAX_READ_BYTES {
            Some(LeftOutReason::TooLarge)
        } else {
            None
        };
        if let Some(reason) = refused {
            pack.left_out.push(left_out(reason, None));
            continue;
        }
        let remaining = budget_tokens - pack.tokens;
        if entry.size > remaining.saturating_mul(BYTES_PER_TOKEN_BOUND) {
            pack.left_out
                .push(left_out(LeftOutReason::OverBudget, None));
            continue;
        }
        buffer.clear();
        match File::open(&entry.abs).and_then(|f| f.take(MAX_READ_BYTES).read_to_end(&mut buffer)) {
            Ok(_) => {}
            // Gone since the walk: no longer part of the project.
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(_) => {
                pack.left_out
                    .push(left_out(LeftOutReason::Unreadable, None));
                continue;
            }
        }
        if is_binary(&buffer) {
            pack.left_out.push(left_out(LeftOutReason::Binary, None));
            continue;
        }
        let text = utf8_prefix(std::mem::take(&mut buffer));
        let (content, tokens) = prepare(&text);
        buffer = text.into_bytes();
        if tokens > remaining {
            pack.left_out
                .push(left_out(LeftOutReason::OverBudget, Some(tokens)));
            continue;
        }
        pack.tokens += tokens;
        pack.files.push(PackedFile {
            language: language::detect(file_name(&entry.path)).map(|(name, _)| name),
            path: entry.path,
            reason: key.reason,
            tokens,
            content,
        });
    }
    Ok(pack)
}

/// Where a file goes in the pack order; smaller first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SortKey {
    reason: PackReason,
    /// The caller's order for [`PackReason::Failing`], the entry-point rank
    /// for [`PackReason::EntryPoint`], else the depth.
    rank: (usize, usize),
    path: String,
}

fn sort_key(path: &str, first: &HashMap<&str, usize>) -> SortKey {
    let depth = path.matches('/').count();
    let (reason, rank) = if let Some(&i) = first.get(path) {
        (PackReason::Failing, (i, 0))
    } else if let Some(rank) = entry_point_rank(path) {
        (PackReason::EntryPoint, rank)
    } else if is_key_file(path) {
        (PackReason::KeyFile, (depth, 0))
    } else {
        let source =
            language::detect(file_name(path)).is_some_and(|(_, kind)| language::is_source(kind));
        let reason = match (is_test(path), source) {
            (true, _) => PackReason::Test,
            (false, true) => PackReason::Source,
            (false, false) => PackReason::Other,
        };
        (reason, (depth, 0))
    };
    SortKey {
        reason,
        rank,
        path: path.to_owned(),
    }
}
