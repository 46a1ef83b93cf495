//! Shared harness of the GitRepository and Kustomization end-to-end tests: the embedded API
//! server in-process with the CRDs installed and every controller running, a real git
//! repository per test (git CLI, fixed author), objects created through the API, and
//! bounded polls that name what they waited for and the last thing they saw.
#![allow(dead_code)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::ResourceExt;
use serde_json::{json, Value};

/// What the tests return.
pub type R<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// How long a poll waits by default.
pub const WAIT: Duration = Duration::from_secs(30);

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A fresh temporary directory for `tag`.
pub fn temp_dir(tag: &str) -> R<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "flotilla-e2e-{tag}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Whether the `git` binary is usable. When it is not: under `CI=true` the test fails;
/// otherwise it prints why and the caller returns early (skip).
pub fn git_available() -> bool {
    let ok = Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("git is required for this test and is not installed (CI=true)");
    }
    eprintln!("SKIPPED: the `git` binary is not installed; this test needs it");
    false
}

/// A git repository on disk (branch `main`, fixed author and dates); removed when dropped
/// unless the test is failing.
pub struct Repo {
    pub dir: PathBuf,
    commits: usize,
}

impl Drop for Repo {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Repo {
    /// `git init -b main` in a fresh directory.
    pub fn init(tag: &str) -> R<Repo> {
        let dir = temp_dir(&format!("{tag}-repo"))?;
        let repo = Repo { dir, commits: 0 };
        repo.git(&["init", "-q", "-b", "main"])?;
        Ok(repo)
    }

    /// Runs git in the repository; answers stdout trimmed.
    pub fn git(&self, args: &[&str]) -> R<String> {
        let date = format!("2026-01-01T00:00:{:02}Z", self.commits % 60);
        let out = Command::new("git")
            .args(args)
            .current_dir(&self.dir)
            .env("GIT_AUTHOR_NAME", "Flotilla Test")
            .env("GIT_AUTHOR_EMAIL", "test@flotilla.invalid")
            .env("GIT_COMMITTER_NAME", "Flotilla Test")
            .env("GIT_COMMITTER_EMAIL", "test@flotilla.invalid")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &self.dir)
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "git {args:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Writes `path` (parents created).
    pub fn write(&self, path: &str, content: &str) -> R {
        let p = self.dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(p, content)?;
        Ok(())
    }

    /// Copies a file from disk into the repository.
    pub fn copy(&self, from: &Path, path: &str) -> R {
        let content = std::fs::read_to_string(from)?;
        self.write(path, &content)
    }

    /// Removes `path`.
    pub fn remove(&self, path: &str) -> R {
        std::fs::remove_file(self.dir.join(path))?;
        Ok(())
    }

    /// Commits everything; answers the commit's sha.
    pub fn commit(&mut self, message: &str) -> R<String> {
        self.commits += 1;
        self.git(&["add", "-A"])?;
        self.git(&["commit", "-q", "--allow-empty", "-m", message])?;
        self.git(&["rev-parse", "HEAD"])
    }

    /// A lightweight tag at HEAD.
    pub fn tag(&self, name: &str) -> R {
        self.git(&["tag", name])?;
        Ok(())
    }

    /// `file://` URL.
    pub fn url(&self) -> String {
        format!("file://{}", self.dir.display())
    }
}

/// The embedded API server with CRDs installed and the controllers running.
pub struct Env {
    pub handle: flotilla_apiserver::Handle,
    pub client: kube::Client,
    pub config: kube::Config,
    pub dir: PathBuf,
    simulate_local: bool,
    controllers: tokio::task::JoinHandle<()>,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.controllers.abort();
        // Kept after a failure, for a look at the store and artifacts.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A kube config and client from a kubeconfig's text.
pub async fn client_from(kubeconfig: &str) -> R<(kube::Config, kube::Client)> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kc = kube::config::Kubeconfig::from_yaml(kubeconfig)?;
    let config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await?;
    let client = kube::Client::try_from(config.clone())?;
    Ok((config, client))
}

impl Env {
    /// Starts everything; `simulate_local` makes workloads on the plane report ready.
    pub async fn start(tag: &str, simulate_local: bool) -> R<Env> {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("FLOTILLA_LOG"))
            .with_test_writer()
            .try_init();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = temp_dir(tag)?;
        let handle = flotilla_apiserver::serve(flotilla_apiserver::Config::new(
            dir.join("server"),
            "127.0.0.1:0".parse()?,
        ))
        .await?;
        let text = std::fs::read_to_string(&handle.kubeconfig)?;
        let (config, client) = client_from(&text).await?;
        flotilla_controllers::install::crds(&client, false).await?;
        let mut env = Env {
            handle,
            client,
            config,
            dir,
            simulate_local,
            controllers: tokio::spawn(async {}),
        };
        env.start_controllers();
        Ok(env)
    }

