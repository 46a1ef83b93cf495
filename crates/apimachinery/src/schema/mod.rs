//! Schemas of the kinds: OpenAPI definitions of the built-in types (derived from `k8s-openapi`,
//! Kubernetes 1.32) with the patch and list metadata kube-apiserver publishes, and [`Node`], a
//! walker over a schema that follows `$ref`s, used by patching, apply and validation alike.
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use crate::{Gvk, Registry};

mod builtin;
mod patch_meta;

pub use builtin::BUILTIN_KINDS;

/// The `$ref` prefix of definitions (OpenAPI v2 style).
pub const REF_PREFIX: &str = "#/definitions/";

static EMPTY: Value = Value::Null;

/// The OpenAPI definitions of the built-in types, keyed by their Kubernetes definition name
/// (`io.k8s.api.apps.v1.Deployment`), with `$ref`s of the form `#/definitions/NAME`.
pub fn definitions() -> &'static Map<String, Value> {
    static DEFS: OnceLock<Map<String, Value>> = OnceLock::new();
    DEFS.get_or_init(|| {
        let mut defs = builtin::generate();
        annotate(&mut defs);
        defs
    })
}

/// Adds the patch/list metadata and `x-kubernetes-group-version-kind` to the definitions.
fn annotate(defs: &mut Map<String, Value>) {
    for (def, field, strategy, key, list_type, map_keys) in patch_meta::LISTS {
        let name = patch_meta::full_name(def);
        let Some(prop) = defs
            .get_mut(&name)
            .and_then(|d| d.get_mut("properties"))
            .and_then(|p| p.get_mut(*field))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if !strategy.is_empty() {
            prop.insert("x-kubernetes-patch-strategy".into(), json!(strategy));
        }
        if !key.is_empty() {
            prop.insert("x-kubernetes-patch-merge-key".into(), json!(key));
        }
        if !list_type.is_empty() {
            prop.insert("x-kubernetes-list-type".into(), json!(list_type));
        }
        if !map_keys.is_empty() {
            prop.insert("x-kubernetes-list-map-keys".into(), json!(map_keys));
        }
    }
    for def in patch_meta::ATOMIC_STRUCTS {
        if let Some(d) = defs
            .get_mut(&patch_meta::full_name(def))
            .and_then(Value::as_object_mut)
        {
            d.insert("x-kubernetes-map-type".into(), json!("atomic"));
        }
    }
    for (group, version, kind, def) in BUILTIN_KINDS {
        if let Some(d) = defs.get_mut(*def).and_then(Value::as_object_mut) {
            d.insert(
                "x-kubernetes-group-version-kind".into(),
                json!([{"group": group, "kind": kind, "version": version}]),
            );
        }
    }
}

/// The definition name of a built-in kind.
pub fn builtin_definition(gvk: &Gvk) -> Option<&'static str> {
    BUILTIN_KINDS
        .iter()
        .find(|(g, v, k, _)| *g == gvk.group && *v == gvk.version && *k == gvk.kind)
        .map(|(_, _, _, d)| *d)
}

/// The schema root of a kind, if the registry knows one.
pub fn of_kind<'a>(reg: &'a Registry, gvk: &Gvk) -> Option<Node<'a>> {
    reg.by_gvk(gvk)
        .and_then(|r| r.schema.as_deref())
        .map(Node::new)
}

/// The schema root of a kind: the registry's, else the built-in definition of that GVK, else
/// an unknown schema (every list atomic, every field granular).
pub fn root_for<'a>(reg: &'a Registry, gvk: &Gvk) -> Node<'a> {
    of_kind(reg, gvk)
        .or_else(|| {
            builtin_definition(gvk)
                .and_then(|d| definitions().get(d))
                .map(Node::new)
        })
        .unwrap_or_else(Node::unknown)
}

/// How a list merges (structured-merge-diff's element relationship).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListKind {
    /// Replaced as a whole.
    Atomic,
    /// A set of scalars.
    Set,
    /// A map keyed by these fields of its elements.
    Map(Vec<String>),
}

/// A node of a schema: the schema as written at the use site (`raw`, which may be a `$ref` with
/// extensions beside it) and the schema it resolves to.
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    raw: &'a Value,
    resolved: &'a Value,
    name: Option<&'a str>,
}

