//! Contract tests for a build's life: queue, claim, steps, finish, cancel,
//! interruption, listing and counting.

use std::collections::BTreeMap;

use qide_store::{
    BuildFilter, BuildFinish, BuildStatus, DiagnosisRecord, LogMeta, StepUpdate, Store, StoreError,
    WorkspaceState,
};

use crate::harness::{
    TestDb, build_with_steps, chunk, env, report, running_build, success, two_step_build,
};

contract_tests!(
    create_build_stores_steps_in_order_and_env,
    build_ids_only_grow,
    claim_next_build_takes_the_oldest_queued_build,
    set_workspace_round_trips,
    update_step_round_trips_and_rejects_unknown_steps,
    finish_build_records_the_outcome_and_forgets_the_env,
    finish_build_refuses_builds_that_are_not_running,
    cancel_queued_only_cancels_queued_builds,
    get_build_of_unknown_id_is_not_found,
    list_builds_pages_newest_first_and_filters_by_status,
    build_counts_counts_each_status,
    mark_interrupted_ends_running_builds_and_keeps_their_logs,
);

async fn create_build_stores_steps_in_order_and_env(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let new = two_step_build(1_000);
    let id = store.create_build(&new).await.unwrap();

    let build = store.get_build(id).await.unwrap();
    assert_eq!(build.id, id);
    assert_eq!(build.status, BuildStatus::Queued);
    assert_eq!(build.trigger, "test");
    assert_eq!(build.created_at_ms, 1_000);
    assert_eq!(build.started_at_ms, None);
    assert_eq!(build.finished_at_ms, None);
    assert_eq!(build.exit_code, None);
    assert_eq!(build.failure_kind, None);
    assert_eq!(build.timeout_s, Some(600));
    assert_eq!(build.env, new.env);
    assert_eq!((build.commit.clone(), build.dirty), (None, None));
    assert_eq!(
        (build.error_count, build.warning_count, build.report_count),
        (0, 0, 0)
    );
    assert_eq!(build.log, LogMeta::default());

    let steps = store.list_steps(id).await.unwrap();
    let summary: Vec<_> = steps
        .iter()
        .map(|s| {
            (
                s.idx,
                s.name.as_str(),
                s.run.as_str(),
                s.status.as_str(),
                s.timeout_s,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (0, "build", "cargo build --workspace", "queued", Some(300)),
            (1, "test", "cargo test", "queued", None),
        ]
    );
    assert_eq!(steps[0].env, env(&[("CARGO_INCREMENTAL", "0")]));
    assert_eq!(steps[1].env, BTreeMap::new());
    assert!(
        steps
            .iter()
            .all(|s| s.exit_code.is_none() && s.started_at_ms.is_none())
    );

    // A build without environment or steps is fine too, and odd text survives.
    let mut bare = build_with_steps(2_000, 0);
    bare.trigger = "hook «ünïcode» 'quoted' \"double\"".to_owned();
    let bare_id = store.create_build(&bare).await.unwrap();
    let bare_build = store.get_build(bare_id).await.unwrap();
    assert_eq!(bare_build.trigger, bare.trigger);
    assert!(bare_build.env.is_empty());
    assert!(store.list_steps(bare_id).await.unwrap().is_empty());
}

async fn build_ids_only_grow(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let mut last = 0;
    for i in 0..5 {
        let id = store.create_build(&build_with_steps(i, 1)).await.unwrap();
        assert!(id > last, "build id {id} after {last}");
        last = id;
    }
    // Finishing or cancelling the newest build must not let its id be reused.
    assert!(store.cancel_queued(last, 10).await.unwrap());
    let next = store.create_build(&build_with_steps(11, 1)).await.unwrap();
    assert!(next > last, "build id {next} after {last}");
}

async fn claim_next_build_takes_the_oldest_queued_build(db: &TestDb) {
    let store: &dyn Store = &db.store;
    assert_eq!(store.claim_next_build(1).await.unwrap(), None);

    let first = store.create_build(&two_step_build(100)).await.unwrap();
    let second = store.create_build(&two_step_build(50)).await.unwrap();
    let third = store.create_build(&two_step_build(200)).await.unwrap();
    // A cancelled build is not queued any more and must be passed over.
    assert!(store.cancel_queued(second, 300).await.unwrap());

    let claimed = store.claim_next_build(400).await.unwrap().expect("a build");
    assert_eq!(claimed.id, first);
    assert_eq!(claimed.status, BuildStatus::Running);
    assert_eq!(claimed.started_at_ms, Some(400));
    assert_eq!(
        claimed.env,
        two_step_build(0).env,
        "the runner needs the env"
    );
    assert_eq!(store.get_build(first).await.unwrap(), claimed);

    let claimed = store.claim_next_build(500).await.unwrap().expect("a build");
    assert_eq!((claimed.id, claimed.started_at_ms), (third, Some(500)));

    assert_eq!(store.claim_next_build(600).await.unwrap(), None);
    assert_eq!(
        store.get_build(second).await.unwrap().status,
        BuildStatus::Error
    );
}

async fn set_workspace_round_trips(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let id = running_build(store, 1).await;
    let state = WorkspaceState {
        commit: Some("0123456789abcdef0123456789abcdef01234567".to_owned()),
        branch: Some("feature/x".to_owned()),
        dirty: Some(true),
        tree_hash: Some("blake3:00ff".to_owned()),
    };
    store.set_workspace(id, &state).await.unwrap();
    let build = store.get_build(id).await.unwrap();
    assert_eq!(
        (build.commit, build.branch, build.dirty, build.tree_hash),
        (state.commit, state.branch, state.dirty, state.tree_hash)
    );

    let clean = WorkspaceState {
        dirty: Some(false),
        ..WorkspaceState::default()
    };
    store.set_workspace(id, &clean).await.unwrap();
    let build = store.get_build(id).await.unwrap();
    assert_eq!((build.commit, build.dirty), (None, Some(false)));

    let err = store.set_workspace(id + 1000, &clean).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn update_step_round_trips_and_rejects_unknown_steps(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let id = running_build(store, 1).await;

    let started = StepUpdate {
        idx: 0,
        status: "running".to_owned(),
        started_at_ms: Some(10),
        first_line: Some(1),
        ..StepUpdate::default()
    };
    store.update_step(id, &started).await.unwrap();
    let step = &store.list_steps(id).await.unwrap()[0];
    assert_eq!(step.status, "running");
    assert_eq!(
        (step.started_at_ms, step.first_line, step.last_line),
        (Some(10), Some(1), None)
    );

    // The end leaves start time and first line alone when it does not say.
    let ended = StepUpdate {
        idx: 0,
        status: "failed".to_owned(),
        exit_code: Some(-2),
        signal: None,
        failure_kind: Some("exit".to_owned()),
        started_at_ms: None,
        finished_at_ms: Some(20),
        first_line: None,
        last_line: Some(42),
    };
    store.update_step(id, &ended).await.unwrap();
    let steps = store.list_steps(id).await.unwrap();
    let step = &steps[0];
    assert_eq!(step.status, "failed");
    assert_eq!(step.exit_code, Some(-2));
    assert_eq!(step.signal, None);
    assert_eq!(step.failure_kind.as_deref(), Some("exit"));
    assert_eq!(
        (step.started_at_ms, step.finished_at_ms),
        (Some(10), Some(20))
    );
    assert_eq!((step.first_line, step.last_line), (Some(1), Some(42)));
    assert_eq!(
        step.name, "build",
        "an update must not touch the definition"
    );
    assert_eq!(steps[1].status, "queued", "only the named step changes");

    let killed = StepUpdate {
        idx: 1,
        status: "failed".to_owned(),
        exit_code: None,
        signal: Some("SIGKILL".to_owned()),
        failure_kind: Some("timeout".to_owned()),
        started_at_ms: Some(30),
        finished_at_ms: Some(40),
        first_line: Some(43),
        last_line: Some(43),
    };
    store.update_step(id, &killed).await.unwrap();
    let step = &store.list_steps(id).await.unwrap()[1];
    assert_eq!(
        (step.exit_code, step.signal.as_deref()),
        (None, Some("SIGKILL"))
    );
    assert_eq!(step.failure_kind.as_deref(), Some("timeout"));

    let unknown_step = StepUpdate {
        idx: 7,
        ..killed.clone()
    };
    let err = store.update_step(id, &unknown_step).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let err = store.update_step(id + 1000, &killed).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn finish_build_records_the_outcome_and_forgets_the_env(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let id = running_build(store, 1).await;
    let meta = LogMeta {
        line_count: 2,
        bytes: 8,
        dropped: None,
    };
    store
        .append_log_chunk(id, &chunk(0, 0, 1, &["abc", "def"]), &meta)
        .await
        .unwrap();
    assert_eq!(store.diagnosis(id).await.unwrap(), None);

    let finish = BuildFinish {
        status: BuildStatus::Failed,
        exit_code: Some(101),
        failure_kind: Some("exit".to_owned()),
        finished_at_ms: 5_000,
    };
    let diagnosis = DiagnosisRecord {
        error_count: 3,
        warning_count: 7,
        failure_category: Some("compile".to_owned()),
        summary: b"{\"summary\":\0\xff}".to_vec(),
        fingerprints: vec![],
        tests: vec![],
    };
    store
        .finish_build(id, &finish, Some(&diagnosis))
        .await
        .unwrap();

    let build = store.get_build(id).await.unwrap();
    assert_eq!(build.status, BuildStatus::Failed);
    assert_eq!(build.exit_code, Some(101));
    assert_eq!(build.failure_kind.as_deref(), Some("exit"));
    assert_eq!(build.started_at_ms, Some(2), "the start time is kept");
    assert_eq!(build.finished_at_ms, Some(5_000));
    assert_eq!((build.error_count, build.warning_count), (3, 7));
    assert_eq!(build.failure_category.as_deref(), Some("compile"));
    assert!(
        build.env.is_empty(),
        "a finished build keeps no env: {:?}",
        build.env
    );
    assert_eq!(build.log, meta, "the log is kept");
    assert!(
        store
            .list_steps(id)
            .await
            .unwrap()
            .iter()
            .all(|s| s.env.is_empty())
    );
    assert_eq!(
        store.diagnosis(id).await.unwrap(),
        Some(diagnosis.summary.clone())
    );
    assert_eq!(store.log_chunks_from(id, 1, 10).await.unwrap().len(), 1);

    // Without a diagnosis the counts are zero and there is no summary.
    let plain = running_build(store, 10).await;
    store
        .finish_build(plain, &success(6_000), None)
        .await
        .unwrap();
    let build = store.get_build(plain).await.unwrap();
    assert_eq!(
        (build.status, build.exit_code),
        (BuildStatus::Success, Some(0))
    );
    assert_eq!((build.error_count, build.warning_count), (0, 0));
    assert_eq!((build.failure_kind, build.failure_category), (None, None));
    assert_eq!(store.diagnosis(plain).await.unwrap(), None);

    let err = store.diagnosis(plain + 1000).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn finish_build_refuses_builds_that_are_not_running(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let id = running_build(store, 1).await;
    store.finish_build(id, &success(100), None).await.unwrap();
    let finished = store.get_build(id).await.unwrap();

    let again = BuildFinish {
        status: BuildStatus::Failed,
        exit_code: Some(1),
        failure_kind: Some("exit".to_owned()),
        finished_at_ms: 200,
    };
    let err = store.finish_build(id, &again, None).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        store.get_build(id).await.unwrap(),
        finished,
        "a refused finish changes nothing"
    );

    let queued = store.create_build(&two_step_build(300)).await.unwrap();
    let err = store
        .finish_build(queued, &success(400), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let build = store.get_build(queued).await.unwrap();
    assert_eq!(build.status, BuildStatus::Queued);
    assert!(
        !build.env.is_empty(),
        "a refused finish must not forget the env"
    );

    let err = store
        .finish_build(queued + 1000, &success(500), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn cancel_queued_only_cancels_queued_builds(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let running = running_build(store, 1).await;
    let queued = store.create_build(&two_step_build(2)).await.unwrap();

    assert!(store.cancel_queued(queued, 700).await.unwrap());
    let build = store.get_build(queued).await.unwrap();
    assert_eq!(build.status, BuildStatus::Error);
    assert_eq!(build.failure_kind.as_deref(), Some("cancelled"));
    assert_eq!(build.finished_at_ms, Some(700));
    assert_eq!(build.started_at_ms, None);
    assert!(build.env.is_empty());
    let steps = store.list_steps(queued).await.unwrap();
    assert_eq!(steps.len(), 2);
    assert!(
        steps
            .iter()
            .all(|s| s.status == "skipped" && s.env.is_empty()),
        "{steps:?}"
    );

    assert!(
        !store.cancel_queued(queued, 800).await.unwrap(),
        "cancelled twice"
    );
    assert_eq!(
        store.get_build(queued).await.unwrap().finished_at_ms,
        Some(700)
    );

    let before = store.get_build(running).await.unwrap();
    assert!(!store.cancel_queued(running, 900).await.unwrap());
    assert_eq!(store.get_build(running).await.unwrap(), before);
    assert!(
        store
            .list_steps(running)
            .await
            .unwrap()
            .iter()
            .all(|s| s.status == "queued")
    );

    assert!(!store.cancel_queued(running + 1000, 900).await.unwrap());
}

async fn get_build_of_unknown_id_is_not_found(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let err = store.get_build(1).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let id = store.create_build(&two_step_build(1)).await.unwrap();
    for unknown in [id + 1, 0, -1, i64::MAX] {
        let err = store.get_build(unknown).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{unknown}: {err:?}");
    }
    assert!(store.list_steps(id + 1).await.unwrap().is_empty());
}

async fn list_builds_pages_newest_first_and_filters_by_status(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let (builds, total) = store.list_builds(&page(None, 0, 10)).await.unwrap();
    assert_eq!((builds.len(), total), (0, 0));

    // b1 succeeds, b2 runs, b3..b5 wait.
    let b1 = running_build(store, 1).await;
    store.finish_build(b1, &success(2), None).await.unwrap();
    let b2 = running_build(store, 3).await;
    let b3 = store.create_build(&two_step_build(4)).await.unwrap();
    let b4 = store.create_build(&two_step_build(5)).await.unwrap();
    let b5 = store.create_build(&two_step_build(6)).await.unwrap();
    store.insert_report(&report(b3, 0.5)).await.unwrap();
    store.insert_report(&report(b3, 0.6)).await.unwrap();

    let ids = |builds: &[qide_store::BuildRecord]| builds.iter().map(|b| b.id).collect::<Vec<_>>();

    let (builds, total) = store.list_builds(&page(None, 0, 10)).await.unwrap();
    assert_eq!((ids(&builds), total), (vec![b5, b4, b3, b2, b1], 5));
    let counts: Vec<_> = builds.iter().map(|b| b.report_count).collect();
    assert_eq!(counts, [0, 0, 2, 0, 0]);
    for build in &builds {
        assert_eq!(
            build,
            &store.get_build(build.id).await.unwrap(),
            "list and get agree"
        );
    }

    let (builds, total) = store.list_builds(&page(None, 1, 2)).await.unwrap();
    assert_eq!((ids(&builds), total), (vec![b4, b3], 5));
    let (builds, total) = store.list_builds(&page(None, 5, 10)).await.unwrap();
    assert_eq!((ids(&builds), total), (vec![], 5));
    // Out-of-range pages mean the same on both databases (SQLite would read
    // a negative LIMIT as "no limit", PostgreSQL would refuse it).
    let (builds, total) = store.list_builds(&page(None, 0, 0)).await.unwrap();
    assert_eq!((ids(&builds), total), (vec![], 5));
    let (builds, total) = store.list_builds(&page(None, 0, -1)).await.unwrap();
    assert_eq!((ids(&builds), total), (vec![], 5));
    let (builds, total) = store.list_builds(&page(None, -3, 1)).await.unwrap();
    assert_eq!((ids(&builds), total), (vec![b5], 5));

    let queued = Some(BuildStatus::Queued);
    let (builds, total) = store.list_builds(&page(queued, 0, 10)).await.unwrap();
    assert_eq!((ids(&builds), total), (vec![b5, b4, b3], 3));
    let (builds, total) = store.list_builds(&page(queued, 2, 10)).await.unwrap();
    assert_eq!((ids(&builds), total), (vec![b3], 3));
    let (builds, total) = store.list_builds(&page(queued, 0, 1)).await.unwrap();
    assert_eq!((ids(&builds), total), (vec![b5], 3));

    let (builds, total) = store
        .list_builds(&page(Some(BuildStatus::Running), 0, 10))
        .await
        .unwrap();
    assert_eq!((ids(&builds), total), (vec![b2], 1));
    let (builds, total) = store
        .list_builds(&page(Some(BuildStatus::Success), 0, 10))
        .await
        .unwrap();
    assert_eq!((ids(&builds), total), (vec![b1], 1));
    let (builds, total) = store
        .list_builds(&page(Some(BuildStatus::Failed), 0, 10))
        .await
        .unwrap();
    assert_eq!((ids(&builds), total), (vec![], 0));
}

fn page(status: Option<BuildStatus>, skip: i64, limit: i64) -> BuildFilter {
    BuildFilter {
        status,
        skip,
        limit,
    }
}

async fn build_counts_counts_each_status(db: &TestDb) {
    let store: &dyn Store = &db.store;
    assert_eq!(nonzero_counts(store).await, BTreeMap::new());

    let succeeded = running_build(store, 1).await;
    store
        .finish_build(succeeded, &success(2), None)
        .await
        .unwrap();
    let _running = running_build(store, 3).await;
    store.create_build(&two_step_build(4)).await.unwrap();
    let cancelled = store.create_build(&two_step_build(5)).await.unwrap();
    store.create_build(&two_step_build(6)).await.unwrap();
    assert!(store.cancel_queued(cancelled, 7).await.unwrap());

    let expected = BTreeMap::from([("error", 1), ("queued", 2), ("running", 1), ("success", 1)]);
    assert_eq!(nonzero_counts(store).await, expected);
}

/// The store's counts by status name, leaving out statuses with none, so an
/// implementation may list them with zero or not at all.
async fn nonzero_counts(store: &dyn Store) -> BTreeMap<&'static str, i64> {
    let mut counts = BTreeMap::new();
    for (status, n) in store.build_counts().await.unwrap() {
        let previous = counts.insert(status.as_str(), n);
        assert_eq!(previous, None, "{} counted twice", status.as_str());
    }
    counts.retain(|_, n| *n != 0);
    counts
}

async fn mark_interrupted_ends_running_builds_and_keeps_their_logs(db: &TestDb) {
    let store: &dyn Store = &db.store;
    assert_eq!(store.mark_interrupted(1).await.unwrap(), Vec::<i64>::new());

    // Three steps: the first finished, the second running, the third waiting.
    let mut three_steps = build_with_steps(1, 3);
    three_steps.env = env(&[("SECRET", "x")]);
    let busy = store.create_build(&three_steps).await.unwrap();
    let idle = store.create_build(&two_step_build(2)).await.unwrap();
    let done = store.create_build(&two_step_build(3)).await.unwrap();
    for _ in 0..3 {
        store.claim_next_build(10).await.unwrap().expect("a build");
    }
    let waiting = store.create_build(&two_step_build(4)).await.unwrap();
    store.finish_build(done, &success(20), None).await.unwrap();

    let step_done = StepUpdate {
        idx: 0,
        status: "success".to_owned(),
        exit_code: Some(0),
        started_at_ms: Some(11),
        finished_at_ms: Some(12),
        first_line: Some(1),
        last_line: Some(1),
        ..StepUpdate::default()
    };
    store.update_step(busy, &step_done).await.unwrap();
    let step_running = StepUpdate {
        idx: 1,
        status: "running".to_owned(),
        started_at_ms: Some(13),
        first_line: Some(2),
        ..StepUpdate::default()
    };
    store.update_step(busy, &step_running).await.unwrap();
    let meta = LogMeta {
        line_count: 3,
        bytes: 9,
        dropped: None,
    };
    store
        .append_log_chunk(busy, &chunk(0, 0, 1, &["one", "two", "six"]), &meta)
        .await
        .unwrap();
    let done_before = store.get_build(done).await.unwrap();
    let waiting_before = store.get_build(waiting).await.unwrap();

    let mut ids = store.mark_interrupted(900).await.unwrap();
    ids.sort_unstable();
    assert_eq!(ids, [busy, idle]);

    for id in [busy, idle] {
        let build = store.get_build(id).await.unwrap();
        assert_eq!(build.status, BuildStatus::Error);
        assert_eq!(build.failure_kind.as_deref(), Some("interrupted"));
        assert_eq!(build.finished_at_ms, Some(900));
        assert_eq!(build.started_at_ms, Some(10));
        assert!(build.env.is_empty());
    }
    let steps = store.list_steps(busy).await.unwrap();
    let states: Vec<_> = steps
        .iter()
        .map(|s| {
            (
                s.status.as_str(),
                s.failure_kind.as_deref(),
                s.finished_at_ms,
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("success", None, Some(12)),
            ("error", Some("interrupted"), Some(900)),
            ("skipped", None, None),
        ]
    );
    assert_eq!(steps[1].started_at_ms, Some(13));
    let idle_steps = store.list_steps(idle).await.unwrap();
    assert!(
        idle_steps.iter().all(|s| s.status == "skipped"),
        "{idle_steps:?}"
    );

    assert_eq!(store.get_build(busy).await.unwrap().log, meta);
    let chunks = store.log_chunks_from(busy, 1, 10).await.unwrap();
    assert_eq!(chunks, [chunk(0, 0, 1, &["one", "two", "six"])]);

    assert_eq!(store.get_build(done).await.unwrap(), done_before);
    assert_eq!(store.get_build(waiting).await.unwrap(), waiting_before);
    assert!(
        store
            .list_steps(waiting)
            .await
            .unwrap()
            .iter()
            .all(|s| s.status == "queued")
    );

    assert_eq!(
        store.mark_interrupted(1_000).await.unwrap(),
        Vec::<i64>::new()
    );
}
