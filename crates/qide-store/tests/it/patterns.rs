//! Contract tests for learning: failures tracked across builds by
//! fingerprint, resolved by a later green build of the same steps, linked to
//! the reports written about them.

use qide_store::{
    BuildFinish, BuildStatus, DiagnosisRecord, FingerprintSeen, PatternFilter, Store,
};

use crate::harness::{TestDb, build_with_steps, report, success};

contract_tests!(
    fingerprints_are_tracked_across_builds_and_resolved_by_a_green_build,
    a_green_build_of_other_steps_resolves_nothing,
    reports_link_to_the_build_fingerprints_or_the_ones_they_name,
    patterns_filter_and_count_by_category,
    calibration_scores_confidence_against_what_happened,
    a_green_build_on_the_same_tree_and_steps_is_found,
    the_last_green_build_with_a_commit_is_the_base,
);

fn seen(fp: &str, category: &str) -> FingerprintSeen {
    FingerprintSeen {
        fingerprint: fp.to_owned(),
        category: category.to_owned(),
        tool: "rustc".to_owned(),
        code: Some("E0308".to_owned()),
        message: format!("message of {fp}"),
        file: Some("src/lib.rs".to_owned()),
    }
}

fn failed(at: i64) -> BuildFinish {
    BuildFinish {
        status: BuildStatus::Failed,
        exit_code: Some(1),
        failure_kind: Some("exit_non_zero".to_owned()),
        finished_at_ms: at,
    }
}

/// Runs one build of `steps` steps to `finish`, seeing `fps`.
async fn build(
    store: &dyn Store,
    steps: usize,
    at: i64,
    finish: BuildFinish,
    fps: &[FingerprintSeen],
) -> i64 {
    let id = store
        .create_build(&build_with_steps(at, steps))
        .await
        .unwrap();
    let claimed = store.claim_next_build(at).await.unwrap().unwrap();
    assert_eq!(claimed.id, id);
    let diagnosis = DiagnosisRecord {
        error_count: fps.len() as i64,
        fingerprints: fps.to_vec(),
        ..DiagnosisRecord::default()
    };
    store
        .finish_build(
            id,
            &BuildFinish {
                finished_at_ms: at + 1,
                ..finish
            },
            Some(&diagnosis),
        )
        .await
        .unwrap();
    id
}

