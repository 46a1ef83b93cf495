//! Writing a set of generated files at once: nothing is written when any file that must be
//! new exists already (unless forced), so a refused command leaves the tree untouched.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// One generated file, relative to the repository root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    pub path: PathBuf,
    pub content: String,
    /// Shared scaffolding (a layer's first manifest, a `.gitkeep`): written only when
    /// absent, never an overwrite conflict.
    pub if_missing: bool,
}

impl PlannedFile {
    /// A file the command owns: an existing one is a conflict.
    pub fn new(path: impl Into<PathBuf>, content: impl Into<String>) -> PlannedFile {
        PlannedFile {
            path: path.into(),
            content: content.into(),
            if_missing: false,
        }
    }

    /// A file written only when it does not exist.
    pub fn if_missing(path: impl Into<PathBuf>, content: impl Into<String>) -> PlannedFile {
        PlannedFile {
            path: path.into(),
            content: content.into(),
            if_missing: true,
        }
    }
}

/// What a scaffolding command did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Files written, relative to the root, in order.
    pub written: Vec<PathBuf>,
    /// `if_missing` files left alone because they existed.
    pub kept: Vec<PathBuf>,
    /// Notes for the user (what was not done and why).
    pub notes: Vec<String>,
    /// The commit `init` made, if any.
    pub commit: Option<String>,
}

/// Writes `files` under `root`. Refuses (writing nothing) when a file that is not
/// `if_missing` exists and `force` is false.
pub fn write_all(root: &Path, files: &[PlannedFile], force: bool) -> Result<Outcome> {
    if !force {
        let conflicts: Vec<PathBuf> = files
            .iter()
            .filter(|f| !f.if_missing && root.join(&f.path).exists())
            .map(|f| f.path.clone())
            .collect();
        if !conflicts.is_empty() {
            return Err(Error::WouldOverwrite(conflicts));
        }
    }
    let mut out = Outcome::default();
    for f in files {
        let full = root.join(&f.path);
        if f.if_missing && full.exists() {
            out.kept.push(f.path.clone());
            continue;
        }
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(&full, &f.content).map_err(|e| Error::io(&full, e))?;
        out.written.push(f.path.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("flotilla-write-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn refuses_then_forces() {
        let root = tmp("refuse");
        let files = vec![
            PlannedFile::new("a/b.yaml", "x: 1\n"),
            PlannedFile::if_missing("a/keep.yaml", "k: 1\n"),
        ];
        let o = write_all(&root, &files, false).unwrap();
        assert_eq!(o.written.len(), 2);
        std::fs::write(root.join("a/keep.yaml"), "mine\n").unwrap();
        let files2 = vec![
            PlannedFile::new("a/new.yaml", "n: 1\n"),
            PlannedFile::new("a/b.yaml", "x: 2\n"),
        ];
        let err = write_all(&root, &files2, false).unwrap_err().to_string();
        assert!(err.contains("a/b.yaml"), "{err}");
        assert!(
            !root.join("a/new.yaml").exists(),
            "nothing written on refusal"
        );
        write_all(&root, &files2, true).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("a/b.yaml")).unwrap(),
            "x: 2\n"
        );
        let o = write_all(&root, &files, true).unwrap();
        assert_eq!(o.kept, [PathBuf::from("a/keep.yaml")]);
        assert_eq!(
            std::fs::read_to_string(root.join("a/keep.yaml")).unwrap(),
            "mine\n"
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
