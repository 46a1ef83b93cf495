//! One reconcile of one Kustomization: deletion and finalizer, suspend, the skip check,
//! dependencies, source, build, apply, prune, health, status and events.
use std::sync::Arc;
use std::time::{Duration, Instant};

use flotilla_apply::{Applier, ApplyOptions, ObjectRef as Ref, PruneOptions};
use flotilla_model::flux::{InventoryEntry, KustomizationSpec};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::ResourceExt;
use serde_json::{json, Value};

use super::build::{self, BuildFailure};
use super::{Context, SourceArtifact};
use crate::error::ControllerError;
use crate::events::Severity;
use crate::resources::FINALIZER;
use crate::status;

/// What the last reconcile here saw and concluded.
#[derive(Debug, Clone)]
pub(crate) struct LastRun {
    generation: Option<i64>,
    requested_at: Option<String>,
    revision: String,
    at: Instant,
    outcome: Outcome,
}

impl LastRun {
    fn now(
        generation: Option<i64>,
        requested_at: Option<String>,
        revision: String,
        outcome: Outcome,
    ) -> LastRun {
        LastRun {
            generation,
            requested_at,
            revision,
            at: Instant::now(),
            outcome,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ready,
    /// Waiting on something that announces itself (a dependency turning Ready, the
    /// kubeconfig Secret of a cluster being provisioned): re-checked on every trigger.
    Waiting,
    Failed,
}

/// A failed step: the Ready reason and message.
struct Failure {
    reason: &'static str,
    message: String,
    /// The target cluster is not there yet (its kubeconfig Secret is missing).
    waiting: bool,
}

impl Failure {
    fn new(reason: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            reason,
            message: message.into(),
            waiting: false,
        }
    }
}

impl From<BuildFailure> for Failure {
    fn from(b: BuildFailure) -> Failure {
        Failure::new(b.reason, b.message)
    }
}

pub(crate) fn error_policy(
    _obj: Arc<DynamicObject>,
    err: &ControllerError,
    _ctx: Arc<Context>,
) -> Action {
    tracing::warn!(error = %err, "kustomization reconcile failed");
    Action::requeue(Duration::from_secs(5))
}

fn api(ctx: &Context, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(ctx.client.clone(), ns, &crate::resources::kustomization())
}

pub(crate) async fn reconcile(
    obj: Arc<DynamicObject>,
    ctx: Arc<Context>,
) -> Result<Action, ControllerError> {
    let ns = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    tracing::debug!(kustomization = %format!("{ns}/{name}"), "reconcile");
    let raw = serde_json::to_value(&*obj)
        .map_err(|e| ControllerError::InvalidSpec(format!("Kustomization '{ns}/{name}': {e}")))?;
    let v1 = flotilla_model::convert::kustomization_to_v1(&raw);
    let spec_json = v1.get("spec").cloned().unwrap_or_else(|| json!({}));
    let spec: Result<KustomizationSpec, _> = serde_json::from_value(spec_json.clone());

    if obj.metadata.deletion_timestamp.is_some() {
        return finalize(&ctx, &obj, &ns, &name, spec.ok().as_ref()).await;
    }
    let has_finalizer = obj.finalizers().iter().any(|f| f == FINALIZER);
    let old = status::current(&obj);
    let generation = obj.metadata.generation;
    let spec = match spec {
        Ok(s) => s,
        Err(e) => {
            let mut new = old.clone();
            let msg = format!("invalid spec: {e}");
            status::set_condition(&mut new, "Ready", false, "InvalidSpec", &msg, generation);
            status::write(&api(&ctx, &ns), &name, &old, &new).await?;
            return Ok(Action::await_change());
        }
    };
    if !has_finalizer {
        let mut finalizers = obj.finalizers().to_vec();
        finalizers.push(FINALIZER.to_string());
        api(&ctx, &ns)
            .patch(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"finalizers": finalizers}})),
            )
            .await
            .map_err(|e| ControllerError::kube(format!("adding finalizer to '{ns}/{name}'"), e))?;
    }
    if spec.suspended() {
        return Ok(Action::await_change());
    }
    let interval = nonzero(spec.interval(), Duration::from_secs(600));
    let retry = nonzero(spec.retry_interval(), interval);
    let requested_at = status::requested_at(&obj);
    let key = (ns.clone(), name.clone());

    // Source.
    let artifact = match source_artifact(&ctx, &ns, &spec).await {
        Ok(a) => a,
        Err(f) => {
            let mut new = old.clone();
            status::set_condition(&mut new, "Ready", false, f.reason, &f.message, generation);
            finish_status(&mut new, generation, &requested_at);
            status::write(&api(&ctx, &ns), &name, &old, &new).await?;
            return Ok(Action::requeue(retry));
        }
    };

    // Skip when nothing changed since the last reconcile and its period has not passed.
    if let Some(prev) = ctx.previous(&key) {
        let same = prev.generation == generation
            && prev.requested_at == requested_at
            && prev.revision == artifact.revision;
        let period = match prev.outcome {
            Outcome::Ready => interval,
            Outcome::Waiting | Outcome::Failed => retry,
        };
        let elapsed = prev.at.elapsed();
        if same && elapsed < period && prev.outcome != Outcome::Waiting {
            return Ok(Action::requeue(period - elapsed));
        }
    }

    // Dependencies.
    if let Err(f) = dependencies_ready(&ctx, &ns, &spec, &artifact.revision).await {
        let mut new = old.clone();
        status::set_condition(&mut new, "Ready", false, f.reason, &f.message, generation);
        finish_status(&mut new, generation, &requested_at);
        status::write(&api(&ctx, &ns), &name, &old, &new).await?;
        ctx.remember(
            key,
            LastRun::now(
                generation,
                requested_at,
                artifact.revision,
                Outcome::Waiting,
            ),
        );
        return Ok(Action::requeue(retry));
    }

    let started = Instant::now();
    // The health checks get what is left of `timeout` and fail with Flux's message; the
    // outer bound, a little later, only catches a build or apply that hangs.
    let deadline = started + spec.timeout();
    let result = tokio::time::timeout(
        spec.timeout() + HANG_GRACE,
        apply_revision(
            &ctx, &obj, &ns, &name, &spec, &spec_json, &artifact, &old, deadline,
        ),
    )
    .await
    .unwrap_or_else(|_| {
        Err((
            Failure::new(
                "ReconciliationFailed",
                format!(
                    "timeout after {:?} applying revision '{}'",
                    spec.timeout(),
                    artifact.revision
                ),
            ),
            None,
        ))
    });

    let mut new = old.clone();
    new["lastAttemptedRevision"] = json!(artifact.revision);
    let outcome = match result {
        Ok(done) => {
            let msg = format!("Applied revision: {}", artifact.revision);
            status::set_condition(
                &mut new,
                "Ready",
                true,
                "ReconciliationSucceeded",
                &msg,
                generation,
            );
            match &done.health {
                Some(health) => status::set_condition(
                    &mut new,
                    "Healthy",
                    true,
                    "Succeeded",
                    health,
                    generation,
                ),
                // No checks any more (Flux deletes the condition): a stale Healthy=False
                // must not stay beside Ready=True.
                None => status::remove_condition(&mut new, "Healthy"),
            }
            status::remove_condition(&mut new, "Reconciling");
            status::remove_condition(&mut new, "Stalled");
            new["lastAppliedRevision"] = json!(artifact.revision);
            new["inventory"] = json!({"entries": done.inventory});
            if !done.changes.is_empty() {
                ctx.recorder
                    .record(
                        &crate::resources::kustomization(),
                        &obj,
                        Severity::Normal,
                        "ReconciliationSucceeded",
                        &done.changes,
                        Some(&artifact.revision),
                    )
                    .await;
            }
            tracing::info!(kustomization = %format!("{ns}/{name}"), revision = %artifact.revision,
                elapsed_ms = started.elapsed().as_millis() as u64, "applied");
            Outcome::Ready
        }
        Err((f, inventory)) => {
            status::set_condition(&mut new, "Ready", false, f.reason, &f.message, generation);
            if f.reason == "HealthCheckFailed" {
                status::set_condition(&mut new, "Healthy", false, f.reason, &f.message, generation);
            }
            if let Some(inv) = inventory {
                new["inventory"] = json!({"entries": inv});
            }
            let repeated = status::condition(&old, "Ready") == Some(("False", f.message.as_str()));
            if !repeated {
                ctx.recorder
                    .record(
                        &crate::resources::kustomization(),
                        &obj,
                        Severity::Warning,
                        f.reason,
                        &f.message,
                        Some(&artifact.revision),
                    )
                    .await;
            }
            tracing::warn!(kustomization = %format!("{ns}/{name}"), reason = f.reason, message = %f.message, "reconcile failed");
            if f.waiting {
                Outcome::Waiting
            } else {
                Outcome::Failed
            }
        }
    };
    finish_status(&mut new, generation, &requested_at);
    status::write(&api(&ctx, &ns), &name, &old, &new).await?;
    ctx.remember(
        key,
        LastRun::now(generation, requested_at, artifact.revision, outcome),
    );
    Ok(Action::requeue(match outcome {
        Outcome::Ready => crate::gitrepository::jittered(interval),
        _ => retry,
    }))
}

