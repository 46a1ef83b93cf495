//! The ClusterResourceSet controller (`addons.cluster.x-k8s.io`): for every Cluster of the
//! set's namespace matched by `clusterSelector` (an empty selector matches nothing, as
//! upstream) and `Provisioned`, the manifests held in the listed ConfigMaps and Secrets
//! (Secrets of type `addons.cluster.x-k8s.io/resource-set`; each data value may hold several
//! YAML documents) are server-side applied to the workload cluster with the field manager
//! `cluster-resource-set`. What was applied is recorded per cluster in the
//! ClusterResourceSetBinding named after the Cluster (`spec.bindings[]`, with `sha256:` hashes
//! of the data): `ApplyOnce` never applies a resource twice, `Reconcile` re-applies when its
//! hash changes. Cluster, ConfigMap and Secret changes re-trigger the sets naming them.
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::ResourceExt;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use flotilla_model::capi::{
    Cluster, ClusterPhase, ClusterResourceSet, ResourceBinding, ResourceSetBinding,
    ResourceSetStrategy, CLUSTER_NAME_LABEL,
};
use flotilla_model::meta::{set_condition, Condition, FALSE, TRUE};

use super::support::{
    binding_resource, cluster_resource, conditions_of, dyn_api, is_not_found, merge_status, now,
    resource_set_resource, resync, retry_action, set_finalizer, typed, CapiError,
};
use super::Ctx;

/// The field manager of the applies to workload clusters.
pub const FIELD_MANAGER: &str = "cluster-resource-set";
/// The Secret type a ClusterResourceSet reads.
pub const RESOURCE_SET_SECRET_TYPE: &str = "addons.cluster.x-k8s.io/resource-set";
/// The finalizer of ClusterResourceSets (their binding entries are removed on deletion).
pub const RESOURCE_SET_FINALIZER: &str = "addons.cluster.x-k8s.io";
/// The condition type of a ClusterResourceSet.
pub const RESOURCES_APPLIED: &str = "ResourcesApplied";

type Item =
    Result<(ObjectRef<DynamicObject>, Action), controller::Error<CapiError, watcher::Error>>;

/// The sets of `store` in namespace `ns` accepted by `keep`, as references.
fn sets_in(
    store: &Store<DynamicObject>,
    ar: &ApiResource,
    ns: Option<String>,
    keep: impl Fn(&DynamicObject) -> bool,
) -> Vec<ObjectRef<DynamicObject>> {
    store
        .state()
        .into_iter()
        .filter(|s| s.namespace() == ns && keep(s))
        .map(|s| {
            ObjectRef::new_with(&s.name_any(), ar.clone()).within(ns.as_deref().unwrap_or_default())
        })
        .collect()
}

fn names_resource(set: &DynamicObject, kind: &str, name: &str) -> bool {
    set.data
        .pointer("/spec/resources")
        .and_then(Value::as_array)
        .is_some_and(|rs| {
            rs.iter()
                .any(|r| r["kind"].as_str() == Some(kind) && r["name"].as_str() == Some(name))
        })
}

/// The ClusterResourceSet controller's stream.
pub(crate) fn controller(ctx: Arc<Ctx>) -> impl Stream<Item = Item> {
    let ar = resource_set_resource();
    let api = Api::<DynamicObject>::all_with(ctx.client.clone(), &ar);
    let concurrency = ctx.opts.concurrency;
    let c = Controller::new_with(api, watcher::Config::default(), ar.clone())
        .with_config(controller::Config::default().concurrency(concurrency));
    let (s1, s2, s3) = (c.store(), c.store(), c.store());
    let (a1, a2, a3) = (ar.clone(), ar.clone(), ar);
    let cluster_ar = cluster_resource();
    c.watches_with(
        Api::<DynamicObject>::all_with(ctx.client.clone(), &cluster_ar),
        cluster_ar,
        watcher::Config::default(),
        move |cluster| sets_in(&s1, &a1, cluster.namespace(), |_| true),
    )
    .watches(
        Api::<ConfigMap>::all(ctx.client.clone()),
        watcher::Config::default(),
        move |cm| {
            let name = cm.name_any();
            sets_in(&s2, &a2, cm.namespace(), |s| {
                names_resource(s, "ConfigMap", &name)
            })
        },
    )
    .watches(
        Api::<Secret>::all(ctx.client.clone()),
        watcher::Config::default(),
        move |secret| {
            let name = secret.name_any();
            sets_in(&s3, &a3, secret.namespace(), |s| {
                names_resource(s, "Secret", &name)
            })
        },
    )
    .run(reconcile, error_policy, ctx)
}

