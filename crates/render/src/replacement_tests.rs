//! Tests of replacements. The fixture is the one the cases were run on with
//! `kubectl kustomize` (kustomize v5.5.0); each expected result or error is what it printed.

use super::*;
use serde_json::json;

fn fixture() -> ResMap {
    let docs = [
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "src",
            "annotations": {"config.kubernetes.io/x": "annval", "a.b": "dotted"}},
            "data": {"str": "hello", "num": "7", "csv": "a,b,c", "img": "nginx:1.2", "tf": "true"}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "dep", "labels": {"app": "web"}},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "nginx", "image": "nginx:old", "args": ["x", "y"],
                 "env": [{"name": "A", "value": "va"}]},
                {"name": "side", "image": "side:old", "ports": [{"containerPort": 80}]}]}}}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "dep2", "namespace": "other"},
            "spec": {"replicas": 2, "paused": false, "template": {"spec": {"containers": [
                {"name": "nginx", "image": "nginx:old2"}]}}}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "edge", "labels": {"tier": "be"}},
            "data": {"empty": "", "nul": null, "obj": {}, "ver": "1.2.3", "n": null, "list": ["a"]}}),
    ];
    docs.into_iter()
        .map(|d| Resource::new(d.as_object().cloned().unwrap()))
        .collect()
}

fn run(repl: Value) -> Result<ResMap, RenderError> {
    let mut rm = fixture();
    apply(&mut rm, repl.as_array().unwrap())?;
    Ok(rm)
}

fn get(rm: &ResMap, name: &str) -> Value {
    let r = rm.iter().find(|r| r.name() == name).unwrap();
    Value::Object(r.obj.clone())
}

fn err_of(repl: Value) -> String {
    run(repl).unwrap_err().to_string()
}

fn one(source: Value, targets: Value) -> Value {
    json!([{"source": source, "targets": targets}])
}

#[test]
fn scalar_keeps_target_type() {
    let rm = run(json!([
        {"source": {"kind": "ConfigMap", "name": "src", "fieldPath": "data.num"},
         "targets": [{"select": {"kind": "Deployment"}, "fieldPaths": [
            "spec.replicas", "spec.template.spec.containers.[name=nginx].image"]}]},
        {"source": {"kind": "ConfigMap", "name": "src", "fieldPath": "data.tf"},
         "targets": [{"select": {"name": "dep2"}, "fieldPaths": ["spec.paused"]}]},
    ]))
    .unwrap();
    for d in ["dep", "dep2"] {
        let v = get(&rm, d);
        assert_eq!(v["spec"]["replicas"], json!(7));
        assert_eq!(
            v["spec"]["template"]["spec"]["containers"][0]["image"],
            json!("7")
        );
    }
    assert_eq!(get(&rm, "dep2")["spec"]["paused"], json!(true));
}

#[test]
fn string_into_int_field_is_an_error() {
    let e = err_of(one(
        json!({"kind": "ConfigMap", "name": "src", "fieldPath": "data.str"}),
        json!([{"select": {"name": "dep"}, "fieldPaths": ["spec.replicas"]}]),
    ));
    assert!(e.contains("cannot decode !!str `hello` as a !!int"), "{e}");
}

#[test]
fn map_source_into_scalar_and_map_targets() {
    let rm = run(one(
        json!({"name": "src", "fieldPath": "metadata.annotations"}),
        json!([{"select": {"name": "dep"}, "fieldPaths": [
            "spec.template.spec.containers.0.image", "metadata.labels"]}]),
    ))
    .unwrap();
    let d = get(&rm, "dep");
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        json!("")
    );
    assert_eq!(
        d["metadata"]["labels"],
        json!({"config.kubernetes.io/x": "annval", "a.b": "dotted"})
    );
}

