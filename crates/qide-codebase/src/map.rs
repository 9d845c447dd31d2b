//! The repo map: the project's most important definitions, ranked with
//! personalised PageRank over a graph of files and fitted to a token budget,
//! as aider's repo map does.
//!
//! # How the map is made
//!
//! 1. **Tags.** Every source file the walk keeps (not secret, not a lock
//!    file, at most [`MAX_READ_BYTES`], not binary) is read for its
//!    definitions and references: with tree-sitter where QIDE has a grammar
//!    (Rust, Python, Go, JavaScript, TypeScript and TSX, Java, C, C++), with
//!    the regex [`outline`](crate::outline) and the file's words elsewhere.
//!    See [`file_tags`](crate::file_tags).
//! 2. **Graph.** Files are nodes. A file that refers to a name another file
//!    defines gets an edge to it, weighted `sqrt(references)` times a factor
//!    for the name: ×10 when the caller named it (a symbol in a failing
//!    build's diagnostics), ×10 for a long, specific name (8 characters or
//!    more with `_` or mixed case), ×0.1 for a `_private` name, ×0.1 when
//!    more than five files define it, and ×50 when the referring file is a
//!    failing one. Names shorter than [`MIN_REFERENCE_NAME`] or defined in
//!    more than [`MAX_DEFINERS`] files make no edges: they say nothing about
//!    which file is meant; nor does a name the referring file defines
//!    itself, since it most likely means its own.
//! 3. **Rank.** PageRank with damping [`DAMPING`], its teleport vector
//!    personalised toward the caller's focus (the failing files and the
//!    files defining the named symbols, with a tenth of it spread over all
//!    files). Without a focus, half of it goes to the project's surface
//!    (entry points such as `lib.rs` or `index.ts`, and `__init__.py`), so
//!    what they export ranks high, and half to every file alike, tests
//!    taking a tenth of a share. Each
//!    file's rank then flows along its edges to the definitions those edges
//!    name; a failing file's own definitions also share its rank, and so
//!    does a definition the caller named, which then counts ten times. Every definition also
//!    keeps a thousandth of its file's rank, so unreferenced ones sort by
//!    their file's importance. Definitions in tests (test files, Rust's
//!    `mod tests`) count a tenth, unless the test is failing: tests refer to everything and explain little.
//!    `impl` blocks and modules are not ranked themselves; they appear as
//!    the containers of ranked members.
//! 4. **Budget.** A binary search finds the largest number of top-ranked
//!    definitions whose rendering fits `budget_tokens`, counted by the
//!    caller's function over the exact text sent. A member brings its
//!    container (`impl`, class) along as context. Files are shown failing
//!    files first, then by their best definition.
//!
//! # Incremental
//!
//! A [`MapCache`] remembers each file's tags by its metadata (size, times,
//! inode) and content digest: a repeat call re-reads only files whose
//! metadata moved and re-parses only those whose content changed. It also
//! remembers the last ranking with the tree state it was made of (every
//! mapped file's path and content digest) and its focus, so a repeat map of
//! an unchanged tree does not build the graph or run PageRank again; only
//! the fitting to the budget is redone.
//!
//! # Within a deadline
//!
//! A cold map of a large tree (tens of thousands of source files) takes a
//! minute or more of parsing. [`MapCache::repo_map_within`] answers within a
//! time limit instead ([`MAP_DEADLINE`] on the server): the files whose
//! tags are not cached are parsed on all cores in order of likely relevance,
//! worked out without parsing (the focus files; their neighbours by
//! directory and by name; entry points; files named like what those refer
//! to; then project sources before tests and examples, shallow before deep,
//! small before large), until only the time the ranking is expected to take
//! is left. The map is then ranked and fitted from the files parsed, marked
//! [`RepoMap::partial`] with a [`RepoMap::note`], and the files not reached
//! are parsed by a background thread into the same cache, until done or
//! until the next call, which takes over with its own order.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use crate::classify::{entry_point_rank, file_name, is_lock_file, is_secret, is_test};
use crate::outline::{Definition, can_outline};
use crate::pack::BYTES_PER_TOKEN_BOUND;
use crate::summary::{MAX_READ_BYTES, is_binary, utf8_prefix};
use crate::tags::{FileTags, TagMethod, file_tags, has_grammar};
use crate::tree_hash::Stamp;
use crate::walk::{self, EntryKind};
use crate::{Error, language};

/// Hash tables keyed by names and paths: foldhash is several times faster
/// than the standard SipHash on short keys, and seeded per table.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
/// See [`FastMap`].
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

/// Names shorter than this make no edges: too many false matches.
pub const MIN_REFERENCE_NAME: usize = 3;
/// A name defined in more files than this makes no edges (`new`, `fmt`,
/// `run` in a large tree): a reference to it cannot tell which is meant,
/// and its edges would cost more than they say.
pub const MAX_DEFINERS: usize = 64;
/// PageRank's damping factor: the chance of following an edge rather than
/// jumping back to the focus.
pub const DAMPING: f64 = 0.85;
/// PageRank stops after this many iterations if it has not converged.
const MAX_ITERATIONS: usize = 100;
/// PageRank has converged when ranks move less than this in sum.
const TOLERANCE: f64 = 1e-10;
/// With a focus, the share of PageRank's random jump that still goes to
/// every file alike.
const UNFOCUSED_SHARE: f64 = 0.1;
/// What a definition in a test file counts for, unless the test is failing.
const TEST_SHARE: f64 = 0.1;
/// The share of its file's rank every definition keeps, so unreferenced
/// definitions are ordered by their file's importance.
const BASE_SHARE: f64 = 1e-3;

/// Why a file is where it is in the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MapReason {
    /// Named first by the caller (a failing build's diagnostics).
    Failing,
    /// Defines a name that one of the failing files refers to.
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

/// What the map is centred on: a failing build's files and the symbols its
/// diagnostics name. Empty for a map of the whole project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapFocus {
    /// Paths relative to the root, as the walk names them, most telling
    /// first.
    pub files: Vec<String>,
    /// Names mentioned by the diagnostics (see [`symbols_in_message`]).
    pub symbols: Vec<String>,
}

