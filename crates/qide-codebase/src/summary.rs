//! The project summary: files, key files, source previews and structure.
//!
//! Every kept file is scanned once, in parallel on the walker's threads:
//! size, line count and binary check, for files of at most
//! [`MAX_READ_BYTES`]. The server's [`SummaryCache`](crate::SummaryCache)
//! computes the tree hash in the same walk, from the same bytes (larger
//! files are streamed through the hasher only), so the tree is read once,
//! not twice. The few files chosen as key files or previews are then read
//! again, sequentially, which costs little next to the walk and keeps memory
//! flat on large trees.
//!
//! A [`ScanRecords`] remembers each settled file's scan and digest by its
//! stamp (size, times, inode), in memory and in `.qide/codebase-scans-v1`,
//! so a later summary, in this process or a fresh one, reads only the files
//! whose stamp moved or that were written within
//! [`TreeHashCache::RACY_WINDOW`] of the scan (git's racy-clean rule).
//!
//! Token counts are an approximation, one token per four bytes of text
//! rounded up, good to within a factor of about 1.5 for code and English with
//! common tokenizers. Files whose text is not read (binary, larger than
//! [`MAX_READ_BYTES`], secret, symlinks) count zero lines and zero tokens.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::classify::{self, entry_point_rank, is_key_file, is_lock_file, is_secret, is_test};
use crate::language::{self, Kind};
use crate::tree_hash::{self, ScanInput, Scanned, Stamp, TreeHashCache, take};
use crate::walk::{EntryKind, WalkEntry};
use crate::{Error, FileEntry, KeyFile, LanguageStat, SourcePreview, Structure, Summary};

/// Files larger than this are listed with their size but never read.
pub const MAX_READ_BYTES: u64 = 1024 * 1024;
/// How much of a file is searched for a NUL byte to call it binary.
pub const BINARY_SNIFF_BYTES: usize = 8 * 1024;
/// At most this much of a key file is included; longer ones are truncated.
pub const MAX_KEY_FILE_BYTES: usize = 16 * 1024;
/// At most this many key files are included, shallowest paths first.
pub const MAX_KEY_FILES: usize = 32;
/// At most this many files are previewed.
pub const MAX_PREVIEWS: usize = 12;
/// A preview shows at most this many lines from the top of the file.
pub const PREVIEW_LINES: usize = 40;
/// A preview line longer than this (in bytes) is cut, and the preview marked
/// truncated: a minified file must not fill the summary.
pub const PREVIEW_MAX_LINE_BYTES: usize = 400;

/// What the parallel scan learns about one file.
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    lines: u64,
    tokens: u64,
    language: Option<(&'static str, Kind)>,
    /// The text was read and is not binary: eligible for key files and
    /// previews.
    is_text: bool,
    /// A `package.json` that depends on a front-end framework.
    frontend_package: bool,
    /// A `package.json` that depends on a server framework.
    backend_package: bool,
}

pub(crate) fn summarize(root: &Path) -> Result<Summary, Error> {
    let (_, scanned) =
        tree_hash::hash_and_scan(root, None, true, |_, _| None, MAX_READ_BYTES, scan)?;
    Ok(assemble(&scanned))
}

/// A summary with its tree hash and what to remember of its scan.
pub(crate) struct HashedSummary {
    /// The tree hash, as [`crate::tree_hash`] computes it.
    pub(crate) tree_hash: String,
    pub(crate) summary: Summary,
    /// Every settled file's scan, for the next summary.
    pub(crate) records: ScanRecords,
    /// How many files were read (not taken from `records`).
    pub(crate) files_read: u64,
}

