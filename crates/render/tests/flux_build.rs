//! The Flux Kustomization build: spec fields layered on the path's kustomization (or the
//! generated one), confined to the artifact root.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flotilla_render::flux::build_kustomization;
use serde_json::json;
use std::path::{Path, PathBuf};

fn artifact(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("flotilla-fluxbuild-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n";

#[test]
fn spec_fields_apply_to_a_generated_kustomization() {
    let a = artifact("generated");
    write(&a, "apps/web/deploy.yaml", DEPLOY);
    write(
        &a,
        "apps/web/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n",
    );
    let spec = json!({
        "path": "./apps/web",
        "targetNamespace": "team-a",
        "namePrefix": "a-",
        "images": [{"name": "nginx", "newTag": "1.27"}],
        "patches": [{
            "patch": "- op: replace\n  path: /spec/replicas\n  value: 3\n",
            "target": {"kind": "Deployment"}
        }],
        "commonMetadata": {"labels": {"team": "a"}, "annotations": {"owner": "platform"}}
    });
    let r = build_kustomization(&a, &spec).unwrap();
    let d = r
        .objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .unwrap();
    assert_eq!(d["metadata"]["name"], "a-web");
    assert_eq!(d["metadata"]["namespace"], "team-a");
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    assert_eq!(d["metadata"]["labels"]["team"], "a");
    assert_eq!(d["metadata"]["annotations"]["owner"], "platform");
    // commonMetadata is metadata only: selectors are untouched.
    assert!(d["spec"]["selector"]["matchLabels"].get("team").is_none());
    let cm = r.objects.iter().find(|o| o["kind"] == "ConfigMap").unwrap();
    assert_eq!(cm["metadata"]["name"], "a-cfg");
}

#[test]
fn an_existing_kustomization_gains_the_spec_fields_and_may_reach_up_inside_the_artifact() {
    let a = artifact("existing");
    write(&a, "base/deploy.yaml", DEPLOY);
    write(
        &a,
        "overlay/kustomization.yaml",
        "resources:\n- ../base/deploy.yaml\nimages:\n- name: nginx\n  newTag: \"1.26\"\n",
    );
    let spec = json!({"path": "overlay", "images": [{"name": "nginx", "newTag": "1.28"}]});
    let r = build_kustomization(&a, &spec).unwrap();
    // A file outside the kustomization directory but inside the artifact is allowed (Flux
    // builds with the load restrictor off), and the spec's image replaces the file's entry.
    assert_eq!(
        r.objects[0]["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.28"
    );
}

#[test]
fn nothing_outside_the_artifact_is_read() {
    let outer = artifact("jail");
    write(
        &outer,
        "secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n",
    );
    let a = outer.join("artifact");
    write(
        &a,
        "app/kustomization.yaml",
        "resources:\n- ../../secret.yaml\n",
    );
    let err = build_kustomization(&a, &json!({"path": "app"})).unwrap_err();
    assert!(err.to_string().contains("not in or below"), "{err}");
    let err = build_kustomization(&a, &json!({"path": "../"})).unwrap_err();
    assert!(err.to_string().contains("leaves the artifact"), "{err}");
    let err = build_kustomization(&a, &json!({"path": "missing"})).unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}
