//! Kustomization end to end on the embedded plane: apply with Flux's status, inventory,
//! owner labels and Event; unchanged objects not rewritten; drift reverted; prune on a
//! deleted file (with `prune: disabled` kept); garbage collection on deletion.
mod support;

use std::time::Duration;

use flotilla_controllers::resources::{kustomization, REQUESTED_AT};
use kube::api::DeleteParams;
use kube::ResourceExt;
use serde_json::{json, Value};
use support::*;

const NS: &str = "flux-system";

/// Env + repository with `apps/` (Namespace apps, ConfigMaps settings and extra) committed,
/// and the GitRepository `flux-system/repo` on it.
async fn setup(tag: &str) -> R<Option<(Env, Repo, String)>> {
    if !git_available() {
        return Ok(None);
    }
    let env = Env::start(tag, false).await?;
    env.namespace(NS).await?;
    let mut repo = Repo::init(tag)?;
    repo.write(
        "apps/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n",
    )?;
    repo.write(
        "apps/settings.yaml",
        &config_map("apps", "settings", &[("region", "eu")]),
    )?;
    repo.write(
        "apps/extra.yaml",
        &config_map("apps", "extra", &[("k", "v")]),
    )?;
    let sha = repo.commit("apps")?;
    env.git_repository(NS, "repo", &repo.url(), json!({"branch": "main"}))
        .await?;
    Ok(Some((env, repo, sha)))
}

