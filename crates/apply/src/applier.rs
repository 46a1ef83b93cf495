//! The [`Applier`] (one per target cluster: a client and its discovery cache), its options,
//! and the requests every operation is made of: locate a kind, get, server-side apply,
//! delete.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kube::api::{DeleteParams, GetParams, Patch, PatchParams};
use kube::core::Request;
use serde_json::Value;

use crate::discovery::{collection_url, Resolver};
use crate::error::ApplyError;
use crate::object::ObjectRef;

/// How to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOptions {
    /// The server-side apply field manager.
    pub field_manager: String,
    /// Recreate objects whose change touches an immutable field.
    pub force: bool,
    /// How long stage 1 waits for CRDs to be Established and Namespaces to exist.
    pub crd_wait: Duration,
}

impl Default for ApplyOptions {
    fn default() -> ApplyOptions {
        ApplyOptions {
            field_manager: "kustomize-controller".into(),
            force: false,
            crd_wait: Duration::from_secs(30),
        }
    }
}

/// How to prune.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneOptions {
    /// Labels an object must all carry (same values) to be deleted: the owner's.
    pub owner_labels: BTreeMap<String, String>,
}

/// Applies, prunes and checks health on one cluster. Cheap to clone.
#[derive(Clone)]
pub struct Applier {
    inner: Arc<Inner>,
}

struct Inner {
    client: kube::Client,
    resolver: Resolver,
}

impl std::fmt::Debug for Applier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Applier").finish_non_exhaustive()
    }
}

/// Where an object's collection is.
#[derive(Debug, Clone)]
pub(crate) struct Location {
    /// The collection URL (namespaced kinds: in the object's namespace).
    pub url: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
}

impl Applier {
    /// An applier for the cluster `client` talks to.
    pub fn new(client: kube::Client) -> Applier {
        Applier {
            inner: Arc::new(Inner {
                client,
                resolver: Resolver::new(),
            }),
        }
    }

    /// The client.
    pub fn client(&self) -> &kube::Client {
        &self.inner.client
    }

    pub(crate) fn resolver(&self) -> &Resolver {
        &self.inner.resolver
    }

    /// Resolves an object's kind; returns the reference with its namespace cleared when
    /// the kind is cluster-scoped, and the collection URL.
    pub(crate) async fn locate(
        &self,
        obj: &ObjectRef,
    ) -> Result<(ObjectRef, Location), ApplyError> {
        let api_version = obj.api_version();
        let resolved = self
            .inner
            .resolver
            .resolve(&self.inner.client, &api_version, &obj.kind)
            .await
            .map_err(|e| ApplyError::Discovery {
                object: Box::new(obj.clone()),
                message: crate::error::one_line(&e.to_string()),
            })?;
        let Some(resolved) = resolved else {
            return Err(ApplyError::NoMatch {
                object: Box::new(obj.clone()),
            });
        };
        let mut obj = obj.clone();
        if !resolved.namespaced {
            obj.namespace.clear();
        } else if obj.namespace.is_empty() {
            return Err(ApplyError::NamespaceMissing {
                object: Box::new(obj),
            });
        }
        let url = collection_url(&api_version, &resolved.plural, &obj.namespace);
        Ok((
            obj,
            Location {
                url,
                namespaced: resolved.namespaced,
            },
        ))
    }

    /// After a 404 that may mean "kind no longer served" (a cached kind whose CRD was
    /// deleted): refreshes discovery and returns the no-match error if it is gone.
    pub(crate) async fn recheck_kind(
        &self,
        obj: &ObjectRef,
        e: &kube::Error,
    ) -> Option<ApplyError> {
        let kube::Error::Api(s) = e else {
            return None;
        };
        // A missing object or namespace names itself in the details; an unserved resource
        // does not.
        let named = s.details.as_ref().is_some_and(|d| !d.name.is_empty());
        if s.code != 404 || named {
            return None;
        }
        let fresh = self
            .inner
            .resolver
            .refresh(&self.inner.client, &obj.api_version(), &obj.kind)
            .await;
        matches!(fresh, Ok(None)).then(|| ApplyError::NoMatch {
            object: Box::new(obj.clone()),
        })
    }

    /// GET; `None` when absent.
    pub(crate) async fn get(
        &self,
        obj: &ObjectRef,
        loc: &Location,
    ) -> Result<Option<Value>, kube::Error> {
        let req = Request::new(&loc.url)
            .get(&obj.name, &GetParams::default())
            .map_err(kube::Error::BuildRequest)?;
        match self.inner.client.request::<Value>(req).await {
            Ok(v) => Ok(Some(v)),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Server-side apply (force: take over conflicting fields, as Flux does).
    pub(crate) async fn server_side_apply(
        &self,
        obj: &ObjectRef,
        loc: &Location,
        body: &Value,
        field_manager: &str,
        dry_run: bool,
    ) -> Result<Value, kube::Error> {
        let mut pp = PatchParams::apply(field_manager).force();
        pp.dry_run = dry_run;
        let req = Request::new(&loc.url)
            .patch(&obj.name, &pp, &Patch::Apply(body))
            .map_err(kube::Error::BuildRequest)?;
        self.inner.client.request::<Value>(req).await
    }

    /// DELETE with background propagation; false when it was already gone.
    pub(crate) async fn delete(
        &self,
        obj: &ObjectRef,
        loc: &Location,
    ) -> Result<bool, kube::Error> {
        let req = Request::new(&loc.url)
            .delete(&obj.name, &DeleteParams::background())
            .map_err(kube::Error::BuildRequest)?;
        match self.inner.client.request_text(req).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
            Err(e) => Err(e),
        }
    }
}
