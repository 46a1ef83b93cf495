//! `flotilla add cluster NAME --env ENV [--region R] [--provider aws|virtual] [--hive]`:
//! the cluster's namespace on the management cluster, its infrastructure objects (Cluster
//! API for AWS or a virtual cluster, or Hive), its Flux Kustomizations and its folders.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{namespace, slash, FluxKustomization};
use crate::error::{Error, Result};
use crate::names::{check_arg, scalar as s};
use crate::repo::Platform;
use crate::write::{write_all, Outcome, PlannedFile};

/// Where a cluster's machines come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InfraProvider {
    /// Cluster API Provider AWS.
    #[default]
    Aws,
    /// A virtual cluster of the embedded control plane (`infrastructure.flotilla.dev`).
    Virtual,
}

/// Options of `add cluster`.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub name: String,
    pub env: String,
    pub region: String,
    pub provider: InfraProvider,
    /// OpenShift Hive objects instead of Cluster API.
    pub hive: bool,
    /// Hive: the cluster's base DNS domain.
    pub base_domain: String,
    /// Features to enable; `None`: every feature under `features/`.
    pub features: Option<Vec<String>>,
    pub force: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            name: String::new(),
            env: String::new(),
            region: "eu-west-1".into(),
            provider: InfraProvider::Aws,
            hive: false,
            base_domain: "example.com".into(),
            features: None,
            force: false,
        }
    }
}

/// The Kubernetes version new clusters run.
pub const KUBERNETES_VERSION: &str = "v1.30.5";

