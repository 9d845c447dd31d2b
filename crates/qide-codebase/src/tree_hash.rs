//! The working-tree hash: one BLAKE3 digest over every kept file.
//!
//! Each file is hashed on the walker's threads, streamed through a fixed
//! buffer so a multi-gigabyte file costs no memory. The per-file results are
//! then fed, sorted by path, into one outer hasher with unambiguous framing:
//!
//! ```text
//! "qide-tree-v1\0"
//! for each entry, by path:
//!     tag (1 byte) | path length (u64 LE) | path | payload
//! ```
//!
//! | tag | entry                   | payload                                   |
//! |-----|-------------------------|-------------------------------------------|
//! | `F` | regular file            | BLAKE3 of its content (32 bytes)          |
//! | `L` | symlink (not followed)  | target length (u64 LE), target bytes       |
//! | `U` | file that cannot be read| size (u64 LE), mtime in ns since epoch (u128 LE) |
//!
//! [`TreeHashCache`] lets a long-lived caller skip re-reading files whose
//! metadata has not changed, the way git's index does: a repeat hash of an
//! unchanged tree then costs one walk and one `lstat` per file.
//!
//! Binary and large files are hashed like any other; secret files too (only
//! their digest enters the hash, never their content). Whatever the walk does
//! not keep (ignored files, `.git`, `.qide`, build output) is not part of
//! the hash, so changing it does not change the hash.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Error;
use crate::walk::{self, EntryKind, WalkEntry};

/// What one entry contributes to the tree hash.
enum Contribution {
    File(blake3::Hash),
    Symlink(Vec<u8>),
    Unreadable { size: u64, mtime_ns: u128 },
}

/// File digests remembered by metadata between [`tree_hash_cached`](crate::tree_hash_cached) calls.
///
/// A file is re-read when its size, modification time, change time, inode or
/// device differ from what was recorded. Files modified within
/// [`TreeHashCache::RACY_WINDOW`] of a hash are not remembered, since a
/// second write in the same timestamp tick would go unseen (git's "racy
/// clean" problem). Entries for files no longer in the tree are dropped on
/// every call, so the cache never outgrows the tree.
#[derive(Debug, Default)]
pub struct TreeHashCache {
    digests: Mutex<HashMap<PathBuf, (Stamp, blake3::Hash)>>,
}

impl TreeHashCache {
    /// How recent a modification must be for the file's digest not to be
    /// remembered.
    pub const RACY_WINDOW: Duration = Duration::from_secs(2);

    /// An empty cache.
    pub fn new() -> TreeHashCache {
        TreeHashCache::default()
    }
}

/// The metadata that must be unchanged for a remembered digest to be reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    size: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    changed_ns: i128,
    #[cfg(unix)]
    inode: u64,
    #[cfg(unix)]
    device: u64,
}

impl Stamp {
    pub(crate) fn of(metadata: &Metadata) -> Stamp {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Stamp {
            size: metadata.len(),
            modified: metadata.modified().ok(),
            #[cfg(unix)]
            changed_ns: i128::from(metadata.ctime()) * 1_000_000_000
                + i128::from(metadata.ctime_nsec()),
            #[cfg(unix)]
            inode: metadata.ino(),
            #[cfg(unix)]
            device: metadata.dev(),
        }
    }

