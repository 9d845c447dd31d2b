//! The project summary remembered by tree state.
//!
//! [`SummaryCache::summary`] hashes the tree with [`tree_hash_cached`] (one
//! walk and one `lstat` per settled file, see [`TreeHashCache`]) and answers
//! with the remembered [`Summary`] when the hash is the one it was computed
//! under; otherwise it summarises again. A change to any kept file moves the
//! hash, so it is seen on the next call; nothing is watched in between.
//!
//! The same cache holds the repo map's per-file tags ([`MapCache`]), so the
//! server keeps one object per project.
//!
//! The summary is computed after the hash, so it is never older than the
//! hash it is filed under; a write in between only costs one extra
//! summary on the next call.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::{
    Error, MapCache, MapFocus, RepoMap, Summary, TreeHashCache, summarize, tree_hash_cached,
};

/// A [`Summary`] and the tree hash it was computed under.
#[derive(Debug, Clone)]
pub struct CachedSummary {
    /// The tree hash (`b3:<hex>`) at the time of the summary.
    pub tree_hash: String,
    /// The summary, shared: callers of an unchanged tree get the same one.
    pub summary: Arc<Summary>,
}

/// The last summary of a project, reused while its tree hash stands.
#[derive(Debug, Default)]
pub struct SummaryCache {
    /// File digests, so hashing an unchanged tree reads no file.
    hashes: TreeHashCache,
    /// The last summary and the root it is of.
    last: Mutex<Option<(PathBuf, CachedSummary)>>,
    /// Per-file tags of the repo map, so a repeat map re-parses only
    /// changed files.
    map: MapCache,
}

impl SummaryCache {
    /// An empty cache.
    pub fn new() -> SummaryCache {
        SummaryCache::default()
    }

    /// The summary of the project under `root`: the remembered one when the
    /// tree hash has not moved since it was computed, a fresh one otherwise.
    pub fn summary(&self, root: &Path) -> Result<CachedSummary, Error> {
        let tree_hash = self.tree_hash(root)?;
        if let Some((last_root, cached)) = &*self.lock()
            && last_root == root
            && cached.tree_hash == tree_hash
        {
            return Ok(cached.clone());
        }
        let fresh = CachedSummary {
            tree_hash,
            summary: Arc::new(summarize(root)?),
        };
        *self.lock() = Some((root.to_path_buf(), fresh.clone()));
        Ok(fresh)
    }

    /// The tree hash of the project under `root`, reusing the digests of
    /// unchanged files.
    pub fn tree_hash(&self, root: &Path) -> Result<String, Error> {
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(PathBuf, CachedSummary)>> {
        self.last.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
