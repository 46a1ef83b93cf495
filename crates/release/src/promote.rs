//! `promote`: move an environment's release GitRepository objects to a new tag.
//!
//! The GitRepository objects (`source.toolkit.fluxcd.io`, any version) in HEAD's tree that
//! an environment's `[[promote.targets]]` selects (by name, labels or ref kind; by default
//! the one named `release` for `prod`) get their effective pin — `spec.ref.semver` if set,
//! else `spec.ref.tag` — replaced in place ([`crate::yamledit`]): no other byte of those
//! files changes. The result is committed on a new branch `promote/<tag>-<env>` (HEAD and
//! the working tree are left alone), titled `chore(release): promote <tag> to [<provider>
//! ]<env>`, with the promoted range's notes in the body.

use std::collections::BTreeMap;

use gix::ObjectId;
use semver::Version;

use crate::config::{Config, PromoteTarget};
use crate::error::{Error, Result};
use crate::history::Range;
use crate::notes::{self, Notes};
use crate::repo::Repo;
use crate::version::parse_version;
use crate::yamledit::{self, Node, Scalar};

/// What to promote where.
#[derive(Debug, Clone)]
pub struct PromoteArgs {
    /// A version (`0.1.2`, `v0.1.2`) or tag name.
    pub version: String,
    pub env: String,
    /// Only GitRepository objects under a `<provider>` directory or labelled
    /// `flotilla.dev/provider: <provider>`.
    pub provider: Option<String>,
    pub allow_downgrade: bool,
    /// Push the branch to `promote.remote` after committing.
    pub push: bool,
}

impl PromoteArgs {
    pub fn new(version: &str, env: &str) -> PromoteArgs {
        PromoteArgs {
            version: version.to_string(),
            env: env.to_string(),
            provider: None,
            allow_downgrade: false,
            push: false,
        }
    }
}

/// A GitRepository pin found in a file.
#[derive(Debug, Clone)]
pub struct Pin {
    pub file: String,
    /// `namespace/name` (or `name`).
    pub object: String,
    /// `spec.ref.tag` or `spec.ref.semver`.
    pub field: String,
    pub line: usize,
    pub value: String,
    scalar: Scalar,
}

/// One edited pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinEdit {
    pub file: String,
    pub object: String,
    pub field: String,
    pub line: usize,
    pub from: String,
    pub to: String,
}

/// What `promote` did.
#[derive(Debug, Clone)]
pub struct Promotion {
    pub tag: String,
    pub version: Version,
    pub branch: String,
    pub commit: ObjectId,
    /// The whole commit message.
    pub message: String,
    pub edits: Vec<PinEdit>,
    pub notes: Notes,
    pub pushed: bool,
}

/// Finds the pins of `env` (optionally one provider's) in the tree of `commit`.
pub fn find_pins(
    repo: &Repo,
    commit: ObjectId,
    env: &str,
    provider: Option<&str>,
    cfg: &Config,
) -> Result<Vec<Pin>> {
    let targets: Vec<&PromoteTarget> = cfg
        .promote
        .targets
        .iter()
        .filter(|t| t.env == env)
        .collect();
    let mut pins = Vec::new();
    for (path, text) in repo.yaml_files_containing(commit, "GitRepository")? {
        let docs = yamledit::parse(&text).map_err(|e| Error::Yaml {
            file: path.clone(),
            line: e.line,
            message: e.message,
        })?;
        for doc in &docs {
            let api = doc.get("apiVersion").and_then(Node::str).unwrap_or("");
            if !api.starts_with("source.toolkit.fluxcd.io/")
                || doc.get("kind").and_then(Node::str) != Some("GitRepository")
            {
                continue;
            }
            let name = doc
                .path(&["metadata", "name"])
                .and_then(Node::str)
                .unwrap_or("");
            let ns = doc.path(&["metadata", "namespace"]).and_then(Node::str);
            let object = match ns {
                Some(ns) => format!("{ns}/{name}"),
                None => name.to_string(),
            };
            let labels = doc
                .path(&["metadata", "labels"])
                .map(Node::string_pairs)
                .unwrap_or_default();
            let git_ref = doc.path(&["spec", "ref"]);
            let semver = git_ref.and_then(|r| r.get("semver")).and_then(Node::scalar);
            let tag = git_ref.and_then(|r| r.get("tag")).and_then(Node::scalar);
            let selected = targets.iter().any(|t| {
                t.names.iter().any(|n| *n == name || *n == object)
                    || (!t.labels.is_empty()
                        && t.labels
                            .iter()
                            .all(|(k, v)| labels.contains(&(k.as_str(), v.as_str()))))
                    || match t.ref_kind.as_deref() {
                        Some("tag") => tag.is_some() && semver.is_none(),
                        Some("semver") => semver.is_some(),
                        Some("any") => tag.is_some() || semver.is_some(),
                        _ => false,
                    }
            });
            if !selected {
                continue;
            }
            if let Some(p) = provider {
                let in_dir = path.split('/').any(|c| c == p);
                let labelled = labels.contains(&("flotilla.dev/provider", p));
                if !in_dir && !labelled {
                    continue;
                }
            }
            for field in ["commit", "name"] {
                if git_ref.and_then(|r| r.get(field)).is_some() {
                    return Err(Error::Yaml {
                        file: path.clone(),
                        line: git_ref.and_then(|r| r.get(field)).and_then(Node::scalar).map_or(0, |s| s.line),
                        message: format!("GitRepository {object} pins spec.ref.{field}, which promote does not edit"),
                    });
                }
            }
            let (field, scalar) = match (semver, tag) {
                (Some(s), _) => ("spec.ref.semver", s),
                (None, Some(t)) => ("spec.ref.tag", t),
                (None, None) => {
                    return Err(Error::Yaml {
                        file: path.clone(),
                        line: 0,
                        message: format!(
                            "GitRepository {object} has no spec.ref.tag or spec.ref.semver"
                        ),
                    });
                }
            };
            pins.push(Pin {
                file: path.clone(),
                object,
                field: field.to_string(),
                line: scalar.line,
                value: scalar.value.clone(),
                scalar: scalar.clone(),
            });
        }
    }
    Ok(pins)
}