/// Plans the files of a new cluster.
pub fn plan(p: &Platform, o: &ClusterOptions) -> Result<(Vec<PlannedFile>, Vec<String>)> {
    check_arg("cluster name", &o.name)?;
    check_arg("environment", &o.env)?;
    check_arg("region", &o.region)?;
    if o.name == "common" || o.name == "flux-system" {
        return Err(Error::Invalid(format!("`{}` is a reserved name", o.name)));
    }
    if o.hive && o.provider == InfraProvider::Virtual {
        return Err(Error::Invalid(
            "--hive provisions OpenShift on a cloud; it cannot be combined with --provider virtual"
                .into(),
        ));
    }
    if let Some(other) = p
        .clusters()
        .into_iter()
        .find(|c| c.name == o.name && c.env != o.env)
    {
        return Err(Error::Invalid(format!(
            "cluster `{}` exists already in environment `{}`",
            o.name, other.env
        )));
    }
    let all_features = p.features();
    let features = match &o.features {
        Some(list) => {
            for f in list {
                if !all_features.contains(f) {
                    return Err(Error::Invalid(format!(
                        "unknown feature `{f}` (no folder features/{f})"
                    )));
                }
            }
            list.clone()
        }
        None => all_features,
    };
    let mut notes = Vec::new();
    let mgmt = p.mgmt_rel();
    let ns_dir = mgmt.join("namespaced").join(&o.name);
    let name = o.name.as_str();
    let env = o.env.as_str();
    let mut files = vec![PlannedFile::new(
        mgmt.join("non-namespaced").join(name).join("namespace.yaml"),
        namespace(
            Some(&format!(
                "Holds the {} objects of {name}, its kubeconfig Secret\n({name}-kubeconfig) and the Flux Kustomizations that configure it.",
                if o.hive { "Hive" } else { "Cluster API" }
            )),
            name,
            &[("flotilla.dev/environment", env), ("flotilla.dev/cluster", name)],
        ),
    )];
    if o.hive {
        files.extend(super::hive::files(&mgmt, o));
    } else {
        match o.provider {
            InfraProvider::Aws => files.extend(aws_files(&ns_dir, o, p.config.is_prod(env))),
            InfraProvider::Virtual => files.extend(virtual_files(&ns_dir, o)),
        }
    }

    // The workload cluster's own folders.
    let env_dir = p.env_rel(env);
    let common = env_dir.join("common");
    let layer = env_dir.join(name);
    files.push(PlannedFile::if_missing(
        common
            .join("non-namespaced")
            .join(format!("{env}-common"))
            .join("namespace-platform-system.yaml"),
        namespace(
            Some("Platform components of every cluster of this environment."),
            "platform-system",
            &[
                ("flotilla.dev/environment", env),
                ("pod-security.kubernetes.io/enforce", "restricted"),
            ],
        ),
    ));
    files.push(PlannedFile::if_missing(
        common.join("namespaced/platform-system/.gitkeep"),
        "",
    ));
    files.push(PlannedFile::new(
        layer.join("non-namespaced").join(name).join(".gitkeep"),
        "",
    ));
    files.push(PlannedFile::new(
        layer.join("namespaced/platform-system/configmap-cluster-settings.yaml"),
        cluster_settings(p, o),
    ));

    // Its Kustomizations, in the cluster's namespace on the management cluster.
    let source = p.config.source_for(env);
    let kubeconfig_key = if o.hive { Some("kubeconfig") } else { None };
    let k = |kname: &str, path: &Path| FluxKustomization {
        name: "",
        namespace: name,
        cluster: Some((env, name)),
        kubeconfig_key,
        path: format!("./{}", slash(path)),
        source: &source,
        comment: None,
        depends_on: Vec::new(),
        substitute: Vec::new(),
        wait: kname.starts_with("feature-"),
    };
    let mut kustomizations: Vec<(String, FluxKustomization)> = Vec::new();
    let mut common_k = k("common", &common);
    common_k.substitute = vec![
        ("cluster_name", name.to_string()),
        ("cluster_env", env.to_string()),
    ];
    if o.provider == InfraProvider::Aws {
        common_k.substitute.push(("aws_region", o.region.clone()));
    }
    kustomizations.push(("common".into(), common_k));
    let feature_names: Vec<String> = features.iter().map(|f| format!("feature-{f}")).collect();
    for (f, kname) in features.iter().zip(&feature_names) {
        kustomizations.push((kname.clone(), k(kname, &PathBuf::from("features").join(f))));
    }
    let mut layer_k = k(name, &layer);
    layer_k.depends_on = std::iter::once("common".to_string())
        .chain(feature_names.iter().cloned())
        .collect();
    kustomizations.push((name.to_string(), layer_k));
    let tenants = p.tenants_rel();
    for (kname, path, deps) in [
        (
            "tenants-common".to_string(),
            tenants.join("common"),
            feature_names.clone(),
        ),
        (
            format!("tenants-{env}"),
            tenants.join(env),
            vec!["tenants-common".to_string()],
        ),
    ] {
        if !p.has_manifests(&path) {
            notes.push(format!(
                "{kname}: not written yet, {} holds no manifests (`flotilla add tenant` writes it)",
                slash(&path)
            ));
            continue;
        }
        let mut tk = k(&kname, &path);
        tk.depends_on = deps;
        kustomizations.push((kname, tk));
    }
    for (kname, kz) in kustomizations {
        let kz = FluxKustomization { name: &kname, ..kz };
        files.push(PlannedFile::new(
            ns_dir.join(format!("kustomization-{kname}.yaml")),
            kz.render(),
        ));
    }
    Ok((files, notes))
}

/// Adds the cluster to the repository at `p.root`.
pub fn add_cluster(p: &Platform, o: &ClusterOptions) -> Result<Outcome> {
    let (files, notes) = plan(p, o)?;
    let mut out = write_all(&p.root, &files, o.force)?;
    out.notes = notes;
    Ok(out)
}

fn cluster_settings(p: &Platform, o: &ClusterOptions) -> String {
    let mut t = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\n  namespace: platform-system\n");
    let _ = writeln!(
        t,
        "  labels:\n    flotilla.dev/environment: {}\n    flotilla.dev/cluster: {}",
        s(&o.env),
        s(&o.name)
    );
    let _ = writeln!(
        t,
        "data:\n  cluster-name: {}\n  environment: {}",
        s(&o.name),
        s(&o.env)
    );
    let _ = writeln!(
        t,
        "  provider: {}\n  region: {}",
        s(&p.config.provider),
        s(&o.region)
    );
    t
}

/// Labels every Cluster API object of the cluster carries.
fn labels(o: &ClusterOptions) -> String {
    format!(
        "  labels:\n    cluster.x-k8s.io/cluster-name: {}\n    flotilla.dev/environment: {}\n",
        s(&o.name),
        s(&o.env)
    )
}

fn meta(api: &str, kind: &str, name: &str, o: &ClusterOptions) -> String {
    format!(
        "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {}\n  namespace: {}\n{}",
        s(name),
        s(&o.name),
        labels(o)
    )
}

