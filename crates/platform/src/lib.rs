//! The platform repository as a model — scaffold, onboard, lint.
//!
//! A platform repository holds a fleet's configuration in the layout of DESIGN §8:
//! `features/`, `providers/<cloud>/<version>/{mgmt,clusters/<env>}/`, `tenants/<cloud>/`,
//! with cluster-scoped objects under `non-namespaced/` and namespaced ones under
//! `namespaced/`. This crate knows that layout:
//!
//! * [`scaffold`] writes it: [`init`] (a new repository with the management cluster's
//!   GitRepositories `main` and `release` and its `mgmt` Kustomization, `flotilla.toml`, a
//!   README, `git init` and a first conventional commit), [`add_cluster`] (Cluster API for
//!   AWS or a virtual cluster, or Hive; the cluster's Flux Kustomizations following `main`
//!   or `release` by environment), [`add_tenant`], [`add_feature`]. Manifests are text
//!   templates, never serialized, and nothing existing is overwritten without `force`.
//! * [`lint()`] checks it like a compiler, with rule ids ([`lint::Rule`]).
//!
//! Module map: [`repo`] (paths and the `[platform]` table of `flotilla.toml`), [`names`]
//! (Kubernetes name rules, YAML scalar quoting), [`mod@write`] (all-or-nothing file writing),
//! `git` (init and commit via the `git` program), [`scaffold`], [`mod@lint`].

pub mod error;
mod git;
pub mod lint;
pub mod names;
pub mod repo;
pub mod scaffold;
pub mod write;

pub use error::{Error, Result};
pub use lint::{lint, Finding, Report, Rule, Severity};
pub use repo::{Platform, PlatformConfig};
pub use scaffold::cluster::{add_cluster, ClusterOptions, InfraProvider};
pub use scaffold::feature::{add_feature, FeatureOptions};
pub use scaffold::init::{init, InitOptions};
pub use scaffold::tenant::{add_tenant, TenantOptions};
pub use write::Outcome;

/// Whether the `git` program is available (tests and `init` use it).
pub fn git_available() -> bool {
    git::available()
}
