//! Staged apply against the embedded API server: CRD + CR + Namespace + ConfigMap in one
//! call, idempotence (no write on re-apply), changes and drift, ssa annotations, a failing
//! object beside successful neighbours, many concurrent small batches.
mod common;

use std::time::{Duration, Instant};

use common::{configmap, namespace, widget, widget_crd, TestResult};
use flotilla_apply::{Action, ApplyOptions, ObjectRef};
use serde_json::json;

const CM: &str = "/api/v1/namespaces/apps/configmaps/settings";
const WIDGET: &str = "/apis/example.com/v1/namespaces/apps/widgets/w1";
const NS: &str = "/api/v1/namespaces/apps";
const CRD: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com";

fn batch(value: &str) -> Vec<serde_json::Value> {
    // Deliberately out of order: the CR and ConfigMap come before their CRD and Namespace.
    vec![
        widget("apps", "w1", 3),
        configmap("apps", "settings", json!({"key": value})),
        namespace("apps"),
        widget_crd(),
    ]
}

fn actions(cs: &flotilla_apply::ChangeSet) -> Vec<String> {
    cs.changes.iter().map(ToString::to_string).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staged_apply_is_idempotent_and_detects_changes_and_drift() -> TestResult {
    let c = common::start("staged").await?;
    let opts = ApplyOptions::default();

    let first = c.applier.apply_staged(batch("one"), &opts).await?;
    assert_eq!(
        actions(&first),
        [
            "Namespace/apps created",
            "CustomResourceDefinition/widgets.example.com created",
            "Widget/apps/w1 created",
            "ConfigMap/apps/settings created",
        ]
    );
    let Some(w) = c.get(WIDGET).await? else {
        panic!("widget not stored");
    };
    assert_eq!(w["spec"]["size"], 3);
    let Some(cm) = c.get(CM).await? else {
        panic!("configmap not stored");
    };
    assert_eq!(cm["data"]["key"], "one");
    let managers: Vec<&str> = cm["metadata"]["managedFields"]
        .as_array()
        .map(|m| m.iter().filter_map(|e| e["manager"].as_str()).collect())
        .unwrap_or_default();
    assert!(managers.contains(&"kustomize-controller"), "{managers:?}");

    // Second apply: nothing written.
    let mut before = Vec::new();
    for p in [CM, WIDGET, NS, CRD] {
        before.push(c.rv(p).await?);
    }
    let second = c.applier.apply_staged(batch("one"), &opts).await?;
    assert!(
        second
            .changes
            .iter()
            .all(|ch| ch.action == Action::Unchanged),
        "{:?}",
        actions(&second)
    );
    assert_eq!(second.changes.len(), 4);
    assert!(second.is_empty_of_writes());
    assert_eq!(second.summary(), "");
    let mut after = Vec::new();
    for p in [CM, WIDGET, NS, CRD] {
        after.push(c.rv(p).await?);
    }
    assert_eq!(before, after, "a re-apply wrote something");

    // A changed ConfigMap: only it is configured.
    let third = c.applier.apply_staged(batch("two"), &opts).await?;
    assert_eq!(third.summary(), "ConfigMap/apps/settings configured");
    let Some(cm) = c.get(CM).await? else {
        panic!("configmap gone");
    };
    assert_eq!(cm["data"]["key"], "two");

    // Drift: someone edits the live objects; re-apply puts them back.
    c.merge_patch(CM, &json!({"data": {"key": "edited"}}))
        .await?;
    c.merge_patch(WIDGET, &json!({"spec": {"size": 99}}))
        .await?;
    let fourth = c.applier.apply_staged(batch("two"), &opts).await?;
    assert_eq!(
        fourth.summary(),
        "Widget/apps/w1 configured\nConfigMap/apps/settings configured"
    );
    let Some(cm) = c.get(CM).await? else {
        panic!("configmap gone");
    };
    assert_eq!(cm["data"]["key"], "two");
    let Some(w) = c.get(WIDGET).await? else {
        panic!("widget gone");
    };
    assert_eq!(w["spec"]["size"], 3);

    // A status-only change (not ours) is not drift.
    c.merge_patch_status(WIDGET, &json!({"status": {"phase": "Running"}}))
        .await?;
    let fifth = c.applier.apply_staged(batch("two"), &opts).await?;
    assert!(fifth.is_empty_of_writes(), "{:?}", actions(&fifth));
    c.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssa_ignore_and_if_not_present() -> TestResult {
    let c = common::start("ssa").await?;
    let opts = ApplyOptions::default();
    let annotated = |name: &str, policy: &str, value: &str| {
        let mut o = configmap("default", name, json!({"key": value}));
        o["metadata"]["annotations"] = json!({"kustomize.toolkit.fluxcd.io/ssa": policy});
        o
    };
    let cs = c
        .applier
        .apply_staged(
            vec![
                annotated("ignored", "Ignore", "a"),
                annotated("once", "IfNotPresent", "a"),
                annotated("merged", "Merge", "a"),
            ],
            &opts,
        )
        .await?;
    assert_eq!(
        actions(&cs),
        [
            "ConfigMap/default/ignored skipped",
            "ConfigMap/default/once created",
            "ConfigMap/default/merged created",
        ]
    );
    assert!(c
        .get("/api/v1/namespaces/default/configmaps/ignored")
        .await?
        .is_none());

    let cs = c
        .applier
        .apply_staged(
            vec![
                annotated("ignored", "Ignore", "b"),
                annotated("once", "IfNotPresent", "b"),
                annotated("merged", "Merge", "b"),
            ],
            &opts,
        )
        .await?;
    assert_eq!(
        actions(&cs),
        [
            "ConfigMap/default/ignored skipped",
            "ConfigMap/default/once skipped",
            "ConfigMap/default/merged configured",
        ]
    );
    let Some(once) = c.get("/api/v1/namespaces/default/configmaps/once").await? else {
        panic!("once gone");
    };
    assert_eq!(once["data"]["key"], "a", "IfNotPresent object was updated");
    c.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_object_does_not_stop_its_neighbours() -> TestResult {
    let c = common::start("fail").await?;
    let opts = ApplyOptions {
        crd_wait: Duration::from_secs(5),
        ..ApplyOptions::default()
    };
    let unknown = json!({"apiVersion": "nothing.example.com/v1", "kind": "Gadget",
                         "metadata": {"name": "g", "namespace": "default"}});
    let no_ns = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "loose"}});
    let missing_ns = configmap("nowhere", "lost", json!({}));
    let objects = vec![
        configmap("default", "before", json!({"a": "1"})),
        unknown,
        no_ns,
        missing_ns,
        configmap("default", "after", json!({"a": "1"})),
        namespace("fine"),
    ];
    let Err(failure) = c.applier.apply_staged(objects, &opts).await else {
        panic!("apply of an unknown kind succeeded");
    };
    assert_eq!(
        actions(&failure.changes),
        [
            "Namespace/fine created",
            "ConfigMap/default/before created",
            "ConfigMap/default/after created",
        ]
    );
    let text = failure.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(
        lines[0],
        "Gadget/default/g: no matches for kind \"Gadget\" in version \"nothing.example.com/v1\""
    );
    assert_eq!(lines[1], "ConfigMap/loose: namespace not specified");
    assert!(
        lines[2].starts_with("ConfigMap/nowhere/lost apply failed: "),
        "{text}"
    );
    assert!(lines[2].contains("nowhere"), "{text}");
    for p in ["default/configmaps/before", "default/configmaps/after"] {
        assert!(c.get(&format!("/api/v1/namespaces/{p}")).await?.is_some());
    }
    c.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_scoped_objects_and_stage_order() -> TestResult {
    let c = common::start("scope").await?;
    let mut ns = namespace("stray");
    ns["metadata"]["namespace"] = json!("default");
    let cs = c
        .applier
        .apply_staged(vec![ns], &ApplyOptions::default())
        .await?;
    assert_eq!(actions(&cs), ["Namespace/stray created"]);
    assert_eq!(cs.changes[0].object.inventory_id(), "_stray__Namespace");

    // Stages: ClusterRole (1), StorageClass (2), the rest (3), whatever the input order.
    let objects = vec![
        configmap("default", "cm", json!({})),
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
               "metadata": {"name": "fast"}, "provisioner": "example.com/fast"}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "system:reader"},
               "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
    ];
    let cs = c
        .applier
        .apply_staged(objects, &ApplyOptions::default())
        .await?;
    assert_eq!(
        actions(&cs),
        [
            "ClusterRole/system:reader created",
            "StorageClass/fast created",
            "ConfigMap/default/cm created",
        ]
    );
    assert_eq!(
        cs.changes[0].object.inventory_id(),
        "_system__reader_rbac.authorization.k8s.io_ClusterRole"
    );
    c.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_small_batches_apply_concurrently() -> TestResult {
    let c = common::start("many").await?;
    let opts = ApplyOptions::default();
    const BATCHES: usize = 200;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..BATCHES {
        let applier = c.applier.clone();
        let opts = opts.clone();
        tasks.push(tokio::spawn(async move {
            let objs = (0..4)
                .map(|j| configmap("default", &format!("b{i}-{j}"), json!({"i": i.to_string()})))
                .collect();
            applier.apply_staged(objs, &opts).await
        }));
    }
    let mut created = 0;
    for t in tasks {
        let cs = t.await??;
        created += cs
            .changes
            .iter()
            .filter(|c| c.action == Action::Created)
            .count();
    }
    let took = started.elapsed();
    eprintln!("{BATCHES} batches of 4 objects applied in {took:?}");
    assert_eq!(created, BATCHES * 4);
    assert!(took < Duration::from_secs(60), "took {took:?}");

    // Idempotent under concurrency too.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..BATCHES {
        let applier = c.applier.clone();
        let opts = opts.clone();
        tasks.push(tokio::spawn(async move {
            let objs = (0..4)
                .map(|j| configmap("default", &format!("b{i}-{j}"), json!({"i": i.to_string()})))
                .collect();
            applier.apply_staged(objs, &opts).await
        }));
    }
    for t in tasks {
        assert!(t.await??.is_empty_of_writes());
    }
    eprintln!(
        "{BATCHES} batches re-applied (unchanged) in {:?}",
        started.elapsed()
    );
    let r = ObjectRef::from_object(&configmap("default", "b0-0", json!({})))?;
    assert_eq!(
        c.applier.status_of(&r).await?,
        flotilla_apply::Readiness::Ready
    );
    c.stop().await;
    Ok(())
}

