//! The reconcilers, run together in one process against any Kubernetes API — a real
//! cluster through `--kubeconfig`, or Flotilla's embedded control plane.
//!
//! - [`gitrepository`]: Flux GitRepository (v1beta1/v1beta2/v1) → artifacts, through the
//!   shared fetch of `flotilla-source`.
//! - [`kustomization`]: Flux Kustomization → build (`flotilla-render`), decrypt
//!   (`flotilla-sops`), substitute, staged apply / prune / health (`flotilla-apply`) to the
//!   local cluster or one reached through a kubeconfig Secret; event-driven `dependsOn`.
//! - [`capi`]: Cluster API Clusters provisioned as virtual clusters of the embedded plane
//!   (our `VirtualCluster` provider, or any provider with `--simulate-infrastructure`),
//!   the `<name>-kubeconfig` Secret, MachineDeployment Nodes, ClusterResourceSets.
//! - [`simulate`]: workload status in clusters without nodes (virtual clusters, the embedded
//!   plane), so readiness checks mean something in a rehearsal.
//! - [`install`]: the CRDs of every API above, applied and Established.
//! - Shared rooms: [`resources`] (the API resources used), [`status`] (conditions and status
//!   writes), [`events`] (Kubernetes Events), `lookup` (Secrets/ConfigMaps), `targets`
//!   (clients per target cluster), `artifacts` (unpacked archives), [`error`].
//!
//! Invariants: a status is written only when it changed; a failure is a `Ready=False`
//! condition with a reason and a one-line message, never a panic, and never blocks other
//! objects; credentials and decrypted values never reach logs or events.
pub mod capi;
pub mod error;
pub mod events;
pub mod gitrepository;
pub mod install;
pub mod kustomization;
pub mod resources;
pub mod simulate;
pub mod status;

mod artifacts;
mod lookup;
mod targets;

use std::path::PathBuf;
use std::sync::Arc;

pub use error::ControllerError;

/// How the controllers run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where artifacts are stored and unpacked (`<data>/sources`, `<data>/artifacts`).
    pub data_dir: PathBuf,
    /// Provision Clusters of providers we do not run as virtual clusters.
    pub simulate_infrastructure: bool,
    /// Reconciles in flight per controller.
    pub concurrency: u16,
    /// The cluster the controllers run against has no nodes either (the embedded plane):
    /// simulate workload status there too, not only in virtual clusters.
    pub simulate_local_workloads: bool,
}

impl Options {
    /// Defaults: concurrency 16, no simulation.
    pub fn new(data_dir: impl Into<PathBuf>) -> Options {
        Options {
            data_dir: data_dir.into(),
            simulate_infrastructure: false,
            concurrency: 16,
            simulate_local_workloads: false,
        }
    }
}

/// Runs every controller against the cluster `config` names until the future is dropped
/// (or a controller fails to start).
pub async fn run(config: kube::Config, opts: Options) -> Result<(), ControllerError> {
    let client = kube::Client::try_from(config.clone())
        .map_err(|e| ControllerError::KubeConfig(format!("building the client: {e}")))?;
    let sources_dir = opts.data_dir.join("sources");
    let sources =
        tokio::task::spawn_blocking(move || flotilla_source::Sources::open(&sources_dir, 2))
            .await
            .map_err(|e| ControllerError::Other(format!("opening the source store: {e}")))??;
    let sources = Arc::new(sources);
    let git = gitrepository::run(client.clone(), sources.clone(), opts.concurrency);
    let ks = kustomization::run(
        client.clone(),
        config,
        sources,
        opts.data_dir.join("artifacts"),
        opts.concurrency,
    );
    let nodes = async {
        if opts.simulate_infrastructure || opts.simulate_local_workloads {
            simulate::run(client.clone(), opts.simulate_local_workloads).await;
        }
    };
    let capi = capi::run(
        client.clone(),
        capi::CapiOptions {
            simulate_infrastructure: opts.simulate_infrastructure,
            concurrency: opts.concurrency,
        },
    );
    let (_, _, _, capi_result) = tokio::join!(git, ks, nodes, capi);
    capi_result.map_err(|e| ControllerError::Other(e.to_string()))
}
