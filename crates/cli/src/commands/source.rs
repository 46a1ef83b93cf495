//! `flotilla source resolve|fetch`: thin wrappers over `flotilla-source`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use flotilla_source::{archive, Credentials, GitRef, SourceSpec, Sources};

#[derive(clap::Subcommand)]
pub enum SourceCommand {
    /// Print the revision a GitRepository with this url and ref would have now.
    Resolve(ResolveArgs),
    /// Fetch the tree (ignore rules applied) into a directory; print revision and digest.
    Fetch(FetchArgs),
}

#[derive(clap::Args)]
#[group(id = "reference", multiple = false)]
pub struct RefArgs {
    /// Follow a branch (the default is `master`, as in Flux).
    #[arg(long, group = "reference")]
    branch: Option<String>,
    /// A tag.
    #[arg(long, group = "reference")]
    tag: Option<String>,
    /// The highest tag matching a semver range (Masterminds syntax, e.g. `>=1.0.0 <2.0.0`).
    #[arg(long, group = "reference")]
    semver: Option<String>,
    /// A commit (40 hex).
    #[arg(long, group = "reference")]
    commit: Option<String>,
    /// A full reference name, e.g. `refs/pull/7/head`.
    #[arg(long, group = "reference")]
    name: Option<String>,
}

impl RefArgs {
    fn git_ref(&self) -> GitRef {
        GitRef {
            branch: self.branch.clone(),
            tag: self.tag.clone(),
            semver: self.semver.clone(),
            name: self.name.clone(),
            commit: self.commit.clone(),
        }
    }
}

#[derive(clap::Args)]
pub struct CommonArgs {
    /// The repository URL (https://, ssh://, file://, or a path). `url.<base>.insteadOf`
    /// rules of your git configuration apply.
    url: String,
    #[command(flatten)]
    reference: RefArgs,
    /// A directory of files named like the Secret's keys (`identity`, `known_hosts`,
    /// `password`, `username`, `bearerToken`, `ca.crt`, ...).
    #[arg(long)]
    secret_dir: Option<PathBuf>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Cache and artifact directory to reuse between runs (default: a temporary one).
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Print the v1beta1 revision form (`main/<sha>`).
    #[arg(long)]
    v1beta1: bool,
}

#[derive(clap::Args)]
pub struct ResolveArgs {
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(clap::Args)]
pub struct FetchArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Where to write the tree (created if missing; must be empty).
    #[arg(long)]
    out: PathBuf,
    /// Extra ignore patterns (.gitignore syntax), as `spec.ignore`.
    #[arg(long)]
    ignore: Option<String>,
    /// Only these directories (repeatable), as `spec.sparseCheckout`.
    #[arg(long = "sparse")]
    sparse: Vec<String>,
    /// Fill in submodules.
    #[arg(long)]
    recurse_submodules: bool,
}

pub fn run(cmd: SourceCommand) -> Result<ExitCode> {
    match cmd {
        SourceCommand::Resolve(a) => resolve(a),
        SourceCommand::Fetch(a) => fetch(a),
    }
}

/// The cache directory and, when it is temporary, a guard removing it.
struct CacheDir {
    path: PathBuf,
    temporary: bool,
}

impl Drop for CacheDir {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

impl CommonArgs {
    fn cache(&self) -> CacheDir {
        match &self.cache {
            Some(p) => CacheDir {
                path: p.clone(),
                temporary: false,
            },
            None => CacheDir {
                path: std::env::temp_dir().join(format!("flotilla-source-{}", std::process::id())),
                temporary: true,
            },
        }
    }

    fn spec(&self) -> Result<SourceSpec> {
        let credentials = match &self.secret_dir {
            Some(d) => Some(std::sync::Arc::new(
                Credentials::from_dir(d).with_context(|| format!("reading {}", d.display()))?,
            )),
            None => None,
        };
        Ok(SourceSpec {
            credentials,
            timeout: Duration::from_secs(self.timeout.max(1)),
            ..SourceSpec::new(&self.url, self.reference.git_ref())
        })
    }

    fn show(&self, revision: &flotilla_source::Revision) -> String {
        if self.v1beta1 {
            revision.to_v1beta1()
        } else {
            revision.to_v1()
        }
    }
}

fn resolve(a: ResolveArgs) -> Result<ExitCode> {
    let cache = a.common.cache();
    let sources = Sources::open(&cache.path, 1)?;
    let resolved = sources.resolve(&a.common.spec()?)?;
    println!("{}", a.common.show(&resolved.revision));
    Ok(ExitCode::SUCCESS)
}

fn fetch(a: FetchArgs) -> Result<ExitCode> {
    ensure_empty(&a.out)?;
    let cache = a.common.cache();
    let sources = Sources::open(&cache.path, 1)?;
    let spec = SourceSpec {
        ignore: a.ignore.clone(),
        sparse_checkout: a.sparse.clone(),
        recurse_submodules: a.recurse_submodules,
        ..a.common.spec()?
    };
    let artifact = sources
        .reconcile(&spec, Duration::ZERO)
        .map_err(|f| anyhow::Error::new(f.error))?;
    let file = std::fs::File::open(&artifact.path)
        .with_context(|| format!("opening {}", artifact.path.display()))?;
    let files = archive::read_tar_gz(file).context("reading the artifact")?;
    archive::extract(&files, &a.out).with_context(|| format!("writing {}", a.out.display()))?;
    let revision = flotilla_source::Revision::parse(&artifact.revision)
        .map(|r| a.common.show(&r))
        .unwrap_or(artifact.revision.clone());
    println!("{revision}");
    println!("{}", artifact.digest);
    Ok(ExitCode::SUCCESS)
}

fn ensure_empty(dir: &Path) -> Result<()> {
    if dir.exists() {
        let mut rd =
            std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
        if rd.next().is_some() {
            anyhow::bail!("{} is not empty", dir.display());
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}
