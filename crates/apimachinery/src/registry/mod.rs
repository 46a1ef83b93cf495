//! The resources a server serves: built-in kinds as kube-apiserver 1.32 reports them in
//! discovery, and the kinds CustomResourceDefinitions add, with their schemas.
use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::{Error, Gvk};

mod builtin;
mod crd;
mod subresources;

pub use subresources::SubresourceInfo;

/// The scale subresource's paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleInfo {
    /// JSON path of the desired replicas, e.g. `.spec.replicas`.
    pub spec_replicas_path: String,
    /// JSON path of the observed replicas, e.g. `.status.replicas`.
    pub status_replicas_path: String,
    /// JSON path of the label selector (string form), if any.
    pub label_selector_path: Option<String>,
}

/// Subresources of a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subresources {
    /// Whether `/status` is served.
    pub status: bool,
    /// The scale subresource, when served.
    pub scale: Option<ScaleInfo>,
    /// Other subresources served (e.g. `log`, `exec`, `binding`, `eviction`, `token`, `proxy`,
    /// `approval`, `finalize`, `ephemeralcontainers`, `resize`), for discovery.
    pub other: Vec<String>,
}

/// One additional printer column of a CRD version (or a built-in table column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterColumn {
    /// Column name.
    pub name: String,
    /// OpenAPI type: `string`, `integer`, `number`, `boolean`, `date`.
    pub type_: String,
    /// OpenAPI format, e.g. `int32`, `date-time`, `name`.
    pub format: String,
    /// Description.
    pub description: String,
    /// Priority: 0 shown always, >0 only with `-o wide`.
    pub priority: i64,
    /// JSONPath (without braces), e.g. `.spec.replicas`.
    pub json_path: String,
}

/// One resource of one group version, as discovery reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceInfo {
    /// API group (`""` for core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Plural resource name (the URL segment).
    pub plural: String,
    /// Singular name.
    pub singular: String,
    /// Short names (`kubectl get po`).
    pub short_names: Vec<String>,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Categories (`all`).
    pub categories: Vec<String>,
    /// Verbs as discovery lists them.
    pub verbs: Vec<String>,
    /// Subresources.
    pub subresources: Subresources,
    /// Whether this version is the group's preferred (discovery) version.
    pub preferred: bool,
    /// Whether this is the storage version (CRDs; built-ins: the preferred one).
    pub storage: bool,
    /// Whether the kind comes from a CRD.
    pub custom: bool,
    /// Additional printer columns (CRDs only).
    pub printer_columns: Vec<PrinterColumn>,
    /// The OpenAPI v3 schema of the kind (CRDs: the version's `openAPIV3Schema`; built-ins: the
    /// definition derived from `k8s-openapi`, with `$ref`s into [`crate::schema::definitions`]).
    pub schema: Option<Arc<Value>>,
    /// Whether the kind is deprecated in this version.
    pub deprecated: bool,
}

impl ResourceInfo {
    /// The GVK of this resource.
    pub fn gvk(&self) -> Gvk {
        Gvk::new(&self.group, &self.version, &self.kind)
    }

    /// `group/version` or `version` for core.
    pub fn api_version(&self) -> String {
        self.gvk().api_version()
    }
}

/// All served resources, keyed by group, version and plural.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    resources: BTreeMap<(String, String, String), ResourceInfo>,
    /// CRD name → the keys it added.
    crds: BTreeMap<String, Vec<(String, String, String)>>,
    /// Group order of discovery (built-in groups first in kube-apiserver's order).
    group_order: Vec<String>,
}

impl Registry {
    /// Every built-in kind of kube-apiserver 1.32 Flotilla serves.
    pub fn builtin() -> Registry {
        let mut reg = Registry::default();
        for info in builtin::resources() {
            reg.insert(info);
        }
        reg
    }

    /// Adds or replaces a resource.
    pub fn insert(&mut self, info: ResourceInfo) {
        if !self.group_order.contains(&info.group) {
            self.group_order.push(info.group.clone());
        }
        let key = (
            info.group.clone(),
            info.version.clone(),
            info.plural.clone(),
        );
        self.resources.insert(key, info);
    }

