//! `flotilla init DIR --provider aws [--version v1]`: an empty platform repository in the
//! layout of DESIGN §8, with the management cluster's Flux objects, `flotilla.toml`, a
//! README, and (optionally) `git init` with a first conventional commit and the first tag.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{namespace, slash, FluxKustomization};
use crate::error::{Error, Result};
use crate::names::{check_arg, scalar as s};
use crate::write::{write_all, Outcome, PlannedFile};

/// The title of the first commit.
pub const INITIAL_TITLE: &str = "chore(providers): scaffold the platform repository";

/// Options of `init`.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The cloud (`providers/<provider>/`), e.g. `aws`.
    pub provider: String,
    /// The management generation (`providers/<provider>/<version>/`), e.g. `v1`.
    pub version: String,
    /// The url both GitRepositories fetch; `None`: `file://<DIR>` (the repository itself).
    pub url: Option<String>,
    /// The tag `release` is pinned to (and that the first commit is tagged with).
    pub release_tag: String,
    /// Run `git init`, commit and tag.
    pub git: bool,
    /// Overwrite existing files.
    pub force: bool,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            provider: "aws".into(),
            version: "v1".into(),
            url: None,
            release_tag: "v0.1.0".into(),
            git: true,
            force: false,
        }
    }
}

/// The files of a new repository (relative paths).
pub fn plan(dir: &Path, opts: &InitOptions) -> Result<Vec<PlannedFile>> {
    check_arg("provider", &opts.provider)?;
    check_arg("version", &opts.version)?;
    if opts.release_tag.is_empty() || opts.release_tag.contains(char::is_whitespace) {
        return Err(Error::Invalid(format!(
            "release tag `{}` is not a tag name",
            opts.release_tag
        )));
    }
    let url = match &opts.url {
        Some(u) => u.clone(),
        None => {
            let abs = std::path::absolute(dir).map_err(|e| Error::io(dir, e))?;
            format!("file://{}", abs.display())
        }
    };
    let p = &opts.provider;
    let v = &opts.version;
    let base = PathBuf::from("providers").join(p).join(v);
    let mgmt = base.join("mgmt");
    let fs = mgmt.join("namespaced/flux-system");
    let mut files = vec![
        PlannedFile::new("README.md", readme(p, v, &opts.release_tag)),
        PlannedFile::new("flotilla.toml", config(p, v)),
        PlannedFile::new(
            mgmt.join("non-namespaced/flux-system/namespace.yaml"),
            flux_namespace(),
        ),
        PlannedFile::new(
            fs.join("gitrepository-main.yaml"),
            git_repository(
                "Non-prod and the management cluster follow the tip of `main`.",
                "main",
                &url,
                None,
                ("branch", "main"),
            ),
        ),
        PlannedFile::new(
            fs.join("gitrepository-release.yaml"),
            git_repository(
                "Prod follows a release tag. Promotion is a reviewed change of ref.tag\n(`flotilla promote`).",
                "release",
                &url,
                Some(("flotilla.dev/release", "true")),
                ("tag", &opts.release_tag),
            ),
        ),
    ];
    let mgmt_k = FluxKustomization {
        comment: Some(
            "The management cluster applies this folder to itself (applied by hand once\nat bootstrap, self-managed afterwards).",
        ),
        name: "mgmt",
        namespace: "flux-system",
        path: format!("./{}", slash(&mgmt)),
        source: "main",
        ..Default::default()
    };
    files.push(PlannedFile::new(
        fs.join("kustomization-mgmt.yaml"),
        mgmt_k.render(),
    ));
    for keep in [
        PathBuf::from("features"),
        base.join("clusters"),
        PathBuf::from("tenants").join(p).join("common"),
    ] {
        files.push(PlannedFile::if_missing(keep.join(".gitkeep"), ""));
    }
    Ok(files)
}

/// Creates the repository in `dir` (which may exist; its files are kept unless they clash).
pub fn init(dir: &Path, opts: &InitOptions) -> Result<Outcome> {
    let files = plan(dir, opts)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut out = write_all(dir, &files, opts.force)?;
    if opts.git {
        let body = format!(
            "Layout of DESIGN §8 for providers/{}/{}: GitRepositories main and release,\nthe mgmt Kustomization, flotilla.toml and a README.",
            opts.provider, opts.version
        );
        let commit = crate::git::init_and_commit(dir, INITIAL_TITLE, &body)?;
        let tag_message = format!("{}: initial release", opts.release_tag);
        crate::git::run(
            dir,
            &[
                "tag",
                "--annotate",
                "--message",
                &tag_message,
                &opts.release_tag,
            ],
        )
        .or_else(|_| {
            // An annotated tag needs an identity; fall back like the commit does.
            crate::git::run(
                dir,
                &[
                    "-c",
                    "user.name=Flotilla",
                    "-c",
                    "user.email=flotilla@localhost",
                    "tag",
                    "--annotate",
                    "--message",
                    &tag_message,
                    &opts.release_tag,
                ],
            )
        })?;
        out.commit = Some(commit);
    } else {
        out.notes.push("git: skipped (--no-git)".into());
    }
    Ok(out)
}

