//! Writes: create and update (deletion is in `delete`), and the bookkeeping kube-apiserver
//! owns (uid, creationTimestamp, generation, resourceVersion, managedFields, finalizers).
use std::sync::Arc;

use axum::response::Response;
use flotilla_apimachinery::{Gvk, Registry};
use serde_json::{json, Value};

use super::{json, parse_body, Req};
use crate::status::{ApiError, Subject};
use crate::store::{resource_version, Key, Op, StoreError};

/// A fresh Namespace object.
pub fn new_namespace(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "uid": uuid::Uuid::new_v4().to_string(), "creationTimestamp": crate::time::now(),
                     "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}
    })
}

pub(crate) fn subject(key: &Key) -> Subject<'_> {
    Subject {
        group: &key.group,
        resource: &key.resource,
        name: &key.name,
    }
}

pub(crate) fn meta_mut(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    if let Value::Object(root) = obj {
        let m = root.entry("metadata").or_insert_with(|| json!({}));
        if !m.is_object() {
            *m = json!({});
        }
        if let Value::Object(mm) = m {
            return mm;
        }
    }
    unreachable!("`obj` and its metadata were made objects above")
}

/// Maps a store error of a write on `key`.
pub(crate) fn store_err(key: &Key, e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found(subject(key)),
        StoreError::AlreadyExists => ApiError::already_exists(subject(key)),
        StoreError::Conflict { .. } => ApiError::conflict(subject(key)),
        other => ApiError::internal(other.to_string()),
    }
}

/// The registry holding the kind of `r` (the cluster's custom kinds or the built-ins).
pub(crate) fn registry_of(r: &Req) -> Arc<Registry> {
    if r.info.custom {
        r.cluster.crds().unwrap_or_else(|| r.state.builtin.clone())
    } else {
        r.state.builtin.clone()
    }
}

pub(crate) fn gvk(r: &Req) -> Gvk {
    r.info.gvk()
}

/// Refuses objects in a missing or terminating namespace.
pub(crate) fn check_namespace(r: &Req, name: &str) -> Result<(), ApiError> {
    if !r.info.namespaced {
        return Ok(());
    }
    let key = Key::new(&r.cluster.name, "", "namespaces", "", &r.namespace);
    match r.state.store.get(&key)? {
        None => Err(ApiError::not_found(Subject { group: "", resource: "namespaces", name: &r.namespace })),
        Some(ns) if ns.pointer("/metadata/deletionTimestamp").is_some() => Err(ApiError::forbidden(format!(
            "{} \"{name}\" is forbidden: unable to create new content in namespace {} because it is being terminated",
            r.info.plural, r.namespace
        ))),
        Some(_) => Ok(()),
    }
}

/// Validation and defaulting through the machinery.
pub(crate) fn admit(r: &Req, obj: &mut Value, name: &str) -> Result<Vec<String>, ApiError> {
    if r.info.group.is_empty() && r.info.kind == "Secret" {
        fold_string_data(obj);
    }
    let reg = registry_of(r);
    let mode = crate::machinery::field_validation(r.q("fieldValidation"));
    crate::machinery::validate(obj, &reg, &gvk(r), mode).map_err(|errs| {
        ApiError::invalid(
            &r.info.kind,
            Subject {
                group: &r.info.group,
                resource: &r.info.plural,
                name,
            },
            &errs,
        )
    })
}

/// A Secret's write-only `stringData` merged into `data` (base64), taking precedence, and
/// removed, as kube-apiserver does before storing.
fn fold_string_data(obj: &mut Value) {
    use base64::Engine;
    let Some(m) = obj.as_object_mut() else { return };
    let Some(Value::Object(sd)) = m.remove("stringData") else {
        return;
    };
    if !m.get("data").is_some_and(Value::is_object) {
        m.insert("data".into(), json!({}));
    }
    if let Some(Value::Object(data)) = m.get_mut("data") {
        for (k, v) in sd {
            let text = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            data.insert(
                k,
                Value::String(base64::engine::general_purpose::STANDARD.encode(text)),
            );
        }
    }
}

