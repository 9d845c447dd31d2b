//! The project summary: files, key files, source previews and structure.
//!
//! Every kept file is scanned once, in parallel on the walker's threads:
//! size, line count and binary check, reading at most [`MAX_READ_BYTES`] of
//! it. The server's [`SummaryCache`](crate::SummaryCache) computes the tree
//! hash in the same walk, from the same bytes (larger files are then read
//! to their end for the digest only), so the tree is read once, not twice. The few files chosen as key files or previews are then read again,
//! sequentially, which costs little next to the walk and keeps memory flat on
//! large trees.
//!
//! Token counts are an approximation, one token per four bytes of text
//! rounded up, good to within a factor of about 1.5 for code and English with
//! common tokenizers. Files whose text is not read (binary, larger than
//! [`MAX_READ_BYTES`], secret, symlinks) count zero lines and zero tokens.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;

use crate::classify::{self, entry_point_rank, is_key_file, is_lock_file, is_secret, is_test};
use crate::language::{self, Kind};
use crate::tree_hash::{self, ScanInput, TreeHashCache};
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
struct Scan {
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

pub(crate) fn summarize(root: &std::path::Path) -> Result<Summary, Error> {
    let (_, scanned) = tree_hash::hash_and_scan(root, None, MAX_READ_BYTES, scan)?;
    Ok(assemble(&scanned))
}

/// The summary and the tree hash (as [`crate::tree_hash`] computes it) in one
/// walk that reads each file once, remembering digests in `hashes`.
pub(crate) fn summarize_hashed(
    root: &std::path::Path,
    hashes: &TreeHashCache,
) -> Result<(String, Summary), Error> {
    let (hash, scanned) = tree_hash::hash_and_scan(root, Some(hashes), MAX_READ_BYTES, scan)?;
    let hash = hash.expect("hash_and_scan hashes when given a cache");
    Ok((hash, assemble(&scanned)))
}

/// The summary from every scanned file.
fn assemble(scanned: &[(WalkEntry, Scan)]) -> Summary {
    let mut languages: HashMap<&'static str, LanguageStat> = HashMap::new();
    let mut structure = Structure::default();
    let mut files = Vec::with_capacity(scanned.len());
    for (entry, scan) in scanned {
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
        language: if secret || entry.kind == EntryKind::Symlink {
            None
        } else {
            language::detect(name)
        },
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

fn key_files(scanned: &[(WalkEntry, Scan)]) -> Vec<KeyFile> {
    let mut chosen: Vec<&WalkEntry> = scanned
        .iter()
        .filter(|(entry, scan)| scan.is_text && is_key_file(&entry.path))
        .map(|(entry, _)| entry)
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

fn source_previews(scanned: &[(WalkEntry, Scan)]) -> Vec<SourcePreview> {
    let candidates: Vec<(&WalkEntry, &Scan)> = scanned
        .iter()
        .filter(|(entry, scan)| {
            scan.is_text
                && scan.lines > 0
                && scan
                    .language
                    .is_some_and(|(_, kind)| language::is_source(kind))
                && !is_lock_file(&entry.path)
        })
        .map(|(entry, scan)| (entry, scan))
        .collect();

    let mut entry_points: Vec<_> = candidates
        .iter()
        .filter_map(|&(entry, _)| entry_point_rank(&entry.path).map(|rank| (rank, entry)))
        .collect();
    entry_points.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.path.cmp(&b.1.path)));

    let mut largest: Vec<_> = candidates
        .iter()
        .filter(|(entry, _)| entry_point_rank(&entry.path).is_none() && !is_test(&entry.path))
        .collect();
    largest.sort_by(|a, b| b.1.lines.cmp(&a.1.lines).then(a.0.path.cmp(&b.0.path)));

    entry_points
        .into_iter()
        .map(|(_, entry)| entry)
        .chain(largest.into_iter().map(|(entry, _)| *entry))
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
