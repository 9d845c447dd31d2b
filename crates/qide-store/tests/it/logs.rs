//! Contract tests for build logs: line-numbered chunks, reading from a line
//! or from the end, dropping the middle, and binary text.

use qide_store::{Dropped, LogChunk, LogMeta, LogPacker, Store, StoreError};
use sqlx::Connection;

use crate::harness::{TestDb, chunk, running_build};

contract_tests!(
    log_chunks_read_from_a_line_and_from_the_end,
    dropped_chunk_leaves_a_gap_that_reads_skip,
    log_text_round_trips_arbitrary_bytes,
    logs_of_builds_do_not_mix,
    one_write_appends_and_drops_chunks_together,
    chunks_stored_as_lz4_by_earlier_versions_still_read,
);

/// Four chunks over two steps: lines 1-3, 4-5, 6-9 and 10.
fn four_chunks() -> Vec<LogChunk> {
    vec![
        chunk(0, 0, 1, &["compiling a", "compiling b", "compiling c"]),
        chunk(1, 0, 4, &["warning: unused", "finished"]),
        chunk(
            2,
            1,
            6,
            &[
                "running 3 tests",
                "test a ... ok",
                "test b ... FAILED",
                "test c ... ok",
            ],
        ),
        chunk(3, 1, 10, &["test result: FAILED"]),
    ]
}

/// Appends the chunks with a growing meta, as the runner does; returns the
/// final meta.
async fn append_all(store: &dyn Store, build_id: i64, chunks: &[LogChunk]) -> LogMeta {
    let mut meta = LogMeta::default();
    for chunk in chunks {
        meta.line_count += chunk.line_count();
        meta.bytes += chunk.text.len() as i64 + chunk.line_count();
        store
            .append_log_chunk(build_id, chunk, &meta)
            .await
            .unwrap();
        assert_eq!(store.get_build(build_id).await.unwrap().log, meta);
    }
    meta
}

fn seqs(chunks: &[LogChunk]) -> Vec<i64> {
    chunks.iter().map(|c| c.seq).collect()
}

async fn log_chunks_read_from_a_line_and_from_the_end(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let id = running_build(store, 1).await;
    assert!(store.log_chunks_from(id, 1, 10).await.unwrap().is_empty());
    assert!(store.log_chunks_last(id, 10).await.unwrap().is_empty());

    let chunks = four_chunks();
    let meta = append_all(store, id, &chunks).await;
    assert_eq!(meta.line_count, 10);

    assert_eq!(
        store.log_chunks_from(id, 1, 10).await.unwrap(),
        chunks,
        "all, exactly"
    );
    assert_eq!(store.log_chunks_from(id, 0, 10).await.unwrap(), chunks);
    // A line in the middle of a chunk brings that whole chunk first.
    for (from_line, expected) in [
        (2, vec![0, 1, 2, 3]),
        (3, vec![0, 1, 2, 3]),
        (4, vec![1, 2, 3]),
        (5, vec![1, 2, 3]),
        (6, vec![2, 3]),
        (8, vec![2, 3]),
        (9, vec![2, 3]),
        (10, vec![3]),
        (11, vec![]),
        (1_000, vec![]),
    ] {
        let got = store.log_chunks_from(id, from_line, 10).await.unwrap();
        assert_eq!(seqs(&got), expected, "from line {from_line}");
    }
    assert_eq!(
        seqs(&store.log_chunks_from(id, 5, 2).await.unwrap()),
        [1, 2]
    );
    assert_eq!(seqs(&store.log_chunks_from(id, 1, 1).await.unwrap()), [0]);

    assert_eq!(seqs(&store.log_chunks_last(id, 2).await.unwrap()), [2, 3]);
    assert_eq!(seqs(&store.log_chunks_last(id, 1).await.unwrap()), [3]);
    assert_eq!(store.log_chunks_last(id, 10).await.unwrap(), chunks);
    // No chunks asked, none given, on both databases.
    for max_chunks in [0, -1] {
        assert!(
            store
                .log_chunks_from(id, 1, max_chunks)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .log_chunks_last(id, max_chunks)
                .await
                .unwrap()
                .is_empty()
        );
    }

    let lines: Vec<_> = store.log_chunks_from(id, 4, 1).await.unwrap()[0]
        .lines()
        .map(|(n, stream, text)| (n, stream, text.to_vec()))
        .collect();
    assert_eq!(
        lines,
        [
            (4, b'o', b"warning: unused".to_vec()),
            (5, b'o', b"finished".to_vec())
        ]
    );
}

