//! [`SqlStore`]: the [`Store`] over SQLite or PostgreSQL through sqlx's `Any`
//! driver. Queries use `$N` placeholders, which both databases accept; the
//! few dialect differences are spelled out where they occur.

mod accounts;

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, AssertSqlSafe, Executor, Row};

use crate::{
    BuildFilter, BuildFinish, BuildRecord, BuildStatus, Calibration, CategoryCount, Claim,
    ClaimOutcome, DiagnosisRecord, Dropped, LogChunk, LogMeta, NewBuild, NewReport, PatternFilter,
    PatternRecord, ReportRecord, Result, StepRecord, StepUpdate, Store, StoreError, TokenRecord,
    WorkspaceState, log_text, migrations,
};
use crate::{LogPacker, PackedText};

mod stats;
mod test_results;

const TOKEN_COLUMNS: &str = "id, name, hash, scopes, created_at, revoked_at, last_used_at";

fn token_from_row(row: &AnyRow) -> Result<TokenRecord> {
    let scopes: String = row.try_get("scopes")?;
    Ok(TokenRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        hash: row.try_get("hash")?,
        scopes: scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        created_at_ms: row.try_get("created_at")?,
        revoked_at_ms: row.try_get("revoked_at")?,
        last_used_at_ms: row.try_get("last_used_at")?,
    })
}

const PATTERN_COLUMNS: &str = "fingerprint, category, tool, code, message, file, first_build, \
     last_build, occurrences, first_seen_at, last_seen_at, status, resolved_build, \
     (SELECT COUNT(*) FROM report_fingerprints rf WHERE rf.fingerprint = fingerprints.fingerprint) \
     AS report_count";

/// What makes two builds "the same steps", for resolving a failure: the
/// steps' names and commands, hashed (FNV-1a, stable across versions).
fn steps_key(new: &NewBuild) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for step in &new.steps {
        for byte in step
            .name
            .bytes()
            .chain([0x1f])
            .chain(step.run.bytes())
            .chain([0x1e])
        {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

fn pattern_from_row(row: &AnyRow) -> Result<PatternRecord> {
    Ok(PatternRecord {
        fingerprint: row.try_get("fingerprint")?,
        category: row.try_get("category")?,
        tool: row.try_get("tool")?,
        code: row.try_get("code")?,
        message: row.try_get("message")?,
        file: row.try_get("file")?,
        first_build: row.try_get("first_build")?,
        last_build: row.try_get("last_build")?,
        occurrences: row.try_get("occurrences")?,
        first_seen_at_ms: row.try_get("first_seen_at")?,
        last_seen_at_ms: row.try_get("last_seen_at")?,
        status: row.try_get("status")?,
        resolved_build: row.try_get("resolved_build")?,
        report_count: row.try_get("report_count")?,
    })
}

/// Which database a [`SqlStore`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The store over a SQL database.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
}

const BUILD_COLUMNS: &str = "id, status, trigger_name, commit_hash, branch, dirty, tree_hash, \
     created_at, started_at, finished_at, exit_code, failure_kind, failure_category, \
     error_count, warning_count, timeout_s, env_json, log_line_count, log_bytes, \
     log_dropped_first, log_dropped_last, log_dropped_bytes, rerun_of, \
     (SELECT COUNT(*) FROM reports r WHERE r.build_id = builds.id) AS report_count";

const STEP_COLUMNS: &str = "idx, name, run, status, exit_code, signal, failure_kind, started_at, \
     finished_at, timeout_s, env_json, first_line, last_line";

const REPORT_COLUMNS: &str = "id, build_id, kind, analysis, recommendations, confidence, \
     fingerprints, agent, model, created_at";

impl SqlStore {
    /// Opens (creating if needed) the SQLite database at `path`, in WAL mode,
    /// and brings its schema up to date.
    pub async fn open_sqlite(path: &Path) -> Result<SqlStore> {
        let url = format!("sqlite://{}?mode=rwc", percent_encode_path(path));
        SqlStore::connect(&url, Backend::Sqlite).await
    }

    /// Connects to a `sqlite://` or `postgres://` URL and migrates.
    pub async fn open(url: &str) -> Result<SqlStore> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Database(sqlx::Error::Configuration(
                format!("unsupported database URL (want sqlite:// or postgres://): {url}").into(),
            )));
        };
        SqlStore::connect(url, backend).await
    }

    async fn connect(url: &str, backend: Backend) -> Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let options = AnyConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; NORMAL
                        // sync keeps every commit safe from a process crash
                        // (kill -9), which is what acknowledged writes need.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let store = SqlStore { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn migrate(&self) -> Result<()> {
        let steps = match self.backend {
            Backend::Sqlite => migrations::SQLITE,
            Backend::Postgres => migrations::POSTGRES,
        };
        let mut conn = self.pool.acquire().await?;
        if self.backend == Backend::Postgres {
            // Servers sharing one database must not migrate it concurrently.
            conn.execute("SELECT pg_advisory_lock(7242016)").await?;
        }
        let result = async {
            // The version is read inside the write transaction: on SQLite,
            // where there is no advisory lock, a second process opening a
            // new file at the same time waits for the first one's schema and
            // then finds nothing left to do.
            let mut tx = begin_write(&mut conn, self.backend).await?;
            tx.execute(
                "CREATE TABLE IF NOT EXISTS qide_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
            )
            .await?;
            let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM qide_migrations")
                .fetch_one(&mut *tx)
                .await?;
            let current: i64 = row.try_get("v")?;
            for (i, step) in steps.iter().enumerate() {
                let version = i as i64 + 1;
                if version <= current {
                    continue;
                }
                for statement in step.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                    tx.execute(statement).await?;
                }
                sqlx::query("INSERT INTO qide_migrations (version, applied_at) VALUES ($1, $2)")
                    .bind(version)
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?;
                tracing::info!(version, "applying schema migration");
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await;
        if self.backend == Backend::Postgres {
            conn.execute("SELECT pg_advisory_unlock(7242016)").await?;
        }
        result
    }

    /// Starts a transaction that will write, on a pooled connection; see
    /// [`begin_write`].
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(self
            .pool
            .begin_with(begin_write_statement(self.backend))
            .await?)
    }

    /// Inserts a named credential (a token or a user) with `sql`, whose
    /// binds are name, secret digest, scopes and time, unless `table`
    /// already holds `name`: a `Conflict` naming the `kind` then.
    #[allow(clippy::too_many_arguments)]
    async fn insert_named(
        &self,
        kind: &str,
        table: &str,
        sql: &str,
        name: &str,
        secret: &str,
        scopes: &[String],
        now_ms: i64,
    ) -> Result<AnyRow> {
        let mut tx = self.begin_write().await?;
        let taken = sqlx::query(AssertSqlSafe(format!(
            "SELECT 1 AS one FROM {table} WHERE name = $1"
        )))
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        if taken.is_some() {
            tx.rollback().await?;
            return Err(StoreError::Conflict(format!(
                "a {kind} named {name:?} exists"
            )));
        }
        let row = sqlx::query(AssertSqlSafe(sql.to_owned()))
            .bind(name)
            .bind(secret)
            .bind(scopes.join(","))
            .bind(now_ms)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(row)
    }
}

