//! Conventional titles with Flotilla's squash suffix: `type(scope)!: subject (#N)`.
//!
//! The grammar comes from `git-conventional`; this module adds the `(#N)` pull-request
//! suffix that squash merges append, git's own `Revert "…"` titles, and `BREAKING CHANGE:`
//! footers in the message body.

use serde::Serialize;

/// A parsed title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Title {
    /// The type (`feat`, `fix`, `providers`, …), lower-cased.
    #[serde(rename = "type")]
    pub kind: String,
    pub scope: Option<String>,
    /// `!` after the type/scope, or a `BREAKING CHANGE:` footer.
    pub breaking: bool,
    /// The subject without the `(#N)` suffix.
    pub subject: String,
    /// The pull-request number of the `(#N)` suffix.
    pub pr: Option<u64>,
    /// The text of a `BREAKING CHANGE:` footer, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaking_note: Option<String>,
}

/// Why a title is not conventional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleError(pub String);

impl std::fmt::Display for TitleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Splits a trailing ` (#N)` off a subject.
pub fn split_pr(subject: &str) -> (&str, Option<u64>) {
    let t = subject.trim_end();
    if let Some(rest) = t.strip_suffix(')') {
        if let Some(idx) = rest.rfind("(#") {
            let digits = &rest[idx + 2..];
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                if let Ok(n) = digits.parse() {
                    return (rest[..idx].trim_end(), Some(n));
                }
            }
        }
    }
    (t, None)
}

/// Parses a title line only.
pub fn parse_title(line: &str) -> Result<Title, TitleError> {
    let line = line.trim_end_matches(['\r', '\n']);
    if let Some(inner) = git_revert_inner(line) {
        let (subject, pr) = split_pr(inner);
        return Ok(Title {
            kind: "revert".into(),
            scope: None,
            breaking: false,
            subject: subject.to_string(),
            pr,
            breaking_note: None,
        });
    }
    if line.contains('\n') {
        return Err(TitleError("the title must be one line".into()));
    }
    let c = git_conventional::Commit::parse(line).map_err(|e| TitleError(describe(&e)))?;
    let (subject, pr) = split_pr(c.description());
    Ok(Title {
        kind: c.type_().as_str().to_ascii_lowercase(),
        scope: c.scope().map(|s| s.as_str().to_string()),
        breaking: c.breaking(),
        subject: subject.to_string(),
        pr,
        breaking_note: None,
    })
}

/// Parses a whole commit message: the title, plus `BREAKING CHANGE:` footers in the body.
pub fn parse_message(message: &str) -> Result<Title, TitleError> {
    let message = message.trim_start_matches('\n');
    let first = message.lines().next().unwrap_or("");
    let mut title = parse_title(first)?;
    if let Some(note) = breaking_footer(message) {
        title.breaking = true;
        title.breaking_note = Some(note);
    }
    Ok(title)
}

/// The text of the first `BREAKING CHANGE:` (or `BREAKING-CHANGE:`) footer after the title.
fn breaking_footer(message: &str) -> Option<String> {
    let mut lines = message.lines().skip(1).peekable();
    while let Some(line) = lines.next() {
        let rest = line
            .strip_prefix("BREAKING CHANGE:")
            .or_else(|| line.strip_prefix("BREAKING-CHANGE:"));
        if let Some(rest) = rest {
            let mut text = rest.trim().to_string();
            // Continuation lines run until a blank line.
            while let Some(next) = lines.peek() {
                if next.trim().is_empty() {
                    break;
                }
                text.push(' ');
                text.push_str(next.trim());
                lines.next();
            }
            return Some(text);
        }
    }
    None
}

/// `Revert "inner"` as git writes it.
pub fn git_revert_inner(line: &str) -> Option<&str> {
    line.strip_prefix("Revert \"")?.strip_suffix('"')
}

fn describe(e: &git_conventional::Error) -> String {
    use git_conventional::ErrorKind as K;
    match e.kind() {
        K::MissingType => "missing type: expected `type(scope): subject`".into(),
        K::InvalidScope => "invalid scope: expected `type(scope): subject`".into(),
        K::MissingDescription => "missing subject after `type(scope): `".into(),
        _ => "not a conventional title: expected `type(scope)!: subject (#N)`".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_title() {
        let t = parse_title("feat(aws)!: drop eu-west-1 (#42)").unwrap();
        assert_eq!(t.kind, "feat");
        assert_eq!(t.scope.as_deref(), Some("aws"));
        assert!(t.breaking);
        assert_eq!(t.subject, "drop eu-west-1");
        assert_eq!(t.pr, Some(42));
        let t = parse_title("providers(aws/v1): bump CAPA").unwrap();
        assert_eq!(t.scope.as_deref(), Some("aws/v1"));
    }

    #[test]
    fn no_scope_no_pr() {
        let t = parse_title("fix: handle empty lists").unwrap();
        assert_eq!((t.kind.as_str(), t.scope, t.pr), ("fix", None, None));
        assert!(!t.breaking);
    }

    #[test]
    fn uppercase_type_is_lowered() {
        assert_eq!(parse_title("Feat: x").unwrap().kind, "feat");
    }

    #[test]
    fn pr_suffix_needs_digits() {
        assert_eq!(split_pr("x (#abc)"), ("x (#abc)", None));
        assert_eq!(split_pr("x (#)"), ("x (#)", None));
        assert_eq!(split_pr("a (b) (#7)"), ("a (b)", Some(7)));
    }

    #[test]
    fn bad_titles() {
        assert!(parse_title("update stuff").is_err());
        assert!(parse_title("feat:").is_err());
        assert!(parse_title("feat(: x").is_err());
        assert!(parse_title("").is_err());
    }

    #[test]
    fn git_revert() {
        let t = parse_title("Revert \"feat(x): y (#3)\"").unwrap();
        assert_eq!(t.kind, "revert");
        assert_eq!(t.subject, "feat(x): y");
        assert_eq!(t.pr, Some(3));
    }

    #[test]
    fn breaking_footer_in_body() {
        let m = "fix(api): rename field (#9)\n\nSome body.\n\nBREAKING CHANGE: `spec.foo` is now\n`spec.bar`.\n";
        let t = parse_message(m).unwrap();
        assert!(t.breaking);
        assert_eq!(
            t.breaking_note.as_deref(),
            Some("`spec.foo` is now `spec.bar`.")
        );
        assert!(!parse_message("fix: a\n\nno footer").unwrap().breaking);
    }
}
