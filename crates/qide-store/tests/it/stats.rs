//! Contract tests for the dashboard's queries: builds filtered by status and
//! failure category, trends per time bucket, failures per category, pattern
//! sparklines and reports per type.

use qide_store::{
    BuildFinish, BuildQuery, BuildStatus, CategoryFailures, DiagnosisRecord, FingerprintSeen,
    PatternActivity, Store,
};

use crate::harness::{TestDb, build_with_steps, report};

contract_tests!(
    builds_filter_by_status_and_category_newest_first,
    trend_counts_outcomes_and_durations_per_bucket,
    failures_are_counted_per_category_uncategorised_last,
    pattern_activity_counts_builds_per_fingerprint_and_bucket,
    reports_are_counted_per_type_with_mean_confidence,
    the_latest_reports_of_a_fingerprint_come_newest_first_with_their_total,
);

/// Runs a build created at `at` that started at `at` and ran `ran_ms`,
/// ending in `status` with `category`, seeing `fps`.
async fn build(
    store: &dyn Store,
    at: i64,
    ran_ms: i64,
    status: BuildStatus,
    category: Option<&str>,
    fps: &[&str],
) -> i64 {
    let id = store.create_build(&build_with_steps(at, 1)).await.unwrap();
    let claimed = store.claim_next_build(at).await.unwrap().unwrap();
    assert_eq!(claimed.id, id);
    let diagnosis = DiagnosisRecord {
        error_count: fps.len() as i64,
        failure_category: category.map(str::to_owned),
        fingerprints: fps
            .iter()
            .map(|fp| FingerprintSeen {
                fingerprint: (*fp).to_owned(),
                category: category.unwrap_or("unknown").to_owned(),
                tool: "rustc".to_owned(),
                code: None,
                message: format!("message of {fp}"),
                file: None,
            })
            .collect(),
        ..DiagnosisRecord::default()
    };
    store
        .finish_build(
            id,
            &BuildFinish {
                status,
                exit_code: Some(i32::from(status != BuildStatus::Success)),
                failure_kind: None,
                finished_at_ms: at + ran_ms,
            },
            Some(&diagnosis),
        )
        .await
        .unwrap();
    id
}

fn query(status: Option<BuildStatus>, category: Option<&str>, limit: i64) -> BuildQuery {
    BuildQuery {
        status,
        category: category.map(str::to_owned),
        skip: 0,
        limit,
    }
}

async fn builds_filter_by_status_and_category_newest_first(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let ok = build(store, 1_000, 5, BuildStatus::Success, None, &[]).await;
    let compile1 = build(
        store,
        2_000,
        5,
        BuildStatus::Failed,
        Some("compile_error"),
        &[],
    )
    .await;
    let test = build(
        store,
        3_000,
        5,
        BuildStatus::Failed,
        Some("test_failure"),
        &[],
    )
    .await;
    let compile2 = build(
        store,
        4_000,
        5,
        BuildStatus::Error,
        Some("compile_error"),
        &[],
    )
    .await;
    let queued = store
        .create_build(&build_with_steps(5_000, 1))
        .await
        .unwrap();

    let ids = |(builds, total): (Vec<qide_store::BuildRecord>, i64)| {
        (builds.iter().map(|b| b.id).collect::<Vec<_>>(), total)
    };
    assert_eq!(
        ids(store.search_builds(&query(None, None, 10)).await.unwrap()),
        (vec![queued, compile2, test, compile1, ok], 5)
    );
    assert_eq!(
        ids(store
            .search_builds(&query(None, Some("compile_error"), 10))
            .await
            .unwrap()),
        (vec![compile2, compile1], 2)
    );
    assert_eq!(
        ids(store
            .search_builds(&query(Some(BuildStatus::Failed), Some("compile_error"), 10))
            .await
            .unwrap()),
        (vec![compile1], 1)
    );
    assert_eq!(
        ids(store
            .search_builds(&query(Some(BuildStatus::Failed), None, 10))
            .await
            .unwrap()),
        (vec![test, compile1], 2)
    );
    // Paging keeps counting every match.
    let page = BuildQuery {
        skip: 1,
        ..query(None, None, 2)
    };
    assert_eq!(
        ids(store.search_builds(&page).await.unwrap()),
        (vec![compile2, test], 5)
    );
    assert_eq!(
        ids(store
            .search_builds(&query(None, Some("no_such_category"), 10))
            .await
            .unwrap()),
        (vec![], 0)
    );
}

async fn trend_counts_outcomes_and_durations_per_bucket(db: &TestDb) {
    let store: &dyn Store = &db.store;
    // Bucket 0..1000: two verdicts and an error; bucket 2000..3000: one
    // success; one build before `since` that must not count.
    build(store, 10, 100, BuildStatus::Success, None, &[]).await;
    build(store, 20, 300, BuildStatus::Failed, Some("lint"), &[]).await;
    build(store, 30, 9_999, BuildStatus::Error, None, &[]).await;
    build(store, 2_500, 50, BuildStatus::Success, None, &[]).await;
    let trend = store.build_trend(0, 1_000).await.unwrap();
    assert_eq!(trend.len(), 2, "{trend:?}");
    let first = &trend[0];
    assert_eq!(first.start_ms, 0);
    assert_eq!(
        (first.total, first.success, first.failed, first.error),
        (3, 1, 1, 1)
    );
    // The errored build's run time is left out of the durations.
    assert_eq!(first.mean_duration_ms, Some(200.0));
    assert_eq!(first.max_duration_ms, Some(300));
    let second = &trend[1];
    assert_eq!(second.start_ms, 2_000);
    assert_eq!((second.total, second.success), (1, 1));
    assert_eq!(second.mean_duration_ms, Some(50.0));

    let later = store.build_trend(2_000, 1_000).await.unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].start_ms, 2_000);
}

