//! [`Sources`]: GitRepository reconciliation with shared fetches.
//!
//! Every (url, ref, credentials) triple has one entry, behind its own lock, holding one bare
//! cache repository. However many GitRepository objects name it, the remote is asked once per
//! `max_age` (the polling interval), objects are downloaded only when the resolved commit is
//! not already present, and each distinct content configuration (ignore, sparse, include,
//! submodules) builds one archive per commit. A failed poll returns the error together with
//! the artifact still being served.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::archive::{self, Files};
use crate::credentials::Credentials;
use crate::error::{redact_url, SourceError};
use crate::reference::{GitRef, Plan, Resolved};
use crate::remote::{with_timeout, CacheRepo};
use crate::rewrite::UrlRewriter;
use crate::store::{Artifact, Store};
use crate::transport::Transport;

/// Another source's artifact to copy in (`spec.include`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// The included source's artifact.
    pub artifact: Artifact,
    /// Directory of the included artifact to copy (`""`: all).
    pub from_path: String,
    /// Where to put it (`""`: the root).
    pub to_path: String,
}

/// What a GitRepository asks for.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    /// `spec.url`.
    pub url: String,
    /// `spec.ref`.
    pub reference: GitRef,
    /// From `spec.secretRef`.
    pub credentials: Option<Arc<Credentials>>,
    /// `spec.timeout` (Flux default 60s).
    pub timeout: Duration,
    /// `spec.ignore`.
    pub ignore: Option<String>,
    /// `spec.sparseCheckout`.
    pub sparse_checkout: Vec<String>,
    /// `spec.recurseSubmodules`.
    pub recurse_submodules: bool,
    /// `spec.include`, already resolved to artifacts.
    pub include: Vec<Include>,
}

impl SourceSpec {
    /// A spec with Flux's defaults.
    pub fn new(url: &str, reference: GitRef) -> Self {
        SourceSpec {
            url: url.to_string(),
            reference,
            credentials: None,
            timeout: Duration::from_secs(60),
            ignore: None,
            sparse_checkout: Vec::new(),
            recurse_submodules: false,
            include: Vec::new(),
        }
    }
}

/// A reconcile that failed; `serving` is the artifact still being served, if any.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What went wrong.
    pub error: SourceError,
    /// The last good artifact for this spec.
    pub serving: Option<Box<Artifact>>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for Failure {}

/// Counters, for tests, benchmarks and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// `reconcile`/`resolve` calls.
    pub requests: u64,
    /// Reference listings sent to remotes (ls-refs).
    pub remote_checks: u64,
    /// Object downloads (fetches that receive a pack).
    pub fetches: u64,
    /// Archives built.
    pub artifacts_built: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    remote_checks: AtomicU64,
    fetches: AtomicU64,
    artifacts_built: AtomicU64,
}

#[derive(Default)]
struct Entry {
    repo: Option<CacheRepo>,
    transport: Option<Arc<Transport>>,
    checked_at: Option<Instant>,
    resolved: Option<Resolved>,
    /// content key → (commit, artifact)
    artifacts: HashMap<String, (gix::ObjectId, Artifact)>,
}

/// The source service: a store plus the shared fetch state.
pub struct Sources {
    store: Store,
    rewriter: UrlRewriter,
    entries: Mutex<HashMap<String, Arc<Mutex<Entry>>>>,
    counters: Arc<Counters>,
}

fn key_hash(parts: &[&str]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    crate::hex(&h.finalize()[..16])
}

impl Sources {
    /// A service storing under `root`, keeping `keep` artifacts per source, honouring the
    /// user's `insteadOf` rules.
    pub fn open(root: &std::path::Path, keep: usize) -> Result<Self, SourceError> {
        Ok(Sources {
            store: Store::open(root, keep)?,
            rewriter: UrlRewriter::from_user_config(),
            entries: Mutex::new(HashMap::new()),
            counters: Arc::default(),
        })
    }

