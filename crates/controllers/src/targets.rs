//! Target clusters: the cluster the controllers run against, and the clusters a
//! Kustomization reaches through a kubeconfig Secret (`spec.kubeConfig.secretRef`), each
//! with one cached [`Applier`] (one connection pool, one discovery cache) per kubeconfig and
//! impersonated service account.
use std::collections::HashMap;
use std::sync::Mutex;

use flotilla_apply::Applier;
use sha2::{Digest, Sha256};

use crate::error::ControllerError;

/// The cache of appliers.
pub struct Targets {
    local: kube::Config,
    cache: Mutex<HashMap<String, Applier>>,
}

impl Targets {
    /// Targets whose local cluster is reached with `local`.
    pub fn new(local: kube::Config) -> Targets {
        Targets {
            local,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, key: &str) -> Option<Applier> {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    fn remember(&self, key: String, applier: Applier) -> Applier {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.entry(key).or_insert(applier).clone()
    }

    /// The applier for the local cluster, impersonating `service_account` (`ns`, `name`)
    /// when set (`spec.serviceAccountName`).
    pub fn local(&self, service_account: Option<(&str, &str)>) -> Result<Applier, ControllerError> {
        let key = match service_account {
            Some((ns, name)) => format!("local/{ns}/{name}"),
            None => "local".to_string(),
        };
        if let Some(a) = self.cached(&key) {
            return Ok(a);
        }
        let mut config = self.local.clone();
        impersonate(&mut config, service_account);
        let client = kube::Client::try_from(config)
            .map_err(|e| ControllerError::KubeConfig(format!("local cluster client: {e}")))?;
        Ok(self.remember(key, Applier::new(client)))
    }

    /// The applier for the cluster `kubeconfig` (the bytes of the Secret's key) names.
    pub async fn remote(
        &self,
        secret: &str,
        kubeconfig: &[u8],
        service_account: Option<(&str, &str)>,
    ) -> Result<Applier, ControllerError> {
        let mut h = Sha256::new();
        h.update(kubeconfig);
        if let Some((ns, name)) = service_account {
            h.update(format!("\0{ns}/{name}").as_bytes());
        }
        let key = flotilla_source::hex(&h.finalize());
        if let Some(a) = self.cached(&key) {
            return Ok(a);
        }
        let bad =
            |m: String| ControllerError::KubeConfig(format!("kubeconfig Secret '{secret}': {m}"));
        let text = std::str::from_utf8(kubeconfig).map_err(|_| bad("not UTF-8 text".into()))?;
        let mut config = config_from_kubeconfig(text).await.map_err(bad)?;
        impersonate(&mut config, service_account);
        let client = kube::Client::try_from(config).map_err(|e| bad(e.to_string()))?;
        Ok(self.remember(key, Applier::new(client)))
    }
}

/// The client configuration of a kubeconfig's current context (the one parser of kubeconfig
/// text in this crate: kubeConfig Secrets, workload clusters, the simulation).
pub(crate) async fn config_from_kubeconfig(text: &str) -> Result<kube::Config, String> {
    let kc = kube::config::Kubeconfig::from_yaml(text).map_err(|e| e.to_string())?;
    kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await
        .map_err(|e| e.to_string())
}

fn impersonate(config: &mut kube::Config, service_account: Option<(&str, &str)>) {
    if let Some((ns, name)) = service_account {
        config.auth_info.impersonate = Some(format!("system:serviceaccount:{ns}:{name}"));
    }
}
