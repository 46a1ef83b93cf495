//! The field-path walker, after kustomize's `filters/fieldspec`: follow a path of map keys
//! through an object, visiting every element of each list met on the way (so
//! `spec/containers/image` and `spec/containers[]/image` both reach every container), and
//! call a setter on the field the path ends at.
//!
//! Missing fields are created only when the spec says `create: true` and the caller gives a
//! [`CreateKind`] for the last key; keys before it are created as maps; a `[]` key is never
//! created. A `null` value counts as missing unless created (or, for a `[]` key, becomes an
//! empty list, as kustomize prints it). Reaching a scalar with path left is an error.

use serde_json::{Map, Value};

/// What to create at the end of the path when the field is missing and the spec says
/// `create: true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateKind {
    /// A string (names, namespaces, image fields).
    Scalar,
    /// An integer-valued scalar (replicas); created as `0` before the setter runs.
    Int,
    /// A map (labels, annotations).
    Map,
}

/// Split a field path on `/`, joining `a\/b` back into the key `a/b`.
pub fn split_path(path: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in path.split('/') {
        match out.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('/');
                last.push_str(part);
            }
            _ => out.push(part.to_string()),
        }
    }
    out
}

/// Walk `segments` from `node` and call `set` on each field reached. `create` is `Some`
/// only when the spec allows creation.
pub fn apply_at_path(
    node: &mut Value,
    segments: &[String],
    create: Option<CreateKind>,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    let Some((first, rest)) = segments.split_first() else {
        return set(node);
    };
    match node {
        Value::Array(items) => {
            for item in items.iter_mut() {
                apply_at_path(item, segments, create, set)?;
            }
            Ok(())
        }
        Value::Object(map) => field(map, first, rest, create, set),
        _ => Err(format!(
            "expected sequence or mapping node at '{}'",
            segments.join("/")
        )),
    }
}

fn new_node(kind: CreateKind) -> Value {
    match kind {
        CreateKind::Scalar => Value::String(String::new()),
        CreateKind::Int => Value::from(0),
        CreateKind::Map => Value::Object(Map::new()),
    }
}

fn field(
    map: &mut Map<String, Value>,
    key: &str,
    rest: &[String],
    create: Option<CreateKind>,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    let (name, is_seq) = match key.strip_suffix("[]") {
        Some(n) => (n, true),
        None => (key, false),
    };
    let make = match create {
        Some(kind) if !is_seq => Some(if rest.is_empty() {
            kind
        } else {
            CreateKind::Map
        }),
        _ => None,
    };
    let value = match make {
        Some(kind) => {
            let v = map
                .entry(name.to_string())
                .or_insert_with(|| new_node(kind));
            if v.is_null() {
                *v = new_node(kind);
            }
            v
        }
        None => match map.get_mut(name) {
            None => return Ok(()),
            Some(v) if v.is_null() => {
                if is_seq {
                    *v = Value::Array(Vec::new());
                }
                return Ok(());
            }
            Some(v) => v,
        },
    };
    apply_at_path(value, rest, create, set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set_x(v: &mut Value) -> Result<(), String> {
        *v = json!("x");
        Ok(())
    }

    #[test]
    fn escaped_slash_stays_in_key() {
        assert_eq!(
            split_path("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret"),
            vec![
                "metadata",
                "annotations",
                "nginx.ingress.kubernetes.io/auth-secret"
            ]
        );
    }

    #[test]
    fn lists_are_visited_with_or_without_brackets() {
        let mut v = json!({"spec": {"containers": [{"image": "a"}, {"image": "b"}, {}]}});
        apply_at_path(
            &mut v,
            &split_path("spec/containers/image"),
            None,
            &mut set_x,
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"spec": {"containers": [{"image": "x"}, {"image": "x"}, {}]}})
        );
    }

    #[test]
    fn create_makes_maps_but_not_lists() {
        let mut v = json!({});
        apply_at_path(
            &mut v,
            &split_path("spec/template/metadata/name"),
            Some(CreateKind::Scalar),
            &mut set_x,
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"spec": {"template": {"metadata": {"name": "x"}}}})
        );
        let mut v = json!({"spec": {}});
        apply_at_path(
            &mut v,
            &split_path("spec/items[]/name"),
            Some(CreateKind::Scalar),
            &mut set_x,
        )
        .unwrap();
        assert_eq!(v, json!({"spec": {}}));
    }

    #[test]
    fn null_without_create_is_left_alone_and_seq_null_becomes_empty() {
        // Oracle: `containers: null` in a Pod with an `images:` entry prints `containers: []`;
        // a PodDisruptionBudget `matchLabels: null` with commonLabels stays null.
        let mut v = json!({"spec": {"containers": null, "selector": {"matchLabels": null}}});
        apply_at_path(
            &mut v,
            &split_path("spec/containers[]/image"),
            None,
            &mut set_x,
        )
        .unwrap();
        apply_at_path(
            &mut v,
            &split_path("spec/selector/matchLabels"),
            None,
            &mut set_x,
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"spec": {"containers": [], "selector": {"matchLabels": null}}})
        );
    }

    #[test]
    fn scalar_in_the_way_is_an_error() {
        let mut v = json!({"spec": "oops"});
        assert!(apply_at_path(&mut v, &split_path("spec/selector"), None, &mut set_x).is_err());
    }
}