    /// Replaces the URL rewrite rules.
    pub fn with_rewriter(mut self, rewriter: UrlRewriter) -> Self {
        self.rewriter = rewriter;
        self
    }

    /// The artifact store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Current counters.
    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        Stats {
            requests: c.requests.load(Ordering::Relaxed),
            remote_checks: c.remote_checks.load(Ordering::Relaxed),
            fetches: c.fetches.load(Ordering::Relaxed),
            artifacts_built: c.artifacts_built.load(Ordering::Relaxed),
        }
    }

    fn fetch_key(&self, spec: &SourceSpec, url: &str) -> String {
        let fp = spec
            .credentials
            .as_ref()
            .map(|c| c.fingerprint())
            .unwrap_or_default();
        key_hash(&[url, &spec.reference.key(), &fp])
    }

    fn content_key(fetch_key: &str, spec: &SourceSpec) -> String {
        let mut parts = vec![
            fetch_key.to_string(),
            spec.ignore.clone().unwrap_or_else(|| "\u{0}none".into()),
            spec.sparse_checkout.join("\u{0}"),
            spec.recurse_submodules.to_string(),
        ];
        for i in &spec.include {
            parts.push(format!(
                "{}\u{0}{}\u{0}{}",
                i.artifact.digest, i.from_path, i.to_path
            ));
        }
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        key_hash(&refs)
    }

    fn entry(&self, key: &str) -> Result<Arc<Mutex<Entry>>, SourceError> {
        let mut map = self
            .entries
            .lock()
            .map_err(|_| SourceError::Storage("lock poisoned".into()))?;
        Ok(map.entry(key.to_string()).or_default().clone())
    }

    /// Resolves the revision `spec` names now (listing references; a bare commit is fetched
    /// to prove it exists). Shares state with [`Sources::reconcile`].
    pub fn resolve(&self, spec: &SourceSpec) -> Result<Resolved, SourceError> {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let url = self.rewriter.rewrite(&spec.url);
        let key = self.fetch_key(spec, &url);
        let entry = self.entry(&key)?;
        let mut e = entry
            .lock()
            .map_err(|_| SourceError::Storage("lock poisoned".into()))?;
        self.sync(&mut e, spec, &url, &key, Duration::ZERO)
    }

    /// Brings the artifact for `spec` up to date: asks the remote at most once per `max_age`
    /// for this (url, ref), downloads only a new commit, builds an archive only for a new
    /// (commit, content) pair.
    pub fn reconcile(&self, spec: &SourceSpec, max_age: Duration) -> Result<Artifact, Failure> {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let url = self.rewriter.rewrite(&spec.url);
        let key = self.fetch_key(spec, &url);
        let ckey = Self::content_key(&key, spec);
        let fail = |error: SourceError, serving: Option<Artifact>| Failure {
            error,
            serving: serving.map(Box::new),
        };
        let entry = self.entry(&key).map_err(|e| fail(e, None))?;
        let mut e = entry
            .lock()
            .map_err(|_| fail(SourceError::Storage("lock poisoned".into()), None))?;
        let serving = e
            .artifacts
            .get(&ckey)
            .map(|(_, a)| a.clone())
            .or_else(|| self.store.latest(&ckey));
        let resolved = match self.sync(&mut e, spec, &url, &key, max_age) {
            Ok(r) => r,
            Err(err) => {
                tracing::warn!(url = %redact_url(&spec.url), error = %err, "source poll failed");
                return Err(fail(err, serving));
            }
        };
        if let Some((commit, a)) = e.artifacts.get(&ckey) {
            if *commit == resolved.commit && a.path.exists() {
                return Ok(a.clone());
            }
        }
        match self.build(&e, spec, &url, &ckey, &resolved) {
            Ok(a) => {
                e.artifacts.insert(ckey, (resolved.commit, a.clone()));
                Ok(a)
            }
            Err(err) => {
                if matches!(err, SourceError::Corrupt { .. }) {
                    e.checked_at = None;
                }
                Err(fail(err, serving))
            }
        }
    }

    /// Makes sure the entry knows the current commit and has its objects.
    fn sync(
        &self,
        e: &mut Entry,
        spec: &SourceSpec,
        url: &str,
        key: &str,
        max_age: Duration,
    ) -> Result<Resolved, SourceError> {
        let plan = spec.reference.plan()?;
        // Within `max_age` the last answer stands; the objects were verified when it was made
        // (a build that finds them missing clears `checked_at`).
        if let (Some(at), Some(r)) = (e.checked_at, &e.resolved) {
            if at.elapsed() < max_age {
                return Ok(r.clone());
            }
        }
        let repo = match &e.repo {
            Some(r) => r.clone(),
            None => {
                let r = CacheRepo::open_or_init(&self.store.repos_dir().join(key))?;
                e.repo = Some(r.clone());
                r
            }
        };
        let transport = match &e.transport {
            Some(t) => t.clone(),
            None => {
                let t = Arc::new(Transport::new(url, spec.credentials.clone(), spec.timeout)?);
                e.transport = Some(t.clone());
                t
            }
        };
        let run = |repo: CacheRepo| {
            let counters = self.counters.clone();
            let url_owned = url.to_string();
            let plan = plan.clone();
            let transport = transport.clone();
            let interrupt = Arc::new(AtomicBool::new(false));
            with_timeout(url, spec.timeout, interrupt, move |stop| {
                sync_remote(&repo, &url_owned, &plan, &transport, &counters, stop)
            })
            .map_err(|e| match e {
                // Lower layers (reqwest, ssh) time out on their own; report the spec's limit.
                SourceError::Timeout { url, .. } => SourceError::Timeout {
                    url,
                    seconds: spec.timeout.as_secs(),
                },
                e => e,
            })
        };
        let resolved = match run(repo.clone()) {
            // A damaged cache repository is rebuilt once from the remote.
            Err(SourceError::Corrupt { .. } | SourceError::Git { .. }) => {
                tracing::warn!(path = %repo.path().display(), "rebuilding cache repository");
                e.repo = None;
                let _ = std::fs::remove_dir_all(repo.path());
                let fresh = CacheRepo::open_or_init(repo.path())?;
                e.repo = Some(fresh.clone());
                run(fresh)?
            }
            other => other?,
        };
        e.checked_at = Some(Instant::now());
        e.resolved = Some(resolved.clone());
        Ok(resolved)
    }

    fn build(
        &self,
        e: &Entry,
        spec: &SourceSpec,
        url: &str,
        ckey: &str,
        resolved: &Resolved,
    ) -> Result<Artifact, SourceError> {
        let repo = e
            .repo
            .as_ref()
            .ok_or_else(|| SourceError::Storage("cache repository missing".into()))?;
        let (mut files, subs) =
            archive::tree_files(&repo.local()?, url, resolved.commit, &spec.sparse_checkout)?;
        if spec.recurse_submodules {
            for sub in subs {
                let sub_files = self.submodule_files(spec, url, &sub)?;
                archive::graft(&mut files, &sub.path, sub_files);
            }
        }
        for inc in &spec.include {
            let f = std::fs::File::open(&inc.artifact.path)
                .map_err(|e| SourceError::storage("reading included artifact", e))?;
            let included = archive::read_tar_gz(f)
                .map_err(|e| SourceError::storage("reading included artifact", e))?;
            archive::include(&mut files, &included, &inc.from_path, &inc.to_path);
        }
        archive::apply_ignore(&mut files, spec.ignore.as_deref());
        let a = self.store.put(ckey, &resolved.revision.to_v1(), &files)?;
        self.counters
            .artifacts_built
            .fetch_add(1, Ordering::Relaxed);
        tracing::info!(revision = %a.revision, digest = %a.digest, "stored artifact");
        Ok(a)
    }

    fn submodule_files(
        &self,
        spec: &SourceSpec,
        parent_url: &str,
        sub: &archive::Submodule,
    ) -> Result<Files, SourceError> {
        let raw = sub.url.as_deref().ok_or_else(|| {
            SourceError::InvalidSpec(format!(
                "submodule '{}' has no url in .gitmodules",
                sub.path
            ))
        })?;
        let url = self.rewriter.rewrite(&join_url(parent_url, raw));
        let sub_spec = SourceSpec {
            url: url.clone(),
            reference: GitRef::commit(&sub.commit.to_string()),
            recurse_submodules: true,
            ..spec.clone()
        };
        let key = self.fetch_key(&sub_spec, &url);
        let entry = self.entry(&key)?;
        let mut e = entry
            .lock()
            .map_err(|_| SourceError::Storage("lock poisoned".into()))?;
        let r = self.sync(&mut e, &sub_spec, &url, &key, Duration::MAX)?;
        let repo = e
            .repo
            .as_ref()
            .ok_or_else(|| SourceError::Storage("cache repository missing".into()))?;
        let (mut files, subs) = archive::tree_files(&repo.local()?, &url, r.commit, &[])?;
        drop(e);
        for s in subs {
            let nested = self.submodule_files(&sub_spec, &url, &s)?;
            archive::graft(&mut files, &s.path, nested);
        }
        Ok(files)
    }
}

