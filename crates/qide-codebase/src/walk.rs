//! The ignore-aware walk every other part of the crate builds on.
//!
//! # What the walk keeps
//!
//! - Ignore files are honoured the way `git` and ripgrep do: `.gitignore`
//!   (nested, with negations), `.git/info/exclude`, the user's global git
//!   excludes, `.ignore`, and QIDE's own `.qideignore`, which takes
//!   precedence over the others.
//! - `.gitignore` counts even when the project is not a git repository
//!   (`require_git(false)`): a project that was copied, unpacked from an
//!   archive or not yet `git init`-ed still means what its `.gitignore` says,
//!   and the view must not change the moment someone runs `git init`.
//! - Ignore files above the root are not read (`parents(false)`): the project
//!   is what lies under the root, and a stray `.gitignore` in a home
//!   directory must not hide it. A project rooted in a subdirectory of a
//!   larger repository therefore does not see that repository's top-level
//!   `.gitignore`; a `.qideignore` at the root fills the gap.
//! - Hidden files are kept (`.github/workflows` matters), except `.git` and
//!   `.qide` (QIDE's own state), which are never walked, whatever their type.
//! - Build-output and vendored directories are never walked, at any depth,
//!   even when no ignore file names them: see [`SKIPPED_DIRS`].
//! - Symlinks are not followed. A symlink is kept as an entry of its own
//!   ([`EntryKind::Symlink`]), so nothing outside the root is reached and a
//!   symlink loop cannot hang the walk.
//! - Only regular files and symlinks are kept; FIFOs, sockets and devices are
//!   skipped, since reading one could block forever.
//! - Paths that are not valid UTF-8 are skipped: they cannot be named in a
//!   JSON response or asked for again.
//! - Entries that cannot be read (a directory without permission, a file that
//!   vanished mid-walk) are skipped, not fatal: the walk is best-effort below
//!   the root, like ripgrep's.

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};

use crate::Error;
use crate::tree_hash::Stamp;

/// Directory names that are never walked, at any depth: build output,
/// vendored dependencies and tool caches. They are skipped only when they are
/// directories; a file named `target` is kept.
pub const SKIPPED_DIRS: &[&str] = &[
    "target",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".tox",
];

/// Names that are never walked whatever their type: git's database (a
/// directory, or a file in worktrees and submodules) and QIDE's own state.
pub const NEVER_WALKED: &[&str] = &[".git", ".qide"];

/// The name of QIDE's own ignore file, read like `.gitignore` in every
/// directory.
pub const QIDE_IGNORE_FILE: &str = ".qideignore";

/// One file the walk keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkEntry {
    /// Path relative to the root, `/`-separated: the name the file is shown
    /// and asked for by.
    pub path: String,
    /// Where the entry is on disk, under the canonical root, so it can be
    /// opened without joining paths again.
    pub abs: PathBuf,
    /// Whether this is a file or a symlink (which is never followed).
    pub kind: EntryKind,
    /// Size in bytes as the walk saw it; for a symlink, the length of its
    /// target path.
    pub size: u64,
    /// The entry's metadata as the walk's `lstat` saw it, so a remembered
    /// scan of an unchanged file can be reused without opening it.
    pub(crate) stamp: Stamp,
}

/// What kind of entry the walk kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A symbolic link, kept as itself and never followed.
    Symlink,
}

/// Walks the project under `root` and returns the entries it keeps, sorted
/// by path. See the module documentation for what is kept.
pub fn walk(root: &Path) -> Result<Vec<WalkEntry>, Error> {
    let entries = walk_map(root, |_, _| Some(()))?;
    Ok(entries.into_iter().map(|(entry, ())| entry).collect())
}

/// The canonical form of `root`, checked to be a directory.
pub(crate) fn canonical_root(root: &Path) -> Result<PathBuf, Error> {
    match root.canonicalize() {
        Ok(canonical) if canonical.is_dir() => Ok(canonical),
        Ok(_) => Err(Error::NotADirectory(root.to_path_buf())),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(Error::NotADirectory(root.to_path_buf())),
        Err(e) => Err(Error::io(root, e)),
    }
}

/// Walks in parallel, calling `map` on every kept entry from the walker's
/// threads, and returns the entries for which `map` returned `Some`, sorted
/// by path.
///
/// `map` gets a scratch buffer owned by its thread, so per-file work (reading,
/// hashing) can reuse one allocation per thread rather than one per file.
pub(crate) fn walk_map<T, F>(root: &Path, map: F) -> Result<Vec<(WalkEntry, T)>, Error>
where
    T: Send,
    F: Fn(&WalkEntry, &mut Vec<u8>) -> Option<T> + Sync,
{
    walk_map_opening(root, false, |entry, _, scratch| map(entry, scratch))
}

