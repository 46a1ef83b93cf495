//! Unit tests of the strategic merge: one per directive and merge-key family.
//! Expected values follow kustomize v5.5.0 (see `oracle_cases` for the
//! kubectl-verified end-to-end cases).

use serde_json::{json, Value};

use super::{strategic_merge, PatchError, SmpOutcome};

fn merged(base: Value, patch: Value) -> Value {
    match strategic_merge(&base, &patch) {
        Ok(SmpOutcome::Merged(v)) => v,
        other => panic!("expected a merge, got {other:?}"),
    }
}

fn deploy(spec: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
           "spec": {"template": {"spec": spec}}})
}

fn pod_spec(v: &Value) -> &Value {
    &v["spec"]["template"]["spec"]
}

#[test]
fn scalars_and_maps_merge_and_null_deletes() {
    let base = json!({"kind": "X", "a": 1, "m": {"x": 1, "y": 2}, "n": null});
    let out = merged(
        base,
        json!({"a": 2, "m": {"y": null, "z": 3}, "new": {"k": null, "v": 1}}),
    );
    assert_eq!(
        out,
        json!({"kind": "X", "a": 2, "m": {"x": 1, "z": 3}, "n": null, "new": {"v": 1}})
    );
}

#[test]
fn new_fields_are_appended_in_sorted_order() {
    let out = merged(json!({"b": 1}), json!({"z": 1, "a": 1}));
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["b", "a", "z"]);
}

#[test]
fn patch_delete_on_top_level_deletes_resource() {
    let out = strategic_merge(
        &deploy(json!({})),
        &json!({"kind": "Deployment", "$patch": "delete"}),
    )
    .unwrap();
    assert_eq!(out, SmpOutcome::Deleted);
}

#[test]
fn patch_directives_on_maps() {
    let base = json!({"r": {"a": 1, "b": 2}, "s": {"a": 1}, "t": {"a": 1}});
    let out = merged(
        base,
        json!({"r": {"$patch": "replace", "c": 3}, "s": {"$patch": "delete"}, "t": {"$patch": "merge", "b": 2}}),
    );
    assert_eq!(out, json!({"r": {"c": 3}, "t": {"a": 1, "b": 2}}));
}

#[test]
fn unknown_directive_is_an_error() {
    let err = strategic_merge(
        &json!({"spec": {"a": 1}}),
        &json!({"spec": {"$patch": "bogus"}}),
    )
    .unwrap_err();
    assert!(
        matches!(&err, PatchError::Smp { path, .. } if path == "spec"),
        "{err}"
    );
    assert!(err.to_string().contains("unknown patch strategy 'bogus'"));
}