/// The embedded server refuses immutable-field changes as kube-apiserver does; with `force`
/// the object is deleted and created again, without it the error says how to proceed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immutable_changes_need_force_and_recreate() -> TestResult {
    let c = common::start("immutable").await?;
    let job = |image: &str| {
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": "apps"},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": image}]}}}})
    };
    let opts = ApplyOptions::default();
    c.applier
        .apply_staged(vec![namespace("apps"), job("tool:1")], &opts)
        .await?;
    let path = "/apis/batch/v1/namespaces/apps/jobs/migrate";
    let Some(before) = c.get(path).await? else {
        panic!("job not stored")
    };
    let Err(failure) = c.applier.apply_staged(vec![job("tool:2")], &opts).await else {
        panic!("an immutable change applied without force");
    };
    let text = failure.to_string();
    assert!(text.contains("Job/apps/migrate"), "{text}");
    assert!(text.contains("spec.force"), "{text}");

    let forced = ApplyOptions {
        force: true,
        ..ApplyOptions::default()
    };
    let cs = c.applier.apply_staged(vec![job("tool:2")], &forced).await?;
    assert_eq!(actions(&cs), ["Job/apps/migrate configured"]);
    let Some(after) = c.get(path).await? else {
        panic!("job not recreated")
    };
    assert_eq!(
        after["spec"]["template"]["spec"]["containers"][0]["image"],
        "tool:2"
    );
    assert_ne!(
        after["metadata"]["uid"], before["metadata"]["uid"],
        "recreated, not updated"
    );
    c.stop().await;
    Ok(())
}
