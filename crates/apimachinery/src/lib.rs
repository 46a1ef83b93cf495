//! The API machinery of a Kubernetes API server as pure functions over `serde_json` values.
//!
//! Nothing here does I/O: the API server crate (`flotilla-apiserver`) owns HTTP, storage and
//! watches, and calls these functions for everything whose answer kube-apiserver defines:
//!
//! - [`registry`]: the resources the server serves (built-in kinds as kube-apiserver 1.32
//!   reports them, plus the kinds CustomResourceDefinitions add) and their schemas.
//! - [`strategic`]: strategic merge patch (`application/strategic-merge-patch+json`).
//! - [`apply`]: server-side apply and `metadata.managedFields` bookkeeping.
//! - [`validate`]: field validation, structural-schema validation, defaulting and pruning.
//! - [`table`]: `meta.k8s.io/v1` Table output for `kubectl get`.
//! - [`openapi`]: OpenAPI v2 and v3 documents for `kubectl explain`, `apply` and validation.
//!
//! How a server answers with these results (kube-apiserver's status codes):
//!
//! | result | HTTP |
//! | --- | --- |
//! | [`Error::BadRequest`], a [`FieldError`] with reason [`validate::DECODE_ERROR`] (message as is) or [`validate::UNKNOWN_FIELD`] (message [`validate::strict_decoding_message`]) | 400 |
//! | [`Error::Conflict`] (message [`error::conflict_message`], one `FieldManagerConflict` cause per field) | 409 |
//! | [`Error::UnsupportedMediaType`] (strategic merge patch of a custom resource) | 415 |
//! | [`Error::Invalid`], other [`FieldError`]s (`<Kind> "<name>" is invalid: <messages>`) | 422 |
//!
//! Writes other than apply record their fields with [`apply::track_update_typed`] (or
//! [`apply::track_update`] for built-ins); an apply whose result equals the live object is a
//! no-op (no new resourceVersion). The built-in schemas come from `k8s-openapi` with its `v1_32`
//! feature, so no other crate of the workspace may enable another version feature of it.
pub mod apply;
pub mod error;
pub mod openapi;
pub mod registry;
pub mod schema;
pub mod strategic;
pub mod table;
pub mod time;
pub mod validate;

pub use error::{Error, FieldError};
pub use registry::{Registry, ResourceInfo};

/// A group, version and kind (`group` empty for the core group).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvk {
    /// API group, `""` for the core group.
    pub group: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
}

impl Gvk {
    /// Builds a GVK from its parts.
    pub fn new(group: &str, version: &str, kind: &str) -> Self {
        Gvk {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        }
    }

    /// Reads `apiVersion` and `kind` of an object.
    pub fn of(obj: &serde_json::Value) -> Option<Self> {
        let api_version = obj.get("apiVersion")?.as_str()?;
        let kind = obj.get("kind")?.as_str()?;
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        Some(Gvk::new(group, version, kind))
    }

    /// The `apiVersion` string: `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}
