//! API server figures (harness = false): creates/s and server-side applies/s with 1 and 16
//! clients, a list of 10,000 objects, watch fan-out to 100 watchers, memory (RSS growth) and
//! disk per stored object at 10,000 and 50,000 objects, RSS of 1,000 virtual clusters with 50
//! objects each, and start-up time with 100,000 objects.
//!
//! `cargo bench -p flotilla-apiserver --bench apiserver` (set `APISERVER_BENCH_QUICK=1` for
//! sizes divided by 10, `APISERVER_BENCH_ONLY=writes,list,memory,clusters,startup` for some
//! sections only, `APISERVER_BENCH_MEMORY_SIZES=10000,50000` for the memory sizes).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A keep-alive HTTP/1.1 client over rustls.
struct Conn {
    stream: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
    token: String,
    buf: Vec<u8>,
}

fn tls_config(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

impl Conn {
    fn open(port: u16, tls: &Arc<rustls::ClientConfig>, token: &str) -> Conn {
        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_nodelay(true).unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let conn = rustls::ClientConnection::new(tls.clone(), name).unwrap();
        Conn {
            stream: rustls::StreamOwned::new(conn, tcp),
            token: token.into(),
            buf: Vec::new(),
        }
    }

    fn request(&mut self, method: &str, path: &str, ct: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: {ct}\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n",
            self.token,
            body.len()
        );
        self.stream.write_all(head.as_bytes()).unwrap();
        self.stream.write_all(body).unwrap();
        self.stream.flush().unwrap();
        let mut tmp = [0u8; 65536];
        loop {
            if let Some(pos) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..pos]).to_string();
                let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .expect("content-length");
                while self.buf.len() < pos + 4 + len {
                    let n = self.stream.read(&mut tmp).unwrap();
                    assert!(n > 0, "connection closed");
                    self.buf.extend_from_slice(&tmp[..n]);
                }
                let body = self.buf[pos + 4..pos + 4 + len].to_vec();
                self.buf.drain(..pos + 4 + len);
                return (status, body);
            }
            let n = self.stream.read(&mut tmp).unwrap();
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }
}

struct Proc {
    child: Child,
    port: u16,
    tls: Arc<rustls::ClientConfig>,
    token: String,
    started: Duration,
}

impl Proc {
    fn spawn(dir: &Path) -> Proc {
        let t = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_flotilla-apiserver"))
            .arg(dir)
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let started = t.elapsed();
        let addr: std::net::SocketAddr = line
            .trim()
            .trim_start_matches("listening on ")
            .parse()
            .unwrap();
        let ca = std::fs::read_to_string(dir.join("ca.crt")).unwrap();
        let token = std::fs::read_to_string(dir.join("admin.token"))
            .unwrap()
            .trim()
            .to_string();
        Proc {
            child,
            port: addr.port(),
            tls: tls_config(&ca),
            token,
            started,
        }
    }

    fn conn(&self) -> Conn {
        Conn::open(self.port, &self.tls, &self.token)
    }

    fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        kb / 1024.0
    }

    fn stop(self) {}
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static DIRS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "flotilla-apiserver-bench-{tag}-{}",
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&d).unwrap();
    DIRS.lock().unwrap().push(d.clone());
    d
}

fn cm(name: &str, i: usize) -> Vec<u8> {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"app": "bench"}},
           "data": {"index": i.to_string(), "payload": "x".repeat(200)}})
    .to_string()
    .into_bytes()
}

