//! `spec.ref` of a GitRepository and its resolution against the remote's references, with
//! Flux's precedence: commit > name > semver > tag > branch (default `master`).

use crate::error::SourceError;
use crate::revision::{is_sha1, Revision};
use crate::semver_range::{parse_tag_version, Range};

/// A GitRepository `spec.ref`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct GitRef {
    /// `branch`
    pub branch: Option<String>,
    /// `tag`
    pub tag: Option<String>,
    /// `semver` (Masterminds range)
    pub semver: Option<String>,
    /// `name` (full reference name, e.g. `refs/pull/1/head`)
    pub name: Option<String>,
    /// `commit` (40 hex)
    pub commit: Option<String>,
}

/// A reference as the remote advertised it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRef {
    /// Full name, e.g. `refs/tags/v1.0.0`.
    pub name: String,
    /// The commit it leads to (annotated tags peeled).
    pub commit: gix::ObjectId,
}

/// What to do for a ref, in precedence order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// A fixed commit, optionally on a branch (which then names the revision).
    Commit { sha: String, branch: Option<String> },
    /// A full reference name.
    Name(String),
    /// The highest tag in the range.
    Semver(String),
    /// A tag.
    Tag(String),
    /// A branch.
    Branch(String),
}

/// The outcome of resolution against advertised refs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The revision to report.
    pub revision: Revision,
    /// The commit.
    pub commit: gix::ObjectId,
    /// The full name of the reference to fetch (`None` for a bare commit).
    pub refname: Option<String>,
}

impl GitRef {
    /// A branch ref.
    pub fn branch(b: &str) -> Self {
        GitRef {
            branch: Some(b.into()),
            ..Default::default()
        }
    }
    /// A tag ref.
    pub fn tag(t: &str) -> Self {
        GitRef {
            tag: Some(t.into()),
            ..Default::default()
        }
    }
    /// A semver ref.
    pub fn semver(r: &str) -> Self {
        GitRef {
            semver: Some(r.into()),
            ..Default::default()
        }
    }
    /// A commit ref.
    pub fn commit(c: &str) -> Self {
        GitRef {
            commit: Some(c.into()),
            ..Default::default()
        }
    }
    /// A full-name ref.
    pub fn name(n: &str) -> Self {
        GitRef {
            name: Some(n.into()),
            ..Default::default()
        }
    }

    /// Applies Flux's precedence; validates the commit and the name.
    pub fn plan(&self) -> Result<Plan, SourceError> {
        let set = |o: &Option<String>| o.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
        if let Some(c) = set(&self.commit) {
            let c = c.to_ascii_lowercase();
            if !is_sha1(&c) {
                return Err(SourceError::InvalidSpec(format!(
                    "commit '{c}' is not a full 40-hex SHA-1"
                )));
            }
            return Ok(Plan::Commit {
                sha: c,
                branch: set(&self.branch),
            });
        }
        if let Some(n) = set(&self.name) {
            if !n.starts_with("refs/") {
                return Err(SourceError::InvalidSpec(format!(
                    "ref name '{n}' must be a full reference starting with 'refs/'"
                )));
            }
            return Ok(Plan::Name(n));
        }
        if let Some(s) = set(&self.semver) {
            Range::parse(&s).map_err(SourceError::InvalidRange)?;
            return Ok(Plan::Semver(s));
        }
        if let Some(t) = set(&self.tag) {
            return Ok(Plan::Tag(t));
        }
        Ok(Plan::Branch(
            set(&self.branch).unwrap_or_else(|| "master".into()),
        ))
    }

    /// A stable key for deduplication.
    pub fn key(&self) -> String {
        match self.plan() {
            Ok(Plan::Commit { sha, branch }) => {
                format!("commit:{sha}:{}", branch.unwrap_or_default())
            }
            Ok(Plan::Name(n)) => format!("name:{n}"),
            Ok(Plan::Semver(s)) => format!("semver:{s}"),
            Ok(Plan::Tag(t)) => format!("tag:{t}"),
            Ok(Plan::Branch(b)) => format!("branch:{b}"),
            Err(e) => format!("invalid:{e}"),
        }
    }
}

impl Plan {
    /// The reference-name prefixes to list on the remote (`None`: no listing needed).
    pub fn list_prefix(&self) -> Option<String> {
        match self {
            Plan::Commit { branch: None, .. } => None,
            Plan::Commit {
                branch: Some(b), ..
            }
            | Plan::Branch(b) => Some(format!("refs/heads/{b}")),
            Plan::Name(n) => Some(n.clone()),
            Plan::Semver(_) => Some("refs/tags/*".into()),
            Plan::Tag(t) => Some(format!("refs/tags/{t}")),
        }
    }

