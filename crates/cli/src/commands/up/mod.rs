//! `flotilla up`: the whole management plane in one process. Starts the embedded API
//! server (store and admin kubeconfig under `--data`), installs the CRDs, applies the
//! bootstrap manifests, bootstraps as `flux bootstrap` does (GitRepository
//! `flux-system/main` on REPO, Kustomization `flux-system/mgmt` on `--path`; objects the
//! repository defines itself take over), runs the controllers, shows progress per
//! Kustomization and a summary once everything is Ready or something failed for good.
mod bootstrap;
mod progress;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use progress::{KsState, Tracker, Verdict};

#[derive(clap::Args)]
pub struct Args {
    /// Repository to run: a URL (file://, ssh://, https://) or a local git repository path.
    /// Default: examples/platform, made into a git repository under DATA (needs git).
    repo: Option<String>,
    /// Path of the management cluster's folder in the repository.
    /// Default: providers/aws/v1/mgmt for the example, else the repository root.
    #[arg(long)]
    path: Option<String>,
    /// Branch the bootstrap GitRepository follows.
    #[arg(long, default_value = "main")]
    branch: String,
    /// Directory of the store, artifacts and admin kubeconfig (`DATA/kubeconfig`).
    #[arg(long, default_value = ".flotilla")]
    data: PathBuf,
    /// Exit after converging: 0 when every Kustomization is Ready, 1 otherwise.
    #[arg(long)]
    once: bool,
    /// Apply the objects in FILE before the bootstrap (git credentials, SOPS age keys,
    /// cloud credentials: what a repository references but must never hold). Repeatable.
    #[arg(long = "bootstrap-manifests", value_name = "FILE")]
    bootstrap_manifests: Vec<PathBuf>,
    /// Address of the embedded API server (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Provision Clusters of cloud providers (AWSCluster, …) as virtual clusters. On by
    /// default: the embedded plane is a rehearsal, it has no cloud to call.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    simulate_infrastructure: bool,
    /// With --once: give up after this long (Go duration).
    #[arg(long, default_value = "10m")]
    timeout: String,
    /// How long nothing may move before a non-Ready fleet counts as failed (Go duration).
    #[arg(long, default_value = "20s")]
    settle: String,
    /// Reconciles in flight per controller.
    #[arg(long, default_value_t = 16)]
    concurrency: u16,
}

fn duration(flag: &str, v: &str) -> Result<Duration> {
    flotilla_model::GoDuration::parse(v)
        .map(|d| d.duration())
        .map_err(|e| anyhow::anyhow!("--{flag} {v:?}: {e}"))
}

pub fn run(args: Args) -> Result<ExitCode> {
    let timeout = duration("timeout", &args.timeout)?;
    let settle = duration("settle", &args.settle)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    rt.block_on(async move {
        let started = Instant::now();
        std::fs::create_dir_all(&args.data)
            .with_context(|| format!("creating {}", args.data.display()))?;
        let data = std::fs::canonicalize(&args.data)
            .with_context(|| format!("resolving {}", args.data.display()))?;
        let (url, path) = bootstrap::source(args.repo.as_deref(), args.path.as_deref(), &data)?;

        let kubeconfig = data.join("kubeconfig");
        let handle = serve(&data, args.listen, &kubeconfig).await?;
        eprintln!("► API server {} — kubeconfig {}", handle.url(), kubeconfig.display());
        let kconfig = super::connect::kube_config(Some(&kubeconfig), None).await?;
        let client = kube::Client::try_from(kconfig.clone()).context("building the client")?;

        let n = flotilla_controllers::install::crds(&client, args.simulate_infrastructure)
            .await
            .context("installing the CRDs")?;
        if n > 0 {
            eprintln!("✔ installed {n} CRDs");
        }
        for file in &args.bootstrap_manifests {
            let n = bootstrap::apply_file(&client, file).await?;
            eprintln!("✔ applied {n} objects from {}", file.display());
        }
        let created = bootstrap::objects(&client, &url, &args.branch, &path).await?;
        if created {
            eprintln!("✔ bootstrapped flux-system/main ({url}, branch {}) and flux-system/mgmt (path {path})", args.branch);
        } else {
            eprintln!("► resuming: flux-system/main and flux-system/mgmt exist");
        }

        let mut opts = flotilla_controllers::Options::new(data.join("controllers"));
        opts.simulate_infrastructure = args.simulate_infrastructure;
        opts.concurrency = args.concurrency.max(1);
        opts.simulate_local_workloads = true;
        let controllers = tokio::spawn(flotilla_controllers::run(kconfig, opts));

        let code = watch(&client, args.once, timeout, settle, started, &kubeconfig).await;
        controllers.abort();
        let _ = controllers.await;
        handle.shutdown().await;
        code
    })
}

