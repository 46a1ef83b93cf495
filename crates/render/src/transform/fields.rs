//! Shared plumbing for the field-spec driven transformers: run the path walker over a
//! resource for every spec that selects it, and set map entries the way kustomize's
//! `SetEntry` does.

use serde_json::{Map, Value};

use crate::error::RenderError;
use crate::fieldspec::{apply_at_path, CreateKind, FieldSpec};
use crate::resource::Resource;

/// Run `set` on every field `specs` reach in `r` (specs whose gvk selects the resource's
/// current gvk). `kind` is what a `create: true` spec creates; `None` never creates.
pub(crate) fn apply_specs(
    transformer: &'static str,
    r: &mut Resource,
    specs: &[FieldSpec],
    kind: Option<CreateKind>,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), RenderError> {
    for fs in specs {
        if !fs.applies_to(r) {
            continue;
        }
        let create = if fs.create { kind } else { None };
        with_object(r, |obj| {
            apply_at_path(obj, &fs.path_segments(), create, set)
        })
        .map_err(|e| {
            RenderError::transform(
                transformer,
                format!("{}: at path '{}': {e}", r.id(), fs.path),
            )
        })?;
    }
    Ok(())
}

/// Give `f` the resource's object as a `Value` and put it back afterwards.
pub(crate) fn with_object<T>(r: &mut Resource, f: impl FnOnce(&mut Value) -> T) -> T {
    let mut v = Value::Object(std::mem::take(&mut r.obj));
    let out = f(&mut v);
    r.obj = match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    out
}

/// A setter that puts `key: value` (a string) into the map the path reaches.
pub(crate) fn set_entry(key: &str, value: &str) -> impl FnMut(&mut Value) -> Result<(), String> {
    let key = key.to_string();
    let value = value.to_string();
    move |node: &mut Value| match node {
        Value::Object(m) => {
            m.insert(key.clone(), Value::String(value.clone()));
            Ok(())
        }
        other => Err(format!(
            "wrong node kind: expected MappingNode but got {}",
            node_kind(other)
        )),
    }
}

/// kustomize's name for the YAML node kind of a value, for messages.
pub(crate) fn node_kind(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "MappingNode",
        Value::Array(_) => "SequenceNode",
        _ => "ScalarNode",
    }
}

/// The text of a scalar as kustomize sees it (`YNode().Value`); `None` for maps and lists.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}
