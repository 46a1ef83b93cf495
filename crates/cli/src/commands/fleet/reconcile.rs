//! `flotilla reconcile`, `suspend` and `resume`: the `reconcile.fluxcd.io/requestedAt`
//! annotation and `spec.suspend`, written with merge patches, then a poll until the
//! controller reports it handled the request (`status.lastHandledReconcileAt`) with a Ready
//! verdict, as `flux reconcile` does.
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Result};
use flotilla_model::flux::{
    GitRepositoryStatus, KustomizationSpec, KustomizationStatus, REQUESTED_AT_ANNOTATION,
};
use flotilla_model::meta::READY;
use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::json;

use super::kinds::{self, Kind, GIT_REPOSITORY, KUSTOMIZATION};
use super::{ReconcileArgs, ReconcileTarget, SourceTarget, ToggleArgs, ToggleSource, ToggleTarget};

/// How often to read the object while waiting.
const POLL: Duration = Duration::from_millis(500);

/// How a wait ended.
enum Outcome {
    /// Ready=True; the revision the controller reports.
    Ready(String),
    /// Ready=False; its message.
    Failed(String),
}

pub(super) async fn reconcile(args: ReconcileArgs) -> Result<ExitCode> {
    let client = super::client(&args.kube).await?;
    let namespace = args.kube.namespace.as_str();
    let timeout = args.wait.timeout;
    match args.target {
        ReconcileTarget::Source(SourceTarget::Git { name }) => {
            request_and_wait(&client, GIT_REPOSITORY, namespace, &name, timeout).await
        }
        ReconcileTarget::Kustomization { name, with_source } => {
            let obj = KUSTOMIZATION.get(&client, namespace, &name).await?;
            if with_source {
                let spec: KustomizationSpec = obj
                    .data
                    .get("spec")
                    .and_then(|s| serde_json::from_value(s.clone()).ok())
                    .unwrap_or_default();
                let source = spec.source_ref;
                if source.kind != GIT_REPOSITORY.kind {
                    bail!(
                        "kustomization '{name}': source kind '{}' is not supported by --with-source (only GitRepository)",
                        source.kind
                    );
                }
                let source_ns = source.namespace.as_deref().unwrap_or(namespace);
                let code =
                    request_and_wait(&client, GIT_REPOSITORY, source_ns, &source.name, timeout)
                        .await?;
                if code != ExitCode::SUCCESS {
                    return Ok(code);
                }
            }
            request_and_wait(&client, KUSTOMIZATION, namespace, &name, timeout).await
        }
    }
}

