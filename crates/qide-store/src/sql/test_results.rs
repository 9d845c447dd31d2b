//! Per-test results over SQL: written with a build's diagnosis, read back to
//! tell flaky tests (failed and passed on the same working tree) from real
//! failures. Each row carries its build's tree hash, so the question "did
//! this test pass on this tree" is one lookup on `(name, tree_hash,
//! outcome)` instead of a join through `builds`.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::SqlStore;
use crate::{
    FlakyFailure, FlakyTestRecord, MAX_TEST_MESSAGE, Result, StoreError, TEST_OUTCOMES, TestResult,
    TestResultRecord,
};

/// Rows per `INSERT`: ten values each, well under SQLite's and
/// PostgreSQL's limits on bound parameters.
const ROWS_PER_INSERT: usize = 50;

/// Tests that failed on some tree on which they also passed, with how many
/// such trees there are.
const FLAKY_CTE: &str = "WITH flaky AS ( \
     SELECT a.name AS name, COUNT(DISTINCT a.tree_hash) AS trees FROM test_results a \
     WHERE a.outcome = 'failed' AND a.tree_hash IS NOT NULL AND EXISTS ( \
         SELECT 1 FROM test_results b WHERE b.name = a.name AND b.tree_hash = a.tree_hash \
         AND b.outcome = 'passed') \
     GROUP BY a.name)";

