//! Every embedded CRD is a valid CRD with a structural schema; the example platform's objects
//! validate against them; kubectl decodes them.
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use flotilla_model::crds::{self, InstallOptions, FILES, SIMULATED};
use serde_json::{json, Value};

fn served() -> Vec<Value> {
    match crds::served() {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

fn all() -> Vec<Value> {
    let opts = InstallOptions {
        simulate_infrastructure: true,
        only: None,
    };
    match crds::install_set(&opts) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

/// The problems of one CRD.
fn crd_problems(crd: &Value) -> Vec<String> {
    let mut p = Vec::new();
    if crd["apiVersion"] != "apiextensions.k8s.io/v1" || crd["kind"] != "CustomResourceDefinition" {
        p.push("not an apiextensions.k8s.io/v1 CustomResourceDefinition".into());
    }
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let names = &spec["names"];
    let kind = names["kind"].as_str().unwrap_or_default();
    let plural = names["plural"].as_str().unwrap_or_default();
    if group.is_empty() || !group.contains('.') {
        p.push(format!("group {group:?} is not a DNS name"));
    }
    if kind.is_empty() || !kind.starts_with(|c: char| c.is_ascii_uppercase()) {
        p.push(format!("kind {kind:?}"));
    }
    if plural.is_empty() || plural != plural.to_ascii_lowercase() {
        p.push(format!("plural {plural:?}"));
    }
    if crd["metadata"]["name"] != json!(format!("{plural}.{group}")) {
        p.push(format!("metadata.name is not {plural}.{group}"));
    }
    if names["singular"] != json!(kind.to_ascii_lowercase()) {
        p.push("singular is not the lower-case kind".into());
    }
    if names["listKind"] != json!(format!("{kind}List")) {
        p.push("listKind is not <Kind>List".into());
    }
    if !matches!(spec["scope"].as_str(), Some("Namespaced" | "Cluster")) {
        p.push("scope".into());
    }
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    if versions.is_empty() {
        p.push("no versions".into());
    }
    if versions.len() > 1 && spec["conversion"]["strategy"] != "None" {
        p.push("several versions without conversion strategy None".into());
    }
    let storage: Vec<&Value> = versions.iter().filter(|v| v["storage"] == true).collect();
    if storage.len() != 1 {
        p.push(format!("{} storage versions", storage.len()));
    } else if storage[0]["served"] != true {
        p.push("storage version not served".into());
    }
    let mut seen = BTreeSet::new();
    for v in &versions {
        let name = v["name"].as_str().unwrap_or_default();
        if !seen.insert(name) {
            p.push(format!("version {name} twice"));
        }
        let rest = name.strip_prefix('v').unwrap_or("");
        let major_ok = rest.starts_with(|c: char| c.is_ascii_digit() && c != '0');
        let tail = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        let tail_ok = tail.is_empty()
            || ["alpha", "beta"].iter().any(|s| {
                tail.strip_prefix(s)
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            });
        if !(major_ok && tail_ok) {
            p.push(format!("version name {name:?}"));
        }
        let schema = &v["schema"]["openAPIV3Schema"];
        if schema["type"] != "object" {
            p.push(format!("{name}: schema type is not object"));
        }
        let mut errors = Vec::new();
        support::check_structural(schema, name, &mut errors);
        p.extend(errors);
        if let Some(meta) = schema["properties"].get("metadata") {
            if meta != &json!({"type": "object"}) {
                p.push(format!(
                    "{name}: root metadata schema may only be {{type: object}}"
                ));
            }
        }
        for col in v["additionalPrinterColumns"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let t = col["type"].as_str().unwrap_or_default();
            if !["integer", "number", "string", "boolean", "date"].contains(&t)
                || !col["jsonPath"].as_str().is_some_and(|j| j.starts_with('.'))
                || !col["name"].is_string()
            {
                p.push(format!("{name}: printer column {col}"));
            }
        }
    }
    p
}

#[test]
fn every_crd_file_parses_as_kubectl_reads_it_and_is_valid() {
    assert!(FILES.len() >= 19);
    let mut problems = Vec::new();
    for file in FILES {
        let crd = match crds::parse(file) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        // kubectl reads YAML through sigs.k8s.io/yaml (go-yaml v2 words): same value.
        match flotilla_yaml::parse_one_yaml11(file.text) {
            Ok(v11) if v11 == crd => {}
            Ok(_) => problems.push(format!("{}: reads differently as YAML 1.1", file.name)),
            Err(e) => problems.push(format!("{}: YAML 1.1: {e}", file.name)),
        }
        let expected = format!(
            "{}_{}.yaml",
            crd["spec"]["group"].as_str().unwrap_or_default(),
            crd["spec"]["names"]["plural"].as_str().unwrap_or_default()
        );
        if file.name != expected {
            problems.push(format!("{}: should be named {expected}", file.name));
        }
        problems.extend(
            crd_problems(&crd)
                .into_iter()
                .map(|e| format!("{}: {e}", file.name)),
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn simulated_crds_are_valid_and_schema_less() {
    let mut problems = Vec::new();
    for crd in crds::simulated() {
        let name = crd["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        problems.extend(
            crd_problems(&crd)
                .into_iter()
                .map(|e| format!("{name}: {e}")),
        );
        for v in crd["spec"]["versions"].as_array().into_iter().flatten() {
            if v["schema"]["openAPIV3Schema"]["x-kubernetes-preserve-unknown-fields"] != true {
                problems.push(format!("{name}: not schema-less"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let kinds: BTreeSet<&str> = SIMULATED.iter().map(|k| k.kind).collect();
    for k in [
        "AWSCluster",
        "AWSMachineTemplate",
        "AzureCluster",
        "GCPCluster",
        "KubeadmControlPlane",
        "KubeadmConfigTemplate",
        "KubeadmConfig",
    ] {
        assert!(kinds.contains(k), "{k} missing");
    }
}

#[test]
fn names_are_unique_across_the_install_set() {
    let mut short = BTreeMap::new();
    let mut kinds = BTreeMap::new();
    for crd in all() {
        let name = crd["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let group = crd["spec"]["group"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for s in crd["spec"]["names"]["shortNames"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let s = s.as_str().unwrap_or_default().to_string();
            if let Some(other) = short.insert(s.clone(), name.clone()) {
                panic!("short name {s} in {name} and {other}");
            }
        }
        let kind = crd["spec"]["names"]["kind"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(kinds.insert((group, kind), name).is_none());
    }
}

#[test]
fn served_versions_are_the_ones_promised() {
    let versions = |plural_group: &str| -> Vec<String> {
        let crd = served()
            .into_iter()
            .find(|c| c["metadata"]["name"] == plural_group)
            .unwrap_or_default();
        let mut vs: Vec<String> = crd["spec"]["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| v["served"] == true)
            .filter_map(|v| v["name"].as_str().map(String::from))
            .collect();
        vs.sort();
        vs
    };
    let flux = ["v1", "v1beta1", "v1beta2"];
    assert_eq!(versions("gitrepositories.source.toolkit.fluxcd.io"), flux);
    assert_eq!(versions("kustomizations.kustomize.toolkit.fluxcd.io"), flux);
    let capi = ["v1alpha3", "v1alpha4", "v1beta1"];
    for p in [
        "clusters",
        "machinedeployments",
        "machinesets",
        "machines",
        "machinehealthchecks",
    ] {
        assert_eq!(versions(&format!("{p}.cluster.x-k8s.io")), capi, "{p}");
    }
    for p in ["clusterresourcesets", "clusterresourcesetbindings"] {
        assert_eq!(
            versions(&format!("{p}.addons.cluster.x-k8s.io")),
            capi,
            "{p}"
        );
    }
    // The legacy fields v1 removed are accepted by the old versions' schemas.
    let schema = |name: &str, v: &str| -> Value {
        let crd = served()
            .into_iter()
            .find(|c| c["metadata"]["name"] == name)
            .unwrap_or_default();
        crd["spec"]["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|x| x["name"] == v)
            .map(|x| x["schema"]["openAPIV3Schema"].clone())
            .unwrap_or_default()
    };
    for v in ["v1beta1", "v1beta2"] {
        let g = schema("gitrepositories.source.toolkit.fluxcd.io", v);
        assert!(
            g["properties"]["spec"]["properties"]["gitImplementation"].is_object(),
            "{v}"
        );
        assert!(
            g["properties"]["spec"]["properties"]["accessFrom"].is_object(),
            "{v}"
        );
        let k = schema("kustomizations.kustomize.toolkit.fluxcd.io", v);
        for f in ["patchesStrategicMerge", "patchesJson6902", "validation"] {
            assert!(
                k["properties"]["spec"]["properties"][f].is_object(),
                "{v} {f}"
            );
        }
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

/// `(group, kind)` → CRD.
fn by_kind(crds: &[Value]) -> BTreeMap<(String, String), Value> {
    crds.iter()
        .map(|c| {
            let g = c["spec"]["group"].as_str().unwrap_or_default().to_string();
            let k = c["spec"]["names"]["kind"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            ((g, k), c.clone())
        })
        .collect()
}

/// Validates `obj` against the CRD of its kind; `None` when no CRD of ours has the kind.
fn validate_object(crds: &BTreeMap<(String, String), Value>, obj: &Value) -> Option<Vec<String>> {
    let api = obj["apiVersion"].as_str()?;
    let (group, version) = api.rsplit_once('/')?;
    let kind = obj["kind"].as_str()?;
    let crd = crds.get(&(group.to_string(), kind.to_string()))?;
    let Some(v) = crd["spec"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == version && v["served"] == true)
    else {
        return Some(vec![format!("{api} {kind}: version not served")]);
    };
    Some(support::validate(&v["schema"]["openAPIV3Schema"], obj))
}

#[test]
fn example_platform_objects_validate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/platform");
    let mut files = Vec::new();
    yaml_files(&root, &mut files);
    assert!(
        files.len() > 50,
        "examples/platform not found at {}",
        root.display()
    );
    let crds = by_kind(&all());
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let docs = match flotilla_yaml::parse_documents(&text) {
            Ok(d) => d,
            Err(e) => panic!("{}: {e}", f.display()),
        };
        for doc in docs {
            let Some(errors) = validate_object(&crds, &doc.value) else {
                continue;
            };
            let kind = doc.value["kind"].as_str().unwrap_or_default().to_string();
            *counts.entry(kind).or_default() += 1;
            let rel = f.strip_prefix(&root).unwrap_or(f).display().to_string();
            problems.extend(errors.into_iter().map(|e| format!("{rel}: {e}")));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for (kind, at_least) in [
        ("GitRepository", 2),
        ("Kustomization", 10),
        ("Cluster", 2),
        ("MachineDeployment", 2),
        ("MachineHealthCheck", 4),
        ("ClusterResourceSet", 2),
        ("AWSCluster", 2),
        ("KubeadmControlPlane", 2),
        ("KubeadmConfigTemplate", 2),
        ("AWSMachineTemplate", 4),
    ] {
        let n = counts.get(kind).copied().unwrap_or(0);
        assert!(
            n >= at_least,
            "only {n} {kind} objects validated: {counts:?}"
        );
    }
}

#[test]
fn the_validator_catches_bad_objects() {
    let crds = by_kind(&served());
    let good = json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "a", "namespace": "b"},
        "spec": {"interval": "10m", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "main"}}
    });
    assert_eq!(validate_object(&crds, &good), Some(vec![]));
    let with = |ptr: &str, v: Value| {
        let mut o = good.clone();
        if let Some(slot) = o.pointer_mut(ptr) {
            *slot = v;
        }
        o
    };
    let errors = |o: &Value| validate_object(&crds, o).unwrap_or_default();
    let mut missing = good.clone();
    if let Some(spec) = missing["spec"].as_object_mut() {
        spec.remove("interval");
    }
    assert!(errors(&missing).iter().any(|e| e.contains("interval")));
    assert!(!errors(&with("/spec/prune", json!("yes"))).is_empty());
    assert!(!errors(&with("/spec/interval", json!("ten minutes"))).is_empty());
    assert!(!errors(&with("/spec/sourceRef/kind", json!("HelmRepository"))).is_empty());
    let mut typo = good.clone();
    typo["spec"]["dependOn"] = json!([{"name": "x"}]);
    assert!(errors(&typo).iter().any(|e| e.contains("dependOn")));
    // v1 refuses nothing of v1beta2's shape (conversion None), but v1beta2 knows no namePrefix.
    let mut beta = good.clone();
    beta["apiVersion"] = json!("kustomize.toolkit.fluxcd.io/v1beta2");
    beta["spec"]["patchesStrategicMerge"] = json!([{"kind": "X"}]);
    assert_eq!(errors(&beta), Vec::<String>::new());
    beta["spec"]["namePrefix"] = json!("p-");
    assert!(!errors(&beta).is_empty());
    let mut old = good.clone();
    old["apiVersion"] = json!("kustomize.toolkit.fluxcd.io/v1alpha1");
    assert!(!errors(&old).is_empty());
}

/// kubectl decodes every CRD (`kubectl create --dry-run=client` needs an API server for
/// discovery, so the offline decode is `kubectl label --local`, which reads each file through
/// kubectl's own YAML/JSON decoder into an object with typed metadata).
#[test]
fn kubectl_decodes_every_crd() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let probe = std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(!ci, "kubectl is required under CI=true");
        eprintln!("skipping: kubectl not found on PATH");
        return;
    }
    let dir = std::env::temp_dir().join(format!("flotilla-model-crds-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let mut problems = Vec::new();
    let stream = crds::install_stream(&InstallOptions {
        simulate_infrastructure: true,
        only: None,
    })
    .unwrap_or_default();
    let mut inputs: Vec<(String, String)> = FILES
        .iter()
        .map(|f| (f.name.to_string(), f.text.to_string()))
        .collect();
    inputs.push(("install-stream.yaml".into(), stream));
    for (name, text) in inputs {
        let path = dir.join(&name);
        if let Err(e) = std::fs::write(&path, text) {
            panic!("{}: {e}", path.display());
        }
        let out = std::process::Command::new("kubectl")
            .args([
                "label",
                "--local",
                "-o",
                "json",
                "flotilla.dev/check=ok",
                "-f",
            ])
            .arg(&path)
            .output();
        match out {
            Ok(o) if o.status.success() => {
                let text = String::from_utf8_lossy(&o.stdout);
                let expected = if name == "install-stream.yaml" {
                    all().len()
                } else {
                    1
                };
                let n = text
                    .matches("\"kind\": \"CustomResourceDefinition\"")
                    .count();
                if n != expected {
                    problems.push(format!(
                        "{name}: kubectl printed {n} CRDs, expected {expected}"
                    ));
                }
            }
            Ok(o) => problems.push(format!("{name}: {}", String::from_utf8_lossy(&o.stderr))),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
