//! Validation cases with kube-apiserver's messages (apiextensions-apiserver / kube-openapi).
use serde_json::{json, Value};

use super::*;

fn reg() -> Registry {
    let mut reg = Registry::builtin();
    reg.add_crd(&json!({
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "required": ["size"], "properties": {
                        "size": {"type": "integer", "minimum": 1, "maximum": 10},
                        "replicas": {"type": "integer", "default": 1},
                        "color": {"type": "string", "enum": ["red", "blue"]},
                        "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5},
                        "port": {"x-kubernetes-int-or-string": true},
                        "note": {"type": "string", "nullable": true},
                        "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "set": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                                  "items": {"type": "object", "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                                     "x-kubernetes-preserve-unknown-fields": true},
                        "nested": {"type": "object", "default": {}, "properties": {
                            "level": {"type": "string", "default": "info"}}}
                    }}
                }}}}]}
    }))
    .expect("crd");
    reg
}

fn widget(spec: Value) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec})
}

fn run(obj: &mut Value, mode: FieldValidation) -> Result<Vec<String>, Vec<FieldError>> {
    validate(obj, &reg(), &Gvk::new("example.com", "v1", "Widget"), mode)
}

fn messages(r: Result<Vec<String>, Vec<FieldError>>) -> Vec<String> {
    r.err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.message)
        .collect()
}

#[test]
fn type_error_message_matches_kube_apiserver() {
    let mut o = widget(json!({"size": 2, "replicas": "string"}));
    assert_eq!(
        messages(run(&mut o, FieldValidation::Strict)),
        ["spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\""]
    );
}

#[test]
fn required_enum_pattern_bounds() {
    let mut o = widget(json!({"color": "pink", "name": "ABC", "tags": ["a", "b", "c"]}));
    let m = messages(run(&mut o, FieldValidation::Strict));
    assert!(
        m.contains(&"spec.size: Required value".to_string()),
        "{m:?}"
    );
    assert!(m.contains(
        &"spec.color: Unsupported value: \"pink\": supported values: \"red\", \"blue\"".to_string()
    ));
    assert!(m.contains(
        &"spec.name: Invalid value: \"ABC\": spec.name in body should match '^[a-z]+$'".to_string()
    ));
    assert!(m.contains(&"spec.tags: Too many: 3: must have at most 2 items".to_string()));
    let mut o = widget(json!({"size": 1, "name": "abcdef"}));
    assert_eq!(
        messages(run(&mut o, FieldValidation::Strict)),
        ["spec.name: Too long: may not be more than 5 bytes"]
    );
    let mut o = widget(json!({"size": 0}));
    assert_eq!(
        messages(run(&mut o, FieldValidation::Strict)),
        ["spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"]
    );
    let mut o = widget(json!({"size": 11}));
    assert_eq!(
        messages(run(&mut o, FieldValidation::Strict)),
        ["spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"]
    );
}

#[test]
fn int_or_string_nullable_and_preserved_fields() {
    let mut o =
        widget(json!({"size": 1, "port": "http", "note": null, "free": {"any": {"thing": 1}}}));
    assert_eq!(run(&mut o, FieldValidation::Strict), Ok(vec![]));
    assert_eq!(o["spec"]["free"], json!({"any": {"thing": 1}}));
    let mut o = widget(json!({"size": 1, "port": true}));
    assert_eq!(
        messages(run(&mut o, FieldValidation::Strict)),
        ["spec.port: Invalid value: \"boolean\": spec.port in body must be of type integer,string: \"boolean\""]
    );
}

#[test]
fn defaulting_fills_missing_fields_recursively() {
    let mut o = widget(json!({"size": 3}));
    assert_eq!(run(&mut o, FieldValidation::Strict), Ok(vec![]));
    assert_eq!(o["spec"]["replicas"], 1);
    assert_eq!(o["spec"]["nested"], json!({"level": "info"}));
}

#[test]
fn unknown_fields_per_mode() {
    let base = widget(json!({"size": 3, "bogus": 1, "labels": {"a": "b"}}));
    let mut o = base.clone();
    let errs = run(&mut o, FieldValidation::Strict).expect_err("strict");
    assert_eq!(errs[0].reason, UNKNOWN_FIELD);
    assert_eq!(
        strict_decoding_message(&errs),
        "strict decoding error: unknown field \"spec.bogus\""
    );
    let mut o = base.clone();
    assert_eq!(
        run(&mut o, FieldValidation::Warn),
        Ok(vec!["unknown field \"spec.bogus\"".to_string()])
    );
    assert!(o["spec"].get("bogus").is_none(), "pruned");
    assert_eq!(
        o["spec"]["labels"],
        json!({"a": "b"}),
        "additionalProperties keep their keys"
    );
    let mut o = base;
    assert_eq!(run(&mut o, FieldValidation::Ignore), Ok(vec![]));
    assert!(o["spec"].get("bogus").is_none());
}