/// Resolves a submodule URL relative to its parent's (`../lib.git`).
fn join_url(parent: &str, rel: &str) -> String {
    if !(rel.starts_with("./") || rel.starts_with("../")) {
        return rel.to_string();
    }
    let mut base = parent.trim_end_matches('/').to_string();
    let mut rest = rel;
    loop {
        if let Some(r) = rest.strip_prefix("./") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("../") {
            rest = r;
            if let Some(i) = base.rfind('/') {
                base.truncate(i);
            }
        } else {
            break;
        }
    }
    format!("{base}/{rest}")
}

fn sync_remote(
    repo: &CacheRepo,
    url: &str,
    plan: &Plan,
    transport: &Transport,
    counters: &Counters,
    stop: &AtomicBool,
) -> Result<Resolved, SourceError> {
    let unknown_commit = |sha: &str| SourceError::UnknownRef {
        url: redact_url(url),
        kind: "commit",
        name: sha.to_string(),
    };
    let fetched = |n: u64| counters.fetches.fetch_add(n, Ordering::Relaxed);
    let refs = match plan.list_prefix() {
        Some(prefix) => {
            counters.remote_checks.fetch_add(1, Ordering::Relaxed);
            repo.list(url, &prefix, transport)?
        }
        None => Vec::new(),
    };
    let resolved = plan.select(url, &refs)?;
    if repo.has_commit(resolved.commit) {
        return Ok(resolved);
    }
    match (plan, &resolved.refname) {
        (Plan::Commit { sha, branch }, refname) => {
            if let (Some(_), Some(name)) = (branch, refname) {
                fetched(1);
                repo.fetch(url, name, false, transport, stop)?;
            }
            if !repo.has_commit(resolved.commit) {
                fetched(1);
                // By id (protocol v2 servers allow reachable commits), else everything.
                if repo.fetch(url, sha, true, transport, stop).is_err()
                    || !repo.has_commit(resolved.commit)
                {
                    repo.fetch_all(url, transport, stop)?;
                }
            }
            if !repo.has_commit(resolved.commit) {
                return Err(unknown_commit(sha));
            }
        }
        (_, Some(name)) => {
            fetched(1);
            repo.fetch(url, name, true, transport, stop)?;
            if !repo.has_commit(resolved.commit) {
                return Err(SourceError::Corrupt {
                    url: redact_url(url),
                    reason: format!("commit {} missing after fetch", resolved.commit),
                });
            }
        }
        (_, None) => return Err(unknown_commit(&resolved.commit.to_string())),
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_submodule_urls() {
        assert_eq!(
            join_url("https://h/org/app.git", "../lib.git"),
            "https://h/org/lib.git"
        );
        assert_eq!(join_url("/srv/app", "./sub"), "/srv/app/sub");
        assert_eq!(join_url("/srv/app", "https://x/y"), "https://x/y");
    }
}