/// Starts the API server. With port 0 a resumed `up` takes the address of the previous
/// run when it is free, so the kubeconfigs it handed out (the admin one, and the
/// `<cluster>-kubeconfig` Secrets of virtual clusters) keep working.
async fn serve(
    data: &std::path::Path,
    listen: SocketAddr,
    kubeconfig: &std::path::Path,
) -> Result<flotilla_apiserver::Handle> {
    let remembered = data.join("apiserver.addr");
    let mut candidates = vec![listen];
    if listen.port() == 0 {
        if let Some(prev) = std::fs::read_to_string(&remembered)
            .ok()
            .and_then(|s| s.trim().parse::<SocketAddr>().ok())
        {
            candidates.insert(0, prev);
        }
    }
    let mut last_err = None;
    for addr in candidates {
        let mut config = flotilla_apiserver::Config::new(data.join("apiserver"), addr);
        config.kubeconfig = Some(kubeconfig.to_path_buf());
        match flotilla_apiserver::serve(config).await {
            Ok(h) => {
                let _ = std::fs::write(&remembered, h.addr.to_string());
                return Ok(h);
            }
            Err(e) => last_err = Some((addr, e)),
        }
    }
    match last_err {
        Some((addr, e)) => Err(anyhow::anyhow!(e))
            .with_context(|| format!("starting the API server on {addr} in {}", data.display())),
        None => anyhow::bail!("no address to listen on"),
    }
}

/// Prints progress; with `once`, returns when the fleet converged or failed, else runs
/// until Ctrl-C.
async fn watch(
    client: &kube::Client,
    once: bool,
    timeout: Duration,
    settle: Duration,
    started: Instant,
    kubeconfig: &std::path::Path,
) -> Result<ExitCode> {
    let ks_api: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &flotilla_controllers::resources::kustomization(),
    );
    let git_api: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &flotilla_controllers::resources::git_repository(),
    );
    let mut tracker = Tracker::default();
    let mut summarized = false;
    let tick = Duration::from_millis(500);
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = &mut ctrl_c => {
                eprintln!("► stopping");
                return Ok(ExitCode::SUCCESS);
            }
        }
        let (Ok(ks), Ok(git)) = (
            ks_api.list(&ListParams::default()).await,
            git_api.list(&ListParams::default()).await,
        ) else {
            continue;
        };
        let items = |l: kube::core::ObjectList<DynamicObject>| -> Vec<Value> {
            l.items
                .into_iter()
                .filter_map(|o| serde_json::to_value(o).ok())
                .collect()
        };
        let ks = items(ks);
        let git = items(git);
        let states: Vec<KsState> = ks.iter().map(KsState::from_object).collect();
        let revisions = progress::revisions(&git);
        for line in tracker.observe(&states, tick) {
            eprintln!("{line}");
        }
        let verdict = tracker.verdict(&states, &revisions, settle);
        let timed_out = once && started.elapsed() > timeout;
        if (verdict != Verdict::Converging || timed_out) && !summarized {
            summarized = true;
            print_summary(&states, started.elapsed(), kubeconfig);
            if once {
                return Ok(if verdict == Verdict::AllReady {
                    ExitCode::SUCCESS
                } else {
                    if timed_out {
                        eprintln!("✗ not converged after {timeout:?}");
                    }
                    ExitCode::from(1)
                });
            }
        }
        if verdict == Verdict::Converging {
            summarized = false;
        }
    }
}

fn print_summary(states: &[KsState], elapsed: Duration, kubeconfig: &std::path::Path) {
    let ready = states.iter().filter(|s| s.ready == Some(true)).count();
    let mut rows: Vec<Vec<String>> = states
        .iter()
        .map(|s| {
            vec![
                s.namespace.clone(),
                s.name.clone(),
                s.last_applied.clone().unwrap_or_default(),
                match s.ready {
                    Some(true) => "True".into(),
                    Some(false) => "False".into(),
                    None => "Unknown".into(),
                },
                s.message.clone(),
            ]
        })
        .collect();
    rows.sort();
    println!(
        "{}",
        super::fleet::table::render(
            Some(&["NAMESPACE", "NAME", "REVISION", "READY", "MESSAGE"]),
            &rows
        )
        .trim_end()
    );
    eprintln!(
        "{ready}/{} Kustomizations Ready after {:.1}s. kubectl --kubeconfig {} get kustomizations -A",
        states.len(),
        elapsed.as_secs_f64(),
        kubeconfig.display()
    );
}
