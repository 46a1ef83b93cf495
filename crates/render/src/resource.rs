//! Resources as the renderer holds them: the object itself plus the build-time facts
//! kustomize keeps in internal annotations (name history, generator behaviour, origin).

use serde_json::{Map, Value};

/// Identity of a resource: group/version/kind, name and namespace.
///
/// `namespace` is `None` for cluster-scoped objects and for namespaced objects that do not
/// name one; kustomize treats a missing namespace and `default` as equal when it compares ids
/// (see [`ResId::same_namespace`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResId {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

impl ResId {
    /// Split an `apiVersion` into (group, version); `v1` has the empty (core) group.
    pub fn split_api_version(api_version: &str) -> (&str, &str) {
        match api_version.rsplit_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        }
    }

    /// `apiVersion` string of this id.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// kustomize's namespace comparison: missing and `default` are the same namespace.
    pub fn same_namespace(a: Option<&str>, b: Option<&str>) -> bool {
        let norm = |n: Option<&str>| match n {
            None | Some("") | Some("default") => "default".to_string(),
            Some(x) => x.to_string(),
        };
        norm(a) == norm(b)
    }

    /// True when both ids name the same object (gvk, name, namespace with `default` folding).
    pub fn same_object(&self, other: &ResId) -> bool {
        self.group == other.group
            && self.version == other.version
            && self.kind == other.kind
            && self.name == other.name
            && Self::same_namespace(self.namespace.as_deref(), other.namespace.as_deref())
    }

    /// True when gvk, name and namespace match ignoring the version (kustomize's GvknEquals
    /// used by generators and patches is version-insensitive only when one side is empty).
    pub fn same_gk_name_ns(&self, other: &ResId) -> bool {
        self.group == other.group
            && self.kind == other.kind
            && self.name == other.name
            && Self::same_namespace(self.namespace.as_deref(), other.namespace.as_deref())
    }
}

impl std::fmt::Display for ResId {
    /// kustomize's `ResId.String()` form, e.g. `apps_v1_Deployment|ns|name`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = if self.group.is_empty() {
            "~G"
        } else {
            &self.group
        };
        let v = if self.version.is_empty() {
            "~V"
        } else {
            &self.version
        };
        let k = if self.kind.is_empty() {
            "~K"
        } else {
            &self.kind
        };
        let ns = match self.namespace.as_deref() {
            None | Some("") => "~X",
            Some(n) => n,
        };
        let name = if self.name.is_empty() {
            "~N"
        } else {
            &self.name
        };
        write!(f, "{g}_{v}_{k}|{ns}|{name}")
    }
}

/// How a generated resource combines with an existing one of the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Behavior {
    #[default]
    Create,
    Merge,
    Replace,
}

impl Behavior {
    pub fn parse(s: &str) -> Option<Behavior> {
        match s {
            "" | "create" => Some(Behavior::Create),
            "merge" => Some(Behavior::Merge),
            "replace" => Some(Behavior::Replace),
            _ => None,
        }
    }
}

/// Facts about a resource that kustomize keeps in `internal.config.kubernetes.io/*` and
/// `kustomize.config.k8s.io/*` annotations; we keep them out of the object.
#[derive(Debug, Clone, Default)]
pub struct BuildMeta {
    /// Ids this resource had before each rename (prefix/suffix, namespace, hash), oldest first.
    /// Together with the current id, these let name references be fixed after renames.
    pub previous_ids: Vec<ResId>,
    /// Name prefixes applied so far, outermost last.
    pub prefixes: Vec<String>,
    /// Name suffixes applied so far, outermost last.
    pub suffixes: Vec<String>,
    /// Set for ConfigMaps and Secrets from a generator: gets a content-hash name suffix.
    pub needs_hash: bool,
    /// Generator behaviour (create, merge, replace); `None` for ordinary resources.
    pub behavior: Option<Behavior>,
    /// Where the resource came from (a file, or the generator that made it), kept when the
    /// top kustomization asks for `buildMetadata`.
    pub origin: Option<Origin>,
    /// The transformers that ran over this resource, for `transformerAnnotations`.
    pub transformations: Vec<Origin>,
}

/// kustomize's `resource.Origin`: a file path relative to the top kustomization, or the
/// kustomization file and built-in plugin kind that produced or changed a resource.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    pub path: String,
    pub configured_in: String,
    pub configured_by_kind: String,
    /// The name and namespace of a plugin config (empty for a kustomization field).
    pub configured_by_name: String,
    pub configured_by_namespace: String,
}

impl Origin {
    pub fn file(path: String) -> Origin {
        Origin {
            path,
            ..Default::default()
        }
    }

    pub fn builtin(configured_in: String, kind: &str) -> Origin {
        Origin {
            configured_in,
            configured_by_kind: kind.to_string(),
            ..Default::default()
        }
    }

