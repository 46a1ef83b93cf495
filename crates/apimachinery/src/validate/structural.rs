//! Structural schemas of custom resources (apiextensions-apiserver): pruning of unknown fields,
//! defaulting, and validation with kube-apiserver's messages.
use regex::Regex;
use serde_json::{Map, Value};

use super::join;
use crate::schema::Node;
use crate::FieldError;

/// Removes fields the schema does not declare (unless `x-kubernetes-preserve-unknown-fields`),
/// recording their paths. `root` keeps `apiVersion`, `kind` and `metadata` (as do embedded
/// resources).
pub fn prune(v: &mut Value, node: Node<'_>, path: &str, root: bool, unknown: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            let keep_meta = root || node.embedded_resource();
            let props = node.properties();
            let additional = node.additional();
            let preserve = node.preserves_unknown();
            if !preserve && additional.is_none() {
                m.retain(|k, _| {
                    let known = props.is_some_and(|p| p.contains_key(k))
                        || (keep_meta && matches!(k.as_str(), "apiVersion" | "kind" | "metadata"));
                    if !known {
                        unknown.push(join(path, k));
                    }
                    known
                });
            }
            for (k, c) in m.iter_mut() {
                if keep_meta && k == "metadata" {
                    if let Value::Object(meta) = c {
                        prune_embedded_meta(meta, &join(path, k), root, unknown);
                    }
                    continue;
                }
                if let Some(n) = props.and_then(|p| p.get(k)).map(Node::new).or(additional) {
                    prune(c, n, &join(path, k), false, unknown);
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = node.items() {
                for (i, c) in a.iter_mut().enumerate() {
                    prune(c, items, &format!("{path}[{i}]"), false, unknown);
                }
            }
        }
        _ => {}
    }
}

/// ObjectMeta fields an embedded object keeps (the root keeps all of ObjectMeta).
fn prune_embedded_meta(
    meta: &mut Map<String, Value>,
    path: &str,
    root: bool,
    unknown: &mut Vec<String>,
) {
    const META: &[&str] = &[
        "name",
        "generateName",
        "namespace",
        "labels",
        "annotations",
        "finalizers",
        "ownerReferences",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    ];
    if root {
        meta.retain(|k, _| {
            let known = META.contains(&k.as_str());
            if !known {
                unknown.push(join(path, k));
            }
            known
        });
    } else {
        meta.retain(|k, _| {
            let known = matches!(
                k.as_str(),
                "name" | "generateName" | "namespace" | "labels" | "annotations" | "finalizers"
            );
            if !known {
                unknown.push(join(path, k));
            }
            known
        });
    }
}

/// Applies `default`s: a missing property (or a `null` one that is not nullable) gets its default;
/// defaults are applied inside defaulted values too.
pub fn default(v: &mut Value, node: Node<'_>) {
    match v {
        Value::Object(m) => {
            if let Some(props) = node.properties() {
                for (k, ps) in props {
                    let pn = Node::new(ps);
                    let Some(d) = pn.ext("default") else { continue };
                    let missing = match m.get(k) {
                        None => true,
                        Some(Value::Null) => pn.ext("nullable") != Some(&Value::Bool(true)),
                        Some(_) => false,
                    };
                    if missing {
                        m.insert(k.clone(), d.clone());
                    }
                }
            }
            let additional = node.additional();
            for (k, c) in m.iter_mut() {
                let n = node
                    .properties()
                    .and_then(|p| p.get(k))
                    .map(Node::new)
                    .or(additional);
                if let Some(n) = n {
                    default(c, n);
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = node.items() {
                a.iter_mut().for_each(|c| default(c, items));
            }
        }
        _ => {}
    }
}

/// The JSON type name kube-openapi reports for a value.
fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A value as Go's `%#v` prints it in field errors (strings quoted, numbers bare).
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Null => "\"null\"".into(),
        other => other.to_string(),
    }
}

