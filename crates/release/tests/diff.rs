//! End-to-end: `diff` between revisions of examples/platform and of small fixtures.

#![cfg(feature = "diff")]

mod common;

use common::{git_or_skip, platform_repo, Fixture};
use flotilla_release::config::Config;
use flotilla_release::diff::{diff, Filter, ObjectChange, Style, MASK};
use flotilla_release::promote::{promote, PromoteArgs};
use flotilla_release::{Error, Repo};

const AUDITOR: [&str; 2] = [
    "+ rbac.authorization.k8s.io/ClusterRole platform-auditor",
    "+ rbac.authorization.k8s.io/ClusterRoleBinding platform-auditors",
];
const OPERATOR: &str = "~ apps/Deployment helloworld-operator-system/helloworld-operator";
const RELEASE_SOURCE: &str = "~ source.toolkit.fluxcd.io/GitRepository flux-system/release";

fn lines(cluster: &str, items: &[&str]) -> Vec<String> {
    items.iter().map(|i| format!("{cluster} {i}")).collect()
}

#[test]
fn diff_between_tags_names_exactly_the_changed_objects() {
    if !git_or_skip("diff_between_tags_names_exactly_the_changed_objects") {
        return;
    }
    let tmp = platform_repo("diff-tags");
    let repo = Repo::open(&tmp.0.join("platform")).unwrap();
    let cfg = Config::default();

    // v0.1.1..v0.1.2: #15 moves the release source to v0.1.1 (mgmt tree), #16 adds the
    // auditor role to access-control (all three clusters run it), #17 raises the operator
    // memory limit (both workload clusters), #18 is a README (renders nowhere).
    let d = diff(&repo, "v0.1.1", "v0.1.2", &Filter::default(), &cfg).unwrap();
    let mut want = lines("mgmt", &[AUDITOR[0], AUDITOR[1], RELEASE_SOURCE]);
    for c in ["non-prod-eu-west-1", "prod-eu-west-1"] {
        want.extend(lines(c, &[OPERATOR, AUDITOR[0], AUDITOR[1]]));
    }
    assert_eq!(d.summary(), want);
    assert_eq!(d.exit_code(), 1);

    let deployment = d.clusters[1]
        .objects
        .iter()
        .find(|o| o.id.starts_with("apps/"))
        .unwrap();
    let ObjectChange::Changed { fields } = &deployment.change else {
        panic!("{deployment:?}")
    };
    assert_eq!(fields.len(), 1);
    assert_eq!(
        fields[0].path,
        "spec.template.spec.containers[0].resources.limits.memory"
    );
    assert_eq!(
        (
            fields[0].old.clone().unwrap(),
            fields[0].new.clone().unwrap()
        ),
        ("64Mi".into(), "128Mi".into())
    );

    let text = d.render(Style::default());
    assert!(
        text.contains("      - spec.ref.tag: \"v0.1.0\"\n      + spec.ref.tag: \"v0.1.1\"\n"),
        "{text}"
    );
    assert!(
        text.ends_with("9 objects changed in 3 clusters between v0.1.1 and v0.1.2\n"),
        "{text}"
    );

    // The same revision: nothing.
    let same = diff(&repo, "v0.1.2", "v0.1.2", &Filter::default(), &cfg).unwrap();
    assert_eq!(same.exit_code(), 0);
    assert!(same.summary().is_empty());

    // v0.1.2..main: the one unreleased commit (#19) changes a health check on mgmt only.
    let tip = diff(&repo, "v0.1.2", "main", &Filter::default(), &cfg).unwrap();
    assert_eq!(
        tip.summary(),
        ["mgmt ~ cluster.x-k8s.io/MachineHealthCheck non-prod-eu-west-1/non-prod-eu-west-1-md-0"]
    );
}

#[test]
fn diff_filters_by_env_and_cluster() {
    if !git_or_skip("diff_filters_by_env_and_cluster") {
        return;
    }
    let tmp = platform_repo("diff-filter");
    let repo = Repo::open(&tmp.0.join("platform")).unwrap();
    let cfg = Config::default();
    let prod = Filter {
        env: Some("prod".into()),
        ..Filter::default()
    };
    // Prod: the workload cluster, and mgmt's access-control (it follows the release source);
    // mgmt's own Kustomization follows main, so the GitRepository change is not prod's.
    let d = diff(&repo, "v0.1.1", "v0.1.2", &prod, &cfg).unwrap();
    let mut want = lines("mgmt", &AUDITOR);
    want.extend(lines("prod-eu-west-1", &[OPERATOR, AUDITOR[0], AUDITOR[1]]));
    assert_eq!(d.summary(), want);

    let one = Filter {
        cluster: Some("non-prod-eu-west-1".into()),
        ..Filter::default()
    };
    let d = diff(&repo, "v0.1.1", "v0.1.2", &one, &cfg).unwrap();
    assert_eq!(
        d.summary(),
        lines("non-prod-eu-west-1", &[OPERATOR, AUDITOR[0], AUDITOR[1]])
    );
    assert_eq!(d.clusters.len(), 1);

    let none = Filter {
        cluster: Some("nope".into()),
        ..Filter::default()
    };
    assert_eq!(
        diff(&repo, "v0.1.1", "v0.1.2", &none, &cfg)
            .unwrap()
            .exit_code(),
        0
    );
}

