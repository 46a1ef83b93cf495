//! A custom OpenAPI schema (`openapi: {path: ...}` in a kustomization) as kyaml's
//! `openapi` package reads it, for strategic-merge list metadata of custom kinds.
//!
//! kustomize v5.5.0 keeps one schema for the whole build (a process global):
//! - the file is JSON when its first byte is `{`, YAML otherwise; only `definitions` is
//!   used here (kyaml also reads `paths` for namespace scope, which Flotilla does not);
//! - a definition with `x-kubernetes-group-version-kind` is the root schema of each
//!   listed `apiVersion`/`kind`;
//! - `properties` (or a schema-valued `additionalProperties`) give a field's schema,
//!   `items` the elements of a `type: array` field, `$ref: '#/definitions/<name>'` is
//!   followed (a schema with `$ref` is replaced by its target, siblings included);
//! - a list merges element-wise only when `x-kubernetes-patch-strategy` contains
//!   `merge`; its keys are `x-kubernetes-list-map-keys` when present, else
//!   `x-kubernetes-patch-merge-key` (`x-kubernetes-list-type` alone does nothing);
//!   extension keys match case-insensitively (go-openapi lower-cases them);
//! - the custom schema *replaces* the built-in Kubernetes 1.21.2 one, unless the
//!   built-in one was already loaded by an earlier strategic merge of the same build
//!   (kyaml then adds the custom definitions to it): see [`CustomSchema::with_builtin`].

use std::collections::HashMap;

use serde_json::{Map, Value};

/// A parsed custom schema.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomSchema {
    definitions: Map<String, Value>,
    /// `(apiVersion, kind)` → definition name.
    by_type: HashMap<(String, String), String>,
    keep_builtin: bool,
}

/// Follow `$ref`s at most this many times (kyaml loops forever on a cycle).
const MAX_REFS: usize = 64;

impl CustomSchema {
    /// Parse schema text (JSON when it starts with `{`, else YAML).
    pub fn parse(text: &str) -> Result<CustomSchema, String> {
        if text.is_empty() {
            return Err("unexpected end of JSON input".to_string());
        }
        let doc: Value = if text.as_bytes().first() == Some(&b'{') {
            serde_json::from_str(text).map_err(|e| e.to_string())?
        } else {
            flotilla_yaml::parse_one(text).map_err(|e| e.message.clone())?
        };
        let definitions = match &doc {
            Value::Object(m) => match m.get("definitions") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(d)) => d.clone(),
                Some(_) => return Err("definitions must be a map".to_string()),
            },
            Value::Null => Map::new(),
            _ => return Err("an OpenAPI document must be a map".to_string()),
        };
        let mut by_type = HashMap::new();
        for (name, def) in &definitions {
            let Some(gvks) = def
                .as_object()
                .and_then(|d| extension(d, "x-kubernetes-group-version-kind"))
                .and_then(Value::as_array)
            else {
                continue;
            };
            for g in gvks {
                let field = |k: &str| g.get(k).and_then(Value::as_str);
                let (Some(version), Some(kind)) = (field("version"), field("kind")) else {
                    continue;
                };
                let api_version = match field("group") {
                    Some(group) if !group.is_empty() => format!("{group}/{version}"),
                    _ => version.to_string(),
                };
                by_type.insert((api_version, kind.to_string()), name.clone());
            }
        }
        Ok(CustomSchema {
            definitions,
            by_type,
            keep_builtin: false,
        })
    }

    /// Whether the built-in schema stays in use for kinds this one does not define
    /// (kyaml's behaviour when the built-in schema was loaded before this one was set).
    pub fn with_builtin(mut self, keep: bool) -> CustomSchema {
        self.keep_builtin = keep;
        self
    }

    pub fn keeps_builtin(&self) -> bool {
        self.keep_builtin
    }

    /// The root schema of a resource type, if this schema defines it.
    pub(crate) fn for_resource(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Option<&Map<String, Value>> {
        let name = self
            .by_type
            .get(&(api_version.to_string(), kind.to_string()))?;
        self.definitions.get(name)?.as_object()
    }

    /// Follow `$ref`s from `node`; `None` when a reference does not resolve.
    pub(crate) fn resolve<'a>(&'a self, mut node: &'a Value) -> Option<&'a Map<String, Value>> {
        for _ in 0..MAX_REFS {
            let m = node.as_object()?;
            match m.get("$ref").and_then(Value::as_str) {
                Some(r) if !r.is_empty() => node = self.definition(r)?,
                _ => return Some(m),
            }
        }
        None
    }

    /// A `#/definitions/<name>` reference (JSON pointer escapes honoured).
    fn definition(&self, reference: &str) -> Option<&Value> {
        let name = reference.strip_prefix("#/definitions/")?;
        if name.contains('/') {
            return None;
        }
        self.definitions
            .get(&name.replace("~1", "/").replace("~0", "~"))
    }

    /// `ResourceSchema.Field`.
    pub(crate) fn field<'a>(
        &'a self,
        node: &'a Map<String, Value>,
        name: &str,
    ) -> Option<&'a Map<String, Value>> {
        let child = match node.get("properties").and_then(|p| p.get(name)) {
            Some(c) => c,
            None => node.get("additionalProperties").filter(|a| a.is_object())?,
        };
        self.resolve(child)
    }

    /// `ResourceSchema.Elements`: only for `type: array` with an `items` schema.
    pub(crate) fn elements<'a>(
        &'a self,
        node: &'a Map<String, Value>,
    ) -> Option<&'a Map<String, Value>> {
        let is_array = match node.get("type") {
            Some(Value::String(t)) => t == "array",
            Some(Value::Array(ts)) => ts.len() == 1 && ts[0] == "array",
            _ => false,
        };
        if !is_array {
            return None;
        }
        self.resolve(node.get("items").filter(|i| i.is_object())?)
    }
}

