//! Prune (exactly the stale refs; prune-disabled and foreign-owned objects skipped; CRDs
//! last), health (`wait_ready` on CRDs and Namespaces, Flux's timeout message on a
//! Deployment nobody runs, Ready once its status says so), and discovery refresh for a kind
//! created after a miss.
mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{configmap, namespace, widget, widget_crd, TestResult};
use flotilla_apply::{Action, ApplyError, ApplyOptions, ObjectRef, PruneOptions, Readiness};
use serde_json::{json, Value};

const OWNER: &str = "kustomize.toolkit.fluxcd.io/name";

fn owned(mut obj: Value, owner: &str) -> Value {
    obj["metadata"]["labels"] = json!({ OWNER: owner });
    obj
}

fn refs(objs: &[Value]) -> Result<Vec<ObjectRef>, ApplyError> {
    objs.iter().map(ObjectRef::from_object).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_deletes_exactly_the_stale_owned_objects() -> TestResult {
    let c = common::start("prune").await?;
    let mut disabled = owned(configmap("default", "keep-me", json!({})), "apps");
    disabled["metadata"]["annotations"] = json!({"kustomize.toolkit.fluxcd.io/prune": "disabled"});
    let objects = vec![
        owned(widget_crd(), "apps"),
        owned(namespace("old"), "apps"),
        owned(configmap("old", "inside", json!({})), "apps"),
        owned(widget("default", "w", 1), "apps"),
        owned(configmap("default", "stale", json!({})), "apps"),
        owned(configmap("default", "current", json!({})), "apps"),
        owned(configmap("default", "theirs", json!({})), "other"),
        disabled,
    ];
    c.applier
        .apply_staged(objects.clone(), &ApplyOptions::default())
        .await?;
    // Everything but "current" is stale; one stale object is already gone.
    let mut stale: Vec<ObjectRef> = refs(&objects)?
        .into_iter()
        .filter(|r| r.name != "current")
        .collect();
    let Some(gone) = ObjectRef::from_inventory("default_vanished__ConfigMap", "v1") else {
        panic!("inventory id not parsed");
    };
    stale.push(gone);
    let opts = PruneOptions {
        owner_labels: BTreeMap::from([(OWNER.to_string(), "apps".to_string())]),
    };
    let cs = c.applier.prune(&stale, &opts).await?;
    let got: Vec<String> = cs.changes.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "ConfigMap/old/inside deleted",
            "Widget/default/w deleted",
            "ConfigMap/default/stale deleted",
            "ConfigMap/default/theirs skipped",
            "ConfigMap/default/keep-me skipped",
            "Namespace/old deleted",
            "CustomResourceDefinition/widgets.example.com deleted",
        ]
    );
    for (path, present) in [
        ("/api/v1/namespaces/default/configmaps/current", true),
        ("/api/v1/namespaces/default/configmaps/theirs", true),
        ("/api/v1/namespaces/default/configmaps/keep-me", true),
        ("/api/v1/namespaces/default/configmaps/stale", false),
        (
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com",
            false,
        ),
    ] {
        assert_eq!(c.get(path).await?.is_some(), present, "{path}");
    }
    // The Namespace is deleted or terminating.
    if let Some(ns) = c.get("/api/v1/namespaces/old").await? {
        assert!(ns["metadata"]["deletionTimestamp"].is_string(), "{ns}");
    }
    // Pruning again: the kinds and objects are gone, nothing fails, nothing is deleted.
    let again = c.applier.prune(&stale, &opts).await?;
    assert!(
        again.changes.iter().all(|ch| ch.action == Action::Skipped),
        "{:?}",
        again.changes
    );
    c.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_ready_on_definitions_and_deployments() -> TestResult {
    let c = common::start("health").await?;
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "podinfo", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "podinfo"}},
            "template": {"metadata": {"labels": {"app": "podinfo"}},
                         "spec": {"containers": [{"name": "c", "image": "podinfo:6"}]}}
        }
    });
    let objects = vec![widget_crd(), namespace("apps"), deployment.clone()];
    c.applier
        .apply_staged(objects.clone(), &ApplyOptions::default())
        .await?;
    let all = refs(&objects)?;
    c.applier
        .wait_ready(&all[..2], Duration::from_secs(5))
        .await?;

    let dep = ObjectRef::from_object(&deployment)?;
    let started = Instant::now();
    let Err(e) = c
        .applier
        .wait_ready(&all, Duration::from_millis(1200))
        .await
    else {
        panic!("a Deployment without status was ready");
    };
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(1200), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with("timeout waiting for: [Deployment/default/podinfo status: 'InProgress"),
        "{msg}"
    );
    assert!(!msg.contains("Namespace/apps"), "{msg}");

    // What a kube-controller-manager would write.
    let Some(live) = c
        .get("/apis/apps/v1/namespaces/default/deployments/podinfo")
        .await?
    else {
        panic!("deployment missing");
    };
    let generation = live["metadata"]["generation"].as_i64().unwrap_or(1);
    c.merge_patch_status(
        "/apis/apps/v1/namespaces/default/deployments/podinfo",
        &json!({"status": {"observedGeneration": generation, "replicas": 1,
                           "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 0}}),
    )
    .await?;
    assert_eq!(
        c.applier.status_of(&dep).await?,
        Readiness::InProgress("Available: 0/1".into())
    );
    let Err(e) = c.applier.wait_ready(&all, Duration::from_millis(500)).await else {
        panic!("ready with 0 available replicas");
    };
    assert_eq!(
        e.to_string(),
        "timeout waiting for: [Deployment/default/podinfo status: 'InProgress: Available: 0/1']"
    );
    // Becomes available while we wait.
    let patcher = async {
        tokio::time::sleep(Duration::from_millis(600)).await;
        c.merge_patch_status(
            "/apis/apps/v1/namespaces/default/deployments/podinfo",
            &json!({"status": {"availableReplicas": 1}}),
        )
        .await
    };
    let (waited, patched) =
        tokio::join!(c.applier.wait_ready(&all, Duration::from_secs(10)), patcher);
    patched?;
    waited?;
    assert_eq!(c.applier.status_of(&dep).await?, Readiness::Ready);

    // A missing object is in progress, not an error.
    let Some(ghost) = ObjectRef::from_inventory("default_ghost__ConfigMap", "v1") else {
        panic!("inventory id not parsed");
    };
    assert_eq!(
        c.applier.status_of(&ghost).await?,
        Readiness::InProgress("NotFound".into())
    );
    c.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_created_after_a_miss_resolves() -> TestResult {
    let c = common::start("refresh").await?;
    let opts = ApplyOptions::default();
    // Miss: the CRD does not exist yet (the negative answer is cached).
    let Err(f) = c
        .applier
        .apply_staged(vec![widget("default", "w", 1)], &opts)
        .await
    else {
        panic!("a Widget applied before its CRD");
    };
    assert!(
        f.to_string().contains("no matches for kind \"Widget\""),
        "{f}"
    );
    // The CRD is created by someone else (not through this applier's stage 1).
    let other = flotilla_apply::Applier::new(c.client.clone());
    other.apply_staged(vec![widget_crd()], &opts).await?;
    // The same applier resolves it now: a miss refreshes.
    let cs = c
        .applier
        .apply_staged(vec![widget("default", "w", 1)], &opts)
        .await?;
    assert_eq!(cs.summary(), "Widget/default/w created");

    // The CRD goes away behind the applier's back: the cached kind is rechecked.
    let crd = ObjectRef::from_object(&widget_crd())?;
    other.prune(&[crd], &PruneOptions::default()).await?;
    let Err(f) = c
        .applier
        .apply_staged(vec![widget("default", "w2", 1)], &opts)
        .await
    else {
        panic!("a Widget applied after its CRD was deleted");
    };
    assert_eq!(
        f.to_string(),
        "Widget/default/w2: no matches for kind \"Widget\" in version \"example.com/v1\""
    );
    c.stop().await;
    Ok(())
}
