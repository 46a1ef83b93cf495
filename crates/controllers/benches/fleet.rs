//! The fleet benchmark (issue 7), shaped like Flux's: N Kustomizations of 4 objects each,
//! spread over 1, 10 or 100 clusters, from a real git repository (git CLI, `file://`);
//! the time from the commit being available to every Kustomization Ready
//! (`Applied revision: …`), and the peak RSS of the process under test.
//!
//! The process under test is a child: this binary re-executes itself with
//! `FLEET_BENCH_CHILD=<data dir>` and becomes what `flotilla up` is — the embedded API server
//! (`flotilla_apiserver::serve`), the CRDs (`install::crds(.., true)`) and the controllers
//! (`flotilla_controllers::run` with simulated infrastructure and local workloads) in one
//! tokio runtime. It prints its admin kubeconfig path and runs until its stdin closes. Its
//! peak RSS is `VmHWM` of `/proc/<pid>/status` after each phase (and `ru_maxrss` of `wait4`
//! at the end); its CPU time is `utime + stime` of `/proc/<pid>/stat`.
//!
//! The driver (this process) generates the repository, starts the child, then per case:
//!
//! 1. **create** (t0 = before the first write): the GitRepository `fleet/repo`, the Clusters
//!    (`cluster.x-k8s.io/v1beta1` Cluster + `infrastructure.flotilla.dev/v1alpha1`
//!    VirtualCluster each, when clusters > 1) and the N Kustomizations, created directly
//!    through the API as Flux's benchmark does (BENCH_MODE=root instead creates one root
//!    Kustomization applying the folder `fleet/` of those manifests, as a platform repository
//!    does); done when all N are Ready at the commit's revision.
//! 2. **change**: a second commit changing the ConfigMap and the Secret of every
//!    Kustomization; t0 = after `git commit`, then the GitRepository is annotated with
//!    `reconcile.fluxcd.io/requestedAt` (as `flux reconcile source git` does, instead of
//!    waiting for its interval); done when all N applied the new revision.
//! 3. **resync** (no change): every Kustomization annotated with `requestedAt`; done when all
//!    N report it in `lastHandledReconcileAt`.
//!
//! Workload: Kustomization `fleet/ks-<i>` builds `./apps/ks-<i>` (one YAML file, no
//! kustomization.yaml: Flux's generated kustomization) of 4 objects: Namespace `app-<i>`,
//! ConfigMap, Secret and Service in it; `prune: true`, no `wait`. With C > 1 clusters,
//! `ks-<i>` targets Cluster `c-<i mod C>` through `kubeConfig.secretRef.name:
//! c-<j>-kubeconfig`; with C = 1 the management cluster itself (no kubeConfig).
//!
//! Sizes: N ∈ {100, 500, 1000, 5000} × C ∈ {1, 10, 100} (5000 only with 1 and 100);
//! `BENCH_QUICK=1`: N ∈ {100, 500} × C ∈ {1, 10}. `BENCH_SIZES=1000,5000` and
//! `BENCH_CLUSTERS=1,100` override; `BENCH_TIMEOUT` (seconds, default 120) bounds a phase;
//! `BENCH_CONCURRENCY` sets `Options::concurrency` (default 16, as `flotilla up`);
//! `BENCH_KEEP=1` keeps the temp dirs; `FLOTILLA_LOG` is passed to the child (its log goes
//! to `<tmp>/child.log`); `BENCH_HISTORY=N` sets the API server's watch history
//! (`flotilla_apiserver::Config::history`, default 10,000) for experiments; `BENCH_MODE=root`
//! as above. Temp dirs are under `$TMPDIR` (store, repository, artifacts).
//!
//! The child's global allocator counts live heap bytes; each phase prints the live heap and
//! its peak next to `VmHWM`, so RSS can be told apart from allocated memory.
//!
//! Run: `cargo bench -p flotilla-controllers --bench fleet`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use serde_json::{json, Value};

const NS: &str = "fleet";

/// The system allocator, counting live heap bytes (current and peak) so RSS can be told
/// apart from what is really allocated (two relaxed atomics per call; the process under
/// test is otherwise what `flotilla up` runs).
struct Counting;

static LIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static PEAK: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let p = unsafe { std::alloc::System.alloc(layout) };
        if !p.is_null() {
            add(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        let p = unsafe { std::alloc::System.alloc_zeroed(layout) };
        if !p.is_null() {
            add(layout.size());
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        let p = unsafe { std::alloc::System.realloc(ptr, layout, new) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
            add(new);
        }
        p
    }
}

fn add(n: usize) {
    let now = LIVE.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
    PEAK.fetch_max(now, std::sync::atomic::Ordering::Relaxed);
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    if let Ok(dir) = std::env::var("FLEET_BENCH_CHILD") {
        child(PathBuf::from(dir));
        return;
    }
    // `cargo bench` passes `--bench`; ignore arguments.
    driver();
}

// ---------------------------------------------------------------------------------------
// The process under test.

fn child(dir: PathBuf) {
    if std::env::var_os("FLOTILLA_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("FLOTILLA_LOG"))
            .with_writer(std::io::stderr)
            .try_init();
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let concurrency: u16 = std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let kubeconfig = dir.join("kubeconfig");
        let mut config = flotilla_apiserver::Config::new(
            dir.join("apiserver"),
            "127.0.0.1:0".parse().expect("addr"),
        );
        config.kubeconfig = Some(kubeconfig.clone());
        if let Some(h) = std::env::var("BENCH_HISTORY")
            .ok()
            .and_then(|s| s.parse().ok())
        {
            config.history = h;
        }
        let handle = flotilla_apiserver::serve(config).await.expect("serve");
        let kc = kube::config::Kubeconfig::read_from(&kubeconfig).expect("kubeconfig");
        let kconfig = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .expect("kube config");
        let client = kube::Client::try_from(kconfig.clone()).expect("client");
        flotilla_controllers::install::crds(&client, true)
            .await
            .expect("CRDs");
        let mut opts = flotilla_controllers::Options::new(dir.join("controllers"));
        opts.simulate_infrastructure = true;
        opts.simulate_local_workloads = true;
        opts.concurrency = concurrency;
        let controllers = tokio::spawn(flotilla_controllers::run(kconfig, opts));
        println!("READY {}", kubeconfig.display());
        let _ = std::io::stdout().flush();
        // Run until the driver closes stdin; each line asks for the heap counters.
        let _ = tokio::task::spawn_blocking(|| {
            let mut s = String::new();
            while std::io::stdin()
                .read_line(&mut s)
                .map(|n| n > 0)
                .unwrap_or(false)
            {
                s.clear();
                let live = LIVE.load(std::sync::atomic::Ordering::Relaxed);
                let peak = PEAK.swap(live, std::sync::atomic::Ordering::Relaxed);
                println!("{live} {peak}");
                let _ = std::io::stdout().flush();
            }
        })
        .await;
        controllers.abort();
        let _ = controllers.await;
        handle.shutdown().await;
    });
}

// ---------------------------------------------------------------------------------------
// The driver.

fn env_list(name: &str) -> Option<Vec<usize>> {
    std::env::var(name).ok().map(|s| {
        s.split(',')
            .filter_map(|x| x.trim().replace('_', "").parse().ok())
            .collect()
    })
}

fn cases() -> Vec<(usize, usize)> {
    let quick = std::env::var_os("BENCH_QUICK").is_some();
    let sizes = env_list("BENCH_SIZES").unwrap_or(if quick {
        vec![100, 500]
    } else {
        vec![100, 500, 1000, 5000]
    });
    let clusters =
        env_list("BENCH_CLUSTERS").unwrap_or(if quick { vec![1, 10] } else { vec![1, 10, 100] });
    let explicit = std::env::var_os("BENCH_CLUSTERS").is_some();
    let mut out = Vec::new();
    for &n in &sizes {
        for &c in &clusters {
            if n >= 5000 && c == 10 && !explicit {
                continue;
            }
            out.push((n, c));
        }
    }
    out
}

struct Row {
    n: usize,
    clusters: usize,
    mode: &'static str,
    create: Phase,
    change: Option<Phase>,
    resync: Option<Phase>,
    hwm_mib: f64,
    maxrss_mib: f64,
}

#[derive(Clone, Copy)]
struct Phase {
    secs: f64,
    ok: bool,
    cpu_secs: f64,
    hwm_mib: f64,
}

fn driver() {
    let mode: &'static str = match std::env::var("BENCH_MODE").as_deref() {
        Ok("root") => "root",
        _ => "direct",
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_default();
    let ncpu = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "fleet benchmark: {ncpu} CPUs ({cpu}), load {}; mode {mode}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    for (n, c) in cases() {
        println!("── N={n} clusters={c}");
        let row = rt.block_on(run_case(n, c, mode));
        print_rows(std::slice::from_ref(&row));
        rows.push(row);
    }
    println!();
    println!("fleet benchmark summary ({ncpu} CPUs, {cpu}; mode {mode})");
    print_rows(&rows);
}

