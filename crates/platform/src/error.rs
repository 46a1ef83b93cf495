//! The crate's error type: one line each, naming the file, argument or command involved.

use std::path::PathBuf;

/// Everything that can go wrong while scaffolding or linting a platform repository.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `flotilla.toml` could not be parsed.
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    /// A command-line value that cannot be used (bad name, unknown environment, ...).
    #[error("{0}")]
    Invalid(String),
    /// Files that exist already and would be overwritten without `--force`.
    #[error("refusing to overwrite existing files (use --force): {}", list(.0))]
    WouldOverwrite(Vec<PathBuf>),
    /// The directory is not a platform repository.
    #[error("{0}: not a platform repository (no flotilla.toml with a [platform] table, and no providers/<cloud>/<version>/mgmt folder)")]
    NotPlatform(PathBuf),
    /// A `git` command failed.
    #[error("git {args}: {message}")]
    Git { args: String, message: String },
}

fn list(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    names.join(", ")
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