    /// The stamp's bytes, for keeping it on disk (see [`Stamp::decode`]).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.size.to_le_bytes());
        let modified: Option<i128> = self.modified.map(|m| match m.duration_since(UNIX_EPOCH) {
            Ok(after) => after.as_nanos() as i128,
            Err(before) => -(before.duration().as_nanos() as i128),
        });
        out.push(u8::from(modified.is_some()));
        out.extend_from_slice(&modified.unwrap_or(0).to_le_bytes());
        #[cfg(unix)]
        {
            out.extend_from_slice(&self.changed_ns.to_le_bytes());
            out.extend_from_slice(&self.inode.to_le_bytes());
            out.extend_from_slice(&self.device.to_le_bytes());
        }
    }

    /// A stamp [`Stamp::encode`] wrote, taken from the front of `bytes`;
    /// `None` when `bytes` is too short.
    pub(crate) fn decode(bytes: &mut &[u8]) -> Option<Stamp> {
        let size = u64::from_le_bytes(take(bytes)?);
        let [has_modified] = take(bytes)?;
        let modified_ns = i128::from_le_bytes(take(bytes)?);
        let modified = (has_modified == 1).then(|| {
            let magnitude = Duration::from_nanos(modified_ns.unsigned_abs() as u64);
            if modified_ns >= 0 {
                UNIX_EPOCH + magnitude
            } else {
                UNIX_EPOCH - magnitude
            }
        });
        Some(Stamp {
            size,
            modified,
            #[cfg(unix)]
            changed_ns: i128::from_le_bytes(take(bytes)?),
            #[cfg(unix)]
            inode: u64::from_le_bytes(take(bytes)?),
            #[cfg(unix)]
            device: u64::from_le_bytes(take(bytes)?),
        })
    }

    /// Whether the file changed so recently, relative to `now`, that another
    /// write could land in the same timestamp.
    pub(crate) fn is_racy(&self, now: SystemTime) -> bool {
        let modified_recently = self
            .modified
            .is_none_or(|m| m + TreeHashCache::RACY_WINDOW > now);
        #[cfg(unix)]
        let changed_recently = {
            let now_ns = now
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as i128);
            self.changed_ns + TreeHashCache::RACY_WINDOW.as_nanos() as i128 > now_ns
        };
        #[cfg(not(unix))]
        let changed_recently = false;
        modified_recently || changed_recently
    }
}

/// The first `N` bytes of `bytes`, which then start after them; `None`
/// when there are fewer.
pub(crate) fn take<const N: usize>(bytes: &mut &[u8]) -> Option<[u8; N]> {
    let (head, rest) = bytes.split_first_chunk::<N>()?;
    *bytes = rest;
    Some(*head)
}

pub(crate) fn tree_hash(root: &Path) -> Result<String, Error> {
    tree_hash_with(root, None)
}

pub(crate) fn tree_hash_cached(root: &Path, cache: &TreeHashCache) -> Result<String, Error> {
    tree_hash_with(root, Some(cache))
}

fn tree_hash_with(root: &Path, cache: Option<&TreeHashCache>) -> Result<String, Error> {
    let now = SystemTime::now();
    let remembered = cache.map(|cache| {
        std::mem::take(&mut *cache.digests.lock().unwrap_or_else(PoisonError::into_inner))
    });
    let hashed = walk::walk_map(root, |entry, _| match &remembered {
        Some(remembered) => cached_contribution(entry, remembered, now),
        None => contribution(entry).map(|c| (c, None)),
    })?;
    if let Some(cache) = cache {
        let fresh = hashed
            .iter()
            .filter_map(
                |(entry, (contribution, stamp))| match (contribution, stamp) {
                    (Contribution::File(hash), Some(stamp)) => {
                        Some((entry.abs.clone(), (*stamp, *hash)))
                    }
                    _ => None,
                },
            )
            .collect();
        *cache.digests.lock().unwrap_or_else(PoisonError::into_inner) = fresh;
    }
    Ok(combine(hashed.iter().map(|(entry, (c, _))| (entry, c))))
}