fn print_rows(rows: &[Row]) {
    println!(
        "| N | clusters | mode | to all Ready | objects/s | CPU s | change (re-apply) | resync | peak RSS (VmHWM) |"
    );
    println!("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let ph = |p: &Option<Phase>| match p {
        Some(p) => format!(
            "{:.2} s{} ({:.1} CPU s)",
            p.secs,
            if p.ok { "" } else { " ✗" },
            p.cpu_secs
        ),
        None => "–".into(),
    };
    for r in rows {
        println!(
            "| {} | {} | {} | {:.2} s{} | {:.0} | {:.1} | {} | {} | {:.0} MiB (maxrss {:.0}) |",
            r.n,
            r.clusters,
            r.mode,
            r.create.secs,
            if r.create.ok { "" } else { " ✗ (timeout)" },
            (r.n * 4) as f64 / r.create.secs,
            r.create.cpu_secs,
            ph(&r.change),
            ph(&r.resync),
            r.hwm_mib,
            r.maxrss_mib,
        );
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("running git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn b64(s: &str) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, s)
}

fn workload(i: usize, gen: usize) -> String {
    format!(
        "apiVersion: v1
kind: Namespace
metadata:
  name: app-{i}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: app-{i}
data:
  generation: \"{gen}\"
  app.properties: |
    name=app-{i}
    replicas=2
    log.level=info
---
apiVersion: v1
kind: Secret
metadata:
  name: credentials
  namespace: app-{i}
type: Opaque
data:
  token: {}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: app-{i}
  labels:
    app: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: 8080
",
        b64(&format!("token-{i}-{gen}"))
    )
}

fn ks_manifest(i: usize, clusters: usize) -> Value {
    let mut spec = json!({
        "interval": "1h",
        "retryInterval": "10s",
        "timeout": "2m",
        "path": format!("./apps/ks-{i}"),
        "prune": true,
        "sourceRef": {"kind": "GitRepository", "name": "repo"},
    });
    if clusters > 1 {
        spec["kubeConfig"] =
            json!({"secretRef": {"name": format!("c-{}-kubeconfig", i % clusters)}});
    }
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": format!("ks-{i}"), "namespace": NS},
        "spec": spec,
    })
}

fn cluster_manifests(j: usize) -> (Value, Value) {
    let vc = json!({
        "apiVersion": "infrastructure.flotilla.dev/v1alpha1",
        "kind": "VirtualCluster",
        "metadata": {"name": format!("c-{j}"), "namespace": NS},
        "spec": {},
    });
    let cluster = json!({
        "apiVersion": "cluster.x-k8s.io/v1beta1",
        "kind": "Cluster",
        "metadata": {"name": format!("c-{j}"), "namespace": NS},
        "spec": {"infrastructureRef": {
            "apiVersion": "infrastructure.flotilla.dev/v1alpha1",
            "kind": "VirtualCluster",
            "name": format!("c-{j}"),
        }},
    });
    (vc, cluster)
}

fn to_yaml(v: &Value) -> String {
    // JSON is YAML.
    serde_json::to_string_pretty(v).expect("json")
}

/// Writes the repository: `apps/ks-<i>/objects.yaml`, `fleet/` (root mode: Kustomizations
/// and Clusters). Answers the revision `main@sha1:<sha>`.
fn write_repo(repo: &Path, n: usize, clusters: usize, gen: usize) -> String {
    for i in 0..n {
        let d = repo.join(format!("apps/ks-{i}"));
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(d.join("objects.yaml"), workload(i, gen)).expect("write");
    }
    if gen == 0 {
        let f = repo.join("fleet");
        std::fs::create_dir_all(&f).expect("mkdir");
        for i in 0..n {
            std::fs::write(
                f.join(format!("ks-{i}.yaml")),
                to_yaml(&ks_manifest(i, clusters)),
            )
            .expect("write");
        }
        if clusters > 1 {
            for j in 0..clusters {
                let (vc, c) = cluster_manifests(j);
                std::fs::write(
                    f.join(format!("cluster-{j}.yaml")),
                    format!("{}\n---\n{}\n", to_yaml(&vc), to_yaml(&c)),
                )
                .expect("write");
            }
        }
        git(repo, &["init", "-q", "-b", "main"]);
    }
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", &format!("generation {gen}")]);
    format!("main@sha1:{}", git(repo, &["rev-parse", "HEAD"]))
}

