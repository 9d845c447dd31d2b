//! The project as a model sees it: `GET /llm/learning/codebase` (the
//! summary, remembered by tree hash; with `mode=map` a ranked map of
//! definitions, with `mode=pack` file contents, both within a token budget
//! and centred on a failing build's files) and
//! `GET /llm/learning/file` (one file, line-numbered and confined to the
//! project root).
//!
//! A repeat summary of an unchanged project is answered from the bytes of
//! the last answer, without walking, running `git` or serialising: see
//! [`summary`]. Every summary carries a `Server-Timing` header with the
//! handler's own time.
//!
//! The reading and every confinement check are `qide_codebase::read_file`'s;
//! this module adds what only the HTTP boundary knows about (a path that is
//! still percent-encoded after the query was decoded) and maps each refusal
//! to its problem.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use qide_api as api;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::convert::clean_for_model;
use crate::extract::ApiQuery;
use crate::{AppError, AppState, packet, summary};

/// Longest path accepted, in bytes (Linux's `PATH_MAX`).
const MAX_PATH_BYTES: usize = 4096;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct CodebaseQuery {
    /// What to answer (default `summary`).
    #[param(value_type = Option<CodebaseMode>, inline)]
    mode: Option<String>,
    /// For `map` and `pack`: the most tokens the contents may take (default
    /// 4096 for a map, 20000 for a pack; at most 1000000).
    #[param(minimum = 1, maximum = 1_000_000)]
    budget_tokens: Option<u64>,
    /// For `map` and `pack`: a build whose failing files come first.
    #[param(minimum = 1)]
    build: Option<i64>,
}

/// `summary`, `map` or `pack`.
// Only the document uses this type: the handler reads the parameter as
// text, so that it can name a wrong value in its answer.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum CodebaseMode {
    Summary,
    Map,
    Pack,
}

/// A `Codebase` (`mode=summary`), a `CodebaseMap` (`mode=map`) or a
/// `CodebasePack` (`mode=pack`).
// Only the document uses this type: the handler answers with the one type
// its mode makes.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum CodebaseAnswer {
    Summary(api::Codebase),
    Map(api::CodebaseMap),
    Pack(api::CodebasePack),
}

/// Budget of a pack when the client names none.
const DEFAULT_PACK_BUDGET: u64 = 20_000;
/// Budget of a map when the client names none.
const DEFAULT_MAP_BUDGET: u64 = 4_096;
/// At most this many left-out files are listed; `left_out_count` has all.
const MAX_LEFT_OUT_LISTED: usize = 2_000;

