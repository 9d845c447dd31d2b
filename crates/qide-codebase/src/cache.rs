//! The project summary, remembered while the tree stands.
//!
//! [`SummaryCache::summary`] computes the summary and the tree hash in one
//! walk that reads each file once. What happens on the next call depends on
//! whether the project is being watched:
//!
//! - **Watched** (the usual case): after the first summary, the cache starts
//!   a file watcher ([`notify`], inotify on Linux) on the root in the
//!   background. Every event under the root bumps a generation counter,
//!   except events in parts of the tree the walk never keeps (`.qide/`,
//!   `.git/`, build-output directories such as `target/`, see
//!   [`SKIPPED_DIRS`]) and plain opens and reads (the summary's own reads
//!   must not make it stale). A summary is answered again without walking
//!   while the generation it was checked under stands.
//!
//!   Events arrive a moment after the change, so a call made just after a
//!   write could read a generation that does not count it yet. Each call
//!   therefore first syncs with the watcher the way watchman does: it
//!   creates a cookie file under `.qide/` and waits for the watcher to
//!   report it. The kernel queues events in order, so once the cookie is
//!   seen every change made before the call has been counted. A cookie
//!   that cannot be written or is not seen within [`SummaryCache::COOKIE_WAIT`] leaves
//!   the call to the tree-hash check below.
//! - **Not watched** (the watcher could not start: inotify limits, a
//!   filesystem without events; or it reported an error or an overflow,
//!   after which it cannot be trusted, since a lost event may be a lost
//!   directory that was never watched): every call hashes the tree (one walk
//!   and one `lstat` per file, digests remembered by [`TreeHashCache`]) and
//!   answers from the cache when the hash has not moved. Never a stale
//!   answer, only a slower one.
//!
//! A summary is trusted by generation only when the check behind it (a
//! summary or a tree hash) started after the watcher was ready, so a change
//! made while the watches were being added is never missed. The watcher adds
//! a watch to a new directory just after reporting its creation, so a file
//! written into a brand-new directory in that instant would raise no event:
//! a check that started within [`SummaryCache::SETTLE`] of a directory
//! appearing is therefore not trusted by generation, and the next call
//! checks the tree hash again.
//!
//! A walk that must happen reads only what changed: the scan of every
//! settled file (its line count, digest and the rest, by its stamp) is kept
//! in memory and in `.qide/codebase-scans-v1`, so the first summary of a
//! fresh server over a tree an earlier server saw reads only the files
//! whose stamp moved since (see [`crate::summary`]).
//!
//! The same cache holds the repo map's per-file tags ([`MapCache`]), so the
//! server keeps one object per project, and one rendering of the summary
//! (the caller's bytes, say its JSON answer) under a key the caller chooses,
//! so an unchanged tree is not serialised again
//! ([`SummaryCache::rendering`]).
//!
//! Two things that decide what the walk keeps are invisible to the watch's
//! generation: a repository's `.git/info/exclude` (under `.git/`, whose
//! events are otherwise skipped, so a change to it counts as a change), and
//! git's global settings outside the tree (the global excludes file and the
//! configuration naming it): each call stamps those
//! ([`git_settings_stamp`]) and checks the tree hash when the stamp moved.
//!
//! The watcher also counts changes the summary ignores (ignored files, build
//! output; not `.git/` or `.qide/`), for callers whose answer depends on
//! more than the walked tree, such as `git status`: see
//! [`SummaryCache::changes_anywhere`].

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use crate::git_settings::git_settings_stamp;
use crate::summary::ScanRecords;
use crate::walk::{NEVER_WALKED, SKIPPED_DIRS, canonical_root};
use crate::{Error, MapCache, MapFocus, RepoMap, Summary, TreeHashCache, tree_hash_cached};

/// The directory under the root where sync cookies are written: never
/// walked, and watched with the rest of the tree.
const COOKIE_DIR: &str = ".qide";

/// Numbers watches, so two watchers of one tree (a server and a CLI, or two
/// caches in one process) never take each other's cookies for their own.
static WATCHES: AtomicU64 = AtomicU64::new(0);

/// A [`Summary`] and the tree hash it was computed under.
#[derive(Debug, Clone)]
pub struct CachedSummary {
    /// The tree hash (`b3:<hex>`) at the time of the summary.
    pub tree_hash: String,
    /// The summary, shared: callers of an unchanged tree get the same one.
    pub summary: Arc<Summary>,
}

