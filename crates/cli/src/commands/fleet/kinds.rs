//! The kinds these commands read and write, fetched as `DynamicObject`s, and what they share:
//! the Ready condition, `spec.suspend`, one-line "not found" errors.
use anyhow::{anyhow, Result};
use flotilla_model::meta::{Condition, READY};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use serde::de::DeserializeOwned;

/// A kind served by a CRD.
#[derive(Debug, Clone, Copy)]
pub(super) struct Kind {
    pub kind: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    /// How `flux` names it in messages (`kustomization`, `source git`).
    pub label: &'static str,
}

pub(super) const KUSTOMIZATION: Kind = Kind {
    kind: "Kustomization",
    group: flotilla_model::flux::KUSTOMIZE_GROUP,
    version: "v1",
    plural: "kustomizations",
    label: "kustomization",
};

pub(super) const GIT_REPOSITORY: Kind = Kind {
    kind: "GitRepository",
    group: flotilla_model::flux::SOURCE_GROUP,
    version: "v1",
    plural: "gitrepositories",
    label: "source git",
};

pub(super) const CLUSTER: Kind = Kind {
    kind: "Cluster",
    group: "cluster.x-k8s.io",
    version: "v1beta1",
    plural: "clusters",
    label: "cluster",
};

impl Kind {
    pub fn resource(&self) -> ApiResource {
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(self.group, self.version, self.kind),
            self.plural,
        )
    }

    /// The API of this kind in one namespace.
    pub fn api(&self, client: &kube::Client, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(client.clone(), namespace, &self.resource())
    }

    /// The API of this kind across all namespaces (lists only).
    pub fn api_all(&self, client: &kube::Client) -> Api<DynamicObject> {
        Api::all_with(client.clone(), &self.resource())
    }

    /// `plural.group/version`, as the API knows it.
    pub fn full_name(&self) -> String {
        format!("{}.{}/{}", self.plural, self.group, self.version)
    }

    /// Gets one object, with one-line errors for a missing object or a missing CRD.
    pub async fn get(
        &self,
        client: &kube::Client,
        namespace: &str,
        name: &str,
    ) -> Result<DynamicObject> {
        self.api(client, namespace)
            .get(name)
            .await
            .map_err(|e| self.error(e, Some(name), namespace))
    }

    /// Turns an API error into one line naming the object (or the missing resource).
    pub fn error(&self, e: kube::Error, name: Option<&str>, namespace: &str) -> anyhow::Error {
        match &e {
            kube::Error::Api(status) if status.code == 404 => {
                let missing_resource = status.message.contains("could not find the requested")
                    || status.details.as_ref().is_none_or(|d| d.name.is_empty());
                match name {
                    Some(name) if !missing_resource => anyhow!(
                        "{} '{name}' not found in namespace '{namespace}'",
                        self.kind.to_lowercase()
                    ),
                    _ => anyhow!(
                        "the server does not serve {} (are the CRDs installed? see `flotilla install`)",
                        self.full_name()
                    ),
                }
            }
            kube::Error::Api(status) => anyhow!(
                "{} {}: {} ({})",
                self.kind,
                name.map_or_else(
                    || format!("in namespace '{namespace}'"),
                    |n| format!("'{n}'")
                ),
                status.message,
                status.code
            ),
            _ => super::transport_error(
                &e,
                &format!("accessing {} in namespace '{namespace}'", self.full_name()),
            ),
        }
    }
}

/// The object's `status`, typed (`None` when absent or of another shape).
pub(super) fn status<T: DeserializeOwned>(obj: &DynamicObject) -> Option<T> {
    let status = obj.data.get("status")?;
    match serde_json::from_value(status.clone()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::debug!(error = %e, name = ?obj.metadata.name, "unreadable status");
            None
        }
    }
}

/// The conditions under `status.conditions`.
pub(super) fn conditions(obj: &DynamicObject) -> Vec<Condition> {
    obj.data
        .get("status")
        .and_then(|s| s.get("conditions"))
        .and_then(|c| serde_json::from_value(c.clone()).ok())
        .unwrap_or_default()
}

/// The Ready condition's status and message, as `flux get` shows them: `False` and
/// "waiting to be reconciled" when there is none.
pub(super) fn ready(conditions: &[Condition]) -> (String, String) {
    match conditions.iter().find(|c| c.type_ == READY) {
        Some(c) => (c.status.clone(), c.message.clone()),
        None => ("False".to_string(), "waiting to be reconciled".to_string()),
    }
}

/// `spec.suspend` (or `spec.paused` for Cluster API) as `flux` prints it: `True`/`False`.
pub(super) fn suspended(obj: &DynamicObject) -> &'static str {
    let spec = obj.data.get("spec");
    let on = |field: &str| {
        spec.and_then(|s| s.get(field))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    };
    if on("suspend") || on("paused") {
        "True"
    } else {
        "False"
    }
}

/// The object's name and namespace, for messages and tables.
pub(super) fn name(obj: &DynamicObject) -> &str {
    obj.metadata.name.as_deref().unwrap_or_default()
}

pub(super) fn namespace(obj: &DynamicObject) -> &str {
    obj.metadata.namespace.as_deref().unwrap_or_default()
}
