//! Errors of the API machinery, shaped so the server can build kube-apiserver's `Status` bodies.
use thiserror::Error;

/// One field error of a validation failure (`field.Error` in apimachinery).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The reason type: `FieldValueInvalid`, `FieldValueRequired`, `FieldValueNotSupported`,
    /// `FieldValueTypeInvalid`, `FieldValueForbidden`, `FieldValueDuplicate`.
    pub reason: String,
    /// Field path, e.g. `spec.replicas`.
    pub field: String,
    /// The whole message as kube-apiserver prints it, e.g.
    /// `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`.
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Errors of patching, applying and registering kinds.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// The request is malformed (400 Bad Request).
    #[error("{0}")]
    BadRequest(String),
    /// The patch type is not supported for this kind (415 Unsupported Media Type); kube-apiserver
    /// refuses strategic merge patch for custom resources this way.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Server-side apply conflicts (409): each entry is `(manager, field path)`.
    #[error("{}", conflict_message(.fields))]
    Conflict {
        /// `(manager, path)` pairs, path in kube-apiserver's notation (`.spec.replicas`).
        fields: Vec<(String, String)>,
    },
    /// The object is invalid (422).
    #[error("{}", invalid_message(.0))]
    Invalid(Vec<FieldError>),
    /// Something inside the machinery that should not happen (500).
    #[error("{0}")]
    Internal(String),
}

/// kube-apiserver's message for apply conflicts (`getConflictMessage` of its field manager):
/// managers are as [`crate::apply::Manager::display`] prints them (`"kubectl" using apps/v1 at
/// ...` for Update managers), paths as structured-merge-diff prints them (`.spec.replicas`).
pub fn conflict_message(fields: &[(String, String)]) -> String {
    if let [(m, p)] = fields {
        return format!("Apply failed with 1 conflict: conflict with {m}: {p}");
    }
    let mut managers: Vec<&String> = fields.iter().map(|(m, _)| m).collect();
    managers.sort();
    managers.dedup();
    let mut lines = Vec::new();
    for m in managers {
        lines.push(format!("conflicts with {m}:"));
        for (_, p) in fields.iter().filter(|(fm, _)| fm == m) {
            lines.push(format!("- {p}"));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        fields.len(),
        lines.join("\n")
    )
}

fn invalid_message(errs: &[FieldError]) -> String {
    let parts: Vec<&str> = errs.iter().map(|e| e.message.as_str()).collect();
    if parts.len() == 1 {
        parts[0].to_string()
    } else {
        format!("[{}]", parts.join(", "))
    }
}
