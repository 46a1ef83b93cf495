//! Reads: get, list (selectors, limit/continue, resourceVersion), Table output, and the scale
//! subresource.
use std::collections::BTreeMap;

use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};

use super::objects::{commit_update, meta_mut, store_err};
use super::selectors::{FieldSelector, LabelSelector};
use super::{json, Req};
use crate::status::ApiError;
use crate::store::{resource_version, EventKind, Key, Prefix};

/// An object as the requested version shows it: custom resources are stored once and served
/// in every version of their CRD (conversion `None` rewrites only `apiVersion`).
pub(crate) fn present(r: &Req, mut obj: Value) -> Value {
    if r.info.custom
        && obj.get("apiVersion").and_then(Value::as_str) != Some(r.info.api_version().as_str())
    {
        obj["apiVersion"] = Value::String(r.info.api_version());
    }
    obj
}

/// The label and field selectors of a request.
pub(crate) fn selectors(r: &Req) -> Result<(LabelSelector, FieldSelector), ApiError> {
    Ok((
        LabelSelector::parse(r.q("labelSelector").unwrap_or(""))?,
        FieldSelector::parse(r.q("fieldSelector").unwrap_or(""), &r.info.kind)?,
    ))
}

pub(crate) fn prefix(r: &Req) -> Prefix {
    if r.namespace.is_empty() {
        Prefix::resource(&r.cluster.name, &r.info.group, &r.info.plural)
    } else {
        Prefix::namespace(&r.cluster.name, &r.info.group, &r.info.plural, &r.namespace)
    }
}

/// Every object the request's selectors choose.
pub(crate) fn select(r: &Req) -> Result<Vec<Value>, ApiError> {
    let (ls, fs) = selectors(r)?;
    let page = r
        .state
        .store
        .list(&prefix(r), None, None, &|o| ls.matches(o) && fs.matches(o))?;
    Ok(page.items)
}

