//! Printers of the other built-in kinds: services, config, cluster and RBAC objects, events.
use serde_json::{json, Value};

use super::*;
use crate::table::{age, col, name_of, Col, NAME};

pub(super) const SERVICE: &[Col] = &[
    NAME,
    col("Type", "string", 0),
    col("Cluster-IP", "string", 0),
    col("External-IP", "string", 0),
    col("Port(s)", "string", 0),
    col("Age", "string", 0),
    col("Selector", "string", 1),
];

pub(super) fn service(o: &Value, now: i64) -> Vec<Value> {
    let ty = match s(o, "/spec/type") {
        "" => "ClusterIP",
        t => t,
    };
    let ext_ips: Vec<&str> = arr(o, "/spec/externalIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let external = match ty {
        "ExternalName" => s(o, "/spec/externalName").to_string(),
        "LoadBalancer" => {
            let mut ips: Vec<String> = arr(o, "/status/loadBalancer/ingress")
                .iter()
                .filter_map(|i| {
                    i["ip"]
                        .as_str()
                        .or(i["hostname"].as_str())
                        .map(String::from)
                })
                .collect();
            ips.extend(ext_ips.iter().map(|s| s.to_string()));
            if ips.is_empty() {
                "<pending>".into()
            } else {
                ips.join(",")
            }
        }
        _ => or_none(ext_ips.join(",")),
    };
    let ports: Vec<String> = arr(o, "/spec/ports")
        .iter()
        .map(|p| {
            let proto = p["protocol"].as_str().unwrap_or("TCP");
            let port = p["port"].as_i64().unwrap_or(0);
            match p["nodePort"].as_i64().filter(|n| *n != 0) {
                Some(np) => format!("{port}:{np}/{proto}"),
                None => format!("{port}/{proto}"),
            }
        })
        .collect();
    vec![
        json!(name_of(o)),
        json!(ty),
        json!(or_none(s(o, "/spec/clusterIP").into())),
        json!(external),
        json!(or_none(ports.join(","))),
        created(o, now),
        json!(or_none(map_selector(o.pointer("/spec/selector")))),
    ]
}

pub(super) const DATA: &[Col] = &[NAME, col("Data", "string", 0), col("Age", "string", 0)];

pub(super) fn configmap(o: &Value, now: i64) -> Vec<Value> {
    vec![
        json!(name_of(o)),
        json!(len(o, "/data") + len(o, "/binaryData")),
        created(o, now),
    ]
}

pub(super) const SECRET: &[Col] = &[
    NAME,
    col("Type", "string", 0),
    col("Data", "string", 0),
    col("Age", "string", 0),
];

pub(super) fn secret(o: &Value, now: i64) -> Vec<Value> {
    let ty = match s(o, "/type") {
        "" => "Opaque",
        t => t,
    };
    vec![
        json!(name_of(o)),
        json!(ty),
        json!(len(o, "/data")),
        created(o, now),
    ]
}

pub(super) const NAMESPACE: &[Col] = &[NAME, col("Status", "string", 0), col("Age", "string", 0)];

pub(super) fn namespace(o: &Value, now: i64) -> Vec<Value> {
    let phase = match s(o, "/status/phase") {
        "" => "Active",
        p => p,
    };
    vec![json!(name_of(o)), json!(phase), created(o, now)]
}

pub(super) const NODE: &[Col] = &[
    NAME,
    col("Status", "string", 0),
    col("Roles", "string", 0),
    col("Age", "string", 0),
    col("Version", "string", 0),
    col("Internal-IP", "string", 1),
    col("External-IP", "string", 1),
    col("OS-Image", "string", 1),
    col("Kernel-Version", "string", 1),
    col("Container-Runtime", "string", 1),
];

pub(super) fn node(o: &Value, now: i64) -> Vec<Value> {
    let ready = arr(o, "/status/conditions")
        .iter()
        .find(|c| c["type"] == "Ready");
    let mut status = match ready.and_then(|c| c["status"].as_str()) {
        Some("True") => "Ready".to_string(),
        Some(_) => "NotReady".to_string(),
        None => "Unknown".to_string(),
    };
    if o.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push_str(",SchedulingDisabled");
    }
    let mut roles: Vec<String> = o
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.keys()
                .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/").map(String::from))
                .filter(|r| !r.is_empty())
                .collect()
        })
        .unwrap_or_default();
    roles.sort();
    let addr = |t: &str| {
        arr(o, "/status/addresses")
            .iter()
            .find(|a| a["type"] == t)
            .and_then(|a| a["address"].as_str())
            .unwrap_or("<none>")
            .to_string()
    };
    vec![
        json!(name_of(o)),
        json!(status),
        json!(or_none(roles.join(","))),
        created(o, now),
        json!(s(o, "/status/nodeInfo/kubeletVersion")),
        json!(addr("InternalIP")),
        json!(addr("ExternalIP")),
        json!(or_none(s(o, "/status/nodeInfo/osImage").into())),
        json!(or_none(s(o, "/status/nodeInfo/kernelVersion").into())),
        json!(or_none(
            s(o, "/status/nodeInfo/containerRuntimeVersion").into()
        )),
    ]
}

