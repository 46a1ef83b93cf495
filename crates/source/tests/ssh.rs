//! ssh transport against a real `sshd` on a loopback port, started by the test with its own
//! host key and authorized_keys; git-upload-pack runs over ssh on the repository path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{need, Fixture, Tmp};
use flotilla_source::{Credentials, GitRef, SourceError, SourceSpec, Sources, UrlRewriter};

fn sshd_path() -> Option<PathBuf> {
    ["/usr/sbin/sshd", "/usr/local/sbin/sshd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn have_tools() -> bool {
    if !need("git", &["--version"]) || !need("ssh-keygen", &["-?"]) || !need("ssh", &["-V"]) {
        return false;
    }
    if sshd_path().is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("sshd (openssh-server) is required on CI but is not installed");
        }
        eprintln!("SKIPPED: sshd not found; apt-get install openssh-server to run this test");
        return false;
    }
    true
}

fn keygen(path: &Path, passphrase: &str) -> String {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", passphrase, "-C", "test", "-f"])
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::read_to_string(path.with_extension("pub")).unwrap()
}

struct Sshd {
    child: Child,
    port: u16,
    host_pub: String,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_sshd(dir: &Path, authorized: &[&str]) -> Sshd {
    let host_pub = keygen(&dir.join("host_key"), "");
    std::fs::write(dir.join("authorized_keys"), authorized.join("")).unwrap();
    let _ = std::fs::create_dir_all("/run/sshd");
    let port = free_port();
    let cfg = dir.join("sshd_config");
    std::fs::write(
        &cfg,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
             StrictModes no\nAcceptEnv GIT_PROTOCOL\nLogLevel ERROR\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let child = Command::new(sshd_path().unwrap())
        .args(["-D", "-e", "-f"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "sshd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Sshd {
        child,
        port,
        host_pub,
    }
}

fn user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn creds(identity: &Path, known_hosts: &str, password: Option<&str>) -> Arc<Credentials> {
    let mut d = BTreeMap::new();
    d.insert("identity".to_string(), std::fs::read(identity).unwrap());
    d.insert("known_hosts".to_string(), known_hosts.as_bytes().to_vec());
    if let Some(p) = password {
        d.insert("password".to_string(), p.as_bytes().to_vec());
    }
    Arc::new(Credentials::from_secret_data(&d).unwrap())
}

fn known_hosts(port: u16, host_pub: &str) -> String {
    let key: Vec<&str> = host_pub.split_whitespace().take(2).collect();
    format!("[127.0.0.1]:{port} {}\n", key.join(" "))
}

fn reconcile(tmp: &Tmp, url: &str, c: Arc<Credentials>) -> Result<String, SourceError> {
    let s = Sources::open(&tmp.path().join("store"), 2)
        .unwrap()
        .with_rewriter(UrlRewriter::none());
    let spec = SourceSpec {
        credentials: Some(c),
        timeout: Duration::from_secs(20),
        ..SourceSpec::new(url, GitRef::branch("main"))
    };
    s.reconcile(&spec, Duration::ZERO)
        .map(|a| a.revision)
        .map_err(|f| f.error)
}

#[test]
fn ssh_keys_and_host_keys() {
    if !have_tools() {
        return;
    }
    let f = Fixture::new("ssh");
    let c1 = f.commit(&[("a.yaml", "a\n")], "1");
    f.push(&["main"]);
    let tmp = Tmp::new("ssh-keys");
    let good_pub = keygen(&tmp.path().join("good"), "");
    keygen(&tmp.path().join("wrong"), "");
    let locked_pub = keygen(&tmp.path().join("locked"), "open sesame");
    let other_host = keygen(&tmp.path().join("other_host"), "");
    let sshd = start_sshd(tmp.path(), &[&good_pub, &locked_pub]);
    let url = format!(
        "ssh://{}@127.0.0.1:{}{}",
        user(),
        sshd.port,
        f.remote.display()
    );
    let kh = known_hosts(sshd.port, &sshd.host_pub);

    // The right key and host key.
    let store = Tmp::new("ssh-store-good");
    let rev = reconcile(&store, &url, creds(&tmp.path().join("good"), &kh, None)).unwrap();
    assert_eq!(rev, format!("main@sha1:{c1}"));

    // A passphrase-protected key with its `password`.
    let store = Tmp::new("ssh-store-locked");
    let rev = reconcile(
        &store,
        &url,
        creds(&tmp.path().join("locked"), &kh, Some("open sesame")),
    )
    .unwrap();
    assert_eq!(rev, format!("main@sha1:{c1}"));

    // A key the server does not know.
    let store = Tmp::new("ssh-store-wrong");
    let e = reconcile(&store, &url, creds(&tmp.path().join("wrong"), &kh, None)).unwrap_err();
    assert!(matches!(e, SourceError::AuthRefused { .. }), "{e:?}");
    let key_text = std::fs::read_to_string(tmp.path().join("wrong")).unwrap();
    assert!(!e.to_string().contains(key_text.lines().nth(1).unwrap()));

    // known_hosts holding another host's key for this address.
    let store = Tmp::new("ssh-store-mismatch");
    let bad_kh = known_hosts(sshd.port, &other_host);
    let e = reconcile(&store, &url, creds(&tmp.path().join("good"), &bad_kh, None)).unwrap_err();
    assert!(matches!(e, SourceError::HostKeyMismatch { .. }), "{e:?}");

    // known_hosts without this host at all.
    let store = Tmp::new("ssh-store-unknown");
    let e = reconcile(
        &store,
        &url,
        creds(&tmp.path().join("good"), "[10.255.255.1]:22 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n", None),
    )
    .unwrap_err();
    assert!(matches!(e, SourceError::HostKeyMismatch { .. }), "{e:?}");
    drop(sshd);
}

#[test]
fn silent_server_times_out() {
    if !need("ssh", &["-V"]) || !need("ssh-keygen", &["-?"]) {
        return;
    }
    let tmp = Tmp::new("ssh-timeout");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept and never speak.
    let _holder = std::thread::spawn(move || {
        let conns: Vec<_> = listener.incoming().take(2).filter_map(Result::ok).collect();
        std::thread::sleep(Duration::from_secs(8));
        drop(conns);
    });
    keygen(&tmp.path().join("k"), "");
    let c = creds(
        &tmp.path().join("k"),
        &format!("[127.0.0.1]:{port} ssh-ed25519 AAAA\n"),
        None,
    );
    let s = Sources::open(&tmp.path().join("store"), 2)
        .unwrap()
        .with_rewriter(UrlRewriter::none());
    let spec = SourceSpec {
        credentials: Some(c),
        timeout: Duration::from_secs(2),
        ..SourceSpec::new(
            &format!("ssh://git@127.0.0.1:{port}/r.git"),
            GitRef::branch("main"),
        )
    };
    let started = Instant::now();
    let e = s.reconcile(&spec, Duration::ZERO).unwrap_err().error;
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
