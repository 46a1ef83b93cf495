//! OpenShift Hive (`hive.openshift.io/v1`, and `hiveinternal.openshift.io/v1alpha1` for
//! ClusterSync): the fields of ClusterDeployment, SyncSet and SelectorSyncSet the controllers
//! use.
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::meta::{Condition, LabelSelector, LocalObjectReference, Object};

/// The API group.
pub const GROUP: &str = "hive.openshift.io";
/// The group of ClusterSync.
pub const INTERNAL_GROUP: &str = "hiveinternal.openshift.io";
/// The data key of Hive's admin kubeconfig Secret.
pub const KUBECONFIG_KEY: &str = "kubeconfig";

/// A ClusterDeployment.
pub type ClusterDeployment = Object<ClusterDeploymentSpec, ClusterDeploymentStatus>;
/// A SyncSet (namespaced).
pub type SyncSet = Object<SyncSetSpec, Value>;
/// A SelectorSyncSet (cluster-scoped).
pub type SelectorSyncSet = Object<SelectorSyncSetSpec, Value>;
/// A ClusterSync.
pub type ClusterSync = Object<Value, ClusterSyncStatus>;

/// `ClusterDeployment.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterDeploymentSpec {
    /// The cluster's name.
    #[serde(default)]
    pub cluster_name: String,
    /// Base DNS domain.
    #[serde(default)]
    pub base_domain: String,
    /// Installed (or adopted).
    #[serde(default)]
    pub installed: bool,
    /// Set once installed: ids and the admin kubeconfig Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_metadata: Option<ClusterMetadata>,
    /// The platform block (kept as JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Value>,
    /// `Running` or `Hibernating`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_state: Option<String>,
}

/// `ClusterDeployment.spec.clusterMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterMetadata {
    /// Cluster id.
    #[serde(default, rename = "clusterID")]
    pub cluster_id: String,
    /// Infrastructure id.
    #[serde(default, rename = "infraID")]
    pub infra_id: String,
    /// The Secret holding the admin kubeconfig (key `kubeconfig`).
    #[serde(default)]
    pub admin_kubeconfig_secret_ref: LocalObjectReference,
    /// The Secret holding the admin password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_password_secret_ref: Option<LocalObjectReference>,
}

/// `ClusterDeployment.status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterDeploymentStatus {
    /// API URL of the cluster.
    #[serde(default, rename = "apiURL", skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    /// When installation finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_timestamp: Option<String>,
    /// Power state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_state: Option<String>,
    /// Conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// What SyncSets and SelectorSyncSets share.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncSetCommon {
    /// Whole objects to apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Value>,
    /// `Upsert` (default) or `Sync`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_apply_mode: Option<String>,
    /// `Apply` (default), `CreateOnly` or `CreateOrUpdate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_behavior: Option<String>,
    /// Patches of existing objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<SyncObjectPatch>,
    /// Secrets copied into the cluster.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_mappings: Vec<SecretMapping>,
}

/// The resource apply modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceApplyMode {
    /// Create and update; never delete.
    Upsert,
    /// Also delete what left `resources`, and everything when the set goes away.
    Sync,
}

impl SyncSetCommon {
    /// The apply mode; unset or unknown means `Upsert`.
    pub fn resource_apply_mode(&self) -> ResourceApplyMode {
        match self.resource_apply_mode.as_deref() {
            Some("Sync") => ResourceApplyMode::Sync,
            _ => ResourceApplyMode::Upsert,
        }
    }
}

/// `SyncSet.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncSetSpec {
    /// ClusterDeployments in the SyncSet's namespace.
    #[serde(default)]
    pub cluster_deployment_refs: Vec<LocalObjectReference>,
    /// Resources, patches, secret mappings.
    #[serde(flatten)]
    pub common: SyncSetCommon,
}

/// `SelectorSyncSet.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectorSyncSetSpec {
    /// ClusterDeployments matched by label (an empty selector matches none).
    #[serde(default)]
    pub cluster_deployment_selector: LabelSelector,
    /// Resources, patches, secret mappings.
    #[serde(flatten)]
    pub common: SyncSetCommon,
}

