//! End-to-end tests of `flotilla up` and `flotilla controllers`, run as the real binary:
//! the bundled platform converges (non-prod on `main`, prod on a tag) and a promotion moves
//! prod; a `kill -9` in the middle of 200 Kustomizations converges after a restart with
//! nothing duplicated, orphaned or wrongly pruned; and the controllers reconcile a second,
//! separately started `flotilla apiserver` over the network, provisioning a virtual cluster
//! through its admin API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use serde_json::{json, Value};

fn tools() -> bool {
    common::tool_available("git", &["--version"]) && common::tool_available("bash", &["--version"])
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("flotilla-up-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A running `flotilla` process whose stderr is collected line by line.
struct Proc {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    fn start(args: &[&str]) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flotilla"))
            .args(args)
            .env("FLOTILLA_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start flotilla");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Proc { child, lines }
    }

    /// Waits for a stderr line containing `needle`.
    fn wait_for(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(needle))
            {
                return l.clone();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "flotilla exited ({status}) before printing {needle:?}:\n{}",
                    self.log()
                );
            }
            if Instant::now() > deadline {
                panic!("no {needle:?} after {timeout:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn count(&self, needle: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Ctrl-C, and the exit status must be success (a clean stop).
    fn interrupt(mut self) {
        let pid = self.child.id() as i32;
        // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped) and a valid
        // signal number; it touches no memory of ours.
        unsafe { libc::kill(pid, libc::SIGINT) };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "unclean stop ({status}):\n{}", self.log());
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no stop after Ctrl-C:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn client_from_file(path: &Path) -> kube::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kc = kube::config::Kubeconfig::read_from(path).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(cfg).unwrap()
}

async fn client_from_text(text: &str) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(text).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(cfg).unwrap()
}

fn ar(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

fn ks_ar() -> ApiResource {
    ar(
        "kustomize.toolkit.fluxcd.io",
        "v1",
        "Kustomization",
        "kustomizations",
    )
}

fn git_ar() -> ApiResource {
    ar(
        "source.toolkit.fluxcd.io",
        "v1",
        "GitRepository",
        "gitrepositories",
    )
}

async fn get(
    client: &kube::Client,
    r: &ApiResource,
    ns: Option<&str>,
    name: &str,
) -> Option<Value> {
    let api: Api<DynamicObject> = match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, r),
        None => Api::all_with(client.clone(), r),
    };
    api.get_opt(name)
        .await
        .unwrap()
        .map(|o| serde_json::to_value(o).unwrap())
}

async fn workload_client(mgmt: &kube::Client, ns: &str, cluster: &str) -> kube::Client {
    let s = get(
        mgmt,
        &ar("", "v1", "Secret", "secrets"),
        Some(ns),
        &format!("{cluster}-kubeconfig"),
    )
    .await
    .unwrap_or_else(|| panic!("no kubeconfig Secret for {cluster}"));
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD
        .decode(s["data"]["value"].as_str().unwrap())
        .unwrap();
    client_from_text(&String::from_utf8(text).unwrap()).await
}

/// Polls `f` every 250 ms until it answers `Some`, panicking with `what` after `timeout`
/// (and with the process's log, when there is one).
async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually_logged(what, timeout, String::new, &mut f).await
}

async fn eventually_logged<T, F, Fut>(
    what: &str,
    timeout: Duration,
    log: impl Fn() -> String,
    f: &mut F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

async fn request_reconcile(client: &kube::Client, ns: &str, name: &str) {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &git_ar());
    let now = format!("{:?}", std::time::SystemTime::now());
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(
            json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": now}}}),
        ),
    )
    .await
    .unwrap();
}