fn resolve(v: &Value) -> (&Value, Option<&str>) {
    let mut cur = v;
    let mut def = None;
    for _ in 0..8 {
        if let Some(r) = cur.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().unwrap_or_default();
            match definitions().get_key_value(name) {
                Some((k, d)) => {
                    cur = d;
                    def = Some(k.as_str());
                }
                None => return (&EMPTY, None),
            }
        } else if let Some([one]) = cur
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            if cur.get("properties").is_none() && cur.get("type").is_none() {
                cur = one;
            } else {
                return (cur, def);
            }
        } else {
            return (cur, def);
        }
    }
    (cur, def)
}

impl<'a> Node<'a> {
    /// A node for a schema value.
    pub fn new(v: &'a Value) -> Node<'a> {
        let (resolved, name) = resolve(v);
        Node {
            raw: v,
            resolved,
            name,
        }
    }

    /// A node that knows nothing (unknown schema).
    pub fn unknown() -> Node<'a> {
        Node {
            raw: &EMPTY,
            resolved: &EMPTY,
            name: None,
        }
    }

    /// The definition name the node resolved through (`io.k8s.api.apps.v1.DeploymentSpec`).
    pub fn definition(&self) -> Option<&'a str> {
        self.name
    }

    /// The resolved schema.
    pub fn schema(&self) -> &'a Value {
        self.resolved
    }

    /// An extension or keyword, looked up at the use site first, then in the resolved schema.
    pub fn ext(&self, key: &str) -> Option<&'a Value> {
        self.raw.get(key).or_else(|| self.resolved.get(key))
    }

    /// Whether the schema is empty (unknown).
    pub fn is_unknown(&self) -> bool {
        self.resolved.as_object().is_none_or(|m| m.is_empty())
    }

    /// The `type`.
    pub fn type_name(&self) -> Option<&'a str> {
        self.ext("type").and_then(Value::as_str)
    }

    /// Declared properties.
    pub fn properties(&self) -> Option<&'a Map<String, Value>> {
        self.resolved.get("properties").and_then(Value::as_object)
    }

    /// The schema of a field: a declared property, else the `additionalProperties` schema.
    pub fn field(&self, name: &str) -> Option<Node<'a>> {
        if let Some(p) = self.properties().and_then(|p| p.get(name)) {
            return Some(Node::new(p));
        }
        self.additional()
    }

    /// The `additionalProperties` schema (a map's values), if any.
    pub fn additional(&self) -> Option<Node<'a>> {
        match self.resolved.get("additionalProperties") {
            Some(v @ Value::Object(_)) => Some(Node::new(v)),
            Some(Value::Bool(true)) => Some(Node::unknown()),
            _ => None,
        }
    }

    /// The `items` schema of a list.
    pub fn items(&self) -> Option<Node<'a>> {
        self.resolved.get("items").map(Node::new)
    }

    /// `x-kubernetes-preserve-unknown-fields: true`.
    pub fn preserves_unknown(&self) -> bool {
        self.ext("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
    }

    /// `x-kubernetes-int-or-string: true`.
    pub fn int_or_string(&self) -> bool {
        self.ext("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
    }

    /// `x-kubernetes-embedded-resource: true`.
    pub fn embedded_resource(&self) -> bool {
        self.ext("x-kubernetes-embedded-resource") == Some(&Value::Bool(true))
    }

    /// The patch strategy (`merge`, `replace`, `retainKeys`, `merge,retainKeys`) or `""`.
    pub fn patch_strategy(&self) -> &'a str {
        self.ext("x-kubernetes-patch-strategy")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The patch merge key.
    pub fn merge_key(&self) -> Option<&'a str> {
        self.ext("x-kubernetes-patch-merge-key")
            .and_then(Value::as_str)
    }

    /// Whether a struct/map is `x-kubernetes-map-type: atomic`.
    pub fn atomic_map(&self) -> bool {
        self.ext("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic")
    }

    /// How a list merges, as structured-merge-diff derives it from the OpenAPI extensions
    /// (`x-kubernetes-list-type`, else the patch strategy and merge key).
    pub fn list_kind(&self) -> ListKind {
        match self.ext("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("atomic") => return ListKind::Atomic,
            Some("set") => return ListKind::Set,
            Some("map") => {
                let keys: Vec<String> = self
                    .ext("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|k| k.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                return ListKind::Map(keys);
            }
            _ => {}
        }
        if self.patch_strategy().split(',').any(|s| s == "merge") {
            return match self.merge_key() {
                Some(k) => ListKind::Map(vec![k.to_string()]),
                None => ListKind::Set,
            };
        }
        ListKind::Atomic
    }
}

#[cfg(test)]
mod tests;
