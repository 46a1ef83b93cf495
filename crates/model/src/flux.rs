//! Flux's GitRepository (`source.toolkit.fluxcd.io`) and Kustomization
//! (`kustomize.toolkit.fluxcd.io`): the spec and status fields the controllers use, in the v1
//! shape plus the legacy fields of v1beta1/v1beta2 (see [`crate::convert`]).
use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::meta::{Condition, CrossNamespaceObjectReference, LocalObjectReference, Object};
use crate::meta::{LabelSelector, SecretKeyReference};
use crate::GoDuration;

/// The source API group.
pub const SOURCE_GROUP: &str = "source.toolkit.fluxcd.io";
/// The kustomize API group.
pub const KUSTOMIZE_GROUP: &str = "kustomize.toolkit.fluxcd.io";
/// The annotation `flux reconcile` sets to request a reconciliation now.
pub const REQUESTED_AT_ANNOTATION: &str = "reconcile.fluxcd.io/requestedAt";
/// The owner label naming the Kustomization that applied an object.
pub const OWNER_NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
/// The owner label naming the Kustomization's namespace.
pub const OWNER_NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";
/// Per-object apply policy: `Override`, `Merge`, `IfNotPresent`, `Ignore`.
pub const SSA_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/ssa";
/// Per-object prune opt-out (`disabled`).
pub const PRUNE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/prune";

/// A GitRepository.
pub type GitRepository = Object<GitRepositorySpec, GitRepositoryStatus>;
/// A Kustomization.
pub type Kustomization = Object<KustomizationSpec, KustomizationStatus>;

/// `GitRepository.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositorySpec {
    /// Repository URL (http, https, ssh, file).
    #[serde(default)]
    pub url: String,
    /// Secret with the credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Poll interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<GoDuration>,
    /// Timeout of Git operations (default 60s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
    /// The reference to check out.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<GitRepositoryRef>,
    /// .gitignore-style exclusions overriding the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,
    /// Other GitRepositories' artifacts to include.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<GitRepositoryInclude>,
    /// Check out submodules too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurse_submodules: Option<bool>,
    /// Directories to check out (all when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sparse_checkout: Vec<String>,
    /// Stop reconciling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Signature verification (kept as JSON; Flotilla does not verify yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<Value>,
    /// v1beta1/v1beta2 only, ignored: `go-git` or `libgit2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_implementation: Option<String>,
    /// v1beta1/v1beta2 only, ignored: cross-namespace access list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_from: Option<Value>,
}

impl GitRepositorySpec {
    /// The default Git operation timeout.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

    /// The timeout, 60s when unset.
    pub fn timeout(&self) -> Duration {
        self.timeout
            .map_or(Self::DEFAULT_TIMEOUT, GoDuration::duration)
    }

    /// Whether reconciliation is suspended.
    pub fn suspended(&self) -> bool {
        self.suspend.unwrap_or(false)
    }
}

