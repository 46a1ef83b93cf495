//! Patches of one kustomization (`patchesStrategicMerge`, `patches`, `patchesJson6902` and
//! the patch transformer plugins): finding targets and applying strategic merge and JSON
//! 6902 patches, with the build's custom OpenAPI schema if any.

use super::Target;
use crate::error::RenderError;
use crate::kustomization::Patch;
use crate::patch;
use crate::resmap::ResMap;
use crate::resource::Resource;
use serde_json::Value;
use std::path::{Path, PathBuf};

impl Target {
    /// Text of a patch given inline or by `path`.
    pub(crate) fn patch_text(
        &self,
        p: &Patch,
        field: &str,
    ) -> Result<(PathBuf, String), RenderError> {
        let inline = p.patch.trim();
        match (inline.is_empty(), p.path.is_empty()) {
            (true, true) => Err(RenderError::Field {
                path: self.kfile().to_path_buf(),
                field: field.into(),
                message: "must specify one of patch and path".into(),
            }),
            (false, false) => Err(RenderError::Field {
                path: self.kfile().to_path_buf(),
                field: field.into(),
                message: "patch and path can't be set at the same time".into(),
            }),
            (false, true) => Ok((self.kfile().to_path_buf(), inline.to_string())),
            (true, false) => self.ldr.read_string(&p.path, field),
        }
    }

    pub(crate) fn apply_patch(
        &self,
        rm: &mut ResMap,
        p: &Patch,
        field: &str,
    ) -> Result<(), RenderError> {
        let (path, text) = self.patch_text(p, field)?;
        let docs = flotilla_yaml::parse_documents(&text).map_err(|e| RenderError::Yaml {
            path: path.clone(),
            line: e.line,
            column: e.column,
            message: e.message.clone(),
        })?;
        let values: Vec<Value> = docs
            .into_iter()
            .map(|d| d.value)
            .filter(|v| !v.is_null())
            .collect();
        // A JSON 6902 patch is a single sequence of operations.
        if let [Value::Array(_)] = values.as_slice() {
            let Some(target) = &p.target else {
                return Err(RenderError::Field {
                    path: self.kfile().to_path_buf(),
                    field: field.into(),
                    message: format!("must specify a target for JSON patch {}", path.display()),
                });
            };
            // kustomize converts a JSON patch with sigs.k8s.io/yaml (YAML 1.1: `y` is true).
            let ops = flotilla_yaml::parse_one_yaml11(&text).unwrap_or_else(|_| values[0].clone());
            for i in rm.select(target)? {
                let r = &mut rm.resources_mut()[i];
                let new = patch::apply_json6902(&Value::Object(r.obj.clone()), &ops)
                    .map_err(|e| patch_err(&path, e))?;
                set_obj(r, new, &path)?;
            }
            return Ok(());
        }
        let mut patches = Vec::new();
        for v in values {
            match v {
                Value::Object(m) => patches.push(m),
                _ => {
                    return Err(RenderError::Field {
                        path: path.clone(),
                        field: field.into(),
                        message: "unable to parse SM or JSON patch".into(),
                    })
                }
            }
        }
        match &p.target {
            Some(target) => {
                let Some(first) = patches.first() else {
                    return Ok(());
                };
                let selected = rm.select(target)?;
                self.smp_on(rm, &selected, first, &path, true, &p.options)
            }
            None => {
                for pm in &patches {
                    let idx = self.unique_target(rm, pm, &path)?;
                    self.smp_on(rm, &[idx], pm, &path, false, &p.options)?;
                }
                Ok(())
            }
        }
    }

