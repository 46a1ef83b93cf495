//! What the Cluster API controllers share: the error type, the kinds they watch (as
//! `ApiResource`s of the storage versions), timestamps, typed views of dynamic objects and
//! the small write helpers (server-side apply, finalizers).
use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::runtime::controller::Action;
use serde_json::{json, Value};

/// The field manager of the Cluster API controllers' own writes.
pub const MANAGER: &str = "flotilla-capi";

/// A reconcile failure, with what was being done.
#[derive(Debug, thiserror::Error)]
pub enum CapiError {
    /// A call to the management cluster's API failed.
    #[error("{context}: {source}")]
    Kube {
        /// What was being done.
        context: String,
        /// The client error.
        #[source]
        source: Box<kube::Error>,
    },
    /// The virtual cluster provider (the API server's admin API) failed or answered oddly.
    #[error("virtual cluster provider: {0}")]
    Provider(String),
    /// A workload cluster could not be reached.
    #[error("workload cluster {cluster}: {message}")]
    Workload {
        /// `namespace/name` of the Cluster.
        cluster: String,
        /// What failed.
        message: String,
    },
    /// An object could not be read in the expected shape.
    #[error("{context}: {source}")]
    Decode {
        /// What was being read.
        context: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
}

impl CapiError {
    /// A `Kube` error with context.
    pub fn kube(context: impl Into<String>) -> impl FnOnce(kube::Error) -> CapiError {
        let context = context.into();
        move |source| CapiError::Kube {
            context,
            source: Box::new(source),
        }
    }
}

pub use crate::error::is_not_found;

/// The HTTP status of a client error, when the server answered.
pub fn status_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: group.to_string(),
        version: version.to_string(),
        api_version: format!("{group}/{version}"),
        kind: kind.to_string(),
        plural: plural.to_string(),
    }
}

/// `cluster.x-k8s.io/v1beta1` Cluster (the storage version).
pub fn cluster_resource() -> ApiResource {
    resource(
        flotilla_model::capi::GROUP,
        "v1beta1",
        "Cluster",
        "clusters",
    )
}

/// `cluster.x-k8s.io/v1beta1` MachineDeployment.
pub fn machine_deployment_resource() -> ApiResource {
    resource(
        flotilla_model::capi::GROUP,
        "v1beta1",
        "MachineDeployment",
        "machinedeployments",
    )
}

/// `addons.cluster.x-k8s.io/v1beta1` ClusterResourceSet.
pub fn resource_set_resource() -> ApiResource {
    resource(
        flotilla_model::capi::ADDONS_GROUP,
        "v1beta1",
        "ClusterResourceSet",
        "clusterresourcesets",
    )
}

/// `addons.cluster.x-k8s.io/v1beta1` ClusterResourceSetBinding.
pub fn binding_resource() -> ApiResource {
    resource(
        flotilla_model::capi::ADDONS_GROUP,
        "v1beta1",
        "ClusterResourceSetBinding",
        "clusterresourcesetbindings",
    )
}

/// `infrastructure.flotilla.dev/v1alpha1` VirtualCluster.
pub fn virtual_cluster_resource() -> ApiResource {
    resource(
        flotilla_model::infra::GROUP,
        flotilla_model::infra::VERSION,
        "VirtualCluster",
        "virtualclusters",
    )
}

/// A namespaced dynamic API.
pub fn dyn_api(client: &kube::Client, ar: &ApiResource, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), ns, ar)
}

/// The typed view of a dynamic object (unknown fields ignored).
pub fn typed<T: serde::de::DeserializeOwned>(obj: &DynamicObject) -> Result<T, CapiError> {
    let value = serde_json::to_value(obj).map_err(|source| CapiError::Decode {
        context: format!("encoding {}", obj.metadata.name.as_deref().unwrap_or("")),
        source,
    })?;
    serde_json::from_value(value).map_err(|source| CapiError::Decode {
        context: format!(
            "reading {} {}",
            obj.types.as_ref().map_or("object", |t| t.kind.as_str()),
            obj.metadata.name.as_deref().unwrap_or("")
        ),
        source,
    })
}

pub use crate::status::now;

/// Server-side apply parameters of `manager`, forced (the controller owns these fields).
pub fn apply_params(manager: &str) -> PatchParams {
    PatchParams::apply(manager).force()
}

/// Writes `status` of an object through the status subresource with a JSON merge patch
/// (the fields given replace the stored ones; lists, conditions included, are replaced
/// whole). A merge patch rather than server-side apply because the embedded API server
/// drops `status` from applies to the status subresource.
pub async fn merge_status(
    api: &Api<DynamicObject>,
    ar: &ApiResource,
    name: &str,
    status: Value,
) -> Result<(), CapiError> {
    let body = json!({"status": status});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&body))
        .await
        .map_err(CapiError::kube(format!(
            "writing status of {} {name}",
            ar.kind
        )))?;
    Ok(())
}

/// Adds (`add`) or removes a finalizer with a merge patch guarded by `resourceVersion`;
/// does nothing when the object already is as asked. Returns whether it wrote.
pub async fn set_finalizer(
    api: &Api<DynamicObject>,
    obj: &DynamicObject,
    finalizer: &str,
    add: bool,
) -> Result<bool, CapiError> {
    let mut finalizers = obj.metadata.finalizers.clone().unwrap_or_default();
    let present = finalizers.iter().any(|f| f == finalizer);
    if present == add {
        return Ok(false);
    }
    if add {
        finalizers.push(finalizer.to_string());
    } else {
        finalizers.retain(|f| f != finalizer);
    }
    let name = obj.metadata.name.clone().unwrap_or_default();
    let patch = json!({"metadata": {
        "finalizers": finalizers,
        "resourceVersion": obj.metadata.resource_version,
    }});
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(CapiError::kube(format!(
            "{} finalizer {finalizer} on {name}",
            if add { "adding" } else { "removing" }
        )))?;
    Ok(true)
}

/// The requeue of a failed reconcile: soon, then kube-runtime's trigger backoff applies.
pub fn retry_action(error: &CapiError) -> Action {
    let secs = match error {
        CapiError::Decode { .. } => 300,
        _ => 5,
    };
    Action::requeue(Duration::from_secs(secs))
}

/// The periodic resync of a healthy object.
pub fn resync() -> Action {
    Action::requeue(Duration::from_secs(600))
}

/// The conditions of a status value, typed (an absent or malformed list reads as empty).
pub fn conditions_of(status: Option<&Value>) -> Vec<flotilla_model::Condition> {
    status
        .and_then(|s| s.get("conditions"))
        .and_then(|c| serde_json::from_value(c.clone()).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_rfc3339_seconds() {
        let t = now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
    }

    #[test]
    fn not_found_is_recognised() {
        let e = kube::Error::Api(
            kube::core::Status::failure("gone", "NotFound")
                .with_code(404)
                .boxed(),
        );
        assert!(is_not_found(&e));
        assert_eq!(status_code(&e), Some(404));
    }
}
