//! Source fetch benchmark (harness = false; prints figures).
//!
//! Builds a repository with 5,000 files and 2,000 commits (`git fast-import`), then measures,
//! next to the `git` CLI doing the same over file://:
//! - cold fetch: flotilla `reconcile` (ls-refs, depth-1 fetch, archive) vs `git clone --depth 1`;
//! - no-change poll: `reconcile` with nothing new vs `git ls-remote`;
//! - new-commit poll: `reconcile` after one new commit vs `git fetch --depth 1`;
//! - 1,000 GitRepository requests on one URL (8 threads), and 1,000 unchanged polls.
//!
//! Run: `cargo bench -p flotilla-source --bench fetch`. Needs `git`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flotilla_source::{GitRef, SourceSpec, Sources, UrlRewriter};

const FILES: usize = 5_000;
const COMMITS: usize = 2_000;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap_or_else(|e| panic!("git {args:?}: {e}"));
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn file_content(i: usize, rev: usize) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: team-{}\ndata:\n  revision: \"{rev}\"\n  payload: \"{}\"\n",
        i % 50,
        "x".repeat(64 + i % 64)
    )
}

fn path_of(i: usize) -> String {
    format!("clusters/c{:03}/apps/app-{i:05}.yaml", i / 50)
}

/// Appends `n` commits to `main` (the first one adds every file when `initial`).
fn fast_import(repo: &Path, start: usize, n: usize, initial: bool) {
    let mut child = Command::new("git")
        .current_dir(repo)
        .args(["fast-import", "--quiet", "--force"])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("git fast-import: {e}"));
    let mut s = String::new();
    for c in start..start + n {
        let t = 1_700_000_000 + c;
        s.push_str("commit refs/heads/main\n");
        s.push_str(&format!("committer bench <b@example.invalid> {t} +0000\n"));
        let msg = format!("commit {c}\n");
        s.push_str(&format!("data {}\n{msg}", msg.len()));
        if c == start && !initial {
            s.push_str("from refs/heads/main^0\n");
        }
        if c == 0 && initial {
            for i in 0..FILES {
                let d = file_content(i, 0);
                s.push_str(&format!(
                    "M 100644 inline {}\ndata {}\n{d}\n",
                    path_of(i),
                    d.len()
                ));
            }
        } else {
            for k in 0..3 {
                let i = (c * 7 + k * 1_663) % FILES;
                let d = file_content(i, c);
                s.push_str(&format!(
                    "M 100644 inline {}\ndata {}\n{d}\n",
                    path_of(i),
                    d.len()
                ));
            }
        }
    }
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(s.as_bytes())
            .unwrap_or_else(|e| panic!("fast-import stdin: {e}"));
    }
    let st = child.wait().unwrap_or_else(|e| panic!("fast-import: {e}"));
    assert!(st.success());
}

fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let t = Instant::now();
    let v = f();
    (t.elapsed(), v)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    if Command::new("git").arg("--version").output().is_err() {
        eprintln!("SKIPPED: git not installed");
        return;
    }
    let root: PathBuf =
        std::env::temp_dir().join(format!("flotilla-fetch-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap_or_else(|e| panic!("{e}"));
    let remote = root.join("remote.git");
    std::fs::create_dir_all(&remote).unwrap_or_else(|e| panic!("{e}"));
    git(&remote, &["init", "-q", "--bare", "-b", "main"]);
    let (build, _) = time(|| fast_import(&remote, 0, COMMITS, true));
    git(&remote, &["gc", "-q"]);
    let count = git(&remote, &["rev-list", "--count", "main"]);
    let files = git(&remote, &["ls-tree", "-r", "--name-only", "main"])
        .lines()
        .count();
    println!(
        "repository: {files} files, {count} commits (built in {})",
        ms(build)
    );
    let url = format!("file://{}", remote.display());
    let spec = SourceSpec::new(&url, GitRef::branch("main"));

    // Cold fetch.
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for i in 0..3 {
        let store = root.join(format!("cold-{i}"));
        let s = Sources::open(&store, 2)
            .unwrap_or_else(|e| panic!("{e}"))
            .with_rewriter(UrlRewriter::none());
        let (d, a) = time(|| s.reconcile(&spec, Duration::ZERO));
        let a = a.unwrap_or_else(|e| panic!("{e}"));
        if i == 0 {
            println!("artifact: {} ({} bytes)", a.digest, a.size);
        }
        ours.push(d);
        let dest = root.join(format!("clone-{i}"));
        let (d, _) = time(|| {
            git(
                &root,
                &[
                    "clone",
                    "-q",
                    "--depth",
                    "1",
                    "--branch",
                    "main",
                    &url,
                    dest.to_str().unwrap_or_default(),
                ],
            )
        });
        theirs.push(d);
    }
    let cold = (median(ours), median(theirs));

    // No-change poll.
    let s = Sources::open(&root.join("warm"), 2)
        .unwrap_or_else(|e| panic!("{e}"))
        .with_rewriter(UrlRewriter::none());
    s.reconcile(&spec, Duration::ZERO)
        .unwrap_or_else(|e| panic!("{e}"));
    let before = s.stats();
    let ours: Vec<Duration> = (0..20)
        .map(|_| time(|| s.reconcile(&spec, Duration::ZERO)).0)
        .collect();
    let after = s.stats();
    assert_eq!(
        after.fetches, before.fetches,
        "a no-change poll downloaded objects"
    );
    let theirs: Vec<Duration> = (0..20)
        .map(|_| time(|| git(&root, &["ls-remote", &url, "refs/heads/main"])).0)
        .collect();
    let poll = (median(ours), median(theirs));

    // New-commit poll.
    let clone = root.join("clone-0");
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for k in 0..5 {
        fast_import(&remote, COMMITS + k, 1, false);
        let (d, a) = time(|| s.reconcile(&spec, Duration::ZERO));
        a.unwrap_or_else(|e| panic!("{e}"));
        ours.push(d);
        let (d, _) = time(|| git(&clone, &["fetch", "-q", "--depth", "1", "origin", "main"]));
        theirs.push(d);
    }
    let newc = (median(ours), median(theirs));
    let st = s.stats();

    // Where a new-commit poll spends its time: building the archive of 5,000 files alone.
    let repo_dir = std::fs::read_dir(root.join("warm").join("repos"))
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .next()
        .unwrap_or_else(|| panic!("no cache repository"));
    let cache = flotilla_source::remote::CacheRepo::open_or_init(&repo_dir)
        .unwrap_or_else(|e| panic!("{e}"));
    let head = s.resolve(&spec).unwrap_or_else(|e| panic!("{e}")).commit;
    let archive_times: Vec<Duration> = (0..5)
        .map(|_| {
            time(|| {
                let repo = cache.local().unwrap_or_else(|e| panic!("{e}"));
                let (mut files, _) = flotilla_source::archive::tree_files(&repo, &url, head, &[])
                    .unwrap_or_else(|e| panic!("{e}"));
                flotilla_source::archive::apply_ignore(&mut files, None);
                let mut out = Vec::new();
                flotilla_source::archive::write_tar_gz(&files, &mut out)
                    .unwrap_or_else(|e| panic!("{e}"));
                out.len()
            })
            .0
        })
        .collect();
    let archive_only = median(archive_times);

    // 1,000 GitRepository objects on one URL.
    let shared = Arc::new(
        Sources::open(&root.join("shared"), 2)
            .unwrap_or_else(|e| panic!("{e}"))
            .with_rewriter(UrlRewriter::none()),
    );
    let (fan, _) = time(|| {
        let hs: Vec<_> = (0..8)
            .map(|_| {
                let s = shared.clone();
                let spec = spec.clone();
                std::thread::spawn(move || {
                    for _ in 0..125 {
                        s.reconcile(&spec, Duration::from_secs(60))
                            .unwrap_or_else(|e| panic!("{e}"));
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap_or_else(|_| panic!("thread"));
        }
    });
    let fan_stats = shared.stats();
    let (polls, _) = time(|| {
        for _ in 0..1000 {
            shared
                .reconcile(&spec, Duration::ZERO)
                .unwrap_or_else(|e| panic!("{e}"));
        }
    });
    let poll_stats = shared.stats();

    println!();
    println!("| case | flotilla-source | git CLI |");
    println!("| --- | --- | --- |");
    println!(
        "| cold fetch (median of 3) | {} | {} (`clone --depth 1`) |",
        ms(cold.0),
        ms(cold.1)
    );
    println!(
        "| no-change poll (median of 20) | {} | {} (`ls-remote`) |",
        ms(poll.0),
        ms(poll.1)
    );
    println!(
        "| new-commit poll (median of 5) | {} | {} (`fetch --depth 1`) |",
        ms(newc.0),
        ms(newc.1)
    );
    println!(
        "| of which: archive of 5,000 files (read tree, ignore, tar.gz) | {} | — |",
        ms(archive_only)
    );
    println!(
        "| 1,000 GitRepository requests, one URL, 8 threads | {} total; {} fetch, {} ls-refs, {} archive | — |",
        ms(fan),
        fan_stats.fetches,
        fan_stats.remote_checks,
        fan_stats.artifacts_built
    );
    println!(
        "| 1,000 unchanged polls in a row | {} total; {} ls-refs, {} new fetches | — |",
        ms(polls),
        poll_stats.remote_checks - fan_stats.remote_checks,
        poll_stats.fetches - fan_stats.fetches
    );
    println!(
        "\nwarm service counters: {} requests, {} ls-refs, {} fetches, {} archives",
        st.requests, st.remote_checks, st.fetches, st.artifacts_built
    );
    let _ = std::fs::remove_dir_all(&root);
}
