//! The Flux build: when a path has no kustomization file, kustomize-controller generates one
//! listing every `.yaml`/`.yml` file below the path (each must decode as Kubernetes objects),
//! and every sub-directory holding its own kustomization file as one resource, not walked into.

use crate::error::RenderError;
use crate::kustomization::{Kustomization, KUSTOMIZATION_FILE_NAMES};
use std::path::Path;

/// Does `dir` hold a kustomization file?
pub fn has_kustomization(dir: &Path) -> bool {
    KUSTOMIZATION_FILE_NAMES
        .iter()
        .any(|n| dir.join(n).is_file())
}

/// Generate the kustomization Flux would write for `root`.
pub fn generate(root: &Path) -> Result<Kustomization, RenderError> {
    let mut resources = Vec::new();
    walk(root, root, &mut resources)?;
    if resources.is_empty() {
        return Err(RenderError::Kustomization {
            path: root.to_path_buf(),
            message: "no Kubernetes manifests (.yaml/.yml) below this path; the generated kustomization would be empty".into(),
        });
    }
    let mut k = Kustomization {
        resources,
        ..Default::default()
    };
    k.fix();
    Ok(k)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), RenderError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| RenderError::Io {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let rel = path
            .strip_prefix(root)
            .map(|p| format!("./{}", p.display()))
            .unwrap_or_else(|_| path.display().to_string());
        let meta = std::fs::metadata(&path).map_err(|err| RenderError::Io {
            path: path.clone(),
            message: err.to_string(),
        })?;
        if meta.is_dir() {
            if has_kustomization(&path) {
                out.push(rel);
            } else {
                walk(root, &path, out)?;
            }
            continue;
        }
        let ext = path.extension().and_then(|x| x.to_str()).unwrap_or("");
        if ext != "yaml" && ext != "yml" {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|err| RenderError::Io {
            path: path.clone(),
            message: err.to_string(),
        })?;
        crate::reader::resources_from_str(&path, &text).map_err(|err| RenderError::Resource {
            path: path.clone(),
            message: format!("failed to decode Kubernetes YAML: {err}"),
        })?;
        out.push(rel);
    }
    Ok(())
}
