//! OpenAPI documents: the machinery's, or — while it has none — minimal v3 documents that
//! name every resource's operations with `x-kubernetes-group-version-kind` and their query
//! parameters, which is what kubectl reads to use server-side field validation.
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use flotilla_apimachinery::Registry;
use serde_json::{json, Map, Value};

pub use flotilla_apimachinery::openapi::v2;

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The `/openapi/v3` index.
pub fn v3_paths(reg: &Registry) -> Value {
    let doc = flotilla_apimachinery::openapi::v3_paths(reg);
    if doc["paths"].as_object().is_some_and(|p| !p.is_empty()) {
        return doc;
    }
    let mut paths = Map::new();
    for (group, versions) in reg.groups() {
        for v in versions {
            let p = gv_path(&group, &v);
            let hash = v3_group_version(reg, &group, &v)
                .map(|d| hash_of(&d))
                .unwrap_or_default();
            paths.insert(
                p.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={hash}")}),
            );
        }
    }
    json!({"paths": paths})
}

fn hash_of(v: &Value) -> String {
    let mut h = DefaultHasher::new();
    v.to_string().hash(&mut h);
    format!("{:016X}", h.finish())
}

/// The document of one group version.
pub fn v3_group_version(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    if let Some(doc) = flotilla_apimachinery::openapi::v3_group_version(reg, group, version) {
        return Some(doc);
    }
    let resources: Vec<_> = reg
        .all()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if resources.is_empty() {
        return None;
    }
    let query = |names: &[&str]| -> Vec<Value> {
        names.iter().map(|n| json!({"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": true}})).collect()
    };
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for r in resources {
        let base = format!("/{}", gv_path(group, version));
        let coll = if r.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", r.plural)
        } else {
            format!("{base}/{}", r.plural)
        };
        let gvk = json!({"group": group, "version": version, "kind": r.kind});
        let op = |action: &str, params: Vec<Value>| {
            json!({"operationId": format!("{action}{}", r.kind), "x-kubernetes-action": action,
                   "x-kubernetes-group-version-kind": gvk, "parameters": params,
                   "responses": {"200": {"description": "OK"}}})
        };
        let write = ["dryRun", "fieldManager", "fieldValidation"];
        paths.insert(
            coll.clone(),
            json!({"get": op("list", query(&["labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "watch"])),
                   "post": op("post", query(&write)),
                   "delete": op("deletecollection", query(&["labelSelector", "fieldSelector", "dryRun"]))}),
        );
        let mut subs = vec![String::new()];
        if r.subresources.status {
            subs.push("/status".into());
        }
        for sub in subs {
            paths.insert(
                format!("{coll}/{{name}}{sub}"),
                json!({"get": op("get", vec![]), "put": op("put", query(&write)),
                       "patch": op("patch", query(&["dryRun", "fieldManager", "fieldValidation", "force"])),
                       "delete": op("delete", query(&["dryRun", "propagationPolicy"]))}),
            );
        }
        let name = if group.is_empty() {
            format!("io.k8s.api.core.{version}.{}", r.kind)
        } else {
            format!("{group}.{version}.{}", r.kind)
        };
        let mut schema = r.schema.as_deref().cloned().unwrap_or_else(
            || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        );
        schema["x-kubernetes-group-version-kind"] = json!([gvk]);
        schemas.insert(name, schema);
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas}
    }))
}
