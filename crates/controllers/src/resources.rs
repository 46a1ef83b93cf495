//! The API resources the controllers read and write, at the versions they use.
//!
//! Flux's CRDs are served with conversion `None`, so an object stored at v1beta1 is read
//! here at v1 with its old shape; [`flotilla_model::convert`] normalises it.
use kube::core::{ApiResource, GroupVersionKind};

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

/// `source.toolkit.fluxcd.io/v1` GitRepository.
pub fn git_repository() -> ApiResource {
    resource(
        "source.toolkit.fluxcd.io",
        "v1",
        "GitRepository",
        "gitrepositories",
    )
}

/// `kustomize.toolkit.fluxcd.io/v1` Kustomization.
pub fn kustomization() -> ApiResource {
    resource(
        "kustomize.toolkit.fluxcd.io",
        "v1",
        "Kustomization",
        "kustomizations",
    )
}

/// Core v1 Secret.
pub fn secret() -> ApiResource {
    resource("", "v1", "Secret", "secrets")
}

/// Core v1 ConfigMap.
pub fn config_map() -> ApiResource {
    resource("", "v1", "ConfigMap", "configmaps")
}

/// Core v1 Event.
pub fn event() -> ApiResource {
    resource("", "v1", "Event", "events")
}

/// The annotation `flux reconcile` sets to ask for a reconcile now.
pub const REQUESTED_AT: &str = "reconcile.fluxcd.io/requestedAt";

/// The finalizer Flux puts on its objects so deletion can garbage-collect.
pub const FINALIZER: &str = "finalizers.fluxcd.io";
