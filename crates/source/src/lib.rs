//! Git sources with Flux GitRepository semantics.
//!
//! This crate's job: turn a GitRepository's `url`, `ref` and `secretRef` into a revision
//! string exactly as Flux writes it (`main@sha1:<sha>`, `v0.0.3@sha1:<sha>`, `sha1:<sha>`, or
//! `main/<sha>` at v1beta1) and an artifact (a canonical tar.gz of the tree, ignore rules
//! applied, digest `sha256:<hex>`) in a content-addressed store — fetching each
//! (url, ref) once however many GitRepository objects name it.
//!
//! Rooms:
//! - [`revision`] — revision strings; [`semver_range`] — Masterminds ranges and tag versions;
//!   [`reference`] — `spec.ref` precedence (commit > name > semver > tag > branch) and
//!   resolution against advertised references.
//! - [`credentials`] — the Secret's keys; [`transport`] — ssh (the `ssh` binary, strict host
//!   keys) and https (reqwest + rustls/ring) set-up and error classification; [`rewrite`] —
//!   `url.<base>.insteadOf`.
//! - [`remote`] — gix: ls-refs, shallow fetch into a bare cache repository, timeouts.
//! - [`archive`] — tree → files (sparse, submodules, include, `.sourceignore`) → canonical
//!   archive; [`ignore`] — Flux's sourceignore matcher; [`store`] — atomic, content-addressed
//!   artifact store with per-source GC.
//! - [`sources`] — [`Sources`], the shared-fetch service the controllers and the CLI use.
//!
//! Errors are [`SourceError`]s: one line, no credentials, fit for a `Ready=False` message.

pub mod archive;
pub mod credentials;
pub mod error;
pub mod ignore;
pub mod reference;
pub mod remote;
pub mod revision;
pub mod rewrite;
pub mod semver_range;
pub mod sources;
pub mod store;
pub mod transport;

pub use credentials::Credentials;
pub use error::SourceError;
pub use reference::{GitRef, Resolved};
pub use revision::Revision;
pub use rewrite::UrlRewriter;
pub use sources::{Failure, Include, SourceSpec, Sources, Stats};
pub use store::{Artifact, Store};

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
