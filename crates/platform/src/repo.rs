//! A platform repository on disk: where its layers live (DESIGN §8) and the `[platform]`
//! table of `flotilla.toml`.
//!
//! ```toml
//! [platform]
//! provider = "aws"          # providers/<provider>/<version>/
//! version = "v1"
//! default-source = "main"   # the GitRepository (flux-system) environments follow
//! prod-envs = ["prod"]      # environments that must never follow `main`
//!
//! [platform.sources]        # per-environment override of default-source
//! prod = "release"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// The configuration file at the repository root (shared with `flotilla-release`).
pub const CONFIG_FILE: &str = "flotilla.toml";

/// The `[platform]` table.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "kebab-case")]
pub struct PlatformConfig {
    pub provider: String,
    pub version: String,
    pub default_source: String,
    pub prod_envs: Vec<String>,
    pub sources: BTreeMap<String, String>,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        PlatformConfig {
            provider: String::new(),
            version: String::new(),
            default_source: "main".into(),
            prod_envs: vec!["prod".into()],
            sources: BTreeMap::new(),
        }
    }
}

impl PlatformConfig {
    /// The GitRepository (in `flux-system`) the Kustomizations of `env` follow: the
    /// `[platform.sources]` entry, else `release` for a prod environment, else
    /// `default-source`.
    pub fn source_for(&self, env: &str) -> String {
        if let Some(s) = self.sources.get(env) {
            return s.clone();
        }
        if self.is_prod(env) {
            return "release".into();
        }
        self.default_source.clone()
    }

    /// Whether `env` is a production environment.
    pub fn is_prod(&self, env: &str) -> bool {
        self.prod_envs.iter().any(|p| p == env)
    }
}

#[derive(Deserialize, Default)]
struct File {
    #[serde(default)]
    platform: Option<PlatformConfig>,
}

/// Reads the `[platform]` table of `root/flotilla.toml`: `Ok(None)` without file or table.
pub fn load_config(root: &Path) -> Result<Option<PlatformConfig>> {
    let path = root.join(CONFIG_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let file: File = toml::from_str(&text).map_err(|e| Error::Config {
        path: path.clone(),
        message: e.to_string().lines().next().unwrap_or("").to_string(),
    })?;
    Ok(file.platform)
}

/// An opened platform repository.
#[derive(Debug, Clone)]
pub struct Platform {
    pub root: PathBuf,
    pub config: PlatformConfig,
}

/// A workload cluster found in the layout.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClusterRef {
    pub env: String,
    pub name: String,
}

impl Platform {
    /// Opens `root`: provider and version from `flotilla.toml`, or, without them, the one
    /// `providers/<cloud>/<version>/mgmt` folder of the tree.
    pub fn open(root: &Path) -> Result<Platform> {
        let mut config = load_config(root)?.unwrap_or_default();
        if config.provider.is_empty() || config.version.is_empty() {
            let found = detect_provider(root);
            match found.as_slice() {
                [(p, v)] => {
                    config.provider = p.clone();
                    config.version = v.clone();
                }
                _ => return Err(Error::NotPlatform(root.to_path_buf())),
            }
        }
        Ok(Platform {
            root: root.to_path_buf(),
            config,
        })
    }

    /// `providers/<cloud>/<version>`, relative to the root.
    pub fn provider_rel(&self) -> PathBuf {
        Path::new("providers")
            .join(&self.config.provider)
            .join(&self.config.version)
    }

    /// `providers/<cloud>/<version>/mgmt`, relative.
    pub fn mgmt_rel(&self) -> PathBuf {
        self.provider_rel().join("mgmt")
    }

    /// `providers/<cloud>/<version>/clusters/<env>`, relative.
    pub fn env_rel(&self, env: &str) -> PathBuf {
        self.provider_rel().join("clusters").join(env)
    }

    /// `tenants/<cloud>`, relative.
    pub fn tenants_rel(&self) -> PathBuf {
        Path::new("tenants").join(&self.config.provider)
    }

    /// The workload clusters: every `clusters/<env>/<name>` folder except `common`.
    pub fn clusters(&self) -> Vec<ClusterRef> {
        let mut out = Vec::new();
        for env in subdirs(&self.root.join(self.provider_rel()).join("clusters")) {
            for name in subdirs(&self.root.join(self.env_rel(&env))) {
                if name != "common" {
                    out.push(ClusterRef {
                        env: env.clone(),
                        name,
                    });
                }
            }
        }
        out.sort();
        out
    }

    /// The environments that have clusters, sorted.
    pub fn envs(&self) -> Vec<String> {
        let mut envs: Vec<String> = self.clusters().into_iter().map(|c| c.env).collect();
        envs.dedup();
        envs
    }

    /// The features: every folder under `features/`.
    pub fn features(&self) -> Vec<String> {
        subdirs(&self.root.join("features"))
    }

    /// Whether a path relative to the root holds a `.yaml`/`.yml` file somewhere below it.
    pub fn has_manifests(&self, rel: &Path) -> bool {
        has_yaml(&self.root.join(rel))
    }
}

fn has_yaml(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.filter_map(|e| e.ok()).any(|e| {
        let p = e.path();
        if p.is_dir() {
            has_yaml(&p)
        } else {
            matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("yaml") | Some("yml")
            )
        }
    })
}

/// The names of the sub-directories of `dir` (sorted; hidden ones skipped).
pub(crate) fn subdirs(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| !n.starts_with('.'))
        .collect();
    out.sort();
    out
}

fn detect_provider(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in subdirs(&root.join("providers")) {
        for v in subdirs(&root.join("providers").join(&p)) {
            if root
                .join("providers")
                .join(&p)
                .join(&v)
                .join("mgmt")
                .is_dir()
            {
                out.push((p.clone(), v));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_default_and_override() {
        let mut c = PlatformConfig::default();
        assert_eq!(c.source_for("non-prod"), "main");
        assert_eq!(c.source_for("prod"), "release");
        c.sources.insert("staging".into(), "release".into());
        assert_eq!(c.source_for("staging"), "release");
    }

    #[test]
    fn example_is_detected_without_config() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/platform");
        let p = Platform::open(&root).unwrap();
        assert_eq!(p.provider_rel(), Path::new("providers/aws/v1"));
        let names: Vec<String> = p.clusters().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["non-prod-eu-west-1", "prod-eu-west-1"]);
        assert_eq!(p.envs(), ["non-prod", "prod"]);
        assert_eq!(
            p.features(),
            ["access-control", "helloworld-operator", "ingress-nginx"]
        );
    }
}