pub(super) const INGRESS: &[Col] = &[
    NAME,
    col("Class", "string", 0),
    col("Hosts", "string", 0),
    col("Address", "string", 0),
    col("Ports", "string", 0),
    col("Age", "string", 0),
];

pub(super) fn ingress(o: &Value, now: i64) -> Vec<Value> {
    let hosts: Vec<&str> = arr(o, "/spec/rules")
        .iter()
        .filter_map(|r| r["host"].as_str())
        .collect();
    let hosts = if hosts.is_empty() {
        "*".to_string()
    } else {
        hosts.join(",")
    };
    let addrs: Vec<&str> = arr(o, "/status/loadBalancer/ingress")
        .iter()
        .filter_map(|i| i["ip"].as_str().or(i["hostname"].as_str()))
        .collect();
    let ports = if arr(o, "/spec/tls").is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        json!(name_of(o)),
        json!(or_none(s(o, "/spec/ingressClassName").into())),
        json!(hosts),
        json!(addrs.join(",")),
        json!(ports),
        created(o, now),
    ]
}

pub(super) const NAME_AGE2: &[Col] = &[NAME, col("Age", "string", 0)];

pub(super) fn name_age(o: &Value, now: i64) -> Vec<Value> {
    vec![json!(name_of(o)), created(o, now)]
}

pub(super) const SERVICEACCOUNT: &[Col] =
    &[NAME, col("Secrets", "string", 0), col("Age", "string", 0)];

pub(super) fn serviceaccount(o: &Value, now: i64) -> Vec<Value> {
    vec![
        json!(name_of(o)),
        json!(len(o, "/secrets")),
        created(o, now),
    ]
}

pub(super) const ENDPOINTS: &[Col] =
    &[NAME, col("Endpoints", "string", 0), col("Age", "string", 0)];

