//! Field validation: unknown fields per `fieldValidation` (Strict: an error, Warn: a warning,
//! Ignore: silent; the field is dropped unless Strict), required metadata, and for custom
//! resources the structural schema: pruning, defaulting and validation (types, required, enum,
//! pattern, nullable, bounds, int-or-string, embedded resources, preserve-unknown-fields), with
//! kube-apiserver's messages.
use serde_json::Value;

use crate::schema::{self, Node};
use crate::{FieldError, Gvk, Registry};

mod decode;
mod immutable;
pub use immutable::immutable_errors;
mod structural;

/// The `fieldValidation` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Unknown fields fail the request (what kubectl sends since 1.27).
    Strict,
    /// Unknown fields are dropped with a warning (kube-apiserver's default).
    #[default]
    Warn,
    /// Unknown fields are dropped silently.
    Ignore,
}

impl FieldValidation {
    /// Parses the query parameter (`Strict`, `Warn`, `Ignore`; empty means `Warn`, kube-apiserver's
    /// default when the client sends none).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Strict" => Some(Self::Strict),
            "Warn" | "" => Some(Self::Warn),
            "Ignore" => Some(Self::Ignore),
            _ => None,
        }
    }
}

/// The `reason` of an unknown-field error. kube-apiserver answers these with 400 Bad Request and
/// the message [`strict_decoding_message`], not with 422.
pub const UNKNOWN_FIELD: &str = "FieldValueUnknown";

/// The `reason` of a decoding error of a built-in kind (a value of the wrong JSON type);
/// kube-apiserver answers it with 400 Bad Request and the error's message as is.
pub const DECODE_ERROR: &str = "DecodeError";

/// `strict decoding error: unknown field "spec.foo", unknown field "spec.bar"`.
pub fn strict_decoding_message(errs: &[FieldError]) -> String {
    let parts: Vec<&str> = errs
        .iter()
        .filter(|e| e.reason == UNKNOWN_FIELD)
        .map(|e| e.message.as_str())
        .collect();
    format!("strict decoding error: {}", parts.join(", "))
}

/// Validates `obj` (for custom resources also prunes and defaults it). Returns the warnings, or
/// the field errors: unknown fields (reason [`UNKNOWN_FIELD`], only in Strict mode) or invalid
/// values (422).
pub fn validate(
    obj: &mut Value,
    reg: &Registry,
    gvk: &Gvk,
    mode: FieldValidation,
) -> Result<Vec<String>, Vec<FieldError>> {
    let info = reg.by_gvk(gvk);
    let mut unknown: Vec<String> = Vec::new();
    let mut errors: Vec<FieldError> = Vec::new();
    let root = schema::root_for(reg, gvk);
    if !root.is_unknown() {
        if info.is_some_and(|i| i.custom) {
            structural::prune(obj, root, "", true, &mut unknown);
            structural::default(obj, root);
            structural::validate(obj, root, "", &mut errors);
        } else {
            if let Some(message) = decode::first_type_error(obj, root, &gvk.kind, &gvk.version) {
                return Err(vec![FieldError {
                    reason: DECODE_ERROR.into(),
                    field: String::new(),
                    message,
                }]);
            }
            prune_builtin(obj, root, "", &mut unknown);
        }
    }
    metadata_errors(obj, &mut errors);
    let mut warnings = Vec::new();
    let unknown_msgs: Vec<String> = unknown
        .iter()
        .map(|p| format!("unknown field \"{p}\""))
        .collect();
    match mode {
        FieldValidation::Strict => {
            let mut errs: Vec<FieldError> = unknown
                .iter()
                .zip(unknown_msgs)
                .map(|(p, m)| FieldError {
                    reason: UNKNOWN_FIELD.into(),
                    field: p.clone(),
                    message: m,
                })
                .collect();
            if !errs.is_empty() {
                return Err(errs);
            }
            errs.append(&mut errors);
            errors = errs;
        }
        FieldValidation::Warn => warnings = unknown_msgs,
        FieldValidation::Ignore => {}
    }
    if errors.is_empty() {
        Ok(warnings)
    } else {
        Err(errors)
    }
}

fn metadata_errors(obj: &Value, errors: &mut Vec<FieldError>) {
    let has = |k: &str| {
        obj.pointer(&format!("/metadata/{k}"))
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    if !has("name") && !has("generateName") {
        errors.push(FieldError {
            reason: "FieldValueRequired".into(),
            field: "metadata.name".into(),
            message: "metadata.name: Required value: name or generateName is required".into(),
        });
    }
}

/// Drops (and reports) fields a built-in type does not declare, as decoding into the Go type
/// does. Free-form objects (no declared properties) are left alone.
fn prune_builtin(v: &mut Value, node: Node<'_>, path: &str, unknown: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            let props = node.properties();
            let additional = node.additional();
            if props.is_none() && additional.is_none() {
                return;
            }
            m.retain(|k, _| {
                let known = props.is_some_and(|p| p.contains_key(k)) || additional.is_some();
                if !known {
                    unknown.push(join(path, k));
                }
                known
            });
            for (k, c) in m.iter_mut() {
                if let Some(n) = node.field(k) {
                    prune_builtin(c, n, &join(path, k), unknown);
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = node.items() {
                for (i, c) in a.iter_mut().enumerate() {
                    prune_builtin(c, items, &format!("{path}[{i}]"), unknown);
                }
            }
        }
        _ => {}
    }
}

pub(crate) fn join(path: &str, k: &str) -> String {
    if path.is_empty() {
        k.to_string()
    } else {
        format!("{path}.{k}")
    }
}

#[cfg(test)]
mod tests;