const CAPI: &str = "cluster.x-k8s.io/v1beta1";
const CAPA: &str = "infrastructure.cluster.x-k8s.io/v1beta2";
const KCP: &str = "controlplane.cluster.x-k8s.io/v1beta1";
const CABPK: &str = "bootstrap.cluster.x-k8s.io/v1beta1";

fn cluster_object(o: &ClusterOptions, infra: (&str, &str), control_plane: bool) -> String {
    let n = &o.name;
    let mut t = format!(
        "apiVersion: {CAPI}\nkind: Cluster\nmetadata:\n  name: {}\n  namespace: {}\n  labels:\n    flotilla.dev/environment: {}\n",
        s(n),
        s(n),
        s(&o.env)
    );
    if control_plane {
        t.push_str("    flotilla.dev/cni: flannel\n");
    }
    t.push_str("spec:\n  clusterNetwork:\n    pods:\n      cidrBlocks:\n        - 10.244.0.0/16\n    services:\n      cidrBlocks:\n        - 10.96.0.0/12\n    serviceDomain: cluster.local\n");
    let _ = writeln!(
        t,
        "  infrastructureRef:\n    apiVersion: {}\n    kind: {}\n    name: {}",
        infra.0,
        infra.1,
        s(n)
    );
    if control_plane {
        let _ = writeln!(t, "  controlPlaneRef:\n    apiVersion: {KCP}\n    kind: KubeadmControlPlane\n    name: {}", s(&format!("{n}-control-plane")));
    }
    t
}

