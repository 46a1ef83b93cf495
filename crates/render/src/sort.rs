//! Output order: kustomize's legacy order (kinds with dependants first, webhooks last, then
//! by gvk string, namespace, name) unless the top kustomization asks for `fifo`.

use crate::error::RenderError;
use crate::kustomization::SortOptions;
use crate::resource::Resource;
use std::cmp::Ordering;
use std::collections::HashMap;

const DEFAULT_ORDER_FIRST: [&str; 22] = [
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
const DEFAULT_ORDER_LAST: [&str; 2] = [
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

fn gvk_string(group: &str, version: &str, kind: &str) -> String {
    let or = |s: &str, d: &str| {
        if s.is_empty() {
            d.to_string()
        } else {
            s.to_string()
        }
    };
    format!(
        "{}_{}_{}",
        or(group, "~G"),
        or(version, "~V"),
        or(kind, "~K")
    )
}

struct Key {
    rank: i64,
    gvk: String,
    id: String,
}

/// Sort in place as kustomize does for the given (top-level) sort options.
pub fn sort(resources: &mut Vec<Resource>, opts: Option<&SortOptions>) -> Result<(), RenderError> {
    let (first, last): (Vec<String>, Vec<String>) = match opts {
        None => (
            DEFAULT_ORDER_FIRST.iter().map(|s| s.to_string()).collect(),
            DEFAULT_ORDER_LAST.iter().map(|s| s.to_string()).collect(),
        ),
        Some(o) => match o.order.as_str() {
            "fifo" => {
                if o.legacy_sort_options.is_some() {
                    return Err(RenderError::Other {
                        message: "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'".into(),
                    });
                }
                return Ok(());
            }
            "legacy" => match &o.legacy_sort_options {
                Some(l) => (l.order_first.clone(), l.order_last.clone()),
                None => (
                    DEFAULT_ORDER_FIRST.iter().map(|s| s.to_string()).collect(),
                    DEFAULT_ORDER_LAST.iter().map(|s| s.to_string()).collect(),
                ),
            },
            _ => {
                return Err(RenderError::Other {
                    message: "the field 'sortOptions.order' must be one of [fifo, legacy]".into(),
                })
            }
        },
    };
    let mut ranks: HashMap<&str, i64> = HashMap::new();
    let n = first.len() as i64;
    for (i, k) in first.iter().enumerate() {
        ranks.insert(k, -n + i as i64);
    }
    for (i, k) in last.iter().enumerate() {
        ranks.insert(k, 1 + i as i64);
    }
    let mut keyed: Vec<(Key, Resource)> = std::mem::take(resources)
        .into_iter()
        .map(|r| {
            let id = r.id();
            let gvk = gvk_string(&id.group, &id.version, &id.kind);
            let ns = id.namespace.clone().unwrap_or_else(|| "~X".into());
            let name = if id.name.is_empty() {
                "~N".to_string()
            } else {
                id.name.clone()
            };
            let key = Key {
                rank: ranks.get(id.kind.as_str()).copied().unwrap_or(0),
                id: format!("{gvk}|{ns}|{name}"),
                gvk,
            };
            (key, r)
        })
        .collect();
    keyed.sort_by(|(a, _), (b, _)| {
        if a.gvk != b.gvk {
            match a.rank.cmp(&b.rank) {
                Ordering::Equal => a.gvk.cmp(&b.gvk),
                o => o,
            }
        } else {
            a.id.cmp(&b.id)
        }
    });
    resources.extend(keyed.into_iter().map(|(_, r)| r));
    Ok(())
}
