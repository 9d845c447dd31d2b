//! A stamp of the git settings that live outside the watched tree: git's
//! configuration files and the excludes files they name.
//!
//! What the walk ignores, and what `git status` calls dirty, depends on more
//! than the project's own files: the global excludes file
//! (`core.excludesFile`, by default `$XDG_CONFIG_HOME/git/ignore`), and the
//! configuration that names it (`~/.gitconfig`, `$XDG_CONFIG_HOME/git/config`,
//! `/etc/gitconfig`, the repository's `config` and `config.worktree`). The
//! file watcher sees none of these: the global ones are elsewhere on disk, and
//! the repository's are under `.git/`, whose events it skips. A cache that
//! answers from memory while the watcher is quiet must therefore also check
//! that these files have not moved: [`git_settings_stamp`] is cheap (a few
//! `stat`s and reads of small files) and changes whenever one of them does.

use std::fmt::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A repository's git directories: `git_dir` holds `HEAD` and
/// `config.worktree`, `common_dir` holds `config` (they differ in a linked
/// worktree).
#[derive(Debug, Clone, Copy)]
pub struct GitDirs<'a> {
    /// The worktree's own git directory.
    pub git_dir: &'a Path,
    /// The directory shared by all worktrees of the repository.
    pub common_dir: &'a Path,
}

