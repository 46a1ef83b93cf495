//! `flotilla lint`: checks a platform repository like a compiler checks a program, with a
//! rule id per finding (`file:line: error[rule-id]: message`).
//!
//! Two passes: `scan` reads every `.yaml`/`.yml` file (hidden folders skipped) with
//! `flotilla_yaml::parse_documents`, keeping each object's file and line, and checks what
//! a single object shows (parse, folder scope, names, unencrypted Secrets); `fleet`
//! follows the Flux Kustomizations — `spec.kubeConfig.secretRef.name` says which cluster
//! each one targets, none means the management cluster — builds each one as
//! kustomize-controller does (`flotilla_render::flux::build_kustomization`: its path and the
//! spec fields that change the build) and checks what the clusters receive (namespaces,
//! duplicates, paths, kubeconfig owners, prod sources).
//!
//! Assumed: every GitRepository a Kustomization follows is this repository (paths are
//! resolved against its root); post-build substitution is not applied, so names and
//! namespaces holding `${var}` are not checked.

mod fleet;
pub mod kinds;
mod scan;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::Result;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// The lint rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// A YAML file does not parse, or a document is not a Kubernetes object.
    Parse,
    /// A cluster-scoped object under `namespaced/` or a namespaced one under `non-namespaced/`.
    FolderScope,
    /// A kind whose scope is neither built in nor defined by a CRD in the repository (warning).
    UnknownKind,
    /// A namespaced object whose namespace nothing applied to the same cluster creates.
    NamespaceMissing,
    /// A Kustomization's `spec.path` does not exist in the repository.
    KustomizationPath,
    /// A Kustomization's path does not render.
    Render,
    /// Two Kustomizations of one cluster apply the same object.
    DuplicateObject,
    /// A `kubeConfig.secretRef` that no Cluster / ClusterDeployment in the repository owns.
    KubeconfigCluster,
    /// A prod Kustomization follows the `main` branch.
    ProdFollowsMain,
    /// A name or namespace the API server would refuse.
    InvalidName,
    /// A Secret with `data`/`stringData` and no `sops` metadata.
    PlainSecret,
}

impl Rule {
    /// Every rule, in documentation order.
    pub const ALL: [Rule; 11] = [
        Rule::Parse,
        Rule::FolderScope,
        Rule::UnknownKind,
        Rule::NamespaceMissing,
        Rule::KustomizationPath,
        Rule::Render,
        Rule::DuplicateObject,
        Rule::KubeconfigCluster,
        Rule::ProdFollowsMain,
        Rule::InvalidName,
        Rule::PlainSecret,
    ];

    /// The rule id printed in brackets.
    pub fn id(self) -> &'static str {
        match self {
            Rule::Parse => "parse",
            Rule::FolderScope => "folder-scope",
            Rule::UnknownKind => "unknown-kind",
            Rule::NamespaceMissing => "namespace-missing",
            Rule::KustomizationPath => "kustomization-path",
            Rule::Render => "render",
            Rule::DuplicateObject => "duplicate-object",
            Rule::KubeconfigCluster => "kubeconfig-cluster",
            Rule::ProdFollowsMain => "prod-follows-main",
            Rule::InvalidName => "invalid-name",
            Rule::PlainSecret => "plain-secret",
        }
    }

    /// The rule's severity.
    pub fn severity(self) -> Severity {
        match self {
            Rule::UnknownKind => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// One finding, located at a file (relative to the repository root) and 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub file: PathBuf,
    pub line: usize,
    pub rule: Rule,
    pub message: String,
}

impl Finding {
    pub fn severity(&self) -> Severity {
        self.rule.severity()
    }

    /// The finding as a JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "file": self.file.display().to_string(),
            "line": self.line,
            "severity": self.severity().as_str(),
            "rule": self.rule.id(),
            "message": self.message,
        })
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}[{}]: {}",
            self.file.display(),
            self.line,
            self.severity().as_str(),
            self.rule.id(),
            self.message
        )
    }
}

/// The result of a lint run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Sorted by file, line, rule.
    pub findings: Vec<Finding>,
    /// How many Kustomizations were followed and rendered.
    pub kustomizations: usize,
    /// How many objects were read.
    pub objects: usize,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity() == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }

    /// The compiler-style text, one finding per line.
    pub fn to_text(&self) -> String {
        self.findings.iter().map(|f| format!("{f}\n")).collect()
    }

    /// `{"findings": [...], "errors": N, "warnings": N}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "findings": self.findings.iter().map(Finding::to_json).collect::<Vec<_>>(),
            "errors": self.errors(),
            "warnings": self.warnings(),
        })
    }
}

/// Lints the repository at `root`.
pub fn lint(root: &Path) -> Result<Report> {
    let prod_envs = crate::repo::load_config(root)?
        .unwrap_or_default()
        .prod_envs;
    let scanned = scan::scan(root)?;
    let mut findings = scanned.findings.clone();
    let (more, kustomizations) = fleet::check(root, &scanned, &prod_envs);
    findings.extend(more);
    findings.sort();
    findings.dedup();
    Ok(Report {
        findings,
        kustomizations,
        objects: scanned.objects.len(),
    })
}
