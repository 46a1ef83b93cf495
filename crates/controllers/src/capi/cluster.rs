//! The Cluster controller: `cluster.x-k8s.io` Clusters on virtual clusters.
//!
//! Flow: finalizer `cluster.cluster.x-k8s.io` → phase `Pending` → `Provisioning` → the
//! virtual cluster's name is chosen and recorded in the annotation
//! `infrastructure.flotilla.dev/virtual-cluster` *before* it is created (so a restart finds
//! it) → created over the admin API (an existing one is read back) → the `<name>-kubeconfig`
//! Secret → the infrastructure and control plane objects marked ready (best effort) → phase
//! `Provisioned` with `Ready`, `InfrastructureReady` and `ControlPlaneReady` True. Deleting:
//! phase `Deleting`, the virtual cluster and the Secret deleted, finalizer removed. A paused
//! Cluster is left alone, deletion included, as Cluster API does.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::ResourceExt;
use serde_json::{json, Value};

use flotilla_model::capi::{
    kubeconfig_secret_name, Cluster, ClusterPhase, CLUSTER_FINALIZER, CLUSTER_NAME_LABEL,
    KUBECONFIG_SECRET_KEY, KUBECONFIG_SECRET_TYPE,
};
use flotilla_model::meta::{set_condition, Condition, ObjectReference, FALSE, READY, TRUE};

use super::provider::{self, Availability};
use super::support::{
    apply_params, cluster_resource, conditions_of, dyn_api, is_not_found, merge_status, now,
    resync, retry_action, set_finalizer, typed, virtual_cluster_resource, CapiError, MANAGER,
};
use super::workload::{endpoint_of, server_of};
use super::Ctx;

/// The annotation recording the virtual cluster of a Cluster.
pub const VIRTUAL_CLUSTER_ANNOTATION: &str = "infrastructure.flotilla.dev/virtual-cluster";
/// Condition type: the infrastructure is ready.
pub const INFRASTRUCTURE_READY: &str = "InfrastructureReady";
/// Condition type: the control plane is ready.
pub const CONTROL_PLANE_READY: &str = "ControlPlaneReady";
/// Reason: the API server has no virtual clusters.
pub const PROVIDER_UNAVAILABLE: &str = "ProviderUnavailable";
/// Reason: no controller runs for the infrastructure kind.
pub const PROVIDER_NOT_RUNNING: &str = "InfrastructureProviderNotRunning";

/// The Cluster controller's stream.
pub(crate) fn controller(
    ctx: Arc<Ctx>,
) -> impl Stream<
    Item = Result<(ObjectRef<DynamicObject>, Action), controller::Error<CapiError, watcher::Error>>,
> {
    let ar = cluster_resource();
    let api = Api::<DynamicObject>::all_with(ctx.client.clone(), &ar);
    let concurrency = ctx.opts.concurrency;
    // The kubeconfig Secrets (labelled with their Cluster) are owned: one deleted or edited
    // by hand is written again.
    let secrets = Api::<Secret>::all(ctx.client.clone());
    Controller::new_with(api, watcher::Config::default(), ar)
        .owns(
            secrets,
            watcher::Config::default().labels(CLUSTER_NAME_LABEL),
        )
        .with_config(controller::Config::default().concurrency(concurrency))
        .run(reconcile, error_policy, ctx)
}

fn error_policy(obj: Arc<DynamicObject>, error: &CapiError, _ctx: Arc<Ctx>) -> Action {
    tracing::warn!(cluster = %obj.name_any(), namespace = ?obj.namespace(), %error, "Cluster reconcile failed");
    retry_action(error)
}

/// Who provisions a Cluster's infrastructure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Infrastructure {
    /// Our `VirtualCluster` (or no infrastructureRef at all).
    Virtual,
    /// A provider we do not run, simulated as a virtual cluster.
    Simulated(String),
    /// A provider we do not run, without simulation.
    NotRunning(String),
}

