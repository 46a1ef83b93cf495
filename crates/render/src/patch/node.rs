//! A small arena of YAML-like nodes with pointer semantics, mirroring the
//! `yaml.Node` graph that kyaml's merge walker mutates in place.
//!
//! kyaml's strategic merge shares and mutates nodes (a merged list element *is*
//! the destination element, `SetYNode` copies one node's content into another
//! node's slot).  Several observable kustomize behaviours depend on that
//! aliasing, so the merge runs on this arena instead of on owned
//! `serde_json::Value`s: a node is addressed by its [`Id`], maps keep their
//! entries as `[key, value, key, value, ...]` like `yaml.Node.Content`.

use serde_json::{Map, Value};

use super::PatchError;

/// Index of a node in the [`Arena`].
pub(crate) type Id = usize;

/// Node kinds (YAML mapping, sequence, scalar).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Map,
    Seq,
    Scalar,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Map => "MappingNode",
            Kind::Seq => "SequenceNode",
            Kind::Scalar => "ScalarNode",
        }
    }
}

/// One node.  Scalars carry their JSON value; `keep_null` marks the untagged
/// `null` scalar kyaml creates to preserve an explicit null of the destination.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    pub content: Vec<Id>,
    pub value: Value,
    pub keep_null: bool,
}

/// Owner of all nodes of one merge.
#[derive(Default, Debug)]
pub(crate) struct Arena {
    nodes: Vec<Node>,
}

