use super::*;
use crate::resource::Resource;
use serde_json::Value;

fn res_map(json: &str) -> ResMap {
    let vals: Vec<Value> = serde_json::from_str(json).unwrap();
    vals.into_iter()
        .map(|v| match v {
            Value::Object(m) => Resource::new(m),
            _ => panic!("not an object"),
        })
        .collect()
}

/// Every expected object must equal the resource of the same kind, name and namespace.
fn assert_all(rm: &ResMap, expected: &str) {
    let exp: Vec<Value> = serde_json::from_str(expected).unwrap();
    assert_eq!(rm.len(), exp.len(), "resource count");
    for e in exp {
        let kind = e["kind"].as_str().unwrap();
        let name = e["metadata"]["name"].as_str().unwrap();
        let ns = e["metadata"]["namespace"].as_str();
        let got = rm
            .iter()
            .find(|r| r.kind() == kind && r.name() == name && r.namespace() == ns)
            .unwrap_or_else(|| panic!("no {kind} {name}"));
        assert_eq!(Value::Object(got.obj.clone()), e, "{kind} {name}");
    }
}

fn cfg() -> TransformerConfig {
    TransformerConfig::builtin()
}

#[test]
fn namespace_quirks_with_prefix() {
    // Oracle: /tmp/ko/ns — namespace ns1 + namePrefix p-: a local APIService (service: null)
    // gets spec.service.namespace; APIServices and the CRD keep their names; the CRD conversion
    // service gets ns1; RoleBinding subjects named default (even a User) get ns1, others not;
    // webhook service refs pinned to namespace old stay; an apiVersion v2 Namespace counts as
    // namespaced and keeps its name.
    let mut rm = res_map(
        r#"[{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1.local"},"spec":{"service":null}},{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1beta1.metrics.k8s.io"},"spec":{"service":{"name":"metrics","namespace":"kube-system"}}},{"apiVersion":"v1","kind":"Service","metadata":{"name":"metrics","namespace":"kube-system"}},{"apiVersion":"v1","kind":"Service","metadata":{"name":"hook"}},{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration","metadata":{"name":"vwc"},"webhooks":[{"name":"a","clientConfig":{"service":{"name":"hook","namespace":"old"}}},{"name":"b","clientConfig":{"service":{"name":"hook"}}},{"name":"c","clientConfig":{"url":"https://x"}}]},{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"foos.x.io"},"spec":{"conversion":{"strategy":"Webhook","webhook":{"clientConfig":{"service":{"name":"hook","namespace":"old"}}}}}},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"rb","namespace":"other"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"role"},"subjects":[{"kind":"ServiceAccount","name":"default","namespace":"xx"},{"kind":"User","name":"default"},{"kind":"ServiceAccount","name":"sa"}]},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"role"}},{"apiVersion":"v2","kind":"Namespace","metadata":{"name":"weird"}}]"#,
    );
    apply(&mut rm, "ns1", &cfg()).unwrap();
    crate::transform::prefix_suffix::apply(&mut rm, "p-", "", &cfg()).unwrap();
    crate::transform::namereference::fix_back_references(&mut rm, &cfg()).unwrap();
    assert_all(
        &rm,
        r#"[{"apiVersion":"v2","kind":"Namespace","metadata":{"name":"weird","namespace":"ns1"}},{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"foos.x.io"},"spec":{"conversion":{"strategy":"Webhook","webhook":{"clientConfig":{"service":{"name":"hook","namespace":"ns1"}}}}}},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"p-role","namespace":"ns1"}},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"p-rb","namespace":"ns1"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"p-role"},"subjects":[{"kind":"ServiceAccount","name":"default","namespace":"ns1"},{"kind":"User","name":"default","namespace":"ns1"},{"kind":"ServiceAccount","name":"sa"}]},{"apiVersion":"v1","kind":"Service","metadata":{"name":"p-hook","namespace":"ns1"}},{"apiVersion":"v1","kind":"Service","metadata":{"name":"p-metrics","namespace":"ns1"}},{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1.local"},"spec":{"service":{"namespace":"ns1"}}},{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1beta1.metrics.k8s.io"},"spec":{"service":{"name":"p-metrics","namespace":"ns1"}}},{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration","metadata":{"name":"p-vwc"},"webhooks":[{"clientConfig":{"service":{"name":"hook","namespace":"old"}},"name":"a"},{"clientConfig":{"service":{"name":"p-hook","namespace":"ns1"}},"name":"b"},{"clientConfig":{"url":"https://x"},"name":"c"}]}]"#,
    );
}

