//! https transport: git smart HTTP (`git http-backend`, CGI) behind a TLS server this test
//! starts with its own CA (rcgen + rustls), with basic and bearer authentication.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use common::{need, Fixture, Tmp};
use flotilla_source::{Credentials, GitRef, SourceError, SourceSpec, Sources, UrlRewriter};

struct Pki {
    ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "flotilla test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        )
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    }
}

#[derive(Clone)]
enum Auth {
    Basic(String, String),
    Bearer(String),
}

/// Serves `root` over HTTPS until the test process exits; returns the port.
fn serve(root: PathBuf, tls: Arc<rustls::ServerConfig>, auth: Auth) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(500) {
            let Ok(stream) = stream else { continue };
            let (root, tls, auth) = (root.clone(), tls.clone(), auth.clone());
            std::thread::spawn(move || {
                let _ = handle(stream, &root, tls, &auth);
            });
        }
    });
    port
}

fn handle(
    tcp: TcpStream,
    root: &std::path::Path,
    tls: Arc<rustls::ServerConfig>,
    auth: &Auth,
) -> std::io::Result<()> {
    tcp.set_read_timeout(Some(Duration::from_secs(20)))?;
    let conn = rustls::ServerConnection::new(tls).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    loop {
        let mut reader = BufReader::new(&mut tls);
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let mut body = Vec::new();
        if headers
            .get("transfer-encoding")
            .is_some_and(|v| v.contains("chunked"))
        {
            loop {
                let mut size = String::new();
                reader.read_line(&mut size)?;
                let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                    .unwrap_or(0);
                let mut chunk = vec![0; n + 2];
                reader.read_exact(&mut chunk)?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        } else if let Some(n) = headers.get("content-length").and_then(|v| v.parse().ok()) {
            body.resize(n, 0);
            reader.read_exact(&mut body)?;
        }
        drop(reader);
        let authorized = match (auth, headers.get("authorization")) {
            (Auth::Basic(u, p), Some(v)) => {
                let want = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
                v == &format!("Basic {want}")
            }
            (Auth::Bearer(t), Some(v)) => v == &format!("Bearer {t}"),
            _ => false,
        };
        if !authorized {
            let challenge = match auth {
                Auth::Basic(..) => "WWW-Authenticate: Basic realm=\"git\"\r\n",
                Auth::Bearer(_) => "WWW-Authenticate: Bearer realm=\"git\"\r\n",
            };
            write!(
                tls,
                "HTTP/1.1 401 Unauthorized\r\n{challenge}Content-Length: 0\r\n\r\n"
            )?;
            tls.flush()?;
            continue;
        }
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let mut child = Command::new("git")
            .arg("http-backend")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GIT_PROJECT_ROOT", root)
            .env("GIT_HTTP_EXPORT_ALL", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("REQUEST_METHOD", &method)
            .env("PATH_INFO", path)
            .env("QUERY_STRING", query)
            .env(
                "CONTENT_TYPE",
                headers.get("content-type").cloned().unwrap_or_default(),
            )
            .env("CONTENT_LENGTH", body.len().to_string())
            .env(
                "GIT_PROTOCOL",
                headers.get("git-protocol").cloned().unwrap_or_default(),
            )
            .env("REMOTE_USER", "test")
            .env("REMOTE_ADDR", "127.0.0.1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        child.stdin.take().unwrap().write_all(&body)?;
        let out = child.wait_with_output()?;
        let split = out
            .stdout
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| (i, 4))
            .or_else(|| {
                out.stdout
                    .windows(2)
                    .position(|w| w == b"\n\n")
                    .map(|i| (i, 2))
            });
        let (head, payload) = match split {
            Some((i, n)) => (
                String::from_utf8_lossy(&out.stdout[..i]).into_owned(),
                &out.stdout[i + n..],
            ),
            None => (String::new(), &out.stdout[..]),
        };
        let mut status = "200 OK".to_string();
        let mut resp_headers = String::new();
        for l in head.lines() {
            if let Some(s) = l.strip_prefix("Status:") {
                status = s.trim().to_string();
            } else if !l.trim().is_empty() {
                resp_headers.push_str(l.trim_end());
                resp_headers.push_str("\r\n");
            }
        }
        write!(
            tls,
            "HTTP/1.1 {status}\r\n{resp_headers}Content-Length: {}\r\n\r\n",
            payload.len()
        )?;
        tls.write_all(payload)?;
        tls.flush()?;
    }
}

fn creds(pairs: &[(&str, &str)]) -> Arc<Credentials> {
    let data = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect();
    Arc::new(Credentials::from_secret_data(&data).unwrap())
}

fn fetch(url: &str, c: Option<Arc<Credentials>>, timeout: u64) -> Result<String, SourceError> {
    let tmp = Tmp::new("https-store");
    let s = Sources::open(&tmp.path().join("store"), 2)
        .unwrap()
        .with_rewriter(UrlRewriter::none());
    let spec = SourceSpec {
        credentials: c,
        timeout: Duration::from_secs(timeout),
        ..SourceSpec::new(url, GitRef::branch("main"))
    };
    s.reconcile(&spec, Duration::ZERO)
        .map(|a| a.revision)
        .map_err(|f| f.error)
}

#[test]
fn https_basic_auth_and_ca() {
    if !need("git", &["--version"]) {
        return;
    }
    let f = Fixture::new("https-basic");
    let c1 = f.commit(&[("a.yaml", "a\n")], "1");
    f.push(&["main"]);
    let pki = pki();
    let port = serve(
        f.tmp.path().to_path_buf(),
        pki.server.clone(),
        Auth::Basic("bob".into(), "s3cret".into()),
    );
    let url = format!("https://localhost:{port}/remote.git");
    let ca = pki.ca_pem.as_str();

    let good = creds(&[("username", "bob"), ("password", "s3cret"), ("ca.crt", ca)]);
    assert_eq!(
        fetch(&url, Some(good), 30).unwrap(),
        format!("main@sha1:{c1}")
    );

    let bad = creds(&[("username", "bob"), ("password", "wrong"), ("ca.crt", ca)]);
    let e = fetch(&url, Some(bad), 30).unwrap_err();
    assert!(matches!(e, SourceError::AuthRefused { .. }), "{e:?}");
    assert!(!e.to_string().contains("wrong"), "{e}");

    let none = creds(&[("ca.crt", ca)]);
    let e = fetch(&url, Some(none), 30).unwrap_err();
    assert!(matches!(e, SourceError::AuthRefused { .. }), "{e:?}");

    // Right password, but the server's CA is not trusted.
    let no_ca = creds(&[("username", "bob"), ("password", "s3cret")]);
    let e = fetch(&url, Some(no_ca), 30).unwrap_err();
    assert!(
        matches!(e, SourceError::UntrustedCertificate { .. }),
        "{e:?}"
    );
    let other_ca = pki_other_ca();
    let wrong_ca = creds(&[
        ("username", "bob"),
        ("password", "s3cret"),
        ("ca.crt", &other_ca),
    ]);
    let e = fetch(&url, Some(wrong_ca), 30).unwrap_err();
    assert!(
        matches!(e, SourceError::UntrustedCertificate { .. }),
        "{e:?}"
    );
}

fn pki_other_ca() -> String {
    pki().ca_pem
}

#[test]
fn https_bearer_token() {
    if !need("git", &["--version"]) {
        return;
    }
    let f = Fixture::new("https-bearer");
    let c1 = f.commit(&[("a.yaml", "a\n")], "1");
    f.push(&["main"]);
    let pki = pki();
    let port = serve(
        f.tmp.path().to_path_buf(),
        pki.server.clone(),
        Auth::Bearer("tok-123".into()),
    );
    let url = format!("https://127.0.0.1:{port}/remote.git");
    let ca = pki.ca_pem.as_str();
    let good = creds(&[("bearerToken", "tok-123"), ("ca.crt", ca)]);
    assert_eq!(
        fetch(&url, Some(good), 30).unwrap(),
        format!("main@sha1:{c1}")
    );
    let bad = creds(&[("bearerToken", "tok-999"), ("ca.crt", ca)]);
    let e = fetch(&url, Some(bad), 30).unwrap_err();
    assert!(matches!(e, SourceError::AuthRefused { .. }), "{e:?}");
    assert!(!e.to_string().contains("tok-999"));
}

#[test]
fn https_silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(3).filter_map(Result::ok).collect();
        std::thread::sleep(Duration::from_secs(8));
        drop(held);
    });
    let started = Instant::now();
    let e = fetch(&format!("https://127.0.0.1:{port}/r.git"), None, 2).unwrap_err();
    assert!(
        matches!(e, SourceError::Timeout { seconds: 2, .. }),
        "{e:?}"
    );
    assert!(
        e.to_string().starts_with("timeout after 2s talking to '"),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(6));
}