fn ar(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: if group.is_empty() {
            version.into()
        } else {
            format!("{group}/{version}")
        },
        kind: kind.into(),
        plural: plural.into(),
    }
}

fn proc_status(pid: u32, key: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(0.0)
}

fn cpu_secs(pid: u32) -> f64 {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the parenthesised command: state is field 3; utime 14, stime 15.
    let rest = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let ut: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let st: f64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    (ut + st) / tick
}

/// What the driver knows of each Kustomization, from a watch.
#[derive(Default, Clone)]
struct KsView {
    ready: bool,
    applied: Option<String>,
    handled: Option<String>,
    reason: String,
    message: String,
}

type Views = Arc<Mutex<HashMap<String, KsView>>>;

fn view_of(o: &DynamicObject) -> KsView {
    let st = o.data.get("status");
    let ready = st
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"));
    let gen_ok = st
        .and_then(|s| s.get("observedGeneration"))
        .and_then(Value::as_i64)
        == o.metadata.generation;
    KsView {
        ready: gen_ok && ready.is_some_and(|c| c["status"] == "True"),
        applied: st
            .and_then(|s| s.get("lastAppliedRevision"))
            .and_then(Value::as_str)
            .map(str::to_string),
        handled: st
            .and_then(|s| s.get("lastHandledReconcileAt"))
            .and_then(Value::as_str)
            .map(str::to_string),
        reason: ready
            .and_then(|c| c["reason"].as_str())
            .unwrap_or("")
            .to_string(),
        message: ready
            .and_then(|c| c["message"].as_str())
            .unwrap_or("")
            .to_string(),
    }
}