fn error_policy(obj: Arc<DynamicObject>, error: &CapiError, _ctx: Arc<Ctx>) -> Action {
    tracing::warn!(resource_set = %obj.name_any(), namespace = ?obj.namespace(), %error, "ClusterResourceSet reconcile failed");
    retry_action(error)
}

/// Why a resource could not be read or applied: a condition reason and a message.
type Failure = (&'static str, String);

/// A resource of the set (kind, name) and its manifests or why they could not be read.
type Fetched = (String, String, Result<Manifests, Failure>);

/// A resource's manifests, read.
struct Manifests {
    hash: String,
    objects: Vec<Value>,
}

/// `sha256:<hex>` of the data values in key order (Cluster API's `computeHash`).
pub fn hash_data(data: &BTreeMap<String, Vec<u8>>) -> String {
    let mut h = Sha256::new();
    for v in data.values() {
        h.update(v);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The objects in `data` (values in key order, each a YAML stream; empty documents dropped).
pub fn parse_manifests(data: &BTreeMap<String, Vec<u8>>) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for (key, bytes) in data {
        let text = String::from_utf8_lossy(bytes);
        let docs = flotilla_yaml::parse_documents(&text).map_err(|e| format!("key {key}: {e}"))?;
        for doc in docs {
            match doc.value {
                Value::Null => {}
                v @ Value::Object(_) => out.push(v),
                _ => return Err(format!("key {key}, line {}: not an object", doc.line)),
            }
        }
    }
    // Namespaces and CRDs first, as the apply stages do.
    out.sort_by_key(|o| match o["kind"].as_str() {
        Some("Namespace") => 0,
        Some("CustomResourceDefinition") => 1,
        _ => 2,
    });
    Ok(out)
}

/// Reads one ConfigMap or Secret of the set; `Err` is a (reason, message) for the condition.
async fn read_resource(
    client: &kube::Client,
    ns: &str,
    kind: &str,
    name: &str,
) -> Result<Manifests, Failure> {
    let data: BTreeMap<String, Vec<u8>> = match kind {
        "ConfigMap" => {
            let cm = Api::<ConfigMap>::namespaced(client.clone(), ns)
                .get(name)
                .await
                .map_err(|e| missing(kind, ns, name, &e))?;
            cm.data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes()))
                .collect()
        }
        "Secret" => {
            let s = Api::<Secret>::namespaced(client.clone(), ns)
                .get(name)
                .await
                .map_err(|e| missing(kind, ns, name, &e))?;
            if s.type_.as_deref() != Some(RESOURCE_SET_SECRET_TYPE) {
                return Err((
                    "WrongSecretType",
                    format!("Secret {ns}/{name} is not of type {RESOURCE_SET_SECRET_TYPE}"),
                ));
            }
            s.data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect()
        }
        other => {
            return Err((
                "RetrievingResourceFailed",
                format!("unsupported resource kind {other} ({name})"),
            ))
        }
    };
    let objects = parse_manifests(&data).map_err(|e| {
        (
            "RetrievingResourceFailed",
            format!("{kind} {ns}/{name}: {e}"),
        )
    })?;
    Ok(Manifests {
        hash: hash_data(&data),
        objects,
    })
}

fn missing(kind: &str, ns: &str, name: &str, e: &kube::Error) -> Failure {
    if is_not_found(e) {
        (
            "RetrievingResourceFailed",
            format!("{kind} {ns}/{name} not found"),
        )
    } else {
        (
            "RetrievingResourceFailed",
            format!("reading {kind} {ns}/{name}: {e}"),
        )
    }
}

