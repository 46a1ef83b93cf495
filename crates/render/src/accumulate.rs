//! The build of one kustomization directory (kustomize's `KustTarget`): resources and bases,
//! generators, components, then the built-in transformers in kustomize's order; the top
//! level then adds hash suffixes, fixes name references, resolves vars and drops
//! local-config objects.

use crate::error::RenderError;
use crate::fieldspec::TransformerConfig;
use crate::kustomization::{Kustomization, Patch, Var, KUSTOMIZATION_FILE_NAMES};
use crate::loader::Loader;
use crate::resmap::ResMap;
use crate::resource::{Origin, Resource};
use crate::{generate, hash, patch, reader, replacement, transform, vars};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Resources plus the transformer configuration and vars gathered on the way.
#[derive(Debug, Default)]
pub struct Accumulator {
    pub resources: ResMap,
    pub config: TransformerConfig,
    pub vars: Vec<Var>,
}

impl Accumulator {
    pub fn new() -> Accumulator {
        Accumulator {
            resources: ResMap::new(),
            config: TransformerConfig::builtin(),
            vars: Vec::new(),
        }
    }

    fn merge(&mut self, other: Accumulator) -> Result<(), RenderError> {
        self.resources.append_all(other.resources)?;
        self.config
            .try_merge(&other.config)
            .map_err(|message| RenderError::Other { message })?;
        for v in other.vars {
            self.add_var(v)?;
        }
        Ok(())
    }

    fn add_var(&mut self, v: Var) -> Result<(), RenderError> {
        if let Some(existing) = self.vars.iter().find(|x| x.name == v.name) {
            if *existing != v {
                return Err(RenderError::Other {
                    message: format!("var '{}' already encountered", v.name),
                });
            }
            return Ok(());
        }
        self.vars.push(v);
        Ok(())
    }
}

/// Where a kustomization comes from: a file on disk, or one generated in memory.
pub enum Source {
    /// Read the kustomization file from the loader's root.
    File,
    /// Use this one (the Flux build's generated kustomization).
    Generated(Box<Kustomization>),
}

/// One kustomization directory ready to build.
pub struct Target {
    pub ldr: Loader,
    pub k: Kustomization,
    /// With `buildMetadata`: the path of this kustomization's directory relative to the top
    /// one, for origin and transformer annotations; `None` when not tracking.
    pub origin: Option<PathBuf>,
}

/// Is this a remote (URL or git) reference kustomize would fetch?
fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("github.com/")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/")
        || entry.contains("?ref=")
}

/// Find and read the kustomization file in the loader's root.
pub fn read_kustomization(ldr: &mut Loader, referrer: &Path) -> Result<Kustomization, RenderError> {
    let mut found: Vec<PathBuf> = Vec::new();
    for name in KUSTOMIZATION_FILE_NAMES {
        let p = ldr.root().join(name);
        if p.is_file() {
            found.push(p);
        }
    }
    let file = match found.len() {
        0 => {
            return Err(RenderError::NoKustomization {
                referrer: referrer.to_path_buf(),
                dir: ldr.root().to_path_buf(),
            })
        }
        1 => found.remove(0),
        _ => {
            return Err(RenderError::Kustomization {
                path: ldr.root().to_path_buf(),
                message: "found multiple kustomization files".into(),
            })
        }
    };
    let text = std::fs::read_to_string(&file).map_err(|e| RenderError::Io {
        path: file.clone(),
        message: e.to_string(),
    })?;
    ldr.set_kustomization_file(file.clone());
    parse_kustomization(&file, &text)
}

