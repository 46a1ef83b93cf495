//! Staged server-side apply, inventory, prune and health checks against any Kubernetes API:
//! what kustomize-controller does with a rendered build (fluxcd/pkg/ssa semantics), for the
//! controllers to call with one [`Applier`] per target cluster.
//!
//! - [`object`] — [`ObjectRef`]: identity read from a manifest or a Flux inventory id
//!   (`default_podinfo_apps_Deployment`), its Display form (`Deployment/default/podinfo`),
//!   apply stages and the `kustomize.toolkit.fluxcd.io/ssa` policy.
//! - `applier` — [`Applier`] (client + discovery cache, cheap to clone), [`ApplyOptions`],
//!   [`PruneOptions`], and the requests: locate a kind, get, server-side apply, delete.
//! - `discovery` — kind → plural and scope per group/version, cached; a miss refreshes at
//!   most once a second, concurrent misses share the refresh.
//! - `apply` — [`Applier::apply_staged`]: CRDs/Namespaces/ClusterRoles (then a wait for
//!   Established CRDs and Namespaces), `*Class` kinds, the rest; each stage concurrently;
//!   created / configured (dry-run compare) / unchanged / skipped; forced recreate on
//!   immutable-field errors.
//! - `prune` — [`Applier::prune`]: deletes stale objects still owned (owner labels, the
//!   `kustomize.toolkit.fluxcd.io/prune: disabled` annotation), CRDs last.
//! - [`health`] — kstatus readiness rules ([`health::readiness`]), [`Applier::status_of`] and
//!   [`Applier::wait_ready`] with Flux's timeout message.
//! - `change`, `error` — [`ChangeSet`]/[`Change`]/[`Action`], [`ApplyError`]/[`ApplyFailure`].

mod applier;
mod apply;
mod change;
mod discovery;
mod error;
pub mod health;
pub mod object;
mod prune;

pub use applier::{Applier, ApplyOptions, PruneOptions};
pub use change::{Action, Change, ChangeSet};
pub use error::{ApplyError, ApplyFailure};
pub use health::Readiness;
pub use object::ObjectRef;
