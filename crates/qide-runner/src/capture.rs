//! Log capture: bytes from a step's pipes become numbered lines, grouped into
//! chunks and streamed to the store by a writer task, so memory stays flat
//! whatever the build prints. Past the per-build cap, the head is kept, the
//! tail is kept as a ring, and the middle is dropped and accounted for.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use qide_store::{Dropped, LogChunk, LogMeta, Store};
use tokio::sync::{broadcast, mpsc};

use crate::RunnerEvent;
use crate::redact::Redactor;

/// Stream tag of a stdout line.
pub const STDOUT: u8 = b'o';
/// Stream tag of a stderr line.
pub const STDERR: u8 = b'e';
/// Stream tag of QIDE's own notes in the log.
pub const SYSTEM: u8 = b's';

/// Sizes that bound capture.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CaptureLimits {
    pub(crate) chunk_bytes: usize,
    pub(crate) flush_interval: Duration,
    pub(crate) max_line_bytes: usize,
}

/// Splits one stream's bytes into lines: `\n` ends a line, a `\r` before it
/// is dropped, a lone `\r` stays in the line. Over-long lines are cut.
#[derive(Debug)]
pub(crate) struct LineSplitter {
    stream: u8,
    partial: Vec<u8>,
    /// Bytes of the current line beyond `max_line_bytes`, not kept.
    overflow: u64,
    max_line_bytes: usize,
}

impl LineSplitter {
    pub(crate) fn new(stream: u8, max_line_bytes: usize) -> LineSplitter {
        LineSplitter {
            stream,
            partial: Vec::new(),
            overflow: 0,
            max_line_bytes,
        }
    }

    /// Feeds bytes; complete lines go to `out`.
    pub(crate) fn push(&mut self, mut bytes: &[u8], out: &mut ChunkBuilder) {
        // First finish the line an earlier read left open.
        if !self.partial.is_empty() || self.overflow > 0 {
            let Some(pos) = memchr::memchr(b'\n', bytes) else {
                self.append(bytes);
                return;
            };
            self.append(&bytes[..pos]);
            let line = std::mem::take(&mut self.partial);
            out.push_line(self.stream, strip_cr(&line), self.overflow);
            self.overflow = 0;
            bytes = &bytes[pos + 1..];
        }
        // The common case, a block of ordinary complete lines, is handed
        // over whole: one UTF-8 check, one redaction pass, one copy.
        if let Some(last) = memchr::memrchr(b'\n', bytes) {
            let block = &bytes[..last];
            if let Some(lines) = self.plain_lines(block) {
                out.push_block(self.stream, block, lines);
                bytes = &bytes[last + 1..];
            }
        }
        while let Some(pos) = memchr::memchr(b'\n', bytes) {
            let (line, rest) = (&bytes[..pos], &bytes[pos + 1..]);
            if line.len() <= self.max_line_bytes {
                out.push_line(self.stream, strip_cr(line), 0);
            } else {
                self.append(line);
                let line = std::mem::take(&mut self.partial);
                out.push_line(self.stream, strip_cr(&line), self.overflow);
                self.overflow = 0;
            }
            bytes = rest;
        }
        self.append(bytes);
    }

    /// The number of lines in `block` (complete lines without the last
    /// `\n`) when every one of them can be stored as it is, CRLF endings
    /// aside: valid UTF-8 and none longer than the limit.
    fn plain_lines(&self, block: &[u8]) -> Option<usize> {
        if std::str::from_utf8(block).is_err() {
            return None;
        }
        let mut lines = 1;
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', block) {
            if end - start > self.max_line_bytes {
                return None;
            }
            lines += 1;
            start = end + 1;
        }
        (block.len() - start <= self.max_line_bytes).then_some(lines)
    }

    fn append(&mut self, bytes: &[u8]) {
        let room = self.max_line_bytes.saturating_sub(self.partial.len());
        let take = room.min(bytes.len());
        self.partial.extend_from_slice(&bytes[..take]);
        self.overflow += (bytes.len() - take) as u64;
    }

    /// Ends the stream: a last line without `\n` is still a line.
    pub(crate) fn finish(&mut self, out: &mut ChunkBuilder) {
        if !self.partial.is_empty() || self.overflow > 0 {
            let line = std::mem::take(&mut self.partial);
            out.push_line(self.stream, strip_cr(&line), self.overflow);
            self.overflow = 0;
        }
    }
}

