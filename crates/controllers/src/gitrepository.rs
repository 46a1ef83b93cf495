//! The GitRepository reconciler (source-controller's job): resolve `spec.ref`, fetch through
//! the shared [`Sources`] service (one fetch per URL and ref however many objects name it),
//! store the artifact and write Flux's status — `stored artifact for revision '…'`, the
//! artifact, `lastHandledReconcileAt` — then poll again after the interval with jitter.
//! A failed fetch keeps the last good artifact in status.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flotilla_model::flux::{GitRepositorySpec, RefSelection};
use flotilla_source::{Credentials, GitRef, SourceSpec, Sources};
use futures_util::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::watcher;
use kube::ResourceExt;
use serde_json::{json, Value};

use crate::error::ControllerError;
use crate::events::{Recorder, Severity};
use crate::status;

/// What the reconciler shares.
pub struct Context {
    client: kube::Client,
    sources: Arc<Sources>,
    recorder: Recorder,
    last: Mutex<HashMap<(String, String), LastRun>>,
}

#[derive(Clone)]
struct LastRun {
    generation: Option<i64>,
    requested_at: Option<String>,
    at: Instant,
    ok: bool,
}

/// Runs the GitRepository controller until the future is dropped.
pub async fn run(client: kube::Client, sources: Arc<Sources>, concurrency: u16) {
    let ar = crate::resources::git_repository();
    let api = Api::<DynamicObject>::all_with(client.clone(), &ar);
    let ctx = Arc::new(Context {
        recorder: Recorder::new(client.clone(), "source-controller"),
        client,
        sources,
        last: Mutex::new(HashMap::new()),
    });
    Controller::new_with(api, watcher::Config::default(), ar)
        .with_config(ControllerConfig::default().concurrency(concurrency))
        .run(reconcile, error_policy, ctx)
        .for_each(|r| {
            if let Err(e) = r {
                tracing::debug!(error = %e, "gitrepository controller");
            }
            futures_util::future::ready(())
        })
        .await;
}

fn error_policy(_obj: Arc<DynamicObject>, err: &ControllerError, _ctx: Arc<Context>) -> Action {
    tracing::warn!(error = %err, "gitrepository reconcile failed");
    Action::requeue(Duration::from_secs(10))
}

/// `interval` ± 5 % (Flux's default `--interval-jitter-percentage`).
pub fn jittered(interval: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let r = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let spread = interval.as_millis() as u64 / 10;
    if spread == 0 {
        return interval;
    }
    let offset = r % (spread + 1);
    interval - Duration::from_millis(spread / 2) + Duration::from_millis(offset)
}

fn git_ref(spec: &GitRepositorySpec) -> GitRef {
    let r = spec.reference.clone().unwrap_or_default();
    match r.selection() {
        RefSelection::Commit(c) => GitRef {
            commit: Some(c.to_string()),
            branch: r.branch.clone(),
            tag: r.tag.clone(),
            ..GitRef::default()
        },
        RefSelection::Name(n) => GitRef::name(n),
        RefSelection::Semver(s) => GitRef::semver(s),
        RefSelection::Tag(t) => GitRef::tag(t),
        RefSelection::Branch(b) => GitRef::branch(b),
    }
}