/// How much longer than `spec.timeout` a reconcile may take before it is abandoned as hung
/// (the health checks stop at `spec.timeout` itself).
const HANG_GRACE: Duration = Duration::from_secs(5);

fn nonzero(d: Duration, fallback: Duration) -> Duration {
    if d.is_zero() {
        fallback
    } else {
        d
    }
}

fn finish_status(new: &mut Value, generation: Option<i64>, requested_at: &Option<String>) {
    if let Some(g) = generation {
        new["observedGeneration"] = json!(g);
    }
    if let Some(r) = requested_at {
        new["lastHandledReconcileAt"] = json!(r);
    }
}

async fn source_artifact(
    ctx: &Context,
    ns: &str,
    spec: &KustomizationSpec,
) -> Result<SourceArtifact, Failure> {
    let sr = &spec.source_ref;
    let src_ns = spec.source_namespace(ns).to_string();
    if sr.kind != "GitRepository" {
        return Err(Failure::new(
            "ArtifactFailed",
            format!(
                "spec.sourceRef.kind: source kind '{}' is not supported (GitRepository is)",
                sr.kind
            ),
        ));
    }
    let git_ar = crate::resources::git_repository();
    let found = match ctx.sources_index.get(&src_ns, &sr.name) {
        Some(a) => Some(a),
        None => {
            let api: Api<DynamicObject> =
                Api::namespaced_with(ctx.client.clone(), &src_ns, &git_ar);
            match api.get_opt(&sr.name).await {
                Ok(Some(g)) => SourceArtifact::of(&g),
                Ok(None) => {
                    return Err(Failure::new(
                        "ArtifactFailed",
                        format!("Source '{}/{}/{}' not found", sr.kind, src_ns, sr.name),
                    ))
                }
                Err(e) => return Err(Failure::new("ArtifactFailed", e.to_string())),
            }
        }
    };
    found.ok_or_else(|| {
        Failure::new(
            "ArtifactFailed",
            format!(
                "Source artifact not found for '{}/{}/{}', retrying when it is stored",
                sr.kind, src_ns, sr.name
            ),
        )
    })
}

