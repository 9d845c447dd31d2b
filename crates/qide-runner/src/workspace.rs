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

/// One file's changes as unified diff hunks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileDiff {
    /// Each hunk with its `@@` header line, secrets masked.
    pub hunks: Vec<String>,
    /// True when hunks (or the end of one) were left out to stay within the
    /// size cap, or the file's content is withheld (a secret file).
    pub truncated: bool,
}

/// The diff of `path` (relative to the repository, as [`changed_files`]
/// gives it) from commit `base` to commit `head`, or with no `head` to the
/// working tree (an untracked file diffs against nothing), with `context`
/// lines around each change and at most `max_bytes` of hunks. `None` when
/// git cannot tell, or the path is not a plain relative path inside the
/// project root: a diff never shows a file outside it. Files that may hold
/// secrets (`.env`, keys, credentials) get no hunks, only `truncated`.
pub async fn file_diff(
    root: &Path,
    base: &str,
    head: Option<&str>,
    path: &str,
    context: u32,
    max_bytes: usize,
) -> Option<FileDiff> {
    let valid =
        |c: &str| !c.is_empty() && c.len() <= 64 && c.bytes().all(|b| b.is_ascii_hexdigit());
    let plain_path = !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\0')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if !valid(base) || head.is_some_and(|h| !valid(h)) || !plain_path {
        return None;
    }
    if path == QIDE_DIR || path.starts_with(".qide/") {
        return None;
    }
    // The project root may be a folder of a larger repository: files of the
    // repository outside it are not the project's to show.
    let prefix = git_output(root, &["rev-parse", "--show-prefix"], &[0]).await?;
    let prefix = prefix.trim_end_matches('\n');
    let inside = path.strip_prefix(prefix)?;
    if qide_codebase::is_secret(inside) {
        return Some(FileDiff {
            hunks: Vec::new(),
            truncated: true,
        });
    }
    let unified = format!("-U{}", context.min(100));
    let spec = format!(":(top,literal){path}");
    let mut args = vec![
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-renames",
        unified.as_str(),
        base,
    ];
    if let Some(head) = head {
        args.push(head);
    }
    args.extend(["--", spec.as_str()]);
    let mut text = git_output(root, &args, &[0]).await?;
    if text.is_empty() && head.is_none() {
        // Untracked files are not in `git diff`: diffed against nothing,
        // if git does not ignore them.
        let untracked = git(
            root,
            &["ls-files", "--others", "--exclude-standard", "--", &spec],
        )
        .await
        .unwrap_or_default();
        if !untracked.is_empty() {
            let args = [
                "diff",
                "--no-color",
                "--no-ext-diff",
                "--no-index",
                unified.as_str(),
                "--",
                "/dev/null",
                inside,
            ];
            // `--no-index` exits 1 when the files differ.
            text = git_output(root, &args, &[0, 1]).await?;
        }
    }
    Some(split_hunks(&text, max_bytes))
}

/// The hunks of a unified diff, headers dropped, secrets masked, at most
/// `max_bytes` of them (a hunk that does not fit is cut at a line).
fn split_hunks(diff: &str, max_bytes: usize) -> FileDiff {
    let mut hunks: Vec<String> = Vec::new();
    for line in diff.lines() {
        if line.starts_with("@@") {
            hunks.push(String::new());
        }
        if let Some(hunk) = hunks.last_mut() {
            hunk.push_str(line);
            hunk.push('\n');
        }
    }
    let mut out = FileDiff::default();
    let mut left = max_bytes;
    for hunk in hunks {
        let hunk = crate::mask_secrets(&hunk).into_owned();
        if hunk.len() <= left {
            left -= hunk.len();
            out.hunks.push(hunk);
            continue;
        }
        out.truncated = true;
        // The part that fits, whole lines only, and only when it shows more
        // than the header.
        let mut cut = String::new();
        for line in hunk.split_inclusive('\n') {
            if cut.len() + line.len() > left {
                break;
            }
            cut.push_str(line);
        }
        if cut.lines().count() > 1 {
            out.hunks.push(cut);
        }
        break;
    }
    out
}

/// Runs git and returns its trimmed stdout when it succeeds. Git's
/// environment is pinned so the user's pager or locale cannot change output.
async fn git(root: &Path, args: &[&str]) -> Option<String> {
    let text = git_output(root, args, &[0]).await?.trim_end().to_owned();
    Some(text).filter(|t| !t.is_empty() || matches!(args[0], "status" | "diff" | "ls-files"))
}