/// The last summary of a project, reused while its tree stands.
#[derive(Debug, Default)]
pub struct SummaryCache {
    /// File digests, so hashing an unchanged tree reads no file.
    hashes: TreeHashCache,
    /// The last summary, the root it is of, and the watch generation it was
    /// last checked under.
    last: Mutex<Option<Last>>,
    /// The watcher of the last root, once asked for.
    watch: Mutex<Option<Watch>>,
    /// How many times the tree was walked, for tests and diagnostics.
    walks: AtomicU64,
    /// How many files summaries read (rather than took from `records`), for
    /// tests and diagnostics.
    files_read: AtomicU64,
    /// The scans of the last summary's settled files and the root they are
    /// of; loaded from the root's `.qide/` when a root is first summarised.
    records: Mutex<Option<(PathBuf, Arc<ScanRecords>)>>,
    /// Per-file tags of the repo map, so a repeat map re-parses only
    /// changed files.
    map: MapCache,
    /// Never start a watcher (see [`SummaryCache::unwatched`]).
    unwatched: bool,
    /// The caller's last rendering of a summary (see
    /// [`SummaryCache::rendering`]).
    rendered: Mutex<Option<Rendered>>,
}

/// A rendering of the summary filed under a tree hash and the caller's key.
#[derive(Debug)]
struct Rendered {
    tree_hash: String,
    key: String,
    bytes: Arc<[u8]>,
}

/// The generation of `ticket` if the watch still vouches for it once the
/// check is done: a directory that appeared during the check, or a watcher
/// that broke, must not let its result be trusted by generation.
fn vouched(status: Option<&WatchStatus>, ticket: Option<Ticket>) -> Option<u64> {
    let ticket = ticket?;
    status?.vouches(ticket).then_some(ticket.generation)
}

/// The remembered summary.
#[derive(Debug)]
struct Last {
    /// The canonical root.
    root: PathBuf,
    cached: CachedSummary,
    /// The watch generation of the last check that found this summary
    /// current, if that check can be trusted by generation.
    generation: Option<u64>,
    /// [`git_settings_stamp`] when that check started: the global excludes
    /// file decides what the walk keeps, and the watch cannot see it.
    settings: String,
}

/// A watcher and what it has seen.
#[derive(Debug)]
struct Watch {
    /// The canonical root being watched.
    root: PathBuf,
    status: Arc<WatchStatus>,
    /// The watcher, once started; dropping it stops watching. Kept apart from
    /// `status`, which the watcher's handler holds, so nothing is cyclic.
    _watcher: Arc<Mutex<Option<RecommendedWatcher>>>,
}

/// State shared with the watcher's event handler.
#[derive(Debug, Default)]
struct WatchStatus {
    /// Bumped on every relevant event.
    generation: AtomicU64,
    /// Bumped on every change anywhere under the root except `.git/` and
    /// `.qide/`, ignored and skipped parts included.
    changes_anywhere: AtomicU64,
    /// When a directory (or anything that may be one) last appeared
    /// anywhere outside `.git/` and `.qide/`.
    last_new_anywhere: Mutex<Option<Instant>>,
    /// Every directory under the root is watched.
    ready: AtomicBool,
    /// The watcher could not start, or reported an error or overflow: its
    /// silence no longer means the tree stands.
    broken: AtomicBool,
    /// When a directory (or anything that may be one) last appeared.
    last_new_entry: Mutex<Option<Instant>>,
    /// The file name prefix of this watch's cookies.
    cookie_prefix: String,
    /// The number of the last cookie written.
    cookies_written: AtomicU64,
    /// The highest cookie number the watcher has reported.
    cookies_seen: Mutex<u64>,
    /// Signalled when a cookie is reported or the watch breaks.
    cookie_arrived: Condvar,
}

/// A generation as read before a check, when the watch can vouch for it.
#[derive(Debug, Clone, Copy)]
struct Ticket {
    generation: u64,
    started: Instant,
}

impl SummaryCache {
    /// How long after a directory appears a check is not trusted by
    /// generation (see the module documentation).
    pub const SETTLE: Duration = Duration::from_secs(1);

    /// How long a call waits for its sync cookie (see the module
    /// documentation) before falling back to a tree-hash check.
    pub const COOKIE_WAIT: Duration = Duration::from_secs(2);

    /// An empty cache.
    pub fn new() -> SummaryCache {
        SummaryCache::default()
    }

