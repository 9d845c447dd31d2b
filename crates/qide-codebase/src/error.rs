//! The one error type of the crate.

use std::path::PathBuf;

/// What can go wrong reading a project.
///
/// The variants that carry a `String` name the path as the caller gave it
/// (relative to the root), so they can be shown back to that caller; they
/// never carry an absolute path of the server's file system.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The project root does not exist or is not a directory.
    #[error("{} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// An I/O error on a path that had to be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path being read.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The requested path is malformed: empty, absolute, Windows-style,
    /// containing `..`, a NUL byte or a backslash. The string says why.
    #[error("invalid path: {0}")]
    InvalidPath(String),
    /// The requested path resolves (through symlinks) to a place outside the
    /// project root.
    #[error("{0} is outside the project root")]
    OutsideRoot(String),
    /// The requested path does not exist under the root.
    #[error("{0} not found")]
    NotFound(String),
    /// The requested path exists but the walk does not keep it: ignored by
    /// `.gitignore`/`.ignore`/`.qideignore`, inside `.git`/`.qide`, or in a
    /// build-output directory such as `target`.
    #[error("{0} is excluded from the project view")]
    Excluded(String),
    /// The requested path is a directory or a special file, not a file.
    #[error("{0} is not a regular file")]
    NotAFile(String),
    /// The requested file is binary (a NUL byte in its first 8 KiB).
    #[error("{0} is a binary file")]
    Binary(String),
    /// The requested file looks like it holds secrets (`.env*`, keys,
    /// credentials) and is never shown.
    #[error("{0} may hold secrets and is never shown")]
    Secret(String),
    /// The requested line range is empty or starts at line 0 (lines count
    /// from 1).
    #[error("invalid line range {start}..={end}")]
    InvalidRange {
        /// First line asked for.
        start: u64,
        /// Last line asked for.
        end: u64,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
