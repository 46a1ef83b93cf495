use super::*;
use crate::accumulate::Source;
use crate::loader::{LoadRestrictor, Loader};
use serde_json::json;

/// A fresh scratch directory with `files`, opened as a target.
fn target(name: &str, files: &[(&str, &str)]) -> Target {
    let d = std::env::temp_dir().join(format!("flotilla-plugins-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    for (f, text) in files {
        let p = d.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let ldr = Loader::new(&d, LoadRestrictor::RootOnly).unwrap();
    Target::open(ldr, Source::File, &d).unwrap()
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

#[test]
fn parses_transformer_configs() {
    let p = parse_plugin(
        "PrefixSuffixTransformer",
        &obj(
            json!({"prefix": "p-", "suffix": "-s", "fieldSpecs": [{"path": "metadata/name"}],
                    "unknown": 1}),
        ),
    )
    .unwrap();
    let Plugin::PrefixSuffix {
        prefix,
        suffix,
        field_specs,
    } = p
    else {
        panic!("{p:?}")
    };
    assert_eq!((prefix.as_str(), suffix.as_str()), ("p-", "-s"));
    assert_eq!(
        field_specs,
        vec![FieldSpec::new("", "", "", "metadata/name", false)]
    );
    // PrefixTransformer ignores `suffix`
    let p = parse_plugin(
        "PrefixTransformer",
        &obj(json!({"prefix": "p-", "suffix": "-s", "fieldSpecs": []})),
    )
    .unwrap();
    assert!(matches!(p, Plugin::PrefixSuffix { ref suffix, .. } if suffix.is_empty()));

    let p = parse_plugin(
        "NamespaceTransformer",
        &obj(
            json!({"metadata": {"name": "n", "namespace": "prod"}, "unsetOnly": true,
                    "setRoleBindingSubjects": "none", "fieldSpecs": null}),
        ),
    )
    .unwrap();
    assert!(
        matches!(p, Plugin::Namespace { ref namespace, unset_only: true, ref subjects, ref field_specs }
        if namespace == "prod" && subjects == "none" && field_specs.is_empty())
    );

    let p = parse_plugin(
        "ImageTagTransformer",
        &obj(json!({"imageTag": {"name": "nginx", "newTag": "1.2"}})),
    )
    .unwrap();
    assert!(matches!(p, Plugin::ImageTag { ref image, .. } if image.new_tag == "1.2"));

    let p = parse_plugin(
        "PatchJson6902Transformer",
        &obj(json!({"target": {"kind": "Deployment", "name": "web"}, "jsonOp": "[]"})),
    )
    .unwrap();
    assert!(matches!(p, Plugin::PatchJson6902(ref patch) if patch.patch == "[]"));
    assert!(matches!(
        parse_plugin("HashTransformer", &Map::new()),
        Ok(Plugin::Hash)
    ));
}

#[test]
fn parses_generator_configs() {
    let p = parse_plugin(
        "ConfigMapGenerator",
        &obj(
            json!({"metadata": {"name": "meta", "namespace": "ns"}, "name": "top",
                    "literals": ["a=b"], "env": "ignored.env", "type": "ignored"}),
        ),
    )
    .unwrap();
    let Plugin::ConfigMapGenerator(args) = p else {
        panic!("{p:?}")
    };
    assert_eq!((args.name.as_str(), args.namespace.as_str()), ("top", "ns"));
    assert_eq!(args.literals, ["a=b"]);
    assert!(args.envs.is_empty() && args.kind_type.is_empty());
    let p = parse_plugin(
        "SecretGenerator",
        &obj(json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls"})),
    )
    .unwrap();
    assert!(
        matches!(p, Plugin::SecretGenerator(ref a) if a.name == "s" && a.kind_type == "kubernetes.io/tls")
    );
}

#[test]
fn configuration_errors() {
    let e = |kind: &str, v: Value| parse_plugin(kind, &obj(v)).unwrap_err();
    assert_eq!(
        e("PrefixTransformer", json!({"prefix": "p"})),
        Some("fieldSpecs is not expected to be nil".to_string())
    );
    assert_eq!(
        e("PatchStrategicMergeTransformer", json!({})),
        Some("empty file path and empty patch content".to_string())
    );
    assert_eq!(
        e(
            "PatchJson6902Transformer",
            json!({"target": {"kind": "X"}, "jsonOp": "[]"})
        ),
        Some("must specify the target name".to_string())
    );
    assert!(e("LabelTransformer", json!({"labels": ["not", "a", "map"]})).is_some());
    assert_eq!(e("SortOrderTransformer", json!({})), None);
}

#[test]
fn refuses_non_builtin_and_misplaced_kinds() {
    let t = target(
        "refuse",
        &[(
            "kustomization.yaml",
            "resources: []\ntransformers:\n- |-\n  apiVersion: example.com/v1\n  kind: Foo\n  metadata:\n    name: x\n",
        )],
    );
    let e = load_configs(&t, "transformers").unwrap_err().to_string();
    assert!(
        e.contains(
            "kustomization.yaml: transformers: plugin kind 'Foo' with apiVersion 'example.com/v1'"
        ) && e.ends_with("is not supported"),
        "{e}"
    );
    let cfg = |kind: &str| {
        Resource::new(obj(
            json!({"apiVersion": "builtin", "kind": kind, "metadata": {"name": "x"},
                                 "literals": ["a=b"]}),
        ))
    };
    let e = configure(&t, &cfg("ConfigMapGenerator"), "transformers")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("field transformers: plugin ConfigMapGenerator 'x': not a transformer"),
        "{e}"
    );
    let e = configure(&t, &cfg("HashTransformer"), "generators")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a generator"), "{e}");
    let e = configure(&t, &cfg("ValueAddTransformer"), "transformers")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("built-in plugin kind 'ValueAddTransformer' is not supported"),
        "{e}"
    );
    let e = configure(&t, &cfg("Bogus"), "transformers")
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown built-in plugin kind 'Bogus'"), "{e}");
}

#[test]
fn inline_configs_run_before_path_entries() {
    let t = target(
        "order",
        &[
            (
                "kustomization.yaml",
                "resources: []\ntransformers:\n- p.yaml\n- |-\n  apiVersion: builtin\n  kind: PrefixTransformer\n  metadata:\n    name: inline\n  prefix: b-\n  fieldSpecs:\n  - path: metadata/name\n",
            ),
            (
                "p.yaml",
                "apiVersion: builtin\nkind: PrefixTransformer\nmetadata:\n  name: file\nprefix: a-\nfieldSpecs:\n- path: metadata/name\n",
            ),
        ],
    );
    let configs = load_configs(&t, "transformers").unwrap();
    let names: Vec<_> = configs
        .iter()
        .map(|c| match &c.plugin {
            Plugin::PrefixSuffix { prefix, .. } => prefix.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["b-", "a-"]);
    let mut rm: ResMap = [Resource::new(obj(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
    ))]
    .into_iter()
    .collect();
    run_transformers(&t, &mut rm).unwrap();
    assert_eq!(rm.resources()[0].name(), "a-b-c");
    assert_eq!(rm.resources()[0].meta.prefixes, ["b-", "a-"]);
}