/// `clients` threads each doing `per_client` requests; returns requests per second.
fn parallel(
    p: &Proc,
    clients: usize,
    per_client: usize,
    prefix: &str,
    apply: bool,
    base: &str,
) -> f64 {
    let t = Instant::now();
    std::thread::scope(|s| {
        for c in 0..clients {
            let mut conn = p.conn();
            s.spawn(move || {
                for i in 0..per_client {
                    let name = format!("{prefix}-{c}-{i}");
                    let (status, body) = if apply {
                        conn.request(
                            "PATCH",
                            &format!("{base}/{name}?fieldManager=bench&force=true"),
                            "application/apply-patch+yaml",
                            &cm(&name, i),
                        )
                    } else {
                        conn.request("POST", base, "application/json", &cm(&name, i))
                    };
                    assert!(
                        status == 201 || status == 200,
                        "{status}: {}",
                        String::from_utf8_lossy(&body)
                    );
                }
            });
        }
    });
    (clients * per_client) as f64 / t.elapsed().as_secs_f64()
}

/// Memory and disk per stored object: a fresh server, its RSS and store size once warm and
/// empty, then after storing `n` ConfigMaps (16 clients) and reading each one back (so every
/// page a read touches is cached), divided by `n`.
fn memory_per_object(n: usize, base: &str) -> (usize, f64) {
    let dir = tempdir("memory");
    let p = Proc::spawn(&dir);
    let store = dir.join("store.redb");
    let disk = || std::fs::metadata(&store).map(|m| m.len()).unwrap_or(0) as f64;
    let mut conn = p.conn();
    // Warm-up: the code paths of a create, a read, a list and a delete, then let it settle.
    let (st, _) = conn.request("POST", base, "application/json", &cm("warm", 0));
    assert_eq!(st, 201);
    let (st, _) = conn.request("GET", &format!("{base}/warm"), "application/json", b"");
    assert_eq!(st, 200);
    let (st, _) = conn.request("GET", base, "application/json", b"");
    assert_eq!(st, 200);
    let (st, _) = conn.request("DELETE", &format!("{base}/warm"), "application/json", b"");
    assert_eq!(st, 200);
    std::thread::sleep(Duration::from_millis(300));
    let (rss0, disk0) = (p.rss_mib(), disk());
    let per = n / 16;
    parallel(&p, 16, per, "m", false, base);
    let stored = per * 16;
    let mut object_bytes = 0;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|c| {
                let mut conn = p.conn();
                s.spawn(move || {
                    let mut bytes = 0;
                    for i in 0..per {
                        let (st, body) = conn.request(
                            "GET",
                            &format!("{base}/m-{c}-{i}"),
                            "application/json",
                            b"",
                        );
                        assert_eq!(st, 200);
                        bytes = body.len();
                    }
                    bytes
                })
            })
            .collect();
        for h in handles {
            object_bytes = h.join().unwrap();
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let (rss, disk1) = (p.rss_mib(), disk());
    println!(
        "memory per stored object, {stored} ConfigMaps ({object_bytes} B of JSON each): RSS +{:.0} B/object ({rss0:.0} -> {rss:.0} MiB); disk +{:.0} B/object ({:.1} -> {:.1} MiB store)",
        (rss - rss0) * 1048576.0 / stored as f64,
        (disk1 - disk0) / stored as f64,
        disk0 / 1048576.0,
        disk1 / 1048576.0,
    );
    p.stop();
    (stored, rss - rss0)
}

fn main() {
    let quick = std::env::var("APISERVER_BENCH_QUICK").is_ok();
    let only = std::env::var("APISERVER_BENCH_ONLY").unwrap_or_default();
    let run = |section: &str| only.is_empty() || only.split(',').any(|s| s.trim() == section);
    let scale = |n: usize| if quick { n / 10 } else { n };
    let base = "/api/v1/namespaces/default/configmaps";

    if run("writes") {
        writes(&scale, base);
    }
    if run("list") {
        list_and_watch(&scale, base);
    }
    if run("memory") {
        let sizes: Vec<usize> = std::env::var("APISERVER_BENCH_MEMORY_SIZES")
            .ok()
            .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![10_000, 50_000]);
        let points: Vec<(usize, f64)> = sizes
            .iter()
            .map(|&n| memory_per_object(scale(n), base))
            .collect();
        // What one more object costs once the fixed parts (watch history, page cache) fill.
        for w in points.windows(2) {
            let ((n0, m0), (n1, m1)) = (w[0], w[1]);
            println!(
                "memory per stored object, marginal from {n0} to {n1}: RSS +{:.0} B/object",
                (m1 - m0) * 1048576.0 / (n1 - n0) as f64
            );
        }
    }
    if run("clusters") {
        virtual_clusters(&scale, base);
    }
    if run("startup") {
        startup(&scale, base);
    }
    for d in DIRS.lock().unwrap().drain(..) {
        let _ = std::fs::remove_dir_all(d);
    }
}

