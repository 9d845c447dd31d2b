//! Integration tests for `qide-codebase`: every test builds a real tree in a
//! temporary directory (or copies real code into one) and checks what the
//! crate makes of it.

mod cache;
mod map;
mod pack;
mod read_file;
mod real_code;
mod summary;
mod tree_hash;
mod walk;

use std::path::Path;

use tempfile::TempDir;

/// A temporary project holding `files` (path, content); parent directories
/// are created as needed.
fn project(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("creating a temp dir");
    for (path, content) in files {
        write(dir.path(), path, content);
    }
    dir
}

/// Writes `content` at `rel` under `root`, creating parent directories.
fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("a joined path has a parent"))
        .expect("creating parent directories");
    std::fs::write(&path, content).expect("writing a test file");
}

/// The paths the walk keeps under `root`, in walk order.
fn walked(root: &Path) -> Vec<String> {
    qide_codebase::walk(root)
        .expect("walking")
        .into_iter()
        .map(|e| e.path)
        .collect()
}

/// Creates a symlink at `rel` under `root` pointing to `target`.
#[cfg(unix)]
fn symlink(root: &Path, target: impl AsRef<Path>, rel: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("a joined path has a parent"))
        .expect("creating parent directories");
    std::os::unix::fs::symlink(target, path).expect("creating a symlink");
}