/// [`walk_map`], and with `open_files` each regular file is opened for
/// reading (see [`open_for_reading`]) before `map` sees it, and its stamp
/// taken from the open file (`fstat`) rather than by path (`lstat`): a
/// caller that reads every file then resolves each path once, not twice.
/// `map` gets the open file, or `None` for symlinks, files that could not be
/// opened (it may try again, to report the error), and without
/// `open_files`.
pub(crate) fn walk_map_opening<T, F>(
    root: &Path,
    open_files: bool,
    map: F,
) -> Result<Vec<(WalkEntry, T)>, Error>
where
    T: Send,
    F: Fn(&WalkEntry, Option<File>, &mut Vec<u8>) -> Option<T> + Sync,
{
    let root = canonical_root(root)?;
    let sink = Mutex::new(Vec::new());
    let mut visitors = CollectorBuilder {
        root: &root,
        open_files,
        map: &map,
        sink: &sink,
    };
    builder(&root, |_| true)
        .build_parallel()
        .visit(&mut visitors);
    let mut entries = sink.into_inner().unwrap_or_else(PoisonError::into_inner);
    // Each thread sorted its own share as it finished (see `Collector`'s
    // `Drop`), so this stable sort only merges a few sorted runs.
    entries.sort_by(|a: &(WalkEntry, T), b| a.0.path.cmp(&b.0.path));
    Ok(entries)
}

/// The configured walker for `root` (which must be canonical). `extra` can
/// prune further; it is combined with the built-in exclusions.
pub(crate) fn builder(
    root: &Path,
    extra: impl Fn(&DirEntry) -> bool + Send + Sync + 'static,
) -> WalkBuilder {
    let mut builder = WalkBuilder::new(root);
    builder
        .hidden(false)
        .parents(false)
        .ignore(true)
        .git_ignore(true)
        .git_global(true)
        .git_exclude(true)
        // Global excludes match relative to the project, as git matches them
        // relative to the work tree, not to wherever the server was started.
        .current_dir(root)
        .require_git(false)
        .follow_links(false)
        .threads(0)
        .add_custom_ignore_filename(QIDE_IGNORE_FILE)
        .filter_entry(move |entry| is_walked(entry) && extra(entry));
    builder
}

/// The built-in exclusions, applied before ignore files are consulted.
fn is_walked(entry: &DirEntry) -> bool {
    if entry.depth() == 0 {
        return true;
    }
    let name = entry.file_name();
    if NEVER_WALKED.iter().any(|n| name == *n) {
        return false;
    }
    let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
    !(is_dir && SKIPPED_DIRS.iter().any(|n| name == *n))
}

/// The kept entry for a walker's `DirEntry`, or `None` for directories,
/// special files and names that are not UTF-8.
pub(crate) fn to_walk_entry(root: &Path, entry: &DirEntry) -> Option<WalkEntry> {
    to_walk_entry_opening(root, entry, false).map(|(entry, _)| entry)
}

/// [`to_walk_entry`], and with `open_file` a regular file is opened and its
/// stamp taken from the open file, which is returned with it.
fn to_walk_entry_opening(
    root: &Path,
    entry: &DirEntry,
    open_file: bool,
) -> Option<(WalkEntry, Option<File>)> {
    if open_file
        && entry.file_type().is_some_and(|t| t.is_file())
        && let Ok(file) = open_for_reading(entry.path())
        && let Ok(metadata) = file.metadata()
        // The walk saw a regular file; anything else now (it was replaced
        // since) is judged by `lstat` below, like any entry.
        && metadata.is_file()
    {
        let path = relative_path(root, entry.path())?;
        let walked = WalkEntry {
            path,
            abs: entry.path().to_path_buf(),
            kind: EntryKind::File,
            size: metadata.len(),
            stamp: Stamp::of(&metadata),
        };
        return Some((walked, Some(file)));
    }
    let file_type = entry.file_type()?;
    let kind = if file_type.is_file() {
        EntryKind::File
    } else if file_type.is_symlink() {
        EntryKind::Symlink
    } else {
        return None;
    };
    let path = relative_path(root, entry.path())?;
    // The walker does not follow links, so this is `lstat`: a symlink's own
    // size, never its target's.
    let metadata = entry.metadata().ok()?;
    let walked = WalkEntry {
        path,
        abs: entry.path().to_path_buf(),
        kind,
        size: metadata.len(),
        stamp: Stamp::of(&metadata),
    };
    Some((walked, None))
}