    /// The summary of the project under `root`: the remembered one while
    /// the tree has not changed since it was computed, a fresh one otherwise.
    pub fn summary(&self, root: &Path) -> Result<CachedSummary, Error> {
        self.summary_and_changes(root).map(|(cached, _)| cached)
    }

    /// [`summary`](Self::summary) and then
    /// [`changes_anywhere`](Self::changes_anywhere), after one sync with
    /// the watcher instead of two: the server keys its rendering of the
    /// summary by both.
    pub fn summary_and_changes(&self, root: &Path) -> Result<(CachedSummary, Option<u64>), Error> {
        let root = canonical_root(root)?;
        let status = self.status_of(&root);
        let synced = status.as_deref().is_some_and(|status| status.sync(&root));
        let cached = self.summary_synced(&root, status.as_deref(), synced)?;
        let changes = status
            .filter(|_| synced)
            .and_then(|status| status.changes_if_settled());
        Ok((cached, changes))
    }

    /// The summary of `root` (canonical), with `synced` telling whether the
    /// watcher of `status` has just reported every earlier change.
    fn summary_synced(
        &self,
        root: &Path,
        status: Option<&WatchStatus>,
        synced: bool,
    ) -> Result<CachedSummary, Error> {
        let root = root.to_path_buf();
        let ticket = status.filter(|_| synced).and_then(WatchStatus::ticket);
        // Taken before the check, so a change during it moves the stamp past
        // the one remembered.
        let settings = git_settings_stamp(None);
        {
            // Held through the check, so concurrent callers wait for one
            // check rather than each walking.
            let mut last = self.lock_last();
            if let Some(last) = last.as_mut().filter(|l| l.root == root) {
                if let (Some(ticket), Some(generation)) = (ticket, last.generation)
                    && ticket.generation == generation
                    && settings == last.settings
                {
                    return Ok(last.cached.clone());
                }
                // Not vouched for by the watch: no watch, not ready yet, or
                // something changed, perhaps only an ignored file or a
                // global excludes file the watch cannot see. The hash reads
                // only files whose metadata moved, with the ignore rules of
                // now.
                let tree_hash = self.tree_hash(&root)?;
                if tree_hash == last.cached.tree_hash {
                    last.generation = vouched(status, ticket);
                    last.settings = settings;
                    return Ok(last.cached.clone());
                }
            }
        }
        self.walks.fetch_add(1, Ordering::Relaxed);
        let known = self.records_of(&root);
        let hashed = crate::summary::summarize_hashed(&root, &self.hashes, &known)?;
        self.files_read
            .fetch_add(hashed.files_read, Ordering::Relaxed);
        let records = Arc::new(hashed.records);
        // The same settled files under the same stamps need no new file.
        if !records.same_files(&known) {
            records.save(&root);
        }
        *self.records.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((root.clone(), records));
        let fresh = CachedSummary {
            tree_hash: hashed.tree_hash,
            summary: Arc::new(hashed.summary),
        };
        *self.lock_last() = Some(Last {
            root: root.clone(),
            cached: fresh.clone(),
            generation: vouched(status, ticket),
            settings,
        });
        if status.is_none() && !self.unwatched {
            self.start_watch(&root);
        }
        Ok(fresh)
    }

    /// A cache that never starts a watcher: every call checks the tree
    /// hash, as when a watcher cannot start.
    pub fn unwatched() -> SummaryCache {
        SummaryCache {
            unwatched: true,
            ..SummaryCache::default()
        }
    }

    /// How many times [`SummaryCache::summary`] and
    /// [`SummaryCache::tree_hash`] walked the tree: a repeat summary that
    /// the watch vouched for adds nothing.
    pub fn walks(&self) -> u64 {
        self.walks.load(Ordering::Relaxed)
    }

    /// How many files summaries have read so far, as opposed to taking
    /// their scan from memory or from `.qide/`: a fresh cache over a settled
    /// tree that an earlier cache summarised reads none.
    pub fn files_read(&self) -> u64 {
        self.files_read.load(Ordering::Relaxed)
    }

    /// The scans remembered for `root`: this cache's own, else those an
    /// earlier process saved under the root's `.qide/`.
    fn records_of(&self, root: &Path) -> Arc<ScanRecords> {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        match &*records {
            Some((of, records)) if of == root => records.clone(),
            _ => {
                let loaded = Arc::new(ScanRecords::load(root));
                *records = Some((root.to_path_buf(), loaded.clone()));
                loaded
            }
        }
    }