    /// Registers the kinds of a CRD (apiextensions.k8s.io/v1), replacing what an earlier
    /// version of the same CRD added. Returns the resources added (one per served version).
    pub fn add_crd(&mut self, crd: &Value) -> Result<Vec<ResourceInfo>, Error> {
        let name = crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let infos = crd::resources(crd)?;
        self.remove_crd(&name);
        let mut keys = Vec::new();
        for info in &infos {
            keys.push((
                info.group.clone(),
                info.version.clone(),
                info.plural.clone(),
            ));
            self.insert(info.clone());
        }
        self.crds.insert(name, keys);
        Ok(infos)
    }

    /// Removes the kinds a CRD added (by CRD name, `plural.group`).
    pub fn remove_crd(&mut self, name: &str) {
        if let Some(keys) = self.crds.remove(name) {
            for k in keys {
                self.resources.remove(&k);
            }
        }
        let used: Vec<String> = self.resources.keys().map(|k| k.0.clone()).collect();
        self.group_order.retain(|g| used.contains(g));
    }

    /// Looks a resource up by plural, singular, short name or kind (case-insensitive for
    /// kind, singular and short names, as kubectl's REST mapper does).
    pub fn resolve(
        &self,
        group: &str,
        version: &str,
        plural_or_kind: &str,
    ) -> Option<&ResourceInfo> {
        if let Some(r) = self.resources.get(&(
            group.to_string(),
            version.to_string(),
            plural_or_kind.to_string(),
        )) {
            return Some(r);
        }
        let lower = plural_or_kind.to_ascii_lowercase();
        self.in_group_version(group, version).into_iter().find(|r| {
            r.kind == plural_or_kind
                || r.kind.to_ascii_lowercase() == lower
                || r.singular == lower
                || r.plural == lower
                || r.short_names.contains(&lower)
        })
    }

    /// Looks a resource up by its kind.
    pub fn by_kind(&self, group: &str, version: &str, kind: &str) -> Option<&ResourceInfo> {
        self.in_group_version(group, version)
            .into_iter()
            .find(|r| r.kind == kind)
    }

    /// Looks a resource up by GVK.
    pub fn by_gvk(&self, gvk: &Gvk) -> Option<&ResourceInfo> {
        self.by_kind(&gvk.group, &gvk.version, &gvk.kind)
    }

    /// The resources of one group version, sorted by plural.
    pub fn in_group_version(&self, group: &str, version: &str) -> Vec<&ResourceInfo> {
        self.resources
            .values()
            .filter(|r| r.group == group && r.version == version)
            .collect()
    }

    /// Every resource.
    pub fn all(&self) -> impl Iterator<Item = &ResourceInfo> {
        self.resources.values()
    }

    /// The groups in discovery order (`""` first), with their versions (preferred first).
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        for g in &self.group_order {
            let mut versions: Vec<(bool, String)> = Vec::new();
            for r in self.resources.values().filter(|r| &r.group == g) {
                if !versions.iter().any(|(_, v)| *v == r.version) {
                    versions.push((r.preferred, r.version.clone()));
                }
            }
            versions.sort_by(|a, b| {
                b.0.cmp(&a.0)
                    .then_with(|| version_priority(&b.1).cmp(&version_priority(&a.1)))
            });
            out.push((g.clone(), versions.into_iter().map(|(_, v)| v).collect()));
        }
        out
    }

    /// The preferred version of a group.
    pub fn preferred_version(&self, group: &str) -> Option<String> {
        self.groups()
            .into_iter()
            .find(|(g, _)| g == group)
            .and_then(|(_, v)| v.into_iter().next())
    }
}

/// Kubernetes version priority (`v1` > `v1beta2` > `v1beta1` > `v1alpha1` > others), as a
/// sortable key: higher is preferred.
pub fn version_priority(v: &str) -> (u8, u64, u64, String) {
    let re = v.strip_prefix('v').and_then(|rest| {
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let major: u64 = digits.parse().ok()?;
        let tail = &rest[digits.len()..];
        if tail.is_empty() {
            return Some((3, major, 0));
        }
        for (name, level) in [("beta", 2u8), ("alpha", 1u8)] {
            if let Some(n) = tail.strip_prefix(name) {
                let minor: u64 = n.parse().ok()?;
                return Some((level, major, minor));
            }
        }
        None
    });
    match re {
        Some((level, major, minor)) => (level, major, minor, String::new()),
        // Non-Kubernetes versions sort last, alphabetically (reverse so "a" > "b").
        None => (0, 0, 0, v.to_string()),
    }
}

#[cfg(test)]
mod tests;
