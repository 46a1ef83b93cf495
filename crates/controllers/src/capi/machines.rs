//! The MachineDeployment controller: once its Cluster is `Provisioned`, a MachineDeployment
//! keeps exactly `spec.replicas` (default 1) Ready Nodes named `<md-name>-<index>` in the
//! workload cluster, reached through the `<cluster>-kubeconfig` Secret. Nodes carry the
//! labels `cluster.x-k8s.io/deployment-name` and `node-role.kubernetes.io/worker` and
//! report `nodeInfo.kubeletVersion` = `spec.template.spec.version`; scaling down deletes the
//! extras. The MachineDeployment holds the finalizer `machine.cluster.x-k8s.io` (the
//! Machines' finalizer upstream) so its Nodes go with it.
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::ResourceExt;
use serde_json::json;

use flotilla_model::capi::{Cluster, ClusterPhase, MachineDeployment, CLUSTER_NAME_LABEL};

use super::support::{
    apply_params, cluster_resource, dyn_api, is_not_found, machine_deployment_resource,
    merge_status, now, resync, retry_action, set_finalizer, typed, CapiError, MANAGER,
};
use super::Ctx;

/// The label naming a Node's MachineDeployment.
pub const DEPLOYMENT_NAME_LABEL: &str = "cluster.x-k8s.io/deployment-name";
/// The worker role label.
pub const WORKER_ROLE_LABEL: &str = "node-role.kubernetes.io/worker";
/// The finalizer that deletes a MachineDeployment's Nodes.
pub const MACHINE_FINALIZER: &str = "machine.cluster.x-k8s.io";
/// `kubeletVersion` of Nodes whose template names no version.
const DEFAULT_VERSION: &str = "v1.32.0";

/// The MachineDeployment controller's stream (Cluster changes re-trigger the
/// MachineDeployments naming them).
pub(crate) fn controller(
    ctx: Arc<Ctx>,
) -> impl Stream<
    Item = Result<(ObjectRef<DynamicObject>, Action), controller::Error<CapiError, watcher::Error>>,
> {
    let ar = machine_deployment_resource();
    let api = Api::<DynamicObject>::all_with(ctx.client.clone(), &ar);
    let cluster_ar = cluster_resource();
    let clusters = Api::<DynamicObject>::all_with(ctx.client.clone(), &cluster_ar);
    let concurrency = ctx.opts.concurrency;
    let c = Controller::new_with(api, watcher::Config::default(), ar.clone())
        .with_config(controller::Config::default().concurrency(concurrency));
    let store = c.store();
    c.watches_with(
        clusters,
        cluster_ar,
        watcher::Config::default(),
        move |cluster| {
            let ns = cluster.namespace();
            let name = cluster.name_any();
            store
                .state()
                .into_iter()
                .filter(|md| {
                    md.namespace() == ns
                        && md
                            .data
                            .pointer("/spec/clusterName")
                            .and_then(|v| v.as_str())
                            == Some(name.as_str())
                })
                .map(|md| {
                    ObjectRef::new_with(&md.name_any(), ar.clone())
                        .within(ns.as_deref().unwrap_or_default())
                })
                .collect::<Vec<_>>()
        },
    )
    .run(reconcile, error_policy, ctx)
}

fn error_policy(obj: Arc<DynamicObject>, error: &CapiError, _ctx: Arc<Ctx>) -> Action {
    tracing::warn!(machine_deployment = %obj.name_any(), namespace = ?obj.namespace(), %error, "MachineDeployment reconcile failed");
    retry_action(error)
}

/// The Node names of MachineDeployment `md` with `replicas` replicas.
pub fn node_names(md: &str, replicas: i32) -> Vec<String> {
    (0..replicas.max(0)).map(|i| format!("{md}-{i}")).collect()
}

/// The workload cluster's client, when the Cluster is provisioned and not paused.
async fn workload(
    ctx: &Ctx,
    ns: &str,
    cluster_name: &str,
) -> Result<Option<kube::Client>, CapiError> {
    let clusters = dyn_api(&ctx.client, &cluster_resource(), ns);
    let obj = match clusters.get(cluster_name).await {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => {
            return Err(CapiError::kube(format!(
                "reading Cluster {ns}/{cluster_name}"
            ))(e))
        }
    };
    let cluster: Cluster = typed(&obj)?;
    let provisioned = cluster.status.as_ref().and_then(|s| s.phase.as_deref())
        == Some(ClusterPhase::Provisioned.as_str());
    if !provisioned || cluster.spec.is_paused() || cluster.metadata.deletion_timestamp.is_some() {
        return Ok(None);
    }
    ctx.workloads.client(&ctx.client, ns, cluster_name).await
}

fn selector(md: &str) -> ListParams {
    ListParams::default().labels(&format!("{DEPLOYMENT_NAME_LABEL}={md}"))
}

