//! Staged server-side apply (Flux's `ApplyAllStaged`): stage 1 (CRDs, Namespaces,
//! ClusterRoles, then a wait for CRDs Established and Namespaces present), stage 2 (kinds
//! ending in `Class`), stage 3 (the rest); each stage applied concurrently, one object's
//! failure never stopping its neighbours.

use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use crate::applier::{Applier, ApplyOptions, Location};
use crate::change::{Action, ChangeSet};
use crate::discovery::crd_group;
use crate::error::{ApplyError, ApplyFailure};
use crate::object::{ObjectRef, SsaPolicy, Stage};

/// Objects applied at the same time within a stage.
const CONCURRENCY: usize = 8;
/// How often a forced recreate looks whether the old object is gone.
const GONE_POLL: Duration = Duration::from_millis(200);

/// Metadata fields the server owns; ignored when comparing a dry-run result with the live
/// object.
const SERVER_METADATA: [&str; 5] = [
    "managedFields",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "uid",
];

/// An object without what the server owns (server metadata and `status`), for comparing.
pub(crate) fn comparable(obj: &Value) -> Value {
    let mut out = obj.clone();
    if let Some(map) = out.as_object_mut() {
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for f in SERVER_METADATA {
                meta.remove(f);
            }
        }
    }
    out
}

/// True when an apply would change nothing: the dry-run result equals the live object
/// apart from server-owned fields.
pub(crate) fn unchanged(dry_run: &Value, live: &Value) -> bool {
    comparable(dry_run) == comparable(live)
}

/// The API's answer to a change of an immutable field: 422 Invalid mentioning `immutable`.
pub(crate) fn is_immutable(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => {
            s.code == 422 && s.message.to_ascii_lowercase().contains("immutable")
        }
        _ => false,
    }
}

/// The manifests of one batch, by stage.
pub(crate) fn by_stage(
    objects: Vec<Value>,
    errors: &mut Vec<ApplyError>,
) -> [Vec<(ObjectRef, Value)>; 3] {
    let mut staged: [Vec<(ObjectRef, Value)>; 3] = Default::default();
    for obj in objects {
        match ObjectRef::from_object(&obj) {
            Ok(r) => {
                let i = match r.stage() {
                    Stage::ClusterDefinitions => 0,
                    Stage::Classes => 1,
                    Stage::Rest => 2,
                };
                staged[i].push((r, obj));
            }
            Err(e) => errors.push(e),
        }
    }
    staged
}

