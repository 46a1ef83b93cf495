//! Built-in plugin configs in a kustomization's `generators:` and `transformers:` fields,
//! as kustomize v5.5.0 runs them (`configureExternalGenerators` /
//! `configureExternalTransformers` and the plugin loader).
//!
//! - An entry that parses as YAML objects is an inline config; every other entry is a
//!   file or a kustomization directory, accumulated like `resources:` (a directory is
//!   built, its own transformers included, and its output objects are the configs). All
//!   inline configs come first, then the path entries, in their order.
//! - A config with `apiVersion: builtin` names a built-in plugin by its kind (a
//!   `config.kubernetes.io/function` annotation does not change that); any other
//!   apiVersion is an exec, container or KRM function plugin and is refused, as are the
//!   built-ins Flotilla does not run (HelmChartInflationGenerator, IAMPolicyGenerator,
//!   ValueAddTransformer). A generator kind under `transformers:` (or the reverse) is an
//!   error, as in kustomize.
//! - Config fields are decoded as kustomize's non-strict YAML unmarshalling does: unknown
//!   top-level fields and `null` values are ignored.
//! - Generators run after `configMapGenerator`/`secretGenerator` (same merge rules, but
//!   without the kustomization's `generatorOptions`); transformers after the built-in
//!   transformer list. With `buildMetadata`, each records an origin naming its config
//!   (`configuredIn` the config's file, or the kustomization file for inline ones).
//! - HashTransformer adds the content hash to every resource still due one, and the build
//!   adds it again at the end: kustomize does not clear the flag, so names end up with
//!   the hash twice.

use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::accumulate::{record_origin, Accumulator, Target};
use crate::error::RenderError;
use crate::fieldspec::{FieldSpec, TransformerConfig};
use crate::kustomization::{GeneratorArgs, Image, Patch, ReplacementField, Replica, Selector};
use crate::resmap::ResMap;
use crate::resource::{Origin, Resource};
use crate::transform::namespace::{self, SubjectMode};
use crate::{generate, hash, reader, replacement, transform};

/// A built-in plugin and its configuration.
#[derive(Debug, Clone)]
pub enum Plugin {
    Annotations {
        annotations: IndexMap<String, String>,
        field_specs: Vec<FieldSpec>,
    },
    Hash,
    ImageTag {
        image: Image,
        field_specs: Vec<FieldSpec>,
    },
    Label {
        labels: IndexMap<String, String>,
        field_specs: Vec<FieldSpec>,
    },
    Namespace {
        namespace: String,
        field_specs: Vec<FieldSpec>,
        unset_only: bool,
        subjects: String,
    },
    PatchJson6902(Patch),
    PatchStrategicMerge {
        paths: Vec<String>,
        patches: String,
    },
    Patch(Patch),
    /// PrefixSuffixTransformer, PrefixTransformer and SuffixTransformer.
    PrefixSuffix {
        prefix: String,
        suffix: String,
        field_specs: Vec<FieldSpec>,
    },
    ReplicaCount {
        replica: Replica,
        field_specs: Vec<FieldSpec>,
    },
    Replacement(Vec<ReplacementField>),
    ConfigMapGenerator(GeneratorArgs),
    SecretGenerator(GeneratorArgs),
}

impl Plugin {
    fn is_generator(&self) -> bool {
        matches!(
            self,
            Plugin::ConfigMapGenerator(_) | Plugin::SecretGenerator(_)
        )
    }
}

/// One loaded plugin config.
#[derive(Debug, Clone)]
pub struct Configured {
    pub kind: String,
    pub plugin: Plugin,
    /// The origin transformations and generated resources record (with `buildMetadata`).
    pub origin: Option<Origin>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Meta {
    name: String,
    namespace: String,
}

/// Decode the listed fields of a config, skipping absent and `null` ones.
fn decode<T: DeserializeOwned>(obj: &Map<String, Value>, fields: &[&str]) -> Result<T, String> {
    let picked: Map<String, Value> = fields
        .iter()
        .filter_map(|f| {
            obj.get(*f)
                .filter(|v| !v.is_null())
                .map(|v| (f.to_string(), v.clone()))
        })
        .collect();
    serde_json::from_value(Value::Object(picked)).map_err(|e| e.to_string())
}

fn field<T: DeserializeOwned + Default>(obj: &Map<String, Value>, name: &str) -> Result<T, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| format!("{name}: {e}")),
    }
}

