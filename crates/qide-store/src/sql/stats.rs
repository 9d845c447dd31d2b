//! The dashboard's queries: builds filtered by status and failure category,
//! and the aggregates its charts draw (trends per time bucket, failures per
//! category, pattern sparklines, reports per type). Each one is a single
//! `GROUP BY` in the database, so a chart over 10,000 builds moves a few
//! dozen rows, never the builds themselves.

use sqlx::{AssertSqlSafe, Row};

use super::{BUILD_COLUMNS, REPORT_COLUMNS, SqlStore, build_from_row, report_from_row};
use crate::{
    BuildQuery, BuildRecord, CategoryFailures, PatternActivity, ReportKindCount, ReportRecord,
    Result, TrendBucket,
};

/// Most fingerprints one `pattern_activity` call may ask about: a page of
/// patterns, with room to spare. Longer lists are cut.
const MAX_FINGERPRINTS: usize = 500;

impl SqlStore {
    pub(super) async fn search_builds_sql(
        &self,
        query: &BuildQuery,
    ) -> Result<(Vec<BuildRecord>, i64)> {
        // Conditions are added only for the filters given, so an unfiltered
        // list reads the primary key backwards and stops after `limit` rows.
        let mut conditions = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        if let Some(status) = query.status {
            binds.push(status.as_str().to_owned());
            conditions.push(format!("status = ${}", binds.len()));
        }
        if let Some(category) = &query.category {
            binds.push(category.clone());
            conditions.push(format!("failure_category = ${}", binds.len()));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let n = binds.len();
        let sql = format!(
            "SELECT {BUILD_COLUMNS} FROM builds {filter} ORDER BY id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut select = sqlx::query(AssertSqlSafe(sql));
        for value in &binds {
            select = select.bind(value.clone());
        }
        let rows = select
            .bind(query.limit.max(0))
            .bind(query.skip.max(0))
            .fetch_all(&self.pool)
            .await?;
        let mut count = sqlx::query(AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM builds {filter}"
        )));
        for value in &binds {
            count = count.bind(value.clone());
        }
        let total: i64 = count.fetch_one(&self.pool).await?.try_get("n")?;
        let builds = rows
            .iter()
            .map(build_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((builds, total))
    }

    pub(super) async fn build_trend_sql(
        &self,
        since_ms: i64,
        bucket_ms: i64,
    ) -> Result<Vec<TrendBucket>> {
        let bucket_ms = bucket_ms.max(1);
        // Durations count builds that ran to a verdict: a cancelled or
        // unstartable build (`error`) says nothing about how long the
        // project takes to build.
        let rows = sqlx::query(
            "SELECT (created_at / $1) * $1 AS bucket, COUNT(*) AS n, \
             CAST(SUM(CASE WHEN status = 'success' THEN 1 ELSE 0 END) AS BIGINT) AS success, \
             CAST(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failed, \
             CAST(SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END) AS BIGINT) AS errored, \
             CAST(AVG(CASE WHEN status IN ('success', 'failed') AND started_at IS NOT NULL \
                  AND finished_at IS NOT NULL THEN finished_at - started_at END) \
                  AS DOUBLE PRECISION) AS mean_ms, \
             MAX(CASE WHEN status IN ('success', 'failed') AND started_at IS NOT NULL \
                  AND finished_at IS NOT NULL THEN finished_at - started_at END) AS max_ms \
             FROM builds WHERE created_at >= $2 GROUP BY bucket ORDER BY bucket",
        )
        .bind(bucket_ms)
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TrendBucket {
                    start_ms: row.try_get("bucket")?,
                    total: row.try_get("n")?,
                    success: row.try_get("success")?,
                    failed: row.try_get("failed")?,
                    error: row.try_get("errored")?,
                    mean_duration_ms: row.try_get("mean_ms")?,
                    max_duration_ms: row.try_get("max_ms")?,
                })
            })
            .collect()
    }

    pub(super) async fn failure_categories_sql(
        &self,
        since_ms: i64,
    ) -> Result<Vec<CategoryFailures>> {
        let rows = sqlx::query(
            "SELECT failure_category AS category, COUNT(*) AS n FROM builds \
             WHERE status IN ('failed', 'error') AND created_at >= $1 \
             GROUP BY failure_category",
        )
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut counts = rows
            .iter()
            .map(|row| {
                Ok(CategoryFailures {
                    category: row.try_get("category")?,
                    builds: row.try_get("n")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // Sorted here, uncategorised last: the two databases order NULL
        // differently.
        counts.sort_by(|a, b| {
            b.builds.cmp(&a.builds).then_with(|| {
                (a.category.is_none(), &a.category).cmp(&(b.category.is_none(), &b.category))
            })
        });
        Ok(counts)
    }

    pub(super) async fn pattern_activity_sql(
        &self,
        fingerprints: &[String],
        since_ms: i64,
        bucket_ms: i64,
    ) -> Result<Vec<PatternActivity>> {
        let fingerprints = &fingerprints[..fingerprints.len().min(MAX_FINGERPRINTS)];
        if fingerprints.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..fingerprints.len())
            .map(|i| format!("${}", i + 3))
            .collect();
        let sql = format!(
            "SELECT bf.fingerprint AS fingerprint, (b.created_at / $1) * $1 AS bucket, \
             COUNT(*) AS n FROM build_fingerprints bf JOIN builds b ON b.id = bf.build_id \
             WHERE b.created_at >= $2 AND bf.fingerprint IN ({}) \
             GROUP BY bf.fingerprint, bucket ORDER BY fingerprint, bucket",
            placeholders.join(", ")
        );
        let mut select = sqlx::query(AssertSqlSafe(sql))
            .bind(bucket_ms.max(1))
            .bind(since_ms);
        for fingerprint in fingerprints {
            select = select.bind(fingerprint.clone());
        }
        let rows = select.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(PatternActivity {
                    fingerprint: row.try_get("fingerprint")?,
                    start_ms: row.try_get("bucket")?,
                    builds: row.try_get("n")?,
                })
            })
            .collect()
    }

    pub(super) async fn report_kinds_sql(&self, since_ms: i64) -> Result<Vec<ReportKindCount>> {
        let rows = sqlx::query(
            "SELECT kind, COUNT(*) AS n, \
             CAST(AVG(confidence) AS DOUBLE PRECISION) AS mean_confidence \
             FROM reports WHERE created_at >= $1 GROUP BY kind ORDER BY kind",
        )
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ReportKindCount {
                    kind: row.try_get("kind")?,
                    reports: row.try_get("n")?,
                    mean_confidence: row.try_get("mean_confidence")?,
                })
            })
            .collect()
    }

    pub(super) async fn latest_reports_for_fingerprint_sql(
        &self,
        fingerprint: &str,
        before_build: i64,
        limit: i64,
    ) -> Result<(Vec<ReportRecord>, i64)> {
        let linked = "FROM reports WHERE id IN \
             (SELECT report_id FROM report_fingerprints WHERE fingerprint = $1) \
             AND build_id < $2";
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REPORT_COLUMNS} {linked} ORDER BY id DESC LIMIT $3"
        )))
        .bind(fingerprint)
        .bind(before_build)
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query(AssertSqlSafe(format!("SELECT COUNT(*) AS n {linked}")))
            .bind(fingerprint)
            .bind(before_build)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let reports = rows
            .iter()
            .map(report_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((reports, total))
    }
}