/// Promotes: refuses an unknown tag, a downgrade (unless allowed), an existing branch, and
/// a promotion that changes nothing.
pub fn promote(repo: &Repo, args: &PromoteArgs, cfg: &Config) -> Result<Promotion> {
    let rc = &cfg.release;
    let (tag, version) = resolve_tag(repo, &args.version, &rc.tag_prefix)?;
    let tag_commit = repo.resolve(&format!("refs/tags/{tag}"))?;
    let base = repo.resolve("HEAD")?;
    let pins = find_pins(repo, base, &args.env, args.provider.as_deref(), cfg)?;
    if pins.is_empty() {
        return Err(no_target(args, cfg));
    }

    let mut edits = Vec::new();
    let mut by_file: BTreeMap<String, Vec<(Scalar, String)>> = BTreeMap::new();
    let mut oldest: Option<Version> = None;
    for pin in &pins {
        let new_value = if pin.field.ends_with("semver") {
            version.to_string()
        } else {
            tag.clone()
        };
        if pin.value == new_value {
            continue;
        }
        let current = parse_version(&pin.value, &rc.tag_prefix).ok();
        if let Some(cur) = &current {
            if *cur > version && !args.allow_downgrade {
                return Err(Error::Downgrade {
                    file: pin.file.clone(),
                    field: pin.field.clone(),
                    current: pin.value.clone(),
                    new: tag.clone(),
                });
            }
            if oldest.as_ref().is_none_or(|o| cur < o) {
                oldest = Some(cur.clone());
            }
        }
        let text = yamledit::render_like(&pin.scalar, &new_value).map_err(|e| Error::Yaml {
            file: pin.file.clone(),
            line: pin.line,
            message: e.0,
        })?;
        by_file
            .entry(pin.file.clone())
            .or_default()
            .push((pin.scalar.clone(), text));
        edits.push(PinEdit {
            file: pin.file.clone(),
            object: pin.object.clone(),
            field: pin.field.clone(),
            line: pin.line,
            from: pin.value.clone(),
            to: new_value,
        });
    }
    if edits.is_empty() {
        return Err(Error::AlreadyPromoted {
            env: args.env.clone(),
            version: tag,
        });
    }

    let branch = format!("{}{}-{}", cfg.promote.branch_prefix, tag, args.env);
    if repo.has_ref(&format!("refs/heads/{branch}"))? {
        return Err(Error::BranchExists(branch));
    }

    let notes = promotion_notes(repo, &tag, tag_commit, &version, oldest.as_ref(), cfg)?;
    // The provider named in the title: as given, or the one every edited pin lives under
    // (`providers/<provider>/...`).
    let inferred = {
        let mut ps: Vec<Option<&str>> = edits
            .iter()
            .map(|e| {
                let mut parts = e.file.split('/');
                parts.position(|c| c == "providers")?;
                parts.next()
            })
            .collect();
        ps.sort_unstable();
        ps.dedup();
        match ps.as_slice() {
            [Some(p)] => Some(p.to_string()),
            _ => None,
        }
    };
    let target = match args.provider.clone().or(inferred) {
        Some(p) => format!("{p} {}", args.env),
        None => args.env.clone(),
    };
    let from_list: Vec<&str> = {
        let mut v: Vec<&str> = edits.iter().map(|e| e.from.as_str()).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let message = format!(
        "chore(release): promote {tag} to {target}\n\nPromotes {target} from {} to {tag}.\n\n{}",
        from_list.join(", "),
        notes.to_markdown()
    );

    let mut files = BTreeMap::new();
    for (file, mut file_edits) in by_file {
        let bytes = repo.file_at(base, &file)?.unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        files.insert(file, yamledit::splice(&text, &mut file_edits).into_bytes());
    }
    let commit = repo.commit_files(&format!("refs/heads/{branch}"), base, &files, &message)?;
    let pushed = if args.push {
        crate::gitcli::push_branch(&repo.root(), &cfg.promote.remote, &branch)?;
        true
    } else {
        false
    };
    Ok(Promotion {
        tag,
        version,
        branch,
        commit,
        message,
        edits,
        notes,
        pushed,
    })
}

/// The tag a version argument names, and its version.
fn resolve_tag(repo: &Repo, arg: &str, prefix: &str) -> Result<(String, Version)> {
    if repo.has_ref(&format!("refs/tags/{arg}"))? {
        let version = parse_version(arg, prefix)?;
        return Ok((arg.to_string(), version));
    }
    let version = parse_version(arg, prefix)?;
    let tag = format!("{prefix}{version}");
    if !repo.has_ref(&format!("refs/tags/{tag}"))? {
        return Err(Error::UnknownTag(tag));
    }
    Ok((tag, version))
}

/// Notes from the oldest pinned version to the new one (or the reverse for a downgrade);
/// when the pinned version has no tag here, the new tag's own release notes.
fn promotion_notes(
    repo: &Repo,
    tag: &str,
    tag_commit: ObjectId,
    version: &Version,
    oldest: Option<&Version>,
    cfg: &Config,
) -> Result<Notes> {
    let rc = &cfg.release;
    let tags = repo.version_tags(&rc.tag_prefix)?;
    let old_tag = oldest.and_then(|o| tags.iter().find(|t| t.version == *o));
    let range = match old_tag {
        Some(old) if old.version > *version => Range {
            from: Some(tag_commit),
            from_name: Some(tag.to_string()),
            to: old.commit,
            to_name: old.name.clone(),
        },
        Some(old) => Range {
            from: Some(old.commit),
            from_name: Some(old.name.clone()),
            to: tag_commit,
            to_name: tag.to_string(),
        },
        None => {
            let reachable = repo.reachable(&[tag_commit])?;
            let prev = tags
                .iter()
                .find(|t| t.version < *version && reachable.contains(&t.commit));
            Range {
                from: prev.map(|p| p.commit),
                from_name: prev.map(|p| p.name.clone()),
                to: tag_commit,
                to_name: tag.to_string(),
            }
        }
    };
    let title = if range.to == tag_commit {
        tag.to_string()
    } else {
        format!("Rolled back from {}", range.to_name)
    };
    notes::collect_range(repo, &range, rc, &title)
}

fn no_target(args: &PromoteArgs, cfg: &Config) -> Error {
    let selector: Vec<String> = cfg
        .promote
        .targets
        .iter()
        .filter(|t| t.env == args.env)
        .map(|t| {
            let mut parts = Vec::new();
            if !t.names.is_empty() {
                parts.push(format!("names {}", t.names.join(",")));
            }
            for (k, v) in &t.labels {
                parts.push(format!("label {k}={v}"));
            }
            if let Some(r) = &t.ref_kind {
                parts.push(format!("ref {r}"));
            }
            parts.join(" or ")
        })
        .collect();
    Error::NoPromotionTarget {
        env: args.env.clone(),
        provider: args
            .provider
            .as_ref()
            .map(|p| format!(" of provider {p}"))
            .unwrap_or_default(),
        selector: if selector.is_empty() {
            format!("no [[promote.targets]] entry for env {}", args.env)
        } else {
            selector.join("; ")
        },
    }
}