    /// Whether the watcher of `root` is running and trusted: false before
    /// it is ready, when it could not start, and after it reported an error
    /// or an overflow.
    pub fn is_watching(&self, root: &Path) -> bool {
        let Ok(root) = canonical_root(root) else {
            return false;
        };
        self.status_of(&root)
            .is_some_and(|s| s.ready.load(Ordering::Acquire) && !s.broken.load(Ordering::Acquire))
    }

    /// The tree hash of the project under `root`, reusing the digests of
    /// unchanged files.
    pub fn tree_hash(&self, root: &Path) -> Result<String, Error> {
        self.walks.fetch_add(1, Ordering::Relaxed);
        tree_hash_cached(root, &self.hashes)
    }

    /// The repo map of the project under `root` (see
    /// [`MapCache::repo_map`]), reusing the tags of unchanged files.
    pub fn repo_map(
        &self,
        root: &Path,
        budget_tokens: u64,
        focus: &MapFocus,
        count: impl Fn(&str) -> u64,
    ) -> Result<RepoMap, Error> {
        self.map.repo_map(root, budget_tokens, focus, count)
    }

    /// The repo map within about `time_limit` (see
    /// [`MapCache::repo_map_within`]): partial when parsing every changed
    /// file would take longer, with the rest parsed in the background.
    pub fn repo_map_within(
        &self,
        root: &Path,
        budget_tokens: u64,
        focus: &MapFocus,
        count: impl Fn(&str) -> u64,
        time_limit: Duration,
    ) -> Result<RepoMap, Error> {
        self.map
            .repo_map_within(root, budget_tokens, focus, count, time_limit)
    }

    /// A number that moves whenever anything under `root` changes, ignored
    /// files and build output included, `.git/` and `.qide/` excluded; read
    /// after syncing with the watcher, so every change made before this call
    /// is counted. `None` when the watcher cannot vouch for it (not started
    /// or not ready, broken, the sync failed, or a directory appeared within
    /// [`SummaryCache::SETTLE`]): the caller must then recompute whatever it
    /// would have keyed by it.
    ///
    /// Read it *before* computing what it keys (a change during the work
    /// then moves it past the remembered value).
    pub fn changes_anywhere(&self, root: &Path) -> Option<u64> {
        let root = canonical_root(root).ok()?;
        let status = self.status_of(&root)?;
        if !status.sync(&root) {
            return None;
        }
        status.changes_if_settled()
    }

    /// The rendering remembered for the summary with `tree_hash` under
    /// `key`, if it is the last one remembered.
    pub fn rendering(&self, tree_hash: &str, key: &str) -> Option<Arc<[u8]>> {
        let rendered = self.rendered.lock().unwrap_or_else(PoisonError::into_inner);
        rendered
            .as_ref()
            .filter(|r| r.tree_hash == tree_hash && r.key == key)
            .map(|r| r.bytes.clone())
    }

    /// Remembers a rendering of the summary with `tree_hash` under `key`,
    /// replacing the last one: the key must name everything besides the
    /// summary that the bytes depend on.
    pub fn remember_rendering(&self, tree_hash: &str, key: &str, bytes: Arc<[u8]>) {
        *self.rendered.lock().unwrap_or_else(PoisonError::into_inner) = Some(Rendered {
            tree_hash: tree_hash.to_owned(),
            key: key.to_owned(),
            bytes,
        });
    }

    /// The watch status of `root`, if a watcher was started for it.
    fn status_of(&self, root: &Path) -> Option<Arc<WatchStatus>> {
        let watch = self.watch.lock().unwrap_or_else(PoisonError::into_inner);
        watch
            .as_ref()
            .filter(|w| w.root == root)
            .map(|w| w.status.clone())
    }

