//! kustomize's AnnotationsTransformer for `commonAnnotations:`: each annotation (in sorted
//! key order) is set, as a string, in every `commonAnnotations` field spec that selects the
//! resource (`metadata/annotations` of everything, pod template annotations of workloads),
//! creating the maps where the spec says so.

use indexmap::IndexMap;

use crate::error::RenderError;
use crate::fieldspec::{CreateKind, TransformerConfig};
use crate::resmap::ResMap;

use super::fields::{apply_specs, set_entry};

pub fn apply(
    rm: &mut ResMap,
    annotations: &IndexMap<String, String>,
    cfg: &TransformerConfig,
) -> Result<(), RenderError> {
    let mut keys: Vec<&String> = annotations.keys().collect();
    keys.sort();
    for r in rm.iter_mut() {
        for k in &keys {
            let mut set = set_entry(k, &annotations[*k]);
            apply_specs(
                "annotations",
                r,
                &cfg.common_annotations,
                Some(CreateKind::Map),
                &mut set,
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Resource;
    use serde_json::{json, Value};

    #[test]
    fn annotations_reach_metadata_and_templates() {
        // Oracle: commonAnnotations {a: "1"} over a Deployment and a CronJob with no
        // annotations prints a: "1" in metadata, spec.template.metadata, and for the CronJob
        // in spec.jobTemplate.metadata and spec.jobTemplate.spec.template.metadata.
        let mut rm: ResMap = [
            json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
                   "spec":{"template":{"spec":{}}}}),
            json!({"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"c"},"spec":{}}),
        ]
        .into_iter()
        .map(|v| match v {
            Value::Object(m) => Resource::new(m),
            _ => unreachable!(),
        })
        .collect();
        let ann: IndexMap<String, String> = [("a".to_string(), "1".to_string())].into();
        apply(&mut rm, &ann, &TransformerConfig::builtin()).unwrap();
        let d = Value::Object(rm.resources()[0].obj.clone());
        assert_eq!(d["metadata"]["annotations"], json!({"a": "1"}));
        assert_eq!(
            d["spec"]["template"]["metadata"]["annotations"],
            json!({"a": "1"})
        );
        let c = Value::Object(rm.resources()[1].obj.clone());
        assert_eq!(
            c["spec"]["jobTemplate"]["metadata"]["annotations"],
            json!({"a": "1"})
        );
        assert_eq!(
            c["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["annotations"],
            json!({"a": "1"})
        );
    }
}
