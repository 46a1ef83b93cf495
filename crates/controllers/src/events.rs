//! Kubernetes Events (core/v1, as Flux's controllers write them): one per apply listing what
//! changed, one per failure. Publishing is best effort: an Event that cannot be written is
//! logged, never fails a reconcile.
use kube::api::{Api, DynamicObject, PostParams};
use kube::core::ApiResource;
use kube::ResourceExt;
use serde_json::json;

/// Kubernetes caps an Event message; Flux trims to the same size.
const MAX_MESSAGE: usize = 1024;

/// Event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// `Normal`.
    Normal,
    /// `Warning`.
    Warning,
}

/// Writes Events as one controller (`source.component`).
pub struct Recorder {
    client: kube::Client,
    component: String,
}

impl Recorder {
    /// A recorder for `component` (`kustomize-controller`, `source-controller`).
    pub fn new(client: kube::Client, component: &str) -> Recorder {
        Recorder {
            client,
            component: component.to_string(),
        }
    }

    /// Records an Event about `obj` (of resource `ar`); `revision` is annotated as Flux does.
    pub async fn record(
        &self,
        ar: &ApiResource,
        obj: &DynamicObject,
        severity: Severity,
        reason: &str,
        message: &str,
        revision: Option<&str>,
    ) {
        record(
            &self.client,
            &self.component,
            ar,
            obj,
            (severity, reason, message),
            revision,
        )
        .await
    }
}

async fn record(
    client: &kube::Client,
    component: &str,
    ar: &ApiResource,
    obj: &DynamicObject,
    (severity, reason, message): (Severity, &str, &str),
    revision: Option<&str>,
) {
    let ns = obj.namespace().unwrap_or_else(|| "default".into());
    let now = flotilla_apimachinery::time::now_rfc3339();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut message = message.to_string();
    if message.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE - 3;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push_str("...");
    }
    let mut annotations = serde_json::Map::new();
    if let Some(rev) = revision {
        annotations.insert(format!("{}/revision", ar.group), json!(rev));
    }
    let event = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": format!("{}.{:x}", obj.name_any(), nanos),
            "namespace": ns,
            "annotations": annotations,
        },
        "involvedObject": {
            "apiVersion": ar.api_version,
            "kind": ar.kind,
            "name": obj.name_any(),
            "namespace": ns,
            "uid": obj.metadata.uid,
            "resourceVersion": obj.metadata.resource_version,
        },
        "reason": reason,
        "message": message,
        "type": match severity { Severity::Normal => "Normal", Severity::Warning => "Warning" },
        "source": {"component": component},
        "reportingComponent": component,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    });
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &crate::resources::event());
    let ev: DynamicObject = match serde_json::from_value(event) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "building event");
            return;
        }
    };
    if let Err(e) = api.create(&PostParams::default(), &ev).await {
        tracing::warn!(object = %obj.name_any(), error = %e, "recording event");
    }
}
