//! The ClusterResourceSet controller against the embedded API server: manifests of
//! ConfigMaps and resource-set Secrets applied to matching clusters only (field manager
//! `cluster-resource-set`), bindings with hashes, ApplyOnce applied once and Reconcile again
//! after a change, an empty selector matching nothing, missing ConfigMaps and wrong Secret
//! types reported in `ResourcesApplied`, and recovery when the ConfigMap appears.
mod capi_harness;

use std::time::Duration;

use capi_harness::*;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::api::{Api, Patch, PatchParams};
use serde_json::{json, Value};

async fn workload_cm(client: &kube::Client, name: &str) -> Option<ConfigMap> {
    Api::<ConfigMap>::namespaced(client.clone(), "default")
        .get_opt(name)
        .await
        .ok()
        .flatten()
}

fn addon(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n  v: \"{value}\"\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}-ns\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_resource_sets() {
    let env = Env::start("crs", false).await;
    let ns = "fleet";
    env.namespace(ns).await;
    env.cluster(ns, "red", VC, json!({"cni": "calico"})).await;
    env.cluster(ns, "blue", VC, json!({"cni": "none"})).await;
    env.provisioned(ns, "red").await;
    env.provisioned(ns, "blue").await;
    let cms: Api<ConfigMap> = Api::namespaced(env.admin.clone(), ns);
    let put_cm = |name: &'static str, value: &'static str| {
        let cms = cms.clone();
        async move {
            let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": name}, "data": {"addon.yaml": addon(name, value)}});
            ok(
                cms.patch(
                    name,
                    &PatchParams::apply("test").force(),
                    &Patch::Apply(&body),
                )
                .await,
                "ConfigMap",
            );
        }
    };
    put_cm("once", "1").await;
    put_cm("rec", "1").await;
    let secrets: Api<Secret> = Api::namespaced(env.admin.clone(), ns);
    for (name, type_) in [
        ("sec", "addons.cluster.x-k8s.io/resource-set"),
        ("opaque", "Opaque"),
    ] {
        // `data`, not `stringData`: the embedded API server does not fold stringData in.
        let encoded =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, addon(name, "1"));
        let body = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
                          "type": type_, "data": {"x.yaml": encoded}});
        ok(
            secrets
                .patch(name, &PatchParams::apply("test"), &Patch::Apply(&body))
                .await,
            "Secret",
        );
    }
    let sets = res(
        "addons.cluster.x-k8s.io",
        "v1beta1",
        "ClusterResourceSet",
        "clusterresourcesets",
    );
    env.apply(
        &sets,
        ns,
        json!({"apiVersion": "addons.cluster.x-k8s.io/v1beta1", "kind": "ClusterResourceSet",
               "metadata": {"name": "secrets"},
               "spec": {"clusterSelector": {"matchLabels": {"cni": "calico"}},
                        "resources": [{"kind": "Secret", "name": "sec"}]}}),
    )
    .await;
    env.apply(
        &sets,
        ns,
        json!({"apiVersion": "addons.cluster.x-k8s.io/v1beta1", "kind": "ClusterResourceSet",
               "metadata": {"name": "wrongtype"},
               "spec": {"clusterSelector": {"matchLabels": {"cni": "calico"}},
                        "resources": [{"kind": "Secret", "name": "opaque"}]}}),
    )
    .await;
    for (name, strategy) in [("once", "ApplyOnce"), ("rec", "Reconcile")] {
        env.apply(
            &sets,
            ns,
            json!({"apiVersion": "addons.cluster.x-k8s.io/v1beta1", "kind": "ClusterResourceSet",
                   "metadata": {"name": name},
                   "spec": {"clusterSelector": {"matchLabels": {"cni": "calico"}}, "strategy": strategy,
                            "resources": [{"kind": "ConfigMap", "name": name}]}}),
        )
        .await;
    }
    // A set with an empty selector matches nothing; one naming a missing ConfigMap fails.
    env.apply(
        &sets,
        ns,
        json!({"apiVersion": "addons.cluster.x-k8s.io/v1beta1", "kind": "ClusterResourceSet",
               "metadata": {"name": "all"},
               "spec": {"clusterSelector": {}, "resources": [{"kind": "ConfigMap", "name": "once"}]}}),
    )
    .await;
    env.apply(
        &sets,
        ns,
        json!({"apiVersion": "addons.cluster.x-k8s.io/v1beta1", "kind": "ClusterResourceSet",
               "metadata": {"name": "broken"},
               "spec": {"clusterSelector": {"matchLabels": {"cni": "calico"}},
                        "resources": [{"kind": "ConfigMap", "name": "absent"}]}}),
    )
    .await;

    let red = env.workload(ns, "red").await;
    let blue = env.workload(ns, "blue").await;
    for name in ["once", "rec"] {
        let cm = eventually(&format!("{name} applied to red"), || {
            workload_cm(&red, name)
        })
        .await;
        assert_eq!(
            cm.data.and_then(|d| d.get("v").cloned()).as_deref(),
            Some("1")
        );
        let managers: Vec<String> = cm
            .metadata
            .managed_fields
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| m.manager)
            .collect();
        assert!(
            managers.contains(&"cluster-resource-set".to_string()),
            "{managers:?}"
        );
    }
    eventually("Secret manifests applied to red", || {
        workload_cm(&red, "sec")
    })
    .await;
    let ns_api: Api<Namespace> = Api::all(red.clone());
    assert!(ok(ns_api.get_opt("once-ns").await, "namespace").is_some());

    // The binding records both sets with hashes.
    let bindings = res(
        "addons.cluster.x-k8s.io",
        "v1beta1",
        "ClusterResourceSetBinding",
        "clusterresourcesetbindings",
    );
    let binding = eventually("binding of red with three sets", || async {
        env.dyn_api(&bindings, ns)
            .get("red")
            .await
            .ok()
            .filter(|b| {
                b.data
                    .pointer("/spec/bindings")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.len() == 3)
            })
    })
    .await;
    for b in binding
        .data
        .pointer("/spec/bindings")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let r = &b["resources"][0];
        let kind = if b["clusterResourceSetName"] == "secrets" {
            "Secret"
        } else {
            "ConfigMap"
        };
        assert_eq!(r["kind"], kind, "{b}");
        assert_eq!(r["applied"], true);
        assert!(
            r["hash"].as_str().is_some_and(|h| h.starts_with("sha256:")),
            "{r}"
        );
        assert!(r["lastAppliedTime"].is_string(), "{r}");
    }
    assert_eq!(
        binding.data.pointer("/spec/clusterName"),
        Some(&json!("red"))
    );

    let set_ready = |name: &'static str, status: &'static str| {
        let api = env.dyn_api(&sets, ns);
        async move {
            api.get(name)
                .await
                .ok()
                .filter(|s| condition(s, "ResourcesApplied").is_some_and(|c| c["status"] == status))
        }
    };
    eventually("rec ResourcesApplied", || set_ready("rec", "True")).await;
    let broken = eventually("broken ResourcesApplied False", || {
        set_ready("broken", "False")
    })
    .await;
    let message = condition(&broken, "ResourcesApplied")
        .map(|c| c["message"].to_string())
        .unwrap_or_default();
    assert!(
        message.contains("ConfigMap fleet/absent not found"),
        "{message}"
    );

    let wrong = eventually("wrongtype ResourcesApplied False", || {
        set_ready("wrongtype", "False")
    })
    .await;
    assert_eq!(
        condition(&wrong, "ResourcesApplied").map(|c| c["reason"].clone()),
        Some(json!("WrongSecretType"))
    );
    assert!(workload_cm(&red, "opaque").await.is_none());

    // Only the matching cluster got anything.
    assert!(workload_cm(&blue, "once").await.is_none());
    assert!(workload_cm(&blue, "rec").await.is_none());
    assert!(env
        .dyn_api(&bindings, ns)
        .get_opt("blue")
        .await
        .ok()
        .flatten()
        .is_none());

    // Reconcile re-applies after a change; ApplyOnce does not.
    put_cm("once", "2").await;
    put_cm("rec", "2").await;
    eventually("rec re-applied with v=2", || async {
        workload_cm(&red, "rec").await.filter(|cm| {
            cm.data
                .as_ref()
                .and_then(|d| d.get("v"))
                .map(String::as_str)
                == Some("2")
        })
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let once = workload_cm(&red, "once").await;
    assert_eq!(
        once.and_then(|cm| cm.data)
            .and_then(|d| d.get("v").cloned())
            .as_deref(),
        Some("1"),
        "ApplyOnce must not re-apply"
    );

    // The missing ConfigMap appears: the set recovers.
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "absent"},
                      "data": {"x.yaml": addon("late", "1")}});
    ok(
        cms.patch("absent", &PatchParams::apply("test"), &Patch::Apply(&body))
            .await,
        "ConfigMap absent",
    );
    eventually("late applied to red", || workload_cm(&red, "late")).await;
    eventually("broken ResourcesApplied True", || {
        set_ready("broken", "True")
    })
    .await;

    // Deleting a set removes its entry from the binding; what it applied stays.
    ok(
        env.dyn_api(&sets, ns)
            .delete("once", &Default::default())
            .await,
        "deleting set once",
    );
    eventually("binding of red without once", || async {
        env.dyn_api(&bindings, ns)
            .get("red")
            .await
            .ok()
            .filter(|b| {
                b.data
                    .pointer("/spec/bindings")
                    .and_then(Value::as_array)
                    .is_some_and(|a| {
                        !a.is_empty() && a.iter().all(|e| e["clusterResourceSetName"] != "once")
                    })
            })
    })
    .await;
    eventually("set once gone", || async {
        env.dyn_api(&sets, ns)
            .get_opt("once")
            .await
            .ok()
            .and_then(|o| o.is_none().then_some(()))
    })
    .await;
    assert!(workload_cm(&red, "once").await.is_some());
    env.stop().await;
}