/// Applies objects to a workload cluster with server-side apply.
async fn apply_objects(client: &kube::Client, objects: &[Value]) -> Result<(), String> {
    let mut kinds: HashMap<(String, String), (ApiResource, ApiCapabilities)> = HashMap::new();
    let params = PatchParams::apply(FIELD_MANAGER).force();
    for obj in objects {
        let api_version = obj["apiVersion"].as_str().unwrap_or_default();
        let kind = obj["kind"].as_str().unwrap_or_default();
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if api_version.is_empty() || kind.is_empty() || name.is_empty() {
            return Err(format!(
                "an object lacks apiVersion, kind or metadata.name: {obj}"
            ));
        }
        let key = (api_version.to_string(), kind.to_string());
        let (ar, caps) = match kinds.get(&key) {
            Some(found) => found.clone(),
            None => {
                let gvk = GroupVersionKind::gvk(
                    flotilla_model::meta::group_of(api_version),
                    flotilla_model::meta::version_of(api_version),
                    kind,
                );
                let found = kube::discovery::pinned_kind(client, &gvk)
                    .await
                    .map_err(|e| format!("{api_version} {kind}: {e}"))?;
                kinds.insert(key, found.clone());
                found
            }
        };
        let api: Api<DynamicObject> = if caps.scope == Scope::Namespaced {
            let ns = obj
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .unwrap_or("default");
            Api::namespaced_with(client.clone(), ns, &ar)
        } else {
            Api::all_with(client.clone(), &ar)
        };
        api.patch(name, &params, &Patch::Apply(obj))
            .await
            .map_err(|e| format!("applying {kind} {name}: {e}"))?;
    }
    Ok(())
}

/// The binding of `cluster` with this set's entry replaced by `entry`; `None` when nothing
/// changes.
fn merged_bindings(
    current: &[ResourceSetBinding],
    entry: ResourceSetBinding,
) -> Option<Vec<ResourceSetBinding>> {
    let mut bindings = current.to_vec();
    match bindings
        .iter_mut()
        .find(|b| b.cluster_resource_set_name == entry.cluster_resource_set_name)
    {
        Some(b) if *b == entry => return None,
        Some(b) => *b = entry,
        // A set that applied nothing yet gets no entry, as upstream.
        None if entry.resources.is_empty() => return None,
        None => bindings.push(entry),
    }
    Some(bindings)
}

fn per_cluster_lock(ctx: &Ctx, key: String) -> Arc<tokio::sync::Mutex<()>> {
    match ctx.binding_locks.lock() {
        Ok(mut m) => m.entry(key).or_default().clone(),
        Err(_) => Arc::new(tokio::sync::Mutex::new(())),
    }
}

/// Applies the set to one cluster; returns the (reason, message) failures.
async fn apply_to_cluster(
    ctx: &Ctx,
    set: &ClusterResourceSet,
    cluster: &DynamicObject,
    resources: &[Fetched],
    client: &kube::Client,
) -> Result<Vec<Failure>, CapiError> {
    let ns = set.namespace().to_string();
    let cluster_name = cluster.name_any();
    let lock = per_cluster_lock(ctx, format!("{ns}/{cluster_name}"));
    let _guard = lock.lock().await;
    let bindings_api = dyn_api(&ctx.client, &binding_resource(), &ns);
    let binding = match bindings_api.get(&cluster_name).await {
        Ok(b) => Some(b),
        Err(e) if is_not_found(&e) => None,
        Err(e) => {
            return Err(CapiError::kube(format!(
                "reading ClusterResourceSetBinding {ns}/{cluster_name}"
            ))(e))
        }
    };
    let current: Vec<ResourceSetBinding> = binding
        .as_ref()
        .and_then(|b| b.data.pointer("/spec/bindings"))
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let previous = current
        .iter()
        .find(|b| b.cluster_resource_set_name == set.name())
        .map(|b| b.resources.clone())
        .unwrap_or_default();
    let strategy = set.spec.strategy();
    let mut failures = Vec::new();
    let mut recorded: Vec<ResourceBinding> = Vec::new();
    for (kind, name, manifests) in resources {
        let before = previous.iter().find(|r| r.kind == *kind && r.name == *name);
        let manifests = match manifests {
            Ok(m) => m,
            Err(f) => {
                failures.push(f.clone());
                if let Some(b) = before {
                    recorded.push(b.clone());
                }
                continue;
            }
        };
        let done = before.is_some_and(|b| {
            b.applied
                && (strategy == ResourceSetStrategy::ApplyOnce
                    || b.hash.as_deref() == Some(manifests.hash.as_str()))
        });
        if done {
            if let Some(b) = before {
                recorded.push(b.clone());
            }
            continue;
        }
        let applied = match apply_objects(client, &manifests.objects).await {
            Ok(()) => {
                tracing::info!(resource_set = %set.name(), cluster = %cluster_name, %kind, %name, "applied");
                true
            }
            Err(e) => {
                failures.push(("ApplyFailed", format!("cluster {cluster_name}: {e}")));
                false
            }
        };
        recorded.push(ResourceBinding {
            kind: kind.clone(),
            name: name.clone(),
            applied,
            hash: Some(manifests.hash.clone()),
            last_applied_time: Some(now()),
        });
    }
    let entry = ResourceSetBinding {
        cluster_resource_set_name: set.name().to_string(),
        resources: recorded,
    };
    if let Some(bindings) = merged_bindings(&current, entry) {
        write_binding(&bindings_api, binding.as_ref(), cluster, &bindings).await?;
    }
    Ok(failures)
}

