//! Health: kstatus-style readiness rules over a live object ([`readiness`]), and the
//! [`Applier`]'s one-look [`Applier::status_of`] and polling [`Applier::wait_ready`].

use std::fmt;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::Value;

use crate::applier::Applier;
use crate::error::ApplyError;
use crate::object::ObjectRef;

/// How often `wait_ready` looks.
const POLL: Duration = Duration::from_millis(400);

/// The health of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Fully reconciled (kstatus `Current`).
    Ready,
    /// Not yet; the reason (`Available: 0/1`).
    InProgress(String),
    /// Will not get there by itself (a failed Job, a stalled object).
    Failed(String),
}

impl fmt::Display for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Readiness::Ready => f.write_str("Current"),
            Readiness::InProgress(m) if m.is_empty() => f.write_str("InProgress"),
            Readiness::InProgress(m) => write!(f, "InProgress: {m}"),
            Readiness::Failed(m) if m.is_empty() => f.write_str("Failed"),
            Readiness::Failed(m) => write!(f, "Failed: {m}"),
        }
    }
}

fn int(obj: &Value, ptr: &str) -> Option<i64> {
    obj.pointer(ptr).and_then(Value::as_i64)
}

fn string<'a>(obj: &'a Value, ptr: &str) -> Option<&'a str> {
    obj.pointer(ptr).and_then(Value::as_str)
}

/// The condition of a type: (status, reason, message).
fn condition<'a>(obj: &'a Value, kind: &str) -> Option<(&'a str, &'a str, &'a str)> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
        .map(|c| {
            let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("");
            (s("status"), s("reason"), s("message"))
        })
}

fn is_true(obj: &Value, kind: &str) -> bool {
    condition(obj, kind).is_some_and(|(s, _, _)| s == "True")
}

/// `status.observedGeneration` behind `metadata.generation` (only when both are set).
fn generation_lag(obj: &Value) -> Option<Readiness> {
    let generation = int(obj, "/metadata/generation")?;
    let observed = int(obj, "/status/observedGeneration")?;
    (observed < generation).then(|| {
        Readiness::InProgress(format!(
            "generation is {generation}, but latest observed generation is {observed}"
        ))
    })
}

/// Deployment, StatefulSet, DaemonSet observedGeneration: a missing one means the
/// controller has not looked yet.
fn workload_generation(obj: &Value) -> Option<Readiness> {
    if int(obj, "/status/observedGeneration").is_none() {
        return Some(Readiness::InProgress("observedGeneration not set".into()));
    }
    generation_lag(obj)
}

/// The readiness of a live object by kstatus' rules for its kind (`group` as in the
/// object's apiVersion).
pub fn readiness(group: &str, kind: &str, obj: &Value) -> Readiness {
    if string(obj, "/metadata/deletionTimestamp").is_some() {
        return Readiness::InProgress("resource scheduled for deletion".into());
    }
    match (group, kind) {
        ("apps", "Deployment") => deployment(obj),
        ("apps", "StatefulSet") => statefulset(obj),
        ("apps", "DaemonSet") => daemonset(obj),
        ("batch", "Job") => job(obj),
        ("", "Namespace") => match string(obj, "/status/phase") {
            Some("Terminating") => Readiness::InProgress("Namespace is terminating".into()),
            _ => Readiness::Ready,
        },
        ("", "PersistentVolumeClaim") => match string(obj, "/status/phase") {
            Some("Bound") => Readiness::Ready,
            phase => Readiness::InProgress(format!("PVC is not Bound: {}", phase.unwrap_or(""))),
        },
        ("", "Pod") => pod(obj),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd(obj),
        _ => generic(obj),
    }
}

