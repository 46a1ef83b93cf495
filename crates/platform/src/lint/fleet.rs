//! The second pass: which cluster each Flux Kustomization targets, what it applies
//! (its path rendered with `flotilla_render`), and the checks across objects.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::kinds::Scope;
use super::scan::{Obj, Scanned};
use super::{Finding, Rule};

/// Namespaces every cluster has without anyone creating them.
const BUILTIN_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

const KUSTOMIZE_GROUP: &str = "kustomize.toolkit.fluxcd.io";

/// One followed Kustomization.
struct Ks<'a> {
    obj: &'a Obj,
    /// `""` for the management cluster, else the kubeconfig Secret's cluster.
    cluster: String,
    /// What tells clusters apart: `""`, or `<namespace>/<cluster>`.
    cluster_key: String,
    path: Option<PathBuf>,
}

impl Ks<'_> {
    fn id(&self) -> String {
        format!(
            "{}/{}",
            self.obj.namespace.as_deref().unwrap_or("default"),
            self.obj.name
        )
    }
}

fn cluster_name(c: &str) -> String {
    if c.is_empty() {
        "the management cluster".into()
    } else {
        format!("cluster {c}")
    }
}

/// `(group, kind, namespace, name)` of an applied object.
type ObjId = (String, String, String, String);

fn finding(file: &Path, line: usize, rule: Rule, message: String) -> Finding {
    Finding {
        file: file.to_path_buf(),
        line: line.max(1),
        rule,
        message,
    }
}

