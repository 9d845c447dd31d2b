//! Contract tests for agents' claims on builds.

use std::sync::Arc;

use qide_store::{ClaimOutcome, Store, StoreError};

use crate::harness::{TestDb, report, two_step_build};

contract_tests!(
    a_claim_excludes_other_agents_until_it_expires,
    a_reported_build_cannot_be_claimed,
    concurrent_claims_have_one_winner,
);

async fn a_claim_excludes_other_agents_until_it_expires(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let id = store.create_build(&two_step_build(1)).await.unwrap();
    let ClaimOutcome::Claimed(claim) = store.claim_build(id, "a", 100, 50).await.unwrap() else {
        panic!("the first claim wins")
    };
    assert_eq!(claim.expires_at_ms, 150);
    match store.claim_build(id, "b", 120, 50).await.unwrap() {
        ClaimOutcome::Held(held) => assert_eq!(held.agent, "a"),
        other => panic!("{other:?}"),
    }
    // The holder renews; after expiry another agent takes over.
    assert!(matches!(
        store.claim_build(id, "a", 140, 50).await.unwrap(),
        ClaimOutcome::Claimed(_)
    ));
    assert!(matches!(
        store.claim_build(id, "b", 189, 50).await.unwrap(),
        ClaimOutcome::Held(_)
    ));
    assert!(matches!(
        store.claim_build(id, "b", 191, 50).await.unwrap(),
        ClaimOutcome::Claimed(_)
    ));
    assert!(matches!(
        store.claim_build(9999, "a", 1, 1).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn a_reported_build_cannot_be_claimed(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let id = store.create_build(&two_step_build(1)).await.unwrap();
    // A report by a person (no agent) does not count as analysed.
    store.insert_report(&report(id, 0.5)).await.unwrap();
    assert!(matches!(
        store.claim_build(id, "a", 1, 10).await.unwrap(),
        ClaimOutcome::Claimed(_)
    ));
    let mut by_agent = report(id, 0.5);
    by_agent.agent = Some("a".to_owned());
    store.insert_report(&by_agent).await.unwrap();
    assert_eq!(
        store.claim_build(id, "b", 100, 10).await.unwrap(),
        ClaimOutcome::Analyzed
    );
}

async fn concurrent_claims_have_one_winner(db: &TestDb) {
    let store: Arc<dyn Store> = Arc::new(db.store.clone());
    let id = store.create_build(&two_step_build(1)).await.unwrap();
    let mut tasks = Vec::new();
    for agent in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .claim_build(id, &format!("agent-{agent}"), 10, 1000)
                .await
                .unwrap()
        }));
    }
    let mut winners = 0;
    for task in tasks {
        if matches!(task.await.unwrap(), ClaimOutcome::Claimed(_)) {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}