fn deployment(obj: &Value) -> Readiness {
    if let Some(r) = workload_generation(obj) {
        return r;
    }
    if let Some((_, "ProgressDeadlineExceeded", _)) = condition(obj, "Progressing") {
        return Readiness::Failed("Progress deadline exceeded".into());
    }
    let want = int(obj, "/spec/replicas").unwrap_or(1);
    let at = |f: &str| int(obj, &format!("/status/{f}")).unwrap_or(0);
    let (replicas, updated, available, ready) = (
        at("replicas"),
        at("updatedReplicas"),
        at("availableReplicas"),
        at("readyReplicas"),
    );
    if available < want {
        return Readiness::InProgress(format!("Available: {available}/{want}"));
    }
    if updated < want {
        return Readiness::InProgress(format!("Updated: {updated}/{want}"));
    }
    if replicas > want {
        return Readiness::InProgress(format!("Pending termination: {}", replicas - want));
    }
    if ready < want {
        return Readiness::InProgress(format!("Ready: {ready}/{want}"));
    }
    Readiness::Ready
}

fn statefulset(obj: &Value) -> Readiness {
    if let Some(r) = workload_generation(obj) {
        return r;
    }
    let want = int(obj, "/spec/replicas").unwrap_or(1);
    let ready = int(obj, "/status/readyReplicas").unwrap_or(0);
    if ready < want {
        return Readiness::InProgress(format!("Ready: {ready}/{want}"));
    }
    let update = string(obj, "/status/updateRevision").unwrap_or("");
    let current = string(obj, "/status/currentRevision").unwrap_or("");
    if !update.is_empty() && update != current {
        return Readiness::InProgress(format!(
            "waiting for rolling update: revision {current} → {update}"
        ));
    }
    Readiness::Ready
}

fn daemonset(obj: &Value) -> Readiness {
    if let Some(r) = workload_generation(obj) {
        return r;
    }
    let Some(desired) = int(obj, "/status/desiredNumberScheduled") else {
        return Readiness::InProgress("missing desiredNumberScheduled".into());
    };
    let updated = int(obj, "/status/updatedNumberScheduled").unwrap_or(0);
    let ready = int(obj, "/status/numberReady").unwrap_or(0);
    if updated < desired {
        return Readiness::InProgress(format!("Updated: {updated}/{desired}"));
    }
    if ready < desired {
        return Readiness::InProgress(format!("Ready: {ready}/{desired}"));
    }
    Readiness::Ready
}

fn job(obj: &Value) -> Readiness {
    if let Some(("True", _, msg)) = condition(obj, "Failed") {
        return Readiness::Failed(format!("Job failed: {msg}").trim_end().to_string());
    }
    if is_true(obj, "Complete") {
        return Readiness::Ready;
    }
    Readiness::InProgress("Job in progress".into())
}

fn pod(obj: &Value) -> Readiness {
    match string(obj, "/status/phase") {
        Some("Succeeded") => return Readiness::Ready,
        Some("Failed") => return Readiness::Failed("Pod has failed".into()),
        _ => {}
    }
    if is_true(obj, "Ready") {
        Readiness::Ready
    } else {
        Readiness::InProgress("Pod is not Ready".into())
    }
}

fn crd(obj: &Value) -> Readiness {
    if let Some(("False", reason, msg)) = condition(obj, "NamesAccepted") {
        return Readiness::Failed(format!("names not accepted: {reason} {msg}").trim().into());
    }
    if is_true(obj, "Established") {
        Readiness::Ready
    } else {
        Readiness::InProgress("CRD is not Established".into())
    }
}

/// Any other kind: Stalled=True fails, Reconciling=True waits, a Ready condition decides
/// (after the observedGeneration check); without conditions it is ready once it exists.
fn generic(obj: &Value) -> Readiness {
    if let Some(("True", reason, msg)) = condition(obj, "Stalled") {
        return Readiness::Failed(format!("{reason}: {msg}").trim_matches([' ', ':']).into());
    }
    if let Some(r) = generation_lag(obj) {
        return r;
    }
    if let Some(("True", reason, msg)) = condition(obj, "Reconciling") {
        return Readiness::InProgress(format!("{reason}: {msg}").trim_matches([' ', ':']).into());
    }
    match condition(obj, "Ready") {
        Some(("True", _, _)) | None => Readiness::Ready,
        Some((status, reason, msg)) => {
            let why = format!("{reason}: {msg}");
            let why = why.trim_matches([' ', ':']);
            Readiness::InProgress(if why.is_empty() {
                format!("Ready: {status}")
            } else {
                why.to_string()
            })
        }
    }
}

