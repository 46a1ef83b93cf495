//! End-to-end: lint and notes on a realistic fixture history.

mod common;

use common::{expected, git_or_skip, realistic, Fixture};
use flotilla_release::config::{Config, ReleaseConfig};
use flotilla_release::lint::{self, Rule};
use flotilla_release::notes;
use flotilla_release::{Error, Repo};

#[test]
fn lint_range_names_each_bad_commit_and_rule() {
    if !git_or_skip("lint_range_names_each_bad_commit_and_rule") {
        return;
    }
    let (f, shas) = realistic("lint");
    let repo = Repo::open(f.path()).unwrap();
    let findings = lint::lint_range(&repo, None, &ReleaseConfig::default()).unwrap();
    let got: Vec<(String, Rule)> = findings
        .iter()
        .map(|x| (x.commit.clone().unwrap(), x.rule))
        .collect();
    assert_eq!(
        got,
        [
            (shas.bad[..7].to_string(), Rule::Format),
            (shas.weird[..7].to_string(), Rule::Type)
        ]
    );
    assert!(findings[0]
        .to_string()
        .starts_with(&format!("{} \"update readme\": [format]", &shas.bad[..7])));
    assert!(findings[1]
        .to_string()
        .contains("type `feature` is not one of"));
}

#[test]
fn lint_range_merges_are_judged_by_what_they_bring() {
    if !git_or_skip("lint_range_merges_are_judged_by_what_they_bring") {
        return;
    }
    let (f, _) = realistic("lint-pr");
    let repo = Repo::open(f.path()).unwrap();
    // The "wip" commits come in through a PR merge: not linted. The docs commit of a plain
    // merge is linted (and passes). With require-pr, only the bad title lacks a number —
    // the PR merge's number comes from its own title.
    let cfg = ReleaseConfig {
        require_pr: true,
        ..ReleaseConfig::default()
    };
    let findings = lint::lint_range(&repo, None, &cfg).unwrap();
    let titles: Vec<&str> = findings.iter().map(|x| x.title.as_str()).collect();
    assert_eq!(titles, ["update readme", "Feature(aws): weird type (#12)"]);

    // An explicit range: the first release's history is clean.
    let findings = lint::lint_range(&repo, Some("..v0.1.0"), &cfg).unwrap();
    assert_eq!(
        findings.iter().map(|x| x.rule).collect::<Vec<_>>(),
        [Rule::PrNumber],
        "chore: initial layout has no (#N)"
    );
}

#[test]
fn lint_range_honours_flotilla_toml_types_and_scopes() {
    if !git_or_skip("lint_range_honours_flotilla_toml_types_and_scopes") {
        return;
    }
    let (f, _) = realistic("lint-cfg");
    f.write(
        "flotilla.toml",
        "[release]\ntypes = [\"feat\", \"fix\", \"revert\", \"chore\", \"docs\", \"perf\", \"providers\", \"tenants\", \"feature\"]\nscopes = [\"aws\", \"features\", \"tenants\", \"deps\"]\n",
    );
    let cfg = Config::load(f.path()).unwrap();
    let repo = Repo::open(f.path()).unwrap();
    let findings = lint::lint_range(&repo, Some("v0.1.0..HEAD"), &cfg.release).unwrap();
    let got: Vec<(String, Rule)> = findings.iter().map(|x| (x.title.clone(), x.rule)).collect();
    assert_eq!(
        got,
        [
            ("tenants(dummy): raise quota (#5)".to_string(), Rule::Scope),
            ("update readme".to_string(), Rule::Format),
        ]
    );
}

#[test]
fn lint_bad_range_and_revision() {
    if !git_or_skip("lint_bad_range_and_revision") {
        return;
    }
    let (f, _) = realistic("lint-bad");
    let repo = Repo::open(f.path()).unwrap();
    let cfg = ReleaseConfig::default();
    assert!(matches!(
        lint::lint_range(&repo, Some("v0.1.0"), &cfg),
        Err(Error::BadRange(_))
    ));
    let err = lint::lint_range(&repo, Some("nope..HEAD"), &cfg).unwrap_err();
    assert_eq!(err.to_string(), "unknown revision `nope`");
}