async fn write_binding(
    api: &Api<DynamicObject>,
    existing: Option<&DynamicObject>,
    cluster: &DynamicObject,
    bindings: &[ResourceSetBinding],
) -> Result<(), CapiError> {
    let name = cluster.name_any();
    let context = format!("writing ClusterResourceSetBinding {name}");
    match existing {
        Some(b) => {
            let patch = json!({
                "metadata": {"resourceVersion": b.metadata.resource_version},
                "spec": {"bindings": bindings},
            });
            api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map_err(CapiError::kube(context))?;
        }
        None => {
            let ar = binding_resource();
            let cluster_ar = cluster_resource();
            let body = json!({
                "apiVersion": ar.api_version,
                "kind": ar.kind,
                "metadata": {
                    "name": name,
                    "labels": {CLUSTER_NAME_LABEL: name},
                    "ownerReferences": [{
                        "apiVersion": cluster_ar.api_version,
                        "kind": cluster_ar.kind,
                        "name": name,
                        "uid": cluster.uid().unwrap_or_default(),
                    }],
                },
                "spec": {"clusterName": name, "bindings": bindings},
            });
            let obj: DynamicObject =
                serde_json::from_value(body).map_err(|source| CapiError::Decode {
                    context: context.clone(),
                    source,
                })?;
            api.create(&PostParams::default(), &obj)
                .await
                .map_err(CapiError::kube(context))?;
        }
    }
    Ok(())
}

async fn reconcile(obj: Arc<DynamicObject>, ctx: Arc<Ctx>) -> Result<Action, CapiError> {
    let set: ClusterResourceSet = typed(&obj)?;
    let ns = set.namespace().to_string();
    let sets_api = dyn_api(&ctx.client, &resource_set_resource(), &ns);
    if set.metadata.deletion_timestamp.is_some() {
        if obj.finalizers().iter().any(|f| f == RESOURCE_SET_FINALIZER) {
            forget_set(&ctx, &ns, set.name()).await?;
            set_finalizer(&sets_api, &obj, RESOURCE_SET_FINALIZER, false).await?;
        }
        return Ok(Action::await_change());
    }
    set_finalizer(&sets_api, &obj, RESOURCE_SET_FINALIZER, true).await?;
    if set.spec.cluster_selector.is_empty() {
        return write_set_status(&ctx, &obj, Vec::new()).await;
    }
    let clusters = dyn_api(&ctx.client, &cluster_resource(), &ns)
        .list(&Default::default())
        .await
        .map_err(CapiError::kube(format!("listing Clusters in {ns}")))?;
    let mut matching = Vec::new();
    for c in clusters.items {
        let typed_cluster: Cluster = typed(&c)?;
        let selected = set
            .spec
            .cluster_selector
            .matches(&typed_cluster.metadata.labels);
        let provisioned = typed_cluster
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            == Some(ClusterPhase::Provisioned.as_str());
        if selected && provisioned && typed_cluster.metadata.deletion_timestamp.is_none() {
            matching.push(c);
        }
    }
    let mut failures = Vec::new();
    if !matching.is_empty() {
        let mut resources = Vec::new();
        for r in &set.spec.resources {
            let m = read_resource(&ctx.client, &ns, &r.kind, &r.name).await;
            resources.push((r.kind.clone(), r.name.clone(), m));
        }
        for cluster in &matching {
            let name = cluster.name_any();
            match ctx.workloads.client(&ctx.client, &ns, &name).await {
                Ok(Some(client)) => {
                    failures
                        .extend(apply_to_cluster(&ctx, &set, cluster, &resources, &client).await?);
                }
                Ok(None) => failures.push((
                    "RemoteClusterClientFailed",
                    format!("cluster {name}: no kubeconfig Secret yet"),
                )),
                Err(e) => failures.push(("RemoteClusterClientFailed", e.to_string())),
            }
        }
    }
    failures.dedup();
    write_set_status(&ctx, &obj, failures).await
}

