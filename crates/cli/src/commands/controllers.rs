//! `flotilla controllers`: run every reconciler against the cluster a kubeconfig names (a
//! real cluster, or a separately started `flotilla apiserver`) until Ctrl-C.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

#[derive(clap::Args)]
pub struct Args {
    /// Kubeconfig of the cluster to reconcile (default: $KUBECONFIG, ~/.kube/config).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Context of the kubeconfig.
    #[arg(long)]
    context: Option<String>,
    /// Where artifacts are stored and unpacked.
    #[arg(long, default_value = ".flotilla/controllers")]
    data: PathBuf,
    /// Provision Clusters of cloud providers we do not run (AWSCluster, …) as virtual
    /// clusters, and install schema-less CRDs for those kinds.
    #[arg(long)]
    simulate_infrastructure: bool,
    /// Install (server-side apply) the CRDs of every API we serve before starting.
    #[arg(long)]
    install_crds: bool,
    /// Reconciles in flight per controller.
    #[arg(long, default_value_t = 16)]
    concurrency: u16,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    rt.block_on(async move {
        let config =
            super::connect::kube_config(args.kubeconfig.as_deref(), args.context.as_deref())
                .await?;
        let url = config.cluster_url.clone();
        if args.install_crds {
            let client = kube::Client::try_from(config.clone()).context("building the client")?;
            let n = flotilla_controllers::install::crds(&client, args.simulate_infrastructure)
                .await
                .context("installing the CRDs")?;
            eprintln!("flotilla controllers: {n} CRDs installed or updated");
        }
        let mut opts = flotilla_controllers::Options::new(&args.data);
        opts.simulate_infrastructure = args.simulate_infrastructure;
        opts.concurrency = args.concurrency.max(1);
        eprintln!("flotilla controllers: reconciling {url} (Ctrl-C stops)");
        tokio::select! {
            r = flotilla_controllers::run(config, opts) => {
                r.context("running the controllers")?;
            }
            r = tokio::signal::ctrl_c() => {
                r.context("waiting for Ctrl-C")?;
                eprintln!("flotilla controllers: stopping");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
