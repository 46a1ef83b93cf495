//! Artifact contents (ignore, include, sparse, submodules), shared fetches, polling and
//! failure handling against real repositories.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{artifact_files, git, need, Fixture, Tmp};
use flotilla_source::{GitRef, Include, SourceError, SourceSpec, Sources, UrlRewriter};

fn sources(tmp: &Tmp) -> Sources {
    Sources::open(&tmp.path().join("store"), 3)
        .unwrap()
        .with_rewriter(UrlRewriter::none())
}

fn main_spec(f: &Fixture) -> SourceSpec {
    SourceSpec::new(&f.url(), GitRef::branch("main"))
}

#[test]
fn ignore_rules_sourceignore_and_defaults() {
    if !need("git", &["--version"]) {
        return;
    }
    let f = Fixture::new("ignore");
    f.commit(
        &[
            ("apps/deploy.yaml", "kind: Deployment\n"),
            ("apps/notes.txt", "n"),
            ("docs/readme.md", "d"),
            ("logo.png", "png"),
            (".github/workflows/ci.yaml", "ci"),
            (".gitignore", "target/\n"),
            ("top.txt", "t"),
        ],
        "c",
    );
    f.push(&["main"]);
    let tmp = Tmp::new("ignore-store");
    let s = sources(&tmp);
    // No .sourceignore, no spec.ignore: Flux defaults.
    let a = s.reconcile(&main_spec(&f), Duration::ZERO).unwrap();
    let files = artifact_files(&a.path);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "apps/deploy.yaml",
            "apps/notes.txt",
            "docs/readme.md",
            "top.txt"
        ]
    );

    // spec.ignore replaces the defaults (VCS files stay excluded).
    let spec = SourceSpec {
        ignore: Some("docs/\n*.txt\n!apps/notes.txt\n".into()),
        ..main_spec(&f)
    };
    let a = s.reconcile(&spec, Duration::ZERO).unwrap();
    let names: Vec<String> = artifact_files(&a.path).into_keys().collect();
    assert_eq!(
        names,
        [
            ".github/workflows/ci.yaml",
            "apps/deploy.yaml",
            "apps/notes.txt",
            "logo.png"
        ]
    );

    // A .sourceignore in a subdirectory applies below it only.
    f.commit(&[("apps/.sourceignore", "*.txt\n")], "sourceignore");
    f.push(&["main"]);
    let a = s.reconcile(&main_spec(&f), Duration::ZERO).unwrap();
    let files = artifact_files(&a.path);
    assert!(!files.contains_key("apps/notes.txt"));
    assert!(files.contains_key("top.txt"));
    assert!(files.contains_key("apps/.sourceignore"));
}

#[test]
fn include_and_sparse_checkout() {
    if !need("git", &["--version"]) {
        return;
    }
    let lib = Fixture::new("include-lib");
    lib.commit(
        &[("deploy/crd.yaml", "crd\n"), ("README.md", "lib\n")],
        "lib",
    );
    lib.push(&["main"]);
    let app = Fixture::new("include-app");
    app.commit(
        &[
            ("apps/a.yaml", "a\n"),
            ("infra/b.yaml", "b\n"),
            ("root.yaml", "r\n"),
            ("vendor/lib/stale.yaml", "old\n"),
        ],
        "app",
    );
    app.push(&["main"]);
    let tmp = Tmp::new("include-store");
    let s = sources(&tmp);
    let lib_artifact = s.reconcile(&main_spec(&lib), Duration::ZERO).unwrap();
    let spec = SourceSpec {
        include: vec![Include {
            artifact: lib_artifact.clone(),
            from_path: "deploy".into(),
            to_path: "vendor/lib".into(),
        }],
        ..main_spec(&app)
    };
    let files = artifact_files(&s.reconcile(&spec, Duration::ZERO).unwrap().path);
    assert_eq!(
        files.get("vendor/lib/crd.yaml").map(String::as_str),
        Some("crd\n")
    );
    assert!(!files.contains_key("vendor/lib/stale.yaml"));
    assert!(!files.contains_key("vendor/lib/README.md"));
    assert!(files.contains_key("apps/a.yaml"));

    let sparse = SourceSpec {
        sparse_checkout: vec!["apps".into()],
        ..main_spec(&app)
    };
    let names: Vec<String> = artifact_files(&s.reconcile(&sparse, Duration::ZERO).unwrap().path)
        .into_keys()
        .collect();
    assert_eq!(names, ["apps/a.yaml", "root.yaml"]);
    let missing = SourceSpec {
        sparse_checkout: vec!["nope".into()],
        ..main_spec(&app)
    };
    let e = s.reconcile(&missing, Duration::ZERO).unwrap_err();
    assert!(matches!(e.error, SourceError::InvalidSpec(_)), "{e}");
}