    /// The one resource a target-less strategic merge patch names.
    pub(crate) fn unique_target(
        &self,
        rm: &ResMap,
        pm: &serde_json::Map<String, Value>,
        path: &Path,
    ) -> Result<usize, RenderError> {
        let pid = Resource::new(pm.clone()).id();
        let hits: Vec<usize> = rm
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                std::iter::once(r.id())
                    .chain(r.meta.previous_ids.iter().cloned())
                    .any(|id| {
                        id.same_object(&pid)
                            || (pid.version.is_empty()
                                && id.group == pid.group
                                && id.kind == pid.kind
                                && id.name == pid.name
                                && crate::resource::ResId::same_namespace(
                                    id.namespace.as_deref(),
                                    pid.namespace.as_deref(),
                                ))
                    })
            })
            .map(|(i, _)| i)
            .collect();
        match hits.as_slice() {
            [i] => Ok(*i),
            [] => Err(RenderError::Patch {
                message: format!(
                    "{}: no matches for Id {pid}; failed to find unique target for patch",
                    path.display()
                ),
            }),
            _ => Err(RenderError::Patch {
                message: format!(
                    "{}: multiple matches for Id {pid}; failed to find unique target for patch",
                    path.display()
                ),
            }),
        }
    }

    /// Apply one strategic merge patch to the resources at `indices`; a `$patch: delete`
    /// removes the resource.
    pub(crate) fn smp_on(
        &self,
        rm: &mut ResMap,
        indices: &[usize],
        pm: &serde_json::Map<String, Value>,
        path: &Path,
        retarget: bool,
        options: &indexmap::IndexMap<String, bool>,
    ) -> Result<(), RenderError> {
        let allow_name = options.get("allowNameChange").copied().unwrap_or(false);
        let allow_kind = options.get("allowKindChange").copied().unwrap_or(false);
        let mut delete = Vec::new();
        for &i in indices {
            let schema = self.smp_schema();
            let r = &mut rm.resources_mut()[i];
            let (name, namespace, kind) = (
                r.name().to_string(),
                r.namespace().map(str::to_string),
                r.kind().to_string(),
            );
            if allow_name || allow_kind {
                r.remember_id();
            }
            let mut pc = pm.clone();
            if retarget {
                // kustomize gives a targeted patch the target's apiVersion; name, namespace
                // and kind are restored after the merge unless the options allow changes.
                pc.insert(
                    "apiVersion".into(),
                    Value::String(r.api_version().to_string()),
                );
            }
            match patch::strategic_merge_with(
                &Value::Object(r.obj.clone()),
                &Value::Object(pc),
                schema.as_deref(),
            )
            .map_err(|e| patch_err(path, e))?
            {
                patch::SmpOutcome::Merged(v) => {
                    set_obj(r, v, path)?;
                    // kustomize keeps the target's namespace, and its name and kind unless
                    // the patch options allow changing them.
                    if !allow_kind {
                        r.obj.insert("kind".into(), Value::String(kind));
                    }
                    if !allow_name {
                        r.set_name(&name);
                    }
                    match namespace {
                        Some(ns) => r.set_namespace(&ns),
                        None => {
                            r.metadata_mut().remove("namespace");
                        }
                    }
                }
                patch::SmpOutcome::Deleted => delete.push(i),
            }
        }
        delete.sort_unstable();
        for i in delete.into_iter().rev() {
            rm.remove_at(i);
        }
        Ok(())
    }

    pub(crate) fn apply_patches_strategic_merge(
        &self,
        rm: &mut ResMap,
        entry: &str,
    ) -> Result<(), RenderError> {
        // An entry is a file path, or (when it does not name a file) an inline patch.
        let candidate = self.ldr.resolve(entry);
        let (path, text) = if !entry.contains('\n') && candidate.is_file() {
            self.ldr.read_string(entry, "patchesStrategicMerge")?
        } else {
            let parsed = flotilla_yaml::parse_documents(entry);
            match parsed {
                Ok(docs) if docs.iter().any(|d| d.value.is_object()) => {
                    (self.kfile().to_path_buf(), entry.to_string())
                }
                _ => {
                    return Err(RenderError::Missing {
                        referrer: self.kfile().to_path_buf(),
                        field: "patchesStrategicMerge".into(),
                        entry: entry.to_string(),
                    })
                }
            }
        };
        let docs = flotilla_yaml::parse_documents(&text).map_err(|e| RenderError::Yaml {
            path: path.clone(),
            line: e.line,
            column: e.column,
            message: e.message.clone(),
        })?;
        for d in docs {
            match d.value {
                Value::Null => {}
                Value::Object(pm) => {
                    let idx = self.unique_target(rm, &pm, &path)?;
                    self.smp_on(rm, &[idx], &pm, &path, false, &Default::default())?;
                }
                _ => {
                    return Err(RenderError::Field {
                        path: path.clone(),
                        field: "patchesStrategicMerge".into(),
                        message: "a strategic merge patch must be a mapping".into(),
                    })
                }
            }
        }
        Ok(())
    }

    pub(crate) fn apply_json6902_entry(
        &self,
        rm: &mut ResMap,
        p: &Patch,
    ) -> Result<(), RenderError> {
        let Some(target) = &p.target else {
            return Err(RenderError::Field {
                path: self.kfile().to_path_buf(),
                field: "patchesJson6902".into(),
                message: "must specify a target".into(),
            });
        };
        let (path, text) = self.patch_text(p, "patchesJson6902")?;
        let ops = flotilla_yaml::parse_one_yaml11(&text).map_err(|e| RenderError::Yaml {
            path: path.clone(),
            line: e.line,
            column: e.column,
            message: e.message.clone(),
        })?;
        for i in rm.select(target)? {
            let r = &mut rm.resources_mut()[i];
            let new = patch::apply_json6902(&Value::Object(r.obj.clone()), &ops)
                .map_err(|e| patch_err(&path, e))?;
            set_obj(r, new, &path)?;
        }
        Ok(())
    }
}

pub(crate) fn patch_err(path: &Path, e: impl std::fmt::Display) -> RenderError {
    RenderError::Patch {
        message: format!("{}: {e}", path.display()),
    }
}

pub(crate) fn set_obj(r: &mut Resource, v: Value, path: &Path) -> Result<(), RenderError> {
    match v {
        Value::Object(m) => {
            r.obj = m;
            Ok(())
        }
        _ => Err(RenderError::Patch {
            message: format!("{}: patch result is not an object", path.display()),
        }),
    }
}
