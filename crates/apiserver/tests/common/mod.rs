//! Test harness: a server in-process on a free port, a small HTTPS client speaking raw
//! HTTP/1.1 over rustls (trusting only the server's CA), and kubectl.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flotilla_apiserver::{Config, Handle};
use serde_json::Value;

pub struct Server {
    pub handle: Handle,
    pub rt: tokio::runtime::Runtime,
    pub dir: PathBuf,
}

pub fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("flotilla-apiserver-{tag}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn start(tag: &str) -> Server {
    start_in(tempdir(tag), |_| {})
}

pub fn start_in(dir: PathBuf, tune: impl FnOnce(&mut Config)) -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut cfg = Config::new(&dir, "127.0.0.1:0".parse().unwrap());
    tune(&mut cfg);
    let handle = rt.block_on(flotilla_apiserver::serve(cfg)).unwrap();
    Server { handle, rt, dir }
}

impl Server {
    pub fn client(&self) -> Client {
        Client::new(
            self.handle.addr.port(),
            self.handle.ca_pem(),
            &self.handle.admin_token,
        )
    }

    /// Stops the server and removes its data directory.
    pub fn stop(self) {
        let dir = self.dir.clone();
        self.stop_keep();
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Stops the server, keeping its data directory (to start it again).
    pub fn stop_keep(self) {
        let Server { handle, rt, .. } = self;
        rt.block_on(handle.shutdown());
        rt.shutdown_timeout(Duration::from_secs(2));
    }
}

/// A response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
pub struct Client {
    pub port: u16,
    pub token: Option<String>,
    tls: Arc<rustls::ClientConfig>,
}

impl Client {
    pub fn new(port: u16, ca_pem: &str, token: &str) -> Client {
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
            roots.add(c.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Client {
            port,
            token: Some(token.to_string()),
            tls: Arc::new(tls),
        }
    }

    pub fn with_token(&self, token: Option<&str>) -> Client {
        Client {
            token: token.map(str::to_string),
            ..self.clone()
        }
    }

    fn connect(&self) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
        self.try_connect().unwrap()
    }

    fn try_connect(
        &self,
    ) -> std::io::Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>> {
        let tcp = TcpStream::connect(("127.0.0.1", self.port))?;
        tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
        let name =
            rustls::pki_types::ServerName::try_from("127.0.0.1").map_err(std::io::Error::other)?;
        let conn =
            rustls::ClientConnection::new(self.tls.clone(), name).map_err(std::io::Error::other)?;
        Ok(rustls::StreamOwned::new(conn, tcp))
    }

    /// Like `send`, but a broken connection or a truncated response is an error.
    pub fn try_send(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<Resp, String> {
        let mut stream = self.try_connect().map_err(|e| e.to_string())?;
        let head = self.head(method, path, &[("Content-Type", content_type)], body.len());
        stream
            .write_all(head.as_bytes())
            .map_err(|e| e.to_string())?;
        stream.write_all(body).map_err(|e| e.to_string())?;
        stream.flush().map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        let pos = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("no response")?;
        let resp = parse(&raw);
        let complete = match resp
            .header("content-length")
            .and_then(|l| l.parse::<usize>().ok())
        {
            Some(n) => raw.len() - pos - 4 >= n,
            None => raw.ends_with(b"0\r\n\r\n"),
        };
        if complete {
            Ok(resp)
        } else {
            Err("truncated response".into())
        }
    }

    fn head(&self, method: &str, path: &str, headers: &[(&str, &str)], len: usize) -> String {
        let mut s = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {len}\r\n");
        if let Some(t) = &self.token {
            s.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        for (k, v) in headers {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
        s.push_str("\r\n");
        s
    }

    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let mut stream = self.connect();
        stream
            .write_all(self.head(method, path, headers, body.len()).as_bytes())
            .unwrap();
        // The server may answer (413) and close before reading all of a large body.
        let _ = stream.write_all(body).and_then(|()| stream.flush());
        let mut raw = Vec::new();
        // A peer that closes without close_notify is fine for us.
        let _ = stream.read_to_end(&mut raw);
        parse(&raw)
    }

    pub fn get(&self, path: &str) -> Resp {
        self.send("GET", path, &[("Accept", "application/json")], b"")
    }

    pub fn delete(&self, path: &str) -> Resp {
        self.send("DELETE", path, &[], b"")
    }

    pub fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )
    }

