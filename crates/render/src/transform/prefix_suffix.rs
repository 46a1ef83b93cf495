//! kustomize v5's PrefixTransformer and SuffixTransformer as `namePrefix:` / `nameSuffix:`
//! configure them: the prefix pass runs over all resources, then the suffix pass. Resources
//! whose *original* gvk is a CustomResourceDefinition, an `apiregistration.k8s.io`
//! APIService or a Namespace are skipped. For the `metadata/name` spec the affix is
//! recorded in `meta.prefixes` / `meta.suffixes` and the id remembered before renaming;
//! other specs (e.g. from `configurations:`) just get the affix.

use serde_json::Value;

use crate::error::RenderError;
use crate::fieldspec::{CreateKind, FieldSpec, Gvk, TransformerConfig};
use crate::resmap::ResMap;

use super::fields::{apply_specs, node_kind, scalar_text};

fn skipped(gvk: &Gvk) -> bool {
    let skip = [
        Gvk::new("", "", "CustomResourceDefinition"),
        Gvk::new("apiregistration.k8s.io", "", "APIService"),
        Gvk::new("", "", "Namespace"),
    ];
    skip.iter().any(|s| gvk.is_selected(s))
}

pub fn apply(
    rm: &mut ResMap,
    prefix: &str,
    suffix: &str,
    cfg: &TransformerConfig,
) -> Result<(), RenderError> {
    if !prefix.is_empty() {
        affix(rm, prefix, "", &cfg.name_prefix)?;
    }
    if !suffix.is_empty() {
        affix(rm, "", suffix, &cfg.name_suffix)?;
    }
    Ok(())
}

/// The PrefixSuffixTransformer, PrefixTransformer and SuffixTransformer plugins: one pass
/// adding both affixes with the config's field specs (empty affixes are not recorded, the
/// id is remembered once per resource and spec when either is set).
pub fn apply_plugin(
    rm: &mut ResMap,
    prefix: &str,
    suffix: &str,
    specs: &[FieldSpec],
) -> Result<(), RenderError> {
    affix(rm, prefix, suffix, specs)
}

fn affix(
    rm: &mut ResMap,
    prefix: &str,
    suffix: &str,
    specs: &[FieldSpec],
) -> Result<(), RenderError> {
    let name = match (prefix.is_empty(), suffix.is_empty()) {
        (false, true) => "prefix",
        (true, false) => "suffix",
        _ => "prefixsuffix",
    };
    for r in rm.iter_mut() {
        let org = Gvk::of_id(&r.original_id());
        if skipped(&org) {
            continue;
        }
        for fs in specs {
            if !fs.selects(&org) {
                continue;
            }
            if fs.path == "metadata/name" {
                if !prefix.is_empty() {
                    r.meta.prefixes.push(prefix.to_string());
                }
                if !suffix.is_empty() {
                    r.meta.suffixes.push(suffix.to_string());
                }
                if !prefix.is_empty() || !suffix.is_empty() {
                    r.remember_id();
                }
            }
            let mut set = |node: &mut Value| {
                let cur = scalar_text(node).ok_or_else(|| {
                    format!(
                        "wrong node kind: expected ScalarNode but got {}",
                        node_kind(node)
                    )
                })?;
                *node = Value::String(format!("{prefix}{cur}{suffix}"));
                Ok(())
            };
            apply_specs(
                name,
                r,
                std::slice::from_ref(fs),
                Some(CreateKind::Scalar),
                &mut set,
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "prefix_suffix_tests.rs"]
mod tests;