fn flux_namespace() -> String {
    let mut o = String::from(
        "# Created by the Flux installation; listed here so that the namespace the\n\
         # GitRepositories and mgmt Kustomizations live in is declared in this repo.\n\
         # Never pruned: deleting it would remove Flux itself.\n",
    );
    o.push_str(&namespace(
        None,
        "flux-system",
        &[
            ("app.kubernetes.io/instance", "flux-system"),
            ("app.kubernetes.io/part-of", "flux"),
        ],
    ));
    o.push_str("  annotations:\n    kustomize.toolkit.fluxcd.io/prune: disabled\n");
    o
}

fn git_repository(
    comment: &str,
    name: &str,
    url: &str,
    label: Option<(&str, &str)>,
    reference: (&str, &str),
) -> String {
    let mut o = String::new();
    for line in comment.lines() {
        let _ = writeln!(o, "# {line}");
    }
    o.push_str("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n");
    let _ = writeln!(o, "  name: {}", s(name));
    o.push_str("  namespace: flux-system\n");
    if let Some((k, v)) = label {
        let _ = writeln!(o, "  labels:\n    {k}: {}", s(v));
    }
    let interval = if reference.0 == "tag" { "5m" } else { "1m" };
    let _ = writeln!(o, "spec:\n  interval: {interval}\n  timeout: 60s");
    let _ = writeln!(o, "  url: {}", s(url));
    let _ = writeln!(o, "  ref:\n    {}: {}", reference.0, s(reference.1));
    o.push_str(
        "  ignore: |\n    # only the manifest trees are part of the artifact\n    /*\n    !/features/\n    !/providers/\n    !/tenants/\n",
    );
    o
}

fn config(provider: &str, version: &str) -> String {
    format!(
        r#"# Flotilla configuration of this platform repository.

# The layout: providers/{provider}/{version}/ (read by `flotilla add` and `flotilla lint`).
[platform]
provider = "{provider}"
version = "{version}"
# The GitRepository (namespace flux-system) an environment's Kustomizations follow:
# the [platform.sources] entry, else `release` for a prod environment, else default-source.
default-source = "main"
prod-envs = ["prod"]

[platform.sources]
prod = "release"

# Conventional titles `type(scope): subject (#N)` (`flotilla release lint`).
[release]
types = ["feat", "fix", "chore", "docs", "refactor", "revert"]
scopes = ["features", "providers", "tenants", "clusters"]
require-scope = false
tag-prefix = "v"
changelog = "CHANGELOG.md"

# `flotilla promote VERSION` moves the tag of these GitRepositories.
[[promote.targets]]
env = "prod"
names = ["release"]
labels = {{ "flotilla.dev/release" = "true" }}

# `flotilla diff`: the environment of each source, and the name of the management cluster.
[diff]
default-env = "non-prod"
mgmt-cluster = "mgmt"

[diff.envs]
main = "non-prod"
release = "prod"
"#
    )
}

fn readme(p: &str, v: &str, tag: &str) -> String {
    format!(
        r#"# platform

The configuration of the `{p}` fleet: a management cluster (`{p}`, version `{v}`) running Flux
and Cluster API, and the workload clusters it provisions and configures. Written by
`flotilla init`; grow it with `flotilla add cluster|tenant|feature` and check it with
`flotilla lint`.

## Layout

```
features/<feature>/{{namespaced,non-namespaced}}/                 promoted non-prod -> prod
providers/{p}/{v}/mgmt/{{namespaced,non-namespaced}}/<ns or cluster>/  the management cluster
providers/{p}/{v}/clusters/<env>/{{common,<cluster>}}/{{namespaced,non-namespaced}}/<ns>/
tenants/{p}/{{common,<env>}}/<tenant>/                           tenant namespaces
```

Cluster-scoped objects live under `non-namespaced/`, namespaced ones under `namespaced/`.

## Sources

| GitRepository (flux-system) | ref | followed by |
| --- | --- | --- |
| `main` | branch `main` | `mgmt` and every non-prod cluster |
| `release` (label `flotilla.dev/release: "true"`) | tag `{tag}` | every prod cluster |

Which environment follows which source is set in `flotilla.toml` (`[platform]`).

## Bootstrap

Install Flux and the Cluster API controllers on the management cluster, then apply
`providers/{p}/{v}/mgmt/non-namespaced/flux-system/` and
`providers/{p}/{v}/mgmt/namespaced/flux-system/` by hand once. From then on `mgmt` manages
itself and everything else.

## Changes, releases and promotion

Every change is a small pull request, squash-merged with a conventional title
(`type(scope): subject (#N)`). Non-prod gets it once it is on `main`. A release is a tag
(`flotilla release create`); promotion is a reviewed change of the `release` GitRepository's
`spec.ref.tag` (`flotilla promote`).
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_is_stable_and_parses() {
        let opts = InitOptions {
            url: Some("file:///srv/git/platform.git".into()),
            ..Default::default()
        };
        let files = plan(Path::new("/tmp/x"), &opts).unwrap();
        assert_eq!(files, plan(Path::new("/tmp/y"), &opts).unwrap());
        let release = files
            .iter()
            .find(|f| f.path.ends_with("gitrepository-release.yaml"))
            .unwrap();
        let v = flotilla_yaml::parse_one(&release.content).unwrap();
        assert_eq!(v["metadata"]["labels"]["flotilla.dev/release"], "true");
        assert_eq!(v["spec"]["ref"]["tag"], "v0.1.0");
        let bad = InitOptions {
            provider: "AWS".into(),
            ..Default::default()
        };
        assert!(plan(Path::new("/tmp/x"), &bad).is_err());
    }
}