pub(super) fn endpoints(o: &Value, now: i64) -> Vec<Value> {
    let mut eps = Vec::new();
    for sub in arr(o, "/subsets") {
        let ports: Vec<i64> = sub["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["port"].as_i64())
            .collect();
        for a in sub["addresses"].as_array().into_iter().flatten() {
            let ip = a["ip"].as_str().unwrap_or_default();
            if ports.is_empty() {
                eps.push(ip.to_string());
            }
            eps.extend(ports.iter().map(|p| format!("{ip}:{p}")));
        }
    }
    let shown = if eps.len() > 3 {
        format!("{} + {} more...", eps[..3].join(","), eps.len() - 3)
    } else {
        or_none(eps.join(","))
    };
    vec![json!(name_of(o)), json!(shown), created(o, now)]
}

pub(super) const NETPOL: &[Col] = &[
    NAME,
    col("Pod-Selector", "string", 0),
    col("Age", "string", 0),
];

pub(super) fn netpol(o: &Value, now: i64) -> Vec<Value> {
    let sel = label_selector(o.pointer("/spec/podSelector"));
    let sel = if sel == "<none>" { String::new() } else { sel };
    vec![json!(name_of(o)), json!(sel), created(o, now)]
}

pub(super) const BINDING: &[Col] = &[
    NAME,
    col("Role", "string", 0),
    col("Age", "string", 0),
    col("Users", "string", 1),
    col("Groups", "string", 1),
    col("ServiceAccounts", "string", 1),
];

pub(super) fn binding(o: &Value, now: i64) -> Vec<Value> {
    let subj = |k: &str| {
        let v: Vec<String> = arr(o, "/subjects")
            .iter()
            .filter(|s| s["kind"] == k)
            .map(|s| match (k, s["namespace"].as_str()) {
                ("ServiceAccount", Some(ns)) => {
                    format!("{ns}/{}", s["name"].as_str().unwrap_or_default())
                }
                _ => s["name"].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        json!(v.join(", "))
    };
    vec![
        json!(name_of(o)),
        json!(format!(
            "{}/{}",
            s(o, "/roleRef/kind"),
            s(o, "/roleRef/name")
        )),
        created(o, now),
        subj("User"),
        subj("Group"),
        subj("ServiceAccount"),
    ]
}

pub(super) const LEASE: &[Col] = &[NAME, col("Holder", "string", 0), col("Age", "string", 0)];

pub(super) fn lease(o: &Value, now: i64) -> Vec<Value> {
    vec![
        json!(name_of(o)),
        json!(s(o, "/spec/holderIdentity")),
        created(o, now),
    ]
}

pub(super) const WEBHOOKS: &[Col] = &[NAME, col("Webhooks", "integer", 0), col("Age", "string", 0)];

pub(super) fn webhooks(o: &Value, now: i64) -> Vec<Value> {
    vec![
        json!(name_of(o)),
        json!(len(o, "/webhooks")),
        created(o, now),
    ]
}

pub(super) const PVC: &[Col] = &[
    NAME,
    col("Status", "string", 0),
    col("Volume", "string", 0),
    col("Capacity", "string", 0),
    col("Access Modes", "string", 0),
    col("StorageClass", "string", 0),
    col("VolumeAttributesClass", "string", 0),
    col("Age", "string", 0),
    col("VolumeMode", "string", 1),
];

pub(super) fn pvc(o: &Value, now: i64) -> Vec<Value> {
    let phase = match s(o, "/status/phase") {
        "" => "Pending",
        p => p,
    };
    let modes: Vec<&str> = arr(o, "/status/accessModes")
        .iter()
        .filter_map(Value::as_str)
        .map(|m| match m {
            "ReadWriteOnce" => "RWO",
            "ReadOnlyMany" => "ROX",
            "ReadWriteMany" => "RWX",
            "ReadWriteOncePod" => "RWOP",
            other => other,
        })
        .collect();
    vec![
        json!(name_of(o)),
        json!(phase),
        json!(s(o, "/spec/volumeName")),
        json!(s(o, "/status/capacity/storage")),
        json!(modes.join(",")),
        json!(s(o, "/spec/storageClassName")),
        json!(or_none(s(o, "/spec/volumeAttributesClassName").into())),
        created(o, now),
        json!(match s(o, "/spec/volumeMode") {
            "" => "Filesystem",
            m => m,
        }),
    ]
}

pub(super) const STORAGECLASS: &[Col] = &[
    NAME,
    col("Provisioner", "string", 0),
    col("ReclaimPolicy", "string", 0),
    col("VolumeBindingMode", "string", 0),
    col("AllowVolumeExpansion", "string", 0),
    col("Age", "string", 0),
];

pub(super) fn storageclass(o: &Value, now: i64) -> Vec<Value> {
    let mut name = name_of(o).to_string();
    let default = o.pointer("/metadata/annotations/storageclass.kubernetes.io~1is-default-class");
    if default.and_then(Value::as_str) == Some("true") {
        name.push_str(" (default)");
    }
    vec![
        json!(name),
        json!(s(o, "/provisioner")),
        json!(match s(o, "/reclaimPolicy") {
            "" => "Delete",
            p => p,
        }),
        json!(match s(o, "/volumeBindingMode") {
            "" => "Immediate",
            m => m,
        }),
        json!(o
            .pointer("/allowVolumeExpansion")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            .to_string()),
        created(o, now),
    ]
}

pub(super) const PRIORITYCLASS: &[Col] = &[
    NAME,
    col("Value", "integer", 0),
    col("Global-Default", "boolean", 0),
    col("Age", "string", 0),
    col("PreemptionPolicy", "string", 0),
];

pub(super) fn priorityclass(o: &Value, now: i64) -> Vec<Value> {
    vec![
        json!(name_of(o)),
        json!(i(o, "/value")),
        json!(o
            .pointer("/globalDefault")
            .and_then(Value::as_bool)
            .unwrap_or(false)),
        created(o, now),
        json!(match s(o, "/preemptionPolicy") {
            "" => "PreemptLowerPriority",
            p => p,
        }),
    ]
}

pub(super) const INGRESSCLASS: &[Col] = &[
    NAME,
    col("Controller", "string", 0),
    col("Parameters", "string", 0),
    col("Age", "string", 0),
];

pub(super) fn ingressclass(o: &Value, now: i64) -> Vec<Value> {
    let params = match o.pointer("/spec/parameters") {
        Some(p) => {
            let g = p["apiGroup"]
                .as_str()
                .map(|g| format!(".{g}"))
                .unwrap_or_default();
            format!(
                "{}{g}/{}",
                p["kind"].as_str().unwrap_or_default(),
                p["name"].as_str().unwrap_or_default()
            )
        }
        None => "<none>".into(),
    };
    vec![
        json!(name_of(o)),
        json!(s(o, "/spec/controller")),
        json!(params),
        created(o, now),
    ]
}

pub(super) const EVENT: &[Col] = &[
    col("Last Seen", "string", 0),
    col("Type", "string", 0),
    col("Reason", "string", 0),
    col("Object", "string", 0),
    col("Subobject", "string", 1),
    col("Source", "string", 1),
    col("Message", "string", 0),
    col("First Seen", "string", 1),
    col("Count", "string", 1),
    Col {
        priority: 1,
        ..NAME
    },
];

pub(super) fn event(o: &Value, now: i64) -> Vec<Value> {
    let last = o
        .pointer("/lastTimestamp")
        .or_else(|| o.pointer("/eventTime"))
        .or_else(|| o.pointer("/metadata/creationTimestamp"));
    let first = o
        .pointer("/firstTimestamp")
        .or_else(|| o.pointer("/eventTime"));
    let obj = format!(
        "{}/{}",
        s(o, "/involvedObject/kind").to_ascii_lowercase(),
        s(o, "/involvedObject/name")
    );
    vec![
        json!(age(last, now)),
        json!(s(o, "/type")),
        json!(s(o, "/reason")),
        json!(obj),
        json!(s(o, "/involvedObject/fieldPath")),
        json!(s(o, "/source/component")),
        json!(s(o, "/message").trim()),
        json!(age(first, now)),
        json!(o.pointer("/count").and_then(Value::as_i64).unwrap_or(1)),
        json!(name_of(o)),
    ]
}
