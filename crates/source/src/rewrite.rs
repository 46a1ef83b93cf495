//! git's `url.<base>.insteadOf` rewrites, read from the user's git configuration, so a local
//! mirror can stand in for a remote. As in git, the longest matching prefix wins.

use std::path::{Path, PathBuf};

/// A set of `insteadOf` rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlRewriter {
    /// (prefix to replace, replacement base)
    rules: Vec<(String, String)>,
}

impl UrlRewriter {
    /// No rewriting.
    pub fn none() -> Self {
        Self::default()
    }

    /// Rules from the user's global git configuration: `$GIT_CONFIG_GLOBAL` if set, else
    /// `$XDG_CONFIG_HOME/git/config` (or `~/.config/git/config`) and `~/.gitconfig`.
    /// Unreadable files are skipped.
    pub fn from_user_config() -> Self {
        Self::from_files(&user_config_paths())
    }

    /// Rules from these config files (later files are read after earlier ones).
    pub fn from_files(paths: &[PathBuf]) -> Self {
        let mut r = UrlRewriter::default();
        for p in paths {
            if let Ok(text) = std::fs::read(p) {
                r.add_config_text(&text);
            }
        }
        r
    }

    /// Adds the rules of one git config file's text; malformed text adds nothing.
    pub fn add_config_text(&mut self, text: &[u8]) {
        let Ok(file) = gix::config::File::from_bytes_no_includes(
            text,
            gix::config::file::Metadata::from(gix::config::Source::User),
            Default::default(),
        ) else {
            return;
        };
        let Some(sections) = file.sections_by_name("url") else {
            return;
        };
        for section in sections {
            let Some(base) = section.header().subsection_name() else {
                continue;
            };
            for v in section.values("insteadOf") {
                self.rules.push((v.to_string(), base.to_string()));
            }
        }
    }

    /// Adds one rule: URLs starting with `instead_of` are rewritten to start with `base`.
    pub fn add(&mut self, base: &str, instead_of: &str) {
        self.rules.push((instead_of.to_string(), base.to_string()));
    }

    /// Rewrites `url` with the longest matching rule (the first of equal length).
    pub fn rewrite(&self, url: &str) -> String {
        let mut best: Option<&(String, String)> = None;
        for rule in &self.rules {
            if url.starts_with(rule.0.as_str()) && best.is_none_or(|b| rule.0.len() > b.0.len()) {
                best = Some(rule);
            }
        }
        match best {
            Some((prefix, base)) => format!("{base}{}", &url[prefix.len()..]),
            None => url.to_string(),
        }
    }
}

fn user_config_paths() -> Vec<PathBuf> {
    if let Some(p) = std::env::var_os("GIT_CONFIG_GLOBAL") {
        return vec![PathBuf::from(p)];
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".config")));
    let mut out = Vec::new();
    if let Some(x) = xdg {
        out.push(x.join("git").join("config"));
    }
    if let Some(h) = home {
        out.push(Path::new(&h).join(".gitconfig"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins() {
        let mut r = UrlRewriter::none();
        r.add_config_text(
            b"[url \"file:///mirror/\"]\n\tinsteadOf = https://github.com/\n\
              [url \"file:///special/\"]\n\tinsteadOf = https://github.com/org/\n",
        );
        assert_eq!(
            r.rewrite("https://github.com/x/y.git"),
            "file:///mirror/x/y.git"
        );
        assert_eq!(
            r.rewrite("https://github.com/org/y.git"),
            "file:///special/y.git"
        );
        assert_eq!(r.rewrite("https://gitlab.com/a"), "https://gitlab.com/a");
    }

    #[test]
    fn malformed_config_is_ignored() {
        let mut r = UrlRewriter::none();
        r.add_config_text(b"[url \"broken");
        assert_eq!(r.rewrite("https://x"), "https://x");
    }
}
