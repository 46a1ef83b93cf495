//! Kustomizations applying to other clusters through a kubeconfig Secret (key `value`, or
//! the key given), a missing Secret waited for through the watch of Cluster API kubeconfig
//! Secrets, and faults side by side: YAML error, missing path, unknown kind, failing health
//! check, unreachable cluster, with a good neighbour converging anyway.
mod support;

use std::time::{Duration, Instant};

use kube::api::{Patch, PatchParams};
use serde_json::json;
use support::*;

const NS: &str = "flux-system";

async fn setup(tag: &str, files: &[(&str, String)]) -> R<Option<(Env, Repo, String)>> {
    setup_repo(tag, false, NS, files).await
}

/// A kubeconfig Secret as Cluster API writes it (label, type), holding `kubeconfig` at `key`.
async fn kubeconfig_secret(env: &Env, cluster: &str, key: &str, kubeconfig: &str) -> R {
    env.create(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": format!("{cluster}-kubeconfig"), "namespace": NS,
                     "labels": {"cluster.x-k8s.io/cluster-name": cluster}},
        "type": "cluster.x-k8s.io/secret",
        "data": {key: b64(kubeconfig)}}))
        .await?;
    Ok(())
}

fn remote_files() -> Vec<(&'static str, String)> {
    vec![(
        "remote/cm.yaml",
        config_map("default", "remote-cm", &[("where", "workload")]),
    )]
}

