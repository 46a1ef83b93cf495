//! Tests for the transformer configuration: built-in tables, merging, `configurations:`
//! files and `crds:` OpenAPI definitions.

use super::*;
use crate::resmap::ResMap;
use crate::transform;
use serde_json::json;

fn res_map(vals: Vec<Value>) -> ResMap {
    vals.into_iter()
        .map(|v| match v {
            Value::Object(m) => Resource::new(m),
            _ => panic!("not an object"),
        })
        .collect()
}

#[test]
fn builtin_tables_have_kustomize_sizes() {
    // Counted in the default config embedded in kubectl v1.32 (kustomize v5.5.0).
    let c = TransformerConfig::builtin();
    assert_eq!(c.common_labels.len(), 32);
    assert_eq!(c.template_labels.len(), 10);
    assert_eq!(c.common_annotations.len(), 9);
    assert_eq!(c.namespace.len(), 3);
    assert_eq!(c.images.len(), 4);
    assert_eq!(c.replicas.len(), 4);
    assert_eq!(c.var_reference.len(), 72);
    assert_eq!(c.name_reference.len(), 16);
    let secret = c
        .name_reference
        .iter()
        .find(|b| b.gvk.kind == "Secret")
        .unwrap();
    assert!(secret.field_specs.iter().any(|f| f.kind == "Ingress"
        && f.path_segments()
            == [
                "metadata",
                "annotations",
                "nginx.ingress.kubernetes.io/auth-secret"
            ]));
}

#[test]
fn gvk_selection_and_cluster_scope() {
    let d = Gvk::new("apps", "v1", "Deployment");
    assert!(d.is_selected(&Gvk::new("", "", "Deployment")));
    assert!(d.is_selected(&Gvk::default()));
    assert!(!d.is_selected(&Gvk::new("extensions", "", "Deployment")));
    assert!(!d.is_selected(&Gvk::new("", "v1beta1", "")));
    // Oracle: /tmp/ko/cs — namespace: zz over many gvks.
    assert!(Gvk::new("", "v1", "Namespace").is_cluster_scoped());
    assert!(!Gvk::new("", "v2", "Namespace").is_cluster_scoped());
    assert!(Gvk::new("rbac.authorization.k8s.io", "v1beta1", "ClusterRole").is_cluster_scoped());
    assert!(!Gvk::new("rbac.authorization.k8s.io", "v1alpha1", "ClusterRole").is_cluster_scoped());
    assert!(Gvk::new("apiregistration.k8s.io", "v1", "APIService").is_cluster_scoped());
    assert!(!Gvk::new(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingAdmissionPolicy"
    )
    .is_cluster_scoped());
    assert!(!Gvk::new("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema").is_cluster_scoped());
}

#[test]
fn merge_dedupes_and_reports_conflicts() {
    let mut c = TransformerConfig::builtin();
    let before = c.clone();
    c.merge(&TransformerConfig::builtin());
    assert_eq!(c, before);
    let conflict = TransformerConfig {
        images: vec![FieldSpec::new("", "", "", "spec/containers[]/image", false)],
        ..TransformerConfig::default()
    };
    let e = c.clone().try_merge(&conflict).unwrap_err();
    assert_eq!(
        e,
        "failed to merge Images fieldSpec: conflicting fieldspecs"
    );
    // An empty-gvk spec counts as present when a kind-specific one with its path is.
    let mut specs = vec![FieldSpec::new("", "", "Foo", "a/b", false)];
    merge_field_specs(&mut specs, &[FieldSpec::new("", "", "", "a/b", false)]).unwrap();
    assert_eq!(specs.len(), 1);
}

