//! The HTTPS listener: TLS (rustls with ring) over hyper, HTTP/1.1 and HTTP/2, in front of the
//! API handlers ([`crate::api`]).
pub(crate) mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::clusters::{State, DEFAULT_CLUSTER};
use crate::store::Store;
use crate::Error;

/// How to run the server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the store, certificates and tokens live.
    pub data_dir: PathBuf,
    /// The address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// Where to write the admin kubeconfig (default `DATA/admin.kubeconfig`).
    pub kubeconfig: Option<PathBuf>,
    /// Request body limit in bytes (kube-apiserver's is 3 MiB).
    pub max_body: usize,
    /// Watch events kept in memory for resuming watches.
    pub history: usize,
    /// ... and at most this many bytes of their objects (as stored, JSON): a busy server
    /// keeps fewer events rather than more memory.
    pub history_bytes: usize,
}

impl Config {
    /// Defaults for a data directory and listen address.
    pub fn new(data_dir: impl Into<PathBuf>, listen: SocketAddr) -> Config {
        Config {
            data_dir: data_dir.into(),
            listen,
            kubeconfig: None,
            max_body: 3 * 1024 * 1024,
            history: 10_000,
            history_bytes: 2 * 1024 * 1024,
        }
    }
}

/// A running server.
pub struct Handle {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The admin kubeconfig file.
    pub kubeconfig: PathBuf,
    /// The administrator token.
    pub admin_token: String,
    state: Arc<State>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Handle {
    /// `https://127.0.0.1:port`.
    pub fn url(&self) -> String {
        self.state.server_url.clone()
    }

    /// The CA certificate (PEM).
    pub fn ca_pem(&self) -> &str {
        &self.state.ca_pem
    }

    /// Creates a virtual cluster; returns its kubeconfig.
    pub async fn create_cluster(&self, name: &str) -> Result<String, Error> {
        let c = self.state.create_cluster(name).await?;
        Ok(self.state.kubeconfig(&c.name, &c.token))
    }

    /// Deletes a virtual cluster and everything in it.
    pub async fn delete_cluster(&self, name: &str) -> Result<(), Error> {
        self.state.delete_cluster(name).await
    }

    /// The kubeconfig of a cluster with the cluster's own token.
    pub fn cluster_kubeconfig(&self, name: &str) -> Option<String> {
        self.state
            .cluster(name)
            .map(|c| self.state.kubeconfig(&c.name, &c.token))
    }

    /// The names of the virtual clusters (the default one included).
    pub fn clusters(&self) -> Vec<String> {
        self.state.cluster_names()
    }

    /// Stops accepting connections, closes the open ones, and waits (at most 5 s) until the
    /// requests in flight are done, so the store is closed when this returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while Arc::strong_count(&self.state) > 1 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Waits until the server stops by itself (it does not, unless its listener fails).
    pub async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }
}

/// Starts the server (inside a tokio runtime).
pub async fn serve(config: Config) -> Result<Handle, Error> {
    std::fs::create_dir_all(&config.data_dir)?;
    let id = tls::load_or_generate(&config.data_dir)?;
    let tls_cfg = tls::server_config(&id)?;
    let token_file = config.data_dir.join("admin.token");
    let admin_token = match std::fs::read_to_string(&token_file) {
        Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
        _ => {
            let t = tls::random_token()?;
            tls::write_private(&token_file, &t)?;
            t
        }
    };
    let store = Store::open_bounded(
        &config.data_dir.join("store.redb"),
        config.history,
        config.history_bytes,
    )?;
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        addr.ip().to_string()
    };
    let server_url = format!("https://{host}:{}", addr.port());
    let state = Arc::new(State::new(
        store,
        admin_token.clone(),
        config.data_dir.clone(),
        server_url,
        id.ca_pem.clone(),
        config.max_body,
    )?);
    if state.cluster(DEFAULT_CLUSTER).is_none() {
        state.create_cluster(DEFAULT_CLUSTER).await?;
    }
    let kubeconfig = config
        .kubeconfig
        .clone()
        .unwrap_or_else(|| config.data_dir.join("admin.kubeconfig"));
    if let Some(parent) = kubeconfig.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    tls::write_private(
        &kubeconfig,
        &state.kubeconfig(DEFAULT_CLUSTER, &admin_token),
    )?;
    crate::api::gc::resume(state.clone());
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(accept_loop(
        listener,
        TlsAcceptor::from(tls_cfg),
        state.clone(),
        stop_rx,
    ));
    tracing::info!(%addr, "apiserver listening");
    Ok(Handle {
        addr,
        kubeconfig,
        admin_token,
        state,
        stop,
        task,
    })
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    state: Arc<State>,
    mut stop: watch::Receiver<bool>,
) {
    let router = crate::api::router(state);
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let svc = TowerToHyperService::new(router.clone());
        let mut conn_stop = stop.clone();
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
            };
            let builder = auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), svc);
            tokio::select! {
                res = conn => {
                    if let Err(e) = res {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                // Dropping the connection closes it (and ends its watches).
                _ = conn_stop.changed() => {}
            }
        });
    }
}
