//! `diff`: what changes on each cluster between two revisions.
//!
//! At each revision, every Flux Kustomization (`kustomize.toolkit.fluxcd.io`, any version)
//! in the tree is assigned to a cluster — the one its `spec.kubeConfig.secretRef.name`
//! (`<cluster>-kubeconfig`) names, else the management cluster — and an environment: the
//! `flotilla.dev/environment` label, else `[diff.envs]` by its sourceRef name (main →
//! non-prod, release → prod), else `diff.default-env`. Each selected Kustomization's
//! `spec.path` is rendered with the native renderer from the revision's tree (or, with
//! [`Filter::follow_pins`], from the tree of the tag its GitRepository pins), and the
//! objects of both sides are compared per cluster: added, removed, changed with the
//! differing fields. Secret values never appear.

mod fields;
mod output;
mod tree;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use gix::ObjectId;
use serde::Serialize;
use serde_json::Value;

pub use fields::{field_changes, FieldChange, MASK};
pub use output::Style;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::repo::Repo;
use tree::Extracted;

/// Which clusters to compare.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub env: Option<String>,
    pub cluster: Option<String>,
    /// Render a Kustomization whose GitRepository pins a tag (or semver range) from that
    /// tag's tree rather than from the revision's: what the cluster really runs.
    pub follow_pins: bool,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct FleetDiff {
    pub from: String,
    pub to: String,
    /// Every cluster that runs a selected Kustomization at either revision, by name.
    pub clusters: Vec<ClusterDiff>,
}

/// One cluster's changes.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterDiff {
    pub cluster: String,
    pub objects: Vec<ObjectDiff>,
}

/// One object that differs.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectDiff {
    /// `group/Kind namespace/name` (`Kind name` for core cluster-scoped objects).
    pub id: String,
    /// The Kustomization (`namespace/name`) that renders it (on the `to` side if any).
    pub kustomization: String,
    #[serde(flatten)]
    pub change: ObjectChange,
}

/// How an object differs.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum ObjectChange {
    Added { object: Value },
    Removed { object: Value },
    Changed { fields: Vec<FieldChange> },
}

impl FleetDiff {
    /// Whether anything differs.
    pub fn has_changes(&self) -> bool {
        self.clusters.iter().any(|c| !c.objects.is_empty())
    }

    /// 0 for no change, 1 for changes (errors are 2, by the caller).
    pub fn exit_code(&self) -> i32 {
        i32::from(self.has_changes())
    }

    /// Every changed object as `cluster: id`, for tests and scripts.
    pub fn summary(&self) -> Vec<String> {
        self.clusters
            .iter()
            .flat_map(|c| {
                c.objects.iter().map(move |o| {
                    let sign = match o.change {
                        ObjectChange::Added { .. } => '+',
                        ObjectChange::Removed { .. } => '-',
                        ObjectChange::Changed { .. } => '~',
                    };
                    format!("{} {sign} {}", c.cluster, o.id)
                })
            })
            .collect()
    }
}

/// A Flux Kustomization found in a tree.
#[derive(Debug, Clone)]
pub struct FluxKustomization {
    pub namespace: String,
    pub name: String,
    pub cluster: String,
    pub env: String,
    /// `spec.path` without a leading `./`.
    pub path: String,
    pub source_name: String,
    pub source_namespace: String,
    /// The file that declares it.
    pub file: String,
    /// Its whole `spec` (targetNamespace, patches, images, … are applied when rendering).
    pub spec: Value,
}

/// Compares the fleet at `from` and `to`.
pub fn diff(repo: &Repo, from: &str, to: &str, filter: &Filter, cfg: &Config) -> Result<FleetDiff> {
    let mut trees = Trees::default();
    let old = render_rev(repo, from, filter, cfg, &mut trees)?;
    let new = render_rev(repo, to, filter, cfg, &mut trees)?;
    let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
    names.sort();
    names.dedup();
    let empty = BTreeMap::new();
    let clusters = names
        .into_iter()
        .map(|name| ClusterDiff {
            cluster: name.clone(),
            objects: compare(
                old.get(name).unwrap_or(&empty),
                new.get(name).unwrap_or(&empty),
            ),
        })
        .collect();
    Ok(FleetDiff {
        from: from.to_string(),
        to: to.to_string(),
        clusters,
    })
}

/// Extracted trees by commit, so each is written once.
#[derive(Default)]
struct Trees {
    by_commit: HashMap<ObjectId, Extracted>,
}

impl Trees {
    fn get(&mut self, repo: &Repo, commit: ObjectId) -> Result<&Path> {
        let e = match self.by_commit.entry(commit) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => v.insert(Extracted::new(repo, commit)?),
        };
        Ok(e.path())
    }
}

