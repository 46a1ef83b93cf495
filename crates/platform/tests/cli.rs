//! The CLI module `crates/cli/src/commands/platform.rs`, compiled here (the binary wires it
//! in `main.rs`): arguments parse as documented and the commands run end to end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../cli/src/commands/platform.rs"]
#[allow(dead_code)]
mod platform;

mod common;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Init(platform::InitArgs),
    #[command(subcommand)]
    Add(platform::AddCommand),
    Lint(platform::LintArgs),
}

fn run(args: &[&str]) -> anyhow::Result<ExitCode> {
    let cli = Cli::try_parse_from(std::iter::once("flotilla").chain(args.iter().copied()))?;
    match cli.command {
        Command::Init(a) => platform::init(a),
        Command::Add(c) => platform::add(c),
        Command::Lint(a) => platform::lint(a),
    }
}

#[test]
fn commands_run_end_to_end() {
    let root = common::tempdir("cli");
    let dir = root.join("platform");
    let d = dir.to_str().unwrap();
    assert_eq!(
        run(&["init", d, "--provider", "aws", "--no-git"]).unwrap(),
        ExitCode::SUCCESS
    );
    for args in [
        vec!["add", "cluster", "dev-1", "--env", "dev", "--repo", d],
        vec![
            "add",
            "cluster",
            "prod-1",
            "--env",
            "prod",
            "--provider",
            "virtual",
            "--repo",
            d,
        ],
        vec!["add", "tenant", "shop", "--envs", "dev,prod", "--repo", d],
        vec![
            "add",
            "feature",
            "cert-manager",
            "--clusters",
            "prod-1",
            "--repo",
            d,
        ],
    ] {
        assert_eq!(run(&args).unwrap(), ExitCode::SUCCESS, "{args:?}");
    }
    assert_eq!(run(&["lint", d]).unwrap(), ExitCode::SUCCESS);
    assert_eq!(
        run(&["lint", d, "--format", "json"]).unwrap(),
        ExitCode::SUCCESS
    );
    assert!(dir
        .join("providers/aws/v1/mgmt/namespaced/prod-1/kustomization-feature-cert-manager.yaml")
        .is_file());
    assert!(!dir
        .join("providers/aws/v1/mgmt/namespaced/dev-1/kustomization-feature-cert-manager.yaml")
        .exists());
    // Again without --force: refused.
    assert!(run(&["add", "tenant", "shop", "--envs", "dev", "--repo", d]).is_err());
    // A broken repository: exit code 1.
    let broken = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken/plain-secret");
    assert_eq!(
        run(&["lint", broken.to_str().unwrap()]).unwrap(),
        ExitCode::FAILURE
    );
    // Warnings alone do not fail.
    let warn = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken/unknown-kind");
    assert_eq!(
        run(&["lint", warn.to_str().unwrap()]).unwrap(),
        ExitCode::SUCCESS
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn arguments_are_checked() {
    assert!(
        Cli::try_parse_from(["flotilla", "add", "cluster", "c"]).is_err(),
        "--env is required"
    );
    assert!(Cli::try_parse_from([
        "flotilla",
        "add",
        "cluster",
        "c",
        "--env",
        "e",
        "--provider",
        "gcp"
    ])
    .is_err());
    assert!(Cli::try_parse_from([
        "flotilla",
        "add",
        "feature",
        "f",
        "--clusters",
        "a",
        "--envs",
        "b"
    ])
    .is_err());
    assert!(Cli::try_parse_from(["flotilla", "lint", "--format", "xml"]).is_err());
    assert!(
        Cli::try_parse_from([
            "flotilla",
            "add",
            "cluster",
            "c",
            "--env",
            "e",
            "--base-domain",
            "x.io"
        ])
        .is_err(),
        "--base-domain needs --hive"
    );
}
