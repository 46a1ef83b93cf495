//! End-to-end tests of `flotilla build` as a process: stdout byte-identical to
//! `kubectl kustomize`, errors on stderr with exit code 1 and nothing on stdout, the Flux
//! generated kustomization, and the load restrictor flag.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
mod common;

use common::{flotilla, tool_available};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("flotilla-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n        envFrom:\n        - configMapRef:\n            name: web-config\n";

#[test]
fn build_matches_kubectl_kustomize_byte_for_byte() {
    let d = scratch("overlay");
    write(&d, "base/deploy.yaml", DEPLOY);
    write(&d, "base/kustomization.yaml", "resources:\n- deploy.yaml\nconfigMapGenerator:\n- name: web-config\n  literals:\n  - MODE=base\n");
    write(
        &d,
        "prod/kustomization.yaml",
        "resources:\n- ../base\nnamePrefix: prod-\nnamespace: prod\ncommonLabels:\n  env: prod\nimages:\n- name: nginx\n  newTag: \"1.27\"\nconfigMapGenerator:\n- name: web-config\n  behavior: merge\n  literals:\n  - MODE=prod\n",
    );
    let root = d.join("prod");
    let ours = flotilla(&["build", root.to_str().unwrap()]);
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let text = String::from_utf8(ours.stdout).unwrap();
    assert!(
        text.contains("name: prod-web-config-"),
        "hash-suffixed, prefixed name:\n{text}"
    );
    assert!(text.contains("image: nginx:1.27"));
    if tool_available("kubectl", &["version", "--client"]) {
        let oracle = Command::new("kubectl")
            .arg("kustomize")
            .arg(&root)
            .output()
            .unwrap();
        assert!(oracle.status.success());
        assert_eq!(String::from_utf8(oracle.stdout).unwrap(), text);
    }
}

#[test]
fn errors_go_to_stderr_with_exit_code_1_and_nothing_on_stdout() {
    let d = scratch("missing");
    write(&d, "kustomization.yaml", "resources:\n- nope.yaml\n");
    let out = flotilla(&["build", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("kustomization.yaml"), "names the file: {err}");
    assert!(err.contains("nope.yaml"), "names the entry: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
}

#[test]
fn malformed_yaml_error_names_file_and_line() {
    let d = scratch("malformed");
    write(&d, "kustomization.yaml", "resources:\n- bad.yaml\n");
    write(
        &d,
        "bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: [1, 2\n",
    );
    let out = flotilla(&["build", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("bad.yaml:"), "names the file: {err}");
    assert!(err.contains("invalid YAML"), "{err}");
}

#[test]
fn load_restrictor_refuses_then_allows_files_outside_the_root() {
    let d = scratch("restrictor");
    write(
        &d,
        "shared/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n",
    );
    write(
        &d,
        "app/kustomization.yaml",
        "resources:\n- ../shared/cm.yaml\n",
    );
    let root = d.join("app");
    let refused = flotilla(&["build", root.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8(refused.stderr).unwrap();
    assert!(err.contains("not in or below"), "{err}");
    let allowed = flotilla(&["build", root.to_str().unwrap(), "--load-restrictor", "none"]);
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    assert!(String::from_utf8(allowed.stdout)
        .unwrap()
        .contains("name: shared"));
}

#[test]
fn flux_build_generates_a_kustomization_when_none_exists() {
    let d = scratch("flux");
    write(&d, "namespaced/team/deploy.yaml", DEPLOY);
    write(
        &d,
        "non-namespaced/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n",
    );
    write(&d, "notes.txt", "not yaml at all: [");
    write(
        &d,
        "sub/kustomization.yaml",
        "resources:\n- cm.yaml\nnamePrefix: sub-\n",
    );
    write(
        &d,
        "sub/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n",
    );
    let out = flotilla(&["build", d.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // Namespace sorts first; the sub-kustomization is taken whole (its prefix applied).
    assert!(
        text.starts_with("apiVersion: v1\nkind: Namespace\n"),
        "{text}"
    );
    assert!(text.contains("name: sub-web-config"));
    // Without generation it fails as kustomize does.
    let strict = flotilla(&["build", d.to_str().unwrap(), "--no-generate"]);
    assert_eq!(strict.status.code(), Some(1));
}
