//! Table cases: kubectl's columns for built-in kinds, CRD printer columns, includeObject.
use serde_json::{json, Value};

use super::*;
use crate::Registry;

const NOW: i64 = 1_700_000_000; // 2023-11-14T22:13:20Z

fn table(kind: (&str, &str), objs: &[Value], wide: bool, include: IncludeObject) -> Value {
    let reg = Registry::builtin();
    let info = reg.by_kind(kind.0, "v1", kind.1).expect("kind").clone();
    to_table_with(&info, objs, wide, include, NOW)
}

fn cells(t: &Value) -> &[Value] {
    t["rows"][0]["cells"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn names(t: &Value) -> Vec<&str> {
    t["columnDefinitions"]
        .as_array()
        .expect("cols")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect()
}

#[test]
fn pod_columns_and_cells() {
    let pod = json!({"metadata": {"name": "p", "namespace": "d", "creationTimestamp": "2023-11-14T22:08:20Z"},
        "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "n1"},
        "status": {"phase": "Running", "podIP": "10.0.0.1", "containerStatuses": [
            {"name": "a", "ready": true, "restartCount": 2, "state": {"running": {}}},
            {"name": "b", "ready": false, "restartCount": 1, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
    let t = table(
        ("", "Pod"),
        std::slice::from_ref(&pod),
        false,
        IncludeObject::Metadata,
    );
    assert_eq!(t["kind"], "Table");
    assert_eq!(names(&t), ["Name", "Ready", "Status", "Restarts", "Age"]);
    assert_eq!(
        t["rows"][0]["cells"],
        json!(["p", "1/2", "CrashLoopBackOff", "3", "5m"])
    );
    assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(t["rows"][0]["object"]["metadata"]["namespace"], "d");
    assert_eq!(t["columnDefinitions"][0]["format"], "name");
    let wide = table(("", "Pod"), &[pod], true, IncludeObject::None);
    assert_eq!(
        names(&wide)[5..],
        ["IP", "Node", "Nominated Node", "Readiness Gates"]
    );
    assert_eq!(
        cells(&wide)[5..],
        json!(["10.0.0.1", "n1", "<none>", "<none>"])
            .as_array()
            .expect("a")[..]
    );
    assert!(wide["rows"][0].get("object").is_none());
}

#[test]
fn deployment_and_service_columns() {
    let d = json!({"metadata": {"name": "web", "creationTimestamp": "2023-11-13T22:13:20Z"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "tier": "fe"}},
                 "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1"}]}}},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
    let reg = Registry::builtin();
    let info = reg.by_kind("apps", "v1", "Deployment").expect("d");
    let t = to_table_with(info, &[d], true, IncludeObject::Object, NOW);
    assert_eq!(
        names(&t),
        [
            "Name",
            "Ready",
            "Up-to-date",
            "Available",
            "Age",
            "Containers",
            "Images",
            "Selector"
        ]
    );
    assert_eq!(
        t["rows"][0]["cells"],
        json!([
            "web",
            "2/3",
            3,
            2,
            "24h",
            "nginx",
            "nginx:1",
            "app=web,tier=fe"
        ])
    );
    assert_eq!(t["rows"][0]["object"]["spec"]["replicas"], 3);
    let svc = json!({"metadata": {"name": "s"}, "spec": {"type": "NodePort", "clusterIP": "10.96.0.5",
        "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}});
    let t = table(("", "Service"), &[svc], false, IncludeObject::None);
    assert_eq!(
        names(&t),
        [
            "Name",
            "Type",
            "Cluster-IP",
            "External-IP",
            "Port(s)",
            "Age"
        ]
    );
    assert_eq!(
        t["rows"][0]["cells"],
        json!([
            "s",
            "NodePort",
            "10.96.0.5",
            "<none>",
            "80:30080/TCP,53/UDP",
            "<unknown>"
        ])
    );
}

#[test]
fn configmap_secret_namespace_job() {
    let t = table(
        ("", "ConfigMap"),
        &[json!({"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}})],
        false,
        IncludeObject::None,
    );
    assert_eq!(t["rows"][0]["cells"], json!(["c", 2, "<unknown>"]));
    let t = table(
        ("", "Secret"),
        &[
            json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}}),
        ],
        false,
        IncludeObject::None,
    );
    assert_eq!(names(&t), ["Name", "Type", "Data", "Age"]);
    assert_eq!(
        cells(&t)[1..3],
        json!(["kubernetes.io/tls", 2]).as_array().expect("a")[..]
    );
    let t = table(
        ("", "Namespace"),
        &[json!({"metadata": {"name": "default"}, "status": {"phase": "Active"}})],
        false,
        IncludeObject::None,
    );
    assert_eq!(
        cells(&t)[..2],
        json!(["default", "Active"]).as_array().expect("a")[..]
    );
    let reg = Registry::builtin();
    let job = json!({"metadata": {"name": "j"}, "spec": {"completions": 1},
        "status": {"succeeded": 1, "startTime": "2023-11-14T22:00:00Z", "completionTime": "2023-11-14T22:00:30Z",
                   "conditions": [{"type": "Complete", "status": "True"}]}});
    let t = to_table_with(
        reg.by_kind("batch", "v1", "Job").expect("job"),
        &[job],
        false,
        IncludeObject::None,
        NOW,
    );
    assert_eq!(
        names(&t),
        ["Name", "Status", "Completions", "Duration", "Age"]
    );
    assert_eq!(
        cells(&t)[..4],
        json!(["j", "Complete", "1/1", "30s"])
            .as_array()
            .expect("a")[..]
    );
}

#[test]
fn crd_printer_columns_and_default_table() {
    let mut reg = Registry::builtin();
    reg.add_crd(&json!({"metadata": {"name": "ws.x.io"}, "spec": {"group": "x.io", "scope": "Namespaced",
        "names": {"plural": "ws", "kind": "W"}, "versions": [{"name": "v1", "served": true, "storage": true,
        "additionalPrinterColumns": [
            {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
            {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
            {"name": "Detail", "type": "string", "jsonPath": ".spec.detail", "priority": 1},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]}]}}))
        .expect("crd");
    let w = json!({"metadata": {"name": "w1", "creationTimestamp": "2023-11-14T22:12:20Z"}, "spec": {"size": 3},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
    let info = reg.by_kind("x.io", "v1", "W").expect("w");
    let t = to_table_with(
        info,
        std::slice::from_ref(&w),
        false,
        IncludeObject::Metadata,
        NOW,
    );
    assert_eq!(names(&t), ["Name", "Size", "Ready", "Age"]);
    assert_eq!(t["rows"][0]["cells"], json!(["w1", 3, "True", "60s"]));
    let t = to_table_with(info, &[w], true, IncludeObject::Metadata, NOW);
    assert_eq!(
        t["rows"][0]["cells"][3],
        Value::Null,
        "missing values are null cells"
    );
    let crd = reg
        .by_kind("apiextensions.k8s.io", "v1", "CustomResourceDefinition")
        .expect("crd");
    let t = to_table_with(
        crd,
        &[json!({"metadata": {"name": "ws.x.io", "creationTimestamp": "2023-11-14T22:12:20Z"}})],
        false,
        IncludeObject::None,
        NOW,
    );
    assert_eq!(names(&t), ["Name", "Created At"]);
    assert_eq!(
        t["rows"][0]["cells"],
        json!(["ws.x.io", "2023-11-14T22:12:20Z"])
    );
}
