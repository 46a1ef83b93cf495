//! Workload clusters: kube clients built from the `<cluster>-kubeconfig` Secret (cached per
//! Cluster while the kubeconfig stays the same), and the API endpoint of a kubeconfig.
use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::config::Kubeconfig;

use super::support::{is_not_found, CapiError};

/// Clients of workload clusters, by `namespace/name` of their Cluster.
#[derive(Default)]
pub struct Workloads {
    cache: Mutex<HashMap<String, (String, kube::Client)>>,
}

/// A kube client for a kubeconfig (its current context).
pub async fn client_from_kubeconfig(kubeconfig: &str) -> Result<kube::Client, String> {
    let cfg = crate::targets::config_from_kubeconfig(kubeconfig)
        .await
        .map_err(|e| format!("kubeconfig: {e}"))?;
    kube::Client::try_from(cfg).map_err(|e| format!("client: {e}"))
}

/// The `server` URL of a kubeconfig's current context.
pub fn server_of(kubeconfig: &str) -> Option<String> {
    let kc = Kubeconfig::from_yaml(kubeconfig).ok()?;
    let context = kc
        .current_context
        .clone()
        .or_else(|| kc.contexts.first().map(|c| c.name.clone()))?;
    let cluster_name = kc
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
        .map(|c| c.cluster.clone())?;
    kc.clusters
        .iter()
        .find(|c| c.name == cluster_name)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.clone())
}

/// `host` and `port` of an `https://host[:port][/path]` URL (port 443 when absent).
pub fn endpoint_of(server: &str) -> Option<(String, i32)> {
    let uri: http::Uri = server.parse().ok()?;
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().map_or_else(
        || {
            if uri.scheme_str() == Some("http") {
                80
            } else {
                443
            }
        },
        i32::from,
    );
    Some((host.to_string(), port))
}

impl Workloads {
    /// The client of the workload cluster of Cluster `namespace/cluster`, from its kubeconfig
    /// Secret. `Ok(None)` while the Secret does not exist yet.
    pub async fn client(
        &self,
        management: &kube::Client,
        namespace: &str,
        cluster: &str,
    ) -> Result<Option<kube::Client>, CapiError> {
        let key = format!("{namespace}/{cluster}");
        let secret_name = flotilla_model::capi::kubeconfig_secret_name(cluster);
        let secrets: Api<Secret> = Api::namespaced(management.clone(), namespace);
        let secret = match secrets.get(&secret_name).await {
            Ok(s) => s,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => {
                return Err(CapiError::kube(format!(
                    "reading Secret {namespace}/{secret_name}"
                ))(e))
            }
        };
        let kubeconfig = secret
            .data
            .as_ref()
            .and_then(|d| d.get(flotilla_model::capi::KUBECONFIG_SECRET_KEY))
            .map(|b| String::from_utf8_lossy(&b.0).into_owned())
            .ok_or_else(|| CapiError::Workload {
                cluster: key.clone(),
                message: format!("Secret {secret_name} has no key \"value\""),
            })?;
        if let Ok(cache) = self.cache.lock() {
            if let Some((kc, client)) = cache.get(&key) {
                if *kc == kubeconfig {
                    return Ok(Some(client.clone()));
                }
            }
        }
        let client = client_from_kubeconfig(&kubeconfig)
            .await
            .map_err(|message| CapiError::Workload {
                cluster: key.clone(),
                message,
            })?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, (kubeconfig, client.clone()));
        }
        Ok(Some(client))
    }

    /// Forgets the client of a Cluster (deleted).
    pub fn forget(&self, namespace: &str, cluster: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(&format!("{namespace}/{cluster}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_of_urls() {
        assert_eq!(
            endpoint_of("https://127.0.0.1:6443/clusters/a"),
            Some(("127.0.0.1".into(), 6443))
        );
        assert_eq!(
            endpoint_of("https://api.example.com"),
            Some(("api.example.com".into(), 443))
        );
        assert_eq!(
            endpoint_of("https://[::1]:8443"),
            Some(("::1".into(), 8443))
        );
        assert_eq!(endpoint_of("not a url"), None);
    }

    #[test]
    fn server_of_current_context() {
        let kc = "apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster:\n    server: https://h:1/clusters/a\nusers:\n- name: a\n  user:\n    token: t\ncontexts:\n- name: a\n  context:\n    cluster: a\n    user: a\ncurrent-context: a\n";
        assert_eq!(server_of(kc).as_deref(), Some("https://h:1/clusters/a"));
        assert_eq!(server_of("nope: ["), None);
    }
}
