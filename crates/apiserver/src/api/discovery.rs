//! Discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/G`, `/apis/G/V`, aggregated
//! discovery v2 (`as=APIGroupDiscoveryList`), and the OpenAPI documents.
use axum::response::Response;
use flotilla_apimachinery::{Registry, ResourceInfo};
use serde_json::{json, Value};

use super::{error, json, json_as};
use crate::clusters::{Cluster, State};
use crate::status::ApiError;

const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// The `/version` document.
pub(crate) fn version() -> Value {
    json!({
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-flotilla", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.0", "compiler": "gc",
        "platform": "linux/amd64"
    })
}

fn gv(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn group_doc(name: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": gv(name, v), "version": v}))
        .collect();
    json!({"name": name, "versions": vs, "preferredVersion": vs.first().cloned().unwrap_or(Value::Null)})
}

fn resource_list(resources: &[ResourceInfo], group: &str, version: &str) -> Value {
    let mut out = Vec::new();
    for r in resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        let mut v = json!({
            "name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind, "verbs": r.verbs,
        });
        if !r.short_names.is_empty() {
            v["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            v["categories"] = json!(r.categories);
        }
        out.push(v);
        if r.subresources.status {
            out.push(json!({"name": format!("{}/status", r.plural), "singularName": "", "namespaced": r.namespaced, "kind": r.kind, "verbs": ["get", "patch", "update"]}));
        }
        if r.subresources.scale.is_some() {
            out.push(json!({"name": format!("{}/scale", r.plural), "singularName": "", "namespaced": r.namespaced, "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}));
        }
    }
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv(group, version), "resources": out})
}

fn aggregated(resources: &[ResourceInfo], groups: &[(String, Vec<String>)]) -> Value {
    let items: Vec<Value> = groups
        .iter()
        .map(|(g, versions)| {
            let vs: Vec<Value> = versions
                .iter()
                .map(|v| {
                    let rs: Vec<Value> = resources
                        .iter()
                        .filter(|r| r.group == *g && r.version == *v)
                        .map(|r| {
                            let kind = json!({"group": g, "version": v, "kind": r.kind});
                            let mut subs = Vec::new();
                            if r.subresources.status {
                                subs.push(json!({"subresource": "status", "responseKind": kind, "verbs": ["get", "patch", "update"]}));
                            }
                            if r.subresources.scale.is_some() {
                                subs.push(json!({"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": ["get", "patch", "update"]}));
                            }
                            let mut x = json!({
                                "resource": r.plural, "responseKind": kind, "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                                "singularResource": r.singular, "verbs": r.verbs,
                            });
                            if !r.short_names.is_empty() {
                                x["shortNames"] = json!(r.short_names);
                            }
                            if !r.categories.is_empty() {
                                x["categories"] = json!(r.categories);
                            }
                            if !subs.is_empty() {
                                x["subresources"] = Value::Array(subs);
                            }
                            x
                        })
                        .collect();
                    json!({"version": v, "resources": rs, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": g, "creationTimestamp": null}, "versions": vs})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

/// A registry of everything a cluster serves (for the OpenAPI documents).
fn combined(state: &State, cluster: &Cluster) -> Registry {
    let mut reg = (*state.builtin).clone();
    if let Some(c) = cluster.crds() {
        for r in c.all() {
            reg.insert(r.clone());
        }
    }
    reg
}

/// Serves a discovery path, or None when `path` is not one.
pub(crate) fn handle(
    state: &State,
    cluster: &Cluster,
    path: &str,
    accept: &str,
) -> Option<Response> {
    let wants_aggregated = accept.contains("g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let resources = || state.resources(cluster);
    let groups = || state.groups(cluster);
    Some(match segs.as_slice() {
        ["api"] => {
            if wants_aggregated {
                let core: Vec<_> = groups().into_iter().filter(|(g, _)| g.is_empty()).collect();
                json_as(200, &aggregated(&resources(), &core), AGGREGATED)
            } else {
                json(
                    200,
                    &json!({"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": state.server_url.trim_start_matches("https://")}]}),
                )
            }
        }
        ["apis"] => {
            let gs: Vec<_> = groups()
                .into_iter()
                .filter(|(g, _)| !g.is_empty())
                .collect();
            if wants_aggregated {
                json_as(200, &aggregated(&resources(), &gs), AGGREGATED)
            } else {
                let docs: Vec<Value> = gs.iter().map(|(g, v)| group_doc(g, v)).collect();
                json(
                    200,
                    &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": docs}),
                )
            }
        }
        ["api", "v1"] => json(200, &resource_list(&resources(), "", "v1")),
        ["apis", g] => match groups().into_iter().find(|(n, _)| n == g) {
            Some((n, v)) => {
                let mut d = group_doc(&n, &v);
                d["kind"] = json!("APIGroup");
                d["apiVersion"] = json!("v1");
                json(200, &d)
            }
            None => error(&ApiError::no_route()),
        },
        ["apis", g, v] => {
            if groups()
                .iter()
                .any(|(n, vs)| n == g && vs.iter().any(|x| x == v))
            {
                json(200, &resource_list(&resources(), g, v))
            } else {
                error(&ApiError::no_route())
            }
        }
        ["openapi", "v2"] => json(
            200,
            &crate::machinery::openapi::v2(&combined(state, cluster)),
        ),
        ["openapi", "v3"] => json(
            200,
            &crate::machinery::openapi::v3_paths(&combined(state, cluster)),
        ),
        ["openapi", "v3", "api", v] => {
            match crate::machinery::openapi::v3_group_version(&combined(state, cluster), "", v) {
                Some(doc) => json(200, &doc),
                None => error(&ApiError::no_route()),
            }
        }
        ["openapi", "v3", "apis", g, v] => {
            match crate::machinery::openapi::v3_group_version(&combined(state, cluster), g, v) {
                Some(doc) => json(200, &doc),
                None => error(&ApiError::no_route()),
            }
        }
        _ => return None,
    })
}
