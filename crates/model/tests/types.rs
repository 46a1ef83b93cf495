//! The typed structs read the example platform's objects, and v1 objects convert to
//! themselves.
use std::path::Path;
use std::time::Duration;

use flotilla_model::capi::{Cluster, ClusterResourceSet, MachineDeployment, ResourceSetStrategy};
use flotilla_model::flux::{GitRepository, Kustomization, RefSelection};
use flotilla_model::{convert, Object};
use serde_json::Value;

fn objects() -> Vec<Value> {
    fn walk(dir: &Path, out: &mut Vec<Value>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                match flotilla_yaml::parse_documents(&text) {
                    Ok(docs) => out.extend(docs.into_iter().map(|d| d.value)),
                    Err(e) => panic!("{}: {e}", p.display()),
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/platform"),
        &mut out,
    );
    assert!(out.len() > 50);
    out
}

fn of_kind<S, T>(kind: &str) -> Vec<Object<S, T>>
where
    S: serde::de::DeserializeOwned + Default,
    T: serde::de::DeserializeOwned,
{
    objects()
        .into_iter()
        .filter(|o| o["kind"] == kind)
        .map(|o| match Object::from_value(o) {
            Ok(x) => x,
            Err(e) => panic!("{kind}: {e}"),
        })
        .collect()
}

#[test]
fn git_repositories() {
    let repos: Vec<GitRepository> = of_kind("GitRepository");
    assert_eq!(repos.len(), 2);
    let release = repos.iter().find(|r| r.name() == "release");
    let Some(release) = release else {
        panic!("no release GitRepository");
    };
    let r = release.spec.reference.clone().unwrap_or_default();
    assert_eq!(r.selection(), RefSelection::Tag("v0.1.1"));
    assert_eq!(
        release.spec.interval.map(|d| d.0),
        Some(Duration::from_secs(300))
    );
    assert_eq!(release.spec.timeout(), Duration::from_secs(60));
    assert!(release.spec.url.starts_with("file://"));
}

#[test]
fn kustomizations() {
    let ks: Vec<Kustomization> = of_kind("Kustomization");
    assert!(ks.len() >= 10);
    for k in &ks {
        assert!(k.spec.prune, "{}", k.name());
        assert_eq!(k.spec.source_ref.kind, "GitRepository");
        assert!(k.spec.interval() >= Duration::from_secs(60));
        if k.namespace() != "flux-system" {
            let kc = k.spec.kube_config.clone().unwrap_or_default();
            let secret = kc.secret_ref.clone().unwrap_or_default();
            assert_eq!(secret.name, format!("{}-kubeconfig", k.namespace()));
            assert_eq!(kc.keys(), vec!["value", "value.yaml"]);
            assert_eq!(k.spec.source_namespace(k.namespace()), "flux-system");
        }
    }
    let with_deps = ks.iter().filter(|k| !k.spec.depends_on.is_empty()).count();
    assert!(with_deps >= 2);
}

#[test]
fn cluster_api_objects() {
    let clusters: Vec<Cluster> = of_kind("Cluster");
    assert_eq!(clusters.len(), 2);
    for c in &clusters {
        let infra = c.spec.infrastructure_ref.clone().unwrap_or_default();
        assert_eq!(infra.kind.as_deref(), Some("AWSCluster"));
        assert!(c.status.is_none());
    }
    let mds: Vec<MachineDeployment> = of_kind("MachineDeployment");
    assert!(mds.iter().all(|m| m.spec.desired_replicas() == 2));
    assert!(mds.iter().all(|m| m.spec.version() == Some("v1.30.5")));
    let sets: Vec<ClusterResourceSet> = of_kind("ClusterResourceSet");
    assert!(!sets.is_empty());
    for s in &sets {
        assert_eq!(s.spec.strategy(), ResourceSetStrategy::Reconcile);
        assert_eq!(s.spec.resources[0].kind, "ConfigMap");
        let mut labels = std::collections::BTreeMap::new();
        labels.insert("flotilla.dev/cni".to_string(), "flannel".to_string());
        assert!(s.spec.cluster_selector.matches(&labels));
    }
}

#[test]
fn v1_objects_convert_to_themselves() {
    for o in objects() {
        match convert::to_v1(&o) {
            Ok(v) => assert_eq!(v, o),
            Err(e) => panic!("{e}"),
        }
    }
}
