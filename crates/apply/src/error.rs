//! Errors: [`ApplyError`] (one line, naming the object and the cause) and [`ApplyFailure`]
//! (the errors of a batch plus what did get applied).

use std::fmt;

use crate::change::ChangeSet;
use crate::object::ObjectRef;

/// One failure, on one line, naming the object (Display form) and the cause.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The manifest is not a JSON object.
    #[error("manifest is not an object")]
    NotAnObject,
    /// A required field is missing from a manifest.
    #[error("{object}: missing field {field}")]
    MissingField {
        /// What could be read of the object.
        object: String,
        /// The missing field.
        field: &'static str,
    },
    /// The kind is not served (in this version).
    #[error("{object}: no matches for kind \"{}\" in version \"{}\"", .object.kind, .object.api_version())]
    NoMatch {
        /// The object.
        object: Box<ObjectRef>,
    },
    /// A namespaced object without a namespace.
    #[error("{object}: namespace not specified")]
    NamespaceMissing {
        /// The object.
        object: Box<ObjectRef>,
    },
    /// Discovery of a group/version failed.
    #[error("{object}: discovery of {} failed: {message}", .object.api_version())]
    Discovery {
        /// The object.
        object: Box<ObjectRef>,
        /// The cause.
        message: String,
    },
    /// A request failed.
    #[error("{object} {verb} failed: {message}")]
    Api {
        /// The object.
        object: Box<ObjectRef>,
        /// What was being done (`get`, `dry-run apply`, `apply`, `delete`).
        verb: &'static str,
        /// HTTP status code, 0 when there was no answer.
        code: u16,
        /// The cause.
        message: String,
    },
    /// The change touches an immutable field and force is off.
    #[error("{object} dry-run failed: {message} (immutable field); set spec.force to recreate")]
    Immutable {
        /// The object.
        object: Box<ObjectRef>,
        /// The server's message.
        message: String,
    },
    /// A deletion for a forced recreate did not finish in time.
    #[error("{object}: recreate failed: the old object was not gone after {seconds}s")]
    RecreateTimeout {
        /// The object.
        object: Box<ObjectRef>,
        /// How long was waited.
        seconds: u64,
    },
    /// Objects did not become ready in time (Flux's message).
    #[error("timeout waiting for: [{}]", .pending.join(", "))]
    Timeout {
        /// `Kind/ns/name status: 'InProgress: …'` for each object not ready.
        pending: Vec<String>,
    },
    /// Objects reached a failed state while waiting.
    #[error("failed early due to stalled resources: [{}]", .failed.join(", "))]
    Stalled {
        /// `Kind/ns/name status: 'Failed: …'` for each failed object.
        failed: Vec<String>,
    },
}

impl ApplyError {
    /// An API error for an object, from a kube error (message on one line).
    pub(crate) fn api(object: &ObjectRef, verb: &'static str, e: &kube::Error) -> ApplyError {
        let (code, message) = match e {
            kube::Error::Api(s) => (s.code, s.message.clone()),
            other => (0, other.to_string()),
        };
        ApplyError::Api {
            object: Box::new(object.clone()),
            verb,
            code,
            message: one_line(&message),
        }
    }
}

/// Newlines folded to spaces so every error stays on one line.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The outcome of a batch that failed in part: what did get applied (or deleted), and the
/// errors.
#[derive(Debug, Default)]
pub struct ApplyFailure {
    /// What did get applied.
    pub changes: ChangeSet,
    /// One error per failed object (or wait).
    pub errors: Vec<ApplyError>,
}

impl fmt::Display for ApplyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.errors.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for ApplyFailure {}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm() -> ObjectRef {
        ObjectRef {
            group: String::new(),
            version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: "default".into(),
            name: "a".into(),
        }
    }

    #[test]
    fn messages_name_the_object_on_one_line() {
        let errs = [
            ApplyError::NoMatch {
                object: Box::new(cm()),
            },
            ApplyError::Immutable {
                object: Box::new(cm()),
                message: "field is immutable".into(),
            },
            ApplyError::api(
                &cm(),
                "apply",
                &kube::Error::Api(
                    kube::core::Status::failure("bad\nthing", "Invalid")
                        .with_code(422)
                        .boxed(),
                ),
            ),
        ];
        for e in errs {
            let msg = e.to_string();
            assert!(msg.starts_with("ConfigMap/default/a"), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
        let t = ApplyError::Timeout {
            pending: vec!["Deployment/default/podinfo status: 'InProgress: Available: 0/1'".into()],
        };
        assert_eq!(
            t.to_string(),
            "timeout waiting for: [Deployment/default/podinfo status: 'InProgress: Available: 0/1']"
        );
        let f = ApplyFailure {
            changes: ChangeSet::default(),
            errors: vec![
                ApplyError::NamespaceMissing {
                    object: Box::new(cm()),
                },
                ApplyError::NotAnObject,
            ],
        };
        assert_eq!(
            f.to_string(),
            "ConfigMap/default/a: namespace not specified\nmanifest is not an object"
        );
    }
}
