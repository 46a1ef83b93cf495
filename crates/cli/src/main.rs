//! `flotilla`: a GitOps engine for fleets of Kubernetes clusters, in one binary.
//!
//! Each sub-command lives in its own module under `commands/`; this file only parses the
//! command line, sets up logging and maps errors to exit codes.

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "flotilla",
    version,
    about = "A GitOps engine for fleets of Kubernetes clusters"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the management plane: embedded API server, CRDs, bootstrap of REPO, controllers;
    /// shows progress and a summary (`--once`: exit when converged, 1 if not all Ready).
    Up(commands::up::Args),
    /// Run every controller against the cluster a kubeconfig names, until Ctrl-C.
    Controllers(commands::controllers::Args),
    /// Show the status of Flux sources and Kustomizations, or of Cluster API Clusters.
    Get(commands::fleet::GetArgs),
    /// Ask a Kustomization or source to reconcile now and wait for the outcome.
    Reconcile(commands::fleet::ReconcileArgs),
    /// Suspend the reconciliation of Kustomizations or sources.
    Suspend(commands::fleet::ToggleArgs),
    /// Resume suspended Kustomizations or sources and wait for them to reconcile.
    Resume(commands::fleet::ToggleArgs),
    /// Print the objects a Kustomization applied (its inventory) as a tree.
    Tree(commands::fleet::TreeArgs),
    /// Show the events of Flux objects (all of a namespace, or one object's with --for).
    Events(commands::fleet::EventsArgs),
    /// Render a kustomization directory, exactly as `kubectl kustomize DIR` prints it.
    #[command(long_about = commands::build::LONG_ABOUT)]
    Build(commands::build::Args),
    /// Release tooling: lint conventional titles, write notes, tag versions.
    #[command(subcommand)]
    Release(commands::release::ReleaseCommand),
    /// Move an environment's release pin to VERSION on a new branch, in one reviewed commit.
    Promote(commands::release::PromoteArgs),
    /// Render every Kustomization the chosen clusters run at two revisions and show what
    /// changes (exit 0: no change, 1: changes, 2: error).
    Diff(commands::release::DiffArgs),
    /// Scaffold a platform repository (features/, providers/, tenants/) in DIR.
    Init(commands::platform::InitArgs),
    /// Onboard a cluster, tenant or feature into a platform repository.
    #[command(subcommand)]
    Add(commands::platform::AddCommand),
    /// Check a platform repository's layout and references (exit 1 on errors).
    Lint(commands::platform::LintArgs),
    /// Serve the embedded Kubernetes-compatible API server (with virtual clusters) until Ctrl-C.
    Apiserver(commands::apiserver::Args),
    /// Resolve and fetch git sources with Flux GitRepository semantics.
    #[command(subcommand)]
    Source(commands::source::SourceCommand),
    /// Print the CRDs of every API Flotilla serves (pipe to `kubectl apply -f -`).
    #[command(long_about = commands::install::LONG_ABOUT)]
    Install(commands::install::Args),
}

/// Logs go to stderr. `FLOTILLA_LOG` takes a full filter (`debug`, `flotilla_render=trace`);
/// without it only warnings and errors are shown, set up without the filter parser so a
/// short-lived `flotilla build` starts as fast as possible.
fn init_logging() {
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr);
    match std::env::var("FLOTILLA_LOG") {
        Ok(filter) => builder
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .init(),
        Err(_) => builder
            .with_max_level(tracing::level_filters::LevelFilter::WARN)
            .init(),
    }
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Get(a) => commands::fleet::get(a),
        Command::Reconcile(a) => commands::fleet::reconcile(a),
        Command::Suspend(a) => commands::fleet::suspend(a),
        Command::Resume(a) => commands::fleet::resume(a),
        Command::Tree(a) => commands::fleet::tree(a),
        Command::Events(a) => commands::fleet::events(a),
        Command::Build(args) => commands::build::run(args),
        Command::Release(cmd) => commands::release::release(cmd),
        Command::Promote(args) => commands::release::promote(args),
        Command::Diff(args) => return commands::release::diff(args),
        Command::Init(a) => commands::platform::init(a),
        Command::Add(c) => commands::platform::add(c),
        Command::Lint(a) => commands::platform::lint(a),
        Command::Install(args) => commands::install::run(args),
        Command::Up(args) => commands::up::run(args),
        Command::Controllers(args) => commands::controllers::run(args),
        Command::Source(cmd) => commands::source::run(cmd),
        Command::Apiserver(args) => commands::apiserver::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
