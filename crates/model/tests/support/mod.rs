//! A small structural-schema validator for the tests: types, required fields, enums,
//! lengths, unknown fields, int-or-string, and Go durations where the schema's pattern is the
//! duration pattern. Unknown fields are reported (the API server would prune them silently,
//! which hides typos in example manifests).
use flotilla_model::GoDuration;
use serde_json::Value;

/// The pattern Flux puts on `metav1.Duration` fields.
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";

/// Validates `value` against `schema`; errors name the field path.
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    walk(schema, value, "", &mut errors);
    errors
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => false,
    }
}

fn walk(schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let here = if path.is_empty() { "<root>" } else { path };
    if v.is_null() {
        if schema["nullable"] != true {
            errors.push(format!("{here}: null is not allowed"));
        }
        return;
    }
    if schema["x-kubernetes-int-or-string"] == true {
        if !(v.is_string() || v.is_i64() || v.is_u64()) {
            errors.push(format!("{here}: must be an integer or a string"));
        }
        return;
    }
    if let Some(t) = schema["type"].as_str() {
        if !type_matches(t, v) {
            errors.push(format!("{here}: must be of type {t}, got {v}"));
            return;
        }
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(v) {
            errors.push(format!(
                "{here}: {v} is not one of {}",
                Value::from(allowed.clone())
            ));
        }
    }
    if let Some(s) = v.as_str() {
        let len = s.chars().count() as u64;
        if schema["minLength"].as_u64().is_some_and(|m| len < m) {
            errors.push(format!("{here}: shorter than minLength"));
        }
        if schema["maxLength"].as_u64().is_some_and(|m| len > m) {
            errors.push(format!("{here}: longer than maxLength"));
        }
        if schema["pattern"] == DURATION_PATTERN && GoDuration::parse(s).is_err() {
            errors.push(format!("{here}: {s:?} is not a Go duration"));
        }
    }
    if let Some(items) = v.as_array() {
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                walk(item_schema, item, &format!("{path}[{i}]"), errors);
            }
        }
    }
    if let Some(map) = v.as_object() {
        if let Some(required) = schema["required"].as_array() {
            for r in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(r) {
                    errors.push(format!("{here}: required field {r} is missing"));
                }
            }
        }
        let props = schema["properties"].as_object();
        let additional = schema.get("additionalProperties").filter(|a| a.is_object());
        let preserve = schema["x-kubernetes-preserve-unknown-fields"] == true;
        for (k, child) in map {
            let child_path = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            // ObjectMeta at the root is validated by the API server, not by the schema.
            if path.is_empty() && k == "metadata" {
                continue;
            }
            match (props.and_then(|p| p.get(k)), additional) {
                (Some(s), _) => walk(s, child, &child_path, errors),
                (None, Some(s)) => walk(s, child, &child_path, errors),
                (None, None) if preserve => {}
                (None, None) => errors.push(format!("{child_path}: unknown field")),
            }
        }
    }
}

/// Structural-schema rules (a subset of apiextensions' checks): every node has a type unless
/// it is int-or-string or preserves unknown fields; arrays have items; `properties` and
/// `additionalProperties` are not both set; defaults validate against their node.
pub fn check_structural(schema: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(obj) = schema.as_object() else {
        errors.push(format!("{path}: schema is not an object"));
        return;
    };
    let int_or_string = schema["x-kubernetes-int-or-string"] == true;
    let preserve = schema["x-kubernetes-preserve-unknown-fields"] == true;
    match obj.get("type").and_then(Value::as_str) {
        None if !(int_or_string || preserve) => errors.push(format!("{path}: no type")),
        Some("array") if !obj.contains_key("items") => {
            errors.push(format!("{path}: array without items"))
        }
        Some(t) if !["object", "array", "string", "integer", "number", "boolean"].contains(&t) => {
            errors.push(format!("{path}: unknown type {t}"))
        }
        _ => {}
    }
    if obj.contains_key("properties") && obj.contains_key("additionalProperties") {
        errors.push(format!("{path}: both properties and additionalProperties"));
    }
    if let Some(default) = obj.get("default") {
        for e in validate(schema, default) {
            errors.push(format!("{path}: default: {e}"));
        }
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (k, s) in props {
            check_structural(s, &format!("{path}.{k}"), errors);
        }
    }
    if let Some(items) = obj.get("items") {
        check_structural(items, &format!("{path}[]"), errors);
    }
    if let Some(a) = obj.get("additionalProperties").filter(|a| a.is_object()) {
        check_structural(a, &format!("{path}{{}}"), errors);
    }
}