/// Checks apiVersion/kind against the URL, filling them in when absent.
pub(crate) fn check_type(r: &Req, obj: &mut Value) -> Result<(), ApiError> {
    let want_av = r.info.api_version();
    for (field, want) in [
        ("apiVersion", want_av.as_str()),
        ("kind", r.info.kind.as_str()),
    ] {
        match obj.get(field).and_then(Value::as_str) {
            None | Some("") => obj[field] = Value::String(want.to_string()),
            Some(got) if got == want => {}
            Some(got) => {
                return Err(ApiError::bad_request(format!(
                    "the API version in the data ({got}) does not match the expected API version ({want})"
                )))
            }
        }
    }
    Ok(())
}

fn check_body_namespace(r: &Req, obj: &mut Value) -> Result<(), ApiError> {
    let meta = meta_mut(obj);
    if !r.info.namespaced {
        meta.remove("namespace");
        return Ok(());
    }
    match meta.get("namespace").and_then(Value::as_str) {
        Some(ns) if !ns.is_empty() && ns != r.namespace => Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        _ => {
            meta.insert("namespace".into(), Value::String(r.namespace.clone()));
            Ok(())
        }
    }
}

fn generate_suffix() -> String {
    const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut buf = [0u8; 5];
    let _ = getrandom::fill(&mut buf);
    buf.iter()
        .map(|b| ALPHA[*b as usize % ALPHA.len()] as char)
        .collect()
}

fn has_generation(r: &Req, obj: &Value) -> bool {
    r.info.custom || obj.get("spec").is_some()
}

