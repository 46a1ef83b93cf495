//! The kustomization file (`kustomize.config.k8s.io/v1beta1` Kustomization and
//! `v1alpha1` Component): its fields, legacy-field fixes, and the checks kustomize makes
//! when it reads one.

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;

/// File names kustomize recognises, in its order.
pub const KUSTOMIZATION_FILE_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

pub const KIND_KUSTOMIZATION: &str = "Kustomization";
pub const KIND_COMPONENT: &str = "Component";

/// A Kustomization or Component, with every field kustomize v5 reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Kustomization {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default, rename = "openapi")]
    pub open_api: IndexMap<String, String>,
    #[serde(default)]
    pub name_prefix: String,
    #[serde(default)]
    pub name_suffix: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub common_labels: IndexMap<String, String>,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default)]
    pub common_annotations: IndexMap<String, String>,
    #[serde(default)]
    pub patches_strategic_merge: Vec<String>,
    #[serde(default, rename = "patchesJson6902")]
    pub patches_json6902: Vec<Patch>,
    #[serde(default)]
    pub patches: Vec<Patch>,
    #[serde(default)]
    pub images: Vec<Image>,
    #[serde(default)]
    pub image_tags: Vec<Image>,
    #[serde(default)]
    pub replacements: Vec<ReplacementField>,
    #[serde(default)]
    pub replicas: Vec<Replica>,
    #[serde(default)]
    pub vars: Vec<Var>,
    #[serde(default)]
    pub sort_options: Option<SortOptions>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub components: Vec<String>,
    #[serde(default)]
    pub crds: Vec<String>,
    #[serde(default)]
    pub bases: Vec<String>,
    #[serde(default)]
    pub config_map_generator: Vec<GeneratorArgs>,
    #[serde(default)]
    pub secret_generator: Vec<GeneratorArgs>,
    #[serde(default)]
    pub helm_globals: Option<Value>,
    #[serde(default)]
    pub helm_charts: Vec<Value>,
    #[serde(default)]
    pub helm_chart_inflation_generator: Vec<Value>,
    #[serde(default)]
    pub generator_options: Option<GeneratorOptions>,
    #[serde(default)]
    pub generators: Vec<String>,
    #[serde(default)]
    pub transformers: Vec<String>,
    #[serde(default)]
    pub validators: Vec<String>,
    #[serde(default)]
    pub configurations: Vec<String>,
    #[serde(default)]
    pub build_metadata: Vec<String>,
}

/// `labels:` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Label {
    #[serde(default)]
    pub pairs: IndexMap<String, String>,
    #[serde(default)]
    pub include_selectors: bool,
    #[serde(default)]
    pub include_templates: bool,
    #[serde(default)]
    pub fields: Vec<crate::fieldspec::FieldSpec>,
}

/// Patch target selector (`patches[].target`, `patchesJson6902[].target`, replacement
/// `select` / `reject`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selector {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub label_selector: String,
    #[serde(default)]
    pub annotation_selector: String,
}

/// `patches:` / `patchesJson6902:` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Patch {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub patch: String,
    #[serde(default)]
    pub target: Option<Selector>,
    #[serde(default)]
    pub options: IndexMap<String, bool>,
}

/// `images:` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Image {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub new_name: String,
    #[serde(default)]
    pub new_tag: String,
    #[serde(default)]
    pub tag_suffix: String,
    #[serde(default)]
    pub digest: String,
}

/// `replicas:` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Replica {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub count: i64,
}

/// `replacements:` entry: either `{path: file}` or an inline replacement.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplacementField {
    #[serde(default)]
    pub path: String,
    #[serde(flatten)]
    pub inline: IndexMap<String, Value>,
}

/// `vars:` entry.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Var {
    pub name: String,
    #[serde(default)]
    pub objref: VarObjRef,
    #[serde(default)]
    pub fieldref: VarFieldRef,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VarObjRef {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub api_version: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VarFieldRef {
    #[serde(default)]
    pub field_path: String,
}

/// `sortOptions:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SortOptions {
    #[serde(default)]
    pub order: String,
    #[serde(default)]
    pub legacy_sort_options: Option<LegacySortOptions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LegacySortOptions {
    #[serde(default)]
    pub order_first: Vec<String>,
    #[serde(default)]
    pub order_last: Vec<String>,
}

/// `configMapGenerator:` / `secretGenerator:` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorArgs {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub behavior: String,
    #[serde(default)]
    pub literals: Vec<String>,
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub envs: Vec<String>,
    #[serde(default)]
    pub env: String,
    /// Secret type (secretGenerator only).
    #[serde(default, rename = "type")]
    pub kind_type: String,
    #[serde(default)]
    pub options: Option<GeneratorOptions>,
}

/// `generatorOptions:` and per-generator `options:`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorOptions {
    #[serde(default)]
    pub labels: IndexMap<String, String>,
    #[serde(default)]
    pub annotations: IndexMap<String, String>,
    #[serde(default)]
    pub disable_name_suffix_hash: Option<bool>,
    #[serde(default)]
    pub immutable: bool,
}