fn string(obj: &Map<String, Value>, name: &str) -> Result<String, String> {
    field(obj, name)
}

fn specs(obj: &Map<String, Value>) -> Result<Vec<FieldSpec>, String> {
    field(obj, "fieldSpecs")
}

/// The generator args a plugin config reads (the legacy `env` is ignored there: only the
/// kustomization's own fields fold it into `envs`).
const GENERATOR_FIELDS: [&str; 7] = [
    "name",
    "namespace",
    "behavior",
    "literals",
    "files",
    "envs",
    "options",
];

/// kustomize's generator plugin `Config`: the args, named by `metadata` when the args
/// do not name them.
fn generator_args(obj: &Map<String, Value>, secret: bool) -> Result<GeneratorArgs, String> {
    let mut fields = GENERATOR_FIELDS.to_vec();
    if secret {
        fields.push("type");
    }
    let mut args: GeneratorArgs = decode(obj, &fields)?;
    let meta: Meta = field(obj, "metadata")?;
    if args.name.is_empty() {
        args.name = meta.name;
    }
    if args.namespace.is_empty() {
        args.namespace = meta.namespace;
    }
    Ok(args)
}

/// Parse a config object into a plugin. `Err(None)` means the kind is not one kustomize
/// has built in; `Err(Some(..))` a configuration error.
pub fn parse_plugin(kind: &str, obj: &Map<String, Value>) -> Result<Plugin, Option<String>> {
    let p = |r: Result<Plugin, String>| r.map_err(Some);
    match kind {
        "AnnotationsTransformer" => p(Ok(Plugin::Annotations {
            annotations: field(obj, "annotations")?,
            field_specs: specs(obj)?,
        })),
        "HashTransformer" => Ok(Plugin::Hash),
        "ImageTagTransformer" => p(Ok(Plugin::ImageTag {
            image: field(obj, "imageTag")?,
            field_specs: specs(obj)?,
        })),
        "LabelTransformer" => p(Ok(Plugin::Label {
            labels: field(obj, "labels")?,
            field_specs: specs(obj)?,
        })),
        "NamespaceTransformer" => {
            let meta: Meta = field(obj, "metadata")?;
            p(Ok(Plugin::Namespace {
                namespace: meta.namespace,
                field_specs: specs(obj)?,
                unset_only: field(obj, "unsetOnly")?,
                subjects: string(obj, "setRoleBindingSubjects")?,
            }))
        }
        "PatchJson6902Transformer" => {
            let target: Option<Selector> = field(obj, "target")?;
            let Some(target) = target else {
                return Err(Some("must specify a target".into()));
            };
            if target.name.is_empty() {
                return Err(Some("must specify the target name".into()));
            }
            let (path, op) = (string(obj, "path")?, string(obj, "jsonOp")?);
            match (path.is_empty(), op.is_empty()) {
                (true, true) => Err(Some("empty file path and empty jsonOp".into())),
                (false, false) => Err(Some("must specify a file path or jsonOp, not both".into())),
                _ => Ok(Plugin::PatchJson6902(Patch {
                    path,
                    patch: op,
                    target: Some(target),
                    options: IndexMap::new(),
                })),
            }
        }
        "PatchStrategicMergeTransformer" => {
            let paths: Vec<String> = field(obj, "paths")?;
            let patches = string(obj, "patches")?;
            if paths.is_empty() && patches.is_empty() {
                return Err(Some("empty file path and empty patch content".into()));
            }
            Ok(Plugin::PatchStrategicMerge { paths, patches })
        }
        "PatchTransformer" => p(Ok(Plugin::Patch(Patch {
            path: string(obj, "path")?,
            patch: string(obj, "patch")?,
            target: field(obj, "target")?,
            options: field(obj, "options")?,
        }))),
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            let field_specs: Option<Vec<FieldSpec>> = field(obj, "fieldSpecs")?;
            let Some(field_specs) = field_specs else {
                return Err(Some("fieldSpecs is not expected to be nil".into()));
            };
            let get = |k: &str, on: bool| {
                if on {
                    string(obj, k)
                } else {
                    Ok(String::new())
                }
            };
            p(Ok(Plugin::PrefixSuffix {
                prefix: get("prefix", kind != "SuffixTransformer")?,
                suffix: get("suffix", kind != "PrefixTransformer")?,
                field_specs,
            }))
        }
        "ReplicaCountTransformer" => p(Ok(Plugin::ReplicaCount {
            replica: field(obj, "replica")?,
            field_specs: specs(obj)?,
        })),
        "ReplacementTransformer" => p(Ok(Plugin::Replacement(field(obj, "replacements")?))),
        "ConfigMapGenerator" => p(generator_args(obj, false).map(Plugin::ConfigMapGenerator)),
        "SecretGenerator" => p(generator_args(obj, true).map(Plugin::SecretGenerator)),
        _ => Err(None),
    }
}

