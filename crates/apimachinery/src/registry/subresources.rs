//! The subresources of a resource as discovery lists them (`pods/status`, `deployments/scale`,
//! ...): the kind each one takes and returns, and its verbs, as kube-apiserver 1.32 reports.
use super::ResourceInfo;

/// One subresource in discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubresourceInfo {
    /// Subresource name (`status`, `scale`, `log`, ...).
    pub name: String,
    /// Group of the kind it serves (`autoscaling` for scale).
    pub group: String,
    /// Version of that kind.
    pub version: String,
    /// Kind it serves (`Scale`, `Eviction`, the resource's kind for status).
    pub kind: String,
    /// Verbs.
    pub verbs: Vec<String>,
}

fn sub(name: &str, group: &str, version: &str, kind: &str, verbs: &[&str]) -> SubresourceInfo {
    SubresourceInfo {
        name: name.into(),
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
        verbs: verbs.iter().map(|v| v.to_string()).collect(),
    }
}

const GPU: &[&str] = &["get", "patch", "update"];

impl ResourceInfo {
    /// The subresources of this resource, sorted by name, as discovery reports them.
    pub fn subresource_discovery(&self) -> Vec<SubresourceInfo> {
        let (g, v, k) = (
            self.group.as_str(),
            self.version.as_str(),
            self.kind.as_str(),
        );
        let mut out = Vec::new();
        if self.subresources.status {
            out.push(sub("status", g, v, k, GPU));
        }
        if self.subresources.scale.is_some() {
            out.push(sub("scale", "autoscaling", "v1", "Scale", GPU));
        }
        for name in &self.subresources.other {
            let proxy = &["create", "delete", "get", "patch", "update"][..];
            out.push(match (k, name.as_str()) {
                ("Pod", "attach") => sub(name, "", "v1", "PodAttachOptions", &["create", "get"]),
                ("Pod", "binding") => sub(name, "", "v1", "Binding", &["create"]),
                ("Pod", "ephemeralcontainers") => sub(name, "", "v1", "Pod", GPU),
                ("Pod", "eviction") => sub(name, "policy", "v1", "Eviction", &["create"]),
                ("Pod", "exec") => sub(name, "", "v1", "PodExecOptions", &["create", "get"]),
                ("Pod", "log") => sub(name, "", "v1", "Pod", &["get"]),
                ("Pod", "portforward") => {
                    sub(name, "", "v1", "PodPortForwardOptions", &["create", "get"])
                }
                ("Pod", "proxy") => sub(name, "", "v1", "PodProxyOptions", proxy),
                ("Pod", "resize") => sub(name, "", "v1", "Pod", GPU),
                ("Node", "proxy") => sub(name, "", "v1", "NodeProxyOptions", proxy),
                ("Service", "proxy") => sub(name, "", "v1", "ServiceProxyOptions", proxy),
                ("ServiceAccount", "token") => sub(
                    name,
                    "authentication.k8s.io",
                    "v1",
                    "TokenRequest",
                    &["create"],
                ),
                ("Namespace", "finalize") => sub(name, "", "v1", "Namespace", &["update"]),
                _ => sub(name, g, v, k, &["get"]),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}
