//! Users, dashboard sessions and the audit trail over SQL: the queries
//! behind the `Store` methods of the same names, kept apart from builds and
//! logs because they change for other reasons.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::SqlStore;

use crate::{AuditRecord, NewAudit, NewSession, Result, SessionRecord, StoreError, UserRecord};

const USER_COLUMNS: &str = "id, name, password_hash, scopes, created_at";

const SESSION_COLUMNS: &str =
    "subject, user_id, token_id, scopes, created_at, last_seen_at, expires_at";

const AUDIT_COLUMNS: &str = "id, at, actor, action, target, detail, remote";

/// Scopes are stored comma-separated, like a token's.
fn scopes_from(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn user_from_row(row: &AnyRow) -> Result<UserRecord> {
    let scopes: String = row.try_get("scopes")?;
    Ok(UserRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        password_hash: row.try_get("password_hash")?,
        scopes: scopes_from(&scopes),
        created_at_ms: row.try_get("created_at")?,
    })
}

fn session_from_row(row: &AnyRow) -> Result<SessionRecord> {
    let scopes: String = row.try_get("scopes")?;
    Ok(SessionRecord {
        subject: row.try_get("subject")?,
        user_id: row.try_get("user_id")?,
        token_id: row.try_get("token_id")?,
        scopes: scopes_from(&scopes),
        created_at_ms: row.try_get("created_at")?,
        last_seen_at_ms: row.try_get("last_seen_at")?,
        expires_at_ms: row.try_get("expires_at")?,
    })
}

fn audit_from_row(row: &AnyRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        id: row.try_get("id")?,
        at_ms: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        detail: row.try_get("detail")?,
        remote: row.try_get("remote")?,
    })
}

pub(super) async fn create_user(
    store: &SqlStore,
    name: &str,
    password_hash: &str,
    scopes: &[String],
    now_ms: i64,
) -> Result<UserRecord> {
    let sql = format!(
        "INSERT INTO users (name, password_hash, scopes, created_at) VALUES ($1, $2, $3, $4) \
         RETURNING {USER_COLUMNS}"
    );
    let row = store
        .insert_named("user", "users", &sql, name, password_hash, scopes, now_ms)
        .await?;
    user_from_row(&row)
}

pub(super) async fn list_users(store: &SqlStore) -> Result<Vec<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .fetch_all(&store.pool)
        .await?;
    rows.iter().map(user_from_row).collect()
}

pub(super) async fn user_count(store: &SqlStore) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM users")
        .fetch_one(&store.pool)
        .await?
        .try_get("n")?)
}

pub(super) async fn get_user(store: &SqlStore, name: &str) -> Result<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(name)
        .fetch_optional(&store.pool)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub(super) async fn remove_user(store: &SqlStore, name: &str) -> Result<()> {
    let mut tx = store.begin_write().await?;
    // Sessions go explicitly: SQLite enforces the cascade only with
    // foreign keys on, and a session must never outlive its user.
    sqlx::query("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE name = $1)")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query("DELETE FROM users WHERE name = $1")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        tx.rollback().await?;
        return Err(StoreError::NotFound(format!("user {name:?}")));
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn create_session(store: &SqlStore, new: &NewSession) -> Result<()> {
    let mut tx = store.begin_write().await?;
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(new.created_at_ms)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO sessions (hash, subject, user_id, token_id, scopes, created_at, \
         last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
    )
    .bind(&new.hash)
    .bind(&new.subject)
    .bind(new.user_id)
    .bind(new.token_id)
    .bind(new.scopes.join(","))
    .bind(new.created_at_ms)
    .bind(new.expires_at_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn use_session(
    store: &SqlStore,
    hash: &str,
    now_ms: i64,
    idle_ms: i64,
) -> Result<Option<SessionRecord>> {
    // One statement checks expiry, the token and the user, and slides the
    // idle expiry, so a revoked token or a removed user ends every session
    // at the next request.
    let sql = format!(
        "UPDATE sessions SET last_seen_at = $2, expires_at = $3 \
         WHERE hash = $1 AND expires_at > $2 \
         AND (token_id IS NULL OR token_id IN (SELECT id FROM tokens WHERE revoked_at IS NULL)) \
         AND (user_id IS NULL OR user_id IN (SELECT id FROM users)) \
         RETURNING {SESSION_COLUMNS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(hash)
        .bind(now_ms)
        .bind(now_ms.saturating_add(idle_ms))
        .fetch_optional(&store.pool)
        .await?;
    row.as_ref().map(session_from_row).transpose()
}

pub(super) async fn end_session(store: &SqlStore, hash: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM sessions WHERE hash = $1")
        .bind(hash)
        .execute(&store.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn add_audit(store: &SqlStore, new: &NewAudit) -> Result<AuditRecord> {
    let sql = format!(
        "INSERT INTO audit (at, actor, action, target, detail, remote) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {AUDIT_COLUMNS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(new.at_ms)
        .bind(&new.actor)
        .bind(&new.action)
        .bind(new.target.as_deref())
        .bind(new.detail.as_deref())
        .bind(new.remote.as_deref())
        .fetch_one(&store.pool)
        .await?;
    audit_from_row(&row)
}

pub(super) async fn list_audit(
    store: &SqlStore,
    skip: i64,
    limit: i64,
) -> Result<(Vec<AuditRecord>, i64)> {
    let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit ORDER BY id DESC LIMIT $1 OFFSET $2");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(limit.max(0))
        .bind(skip.max(0))
        .fetch_all(&store.pool)
        .await?;
    let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM audit")
        .fetch_one(&store.pool)
        .await?
        .try_get("n")?;
    Ok((
        rows.iter().map(audit_from_row).collect::<Result<_>>()?,
        total,
    ))
}
