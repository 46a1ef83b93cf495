//! Fixture repositories built with the `git` program (tests only: the crate itself reads
//! and writes git through gix).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Whether `git` can be run. Without it: under CI=true the test fails, otherwise it is
/// skipped with a printed reason.
pub fn git_or_skip(test: &str) -> bool {
    let ok = Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{test}: the `git` program is needed to build fixture repositories");
        }
        eprintln!("SKIPPED {test}: the `git` program is not installed (needed to build fixtures)");
    }
    ok
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "flotilla-release-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A git repository under construction, with fixed identities and dates.
pub struct Fixture {
    pub tmp: TempDir,
    /// Day counter for commit dates.
    day: u32,
}

impl Fixture {
    pub fn new(name: &str) -> Fixture {
        let f = Fixture {
            tmp: TempDir::new(name),
            day: 0,
        };
        f.git(&["init", "-q", "-b", "main"]);
        f.git(&["config", "user.name", "Test Person"]);
        f.git(&["config", "user.email", "test@example.com"]);
        f.git(&["config", "commit.gpgsign", "false"]);
        f.git(&["config", "tag.gpgsign", "false"]);
        f
    }

    pub fn path(&self) -> &Path {
        &self.tmp.0
    }

    /// The date of the current fixture day.
    pub fn date(&self) -> String {
        format!("2024-05-{:02}T10:00:00Z", self.day + 1)
    }

    /// Runs git in the repository; panics on failure; returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Test Person")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test Person")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .env("GIT_AUTHOR_DATE", self.date())
            .env("GIT_COMMITTER_DATE", self.date())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Writes a file (relative path).
    pub fn write(&self, path: &str, text: &str) {
        let p = self.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Appends a line to `path` and commits everything with `message`, one day later.
    pub fn commit(&mut self, path: &str, message: &str) -> String {
        self.day += 1;
        let p = self.path().join(path);
        let mut text = std::fs::read_to_string(&p).unwrap_or_default();
        text.push_str(&format!("{message}\n"));
        self.write(path, &text);
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--no-verify", "-m", message]);
        self.head()
    }

    /// `git merge --no-ff` of `branch` with `message`.
    pub fn merge(&mut self, branch: &str, message: &str) -> String {
        self.day += 1;
        self.git(&["merge", "-q", "--no-ff", "-m", message, branch]);
        self.head()
    }

    /// `git revert` of a commit (git writes the `Revert "…"` title and body).
    pub fn revert(&mut self, commit: &str) -> String {
        self.day += 1;
        self.git(&["revert", "--no-edit", commit]);
        self.head()
    }

    /// An annotated tag on HEAD.
    pub fn tag(&self, name: &str) {
        self.git(&["tag", "-a", name, "-m", &format!("release {name}")]);
    }

    pub fn head(&self) -> String {
        self.rev("HEAD")
    }

    pub fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev]).trim().to_string()
    }

    pub fn short(&self, rev: &str) -> String {
        self.rev(rev)[..7].to_string()
    }
}

/// The examples/platform repository, built by examples/make-platform-repo.sh.
pub fn platform_repo(name: &str) -> TempDir {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/make-platform-repo.sh");
    assert!(script.exists(), "{} is missing", script.display());
    let tmp = TempDir::new(name);
    let dest = tmp.0.join("platform");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&dest)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "make-platform-repo.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    tmp
}

/// Runs git in `dir` (for inspecting results).
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Expected text from tests/fixtures, with `{name}` placeholders filled in.
pub fn expected(file: &str, vars: &[(&str, String)]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file);
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (k, v) in vars {
        text = text.replace(&format!("{{{k}}}"), v);
    }
    text
}

/// Commits of [`realistic`] referred to by tests.
pub struct Shas {
    pub old: String,
    pub bad: String,
    pub spot: String,
    pub weird: String,
}

/// A trunk with squash-merged titles, a GitHub PR merge, a plain merge, a revert pair, a
/// revert of a released commit, a breaking change, a bad title and an unknown type, on
/// top of the release v0.1.0.
pub fn realistic(name: &str) -> (Fixture, Shas) {
    let mut f = Fixture::new(name);
    f.commit("README.md", "chore: initial layout");
    let old = f.commit("exp.txt", "feat: old experiment (#1)");
    f.tag("v0.1.0");
    f.commit(
        "providers/aws/regions.yaml",
        "feat(aws): add eu-west-2 region (#2)",
    );
    f.commit(
        "features/ingress.yaml",
        "fix(features): correct ingress class (#3)",
    );
    f.commit(
        "providers/aws/capa.yaml",
        "providers(aws): bump CAPA to v2.5 (#4)",
    );
    f.commit("tenants/dummy.yaml", "tenants(dummy): raise quota (#5)");
    let bad = f.commit("README.md", "update readme");
    f.git(&["checkout", "-q", "-b", "feature-x"]);
    f.commit("features/cert-manager.yaml", "wip");
    f.commit("features/cert-manager.yaml", "more wip");
    f.git(&["checkout", "-q", "main"]);
    f.merge(
        "feature-x",
        "Merge pull request #6 from acme/feature-x\n\nfeat(features): add cert-manager",
    );
    f.git(&["checkout", "-q", "-b", "docs"]);
    f.commit("docs/layout.md", "docs: explain layout (#7)");
    f.git(&["checkout", "-q", "main"]);
    f.commit("render.txt", "perf: faster render (#8)");
    f.merge("docs", "Merge branch 'docs'");
    let spot = f.commit("providers/aws/spot.yaml", "feat(aws): add spot pools (#9)");
    f.revert(&spot);
    f.revert(&old);
    f.commit(
        "tenants/ns.yaml",
        "fix(tenants)!: rename tenant namespace (#10)\n\nLonger explanation.\n\nBREAKING CHANGE: tenant namespaces are now\nprefixed with `tenant-`.",
    );
    f.commit("Cargo.lock", "chore(deps): bump gix (#11)");
    let weird = f.commit("providers/aws/weird.yaml", "Feature(aws): weird type (#12)");
    (
        f,
        Shas {
            old,
            bad,
            spot,
            weird,
        },
    )
}
