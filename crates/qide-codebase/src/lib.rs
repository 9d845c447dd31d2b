//! The project as a coding model should see it.
//!
//! `qide-codebase` walks a project with the `ignore` crate (honouring
//! `.gitignore`, `.ignore` and `.qideignore`), summarises it, and hashes the
//! working tree so two builds of the same code can be recognised. It knows
//! nothing of HTTP or storage.
//!
//! - [`walk`]: the files a model should see, sorted; every other function
//!   builds on it, so all agree on what the project is.
//! - [`summarize`]: files with sizes, lines and languages, key files, source
//!   previews and the project's shape; secret files listed by size only.
//! - [`tree_hash`] / [`tree_hash_cached`]: `b3:<hex>` over every kept file.
//! - [`read_file`]: line-numbered text of one file, confined to the root.
//! - [`pack`]: file contents within a token budget, most relevant first.
//! - [`repo_map`] / [`MapCache`]: the most important definitions, found with
//!   tree-sitter ([`file_tags`]; the regex [`outline`] for languages without
//!   a grammar), ranked by personalised PageRank toward a failing build's
//!   files and symbols, within a token budget; per-file tags are cached, and
//!   [`MapCache::repo_map_within`] answers a large tree within a time limit
//!   with what it parsed, parsing the rest in the background.
//! - [`git_settings_stamp`]: what moves when git's settings outside the
//!   tree (configuration, global excludes) change.
//! - [`SummaryCache`]: the summary remembered by tree hash, so a repeat call
//!   on an unchanged tree reads no file; it also holds the map's tag cache.
//!
//! `.qide` (QIDE's own state) and `.git` are never walked, hashed or shown.

mod cache;
mod classify;
mod error;
mod git_settings;
mod language;
mod map;
mod outline;
mod pack;
mod read;
mod summary;
mod tags;
mod tree_hash;
mod walk;

use std::path::Path;

pub use cache::{CachedSummary, SummaryCache};
pub use classify::{is_lock_file, is_secret};
pub use error::Error;
pub use git_settings::{GitDirs, git_settings_stamp, stamp_file};
pub use map::{
    DAMPING, MAP_DEADLINE, MAX_DEFINERS, MIN_REFERENCE_NAME, MapCache, MapFile, MapFocus,
    MapReason, RepoMap, repo_map, symbols_in_message,
};
pub use outline::{Definition, MAX_MEMBER_INDENT, MAX_SIGNATURE_BYTES, can_outline, outline};
pub use pack::{BYTES_PER_TOKEN_BOUND, LeftOut, LeftOutReason, Pack, PackReason, PackedFile, pack};
pub use read::{
    FileText, NumberedLine, READ_MAX_BYTES, READ_MAX_LINE_BYTES, READ_MAX_LINES, read_file,
};
pub use summary::{
    BINARY_SNIFF_BYTES, MAX_KEY_FILE_BYTES, MAX_KEY_FILES, MAX_PREVIEWS, MAX_READ_BYTES,
    PREVIEW_LINES, PREVIEW_MAX_LINE_BYTES,
};
pub use tags::{
    FileTags, MINIFIED_BYTES_PER_LINE, MINIFIED_MIN_BYTES, TagMethod, check_queries, file_tags,
    has_grammar,
};
pub use tree_hash::TreeHashCache;
pub use walk::{EntryKind, NEVER_WALKED, QIDE_IGNORE_FILE, SKIPPED_DIRS, WalkEntry, walk};

/// One file of the project.
#[derive(Debug, Clone, PartialEq)]
pub struct FileEntry {
    /// Path relative to the root, `/`-separated.
    pub path: String,
    /// Size in bytes, as listed on disk (a symlink's is its target's length).
    pub size: u64,
    /// Line count; 0 for files whose text is not read (binary, larger than
    /// [`MAX_READ_BYTES`], secret, symlinks).
    pub lines: u64,
    /// The language, by file name and extension, if recognised.
    pub language: Option<&'static str>,
    /// Approximate token count of the file's text: bytes / 4, rounded up; 0
    /// when the text is not read.
    pub tokens: u64,
}

