use super::*;
use crate::kustomization::Image;
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

fn image(name: &str, new_name: &str, new_tag: &str, digest: &str, tag_suffix: &str) -> Image {
    Image {
        name: name.into(),
        new_name: new_name.into(),
        new_tag: new_tag.into(),
        digest: digest.into(),
        tag_suffix: tag_suffix.into(),
    }
}

#[test]
fn split_handles_registry_ports_tags_and_digests() {
    let t = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(split_image("nginx"), t("nginx", "", ""));
    assert_eq!(split_image("reg:5000/a/b:v1"), t("reg:5000/a/b", "v1", ""));
    assert_eq!(split_image("reg:5000/a/b"), t("reg:5000/a/b", "", ""));
    assert_eq!(
        split_image("nginx:1.0@sha256:xyz"),
        t("nginx", "1.0", "sha256:xyz")
    );
    assert_eq!(
        split_image("nginx@sha256:xyz"),
        t("nginx", "", "sha256:xyz")
    );
}

#[test]
fn image_entries_in_kustomize_precedence() {
    // Oracle: /tmp/ko/img — images: nginx newTag 1.2; gcr.io/foo/bar newName reg:5000/bar;
    // busybox digest sha256:abc; alpine tagSuffix -debug; redis newName redis newTag 7 digest
    // sha256:def. tagSuffix lands twice where legacy and field-spec passes both reach, once in a
    // custom kind's deep containers; `containers: null` becomes []; ephemeralContainers and a
    // bare `image` field are untouched; a custom kind's `spec.containers` map is rewritten.
    let mut rm = res_map(
        r#"[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":null,"initContainers":[{"name":"a","image":"nginx:1.0@sha256:xyz"},{"name":"b"}],"ephemeralContainers":[{"name":"e","image":"nginx"}]}},{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"name":"a","image":"gcr.io/foo/bar:v1"},{"name":"b","image":"busybox:1.0"},{"name":"c","image":"alpine:3.1"},{"name":"d","image":"redis"},{"name":"e","image":"nginxx"},{"name":"f","image":"docker.io/nginx"}]}}}},{"apiVersion":"x.io/v1","kind":"Foo","metadata":{"name":"f"},"spec":{"deep":{"containers":[{"image":"nginx"}],"initContainers":[{"image":"alpine"}]},"image":"nginx","containers":{"image":"nginx"}}}]"#,
    );
    let imgs = [
        image("nginx", "", "1.2", "", ""),
        image("gcr.io/foo/bar", "reg:5000/bar", "", "", ""),
        image("busybox", "", "", "sha256:abc", ""),
        image("alpine", "", "", "", "-debug"),
        image("redis", "redis", "7", "sha256:def", ""),
    ];
    apply(&mut rm, &imgs, &cfg()).unwrap();
    assert_all(
        &rm,
        r#"[{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"image":"reg:5000/bar:v1","name":"a"},{"image":"busybox@sha256:abc","name":"b"},{"image":"alpine:3.1-debug-debug","name":"c"},{"image":"redis:7@sha256:def","name":"d"},{"image":"nginxx","name":"e"},{"image":"docker.io/nginx","name":"f"}]}}}},{"apiVersion":"x.io/v1","kind":"Foo","metadata":{"name":"f"},"spec":{"containers":{"image":"nginx:1.2"},"deep":{"containers":[{"image":"nginx:1.2"}],"initContainers":[{"image":"alpine:-debug"}]},"image":"nginx"}},{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[],"ephemeralContainers":[{"image":"nginx","name":"e"}],"initContainers":[{"image":"nginx:1.2","name":"a"},{"name":"b"}]}}]"#,
    );
}
