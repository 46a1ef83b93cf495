//! Title lint: every change in a range, or one title, against the rules of `[release]`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::ReleaseConfig;
use crate::error::{io, Error, Result};
use crate::history::{self, Change, Origin};
use crate::repo::Repo;
use crate::title::{parse_message, Title};

/// A rule a title can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Not `type(scope)!: subject`.
    Format,
    /// The type is not in `release.types`.
    Type,
    /// The scope is not in `release.scopes`.
    Scope,
    /// No scope while `release.require-scope` is set.
    ScopeRequired,
    /// No ` (#N)` suffix while `release.require-pr` is set.
    PrNumber,
    /// Longer than `release.max-title-length`.
    Length,
    /// The subject ends with a full stop.
    SubjectPeriod,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::Format => "format",
            Rule::Type => "type",
            Rule::Scope => "scope",
            Rule::ScopeRequired => "scope-required",
            Rule::PrNumber => "pr-number",
            Rule::Length => "length",
            Rule::SubjectPeriod => "subject-period",
        }
    }
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Seven hex digits of the commit, or `None` for a title given directly.
    pub commit: Option<String>,
    pub title: String,
    pub rule: Rule,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.commit {
            Some(c) => write!(f, "{c} ")?,
            None => f.write_str("title ")?,
        }
        write!(
            f,
            "{:?}: [{}] {}",
            self.title,
            self.rule.name(),
            self.message
        )
    }
}

/// Lints one title (or a whole message: only its first line is the title, and a
/// `BREAKING CHANGE:` footer is read). `require_pr` demands the ` (#N)` suffix.
pub fn lint_title(message: &str, cfg: &ReleaseConfig, require_pr: bool) -> Vec<Finding> {
    lint_one(None, message, cfg, require_pr)
}

/// Lints the text of a commit-message file as the commit-msg hook sees it: comment lines
/// (`#`) and leading blank lines are dropped; `fixup!`/`squash!`/`Merge` titles pass.
pub fn lint_message_file(text: &str, cfg: &ReleaseConfig) -> Vec<Finding> {
    let kept: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("# ------------------------ >8"))
        .filter(|l| !l.starts_with('#'))
        .skip_while(|l| l.trim().is_empty())
        .collect();
    let message = kept.join("\n");
    let first = kept.first().copied().unwrap_or("");
    if ["fixup! ", "squash! ", "amend! ", "Merge "]
        .iter()
        .any(|p| first.starts_with(p))
    {
        return Vec::new();
    }
    lint_one(None, &message, cfg, false)
}

/// Lints every change in `range` (see [`history::resolve_range`]; `None` means
/// `<last tag>..HEAD`). Merge commits are not linted themselves: a pull-request merge
/// is linted through the title in its body, another merge through the commits it brings.
pub fn lint_range(repo: &Repo, range: Option<&str>, cfg: &ReleaseConfig) -> Result<Vec<Finding>> {
    let range = history::resolve_range(repo, range, &cfg.tag_prefix)?;
    let changes = history::changes(repo, &range)?;
    Ok(lint_changes(&changes, cfg))
}

/// Lints already collected changes, oldest first.
pub fn lint_changes(changes: &[Change], cfg: &ReleaseConfig) -> Vec<Finding> {
    changes
        .iter()
        .rev()
        .flat_map(|c| {
            // A pull-request merge's number is in its own title, not in the body's.
            let require_pr = cfg.require_pr && c.origin != Origin::PullRequestMerge;
            lint_one(Some(c.short()), &c.message, cfg, require_pr)
        })
        .collect()
}

