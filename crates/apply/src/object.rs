//! Object identity: [`ObjectRef`] read from a manifest or from a Flux inventory id, its
//! Display form (`Deployment/default/podinfo`), and the apply stage of a kind.

use std::fmt;

use serde_json::Value;

use crate::error::ApplyError;

/// Annotation that changes how an object is applied (`Ignore`, `IfNotPresent`, `Merge`,
/// `Override`).
pub const SSA_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/ssa";
/// Annotation that, set to `disabled`, keeps an object from being pruned.
pub const PRUNE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/prune";

/// The identity of one Kubernetes object: group, version, kind, namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    /// API group, `""` for the core group.
    pub group: String,
    /// API version (`v1`).
    pub version: String,
    /// Kind (`Deployment`).
    pub kind: String,
    /// Namespace, `""` if cluster-scoped.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectRef {
    /// Reads `apiVersion`, `kind`, `metadata.name` and `metadata.namespace` of a manifest.
    pub fn from_object(obj: &Value) -> Result<ObjectRef, ApplyError> {
        let field = |ptr: &str| obj.pointer(ptr).and_then(Value::as_str).unwrap_or("");
        let api_version = field("/apiVersion");
        let kind = field("/kind");
        let name = field("/metadata/name");
        let namespace = field("/metadata/namespace");
        let describe = || {
            let kind = if kind.is_empty() { "<no kind>" } else { kind };
            let name = if name.is_empty() { "<no name>" } else { name };
            if namespace.is_empty() {
                format!("{kind}/{name}")
            } else {
                format!("{kind}/{namespace}/{name}")
            }
        };
        let missing = |field: &'static str| ApplyError::MissingField {
            object: describe(),
            field,
        };
        if !obj.is_object() {
            return Err(ApplyError::NotAnObject);
        }
        if api_version.is_empty() {
            return Err(missing("apiVersion"));
        }
        if kind.is_empty() {
            return Err(missing("kind"));
        }
        if name.is_empty() {
            return Err(missing("metadata.name"));
        }
        let (group, version) = split_api_version(api_version);
        Ok(ObjectRef {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }

    /// The Flux (cli-utils) inventory id: `<ns>_<name>_<group>_<kind>`, colons in the name
    /// written as `__`.
    pub fn inventory_id(&self) -> String {
        format!(
            "{}_{}_{}_{}",
            self.namespace,
            self.name.replace(':', "__"),
            self.group,
            self.kind
        )
    }

    /// Parses an inventory id (see [`ObjectRef::inventory_id`]); the version comes from the
    /// inventory entry beside it.
    pub fn from_inventory(id: &str, version: &str) -> Option<ObjectRef> {
        let parts: Vec<&str> = id.split('_').collect();
        if parts.len() < 4 {
            return None;
        }
        let namespace = parts[0];
        let kind = parts[parts.len() - 1];
        let group = parts[parts.len() - 2];
        let name = parts[1..parts.len() - 2].join("_").replace("__", ":");
        if kind.is_empty() || name.is_empty() {
            return None;
        }
        Some(ObjectRef {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name,
        })
    }

    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// True for `apiextensions.k8s.io` CustomResourceDefinitions.
    pub fn is_crd(&self) -> bool {
        self.kind == "CustomResourceDefinition" && self.group == "apiextensions.k8s.io"
    }

    /// True for core Namespaces.
    pub fn is_namespace(&self) -> bool {
        self.kind == "Namespace" && self.group.is_empty()
    }

    /// The apply stage of this object's kind (see [`Stage`]).
    pub fn stage(&self) -> Stage {
        Stage::of(&self.group, &self.kind)
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// Splits `group/version` (core: `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// The three apply stages of Flux's `ApplyAllStaged`, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// CustomResourceDefinitions, Namespaces and ClusterRoles: applied first, then waited for.
    ClusterDefinitions,
    /// Kinds ending in `Class` (StorageClass, IngressClass, …).
    Classes,
    /// Everything else.
    Rest,
}

impl Stage {
    /// The stage of a kind.
    pub fn of(group: &str, kind: &str) -> Stage {
        let definition = (kind == "CustomResourceDefinition" && group == "apiextensions.k8s.io")
            || (kind == "Namespace" && group.is_empty())
            || (kind == "ClusterRole" && group == "rbac.authorization.k8s.io");
        if definition {
            Stage::ClusterDefinitions
        } else if kind.ends_with("Class") {
            Stage::Classes
        } else {
            Stage::Rest
        }
    }
}

/// The `kustomize.toolkit.fluxcd.io/ssa` policy of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsaPolicy {
    /// `Merge`, `Override` or no annotation: apply.
    Apply,
    /// `IfNotPresent`: create only when absent.
    IfNotPresent,
    /// `Ignore`: never apply.
    Ignore,
}

