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
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FLOTILLA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => commands::build::run(args),
        Command::Release(cmd) => commands::release::release(cmd),
        Command::Promote(args) => commands::release::promote(args),
        Command::Diff(args) => return commands::release::diff(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
