//! The resources of a CustomResourceDefinition (apiextensions.k8s.io/v1): one per served
//! version, with scope, names, subresources, printer columns and schema.
use std::sync::Arc;

use serde_json::Value;

use super::{version_priority, PrinterColumn, ResourceInfo, ScaleInfo, Subresources};
use crate::Error;

fn s<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn required<'a>(crd: &'a Value, ptr: &str, field: &str) -> Result<&'a str, Error> {
    match s(crd, ptr) {
        Some(x) if !x.is_empty() => Ok(x),
        _ => Err(Error::BadRequest(format!(
            "CustomResourceDefinition: {field}: Required value"
        ))),
    }
}

/// One resource per served version of the CRD, preferred version first.
pub(super) fn resources(crd: &Value) -> Result<Vec<ResourceInfo>, Error> {
    let group = required(crd, "/spec/group", "spec.group")?;
    let plural = required(crd, "/spec/names/plural", "spec.names.plural")?;
    let kind = required(crd, "/spec/names/kind", "spec.names.kind")?;
    let singular = s(crd, "/spec/names/singular")
        .filter(|x| !x.is_empty())
        .map(String::from)
        .unwrap_or_else(|| kind.to_ascii_lowercase());
    let namespaced = match s(crd, "/spec/scope") {
        Some("Namespaced") => true,
        Some("Cluster") => false,
        _ => {
            return Err(Error::BadRequest(
                "CustomResourceDefinition: spec.scope: Unsupported value: must be Namespaced or Cluster"
                    .into(),
            ))
        }
    };
    let short_names = strings(crd.pointer("/spec/names/shortNames"));
    let categories = strings(crd.pointer("/spec/names/categories"));
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Error::BadRequest("CustomResourceDefinition: spec.versions: Required value".into())
        })?;
    let mut served: Vec<&Value> = versions
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(false))
        .collect();
    served.sort_by(|a, b| {
        let va = s(a, "/name").unwrap_or_default();
        let vb = s(b, "/name").unwrap_or_default();
        version_priority(vb).cmp(&version_priority(va))
    });
    let mut out = Vec::new();
    for (i, v) in served.into_iter().enumerate() {
        let name = required(v, "/name", "spec.versions[].name")?;
        let subresources = Subresources {
            status: v.pointer("/subresources/status").is_some(),
            scale: v.pointer("/subresources/scale").map(|sc| ScaleInfo {
                spec_replicas_path: s(sc, "/specReplicasPath").unwrap_or_default().into(),
                status_replicas_path: s(sc, "/statusReplicasPath").unwrap_or_default().into(),
                label_selector_path: s(sc, "/labelSelectorPath").map(String::from),
            }),
            other: Vec::new(),
        };
        let printer_columns = v
            .get("additionalPrinterColumns")
            .and_then(Value::as_array)
            .map(|cols| cols.iter().map(printer_column).collect())
            .unwrap_or_default();
        out.push(ResourceInfo {
            group: group.into(),
            version: name.into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: singular.clone(),
            short_names: short_names.clone(),
            namespaced,
            categories: categories.clone(),
            verbs: [
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "create",
                "update",
                "watch",
            ]
            .iter()
            .map(|x| x.to_string())
            .collect(),
            subresources,
            preferred: i == 0,
            storage: v.get("storage").and_then(Value::as_bool).unwrap_or(false),
            custom: true,
            printer_columns,
            schema: v.pointer("/schema/openAPIV3Schema").cloned().map(Arc::new),
            deprecated: v
                .get("deprecated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        });
    }
    Ok(out)
}

fn printer_column(c: &Value) -> PrinterColumn {
    PrinterColumn {
        name: s(c, "/name").unwrap_or_default().into(),
        type_: s(c, "/type").unwrap_or("string").into(),
        format: s(c, "/format").unwrap_or_default().into(),
        description: s(c, "/description").unwrap_or_default().into(),
        priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
        json_path: s(c, "/jsonPath").unwrap_or_default().into(),
    }
}
