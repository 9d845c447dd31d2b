//! Reading one file of the project, line-numbered, confined to the root.
//!
//! A request is refused, with a distinct [`Error`] variant for each reason,
//! when its path:
//!
//! - is malformed ([`Error::InvalidPath`]): empty, absolute, Windows-style
//!   (`C:`, backslashes), containing a `..` component or a NUL byte;
//! - resolves, following symlinks, outside the canonical root
//!   ([`Error::OutsideRoot`]);
//! - does not exist ([`Error::NotFound`]) or is not a regular file
//!   ([`Error::NotAFile`]);
//! - names, or resolves to, a secret file ([`Error::Secret`]);
//! - names, or resolves to, a file the walk does not keep
//!   ([`Error::Excluded`]): ignored, under `.git`/`.qide` or build output.
//!   The requested path is checked as the walk sees it, so a file reached
//!   only through a symlinked directory is excluded too (the walk does not
//!   follow links); ask for it by its real path;
//! - holds binary content ([`Error::Binary`]).
//!
//! The file is streamed, so a line range deep in a large file costs no more
//! memory than the lines returned. The checks and the read are not atomic: a
//! file swapped for a symlink between them could still be read, which only
//! someone with write access to the project can arrange.

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::Error;
use crate::classify::is_secret;
use crate::summary::{BINARY_SNIFF_BYTES, is_binary};
use crate::walk::{self, NEVER_WALKED};

/// At most this many lines are returned by one [`read_file`] call.
pub const READ_MAX_LINES: u64 = 2_000;
/// At most this many bytes of line text are returned by one call.
pub const READ_MAX_BYTES: usize = 256 * 1024;
/// A line longer than this (in bytes) is cut and the result marked
/// truncated.
pub const READ_MAX_LINE_BYTES: usize = 8 * 1024;

/// Lines of a file, numbered from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileText {
    /// The path as normalised from the request, relative to the root.
    pub path: String,
    /// The lines returned, in order, with their numbers.
    pub lines: Vec<NumberedLine>,
    /// How many lines the whole file has, so a caller knows what is left.
    pub total_lines: u64,
    /// Fewer lines were returned than asked for (because of
    /// [`READ_MAX_LINES`] or [`READ_MAX_BYTES`]), or a line was cut at
    /// [`READ_MAX_LINE_BYTES`].
    pub truncated: bool,
}

/// One line of a [`FileText`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberedLine {
    /// Line number, from 1.
    pub n: u64,
    /// The text without its line end (`\n` or `\r\n`); invalid UTF-8 is
    /// replaced with U+FFFD.
    pub text: String,
}

/// Reads lines `start..=end` (numbered from 1) of the file at `rel` under
/// `root`. `start` defaults to 1 and `end` to the last line, within the
/// limits [`READ_MAX_LINES`] and [`READ_MAX_BYTES`]. A range past the end of
/// the file returns no lines. See the module documentation for what is
/// refused.
pub fn read_file(
    root: &Path,
    rel: &str,
    start: Option<u64>,
    end: Option<u64>,
) -> Result<FileText, Error> {
    let start = start.unwrap_or(1);
    let end = end.unwrap_or(u64::MAX);
    if start == 0 || end < start {
        return Err(Error::InvalidRange { start, end });
    }
    let rel = normalise(rel)?;
    let root = walk::canonical_root(root)?;
    let real = resolve(&root, &rel)?;
    let real_rel = walk::relative_path(&root, &real).ok_or_else(|| Error::NotFound(rel.clone()))?;
    let metadata = std::fs::metadata(&real).map_err(|e| io_error(&rel, &real, e))?;
    if !metadata.is_file() {
        return Err(Error::NotAFile(rel));
    }
    if is_secret(&rel) || is_secret(&real_rel) {
        return Err(Error::Secret(rel));
    }
    if !walk::is_kept(&root, &rel) || (real_rel != rel && !walk::is_kept(&root, &real_rel)) {
        return Err(Error::Excluded(rel));
    }
    let mut file = File::open(&real).map_err(|e| io_error(&rel, &real, e))?;
    let mut head = Vec::with_capacity(BINARY_SNIFF_BYTES);
    (&mut file)
        .take(BINARY_SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .and_then(|_| file.seek(SeekFrom::Start(0)))
        .map_err(|e| Error::io(&real, e))?;
    if is_binary(&head) {
        return Err(Error::Binary(rel));
    }
    read_lines(file, rel, start, end).map_err(|e| Error::io(real, e))
}

/// Checks the requested path's syntax and returns it `/`-separated, without
/// `.` or empty components.
fn normalise(rel: &str) -> Result<String, Error> {
    let refuse = |why: &str| Err(Error::InvalidPath(why.to_owned()));
    if rel.contains('\0') {
        return refuse("the path contains a NUL byte");
    }
    if rel.contains('\\') {
        return refuse("the path contains a backslash; use `/`");
    }
    let bytes = rel.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return refuse("the path has a drive prefix; give a path relative to the root");
    }
    if rel.starts_with('/') {
        return refuse("the path is absolute; give a path relative to the root");
    }
    let mut components = Vec::new();
    for component in rel.split('/') {
        match component {
            "" | "." => {}
            ".." => return refuse("the path contains `..`"),
            name if NEVER_WALKED.contains(&name) => {
                return Err(Error::Excluded(rel.to_owned()));
            }
            name => components.push(name),
        }
    }
    if components.is_empty() {
        return refuse("the path is empty");
    }
    Ok(components.join("/"))
}

