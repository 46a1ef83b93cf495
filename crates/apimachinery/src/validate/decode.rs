//! Decoding errors of built-in kinds: a value the Go type cannot take, reported as
//! `sigs.k8s.io/json` (encoding/json) does inside kube-apiserver's 400 message:
//! `Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string
//! into Go struct field DeploymentSpec.spec.replicas of type int32`.
use serde_json::Value;

use crate::schema::Node;

fn short(def: &str) -> &str {
    def.rsplit('.').next().unwrap_or(def)
}

/// `v1.PodSpec` for `io.k8s.api.core.v1.PodSpec`.
fn go_named(def: &str) -> String {
    let mut it = def.rsplit('.');
    let name = it.next().unwrap_or(def);
    match it.next() {
        Some(pkg) => format!("{pkg}.{name}"),
        None => name.to_string(),
    }
}

fn go_type(node: Node<'_>) -> Option<String> {
    Some(match node.type_name()? {
        "integer" => match node.ext("format").and_then(Value::as_str) {
            Some("int32") => "int32".into(),
            Some("int64") => "int64".into(),
            _ => "int".into(),
        },
        "number" => "float64".into(),
        "boolean" => "bool".into(),
        "string" => match node.ext("format").and_then(Value::as_str) {
            Some("byte") => "[]uint8".into(),
            Some("date-time") => return None,
            _ => "string".into(),
        },
        "array" => format!("[]{}", node.items().and_then(go_type).unwrap_or_default()),
        "object" => match (node.definition(), node.additional()) {
            (Some(d), _) => go_named(d),
            (None, Some(a)) => format!("map[string]{}", go_type(a).unwrap_or_default()),
            (None, None) => return None,
        },
        _ => return None,
    })
}

/// apiextensions `v1.JSON` (CRD `default`, `enum`, `example` values) holds any JSON value.
fn is_free_json(node: Node<'_>) -> bool {
    node.definition()
        .is_some_and(|d| d.ends_with("apiextensions.v1.JSON"))
}

/// How encoding/json names the JSON value in a type error, if `v` does not fit `node`.
fn misfit(v: &Value, node: Node<'_>) -> Option<String> {
    if node.int_or_string() || v.is_null() || is_free_json(node) {
        return None;
    }
    let t = node.type_name()?;
    let fits = match v {
        Value::Null => true,
        Value::Bool(_) => t == "boolean",
        Value::String(_) => t == "string",
        Value::Array(_) => t == "array",
        Value::Object(_) => t == "object",
        Value::Number(n) => match t {
            "number" => true,
            "integer" => n.is_i64() || n.is_u64(),
            _ => false,
        },
    };
    if fits {
        return None;
    }
    Some(match v {
        Value::Bool(_) => "bool".into(),
        Value::String(_) => "string".into(),
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
        Value::Number(n) if t == "integer" => format!("number {n}"),
        Value::Number(_) => "number".into(),
        Value::Null => "null".into(),
    })
}

/// The first type error in `v` (a built-in object whose schema is `root`), as kube-apiserver
/// words it.
pub fn first_type_error(v: &Value, root: Node<'_>, kind: &str, version: &str) -> Option<String> {
    let top = root.definition().map(short).unwrap_or(kind);
    let detail = walk(v, root, top, "")?;
    Some(format!(
        "{kind} in version \"{version}\" cannot be handled as a {kind}: json: {detail}"
    ))
}

fn walk(v: &Value, node: Node<'_>, strukt: &str, path: &str) -> Option<String> {
    if is_free_json(node) {
        return None;
    }
    match v {
        Value::Object(m) => {
            let declared = node.properties();
            for (k, c) in m {
                let Some(child) = node.field(k) else { continue };
                let is_field = declared.is_some_and(|p| p.contains_key(k));
                let cpath = if !is_field {
                    path.to_string()
                } else if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if let Some(what) = misfit(c, child) {
                    let ty = go_type(child)?;
                    return Some(format!(
                        "cannot unmarshal {what} into Go struct field {strukt}.{cpath} of type {ty}"
                    ));
                }
                let inner = child.definition().map(short).unwrap_or(strukt);
                if let Some(e) = walk(c, child, inner, &cpath) {
                    return Some(e);
                }
            }
            None
        }
        Value::Array(a) => {
            let items = node.items()?;
            for c in a {
                if let Some(what) = misfit(c, items) {
                    let ty = go_type(items)?;
                    return Some(format!(
                        "cannot unmarshal {what} into Go struct field {strukt}.{path} of type {ty}"
                    ));
                }
                let inner = items.definition().map(short).unwrap_or(strukt);
                if let Some(e) = walk(c, items, inner, path) {
                    return Some(e);
                }
            }
            None
        }
        _ => None,
    }
}
