//! The Cluster and MachineDeployment controllers against the embedded API server: a
//! VirtualCluster-backed Cluster is provisioned (phase, conditions, annotation, endpoint,
//! VirtualCluster status) with a kubeconfig Secret exactly as Cluster API writes it, whose
//! client lists namespaces in its virtual cluster and is refused on another; a
//! MachineDeployment keeps 3, then 1, Ready Nodes; deleting the Cluster deletes its virtual
//! cluster and Secret; AWSCluster-backed Clusters are provisioned only with simulation (and
//! their KubeadmControlPlane marked ready); v1alpha3 Clusters are served; paused ones are left
//! alone; a server refusing the admin API gives `ProviderUnavailable`; same-named Clusters in
//! two namespaces get distinct virtual clusters; an existing virtual cluster is adopted.
mod capi_harness;

use std::time::Duration;

use capi_harness::*;
use flotilla_controllers::capi;
use k8s_openapi::api::core::v1::{Namespace, Node, Secret};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::ResourceExt;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virtual_cluster_lifecycle_with_machines() {
    let env = Env::start("lifecycle", false).await;
    let ns = "fleet";
    env.namespace(ns).await;
    let vcs = res(
        "infrastructure.flotilla.dev",
        "v1alpha1",
        "VirtualCluster",
        "virtualclusters",
    );
    env.apply(
        &vcs,
        ns,
        json!({"apiVersion": VC.0, "kind": VC.1, "metadata": {"name": "alpha"}, "spec": {}}),
    )
    .await;
    env.cluster(ns, "alpha", VC, json!({})).await;
    let cluster = env.provisioned(ns, "alpha").await;

    // Status, annotation, endpoint.
    let status = &cluster.data["status"];
    assert_eq!(status["infrastructureReady"], true);
    assert_eq!(status["controlPlaneReady"], true);
    assert_eq!(
        status["observedGeneration"],
        json!(cluster.metadata.generation)
    );
    for t in ["Ready", "InfrastructureReady", "ControlPlaneReady"] {
        assert_eq!(
            condition(&cluster, t).map(|c| c["status"].clone()),
            Some(json!("True")),
            "{t} in {status}"
        );
    }
    assert!(cluster
        .finalizers()
        .contains(&"cluster.cluster.x-k8s.io".to_string()));
    let vc_name = cluster
        .annotations()
        .get("infrastructure.flotilla.dev/virtual-cluster")
        .cloned();
    assert_eq!(vc_name.as_deref(), Some("alpha"));
    let port = env.handle().addr.port();
    assert_eq!(
        cluster.data.pointer("/spec/controlPlaneEndpoint"),
        Some(&json!({"host": "127.0.0.1", "port": port}))
    );
    let ready_time = condition(&cluster, "Ready").map(|c| c["lastTransitionTime"].clone());

    // The VirtualCluster object reports ready.
    let vc_obj = eventually("VirtualCluster alpha ready", || async {
        env.dyn_api(&vcs, ns)
            .get("alpha")
            .await
            .ok()
            .filter(|o| o.data.pointer("/status/ready") == Some(&json!(true)))
    })
    .await;
    assert_eq!(
        vc_obj.data.pointer("/status/virtualClusterName"),
        Some(&json!("alpha"))
    );
    assert_eq!(
        vc_obj.data.pointer("/status/kubeconfigSecretName"),
        Some(&json!("alpha-kubeconfig"))
    );

    // The kubeconfig Secret, exactly as Cluster API writes it.
    let secret = ok(
        Api::<Secret>::namespaced(env.admin.clone(), ns)
            .get("alpha-kubeconfig")
            .await,
        "kubeconfig Secret",
    );
    assert_eq!(secret.type_.as_deref(), Some("cluster.x-k8s.io/secret"));
    assert_eq!(
        secret
            .labels()
            .get("cluster.x-k8s.io/cluster-name")
            .map(String::as_str),
        Some("alpha")
    );
    let keys: Vec<&String> = secret
        .data
        .as_ref()
        .map(|d| d.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, vec!["value"]);
    let owner = secret.owner_references().first().cloned();
    assert_eq!(owner.as_ref().map(|o| o.kind.as_str()), Some("Cluster"));
    assert_eq!(owner.as_ref().map(|o| o.uid.clone()), cluster.uid());
    assert_eq!(owner.and_then(|o| o.controller), Some(true));

    // Its client reaches the virtual cluster, and only that one.
    let workload = env.workload(ns, "alpha").await;
    let namespaces = ok(
        Api::<Namespace>::all(workload.clone())
            .list(&ListParams::default())
            .await,
        "listing namespaces in the virtual cluster",
    );
    assert!(
        namespaces.items.iter().all(|n| n.name_any() != ns),
        "management namespace leaked"
    );
    let other = ok(
        env.handle().create_cluster("other").await,
        "creating another cluster",
    );
    let server = other
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap_or_default()
        .to_string();
    let mut cfg = ok(
        kube::Config::from_custom_kubeconfig(
            ok(
                kube::config::Kubeconfig::from_yaml(&String::from_utf8_lossy(
                    &secret
                        .data
                        .as_ref()
                        .and_then(|d| d.get("value"))
                        .map(|v| v.0.clone())
                        .unwrap_or_default(),
                )),
                "kubeconfig",
            ),
            &kube::config::KubeConfigOptions::default(),
        )
        .await,
        "config",
    );
    cfg.cluster_url = ok(server.parse(), "other server URL");
    let intruder = ok(kube::Client::try_from(cfg), "client");
    match Api::<Namespace>::all(intruder)
        .list(&ListParams::default())
        .await
    {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 403, "{s:?}"),
        other => panic!("expected 403 on another cluster, got {other:?}"),
    }

    // A kubeconfig Secret deleted by hand is written again.
    let secrets: Api<Secret> = Api::namespaced(env.admin.clone(), ns);
    let first_uid = secret.uid();
    ok(
        secrets
            .delete("alpha-kubeconfig", &DeleteParams::default())
            .await,
        "deleting the kubeconfig Secret",
    );
    eventually("kubeconfig Secret re-created", || async {
        secrets
            .get_opt("alpha-kubeconfig")
            .await
            .ok()
            .flatten()
            .filter(|s| s.uid() != first_uid)
    })
    .await;

    // A status-only resync keeps lastTransitionTime.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut touched = json!({"metadata": {"labels": {"touched": "yes"}}});
    touched["metadata"]["labels"]["touched"] = json!("yes");
    ok(
        env.dyn_api(&clusters_ar(), ns)
            .patch("alpha", &PatchParams::default(), &Patch::Merge(&touched))
            .await,
        "touching the Cluster",
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = env.provisioned(ns, "alpha").await;
    assert_eq!(
        condition(&again, "Ready").map(|c| c["lastTransitionTime"].clone()),
        ready_time
    );

    // MachineDeployment: 3 Ready Nodes, then 1.
    let mds = res(
        "cluster.x-k8s.io",
        "v1beta1",
        "MachineDeployment",
        "machinedeployments",
    );
    let md = |replicas: i64| {
        json!({
            "apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "MachineDeployment",
            "metadata": {"name": "workers", "namespace": ns},
            "spec": {"clusterName": "alpha", "replicas": replicas,
                     "selector": {"matchLabels": {"pool": "workers"}},
                     "template": {"metadata": {"labels": {"pool": "workers"}},
                                  "spec": {"clusterName": "alpha", "version": "v1.30.5",
                                           "bootstrap": {"dataSecretName": "x"},
                                           "infrastructureRef": {"kind": "VirtualMachineTemplate", "name": "w"}}}},
        })
    };
    env.apply(&mds, ns, md(3)).await;
    let nodes_api: Api<Node> = Api::all(workload.clone());
    let ready_nodes = |n: usize| {
        let nodes_api = nodes_api.clone();
        async move {
            let list = nodes_api.list(&ListParams::default()).await.ok()?;
            let mut names: Vec<String> = list
                .items
                .iter()
                .filter(|node| {
                    let st = node.status.as_ref();
                    let ready = st.and_then(|s| s.conditions.as_ref()).is_some_and(|cs| {
                        cs.iter().any(|c| c.type_ == "Ready" && c.status == "True")
                    });
                    let version = st
                        .and_then(|s| s.node_info.as_ref())
                        .is_some_and(|i| i.kubelet_version == "v1.30.5");
                    let labels = node.labels();
                    ready
                        && version
                        && labels
                            .get("cluster.x-k8s.io/deployment-name")
                            .map(String::as_str)
                            == Some("workers")
                        && labels.contains_key("node-role.kubernetes.io/worker")
                })
                .map(|node| node.name_any())
                .collect();
            names.sort();
            (names.len() == n && list.items.len() == n).then_some(names)
        }
    };
    let names = eventually("3 Ready Nodes", || ready_nodes(3)).await;
    assert_eq!(names, vec!["workers-0", "workers-1", "workers-2"]);
    let md_obj = eventually("MachineDeployment status with 3 ready", || async {
        env.dyn_api(&mds, ns)
            .get("workers")
            .await
            .ok()
            .filter(|o| o.data.pointer("/status/readyReplicas") == Some(&json!(3)))
    })
    .await;
    let st = &md_obj.data["status"];
    assert_eq!(st["phase"], "Running");
    assert_eq!(st["replicas"], 3);
    assert_eq!(st["availableReplicas"], 3);
    assert_eq!(st["updatedReplicas"], 3);
    assert_eq!(st["observedGeneration"], json!(md_obj.metadata.generation));
    env.apply(&mds, ns, md(1)).await;
    let names = eventually("1 Ready Node after scaling down", || ready_nodes(1)).await;
    assert_eq!(names, vec!["workers-0"]);

    // Deleting the Cluster removes the virtual cluster and the Secret.
    assert!(env.admin_get("alpha").await.is_ok());
    ok(
        env.dyn_api(&clusters_ar(), ns)
            .delete("alpha", &DeleteParams::default())
            .await,
        "deleting the Cluster",
    );
    eventually("Cluster alpha gone", || async {
        env.get_cluster(ns, "alpha").await.is_none().then_some(())
    })
    .await;
    assert_eq!(env.admin_get("alpha").await.err(), Some(404));
    let secret = Api::<Secret>::namespaced(env.admin.clone(), ns)
        .get_opt("alpha-kubeconfig")
        .await;
    assert!(matches!(secret, Ok(None)), "{secret:?}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_providers_only_with_simulation() {
    // Without simulation: Pending, with a condition naming the kind.
    let env = Env::start("nosim", false).await;
    env.namespace("aws").await;
    env.cluster("aws", "eks", AWS, json!({})).await;
    let pending = eventually("Cluster eks Pending with a condition", || async {
        env.get_cluster("aws", "eks").await.filter(|c| {
            condition(c, "Ready").is_some_and(|r| r["reason"] == "InfrastructureProviderNotRunning")
        })
    })
    .await;
    assert_eq!(
        pending.data.pointer("/status/phase"),
        Some(&json!("Pending"))
    );
    let message = condition(&pending, "Ready")
        .map(|c| c["message"].to_string())
        .unwrap_or_default();
    assert!(
        message.contains("no infrastructure provider runs for kind AWSCluster"),
        "{message}"
    );
    assert_eq!(env.admin_get("eks").await.err(), Some(404));
    env.stop().await;

    // With simulation: provisioned, and the AWSCluster reports ready.
    let env = Env::start("sim", true).await;
    env.namespace("aws").await;
    let aws = res(
        "infrastructure.cluster.x-k8s.io",
        "v1beta2",
        "AWSCluster",
        "awsclusters",
    );
    env.apply(
        &aws,
        "aws",
        json!({"apiVersion": AWS.0, "kind": AWS.1, "metadata": {"name": "eks"}, "spec": {"region": "eu-west-1"}}),
    )
    .await;
    let kcps = res(
        "controlplane.cluster.x-k8s.io",
        "v1beta1",
        "KubeadmControlPlane",
        "kubeadmcontrolplanes",
    );
    env.apply(
        &kcps,
        "aws",
        json!({"apiVersion": "controlplane.cluster.x-k8s.io/v1beta1", "kind": "KubeadmControlPlane",
               "metadata": {"name": "eks-cp"}, "spec": {"replicas": 3, "version": "v1.30.5"}}),
    )
    .await;
    env.apply(
        &clusters_ar(),
        "aws",
        json!({"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster",
               "metadata": {"name": "eks"},
               "spec": {"infrastructureRef": {"apiVersion": AWS.0, "kind": AWS.1, "name": "eks"},
                        "controlPlaneRef": {"apiVersion": "controlplane.cluster.x-k8s.io/v1beta1",
                                            "kind": "KubeadmControlPlane", "name": "eks-cp"}}}),
    )
    .await;
    env.provisioned("aws", "eks").await;
    assert!(env.admin_get("eks").await.is_ok());
    let kcp = eventually("KubeadmControlPlane ready", || async {
        env.dyn_api(&kcps, "aws")
            .get("eks-cp")
            .await
            .ok()
            .filter(|o| o.data.pointer("/status/ready") == Some(&json!(true)))
    })
    .await;
    assert_eq!(kcp.data.pointer("/status/initialized"), Some(&json!(true)));
    let obj = eventually("AWSCluster ready", || async {
        env.dyn_api(&aws, "aws")
            .get("eks")
            .await
            .ok()
            .filter(|o| o.data.pointer("/status/ready") == Some(&json!(true)))
    })
    .await;
    assert!(condition(&obj, "Ready").is_some_and(|c| c["status"] == "True"));

    // A Cluster written at v1alpha3 (served with conversion None) is provisioned too; a
    // paused one is left alone.
    let old = res("cluster.x-k8s.io", "v1alpha3", "Cluster", "clusters");
    env.apply(
        &old,
        "aws",
        json!({"apiVersion": "cluster.x-k8s.io/v1alpha3", "kind": "Cluster",
               "metadata": {"name": "legacy"},
               "spec": {"infrastructureRef": {"apiVersion": VC.0, "kind": VC.1, "name": "legacy"}}}),
    )
    .await;
    env.apply(
        &clusters_ar(),
        "aws",
        json!({"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster",
               "metadata": {"name": "frozen"},
               "spec": {"paused": true,
                        "infrastructureRef": {"apiVersion": VC.0, "kind": VC.1, "name": "frozen"}}}),
    )
    .await;
    env.provisioned("aws", "legacy").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let frozen = env.get_cluster("aws", "frozen").await;
    assert!(
        frozen.as_ref().is_some_and(|c| c.finalizers().is_empty()
            && c.data.pointer("/status/phase").is_none()),
        "paused Cluster touched: {frozen:?}"
    );
    assert_eq!(env.admin_get("frozen").await.err(), Some(404));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_collisions_restarts_and_unavailable_provider() {
    let mut env = Env::server("names").await;
    for ns in ["a", "b"] {
        env.namespace(ns).await;
    }
    // A virtual cluster created before the controllers start (as by a crash between the
    // annotation and the Secret) is adopted, not duplicated.
    env.apply(
        &clusters_ar(),
        "a",
        json!({"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster",
               "metadata": {"name": "web", "namespace": "a",
                            "annotations": {"infrastructure.flotilla.dev/virtual-cluster": "web"}},
               "spec": {"infrastructureRef": {"apiVersion": VC.0, "kind": VC.1, "name": "web"}}}),
    )
    .await;
    let pre = ok(
        env.handle().create_cluster("web").await,
        "pre-creating the virtual cluster",
    );
    env.run_controllers(env.admin.clone(), false);
    env.provisioned("a", "web").await;
    let secret_kubeconfig = {
        let s = ok(
            Api::<Secret>::namespaced(env.admin.clone(), "a")
                .get("web-kubeconfig")
                .await,
            "secret",
        );
        s.data
            .and_then(|d| {
                d.get("value")
                    .map(|v| String::from_utf8_lossy(&v.0).into_owned())
            })
            .unwrap_or_default()
    };
    assert_eq!(
        secret_kubeconfig, pre,
        "the existing virtual cluster's kubeconfig is used"
    );

    // The same name in another namespace gets a hashed virtual cluster.
    env.cluster("b", "web", VC, json!({})).await;
    let b = env.provisioned("b", "web").await;
    let vc_b = b
        .annotations()
        .get("infrastructure.flotilla.dev/virtual-cluster")
        .cloned()
        .unwrap_or_default();
    assert!(vc_b.starts_with("web-") && vc_b.len() == 14, "{vc_b}");
    assert!(env.admin_get(&vc_b).await.is_ok());
    env.stop_controllers();

    // Controllers whose credentials cannot use the admin API: ProviderUnavailable.
    let restricted = ok(
        capi::workload::client_from_kubeconfig(&secret_kubeconfig).await,
        "virtual cluster client",
    );
    install_crds(&restricted).await;
    let api: Api<Namespace> = Api::all(restricted.clone());
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}});
    ok(
        api.patch("x", &PatchParams::apply("test"), &Patch::Apply(&body))
            .await,
        "namespace",
    );
    env.run_controllers(restricted.clone(), false);
    let inner: Api<DynamicObject> = Api::namespaced_with(restricted, "x", &clusters_ar());
    let body = json!({"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster",
                      "metadata": {"name": "inner"},
                      "spec": {"infrastructureRef": {"apiVersion": VC.0, "kind": VC.1, "name": "inner"}}});
    ok(
        inner
            .patch("inner", &PatchParams::apply("test"), &Patch::Apply(&body))
            .await,
        "inner Cluster",
    );
    let c =
        eventually("ProviderUnavailable", || async {
            inner.get("inner").await.ok().filter(|c| {
                condition(c, "Ready").is_some_and(|r| r["reason"] == "ProviderUnavailable")
            })
        })
        .await;
    let message = condition(&c, "Ready")
        .map(|r| r["message"].to_string())
        .unwrap_or_default();
    assert!(
        message.contains("virtual clusters need the Flotilla API server"),
        "{message}"
    );
    assert_eq!(c.data.pointer("/status/phase"), Some(&json!("Pending")));
    env.stop().await;
}