#[test]
fn create_missing_fields() {
    let rm = run(json!([
        {"source": {"name": "src", "fieldPath": "data.num"},
         "targets": [{"select": {"name": "dep"}, "options": {"create": true}, "fieldPaths": [
            "spec.newfield", "spec.a.b.c", "spec.template.spec.containers.[name=newc].image",
            "metadata.annotations.[config.kubernetes.io/y]", "spec.template.spec.volumes.0.name",
            "metadata.labels.[a.b]", "metadata.labels.x\\.y"]}]},
        {"source": {"name": "src", "fieldPath": "data.str"},
         "targets": [{"select": {"name": "dep"}, "options": {"create": true},
            "fieldPaths": ["spec.strfield"]}]},
    ]))
    .unwrap();
    let d = get(&rm, "dep");
    assert_eq!(d["spec"]["newfield"], json!(7));
    assert_eq!(d["spec"]["a"], json!({"b": {"c": 7}}));
    assert_eq!(d["spec"]["strfield"], json!("hello"));
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["containers"][2], json!({"name": "newc", "image": 7}));
    assert_eq!(pod["volumes"], json!([{"name": 7}]));
    assert_eq!(
        d["metadata"]["annotations"],
        json!({"config.kubernetes.io/y": "7"})
    );
    assert_eq!(
        d["metadata"]["labels"],
        json!({"app": "web", "a.b": 7, "x.y": 7})
    );
}

#[test]
fn bracketed_source_key() {
    let rm = run(one(
        json!({"name": "src", "fieldPath": "metadata.annotations.[config.kubernetes.io/x]"}),
        json!([{"select": {"name": "dep"}, "fieldPaths": ["metadata.labels.app"]}]),
    ))
    .unwrap();
    assert_eq!(
        get(&rm, "dep")["metadata"]["labels"]["app"],
        json!("annval")
    );
}

#[test]
fn missing_target_field_errors() {
    let src = json!({"kind": "ConfigMap", "name": "src", "fieldPath": "data.num"});
    let e = err_of(one(
        src.clone(),
        json!([{"select": {"kind": "Deployment"}, "fieldPaths": ["spec.replicas", "spec.paused"]}]),
    ));
    assert!(
        e.contains("unable to find field \"spec.paused\" in replacement target"),
        "{e}"
    );
    // the wildcard finds the env of dep's first container but nothing in dep2
    let e = err_of(one(
        src.clone(),
        json!([{"select": {"kind": "Deployment"},
            "fieldPaths": ["spec.template.spec.containers.*.env.[name=A].value"]}]),
    ));
    assert!(e.ends_with("unable to find field \"spec.template.spec.containers.*.env.[name=A].value\" in replacement target"), "{e}");
    let e = err_of(one(
        src,
        json!([{"select": {"name": "dep"}, "fieldPaths": ["spec.template.spec.containers.5.image"]}]),
    ));
    assert!(e.contains("unable to find field \"spec.template.spec.containers.5.image\" in replacement target: index 5 specified but only 2 elements found"), "{e}");
}

#[test]
fn indexes_wildcards_and_primitive_matches() {
    let rm = run(one(
        json!({"name": "src", "fieldPath": "data.num"}),
        json!([{"select": {"name": "dep"}, "fieldPaths": [
            "spec.template.spec.containers.1.image", "spec.template.spec.containers.*.image",
            "spec.template.spec.containers.0.args.1", "spec.template.spec.containers.0.args.[=x]"]}]),
    ))
    .unwrap();
    let c = &get(&rm, "dep")["spec"]["template"]["spec"]["containers"];
    assert_eq!(c[0]["args"], json!(["7", "7"]));
    assert_eq!(c[0]["image"], json!("7"));
    assert_eq!(c[1]["image"], json!("7"));
}

#[test]
fn list_matchers_are_unanchored_regexes() {
    let rm = run(one(
        json!({"name": "src", "fieldPath": "data.str"}),
        json!([{"select": {"name": "dep"}, "fieldPaths": [
            "spec.template.spec.containers.[name=ngi].image",
            "spec.template.spec.containers.[name=^s.*e$].image"]}]),
    ))
    .unwrap();
    let c = &get(&rm, "dep")["spec"]["template"]["spec"]["containers"];
    assert_eq!(c[0]["image"], json!("hello"));
    assert_eq!(c[1]["image"], json!("hello"));
}

#[test]
fn path_kind_errors() {
    let src = json!({"name": "src", "fieldPath": "data.str"});
    for (fp, want) in [
        (
            "metadata.labels.*",
            "wrong node kind: expected SequenceNode but got MappingNode",
        ),
        (
            "spec.template.spec.containers.0.args.-",
            "wrong node kind: expected MappingNode but got SequenceNode",
        ),
        (
            "metadata.name.x",
            "wrong node kind: expected MappingNode but got ScalarNode",
        ),
        (
            "spec.template.spec.containers.[foo]",
            "list path element must contain fieldName=fieldValue for element to match",
        ),
    ] {
        let e = err_of(one(
            src.clone(),
            json!([{"select": {"name": "dep"}, "fieldPaths": [fp]}]),
        ));
        assert!(
            e.contains(&format!(
                "unable to find field \"{fp}\" in replacement target: {want}"
            )),
            "{e}"
        );
    }
}