    pub fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(
            "PUT",
            path,
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )
    }

    pub fn patch(&self, path: &str, content_type: &str, body: &Value) -> Resp {
        self.send(
            "PATCH",
            path,
            &[("Content-Type", content_type)],
            body.to_string().as_bytes(),
        )
    }

    /// Reads a watch for at most `wait`, returning the events.
    pub fn watch(
        &self,
        path: &str,
        wait: Duration,
        until: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let mut stream = self.connect();
        stream
            .write_all(self.head("GET", path, &[], 0).as_bytes())
            .unwrap();
        stream
            .sock
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let deadline = Instant::now() + wait;
        let mut raw = Vec::new();
        let mut buf = [0u8; 16384];
        let mut events = Vec::new();
        while Instant::now() < deadline {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => break,
            }
            events = events_of(&raw);
            if until(&events) {
                break;
            }
        }
        events
    }
}

fn events_of(raw: &[u8]) -> Vec<Value> {
    let Some(pos) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Vec::new();
    };
    let body = dechunk_partial(&raw[pos + 4..]);
    body.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect()
}

fn dechunk_partial(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let Ok(n) = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap_or("x").trim(), 16)
        else {
            break;
        };
        if n == 0 || b.len() < eol + 2 + n {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[(eol + 4 + n).min(b.len())..];
    }
    out
}

fn parse(raw: &[u8]) -> Resp {
    let pos = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..pos]).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk_partial(&raw[pos + 4..])
    } else {
        raw[pos + 4..].to_vec()
    };
    Resp {
        status,
        headers,
        body,
    }
}

/// kubectl, or None (with the reason printed) when it is missing outside CI.
pub fn kubectl_path() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/kubectl");
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("kubectl is required under CI=true but /usr/bin/kubectl is missing");
    }
    eprintln!("SKIPPED: /usr/bin/kubectl is not installed");
    None
}

pub struct Kubectl {
    pub bin: PathBuf,
    pub kubeconfig: PathBuf,
    pub home: PathBuf,
}

pub struct Out {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Kubectl {
    pub fn new(bin: PathBuf, kubeconfig: &Path) -> Kubectl {
        let home = tempdir("kubectl-home");
        Kubectl {
            bin,
            kubeconfig: kubeconfig.to_path_buf(),
            home,
        }
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.home)
            .env_remove("KUBECTL_EXTERNAL_DIFF");
        c
    }

    pub fn run(&self, args: &[&str]) -> Out {
        self.run_stdin(args, None)
    }

    pub fn run_stdin(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let mut c = self.cmd(args);
        c.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let o = child.wait_with_output().unwrap();
        Out {
            ok: o.status.success(),
            stdout: String::from_utf8_lossy(&o.stdout).into(),
            stderr: String::from_utf8_lossy(&o.stderr).into(),
        }
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(o.ok, "kubectl {args:?} failed:\n{}\n{}", o.stdout, o.stderr);
        o.stdout
    }

    pub fn ok_stdin(&self, args: &[&str], stdin: &str) -> String {
        let o = self.run_stdin(args, Some(stdin));
        assert!(o.ok, "kubectl {args:?} failed:\n{}\n{}", o.stdout, o.stderr);
        o.stdout
    }

    /// Runs and asserts failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            !o.ok,
            "kubectl {args:?} unexpectedly succeeded:\n{}",
            o.stdout
        );
        o.stderr
    }
}

/// Polls `f` until it returns true or `wait` passes.
pub fn eventually(wait: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}
