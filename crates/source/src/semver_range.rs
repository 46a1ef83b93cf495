//! Semver ranges in the Masterminds (`github.com/Masterminds/semver/v3`) syntax Flux uses, and
//! the lenient tag parsing that goes with it (`v` prefix, `1.2` read as `1.2.0`).
//!
//! Syntax: groups separated by `||` (any group may match); inside a group, comparators
//! separated by spaces or commas (all must match). A comparator is `=`, `!=`, `>`, `>=`, `<`,
//! `<=` (also `=>`, `=<`), `~`/`~>` (patch-level changes), `^` (no change of the left-most
//! non-zero part), a hyphen range `1.2 - 1.4.5`, or a bare version where `x`, `X`, `*` or a
//! missing part is a wildcard (`1.2.x`, `1.2`, `*`). A pre-release version matches only a group
//! that names a pre-release itself.

use semver::{Prerelease, Version};

/// A parsed range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    groups: Vec<Vec<Cmp>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Cmp {
    op: Op,
    v: Version,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A version as written in a range: missing or wildcard parts are `None`.
struct Partial {
    major: Option<u64>,
    minor: Option<u64>,
    patch: Option<u64>,
    pre: Prerelease,
}

impl Partial {
    fn floor(&self) -> Version {
        let mut v = Version::new(
            self.major.unwrap_or(0),
            self.minor.unwrap_or(0),
            self.patch.unwrap_or(0),
        );
        v.pre = self.pre.clone();
        v
    }
}

impl Range {
    /// Parses a Masterminds range; the error is a one-line reason.
    pub fn parse(s: &str) -> Result<Range, String> {
        let mut groups = Vec::new();
        for group in s.split("||") {
            let cmps =
                parse_group(group).map_err(|e| format!("invalid semver range '{s}': {e}"))?;
            groups.push(cmps);
        }
        Ok(Range { groups })
    }

    /// True when `v` satisfies the range.
    pub fn matches(&self, v: &Version) -> bool {
        self.groups.iter().any(|g| {
            if !v.pre.is_empty() && !g.iter().any(|c| !c.v.pre.is_empty()) {
                return false;
            }
            g.iter().all(|c| c.matches(v))
        })
    }
}

impl Cmp {
    fn matches(&self, v: &Version) -> bool {
        let o = cmp_ignoring_build(v, &self.v);
        use std::cmp::Ordering::*;
        match self.op {
            Op::Eq => o == Equal,
            Op::Ne => o != Equal,
            Op::Gt => o == Greater,
            Op::Ge => o != Less,
            Op::Lt => o == Less,
            Op::Le => o != Greater,
        }
    }
}

fn cmp_ignoring_build(a: &Version, b: &Version) -> std::cmp::Ordering {
    (a.major, a.minor, a.patch, &a.pre).cmp(&(b.major, b.minor, b.patch, &b.pre))
}

fn parse_group(group: &str) -> Result<Vec<Cmp>, String> {
    // Tokens: split on whitespace and commas, then glue an operator written apart from its
    // version (`>= 1.2`) and hyphen ranges (`1.2 - 1.4`).
    let raw: Vec<&str> = group
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    if raw.is_empty() {
        return Err("empty constraint".into());
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let mut tok = raw[i].to_string();
        if tok.chars().all(|c| "<>=!~^".contains(c)) {
            let next = raw.get(i + 1).ok_or("operator without a version")?;
            tok.push_str(next);
            i += 1;
        }
        if raw.get(i + 1) == Some(&"-") {
            let hi = raw
                .get(i + 2)
                .ok_or("hyphen range without an upper bound")?;
            let lo = parse_partial(&tok)?;
            let hi = parse_partial(hi)?;
            out.push(Cmp {
                op: Op::Ge,
                v: lo.floor(),
            });
            out.extend(upper_inclusive(&hi));
            i += 3;
            continue;
        }
        out.extend(parse_cmp(&tok)?);
        i += 1;
    }
    Ok(out)
}

