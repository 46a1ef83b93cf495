//! Release notes: the changes of a range grouped by kind, as markdown or JSON.
//!
//! Sections, in order: breaking changes; features; bug fixes; one per platform type
//! (`release.platform-types`: providers, tenants, …); the other configured types in
//! their configured order; "Other changes" for titles that are not conventional or
//! whose type is not configured. Within a section, oldest first. A revert and the
//! commit it reverts cancel out when both are in the range. Release bookkeeping
//! (`chore(release): …`, which `create` and `promote` write) is left out.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::config::ReleaseConfig;
use crate::error::Result;
use crate::history::{self, Change, Range};
use crate::repo::{date, Repo};

/// Notes for one range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notes {
    /// The heading: a version, or `Unreleased`.
    pub title: String,
    /// The date of the range's last commit, `YYYY-MM-DD`.
    pub date: String,
    /// `FROM..TO` as resolved.
    pub range: String,
    pub sections: Vec<Section>,
}

/// One group of entries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// `breaking`, a type (`feat`, `providers`, …), or `other`.
    pub kind: String,
    pub heading: String,
    pub entries: Vec<Entry>,
}

/// One line of the notes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The type, or `None` for a title that is not conventional.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub scope: Option<String>,
    pub subject: String,
    pub pr: Option<u64>,
    /// Seven hex digits.
    pub commit: String,
    pub breaking: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaking_note: Option<String>,
}

impl Notes {
    /// Whether no entry survived.
    pub fn is_empty(&self) -> bool {
        self.sections.iter().all(|s| s.entries.is_empty())
    }

    /// All entries, section by section.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.sections.iter().flat_map(|s| s.entries.iter())
    }

    /// `## title (date)` then a `###` section per kind.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("## {} ({})\n", self.title, self.date);
        if self.is_empty() {
            out.push_str("\nNo changes.\n");
        }
        for s in &self.sections {
            let _ = write!(out, "\n### {}\n\n", s.heading);
            for e in &s.entries {
                out.push_str("- ");
                if let Some(scope) = &e.scope {
                    let _ = write!(out, "**{scope}:** ");
                }
                out.push_str(&e.subject);
                match e.pr {
                    Some(n) => {
                        let _ = write!(out, " (#{n})");
                    }
                    None => {
                        let _ = write!(out, " ({})", e.commit);
                    }
                }
                out.push('\n');
                if let Some(note) = e.breaking_note.as_ref().filter(|n| **n != e.subject) {
                    let _ = writeln!(out, "  {note}");
                }
            }
        }
        out
    }

    /// Pretty JSON of the same content.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Notes for `range` (`FROM..TO`; `None` = last tag..HEAD), titled `Unreleased`.
pub fn collect(repo: &Repo, range: Option<&str>, cfg: &ReleaseConfig) -> Result<Notes> {
    let range = history::resolve_range(repo, range, &cfg.tag_prefix)?;
    collect_range(repo, &range, cfg, "Unreleased")
}

/// Notes for a resolved range, with a heading.
pub fn collect_range(
    repo: &Repo,
    range: &Range,
    cfg: &ReleaseConfig,
    title: &str,
) -> Result<Notes> {
    let changes = history::changes(repo, range)?;
    let date = date(repo.commit(range.to)?.time);
    Ok(from_changes(&changes, cfg, title, &date, &range.display()))
}

/// Groups changes (newest first, as [`history::changes`] gives them).
pub fn from_changes(
    changes: &[Change],
    cfg: &ReleaseConfig,
    title: &str,
    date: &str,
    range: &str,
) -> Notes {
    let in_range: HashSet<_> = changes.iter().map(|c| c.commit).collect();
    let mut cancelled = HashSet::new();
    for c in changes {
        if let Some(r) = c.reverts.filter(|r| in_range.contains(r)) {
            if !cancelled.contains(&c.commit) {
                cancelled.insert(c.commit);
                cancelled.insert(r);
            }
        }
    }

    let mut order: Vec<String> = vec!["breaking".into(), "feat".into(), "fix".into()];
    for t in cfg.platform_types.iter().chain(cfg.types.iter()) {
        if !order.contains(t) {
            order.push(t.clone());
        }
    }
    order.push("other".into());
    let mut sections: Vec<Section> = order
        .iter()
        .map(|k| Section {
            kind: k.clone(),
            heading: match k.as_str() {
                "breaking" => "Breaking changes".into(),
                "other" => "Other changes".into(),
                _ => cfg.heading(k),
            },
            entries: Vec::new(),
        })
        .collect();

    for c in changes.iter().rev() {
        if cancelled.contains(&c.commit) {
            continue;
        }
        let (entry, kind) = match &c.parsed {
            Ok(t) => {
                if t.kind == "chore" && t.scope.as_deref() == Some("release") {
                    continue;
                }
                let section = if t.breaking {
                    "breaking"
                } else if cfg.types.contains(&t.kind) || cfg.platform_types.contains(&t.kind) {
                    t.kind.as_str()
                } else {
                    "other"
                };
                let entry = Entry {
                    kind: Some(t.kind.clone()),
                    scope: t.scope.clone(),
                    subject: t.subject.clone(),
                    pr: t.pr,
                    commit: c.short(),
                    breaking: t.breaking,
                    breaking_note: t.breaking_note.clone(),
                };
                (entry, section.to_string())
            }
            Err(_) => {
                let (subject, pr) = crate::title::split_pr(&c.title_line);
                let entry = Entry {
                    kind: None,
                    scope: None,
                    subject: subject.to_string(),
                    pr,
                    commit: c.short(),
                    breaking: false,
                    breaking_note: None,
                };
                (entry, "other".to_string())
            }
        };
        if let Some(s) = sections.iter_mut().find(|s| s.kind == kind) {
            s.entries.push(entry);
        }
    }
    sections.retain(|s| !s.entries.is_empty());
    Notes {
        title: title.to_string(),
        date: date.to_string(),
        range: range.to_string(),
        sections,
    }
}
