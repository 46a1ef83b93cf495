//! Field specs: which fields of which kinds a transformer touches (kustomize's
//! `FieldSpec` and `TransformerConfig`), the built-in tables, and the path walker.
//!
//! A spec selects resources the way kustomize's `Gvk.IsSelected` does: each non-empty
//! group, version or kind of the spec must equal the resource's. Paths are `/`-separated,
//! `\/` escapes a slash inside a key, and a `[]` suffix marks a list field (see [`walk`]).

mod builtin;
pub mod walk;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::resource::{ResId, Resource};

pub use walk::{apply_at_path, split_path, CreateKind};

/// One field of one kind (empty group/version/kind match anything), e.g.
/// `{kind: Deployment, path: spec/template/metadata/labels, create: true}`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldSpec {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub create: bool,
}

/// Group, version and kind; as a selector, empty parts match anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    pub fn new(group: &str, version: &str, kind: &str) -> Gvk {
        Gvk {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        }
    }

    /// The current gvk of a resource.
    pub fn of_resource(r: &Resource) -> Gvk {
        let (g, v) = ResId::split_api_version(r.api_version());
        Gvk::new(g, v, r.kind())
    }

    pub fn of_id(id: &ResId) -> Gvk {
        Gvk::new(&id.group, &id.version, &id.kind)
    }

    /// kustomize's `Gvk.IsSelected`: every non-empty part of `selector` must match.
    pub fn is_selected(&self, selector: &Gvk) -> bool {
        (selector.group.is_empty() || selector.group == self.group)
            && (selector.version.is_empty() || selector.version == self.version)
            && (selector.kind.is_empty() || selector.kind == self.kind)
    }

    /// True for the kinds kustomize's built-in OpenAPI schema (Kubernetes 1.21) knows as
    /// cluster-scoped; anything else, including unknown custom kinds, counts as namespaced.
    /// Confirmed against `kubectl kustomize` with `namespace:` over each of these gvks.
    pub fn is_cluster_scoped(&self) -> bool {
        let v = self.version.as_str();
        let v1_or_beta = v == "v1" || v == "v1beta1";
        match (self.group.as_str(), self.kind.as_str()) {
            ("", "Namespace" | "Node" | "PersistentVolume" | "ComponentStatus") => v == "v1",
            ("storage.k8s.io", "StorageClass" | "CSIDriver" | "CSINode" | "VolumeAttachment") => {
                v1_or_beta
            }
            ("apiextensions.k8s.io", "CustomResourceDefinition") => v1_or_beta,
            ("apiregistration.k8s.io", "APIService") => v1_or_beta,
            ("policy", "PodSecurityPolicy") => v == "v1beta1",
            ("rbac.authorization.k8s.io", "ClusterRole" | "ClusterRoleBinding") => v1_or_beta,
            ("scheduling.k8s.io", "PriorityClass") => v1_or_beta,
            ("certificates.k8s.io", "CertificateSigningRequest") => v1_or_beta,
            ("flowcontrol.apiserver.k8s.io", "FlowSchema" | "PriorityLevelConfiguration") => {
                v == "v1beta1"
            }
            ("networking.k8s.io", "IngressClass") => v1_or_beta,
            ("node.k8s.io", "RuntimeClass") => v1_or_beta,
            (
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration",
            ) => v1_or_beta,
            _ => false,
        }
    }
}

/// kustomize's kind order for sorting gvks (`resid.Gvk.IsLessThan`).
const ORDER_FIRST: [&str; 22] = [
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
const ORDER_LAST: [&str; 2] = [
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

impl Gvk {
    fn type_order(&self) -> i64 {
        if let Some(i) = ORDER_FIRST.iter().position(|k| *k == self.kind) {
            return i as i64 - ORDER_FIRST.len() as i64;
        }
        if let Some(i) = ORDER_LAST.iter().position(|k| *k == self.kind) {
            return i as i64 + 1;
        }
        0
    }

    /// kustomize's gvk order (`IsLessThan`): known kinds first/last, then by string form.
    pub fn kustomize_cmp(a: &Gvk, b: &Gvk) -> std::cmp::Ordering {
        a.type_order()
            .cmp(&b.type_order())
            .then_with(|| a.to_string().cmp(&b.to_string()))
    }
}

impl std::fmt::Display for Gvk {
    /// kustomize's `Gvk.String()`: `kind.version.group` with placeholders for empty parts.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let or = |s: &'_ str, d: &'static str| {
            if s.is_empty() {
                d.to_string()
            } else {
                s.to_string()
            }
        };
        write!(
            f,
            "{}.{}.{}",
            or(&self.kind, "[noKind]"),
            or(&self.version, "[noVer]"),
            or(&self.group, "[noGrp]")
        )
    }
}