#[test]
fn notes_markdown_matches_fixture() {
    if !git_or_skip("notes_markdown_matches_fixture") {
        return;
    }
    let (f, shas) = realistic("notes");
    let repo = Repo::open(f.path()).unwrap();
    let notes = notes::collect(&repo, None, &ReleaseConfig::default()).unwrap();
    assert_eq!(notes.range, "v0.1.0..HEAD");
    let want = expected("notes.md", &[("bad", shas.bad[..7].to_string())]);
    assert_eq!(notes.to_markdown(), want);
    // The cancelled pair is nowhere.
    assert!(!notes.to_markdown().contains("spot"));
    assert!(!notes.to_markdown().contains(&shas.spot[..7]));
}

#[test]
fn notes_json_carries_the_same_entries() {
    if !git_or_skip("notes_json_carries_the_same_entries") {
        return;
    }
    let (f, _) = realistic("notes-json");
    let repo = Repo::open(f.path()).unwrap();
    let notes = notes::collect(&repo, Some("v0.1.0..HEAD"), &ReleaseConfig::default()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&notes.to_json()).unwrap();
    let kinds: Vec<&str> = v["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "breaking",
            "feat",
            "fix",
            "providers",
            "tenants",
            "perf",
            "revert",
            "docs",
            "chore",
            "other"
        ]
    );
    let breaking = &v["sections"][0]["entries"][0];
    assert_eq!(breaking["type"], "fix");
    assert_eq!(breaking["scope"], "tenants");
    assert_eq!(breaking["pr"], 10);
    assert_eq!(breaking["breaking"], true);
    assert_eq!(
        v["sections"][1]["entries"][1]["subject"],
        "add cert-manager"
    );
    assert_eq!(v["sections"][1]["entries"][1]["pr"], 6);
}

#[test]
fn notes_between_tags_and_from_root() {
    if !git_or_skip("notes_between_tags_and_from_root") {
        return;
    }
    let mut f = Fixture::new("notes-tags");
    f.commit("a", "feat: one (#1)");
    f.tag("v1.0.0");
    f.commit("a", "fix: two (#2)");
    f.tag("v1.0.1");
    f.commit("a", "feat(x): three (#3)");
    let repo = Repo::open(f.path()).unwrap();
    let cfg = ReleaseConfig::default();
    let md = |r: Option<&str>| notes::collect(&repo, r, &cfg).unwrap().to_markdown();
    assert!(md(None).contains("- **x:** three (#3)\n"));
    assert!(
        !md(None).contains("two"),
        "default range starts at the last tag"
    );
    let between = md(Some("v1.0.0..v1.0.1"));
    assert!(between.contains("### Bug fixes\n\n- two (#2)\n"));
    assert!(!between.contains("one") && !between.contains("three"));
    assert!(md(Some("..v1.0.0")).contains("- one (#1)"));
    let release = md(Some("..v1.0.1"));
    assert!(
        release.contains("- two (#2)") && !release.contains("one"),
        "..TAG is that release"
    );
    let empty = notes::collect(&repo, Some("v1.0.1..v1.0.1"), &cfg).unwrap();
    assert!(empty.is_empty());
    assert!(empty.to_markdown().ends_with("No changes.\n"));
}

#[test]
fn hook_lints_the_message_file() {
    if !git_or_skip("hook_lints_the_message_file") {
        return;
    }
    let f = Fixture::new("hook");
    let repo = Repo::open(f.path()).unwrap();
    let path = lint::install_hook(&repo, "flotilla", false).unwrap();
    let script = std::fs::read_to_string(&path).unwrap();
    assert!(script.contains("flotilla release lint --message-file \"$1\""));
    // Installing again replaces our own hook; a foreign hook is kept unless forced.
    lint::install_hook(&repo, "/usr/bin/flotilla", false).unwrap();
    std::fs::write(&path, "#!/bin/sh\necho mine\n").unwrap();
    assert!(lint::install_hook(&repo, "flotilla", false).is_err());
    assert!(lint::install_hook(&repo, "flotilla", true).is_ok());
}