/// Where git and the `ignore` crate look for settings, from the environment.
#[derive(Debug, Clone, Default)]
struct GitEnv {
    /// `$HOME`.
    home: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME`, when set and not empty.
    xdg_config_home: Option<PathBuf>,
    /// `$GIT_CONFIG_GLOBAL`: git reads it instead of the global files.
    config_global: Option<PathBuf>,
    /// `$GIT_CONFIG_SYSTEM`: git reads it instead of `/etc/gitconfig`.
    config_system: Option<PathBuf>,
}

impl GitEnv {
    fn from_process() -> GitEnv {
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        GitEnv {
            home: path("HOME"),
            xdg_config_home: path("XDG_CONFIG_HOME"),
            config_global: path("GIT_CONFIG_GLOBAL"),
            config_system: path("GIT_CONFIG_SYSTEM"),
        }
    }

    /// `$XDG_CONFIG_HOME`, or `~/.config`.
    fn config_home(&self) -> Option<PathBuf> {
        self.xdg_config_home
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".config")))
    }
}

/// A stamp of every git setting outside the watched tree that can change
/// what the walk ignores or what git reports for `repository` (or, with
/// `None`, only the global settings the walk reads): each configuration file
/// git or the walk reads, the files they include, and every excludes file
/// they name plus the default one, each by its `stat` (inode, size, modified
/// and changed times; a missing file stamps as missing).
///
/// Two stamps are equal only if none of these files changed in between, as
/// far as their metadata tells (editors and git replace such files, which
/// moves the inode as well as the times).
pub fn git_settings_stamp(repository: Option<GitDirs<'_>>) -> String {
    stamp_with(&GitEnv::from_process(), repository)
}

fn stamp_with(env: &GitEnv, repository: Option<GitDirs<'_>>) -> String {
    let mut configs: Vec<PathBuf> = Vec::new();
    configs.push(
        env.config_system
            .clone()
            .unwrap_or_else(|| PathBuf::from("/etc/gitconfig")),
    );
    // The walk (the `ignore` crate) reads the global files even when git is
    // told to read another: both are stamped.
    if let Some(config_home) = env.config_home() {
        configs.push(config_home.join("git").join("config"));
    }
    if let Some(home) = &env.home {
        configs.push(home.join(".gitconfig"));
    }
    if let Some(global) = &env.config_global {
        configs.push(global.clone());
    }
    if let Some(dirs) = repository {
        configs.push(dirs.common_dir.join("config"));
        configs.push(dirs.git_dir.join("config.worktree"));
    }

    let mut stamped: Vec<PathBuf> = Vec::new();
    let mut excludes: Vec<PathBuf> = Vec::new();
    // One level of includes: an included file's own includes are rare, and
    // a change to them still shows in the next change of the file itself.
    let mut pending = configs;
    for depth in 0..2 {
        let mut included = Vec::new();
        for config in pending {
            let settings = read_settings(&config, env);
            excludes.extend(settings.excludes_files);
            if depth == 0 {
                included.extend(settings.includes);
            }
            stamped.push(config);
        }
        pending = included;
    }
    if let Some(config_home) = env.config_home() {
        excludes.push(config_home.join("git").join("ignore"));
    }
    stamped.extend(excludes);

    let mut stamp = String::new();
    for path in &stamped {
        let _ = write!(stamp, "{}\0", path.display());
        stamp_file(&mut stamp, path);
        stamp.push('\n');
    }
    stamp
}

/// Appends the `stat` of `path` (and, for a symlink, of its target) to
/// `stamp`, or `-` for a file that is not there: what moves when the file
/// is written, replaced or touched.
pub fn stamp_file(stamp: &mut String, path: &Path) {
    let mut write_one = |m: &std::fs::Metadata| {
        let _ = write!(
            stamp,
            "{}:{}:{}.{}:{}.{}|",
            m.ino(),
            m.len(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec()
        );
    };
    match std::fs::symlink_metadata(path) {
        Ok(link) => {
            write_one(&link);
            if link.file_type().is_symlink()
                && let Ok(target) = std::fs::metadata(path)
            {
                write_one(&target);
            }
        }
        Err(_) => stamp.push('-'),
    }
}

/// What one configuration file says that matters here.
#[derive(Debug, Default, PartialEq)]
struct Settings {
    /// `core.excludesFile` values, `~/` expanded, relative ones taken from
    /// the file's directory.
    excludes_files: Vec<PathBuf>,
    /// `include.path` and `includeIf.*.path` values.
    includes: Vec<PathBuf>,
}

/// The settings of the configuration file at `path`; empty when it cannot
/// be read. Reads the file as git does only as far as needed: section
/// headers, and `key = value` lines of `[core]` and `[include…]` sections.
fn read_settings(path: &Path, env: &GitEnv) -> Settings {
    // Configuration files are small; a huge one is not worth reading here.
    const MAX_CONFIG_BYTES: u64 = 1 << 20;
    let mut settings = Settings::default();
    let Ok(metadata) = std::fs::metadata(path) else {
        return settings;
    };
    if !metadata.is_file() || metadata.len() > MAX_CONFIG_BYTES {
        return settings;
    }
    let Ok(bytes) = std::fs::read(path) else {
        return settings;
    };
    let text = String::from_utf8_lossy(&bytes);
    let base = path.parent().unwrap_or(Path::new("/"));
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            let name = header.split([']', ' ', '"', '.']).next().unwrap_or("");
            section = name.to_ascii_lowercase();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        let target = match (section.as_str(), key.as_str()) {
            ("core", "excludesfile") => &mut settings.excludes_files,
            ("include" | "includeif", "path") => &mut settings.includes,
            _ => continue,
        };
        if let Some(resolved) = resolve(value, base, env) {
            target.push(resolved);
        }
    }
    settings
}

/// A path from a configuration file: `~/` is the home directory, a relative
/// path is taken from the configuration file's directory.
fn resolve(value: &str, base: &Path, env: &GitEnv) -> Option<PathBuf> {
    if value.is_empty() {
        return None;
    }
    if let Some(rest) = value.strip_prefix("~/") {
        return env.home.as_ref().map(|home| home.join(rest));
    }
    let path = Path::new(value);
    Some(if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_in(dir: &Path) -> GitEnv {
        GitEnv {
            home: Some(dir.join("home")),
            xdg_config_home: Some(dir.join("xdg")),
            config_global: None,
            config_system: Some(dir.join("system-gitconfig")),
        }
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_change_to_any_settings_file_alone_moves_the_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let env = env_in(root);
        let git_dir = root.join("project/.git");
        std::fs::create_dir_all(&git_dir).unwrap();
        write(
            &root.join("home/.gitconfig"),
            "[user]\n\tname = t\n[core]\n\texcludesFile = ~/my-ignores\n",
        );
        write(&root.join("home/my-ignores"), "*.log\n");
        write(
            &git_dir.join("config"),
            "[core]\n\tbare = false\n[include]\n\tpath = ../../shared.inc\n",
        );
        write(
            &root.join("shared.inc"),
            "[core]\n\texcludesfile = \"repo-ignores\"\n",
        );
        write(&root.join("repo-ignores"), "*.tmp\n");
        let dirs = Some(GitDirs {
            git_dir: &git_dir,
            common_dir: &git_dir,
        });

        let mut last = stamp_with(&env, dirs);
        assert_eq!(last, stamp_with(&env, dirs), "nothing moved");
        // Each file on its own: the named excludes files (one through an
        // include), the default global excludes file appearing, the
        // configuration files themselves.
        for (file, text) in [
            ("home/my-ignores", "*.log\n*.out\n"),
            ("repo-ignores", "*.tmp\n*.bak\n"),
            ("xdg/git/ignore", "notes.txt\n"),
            ("xdg/git/config", "[core]\n\tautocrlf = false\n"),
            ("system-gitconfig", "[core]\n\tfsmonitor = false\n"),
            ("project/.git/config", "[core]\n\tbare = false\n"),
            ("project/.git/config.worktree", "[core]\n"),
        ] {
            write(&root.join(file), text);
            let next = stamp_with(&env, dirs);
            assert_ne!(next, last, "a change to {file} alone");
            last = next;
        }
        // Without the repository, its files are not stamped.
        let global = stamp_with(&env, None);
        write(&git_dir.join("config"), "[core]\n\tbare = true\n");
        assert_eq!(stamp_with(&env, None), global);
    }

    #[test]
    fn settings_are_read_from_core_and_include_sections_only() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_in(dir.path());
        let config = dir.path().join("cfg/config");
        write(
            &config,
            "[alias]\n\texcludesfile = nope\n[Core]\n\tExcludesFile = /abs/ignore\n\
             [includeIf \"gitdir:~/work/\"]\n\tpath = work.inc\n[core \"x\"]\n",
        );
        assert_eq!(
            read_settings(&config, &env),
            Settings {
                excludes_files: vec![PathBuf::from("/abs/ignore")],
                includes: vec![dir.path().join("cfg/work.inc")],
            }
        );
        assert_eq!(
            read_settings(&dir.path().join("missing"), &env),
            Settings::default()
        );
    }
}
