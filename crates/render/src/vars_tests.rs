//! Tests of vars; the expected output and error texts are what `kubectl kustomize`
//! (kustomize v5.5.0) printed for the same build.

use super::*;
use crate::fieldspec::TransformerConfig;
use crate::resource::Resource;
use serde_json::json;

fn var(v: Value) -> Var {
    serde_json::from_value(v).unwrap()
}

/// The resources after `namePrefix: p-` and `namespace: ns1`, as vars see them.
fn fixture() -> ResMap {
    let docs = [
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
            "spec": {"ports": [{"port": 8080}]}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "dep"},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [{
                "name": "app", "image": "nginx:1.2",
                "command": ["run", "$(SVC)", "--port=$(PORT)", "$(PORT)", "$$(SVC)", "$(NOPE)", "$(REP)x"],
                "args": ["$(IMG)"],
                "env": [{"name": "A", "value": "$(PORT)"}, {"name": "B", "value": "$(SVC).$(NS)"}]}]}}}}),
    ];
    docs.into_iter()
        .map(|d| {
            // kustomize runs the namespace transformer before the prefix one
            let mut r = Resource::new(d.as_object().cloned().unwrap());
            r.remember_id();
            r.set_namespace("ns1");
            r.remember_id();
            let n = format!("p-{}", r.name());
            r.set_name(&n);
            r
        })
        .collect()
}

fn all_vars() -> Vec<Var> {
    vec![
        var(
            json!({"name": "SVC", "objref": {"kind": "Service", "name": "svc", "apiVersion": "v1"}}),
        ),
        var(
            json!({"name": "PORT", "objref": {"kind": "Service", "name": "svc", "apiVersion": "v1"},
            "fieldref": {"fieldPath": "spec.ports[0].port"}}),
        ),
        var(
            json!({"name": "IMG", "objref": {"kind": "Deployment", "name": "dep", "apiVersion": "apps/v1"},
            "fieldref": {"fieldPath": "spec.template.spec.containers[0].image"}}),
        ),
        var(
            json!({"name": "NS", "objref": {"kind": "Deployment", "name": "dep", "apiVersion": "apps/v1"},
            "fieldref": {"fieldPath": "metadata.namespace"}}),
        ),
        var(
            json!({"name": "REP", "objref": {"kind": "Deployment", "name": "dep", "apiVersion": "apps/v1"},
            "fieldref": {"fieldPath": "spec.replicas"}}),
        ),
    ]
}

fn specs() -> Vec<FieldSpec> {
    TransformerConfig::builtin().var_reference
}

fn container(rm: &ResMap) -> Value {
    let d = rm.iter().find(|r| r.kind() == "Deployment").unwrap();
    d.obj["spec"]["template"]["spec"]["containers"][0].clone()
}

#[test]
fn expands_with_types_escapes_and_unknowns() {
    let mut rm = fixture();
    resolve(&mut rm, &all_vars(), &specs()).unwrap();
    let c = container(&rm);
    assert_eq!(
        c["command"],
        json!([
            "run",
            "p-svc",
            "--port=8080",
            8080,
            "$(SVC)",
            "$(NOPE)",
            "3x"
        ])
    );
    assert_eq!(c["args"], json!(["nginx:1.2"]));
    assert_eq!(
        c["env"],
        json!([{"name": "A", "value": 8080}, {"name": "B", "value": "p-svc.ns1"}])
    );
    // fields outside varReference are untouched
    assert_eq!(c["image"], json!("nginx:1.2"));
}

#[test]
fn unused_vars_are_fine() {
    let mut rm = fixture();
    let mut vars = all_vars();
    vars.push(var(
        json!({"name": "UNUSED", "objref": {"kind": "Service", "name": "svc", "apiVersion": "v1"}}),
    ));
    resolve(&mut rm, &vars, &specs()).unwrap();
}

