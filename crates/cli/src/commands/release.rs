//! `flotilla release lint|notes|create`, `flotilla promote` and `flotilla diff`: thin
//! wrappers over `flotilla-release`.

use anyhow::{Context, Result};
use flotilla_release::{config::Config, Repo};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct RepoArg {
    /// The repository (any directory inside it).
    #[arg(long, default_value = ".")]
    repo: PathBuf,
}

impl RepoArg {
    fn open(&self) -> Result<(Repo, Config)> {
        let repo = Repo::open(&self.repo)
            .with_context(|| format!("opening repository {}", self.repo.display()))?;
        let cfg = Config::load(&repo.root())?;
        Ok((repo, cfg))
    }
}

#[derive(clap::Subcommand)]
pub enum ReleaseCommand {
    /// Check conventional titles `type(scope)!: subject (#N)` against flotilla.toml.
    Lint(LintArgs),
    /// Release notes for a range (default: last tag..HEAD), grouped by kind.
    Notes(NotesArgs),
    /// Tag the next version (from the titles, or as given) and update CHANGELOG.md.
    Create(CreateArgs),
}

#[derive(clap::Args)]
pub struct LintArgs {
    #[command(flatten)]
    repo: RepoArg,
    /// Commits to check, `A..B` (default: last tag..HEAD).
    #[arg(long, conflicts_with_all = ["title", "message_file"])]
    range: Option<String>,
    /// Check one title instead of commits.
    #[arg(long, conflicts_with = "message_file")]
    title: Option<String>,
    /// Check a commit message file (what the commit-msg hook passes).
    #[arg(long)]
    message_file: Option<PathBuf>,
    /// Install a commit-msg hook that runs this check on every commit.
    #[arg(long)]
    install_hook: bool,
    /// Replace an existing commit-msg hook that flotilla did not write.
    #[arg(long, requires = "install_hook")]
    force: bool,
}

#[derive(clap::Args)]
pub struct NotesArgs {
    #[command(flatten)]
    repo: RepoArg,
    /// `FROM..TO`; default: last tag..HEAD.
    range: Option<String>,
    /// Output format.
    #[arg(long, value_parser = ["markdown", "json"], default_value = "markdown")]
    format: String,
}

