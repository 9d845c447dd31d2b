//! Contract tests for opening a database that is already there.

use qide_store::{LogMeta, SqlStore, Store};

use crate::harness::{TestDb, chunk, report, running_build, two_step_build};

contract_tests!(
    opening_an_existing_database_keeps_its_data,
    concurrent_first_opens_all_succeed,
);

async fn opening_an_existing_database_keeps_its_data(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let running = running_build(store, 1).await;
    let meta = LogMeta {
        line_count: 1,
        bytes: 4,
        dropped: None,
    };
    store
        .append_log_chunk(running, &chunk(0, 0, 1, &["log"]), &meta)
        .await
        .unwrap();
    let queued = store.create_build(&two_step_build(2)).await.unwrap();
    let report = store.insert_report(&report(running, 0.9)).await.unwrap();
    let before = (
        store.get_build(running).await.unwrap(),
        store.get_build(queued).await.unwrap(),
    );

    // A second store on the same database while the first is open, as when
    // two servers share one PostgreSQL, migrates nothing and sees everything.
    let second = db.reopen().await;
    let after = (
        second.get_build(running).await.unwrap(),
        second.get_build(queued).await.unwrap(),
    );
    assert_eq!(after, before);
    assert_eq!(
        second.list_reports(running).await.unwrap(),
        std::slice::from_ref(&report)
    );
    assert_eq!(
        second.log_chunks_from(running, 1, 10).await.unwrap(),
        [chunk(0, 0, 1, &["log"])]
    );
    assert_eq!(
        second.list_steps(queued).await.unwrap(),
        store.list_steps(queued).await.unwrap()
    );

    // Both stores write to one database, and ids keep growing.
    let newer = second.create_build(&two_step_build(3)).await.unwrap();
    assert!(newer > queued);
    assert_eq!(store.get_build(newer).await.unwrap().created_at_ms, 3);
    second.close().await;

    // And once more after the second closed.
    let third = db.reopen().await;
    assert_eq!(third.get_build(queued).await.unwrap(), before.1);
    let (_, total) = third
        .list_builds(&qide_store::BuildFilter {
            status: None,
            skip: 0,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(total, 3);
    third.close().await;
}

async fn concurrent_first_opens_all_succeed(db: &TestDb) {
    // Servers (or a server and a CLI) starting together on a new database
    // must not both try to create the schema.
    let url = db.empty_sibling().await;
    let mut opens = Vec::new();
    for _ in 0..6 {
        let url = url.clone();
        opens.push(tokio::spawn(async move { SqlStore::open(&url).await }));
    }
    let mut stores = Vec::new();
    for open in opens {
        stores.push(
            open.await
                .unwrap()
                .expect("every concurrent first open succeeds"),
        );
    }
    let id = stores[0].create_build(&two_step_build(1)).await.unwrap();
    for store in &stores {
        assert_eq!(store.get_build(id).await.unwrap().created_at_ms, 1);
        store.close().await;
    }
}
