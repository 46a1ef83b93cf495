//! End-to-end: `promote` on examples/platform and on small fixtures.

mod common;

use common::{git_in, git_or_skip, platform_repo, Fixture};
use flotilla_release::config::Config;
use flotilla_release::promote::{find_pins, promote, PromoteArgs};
use flotilla_release::{Error, Repo};

const RELEASE_FILE: &str =
    "providers/aws/v1/mgmt/namespaced/flux-system/gitrepository-release.yaml";

#[test]
fn promote_platform_changes_only_the_ref_line() {
    if !git_or_skip("promote_platform_changes_only_the_ref_line") {
        return;
    }
    let tmp = platform_repo("promote");
    let dir = tmp.0.join("platform");
    let head = git_in(&dir, &["rev-parse", "HEAD"]);
    let repo = Repo::open(&dir).unwrap();
    let cfg = Config::default();

    let mut args = PromoteArgs::new("0.1.2", "prod");
    args.provider = Some("aws".into());
    let p = promote(&repo, &args, &cfg).unwrap();
    assert_eq!(p.tag, "v0.1.2");
    assert_eq!(p.branch, "promote/v0.1.2-prod");
    assert_eq!(p.edits.len(), 1);
    assert_eq!(p.edits[0].file, RELEASE_FILE);
    assert_eq!(
        (p.edits[0].from.as_str(), p.edits[0].to.as_str()),
        ("v0.1.1", "v0.1.2")
    );

    // HEAD, the index and the work tree are untouched; the branch is one commit on HEAD.
    assert_eq!(git_in(&dir, &["rev-parse", "HEAD"]), head);
    assert_eq!(git_in(&dir, &["status", "--porcelain"]), "");
    assert_eq!(git_in(&dir, &["rev-parse", "promote/v0.1.2-prod^"]), head);

    // The commit changes exactly one line of one file.
    let diff = git_in(
        &dir,
        &["diff", "--unified=0", "HEAD", "promote/v0.1.2-prod"],
    );
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert_eq!(changed, ["-    tag: v0.1.1", "+    tag: v0.1.2"], "{diff}");
    assert_eq!(
        git_in(
            &dir,
            &["diff", "--name-only", "HEAD", "promote/v0.1.2-prod"]
        )
        .trim(),
        RELEASE_FILE
    );
    // Byte-for-byte the same file apart from that line.
    let before = git_in(&dir, &["show", &format!("HEAD:{RELEASE_FILE}")]);
    let after = git_in(
        &dir,
        &["show", &format!("promote/v0.1.2-prod:{RELEASE_FILE}")],
    );
    assert_eq!(
        after,
        before.replace("    tag: v0.1.1\n", "    tag: v0.1.2\n")
    );

    // Title and notes of the promoted range (v0.1.1..v0.1.2).
    let msg = git_in(&dir, &["log", "-1", "--format=%B", "promote/v0.1.2-prod"]);
    let mut lines = msg.lines();
    assert_eq!(
        lines.next(),
        Some("chore(release): promote v0.1.2 to aws prod")
    );
    assert!(
        msg.contains("Promotes aws prod from v0.1.1 to v0.1.2."),
        "{msg}"
    );
    assert!(msg.contains("## v0.1.2 (2025-03-18)"), "{msg}");
    assert!(
        msg.contains("- **features:** add platform-auditor role (#16)"),
        "{msg}"
    );
    assert!(
        msg.contains("- **features:** raise helloworld-operator memory limit (#17)"),
        "{msg}"
    );
    assert!(
        msg.contains("- describe the platform repository layout (#18)"),
        "{msg}"
    );
    assert!(
        !msg.contains("(#19)"),
        "unreleased commit is not in the range: {msg}"
    );
    assert!(
        !msg.contains("(#14)"),
        "v0.1.1 content is not in the range: {msg}"
    );

    // Again: the branch exists.
    let e = promote(&repo, &args, &cfg).unwrap_err();
    assert_eq!(e.to_string(), "branch `promote/v0.1.2-prod` already exists");
}

#[test]
fn promote_platform_refusals() {
    if !git_or_skip("promote_platform_refusals") {
        return;
    }
    let tmp = platform_repo("promote-refuse");
    let dir = tmp.0.join("platform");
    let repo = Repo::open(&dir).unwrap();
    let cfg = Config::default();
    let branches = || git_in(&dir, &["branch", "--list"]);
    let before = branches();

    let e = promote(&repo, &PromoteArgs::new("v9.9.9", "prod"), &cfg).unwrap_err();
    assert_eq!(e.to_string(), "unknown tag `v9.9.9`");
    let e = promote(&repo, &PromoteArgs::new("banana", "prod"), &cfg).unwrap_err();
    assert!(matches!(e, Error::NotSemver(_)), "{e}");
    let e = promote(&repo, &PromoteArgs::new("v0.1.0", "prod"), &cfg).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{RELEASE_FILE}: spec.ref.tag pins v0.1.1, newer than v0.1.0; pass --allow-downgrade to go back")
    );
    let e = promote(&repo, &PromoteArgs::new("v0.1.1", "prod"), &cfg).unwrap_err();
    assert!(matches!(e, Error::AlreadyPromoted { .. }), "{e}");
    let mut gcp = PromoteArgs::new("v0.1.2", "prod");
    gcp.provider = Some("gcp".into());
    let e = promote(&repo, &gcp, &cfg).unwrap_err();
    assert!(matches!(e, Error::NoPromotionTarget { .. }), "{e}");
    let e = promote(&repo, &PromoteArgs::new("v0.1.2", "staging"), &cfg).unwrap_err();
    assert!(
        e.to_string()
            .contains("no [[promote.targets]] entry for env staging"),
        "{e}"
    );
    assert_eq!(branches(), before, "no refusal created a branch");

    // With --allow-downgrade: a rollback whose notes list what goes away.
    let mut down = PromoteArgs::new("v0.1.0", "prod");
    down.allow_downgrade = true;
    let p = promote(&repo, &down, &cfg).unwrap();
    assert_eq!(p.branch, "promote/v0.1.0-prod");
    assert!(
        p.message
            .starts_with("chore(release): promote v0.1.0 to aws prod\n"),
        "{}",
        p.message
    );
    assert!(
        p.message.contains("## Rolled back from v0.1.1"),
        "{}",
        p.message
    );
    assert!(
        p.message
            .contains("run two worker machines per cluster (#14)"),
        "{}",
        p.message
    );
}

