//! Prune: delete the stale objects of an inventory that this owner still owns, namespaced
//! objects first, then Namespaces, CustomResourceDefinitions last.

use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use crate::applier::{Applier, PruneOptions};
use crate::change::{Action, ChangeSet};
use crate::error::{ApplyError, ApplyFailure};
use crate::object::{annotation, ObjectRef, PRUNE_ANNOTATION};

/// Objects deleted at the same time within a phase.
const CONCURRENCY: usize = 8;

/// The deletion phase of an object: everything else, then Namespaces, then CRDs.
pub(crate) fn phase(r: &ObjectRef) -> usize {
    if r.is_crd() {
        2
    } else if r.is_namespace() {
        1
    } else {
        0
    }
}

/// Why a live object must be left alone, if it must.
pub(crate) fn keep_reason(live: &Value, opts: &PruneOptions) -> Option<&'static str> {
    if annotation(live, PRUNE_ANNOTATION).is_some_and(|v| v.eq_ignore_ascii_case("disabled")) {
        return Some("prune disabled");
    }
    let labels = live.pointer("/metadata/labels");
    let owned = opts
        .owner_labels
        .iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)).and_then(Value::as_str) == Some(v.as_str()));
    (!owned).then_some("owned by someone else")
}

impl Applier {
    /// Deletes the stale objects (background propagation) unless gone, annotated
    /// `kustomize.toolkit.fluxcd.io/prune: disabled` (Skipped), or lacking an owner label
    /// (Skipped). An object already gone, or whose kind is no longer served, is left out of
    /// the change set.
    pub async fn prune(
        &self,
        stale: &[ObjectRef],
        opts: &PruneOptions,
    ) -> Result<ChangeSet, ApplyFailure> {
        let mut changes = ChangeSet::default();
        let mut errors = Vec::new();
        for p in 0..3 {
            let batch: Vec<ObjectRef> = stale.iter().filter(|r| phase(r) == p).cloned().collect();
            let results: Vec<Result<Option<(ObjectRef, Action)>, ApplyError>> = stream::iter(batch)
                .map(|r| {
                    // Owned inputs keep the future `Send` for any lifetime (see apply.rs).
                    let this = self.clone();
                    let opts = opts.clone();
                    async move { this.prune_one(&r, &opts).await }
                })
                .buffered(CONCURRENCY)
                .collect()
                .await;
            for res in results {
                match res {
                    Ok(Some((r, action))) => changes.push(r, action),
                    Ok(None) => {}
                    Err(e) => errors.push(e),
                }
            }
        }
        if errors.is_empty() {
            Ok(changes)
        } else {
            Err(ApplyFailure { changes, errors })
        }
    }

    async fn prune_one(
        &self,
        r: &ObjectRef,
        opts: &PruneOptions,
    ) -> Result<Option<(ObjectRef, Action)>, ApplyError> {
        let (r, loc) = match self.locate(r).await {
            Ok(x) => x,
            // The kind is gone (its CRD was deleted): so is the object.
            Err(ApplyError::NoMatch { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(live) = self
            .get(&r, &loc)
            .await
            .map_err(|e| ApplyError::api(&r, "get", &e))?
        else {
            return Ok(None);
        };
        if let Some(why) = keep_reason(&live, opts) {
            tracing::debug!(object = %r, why, "not pruned");
            return Ok(Some((r, Action::Skipped)));
        }
        let found = self
            .delete(&r, &loc)
            .await
            .map_err(|e| ApplyError::api(&r, "delete", &e))?;
        if r.is_crd() {
            if let Some(group) = crate::discovery::crd_group(&live) {
                self.resolver().forget_group(group);
            }
        }
        Ok(found.then_some((r, Action::Deleted)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn phases() -> Result<(), ApplyError> {
        let r = |v: Value| ObjectRef::from_object(&v);
        let cm = r(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}}),
        )?;
        let cr = r(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "a"}}),
        )?;
        let ns = r(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}))?;
        let crd = r(
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "c"}}),
        )?;
        assert_eq!(
            [phase(&cm), phase(&cr), phase(&ns), phase(&crd)],
            [0, 0, 1, 2]
        );
        Ok(())
    }

    #[test]
    fn ownership_and_prune_annotation() {
        let opts = PruneOptions {
            owner_labels: [(
                "kustomize.toolkit.fluxcd.io/name".to_string(),
                "apps".to_string(),
            )]
            .into_iter()
            .collect(),
        };
        let mine =
            json!({"metadata": {"labels": {"kustomize.toolkit.fluxcd.io/name": "apps", "x": "y"}}});
        assert_eq!(keep_reason(&mine, &opts), None);
        let theirs = json!({"metadata": {"labels": {"kustomize.toolkit.fluxcd.io/name": "other"}}});
        assert_eq!(keep_reason(&theirs, &opts), Some("owned by someone else"));
        let unlabelled = json!({"metadata": {}});
        assert_eq!(
            keep_reason(&unlabelled, &opts),
            Some("owned by someone else")
        );
        let mut disabled = mine.clone();
        disabled["metadata"]["annotations"] = json!({PRUNE_ANNOTATION: "disabled"});
        assert_eq!(keep_reason(&disabled, &opts), Some("prune disabled"));
        assert_eq!(keep_reason(&unlabelled, &PruneOptions::default()), None);
    }
}