fn writes(scale: &dyn Fn(usize) -> usize, base: &str) {
    let dir = tempdir("writes");
    let p = Proc::spawn(&dir);
    for clients in [1, 16] {
        let per = scale(2000) / clients;
        let rate = parallel(&p, clients, per, &format!("c{clients}"), false, base);
        println!(
            "creates/s, {clients:>2} client(s): {rate:.0}  ({} creates)",
            per * clients
        );
    }
    for clients in [1, 16] {
        let per = scale(2000) / clients;
        let rate = parallel(&p, clients, per, &format!("a{clients}"), true, base);
        println!(
            "server-side applies/s, {clients:>2} client(s): {rate:.0}  ({} applies)",
            per * clients
        );
    }
    p.stop();
}

/// A list of 10,000 objects, then watch fan-out to 100 watchers on the same server.
fn list_and_watch(scale: &dyn Fn(usize) -> usize, base: &str) {
    let dir = tempdir("list");
    let p = Proc::spawn(&dir);
    let n = scale(10_000);
    parallel(&p, 16, n / 16, "l", false, base);
    let mut conn = p.conn();
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let (status, body) = conn.request("GET", base, "application/json", b"");
        times.push(t.elapsed());
        assert_eq!(status, 200);
        size = body.len();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["items"].as_array().unwrap().len(), n / 16 * 16);
    }
    times.sort();
    println!(
        "list of {} objects: median {:.1} ms ({:.1} MiB of JSON)",
        n / 16 * 16,
        times[2].as_secs_f64() * 1e3,
        size as f64 / 1048576.0
    );
    let rss = p.rss_mib();
    println!("RSS after storing {} objects: {rss:.0} MiB", n / 16 * 16);

    // Watch fan-out.
    let watchers = 100;
    let events = scale(500) / 4 * 4;
    let (_, body) = conn.request("GET", base, "application/json", b"");
    let rv = serde_json::from_slice::<Value>(&body).unwrap()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let t0 = Instant::now();
    let results: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..watchers)
            .map(|_| {
                let mut c = p.conn();
                let path = format!("{base}?watch=1&resourceVersion={rv}&timeoutSeconds=120&labelSelector=app%3Dbench");
                s.spawn(move || {
                    let head = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n", c.token);
                    c.stream.write_all(head.as_bytes()).unwrap();
                    c.stream.flush().unwrap();
                    let mut seen = 0;
                    let mut tmp = [0u8; 65536];
                    let mut carry = Vec::new();
                    while seen < events {
                        let n = c.stream.read(&mut tmp).unwrap();
                        assert!(n > 0);
                        carry.extend_from_slice(&tmp[..n]);
                        seen += carry.windows(11).filter(|w| w == b"\"type\":\"ADD").count();
                        let keep = carry.len().saturating_sub(10);
                        carry.drain(..keep);
                    }
                    t0.elapsed()
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(500));
        let t = Instant::now();
        parallel(&p, 4, events / 4, "w", false, base);
        let write_time = t.elapsed();
        let r: Vec<Duration> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        println!("watch fan-out: {events} events to {watchers} watchers ({} deliveries); writes took {:.2} s", events * watchers, write_time.as_secs_f64());
        r
    });
    let last = results.iter().max().unwrap().as_secs_f64() - 0.5;
    println!("watch fan-out: last watcher had every event {last:.2} s after the first write ({:.0} deliveries/s)", (events * watchers) as f64 / last);
    p.stop();
}