/// `PatchStrategyAndKeyList` of a custom schema node.
pub(crate) fn strategy_and_keys(node: &Map<String, Value>) -> (String, Vec<String>) {
    let Some(strategy) = extension(node, "x-kubernetes-patch-strategy").and_then(Value::as_str)
    else {
        return (String::new(), Vec::new());
    };
    if let Some(Value::Array(keys)) = extension(node, "x-kubernetes-list-map-keys") {
        let keys = keys
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        return (strategy.to_string(), keys);
    }
    let keys = extension(node, "x-kubernetes-patch-merge-key")
        .and_then(Value::as_str)
        .map(|k| vec![k.to_string()])
        .unwrap_or_default();
    (strategy.to_string(), keys)
}

/// An `x-` extension, matched case-insensitively.
fn extension<'a>(node: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    node.get(key).or_else(|| {
        node.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r##"{"definitions": {
      "com.example.v1.Widget": {
        "type": "object",
        "properties": {
          "spec": {"$ref": "#/definitions/com.example.v1.WidgetSpec"}
        },
        "x-kubernetes-group-version-kind": [
          {"group": "example.com", "kind": "Widget", "version": "v1"},
          {"group": "", "kind": "Gadget", "version": "v1"}
        ]
      },
      "com.example.v1.WidgetSpec": {
        "properties": {
          "parts": {"type": "array", "items": {"$ref": "#/definitions/com.example.v1.Part"},
                    "X-Kubernetes-Patch-Strategy": "merge",
                    "x-kubernetes-patch-merge-key": "name"},
          "ports": {"type": ["array"], "items": {"type": "object"},
                    "x-kubernetes-patch-strategy": "merge,retainKeys",
                    "x-kubernetes-list-map-keys": ["port", "protocol"],
                    "x-kubernetes-patch-merge-key": "port"},
          "tags": {"type": "array", "x-kubernetes-list-type": "map",
                   "x-kubernetes-list-map-keys": ["k"]},
          "labels": {"additionalProperties": {"$ref": "#/definitions/missing"}}
        }
      },
      "com.example.v1.Part": {"properties": {"sub": {"type": "array",
        "x-kubernetes-patch-strategy": "merge"}}}
    }}"##;

    #[test]
    fn lookup_by_gvk_and_path() {
        let s = CustomSchema::parse(SCHEMA).unwrap();
        assert!(s.for_resource("example.com/v1", "Widget").is_some());
        assert!(s.for_resource("v1", "Gadget").is_some());
        assert!(s.for_resource("example.com/v2", "Widget").is_none());
        assert!(s.for_resource("apps/v1", "Deployment").is_none());

        let root = s.for_resource("example.com/v1", "Widget").unwrap();
        let spec = s.field(root, "spec").unwrap();
        let parts = s.field(spec, "parts").unwrap();
        assert_eq!(
            strategy_and_keys(parts),
            ("merge".to_string(), vec!["name".to_string()])
        );
        let part = s.elements(parts).unwrap();
        let sub = s.field(part, "sub").unwrap();
        assert_eq!(strategy_and_keys(sub), ("merge".to_string(), vec![]));

        let ports = s.field(spec, "ports").unwrap();
        assert_eq!(
            strategy_and_keys(ports),
            (
                "merge,retainKeys".to_string(),
                vec!["port".to_string(), "protocol".to_string()]
            )
        );
        assert!(s.elements(ports).is_some());
        // list-type/list-map-keys without a patch strategy are not merge metadata
        let tags = s.field(spec, "tags").unwrap();
        assert_eq!(strategy_and_keys(tags), (String::new(), vec![]));
        assert!(s.elements(tags).is_none());
        // an unresolvable reference gives no schema
        let labels = s.field(spec, "labels");
        assert!(labels.is_some_and(|l| s.field(l, "x").is_none()));
        assert!(s.field(spec, "nope").is_none());
    }

    #[test]
    fn yaml_schema_and_errors() {
        let s = CustomSchema::parse(
            "# comment\ndefinitions:\n  a.v1.K:\n    x-kubernetes-group-version-kind:\n    - {group: a, version: v1, kind: K}\n",
        )
        .unwrap();
        assert!(s.for_resource("a/v1", "K").is_some());
        assert!(!s.keeps_builtin());
        assert!(s.with_builtin(true).keeps_builtin());
        assert!(CustomSchema::parse("{not json").is_err());
        assert!(CustomSchema::parse("definitions: [1]").is_err());
        assert!(CustomSchema::parse("- a").is_err());
        assert!(CustomSchema::parse("").is_err());
        assert_eq!(
            CustomSchema::parse("# only a comment\n").unwrap(),
            CustomSchema::default()
        );
    }
}
