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
fn skipped_kinds_keep_their_names() {
    // Oracle: /tmp/ko/ps — namePrefix pre-, nameSuffix -suf: CRD, APIService and Namespace keep
    // their names; the custom Foo and the ConfigMap become pre-<name>-suf.
    let mut rm = res_map(
        r#"[{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"foos.x.io"}},{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1.x.io"}},{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}},{"apiVersion":"x.io/v1","kind":"Foo","metadata":{"name":"foo"}},{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}]"#,
    );
    apply(&mut rm, "pre-", "-suf", &cfg()).unwrap();
    assert_all(
        &rm,
        r#"[{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}},{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"foos.x.io"}},{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"pre-cm-suf"}},{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1.x.io"}},{"apiVersion":"x.io/v1","kind":"Foo","metadata":{"name":"pre-foo-suf"}}]"#,
    );
}

#[test]
fn affixes_and_history_are_recorded() {
    // Same input as above: the renamed ConfigMap remembers both earlier names and both
    // affixes (kustomize's previousNames / prefixes / suffixes build annotations).
    let mut rm = res_map(r#"[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}]"#);
    apply(&mut rm, "pre-", "-suf", &cfg()).unwrap();
    let r = &rm.resources()[0];
    assert_eq!(r.name(), "pre-cm-suf");
    assert_eq!(r.meta.prefixes, vec!["pre-".to_string()]);
    assert_eq!(r.meta.suffixes, vec!["-suf".to_string()]);
    let names: Vec<&str> = r
        .meta
        .previous_ids
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(names, vec!["cm", "pre-cm"]);
}
