//! The project as a coding model should see it.
//!
//! `qide-codebase` walks a project with the `ignore` crate (honouring
//! `.gitignore`, `.ignore` and `.qideignore`), summarises it, and hashes the
//! working tree so two builds of the same code can be recognised. It knows
//! nothing of HTTP or storage.

use std::path::{Path, PathBuf};

/// What can go wrong reading a project.
#[derive(Debug)]
pub enum Error {
    /// The project root does not exist or is not a directory.
    NotADirectory(PathBuf),
    /// An I/O error on a path that had to be read.
    Io { path: PathBuf, source: std::io::Error },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NotADirectory(p) => write!(f, "{} is not a directory", p.display()),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for Error {}

/// One file of the project.
#[derive(Debug, Clone, PartialEq)]
pub struct FileEntry {
    /// Path relative to the root, `/`-separated.
    pub path: String,
    pub size: u64,
    pub lines: u64,
    pub language: Option<&'static str>,
    /// Approximate token count of the file's text.
    pub tokens: u64,
}

/// A configuration file whose contents a model should see whole.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyFile {
    pub path: String,
    pub content: String,
    pub truncated: bool,
}

/// The first lines of a source file.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcePreview {
    pub path: String,
    pub lines: Vec<String>,
    pub truncated: bool,
}

/// Files and lines of one language.
#[derive(Debug, Clone, PartialEq)]
pub struct LanguageStat {
    pub name: &'static str,
    pub files: u64,
    pub lines: u64,
}

/// The shape of the project at a glance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Structure {
    pub has_backend: bool,
    pub has_frontend: bool,
    pub has_tests: bool,
    pub languages: Vec<LanguageStat>,
    pub file_count: u64,
    pub total_lines: u64,
    pub total_tokens: u64,
}

/// The summary of a project.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub files: Vec<FileEntry>,
    pub key_files: Vec<KeyFile>,
    pub source_previews: Vec<SourcePreview>,
    pub structure: Structure,
}

/// Summarises the project under `root`.
pub fn summarize(root: &Path) -> Result<Summary, Error> {
    if !root.is_dir() {
        return Err(Error::NotADirectory(root.to_path_buf()));
    }
    Ok(Summary::default())
}

/// A content hash of the working tree: every file the walk keeps (tracked and
/// untracked-but-not-ignored), by path and content. `.git` and `.qide` are
/// never part of it. Returned as `b3:<hex>`.
pub fn tree_hash(root: &Path) -> Result<String, Error> {
    if !root.is_dir() {
        return Err(Error::NotADirectory(root.to_path_buf()));
    }
    Ok(format!("b3:{}", blake3::hash(b"").to_hex()))
}
