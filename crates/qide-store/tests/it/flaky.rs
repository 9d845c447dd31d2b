//! Contract tests for per-test results: stored with a build's diagnosis and
//! stamped with its working-tree hash, so that a test that failed and passed
//! on the same tree is found flaky, and reruns are linked to their build.

use qide_store::{
    BuildFinish, BuildStatus, DiagnosisRecord, FlakyFailure, MAX_TEST_MESSAGE, Store, StoreError,
    TestResult, WorkspaceState,
};

use crate::harness::{TestDb, build_with_steps};

contract_tests!(
    test_results_are_stored_with_the_diagnosis_and_the_tree_hash,
    a_test_that_failed_and_passed_on_the_same_tree_is_flaky,
    a_pass_on_another_tree_alone_is_not_flakiness,
    a_rerun_is_linked_to_its_build,
    a_pass_finds_the_builds_it_shows_flaky_and_their_category_can_change,
    an_unknown_test_outcome_is_refused_and_nothing_is_stored,
);

fn test(name: &str, outcome: &str) -> TestResult {
    TestResult {
        name: name.to_owned(),
        tool: Some("cargo-test".to_owned()),
        outcome: outcome.to_owned(),
        duration_ms: None,
        message: (outcome == "failed").then(|| format!("{name} broke")),
        file: None,
        line: None,
    }
}

/// Runs one single-step build on `tree` to the end, with these test results;
/// returns its id.
async fn build_on(store: &dyn Store, at: i64, tree: &str, tests: Vec<TestResult>) -> i64 {
    let id = store.create_build(&build_with_steps(at, 1)).await.unwrap();
    store.claim_next_build(at).await.unwrap().unwrap();
    store
        .set_workspace(
            id,
            &WorkspaceState {
                tree_hash: Some(tree.to_owned()),
                ..WorkspaceState::default()
            },
        )
        .await
        .unwrap();
    let failed = tests.iter().any(|t| t.outcome == "failed");
    let status = if failed {
        BuildStatus::Failed
    } else {
        BuildStatus::Success
    };
    let diagnosis = DiagnosisRecord {
        tests,
        ..DiagnosisRecord::default()
    };
    store
        .finish_build(
            id,
            &BuildFinish {
                status,
                exit_code: Some(i32::from(failed)),
                failure_kind: None,
                finished_at_ms: at + 1,
            },
            Some(&diagnosis),
        )
        .await
        .unwrap();
    id
}

async fn test_results_are_stored_with_the_diagnosis_and_the_tree_hash(db: &TestDb) {
    let store: &dyn Store = &db.store;
    // More results than one INSERT carries, and a message over the cap.
    let mut tests: Vec<TestResult> = (0..120)
        .map(|i| test(&format!("tests::t{i:03}"), "passed"))
        .collect();
    tests[7] = TestResult {
        message: Some("é".repeat(MAX_TEST_MESSAGE)),
        duration_ms: Some(42),
        file: Some("src/lib.rs".to_owned()),
        line: Some(12),
        ..test("tests::t007", "failed")
    };
    tests[9] = test("tests::t009", "skipped");
    let id = build_on(store, 10, "b3:one", tests.clone()).await;

    let stored = store.test_results(id).await.unwrap();
    assert_eq!(stored.len(), 120);
    assert!(stored.iter().all(|r| r.build_id == id));
    assert!(
        stored
            .iter()
            .all(|r| r.tree_hash.as_deref() == Some("b3:one"))
    );
    let names: Vec<&str> = stored.iter().map(|r| r.test.name.as_str()).collect();
    let expected: Vec<&str> = tests.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, expected, "results come back in the order seen");
    let failed = &stored[7].test;
    assert_eq!(failed.outcome, "failed");
    assert_eq!(failed.duration_ms, Some(42));
    assert_eq!(failed.file.as_deref(), Some("src/lib.rs"));
    assert_eq!(failed.line, Some(12));
    let message = failed.message.as_deref().unwrap();
    assert!(message.len() <= MAX_TEST_MESSAGE, "{}", message.len());
    assert!(message.len() > MAX_TEST_MESSAGE - 2);
    assert!(message.chars().all(|c| c == 'é'));
    assert_eq!(stored[9].test.outcome, "skipped");
    assert_eq!(stored[0].test, tests[0]);

    // A build with no diagnosis has no results.
    let other = build_on(store, 20, "b3:one", vec![]).await;
    assert!(store.test_results(other).await.unwrap().is_empty());
}

async fn a_test_that_failed_and_passed_on_the_same_tree_is_flaky(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let first = build_on(
        store,
        10,
        "b3:same",
        vec![
            test("tests::random", "failed"),
            test("tests::broken", "failed"),
            test("tests::fine", "passed"),
        ],
    )
    .await;
    // Nothing passed on that tree yet: no failure is flaky.
    assert!(store.flaky_failures(first).await.unwrap().is_empty());
    assert_eq!(store.list_flaky_tests(0, 10).await.unwrap(), (vec![], 0));

    // The rerun on the same tree: one passes, the other fails again.
    let rerun = build_on(
        store,
        20,
        "b3:same",
        vec![
            test("tests::random", "passed"),
            test("tests::broken", "failed"),
        ],
    )
    .await;
    assert_eq!(
        store.flaky_failures(first).await.unwrap(),
        [FlakyFailure {
            name: "tests::random".to_owned(),
            passed_build: Some(rerun),
            flaky_trees: 1,
        }]
    );
    assert!(
        store.flaky_failures(rerun).await.unwrap().is_empty(),
        "tests::broken never passed"
    );

    // Later, on other code, the known-flaky test fails: flaky by history,
    // with no pass on this tree.
    let later = build_on(
        store,
        30,
        "b3:other",
        vec![
            test("tests::random", "failed"),
            test("tests::broken", "failed"),
        ],
    )
    .await;
    assert_eq!(
        store.flaky_failures(later).await.unwrap(),
        [FlakyFailure {
            name: "tests::random".to_owned(),
            passed_build: None,
            flaky_trees: 1,
        }]
    );

    let (flaky, total) = store.list_flaky_tests(0, 10).await.unwrap();
    assert_eq!(total, 1);
    assert_eq!(flaky.len(), 1);
    let random = &flaky[0];
    assert_eq!(random.name, "tests::random");
    assert_eq!(random.tool.as_deref(), Some("cargo-test"));
    assert_eq!((random.failures, random.passes, random.trees), (2, 1, 1));
    assert_eq!(
        (
            random.first_build,
            random.last_build,
            random.last_failed_build
        ),
        (first, later, Some(later))
    );
    // Paging past the end.
    let (none, total) = store.list_flaky_tests(1, 10).await.unwrap();
    assert!(none.is_empty());
    assert_eq!(total, 1);
}