impl MapFocus {
    /// A focus on files only.
    pub fn files(files: &[String]) -> MapFocus {
        MapFocus {
            files: files.to_vec(),
            symbols: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.files.is_empty() && self.symbols.is_empty()
    }
}

/// One file of the map.
#[derive(Debug, Clone, PartialEq)]
pub struct MapFile {
    /// Path relative to the root, `/`-separated.
    pub path: String,
    /// The language.
    pub language: &'static str,
    /// How its definitions were found.
    pub method: TagMethod,
    /// Why it is where it is.
    pub reason: MapReason,
    /// References from other files to the names it defines.
    pub score: u64,
    /// Its PageRank: the files' ranks sum to 1.
    pub rank: f64,
    /// The definitions shown, in line order.
    pub definitions: Vec<Definition>,
    /// Some of its definitions were left out to fit the budget.
    pub truncated: bool,
    /// Tokens of the rendered text, as the caller's function counted it.
    pub tokens: u64,
    /// The rendered text: the path, then `line: signature` per definition,
    /// members indented under their container.
    pub text: String,
}

/// The map, within its budget.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepoMap {
    /// The files, failing files first, then by their best definition.
    pub files: Vec<MapFile>,
    /// Files with definitions none of which fit the budget, in rank order.
    pub left_out: Vec<String>,
    /// The sum of the files' tokens: never more than the budget.
    pub tokens: u64,
    /// Files read and parsed on this call.
    pub parsed: u64,
    /// Files whose tags were reused from the cache.
    pub reused: u64,
    /// Source files in the project that the map reads (the walk's kept
    /// files in a language with a grammar or an outline, at most
    /// [`MAX_READ_BYTES`], not secret or lock files).
    pub files_total: u64,
    /// Of those, the files whose tags the map was made from: read on this
    /// call or earlier.
    pub files_parsed: u64,
    /// The deadline came before every file was parsed: the map is made
    /// from `files_parsed` of `files_total` files, and parsing goes on in
    /// the background (see [`MapCache::repo_map_within`]).
    pub partial: bool,
    /// The time limit the map was made within, if it had one.
    pub time_limit: Option<Duration>,
}

impl RepoMap {
    /// For a partial map, a sentence saying what was left out and why, for
    /// the reader of the map; `None` for a complete one.
    pub fn note(&self) -> Option<String> {
        if !self.partial {
            return None;
        }
        let limit = self.time_limit.map_or(String::new(), |l| {
            format!(" within the {:.1} s time limit", l.as_secs_f64())
        });
        Some(format!(
            "partial map: {} of {} source files were parsed{limit} (failing files and their \
             neighbours first, then entry points, the files they name, and shallow, small \
             files), so definitions in the other {} are missing and the ranking may change. \
             They are being parsed in the background: a repeat call is more complete.",
            self.files_parsed,
            self.files_total,
            self.files_total - self.files_parsed,
        ))
    }

    /// How the shown definitions were found: `tree_sitter`,
    /// `regex_outline`, or `tree_sitter+regex_outline` when both were used.
    pub fn method(&self) -> &'static str {
        let tree_sitter = self.files.iter().any(|f| f.method == TagMethod::TreeSitter);
        let outline = self.files.iter().any(|f| f.method == TagMethod::Outline);
        match (tree_sitter, outline) {
            (true, true) => "tree_sitter+regex_outline",
            (false, true) => "regex_outline",
            _ => "tree_sitter",
        }
    }
}

/// How long a map is given before it answers with the files it has parsed
/// (see [`MapCache::repo_map_within`]): well under the server's 30 s request
/// timeout, so a cold map of a large tree (tens of thousands of source
/// files, minutes of parsing) answers with the best map it can make rather
/// than timing out, and leaves a third of the timeout for the rest of the
/// request (the tree hash, serialising the answer).
pub const MAP_DEADLINE: Duration = Duration::from_secs(10);

/// The share of a map's time limit kept for ranking and fitting what was
/// parsed, at least: parsing stops when only this much is left. The share
/// grows when the last ranking took longer (see [`MapCache::reserve`]).
const RANK_RESERVE_SHARE: f64 = 0.2;
/// The most of a map's time limit kept for ranking: the rest is parsing.
const RANK_RESERVE_MAX_SHARE: f64 = 0.7;

/// How fast the slowest files parse, in bytes per second (large generated
/// tables: 200–500 KB/s here, where ordinary sources parse at several
/// MB/s). Near its deadline a worker takes only files that this rate says
/// will be done in time, so one large file does not hold the answer back.
const SLOW_PARSE_BYTES_PER_SEC: f64 = 250_000.0;

/// Directory names whose files are parsed after the project's own sources:
/// they show how the code is used, not what it is.
const PERIPHERAL_DIRS: &[&str] = &["tests", "test", "examples", "benches", "fuzz"];

/// Per-file tags remembered between calls, so a repeat map re-parses only
/// what changed. Entries for files no longer in the tree are dropped on
/// every call.
#[derive(Debug, Default)]
pub struct MapCache {
    /// The tags, shared with the background parsing a partial map leaves
    /// behind.
    shared: Arc<SharedTags>,
    /// The last ranking, the tree state and the focus it was made for.
    last_ranking: Mutex<Option<RememberedRanking>>,
    /// How many times a ranking was computed, for tests and diagnostics.
    rankings: AtomicU64,
    /// Seconds per mapped file the last ranking and fitting took, to keep
    /// time for them when a deadline cuts parsing short.
    rank_cost: Mutex<Option<f64>>,
}

/// The tag cache and the background parsing that fills it.
#[derive(Debug, Default)]
struct SharedTags {
    files: Mutex<HashMap<PathBuf, CachedTags>>,
    /// Raised to stop the background parsing left by the last partial map:
    /// the next call (which orders the files for its own focus) or dropping
    /// the cache.
    background: Mutex<Option<Arc<AtomicBool>>>,
    /// Files parsed by background work so far, for tests and diagnostics.
    background_parsed: AtomicU64,
}

impl SharedTags {
    /// Stops the background parsing, if any; a file being parsed is
    /// finished and kept.
    fn stop_background(&self) {
        if let Some(stop) = self
            .background
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            stop.store(true, Ordering::Release);
        }
    }

    fn remember(&self, abs: &Path, cached: &CachedTags) {
        self.files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(abs.to_path_buf(), cached.clone());
    }
}

impl Drop for MapCache {
    fn drop(&mut self) {
        self.shared.stop_background();
    }
}

/// A ranking and what it was computed from.
#[derive(Debug)]
struct RememberedRanking {
    /// Digest over every mapped file's path and content digest, in order.
    tree_state: blake3::Hash,
    focus: MapFocus,
    ranking: Arc<Ranking>,
}

#[derive(Debug, Clone)]
struct CachedTags {
    stamp: Stamp,
    /// The stamp was old enough, when recorded, that a later write in the
    /// same timestamp tick cannot have gone unseen (git's "racy clean"):
    /// only then is an equal stamp trusted without reading the file.
    settled: bool,
    digest: blake3::Hash,
    /// `None` for content that yields no tags (binary).
    tags: Option<Arc<FileTags>>,
}