async fn dropped_chunk_leaves_a_gap_that_reads_skip(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let id = running_build(store, 1).await;
    let chunks = four_chunks();
    let mut meta = append_all(store, id, &chunks).await;

    // The cap drops the middle: chunk 1 (lines 4-5), then chunk 2 (6-9).
    meta.dropped = Some(Dropped {
        first_line: 4,
        last_line: 5,
        bytes: 25,
    });
    store.drop_log_chunk(id, 1, &meta).await.unwrap();
    assert_eq!(store.get_build(id).await.unwrap().log, meta);
    assert_eq!(
        seqs(&store.log_chunks_from(id, 1, 10).await.unwrap()),
        [0, 2, 3]
    );
    assert_eq!(
        seqs(&store.log_chunks_from(id, 4, 10).await.unwrap()),
        [2, 3]
    );
    assert_eq!(
        seqs(&store.log_chunks_from(id, 5, 10).await.unwrap()),
        [2, 3]
    );
    assert_eq!(seqs(&store.log_chunks_from(id, 3, 1).await.unwrap()), [0]);

    meta.dropped = Some(Dropped {
        first_line: 4,
        last_line: 9,
        bytes: 99,
    });
    store.drop_log_chunk(id, 2, &meta).await.unwrap();
    assert_eq!(store.get_build(id).await.unwrap().log.dropped, meta.dropped);
    assert_eq!(
        seqs(&store.log_chunks_from(id, 1, 10).await.unwrap()),
        [0, 3]
    );
    for from_line in 4..=10 {
        let got = store.log_chunks_from(id, from_line, 10).await.unwrap();
        assert_eq!(
            seqs(&got),
            [3],
            "from line {from_line} continues after the gap"
        );
    }
    assert_eq!(seqs(&store.log_chunks_last(id, 2).await.unwrap()), [0, 3]);
    assert_eq!(
        store.get_build(id).await.unwrap().log.line_count,
        10,
        "dropped lines still count"
    );
}

async fn log_text_round_trips_arbitrary_bytes(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let id = running_build(store, 1).await;
    let chunks = vec![
        LogChunk {
            seq: 0,
            step_idx: 0,
            first_line: 1,
            // NUL, invalid UTF-8, a lone continuation byte, CR, escape codes.
            text: b"\0\xff\xfe bad \x80\n\x1b[31merror\x1b[0m\r\n\0".to_vec(),
            streams: b"oes".to_vec(),
        },
        LogChunk {
            seq: 1,
            step_idx: 0,
            first_line: 4,
            // One empty line.
            text: Vec::new(),
            streams: b"e".to_vec(),
        },
        LogChunk {
            seq: 2,
            step_idx: 1,
            first_line: 5,
            text: (0..=255u8).filter(|&b| b != b'\n').collect(),
            streams: b"o".to_vec(),
        },
        LogChunk {
            seq: 3,
            step_idx: 1,
            first_line: 6,
            text: "ünïcödé ✓ 🦀\n'quoted' \"double\" \\ back"
                .as_bytes()
                .to_vec(),
            streams: b"oo".to_vec(),
        },
    ];
    append_all(store, id, &chunks).await;
    assert_eq!(store.log_chunks_from(id, 1, 10).await.unwrap(), chunks);
    assert_eq!(store.log_chunks_last(id, 10).await.unwrap(), chunks);

    let first = &store.log_chunks_from(id, 1, 1).await.unwrap()[0];
    let lines: Vec<_> = first.lines().map(|(n, s, t)| (n, s, t.to_vec())).collect();
    assert_eq!(
        lines,
        [
            (1, b'o', b"\0\xff\xfe bad \x80".to_vec()),
            (2, b'e', b"\x1b[31merror\x1b[0m\r".to_vec()),
            (3, b's', b"\0".to_vec()),
        ]
    );
}