    /// Starts watching `root` on a thread of its own (adding a watch to
    /// every directory takes about as long as a walk, and the caller should
    /// not wait for it), replacing the watch of any other root.
    fn start_watch(&self, root: &Path) {
        let status = Arc::new(WatchStatus {
            cookie_prefix: format!(
                "watch-cookie-{}-{}-",
                std::process::id(),
                WATCHES.fetch_add(1, Ordering::Relaxed)
            ),
            ..WatchStatus::default()
        });
        let slot = Arc::new(Mutex::new(None));
        *self.watch.lock().unwrap_or_else(PoisonError::into_inner) = Some(Watch {
            root: root.to_path_buf(),
            status: status.clone(),
            _watcher: slot.clone(),
        });
        let root = root.to_path_buf();
        let spawned = std::thread::Builder::new()
            .name("qide-watch".to_owned())
            .spawn(move || {
                let handler_status = Arc::downgrade(&status);
                let handler_root = root.clone();
                let handler = move |event: notify::Result<notify::Event>| {
                    if let Some(status) = handler_status.upgrade() {
                        status.on_event(&handler_root, event);
                    }
                };
                // The cookie directory must exist before the watch is added,
                // or its first cookies would go unseen. A root that is not
                // writable simply gets no cookies (see `sync`).
                let _ = std::fs::create_dir_all(root.join(COOKIE_DIR));
                let config = notify::Config::default().with_follow_symlinks(false);
                let started = RecommendedWatcher::new(handler, config).and_then(|mut watcher| {
                    watcher.watch(&root, RecursiveMode::Recursive)?;
                    Ok(watcher)
                });
                match started {
                    Ok(watcher) => {
                        *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(watcher);
                        status.ready.store(true, Ordering::Release);
                    }
                    Err(_) => status.break_watch(),
                }
            });
        if spawned.is_err() {
            // No thread, no watch: stay on the hash check.
            if let Some(watch) = &*self.watch.lock().unwrap_or_else(PoisonError::into_inner) {
                watch.status.break_watch();
            }
        }
    }