#[test]
fn select_name_is_not_a_regex() {
    let rm = run(one(
        json!({"name": "src", "fieldPath": "data.str"}),
        json!([{"select": {"name": "de.*"}, "fieldPaths": ["metadata.labels.app"]}]),
    ))
    .unwrap();
    assert_eq!(get(&rm, "dep")["metadata"]["labels"]["app"], json!("web"));
}

#[test]
fn source_must_have_a_value() {
    let rm = run(one(
        json!({"name": "edge", "fieldPath": "data.empty"}),
        json!([{"select": {"name": "dep"}, "fieldPaths": ["metadata.labels.app"]}]),
    ))
    .unwrap();
    assert_eq!(get(&rm, "dep")["metadata"]["labels"]["app"], json!(""));
    for fp in ["data.nul", "data.obj", "data.missing", "data.n"] {
        let e = err_of(one(
            json!({"name": "edge", "fieldPath": fp}),
            json!([{"select": {"name": "dep"}, "fieldPaths": ["metadata.labels.app"]}]),
        ));
        assert!(e.contains(&format!("fieldPath `{fp}` is missing for replacement source [noKind].[noVer].[noGrp]/edge.[noNs]")), "{e}");
    }
}

#[test]
fn source_selection_errors() {
    let t = json!([{"select": {"name": "dep"}}]);
    let e = err_of(one(json!({"kind": "Deployment"}), t.clone()));
    assert!(
        e.contains("multiple matches for selector Deployment.[noVer].[noGrp]/[noName].[noNs]"),
        "{e}"
    );
    let e = err_of(one(
        json!({"kind": "Deployment", "name": "nope", "namespace": "ns1", "version": "v1", "group": "apps"}),
        t,
    ));
    assert!(
        e.contains("nothing selected by Deployment.v1.apps/nope.ns1"),
        "{e}"
    );
    let e = err_of(json!([{"source": {"kind": "Deployment", "name": "dep"}}]));
    assert!(
        e.contains("replacements must specify a source and at least one target"),
        "{e}"
    );
    let e = err_of(one(json!({"name": "dep"}), json!([{"fieldPaths": ["a"]}])));
    assert!(e.contains("target must specify resources to select"), "{e}");
}

#[test]
fn source_paths() {
    let e = err_of(one(
        json!({"name": "dep", "fieldPath": "spec.template.spec.containers.*.image"}),
        json!([{"select": {"name": "edge"}, "fieldPaths": ["data.ver"]}]),
    ));
    assert!(
        e.contains("error looking up replacement source: wildcard is not supported in PathGetter"),
        "{e}"
    );
    // sources match list entries exactly
    let e = err_of(one(
        json!({"name": "dep", "fieldPath": "spec.template.spec.containers.[name=si].image"}),
        json!([{"select": {"name": "edge"}, "fieldPaths": ["data.ver"]}]),
    ));
    assert!(e.contains("is missing for replacement source"), "{e}");
    // `-` is the last element; a leading dot is ignored
    let rm = run(json!([
        {"source": {"name": "dep", "fieldPath": "spec.template.spec.containers.-.image"},
         "targets": [{"select": {"name": "dep"}, "fieldPaths": ["metadata.labels.app"]}]},
        {"source": {"name": "src", "fieldPath": ".data.str"},
         "targets": [{"select": {"name": "dep2"}, "fieldPaths": [".spec.template.spec.containers.0.image"]}]},
    ]))
    .unwrap();
    assert_eq!(
        get(&rm, "dep")["metadata"]["labels"]["app"],
        json!("side:old")
    );
    assert_eq!(
        get(&rm, "dep2")["spec"]["template"]["spec"]["containers"][0]["image"],
        json!("hello")
    );
}

