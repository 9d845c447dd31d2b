//! The store contract: every test here runs against SQLite and PostgreSQL.
//!
//! Each contract test is written once, as `async fn name(db: &TestDb)`, and
//! [`contract_tests!`] turns it into `sqlite::name` and `postgres::name`.
//! SQLite tests get a fresh file in a temp dir; PostgreSQL tests get a fresh
//! database on the server named by `QIDE_TEST_DATABASE_URL` (an admin URL).
//! Without that variable the PostgreSQL variants say so and pass, unless
//! `QIDE_REQUIRE_POSTGRES=1`, in which case they fail: CI sets both, so a
//! PostgreSQL that did not start fails the build instead of skipping it.
//!
//! Run one backend with `cargo test -p qide-store --test it sqlite::` (or
//! `postgres::`).

/// Generates a SQLite and a PostgreSQL `#[tokio::test]` for each named
/// contract test of the calling module.
///
/// The runtime is multi-threaded so the concurrency tests really race.
macro_rules! contract_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = crate::harness::TestDb::sqlite().await;
                    super::$name(&db).await;
                    db.finish().await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = crate::harness::TestDb::postgres().await else {
                        return;
                    };
                    super::$name(&db).await;
                    db.finish().await;
                }
            )+
        }
    };
}

mod accounts;
mod builds;
mod claims;
mod concurrency;
mod flaky;
mod harness;
mod logs;
mod migrations;
mod patterns;
mod reports;
mod sqlite_path;
mod stats;
mod tokens;