async fn failures_are_counted_per_category_uncategorised_last(db: &TestDb) {
    let store: &dyn Store = &db.store;
    build(store, 1, 1, BuildStatus::Failed, Some("test_failure"), &[]).await;
    build(store, 2, 1, BuildStatus::Failed, Some("compile_error"), &[]).await;
    build(store, 3, 1, BuildStatus::Error, Some("compile_error"), &[]).await;
    build(store, 4, 1, BuildStatus::Error, None, &[]).await;
    build(store, 5, 1, BuildStatus::Failed, Some("lint"), &[]).await;
    build(store, 6, 1, BuildStatus::Success, None, &[]).await;
    let counts = store.failure_categories(0).await.unwrap();
    let expected = |category: Option<&str>, builds| CategoryFailures {
        category: category.map(str::to_owned),
        builds,
    };
    assert_eq!(
        counts,
        vec![
            expected(Some("compile_error"), 2),
            expected(Some("lint"), 1),
            expected(Some("test_failure"), 1),
            expected(None, 1),
        ]
    );
    assert_eq!(
        store.failure_categories(5).await.unwrap(),
        vec![expected(Some("lint"), 1)]
    );
}

async fn pattern_activity_counts_builds_per_fingerprint_and_bucket(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let failed = BuildStatus::Failed;
    build(store, 100, 1, failed, Some("lint"), &["fp_a"]).await;
    build(store, 200, 1, failed, Some("lint"), &["fp_a", "fp_b"]).await;
    build(store, 1_100, 1, failed, Some("lint"), &["fp_a"]).await;
    build(store, 1_200, 1, failed, Some("lint"), &["fp_c"]).await;
    let asked = ["fp_a".to_owned(), "fp_b".to_owned()];
    let activity = store.pattern_activity(&asked, 0, 1_000).await.unwrap();
    let point = |fp: &str, start_ms, builds| PatternActivity {
        fingerprint: fp.to_owned(),
        start_ms,
        builds,
    };
    assert_eq!(
        activity,
        vec![
            point("fp_a", 0, 2),
            point("fp_a", 1_000, 1),
            point("fp_b", 0, 1)
        ]
    );
    assert_eq!(
        store.pattern_activity(&asked, 1_000, 1_000).await.unwrap(),
        vec![point("fp_a", 1_000, 1)]
    );
    assert!(
        store
            .pattern_activity(&[], 0, 1_000)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn reports_are_counted_per_type_with_mean_confidence(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let id = build(store, 1, 1, BuildStatus::Failed, Some("lint"), &["fp"]).await;
    for (kind, confidence) in [
        ("failure_analysis", 0.2),
        ("failure_analysis", 0.6),
        ("other", 0.5),
    ] {
        let mut new = report(id, confidence);
        new.kind = kind.to_owned();
        store.insert_report(&new).await.unwrap();
    }
    let kinds = store.report_kinds(0).await.unwrap();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert_eq!(kinds[0].kind, "failure_analysis");
    assert_eq!(kinds[0].reports, 2);
    assert!((kinds[0].mean_confidence - 0.4).abs() < 1e-9);
    assert_eq!((kinds[1].kind.as_str(), kinds[1].reports), ("other", 1));
    // The harness writes every report at 1,000 ms.
    assert!(store.report_kinds(1_001).await.unwrap().is_empty());
}

async fn the_latest_reports_of_a_fingerprint_come_newest_first_with_their_total(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let first = build(store, 1, 1, BuildStatus::Failed, Some("lint"), &["fp"]).await;
    let second = build(store, 2, 1, BuildStatus::Failed, Some("lint"), &["fp"]).await;
    let mut ids = Vec::new();
    for (build_id, confidence) in [(first, 0.1), (first, 0.2), (second, 0.3)] {
        let mut new = report(build_id, confidence);
        new.fingerprints = vec!["fp".to_owned()];
        ids.push(store.insert_report(&new).await.unwrap().id);
    }
    let (latest, total) = store
        .latest_reports_for_fingerprint("fp", i64::MAX, 2)
        .await
        .unwrap();
    assert_eq!(total, 3);
    assert_eq!(
        latest.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![ids[2], ids[1]]
    );
    // Only reports about builds before the one asked about.
    let (earlier, total) = store
        .latest_reports_for_fingerprint("fp", second, 10)
        .await
        .unwrap();
    assert_eq!((earlier.len(), total), (2, 2));
    assert_eq!(
        store
            .latest_reports_for_fingerprint("other", i64::MAX, 10)
            .await
            .unwrap(),
        (vec![], 0)
    );
}
