//! Cases from the strategic merge patch semantics of `k8s.io/apimachinery` (merge keys,
//! directives, ordering), on built-in kinds.
use serde_json::{json, Value};

use super::*;

fn deploy(containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web", "tier": "fe"}, "finalizers": ["a", "b"]},
        "spec": {"replicas": 1, "template": {"spec": {"containers": containers}}}
    })
}

fn smp(orig: &Value, patch: Value) -> Result<Value, Error> {
    let reg = Registry::builtin();
    merge(orig, &patch, &reg, &Gvk::new("apps", "v1", "Deployment"))
}

fn containers(v: &Value) -> &Value {
    &v["spec"]["template"]["spec"]["containers"]
}

#[test]
fn containers_merge_by_name() {
    let o = deploy(json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]));
    let r = smp(
        &o,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "a:2"}]}}}}),
    )
    .expect("patch");
    assert_eq!(
        containers(&r),
        &json!([{"name": "a", "image": "a:2"}, {"name": "b", "image": "b:1"}])
    );
    // A new element is appended after the server's.
    let r = smp(
        &o,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "c"}]}}}}),
    )
    .expect("patch");
    let names: Vec<&str> = containers(&r)
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["c", "a", "b"],
        "patch items first unless both are in the live order"
    );
}

#[test]
fn delete_and_replace_directives_in_lists() {
    let o = deploy(json!([{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]));
    let r = smp(&o, json!({"spec": {"template": {"spec": {"containers": [{"name": "b", "$patch": "delete"}]}}}}))
        .expect("delete");
    assert_eq!(containers(&r), &json!([{"name": "a", "image": "a"}]));
    let r = smp(&o, json!({"spec": {"template": {"spec": {"containers": [{"name": "z", "image": "z"}, {"$patch": "replace"}]}}}}))
        .expect("replace");
    assert_eq!(containers(&r), &json!([{"name": "z", "image": "z"}]));
    let e = smp(
        &o,
        json!({"spec": {"template": {"spec": {"containers": [{"image": "nokey"}]}}}}),
    );
    assert!(
        matches!(e, Err(Error::BadRequest(m)) if m.contains("does not contain declared merge key: name"))
    );
}

#[test]
fn map_directives_and_null_deletes() {
    let o = deploy(json!([]));
    let r = smp(
        &o,
        json!({"metadata": {"labels": {"$patch": "replace", "only": "this"}}}),
    )
    .expect("replace");
    assert_eq!(r["metadata"]["labels"], json!({"only": "this"}));
    let r = smp(&o, json!({"metadata": {"labels": {"$patch": "delete"}}})).expect("delete");
    assert_eq!(r["metadata"]["labels"], json!({}));
    let r = smp(
        &o,
        json!({"metadata": {"labels": {"tier": null, "new": "x"}}, "spec": {"replicas": null}}),
    )
    .expect("nulls");
    assert_eq!(r["metadata"]["labels"], json!({"app": "web", "new": "x"}));
    assert!(r["spec"].get("replicas").is_none());
    let e = smp(&o, json!({"metadata": {"labels": {"$patch": "bogus"}}}));
    assert!(matches!(e, Err(Error::BadRequest(m)) if m.starts_with("unknown patch type: bogus")));
}

#[test]
fn primitive_merge_list_delete_and_order() {
    let o = deploy(json!([]));
    // finalizers: merge strategy without key → union, deduplicated.
    let r = smp(&o, json!({"metadata": {"finalizers": ["b", "c"]}})).expect("union");
    assert_eq!(r["metadata"]["finalizers"], json!(["a", "b", "c"]));
    let r = smp(
        &o,
        json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
    )
    .expect("delete");
    assert_eq!(r["metadata"]["finalizers"], json!(["b"]));
    let r = smp(
        &o,
        json!({"metadata": {"$setElementOrder/finalizers": ["b", "a"]}}),
    )
    .expect("order");
    assert_eq!(r["metadata"]["finalizers"], json!(["b", "a"]));
}

#[test]
fn set_element_order_with_merge_key() {
    let o = deploy(json!([{"name": "a"}, {"name": "b"}, {"name": "c"}]));
    let r = smp(
        &o,
        json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "c"}, {"name": "b"}, {"name": "a"}],
            "containers": [{"name": "b", "image": "b:2"}]
        }}}}),
    )
    .expect("order");
    assert_eq!(
        containers(&r),
        &json!([{"name": "c"}, {"name": "b", "image": "b:2"}, {"name": "a"}])
    );
}

#[test]
fn retain_keys_clears_other_fields() {
    let mut o = deploy(json!([]));
    o["spec"]["template"]["spec"]["volumes"] = json!([{"name": "v", "emptyDir": {}}]);
    o["spec"]["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}});
    let r = smp(&o, json!({"spec": {
        "strategy": {"$retainKeys": ["type"], "type": "Recreate"},
        "template": {"spec": {"volumes": [{"name": "v", "$retainKeys": ["name", "hostPath"], "hostPath": {"path": "/x"}}]}}
    }}))
    .expect("retain");
    assert_eq!(r["spec"]["strategy"], json!({"type": "Recreate"}));
    assert_eq!(
        r["spec"]["template"]["spec"]["volumes"],
        json!([{"name": "v", "hostPath": {"path": "/x"}}])
    );
    let e = smp(
        &o,
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}),
    );
    assert!(
        e.is_err(),
        "a patched key missing from $retainKeys is refused"
    );
}

#[test]
fn non_merge_lists_are_replaced_and_ports_merge_by_container_port() {
    let mut o = deploy(
        json!([{"name": "a", "args": ["x", "y"], "ports": [{"containerPort": 80}, {"containerPort": 443}]}]),
    );
    o["spec"]["template"]["spec"]["tolerations"] = json!([{"key": "k"}]);
    let r = smp(&o, json!({"spec": {"template": {"spec": {
        "tolerations": [{"key": "j"}],
        "containers": [{"name": "a", "args": ["z"], "ports": [{"containerPort": 80, "name": "http"}]}]
    }}}}))
    .expect("patch");
    assert_eq!(
        r["spec"]["template"]["spec"]["tolerations"],
        json!([{"key": "j"}])
    );
    assert_eq!(containers(&r)[0]["args"], json!(["z"]));
    assert_eq!(
        containers(&r)[0]["ports"],
        json!([{"containerPort": 80, "name": "http"}, {"containerPort": 443}])
    );
}

#[test]
fn custom_resources_are_refused_with_415() {
    let mut reg = Registry::builtin();
    reg.add_crd(&json!({"metadata": {"name": "ws.x.io"}, "spec": {"group": "x.io", "scope": "Cluster",
        "names": {"plural": "ws", "kind": "W"}, "versions": [{"name": "v1", "served": true, "storage": true}]}}))
        .expect("crd");
    let e = merge(&json!({}), &json!({}), &reg, &Gvk::new("x.io", "v1", "W"));
    assert_eq!(
        e,
        Err(Error::UnsupportedMediaType(UNSUPPORTED_FOR_CUSTOM.into()))
    );
}

#[test]
fn builtin_kinds_merge_even_with_an_empty_registry() {
    let r = merge(
        &json!({"a": 1}),
        &json!({"a": 2}),
        &Registry::default(),
        &Gvk::new("", "v1", "ConfigMap"),
    );
    assert_eq!(r, Ok(json!({"a": 2})));
    let e = merge(
        &json!({}),
        &json!({}),
        &Registry::default(),
        &Gvk::new("x.io", "v1", "W"),
    );
    assert!(matches!(e, Err(Error::UnsupportedMediaType(_))));
}
