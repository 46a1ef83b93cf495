//! Garbage collection and finalization, run as background tasks as kube-controller-manager's
//! controllers would: dependents of a deleted owner (ownerReferences), the `orphan` and
//! `foregroundDeletion` finalizers, namespace deletion (contents first, then the namespace),
//! and the custom objects of a deleted CRD.
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::delete::{delete_object, pending_grace, spawn_grace_expiry, DeleteOptions};
use super::objects::meta_mut;
use crate::clusters::{Cluster, State};
use crate::store::{resource_version, Key, Op, Prefix};

fn uid_of(obj: &Value) -> String {
    obj.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn owner_refs(obj: &Value) -> Vec<Value> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Objects of a cluster naming `uid` as an owner.
fn dependents(state: &State, cluster: &str, uid: &str) -> Vec<(Key, Value)> {
    if uid.is_empty() {
        return Vec::new();
    }
    state
        .store
        .scan_containing(&Prefix::cluster(cluster), uid)
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, o)| owner_refs(o).iter().any(|r| r["uid"] == uid))
        .collect()
}

/// Removes the owner reference to `uid` from an object (optimistic, retried).
async fn drop_owner_ref(state: &State, key: &Key, uid: &str) {
    for _ in 0..5 {
        let Ok(Some(mut obj)) = state.store.get(key) else {
            return;
        };
        let rv = resource_version(&obj);
        let refs: Vec<Value> = owner_refs(&obj)
            .into_iter()
            .filter(|r| r["uid"] != uid)
            .collect();
        let meta = meta_mut(&mut obj);
        if refs.is_empty() {
            meta.remove("ownerReferences");
        } else {
            meta.insert("ownerReferences".into(), Value::Array(refs));
        }
        match state
            .store
            .write(Op::Update {
                key: key.clone(),
                object: obj,
                expected: rv,
            })
            .await
        {
            Err(crate::store::StoreError::Conflict { .. }) => continue,
            _ => return,
        }
    }
}

/// Removes one finalizer; deletes the object when it was the last one and it is being deleted.
async fn remove_finalizer(state: &Arc<State>, cluster: &Arc<Cluster>, key: &Key, name: &str) {
    for _ in 0..5 {
        let Ok(Some(mut obj)) = state.store.get(key) else {
            return;
        };
        let rv = resource_version(&obj);
        let fins: Vec<Value> = obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|f| f != name)
            .collect();
        let empty = fins.is_empty();
        let meta = meta_mut(&mut obj);
        if empty {
            meta.remove("finalizers");
        } else {
            meta.insert("finalizers".into(), Value::Array(fins));
        }
        let res = state
            .store
            .write(Op::Update {
                key: key.clone(),
                object: obj,
                expected: rv,
            })
            .await;
        match res {
            Err(crate::store::StoreError::Conflict { .. }) => continue,
            // A Pod still in its grace period stays until the period ends.
            Ok(out) if empty && out.object().is_some_and(|o| pending_grace(o) == 0) => {
                let rv = out.object().and_then(|o| resource_version(o));
                if let Ok(del) = state
                    .store
                    .write(Op::Delete {
                        key: key.clone(),
                        expected: rv,
                    })
                    .await
                {
                    if let Some(o) = del.object() {
                        spawn_after_delete(state.clone(), cluster.clone(), o.clone());
                    }
                }
                return;
            }
            _ => return,
        }
    }
}

/// After an object is gone: its dependents lose the owner reference and, when it was their
/// last owner, are deleted in the background.
pub(crate) fn spawn_after_delete(state: Arc<State>, cluster: Arc<Cluster>, obj: Arc<Value>) {
    tokio::spawn(async move {
        let uid = uid_of(&obj);
        for (key, dep) in dependents(&state, &cluster.name, &uid) {
            if owner_refs(&dep).len() <= 1 {
                let _ = Box::pin(delete_object(
                    &state,
                    &cluster,
                    &key,
                    &DeleteOptions::default(),
                ))
                .await;
            } else {
                drop_owner_ref(&state, &key, &uid).await;
            }
        }
    });
}