/// Kind-specific state set by the server on create.
fn on_create(r: &Req, obj: &mut Value) {
    match (r.info.group.as_str(), r.info.kind.as_str()) {
        ("", "Namespace") => {
            let name = obj["metadata"]["name"].clone();
            obj["spec"]["finalizers"] = json!(["kubernetes"]);
            obj["status"] = json!({"phase": "Active"});
            if !obj["metadata"]["labels"].is_object() {
                obj["metadata"]["labels"] = json!({});
            }
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd_status(obj),
        ("", "Secret") if obj["type"].as_str().is_none_or(str::is_empty) => {
            obj["type"] = json!("Opaque")
        }
        _ => {
            if r.info.subresources.status {
                if let Some(m) = obj.as_object_mut() {
                    m.remove("status");
                }
            }
        }
    }
}

/// The conditions a CRD gets once its names are accepted (at once, here).
pub(crate) fn crd_status(obj: &mut Value) {
    let now = crate::time::now();
    let stored: Vec<Value> = obj["spec"]["versions"]
        .as_array()
        .map(|vs| {
            vs.iter()
                .filter(|v| v["storage"] == true)
                .map(|v| v["name"].clone())
                .collect()
        })
        .unwrap_or_default();
    let cond = |t: &str, reason: &str, msg: &str| json!({"type": t, "status": "True", "lastTransitionTime": now, "reason": reason, "message": msg});
    obj["status"] = json!({
        "conditions": [
            cond("NamesAccepted", "NoConflicts", "no conflicts found"),
            cond("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "acceptedNames": obj["spec"]["names"].clone(),
        "storedVersions": stored,
    });
    if obj["status"]["acceptedNames"]["singular"].is_null() {
        if let Some(k) = obj["spec"]["names"]["kind"].as_str() {
            obj["status"]["acceptedNames"]["singular"] = Value::String(k.to_ascii_lowercase());
        }
    }
}

fn is_crd(r: &Req) -> bool {
    r.info.group == "apiextensions.k8s.io" && r.info.plural == "customresourcedefinitions"
}

/// POST: create.
pub(crate) async fn create(r: &Req) -> Result<Response, ApiError> {
    let mut obj = parse_body(r)?;
    check_type(r, &mut obj)?;
    check_body_namespace(r, &mut obj)?;
    if r.info.namespaced && r.namespace.is_empty() {
        return Err(ApiError::bad_request(
            "a namespaced object must be created in a namespace",
        ));
    }
    let (obj, _) = create_object(r, obj, None).await?;
    Ok(json(201, &obj))
}

/// Creates `obj` (already type-checked, namespace set); `applied`: the result of server-side
/// apply, which has its own managedFields.
pub(crate) async fn create_object(
    r: &Req,
    mut obj: Value,
    applied: Option<()>,
) -> Result<(Value, Key), ApiError> {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let generate = obj
        .pointer("/metadata/generateName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if name.is_empty() && generate.is_empty() {
        let err = flotilla_apimachinery::FieldError {
            reason: "FieldValueRequired".into(),
            field: "metadata.name".into(),
            message: "metadata.name: Required value: name or generateName is required".into(),
        };
        return Err(ApiError::invalid(
            &r.info.kind,
            Subject {
                group: &r.info.group,
                resource: &r.info.plural,
                name: "",
            },
            &[err],
        ));
    }
    check_namespace(r, if name.is_empty() { &generate } else { &name })?;
    {
        let meta = meta_mut(&mut obj);
        for f in [
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "selfLink",
        ] {
            meta.remove(f);
        }
        meta.insert(
            "uid".into(),
            Value::String(uuid::Uuid::new_v4().to_string()),
        );
        meta.insert(
            "creationTimestamp".into(),
            Value::String(crate::time::now()),
        );
    }
    if has_generation(r, &obj) {
        meta_mut(&mut obj).insert("generation".into(), json!(1));
    }
    on_create(r, &mut obj);
    let check_name = if name.is_empty() {
        generate.clone()
    } else {
        name.clone()
    };
    let _warnings = admit(r, &mut obj, &check_name)?;
    if applied.is_none() {
        crate::machinery::track_update(None, &mut obj, &r.manager(), "Update");
    }
    for attempt in 0..8 {
        let final_name = if name.is_empty() {
            format!("{generate}{}", generate_suffix())
        } else {
            name.clone()
        };
        meta_mut(&mut obj).insert("name".into(), Value::String(final_name.clone()));
        let key = r.key(&final_name);
        if r.dry_run() {
            if r.state.store.get(&key)?.is_some() {
                return Err(ApiError::already_exists(subject(&key)));
            }
            return Ok((obj, key));
        }
        match r
            .state
            .store
            .write(Op::Create {
                key: key.clone(),
                object: obj.clone(),
            })
            .await
        {
            Ok(out) => {
                let stored = out.object().map(|o| (**o).clone()).unwrap_or(Value::Null);
                if is_crd(r) {
                    r.state
                        .reload_crds(&r.cluster)
                        .map_err(|e| ApiError::internal(e.to_string()))?;
                }
                return Ok((stored, key));
            }
            Err(StoreError::AlreadyExists) if name.is_empty() && attempt < 7 => continue,
            Err(e) => return Err(store_err(&key, e)),
        }
    }
    Err(ApiError::internal("could not generate a unique name"))
}

fn strip_server_meta(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    v
}

/// Builds the object an update stores: server-owned metadata kept from `old`, the status
/// subresource rules applied, generation bumped on spec changes, managedFields tracked.
pub(crate) fn prepare_update(
    r: &Req,
    old: &Value,
    mut new: Value,
    track: bool,
) -> Result<Value, ApiError> {
    check_type(r, &mut new)?;
    let name = r.name.clone().unwrap_or_default();
    if let Some(n) = new.pointer("/metadata/name").and_then(Value::as_str) {
        if n != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
    }
    let status_sub = r.sub.as_deref() == Some("status");
    let mut out = if status_sub {
        let mut o = old.clone();
        match new.get("status") {
            Some(s) => o["status"] = s.clone(),
            None => {
                if let Some(m) = o.as_object_mut() {
                    m.remove("status");
                }
            }
        }
        o
    } else {
        if r.info.subresources.status {
            match old.get("status") {
                Some(s) => new["status"] = s.clone(),
                None => {
                    if let Some(m) = new.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
        }
        new
    };
    {
        let old_meta = old["metadata"].clone();
        let meta = meta_mut(&mut out);
        for f in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ] {
            match old_meta.get(f) {
                Some(v) => meta.insert(f.into(), v.clone()),
                None => meta.remove(f),
            };
        }
        meta.insert("name".into(), Value::String(name.clone()));
        if r.info.namespaced {
            meta.insert("namespace".into(), Value::String(r.namespace.clone()));
        } else {
            meta.remove("namespace");
        }
        meta.remove("resourceVersion");
    }
    if !status_sub {
        if let Some(g) = old.pointer("/metadata/generation").and_then(Value::as_i64) {
            if strip_server_meta(old) != strip_server_meta(&out) {
                meta_mut(&mut out).insert("generation".into(), json!(g + 1));
            }
        }
    }
    if is_crd(r) && !status_sub {
        // Names and versions may change; the CRD stays Established.
        crd_status(&mut out);
    }
    admit(r, &mut out, &name)?;
    if !status_sub {
        let errs = flotilla_apimachinery::validate::immutable_errors(
            &r.info.group,
            &r.info.kind,
            old,
            &out,
        );
        if !errs.is_empty() {
            return Err(ApiError::invalid(
                &r.info.kind,
                Subject {
                    group: &r.info.group,
                    resource: &r.info.plural,
                    name: &name,
                },
                &errs,
            ));
        }
    }
    if track {
        crate::machinery::track_update(Some(old), &mut out, &r.manager(), "Update");
    }
    Ok(out)
}

/// Whether `a` and `b` are the same object apart from `resourceVersion` and the `time` of
/// managedFields entries.
pub(crate) fn same_object(a: &Value, b: &Value) -> bool {
    fn strip(v: &Value) -> Value {
        let mut v = v.clone();
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
            if let Some(Value::Array(mf)) = m.get_mut("managedFields") {
                for e in mf.iter_mut() {
                    if let Some(e) = e.as_object_mut() {
                        e.remove("time");
                    }
                }
            }
        }
        v
    }
    strip(a) == strip(b)
}

/// Stores an update (or finishes a deletion whose last finalizer went away).
pub(crate) async fn commit_update(
    r: &Req,
    key: &Key,
    old: &Value,
    out: Value,
    expected: Option<u64>,
) -> Result<Value, ApiError> {
    // A no-op (same object, managedFields timestamps aside) is not written, as in
    // kube-apiserver: the resourceVersion stays and no watch event is sent.
    if out.pointer("/metadata/deletionTimestamp").is_none() && same_object(old, &out) {
        return Ok(old.clone());
    }
    if r.dry_run() {
        // Nothing is written: the object keeps the resourceVersion it had.
        let mut out = out;
        if let Some(rv) = expected {
            meta_mut(&mut out).insert("resourceVersion".into(), Value::String(rv.to_string()));
        }
        return Ok(out);
    }
    // Finished: being deleted, no grace period left and no finalizer left.
    let finishing = out.pointer("/metadata/deletionTimestamp").is_some()
        && super::delete::pending_grace(&out) == 0
        && out
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_none_or(|f| f.is_empty());
    let res = if finishing {
        // Store the finalizer-less state, then delete it.
        let stored = r
            .state
            .store
            .write(Op::Update {
                key: key.clone(),
                object: out,
                expected,
            })
            .await
            .map_err(|e| store_err(key, e))?;
        let rv = stored.object().and_then(|o| resource_version(o));
        let del = r
            .state
            .store
            .write(Op::Delete {
                key: key.clone(),
                expected: rv,
            })
            .await
            .map_err(|e| store_err(key, e))?;
        if let Some(o) = del.object() {
            super::gc::spawn_after_delete(r.state.clone(), r.cluster.clone(), o.clone());
        }
        del
    } else {
        r.state
            .store
            .write(Op::Update {
                key: key.clone(),
                object: out,
                expected,
            })
            .await
            .map_err(|e| store_err(key, e))?
    };
    if is_crd(r) {
        r.state
            .reload_crds(&r.cluster)
            .map_err(|e| ApiError::internal(e.to_string()))?;
    }
    Ok(res.object().map(|o| (**o).clone()).unwrap_or(Value::Null))
}

/// PUT: update (also `/status` and `/scale`).
pub(crate) async fn update(r: &Req) -> Result<Response, ApiError> {
    let new = parse_body(r)?;
    let name = r.name.clone().unwrap_or_default();
    let key = r.key(&name);
    if r.sub.as_deref() == Some("scale") {
        let replicas = new.pointer("/spec/replicas").cloned().unwrap_or(json!(0));
        let expected = resource_version(&new);
        return super::reads::set_scale(r, &key, replicas, expected).await;
    }
    let old = r
        .state
        .store
        .get(&key)?
        .ok_or_else(|| ApiError::not_found(r.subject()))?;
    let expected = match new
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
    {
        None | Some("") => None,
        Some(s) => Some(
            s.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {s:?}")))?,
        ),
    };
    if let Some(exp) = expected {
        if Some(exp) != resource_version(&old) {
            return Err(ApiError::conflict(r.subject()));
        }
    }
    let out = prepare_update(r, &old, new, true)?;
    let stored = commit_update(r, &key, &old, out, expected.or(resource_version(&old))).await?;
    Ok(json(200, &stored))
}