async fn a_pass_on_another_tree_alone_is_not_flakiness(db: &TestDb) {
    let store: &dyn Store = &db.store;
    // It passed on old code and fails on new code: a regression.
    build_on(
        store,
        10,
        "b3:old",
        vec![test("tests::regressed", "passed")],
    )
    .await;
    let new = build_on(
        store,
        20,
        "b3:new",
        vec![test("tests::regressed", "failed")],
    )
    .await;
    assert!(store.flaky_failures(new).await.unwrap().is_empty());
    assert_eq!(store.list_flaky_tests(0, 10).await.unwrap().1, 0);

    // Builds without a tree hash never match one another.
    let id = store.create_build(&build_with_steps(30, 1)).await.unwrap();
    store.claim_next_build(30).await.unwrap().unwrap();
    let diagnosis = DiagnosisRecord {
        tests: vec![test("tests::regressed", "passed")],
        ..DiagnosisRecord::default()
    };
    let finish = BuildFinish {
        status: BuildStatus::Success,
        exit_code: Some(0),
        failure_kind: None,
        finished_at_ms: 31,
    };
    store
        .finish_build(id, &finish, Some(&diagnosis))
        .await
        .unwrap();
    assert_eq!(store.test_results(id).await.unwrap()[0].tree_hash, None);
    assert!(store.flaky_failures(new).await.unwrap().is_empty());
}

async fn a_pass_finds_the_builds_it_shows_flaky_and_their_category_can_change(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let first = build_on(store, 10, "b3:same", vec![test("tests::random", "failed")]).await;
    let elsewhere = build_on(store, 20, "b3:other", vec![test("tests::random", "failed")]).await;
    let second = build_on(
        store,
        30,
        "b3:same",
        vec![
            test("tests::random", "failed"),
            test("tests::fine", "passed"),
        ],
    )
    .await;
    // Nothing passed `tests::random` yet.
    assert!(
        store
            .builds_failing_what_passed_in(second)
            .await
            .unwrap()
            .is_empty()
    );
    let pass = build_on(store, 40, "b3:same", vec![test("tests::random", "passed")]).await;
    // The failures on the same tree, not the one on other code, nor itself.
    assert_eq!(
        store.builds_failing_what_passed_in(pass).await.unwrap(),
        [first, second]
    );
    assert!(
        store
            .builds_failing_what_passed_in(elsewhere)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .builds_failing_what_passed_in(999)
            .await
            .unwrap()
            .is_empty()
    );

    store.set_failure_category(first, "flaky").await.unwrap();
    assert_eq!(
        store
            .get_build(first)
            .await
            .unwrap()
            .failure_category
            .as_deref(),
        Some("flaky")
    );
    let (listed, _) = store
        .list_builds(&qide_store::BuildFilter {
            skip: 0,
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let listed = listed.iter().find(|b| b.id == first).unwrap();
    assert_eq!(listed.failure_category.as_deref(), Some("flaky"));
    assert!(matches!(
        store.set_failure_category(999, "flaky").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn a_rerun_is_linked_to_its_build(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let original = store.create_build(&build_with_steps(10, 1)).await.unwrap();
    assert_eq!(store.get_build(original).await.unwrap().rerun_of, None);
    let rerun = store
        .create_build(&qide_store::NewBuild {
            trigger: "rerun".to_owned(),
            rerun_of: Some(original),
            ..build_with_steps(20, 1)
        })
        .await
        .unwrap();
    let record = store.get_build(rerun).await.unwrap();
    assert_eq!(record.rerun_of, Some(original));
    assert_eq!(record.trigger, "rerun");
    let (listed, _) = store
        .list_builds(&qide_store::BuildFilter {
            status: None,
            skip: 0,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(listed[0].rerun_of, Some(original));
    assert_eq!(listed[1].rerun_of, None);
}

async fn an_unknown_test_outcome_is_refused_and_nothing_is_stored(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let id = store.create_build(&build_with_steps(10, 1)).await.unwrap();
    store.claim_next_build(10).await.unwrap().unwrap();
    let diagnosis = DiagnosisRecord {
        tests: vec![test("tests::a", "passed"), test("tests::b", "exploded")],
        ..DiagnosisRecord::default()
    };
    let finish = BuildFinish {
        status: BuildStatus::Failed,
        exit_code: Some(1),
        failure_kind: None,
        finished_at_ms: 11,
    };
    let err = store
        .finish_build(id, &finish, Some(&diagnosis))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("exploded")),
        "{err:?}"
    );
    // The whole finish was rolled back: still running, no results.
    assert_eq!(
        store.get_build(id).await.unwrap().status,
        BuildStatus::Running
    );
    assert!(store.test_results(id).await.unwrap().is_empty());
}
