//! Legacy `vars` (kustomize's `ResAccumulator.ResolveVars` and the `refvar` filter).
//!
//! Each var names an object (`objref`: kind, name, and an `apiVersion` or group/version
//! that must equal the object's exactly) and a field of it (`fieldref.fieldPath`, default
//! `metadata.name`, dot-separated, `ports[0]` meaning `ports.0`, `[name=x]` list matchers).
//! The object is looked up by its current or any earlier id, ignoring the namespace unless
//! the objref names one (or the kind is cluster-scoped). Then every string in the
//! `varReference` fields has `$(NAME)` expanded as Kubernetes does (`$$` escapes, unknown
//! names stay as written): a string that is exactly one reference takes the value with its
//! type (`"$(PORT)"` becomes the number `8080`), otherwise the value is printed into it. Map
//! and list values never replace. A var that matches no object, or whose field is missing,
//! is an error; a var that is never used is fine.

use crate::error::RenderError;
use crate::fieldspec::{apply_at_path, FieldSpec, Gvk};
use crate::kustomization::Var;
use crate::resmap::ResMap;
use crate::resource::ResId;
use serde_json::Value;
use std::collections::HashMap;

fn err(message: impl Into<String>) -> RenderError {
    RenderError::transform("vars", message)
}

/// Group and version an objref names.
fn objref_gv(v: &Var) -> (String, String) {
    let o = &v.objref;
    if o.api_version.is_empty() {
        return (o.group.clone(), o.version.clone());
    }
    match o.api_version.split_once('/') {
        Some((g, ver)) => (g.to_string(), ver.to_string()),
        None => (String::new(), o.api_version.clone()),
    }
}

/// kustomize's `%v` of a var in error messages: `{NAME Kind.version.group {fieldPath}}`.
fn describe(v: &Var, field_path: &str) -> String {
    let (g, ver) = objref_gv(v);
    let gvk = Gvk::new(&g, &ver, &v.objref.kind);
    format!("{{{} {gvk} {{{field_path}}}}}", v.name)
}

/// kyaml's `convertSliceIndex` after a split on `.`: `ports[0]` becomes `ports`, `0`.
fn field_path_parts(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    for s in path.split('.') {
        if let Some(open) = s.rfind('[') {
            let idx = &s[open + 1..s.len().saturating_sub(1)];
            if s.ends_with(']') && !idx.is_empty() && idx.bytes().all(|b| b.is_ascii_digit()) {
                if open > 0 {
                    out.push(s[..open].to_string());
                }
                out.push(idx.to_string());
                continue;
            }
        }
        out.push(s.to_string());
    }
    out
}

/// Resolve `vars` over the whole build, expanding `$(NAME)` in `var_reference_fields`.
pub fn resolve(
    rm: &mut ResMap,
    vars: &[Var],
    var_reference_fields: &[FieldSpec],
) -> Result<(), RenderError> {
    let mut values: HashMap<String, Value> = HashMap::new();
    for v in vars {
        if values.contains_key(&v.name) {
            return Err(err(format!("var '{}' already encountered", v.name)));
        }
        let field_path = if v.fieldref.field_path.is_empty() {
            "metadata.name"
        } else {
            v.fieldref.field_path.as_str()
        };
        let (g, ver) = objref_gv(v);
        let want = ResId {
            group: g.clone(),
            version: ver.clone(),
            kind: v.objref.kind.clone(),
            name: v.objref.name.clone(),
            namespace: Some(v.objref.namespace.clone()).filter(|s| !s.is_empty()),
        };
        let check_ns = !v.objref.namespace.is_empty()
            || Gvk::new(&g, &ver, &v.objref.kind).is_cluster_scoped();
        let matches = |id: &ResId| {
            id.group == want.group
                && id.version == want.version
                && id.kind == want.kind
                && id.name == want.name
                && (!check_ns
                    || ResId::same_namespace(id.namespace.as_deref(), want.namespace.as_deref()))
        };
        let found: Vec<_> = rm
            .iter()
            .filter(|r| matches(&r.id()) || r.meta.previous_ids.iter().any(matches))
            .collect();
        let r = match found.as_slice() {
            [r] => r,
            [] => {
                return Err(err(format!(
                    "var '{}' cannot be mapped to a field in the set of known resources",
                    describe(v, field_path)
                )))
            }
            many => {
                return Err(err(format!(
                    "found {} resId matches for var {} (unable to disambiguate)",
                    many.len(),
                    describe(v, field_path)
                )))
            }
        };
        let root = Value::Object(r.obj.clone());
        let value = crate::replacement::get_path(&root, &field_path_parts(field_path))
            .ok()
            .flatten()
            .cloned();
        let Some(value) = value else {
            return Err(err(format!(
                "field specified in var '{}' not found in corresponding resource",
                describe(v, field_path)
            )));
        };
        values.insert(v.name.clone(), value);
    }
    if values.is_empty() {
        return Ok(());
    }
    for r in rm.iter_mut() {
        for spec in var_reference_fields {
            if !spec.applies_to(r) {
                continue;
            }
            let segments = spec.path_segments();
            let mut root = Value::Object(std::mem::take(&mut r.obj));
            let res = apply_at_path(&mut root, &segments, None, &mut |node| {
                expand_node(node, &values)
            });
            if let Value::Object(m) = root {
                r.obj = m;
            }
            res.map_err(|m| err(format!("{}: {m}", r.id())))?;
        }
    }
    Ok(())
}

