//! Render errors: one line each, naming the file (and line for YAML) and the field.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("{}:{line}:{column}: invalid YAML: {message}", path.display())]
    Yaml {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Kustomization { path: PathBuf, message: String },
    #[error("{}: field {field}: {message}", path.display())]
    Field {
        path: PathBuf,
        field: String,
        message: String,
    },
    #[error("{}: security; file '{}' is not in or below '{}' (use --load-restrictor none to allow)", referrer.display(), file.display(), root.display())]
    OutsideRoot {
        referrer: PathBuf,
        file: PathBuf,
        root: PathBuf,
    },
    #[error("{}: cycle detected: '{}' is already being built", referrer.display(), dir.display())]
    Cycle { referrer: PathBuf, dir: PathBuf },
    #[error("{}: {field}: '{entry}' is a remote base; remote bases are not supported offline", referrer.display())]
    Remote {
        referrer: PathBuf,
        field: String,
        entry: String,
    },
    #[error("{}: {field}: {what} is not supported", referrer.display())]
    Unsupported {
        referrer: PathBuf,
        field: String,
        what: String,
    },
    #[error("{}: {field}: '{entry}' does not exist", referrer.display())]
    Missing {
        referrer: PathBuf,
        field: String,
        entry: String,
    },
    #[error("may not add resource with an already registered id: {id}")]
    DuplicateId { id: String },
    #[error("{}: no kustomization file (kustomization.yaml, kustomization.yml or Kustomization) in '{}'", referrer.display(), dir.display())]
    NoKustomization { referrer: PathBuf, dir: PathBuf },
    #[error("{}: {message}", path.display())]
    Resource { path: PathBuf, message: String },
    #[error("patch: {message}")]
    Patch { message: String },
    #[error("generator: {message}")]
    Generator { message: String },
    #[error("{transformer}: {message}")]
    Transform {
        transformer: &'static str,
        message: String,
    },
    #[error("{message}")]
    Other { message: String },
}

impl RenderError {
    pub fn transform(transformer: &'static str, message: impl Into<String>) -> RenderError {
        RenderError::Transform {
            transformer,
            message: message.into(),
        }
    }
}