/// Who provisions a Cluster whose infrastructureRef is `r`.
pub fn infrastructure(r: Option<&ObjectReference>, simulate: bool) -> Infrastructure {
    let Some(r) = r else {
        return Infrastructure::Virtual;
    };
    let kind = r.kind.clone().unwrap_or_default();
    let group = r
        .api_version
        .as_deref()
        .map(flotilla_model::meta::group_of)
        .unwrap_or_default();
    if kind == "VirtualCluster" && (group.is_empty() || group == flotilla_model::infra::GROUP) {
        Infrastructure::Virtual
    } else if simulate {
        Infrastructure::Simulated(kind)
    } else {
        Infrastructure::NotRunning(kind)
    }
}

/// The Cluster's status being built: the fields we own.
struct StatusUpdate {
    phase: ClusterPhase,
    infrastructure_ready: bool,
    control_plane_ready: bool,
    conditions: Vec<Condition>,
    /// The generation observed (`None`: the object's as read).
    generation: Option<i64>,
}

fn cond(type_: &str, ok: bool, reason: &str, message: &str, severity: &str) -> Condition {
    let mut c = Condition::new(
        type_,
        if ok { TRUE } else { FALSE },
        reason,
        message,
        &now(),
    );
    if !ok {
        c.severity = Some(severity.to_string());
    }
    c
}

/// Writes the Cluster's status when it differs from what is stored.
async fn write_status(
    api: &Api<DynamicObject>,
    obj: &DynamicObject,
    update: StatusUpdate,
) -> Result<(), CapiError> {
    let old = obj.data.get("status");
    let mut conditions = conditions_of(old);
    for c in update.conditions {
        set_condition(&mut conditions, c);
    }
    let status = json!({
        "phase": update.phase.as_str(),
        "infrastructureReady": update.infrastructure_ready,
        "controlPlaneReady": update.control_plane_ready,
        "observedGeneration": update.generation.or(obj.metadata.generation),
        "conditions": conditions,
    });
    let unchanged = old.is_some_and(|o| {
        [
            "phase",
            "infrastructureReady",
            "controlPlaneReady",
            "observedGeneration",
        ]
        .iter()
        .all(|k| o.get(*k) == status.get(*k))
            && conditions_of(Some(o)) == conditions
    });
    if unchanged {
        return Ok(());
    }
    merge_status(api, &cluster_resource(), &obj.name_any(), status).await
}

