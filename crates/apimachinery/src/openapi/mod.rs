//! OpenAPI documents: v2 (`/openapi/v2`), the v3 index (`/openapi/v3`) and the v3 document of
//! one group version (`/openapi/v3/apis/G/V`, `/openapi/v3/api/v1`), built from the built-in
//! definitions and the CRDs' schemas, with `x-kubernetes-group-version-kind` on definitions and
//! operations, so that `kubectl explain`, client-side `kubectl apply` (patch metadata) and
//! kubectl's field-validation check work.
use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::schema;
use crate::{Registry, ResourceInfo};

mod paths;

use paths::Flavor;

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
const ALWAYS: &[&str] = &[
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
    "io.k8s.api.autoscaling.v1.Scale",
];

/// The Kubernetes version the documents claim.
pub const KUBERNETES_VERSION: &str = "v1.32.0";

/// The definition name of a resource: the built-in one, or `com.example.v1.Widget` for a CRD.
pub fn definition_name(info: &ResourceInfo) -> String {
    if !info.custom {
        if let Some(d) = schema::builtin_definition(&info.gvk()) {
            return d.to_string();
        }
    }
    let mut parts: Vec<&str> = info.group.split('.').collect();
    parts.reverse();
    format!("{}.{}.{}", parts.join("."), info.version, info.kind)
}

fn gvk_ext(info: &ResourceInfo, kind: &str) -> Value {
    json!([{"group": info.group, "kind": kind, "version": info.version}])
}

/// The definition of a CRD version: its schema with apiVersion/kind/metadata and the GVK.
fn crd_definition(info: &ResourceInfo) -> Value {
    let mut d =
        info.schema.as_deref().cloned().unwrap_or_else(
            || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        );
    if let Some(m) = d.as_object_mut() {
        let props = m
            .entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let Some(props) = props {
            props.entry("apiVersion").or_insert_with(|| json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."}));
            props.entry("kind").or_insert_with(|| json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents."}));
            props.insert(
                "metadata".into(),
                json!({"$ref": format!("{}{OBJECT_META}", schema::REF_PREFIX)}),
            );
        }
        m.insert(
            "x-kubernetes-group-version-kind".into(),
            gvk_ext(info, &info.kind),
        );
    }
    d
}

fn list_definition(info: &ResourceInfo, def: &str) -> Value {
    json!({
        "description": format!("{}List is a list of {}", info.kind, info.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string"},
            "items": {"type": "array", "items": {"$ref": format!("{}{def}", schema::REF_PREFIX)}},
            "kind": {"type": "string"},
            "metadata": {"$ref": format!("{}{LIST_META}", schema::REF_PREFIX)}
        },
        "x-kubernetes-group-version-kind": gvk_ext(info, &format!("{}List", info.kind)),
    })
}

/// Definitions (v2 refs) for a set of resources, with everything they reference.
fn definitions_for<'a>(
    resources: impl Iterator<Item = &'a ResourceInfo>,
    all_builtin: bool,
) -> Map<String, Value> {
    let builtin = schema::definitions();
    let mut out = Map::new();
    let mut queue: Vec<String> = ALWAYS.iter().map(|s| s.to_string()).collect();
    queue.push(OBJECT_META.into());
    queue.push(LIST_META.into());
    if all_builtin {
        queue.extend(builtin.keys().cloned());
    }
    for info in resources {
        let def = definition_name(info);
        if info.custom {
            out.insert(def.clone(), crd_definition(info));
        } else {
            queue.push(def.clone());
        }
        out.insert(format!("{def}List"), list_definition(info, &def));
    }
    out.insert(
        "io.k8s.apimachinery.pkg.apis.meta.v1.Patch".into(),
        json!({"description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.", "type": "object"}),
    );
    let mut seen: BTreeSet<String> = out.keys().cloned().collect();
    let mut refs = Vec::new();
    for v in out.values() {
        collect_refs(v, &mut refs);
    }
    queue.extend(refs);
    while let Some(name) = queue.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(d) = builtin.get(&name) {
            let mut refs = Vec::new();
            collect_refs(d, &mut refs);
            queue.extend(refs);
            out.insert(name, d.clone());
        }
    }
    out
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                out.push(r.rsplit('/').next().unwrap_or_default().to_string());
            }
            m.values().for_each(|c| collect_refs(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| collect_refs(c, out)),
        _ => {}
    }
}

/// The OpenAPI v2 document.
pub fn v2(reg: &Registry) -> Value {
    let mut paths = Map::new();
    for info in reg.all() {
        paths::resource_paths(info, &definition_name(info), Flavor::V2, &mut paths);
    }
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
        "paths": paths,
        "definitions": definitions_for(reg.all(), true),
    })
}

/// The path of a group version in the v3 index: `api/v1` or `apis/apps/v1`.
pub fn group_version_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The `/openapi/v3` index: each group version with its document's URL (hash of its content).
pub fn v3_paths(reg: &Registry) -> Value {
    let mut paths = Map::new();
    for (group, versions) in reg.groups() {
        for version in versions {
            let Some(doc) = v3_group_version(reg, &group, &version) else {
                continue;
            };
            let gv = group_version_path(&group, &version);
            let hash = fnv_hex(doc.to_string().as_bytes());
            paths.insert(
                gv.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{gv}?hash={hash}")}),
            );
        }
    }
    json!({"paths": paths})
}

fn fnv_hex(bytes: &[u8]) -> String {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in bytes {
        h ^= u128::from(*b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    format!("{h:032X}")
}

/// The v3 document of one group version, `None` when the registry serves nothing there.
pub fn v3_group_version(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    let resources = reg.in_group_version(group, version);
    if resources.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    for info in &resources {
        paths::resource_paths(info, &definition_name(info), Flavor::V3, &mut paths);
    }
    let defs = definitions_for(resources.into_iter(), false);
    let schemas: Map<String, Value> = defs.into_iter().map(|(k, v)| (k, to_v3(v))).collect();
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

/// v2 schema → v3: refs under `#/components/schemas/`, a `$ref` with siblings wrapped in `allOf`.
fn to_v3(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out: Map<String, Value> = m.into_iter().map(|(k, c)| (k, to_v3(c))).collect();
            if let Some(Value::String(r)) = out.get("$ref").cloned() {
                let name = r.rsplit('/').next().unwrap_or_default();
                let r3 = json!({"$ref": format!("#/components/schemas/{name}")});
                if out.len() == 1 {
                    return r3;
                }
                out.remove("$ref");
                out.insert("allOf".into(), json!([r3]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(to_v3).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests;
