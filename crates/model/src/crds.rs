//! The CustomResourceDefinitions Flotilla installs.
//!
//! [`FILES`] are the CRDs of the kinds we serve and reconcile, kept as YAML data files under
//! `crates/model/crds/` (anchors keep the per-version schemas short) and parsed with
//! `flotilla-yaml`. [`simulated`] builds schema-less CRDs (`x-kubernetes-preserve-unknown-fields`)
//! for the provider kinds we do not run, so that `--simulate-infrastructure` can apply a
//! repository written for a cloud unchanged. [`install_stream`] is what `flotilla install`
//! prints.
use serde_json::{json, Map, Value};

use crate::Error;

/// An embedded CRD file: its name under `crates/model/crds/` and its text.
#[derive(Debug, Clone, Copy)]
pub struct CrdFile {
    /// File name.
    pub name: &'static str,
    /// YAML text.
    pub text: &'static str,
}

macro_rules! crd_files {
    ($($name:literal),* $(,)?) => {
        /// The CRD files, one CRD each.
        pub const FILES: &[CrdFile] = &[
            $(CrdFile { name: $name, text: include_str!(concat!("../crds/", $name)) },)*
        ];
    };
}

crd_files!(
    "source.toolkit.fluxcd.io_gitrepositories.yaml",
    "kustomize.toolkit.fluxcd.io_kustomizations.yaml",
    "cluster.x-k8s.io_clusters.yaml",
    "cluster.x-k8s.io_machinedeployments.yaml",
    "cluster.x-k8s.io_machinesets.yaml",
    "cluster.x-k8s.io_machines.yaml",
    "cluster.x-k8s.io_machinehealthchecks.yaml",
    "addons.cluster.x-k8s.io_clusterresourcesets.yaml",
    "addons.cluster.x-k8s.io_clusterresourcesetbindings.yaml",
    "infrastructure.flotilla.dev_virtualclusters.yaml",
    "infrastructure.flotilla.dev_virtualclustertemplates.yaml",
    "infrastructure.flotilla.dev_virtualmachines.yaml",
    "infrastructure.flotilla.dev_virtualmachinetemplates.yaml",
    "hive.openshift.io_clusterdeployments.yaml",
    "hive.openshift.io_clusterimagesets.yaml",
    "hive.openshift.io_machinepools.yaml",
    "hive.openshift.io_syncsets.yaml",
    "hive.openshift.io_selectorsyncsets.yaml",
    "hiveinternal.openshift.io_clustersyncs.yaml",
);

/// Parses one CRD file.
pub fn parse(file: &CrdFile) -> Result<Value, Error> {
    flotilla_yaml::parse_one(file.text).map_err(|e| Error::CrdFile {
        file: file.name.to_string(),
        message: e.to_string(),
    })
}

/// The CRDs of the kinds Flotilla serves, in [`FILES`] order.
pub fn served() -> Result<Vec<Value>, Error> {
    FILES.iter().map(parse).collect()
}

/// Scope of a simulated kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Namespaced.
    Namespaced,
    /// Cluster-scoped.
    Cluster,
}

/// A provider kind we do not run, installed schema-less under `--simulate-infrastructure`.
#[derive(Debug, Clone, Copy)]
pub struct SimulatedKind {
    /// API group.
    pub group: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Plural resource name.
    pub plural: &'static str,
    /// Scope.
    pub scope: Scope,
    /// Served versions, oldest first; the last is the storage version.
    pub versions: &'static [&'static str],
    /// Short names.
    pub short_names: &'static [&'static str],
}

const INFRA: &str = "infrastructure.cluster.x-k8s.io";
const CP: &str = "controlplane.cluster.x-k8s.io";
const BOOT: &str = "bootstrap.cluster.x-k8s.io";
const N: Scope = Scope::Namespaced;
const C: Scope = Scope::Cluster;
const CAPI_V: &[&str] = &["v1alpha3", "v1alpha4", "v1beta1"];
const CAPA_V: &[&str] = &["v1beta1", "v1beta2"];
const V1B1: &[&str] = &["v1beta1"];

