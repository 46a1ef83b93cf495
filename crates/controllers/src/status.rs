//! Writing status the way Flux does: conditions keep their transition time while their
//! status holds, and nothing is written when nothing changed.
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{json, Map, Value};

use crate::error::ControllerError;

/// Now, RFC 3339 (seconds), as conditions carry it.
pub fn now() -> String {
    flotilla_apimachinery::time::now_rfc3339()
}

/// The object's current status (an empty object when unset).
pub fn current(obj: &DynamicObject) -> Value {
    obj.data
        .get("status")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}))
}

/// Writes `new` as the object's status when it differs from `old`, with a merge patch on the
/// status subresource (keys that disappeared are removed).
pub async fn write(
    api: &Api<DynamicObject>,
    name: &str,
    old: &Value,
    new: &Value,
) -> Result<bool, ControllerError> {
    if old == new {
        return Ok(false);
    }
    let mut patch = match new {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    if let Value::Object(o) = old {
        for k in o.keys() {
            if !patch.contains_key(k) {
                patch.insert(k.clone(), Value::Null);
            }
        }
    }
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": patch })),
    )
    .await
    .map_err(|e| ControllerError::kube(format!("writing status of '{name}'"), e))?;
    Ok(true)
}

/// Sets condition `type_` in `status.conditions`, keeping `lastTransitionTime` when the
/// condition's status is unchanged.
pub fn set_condition(
    status: &mut Value,
    type_: &str,
    cond_status: bool,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) {
    let status_str = if cond_status { "True" } else { "False" };
    let mut conditions: Vec<flotilla_model::Condition> = status
        .get("conditions")
        .cloned()
        .and_then(|c| serde_json::from_value(c).ok())
        .unwrap_or_default();
    let mut c = flotilla_model::Condition::new(type_, status_str, reason, message, &now());
    c.observed_generation = generation;
    flotilla_model::meta::set_condition(&mut conditions, c);
    if let Value::Object(m) = status {
        m.insert(
            "conditions".into(),
            serde_json::to_value(&conditions).unwrap_or(Value::Array(Vec::new())),
        );
    }
}

/// Removes condition `type_`.
pub fn remove_condition(status: &mut Value, type_: &str) {
    if let Some(Value::Array(cs)) = status.get_mut("conditions") {
        cs.retain(|c| c.get("type").and_then(Value::as_str) != Some(type_));
    }
}

/// The status and message of condition `type_`.
pub fn condition<'a>(status: &'a Value, type_: &str) -> Option<(&'a str, &'a str)> {
    status
        .get("conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
        .map(|c| {
            (
                c.get("status").and_then(Value::as_str).unwrap_or(""),
                c.get("message").and_then(Value::as_str).unwrap_or(""),
            )
        })
}

/// Whether the object's Ready condition is True.
pub fn is_ready(obj: &DynamicObject) -> bool {
    obj.data
        .get("status")
        .and_then(|s| condition(s, "Ready"))
        .is_some_and(|(s, _)| s == "True")
}

/// The object's `reconcile.fluxcd.io/requestedAt` annotation.
pub fn requested_at(obj: &DynamicObject) -> Option<String> {
    obj.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(crate::resources::REQUESTED_AT))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_transition_time_kept_while_status_holds() {
        let mut s = json!({});
        set_condition(&mut s, "Ready", false, "BuildFailed", "x", Some(1));
        let t1 = s["conditions"][0]["lastTransitionTime"].clone();
        assert_eq!(condition(&s, "Ready"), Some(("False", "x")));
        set_condition(&mut s, "Ready", false, "BuildFailed", "y", Some(2));
        assert_eq!(s["conditions"][0]["lastTransitionTime"], t1);
        assert_eq!(s["conditions"][0]["observedGeneration"], 2);
        remove_condition(&mut s, "Ready");
        assert_eq!(condition(&s, "Ready"), None);
    }
}