    /// Starts the controllers (data under `<dir>/data`, kept across restarts).
    pub fn start_controllers(&mut self) {
        let mut opts = flotilla_controllers::Options::new(self.dir.join("data"));
        opts.simulate_local_workloads = self.simulate_local;
        opts.concurrency = 8;
        let run_config = self.config.clone();
        self.controllers.abort();
        self.controllers = tokio::spawn(async move {
            if let Err(e) = flotilla_controllers::run(run_config, opts).await {
                eprintln!("controllers stopped: {e}");
            }
        });
    }

    /// Stops the controllers as a crash would (the task is dropped mid-flight).
    pub async fn stop_controllers(&mut self) {
        self.controllers.abort();
        let finished = std::mem::replace(&mut self.controllers, tokio::spawn(async {}));
        let _ = finished.await;
    }

    /// An API for `ar` in `ns` (all namespaces when empty).
    pub fn api(&self, ar: &ApiResource, ns: &str) -> Api<DynamicObject> {
        api(&self.client, ar, ns)
    }

    /// Creates namespace `ns` unless it exists.
    pub async fn namespace(&self, ns: &str) -> R {
        ensure_namespace(&self.client, ns).await
    }

    /// Creates any object from its manifest (namespace from the manifest).
    pub async fn create(&self, manifest: Value) -> R<DynamicObject> {
        create(&self.client, manifest).await
    }

    /// A GitRepository `ns/name` on `url` at `reference` (`{"branch": "main"}`), interval 1s.
    pub async fn git_repository(&self, ns: &str, name: &str, url: &str, reference: Value) -> R {
        self.create(json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"url": url, "interval": "1s", "ref": reference, "timeout": "20s"},
        }))
        .await?;
        Ok(())
    }

    /// A v1 Kustomization `ns/name` with `spec` merged over short defaults (source
    /// `GitRepository/<ns>/repo`, interval 2s, retryInterval 2s, timeout 10s, prune true).
    pub async fn kustomization(&self, ns: &str, name: &str, spec: Value) -> R<DynamicObject> {
        let mut full = json!({
            "sourceRef": {"kind": "GitRepository", "name": "repo"},
            "interval": "2s", "retryInterval": "2s", "timeout": "10s", "prune": true,
        });
        merge(&mut full, &spec);
        self.create(json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": name, "namespace": ns},
            "spec": full,
        }))
        .await
    }

    /// Merge-patches an object's metadata/spec.
    pub async fn patch(&self, ar: &ApiResource, ns: &str, name: &str, patch: Value) -> R {
        self.api(ar, ns)
            .patch(name, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        Ok(())
    }
}

/// Shallow-deep merge of JSON objects (`b` over `a`).
pub fn merge(a: &mut Value, b: &Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b.clone(),
    }
}

/// An API for `ar` in `ns` (all namespaces when empty).
pub fn api(client: &kube::Client, ar: &ApiResource, ns: &str) -> Api<DynamicObject> {
    if ns.is_empty() {
        Api::all_with(client.clone(), ar)
    } else {
        Api::namespaced_with(client.clone(), ns, ar)
    }
}

