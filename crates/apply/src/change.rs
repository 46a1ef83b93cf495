//! What an apply or prune did: [`ChangeSet`] of [`Change`]s, each an [`Action`] on an object.

use std::fmt;

use crate::object::ObjectRef;

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// It did not exist and was created.
    Created,
    /// It existed and differed; it was updated (or recreated).
    Configured,
    /// It existed and the apply would not change it; nothing was written.
    Unchanged,
    /// It was deleted (prune).
    Deleted,
    /// It was left alone (ssa `Ignore`/`IfNotPresent`, prune disabled, owned by someone else).
    Skipped,
}

impl Action {
    /// True for the actions that wrote to the cluster.
    pub fn is_write(self) -> bool {
        matches!(self, Action::Created | Action::Configured | Action::Deleted)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Created => "created",
            Action::Configured => "configured",
            Action::Unchanged => "unchanged",
            Action::Deleted => "deleted",
            Action::Skipped => "skipped",
        })
    }
}

/// One object and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The object (namespace cleared for cluster-scoped kinds).
    pub object: ObjectRef,
    /// What happened.
    pub action: Action,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.object, self.action)
    }
}

/// The changes of one apply or prune, in input order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// One entry per object handled.
    pub changes: Vec<Change>,
}

impl ChangeSet {
    /// One line per write (`Deployment/default/podinfo configured`); unchanged and skipped
    /// objects are left out, as in Flux's events.
    pub fn summary(&self) -> String {
        let lines: Vec<String> = self
            .changes
            .iter()
            .filter(|c| c.action.is_write())
            .map(ToString::to_string)
            .collect();
        lines.join("\n")
    }

    /// True when nothing was created, configured or deleted.
    pub fn is_empty_of_writes(&self) -> bool {
        !self.changes.iter().any(|c| c.action.is_write())
    }

    /// The action recorded for an object, if any.
    pub fn action_of(&self, object: &ObjectRef) -> Option<Action> {
        self.changes
            .iter()
            .find(|c| &c.object == object)
            .map(|c| c.action)
    }

    pub(crate) fn push(&mut self, object: ObjectRef, action: Action) {
        self.changes.push(Change { object, action });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(kind: &str, ns: &str, name: &str) -> ObjectRef {
        ObjectRef {
            group: String::new(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
        }
    }

    #[test]
    fn summary_lists_writes_only() {
        let mut cs = ChangeSet::default();
        cs.push(r("Namespace", "", "apps"), Action::Created);
        cs.push(r("ConfigMap", "apps", "a"), Action::Unchanged);
        cs.push(r("Deployment", "apps", "podinfo"), Action::Configured);
        cs.push(r("Secret", "apps", "s"), Action::Skipped);
        cs.push(r("Service", "apps", "old"), Action::Deleted);
        assert_eq!(
            cs.summary(),
            "Namespace/apps created\nDeployment/apps/podinfo configured\nService/apps/old deleted"
        );
        assert!(!cs.is_empty_of_writes());
        assert_eq!(
            cs.action_of(&r("ConfigMap", "apps", "a")),
            Some(Action::Unchanged)
        );
        let mut quiet = ChangeSet::default();
        quiet.push(r("ConfigMap", "apps", "a"), Action::Unchanged);
        quiet.push(r("ConfigMap", "apps", "b"), Action::Skipped);
        assert!(quiet.is_empty_of_writes());
        assert_eq!(quiet.summary(), "");
    }

    #[test]
    fn actions_display_lowercase() {
        let all = [
            Action::Created,
            Action::Configured,
            Action::Unchanged,
            Action::Deleted,
            Action::Skipped,
        ];
        let shown: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["created", "configured", "unchanged", "deleted", "skipped"]
        );
    }
}