async fn reconcile(obj: Arc<DynamicObject>, ctx: Arc<Ctx>) -> Result<Action, CapiError> {
    let ns = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let md: MachineDeployment = typed(&obj)?;
    let api = dyn_api(&ctx.client, &machine_deployment_resource(), &ns);
    let cluster_name = md.spec.cluster_name.clone();
    if md.metadata.deletion_timestamp.is_some() {
        if obj.finalizers().iter().any(|f| f == MACHINE_FINALIZER) {
            if let Some(client) = workload(&ctx, &ns, &cluster_name).await? {
                let nodes: Api<Node> = Api::all(client);
                for node in list_nodes(&nodes, &name).await? {
                    delete_node(&nodes, &node.name_any()).await?;
                }
            }
            set_finalizer(&api, &obj, MACHINE_FINALIZER, false).await?;
        }
        return Ok(Action::await_change());
    }
    if md.spec.paused.unwrap_or(false) {
        return Ok(Action::await_change());
    }
    set_finalizer(&api, &obj, MACHINE_FINALIZER, true).await?;
    let Some(client) = workload(&ctx, &ns, &cluster_name).await? else {
        tracing::debug!(machine_deployment = %name, cluster = %cluster_name, "Cluster not provisioned yet");
        return Ok(Action::requeue(Duration::from_secs(30)));
    };
    let version = md.spec.version().unwrap_or(DEFAULT_VERSION).to_string();
    let desired = md.spec.desired_replicas().max(0);
    let wanted: BTreeSet<String> = node_names(&name, desired).into_iter().collect();
    let nodes: Api<Node> = Api::all(client);
    let existing = list_nodes(&nodes, &name).await?;
    for node in &existing {
        if !wanted.contains(&node.name_any()) {
            delete_node(&nodes, &node.name_any()).await?;
        }
    }
    for node_name in &wanted {
        let current = existing.iter().find(|n| n.name_any() == *node_name);
        if !current.is_some_and(|n| is_ready_at(n, &version)) {
            write_node(&nodes, node_name, &name, &cluster_name, &version).await?;
        }
    }
    let status = json!({
        "observedGeneration": obj.metadata.generation,
        "replicas": desired,
        "updatedReplicas": desired,
        "readyReplicas": desired,
        "availableReplicas": desired,
        "unavailableReplicas": 0,
        "phase": "Running",
    });
    let old = obj.data.get("status");
    let unchanged = old.is_some_and(|o| {
        status
            .as_object()
            .is_some_and(|m| m.iter().all(|(k, v)| o.get(k) == Some(v)))
    });
    if !unchanged {
        merge_status(&api, &machine_deployment_resource(), &name, status).await?;
        tracing::info!(machine_deployment = %name, namespace = %ns, replicas = desired, "MachineDeployment running");
    }
    Ok(resync())
}

async fn list_nodes(nodes: &Api<Node>, md: &str) -> Result<Vec<Node>, CapiError> {
    Ok(nodes
        .list(&selector(md))
        .await
        .map_err(CapiError::kube(format!("listing Nodes of {md}")))?
        .items)
}

async fn delete_node(nodes: &Api<Node>, name: &str) -> Result<(), CapiError> {
    match nodes.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(CapiError::kube(format!("deleting Node {name}"))(e)),
    }
}

/// Whether a Node is Ready with kubelet `version` (nothing to write).
fn is_ready_at(node: &Node, version: &str) -> bool {
    let Some(status) = &node.status else {
        return false;
    };
    let ready = status
        .conditions
        .as_ref()
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    let same_version = status
        .node_info
        .as_ref()
        .is_some_and(|i| i.kubelet_version == version);
    ready && same_version && node.labels().contains_key(WORKER_ROLE_LABEL)
}

async fn write_node(
    nodes: &Api<Node>,
    name: &str,
    md: &str,
    cluster: &str,
    version: &str,
) -> Result<(), CapiError> {
    let body = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                DEPLOYMENT_NAME_LABEL: md,
                CLUSTER_NAME_LABEL: cluster,
                WORKER_ROLE_LABEL: "",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
            },
        },
        "spec": {"providerID": format!("flotilla://{cluster}/{name}")},
    });
    let params = apply_params(MANAGER);
    nodes
        .patch(name, &params, &Patch::Apply(&body))
        .await
        .map_err(CapiError::kube(format!("writing Node {name}")))?;
    let t = now();
    // A merge patch: the embedded API server drops `status` from applies to `/status`.
    let status = json!({
        "status": {
            "conditions": [{
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
                "lastHeartbeatTime": t,
                "lastTransitionTime": t,
            }],
            "addresses": [{"type": "Hostname", "address": name}],
            "capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"},
            "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"},
            "nodeInfo": {
                "machineID": name,
                "systemUUID": name,
                "bootID": name,
                "kernelVersion": "6.1.0-flotilla",
                "osImage": "Flotilla virtual node",
                "containerRuntimeVersion": "flotilla://0.1.0",
                "kubeletVersion": version,
                "kubeProxyVersion": version,
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    });
    nodes
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .map_err(CapiError::kube(format!("writing status of Node {name}")))?;
    tracing::debug!(node = name, machine_deployment = md, "Node ready");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_follow_the_index() {
        assert_eq!(node_names("md", 3), vec!["md-0", "md-1", "md-2"]);
        assert!(node_names("md", 0).is_empty());
        assert!(node_names("md", -1).is_empty());
    }

    #[test]
    fn readiness_needs_condition_version_and_role() {
        let node: Node = match serde_json::from_value(json!({
            "metadata": {"name": "md-0", "labels": {WORKER_ROLE_LABEL: ""}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "nodeInfo": {"kubeletVersion": "v1.30.5", "machineID": "", "systemUUID": "",
                         "bootID": "", "kernelVersion": "", "osImage": "", "containerRuntimeVersion": "",
                         "kubeProxyVersion": "", "operatingSystem": "", "architecture": ""}}
        })) {
            Ok(n) => n,
            Err(e) => panic!("{e}"),
        };
        assert!(is_ready_at(&node, "v1.30.5"));
        assert!(!is_ready_at(&node, "v1.31.0"));
        let mut unlabelled = node.clone();
        unlabelled.metadata.labels = None;
        assert!(!is_ready_at(&unlabelled, "v1.30.5"));
    }
}