#[test]
fn recurse_submodules() {
    if !need("git", &["--version"]) {
        return;
    }
    let sub = Fixture::new("sub");
    sub.commit(&[("lib.yaml", "lib\n")], "sub");
    sub.push(&["main"]);
    let top = Fixture::new("top");
    top.commit(&[("top.yaml", "top\n")], "top");
    git(
        &top.work,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            &sub.url(),
            "vendor/sub",
        ],
    );
    git(&top.work, &["commit", "-q", "-m", "add submodule"]);
    top.push(&["main"]);
    let tmp = Tmp::new("sub-store");
    let s = sources(&tmp);
    let without = artifact_files(&s.reconcile(&main_spec(&top), Duration::ZERO).unwrap().path);
    assert!(!without.contains_key("vendor/sub/lib.yaml"));
    let spec = SourceSpec {
        recurse_submodules: true,
        ..main_spec(&top)
    };
    let with = artifact_files(&s.reconcile(&spec, Duration::ZERO).unwrap().path);
    assert_eq!(
        with.get("vendor/sub/lib.yaml").map(String::as_str),
        Some("lib\n")
    );
    assert!(!with.contains_key(".gitmodules"));
}

#[test]
fn one_fetch_for_a_thousand_gitrepositories() {
    if !need("git", &["--version"]) {
        return;
    }
    let f = Fixture::new("dedup");
    f.commit(&[("a.yaml", "a\n")], "a");
    f.push(&["main"]);
    let tmp = Tmp::new("dedup-store");
    let s = Arc::new(sources(&tmp));
    let spec = main_spec(&f);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            let spec = spec.clone();
            std::thread::spawn(move || {
                (0..125)
                    .map(|_| s.reconcile(&spec, Duration::from_secs(600)).unwrap().digest)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let digests: std::collections::BTreeSet<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(digests.len(), 1);
    let st = s.stats();
    assert_eq!(st.requests, 1000);
    assert_eq!(st.remote_checks, 1, "{st:?}");
    assert_eq!(st.fetches, 1, "{st:?}");
    assert_eq!(st.artifacts_built, 1, "{st:?}");
    // Other content settings on the same (url, ref) share the fetch, not the archive.
    let other = SourceSpec {
        ignore: Some("*.md\n".into()),
        ..spec
    };
    s.reconcile(&other, Duration::from_secs(600)).unwrap();
    let st2 = s.stats();
    assert_eq!(
        (st2.fetches, st2.remote_checks, st2.artifacts_built),
        (1, 1, 2)
    );
}

#[test]
fn no_change_poll_downloads_nothing_new_commit_downloads_once() {
    if !need("git", &["--version"]) {
        return;
    }
    let f = Fixture::new("poll");
    f.commit(&[("a.yaml", "1\n")], "1");
    f.push(&["main"]);
    let tmp = Tmp::new("poll-store");
    let s = sources(&tmp);
    let spec = main_spec(&f);
    let first = s.reconcile(&spec, Duration::ZERO).unwrap();
    let repo = std::fs::read_dir(tmp.path().join("store/repos"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let packs = |p: &std::path::Path| std::fs::read_dir(p.join("objects/pack")).unwrap().count();
    let before = packs(&repo);
    for _ in 0..5 {
        assert_eq!(s.reconcile(&spec, Duration::ZERO).unwrap(), first);
    }
    let st = s.stats();
    assert_eq!(st.remote_checks, 6);
    assert_eq!(st.fetches, 1);
    assert_eq!(packs(&repo), before, "no pack was received");
    let c2 = f.commit(&[("a.yaml", "2\n")], "2");
    f.push(&["main"]);
    let second = s.reconcile(&spec, Duration::ZERO).unwrap();
    assert_eq!(second.revision, format!("main@sha1:{c2}"));
    assert_eq!(s.stats().fetches, 2);
}

#[test]
fn failed_fetch_keeps_serving_the_last_artifact() {
    if !need("git", &["--version"]) {
        return;
    }
    let f = Fixture::new("serve");
    f.commit(&[("a.yaml", "1\n")], "1");
    f.push(&["main"]);
    let tmp = Tmp::new("serve-store");
    let s = sources(&tmp);
    let spec = main_spec(&f);
    let good = s.reconcile(&spec, Duration::ZERO).unwrap();
    let moved = f.tmp.path().join("moved.git");
    std::fs::rename(&f.remote, &moved).unwrap();
    let failure = s.reconcile(&spec, Duration::ZERO).unwrap_err();
    assert!(
        matches!(failure.error, SourceError::Unreachable { .. }),
        "{failure:?}"
    );
    assert_eq!(failure.serving.as_deref(), Some(&good));
    assert!(good.path.exists());
    // A fresh service over the same store still knows what it served.
    let again = sources(&tmp);
    let failure = again.reconcile(&spec, Duration::ZERO).unwrap_err();
    assert_eq!(failure.serving.map(|a| a.digest), Some(good.digest));
    std::fs::rename(&moved, &f.remote).unwrap();
    assert!(s.reconcile(&spec, Duration::ZERO).is_ok());
}

#[test]
fn corrupt_remote_is_reported() {
    if !need("git", &["--version"]) {
        return;
    }
    let f = Fixture::new("corrupt");
    f.commit(&[("a.yaml", "1\n")], "1");
    f.push(&["main"]);
    // Remove the loose tree object of the pushed commit in the remote.
    let tree = git(&f.remote, &["rev-parse", "main^{tree}"]);
    let obj = f.remote.join("objects").join(&tree[..2]).join(&tree[2..]);
    assert!(obj.exists(), "pushed objects are loose");
    std::fs::remove_file(&obj).unwrap();
    let tmp = Tmp::new("corrupt-store");
    let s = sources(&tmp);
    let e = s
        .reconcile(&main_spec(&f), Duration::ZERO)
        .unwrap_err()
        .error;
    assert!(matches!(e, SourceError::Corrupt { .. }), "{e:?}");
    assert!(e.to_string().starts_with("corrupt repository '"), "{e}");
    assert!(!e.to_string().contains('\n'));
}

#[test]
fn damaged_cache_repository_is_rebuilt() {
    if !need("git", &["--version"]) {
        return;
    }
    let f = Fixture::new("heal");
    f.commit(&[("a.yaml", "1\n")], "1");
    f.push(&["main"]);
    let tmp = Tmp::new("heal-store");
    let s = sources(&tmp);
    let spec = main_spec(&f);
    s.reconcile(&spec, Duration::ZERO).unwrap();
    // Destroy every object in the cache repository, keep its refs.
    let repo = std::fs::read_dir(tmp.path().join("store/repos"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_dir_all(repo.join("objects/pack")).unwrap();
    std::fs::create_dir_all(repo.join("objects/pack")).unwrap();
    let c2 = f.commit(&[("a.yaml", "2\n")], "2");
    f.push(&["main"]);
    let a = s.reconcile(&spec, Duration::ZERO).unwrap();
    assert_eq!(a.revision, format!("main@sha1:{c2}"));
    assert_eq!(artifact_files(&a.path)["a.yaml"], "2\n");
}

#[test]
fn same_tree_same_digest() {
    if !need("git", &["--version"]) {
        return;
    }
    let f = Fixture::new("digest");
    f.commit(&[("a.yaml", "1\n"), ("bin/run.sh", "#!/bin/sh\n")], "1");
    f.push(&["main"]);
    let tmp = Tmp::new("digest-store");
    let s = sources(&tmp);
    let a = s.reconcile(&main_spec(&f), Duration::ZERO).unwrap();
    f.commit(&[], "empty commit, same tree");
    f.push(&["main"]);
    let b = s.reconcile(&main_spec(&f), Duration::ZERO).unwrap();
    assert_ne!(a.revision, b.revision);
    assert_eq!(a.digest, b.digest);
    assert!(a.digest.starts_with("sha256:") && a.digest.len() == 71);
}