async fn reconcile(obj: Arc<DynamicObject>, ctx: Arc<Ctx>) -> Result<Action, CapiError> {
    let ns = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let cluster: Cluster = typed(&obj)?;
    let api = dyn_api(&ctx.client, &cluster_resource(), &ns);
    if cluster.spec.is_paused() {
        tracing::debug!(cluster = %name, namespace = %ns, "paused");
        return Ok(Action::await_change());
    }
    if cluster.metadata.deletion_timestamp.is_some() {
        return delete(&ctx, &api, &obj, &cluster).await;
    }
    set_finalizer(&api, &obj, CLUSTER_FINALIZER, true).await?;
    let phase = cluster.status.as_ref().and_then(|s| s.phase.clone());
    if phase.is_none() {
        let waiting = cond(READY, false, "WaitingForInfrastructure", "", "Info");
        write_status(&api, &obj, pending(vec![waiting])).await?;
    }
    let infra = infrastructure(
        cluster.spec.infrastructure_ref.as_ref(),
        ctx.opts.simulate_infrastructure,
    );
    if let Infrastructure::NotRunning(kind) = &infra {
        let message = format!(
            "no infrastructure provider runs for kind {kind}; start the controllers with \
             --simulate-infrastructure to provision it as a virtual cluster"
        );
        let conditions = vec![
            cond(
                INFRASTRUCTURE_READY,
                false,
                PROVIDER_NOT_RUNNING,
                &message,
                "Warning",
            ),
            cond(READY, false, PROVIDER_NOT_RUNNING, &message, "Warning"),
        ];
        write_status(&api, &obj, pending(conditions)).await?;
        return Ok(Action::await_change());
    }
    let names = match provider::availability(&ctx.client).await? {
        Availability::Available(names) => names,
        Availability::Unavailable(message) => {
            let conditions = vec![
                cond(
                    INFRASTRUCTURE_READY,
                    false,
                    PROVIDER_UNAVAILABLE,
                    &message,
                    "Error",
                ),
                cond(READY, false, PROVIDER_UNAVAILABLE, &message, "Error"),
            ];
            write_status(&api, &obj, pending(conditions)).await?;
            return Ok(Action::requeue(Duration::from_secs(60)));
        }
    };
    let provisioned = phase.as_deref() == Some(ClusterPhase::Provisioned.as_str());
    if !provisioned {
        let progressing = cond(READY, false, "Provisioning", "", "Info");
        write_status(
            &api,
            &obj,
            StatusUpdate {
                phase: ClusterPhase::Provisioning,
                infrastructure_ready: false,
                control_plane_ready: false,
                conditions: vec![progressing],
                generation: None,
            },
        )
        .await?;
    }
    let vc = match cluster.metadata.annotations.get(VIRTUAL_CLUSTER_ANNOTATION) {
        Some(vc) => vc.clone(),
        None => {
            let vc = claim_name(&ctx, &ns, &name, &names).await?;
            apply_cluster_meta(&api, &name, &vc, None).await?;
            vc
        }
    };
    let kubeconfig = provider::ensure(&ctx.client, &vc).await?;
    write_kubeconfig_secret(&ctx.client, &obj, &kubeconfig).await?;
    let server = server_of(&kubeconfig).unwrap_or_default();
    let endpoint = endpoint_of(&server);
    let mut generation = obj.metadata.generation;
    if let Some((host, port)) = &endpoint {
        let unset = cluster
            .spec
            .control_plane_endpoint
            .as_ref()
            .is_none_or(|e| e.is_zero());
        if unset {
            // Writing the spec bumps the generation; the status observes the new one.
            generation = apply_cluster_meta(&api, &name, &vc, Some((host, *port)))
                .await?
                .metadata
                .generation;
        }
    }
    if let Some(r) = &cluster.spec.infrastructure_ref {
        if let Err(e) =
            mark_infrastructure_ready(&ctx, &ns, &name, r, &vc, &server, &endpoint).await
        {
            tracing::warn!(cluster = %name, namespace = %ns, error = %e, "marking the infrastructure object ready");
        }
    }
    if let Some(r) = &cluster.spec.control_plane_ref {
        if let Err(e) = mark_control_plane_ready(&ctx, &ns, r).await {
            tracing::warn!(cluster = %name, namespace = %ns, error = %e, "marking the control plane object ready");
        }
    }
    let message = format!("virtual cluster {vc} serves at {server}");
    write_status(
        &api,
        &obj,
        StatusUpdate {
            phase: ClusterPhase::Provisioned,
            infrastructure_ready: true,
            control_plane_ready: true,
            conditions: vec![
                cond(READY, true, "", "", ""),
                cond(INFRASTRUCTURE_READY, true, "", &message, ""),
                cond(CONTROL_PLANE_READY, true, "", "", ""),
            ],
            generation,
        },
    )
    .await?;
    if !provisioned {
        tracing::info!(cluster = %name, namespace = %ns, virtual_cluster = %vc, "Cluster provisioned");
    }
    Ok(resync())
}

fn pending(conditions: Vec<Condition>) -> StatusUpdate {
    StatusUpdate {
        phase: ClusterPhase::Pending,
        infrastructure_ready: false,
        control_plane_ready: false,
        conditions,
        generation: None,
    }
}

