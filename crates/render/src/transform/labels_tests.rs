use super::*;
use crate::fieldspec::FieldSpec;
use crate::resource::Resource;
use indexmap::IndexMap;
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
fn common_labels_reach_metadata_templates_and_selectors() {
    // Oracle: /tmp/ko/lab1 — commonLabels {app: web, "on": "true"} over a Service without
    // selector (created), a StatefulSet (selector created, template, volumeClaimTemplates,
    // existing anti-affinity matchLabels only), PDBs with and without selector, a NetworkPolicy,
    // a Job, a CronJob and a custom Foo (metadata only).
    let mut rm = res_map(
        r#"[{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"},"spec":{"ports":[{"port":80}]}},{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"ss"},"spec":{"template":{"spec":{"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"x"}}},{"labelSelector":{}}]}}}},"volumeClaimTemplates":[{"metadata":{"name":"data"}}]}},{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"pdb"},"spec":{"selector":{"matchLabels":{"app":"x"}}}},{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"pdb2"},"spec":{}},{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"np"},"spec":{"podSelector":{},"ingress":[{"from":[{"podSelector":{"matchLabels":{"a":"b"}}},{"namespaceSelector":{}}]}]}},{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"job"},"spec":{"template":{"spec":{}}}},{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"cj"},"spec":{"jobTemplate":{"spec":{"selector":{"matchLabels":{"z":"z"}}}}}},{"apiVersion":"x.io/v1","kind":"Foo","metadata":{"name":"foo"},"spec":{"template":{"metadata":{}}}}]"#,
    );
    let labels: IndexMap<String, String> = [
        ("app".to_string(), "web".to_string()),
        ("on".to_string(), "true".to_string()),
    ]
    .into();
    apply_common_labels(&mut rm, &labels, &cfg()).unwrap();
    assert_all(
        &rm,
        r#"[{"apiVersion":"v1","kind":"Service","metadata":{"labels":{"app":"web","on":"true"},"name":"svc"},"spec":{"ports":[{"port":80}],"selector":{"app":"web","on":"true"}}},{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"labels":{"app":"web","on":"true"},"name":"ss"},"spec":{"selector":{"matchLabels":{"app":"web","on":"true"}},"template":{"metadata":{"labels":{"app":"web","on":"true"}},"spec":{"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"web","on":"true"}}},{"labelSelector":{}}]}}}},"volumeClaimTemplates":[{"metadata":{"labels":{"app":"web","on":"true"},"name":"data"}}]}},{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"labels":{"app":"web","on":"true"},"name":"cj"},"spec":{"jobTemplate":{"metadata":{"labels":{"app":"web","on":"true"}},"spec":{"selector":{"matchLabels":{"app":"web","on":"true","z":"z"}},"template":{"metadata":{"labels":{"app":"web","on":"true"}}}}}}},{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"labels":{"app":"web","on":"true"},"name":"pdb"},"spec":{"selector":{"matchLabels":{"app":"web","on":"true"}}}},{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"labels":{"app":"web","on":"true"},"name":"pdb2"},"spec":{}},{"apiVersion":"batch/v1","kind":"Job","metadata":{"labels":{"app":"web","on":"true"},"name":"job"},"spec":{"template":{"metadata":{"labels":{"app":"web","on":"true"}},"spec":{}}}},{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"labels":{"app":"web","on":"true"},"name":"np"},"spec":{"ingress":[{"from":[{"podSelector":{"matchLabels":{"a":"b","app":"web","on":"true"}}},{"namespaceSelector":{}}]}],"podSelector":{}}},{"apiVersion":"x.io/v1","kind":"Foo","metadata":{"labels":{"app":"web","on":"true"},"name":"foo"},"spec":{"template":{"metadata":{}}}}]"#,
    );
}

