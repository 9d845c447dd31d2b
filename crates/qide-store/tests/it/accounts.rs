//! Contract tests for users, dashboard sessions and the audit trail:
//! sessions expire when idle, die with their token or user, and the audit
//! trail pages newest first.

use qide_store::{NewAudit, NewSession, Store, StoreError};

use crate::harness::TestDb;

contract_tests!(
    users_are_unique_and_removable,
    sessions_slide_their_idle_expiry_and_end,
    sessions_die_with_their_token_or_user,
    audit_pages_newest_first
);

fn scopes(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn session(hash: &str, created: i64, expires: i64) -> NewSession {
    NewSession {
        hash: hash.to_owned(),
        subject: "alice".to_owned(),
        user_id: None,
        token_id: None,
        scopes: scopes(&["read", "run"]),
        created_at_ms: created,
        expires_at_ms: expires,
    }
}

async fn users_are_unique_and_removable(db: &TestDb) {
    let store: &dyn Store = &db.store;
    assert_eq!(store.user_count().await.unwrap(), 0);
    let alice = store
        .create_user("alice", "$argon2id$x", &scopes(&["read", "report"]), 10)
        .await
        .unwrap();
    assert_eq!(alice.name, "alice");
    assert_eq!(alice.scopes, scopes(&["read", "report"]));
    assert_eq!(alice.created_at_ms, 10);
    let again = store
        .create_user("alice", "$argon2id$y", &scopes(&["admin"]), 11)
        .await
        .unwrap_err();
    assert!(matches!(again, StoreError::Conflict(_)), "{again:?}");
    store
        .create_user("bob", "$argon2id$z", &scopes(&["admin"]), 12)
        .await
        .unwrap();
    assert_eq!(store.user_count().await.unwrap(), 2);
    let names: Vec<_> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    let found = store.get_user("alice").await.unwrap().unwrap();
    assert_eq!(found.password_hash, "$argon2id$x");
    assert!(store.get_user("carol").await.unwrap().is_none());

    store.remove_user("alice").await.unwrap();
    assert!(store.get_user("alice").await.unwrap().is_none());
    assert!(matches!(
        store.remove_user("alice").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.user_count().await.unwrap(), 1);
}

async fn sessions_slide_their_idle_expiry_and_end(db: &TestDb) {
    let store: &dyn Store = &db.store;
    store
        .create_session(&session("s1", 1000, 2000))
        .await
        .unwrap();
    let used = store.use_session("s1", 1500, 1000).await.unwrap().unwrap();
    assert_eq!(used.subject, "alice");
    assert_eq!(used.scopes, scopes(&["read", "run"]));
    assert_eq!((used.last_seen_at_ms, used.expires_at_ms), (1500, 2500));
    // Used at 1500, idle for 1000: alive at 2400, gone at 2500.
    assert!(store.use_session("s1", 2400, 100).await.unwrap().is_some());
    assert!(store.use_session("s1", 2500, 1000).await.unwrap().is_none());
    assert!(store.use_session("unknown", 1, 1).await.unwrap().is_none());

    store
        .create_session(&session("s2", 3000, 9000))
        .await
        .unwrap();
    assert!(store.end_session("s2").await.unwrap());
    assert!(!store.end_session("s2").await.unwrap());
    assert!(store.use_session("s2", 3001, 1000).await.unwrap().is_none());
}

async fn sessions_die_with_their_token_or_user(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let token = store
        .create_token("ci", "th", &scopes(&["read"]), 1)
        .await
        .unwrap();
    let user = store
        .create_user("alice", "$argon2id$x", &scopes(&["read"]), 1)
        .await
        .unwrap();
    let by_token = NewSession {
        token_id: Some(token.id),
        subject: "ci".to_owned(),
        ..session("t", 10, 10_000)
    };
    let by_user = NewSession {
        user_id: Some(user.id),
        ..session("u", 10, 10_000)
    };
    store.create_session(&by_token).await.unwrap();
    store.create_session(&by_user).await.unwrap();
    let found = store.use_session("t", 20, 1000).await.unwrap().unwrap();
    assert_eq!(
        (found.subject.as_str(), found.token_id),
        ("ci", Some(token.id))
    );
    assert!(store.use_session("u", 20, 1000).await.unwrap().is_some());

    store.revoke_token("ci", 30).await.unwrap();
    assert!(store.use_session("t", 40, 1000).await.unwrap().is_none());
    store.remove_user("alice").await.unwrap();
    assert!(store.use_session("u", 40, 1000).await.unwrap().is_none());
}

async fn audit_pages_newest_first(db: &TestDb) {
    let store: &dyn Store = &db.store;
    for i in 0..5 {
        let recorded = store
            .add_audit(&NewAudit {
                at_ms: 100 + i,
                actor: "alice".to_owned(),
                action: "build.run".to_owned(),
                target: Some(format!("build:{i}")),
                detail: (i == 0).then(|| "first".to_owned()),
                remote: Some("127.0.0.1".to_owned()),
            })
            .await
            .unwrap();
        assert_eq!(recorded.at_ms, 100 + i);
    }
    let (page, total) = store.list_audit(1, 2).await.unwrap();
    assert_eq!(total, 5);
    let targets: Vec<_> = page.iter().map(|a| a.target.clone().unwrap()).collect();
    assert_eq!(targets, ["build:3", "build:2"]);
    let (last, _) = store.list_audit(4, 10).await.unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].detail.as_deref(), Some("first"));
    assert_eq!(last[0].remote.as_deref(), Some("127.0.0.1"));
    assert!(store.list_audit(0, 0).await.unwrap().0.is_empty());
}
