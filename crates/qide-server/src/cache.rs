//! A cache of serialised answers that change only when builds or reports
//! do, such as pages of the build list: agents and dashboards poll them far
//! more often than builds finish.
//!
//! Entries are tagged with a generation that this server bumps on every
//! build event and stored report, so a hit is never stale with respect to
//! changes made through this server. Writers elsewhere (other servers on the
//! same PostgreSQL) are covered by a short maximum age.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;

/// Longest an entry is served without a change seen by this server.
const MAX_AGE: Duration = Duration::from_secs(1);
/// Most entries kept; past it the cache starts over.
const MAX_ENTRIES: usize = 512;

/// Serialised answers by key.
#[derive(Debug, Default)]
pub(crate) struct AnswerCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, (u64, Instant, Bytes)>>,
}

impl AnswerCache {
    /// Something changed: every entry is stale.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The current generation, read before computing an answer to store.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A fresh answer for `key`.
    pub(crate) fn get(&self, key: &str) -> Option<Bytes> {
        let generation = self.generation();
        let entries = self.entries.lock().ok()?;
        let (g, at, bytes) = entries.get(key)?;
        (*g == generation && at.elapsed() < MAX_AGE).then(|| bytes.clone())
    }

    /// Stores an answer computed at `generation`.
    pub(crate) fn put(&self, key: String, generation: u64, bytes: Bytes) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (generation, Instant::now(), bytes));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidation_makes_entries_stale() {
        let cache = AnswerCache::default();
        let g = cache.generation();
        cache.put("a".to_owned(), g, Bytes::from_static(b"1"));
        assert_eq!(cache.get("a").as_deref(), Some(&b"1"[..]));
        cache.invalidate();
        assert_eq!(cache.get("a"), None);
        // An answer computed before a change is never served after it.
        cache.put("a".to_owned(), g, Bytes::from_static(b"old"));
        assert_eq!(cache.get("a"), None);
    }
}