impl Applier {
    /// One look at an object's readiness. A missing object is `InProgress("NotFound")`.
    pub async fn status_of(&self, obj: &ObjectRef) -> Result<Readiness, ApplyError> {
        let (obj, loc) = self.locate(obj).await?;
        match self.get(&obj, &loc).await {
            Ok(Some(live)) => Ok(readiness(&obj.group, &obj.kind, &live)),
            Ok(None) => Ok(Readiness::InProgress("NotFound".into())),
            Err(e) => Err(ApplyError::api(&obj, "get", &e)),
        }
    }

    /// Polls every object (concurrently) until all are ready, one has failed, or the
    /// timeout passes; errors are Flux's `timeout waiting for: [...]` and
    /// `failed early due to stalled resources: [...]`.
    pub async fn wait_ready(
        &self,
        objects: &[ObjectRef],
        timeout: Duration,
    ) -> Result<(), ApplyError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let looks = join_all(objects.iter().cloned().map(|o| {
                let this = self.clone();
                async move {
                    let r = match this.status_of(&o).await {
                        Ok(r) => r,
                        Err(e) => Readiness::InProgress(e.to_string()),
                    };
                    (o, r)
                }
            }))
            .await;
            let failed: Vec<String> = looks
                .iter()
                .filter(|(_, r)| matches!(r, Readiness::Failed(_)))
                .map(|(o, r)| format!("{o} status: '{r}'"))
                .collect();
            if !failed.is_empty() {
                return Err(ApplyError::Stalled { failed });
            }
            let pending: Vec<String> = looks
                .iter()
                .filter(|(_, r)| !matches!(r, Readiness::Ready))
                .map(|(o, r)| format!("{o} status: '{r}'"))
                .collect();
            if pending.is_empty() {
                return Ok(());
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(ApplyError::Timeout { pending });
            }
            tokio::time::sleep(POLL.min(deadline - now)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn progress(r: &Readiness) -> &str {
        match r {
            Readiness::InProgress(m) => m,
            other => panic!("not in progress: {other:?}"),
        }
    }

    #[test]
    fn deployments() {
        let fresh = json!({"metadata": {"generation": 1}, "spec": {"replicas": 1}});
        assert_eq!(
            readiness("apps", "Deployment", &fresh).to_string(),
            "InProgress: observedGeneration not set"
        );
        let mut d = json!({"metadata": {"generation": 2}, "spec": {},
            "status": {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1,
                       "availableReplicas": 0, "readyReplicas": 0}});
        assert_eq!(
            progress(&readiness("apps", "Deployment", &d)),
            "Available: 0/1"
        );
        d["status"]["availableReplicas"] = json!(1);
        d["status"]["readyReplicas"] = json!(1);
        assert_eq!(readiness("apps", "Deployment", &d), Readiness::Ready);
        d["spec"]["replicas"] = json!(3);
        assert_eq!(
            progress(&readiness("apps", "Deployment", &d)),
            "Available: 1/3"
        );
        d["spec"]["replicas"] = json!(1);
        d["status"]["observedGeneration"] = json!(1);
        assert!(progress(&readiness("apps", "Deployment", &d)).contains("observed generation is 1"));
        d["status"]["observedGeneration"] = json!(2);
        d["status"]["conditions"] = json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]);
        assert!(matches!(
            readiness("apps", "Deployment", &d),
            Readiness::Failed(_)
        ));
        d["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
        assert!(matches!(
            readiness("apps", "Deployment", &d),
            Readiness::InProgress(_)
        ));
    }

    #[test]
    fn statefulsets_and_daemonsets() {
        let mut s = json!({"metadata": {"generation": 1}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 1, "readyReplicas": 2,
                       "currentRevision": "a", "updateRevision": "b"}});
        assert!(progress(&readiness("apps", "StatefulSet", &s)).contains("rolling update"));
        s["status"]["currentRevision"] = json!("b");
        assert_eq!(readiness("apps", "StatefulSet", &s), Readiness::Ready);
        s["status"]["readyReplicas"] = json!(1);
        assert_eq!(
            progress(&readiness("apps", "StatefulSet", &s)),
            "Ready: 1/2"
        );