fn aws_files(dir: &Path, o: &ClusterOptions, prod: bool) -> Vec<PlannedFile> {
    let n = o.name.as_str();
    let ssh = format!("platform-{}", o.env);
    let (cp_type, md_type) = if prod {
        ("m6i.xlarge", "m6i.2xlarge")
    } else {
        ("m6i.large", "m6i.large")
    };
    let cp = format!("{n}-control-plane");
    let md = format!("{n}-md-0");
    let mut out = Vec::new();
    let mut add = |file: &str, text: String| out.push(PlannedFile::new(dir.join(file), text));
    add(
        "cluster.yaml",
        cluster_object(o, (CAPA, "AWSCluster"), true),
    );
    add(
        "awscluster.yaml",
        format!(
            "{}spec:\n  region: {}\n  sshKeyName: {}\n  network:\n    vpc:\n      cidrBlock: 10.0.0.0/16\n      availabilityZoneUsageLimit: 3\n      availabilityZoneSelection: Ordered\n  controlPlaneLoadBalancer:\n    loadBalancerType: nlb\n    scheme: internet-facing\n  additionalTags:\n    flotilla.dev/environment: {}\n    flotilla.dev/cluster: {}\n",
            meta(CAPA, "AWSCluster", n, o), s(&o.region), s(&ssh), s(&o.env), s(n)
        ),
    );
    for (file, name, itype, profile, size) in [
        (
            "awsmachinetemplate-control-plane.yaml",
            &cp,
            cp_type,
            "control-plane",
            80,
        ),
        ("awsmachinetemplate-md-0.yaml", &md, md_type, "nodes", 100),
    ] {
        add(
            file,
            format!(
                "{}spec:\n  template:\n    spec:\n      instanceType: {itype}\n      iamInstanceProfile: {profile}.cluster-api-provider-aws.sigs.k8s.io\n      sshKeyName: {}\n      rootVolume:\n        size: {size}\n        type: gp3\n        encrypted: true\n",
                meta(CAPA, "AWSMachineTemplate", name, o), s(&ssh)
            ),
        );
    }
    // `nodeRegistration` at `indent`, with extra kubelet arguments.
    let node_reg = |indent: &str, extra: &str| {
        let mut r = format!(
            "{indent}nodeRegistration:\n{indent}  name: '{{{{ ds.meta_data.local_hostname }}}}'\n{indent}  kubeletExtraArgs:\n{indent}    cloud-provider: external\n"
        );
        if !extra.is_empty() {
            let _ = writeln!(r, "{indent}    {extra}");
        }
        r
    };
    add(
        "kubeadmcontrolplane.yaml",
        format!(
            "{}spec:\n  replicas: 3\n  version: {KUBERNETES_VERSION}\n  machineTemplate:\n    infrastructureRef:\n      apiVersion: {CAPA}\n      kind: AWSMachineTemplate\n      name: {}\n  rolloutStrategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 1\n  kubeadmConfigSpec:\n    clusterConfiguration:\n      apiServer:\n        extraArgs:\n          cloud-provider: external\n      controllerManager:\n        extraArgs:\n          cloud-provider: external\n    initConfiguration:\n{}    joinConfiguration:\n{}",
            meta(KCP, "KubeadmControlPlane", &cp, o), s(&cp), node_reg("      ", ""), node_reg("      ", "")
        ),
    );
    add(
        "kubeadmconfigtemplate-md-0.yaml",
        format!(
            "{}spec:\n  template:\n    spec:\n      joinConfiguration:\n{}",
            meta(CABPK, "KubeadmConfigTemplate", &md, o),
            node_reg("        ", "node-labels: node.flotilla.dev/pool=md-0")
        ),
    );
    add(
        "machinedeployment-md-0.yaml",
        format!(
            "{m}spec:\n  clusterName: {n}\n  replicas: 2\n  selector:\n    matchLabels:\n      cluster.x-k8s.io/cluster-name: {n}\n      flotilla.dev/pool: md-0\n  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 1\n      maxUnavailable: 0\n  template:\n    metadata:\n      labels:\n        cluster.x-k8s.io/cluster-name: {n}\n        flotilla.dev/pool: md-0\n    spec:\n      clusterName: {n}\n      version: {KUBERNETES_VERSION}\n      bootstrap:\n        configRef:\n          apiVersion: {CABPK}\n          kind: KubeadmConfigTemplate\n          name: {md}\n      infrastructureRef:\n        apiVersion: {CAPA}\n        kind: AWSMachineTemplate\n        name: {md}\n",
            m = meta(CAPI, "MachineDeployment", &md, o), n = s(n), md = s(&md)
        ),
    );
    for (file, name, max, startup, selector) in [
        (
            "machinehealthcheck-control-plane.yaml",
            &cp,
            "33%",
            "20m",
            "cluster.x-k8s.io/control-plane: \"\"",
        ),
        (
            "machinehealthcheck-md-0.yaml",
            &md,
            "40%",
            "10m",
            "flotilla.dev/pool: md-0",
        ),
    ] {
        add(
            file,
            format!(
                "{}spec:\n  clusterName: {}\n  maxUnhealthy: {max}\n  nodeStartupTimeout: {startup}\n  selector:\n    matchLabels:\n      {selector}\n  unhealthyConditions:\n    - type: Ready\n      status: Unknown\n      timeout: 300s\n    - type: Ready\n      status: \"False\"\n      timeout: 300s\n",
                meta(CAPI, "MachineHealthCheck", name, o), s(n)
            ),
        );
    }
    let env_label = format!("  labels:\n    flotilla.dev/environment: {}\n", s(&o.env));
    add(
        "clusterresourceset-cni.yaml",
        format!(
            "# Installs the CNI into every workload cluster in this namespace labelled\n# flotilla.dev/cni=flannel, as soon as its API server answers.\napiVersion: addons.cluster.x-k8s.io/v1beta1\nkind: ClusterResourceSet\nmetadata:\n  name: cni-flannel\n  namespace: {}\n{env_label}spec:\n  strategy: Reconcile\n  clusterSelector:\n    matchLabels:\n      flotilla.dev/cni: flannel\n  resources:\n    - kind: ConfigMap\n      name: cni-flannel\n",
            s(n)
        ),
    );
    add(
        "configmap-cni-flannel.yaml",
        format!(
            "# Manifests that the ClusterResourceSet cni-flannel applies to the workload\n# cluster. The pod network matches spec.clusterNetwork.pods of the Cluster.\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cni-flannel\n  namespace: {}\n{env_label}{}",
            s(n),
            include_str!("cni-flannel-data.yaml")
        ),
    );
    out
}

fn virtual_files(dir: &Path, o: &ClusterOptions) -> Vec<PlannedFile> {
    let api = "infrastructure.flotilla.dev/v1alpha1";
    vec![
        PlannedFile::new(
            dir.join("cluster.yaml"),
            cluster_object(o, (api, "VirtualCluster"), false),
        ),
        PlannedFile::new(
            dir.join("virtualcluster.yaml"),
            format!(
                "# A logical cluster of the embedded control plane: rehearses this cluster\n# without cloud machines.\n{}spec:\n  version: {KUBERNETES_VERSION}\n",
                meta(api, "VirtualCluster", &o.name, o)
            ),
        ),
    ]
}

