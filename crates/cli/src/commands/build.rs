//! `flotilla build DIR`: the native kustomize build.

use anyhow::Result;
use flotilla_render::{LoadRestrictor, Options};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

pub const LONG_ABOUT: &str = "\
Render a kustomization directory and print the result on stdout, byte for byte what \
`kubectl kustomize DIR` (kustomize v5) prints.

When DIR has no kustomization file (kustomization.yaml, kustomization.yml or Kustomization), \
the kustomization Flux's kustomize-controller would generate is used: every .yaml/.yml file \
below DIR that decodes as Kubernetes objects is a resource, and a sub-directory holding its \
own kustomization file is taken whole and not walked into.

Remote bases, Helm charts and plugins (KRM functions, exec, containers) are refused. Errors \
go to stderr with exit code 1 and nothing on stdout.";

#[derive(clap::Args)]
pub struct Args {
    /// The kustomization directory.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// kustomize's load restrictor: `LoadRestrictionsRootOnly` (default) refuses files outside
    /// the kustomization root; `LoadRestrictionsNone` (or `none`) allows them.
    #[arg(long, default_value = "LoadRestrictionsRootOnly", value_parser = parse_restrictor)]
    load_restrictor: LoadRestrictor,
    /// Fail like kustomize when DIR has no kustomization file, instead of generating one.
    #[arg(long)]
    no_generate: bool,
}

fn parse_restrictor(s: &str) -> Result<LoadRestrictor, String> {
    match s {
        "LoadRestrictionsRootOnly" | "rootOnly" | "root-only" | "RootOnly" => {
            Ok(LoadRestrictor::RootOnly)
        }
        "LoadRestrictionsNone" | "none" | "None" => Ok(LoadRestrictor::None),
        other => Err(format!(
            "unknown load restrictor '{other}': use LoadRestrictionsRootOnly or LoadRestrictionsNone"
        )),
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let opts = Options {
        load_restrictor: args.load_restrictor,
        generate_missing: !args.no_generate,
    };
    let rendered = flotilla_render::build(&args.dir, &opts)?;
    let text = rendered.to_yaml();
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A closed pipe (`flotilla build | head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
    }
}