#[test]
fn delimiters() {
    let rm = run(one(
        json!({"name": "src", "fieldPath": "data.img", "options": {"delimiter": ":", "index": 1}}),
        json!([
            {"select": {"name": "dep"}, "fieldPaths": ["metadata.labels.app"]},
            {"select": {"name": "dep"}, "options": {"delimiter": ":", "index": 1},
             "fieldPaths": ["spec.template.spec.containers.0.image"]},
            {"select": {"name": "dep"}, "options": {"delimiter": ":", "index": -1},
             "fieldPaths": ["spec.template.spec.containers.1.image"]},
            {"select": {"name": "dep"}, "options": {"delimiter": "-", "index": 7},
             "fieldPaths": ["spec.template.spec.containers.0.env.0.value"]},
            {"select": {"name": "dep"}, "options": {"delimiter": "-"},
             "fieldPaths": ["spec.template.spec.containers.0.env.0.name"]},
        ]),
    ))
    .unwrap();
    let d = get(&rm, "dep");
    let c = &d["spec"]["template"]["spec"]["containers"];
    assert_eq!(d["metadata"]["labels"]["app"], json!("1.2"));
    assert_eq!(c[0]["image"], json!("nginx:1.2"));
    assert_eq!(c[1]["image"], json!("1.2:side:old"));
    assert_eq!(c[0]["env"][0], json!({"name": "1.2", "value": "va-1.2"}));
    let e = err_of(one(
        json!({"name": "src", "fieldPath": "data.img", "options": {"delimiter": ":", "index": 2}}),
        json!([{"select": {"name": "dep"}, "fieldPaths": ["metadata.labels.app"]}]),
    ));
    assert!(
        e.contains("options.index 2 is out of bounds for value nginx:1.2"),
        "{e}"
    );
}

#[test]
fn number_bool_and_list_sources() {
    let port = json!({"name": "dep", "fieldPath": "spec.template.spec.containers.[name=side].ports.0.containerPort"});
    let e = err_of(one(
        port.clone(),
        json!([{"select": {"name": "edge"}, "fieldPaths": ["data.nul"]}]),
    ));
    assert!(e.contains("cannot decode !!int `80` as a !!null"), "{e}");
    let e = err_of(one(
        json!({"name": "src", "fieldPath": "data.str"}),
        json!([{"select": {"name": "edge"}, "fieldPaths": ["data.n"]}]),
    ));
    assert!(e.contains("cannot decode !!str `hello` as a !!null"), "{e}");
    let rm = run(json!([
        {"source": port, "targets": [
            {"select": {"name": "edge"}, "fieldPaths": ["data.ver"]},
            {"select": {"name": "edge"}, "options": {"create": true},
             "fieldPaths": ["data.new", "data.list.1"]}]},
        {"source": {"name": "dep2", "fieldPath": "spec.paused"}, "targets": [
            {"select": {"name": "edge"}, "options": {"create": true},
             "fieldPaths": ["data.newbool", "data.empty"]}]},
        {"source": {"name": "dep", "fieldPath": "spec.template.spec.containers.0.env"}, "targets": [
            {"select": {"name": "edge"}, "options": {"create": true},
             "fieldPaths": ["data.newlist", "data.obj", "metadata.labels.tier"]}]},
    ]))
    .unwrap();
    let e = get(&rm, "edge");
    let env = json!([{"name": "A", "value": "va"}]);
    assert_eq!(
        e["data"],
        json!({"empty": "false", "nul": null, "obj": env, "ver": "80", "n": null,
            "list": ["a", 80], "new": 80, "newbool": false, "newlist": env})
    );
    assert_eq!(e["metadata"]["labels"]["tier"], json!(""));
}

#[test]
fn null_parent_with_create_changes_nothing() {
    let src = json!({"name": "src", "fieldPath": "data.str"});
    let rm = run(one(
        src.clone(),
        json!([{"select": {"name": "edge"}, "options": {"create": true}, "fieldPaths": ["data.nul.x"]}]),
    ))
    .unwrap();
    assert_eq!(get(&rm, "edge")["data"]["nul"], Value::Null);
    let e = err_of(one(
        src,
        json!([{"select": {"name": "edge"}, "fieldPaths": ["data.nul.x"]}]),
    ));
    assert!(
        e.ends_with("unable to find field \"data.nul.x\" in replacement target"),
        "{e}"
    );
}