impl Applier {
    /// Applies a batch in Flux's stages. Returns every change, or — when anything failed —
    /// the changes that did happen and one error per failure.
    pub async fn apply_staged(
        &self,
        objects: Vec<Value>,
        opts: &ApplyOptions,
    ) -> Result<ChangeSet, ApplyFailure> {
        let mut changes = ChangeSet::default();
        let mut errors = Vec::new();
        let staged = by_stage(objects, &mut errors);
        for (i, batch) in staged.into_iter().enumerate() {
            if batch.is_empty() {
                continue;
            }
            let results: Vec<Result<(ObjectRef, Action), ApplyError>> = stream::iter(batch.clone())
                .map(|(r, obj)| {
                    // Owned inputs: the future must not borrow the closure's argument,
                    // or it is not `Send` for every lifetime (rust-lang/rust#64552) and
                    // cannot run inside a kube-rs controller.
                    let this = self.clone();
                    let opts = opts.clone();
                    async move { this.apply_one(&r, &obj, &opts).await }
                })
                .buffered(CONCURRENCY)
                .collect()
                .await;
            let mut definitions = Vec::new();
            for res in results {
                match res {
                    Ok((r, action)) => {
                        // Only what this apply wrote can still be on its way to Established.
                        let written = matches!(action, Action::Created | Action::Configured);
                        if written && (r.is_crd() || r.is_namespace()) {
                            definitions.push(r.clone());
                        }
                        changes.push(r, action);
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "apply failed");
                        errors.push(e);
                    }
                }
            }
            if i == 0 {
                if !definitions.is_empty() {
                    if let Err(e) = self.wait_ready(&definitions, opts.crd_wait).await {
                        errors.push(e);
                    }
                }
                for (r, obj) in &batch {
                    if let Some(group) = crd_group(obj).filter(|_| r.is_crd()) {
                        self.resolver().forget_group(group);
                    }
                }
            }
        }
        tracing::debug!(
            changes = changes.changes.len(),
            errors = errors.len(),
            "staged apply done"
        );
        if errors.is_empty() {
            Ok(changes)
        } else {
            Err(ApplyFailure { changes, errors })
        }
    }

    /// Applies one object; returns its (normalised) reference and what happened.
    async fn apply_one(
        &self,
        r: &ObjectRef,
        obj: &Value,
        opts: &ApplyOptions,
    ) -> Result<(ObjectRef, Action), ApplyError> {
        let policy = SsaPolicy::of(obj);
        if policy == SsaPolicy::Ignore {
            let r = match self.locate(r).await {
                Ok((r, _)) => r,
                Err(_) => r.clone(),
            };
            return Ok((r, Action::Skipped));
        }
        let (r, loc) = self.locate(r).await?;
        let mut body = obj.clone();
        if !loc.namespaced {
            if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("namespace");
            }
        }
        let live = self
            .get(&r, &loc)
            .await
            .map_err(|e| ApplyError::api(&r, "get", &e))?;
        let Some(live) = live else {
            if let Err(e) = self
                .server_side_apply(&r, &loc, &body, &opts.field_manager, false)
                .await
            {
                if let Some(gone) = self.recheck_kind(&r, &e).await {
                    return Err(gone);
                }
                return Err(ApplyError::api(&r, "apply", &e));
            }
            tracing::debug!(object = %r, "created");
            return Ok((r, Action::Created));
        };
        if policy == SsaPolicy::IfNotPresent {
            return Ok((r, Action::Skipped));
        }
        let dry = self
            .server_side_apply(&r, &loc, &body, &opts.field_manager, true)
            .await;
        let dry = match dry {
            Ok(d) => d,
            Err(e) if is_immutable(&e) => return self.recreate(r, &loc, &body, opts, &e).await,
            Err(e) => return Err(ApplyError::api(&r, "dry-run apply", &e)),
        };
        if unchanged(&dry, &live) {
            return Ok((r, Action::Unchanged));
        }
        match self
            .server_side_apply(&r, &loc, &body, &opts.field_manager, false)
            .await
        {
            Ok(_) => {
                tracing::debug!(object = %r, "configured");
                Ok((r, Action::Configured))
            }
            Err(e) if is_immutable(&e) => self.recreate(r, &loc, &body, opts, &e).await,
            Err(e) => Err(ApplyError::api(&r, "apply", &e)),
        }
    }

    /// With force: delete, wait until gone (bounded by `crd_wait`), create. Without: the
    /// immutable-field error.
    async fn recreate(
        &self,
        r: ObjectRef,
        loc: &Location,
        body: &Value,
        opts: &ApplyOptions,
        cause: &kube::Error,
    ) -> Result<(ObjectRef, Action), ApplyError> {
        if !opts.force {
            let message = match cause {
                kube::Error::Api(s) => crate::error::one_line(&s.message),
                other => other.to_string(),
            };
            return Err(ApplyError::Immutable {
                object: Box::new(r),
                message,
            });
        }
        tracing::info!(object = %r, "recreating (immutable field changed, force)");
        self.delete(&r, loc)
            .await
            .map_err(|e| ApplyError::api(&r, "delete", &e))?;
        let deadline = tokio::time::Instant::now() + opts.crd_wait;
        loop {
            let live = self
                .get(&r, loc)
                .await
                .map_err(|e| ApplyError::api(&r, "get", &e))?;
            if live.is_none() {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ApplyError::RecreateTimeout {
                    object: Box::new(r),
                    seconds: opts.crd_wait.as_secs(),
                });
            }
            tokio::time::sleep(GONE_POLL).await;
        }
        self.server_side_apply(&r, loc, body, &opts.field_manager, false)
            .await
            .map_err(|e| ApplyError::api(&r, "apply", &e))?;
        Ok((r, Action::Configured))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn comparison_ignores_server_fields_and_status() {
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "d", "uid": "1", "resourceVersion": "5",
                         "generation": 1, "creationTimestamp": "t",
                         "managedFields": [{"manager": "x"}], "labels": {"l": "1"}},
            "data": {"k": "v"}, "status": {"phase": "x"}});
        let dry = json!({"kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"labels": {"l": "1"}, "namespace": "d", "name": "a", "uid": "1",
                         "resourceVersion": "5", "managedFields": [{"manager": "y"}]},
            "data": {"k": "v"}});
        assert!(unchanged(&dry, &live));
        let mut changed = dry.clone();
        changed["data"]["k"] = json!("w");
        assert!(!unchanged(&changed, &live));
        let mut relabelled = dry.clone();
        relabelled["metadata"]["labels"]["l"] = json!("2");
        assert!(!unchanged(&relabelled, &live));
    }

    #[test]
    fn immutable_errors_are_recognised() {
        let status = |code: u16, msg: &str| {
            kube::Error::Api(
                kube::core::Status::failure(msg, "Invalid")
                    .with_code(code)
                    .boxed(),
            )
        };
        assert!(is_immutable(&status(
            422,
            "Job.batch \"x\" is invalid: spec.selector: Invalid value: ...: field is immutable"
        )));
        assert!(!is_immutable(&status(
            422,
            "spec.replicas: Invalid value: -1"
        )));
        assert!(!is_immutable(&status(409, "field is immutable")));
    }

    #[test]
    fn staging_orders_and_reports_bad_manifests() {
        let mut errors = Vec::new();
        let objs = vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n"}}),
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "s"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "c"}}),
        ];
        let staged = by_stage(objs, &mut errors);
        let names: Vec<Vec<String>> = staged
            .iter()
            .map(|s| s.iter().map(|(r, _)| r.to_string()).collect())
            .collect();
        assert_eq!(
            names,
            [
                vec![
                    "Namespace/n".to_string(),
                    "CustomResourceDefinition/c".to_string()
                ],
                vec!["StorageClass/s".to_string()],
                vec!["Deployment/n/d".to_string()],
            ]
        );
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("metadata.name"));
    }
}