#[test]
fn kind_mismatch_is_an_error() {
    let err = strategic_merge(
        &json!({"spec": {"replicas": 1}}),
        &json!({"spec": {"replicas": {"a": 1}}}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("spec.replicas"), "{err}");
    assert!(strategic_merge(&json!({"a": [1]}), &json!({"a": {"b": 1}})).is_err());
}

#[test]
fn containers_merge_by_name_patch_elements_first() {
    let base = deploy(
        json!({"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}),
    );
    let out = merged(
        base,
        deploy(
            json!({"containers": [{"name": "c", "image": "c:1"}, {"name": "a", "image": "a:2"}]}),
        ),
    );
    assert_eq!(
        pod_spec(&out)["containers"],
        json!([{"name": "c", "image": "c:1"}, {"name": "a", "image": "a:2"}, {"name": "b", "image": "b:1"}])
    );
}

#[test]
fn element_delete_and_ineffective_replace() {
    let base = deploy(
        json!({"containers": [{"name": "a", "image": "a:1", "args": ["x"]}, {"name": "b", "image": "b:1"}]}),
    );
    let patch = deploy(json!({"containers": [
        {"name": "b", "$patch": "delete"},
        {"name": "a", "$patch": "replace", "image": "a:2"},
        {"name": "n", "$patch": "replace", "image": "n:1"},
    ]}));
    // kustomize keeps the destination element when `$patch: replace` names an existing one
    assert_eq!(
        pod_spec(&merged(base, patch))["containers"],
        json!([{"name": "a", "image": "a:1", "args": ["x"]}, {"name": "n", "image": "n:1"}])
    );
}

#[test]
fn element_without_merge_key_wipes_the_list() {
    let base = deploy(json!({"containers": [{"name": "a"}, {"name": "b"}]}));
    let out = merged(base, deploy(json!({"containers": [{"image": "x"}]})));
    assert_eq!(pod_spec(&out)["containers"], json!([]));
}

#[test]
fn env_volume_mounts_and_devices_use_their_keys() {
    let base = deploy(json!({"containers": [{"name": "a",
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "volumeMounts": [{"name": "v", "mountPath": "/a"}],
        "volumeDevices": [{"name": "d", "devicePath": "/dev/a"}]}]}));
    let patch = deploy(json!({"containers": [{"name": "a",
        "env": [{"name": "B", "value": "9"}, {"name": "A", "$patch": "delete"}],
        "volumeMounts": [{"name": "w", "mountPath": "/a", "readOnly": true}, {"name": "v", "mountPath": "/b"}],
        "volumeDevices": [{"name": "e", "devicePath": "/dev/a"}]}]}));
    let out = merged(base, patch);
    let c = &pod_spec(&out)["containers"][0];
    assert_eq!(c["env"], json!([{"name": "B", "value": "9"}]));
    assert_eq!(
        c["volumeMounts"],
        json!([{"name": "w", "mountPath": "/a", "readOnly": true}, {"name": "v", "mountPath": "/b"}])
    );
    assert_eq!(
        c["volumeDevices"],
        json!([{"name": "e", "devicePath": "/dev/a"}])
    );
}

#[test]
fn container_ports_use_container_port_and_protocol() {
    let base = deploy(json!({"containers": [{"name": "a", "ports": [
        {"containerPort": 53, "protocol": "UDP"}, {"containerPort": 80}]}]}));
    let patch = deploy(json!({"containers": [{"name": "a", "ports": [
        {"containerPort": 53, "protocol": "TCP"}, {"containerPort": 80, "name": "http"}]}]}));
    let out = merged(base, patch);
    assert_eq!(
        pod_spec(&out)["containers"][0]["ports"],
        json!([{"containerPort": 53, "protocol": "TCP"}, {"containerPort": 53, "protocol": "UDP"},
               {"containerPort": 80, "name": "http"}])
    );
}

#[test]
fn volumes_merge_by_name_without_retaining_keys() {
    let base = deploy(json!({"volumes": [{"name": "v", "configMap": {"name": "c"}}]}));
    let out = merged(
        base,
        deploy(json!({"volumes": [{"name": "v", "secret": {"secretName": "s"}}]})),
    );
    assert_eq!(
        pod_spec(&out)["volumes"],
        json!([{"name": "v", "configMap": {"name": "c"}, "secret": {"secretName": "s"}}])
    );
}

#[test]
fn pod_spec_key_families() {
    let base = deploy(json!({
        "imagePullSecrets": [{"name": "r1"}],
        "hostAliases": [{"ip": "1.1.1.1", "hostnames": ["a"]}],
        "topologySpreadConstraints": [{"topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "maxSkew": 1}],
        "tolerations": [{"key": "a"}],
    }));
    let patch = deploy(json!({
        "imagePullSecrets": [{"name": "r2"}],
        "hostAliases": [{"ip": "1.1.1.1", "hostnames": ["b"]}],
        "topologySpreadConstraints": [{"topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "maxSkew": 2}],
        "tolerations": [{"key": "b"}],
    }));
    let out = merged(base, patch);
    let s = pod_spec(&out);
    assert_eq!(
        s["imagePullSecrets"],
        json!([{"name": "r2"}, {"name": "r1"}])
    );
    assert_eq!(
        s["hostAliases"],
        json!([{"ip": "1.1.1.1", "hostnames": ["b"]}])
    );
    assert_eq!(s["topologySpreadConstraints"][0]["maxSkew"], json!(2));
    assert_eq!(
        s["tolerations"],
        json!([{"key": "b"}]),
        "tolerations are atomic"
    );
}

#[test]
fn service_ports_quirks_follow_kustomize() {
    let svc = |ports: Value| json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": ports}});
    // both sides without protocol: merged by port
    let out = merged(
        svc(json!([{"port": 80, "targetPort": 1}])),
        svc(json!([{"port": 80, "targetPort": 9}])),
    );
    assert_eq!(out["spec"]["ports"], json!([{"port": 80, "targetPort": 9}]));
    // protocol only in the base: the patch element is ignored
    let out = merged(
        svc(json!([{"port": 80, "protocol": "TCP", "targetPort": 1}])),
        svc(json!([{"port": 80, "targetPort": 9}])),
    );
    assert_eq!(
        out["spec"]["ports"],
        json!([{"port": 80, "protocol": "TCP", "targetPort": 1}])
    );
    // protocol only in the patch: the base element survives alone
    let out = merged(
        svc(json!([{"port": 80, "targetPort": 1}])),
        svc(json!([{"port": 80, "protocol": "TCP", "targetPort": 9}])),
    );
    assert_eq!(out["spec"]["ports"], json!([{"port": 80, "targetPort": 1}]));
}

#[test]
fn primitive_merge_lists_are_unions() {
    let cm = |f: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": f}});
    let out = merged(cm(json!(["a", "b"])), cm(json!(["c", "a"])));
    assert_eq!(out["metadata"]["finalizers"], json!(["c", "a", "b"]));
}

#[test]
fn owner_references_merge_by_uid() {
    let cm = |o: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "ownerReferences": o}});
    let out = merged(
        cm(json!([{"uid": "1", "name": "a"}])),
        cm(json!([{"uid": "1", "name": "b"}, {"uid": "2"}])),
    );
    assert_eq!(
        out["metadata"]["ownerReferences"],
        json!([{"uid": "1", "name": "b"}, {"uid": "2"}])
    );
}

#[test]
fn conditions_webhooks_and_secrets() {
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "status": {"conditions": [{"type": "A", "status": "True"}]}});
    let out = merged(d, json!({"status": {"conditions": [{"type": "B"}]}}));
    assert_eq!(
        out["status"]["conditions"],
        json!([{"type": "B"}, {"type": "A", "status": "True"}])
    );

    let wh = |w: Value| json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration", "webhooks": w});
    let out = merged(
        wh(json!([{"name": "a", "x": 1}])),
        wh(json!([{"name": "a", "y": 2}])),
    );
    assert_eq!(out["webhooks"], json!([{"name": "a", "x": 1, "y": 2}]));

    let sa = |s: Value| json!({"apiVersion": "v1", "kind": "ServiceAccount", "secrets": s});
    let out = merged(sa(json!([{"name": "a"}])), sa(json!([{"name": "b"}])));
    assert_eq!(out["secrets"], json!([{"name": "b"}, {"name": "a"}]));
}

#[test]
fn lists_without_schema_are_replaced() {
    let cr =
        |items: Value| json!({"apiVersion": "ex.com/v1", "kind": "W", "spec": {"items": items}});
    let out = merged(
        cr(json!([{"name": "a", "v": 1}])),
        cr(json!([{"name": "b", "$patch": "delete"}])),
    );
    assert_eq!(
        out["spec"]["items"],
        json!([{"name": "b", "$patch": "delete"}])
    );
    let rb = |s: Value| json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "subjects": s});
    let out = merged(rb(json!([{"name": "a"}])), rb(json!([{"name": "b"}])));
    assert_eq!(out["subjects"], json!([{"name": "b"}]));
}