/// Starts a transaction that will write on `conn`.
///
/// On SQLite it is `BEGIN IMMEDIATE`: a deferred transaction that reads
/// before it writes fails at once with `SQLITE_BUSY` when another connection
/// wrote in between, instead of waiting out `busy_timeout`; taking the write
/// lock up front makes it wait its turn.
async fn begin_write(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
) -> Result<sqlx::Transaction<'_, sqlx::Any>> {
    Ok(sqlx::Connection::begin_with(conn, begin_write_statement(backend)).await?)
}

fn begin_write_statement(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    }
}

/// The path as a URL path: every byte but unreserved ones and `/` is
/// percent-encoded, so `?`, `#`, `%` and spaces in a directory name reach
/// SQLite as they are instead of being read as URL syntax.
fn percent_encode_path(path: &Path) -> String {
    let mut encoded = String::new();
    for &byte in path.as_os_str().as_encoded_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn env_to_json(env: &BTreeMap<String, String>) -> Option<String> {
    if env.is_empty() {
        None
    } else {
        serde_json::to_string(env).ok()
    }
}

fn env_from_json(text: Option<String>) -> Result<BTreeMap<String, String>> {
    match text {
        None => Ok(BTreeMap::new()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("environment column: {e}"))),
    }
}

fn list_from_json(text: &str, column: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{column} column: {e}")))
}

