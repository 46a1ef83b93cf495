//! Reference resolution and fetching against real repositories (file transport).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{artifact_files, git, need, Fixture, Tmp};
use flotilla_source::{GitRef, SourceError, SourceSpec, Sources, UrlRewriter};

fn sources(tmp: &Tmp) -> Sources {
    Sources::open(&tmp.path().join("store"), 3)
        .unwrap()
        .with_rewriter(UrlRewriter::none())
}

/// main: 3 commits; tags v0.1.0 (lightweight), v0.1.5 (annotated), 0.2.0, v1.0.0-rc.1,
/// latest; branch dev; master.
fn fixture() -> (Fixture, Vec<String>) {
    let f = Fixture::new("refs");
    let c1 = f.commit(&[("app.yaml", "v: 1\n")], "one");
    git(&f.work, &["tag", "v0.1.0"]);
    let c2 = f.commit(&[("app.yaml", "v: 2\n")], "two");
    git(&f.work, &["tag", "-a", "v0.1.5", "-m", "annotated"]);
    let c3 = f.commit(&[("app.yaml", "v: 3\n")], "three");
    git(&f.work, &["tag", "0.2.0"]);
    git(&f.work, &["tag", "latest"]);
    git(&f.work, &["tag", "-a", "v1.0.0-rc.1", "-m", "rc"]);
    git(&f.work, &["branch", "dev", &c1]);
    git(&f.work, &["branch", "master", &c2]);
    f.push(&["main", "dev", "master", "--tags"]);
    (f, vec![c1, c2, c3])
}

fn resolve(s: &Sources, url: &str, r: GitRef) -> Result<String, SourceError> {
    s.resolve(&SourceSpec::new(url, r))
        .map(|r| r.revision.to_v1())
}

#[test]
fn branches_tags_names_and_commits() {
    if !need("git", &["--version"]) {
        return;
    }
    let (f, c) = fixture();
    let tmp = Tmp::new("refs-store");
    let s = sources(&tmp);
    let url = f.url();
    assert_eq!(
        resolve(&s, &url, GitRef::branch("main")).unwrap(),
        format!("main@sha1:{}", c[2])
    );
    assert_eq!(
        resolve(&s, &url, GitRef::branch("dev")).unwrap(),
        format!("dev@sha1:{}", c[0])
    );
    // No ref: branch master.
    assert_eq!(
        resolve(&s, &url, GitRef::default()).unwrap(),
        format!("master@sha1:{}", c[1])
    );
    // Lightweight and annotated tags both name the commit, not the tag object.
    assert_eq!(
        resolve(&s, &url, GitRef::tag("v0.1.0")).unwrap(),
        format!("v0.1.0@sha1:{}", c[0])
    );
    let tag_obj = f.rev("v0.1.5");
    assert_ne!(tag_obj, c[1], "v0.1.5 is an annotated tag object");
    assert_eq!(
        resolve(&s, &url, GitRef::tag("v0.1.5")).unwrap(),
        format!("v0.1.5@sha1:{}", c[1])
    );
    // Full names.
    assert_eq!(
        resolve(&s, &url, GitRef::name("refs/heads/dev")).unwrap(),
        format!("refs/heads/dev@sha1:{}", c[0])
    );
    git(&f.remote, &["update-ref", "refs/pull/7/head", &c[1]]);
    assert_eq!(
        resolve(&s, &url, GitRef::name("refs/pull/7/head")).unwrap(),
        format!("refs/pull/7/head@sha1:{}", c[1])
    );
    // A bare commit below the tip, and a commit on a branch.
    assert_eq!(
        resolve(&s, &url, GitRef::commit(&c[0])).unwrap(),
        format!("sha1:{}", c[0])
    );
    let on_branch = GitRef {
        branch: Some("main".into()),
        commit: Some(c[1].clone()),
        ..Default::default()
    };
    assert_eq!(
        resolve(&s, &url, on_branch.clone()).unwrap(),
        format!("main@sha1:{}", c[1])
    );
    let a = s
        .reconcile(&SourceSpec::new(&url, on_branch), Duration::ZERO)
        .unwrap();
    assert_eq!(artifact_files(&a.path)["app.yaml"], "v: 2\n");
    // Precedence: commit beats tag.
    let both = GitRef {
        tag: Some("v0.1.0".into()),
        commit: Some(c[2].clone()),
        ..Default::default()
    };
    assert_eq!(resolve(&s, &url, both).unwrap(), format!("sha1:{}", c[2]));
}

