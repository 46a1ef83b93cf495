//! PATCH: JSON patch (RFC 6902, with `test`), JSON merge patch, strategic merge patch and
//! server-side apply, on objects and on their status and scale subresources.
use axum::response::Response;
use flotilla_apimachinery::Error as MachineryError;
use serde_json::Value;

use super::objects::{check_type, commit_update, create_object, gvk, prepare_update, registry_of};
use super::reads::{scale_of, set_scale};
use super::{json, parse_body, Req};
use crate::status::ApiError;
use crate::store::resource_version;

fn machinery_err(r: &Req, e: MachineryError) -> ApiError {
    match e {
        MachineryError::BadRequest(m) => ApiError::bad_request(m),
        MachineryError::UnsupportedMediaType(m) => ApiError::new(415, "UnsupportedMediaType", m),
        MachineryError::Conflict { fields } => ApiError::apply_conflict(r.subject(), &fields),
        MachineryError::Invalid(errs) => ApiError::invalid(&r.info.kind, r.subject(), &errs),
        MachineryError::Internal(m) => ApiError::internal(m),
    }
}

fn patch_json(r: &Req) -> Result<Value, ApiError> {
    serde_json::from_slice(&r.body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))
}

/// RFC 6902 as kube-apiserver applies it (evanphx/json-patch): a `test` of `null` also
/// succeeds on a missing path, which kube-rs's finalizer helper relies on.
fn json_patch_apply(base: &Value, ops: &[json_patch::PatchOperation]) -> Result<Value, ApiError> {
    let invalid = |msg: String| {
        ApiError::new(
            422,
            "Invalid",
            format!("the server rejected our request due to an error in our request: {msg}"),
        )
    };
    let mut doc = base.clone();
    for op in ops {
        if let json_patch::PatchOperation::Test(t) = op {
            if t.value.is_null() {
                match doc.pointer(t.path.as_str()) {
                    None | Some(Value::Null) => continue,
                    Some(_) => {
                        return Err(invalid(format!(
                            "testing value {} failed: not null",
                            t.path.as_str()
                        )))
                    }
                }
            }
        }
        json_patch::patch(&mut doc, std::slice::from_ref(op))
            .map_err(|e| invalid(e.to_string()))?;
    }
    Ok(doc)
}

/// Applies a non-apply patch to `base`.
fn apply_patch(r: &Req, kind: &str, base: &Value) -> Result<Value, ApiError> {
    match kind {
        "application/json-patch+json" => {
            let p: json_patch::Patch = serde_json::from_slice(&r.body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            json_patch_apply(base, &p.0)
        }
        "application/merge-patch+json" => Ok(crate::machinery::merge_patch(base, &patch_json(r)?)),
        "application/strategic-merge-patch+json" => {
            if r.info.custom {
                return Err(ApiError::new(
                    415,
                    "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
                ));
            }
            let reg = registry_of(r);
            crate::machinery::strategic_merge(base, &patch_json(r)?, &reg, &gvk(r)).map_err(|e| machinery_err(r, e))
        }
        other => Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format ({other}) - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json"),
        )),
    }
}

/// PATCH of one object.
pub(crate) async fn patch(r: &Req) -> Result<Response, ApiError> {
    let kind = r
        .content_type()
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let key = r.key(r.name.as_deref().unwrap_or(""));
    if kind == "application/apply-patch+yaml" || kind == "application/apply-patch+cbor" {
        return apply(r).await;
    }
    for _attempt in 0..8 {
        let old = r
            .state
            .store
            .get(&key)?
            .ok_or_else(|| ApiError::not_found(r.subject()))?;
        let old = super::reads::present(r, old);
        let old_rv = resource_version(&old);
        if r.sub.as_deref() == Some("scale") {
            let patched = apply_patch(r, &kind, &scale_of(r, &old))?;
            let replicas = patched
                .pointer("/spec/replicas")
                .cloned()
                .unwrap_or(Value::Null);
            return set_scale(r, &key, replicas, None).await;
        }
        let patched = apply_patch(r, &kind, &old)?;
        // A resourceVersion in the patch is a precondition.
        let wanted = patched
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok());
        if wanted.is_some() && wanted != old_rv {
            return Err(ApiError::conflict(r.subject()));
        }
        let out = prepare_update(r, &old, patched, true)?;
        match commit_update(r, &key, &old, out, old_rv).await {
            Err(e) if e.reason == "Conflict" && wanted.is_none() => continue,
            Err(e) => return Err(e),
            Ok(stored) => return Ok(json(200, &stored)),
        }
    }
    Err(ApiError::conflict(r.subject()))
}

/// Server-side apply.
async fn apply(r: &Req) -> Result<Response, ApiError> {
    let Some(manager) = r.q("fieldManager").filter(|m| !m.is_empty()) else {
        return Err(ApiError::bad_request("PATCH /apply requires fieldManager"));
    };
    let force = r.flag("force");
    let mut applied = parse_body(r)?;
    check_type(r, &mut applied)?;
    if let Some(n) = applied.pointer("/metadata/name").and_then(Value::as_str) {
        if Some(n) != r.name.as_deref() {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({})",
                r.name.as_deref().unwrap_or("")
            )));
        }
    }
    let reg = registry_of(r);
    let key = r.key(r.name.as_deref().unwrap_or(""));
    for _attempt in 0..8 {
        let old = r
            .state
            .store
            .get(&key)?
            .map(|o| super::reads::present(r, o));
        match old {
            None => {
                if r.sub.is_some() {
                    return Err(ApiError::not_found(r.subject()));
                }
                let mut obj =
                    crate::machinery::apply(None, &applied, manager, force, &reg, &gvk(r))
                        .map_err(|e| machinery_err(r, e))?;
                super::objects::meta_mut(&mut obj)
                    .insert("name".into(), Value::String(key.name.clone()));
                if r.info.namespaced {
                    super::objects::meta_mut(&mut obj)
                        .insert("namespace".into(), Value::String(r.namespace.clone()));
                }
                match create_object(r, obj, Some(())).await {
                    Ok((stored, _)) => return Ok(json(201, &stored)),
                    Err(e) if e.reason == "AlreadyExists" => continue,
                    Err(e) => return Err(e),
                }
            }
            Some(old) => {
                let old_rv = resource_version(&old);
                let on_status = r.sub.as_deref() == Some("status");
                let merged = if on_status {
                    crate::machinery::apply_status(&old, &applied, manager, force, &reg, &gvk(r))
                } else {
                    crate::machinery::apply(Some(&old), &applied, manager, force, &reg, &gvk(r))
                }
                .map_err(|e| machinery_err(r, e))?;
                let managed = merged.pointer("/metadata/managedFields").cloned();
                let mut out = prepare_update(r, &old, merged, false)?;
                if on_status {
                    // The status write keeps the object but records who applied it.
                    if let Some(mf) = managed {
                        super::objects::meta_mut(&mut out).insert("managedFields".into(), mf);
                    }
                }
                match commit_update(r, &key, &old, out, old_rv).await {
                    Err(e)
                        if e.reason == "Conflict"
                            && e.details.as_ref().is_none_or(|d| d.get("causes").is_none()) =>
                    {
                        continue
                    }
                    Err(e) => return Err(e),
                    Ok(stored) => return Ok(json(200, &stored)),
                }
            }
        }
    }
    Err(ApiError::conflict(r.subject()))
}
