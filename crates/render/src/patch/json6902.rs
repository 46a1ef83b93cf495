//! RFC 6902 JSON patch with the behaviour of `evanphx/json-patch` v4 as used by
//! kustomize v5 (`patchesJson6902` and `patches` whose content is an op list).
//!
//! Notable v4 semantics reproduced here:
//! - ops run in order; the first failing op aborts the patch;
//! - a path's first segment is ignored (`a/b` behaves like `/b`), paths with
//!   no `/` at all address nothing; `~1` and `~0` are unescaped;
//! - intermediate path parts must exist and be objects or arrays (a `null`
//!   value counts as missing);
//! - `replace` of a missing *object key* succeeds and adds it (v4 quirk), but an
//!   array index must exist; `replace` with path `""` replaces the document;
//! - array indexes may be negative (counted from the end); `-` appends on `add`;
//! - `remove` of a missing key fails; `copy` of a missing key copies `null`;
//! - `test` compares JSON values; a missing or `null` target equals `null`.

use serde_json::Value;

use super::PatchError;

/// Applies a JSON 6902 op list (a JSON array of op objects) to `base`.
pub fn apply_json6902(base: &Value, ops: &Value) -> Result<Value, PatchError> {
    let list = ops.as_array().ok_or_else(|| {
        PatchError::InvalidJsonPatch("a JSON 6902 patch must be a list of operations".into())
    })?;
    let mut doc = base.clone();
    for (index, op) in list.iter().enumerate() {
        let obj = op.as_object().ok_or_else(|| {
            PatchError::InvalidJsonPatch(format!("operation {index} is not an object: {op}"))
        })?;
        let kind = obj
            .get("op")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string();
        let path = obj.get("path").and_then(Value::as_str).map(str::to_string);
        let fail = |msg: String| PatchError::Json6902 {
            index,
            op: kind.clone(),
            path: path.clone().unwrap_or_default(),
            msg,
        };
        let Some(p) = path.as_deref() else {
            return Err(fail("operation missing path field".into()));
        };
        let from = || {
            obj.get("from")
                .and_then(Value::as_str)
                .ok_or_else(|| fail("operation missing from field".into()))
        };
        let value = obj.get("value").cloned().unwrap_or(Value::Null);
        let res = match kind.as_str() {
            "add" => add(&mut doc, p, value, "add"),
            "remove" => remove(&mut doc, p, "remove").map(|_| ()),
            "replace" => replace(&mut doc, p, value),
            "move" => {
                let f = from()?;
                move_op(&mut doc, f, p)
            }
            "copy" => {
                let f = from()?;
                copy_op(&mut doc, f, p)
            }
            "test" => test(&mut doc, p, &value),
            other => Err(format!("Unexpected kind: {other}")),
        };
        res.map_err(fail)?;
    }
    Ok(doc)
}

fn decode_key(part: &str) -> String {
    part.replace("~1", "/").replace("~0", "~")
}

/// evanphx `findObject`: the container holding the last path segment, and
/// that segment.  `None` when any intermediate part is missing.
fn find_object<'a>(doc: &'a mut Value, path: &str) -> Option<(&'a mut Value, String)> {
    let split: Vec<&str> = path.split('/').collect();
    if split.len() < 2 {
        return None;
    }
    let mut cur = doc;
    for part in &split[1..split.len() - 1] {
        let key = decode_key(part);
        let next = match cur {
            Value::Object(m) => m.get_mut(&key),
            Value::Array(a) => array_index(&key, a.len(), false)
                .ok()
                .and_then(|i| a.get_mut(i)),
            _ => None,
        }?;
        if !(next.is_object() || next.is_array()) {
            return None;
        }
        cur = next;
    }
    Some((cur, decode_key(split[split.len() - 1])))
}

/// Parses an array index like Go's `strconv.Atoi`, resolving negative
/// indexes against `len` (`len + 1` slots when inserting).
fn array_index(key: &str, len: usize, insert: bool) -> Result<usize, String> {
    let idx: i64 = key
        .parse()
        .map_err(|_| format!("value was not a proper array index: '{key}'"))?;
    let size = len as i64 + i64::from(insert);
    let resolved = if idx < 0 {
        if idx < -size {
            return Err(format!("Unable to access invalid index: {idx}"));
        }
        idx + size
    } else {
        idx
    };
    let limit = if insert { size } else { len as i64 };
    if resolved >= limit {
        return Err(format!("Unable to access invalid index: {resolved}"));
    }
    usize::try_from(resolved).map_err(|_| format!("Unable to access invalid index: {idx}"))
}

fn missing(op: &str, path: &str) -> String {
    format!("{op} operation does not apply: doesn't exist: {path}")
}

fn add(doc: &mut Value, path: &str, value: Value, op: &str) -> Result<(), String> {
    let (con, key) = find_object(doc, path).ok_or_else(|| missing(op, path))?;
    match con {
        Value::Object(m) => {
            m.insert(key, value);
            Ok(())
        }
        Value::Array(a) => {
            if key == "-" {
                a.push(value);
            } else {
                let i = array_index(&key, a.len(), true)?;
                a.insert(i, value);
            }
            Ok(())
        }
        _ => Err(missing(op, path)),
    }
}

fn remove(doc: &mut Value, path: &str, op: &str) -> Result<Value, String> {
    let (con, key) = find_object(doc, path).ok_or_else(|| missing(op, path))?;
    match con {
        Value::Object(m) => m
            .shift_remove(&key)
            .ok_or_else(|| format!("Unable to remove nonexistent key: {key}: missing value")),
        Value::Array(a) => {
            let i = array_index(&key, a.len(), false)?;
            Ok(a.remove(i))
        }
        _ => Err(missing(op, path)),
    }
}

