//! Deletion as kube-apiserver does it: DeleteOptions (body and query), preconditions,
//! finalizers and the propagation policy, graceful deletion of Pods (the only built-in kind
//! with a graceful strategy), and deletecollection.
//!
//! No kubelet runs, so a Pod deleted with a grace period is removed when the period is over,
//! as the kubelet's final `gracePeriodSeconds=0` delete would.
use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use flotilla_apimachinery::time::now_secs;
use serde_json::{json, Value};

use super::objects::{meta_mut, store_err, subject};
use super::{json, Req};
use crate::clusters::{Cluster, State};
use crate::status::ApiError;
use crate::store::{resource_version, Key, Op, Outcome, StoreError};

/// Deletion options from the body and the query.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeleteOptions {
    pub policy: Option<String>,
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    pub dry_run: bool,
    /// `gracePeriodSeconds` as asked (negative values count as 1, as in kube-apiserver).
    pub grace: Option<i64>,
}

pub(crate) fn delete_options(r: &Req) -> Result<DeleteOptions, ApiError> {
    let body: Value = if r.body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&r.body)
            .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
    };
    let mut policy = body["propagationPolicy"].as_str().map(str::to_string);
    if policy.is_none() && body["orphanDependents"] == true {
        policy = Some("Orphan".into());
    }
    if let Some(p) = r.q("propagationPolicy") {
        policy = Some(p.to_string());
    }
    if let Some(p) = &policy {
        if !matches!(p.as_str(), "Orphan" | "Background" | "Foreground") {
            return Err(ApiError::bad_request(format!(
                "invalid propagationPolicy {p:?}"
            )));
        }
    }
    let mut grace = match body.get("gracePeriodSeconds") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| {
            ApiError::bad_request(format!("invalid DeleteOptions: gracePeriodSeconds {v}"))
        })?),
    };
    if let Some(g) = r.q("gracePeriodSeconds") {
        grace = Some(
            g.parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("invalid gracePeriodSeconds {g:?}")))?,
        );
    }
    let dry_run = r.dry_run()
        || body["dryRun"]
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v == "All"));
    Ok(DeleteOptions {
        policy,
        uid: body
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(str::to_string),
        resource_version: body
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string),
        dry_run,
        grace: grace.map(|g| if g < 0 { 1 } else { g }),
    })
}

fn is_namespace(key: &Key) -> bool {
    key.group.is_empty() && key.resource == "namespaces"
}

fn is_pod(key: &Key) -> bool {
    key.group.is_empty() && key.resource == "pods"
}

