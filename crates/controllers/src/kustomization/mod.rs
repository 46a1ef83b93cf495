//! The Kustomization reconciler (kustomize-controller's job): wait for dependencies, build
//! the source artifact's `spec.path`, apply it in stages with server-side apply to the
//! local cluster or the one `spec.kubeConfig` names, prune what left the inventory, check
//! health, and write Flux's status (`Applied revision: <revision>`) and one Event per apply
//! listing what changed.
//!
//! Triggers are events, not timers: a Kustomization reconciles when it changes, when its
//! source's artifact changes, and the moment one of its dependencies changes (so a
//! dependant starts as soon as its dependency turns Ready); then again after `interval`
//! (drift correction) or `retryInterval` after a failure.
mod build;
mod reconcile;

pub use build::{owner_labels, NAMESPACE_LABEL, NAME_LABEL};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use flotilla_source::Sources;
use futures_util::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::ResourceExt;
use serde_json::Value;

use crate::artifacts::Unpacked;
use crate::events::Recorder;
use crate::targets::Targets;

/// What the reconciler shares.
pub struct Context {
    client: kube::Client,
    kustomizations: Store<DynamicObject>,
    sources_index: Arc<SourceIndex>,
    sources: Arc<Sources>,
    unpacked: Unpacked,
    targets: Targets,
    recorder: Recorder,
    last: Mutex<HashMap<(String, String), reconcile::LastRun>>,
}

/// Runs the Kustomization controller until the future is dropped.
pub async fn run(
    client: kube::Client,
    config: kube::Config,
    sources: Arc<Sources>,
    unpack_dir: std::path::PathBuf,
    concurrency: u16,
) {
    let ks_ar = crate::resources::kustomization();
    let git_ar = crate::resources::git_repository();
    let ks_api = Api::<DynamicObject>::all_with(client.clone(), &ks_ar);
    let git_api = Api::<DynamicObject>::all_with(client.clone(), &git_ar);

    // The newest artifact of every GitRepository, recorded by the watch that also triggers
    // the Kustomizations using it — so a triggered reconcile always sees the artifact that
    // woke it (a separate reflector could lag behind the trigger).
    let index = Arc::new(SourceIndex::default());

    let controller =
        Controller::new_with(ks_api.clone(), watcher::Config::default(), ks_ar.clone())
            .with_config(ControllerConfig::default().concurrency(concurrency));
    let store = controller.store();
    let ctx = Arc::new(Context {
        recorder: Recorder::new(client.clone(), "kustomize-controller"),
        client,
        kustomizations: store.clone(),
        sources_index: index.clone(),
        sources,
        unpacked: Unpacked::new(unpack_dir),
        targets: Targets::new(config),
        last: Mutex::new(HashMap::new()),
    });

    let by_source = store.clone();
    let source_ar = ks_ar.clone();
    let by_secret = store.clone();
    let secret_ar = ks_ar.clone();
    let secret_api =
        Api::<DynamicObject>::all_with(ctx.client.clone(), &crate::resources::secret());
    let by_dependency = store.clone();
    let dep_ar = ks_ar.clone();
    let controller = controller
        .watches_with(git_api, git_ar, watcher::Config::default(), move |git| {
            index.record(&git);
            users_of_source(&by_source, &source_ar, &git)
        })
        .watches_with(ks_api, ks_ar, watcher::Config::default(), move |ks| {
            dependants_of(&by_dependency, &dep_ar, &ks)
        })
        // Cluster API kubeconfig Secrets: a workload cluster appearing wakes the
        // Kustomizations that target it.
        .watches_with(
            secret_api,
            crate::resources::secret(),
            watcher::Config::default().labels(CLUSTER_NAME_LABEL),
            move |secret| users_of_kubeconfig(&by_secret, &secret_ar, &secret),
        )
        .run(reconcile::reconcile, reconcile::error_policy, ctx)
        .for_each(|r| {
            if let Err(e) = r {
                tracing::debug!(error = %e, "kustomization controller");
            }
            futures_util::future::ready(())
        });
    controller.await;
}

/// The artifact a GitRepository's status names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceArtifact {
    pub(crate) revision: String,
    pub(crate) digest: String,
}

impl SourceArtifact {
    pub(crate) fn of(git: &DynamicObject) -> Option<SourceArtifact> {
        let a = git.data.pointer("/status/artifact")?;
        Some(SourceArtifact {
            revision: a.get("revision")?.as_str()?.to_string(),
            digest: a.get("digest")?.as_str()?.to_string(),
        })
    }
}