    fn lock_last(&self) -> MutexGuard<'_, Option<Last>> {
        self.last.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl WatchStatus {
    /// The count of changes anywhere, once synced, if the watch vouches for
    /// it (see [`SummaryCache::changes_anywhere`]).
    fn changes_if_settled(&self) -> Option<u64> {
        let changes = self.changes_anywhere.load(Ordering::Acquire);
        let last_new = *self
            .last_new_anywhere
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let settled = last_new.is_none_or(|at| at.elapsed() >= SummaryCache::SETTLE);
        (settled && self.ticket().is_some()).then_some(changes)
    }

    /// Waits until the watcher has reported every change made before this
    /// call, by writing a cookie file and waiting for its event. False when
    /// the watch is not ready or broken, the cookie cannot be written, or
    /// it is not reported within [`SummaryCache::COOKIE_WAIT`]: the caller must not trust
    /// the generation then.
    fn sync(&self, root: &Path) -> bool {
        if !self.ready.load(Ordering::Acquire) || self.broken.load(Ordering::Acquire) {
            return false;
        }
        let number = self.cookies_written.fetch_add(1, Ordering::AcqRel) + 1;
        let cookie = root
            .join(COOKIE_DIR)
            .join(format!("{}{number}", self.cookie_prefix));
        if std::fs::write(&cookie, b"").is_err() {
            return false;
        }
        let deadline = Instant::now() + SummaryCache::COOKIE_WAIT;
        let mut seen = self
            .cookies_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let arrived = loop {
            if *seen >= number {
                break true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.broken.load(Ordering::Acquire) {
                break false;
            }
            seen = self
                .cookie_arrived
                .wait_timeout(seen, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        };
        drop(seen);
        let _ = std::fs::remove_file(&cookie);
        arrived
    }

    /// The number of this watch's cookie at `path`, if it is one.
    fn cookie_number(&self, root: &Path, path: &Path) -> Option<u64> {
        if self.cookie_prefix.is_empty() || path.parent()? != root.join(COOKIE_DIR) {
            return None;
        }
        path.file_name()?
            .to_str()?
            .strip_prefix(&self.cookie_prefix)?
            .parse()
            .ok()
    }

    /// Marks the watch as no longer trusted and wakes any caller waiting
    /// for a cookie.
    fn break_watch(&self) {
        self.broken.store(true, Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel);
        let _seen = self
            .cookies_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.cookie_arrived.notify_all();
    }

    /// The current generation, if the watch can vouch for a check starting
    /// now.
    fn ticket(&self) -> Option<Ticket> {
        let ticket = Ticket {
            generation: self.generation.load(Ordering::Acquire),
            started: Instant::now(),
        };
        self.vouches(ticket).then_some(ticket)
    }

    /// Whether a check that started with `ticket` can be trusted for as
    /// long as the generation stands.
    fn vouches(&self, ticket: Ticket) -> bool {
        if !self.ready.load(Ordering::Acquire) || self.broken.load(Ordering::Acquire) {
            return false;
        }
        let last_new = *self
            .last_new_entry
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        last_new.is_none_or(|at| ticket.started >= at + SummaryCache::SETTLE)
    }

    /// Handles one report of the watcher.
    fn on_event(&self, root: &Path, event: notify::Result<notify::Event>) {
        let event = match event {
            Ok(event) if !event.need_rescan() => event,
            // An error or an overflow: events may have been lost, and with
            // them directories that were never watched.
            _ => {
                self.break_watch();
                return;
            }
        };
        if let Some(number) = event
            .paths
            .iter()
            .find_map(|path| self.cookie_number(root, path))
        {
            let mut seen = self
                .cookies_seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            *seen = (*seen).max(number);
            self.cookie_arrived.notify_all();
            return;
        }
        let relevant = match event.kind {
            // Opening or reading changes nothing (and the summary itself
            // opens every file); a close after writing is a change.
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            EventKind::Access(_) => false,
            _ => true,
        };
        if !relevant {
            return;
        }
        let may_be_new_directory = matches!(
            event.kind,
            EventKind::Create(_) | EventKind::Modify(ModifyKind::Name(_)) | EventKind::Any
        );
        if !event.paths.iter().all(|p| is_qide_or_git(root, p)) {
            if may_be_new_directory {
                *self
                    .last_new_anywhere
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
            }
            self.changes_anywhere.fetch_add(1, Ordering::AcqRel);
        }
        // `.git/info/exclude` is git's bookkeeping, but the walk reads it.
        if event
            .paths
            .iter()
            .all(|p| is_never_walked(root, p) && !is_git_exclude(root, p))
        {
            return;
        }
        if may_be_new_directory {
            *self
                .last_new_entry
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

/// Whether `path` lies inside a part of the tree the walk never keeps:
/// under `.git` or `.qide`, or under a build-output directory. The entry
/// named so itself still counts (a *file* named `target` is kept).
fn is_never_walked(root: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(root) else {
        // Outside the root (a watcher quirk): not ours to judge.
        return false;
    };
    let parts: Vec<_> = relative.components().collect();
    let Some((_, dirs)) = parts.split_last() else {
        return false;
    };
    dirs.iter().any(|part| match part {
        Component::Normal(name) => {
            NEVER_WALKED.iter().any(|n| name == n) || SKIPPED_DIRS.iter().any(|n| name == n)
        }
        _ => false,
    }) || parts.iter().any(
        |part| matches!(part, Component::Normal(name) if NEVER_WALKED.iter().any(|n| name == n)),
    )
}

/// Whether `path` is a repository's `.git/info/exclude` (the project's own
/// or a nested repository's): ignore rules the walk reads from inside `.git`.
fn is_git_exclude(root: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(root) else {
        return false;
    };
    let mut parts = relative.components().rev();
    [parts.next(), parts.next(), parts.next()]
        == [
            Some(Component::Normal("exclude".as_ref())),
            Some(Component::Normal("info".as_ref())),
            Some(Component::Normal(".git".as_ref())),
        ]
}

/// Whether `path` is `.git` or `.qide` or lies under one of them, at any
/// depth: git's own bookkeeping and QIDE's (its logs, its sync cookies).
fn is_qide_or_git(root: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(root) else {
        return false;
    };
    relative.components().any(
        |part| matches!(part, Component::Normal(name) if NEVER_WALKED.iter().any(|n| name == *n)),
    )
}

#[cfg(test)]
mod tests {
    use notify::event::{AccessKind, CreateKind, DataChange, Event, EventKind, ModifyKind};

    use super::*;
    use crate::TreeHashCache;

    fn bumps(kind: EventKind, rel: &str) -> bool {
        let root = Path::new("/p");
        let status = WatchStatus::default();
        status.on_event(root, Ok(Event::new(kind).add_path(root.join(rel))));
        status.generation.load(Ordering::Acquire) == 1
    }

    fn bumps_anywhere(kind: EventKind, rel: &str) -> bool {
        let root = Path::new("/p");
        let status = WatchStatus::default();
        status.on_event(root, Ok(Event::new(kind).add_path(root.join(rel))));
        status.changes_anywhere.load(Ordering::Acquire) == 1
    }

    #[test]
    fn only_events_in_walked_parts_of_the_tree_count() {
        let modify = EventKind::Modify(ModifyKind::Data(DataChange::Content));
        assert!(bumps(modify, "src/main.rs"));
        assert!(bumps(modify, "target"), "a file named target is kept");
        assert!(bumps(EventKind::Create(CreateKind::Folder), "src/new"));
        assert!(!bumps(modify, ".qide/logs/1.log"));
        assert!(bumps_anywhere(modify, "target/debug/app"));
        assert!(bumps_anywhere(modify, "web/node_modules/x/index.js"));
        assert!(!bumps_anywhere(modify, ".git/index"));
        assert!(!bumps_anywhere(modify, ".qide/logs/1.log"));
        assert!(!bumps(modify, ".qide"));
        assert!(!bumps(modify, ".git/index"));
        // The walk reads a repository's own excludes, nested ones too.
        assert!(bumps(modify, ".git/info/exclude"));
        assert!(bumps(modify, "vendor/lib/.git/info/exclude"));
        assert!(!bumps(modify, ".git/info/attributes"));
        assert!(!bumps(modify, "target/debug/app"));
        assert!(!bumps(modify, "web/node_modules/x/index.js"));
        // The summary's own reads must not make it stale; a write must.
        let open = EventKind::Access(AccessKind::Open(notify::event::AccessMode::Any));
        assert!(!bumps(open, "src/main.rs"));
        let closed = EventKind::Access(AccessKind::Close(AccessMode::Write));
        assert!(bumps(closed, "src/main.rs"));
    }

    #[test]
    fn only_this_watch_s_cookies_are_taken_as_its_own() {
        let root = Path::new("/p");
        let status = WatchStatus {
            cookie_prefix: "watch-cookie-7-0-".to_owned(),
            ..WatchStatus::default()
        };
        let number = |rel: &str| status.cookie_number(root, &root.join(rel));
        assert_eq!(number(".qide/watch-cookie-7-0-12"), Some(12));
        assert_eq!(number(".qide/watch-cookie-7-1-12"), None);
        assert_eq!(number(".qide/deeper/watch-cookie-7-0-12"), None);
        assert_eq!(number("watch-cookie-7-0-12"), None);
        assert_eq!(number(".qide/watch-cookie-7-0-x"), None);

        let create = EventKind::Create(CreateKind::File);
        let event = Event::new(create).add_path(root.join(".qide/watch-cookie-7-0-3"));
        status.on_event(root, Ok(event));
        assert_eq!(*status.cookies_seen.lock().unwrap(), 3);
        assert_eq!(status.generation.load(Ordering::Acquire), 0);
    }

    #[test]
    fn an_error_or_overflow_breaks_the_watch() {
        let root = Path::new("/p");
        let status = WatchStatus::default();
        status.ready.store(true, Ordering::Release);
        assert!(status.ticket().is_some());
        status.on_event(root, Err(notify::Error::generic("queue overflow")));
        assert!(status.ticket().is_none());

        let status = WatchStatus::default();
        status.ready.store(true, Ordering::Release);
        let rescan = Event::new(EventKind::Other).set_flag(notify::event::Flag::Rescan);
        status.on_event(root, Ok(rescan));
        assert!(status.ticket().is_none());
    }

    /// A project of a few files, old enough to be past the racy window.
    fn settled_project() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (rel, content) in [
            ("src/main.rs", "fn main() {}\n"),
            ("src/lib.rs", "pub fn a() {}\npub fn b() {}\n"),
            ("README.md", "hello\n"),
            ("package.json", "{\"dependencies\": {\"react\": \"1\"}}\n"),
            (".env", "TOKEN=x\n"),
        ] {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        std::thread::sleep(TreeHashCache::RACY_WINDOW + Duration::from_millis(100));
        dir
    }

    #[test]
    fn a_fresh_cache_reads_only_what_moved_since_an_earlier_one_saved_its_scans() {
        let dir = settled_project();
        let root = dir.path();
        let first = SummaryCache::unwatched();
        let original = first.summary(root).unwrap();
        assert_eq!(first.files_read(), 5);
        assert!(root.join(ScanRecords::FILE).is_file());

        // A fresh server over the same settled tree: nothing is read, and
        // the answer is the same, down to the tree hash.
        let second = SummaryCache::unwatched();
        let again = second.summary(root).unwrap();
        assert_eq!(second.files_read(), 0);
        assert_eq!(again.tree_hash, original.tree_hash);
        assert_eq!(*again.summary, *original.summary);
        assert_eq!(*again.summary, crate::summarize(root).unwrap());

        // A file rewritten with as many bytes: its stamp moved (and it is
        // within the racy window), so it alone is read.
        std::fs::write(
            root.join("src/lib.rs"),
            "pub fn c() {}\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n",
        )
        .unwrap();
        let third = SummaryCache::unwatched();
        let changed = third.summary(root).unwrap();
        assert_eq!(third.files_read(), 1);
        assert_ne!(changed.tree_hash, original.tree_hash);
        let lib = changed
            .summary
            .files
            .iter()
            .find(|f| f.path == "src/lib.rs");
        assert_eq!(lib.map(|f| f.lines), Some(15));
        assert_eq!(*changed.summary, crate::summarize(root).unwrap());

        // The racy file was not remembered: the next fresh cache reads it
        // again rather than trust a stamp a second write could share.
        let fourth = SummaryCache::unwatched();
        fourth.summary(root).unwrap();
        assert_eq!(fourth.files_read(), 1);
    }

    #[test]
    fn a_first_ever_summary_reads_files_at_and_past_the_read_limit_as_the_tree_hash_does() {
        use crate::summary::MAX_READ_BYTES;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let limit = MAX_READ_BYTES as usize;
        // Lines ending exactly at the limit, one byte past it, and nothing.
        let at_limit = "x\n".repeat(limit / 2);
        let past_limit = format!("{at_limit}y");
        for (rel, content) in [
            ("at_limit.txt", at_limit.as_str()),
            ("past_limit.txt", past_limit.as_str()),
            ("empty.txt", ""),
            ("src/lib.rs", "pub fn a() {}\n"),
        ] {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink("src/lib.rs", root.join("link.rs")).unwrap();

        let first = SummaryCache::unwatched().summary(root).unwrap();
        // The independent path: each file opened by path and streamed.
        assert_eq!(first.tree_hash, crate::tree_hash(root).unwrap());
        assert_eq!(*first.summary, crate::summarize(root).unwrap());
        let lines = |rel: &str| {
            let file = first.summary.files.iter().find(|f| f.path == rel);
            file.map(|f| (f.size, f.lines))
        };
        assert_eq!(
            lines("at_limit.txt"),
            Some((limit as u64, limit as u64 / 2))
        );
        assert_eq!(lines("past_limit.txt"), Some((limit as u64 + 1, 0)));
        assert_eq!(lines("empty.txt"), Some((0, 0)));

        // The last byte past the limit moves the hash: the whole file is
        // hashed, not the part a scan would read.
        std::fs::write(root.join("past_limit.txt"), format!("{at_limit}z")).unwrap();
        let changed = SummaryCache::unwatched().summary(root).unwrap();
        assert_ne!(changed.tree_hash, first.tree_hash);
        assert_eq!(changed.tree_hash, crate::tree_hash(root).unwrap());
    }

    #[test]
    fn damaged_or_foreign_scan_records_only_cost_a_full_read() {
        let dir = settled_project();
        let root = dir.path();
        let expected = crate::summarize(root).unwrap();
        SummaryCache::unwatched().summary(root).unwrap();
        let file = root.join(ScanRecords::FILE);
        let mut bytes = std::fs::read(&file).unwrap();
        for damaged in [
            bytes[..bytes.len() - 3].to_vec(),
            b"not a scan file".to_vec(),
        ] {
            std::fs::write(&file, damaged).unwrap();
            let cache = SummaryCache::unwatched();
            assert_eq!(*cache.summary(root).unwrap().summary, expected);
            assert_eq!(cache.files_read(), 5);
        }
        bytes.push(0);
        std::fs::write(&file, bytes).unwrap();
        let cache = SummaryCache::unwatched();
        assert_eq!(*cache.summary(root).unwrap().summary, expected);
        assert_eq!(cache.files_read(), 5);
    }

    #[test]
    fn a_new_directory_is_not_vouched_for_until_it_settles() {
        let root = Path::new("/p");
        let status = WatchStatus::default();
        status.ready.store(true, Ordering::Release);
        let before = status.ticket().expect("a ready watch vouches");
        status.on_event(
            root,
            Ok(Event::new(EventKind::Create(CreateKind::Folder)).add_path(root.join("src/new"))),
        );
        // A check that started before (or just after) the directory
        // appeared is not trusted by generation.
        assert!(!status.vouches(before));
        assert!(status.ticket().is_none());
        let later = Ticket {
            generation: 1,
            started: Instant::now() + SummaryCache::SETTLE,
        };
        assert!(status.vouches(later));
    }
}