/// The grace period a first delete gives an object, as the kinds' strategies decide: Pods
/// take the asked period, else `spec.terminationGracePeriodSeconds` (defaulted to 30), and
/// 0 when unscheduled or already terminated; every other kind is deleted at once (0).
fn grace_period(key: &Key, obj: &Value, asked: Option<i64>) -> i64 {
    if !is_pod(key) {
        return 0;
    }
    let period = asked.unwrap_or_else(|| {
        obj.pointer("/spec/terminationGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(30)
    });
    let scheduled = obj
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    let terminated = matches!(
        obj.pointer("/status/phase").and_then(Value::as_str),
        Some("Failed" | "Succeeded")
    );
    if !scheduled || terminated {
        0
    } else if period < 0 {
        1
    } else {
        period
    }
}

/// The grace period an object under deletion still waits for (0: none).
pub(crate) fn pending_grace(obj: &Value) -> i64 {
    obj.pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

fn finalizers_of(obj: &Value) -> Vec<Value> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// What a delete did.
pub(crate) enum Deleted {
    /// Removed from the store.
    Gone(Arc<Value>),
    /// Marked for deletion; finalizers or a grace period pending.
    Pending(Value),
}

/// Deletes one object with kube-apiserver's rules (finalizers, propagation policy, grace
/// periods, namespaces).
pub(crate) async fn delete_object(
    state: &Arc<State>,
    cluster: &Arc<Cluster>,
    key: &Key,
    opts: &DeleteOptions,
) -> Result<Deleted, ApiError> {
    let old = state
        .store
        .get(key)?
        .ok_or_else(|| ApiError::not_found(subject(key)))?;
    let uid = old
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(u) = &opts.uid {
        if *u != uid {
            return Err(ApiError::new(
                409,
                "Conflict",
                format!("Precondition failed: UID in precondition: {u}, UID in object meta: {uid}"),
            ));
        }
    }
    let cur_rv = resource_version(&old);
    if let Some(rv) = &opts.resource_version {
        if rv.parse::<u64>().ok() != cur_rv {
            return Err(ApiError::new(409, "Conflict", format!(
                "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                cur_rv.unwrap_or(0)
            )));
        }
    }
    let is_namespace = is_namespace(key);
    if old.pointer("/metadata/deletionTimestamp").is_some() {
        return shorten_grace(state, cluster, key, old, opts).await;
    }
    let mut finalizers = finalizers_of(&old);
    match opts.policy.as_deref() {
        Some("Orphan") if !finalizers.iter().any(|f| f == "orphan") => {
            finalizers.push(json!("orphan"))
        }
        Some("Foreground") if !finalizers.iter().any(|f| f == "foregroundDeletion") => {
            finalizers.push(json!("foregroundDeletion"))
        }
        _ => {}
    }
    let grace = grace_period(key, &old, opts.grace);
    if is_namespace || !finalizers.is_empty() || grace > 0 {
        let mut out = old.clone();
        {
            let meta = meta_mut(&mut out);
            meta.insert(
                "deletionTimestamp".into(),
                Value::String(crate::time::format_unix(now_secs() + grace)),
            );
            meta.insert("deletionGracePeriodSeconds".into(), json!(grace));
            if !finalizers.is_empty() {
                meta.insert("finalizers".into(), Value::Array(finalizers.clone()));
            }
            if grace > 0 {
                // The first graceful delete bumps a generation, as kube-apiserver's does.
                if let Some(g) = meta.get("generation").and_then(Value::as_i64) {
                    meta.insert("generation".into(), json!(g + 1));
                }
            }
        }
        if is_namespace {
            out["status"]["phase"] = json!("Terminating");
        }
        if opts.dry_run {
            return Ok(Deleted::Pending(out));
        }
        let stored = state
            .store
            .write(Op::Update {
                key: key.clone(),
                object: out,
                expected: cur_rv,
            })
            .await
            .map_err(|e| store_err(key, e))?;
        let stored = stored
            .object()
            .map(|o| (**o).clone())
            .unwrap_or(Value::Null);
        if is_namespace || !finalizers.is_empty() {
            super::gc::spawn_finalize(state.clone(), cluster.clone(), key.clone());
        }
        if grace > 0 {
            spawn_grace_expiry(state.clone(), cluster.clone(), key.clone(), secs(grace));
        }
        return Ok(Deleted::Pending(stored));
    }
    if opts.dry_run {
        return Ok(Deleted::Gone(Arc::new(old)));
    }
    let out = state
        .store
        .write(Op::Delete {
            key: key.clone(),
            expected: cur_rv,
        })
        .await
        .map_err(|e| store_err(key, e))?;
    let Outcome::Deleted(obj) = out else {
        return Err(ApiError::internal("unexpected store outcome"));
    };
    after_delete(state, cluster, key, &obj)?;
    Ok(Deleted::Gone(obj))
}

fn secs(n: i64) -> Duration {
    Duration::from_secs(u64::try_from(n).unwrap_or(0))
}

fn after_delete(
    state: &Arc<State>,
    cluster: &Arc<Cluster>,
    key: &Key,
    obj: &Arc<Value>,
) -> Result<(), ApiError> {
    if key.group == "apiextensions.k8s.io" && key.resource == "customresourcedefinitions" {
        state
            .reload_crds(cluster)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        super::gc::spawn_drop_custom_objects(state.clone(), cluster.clone(), (**obj).clone());
    }
    super::gc::spawn_after_delete(state.clone(), cluster.clone(), obj.clone());
    Ok(())
}

/// A delete of an object already being deleted: only a shorter grace period changes
/// anything (kube-apiserver's `BeforeDelete`); 0 removes it at once when no finalizer is left.
async fn shorten_grace(
    state: &Arc<State>,
    cluster: &Arc<Cluster>,
    key: &Key,
    old: Value,
    opts: &DeleteOptions,
) -> Result<Deleted, ApiError> {
    let current = pending_grace(&old);
    if current == 0 && finalizers_of(&old).is_empty() && !is_namespace(key) && !opts.dry_run {
        // Nothing holds it any more (a stop came between marking and removing): remove it,
        // as kube-apiserver does on the next delete.
        let del = state
            .store
            .write(Op::Delete {
                key: key.clone(),
                expected: resource_version(&old),
            })
            .await
            .map_err(|e| store_err(key, e))?;
        if let Some(obj) = del.object() {
            after_delete(state, cluster, key, obj)?;
            return Ok(Deleted::Gone(obj.clone()));
        }
    }
    let Some(asked) = opts.grace.filter(|g| is_pod(key) && *g < current) else {
        return Ok(Deleted::Pending(old));
    };
    let deadline = old
        .pointer("/metadata/deletionTimestamp")
        .and_then(Value::as_str)
        .and_then(crate::time::parse)
        .unwrap_or_else(now_secs);
    let mut out = old.clone();
    {
        let meta = meta_mut(&mut out);
        meta.insert(
            "deletionTimestamp".into(),
            Value::String(crate::time::format_unix(deadline - current + asked)),
        );
        meta.insert("deletionGracePeriodSeconds".into(), json!(asked));
    }
    if opts.dry_run {
        return Ok(Deleted::Pending(out));
    }
    let expected = resource_version(&old);
    let stored = state
        .store
        .write(Op::Update {
            key: key.clone(),
            object: out,
            expected,
        })
        .await
        .map_err(|e| store_err(key, e))?;
    let stored = stored.object().cloned().unwrap_or_default();
    if asked == 0 && finalizers_of(&stored).is_empty() {
        let del = state
            .store
            .write(Op::Delete {
                key: key.clone(),
                expected: resource_version(&stored),
            })
            .await
            .map_err(|e| store_err(key, e))?;
        if let Some(obj) = del.object() {
            after_delete(state, cluster, key, obj)?;
            return Ok(Deleted::Gone(obj.clone()));
        }
    }
    let left = deadline - current + asked - now_secs();
    spawn_grace_expiry(state.clone(), cluster.clone(), key.clone(), secs(left));
    Ok(Deleted::Pending((*stored).clone()))
}

/// After `after`, ends the grace period of an object being deleted gracefully: its
/// `deletionGracePeriodSeconds` becomes 0 and, when no finalizer is left, it is removed.
pub(crate) fn spawn_grace_expiry(
    state: Arc<State>,
    cluster: Arc<Cluster>,
    key: Key,
    after: Duration,
) {
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        for _ in 0..5 {
            if state.cluster(&cluster.name).is_none() {
                return;
            }
            let Ok(Some(obj)) = state.store.get(&key) else {
                return;
            };
            let Some(deadline) = obj
                .pointer("/metadata/deletionTimestamp")
                .and_then(Value::as_str)
                .and_then(crate::time::parse)
            else {
                return;
            };
            let grace = pending_grace(&obj);
            if grace == 0 && (!finalizers_of(&obj).is_empty() || is_namespace(&key)) {
                // Finalizers (or the namespace controller) finish it.
                return;
            }
            let left = deadline - now_secs();
            if grace > 0 && left > 0 {
                // A newer object of the same name, or a clock step: wait for its deadline.
                tokio::time::sleep(secs(left)).await;
                continue;
            }
            match expire(&state, &cluster, &key, &obj).await {
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, name = %key.name, "ending a grace period failed");
                    return;
                }
                Ok(()) => return,
            }
        }
    });
}

