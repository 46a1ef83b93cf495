//! Kustomization ordering and health end to end: event-driven `dependsOn`, `wait: true` on a
//! Deployment made ready by the simulation, a health check naming a missing object, a CRD
//! Established check, and a custom resource applied before its CRD converging on retry.
mod support;

use std::time::{Duration, Instant};

use flotilla_controllers::resources::kustomization;
use serde_json::json;
use support::*;

const NS: &str = "flux-system";

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    listKind: WidgetList
    plural: widgets
    singular: widget
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
";

const WIDGET: &str = "apiVersion: example.com/v1
kind: Widget
metadata:
  name: gear
  namespace: default
spec:
  size: 3
";

async fn setup(
    tag: &str,
    simulate: bool,
    files: &[(&str, &str)],
) -> R<Option<(Env, Repo, String)>> {
    setup_repo(tag, simulate, NS, files).await
}

#[tokio::test(flavor = "multi_thread")]
async fn depends_on_is_event_driven() -> R {
    let files = [
        ("a/cm.yaml", config_map("default", "from-a", &[("k", "a")])),
        ("b/cm.yaml", config_map("default", "from-b", &[("k", "b")])),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
    let Some((env, _repo, rev)) = setup("ks-deps", false, &files).await? else {
        return Ok(());
    };
    env.kustomization(NS, "a", json!({"path": "./a", "suspend": true}))
        .await?;
    // B retries only every hour: becoming Ready quickly proves it is woken by A's change.
    env.kustomization(
        NS,
        "b",
        json!({"path": "./b", "interval": "1h", "retryInterval": "1h", "dependsOn": [{"name": "a"}]}),
    )
    .await?;
    let msg = ks_failed(&env.client, NS, "b", "DependencyNotReady").await;
    assert!(msg.contains("flux-system/a"), "{msg}");
    assert!(!exists(&env.client, &config_maps(), "default", "from-b").await?);

    let resumed = Instant::now();
    env.patch(
        &kustomization(),
        NS,
        "a",
        json!({"spec": {"suspend": false}}),
    )
    .await?;
    ks_ready(&env.client, NS, "a", &rev).await;
    ks_ready(&env.client, NS, "b", &rev).await;
    let took = resumed.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "B became Ready {took:?} after A was resumed"
    );
    assert!(exists(&env.client, &config_maps(), "default", "from-b").await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_true_reports_healthy_deployment() -> R {
    let dep = deployment("default", "web");
    let Some((env, _repo, rev)) = setup("ks-wait", true, &[("web/deploy.yaml", &dep)]).await?
    else {
        return Ok(());
    };
    env.kustomization(NS, "web", json!({"path": "./web", "wait": true}))
        .await?;
    let ks = ks_ready(&env.client, NS, "web", &rev).await;
    let Some((status, _, message)) = condition(&ks, "Healthy") else {
        panic!("no Healthy condition: {:?}", ks.data.get("status"))
    };
    assert_eq!(status, "True", "{message}");
    let d = env.api(&deployments(), "default").get("web").await?;
    assert_eq!(d.data.pointer("/status/availableReplicas"), Some(&json!(1)));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn health_check_of_a_missing_object_fails_naming_it() -> R {
    let cm = config_map("default", "present", &[]);
    let Some((env, _repo, rev)) = setup("ks-health", false, &[("app/cm.yaml", &cm)]).await? else {
        return Ok(());
    };
    env.kustomization(
        NS,
        "app",
        json!({"path": "./app", "timeout": "3s", "healthChecks": [
            {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ghost", "namespace": "default"}
        ]}),
    )
    .await?;
    // Flux raises a timeout below 30s to 30s (`GetTimeout`), so "3s" waits 30s.
    let msg = ks_failed_within(
        &env.client,
        NS,
        "app",
        "HealthCheckFailed",
        Duration::from_secs(50),
    )
    .await;
    assert!(msg.contains("timeout waiting for"), "{msg}");
    assert!(msg.contains("Deployment/default/ghost"), "{msg}");
    let ks = env.api(&kustomization(), NS).get("app").await?;
    assert_eq!(
        condition(&ks, "Healthy").map(|c| c.0).as_deref(),
        Some("False")
    );
    // The check removed: Ready again, and no stale Healthy=False beside it.
    env.patch(
        &kustomization(),
        NS,
        "app",
        json!({"spec": {"healthChecks": null}}),
    )
    .await?;
    let ks = ks_ready(&env.client, NS, "app", &rev).await;
    assert_eq!(condition(&ks, "Healthy"), None);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn crd_established_health_check() -> R {
    let Some((env, _repo, rev)) = setup("ks-crd-health", false, &[("crds/crd.yaml", CRD)]).await?
    else {
        return Ok(());
    };
    env.kustomization(
        NS,
        "crds",
        json!({"path": "./crds", "healthChecks": [{
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "name": "widgets.example.com"}]}),
    )
    .await?;
    let ks = ks_ready(&env.client, NS, "crds", &rev).await;
    assert_eq!(
        condition(&ks, "Healthy").map(|c| c.0).as_deref(),
        Some("True")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn custom_resource_before_its_crd_converges_on_retry() -> R {
    let files = [("crds/crd.yaml", CRD), ("crs/widget.yaml", WIDGET)];
    let Some((env, _repo, rev)) = setup("ks-crd-order", false, &files).await? else {
        return Ok(());
    };
    env.kustomization(NS, "crs", json!({"path": "./crs", "retryInterval": "2s"}))
        .await?;
    let msg = ks_failed(&env.client, NS, "crs", "ReconciliationFailed").await;
    assert!(msg.contains("Widget"), "{msg}");
    env.kustomization(NS, "crds", json!({"path": "./crds"}))
        .await?;
    ks_ready(&env.client, NS, "crds", &rev).await;
    ks_ready(&env.client, NS, "crs", &rev).await;
    let widgets = res("example.com", "v1", "Widget", "widgets");
    assert!(exists(&env.client, &widgets, "default", "gear").await?);
    Ok(())
}
