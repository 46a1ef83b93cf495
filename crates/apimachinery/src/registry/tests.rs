//! Registry cases: built-in discovery data, CRD versions, scope and names, version priority.
use serde_json::json;

use super::*;

fn crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget",
                      "shortNames": ["wd"], "categories": ["all"]},
            "versions": [
                {"name": "v1beta1", "served": true, "storage": false,
                 "schema": {"openAPIV3Schema": {"type": "object"}}},
                {"name": "v1", "served": true, "storage": true,
                 "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                    "statusReplicasPath": ".status.replicas"}},
                 "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}],
                 "schema": {"openAPIV3Schema": {"type": "object"}}},
                {"name": "v2alpha1", "served": false, "storage": false}
            ]
        }
    })
}

#[test]
fn builtin_names_match_discovery() {
    let reg = Registry::builtin();
    let d = reg.resolve("apps", "v1", "deploy").expect("deploy");
    assert_eq!(d.plural, "deployments");
    assert_eq!(d.singular, "deployment");
    assert_eq!(d.categories, ["all"]);
    let scale = d.subresources.scale.as_ref().expect("scale");
    assert_eq!(scale.spec_replicas_path, ".spec.replicas");
    assert!(d.subresources.status);
    let ns = reg.by_kind("", "v1", "Namespace").expect("ns");
    assert!(!ns.namespaced);
    assert!(!ns.verbs.contains(&"deletecollection".to_string()));
    assert_eq!(
        reg.resolve("", "v1", "po").map(|r| r.kind.as_str()),
        Some("Pod")
    );
    assert_eq!(
        reg.resolve("apiextensions.k8s.io", "v1", "crds")
            .map(|r| r.plural.as_str()),
        Some("customresourcedefinitions")
    );
    assert_eq!(reg.preferred_version("autoscaling").as_deref(), Some("v2"));
    assert!(reg.by_kind("events.k8s.io", "v1", "Event").is_some());
    assert!(reg
        .by_kind("", "v1", "Pod")
        .and_then(|p| p.schema.as_ref())
        .is_some());
    let groups = reg.groups();
    assert_eq!(groups[0].0, "");
    assert_eq!(groups[1].0, "apiregistration.k8s.io");
}

#[test]
fn crd_versions_and_removal() {
    let mut reg = Registry::builtin();
    let added = reg.add_crd(&crd()).expect("crd");
    assert_eq!(added.len(), 2, "v2alpha1 is not served");
    assert_eq!(added[0].version, "v1");
    assert!(added[0].preferred && added[0].storage);
    assert!(!added[1].preferred);
    assert_eq!(reg.preferred_version("example.com").as_deref(), Some("v1"));
    let w = reg.resolve("example.com", "v1", "wd").expect("short name");
    assert_eq!(w.printer_columns[0].json_path, ".spec.size");
    assert!(w.subresources.status && w.subresources.scale.is_some());
    assert!(w.custom && w.namespaced);
    assert!(reg.resolve("example.com", "v1beta1", "Widget").is_some());
    reg.remove_crd("widgets.example.com");
    assert!(reg.resolve("example.com", "v1", "widgets").is_none());
    assert!(reg.groups().iter().all(|(g, _)| g != "example.com"));
}

#[test]
fn crd_without_scope_is_refused() {
    let mut c = crd();
    c["spec"]["scope"] = json!("Galaxy");
    assert!(matches!(
        Registry::builtin().add_crd(&c),
        Err(Error::BadRequest(_))
    ));
}

#[test]
fn version_priority_orders_like_kubernetes() {
    let mut v = vec![
        "v1alpha1",
        "foo",
        "v2",
        "v1beta2",
        "v1",
        "v1beta1",
        "v10",
        "v11alpha2",
    ];
    v.sort_by_key(|x| std::cmp::Reverse(version_priority(x)));
    assert_eq!(
        v,
        [
            "v10",
            "v2",
            "v1",
            "v1beta2",
            "v1beta1",
            "v11alpha2",
            "v1alpha1",
            "foo"
        ]
    );
}

#[test]
fn subresources_in_discovery() {
    let reg = Registry::builtin();
    let d = reg
        .by_kind("apps", "v1", "Deployment")
        .expect("d")
        .subresource_discovery();
    let scale = d.iter().find(|s| s.name == "scale").expect("scale");
    assert_eq!(
        (
            scale.group.as_str(),
            scale.version.as_str(),
            scale.kind.as_str()
        ),
        ("autoscaling", "v1", "Scale")
    );
    assert_eq!(scale.verbs, ["get", "patch", "update"]);
    let pods = reg
        .by_kind("", "v1", "Pod")
        .expect("pod")
        .subresource_discovery();
    let names: Vec<&str> = pods.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "attach",
            "binding",
            "ephemeralcontainers",
            "eviction",
            "exec",
            "log",
            "portforward",
            "proxy",
            "resize",
            "status"
        ]
    );
    assert_eq!(pods[3].kind, "Eviction");
}