/// Every dependency exists, is Ready at its current generation and, when it builds from
/// the same source, has applied the same revision.
async fn dependencies_ready(
    ctx: &Context,
    ns: &str,
    spec: &KustomizationSpec,
    revision: &str,
) -> Result<(), Failure> {
    let ar = crate::resources::kustomization();
    for dep in &spec.depends_on {
        let dep_ns = dep
            .namespace
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(ns);
        let r = kube::runtime::reflector::ObjectRef::new_with(&dep.name, ar.clone()).within(dep_ns);
        let mut ok = ctx
            .kustomizations
            .get(&r)
            .is_some_and(|d| dependency_ok(&d, ns, spec, revision));
        if !ok {
            // The cache may lag the event that woke us: ask the API.
            let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), dep_ns, &ar);
            ok = matches!(api.get_opt(&dep.name).await, Ok(Some(d)) if dependency_ok(&d, ns, spec, revision));
        }
        if !ok {
            return Err(Failure::new(
                "DependencyNotReady",
                format!("dependency '{dep_ns}/{}' is not ready", dep.name),
            ));
        }
    }
    Ok(())
}

fn dependency_ok(dep: &DynamicObject, ns: &str, spec: &KustomizationSpec, revision: &str) -> bool {
    if !status::is_ready(dep) {
        return false;
    }
    let observed = dep
        .data
        .pointer("/status/observedGeneration")
        .and_then(Value::as_i64);
    if observed != dep.metadata.generation {
        return false;
    }
    // Same source: the dependency must have applied this revision already.
    let dep_ns = dep.namespace().unwrap_or_default();
    let sr = dep.data.pointer("/spec/sourceRef");
    let same_source = sr.and_then(|s| s.get("name")).and_then(Value::as_str)
        == Some(spec.source_ref.name.as_str())
        && sr
            .and_then(|s| s.get("namespace"))
            .and_then(Value::as_str)
            .unwrap_or(&dep_ns)
            == spec.source_namespace(ns);
    if same_source {
        let applied = dep
            .data
            .pointer("/status/lastAppliedRevision")
            .and_then(Value::as_str);
        return applied == Some(revision);
    }
    true
}

