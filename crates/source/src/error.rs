//! Typed source errors, each a single line fit for a `Ready=False` condition message.
//!
//! Messages name the URL (with any userinfo removed) and the reference, never credentials.

/// Why a source could not be resolved, fetched or stored.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// DNS failure, connection refused, TLS handshake failure, missing repository path.
    #[error("remote '{url}' unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    /// The server refused the credentials (or asked for some and none were given).
    #[error("authentication to '{url}' refused: {reason}")]
    AuthRefused { url: String, reason: String },
    /// The ssh host key is not in `known_hosts` or does not match it.
    #[error("host key verification for '{url}' failed: unknown or mismatched host key")]
    HostKeyMismatch { url: String },
    /// The TLS certificate of the server is not trusted.
    #[error("TLS certificate of '{url}' not trusted: {reason}")]
    UntrustedCertificate { url: String, reason: String },
    /// The branch, tag, reference name or commit does not exist on the remote.
    #[error("unknown {kind} '{name}' in '{url}'")]
    UnknownRef {
        url: String,
        kind: &'static str,
        name: String,
    },
    /// No tag satisfies the semver range.
    #[error("no tag in '{url}' matches semver range '{range}'")]
    NoSemverMatch { url: String, range: String },
    /// The semver range could not be parsed.
    #[error("{0}")]
    InvalidRange(String),
    /// Objects missing or unreadable after a fetch.
    #[error("corrupt repository '{url}': {reason}")]
    Corrupt { url: String, reason: String },
    /// The operation did not finish within the timeout.
    #[error("timeout after {seconds}s talking to '{url}'")]
    Timeout { url: String, seconds: u64 },
    /// A credential in the Secret is malformed (the value is never shown).
    #[error("invalid credentials: {0}")]
    InvalidCredentials(String),
    /// The spec asks for something impossible (e.g. a sparse directory that is absent).
    #[error("invalid source spec: {0}")]
    InvalidSpec(String),
    /// Local storage (artifact store, cache repositories) failed.
    #[error("storage error: {0}")]
    Storage(String),
    /// Any other git failure.
    #[error("git operation on '{url}' failed: {reason}")]
    Git { url: String, reason: String },
}

impl SourceError {
    pub(crate) fn storage(context: &str, e: impl std::fmt::Display) -> Self {
        SourceError::Storage(one_line(&format!("{context}: {e}")))
    }
}

/// Collapses whitespace runs (including newlines) so the message stays on one line.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Removes userinfo from every URL inside free text (error messages of lower layers).
pub fn scrub_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => out.push_str(&authority[at + 1..]),
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Removes userinfo (`user:password@`) from a URL for display.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if let Some((_, host)) = authority.rsplit_once('@') {
            let user = authority.split([':', '@']).next().unwrap_or("");
            // Keep an ssh user name (it is not a secret); drop any password.
            if scheme.starts_with("ssh")
                && !authority[..authority.len() - host.len() - 1].contains(':')
            {
                return format!("{scheme}://{user}@{host}{path}");
            }
            return format!("{scheme}://{host}{path}");
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction() {
        assert_eq!(
            redact_url("https://bob:s3cret@example.com/r.git"),
            "https://example.com/r.git"
        );
        assert_eq!(
            redact_url("ssh://git@example.com:22/r.git"),
            "ssh://git@example.com:22/r.git"
        );
        assert_eq!(redact_url("ssh://git:pw@h/r"), "ssh://h/r");
        assert_eq!(redact_url("/tmp/repo"), "/tmp/repo");
    }

    #[test]
    fn scrubbing() {
        assert_eq!(
            scrub_urls("GET https://bob:pw@h:443/x failed; see http://h/y"),
            "GET https://h:443/x failed; see http://h/y"
        );
    }

    #[test]
    fn messages_are_one_line() {
        let e = SourceError::Unreachable {
            url: "u".into(),
            reason: one_line("a\nb   c"),
        };
        assert_eq!(e.to_string(), "remote 'u' unreachable: a b c");
        let e = SourceError::UnknownRef {
            url: "u".into(),
            kind: "branch",
            name: "nope".into(),
        };
        assert_eq!(e.to_string(), "unknown branch 'nope' in 'u'");
    }
}
