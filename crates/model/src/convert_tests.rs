use super::*;
use serde_json::json;

const SHA: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

fn ok(r: Result<Value, Error>) -> Value {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn revisions_v1beta1_to_v1() {
    assert_eq!(
        revision_to_v1(&format!("main/{SHA}")),
        format!("main@sha1:{SHA}")
    );
    assert_eq!(
        revision_to_v1(&format!("feature/x/{SHA}")),
        format!("feature/x@sha1:{SHA}")
    );
    assert_eq!(
        revision_to_v1(&format!("v0.0.3/{SHA}")),
        format!("v0.0.3@sha1:{SHA}")
    );
    assert_eq!(
        revision_to_v1(&format!("HEAD/{SHA}")),
        format!("sha1:{SHA}")
    );
    assert_eq!(revision_to_v1(SHA), format!("sha1:{SHA}"));
    let sha256 = "a".repeat(64);
    assert_eq!(
        revision_to_v1(&format!("main/{sha256}")),
        format!("main@sha256:{sha256}")
    );
    // Already new, or not a revision we know: unchanged.
    assert_eq!(
        revision_to_v1(&format!("main@sha1:{SHA}")),
        format!("main@sha1:{SHA}")
    );
    assert_eq!(revision_to_v1("main/abc"), "main/abc");
    assert_eq!(revision_to_v1("6.1.0"), "6.1.0");
    assert_eq!(revision_to_v1(""), "");
}

#[test]
fn revisions_v1_to_v1beta1() {
    assert_eq!(
        revision_to_v1beta1(&format!("main@sha1:{SHA}")),
        format!("main/{SHA}")
    );
    assert_eq!(
        revision_to_v1beta1(&format!("sha1:{SHA}")),
        format!("HEAD/{SHA}")
    );
    assert_eq!(revision_to_v1beta1("6.1.0"), "6.1.0");
    assert_eq!(revision_to_v1beta1("main@sha1:short"), "main@sha1:short");
    for rev in [format!("main/{SHA}"), format!("v1.2.3/{SHA}")] {
        assert_eq!(revision_to_v1beta1(&revision_to_v1(&rev)), rev);
    }
}

fn v1beta1_gitrepo() -> Value {
    json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1beta1",
        "kind": "GitRepository",
        "metadata": {"name": "main", "namespace": "flux-system"},
        "spec": {
            "url": "https://example.com/repo.git",
            "interval": "1m",
            "ref": {"branch": "main"},
            "gitImplementation": "libgit2",
            "accessFrom": {"namespaceSelectors": [{"matchLabels": {"a": "b"}}]},
            "verify": {"mode": "head", "secretRef": {"name": "pgp"}}
        },
        "status": {
            "url": "http://source/gitrepository/flux-system/main/latest.tar.gz",
            "artifact": {
                "path": "gitrepository/flux-system/main/x.tar.gz",
                "url": "http://source/x.tar.gz",
                "revision": format!("main/{SHA}"),
                "checksum": "b".repeat(64),
                "lastUpdateTime": "2026-01-01T00:00:00Z"
            }
        }
    })
}

#[test]
fn git_repository_to_v1_drops_removed_fields_and_converts_status() {
    let v1 = ok(to_v1(&v1beta1_gitrepo()));
    assert_eq!(v1["apiVersion"], "source.toolkit.fluxcd.io/v1");
    assert!(v1["spec"].get("gitImplementation").is_none());
    assert!(v1["spec"].get("accessFrom").is_none());
    assert_eq!(v1["spec"]["verify"]["mode"], "HEAD");
    assert_eq!(v1["spec"]["ref"]["branch"], "main");
    assert!(v1["status"].get("url").is_none());
    let a = &v1["status"]["artifact"];
    assert_eq!(a["revision"], format!("main@sha1:{SHA}"));
    assert_eq!(a["digest"], format!("sha256:{}", "b".repeat(64)));
    assert!(a.get("checksum").is_none());
    assert_eq!(a["url"], "http://source/x.tar.gz");
}

