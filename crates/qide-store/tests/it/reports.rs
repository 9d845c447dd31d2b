//! Contract tests for agent reports on builds.

use qide_store::{NewReport, Store, StoreError};

use crate::harness::{TestDb, report, two_step_build};

contract_tests!(
    reports_round_trip_every_field,
    report_on_unknown_build_is_not_found_and_not_stored,
);

async fn reports_round_trip_every_field(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let id = store.create_build(&two_step_build(1)).await.unwrap();
    let other = store.create_build(&two_step_build(2)).await.unwrap();
    assert!(store.list_reports(id).await.unwrap().is_empty());

    let full = NewReport {
        build_id: id,
        kind: "root_cause".to_owned(),
        analysis: "línea 3: «unresolved import» — 'quoted' \"double\" \\ \n\ttabbed".to_owned(),
        recommendations: vec![
            "run `cargo update`".to_owned(),
            String::new(),
            "[\"json-looking\"]".to_owned(),
        ],
        confidence: 0.8,
        fingerprints: vec!["rustc:E0432:src/lib.rs".to_owned(), "fp2".to_owned()],
        agent: Some("claude-code".to_owned()),
        model: Some("claude-opus".to_owned()),
        created_at_ms: 1_700_000_000_123,
    };
    let empty = NewReport {
        recommendations: Vec::new(),
        fingerprints: Vec::new(),
        confidence: 0.0,
        agent: None,
        model: None,
        ..report(id, 0.0)
    };
    let mut news = vec![full, empty];
    // Floats come back bit for bit, including ones that are not short decimals.
    for confidence in [
        1.0,
        0.1 + 0.2,
        1.0 / 3.0,
        f64::MIN_POSITIVE,
        0.999_999_999_999_999_9,
    ] {
        news.push(NewReport {
            agent: Some("a".to_owned()),
            ..report(id, confidence)
        });
    }

    let mut stored = Vec::new();
    let mut last_id = 0;
    for new in &news {
        let record = store.insert_report(new).await.unwrap();
        assert!(
            record.id > last_id,
            "report ids grow: {} after {last_id}",
            record.id
        );
        last_id = record.id;
        assert_eq!(record.build_id, new.build_id);
        assert_eq!(record.kind, new.kind);
        assert_eq!(record.analysis, new.analysis);
        assert_eq!(record.recommendations, new.recommendations);
        assert_eq!(
            record.confidence.to_bits(),
            new.confidence.to_bits(),
            "{}",
            new.confidence
        );
        assert_eq!(record.fingerprints, new.fingerprints);
        assert_eq!((&record.agent, &record.model), (&new.agent, &new.model));
        assert_eq!(record.created_at_ms, new.created_at_ms);
        stored.push(record);
    }

    let listed = store.list_reports(id).await.unwrap();
    assert_eq!(listed, stored, "listed oldest first, as returned by insert");
    for (listed, new) in listed.iter().zip(&news) {
        assert_eq!(listed.confidence.to_bits(), new.confidence.to_bits());
    }
    assert!(store.list_reports(other).await.unwrap().is_empty());
    assert_eq!(
        store.get_build(id).await.unwrap().report_count,
        news.len() as i64
    );
    assert_eq!(store.get_build(other).await.unwrap().report_count, 0);
}

async fn report_on_unknown_build_is_not_found_and_not_stored(db: &TestDb) {
    let store: &dyn Store = &db.store;
    let id = store.create_build(&two_step_build(1)).await.unwrap();
    let stored = store.insert_report(&report(id, 0.5)).await.unwrap();

    let unknown = id + 1000;
    let err = store
        .insert_report(&report(unknown, 0.5))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    assert!(store.list_reports(unknown).await.unwrap().is_empty());
    assert_eq!(
        store.list_reports(id).await.unwrap(),
        std::slice::from_ref(&stored)
    );

    // The failed insert did not burn a visible hole in anything that lists.
    let next = store.insert_report(&report(id, 0.25)).await.unwrap();
    assert!(next.id > stored.id);
    assert_eq!(store.get_build(id).await.unwrap().report_count, 2);
}