#[tokio::test(flavor = "multi_thread")]
async fn applies_through_kubeconfig_secret_key_value() -> R {
    let Some((env, _repo, rev)) = setup("ks-remote", &remote_files()).await? else {
        return Ok(());
    };
    let kubeconfig = env.handle.create_cluster("workload-a").await?;
    kubeconfig_secret(&env, "workload-a", "value", &kubeconfig).await?;
    env.kustomization(
        NS,
        "remote",
        json!({"path": "./remote",
            "kubeConfig": {"secretRef": {"name": "workload-a-kubeconfig"}}}),
    )
    .await?;
    let ks = ks_ready(&env.client, NS, "remote", &rev).await;
    let (_, workload) = client_from(&kubeconfig).await?;
    let cm = api(&workload, &config_maps(), "default")
        .get("remote-cm")
        .await?;
    assert_eq!(field(&cm, "/data/where").as_deref(), Some("workload"));
    assert_eq!(
        field(&cm, "/metadata/labels/kustomize.toolkit.fluxcd.io~1name").as_deref(),
        Some("remote")
    );
    assert!(
        !exists(&env.client, &config_maps(), "default", "remote-cm").await?,
        "applied to the management cluster too"
    );
    assert!(field(&ks, "/status/lastAppliedRevision").is_some());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn applies_through_kubeconfig_secret_custom_key() -> R {
    let Some((env, _repo, rev)) = setup("ks-remote-key", &remote_files()).await? else {
        return Ok(());
    };
    let kubeconfig = env.handle.create_cluster("workload-b").await?;
    kubeconfig_secret(&env, "workload-b", "custom.yaml", &kubeconfig).await?;
    env.kustomization(
        NS,
        "remote",
        json!({"path": "./remote", "kubeConfig": {"secretRef": {
            "name": "workload-b-kubeconfig", "key": "custom.yaml"}}}),
    )
    .await?;
    ks_ready(&env.client, NS, "remote", &rev).await;
    let (_, workload) = client_from(&kubeconfig).await?;
    assert!(exists(&workload, &config_maps(), "default", "remote-cm").await?);
    assert!(!exists(&env.client, &config_maps(), "default", "remote-cm").await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_kubeconfig_secret_is_waited_for_through_the_watch() -> R {
    let Some((env, _repo, rev)) = setup("ks-remote-wait", &remote_files()).await? else {
        return Ok(());
    };
    // Retries only hourly: becoming Ready proves the Secret's appearance woke it.
    env.kustomization(
        NS,
        "remote",
        json!({"path": "./remote", "retryInterval": "1h", "interval": "1h",
            "kubeConfig": {"secretRef": {"name": "workload-c-kubeconfig"}}}),
    )
    .await?;
    let msg = ks_failed(&env.client, NS, "remote", "ReconciliationFailed").await;
    assert!(msg.contains("workload-c-kubeconfig"), "{msg}");
    let kubeconfig = env.handle.create_cluster("workload-c").await?;
    let created = Instant::now();
    kubeconfig_secret(&env, "workload-c", "value", &kubeconfig).await?;
    ks_ready(&env.client, NS, "remote", &rev).await;
    assert!(created.elapsed() < Duration::from_secs(20));
    let (_, workload) = client_from(&kubeconfig).await?;
    assert!(exists(&workload, &config_maps(), "default", "remote-cm").await?);
    Ok(())
}

const UNREACHABLE: &str = "apiVersion: v1
kind: Config
clusters:
  - name: nowhere
    cluster:
      server: https://127.0.0.1:1
      insecure-skip-tls-verify: true
users:
  - name: nobody
    user:
      token: not-a-token
contexts:
  - name: nowhere
    context:
      cluster: nowhere
      user: nobody
current-context: nowhere
";

#[tokio::test(flavor = "multi_thread")]
async fn faults_fail_with_reasons_while_the_good_one_converges() -> R {
    let files = vec![
        (
            "bad-yaml/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n  namespace: default\ndata: [unclosed\n".to_string(),
        ),
        (
            "unknown/gizmo.yaml",
            "apiVersion: example.com/v1\nkind: Gizmo\nmetadata:\n  name: g\n  namespace: default\n".to_string(),
        ),
        ("health/cm.yaml", config_map("default", "health-cm", &[])),
        ("remote/cm.yaml", config_map("default", "far", &[])),
        ("good/cm.yaml", config_map("default", "good", &[("k", "v")])),
    ];
    let Some((env, _repo, rev)) = setup("ks-faults", &files).await? else {
        return Ok(());
    };
    // A Job that has failed: the health check fails early instead of timing out.
    env.create(json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "broken", "namespace": "default"},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "x", "image": "busybox"}]}}}}))
        .await?;
    env.api(&res("batch", "v1", "Job", "jobs"), "default")
        .patch_status(
            "broken",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"conditions": [{"type": "Failed",
                "status": "True", "reason": "BackoffLimitExceeded",
                "message": "Job has reached the specified backoff limit"}]}})),
        )
        .await?;
    kubeconfig_secret(&env, "nowhere", "value", UNREACHABLE).await?;

    env.kustomization(NS, "bad-yaml", json!({"path": "./bad-yaml"}))
        .await?;
    env.kustomization(NS, "missing-path", json!({"path": "./does-not-exist"}))
        .await?;
    env.kustomization(NS, "unknown-kind", json!({"path": "./unknown"}))
        .await?;
    env.kustomization(
        NS,
        "unhealthy",
        json!({"path": "./health", "healthChecks": [
            {"apiVersion": "batch/v1", "kind": "Job", "name": "broken", "namespace": "default"}]}),
    )
    .await?;
    env.kustomization(
        NS,
        "unreachable",
        json!({"path": "./remote", "kubeConfig": {"secretRef": {"name": "nowhere-kubeconfig"}}}),
    )
    .await?;
    env.kustomization(NS, "good", json!({"path": "./good"}))
        .await?;

    ks_ready(&env.client, NS, "good", &rev).await;
    let m = ks_failed(&env.client, NS, "bad-yaml", "BuildFailed").await;
    assert!(m.contains("bad-yaml/cm.yaml:7:1"), "{m}");
    let m = ks_failed(&env.client, NS, "missing-path", "BuildFailed").await;
    assert!(m.starts_with("field spec.path"), "{m}");
    assert!(m.contains("does-not-exist"), "{m}");
    let m = ks_failed(&env.client, NS, "unknown-kind", "ReconciliationFailed").await;
    assert!(m.contains("Gizmo/default/g"), "{m}");
    let m = ks_failed(&env.client, NS, "unhealthy", "HealthCheckFailed").await;
    assert!(
        m.contains("stalled") && m.contains("Job/default/broken"),
        "{m}"
    );
    let m = ks_failed(&env.client, NS, "unreachable", "ReconciliationFailed").await;
    assert!(
        m.starts_with("cluster of kubeconfig Secret 'flux-system/nowhere-kubeconfig': "),
        "{m}"
    );
    assert!(m.contains("ConfigMap/default/far"), "{m}");
    // The good one is still Ready, and the rest applied nothing they should not have.
    ks_ready(&env.client, NS, "good", &rev).await;
    assert!(!exists(&env.client, &config_maps(), "default", "far").await?);
    assert!(!exists(&env.client, &config_maps(), "default", "broken").await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn remote_prune_and_garbage_collection() -> R {
    let mut files = remote_files();
    files.push(("remote/gone.yaml", config_map("default", "gone", &[])));
    let Some((env, mut repo, rev)) = setup("ks-remote-prune", &files).await? else {
        return Ok(());
    };
    let kubeconfig = env.handle.create_cluster("workload-d").await?;
    kubeconfig_secret(&env, "workload-d", "value", &kubeconfig).await?;
    env.kustomization(
        NS,
        "remote",
        json!({"path": "./remote",
            "kubeConfig": {"secretRef": {"name": "workload-d-kubeconfig"}}}),
    )
    .await?;
    ks_ready(&env.client, NS, "remote", &rev).await;
    let (_, workload) = client_from(&kubeconfig).await?;
    assert!(exists(&workload, &config_maps(), "default", "gone").await?);
    repo.remove("remote/gone.yaml")?;
    let rev2 = main_rev(&repo.commit("drop gone")?);
    ks_ready(&env.client, NS, "remote", &rev2).await;
    assert!(!exists(&workload, &config_maps(), "default", "gone").await?);
    assert!(exists(&workload, &config_maps(), "default", "remote-cm").await?);
    env.api(&flotilla_controllers::resources::kustomization(), NS)
        .delete("remote", &kube::api::DeleteParams::default())
        .await?;
    wait_gone(&workload, &config_maps(), "default", "remote-cm").await;
    Ok(())
}
