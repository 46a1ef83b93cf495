//! The flux-like commands that talk to a Kubernetes API: `get`, `reconcile`, `suspend`,
//! `resume`, `tree` and `events`, over Flux GitRepositories and Kustomizations and Cluster API
//! Clusters, with the output and semantics of the `flux` CLI.
//!
//! The API is whatever `--kubeconfig FILE` (else `$KUBECONFIG`, else `~/.kube/config`, else
//! the in-cluster service account) names; `--context` picks a context. Objects are read as
//! `DynamicObject`s and their status deserialized into the typed structs of `flotilla-model`.
mod events;
mod get;
mod kinds;
mod reconcile;
pub(crate) mod table;
mod tree;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};

/// Where the API is, and which namespace to look in (flags of every command here).
#[derive(clap::Args, Clone, Debug)]
pub struct KubeArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current context).
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// The namespace of the objects.
    #[arg(short = 'n', long, global = true, default_value = "flux-system")]
    pub namespace: String,
}

/// `flotilla get ...`.
#[derive(clap::Args, Debug)]
pub struct GetArgs {
    #[command(subcommand)]
    what: GetWhat,
    #[command(flatten)]
    kube: KubeArgs,
    /// List the objects across all namespaces.
    #[arg(short = 'A', long, global = true)]
    all_namespaces: bool,
    /// Leave out the header line.
    #[arg(long, global = true)]
    no_header: bool,
}

#[derive(clap::Subcommand, Debug)]
enum GetWhat {
    /// The status of sources (GitRepositories).
    Sources {
        /// The source kind; only `git` is served.
        #[arg(value_parser = ["git"], default_value = "git")]
        kind: String,
    },
    /// The status of Kustomizations.
    #[command(visible_alias = "ks")]
    Kustomizations,
    /// Cluster API Clusters (`cluster.x-k8s.io`): phase, readiness and kubeconfig Secret.
    Clusters,
}

/// `flotilla reconcile ...`.
#[derive(clap::Args, Debug)]
pub struct ReconcileArgs {
    #[command(subcommand)]
    target: ReconcileTarget,
    #[command(flatten)]
    kube: KubeArgs,
    #[command(flatten)]
    wait: WaitArgs,
}

#[derive(clap::Subcommand, Debug)]
enum ReconcileTarget {
    /// Annotate a Kustomization and wait for it to be applied.
    #[command(visible_alias = "ks")]
    Kustomization {
        /// Its name.
        name: String,
        /// Reconcile its source (GitRepository) first, and wait for a new fetch.
        #[arg(long)]
        with_source: bool,
    },
    /// Annotate a source and wait for it to be fetched.
    #[command(subcommand)]
    Source(SourceTarget),
}

#[derive(clap::Subcommand, Debug)]
enum SourceTarget {
    /// A GitRepository.
    Git {
        /// Its name.
        name: String,
    },
}

/// `flotilla suspend ...` and `flotilla resume ...`.
#[derive(clap::Args, Debug)]
pub struct ToggleArgs {
    #[command(subcommand)]
    target: ToggleTarget,
    #[command(flatten)]
    kube: KubeArgs,
    #[command(flatten)]
    wait: WaitArgs,
    /// `resume`: wait for the reconciliation to finish (`--wait=false` not to).
    #[arg(long = "wait", value_name = "BOOL", global = true, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    wait_for_it: bool,
}

#[derive(clap::Subcommand, Debug)]
enum ToggleTarget {
    /// Kustomizations.
    #[command(visible_alias = "ks")]
    Kustomization {
        /// Their names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Sources.
    #[command(subcommand)]
    Source(ToggleSource),
}

#[derive(clap::Subcommand, Debug)]
enum ToggleSource {
    /// GitRepositories.
    Git {
        /// Their names.
        #[arg(required = true)]
        names: Vec<String>,
    },
}

/// How long to wait for a reconciliation.
#[derive(clap::Args, Debug, Clone)]
struct WaitArgs {
    /// How long to wait for the reconciliation (Go duration).
    #[arg(long, global = true, default_value = "5m", value_parser = parse_duration)]
    timeout: Duration,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    flotilla_model::GoDuration::parse(s)
        .map(|d| d.duration())
        .map_err(|e| e.to_string())
}

/// `flotilla tree ...`.
#[derive(clap::Args, Debug)]
pub struct TreeArgs {
    #[command(subcommand)]
    target: TreeTarget,
    #[command(flatten)]
    kube: KubeArgs,
    /// Only Flux objects (`*.toolkit.fluxcd.io`).
    #[arg(long, global = true)]
    compact: bool,
    /// Print the tree as `json` or `yaml` instead.
    #[arg(short = 'o', long, global = true, value_parser = ["json", "yaml"])]
    output: Option<String>,
}

#[derive(clap::Subcommand, Debug)]
enum TreeTarget {
    /// The objects a Kustomization applied, recursing into the Kustomizations among them.
    #[command(visible_alias = "ks")]
    Kustomization {
        /// Its name.
        name: String,
    },
}

/// `flotilla events`.
#[derive(clap::Args, Debug)]
pub struct EventsArgs {
    #[command(flatten)]
    kube: KubeArgs,
    /// Events of all namespaces.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// Only the events of this object (`Kind/name`; a Kustomization adds its source's).
    #[arg(long = "for", value_name = "KIND/NAME")]
    for_object: Option<String>,
}

/// `flotilla get`.
pub fn get(args: GetArgs) -> Result<ExitCode> {
    block_on(get::run(args))
}

/// `flotilla reconcile`.
pub fn reconcile(args: ReconcileArgs) -> Result<ExitCode> {
    block_on(reconcile::reconcile(args))
}

/// `flotilla suspend`.
pub fn suspend(args: ToggleArgs) -> Result<ExitCode> {
    block_on(reconcile::toggle(args, true))
}

/// `flotilla resume`.
pub fn resume(args: ToggleArgs) -> Result<ExitCode> {
    block_on(reconcile::toggle(args, false))
}

/// `flotilla tree`.
pub fn tree(args: TreeArgs) -> Result<ExitCode> {
    block_on(tree::run(args))
}

/// `flotilla events`.
pub fn events(args: EventsArgs) -> Result<ExitCode> {
    block_on(events::run(args))
}

fn block_on(fut: impl std::future::Future<Output = Result<ExitCode>>) -> Result<ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?
        .block_on(fut)
}

/// A client for the API the flags (or the environment) name.
async fn client(args: &KubeArgs) -> Result<kube::Client> {
    let config =
        super::connect::kube_config(args.kubeconfig.as_deref(), args.context.as_deref()).await?;
    tracing::debug!(url = %config.cluster_url, "connecting");
    kube::Client::try_from(config).context("building the Kubernetes client")
}

/// A failure below the API (connection refused, TLS, timeout) as one line: what was being
/// done, then the chain of causes.
fn transport_error(e: &kube::Error, doing: &str) -> anyhow::Error {
    let mut msg = format!("{doing}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    anyhow!(msg)
}

/// Now as Go's RFC 3339 with nanoseconds (what `flux reconcile` writes in `requestedAt`).
fn now_rfc3339_nano() -> String {
    k8s_openapi::jiff::Timestamp::now().to_string()
}

/// Seconds since an RFC 3339 timestamp, as kubectl prints ages (`<unknown>` if unparsable).
fn age(timestamp: Option<&str>) -> String {
    match timestamp.and_then(flotilla_apimachinery::time::parse_rfc3339) {
        Some(t) => {
            flotilla_apimachinery::time::human_duration(flotilla_apimachinery::time::now_secs() - t)
        }
        None => "<unknown>".to_string(),
    }
}
