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
//! Binary and large files are hashed like any other; secret files too (only
//! their digest enters the hash, never their content). Whatever the walk does
//! not keep (ignored files, `.git`, `.qide`, build output) is not part of
//! the hash, so changing it does not change the hash.

use std::fs::File;
use std::io::ErrorKind;
use std::path::Path;
use std::time::UNIX_EPOCH;

use crate::Error;
use crate::walk::{self, EntryKind, WalkEntry};

/// What one entry contributes to the tree hash.
enum Contribution {
    File(blake3::Hash),
    Symlink(Vec<u8>),
    Unreadable { size: u64, mtime_ns: u128 },
}

pub(crate) fn tree_hash(root: &Path) -> Result<String, Error> {
    let hashed = walk::walk_map(root, |entry, _| contribution(entry))?;
    let mut tree = blake3::Hasher::new();
    tree.update(b"qide-tree-v1\0");
    for (entry, contribution) in &hashed {
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
    Ok(format!("b3:{}", tree.finalize().to_hex()))
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