async fn expire(
    state: &Arc<State>,
    cluster: &Arc<Cluster>,
    key: &Key,
    obj: &Value,
) -> Result<(), StoreError> {
    let stored = if pending_grace(obj) == 0 {
        // Left by a stop between the two writes below: only the removal is missing.
        Arc::new(obj.clone())
    } else {
        let mut out = obj.clone();
        meta_mut(&mut out).insert("deletionGracePeriodSeconds".into(), json!(0));
        let stored = state
            .store
            .write(Op::Update {
                key: key.clone(),
                object: out,
                expected: resource_version(obj),
            })
            .await?;
        match stored.object() {
            Some(o) => o.clone(),
            None => return Ok(()),
        }
    };
    if !finalizers_of(&stored).is_empty() {
        return Ok(());
    }
    let del = state
        .store
        .write(Op::Delete {
            key: key.clone(),
            expected: resource_version(&stored),
        })
        .await?;
    if let Some(o) = del.object() {
        super::gc::spawn_after_delete(state.clone(), cluster.clone(), o.clone());
    }
    Ok(())
}

/// DELETE of one object.
pub(crate) async fn delete(r: &Req) -> Result<Response, ApiError> {
    let opts = delete_options(r)?;
    let key = r.key(r.name.as_deref().unwrap_or(""));
    match delete_object(&r.state, &r.cluster, &key, &opts).await? {
        Deleted::Pending(obj) => Ok(json(200, &obj)),
        Deleted::Gone(obj) => Ok(json(
            200,
            &json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": key.name, "group": key.group, "kind": key.resource,
                            "uid": obj.pointer("/metadata/uid").cloned().unwrap_or(Value::Null)}
            }),
        )),
    }
}

/// DELETE of a collection (with label and field selectors).
pub(crate) async fn delete_collection(r: &Req) -> Result<Response, ApiError> {
    let opts = delete_options(r)?;
    let items = super::reads::select(r)?;
    let mut deleted = Vec::new();
    for obj in items {
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let key = Key::new(&r.cluster.name, &r.info.group, &r.info.plural, &ns, &name);
        match delete_object(&r.state, &r.cluster, &key, &opts).await {
            Ok(Deleted::Gone(o)) => deleted.push((*o).clone()),
            Ok(Deleted::Pending(o)) => deleted.push(o),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(json(
        200,
        &json!({"kind": format!("{}List", r.info.kind), "apiVersion": r.info.api_version(), "metadata": {}, "items": deleted}),
    ))
}