#[derive(clap::Args)]
pub struct CreateArgs {
    #[command(flatten)]
    repo: RepoArg,
    /// The version (`1.2.3` or `v1.2.3`), or `major`/`minor`/`patch`.
    #[arg(conflicts_with = "bump")]
    version: Option<String>,
    /// Compute the version from the titles (`auto`), or force a level.
    #[arg(long, value_parser = ["auto", "major", "minor", "patch"])]
    bump: Option<String>,
    /// Show what would be tagged and written, change nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(clap::Args)]
pub struct PromoteArgs {
    #[command(flatten)]
    repo: RepoArg,
    /// The release tag or version to promote (e.g. v0.1.2).
    version: String,
    /// The environment whose release pin moves.
    #[arg(long, default_value = "prod")]
    env: String,
    /// Only pins of this provider (path component or `flotilla.dev/provider` label).
    #[arg(long)]
    provider: Option<String>,
    /// Allow moving the pin to an older version.
    #[arg(long)]
    allow_downgrade: bool,
    /// Push the promotion branch to `origin`.
    #[arg(long)]
    push: bool,
}

#[derive(clap::Args)]
pub struct DiffArgs {
    #[command(flatten)]
    repo: RepoArg,
    /// The revision clusters run now.
    #[arg(long)]
    from: String,
    /// The revision to compare with.
    #[arg(long)]
    to: String,
    /// Only clusters of this environment.
    #[arg(long, conflicts_with = "cluster")]
    env: Option<String>,
    /// Only this cluster.
    #[arg(long)]
    cluster: Option<String>,
    /// Render Kustomizations whose source pins a release from the pinned tag: what the
    /// clusters really run (the question a promotion asks).
    #[arg(long)]
    follow_pins: bool,
    /// Print added and removed objects whole.
    #[arg(long)]
    objects: bool,
    /// Colour: auto (when stdout is a terminal), always, never.
    #[arg(long, value_parser = ["auto", "always", "never"], default_value = "auto")]
    color: String,
    /// Output format.
    #[arg(long, value_parser = ["text", "json"], default_value = "text")]
    format: String,
}

pub fn release(cmd: ReleaseCommand) -> Result<ExitCode> {
    match cmd {
        ReleaseCommand::Lint(a) => lint(a),
        ReleaseCommand::Notes(a) => notes(a),
        ReleaseCommand::Create(a) => create(a),
    }
}

fn lint(a: LintArgs) -> Result<ExitCode> {
    if let Some(file) = &a.message_file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let cfg = match Repo::open(&a.repo.repo) {
            Ok(r) => Config::load(&r.root())?,
            Err(_) => Config::default(),
        };
        return report(flotilla_release::lint::lint_message_file(
            &text,
            &cfg.release,
        ));
    }
    let (repo, cfg) = a.repo.open()?;
    if a.install_hook {
        let path = flotilla_release::lint::install_hook(&repo, "flotilla", a.force)?;
        println!("installed commit-msg hook at {}", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let findings = match &a.title {
        Some(t) => flotilla_release::lint::lint_title(t, &cfg.release, cfg.release.require_pr),
        None => flotilla_release::lint::lint_range(&repo, a.range.as_deref(), &cfg.release)?,
    };
    report(findings)
}

fn report(findings: Vec<flotilla_release::lint::Finding>) -> Result<ExitCode> {
    for f in &findings {
        eprintln!("{f}");
    }
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn notes(a: NotesArgs) -> Result<ExitCode> {
    let (repo, cfg) = a.repo.open()?;
    let notes = flotilla_release::notes::collect(&repo, a.range.as_deref(), &cfg.release)?;
    if a.format == "json" {
        println!("{}", notes.to_json());
    } else {
        print!("{}", notes.to_markdown());
    }
    Ok(ExitCode::SUCCESS)
}

fn create(a: CreateArgs) -> Result<ExitCode> {
    let (repo, cfg) = a.repo.open()?;
    let spec = flotilla_release::version::VersionSpec::parse(
        a.version.as_deref().or(a.bump.as_deref()).unwrap_or("auto"),
    );
    if a.dry_run {
        let plan = flotilla_release::create::plan(&repo, &spec, &cfg.release)?;
        println!("would tag {} ({})", plan.tag, plan.version);
        print!("{}", plan.notes.to_markdown());
        return Ok(ExitCode::SUCCESS);
    }
    let created = flotilla_release::create::create(&repo, &spec, &cfg.release)?;
    println!(
        "tagged {} at {} (CHANGELOG.md updated)",
        created.tag,
        flotilla_release::repo::short(&created.commit)
    );
    Ok(ExitCode::SUCCESS)
}

pub fn promote(a: PromoteArgs) -> Result<ExitCode> {
    let (repo, cfg) = a.repo.open()?;
    let mut args = flotilla_release::promote::PromoteArgs::new(&a.version, &a.env);
    args.provider = a.provider;
    args.allow_downgrade = a.allow_downgrade;
    args.push = a.push;
    let p = flotilla_release::promote::promote(&repo, &args, &cfg)?;
    for e in &p.edits {
        println!(
            "{}:{}: {} {}: {} -> {}",
            e.file, e.line, e.object, e.field, e.from, e.to
        );
    }
    println!(
        "committed {} on branch {}{}",
        flotilla_release::repo::short(&p.commit),
        p.branch,
        if p.pushed { " (pushed)" } else { "" }
    );
    Ok(ExitCode::SUCCESS)
}

/// `flotilla diff`: exit 0 for no change, 1 for changes, 2 for an error.
pub fn diff(a: DiffArgs) -> ExitCode {
    match diff_inner(a) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn diff_inner(a: DiffArgs) -> Result<ExitCode> {
    let (repo, cfg) = a.repo.open()?;
    let filter = flotilla_release::diff::Filter {
        env: a.env,
        cluster: a.cluster,
        follow_pins: a.follow_pins,
    };
    let d = flotilla_release::diff::diff(&repo, &a.from, &a.to, &filter, &cfg)?;
    if a.format == "json" {
        println!("{}", serde_json::to_string_pretty(&d)?);
    } else {
        let color = match a.color.as_str() {
            "always" => true,
            "never" => false,
            _ => std::io::stdout().is_terminal(),
        };
        print!(
            "{}",
            d.render(flotilla_release::diff::Style {
                color,
                objects: a.objects
            })
        );
    }
    Ok(if d.has_changes() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