/// 1,000 virtual clusters with 50 objects each, and a restart with them.
fn virtual_clusters(scale: &dyn Fn(usize) -> usize, base: &str) {
    let dir = tempdir("clusters");
    let p = Proc::spawn(&dir);
    let clusters = scale(1000);
    let rss0 = p.rss_mib();
    let t = Instant::now();
    std::thread::scope(|s| {
        for w in 0..8 {
            let mut conn = p.conn();
            let p = &p;
            s.spawn(move || {
                for c in (w..clusters).step_by(8) {
                    let name = format!("vc-{c}");
                    let (status, body) = conn.request(
                        "POST",
                        "/admin/clusters",
                        "application/json",
                        json!({"name": name}).to_string().as_bytes(),
                    );
                    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
                    let token = serde_json::from_slice::<Value>(&body).unwrap()["token"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    let mut cc = Conn::open(p.port, &p.tls, &token);
                    for i in 0..50 {
                        let (st, _) = cc.request(
                            "POST",
                            &format!("/clusters/{name}{base}"),
                            "application/json",
                            &cm(&format!("o{i}"), i),
                        );
                        assert_eq!(st, 201);
                    }
                }
            });
        }
    });
    println!(
        "{clusters} virtual clusters x 50 objects: created in {:.1} s; RSS {:.0} MiB (empty server {rss0:.0} MiB)",
        t.elapsed().as_secs_f64(),
        p.rss_mib()
    );
    p.stop();
    let p = Proc::spawn(&dir);
    println!(
        "restart with {clusters} virtual clusters: {:.2} s to listening, RSS {:.0} MiB",
        p.started.as_secs_f64(),
        p.rss_mib()
    );
    p.stop();
}

/// Start-up with 100,000 objects.
fn startup(scale: &dyn Fn(usize) -> usize, base: &str) {
    let dir = tempdir("startup");
    let n = scale(100_000);
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let store =
            Arc::new(flotilla_apiserver::store::Store::open(&dir.join("store.redb"), 100).unwrap());
        let t = Instant::now();
        rt.block_on(async {
            for chunk in (0..n).collect::<Vec<_>>().chunks(2000) {
                let mut tasks = Vec::new();
                for &i in chunk {
                    let store = store.clone();
                    tasks.push(tokio::spawn(async move {
                        let name = format!("s{i}");
                        let obj: Value = serde_json::from_slice(&cm(&name, i)).unwrap();
                        let mut obj = obj;
                        obj["metadata"]["namespace"] = json!("default");
                        obj["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
                        let key = flotilla_apiserver::store::Key::new(
                            "default",
                            "",
                            "configmaps",
                            "default",
                            &name,
                        );
                        store
                            .write(flotilla_apiserver::store::Op::Create { key, object: obj })
                            .await
                            .unwrap();
                    }));
                }
                for t in tasks {
                    t.await.unwrap();
                }
            }
        });
        println!(
            "seeded {n} objects directly into the store in {:.1} s (group commit)",
            t.elapsed().as_secs_f64()
        );
    }
    let size = std::fs::metadata(dir.join("store.redb"))
        .map(|m| m.len())
        .unwrap_or(0);
    let p = Proc::spawn(&dir);
    let mut conn = p.conn();
    let t = Instant::now();
    let (status, _) = conn.request("GET", &format!("{base}/s0"), "application/json", b"");
    assert_eq!(status, 200);
    println!(
        "start-up with {n} objects ({:.0} MiB store): {:.2} s to listening, first read {:.1} ms, RSS {:.0} MiB",
        size as f64 / 1048576.0,
        p.started.as_secs_f64(),
        t.elapsed().as_secs_f64() * 1e3,
        p.rss_mib()
    );
    p.stop();
}
