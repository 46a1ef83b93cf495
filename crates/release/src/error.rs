//! The crate's error type: one line each, naming the commit, file or field involved.

use std::path::PathBuf;

/// Everything that can go wrong in release tooling.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A git operation failed (`context` says which).
    #[error("git: {context}: {message}")]
    Git { context: String, message: String },
    /// A revision did not resolve.
    #[error("unknown revision `{0}`")]
    UnknownRevision(String),
    /// A range argument was not `A..B`.
    #[error("bad range `{0}`: expected FROM..TO")]
    BadRange(String),
    /// `flotilla.toml` could not be read or parsed.
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `release create` on a tree with uncommitted changes.
    #[error("the working tree has uncommitted changes; commit or stash them first")]
    DirtyTree,
    /// A tag that must not exist does.
    #[error("tag `{0}` already exists")]
    TagExists(String),
    /// A tag that must exist does not.
    #[error("unknown tag `{0}`")]
    UnknownTag(String),
    /// A version that is not semver.
    #[error("`{0}` is not a semantic version (expected e.g. 1.2.3 or v1.2.3)")]
    NotSemver(String),
    /// A new version that does not move forward.
    #[error("version {new} is not greater than the last release {last}")]
    NotGreater { new: String, last: String },
    /// Nothing to release.
    #[error("no commits in {0}: nothing to release")]
    EmptyRange(String),
    /// A release with no feat/fix/breaking change and `--bump auto`.
    #[error("no feat, fix or breaking change in {0}: give the version explicitly")]
    NothingToBump(String),
    /// Promotion to an older version without `--allow-downgrade`.
    #[error("{file}: {field} pins {current}, newer than {new}; pass --allow-downgrade to go back")]
    Downgrade {
        file: String,
        field: String,
        current: String,
        new: String,
    },
    /// Promotion found nothing to edit.
    #[error("no GitRepository pins the {env} release{provider} (looked for {selector})")]
    NoPromotionTarget {
        env: String,
        provider: String,
        selector: String,
    },
    /// Every target already pins the version.
    #[error("every GitRepository for {env} already pins {version}")]
    AlreadyPromoted { env: String, version: String },
    /// A branch that must not exist does.
    #[error("branch `{0}` already exists")]
    BranchExists(String),
    /// A YAML file could not be parsed or edited.
    #[error("{file}:{line}: {message}")]
    Yaml {
        file: String,
        line: usize,
        message: String,
    },
    /// Rendering a Kustomization failed.
    #[error("{rev}: cluster {cluster}: Kustomization {kustomization} ({path}): {message}")]
    Render {
        rev: String,
        cluster: String,
        kustomization: String,
        path: String,
        message: String,
    },
    /// An external `git` command failed.
    #[error("`git {args}` failed: {message}")]
    GitCommand { args: String, message: String },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Wraps any displayable git error with a context.
pub(crate) fn git<E: std::fmt::Display>(context: impl Into<String>) -> impl FnOnce(E) -> Error {
    let context = context.into();
    move |e| Error::Git {
        context,
        message: e.to_string(),
    }
}

/// Wraps an I/O error with the path it concerns.
pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}