fn lint_one(
    commit: Option<String>,
    message: &str,
    cfg: &ReleaseConfig,
    require_pr: bool,
) -> Vec<Finding> {
    let title = message.lines().next().unwrap_or("").to_string();
    let finding = |rule: Rule, message: String| Finding {
        commit: commit.clone(),
        title: title.clone(),
        rule,
        message,
    };
    let mut out = Vec::new();
    if title.chars().count() > cfg.max_title_length {
        out.push(finding(
            Rule::Length,
            format!(
                "{} characters, at most {}",
                title.chars().count(),
                cfg.max_title_length
            ),
        ));
    }
    let parsed: Title = match parse_message(message) {
        Ok(t) => t,
        Err(e) => {
            out.push(finding(Rule::Format, e.0));
            return out;
        }
    };
    if !cfg
        .types
        .iter()
        .any(|t| t.eq_ignore_ascii_case(&parsed.kind))
    {
        out.push(finding(
            Rule::Type,
            format!(
                "type `{}` is not one of: {}",
                parsed.kind,
                cfg.types.join(", ")
            ),
        ));
    }
    match &parsed.scope {
        Some(s) if !cfg.scopes.is_empty() && !cfg.scopes.iter().any(|x| x == s) => {
            out.push(finding(
                Rule::Scope,
                format!("scope `{s}` is not one of: {}", cfg.scopes.join(", ")),
            ));
        }
        None if cfg.require_scope && parsed.kind != "revert" => {
            out.push(finding(
                Rule::ScopeRequired,
                "a scope is required: `type(scope): subject`".into(),
            ));
        }
        _ => {}
    }
    if require_pr && parsed.pr.is_none() {
        out.push(finding(
            Rule::PrNumber,
            "missing the pull request suffix ` (#N)`".into(),
        ));
    }
    if parsed.subject.ends_with('.') {
        out.push(finding(
            Rule::SubjectPeriod,
            "the subject ends with a full stop".into(),
        ));
    }
    out
}

/// The marker line that identifies a hook this crate wrote.
const HOOK_MARKER: &str = "# flotilla-release commit-msg hook";

/// Installs a `commit-msg` hook that runs `<command> release lint --message-file "$1"`.
/// Replaces a hook it wrote earlier; refuses to replace someone else's unless `force`.
pub fn install_hook(repo: &Repo, command: &str, force: bool) -> Result<PathBuf> {
    let dir = repo.gix().git_dir().join("hooks");
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let path = dir.join("commit-msg");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if !existing.contains(HOOK_MARKER) && !force {
            return Err(Error::Io {
                path: path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "a commit-msg hook already exists (not written by flotilla)",
                ),
            });
        }
    }
    let script =
        format!("#!/bin/sh\n{HOOK_MARKER}\nexec {command} release lint --message-file \"$1\"\n");
    write_executable(&path, &script)?;
    Ok(path)
}

fn write_executable(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(io(path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(io(path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(t: &str, cfg: &ReleaseConfig, pr: bool) -> Vec<&'static str> {
        lint_title(t, cfg, pr)
            .iter()
            .map(|f| f.rule.name())
            .collect()
    }

    #[test]
    fn good_titles_pass() {
        let cfg = ReleaseConfig::default();
        assert!(rules("feat(aws): add nodes (#3)", &cfg, true).is_empty());
        assert!(rules("tenants(team-a)!: move to new namespace", &cfg, false).is_empty());
        assert!(rules("Revert \"feat: x (#2)\"", &cfg, true).is_empty());
    }

    #[test]
    fn each_rule_fires() {
        let mut cfg = ReleaseConfig {
            scopes: vec!["aws".into()],
            ..ReleaseConfig::default()
        };
        assert_eq!(rules("added stuff", &cfg, false), ["format"]);
        assert_eq!(rules("feature: x", &cfg, false), ["type"]);
        assert_eq!(rules("fix(gcp): x", &cfg, false), ["scope"]);
        assert_eq!(rules("fix(aws): x", &cfg, true), ["pr-number"]);
        assert_eq!(rules("fix(aws): x.", &cfg, false), ["subject-period"]);
        cfg.require_scope = true;
        assert_eq!(rules("fix: x", &cfg, false), ["scope-required"]);
        cfg.max_title_length = 10;
        assert_eq!(rules("fix(aws): something long", &cfg, false), ["length"]);
    }

    #[test]
    fn message_file_skips_comments_and_fixups() {
        let cfg = ReleaseConfig::default();
        let text = "# Please enter\n\nfeat: ok\n\n# comment\n";
        assert!(lint_message_file(text, &cfg).is_empty());
        assert!(lint_message_file("fixup! whatever", &cfg).is_empty());
        let f = lint_message_file("# c\nbad title\n", &cfg);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].to_string(),
            "title \"bad title\": [format] missing type: expected `type(scope): subject`"
        );
    }
}