async fn reconcile(obj: Arc<DynamicObject>, ctx: Arc<Context>) -> Result<Action, ControllerError> {
    let ns = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    if obj.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let raw = serde_json::to_value(&*obj)
        .map_err(|e| ControllerError::InvalidSpec(format!("GitRepository '{ns}/{name}': {e}")))?;
    let v1 = flotilla_model::convert::git_repository_to_v1(&raw);
    let spec: GitRepositorySpec = serde_json::from_value(v1["spec"].clone()).map_err(|e| {
        ControllerError::InvalidSpec(format!("GitRepository '{ns}/{name}': spec: {e}"))
    })?;
    if spec.suspended() {
        return Ok(Action::await_change());
    }
    let interval = spec
        .interval
        .map(|d| d.duration())
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_secs(60));
    let generation = obj.metadata.generation;
    let requested_at = status::requested_at(&obj);
    let key = (ns.clone(), name.clone());
    let previous = ctx
        .last
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        .cloned();
    let asked = previous
        .as_ref()
        .is_none_or(|p| p.generation != generation || p.requested_at != requested_at);
    if let Some(p) = &previous {
        let wait = if p.ok {
            interval
        } else {
            interval.min(Duration::from_secs(30))
        };
        let elapsed = p.at.elapsed();
        if !asked && elapsed < wait {
            return Ok(Action::requeue(wait - elapsed));
        }
    }

    let old = status::current(&obj);
    let mut new = old.clone();
    let outcome = fetch(&ctx, &ns, &spec, asked, interval).await;
    let ok = outcome.is_ok();
    match outcome {
        Ok(artifact) => {
            let message = format!("stored artifact for revision '{}'", artifact.revision);
            let keep_time = old.pointer("/artifact/digest").and_then(Value::as_str)
                == Some(artifact.digest.as_str());
            let last_update = if keep_time {
                old.pointer("/artifact/lastUpdateTime")
                    .cloned()
                    .unwrap_or_else(|| json!(status::now()))
            } else {
                json!(status::now())
            };
            let rel = artifact
                .path
                .strip_prefix(ctx.sources.store().root())
                .map(|p| p.to_string_lossy().to_string())
                .unwrap_or_else(|_| artifact.path.to_string_lossy().to_string());
            new["artifact"] = json!({
                "path": rel,
                "url": format!("file://{}", artifact.path.display()),
                "revision": artifact.revision,
                "digest": artifact.digest,
                "lastUpdateTime": last_update,
                "size": artifact.size,
            });
            status::set_condition(&mut new, "Ready", true, "Succeeded", &message, generation);
            status::set_condition(
                &mut new,
                "ArtifactInStorage",
                true,
                "Succeeded",
                &message,
                generation,
            );
            status::remove_condition(&mut new, "FetchFailed");
            status::remove_condition(&mut new, "Reconciling");
            status::remove_condition(&mut new, "Stalled");
            if !keep_time {
                ctx.recorder
                    .record(
                        &crate::resources::git_repository(),
                        &obj,
                        Severity::Normal,
                        "NewArtifact",
                        &message,
                        Some(&artifact.revision),
                    )
                    .await;
            }
        }
        Err(failure) => {
            let reason = failure.reason;
            let message = failure.message;
            status::set_condition(&mut new, "Ready", false, reason, &message, generation);
            status::set_condition(&mut new, "FetchFailed", true, reason, &message, generation);
            if old.get("artifact").is_none() {
                if let Some(serving) = failure.serving {
                    new["artifact"] = json!({
                        "path": serving.path.to_string_lossy(),
                        "url": format!("file://{}", serving.path.display()),
                        "revision": serving.revision,
                        "digest": serving.digest,
                        "lastUpdateTime": status::now(),
                        "size": serving.size,
                    });
                }
            }
            let was_failing =
                status::condition(&old, "FetchFailed").map(|c| c.1) == Some(message.as_str());
            if !was_failing {
                ctx.recorder
                    .record(
                        &crate::resources::git_repository(),
                        &obj,
                        Severity::Warning,
                        reason,
                        &message,
                        None,
                    )
                    .await;
            }
        }
    }
    if let Some(g) = generation {
        new["observedGeneration"] = json!(g);
    }
    if let Some(r) = &requested_at {
        new["lastHandledReconcileAt"] = json!(r);
    }
    if let Some(ignore) = &spec.ignore {
        new["observedIgnore"] = json!(ignore);
    }
    let api: Api<DynamicObject> =
        Api::namespaced_with(ctx.client.clone(), &ns, &crate::resources::git_repository());
    status::write(&api, &name, &old, &new).await?;
    ctx.last.lock().unwrap_or_else(|p| p.into_inner()).insert(
        key,
        LastRun {
            generation,
            requested_at,
            at: Instant::now(),
            ok,
        },
    );
    Ok(Action::requeue(if ok {
        jittered(interval)
    } else {
        interval.min(Duration::from_secs(30))
    }))
}

