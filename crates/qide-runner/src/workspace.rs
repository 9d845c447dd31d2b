//! The state of the working tree a build runs on: git commit, branch, dirty
//! flag, and a content hash of the files.

use std::collections::BTreeMap;
use std::path::Path;

use qide_store::WorkspaceState;

use crate::process::command;

/// QIDE's own folder in a project: never part of the tree state.
const QIDE_DIR: &str = ".qide";

/// Reads the git state and hashes the tree of `root`. Anything that cannot
/// be read is left out (`None`), never an error: a project need not be a git
/// repository.
pub async fn workspace_state(root: &Path) -> WorkspaceState {
    let git = git_state(root).await;
    let root_owned = root.to_path_buf();
    let tree_hash = tokio::task::spawn_blocking(move || qide_codebase::tree_hash(&root_owned))
        .await
        .ok()
        .and_then(|r| {
            r.map_err(|e| tracing::warn!(%e, "hashing the working tree"))
                .ok()
        });
    WorkspaceState { tree_hash, ..git }
}

/// The git commit, branch and dirty flag of `root`, without the tree hash.
pub async fn git_state(root: &Path) -> WorkspaceState {
    let commit = git(root, &["rev-parse", "--verify", "-q", "HEAD"]).await;
    let branch = git(root, &["symbolic-ref", "-q", "--short", "HEAD"]).await;
    let dirty = match commit {
        // Without a commit there is nothing to be dirty against.
        None => None,
        Some(_) => git(root, &["status", "--porcelain", "--untracked-files=normal"])
            .await
            .map(|out| {
                out.lines().any(|line| {
                    let path = line.get(3..).unwrap_or("").trim_matches('"');
                    path != QIDE_DIR && !path.starts_with(".qide/")
                })
            }),
    };
    WorkspaceState {
        commit,
        branch,
        dirty,
        tree_hash: None,
    }
}

/// Files changed from commit `base` to commit `head` (or, with no `head`,
/// to the working tree, uncommitted and untracked files included), as
/// paths relative to the repository. `None` when git cannot tell (not a
/// repository, an unknown commit). QIDE's own `.qide/` is never listed.
pub async fn changed_files(root: &Path, base: &str, head: Option<&str>) -> Option<Vec<String>> {
    let valid =
        |c: &str| !c.is_empty() && c.len() <= 64 && c.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid(base) || head.is_some_and(|h| !valid(h)) {
        return None;
    }
    let mut files: Vec<String> = match head {
        Some(head) => git(root, &["diff", "--name-only", "-z", base, head]).await?,
        None => git(root, &["diff", "--name-only", "-z", base]).await?,
    }
    .split('\0')
    .filter(|p| !p.is_empty())
    .map(str::to_owned)
    .collect();
    if head.is_none()
        && let Some(untracked) =
            git(root, &["ls-files", "--others", "--exclude-standard", "-z"]).await
    {
        files.extend(
            untracked
                .split('\0')
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
        );
    }
    files.retain(|p| p != QIDE_DIR && !p.starts_with(".qide/"));
    files.sort();
    files.dedup();
    Some(files)
}

/// Runs git and returns its trimmed stdout when it succeeds. Git's
/// environment is pinned so the user's pager or locale cannot change output.
async fn git(root: &Path, args: &[&str]) -> Option<String> {
    let env: BTreeMap<String, String> = [
        ("GIT_PAGER".to_owned(), "cat".to_owned()),
        ("LC_ALL".to_owned(), "C".to_owned()),
        ("GIT_OPTIONAL_LOCKS".to_owned(), "0".to_owned()),
    ]
    .into();
    let mut cmd = command("git", root, &env);
    cmd.args(args);
    let out = cmd.output().await.ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).trim_end().to_owned();
    Some(text).filter(|t| !t.is_empty() || matches!(args[0], "status" | "diff" | "ls-files"))
}
