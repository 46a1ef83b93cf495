//! Talking to remotes with gix: listing references (ls-refs, no objects) and fetching one
//! reference (shallow where the server allows) into a bare cache repository.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use gix::protocol::transport::client::blocking_io::{ssh, Transport as BlockingTransport};
use gix::remote::Direction;

use crate::error::{redact_url, SourceError};
use crate::reference::RemoteRef;
use crate::transport::Transport;

/// A bare repository that receives fetches for one source.
///
/// Every access opens the repository afresh: gix's shared object store can miss packs that
/// another handle wrote moments before (its pack-directory rescan is keyed on modification
/// time), which would make an unchanged poll look like a missing commit and download again.
#[derive(Clone)]
pub struct CacheRepo {
    path: PathBuf,
}

impl std::fmt::Debug for CacheRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheRepo")
            .field("path", &self.path)
            .finish()
    }
}

fn open_options() -> gix::open::Options {
    gix::open::Options::isolated().config_overrides([
        "user.name=flotilla",
        "user.email=flotilla@localhost",
        "committer.name=flotilla",
        "committer.email=flotilla@localhost",
        "core.logAllRefUpdates=false",
        "protocol.version=2",
    ])
}

impl CacheRepo {
    /// Opens the bare repository at `path`, creating it if needed; a directory that is not a
    /// readable repository is removed and recreated.
    pub fn open_or_init(path: &Path) -> Result<Self, SourceError> {
        if path.join("HEAD").exists() {
            if gix::ThreadSafeRepository::open_opts(path, open_options()).is_ok() {
                return Ok(CacheRepo {
                    path: path.to_path_buf(),
                });
            }
            let _ = std::fs::remove_dir_all(path);
        }
        std::fs::create_dir_all(path).map_err(|e| SourceError::storage("cache repository", e))?;
        gix::ThreadSafeRepository::init_opts(
            path,
            gix::create::Kind::Bare,
            gix::create::Options::default(),
            open_options(),
        )
        .map_err(|e| SourceError::storage("cache repository", e))?;
        Ok(CacheRepo {
            path: path.to_path_buf(),
        })
    }

    /// The repository path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A fresh handle on the repository.
    pub fn local(&self) -> Result<gix::Repository, SourceError> {
        let mut repo =
            gix::open_opts(&self.path, open_options()).map_err(|e| SourceError::Corrupt {
                url: self.path.display().to_string(),
                reason: crate::error::one_line(&e.to_string()),
            })?;
        // Reading a whole tree resolves many deltas against the same bases.
        repo.object_cache_size_if_unset(32 * 1024 * 1024);
        Ok(repo)
    }

    /// True when `id` is a commit whose tree is present.
    pub fn has_commit(&self, id: gix::ObjectId) -> bool {
        let Ok(repo) = self.local() else {
            return false;
        };
        let Ok(commit) = repo.find_commit(id) else {
            return false;
        };
        commit.tree_id().is_ok_and(|t| repo.has_object(t))
    }

    /// Lists the remote's references under `prefix` (a full name or `refs/tags/*`); downloads
    /// no objects.
    pub fn list(
        &self,
        url: &str,
        prefix: &str,
        transport: &Transport,
    ) -> Result<Vec<RemoteRef>, SourceError> {
        transport.reset_diagnostics();
        let repo = self.local()?;
        let spec = format!("+{prefix}:{prefix}");
        let remote = repo
            .remote_at_without_url_rewrite(url)
            .map_err(|e| transport.classify(url, &e))?
            .with_fetch_tags(gix::remote::fetch::Tags::None)
            .with_refspecs([spec.as_str()], Direction::Fetch)
            .map_err(|e| SourceError::InvalidSpec(format!("reference '{prefix}': {e}")))?;
        let con = connect(&remote, url, transport)?;
        let basic = transport.basic();
        let con = con.with_credentials(move |action| credentials(&basic, action));
        let (map, _) = con
            .ref_map(gix::progress::Discard, Default::default())
            .map_err(|e| transport.classify(url, &e))?;
        let exact = !prefix.ends_with('*');
        let stem = prefix.trim_end_matches('*');
        let mut out = Vec::new();
        for r in &map.remote_refs {
            let (name, target, peeled) = r.unpack();
            let name = name.to_string();
            let keep = if exact {
                name == prefix
            } else {
                name.starts_with(stem)
            };
            if !keep {
                continue;
            }
            if let Some(id) = peeled.or(target) {
                out.push(RemoteRef {
                    name,
                    commit: id.to_owned(),
                });
            }
        }
        Ok(out)
    }

    /// Fetches `what` (a full reference name, or a commit id) into the cache repository; with
    /// `shallow`, only the tip commit (depth 1).
    pub fn fetch(
        &self,
        url: &str,
        what: &str,
        shallow: bool,
        transport: &Transport,
        interrupt: &AtomicBool,
    ) -> Result<(), SourceError> {
        transport.reset_diagnostics();
        let repo = self.local()?;
        let spec = if what.starts_with("refs/") {
            format!("+{what}:{what}")
        } else {
            format!("{what}:refs/flotilla/{what}")
        };
        let remote = repo
            .remote_at_without_url_rewrite(url)
            .map_err(|e| transport.classify(url, &e))?
            .with_fetch_tags(gix::remote::fetch::Tags::None)
            .with_refspecs([spec.as_str()], Direction::Fetch)
            .map_err(|e| SourceError::InvalidSpec(format!("reference '{what}': {e}")))?;
        let con = connect(&remote, url, transport)?;
        let basic = transport.basic();
        let con = con.with_credentials(move |action| credentials(&basic, action));
        let mut prepare = con
            .prepare_fetch(gix::progress::Discard, Default::default())
            .map_err(|e| transport.classify(url, &e))?;
        if shallow {
            if let Some(one) = NonZeroU32::new(1) {
                prepare = prepare.with_shallow(gix::remote::fetch::Shallow::DepthAtRemote(one));
            }
        }
        prepare
            .receive(gix::progress::Discard, interrupt)
            .map_err(|e| receive_error(url, transport, &e))?;
        Ok(())
    }

