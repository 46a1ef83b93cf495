//! Render benchmark over the whole conformance suite: `flotilla build` as a process, the
//! in-process library call, and `kubectl kustomize` as a process, with per-case medians,
//! totals and peak memory. Run with `cargo bench -p flotilla --bench render`.
//! Figures go to stdout; BENCHMARKS.md records them with the machine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flotilla_render::{LoadRestrictor, Options};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Case {
    name: String,
    root: PathBuf,
    restrictor: LoadRestrictor,
    flux: bool,
}

fn cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../render/tests/conformance/cases");
    let exp = dir.parent().unwrap().join("expected");
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("conformance cases")
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for d in dirs {
        let name = d.file_name().unwrap().to_string_lossy().to_string();
        // Only cases that build: error cases measure nothing useful.
        if !exp.join(format!("{name}.yaml")).exists() {
            continue;
        }
        let root = match std::fs::read_to_string(d.join("ROOT")) {
            Ok(r) => d.join(r.trim()),
            Err(_) => d.clone(),
        };
        let flux = !["kustomization.yaml", "kustomization.yml", "Kustomization"]
            .iter()
            .any(|n| root.join(n).is_file());
        let restrictor = if d.join("LOAD_RESTRICTOR_NONE").exists() {
            LoadRestrictor::None
        } else {
            LoadRestrictor::RootOnly
        };
        out.push(Case {
            name,
            root,
            restrictor,
            flux,
        });
    }
    out
}

/// Run a child to completion and return (wall time, peak RSS in KiB).
fn run_measured(cmd: &mut Command) -> (Duration, u64, bool) {
    let start = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is a plain C struct for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own un-reaped child (std's `Child` never waited on it), and both
    // out-pointers refer to live, properly aligned locals for the duration of the call.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    assert_eq!(rc, pid, "wait4 failed");
    // The child is reaped; forget the handle so its Drop does not touch the pid again.
    std::mem::forget(child);
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    (elapsed, usage.ru_maxrss as u64, ok)
}

fn median(mut v: Vec<Duration>) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let cases = cases();
    let bin = env!("CARGO_BIN_EXE_flotilla");
    let kubectl = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    println!("render benchmark: {} building cases", cases.len());

    // In-process: warm up once, then take the median of several runs per case.
    let mut inproc = Vec::new();
    let mut inproc_small = Vec::new();
    let mut inproc_total = Duration::ZERO;
    for c in &cases {
        let opts = Options {
            load_restrictor: c.restrictor,
            generate_missing: true,
        };
        let objects = flotilla_render::build(&c.root, &opts)
            .map(|r| r.objects.len())
            .unwrap_or(0);
        let mut runs = Vec::new();
        for _ in 0..15 {
            let t = Instant::now();
            let r = flotilla_render::build(&c.root, &opts);
            let y = r.map(|r| r.to_yaml());
            runs.push(t.elapsed());
            std::hint::black_box(y.ok());
        }
        let m = median(runs);
        inproc_total += m;
        inproc.push(m);
        if objects <= 50 {
            inproc_small.push(m);
        }
    }

    let mut ours = Vec::new();
    let mut ours_rss = 0;
    let mut ours_total = Duration::ZERO;
    let mut ours_same = Vec::new();
    let mut ours_same_total = Duration::ZERO;
    let mut kube = Vec::new();
    let mut kube_rss = 0;
    let mut kube_total = Duration::ZERO;
    for c in &cases {
        let mut cmd = Command::new(bin);
        cmd.arg("build").arg(&c.root);
        if c.restrictor == LoadRestrictor::None {
            cmd.args(["--load-restrictor", "LoadRestrictionsNone"]);
        }
        let (t, rss, ok) = run_measured(&mut cmd);
        if !ok {
            eprintln!("warning: flotilla build failed on {}", c.name);
        }
        ours_total += t;
        ours.push(t);
        if !c.flux {
            ours_same_total += t;
            ours_same.push(t);
        }
        ours_rss = ours_rss.max(rss);
        if kubectl && !c.flux {
            let mut cmd = Command::new("kubectl");
            cmd.arg("kustomize").arg(&c.root);
            if c.restrictor == LoadRestrictor::None {
                cmd.args(["--load-restrictor", "LoadRestrictionsNone"]);
            }
            let (t, rss, _) = run_measured(&mut cmd);
            kube_total += t;
            kube.push(t);
            kube_rss = kube_rss.max(rss);
        }
    }
    let inproc_median = median(inproc);
    let small_median = median(inproc_small.clone());
    let ours_median = median(ours.clone());
    println!();
    println!("| measure | total | median per case | peak RSS |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| flotilla build (process), {} cases | {} | {} | {} MiB |",
        ours.len(),
        ms(ours_total),
        ms(ours_median),
        ours_rss / 1024
    );
    println!(
        "| flotilla_render::build (in-process), {} cases | {} | {} | - |",
        cases.len(),
        ms(inproc_total),
        ms(inproc_median)
    );
    println!(
        "| in-process, cases of <= 50 objects ({}) | - | {} | - |",
        inproc_small.len(),
        ms(small_median)
    );
    if kubectl {
        let kube_median = median(kube.clone());
        println!(
            "| kubectl kustomize (process), {} cases | {} | {} | {} MiB |",
            kube.len(),
            ms(kube_total),
            ms(kube_median),
            kube_rss / 1024
        );
        let same_median = median(ours_same);
        println!();
        println!(
            "speed-up on the {} cases both can build directly (Flux-generated ones excluded), process vs process: median {:.1}x, total {:.1}x",
            kube.len(),
            kube_median.as_secs_f64() / same_median.as_secs_f64().max(1e-9),
            kube_total.as_secs_f64() / ours_same_total.as_secs_f64().max(1e-9),
        );
    } else {
        println!("kubectl not found: the kustomize side was not measured");
    }
}
