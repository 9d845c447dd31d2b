//! Log capture: bytes from a step's pipes become numbered lines, grouped into
//! chunks and streamed to the store by a writer task, so memory stays flat
//! whatever the build prints. Past the per-build cap, the head is kept, the
//! tail is kept as a ring, and the middle is dropped and accounted for.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qide_store::{Dropped, LogChunk, LogMeta, LogPacker, PackedText, Store};
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
            if let Some((lines, crlf)) = self.plain_lines(block) {
                out.push_block(self.stream, block, lines, crlf);
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
    /// aside: valid UTF-8 and none longer than the limit. Also whether any
    /// line ends in `\r` (found on the same walk, so CRLF output costs a
    /// second pass and the usual LF output none).
    fn plain_lines(&self, block: &[u8]) -> Option<(usize, bool)> {
        if std::str::from_utf8(block).is_err() {
            return None;
        }
        let mut lines = 1;
        let mut start = 0;
        let mut crlf = block.last() == Some(&b'\r');
        for end in memchr::memchr_iter(b'\n', block) {
            if end - start > self.max_line_bytes {
                return None;
            }
            crlf |= end > start && block[end - 1] == b'\r';
            lines += 1;
            start = end + 1;
        }
        (block.len() - start <= self.max_line_bytes).then_some((lines, crlf))
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

/// Chunk text buffers given back by the writer once a chunk is stored and
/// nobody reads it any more, for the next chunks to fill. A flood of output
/// then reuses a few buffers whose pages are already mapped, instead of
/// mapping (and faulting in, and zeroing) fresh memory for every megabyte.
#[derive(Debug, Default, Clone)]
pub(crate) struct BufferPool(Arc<Mutex<Vec<Vec<u8>>>>);

impl BufferPool {
    /// Buffers kept: enough to cover the chunks between the builder and the
    /// database, so none has to be mapped afresh in a steady flood.
    const KEEP: usize = 4;

    fn take(&self) -> Option<Vec<u8>> {
        self.0.lock().ok()?.pop()
    }

    /// Smaller buffers (of chunks cut early) are not worth keeping.
    const MIN_BYTES: usize = 64 << 10;

    fn give(&self, mut buffer: Vec<u8>) {
        if buffer.capacity() < BufferPool::MIN_BYTES {
            return;
        }
        buffer.clear();
        if let Ok(mut pool) = self.0.lock()
            && pool.len() < BufferPool::KEEP
        {
            pool.push(buffer);
        }
    }
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
    buffers: BufferPool,
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
            buffers: BufferPool::default(),
        }
    }

    /// Where the writer gives chunk buffers back for reuse.
    pub(crate) fn buffers(&self) -> BufferPool {
        self.buffers.clone()
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
            self.start_chunk();
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
    /// lines joined by `\n`, none over the length limit. With `crlf` (some
    /// line ends in `\r`), CRLF endings are stripped here.
    pub(crate) fn push_block(&mut self, stream: u8, block: &[u8], lines: usize, crlf: bool) {
        let stripped;
        let block = if crlf {
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
        // A secret value that spans lines is masked as one, joining them:
        // the stored lines are then those of the masked text.
        let lines = match &text {
            Cow::Borrowed(_) => lines,
            Cow::Owned(masked) => memchr::memchr_iter(b'\n', masked.as_bytes()).count() + 1,
        };
        if self.streams.is_empty() {
            self.start_chunk();
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

    /// Opens a chunk with the next line. Its text gets room up front for the
    /// chunk size and the read that usually ends it, so it is never copied
    /// to grow (nor left with twice the room it needs).
    fn start_chunk(&mut self) {
        self.first_line = self.next_line;
        if self.text.capacity() == 0
            && let Some(buffer) = self.buffers.take()
        {
            self.text = buffer;
        }
        let room = self.limits.chunk_bytes + self.limits.chunk_bytes / 4;
        self.text.reserve(room.saturating_sub(self.text.len()));
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
        // A chunk cut early (the flush interval, a step's end) gives back the
        // room it did not use before it waits for the database.
        if self.text.capacity() > 2 * self.text.len() + 4096 {
            self.text.shrink_to_fit();
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

/// Chunks packed and waiting for the database: enough that compression
/// goes on while a transaction commits, few enough that memory stays flat.
const PACKED_SLACK: usize = 2;
/// Most chunks stored in one transaction, when the database fell behind.
const MAX_BATCH: usize = 4;

/// The writer's end of the capture: compresses chunks on a thread of its own,
/// stores them in order (the ones that queued up while a transaction ran go
/// together in the next), applies the log cap, and tells subscribers about
/// new lines once they are stored.
///
/// The three stages (lines and masking in the step's task, compression here,
/// the database's own thread) each take a core's share, so a chatty step is
/// bounded by the slowest of them rather than their sum.
pub(crate) struct LogWriter {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) build_id: i64,
    pub(crate) events: broadcast::Sender<RunnerEvent>,
    pub(crate) cap: u64,
    /// Where stored chunks' buffers go back to the chunk builder.
    pub(crate) buffers: BufferPool,
}

impl LogWriter {
    /// Runs until the channel closes; returns the final log size.
    pub(crate) async fn run(self, chunks: mpsc::Receiver<LogChunk>) -> LogMeta {
        let (packed_tx, packed_rx) = mpsc::channel(PACKED_SLACK);
        let packer = tokio::task::spawn_blocking(move || pack_all(chunks, packed_tx));
        let meta = self.store_all(packed_rx).await;
        // The packer ends when the chunks do; it cannot fail.
        let _ = packer.await;
        meta
    }

    async fn store_all(self, mut packed: mpsc::Receiver<(LogChunk, PackedText)>) -> LogMeta {
        let head_cap = self.cap / 2;
        let tail_cap = self.cap - head_cap;
        let mut meta = LogMeta::default();
        let mut head_bytes = 0u64;
        let mut head_open = true;
        let mut tail: VecDeque<(i64, u64, i64, i64)> = VecDeque::new();
        let mut tail_bytes = 0u64;
        let mut failed = false;
        let mut batch = Vec::with_capacity(MAX_BATCH);
        let mut dropped_seqs = Vec::new();
        // Chunks sent to subscribers, whose buffers are reused once every
        // subscriber has let go of them (they read them within moments).
        let mut sent: VecDeque<Arc<LogChunk>> = VecDeque::new();
        while packed.recv_many(&mut batch, MAX_BATCH).await > 0 {
            dropped_seqs.clear();
            for (chunk, _) in &batch {
                let size = chunk.text.len() as u64 + 1;
                meta.line_count = chunk.last_line();
                meta.bytes += size as i64;
                if head_open && head_bytes + size <= head_cap {
                    head_bytes += size;
                    continue;
                }
                head_open = false;
                tail.push_back((chunk.seq, size, chunk.first_line, chunk.last_line()));
                tail_bytes += size;
                while tail_bytes > tail_cap && tail.len() > 1 {
                    let Some((seq, size, first, last)) = tail.pop_front() else {
                        break;
                    };
                    tail_bytes -= size;
                    meta.dropped = Some(match meta.dropped {
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
                    });
                    dropped_seqs.push(seq);
                }
            }
            if !failed {
                let append: Vec<(&LogChunk, &PackedText)> =
                    batch.iter().map(|(chunk, text)| (chunk, text)).collect();
                let stored = self
                    .store
                    .write_log(self.build_id, &append, &dropped_seqs, &meta)
                    .await;
                if let Err(e) = stored {
                    // Keep draining so the step is never blocked; the build's
                    // log is incomplete and the error says so in the server log.
                    tracing::error!(build = self.build_id, %e, "storing log chunks; rest of log not stored");
                    failed = true;
                }
            }
            for (chunk, _) in batch.drain(..) {
                if !failed {
                    let chunk = Arc::new(chunk);
                    sent.push_back(chunk.clone());
                    let _ = self.events.send(RunnerEvent::Log {
                        build_id: self.build_id,
                        chunk,
                    });
                }
            }
            self.recycle(&mut sent);
        }
        meta
    }

    /// Gives back the buffers of sent chunks nobody else holds any more,
    /// oldest first; a chunk a slow subscriber still holds stops the scan
    /// (and past a few of them is left to that subscriber to free).
    fn recycle(&self, sent: &mut VecDeque<Arc<LogChunk>>) {
        while let Some(oldest) = sent.pop_front() {
            match Arc::try_unwrap(oldest) {
                Ok(chunk) => self.buffers.give(chunk.text),
                Err(held) => {
                    if sent.len() < MAX_BATCH {
                        sent.push_front(held);
                    }
                    return;
                }
            }
        }
    }
}

/// Compresses chunks in order until the capture ends (or the writer is gone).
fn pack_all(mut chunks: mpsc::Receiver<LogChunk>, packed: mpsc::Sender<(LogChunk, PackedText)>) {
    let mut packer = LogPacker::new();
    while let Some(chunk) = chunks.blocking_recv() {
        let text = packer.pack(&chunk.text);
        if packed.blocking_send((chunk, text)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder(max_line: usize) -> ChunkBuilder {
        builder_with(max_line, Redactor::default())
    }

    fn builder_with(max_line: usize, redactor: Redactor) -> ChunkBuilder {
        ChunkBuilder::new(
            CaptureLimits {
                chunk_bytes: 1 << 20,
                flush_interval: Duration::from_secs(3600),
                max_line_bytes: max_line,
            },
            Arc::new(redactor),
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
    fn a_secret_spanning_lines_split_between_reads_leaks_no_line() {
        let secret = "-----key line one\nkey line two-----".to_owned();
        let mut b = builder_with(1024, Redactor::new(std::iter::empty(), &[secret]));
        let mut out = LineSplitter::new(STDOUT, 1024);
        // The pipe read ends between the secret's two lines.
        out.push(b"before\n-----key line one\n", &mut b);
        out.push(b"key line two-----\nafter\n", &mut b);
        let got: Vec<String> = lines(&mut b).into_iter().map(|(_, _, t)| t).collect();
        assert_eq!(got, ["before", "[redacted]", "[redacted]", "after"]);
    }

    #[test]
    fn a_secret_spanning_lines_is_masked_and_the_lines_still_match_their_tags() {
        let secret = "-----key line one\nkey line two-----".to_owned();
        let mut b = builder_with(1024, Redactor::new(std::iter::empty(), &[secret]));
        let mut out = LineSplitter::new(STDOUT, 1024);
        out.push(
            b"before\n-----key line one\nkey line two-----\nafter\n",
            &mut b,
        );
        out.push(b"next\n", &mut b);
        let chunks = b.take_ready(true);
        assert_eq!(chunks.len(), 1);
        let chunk = &chunks[0];
        assert_eq!(
            memchr::memchr_iter(b'\n', &chunk.text).count() + 1,
            chunk.streams.len(),
            "one stream tag per stored line"
        );
        let got: Vec<_> = chunk
            .lines()
            .map(|(n, _, t)| (n, String::from_utf8_lossy(t).into_owned()))
            .collect();
        assert_eq!(
            got,
            [
                (1, "before".to_owned()),
                (2, "[redacted]".to_owned()),
                (3, "after".to_owned()),
                (4, "next".to_owned())
            ]
        );
        assert_eq!(b.next_line(), 5);
    }

    #[test]
    fn chunks_get_room_for_their_size_once_and_early_cuts_give_it_back() {
        let mut b = builder(1024);
        let mut out = LineSplitter::new(STDOUT, 1024);
        out.push(b"one line\n", &mut b);
        assert!(b.text.capacity() >= (1 << 20) + (1 << 18));
        let chunk = b.take_ready(true).remove(0);
        assert_eq!(chunk.text, b"one line");
        assert!(chunk.text.capacity() < 4096, "{}", chunk.text.capacity());
    }

    /// A chunk of `lines` lines of about 100 bytes, numbered from `first`.
    fn flood_chunk(seq: i64, first: i64, lines: i64) -> LogChunk {
        let text: Vec<String> = (first..first + lines)
            .map(|n| {
                format!(
                    "{n:>8} warning: unused variable `x{:02}` in crate-{:<60}",
                    n % 97,
                    n % 13
                )
            })
            .collect();
        LogChunk {
            seq,
            step_idx: 0,
            first_line: first,
            text: text.join("\n").into_bytes(),
            streams: vec![STDOUT; lines as usize],
        }
    }

    /// Runs the writer over `count` chunks of 1,000 lines with a cap of four
    /// chunks; returns the store, the build, the chunks sent and the meta.
    async fn write_flood(
        events: broadcast::Sender<RunnerEvent>,
        buffers: BufferPool,
        count: i64,
    ) -> (
        tempfile::TempDir,
        Arc<dyn Store>,
        i64,
        Vec<LogChunk>,
        LogMeta,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            qide_store::SqlStore::open_sqlite(&dir.path().join("qide.db"))
                .await
                .unwrap(),
        );
        let id = store
            .create_build(&qide_store::NewBuild {
                trigger: "test".to_owned(),
                steps: vec![qide_store::NewStep {
                    name: "flood".to_owned(),
                    run: "yes".to_owned(),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .unwrap();
        let chunks: Vec<LogChunk> = (0..count)
            .map(|i| flood_chunk(i, 1 + i * 1000, 1000))
            .collect();
        let size = chunks[0].text.len() as u64 + 1;
        let (tx, rx) = mpsc::channel(2);
        let writer = tokio::spawn(
            LogWriter {
                store: store.clone(),
                build_id: id,
                events,
                cap: 4 * size,
                buffers,
            }
            .run(rx),
        );
        for chunk in &chunks {
            tx.send(chunk.clone()).await.unwrap();
        }
        drop(tx);
        let meta = writer.await.unwrap();
        (dir, store, id, chunks, meta)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_writer_keeps_head_and_tail_drops_the_middle_and_tells_subscribers() {
        let (events, mut live) = broadcast::channel(64);
        let (_dir, store, id, chunks, meta) = write_flood(events, BufferPool::default(), 10).await;
        // Two chunks of head, two of tail; chunks 2-7 (lines 2001-8000) were
        // dropped as later ones came.
        let size = chunks[0].text.len() as i64 + 1;
        assert_eq!(meta.line_count, 10_000);
        assert_eq!(meta.bytes, 10 * size);
        assert_eq!(
            meta.dropped,
            Some(Dropped {
                first_line: 2001,
                last_line: 8000,
                bytes: 6 * size
            })
        );
        assert_eq!(store.get_build(id).await.unwrap().log, meta);
        let stored = store.log_chunks_from(id, 1, 100).await.unwrap();
        assert_eq!(
            stored,
            [&chunks[0], &chunks[1], &chunks[8], &chunks[9]].map(Clone::clone)
        );
        // Every chunk was announced once, in order, after it was stored.
        let mut announced = Vec::new();
        while let Ok(event) = live.try_recv() {
            if let RunnerEvent::Log { build_id, chunk } = event {
                assert_eq!(build_id, id);
                assert_eq!(*chunk, chunks[chunk.seq as usize]);
                announced.push(chunk.seq);
            }
        }
        assert_eq!(announced, (0..10).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stored_chunks_nobody_holds_give_their_buffers_back() {
        let (events, live) = broadcast::channel(64);
        drop(live);
        let buffers = BufferPool::default();
        write_flood(events, buffers.clone(), 6).await;
        let kept = buffers.0.lock().unwrap();
        assert!(!kept.is_empty());
        assert!(kept.len() <= BufferPool::KEEP);
        assert!(
            kept.iter()
                .all(|b| b.is_empty() && b.capacity() >= BufferPool::MIN_BYTES)
        );
        drop(kept);
        // The builder fills a given-back buffer instead of a new one.
        let mut b = ChunkBuilder::new(
            CaptureLimits {
                chunk_bytes: 64 << 10,
                flush_interval: Duration::from_secs(3600),
                max_line_bytes: 1024,
            },
            Arc::new(Redactor::default()),
        );
        b.buffers = buffers.clone();
        let ptr = buffers.0.lock().unwrap().last().unwrap().as_ptr();
        b.push_line(STDOUT, b"reused", 0);
        assert_eq!(b.text.as_ptr(), ptr);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_lost() {
        let mut b = builder(1024);
        let mut out = LineSplitter::new(STDOUT, 1024);
        out.push(b"a\xff\xfeb\x00c\n", &mut b);
        assert_eq!(lines(&mut b)[0].2, "a\u{fffd}\u{fffd}b\u{0}c");
    }
}
