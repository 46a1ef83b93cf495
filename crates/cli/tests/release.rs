//! End-to-end tests of the release commands as a process: exit codes and output of
//! `release lint`, `release notes`, `promote` and `diff` on the example platform repository
//! built by `examples/make-platform-repo.sh` (needs git and bash: fails without them under
//! CI=true, skips elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
mod common;

use common::{flotilla, tool_available};
use std::process::Command;

fn platform_repo(name: &str) -> PathBuf {
    let dest = std::env::temp_dir().join(format!(
        "flotilla-cli-release-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dest);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/make-platform-repo.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(&dest)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dest
}

#[test]
fn lint_title_exit_codes() {
    let good = flotilla(&[
        "release",
        "lint",
        "--title",
        "feat(tenants): onboard team-a (#42)",
    ]);
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let bad = flotilla(&["release", "lint", "--title", "Update stuff"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("format"));
}

#[test]
fn notes_promote_and_diff_on_the_example_platform() {
    if !tool_available("git", &["--version"]) {
        return;
    }
    let repo = platform_repo("flow");
    let r = repo.to_str().unwrap();

    let lint = flotilla(&["release", "lint", "--repo", r, "--range", "v0.1.0..HEAD"]);
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stderr)
    );

    let notes = flotilla(&["release", "notes", "--repo", r, "v0.1.1..v0.1.2"]);
    let text = String::from_utf8(notes.stdout).unwrap();
    assert!(text.contains("add platform-auditor role (#16)"), "{text}");

    let diff = flotilla(&[
        "diff", "--repo", r, "--from", "v0.1.1", "--to", "v0.1.2", "--color", "never",
    ]);
    assert_eq!(diff.status.code(), Some(1), "changes mean exit 1");
    let text = String::from_utf8(diff.stdout).unwrap();
    assert!(text.contains("ClusterRole platform-auditor"), "{text}");
    assert!(text.contains("limits.memory"), "{text}");

    let same = flotilla(&["diff", "--repo", r, "--from", "v0.1.2", "--to", "v0.1.2"]);
    assert_eq!(same.status.code(), Some(0), "no change means exit 0");

    let bad = flotilla(&["diff", "--repo", r, "--from", "v9.9.9", "--to", "v0.1.2"]);
    assert_eq!(bad.status.code(), Some(2), "an error means exit 2");

    let promote = flotilla(&["promote", "v0.1.2", "--repo", r]);
    assert!(
        promote.status.success(),
        "{}",
        String::from_utf8_lossy(&promote.stderr)
    );
    let log = Command::new("git")
        .args(["-C", r, "log", "-1", "--format=%s", "promote/v0.1.2-prod"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(log.stdout).unwrap().trim(),
        "chore(release): promote v0.1.2 to aws prod"
    );
    let _ = std::fs::remove_dir_all(&repo);
}