/// The outer hash over every entry's contribution, in the order given
/// (sorted by path), framed as the module documentation shows.
fn combine<'a>(hashed: impl IntoIterator<Item = (&'a WalkEntry, &'a Contribution)>) -> String {
    let mut tree = blake3::Hasher::new();
    tree.update(b"qide-tree-v1\0");
    for (entry, contribution) in hashed {
        let tag: &[u8] = match contribution {
            Contribution::File(_) => b"F",
            Contribution::Symlink(_) => b"L",
            Contribution::Unreadable { .. } => b"U",
        };
        tree.update(tag);
        tree.update(&(entry.path.len() as u64).to_le_bytes());
        tree.update(entry.path.as_bytes());
        match contribution {
            Contribution::File(hash) => {
                tree.update(hash.as_bytes());
            }
            Contribution::Symlink(target) => {
                tree.update(&(target.len() as u64).to_le_bytes());
                tree.update(target);
            }
            Contribution::Unreadable { size, mtime_ns } => {
                tree.update(&size.to_le_bytes());
                tree.update(&mtime_ns.to_le_bytes());
            }
        }
    }
    format!("b3:{}", tree.finalize().to_hex())
}

/// What [`hash_and_scan`] hands the per-file scan: the entry and, for a
/// regular file of at most `max_read` bytes that could be read, its content.
pub(crate) type ScanInput<'a> = (&'a WalkEntry, Option<&'a [u8]>);

/// One entry as [`hash_and_scan`] saw it.
pub(crate) struct Scanned<T> {
    /// The entry, as the walk kept it.
    pub(crate) entry: WalkEntry,
    /// What the scan (or the caller's memory of it) said about the entry.
    pub(crate) value: T,
    /// For a regular file whose stamp was settled and did not move while it
    /// was read: the stamp and the content's digest, which a later scan may
    /// trust without reading the file again.
    pub(crate) settled: Option<(Stamp, blake3::Hash)>,
}

/// The tree hash (when hashing) and every scanned entry, sorted by path.
pub(crate) type HashedScan<T> = (Option<String>, Vec<Scanned<T>>);