async fn logs_of_builds_do_not_mix(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let first = running_build(store, 1).await;
    let second = running_build(store, 2).await;
    let ours = chunk(0, 0, 1, &["first build"]);
    let theirs = chunk(0, 0, 1, &["second build", "more"]);
    let meta = LogMeta {
        line_count: 1,
        bytes: 12,
        dropped: None,
    };
    store.append_log_chunk(first, &ours, &meta).await.unwrap();
    let their_meta = LogMeta {
        line_count: 2,
        bytes: 18,
        dropped: None,
    };
    store
        .append_log_chunk(second, &theirs, &their_meta)
        .await
        .unwrap();

    assert_eq!(
        store.log_chunks_from(first, 1, 10).await.unwrap(),
        std::slice::from_ref(&ours)
    );
    assert_eq!(store.log_chunks_last(first, 10).await.unwrap(), [ours]);
    assert_eq!(
        store.log_chunks_from(second, 2, 10).await.unwrap(),
        [theirs]
    );
    assert!(
        store
            .log_chunks_from(first, 2, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.get_build(first).await.unwrap().log, meta);
    assert_eq!(store.get_build(second).await.unwrap().log, their_meta);
    assert!(
        store
            .log_chunks_from(second + 1000, 1, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Storing the same chunk twice is a bug in the caller, not a silent
    // overwrite, and the failed append leaves the meta as it was.
    let again = chunk(0, 0, 2, &["again"]);
    let bigger = LogMeta {
        line_count: 2,
        bytes: 18,
        dropped: None,
    };
    assert!(
        store
            .append_log_chunk(first, &again, &bigger)
            .await
            .is_err()
    );
    assert_eq!(store.get_build(first).await.unwrap().log, meta);
    assert_eq!(store.log_chunks_from(first, 1, 10).await.unwrap().len(), 1);

    let unknown = second + 1000;
    let err = store
        .append_log_chunk(unknown, &again, &bigger)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    assert!(
        store
            .log_chunks_from(unknown, 1, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let err = store.drop_log_chunk(unknown, 0, &bigger).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

/// A chunk of `lines` build-log lines, big and repetitive enough that it is
/// stored compressed.
fn big_chunk(seq: i64, first_line: i64, lines: usize) -> LogChunk {
    let text: Vec<String> = (0..lines)
        .map(|i| {
            format!(
                "   Compiling dep-{} v1.{}.0 (line {})",
                i % 17,
                i % 3,
                first_line + i as i64
            )
        })
        .collect();
    let refs: Vec<&str> = text.iter().map(String::as_str).collect();
    chunk(seq, 0, first_line, &refs)
}

async fn one_write_appends_and_drops_chunks_together(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let id = running_build(store, 1).await;
    let mut packer = LogPacker::new();
    let chunks = [
        big_chunk(0, 1, 5000),
        big_chunk(1, 5001, 5000),
        big_chunk(2, 10_001, 10),
    ];
    let packed: Vec<_> = chunks.iter().map(|c| packer.pack(&c.text)).collect();
    assert!(
        packed[0].stored_len() * 4 < chunks[0].text.len(),
        "build logs are stored compressed"
    );
    let pairs: Vec<_> = chunks.iter().zip(&packed).collect();
    let mut meta = LogMeta {
        line_count: 10_010,
        bytes: chunks.iter().map(|c| c.text.len() as i64 + 1).sum(),
        dropped: None,
    };
    store.write_log(id, &pairs[..2], &[], &meta).await.unwrap();
    assert_eq!(store.log_chunks_from(id, 1, 10).await.unwrap(), chunks[..2]);

    // The cap drops chunk 0 while chunk 2 arrives; the same write may also
    // drop a chunk it appends (a tiny tail), leaving neither behind.
    let late = big_chunk(3, 10_011, 1);
    let late_packed = packer.pack(&late.text);
    meta.line_count = 10_011;
    meta.dropped = Some(Dropped {
        first_line: 1,
        last_line: 5000,
        bytes: chunks[0].text.len() as i64 + 1,
    });
    store
        .write_log(id, &[pairs[2], (&late, &late_packed)], &[0, 3], &meta)
        .await
        .unwrap();
    assert_eq!(store.get_build(id).await.unwrap().log, meta);
    assert_eq!(store.log_chunks_from(id, 1, 10).await.unwrap(), chunks[1..]);
    assert_eq!(store.log_chunks_last(id, 1).await.unwrap(), chunks[2..]);

    // One transaction: a batch whose second chunk repeats a stored seq
    // stores none of it, drops nothing and leaves the meta as it was.
    let fresh = big_chunk(4, 20_000, 3);
    let fresh_packed = packer.pack(&fresh.text);
    let repeat = big_chunk(1, 30_000, 3);
    let repeat_packed = packer.pack(&repeat.text);
    let failed = LogMeta {
        line_count: 40_000,
        bytes: 1,
        dropped: None,
    };
    assert!(
        store
            .write_log(
                id,
                &[(&fresh, &fresh_packed), (&repeat, &repeat_packed)],
                &[2],
                &failed
            )
            .await
            .is_err()
    );
    assert_eq!(store.get_build(id).await.unwrap().log, meta);
    assert_eq!(store.log_chunks_from(id, 1, 10).await.unwrap(), chunks[1..]);

    let err = store
        .write_log(id + 1000, &[(&fresh, &fresh_packed)], &[], &meta)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn chunks_stored_as_lz4_by_earlier_versions_still_read(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let id = running_build(store, 1).await;
    let old = big_chunk(0, 1, 2000);
    let new = big_chunk(1, 2001, 2000);
    // Written as QIDE wrote log chunks before zstd: an LZ4 block, length
    // first, with encoding 1.
    let mut conn = sqlx::AnyConnection::connect(&db.url()).await.unwrap();
    sqlx::query(
        "INSERT INTO log_chunks (build_id, seq, step_idx, first_line, line_count, text, streams, encoding) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1)",
    )
    .bind(id)
    .bind(old.seq)
    .bind(old.step_idx)
    .bind(old.first_line)
    .bind(old.line_count())
    .bind(lz4_flex::block::compress_prepend_size(&old.text))
    .bind(old.streams.clone())
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let meta = LogMeta {
        line_count: 4000,
        bytes: (old.text.len() + new.text.len() + 2) as i64,
        dropped: None,
    };
    store.append_log_chunk(id, &new, &meta).await.unwrap();
    assert_eq!(
        store.log_chunks_from(id, 1, 10).await.unwrap(),
        [old.clone(), new.clone()]
    );
    assert_eq!(store.log_chunks_last(id, 10).await.unwrap(), [old, new]);
}