/// A source file the walk found whose tags are not known for its stamp.
#[derive(Debug, Clone)]
struct Pending {
    abs: PathBuf,
    path: String,
    language: &'static str,
    stamp: Stamp,
    /// Its size as the walk saw it.
    size: u64,
    /// What the cache had for the file, so unchanged content (a stamp moved
    /// by a `touch`) is not parsed again.
    old: Option<CachedTags>,
}

/// What the walk learns about one source file.
enum Found {
    /// The cache's tags, for an unchanged settled stamp.
    Ready(CachedTags),
    Pending(Pending),
}

/// One file's place in the map being made: its tags once known.
struct Slot {
    path: String,
    /// `None` while the file is not read.
    cached: Option<CachedTags>,
    /// Read and parsed on this call.
    parsed: bool,
}

impl MapCache {
    /// An empty cache.
    pub fn new() -> MapCache {
        MapCache::default()
    }

    /// The ranked map of the project under `root` within `budget_tokens`,
    /// centred on `focus`, with every source file parsed however long that
    /// takes. `count` counts the tokens of a rendered file. See the module
    /// documentation.
    pub fn repo_map(
        &self,
        root: &Path,
        budget_tokens: u64,
        focus: &MapFocus,
        count: impl Fn(&str) -> u64,
    ) -> Result<RepoMap, Error> {
        self.map_until(root, budget_tokens, focus, count, None)
    }

    /// [`repo_map`](Self::repo_map), answering within about `time_limit`
    /// (see [`MAP_DEADLINE`]) with the files parsed by then.
    ///
    /// Files whose tags the cache does not hold are parsed on all cores in
    /// order of likely relevance, none of which needs a parse to tell: the
    /// focus files, then their neighbours (same directory, or named like a
    /// name they refer to or a symbol of the focus) and the project's entry
    /// points, then files named like a name those refer to, then the rest,
    /// shallow before deep, the project's own sources before tests and
    /// examples, small before large. When the limit comes, the map is
    /// ranked and fitted from what was parsed, with [`RepoMap::partial`]
    /// set, and the remaining files go on being parsed in the background,
    /// into this cache, so the next call is more complete and faster; that
    /// call (or dropping the cache) stops the background work. Every call
    /// parses at least one file per core per stage, so repeated calls finish
    /// the map whatever the limit.
    pub fn repo_map_within(
        &self,
        root: &Path,
        budget_tokens: u64,
        focus: &MapFocus,
        count: impl Fn(&str) -> u64,
        time_limit: Duration,
    ) -> Result<RepoMap, Error> {
        let started = Instant::now();
        let deadline = started.checked_add(time_limit);
        self.map_until(
            root,
            budget_tokens,
            focus,
            count,
            deadline.map(|d| (started, d)),
        )
    }

    /// How many files background parsing has added to this cache.
    pub fn background_parsed(&self) -> u64 {
        self.shared.background_parsed.load(Ordering::Relaxed)
    }

    /// Makes the map; `limits` is the call's start and deadline, if any.
    fn map_until(
        &self,
        root: &Path,
        budget_tokens: u64,
        focus: &MapFocus,
        count: impl Fn(&str) -> u64,
        limits: Option<(Instant, Instant)>,
    ) -> Result<RepoMap, Error> {
        self.shared.stop_background();
        let remembered = self
            .shared
            .files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let found = walk::walk_map(root, |entry, _| {
            if entry.kind != EntryKind::File
                || entry.size > MAX_READ_BYTES
                || is_secret(&entry.path)
                || is_lock_file(&entry.path)
            {
                return None;
            }
            let (language, _) = language::detect(file_name(&entry.path))?;
            if !has_grammar(language, &entry.path) && !can_outline(language) {
                return None;
            }
            let old = remembered.get(&entry.abs);
            if let Some(old) = old
                && old.settled
                && old.stamp == entry.stamp
            {
                return Some(Found::Ready(old.clone()));
            }
            Some(Found::Pending(Pending {
                abs: entry.abs.clone(),
                path: entry.path.clone(),
                language,
                stamp: entry.stamp,
                size: entry.size,
                old: old.cloned(),
            }))
        })?;
        drop(remembered);
        {
            // Files gone from the tree leave the cache.
            let present: FastSet<&Path> = found.iter().map(|(e, _)| e.abs.as_path()).collect();
            let mut files = self
                .shared
                .files
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            files.retain(|abs, _| present.contains(abs.as_path()));
        }

        let mut slots: Vec<Slot> = Vec::with_capacity(found.len());
        let mut pending: Vec<(usize, Pending)> = Vec::new();
        for (i, (entry, found)) in found.into_iter().enumerate() {
            let cached = match found {
                Found::Ready(cached) => Some(cached),
                Found::Pending(p) => {
                    pending.push((i, p));
                    None
                }
            };
            slots.push(Slot {
                path: entry.path,
                cached,
                parsed: false,
            });
        }

        let parse_until = limits.map(|(started, deadline)| {
            deadline
                .checked_sub(self.reserve(slots.len(), deadline - started))
                .unwrap_or(started)
        });
        let left = self.parse_pending(&mut slots, pending, focus, parse_until);
        let files_pending = left.len() as u64;
        if !left.is_empty() {
            self.parse_in_background(left);
        }

        let ranking_started = Instant::now();
        let parsed = slots.iter().filter(|s| s.parsed).count() as u64;
        let known = slots.iter().filter(|s| s.cached.is_some()).count() as u64;
        let files: Vec<(&str, &FileTags)> = slots
            .iter()
            .filter_map(|s| Some((s.path.as_str(), s.cached.as_ref()?.tags.as_deref()?)))
            .collect();
        let rankings_before = self.rankings();
        let ranking = self.ranking(&slots, &files, focus);
        let mut map = fit(&files, &ranking, budget_tokens, &count);
        // A remembered ranking costs nothing, and says nothing about what
        // the next one will cost.
        if self.rankings() != rankings_before {
            let per_file = ranking_started.elapsed().as_secs_f64() / (files.len().max(1) as f64);
            *self
                .rank_cost
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(per_file);
        }
        map.parsed = parsed;
        map.reused = known - parsed;
        map.files_total = slots.len() as u64;
        map.files_parsed = known;
        map.partial = files_pending > 0;
        map.time_limit = limits.map(|(started, deadline)| deadline - started);
        Ok(map)
    }

