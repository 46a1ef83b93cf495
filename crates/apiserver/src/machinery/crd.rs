//! Fallback: the resources of a CustomResourceDefinition.
use flotilla_apimachinery::registry::{version_priority, PrinterColumn, ScaleInfo, Subresources};
use flotilla_apimachinery::{Error, ResourceInfo};
use serde_json::Value;

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn s(v: &Value, p: &str) -> String {
    v.pointer(p)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// One ResourceInfo per served version.
pub(crate) fn resources(crd: &Value) -> Result<Vec<ResourceInfo>, Error> {
    let spec = &crd["spec"];
    let group = s(spec, "/group");
    let plural = s(spec, "/names/plural");
    let kind = s(spec, "/names/kind");
    if group.is_empty() || plural.is_empty() || kind.is_empty() {
        return Err(Error::BadRequest(
            "spec.group, spec.names.plural and spec.names.kind are required".into(),
        ));
    }
    let mut singular = s(spec, "/names/singular");
    if singular.is_empty() {
        singular = kind.to_ascii_lowercase();
    }
    let namespaced = s(spec, "/scope") != "Cluster";
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    let served: Vec<&Value> = versions
        .iter()
        .filter(|v| v["served"] != Value::Bool(false))
        .collect();
    let preferred = served
        .iter()
        .map(|v| s(v, "/name"))
        .max_by_key(|n| version_priority(n))
        .unwrap_or_default();
    Ok(served
        .into_iter()
        .map(|v| {
            let name = s(v, "/name");
            let sub = &v["subresources"];
            let scale = sub.get("scale").map(|sc| ScaleInfo {
                spec_replicas_path: s(sc, "/specReplicasPath"),
                status_replicas_path: s(sc, "/statusReplicasPath"),
                label_selector_path: sc
                    .get("labelSelectorPath")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
            let printer_columns = v["additionalPrinterColumns"]
                .as_array()
                .map(|cols| {
                    cols.iter()
                        .map(|c| PrinterColumn {
                            name: s(c, "/name"),
                            type_: s(c, "/type"),
                            format: s(c, "/format"),
                            description: s(c, "/description"),
                            priority: c["priority"].as_i64().unwrap_or(0),
                            json_path: s(c, "/jsonPath"),
                        })
                        .collect()
                })
                .unwrap_or_default();
            ResourceInfo {
                group: group.clone(),
                version: name.clone(),
                kind: kind.clone(),
                plural: plural.clone(),
                singular: singular.clone(),
                short_names: strs(&spec["names"]["shortNames"]),
                namespaced,
                categories: strs(&spec["names"]["categories"]),
                verbs: super::all_verbs(),
                subresources: Subresources {
                    status: sub.get("status").is_some(),
                    scale,
                    other: Vec::new(),
                },
                preferred: name == preferred,
                storage: v["storage"] == Value::Bool(true),
                custom: true,
                printer_columns,
                schema: v
                    .pointer("/schema/openAPIV3Schema")
                    .cloned()
                    .map(Into::into),
                deprecated: v["deprecated"] == Value::Bool(true),
            }
        })
        .collect())
}
