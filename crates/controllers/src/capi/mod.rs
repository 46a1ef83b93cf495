//! Cluster API on virtual clusters: the Cluster, MachineDeployment and ClusterResourceSet
//! controllers.
//!
//! - [`cluster`]: a `cluster.x-k8s.io` Cluster whose infrastructure is ours (`VirtualCluster`,
//!   or any provider kind under `simulate_infrastructure`) becomes a virtual cluster of the
//!   Flotilla API server, created over its HTTP admin API (`/admin/clusters`, see
//!   [`provider`]), and a `<name>-kubeconfig` Secret written exactly as Cluster API writes it.
//! - [`machines`]: a MachineDeployment keeps `replicas` Ready Nodes in its workload cluster.
//! - [`resourceset`]: a ClusterResourceSet applies the manifests of its ConfigMaps and Secrets
//!   to matching workload clusters (ApplyOnce or Reconcile), recorded in
//!   ClusterResourceSetBindings.
//!
//! All three watch the storage version `v1beta1` of their CRDs (served with conversion
//! `None`, so objects written at v1alpha3/v1alpha4 come back in the same shape and the typed
//! views of `flotilla_model::capi` tolerate the older fields). Writes are server-side applies
//! (status included) except finalizers and the binding list, which are read-modify-write
//! merge patches guarded by `resourceVersion`.
pub mod cluster;
pub mod machines;
pub mod provider;
pub mod resourceset;
pub(crate) mod support;
pub mod workload;

use std::sync::Arc;

use futures_util::StreamExt;

pub use support::CapiError;

/// How the Cluster API controllers run.
#[derive(Debug, Clone, Copy)]
pub struct CapiOptions {
    /// Provision Clusters whose infrastructure provider we do not run (AWSCluster,
    /// AzureCluster, …) as virtual clusters too.
    pub simulate_infrastructure: bool,
    /// Objects reconciled at once, per controller (0 means unbounded, as in kube-runtime).
    pub concurrency: u16,
}

impl Default for CapiOptions {
    fn default() -> Self {
        CapiOptions {
            simulate_infrastructure: false,
            concurrency: 4,
        }
    }
}

/// What every reconciler shares.
pub(crate) struct Ctx {
    pub client: kube::Client,
    pub opts: CapiOptions,
    pub workloads: workload::Workloads,
    /// Serialises ClusterResourceSetBinding read-modify-writes per cluster in this process.
    pub binding_locks:
        std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Runs the Cluster, MachineDeployment and ClusterResourceSet controllers until the future
/// is dropped.
pub async fn run(client: kube::Client, opts: CapiOptions) -> Result<(), CapiError> {
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        opts,
        workloads: workload::Workloads::default(),
        binding_locks: std::sync::Mutex::default(),
    });
    tracing::info!(
        simulate_infrastructure = opts.simulate_infrastructure,
        concurrency = opts.concurrency,
        "starting Cluster API controllers"
    );
    let clusters = cluster::controller(ctx.clone()).for_each(|r| async move {
        log_result("Cluster", r);
    });
    let machines = machines::controller(ctx.clone()).for_each(|r| async move {
        log_result("MachineDeployment", r);
    });
    let sets = resourceset::controller(ctx.clone()).for_each(|r| async move {
        log_result("ClusterResourceSet", r);
    });
    futures_util::future::join3(clusters, machines, sets).await;
    Ok(())
}

fn log_result<T: std::fmt::Debug>(
    kind: &str,
    r: Result<T, kube::runtime::controller::Error<CapiError, kube::runtime::watcher::Error>>,
) {
    match r {
        Ok(o) => tracing::debug!(kind, object = ?o, "reconciled"),
        // Already logged by the error policy, with the object.
        Err(kube::runtime::controller::Error::ReconcilerFailed(e, _)) => {
            tracing::debug!(kind, error = %e, "reconcile failed")
        }
        // An owned object changed after its owner went away.
        Err(e @ kube::runtime::controller::Error::ObjectNotFound(_)) => {
            tracing::debug!(kind, error = %e, "owner gone")
        }
        Err(e) => tracing::warn!(kind, error = %e, "controller error"),
    }
}