/// An `ApiResource` from group, version, kind and plural.
pub fn res(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
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

pub fn config_maps() -> ApiResource {
    res("", "v1", "ConfigMap", "configmaps")
}

pub fn secrets() -> ApiResource {
    res("", "v1", "Secret", "secrets")
}

pub fn deployments() -> ApiResource {
    res("apps", "v1", "Deployment", "deployments")
}

pub fn namespaces() -> ApiResource {
    res("", "v1", "Namespace", "namespaces")
}

pub fn events() -> ApiResource {
    res("", "v1", "Event", "events")
}

/// Creates namespace `ns` through `client` unless it exists.
pub async fn ensure_namespace(client: &kube::Client, ns: &str) -> R {
    let nss = api(client, &namespaces(), "");
    if nss.get_opt(ns).await?.is_none() {
        create(
            client,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        )
        .await?;
    }
    Ok(())
}

/// Creates an object from its manifest through `client`.
pub async fn create(client: &kube::Client, manifest: Value) -> R<DynamicObject> {
    let api_version = manifest["apiVersion"].as_str().unwrap_or_default();
    let kind = manifest["kind"].as_str().unwrap_or_default();
    let ns = manifest["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let plural = match kind {
        "GitRepository" => "gitrepositories".to_string(),
        "Kustomization" => "kustomizations".to_string(),
        k => format!("{}s", k.to_ascii_lowercase()),
    };
    let ar = res(group, version, kind, &plural);
    let obj: DynamicObject = serde_json::from_value(manifest)?;
    Ok(api(client, &ar, &ns)
        .create(&PostParams::default(), &obj)
        .await?)
}

/// Polls `f` every 100 ms until it answers `Some`, for at most `limit`; `f` also tells
/// what it saw, which the panic message quotes.
pub async fn poll<T, F, Fut>(what: &str, limit: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = (Option<T>, String)>,
{
    let deadline = Instant::now() + limit;
    loop {
        let (got, last) = f().await;
        if let Some(v) = got {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {limit:?} waiting for {what}; last seen: {last}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `status` of an object (`{}` if unset).
pub fn status(obj: &DynamicObject) -> Value {
    obj.data.get("status").cloned().unwrap_or_else(|| json!({}))
}

/// Condition `type_` of an object: (status, reason, message).
pub fn condition(obj: &DynamicObject, type_: &str) -> Option<(String, String, String)> {
    let cs = obj.data.pointer("/status/conditions")?.as_array()?;
    let c = cs
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))?;
    let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Some((s("status"), s("reason"), s("message")))
}

fn ready_summary(obj: &Option<DynamicObject>) -> String {
    match obj {
        None => "object not found".into(),
        Some(o) => format!(
            "Ready={:?} lastApplied={:?} lastAttempted={:?}",
            condition(o, "Ready"),
            o.data.pointer("/status/lastAppliedRevision"),
            o.data.pointer("/status/lastAttemptedRevision"),
        ),
    }
}

/// Waits until `ar` object `ns/name` satisfies `pred`; answers it.
pub async fn wait_for(
    client: &kube::Client,
    ar: &ApiResource,
    ns: &str,
    name: &str,
    what: &str,
    limit: Duration,
    pred: impl Fn(&DynamicObject) -> bool,
) -> DynamicObject {
    let a = api(client, ar, ns);
    poll(&format!("{} {ns}/{name}: {what}", ar.kind), limit, || {
        let a = a.clone();
        let pred = &pred;
        async move {
            let got = a.get_opt(name).await;
            match got {
                Ok(Some(o)) if pred(&o) => (Some(o), String::new()),
                Ok(o) => (None, ready_summary(&o)),
                Err(e) => (None, format!("get failed: {e}")),
            }
        }
    })
    .await
}

/// Waits until Kustomization `ns/name` is Ready=True with `Applied revision: <rev>`.
pub async fn ks_ready(client: &kube::Client, ns: &str, name: &str, rev: &str) -> DynamicObject {
    let want = format!("Applied revision: {rev}");
    wait_for(
        client,
        &flotilla_controllers::resources::kustomization(),
        ns,
        name,
        &format!("Ready=True '{want}'"),
        WAIT,
        |o| condition(o, "Ready").is_some_and(|(s, _, m)| s == "True" && m == want),
    )
    .await
}

/// Waits until Kustomization `ns/name` is Ready=False with `reason`; answers the message.
pub async fn ks_failed(client: &kube::Client, ns: &str, name: &str, reason: &str) -> String {
    ks_failed_within(client, ns, name, reason, WAIT).await
}

/// [`ks_failed`] with a limit.
pub async fn ks_failed_within(
    client: &kube::Client,
    ns: &str,
    name: &str,
    reason: &str,
    limit: Duration,
) -> String {
    let o = wait_for(
        client,
        &flotilla_controllers::resources::kustomization(),
        ns,
        name,
        &format!("Ready=False reason {reason}"),
        limit,
        |o| condition(o, "Ready").is_some_and(|(s, r, _)| s == "False" && r == reason),
    )
    .await;
    condition(&o, "Ready").map(|c| c.2).unwrap_or_default()
}

/// Waits until GitRepository `ns/name` stores an artifact of `revision`; answers it.
pub async fn git_ready(client: &kube::Client, ns: &str, name: &str, rev: &str) -> DynamicObject {
    let want = format!("stored artifact for revision '{rev}'");
    wait_for(
        client,
        &flotilla_controllers::resources::git_repository(),
        ns,
        name,
        &format!("Ready=True '{want}'"),
        WAIT,
        |o| {
            condition(o, "Ready").is_some_and(|(s, _, m)| s == "True" && m == want)
                && o.data
                    .pointer("/status/artifact/revision")
                    .and_then(Value::as_str)
                    == Some(rev)
        },
    )
    .await
}

/// Whether `ar` object `ns/name` exists.
pub async fn exists(client: &kube::Client, ar: &ApiResource, ns: &str, name: &str) -> R<bool> {
    Ok(api(client, ar, ns).get_opt(name).await?.is_some())
}

/// Waits until `ar` object `ns/name` is gone.
pub async fn wait_gone(client: &kube::Client, ar: &ApiResource, ns: &str, name: &str) {
    let a = api(client, ar, ns);
    poll(
        &format!("{} {ns}/{name} to be deleted", ar.kind),
        WAIT,
        || {
            let a = a.clone();
            async move {
                match a.get_opt(name).await {
                    Ok(None) => (Some(()), String::new()),
                    Ok(Some(o)) => (None, format!("still there: rv {:?}", o.resource_version())),
                    Err(e) => (None, format!("get failed: {e}")),
                }
            }
        },
    )
    .await
}

/// The messages of the Events in `ns` about object `name`.
pub async fn event_messages(client: &kube::Client, ns: &str, name: &str) -> R<Vec<String>> {
    let list = api(client, &events(), ns)
        .list(&ListParams::default())
        .await?;
    Ok(list
        .items
        .iter()
        .filter(|e| {
            e.data
                .pointer("/involvedObject/name")
                .and_then(Value::as_str)
                == Some(name)
        })
        .filter_map(|e| {
            e.data
                .get("message")
                .and_then(Value::as_str)
                .map(String::from)
        })
        .collect())
}

/// A ConfigMap manifest.
pub fn config_map(ns: &str, name: &str, data: &[(&str, &str)]) -> String {
    let mut s = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata:\n"
    );
    for (k, v) in data {
        s.push_str(&format!("  {k}: \"{v}\"\n"));
    }
    s
}

/// A Deployment manifest (one replica, nginx).
pub fn deployment(ns: &str, name: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n        - name: app\n          image: nginx:1.27\n"
    )
}

/// `main@sha1:<sha>`.
pub fn main_rev(sha: &str) -> String {
    format!("main@sha1:{sha}")
}

/// A string field of an object by JSON pointer.
pub fn field(obj: &DynamicObject, ptr: &str) -> Option<String> {
    if ptr.starts_with("/metadata/") {
        let whole = serde_json::to_value(obj).ok()?;
        return whole.pointer(ptr).and_then(Value::as_str).map(String::from);
    }
    obj.data
        .pointer(ptr)
        .and_then(Value::as_str)
        .map(String::from)
}

/// The object's name (for readable asserts).
pub fn name_of(obj: &DynamicObject) -> String {
    obj.name_any()
}

/// An environment with namespace `ns`, a git repository holding `files` (one commit) and
/// the GitRepository `ns/repo` on its `main`; answers the revision (`main@sha1:…`), or
/// `None` when git is missing (the test is skipped, or fails under `CI=true`).
pub async fn setup_repo<C: AsRef<str>>(
    tag: &str,
    simulate: bool,
    ns: &str,
    files: &[(&str, C)],
) -> R<Option<(Env, Repo, String)>> {
    if !git_available() {
        return Ok(None);
    }
    let env = Env::start(tag, simulate).await?;
    env.namespace(ns).await?;
    let mut repo = Repo::init(tag)?;
    for (p, c) in files {
        repo.write(p, c.as_ref())?;
    }
    let sha = repo.commit("init")?;
    env.git_repository(ns, "repo", &repo.url(), json!({"branch": "main"}))
        .await?;
    Ok(Some((env, repo, main_rev(&sha))))
}

/// Standard base64 of `s` (Secret data).
pub fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}
