//! Virtual clusters: many logical clusters behind one listener, each with its own objects,
//! namespaces, CRDs, token and kubeconfig. The registry of built-in kinds is shared; a cluster
//! holds only its name, token and (when it has CRDs) the registry of its custom kinds.
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use base64::Engine;
use flotilla_apimachinery::{Registry, ResourceInfo};
use serde_json::{json, Value};

use crate::store::{Key, Op, Prefix, Store, StoreError};
use crate::Error;

/// The name of the cluster served at `/`.
pub const DEFAULT_CLUSTER: &str = "default";

/// One logical cluster.
pub struct Cluster {
    /// Name (`/clusters/<name>/`).
    pub name: String,
    /// Its bearer token.
    pub token: String,
    /// The kinds its Established CRDs define.
    crds: RwLock<Option<Arc<Registry>>>,
    /// Serialises registry rebuilds: two concurrent CRD writes each rebuild from a store
    /// snapshot, and without it the older snapshot could be installed last, dropping a
    /// kind whose CRD the client was already told is Established.
    reload: std::sync::Mutex<()>,
}

impl Cluster {
    /// The custom kinds of this cluster.
    pub fn crds(&self) -> Option<Arc<Registry>> {
        self.crds
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    fn set_crds(&self, reg: Option<Arc<Registry>>) {
        match self.crds.write() {
            Ok(mut g) => *g = reg,
            Err(p) => *p.into_inner() = reg,
        }
    }
}

/// Everything the request handlers share.
pub struct State {
    /// The object store.
    pub store: Store,
    /// The built-in kinds (shared by every cluster).
    pub builtin: Arc<Registry>,
    clusters: RwLock<HashMap<String, Arc<Cluster>>>,
    /// The token of the administrator (any cluster, and the admin endpoint).
    pub admin_token: String,
    /// Where kubeconfigs of the clusters are written.
    pub data_dir: PathBuf,
    /// `https://host:port` of the listener.
    pub server_url: String,
    /// The CA certificate (PEM).
    pub ca_pem: String,
    /// The request body limit in bytes.
    pub max_body: usize,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

impl State {
    /// Builds the state, loading the recorded clusters and their CRDs.
    pub(crate) fn new(
        store: Store,
        admin_token: String,
        data_dir: PathBuf,
        server_url: String,
        ca_pem: String,
        max_body: usize,
    ) -> Result<State, Error> {
        let state = State {
            store,
            builtin: Arc::new(crate::machinery::builtin_registry()),
            clusters: RwLock::new(HashMap::new()),
            admin_token,
            data_dir,
            server_url,
            ca_pem,
            max_body,
        };
        for (name, rec) in state.store.clusters()? {
            let token = rec["token"].as_str().unwrap_or_default().to_string();
            let c = Arc::new(Cluster {
                name: name.clone(),
                token,
                crds: RwLock::new(None),
                reload: std::sync::Mutex::new(()),
            });
            state.write_map().insert(name, c.clone());
            state.reload_crds(&c)?;
        }
        Ok(state)
    }

