//! Revision strings exactly as Flux writes them.
//!
//! v1 (`source.toolkit.fluxcd.io/v1`): `main@sha1:<40 hex>`, `v0.0.3@sha1:<sha>`, a bare commit
//! `sha1:<sha>`, and for `ref.name` the full reference (`refs/heads/main@sha1:<sha>`).
//! v1beta1 (and v1beta2 objects written by old controllers): `main/<sha>`, or `HEAD/<sha>`
//! for a bare commit.

use std::fmt;

/// A resolved revision: the reference that was followed (if any) and the commit it names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Revision {
    /// The short (or, for `ref.name`, full) reference name; `None` for a bare commit.
    pub reference: Option<String>,
    /// The commit id, 40 lowercase hex digits.
    pub commit: String,
}

impl Revision {
    /// A revision for `commit` reached through `reference`.
    pub fn new(reference: Option<&str>, commit: impl Into<String>) -> Self {
        Revision {
            reference: reference.map(str::to_string),
            commit: commit.into(),
        }
    }

    /// The v1 form: `<ref>@sha1:<sha>` or `sha1:<sha>`.
    pub fn to_v1(&self) -> String {
        match &self.reference {
            Some(r) => format!("{r}@sha1:{}", self.commit),
            None => format!("sha1:{}", self.commit),
        }
    }

    /// The v1beta1 form: `<ref>/<sha>`, and `HEAD/<sha>` for a bare commit.
    pub fn to_v1beta1(&self) -> String {
        let r = self.reference.as_deref().unwrap_or("HEAD");
        format!("{r}/{}", self.commit)
    }

    /// Parses either form (v1 first). Returns `None` when the string is neither.
    pub fn parse(s: &str) -> Option<Revision> {
        if let Some(sha) = s.strip_prefix("sha1:") {
            return is_sha1(sha).then(|| Revision::new(None, sha));
        }
        if let Some((r, sha)) = s.rsplit_once("@sha1:") {
            return (is_sha1(sha) && !r.is_empty()).then(|| Revision::new(Some(r), sha));
        }
        let (r, sha) = s.rsplit_once('/')?;
        if !is_sha1(sha) || r.is_empty() {
            return None;
        }
        Some(Revision::new((r != "HEAD").then_some(r), sha))
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_v1())
    }
}

/// The v1beta1 revision for a v1 one (`main@sha1:<sha>` → `main/<sha>`); other strings are
/// returned unchanged.
pub fn to_v1beta1(v1: &str) -> String {
    match Revision::parse(v1) {
        Some(r) => r.to_v1beta1(),
        None => v1.to_string(),
    }
}

/// True for 40 lowercase hex digits.
pub fn is_sha1(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn v1_forms() {
        assert_eq!(
            Revision::new(Some("main"), SHA).to_v1(),
            format!("main@sha1:{SHA}")
        );
        assert_eq!(
            Revision::new(Some("v0.0.3"), SHA).to_string(),
            format!("v0.0.3@sha1:{SHA}")
        );
        assert_eq!(Revision::new(None, SHA).to_v1(), format!("sha1:{SHA}"));
    }

    #[test]
    fn v1beta1_forms() {
        assert_eq!(
            Revision::new(Some("main"), SHA).to_v1beta1(),
            format!("main/{SHA}")
        );
        assert_eq!(
            to_v1beta1(&format!("main@sha1:{SHA}")),
            format!("main/{SHA}")
        );
        assert_eq!(
            to_v1beta1(&format!("feature/x@sha1:{SHA}")),
            format!("feature/x/{SHA}")
        );
        assert_eq!(to_v1beta1(&format!("sha1:{SHA}")), format!("HEAD/{SHA}"));
        assert_eq!(to_v1beta1("garbage"), "garbage");
    }

    #[test]
    fn parse_round_trips() {
        for r in [
            Revision::new(Some("main"), SHA),
            Revision::new(Some("refs/heads/feature/x"), SHA),
            Revision::new(None, SHA),
        ] {
            assert_eq!(Revision::parse(&r.to_v1()), Some(r.clone()));
            assert_eq!(Revision::parse(&r.to_v1beta1()), Some(r.clone()));
        }
        assert_eq!(Revision::parse("main@sha1:abc"), None);
        assert_eq!(
            Revision::parse(&format!("sha1:{}", SHA.to_uppercase())),
            None
        );
    }
}