/// cluster → object id → (kustomization, object).
type Fleet = BTreeMap<String, BTreeMap<String, (String, Value)>>;

fn render_rev(
    repo: &Repo,
    rev: &str,
    filter: &Filter,
    cfg: &Config,
    trees: &mut Trees,
) -> Result<Fleet> {
    let commit = repo.resolve(rev)?;
    let (kustomizations, sources) = discover(repo, commit, cfg)?;
    let mut fleet = Fleet::new();
    for k in kustomizations {
        if filter.env.as_ref().is_some_and(|e| *e != k.env)
            || filter.cluster.as_ref().is_some_and(|c| *c != k.cluster)
        {
            continue;
        }
        let source_commit = if filter.follow_pins {
            let key = format!("{}/{}", k.source_namespace, k.source_name);
            match sources.get(&key) {
                Some(pin) => pinned_commit(repo, pin, &cfg.release.tag_prefix)?.unwrap_or(commit),
                None => commit,
            }
        } else {
            commit
        };
        let root = trees.get(repo, source_commit)?;
        let dir = root.join(&k.path);
        let kname = format!("{}/{}", k.namespace, k.name);
        let render_err = |message: String| Error::Render {
            rev: rev.to_string(),
            cluster: k.cluster.clone(),
            kustomization: kname.clone(),
            path: k.path.clone(),
            message,
        };
        if !dir.is_dir() {
            return Err(render_err(format!(
                "spec.path does not exist (declared in {})",
                k.file
            )));
        }
        let mut rendered = flotilla_render::flux::build_kustomization(root, &k.spec)
            .map_err(|e| render_err(e.to_string()))?;
        // Inline `postBuild.substitute` variables are known without a cluster;
        // `substituteFrom` reads cluster objects and is left to the controllers.
        if let Some(inline) = k
            .spec
            .pointer("/postBuild/substitute")
            .and_then(Value::as_object)
        {
            let inline: BTreeMap<String, String> = inline
                .iter()
                .map(|(n, v)| {
                    (
                        n.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect();
            let vars = flotilla_render::substitute::collect_vars(&[], Some(&inline))
                .map_err(|e| render_err(e.to_string()))?;
            flotilla_render::substitute::substitute(&mut rendered.objects, &vars, false)
                .map_err(|e| render_err(e.to_string()))?;
        }
        let objects = fleet.entry(k.cluster.clone()).or_default();
        for obj in rendered.objects {
            objects.insert(object_id(&obj), (kname.clone(), obj));
        }
    }
    Ok(fleet)
}

/// A GitRepository's pin: tag or semver range.
#[derive(Debug, Clone)]
enum Pin {
    Tag(String),
    Semver(String),
    Other,
}

/// Finds the Flux Kustomizations of a tree and the pins of its GitRepositories
/// (`namespace/name` → pin).
pub fn discover(
    repo: &Repo,
    commit: ObjectId,
    cfg: &Config,
) -> Result<(Vec<FluxKustomization>, HashMap<String, PinView>)> {
    let mut ks = Vec::new();
    let mut sources = HashMap::new();
    for (file, text) in repo.yaml_files_containing(commit, "toolkit.fluxcd.io")? {
        let docs = flotilla_yaml::parse_documents(&text).map_err(|e| Error::Yaml {
            file: file.clone(),
            line: e.line,
            message: e.message.clone(),
        })?;
        for doc in docs {
            let v = &doc.value;
            let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
            let s = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
            let name = s("/metadata/name").unwrap_or_default();
            let namespace = s("/metadata/namespace").unwrap_or_else(|| "default".into());
            if api.starts_with("source.toolkit.fluxcd.io/") && kind == "GitRepository" {
                let pin = match (
                    s("/spec/ref/commit"),
                    s("/spec/ref/name"),
                    s("/spec/ref/semver"),
                    s("/spec/ref/tag"),
                ) {
                    (None, None, Some(r), _) => Pin::Semver(r),
                    (None, None, None, Some(t)) => Pin::Tag(t),
                    _ => Pin::Other,
                };
                sources.insert(format!("{namespace}/{name}"), PinView(pin));
            } else if api.starts_with("kustomize.toolkit.fluxcd.io/") && kind == "Kustomization" {
                let cluster = match s("/spec/kubeConfig/secretRef/name") {
                    Some(secret) => secret
                        .strip_suffix("-kubeconfig")
                        .unwrap_or(&secret)
                        .to_string(),
                    None => cfg.diff.mgmt_cluster.clone(),
                };
                let source_name = s("/spec/sourceRef/name").unwrap_or_default();
                let source_namespace =
                    s("/spec/sourceRef/namespace").unwrap_or_else(|| namespace.clone());
                let env = s("/metadata/labels/flotilla.dev~1environment")
                    .or_else(|| cfg.diff.envs.get(&source_name).cloned())
                    .unwrap_or_else(|| cfg.diff.default_env.clone());
                let path = s("/spec/path").unwrap_or_default();
                let path = path
                    .trim_start_matches("./")
                    .trim_start_matches('/')
                    .trim_end_matches('/')
                    .to_string();
                ks.push(FluxKustomization {
                    namespace,
                    name,
                    cluster,
                    env,
                    path,
                    source_name,
                    source_namespace,
                    file: file.clone(),
                    spec: v.get("spec").cloned().unwrap_or(Value::Null),
                });
            }
        }
    }
    Ok((ks, sources))
}

/// A GitRepository pin, opaque outside this module.
#[derive(Debug, Clone)]
pub struct PinView(Pin);

/// The commit a pin selects among the local tags, if it selects one.
fn pinned_commit(repo: &Repo, pin: &PinView, prefix: &str) -> Result<Option<ObjectId>> {
    match &pin.0 {
        Pin::Tag(t) => match repo.resolve(&format!("refs/tags/{t}")) {
            Ok(id) => Ok(Some(id)),
            Err(_) => Ok(None),
        },
        Pin::Semver(range) => {
            // Masterminds separates comparators with spaces; the semver crate with commas.
            let joined = range.split_whitespace().collect::<Vec<_>>().join(", ");
            let Ok(req) = semver::VersionReq::parse(&joined) else {
                return Ok(None);
            };
            Ok(repo
                .version_tags(prefix)?
                .into_iter()
                .find(|t| req.matches(&t.version))
                .map(|t| t.commit))
        }
        Pin::Other => Ok(None),
    }
}

/// `group/Kind namespace/name`.
pub fn object_id(obj: &Value) -> String {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or("");
    let api = s("/apiVersion");
    let group = api.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = s("/kind");
    let name = s("/metadata/name");
    let gk = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{group}/{kind}")
    };
    match obj.pointer("/metadata/namespace").and_then(Value::as_str) {
        Some(ns) if !ns.is_empty() => format!("{gk} {ns}/{name}"),
        _ => format!("{gk} {name}"),
    }
}

fn compare(
    old: &BTreeMap<String, (String, Value)>,
    new: &BTreeMap<String, (String, Value)>,
) -> Vec<ObjectDiff> {
    let mut out = Vec::new();
    for (id, (k, o)) in old {
        match new.get(id) {
            None => out.push(ObjectDiff {
                id: id.clone(),
                kustomization: k.clone(),
                change: ObjectChange::Removed { object: masked(o) },
            }),
            Some((k2, n)) if n != o => {
                let mut fields = field_changes(o, n);
                if fields::is_secret(o) || fields::is_secret(n) {
                    fields::mask_changes(&mut fields);
                }
                out.push(ObjectDiff {
                    id: id.clone(),
                    kustomization: k2.clone(),
                    change: ObjectChange::Changed { fields },
                });
            }
            Some(_) => {}
        }
    }
    for (id, (k, n)) in new {
        if !old.contains_key(id) {
            out.push(ObjectDiff {
                id: id.clone(),
                kustomization: k.clone(),
                change: ObjectChange::Added { object: masked(n) },
            });
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

fn masked(obj: &Value) -> Value {
    if fields::is_secret(obj) {
        fields::mask_secret(obj)
    } else {
        obj.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids() {
        assert_eq!(
            object_id(
                &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n"}})
            ),
            "apps/Deployment n/d"
        );
        assert_eq!(
            object_id(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}})),
            "Namespace n"
        );
    }

    #[test]
    fn compare_sorts_and_masks() {
        let entry = |v: Value| ("ns/k".to_string(), v);
        let secret = |d: &str| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": d}});
        let cm = |d: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": d}});
        let old = BTreeMap::from([
            ("Secret s".to_string(), entry(secret("b2xk"))),
            ("ConfigMap c".to_string(), entry(cm("same"))),
            ("ConfigMap gone".to_string(), entry(cm("x"))),
        ]);
        let new = BTreeMap::from([
            ("Secret s".to_string(), entry(secret("bmV3"))),
            ("ConfigMap c".to_string(), entry(cm("same"))),
            ("Secret added".to_string(), entry(secret("c2VjcmV0"))),
        ]);
        let d = compare(&old, &new);
        let ids: Vec<&str> = d.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, ["ConfigMap gone", "Secret added", "Secret s"]);
        let text = serde_json::to_string(&d).unwrap();
        assert!(
            !text.contains("b2xk") && !text.contains("bmV3") && !text.contains("c2VjcmV0"),
            "{text}"
        );
    }
}