    /// How much of a call's `time_limit` to keep for ranking and fitting a
    /// map of `files` files: the cost per file of the last ranking, twice
    /// over, and at least [`RANK_RESERVE_SHARE`] of the limit; never more
    /// than [`RANK_RESERVE_MAX_SHARE`] of it, so some parsing always
    /// happens.
    fn reserve(&self, files: usize, time_limit: Duration) -> Duration {
        let last = *self
            .rank_cost
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let estimate = last.map_or(0.0, |per_file| 2.0 * per_file * files as f64);
        let secs = estimate
            .max(RANK_RESERVE_SHARE * time_limit.as_secs_f64())
            .min(RANK_RESERVE_MAX_SHARE * time_limit.as_secs_f64());
        Duration::from_secs_f64(secs)
    }

    /// Reads and parses the `pending` files of `slots` in the order
    /// [`repo_map_within`](Self::repo_map_within) describes, on all cores,
    /// until `deadline`. Returns the files not reached, in that order.
    fn parse_pending(
        &self,
        slots: &mut [Slot],
        pending: Vec<(usize, Pending)>,
        focus: &MapFocus,
        deadline: Option<Instant>,
    ) -> Vec<Pending> {
        let never = AtomicBool::new(false);
        let parse = |slots: &mut [Slot], stage: Vec<(usize, Pending)>| -> Vec<(usize, Pending)> {
            let (done, left) = parse_in_order(&self.shared, stage, deadline, &never);
            for (i, cached, parsed) in done {
                slots[i].cached = Some(cached);
                slots[i].parsed = parsed;
            }
            left
        };

        // Stage 1: the focus files, in the caller's order.
        let (mut first, rest): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|(_, p)| focus.files.contains(&p.path));
        first.sort_by_key(|(_, p)| focus.files.iter().position(|f| *f == p.path));
        let mut left = parse(slots, first);

        // Stage 2: the focus files' neighbours and the project's surface.
        let focus_slots: Vec<&Slot> = slots
            .iter()
            .filter(|s| focus.files.contains(&s.path))
            .collect();
        let mut names: FastSet<String> = focus.symbols.iter().cloned().collect();
        names.extend(referred_names(&focus_slots));
        let focus_dirs: HashSet<&str> = focus.files.iter().map(|f| parent_dir(f)).collect();
        let (second, rest): (Vec<_>, Vec<_>) = rest.into_iter().partition(|(_, p)| {
            focus_dirs.contains(parent_dir(&p.path))
                || names.contains(module_name(&p.path))
                || is_surface(&p.path)
        });
        let mut second = second;
        second.sort_by_cached_key(|(_, p)| importance(p));
        left.extend(parse(slots, second));

        // Stage 3: files named like what the focus and the surface refer to
        // first, then the rest.
        let known: Vec<&Slot> = slots
            .iter()
            .filter(|s| focus.files.contains(&s.path) || is_surface(&s.path))
            .collect();
        names.extend(referred_names(&known));
        let mut third = rest;
        third.sort_by_cached_key(|(_, p)| (!names.contains(module_name(&p.path)), importance(p)));
        left.extend(parse(slots, third));
        left.into_iter().map(|(_, p)| p).collect()
    }

    /// Goes on parsing `left` (in its order) on a thread of its own, into
    /// the cache, until done or stopped (see [`SharedTags::background`]).
    fn parse_in_background(&self, left: Vec<Pending>) {
        let stop = Arc::new(AtomicBool::new(false));
        *self
            .shared
            .background
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(stop.clone());
        let shared = self.shared.clone();
        // A plain thread, not the caller's pool: nothing waits for it, and
        // it ends with the process.
        let _ = std::thread::Builder::new()
            .name("qide-map-parse".to_owned())
            .spawn(move || {
                // Nothing waits for this work: builds and requests come first.
                yield_to_foreground();
                let stage: Vec<(usize, Pending)> = left.into_iter().enumerate().collect();
                let (done, _) = parse_in_order(&shared, stage, None, &stop);
                shared
                    .background_parsed
                    .fetch_add(done.len() as u64, Ordering::Relaxed);
            });
    }
}

/// The nice value of background parsing: the lowest priority, so that on
/// a busy machine it takes only what builds and requests leave.
const BACKGROUND_NICE: i32 = 19;

/// Gives the calling thread the lowest scheduling priority
/// ([`BACKGROUND_NICE`]); threads it spawns afterwards inherit it. Linux
/// keeps priorities per thread, so the rest of the process is untouched.
/// Elsewhere (where `setpriority` would change the whole process) nothing
/// changes.
fn yield_to_foreground() {
    // Lowering one's own priority is always allowed; were it refused, the
    // work would only run at the priority it had.
    #[cfg(target_os = "linux")]
    let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), BACKGROUND_NICE);
}

/// Reads and tags the files of `stage` in order, each core taking the next
/// one, remembering each in `shared` as it is done, until `deadline` (each
/// core parses at least one file first; near the deadline, only files small
/// enough to be done in time are taken) or `stop`. Returns the files done,
/// with their slot, tags and whether they were parsed (not reused by
/// digest), and the files not reached, in order.
#[allow(clippy::type_complexity)]
fn parse_in_order(
    shared: &SharedTags,
    stage: Vec<(usize, Pending)>,
    deadline: Option<Instant>,
    stop: &AtomicBool,
) -> (Vec<(usize, CachedTags, bool)>, Vec<(usize, Pending)>) {
    if stage.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(stage.len());
    let taken: Vec<AtomicBool> = stage.iter().map(|_| AtomicBool::new(false)).collect();
    let done: Mutex<Vec<(usize, CachedTags, bool)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut scratch = Vec::new();
                let mut mine = 0usize;
                loop {
                    let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
                    if stop.load(Ordering::Acquire) || (mine > 0 && left == Some(Duration::ZERO)) {
                        break;
                    }
                    let k = next.fetch_add(1, Ordering::AcqRel);
                    let Some((slot, pending)) = stage.get(k) else {
                        break;
                    };
                    // A file that may not be done in time is left for later.
                    let worst =
                        Duration::from_secs_f64(pending.size as f64 / SLOW_PARSE_BYTES_PER_SEC);
                    if mine > 0 && left.is_some_and(|left| worst > left) {
                        continue;
                    }
                    taken[k].store(true, Ordering::Release);
                    if let Some((cached, parsed)) = read_tags(pending, &mut scratch) {
                        // Only a parse counts as progress: a file read again
                        // to find its content unchanged (a recent stamp) is
                        // cheap, and counting it could leave every call
                        // re-reading the same first files.
                        mine += usize::from(parsed);
                        shared.remember(&pending.abs, &cached);
                        done.lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push((*slot, cached, parsed));
                    }
                }
            });
        }
    });
    let left = stage
        .into_iter()
        .zip(&taken)
        .filter(|(_, taken)| !taken.load(Ordering::Acquire))
        .map(|(item, _)| item)
        .collect();
    (
        done.into_inner().unwrap_or_else(PoisonError::into_inner),
        left,
    )
}