    /// Fetches every branch and tag, full depth (the fallback for a bare commit that the
    /// server will not serve by id).
    pub fn fetch_all(
        &self,
        url: &str,
        transport: &Transport,
        interrupt: &AtomicBool,
    ) -> Result<(), SourceError> {
        transport.reset_diagnostics();
        let repo = self.local()?;
        let remote = repo
            .remote_at_without_url_rewrite(url)
            .map_err(|e| transport.classify(url, &e))?
            .with_fetch_tags(gix::remote::fetch::Tags::None)
            .with_refspecs(
                ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
                Direction::Fetch,
            )
            .map_err(|e| SourceError::InvalidSpec(e.to_string()))?;
        let con = connect(&remote, url, transport)?;
        let basic = transport.basic();
        let con = con.with_credentials(move |action| credentials(&basic, action));
        let prepare = con
            .prepare_fetch(gix::progress::Discard, Default::default())
            .map_err(|e| transport.classify(url, &e))?;
        if self.is_shallow() {
            // Unshallow: a bare commit may sit below the current boundary.
            prepare
                .with_shallow(gix::remote::fetch::Shallow::Deepen(u32::MAX / 2))
                .receive(gix::progress::Discard, interrupt)
                .map_err(|e| receive_error(url, transport, &e))?;
        } else {
            prepare
                .receive(gix::progress::Discard, interrupt)
                .map_err(|e| receive_error(url, transport, &e))?;
        }
        Ok(())
    }

    fn is_shallow(&self) -> bool {
        self.path.join("shallow").exists()
    }

    /// The number of pack files (tests and benchmarks use it to see that nothing was
    /// downloaded).
    pub fn pack_count(&self) -> usize {
        std::fs::read_dir(self.path.join("objects").join("pack"))
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "pack"))
                    .count()
            })
            .unwrap_or(0)
    }
}

type Conn<'a, 'repo> =
    gix::remote::Connection<'a, 'static, 'repo, Box<dyn BlockingTransport + Send>>;

/// Opens a connection: ssh through our own client wrapper, others as gix configures them,
/// https with our TLS and auth options.
fn connect<'a, 'repo>(
    remote: &'a gix::Remote<'repo>,
    url: &str,
    transport: &Transport,
) -> Result<Conn<'a, 'repo>, SourceError> {
    let mut con = match transport.ssh_options() {
        Some(opts) => {
            let parsed = gix::Url::from_bytes(url.as_bytes().into())
                .map_err(|e| SourceError::InvalidSpec(format!("url '{}': {e}", redact_url(url))))?;
            let t = ssh::connect(parsed, gix::protocol::transport::Protocol::V2, opts, false)
                .map_err(|e| SourceError::Unreachable {
                    url: redact_url(url),
                    reason: crate::error::one_line(&e.to_string()),
                })?;
            remote.to_connection_with_transport(Box::new(t) as Box<dyn BlockingTransport + Send>)
        }
        None => remote
            .connect(Direction::Fetch)
            .map_err(|e| transport.classify(url, &e))?,
    };
    if let Some(o) = transport.options() {
        con.set_transport_options(o);
    }
    Ok(con)
}

/// A failure while receiving the pack, after the remote listed its references: a stream
/// that ends early means the remote could not produce the objects (or the link dropped).
fn receive_error(url: &str, transport: &Transport, e: &gix::Error) -> SourceError {
    match transport.classify(url, e) {
        SourceError::Unreachable { url, reason }
            if reason.contains("fill whole buffer") || reason.to_ascii_lowercase().contains("unexpected eof") =>
        {
            SourceError::Corrupt {
                url,
                reason: "the remote ended the pack stream early (missing or corrupt objects on the remote, or a dropped connection)".into(),
            }
        }
        other => other,
    }
}

fn credentials(
    basic: &Option<(String, String)>,
    action: gix::credentials::helper::Action,
) -> gix::Result<Option<gix::credentials::protocol::Outcome>> {
    match (action, basic) {
        (gix::credentials::helper::Action::Get(ctx), Some((user, pass))) => {
            Ok(Some(gix::credentials::protocol::Outcome {
                identity: gix::sec::identity::Account {
                    username: user.clone(),
                    password: pass.clone(),
                    oauth_refresh_token: None,
                },
                next: ctx.into(),
            }))
        }
        _ => Ok(None),
    }
}

/// Runs `f` on a helper thread and gives up after `timeout`, setting `interrupt` so a fetch
/// in progress stops at its next check.
pub fn with_timeout<T: Send + 'static>(
    url: &str,
    timeout: Duration,
    interrupt: Arc<AtomicBool>,
    f: impl FnOnce(&AtomicBool) -> Result<T, SourceError> + Send + 'static,
) -> Result<T, SourceError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let flag = interrupt.clone();
    std::thread::Builder::new()
        .name("flotilla-git".into())
        .spawn(move || {
            let _ = tx.send(f(&flag));
        })
        .map_err(|e| SourceError::storage("thread", e))?;
    match rx.recv_timeout(timeout) {
        Ok(r) => r,
        Err(_) => {
            interrupt.store(true, std::sync::atomic::Ordering::SeqCst);
            Err(SourceError::Timeout {
                url: redact_url(url),
                seconds: timeout.as_secs(),
            })
        }
    }
}