struct FetchFailure {
    reason: &'static str,
    message: String,
    serving: Option<Box<flotilla_source::Artifact>>,
}

async fn fetch(
    ctx: &Context,
    ns: &str,
    spec: &GitRepositorySpec,
    asked: bool,
    interval: Duration,
) -> Result<flotilla_source::Artifact, FetchFailure> {
    let fail = |reason: &'static str, message: String| FetchFailure {
        reason,
        message,
        serving: None,
    };
    let mut source = SourceSpec::new(&spec.url, git_ref(spec));
    source.timeout = spec.timeout();
    source.ignore = spec.ignore.clone();
    source.recurse_submodules = spec.recurse_submodules.unwrap_or(false);
    source.sparse_checkout = spec.sparse_checkout.clone();
    if let Some(secret) = &spec.secret_ref {
        let data = crate::lookup::secret_data(&ctx.client, ns, &secret.name)
            .await
            .map_err(|e| fail("AuthenticationFailed", e.to_string()))?
            .ok_or_else(|| {
                fail(
                    "AuthenticationFailed",
                    format!(
                        "failed to get secret '{ns}/{}': secrets \"{}\" not found",
                        secret.name, secret.name
                    ),
                )
            })?;
        let creds = Credentials::from_secret_data(&data)
            .map_err(|e| fail("AuthenticationFailed", e.to_string()))?;
        source.credentials = Some(Arc::new(creds));
    }
    for inc in &spec.include {
        let api: Api<DynamicObject> =
            Api::namespaced_with(ctx.client.clone(), ns, &crate::resources::git_repository());
        let other = api.get(&inc.repository.name).await.map_err(|e| {
            fail(
                "IncludeUnavailable",
                format!("could not get include '{}': {e}", inc.repository.name),
            )
        })?;
        let digest = other
            .data
            .pointer("/status/artifact/digest")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                fail(
                    "IncludeUnavailable",
                    format!(
                        "no artifact available for include '{}'",
                        inc.repository.name
                    ),
                )
            })?;
        let revision = other
            .data
            .pointer("/status/artifact/revision")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let path = ctx.sources.store().artifact_path(digest);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        source.include.push(flotilla_source::Include {
            artifact: flotilla_source::Artifact {
                digest: digest.to_string(),
                path,
                size,
                revision: revision.to_string(),
            },
            from_path: inc.from_path.clone().unwrap_or_default(),
            to_path: inc
                .to_path
                .clone()
                .unwrap_or_else(|| inc.repository.name.clone()),
        });
    }
    // Objects asked for a reconcile (new, changed, `flux reconcile`) look at the remote now;
    // scheduled polls share one look per (url, ref) within a short window.
    let max_age = if asked {
        Duration::ZERO
    } else {
        (interval / 10).min(Duration::from_secs(10))
    };
    let sources = ctx.sources.clone();
    let result = tokio::task::spawn_blocking(move || sources.reconcile(&source, max_age))
        .await
        .map_err(|e| fail("GitOperationFailed", format!("fetch task: {e}")))?;
    result.map_err(|f| {
        let message = f.error.to_string();
        let reason = if message.contains("auth") || message.contains("credential") {
            "AuthenticationFailed"
        } else {
            "GitOperationFailed"
        };
        FetchFailure {
            reason,
            message,
            serving: f.serving,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_five_percent() {
        for _ in 0..200 {
            let d = jittered(Duration::from_secs(60));
            assert!(
                d >= Duration::from_secs(57) && d <= Duration::from_secs(63),
                "{d:?}"
            );
        }
    }

    #[test]
    fn ref_precedence_maps_to_source_refs() {
        let spec: GitRepositorySpec = serde_json::from_value(json!({
            "url": "file:///x", "interval": "1m", "ref": {"branch": "main", "tag": "v1.0.0"}
        }))
        .unwrap_or_default();
        assert_eq!(git_ref(&spec), GitRef::tag("v1.0.0"));
    }
}