/// One walk that both hashes the tree and scans each file, reading each file
/// once: the bytes read for the digest are the bytes `scan` sees, so the
/// summary and the hash it is filed under describe the same content.
///
/// Files of at most `max_read` bytes are read whole into the thread's buffer
/// and passed to `scan`; larger ones are hashed streamed and `scan` gets
/// `None`, as it does for symlinks and unreadable files. With `cache`, the
/// digests of settled files are remembered as [`tree_hash_cached`] does (and
/// a remembered digest saves hashing, though the file is still read for
/// `scan`); without it, nothing is hashed and the returned hash is `None`.
///
/// `known` lets the caller skip a file altogether: given a regular file and
/// the stamp the walk's `lstat` saw, it returns the digest and scan value it
/// remembers for exactly that stamp, if any. Only settled stamps (see
/// [`Stamp::is_racy`]) are offered, so a file written within the racy window
/// of this call is always read.
///
/// With `open_files`, each regular file is opened as the walk reaches it and
/// its stamp taken from the open file (see [`walk::walk_map_opening`]), which
/// saves resolving its path twice when nearly every file will be read, as
/// when `known` remembers nothing (a first-ever summary). Without it, a file
/// is stamped by `lstat` and opened only when `known` has no scan of it.
pub(crate) fn hash_and_scan<T, F, K>(
    root: &Path,
    cache: Option<&TreeHashCache>,
    open_files: bool,
    known: K,
    max_read: u64,
    scan: F,
) -> Result<HashedScan<T>, Error>
where
    T: Send + Sync,
    F: Fn(ScanInput<'_>) -> Option<T> + Sync,
    K: Fn(&WalkEntry, &Stamp) -> Option<(blake3::Hash, T)> + Sync,
{
    let now = SystemTime::now();
    let remembered = cache.map(|cache| {
        std::mem::take(&mut *cache.digests.lock().unwrap_or_else(PoisonError::into_inner))
    });
    let hashing = cache.is_some();
    let scanned = walk::walk_map_opening(root, open_files, |entry, file, scratch| {
        if hashing
            && entry.kind == EntryKind::File
            && !entry.stamp.is_racy(now)
            && let Some((hash, value)) = known(entry, &entry.stamp)
        {
            let stamp = Some(entry.stamp);
            return Some((value, Some(Contribution::File(hash)), stamp));
        }
        let (contribution, stamp, read) = match entry.kind {
            EntryKind::Symlink => (
                if hashing {
                    Some(contribution(entry)?)
                } else {
                    None
                },
                None,
                None,
            ),
            EntryKind::File => read_and_hash(
                entry,
                file,
                scratch,
                max_read,
                hashing,
                remembered.as_ref(),
                now,
            )?,
        };
        let value = scan((entry, read.map(|read| &scratch[..read])))?;
        Some((value, contribution, stamp))
    })?;
    let Some(cache) = cache else {
        let scanned = scanned
            .into_iter()
            .map(|(entry, (value, _, _))| Scanned {
                entry,
                value,
                settled: None,
            })
            .collect();
        return Ok((None, scanned));
    };
    // The digests to remember and the tree hash, on both cores: each costs
    // tens of milliseconds on a large tree, after the walk.
    let hash =
        std::thread::scope(|threads| {
            let scanned = &scanned;
            let fresh = threads.spawn(move || {
                let mut fresh = HashMap::with_capacity(scanned.len());
                fresh.extend(scanned.iter().filter_map(
                    |(entry, (_, contribution, stamp))| match (contribution, stamp) {
                        (Some(Contribution::File(hash)), Some(stamp)) => {
                            Some((entry.abs.clone(), (*stamp, *hash)))
                        }
                        _ => None,
                    },
                ));
                fresh
            });
            let hash =
                combine(scanned.iter().filter_map(|(entry, (_, contribution, _))| {
                    Some((entry, contribution.as_ref()?))
                }));
            let fresh = fresh
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            *cache.digests.lock().unwrap_or_else(PoisonError::into_inner) = fresh;
            hash
        });
    let values = scanned
        .into_iter()
        .map(|(entry, (value, contribution, stamp))| {
            let settled = match (contribution, stamp) {
                (Some(Contribution::File(hash)), Some(stamp)) => Some((stamp, hash)),
                _ => None,
            };
            Scanned {
                entry,
                value,
                settled,
            }
        })
        .collect();
    Ok((Some(hash), values))
}

/// Reads one regular file for [`hash_and_scan`]: its contribution (when
/// hashing), the stamp to remember, and how many bytes of `scratch` now hold
/// its whole content (`None` when it was larger than `max_read` or could not
/// be read). `None` altogether when the file vanished since the walk saw it.
///
/// `opened` is the file as the walk opened it, if it did (otherwise it is
/// opened here).
///
/// This is the first-ever summary's inner loop, so it costs four system
/// calls per file: `open` and `fstat` as the walk reaches it (or `lstat`,
/// then `open` here), one `read` and `close`. The walk's stamp is the one
/// remembered: it was taken before the read, and a stamp is remembered only
/// when settled (older than [`TreeHashCache::RACY_WINDOW`] at the start of
/// the scan), so any write during or after the read gives the file a later
/// change time than the remembered stamp, and the next scan reads it again.
/// The stamp's size bounds the read, so a file that fits is read whole with
/// one `read` into the thread's buffer, without a second `read` to find its
/// end; a file that grew since the walk is described as the walk listed it,
/// and its stamp has moved.
fn read_and_hash(
    entry: &WalkEntry,
    opened: Option<File>,
    scratch: &mut Vec<u8>,
    max_read: u64,
    hashing: bool,
    remembered: Option<&HashMap<PathBuf, (Stamp, blake3::Hash)>>,
    now: SystemTime,
) -> Option<(Option<Contribution>, Option<Stamp>, Option<usize>)> {
    let unreadable = |e: std::io::Error| {
        if e.kind() == ErrorKind::NotFound {
            return None;
        }
        Some((hashing.then(|| contribution(entry)).flatten(), None, None))
    };
    let opened = match opened {
        Some(file) => Ok(file),
        None => walk::open_for_reading(&entry.abs),
    };
    let mut file = match opened {
        Ok(file) => file,
        Err(e) => return unreadable(e),
    };
    let content = if entry.size <= max_read {
        let want = entry.size as usize;
        // The buffer only grows, and stays initialised: no per-file
        // allocation or zeroing once it has held the largest file read.
        if scratch.len() < want {
            scratch.resize(want, 0);
        }
        match read_up_to(&mut file, &mut scratch[..want]) {
            Ok(read) => Some(read),
            Err(e) => return unreadable(e),
        }
    } else {
        None
    };
    if !hashing {
        return Some((None, None, content));
    }
    let stamp = entry.stamp;
    let settled = !stamp.is_racy(now);
    let known = remembered
        .and_then(|remembered| remembered.get(&entry.abs))
        .and_then(|(old, hash)| (settled && *old == stamp).then_some(*hash));
    let hash = match (known, content) {
        (Some(hash), _) => hash,
        (None, Some(read)) => blake3::hash(&scratch[..read]),
        (None, None) => {
            // Larger than any scan reads: streamed through the hasher, so
            // its size costs no memory.
            let mut hasher = blake3::Hasher::new();
            if let Err(e) = hasher.update_reader(&mut file) {
                return unreadable(e);
            }
            hasher.finalize()
        }
    };
    let stamp = settled.then_some(stamp);
    Some((Some(Contribution::File(hash)), stamp, content))
}

/// Reads into `buf` until it is full or the file ends, and returns how much
/// was read: one `read` for a file whose size the walk saw, since the buffer
/// is exactly that size.
fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Hashes one entry, reusing a remembered digest when the file's stamp is
/// unchanged. Also returns the stamp to remember, if the file is settled
/// enough to be remembered.
fn cached_contribution(
    entry: &WalkEntry,
    remembered: &HashMap<PathBuf, (Stamp, blake3::Hash)>,
    now: SystemTime,
) -> Option<(Contribution, Option<Stamp>)> {
    if entry.kind != EntryKind::File {
        return contribution(entry).map(|c| (c, None));
    }
    let stamp = match std::fs::symlink_metadata(&entry.abs) {
        Ok(metadata) => Stamp::of(&metadata),
        Err(e) if e.kind() == ErrorKind::NotFound => return None,
        Err(_) => return contribution(entry).map(|c| (c, None)),
    };
    let settled = !stamp.is_racy(now);
    if settled
        && let Some((old, hash)) = remembered.get(&entry.abs)
        && *old == stamp
    {
        return Some((Contribution::File(*hash), Some(stamp)));
    }
    let contribution = contribution(entry)?;
    // Re-stat: a write during the read would leave a digest of mixed content
    // under the new stamp.
    let unchanged = std::fs::symlink_metadata(&entry.abs).is_ok_and(|m| Stamp::of(&m) == stamp);
    Some((contribution, (settled && unchanged).then_some(stamp)))
}

/// Hashes one entry; `None` if it vanished since the walk saw it.
fn contribution(entry: &WalkEntry) -> Option<Contribution> {
    let result = match entry.kind {
        EntryKind::Symlink => std::fs::read_link(&entry.abs)
            .map(|target| Contribution::Symlink(target.into_os_string().into_encoded_bytes())),
        EntryKind::File => File::open(&entry.abs).and_then(|file| {
            let mut hasher = blake3::Hasher::new();
            hasher.update_reader(file)?;
            Ok(Contribution::File(hasher.finalize()))
        }),
    };
    match result {
        Ok(contribution) => Some(contribution),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        // Unreadable (permissions, I/O error): its metadata still moves the
        // hash when the file is touched.
        Err(_) => {
            let metadata = std::fs::symlink_metadata(&entry.abs).ok()?;
            let mtime_ns = metadata
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            Some(Contribution::Unreadable {
                size: metadata.len(),
                mtime_ns,
            })
        }
    }
}
