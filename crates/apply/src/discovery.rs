//! Kind → resource resolution: one `/api/v1` or `/apis/<group>/<version>` request per
//! group/version, cached; a miss refreshes that group/version at most once a second (the
//! refreshes of concurrent misses are shared).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kube::core::Status;
use serde_json::Value;

/// How a kind is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// The resource's plural (`deployments`).
    pub plural: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
}

#[derive(Debug)]
struct GvEntry {
    /// When the request that filled this entry started.
    fetched: Instant,
    /// kind → resource; empty when the group/version is not served.
    kinds: HashMap<String, Resolved>,
}

/// The cache.
#[derive(Debug)]
pub(crate) struct Resolver {
    cache: Mutex<HashMap<String, GvEntry>>,
    /// One refresh lock per group/version, so a rate-limited refresh of one never delays
    /// another.
    refresh: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    min_interval: Duration,
}

impl Resolver {
    pub(crate) fn new() -> Resolver {
        Resolver {
            cache: Mutex::new(HashMap::new()),
            refresh: Mutex::new(HashMap::new()),
            min_interval: Duration::from_secs(1),
        }
    }

    fn cache(&self) -> MutexGuard<'_, HashMap<String, GvEntry>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cached(&self, api_version: &str, kind: &str) -> Option<Resolved> {
        self.cache()
            .get(api_version)
            .and_then(|e| e.kinds.get(kind).cloned())
    }

    /// Forgets what is known of every version of a group (after its CRD changed).
    pub(crate) fn forget_group(&self, group: &str) {
        self.cache().retain(|gv, _| {
            let g = gv.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
            g != group
        });
    }

    /// Resolves a kind; `Ok(None)` when the server does not serve it (after a refresh).
    pub(crate) async fn resolve(
        &self,
        client: &kube::Client,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<Resolved>, kube::Error> {
        if let Some(r) = self.cached(api_version, kind) {
            return Ok(Some(r));
        }
        self.refresh(client, api_version, kind).await
    }

    /// Refreshes a group/version (at most once a second; a refresh that started after
    /// this call is shared) and resolves the kind from the fresh answer.
    pub(crate) async fn refresh(
        &self,
        client: &kube::Client,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<Resolved>, kube::Error> {
        let missed = Instant::now();
        let lock = self
            .refresh
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(api_version.to_string())
            .or_default()
            .clone();
        let _guard = lock.lock().await;
        let last = self.cache().get(api_version).map(|e| e.fetched);
        if let Some(fetched) = last {
            if fetched >= missed {
                // Someone refreshed after our miss: their answer stands.
                return Ok(self.cached(api_version, kind));
            }
            let since = fetched.elapsed();
            if since < self.min_interval {
                tokio::time::sleep(self.min_interval - since).await;
            }
        }
        let started = Instant::now();
        let kinds = fetch(client, api_version).await?;
        tracing::debug!(api_version, kinds = kinds.len(), "discovery refreshed");
        let found = kinds.get(kind).cloned();
        self.cache().insert(
            api_version.to_string(),
            GvEntry {
                fetched: started,
                kinds,
            },
        );
        Ok(found)
    }
}

/// The kinds of one group/version; empty when it is not served (404).
async fn fetch(
    client: &kube::Client,
    api_version: &str,
) -> Result<HashMap<String, Resolved>, kube::Error> {
    let listed = if api_version.contains('/') {
        client.list_api_group_resources(api_version).await
    } else {
        client.list_core_api_resources(api_version).await
    };
    let list = match listed {
        Ok(l) => l,
        Err(kube::Error::Api(s)) if is_not_found(&s) => return Ok(HashMap::new()),
        Err(e) => return Err(e),
    };
    Ok(list
        .resources
        .into_iter()
        .filter(|r| !r.name.contains('/'))
        .map(|r| {
            (
                r.kind,
                Resolved {
                    plural: r.name,
                    namespaced: r.namespaced,
                },
            )
        })
        .collect())
}

fn is_not_found(s: &Status) -> bool {
    s.code == 404
}

/// The collection URL of a resource (`/apis/apps/v1/namespaces/ns/deployments`).
pub(crate) fn collection_url(api_version: &str, plural: &str, namespace: &str) -> String {
    let prefix = if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    };
    if namespace.is_empty() {
        format!("{prefix}/{plural}")
    } else {
        format!("{prefix}/namespaces/{namespace}/{plural}")
    }
}

/// The groups served by the CustomResourceDefinition in `crd`.
pub(crate) fn crd_group(crd: &Value) -> Option<&str> {
    crd.pointer("/spec/group").and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            collection_url("apps/v1", "deployments", "ns"),
            "/apis/apps/v1/namespaces/ns/deployments"
        );
        assert_eq!(collection_url("v1", "namespaces", ""), "/api/v1/namespaces");
        assert_eq!(
            collection_url("v1", "configmaps", "default"),
            "/api/v1/namespaces/default/configmaps"
        );
    }

    #[test]
    fn forget_group_drops_only_that_group() {
        let r = Resolver::new();
        for gv in ["example.com/v1", "example.com/v2", "apps/v1", "v1"] {
            r.cache().insert(
                gv.to_string(),
                GvEntry {
                    fetched: Instant::now(),
                    kinds: HashMap::new(),
                },
            );
        }
        r.forget_group("example.com");
        let mut left: Vec<String> = r.cache().keys().cloned().collect();
        left.sort();
        assert_eq!(left, ["apps/v1", "v1"]);
        r.forget_group("");
        assert_eq!(r.cache().len(), 1);
    }
}