/// The newest artifact seen per GitRepository (by resourceVersion).
#[derive(Default)]
pub(crate) struct SourceIndex {
    map: Mutex<HashMap<(String, String), (u64, SourceArtifact)>>,
}

impl SourceIndex {
    fn record(&self, git: &DynamicObject) {
        let Some(artifact) = SourceArtifact::of(git) else {
            return;
        };
        let rv = git
            .metadata
            .resource_version
            .as_deref()
            .and_then(|r| r.parse::<u64>().ok())
            .unwrap_or(0);
        let key = (git.namespace().unwrap_or_default(), git.name_any());
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&key) {
            Some((seen, _)) if *seen > rv => {}
            _ => {
                map.insert(key, (rv, artifact));
            }
        }
    }

    pub(crate) fn get(&self, ns: &str, name: &str) -> Option<SourceArtifact> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(ns.to_string(), name.to_string()))
            .map(|(_, a)| a.clone())
    }
}

fn reference(ar: &kube::core::ApiResource, ns: &str, name: &str) -> ObjectRef<DynamicObject> {
    ObjectRef::new_with(name, ar.clone()).within(ns)
}

/// The Kustomizations whose `sourceRef` is the GitRepository `git`.
fn users_of_source(
    store: &Store<DynamicObject>,
    ar: &kube::core::ApiResource,
    git: &DynamicObject,
) -> Vec<ObjectRef<DynamicObject>> {
    let git_ns = git.namespace().unwrap_or_default();
    let git_name = git.name_any();
    store
        .state()
        .iter()
        .filter(|ks| {
            let own = ks.namespace().unwrap_or_default();
            let sr = ks.data.pointer("/spec/sourceRef");
            let kind = sr.and_then(|s| s.get("kind")).and_then(Value::as_str);
            let name = sr.and_then(|s| s.get("name")).and_then(Value::as_str);
            let ns = sr
                .and_then(|s| s.get("namespace"))
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .unwrap_or(&own);
            kind == Some("GitRepository") && name == Some(git_name.as_str()) && ns == git_ns
        })
        .map(|ks| reference(ar, &ks.namespace().unwrap_or_default(), &ks.name_any()))
        .collect()
}

/// The label Cluster API puts on a cluster's kubeconfig Secret.
const CLUSTER_NAME_LABEL: &str = "cluster.x-k8s.io/cluster-name";

/// The Kustomizations of the Secret's namespace whose `kubeConfig.secretRef` names it.
fn users_of_kubeconfig(
    store: &Store<DynamicObject>,
    ar: &kube::core::ApiResource,
    secret: &DynamicObject,
) -> Vec<ObjectRef<DynamicObject>> {
    let ns = secret.namespace().unwrap_or_default();
    let name = secret.name_any();
    store
        .state()
        .iter()
        .filter(|ks| {
            ks.namespace().as_deref() == Some(ns.as_str())
                && ks
                    .data
                    .pointer("/spec/kubeConfig/secretRef/name")
                    .and_then(Value::as_str)
                    == Some(name.as_str())
        })
        .map(|ks| reference(ar, &ns, &ks.name_any()))
        .collect()
}

/// The Kustomizations that list `dep` in `dependsOn`.
fn dependants_of(
    store: &Store<DynamicObject>,
    ar: &kube::core::ApiResource,
    dep: &DynamicObject,
) -> Vec<ObjectRef<DynamicObject>> {
    let dep_ns = dep.namespace().unwrap_or_default();
    let dep_name = dep.name_any();
    store
        .state()
        .iter()
        .filter(|ks| {
            let own = ks.namespace().unwrap_or_default();
            ks.data
                .pointer("/spec/dependsOn")
                .and_then(Value::as_array)
                .is_some_and(|deps| {
                    deps.iter().any(|d| {
                        let name = d.get("name").and_then(Value::as_str);
                        let ns = d
                            .get("namespace")
                            .and_then(Value::as_str)
                            .filter(|n| !n.is_empty())
                            .unwrap_or(&own);
                        name == Some(dep_name.as_str()) && ns == dep_ns
                    })
                })
        })
        .map(|ks| reference(ar, &ks.namespace().unwrap_or_default(), &ks.name_any()))
        .collect()
}

impl Context {
    fn remember(&self, key: (String, String), run: reconcile::LastRun) {
        self.last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, run);
    }

    fn previous(&self, key: &(String, String)) -> Option<reconcile::LastRun> {
        self.last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }
}