/// `patches[]` of a (Selector)SyncSet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncObjectPatch {
    /// Target apiVersion.
    #[serde(default)]
    pub api_version: String,
    /// Target kind.
    #[serde(default)]
    pub kind: String,
    /// Target name.
    #[serde(default)]
    pub name: String,
    /// Target namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The patch document.
    #[serde(default)]
    pub patch: String,
    /// `strategic` (default), `merge` or `json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<String>,
}

impl SyncObjectPatch {
    /// The patch type, `strategic` when unset.
    pub fn patch_type(&self) -> &str {
        self.patch_type
            .as_deref()
            .filter(|t| !t.is_empty())
            .unwrap_or("strategic")
    }
}

/// `secretMappings[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretMapping {
    /// The Secret on the management cluster.
    pub source_ref: SecretReference,
    /// The Secret to write on the target cluster.
    pub target_ref: SecretReference,
}

/// A Secret by name and optional namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretReference {
    /// Name.
    pub name: String,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// `ClusterSync.status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSyncStatus {
    /// One entry per SyncSet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sync_sets: Vec<SyncStatus>,
    /// One entry per SelectorSyncSet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub selector_sync_sets: Vec<SyncStatus>,
    /// When every set first applied successfully.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_success_time: Option<String>,
    /// Conditions (`Failed`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// The result of applying one set to one cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// The set's name.
    pub name: String,
    /// The set's generation applied.
    #[serde(default)]
    pub observed_generation: i64,
    /// `Success` or `Failure`.
    #[serde(default)]
    pub result: String,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    /// When the result last changed.
    #[serde(default)]
    pub last_transition_time: String,
    /// First success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_success_time: Option<String>,
    /// Resources to delete when the set goes away (Sync mode).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources_to_delete: Vec<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_sync_sets() {
        let ss: SyncSet = match SyncSet::from_value(json!({
            "apiVersion": "hive.openshift.io/v1", "kind": "SyncSet",
            "metadata": {"name": "s", "namespace": "c"},
            "spec": {
                "clusterDeploymentRefs": [{"name": "c"}],
                "resourceApplyMode": "Sync",
                "resources": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}],
                "patches": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "m", "patch": "{}"}],
                "secretMappings": [{"sourceRef": {"name": "a"}, "targetRef": {"name": "b", "namespace": "n"}}]
            }
        })) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(ss.spec.cluster_deployment_refs[0].name, "c");
        assert_eq!(
            ss.spec.common.resource_apply_mode(),
            ResourceApplyMode::Sync
        );
        assert_eq!(ss.spec.common.patches[0].patch_type(), "strategic");
        assert_eq!(ss.spec.common.resources.len(), 1);
        let sss: SelectorSyncSetSpec = serde_json::from_value(json!({
            "clusterDeploymentSelector": {"matchLabels": {"env": "prod"}}
        }))
        .unwrap_or_default();
        assert_eq!(sss.common.resource_apply_mode(), ResourceApplyMode::Upsert);
        assert!(!sss.cluster_deployment_selector.is_empty());
    }

    #[test]
    fn reads_cluster_deployment_kubeconfig_ref() {
        let cd: ClusterDeployment = match ClusterDeployment::from_value(json!({
            "metadata": {"name": "c", "namespace": "c"},
            "spec": {"clusterName": "c", "baseDomain": "example.com", "installed": true,
                     "platform": {"aws": {"region": "eu-west-1"}},
                     "clusterMetadata": {"clusterID": "id", "infraID": "c-x1",
                                         "adminKubeconfigSecretRef": {"name": "c-admin-kubeconfig"}}}
        })) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert!(cd.spec.installed);
        let md = cd.spec.cluster_metadata.unwrap_or_default();
        assert_eq!(md.admin_kubeconfig_secret_ref.name, "c-admin-kubeconfig");
        assert_eq!(md.infra_id, "c-x1");
    }
}
