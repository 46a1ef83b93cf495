//! Simulated node agents for clusters that have none: the virtual clusters our provider
//! runs, and — under `flotilla up` — the embedded management cluster. No kubelet or
//! controller-manager runs there, so without this a Deployment would never become
//! available and every `wait: true` Kustomization would time out. Workloads get the status
//! they would have once their pods run: Deployments and StatefulSets with all replicas
//! ready at the current generation, DaemonSets scheduled on every Node, Jobs
//! Complete. Never started against a real cluster (`flotilla controllers` without
//! `--simulate-infrastructure`); only clusters our provider made are touched.
use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use serde_json::{json, Value};

use crate::capi::cluster::VIRTUAL_CLUSTER_ANNOTATION;

fn resource(group: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1", kind), plural)
}

/// The kinds whose readiness needs a status (a ReplicaSet's readiness check passes once it
/// exists, so it needs no watch: each watch is a connection per cluster).
const KINDS: [(&str, &str, &str); 4] = [
    ("apps", "Deployment", "deployments"),
    ("apps", "StatefulSet", "statefulsets"),
    ("apps", "DaemonSet", "daemonsets"),
    ("batch", "Job", "jobs"),
];

/// Runs the simulation for every virtual cluster of a provisioned Cluster (and for the
/// cluster `client` talks to when `local`) until the future is dropped.
pub async fn run(client: kube::Client, local: bool) {
    let mut guard = Tasks(HashMap::new());
    let tasks = &mut guard.0;
    if local {
        let c = client.clone();
        tasks.insert(
            String::new(),
            (
                String::new(),
                tokio::spawn(async move { workloads(c).await }),
            ),
        );
    }
    let clusters: Api<DynamicObject> =
        Api::all_with(client.clone(), &crate::capi::support::cluster_resource());
    let secrets: Api<DynamicObject> = Api::all_with(client.clone(), &crate::resources::secret());
    let labelled = ListParams::default().labels("cluster.x-k8s.io/cluster-name");
    loop {
        // Two requests a round, however many clusters: the Clusters, and every Cluster API
        // kubeconfig Secret.
        let kubeconfigs: HashMap<(String, String), String> = secrets
            .list(&labelled)
            .await
            .map(|l| {
                l.items
                    .into_iter()
                    .filter_map(|s| {
                        use base64::Engine;
                        let text = s.data.pointer("/data/value")?.as_str()?;
                        let bytes = base64::engine::general_purpose::STANDARD
                            .decode(text)
                            .ok()?;
                        Some((
                            (s.namespace()?, s.name_any()),
                            String::from_utf8(bytes).ok()?,
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if let Ok(list) = clusters.list(&ListParams::default()).await {
            let mut seen = Vec::new();
            for c in list.items {
                let ours = c.annotations().contains_key(VIRTUAL_CLUSTER_ANNOTATION);
                let provisioned =
                    c.data.pointer("/status/phase").and_then(Value::as_str) == Some("Provisioned");
                if !ours || !provisioned {
                    continue;
                }
                let ns = c.namespace().unwrap_or_default();
                let key = format!("{ns}/{}", c.name_any());
                let secret = flotilla_model::capi::kubeconfig_secret_name(&c.name_any());
                let Some(kubeconfig) = kubeconfigs.get(&(ns.clone(), secret)).cloned() else {
                    continue;
                };
                seen.push(key.clone());
                if tasks
                    .get(&key)
                    .is_some_and(|(k, t)| *k == kubeconfig && !t.is_finished())
                {
                    continue;
                }
                if let Some((_, old)) = tasks.remove(&key) {
                    old.abort();
                }
                match crate::capi::workload::client_from_kubeconfig(&kubeconfig).await {
                    Ok(wc) => {
                        tasks.insert(
                            key,
                            (kubeconfig, tokio::spawn(async move { workloads(wc).await })),
                        );
                    }
                    Err(e) => {
                        tracing::warn!(cluster = %key, error = %e, "simulated nodes: kubeconfig")
                    }
                }
            }
            tasks.retain(|k, (_, t)| {
                let keep = k.is_empty() || seen.contains(k);
                if !keep {
                    t.abort();
                }
                keep
            });
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The per-cluster tasks, aborted when [`run`] is dropped.
struct Tasks(HashMap<String, (String, tokio::task::JoinHandle<()>)>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for (_, t) in self.0.values() {
            t.abort();
        }
    }
}

/// Keeps the workloads of one cluster looking healthy.
async fn workloads(client: kube::Client) {
    let all = KINDS.iter().map(|(g, k, p)| {
        let client = client.clone();
        let ar = resource(g, k, p);
        async move {
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
            watcher(api, watcher::Config::default())
                .default_backoff()
                .applied_objects()
                .for_each(|obj| {
                    let client = client.clone();
                    let ar = ar.clone();
                    async move {
                        if let Ok(obj) = obj {
                            settle(&client, &ar, &obj).await;
                        }
                    }
                })
                .await;
        }
    });
    futures_util::future::join_all(all).await;
}

async fn settle(client: &kube::Client, ar: &ApiResource, obj: &DynamicObject) {
    let nodes = if ar.kind == "DaemonSet" {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource("", "Node", "nodes"));
        api.list(&ListParams::default())
            .await
            .map(|l| l.items.len() as i64)
            .unwrap_or(0)
    } else {
        0
    };
    let Some(want) = desired_status(
        &ar.kind,
        &serde_json::to_value(obj).unwrap_or(Value::Null),
        nodes,
    ) else {
        return;
    };
    let current = obj.data.get("status").cloned().unwrap_or(Value::Null);
    if covers(&current, &want) {
        return;
    }
    let ns = obj.namespace().unwrap_or_default();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, ar);
    if let Err(e) = api
        .patch_status(
            &obj.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({"status": want})),
        )
        .await
    {
        tracing::debug!(kind = %ar.kind, object = %obj.name_any(), error = %e, "simulated status");
    }
}

/// Whether every field of `want` already holds in `current` (conditions by type/status).
fn covers(current: &Value, want: &Value) -> bool {
    let Value::Object(w) = want else {
        return current == want;
    };
    w.iter().all(|(k, v)| match (k.as_str(), current.get(k)) {
        ("conditions", Some(Value::Array(have))) => v.as_array().is_some_and(|ws| {
            ws.iter().all(|c| {
                have.iter()
                    .any(|h| h.get("type") == c.get("type") && h.get("status") == c.get("status"))
            })
        }),
        (_, Some(have)) => have == v || (v.is_object() && covers(have, v)),
        (_, None) => false,
    })
}

/// The status a running workload of `kind` would report; `None` for kinds left alone.
pub fn desired_status(kind: &str, obj: &Value, nodes: i64) -> Option<Value> {
    let generation = obj
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let replicas = obj
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let now = flotilla_apimachinery::time::now_rfc3339();
    let cond = |t: &str, reason: &str, msg: &str| json!({"type": t, "status": "True", "reason": reason, "message": msg, "lastTransitionTime": now, "lastUpdateTime": now});
    match kind {
        "Deployment" => Some(json!({
            "observedGeneration": generation,
            "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [
                cond("Available", "MinimumReplicasAvailable", "Deployment has minimum availability."),
                cond("Progressing", "NewReplicaSetAvailable", "ReplicaSet has successfully progressed."),
            ],
        })),
        "ReplicaSet" => Some(json!({
            "observedGeneration": generation, "replicas": replicas,
            "fullyLabeledReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
        })),
        "StatefulSet" => {
            let revision = format!(
                "{}-simulated",
                obj.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
            );
            Some(json!({
                "observedGeneration": generation, "replicas": replicas, "readyReplicas": replicas,
                "currentReplicas": replicas, "updatedReplicas": replicas, "availableReplicas": replicas,
                "currentRevision": revision, "updateRevision": revision,
            }))
        }
        "DaemonSet" => Some(json!({
            "observedGeneration": generation, "desiredNumberScheduled": nodes,
            "currentNumberScheduled": nodes, "numberReady": nodes, "updatedNumberScheduled": nodes,
            "numberAvailable": nodes, "numberMisscheduled": 0,
        })),
        "Job" => {
            let completions = obj
                .pointer("/spec/completions")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            Some(json!({
                "succeeded": completions, "startTime": now, "completionTime": now,
                "conditions": [cond("Complete", "Completed", "Job completed (simulated).")],
            }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_status_satisfies_itself_and_not_a_scale_up() {
        let d = json!({"metadata": {"name": "web", "generation": 3}, "spec": {"replicas": 2}});
        let Some(s) = desired_status("Deployment", &d, 0) else {
            panic!("no status")
        };
        assert_eq!(s["availableReplicas"], 2);
        assert_eq!(s["observedGeneration"], 3);
        assert!(covers(&s, &s));
        let scaled = json!({"metadata": {"name": "web", "generation": 4}, "spec": {"replicas": 3}});
        let Some(s2) = desired_status("Deployment", &scaled, 0) else {
            panic!("no status")
        };
        assert!(!covers(&s, &s2));
        assert!(desired_status("ConfigMap", &d, 0).is_none());
    }
}
