//! Trunk-based release tooling for Flotilla platform repositories, offline on any local git
//! repository:
//!
//! * [`lint`]: conventional titles `type(scope)!: subject (#N)` against `flotilla.toml`,
//!   for a range or one title, and a commit-msg hook;
//! * [`notes`]: release notes for a range, grouped by kind, as markdown or JSON;
//! * [`create`]: the next version, a CHANGELOG commit and an annotated tag;
//! * [`promote`]: a commit on `promote/<version>-<env>` that moves the GitRepository
//!   objects pinning an environment's release to a new tag, byte-preserving;
//! * [`diff`] (feature `diff`): renders every Kustomization the chosen clusters run at two
//!   revisions and reports added, removed and changed objects with field-level diffs.
//!
//! Git is read and written with gix ([`repo`]); only `git push` shells out ([`gitcli`]).
//! Support modules: [`config`] (`flotilla.toml`), [`title`] (title grammar), [`history`]
//! (ranges and the changes in them), [`version`] (bumps), [`yamledit`] (span-based scalar
//! edits that keep every other byte).

pub mod config;
pub mod create;
#[cfg(feature = "diff")]
pub mod diff;
pub mod error;
pub mod gitcli;
pub mod history;
pub mod lint;
pub mod notes;
pub mod promote;
pub mod repo;
pub mod title;
pub mod version;
pub mod yamledit;

pub use config::Config;
pub use error::{Error, Result};
pub use repo::Repo;
