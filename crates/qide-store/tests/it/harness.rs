//! Fresh databases for the contract tests, and the builds they start from.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use qide_store::{
    BuildFinish, BuildStatus, LogChunk, NewBuild, NewReport, NewStep, SqlStore, Store,
};
use sqlx::Connection;
use tempfile::TempDir;

/// A store on a database of its own, plus what is needed to open it again.
pub(crate) struct TestDb {
    /// The store under test.
    pub(crate) store: SqlStore,
    place: Place,
}

/// Where a test database lives, so it can be reopened and thrown away.
enum Place {
    /// The temp dir holds `qide.db`; dropping it deletes the file.
    Sqlite { dir: TempDir },
    /// A database created for this test on the admin URL's server.
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A store on a new SQLite file.
    pub(crate) async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("creating a temp dir");
        let store = SqlStore::open_sqlite(&dir.path().join("qide.db"))
            .await
            .expect("opening a fresh SQLite store");
        TestDb {
            store,
            place: Place::Sqlite { dir },
        }
    }

    /// A store on a new PostgreSQL database, or `None` (after saying so) when
    /// no server is configured and none is required.
    pub(crate) async fn postgres() -> Option<TestDb> {
        let admin_url = match std::env::var("QIDE_TEST_DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                if std::env::var("QIDE_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                    panic!(
                        "QIDE_REQUIRE_POSTGRES=1 but QIDE_TEST_DATABASE_URL is not set: \
                         PostgreSQL tests cannot run (start one with scripts/test-postgres.sh)"
                    );
                }
                println!("skipping PostgreSQL: QIDE_TEST_DATABASE_URL is not set");
                return None;
            }
        };
        let name = unique_database_name();
        create_database(&admin_url, &name).await;
        let store = SqlStore::open(&database_url(&admin_url, &name))
            .await
            .unwrap_or_else(|e| panic!("opening a store on test database {name}: {e}"));
        Some(TestDb {
            store,
            place: Place::Postgres { admin_url, name },
        })
    }

    /// A second, independent store on the same database (migrating again).
    pub(crate) async fn reopen(&self) -> SqlStore {
        let opened = match &self.place {
            Place::Sqlite { dir } => SqlStore::open_sqlite(&dir.path().join("qide.db")).await,
            Place::Postgres { admin_url, name } => {
                SqlStore::open(&database_url(admin_url, name)).await
            }
        };
        opened.expect("reopening the test database")
    }

    /// The URL of this database, for tests that must write a row the way an
    /// older QIDE did, below the store's API.
    pub(crate) fn url(&self) -> String {
        match &self.place {
            Place::Sqlite { dir } => {
                format!("sqlite://{}?mode=rwc", dir.path().join("qide.db").display())
            }
            Place::Postgres { admin_url, name } => database_url(admin_url, name),
        }
    }

    /// The URL of a second, empty database beside this one (a new SQLite
    /// file in the same dir, or a new PostgreSQL database), for tests of a
    /// first open. It goes away with this one.
    pub(crate) async fn empty_sibling(&self) -> String {
        match &self.place {
            Place::Sqlite { dir } => {
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("sibling.db").display()
                )
            }
            Place::Postgres { admin_url, name } => {
                let sibling = format!("{name}_sibling");
                create_database(admin_url, &sibling).await;
                database_url(admin_url, &sibling)
            }
        }
    }

    /// Closes the store and drops the database.
    pub(crate) async fn finish(self) {
        self.store.close().await;
        match self.place {
            Place::Sqlite { dir } => drop(dir),
            Place::Postgres { admin_url, name } => {
                // Best effort: a leftover test database is harmless.
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    for name in [name.clone(), format!("{name}_sibling")] {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(&mut admin)
                        .await;
                    }
                    let _ = admin.close().await;
                }
            }
        }
    }
}

/// Creates the database `name` on the admin URL's server.
async fn create_database(admin_url: &str, name: &str) {
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("connecting to QIDE_TEST_DATABASE_URL {admin_url}: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("creating test database {name}: {e}"));
    let _ = admin.close().await;
}

/// A database name no other test, run or process uses.
fn unique_database_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "qide_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The admin URL with its database replaced by `name`, query kept.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin_url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// A build of two steps, `build` then `test`, created at `created_at_ms`.
pub(crate) fn two_step_build(created_at_ms: i64) -> NewBuild {
    NewBuild {
        trigger: "test".to_owned(),
        timeout_s: Some(600),
        env: env(&[("RUST_LOG", "debug"), ("TOKEN", "s3cret value")]),
        steps: vec![
            NewStep {
                name: "build".to_owned(),
                run: "cargo build --workspace".to_owned(),
                timeout_s: Some(300),
                env: env(&[("CARGO_INCREMENTAL", "0")]),
            },
            NewStep {
                name: "test".to_owned(),
                run: "cargo test".to_owned(),
                timeout_s: None,
                env: BTreeMap::new(),
            },
        ],
        created_at_ms,
        rerun_of: None,
    }
}

/// A build of `steps` steps without environment.
pub(crate) fn build_with_steps(created_at_ms: i64, steps: usize) -> NewBuild {
    NewBuild {
        trigger: "cli".to_owned(),
        timeout_s: None,
        env: BTreeMap::new(),
        steps: (0..steps)
            .map(|i| NewStep {
                name: format!("step-{i}"),
                run: format!("echo {i}"),
                ..NewStep::default()
            })
            .collect(),
        created_at_ms,
        rerun_of: None,
    }
}

/// An environment map from pairs.
pub(crate) fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A chunk of stdout lines starting at `first_line`.
pub(crate) fn chunk(seq: i64, step_idx: i64, first_line: i64, lines: &[&str]) -> LogChunk {
    LogChunk {
        seq,
        step_idx,
        first_line,
        text: lines.join("\n").into_bytes(),
        streams: vec![b'o'; lines.len()],
    }
}

/// A report on `build_id` with the given confidence and no agent.
pub(crate) fn report(build_id: i64, confidence: f64) -> NewReport {
    NewReport {
        build_id,
        kind: "diagnosis".to_owned(),
        analysis: "the linker ran out of memory".to_owned(),
        recommendations: vec!["add swap".to_owned()],
        confidence,
        fingerprints: vec!["fp:oom".to_owned()],
        agent: None,
        model: None,
        created_at_ms: 1_000,
    }
}

/// Creates a build and claims it, so it is running; returns its id.
///
/// Only valid on a store with no other queued builds.
pub(crate) async fn running_build(store: &dyn Store, created_at_ms: i64) -> i64 {
    let id = store
        .create_build(&two_step_build(created_at_ms))
        .await
        .expect("creating a build");
    let claimed = store
        .claim_next_build(created_at_ms + 1)
        .await
        .expect("claiming")
        .expect("a queued build to claim");
    assert_eq!(
        claimed.id, id,
        "claimed a build other than the one just created"
    );
    id
}

/// A plain successful finish at `finished_at_ms`.
pub(crate) fn success(finished_at_ms: i64) -> BuildFinish {
    BuildFinish {
        status: BuildStatus::Success,
        exit_code: Some(0),
        failure_kind: None,
        finished_at_ms,
    }
}