    /// The YAML lines of this origin, each prefixed by `indent` (the first by `first`).
    fn write(&self, out: &mut String, first: &str, indent: &str) {
        let mut lead = first;
        if !self.path.is_empty() {
            out.push_str(&format!("{lead}path: {}\n", scalar(&self.path)));
            lead = indent;
        }
        if !self.configured_in.is_empty() {
            out.push_str(&format!(
                "{lead}configuredIn: {}\n",
                scalar(&self.configured_in)
            ));
            out.push_str(&format!(
                "{indent}configuredBy:\n{indent}  apiVersion: builtin\n{indent}  kind: {}\n",
                self.configured_by_kind
            ));
            if !self.configured_by_name.is_empty() {
                out.push_str(&format!(
                    "{indent}  name: {}\n",
                    scalar(&self.configured_by_name)
                ));
            }
            if !self.configured_by_namespace.is_empty() {
                out.push_str(&format!(
                    "{indent}  namespace: {}\n",
                    scalar(&self.configured_by_namespace)
                ));
            }
        }
    }

    /// The `config.kubernetes.io/origin` annotation value.
    pub fn annotation(&self) -> String {
        let mut s = String::new();
        self.write(&mut s, "", "");
        s
    }

    /// The `alpha.config.kubernetes.io/transformations` annotation value.
    pub fn list_annotation(list: &[Origin]) -> String {
        let mut s = String::new();
        for o in list {
            o.write(&mut s, "- ", "  ");
        }
        s
    }
}

/// A string as a YAML scalar: plain when that reads back as the same string, else quoted.
fn scalar(s: &str) -> String {
    let safe = !s.is_empty()
        && !s.starts_with('-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'));
    if safe && flotilla_yaml::parse_one(s).ok() == Some(Value::String(s.to_string())) {
        s.to_string()
    } else {
        flotilla_yaml::to_yaml(&Value::String(s.to_string()))
            .trim_end()
            .to_string()
    }
}

/// One Kubernetes object in a build.
#[derive(Debug, Clone)]
pub struct Resource {
    /// The object, a JSON map with `apiVersion`, `kind`, `metadata`, ...
    pub obj: Map<String, Value>,
    pub meta: BuildMeta,
}

impl Resource {
    pub fn new(obj: Map<String, Value>) -> Resource {
        Resource {
            obj,
            meta: BuildMeta::default(),
        }
    }

    fn str_field<'a>(m: &'a Map<String, Value>, k: &str) -> &'a str {
        m.get(k).and_then(Value::as_str).unwrap_or("")
    }

    pub fn api_version(&self) -> &str {
        Self::str_field(&self.obj, "apiVersion")
    }

    pub fn kind(&self) -> &str {
        Self::str_field(&self.obj, "kind")
    }

    pub fn metadata(&self) -> Option<&Map<String, Value>> {
        self.obj.get("metadata").and_then(Value::as_object)
    }

    /// `metadata`, created when missing.
    pub fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        let entry = self
            .obj
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        match entry {
            Value::Object(m) => m,
            _ => unreachable!("metadata was just made an object"),
        }
    }

    pub fn name(&self) -> &str {
        self.metadata()
            .map(|m| Self::str_field(m, "name"))
            .unwrap_or("")
    }

    pub fn namespace(&self) -> Option<&str> {
        self.metadata()
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn set_name(&mut self, name: &str) {
        self.metadata_mut()
            .insert("name".into(), Value::String(name.to_string()));
    }

    pub fn set_namespace(&mut self, ns: &str) {
        self.metadata_mut()
            .insert("namespace".into(), Value::String(ns.to_string()));
    }

    /// Current id.
    pub fn id(&self) -> ResId {
        let (g, v) = ResId::split_api_version(self.api_version());
        ResId {
            group: g.to_string(),
            version: v.to_string(),
            kind: self.kind().to_string(),
            name: self.name().to_string(),
            namespace: self.namespace().map(str::to_string),
        }
    }

    /// The id the resource had when it was first read or generated.
    pub fn original_id(&self) -> ResId {
        self.meta
            .previous_ids
            .first()
            .cloned()
            .unwrap_or_else(|| self.id())
    }

    /// Record the current id in the history before a rename; call before changing name,
    /// namespace or kind.
    pub fn remember_id(&mut self) {
        let id = self.id();
        if self.meta.previous_ids.last() != Some(&id) {
            self.meta.previous_ids.push(id);
        }
    }

    /// A string map under `metadata` (labels or annotations), if present.
    pub fn string_map(&self, key: &str) -> Option<&Map<String, Value>> {
        self.metadata()
            .and_then(|m| m.get(key))
            .and_then(Value::as_object)
    }

    pub fn labels(&self) -> Option<&Map<String, Value>> {
        self.string_map("labels")
    }

    pub fn annotations(&self) -> Option<&Map<String, Value>> {
        self.string_map("annotations")
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.obj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(v: Value) -> Resource {
        match v {
            Value::Object(m) => Resource::new(m),
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn id_of_core_and_grouped_kinds() {
        let r = res(json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}));
        assert_eq!(r.id().to_string(), "~G_v1_ConfigMap|~X|a");
        let d = res(
            json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"x"}}),
        );
        assert_eq!(d.id().to_string(), "apps_v1_Deployment|x|d");
    }

    #[test]
    fn default_namespace_equals_missing() {
        let a = res(json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}));
        let b = res(
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"default"}}),
        );
        assert!(a.id().same_object(&b.id()));
    }

    #[test]
    fn history_keeps_original_id() {
        let mut r = res(json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}));
        r.remember_id();
        r.set_name("p-a");
        r.remember_id();
        r.set_name("p-a-s");
        assert_eq!(r.original_id().name, "a");
        assert_eq!(r.id().name, "p-a-s");
    }
}
