//! Flotilla's Cluster API infrastructure provider (`infrastructure.flotilla.dev/v1alpha1`):
//! a [`VirtualCluster`] is a logical cluster of the embedded control plane. It follows the
//! InfraCluster contract: the controller fills `spec.controlPlaneEndpoint` and sets
//! `status.ready` (and `status.initialization.provisioned`) once the cluster serves.
use serde::{Deserialize, Serialize};

use crate::capi::ApiEndpoint;
use crate::meta::{Condition, Object};

/// The API group.
pub const GROUP: &str = "infrastructure.flotilla.dev";
/// The served version.
pub const VERSION: &str = "v1alpha1";
/// `group/version`.
pub const API_VERSION: &str = "infrastructure.flotilla.dev/v1alpha1";

/// A VirtualCluster.
pub type VirtualCluster = Object<VirtualClusterSpec, VirtualClusterStatus>;

/// `VirtualCluster.spec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualClusterSpec {
    /// Kubernetes version the virtual cluster reports (`v1.30.5`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The API endpoint; set by the controller when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane_endpoint: Option<ApiEndpoint>,
    /// Prefix of the Node names created for Machines (the cluster name when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name_prefix: Option<String>,
}

/// `VirtualCluster.status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualClusterStatus {
    /// The virtual cluster serves its API.
    #[serde(default)]
    pub ready: bool,
    /// Cluster API v1beta2 contract form of `ready`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initialization: Option<Initialization>,
    /// URL of the virtual cluster's API (`https://host:port/clusters/<name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Name of the virtual cluster in the embedded plane.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_cluster_name: Option<String>,
    /// The `<cluster>-kubeconfig` Secret written for the owning Cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig_secret_name: Option<String>,
    /// Terminal failure reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// Terminal failure message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    /// Last observed generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// `status.initialization`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Initialization {
    /// Provisioned.
    #[serde(default)]
    pub provisioned: bool,
}

impl VirtualClusterStatus {
    /// A ready status for a cluster served at `endpoint`.
    pub fn ready_at(endpoint: &str, name: &str) -> VirtualClusterStatus {
        VirtualClusterStatus {
            ready: true,
            initialization: Some(Initialization { provisioned: true }),
            endpoint: Some(endpoint.to_string()),
            virtual_cluster_name: Some(name.to_string()),
            ..VirtualClusterStatus::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_status_serializes_the_contract_fields() {
        let s = VirtualClusterStatus::ready_at("https://127.0.0.1:6443/clusters/a", "a");
        let v = serde_json::to_value(&s).unwrap_or_default();
        assert_eq!(v["ready"], true);
        assert_eq!(v["initialization"]["provisioned"], true);
        assert_eq!(v["endpoint"], "https://127.0.0.1:6443/clusters/a");
        assert!(v.get("failureReason").is_none());
    }
}
