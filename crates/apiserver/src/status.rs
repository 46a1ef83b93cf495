//! `metav1.Status` error bodies, as kube-apiserver writes them.
use serde_json::{json, Value};

/// An API error: an HTTP code, a reason and a message, plus the details kube-apiserver adds.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// `StatusReason`.
    pub reason: &'static str,
    /// Message.
    pub message: String,
    /// `details` (name, group, kind, causes), if any.
    pub details: Option<Value>,
}

/// What an error is about: the resource (plural), its group and the object name.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// API group.
    pub group: &'a str,
    /// Plural resource.
    pub resource: &'a str,
    /// Object name.
    pub name: &'a str,
}

impl Subject<'_> {
    fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    fn details(&self) -> Value {
        json!({"name": self.name, "group": self.group, "kind": self.resource})
    }
}

impl ApiError {
    /// A plain error.
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", message)
    }

    /// 404 for a path that serves nothing.
    pub fn no_route() -> ApiError {
        let mut e = ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
        e.details = Some(json!({}));
        e
    }

    /// 404 NotFound of one object.
    pub fn not_found(s: Subject<'_>) -> ApiError {
        ApiError {
            code: 404,
            reason: "NotFound",
            message: format!("{} \"{}\" not found", s.qualified(), s.name),
            details: Some(s.details()),
        }
    }

    /// 409 AlreadyExists.
    pub fn already_exists(s: Subject<'_>) -> ApiError {
        ApiError {
            code: 409,
            reason: "AlreadyExists",
            message: format!("{} \"{}\" already exists", s.qualified(), s.name),
            details: Some(s.details()),
        }
    }

    /// 409 Conflict on a stale resourceVersion.
    pub fn conflict(s: Subject<'_>) -> ApiError {
        ApiError {
            code: 409,
            reason: "Conflict",
            message: format!(
                "Operation cannot be fulfilled on {} \"{}\": the object has been modified; please apply your changes to the latest version and try again",
                s.qualified(),
                s.name
            ),
            details: Some(s.details()),
        }
    }

    /// 409 Conflict of server-side apply, naming the fields.
    pub fn apply_conflict(s: Subject<'_>, fields: &[(String, String)]) -> ApiError {
        let causes: Vec<Value> = fields
            .iter()
            .map(|(m, p)| json!({"reason": "FieldManagerConflict", "message": format!("conflict with \"{m}\""), "field": p}))
            .collect();
        let mut details = s.details();
        details["causes"] = Value::Array(causes);
        ApiError {
            code: 409,
            reason: "Conflict",
            message: flotilla_apimachinery::error::conflict_message(fields),
            details: Some(details),
        }
    }

    /// 422 Invalid.
    pub fn invalid(
        kind: &str,
        s: Subject<'_>,
        errs: &[flotilla_apimachinery::FieldError],
    ) -> ApiError {
        let list: Vec<&str> = errs.iter().map(|e| e.message.as_str()).collect();
        let joined = if list.len() == 1 {
            list[0].to_string()
        } else {
            format!("[{}]", list.join(", "))
        };
        let causes: Vec<Value> = errs
            .iter()
            .map(|e| json!({"reason": e.reason, "message": e.message, "field": e.field}))
            .collect();
        let mut details = s.details();
        details["kind"] = Value::String(kind.to_string());
        details["causes"] = Value::Array(causes);
        ApiError {
            code: 422,
            reason: "Invalid",
            message: format!("{kind} \"{}\" is invalid: {joined}", s.name),
            details: Some(details),
        }
    }

    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(403, "Forbidden", message)
    }

    /// 410 Expired (a too old resourceVersion).
    pub fn expired(message: impl Into<String>) -> ApiError {
        ApiError::new(410, "Expired", message)
    }

    /// 500 InternalError.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, "InternalError", message)
    }

    /// The `metav1.Status` body.
    pub fn to_status(&self) -> Value {
        let mut v = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason, "code": self.code
        });
        if let Some(d) = &self.details {
            v["details"] = d.clone();
        }
        v
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> ApiError {
        ApiError::internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_kube_apiserver() {
        let s = Subject {
            group: "apps",
            resource: "deployments",
            name: "web",
        };
        assert_eq!(
            ApiError::not_found(s).message,
            "deployments.apps \"web\" not found"
        );
        let core = Subject {
            group: "",
            resource: "configmaps",
            name: "x",
        };
        let st = ApiError::already_exists(core).to_status();
        assert_eq!(st["message"], "configmaps \"x\" already exists");
        assert_eq!(st["code"], 409);
        assert_eq!(st["reason"], "AlreadyExists");
        assert_eq!(st["details"]["kind"], "configmaps");
    }
}