    fn write_map(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<Cluster>>> {
        self.clusters.write().unwrap_or_else(|p| p.into_inner())
    }

    fn read_map(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Cluster>>> {
        self.clusters.read().unwrap_or_else(|p| p.into_inner())
    }

    /// A cluster by name.
    pub fn cluster(&self, name: &str) -> Option<Arc<Cluster>> {
        self.read_map().get(name).cloned()
    }

    /// The names of every cluster.
    pub fn cluster_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.read_map().keys().cloned().collect();
        v.sort();
        v
    }

    /// The cluster a token belongs to (not the admin token).
    pub fn cluster_of_token(&self, token: &str) -> Option<String> {
        self.read_map()
            .values()
            .find(|c| c.token == token)
            .map(|c| c.name.clone())
    }

    /// Creates a cluster: records it, creates its system namespaces, writes its kubeconfig.
    pub async fn create_cluster(&self, name: &str) -> Result<Arc<Cluster>, Error> {
        if !valid_name(name) {
            return Err(Error::InvalidName(name.to_string()));
        }
        if self.cluster(name).is_some() {
            return Err(Error::ClusterExists(name.to_string()));
        }
        let token = crate::server::tls::random_token()?;
        self.store
            .write(Op::PutCluster {
                name: name.to_string(),
                record: json!({"token": token, "created": crate::time::now()}),
            })
            .await?;
        let c = Arc::new(Cluster {
            name: name.to_string(),
            token,
            crds: RwLock::new(None),
            reload: std::sync::Mutex::new(()),
        });
        self.write_map().insert(name.to_string(), c.clone());
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let obj = crate::api::objects::new_namespace(ns);
            match self
                .store
                .write(Op::Create {
                    key: Key::new(name, "", "namespaces", "", ns),
                    object: obj,
                })
                .await
            {
                Ok(_) | Err(StoreError::AlreadyExists) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let dir = self.data_dir.join("clusters");
        std::fs::create_dir_all(&dir)?;
        crate::server::tls::write_private(
            &dir.join(format!("{name}.kubeconfig")),
            &self.kubeconfig(&c.name, &c.token),
        )?;
        Ok(c)
    }

    /// Deletes a cluster and everything in it.
    pub async fn delete_cluster(&self, name: &str) -> Result<(), Error> {
        if name == DEFAULT_CLUSTER {
            return Err(Error::InvalidName(name.to_string()));
        }
        if self.cluster(name).is_none() {
            return Err(Error::NoSuchCluster(name.to_string()));
        }
        self.store
            .write(Op::DropCluster {
                name: name.to_string(),
            })
            .await?;
        self.write_map().remove(name);
        let _ = std::fs::remove_file(
            self.data_dir
                .join("clusters")
                .join(format!("{name}.kubeconfig")),
        );
        Ok(())
    }

    /// The kubeconfig of a cluster for a token.
    pub fn kubeconfig(&self, cluster: &str, token: &str) -> String {
        let server = if cluster == DEFAULT_CLUSTER {
            self.server_url.clone()
        } else {
            format!("{}/clusters/{cluster}", self.server_url)
        };
        let ca = base64::engine::general_purpose::STANDARD.encode(self.ca_pem.as_bytes());
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: {cluster}\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: {cluster}\n  user:\n    token: {token}\ncontexts:\n- name: {cluster}\n  context:\n    cluster: {cluster}\n    user: {cluster}\ncurrent-context: {cluster}\n"
        )
    }

    /// Looks up the resource `plural` of `group/version` in a cluster (built-ins first).
    pub fn resource(
        &self,
        cluster: &Cluster,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Option<ResourceInfo> {
        if let Some(r) = self
            .builtin
            .in_group_version(group, version)
            .into_iter()
            .find(|r| r.plural == plural)
        {
            return Some(r.clone());
        }
        let crds = cluster.crds()?;
        let found = crds
            .in_group_version(group, version)
            .into_iter()
            .find(|r| r.plural == plural)
            .cloned();
        found
    }

    /// Every resource a cluster serves (built-ins then custom).
    pub fn resources(&self, cluster: &Cluster) -> Vec<ResourceInfo> {
        let mut v: Vec<ResourceInfo> = self.builtin.all().cloned().collect();
        if let Some(c) = cluster.crds() {
            v.extend(c.all().cloned());
        }
        v
    }

    /// The groups a cluster serves, in discovery order, with versions (preferred first).
    pub fn groups(&self, cluster: &Cluster) -> Vec<(String, Vec<String>)> {
        let mut g = self.builtin.groups();
        if let Some(c) = cluster.crds() {
            for (name, versions) in c.groups() {
                if !g.iter().any(|(n, _)| *n == name) {
                    g.push((name, versions));
                }
            }
        }
        g
    }

    /// Rebuilds a cluster's registry of custom kinds from its stored, Established CRDs.
    pub fn reload_crds(&self, cluster: &Cluster) -> Result<(), Error> {
        let _serial = cluster.reload.lock().unwrap_or_else(|p| p.into_inner());
        let prefix = Prefix::resource(
            &cluster.name,
            "apiextensions.k8s.io",
            "customresourcedefinitions",
        );
        let page = self.store.list(&prefix, None, None, &|_| true)?;
        if page.items.is_empty() {
            cluster.set_crds(None);
            return Ok(());
        }
        let mut reg = Registry::default();
        for crd in &page.items {
            if !established(crd) || crd.pointer("/metadata/deletionTimestamp").is_some() {
                continue;
            }
            match crate::machinery::crd_resources(crd) {
                Ok(infos) => {
                    for i in infos {
                        reg.insert(i);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "skipping an invalid CRD"),
            }
        }
        cluster.set_crds(Some(Arc::new(reg)));
        Ok(())
    }
}

fn established(crd: &Value) -> bool {
    crd.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
        })
}