/// Annotates one object and waits for the controller to handle the request.
async fn request_and_wait(
    client: &kube::Client,
    kind: Kind,
    namespace: &str,
    name: &str,
    timeout: Duration,
) -> Result<ExitCode> {
    let obj = kind.get(client, namespace, name).await?;
    if kinds::suspended(&obj) == "True" {
        bail!(
            "{} '{name}' in namespace '{namespace}' is suspended (`flotilla resume {} {name}` first)",
            kind.kind.to_lowercase(),
            kind.label
        );
    }
    println!("► annotating {} {name} in {namespace} namespace", kind.kind);
    let token = super::now_rfc3339_nano();
    let patch = json!({"metadata": {"annotations": {REQUESTED_AT_ANNOTATION: token}}});
    kind.api(client, namespace)
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| kind.error(e, Some(name), namespace))?;
    println!("✔ {} annotated", kind.kind);
    println!("◎ waiting for {} reconciliation", kind.kind);
    match wait_handled(client, kind, namespace, name, &token, timeout).await? {
        Outcome::Ready(revision) => {
            println!("{}", revision_line(kind, &revision));
            Ok(ExitCode::SUCCESS)
        }
        Outcome::Failed(message) => {
            eprintln!("✗ {} reconciliation failed: {message}", kind.kind);
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `✔ applied revision …` (Kustomization) or `✔ fetched revision …` (source).
fn revision_line(kind: Kind, revision: &str) -> String {
    if kind.kind == KUSTOMIZATION.kind {
        format!("✔ applied revision {revision}")
    } else {
        format!("✔ fetched revision {revision}")
    }
}

/// Polls until `status.lastHandledReconcileAt` is `token` and Ready is True or False for the
/// current generation, or the timeout passes.
async fn wait_handled(
    client: &kube::Client,
    kind: Kind,
    namespace: &str,
    name: &str,
    token: &str,
    timeout: Duration,
) -> Result<Outcome> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let obj = kind.get(client, namespace, name).await?;
        if let Some(outcome) = handled(kind, &obj, token) {
            return Ok(outcome);
        }
        if tokio::time::Instant::now() + POLL > deadline {
            bail!(
                "timed out after {} waiting for {} '{name}' in namespace '{namespace}' to reconcile",
                flotilla_model::GoDuration::from(timeout),
                kind.kind.to_lowercase()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The verdict once the controller handled `token`, if it has.
fn handled(kind: Kind, obj: &DynamicObject, token: &str) -> Option<Outcome> {
    let (last_handled, revision) = if kind.kind == KUSTOMIZATION.kind {
        let s = kinds::status::<KustomizationStatus>(obj)?;
        (s.last_handled_reconcile_at, s.last_applied_revision)
    } else {
        let s = kinds::status::<GitRepositoryStatus>(obj)?;
        (s.last_handled_reconcile_at, s.artifact.map(|a| a.revision))
    };
    if last_handled.as_deref() != Some(token) {
        return None;
    }
    let generation = obj.metadata.generation;
    let observed = obj
        .data
        .get("status")
        .and_then(|s| s.get("observedGeneration"))
        .and_then(serde_json::Value::as_i64);
    if let (Some(g), Some(o)) = (generation, observed) {
        if o < g {
            return None;
        }
    }
    let conditions = kinds::conditions(obj);
    let ready = conditions.iter().find(|c| c.type_ == READY)?;
    match ready.status.as_str() {
        "True" => Some(Outcome::Ready(revision.unwrap_or_default())),
        "False" => Some(Outcome::Failed(ready.message.clone())),
        _ => None,
    }
}

/// `suspend` (`suspend = true`) or `resume`.
pub(super) async fn toggle(args: ToggleArgs, suspend: bool) -> Result<ExitCode> {
    let client = super::client(&args.kube).await?;
    let namespace = args.kube.namespace.as_str();
    let (kind, names) = match args.target {
        ToggleTarget::Kustomization { names } => (KUSTOMIZATION, names),
        ToggleTarget::Source(ToggleSource::Git { names }) => (GIT_REPOSITORY, names),
    };
    let (verb, done) = if suspend {
        ("suspending", "suspended")
    } else {
        ("resuming", "resumed")
    };
    // The noun flux uses in these lines: "kustomization", "source".
    let noun = kind.label.split(' ').next().unwrap_or(kind.label);
    let mut pending = Vec::new();
    for name in &names {
        // Fail on a missing object before patching (a merge patch would not create it).
        kind.get(&client, namespace, name).await?;
        println!("► {verb} {} {name} in {namespace} namespace", kind.label);
        let patch = if suspend {
            json!({"spec": {"suspend": true}})
        } else {
            let token = super::now_rfc3339_nano();
            let patch = json!({
                "metadata": {"annotations": {REQUESTED_AT_ANNOTATION: token}},
                "spec": {"suspend": null},
            });
            pending.push((name.clone(), token));
            patch
        };
        kind.api(&client, namespace)
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| kind.error(e, Some(name), namespace))?;
        println!("✔ {noun} {done}");
    }
    if suspend || !args.wait_for_it {
        return Ok(ExitCode::SUCCESS);
    }
    let mut code = ExitCode::SUCCESS;
    for (name, token) in pending {
        println!("◎ waiting for {} reconciliation", kind.kind);
        match wait_handled(&client, kind, namespace, &name, &token, args.wait.timeout).await? {
            Outcome::Ready(revision) => {
                println!("✔ {} reconciliation completed", kind.kind);
                println!("{}", revision_line(kind, &revision));
            }
            Outcome::Failed(message) => {
                eprintln!("✗ {} reconciliation failed: {message}", kind.kind);
                code = ExitCode::FAILURE;
            }
        }
    }
    Ok(code)
}
