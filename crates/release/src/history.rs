//! Ranges of history and the changes in them.
//!
//! A range `FROM..TO` holds the commits reachable from TO and not from FROM. Changes are
//! read along TO's first-parent chain, newest first, which is what a trunk with squash
//! merges looks like. Merge commits are handled as hosts make them:
//! * `Merge pull request #N from …` whose body starts with a title is one change: that
//!   title, with PR N; the branch commits it brought in are not listed separately.
//! * any other merge stands for the commits it brought in, which are listed in its place.
//!
//! A change made by `git revert` records the commit it reverts (`This reverts commit …`).

use std::collections::HashSet;

use gix::ObjectId;

use crate::error::{Error, Result};
use crate::repo::{short, CommitInfo, Repo, VersionTag};
use crate::title::{parse_message, Title, TitleError};

/// A resolved range.
#[derive(Debug, Clone)]
pub struct Range {
    /// The excluded end, `None` for "from the root".
    pub from: Option<ObjectId>,
    /// How the excluded end was named (a tag, a revision), for display.
    pub from_name: Option<String>,
    pub to: ObjectId,
    pub to_name: String,
}

impl Range {
    /// `FROM..TO` as given or resolved, for messages.
    pub fn display(&self) -> String {
        match &self.from_name {
            Some(f) => format!("{f}..{}", self.to_name),
            None => format!("..{}", self.to_name),
        }
    }
}

/// Resolves `FROM..TO`. TO defaults to HEAD; an empty FROM means the last release before
/// TO (the highest version tag on a commit reachable from TO, TO's own tags excluded), or
/// the root when there is none. `None` means `<last tag>..HEAD`, where a tag on HEAD
/// itself counts (so the range is empty right after a release).
pub fn resolve_range(repo: &Repo, spec: Option<&str>, tag_prefix: &str) -> Result<Range> {
    let (from, to) = match spec {
        None => (None, None),
        Some(s) => {
            let (a, b) = s
                .split_once("..")
                .ok_or_else(|| Error::BadRange(s.to_string()))?;
            if b.starts_with('.') {
                return Err(Error::BadRange(s.to_string()));
            }
            let a = (!a.is_empty()).then_some(a);
            let b = (!b.is_empty()).then_some(b);
            (a, b)
        }
    };
    let to_name = to.unwrap_or("HEAD").to_string();
    let to_id = repo.resolve(&to_name)?;
    let (from_id, from_name) = match from {
        Some(f) => (Some(repo.resolve(f)?), Some(f.to_string())),
        None => {
            // `..TO` starts at the release before TO; no range at all at the last
            // release, which is HEAD itself right after a release.
            let tags = repo.version_tags(tag_prefix)?;
            let reachable = repo.reachable(&[to_id])?;
            let explicit_to = spec.is_some();
            let last = tags
                .into_iter()
                .find(|t| reachable.contains(&t.commit) && !(explicit_to && t.commit == to_id));
            match last {
                Some(VersionTag { name, commit, .. }) => (Some(commit), Some(name)),
                None => (None, None),
            }
        }
    };
    Ok(Range {
        from: from_id,
        from_name,
        to: to_id,
        to_name,
    })
}

/// How a change entered the trunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A commit on the first-parent chain (a squash merge or a direct commit).
    Commit,
    /// A `Merge pull request #N` merge commit, read through the title in its body.
    PullRequestMerge,
    /// A commit brought in by another kind of merge.
    Merged,
}

/// One change in a range.
#[derive(Debug, Clone)]
pub struct Change {
    pub commit: ObjectId,
    /// The title that describes the change (for PR merges, the first line of the body).
    pub title_line: String,
    /// The message the title came from (body included).
    pub message: String,
    pub origin: Origin,
    /// The parsed title, or why it is not conventional.
    pub parsed: Result<Title, TitleError>,
    /// The commit named by `This reverts commit <sha>.`.
    pub reverts: Option<ObjectId>,
    /// Committer time (seconds, offset).
    pub time: (i64, i32),
}

impl Change {
    pub fn short(&self) -> String {
        short(&self.commit)
    }
}

/// The changes in a range, newest first.
pub fn changes(repo: &Repo, range: &Range) -> Result<Vec<Change>> {
    let hidden: HashSet<ObjectId> = match range.from {
        Some(f) => repo.reachable(&[f])?,
        None => HashSet::new(),
    };
    let mut out = Vec::new();
    let mut next = Some(range.to);
    while let Some(id) = next {
        if hidden.contains(&id) {
            break;
        }
        let c = repo.commit(id)?;
        next = c.parents.first().copied();
        if c.parents.len() < 2 {
            out.push(change_of(&c, c.message.clone(), Origin::Commit));
        } else if let Some((message, pr)) = pull_request_merge(&c.message) {
            let mut ch = change_of(&c, message, Origin::PullRequestMerge);
            if let Ok(t) = &mut ch.parsed {
                t.pr = t.pr.or(Some(pr));
            }
            out.push(ch);
        } else {
            let mut hide = hidden.clone();
            hide.extend(repo.reachable(&c.parents[..1])?);
            for m in c.parents[1..].iter() {
                for mc in repo.walk_excluding(*m, &hide)? {
                    if mc.parents.len() < 2 {
                        out.push(change_of(&mc, mc.message.clone(), Origin::Merged));
                    }
                    hide.insert(mc.id);
                }
            }
        }
    }
    Ok(out)
}

fn change_of(c: &CommitInfo, message: String, origin: Origin) -> Change {
    let title_line = message.lines().next().unwrap_or("").to_string();
    Change {
        commit: c.id,
        parsed: parse_message(&message),
        reverts: reverted_commit(&message),
        title_line,
        message,
        origin,
        time: c.time,
    }
}

/// `Merge pull request #N from owner/branch` with a title in the body: (body, N).
fn pull_request_merge(message: &str) -> Option<(String, u64)> {
    let mut lines = message.lines();
    let first = lines.next()?;
    let rest = first.strip_prefix("Merge pull request #")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let pr = digits.parse().ok()?;
    let body: Vec<&str> = lines.skip_while(|l| l.trim().is_empty()).collect();
    let title = body.first()?;
    if title.trim().is_empty() {
        return None;
    }
    Some((body.join("\n"), pr))
}

/// The id in `This reverts commit <40 hex>.`.
fn reverted_commit(message: &str) -> Option<ObjectId> {
    let idx = message.find("This reverts commit ")?;
    let hex: String = message[idx + "This reverts commit ".len()..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    ObjectId::from_hex(hex.as_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pr_merge_body() {
        let (msg, pr) = pull_request_merge(
            "Merge pull request #12 from acme/x\n\nfeat(aws): add nodes\n\nmore",
        )
        .unwrap();
        assert_eq!(pr, 12);
        assert_eq!(msg, "feat(aws): add nodes\n\nmore");
        assert!(pull_request_merge("Merge pull request #12 from acme/x").is_none());
        assert!(pull_request_merge("Merge branch 'x'").is_none());
    }

    #[test]
    fn revert_id() {
        let hex = "0123456789abcdef0123456789abcdef01234567";
        let m = format!("Revert \"feat: x\"\n\nThis reverts commit {hex}.\n");
        assert_eq!(reverted_commit(&m).unwrap().to_string(), hex);
        assert!(reverted_commit("This reverts commit 0123.").is_none());
    }
}