/// Removes a deleted set's entries from the bindings of its namespace, deleting bindings
/// left empty (as upstream does; what was applied stays in the workload clusters).
async fn forget_set(ctx: &Ctx, ns: &str, set: &str) -> Result<(), CapiError> {
    let api = dyn_api(&ctx.client, &binding_resource(), ns);
    let list = api
        .list(&Default::default())
        .await
        .map_err(CapiError::kube(format!(
            "listing ClusterResourceSetBindings in {ns}"
        )))?;
    for b in list.items {
        let name = b.name_any();
        let lock = per_cluster_lock(ctx, format!("{ns}/{name}"));
        let _guard = lock.lock().await;
        let Some(current) = api.get_opt(&name).await.map_err(CapiError::kube(format!(
            "reading ClusterResourceSetBinding {name}"
        )))?
        else {
            continue;
        };
        let mut bindings: Vec<ResourceSetBinding> = current
            .data
            .pointer("/spec/bindings")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let before = bindings.len();
        bindings.retain(|b| b.cluster_resource_set_name != set);
        if bindings.len() == before {
            continue;
        }
        let context = format!("updating ClusterResourceSetBinding {name}");
        if bindings.is_empty() {
            match api.delete(&name, &Default::default()).await {
                Ok(_) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(CapiError::kube(context)(e)),
            }
        } else {
            write_binding(&api, Some(&current), &current, &bindings).await?;
        }
    }
    Ok(())
}

async fn write_set_status(
    ctx: &Ctx,
    obj: &DynamicObject,
    failures: Vec<Failure>,
) -> Result<Action, CapiError> {
    let old = obj.data.get("status");
    let mut conditions: Vec<Condition> = conditions_of(old);
    let failed = !failures.is_empty();
    let c = match failures.first() {
        None => Condition::new(RESOURCES_APPLIED, TRUE, "", "", &now()),
        Some((reason, _)) => {
            let message: Vec<String> = failures.iter().map(|(_, m)| m.clone()).collect();
            let mut c = Condition::new(
                RESOURCES_APPLIED,
                FALSE,
                reason,
                &message.join("; "),
                &now(),
            );
            c.severity = Some("Warning".into());
            c
        }
    };
    set_condition(&mut conditions, c);
    let status = json!({
        "observedGeneration": obj.metadata.generation,
        "conditions": conditions,
    });
    let unchanged = old.is_some_and(|o| {
        o.get("observedGeneration") == status.get("observedGeneration")
            && conditions_of(Some(o)) == conditions
    });
    if !unchanged {
        let ns = obj.namespace().unwrap_or_default();
        let api = dyn_api(&ctx.client, &resource_set_resource(), &ns);
        merge_status(&api, &resource_set_resource(), &obj.name_any(), status).await?;
    }
    Ok(if failed {
        Action::requeue(Duration::from_secs(30))
    } else {
        resync()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn manifests_split_documents_and_put_namespaces_first() {
        let d = data(&[
            (
                "a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: addons}\n---\n",
            ),
            (
                "b.yaml",
                "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: addons}\n",
            ),
        ]);
        let objs = parse_manifests(&d).unwrap_or_default();
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[0]["kind"], "Namespace");
        assert!(parse_manifests(&data(&[("k", "- a\n- b\n")])).is_err());
    }

    #[test]
    fn hash_changes_with_data() {
        let a = hash_data(&data(&[("k", "v1")]));
        assert!(a.starts_with("sha256:") && a.len() == 71, "{a}");
        assert_ne!(a, hash_data(&data(&[("k", "v2")])));
        assert_eq!(a, hash_data(&data(&[("k", "v1")])));
    }

    #[test]
    fn bindings_merge_per_set() {
        let entry = |set: &str, hash: &str| ResourceSetBinding {
            cluster_resource_set_name: set.into(),
            resources: vec![ResourceBinding {
                kind: "ConfigMap".into(),
                name: "c".into(),
                applied: true,
                hash: Some(hash.into()),
                last_applied_time: None,
            }],
        };
        let current = vec![entry("a", "h1")];
        assert_eq!(merged_bindings(&current, entry("a", "h1")), None);
        let both = merged_bindings(&current, entry("b", "h1")).unwrap_or_default();
        assert_eq!(both.len(), 2);
        let replaced = merged_bindings(&current, entry("a", "h2")).unwrap_or_default();
        assert_eq!(replaced.len(), 1);
        assert_eq!(replaced[0].resources[0].hash.as_deref(), Some("h2"));
        let nothing = ResourceSetBinding {
            cluster_resource_set_name: "c".into(),
            resources: Vec::new(),
        };
        assert_eq!(merged_bindings(&current, nothing), None);
    }
}