#[test]
fn embedded_resources_get_their_schema() {
    let cr = |c: Value| {
        json!({"apiVersion": "ex.com/v1", "kind": "W", "spec": {"t": {
        "apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": {"containers": c}}}}}})
    };
    let out = merged(cr(json!([{"name": "a"}])), cr(json!([{"name": "b"}])));
    assert_eq!(
        out["spec"]["t"]["spec"]["template"]["spec"]["containers"],
        json!([{"name": "b"}, {"name": "a"}])
    );
}

#[test]
fn other_smp_directives_are_plain_fields() {
    let base = deploy(json!({"containers": [{"name": "a", "args": ["x"]}]}));
    let patch = deploy(json!({
        "$setElementOrder/containers": [{"name": "a"}],
        "containers": [{"name": "a", "$retainKeys": ["image"], "$deleteFromPrimitiveList/args": ["x"]}],
    }));
    let out = merged(base, patch);
    let s = pod_spec(&out);
    assert_eq!(s["$setElementOrder/containers"], json!([{"name": "a"}]));
    assert_eq!(s["containers"][0]["args"], json!(["x"]));
    assert_eq!(s["containers"][0]["$retainKeys"], json!(["image"]));
}

#[test]
fn added_subtree_honours_nested_directives() {
    let out = merged(
        json!({"apiVersion": "apps/v1", "kind": "Deployment"}),
        deploy(
            json!({"containers": [{"name": "a", "env": [{"name": "X", "$patch": "delete"}, {"name": "Y"}],
            "resources": {"$patch": "replace", "limits": {"cpu": "1"}}, "gone": null}]}),
        ),
    );
    assert_eq!(
        pod_spec(&out)["containers"],
        json!([{"name": "a", "env": [{"name": "Y"}], "resources": {"limits": {"cpu": "1"}}}])
    );
}
