//! Which files of a tree go into an artifact: Flux's `sourceignore` rules.
//!
//! Patterns use .gitignore syntax with the matching semantics of go-git's `gitignore`
//! package, which Flux uses: each pattern carries a *domain* (the directory of the
//! `.sourceignore` file it came from), the last matching pattern decides, `!` re-includes, a
//! trailing `/` matches directories only, a pattern with a `/` inside is anchored, `**` spans
//! directories. Files are matched one by one (a re-included file inside an excluded directory
//! is kept, as in Flux).
//!
//! The set applied to a tree is Flux's: the VCS excludes always; then either the patterns
//! from `.sourceignore` files plus `spec.ignore`, or, when there are none, Flux's defaults
//! (images, archives, CI configuration, release tooling files).

/// Always excluded.
pub const EXCLUDE_VCS: &str = ".git/,.gitignore,.gitmodules,.gitattributes";
/// Default excludes: file types.
pub const EXCLUDE_EXT: &str = "*.jpg,*.jpeg,*.gif,*.png,*.wmv,*.flv,*.tar.gz,*.zip";
/// Default excludes: CI configuration.
pub const EXCLUDE_CI: &str = ".github/,.circleci/,.travis.yml,.gitlab-ci.yml,appveyor.yml,.drone.yml,cloudbuild.yaml,codeship-services.yml,codeship-steps.yml";
/// Default excludes: tooling files anywhere.
pub const EXCLUDE_EXTRA: &str = "**/.goreleaser.yml,**/.sops.yaml,**/.flux.yaml";
/// The per-directory ignore file.
pub const IGNORE_FILE: &str = ".sourceignore";

/// One parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    domain: Vec<String>,
    parts: Vec<String>,
    /// `parts` as characters, so matching allocates nothing per file.
    chars: Vec<Vec<char>>,
    inclusion: bool,
    dir_only: bool,
    is_glob: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    NoMatch,
    Exclude,
    Include,
}

impl Pattern {
    /// Parses one pattern line relative to `domain` (path components of its directory).
    pub fn parse(line: &str, domain: &[String]) -> Pattern {
        let mut p = line;
        let inclusion = p.starts_with('!');
        if inclusion {
            p = &p[1..];
        }
        if !p.ends_with("\\ ") {
            p = p.trim_end_matches(' ');
        }
        let dir_only = p.ends_with('/');
        if dir_only {
            p = &p[..p.len() - 1];
        }
        Pattern {
            domain: domain.to_vec(),
            parts: p.split('/').map(str::to_string).collect(),
            chars: p.split('/').map(|s| s.chars().collect()).collect(),
            inclusion,
            dir_only,
            is_glob: p.contains('/'),
        }
    }

    fn outcome(&self, path: &[&str], chars: &[Vec<char>], is_dir: bool) -> Outcome {
        if path.len() <= self.domain.len() {
            return Outcome::NoMatch;
        }
        if self.domain.iter().zip(path).any(|(d, p)| d != p) {
            return Outcome::NoMatch;
        }
        let path = &chars[self.domain.len()..];
        let hit = if self.is_glob {
            self.glob_match(path, is_dir)
        } else {
            self.simple_match(path, is_dir)
        };
        match (hit, self.inclusion) {
            (false, _) => Outcome::NoMatch,
            (true, true) => Outcome::Include,
            (true, false) => Outcome::Exclude,
        }
    }

    fn simple_match(&self, path: &[Vec<char>], is_dir: bool) -> bool {
        for (i, name) in path.iter().enumerate() {
            if !fnmatch_chars(&self.chars[0], name) {
                continue;
            }
            return !(self.dir_only && !is_dir && i == path.len() - 1);
        }
        false
    }

    fn glob_match(&self, mut path: &[Vec<char>], is_dir: bool) -> bool {
        let mut matched = false;
        let mut traverse = false;
        for (i, (pat, pchars)) in self.parts.iter().zip(&self.chars).enumerate() {
            if pat.is_empty() {
                traverse = false;
                continue;
            }
            if pat == "**" {
                if i == self.parts.len() - 1 {
                    break;
                }
                traverse = true;
                continue;
            }
            if pat.contains("**") || path.is_empty() {
                return false;
            }
            if traverse {
                traverse = false;
                while let Some((first, rest)) = path.split_first() {
                    path = rest;
                    if fnmatch_chars(pchars, first) {
                        matched = true;
                        break;
                    } else if path.is_empty() {
                        matched = false;
                    }
                }
            } else {
                if !fnmatch_chars(pchars, &path[0]) {
                    return false;
                }
                matched = true;
                path = &path[1..];
            }
        }
        if matched && self.dir_only && !is_dir && path.is_empty() {
            matched = false;
        }
        matched
    }
}

/// Reads patterns from ignore-file text: blank lines and `#` comments skipped.
pub fn read_patterns(text: &str, domain: &[String]) -> Vec<Pattern> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| Pattern::parse(l, domain))
        .collect()
}

fn split_list(list: &str) -> Vec<Pattern> {
    list.split(',').map(|p| Pattern::parse(p, &[])).collect()
}

/// A set of patterns; the last one that matches a path decides.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    patterns: Vec<Pattern>,
}

impl Matcher {
    /// Flux's matcher for `user` patterns (`.sourceignore` files, then `spec.ignore`): the VCS
    /// excludes, then the defaults when `user` is empty, else `user`.
    pub fn flux(user: Vec<Pattern>) -> Matcher {
        let mut patterns = split_list(EXCLUDE_VCS);
        if user.is_empty() {
            for list in [EXCLUDE_EXT, EXCLUDE_CI, EXCLUDE_EXTRA] {
                patterns.extend(split_list(list));
            }
        } else {
            patterns.extend(user);
        }
        Matcher { patterns }
    }

