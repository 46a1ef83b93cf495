//! Kubernetes name validation (apimachinery's `IsDNS1123Label` / `IsDNS1123Subdomain` /
//! path-segment names) and YAML scalar quoting for the templates.

use crate::error::{Error, Result};

/// A DNS-1123 label: at most 63 characters, lowercase alphanumerics and `-`, starting and
/// ending with an alphanumeric.
pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A DNS-1123 subdomain: at most 253 characters, dot-separated DNS-1123 labels.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

/// A path-segment name (RBAC objects): not `.` or `..`, no `/` or `%`.
pub fn is_path_segment(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains('/') && !s.contains('%')
}

/// What kind of name an object of `kind` (in `group`) must have, as the API server checks it.
pub fn name_rule(group: &str, kind: &str) -> NameRule {
    match (group, kind) {
        ("", "Namespace") | ("", "Service") => NameRule::Label,
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        _ => NameRule::Subdomain,
    }
}

/// The three name validations of apimachinery that matter for manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    Label,
    Subdomain,
    PathSegment,
}

impl NameRule {
    /// Whether `name` passes.
    pub fn check(self, name: &str) -> bool {
        match self {
            NameRule::Label => is_dns1123_label(name),
            NameRule::Subdomain => is_dns1123_subdomain(name),
            NameRule::PathSegment => is_path_segment(name),
        }
    }

    /// How to describe the rule in a message.
    pub fn describe(self) -> &'static str {
        match self {
            NameRule::Label => "a DNS-1123 label (lowercase alphanumerics and '-', at most 63)",
            NameRule::Subdomain => {
                "a DNS-1123 subdomain (lowercase alphanumerics, '-' and '.', at most 253)"
            }
            NameRule::PathSegment => "a path segment (no '/' or '%', not '.' or '..')",
        }
    }
}

/// Checks a command-line name that becomes a namespace, folder and object name prefix.
pub fn check_arg(what: &str, value: &str) -> Result<()> {
    if is_dns1123_label(value) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{what} `{value}` is not a DNS-1123 label (lowercase alphanumerics and '-', starting and ending with an alphanumeric, at most 63 characters)"
        )))
    }
}

/// `s` as a YAML scalar that reads back as the same string under both YAML 1.2 (go-yaml v3,
/// how kustomize reads resources) and YAML 1.1 (go-yaml v2, kubectl): plain when that is
/// unambiguous, double-quoted otherwise.
pub fn scalar(s: &str) -> String {
    if plain_is_safe(s) {
        s.to_string()
    } else {
        // A JSON string is a valid YAML double-quoted scalar.
        serde_json::Value::String(s.to_string()).to_string()
    }
}

fn plain_is_safe(s: &str) -> bool {
    if s.is_empty() || s.trim() != s || s.contains(['\n', '\r', '\t', '#', '"', '\'']) {
        return false;
    }
    const YAML11_WORDS: &[&str] = &[
        "y", "yes", "n", "no", "on", "off", "true", "false", "null", "~",
    ];
    if YAML11_WORDS.contains(&s.to_ascii_lowercase().as_str()) {
        return false;
    }
    // YAML 1.1 sexagesimal numbers (`10:30`), which some parsers still read as integers.
    let sexagesimal = s.contains(':')
        && s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ':' | '.' | '_'));
    if sexagesimal {
        return false;
    }
    let doc = format!("k: {s}\n");
    let want = serde_json::Value::String(s.to_string());
    let v3 = flotilla_yaml::parse_one(&doc).ok();
    let v11 = flotilla_yaml::parse_one_yaml11(&doc).ok();
    [v3, v11]
        .iter()
        .all(|v| v.as_ref().and_then(|v| v.get("k")) == Some(&want))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_subdomains() {
        assert!(is_dns1123_label("prod-eu-west-1"));
        assert!(!is_dns1123_label("Prod"));
        assert!(!is_dns1123_label("-a"));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        assert!(is_dns1123_subdomain("helloworlds.demo.flotilla.dev"));
        assert!(!is_dns1123_subdomain("a..b"));
        assert!(is_path_segment("system:controller"));
        assert!(!is_path_segment("a/b"));
        assert_eq!(name_rule("", "Namespace"), NameRule::Label);
        assert!(check_arg("cluster", "Bad_Name").is_err());
    }

    #[test]
    fn scalars_quote_what_would_change_type() {
        assert_eq!(scalar("eu-west-1"), "eu-west-1");
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("123"), "\"123\"");
        assert_eq!(scalar("1e3"), "\"1e3\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar("<-YOUR-KEY->"), "<-YOUR-KEY->");
        assert_eq!(scalar("file:///srv/git/p.git"), "file:///srv/git/p.git");
        assert_eq!(scalar("10:30"), "\"10:30\"");
    }
}