/// The summary and the tree hash (as [`crate::tree_hash`] computes it) in one
/// walk that reads each file once, remembering digests in `hashes`, and not
/// at all when `known` has a scan of the file under its current, settled
/// stamp.
pub(crate) fn summarize_hashed(
    root: &Path,
    hashes: &TreeHashCache,
    known: &ScanRecords,
) -> Result<HashedSummary, Error> {
    let reused = AtomicU64::new(0);
    let (hash, scanned) = tree_hash::hash_and_scan(
        root,
        Some(hashes),
        // Nothing remembered: every file will be read.
        known.by_path.is_empty(),
        |entry, stamp| {
            let record = known.by_path.get(&entry.path)?;
            if record.stamp != *stamp {
                return None;
            }
            reused.fetch_add(1, Ordering::Relaxed);
            let mut scan = record.scan.clone();
            scan.language = language_of(entry);
            Some((record.digest, scan))
        },
        MAX_READ_BYTES,
        scan,
    )?;
    let tree_hash = hash.expect("hash_and_scan hashes when given a cache");
    // The records and the summary are built from the same scan on both
    // cores: on a large tree each costs tens of milliseconds, all after the
    // walk, where nothing else runs.
    let (records, summary) = std::thread::scope(|threads| {
        let records = threads.spawn(|| ScanRecords::of(&scanned));
        let summary = assemble(&scanned);
        let records = records
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (records, summary)
    });
    let files = scanned
        .iter()
        .filter(|s| s.entry.kind == EntryKind::File)
        .count() as u64;
    let files_read = files.saturating_sub(reused.into_inner());
    Ok(HashedSummary {
        tree_hash,
        summary,
        records,
        files_read,
    })
}

/// One settled file's scan, trusted while its stamp stands.
#[derive(Debug, Clone)]
struct ScanRecord {
    stamp: Stamp,
    digest: blake3::Hash,
    /// Its `language` is not kept on disk: it follows from the path.
    scan: Scan,
}

/// The scans of settled files by path, kept between summaries and on disk.
#[derive(Debug, Default)]
pub(crate) struct ScanRecords {
    by_path: HashMap<String, ScanRecord>,
}

impl ScanRecords {
    /// Where the records of a project live, under its `.qide/`.
    pub(crate) const FILE: &'static str = ".qide/codebase-scans-v1";
    /// The file's first bytes: a format version, and [`MAX_READ_BYTES`],
    /// since a scan depends on how much of a file it reads.
    fn header() -> Vec<u8> {
        let mut header = b"qide-codebase-scans-v1\0".to_vec();
        header.extend_from_slice(&MAX_READ_BYTES.to_le_bytes());
        header
    }

    /// The records of every settled file of a scan.
    fn of(scanned: &[Scanned<Scan>]) -> ScanRecords {
        let mut by_path = HashMap::with_capacity(scanned.len());
        by_path.extend(scanned.iter().filter_map(|s| {
            let (stamp, digest) = s.settled?;
            let record = ScanRecord {
                stamp,
                digest,
                scan: s.value.clone(),
            };
            Some((s.entry.path.clone(), record))
        }));
        ScanRecords { by_path }
    }

    /// Whether both remember the same files under the same stamps and
    /// digests.
    pub(crate) fn same_files(&self, other: &ScanRecords) -> bool {
        self.by_path.len() == other.by_path.len()
            && self.by_path.iter().all(|(path, record)| {
                other
                    .by_path
                    .get(path)
                    .is_some_and(|o| o.stamp == record.stamp && o.digest == record.digest)
            })
    }

    /// The records saved under `root` (canonical), or none when there are
    /// none or they cannot be read: a missing, old or damaged file only
    /// costs a full scan.
    pub(crate) fn load(root: &Path) -> ScanRecords {
        let Ok(bytes) = std::fs::read(root.join(Self::FILE)) else {
            return ScanRecords::default();
        };
        Self::decode(&bytes).unwrap_or_default()
    }