#[test]
fn configuration_file_adds_name_reference_and_label_specs() {
    // Oracle: /tmp/ko/cfgf — configurations: [{nameReference: [{kind: ConfigMap, version:
    // v1, fieldSpecs: [{kind: Foo, path: spec/cmName}]}], commonLabels: [{kind: Foo, path:
    // spec/sel, create: true}]}] with namePrefix p- and commonLabels {a: b}: Foo f becomes
    // p-f with spec.cmName p-cm and spec.sel {a: b}.
    let extra = TransformerConfig::from_value(&json!({
        "nameReference": [{"kind": "ConfigMap", "version": "v1",
                           "fieldSpecs": [{"kind": "Foo", "path": "spec/cmName"}]}],
        "commonLabels": [{"kind": "Foo", "path": "spec/sel", "create": true}],
        "somethingElse": 1
    }))
    .unwrap();
    let mut cfg = TransformerConfig::builtin();
    cfg.merge(&extra);
    let mut rm = res_map(vec![
        json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}),
        json!({"apiVersion":"x.io/v1","kind":"Foo","metadata":{"name":"f"},"spec":{"cmName":"cm"}}),
    ]);
    transform::prefix_suffix::apply(&mut rm, "p-", "", &cfg).unwrap();
    let labels: indexmap::IndexMap<String, String> = [("a".to_string(), "b".to_string())].into();
    transform::labels::apply_common_labels(&mut rm, &labels, &cfg).unwrap();
    transform::namereference::fix_back_references(&mut rm, &cfg).unwrap();
    assert_eq!(
        Value::Object(rm.resources()[1].obj.clone()),
        json!({"apiVersion":"x.io/v1","kind":"Foo","metadata":{"labels":{"a":"b"},"name":"p-f"},
               "spec":{"cmName":"p-cm","sel":{"a":"b"}}})
    );
    assert!(TransformerConfig::from_value(&json!({"images": "nope"})).is_err());
}

#[test]
fn crd_definitions_add_references_labels_and_annotations() {
    // Oracle: /tmp/ko/crd — crds: [crd.json] (below), namePrefix p-, commonLabels {a: b},
    // commonAnnotations {note: x} over Secret s and MyKind k: k's spec.secretRef.name is p-s,
    // spec.selectorLabels gets a: b and spec.notes gets note: x.
    let defs: Value = serde_json::from_str(
        r#"{
  "github.com/example/pkg/apis/jingfang/v1beta1.MyKind": {
    "Schema": {
      "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"$ref": "k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta"},
        "spec": {"$ref": "github.com/example/pkg/apis/jingfang/v1beta1.MyKindSpec"}
      }
    }
  },
  "github.com/example/pkg/apis/jingfang/v1beta1.MyKindSpec": {
    "Schema": {
      "properties": {
        "secretRef": {
          "x-kubernetes-object-ref-api-version": "v1",
          "x-kubernetes-object-ref-kind": "Secret",
          "$ref": "k8s.io/api/core/v1.LocalObjectReference"
        },
        "selectorLabels": {"x-kubernetes-label-selector": ""},
        "notes": {"x-kubernetes-annotation": ""}
      }
    }
  }
}
"#,
    )
    .unwrap();
    let extra = TransformerConfig::from_crd(&defs).unwrap();
    assert_eq!(
        extra.name_reference,
        vec![NameBackReference {
            gvk: Gvk::new("", "v1", "Secret"),
            field_specs: vec![FieldSpec::new(
                "",
                "",
                "MyKind",
                "spec/secretRef/name",
                false
            )],
        }]
    );
    let mut cfg = TransformerConfig::builtin();
    cfg.merge(&extra);
    let mut rm = res_map(vec![
        json!({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"}}),
        json!({"apiVersion":"jingfang.example.com/v1beta1","kind":"MyKind","metadata":{"name":"k"},
               "spec":{"secretRef":{"name":"s"},"selectorLabels":{},"notes":{}}}),
    ]);
    transform::prefix_suffix::apply(&mut rm, "p-", "", &cfg).unwrap();
    let one = |k: &str, v: &str| -> indexmap::IndexMap<String, String> {
        [(k.to_string(), v.to_string())].into()
    };
    transform::labels::apply_common_labels(&mut rm, &one("a", "b"), &cfg).unwrap();
    transform::annotations::apply(&mut rm, &one("note", "x"), &cfg).unwrap();
    transform::namereference::fix_back_references(&mut rm, &cfg).unwrap();
    assert_eq!(
        Value::Object(rm.resources()[1].obj.clone()),
        json!({"apiVersion":"jingfang.example.com/v1beta1","kind":"MyKind",
               "metadata":{"annotations":{"note":"x"},"labels":{"a":"b"},"name":"p-k"},
               "spec":{"notes":{"note":"x"},"secretRef":{"name":"p-s"},"selectorLabels":{"a":"b"}}})
    );
}