impl Arena {
    pub(crate) fn push(&mut self, node: Node) -> Id {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    pub(crate) fn kind(&self, id: Id) -> Kind {
        self.nodes[id].kind
    }

    pub(crate) fn content(&self, id: Id) -> Vec<Id> {
        self.nodes[id].content.clone()
    }

    pub(crate) fn set_content(&mut self, id: Id, content: Vec<Id>) {
        self.nodes[id].content = content;
    }

    pub(crate) fn scalar(&mut self, value: Value) -> Id {
        self.push(Node {
            kind: Kind::Scalar,
            content: Vec::new(),
            value,
            keep_null: false,
        })
    }

    pub(crate) fn new_seq(&mut self) -> Id {
        self.push(Node {
            kind: Kind::Seq,
            content: Vec::new(),
            value: Value::Null,
            keep_null: false,
        })
    }

    /// `*dst = *src` (kyaml `SetYNode`): `dst` takes `src`'s kind and content.
    pub(crate) fn copy_into(&mut self, dst: Id, src: Id) {
        if dst != src {
            self.nodes[dst] = self.nodes[src].clone();
        }
    }

    /// Builds nodes for a JSON value.
    pub(crate) fn insert_value(&mut self, v: &Value) -> Id {
        match v {
            Value::Object(m) => {
                let mut content = Vec::with_capacity(m.len() * 2);
                for (k, val) in m {
                    content.push(self.scalar(Value::String(k.clone())));
                    content.push(self.insert_value(val));
                }
                self.push(Node {
                    kind: Kind::Map,
                    content,
                    value: Value::Null,
                    keep_null: false,
                })
            }
            Value::Array(a) => {
                let content = a.iter().map(|e| self.insert_value(e)).collect();
                self.push(Node {
                    kind: Kind::Seq,
                    content,
                    value: Value::Null,
                    keep_null: false,
                })
            }
            other => self.scalar(other.clone()),
        }
    }

    /// Converts a node back to JSON.
    pub(crate) fn to_value(&self, id: Id) -> Value {
        let n = &self.nodes[id];
        match n.kind {
            Kind::Map => {
                let mut m = Map::new();
                for pair in n.content.chunks(2) {
                    if let [k, v] = pair {
                        m.insert(self.text(*k), self.to_value(*v));
                    }
                }
                Value::Object(m)
            }
            Kind::Seq => Value::Array(n.content.iter().map(|c| self.to_value(*c)).collect()),
            Kind::Scalar => n.value.clone(),
        }
    }

    /// The scalar text (`yaml.Node.Value`); empty for maps and sequences.
    pub(crate) fn text(&self, id: Id) -> String {
        let n = &self.nodes[id];
        if n.kind != Kind::Scalar {
            return String::new();
        }
        scalar_text(&n.value)
    }

    /// `IsTaggedNull`: a `!!null` scalar.
    pub(crate) fn is_tagged_null(&self, id: Id) -> bool {
        let n = &self.nodes[id];
        n.kind == Kind::Scalar && n.value.is_null() && !n.keep_null
    }

    /// `IsMissingOrNull`.
    pub(crate) fn missing_or_null(&self, id: Option<Id>) -> bool {
        id.is_none_or(|i| self.is_tagged_null(i))
    }

    /// `IsEmptyMap`.
    pub(crate) fn is_empty_map(&self, id: Id) -> bool {
        let n = &self.nodes[id];
        n.kind == Kind::Map && n.content.is_empty()
    }

    /// `IsNilOrEmpty` of a field value: null, empty map or empty sequence.
    pub(crate) fn nil_or_empty(&self, id: Id) -> bool {
        let n = &self.nodes[id];
        self.is_tagged_null(id) || (n.kind != Kind::Scalar && n.content.is_empty())
    }

    /// Value node of a map field (`RNode.Field`); `None` for non-maps.
    pub(crate) fn field(&self, map: Id, name: &str) -> Option<Id> {
        let n = &self.nodes[map];
        if n.kind != Kind::Map {
            return None;
        }
        n.content.chunks(2).find_map(|pair| match pair {
            [k, v] if self.text(*k) == name => Some(*v),
            _ => None,
        })
    }

    /// Field names of a map, in order; empty for non-maps.
    pub(crate) fn field_names(&self, map: Option<Id>) -> Vec<String> {
        match map {
            Some(m) if self.kind(m) == Kind::Map => self.nodes[m]
                .content
                .iter()
                .step_by(2)
                .map(|k| self.text(*k))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Removes a field from a map (`yaml.Clear`).
    pub(crate) fn clear_field(&mut self, map: Id, name: &str) {
        let content = self.content(map);
        if let Some(pos) = content
            .iter()
            .step_by(2)
            .position(|k| self.text(*k) == name)
        {
            let mut c = content;
            c.drain(pos * 2..pos * 2 + 2);
            self.set_content(map, c);
        }
    }

    /// kyaml `FieldSetter{Name, Value}` on a map: clears for nil / `!!null`,
    /// overwrites an existing value node in place, or appends the field.
    pub(crate) fn set_field(
        &mut self,
        map: Id,
        name: &str,
        val: Option<Id>,
    ) -> Result<(), PatchError> {
        let Some(val) = val.filter(|v| !self.is_tagged_null(*v)) else {
            if self.kind(map) == Kind::Map {
                self.clear_field(map, name);
            }
            return Ok(());
        };
        if self.kind(map) != Kind::Map {
            return Err(PatchError::Smp {
                path: name.to_string(),
                msg: format!(
                    "wrong node kind: expected MappingNode but got {}",
                    self.kind(map).name()
                ),
            });
        }
        if let Some(existing) = self.field(map, name) {
            self.copy_into(existing, val);
        } else {
            let key = self.scalar(Value::String(name.to_string()));
            self.nodes[map].content.push(key);
            self.nodes[map].content.push(val);
        }
        Ok(())
    }
}

/// Text of a JSON scalar as YAML would spell it.
pub(crate) fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        Value::Array(_) | Value::Object(_) => String::new(),
    }
}

/// Resolves an untagged plain scalar's text (YAML 1.2 core-ish) to JSON.
pub(crate) fn resolve_plain(text: &str) -> Value {
    match text {
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        "null" | "Null" | "NULL" | "~" | "" => return Value::Null,
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::from(i);
    }
    let looks_float = text.bytes().any(|b| b.is_ascii_digit())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
    if looks_float {
        if let Some(n) = text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            return Value::Number(n);
        }
    }
    Value::String(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roundtrip_preserves_order_and_values() {
        let v = json!({"b": 1, "a": [true, null, "x", {"z": 1.5}]});
        let mut a = Arena::default();
        let id = a.insert_value(&v);
        assert_eq!(a.to_value(id), v);
        let keys: Vec<String> = a.field_names(Some(id));
        assert_eq!(keys, ["b", "a"]);
    }

    #[test]
    fn set_field_overwrites_in_place_and_clears_on_null() {
        let mut a = Arena::default();
        let m = a.insert_value(&json!({"x": 1, "y": 2}));
        let old = a.field(m, "x");
        let two = a.scalar(json!("two"));
        a.set_field(m, "x", Some(two)).unwrap();
        assert_eq!(a.field(m, "x"), old, "existing slot is reused");
        let null = a.scalar(Value::Null);
        a.set_field(m, "y", Some(null)).unwrap();
        let z = a.scalar(json!(3));
        a.set_field(m, "z", Some(z)).unwrap();
        assert_eq!(a.to_value(m), json!({"x": "two", "z": 3}));
    }

    #[test]
    fn plain_scalars_resolve() {
        assert_eq!(resolve_plain("80"), json!(80));
        assert_eq!(resolve_plain("true"), json!(true));
        assert_eq!(resolve_plain("1.5"), json!(1.5));
        assert_eq!(resolve_plain("TCP"), json!("TCP"));
        assert_eq!(scalar_text(&json!(8080)), "8080");
    }
}