    fn decode(bytes: &[u8]) -> Option<ScanRecords> {
        let mut bytes = bytes.strip_prefix(Self::header().as_slice())?;
        let count = u64::from_le_bytes(take(&mut bytes)?);
        let mut by_path = HashMap::with_capacity(count.min(1 << 20) as usize);
        for _ in 0..count {
            let length = u32::from_le_bytes(take(&mut bytes)?) as usize;
            let path = bytes.get(..length)?;
            let path = std::str::from_utf8(path).ok()?.to_owned();
            bytes = &bytes[length..];
            let stamp = Stamp::decode(&mut bytes)?;
            let digest = blake3::Hash::from_bytes(take(&mut bytes)?);
            let lines = u64::from_le_bytes(take(&mut bytes)?);
            let tokens = u64::from_le_bytes(take(&mut bytes)?);
            let [flags] = take(&mut bytes)?;
            let scan = Scan {
                lines,
                tokens,
                language: None,
                is_text: flags & 1 != 0,
                frontend_package: flags & 2 != 0,
                backend_package: flags & 4 != 0,
            };
            by_path.insert(
                path,
                ScanRecord {
                    stamp,
                    digest,
                    scan,
                },
            );
        }
        bytes.is_empty().then_some(ScanRecords { by_path })
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Self::header();
        out.reserve(self.by_path.len() * 128);
        out.extend_from_slice(&(self.by_path.len() as u64).to_le_bytes());
        for (path, record) in &self.by_path {
            out.extend_from_slice(&(path.len() as u32).to_le_bytes());
            out.extend_from_slice(path.as_bytes());
            record.stamp.encode(&mut out);
            out.extend_from_slice(record.digest.as_bytes());
            out.extend_from_slice(&record.scan.lines.to_le_bytes());
            out.extend_from_slice(&record.scan.tokens.to_le_bytes());
            let scan = &record.scan;
            out.push(
                u8::from(scan.is_text)
                    | u8::from(scan.frontend_package) << 1
                    | u8::from(scan.backend_package) << 2,
            );
        }
        out
    }

    /// Saves the records under `root` (canonical), replacing the file at
    /// once (written aside, then renamed) so a reader never sees half of
    /// it. Best effort: a root that cannot be written just keeps no records.
    pub(crate) fn save(&self, root: &Path) {
        let path = root.join(Self::FILE);
        let aside = path.with_extension(format!("tmp-{}", std::process::id()));
        let written = path
            .parent()
            .is_some_and(|dir| std::fs::create_dir_all(dir).is_ok())
            && std::fs::write(&aside, self.encode()).is_ok()
            && std::fs::rename(&aside, &path).is_ok();
        if !written {
            let _ = std::fs::remove_file(&aside);
        }
    }
}

/// The language of a kept entry, as the scan tells it: none for secrets and
/// symlinks.
fn language_of(entry: &WalkEntry) -> Option<(&'static str, Kind)> {
    language_of_known(entry, is_secret(&entry.path))
}

/// [`language_of`] for an entry already known to be a secret or not.
fn language_of_known(entry: &WalkEntry, secret: bool) -> Option<(&'static str, Kind)> {
    if secret || entry.kind == EntryKind::Symlink {
        None
    } else {
        language::detect(classify::file_name(&entry.path))
    }
}

