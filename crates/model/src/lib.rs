//! The API types Flotilla serves and reconciles — Flux, Cluster API, Hive, our own — with
//! version conversion and CRD manifests.
//!
//! - [`crds`]: the CustomResourceDefinitions of every kind we serve (YAML data files under
//!   `crates/model/crds/`, parsed with `flotilla-yaml`), the schema-less CRDs of provider
//!   kinds we only simulate (`--simulate-infrastructure`), and the install stream
//!   `flotilla install` prints.
//! - Typed spec and status fields the controllers read and write: [`flux`] (GitRepository,
//!   Kustomization), [`capi`] (Cluster, MachineDeployment, ClusterResourceSet), [`infra`]
//!   (our infrastructure provider's VirtualCluster), [`hive`] (ClusterDeployment, SyncSet,
//!   SelectorSyncSet, ClusterSync). Unknown fields are tolerated everywhere, so objects of
//!   any served version deserialize.
//! - [`meta`]: what the kinds share — [`Object`], references, label selectors, [`Condition`].
//! - [`duration`]: Go durations (`1m30s`) as Kubernetes and Flux write them.
//! - [`convert`]: Flux v1beta1/v1beta2 ⇄ v1 over `serde_json::Value`s (revision formats,
//!   removed fields, legacy patches), since the CRDs are served with conversion `None`.
//!
//! Nothing here does I/O; timestamps are RFC 3339 strings as they appear on the wire.
pub mod capi;
pub mod convert;
pub mod crds;
pub mod duration;
pub mod error;
pub mod flux;
pub mod hive;
pub mod infra;
pub mod meta;

pub use duration::GoDuration;
pub use error::Error;
pub use meta::{Condition, LabelSelector, Object, ObjectMeta};