/// `block` with the `\r` of every `\r\n` removed, and a final `\r` (the
/// last line's CRLF, whose `\n` is outside the block).
fn strip_crlf(block: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(block.len());
    let mut start = 0;
    for at in memchr::memmem::find_iter(block, b"\r\n") {
        out.extend_from_slice(&block[start..at]);
        start = at + 1;
    }
    out.extend_from_slice(strip_cr(&block[start..]));
    out
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Collects numbered lines into chunks and hands full ones to the writer.
#[derive(Debug)]
pub(crate) struct ChunkBuilder {
    step_idx: i64,
    next_line: i64,
    seq: i64,
    text: Vec<u8>,
    streams: Vec<u8>,
    first_line: i64,
    limits: CaptureLimits,
    last_flush: Instant,
    redactor: Arc<Redactor>,
    full: Vec<LogChunk>,
}

impl ChunkBuilder {
    pub(crate) fn new(limits: CaptureLimits, redactor: Arc<Redactor>) -> ChunkBuilder {
        ChunkBuilder {
            step_idx: 0,
            next_line: 1,
            seq: 0,
            text: Vec::new(),
            streams: Vec::new(),
            first_line: 1,
            limits,
            last_flush: Instant::now(),
            redactor,
            full: Vec::new(),
        }
    }

    /// The number the next line will get.
    pub(crate) fn next_line(&self) -> i64 {
        self.next_line
    }

    /// Starts a new step: its lines go into chunks of their own.
    pub(crate) fn set_step(&mut self, step_idx: i64) {
        self.cut();
        self.step_idx = step_idx;
    }

    /// Adds a line (without its `\n`); `cut` bytes were dropped from its end.
    pub(crate) fn push_line(&mut self, stream: u8, line: &[u8], cut: u64) {
        if !self.streams.is_empty() {
            self.text.push(b'\n');
        } else {
            self.first_line = self.next_line;
        }
        let text = match std::str::from_utf8(line) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(line),
        };
        let text = self.redactor.redact(&text);
        // A line never contains '\n' by construction, and stored text is
        // always valid UTF-8.
        self.text.extend_from_slice(text.as_bytes());
        if cut > 0 {
            self.text.extend_from_slice(
                format!(" [qide: {cut} more bytes of this line not kept]").as_bytes(),
            );
        }
        self.streams.push(stream);
        self.next_line += 1;
        if self.text.len() >= self.limits.chunk_bytes {
            self.cut();
        }
    }

    /// Adds `lines` complete lines at once: `block` is valid UTF-8, the
    /// lines joined by `\n` (CRLF endings are stripped here), none over the
    /// length limit.
    pub(crate) fn push_block(&mut self, stream: u8, block: &[u8], lines: usize) {
        let stripped;
        let block =
            if block.last() == Some(&b'\r') || memchr::memmem::find(block, b"\r\n").is_some() {
                stripped = strip_crlf(block);
                &stripped[..]
            } else {
                block
            };
        let Ok(text) = std::str::from_utf8(block) else {
            // Checked by the caller; stay correct anyway.
            for line in block.split(|&b| b == b'\n') {
                self.push_line(stream, line, 0);
            }
            return;
        };
        let text = self.redactor.redact(text);
        if self.streams.is_empty() {
            self.first_line = self.next_line;
        } else {
            self.text.push(b'\n');
        }
        self.text.extend_from_slice(text.as_bytes());
        self.streams.resize(self.streams.len() + lines, stream);
        self.next_line += lines as i64;
        if self.text.len() >= self.limits.chunk_bytes {
            self.cut();
        }
    }

    /// Adds a note from QIDE itself.
    pub(crate) fn note(&mut self, text: &str) {
        self.push_line(SYSTEM, format!("[qide] {text}").as_bytes(), 0);
    }

    /// Closes the current chunk if it has lines.
    fn cut(&mut self) {
        if self.streams.is_empty() {
            return;
        }
        self.full.push(LogChunk {
            seq: self.seq,
            step_idx: self.step_idx,
            first_line: self.first_line,
            text: std::mem::take(&mut self.text),
            streams: std::mem::take(&mut self.streams),
        });
        self.seq += 1;
    }

    /// Chunks ready for the writer; with `force`, or when the flush interval
    /// has passed, the open chunk is closed too so readers see fresh lines.
    pub(crate) fn take_ready(&mut self, force: bool) -> Vec<LogChunk> {
        if force || self.last_flush.elapsed() >= self.limits.flush_interval {
            self.cut();
            self.last_flush = Instant::now();
        }
        std::mem::take(&mut self.full)
    }

    /// Longest line kept whole.
    pub(crate) fn max_line_bytes(&self) -> usize {
        self.limits.max_line_bytes
    }
}

/// The writer task's end of the capture: stores chunks in order, applies the
/// log cap, and tells subscribers about new lines.
pub(crate) struct LogWriter {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) build_id: i64,
    pub(crate) events: broadcast::Sender<RunnerEvent>,
    pub(crate) cap: u64,
}

