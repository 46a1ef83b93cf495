//! Printer columns and cells of the built-in kinds, after kube-apiserver 1.32's
//! `pkg/printers/internalversion/printers.go`.
use serde_json::{json, Value};

use super::{age, Col};

mod others;
mod workloads;

use others::*;
use workloads::*;

pub(super) type Cells = fn(&Value, i64) -> Vec<Value>;

pub(super) fn s<'a>(o: &'a Value, p: &str) -> &'a str {
    o.pointer(p).and_then(Value::as_str).unwrap_or_default()
}

pub(super) fn i(o: &Value, p: &str) -> i64 {
    o.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

pub(super) fn arr<'a>(o: &'a Value, p: &str) -> &'a [Value] {
    o.pointer(p)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub(super) fn len(o: &Value, p: &str) -> i64 {
    o.pointer(p)
        .map(|v| match v {
            Value::Object(m) => m.len(),
            Value::Array(a) => a.len(),
            _ => 0,
        })
        .unwrap_or(0) as i64
}

pub(super) fn or_none(s: String) -> String {
    if s.is_empty() {
        "<none>".into()
    } else {
        s
    }
}

pub(super) fn created(o: &Value, now: i64) -> Value {
    json!(age(o.pointer("/metadata/creationTimestamp"), now))
}

/// `labels.SelectorFromSet(...).String()`: `k=v` pairs sorted by key.
pub(super) fn map_selector(o: Option<&Value>) -> String {
    let mut pairs: Vec<String> = o
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    pairs.join(",")
}

/// `metav1.FormatLabelSelector`.
pub(super) fn label_selector(sel: Option<&Value>) -> String {
    let Some(sel) = sel else {
        return "<none>".into();
    };
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in m {
            reqs.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or_default())));
        }
    }
    for e in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let k = e["key"].as_str().unwrap_or_default();
        let mut vals: Vec<&str> = e["values"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        vals.sort();
        let r = match e["operator"].as_str().unwrap_or_default() {
            "In" => format!("{k} in ({})", vals.join(",")),
            "NotIn" => format!("{k} notin ({})", vals.join(",")),
            "Exists" => k.to_string(),
            "DoesNotExist" => format!("!{k}"),
            _ => continue,
        };
        reqs.push((k.to_string(), r));
    }
    reqs.sort();
    let out: Vec<String> = reqs.into_iter().map(|(_, r)| r).collect();
    if out.is_empty() {
        "<none>".into()
    } else {
        out.join(",")
    }
}

pub(super) fn containers_images(o: &Value, p: &str) -> (Value, Value) {
    let cs = arr(o, p);
    let names: Vec<&str> = cs.iter().filter_map(|c| c["name"].as_str()).collect();
    let images: Vec<&str> = cs.iter().filter_map(|c| c["image"].as_str()).collect();
    (json!(names.join(",")), json!(images.join(",")))
}

/// The printer of a built-in kind (`None`: the default Name / Created At table).
pub(super) fn printer(kind: &str, group: &str) -> Option<(&'static [Col], Cells)> {
    Some(match (group, kind) {
        ("", "Pod") => (POD, pod),
        ("apps", "Deployment") => (DEPLOYMENT, deployment),
        ("apps", "ReplicaSet") | ("", "ReplicationController") => (REPLICASET, replicaset),
        ("apps", "StatefulSet") => (STATEFULSET, statefulset),
        ("apps", "DaemonSet") => (DAEMONSET, daemonset),
        ("", "Service") => (SERVICE, service),
        ("", "ConfigMap") => (DATA, configmap),
        ("", "Secret") => (SECRET, secret),
        ("", "Namespace") => (NAMESPACE, namespace),
        ("", "Node") => (NODE, node),
        ("batch", "Job") => (JOB, job),
        ("batch", "CronJob") => (CRONJOB, cronjob),
        ("networking.k8s.io", "Ingress") => (INGRESS, ingress),
        ("networking.k8s.io", "IngressClass") => (INGRESSCLASS, ingressclass),
        ("networking.k8s.io", "NetworkPolicy") => (NETPOL, netpol),
        ("", "ServiceAccount") => (SERVICEACCOUNT, serviceaccount),
        ("", "Endpoints") => (ENDPOINTS, endpoints),
        ("", "Event") => (EVENT, event),
        ("", "PersistentVolumeClaim") => (PVC, pvc),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => (BINDING, binding),
        ("coordination.k8s.io", "Lease") => (LEASE, lease),
        ("admissionregistration.k8s.io", _) => (WEBHOOKS, webhooks),
        ("storage.k8s.io", "StorageClass") => (STORAGECLASS, storageclass),
        ("scheduling.k8s.io", "PriorityClass") => (PRIORITYCLASS, priorityclass),
        ("", "ResourceQuota" | "PodTemplate") | ("apps", "ControllerRevision") => {
            (NAME_AGE2, name_age)
        }
        _ => return None,
    })
}