/// A configuration file whose contents a model should see whole.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyFile {
    /// Path relative to the root, `/`-separated.
    pub path: String,
    /// The text, at most [`MAX_KEY_FILE_BYTES`] of it.
    pub content: String,
    /// The file is longer than what `content` holds.
    pub truncated: bool,
}

/// The first lines of a source file.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcePreview {
    /// Path relative to the root, `/`-separated.
    pub path: String,
    /// The first [`PREVIEW_LINES`] lines, without line ends.
    pub lines: Vec<String>,
    /// The file has more lines than shown, or a line was cut at
    /// [`PREVIEW_MAX_LINE_BYTES`].
    pub truncated: bool,
}

/// Files and lines of one language.
#[derive(Debug, Clone, PartialEq)]
pub struct LanguageStat {
    /// Display name: `Rust`, `TypeScript`, `C++`…
    pub name: &'static str,
    /// How many files are in this language.
    pub files: u64,
    /// How many lines those files hold.
    pub lines: u64,
}

/// The shape of the project at a glance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Structure {
    /// Server-side or native code is present: Rust, Python, Go, Java, C#…
    /// source, a `server/` or `backend/` directory, or a `package.json`
    /// depending on a server framework (express, fastify…).
    pub has_backend: bool,
    /// Browser code is present: `.tsx`, `.jsx`, `.vue`, `.svelte`, `.html`,
    /// `.css` files, or a `package.json` depending on react, vue, svelte,
    /// next…
    pub has_frontend: bool,
    /// Tests are present: `tests/`, `test/`, `__tests__/`, `spec/`
    /// directories or files named like tests (`*_test.go`, `test_*.py`,
    /// `*.test.ts`, `*Test.java`…).
    pub has_tests: bool,
    /// Languages by lines, most first.
    pub languages: Vec<LanguageStat>,
    /// How many files the walk kept.
    pub file_count: u64,
    /// Lines over all files.
    pub total_lines: u64,
    /// Approximate tokens over all files (see [`FileEntry::tokens`]).
    pub total_tokens: u64,
}

/// The summary of a project.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Every kept file, sorted by path.
    pub files: Vec<FileEntry>,
    /// Build and configuration files (`Cargo.toml`, `package.json`,
    /// workflows…), at most [`MAX_KEY_FILES`], shallowest first. Never lock
    /// files or secrets.
    pub key_files: Vec<KeyFile>,
    /// The top of up to [`MAX_PREVIEWS`] source files: entry points first,
    /// then the largest non-test sources.
    pub source_previews: Vec<SourcePreview>,
    /// The shape of the project.
    pub structure: Structure,
}

/// Summarises the project under `root`: every kept file (see [`walk`]),
/// key files, source previews and the structure. Secret files are listed with
/// their size only. See the `summary` module for limits and how tokens are
/// approximated.
pub fn summarize(root: &Path) -> Result<Summary, Error> {
    summary::summarize(root)
}

/// A content hash of the working tree: every file the walk keeps (tracked and
/// untracked-but-not-ignored), by path and content. `.git` and `.qide` are
/// never part of it. Returned as `b3:<hex>`.
///
/// It changes when a kept file's content changes or a kept file is added,
/// removed or renamed, and not when an ignored file changes. Symlinks count
/// by their target path, never followed.
pub fn tree_hash(root: &Path) -> Result<String, Error> {
    tree_hash::tree_hash(root)
}

/// [`tree_hash`], reusing the digests of files whose metadata (size, times,
/// inode) has not changed since the last call with the same `cache`. The
/// result is the same as [`tree_hash`]'s; only the cost differs.
pub fn tree_hash_cached(root: &Path, cache: &TreeHashCache) -> Result<String, Error> {
    tree_hash::tree_hash_cached(root, cache)
}
