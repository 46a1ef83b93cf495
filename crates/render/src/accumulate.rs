//! The build of one kustomization directory (kustomize's `KustTarget`): resources and bases,
//! generators (built-in fields, then `generators:` plugin configs), components, then the
//! built-in transformers in kustomize's order followed by the `transformers:` plugin
//! configs (see [`crate::plugins`]); the top level then adds hash suffixes, fixes name
//! references, resolves vars and drops local-config objects. Patch application lives in
//! `patches`, the build-wide `openapi:` schema in `openapi`.

mod openapi;
mod patches;

use crate::error::RenderError;
use crate::fieldspec::TransformerConfig;
use crate::kustomization::{Kustomization, Var, KUSTOMIZATION_FILE_NAMES};
use crate::loader::Loader;
use crate::resmap::ResMap;
use crate::resource::Origin;
use crate::{generate, hash, plugins, reader, replacement, transform, vars};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub use openapi::{OpenApiState, SharedOpenApi};

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
    /// The build's OpenAPI schema state, shared by every target of the build.
    pub(crate) openapi: SharedOpenApi,
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
    if !k.validators.is_empty() {
        return Err(RenderError::Unsupported {
            referrer: file.to_path_buf(),
            field: "validators".into(),
            what: "validator plugins (KRM functions, exec and container plugins)".into(),
        });
    }
    Ok(k)
}

/// Name the kustomization file and entry in an id conflict, which otherwise names no file.
fn in_entry(e: RenderError, kfile: &Path, field: &str, entry: &str) -> RenderError {
    match e {
        RenderError::DuplicateId { id } => RenderError::Field {
            path: kfile.to_path_buf(),
            field: format!("{field} '{entry}'"),
            message: format!("may not add resource with an already registered id: {id}"),
        },
        other => other,
    }
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
            openapi: SharedOpenApi::default(),
        })
    }

    /// A child target (base or component) of this one: inherits the top's `buildMetadata`
    /// and extends the origin path by `entry`, as kustomize does.
    pub(crate) fn open_child(&self, entry: &str, field: &str) -> Result<Target, RenderError> {
        let child = self.ldr.child(entry, field)?;
        let mut t = Target::open(child, Source::File, self.kfile())?;
        t.k.build_metadata = self.k.build_metadata.clone();
        t.origin = self
            .origin
            .as_ref()
            .map(|o| crate::loader::normalize(&o.join(entry)));
        t.openapi = self.openapi.clone();
        t.init_openapi(false)?;
        Ok(t)
    }

    /// With origin tracking: this kustomization file's path relative to the top one.
    pub(crate) fn kustomization_origin_path(&self) -> Option<String> {
        let prefix = self.origin.as_ref()?;
        let file = self
            .ldr
            .kustomization_file()
            .file_name()
            .filter(|_| self.ldr.kustomization_file() != self.ldr.root())
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "kustomization.yaml".to_string());
        Some(
            crate::loader::normalize(&prefix.join(file))
                .to_string_lossy()
                .to_string(),
        )
    }

    /// The origin of something configured in this kustomization file by a built-in plugin.
    fn builtin_origin(&self, kind: &str) -> Option<Origin> {
        Some(Origin::builtin(self.kustomization_origin_path()?, kind))
    }

    /// kustomize's `AddTransformerAnnotation` after a configured transformer ran.
    fn record_transformer(&self, rm: &mut ResMap, kind: &str) {
        record_origin(rm, self.builtin_origin(kind));
    }

    pub(crate) fn kfile(&self) -> &Path {
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
        plugins::run_generators(self, &mut acc.resources)?;
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
        self.accumulate_entries(&self.k.resources, "resources", acc)
    }

    /// kustomize's `accumulateResources` over `entries` of `field`: files and kustomization
    /// directories (also used for the plugin configs of `generators:` and `transformers:`).
    pub(crate) fn accumulate_entries(
        &self,
        entries: &[String],
        field: &str,
        acc: &mut Accumulator,
    ) -> Result<(), RenderError> {
        for entry in entries {
            if is_remote(entry) {
                return Err(RenderError::Remote {
                    referrer: self.kfile().to_path_buf(),
                    field: field.into(),
                    entry: entry.clone(),
                });
            }
            let path = self.ldr.resolve(entry);
            if path.is_dir() {
                let t = self.open_child(entry, field)?;
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
                acc.merge(sub)
                    .map_err(|e| in_entry(e, self.kfile(), field, entry))?;
            } else {
                let (p, text) = self.ldr.read_string(entry, field)?;
                for mut r in reader::resources_from_str(&p, &text)? {
                    if let Some(o) = &self.origin {
                        r.meta.origin = Some(Origin::file(
                            crate::loader::normalize(&o.join(entry))
                                .to_string_lossy()
                                .to_string(),
                        ));
                    }
                    acc.resources
                        .append(r)
                        .map_err(|e| in_entry(e, self.kfile(), field, entry))?;
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
        plugins::run_transformers(self, rm)?;
        Ok(())
    }
}

/// Record a transformer's origin on every resource: the origin of those without one, else
/// one more transformation.
pub(crate) fn record_origin(rm: &mut ResMap, origin: Option<Origin>) {
    let Some(origin) = origin else {
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