struct Applied {
    inventory: Vec<InventoryEntry>,
    changes: String,
    health: Option<String>,
}

type StepError = (Failure, Option<Vec<InventoryEntry>>);

#[allow(clippy::too_many_arguments)]
async fn apply_revision(
    ctx: &Context,
    obj: &DynamicObject,
    ns: &str,
    name: &str,
    spec: &KustomizationSpec,
    spec_json: &Value,
    artifact: &SourceArtifact,
    old: &Value,
    deadline: Instant,
) -> Result<Applied, StepError> {
    let archive = ctx.sources.store().artifact_path(&artifact.digest);
    let root = ctx
        .unpacked
        .dir(&artifact.digest, &archive)
        .await
        .map_err(|e| (Failure::new("ArtifactFailed", e.to_string()), None))?;
    let inputs = build::inputs(&ctx.client, ns, spec)
        .await
        .map_err(|f| (f.into(), None))?;
    let objects = {
        let (root, ns, name, spec, spec_json) = (
            root.clone(),
            ns.to_string(),
            name.to_string(),
            spec.clone(),
            spec_json.clone(),
        );
        tokio::task::spawn_blocking(move || {
            build::build(&root, &ns, &name, &spec, &spec_json, &inputs)
        })
        .await
        .map_err(|e| {
            (
                Failure::new("BuildFailed", format!("build task: {e}")),
                None,
            )
        })?
        .map_err(|f| (f.into(), None))?
    };
    let _ = obj;
    tracing::debug!(kustomization = %format!("{ns}/{name}"), objects = objects.len(), "built");
    let applier = target(ctx, ns, spec).await.map_err(|f| (f, None))?;
    // Failures on another cluster name it, so an unreachable one is told from a bad object.
    let on_target = |m: String| match remote_label(ns, spec) {
        Some(label) => format!("{label}: {m}"),
        None => m,
    };
    tracing::debug!(kustomization = %format!("{ns}/{name}"), "target ready");

    let mut new_inv: Vec<InventoryEntry> = Vec::with_capacity(objects.len());
    let mut refs: Vec<Ref> = Vec::with_capacity(objects.len());
    for o in &objects {
        let r =
            Ref::from_object(o).map_err(|e| (Failure::new("BuildFailed", e.to_string()), None))?;
        new_inv.push(InventoryEntry {
            id: r.inventory_id(),
            v: r.version.clone(),
        });
        refs.push(r);
    }
    new_inv.sort();
    new_inv.dedup();
    let old_inv: Vec<InventoryEntry> = old
        .pointer("/inventory/entries")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();

    let opts = ApplyOptions {
        field_manager: "kustomize-controller".into(),
        force: spec.force.unwrap_or(false),
        crd_wait: spec.timeout(),
    };
    let changes = match applier.apply_staged(objects, &opts).await {
        Ok(c) => c,
        Err(failure) => {
            // Keep what did get applied in the inventory with the old entries, so nothing
            // becomes an orphan if it leaves the source before the next success.
            let mut inv = old_inv.clone();
            for ch in &failure.changes.changes {
                inv.push(InventoryEntry {
                    id: ch.object.inventory_id(),
                    v: ch.object.version.clone(),
                });
            }
            inv.sort();
            inv.dedup_by(|a, b| a.id == b.id);
            return Err((
                Failure::new("ReconciliationFailed", on_target(failure.to_string())),
                Some(inv),
            ));
        }
    };
    let mut log = changes.summary();
    tracing::debug!(kustomization = %format!("{ns}/{name}"), "applied");

    if spec.prune {
        let keep: std::collections::HashSet<&str> = new_inv.iter().map(|e| e.id.as_str()).collect();
        let stale: Vec<Ref> = old_inv
            .iter()
            .filter(|e| !keep.contains(e.id.as_str()))
            .filter_map(|e| Ref::from_inventory(&e.id, &e.v))
            .collect();
        if !stale.is_empty() {
            let popts = PruneOptions {
                owner_labels: build::owner_labels(ns, name),
            };
            match applier.prune(&stale, &popts).await {
                Ok(pruned) => {
                    let s = pruned.summary();
                    if !s.is_empty() {
                        if !log.is_empty() {
                            log.push('\n');
                        }
                        log.push_str(&s);
                    }
                }
                Err(failure) => {
                    let mut inv = new_inv.clone();
                    inv.extend(
                        old_inv
                            .iter()
                            .filter(|e| !keep.contains(e.id.as_str()))
                            .cloned(),
                    );
                    inv.sort();
                    return Err((
                        Failure::new("PruneFailed", on_target(failure.to_string())),
                        Some(inv),
                    ));
                }
            }
        }
    }

    let checks: Vec<Ref> = if spec.wait.unwrap_or(false) {
        refs.clone()
    } else {
        spec.health_checks
            .iter()
            .map(|h| {
                let api_version = h.api_version.clone().unwrap_or_default();
                let (group, version) = match api_version.split_once('/') {
                    Some((g, v)) => (g.to_string(), v.to_string()),
                    None => (String::new(), api_version.clone()),
                };
                Ref {
                    group,
                    version,
                    kind: h.kind.clone(),
                    namespace: h.namespace.clone().unwrap_or_default(),
                    name: h.name.clone(),
                }
            })
            .collect()
    };
    let health = if checks.is_empty() {
        None
    } else {
        let started = Instant::now();
        applier
            .wait_ready(&checks, deadline.saturating_duration_since(started))
            .await
            .map_err(|e| {
                (
                    Failure::new("HealthCheckFailed", on_target(e.to_string())),
                    Some(new_inv.clone()),
                )
            })?;
        Some(format!(
            "Health check passed in {:.1}s",
            started.elapsed().as_secs_f64()
        ))
    };
    Ok(Applied {
        inventory: new_inv,
        changes: log,
        health,
    })
}

