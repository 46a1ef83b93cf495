//! Cluster API (`cluster.x-k8s.io`, `addons.cluster.x-k8s.io`): the fields of Cluster,
//! MachineDeployment and ClusterResourceSet the controllers use. One shape serves
//! v1alpha3 … v1beta1 (the differences are in fields we ignore or accept as optional).
use serde::{Deserialize, Serialize};

use crate::meta::{Condition, LabelSelector, Object, ObjectReference};

/// The core group.
pub const GROUP: &str = "cluster.x-k8s.io";
/// The addons group (ClusterResourceSet).
pub const ADDONS_GROUP: &str = "addons.cluster.x-k8s.io";
/// The label naming the Cluster an object belongs to.
pub const CLUSTER_NAME_LABEL: &str = "cluster.x-k8s.io/cluster-name";
/// The type of the kubeconfig Secret.
pub const KUBECONFIG_SECRET_TYPE: &str = "cluster.x-k8s.io/secret";
/// The data key of the kubeconfig Secret.
pub const KUBECONFIG_SECRET_KEY: &str = "value";
/// The finalizer Cluster API sets on Clusters.
pub const CLUSTER_FINALIZER: &str = "cluster.cluster.x-k8s.io";

/// `<cluster>-kubeconfig`, the Secret (in the Cluster's namespace) holding its kubeconfig.
pub fn kubeconfig_secret_name(cluster: &str) -> String {
    format!("{cluster}-kubeconfig")
}

/// A Cluster.
pub type Cluster = Object<ClusterSpec, ClusterStatus>;
/// A MachineDeployment.
pub type MachineDeployment = Object<MachineDeploymentSpec, MachineDeploymentStatus>;
/// A ClusterResourceSet.
pub type ClusterResourceSet = Object<ClusterResourceSetSpec, ClusterResourceSetStatus>;

/// The phases of a Cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterPhase {
    /// Created, nothing provisioned.
    Pending,
    /// Infrastructure being provisioned.
    Provisioning,
    /// Infrastructure and control plane ready.
    Provisioned,
    /// Being deleted.
    Deleting,
    /// Failed for good.
    Failed,
    /// Unknown.
    Unknown,
}

impl ClusterPhase {
    /// The phase as written in `status.phase`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterPhase::Pending => "Pending",
            ClusterPhase::Provisioning => "Provisioning",
            ClusterPhase::Provisioned => "Provisioned",
            ClusterPhase::Deleting => "Deleting",
            ClusterPhase::Failed => "Failed",
            ClusterPhase::Unknown => "Unknown",
        }
    }
}

/// `Cluster.spec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    /// Stop reconciling the Cluster and its objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    /// The workload cluster's API endpoint (copied from the infrastructure object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane_endpoint: Option<ApiEndpoint>,
    /// The control plane object (e.g. KubeadmControlPlane).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane_ref: Option<ObjectReference>,
    /// The infrastructure object (e.g. AWSCluster, VirtualCluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure_ref: Option<ObjectReference>,
    /// The ClusterClass topology (kept as JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<serde_json::Value>,
}

impl ClusterSpec {
    /// Whether the Cluster is paused.
    pub fn is_paused(&self) -> bool {
        self.paused.unwrap_or(false)
    }
}

/// `host` and `port` of an API server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiEndpoint {
    /// Host name or address.
    #[serde(default)]
    pub host: String,
    /// Port.
    #[serde(default)]
    pub port: i32,
}

impl ApiEndpoint {
    /// Whether host is empty and port zero (Cluster API's `IsZero`).
    pub fn is_zero(&self) -> bool {
        self.host.is_empty() && self.port == 0
    }
}

/// `Cluster.status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStatus {
    /// `Pending`, `Provisioning`, `Provisioned`, `Deleting`, `Failed` or `Unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The infrastructure object reports ready.
    #[serde(default)]
    pub infrastructure_ready: bool,
    /// The control plane reports ready.
    #[serde(default)]
    pub control_plane_ready: bool,
    /// Terminal failure reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// Terminal failure message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    /// Last observed generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions (with severity).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// `MachineDeployment.spec` (what a virtual cluster needs: how many Ready Nodes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineDeploymentSpec {
    /// The Cluster.
    #[serde(default)]
    pub cluster_name: String,
    /// Desired machines (1 when unset, as Cluster API defaults it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Machine selector.
    #[serde(default)]
    pub selector: LabelSelector,
    /// Paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    /// The machine template (kept as JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<serde_json::Value>,
}

