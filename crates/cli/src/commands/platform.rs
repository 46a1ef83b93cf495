//! `flotilla init`, `flotilla add cluster|tenant|feature` and `flotilla lint`: thin wrappers
//! over `flotilla-platform`.

use anyhow::{Context, Result};
use flotilla_platform::{
    ClusterOptions, FeatureOptions, InfraProvider, InitOptions, Outcome, Platform, TenantOptions,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct InitArgs {
    /// The directory of the new repository (created if missing).
    pub dir: PathBuf,
    /// The cloud: providers/<PROVIDER>/.
    #[arg(long, default_value = "aws")]
    pub provider: String,
    /// The management generation: providers/<PROVIDER>/<VERSION>/.
    #[arg(long, default_value = "v1")]
    pub version: String,
    /// The url the GitRepositories fetch (default: file://<DIR>, the repository itself).
    #[arg(long)]
    pub url: Option<String>,
    /// The tag the `release` GitRepository is pinned to, and the first commit tagged with.
    #[arg(long, default_value = "v0.1.0")]
    pub release_tag: String,
    /// Do not run `git init`, commit or tag.
    #[arg(long)]
    pub no_git: bool,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Subcommand)]
pub enum AddCommand {
    /// A workload cluster: its mgmt namespace, Cluster API (or Hive) objects, Flux
    /// Kustomizations and folders.
    Cluster(ClusterArgs),
    /// A tenant: namespace, quota, limits, network policies, service account, role bindings.
    Tenant(TenantArgs),
    /// A feature: its folders and a Kustomization for each chosen cluster.
    Feature(FeatureArgs),
}

#[derive(clap::Args)]
pub struct RepoArgs {
    /// The platform repository's root.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ProviderArg {
    Aws,
    Virtual,
}

#[derive(clap::Args)]
pub struct ClusterArgs {
    /// The cluster's name (also its namespace on the management cluster).
    pub name: String,
    /// Its environment (`non-prod`, `prod`, ...).
    #[arg(long)]
    pub env: String,
    /// The cloud region.
    #[arg(long, default_value = "eu-west-1")]
    pub region: String,
    /// Where the machines come from.
    #[arg(long, value_enum, default_value = "aws")]
    pub provider: ProviderArg,
    /// Write OpenShift Hive objects (as `hiveutil create-cluster`) instead of Cluster API.
    #[arg(long)]
    pub hive: bool,
    /// Hive: the cluster's base DNS domain.
    #[arg(long, default_value = "example.com", requires = "hive")]
    pub base_domain: String,
    /// Features to enable (comma-separated; default: every feature under features/).
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    #[command(flatten)]
    pub repo: RepoArgs,
}

#[derive(clap::Args)]
pub struct TenantArgs {
    /// The tenant's name (also its namespace).
    pub name: String,
    /// Environments (comma-separated; default: every environment with clusters).
    #[arg(long, value_delimiter = ',')]
    pub envs: Option<Vec<String>>,
    /// The ClusterRole the tenant's developers get in prod environments.
    #[arg(long, default_value = "view")]
    pub prod_role: String,
    /// The ClusterRole the tenant's developers get in other environments.
    #[arg(long, default_value = "admin")]
    pub non_prod_role: String,
    #[command(flatten)]
    pub repo: RepoArgs,
}

#[derive(clap::Args)]
pub struct FeatureArgs {
    /// The feature's name (features/<NAME>/).
    pub name: String,
    /// Only these clusters (comma-separated).
    #[arg(long, value_delimiter = ',', conflicts_with = "envs")]
    pub clusters: Option<Vec<String>>,
    /// Only the clusters of these environments (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub envs: Option<Vec<String>>,
    #[command(flatten)]
    pub repo: RepoArgs,
}

#[derive(clap::Args)]
pub struct LintArgs {
    /// The platform repository's root.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Output format.
    #[arg(long, value_parser = ["text", "json"], default_value = "text")]
    pub format: String,
}

fn report(root: &Path, out: &Outcome) {
    for f in &out.written {
        println!("wrote {}", root.join(f).display());
    }
    for f in &out.kept {
        eprintln!("kept existing {}", root.join(f).display());
    }
    for n in &out.notes {
        eprintln!("note: {n}");
    }
    if let Some(c) = &out.commit {
        println!("committed {c}");
    }
}

/// `flotilla init DIR`.
pub fn init(args: InitArgs) -> Result<ExitCode> {
    let opts = InitOptions {
        provider: args.provider,
        version: args.version,
        url: args.url,
        release_tag: args.release_tag,
        git: !args.no_git,
        force: args.force,
    };
    let out = flotilla_platform::init(&args.dir, &opts)
        .with_context(|| format!("initialising {}", args.dir.display()))?;
    report(&args.dir, &out);
    Ok(ExitCode::SUCCESS)
}

fn open(repo: &Path) -> Result<Platform> {
    Platform::open(repo).with_context(|| format!("opening {}", repo.display()))
}

/// `flotilla add cluster|tenant|feature`.
pub fn add(cmd: AddCommand) -> Result<ExitCode> {
    let (root, out) = match cmd {
        AddCommand::Cluster(a) => {
            let p = open(&a.repo.repo)?;
            let opts = ClusterOptions {
                name: a.name,
                env: a.env,
                region: a.region,
                provider: match a.provider {
                    ProviderArg::Aws => InfraProvider::Aws,
                    ProviderArg::Virtual => InfraProvider::Virtual,
                },
                hive: a.hive,
                base_domain: a.base_domain,
                features: a.features,
                force: a.repo.force,
            };
            let out = flotilla_platform::add_cluster(&p, &opts)
                .with_context(|| format!("adding cluster {}", opts.name))?;
            (p.root, out)
        }
        AddCommand::Tenant(a) => {
            let p = open(&a.repo.repo)?;
            let opts = TenantOptions {
                name: a.name,
                envs: a.envs,
                prod_role: Some(a.prod_role),
                non_prod_role: Some(a.non_prod_role),
                force: a.repo.force,
            };
            let out = flotilla_platform::add_tenant(&p, &opts)
                .with_context(|| format!("adding tenant {}", opts.name))?;
            (p.root, out)
        }
        AddCommand::Feature(a) => {
            let p = open(&a.repo.repo)?;
            let opts = FeatureOptions {
                name: a.name,
                clusters: a.clusters,
                envs: a.envs,
                force: a.repo.force,
            };
            let out = flotilla_platform::add_feature(&p, &opts)
                .with_context(|| format!("adding feature {}", opts.name))?;
            (p.root, out)
        }
    };
    report(&root, &out);
    Ok(ExitCode::SUCCESS)
}

/// `flotilla lint [DIR]`: findings on stdout, a summary on stderr; exit 1 on errors.
pub fn lint(args: LintArgs) -> Result<ExitCode> {
    let report = flotilla_platform::lint(&args.dir)
        .with_context(|| format!("linting {}", args.dir.display()))?;
    if args.format == "json" {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.to_text());
        eprintln!(
            "{} error(s), {} warning(s) ({} Kustomizations, {} objects)",
            report.errors(),
            report.warnings(),
            report.kustomizations,
            report.objects
        );
    }
    Ok(if report.errors() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