/// A Kustomization for an existing cluster (used by `add tenant` and `add feature`): its
/// source from the environment, the Hive kubeconfig key when the cluster is a Hive one.
pub(crate) fn kustomization_for(
    p: &Platform,
    c: &crate::repo::ClusterRef,
    kname: &str,
    path: &Path,
    depends_on: Vec<String>,
) -> PlannedFile {
    let dir = p.mgmt_rel().join("namespaced").join(&c.name);
    let hive = p.root.join(&dir).join("clusterdeployment.yaml").exists();
    let source = p.config.source_for(&c.env);
    let k = FluxKustomization {
        name: kname,
        namespace: &c.name,
        cluster: Some((&c.env, &c.name)),
        kubeconfig_key: if hive { Some("kubeconfig") } else { None },
        path: format!("./{}", slash(path)),
        source: &source,
        depends_on,
        wait: kname.starts_with("feature-"),
        ..Default::default()
    };
    PlannedFile::new(dir.join(format!("kustomization-{kname}.yaml")), k.render())
}

/// The `feature-*` Kustomization names a cluster has, sorted.
pub(crate) fn feature_kustomizations(p: &Platform, cluster: &str) -> Vec<String> {
    let dir = p.root.join(p.mgmt_rel()).join("namespaced").join(cluster);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter_map(|n| {
            n.strip_prefix("kustomization-")
                .and_then(|r| r.strip_suffix(".yaml"))
                .filter(|r| r.starts_with("feature-"))
                .map(str::to_string)
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn example() -> Platform {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/platform");
        Platform::open(&root).unwrap()
    }

    /// The generated objects of a cluster are those of examples/platform, field for field
    /// (apart from what the example chose by hand: its VPC range, and how each feature
    /// Kustomization waits).
    #[test]
    fn aws_cluster_matches_the_example() {
        let p = example();
        for (name, env, cidr) in [
            ("prod-eu-west-1", "prod", "10.30.0.0/16"),
            ("non-prod-eu-west-1", "non-prod", "10.20.0.0/16"),
        ] {
            let o = ClusterOptions {
                name: name.into(),
                env: env.into(),
                ..Default::default()
            };
            let (files, notes) = plan(&p, &o).unwrap();
            assert!(notes.is_empty(), "{notes:?}");
            let mut compared = 0;
            for f in files.iter().filter(|f| f.path.starts_with(p.mgmt_rel())) {
                if f.path.to_string_lossy().contains("kustomization-feature-") {
                    continue;
                }
                let theirs = std::fs::read_to_string(p.root.join(&f.path))
                    .unwrap_or_else(|e| panic!("{}: {e}", f.path.display()));
                let mut ours = flotilla_yaml::parse_one(&f.content).unwrap();
                let theirs = flotilla_yaml::parse_one(&theirs).unwrap();
                if ours["kind"] == "AWSCluster" {
                    ours["spec"]["network"]["vpc"]["cidrBlock"] = Value::from(cidr);
                }
                assert_eq!(ours, theirs, "{}", f.path.display());
                compared += 1;
            }
            // namespace + 11 Cluster API objects + common, layer, 2 tenants Kustomizations.
            assert_eq!(compared, 16, "{name}");
        }
    }

    #[test]
    fn virtual_cluster_has_no_control_plane_ref() {
        let p = example();
        let o = ClusterOptions {
            name: "rehearsal".into(),
            env: "non-prod".into(),
            provider: InfraProvider::Virtual,
            ..Default::default()
        };
        let (files, _) = plan(&p, &o).unwrap();
        let cluster = files
            .iter()
            .find(|f| f.path.ends_with("cluster.yaml"))
            .unwrap();
        let v = flotilla_yaml::parse_one(&cluster.content).unwrap();
        assert_eq!(v["spec"]["infrastructureRef"]["kind"], "VirtualCluster");
        assert!(v["spec"].get("controlPlaneRef").is_none());
        assert!(files.iter().all(|f| !f.content.contains("AWSCluster")));
    }
}