#[test]
fn git_repository_round_trips_to_v1beta1() {
    let original = v1beta1_gitrepo();
    let back = ok(from_v1(&ok(to_v1(&original)), "v1beta1"));
    assert_eq!(back["apiVersion"], "source.toolkit.fluxcd.io/v1beta1");
    assert_eq!(
        back["status"]["artifact"]["revision"],
        format!("main/{SHA}")
    );
    assert_eq!(back["status"]["artifact"]["checksum"], "b".repeat(64));
    assert!(back["status"]["artifact"].get("digest").is_none());
    assert_eq!(back["status"]["url"], "http://source/x.tar.gz");
    assert_eq!(back["spec"]["verify"]["mode"], "head");
}

#[test]
fn git_repository_v1beta2_keeps_new_revisions() {
    let mut obj = v1beta1_gitrepo();
    obj["apiVersion"] = json!("source.toolkit.fluxcd.io/v1beta2");
    obj["status"]["artifact"]["revision"] = json!(format!("main@sha1:{SHA}"));
    obj["status"]["artifact"]["digest"] = json!("sha256:cafe");
    let v1 = ok(to_v1(&obj));
    assert_eq!(
        v1["status"]["artifact"]["revision"],
        format!("main@sha1:{SHA}")
    );
    assert_eq!(v1["status"]["artifact"]["digest"], "sha256:cafe");
    let back = ok(from_v1(&v1, "v1beta2"));
    assert_eq!(
        back["status"]["artifact"]["revision"],
        format!("main@sha1:{SHA}")
    );
    assert_eq!(back["status"]["artifact"]["checksum"], "cafe");
}

#[test]
fn git_repository_down_conversion_refuses_what_would_change_the_fetch() {
    let base = json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "a"},
        "spec": {"url": "https://x", "interval": "1m"}
    });
    let with = |k: &str, v: Value| {
        let mut o = base.clone();
        o["spec"][k] = v;
        o
    };
    assert!(from_v1(&with("sparseCheckout", json!(["apps"])), "v1beta2").is_err());
    assert!(from_v1(&with("provider", json!("github")), "v1beta2").is_err());
    assert!(from_v1(
        &with("verify", json!({"mode": "Tag", "secretRef": {"name": "k"}})),
        "v1beta2"
    )
    .is_err());
    assert!(from_v1(&with("ref", json!({"name": "refs/heads/main"})), "v1beta1").is_err());
    assert!(from_v1(&with("ref", json!({"name": "refs/heads/main"})), "v1beta2").is_ok());
    let generic = ok(from_v1(&with("provider", json!("generic")), "v1beta2"));
    assert!(generic["spec"].get("provider").is_none());
    assert!(from_v1(&base, "v2").is_err());
}

fn v1beta1_kustomization() -> Value {
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1beta1",
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system"},
        "spec": {
            "interval": "10m",
            "prune": true,
            "validation": "client",
            "sourceRef": {"kind": "GitRepository", "name": "main"},
            "decryption": {"provider": "sops", "secretRef": {"name": "sops-age"}},
            "patches": [{"patch": "kind: ConfigMap\n", "target": {"kind": "ConfigMap"}}],
            "patchesStrategicMerge": [
                {"apiVersion": "apps/v1", "kind": "Deployment",
                 "metadata": {"name": "web"}, "spec": {"replicas": 2}}
            ],
            "patchesJson6902": [
                {"target": {"group": "apps", "version": "v1", "kind": "Deployment", "name": "web"},
                 "patch": [{"op": "replace", "path": "/spec/replicas", "value": 3}]}
            ]
        },
        "status": {
            "lastAppliedRevision": format!("main/{SHA}"),
            "lastAttemptedRevision": format!("main/{SHA}"),
            "snapshot": {"checksum": "x", "entries": [{"namespace": "", "kinds": {"v1": "Namespace"}}]}
        }
    })
}

#[test]
fn kustomization_validation_is_dropped() {
    let v1 = ok(to_v1(&v1beta1_kustomization()));
    assert_eq!(v1["apiVersion"], "kustomize.toolkit.fluxcd.io/v1");
    assert!(v1["spec"].get("validation").is_none());
}

