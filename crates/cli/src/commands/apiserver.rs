//! `flotilla apiserver`: the embedded Kubernetes-compatible API server (`flotilla-apiserver`).
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

#[derive(clap::Args)]
pub struct Args {
    /// Directory of the store, certificates and tokens (created if missing).
    #[arg(long)]
    data: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// Where to write the admin kubeconfig (default DATA/admin.kubeconfig).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
}

/// Serves until Ctrl-C.
pub fn run(args: Args) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    rt.block_on(async move {
        let mut config = flotilla_apiserver::Config::new(&args.data, args.listen);
        config.kubeconfig = args.kubeconfig;
        let handle = flotilla_apiserver::serve(config)
            .await
            .with_context(|| format!("serving {} from {}", args.listen, args.data.display()))?;
        eprintln!(
            "flotilla apiserver: serving {} (kubeconfig {})",
            handle.url(),
            handle.kubeconfig.display()
        );
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        handle.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}