/// Reads one file and finds its tags, reusing the old ones when its content
/// is unchanged. Also says whether it was parsed. `None` when it cannot be
/// read.
fn read_tags(pending: &Pending, scratch: &mut Vec<u8>) -> Option<(CachedTags, bool)> {
    // Taken before the read: a stamp this close to it may share its
    // timestamp tick with a write the read missed.
    let now = SystemTime::now();
    scratch.clear();
    File::open(&pending.abs)
        .and_then(|f| f.take(MAX_READ_BYTES).read_to_end(scratch))
        .ok()?;
    let digest = blake3::hash(scratch);
    // Re-stat: a write since the walk leaves the stamp unsettled.
    let unchanged =
        std::fs::symlink_metadata(&pending.abs).is_ok_and(|m| Stamp::of(&m) == pending.stamp);
    let settled = unchanged && !pending.stamp.is_racy(now);
    if let Some(old) = &pending.old
        && old.digest == digest
    {
        let cached = CachedTags {
            stamp: pending.stamp,
            settled,
            digest,
            tags: old.tags.clone(),
        };
        return Some((cached, false));
    }
    let tags = if is_binary(scratch) {
        None
    } else {
        let text = utf8_prefix(scratch.clone());
        file_tags(pending.language, &pending.path, &text).map(Arc::new)
    };
    let cached = CachedTags {
        stamp: pending.stamp,
        settled,
        digest,
        tags,
    };
    Some((cached, true))
}

/// The names the files of `slots` refer to or declare as modules (Rust's
/// `mod parser;`): files named so are likely what they use.
fn referred_names(slots: &[&Slot]) -> Vec<String> {
    let mut names = Vec::new();
    for slot in slots {
        let Some(tags) = slot.cached.as_ref().and_then(|c| c.tags.as_deref()) else {
            continue;
        };
        names.extend(tags.references.iter().map(|(name, _)| name.clone()));
        names.extend(
            tags.definitions
                .iter()
                .filter(|d| d.kind == "mod")
                .map(|d| d.name.clone()),
        );
    }
    names
}

/// The directory of a relative path, `""` at the root.
fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The name other code uses for the module in `path`: the file's stem, or
/// its directory's name for a file that stands for its directory
/// (`mod.rs`, `__init__.py`, `index.ts`…).
fn module_name(path: &str) -> &str {
    let name = file_name(path);
    let stem = name.split_once('.').map_or(name, |(stem, _)| stem);
    match stem {
        "mod" | "__init__" | "index" | "lib" | "main" => file_name(parent_dir(path)),
        _ => stem,
    }
}

/// How early to parse a file when nothing else tells: the project's own
/// sources before tests and examples, shallow before deep, small before
/// large (a large file costs more, and is more often generated).
fn importance(pending: &Pending) -> (bool, usize, u64) {
    let peripheral = is_test(&pending.path)
        || pending
            .path
            .split('/')
            .any(|part| PERIPHERAL_DIRS.contains(&part));
    let depth = pending.path.matches('/').count();
    (peripheral, depth, pending.size)
}

impl MapCache {
    /// How many times this cache ranked the project: a repeat map of an
    /// unchanged tree with the same focus adds nothing.
    pub fn rankings(&self) -> u64 {
        self.rankings.load(Ordering::Relaxed)
    }

    /// The ranking of `files` (the tagged ones among `slots`) for `focus`:
    /// the remembered one when the tree state and the focus are those it was
    /// made for, a fresh one (then remembered) otherwise.
    fn ranking(
        &self,
        slots: &[Slot],
        files: &[(&str, &FileTags)],
        focus: &MapFocus,
    ) -> Arc<Ranking> {
        // The tags, and so the ranking, follow from each file's path and
        // content (binary content has no tags, and that is in the digest);
        // a file not yet read is marked as such.
        let mut state = blake3::Hasher::new();
        for slot in slots {
            state.update(&(slot.path.len() as u64).to_le_bytes());
            state.update(slot.path.as_bytes());
            match &slot.cached {
                Some(cached) => state.update(cached.digest.as_bytes()),
                None => state.update(b"unread"),
            };
        }
        let tree_state = state.finalize();
        let mut last = self
            .last_ranking
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(last) = &*last
            && last.tree_state == tree_state
            && last.focus == *focus
        {
            return last.ranking.clone();
        }
        self.rankings.fetch_add(1, Ordering::Relaxed);
        let ranking = Arc::new(rank(files, focus));
        *last = Some(RememberedRanking {
            tree_state,
            focus: focus.clone(),
            ranking: ranking.clone(),
        });
        ranking
    }
}

/// The ranked map of the project under `root` within `budget_tokens`,
/// centred on the files in `first` (paths relative to the root, most telling
/// first), with no tags remembered from earlier calls. See
/// [`MapCache::repo_map`], which also takes symbols to centre on.
pub fn repo_map(
    root: &Path,
    budget_tokens: u64,
    first: &[String],
    count: impl Fn(&str) -> u64,
) -> Result<RepoMap, Error> {
    MapCache::new().repo_map(root, budget_tokens, &MapFocus::files(first), count)
}

/// The names a diagnostic message quotes: identifiers inside backticks,
/// single or double quotes (`` cannot find value `parse_config` ``,
/// `name 'load' is not defined`), split at `::`, `.` and other punctuation,
/// at least [`MIN_REFERENCE_NAME`] characters, in order, without repeats.
pub fn symbols_in_message(message: &str) -> Vec<String> {
    let mut symbols: Vec<String> = Vec::new();
    for quote in ['`', '\'', '"'] {
        let mut parts = message.split(quote);
        // Text outside quotes alternates with text inside them.
        parts.next();
        for (i, inside) in parts.enumerate() {
            if i % 2 == 1 || inside.len() > 200 {
                continue;
            }
            for word in inside.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                if word.len() >= MIN_REFERENCE_NAME
                    && !word.starts_with(|c: char| c.is_ascii_digit())
                    && !symbols.iter().any(|s| s == word)
                {
                    symbols.push(word.to_owned());
                }
            }
        }
    }
    symbols
}

/// The ranking of every definition.
#[derive(Debug)]
struct Ranking {
    /// Each file's PageRank.
    file_rank: Vec<f64>,
    /// (file, definition index) pairs, best first.
    order: Vec<(usize, usize)>,
    /// References from other files to each file's names.
    inbound: Vec<u64>,
    /// The file defines a name a failing file refers to.
    referenced_by_focus: Vec<bool>,
    /// The file's place in the caller's focus, if it is a failing file.
    focus_place: Vec<Option<usize>>,
}