/// Parse kustomization text, with kustomize's fixes and checks.
pub fn parse_kustomization(file: &Path, text: &str) -> Result<Kustomization, RenderError> {
    let value = flotilla_yaml::parse_one_yaml11(text).map_err(|e| RenderError::Yaml {
        path: file.to_path_buf(),
        line: e.line,
        column: e.column,
        message: e.message.clone(),
    })?;
    let mut value = match value {
        Value::Null => Value::Object(Default::default()),
        v => v,
    };
    crate::kustomization::normalize_field_names(&mut value);
    if is_empty_kustomization(&value) {
        return Err(RenderError::Kustomization {
            path: file.to_path_buf(),
            message: "kustomization is empty".into(),
        });
    }
    let mut k: Kustomization =
        serde_json::from_value(value).map_err(|e| RenderError::Kustomization {
            path: file.to_path_buf(),
            message: format!("invalid kustomization: {e}"),
        })?;
    k.fix();
    if !k.kind.is_empty() && k.kind != "Kustomization" && k.kind != "Component" {
        return Err(RenderError::Field {
            path: file.to_path_buf(),
            field: "kind".into(),
            message: format!("kind '{}' is not Kustomization or Component", k.kind),
        });
    }
    if !k.helm_charts.is_empty() || !k.helm_chart_inflation_generator.is_empty() {
        return Err(RenderError::Unsupported {
            referrer: file.to_path_buf(),
            field: "helmCharts".into(),
            what: "Helm chart inflation".into(),
        });
    }
    if !k.generators.is_empty() {
        return Err(RenderError::Unsupported {
            referrer: file.to_path_buf(),
            field: "generators".into(),
            what: "generator plugins (KRM functions, exec and container plugins)".into(),
        });
    }
    if !k.validators.is_empty() {
        return Err(RenderError::Unsupported {
            referrer: file.to_path_buf(),
            field: "validators".into(),
            what: "validator plugins (KRM functions, exec and container plugins)".into(),
        });
    }
    Ok(k)
}

/// kustomize's `CheckEmpty`: nothing but type and object metadata, or only zero values
/// (Go's `reflect.DeepEqual` with an empty struct: `[]` and `{}` are not zero, `null` is).
fn is_empty_kustomization(v: &Value) -> bool {
    let Value::Object(m) = v else { return false };
    m.iter()
        .filter(|(k, _)| !matches!(k.as_str(), "apiVersion" | "kind" | "metadata"))
        .all(|(_, v)| match v {
            Value::Null => true,
            Value::Bool(b) => !b,
            Value::String(s) => s.is_empty(),
            Value::Number(n) => n.as_f64() == Some(0.0),
            _ => false,
        })
}

impl Target {
    /// Open the kustomization of `ldr`'s root.
    pub fn open(mut ldr: Loader, source: Source, referrer: &Path) -> Result<Target, RenderError> {
        let k = match source {
            Source::File => read_kustomization(&mut ldr, referrer)?,
            Source::Generated(k) => *k,
        };
        Ok(Target {
            ldr,
            k,
            origin: None,
        })
    }

    /// A child target (base or component) of this one: inherits the top's `buildMetadata`
    /// and extends the origin path by `entry`, as kustomize does.
    fn open_child(&self, entry: &str, field: &str) -> Result<Target, RenderError> {
        let child = self.ldr.child(entry, field)?;
        let mut t = Target::open(child, Source::File, self.kfile())?;
        t.k.build_metadata = self.k.build_metadata.clone();
        t.origin = self
            .origin
            .as_ref()
            .map(|o| crate::loader::normalize(&o.join(entry)));
        Ok(t)
    }