/// The refvar filter's setter: strings are expanded; in a map every string value; in a
/// list every item, which must be a string.
fn expand_node(node: &mut Value, values: &HashMap<String, Value>) -> Result<(), String> {
    match node {
        Value::String(s) => {
            *node = expand(s, values);
            Ok(())
        }
        Value::Object(m) => {
            for v in m.values_mut() {
                if let Value::String(s) = v {
                    *v = expand(s, values);
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                let Value::String(s) = item else {
                    return Err("invalid value type expect a string".into());
                };
                *item = expand(s, values);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The value a var maps to, when it is a scalar kustomize substitutes.
fn scalar(values: &HashMap<String, Value>, name: &str) -> Option<Value> {
    match values.get(name)? {
        v @ (Value::String(_) | Value::Number(_) | Value::Bool(_)) => Some(v.clone()),
        _ => None,
    }
}

/// Kubernetes `$(VAR)` expansion (`third_party/forked/golang/expansion`).
pub fn expand(input: &str, values: &HashMap<String, Value>) -> Value {
    let b = input.as_bytes();
    let mut out = String::new();
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < b.len() {
        if b[cursor] == b'$' && cursor + 1 < b.len() {
            out.push_str(&input[checkpoint..cursor]);
            let rest = &input[cursor + 1..];
            let advance = match rest.as_bytes()[0] {
                b'$' => {
                    out.push('$');
                    1
                }
                b'(' => match rest.find(')') {
                    Some(close) => {
                        let name = &rest[1..close];
                        match scalar(values, name) {
                            Some(v) if input.len() == name.len() + 3 => return v,
                            Some(v) => out.push_str(&go_sprint(&v)),
                            None => {
                                out.push_str("$(");
                                out.push_str(name);
                                out.push(')');
                            }
                        }
                        close + 1
                    }
                    None => {
                        out.push_str("$(");
                        1
                    }
                },
                _ => {
                    // `$` and the next character are copied as they are
                    let ch_len = rest.chars().next().map_or(1, char::len_utf8);
                    out.push('$');
                    out.push_str(&rest[..ch_len]);
                    ch_len
                }
            };
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    if checkpoint < input.len() {
        out.push_str(&input[checkpoint..]);
    }
    Value::String(out)
}

/// Go's `fmt.Sprint` of a decoded scalar.
fn go_sprint(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_f64() => go_float_v(n.as_f64().unwrap_or_default()),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): shortest digits, in
/// exponent form (`1e+06`) when the decimal exponent is below -4 or at least 6.
fn go_float_v(f: f64) -> String {
    if f == 0.0 || !f.is_finite() {
        return format!("{f}");
    }
    let e = format!("{f:e}");
    let Some((mant, exp)) = e.split_once('e') else {
        return e;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
#[path = "vars_tests.rs"]
mod tests;