/// Whether a definition is ranked and shown on its own. An `impl` or a
/// `mod` is shown only as the container of members that made it: a module's
/// name says where code is, not what it does, and often collides with a
/// function's (`mod memchr` beside `fn memchr`).
fn is_ranked(definition: &Definition) -> bool {
    !matches!(definition.kind.as_str(), "impl" | "mod")
}

/// Whether definition `j` sits inside a module named `tests` or `test`
/// (Rust's `#[cfg(test)] mod tests`).
fn in_test_module(tags: &FileTags, j: usize) -> bool {
    let mut at = tags.parents[j];
    while let Some(p) = at {
        let parent = &tags.definitions[p];
        if parent.kind == "mod" && matches!(parent.name.as_str(), "tests" | "test") {
            return true;
        }
        at = tags.parents[p];
    }
    false
}

/// Where a project shows its public face: entry points (`lib.rs`,
/// `main.go`, `index.ts`…) and Python's `__init__.py`. Without a focus the
/// random jump favours them, so what they export ranks high.
fn is_surface(path: &str) -> bool {
    entry_point_rank(path).is_some() || file_name(path) == "__init__.py"
}

/// How much a reference to `name` says about which file matters.
fn name_weight(name: &str, definers: usize, mentioned: bool) -> f64 {
    let mut weight = 1.0;
    if mentioned {
        weight *= 10.0;
    }
    let specific = name.len() >= 8
        && (name.contains('_')
            || (name.chars().any(char::is_uppercase) && name.chars().any(char::is_lowercase)));
    if specific {
        weight *= 10.0;
    }
    if name.starts_with('_') {
        weight *= 0.1;
    }
    if definers > 5 {
        weight *= 0.1;
    }
    weight
}

fn rank(files: &[(&str, &FileTags)], focus: &MapFocus) -> Ranking {
    let n = files.len();
    let focus_place: Vec<Option<usize>> = files
        .iter()
        .map(|(path, _)| focus.files.iter().position(|f| f == path))
        .collect();
    let mentioned: HashSet<&str> = focus.symbols.iter().map(String::as_str).collect();

    // Names, numbered, and the files defining each.
    let mut name_ids: FastMap<&str, u32> = FastMap::default();
    let mut definers: Vec<Vec<u32>> = Vec::new();
    for (i, (_, tags)) in files.iter().enumerate() {
        for definition in tags.definitions.iter().filter(|d| is_ranked(d)) {
            let next = name_ids.len() as u32;
            let id = *name_ids.entry(definition.name.as_str()).or_insert(next);
            if id == next {
                definers.push(Vec::new());
            }
            let list = &mut definers[id as usize];
            if list.last() != Some(&(i as u32)) {
                list.push(i as u32);
            }
        }
    }

    // Each (name, defining file) pair is numbered, so the rank flowing to
    // it is a vector, not a map: `slot_start[id]` plus the file's place
    // among the name's definers.
    let mut slot_start: Vec<u32> = Vec::with_capacity(definers.len() + 1);
    let mut slots = 0u32;
    for list in &definers {
        slot_start.push(slots);
        slots += list.len() as u32;
    }

    // Edges: referring file → defining file, per name.
    struct Edge {
        from: u32,
        to: u32,
        slot: u32,
        weight: f64,
    }
    let mut edges: Vec<Edge> = Vec::new();
    let mut inbound = vec![0u64; n];
    let mut referenced_by_focus = vec![false; n];
    for (from, (_, tags)) in files.iter().enumerate() {
        for (name, refs) in &tags.references {
            if name.len() < MIN_REFERENCE_NAME {
                continue;
            }
            let Some(&id) = name_ids.get(name.as_str()) else {
                continue;
            };
            let to_files = &definers[id as usize];
            // A file that defines the name itself most likely means its own.
            if to_files.len() > MAX_DEFINERS || to_files.contains(&(from as u32)) {
                continue;
            }
            let mut weight = name_weight(name, to_files.len(), mentioned.contains(name.as_str()))
                * f64::from(*refs).sqrt();
            if focus_place[from].is_some() {
                weight *= 50.0;
            }
            for (k, &to) in to_files.iter().enumerate() {
                inbound[to as usize] += u64::from(*refs);
                if focus_place[from].is_some() {
                    referenced_by_focus[to as usize] = true;
                }
                edges.push(Edge {
                    from: from as u32,
                    to,
                    slot: slot_start[id as usize] + k as u32,
                    weight,
                });
            }
        }
    }

    // Teleport toward the failing files and the files defining named
    // symbols; uniform without a focus.
    let mut personal = vec![0.0; n];
    for (i, place) in focus_place.iter().enumerate() {
        if place.is_some() {
            personal[i] = 1.0;
        }
    }
    for symbol in &focus.symbols {
        if let Some(&id) = name_ids.get(symbol.as_str()) {
            for &i in &definers[id as usize] {
                personal[i as usize] += 0.5;
            }
        }
    }
    let focused: f64 = personal.iter().sum();
    if focus.is_empty() || focused == 0.0 {
        // Half the jump to the project's surface, half anywhere.
        // Tests take a tenth of a share: they refer to everything, and
        // what they refer to is already what the code refers to.
        let surface = files.iter().filter(|(path, _)| is_surface(path)).count();
        for (i, (path, _)) in files.iter().enumerate() {
            personal[i] = if is_test(path) { TEST_SHARE } else { 1.0 };
            if is_surface(path) {
                personal[i] += n as f64 / surface as f64;
            }
        }
    } else {
        // A little of the jump still goes anywhere, so the part of the
        // budget the focus does not fill goes to what matters in the
        // project as a whole rather than to whatever sorts first.
        let floor = UNFOCUSED_SHARE * focused / ((1.0 - UNFOCUSED_SHARE) * n as f64);
        for p in &mut personal {
            *p += floor;
        }
    }
    // PageRank walks files, not names: one edge per pair of files, with the
    // weights of its names summed, is the same graph with far fewer edges.
    let mut graph: Vec<(usize, usize, f64)> = Vec::new();
    let mut pairs: Vec<(u32, f64)> = Vec::new();
    for from_edges in edges.chunk_by(|a, b| a.from == b.from) {
        let from = from_edges[0].from as usize;
        pairs.clear();
        pairs.extend(from_edges.iter().map(|e| (e.to, e.weight)));
        pairs.sort_unstable_by_key(|&(to, _)| to);
        for to_pairs in pairs.chunk_by(|a, b| a.0 == b.0) {
            let weight = to_pairs.iter().map(|&(_, w)| w).sum();
            graph.push((from, to_pairs[0].0 as usize, weight));
        }
    }
    let file_rank = personalised_pagerank(n, &graph, &personal);

    // Each file's rank flows along its edges to the names they point at.
    let mut out_weight = vec![0.0; n];
    for edge in &edges {
        out_weight[edge.from as usize] += edge.weight;
    }
    let mut name_rank = vec![0.0; slots as usize];
    for edge in &edges {
        let from = edge.from as usize;
        name_rank[edge.slot as usize] += file_rank[from] * edge.weight / out_weight[from];
    }

    let test_file: Vec<bool> = files.iter().map(|(path, _)| is_test(path)).collect();
    let mut scored: Vec<(f64, usize, usize)> = Vec::new();
    for (i, (_, tags)) in files.iter().enumerate() {
        let ranked: Vec<usize> = (0..tags.definitions.len())
            .filter(|&j| is_ranked(&tags.definitions[j]))
            .collect();
        if ranked.is_empty() {
            continue;
        }
        let share = file_rank[i] / ranked.len() as f64;
        let mut same_name: FastMap<&str, f64> = FastMap::default();
        for &j in &ranked {
            *same_name
                .entry(tags.definitions[j].name.as_str())
                .or_insert(0.0) += 1.0;
        }
        for &j in &ranked {
            let definition = &tags.definitions[j];
            let name = definition.name.as_str();
            let flowed = name_ids
                .get(name)
                .and_then(|&id| {
                    let id = id as usize;
                    let k = definers[id].iter().position(|&f| f as usize == i)?;
                    Some(name_rank[slot_start[id] as usize + k])
                })
                .map_or(0.0, |r| r / same_name[name]);
            let mut score = flowed + file_rank[i] * BASE_SHARE;
            // A failing file's own definitions, and the ones a diagnostic
            // names, matter whoever refers to them.
            if focus_place[i].is_some() {
                score += share;
            }
            if mentioned.contains(name) {
                score = (score + share) * 10.0;
            }
            // Tests lean on everything and matter only when they fail.
            if (test_file[i] || in_test_module(tags, j)) && focus_place[i].is_none() {
                score *= TEST_SHARE;
            }
            scored.push((score, i, j));
        }
    }
    scored.sort_by(|a, b| {
        let (da, db) = (
            &files[a.1].1.definitions[a.2],
            &files[b.1].1.definitions[b.2],
        );
        b.0.total_cmp(&a.0)
            .then(da.member.cmp(&db.member))
            .then(files[a.1].0.cmp(files[b.1].0))
            .then(da.line.cmp(&db.line))
    });
    Ranking {
        file_rank,
        order: scored.into_iter().map(|(_, i, j)| (i, j)).collect(),
        inbound,
        referenced_by_focus,
        focus_place,
    }
}