#[tokio::test(flavor = "multi_thread")]
async fn applies_with_flux_status_inventory_labels_and_event() -> R {
    let Some((env, _repo, sha)) = setup("ks-apply").await? else {
        return Ok(());
    };
    env.kustomization(NS, "apps", json!({"path": "./apps"}))
        .await?;
    let rev = main_rev(&sha);
    let ks = ks_ready(&env.client, NS, "apps", &rev).await;
    assert_eq!(
        field(&ks, "/status/lastAppliedRevision").as_deref(),
        Some(rev.as_str())
    );
    assert_eq!(
        field(&ks, "/status/lastAttemptedRevision").as_deref(),
        Some(rev.as_str())
    );
    let Some((_, reason, _)) = condition(&ks, "Ready") else {
        panic!("no Ready condition")
    };
    assert_eq!(reason, "ReconciliationSucceeded");
    let mut ids: Vec<(String, String)> = ks
        .data
        .pointer("/status/inventory/entries")
        .and_then(Value::as_array)
        .map(|es| {
            es.iter()
                .map(|e| {
                    (
                        e["id"].as_str().unwrap_or_default().to_string(),
                        e["v"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    assert_eq!(
        ids,
        vec![
            ("_apps__Namespace".to_string(), "v1".to_string()),
            ("apps_extra__ConfigMap".to_string(), "v1".to_string()),
            ("apps_settings__ConfigMap".to_string(), "v1".to_string()),
        ]
    );
    assert!(
        ks.finalizers().iter().any(|f| f == "finalizers.fluxcd.io"),
        "finalizer missing: {:?}",
        ks.finalizers()
    );

    let cm = env.api(&config_maps(), "apps").get("settings").await?;
    let labels = cm.labels();
    assert_eq!(
        labels
            .get("kustomize.toolkit.fluxcd.io/name")
            .map(String::as_str),
        Some("apps")
    );
    assert_eq!(
        labels
            .get("kustomize.toolkit.fluxcd.io/namespace")
            .map(String::as_str),
        Some(NS)
    );
    let ns = env.api(&namespaces(), "").get("apps").await?;
    assert_eq!(
        ns.labels()
            .get("kustomize.toolkit.fluxcd.io/name")
            .map(String::as_str),
        Some("apps")
    );

    let msgs = poll("the apply Event of Kustomization apps", WAIT, || async {
        match event_messages(&env.client, NS, "apps").await {
            Ok(m)
                if m.iter()
                    .any(|m| m.contains("ConfigMap/apps/settings created")) =>
            {
                (Some(m), String::new())
            }
            Ok(m) => (None, format!("{m:?}")),
            Err(e) => (None, e.to_string()),
        }
    })
    .await;
    let applied = msgs
        .iter()
        .find(|m| m.contains("ConfigMap/apps/settings created"))
        .cloned()
        .unwrap_or_default();
    assert!(
        applied.contains("Namespace/apps created")
            && applied.contains("ConfigMap/apps/extra created"),
        "{applied}"
    );
    Ok(())
}

/// Forces a reconcile with the requestedAt annotation and waits until it was handled.
async fn reconcile_now(env: &Env, name: &str, token: &str) -> R {
    env.patch(
        &kustomization(),
        NS,
        name,
        json!({"metadata": {"annotations": {REQUESTED_AT: token}}}),
    )
    .await?;
    wait_for(
        &env.client,
        &kustomization(),
        NS,
        name,
        &format!("lastHandledReconcileAt = {token}"),
        WAIT,
        |o| field(o, "/status/lastHandledReconcileAt").as_deref() == Some(token),
    )
    .await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn unchanged_objects_are_not_rewritten_and_drift_is_reverted() -> R {
    let Some((env, _repo, sha)) = setup("ks-drift").await? else {
        return Ok(());
    };
    env.kustomization(NS, "apps", json!({"path": "./apps"}))
        .await?;
    ks_ready(&env.client, NS, "apps", &main_rev(&sha)).await;
    let cms = env.api(&config_maps(), "apps");
    let before = cms.get("settings").await?.resource_version();
    let ns_before = env
        .api(&namespaces(), "")
        .get("apps")
        .await?
        .resource_version();
    // Two intervals (2s each) pass, and two reconciles are asked for and handled.
    tokio::time::sleep(Duration::from_secs(5)).await;
    reconcile_now(&env, "apps", "one").await?;
    reconcile_now(&env, "apps", "two").await?;
    assert_eq!(cms.get("settings").await?.resource_version(), before);
    assert_eq!(
        env.api(&namespaces(), "")
            .get("apps")
            .await?
            .resource_version(),
        ns_before
    );
    // No second apply Event either (nothing changed).
    let msgs = event_messages(&env.client, NS, "apps").await?;
    let applies = msgs.iter().filter(|m| m.contains("ConfigMap/")).count();
    assert_eq!(applies, 1, "one apply event expected: {msgs:?}");

    // Drift: someone edits the object through the API; the next interval reverts it.
    env.patch(
        &config_maps(),
        "apps",
        "settings",
        json!({"data": {"region": "us"}}),
    )
    .await?;
    wait_for(
        &env.client,
        &config_maps(),
        "apps",
        "settings",
        "data.region reverted to 'eu'",
        Duration::from_secs(15),
        |o| field(o, "/data/region").as_deref() == Some("eu"),
    )
    .await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn deleted_file_prunes_exactly_its_objects() -> R {
    let Some((env, mut repo, sha)) = setup("ks-prune").await? else {
        return Ok(());
    };
    repo.write(
        "apps/keep.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n  namespace: apps\n  annotations:\n    kustomize.toolkit.fluxcd.io/prune: disabled\ndata:\n  k: v\n",
    )?;
    let sha2 = repo.commit("keep")?;
    let _ = sha;
    env.kustomization(NS, "apps", json!({"path": "./apps"}))
        .await?;
    ks_ready(&env.client, NS, "apps", &main_rev(&sha2)).await;
    assert!(exists(&env.client, &config_maps(), "apps", "keep").await?);
    assert!(exists(&env.client, &config_maps(), "apps", "extra").await?);
    // An object of the same kind not owned by the Kustomization.
    env.create(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "bystander", "namespace": "apps"}, "data": {"a": "b"}}))
        .await?;

    repo.remove("apps/extra.yaml")?;
    repo.remove("apps/keep.yaml")?;
    let sha3 = repo.commit("drop extra and keep")?;
    let ks = ks_ready(&env.client, NS, "apps", &main_rev(&sha3)).await;
    assert!(!exists(&env.client, &config_maps(), "apps", "extra").await?);
    assert!(
        exists(&env.client, &config_maps(), "apps", "keep").await?,
        "prune: disabled object was deleted"
    );
    assert!(exists(&env.client, &config_maps(), "apps", "settings").await?);
    assert!(exists(&env.client, &config_maps(), "apps", "bystander").await?);
    assert!(exists(&env.client, &namespaces(), "", "apps").await?);
    let ids: Vec<String> = ks
        .data
        .pointer("/status/inventory/entries")
        .and_then(Value::as_array)
        .map(|es| {
            es.iter()
                .filter_map(|e| e["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(ids.len(), 2, "{ids:?}");
    let msgs = event_messages(&env.client, NS, "apps").await?;
    assert!(
        msgs.iter()
            .any(|m| m.contains("ConfigMap/apps/extra deleted")),
        "{msgs:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_the_kustomization_garbage_collects() -> R {
    let Some((env, _repo, sha)) = setup("ks-gc").await? else {
        return Ok(());
    };
    env.kustomization(NS, "apps", json!({"path": "./apps"}))
        .await?;
    ks_ready(&env.client, NS, "apps", &main_rev(&sha)).await;
    env.api(&kustomization(), NS)
        .delete("apps", &DeleteParams::default())
        .await?;
    wait_gone(&env.client, &kustomization(), NS, "apps").await;
    wait_gone(&env.client, &config_maps(), "apps", "settings").await;
    wait_gone(&env.client, &config_maps(), "apps", "extra").await;
    wait_gone(&env.client, &namespaces(), "", "apps").await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_converges_with_nothing_duplicated_or_wrongly_pruned() -> R {
    let Some((mut env, mut repo, sha)) = setup("ks-restart").await? else {
        return Ok(());
    };
    env.kustomization(NS, "apps", json!({"path": "./apps"}))
        .await?;
    ks_ready(&env.client, NS, "apps", &main_rev(&sha)).await;
    let settings_rv = env
        .api(&config_maps(), "apps")
        .get("settings")
        .await?
        .resource_version();
    // Down: a file leaves the repository meanwhile.
    env.stop_controllers().await;
    repo.remove("apps/extra.yaml")?;
    let sha2 = repo.commit("drop extra while down")?;
    env.start_controllers();
    let ks = ks_ready(&env.client, NS, "apps", &main_rev(&sha2)).await;
    assert!(!exists(&env.client, &config_maps(), "apps", "extra").await?);
    assert_eq!(
        env.api(&config_maps(), "apps")
            .get("settings")
            .await?
            .resource_version(),
        settings_rv,
        "an unchanged object was rewritten after the restart"
    );
    let entries = ks
        .data
        .pointer("/status/inventory/entries")
        .and_then(Value::as_array)
        .map(Vec::len);
    assert_eq!(entries, Some(2));
    assert_eq!(ks.finalizers().len(), 1, "{:?}", ks.finalizers());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn source_in_another_namespace_and_path_change_prunes() -> R {
    let Some((env, mut repo, _sha)) = setup("ks-xns").await? else {
        return Ok(());
    };
    repo.write("other/cm.yaml", &config_map("apps", "other", &[("k", "v")]))?;
    repo.write(
        "other/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n",
    )?;
    let sha2 = repo.commit("other")?;
    env.namespace("tenant").await?;
    env.kustomization(
        "tenant",
        "apps",
        json!({"path": "./apps", "sourceRef": {"kind": "GitRepository", "name": "repo", "namespace": NS}}),
    )
    .await?;
    ks_ready(&env.client, "tenant", "apps", &main_rev(&sha2)).await;
    let cm = env.api(&config_maps(), "apps").get("settings").await?;
    assert_eq!(
        cm.labels()
            .get("kustomize.toolkit.fluxcd.io/namespace")
            .map(String::as_str),
        Some("tenant")
    );
    // A new path: what only the old one had is pruned, the shared Namespace stays.
    env.patch(
        &kustomization(),
        "tenant",
        "apps",
        json!({"spec": {"path": "./other"}}),
    )
    .await?;
    wait_gone(&env.client, &config_maps(), "apps", "settings").await;
    assert!(exists(&env.client, &config_maps(), "apps", "other").await?);
    assert!(exists(&env.client, &namespaces(), "", "apps").await?);
    Ok(())
}