const fn sim(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    scope: Scope,
    versions: &'static [&'static str],
) -> SimulatedKind {
    SimulatedKind {
        group,
        kind,
        plural,
        scope,
        versions,
        short_names: &[],
    }
}

/// The provider kinds installed schema-less by `--simulate-infrastructure`: the AWS, Azure,
/// GCP, vSphere and Docker infrastructure providers, kubeadm and EKS bootstrap and control
/// plane providers, and the Cluster API kinds we do not reconcile (ClusterClass,
/// MachinePool). Groups, versions, plurals and scopes are the providers' own.
pub const SIMULATED: &[SimulatedKind] = &[
    // Cluster API AWS (CAPA).
    sim(INFRA, "AWSCluster", "awsclusters", N, CAPA_V),
    sim(
        INFRA,
        "AWSClusterTemplate",
        "awsclustertemplates",
        N,
        CAPA_V,
    ),
    sim(INFRA, "AWSMachine", "awsmachines", N, CAPA_V),
    sim(
        INFRA,
        "AWSMachineTemplate",
        "awsmachinetemplates",
        N,
        CAPA_V,
    ),
    sim(INFRA, "AWSMachinePool", "awsmachinepools", N, CAPA_V),
    sim(INFRA, "AWSManagedCluster", "awsmanagedclusters", N, CAPA_V),
    sim(
        INFRA,
        "AWSManagedMachinePool",
        "awsmanagedmachinepools",
        N,
        CAPA_V,
    ),
    sim(
        INFRA,
        "AWSClusterControllerIdentity",
        "awsclustercontrolleridentities",
        C,
        CAPA_V,
    ),
    sim(
        INFRA,
        "AWSClusterRoleIdentity",
        "awsclusterroleidentities",
        C,
        CAPA_V,
    ),
    sim(
        INFRA,
        "AWSClusterStaticIdentity",
        "awsclusterstaticidentities",
        C,
        CAPA_V,
    ),
    sim(
        CP,
        "AWSManagedControlPlane",
        "awsmanagedcontrolplanes",
        N,
        CAPA_V,
    ),
    sim(BOOT, "EKSConfig", "eksconfigs", N, CAPA_V),
    sim(BOOT, "EKSConfigTemplate", "eksconfigtemplates", N, CAPA_V),
    // Cluster API Azure (CAPZ).
    sim(INFRA, "AzureCluster", "azureclusters", N, V1B1),
    sim(
        INFRA,
        "AzureClusterTemplate",
        "azureclustertemplates",
        N,
        V1B1,
    ),
    sim(
        INFRA,
        "AzureClusterIdentity",
        "azureclusteridentities",
        N,
        V1B1,
    ),
    sim(INFRA, "AzureMachine", "azuremachines", N, V1B1),
    sim(
        INFRA,
        "AzureMachineTemplate",
        "azuremachinetemplates",
        N,
        V1B1,
    ),
    sim(
        INFRA,
        "AzureManagedCluster",
        "azuremanagedclusters",
        N,
        V1B1,
    ),
    sim(
        INFRA,
        "AzureManagedControlPlane",
        "azuremanagedcontrolplanes",
        N,
        V1B1,
    ),
    sim(
        INFRA,
        "AzureManagedMachinePool",
        "azuremanagedmachinepools",
        N,
        V1B1,
    ),
    // Cluster API GCP (CAPG).
    sim(INFRA, "GCPCluster", "gcpclusters", N, V1B1),
    sim(INFRA, "GCPClusterTemplate", "gcpclustertemplates", N, V1B1),
    sim(INFRA, "GCPMachine", "gcpmachines", N, V1B1),
    sim(INFRA, "GCPMachineTemplate", "gcpmachinetemplates", N, V1B1),
    // Cluster API vSphere (CAPV).
    sim(INFRA, "VSphereCluster", "vsphereclusters", N, V1B1),
    sim(
        INFRA,
        "VSphereClusterTemplate",
        "vsphereclustertemplates",
        N,
        V1B1,
    ),
    sim(
        INFRA,
        "VSphereClusterIdentity",
        "vsphereclusteridentities",
        C,
        V1B1,
    ),
    sim(INFRA, "VSphereMachine", "vspheremachines", N, V1B1),
    sim(
        INFRA,
        "VSphereMachineTemplate",
        "vspheremachinetemplates",
        N,
        V1B1,
    ),
    // Cluster API Docker (CAPD).
    sim(INFRA, "DockerCluster", "dockerclusters", N, V1B1),
    sim(
        INFRA,
        "DockerClusterTemplate",
        "dockerclustertemplates",
        N,
        V1B1,
    ),
    sim(INFRA, "DockerMachine", "dockermachines", N, V1B1),
    sim(
        INFRA,
        "DockerMachineTemplate",
        "dockermachinetemplates",
        N,
        V1B1,
    ),
    // Kubeadm bootstrap and control plane providers.
    SimulatedKind {
        short_names: &["kcp"],
        ..sim(CP, "KubeadmControlPlane", "kubeadmcontrolplanes", N, CAPI_V)
    },
    sim(
        CP,
        "KubeadmControlPlaneTemplate",
        "kubeadmcontrolplanetemplates",
        N,
        &["v1beta1"],
    ),
    sim(BOOT, "KubeadmConfig", "kubeadmconfigs", N, CAPI_V),
    sim(
        BOOT,
        "KubeadmConfigTemplate",
        "kubeadmconfigtemplates",
        N,
        CAPI_V,
    ),
    // Cluster API kinds Flotilla does not reconcile.
    SimulatedKind {
        short_names: &["cc"],
        ..sim(
            "cluster.x-k8s.io",
            "ClusterClass",
            "clusterclasses",
            N,
            &["v1alpha4", "v1beta1"],
        )
    },
    SimulatedKind {
        short_names: &["mp"],
        ..sim(
            "cluster.x-k8s.io",
            "MachinePool",
            "machinepools",
            N,
            &["v1alpha3", "v1alpha4", "v1beta1"],
        )
    },
];

