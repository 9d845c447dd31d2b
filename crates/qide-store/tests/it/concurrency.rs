//! Contract tests under concurrent callers: claims never hand one build to
//! two runners, and writers wait for each other instead of failing.

use std::collections::BTreeSet;
use std::sync::Arc;

use qide_store::{BuildStatus, LogMeta, Store};

use crate::harness::{TestDb, build_with_steps, chunk, report, running_build};

contract_tests!(
    concurrent_claims_never_share_a_build,
    concurrent_reports_all_succeed,
    concurrent_writers_of_every_kind_all_succeed,
);

async fn concurrent_claims_never_share_a_build(db: &TestDb) {
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let mut created = BTreeSet::new();
    for i in 0..20 {
        created.insert(store.create_build(&build_with_steps(i, 1)).await.unwrap());
    }

    let mut claimers = Vec::new();
    for _ in 0..8 {
        let store = Arc::clone(&store);
        claimers.push(tokio::spawn(async move {
            let mut claimed = Vec::new();
            while let Some(build) = store.claim_next_build(100).await.unwrap() {
                assert_eq!(build.status, BuildStatus::Running);
                claimed.push(build.id);
            }
            claimed
        }));
    }
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.unwrap());
    }
    let unique: BTreeSet<_> = all.iter().copied().collect();
    assert_eq!(
        unique.len(),
        all.len(),
        "a build was claimed twice: {all:?}"
    );
    assert_eq!(unique, created, "every queued build is claimed");
    for id in created {
        assert_eq!(
            store.get_build(id).await.unwrap().status,
            BuildStatus::Running
        );
    }
    assert_eq!(store.claim_next_build(200).await.unwrap(), None);
}

async fn concurrent_reports_all_succeed(db: &TestDb) {
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let id = store.create_build(&build_with_steps(1, 1)).await.unwrap();

    let mut writers = Vec::new();
    for i in 0..50 {
        let store = Arc::clone(&store);
        writers.push(tokio::spawn(async move {
            let mut new = report(id, f64::from(i) / 50.0);
            new.analysis = format!("report {i}");
            store.insert_report(&new).await
        }));
    }
    let mut stored = Vec::new();
    for writer in writers {
        stored.push(
            writer
                .await
                .unwrap()
                .expect("every concurrent report is stored"),
        );
    }
    stored.sort_by_key(|r| r.id);

    let listed = store.list_reports(id).await.unwrap();
    assert_eq!(listed, stored);
    let analyses: BTreeSet<_> = listed.iter().map(|r| r.analysis.clone()).collect();
    assert_eq!(analyses.len(), 50);
    assert_eq!(store.get_build(id).await.unwrap().report_count, 50);
}

async fn concurrent_writers_of_every_kind_all_succeed(db: &TestDb) {
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let mut running = Vec::new();
    for i in 0..4 {
        running.push(running_build(&*store, i * 10).await);
    }

    let mut tasks = Vec::new();
    // One log writer per running build, as the runner has.
    for &id in &running {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut meta = LogMeta::default();
            for seq in 0..25 {
                let chunk = chunk(seq, 0, seq + 1, &["line"]);
                meta.line_count += 1;
                meta.bytes += 5;
                store.append_log_chunk(id, &chunk, &meta).await.unwrap();
            }
        }));
    }
    // Meanwhile builds are queued, cancelled and reported on.
    for i in 0..8 {
        let store = Arc::clone(&store);
        let target = running[i % running.len()];
        tasks.push(tokio::spawn(async move {
            for j in 0..5 {
                let id = store
                    .create_build(&build_with_steps(100 + j, 2))
                    .await
                    .unwrap();
                if j % 2 == 0 {
                    assert!(store.cancel_queued(id, 200).await.unwrap());
                }
                store.insert_report(&report(target, 0.5)).await.unwrap();
                store
                    .list_builds(&qide_store::BuildFilter {
                        status: None,
                        skip: 0,
                        limit: 5,
                    })
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    for &id in &running {
        let build = store.get_build(id).await.unwrap();
        assert_eq!((build.log.line_count, build.log.bytes), (25, 125));
        assert_eq!(store.log_chunks_from(id, 1, 100).await.unwrap().len(), 25);
        assert_eq!(build.report_count, 10);
    }
    let (_, total) = store
        .list_builds(&qide_store::BuildFilter {
            status: Some(BuildStatus::Queued),
            skip: 0,
            limit: 0,
        })
        .await
        .unwrap();
    assert_eq!(total, 16, "8 writers each left 2 of their 5 builds queued");
}