/// Runs git and returns its stdout, untrimmed, when it exits with one of
/// `ok_codes`.
async fn git_output(root: &Path, args: &[&str], ok_codes: &[i32]) -> Option<String> {
    let env: BTreeMap<String, String> = [
        ("GIT_PAGER".to_owned(), "cat".to_owned()),
        ("LC_ALL".to_owned(), "C".to_owned()),
        ("GIT_OPTIONAL_LOCKS".to_owned(), "0".to_owned()),
    ]
    .into();
    let mut cmd = command("git", root, &env);
    cmd.args(args);
    let out = cmd.output().await.ok()?;
    if !out.status.code().is_some_and(|c| ok_codes.contains(&c)) {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{FileDiff, changed_files, file_diff, split_hunks};

    /// Runs git in `dir` with a fixed identity; panics when it fails.
    async fn git(dir: &Path, args: &[&str]) -> String {
        let env = [
            ("GIT_AUTHOR_NAME", "t"),
            ("GIT_AUTHOR_EMAIL", "t@example.com"),
            ("GIT_COMMITTER_NAME", "t"),
            ("GIT_COMMITTER_EMAIL", "t@example.com"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let out = crate::process::command("git", dir, &env)
            .args(args)
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// A repository with `src/lib.rs` of 40 lines committed; returns the
    /// commit.
    async fn repo(dir: &Path) -> String {
        git(dir, &["init", "-q"]).await;
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let lines: Vec<String> = (1..=40).map(|i| format!("line {i}")).collect();
        std::fs::write(dir.join("src/lib.rs"), lines.join("\n") + "\n").unwrap();
        std::fs::write(dir.join(".env"), "KEY=one\n").unwrap();
        git(dir, &["add", "-A"]).await;
        git(dir, &["commit", "-q", "-m", "one"]).await;
        git(dir, &["rev-parse", "HEAD"]).await
    }

    fn edit(dir: &Path, replace: &[(&str, &str)]) {
        let mut text = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        for (from, to) in replace {
            text = text.replace(from, to);
        }
        std::fs::write(dir.join("src/lib.rs"), text).unwrap();
    }

    #[tokio::test]
    async fn committed_and_uncommitted_changes_come_as_hunks() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let base = repo(dir).await;
        edit(
            dir,
            &[("line 5\n", "line five\n"), ("line 30\n", "line thirty\n")],
        );
        git(dir, &["commit", "-q", "-am", "two"]).await;
        let head = git(dir, &["rev-parse", "HEAD"]).await;

        let diff = file_diff(dir, &base, Some(&head), "src/lib.rs", 1, 10_000)
            .await
            .unwrap();
        assert_eq!(
            diff.hunks,
            [
                "@@ -4,3 +4,3 @@ line 3\n line 4\n-line 5\n+line five\n line 6\n",
                "@@ -29,3 +29,3 @@ line 28\n line 29\n-line 30\n+line thirty\n line 31\n",
            ]
        );
        assert!(!diff.truncated);

        // Uncommitted changes, and an untracked file, against the base.
        edit(dir, &[("line 20\n", "line twenty\n")]);
        std::fs::write(dir.join("src/new.rs"), "fn new() {}\n").unwrap();
        let diff = file_diff(dir, &base, None, "src/lib.rs", 0, 10_000)
            .await
            .unwrap();
        assert_eq!(diff.hunks.len(), 3, "{:?}", diff.hunks);
        assert!(diff.hunks[1].contains("+line twenty\n"));
        let new = file_diff(dir, &base, None, "src/new.rs", 3, 10_000)
            .await
            .unwrap();
        assert_eq!(new.hunks, ["@@ -0,0 +1 @@\n+fn new() {}\n"]);
        assert_eq!(
            changed_files(dir, &base, None).await.unwrap(),
            ["src/lib.rs", "src/new.rs"]
        );
    }

    #[tokio::test]
    async fn secrets_are_masked_and_secret_files_withheld() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let base = repo(dir).await;
        edit(
            dir,
            &[("line 7\n", "let key = \"AKIAIOSFODNN7EXAMPLE\";\n")],
        );
        std::fs::write(dir.join(".env"), "KEY=two\n").unwrap();
        let diff = file_diff(dir, &base, None, "src/lib.rs", 0, 10_000)
            .await
            .unwrap();
        let text = diff.hunks.concat();
        assert!(!text.contains("AKIAIOSFODNN7EXAMPLE"), "{text}");
        assert!(text.contains("+let key = "), "{text}");
        assert_eq!(
            file_diff(dir, &base, None, ".env", 3, 10_000).await,
            Some(FileDiff {
                hunks: vec![],
                truncated: true
            })
        );
    }

    #[tokio::test]
    async fn paths_outside_the_root_or_not_plain_get_no_diff() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::create_dir_all(dir.join("app")).unwrap();
        std::fs::write(dir.join("app/main.rs"), "fn main() {}\n").unwrap();
        let base = repo(dir).await;
        edit(dir, &[("line 1\n", "line one\n")]);
        std::fs::write(dir.join("app/main.rs"), "fn main() { run() }\n").unwrap();
        // The project is `app/`: the repository's src/lib.rs is not its own.
        let app = dir.join("app");
        assert_eq!(
            file_diff(&app, &base, None, "src/lib.rs", 3, 10_000).await,
            None
        );
        let inside = file_diff(&app, &base, None, "app/main.rs", 3, 10_000)
            .await
            .unwrap();
        assert!(inside.hunks[0].contains("+fn main() { run() }"));
        for bad in [
            "../etc/passwd",
            "/etc/passwd",
            "src/../src/lib.rs",
            "",
            ".qide/qide.db",
        ] {
            assert_eq!(
                file_diff(dir, &base, None, bad, 3, 10_000).await,
                None,
                "{bad}"
            );
        }
        assert_eq!(
            file_diff(dir, "not-a-commit", None, "src/lib.rs", 3, 10_000).await,
            None
        );
    }

    #[test]
    fn hunks_are_cut_to_the_cap_at_line_boundaries() {
        let diff = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n+b\n@@ -9,3 +9,3 @@\n c\n-dddddd\n+eeeeee\n";
        let all = split_hunks(diff, 1000);
        assert_eq!(
            all.hunks,
            [
                "@@ -1,2 +1,2 @@\n-a\n+b\n",
                "@@ -9,3 +9,3 @@\n c\n-dddddd\n+eeeeee\n"
            ]
        );
        assert!(!all.truncated);
        // Room for the first hunk and two lines of the second.
        let cut = split_hunks(diff, 22 + 19);
        assert_eq!(
            cut.hunks,
            ["@@ -1,2 +1,2 @@\n-a\n+b\n", "@@ -9,3 +9,3 @@\n c\n"]
        );
        assert!(cut.truncated);
        // No room for more than a header: the hunk is left out.
        let none = split_hunks(diff, 25);
        assert_eq!(none.hunks, ["@@ -1,2 +1,2 @@\n-a\n+b\n"]);
        assert!(none.truncated);
    }
}
