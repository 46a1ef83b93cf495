//! kustomize's LabelTransformer as `commonLabels:` and `labels:` configure it. Labels are set
//! as strings, one key at a time in sorted key order, in every field spec that selects the
//! resource, creating maps where the spec says `create: true`.
//!
//! `commonLabels` uses the `commonLabels` specs: metadata labels, pod template labels,
//! StatefulSet volumeClaimTemplates, and selectors (Service `spec.selector`, workload
//! `spec.selector.matchLabels`, created when missing; Job, CronJob, PodDisruptionBudget and
//! NetworkPolicy selectors and pod (anti-)affinity / topology spread selectors only when
//! present). A `labels:` entry uses its own `fields` plus the configured `labels` specs,
//! then either all `commonLabels` specs (`includeSelectors`) or the `templateLabels` specs
//! (`includeTemplates`, no selectors) and `metadata/labels`.

use indexmap::IndexMap;

use crate::error::RenderError;
use crate::fieldspec::{merge_field_specs, CreateKind, FieldSpec, TransformerConfig};
use crate::kustomization::Label;
use crate::resmap::ResMap;

use super::fields::{apply_specs, set_entry};

const NAME: &str = "labels";

pub fn apply_common_labels(
    rm: &mut ResMap,
    labels: &IndexMap<String, String>,
    cfg: &TransformerConfig,
) -> Result<(), RenderError> {
    apply_with_specs(rm, labels, &cfg.common_labels)
}

pub fn apply_labels(
    rm: &mut ResMap,
    label: &Label,
    cfg: &TransformerConfig,
) -> Result<(), RenderError> {
    let merge_err =
        |e: String| RenderError::transform(NAME, format!("failed to merge labels: {e}"));
    let mut specs: Vec<FieldSpec> = Vec::new();
    merge_field_specs(&mut specs, &label.fields).map_err(merge_err)?;
    merge_field_specs(&mut specs, &cfg.labels).map_err(merge_err)?;
    if label.include_selectors {
        merge_field_specs(&mut specs, &cfg.common_labels).map_err(merge_err)?;
    } else {
        if label.include_templates {
            merge_field_specs(&mut specs, &cfg.template_labels).map_err(|e| {
                RenderError::transform(NAME, format!("failed to merge template fieldSpec: {e}"))
            })?;
        }
        let meta = FieldSpec::new("", "", "", "metadata/labels", true);
        merge_field_specs(&mut specs, &[meta]).map_err(merge_err)?;
    }
    apply_with_specs(rm, &label.pairs, &specs)
}

fn apply_with_specs(
    rm: &mut ResMap,
    labels: &IndexMap<String, String>,
    specs: &[FieldSpec],
) -> Result<(), RenderError> {
    let mut keys: Vec<&String> = labels.keys().collect();
    keys.sort();
    for r in rm.iter_mut() {
        for k in &keys {
            let mut set = set_entry(k, &labels[*k]);
            apply_specs(NAME, r, specs, Some(CreateKind::Map), &mut set)?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "labels_tests.rs"]
mod tests;