/// The summary from every scanned file.
fn assemble(scanned: &[Scanned<Scan>]) -> Summary {
    let mut languages: HashMap<&'static str, LanguageStat> = HashMap::new();
    let mut structure = Structure::default();
    let mut files = Vec::with_capacity(scanned.len());
    for Scanned {
        entry, value: scan, ..
    } in scanned
    {
        let language = scan.language.map(|(name, _)| name);
        files.push(FileEntry {
            path: entry.path.clone(),
            size: entry.size,
            lines: scan.lines,
            language,
            tokens: scan.tokens,
        });
        structure.total_lines += scan.lines;
        structure.total_tokens += scan.tokens;
        if let Some((name, kind)) = scan.language {
            let stat = languages.entry(name).or_insert(LanguageStat {
                name,
                files: 0,
                lines: 0,
            });
            stat.files += 1;
            stat.lines += scan.lines;
            structure.has_backend |= kind == Kind::Backend;
            structure.has_frontend |= matches!(kind, Kind::Frontend | Kind::Markup);
        }
        structure.has_backend |= scan.backend_package || is_in_server_dir(&entry.path);
        structure.has_frontend |= scan.frontend_package;
        structure.has_tests |= is_test(&entry.path);
    }
    structure.file_count = files.len() as u64;
    let mut languages: Vec<LanguageStat> = languages.into_values().collect();
    languages.sort_by(|a, b| {
        b.lines
            .cmp(&a.lines)
            .then(b.files.cmp(&a.files))
            .then(a.name.cmp(b.name))
    });
    structure.languages = languages;

    let key_files = key_files(scanned);
    let source_previews = source_previews(scanned);
    Summary {
        files,
        key_files,
        source_previews,
        structure,
    }
}

/// Scans one file on a walker thread, from the content the walk read (see
/// [`tree_hash::hash_and_scan`]): `None` for a file over
/// [`MAX_READ_BYTES`], a symlink or an unreadable file.
fn scan((entry, content): ScanInput<'_>) -> Option<Scan> {
    let name = classify::file_name(&entry.path);
    let secret = is_secret(&entry.path);
    let mut scan = Scan {
        lines: 0,
        tokens: 0,
        language: language_of_known(entry, secret),
        is_text: false,
        frontend_package: false,
        backend_package: false,
    };
    // A secret's content is read for its digest only, never looked at.
    let Some(scratch) = content.filter(|_| !secret) else {
        return Some(scan);
    };
    if is_binary(scratch) {
        return Some(scan);
    }
    scan.is_text = true;
    scan.lines = count_lines(scratch);
    scan.tokens = (scratch.len() as u64).div_ceil(4);
    if name == "package.json" {
        const FRONTEND: &[&str] = &[
            "\"react\"",
            "\"react-dom\"",
            "\"vue\"",
            "\"svelte\"",
            "\"@sveltejs/kit\"",
            "\"next\"",
            "\"nuxt\"",
            "\"@angular/core\"",
            "\"solid-js\"",
            "\"preact\"",
            "\"vite\"",
        ];
        const BACKEND: &[&str] = &[
            "\"express\"",
            "\"fastify\"",
            "\"koa\"",
            "\"@nestjs/core\"",
            "\"hono\"",
        ];
        let mentions = |needles: &[&str]| {
            needles
                .iter()
                .any(|n| memchr::memmem::find(scratch, n.as_bytes()).is_some())
        };
        scan.frontend_package = mentions(FRONTEND);
        scan.backend_package = mentions(BACKEND);
    }
    Some(scan)
}

/// Whether the bytes look binary: a NUL byte in the first
/// [`BINARY_SNIFF_BYTES`], the same test git and ripgrep use.
pub(crate) fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF_BYTES)]).is_some()
}

/// Lines as an editor counts them: a final line without a newline still
/// counts.
pub(crate) fn count_lines(bytes: &[u8]) -> u64 {
    let newlines = memchr::memchr_iter(b'\n', bytes).count() as u64;
    newlines + u64::from(bytes.last().is_some_and(|&b| b != b'\n'))
}

/// Files under a directory named like a server component.
fn is_in_server_dir(rel: &str) -> bool {
    let dirs = rel.rsplit_once('/').map_or("", |(dirs, _)| dirs);
    dirs.split('/').any(|d| matches!(d, "server" | "backend"))
}