#[test]
fn up_converges_the_example_platform_and_a_promotion_moves_prod() {
    if !tools() {
        return;
    }
    let data = tempdir("example");
    let mut up = Proc::start(&["up", "--data", data.to_str().unwrap()]);
    up.wait_for("16/16 Kustomizations Ready", Duration::from_secs(180));
    let rt = rt();
    rt.block_on(async {
        let mgmt = client_from_file(&data.join("kubeconfig")).await;
        let release = get(&mgmt, &git_ar(), Some("flux-system"), "release")
            .await
            .unwrap();
        let rel_rev = release["status"]["artifact"]["revision"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(rel_rev.starts_with("v0.1.1@sha1:"), "{rel_rev}");
        let main = get(&mgmt, &git_ar(), Some("flux-system"), "main")
            .await
            .unwrap();
        let main_rev = main["status"]["artifact"]["revision"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(main_rev.starts_with("main@sha1:"), "{main_rev}");
        for (ns, name, rev) in [
            ("non-prod-eu-west-1", "non-prod-eu-west-1", &main_rev),
            ("prod-eu-west-1", "prod-eu-west-1", &rel_rev),
            ("flux-system", "mgmt", &main_rev),
        ] {
            let ks = get(&mgmt, &ks_ar(), Some(ns), name).await.unwrap();
            assert_eq!(
                ks["status"]["lastAppliedRevision"],
                json!(rev),
                "{ns}/{name}"
            );
            let ready = ks["status"]["conditions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["type"] == "Ready")
                .unwrap()
                .clone();
            assert_eq!(ready["message"], json!(format!("Applied revision: {rev}")));
        }
        // Both workload clusters exist, with what their revision holds: the auditor role is
        // on main (v0.1.2) but not in v0.1.1.
        let non_prod = workload_client(&mgmt, "non-prod-eu-west-1", "non-prod-eu-west-1").await;
        let prod = workload_client(&mgmt, "prod-eu-west-1", "prod-eu-west-1").await;
        let role = ar(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRole",
            "clusterroles",
        );
        assert!(get(&non_prod, &role, None, "platform-auditor")
            .await
            .is_some());
        assert!(get(&prod, &role, None, "platform-auditor").await.is_none());
        let hello = ar("demo.flotilla.dev", "v1alpha1", "HelloWorld", "helloworlds");
        let hellos: Api<DynamicObject> = Api::all_with(prod.clone(), &hello);
        assert!(
            !hellos
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .is_empty(),
            "HelloWorld in prod"
        );
        let nodes: Api<DynamicObject> = Api::all_with(prod.clone(), &ar("", "v1", "Node", "nodes"));
        assert!(
            !nodes
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .is_empty(),
            "Nodes in prod"
        );

        // Promote prod to v0.1.2 with a commit on main, as `flotilla promote` would.
        let repo = data.join("platform-repo");
        let file =
            repo.join("providers/aws/v1/mgmt/namespaced/flux-system/gitrepository-release.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("tag: v0.1.1"));
        std::fs::write(&file, text.replace("tag: v0.1.1", "tag: v0.1.2")).unwrap();
        git(
            &repo,
            &[
                "commit",
                "-qam",
                "chore(release): promote v0.1.2 to aws prod",
            ],
        );
        request_reconcile(&mgmt, "flux-system", "main").await;
        let log = || up.log();
        eventually_logged("prod on v0.1.2", Duration::from_secs(120), log, &mut || {
            let mgmt = mgmt.clone();
            async move {
                let ks = get(
                    &mgmt,
                    &ks_ar(),
                    Some("prod-eu-west-1"),
                    "feature-access-control",
                )
                .await?;
                let rev = ks["status"]["lastAppliedRevision"].as_str()?.to_string();
                rev.starts_with("v0.1.2@sha1:").then_some(())
            }
        })
        .await;
        eventually("auditor role in prod", Duration::from_secs(60), || {
            let prod = prod.clone();
            let role = role.clone();
            async move { get(&prod, &role, None, "platform-auditor").await }
        })
        .await;
    });
    up.interrupt();
    let _ = std::fs::remove_dir_all(&data);
}

/// A repository of `n` Kustomizations (4 objects each) under `mgmt/`.
fn many_repo(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir.join("mgmt")).unwrap();
    std::fs::write(
        dir.join("mgmt/namespace.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n",
    )
    .unwrap();
    for i in 0..n {
        let name = format!("app-{i:03}");
        std::fs::write(
            dir.join(format!("mgmt/{name}.yaml")),
            format!("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  retryInterval: 5s\n  path: ./apps/{name}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: main\n"),
        )
        .unwrap();
        let app = dir.join(format!("apps/{name}"));
        std::fs::create_dir_all(&app).unwrap();
        let files = [
            ("configmap.yaml", format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: apps\ndata:\n  index: \"{i}\"\n")),
            ("secret.yaml", format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: apps\nstringData:\n  token: t{i}\n")),
            ("serviceaccount.yaml", format!("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: apps\n")),
            ("service.yaml", format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: apps\nspec:\n  selector:\n    app: {name}\n  ports:\n  - port: 80\n")),
        ];
        for (f, text) in files {
            std::fs::write(app.join(f), text).unwrap();
        }
    }
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "feat: apps"]);
}

async fn count_owned(client: &kube::Client, r: &ApiResource) -> (usize, usize) {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "apps", r);
    let items = api.list(&ListParams::default()).await.unwrap().items;
    let owned = items
        .iter()
        .filter(|o| {
            o.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("kustomize.toolkit.fluxcd.io/name"))
                == Some(&o.metadata.name.clone().unwrap_or_default())
        })
        .count();
    (items.len(), owned)
}

#[test]
fn kill_9_during_200_kustomizations_converges_after_restart() {
    if !tools() {
        return;
    }
    let base = tempdir("kill9");
    let repo = base.join("repo");
    many_repo(&repo, 200);
    let data = base.join("data");
    let args = [
        "up",
        repo.to_str().unwrap(),
        "--path",
        "./mgmt",
        "--data",
        data.to_str().unwrap(),
    ];
    let first = Proc::start(&args);
    // Kill once some, not all, have applied.
    let deadline = Instant::now() + Duration::from_secs(180);
    while first.count("✔ Kustomization flux-system/app-") < 10 {
        assert!(Instant::now() < deadline, "no progress:\n{}", first.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    let applied_at_kill = first.count("✔ Kustomization flux-system/app-");
    first.kill9();
    assert!(
        applied_at_kill < 200,
        "killed too late to test anything ({applied_at_kill})"
    );

    let mut second = Proc::start(&args);
    second.wait_for("201/201 Kustomizations Ready", Duration::from_secs(300));
    let rt = rt();
    rt.block_on(async {
        let client = client_from_file(&data.join("kubeconfig")).await;
        for r in [
            ar("", "v1", "ConfigMap", "configmaps"),
            ar("", "v1", "Secret", "secrets"),
            ar("", "v1", "ServiceAccount", "serviceaccounts"),
            ar("", "v1", "Service", "services"),
        ] {
            // Exactly one of each per Kustomization, each owned by it: nothing duplicated,
            // nothing missing (wrongly pruned), nothing foreign.
            assert_eq!(count_owned(&client, &r).await, (200, 200), "{}", r.kind);
        }
        let ks: Api<DynamicObject> = Api::namespaced_with(client.clone(), "flux-system", &ks_ar());
        for k in ks.list(&ListParams::default()).await.unwrap().items {
            let name = k.metadata.name.clone().unwrap();
            if name == "mgmt" {
                continue;
            }
            let n = k.data["status"]["inventory"]["entries"]
                .as_array()
                .map_or(0, Vec::len);
            assert_eq!(n, 4, "inventory of {name}");
        }

        // Deleting a file prunes exactly its object.
        std::fs::remove_file(repo.join("apps/app-007/service.yaml")).unwrap();
        git(
            &repo,
            &["commit", "-qam", "refactor: drop app-007's service"],
        );
        request_reconcile(&client, "flux-system", "main").await;
        let svc = ar("", "v1", "Service", "services");
        eventually("app-007's Service pruned", Duration::from_secs(60), || {
            let client = client.clone();
            let svc = svc.clone();
            async move {
                get(&client, &svc, Some("apps"), "app-007")
                    .await
                    .is_none()
                    .then_some(())
            }
        })
        .await;
        assert_eq!(count_owned(&client, &svc).await, (199, 199));
        assert_eq!(
            count_owned(&client, &ar("", "v1", "ConfigMap", "configmaps")).await,
            (200, 200)
        );
    });
    second.interrupt();
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn controllers_reconcile_a_separate_apiserver_over_the_network() {
    if !tools() {
        return;
    }
    let base = tempdir("remote");
    let repo = base.join("repo");
    std::fs::create_dir_all(repo.join("mgmt")).unwrap();
    std::fs::create_dir_all(repo.join("edge")).unwrap();
    std::fs::write(
        repo.join("mgmt/cluster.yaml"),
        "apiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\nmetadata:\n  name: edge\n  namespace: flux-system\nspec:\n  infrastructureRef:\n    apiVersion: infrastructure.flotilla.dev/v1alpha1\n    kind: VirtualCluster\n    name: edge\n---\napiVersion: infrastructure.flotilla.dev/v1alpha1\nkind: VirtualCluster\nmetadata:\n  name: edge\n  namespace: flux-system\nspec: {}\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("mgmt/edge-apps.yaml"),
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: edge-apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./edge\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: main\n  kubeConfig:\n    secretRef:\n      name: edge-kubeconfig\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("edge/settings.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: edge-settings\n  namespace: default\ndata:\n  site: edge\n",
    )
    .unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "feat: edge"]);

    let api_data = base.join("apiserver");
    let mut server = Proc::start(&[
        "apiserver",
        "--data",
        api_data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    server.wait_for("serving https://", Duration::from_secs(30));
    let kubeconfig = api_data.join("admin.kubeconfig");
    let mut controllers = Proc::start(&[
        "controllers",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--install-crds",
        "--data",
        base.join("controllers").to_str().unwrap(),
    ]);
    // Every CRD is in (and Established) once the controllers say so; waiting for one of
    // them is not enough, they are applied concurrently.
    controllers.wait_for("CRDs installed or updated", Duration::from_secs(60));
    let rt = rt();
    rt.block_on(async {
        let client = client_from_file(&kubeconfig).await;
        // The CRDs come from the controllers' --install-crds.
        eventually("the Flux CRDs", Duration::from_secs(60), || {
            let client = client.clone();
            async move {
                let crd = ar("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions");
                get(&client, &crd, None, "kustomizations.kustomize.toolkit.fluxcd.io").await
            }
        })
        .await;
        let ns: Api<DynamicObject> = Api::all_with(client.clone(), &ar("", "v1", "Namespace", "namespaces"));
        ns.create(&Default::default(), &serde_json::from_value(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}})).unwrap()).await.unwrap();
        let gits: Api<DynamicObject> = Api::namespaced_with(client.clone(), "flux-system", &git_ar());
        gits.create(&Default::default(), &serde_json::from_value(json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "main", "namespace": "flux-system"},
            "spec": {"interval": "1m", "url": format!("file://{}", repo.display()), "ref": {"branch": "main"}}
        })).unwrap()).await.unwrap();
        let kss: Api<DynamicObject> = Api::namespaced_with(client.clone(), "flux-system", &ks_ar());
        kss.create(&Default::default(), &serde_json::from_value(json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "mgmt", "namespace": "flux-system"},
            "spec": {"interval": "10m", "path": "./mgmt", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "main"}}
        })).unwrap()).await.unwrap();
        eventually("edge-apps Ready", Duration::from_secs(120), || {
            let client = client.clone();
            async move {
                let ks = get(&client, &ks_ar(), Some("flux-system"), "edge-apps").await?;
                let msg = ks["status"]["conditions"].as_array()?.iter().find(|c| c["type"] == "Ready" && c["status"] == "True")?["message"].as_str()?.to_string();
                msg.starts_with("Applied revision: main@sha1:").then_some(())
            }
        })
        .await;
        let edge = workload_client(&client, "flux-system", "edge").await;
        let cm = get(&edge, &ar("", "v1", "ConfigMap", "configmaps"), Some("default"), "edge-settings").await;
        assert_eq!(cm.unwrap()["data"]["site"], "edge");
        assert!(get(&client, &ar("", "v1", "ConfigMap", "configmaps"), Some("default"), "edge-settings").await.is_none(),
            "applied to the workload cluster, not the management cluster");
    });
    controllers.interrupt();
    server.interrupt();
    let _ = std::fs::remove_dir_all(&base);
}
