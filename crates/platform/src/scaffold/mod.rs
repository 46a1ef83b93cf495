//! Scaffolding: `init`, `add cluster`, `add tenant`, `add feature`.
//!
//! Every manifest is written from a text template (no YAML serializer), with each
//! interpolated value passed through [`crate::names::scalar`], so the output is stable,
//! reviewable and reads back as written. Each command plans its files first and writes them
//! with [`crate::write::write_all`], which refuses to overwrite without `force`.

pub mod cluster;
pub mod feature;
mod hive;
pub mod init;
pub mod tenant;

use std::fmt::Write as _;
use std::path::Path;

use crate::names::scalar as s;

/// `path` with `/` separators, as Flux and the README write it.
pub(crate) fn slash(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// A `kustomize.toolkit.fluxcd.io/v1` Kustomization that configures a workload cluster
/// from the management cluster (or the management cluster itself without `cluster`).
#[derive(Debug, Clone, Default)]
pub(crate) struct FluxKustomization<'a> {
    pub comment: Option<&'a str>,
    pub name: &'a str,
    pub namespace: &'a str,
    /// `(environment, cluster)` labels and the kubeconfig Secret of the cluster.
    pub cluster: Option<(&'a str, &'a str)>,
    /// `kubeConfig.secretRef.key` when it is not Cluster API's `value`.
    pub kubeconfig_key: Option<&'a str>,
    pub path: String,
    pub source: &'a str,
    pub depends_on: Vec<String>,
    pub substitute: Vec<(&'a str, String)>,
    pub wait: bool,
}

impl FluxKustomization<'_> {
    pub(crate) fn render(&self) -> String {
        let mut o = String::new();
        if let Some(c) = self.comment {
            for line in c.lines() {
                let _ = writeln!(o, "# {line}");
            }
        }
        o.push_str("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n");
        let _ = writeln!(o, "  name: {}", s(self.name));
        let _ = writeln!(o, "  namespace: {}", s(self.namespace));
        if let Some((env, cluster)) = self.cluster {
            let _ = writeln!(o, "  labels:");
            let _ = writeln!(o, "    flotilla.dev/environment: {}", s(env));
            let _ = writeln!(o, "    flotilla.dev/cluster: {}", s(cluster));
        }
        o.push_str("spec:\n  interval: 10m\n");
        let retry = if self.cluster.is_some() { "2m" } else { "1m" };
        let _ = writeln!(o, "  retryInterval: {retry}");
        o.push_str("  timeout: 5m\n");
        let _ = writeln!(o, "  path: {}", s(&self.path));
        o.push_str("  prune: true\n  sourceRef:\n    kind: GitRepository\n");
        let _ = writeln!(o, "    name: {}", s(self.source));
        if self.namespace != "flux-system" {
            o.push_str("    namespace: flux-system\n");
        }
        if let Some((_, cluster)) = self.cluster {
            o.push_str("  kubeConfig:\n    secretRef:\n");
            let _ = writeln!(o, "      name: {}", s(&format!("{cluster}-kubeconfig")));
            if let Some(key) = self.kubeconfig_key {
                let _ = writeln!(o, "      key: {}", s(key));
            }
        }
        if self.wait {
            o.push_str("  wait: true\n");
        }
        if !self.depends_on.is_empty() {
            o.push_str("  dependsOn:\n");
            for d in &self.depends_on {
                let _ = writeln!(o, "    - name: {}", s(d));
            }
        }
        if !self.substitute.is_empty() {
            o.push_str("  postBuild:\n    substitute:\n");
            for (k, v) in &self.substitute {
                let _ = writeln!(o, "      {k}: {}", s(v));
            }
        }
        o
    }
}

/// A Namespace with labels (and optional leading comment).
pub(crate) fn namespace(comment: Option<&str>, name: &str, labels: &[(&str, &str)]) -> String {
    let mut o = String::new();
    if let Some(c) = comment {
        for line in c.lines() {
            let _ = writeln!(o, "# {line}");
        }
    }
    o.push_str("apiVersion: v1\nkind: Namespace\nmetadata:\n");
    let _ = writeln!(o, "  name: {}", s(name));
    if !labels.is_empty() {
        o.push_str("  labels:\n");
        for (k, v) in labels {
            let _ = writeln!(o, "    {k}: {}", s(v));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kustomization_template_parses_back() {
        let k = FluxKustomization {
            name: "common",
            namespace: "prod-eu-west-1",
            cluster: Some(("prod", "prod-eu-west-1")),
            path: "./providers/aws/v1/clusters/prod/common".into(),
            source: "release",
            depends_on: vec!["feature-a".into()],
            substitute: vec![
                ("cluster_name", "prod-eu-west-1".into()),
                ("n", "123".into()),
            ],
            ..Default::default()
        };
        let text = k.render();
        let v = flotilla_yaml::parse_one(&text).unwrap();
        assert_eq!(
            v["spec"]["kubeConfig"]["secretRef"]["name"],
            "prod-eu-west-1-kubeconfig"
        );
        assert_eq!(v["spec"]["sourceRef"]["namespace"], "flux-system");
        assert_eq!(v["spec"]["postBuild"]["substitute"]["n"], "123");
        assert_eq!(v["spec"]["dependsOn"][0]["name"], "feature-a");
        assert_eq!(slash(Path::new("a/b/c")), "a/b/c");
    }
}
