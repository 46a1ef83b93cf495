//! End-to-end: `release create` on fixture histories.

mod common;

use common::{expected, git_or_skip, realistic, Fixture};
use flotilla_release::config::ReleaseConfig;
use flotilla_release::create::create;
use flotilla_release::version::VersionSpec;
use flotilla_release::{Error, Repo};

#[test]
fn create_tags_commits_changelog_and_leaves_a_clean_tree() {
    if !git_or_skip("create_tags_commits_changelog_and_leaves_a_clean_tree") {
        return;
    }
    let (mut f, shas) = realistic("create");
    let cfg = ReleaseConfig::default();
    let before = f.head();

    // A breaking change below 1.0: minor bump.
    let repo = Repo::open(f.path()).unwrap();
    let c = create(&repo, &VersionSpec::Auto, &cfg).unwrap();
    assert_eq!(c.tag, "v0.2.0");
    assert_eq!(c.previous.as_deref(), Some("v0.1.0"));
    assert_eq!(
        f.git(&["log", "-1", "--format=%s"]).trim(),
        "chore(release): v0.2.0"
    );
    assert_eq!(f.rev("HEAD^"), before);
    assert_eq!(f.rev("v0.2.0^{commit}"), f.head());
    assert_eq!(
        f.git(&["cat-file", "-t", "v0.2.0"]).trim(),
        "tag",
        "annotated"
    );
    let tag_message = f.git(&["for-each-ref", "--format=%(contents)", "refs/tags/v0.2.0"]);
    assert_eq!(tag_message.trim_end(), c.notes.to_markdown().trim_end());
    assert!(tag_message.starts_with("## v0.2.0 (2024-05-20)\n"));
    assert_eq!(
        f.git(&["status", "--porcelain"]),
        "",
        "index and work tree follow the commit"
    );
    // Only CHANGELOG.md changed.
    assert_eq!(
        f.git(&["diff", "--name-only", "HEAD^", "HEAD"]).trim(),
        "CHANGELOG.md"
    );

    // Immediately again: nothing to release.
    let repo = Repo::open(f.path()).unwrap();
    let err = create(&repo, &VersionSpec::Auto, &cfg).unwrap_err();
    assert!(matches!(err, Error::EmptyRange(_)), "{err}");

    // A fix: patch bump; the CHANGELOG grows at the top.
    f.commit("providers/aws/x.yaml", "fix(aws): pin AMI (#13)");
    f.commit("features/y.yaml", "feat(features): add y (#14)");
    let repo = Repo::open(f.path()).unwrap();
    let c = create(&repo, &VersionSpec::Auto, &cfg).unwrap();
    assert_eq!(c.tag, "v0.2.1", "feat below 1.0 is a patch bump");
    let changelog = std::fs::read_to_string(f.path().join("CHANGELOG.md")).unwrap();
    let want = expected("CHANGELOG.md", &[("bad", shas.bad[..7].to_string())]);
    assert_eq!(changelog, want);
    assert_eq!(f.git(&["show", "HEAD:CHANGELOG.md"]), want);
    assert_eq!(f.git(&["status", "--porcelain"]), "");
}

#[test]
fn create_bumps_above_one() {
    if !git_or_skip("create_bumps_above_one") {
        return;
    }
    let mut f = Fixture::new("create-1x");
    f.commit("a", "feat: first (#1)");
    f.tag("v1.4.2");
    f.commit("a", "fix: a fix (#2)");
    let cfg = ReleaseConfig::default();
    let repo = Repo::open(f.path()).unwrap();
    assert_eq!(
        create(&repo, &VersionSpec::Auto, &cfg).unwrap().tag,
        "v1.4.3"
    );
    f.commit("a", "feat(x): a feature (#3)");
    assert_eq!(
        create(&repo, &VersionSpec::Auto, &cfg).unwrap().tag,
        "v1.5.0"
    );
    f.commit("a", "refactor!: drop the old API (#4)");
    assert_eq!(
        create(&repo, &VersionSpec::Auto, &cfg).unwrap().tag,
        "v2.0.0"
    );
    f.commit("a", "docs: words (#5)");
    let err = create(&repo, &VersionSpec::Auto, &cfg).unwrap_err();
    assert!(matches!(err, Error::NothingToBump(_)), "{err}");
    assert_eq!(
        create(&repo, &VersionSpec::parse("v2.0.1"), &cfg)
            .unwrap()
            .tag,
        "v2.0.1"
    );
    let tags = f.git(&["tag", "--list"]);
    assert_eq!(tags, "v1.4.2\nv1.4.3\nv1.5.0\nv2.0.0\nv2.0.1\n");
}

