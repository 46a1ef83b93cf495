//! Field-level differences between two objects, and Secret masking.

use serde::Serialize;
use serde_json::Value;

/// One field that differs; `None` on a side where the field is absent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// `spec.template.spec.containers[0].image`; keys with `.` or `/` are bracketed:
    /// `metadata.labels["app.kubernetes.io/name"]`.
    pub path: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// The differing leaves of two values, in document order.
pub fn field_changes(old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk(String::new(), Some(old), Some(new), &mut out);
    out
}

fn walk(path: String, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            for (k, va) in a {
                walk(join(&path, k), Some(va), b.get(k), out);
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    walk(join(&path, k), None, Some(vb), out);
                }
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for i in 0..a.len().max(b.len()) {
                walk(format!("{path}[{i}]"), a.get(i), b.get(i), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(FieldChange {
            path: if path.is_empty() { ".".into() } else { path },
            old: a.cloned(),
            new: b.cloned(),
        }),
    }
}

fn join(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (path.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{}]", Value::String(key.to_string())),
    }
}

/// Whether an object is a core Secret.
pub fn is_secret(obj: &Value) -> bool {
    obj.get("kind").and_then(Value::as_str) == Some("Secret")
        && obj.get("apiVersion").and_then(Value::as_str) == Some("v1")
}

/// The text shown for a Secret's value.
pub const MASK: &str = "*** (masked)";

/// A Secret with every `data`/`stringData` value replaced by [`MASK`].
pub fn mask_secret(obj: &Value) -> Value {
    let mut v = obj.clone();
    for field in ["data", "stringData"] {
        if let Some(Value::Object(m)) = v.get_mut(field) {
            for val in m.values_mut() {
                *val = Value::String(MASK.into());
            }
        }
    }
    v
}

/// Masks the values of changes under `data`/`stringData` (the path still says which key
/// changed; the values never appear).
pub fn mask_changes(changes: &mut [FieldChange]) {
    for c in changes {
        if c.path.starts_with("data") || c.path.starts_with("stringData") {
            let m = |v: &mut Option<Value>| {
                if let Some(x) = v {
                    *x = Value::String(MASK.into());
                }
            };
            m(&mut c.old);
            m(&mut c.new);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaves_and_paths() {
        let a = json!({"metadata": {"name": "x", "labels": {"app.kubernetes.io/name": "a"}},
                       "spec": {"replicas": 1, "c": [{"image": "i:1"}, {"image": "j"}]}});
        let b = json!({"metadata": {"name": "x", "labels": {"app.kubernetes.io/name": "b"}},
                       "spec": {"c": [{"image": "i:2"}], "paused": true}});
        let paths: Vec<String> = field_changes(&a, &b).into_iter().map(|c| c.path).collect();
        assert_eq!(
            paths,
            [
                "metadata.labels[\"app.kubernetes.io/name\"]",
                "spec.replicas",
                "spec.c[0].image",
                "spec.c[1]",
                "spec.paused"
            ]
        );
        assert!(field_changes(&a, &a).is_empty());
    }

    #[test]
    fn secrets_are_masked() {
        let s = json!({"apiVersion": "v1", "kind": "Secret", "data": {"k": "c2VjcmV0"}, "stringData": {"p": "pw"}});
        assert!(is_secret(&s));
        let m = mask_secret(&s);
        assert_eq!(m["data"]["k"], MASK);
        assert_eq!(m["stringData"]["p"], MASK);
        let t = json!({"apiVersion": "v1", "kind": "Secret", "data": {"k": "b3RoZXI="}});
        let mut ch = field_changes(&s, &t);
        mask_changes(&mut ch);
        assert_eq!(ch[0].path, "data.k");
        assert_eq!(ch[0].old, Some(json!(MASK)));
        assert_eq!(ch[0].new, Some(json!(MASK)));
        assert!(!format!("{ch:?}").contains("c2VjcmV0") && !format!("{ch:?}").contains("pw"));
    }
}