/// evanphx `get` on a container: `Ok(None)` for a missing or null object key.
fn get(con: &Value, key: &str) -> Result<Option<Value>, String> {
    match con {
        Value::Object(m) => Ok(m.get(key).filter(|v| !v.is_null()).cloned()),
        Value::Array(a) => {
            let i = array_index(key, a.len(), false)?;
            Ok(a.get(i).filter(|v| !v.is_null()).cloned())
        }
        _ => Ok(None),
    }
}

fn replace(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        if !(value.is_object() || value.is_array()) {
            return Err("replace operation value must be object or array".into());
        }
        *doc = value;
        return Ok(());
    }
    let (con, key) = find_object(doc, path).ok_or_else(|| missing("replace", path))?;
    match con {
        Value::Object(m) => {
            m.insert(key, value);
            Ok(())
        }
        Value::Array(a) => {
            let i = array_index(&key, a.len(), false)?;
            a[i] = value;
            Ok(())
        }
        _ => Err(missing("replace", path)),
    }
}

fn move_op(doc: &mut Value, from: &str, path: &str) -> Result<(), String> {
    let val = remove(doc, from, "move")?;
    add(doc, path, val, "move")
}

fn copy_op(doc: &mut Value, from: &str, path: &str) -> Result<(), String> {
    let (con, key) = find_object(doc, from).ok_or_else(|| missing("copy", from))?;
    let val = get(con, &key)?.unwrap_or(Value::Null);
    add(doc, path, val, "copy")
}

fn test(doc: &mut Value, path: &str, expected: &Value) -> Result<(), String> {
    let (con, key) = find_object(doc, path)
        .ok_or_else(|| format!("test operation does not apply: is missing path: {path}"))?;
    let actual = get(con, &key)?;
    let ok = match actual {
        None => expected.is_null(),
        Some(v) => &v == expected,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("testing value {path} failed: test failed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(base: Value, ops: Value) -> Result<Value, PatchError> {
        apply_json6902(&base, &ops)
    }

    #[test]
    fn add_replace_remove() {
        let base = json!({"spec": {"replicas": 1, "list": [1, 2]}});
        let out = apply(
            base,
            json!([
                {"op": "replace", "path": "/spec/replicas", "value": 3},
                {"op": "add", "path": "/spec/list/-", "value": 3},
                {"op": "add", "path": "/spec/list/0", "value": 0},
                {"op": "remove", "path": "/spec/list/1"},
                {"op": "add", "path": "/spec/new", "value": {"a": "b"}},
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"spec": {"replicas": 3, "list": [0, 2, 3], "new": {"a": "b"}}})
        );
    }

    #[test]
    fn escaping_and_negative_indexes() {
        let base = json!({"metadata": {"annotations": {"a/b": "x", "c~d": "y"}}, "l": [1, 2, 3]});
        let out = apply(
            base,
            json!([
                {"op": "replace", "path": "/metadata/annotations/a~1b", "value": "z"},
                {"op": "remove", "path": "/metadata/annotations/c~0d"},
                {"op": "remove", "path": "/l/-1"},
                {"op": "add", "path": "/l/-1", "value": 9},
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"metadata": {"annotations": {"a/b": "z"}}, "l": [1, 2, 9]})
        );
    }

    #[test]
    fn move_copy_test() {
        let base = json!({"a": {"x": 1}, "b": {}});
        let out = apply(
            base,
            json!([
                {"op": "copy", "from": "/a/x", "path": "/b/y"},
                {"op": "move", "from": "/a", "path": "/c"},
                {"op": "test", "path": "/c/x", "value": 1},
                {"op": "test", "path": "/c/nothing", "value": null},
            ]),
        )
        .unwrap();
        assert_eq!(out, json!({"b": {"y": 1}, "c": {"x": 1}}));
    }

    #[test]
    fn v4_quirks() {
        // replace of a missing object key adds it
        assert_eq!(
            apply(
                json!({}),
                json!([{"op": "replace", "path": "/a", "value": 1}])
            )
            .unwrap(),
            json!({"a": 1})
        );
        // copy from a missing key yields null
        assert_eq!(
            apply(
                json!({}),
                json!([{"op": "copy", "from": "/x", "path": "/y"}])
            )
            .unwrap(),
            json!({"y": null})
        );
    }

    #[test]
    fn errors_name_the_failing_op() {
        let base = json!({"spec": {"list": [1]}});
        for (ops, needle) in [
            (
                json!([{"op": "remove", "path": "/spec/nope"}]),
                "nonexistent key",
            ),
            (
                json!([{"op": "add", "path": "/nope/x", "value": 1}]),
                "doesn't exist",
            ),
            (
                json!([{"op": "replace", "path": "/spec/list/5", "value": 1}]),
                "invalid index",
            ),
            (
                json!([{"op": "add", "path": "/spec/list/3", "value": 1}]),
                "invalid index",
            ),
            (
                json!([{"op": "test", "path": "/spec/list/0", "value": 2}]),
                "test",
            ),
            (json!([{"op": "frob", "path": "/spec"}]), "Unexpected kind"),
            (json!([{"op": "add", "value": 1}]), "missing path"),
            (json!([{"op": "move", "path": "/x"}]), "missing from"),
        ] {
            let err = apply(base.clone(), ops).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
            assert!(!err.contains('\n'));
        }
        assert!(apply(base, json!({"op": "add"})).is_err());
    }
}