/// `GitRepository.spec.ref`. Precedence: commit > name > semver > tag > branch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitRepositoryRef {
    /// Branch (default `master` when nothing else is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// SemVer range of tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver: Option<String>,
    /// Full reference name (`refs/heads/main`, `refs/pull/1/head`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Commit SHA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// What a [`GitRepositoryRef`] selects, after precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefSelection<'a> {
    /// A commit (with the branch, tag or name it should be on, if any).
    Commit(&'a str),
    /// A full reference name.
    Name(&'a str),
    /// The highest tag in a SemVer range.
    Semver(&'a str),
    /// A tag.
    Tag(&'a str),
    /// A branch.
    Branch(&'a str),
}

impl GitRepositoryRef {
    /// The reference selected by Flux's precedence; an empty field counts as unset, and no
    /// reference at all means branch `master`.
    pub fn selection(&self) -> RefSelection<'_> {
        fn set(f: &Option<String>) -> Option<&str> {
            f.as_deref().filter(|s| !s.is_empty())
        }
        if let Some(c) = set(&self.commit) {
            RefSelection::Commit(c)
        } else if let Some(n) = set(&self.name) {
            RefSelection::Name(n)
        } else if let Some(s) = set(&self.semver) {
            RefSelection::Semver(s)
        } else if let Some(t) = set(&self.tag) {
            RefSelection::Tag(t)
        } else {
            RefSelection::Branch(set(&self.branch).unwrap_or("master"))
        }
    }
}

/// `GitRepository.spec.include[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryInclude {
    /// The GitRepository to include.
    #[serde(default)]
    pub repository: LocalObjectReference,
    /// Path in the included artifact (its root when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_path: Option<String>,
    /// Path to copy to (the included repository's name when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_path: Option<String>,
}

/// `GitRepository.status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryStatus {
    /// Last observed generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The stored artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// Artifacts of the included repositories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub included_artifacts: Vec<Artifact>,
    /// The `reconcile.fluxcd.io/requestedAt` value last handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    /// The ignore rules the artifact was built with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ignore: Option<String>,
}

/// A source artifact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Path relative to the storage root.
    #[serde(default)]
    pub path: String,
    /// Download URL.
    #[serde(default)]
    pub url: String,
    /// Revision (`main@sha1:<sha>`).
    #[serde(default)]
    pub revision: String,
    /// `sha256:<hex>` of the artifact file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// RFC 3339 time the artifact was stored.
    #[serde(default)]
    pub last_update_time: String,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// v1beta1/v1beta2: SHA-256 hex of the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// `Kustomization.spec` (DESIGN.md §3), with the v1beta1/v1beta2 fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KustomizationSpec {
    /// The source (GitRepository, OCIRepository, Bucket), in another namespace if set.
    #[serde(default)]
    pub source_ref: CrossNamespaceObjectReference,
    /// Path in the artifact (its root when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Reconcile interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<GoDuration>,
    /// Interval after a failure (the interval when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_interval: Option<GoDuration>,
    /// Timeout of build, apply and health checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
    /// Garbage-collect what left the inventory.
    #[serde(default)]
    pub prune: bool,
    /// Wait for every applied object to be ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<bool>,
    /// Objects whose readiness is checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub health_checks: Vec<CrossNamespaceObjectReference>,
    /// Kustomizations that must be Ready first (same namespace unless set).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<DependencyReference>,
    /// Namespace set on every object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_namespace: Option<String>,
    /// Prefix of every name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_prefix: Option<String>,
    /// Suffix of every name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_suffix: Option<String>,
    /// Patches with optional targets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<Patch>,
    /// Image overrides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<Image>,
    /// Kustomize components.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,
    /// Labels and annotations for every object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_metadata: Option<CommonMetadata>,
    /// Variable substitution after the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_build: Option<PostBuild>,
    /// SOPS decryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decryption: Option<Decryption>,
    /// Remote cluster kubeconfig.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_config: Option<KubeConfigReference>,
    /// Service account to impersonate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Recreate objects on immutable-field errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// Stop reconciling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// `MirrorPrune` (default), `Delete`, `WaitForTermination` or `Orphan`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<String>,
    /// v1beta1/v1beta2: strategic merge patches (whole objects).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches_strategic_merge: Vec<Value>,
    /// v1beta1/v1beta2: JSON 6902 patches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches_json6902: Vec<JsonPatch6902>,
    /// v1beta1/v1beta2, ignored: `none`, `client` or `server`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<String>,
}

impl KustomizationSpec {
    /// The interval (zero when unset; the CRD requires it).
    pub fn interval(&self) -> Duration {
        self.interval.map_or(Duration::ZERO, GoDuration::duration)
    }

    /// `retryInterval`, or the interval.
    pub fn retry_interval(&self) -> Duration {
        self.retry_interval
            .map_or_else(|| self.interval(), GoDuration::duration)
    }

    /// `timeout`, else interval − 30s; never below 30s (kustomize-controller's rule).
    pub fn timeout(&self) -> Duration {
        let floor = Duration::from_secs(30);
        let d = match self.timeout {
            Some(t) => t.0,
            None => self.interval().saturating_sub(floor),
        };
        d.max(floor)
    }

    /// Whether reconciliation is suspended.
    pub fn suspended(&self) -> bool {
        self.suspend.unwrap_or(false)
    }

    /// The source's namespace, defaulting to the Kustomization's.
    pub fn source_namespace<'a>(&'a self, own: &'a str) -> &'a str {
        self.source_ref.namespace.as_deref().unwrap_or(own)
    }
}

/// `spec.dependsOn[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencyReference {
    /// Name of the Kustomization.
    #[serde(default)]
    pub name: String,
    /// Its namespace (the dependant's when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// `spec.patches[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patch {
    /// The patch (strategic merge or JSON 6902), YAML or JSON.
    #[serde(default)]
    pub patch: String,
    /// Which objects it applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<PatchSelector>,
}

/// A kustomize patch target selector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchSelector {
    /// API group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// API version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name (regex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace (regex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Label selector string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<String>,
    /// Annotation selector string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation_selector: Option<String>,
}

/// v1beta1/v1beta2 `spec.patchesJson6902[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonPatch6902 {
    /// The operations.
    #[serde(default)]
    pub patch: Vec<Value>,
    /// The target.
    #[serde(default)]
    pub target: PatchSelector,
}

/// `spec.images[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// Image name to match.
    #[serde(default)]
    pub name: String,
    /// Replacement name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    /// Replacement tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_tag: Option<String>,
    /// Replacement digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// `spec.commonMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommonMetadata {
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// `spec.postBuild`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostBuild {
    /// Inline variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub substitute: BTreeMap<String, String>,
    /// Variables from ConfigMaps and Secrets (later entries override earlier ones; inline
    /// `substitute` overrides all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub substitute_from: Vec<SubstituteReference>,
}

/// `spec.postBuild.substituteFrom[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubstituteReference {
    /// `ConfigMap` or `Secret`.
    #[serde(default)]
    pub kind: String,
    /// Name, in the Kustomization's namespace.
    #[serde(default)]
    pub name: String,
    /// A missing object is not an error.
    #[serde(default)]
    pub optional: bool,
}

