//! The next version: explicit, or bumped from the changes' kinds.
//!
//! Under `--bump auto` a breaking change bumps major, a `minor-types` change (feat) minor,
//! a `patch-types` change (fix) patch. Below 1.0.0 every level moves one place to the
//! right, as semver's 0.x (and Cargo's caret rule) treat the leftmost non-zero part as the
//! compatibility boundary: for 0.y.z a breaking change bumps y, anything else bumps z; for
//! 0.0.z everything bumps z. A repository without any version tag starts at 0.1.0.

use semver::Version;

use crate::config::ReleaseConfig;
use crate::error::{Error, Result};
use crate::notes::Notes;

/// How `create` picks the version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSpec {
    /// A version given by hand (`1.2.3` or `v1.2.3`).
    Exact(String),
    /// From the changes' titles.
    Auto,
    /// A forced level.
    Bump(Level),
}

impl VersionSpec {
    /// `auto`, `major`, `minor`, `patch`, or a version.
    pub fn parse(s: &str) -> VersionSpec {
        match s {
            "auto" => VersionSpec::Auto,
            "major" => VersionSpec::Bump(Level::Major),
            "minor" => VersionSpec::Bump(Level::Minor),
            "patch" => VersionSpec::Bump(Level::Patch),
            other => VersionSpec::Exact(other.to_string()),
        }
    }
}

/// A bump level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Patch,
    Minor,
    Major,
}

/// Parses `1.2.3`, `v1.2.3` or `<prefix>1.2.3`.
pub fn parse_version(s: &str, prefix: &str) -> Result<Version> {
    let bare = s
        .strip_prefix(prefix)
        .filter(|_| !prefix.is_empty())
        .or_else(|| s.strip_prefix('v'))
        .unwrap_or(s);
    Version::parse(bare).map_err(|_| Error::NotSemver(s.to_string()))
}

/// The highest level the notes call for, if any.
pub fn level_of(notes: &Notes, cfg: &ReleaseConfig) -> Option<Level> {
    notes
        .entries()
        .filter_map(|e| {
            let kind = e.kind.as_deref()?;
            if e.breaking {
                Some(Level::Major)
            } else if cfg.minor_types.iter().any(|t| t == kind) {
                Some(Level::Minor)
            } else if cfg.patch_types.iter().any(|t| t == kind) {
                Some(Level::Patch)
            } else {
                None
            }
        })
        .max()
}

/// `last` bumped by `level`, with the 0.x shift.
pub fn bump(last: &Version, level: Level) -> Version {
    let level = match (last.major, last.minor, level) {
        (0, 0, _) => Level::Patch,
        (0, _, Level::Major) => Level::Minor,
        (0, _, _) => Level::Patch,
        _ => level,
    };
    match level {
        Level::Major => Version::new(last.major + 1, 0, 0),
        Level::Minor => Version::new(last.major, last.minor + 1, 0),
        // 1.2.3-rc.1 → 1.2.3: a patch bump of a pre-release releases it.
        Level::Patch if !last.pre.is_empty() => Version::new(last.major, last.minor, last.patch),
        Level::Patch => Version::new(last.major, last.minor, last.patch + 1),
    }
}

/// The version `spec` names, after `last` (the last release, if any).
pub fn next_version(
    spec: &VersionSpec,
    last: Option<&Version>,
    notes: &Notes,
    cfg: &ReleaseConfig,
) -> Result<Version> {
    let next = match spec {
        VersionSpec::Exact(s) => parse_version(s, &cfg.tag_prefix)?,
        VersionSpec::Auto => {
            let level =
                level_of(notes, cfg).ok_or_else(|| Error::NothingToBump(notes.range.clone()))?;
            match last {
                Some(l) => bump(l, level),
                None => Version::new(0, 1, 0),
            }
        }
        VersionSpec::Bump(level) => match last {
            Some(l) => bump(l, *level),
            None => Version::new(0, 1, 0),
        },
    };
    if let Some(l) = last {
        if next <= *l {
            return Err(Error::NotGreater {
                new: next.to_string(),
                last: l.to_string(),
            });
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn bumps_from_one() {
        assert_eq!(bump(&v("1.2.3"), Level::Major), v("2.0.0"));
        assert_eq!(bump(&v("1.2.3"), Level::Minor), v("1.3.0"));
        assert_eq!(bump(&v("1.2.3"), Level::Patch), v("1.2.4"));
        assert_eq!(bump(&v("1.3.0-rc.1"), Level::Patch), v("1.3.0"));
    }

    #[test]
    fn zero_x_shifts_right() {
        assert_eq!(bump(&v("0.3.1"), Level::Major), v("0.4.0"));
        assert_eq!(bump(&v("0.3.1"), Level::Minor), v("0.3.2"));
        assert_eq!(bump(&v("0.3.1"), Level::Patch), v("0.3.2"));
        assert_eq!(bump(&v("0.0.4"), Level::Major), v("0.0.5"));
    }

    #[test]
    fn parse_with_prefixes() {
        assert_eq!(parse_version("v1.2.3", "v").unwrap(), v("1.2.3"));
        assert_eq!(parse_version("1.2.3", "v").unwrap(), v("1.2.3"));
        assert_eq!(parse_version("rel-1.2.3", "rel-").unwrap(), v("1.2.3"));
        assert!(matches!(
            parse_version("1.2", "v"),
            Err(Error::NotSemver(_))
        ));
    }

    #[test]
    fn explicit_must_be_greater() {
        let notes = Notes {
            title: String::new(),
            date: String::new(),
            range: "a..b".into(),
            sections: vec![],
        };
        let cfg = ReleaseConfig::default();
        let last = v("1.2.3");
        let spec = VersionSpec::parse("1.2.3");
        assert!(matches!(
            next_version(&spec, Some(&last), &notes, &cfg),
            Err(Error::NotGreater { .. })
        ));
        let spec = VersionSpec::parse("1.3.0");
        assert_eq!(
            next_version(&spec, Some(&last), &notes, &cfg).unwrap(),
            v("1.3.0")
        );
        assert!(matches!(
            next_version(&VersionSpec::Auto, Some(&last), &notes, &cfg),
            Err(Error::NothingToBump(_))
        ));
    }
}