/// Finishes the deletion of an object marked with a deletionTimestamp.
pub(crate) fn spawn_finalize(state: Arc<State>, cluster: Arc<Cluster>, key: Key) {
    tokio::spawn(async move {
        if key.group.is_empty() && key.resource == "namespaces" {
            finalize_namespace(&state, &cluster, &key).await;
            return;
        }
        let Ok(Some(obj)) = state.store.get(&key) else {
            return;
        };
        let uid = uid_of(&obj);
        let fins = obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if fins.iter().any(|f| f == "orphan") {
            for (k, _) in dependents(&state, &cluster.name, &uid) {
                drop_owner_ref(&state, &k, &uid).await;
            }
            remove_finalizer(&state, &cluster, &key, "orphan").await;
        }
        if fins.iter().any(|f| f == "foregroundDeletion") {
            loop {
                if state.cluster(&cluster.name).is_none() {
                    return;
                }
                if !foreground_step(&state, &cluster, &uid).await {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            remove_finalizer(&state, &cluster, &key, "foregroundDeletion").await;
        }
    });
}

/// Whether the reference to `uid` in a dependent blocks its owner's foreground deletion.
fn blocks(dependent: &Value, uid: &str) -> bool {
    owner_refs(dependent)
        .iter()
        .any(|r| r["uid"] == uid && r["blockOwnerDeletion"] == true)
}

/// One pass of the foreground deletion of the owner `uid`, as kube-controller-manager's
/// garbage collector does it: a dependent with another owner only loses the reference; the
/// others are deleted (in the foreground when they have dependents of their own). Returns
/// whether the owner must still wait: a dependent with `blockOwnerDeletion: true` remains
/// (one held by its own finalizers too). Non-blocking dependents do not hold the owner.
async fn foreground_step(state: &Arc<State>, cluster: &Arc<Cluster>, uid: &str) -> bool {
    let mut waiting = false;
    for (k, d) in dependents(state, &cluster.name, uid) {
        if owner_refs(&d).len() > 1 {
            drop_owner_ref(state, &k, uid).await;
            continue;
        }
        if blocks(&d, uid) {
            waiting = true;
        }
        if d.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let has_dependents = !dependents(state, &cluster.name, &uid_of(&d)).is_empty();
        let opts = DeleteOptions {
            policy: has_dependents.then(|| "Foreground".to_string()),
            ..DeleteOptions::default()
        };
        if let Err(e) = Box::pin(delete_object(state, cluster, &k, &opts)).await {
            if e.code != 404 {
                tracing::warn!(name = %k.name, error = %e.message, "deleting a dependent failed");
            }
        }
    }
    waiting
}

async fn finalize_namespace(state: &Arc<State>, cluster: &Arc<Cluster>, key: &Key) {
    let ns = key.name.clone();
    let needle = format!("\"namespace\":{}", json!(ns));
    loop {
        if state.cluster(&cluster.name).is_none() {
            return;
        }
        let Ok(Some(_)) = state.store.get(key) else {
            return;
        };
        let contents: Vec<(Key, Value)> = state
            .store
            .scan_containing(&Prefix::cluster(&cluster.name), &needle)
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k.namespace == ns)
            .collect();
        if contents.is_empty() {
            break;
        }
        for (k, o) in contents {
            if o.pointer("/metadata/deletionTimestamp").is_none() {
                let _ =
                    Box::pin(delete_object(state, cluster, &k, &DeleteOptions::default())).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..5 {
        let Ok(Some(mut obj)) = state.store.get(key) else {
            return;
        };
        let rv = resource_version(&obj);
        if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("finalizers".into(), json!([]));
        }
        let fins_left = obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if fins_left {
            // Other finalizers keep the namespace until their owners remove them.
            let _ = state
                .store
                .write(Op::Update {
                    key: key.clone(),
                    object: obj,
                    expected: rv,
                })
                .await;
            return;
        }
        match state
            .store
            .write(Op::Delete {
                key: key.clone(),
                expected: rv,
            })
            .await
        {
            Err(crate::store::StoreError::Conflict { .. }) => continue,
            _ => return,
        }
    }
}

/// Deletes the custom objects of a deleted CRD.
pub(crate) fn spawn_drop_custom_objects(state: Arc<State>, cluster: Arc<Cluster>, crd: Value) {
    tokio::spawn(async move {
        let group = crd
            .pointer("/spec/group")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let plural = crd
            .pointer("/spec/names/plural")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if group.is_empty() || plural.is_empty() {
            return;
        }
        let prefix = Prefix::resource(&cluster.name, &group, &plural);
        for (key, _) in state.store.scan_containing(&prefix, "").unwrap_or_default() {
            let _ = state
                .store
                .write(Op::Delete {
                    key,
                    expected: None,
                })
                .await;
        }
    });
}

/// At start-up: resumes namespace and foreground/orphan finalization and the grace periods
/// of Pods interrupted by a stop.
pub(crate) fn resume(state: Arc<State>) {
    for name in state.cluster_names() {
        let Some(cluster) = state.cluster(&name) else {
            continue;
        };
        let pending = state
            .store
            .scan_containing(&Prefix::cluster(&name), "deletionTimestamp")
            .unwrap_or_default();
        for (key, obj) in pending {
            let fins = obj
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let ns = key.group.is_empty() && key.resource == "namespaces";
            if pending_grace(&obj) > 0 || (fins.is_empty() && !ns) {
                // A grace period to wait out, or a removal a stop interrupted.
                let deadline = obj
                    .pointer("/metadata/deletionTimestamp")
                    .and_then(Value::as_str)
                    .and_then(crate::time::parse)
                    .unwrap_or(0);
                let left = (deadline - flotilla_apimachinery::time::now_secs()).max(0);
                let after = Duration::from_secs(u64::try_from(left).unwrap_or(0));
                spawn_grace_expiry(state.clone(), cluster.clone(), key.clone(), after);
            }
            if ns
                || fins
                    .iter()
                    .any(|f| f == "orphan" || f == "foregroundDeletion")
            {
                spawn_finalize(state.clone(), cluster.clone(), key);
            }
        }
    }
}
