//! `flotilla install`: print the CustomResourceDefinitions of every API Flotilla serves.

use anyhow::{Context, Result};
use flotilla_model::crds::{self, InstallOptions};
use std::io::Write;
use std::process::ExitCode;

pub const LONG_ABOUT: &str = "\
Print the CustomResourceDefinitions of every API Flotilla serves and reconciles as one YAML \
stream, ready for `flotilla install | kubectl apply -f -`: Flux GitRepository (v1beta1, \
v1beta2, v1) and Kustomization (v1beta1, v1beta2, v1); Cluster API Cluster, MachineDeployment, \
MachineSet, Machine, MachineHealthCheck, ClusterResourceSet and ClusterResourceSetBinding \
(v1alpha3 … v1beta1); Flotilla's infrastructure provider (VirtualCluster, \
VirtualClusterTemplate, VirtualMachine, VirtualMachineTemplate); Hive ClusterDeployment, \
ClusterImageSet, MachinePool, SyncSet, SelectorSyncSet and ClusterSync.

With --simulate-infrastructure, schema-less CRDs are added for the provider kinds Flotilla does \
not run (AWSCluster, AzureCluster, GCPCluster, KubeadmControlPlane, KubeadmConfigTemplate, \
machine templates, …), so that a repository written for a cloud applies unchanged.";

#[derive(clap::Args)]
pub struct Args {
    /// Also print schema-less CRDs for the cloud, kubeadm and other provider kinds Flotilla
    /// only simulates (rehearsing a real cloud repository on virtual clusters).
    #[arg(long)]
    pub simulate_infrastructure: bool,
    /// Only the CRDs of this API group (e.g. `cluster.x-k8s.io`), or of a family: `flux`,
    /// `cluster-api`, `hive`, `flotilla`.
    #[arg(long, value_name = "GROUP")]
    pub only: Option<String>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let opts = InstallOptions {
        simulate_infrastructure: args.simulate_infrastructure,
        only: args.only,
    };
    let text = crds::install_stream(&opts).context("building the CRDs")?;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A closed pipe (`flotilla install | head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
    }
}