/// At most `max` bytes of `text`, cut at a character boundary.
fn head(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Stores a build's test results inside the transaction that finishes it,
/// stamped with the build's tree hash.
pub(super) async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    build_id: i64,
    tests: &[TestResult],
) -> Result<()> {
    if tests.is_empty() {
        return Ok(());
    }
    if let Some(bad) = tests
        .iter()
        .find(|t| !TEST_OUTCOMES.contains(&t.outcome.as_str()))
    {
        return Err(StoreError::Conflict(format!(
            "test {:?} has outcome {:?}; it must be passed, failed or skipped",
            bad.name, bad.outcome
        )));
    }
    let tree_hash: Option<String> = sqlx::query("SELECT tree_hash FROM builds WHERE id = $1")
        .bind(build_id)
        .fetch_one(&mut **tx)
        .await?
        .try_get("tree_hash")?;
    for (batch_no, batch) in tests.chunks(ROWS_PER_INSERT).enumerate() {
        let values: Vec<String> = (0..batch.len())
            .map(|row| {
                let p = row * 10;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7,
                    p + 8,
                    p + 9,
                    p + 10
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO test_results (build_id, seq, name, tool, outcome, duration_ms, message, \
             file, line, tree_hash) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (i, test) in batch.iter().enumerate() {
            let seq = (batch_no * ROWS_PER_INSERT + i) as i64;
            query = query
                .bind(build_id)
                .bind(seq)
                .bind(test.name.clone())
                .bind(test.tool.clone())
                .bind(test.outcome.clone())
                .bind(test.duration_ms)
                .bind(
                    test.message
                        .as_deref()
                        .map(|m| head(m, MAX_TEST_MESSAGE).to_owned()),
                )
                .bind(test.file.clone())
                .bind(test.line)
                .bind(tree_hash.clone());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

fn result_from_row(row: &AnyRow) -> Result<TestResultRecord> {
    Ok(TestResultRecord {
        build_id: row.try_get("build_id")?,
        tree_hash: row.try_get("tree_hash")?,
        test: TestResult {
            name: row.try_get("name")?,
            tool: row.try_get("tool")?,
            outcome: row.try_get("outcome")?,
            duration_ms: row.try_get("duration_ms")?,
            message: row.try_get("message")?,
            file: row.try_get("file")?,
            line: row.try_get("line")?,
        },
    })
}

impl SqlStore {
    pub(super) async fn test_results_sql(&self, build_id: i64) -> Result<Vec<TestResultRecord>> {
        let rows = sqlx::query(
            "SELECT build_id, tree_hash, name, tool, outcome, duration_ms, message, file, line \
             FROM test_results WHERE build_id = $1 ORDER BY seq",
        )
        .bind(build_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(result_from_row).collect()
    }

    pub(super) async fn flaky_failures_sql(&self, build_id: i64) -> Result<Vec<FlakyFailure>> {
        // Two correlated subqueries per failed test of the build: a build
        // fails few tests, and each probe is an index range on
        // (name, tree_hash, outcome).
        let rows = sqlx::query(
            "SELECT f.name AS name, \
             (SELECT MAX(p.build_id) FROM test_results p WHERE p.name = f.name \
              AND p.tree_hash = f.tree_hash AND p.outcome = 'passed') AS passed_build, \
             (SELECT COUNT(DISTINCT a.tree_hash) FROM test_results a WHERE a.name = f.name \
              AND a.outcome = 'failed' AND a.tree_hash IS NOT NULL AND EXISTS ( \
                  SELECT 1 FROM test_results b WHERE b.name = a.name \
                  AND b.tree_hash = a.tree_hash AND b.outcome = 'passed')) AS flaky_trees \
             FROM test_results f WHERE f.build_id = $1 AND f.outcome = 'failed' ORDER BY f.seq",
        )
        .bind(build_id)
        .fetch_all(&self.pool)
        .await?;
        let mut flaky = Vec::new();
        for row in rows {
            let failure = FlakyFailure {
                name: row.try_get("name")?,
                passed_build: row.try_get("passed_build")?,
                flaky_trees: row.try_get("flaky_trees")?,
            };
            if failure.passed_build.is_some() || failure.flaky_trees > 0 {
                flaky.push(failure);
            }
        }
        Ok(flaky)
    }

    pub(super) async fn builds_failing_what_passed_in_sql(
        &self,
        build_id: i64,
    ) -> Result<Vec<i64>> {
        // Each passed test of the build probes the (name, tree_hash,
        // outcome) index for failures of it on the same tree.
        let rows = sqlx::query(
            "SELECT DISTINCT f.build_id AS build_id FROM test_results p \
             JOIN test_results f ON f.name = p.name AND f.tree_hash = p.tree_hash \
             AND f.outcome = 'failed' \
             WHERE p.build_id = $1 AND p.outcome = 'passed' AND f.build_id <> $1 \
             ORDER BY f.build_id",
        )
        .bind(build_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok(row.try_get("build_id")?))
            .collect()
    }

    pub(super) async fn list_flaky_tests_sql(
        &self,
        skip: i64,
        limit: i64,
    ) -> Result<(Vec<FlakyTestRecord>, i64)> {
        let sql = format!(
            "{FLAKY_CTE} SELECT t.name AS name, MAX(t.tool) AS tool, flaky.trees AS trees, \
             CAST(SUM(CASE WHEN t.outcome = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failures, \
             CAST(SUM(CASE WHEN t.outcome = 'passed' THEN 1 ELSE 0 END) AS BIGINT) AS passes, \
             MIN(t.build_id) AS first_build, MAX(t.build_id) AS last_build, \
             MAX(CASE WHEN t.outcome = 'failed' THEN t.build_id END) AS last_failed_build \
             FROM test_results t JOIN flaky ON flaky.name = t.name \
             GROUP BY t.name, flaky.trees \
             ORDER BY last_failed_build DESC, name LIMIT $1 OFFSET $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(limit.max(0))
            .bind(skip.max(0))
            .fetch_all(&self.pool)
            .await?;
        let tests = rows
            .iter()
            .map(|row| {
                Ok(FlakyTestRecord {
                    name: row.try_get("name")?,
                    tool: row.try_get("tool")?,
                    failures: row.try_get("failures")?,
                    passes: row.try_get("passes")?,
                    trees: row.try_get("trees")?,
                    first_build: row.try_get("first_build")?,
                    last_build: row.try_get("last_build")?,
                    last_failed_build: row.try_get("last_failed_build")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let total: i64 = sqlx::query(AssertSqlSafe(format!(
            "{FLAKY_CTE} SELECT COUNT(*) AS n FROM flaky"
        )))
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        Ok((tests, total))
    }
}

#[cfg(test)]
mod tests {
    use super::head;

    #[test]
    fn head_cuts_at_a_character_boundary() {
        assert_eq!(head("abc", 10), "abc");
        assert_eq!(head("abcdef", 3), "abc");
        // "é" is two bytes: a cut inside it steps back before it.
        assert_eq!(head("aé", 2), "a");
    }
}