/// Opens a file to read its content: never through a symlink (the walk never
/// follows one; a file replaced by a link since the walk saw it fails with
/// `ELOOP`), never blocking (a file replaced by a FIFO must not hang the
/// walk), and without updating its access time where the system allows it
/// (`O_NOATIME`: the summary reads every file, and an access time written
/// back for each would turn a read of the tree into a write of its inodes).
/// `O_NOATIME` is refused for files the process does not own, which are
/// then opened without it.
pub(crate) fn open_for_reading(path: &Path) -> std::io::Result<File> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use nix::fcntl::OFlag;
        use std::os::unix::fs::OpenOptionsExt;
        let flags = OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK;
        let open = |flags: OFlag| {
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(flags.bits())
                .open(path)
        };
        match open(flags | OFlag::O_NOATIME) {
            Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EPERM as i32) => open(flags),
            opened => opened,
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    File::open(path)
}

/// `path` relative to `root`, `/`-separated, if it lies under `root` and is
/// valid UTF-8.
pub(crate) fn relative_path(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    // Never longer than the relative path: one allocation per entry.
    let mut out = String::with_capacity(relative.as_os_str().len());
    for component in relative.components() {
        let std::path::Component::Normal(name) = component else {
            return None;
        };
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(name.to_str()?);
    }
    (!out.is_empty()).then_some(out)
}

/// Builds one [`Collector`] per walker thread.
struct CollectorBuilder<'a, T, F> {
    root: &'a Path,
    open_files: bool,
    map: &'a F,
    sink: &'a Mutex<Vec<(WalkEntry, T)>>,
}

impl<'a, T, F> ParallelVisitorBuilder<'a> for CollectorBuilder<'a, T, F>
where
    T: Send + 'a,
    F: Fn(&WalkEntry, Option<File>, &mut Vec<u8>) -> Option<T> + Sync,
{
    fn build(&mut self) -> Box<dyn ParallelVisitor + 'a> {
        Box::new(Collector {
            root: self.root,
            open_files: self.open_files,
            map: self.map,
            sink: self.sink,
            found: Vec::new(),
            scratch: Vec::new(),
        })
    }
}

/// Collects one thread's results without locking, and hands them over to
/// the shared sink once, when the thread's walk ends and it is dropped.
struct Collector<'a, T, F> {
    root: &'a Path,
    open_files: bool,
    map: &'a F,
    sink: &'a Mutex<Vec<(WalkEntry, T)>>,
    found: Vec<(WalkEntry, T)>,
    scratch: Vec<u8>,
}

impl<T, F> ParallelVisitor for Collector<'_, T, F>
where
    T: Send,
    F: Fn(&WalkEntry, Option<File>, &mut Vec<u8>) -> Option<T> + Sync,
{
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        // Errors (unreadable directories, malformed ignore files) are partial
        // failures: skip the entry, keep walking.
        if let Ok(entry) = entry
            && let Some((entry, file)) = to_walk_entry_opening(self.root, &entry, self.open_files)
            && let Some(value) = (self.map)(&entry, file, &mut self.scratch)
        {
            self.found.push((entry, value));
        }
        WalkState::Continue
    }
}

impl<T, F> Drop for Collector<'_, T, F> {
    fn drop(&mut self) {
        // Sorted here, on the walker's threads at once, rather than all
        // after the walk on one.
        self.found.sort_unstable_by(|a, b| a.0.path.cmp(&b.0.path));
        let mut sink = self.sink.lock().unwrap_or_else(PoisonError::into_inner);
        sink.append(&mut self.found);
    }
}

/// Whether the walk keeps the file at `rel` (normalised, `/`-separated,
/// under the canonical `root`), applying exactly the rules of a full walk but
/// visiting only the directories on the way to it.
pub(crate) fn is_kept(root: &Path, rel: &str) -> bool {
    let target = root.join(rel);
    let on_the_way = {
        let target = target.clone();
        move |entry: &DirEntry| target.starts_with(entry.path())
    };
    let mut walker = builder(root, on_the_way);
    walker.threads(1);
    walker.build().filter_map(Result::ok).any(|entry| {
        entry.depth() > 0 && entry.path() == target && to_walk_entry(root, &entry).is_some()
    })
}