/// `spec.path` as a path relative to the root; `None` when it leaves the repository.
fn normalize(path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Runs the cross-object checks; returns the findings and how many Kustomizations were
/// followed.
pub(crate) fn check(root: &Path, s: &Scanned, prod_envs: &[String]) -> (Vec<Finding>, usize) {
    let mut out = Vec::new();
    let kss: Vec<Ks> = s
        .objects
        .iter()
        .filter(|o| o.group == KUSTOMIZE_GROUP && o.kind == "Kustomization")
        .map(|o| {
            let spec = &o.value["spec"];
            let secret = spec["kubeConfig"]["secretRef"]["name"]
                .as_str()
                .unwrap_or("");
            let cluster = secret.strip_suffix("-kubeconfig").unwrap_or(secret);
            let ns = o.namespace.as_deref().unwrap_or("default");
            Ks {
                obj: o,
                cluster: cluster.to_string(),
                cluster_key: if cluster.is_empty() {
                    String::new()
                } else {
                    format!("{ns}/{cluster}")
                },
                path: normalize(spec["path"].as_str().unwrap_or("")),
            }
        })
        .collect();

    // Clusters defined in the repository: (namespace, name) → environment label.
    let mut clusters: HashMap<(String, String), Option<String>> = HashMap::new();
    for o in &s.objects {
        let is_cluster = (o.group == "cluster.x-k8s.io" && o.kind == "Cluster")
            || (o.group == "hive.openshift.io" && o.kind == "ClusterDeployment");
        if is_cluster {
            clusters.insert(
                (o.namespace.clone().unwrap_or_default(), o.name.clone()),
                o.label("flotilla.dev/environment").map(str::to_string),
            );
        }
    }
    // GitRepositories: (namespace, name) → the branch they follow.
    let mut repos: HashMap<(String, String), Option<String>> = HashMap::new();
    for o in &s.objects {
        if o.group == "source.toolkit.fluxcd.io" && o.kind == "GitRepository" {
            let r = &o.value["spec"]["ref"];
            let branch = if r.get("commit").is_some()
                || r.get("name").is_some()
                || r.get("semver").is_some()
                || r.get("tag").is_some()
            {
                None
            } else {
                Some(r["branch"].as_str().unwrap_or("master").to_string())
            };
            repos.insert(
                (o.namespace.clone().unwrap_or_default(), o.name.clone()),
                branch,
            );
        }
    }

    for ks in &kss {
        let o = ks.obj;
        let ns = o.namespace.clone().unwrap_or_else(|| "default".into());
        let secret = o.value["spec"]["kubeConfig"]["secretRef"]["name"].as_str();
        // kubeconfig-cluster
        if let Some(secret) = secret {
            let owner = secret
                .strip_suffix("-kubeconfig")
                .filter(|c| clusters.contains_key(&(ns.clone(), c.to_string())));
            if owner.is_none() {
                out.push(finding(
                    &o.file,
                    s.locate(o, &["kubeConfig:", "secretRef:", "name:"]),
                    Rule::KubeconfigCluster,
                    format!(
                        "Kustomization {}: kubeConfig secret {ns}/{secret} belongs to no Cluster or ClusterDeployment defined in the repository (expected {ns}/<cluster>-kubeconfig)",
                        ks.id()
                    ),
                ));
            }
        }
        // prod-follows-main
        let env = o
            .label("flotilla.dev/environment")
            .map(str::to_string)
            .or_else(|| {
                clusters
                    .get(&(ns.clone(), ks.cluster.clone()))
                    .cloned()
                    .flatten()
            });
        if let Some(env) = env.filter(|e| prod_envs.contains(e)) {
            let src = &o.value["spec"]["sourceRef"];
            let kind = src["kind"].as_str().unwrap_or("");
            let name = src["name"].as_str().unwrap_or("");
            let src_ns = src["namespace"].as_str().unwrap_or(&ns).to_string();
            let follows_main = kind == "GitRepository"
                && match repos.get(&(src_ns.clone(), name.to_string())) {
                    Some(branch) => branch.as_deref() == Some("main"),
                    None => name == "main",
                };
            if follows_main {
                out.push(finding(
                    &o.file,
                    s.locate(o, &["sourceRef:", "name:"]),
                    Rule::ProdFollowsMain,
                    format!(
                        "Kustomization {} configures {} (environment {env}) but follows GitRepository {src_ns}/{name} on branch main; prod follows a release tag",
                        ks.id(),
                        cluster_name(&ks.cluster)
                    ),
                ));
            }
        }
    }

    // Render each Kustomization as kustomize-controller builds it (once per distinct set of
    // build fields).
    let mut rendered: HashMap<String, Option<Vec<Value>>> = HashMap::new();
    let mut keys: Vec<Option<String>> = Vec::new();
    for ks in &kss {
        keys.push(render_one(root, s, ks, &mut rendered, &mut out));
    }
    // Where each object of the repository is written, to point at it.
    let mut sources: HashMap<ObjId, Vec<&Obj>> = HashMap::new();
    for o in &s.objects {
        sources
            .entry((
                o.group.clone(),
                o.kind.clone(),
                o.namespace.clone().unwrap_or_default(),
                o.name.clone(),
            ))
            .or_default()
            .push(o);
    }

    // What each cluster receives.
    let mut by_cluster: BTreeMap<&str, Vec<(&Ks, Option<&str>)>> = BTreeMap::new();
    for (ks, key) in kss.iter().zip(&keys) {
        by_cluster
            .entry(ks.cluster_key.as_str())
            .or_default()
            .push((ks, key.as_deref()));
    }
    for list in by_cluster.into_values() {
        let cluster = list
            .first()
            .map(|(ks, _)| ks.cluster.as_str())
            .unwrap_or("");
        let mut applied: BTreeMap<ObjId, &Ks> = BTreeMap::new();
        let mut namespaces: BTreeSet<String> =
            BUILTIN_NAMESPACES.iter().map(|n| n.to_string()).collect();
        let mut namespaced: Vec<(ObjId, &Ks)> = Vec::new();
        for (ks, key) in list {
            let Some(Some(objects)) = key.and_then(|k| rendered.get(k)) else {
                continue;
            };
            for v in objects {
                let api = v["apiVersion"].as_str().unwrap_or("");
                let group = super::kinds::group_of(api).to_string();
                let kind = v["kind"].as_str().unwrap_or("").to_string();
                let name = v["metadata"]["name"].as_str().unwrap_or("").to_string();
                let scope = s.scopes.scope(&group, &kind);
                let ns = v["metadata"]["namespace"].as_str().map(str::to_string);
                if group.is_empty() && kind == "Namespace" {
                    namespaces.insert(name.clone());
                }
                let id: ObjId = (group, kind, ns.clone().unwrap_or_default(), name);
                if let Some(first) = applied.get(&id) {
                    if first.obj.file != ks.obj.file || first.obj.line != ks.obj.line {
                        out.push(finding(
                            &ks.obj.file,
                            s.locate(ks.obj, &["path:"]),
                            Rule::DuplicateObject,
                            format!(
                                "Kustomization {} applies {} {}, which Kustomization {} ({}:{}) also applies to {}",
                                ks.id(),
                                id.1,
                                if id.2.is_empty() { id.3.clone() } else { format!("{}/{}", id.2, id.3) },
                                first.id(),
                                first.obj.file.display(),
                                first.obj.line,
                                cluster_name(cluster)
                            ),
                        ));
                    }
                    continue;
                }
                applied.insert(id.clone(), ks);
                if ns.is_some() && scope != Some(Scope::Cluster) {
                    namespaced.push((id, ks));
                }
            }
        }
        for (id, ks) in namespaced {
            if id.2.contains("${") || namespaces.contains(&id.2) {
                continue;
            }
            let src = ks.path.as_ref().and_then(|p| {
                sources
                    .get(&id)
                    .and_then(|v| v.iter().find(|o| o.file.starts_with(p)).copied())
            });
            let (file, line) = match src {
                Some(o) => (o.file.clone(), s.locate(o, &["metadata:", "namespace:"])),
                None => (ks.obj.file.clone(), s.locate(ks.obj, &["path:"])),
            };
            out.push(finding(
                &file,
                line,
                Rule::NamespaceMissing,
                format!(
                    "{} {}/{} (applied by Kustomization {}): no Namespace {} is applied to {}",
                    id.1,
                    id.2,
                    id.3,
                    ks.id(),
                    id.2,
                    cluster_name(cluster)
                ),
            ));
        }
    }
    (out, kss.len())
}

/// The `spec` fields that change what a Kustomization builds.
const BUILD_FIELDS: &[&str] = &[
    "path",
    "targetNamespace",
    "namePrefix",
    "nameSuffix",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "images",
    "components",
    "commonMetadata",
];

/// Checks the path of `ks` and renders it (cached by build fields); returns the cache key of
/// a rendered (or failed) build, `None` when the path is unusable.
fn render_one(
    root: &Path,
    s: &Scanned,
    ks: &Ks,
    rendered: &mut HashMap<String, Option<Vec<Value>>>,
    out: &mut Vec<Finding>,
) -> Option<String> {
    let o = ks.obj;
    let path_line = s.locate(o, &["path:"]);
    let raw = o.value["spec"]["path"].as_str().unwrap_or("");
    let Some(path) = &ks.path else {
        out.push(finding(
            &o.file,
            path_line,
            Rule::KustomizationPath,
            format!(
                "Kustomization {}: path {raw:?} leaves the repository",
                ks.id()
            ),
        ));
        return None;
    };
    if !root.join(path).is_dir() {
        out.push(finding(
            &o.file,
            path_line,
            Rule::KustomizationPath,
            format!(
                "Kustomization {}: path {raw:?} does not exist in the repository",
                ks.id()
            ),
        ));
        return None;
    }
    let spec = &o.value["spec"];
    let fields: serde_json::Map<String, Value> = BUILD_FIELDS
        .iter()
        .filter_map(|f| spec.get(*f).map(|v| (f.to_string(), v.clone())))
        .collect();
    let key = Value::Object(fields.clone()).to_string();
    if rendered.contains_key(&key) {
        return Some(key);
    }
    match flotilla_render::flux::build_kustomization(root, &Value::Object(fields)) {
        Ok(r) => {
            rendered.insert(key.clone(), Some(r.objects));
        }
        Err(e) => {
            rendered.insert(key.clone(), None);
            let covered = s.broken_files.iter().any(|f| f.starts_with(path));
            if !covered {
                out.push(finding(
                    &o.file,
                    path_line,
                    Rule::Render,
                    format!(
                        "Kustomization {}: path {raw:?} does not build: {}",
                        ks.id(),
                        e.to_string().replace(&format!("{}/", root.display()), "")
                    ),
                ));
            }
        }
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized_inside_the_repository() {
        assert_eq!(normalize("./a/b/"), Some(PathBuf::from("a/b")));
        assert_eq!(normalize("a/../b"), Some(PathBuf::from("b")));
        assert_eq!(normalize(""), Some(PathBuf::new()));
        assert_eq!(normalize("../outside"), None);
        assert_eq!(cluster_name(""), "the management cluster");
    }
}