#[test]
fn labels_entries_with_templates_selectors_and_fields() {
    // Oracle: /tmp/ko/lab2 — labels: [{pairs: {tier: fe}, includeTemplates: true},
    // {pairs: {sel: "1"}, includeSelectors: true}, {pairs: {custom: c}, fields: [{kind: Foo,
    // path: spec/template/metadata/labels, create: true}]}] over the same objects.
    let mut rm = res_map(
        r#"[{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"},"spec":{"ports":[{"port":80}]}},{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"ss"},"spec":{"template":{"spec":{"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"x"}}},{"labelSelector":{}}]}}}},"volumeClaimTemplates":[{"metadata":{"name":"data"}}]}},{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"pdb"},"spec":{"selector":{"matchLabels":{"app":"x"}}}},{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"pdb2"},"spec":{}},{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"np"},"spec":{"podSelector":{},"ingress":[{"from":[{"podSelector":{"matchLabels":{"a":"b"}}},{"namespaceSelector":{}}]}]}},{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"job"},"spec":{"template":{"spec":{}}}},{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"cj"},"spec":{"jobTemplate":{"spec":{"selector":{"matchLabels":{"z":"z"}}}}}},{"apiVersion":"x.io/v1","kind":"Foo","metadata":{"name":"foo"},"spec":{"template":{"metadata":{}}}}]"#,
    );
    let label = |k: &str, v: &str, sel: bool, tmpl: bool, fields: Vec<FieldSpec>| Label {
        pairs: [(k.to_string(), v.to_string())].into(),
        include_selectors: sel,
        include_templates: tmpl,
        fields,
    };
    apply_labels(&mut rm, &label("tier", "fe", false, true, vec![]), &cfg()).unwrap();
    apply_labels(&mut rm, &label("sel", "1", true, false, vec![]), &cfg()).unwrap();
    apply_labels(
        &mut rm,
        &label(
            "custom",
            "c",
            false,
            false,
            vec![FieldSpec::new(
                "",
                "",
                "Foo",
                "spec/template/metadata/labels",
                true,
            )],
        ),
        &cfg(),
    )
    .unwrap();
    assert_all(
        &rm,
        r#"[{"apiVersion":"v1","kind":"Service","metadata":{"labels":{"custom":"c","sel":"1","tier":"fe"},"name":"svc"},"spec":{"ports":[{"port":80}],"selector":{"sel":"1"}}},{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"labels":{"custom":"c","sel":"1","tier":"fe"},"name":"ss"},"spec":{"selector":{"matchLabels":{"sel":"1"}},"template":{"metadata":{"labels":{"sel":"1","tier":"fe"}},"spec":{"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"x","sel":"1"}}},{"labelSelector":{}}]}}}},"volumeClaimTemplates":[{"metadata":{"labels":{"sel":"1","tier":"fe"},"name":"data"}}]}},{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"labels":{"custom":"c","sel":"1","tier":"fe"},"name":"cj"},"spec":{"jobTemplate":{"metadata":{"labels":{"sel":"1","tier":"fe"}},"spec":{"selector":{"matchLabels":{"sel":"1","z":"z"}},"template":{"metadata":{"labels":{"sel":"1","tier":"fe"}}}}}}},{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"labels":{"custom":"c","sel":"1","tier":"fe"},"name":"pdb"},"spec":{"selector":{"matchLabels":{"app":"x","sel":"1"}}}},{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"labels":{"custom":"c","sel":"1","tier":"fe"},"name":"pdb2"},"spec":{}},{"apiVersion":"batch/v1","kind":"Job","metadata":{"labels":{"custom":"c","sel":"1","tier":"fe"},"name":"job"},"spec":{"template":{"metadata":{"labels":{"sel":"1","tier":"fe"}},"spec":{}}}},{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"labels":{"custom":"c","sel":"1","tier":"fe"},"name":"np"},"spec":{"ingress":[{"from":[{"podSelector":{"matchLabels":{"a":"b","sel":"1"}}},{"namespaceSelector":{}}]}],"podSelector":{}}},{"apiVersion":"x.io/v1","kind":"Foo","metadata":{"labels":{"custom":"c","sel":"1","tier":"fe"},"name":"foo"},"spec":{"template":{"metadata":{"labels":{"custom":"c"}}}}}]"#,
    );
}
