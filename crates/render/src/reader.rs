//! Turning YAML bytes into resources the way kustomize's resource factory does: documents
//! split, empty ones dropped, `*List` kinds inlined, each object checked for `kind` and
//! `metadata.name`.

use crate::error::RenderError;
use crate::resource::Resource;
use serde_json::{Map, Value};
use std::path::Path;

/// Split a stream into documents the way kyaml's `ByteReader` does before parsing: on lines
/// that start with `---` (after a newline), where the rest of the line may only be blank or a
/// comment. Returns each chunk with the 1-based line it starts on.
pub fn split_documents(text: &str) -> Result<Vec<(usize, String)>, String> {
    let text = text.replace("\r\n", "\n");
    let mut docs = Vec::new();
    if text.is_empty() {
        return Ok(docs);
    }
    let bytes = text.as_bytes();
    let mut prev = 0usize;
    let mut prev_line = 1usize;
    let mut line = 1usize;
    let mut i = 0usize;
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            // A separator is "\n---" + rest of line + "\n".
            if text[i + 1..].starts_with("---") {
                if let Some(end) = text[i + 1..].find('\n') {
                    let sep_end = i + 1 + end;
                    let rest = text[i + 4..sep_end].trim();
                    if !rest.is_empty() && !rest.starts_with('#') {
                        return Err(format!(
                            "line {}: invalid document separator: {}",
                            line + 1,
                            text[i + 1..sep_end].trim()
                        ));
                    }
                    docs.push((prev_line, text[prev..i].to_string() + "\n"));
                    prev = sep_end + 1;
                    prev_line = line + 2;
                    line += 1;
                    i = sep_end + 1;
                    line += 1;
                    continue;
                }
            }
            line += 1;
        }
        i += 1;
    }
    docs.push((prev_line, text[prev..].to_string()));
    Ok(docs)
}

/// Parse every resource in a YAML stream read from `path`.
pub fn resources_from_str(path: &Path, text: &str) -> Result<Vec<Resource>, RenderError> {
    let chunks = split_documents(text).map_err(|m| RenderError::Resource {
        path: path.to_path_buf(),
        message: m,
    })?;
    let mut docs = Vec::new();
    for (start, chunk) in chunks {
        // kyaml decodes one document per chunk.
        let parsed = flotilla_yaml::parse_documents(&chunk).map_err(|e| RenderError::Yaml {
            path: path.to_path_buf(),
            line: e.line + start - 1,
            column: e.column,
            message: e.message.clone(),
        })?;
        if let Some(d) = parsed.into_iter().next() {
            docs.push(flotilla_yaml::Document {
                line: d.line + start - 1,
                value: d.value,
            });
        }
    }
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
