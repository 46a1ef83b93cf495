//! Strategic merge patch (kyaml merge2 semantics with Kubernetes merge keys) and JSON 6902 patches.
//!
//! - [`strategic_merge`]: kustomize v5.5.0's strategic merge (PatchTransformer /
//!   PatchStrategicMergeTransformer) on `serde_json` values; see [`smp`] for the
//!   rules and [`schema`] for the built-in merge keys; [`strategic_merge_with`] takes a
//!   [`CustomSchema`] (kustomization `openapi:`).
//! - [`apply_json6902`]: RFC 6902 op lists with `evanphx/json-patch` v4
//!   behaviour; see [`json6902`].
//!
//! Both are pure merges: restoring the target's name/namespace/kind after a
//! strategic merge (as kustomize's `ApplySmPatch` does) is the caller's job.

mod custom;
mod json6902;
mod node;
pub(crate) mod schema;
mod smp;

#[cfg(test)]
mod oracle_cases;
#[cfg(test)]
mod smp_tests;

pub use custom::CustomSchema;
pub use json6902::apply_json6902;
pub use smp::{strategic_merge, strategic_merge_with};

use serde_json::Value;

/// Result of a strategic merge.
#[derive(Debug, Clone, PartialEq)]
pub enum SmpOutcome {
    /// The merged resource.
    Merged(Value),
    /// The patch carried a top-level `$patch: delete`: the resource is removed.
    Deleted,
}

/// A patch that cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    /// Strategic merge failure at a field path.
    #[error("strategic merge patch failed at {path}: {msg}")]
    Smp { path: String, msg: String },
    /// A JSON 6902 operation failed.
    #[error("json patch operation #{index} ({op} {path}) failed: {msg}")]
    Json6902 {
        index: usize,
        op: String,
        path: String,
        msg: String,
    },
    /// The JSON 6902 document is not a list of operation objects.
    #[error("invalid json patch: {0}")]
    InvalidJsonPatch(String),
}