/// Waits until `done` holds for N workload Kustomizations; answers (ok, seconds since t0).
async fn wait_all(
    views: &Views,
    n: usize,
    t0: Instant,
    timeout: Duration,
    what: &str,
    done: impl Fn(&KsView) -> bool,
) -> (bool, f64) {
    let mut last_print = Instant::now();
    loop {
        let count = {
            let v = views.lock().expect("lock");
            v.iter()
                .filter(|(k, _)| k.starts_with("ks-"))
                .filter(|(_, s)| done(s))
                .count()
        };
        if count >= n {
            return (true, t0.elapsed().as_secs_f64());
        }
        if t0.elapsed() > timeout {
            let v = views.lock().expect("lock");
            let mut reasons: HashMap<String, (usize, String)> = HashMap::new();
            for (k, s) in v.iter().filter(|(k, _)| k.starts_with("ks-")) {
                if !done(s) {
                    let msg: String = s.message.chars().take(160).collect();
                    let e = reasons
                        .entry(format!("{}: {}", s.reason, msg))
                        .or_insert((0, k.clone()));
                    e.0 += 1;
                }
            }
            eprintln!("   {what}: timeout, {count}/{n} done; not done:");
            let mut r: Vec<_> = reasons.into_iter().collect();
            r.sort_by_key(|e| std::cmp::Reverse(e.1 .0));
            for (k, (c, eg)) in r.iter().take(8) {
                eprintln!("     {c} × {k} (e.g. {eg})");
            }
            let missing = n.saturating_sub(v.keys().filter(|k| k.starts_with("ks-")).count());
            if missing > 0 {
                eprintln!("     {missing} not seen at all");
            }
            return (false, t0.elapsed().as_secs_f64());
        }
        if last_print.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "   {what}: {count}/{n} after {:.1}s",
                t0.elapsed().as_secs_f64()
            );
            last_print = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn wait_child(mut child: Child) -> f64 {
    drop(child.stdin.take());
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rc = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if rc == pid {
            std::mem::forget(child);
            return usage.ru_maxrss as f64 / 1024.0;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            std::mem::forget(child);
            return if rc == pid {
                usage.ru_maxrss as f64 / 1024.0
            } else {
                0.0
            };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn run_case(n: usize, clusters: usize, mode: &'static str) -> Row {
    let timeout = Duration::from_secs(
        std::env::var("BENCH_TIMEOUT")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(120),
    );
    let tmp = std::env::temp_dir().join(format!(
        "flotilla-fleet-bench-{}-{n}-{clusters}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    let repo = tmp.join("repo");
    let data = tmp.join("data");
    std::fs::create_dir_all(&repo).expect("mkdir");
    std::fs::create_dir_all(&data).expect("mkdir");
    let rev1 = write_repo(&repo, n, clusters, 0);

    // The process under test.
    let log = std::fs::File::create(tmp.join("child.log")).expect("log");
    let mut child = Command::new(std::env::current_exe().expect("exe"))
        .env("FLEET_BENCH_CHILD", &data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawning the child");
    let pid = child.id();
    let mut line = String::new();
    let mut child_out = BufReader::new(child.stdout.take().expect("stdout"));
    child_out.read_line(&mut line).expect("reading the child");
    let mut child_in = child.stdin.take().expect("stdin");
    // Heap counters of the child (live now, peak since the last ask), MiB.
    let mut heap = move || -> (f64, f64) {
        let _ = writeln!(child_in, "stats");
        let _ = child_in.flush();
        let mut l = String::new();
        let _ = child_out.read_line(&mut l);
        let mut it = l
            .split_whitespace()
            .map(|x| x.parse::<f64>().unwrap_or(0.0) / 1048576.0);
        (it.next().unwrap_or(0.0), it.next().unwrap_or(0.0))
    };
    let kubeconfig = line
        .trim()
        .strip_prefix("READY ")
        .unwrap_or_else(|| {
            panic!(
                "child said {line:?}; see {}",
                tmp.join("child.log").display()
            )
        })
        .to_string();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kc = kube::config::Kubeconfig::read_from(&kubeconfig).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("config");
    let client = kube::Client::try_from(config).expect("client");
    let idle_mib = proc_status(pid, "VmRSS");
    let (idle_heap, _) = heap();

    // Setup outside the measure: the namespace, and the watch the driver counts with.
    let ns_api: Api<DynamicObject> =
        Api::all_with(client.clone(), &ar("", "v1", "Namespace", "namespaces"));
    ns_api
        .create(
            &PostParams::default(),
            &serde_json::from_value(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
            )
            .expect("ns"),
        )
        .await
        .expect("namespace");
    let ks_ar = ar(
        "kustomize.toolkit.fluxcd.io",
        "v1",
        "Kustomization",
        "kustomizations",
    );
    let ks_api: Api<DynamicObject> = Api::namespaced_with(client.clone(), NS, &ks_ar);
    let git_api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        NS,
        &ar(
            "source.toolkit.fluxcd.io",
            "v1",
            "GitRepository",
            "gitrepositories",
        ),
    );
    let views: Views = Arc::default();
    let watch = {
        let views = views.clone();
        let ks_api = ks_api.clone();
        tokio::spawn(async move {
            let stream = watcher(ks_api, watcher::Config::default());
            futures_util::pin_mut!(stream);
            while let Ok(Some(ev)) = stream.try_next().await {
                let mut v = views.lock().expect("lock");
                match ev {
                    watcher::Event::Apply(o) | watcher::Event::InitApply(o) => {
                        v.insert(o.metadata.name.clone().unwrap_or_default(), view_of(&o));
                    }
                    watcher::Event::Delete(o) => {
                        v.remove(&o.metadata.name.clone().unwrap_or_default());
                    }
                    watcher::Event::Init | watcher::Event::InitDone => {}
                }
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let cpu0 = cpu_secs(pid);

    // Phase 1: create.
    let t0 = Instant::now();
    let url = format!("file://{}", repo.display());
    let git_obj = json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "repo", "namespace": NS},
        "spec": {"interval": "1h", "url": url, "ref": {"branch": "main"}},
    });
    git_api
        .create(
            &PostParams::default(),
            &serde_json::from_value(git_obj).expect("git"),
        )
        .await
        .expect("GitRepository");
    if mode == "root" {
        let root = json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "root", "namespace": NS},
            "spec": {"interval": "1h", "path": "./fleet", "prune": true,
                     "sourceRef": {"kind": "GitRepository", "name": "repo"}},
        });
        ks_api
            .create(
                &PostParams::default(),
                &serde_json::from_value(root).expect("root"),
            )
            .await
            .expect("root Kustomization");
    } else {
        let mut objects: Vec<(ApiResource, Value)> = Vec::new();
        if clusters > 1 {
            let vc_ar = ar(
                "infrastructure.flotilla.dev",
                "v1alpha1",
                "VirtualCluster",
                "virtualclusters",
            );
            let cl_ar = ar("cluster.x-k8s.io", "v1beta1", "Cluster", "clusters");
            for j in 0..clusters {
                let (vc, c) = cluster_manifests(j);
                objects.push((vc_ar.clone(), vc));
                objects.push((cl_ar.clone(), c));
            }
        }
        for i in 0..n {
            objects.push((ks_ar.clone(), ks_manifest(i, clusters)));
        }
        let client = &client;
        futures_util::stream::iter(objects)
            .map(|(r, v)| async move {
                let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), NS, &r);
                let o: DynamicObject = serde_json::from_value(v).expect("object");
                api.create(&PostParams::default(), &o)
                    .await
                    .unwrap_or_else(|e| panic!("creating {}: {e}", r.kind))
            })
            .buffer_unordered(16)
            .for_each(|_| async {})
            .await;
    }
    let created = t0.elapsed().as_secs_f64();
    let (ok, secs) = wait_all(&views, n, t0, timeout, "create", |s| {
        s.ready && s.applied.as_deref() == Some(rev1.as_str())
    })
    .await;
    let create = Phase {
        secs,
        ok,
        cpu_secs: cpu_secs(pid) - cpu0,
        hwm_mib: proc_status(pid, "VmHWM"),
    };
    let (live, peak) = heap();
    println!(
        "   create: {secs:.2}s (objects created through the API in {created:.2}s), child CPU {:.1}s, VmHWM {:.0} MiB (idle RSS {idle_mib:.0} MiB, heap {idle_heap:.0} MiB); heap live {live:.0} MiB, peak {peak:.0} MiB",
        create.cpu_secs, create.hwm_mib
    );

    // Phase 2: a commit changing every Kustomization's objects.
    let (change, resync) = if ok {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let cpu1 = cpu_secs(pid);
        let t0 = Instant::now();
        let rev2 = write_repo(&repo, n, clusters, 1);
        let stamp = format!("bench-{}", t0.elapsed().as_nanos());
        git_api
            .patch(
                "repo",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"annotations": {
                    "reconcile.fluxcd.io/requestedAt": stamp}}})),
            )
            .await
            .expect("annotating the GitRepository");
        let (ok2, secs2) = wait_all(&views, n, t0, timeout, "change", |s| {
            s.ready && s.applied.as_deref() == Some(rev2.as_str())
        })
        .await;
        let change = Phase {
            secs: secs2,
            ok: ok2,
            cpu_secs: cpu_secs(pid) - cpu1,
            hwm_mib: proc_status(pid, "VmHWM"),
        };
        let (live, peak) = heap();
        println!(
            "   change: {secs2:.2}s, child CPU {:.1}s, VmHWM {:.0} MiB; heap live {live:.0} MiB, peak {peak:.0} MiB",
            change.cpu_secs, change.hwm_mib
        );

        // Phase 3: no-change resync of every Kustomization.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let cpu2 = cpu_secs(pid);
        let t0 = Instant::now();
        let stamp = format!("resync-{}", std::process::id());
        let ks_api2 = &ks_api;
        let stamp2 = &stamp;
        futures_util::stream::iter(0..n)
            .map(|i| async move {
                ks_api2
                    .patch(
                        &format!("ks-{i}"),
                        &PatchParams::default(),
                        &Patch::Merge(json!({"metadata": {"annotations": {
                            "reconcile.fluxcd.io/requestedAt": stamp2}}})),
                    )
                    .await
                    .expect("annotating a Kustomization")
            })
            .buffer_unordered(16)
            .for_each(|_| async {})
            .await;
        let (ok3, secs3) = wait_all(&views, n, t0, timeout, "resync", |s| {
            s.ready && s.handled.as_deref() == Some(stamp.as_str())
        })
        .await;
        let resync = Phase {
            secs: secs3,
            ok: ok3,
            cpu_secs: cpu_secs(pid) - cpu2,
            hwm_mib: proc_status(pid, "VmHWM"),
        };
        let (live, peak) = heap();
        println!(
            "   resync: {secs3:.2}s, child CPU {:.1}s, VmHWM {:.0} MiB; heap live {live:.0} MiB, peak {peak:.0} MiB",
            resync.cpu_secs, resync.hwm_mib
        );
        (Some(change), Some(resync))
    } else {
        (None, None)
    };

    let hwm = proc_status(pid, "VmHWM");
    watch.abort();
    drop(client);
    drop(heap);
    let maxrss = wait_child(child);
    if std::env::var_os("BENCH_KEEP").is_none() && ok {
        let _ = std::fs::remove_dir_all(&tmp);
    } else {
        println!("   kept {}", tmp.display());
    }
    Row {
        n,
        clusters,
        mode,
        create,
        change,
        resync,
        hwm_mib: hwm,
        maxrss_mib: maxrss,
    }
}
