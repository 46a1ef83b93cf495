//! `release create`: the next version, a CHANGELOG commit on HEAD, and an annotated tag on
//! that commit whose message is the release notes.

use std::collections::BTreeMap;

use gix::ObjectId;
use semver::Version;

use crate::config::ReleaseConfig;
use crate::error::{Error, Result};
use crate::history::{self, Range};
use crate::notes::{self, Notes};
use crate::repo::{date, Repo};
use crate::version::{next_version, VersionSpec};

/// What `create` made.
#[derive(Debug, Clone)]
pub struct Created {
    pub version: Version,
    pub tag: String,
    /// The previous release's tag, if there was one.
    pub previous: Option<String>,
    /// The CHANGELOG commit, which the tag points to.
    pub commit: ObjectId,
    pub notes: Notes,
}

/// The release `create` would make, without writing anything.
#[derive(Debug, Clone)]
pub struct Plan {
    pub version: Version,
    pub tag: String,
    pub previous: Option<String>,
    pub head: ObjectId,
    pub notes: Notes,
    /// The whole new CHANGELOG text.
    pub changelog: String,
}

/// Works out the release: refuses an empty range, an existing tag, and a version that is
/// not semver or not greater than the last release.
pub fn plan(repo: &Repo, spec: &VersionSpec, cfg: &ReleaseConfig) -> Result<Plan> {
    let head = repo.resolve("HEAD")?;
    let last = repo.last_tag(head, &cfg.tag_prefix)?;
    let range = Range {
        from: last.as_ref().map(|t| t.commit),
        from_name: last.as_ref().map(|t| t.name.clone()),
        to: head,
        to_name: "HEAD".into(),
    };
    let changes = history::changes(repo, &range)?;
    if changes.is_empty() {
        return Err(Error::EmptyRange(range.display()));
    }
    let day = date(repo.commit(head)?.time);
    let draft = notes::from_changes(&changes, cfg, "Unreleased", &day, &range.display());
    let version = next_version(spec, last.as_ref().map(|t| &t.version), &draft, cfg)?;
    let tag = cfg.tag_name(&version);
    if repo.has_ref(&format!("refs/tags/{tag}"))? {
        return Err(Error::TagExists(tag));
    }
    let notes = Notes {
        title: tag.clone(),
        ..draft
    };
    let old = repo
        .file_at(head, &cfg.changelog)?
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    let changelog = insert_section(old.as_deref(), &notes.to_markdown());
    Ok(Plan {
        version,
        tag,
        previous: last.map(|t| t.name),
        head,
        notes,
        changelog,
    })
}

/// Makes the release: refuses a dirty tree, then [`plan`]s, commits the CHANGELOG on
/// HEAD as `chore(release): <tag>`, tags that commit, and updates the checkout.
pub fn create(repo: &Repo, spec: &VersionSpec, cfg: &ReleaseConfig) -> Result<Created> {
    if repo.is_dirty()? {
        return Err(Error::DirtyTree);
    }
    let plan = plan(repo, spec, cfg)?;
    let files = BTreeMap::from([(cfg.changelog.clone(), plan.changelog.clone().into_bytes())]);
    let message = format!("chore(release): {}\n", plan.tag);
    let commit = repo.commit_files("HEAD", plan.head, &files, &message)?;
    repo.create_tag(&plan.tag, commit, &plan.notes.to_markdown())?;
    repo.sync_worktree(&files)?;
    Ok(Created {
        version: plan.version,
        tag: plan.tag,
        previous: plan.previous,
        commit,
        notes: plan.notes,
    })
}

/// Puts a release's section above the previous ones, below the file's `# ` heading and
/// any text before the first `## ` section.
pub fn insert_section(old: Option<&str>, section: &str) -> String {
    let Some(old) = old.filter(|o| !o.trim().is_empty()) else {
        return format!("# Changelog\n\n{section}");
    };
    let mut at = None;
    let mut offset = 0;
    for line in old.split_inclusive('\n') {
        if line.starts_with("## ") {
            at = Some(offset);
            break;
        }
        offset += line.len();
    }
    match at {
        Some(i) => format!("{}{section}\n{}", &old[..i], &old[i..]),
        None => {
            let head = old.trim_end_matches('\n');
            format!("{head}\n\n{section}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_changelog() {
        assert_eq!(insert_section(None, "## v1\n"), "# Changelog\n\n## v1\n");
        assert_eq!(
            insert_section(Some("\n"), "## v1\n"),
            "# Changelog\n\n## v1\n"
        );
    }

    #[test]
    fn above_previous_release() {
        let old = "# Changelog\n\nAll notable changes.\n\n## v1 (x)\n\n- a\n";
        assert_eq!(
            insert_section(Some(old), "## v2 (y)\n\n- b\n"),
            "# Changelog\n\nAll notable changes.\n\n## v2 (y)\n\n- b\n\n## v1 (x)\n\n- a\n"
        );
    }

    #[test]
    fn heading_only() {
        assert_eq!(
            insert_section(Some("# Changes\n"), "## v1\n"),
            "# Changes\n\n## v1\n"
        );
    }
}