impl FieldSpec {
    pub fn new(group: &str, version: &str, kind: &str, path: &str, create: bool) -> FieldSpec {
        FieldSpec {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
            path: path.to_string(),
            create,
        }
    }

    pub fn gvk(&self) -> Gvk {
        Gvk::new(&self.group, &self.version, &self.kind)
    }

    /// Does this spec apply to an object of `gvk`?
    pub fn selects(&self, gvk: &Gvk) -> bool {
        gvk.is_selected(&self.gvk())
    }

    /// Does this spec apply to the resource's current gvk (kustomize's `isMatchGVK`)?
    pub fn applies_to(&self, r: &Resource) -> bool {
        self.selects(&Gvk::of_resource(r))
    }

    /// The path split into keys, honouring `\/` escapes.
    pub fn path_segments(&self) -> Vec<String> {
        split_path(&self.path)
    }

    /// kustomize's `effectivelyEquals` (asymmetric on purpose: a spec with an empty gvk
    /// counts as already present when any spec with the same path is).
    fn effectively_equals(&self, other: &FieldSpec) -> bool {
        self.gvk().is_selected(&other.gvk()) && self.path == other.path
    }

    fn parse(v: &Value, what: &str) -> Result<FieldSpec, String> {
        let m = v
            .as_object()
            .ok_or_else(|| format!("{what}: field spec must be a map"))?;
        let s = |k: &str| -> Result<String, String> {
            match m.get(k) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(other) => Err(format!(
                    "{what}: field spec '{k}' must be a string, got {other}"
                )),
            }
        };
        let create = match m.get("create") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(format!(
                    "{what}: field spec 'create' must be a bool, got {other}"
                ))
            }
        };
        Ok(FieldSpec {
            group: s("group")?,
            version: s("version")?,
            kind: s("kind")?,
            path: s("path")?,
            create,
        })
    }
}

/// kustomize's `FsSlice.MergeAll`: add the specs not already (effectively) present; a spec
/// present with a different `create` is a conflict.
pub fn merge_field_specs(into: &mut Vec<FieldSpec>, incoming: &[FieldSpec]) -> Result<(), String> {
    for x in incoming {
        match into.iter().find(|s| s.effectively_equals(x)) {
            Some(s) if s.create != x.create => return Err("conflicting fieldspecs".to_string()),
            Some(_) => {}
            None => into.push(x.clone()),
        }
    }
    Ok(())
}

/// A referenced gvk and the referrer fields that may hold its name (`nameReference:` entry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameBackReference {
    pub gvk: Gvk,
    pub field_specs: Vec<FieldSpec>,
}

/// Which fields each built-in transformer touches; merged from the built-in defaults,
/// `configurations:` files and CRDs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransformerConfig {
    pub name_prefix: Vec<FieldSpec>,
    pub name_suffix: Vec<FieldSpec>,
    pub namespace: Vec<FieldSpec>,
    pub common_labels: Vec<FieldSpec>,
    /// `labels:` specs of configuration files, used by every `labels:` entry (none built in).
    pub labels: Vec<FieldSpec>,
    pub template_labels: Vec<FieldSpec>,
    pub common_annotations: Vec<FieldSpec>,
    pub name_reference: Vec<NameBackReference>,
    pub var_reference: Vec<FieldSpec>,
    pub images: Vec<FieldSpec>,
    pub replicas: Vec<FieldSpec>,
}

fn rows(rows: &[builtin::Row]) -> Vec<FieldSpec> {
    rows.iter()
        .map(|(g, v, k, p, c)| FieldSpec::new(g, v, k, p, *c))
        .collect()
}

impl TransformerConfig {
    /// kustomize's built-in defaults (v5.5.0).
    pub fn builtin() -> TransformerConfig {
        TransformerConfig {
            name_prefix: rows(builtin::NAME_PREFIX),
            name_suffix: rows(builtin::NAME_SUFFIX),
            namespace: rows(builtin::NAMESPACE),
            common_labels: rows(builtin::COMMON_LABELS),
            labels: Vec::new(),
            template_labels: rows(builtin::TEMPLATE_LABELS),
            common_annotations: rows(builtin::COMMON_ANNOTATIONS),
            name_reference: builtin::NAME_REFERENCE
                .iter()
                .map(|((g, v, k), specs)| NameBackReference {
                    gvk: Gvk::new(g, v, k),
                    field_specs: rows(specs),
                })
                .collect(),
            var_reference: rows(builtin::VAR_REFERENCE),
            images: rows(builtin::IMAGES),
            replicas: rows(builtin::REPLICAS),
        }
    }