fn err(errors: &mut Vec<FieldError>, reason: &str, path: &str, message: String) {
    errors.push(FieldError {
        reason: reason.into(),
        field: path.into(),
        message,
    });
}

fn invalid(errors: &mut Vec<FieldError>, path: &str, value: &str, detail: String) {
    err(
        errors,
        "FieldValueInvalid",
        path,
        format!("{path}: Invalid value: {value}: {detail}"),
    );
}

/// Validates `v` against `node`.
pub fn validate(v: &Value, node: Node<'_>, path: &str, errors: &mut Vec<FieldError>) {
    let shown_path = if path.is_empty() { "<root>" } else { path };
    if v.is_null() {
        if node.ext("nullable") == Some(&Value::Bool(true)) || node.is_unknown() {
            return;
        }
        if let Some(t) = node.type_name() {
            invalid(
                errors,
                shown_path,
                "\"null\"",
                format!("{shown_path} in body must be of type {t}: \"null\""),
            );
        }
        return;
    }
    let actual = type_of(v);
    if node.int_or_string() {
        if actual != "integer" && actual != "string" {
            invalid(
                errors,
                shown_path,
                &format!("{actual:?}"),
                format!("{shown_path} in body must be of type integer,string: {actual:?}"),
            );
            return;
        }
    } else if let Some(t) = node.type_name() {
        let ok = t == actual || (t == "number" && actual == "integer");
        if !ok {
            invalid(
                errors,
                shown_path,
                &format!("{actual:?}"),
                format!("{shown_path} in body must be of type {t}: {actual:?}"),
            );
            return;
        }
    }
    if let Some(en) = node.ext("enum").and_then(Value::as_array) {
        if !en.contains(v) {
            let supported: Vec<String> = en.iter().map(show).collect();
            err(
                errors,
                "FieldValueNotSupported",
                shown_path,
                format!(
                    "{shown_path}: Unsupported value: {}: supported values: {}",
                    show(v),
                    supported.join(", ")
                ),
            );
        }
    }
    match v {
        Value::String(s) => validate_string(s, v, node, shown_path, errors),
        Value::Number(n) => validate_number(n.as_f64().unwrap_or(0.0), v, node, shown_path, errors),
        Value::Array(a) => {
            if let Some(max) = node.ext("maxItems").and_then(Value::as_u64) {
                if a.len() as u64 > max {
                    err(
                        errors,
                        "FieldValueTooMany",
                        shown_path,
                        format!(
                            "{shown_path}: Too many: {}: must have at most {max} items",
                            a.len()
                        ),
                    );
                }
            }
            if let Some(min) = node.ext("minItems").and_then(Value::as_u64) {
                if (a.len() as u64) < min {
                    invalid(
                        errors,
                        shown_path,
                        &a.len().to_string(),
                        format!("{shown_path} in body should have at least {min} items"),
                    );
                }
            }
            if let Some(items) = node.items() {
                for (i, c) in a.iter().enumerate() {
                    validate(c, items, &format!("{path}[{i}]"), errors);
                }
            }
            duplicates(a, node, path, errors);
        }
        Value::Object(m) => {
            if let Some(req) = node.ext("required").and_then(Value::as_array) {
                for r in req.iter().filter_map(Value::as_str) {
                    if !m.contains_key(r) {
                        let p = join(path, r);
                        err(
                            errors,
                            "FieldValueRequired",
                            &p,
                            format!("{p}: Required value"),
                        );
                    }
                }
            }
            if node.embedded_resource() {
                for k in ["apiVersion", "kind"] {
                    if m.get(k).and_then(Value::as_str).is_none_or(str::is_empty) {
                        let p = join(path, k);
                        err(
                            errors,
                            "FieldValueRequired",
                            &p,
                            format!("{p}: Required value: must not be empty"),
                        );
                    }
                }
            }
            let props = node.properties();
            let additional = node.additional();
            for (k, c) in m {
                if path.is_empty() && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                if let Some(n) = props.and_then(|p| p.get(k)).map(Node::new).or(additional) {
                    validate(c, n, &join(path, k), errors);
                }
            }
        }
        _ => {}
    }
}

