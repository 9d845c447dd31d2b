//! Log chunk text as stored: packed (compressed) ahead of the database write,
//! so capture can compress one chunk on one thread while the database stores
//! the one before on another, and unpacked when chunks are read back.
//!
//! New chunks are zstd frames (level 1). Chunks stored before that are LZ4
//! blocks and still read; text that does not shrink is stored as it is. The
//! `log_chunks.encoding` column says which.

use crate::{Result, StoreError};

/// `log_chunks.encoding` of text stored as it is.
pub(crate) const ENCODING_RAW: i64 = 0;
/// `log_chunks.encoding` of text stored as an LZ4 block, length first (what
/// chunks were written as before zstd; read, never written).
pub(crate) const ENCODING_LZ4: i64 = 1;
/// `log_chunks.encoding` of text stored as one zstd frame that records its
/// size.
pub(crate) const ENCODING_ZSTD: i64 = 2;

/// zstd's level 1: on the LogChunks build logs it compresses about as fast
/// as lz4_flex or faster, and to half the size (11x against 5x), so the
/// database writes half as much.
const ZSTD_LEVEL: i32 = 1;

/// Largest text a stored chunk can unpack to. Chunks are a few MiB at most
/// (the runner's chunk size plus one read and one line); a frame claiming
/// more is corrupt, and is refused rather than allocated.
const MAX_UNPACKED_BYTES: usize = 256 << 20;

/// A chunk's text as it will be stored, with how it was encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedText {
    pub(crate) encoding: i64,
    pub(crate) bytes: Vec<u8>,
}

impl PackedText {
    /// Bytes the database will store.
    pub fn stored_len(&self) -> usize {
        self.bytes.len()
    }
}

/// Compresses chunk text for storage, reusing one compression context and one
/// output buffer from chunk to chunk (a capture keeps one for its whole run).
#[derive(Default)]
pub struct LogPacker {
    /// Made on first use; `None` after that only if zstd could not allocate
    /// its context, and then text is stored as it is.
    compressor: Option<zstd::bulk::Compressor<'static>>,
    scratch: Vec<u8>,
}

impl std::fmt::Debug for LogPacker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogPacker").finish_non_exhaustive()
    }
}

impl LogPacker {
    /// A packer; its compression context is made on first use.
    pub fn new() -> LogPacker {
        LogPacker::default()
    }

    /// `text` as stored: a zstd frame when that saves at least an eighth,
    /// else the text as it is. Build logs repeat themselves, so this usually
    /// cuts writes tenfold.
    pub fn pack(&mut self, text: &[u8]) -> PackedText {
        if self.compressor.is_none() {
            self.compressor = zstd::bulk::Compressor::new(ZSTD_LEVEL).ok();
        }
        let Some(compressor) = self.compressor.as_mut() else {
            return PackedText {
                encoding: ENCODING_RAW,
                bytes: text.to_vec(),
            };
        };
        self.scratch.clear();
        self.scratch
            .reserve(zstd::zstd_safe::compress_bound(text.len()));
        // The output is copied out at its exact size so a stored chunk does
        // not keep the worst-case capacity alive while it waits for the
        // database; the scratch buffer is reused for the next chunk.
        match compressor.compress_to_buffer(text, &mut self.scratch) {
            Ok(n) if n < text.len() - text.len() / 8 => PackedText {
                encoding: ENCODING_ZSTD,
                bytes: self.scratch[..n].to_vec(),
            },
            // Incompressible text, or a compressor failure (only possible
            // with a too-small buffer, which `compress_bound` rules out):
            // storing the text as it is is always correct.
            _ => PackedText {
                encoding: ENCODING_RAW,
                bytes: text.to_vec(),
            },
        }
    }
}

/// The text of chunk `seq` from its stored bytes and encoding.
pub(crate) fn unpack(encoding: i64, stored: Vec<u8>, seq: i64) -> Result<Vec<u8>> {
    match encoding {
        ENCODING_RAW => Ok(stored),
        ENCODING_LZ4 => lz4_flex::block::decompress_size_prepended(&stored)
            .map_err(|e| StoreError::Corrupt(format!("log chunk {seq}: {e}"))),
        ENCODING_ZSTD => zstd::bulk::decompress(&stored, MAX_UNPACKED_BYTES)
            .map_err(|e| StoreError::Corrupt(format!("log chunk {seq}: {e}"))),
        other => Err(StoreError::Corrupt(format!(
            "log chunk {seq}: unknown encoding {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build_log(lines: usize) -> Vec<u8> {
        (0..lines)
            .map(|i| {
                format!(
                    "   Compiling crate-{} v0.{}.0 (src/lib.rs:{i})",
                    i % 37,
                    i % 5
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes()
    }

    #[test]
    fn repetitive_text_is_zstd_and_round_trips() {
        let text = build_log(20_000);
        let mut packer = LogPacker::new();
        let packed = packer.pack(&text);
        assert_eq!(packed.encoding, ENCODING_ZSTD);
        assert!(
            packed.stored_len() * 8 < text.len(),
            "{}",
            packed.stored_len()
        );
        assert_eq!(unpack(packed.encoding, packed.bytes, 0).unwrap(), text);
        // The packer's reused buffer does not leak one chunk into the next.
        let short = b"short\nlog".to_vec();
        let again = packer.pack(&short);
        assert_eq!(unpack(again.encoding, again.bytes, 1).unwrap(), short);
    }

    #[test]
    fn text_that_does_not_shrink_is_stored_as_is() {
        // A xorshift stream: bytes zstd cannot compress.
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let packed = LogPacker::new().pack(&noise);
        assert_eq!(packed.encoding, ENCODING_RAW);
        assert_eq!(packed.bytes, noise);
        let empty = LogPacker::new().pack(b"");
        assert_eq!(unpack(empty.encoding, empty.bytes, 0).unwrap(), b"");
    }

    #[test]
    fn chunks_stored_as_lz4_before_still_read() {
        let text = build_log(1000);
        let stored = lz4_flex::block::compress_prepend_size(&text);
        assert_eq!(unpack(ENCODING_LZ4, stored, 3).unwrap(), text);
    }

    #[test]
    fn damaged_or_unknown_encodings_are_corrupt_not_a_panic() {
        let text = build_log(1000);
        let mut packed = LogPacker::new().pack(&text);
        packed.bytes.truncate(packed.bytes.len() / 2);
        let err = unpack(ENCODING_ZSTD, packed.bytes, 7).unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt(m) if m.contains("log chunk 7")),
            "{err}"
        );
        assert!(matches!(
            unpack(9, b"x".to_vec(), 8),
            Err(StoreError::Corrupt(m)) if m.contains("unknown encoding 9")
        ));
    }
}