fn parse_cmp(tok: &str) -> Result<Vec<Cmp>, String> {
    let ops = [
        ("~>", "~"),
        (">=", ">="),
        ("=>", ">="),
        ("<=", "<="),
        ("=<", "<="),
        ("!=", "!="),
        (">", ">"),
        ("<", "<"),
        ("=", "="),
        ("~", "~"),
        ("^", "^"),
    ];
    let (op, rest) = ops
        .iter()
        .find_map(|(p, op)| tok.strip_prefix(p).map(|r| (*op, r)))
        .unwrap_or(("=", tok));
    let p = parse_partial(rest.trim())?;
    let f = p.floor();
    let ge = |v: Version| Cmp { op: Op::Ge, v };
    let lt = |v: Version| Cmp { op: Op::Lt, v };
    Ok(match op {
        "=" if p.major.is_none() => vec![ge(Version::new(0, 0, 0))],
        "=" if p.patch.is_none() => vec![ge(f), lt(bump_wild(&p))],
        "=" => vec![Cmp { op: Op::Eq, v: f }],
        "!=" => vec![Cmp { op: Op::Ne, v: f }],
        ">=" => vec![ge(f)],
        "<" => vec![lt(f)],
        ">" if p.major.is_none() => vec![lt(Version::new(0, 0, 0))],
        ">" if p.patch.is_none() => vec![ge(bump_wild(&p))],
        ">" => vec![Cmp { op: Op::Gt, v: f }],
        "<=" => upper_inclusive(&p),
        "~" => {
            let hi = match (p.major, p.minor) {
                (None, _) => return Ok(vec![ge(Version::new(0, 0, 0))]),
                (Some(m), None) => Version::new(m + 1, 0, 0),
                (Some(m), Some(n)) => Version::new(m, n + 1, 0),
            };
            vec![ge(f), lt(hi)]
        }
        _ => {
            // `^`
            let hi = match (p.major, p.minor, p.patch) {
                (None, _, _) => return Ok(vec![ge(Version::new(0, 0, 0))]),
                (Some(m), _, _) if m > 0 => Version::new(m + 1, 0, 0),
                (Some(0), None, _) => Version::new(1, 0, 0),
                (Some(0), Some(n), _) if n > 0 => Version::new(0, n + 1, 0),
                (Some(0), Some(0), None) => Version::new(0, 1, 0),
                (Some(0), Some(0), Some(pa)) => Version::new(0, 0, pa + 1),
                _ => Version::new(1, 0, 0),
            };
            vec![ge(f), lt(hi)]
        }
    })
}

/// `<= p`: with wildcards, everything below the next value of the last given part.
fn upper_inclusive(p: &Partial) -> Vec<Cmp> {
    if p.major.is_none() {
        return vec![Cmp {
            op: Op::Ge,
            v: Version::new(0, 0, 0),
        }];
    }
    if p.patch.is_none() {
        return vec![Cmp {
            op: Op::Lt,
            v: bump_wild(p),
        }];
    }
    vec![Cmp {
        op: Op::Le,
        v: p.floor(),
    }]
}

/// The first version above a partial one: `1.2` → `1.3.0`, `1` → `2.0.0`.
fn bump_wild(p: &Partial) -> Version {
    match (p.major.unwrap_or(0), p.minor) {
        (m, None) => Version::new(m + 1, 0, 0),
        (m, Some(n)) => Version::new(m, n + 1, 0),
    }
}

fn parse_partial(s: &str) -> Result<Partial, String> {
    let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
    let (core, pre) = split_pre(s);
    let pre = match pre {
        Some(p) => Prerelease::new(p).map_err(|e| format!("'{s}': {e}"))?,
        None => Prerelease::EMPTY,
    };
    let mut parts = [None, None, None];
    let mut wild = false;
    let items: Vec<&str> = core.split('.').collect();
    if items.len() > 3 || core.is_empty() {
        return Err(format!("'{s}' is not a version"));
    }
    for (slot, item) in parts.iter_mut().zip(&items) {
        if matches!(*item, "x" | "X" | "*") {
            wild = true;
            continue;
        }
        if wild {
            return Err(format!("'{s}': a number after a wildcard"));
        }
        *slot = Some(
            item.parse::<u64>()
                .map_err(|_| format!("'{s}' is not a version"))?,
        );
    }
    Ok(Partial {
        major: parts[0],
        minor: parts[1],
        patch: parts[2],
        pre,
    })
}

fn split_pre(s: &str) -> (&str, Option<&str>) {
    let s = s.split_once('+').map_or(s, |(a, _)| a);
    match s.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    }
}

