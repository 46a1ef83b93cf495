//! Which kinds are namespaced: a table of the built-in Kubernetes kinds and of the custom
//! kinds a platform repository commonly holds (Flux, Cluster API, CAPA, Hive, our virtual
//! clusters, whose CRDs are installed outside the repository), extended by the
//! CustomResourceDefinitions found in the repository.

use std::collections::BTreeMap;

/// Where an object of a kind lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Namespaced,
    Cluster,
}

use Scope::{Cluster as C, Namespaced as N};

const TABLE: &[(&str, &[(&str, Scope)])] = &[
    (
        "",
        &[
            ("Binding", N),
            ("ComponentStatus", C),
            ("ConfigMap", N),
            ("Endpoints", N),
            ("Event", N),
            ("LimitRange", N),
            ("Namespace", C),
            ("Node", C),
            ("PersistentVolume", C),
            ("PersistentVolumeClaim", N),
            ("Pod", N),
            ("PodTemplate", N),
            ("ReplicationController", N),
            ("ResourceQuota", N),
            ("Secret", N),
            ("Service", N),
            ("ServiceAccount", N),
        ],
    ),
    (
        "admissionregistration.k8s.io",
        &[
            ("MutatingWebhookConfiguration", C),
            ("ValidatingAdmissionPolicy", C),
            ("ValidatingAdmissionPolicyBinding", C),
            ("ValidatingWebhookConfiguration", C),
        ],
    ),
    ("apiextensions.k8s.io", &[("CustomResourceDefinition", C)]),
    ("apiregistration.k8s.io", &[("APIService", C)]),
    (
        "apps",
        &[
            ("ControllerRevision", N),
            ("DaemonSet", N),
            ("Deployment", N),
            ("ReplicaSet", N),
            ("StatefulSet", N),
        ],
    ),
    ("autoscaling", &[("HorizontalPodAutoscaler", N)]),
    ("batch", &[("CronJob", N), ("Job", N)]),
    ("certificates.k8s.io", &[("CertificateSigningRequest", C)]),
    ("coordination.k8s.io", &[("Lease", N)]),
    ("discovery.k8s.io", &[("EndpointSlice", N)]),
    ("events.k8s.io", &[("Event", N)]),
    (
        "flowcontrol.apiserver.k8s.io",
        &[("FlowSchema", C), ("PriorityLevelConfiguration", C)],
    ),
    (
        "networking.k8s.io",
        &[
            ("IPAddress", C),
            ("Ingress", N),
            ("IngressClass", C),
            ("NetworkPolicy", N),
            ("ServiceCIDR", C),
        ],
    ),
    ("node.k8s.io", &[("RuntimeClass", C)]),
    ("policy", &[("PodDisruptionBudget", N)]),
    (
        "rbac.authorization.k8s.io",
        &[
            ("ClusterRole", C),
            ("ClusterRoleBinding", C),
            ("Role", N),
            ("RoleBinding", N),
        ],
    ),
    ("scheduling.k8s.io", &[("PriorityClass", C)]),
    (
        "storage.k8s.io",
        &[
            ("CSIDriver", C),
            ("CSINode", C),
            ("CSIStorageCapacity", N),
            ("StorageClass", C),
            ("VolumeAttachment", C),
        ],
    ),
    // Flux.
    (
        "source.toolkit.fluxcd.io",
        &[
            ("Bucket", N),
            ("GitRepository", N),
            ("HelmChart", N),
            ("HelmRepository", N),
            ("OCIRepository", N),
        ],
    ),
    ("kustomize.toolkit.fluxcd.io", &[("Kustomization", N)]),
    ("helm.toolkit.fluxcd.io", &[("HelmRelease", N)]),
    (
        "notification.toolkit.fluxcd.io",
        &[("Alert", N), ("Provider", N), ("Receiver", N)],
    ),
    (
        "image.toolkit.fluxcd.io",
        &[
            ("ImagePolicy", N),
            ("ImageRepository", N),
            ("ImageUpdateAutomation", N),
        ],
    ),
    // Cluster API and the AWS provider.
    (
        "cluster.x-k8s.io",
        &[
            ("Cluster", N),
            ("ClusterClass", N),
            ("Machine", N),
            ("MachineDeployment", N),
            ("MachineHealthCheck", N),
            ("MachinePool", N),
            ("MachineSet", N),
        ],
    ),
    (
        "infrastructure.cluster.x-k8s.io",
        &[
            ("AWSCluster", N),
            ("AWSClusterControllerIdentity", C),
            ("AWSClusterRoleIdentity", C),
            ("AWSClusterStaticIdentity", C),
            ("AWSClusterTemplate", N),
            ("AWSMachine", N),
            ("AWSMachinePool", N),
            ("AWSMachineTemplate", N),
            ("AWSManagedControlPlane", N),
        ],
    ),
    (
        "controlplane.cluster.x-k8s.io",
        &[
            ("KubeadmControlPlane", N),
            ("KubeadmControlPlaneTemplate", N),
        ],
    ),
    (
        "bootstrap.cluster.x-k8s.io",
        &[("KubeadmConfig", N), ("KubeadmConfigTemplate", N)],
    ),
    (
        "addons.cluster.x-k8s.io",
        &[("ClusterResourceSet", N), ("ClusterResourceSetBinding", N)],
    ),
    // OpenShift Hive.
    (
        "hive.openshift.io",
        &[
            ("ClusterClaim", N),
            ("ClusterDeployment", N),
            ("ClusterDeprovision", N),
            ("ClusterImageSet", C),
            ("ClusterPool", N),
            ("ClusterProvision", N),
            ("DNSZone", N),
            ("HiveConfig", C),
            ("MachinePool", N),
            ("SelectorSyncIdentityProvider", C),
            ("SelectorSyncSet", C),
            ("SyncIdentityProvider", N),
            ("SyncSet", N),
        ],
    ),
    ("hiveinternal.openshift.io", &[("ClusterSync", N)]),
    // Flotilla's own infrastructure provider.
    (
        "infrastructure.flotilla.dev",
        &[
            ("VirtualCluster", N),
            ("VirtualClusterTemplate", N),
            ("VirtualMachine", N),
            ("VirtualMachineTemplate", N),
        ],
    ),
];