/// Built-in kinds kustomize v5.5.0 has that Flotilla does not run.
const NOT_RUN: [&str; 3] = [
    "HelmChartInflationGenerator",
    "IAMPolicyGenerator",
    "ValueAddTransformer",
];

/// Check and parse one config resource listed in `field` of `target`'s kustomization.
pub fn configure(target: &Target, r: &Resource, field: &str) -> Result<Configured, RenderError> {
    let kfile = target.kfile().to_path_buf();
    let kind = r.kind().to_string();
    let unsupported = |what: String| RenderError::Unsupported {
        referrer: kfile.clone(),
        field: field.into(),
        what,
    };
    if r.api_version() != "builtin" {
        return Err(unsupported(format!(
            "plugin kind '{kind}' with apiVersion '{}' (only built-in plugins, apiVersion: builtin, run; exec, container and KRM function plugins)",
            r.api_version()
        )));
    }
    if NOT_RUN.contains(&kind.as_str()) {
        return Err(unsupported(format!("built-in plugin kind '{kind}'")));
    }
    let id = r.id();
    let config_err = |message: String| RenderError::Field {
        path: kfile.clone(),
        field: field.into(),
        message: format!("plugin {kind} '{}': {message}", id.name),
    };
    let plugin = match parse_plugin(&kind, &r.obj) {
        Ok(p) => p,
        Err(None) => return Err(config_err(format!("unknown built-in plugin kind '{kind}'"))),
        Err(Some(m)) => return Err(config_err(format!("fails configuration: {m}"))),
    };
    match (field, plugin.is_generator()) {
        ("generators", false) => return Err(config_err("not a generator".into())),
        ("transformers", true) => return Err(config_err("not a transformer".into())),
        _ => {}
    }
    let origin = r.meta.origin.as_ref().map(|o| Origin {
        configured_in: o.path.clone(),
        configured_by_kind: kind.clone(),
        configured_by_name: id.name.clone(),
        configured_by_namespace: id.namespace.clone().unwrap_or_default(),
        ..Origin::default()
    });
    Ok(Configured {
        kind,
        plugin,
        origin,
    })
}

/// The config resources of `field` (`generators` or `transformers`): inline ones first,
/// then those of the path entries.
pub fn load_configs(target: &Target, field: &str) -> Result<Vec<Configured>, RenderError> {
    let entries = if field == "generators" {
        &target.k.generators
    } else {
        &target.k.transformers
    };
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let mut acc = Accumulator::new();
    let mut paths = Vec::new();
    for entry in entries {
        match reader::resources_from_str(target.kfile(), entry) {
            Ok(inline) => {
                for mut r in inline {
                    r.meta.origin = target.kustomization_origin_path().map(Origin::file);
                    acc.resources.append(r)?;
                }
            }
            Err(_) => paths.push(entry.clone()),
        }
    }
    target.accumulate_entries(&paths, field, &mut acc)?;
    acc.resources
        .iter()
        .map(|r| configure(target, r, field))
        .collect()
}