/// PageRank over `n` nodes with weighted `edges` (from, to, weight), the
/// random jump (and the rank of nodes without edges) going to nodes in
/// proportion to `personal`. Ranks sum to 1.
pub(crate) fn personalised_pagerank(
    n: usize,
    edges: &[(usize, usize, f64)],
    personal: &[f64],
) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    let total: f64 = personal.iter().sum();
    let personal: Vec<f64> = if total > 0.0 {
        personal.iter().map(|p| p / total).collect()
    } else {
        vec![1.0 / n as f64; n]
    };
    let mut out_weight = vec![0.0; n];
    for &(from, _, weight) in edges {
        out_weight[from] += weight;
    }
    let mut rank = personal.clone();
    let mut next = vec![0.0; n];
    for _ in 0..MAX_ITERATIONS {
        let dangling: f64 = (0..n)
            .filter(|&i| out_weight[i] <= 0.0)
            .map(|i| rank[i])
            .sum();
        for (slot, p) in next.iter_mut().zip(&personal) {
            *slot = (1.0 - DAMPING + DAMPING * dangling) * p;
        }
        for &(from, to, weight) in edges {
            next[to] += DAMPING * rank[from] * weight / out_weight[from];
        }
        let moved: f64 = rank.iter().zip(&next).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut rank, &mut next);
        if moved < TOLERANCE {
            break;
        }
    }
    rank
}

