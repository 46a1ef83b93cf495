//! Native kustomize v5 build, byte-identical to `kubectl kustomize`.
//!
//! [`build`] reads a kustomization directory (or, for a Flux path without a kustomization
//! file, the one kustomize-controller would generate), runs kustomize's pipeline
//! — resources and bases, generators, components, patches, namespace, name prefix/suffix,
//! labels, annotations, replicas, images, replacements, hash suffixes, name references,
//! vars, sort — and returns the objects and the YAML text `kustomize build` prints.
//!
//! Module map: [`loader`] (files and the load restrictor), [`kustomization`] (the file's
//! fields), [`reader`] (YAML → resources), [`accumulate`] (the per-directory build),
//! [`generate`] and [`hash`] (ConfigMap/Secret generators), [`patch`] (strategic merge and
//! JSON 6902, custom OpenAPI schemas), [`transform`] and [`fieldspec`] (built-in
//! transformers and their field tables), [`plugins`] (built-in plugin configs in
//! `generators:` / `transformers:`), [`replacement`] and [`vars`], [`sort`] (output
//! order), [`flux`] (the generated kustomization).
pub mod accumulate;
pub mod error;
pub mod fieldspec;
pub mod flux;
pub mod generate;
pub mod hash;
pub mod kustomization;
pub mod loader;
pub mod patch;
pub mod plugins;
pub mod reader;
pub mod replacement;
pub mod resmap;
pub mod resource;
pub mod selector;
pub mod sort;
pub mod substitute;
pub mod transform;
pub mod vars;

pub use error::RenderError;
pub use loader::LoadRestrictor;
pub use resmap::ResMap;
pub use resource::{ResId, Resource};

use accumulate::{Accumulator, Source, Target};
use serde_json::Value;
use std::path::Path;

/// Build options.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// kustomize's `--load-restrictor`.
    pub load_restrictor: LoadRestrictor,
    /// When the directory has no kustomization file, generate one as Flux does instead of
    /// failing as kustomize does.
    pub generate_missing: bool,
}

impl Options {
    /// The options `flotilla build` uses: kustomize's defaults plus the Flux generation.
    pub fn flux() -> Options {
        Options {
            load_restrictor: LoadRestrictor::RootOnly,
            generate_missing: true,
        }
    }
}

/// The result of a build.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The objects, in output order.
    pub objects: Vec<Value>,
}

impl Rendered {
    /// The text `kustomize build` prints: each object as YAML, separated by `---`.
    pub fn to_yaml(&self) -> String {
        let mut out = String::with_capacity(self.objects.len() * 512);
        for (i, o) in self.objects.iter().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            flotilla_yaml::write_yaml(&mut out, o);
        }
        out
    }
}

/// Build the kustomization in `dir`.
pub fn build(dir: &Path, opts: &Options) -> Result<Rendered, RenderError> {
    let ldr = loader::Loader::new(dir, opts.load_restrictor)?;
    let source = if opts.generate_missing && !flux::has_kustomization(ldr.root()) {
        Source::Generated(Box::new(flux::generate(ldr.root())?))
    } else {
        Source::File
    };
    let target = Target::open(ldr, source, dir)?;
    build_target(target)
}

/// Build an opened top-level target: accumulate, finish, sort, build metadata.
pub(crate) fn build_target(mut target: Target) -> Result<Rendered, RenderError> {
    target.init_openapi(true)?;
    if !target.k.build_metadata.is_empty() {
        target.origin = Some(std::path::PathBuf::new());
    }
    if target.k.is_component() {
        return Err(RenderError::Field {
            path: target.ldr.kustomization_file().to_path_buf(),
            field: "kind".into(),
            message: "a Component cannot be built on its own".into(),
        });
    }
    let acc = target.accumulate(Accumulator::new())?;
    let rm = accumulate::finish(acc)?;
    let mut resources = rm.into_resources();
    sort::sort(&mut resources, target.k.sort_options.as_ref())?;
    if target
        .k
        .build_metadata
        .iter()
        .any(|m| m == "managedByLabel")
    {
        for r in &mut resources {
            let md = r.metadata_mut();
            let labels = md
                .entry("labels")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Value::Object(l) = labels {
                l.insert(
                    "app.kubernetes.io/managed-by".into(),
                    Value::String("kustomize-(devel)".into()),
                );
            }
        }
    }
    let origins = target
        .k
        .build_metadata
        .iter()
        .any(|m| m == "originAnnotations");
    let transformations = target
        .k
        .build_metadata
        .iter()
        .any(|m| m == "transformerAnnotations");
    for r in &mut resources {
        let origin = r.meta.origin.clone().filter(|_| origins);
        let list = std::mem::take(&mut r.meta.transformations);
        let md = r.metadata_mut();
        let annotations = md
            .entry("annotations")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(a) = annotations {
            if let Some(o) = origin {
                a.insert(
                    "config.kubernetes.io/origin".into(),
                    Value::String(o.annotation()),
                );
            }
            if transformations && !list.is_empty() {
                a.insert(
                    "alpha.config.kubernetes.io/transformations".into(),
                    Value::String(resource::Origin::list_annotation(&list)),
                );
            }
        }
    }
    for r in &mut resources {
        // kyaml clears an empty annotations map when it rewrites annotations.
        if let Some(Value::Object(md)) = r.obj.get_mut("metadata") {
            if matches!(md.get("annotations"), Some(Value::Object(a)) if a.is_empty()) {
                md.remove("annotations");
            }
        }
    }
    Ok(Rendered {
        objects: resources.into_iter().map(Resource::into_value).collect(),
    })
}