fn key_files(scanned: &[Scanned<Scan>]) -> Vec<KeyFile> {
    let mut chosen: Vec<&WalkEntry> = scanned
        .iter()
        .filter(|s| s.value.is_text && is_key_file(&s.entry.path))
        .map(|s| &s.entry)
        .collect();
    chosen.sort_by_key(|entry| (entry.path.matches('/').count(), entry.path.as_str()));
    chosen.truncate(MAX_KEY_FILES);
    chosen
        .into_iter()
        .filter_map(|entry| {
            let mut bytes = Vec::new();
            let file = File::open(&entry.abs).ok()?;
            file.take(MAX_KEY_FILE_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
                .ok()?;
            let truncated = bytes.len() > MAX_KEY_FILE_BYTES;
            bytes.truncate(MAX_KEY_FILE_BYTES);
            // Rechecked: the file may have changed since the scan.
            if is_binary(&bytes) {
                return None;
            }
            Some(KeyFile {
                path: entry.path.clone(),
                content: utf8_prefix(bytes),
                truncated,
            })
        })
        .collect()
}

fn source_previews(scanned: &[Scanned<Scan>]) -> Vec<SourcePreview> {
    let candidates: Vec<(&WalkEntry, &Scan)> = scanned
        .iter()
        .map(|s| (&s.entry, &s.value))
        .filter(|(entry, scan)| {
            scan.is_text
                && scan.lines > 0
                && scan
                    .language
                    .is_some_and(|(_, kind)| language::is_source(kind))
                && !is_lock_file(&entry.path)
        })
        .collect();

    // Each candidate's entry-point rank, worked out once.
    let ranked: Vec<_> = candidates
        .iter()
        .map(|&(entry, scan)| (entry_point_rank(&entry.path), entry, scan))
        .collect();
    let mut entry_points: Vec<_> = ranked
        .iter()
        .filter_map(|&(rank, entry, _)| Some((rank?, entry)))
        .collect();
    entry_points.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.path.cmp(&b.1.path)));

    let mut largest: Vec<_> = ranked
        .iter()
        .filter(|(rank, entry, _)| rank.is_none() && !is_test(&entry.path))
        .map(|&(_, entry, scan)| (entry, scan))
        .collect();
    largest.sort_by(|a, b| b.1.lines.cmp(&a.1.lines).then(a.0.path.cmp(&b.0.path)));

    entry_points
        .into_iter()
        .map(|(_, entry)| entry)
        .chain(largest.into_iter().map(|(entry, _)| entry))
        .filter_map(preview)
        .take(MAX_PREVIEWS)
        .collect()
}

/// The first [`PREVIEW_LINES`] lines of a file, or `None` if it can no
/// longer be read as text.
fn preview(entry: &WalkEntry) -> Option<SourcePreview> {
    // Enough for 40 full-length lines; longer lines are cut anyway.
    const READ: u64 = (PREVIEW_LINES * (PREVIEW_MAX_LINE_BYTES + 2)) as u64;
    let mut bytes = Vec::new();
    File::open(&entry.abs)
        .ok()?
        .take(READ + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    if is_binary(&bytes) {
        return None;
    }
    let mut truncated = false;
    let mut lines = Vec::new();
    let mut rest: &[u8] = &bytes;
    while !rest.is_empty() {
        if lines.len() == PREVIEW_LINES {
            truncated = true;
            break;
        }
        let (line, next, complete) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..], true),
            None => (rest, &[][..], bytes.len() as u64 <= READ),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !complete || line.len() > PREVIEW_MAX_LINE_BYTES {
            truncated = true;
        }
        lines.push(utf8_prefix(
            line[..line.len().min(PREVIEW_MAX_LINE_BYTES)].to_vec(),
        ));
        rest = next;
    }
    Some(SourcePreview {
        path: entry.path.clone(),
        lines,
        truncated,
    })
}

/// The bytes as text: invalid sequences replaced, and a multi-byte character
/// cut at the end of a truncated buffer dropped rather than replaced.
pub(crate) fn utf8_prefix(mut bytes: Vec<u8>) -> String {
    if let Err(e) = std::str::from_utf8(&bytes)
        && e.error_len().is_none()
    {
        bytes.truncate(e.valid_up_to());
    }
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}