/// `cluster of kubeconfig Secret 'ns/name'` when the Kustomization applies to another
/// cluster.
fn remote_label(ns: &str, spec: &KustomizationSpec) -> Option<String> {
    let secret = spec.kube_config.as_ref()?.secret_ref.as_ref()?;
    Some(format!(
        "cluster of kubeconfig Secret '{ns}/{}'",
        secret.name
    ))
}

/// The applier for the Kustomization's target cluster.
async fn target(ctx: &Context, ns: &str, spec: &KustomizationSpec) -> Result<Applier, Failure> {
    let sa = spec
        .service_account_name
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| (ns, s));
    let Some(secret_ref) = spec
        .kube_config
        .as_ref()
        .and_then(|k| k.secret_ref.as_ref())
    else {
        return ctx
            .targets
            .local(sa)
            .map_err(|e| Failure::new("ReconciliationFailed", e.to_string()));
    };
    let data = crate::lookup::secret_data(&ctx.client, ns, &secret_ref.name)
        .await
        .map_err(|e| Failure::new("ReconciliationFailed", e.to_string()))?
        .ok_or_else(|| Failure {
            waiting: true,
            ..Failure::new(
                "ReconciliationFailed",
                format!(
                    "failed to get kubeconfig secret '{ns}/{}': secrets \"{}\" not found",
                    secret_ref.name, secret_ref.name
                ),
            )
        })?;
    let keys = spec
        .kube_config
        .as_ref()
        .map(|k| k.keys())
        .unwrap_or_default();
    let Some(bytes) = keys.iter().find_map(|k| data.get(*k)) else {
        return Err(Failure::new(
            "ReconciliationFailed",
            format!(
                "spec.kubeConfig.secretRef: secret '{ns}/{}' has none of the keys {}",
                secret_ref.name,
                keys.iter()
                    .map(|k| format!("'{k}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    ctx.targets
        .remote(&format!("{ns}/{}", secret_ref.name), bytes, sa)
        .await
        .map_err(|e| Failure::new("ReconciliationFailed", e.to_string()))
}

/// Deletion: with `prune`, garbage-collect the inventory (unless suspended), then release
/// the finalizer.
async fn finalize(
    ctx: &Context,
    obj: &DynamicObject,
    ns: &str,
    name: &str,
    spec: Option<&KustomizationSpec>,
) -> Result<Action, ControllerError> {
    if !obj.finalizers().iter().any(|f| f == FINALIZER) {
        return Ok(Action::await_change());
    }
    if let Some(spec) = spec {
        let orphan = spec.deletion_policy.as_deref() == Some("Orphan");
        if spec.prune && !spec.suspended() && !orphan {
            let entries: Vec<InventoryEntry> = obj
                .data
                .pointer("/status/inventory/entries")
                .cloned()
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            let refs: Vec<Ref> = entries
                .iter()
                .filter_map(|e| Ref::from_inventory(&e.id, &e.v))
                .collect();
            if !refs.is_empty() {
                match target(ctx, ns, spec).await {
                    Ok(applier) => {
                        let popts = PruneOptions {
                            owner_labels: build::owner_labels(ns, name),
                        };
                        if let Err(e) = applier.prune(&refs, &popts).await {
                            tracing::warn!(kustomization = %format!("{ns}/{name}"), error = %e, "garbage collection on deletion failed");
                        }
                    }
                    Err(f) => {
                        tracing::warn!(kustomization = %format!("{ns}/{name}"), error = %f.message, "target unreachable on deletion; objects left");
                    }
                }
            }
        }
    }
    let finalizers: Vec<String> = obj
        .finalizers()
        .iter()
        .filter(|f| f.as_str() != FINALIZER)
        .cloned()
        .collect();
    api(ctx, ns)
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": finalizers}})),
        )
        .await
        .map_err(|e| ControllerError::kube(format!("removing finalizer of '{ns}/{name}'"), e))?;
    Ok(Action::await_change())
}