/// `GET /llm/learning/codebase?mode=summary|map|pack&budget_tokens=N&build=ID`.
///
/// `summary` (the default): the project's files, key files, previews and
/// shape, recomputed only when the tree hash moved since the last call.
/// `map`: definitions (tree-sitter tags) ranked by personalised PageRank,
/// within `budget_tokens` (default 4096), centred on build `ID`'s files,
/// within `qide_codebase::MAP_DEADLINE` (partial past it).
/// `pack`: file contents within `budget_tokens` (default 20 000), the files
/// named by build `ID`'s diagnostics first.
#[utoipa::path(
    get,
    path = "/llm/learning/codebase",
    operation_id = "get_codebase",
    tag = "codebase",
    summary = "The project: summary, map or pack",
    description = "`summary` (the default, a `Codebase`): files, key files, source \
                   previews, languages and shape, recomputed only when the working tree \
                   changed. `map` (a `CodebaseMap`): the project's definitions, files \
                   ranked by how much the rest refers to them, within `budget_tokens`; \
                   answered within 10 s, `partial` (with `files_parsed` of `files_total` \
                   and a `note`) when parsing every file would take longer, the rest \
                   parsed for the next call. \
                   `pack` (a `CodebasePack`): file contents within `budget_tokens`. With \
                   `build`, a map or pack starts from the files that build's diagnostics \
                   name. Secret files are never shown.",
    security(("bearer" = ["read"])),
    params(CodebaseQuery),
    responses(
        (status = 200, description = "A `Codebase`, `CodebaseMap` or `CodebasePack`, by \
            `mode`.", body = CodebaseAnswer),
        (status = 404, description = "`not_found`: `build` names no build.",
         body = api::Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many maps or packs for this \
            caller; `Retry-After` says when to try again.",
         body = api::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn codebase(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<CodebaseQuery>,
) -> Result<Response, AppError> {
    match query.mode.as_deref() {
        None | Some("" | "summary") => summary(&state).await,
        Some("pack") => {
            Ok(Json(pack(&state, query.budget_tokens, query.build).await?).into_response())
        }
        Some("map") => {
            Ok(Json(map(&state, query.budget_tokens, query.build).await?).into_response())
        }
        Some(other) => Err(AppError::field(
            "mode",
            format!("mode must be summary, map or pack, not {other:?}"),
        )),
    }
}

/// Checks a budget, defaulting it.
fn budget(budget: Option<u64>, default: u64) -> Result<u64, AppError> {
    let budget = budget.unwrap_or(default);
    if !(1..=packet::MAX_BUDGET).contains(&budget) {
        return Err(AppError::field(
            "budget_tokens",
            format!("budget_tokens must be between 1 and {}", packet::MAX_BUDGET),
        ));
    }
    Ok(budget)
}

/// The ranked map of definitions within the budget.
async fn map(
    state: &AppState,
    budget_tokens: Option<u64>,
    build: Option<i64>,
) -> Result<api::CodebaseMap, AppError> {
    let started = Instant::now();
    let budget = budget(budget_tokens, DEFAULT_MAP_BUDGET)?;
    let focus = match build {
        Some(id) => failing_files(state, id).await?,
        None => qide_codebase::MapFocus::default(),
    };
    let root = state.root.clone();
    let cache = state.codebase.clone();
    let (tree_hash, map) = tokio::task::spawn_blocking(move || {
        let tree_hash = cache.tree_hash(&root)?;
        // Cleaned before counting, so the count is of the text sent. The
        // cache keeps each file's tags, so only changed files are parsed;
        // a cold map of a large tree answers partial within the deadline
        // (well under the request timeout) and goes on parsing.
        let limit = qide_codebase::MAP_DEADLINE.saturating_sub(started.elapsed());
        let map = cache.repo_map_within(
            &root,
            budget,
            &focus,
            |text| packet::count_tokens(&clean_for_model(text)),
            limit,
        )?;
        Ok::<_, qide_codebase::Error>((tree_hash, map))
    })
    .await
    .map_err(|e| AppError::Internal(format!("map task: {e}")))?
    .map_err(|e| AppError::Internal(format!("mapping the project: {e}")))?;
    let note = map.note();
    Ok(api::CodebaseMap {
        partial: map.partial,
        files_total: map.files_total,
        files_parsed: map.files_parsed,
        note,
        mode: "map".to_owned(),
        method: map.method().to_owned(),
        root: state.root.display().to_string(),
        budget_tokens: budget,
        tokens: map.tokens,
        build,
        tree_hash: Some(tree_hash),
        files: map
            .files
            .into_iter()
            .map(|f| api::MapFile {
                path: f.path,
                language: f.language.to_owned(),
                reason: f.reason.as_str().to_owned(),
                score: f.score,
                tokens: f.tokens,
                truncated: f.truncated,
                definitions: f
                    .definitions
                    .into_iter()
                    .map(|d| api::MapDefinition {
                        kind: d.kind,
                        name: clean_for_model(&d.name),
                        line: d.line,
                        signature: clean_for_model(&d.signature),
                        member: d.member,
                    })
                    .collect(),
                text: clean_for_model(&f.text),
            })
            .collect(),
        left_out_count: map.left_out.len() as u64,
        left_out: map.left_out.into_iter().take(MAX_LEFT_OUT_LISTED).collect(),
    })
}

/// File contents within the budget, most relevant first.
async fn pack(
    state: &AppState,
    budget_tokens: Option<u64>,
    build: Option<i64>,
) -> Result<api::CodebasePack, AppError> {
    let budget = budget(budget_tokens, DEFAULT_PACK_BUDGET)?;
    let first = match build {
        Some(id) => failing_files(state, id).await?.files,
        None => Vec::new(),
    };
    let root = state.root.clone();
    let cache = state.codebase.clone();
    let (tree_hash, packed) = tokio::task::spawn_blocking(move || {
        let tree_hash = cache.tree_hash(&root)?;
        let packed = qide_codebase::pack(&root, budget, &first, |text| {
            let content = clean_for_model(text);
            let tokens = packet::count_tokens(&content);
            (content, tokens)
        })?;
        Ok::<_, qide_codebase::Error>((tree_hash, packed))
    })
    .await
    .map_err(|e| AppError::Internal(format!("pack task: {e}")))?
    .map_err(|e| AppError::Internal(format!("packing the project: {e}")))?;
    Ok(api::CodebasePack {
        mode: "pack".to_owned(),
        root: state.root.display().to_string(),
        budget_tokens: budget,
        tokens: packed.tokens,
        build,
        tree_hash: Some(tree_hash),
        files: packed
            .files
            .into_iter()
            .map(|f| api::PackedFile {
                path: f.path,
                language: f.language.map(str::to_owned),
                reason: f.reason.as_str().to_owned(),
                tokens: f.tokens,
                content: f.content,
            })
            .collect(),
        left_out_count: packed.left_out.len() as u64,
        left_out: packed
            .left_out
            .into_iter()
            .take(MAX_LEFT_OUT_LISTED)
            .map(|l| api::LeftOutFile {
                path: l.path,
                reason: l.reason.as_str().to_owned(),
                tokens: l.tokens,
            })
            .collect(),
    })
}

/// The project files a build's diagnostics name, most telling first: root
/// causes, the other errors, failed tests, then warnings. Paths are made
/// relative to the root; any that cannot be (elsewhere on disk, `..`) are
/// dropped.
async fn failing_files(state: &AppState, id: i64) -> Result<qide_codebase::MapFocus, AppError> {
    if id <= 0 {
        return Err(AppError::NotFound(format!(
            "build {id} does not exist (build ids are positive integers)"
        )));
    }
    state.store.get_build(id).await?;
    let log_summary = match state.store.diagnosis(id).await? {
        Some(bytes) => serde_json::from_slice::<api::LogSummary>(&bytes)
            .map_err(|e| AppError::Internal(format!("stored summary of build {id}: {e}")))?,
        None => summary::live_summary(state.store.as_ref(), id).await?,
    };
    let root_causes = log_summary.root_causes.iter().filter_map(|rc| {
        log_summary
            .errors
            .iter()
            .find(|d| &d.id == rc)
            .and_then(|d| d.file.as_deref())
    });
    let errors = log_summary.errors.iter().filter_map(|d| d.file.as_deref());
    let tests = log_summary
        .tests
        .failures
        .iter()
        .filter_map(|t| t.file.as_deref());
    let warnings = log_summary
        .warnings
        .iter()
        .filter_map(|d| d.file.as_deref());
    let mut files: Vec<String> = Vec::new();
    for file in root_causes.chain(errors).chain(tests).chain(warnings) {
        if let Some(rel) = project_relative(&state.root, file)
            && !files.contains(&rel)
        {
            files.push(rel);
        }
    }
    // The names the errors quote (`cannot find value `x``) steer the map
    // toward their definitions.
    let mut symbols: Vec<String> = Vec::new();
    let messages = log_summary.errors.iter().map(|d| d.message.as_str()).chain(
        log_summary
            .tests
            .failures
            .iter()
            .filter_map(|t| t.message.as_deref()),
    );
    for message in messages {
        for symbol in qide_codebase::symbols_in_message(message) {
            if !symbols.contains(&symbol) {
                symbols.push(symbol);
            }
        }
    }
    Ok(qide_codebase::MapFocus { files, symbols })
}

/// A diagnostic's file as the walk names it: `/`-separated, relative to the
/// root, without `./`; `None` for a path outside the root.
fn project_relative(root: &std::path::Path, file: &str) -> Option<String> {
    let path = std::path::Path::new(file);
    let relative = if path.is_absolute() {
        path.strip_prefix(root).ok()?
    } else {
        path
    };
    let mut parts = Vec::new();
    for component in relative.components() {
        match component {
            std::path::Component::Normal(part) => parts.push(part.to_str()?),
            std::path::Component::CurDir => {}
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// `Server-Timing`, the handler's own time (walk, git, serialisation), so
/// a client can tell it from the network and the middleware.
const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

/// The summary of the project as JSON bytes.
///
/// The summary itself comes from the cache, recomputed only when the tree
/// moved. The answer also carries git's view (head, branch, dirty), which
/// costs three `git` processes, and serialising tens of thousands of files
/// costs tens of milliseconds, so the bytes of the last answer are kept
/// under the summary's tree hash and a key that moves whenever git's
/// answer could: the watcher's count of changes anywhere under the root
/// (ignored files and build output included, since `git status` may see
/// them) and the stamps of git's own files ([`git_stamp`]). Without a
/// watcher that can vouch for the count, or outside a plain repository or
/// worktree, nothing is remembered and every call runs `git`.
async fn summary(state: &AppState) -> Result<Response, AppError> {
    let started = Instant::now();
    let root = state.root.clone();
    let cache = state.codebase.clone();
    let (cached, key) = tokio::task::spawn_blocking(move || {
        // The count is read before git runs: a change while it runs then
        // moves the key past the one the answer is filed under.
        let (cached, changes) = cache.summary_and_changes(&root)?;
        let key = changes
            .zip(git_stamp(&root))
            .map(|(changes, git)| format!("{changes}\0{git}"));
        Ok::<_, qide_codebase::Error>((cached, key))
    })
    .await
    .map_err(|e| AppError::Internal(format!("codebase task: {e}")))?
    .map_err(|e| AppError::Internal(format!("reading the project: {e}")))?;
    if let Some(key) = &key
        && let Some(bytes) = state.codebase.rendering(&cached.tree_hash, key)
    {
        return Ok(json_bytes(bytes, started));
    }
    let git = qide_runner::git_state(&state.root).await;
    let root = state.root.clone();
    let cache = state.codebase.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        let answer = codebase_answer(&root, &cached, git);
        let bytes: Arc<[u8]> = serde_json::to_vec(&answer)
            .map_err(|e| AppError::Internal(format!("serialising the summary: {e}")))?
            .into();
        if let Some(key) = &key {
            cache.remember_rendering(&cached.tree_hash, key, bytes.clone());
        }
        Ok::<_, AppError>(bytes)
    })
    .await
    .map_err(|e| AppError::Internal(format!("summary task: {e}")))??;
    Ok(json_bytes(bytes, started))
}

/// A JSON answer from bytes already serialised, timed from `started`.
fn json_bytes(bytes: Arc<[u8]>, started: Instant) -> Response {
    let timing = format!(
        "summary;dur={:.3}",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let mut response = Bytes::from_owner(bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(timing) = HeaderValue::from_str(&timing) {
        headers.insert(SERVER_TIMING, timing);
    }
    response
}

/// What moves whenever git's view of the repository at `root` may have
/// moved, short of the working tree (which the caller keys separately): the
/// text of `HEAD` and the `lstat` of `HEAD`, the branch it names (loose and
/// packed), the index and `info/exclude`, and git's settings: the
/// repository's and the global configuration files and the excludes files
/// they name (`qide_codebase::git_settings_stamp`). Git replaces each of these files
/// by renaming a lock file over it, so a write brings a new inode as well
/// as a new time.
///
/// A project in no repository at all (no `.git` in the root or any
/// directory above it, which is where git looks) is stamped as such, and
/// stays so until a `.git` appears. `None` when `root` lies inside a larger
/// repository (whose state moves with files outside the root) or has a
/// `.git` file that names no git directory: the caller then asks git every
/// time.
fn git_stamp(root: &Path) -> Option<String> {
    let dot_git = root.join(".git");
    let Ok(metadata) = std::fs::symlink_metadata(&dot_git) else {
        let in_a_repository = root
            .ancestors()
            .skip(1)
            .any(|dir| std::fs::symlink_metadata(dir.join(".git")).is_ok());
        return (!in_a_repository).then(|| "no repository".to_owned());
    };
    let (git_dir, common_dir) = if metadata.is_dir() {
        (dot_git.clone(), dot_git)
    } else {
        // A linked worktree or submodule: `gitdir: <path>`, and the shared
        // refs in the directory its `commondir` names.
        let text = std::fs::read_to_string(&dot_git).ok()?;
        let git_dir = root.join(text.strip_prefix("gitdir:")?.trim());
        let common_dir = match std::fs::read_to_string(git_dir.join("commondir")) {
            Ok(common) => git_dir.join(common.trim()),
            Err(_) => git_dir.clone(),
        };
        (git_dir, common_dir)
    };
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let mut files: Vec<PathBuf> = vec![
        git_dir.join("HEAD"),
        git_dir.join("index"),
        common_dir.join("packed-refs"),
        common_dir.join("info").join("exclude"),
    ];
    if let Some(reference) = head.strip_prefix("ref:").map(str::trim) {
        if reference
            .split('/')
            .any(|part| part.is_empty() || part == "..")
        {
            return None;
        }
        files.push(common_dir.join(reference));
    }
    let mut stamp = head.trim().to_owned();
    // git's configuration and the excludes files it names decide what
    // `git status` ignores; the watcher sees none of them.
    stamp.push_str(&qide_codebase::git_settings_stamp(Some(
        qide_codebase::GitDirs {
            git_dir: &git_dir,
            common_dir: &common_dir,
        },
    )));
    for file in files {
        stamp.push('|');
        qide_codebase::stamp_file(&mut stamp, &file);
    }
    Some(stamp)
}

/// The summary answer from the cached summary and git's state.
fn codebase_answer(
    root: &Path,
    cached: &qide_codebase::CachedSummary,
    git: qide_store::WorkspaceState,
) -> api::Codebase {
    let summary = &cached.summary;
    api::Codebase {
        root: root.display().to_string(),
        files: summary
            .files
            .iter()
            .map(|f| api::CodebaseFile {
                path: f.path.clone(),
                size: f.size,
                lines: f.lines,
                language: f.language.map(str::to_owned),
                tokens: f.tokens,
            })
            .collect(),
        key_files: summary
            .key_files
            .iter()
            .map(|k| {
                (
                    k.path.clone(),
                    clean_for_model(&k.content).replace('\t', "    "),
                )
            })
            .collect(),
        source_previews: summary
            .source_previews
            .iter()
            .map(|p| api::SourcePreview {
                path: p.path.clone(),
                lines: p.lines.iter().map(|l| clean_for_model(l)).collect(),
                truncated: p.truncated,
            })
            .collect(),
        structure_summary: api::StructureSummary {
            has_backend: summary.structure.has_backend,
            has_frontend: summary.structure.has_frontend,
            has_tests: summary.structure.has_tests,
            languages: summary
                .structure
                .languages
                .iter()
                .map(|l| api::LanguageStat {
                    name: l.name.to_owned(),
                    files: l.files,
                    lines: l.lines,
                })
                .collect(),
            file_count: summary.structure.file_count,
            total_lines: summary.structure.total_lines,
            total_tokens: summary.structure.total_tokens,
        },
        git: api::GitInfo {
            head: git.commit,
            branch: git.branch,
            dirty: git.dirty,
        },
        tree_hash: Some(cached.tree_hash.clone()),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct FileQuery {
    /// The file, relative to the project root (at most 4096 bytes).
    #[param(required = true, value_type = String, max_length = 4096)]
    path: Option<String>,
    /// First line to return (default 1).
    #[param(minimum = 1)]
    start: Option<u64>,
    /// Last line to return (default: the end of the file, within the
    /// server's limits on lines and bytes per answer).
    #[param(minimum = 1)]
    end: Option<u64>,
}

/// `GET /llm/learning/file?path=&start=&end=`: lines `start..=end` of one
/// file (default: the whole file, within the read limits), numbered from 1.
#[utoipa::path(
    get,
    path = "/llm/learning/file",
    operation_id = "read_file",
    tag = "codebase",
    summary = "Lines of a project file",
    description = "Lines `start` to `end` of one file of the project, numbered from 1, text \
                   cleaned for models. Never outside the project root: no `..`, absolute \
                   paths or symlinks leading out; secret files are refused. \
                   `next_start` continues a range cut short by a limit.",
    security(("bearer" = ["read"])),
    params(FileQuery),
    responses(
        (status = 200, description = "The lines.", body = api::FileText),
        (status = 403, description = "`outside_root`: the path leads outside the project. \
            `secret_file`: a secret file (`.env*`, keys, credentials). `excluded_file`: in \
            a part of the tree QIDE never shows (VCS metadata, its own `.qide/`, build \
            output such as `target`).",
         body = api::Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such file.",
         body = api::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_field`: `path` is missing, absolute, has \
            `..` or is still percent-encoded, or `end` is before `start`. `not_a_file`: a \
            directory. `binary_file`: not text.",
         body = api::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn file(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<FileQuery>,
) -> Result<Json<api::FileText>, AppError> {
    let path = query
        .path
        .ok_or_else(|| AppError::field("path", "path is required"))?;
    check_encoding(&path)?;
    let start = query.start.unwrap_or(1);
    if start == 0 {
        return Err(AppError::field("start", "lines are numbered from 1"));
    }
    if query.end.is_some_and(|end| end < start) {
        return Err(AppError::field("end", "end must not be before start"));
    }
    let root = state.root.clone();
    let end = query.end;
    let text = tokio::task::spawn_blocking(move || {
        qide_codebase::read_file(&root, &path, Some(start), end)
    })
    .await
    .map_err(|e| AppError::Internal(format!("file task: {e}")))?
    .map_err(read_error)?;

    let last = text.lines.last().map_or(start - 1, |line| line.n);
    let range_end = end.unwrap_or(u64::MAX).min(text.total_lines);
    let next_start = (text.truncated && last < range_end).then_some(last + 1);
    Ok(Json(api::FileText {
        path: text.path,
        start,
        end: last,
        total_lines: text.total_lines,
        truncated: text.truncated,
        next_start,
        lines: text
            .lines
            .into_iter()
            .map(|line| api::NumberedLine {
                n: line.n,
                text: clean_for_model(&line.text),
            })
            .collect(),
    }))
}

/// Refuses a path that still holds percent-escapes after the query was
/// decoded once: a client that encodes twice (`%252e%252e%252f`) is either
/// confused or probing, and a literal `%2e%2e%2f` file name is not worth the
/// ambiguity. Also bounds the length.
fn check_encoding(path: &str) -> Result<(), AppError> {
    if path.len() > MAX_PATH_BYTES {
        return Err(AppError::field(
            "path",
            format!("path must be at most {MAX_PATH_BYTES} bytes"),
        ));
    }
    let bytes = path.as_bytes();
    let escaped = bytes
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit());
    if escaped {
        return Err(AppError::field(
            "path",
            "path is still percent-encoded after decoding; encode it once",
        ));
    }
    Ok(())
}

/// Each refusal of `qide_codebase` as its problem. The details name the path
/// as the client gave it, never a location on the server.
fn read_error(e: qide_codebase::Error) -> AppError {
    use qide_codebase::Error;
    let detail = e.to_string();
    match e {
        Error::InvalidPath(_) => AppError::field("path", detail),
        Error::InvalidRange { start, .. } => {
            AppError::field(if start == 0 { "start" } else { "end" }, detail)
        }
        Error::OutsideRoot(_) => AppError::Forbidden {
            code: "outside_root",
            detail,
        },
        Error::Secret(_) => AppError::Forbidden {
            code: "secret_file",
            detail,
        },
        Error::Excluded(_) => AppError::Forbidden {
            code: "excluded_file",
            detail,
        },
        Error::NotFound(_) => AppError::NotFound(detail),
        Error::NotAFile(_) => AppError::Unprocessable {
            code: "not_a_file",
            detail,
        },
        Error::Binary(_) => AppError::Unprocessable {
            code: "binary_file",
            detail,
        },
        Error::NotADirectory(_) | Error::Io { .. } => {
            AppError::Internal(format!("reading a project file: {detail}"))
        }
    }
}