#[test]
fn kustomization_legacy_patches_become_patches_in_kustomize_order() {
    let v1 = ok(to_v1(&v1beta1_kustomization()));
    assert!(v1["spec"].get("patchesStrategicMerge").is_none());
    assert!(v1["spec"].get("patchesJson6902").is_none());
    let patches = v1["spec"]["patches"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(patches.len(), 3);
    // Strategic merge first, without a target, as YAML of the object.
    assert!(patches[0].get("target").is_none());
    let smp = ok(
        flotilla_yaml::parse_one(patches[0]["patch"].as_str().unwrap_or_default()).map_err(|e| {
            Error::CrdFile {
                file: "patch".into(),
                message: e.to_string(),
            }
        }),
    );
    assert_eq!(smp["kind"], "Deployment");
    assert_eq!(smp["spec"]["replicas"], 2);
    // Then the existing patches, then JSON 6902 with its target.
    assert_eq!(patches[1]["patch"], "kind: ConfigMap\n");
    assert_eq!(patches[2]["target"]["name"], "web");
    assert_eq!(
        patches[2]["patch"],
        "- op: replace\n  path: /spec/replicas\n  value: 3\n"
    );
}

#[test]
fn kustomization_decryption_is_carried_unchanged() {
    let v1 = ok(to_v1(&v1beta1_kustomization()));
    assert_eq!(
        v1["spec"]["decryption"],
        json!({"provider": "sops", "secretRef": {"name": "sops-age"}})
    );
    let mut with_sa = v1.clone();
    with_sa["spec"]["decryption"]["serviceAccountName"] = json!("sops");
    let down = ok(from_v1(&with_sa, "v1beta2"));
    assert!(down["spec"]["decryption"]
        .get("serviceAccountName")
        .is_none());
}

#[test]
fn kustomization_status_revisions_and_snapshot() {
    let v1 = ok(to_v1(&v1beta1_kustomization()));
    assert_eq!(
        v1["status"]["lastAppliedRevision"],
        format!("main@sha1:{SHA}")
    );
    assert_eq!(
        v1["status"]["lastAttemptedRevision"],
        format!("main@sha1:{SHA}")
    );
    assert!(v1["status"].get("snapshot").is_none());

    let mut applied = v1.clone();
    applied["status"]["inventory"] = json!({"entries": [{"id": "_a__Namespace", "v": "v1"}]});
    let beta1 = ok(from_v1(&applied, "v1beta1"));
    assert_eq!(
        beta1["status"]["lastAppliedRevision"],
        format!("main/{SHA}")
    );
    assert!(beta1["status"].get("inventory").is_none());
    let beta2 = ok(from_v1(&applied, "v1beta2"));
    assert_eq!(
        beta2["status"]["lastAppliedRevision"],
        format!("main@sha1:{SHA}")
    );
    assert_eq!(
        beta2["status"]["inventory"]["entries"][0]["id"],
        "_a__Namespace"
    );
}

#[test]
fn kustomization_down_conversion_refuses_v1_only_behaviour() {
    let v1 = ok(to_v1(&v1beta1_kustomization()));
    let with = |k: &str, v: Value| {
        let mut o = v1.clone();
        o["spec"][k] = v;
        o
    };
    assert!(from_v1(&with("namePrefix", json!("p-")), "v1beta2").is_err());
    assert!(from_v1(&with("components", json!(["../c"])), "v1beta1").is_err());
    assert!(from_v1(&with("components", json!(["../c"])), "v1beta2").is_ok());
    let oci = with("sourceRef", json!({"kind": "OCIRepository", "name": "o"}));
    assert!(from_v1(&oci, "v1beta1").is_err());
    let waited = ok(from_v1(&with("wait", json!(true)), "v1beta1"));
    assert!(waited["spec"].get("wait").is_none());
    assert_eq!(
        ok(from_v1(&with("wait", json!(true)), "v1beta2"))["spec"]["wait"],
        true
    );
}

#[test]
fn other_objects_pass_through() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
    assert_eq!(ok(to_v1(&cm)), cm);
    assert!(from_v1(&cm, "v1beta1").is_err());
    let v1 = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                    "spec": {"interval": "1m", "prune": false, "sourceRef": {"kind": "GitRepository", "name": "a"}}});
    assert_eq!(ok(to_v1(&v1)), v1);
    assert_eq!(version(&v1), "v1");
}