fn validate_string(s: &str, v: &Value, node: Node<'_>, path: &str, errors: &mut Vec<FieldError>) {
    if let Some(p) = node.ext("pattern").and_then(Value::as_str) {
        match Regex::new(p) {
            Ok(re) if !re.is_match(s) => invalid(
                errors,
                path,
                &show(v),
                format!("{path} in body should match '{p}'"),
            ),
            _ => {}
        }
    }
    let len = s.chars().count() as u64;
    if let Some(max) = node.ext("maxLength").and_then(Value::as_u64) {
        if len > max {
            err(
                errors,
                "FieldValueTooLong",
                path,
                format!(
                    "{path}: Too long: may not be more than {max} {}",
                    if max == 1 { "byte" } else { "bytes" }
                ),
            );
        }
    }
    if let Some(min) = node.ext("minLength").and_then(Value::as_u64) {
        if len < min {
            invalid(
                errors,
                path,
                &show(v),
                format!("{path} in body should be at least {min} chars long"),
            );
        }
    }
}

fn validate_number(x: f64, v: &Value, node: Node<'_>, path: &str, errors: &mut Vec<FieldError>) {
    let excl = |k: &str| node.ext(k) == Some(&Value::Bool(true));
    if let Some(min) = node.ext("minimum") {
        let m = min.as_f64().unwrap_or(f64::MIN);
        let (bad, word) = if excl("exclusiveMinimum") {
            (x <= m, "greater than")
        } else {
            (x < m, "greater than or equal to")
        };
        if bad {
            invalid(
                errors,
                path,
                &show(v),
                format!("{path} in body should be {word} {min}"),
            );
        }
    }
    if let Some(max) = node.ext("maximum") {
        let m = max.as_f64().unwrap_or(f64::MAX);
        let (bad, word) = if excl("exclusiveMaximum") {
            (x >= m, "less than")
        } else {
            (x > m, "less than or equal to")
        };
        if bad {
            invalid(
                errors,
                path,
                &show(v),
                format!("{path} in body should be {word} {max}"),
            );
        }
    }
}

/// A value as Go's `%#v` prints an `interface{}`: maps as `map[string]interface {}{...}`.
fn go_value(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k:?}:{}", go_value(v)))
                .collect();
            format!("map[string]interface {{}}{{{}}}", parts.join(", "))
        }
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(go_value).collect();
            format!("[]interface {{}}{{{}}}", parts.join(", "))
        }
        Value::Null => "interface {}(nil)".into(),
        other => show(other),
    }
}

/// `x-kubernetes-list-type: set` and `map` lists may not repeat an item (a key).
fn duplicates(a: &[Value], node: Node<'_>, path: &str, errors: &mut Vec<FieldError>) {
    let list_type = node.ext("x-kubernetes-list-type").and_then(Value::as_str);
    let keys: Vec<&str> = node
        .ext("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .map(|k| k.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let ident = |v: &Value| -> Value {
        match list_type {
            Some("map") => {
                let m: Map<String, Value> = keys
                    .iter()
                    .filter_map(|k| v.get(*k).map(|x| (k.to_string(), x.clone())))
                    .collect();
                Value::Object(m)
            }
            _ => v.clone(),
        }
    };
    if !matches!(list_type, Some("set" | "map")) {
        return;
    }
    let mut seen: Vec<Value> = Vec::new();
    for (i, it) in a.iter().enumerate() {
        let id = ident(it);
        if seen.contains(&id) {
            let p = format!("{path}[{i}]");
            err(
                errors,
                "FieldValueDuplicate",
                &p,
                format!("{p}: Duplicate value: {}", go_value(&id)),
            );
        } else {
            seen.push(id);
        }
    }
}