    /// kustomize's `TransformerConfig.Merge`, failing on conflicting specs (same gvk and
    /// path, different `create`) with kustomize's message.
    pub fn try_merge(&mut self, other: &TransformerConfig) -> Result<(), String> {
        let lists: [(&mut Vec<FieldSpec>, &Vec<FieldSpec>, &str); 10] = [
            (&mut self.name_prefix, &other.name_prefix, "NamePrefix"),
            (&mut self.name_suffix, &other.name_suffix, "NameSuffix"),
            (&mut self.namespace, &other.namespace, "NameSpace"),
            (
                &mut self.common_annotations,
                &other.common_annotations,
                "CommonAnnotations",
            ),
            (
                &mut self.common_labels,
                &other.common_labels,
                "CommonLabels",
            ),
            (&mut self.labels, &other.labels, "Labels"),
            (
                &mut self.template_labels,
                &other.template_labels,
                "TemplateLabels",
            ),
            (
                &mut self.var_reference,
                &other.var_reference,
                "VarReference",
            ),
            (&mut self.images, &other.images, "Images"),
            (&mut self.replicas, &other.replicas, "Replicas"),
        ];
        for (into, incoming, name) in lists {
            merge_field_specs(into, incoming)
                .map_err(|e| format!("failed to merge {name} fieldSpec: {e}"))?;
        }
        for nbr in &other.name_reference {
            match self.name_reference.iter_mut().find(|x| x.gvk == nbr.gvk) {
                Some(x) => merge_field_specs(&mut x.field_specs, &nbr.field_specs)
                    .map_err(|e| format!("failed to merge NameReference fieldSpec: {e}"))?,
                None => self.name_reference.push(nbr.clone()),
            }
        }
        Ok(())
    }

    /// Add another config's specs, skipping duplicates (kustomize's `Merge`). A conflicting
    /// spec (kustomize's error) keeps the existing one; use [`Self::try_merge`] to see it.
    pub fn merge(&mut self, other: &TransformerConfig) {
        let mut copy = self.clone();
        match copy.try_merge(other) {
            Ok(()) => *self = copy,
            Err(e) => {
                tracing::warn!("transformer config: {e}");
                let lenient = |into: &mut Vec<FieldSpec>, incoming: &[FieldSpec]| {
                    for x in incoming {
                        if !into.iter().any(|s| s.effectively_equals(x)) {
                            into.push(x.clone());
                        }
                    }
                };
                lenient(&mut self.name_prefix, &other.name_prefix);
                lenient(&mut self.name_suffix, &other.name_suffix);
                lenient(&mut self.namespace, &other.namespace);
                lenient(&mut self.common_annotations, &other.common_annotations);
                lenient(&mut self.common_labels, &other.common_labels);
                lenient(&mut self.labels, &other.labels);
                lenient(&mut self.template_labels, &other.template_labels);
                lenient(&mut self.var_reference, &other.var_reference);
                lenient(&mut self.images, &other.images);
                lenient(&mut self.replicas, &other.replicas);
                for nbr in &other.name_reference {
                    match self.name_reference.iter_mut().find(|x| x.gvk == nbr.gvk) {
                        Some(x) => lenient(&mut x.field_specs, &nbr.field_specs),
                        None => self.name_reference.push(nbr.clone()),
                    }
                }
            }
        }
    }

