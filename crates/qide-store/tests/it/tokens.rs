//! Contract tests for access tokens: stored by hash, revocable, unique names.

use qide_store::{Store, StoreError};

use crate::harness::TestDb;

contract_tests!(
    tokens_are_found_by_hash_until_revoked,
    token_names_are_unique
);

async fn tokens_are_found_by_hash_until_revoked(db: &TestDb) {
    let store: &dyn Store = &db.store;
    assert_eq!(store.active_token_count().await.unwrap(), 0);
    let scopes = vec!["read".to_owned(), "report".to_owned()];
    let created = store
        .create_token("agent", "h1", &scopes, 10)
        .await
        .unwrap();
    assert_eq!(created.scopes, scopes);
    assert_eq!(created.last_used_at_ms, None);
    assert_eq!(store.active_token_count().await.unwrap(), 1);

    let used = store
        .use_token("h1", 20)
        .await
        .unwrap()
        .expect("found by hash");
    assert_eq!(used.name, "agent");
    assert_eq!(used.last_used_at_ms, Some(20));
    assert!(store.use_token("nope", 20).await.unwrap().is_none());

    store.revoke_token("agent", 30).await.unwrap();
    assert!(
        store.use_token("h1", 40).await.unwrap().is_none(),
        "revoked tokens stop working"
    );
    assert_eq!(store.active_token_count().await.unwrap(), 0);
    let listed = store.list_tokens().await.unwrap();
    assert_eq!(listed[0].revoked_at_ms, Some(30));
    assert!(matches!(
        store.revoke_token("ghost", 1).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn token_names_are_unique(db: &TestDb) {
    let store: &dyn Store = &db.store;
    store
        .create_token("ci", "h1", &["run".to_owned()], 1)
        .await
        .unwrap();
    let err = store
        .create_token("ci", "h2", &["run".to_owned()], 2)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.list_tokens().await.unwrap().len(), 1);
}