/// `spec.decryption`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decryption {
    /// `sops`.
    #[serde(default)]
    pub provider: String,
    /// Secret with the keys (`*.agekey`, `*.asc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
}

/// `spec.kubeConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeConfigReference {
    /// Secret holding the kubeconfig: `key`, else `value`, then `value.yaml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyReference>,
}

impl KubeConfigReference {
    /// The Secret keys to try, in order: the given key only, or `value` then `value.yaml`.
    pub fn keys(&self) -> Vec<&str> {
        match self.secret_ref.as_ref().and_then(|r| r.key.as_deref()) {
            Some(k) if !k.is_empty() => vec![k],
            _ => vec!["value", "value.yaml"],
        }
    }
}

/// `Kustomization.status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KustomizationStatus {
    /// Last observed generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The `reconcile.fluxcd.io/requestedAt` value last handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    /// Revision of the last successful apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_revision: Option<String>,
    /// Revision of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision: Option<String>,
    /// The applied objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<Inventory>,
}

/// `status.inventory`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// The entries, sorted by id.
    #[serde(default)]
    pub entries: Vec<InventoryEntry>,
}

/// One applied object: id `<namespace>_<name>_<group>_<kind>` and version `v`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InventoryEntry {
    /// `<namespace>_<name>_<group>_<kind>` (namespace and group empty when none).
    pub id: String,
    /// The object's version.
    pub v: String,
}

impl InventoryEntry {
    /// The entry of an object.
    pub fn new(namespace: &str, name: &str, group: &str, kind: &str, version: &str) -> Self {
        InventoryEntry {
            id: format!("{namespace}_{name}_{group}_{kind}"),
            v: version.to_string(),
        }
    }

    /// `(namespace, name, group, kind)` of the id. Names, namespaces and kinds cannot hold
    /// `_`; a group cannot either, so the split is unambiguous.
    pub fn parts(&self) -> Option<(&str, &str, &str, &str)> {
        let mut it = self.id.splitn(4, '_');
        let parts = (it.next()?, it.next()?, it.next()?, it.next()?);
        (!parts.3.is_empty() && !parts.1.is_empty()).then_some(parts)
    }
}

/// A namespace selector of the v1beta1/v1beta2 `accessFrom` list.
pub type NamespaceSelector = LabelSelector;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ref_precedence() {
        let r = |v: Value| -> GitRepositoryRef { serde_json::from_value(v).unwrap_or_default() };
        assert_eq!(r(json!({})).selection(), RefSelection::Branch("master"));
        assert_eq!(
            r(json!({"branch": "main", "tag": "v1"})).selection(),
            RefSelection::Tag("v1")
        );
        assert_eq!(
            r(json!({"tag": "v1", "semver": "1.x"})).selection(),
            RefSelection::Semver("1.x")
        );
        assert_eq!(
            r(json!({"semver": "1.x", "name": "refs/heads/x"})).selection(),
            RefSelection::Name("refs/heads/x")
        );
        assert_eq!(
            r(json!({"name": "refs/heads/x", "commit": "abc", "branch": "main"})).selection(),
            RefSelection::Commit("abc")
        );
        assert_eq!(
            r(json!({"branch": "", "tag": ""})).selection(),
            RefSelection::Branch("master")
        );
    }

    #[test]
    fn kustomization_defaults() {
        let spec: KustomizationSpec = match serde_json::from_value(json!({
            "interval": "10m", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "main"},
            "unknownField": 1
        })) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(spec.retry_interval(), Duration::from_secs(600));
        assert_eq!(spec.timeout(), Duration::from_secs(570));
        assert_eq!(spec.source_namespace("apps"), "apps");
        let short = KustomizationSpec {
            interval: Some(GoDuration::from_secs(40)),
            ..Default::default()
        };
        assert_eq!(short.timeout(), Duration::from_secs(30));
        let explicit = KustomizationSpec {
            interval: Some(GoDuration::from_secs(600)),
            timeout: Some(GoDuration::from_secs(5)),
            ..Default::default()
        };
        assert_eq!(explicit.timeout(), Duration::from_secs(30));
    }

    #[test]
    fn kubeconfig_keys() {
        let k = KubeConfigReference {
            secret_ref: Some(SecretKeyReference {
                name: "c-kubeconfig".into(),
                key: None,
            }),
        };
        assert_eq!(k.keys(), vec!["value", "value.yaml"]);
        let k = KubeConfigReference {
            secret_ref: Some(SecretKeyReference {
                name: "c-admin-kubeconfig".into(),
                key: Some("kubeconfig".into()),
            }),
        };
        assert_eq!(k.keys(), vec!["kubeconfig"]);
    }

    #[test]
    fn inventory_ids() {
        let e = InventoryEntry::new("", "hello", "", "Namespace", "v1");
        assert_eq!(e.id, "_hello__Namespace");
        assert_eq!(e.parts(), Some(("", "hello", "", "Namespace")));
        let e = InventoryEntry::new("apps", "web", "apps", "Deployment", "v1");
        assert_eq!(e.id, "apps_web_apps_Deployment");
        assert_eq!(e.parts(), Some(("apps", "web", "apps", "Deployment")));
    }
}
