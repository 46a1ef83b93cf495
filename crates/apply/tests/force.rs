//! Forced recreate on an immutable-field error. The embedded API server does not enforce
//! immutable fields (yet), so these tests run the Applier against a scripted HTTP/1.1 API
//! that answers like kube-apiserver does for a ConfigMap with `immutable: true`: the apply
//! (and its dry run) is 422 Invalid "field is immutable".
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flotilla_apply::{Action, Applier, ApplyOptions};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

const PATH: &str = "/api/v1/namespaces/default/configmaps/imm";

/// The scripted server's state: whether the object exists, how many more GETs still see
/// it after a DELETE (deletion takes a while), and the requests seen.
#[derive(Default)]
struct Script {
    exists: bool,
    lingering: u32,
    log: Vec<String>,
    delete_bodies: Vec<String>,
}

type Shared = Arc<Mutex<Script>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Script> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

fn live() -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "imm", "namespace": "default", "resourceVersion": "1", "uid": "u"},
           "immutable": true, "data": {"a": "1"}})
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
           "code": code, "reason": reason, "message": message})
}

/// One response for a request line (method, path with query).
fn respond(s: &Shared, method: &str, target: &str, body: &[u8]) -> (u16, Value) {
    let mut st = lock(s);
    st.log.push(format!("{method} {target}"));
    let path = target.split('?').next().unwrap_or("");
    let dry_run = target.contains("dryRun=All");
    match (method, path) {
        ("GET", "/api/v1") => (
            200,
            json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                {"name": "configmaps", "singularName": "configmap", "namespaced": true,
                 "kind": "ConfigMap", "verbs": ["get", "patch", "delete"]}]}),
        ),
        ("GET", PATH) => {
            if st.exists {
                (200, live())
            } else if st.lingering > 0 {
                st.lingering -= 1;
                (200, live())
            } else {
                (404, status(404, "NotFound", "configmaps \"imm\" not found"))
            }
        }
        ("PATCH", PATH) if st.exists => (
            422,
            status(
                422,
                "Invalid",
                "ConfigMap \"imm\" is invalid: data: Forbidden: field is immutable when `immutable` is set",
            ),
        ),
        ("PATCH", PATH) => {
            if !dry_run {
                st.exists = true;
            }
            (201, live())
        }
        ("DELETE", PATH) => {
            st.delete_bodies.push(String::from_utf8_lossy(body).into_owned());
            st.exists = false;
            st.lingering = 2;
            (200, status(200, "", ""))
        }
        _ => (404, status(404, "NotFound", "the server could not find the requested resource")),
    }
}

async fn serve_conn(s: Shared, stream: TcpStream) -> std::io::Result<()> {
    let mut rd = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if rd.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            rd.read_line(&mut h).await?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        rd.read_exact(&mut body).await?;
        let (code, reply) = respond(&s, &method, &target, &body);
        let bytes = reply.to_string();
        let head = format!(
            "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            bytes.len()
        );
        rd.get_mut().write_all(head.as_bytes()).await?;
        rd.get_mut().write_all(bytes.as_bytes()).await?;
    }
}

async fn scripted(
    exists: bool,
) -> Result<(Shared, Applier), Box<dyn std::error::Error + Send + Sync>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let shared: Shared = Arc::new(Mutex::new(Script {
        exists,
        ..Script::default()
    }));
    let s = shared.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(serve_conn(s.clone(), conn));
        }
    });
    let cfg = kube::Config::new(format!("http://127.0.0.1:{port}").parse()?);
    let client = kube::Client::try_from(cfg)?;
    Ok((shared, Applier::new(client)))
}

fn wanted() -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "imm", "namespace": "default"},
           "immutable": true, "data": {"a": "2"}})
}

fn calls(s: &Shared) -> Vec<String> {
    lock(s)
        .log
        .iter()
        .filter(|l| !l.ends_with(" /api/v1"))
        .map(|l| {
            let (method, target) = l.split_once(' ').unwrap_or(("", ""));
            let dry = if target.contains("dryRun=All") {
                " (dry run)"
            } else {
                ""
            };
            format!("{method}{dry}")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immutable_change_without_force_names_the_fix() -> TestResult {
    let (s, applier) = scripted(true).await?;
    let Err(f) = applier
        .apply_staged(vec![wanted()], &ApplyOptions::default())
        .await
    else {
        panic!("an immutable change applied without force");
    };
    assert_eq!(
        f.to_string(),
        "ConfigMap/default/imm dry-run failed: ConfigMap \"imm\" is invalid: data: Forbidden: \
         field is immutable when `immutable` is set (immutable field); set spec.force to recreate"
    );
    assert!(f.changes.changes.is_empty());
    assert_eq!(calls(&s), ["GET", "PATCH (dry run)"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immutable_change_with_force_recreates() -> TestResult {
    let (s, applier) = scripted(true).await?;
    let opts = ApplyOptions {
        force: true,
        crd_wait: Duration::from_secs(5),
        ..ApplyOptions::default()
    };
    let cs = applier.apply_staged(vec![wanted()], &opts).await?;
    assert_eq!(cs.summary(), "ConfigMap/default/imm configured");
    assert_eq!(cs.changes[0].action, Action::Configured);
    // Delete, wait until the GETs say it is gone (two still see it), create.
    assert_eq!(
        calls(&s),
        [
            "GET",
            "PATCH (dry run)",
            "DELETE",
            "GET",
            "GET",
            "GET",
            "PATCH"
        ]
    );
    let bodies = lock(&s).delete_bodies.clone();
    assert_eq!(bodies.len(), 1);
    let body: Value = serde_json::from_str(&bodies[0])?;
    assert_eq!(body["propagationPolicy"], "Background", "{body}");
    assert!(lock(&s).exists);
    Ok(())
}