/// Picks the virtual cluster name of `ns/name`: the Cluster's name when no virtual cluster
/// has it and no other Cluster (any namespace) has or claims it, else the hashed name.
async fn claim_name(
    ctx: &Ctx,
    ns: &str,
    name: &str,
    existing: &[String],
) -> Result<String, CapiError> {
    let all = Api::<DynamicObject>::all_with(ctx.client.clone(), &cluster_resource())
        .list(&Default::default())
        .await
        .map_err(CapiError::kube("listing Clusters"))?;
    let free = |candidate: &str| {
        !existing.iter().any(|e| e == candidate)
            && !all.items.iter().any(|c| {
                let same = c.namespace().as_deref() == Some(ns) && c.name_any() == name;
                !same
                    && (c.name_any() == candidate
                        || c.annotations()
                            .get(VIRTUAL_CLUSTER_ANNOTATION)
                            .map(String::as_str)
                            == Some(candidate))
            })
    };
    Ok(provider::choose_name(ns, name, free))
}

/// Server-side applies the annotation (and, once known, `spec.controlPlaneEndpoint`).
async fn apply_cluster_meta(
    api: &Api<DynamicObject>,
    name: &str,
    vc: &str,
    endpoint: Option<(&String, i32)>,
) -> Result<DynamicObject, CapiError> {
    let ar = cluster_resource();
    let mut body = json!({
        "apiVersion": ar.api_version,
        "kind": ar.kind,
        "metadata": {"name": name, "annotations": {VIRTUAL_CLUSTER_ANNOTATION: vc}},
    });
    if let Some((host, port)) = endpoint {
        body["spec"] = json!({"controlPlaneEndpoint": {"host": host, "port": port}});
    }
    api.patch(name, &apply_params(MANAGER), &Patch::Apply(&body))
        .await
        .map_err(CapiError::kube(format!(
            "recording virtual cluster {vc} on Cluster {name}"
        )))
}

/// Writes `<name>-kubeconfig` as Cluster API does, unless it already is so.
async fn write_kubeconfig_secret(
    client: &kube::Client,
    obj: &DynamicObject,
    kubeconfig: &str,
) -> Result<(), CapiError> {
    let ns = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let secret_name = kubeconfig_secret_name(&name);
    let uid = obj.uid().unwrap_or_default();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let current = match secrets.get(&secret_name).await {
        Ok(s) => Some(s),
        Err(e) if is_not_found(&e) => None,
        Err(e) => {
            return Err(CapiError::kube(format!(
                "reading Secret {ns}/{secret_name}"
            ))(e))
        }
    };
    let up_to_date = current.as_ref().is_some_and(|s| {
        s.type_.as_deref() == Some(KUBECONFIG_SECRET_TYPE)
            && s.labels().get(CLUSTER_NAME_LABEL) == Some(&name)
            && s.data
                .as_ref()
                .and_then(|d| d.get(KUBECONFIG_SECRET_KEY))
                .is_some_and(|v| v.0 == kubeconfig.as_bytes())
            && s.owner_references().iter().any(|o| o.uid == uid)
    });
    if up_to_date {
        return Ok(());
    }
    let ar = cluster_resource();
    let mut data = BTreeMap::new();
    data.insert(
        KUBECONFIG_SECRET_KEY.to_string(),
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, kubeconfig),
    );
    let body = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret_name,
            "namespace": ns,
            "labels": {CLUSTER_NAME_LABEL: name},
            "ownerReferences": [{
                "apiVersion": ar.api_version,
                "kind": ar.kind,
                "name": name,
                "uid": uid,
                "controller": true,
                "blockOwnerDeletion": true,
            }],
        },
        "type": KUBECONFIG_SECRET_TYPE,
        "data": data,
    });
    secrets
        .patch(&secret_name, &apply_params(MANAGER), &Patch::Apply(&body))
        .await
        .map_err(CapiError::kube(format!(
            "writing Secret {ns}/{secret_name}"
        )))?;
    tracing::info!(cluster = %name, namespace = %ns, secret = %secret_name, "wrote kubeconfig Secret");
    Ok(())
}