#[test]
fn previous_names_reject_and_label_selectors() {
    // as if a base had `namePrefix: p-`
    let mut rm = fixture();
    for r in rm.iter_mut() {
        r.remember_id();
        let n = format!("p-{}", r.name());
        r.set_name(&n);
    }
    let repl = json!([{"source": {"name": "src", "fieldPath": "data.str"}, "targets": [
        {"select": {"kind": "Deployment"}, "reject": [{"name": "dep2"}], "fieldPaths": ["metadata.labels.app"]},
        {"select": {"name": "p-edge", "labelSelector": "tier=be"}, "fieldPaths": ["data.ver"]},
        {"select": {"kind": "ConfigMap"}, "reject": [{"labelSelector": "tier=be"}, {"name": "src"}],
         "fieldPaths": ["metadata.name"]},
    ]}]);
    apply(&mut rm, repl.as_array().unwrap()).unwrap();
    assert_eq!(
        get(&rm, "p-dep")["metadata"]["labels"]["app"],
        json!("hello")
    );
    assert!(get(&rm, "p-dep2")["metadata"].get("labels").is_none());
    assert_eq!(get(&rm, "p-edge")["data"]["ver"], json!("hello"));
    assert!(rm.iter().any(|r| r.name() == "p-src"));
}

#[test]
fn path_splitting() {
    assert_eq!(
        split_path("spec.template.spec.containers.[name=com.foo.app].image"),
        [
            "spec",
            "template",
            "spec",
            "containers",
            "[name=com.foo.app]",
            "image"
        ]
    );
    assert_eq!(
        split_path("metadata.annotations.[a.b/c]"),
        ["metadata", "annotations", "a.b/c"]
    );
    assert_eq!(split_path(".a\\.b.c"), ["a.b", "c"]);
    assert_eq!(split_path("[x]"), ["[x]"]);
}

#[test]
fn plain_scalar_resolution() {
    assert_eq!(resolve_plain("7"), json!(7));
    assert_eq!(resolve_plain("0x10"), json!(16));
    assert_eq!(resolve_plain("010"), json!(8));
    assert_eq!(resolve_plain("1.5"), json!(1.5));
    assert_eq!(resolve_plain("true"), json!(true));
    assert_eq!(resolve_plain("yes"), json!("yes"));
    assert_eq!(resolve_plain("~"), Value::Null);
    assert_eq!(resolve_plain("1.2.3"), json!("1.2.3"));
    assert_eq!(resolve_plain("nginx:1.2"), json!("nginx:1.2"));
}

#[test]
fn load_from_files() {
    use crate::loader::{LoadRestrictor, Loader};
    let d = std::env::temp_dir().join(format!("flotilla-repl-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("one.yaml"),
        "source:\n  name: src\n  fieldPath: data.str\ntargets:\n- select:\n    name: dep\n  fieldPaths: [metadata.labels.app]\n",
    )
    .unwrap();
    std::fs::write(
        d.join("list.yaml"),
        "- source:\n    name: src\n    fieldPath: data.num\n  targets:\n  - select:\n      name: dep2\n    fieldPaths: [spec.replicas]\n",
    )
    .unwrap();
    std::fs::write(d.join("s.yaml"), "\"str\"\n").unwrap();
    let ldr = Loader::new(&d, LoadRestrictor::RootOnly).unwrap();
    let field = |v: Value| -> ReplacementField { serde_json::from_value(v).unwrap() };
    let mut all = load(&ldr, &field(json!({"path": "one.yaml"}))).unwrap();
    all.extend(load(&ldr, &field(json!({"path": "list.yaml", "targets": []}))).unwrap());
    assert_eq!(all.len(), 2);
    let mut rm = fixture();
    apply(&mut rm, &all).unwrap();
    assert_eq!(get(&rm, "dep")["metadata"]["labels"]["app"], json!("hello"));
    assert_eq!(get(&rm, "dep2")["spec"]["replicas"], json!(7));
    let e = load(
        &ldr,
        &field(json!({"path": "one.yaml", "source": {"name": "src"}})),
    )
    .unwrap_err();
    assert!(e
        .to_string()
        .contains("cannot specify both path and inline replacement"));
    let e = load(&ldr, &field(json!({"path": "s.yaml"}))).unwrap_err();
    assert!(e
        .to_string()
        .contains("unsupported replacement type encountered within replacement path: string"));
    let inline = load(
        &ldr,
        &field(json!({"source": {"name": "src"}, "targets": []})),
    )
    .unwrap();
    assert_eq!(
        inline,
        vec![json!({"source": {"name": "src"}, "targets": []})]
    );
    let _ = std::fs::remove_dir_all(&d);
}