#[test]
fn promote_by_label_and_semver_keeps_quoting_and_comments() {
    if !git_or_skip("promote_by_label_and_semver_keeps_quoting_and_comments") {
        return;
    }
    let mut f = Fixture::new("promote-semver");
    let a = "# release source for prod — ü\napiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: GitRepository\nmetadata:\n  name: fleet-release\n  namespace: flux-system\n  labels: {flotilla.io/release: prod}\nspec:\n  url: ssh://git@example.com/fleet.git   # keep\n  ref:\n    semver: '0.1.0'   # pinned by flotilla\n  interval: 5m\n";
    let b = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {tag: v0.1.0}\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: release\nspec:\n  ref: {tag: \"v0.1.0\"}\n";
    let other = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: main}\nspec:\n  ref:\n    tag: v0.1.0\n";
    f.write("clusters/a.yaml", a);
    f.write("clusters/b.yml", b);
    f.write("clusters/other.yaml", other);
    f.commit("x", "feat: one (#1)");
    f.tag("v0.1.0");
    f.commit("x", "feat: two (#2)");
    f.tag("v0.2.0");
    f.write(
        "flotilla.toml",
        "[[promote.targets]]\nenv = \"prod\"\nnames = [\"release\"]\nlabels = { \"flotilla.io/release\" = \"prod\" }\n",
    );
    f.commit("x", "chore: config (#3)");
    let cfg = Config::load(f.path()).unwrap();
    let repo = Repo::open(f.path()).unwrap();

    let pins = find_pins(&repo, repo.resolve("HEAD").unwrap(), "prod", None, &cfg).unwrap();
    let found: Vec<(&str, &str)> = pins
        .iter()
        .map(|p| (p.object.as_str(), p.field.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("flux-system/fleet-release", "spec.ref.semver"),
            ("release", "spec.ref.tag")
        ]
    );

    let p = promote(&repo, &PromoteArgs::new("v0.2.0", "prod"), &cfg).unwrap();
    assert_eq!(p.edits.len(), 2);
    let show = |path: &str| f.git(&["show", &format!("{}:{path}", p.branch)]);
    assert_eq!(
        show("clusters/a.yaml"),
        a.replace("semver: '0.1.0'", "semver: '0.2.0'")
    );
    assert_eq!(
        show("clusters/b.yml"),
        b.replace("{tag: \"v0.1.0\"}", "{tag: \"v0.2.0\"}")
    );
    assert_eq!(show("clusters/other.yaml"), other);
    assert!(
        p.message
            .contains("Promotes prod from 0.1.0, v0.1.0 to v0.2.0."),
        "{}",
        p.message
    );
    assert!(
        p.message.contains("- two (#2)") && !p.message.contains("one (#1)"),
        "{}",
        p.message
    );
}

#[test]
fn promote_refuses_a_commit_pin() {
    if !git_or_skip("promote_refuses_a_commit_pin") {
        return;
    }
    let mut f = Fixture::new("promote-commit");
    f.write(
        "r.yaml",
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: release}\nspec:\n  ref:\n    commit: abc\n    tag: v0.1.0\n",
    );
    f.commit("x", "feat: one (#1)");
    f.tag("v0.1.0");
    let repo = Repo::open(f.path()).unwrap();
    let e = promote(
        &repo,
        &PromoteArgs::new("v0.1.0", "prod"),
        &Config::default(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "r.yaml:6: GitRepository release pins spec.ref.commit, which promote does not edit"
    );
}

#[test]
fn promote_pushes_the_branch() {
    if !git_or_skip("promote_pushes_the_branch") {
        return;
    }
    let mut f = Fixture::new("promote-push");
    f.write(
        "r.yaml",
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: release}\nspec:\n  ref:\n    tag: v0.1.0\n",
    );
    f.commit("x", "feat: one (#1)");
    f.tag("v0.1.0");
    f.commit("x", "fix: two (#2)");
    f.tag("v0.1.1");
    let remote = common::TempDir::new("promote-push-remote");
    git_in(&remote.0, &["init", "-q", "--bare"]);
    f.git(&["remote", "add", "origin", remote.0.to_str().unwrap()]);
    let repo = Repo::open(f.path()).unwrap();
    let mut args = PromoteArgs::new("0.1.1", "prod");
    args.push = true;
    let p = promote(&repo, &args, &Config::default()).unwrap();
    assert!(p.pushed);
    let refs = git_in(
        &remote.0,
        &["for-each-ref", "--format=%(refname) %(objectname)"],
    );
    assert_eq!(
        refs.trim(),
        format!("refs/heads/promote/v0.1.1-prod {}", p.commit)
    );

    // A remote that does not exist: the error names the git command.
    let mut cfg = Config::default();
    cfg.promote.remote = "nowhere".into();
    let mut args = PromoteArgs::new("0.1.1", "prod");
    args.push = true;
    f.git(&["branch", "-D", "promote/v0.1.1-prod"]);
    let e = promote(&repo, &args, &cfg).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("`git push nowhere refs/heads/promote/v0.1.1-prod"),
        "{e}"
    );
}
