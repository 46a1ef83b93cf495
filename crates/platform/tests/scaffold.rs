//! `init`, then `add cluster` (two environments), `add tenant`, `add feature`: the result
//! lints clean and every Kustomization path renders with `flotilla_render::build`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use flotilla_platform::*;

fn open(root: &Path) -> Platform {
    Platform::open(root).unwrap()
}

fn init_repo(root: &Path, git: bool) {
    let opts = InitOptions {
        url: Some("file:///srv/git/platform.git".into()),
        git,
        ..Default::default()
    };
    init(root, &opts).unwrap();
}

fn cluster(name: &str, env: &str) -> ClusterOptions {
    ClusterOptions {
        name: name.into(),
        env: env.into(),
        region: "eu-west-1".into(),
        ..Default::default()
    }
}

/// Every Kustomization object of the repository: (file, spec.path, sourceRef.name).
fn kustomizations(root: &Path) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for f in common::yaml_files(root) {
        let text = std::fs::read_to_string(root.join(&f)).unwrap();
        for d in flotilla_yaml::parse_documents(&text).unwrap() {
            if d.value["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1" {
                out.push((
                    f.display().to_string(),
                    d.value["spec"]["path"].as_str().unwrap().to_string(),
                    d.value["spec"]["sourceRef"]["name"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                ));
            }
        }
    }
    out
}

fn assert_renders(root: &Path) -> usize {
    let ks = kustomizations(root);
    for (file, path, _) in &ks {
        let r = flotilla_render::build(&root.join(path), &flotilla_render::Options::flux())
            .unwrap_or_else(|e| panic!("{file}: {path} does not render: {e}"));
        assert!(!r.objects.is_empty(), "{file}: {path} renders nothing");
    }
    ks.len()
}

fn assert_clean(root: &Path) {
    let report = lint(root).unwrap();
    assert!(report.findings.is_empty(), "{}", report.to_text());
}

#[test]
fn init_add_lint_render() {
    let root = common::tempdir("e2e");
    init_repo(&root, false);
    assert_clean(&root);

    let p = open(&root);
    let out = add_cluster(&p, &cluster("non-prod-eu-west-1", "non-prod")).unwrap();
    assert!(
        out.notes.iter().any(|n| n.contains("tenants-common")),
        "{:?}",
        out.notes
    );
    add_cluster(&p, &cluster("prod-eu-west-1", "prod")).unwrap();
    assert_clean(&root);
    add_feature(
        &p,
        &FeatureOptions {
            name: "ingress-nginx".into(),
            ..Default::default()
        },
    )
    .unwrap();
    add_tenant(
        &p,
        &TenantOptions {
            name: "dummy".into(),
            ..Default::default()
        },
    )
    .unwrap();
    // A cluster added after the feature and the tenant gets their Kustomizations at once.
    add_cluster(&p, &cluster("non-prod-eu-central-1", "non-prod")).unwrap();
    assert_clean(&root);

    let ks = kustomizations(&root);
    // mgmt + 3 clusters × (common, layer, feature, tenants-common, tenants-<env>).
    assert_eq!(ks.len(), 1 + 3 * 5, "{ks:#?}");
    assert_eq!(assert_renders(&root), 16);
    for (file, _, source) in &ks {
        let want = if file.contains("/namespaced/prod-") {
            "release"
        } else {
            "main"
        };
        assert_eq!(source, want, "{file}");
    }
    let mgmt = root.join("providers/aws/v1/mgmt/namespaced");
    for f in [
        "non-prod-eu-west-1/cluster.yaml",
        "non-prod-eu-west-1/awscluster.yaml",
        "non-prod-eu-west-1/kubeadmcontrolplane.yaml",
        "non-prod-eu-west-1/awsmachinetemplate-control-plane.yaml",
        "non-prod-eu-west-1/awsmachinetemplate-md-0.yaml",
        "non-prod-eu-west-1/kubeadmconfigtemplate-md-0.yaml",
        "non-prod-eu-west-1/machinedeployment-md-0.yaml",
        "non-prod-eu-west-1/machinehealthcheck-control-plane.yaml",
        "non-prod-eu-west-1/machinehealthcheck-md-0.yaml",
        "non-prod-eu-west-1/clusterresourceset-cni.yaml",
        "non-prod-eu-west-1/configmap-cni-flannel.yaml",
        "prod-eu-west-1/kustomization-tenants-prod.yaml",
        "prod-eu-west-1/kustomization-feature-ingress-nginx.yaml",
        "non-prod-eu-central-1/kustomization-tenants-non-prod.yaml",
    ] {
        assert!(mgmt.join(f).is_file(), "{f}");
    }
    // The cluster layer and tenants-common wait for every feature, also one added later.
    for c in ["prod-eu-west-1", "non-prod-eu-central-1"] {
        for layer in [c, "tenants-common"] {
            let t = std::fs::read_to_string(mgmt.join(format!("{c}/kustomization-{layer}.yaml")))
                .unwrap();
            let v = flotilla_yaml::parse_one(&t).unwrap();
            let deps: Vec<&str> = v["spec"]["dependsOn"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["name"].as_str().unwrap())
                .collect();
            assert!(
                deps.contains(&"feature-ingress-nginx"),
                "{c}/{layer}: {deps:?}"
            );
        }
    }
    // The tenant's developers: admin in non-prod, view in prod.
    let role = |env: &str| {
        let t = std::fs::read_to_string(root.join(format!(
            "tenants/aws/{env}/dummy/namespaced/rolebinding-developers.yaml"
        )))
        .unwrap();
        flotilla_yaml::parse_one(&t).unwrap()["roleRef"]["name"].clone()
    };
    assert_eq!(role("non-prod"), "admin");
    assert_eq!(role("prod"), "view");

    // The generated kubeconfig Secret name and the Cluster agree.
    let k = std::fs::read_to_string(mgmt.join("prod-eu-west-1/kustomization-common.yaml")).unwrap();
    let k = flotilla_yaml::parse_one(&k).unwrap();
    assert_eq!(
        k["spec"]["kubeConfig"]["secretRef"]["name"],
        "prod-eu-west-1-kubeconfig"
    );
    assert_eq!(k["spec"]["postBuild"]["substitute"]["cluster_env"], "prod");

    // Lint follows each cluster's Kustomizations: without the tenant's Namespace, every
    // cluster misses it; a prod Kustomization moved to `main` is caught.
    let ns = root.join("tenants/aws/common/dummy/non-namespaced/namespace.yaml");
    let ns_text = std::fs::read_to_string(&ns).unwrap();
    std::fs::remove_file(&ns).unwrap();
    let report = lint(&root).unwrap();
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.rule == Rule::NamespaceMissing),
        "{}",
        report.to_text()
    );
    for c in [
        "non-prod-eu-west-1",
        "non-prod-eu-central-1",
        "prod-eu-west-1",
    ] {
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.message.ends_with(&format!("cluster {c}"))),
            "{c}: {}",
            report.to_text()
        );
    }
    // 4 common objects and 3 per environment, on each of the 3 clusters.
    assert_eq!(report.findings.len(), 3 * (4 + 3), "{}", report.to_text());
    std::fs::write(&ns, ns_text).unwrap();
    let prod_common = mgmt.join("prod-eu-west-1/kustomization-common.yaml");
    let text = std::fs::read_to_string(&prod_common).unwrap();
    std::fs::write(&prod_common, text.replace("name: release", "name: main")).unwrap();
    let report = lint(&root).unwrap();
    assert_eq!(report.findings.len(), 1, "{}", report.to_text());
    assert_eq!(report.findings[0].rule, Rule::ProdFollowsMain);
    std::fs::write(&prod_common, text).unwrap();
    assert_clean(&root);

    // The same cluster again: refused without force, nothing changed; accepted with it.
    let before = std::fs::read_to_string(mgmt.join("prod-eu-west-1/cluster.yaml")).unwrap();
    let err = add_cluster(&p, &cluster("prod-eu-west-1", "prod")).unwrap_err();
    assert!(matches!(err, Error::WouldOverwrite(_)), "{err}");
    let mut forced = cluster("prod-eu-west-1", "prod");
    forced.force = true;
    add_cluster(&p, &forced).unwrap();
    let after = std::fs::read_to_string(mgmt.join("prod-eu-west-1/cluster.yaml")).unwrap();
    assert_eq!(before, after, "output is stable");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn virtual_and_hive_clusters_lint_clean() {
    let root = common::tempdir("providers");
    init_repo(&root, false);
    let p = open(&root);
    let mut v = cluster("rehearsal", "staging");
    v.provider = InfraProvider::Virtual;
    add_cluster(&p, &v).unwrap();
    let mut h = cluster("ocp-prod", "prod");
    h.hive = true;
    add_cluster(&p, &h).unwrap();
    add_tenant(
        &p,
        &TenantOptions {
            name: "team-a".into(),
            ..Default::default()
        },
    )
    .unwrap();
    add_feature(
        &p,
        &FeatureOptions {
            name: "monitoring".into(),
            envs: Some(vec!["prod".into()]),
            ..Default::default()
        },
    )
    .unwrap();
    assert_clean(&root);
    assert_renders(&root);
    let mgmt = root.join("providers/aws/v1/mgmt");
    assert!(mgmt
        .join("namespaced/rehearsal/virtualcluster.yaml")
        .is_file());
    assert!(mgmt
        .join("non-namespaced/ocp-prod/clusterimageset.yaml")
        .is_file());
    assert!(
        mgmt.join("namespaced/ocp-prod/feature-monitoring.yaml")
            .exists()
            || mgmt
                .join("namespaced/ocp-prod/kustomization-feature-monitoring.yaml")
                .is_file()
    );
    assert!(!mgmt
        .join("namespaced/rehearsal/kustomization-feature-monitoring.yaml")
        .exists());
    // Credentials are templates with placeholders, outside what Flux reads.
    let creds =
        std::fs::read_to_string(mgmt.join("namespaced/ocp-prod/secret-aws-creds.yaml.template"))
            .unwrap();
    assert!(creds.contains("<-YOUR-AWS-ACCESS-KEY->"));
    let cd =
        std::fs::read_to_string(mgmt.join("namespaced/ocp-prod/clusterdeployment.yaml")).unwrap();
    let cd = flotilla_yaml::parse_one(&cd).unwrap();
    assert_eq!(
        cd["spec"]["provisioning"]["installConfigSecretRef"]["name"],
        "ocp-prod-install-config"
    );
    // A staging environment follows main, prod follows release.
    let src = |c: &str| {
        let t =
            std::fs::read_to_string(mgmt.join(format!("namespaced/{c}/kustomization-common.yaml")))
                .unwrap();
        flotilla_yaml::parse_one(&t).unwrap()["spec"]["sourceRef"]["name"].clone()
    };
    assert_eq!(src("rehearsal"), "main");
    assert_eq!(src("ocp-prod"), "release");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn bad_arguments_are_refused() {
    let root = common::tempdir("badargs");
    init_repo(&root, false);
    let p = open(&root);
    assert!(add_cluster(&p, &cluster("Bad_Name", "prod")).is_err());
    assert!(add_cluster(&p, &cluster("c1", "true!")).is_err());
    assert!(
        add_tenant(
            &p,
            &TenantOptions {
                name: "t".into(),
                ..Default::default()
            }
        )
        .is_err(),
        "no environments yet"
    );
    let mut c = cluster("c1", "dev");
    c.features = Some(vec!["nope".into()]);
    assert!(add_cluster(&p, &c).is_err());
    add_cluster(&p, &cluster("c1", "dev")).unwrap();
    assert!(
        add_cluster(&p, &cluster("c1", "qa")).is_err(),
        "same name in another env"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn init_commits_with_a_conventional_title_and_valid_config() {
    if !common::require_git("init_commits_with_a_conventional_title_and_valid_config") {
        return;
    }
    let root = common::tempdir("git");
    init_repo(&root, true);
    let title = common::git(&root, &["log", "-1", "--format=%s"]);
    assert_eq!(
        title.trim(),
        "chore(providers): scaffold the platform repository"
    );
    assert_eq!(
        common::git(&root, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "main"
    );
    assert_eq!(common::git(&root, &["tag", "--list"]).trim(), "v0.1.0");
    assert_eq!(common::git(&root, &["status", "--porcelain"]).trim(), "");
    // flotilla.toml is read by the release tooling as written.
    let text = std::fs::read_to_string(root.join("flotilla.toml")).unwrap();
    let cfg =
        flotilla_release::config::Config::from_toml(&text, Path::new("flotilla.toml")).unwrap();
    assert!(cfg.release.scopes.iter().any(|s| s == "providers"));
    assert_eq!(
        cfg.promote.targets[0].labels["flotilla.dev/release"],
        "true"
    );
    assert_eq!(cfg.diff.envs["release"], "prod");
    assert!(cfg.release.types.iter().any(|t| t == "chore"));
    // Running init again over the repository is refused.
    let again = init(
        &root,
        &InitOptions {
            git: false,
            ..Default::default()
        },
    );
    assert!(matches!(again, Err(Error::WouldOverwrite(_))));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn sources_follow_flotilla_toml_and_a_large_fleet_lints_clean() {
    let root = common::tempdir("fleet");
    init_repo(&root, false);
    // staging is promoted like prod.
    let cfg = root.join("flotilla.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text.replace(
            "prod = \"release\"\n",
            "prod = \"release\"\nstaging = \"release\"\n",
        ),
    )
    .unwrap();
    let p = open(&root);
    add_feature(
        &p,
        &FeatureOptions {
            name: "access-control".into(),
            ..Default::default()
        },
    )
    .unwrap();
    for i in 0..40 {
        let env = ["dev", "staging", "prod", "dev"][i % 4];
        add_cluster(&p, &cluster(&format!("{env}-{i}"), env)).unwrap();
    }
    add_tenant(
        &p,
        &TenantOptions {
            name: "payments".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let report = lint(&root).unwrap();
    assert!(report.findings.is_empty(), "{}", report.to_text());
    // common, feature-access-control, the layer, tenants-common, tenants-<env>.
    assert_eq!(report.kustomizations, 1 + 40 * 5);
    for (file, _, source) in kustomizations(&root) {
        let want = if file.contains("/namespaced/dev-") || file.contains("flux-system") {
            "main"
        } else {
            "release"
        };
        assert_eq!(source, want, "{file}");
    }
    let _ = std::fs::remove_dir_all(&root);
}
