//! Update validation of built-in kinds: the fields kube-apiserver refuses to change once an
//! object exists (a 422 `field is immutable`, which is what `kubectl apply --force` and
//! Flux's `spec.force` react to by recreating the object).
use serde_json::Value;

use crate::error::FieldError;

fn invalid(field: &str, value: &Value, detail: &str) -> FieldError {
    FieldError {
        reason: "FieldValueInvalid".into(),
        field: field.into(),
        message: format!("{field}: Invalid value: {value}: {detail}"),
    }
}

fn forbidden(field: &str, detail: &str) -> FieldError {
    FieldError {
        reason: "FieldValueForbidden".into(),
        field: field.into(),
        message: format!("{field}: Forbidden: {detail}"),
    }
}

fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    v.pointer(path).unwrap_or(&Value::Null)
}

/// The immutable-field errors of updating `old` to `new`, a `group`/`kind` built-in object.
pub fn immutable_errors(group: &str, kind: &str, old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let unchanged = |p: &str| at(old, p) == at(new, p);
    match (group, kind) {
        ("", "ConfigMap") | ("", "Secret") => {
            if at(old, "/immutable") == &Value::Bool(true) {
                let msg = "field is immutable when `immutable` is set";
                if !unchanged("/data") {
                    errs.push(forbidden("data", msg));
                }
                if !unchanged("/binaryData") && kind == "ConfigMap" {
                    errs.push(forbidden("binaryData", msg));
                }
                if at(new, "/immutable") != &Value::Bool(true) {
                    errs.push(forbidden("immutable", msg));
                }
            }
            if kind == "Secret" && !unchanged("/type") {
                errs.push(invalid("type", at(new, "/type"), "field is immutable"));
            }
        }
        ("apps", "Deployment") | ("apps", "ReplicaSet") | ("apps", "DaemonSet")
            if !unchanged("/spec/selector") =>
        {
            errs.push(invalid(
                "spec.selector",
                at(new, "/spec/selector"),
                "field is immutable",
            ));
        }
        ("apps", "StatefulSet") => {
            let strip = |v: &Value| {
                let mut s = at(v, "/spec").clone();
                if let Some(m) = s.as_object_mut() {
                    for f in [
                        "replicas",
                        "ordinals",
                        "template",
                        "updateStrategy",
                        "persistentVolumeClaimRetentionPolicy",
                        "minReadySeconds",
                    ] {
                        m.remove(f);
                    }
                }
                s
            };
            if strip(old) != strip(new) {
                errs.push(forbidden(
                    "spec",
                    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                ));
            }
        }
        ("batch", "Job") => {
            if !unchanged("/spec/selector") {
                errs.push(invalid(
                    "spec.selector",
                    at(new, "/spec/selector"),
                    "field is immutable",
                ));
            }
            if !unchanged("/spec/template") {
                errs.push(invalid(
                    "spec.template",
                    at(new, "/spec/template"),
                    "field is immutable",
                ));
            }
            if !unchanged("/spec/completions") {
                errs.push(invalid(
                    "spec.completions",
                    at(new, "/spec/completions"),
                    "field is immutable",
                ));
            }
        }
        ("", "Service") => {
            let old_ip = at(old, "/spec/clusterIP").as_str().unwrap_or("");
            let new_ip = at(new, "/spec/clusterIP").as_str().unwrap_or("");
            if !old_ip.is_empty() && !new_ip.is_empty() && old_ip != new_ip {
                errs.push(invalid(
                    "spec.clusterIP",
                    at(new, "/spec/clusterIP"),
                    "field is immutable",
                ));
            }
        }
        ("", "PersistentVolumeClaim") => {
            let strip = |v: &Value| {
                let mut s = at(v, "/spec").clone();
                if let Some(m) = s.as_object_mut() {
                    m.remove("volumeAttributesClassName");
                    if let Some(r) = m.get_mut("resources").and_then(Value::as_object_mut) {
                        r.remove("requests");
                    }
                }
                s
            };
            if strip(old) != strip(new) {
                errs.push(forbidden(
                    "spec",
                    "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
                ));
            }
        }
        _ => {}
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors_immutable_configmaps_and_jobs() {
        let d =
            |sel: &str| json!({"spec": {"selector": {"matchLabels": {"app": sel}}, "replicas": 1}});
        assert!(immutable_errors("apps", "Deployment", &d("a"), &d("a")).is_empty());
        let e = immutable_errors("apps", "Deployment", &d("a"), &d("b"));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "spec.selector");
        assert!(
            e[0].message.ends_with("field is immutable"),
            "{}",
            e[0].message
        );

        let cm = |v: &str, imm: bool| json!({"immutable": imm, "data": {"k": v}});
        assert!(immutable_errors("", "ConfigMap", &cm("a", false), &cm("b", false)).is_empty());
        let e = immutable_errors("", "ConfigMap", &cm("a", true), &cm("b", true));
        assert_eq!(
            e[0].message,
            "data: Forbidden: field is immutable when `immutable` is set"
        );

        let job =
            |img: &str| json!({"spec": {"template": {"spec": {"containers": [{"image": img}]}}}});
        assert_eq!(
            immutable_errors("batch", "Job", &job("a"), &job("b"))[0].field,
            "spec.template"
        );
        let svc = |ip: &str| json!({"spec": {"clusterIP": ip}});
        assert!(immutable_errors("", "Service", &svc("10.0.0.1"), &svc("")).is_empty());
        assert_eq!(
            immutable_errors("", "Service", &svc("10.0.0.1"), &svc("10.0.0.2")).len(),
            1
        );
        let sts = |sel: &str, r: i64| json!({"spec": {"serviceName": sel, "replicas": r}});
        assert!(immutable_errors("apps", "StatefulSet", &sts("a", 1), &sts("a", 3)).is_empty());
        assert_eq!(
            immutable_errors("apps", "StatefulSet", &sts("a", 1), &sts("b", 1)).len(),
            1
        );
    }
}
