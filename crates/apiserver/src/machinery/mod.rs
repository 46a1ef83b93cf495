//! The boundary to `flotilla-apimachinery`: every call into the API machinery goes through
//! here. Where the machinery crate does not (yet) answer — detected once at run time by
//! probing it with a known input — a simple fallback is used instead: JSON merge for strategic
//! merge patch and apply, a NAME/AGE table, a built-in registry of the usual kinds.
mod builtin;
mod crd;
pub mod openapi;
mod table;

use std::sync::OnceLock;

use flotilla_apimachinery::validate::FieldValidation;
use flotilla_apimachinery::{Error, FieldError, Gvk, Registry, ResourceInfo};
use serde_json::{json, Value};

pub(crate) use builtin::all_verbs;

/// The registry of built-in kinds (the machinery's, or the fallback list when it is empty).
pub fn builtin_registry() -> Registry {
    let mut reg = Registry::builtin();
    if reg.all().next().is_none() {
        for info in builtin::resources() {
            reg.insert(info);
        }
    }
    reg
}

/// The resources a CRD defines (one per served version).
pub fn crd_resources(crd: &Value) -> Result<Vec<ResourceInfo>, Error> {
    let mut scratch = Registry::default();
    match scratch.add_crd(crd) {
        Ok(infos) if !infos.is_empty() => Ok(infos),
        _ => crd::resources(crd),
    }
}

fn smp_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        let reg = Registry::default();
        let gvk = Gvk::new("", "v1", "ConfigMap");
        flotilla_apimachinery::strategic::merge(&json!({"a": 1}), &json!({"a": 2}), &reg, &gvk)
            .is_ok_and(|v| v == json!({"a": 2}))
    })
}

/// Whether server-side apply is `flotilla-apimachinery`'s (managedFields, conflicts) rather
/// than the fallback merge.
pub fn apply_is_native() -> bool {
    apply_ready()
}

fn apply_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        let reg = builtin_registry();
        let gvk = Gvk::new("", "v1", "ConfigMap");
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe"}, "data": {"a": "b"}});
        flotilla_apimachinery::apply::apply(None, &obj, "probe", false, &reg, &gvk)
            .is_ok_and(|v| v.pointer("/metadata/managedFields").is_some())
    })
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(original: &Value, patch: &Value) -> Value {
    let mut doc = original.clone();
    json_patch::merge(&mut doc, patch);
    doc
}

/// Strategic merge patch.
pub fn strategic_merge(
    original: &Value,
    patch: &Value,
    reg: &Registry,
    gvk: &Gvk,
) -> Result<Value, Error> {
    if smp_ready() {
        return flotilla_apimachinery::strategic::merge(original, patch, reg, gvk);
    }
    // Fallback: a JSON merge patch without the `$` directives.
    let mut p = patch.clone();
    strip_directives(&mut p);
    Ok(merge_patch(original, &p))
}

fn strip_directives(v: &mut Value) {
    if let Value::Object(m) = v {
        m.retain(|k, _| !k.starts_with('$'));
        for (_, x) in m.iter_mut() {
            strip_directives(x);
        }
    }
}

/// Server-side apply.
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    reg: &Registry,
    gvk: &Gvk,
) -> Result<Value, Error> {
    if apply_ready() {
        return flotilla_apimachinery::apply::apply(live, applied, manager, force, reg, gvk);
    }
    // Fallback: merge the applied configuration into the live object; no conflicts.
    let mut out = match live {
        Some(l) => merge_patch(l, applied),
        None => applied.clone(),
    };
    record_manager(&mut out, manager, "Apply");
    Ok(out)
}

/// Records a non-apply write in managedFields.
pub fn track_update(old: Option<&Value>, new: &mut Value, manager: &str, operation: &str) {
    if apply_ready() {
        flotilla_apimachinery::apply::track_update(old, new, manager, operation);
    } else {
        record_manager(new, manager, operation);
    }
}

fn record_manager(obj: &mut Value, manager: &str, operation: &str) {
    let api_version = obj.get("apiVersion").cloned().unwrap_or(Value::Null);
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let entry = json!({
        "manager": manager, "operation": operation, "apiVersion": api_version,
        "time": crate::time::now(), "fieldsType": "FieldsV1", "fieldsV1": {}
    });
    let list = meta.entry("managedFields").or_insert_with(|| json!([]));
    if let Some(arr) = list.as_array_mut() {
        arr.retain(|e| !(e["manager"] == manager && e["operation"] == operation));
        arr.push(entry);
    }
}

/// Validation (and for custom resources defaulting and pruning).
pub fn validate(
    obj: &mut Value,
    reg: &Registry,
    gvk: &Gvk,
    mode: FieldValidation,
) -> Result<Vec<String>, Vec<FieldError>> {
    flotilla_apimachinery::validate::validate(obj, reg, gvk, mode)
}

/// The Table of `objs` for `kubectl get`.
pub fn to_table(info: &ResourceInfo, objs: &[Value], wide: bool) -> Value {
    let t = flotilla_apimachinery::table::to_table(info, objs, wide);
    if t["columnDefinitions"]
        .as_array()
        .is_some_and(|c| !c.is_empty())
    {
        return t;
    }
    table::fallback(info, objs, wide)
}

/// Parses the `fieldValidation` parameter.
pub fn field_validation(s: Option<&str>) -> FieldValidation {
    match s {
        Some("Ignore") => FieldValidation::Ignore,
        Some("Warn") => FieldValidation::Warn,
        _ => FieldValidation::Strict,
    }
}