    /// A `configurations:` file (already parsed). Unknown top-level keys are ignored, as
    /// kustomize's non-strict unmarshalling does.
    pub fn from_value(v: &Value) -> Result<TransformerConfig, String> {
        let m = match v {
            Value::Null => return Ok(TransformerConfig::default()),
            Value::Object(m) => m,
            _ => return Err("transformer configuration must be a map".to_string()),
        };
        let list = |key: &str| -> Result<Vec<FieldSpec>, String> {
            match m.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(a)) => a.iter().map(|x| FieldSpec::parse(x, key)).collect(),
                Some(_) => Err(format!("{key}: must be a list of field specs")),
            }
        };
        let mut name_reference = Vec::new();
        match m.get("nameReference") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                for e in a {
                    let fs = FieldSpec::parse(e, "nameReference")?;
                    let em = e.as_object().cloned().unwrap_or_default();
                    let specs = match em.get("fieldSpecs") {
                        None | Some(Value::Null) => Vec::new(),
                        Some(Value::Array(a)) => a
                            .iter()
                            .map(|x| FieldSpec::parse(x, "nameReference.fieldSpecs"))
                            .collect::<Result<_, _>>()?,
                        Some(_) => return Err("nameReference.fieldSpecs: must be a list".into()),
                    };
                    name_reference.push(NameBackReference {
                        gvk: fs.gvk(),
                        field_specs: specs,
                    });
                }
            }
            Some(_) => return Err("nameReference: must be a list".into()),
        }
        // kustomize merges entries for the same gvk.
        let mut cfg = TransformerConfig {
            name_prefix: list("namePrefix")?,
            name_suffix: list("nameSuffix")?,
            namespace: list("namespace")?,
            common_labels: list("commonLabels")?,
            labels: list("labels")?,
            template_labels: list("templateLabels")?,
            common_annotations: list("commonAnnotations")?,
            name_reference: Vec::new(),
            var_reference: list("varReference")?,
            images: list("images")?,
            replicas: list("replicas")?,
        };
        let refs = TransformerConfig {
            name_reference,
            ..TransformerConfig::default()
        };
        cfg.try_merge(&refs)?;
        Ok(cfg)
    }

    /// A `crds:` file (already parsed): kustomize reads it as a map of OpenAPI definitions
    /// (`{"<pkg>.<version>.<Kind>": {"Schema": {...}}}`) and takes, from the properties of
    /// each type that looks like a Kubernetes object, `x-kubernetes-annotation` (annotation
    /// field), `x-kubernetes-label-selector` (commonLabels field), `x-kubernetes-identity`
    /// (name prefix field) and `x-kubernetes-object-ref-api-version` + `-kind` (+ optional
    /// `-name-key`, default `name`) name references, following `$ref`s.
    pub fn from_crd(v: &Value) -> Result<TransformerConfig, String> {
        let defs = match v {
            Value::Null => return Ok(TransformerConfig::default()),
            Value::Object(m) => m,
            _ => return Err("unable to parse open API definition: not a map".to_string()),
        };
        let mut out = TransformerConfig::default();
        for (name, def) in defs {
            let Some(props) = properties(def) else {
                continue;
            };
            if !(props.contains_key("kind")
                && props.contains_key("apiVersion")
                && props.contains_key("metadata"))
            {
                continue;
            }
            if name.split('.').count() < 3 {
                return Err(
                    "`api` should be specified in dot notation: group.version.kind".to_string(),
                );
            }
            let kind = name.rsplit('.').next().unwrap_or_default();
            let gvk = Gvk::new("", "", kind);
            let mut tc = TransformerConfig::default();
            load_crd_type(&mut tc, &gvk, defs, name, &mut Vec::new(), 0)?;
            out.try_merge(&tc)?;
        }
        Ok(out)
    }
}

/// `Schema.properties` of an OpenAPI definition (Go's JSON decoding matches `Schema`
/// case-insensitively).
fn properties(def: &Value) -> Option<&Map<String, Value>> {
    let m = def.as_object()?;
    let schema = m
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schema"))
        .map(|(_, v)| v)?;
    schema.get("properties")?.as_object()
}

/// A string-valued `x-` extension (go-openapi lower-cases extension keys).
fn extension<'a>(prop: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    prop.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_str())
}

fn load_crd_type(
    tc: &mut TransformerConfig,
    gvk: &Gvk,
    defs: &Map<String, Value>,
    type_name: &str,
    path: &mut Vec<String>,
    depth: usize,
) -> Result<(), String> {
    // kustomize recurses without a guard; stop self-referencing schemas instead of looping.
    if depth > 64 {
        return Ok(());
    }
    let Some(props) = defs.get(type_name).and_then(properties) else {
        return Ok(());
    };
    let fs = |path: &[String], extra: &[&str]| {
        let mut p: Vec<&str> = path.iter().map(String::as_str).collect();
        p.extend_from_slice(extra);
        FieldSpec {
            group: gvk.group.clone(),
            version: gvk.version.clone(),
            kind: gvk.kind.clone(),
            path: p.join("/"),
            create: false,
        }
    };
    for (prop_name, prop) in props {
        let Some(prop) = prop.as_object() else {
            continue;
        };
        if extension(prop, "x-kubernetes-annotation").is_some() {
            merge_field_specs(&mut tc.common_annotations, &[fs(path, &[prop_name])])?;
        }
        if extension(prop, "x-kubernetes-label-selector").is_some() {
            merge_field_specs(&mut tc.common_labels, &[fs(path, &[prop_name])])?;
        }
        if extension(prop, "x-kubernetes-identity").is_some() {
            merge_field_specs(&mut tc.name_prefix, &[fs(path, &[prop_name])])?;
        }
        if let (Some(version), Some(kind)) = (
            extension(prop, "x-kubernetes-object-ref-api-version"),
            extension(prop, "x-kubernetes-object-ref-kind"),
        ) {
            let key = extension(prop, "x-kubernetes-object-ref-name-key").unwrap_or("name");
            let nbr = NameBackReference {
                gvk: Gvk::new("", version, kind),
                field_specs: vec![fs(path, &[prop_name, key])],
            };
            tc.try_merge(&TransformerConfig {
                name_reference: vec![nbr],
                ..TransformerConfig::default()
            })?;
        }
        if let Some(r) = prop.get("$ref").and_then(Value::as_str) {
            if !r.is_empty() {
                path.push(prop_name.clone());
                load_crd_type(tc, gvk, defs, r, path, depth + 1)?;
                path.pop();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