async fn fingerprints_are_tracked_across_builds_and_resolved_by_a_green_build(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let a = seen("fp_a", "compile_error");
    let b = seen("fp_b", "test_failure");
    let first = build(store, 2, 10, failed(0), &[a.clone(), a.clone()]).await;
    let second = build(store, 2, 20, failed(0), &[a.clone(), b.clone()]).await;

    let (patterns, total) = store
        .list_patterns(&PatternFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(total, 2);
    let pa = patterns.iter().find(|p| p.fingerprint == "fp_a").unwrap();
    assert_eq!(
        (pa.first_build, pa.last_build, pa.occurrences),
        (first, second, 2),
        "duplicates within a build count once"
    );
    assert_eq!(pa.status, "open");
    assert_eq!(pa.first_seen_at_ms, 11);
    assert_eq!(pa.last_seen_at_ms, 21);

    // The second build knows fp_a from before, not fp_b.
    let known = store.known_issues(second).await.unwrap();
    assert_eq!(
        known
            .iter()
            .map(|p| p.fingerprint.as_str())
            .collect::<Vec<_>>(),
        ["fp_a"]
    );
    assert!(store.known_issues(first).await.unwrap().is_empty());

    let green = build(store, 2, 30, success(0), &[]).await;
    let (patterns, _) = store
        .list_patterns(&PatternFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    for p in &patterns {
        assert_eq!(p.status, "resolved", "{p:?}");
        assert_eq!(p.resolved_build, Some(green));
    }

    // It comes back: open again, the earlier fix kept on record.
    let again = build(store, 2, 40, failed(0), std::slice::from_ref(&a)).await;
    let (open, total) = store
        .list_patterns(&PatternFilter {
            status: Some("open".to_owned()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(open[0].fingerprint, "fp_a");
    assert_eq!(open[0].last_build, again);
    assert_eq!(open[0].occurrences, 3);
    assert_eq!(open[0].resolved_build, Some(green));
}

async fn a_green_build_of_other_steps_resolves_nothing(db: &TestDb) {
    let store: &dyn Store = &db.store;
    build(store, 2, 10, failed(0), &[seen("fp_x", "compile_error")]).await;
    build(store, 3, 20, success(0), &[]).await;
    let (patterns, _) = store
        .list_patterns(&PatternFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(patterns[0].status, "open");
}

async fn reports_link_to_the_build_fingerprints_or_the_ones_they_name(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let first = build(
        store,
        1,
        10,
        failed(0),
        &[seen("fp_1", "compile_error"), seen("fp_2", "lint")],
    )
    .await;
    // No fingerprints named: linked to the build's.
    let mut plain = report(first, 0.7);
    plain.fingerprints.clear();
    store.insert_report(&plain).await.unwrap();
    // Named: linked to those only.
    let mut named = report(first, 0.9);
    named.fingerprints = vec!["fp_2".to_owned(), "fp_2".to_owned()];
    store.insert_report(&named).await.unwrap();

    let later = build(store, 1, 20, failed(0), &[seen("fp_2", "lint")]).await;
    assert_eq!(
        store
            .reports_for_fingerprint("fp_1", later)
            .await
            .unwrap()
            .len(),
        1
    );
    let on_two = store.reports_for_fingerprint("fp_2", later).await.unwrap();
    assert_eq!(
        on_two.iter().map(|r| r.confidence).collect::<Vec<_>>(),
        [0.7, 0.9]
    );
    // Only reports about earlier builds count as what was learned before.
    assert!(
        store
            .reports_for_fingerprint("fp_2", first)
            .await
            .unwrap()
            .is_empty()
    );
    let (patterns, _) = store
        .list_patterns(&PatternFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let p2 = patterns.iter().find(|p| p.fingerprint == "fp_2").unwrap();
    assert_eq!(p2.report_count, 2);
}

async fn patterns_filter_and_count_by_category(db: &TestDb) {
    let store: &dyn Store = &db.store;
    build(
        store,
        1,
        10,
        failed(0),
        &[
            seen("c1", "compile_error"),
            seen("c2", "compile_error"),
            seen("t1", "test_failure"),
        ],
    )
    .await;
    build(store, 1, 20, failed(0), &[seen("c1", "compile_error")]).await;
    let (only, total) = store
        .list_patterns(&PatternFilter {
            category: Some("compile_error".to_owned()),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(total, 2);
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].fingerprint, "c1", "most recently seen first");
    let counts = store.category_counts().await.unwrap();
    let compile = counts
        .iter()
        .find(|c| c.category == "compile_error")
        .unwrap();
    assert_eq!(
        (compile.open, compile.resolved, compile.occurrences),
        (2, 0, 3)
    );
    assert_eq!(
        counts
            .iter()
            .find(|c| c.category == "test_failure")
            .unwrap()
            .open,
        1
    );
}

async fn calibration_scores_confidence_against_what_happened(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let first = build(store, 1, 10, failed(0), &[seen("fp_c", "compile_error")]).await;
    let mut sure = report(first, 0.9);
    sure.fingerprints.clear();
    sure.agent = Some("good".to_owned());
    store.insert_report(&sure).await.unwrap();
    let mut doubtful = report(first, 0.2);
    doubtful.fingerprints.clear();
    doubtful.agent = Some("timid".to_owned());
    store.insert_report(&doubtful).await.unwrap();
    // Fixed after the reports: both were right that it could be fixed.
    build(store, 1, 20, success(0), &[]).await;
    let calibration = store.calibration().await.unwrap();
    let good = calibration
        .iter()
        .find(|c| c.agent.as_deref() == Some("good"))
        .unwrap();
    let timid = calibration
        .iter()
        .find(|c| c.agent.as_deref() == Some("timid"))
        .unwrap();
    assert_eq!((good.reports, good.resolved), (1, 1));
    assert!((good.brier - 0.01).abs() < 1e-9, "{}", good.brier);
    assert!((timid.brier - 0.64).abs() < 1e-9, "{}", timid.brier);
}

async fn a_green_build_on_the_same_tree_and_steps_is_found(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let tree = |hash: &str| qide_store::WorkspaceState {
        tree_hash: Some(hash.to_owned()),
        ..Default::default()
    };
    let green = build(store, 2, 10, success(0), &[]).await;
    store.set_workspace(green, &tree("b3:one")).await.unwrap();
    let red = build(store, 2, 20, failed(0), &[]).await;
    store.set_workspace(red, &tree("b3:one")).await.unwrap();
    let other_steps = build(store, 3, 30, failed(0), &[]).await;
    store
        .set_workspace(other_steps, &tree("b3:one"))
        .await
        .unwrap();
    assert_eq!(
        store.green_build_on_tree("b3:one", red, red).await.unwrap(),
        Some(green)
    );
    assert_eq!(
        store
            .green_build_on_tree("b3:one", other_steps, other_steps)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.green_build_on_tree("b3:two", red, red).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .green_build_on_tree("b3:one", green, green)
            .await
            .unwrap(),
        None,
        "not itself"
    );
}

async fn the_last_green_build_with_a_commit_is_the_base(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let commit = |c: &str| qide_store::WorkspaceState {
        commit: Some(c.to_owned()),
        ..Default::default()
    };
    let old_green = build(store, 1, 10, success(0), &[]).await;
    store
        .set_workspace(old_green, &commit("aaaa"))
        .await
        .unwrap();
    let no_commit = build(store, 1, 20, success(0), &[]).await;
    let red = build(store, 1, 30, failed(0), &[]).await;
    let later_green = build(store, 1, 40, success(0), &[]).await;
    store
        .set_workspace(later_green, &commit("bbbb"))
        .await
        .unwrap();
    let base = store.last_green_before(red).await.unwrap().expect("a base");
    assert_eq!(
        base.id, old_green,
        "not the one without a commit ({no_commit}), not a later one"
    );
    assert!(store.last_green_before(old_green).await.unwrap().is_none());
}