impl SimulatedKind {
    /// The schema-less CRD of this kind.
    pub fn crd(&self) -> Value {
        let singular = self.kind.to_ascii_lowercase();
        let storage = self.versions.last().copied().unwrap_or("v1beta1");
        // Templates and identities have no status; everything else gets the subresource so a
        // simulation can report readiness the way the real provider does.
        let has_status = !self.kind.ends_with("Template") && !self.kind.ends_with("Identity");
        let versions: Vec<Value> = self
            .versions
            .iter()
            .map(|v| {
                let mut version = json!({
                    "name": v,
                    "served": true,
                    "storage": *v == storage,
                    "schema": {"openAPIV3Schema": {
                        "description": format!("{} of a provider Flotilla does not run; \
                            installed schema-less for --simulate-infrastructure.", self.kind),
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": true,
                    }},
                });
                if has_status {
                    version["subresources"] = json!({"status": {}});
                }
                version
            })
            .collect();
        let mut names = Map::new();
        names.insert("kind".into(), json!(self.kind));
        names.insert("listKind".into(), json!(format!("{}List", self.kind)));
        names.insert("plural".into(), json!(self.plural));
        names.insert("singular".into(), json!(singular));
        if !self.short_names.is_empty() {
            names.insert("shortNames".into(), json!(self.short_names));
        }
        names.insert("categories".into(), json!(["cluster-api"]));
        let mut labels = json!({
            "app.kubernetes.io/part-of": "flotilla",
            "flotilla.dev/simulated": "true",
        });
        // Providers label their CRDs with the Cluster API contract they implement and the
        // versions implementing it; Cluster API resolves references through this label.
        if self.group != "cluster.x-k8s.io" {
            labels["cluster.x-k8s.io/v1beta1"] = json!(self.versions.join("_"));
        }
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {
                "name": format!("{}.{}", self.plural, self.group),
                "labels": labels,
            },
            "spec": {
                "group": self.group,
                "names": names,
                "scope": match self.scope { Scope::Namespaced => "Namespaced", Scope::Cluster => "Cluster" },
                "conversion": {"strategy": "None"},
                "versions": versions,
            },
        })
    }
}

/// The schema-less CRDs of [`SIMULATED`].
pub fn simulated() -> Vec<Value> {
    SIMULATED.iter().map(SimulatedKind::crd).collect()
}

