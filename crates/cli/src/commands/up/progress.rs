//! What `flotilla up` watches: every Kustomization's Ready condition against its source's
//! current revision, the transitions worth a line, and the verdict — converging, all Ready,
//! or failed for good (something not Ready and nothing has moved for the settle period).
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::Value;

/// One Kustomization as `up` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KsState {
    pub namespace: String,
    pub name: String,
    /// `Some(true)`: Ready=True; `Some(false)`: Ready=False; `None`: no condition yet.
    pub ready: Option<bool>,
    pub reason: String,
    pub message: String,
    pub current_generation: bool,
    pub last_applied: Option<String>,
    /// The source's `(namespace, name)`.
    pub source: (String, String),
    pub suspended: bool,
}

impl KsState {
    /// Reads a Kustomization object.
    pub fn from_object(obj: &Value) -> KsState {
        let s = |p: &str| {
            obj.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let namespace = s("/metadata/namespace");
        let ready_cond = obj
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
            });
        let field = |k: &str| {
            ready_cond
                .and_then(|c| c.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let source_ns = obj
            .pointer("/spec/sourceRef/namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| namespace.clone());
        KsState {
            name: s("/metadata/name"),
            ready: ready_cond.map(|c| c.get("status").and_then(Value::as_str) == Some("True")),
            reason: field("reason"),
            message: field("message"),
            current_generation: obj.pointer("/metadata/generation")
                == obj.pointer("/status/observedGeneration"),
            last_applied: obj
                .pointer("/status/lastAppliedRevision")
                .and_then(Value::as_str)
                .map(str::to_string),
            source: (source_ns, s("/spec/sourceRef/name")),
            suspended: obj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true),
            namespace,
        }
    }

    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Ready at the current generation and at the source's current revision.
    pub fn converged(&self, revisions: &HashMap<(String, String), String>) -> bool {
        self.ready == Some(true)
            && self.current_generation
            && revisions
                .get(&self.source)
                .is_none_or(|r| self.last_applied.as_deref() == Some(r.as_str()))
    }
}

/// The source revisions of the GitRepositories in `list` (items of a list answer).
pub fn revisions(list: &[Value]) -> HashMap<(String, String), String> {
    list.iter()
        .filter_map(|g| {
            let ns = g.pointer("/metadata/namespace")?.as_str()?.to_string();
            let name = g.pointer("/metadata/name")?.as_str()?.to_string();
            let rev = g
                .pointer("/status/artifact/revision")?
                .as_str()?
                .to_string();
            Some(((ns, name), rev))
        })
        .collect()
}

/// Where the fleet stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Still moving.
    Converging,
    /// Every Kustomization is Ready at its source's revision.
    AllReady,
    /// Something is not Ready and nothing moved for the settle period.
    Failed,
}

/// Tracks transitions and decides the verdict.
pub struct Tracker {
    seen: BTreeMap<String, (Option<bool>, String, String)>,
    still_for: Duration,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker {
            seen: BTreeMap::new(),
            still_for: Duration::ZERO,
        }
    }
}

impl Tracker {
    /// Takes a snapshot `elapsed` after the previous one; answers the lines to print.
    pub fn observe(&mut self, states: &[KsState], elapsed: Duration) -> Vec<String> {
        let mut lines = Vec::new();
        let mut now = BTreeMap::new();
        for s in states {
            let v = (s.ready, s.reason.clone(), s.message.clone());
            if self.seen.get(&s.key()) != Some(&v) && s.ready.is_some() {
                let mark = match (s.ready, s.reason.as_str()) {
                    (Some(true), _) => "✔",
                    (_, "DependencyNotReady") | (_, "ArtifactFailed") => "◎",
                    _ => "✗",
                };
                lines.push(format!("{mark} Kustomization {}: {}", s.key(), s.message));
            }
            now.insert(s.key(), v);
        }
        if now == self.seen {
            self.still_for += elapsed;
        } else {
            self.still_for = Duration::ZERO;
        }
        self.seen = now;
        lines
    }

    /// The verdict for `states` given the revisions, settling after `settle` of stillness.
    pub fn verdict(
        &self,
        states: &[KsState],
        revisions: &HashMap<(String, String), String>,
        settle: Duration,
    ) -> Verdict {
        let active: Vec<&KsState> = states.iter().filter(|s| !s.suspended).collect();
        if !active.is_empty() && active.iter().all(|s| s.converged(revisions)) {
            return Verdict::AllReady;
        }
        let all_decided = active
            .iter()
            .all(|s| s.ready.is_some() && s.current_generation);
        if !active.is_empty() && all_decided && self.still_for >= settle {
            return Verdict::Failed;
        }
        Verdict::Converging
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ks(name: &str, ready: Option<&str>, reason: &str, applied: &str) -> KsState {
        let mut obj = json!({
            "metadata": {"namespace": "flux-system", "name": name, "generation": 1},
            "spec": {"sourceRef": {"kind": "GitRepository", "name": "main"}},
            "status": {"observedGeneration": 1, "lastAppliedRevision": applied},
        });
        if let Some(r) = ready {
            obj["status"]["conditions"] = json!([{"type": "Ready", "status": r, "reason": reason, "message": format!("{reason} msg")}]);
        }
        KsState::from_object(&obj)
    }

    #[test]
    fn all_ready_only_at_the_sources_revision() {
        let revs = HashMap::from([(
            ("flux-system".to_string(), "main".to_string()),
            "main@sha1:b".to_string(),
        )]);
        let t = Tracker::default();
        let old = [ks(
            "a",
            Some("True"),
            "ReconciliationSucceeded",
            "main@sha1:a",
        )];
        assert_eq!(
            t.verdict(&old, &revs, Duration::from_secs(1)),
            Verdict::Converging
        );
        let new = [ks(
            "a",
            Some("True"),
            "ReconciliationSucceeded",
            "main@sha1:b",
        )];
        assert_eq!(
            t.verdict(&new, &revs, Duration::from_secs(1)),
            Verdict::AllReady
        );
    }

    #[test]
    fn failure_is_final_only_after_stillness() {
        let revs = HashMap::new();
        let mut t = Tracker::default();
        let states = [
            ks("a", Some("True"), "ReconciliationSucceeded", "x"),
            ks("b", Some("False"), "BuildFailed", ""),
        ];
        let lines = t.observe(&states, Duration::from_secs(1));
        assert_eq!(lines.len(), 2);
        assert!(
            lines[1].starts_with("✗ Kustomization flux-system/b"),
            "{lines:?}"
        );
        assert_eq!(
            t.verdict(&states, &revs, Duration::from_secs(5)),
            Verdict::Converging
        );
        assert!(t.observe(&states, Duration::from_secs(3)).is_empty());
        assert!(t.observe(&states, Duration::from_secs(3)).is_empty());
        assert_eq!(
            t.verdict(&states, &revs, Duration::from_secs(5)),
            Verdict::Failed
        );
        let pending = [ks("c", None, "", "")];
        t.observe(&pending, Duration::from_secs(10));
        t.observe(&pending, Duration::from_secs(10));
        assert_eq!(
            t.verdict(&pending, &revs, Duration::from_secs(5)),
            Verdict::Converging
        );
    }
}
