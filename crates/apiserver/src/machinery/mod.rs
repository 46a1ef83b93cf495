//! The boundary to `flotilla-apimachinery`: every call the server makes into the API
//! machinery (registry, strategic merge, server-side apply, validation, tables, OpenAPI)
//! goes through here, so the handlers never depend on its module layout.
pub mod openapi;

use flotilla_apimachinery::validate::FieldValidation;
use flotilla_apimachinery::{Error, FieldError, Gvk, Registry, ResourceInfo};
use serde_json::Value;

/// The registry of built-in kinds.
pub fn builtin_registry() -> Registry {
    Registry::builtin()
}

/// The resources a CRD defines (one per served version).
pub fn crd_resources(crd: &Value) -> Result<Vec<ResourceInfo>, Error> {
    Registry::default().add_crd(crd)
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
    flotilla_apimachinery::strategic::merge(original, patch, reg, gvk)
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
    flotilla_apimachinery::apply::apply(live, applied, manager, force, reg, gvk)
}

/// Records a non-apply write in managedFields.
/// Server-side apply to the `status` subresource.
pub fn apply_status(
    live: &Value,
    applied: &Value,
    manager: &str,
    force: bool,
    reg: &Registry,
    gvk: &Gvk,
) -> Result<Value, Error> {
    flotilla_apimachinery::apply::apply_status(live, applied, manager, force, reg, gvk)
}

pub fn track_update(old: Option<&Value>, new: &mut Value, manager: &str, operation: &str) {
    flotilla_apimachinery::apply::track_update(old, new, manager, operation);
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
    flotilla_apimachinery::table::to_table(info, objs, wide)
}

/// Parses the `fieldValidation` parameter as kube-apiserver does: absent or empty is `Warn`
/// (kubectl always sends `Strict` explicitly; kube-rs sends nothing); unknown values are
/// treated as `Strict`.
pub fn field_validation(s: Option<&str>) -> FieldValidation {
    FieldValidation::parse(s.unwrap_or("")).unwrap_or(FieldValidation::Strict)
}
