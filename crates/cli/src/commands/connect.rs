//! Finding the Kubernetes API a command talks to: `--kubeconfig FILE` (and `--context`),
//! else `$KUBECONFIG` / `~/.kube/config` / in-cluster, as kubectl does.
use std::path::Path;

use anyhow::{Context, Result};
use kube::config::{KubeConfigOptions, Kubeconfig};

/// The client configuration for `kubeconfig` / `context`, or the environment's.
pub async fn kube_config(kubeconfig: Option<&Path>, context: Option<&str>) -> Result<kube::Config> {
    // kube's TLS takes the process-wide provider; ring is the one this workspace builds.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..KubeConfigOptions::default()
    };
    match (kubeconfig, context) {
        (Some(path), _) => {
            let kc = Kubeconfig::read_from(path)
                .with_context(|| format!("reading kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &options)
                .await
                .with_context(|| format!("loading kubeconfig {}", path.display()))
        }
        (None, Some(context)) => kube::Config::from_kubeconfig(&options)
            .await
            .with_context(|| format!("loading context '{context}' of the kubeconfig")),
        (None, None) => kube::Config::infer()
            .await
            .context("finding a kubeconfig ($KUBECONFIG, ~/.kube/config or in-cluster)"),
    }
}