        let mut ds = json!({"metadata": {"generation": 1},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": 3,
                       "updatedNumberScheduled": 3, "numberReady": 2}});
        assert_eq!(progress(&readiness("apps", "DaemonSet", &ds)), "Ready: 2/3");
        ds["status"]["numberReady"] = json!(3);
        assert_eq!(readiness("apps", "DaemonSet", &ds), Readiness::Ready);
        ds["status"]["updatedNumberScheduled"] = json!(1);
        assert_eq!(
            progress(&readiness("apps", "DaemonSet", &ds)),
            "Updated: 1/3"
        );
    }

    #[test]
    fn jobs_pods_pvcs_namespaces_crds() {
        let done = json!({"status": {"conditions": [{"type": "Complete", "status": "True"}]}});
        assert_eq!(readiness("batch", "Job", &done), Readiness::Ready);
        let failed = json!({"status": {"conditions": [
            {"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}]}});
        assert!(matches!(
            readiness("batch", "Job", &failed),
            Readiness::Failed(_)
        ));
        assert!(matches!(
            readiness("batch", "Job", &json!({})),
            Readiness::InProgress(_)
        ));

        let pod = json!({"status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}]}});
        assert_eq!(readiness("", "Pod", &pod), Readiness::Ready);
        let pending = json!({"status": {"phase": "Pending"}});
        assert!(matches!(
            readiness("", "Pod", &pending),
            Readiness::InProgress(_)
        ));
        let dead = json!({"status": {"phase": "Failed"}});
        assert!(matches!(readiness("", "Pod", &dead), Readiness::Failed(_)));

        let bound = json!({"status": {"phase": "Bound"}});
        assert_eq!(
            readiness("", "PersistentVolumeClaim", &bound),
            Readiness::Ready
        );
        let unbound = json!({"status": {"phase": "Pending"}});
        assert!(matches!(
            readiness("", "PersistentVolumeClaim", &unbound),
            Readiness::InProgress(_)
        ));

        assert_eq!(
            readiness("", "Namespace", &json!({"status": {"phase": "Active"}})),
            Readiness::Ready
        );
        assert!(matches!(
            readiness(
                "",
                "Namespace",
                &json!({"status": {"phase": "Terminating"}})
            ),
            Readiness::InProgress(_)
        ));

        let g = "apiextensions.k8s.io";
        let k = "CustomResourceDefinition";
        let est = json!({"status": {"conditions": [{"type": "Established", "status": "True"}]}});
        assert_eq!(readiness(g, k, &est), Readiness::Ready);
        assert!(matches!(
            readiness(g, k, &json!({})),
            Readiness::InProgress(_)
        ));
        let clash = json!({"status": {"conditions": [
            {"type": "NamesAccepted", "status": "False", "reason": "NameConflict"}]}});
        assert!(matches!(readiness(g, k, &clash), Readiness::Failed(_)));
    }

    #[test]
    fn generic_kinds() {
        assert_eq!(
            readiness("", "ConfigMap", &json!({"data": {}})),
            Readiness::Ready
        );
        let mut k = json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 2,
            "conditions": [{"type": "Ready", "status": "False", "reason": "Progressing",
                            "message": "building"}]}});
        assert_eq!(
            readiness("kustomize.toolkit.fluxcd.io", "Kustomization", &k).to_string(),
            "InProgress: Progressing: building"
        );
        k["status"]["conditions"][0]["status"] = json!("True");
        assert_eq!(readiness("x", "Kustomization", &k), Readiness::Ready);
        k["status"]["observedGeneration"] = json!(1);
        assert!(matches!(
            readiness("x", "Kustomization", &k),
            Readiness::InProgress(_)
        ));
        let stalled = json!({"status": {"conditions": [
            {"type": "Stalled", "status": "True", "reason": "BuildFailed", "message": "bad"}]}});
        assert_eq!(
            readiness("x", "Thing", &stalled),
            Readiness::Failed("BuildFailed: bad".into())
        );
    }
}
