//! Strategic merge patch as kube-apiserver applies it
//! (`k8s.io/apimachinery/pkg/util/strategicpatch`, `StrategicMergeMapPatch` with
//! `MergeParallelList` and `IgnoreUnmatchedNulls`): merge keys and patch strategies from the
//! built-in schemas, `$patch: replace|delete` (maps and list elements), `$retainKeys`,
//! `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>`, and `null` deleting a field.
//! Custom resources are refused (415), as kube-apiserver does.
use serde_json::{Map, Value};

use crate::schema::{self, Node};
use crate::{Error, Gvk, Registry};

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_PRIMITIVE: &str = "$deleteFromPrimitiveList/";
const SET_ORDER: &str = "$setElementOrder/";

/// kube-apiserver's 415 message for a strategic merge patch of a custom resource.
pub const UNSUPPORTED_FOR_CUSTOM: &str = "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";

/// Applies a strategic merge patch to `original`.
pub fn merge(original: &Value, patch: &Value, reg: &Registry, gvk: &Gvk) -> Result<Value, Error> {
    // Built-in kinds are known by their schema even to a registry that lacks them.
    let builtin = schema::builtin_definition(gvk);
    let custom = match reg.by_gvk(gvk) {
        Some(info) => info.custom,
        None => builtin.is_none(),
    };
    if custom {
        return Err(Error::UnsupportedMediaType(UNSUPPORTED_FOR_CUSTOM.into()));
    }
    let root = schema::root_for(reg, gvk);
    let (Value::Object(o), Value::Object(p)) = (original, patch) else {
        return Err(Error::BadRequest(
            "unable to find api field in struct: the patch is not a JSON object".into(),
        ));
    };
    merge_map(o.clone(), p.clone(), root).map(Value::Object)
}

fn bad(msg: String) -> Error {
    Error::BadRequest(msg)
}

/// `mergeMap`.
fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    node: Node<'_>,
) -> Result<Map<String, Value>, Error> {
    if let Some(d) = patch.get(DIRECTIVE) {
        return match d.as_str() {
            Some("replace") => {
                patch.remove(DIRECTIVE);
                discard_nulls_map(&mut patch);
                Ok(patch)
            }
            Some("delete") => Ok(Map::new()),
            _ => Err(bad(format!(
                "unknown patch type: {} in map: {}",
                plain(d),
                Value::Object(patch.clone())
            ))),
        };
    }
    if let Some(retain) = patch.remove(RETAIN_KEYS) {
        let keys: Vec<String> = match &retain {
            Value::Array(a) => a
                .iter()
                .filter_map(|k| k.as_str().map(String::from))
                .collect(),
            _ => return Err(bad(format!("invalid patch: {RETAIN_KEYS} must be a list"))),
        };
        for k in patch.keys() {
            if k.starts_with('$') {
                continue;
            }
            if !keys.contains(k) {
                return Err(bad(format!(
                    "{RETAIN_KEYS} must contain all the keys of the patch: {k} is missing"
                )));
            }
        }
        original.retain(|k, _| keys.contains(k));
    }
    // Directives on lists: delete from primitive lists first, then merge, then order.
    let keys: Vec<String> = patch.keys().cloned().collect();
    for k in &keys {
        if let Some(field) = k.strip_prefix(DELETE_PRIMITIVE) {
            let Some(Value::Array(del)) = patch.remove(k) else {
                return Err(bad(format!("invalid patch: {k} must be a list")));
            };
            if let Some(Value::Array(list)) = original.get_mut(field) {
                list.retain(|v| !del.contains(v));
            }
        }
    }
    let mut orders: Vec<(String, Vec<Value>)> = Vec::new();
    for k in &keys {
        if let Some(field) = k.strip_prefix(SET_ORDER) {
            match patch.remove(k) {
                Some(Value::Array(order)) => orders.push((field.to_string(), order)),
                _ => return Err(bad(format!("invalid patch: {k} must be a list"))),
            }
        }
    }
    let server_orders: Vec<(String, Option<Value>)> = orders
        .iter()
        .map(|(f, _)| (f.clone(), original.get(f).cloned()))
        .collect();
    for (k, pv) in patch {
        let field = node.field(&k).unwrap_or_else(Node::unknown);
        if pv.is_null() {
            original.remove(&k);
            continue;
        }
        let Some(ov) = original.remove(&k) else {
            original.insert(k, fresh(pv, field)?);
            continue;
        };
        let merged = match (ov, pv) {
            (Value::Object(om), Value::Object(pm)) => {
                if field.patch_strategy().split(',').any(|s| s == "replace") {
                    let mut pm = pm;
                    discard_nulls_map(&mut pm);
                    Value::Object(pm)
                } else {
                    Value::Object(merge_map(om, pm, field)?)
                }
            }
            (Value::Array(ol), Value::Array(pl)) => {
                if field.patch_strategy().split(',').any(|s| s == "merge") {
                    Value::Array(merge_list(ol, pl, field)?)
                } else {
                    let mut pl = pl;
                    pl.iter_mut().for_each(discard_nulls);
                    Value::Array(pl)
                }
            }
            (_, mut pv) => {
                discard_nulls(&mut pv);
                pv
            }
        };
        original.insert(k, merged);
    }
    for ((field, order), (_, server)) in orders.into_iter().zip(server_orders) {
        let key = node
            .field(&field)
            .and_then(|n| n.merge_key())
            .map(String::from);
        if let Some(Value::Array(list)) = original.remove(&field) {
            let server = match server {
                Some(Value::Array(s)) => s,
                _ => Vec::new(),
            };
            let sorted = order_list(list, &order, &server, key.as_deref());
            original.insert(field, Value::Array(sorted));
        }
    }
    Ok(original)
}