impl LogWriter {
    /// Runs until the channel closes; returns the final log size.
    pub(crate) async fn run(self, mut chunks: mpsc::Receiver<LogChunk>) -> LogMeta {
        let head_cap = self.cap / 2;
        let tail_cap = self.cap - head_cap;
        let mut meta = LogMeta::default();
        let mut head_bytes = 0u64;
        let mut head_open = true;
        let mut tail: VecDeque<(i64, u64, i64, i64)> = VecDeque::new();
        let mut tail_bytes = 0u64;
        let mut failed = false;
        while let Some(chunk) = chunks.recv().await {
            let size = chunk.text.len() as u64 + 1;
            meta.line_count = chunk.last_line();
            meta.bytes += size as i64;
            if failed {
                continue;
            }
            if let Err(e) = self
                .store
                .append_log_chunk(self.build_id, &chunk, &meta)
                .await
            {
                // Keep draining so the step is never blocked; the build's
                // log is incomplete and the error says so in the server log.
                tracing::error!(build = self.build_id, %e, "storing log chunk; rest of log not stored");
                failed = true;
                continue;
            }
            if head_open && head_bytes + size <= head_cap {
                head_bytes += size;
            } else {
                head_open = false;
                tail.push_back((chunk.seq, size, chunk.first_line, chunk.last_line()));
                tail_bytes += size;
            }
            let _ = self.events.send(RunnerEvent::Log {
                build_id: self.build_id,
                chunk: Arc::new(chunk),
            });
            while tail_bytes > tail_cap && tail.len() > 1 {
                let Some((seq, size, first, last)) = tail.pop_front() else {
                    break;
                };
                tail_bytes -= size;
                let dropped = match meta.dropped {
                    Some(d) => Dropped {
                        first_line: d.first_line,
                        last_line: last,
                        bytes: d.bytes + size as i64,
                    },
                    None => Dropped {
                        first_line: first,
                        last_line: last,
                        bytes: size as i64,
                    },
                };
                meta.dropped = Some(dropped);
                if let Err(e) = self.store.drop_log_chunk(self.build_id, seq, &meta).await {
                    tracing::error!(build = self.build_id, %e, "dropping log chunk");
                }
            }
        }
        meta
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder(max_line: usize) -> ChunkBuilder {
        ChunkBuilder::new(
            CaptureLimits {
                chunk_bytes: 1 << 20,
                flush_interval: Duration::from_secs(3600),
                max_line_bytes: max_line,
            },
            Arc::new(Redactor::default()),
        )
    }

    fn lines(b: &mut ChunkBuilder) -> Vec<(i64, u8, String)> {
        b.take_ready(true)
            .iter()
            .flat_map(|c| {
                c.lines()
                    .map(|(n, s, t)| (n, s, String::from_utf8_lossy(t).into_owned()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn splits_on_lf_only_and_joins_reads() {
        let mut b = builder(1024);
        let mut out = LineSplitter::new(STDOUT, 1024);
        out.push(b"one\r\ntw", &mut b);
        out.push(b"o\rthree\nfour", &mut b);
        out.finish(&mut b);
        assert_eq!(
            lines(&mut b),
            vec![
                (1, STDOUT, "one".to_owned()),
                (2, STDOUT, "two\rthree".to_owned()),
                (3, STDOUT, "four".to_owned())
            ]
        );
    }

    #[test]
    fn cuts_over_long_lines_and_says_so() {
        let mut b = builder(8);
        let mut out = LineSplitter::new(STDERR, 8);
        out.push(b"0123456789abcdef", &mut b);
        out.push(b"ghij\nok\n", &mut b);
        let got = lines(&mut b);
        assert_eq!(
            got[0].2,
            "01234567 [qide: 12 more bytes of this line not kept]"
        );
        assert_eq!(got[1], (2, STDERR, "ok".to_owned()));
    }

    #[test]
    fn whole_blocks_and_line_by_line_agree() {
        let input: &[u8] = b"alpha\nbe\rta\n\ngamma\r\ndelta\nlong-line-here\n\xff\nend\r\nx\ry\n";
        let mut whole = builder(8);
        let mut split = LineSplitter::new(STDOUT, 8);
        split.push(input, &mut whole);
        let mut bytewise = builder(8);
        let mut split = LineSplitter::new(STDOUT, 8);
        for b in input {
            split.push(std::slice::from_ref(b), &mut bytewise);
        }
        let got = lines(&mut whole);
        assert_eq!(got, lines(&mut bytewise));
        assert_eq!(got.len(), 9);
        assert_eq!(got[1].2, "be\rta");
        assert_eq!(got[3].2, "gamma");
        assert_eq!(got[7].2, "end");
    }

    #[test]
    fn invalid_utf8_is_replaced_not_lost() {
        let mut b = builder(1024);
        let mut out = LineSplitter::new(STDOUT, 1024);
        out.push(b"a\xff\xfeb\x00c\n", &mut b);
        assert_eq!(lines(&mut b)[0].2, "a\u{fffd}\u{fffd}b\u{0}c");
    }
}