#[test]
fn namespace_renames_v1_namespace_and_labels_everything() {
    // Oracle: /tmp/ko/t1 — namespace ns1, namePrefix p-, nameSuffix -s, commonLabels
    // {zz: "1", aa: b}: the v1 Namespace foo becomes ns1 (not prefixed), the ClusterRoleBinding
    // subject named default gets ns1, the subject without namespace follows the renamed SA,
    // the one pinned to namespace other is left alone.
    let mut rm = res_map(
        r#"[{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"d","labels":{"z":"y"}},"spec":{"template":{"spec":{"serviceAccountName":"sa","containers":[{"name":"c","image":"nginx","envFrom":[{"configMapRef":{"name":"cm"}}]}]}}}},{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}},{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa"}},{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"foo"}},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"crb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cr"},"subjects":[{"kind":"ServiceAccount","name":"sa","namespace":"other"},{"kind":"ServiceAccount","name":"default"},{"kind":"ServiceAccount","name":"sa"}]}]"#,
    );
    apply(&mut rm, "ns1", &cfg()).unwrap();
    crate::transform::prefix_suffix::apply(&mut rm, "p-", "-s", &cfg()).unwrap();
    let labels: indexmap::IndexMap<String, String> = [
        ("zz".to_string(), "1".to_string()),
        ("aa".to_string(), "b".to_string()),
    ]
    .into();
    crate::transform::labels::apply_common_labels(&mut rm, &labels, &cfg()).unwrap();
    crate::transform::namereference::fix_back_references(&mut rm, &cfg()).unwrap();
    assert_all(
        &rm,
        r#"[{"apiVersion":"v1","kind":"Namespace","metadata":{"labels":{"aa":"b","zz":"1"},"name":"ns1"}},{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"labels":{"aa":"b","zz":"1"},"name":"p-sa-s","namespace":"ns1"}},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"labels":{"aa":"b","zz":"1"},"name":"p-crb-s"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cr"},"subjects":[{"kind":"ServiceAccount","name":"sa","namespace":"other"},{"kind":"ServiceAccount","name":"default","namespace":"ns1"},{"kind":"ServiceAccount","name":"p-sa-s","namespace":"ns1"}]},{"apiVersion":"v1","kind":"ConfigMap","metadata":{"labels":{"aa":"b","zz":"1"},"name":"p-cm-s","namespace":"ns1"}},{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":{"aa":"b","z":"y","zz":"1"},"name":"p-d-s","namespace":"ns1"},"spec":{"selector":{"matchLabels":{"aa":"b","zz":"1"}},"template":{"metadata":{"labels":{"aa":"b","zz":"1"}},"spec":{"containers":[{"envFrom":[{"configMapRef":{"name":"p-cm-s"}}],"image":"nginx","name":"c"}],"serviceAccountName":"p-sa-s"}}}}]"#,
    );
}

#[test]
fn two_objects_landing_on_the_same_id_conflict() {
    // Oracle: two ConfigMaps `cm`, one in namespace a, one without, under namespace: a:
    // kubectl kustomize fails with "namespace transformation produces ID conflict".
    let mut rm = res_map(
        r#"[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"a"}},{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}]"#,
    );
    let e = apply(&mut rm, "a", &cfg()).unwrap_err().to_string();
    assert!(
        e.contains("namespace transformation produces ID conflict"),
        "{e}"
    );
}

#[test]
fn plugin_options_unset_only_and_subject_modes() {
    let mut rm: ResMap = [
        serde_json::json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"keep"}}),
        serde_json::json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}),
        serde_json::json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"rb"},
            "subjects":[{"kind":"ServiceAccount","name":"sa"},{"kind":"ServiceAccount","name":"x","namespace":"old"},
                        {"kind":"User","name":"default"}]}),
    ]
    .into_iter()
    .map(|v| match v {
        Value::Object(m) => crate::resource::Resource::new(m),
        _ => unreachable!(),
    })
    .collect();
    let opts = Options {
        unset_only: true,
        subjects: SubjectMode::AllServiceAccounts,
    };
    apply_with(&mut rm, "ns", &TransformerConfig::builtin().namespace, opts).unwrap();
    let ns = |i: usize| rm.resources()[i].namespace().map(str::to_string);
    assert_eq!(ns(0).as_deref(), Some("keep"));
    assert_eq!(ns(1).as_deref(), Some("ns"));
    assert_eq!(
        rm.resources()[2].obj["subjects"],
        serde_json::json!([{"kind":"ServiceAccount","name":"sa","namespace":"ns"},
            {"kind":"ServiceAccount","name":"x","namespace":"old"},{"kind":"User","name":"default"}])
    );
    assert_eq!(SubjectMode::parse("none"), Ok(SubjectMode::None));
    assert!(SubjectMode::parse("all")
        .unwrap_err()
        .contains("invalid value \"all\""));
}
