//! The project as a model sees it: `GET /llm/learning/codebase` (the
//! summary, remembered by tree hash) and `GET /llm/learning/file` (one file,
//! line-numbered and confined to the project root).
//!
//! The reading and every confinement check are `qide_codebase::read_file`'s;
//! this module adds what only the HTTP boundary knows about (a path that is
//! still percent-encoded after the query was decoded) and maps each refusal
//! to its problem.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use qide_api as api;
use serde::Deserialize;

use crate::convert::clean_for_model;
use crate::extract::ApiQuery;
use crate::{AppError, AppState};

/// Longest path accepted, in bytes (Linux's `PATH_MAX`).
const MAX_PATH_BYTES: usize = 4096;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodebaseQuery {
    mode: Option<String>,
}

/// `GET /llm/learning/codebase?mode=summary`: the project's files, key
/// files, previews and shape. The summary is recomputed only when the tree
/// hash moved since the last call.
pub(crate) async fn codebase(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<CodebaseQuery>,
) -> Result<Response, AppError> {
    match query.mode.as_deref() {
        None | Some("" | "summary") => Ok(Json(summary(&state).await?).into_response()),
        Some(other) => Err(AppError::field(
            "mode",
            format!("mode must be summary, not {other:?}"),
        )),
    }
}

/// The summary of the project, from the cache when the tree has not moved.
async fn summary(state: &AppState) -> Result<api::Codebase, AppError> {
    let root = state.root.clone();
    let cache = state.codebase.clone();
    let walk_root = root.clone();
    let cached = tokio::task::spawn_blocking(move || cache.summary(&walk_root))
        .await
        .map_err(|e| AppError::Internal(format!("codebase task: {e}")))?
        .map_err(|e| AppError::Internal(format!("reading the project: {e}")))?;
    let git = qide_runner::git_state(&root).await;
    let summary = &cached.summary;
    Ok(api::Codebase {
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
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileQuery {
    path: Option<String>,
    start: Option<u64>,
    end: Option<u64>,
}

/// `GET /llm/learning/file?path=&start=&end=`: lines `start..=end` of one
/// file (default: the whole file, within the read limits), numbered from 1.
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