/// The scopes known to a lint run: the table plus the repository's CRDs.
#[derive(Debug, Clone, Default)]
pub struct Scopes {
    custom: BTreeMap<(String, String), Scope>,
}

impl Scopes {
    /// Registers a CRD's `spec.group`, `spec.names.kind` and `spec.scope`.
    pub fn add_crd(&mut self, crd: &serde_json::Value) {
        let spec = &crd["spec"];
        let (Some(group), Some(kind), Some(scope)) = (
            spec["group"].as_str(),
            spec["names"]["kind"].as_str(),
            spec["scope"].as_str(),
        ) else {
            return;
        };
        let scope = if scope == "Cluster" { C } else { N };
        self.custom.insert((group.into(), kind.into()), scope);
    }

    /// The scope of `kind` in API group `group` (`""` for the core group).
    pub fn scope(&self, group: &str, kind: &str) -> Option<Scope> {
        if let Some(s) = self.custom.get(&(group.to_string(), kind.to_string())) {
            return Some(*s);
        }
        TABLE
            .iter()
            .find(|(g, _)| *g == group)
            .and_then(|(_, kinds)| kinds.iter().find(|(k, _)| *k == kind))
            .map(|(_, s)| *s)
    }
}

/// The API group of an `apiVersion` (`v1` → `""`, `apps/v1` → `apps`).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_crds() {
        let mut s = Scopes::default();
        assert_eq!(s.scope("", "Namespace"), Some(C));
        assert_eq!(s.scope("hive.openshift.io", "ClusterImageSet"), Some(C));
        assert_eq!(s.scope("demo.flotilla.dev", "HelloWorld"), None);
        s.add_crd(&serde_json::json!({"spec": {"group": "demo.flotilla.dev",
            "names": {"kind": "HelloWorld"}, "scope": "Namespaced"}}));
        assert_eq!(s.scope("demo.flotilla.dev", "HelloWorld"), Some(N));
        assert_eq!(group_of("v1"), "");
        assert_eq!(
            group_of("rbac.authorization.k8s.io/v1"),
            "rbac.authorization.k8s.io"
        );
    }
}