/// Group aliases `--only` accepts besides exact group names.
pub const GROUP_ALIASES: &[(&str, &[&str])] = &[
    (
        "flux",
        &["source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io"],
    ),
    (
        "cluster-api",
        &[
            "cluster.x-k8s.io",
            "addons.cluster.x-k8s.io",
            "infrastructure.cluster.x-k8s.io",
            "controlplane.cluster.x-k8s.io",
            "bootstrap.cluster.x-k8s.io",
        ],
    ),
    ("hive", &["hive.openshift.io", "hiveinternal.openshift.io"]),
    ("flotilla", &["infrastructure.flotilla.dev"]),
];

/// What `flotilla install` prints.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// Add the schema-less CRDs of [`SIMULATED`].
    pub simulate_infrastructure: bool,
    /// Only this group (or alias of [`GROUP_ALIASES`]).
    pub only: Option<String>,
}

/// The CRDs to install: the served ones, plus the simulated ones when asked (a served CRD
/// wins over a simulated one of the same name), filtered by group, sorted by group then name
/// so the output is stable. CRDs depend on nothing, so `kubectl apply -f -` takes any order.
pub fn install_set(opts: &InstallOptions) -> Result<Vec<Value>, Error> {
    let mut crds = served()?;
    if opts.simulate_infrastructure {
        for crd in simulated() {
            let name = &crd["metadata"]["name"];
            if !crds.iter().any(|c| &c["metadata"]["name"] == name) {
                crds.push(crd);
            }
        }
    }
    let group = |c: &Value| c["spec"]["group"].as_str().unwrap_or_default().to_string();
    if let Some(only) = opts.only.as_deref() {
        let groups: Vec<&str> = GROUP_ALIASES
            .iter()
            .find(|(alias, _)| *alias == only)
            .map_or_else(|| vec![only], |(_, gs)| gs.to_vec());
        let known: std::collections::BTreeSet<String> = crds.iter().map(group).collect();
        crds.retain(|c| groups.contains(&group(c).as_str()));
        if crds.is_empty() {
            let mut names: Vec<String> = known.into_iter().collect();
            names.extend(GROUP_ALIASES.iter().map(|(a, _)| a.to_string()));
            return Err(Error::UnknownGroup {
                group: only.to_string(),
                known: names.join(", "),
            });
        }
    }
    crds.sort_by_cached_key(|c| {
        (
            group(c),
            c["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    });
    Ok(crds)
}

/// The install set as one YAML stream, documents separated by `---`.
pub fn install_stream(opts: &InstallOptions) -> Result<String, Error> {
    let docs: Vec<String> = install_set(opts)?
        .iter()
        .map(flotilla_yaml::to_yaml)
        .collect();
    Ok(docs.join("---\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_crds_win_over_simulated_ones() {
        let opts = InstallOptions {
            simulate_infrastructure: true,
            only: None,
        };
        let set = match install_set(&opts) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let mut names: Vec<&str> = set
            .iter()
            .filter_map(|c| c["metadata"]["name"].as_str())
            .collect();
        let total = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), total, "duplicate CRD names");
        assert_eq!(total, FILES.len() + SIMULATED.len());
    }

    #[test]
    fn only_filters_by_group_or_alias() {
        let only = |g: &str| {
            install_set(&InstallOptions {
                simulate_infrastructure: false,
                only: Some(g.into()),
            })
        };
        let flux = only("flux").unwrap_or_default();
        assert_eq!(flux.len(), 2);
        let hive = only("hive.openshift.io").unwrap_or_default();
        assert_eq!(hive.len(), 5);
        assert!(matches!(
            only("nope.example"),
            Err(Error::UnknownGroup { .. })
        ));
        // Simulated groups exist only with --simulate-infrastructure.
        assert!(only("controlplane.cluster.x-k8s.io").is_err());
    }

    #[test]
    fn stream_separates_documents() {
        let s = install_stream(&InstallOptions::default()).unwrap_or_default();
        assert_eq!(s.matches("\n---\n").count() + 1, FILES.len());
        assert!(s.starts_with("apiVersion: apiextensions.k8s.io/v1\n"));
    }
}