    /// A matcher over exactly these patterns.
    pub fn new(patterns: Vec<Pattern>) -> Matcher {
        Matcher { patterns }
    }

    /// True when the file at `path` (slash-separated, relative to the root) is excluded.
    pub fn is_excluded(&self, path: &str, is_dir: bool) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        let chars: Vec<Vec<char>> = parts.iter().map(|p| p.chars().collect()).collect();
        for p in self.patterns.iter().rev() {
            match p.outcome(&parts, &chars, is_dir) {
                Outcome::NoMatch => continue,
                Outcome::Exclude => return true,
                Outcome::Include => return false,
            }
        }
        false
    }
}

/// Go's `filepath.Match` on one path component: `*`, `?`, `[...]` (with `^` negation and
/// ranges) and `\` escapes. A malformed pattern matches nothing.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    fnmatch_chars(&p, &n)
}

fn fnmatch_chars(p: &[char], n: &[char]) -> bool {
    matches_at(p, n).unwrap_or(false)
}

fn matches_at(p: &[char], n: &[char]) -> Option<bool> {
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' if ni < n.len() && n[ni] != '/' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' if ni < n.len() => {
                    let (ok, next) = class(p, pi, n[ni])?;
                    if ok {
                        pi = next;
                        ni += 1;
                        continue;
                    }
                }
                '\\' => {
                    let c = *p.get(pi + 1)?;
                    if ni < n.len() && n[ni] == c {
                        pi += 2;
                        ni += 1;
                        continue;
                    }
                }
                c if c != '?' && c != '[' && ni < n.len() && n[ni] == c => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        } else if ni == n.len() {
            return Some(true);
        }
        match star {
            Some((sp, sn)) if sn < n.len() && n[sn] != '/' => {
                star = Some((sp, sn + 1));
                pi = sp + 1;
                ni = sn + 1;
            }
            _ => return Some(false),
        }
    }
}

/// Matches `c` against the class starting at `p[start] == '['`; returns (hit, index after `]`).
fn class(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = p.get(i) == Some(&'^');
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    loop {
        let mut lo = *p.get(i)?;
        if lo == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        if lo == '\\' {
            i += 1;
            lo = *p.get(i)?;
        }
        i += 1;
        let mut hi = lo;
        if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&x| x != ']') {
            hi = p[i + 1];
            if hi == '\\' {
                hi = *p.get(i + 2)?;
                i += 1;
            }
            i += 2;
        }
        if lo <= c && c <= hi {
            hit = true;
        }
    }
    Some((hit != negate, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(patterns: &str, path: &str) -> bool {
        Matcher::new(read_patterns(patterns, &[])).is_excluded(path, false)
    }

    #[test]
    fn fnmatch_basics() {
        assert!(fnmatch("*.yaml", "a.yaml"));
        assert!(!fnmatch("*.yaml", "a.yml"));
        assert!(fnmatch("a?c", "abc"));
        assert!(fnmatch("[a-c]x", "bx"));
        assert!(!fnmatch("[^a-c]x", "bx"));
        assert!(fnmatch("\\*", "*"));
        assert!(!fnmatch("[", "["));
        assert!(fnmatch("*", ""));
    }

    #[test]
    fn gitignore_rules() {
        assert!(m("*.md", "docs/readme.md"));
        assert!(m("build/", "build/out/x.yaml"));
        assert!(!m("build/", "build"));
        assert!(m("/only-root.yaml", "only-root.yaml"));
        assert!(!m("/only-root.yaml", "sub/only-root.yaml"));
        assert!(m("docs/*.md", "docs/a.md"));
        assert!(!m("docs/*.md", "x/docs/a.md"));
        assert!(m("**/secret.yaml", "a/b/secret.yaml"));
        assert!(m("**/secret.yaml", "secret.yaml"));
        assert!(m("a/**", "a/b/c"));
        assert!(m("a/**/z.yaml", "a/b/c/z.yaml"));
        assert!(m("*.yaml\n!keep.yaml", "x.yaml"));
        assert!(!m("*.yaml\n!keep.yaml", "dir/keep.yaml"));
        assert!(!m("# comment\n\n", "x"));
    }

    #[test]
    fn domains_scope_patterns() {
        let domain = vec!["apps".to_string()];
        let mt = Matcher::new(read_patterns("*.txt", &domain));
        assert!(mt.is_excluded("apps/notes.txt", false));
        assert!(!mt.is_excluded("notes.txt", false));
        assert!(!mt.is_excluded("infra/notes.txt", false));
    }

    #[test]
    fn flux_defaults() {
        let d = Matcher::flux(vec![]);
        for p in [
            ".gitignore",
            "sub/.gitmodules",
            "logo.png",
            "a/b/pic.jpg",
            "x.tar.gz",
            ".github/workflows/ci.yaml",
            "deep/.sops.yaml",
            ".goreleaser.yml",
        ] {
            assert!(d.is_excluded(p, false), "{p}");
        }
        assert!(!d.is_excluded("apps/deploy.yaml", false));
        // User patterns replace the defaults but never the VCS excludes.
        let u = Matcher::flux(read_patterns("*.md", &[]));
        assert!(!u.is_excluded("logo.png", false));
        assert!(u.is_excluded("README.md", false));
        assert!(u.is_excluded(".gitignore", false));
    }
}
