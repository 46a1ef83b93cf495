//! `flotilla add tenant NAME [--envs …]`: the tenant's namespace with quota, limits,
//! network policies, a deployer ServiceAccount, and role bindings per environment (admin in
//! non-prod, view in prod), plus the `tenants-*` Kustomizations of clusters that lack them.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::cluster::{feature_kustomizations, kustomization_for};
use super::namespace;
use crate::error::{Error, Result};
use crate::names::{check_arg, scalar as s};
use crate::repo::Platform;
use crate::write::{write_all, Outcome, PlannedFile};

/// Options of `add tenant`.
#[derive(Debug, Clone, Default)]
pub struct TenantOptions {
    pub name: String,
    /// Environments; `None`: every environment that has clusters.
    pub envs: Option<Vec<String>>,
    /// The ClusterRole developers get in prod environments (default `view`).
    pub prod_role: Option<String>,
    /// The ClusterRole developers get elsewhere (default `admin`).
    pub non_prod_role: Option<String>,
    pub force: bool,
}

/// Plans the tenant's files.
pub fn plan(p: &Platform, o: &TenantOptions) -> Result<Vec<PlannedFile>> {
    check_arg("tenant name", &o.name)?;
    let envs = match &o.envs {
        Some(e) => e.clone(),
        None => p.envs(),
    };
    if envs.is_empty() {
        return Err(Error::Invalid(
            "no environments: add a cluster first or pass --envs".into(),
        ));
    }
    for e in &envs {
        check_arg("environment", e)?;
        if e == "common" {
            return Err(Error::Invalid("`common` is not an environment".into()));
        }
    }
    let t = o.name.as_str();
    let base = p.tenants_rel();
    let common = base.join("common").join(t);
    let label = format!("  labels:\n    flotilla.dev/tenant: {}\n", s(t));
    let meta = |api: &str, kind: &str, name: &str, extra: &str| {
        format!(
            "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {}\n  namespace: {}\n{label}{extra}",
            s(name),
            s(t)
        )
    };
    let mut ns = namespace(
        None,
        t,
        &[
            ("flotilla.dev/tenant", t),
            ("pod-security.kubernetes.io/enforce", "baseline"),
            ("pod-security.kubernetes.io/warn", "restricted"),
        ],
    );
    let _ = writeln!(
        ns,
        "  annotations:\n    flotilla.dev/owner: {}",
        s(&format!("team-{t}@example.com"))
    );
    let deployer = format!("{t}-deployer");
    let mut files = vec![
        PlannedFile::new(common.join("non-namespaced/namespace.yaml"), ns),
        PlannedFile::new(
            common.join("namespaced/limitrange.yaml"),
            format!(
                "{}spec:\n  limits:\n    - type: Container\n      default:\n        cpu: 500m\n        memory: 256Mi\n      defaultRequest:\n        cpu: 50m\n        memory: 64Mi\n      max:\n        cpu: \"2\"\n        memory: 2Gi\n    - type: PersistentVolumeClaim\n      min:\n        storage: 1Gi\n      max:\n        storage: 50Gi\n",
                meta("v1", "LimitRange", &format!("{t}-defaults"), "")
            ),
        ),
        PlannedFile::new(
            common.join("namespaced/networkpolicy-default-deny.yaml"),
            format!(
                "# Deny all ingress and egress unless another policy allows it.\n{}spec:\n  podSelector: {{}}\n  policyTypes:\n    - Ingress\n    - Egress\n",
                meta("networking.k8s.io/v1", "NetworkPolicy", "default-deny", "")
            ),
        ),
        PlannedFile::new(
            common.join("namespaced/networkpolicy-allow-same-namespace.yaml"),
            format!(
                "# Pods in the tenant namespace may talk to each other and resolve names\n# through cluster DNS.\n{}spec:\n  podSelector: {{}}\n  policyTypes:\n    - Ingress\n    - Egress\n  ingress:\n    - from:\n        - podSelector: {{}}\n  egress:\n    - to:\n        - podSelector: {{}}\n    - to:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: kube-system\n          podSelector:\n            matchLabels:\n              k8s-app: kube-dns\n      ports:\n        - protocol: UDP\n          port: 53\n        - protocol: TCP\n          port: 53\n",
                meta("networking.k8s.io/v1", "NetworkPolicy", "allow-same-namespace", "")
            ),
        ),
        PlannedFile::new(
            common.join("namespaced/serviceaccount.yaml"),
            format!(
                "# Identity the tenant's CI pipeline deploys with.\n{}",
                meta("v1", "ServiceAccount", &deployer, "")
            ),
        ),
    ];
    for env in &envs {
        let prod = p.config.is_prod(env);
        let dir: PathBuf = base.join(env).join(t).join("namespaced");
        let env_label = format!("    flotilla.dev/environment: {}\n", s(env));
        let (cpu, mem, pods) = if prod {
            ("8", "16Gi", "80")
        } else {
            ("4", "8Gi", "40")
        };
        let role = if prod {
            o.prod_role.as_deref().unwrap_or("view")
        } else {
            o.non_prod_role.as_deref().unwrap_or("admin")
        };
        files.push(PlannedFile::new(
            dir.join("resourcequota.yaml"),
            format!(
                "{}spec:\n  hard:\n    requests.cpu: \"{cpu}\"\n    requests.memory: {mem}\n    limits.cpu: \"{}\"\n    limits.memory: {}Gi\n    pods: \"{pods}\"\n    services.loadbalancers: \"0\"\n    persistentvolumeclaims: \"10\"\n    requests.storage: 100Gi\n",
                meta("v1", "ResourceQuota", &format!("{t}-quota"), &env_label),
                if prod { "16" } else { "8" },
                if prod { 32 } else { 16 }
            ),
        ));
        let binding = |name: &str, role: &str, subject: String| {
            format!(
                "{}roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: {}\nsubjects:\n{subject}",
                meta("rbac.authorization.k8s.io/v1", "RoleBinding", name, &env_label),
                s(role)
            )
        };
        files.push(PlannedFile::new(
            dir.join("rolebinding-deployer.yaml"),
            binding(
                &deployer,
                "edit",
                format!(
                    "  - kind: ServiceAccount\n    name: {}\n    namespace: {}\n",
                    s(&deployer),
                    s(t)
                ),
            ),
        ));
        files.push(PlannedFile::new(
            dir.join("rolebinding-developers.yaml"),
            binding(
                &format!("{t}-developers"),
                role,
                format!(
                    "  - apiGroup: rbac.authorization.k8s.io\n    kind: Group\n    name: {}\n",
                    s(&format!("tenant:{t}:developers"))
                ),
            ),
        ));
    }
    // Clusters of these environments get their tenants-* Kustomizations once there is
    // something to apply.
    for c in p.clusters().into_iter().filter(|c| envs.contains(&c.env)) {
        let features = feature_kustomizations(p, &c.name);
        for (kname, path, deps) in [
            ("tenants-common".to_string(), base.join("common"), features),
            (
                format!("tenants-{}", c.env),
                base.join(&c.env),
                vec!["tenants-common".to_string()],
            ),
        ] {
            let mut f = kustomization_for(p, &c, &kname, &path, deps);
            f.if_missing = true;
            files.push(f);
        }
    }
    Ok(files)
}

/// Adds the tenant to the repository at `p.root`.
pub fn add_tenant(p: &Platform, o: &TenantOptions) -> Result<Outcome> {
    let files = plan(p, o)?;
    write_all(&p.root, &files, o.force)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The generated tenant is the example's `dummy`, field for field.
    #[test]
    fn tenant_matches_the_example() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/platform");
        let p = Platform::open(&root).unwrap();
        let o = TenantOptions {
            name: "dummy".into(),
            ..Default::default()
        };
        let files = plan(&p, &o).unwrap();
        let mut compared = 0;
        for f in files.iter().filter(|f| f.path.starts_with("tenants")) {
            let theirs = std::fs::read_to_string(root.join(&f.path)).unwrap();
            assert_eq!(
                flotilla_yaml::parse_one(&f.content).unwrap(),
                flotilla_yaml::parse_one(&theirs).unwrap(),
                "{}",
                f.path.display()
            );
            compared += 1;
        }
        assert_eq!(compared, 5 + 2 * 3);
        // The example's clusters have their tenants Kustomizations: only if-missing ones.
        assert!(files
            .iter()
            .filter(|f| !f.path.starts_with("tenants"))
            .all(|f| f.if_missing));
    }
}