fn list_to_json(list: &[String]) -> String {
    // A list of strings always serialises.
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

fn opt_u64(v: Option<i64>) -> Option<u64> {
    v.and_then(|v| u64::try_from(v).ok())
}

fn opt_i64(v: Option<u64>) -> Option<i64> {
    v.map(|v| i64::try_from(v).unwrap_or(i64::MAX))
}

fn build_from_row(row: &AnyRow) -> Result<BuildRecord> {
    let status: String = row.try_get("status")?;
    let status = BuildStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown build status {status:?}")))?;
    let dropped_first: Option<i64> = row.try_get("log_dropped_first")?;
    let dropped_last: Option<i64> = row.try_get("log_dropped_last")?;
    let dropped_bytes: Option<i64> = row.try_get("log_dropped_bytes")?;
    let dropped = match (dropped_first, dropped_last) {
        (Some(first_line), Some(last_line)) => Some(Dropped {
            first_line,
            last_line,
            bytes: dropped_bytes.unwrap_or(0),
        }),
        _ => None,
    };
    Ok(BuildRecord {
        id: row.try_get("id")?,
        status,
        trigger: row.try_get("trigger_name")?,
        commit: row.try_get("commit_hash")?,
        branch: row.try_get("branch")?,
        dirty: row.try_get::<Option<i64>, _>("dirty")?.map(|d| d != 0),
        tree_hash: row.try_get("tree_hash")?,
        created_at_ms: row.try_get("created_at")?,
        started_at_ms: row.try_get("started_at")?,
        finished_at_ms: row.try_get("finished_at")?,
        exit_code: row
            .try_get::<Option<i64>, _>("exit_code")?
            .map(|c| c as i32),
        failure_kind: row.try_get("failure_kind")?,
        failure_category: row.try_get("failure_category")?,
        error_count: row.try_get("error_count")?,
        warning_count: row.try_get("warning_count")?,
        report_count: row.try_get("report_count")?,
        timeout_s: opt_u64(row.try_get("timeout_s")?),
        env: env_from_json(row.try_get("env_json")?)?,
        log: LogMeta {
            line_count: row.try_get("log_line_count")?,
            bytes: row.try_get("log_bytes")?,
            dropped,
        },
        rerun_of: row.try_get("rerun_of")?,
    })
}

fn step_from_row(row: &AnyRow) -> Result<StepRecord> {
    Ok(StepRecord {
        idx: row.try_get("idx")?,
        name: row.try_get("name")?,
        run: row.try_get("run")?,
        status: row.try_get("status")?,
        exit_code: row
            .try_get::<Option<i64>, _>("exit_code")?
            .map(|c| c as i32),
        signal: row.try_get("signal")?,
        failure_kind: row.try_get("failure_kind")?,
        started_at_ms: row.try_get("started_at")?,
        finished_at_ms: row.try_get("finished_at")?,
        timeout_s: opt_u64(row.try_get("timeout_s")?),
        env: env_from_json(row.try_get("env_json")?)?,
        first_line: row.try_get("first_line")?,
        last_line: row.try_get("last_line")?,
    })
}

fn report_from_row(row: &AnyRow) -> Result<ReportRecord> {
    let recommendations: String = row.try_get("recommendations")?;
    let fingerprints: String = row.try_get("fingerprints")?;
    Ok(ReportRecord {
        id: row.try_get("id")?,
        build_id: row.try_get("build_id")?,
        kind: row.try_get("kind")?,
        analysis: row.try_get("analysis")?,
        recommendations: list_from_json(&recommendations, "recommendations")?,
        confidence: row.try_get("confidence")?,
        fingerprints: list_from_json(&fingerprints, "fingerprints")?,
        agent: row.try_get("agent")?,
        model: row.try_get("model")?,
        created_at_ms: row.try_get("created_at")?,
    })
}

fn chunk_from_row(row: &AnyRow) -> Result<LogChunk> {
    let seq: i64 = row.try_get("seq")?;
    let chunk = LogChunk {
        seq,
        step_idx: row.try_get("step_idx")?,
        first_line: row.try_get("first_line")?,
        text: log_text::unpack(row.try_get("encoding")?, row.try_get("text")?, seq)?,
        streams: row.try_get("streams")?,
    };
    let newlines = chunk.text.iter().filter(|&&b| b == b'\n').count();
    if chunk.streams.is_empty() || newlines + 1 != chunk.streams.len() {
        return Err(StoreError::Corrupt(format!(
            "log chunk {} has {} lines but {} stream tags",
            chunk.seq,
            newlines + 1,
            chunk.streams.len()
        )));
    }
    Ok(chunk)
}

#[async_trait::async_trait]
impl Store for SqlStore {
    async fn create_build(&self, new: &NewBuild) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO builds (status, trigger_name, created_at, timeout_s, env_json, steps_key, \
             rerun_of) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(BuildStatus::Queued.as_str())
        .bind(&new.trigger)
        .bind(new.created_at_ms)
        .bind(opt_i64(new.timeout_s))
        .bind(env_to_json(&new.env))
        .bind(steps_key(new))
        .bind(new.rerun_of)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        for (idx, step) in new.steps.iter().enumerate() {
            sqlx::query(
                "INSERT INTO build_steps (build_id, idx, name, run, status, timeout_s, env_json) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(idx as i64)
            .bind(&step.name)
            .bind(&step.run)
            .bind("queued")
            .bind(opt_i64(step.timeout_s))
            .bind(env_to_json(&step.env))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    async fn claim_next_build(&self, now_ms: i64) -> Result<Option<BuildRecord>> {
        let pick = match self.backend {
            Backend::Sqlite => "SELECT id FROM builds WHERE status = 'queued' ORDER BY id LIMIT 1",
            Backend::Postgres => {
                "SELECT id FROM builds WHERE status = 'queued' ORDER BY id LIMIT 1 \
                 FOR UPDATE SKIP LOCKED"
            }
        };
        let sql = format!(
            "UPDATE builds SET status = 'running', started_at = $1 \
             WHERE id = ({pick}) AND status = 'queued' RETURNING id"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => {
                let id: i64 = row.try_get("id")?;
                self.get_build(id).await.map(Some)
            }
        }
    }

    async fn set_workspace(&self, build_id: i64, state: &WorkspaceState) -> Result<()> {
        let done = sqlx::query(
            "UPDATE builds SET commit_hash = $1, branch = $2, dirty = $3, tree_hash = $4 \
             WHERE id = $5",
        )
        .bind(state.commit.clone())
        .bind(state.branch.clone())
        .bind(state.dirty.map(i64::from))
        .bind(state.tree_hash.clone())
        .bind(build_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("build {build_id}")));
        }
        Ok(())
    }

    async fn update_step(&self, build_id: i64, update: &StepUpdate) -> Result<()> {
        let done = sqlx::query(
            "UPDATE build_steps SET status = $1, exit_code = $2, signal = $3, failure_kind = $4, \
             started_at = COALESCE($5, started_at), finished_at = $6, \
             first_line = COALESCE($7, first_line), last_line = COALESCE($8, last_line) \
             WHERE build_id = $9 AND idx = $10",
        )
        .bind(&update.status)
        .bind(update.exit_code.map(i64::from))
        .bind(update.signal.clone())
        .bind(update.failure_kind.clone())
        .bind(update.started_at_ms)
        .bind(update.finished_at_ms)
        .bind(update.first_line)
        .bind(update.last_line)
        .bind(build_id)
        .bind(update.idx)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "step {} of build {build_id}",
                update.idx
            )));
        }
        Ok(())
    }

    async fn append_log_chunk(
        &self,
        build_id: i64,
        chunk: &LogChunk,
        meta: &LogMeta,
    ) -> Result<()> {
        let packed = LogPacker::new().pack(&chunk.text);
        self.write_log(build_id, &[(chunk, &packed)], &[], meta)
            .await
    }

    async fn drop_log_chunk(&self, build_id: i64, seq: i64, meta: &LogMeta) -> Result<()> {
        self.write_log(build_id, &[], &[seq], meta).await
    }

    async fn write_log(
        &self,
        build_id: i64,
        append: &[(&LogChunk, &PackedText)],
        drop: &[i64],
        meta: &LogMeta,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        // The build row first, so an unknown build is `NotFound` rather
        // than a foreign-key failure.
        write_log_meta(&mut tx, build_id, meta).await?;
        for (chunk, packed) in append {
            sqlx::query(
                "INSERT INTO log_chunks (build_id, seq, step_idx, first_line, line_count, text, streams, encoding) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(build_id)
            .bind(chunk.seq)
            .bind(chunk.step_idx)
            .bind(chunk.first_line)
            .bind(chunk.line_count())
            .bind(packed.bytes.as_slice())
            .bind(chunk.streams.as_slice())
            .bind(packed.encoding)
            .execute(&mut *tx)
            .await?;
        }
        for seq in drop {
            sqlx::query("DELETE FROM log_chunks WHERE build_id = $1 AND seq = $2")
                .bind(build_id)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn log_chunks_from(
        &self,
        build_id: i64,
        from_line: i64,
        max_chunks: i64,
    ) -> Result<Vec<LogChunk>> {
        // The subquery finds the chunk that may hold `from_line`, so the scan
        // starts there on the (build_id, first_line) index; the last-line
        // test then drops that chunk when `from_line` is past its end (in a
        // dropped gap, or beyond the log).
        let rows = sqlx::query(
            "SELECT seq, step_idx, first_line, text, streams, encoding FROM log_chunks \
             WHERE build_id = $1 AND first_line >= COALESCE( \
                 (SELECT MAX(first_line) FROM log_chunks WHERE build_id = $1 AND first_line <= $2), 0) \
             AND first_line + line_count > $2 \
             ORDER BY first_line LIMIT $3",
        )
        .bind(build_id)
        .bind(from_line)
        .bind(max_chunks.max(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(chunk_from_row).collect()
    }

    async fn log_chunks_last(&self, build_id: i64, max_chunks: i64) -> Result<Vec<LogChunk>> {
        let rows = sqlx::query(
            "SELECT seq, step_idx, first_line, text, streams, encoding FROM log_chunks \
             WHERE build_id = $1 ORDER BY first_line DESC LIMIT $2",
        )
        .bind(build_id)
        .bind(max_chunks.max(0))
        .fetch_all(&self.pool)
        .await?;
        let mut chunks = rows
            .iter()
            .map(chunk_from_row)
            .collect::<Result<Vec<_>>>()?;
        chunks.reverse();
        Ok(chunks)
    }

    async fn finish_build(
        &self,
        build_id: i64,
        finish: &BuildFinish,
        diagnosis: Option<&DiagnosisRecord>,
    ) -> Result<()> {
        // One transaction: the steps' environment (which may hold secrets)
        // goes with the build's, or neither does.
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE builds SET status = $1, exit_code = $2, failure_kind = $3, finished_at = $4, \
             env_json = NULL, error_count = $5, warning_count = $6, failure_category = $7, \
             summary = $8 WHERE id = $9 AND status = 'running'",
        )
        .bind(finish.status.as_str())
        .bind(finish.exit_code.map(i64::from))
        .bind(finish.failure_kind.clone())
        .bind(finish.finished_at_ms)
        .bind(diagnosis.map_or(0, |d| d.error_count))
        .bind(diagnosis.map_or(0, |d| d.warning_count))
        .bind(diagnosis.and_then(|d| d.failure_category.clone()))
        .bind(diagnosis.map(|d| d.summary.clone()))
        .bind(build_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            let build = self.get_build(build_id).await?;
            return Err(StoreError::Conflict(format!(
                "build {build_id} is {}, not running",
                build.status.as_str()
            )));
        }
        sqlx::query("UPDATE build_steps SET env_json = NULL WHERE build_id = $1")
            .bind(build_id)
            .execute(&mut *tx)
            .await?;
        let mut seen = std::collections::HashSet::new();
        for fp in diagnosis
            .map(|d| d.fingerprints.as_slice())
            .unwrap_or_default()
        {
            if !seen.insert(fp.fingerprint.as_str()) {
                continue;
            }
            // A failure that comes back after being resolved is open again;
            // `resolved_build` keeps the earlier fix for the record.
            sqlx::query(
                "INSERT INTO fingerprints (fingerprint, category, tool, code, message, file, \
                 first_build, last_build, occurrences, first_seen_at, last_seen_at, status, steps_key) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1, $8, $8, 'open', \
                         (SELECT steps_key FROM builds WHERE id = $7)) \
                 ON CONFLICT (fingerprint) DO UPDATE SET message = excluded.message, \
                 file = excluded.file, last_build = excluded.last_build, \
                 occurrences = fingerprints.occurrences + 1, last_seen_at = excluded.last_seen_at, \
                 status = 'open', steps_key = excluded.steps_key",
            )
            .bind(&fp.fingerprint)
            .bind(&fp.category)
            .bind(&fp.tool)
            .bind(fp.code.clone())
            .bind(&fp.message)
            .bind(fp.file.clone())
            .bind(build_id)
            .bind(finish.finished_at_ms)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO build_fingerprints (build_id, fingerprint) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(build_id)
            .bind(&fp.fingerprint)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(d) = diagnosis {
            test_results::insert(&mut tx, build_id, &d.tests).await?;
        }
        if finish.status == BuildStatus::Success {
            sqlx::query(
                "UPDATE fingerprints SET status = 'resolved', resolved_build = $1 \
                 WHERE status = 'open' AND last_build < $1 \
                 AND steps_key = (SELECT steps_key FROM builds WHERE id = $1)",
            )
            .bind(build_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn cancel_queued(&self, build_id: i64, now_ms: i64) -> Result<bool> {
        // One transaction, so a cancelled build never shows queued steps.
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE builds SET status = 'error', failure_kind = 'cancelled', finished_at = $1, \
             env_json = NULL WHERE id = $2 AND status = 'queued'",
        )
        .bind(now_ms)
        .bind(build_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE build_steps SET status = 'skipped', env_json = NULL WHERE build_id = $1",
        )
        .bind(build_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn get_build(&self, build_id: i64) -> Result<BuildRecord> {
        let sql = format!("SELECT {BUILD_COLUMNS} FROM builds WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(build_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("build {build_id}")))?;
        build_from_row(&row)
    }

    async fn list_steps(&self, build_id: i64) -> Result<Vec<StepRecord>> {
        let sql =
            format!("SELECT {STEP_COLUMNS} FROM build_steps WHERE build_id = $1 ORDER BY idx");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(build_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(step_from_row).collect()
    }

    async fn list_builds(&self, filter: &BuildFilter) -> Result<(Vec<BuildRecord>, i64)> {
        // SQLite reads a negative LIMIT as "no limit" and PostgreSQL refuses
        // one; clamping makes both mean "nothing" (and a negative skip none).
        let (limit, skip) = (filter.limit.max(0), filter.skip.max(0));
        let (rows, total) = match filter.status {
            Some(status) => {
                let sql = format!(
                    "SELECT {BUILD_COLUMNS} FROM builds WHERE status = $1 \
                     ORDER BY id DESC LIMIT $2 OFFSET $3"
                );
                let rows = sqlx::query(AssertSqlSafe(sql))
                    .bind(status.as_str())
                    .bind(limit)
                    .bind(skip)
                    .fetch_all(&self.pool)
                    .await?;
                let total = sqlx::query("SELECT COUNT(*) AS n FROM builds WHERE status = $1")
                    .bind(status.as_str())
                    .fetch_one(&self.pool)
                    .await?
                    .try_get("n")?;
                (rows, total)
            }
            None => {
                let sql = format!(
                    "SELECT {BUILD_COLUMNS} FROM builds ORDER BY id DESC LIMIT $1 OFFSET $2"
                );
                let rows = sqlx::query(AssertSqlSafe(sql))
                    .bind(limit)
                    .bind(skip)
                    .fetch_all(&self.pool)
                    .await?;
                let total = sqlx::query("SELECT COUNT(*) AS n FROM builds")
                    .fetch_one(&self.pool)
                    .await?
                    .try_get("n")?;
                (rows, total)
            }
        };
        let builds = rows
            .iter()
            .map(build_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((builds, total))
    }

    async fn diagnosis(&self, build_id: i64) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT summary FROM builds WHERE id = $1")
            .bind(build_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("build {build_id}")))?;
        Ok(row.try_get("summary")?)
    }

    async fn insert_report(&self, new: &NewReport) -> Result<ReportRecord> {
        // The report is stored only if its build exists, with no window
        // between the check and the write; its links go in the same
        // transaction, so a report is never half-linked.
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "INSERT INTO reports (build_id, kind, analysis, recommendations, confidence, \
             fingerprints, agent, model, created_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE EXISTS (SELECT 1 FROM builds WHERE id = $1) \
             RETURNING {REPORT_COLUMNS}"
        );
        let Some(row) = sqlx::query(AssertSqlSafe(sql))
            .bind(new.build_id)
            .bind(&new.kind)
            .bind(&new.analysis)
            .bind(list_to_json(&new.recommendations))
            .bind(new.confidence)
            .bind(list_to_json(&new.fingerprints))
            .bind(new.agent.clone())
            .bind(new.model.clone())
            .bind(new.created_at_ms)
            .fetch_optional(&mut *tx)
            .await?
        else {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!("build {}", new.build_id)));
        };
        let report = report_from_row(&row)?;
        if new.fingerprints.is_empty() {
            sqlx::query(
                "INSERT INTO report_fingerprints (report_id, fingerprint) \
                 SELECT $1, fingerprint FROM build_fingerprints WHERE build_id = $2",
            )
            .bind(report.id)
            .bind(new.build_id)
            .execute(&mut *tx)
            .await?;
        } else {
            let mut seen = std::collections::HashSet::new();
            for fp in new
                .fingerprints
                .iter()
                .filter(|fp| seen.insert(fp.as_str()))
            {
                sqlx::query(
                    "INSERT INTO report_fingerprints (report_id, fingerprint) VALUES ($1, $2)",
                )
                .bind(report.id)
                .bind(fp)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(report)
    }

    async fn create_token(
        &self,
        name: &str,
        hash: &str,
        scopes: &[String],
        now_ms: i64,
    ) -> Result<TokenRecord> {
        let sql = format!(
            "INSERT INTO tokens (name, hash, scopes, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING {TOKEN_COLUMNS}"
        );
        let row = self
            .insert_named("token", "tokens", &sql, name, hash, scopes, now_ms)
            .await?;
        token_from_row(&row)
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY id");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_token(&self, name: &str, now_ms: i64) -> Result<()> {
        let done =
            sqlx::query("UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE name = $2")
                .bind(now_ms)
                .bind(name)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("token {name:?}")));
        }
        Ok(())
    }

    async fn use_token(&self, hash: &str, now_ms: i64) -> Result<Option<TokenRecord>> {
        let sql = format!(
            "UPDATE tokens SET last_used_at = $1 WHERE hash = $2 AND revoked_at IS NULL \
             RETURNING {TOKEN_COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(now_ms)
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn active_token_count(&self) -> Result<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM tokens WHERE revoked_at IS NULL")
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?,
        )
    }

    async fn claim_build(
        &self,
        build_id: i64,
        agent: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<ClaimOutcome> {
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT 1 AS one FROM builds WHERE id = $1")
            .bind(build_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!("build {build_id}")));
        }
        let reported = sqlx::query(
            "SELECT 1 AS one FROM reports WHERE build_id = $1 AND agent IS NOT NULL LIMIT 1",
        )
        .bind(build_id)
        .fetch_optional(&mut *tx)
        .await?;
        if reported.is_some() {
            tx.rollback().await?;
            return Ok(ClaimOutcome::Analyzed);
        }
        // One conditional upsert decides: it writes only when the lease is
        // free, expired or the caller's own, and the database serialises
        // racing writers on the row.
        let expires_at_ms = now_ms.saturating_add(lease_ms.max(0));
        let won = sqlx::query(
            "INSERT INTO claims (build_id, agent, claimed_at, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (build_id) DO UPDATE SET agent = excluded.agent, \
             claimed_at = excluded.claimed_at, expires_at = excluded.expires_at \
             WHERE claims.agent = excluded.agent OR claims.expires_at <= excluded.claimed_at \
             RETURNING agent",
        )
        .bind(build_id)
        .bind(agent)
        .bind(now_ms)
        .bind(expires_at_ms)
        .fetch_optional(&mut *tx)
        .await?;
        if won.is_none() {
            let row = sqlx::query("SELECT agent, expires_at FROM claims WHERE build_id = $1")
                .bind(build_id)
                .fetch_one(&mut *tx)
                .await?;
            let held = Claim {
                build_id,
                agent: row.try_get("agent")?,
                expires_at_ms: row.try_get("expires_at")?,
            };
            tx.rollback().await?;
            return Ok(ClaimOutcome::Held(held));
        }
        tx.commit().await?;
        Ok(ClaimOutcome::Claimed(Claim {
            build_id,
            agent: agent.to_owned(),
            expires_at_ms,
        }))
    }

    async fn last_green_before(&self, build_id: i64) -> Result<Option<BuildRecord>> {
        let sql = format!(
            "SELECT {BUILD_COLUMNS} FROM builds WHERE status = 'success' AND id < $1 \
             AND commit_hash IS NOT NULL ORDER BY id DESC LIMIT 1"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(build_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(build_from_row).transpose()
    }

    async fn green_build_on_tree(
        &self,
        tree_hash: &str,
        steps_of: i64,
        except: i64,
    ) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT id FROM builds WHERE tree_hash = $1 AND status = 'success' AND id <> $3 \
             AND steps_key = (SELECT steps_key FROM builds WHERE id = $2) \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(tree_hash)
        .bind(steps_of)
        .bind(except)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| r.try_get("id"))
            .transpose()
            .map_err(StoreError::from)
    }

    async fn calibration(&self) -> Result<Vec<Calibration>> {
        let rows = sqlx::query(
            "SELECT agent, model, COUNT(*) AS n, \
             CAST(SUM(outcome) AS BIGINT) AS resolved, \
             CAST(AVG((confidence - outcome) * (confidence - outcome)) AS DOUBLE PRECISION) AS brier \
             FROM (SELECT r.agent AS agent, r.model AS model, r.confidence AS confidence, \
                   CASE WHEN EXISTS (SELECT 1 FROM report_fingerprints rf \
                        JOIN fingerprints f ON f.fingerprint = rf.fingerprint \
                        WHERE rf.report_id = r.id AND f.resolved_build > r.build_id) \
                   THEN 1 ELSE 0 END AS outcome \
                   FROM reports r WHERE EXISTS \
                   (SELECT 1 FROM report_fingerprints rf WHERE rf.report_id = r.id)) judged \
             GROUP BY agent, model ORDER BY agent, model",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Calibration {
                    agent: row.try_get("agent")?,
                    model: row.try_get("model")?,
                    reports: row.try_get("n")?,
                    resolved: row.try_get("resolved")?,
                    brier: row.try_get("brier")?,
                })
            })
            .collect()
    }

    async fn list_patterns(&self, filter: &PatternFilter) -> Result<(Vec<PatternRecord>, i64)> {
        let condition = "(CAST($1 AS TEXT) IS NULL OR status = $1) \
                         AND (CAST($2 AS TEXT) IS NULL OR category = $2)";
        let sql = format!(
            "SELECT {PATTERN_COLUMNS} FROM fingerprints WHERE {condition} \
             ORDER BY last_seen_at DESC, fingerprint LIMIT $3 OFFSET $4"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(filter.status.clone())
            .bind(filter.category.clone())
            .bind(filter.limit.max(0))
            .bind(filter.skip.max(0))
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query(AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM fingerprints WHERE {condition}"
        )))
        .bind(filter.status.clone())
        .bind(filter.category.clone())
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        let patterns = rows
            .iter()
            .map(pattern_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((patterns, total))
    }

    async fn category_counts(&self) -> Result<Vec<CategoryCount>> {
        let rows = sqlx::query(
            "SELECT category, \
             CAST(SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END) AS BIGINT) AS open_count, \
             CAST(SUM(CASE WHEN status = 'resolved' THEN 1 ELSE 0 END) AS BIGINT) AS resolved_count, \
             CAST(SUM(occurrences) AS BIGINT) AS occurrences \
             FROM fingerprints GROUP BY category ORDER BY category",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CategoryCount {
                    category: row.try_get("category")?,
                    open: row.try_get("open_count")?,
                    resolved: row.try_get("resolved_count")?,
                    occurrences: row.try_get("occurrences")?,
                })
            })
            .collect()
    }

    async fn known_issues(&self, build_id: i64) -> Result<Vec<PatternRecord>> {
        let sql = format!(
            "SELECT {PATTERN_COLUMNS} FROM fingerprints WHERE fingerprint IN \
             (SELECT fingerprint FROM build_fingerprints WHERE build_id = $1) \
             AND first_build < $1 ORDER BY first_build, fingerprint"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(build_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(pattern_from_row).collect()
    }

    async fn reports_for_fingerprint(
        &self,
        fingerprint: &str,
        before_build: i64,
    ) -> Result<Vec<ReportRecord>> {
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE id IN \
             (SELECT report_id FROM report_fingerprints WHERE fingerprint = $1) \
             AND build_id < $2 ORDER BY id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(fingerprint)
            .bind(before_build)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(report_from_row).collect()
    }

    async fn list_reports(&self, build_id: i64) -> Result<Vec<ReportRecord>> {
        let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE build_id = $1 ORDER BY id");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(build_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(report_from_row).collect()
    }

    async fn build_counts(&self) -> Result<Vec<(BuildStatus, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM builds GROUP BY status")
            .fetch_all(&self.pool)
            .await?;
        let mut counts = Vec::new();
        for row in rows {
            let status: String = row.try_get("status")?;
            let status = BuildStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown build status {status:?}")))?;
            counts.push((status, row.try_get("n")?));
        }
        Ok(counts)
    }

    // --- Tests and flakiness: queries in `sql/test_results.rs` ---

    async fn test_results(&self, build_id: i64) -> Result<Vec<crate::TestResultRecord>> {
        self.test_results_sql(build_id).await
    }

    async fn flaky_failures(&self, build_id: i64) -> Result<Vec<crate::FlakyFailure>> {
        self.flaky_failures_sql(build_id).await
    }

    async fn list_flaky_tests(
        &self,
        skip: i64,
        limit: i64,
    ) -> Result<(Vec<crate::FlakyTestRecord>, i64)> {
        self.list_flaky_tests_sql(skip, limit).await
    }

    async fn builds_failing_what_passed_in(&self, build_id: i64) -> Result<Vec<i64>> {
        self.builds_failing_what_passed_in_sql(build_id).await
    }

    async fn set_failure_category(&self, build_id: i64, category: &str) -> Result<()> {
        let done = sqlx::query("UPDATE builds SET failure_category = $1 WHERE id = $2")
            .bind(category.to_owned())
            .bind(build_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("build {build_id}")));
        }
        Ok(())
    }

    // --- Users, sessions and the audit trail: queries in `sql/accounts.rs` ---

    async fn create_user(
        &self,
        name: &str,
        password_hash: &str,
        scopes: &[String],
        now_ms: i64,
    ) -> Result<crate::UserRecord> {
        accounts::create_user(self, name, password_hash, scopes, now_ms).await
    }

    async fn list_users(&self) -> Result<Vec<crate::UserRecord>> {
        accounts::list_users(self).await
    }

    async fn user_count(&self) -> Result<i64> {
        accounts::user_count(self).await
    }

    async fn get_user(&self, name: &str) -> Result<Option<crate::UserRecord>> {
        accounts::get_user(self, name).await
    }

    async fn remove_user(&self, name: &str) -> Result<()> {
        accounts::remove_user(self, name).await
    }

    async fn create_session(&self, new: &crate::NewSession) -> Result<()> {
        accounts::create_session(self, new).await
    }

    async fn use_session(
        &self,
        hash: &str,
        now_ms: i64,
        idle_ms: i64,
    ) -> Result<Option<crate::SessionRecord>> {
        accounts::use_session(self, hash, now_ms, idle_ms).await
    }

    async fn end_session(&self, hash: &str) -> Result<bool> {
        accounts::end_session(self, hash).await
    }

    async fn add_audit(&self, new: &crate::NewAudit) -> Result<crate::AuditRecord> {
        accounts::add_audit(self, new).await
    }

    async fn list_audit(&self, skip: i64, limit: i64) -> Result<(Vec<crate::AuditRecord>, i64)> {
        accounts::list_audit(self, skip, limit).await
    }

    async fn mark_interrupted(&self, now_ms: i64) -> Result<Vec<i64>> {
        // One transaction: an interrupted build never keeps a running step.
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "UPDATE builds SET status = 'error', failure_kind = 'interrupted', finished_at = $1, \
             env_json = NULL WHERE status = 'running' RETURNING id",
        )
        .bind(now_ms)
        .fetch_all(&mut *tx)
        .await?;
        let ids = rows
            .iter()
            .map(|r| r.try_get::<i64, _>("id"))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        for id in &ids {
            sqlx::query(
                "UPDATE build_steps SET status = CASE WHEN status = 'running' THEN 'error' \
                 WHEN status = 'queued' THEN 'skipped' ELSE status END, \
                 failure_kind = CASE WHEN status = 'running' THEN 'interrupted' ELSE failure_kind END, \
                 finished_at = CASE WHEN status = 'running' THEN $1 ELSE finished_at END, \
                 env_json = NULL WHERE build_id = $2",
            )
            .bind(now_ms)
            .bind(*id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    // The dashboard's queries live in `sql/stats.rs`.

    async fn search_builds(&self, query: &crate::BuildQuery) -> Result<(Vec<BuildRecord>, i64)> {
        self.search_builds_sql(query).await
    }

    async fn build_trend(&self, since_ms: i64, bucket_ms: i64) -> Result<Vec<crate::TrendBucket>> {
        self.build_trend_sql(since_ms, bucket_ms).await
    }

    async fn failure_categories(&self, since_ms: i64) -> Result<Vec<crate::CategoryFailures>> {
        self.failure_categories_sql(since_ms).await
    }

    async fn pattern_activity(
        &self,
        fingerprints: &[String],
        since_ms: i64,
        bucket_ms: i64,
    ) -> Result<Vec<crate::PatternActivity>> {
        self.pattern_activity_sql(fingerprints, since_ms, bucket_ms)
            .await
    }

    async fn report_kinds(&self, since_ms: i64) -> Result<Vec<crate::ReportKindCount>> {
        self.report_kinds_sql(since_ms).await
    }

    async fn latest_reports_for_fingerprint(
        &self,
        fingerprint: &str,
        before_build: i64,
        limit: i64,
    ) -> Result<(Vec<ReportRecord>, i64)> {
        self.latest_reports_for_fingerprint_sql(fingerprint, before_build, limit)
            .await
    }
}

/// Records a log's size and gap on its build; `NotFound` if there is no such
/// build (the caller's transaction then rolls back as it is dropped).
async fn write_log_meta(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    build_id: i64,
    meta: &LogMeta,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE builds SET log_line_count = $1, log_bytes = $2, log_dropped_first = $3, \
         log_dropped_last = $4, log_dropped_bytes = $5 WHERE id = $6",
    )
    .bind(meta.line_count)
    .bind(meta.bytes)
    .bind(meta.dropped.map(|d| d.first_line))
    .bind(meta.dropped.map(|d| d.last_line))
    .bind(meta.dropped.map(|d| d.bytes))
    .bind(build_id)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("build {build_id}")));
    }
    Ok(())
}
