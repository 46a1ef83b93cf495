//! An embedded Kubernetes-compatible API server with a crash-safe store and virtual clusters.
//!
//! kubectl and kube-rs use it unchanged: HTTPS with a generated CA ([`server`]), discovery,
//! the verbs of the built-in kinds and of CRD-defined kinds, watches, patches and server-side
//! apply ([`api`]), all stored in a crash-safe embedded store ([`store`]). One listener hosts
//! any number of virtual clusters under `/clusters/<name>/` ([`clusters`]).
//!
//! - [`store`]: redb-backed object store; one global revision (the resourceVersion), durable
//!   group commit, snapshot lists, bounded watch history with fan-out.
//! - [`machinery`]: the boundary to `flotilla-apimachinery` (registry, patches, apply,
//!   validation, tables, OpenAPI).
//! - [`api`]: routing, authentication and the handlers; [`status`]: `metav1.Status` errors.
pub mod api;
pub mod clusters;
pub mod machinery;
pub mod server;
pub mod status;
pub mod store;
pub mod time;

pub use server::{serve, Config, Handle};

/// Errors of starting the server and managing clusters.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// File or socket I/O.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The store.
    #[error("{0}")]
    Store(#[from] store::StoreError),
    /// Certificates and TLS.
    #[error("TLS: {0}")]
    Tls(String),
    /// A cluster name that is not a DNS label (or is reserved).
    #[error("invalid cluster name {0:?}")]
    InvalidName(String),
    /// The cluster exists already.
    #[error("cluster {0:?} already exists")]
    ClusterExists(String),
    /// No such cluster.
    #[error("no cluster {0:?}")]
    NoSuchCluster(String),
}