/// The `ApiResource` of a referenced object, `None` when the kind is not served.
async fn resolve(
    client: &kube::Client,
    r: &ObjectReference,
) -> Result<Option<ApiResource>, CapiError> {
    let api_version = r.api_version.clone().unwrap_or_default();
    let kind = r.kind.clone().unwrap_or_default();
    if kind == "VirtualCluster"
        && flotilla_model::meta::group_of(&api_version) == flotilla_model::infra::GROUP
    {
        return Ok(Some(virtual_cluster_resource()));
    }
    let gvk = GroupVersionKind::gvk(
        flotilla_model::meta::group_of(&api_version),
        flotilla_model::meta::version_of(&api_version),
        &kind,
    );
    match kube::discovery::pinned_kind(client, &gvk).await {
        Ok((ar, _)) => Ok(Some(ar)),
        Err(e) => {
            tracing::debug!(%api_version, %kind, error = %e, "referenced kind not served");
            Ok(None)
        }
    }
}

/// The referenced object, `None` when its kind is not served or it does not exist.
async fn referenced(
    client: &kube::Client,
    ns: &str,
    r: &ObjectReference,
) -> Result<Option<(ApiResource, DynamicObject)>, CapiError> {
    let Some(ar) = resolve(client, r).await? else {
        return Ok(None);
    };
    let name = r.name.clone().unwrap_or_default();
    let ns = r.namespace.as_deref().unwrap_or(ns);
    match dyn_api(client, &ar, ns).get(&name).await {
        Ok(o) => Ok(Some((ar, o))),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(CapiError::kube(format!("reading {} {ns}/{name}", ar.kind))(
            e,
        )),
    }
}

fn ready_conditions(status: Option<&Value>) -> Vec<Condition> {
    let mut conditions = conditions_of(status);
    set_condition(&mut conditions, cond(READY, true, "", "", ""));
    conditions
}

/// Sets the infrastructure object's status ready (InfraCluster contract), and its
/// `spec.controlPlaneEndpoint` when it is a VirtualCluster without one.
async fn mark_infrastructure_ready(
    ctx: &Ctx,
    ns: &str,
    cluster: &str,
    r: &ObjectReference,
    vc: &str,
    server: &str,
    endpoint: &Option<(String, i32)>,
) -> Result<(), CapiError> {
    let Some((ar, obj)) = referenced(&ctx.client, ns, r).await? else {
        return Ok(());
    };
    let api = dyn_api(&ctx.client, &ar, &obj.namespace().unwrap_or_default());
    let name = obj.name_any();
    let old = obj.data.get("status");
    let mut status = old.cloned().unwrap_or_else(|| json!({}));
    if ar.kind == "VirtualCluster" {
        let mut vs = flotilla_model::infra::VirtualClusterStatus::ready_at(server, vc);
        vs.kubeconfig_secret_name = Some(kubeconfig_secret_name(cluster));
        vs.observed_generation = obj.metadata.generation;
        vs.conditions = ready_conditions(old);
        status = serde_json::to_value(vs).map_err(|source| CapiError::Decode {
            context: "encoding VirtualCluster status".into(),
            source,
        })?;
        let endpoint_unset = obj
            .data
            .pointer("/spec/controlPlaneEndpoint/host")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        if let (true, Some((host, port))) = (endpoint_unset, endpoint) {
            let body = json!({
                "apiVersion": ar.api_version, "kind": ar.kind, "metadata": {"name": name},
                "spec": {"controlPlaneEndpoint": {"host": host, "port": port}},
            });
            api.patch(&name, &apply_params(MANAGER), &Patch::Apply(&body))
                .await
                .map_err(CapiError::kube(format!(
                    "writing VirtualCluster {name} endpoint"
                )))?;
        }
    } else {
        status["ready"] = json!(true);
        status["initialization"] = json!({"provisioned": true});
        status["conditions"] = json!(ready_conditions(old));
    }
    if old == Some(&status) {
        return Ok(());
    }
    merge_status(&api, &ar, &name, status).await
}