#[test]
fn create_refuses() {
    if !git_or_skip("create_refuses") {
        return;
    }
    let mut f = Fixture::new("create-refuse");
    f.commit("a", "feat: first (#1)");
    f.tag("v0.1.0");
    // A tag on a side branch, not reachable from main.
    f.git(&["checkout", "-q", "-b", "side"]);
    f.commit("b", "feat: side (#2)");
    f.tag("v0.3.0");
    f.git(&["checkout", "-q", "main"]);
    f.commit("a", "fix: second (#3)");
    let cfg = ReleaseConfig::default();
    let repo = Repo::open(f.path()).unwrap();
    let head = f.head();

    let e = create(&repo, &VersionSpec::parse("0.3.0"), &cfg).unwrap_err();
    assert_eq!(e.to_string(), "tag `v0.3.0` already exists");
    let e = create(&repo, &VersionSpec::parse("1.2"), &cfg).unwrap_err();
    assert!(matches!(e, Error::NotSemver(_)), "{e}");
    let e = create(&repo, &VersionSpec::parse("0.1.0"), &cfg).unwrap_err();
    assert_eq!(
        e.to_string(),
        "version 0.1.0 is not greater than the last release 0.1.0"
    );
    let e = create(&repo, &VersionSpec::parse("0.0.9"), &cfg).unwrap_err();
    assert!(matches!(e, Error::NotGreater { .. }), "{e}");

    // A modified tracked file: dirty. An untracked file alone is not.
    f.write("untracked.txt", "x");
    std::fs::write(f.path().join("a"), "changed\n").unwrap();
    let e = create(&repo, &VersionSpec::Auto, &cfg).unwrap_err();
    assert!(matches!(e, Error::DirtyTree), "{e}");
    f.git(&["checkout", "--", "a"]);
    // Staged changes count too.
    f.write("a", "staged\n");
    f.git(&["add", "a"]);
    let repo = Repo::open(f.path()).unwrap();
    assert!(matches!(
        create(&repo, &VersionSpec::Auto, &cfg),
        Err(Error::DirtyTree)
    ));
    f.git(&["reset", "-q", "--hard"]);

    assert_eq!(f.head(), head, "no refusal wrote anything");
    let repo = Repo::open(f.path()).unwrap();
    assert_eq!(
        create(&repo, &VersionSpec::Auto, &cfg).unwrap().tag,
        "v0.1.1"
    );
}

#[test]
fn create_first_release_without_tags() {
    if !git_or_skip("create_first_release_without_tags") {
        return;
    }
    let mut f = Fixture::new("create-first");
    f.commit("a", "chore: start");
    f.commit("CHANGELOG.md", "# Changelog");
    let cfg = ReleaseConfig::default();
    let repo = Repo::open(f.path()).unwrap();
    let e = create(&repo, &VersionSpec::Auto, &cfg).unwrap_err();
    assert!(matches!(e, Error::NothingToBump(_)));
    f.commit("a", "feat: something (#1)");
    let c = create(&repo, &VersionSpec::Auto, &cfg).unwrap();
    assert_eq!(c.tag, "v0.1.0");
    let log = std::fs::read_to_string(f.path().join("CHANGELOG.md")).unwrap();
    assert!(
        log.starts_with(
            "# Changelog\n\n## v0.1.0 (2024-05-04)\n\n### Features\n\n- something (#1)\n"
        ),
        "{log}"
    );
    assert!(log.contains("### Chores\n\n- start ("), "{log}");
}
