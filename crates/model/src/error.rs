//! Errors of this crate.

/// Errors of parsing CRD files, durations and converting objects.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An embedded CRD file is not valid YAML.
    #[error("{file}: {message}")]
    CrdFile {
        /// The file name under `crates/model/crds/`.
        file: String,
        /// The parser's message.
        message: String,
    },
    /// A Go duration string that does not parse.
    #[error("invalid duration {input:?}: {reason}")]
    Duration {
        /// The input.
        input: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// An object that cannot be converted between versions.
    #[error("cannot convert {kind} {from} to {to}: {reason}")]
    Convert {
        /// The object's kind.
        kind: String,
        /// Its apiVersion.
        from: String,
        /// The requested apiVersion.
        to: String,
        /// Why.
        reason: String,
    },
    /// `--only` named a group no CRD has.
    #[error("no CRD in group {group:?}; groups: {known}")]
    UnknownGroup {
        /// The group asked for.
        group: String,
        /// The groups there are, comma-separated.
        known: String,
    },
}