/// A patch value for a field the original lacks: nulls dropped, directives applied to nothing.
fn fresh(pv: Value, field: Node<'_>) -> Result<Value, Error> {
    match pv {
        Value::Object(pm) => Ok(Value::Object(merge_map(Map::new(), pm, field)?)),
        Value::Array(pl) if field.patch_strategy().split(',').any(|s| s == "merge") => {
            Ok(Value::Array(merge_list(Vec::new(), pl, field)?))
        }
        mut v => {
            discard_nulls(&mut v);
            Ok(v)
        }
    }
}

/// `mergeSlice` for a list with the `merge` strategy.
fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    node: Node<'_>,
) -> Result<Vec<Value>, Error> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let elem = node.items().unwrap_or_else(Node::unknown);
    let maps = original.iter().chain(&patch).any(Value::is_object);
    if !maps {
        let mut merged = original.clone();
        for v in &patch {
            if !merged.contains(v) {
                merged.push(v.clone());
            }
        }
        return Ok(order_list(merged, &patch, &original, None));
    }
    let Some(key) = node.merge_key() else {
        return Err(bad("cannot merge lists without merge key".into()));
    };
    // Special elements: `$patch: replace` replaces the list, `$patch: delete` deletes by key.
    let mut original = original;
    let mut plain_patch = Vec::new();
    for p in patch {
        match p.get(DIRECTIVE).and_then(Value::as_str) {
            Some("replace") => original.clear(),
            Some("delete") => {
                let Some(kv) = p.get(key).cloned() else {
                    return Err(bad(format!(
                        "map: {p} does not contain declared merge key: {key}"
                    )));
                };
                original.retain(|o| o.get(key) != Some(&kv));
            }
            Some("merge") => {
                return Err(bad(
                    "merging lists cannot yet be specified in the patch".into()
                ));
            }
            Some(other) => {
                return Err(bad(format!("unknown patch type: {other} in map: {p}")));
            }
            None => plain_patch.push(p),
        }
    }
    let server_order = original.clone();
    let mut merged = original;
    for p in &plain_patch {
        let Value::Object(pm) = p else {
            return Err(bad(format!(
                "invalid value in a list with merge key {key}: {p}"
            )));
        };
        let Some(kv) = pm.get(key) else {
            return Err(bad(format!(
                "map: {p} does not contain declared merge key: {key}"
            )));
        };
        match merged.iter().position(|o| o.get(key) == Some(kv)) {
            Some(i) => {
                let o = std::mem::take(&mut merged[i]);
                let om = match o {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                merged[i] = Value::Object(merge_map(om, pm.clone(), elem)?);
            }
            None => merged.push(Value::Object(merge_map(Map::new(), pm.clone(), elem)?)),
        }
    }
    Ok(order_list(merged, &plain_patch, &server_order, Some(key)))
}

fn identity<'v>(v: &'v Value, key: Option<&str>) -> Option<&'v Value> {
    match key {
        Some(k) => v.get(k),
        None => Some(v),
    }
}

fn index_in(list: &[Value], v: &Value, key: Option<&str>) -> Option<usize> {
    let id = identity(v, key)?;
    list.iter().position(|x| identity(x, key) == Some(id))
}

/// `normalizeElementOrder`: items named by `patch_order` come in its order, server-only items in
/// `server_order`'s, interleaved as `mergeSortedSlice` does.
fn order_list(
    merged: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: Option<&str>,
) -> Vec<Value> {
    let (mut in_patch, mut server_only): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|v| index_in(patch_order, v, key).is_some());
    in_patch.sort_by_key(|v| index_in(patch_order, v, key).unwrap_or(usize::MAX));
    server_only.sort_by_key(|v| index_in(server_order, v, key).unwrap_or(usize::MAX));
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(in_patch.len() + server_only.len());
    while i < server_only.len() || j < in_patch.len() {
        if i >= server_only.len() {
            out.push(in_patch[j].clone());
            j += 1;
        } else if j >= in_patch.len() {
            out.push(server_only[i].clone());
            i += 1;
        } else {
            let li = index_in(server_order, &server_only[i], key);
            let ri = index_in(server_order, &in_patch[j], key);
            match (li, ri) {
                (Some(l), Some(r)) if l < r => {
                    out.push(server_only[i].clone());
                    i += 1;
                }
                _ => {
                    out.push(in_patch[j].clone());
                    j += 1;
                }
            }
        }
    }
    out
}

fn discard_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => discard_nulls_map(m),
        Value::Array(a) => a.iter_mut().for_each(discard_nulls),
        _ => {}
    }
}

fn discard_nulls_map(m: &mut Map<String, Value>) {
    m.retain(|_, v| !v.is_null());
    m.values_mut().for_each(discard_nulls);
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