/// Sets the control plane object's status ready and initialized (best effort).
async fn mark_control_plane_ready(
    ctx: &Ctx,
    ns: &str,
    r: &ObjectReference,
) -> Result<(), CapiError> {
    let Some((ar, obj)) = referenced(&ctx.client, ns, r).await? else {
        return Ok(());
    };
    let old = obj.data.get("status");
    let mut status = old.cloned().unwrap_or_else(|| json!({}));
    status["ready"] = json!(true);
    status["initialized"] = json!(true);
    status["initialization"] = json!({"controlPlaneInitialized": true});
    status["conditions"] = json!(ready_conditions(old));
    if old == Some(&status) {
        return Ok(());
    }
    let api = dyn_api(&ctx.client, &ar, &obj.namespace().unwrap_or_default());
    merge_status(&api, &ar, &obj.name_any(), status).await
}

async fn delete(
    ctx: &Ctx,
    api: &Api<DynamicObject>,
    obj: &DynamicObject,
    cluster: &Cluster,
) -> Result<Action, CapiError> {
    let ns = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    if !obj.finalizers().iter().any(|f| f == CLUSTER_FINALIZER) {
        return Ok(Action::await_change());
    }
    let status = cluster.status.clone().unwrap_or_default();
    write_status(
        api,
        obj,
        StatusUpdate {
            phase: ClusterPhase::Deleting,
            infrastructure_ready: status.infrastructure_ready,
            control_plane_ready: status.control_plane_ready,
            conditions: vec![cond(READY, false, "Deleting", "", "Info")],
            generation: None,
        },
    )
    .await?;
    if let Some(vc) = cluster.metadata.annotations.get(VIRTUAL_CLUSTER_ANNOTATION) {
        provider::delete(&ctx.client, vc).await?;
    }
    let secret_name = kubeconfig_secret_name(&name);
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
    match secrets.delete(&secret_name, &DeleteParams::default()).await {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => {}
        Err(e) => {
            return Err(CapiError::kube(format!(
                "deleting Secret {ns}/{secret_name}"
            ))(e))
        }
    }
    ctx.workloads.forget(&ns, &name);
    // The status write above changed the resourceVersion: guard on the current one.
    let current = match api.get(&name).await {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => return Ok(Action::await_change()),
        Err(e) => return Err(CapiError::kube(format!("reading Cluster {ns}/{name}"))(e)),
    };
    set_finalizer(api, &current, CLUSTER_FINALIZER, false).await?;
    tracing::info!(cluster = %name, namespace = %ns, "Cluster deleted");
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(api_version: &str, kind: &str) -> ObjectReference {
        ObjectReference {
            api_version: Some(api_version.into()),
            kind: Some(kind.into()),
            name: Some("x".into()),
            ..ObjectReference::default()
        }
    }

    #[test]
    fn infrastructure_providers() {
        let vc = reference("infrastructure.flotilla.dev/v1alpha1", "VirtualCluster");
        let aws = reference("infrastructure.cluster.x-k8s.io/v1beta2", "AWSCluster");
        assert_eq!(infrastructure(Some(&vc), false), Infrastructure::Virtual);
        assert_eq!(infrastructure(None, false), Infrastructure::Virtual);
        assert_eq!(
            infrastructure(Some(&aws), false),
            Infrastructure::NotRunning("AWSCluster".into())
        );
        assert_eq!(
            infrastructure(Some(&aws), true),
            Infrastructure::Simulated("AWSCluster".into())
        );
        let other = reference("example.com/v1", "VirtualCluster");
        assert_eq!(
            infrastructure(Some(&other), false),
            Infrastructure::NotRunning("VirtualCluster".into())
        );
    }
}
