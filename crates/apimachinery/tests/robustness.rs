//! No input makes the machinery panic: arbitrary JSON as patch, applied configuration,
//! object to validate or to print, on built-in kinds and a custom resource.
use flotilla_apimachinery::validate::{validate, FieldValidation};
use flotilla_apimachinery::{apply, strategic, table, Gvk, Registry};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn keys() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("spec".to_string()),
        Just("metadata".to_string()),
        Just("containers".to_string()),
        Just("template".to_string()),
        Just("name".to_string()),
        Just("ports".to_string()),
        Just("$patch".to_string()),
        Just("$retainKeys".to_string()),
        Just("$setElementOrder/containers".to_string()),
        Just("$deleteFromPrimitiveList/finalizers".to_string()),
        Just("finalizers".to_string()),
        Just("labels".to_string()),
        Just("managedFields".to_string()),
        "[a-z]{1,3}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|i| json!(i)),
        prop_oneof![
            Just("replace"),
            Just("delete"),
            Just("merge"),
            Just("x"),
            Just("2024-01-01T00:00:00Z")
        ]
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn registry() -> Registry {
    let mut reg = Registry::builtin();
    let crd = json!({"metadata": {"name": "ws.x.io"}, "spec": {"group": "x.io", "scope": "Namespaced",
        "names": {"plural": "ws", "kind": "W"}, "versions": [{"name": "v1", "served": true, "storage": true,
        "additionalPrinterColumns": [{"name": "N", "type": "integer", "jsonPath": ".spec.n[?(@.a==\"b\")]"}],
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"n": {"type": "integer", "minimum": 0, "default": 1},
                           "l": {"type": "array", "x-kubernetes-list-type": "map",
                                 "x-kubernetes-list-map-keys": ["name"], "items": {"type": "object"}}}}}}}}]}});
    let _ = reg.add_crd(&crd);
    reg
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn nothing_panics(live in json_value(), patch in json_value(), kind in 0usize..3) {
        let reg = registry();
        let gvk = [Gvk::new("apps", "v1", "Deployment"), Gvk::new("", "v1", "Pod"), Gvk::new("x.io", "v1", "W")][kind].clone();
        let _ = strategic::merge(&live, &patch, &reg, &gvk);
        let mut applied = patch.clone();
        if let Some(m) = applied.as_object_mut() {
            m.insert("apiVersion".into(), json!(gvk.api_version()));
            m.insert("kind".into(), json!(gvk.kind));
        }
        let _ = apply::apply(Some(&live), &applied, "m", false, &reg, &gvk);
        let _ = apply::apply(None, &applied, "m", true, &reg, &gvk);
        let mut new = patch.clone();
        apply::track_update(Some(&live), &mut new, "u", "Update");
        for mode in [FieldValidation::Strict, FieldValidation::Warn, FieldValidation::Ignore] {
            let mut o = patch.clone();
            let _ = validate(&mut o, &reg, &gvk, mode);
        }
        if let Some(info) = reg.by_gvk(&gvk) {
            let _ = table::to_table(info, &[live.clone(), patch.clone()], true);
        }
    }
}