/// Parses a tag as Masterminds `NewVersion` does: optional `v`, one to three numeric parts,
/// optional pre-release and build. `None` for anything else (such tags are ignored).
pub fn parse_tag_version(tag: &str) -> Option<Version> {
    let s = tag.strip_prefix('v').unwrap_or(tag);
    let (core, build) = match s.split_once('+') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let (nums, pre) = match core.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (core, None),
    };
    let items: Vec<&str> = nums.split('.').collect();
    if items.is_empty() || items.len() > 3 {
        return None;
    }
    let mut n = [0u64; 3];
    for (slot, item) in n.iter_mut().zip(&items) {
        if item.is_empty() || !item.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = item.parse().ok()?;
    }
    let mut v = Version::new(n[0], n[1], n[2]);
    if let Some(p) = pre {
        v.pre = Prerelease::new(p).ok()?;
    }
    if let Some(b) = build {
        v.build = semver::BuildMetadata::new(b).ok()?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(range: &str, v: &str) -> bool {
        let r = Range::parse(range).unwrap();
        r.matches(&parse_tag_version(v).unwrap())
    }

    #[test]
    fn comparison_pairs() {
        assert!(m(">=0.1.0 <0.2.0", "0.1.5"));
        assert!(!m(">=0.1.0 <0.2.0", "0.2.0"));
        assert!(m(">=0.1.0, <0.2.0", "0.1.0"));
        assert!(m(">= 1.2, < 2", "1.9.9"));
        assert!(!m("> 1.2.3", "1.2.3"));
        assert!(m("!=1.2.3", "1.2.4"));
        assert!(!m("!=1.2.3", "1.2.3"));
    }

    #[test]
    fn tilde_caret_wildcards() {
        assert!(m("~0.1", "0.1.9"));
        assert!(!m("~0.1", "0.2.0"));
        assert!(m("~1.2.3", "1.2.7"));
        assert!(!m("~1.2.3", "1.3.0"));
        assert!(m("~>1", "1.9.0"));
        assert!(m("0.1.x", "0.1.3"));
        assert!(!m("0.1.x", "0.2.0"));
        assert!(m("1.x", "1.7.0"));
        assert!(m("*", "3.0.0"));
        assert!(m("^1.2", "1.9.0"));
        assert!(!m("^1.2", "2.0.0"));
        assert!(!m("^1.2", "1.1.0"));
        assert!(m("^0.2.3", "0.2.9"));
        assert!(!m("^0.2.3", "0.3.0"));
        assert!(m("^0.0.3", "0.0.3"));
        assert!(!m("^0.0.3", "0.0.4"));
        assert!(m("<= 2.x", "2.9.0"));
        assert!(!m("<= 2.x", "3.0.0"));
        assert!(m("> 1.x", "2.0.0"));
        assert!(!m("> 1.x", "1.9.0"));
    }

    #[test]
    fn or_and_hyphen() {
        assert!(m("~0.1 || >=2.0.0", "2.3.0"));
        assert!(m("~0.1 || >=2.0.0", "0.1.1"));
        assert!(!m("~0.1 || >=2.0.0", "1.0.0"));
        assert!(m("1.2 - 1.4.5", "1.4.5"));
        assert!(!m("1.2 - 1.4.5", "1.4.6"));
        assert!(m("1.2 - 1.4", "1.4.9"));
        assert!(!m("1.2 - 1.4", "1.5.0"));
    }

    #[test]
    fn prerelease_needs_prerelease_constraint() {
        assert!(!m(">=1.0.0", "1.1.0-rc.1"));
        assert!(m(">=1.1.0-rc.0", "1.1.0-rc.1"));
        assert!(!m(">=1.1.0-rc.0", "1.0.0-rc.1"));
    }

    #[test]
    fn tag_parsing() {
        assert_eq!(parse_tag_version("v1.2.3"), Some(Version::new(1, 2, 3)));
        assert_eq!(parse_tag_version("1.2"), Some(Version::new(1, 2, 0)));
        assert_eq!(parse_tag_version("7"), Some(Version::new(7, 0, 0)));
        assert!(parse_tag_version("release-1").is_none());
        assert!(parse_tag_version("v1.2.3.4").is_none());
        assert!(parse_tag_version("latest").is_none());
        assert_eq!(
            parse_tag_version("v1.0.0-rc.1").map(|v| v.pre.to_string()),
            Some("rc.1".into())
        );
    }

    #[test]
    fn bad_ranges() {
        assert!(Range::parse("").is_err());
        assert!(Range::parse(">=").is_err());
        assert!(Range::parse("abc").is_err());
        assert!(Range::parse("1.x.3").is_err());
    }
}
