//! File access for one kustomization directory, with kustomize's load restrictor: files a
//! kustomization names must lie in or below its own directory unless the restrictor is off.
//! Directories (bases, components) may live anywhere; a directory already being built is a
//! cycle.

use crate::error::RenderError;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// kustomize's `--load-restrictor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadRestrictor {
    /// `LoadRestrictionsRootOnly` (the default).
    #[default]
    RootOnly,
    /// `LoadRestrictionsNone`.
    None,
}

/// Reads files for one kustomization root.
#[derive(Debug, Clone)]
pub struct Loader {
    root: PathBuf,
    /// The kustomization file in `root` (set once it is found), for error messages.
    kustomization_file: PathBuf,
    restrictor: LoadRestrictor,
    /// Roots of the kustomizations currently being built, outermost first.
    stack: Arc<Vec<PathBuf>>,
    /// Flux's secure file system: nothing outside this directory (the artifact root) may be
    /// read, whatever the restrictor says.
    jail: Option<Arc<PathBuf>>,
}

/// Lexically normalise a path (`a/./b/../c` → `a/c`) without touching the file system.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

impl Loader {
    /// A loader for the top-level directory.
    pub fn new(root: &Path, restrictor: LoadRestrictor) -> Result<Loader, RenderError> {
        let root = std::fs::canonicalize(root).map_err(|e| RenderError::Io {
            path: root.to_path_buf(),
            message: format!("cannot open directory: {e}"),
        })?;
        if !root.is_dir() {
            return Err(RenderError::Io {
                path: root,
                message: "not a directory".into(),
            });
        }
        Ok(Loader {
            kustomization_file: root.clone(),
            stack: Arc::new(vec![root.clone()]),
            root,
            restrictor,
            jail: None,
        })
    }

    /// Confine every read below `jail` (Flux builds an artifact with the load restrictor off
    /// but on a file system rooted at the artifact).
    pub fn with_jail(mut self, jail: &Path) -> Result<Loader, RenderError> {
        let jail = std::fs::canonicalize(jail).map_err(|e| RenderError::Io {
            path: jail.to_path_buf(),
            message: format!("cannot open directory: {e}"),
        })?;
        if !self.root.starts_with(&jail) {
            return Err(RenderError::OutsideRoot {
                referrer: self.root.clone(),
                file: self.root.clone(),
                root: jail,
            });
        }
        self.jail = Some(Arc::new(jail));
        Ok(self)
    }

    fn check_jail(&self, real: &Path) -> Result<(), RenderError> {
        match &self.jail {
            Some(jail) if !real.starts_with(jail.as_path()) => Err(RenderError::OutsideRoot {
                referrer: self.kustomization_file.clone(),
                file: real.to_path_buf(),
                root: jail.to_path_buf(),
            }),
            _ => Ok(()),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn restrictor(&self) -> LoadRestrictor {
        self.restrictor
    }

    /// The kustomization file of this root (or the root itself before one is found).
    pub fn kustomization_file(&self) -> &Path {
        &self.kustomization_file
    }

    pub fn set_kustomization_file(&mut self, file: PathBuf) {
        self.kustomization_file = file;
    }

    /// Resolve `rel` against the root; absolute paths are kept.
    pub fn resolve(&self, rel: &str) -> PathBuf {
        normalize(&self.root.join(rel))
    }

    /// Check the load restrictor for a file path.
    pub fn check_restricted(&self, path: &Path) -> Result<PathBuf, RenderError> {
        let real = std::fs::canonicalize(path).map_err(|e| RenderError::Io {
            path: path.to_path_buf(),
            message: format!("referenced by {}: {e}", self.kustomization_file.display()),
        })?;
        if self.restrictor == LoadRestrictor::RootOnly && !real.starts_with(&self.root) {
            return Err(RenderError::OutsideRoot {
                referrer: self.kustomization_file.clone(),
                file: real,
                root: self.root.clone(),
            });
        }
        self.check_jail(&real)?;
        Ok(real)
    }

    /// Read a file named by the kustomization (relative to the root), honouring the
    /// restrictor. `field` names the kustomization field, for errors.
    pub fn read(&self, rel: &str, field: &str) -> Result<(PathBuf, Vec<u8>), RenderError> {
        let path = self.resolve(rel);
        if !path.exists() {
            return Err(RenderError::Missing {
                referrer: self.kustomization_file.clone(),
                field: field.to_string(),
                entry: rel.to_string(),
            });
        }
        let real = self.check_restricted(&path)?;
        let bytes = std::fs::read(&real).map_err(|e| RenderError::Io {
            path: real.clone(),
            message: e.to_string(),
        })?;
        Ok((path, bytes))
    }

    /// Read a file as UTF-8 text.
    pub fn read_string(&self, rel: &str, field: &str) -> Result<(PathBuf, String), RenderError> {
        let (path, bytes) = self.read(rel, field)?;
        let text = String::from_utf8(bytes).map_err(|_| RenderError::Io {
            path: path.clone(),
            message: "file is not valid UTF-8".into(),
        })?;
        Ok((path, text))
    }

    /// A loader for a sub-directory (base or component); refuses cycles.
    pub fn child(&self, rel: &str, field: &str) -> Result<Loader, RenderError> {
        let path = self.resolve(rel);
        let real = std::fs::canonicalize(&path).map_err(|_| RenderError::Missing {
            referrer: self.kustomization_file.clone(),
            field: field.to_string(),
            entry: rel.to_string(),
        })?;
        self.check_jail(&real)?;
        if self.stack.iter().any(|p| p == &real) {
            return Err(RenderError::Cycle {
                referrer: self.kustomization_file.clone(),
                dir: real,
            });
        }
        let mut stack = (*self.stack).clone();
        stack.push(real.clone());
        Ok(Loader {
            kustomization_file: real.clone(),
            root: real,
            restrictor: self.restrictor,
            stack: Arc::new(stack),
            jail: self.jail.clone(),
        })
    }
}