impl SsaPolicy {
    /// Reads the annotation (case-insensitive, as Flux does).
    pub fn of(obj: &Value) -> SsaPolicy {
        match annotation(obj, SSA_ANNOTATION) {
            Some(v) if v.eq_ignore_ascii_case("ignore") => SsaPolicy::Ignore,
            Some(v) if v.eq_ignore_ascii_case("ifnotpresent") => SsaPolicy::IfNotPresent,
            _ => SsaPolicy::Apply,
        }
    }
}

/// An annotation's value.
pub fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_displays() -> Result<(), ApplyError> {
        let d = ObjectRef::from_object(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "podinfo", "namespace": "default"}}))?;
        assert_eq!(d.group, "apps");
        assert_eq!(d.version, "v1");
        assert_eq!(d.api_version(), "apps/v1");
        assert_eq!(d.to_string(), "Deployment/default/podinfo");
        assert_eq!(d.inventory_id(), "default_podinfo_apps_Deployment");
        let ns = ObjectRef::from_object(
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "foo"}}),
        )?;
        assert_eq!(ns.api_version(), "v1");
        assert_eq!(ns.to_string(), "Namespace/foo");
        assert_eq!(ns.inventory_id(), "_foo__Namespace");
        Ok(())
    }

    #[test]
    fn missing_fields_are_named() {
        let cases = [
            (
                json!({"kind": "ConfigMap", "metadata": {"name": "a"}}),
                "apiVersion",
            ),
            (
                json!({"apiVersion": "v1", "metadata": {"name": "a"}}),
                "kind",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
                "metadata.name",
            ),
        ];
        for (obj, field) in cases {
            let Err(e) = ObjectRef::from_object(&obj) else {
                panic!("{obj} parsed");
            };
            let msg = e.to_string();
            assert!(msg.contains(field), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
        assert!(ObjectRef::from_object(&json!([1])).is_err());
    }

    #[test]
    fn inventory_round_trip() {
        let cases = [
            (
                "default_podinfo_apps_Deployment",
                "v1",
                "Deployment/default/podinfo",
            ),
            ("_foo__Namespace", "v1", "Namespace/foo"),
            (
                "_system__controller_rbac.authorization.k8s.io_ClusterRole",
                "v1",
                "ClusterRole/system:controller",
            ),
        ];
        for (id, v, shown) in cases {
            let Some(r) = ObjectRef::from_inventory(id, v) else {
                panic!("{id} not parsed");
            };
            assert_eq!(r.to_string(), shown);
            assert_eq!(r.inventory_id(), id);
            assert_eq!(r.version, v);
        }
        let Some(ns) = ObjectRef::from_inventory("_foo__Namespace", "v1") else {
            panic!("not parsed");
        };
        assert!(ns.is_namespace());
        assert_eq!(ns.group, "");
        for bad in ["", "a_b", "a_b_c", "ns__apps_", "ns___Kind"] {
            assert_eq!(ObjectRef::from_inventory(bad, "v1"), None, "{bad}");
        }
    }

    #[test]
    fn stages() {
        assert_eq!(
            Stage::of("apiextensions.k8s.io", "CustomResourceDefinition"),
            Stage::ClusterDefinitions
        );
        assert_eq!(Stage::of("", "Namespace"), Stage::ClusterDefinitions);
        assert_eq!(
            Stage::of("rbac.authorization.k8s.io", "ClusterRole"),
            Stage::ClusterDefinitions
        );
        assert_eq!(Stage::of("storage.k8s.io", "StorageClass"), Stage::Classes);
        assert_eq!(
            Stage::of("networking.k8s.io", "IngressClass"),
            Stage::Classes
        );
        assert_eq!(Stage::of("apps", "Deployment"), Stage::Rest);
        assert_eq!(
            Stage::of("rbac.authorization.k8s.io", "ClusterRoleBinding"),
            Stage::Rest
        );
        assert!(Stage::ClusterDefinitions < Stage::Classes && Stage::Classes < Stage::Rest);
    }

    #[test]
    fn ssa_policy() {
        let with = |v: &str| json!({"metadata": {"annotations": {SSA_ANNOTATION: v}}});
        assert_eq!(SsaPolicy::of(&with("Ignore")), SsaPolicy::Ignore);
        assert_eq!(
            SsaPolicy::of(&with("IfNotPresent")),
            SsaPolicy::IfNotPresent
        );
        assert_eq!(SsaPolicy::of(&with("Merge")), SsaPolicy::Apply);
        assert_eq!(SsaPolicy::of(&with("Override")), SsaPolicy::Apply);
        assert_eq!(SsaPolicy::of(&json!({"metadata": {}})), SsaPolicy::Apply);
    }
}
