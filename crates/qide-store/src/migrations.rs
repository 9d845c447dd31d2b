//! Schema migrations, one list per dialect, applied in order and recorded in
//! `qide_migrations`. A migration is never edited once released: add a new one.

/// SQLite schema steps.
pub(crate) const SQLITE: &[&str] = &[
    r#"
CREATE TABLE builds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    status TEXT NOT NULL,
    trigger_name TEXT NOT NULL,
    commit_hash TEXT,
    branch TEXT,
    dirty BIGINT,
    tree_hash TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    exit_code BIGINT,
    failure_kind TEXT,
    failure_category TEXT,
    error_count BIGINT NOT NULL DEFAULT 0,
    warning_count BIGINT NOT NULL DEFAULT 0,
    report_count BIGINT NOT NULL DEFAULT 0,
    timeout_s BIGINT,
    env_json TEXT,
    log_line_count BIGINT NOT NULL DEFAULT 0,
    log_bytes BIGINT NOT NULL DEFAULT 0,
    log_dropped_first BIGINT,
    log_dropped_last BIGINT,
    log_dropped_bytes BIGINT,
    summary BLOB
);
CREATE INDEX builds_status_id ON builds (status, id);
CREATE TABLE build_steps (
    build_id BIGINT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    name TEXT NOT NULL,
    run TEXT NOT NULL,
    status TEXT NOT NULL,
    exit_code BIGINT,
    signal TEXT,
    failure_kind TEXT,
    started_at BIGINT,
    finished_at BIGINT,
    timeout_s BIGINT,
    env_json TEXT,
    first_line BIGINT,
    last_line BIGINT,
    PRIMARY KEY (build_id, idx)
);
CREATE TABLE log_chunks (
    build_id BIGINT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    step_idx BIGINT NOT NULL,
    first_line BIGINT NOT NULL,
    line_count BIGINT NOT NULL,
    text BLOB NOT NULL,
    streams BLOB NOT NULL,
    PRIMARY KEY (build_id, seq)
);
CREATE INDEX log_chunks_line ON log_chunks (build_id, first_line);
CREATE TABLE reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    build_id BIGINT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    analysis TEXT NOT NULL,
    recommendations TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    fingerprints TEXT NOT NULL,
    agent TEXT,
    model TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX reports_build ON reports (build_id, id)
"#,
    // Log chunk text may be stored compressed: 0 = as is, 1 = LZ4 block
    // with its length in front.
    "ALTER TABLE log_chunks ADD COLUMN encoding BIGINT NOT NULL DEFAULT 0",
    // Learning: each failure's fingerprint tracked across builds, the
    // builds it appeared in, and the reports written about it.
    r#"
ALTER TABLE builds ADD COLUMN steps_key TEXT;
CREATE TABLE fingerprints (
    fingerprint TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    tool TEXT NOT NULL,
    code TEXT,
    message TEXT NOT NULL,
    file TEXT,
    first_build BIGINT NOT NULL,
    last_build BIGINT NOT NULL,
    occurrences BIGINT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    resolved_build BIGINT,
    steps_key TEXT
);
CREATE INDEX fingerprints_status ON fingerprints (status, last_seen_at);
CREATE TABLE build_fingerprints (
    build_id BIGINT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (build_id, fingerprint)
);
CREATE INDEX build_fingerprints_fp ON build_fingerprints (fingerprint, build_id);
CREATE TABLE report_fingerprints (
    report_id BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (report_id, fingerprint)
);
CREATE INDEX report_fingerprints_fp ON report_fingerprints (fingerprint, report_id)
"#,
    // Access tokens: only a hash of each is kept.
    r#"
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_used_at BIGINT
)
"#,
    // Agents' leases on failed builds, so two never analyse the same one.
    r#"
CREATE TABLE claims (
    build_id BIGINT PRIMARY KEY REFERENCES builds (id) ON DELETE CASCADE,
    agent TEXT NOT NULL,
    claimed_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
)
"#,
    // Dashboard users (argon2 password hashes), their sessions (by hash,
    // with an idle expiry), and the audit trail of who did what.
    r#"
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE sessions (
    hash TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    token_id BIGINT REFERENCES tokens (id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT,
    remote TEXT
)
"#,
    // Per-test results of each build, with the build's working-tree hash
    // copied in, so "failed and passed on the same tree" (flaky) is one
    // indexed lookup; and the build a rerun of failed tests reruns.
    r#"
ALTER TABLE builds ADD COLUMN rerun_of BIGINT;
CREATE TABLE test_results (
    build_id BIGINT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    name TEXT NOT NULL,
    tool TEXT,
    outcome TEXT NOT NULL,
    duration_ms BIGINT,
    message TEXT,
    file TEXT,
    line BIGINT,
    tree_hash TEXT,
    PRIMARY KEY (build_id, seq)
);
CREATE INDEX test_results_name_tree ON test_results (name, tree_hash, outcome);
CREATE INDEX test_results_outcome ON test_results (outcome, name)
"#,
];