impl Kustomization {
    /// kustomize's `FixKustomization`: defaults for kind/apiVersion, and legacy fields folded
    /// into their replacements (`bases` → `resources`, `imageTags` → `images`, `env` → `envs`).
    pub fn fix(&mut self) {
        if self.kind.is_empty() {
            self.kind = KIND_KUSTOMIZATION.to_string();
        }
        if self.api_version.is_empty() {
            self.api_version = if self.kind == KIND_COMPONENT {
                "kustomize.config.k8s.io/v1alpha1".to_string()
            } else {
                "kustomize.config.k8s.io/v1beta1".to_string()
            };
        }
        let bases = std::mem::take(&mut self.bases);
        self.resources.extend(bases);
        let tags = std::mem::take(&mut self.image_tags);
        self.images.extend(tags);
        for g in self
            .config_map_generator
            .iter_mut()
            .chain(self.secret_generator.iter_mut())
        {
            if !g.env.is_empty() {
                let env = std::mem::take(&mut g.env);
                g.envs.push(env);
            }
        }
    }

    pub fn is_component(&self) -> bool {
        self.kind == KIND_COMPONENT
    }
}

/// The struct shapes of a kustomization, for [`normalize_field_names`].
#[derive(Clone, Copy)]
enum Shape {
    Top,
    Label,
    Selector,
    Patch,
    Image,
    Replica,
    Var,
    ObjRef,
    FieldRef,
    Sort,
    LegacySort,
    Generator,
    GenOptions,
    FieldSpec,
}

/// A field: its name and, when it holds structs, their shape and whether it is a list.
type FieldDef = (&'static str, Option<(Shape, bool)>);

fn fields(shape: Shape) -> &'static [FieldDef] {
    use Shape::*;
    match shape {
        Top => &[
            ("apiVersion", None),
            ("kind", None),
            ("metadata", None),
            ("openapi", None),
            ("namePrefix", None),
            ("nameSuffix", None),
            ("namespace", None),
            ("commonLabels", None),
            ("labels", Some((Label, true))),
            ("commonAnnotations", None),
            ("patchesStrategicMerge", None),
            ("patchesJson6902", Some((Patch, true))),
            ("patches", Some((Patch, true))),
            ("images", Some((Image, true))),
            ("imageTags", Some((Image, true))),
            ("replacements", None),
            ("replicas", Some((Replica, true))),
            ("vars", Some((Var, true))),
            ("sortOptions", Some((Sort, false))),
            ("resources", None),
            ("components", None),
            ("crds", None),
            ("bases", None),
            ("configMapGenerator", Some((Generator, true))),
            ("secretGenerator", Some((Generator, true))),
            ("helmGlobals", None),
            ("helmCharts", None),
            ("helmChartInflationGenerator", None),
            ("generatorOptions", Some((GenOptions, false))),
            ("generators", None),
            ("transformers", None),
            ("validators", None),
            ("configurations", None),
            ("buildMetadata", None),
        ],
        Label => &[
            ("pairs", None),
            ("includeSelectors", None),
            ("includeTemplates", None),
            ("fields", Some((FieldSpec, true))),
        ],
        Selector => &[
            ("group", None),
            ("version", None),
            ("kind", None),
            ("name", None),
            ("namespace", None),
            ("labelSelector", None),
            ("annotationSelector", None),
        ],
        Patch => &[
            ("path", None),
            ("patch", None),
            ("target", Some((Selector, false))),
            ("options", None),
        ],
        Image => &[
            ("name", None),
            ("newName", None),
            ("newTag", None),
            ("tagSuffix", None),
            ("digest", None),
        ],
        Replica => &[("name", None), ("count", None)],
        Var => &[
            ("name", None),
            ("objref", Some((ObjRef, false))),
            ("fieldref", Some((FieldRef, false))),
        ],
        ObjRef => &[
            ("group", None),
            ("version", None),
            ("kind", None),
            ("name", None),
            ("namespace", None),
            ("apiVersion", None),
        ],
        FieldRef => &[("fieldPath", None)],
        Sort => &[
            ("order", None),
            ("legacySortOptions", Some((LegacySort, false))),
        ],
        LegacySort => &[("orderFirst", None), ("orderLast", None)],
        Generator => &[
            ("name", None),
            ("namespace", None),
            ("behavior", None),
            ("literals", None),
            ("files", None),
            ("envs", None),
            ("env", None),
            ("type", None),
            ("options", Some((GenOptions, false))),
        ],
        GenOptions => &[
            ("labels", None),
            ("annotations", None),
            ("disableNameSuffixHash", None),
            ("immutable", None),
        ],
        FieldSpec => &[
            ("group", None),
            ("version", None),
            ("kind", None),
            ("path", None),
            ("create", None),
        ],
    }
}

/// Go's encoding/json matches struct field names case-insensitively, so kustomize accepts
/// `nameprefix:` or `fieldpath:`; rename such keys to their canonical spelling (exact matches
/// win, as in Go) so typed decoding sees them.
pub fn normalize_field_names(v: &mut Value) {
    normalize(v, Shape::Top);
}

fn normalize(v: &mut Value, shape: Shape) {
    let Value::Object(map) = v else { return };
    let defs = fields(shape);
    let keys: Vec<String> = map.keys().cloned().collect();
    for k in keys {
        if defs.iter().any(|(n, _)| *n == k) {
            continue;
        }
        if let Some((canon, _)) = defs.iter().find(|(n, _)| n.eq_ignore_ascii_case(&k)) {
            if !map.contains_key(*canon) {
                if let Some(val) = map.shift_remove(&k) {
                    map.insert((*canon).to_string(), val);
                }
            }
        }
    }
    for (name, child) in defs {
        let Some((child_shape, is_list)) = child else {
            continue;
        };
        match map.get_mut(*name) {
            Some(Value::Array(items)) if *is_list => {
                for it in items {
                    normalize(it, *child_shape);
                }
            }
            Some(obj @ Value::Object(_)) if !*is_list => normalize(obj, *child_shape),
            _ => {}
        }
    }
}