    /// The origin of something configured in this kustomization file by a built-in plugin.
    fn builtin_origin(&self, kind: &str) -> Option<Origin> {
        let prefix = self.origin.as_ref()?;
        let file = self
            .ldr
            .kustomization_file()
            .file_name()
            .filter(|_| self.ldr.kustomization_file() != self.ldr.root())
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "kustomization.yaml".to_string());
        Some(Origin::builtin(
            crate::loader::normalize(&prefix.join(file))
                .to_string_lossy()
                .to_string(),
            kind,
        ))
    }

    /// kustomize's `AddTransformerAnnotation` after a configured transformer ran.
    fn record_transformer(&self, rm: &mut ResMap, kind: &str) {
        let Some(origin) = self.builtin_origin(kind) else {
            return;
        };
        for r in rm.iter_mut() {
            if r.meta.origin.is_none() {
                r.meta.origin = Some(origin.clone());
            } else {
                r.meta.transformations.push(origin.clone());
            }
        }
    }

    fn kfile(&self) -> &Path {
        self.ldr.kustomization_file()
    }

    /// kustomize's `accumulateTarget`.
    pub fn accumulate(&self, mut acc: Accumulator) -> Result<Accumulator, RenderError> {
        self.accumulate_resources(&mut acc)?;
        for c in &self.k.configurations {
            let (path, text) = self.ldr.read_string(c, "configurations")?;
            let v = parse_single(&path, &text)?;
            let cfg =
                TransformerConfig::from_value(&v).map_err(|m| RenderError::Kustomization {
                    path: path.clone(),
                    message: m,
                })?;
            acc.config
                .try_merge(&cfg)
                .map_err(|m| RenderError::Kustomization {
                    path: path.clone(),
                    message: m,
                })?;
        }
        for c in &self.k.crds {
            let (path, text) = self.ldr.read_string(c, "crds")?;
            for d in flotilla_yaml::parse_documents(&text).map_err(|e| RenderError::Yaml {
                path: path.clone(),
                line: e.line,
                column: e.column,
                message: e.message.clone(),
            })? {
                let cfg = TransformerConfig::from_crd(&d.value).map_err(|m| {
                    RenderError::Kustomization {
                        path: path.clone(),
                        message: m,
                    }
                })?;
                acc.config
                    .try_merge(&cfg)
                    .map_err(|m| RenderError::Kustomization {
                        path: path.clone(),
                        message: m,
                    })?;
            }
        }
        self.run_generators(&mut acc)?;
        for c in &self.k.components {
            if is_remote(c) {
                return Err(RenderError::Remote {
                    referrer: self.kfile().to_path_buf(),
                    field: "components".into(),
                    entry: c.clone(),
                });
            }
            let t = self.open_child(c, "components")?;
            if !t.k.is_component() {
                return Err(RenderError::Field {
                    path: t.kfile().to_path_buf(),
                    field: "kind".into(),
                    message: format!(
                        "expected kind 'Component' for path '{}' but got '{}'",
                        t.ldr.root().display(),
                        t.k.kind
                    ),
                });
            }
            acc = t.accumulate(acc)?;
        }
        self.run_transformers(&mut acc)?;
        for v in &self.k.vars {
            acc.add_var(v.clone())?;
        }
        Ok(acc)
    }

    fn accumulate_resources(&self, acc: &mut Accumulator) -> Result<(), RenderError> {
        for entry in &self.k.resources {
            if is_remote(entry) {
                return Err(RenderError::Remote {
                    referrer: self.kfile().to_path_buf(),
                    field: "resources".into(),
                    entry: entry.clone(),
                });
            }
            let path = self.ldr.resolve(entry);
            if path.is_dir() {
                let t = self.open_child(entry, "resources")?;
                if t.k.is_component() {
                    return Err(RenderError::Field {
                        path: t.kfile().to_path_buf(),
                        field: "kind".into(),
                        message: format!(
                            "expected kind != 'Component' for path '{}'",
                            t.ldr.root().display()
                        ),
                    });
                }
                let sub = t.accumulate(Accumulator::new())?;
                acc.merge(sub)?;
            } else {
                let (p, text) = self.ldr.read_string(entry, "resources")?;
                for mut r in reader::resources_from_str(&p, &text)? {
                    if let Some(o) = &self.origin {
                        r.meta.origin = Some(Origin::file(
                            crate::loader::normalize(&o.join(entry))
                                .to_string_lossy()
                                .to_string(),
                        ));
                    }
                    acc.resources.append(r)?;
                }
            }
        }
        Ok(())
    }

    fn run_generators(&self, acc: &mut Accumulator) -> Result<(), RenderError> {
        let global = self.k.generator_options.as_ref();
        let mut generated = Vec::new();
        for g in &self.k.config_map_generator {
            let mut r = generate::config_map(&self.ldr, g, global)?;
            r.meta.origin = self.builtin_origin("ConfigMapGenerator");
            generated.push(r);
        }
        for g in &self.k.secret_generator {
            let mut r = generate::secret(&self.ldr, g, global)?;
            r.meta.origin = self.builtin_origin("SecretGenerator");
            generated.push(r);
        }
        for r in generated {
            acc.resources
                .absorb_all(ResMap::from_iter([r]), &|existing, new, behavior| {
                    generate::merge_generated(existing, new, behavior)
                })?;
        }
        Ok(())
    }

    fn run_transformers(&self, acc: &mut Accumulator) -> Result<(), RenderError> {
        let k = &self.k;
        let cfg = acc.config.clone();
        let rm = &mut acc.resources;
        for entry in &k.patches_strategic_merge {
            self.apply_patches_strategic_merge(rm, entry)?;
        }
        if !k.patches_strategic_merge.is_empty() {
            self.record_transformer(rm, "PatchStrategicMergeTransformer");
        }
        for p in &k.patches {
            self.apply_patch(rm, p, "patches")?;
            self.record_transformer(rm, "PatchTransformer");
        }
        if !k.namespace.is_empty() {
            transform::namespace::apply(rm, &k.namespace, &cfg)?;
            self.record_transformer(rm, "NamespaceTransformer");
        }
        if !k.name_prefix.is_empty() || !k.name_suffix.is_empty() {
            transform::prefix_suffix::apply(rm, &k.name_prefix, &k.name_suffix, &cfg)?;
            if !k.name_prefix.is_empty() {
                self.record_transformer(rm, "PrefixTransformer");
            }
            if !k.name_suffix.is_empty() {
                self.record_transformer(rm, "SuffixTransformer");
            }
        }
        // kustomize runs the `labels:` entries before `commonLabels`.
        for l in &k.labels {
            transform::labels::apply_labels(rm, l, &cfg)?;
            self.record_transformer(rm, "LabelTransformer");
        }
        if !k.common_labels.is_empty() {
            transform::labels::apply_common_labels(rm, &k.common_labels, &cfg)?;
            self.record_transformer(rm, "LabelTransformer");
        }
        if !k.common_annotations.is_empty() {
            transform::annotations::apply(rm, &k.common_annotations, &cfg)?;
            self.record_transformer(rm, "AnnotationsTransformer");
        }
        for p in &k.patches_json6902 {
            self.apply_json6902_entry(rm, p)?;
            self.record_transformer(rm, "PatchJson6902Transformer");
        }
        if !k.replicas.is_empty() {
            transform::replicas::apply(rm, &k.replicas, &cfg)?;
            for _ in &k.replicas {
                self.record_transformer(rm, "ReplicaCountTransformer");
            }
        }
        if !k.images.is_empty() {
            transform::images::apply(rm, &k.images, &cfg)?;
            for _ in &k.images {
                self.record_transformer(rm, "ImageTagTransformer");
            }
        }
        if !k.replacements.is_empty() {
            let mut all = Vec::new();
            for r in &k.replacements {
                all.extend(replacement::load(&self.ldr, r)?);
            }
            replacement::apply(rm, &all)?;
            self.record_transformer(rm, "ReplacementTransformer");
        }
        if !k.transformers.is_empty() {
            return Err(RenderError::Unsupported {
                referrer: self.kfile().to_path_buf(),
                field: "transformers".into(),
                what: "transformer plugins (KRM functions, exec and container plugins)".into(),
            });
        }
        Ok(())
    }

    /// Text of a patch given inline or by `path`.
    fn patch_text(&self, p: &Patch, field: &str) -> Result<(PathBuf, String), RenderError> {
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

    fn apply_patch(&self, rm: &mut ResMap, p: &Patch, field: &str) -> Result<(), RenderError> {
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
            for i in rm.select(target)? {
                let r = &mut rm.resources_mut()[i];
                let new = patch::apply_json6902(&Value::Object(r.obj.clone()), &values[0])
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
    fn unique_target(
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
    fn smp_on(
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
            match patch::strategic_merge(&Value::Object(r.obj.clone()), &Value::Object(pc))
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

    fn apply_patches_strategic_merge(
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

    fn apply_json6902_entry(&self, rm: &mut ResMap, p: &Patch) -> Result<(), RenderError> {
        let Some(target) = &p.target else {
            return Err(RenderError::Field {
                path: self.kfile().to_path_buf(),
                field: "patchesJson6902".into(),
                message: "must specify a target".into(),
            });
        };
        let (path, text) = self.patch_text(p, "patchesJson6902")?;
        let ops = flotilla_yaml::parse_one(&text).map_err(|e| RenderError::Yaml {
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

fn patch_err(path: &Path, e: impl std::fmt::Display) -> RenderError {
    RenderError::Patch {
        message: format!("{}: {e}", path.display()),
    }
}

fn set_obj(r: &mut Resource, v: Value, path: &Path) -> Result<(), RenderError> {
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

fn parse_single(path: &Path, text: &str) -> Result<Value, RenderError> {
    flotilla_yaml::parse_one(text).map_err(|e| RenderError::Yaml {
        path: path.to_path_buf(),
        line: e.line,
        column: e.column,
        message: e.message.clone(),
    })
}

/// kustomize's `makeCustomizedResMap` after accumulation: hash suffixes, name references,
/// vars, local-config objects dropped.
pub fn finish(mut acc: Accumulator) -> Result<ResMap, RenderError> {
    hash::add_hashes(&mut acc.resources)?;
    transform::namereference::fix_back_references(&mut acc.resources, &acc.config)?;
    vars::resolve(&mut acc.resources, &acc.vars, &acc.config.var_reference)?;
    acc.resources.retain(|r| {
        r.annotations()
            .and_then(|a| a.get("config.kubernetes.io/local-config"))
            .and_then(Value::as_str)
            != Some("true")
    });
    Ok(acc.resources)
}