/// The canonical location of `rel` under the canonical `root`, following
/// symlinks, refusing anything that leaves the root. A path that does not
/// exist is [`Error::NotFound`] only if its nearest existing ancestor is
/// inside the root, so the answer never reveals what exists elsewhere.
fn resolve(root: &Path, rel: &str) -> Result<PathBuf, Error> {
    let joined = root.join(rel);
    let mut probe = joined.as_path();
    loop {
        match probe.canonicalize() {
            Ok(real) if !real.starts_with(root) => return Err(Error::OutsideRoot(rel.to_owned())),
            Ok(real) if probe == joined => return Ok(real),
            Ok(_) => return Err(Error::NotFound(rel.to_owned())),
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                // A dangling symlink is not found wherever it points; a
                // missing component sends us one level up.
                match probe.parent() {
                    Some(parent) if parent.starts_with(root) => probe = parent,
                    _ => return Err(Error::NotFound(rel.to_owned())),
                }
            }
            // A symlink loop, or a component that cannot be searched: there
            // is nothing to read there.
            Err(_) => return Err(Error::NotFound(rel.to_owned())),
        }
    }
}

fn io_error(rel: &str, path: &Path, e: std::io::Error) -> Error {
    match e.kind() {
        ErrorKind::NotFound => Error::NotFound(rel.to_owned()),
        _ => Error::io(path, e),
    }
}

/// Streams `file`, keeping lines `start..=end` within the limits and counting
/// the rest.
fn read_lines(file: File, path: String, start: u64, end: u64) -> std::io::Result<FileText> {
    let mut reader = BufReader::with_capacity(64 * 1024, file);

    let mut text = FileText {
        path,
        lines: Vec::new(),
        total_lines: 0,
        truncated: false,
    };
    let mut returned_bytes = 0;
    let mut line = Vec::new();
    let mut n = 0;
    // Lines up to `end` are read one by one.
    while n < end {
        line.clear();
        let (read, cut) = read_line_capped(&mut reader, &mut line)?;
        if read == 0 {
            break;
        }
        n += 1;
        if n < start {
            continue;
        }
        let full = text.lines.len() as u64 >= READ_MAX_LINES || returned_bytes >= READ_MAX_BYTES;
        if full {
            text.truncated = true;
            continue;
        }
        text.truncated |= cut;
        let content = line.strip_suffix(b"\n").unwrap_or(&line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        returned_bytes += content.len();
        text.lines.push(NumberedLine {
            n,
            text: String::from_utf8_lossy(content).into_owned(),
        });
    }
    // The rest is only counted. Every line so far ended in `\n` (or the file
    // ended), so the remainder counts like a file of its own.
    let mut last = None;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            break;
        }
        n += memchr::memchr_iter(b'\n', buffer).count() as u64;
        last = buffer.last().copied();
        let consumed = buffer.len();
        reader.consume(consumed);
    }
    n += u64::from(last.is_some_and(|b| b != b'\n'));
    text.total_lines = n;
    Ok(text)
}

/// Reads one line (with its `\n`) into `line`, keeping at most
/// [`READ_MAX_LINE_BYTES`] of it and skipping the rest. Returns the bytes
/// consumed and whether the line was cut.
fn read_line_capped(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
) -> std::io::Result<(usize, bool)> {
    let read = reader
        .by_ref()
        .take(READ_MAX_LINE_BYTES as u64)
        .read_until(b'\n', line)?;
    if read < READ_MAX_LINE_BYTES || line.last() == Some(&b'\n') {
        return Ok((read, false));
    }
    // Skip to the end of the over-long line.
    let mut skipped = 0;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok((read + skipped, true));
        }
        match memchr::memchr(b'\n', buffer) {
            Some(i) => {
                reader.consume(i + 1);
                return Ok((read + skipped + i + 1, true));
            }
            None => {
                let consumed = buffer.len();
                skipped += consumed;
                reader.consume(consumed);
            }
        }
    }
}
