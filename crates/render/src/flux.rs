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

/// Build a Flux `Kustomization` (any API version) against an artifact, as kustomize-controller
/// does: the kustomization at `spec.path` (or the generated one) gains `targetNamespace`,
/// `namePrefix`/`nameSuffix`, `patches`, the older `patchesStrategicMerge` and
/// `patchesJson6902`, `images` (replacing an entry of the same name) and `components`; the build
/// runs with the load restrictor off but confined to the artifact root; `commonMetadata` labels
/// and annotations are then set on every object. Post-build substitution and decryption are
/// the caller's next steps.
pub fn build_kustomization(
    artifact_root: &Path,
    spec: &serde_json::Value,
) -> Result<crate::Rendered, RenderError> {
    use crate::accumulate::{read_kustomization, Source, Target};
    use crate::kustomization::{Image, Patch, Selector};
    use serde_json::Value;

    let field_err = |field: &str, message: String| RenderError::Field {
        path: artifact_root.to_path_buf(),
        field: format!("spec.{field}"),
        message,
    };
    let rel = spec.get("path").and_then(Value::as_str).unwrap_or("./");
    let dir = crate::loader::normalize(&artifact_root.join(rel.trim_start_matches('/')));
    if !dir.starts_with(crate::loader::normalize(artifact_root)) {
        return Err(field_err("path", format!("'{rel}' leaves the artifact")));
    }
    if !dir.is_dir() {
        return Err(field_err(
            "path",
            format!("'{rel}' does not exist in the artifact"),
        ));
    }
    let mut ldr =
        crate::loader::Loader::new(&dir, crate::LoadRestrictor::None)?.with_jail(artifact_root)?;
    let mut k = if has_kustomization(&dir) {
        read_kustomization(&mut ldr, &dir)?
    } else {
        generate(&dir)?
    };
    let s = |key: &str| {
        spec.get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    if let Some(ns) = s("targetNamespace") {
        k.namespace = ns.to_string();
    }
    if let Some(p) = s("namePrefix") {
        k.name_prefix = p.to_string();
    }
    if let Some(p) = s("nameSuffix") {
        k.name_suffix = p.to_string();
    }
    let selector = |v: Option<&Value>| -> Result<Option<Selector>, RenderError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(t) => serde_json::from_value(t.clone())
                .map(Some)
                .map_err(|e| field_err("patches[].target", e.to_string())),
        }
    };
    for p in spec
        .get("patches")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        k.patches.push(Patch {
            patch: p
                .get("patch")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            target: selector(p.get("target"))?,
            ..Default::default()
        });
    }
    for p in spec
        .get("patchesStrategicMerge")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        k.patches_strategic_merge.push(flotilla_yaml::to_yaml(p));
    }
    for p in spec
        .get("patchesJson6902")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        k.patches_json6902.push(Patch {
            patch: p.get("patch").map(Value::to_string).unwrap_or_default(),
            target: selector(p.get("target"))?,
            ..Default::default()
        });
    }
    for i in spec
        .get("images")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let image: Image =
            serde_json::from_value(i.clone()).map_err(|e| field_err("images", e.to_string()))?;
        match k.images.iter_mut().find(|x| x.name == image.name) {
            Some(existing) => *existing = image,
            None => k.images.push(image),
        }
    }
    for c in spec
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(c) = c.as_str() {
            k.components.push(c.to_string());
        }
    }
    let target = Target::open(ldr, Source::Generated(Box::new(k)), &dir)?;
    let mut rendered = crate::build_target(target)?;
    let common = spec.get("commonMetadata");
    for key in ["labels", "annotations"] {
        let Some(Value::Object(add)) = common.and_then(|c| c.get(key)) else {
            continue;
        };
        for obj in &mut rendered.objects {
            let Some(md) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
                continue;
            };
            let entry = md
                .entry(key)
                .or_insert_with(|| Value::Object(Default::default()));
            if !entry.is_object() {
                *entry = Value::Object(Default::default());
            }
            if let Value::Object(m) = entry {
                for (k, v) in add {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
    }
    Ok(rendered)
}