impl MachineDeploymentSpec {
    /// Desired replicas, defaulting to 1.
    pub fn desired_replicas(&self) -> i32 {
        self.replicas.unwrap_or(1)
    }

    /// `spec.template.spec.version`, the machines' Kubernetes version.
    pub fn version(&self) -> Option<&str> {
        self.template.as_ref()?.pointer("/spec/version")?.as_str()
    }
}

/// `MachineDeployment.status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineDeploymentStatus {
    /// Last observed generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Label selector in string form (scale subresource).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Non-terminated machines.
    #[serde(default)]
    pub replicas: i32,
    /// Machines with the current template.
    #[serde(default)]
    pub updated_replicas: i32,
    /// Ready machines.
    #[serde(default)]
    pub ready_replicas: i32,
    /// Available machines.
    #[serde(default)]
    pub available_replicas: i32,
    /// Unavailable machines.
    #[serde(default)]
    pub unavailable_replicas: i32,
    /// `ScalingUp`, `ScalingDown`, `Running`, `Failed` or `Unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// `ClusterResourceSet.spec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterResourceSetSpec {
    /// Clusters in the same namespace; an empty selector matches none.
    #[serde(default)]
    pub cluster_selector: LabelSelector,
    /// ConfigMaps and Secrets holding manifests.
    #[serde(default)]
    pub resources: Vec<ResourceRef>,
    /// `ApplyOnce` (default) or `Reconcile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
}

/// The strategies of a ClusterResourceSet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceSetStrategy {
    /// Apply each resource once per cluster (default).
    ApplyOnce,
    /// Re-apply whenever a resource's hash changes.
    Reconcile,
}

impl ClusterResourceSetSpec {
    /// The strategy; unset or unknown values mean `ApplyOnce`.
    pub fn strategy(&self) -> ResourceSetStrategy {
        match self.strategy.as_deref() {
            Some("Reconcile") => ResourceSetStrategy::Reconcile,
            _ => ResourceSetStrategy::ApplyOnce,
        }
    }
}

/// A ConfigMap or Secret named by a ClusterResourceSet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    /// `ConfigMap` or `Secret`.
    #[serde(default)]
    pub kind: String,
    /// Name, in the ClusterResourceSet's namespace.
    #[serde(default)]
    pub name: String,
}

/// `ClusterResourceSet.status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterResourceSetStatus {
    /// Last observed generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions (`ResourcesApplied`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// `ClusterResourceSetBinding.spec.bindings[]`: what one set applied to one cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSetBinding {
    /// The ClusterResourceSet.
    pub cluster_resource_set_name: String,
    /// The resources and their apply state.
    #[serde(default)]
    pub resources: Vec<ResourceBinding>,
}

/// One applied resource of a [`ResourceSetBinding`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceBinding {
    /// `ConfigMap` or `Secret`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Whether it was applied successfully.
    #[serde(default)]
    pub applied: bool,
    /// Hash of the applied data (`sha256:<hex>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// When (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_time: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_v1alpha3_cluster() {
        let c: Cluster = match Cluster::from_value(json!({
            "apiVersion": "cluster.x-k8s.io/v1alpha3", "kind": "Cluster",
            "metadata": {"name": "a", "namespace": "ns"},
            "spec": {"infrastructureRef": {"apiVersion": "infrastructure.flotilla.dev/v1alpha1",
                                          "kind": "VirtualCluster", "name": "a"}},
            "status": {"phase": "Provisioned", "controlPlaneInitialized": true,
                       "infrastructureReady": true}
        })) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(c.namespace(), "ns");
        assert!(!c.spec.is_paused());
        let infra = c.spec.infrastructure_ref.unwrap_or_default();
        assert_eq!(infra.kind.as_deref(), Some("VirtualCluster"));
        let st = c.status.unwrap_or_default();
        assert!(st.infrastructure_ready && !st.control_plane_ready);
        assert_eq!(kubeconfig_secret_name("a"), "a-kubeconfig");
    }

    #[test]
    fn machine_deployment_and_resource_set_defaults() {
        let md: MachineDeploymentSpec = serde_json::from_value(json!({
            "clusterName": "c", "template": {"spec": {"version": "v1.30.5"}}
        }))
        .unwrap_or_default();
        assert_eq!(md.desired_replicas(), 1);
        assert_eq!(md.version(), Some("v1.30.5"));
        let crs: ClusterResourceSetSpec =
            serde_json::from_value(json!({"clusterSelector": {}})).unwrap_or_default();
        assert_eq!(crs.strategy(), ResourceSetStrategy::ApplyOnce);
        assert!(crs.cluster_selector.is_empty());
    }
}