/// PostgreSQL schema steps.
pub(crate) const POSTGRES: &[&str] = &[
    r#"
CREATE TABLE builds (
    id BIGSERIAL PRIMARY KEY,
    status TEXT NOT NULL,
    trigger_name TEXT NOT NULL,
    commit_hash TEXT,
    branch TEXT,
    dirty BIGINT,
    tree_hash TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    exit_code BIGINT,
    failure_kind TEXT,
    failure_category TEXT,
    error_count BIGINT NOT NULL DEFAULT 0,
    warning_count BIGINT NOT NULL DEFAULT 0,
    report_count BIGINT NOT NULL DEFAULT 0,
    timeout_s BIGINT,
    env_json TEXT,
    log_line_count BIGINT NOT NULL DEFAULT 0,
    log_bytes BIGINT NOT NULL DEFAULT 0,
    log_dropped_first BIGINT,
    log_dropped_last BIGINT,
    log_dropped_bytes BIGINT,
    summary BYTEA
);
CREATE INDEX builds_status_id ON builds (status, id);
CREATE TABLE build_steps (
    build_id BIGINT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    name TEXT NOT NULL,
    run TEXT NOT NULL,
    status TEXT NOT NULL,
    exit_code BIGINT,
    signal TEXT,
    failure_kind TEXT,
    started_at BIGINT,
    finished_at BIGINT,
    timeout_s BIGINT,
    env_json TEXT,
    first_line BIGINT,
    last_line BIGINT,
    PRIMARY KEY (build_id, idx)
);
CREATE TABLE log_chunks (
    build_id BIGINT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    step_idx BIGINT NOT NULL,
    first_line BIGINT NOT NULL,
    line_count BIGINT NOT NULL,
    text BYTEA NOT NULL,
    streams BYTEA NOT NULL,
    PRIMARY KEY (build_id, seq)
);
CREATE INDEX log_chunks_line ON log_chunks (build_id, first_line);
CREATE TABLE reports (
    id BIGSERIAL PRIMARY KEY,
    build_id BIGINT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    analysis TEXT NOT NULL,
    recommendations TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    fingerprints TEXT NOT NULL,
    agent TEXT,
    model TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX reports_build ON reports (build_id, id)
"#,
    "ALTER TABLE log_chunks ADD COLUMN encoding BIGINT NOT NULL DEFAULT 0",
    // Learning: each failure's fingerprint tracked across builds, the
    // builds it appeared in, and the reports written about it.
    r#"
ALTER TABLE builds ADD COLUMN steps_key TEXT;
CREATE TABLE fingerprints (
    fingerprint TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    tool TEXT NOT NULL,
    code TEXT,
    message TEXT NOT NULL,
    file TEXT,
    first_build BIGINT NOT NULL,
    last_build BIGINT NOT NULL,
    occurrences BIGINT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    resolved_build BIGINT,
    steps_key TEXT
);
CREATE INDEX fingerprints_status ON fingerprints (status, last_seen_at);
CREATE TABLE build_fingerprints (
    build_id BIGINT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (build_id, fingerprint)
);
CREATE INDEX build_fingerprints_fp ON build_fingerprints (fingerprint, build_id);
CREATE TABLE report_fingerprints (
    report_id BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (report_id, fingerprint)
);
CREATE INDEX report_fingerprints_fp ON report_fingerprints (fingerprint, report_id)
"#,
    // Access tokens: only a hash of each is kept.
    r#"
CREATE TABLE tokens (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_used_at BIGINT
)
"#,
    // Agents' leases on failed builds, so two never analyse the same one.
    r#"
CREATE TABLE claims (
    build_id BIGINT PRIMARY KEY REFERENCES builds (id) ON DELETE CASCADE,
    agent TEXT NOT NULL,
    claimed_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
)
"#,
    // Dashboard users (argon2 password hashes), their sessions (by hash,
    // with an idle expiry), and the audit trail of who did what.
    r#"
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE sessions (
    hash TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    token_id BIGINT REFERENCES tokens (id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE TABLE audit (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT,
    remote TEXT
)
"#,
    // Per-test results of each build, with the build's working-tree hash
    // copied in, so "failed and passed on the same tree" (flaky) is one
    // indexed lookup; and the build a rerun of failed tests reruns.
    r#"
ALTER TABLE builds ADD COLUMN rerun_of BIGINT;
CREATE TABLE test_results (
    build_id BIGINT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    name TEXT NOT NULL,
    tool TEXT,
    outcome TEXT NOT NULL,
    duration_ms BIGINT,
    message TEXT,
    file TEXT,
    line BIGINT,
    tree_hash TEXT,
    PRIMARY KEY (build_id, seq)
);
CREATE INDEX test_results_name_tree ON test_results (name, tree_hash, outcome);
CREATE INDEX test_results_outcome ON test_results (outcome, name)
"#,
];