#[test]
fn objref_version_must_match() {
    let mut rm = fixture();
    let e = resolve(
        &mut rm,
        &[var(
            json!({"name": "SVC", "objref": {"kind": "Service", "name": "svc"}}),
        )],
        &specs(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("var '{SVC Service.[noVer].[noGrp] {metadata.name}}' cannot be mapped to a field in the set of known resources"), "{e}");
    // `version` alone is enough
    let mut rm = fixture();
    resolve(
        &mut rm,
        &[var(
            json!({"name": "SVC", "objref": {"kind": "Service", "name": "svc", "version": "v1"}}),
        )],
        &specs(),
    )
    .unwrap();
    assert_eq!(container(&rm)["command"][1], json!("p-svc"));
}

#[test]
fn missing_object_and_field() {
    let mut rm = fixture();
    let e = resolve(
        &mut rm,
        &[var(json!({"name": "SVC", "objref": {"kind": "Service", "name": "nosuch", "apiVersion": "v1"}}))],
        &specs(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("var '{SVC Service.v1.[noGrp] {metadata.name}}' cannot be mapped"),
        "{e}"
    );
    let e = resolve(
        &mut rm,
        &[var(
            json!({"name": "SVC", "objref": {"kind": "Service", "name": "svc", "apiVersion": "v1"},
            "fieldref": {"fieldPath": "spec.nope"}}),
        )],
        &specs(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("field specified in var '{SVC Service.v1.[noGrp] {spec.nope}}' not found in corresponding resource"), "{e}");
}

#[test]
fn duplicate_vars_fail() {
    let mut rm = fixture();
    let v = var(
        json!({"name": "SVC", "objref": {"kind": "Service", "name": "svc", "apiVersion": "v1"}}),
    );
    let e = resolve(&mut rm, &[v.clone(), v], &specs())
        .unwrap_err()
        .to_string();
    assert!(e.contains("var 'SVC' already encountered"), "{e}");
}

#[test]
fn map_values_do_not_replace() {
    let mut rm = fixture();
    resolve(
        &mut rm,
        &[var(
            json!({"name": "SVC", "objref": {"kind": "Service", "name": "svc", "apiVersion": "v1"},
            "fieldref": {"fieldPath": "spec.ports"}}),
        )],
        &specs(),
    )
    .unwrap();
    assert_eq!(container(&rm)["command"][1], json!("$(SVC)"));
}

#[test]
fn namespace_in_objref_must_match() {
    let mut rm = fixture();
    let v = |ns: &str| {
        var(
            json!({"name": "SVC", "objref": {"kind": "Service", "name": "svc", "apiVersion": "v1",
            "namespace": ns}}),
        )
    };
    assert!(resolve(&mut rm, &[v("other")], &specs()).is_err());
    resolve(&mut rm, &[v("ns1")], &specs()).unwrap();
    assert_eq!(container(&rm)["command"][1], json!("p-svc"));
}

#[test]
fn expansion_rules() {
    let values: HashMap<String, Value> = [
        ("A".to_string(), json!("x")),
        ("N".to_string(), json!(8080)),
        ("F".to_string(), json!(1.5)),
        ("B".to_string(), json!(true)),
        ("BIG".to_string(), json!(1e6)),
    ]
    .into_iter()
    .collect();
    let e = |s: &str| expand(s, &values);
    assert_eq!(e("$(A)"), json!("x"));
    assert_eq!(e("$(N)"), json!(8080));
    assert_eq!(e("$(B)"), json!(true));
    assert_eq!(e("a$(N)b$(F)$(B)"), json!("a8080b1.5true"));
    assert_eq!(e("$(BIG)-"), json!("1e+06-"));
    assert_eq!(e("$$(A) $$ $x $( $(A"), json!("$(A) $ $x $( $(A"));
    assert_eq!(e("trailing $"), json!("trailing $"));
    assert_eq!(e("$(UNKNOWN)"), json!("$(UNKNOWN)"));
}

#[test]
fn slice_index_paths() {
    assert_eq!(
        field_path_parts("spec.template.spec.containers[0].image"),
        ["spec", "template", "spec", "containers", "0", "image"]
    );
    assert_eq!(field_path_parts("a[x].b"), ["a[x]", "b"]);
}