/// Takes the largest prefix of the ranking whose rendering fits the budget.
fn fit(
    files: &[(&str, &FileTags)],
    ranking: &Ranking,
    budget_tokens: u64,
    count: &impl Fn(&str) -> u64,
) -> RepoMap {
    // Each definition's place in its own file's ranking, so a prefix of the
    // global order is, per file, a prefix of that file's order.
    let mut per_file: Vec<Vec<usize>> = vec![Vec::new(); files.len()];
    for &(i, j) in &ranking.order {
        per_file[i].push(j);
    }
    let mut counted: HashMap<(usize, usize), (String, u64)> = HashMap::new();
    let selection = |k: usize| -> Vec<(usize, usize)> {
        let mut taken: HashMap<usize, usize> = HashMap::new();
        let mut files_in_order = Vec::new();
        for &(i, _) in &ranking.order[..k] {
            let c = taken.entry(i).or_insert(0);
            if *c == 0 {
                files_in_order.push(i);
            }
            *c += 1;
        }
        files_in_order.into_iter().map(|i| (i, taken[&i])).collect()
    };
    let cost = |k: usize, counted: &mut HashMap<(usize, usize), (String, u64)>| -> Option<u64> {
        let chosen = selection(k);
        let mut texts = Vec::with_capacity(chosen.len());
        for &(i, c) in &chosen {
            if !counted.contains_key(&(i, c)) {
                texts.push((i, c, render(files[i].0, files[i].1, &per_file[i][..c]).0));
            }
        }
        // A clearly oversized rendering is refused without counting it.
        let bytes: usize = texts.iter().map(|(_, _, t)| t.len()).sum::<usize>()
            + chosen
                .iter()
                .filter_map(|key| counted.get(key))
                .map(|(t, _)| t.len())
                .sum::<usize>();
        if bytes as u64 > budget_tokens.saturating_mul(BYTES_PER_TOKEN_BOUND) {
            return None;
        }
        for (i, c, text) in texts {
            let tokens = count(&text);
            counted.insert((i, c), (text, tokens));
        }
        let total: u64 = chosen.iter().map(|key| counted[key].1).sum();
        (total <= budget_tokens).then_some(total)
    };

    // Every definition costs at least a token, so no more than the budget's
    // worth can fit.
    let (mut low, mut high) = (0, ranking.order.len().min(budget_tokens as usize));
    while low < high {
        let mid = low + (high - low).div_ceil(2);
        if cost(mid, &mut counted).is_some() {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    let mut chosen = selection(low);
    // Failing files first, in the caller's order; the rest keep rank order.
    chosen.sort_by_key(|&(i, _)| ranking.focus_place[i].unwrap_or(usize::MAX));

    let mut map = RepoMap::default();
    let mut shown: HashSet<usize> = HashSet::new();
    for (i, c) in chosen {
        let (path, tags) = files[i];
        let (text, tokens) = match counted.remove(&(i, c)) {
            Some(found) => found,
            None => {
                let text = render(path, tags, &per_file[i][..c]).0;
                let tokens = count(&text);
                (text, tokens)
            }
        };
        let (_, definitions) = render(path, tags, &per_file[i][..c]);
        shown.insert(i);
        map.tokens += tokens;
        map.files.push(MapFile {
            path: path.to_owned(),
            language: tags.language,
            method: tags.method,
            reason: if ranking.focus_place[i].is_some() {
                MapReason::Failing
            } else if ranking.referenced_by_focus[i] {
                MapReason::ReferencedByFailing
            } else {
                MapReason::Ranked
            },
            score: ranking.inbound[i],
            rank: ranking.file_rank[i],
            truncated: definitions.len() < tags.definitions.len(),
            definitions,
            tokens,
            text,
        });
    }
    let mut left: HashSet<usize> = HashSet::new();
    for &(i, _) in &ranking.order {
        if !shown.contains(&i) && left.insert(i) {
            map.left_out.push(files[i].0.to_owned());
        }
    }
    map
}

/// A file as the model reads it: its path, then `line: signature` for the
/// `chosen` definitions and their containers, in line order, indented by
/// depth. Also returns the definitions shown.
fn render(path: &str, tags: &FileTags, chosen: &[usize]) -> (String, Vec<Definition>) {
    let mut shown = vec![false; tags.definitions.len()];
    for &j in chosen {
        let mut at = Some(j);
        while let Some(k) = at {
            shown[k] = true;
            at = tags.parents[k];
        }
    }
    let mut text = format!("{path}\n");
    let mut definitions = Vec::new();
    for (k, definition) in tags.definitions.iter().enumerate() {
        if !shown[k] {
            continue;
        }
        let mut depth = 0;
        let mut at = tags.parents[k];
        while let Some(p) = at {
            depth += 1;
            at = tags.parents[p];
        }
        text.push_str(&"  ".repeat(depth + 1));
        text.push_str(&format!("{}: {}\n", definition.line, definition.signature));
        definitions.push(definition.clone());
    }
    (text, definitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn background_parsing_yields_without_lowering_the_caller() {
        let nice = || rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
        let caller = nice();
        let (background, spawned) = std::thread::spawn(move || {
            yield_to_foreground();
            let spawned = std::thread::spawn(nice).join().unwrap();
            (nice(), spawned)
        })
        .join()
        .unwrap();
        assert_eq!(background, BACKGROUND_NICE);
        assert_eq!(spawned, BACKGROUND_NICE, "a thread the background spawns");
        assert_eq!(nice(), caller, "the caller's priority moved");
    }

    #[test]
    fn a_repeat_map_of_an_unchanged_tree_is_not_ranked_again() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |rel: &str, text: &str| std::fs::write(root.join(rel), text).unwrap();
        write(
            "helpers.rs",
            "pub fn helper_one() {}\npub fn helper_spare() {}\n",
        );
        write("main.rs", "fn main() {\n    helper_one();\n}\n");
        let count = |text: &str| (text.len() as u64).div_ceil(4);
        let cache = MapCache::new();
        let whole = MapFocus::default();

        let first = cache.repo_map(root, 1000, &whole, count).unwrap();
        assert_eq!(cache.rankings(), 1);
        let again = cache.repo_map(root, 1000, &whole, count).unwrap();
        assert_eq!(cache.rankings(), 1, "an unchanged tree was ranked again");
        assert_eq!(again.files, first.files);
        // Another budget is fitted from the same ranking.
        let smaller = cache.repo_map(root, 12, &whole, count).unwrap();
        assert_eq!(cache.rankings(), 1);
        assert!(smaller.tokens <= 12);

        // Another focus is ranked anew.
        let focused = MapFocus::files(&["main.rs".to_owned()]);
        let centred = cache.repo_map(root, 1000, &focused, count).unwrap();
        assert_eq!(cache.rankings(), 2);
        assert_eq!(centred.files[0].path, "main.rs");

        // A changed file is ranked anew and shows up on the very next call.
        write("helpers.rs", "pub fn helper_two() {}\n");
        let changed = cache.repo_map(root, 1000, &focused, count).unwrap();
        assert_eq!(cache.rankings(), 3);
        assert!(changed.files.iter().any(|f| f.text.contains("helper_two")));
        assert!(
            changed
                .files
                .iter()
                .all(|f| !f.text.contains("helper_one()"))
        );
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn pagerank_of_a_cycle_is_uniform_and_sums_to_one() {
        let edges = [(0, 1, 1.0), (1, 2, 1.0), (2, 0, 1.0)];
        let rank = personalised_pagerank(3, &edges, &[1.0, 1.0, 1.0]);
        assert!(rank.iter().all(|&r| close(r, 1.0 / 3.0)), "{rank:?}");
    }

    #[test]
    fn pagerank_follows_edges_and_the_personalisation() {
        // 1 and 2 both point at 0: 0 ranks first without a focus.
        let edges = [(1, 0, 1.0), (2, 0, 1.0)];
        let rank = personalised_pagerank(3, &edges, &[1.0, 1.0, 1.0]);
        assert!(rank[0] > rank[1] && close(rank[1], rank[2]), "{rank:?}");
        assert!(close(rank.iter().sum(), 1.0));
        // Teleporting only to 2 leaves 1 with nothing.
        let rank = personalised_pagerank(3, &edges, &[0.0, 0.0, 1.0]);
        assert!(close(rank[1], 0.0) && rank[2] > 0.0 && rank[0] > 0.0);
        assert!(close(rank.iter().sum(), 1.0));
    }

    #[test]
    fn symbols_are_the_quoted_identifiers() {
        assert_eq!(
            symbols_in_message("cannot find value `parse_config` in module `crate::config`"),
            ["parse_config", "crate", "config"]
        );
        assert_eq!(
            symbols_in_message("NameError: name 'load_rows' is not defined"),
            ["load_rows"]
        );
        assert_eq!(
            symbols_in_message("Property \"userId\" does not exist on type 'Session'"),
            ["Session", "userId"]
        );
        assert!(symbols_in_message("expected `u8`, found `()`").is_empty());
    }
}