#[test]
fn diff_of_a_promotion() {
    if !git_or_skip("diff_of_a_promotion") {
        return;
    }
    let tmp = platform_repo("diff-promote");
    let repo = Repo::open(&tmp.0.join("platform")).unwrap();
    let cfg = Config::default();
    let p = promote(&repo, &PromoteArgs::new("v0.1.2", "prod"), &cfg).unwrap();

    // As files: only the release source changes.
    let d = diff(&repo, "HEAD", &p.branch, &Filter::default(), &cfg).unwrap();
    assert_eq!(d.summary(), lines("mgmt", &[RELEASE_SOURCE]));

    // As clusters run it (following the pinned tag): prod moves from v0.1.1 to v0.1.2.
    let follow = Filter {
        follow_pins: true,
        ..Filter::default()
    };
    let d = diff(&repo, "HEAD", &p.branch, &follow, &cfg).unwrap();
    let mut want = lines("mgmt", &[AUDITOR[0], AUDITOR[1], RELEASE_SOURCE]);
    want.extend(lines("prod-eu-west-1", &[OPERATOR, AUDITOR[0], AUDITOR[1]]));
    assert_eq!(d.summary(), want);
}

#[test]
fn diff_masks_secrets_and_reports_errors() {
    if !git_or_skip("diff_masks_secrets_and_reports_errors") {
        return;
    }
    let mut f = Fixture::new("diff-secret");
    f.write(
        "clusters/edge/ks.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1beta2\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\nspec:\n  path: ./apps\n  sourceRef: {kind: GitRepository, name: main}\n  kubeConfig: {secretRef: {name: edge-1-kubeconfig}}\n",
    );
    f.write(
        "apps/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: a}\nstringData:\n  password: hunter2\n",
    );
    f.write("apps/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf, namespace: a}\ndata:\n  conf: |\n    a=1\n    b=2\n");
    let one = f.commit("x", "feat: apps (#1)");
    f.write(
        "apps/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: a}\nstringData:\n  password: correct-horse\n",
    );
    f.write("apps/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf, namespace: a}\ndata:\n  conf: |\n    a=1\n    b=3\n");
    f.write("apps/token.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: token, namespace: a}\ndata:\n  t: c2VjcmV0LXRva2Vu\n");
    f.commit("x", "fix: rotate (#2)");
    let repo = Repo::open(f.path()).unwrap();
    let cfg = Config::default();
    let d = diff(&repo, &one, "HEAD", &Filter::default(), &cfg).unwrap();
    assert_eq!(
        d.summary(),
        [
            "edge-1 ~ ConfigMap a/conf",
            "edge-1 ~ Secret a/creds",
            "edge-1 + Secret a/token"
        ]
    );
    let text = d.render(Style {
        color: true,
        objects: true,
    });
    for secret in ["hunter2", "correct-horse", "c2VjcmV0LXRva2Vu"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(
        text.contains(&format!("- stringData.password: \"{MASK}\"")),
        "{text}"
    );
    assert!(
        text.contains("\x1b[31m        - b=2\x1b[0m"),
        "line diff of the ConfigMap: {text}"
    );
    let json = serde_json::to_string(&d).unwrap();
    assert!(!json.contains("hunter2") && !json.contains("c2VjcmV0LXRva2Vu"));

    // Errors: an unknown revision; a Kustomization whose path is missing.
    let e = diff(&repo, "nope", "HEAD", &Filter::default(), &cfg).unwrap_err();
    assert!(matches!(e, Error::UnknownRevision(_)), "{e}");
    f.write(
        "clusters/edge/broken.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: broken, namespace: flux-system}\nspec:\n  path: ./missing\n  sourceRef: {kind: GitRepository, name: main}\n",
    );
    f.commit("x", "feat: broken (#3)");
    let e = diff(&repo, &one, "HEAD", &Filter::default(), &cfg).unwrap_err();
    assert_eq!(
        e.to_string(),
        "HEAD: cluster mgmt: Kustomization flux-system/broken (missing): spec.path does not exist (declared in clusters/edge/broken.yaml)"
    );
}