#[test]
fn semver_ranges_pick_highest_matching_tag() {
    if !need("git", &["--version"]) {
        return;
    }
    let (f, c) = fixture();
    let tmp = Tmp::new("semver-store");
    let s = sources(&tmp);
    let url = f.url();
    let cases = [
        (">=0.1.0 <0.2.0", format!("v0.1.5@sha1:{}", c[1])),
        ("~0.1", format!("v0.1.5@sha1:{}", c[1])),
        ("0.1.x", format!("v0.1.5@sha1:{}", c[1])),
        ("<0.1.5", format!("v0.1.0@sha1:{}", c[0])),
        ("*", format!("0.2.0@sha1:{}", c[2])),
        ("^0.1 || ^0.2", format!("0.2.0@sha1:{}", c[2])),
        (">=1.0.0-rc.0", format!("v1.0.0-rc.1@sha1:{}", c[2])),
    ];
    for (range, want) in cases {
        assert_eq!(
            resolve(&s, &url, GitRef::semver(range)).unwrap(),
            want,
            "{range}"
        );
    }
    let e = resolve(&s, &url, GitRef::semver("^1.2")).unwrap_err();
    assert!(matches!(e, SourceError::NoSemverMatch { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!("no tag in '{url}' matches semver range '^1.2'")
    );
    // Semver wins over tag and branch.
    let r = GitRef {
        branch: Some("dev".into()),
        tag: Some("v0.1.0".into()),
        semver: Some("~0.1".into()),
        ..Default::default()
    };
    assert_eq!(
        resolve(&s, &url, r).unwrap(),
        format!("v0.1.5@sha1:{}", c[1])
    );
    // The artifact of a semver ref holds the tagged tree.
    let a = s
        .reconcile(
            &SourceSpec::new(&url, GitRef::semver("~0.1")),
            Duration::ZERO,
        )
        .unwrap();
    assert_eq!(a.revision, format!("v0.1.5@sha1:{}", c[1]));
    assert_eq!(artifact_files(&a.path)["app.yaml"], "v: 2\n");
}

#[test]
fn unknown_refs_are_typed_one_line_errors() {
    if !need("git", &["--version"]) {
        return;
    }
    let (f, _) = fixture();
    let tmp = Tmp::new("unknown-store");
    let s = sources(&tmp);
    let url = f.url();
    for (r, kind) in [
        (GitRef::branch("nope"), "branch"),
        (GitRef::tag("v9.9.9"), "tag"),
        (GitRef::name("refs/heads/nope"), "reference"),
        (GitRef::commit(&"ab".repeat(20)), "commit"),
    ] {
        let e = resolve(&s, &url, r).unwrap_err();
        match &e {
            SourceError::UnknownRef { kind: k, .. } => assert_eq!(*k, kind),
            other => panic!("{kind}: {other:?}"),
        }
        assert!(!e.to_string().contains('\n'));
    }
    let gone = format!("file://{}/missing.git", tmp.path().display());
    let e = resolve(&s, &gone, GitRef::branch("main")).unwrap_err();
    assert!(matches!(e, SourceError::Unreachable { .. }), "{e:?}");
    assert!(!e.to_string().contains('\n'), "{e}");
}

#[test]
fn force_pushed_branch_and_deleted_tag() {
    if !need("git", &["--version"]) {
        return;
    }
    let (f, c) = fixture();
    let tmp = Tmp::new("force-store");
    let s = sources(&tmp);
    let url = f.url();
    let main = SourceSpec::new(&url, GitRef::branch("main"));
    let first = s.reconcile(&main, Duration::ZERO).unwrap();
    assert_eq!(first.revision, format!("main@sha1:{}", c[2]));
    // Rewrite history: main now forks from c1.
    git(&f.work, &["reset", "-q", "--hard", &c[0]]);
    let forked = f.commit(&[("app.yaml", "v: forked\n")], "forked");
    f.push(&["--force", "main"]);
    let second = s.reconcile(&main, Duration::ZERO).unwrap();
    assert_eq!(second.revision, format!("main@sha1:{forked}"));
    assert_eq!(artifact_files(&second.path)["app.yaml"], "v: forked\n");
    assert_ne!(first.digest, second.digest);

    let tag = SourceSpec::new(&url, GitRef::tag("latest"));
    let served = s.reconcile(&tag, Duration::ZERO).unwrap();
    git(&f.remote, &["tag", "-d", "latest"]);
    let failure = s.reconcile(&tag, Duration::ZERO).unwrap_err();
    assert!(
        matches!(failure.error, SourceError::UnknownRef { kind: "tag", .. }),
        "{failure}"
    );
    assert_eq!(
        failure.serving.as_deref(),
        Some(&served),
        "the last artifact keeps being served"
    );
    assert!(served.path.exists());
}

#[test]
fn insteadof_rewrites_to_a_local_mirror() {
    if !need("git", &["--version"]) {
        return;
    }
    let (f, c) = fixture();
    let tmp = Tmp::new("insteadof");
    let cfg = tmp.path().join("gitconfig");
    let mirror_base = format!("file://{}/", f.tmp.path().display());
    std::fs::write(
        &cfg,
        format!("[url \"{mirror_base}\"]\n\tinsteadOf = https://git.example.invalid/platform/\n"),
    )
    .unwrap();
    let s = Sources::open(&tmp.path().join("store"), 3)
        .unwrap()
        .with_rewriter(UrlRewriter::from_files(&[cfg]));
    let spec = SourceSpec::new(
        "https://git.example.invalid/platform/remote.git",
        GitRef::branch("main"),
    );
    let a = s.reconcile(&spec, Duration::ZERO).unwrap();
    assert_eq!(a.revision, format!("main@sha1:{}", c[2]));
    // Without the rule the (unresolvable) host is contacted and fails.
    let plain = Sources::open(&tmp.path().join("store2"), 3)
        .unwrap()
        .with_rewriter(UrlRewriter::none());
    let spec = SourceSpec {
        timeout: Duration::from_secs(10),
        ..spec
    };
    assert!(plain.reconcile(&spec, Duration::ZERO).is_err());
}

#[test]
fn shallow_fetch_downloads_only_the_tip() {
    if !need("git", &["--version"]) {
        return;
    }
    let (f, c) = fixture();
    let tmp = Tmp::new("shallow");
    let s = sources(&tmp);
    s.reconcile(
        &SourceSpec::new(&f.url(), GitRef::branch("main")),
        Duration::ZERO,
    )
    .unwrap();
    let repos: Vec<_> = std::fs::read_dir(tmp.path().join("store/repos"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(repos.len(), 1);
    assert!(
        repos[0].join("shallow").exists(),
        "cache repository is shallow"
    );
    let has = |id: &str| {
        std::process::Command::new("git")
            .args(["cat-file", "-e", id])
            .current_dir(&repos[0])
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .status()
            .unwrap()
            .success()
    };
    assert!(has(&c[2]));
    assert!(!has(&c[0]), "history below the tip was not downloaded");
}
