//! `flotilla.toml` at the repository root: the `[release]`, `[promote]` and `[diff]` tables.
//!
//! Every key is optional; an absent file means the defaults below. Other tables in the file
//! belong to other parts of Flotilla and are ignored here.
//!
//! ```toml
//! [release]
//! types = ["feat", "fix", "chore", "providers"]   # allowed title types
//! platform-types = ["providers", "tenants"]       # each gets its own notes section
//! scopes = ["aws", "gcp"]                          # allowed scopes; empty = any
//! require-scope = false
//! require-pr = false                               # demand the " (#N)" suffix
//! max-title-length = 100
//! tag-prefix = "v"
//! changelog = "CHANGELOG.md"
//! sections = { providers = "Cloud providers" }    # heading overrides
//! minor-types = ["feat"]                           # `--bump auto`: these bump minor,
//! patch-types = ["fix"]                            # these patch, breaking ones major
//!
//! [[promote.targets]]
//! env = "prod"
//! names = ["release"]                              # GitRepository name or namespace/name
//! labels = { "flotilla.dev/release" = "prod" }      # all must match
//! ref = "tag"                                      # or pick every GitRepository pinned by tag/semver/any
//!
//! [diff.envs]                                      # sourceRef name → environment
//! main = "non-prod"
//! release = "prod"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

/// The file name, at the repository root.
pub const FILE_NAME: &str = "flotilla.toml";

/// The whole configuration this crate reads.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "kebab-case")]
pub struct Config {
    pub release: ReleaseConfig,
    pub promote: PromoteConfig,
    pub diff: DiffConfig,
}

/// Title rules, notes sections, tags and the changelog.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "kebab-case")]
pub struct ReleaseConfig {
    pub types: Vec<String>,
    pub platform_types: Vec<String>,
    pub scopes: Vec<String>,
    pub require_scope: bool,
    pub require_pr: bool,
    pub max_title_length: usize,
    pub tag_prefix: String,
    pub changelog: String,
    pub sections: BTreeMap<String, String>,
    /// Types that bump the minor version under `--bump auto` (breaking changes bump major).
    pub minor_types: Vec<String>,
    /// Types that bump the patch version under `--bump auto`.
    pub patch_types: Vec<String>,
}

/// The standard conventional types, in the order their notes sections appear.
pub const STANDARD_TYPES: &[&str] = &[
    "feat", "fix", "perf", "revert", "refactor", "docs", "test", "build", "ci", "chore",
];

/// Platform repository types (see DESIGN §8), each with its own notes section.
pub const PLATFORM_TYPES: &[&str] = &["providers", "tenants", "features", "clusters"];

impl Default for ReleaseConfig {
    fn default() -> Self {
        let types = STANDARD_TYPES.iter().chain(PLATFORM_TYPES);
        ReleaseConfig {
            types: types.map(|t| t.to_string()).collect(),
            platform_types: PLATFORM_TYPES.iter().map(|t| t.to_string()).collect(),
            scopes: Vec::new(),
            require_scope: false,
            require_pr: false,
            max_title_length: 100,
            tag_prefix: "v".into(),
            changelog: "CHANGELOG.md".into(),
            sections: BTreeMap::new(),
            minor_types: vec!["feat".into()],
            patch_types: vec!["fix".into()],
        }
    }
}

impl ReleaseConfig {
    /// The notes heading for a type.
    pub fn heading(&self, kind: &str) -> String {
        if let Some(h) = self.sections.get(kind) {
            return h.clone();
        }
        match kind {
            "feat" => "Features",
            "fix" => "Bug fixes",
            "perf" => "Performance",
            "revert" => "Reverts",
            "refactor" => "Refactoring",
            "docs" => "Documentation",
            "test" => "Tests",
            "build" => "Build",
            "ci" => "Continuous integration",
            "chore" => "Chores",
            "providers" => "Providers",
            "tenants" => "Tenants",
            "features" => "Platform features",
            "clusters" => "Clusters",
            other => return capitalize(other),
        }
        .to_string()
    }

    /// The tag name for a version.
    pub fn tag_name(&self, version: &semver::Version) -> String {
        format!("{}{}", self.tag_prefix, version)
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Which GitRepository objects pin each environment's release.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "kebab-case")]
pub struct PromoteConfig {
    pub targets: Vec<PromoteTarget>,
    pub branch_prefix: String,
    pub remote: String,
}

impl Default for PromoteConfig {
    fn default() -> Self {
        PromoteConfig {
            targets: vec![PromoteTarget {
                env: "prod".into(),
                names: vec!["release".into()],
                labels: BTreeMap::new(),
                ref_kind: None,
            }],
            branch_prefix: "promote/".into(),
            remote: "origin".into(),
        }
    }
}

/// One environment's selector. A GitRepository is selected when any given criterion
/// matches: its name, all of its labels, or the kind of ref it pins.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "kebab-case")]
pub struct PromoteTarget {
    pub env: String,
    pub names: Vec<String>,
    pub labels: BTreeMap<String, String>,
    #[serde(rename = "ref")]
    pub ref_kind: Option<String>,
}

/// Environments for `diff`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "kebab-case")]
pub struct DiffConfig {
    /// sourceRef name → environment.
    pub envs: BTreeMap<String, String>,
    /// Environment of a Kustomization whose source is in no map entry.
    pub default_env: String,
    /// Cluster of a Kustomization without `spec.kubeConfig`.
    pub mgmt_cluster: String,
}

impl Default for DiffConfig {
    fn default() -> Self {
        DiffConfig {
            envs: [("main", "non-prod"), ("release", "prod")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            default_env: "non-prod".into(),
            mgmt_cluster: "mgmt".into(),
        }
    }
}

impl Config {
    /// Parses the text of a `flotilla.toml`.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config> {
        toml::from_str(text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string().lines().next().unwrap_or("").to_string(),
        })
    }

    /// Reads `flotilla.toml` in `root`, or the defaults when there is none.
    pub fn load(root: &Path) -> Result<Config> {
        let path = root.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::from_toml(&text, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(Error::Io { path, source: e }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_include_platform_types() {
        let c = Config::default();
        assert!(c.release.types.iter().any(|t| t == "tenants"));
        assert_eq!(c.release.heading("fix"), "Bug fixes");
        assert_eq!(c.release.heading("weird"), "Weird");
        assert_eq!(c.diff.envs["release"], "prod");
    }

    #[test]
    fn parses_partial_file() {
        let text = r#"
[release]
types = ["feat", "fix"]
scopes = ["aws"]
sections = { fix = "Fixes" }

[[promote.targets]]
env = "prod"
labels = { "flotilla.dev/release" = "prod" }
ref = "tag"

[other]
ignored = true
"#;
        let c = Config::from_toml(text, Path::new("flotilla.toml")).unwrap();
        assert_eq!(c.release.types, ["feat", "fix"]);
        assert_eq!(c.release.heading("fix"), "Fixes");
        assert_eq!(c.release.tag_prefix, "v");
        assert_eq!(c.promote.targets[0].ref_kind.as_deref(), Some("tag"));
        assert_eq!(c.promote.remote, "origin");
    }

    #[test]
    fn bad_file_names_path() {
        let err = Config::from_toml("[release]\ntypes = 3", Path::new("x/flotilla.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("x/flotilla.toml:"), "{err}");
    }
}
