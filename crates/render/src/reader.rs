//! Turning YAML bytes into resources the way kustomize's resource factory does: documents
//! split, empty ones dropped, `*List` kinds inlined, each object checked for `kind` and
//! `metadata.name`.

use crate::error::RenderError;
use crate::resource::Resource;
use serde_json::{Map, Value};
use std::path::Path;

/// Parse every resource in a YAML stream read from `path`.
pub fn resources_from_str(path: &Path, text: &str) -> Result<Vec<Resource>, RenderError> {
    let docs = flotilla_yaml::parse_documents(text).map_err(|e| RenderError::Yaml {
        path: path.to_path_buf(),
        line: e.line,
        column: e.column,
        message: e.message.clone(),
    })?;
    let mut queue: std::collections::VecDeque<(usize, Value)> =
        docs.into_iter().map(|d| (d.line, d.value)).collect();
    let mut out = Vec::new();
    while let Some((line, v)) = queue.pop_front() {
        let obj = match v {
            Value::Null => continue,
            Value::Object(m) if m.is_empty() => continue,
            Value::Object(m) => m,
            other => {
                return Err(RenderError::Resource {
                    path: path.to_path_buf(),
                    message: format!(
                        "line {line}: expected a Kubernetes object (a mapping), found {}",
                        type_name(&other)
                    ),
                })
            }
        };
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind.ends_with("List") && obj.contains_key("items") {
            match obj.get("items") {
                Some(Value::Array(items)) => {
                    for item in items {
                        queue.push_back((line, item.clone()));
                    }
                    continue;
                }
                Some(Value::Null) | None => continue,
                Some(other) => {
                    return Err(RenderError::Resource {
                        path: path.to_path_buf(),
                        message: format!(
                            "line {line}: expected array in {kind}/items, but found {}",
                            type_name(other)
                        ),
                    })
                }
            }
        }
        out.push(validated(path, line, obj)?);
    }
    Ok(out)
}

fn validated(path: &Path, line: usize, obj: Map<String, Value>) -> Result<Resource, RenderError> {
    let err = |m: String| RenderError::Resource {
        path: path.to_path_buf(),
        message: format!("line {line}: {m}"),
    };
    match obj.get("kind") {
        Some(Value::String(k)) if !k.is_empty() => {}
        _ => return Err(err("missing kind in object".into())),
    }
    let name = obj
        .get("metadata")
        .and_then(Value::as_object)
        .and_then(|m| m.get("name"));
    match name {
        Some(Value::String(n)) if !n.is_empty() => {}
        _ => {
            let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
            return Err(err(format!("missing metadata.name in {kind} object")));
        }
    }
    Ok(Resource::new(obj))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}