    /// Picks the reference and commit from what the remote advertised.
    pub fn select(&self, url: &str, refs: &[RemoteRef]) -> Result<Resolved, SourceError> {
        let url = crate::error::redact_url(url);
        let find = |name: &str| refs.iter().find(|r| r.name == name);
        let unknown = |kind: &'static str, name: &str| SourceError::UnknownRef {
            url: url.clone(),
            kind,
            name: name.to_string(),
        };
        match self {
            Plan::Commit { sha, branch } => {
                let commit = gix::ObjectId::from_hex(sha.as_bytes())
                    .map_err(|_| SourceError::InvalidSpec(format!("commit '{sha}'")))?;
                let refname = match branch {
                    Some(b) => {
                        find(&format!("refs/heads/{b}")).ok_or_else(|| unknown("branch", b))?;
                        Some(format!("refs/heads/{b}"))
                    }
                    None => None,
                };
                Ok(Resolved {
                    revision: Revision::new(branch.as_deref(), sha.clone()),
                    commit,
                    refname,
                })
            }
            Plan::Name(n) => {
                let r = find(n).ok_or_else(|| unknown("reference", n))?;
                Ok(resolved(n, r))
            }
            Plan::Tag(t) => {
                let r = find(&format!("refs/tags/{t}")).ok_or_else(|| unknown("tag", t))?;
                Ok(resolved(t, r))
            }
            Plan::Branch(b) => {
                let r = find(&format!("refs/heads/{b}")).ok_or_else(|| unknown("branch", b))?;
                Ok(resolved(b, r))
            }
            Plan::Semver(range) => {
                let parsed = Range::parse(range).map_err(SourceError::InvalidRange)?;
                let mut best: Option<(semver::Version, &str, &RemoteRef)> = None;
                for r in refs {
                    let Some(tag) = r.name.strip_prefix("refs/tags/") else {
                        continue;
                    };
                    let Some(v) = parse_tag_version(tag) else {
                        continue;
                    };
                    if !parsed.matches(&v) {
                        continue;
                    }
                    let better = match &best {
                        None => true,
                        Some((bv, bt, _)) => v > *bv || (v == *bv && tag < *bt),
                    };
                    if better {
                        best = Some((v, tag, r));
                    }
                }
                let (_, tag, r) = best.ok_or_else(|| SourceError::NoSemverMatch {
                    url: url.clone(),
                    range: range.clone(),
                })?;
                Ok(resolved(tag, r))
            }
        }
    }
}

fn resolved(display: &str, r: &RemoteRef) -> Resolved {
    Resolved {
        revision: Revision::new(Some(display), r.commit.to_string()),
        commit: r.commit,
        refname: Some(r.name.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> gix::ObjectId {
        gix::ObjectId::from_hex(format!("{:040x}", n).as_bytes()).unwrap()
    }

    fn refs() -> Vec<RemoteRef> {
        [
            ("refs/heads/main", 1),
            ("refs/heads/master", 2),
            ("refs/tags/v0.1.0", 3),
            ("refs/tags/v0.1.5", 4),
            ("refs/tags/0.2.0", 5),
            ("refs/tags/latest", 6),
            ("refs/tags/v1.0.0-rc.1", 7),
            ("refs/pull/7/head", 8),
        ]
        .iter()
        .map(|(n, i)| RemoteRef {
            name: n.to_string(),
            commit: id(*i),
        })
        .collect()
    }

    fn sel(r: GitRef) -> Result<Resolved, SourceError> {
        r.plan()?.select("file:///x", &refs())
    }

    #[test]
    fn precedence() {
        let all = GitRef {
            branch: Some("main".into()),
            tag: Some("v0.1.0".into()),
            semver: Some("~0.1".into()),
            name: Some("refs/pull/7/head".into()),
            commit: Some(format!("{:040x}", 9)),
        };
        assert!(matches!(
            all.plan().unwrap(),
            Plan::Commit {
                branch: Some(_),
                ..
            }
        ));
        let no_commit = GitRef {
            commit: None,
            ..all.clone()
        };
        assert_eq!(
            no_commit.plan().unwrap(),
            Plan::Name("refs/pull/7/head".into())
        );
        let no_name = GitRef {
            name: None,
            ..no_commit
        };
        assert_eq!(no_name.plan().unwrap(), Plan::Semver("~0.1".into()));
        let no_semver = GitRef {
            semver: None,
            ..no_name
        };
        assert_eq!(no_semver.plan().unwrap(), Plan::Tag("v0.1.0".into()));
        assert_eq!(
            GitRef::default().plan().unwrap(),
            Plan::Branch("master".into())
        );
    }

    #[test]
    fn revisions() {
        assert_eq!(
            sel(GitRef::branch("main")).unwrap().revision.to_v1(),
            format!("main@sha1:{}", id(1))
        );
        assert_eq!(
            sel(GitRef::semver("~0.1")).unwrap().revision.to_v1(),
            format!("v0.1.5@sha1:{}", id(4))
        );
        assert_eq!(sel(GitRef::semver(">=0.1.0")).unwrap().commit, id(5));
        assert_eq!(
            sel(GitRef::name("refs/pull/7/head"))
                .unwrap()
                .revision
                .to_v1(),
            format!("refs/pull/7/head@sha1:{}", id(8))
        );
        let c = format!("{:040x}", 42);
        assert_eq!(
            sel(GitRef::commit(&c)).unwrap().revision.to_v1(),
            format!("sha1:{c}")
        );
    }

    #[test]
    fn failures() {
        assert!(matches!(
            sel(GitRef::branch("nope")),
            Err(SourceError::UnknownRef { kind: "branch", .. })
        ));
        assert!(matches!(
            sel(GitRef::tag("v9")),
            Err(SourceError::UnknownRef { kind: "tag", .. })
        ));
        assert!(matches!(
            sel(GitRef::semver(">=5.0.0")),
            Err(SourceError::NoSemverMatch { .. })
        ));
        assert!(matches!(
            GitRef::semver("not a range").plan(),
            Err(SourceError::InvalidRange(_))
        ));
        assert!(matches!(
            GitRef::commit("abc").plan(),
            Err(SourceError::InvalidSpec(_))
        ));
        assert!(matches!(
            GitRef::name("main").plan(),
            Err(SourceError::InvalidSpec(_))
        ));
    }
}