#[test]
fn embedded_resources_need_api_version_and_kind() {
    let mut o =
        widget(json!({"size": 1, "template": {"metadata": {"name": "x", "junk": 1}, "spec": {}}}));
    let m = messages(run(&mut o, FieldValidation::Ignore));
    assert_eq!(
        m,
        [
            "spec.template.apiVersion: Required value: must not be empty",
            "spec.template.kind: Required value: must not be empty"
        ]
    );
    assert!(o["spec"]["template"]["metadata"].get("junk").is_none());
}

#[test]
fn builtin_unknown_fields_and_required_name() {
    let reg = Registry::builtin();
    let gvk = Gvk::new("apps", "v1", "Deployment");
    let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"replicas": 1, "replicaz": 2, "template": {"spec": {"containers": [{"name": "c", "imag": "x"}]}}}});
    let errs = validate(&mut d.clone(), &reg, &gvk, FieldValidation::Strict).expect_err("strict");
    assert_eq!(
        strict_decoding_message(&errs),
        "strict decoding error: unknown field \"spec.replicaz\", unknown field \"spec.template.spec.containers[0].imag\""
    );
    let w = validate(&mut d, &reg, &gvk, FieldValidation::Warn).expect("warn");
    assert_eq!(w.len(), 2);
    assert!(d["spec"].get("replicaz").is_none());
    let mut cm =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}, "data": {"k": "v"}});
    let errs = validate(
        &mut cm,
        &reg,
        &Gvk::new("", "v1", "ConfigMap"),
        FieldValidation::Strict,
    )
    .expect_err("name");
    assert_eq!(
        errs[0].message,
        "metadata.name: Required value: name or generateName is required"
    );
}

#[test]
fn builtin_type_errors_read_like_encoding_json() {
    let reg = Registry::builtin();
    let gvk = Gvk::new("apps", "v1", "Deployment");
    let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"replicas": "string"}});
    let errs = validate(&mut d, &reg, &gvk, FieldValidation::Ignore).expect_err("type");
    assert_eq!(errs[0].reason, DECODE_ERROR);
    assert_eq!(
        errs[0].message,
        "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
    );
    let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "labels": {"a": 1}},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": 5}]}}}});
    let errs = validate(&mut d, &reg, &gvk, FieldValidation::Ignore).expect_err("type");
    assert!(errs[0].message.ends_with(
        "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"
    ), "{}", errs[0].message);
    let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": 5}]}}}});
    let errs = validate(&mut d, &reg, &gvk, FieldValidation::Ignore).expect_err("type");
    assert!(errs[0].message.ends_with(
        "json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image of type string"
    ), "{}", errs[0].message);
}

#[test]
fn list_type_set_and_map_refuse_duplicates() {
    let mut o = widget(json!({"size": 1, "set": ["a", "b", "a"],
        "ports": [{"name": "http", "port": 80}, {"name": "http", "port": 81}]}));
    assert_eq!(
        messages(run(&mut o, FieldValidation::Strict)),
        [
            "spec.set[2]: Duplicate value: \"a\"",
            "spec.ports[1]: Duplicate value: map[string]interface {}{\"name\":\"http\"}"
        ]
    );
}

#[test]
fn crd_schema_values_of_any_type_are_accepted() {
    // `enum`, `default` and `example` are apiextensions `v1.JSON`: any JSON value.
    let reg = Registry::builtin();
    let gvk = Gvk::new("apiextensions.k8s.io", "v1", "CustomResourceDefinition");
    let mut crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {"spec": {"type": "object", "properties": {
                    "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
                    "size": {"type": "integer", "default": 3, "example": 5},
                    "opts": {"type": "object", "default": {"x": true}}
                }}}
            }}}]}
    });
    let r = validate(&mut crd, &reg, &gvk, FieldValidation::Strict);
    assert!(r.is_ok(), "{r:?}");
    // A real type error elsewhere in the same object is still reported.
    crd["spec"]["versions"][0]["served"] = json!("yes");
    assert!(validate(&mut crd, &reg, &gvk, FieldValidation::Strict).is_err());
}