fn encode_continue(rev: u64, key: &str) -> String {
    let v = json!({"v": "meta.k8s.io/v1", "rv": rev, "start": key});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

fn decode_continue(s: &str) -> Result<(u64, String), ApiError> {
    let bad = || {
        ApiError::bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    Ok((
        v["rv"].as_u64().ok_or_else(bad)?,
        v["start"].as_str().ok_or_else(bad)?.to_string(),
    ))
}

/// GET of a collection.
pub(crate) async fn list(r: &Req) -> Result<Response, ApiError> {
    let (ls, fs) = selectors(r)?;
    let limit = match r.q("limit") {
        Some(l) => match l.parse::<i64>() {
            Ok(n) if n > 0 => Some(n as usize),
            Ok(_) => None,
            Err(_) => return Err(ApiError::bad_request(format!("invalid limit {l:?}"))),
        },
        None => None,
    };
    let (after, cont_rev) = match r.q("continue").filter(|c| !c.is_empty()) {
        Some(c) => {
            let (rev, start) = decode_continue(c)?;
            (Some(start), Some(rev))
        }
        None => (None, None),
    };
    let current = r.state.store.revision()?;
    if let (Some(rv), Some("Exact")) = (r.q("resourceVersion"), r.q("resourceVersionMatch")) {
        let rv: u64 = rv
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {rv:?}")))?;
        if rv != current {
            return Err(ApiError::expired(format!(
                "too old resource version: {rv} ({current})"
            )));
        }
    }
    let page = r
        .state
        .store
        .list(&prefix(r), after.as_deref(), limit, &|o| {
            ls.matches(o) && fs.matches(o)
        })?;
    // A continued list shows the snapshot of its first page: objects changed since are shown
    // as they were then, from the watch history (410 once the history no longer reaches it).
    let rev = cont_rev.unwrap_or(page.revision);
    let (items, next) = match (cont_rev, after.as_deref()) {
        (Some(snap), Some(after)) if snap < page.revision => {
            snapshot_page(r, snap, after, limit, &|o| ls.matches(o) && fs.matches(o))?
        }
        _ => (page.items, page.next),
    };
    let items: Vec<Value> = items.into_iter().map(|o| present(r, o)).collect();
    let mut meta = json!({"resourceVersion": rev.to_string()});
    if let Some(next) = &next {
        meta["continue"] = Value::String(encode_continue(rev, next));
    }
    if r.wants_table() {
        let mut t = crate::machinery::to_table(&r.info, &items, true);
        t["metadata"] = meta;
        return Ok(json(200, &t));
    }
    Ok(json(
        200,
        &json!({"kind": format!("{}List", r.info.kind), "apiVersion": r.info.api_version(), "metadata": meta, "items": items}),
    ))
}

fn key_of(r: &Req, o: &Value) -> String {
    let ns = o
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = o
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    Key::new(&r.cluster.name, &r.info.group, &r.info.plural, ns, name).encode()
}

/// The rest of a list after `after` as it was at revision `snap`.
fn snapshot_page(
    r: &Req,
    snap: u64,
    after: &str,
    limit: Option<usize>,
    keep: &dyn Fn(&Value) -> bool,
) -> Result<(Vec<Value>, Option<String>), ApiError> {
    let changes = r.state.store.changes_since(snap).map_err(|_| {
        ApiError::expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
    })?;
    let pre = prefix(r);
    let mut touched: BTreeMap<String, Option<Value>> = BTreeMap::new();
    for e in changes {
        let k = e.key.encode();
        if !k.starts_with(pre.as_str()) || k.as_str() <= after {
            continue;
        }
        // The first change after the snapshot tells what the object was at the snapshot.
        touched.entry(k).or_insert_with(|| match e.kind {
            EventKind::Added => None,
            EventKind::Modified | EventKind::Deleted => e.previous.as_deref().cloned(),
        });
    }
    let rest = r.state.store.list(&pre, Some(after), None, &|_| true)?;
    let mut all: BTreeMap<String, Value> = BTreeMap::new();
    for o in rest.items {
        let k = key_of(r, &o);
        if !touched.contains_key(&k) {
            all.insert(k, o);
        }
    }
    all.extend(touched.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
    let mut items: Vec<(String, Value)> = Vec::new();
    let mut next = None;
    for (k, o) in all.into_iter().filter(|(_, o)| keep(o)) {
        if limit.is_some_and(|l| items.len() >= l) {
            next = items.last().map(|(k, _)| k.clone());
            break;
        }
        items.push((k, o));
    }
    Ok((items.into_iter().map(|(_, o)| o).collect(), next))
}

/// GET of one object (or its status or scale).
pub(crate) async fn get(r: &Req) -> Result<Response, ApiError> {
    let key = r.key(r.name.as_deref().unwrap_or(""));
    let obj = r
        .state
        .store
        .get(&key)?
        .ok_or_else(|| ApiError::not_found(r.subject()))?;
    let obj = present(r, obj);
    if r.sub.as_deref() == Some("scale") {
        return Ok(json(200, &scale_of(r, &obj)));
    }
    if r.wants_table() {
        let mut t = crate::machinery::to_table(&r.info, std::slice::from_ref(&obj), true);
        t["metadata"] = json!({"resourceVersion": obj["metadata"]["resourceVersion"]});
        return Ok(json(200, &t));
    }
    Ok(json(200, &obj))
}

fn pointer_of(path: &str) -> String {
    path.trim_start_matches('.')
        .split('.')
        .fold(String::new(), |mut acc, p| {
            acc.push('/');
            acc.push_str(p);
            acc
        })
}

/// The `autoscaling/v1` Scale of an object.
pub(crate) fn scale_of(r: &Req, obj: &Value) -> Value {
    let Some(sc) = &r.info.subresources.scale else {
        return Value::Null;
    };
    let spec = obj
        .pointer(&pointer_of(&sc.spec_replicas_path))
        .cloned()
        .unwrap_or(json!(0));
    let status = obj
        .pointer(&pointer_of(&sc.status_replicas_path))
        .cloned()
        .unwrap_or(json!(0));
    let mut scale = json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"], "uid": obj["metadata"]["uid"],
            "resourceVersion": obj["metadata"]["resourceVersion"], "creationTimestamp": obj["metadata"]["creationTimestamp"]
        },
        "spec": {"replicas": spec}, "status": {"replicas": status}
    });
    if let Some(sel) = sc
        .label_selector_path
        .as_deref()
        .and_then(|p| obj.pointer(&pointer_of(p)))
    {
        scale["status"]["selector"] = sel.clone();
    } else if let Some(ml) = obj
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
    {
        let s: Vec<String> = ml
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect();
        scale["status"]["selector"] = Value::String(s.join(","));
    }
    scale
}

/// Writes new desired replicas through the scale subresource.
pub(crate) async fn set_scale(
    r: &Req,
    key: &Key,
    replicas: Value,
    expected: Option<u64>,
) -> Result<Response, ApiError> {
    let old = r
        .state
        .store
        .get(key)?
        .ok_or_else(|| ApiError::not_found(r.subject()))?;
    if let Some(exp) = expected {
        if Some(exp) != resource_version(&old) {
            return Err(ApiError::conflict(r.subject()));
        }
    }
    let Some(sc) = &r.info.subresources.scale else {
        return Err(ApiError::no_route());
    };
    if !replicas.is_i64() && !replicas.is_u64() {
        return Err(ApiError::bad_request("spec.replicas must be an integer"));
    }
    let mut new = old.clone();
    let ptr = pointer_of(&sc.spec_replicas_path);
    let mut cur = &mut new;
    let parts: Vec<&str> = ptr.trim_start_matches('/').split('/').collect();
    for (i, p) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        if i + 1 == parts.len() {
            cur[*p] = replicas.clone();
            break;
        }
        cur = &mut cur[*p];
    }
    if new != old {
        if let Some(g) = old.pointer("/metadata/generation").and_then(Value::as_i64) {
            meta_mut(&mut new).insert("generation".into(), json!(g + 1));
        }
        crate::machinery::track_update(Some(&old), &mut new, &r.manager(), "Update");
    }
    meta_mut(&mut new).remove("resourceVersion");
    let stored = commit_update(r, key, &old, new, resource_version(&old))
        .await
        .map_err(|e| {
            if e.code == 409 {
                store_err(key, crate::store::StoreError::Conflict { current: 0 })
            } else {
                e
            }
        })?;
    Ok(json(200, &scale_of(r, &stored)))
}
