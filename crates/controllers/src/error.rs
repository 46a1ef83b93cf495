//! The crate's error type: one line each, naming the object and the cause, fit for a
//! `Ready=False` message (never a credential).
use thiserror::Error;

/// What a reconcile can fail with.
#[derive(Debug, Error)]
pub enum ControllerError {
    /// The Kubernetes API answered with an error.
    #[error("{context}: {source}")]
    Kube {
        /// What was being done.
        context: String,
        /// The API's answer.
        #[source]
        source: Box<kube::Error>,
    },
    /// An object's spec could not be read.
    #[error("{0}")]
    InvalidSpec(String),
    /// An artifact could not be read or unpacked.
    #[error("{0}")]
    Artifact(String),
    /// A kubeconfig could not be used.
    #[error("{0}")]
    KubeConfig(String),
    /// The source service failed to start.
    #[error("source store: {0}")]
    Source(Box<flotilla_source::SourceError>),
    /// Anything else, already worded.
    #[error("{0}")]
    Other(String),
}

impl ControllerError {
    /// Wraps a kube error with what was being done.
    pub fn kube(context: impl Into<String>, source: kube::Error) -> ControllerError {
        ControllerError::Kube {
            context: context.into(),
            source: Box::new(source),
        }
    }
}

/// Whether a kube error is a 404.
pub fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

impl From<flotilla_source::SourceError> for ControllerError {
    fn from(e: flotilla_source::SourceError) -> ControllerError {
        ControllerError::Source(Box::new(e))
    }
}