/// Run the `generators:` plugin configs of `target`, merging their output into `rm` as
/// `configMapGenerator` output is merged.
pub fn run_generators(target: &Target, rm: &mut ResMap) -> Result<(), RenderError> {
    for c in load_configs(target, "generators")? {
        let mut r = match &c.plugin {
            Plugin::ConfigMapGenerator(args) => generate::config_map(&target.ldr, args, None)?,
            Plugin::SecretGenerator(args) => generate::secret(&target.ldr, args, None)?,
            // `load_configs` only lets generators through here.
            _ => continue,
        };
        r.meta.origin = c.origin.clone();
        rm.absorb_all(ResMap::from_iter([r]), &|existing, new, behavior| {
            generate::merge_generated(existing, new, behavior)
        })?;
    }
    Ok(())
}

/// Run the `transformers:` plugin configs of `target` over `rm`, in order.
pub fn run_transformers(target: &Target, rm: &mut ResMap) -> Result<(), RenderError> {
    for c in load_configs(target, "transformers")? {
        transform_one(target, rm, &c.plugin)?;
        record_origin(rm, c.origin.clone());
    }
    Ok(())
}

fn transform_one(target: &Target, rm: &mut ResMap, plugin: &Plugin) -> Result<(), RenderError> {
    let cfg = TransformerConfig::default();
    match plugin {
        Plugin::Annotations {
            annotations,
            field_specs,
        } => {
            let cfg = TransformerConfig {
                common_annotations: field_specs.clone(),
                ..cfg
            };
            transform::annotations::apply(rm, annotations, &cfg)
        }
        Plugin::Hash => {
            for r in rm.iter_mut() {
                if r.meta.needs_hash {
                    let h = hash::content_hash(&r.obj)?;
                    r.remember_id();
                    let name = format!("{}-{h}", r.name());
                    r.set_name(&name);
                }
            }
            Ok(())
        }
        Plugin::ImageTag { image, field_specs } => {
            let cfg = TransformerConfig {
                images: field_specs.clone(),
                ..cfg
            };
            transform::images::apply(rm, std::slice::from_ref(image), &cfg)
        }
        Plugin::Label {
            labels,
            field_specs,
        } => {
            let cfg = TransformerConfig {
                common_labels: field_specs.clone(),
                ..cfg
            };
            transform::labels::apply_common_labels(rm, labels, &cfg)
        }
        Plugin::Namespace {
            namespace: ns,
            field_specs,
            unset_only,
            subjects,
        } => {
            // kustomize only checks the mode when it meets a (cluster) role binding.
            let has_binding = rm
                .iter()
                .any(|r| matches!(r.kind(), "RoleBinding" | "ClusterRoleBinding"));
            let subjects = match SubjectMode::parse(subjects) {
                Ok(m) => m,
                Err(e) if has_binding && !ns.is_empty() => {
                    return Err(RenderError::transform("namespace", e))
                }
                Err(_) => SubjectMode::None,
            };
            let opts = namespace::Options {
                unset_only: *unset_only,
                subjects,
            };
            namespace::apply_with(rm, ns, field_specs, opts)
        }
        Plugin::PatchJson6902(p) => target.apply_json6902_entry(rm, p),
        Plugin::PatchStrategicMerge { paths, patches } => {
            for entry in paths {
                target.apply_patches_strategic_merge(rm, entry)?;
            }
            if !patches.is_empty() {
                target.apply_patches_strategic_merge(rm, patches)?;
            }
            Ok(())
        }
        Plugin::Patch(p) => target.apply_patch(rm, p, "transformers"),
        Plugin::PrefixSuffix {
            prefix,
            suffix,
            field_specs,
        } => transform::prefix_suffix::apply_plugin(rm, prefix, suffix, field_specs),
        Plugin::ReplicaCount {
            replica,
            field_specs,
        } => {
            let cfg = TransformerConfig {
                replicas: field_specs.clone(),
                ..cfg
            };
            transform::replicas::apply(rm, std::slice::from_ref(replica), &cfg)
        }
        Plugin::Replacement(list) => {
            let mut all = Vec::new();
            for r in list {
                all.extend(replacement::load(&target.ldr, r)?);
            }
            replacement::apply(rm, &all)
        }
        Plugin::ConfigMapGenerator(_) | Plugin::SecretGenerator(_) => Ok(()),
    }
}

#[cfg(test)]
#[path = "plugins_tests.rs"]
mod tests;
