//! End-to-end tests of the flux-like commands (`get`, `reconcile`, `suspend`, `resume`,
//! `tree`, `events`): the embedded API server runs in-process with the Flux and Cluster API
//! CRDs installed, objects and their status are written as a controller would write them,
//! and the real `flotilla` binary is run against it with `--kubeconfig`. Where a command waits
//! for a controller, a small task in the test plays kustomize-/source-controller: it answers
//! `reconcile.fluxcd.io/requestedAt` with `status.lastHandledReconcileAt` and a Ready verdict.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{json, Value};

const REV: &str = "main@sha1:0123456789abcdef0123456789abcdef01234567";
const NEW_REV: &str = "main@sha1:89abcdef0123456789abcdef0123456789abcdef";

struct Env {
    rt: tokio::runtime::Runtime,
    handle: Option<flotilla_apiserver::Handle>,
    client: kube::Client,
    kubeconfig: PathBuf,
    dir: PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt.block_on(h.shutdown());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

fn ks_resource() -> ApiResource {
    resource(
        "kustomize.toolkit.fluxcd.io",
        "v1",
        "Kustomization",
        "kustomizations",
    )
}

fn git_resource() -> ApiResource {
    resource(
        "source.toolkit.fluxcd.io",
        "v1",
        "GitRepository",
        "gitrepositories",
    )
}

fn cluster_resource() -> ApiResource {
    resource("cluster.x-k8s.io", "v1beta1", "Cluster", "clusters")
}

fn ready(status: &str, reason: &str, message: &str) -> Value {
    json!([{
        "type": "Ready", "status": status, "reason": reason, "message": message,
        "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1,
    }])
}

impl Env {
    /// A server with the CRDs, namespaces `flux-system`, `tenants`, `empty`, and the objects
    /// of a small fleet: GitRepository flux-system, Kustomizations flux-system (Ready, with an
    /// inventory naming `apps`), apps (not Ready), tenants/team-a (never reconciled).
    fn start(tag: &str) -> Env {
        let dir = std::env::temp_dir().join(format!(
            "flotilla-cli-fleet-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (handle, client) = rt.block_on(async {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let h = flotilla_apiserver::serve(flotilla_apiserver::Config::new(
                &dir,
                "127.0.0.1:0".parse().unwrap(),
            ))
            .await
            .unwrap();
            let kc = Kubeconfig::read_from(&h.kubeconfig).unwrap();
            let cfg = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
                .await
                .unwrap();
            (h, kube::Client::try_from(cfg).unwrap())
        });
        let kubeconfig = handle.kubeconfig.clone();
        let env = Env {
            rt,
            handle: Some(handle),
            client,
            kubeconfig,
            dir,
        };
        env.rt.block_on(env.seed());
        env
    }

    async fn apply(&self, ar: &ApiResource, namespace: Option<&str>, obj: Value) {
        let api: Api<DynamicObject> = match namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, ar),
            None => Api::all_with(self.client.clone(), ar),
        };
        let name = obj["metadata"]["name"].as_str().unwrap().to_string();
        api.patch(
            &name,
            &PatchParams::apply("test").force(),
            &Patch::Apply(&obj),
        )
        .await
        .unwrap_or_else(|e| panic!("applying {name}: {e}"));
    }

    /// Writes `status` through the status subresource, as a controller does.
    async fn set_status(&self, ar: &ApiResource, ns: &str, name: &str, status: Value) {
        let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), ns, ar);
        api.patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(&json!({ "status": status })),
        )
        .await
        .unwrap_or_else(|e| panic!("status of {name}: {e}"));
    }

    async fn seed(&self) {
        let crd = resource(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
        );
        for c in flotilla_model::crds::install_set(&Default::default()).unwrap() {
            self.apply(&crd, None, c).await;
        }
        let ns = resource("", "v1", "Namespace", "namespaces");
        for n in ["flux-system", "tenants", "empty"] {
            let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}});
            self.apply(&ns, None, obj).await;
        }
        // The CRDs are served once the API answers a list.
        let ks: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), "flux-system", &ks_resource());
        for _ in 0..100 {
            if ks.list(&Default::default()).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        self.apply(&git_resource(), Some("flux-system"), json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "flux-system", "namespace": "flux-system"},
            "spec": {"interval": "1m", "url": "https://example.invalid/fleet.git", "ref": {"branch": "main"}},
        })).await;
        self.set_status(&git_resource(), "flux-system", "flux-system", json!({
            "observedGeneration": 1,
            "artifact": {"path": "gitrepository/flux-system/flux-system/x.tar.gz",
                "url": "http://source-controller/x.tar.gz", "revision": REV,
                "digest": "sha256:00", "lastUpdateTime": "2026-01-01T00:00:00Z"},
            "conditions": ready("True", "Succeeded", &format!("stored artifact for revision '{REV}'")),
        })).await;

        for (ns, name, path) in [
            ("flux-system", "flux-system", "./clusters/mgmt"),
            ("flux-system", "apps", "./apps"),
            ("tenants", "team-a", "./tenants/team-a"),
        ] {
            self.apply(&ks_resource(), Some(ns), json!({
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": name, "namespace": ns},
                "spec": {"interval": "10m", "path": path, "prune": true,
                    "sourceRef": {"kind": "GitRepository", "name": "flux-system", "namespace": "flux-system"}},
            })).await;
        }
        self.set_status(&ks_resource(), "flux-system", "flux-system", json!({
            "observedGeneration": 1,
            "lastAppliedRevision": REV, "lastAttemptedRevision": REV,
            "conditions": ready("True", "ReconciliationSucceeded", &format!("Applied revision: {REV}")),
            "inventory": {"entries": [
                {"id": "_foo__Namespace", "v": "v1"},
                {"id": "flux-system_apps_kustomize.toolkit.fluxcd.io_Kustomization", "v": "v1"},
                {"id": "flux-system_flux-system_source.toolkit.fluxcd.io_GitRepository", "v": "v1"},
            ]},
        })).await;
        self.set_status(&ks_resource(), "flux-system", "apps", json!({
            "observedGeneration": 1,
            "lastAttemptedRevision": REV,
            "conditions": ready("False", "BuildFailed", "kustomize build failed: missing resource ./podinfo"),
            "inventory": {"entries": [
                {"id": "default_podinfo__Service", "v": "v1"},
                {"id": "default_podinfo_apps_Deployment", "v": "v1"},
            ]},
        })).await;
    }

    fn flotilla(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_flotilla"))
            .args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .env_remove("KUBECONFIG")
            .env("HOME", &self.dir)
            .output()
            .expect("run flotilla")
    }

    fn get(&self, ar: &ApiResource, ns: &str, name: &str) -> Value {
        let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), ns, ar);
        let obj = self.rt.block_on(api.get(name)).unwrap();
        serde_json::to_value(obj).unwrap()
    }

    /// Plays the controllers in `flux-system`: whenever an object's `requestedAt` differs
    /// from its `lastHandledReconcileAt`, it writes the latter with the Ready verdict
    /// `verdicts` holds for it (`True` by default), at the new revision.
    fn fake_controller(&self, verdicts: Arc<Mutex<BTreeMap<String, (String, String)>>>) -> Fake {
        let client = self.client.clone();
        let task = self.rt.spawn(async move {
            loop {
                for (ar, revision_field) in [
                    (git_resource(), "artifact"),
                    (ks_resource(), "lastAppliedRevision"),
                ] {
                    let api: Api<DynamicObject> =
                        Api::namespaced_with(client.clone(), "flux-system", &ar);
                    let Ok(list) = api.list(&Default::default()).await else {
                        continue;
                    };
                    for obj in list.items {
                        let name = obj.metadata.name.clone().unwrap_or_default();
                        let requested = obj
                            .metadata
                            .annotations
                            .as_ref()
                            .and_then(|a| a.get("reconcile.fluxcd.io/requestedAt"))
                            .cloned();
                        let handled = obj.data["status"]["lastHandledReconcileAt"]
                            .as_str()
                            .map(str::to_string);
                        let Some(requested) = requested else { continue };
                        if handled.as_deref() == Some(requested.as_str()) {
                            continue;
                        }
                        let (status, message) = verdicts
                            .lock()
                            .unwrap()
                            .get(&format!("{}/{name}", ar.kind))
                            .cloned()
                            .unwrap_or_else(|| {
                                ("True".into(), format!("Applied revision: {NEW_REV}"))
                            });
                        let mut s = json!({
                            "lastHandledReconcileAt": requested,
                            "observedGeneration": obj.metadata.generation,
                            "conditions": ready(&status, "Test", &message),
                        });
                        if revision_field == "artifact" {
                            s["artifact"] = json!({"path": "p", "url": "u", "revision": NEW_REV,
                                "digest": "sha256:01", "lastUpdateTime": "2026-01-02T00:00:00Z"});
                        } else if status == "True" {
                            s["lastAppliedRevision"] = json!(NEW_REV);
                        }
                        let _ = api
                            .patch_status(
                                &name,
                                &PatchParams::default(),
                                &Patch::Merge(&json!({"status": s})),
                            )
                            .await;
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Fake(task)
    }
}

/// The fake controller; stops when dropped.
struct Fake(tokio::task::JoinHandle<()>);

impl Drop for Fake {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
}

/// The table's cells, trimmed, line by line.
fn cells(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .map(|l| l.split('\t').map(|c| c.trim().to_string()).collect())
        .collect()
}

#[test]
fn get_tables_all_namespaces_and_empty() {
    let env = Env::start("get");

    let o = env.flotilla(&["get", "kustomizations"]);
    assert_ok(&o);
    let t = cells(&stdout(&o));
    assert_eq!(t[0], ["NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE"]);
    assert_eq!(
        t[1],
        [
            "apps",
            "",
            "False",
            "False",
            "kustomize build failed: missing resource ./podinfo"
        ]
    );
    assert_eq!(
        t[2],
        [
            "flux-system",
            REV,
            "False",
            "True",
            &format!("Applied revision: {REV}")
        ]
    );
    assert_eq!(t.len(), 3, "{t:?}");
    // Columns are padded to one width, as flux's tablewriter does.
    let out = stdout(&o);
    assert!(out.starts_with("NAME       \tREVISION"), "{out:?}");

    let o = env.flotilla(&["get", "ks", "-A", "--no-header"]);
    assert_ok(&o);
    let t = cells(&stdout(&o));
    assert_eq!(t.len(), 3, "{t:?}");
    assert_eq!(
        t[2],
        [
            "tenants",
            "team-a",
            "",
            "False",
            "False",
            "waiting to be reconciled"
        ]
    );
    assert_eq!(t[0][..2], ["flux-system", "apps"]);

    let o = env.flotilla(&["get", "ks", "-A"]);
    assert_eq!(cells(&stdout(&o))[0][0], "NAMESPACE");

    let o = env.flotilla(&["get", "sources", "git"]);
    assert_ok(&o);
    let t = cells(&stdout(&o));
    assert_eq!(t[0], ["NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE"]);
    assert_eq!(
        t[1],
        [
            "flux-system",
            REV,
            "False",
            "True",
            &format!("stored artifact for revision '{REV}'")
        ]
    );

    let o = env.flotilla(&["get", "ks", "-n", "empty"]);
    assert_ok(&o);
    assert_eq!(stdout(&o), "");
    assert!(
        stderr(&o).contains("no Kustomization objects found in empty namespace"),
        "{}",
        stderr(&o)
    );

    // $KUBECONFIG is honoured without the flag.
    let o = Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .args(["get", "sources", "-n", "tenants"])
        .env("KUBECONFIG", &env.kubeconfig)
        .env("HOME", &env.dir)
        .output()
        .unwrap();
    assert_ok(&o);
    assert!(stderr(&o).contains("no GitRepository objects found in tenants namespace"));

    // A missing object is one clear line, exit 1.
    let o = env.flotilla(&["reconcile", "ks", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("kustomization 'nope' not found in namespace 'flux-system'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn get_clusters_shows_phase_readiness_and_kubeconfig_secret() {
    let env = Env::start("clusters");
    env.rt.block_on(async {
        for name in ["alpha", "beta"] {
            env.apply(&cluster_resource(), Some("flux-system"), json!({
                "apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster",
                "metadata": {"name": name, "namespace": "flux-system"},
                "spec": {},
            })).await;
        }
        env.set_status(&cluster_resource(), "flux-system", "alpha", json!({
            "phase": "Provisioned", "infrastructureReady": true, "controlPlaneReady": true,
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}],
        })).await;
        let secret = resource("", "v1", "Secret", "secrets");
        env.apply(&secret, Some("flux-system"), json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "alpha-kubeconfig", "namespace": "flux-system"},
            "data": {"value": "e30="},
        })).await;
    });
    let o = env.flotilla(&["get", "clusters"]);
    assert_ok(&o);
    let t = cells(&stdout(&o));
    assert_eq!(
        t[0],
        ["NAME", "PHASE", "AGE", "READY", "KUBECONFIG", "MESSAGE"]
    );
    assert_eq!(t[1][..2], ["alpha", "Provisioned"]);
    assert!(t[1][2].ends_with('s'), "age {:?}", t[1][2]);
    assert_eq!(t[1][3..5], ["True", "alpha-kubeconfig"]);
    assert_eq!(t[2][..2], ["beta", "Pending"]);
    assert_eq!(t[2][3..5], ["False", "-"]);
}

#[test]
fn suspend_and_resume_write_spec_suspend() {
    let env = Env::start("suspend");
    let o = env.flotilla(&["suspend", "ks", "apps"]);
    assert_ok(&o);
    assert_eq!(
        stdout(&o),
        "► suspending kustomization apps in flux-system namespace\n✔ kustomization suspended\n"
    );
    assert_eq!(
        env.get(&ks_resource(), "flux-system", "apps")["spec"]["suspend"],
        true
    );
    let t = cells(&stdout(&env.flotilla(&["get", "ks"])));
    assert_eq!(t[1][..3], ["apps", "", "True"]);

    // Reconciling a suspended object is refused.
    let o = env.flotilla(&["reconcile", "ks", "apps"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is suspended"), "{}", stderr(&o));

    // Resume without waiting: suspend is removed, a reconciliation is requested.
    let o = env.flotilla(&["resume", "ks", "apps", "--wait=false"]);
    assert_ok(&o);
    let ks = env.get(&ks_resource(), "flux-system", "apps");
    assert!(ks["spec"].get("suspend").is_none(), "{}", ks["spec"]);
    assert!(ks["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"].is_string());

    // Sources too; resume waits for the (fake) controller and reports the revision.
    let o = env.flotilla(&["suspend", "source", "git", "flux-system"]);
    assert_ok(&o);
    assert!(stdout(&o).contains("✔ source suspended"), "{}", stdout(&o));
    assert_eq!(
        env.get(&git_resource(), "flux-system", "flux-system")["spec"]["suspend"],
        true
    );
    let _fake = env.fake_controller(Default::default());
    let o = env.flotilla(&["resume", "source", "git", "flux-system", "--timeout", "30s"]);
    assert_ok(&o);
    assert_eq!(
        stdout(&o),
        format!(
            "► resuming source git flux-system in flux-system namespace\n✔ source resumed\n\
             ◎ waiting for GitRepository reconciliation\n✔ GitRepository reconciliation completed\n\
             ✔ fetched revision {NEW_REV}\n"
        )
    );
    assert!(
        env.get(&git_resource(), "flux-system", "flux-system")["spec"]
            .get("suspend")
            .is_none()
    );
}

#[test]
fn tree_prints_the_inventory_recursively() {
    let env = Env::start("tree");
    let o = env.flotilla(&["tree", "ks", "flux-system"]);
    assert_ok(&o);
    assert_eq!(
        stdout(&o),
        "Kustomization/flux-system/flux-system\n\
         ├── Namespace/foo\n\
         ├── Kustomization/flux-system/apps\n\
         │   ├── Service/default/podinfo\n\
         │   └── Deployment/default/podinfo\n\
         └── GitRepository/flux-system/flux-system\n"
    );
    let o = env.flotilla(&["tree", "ks", "flux-system", "--compact"]);
    assert_ok(&o);
    assert_eq!(
        stdout(&o),
        "Kustomization/flux-system/flux-system\n\
         ├── Kustomization/flux-system/apps\n\
         └── GitRepository/flux-system/flux-system\n"
    );
    let o = env.flotilla(&["tree", "ks", "flux-system", "-o", "json"]);
    assert_ok(&o);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v["resources"][1]["resources"][1]["resource"]["GroupKind"]["Group"],
        "apps"
    );
    // A Kustomization without inventory is just its root.
    let o = env.flotilla(&["tree", "ks", "team-a", "-n", "tenants"]);
    assert_ok(&o);
    assert_eq!(stdout(&o), "Kustomization/tenants/team-a\n");
}

#[test]
fn events_lists_and_filters() {
    let env = Env::start("events");
    let ev = resource("", "v1", "Event", "events");
    env.rt.block_on(async {
        for (name, kind, obj, reason, msg, ts) in [
            (
                "e1",
                "Kustomization",
                "flux-system",
                "ReconciliationSucceeded",
                "Reconciliation finished",
                "2026-01-01T00:00:02Z",
            ),
            (
                "e2",
                "GitRepository",
                "flux-system",
                "NewArtifact",
                "stored artifact for commit 'x'",
                "2026-01-01T00:00:01Z",
            ),
            (
                "e3",
                "Kustomization",
                "apps",
                "BuildFailed",
                "kustomize build failed",
                "2026-01-01T00:00:03Z",
            ),
        ] {
            let type_ = if reason == "BuildFailed" {
                "Warning"
            } else {
                "Normal"
            };
            env.apply(
                &ev,
                Some("flux-system"),
                json!({
                    "apiVersion": "v1", "kind": "Event",
                    "metadata": {"name": name, "namespace": "flux-system"},
                    "involvedObject": {"kind": kind, "name": obj, "namespace": "flux-system"},
                    "reason": reason, "message": msg, "type": type_,
                    "firstTimestamp": ts, "lastTimestamp": ts, "count": 1,
                    "source": {"component": "test"},
                }),
            )
            .await;
        }
    });
    let o = env.flotilla(&["events"]);
    assert_ok(&o);
    let t = cells(&stdout(&o));
    assert_eq!(t[0], ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
    // Oldest first.
    let objects: Vec<&str> = t[1..].iter().map(|r| r[3].as_str()).collect();
    assert_eq!(
        objects,
        [
            "GitRepository/flux-system",
            "Kustomization/flux-system",
            "Kustomization/apps"
        ]
    );
    assert_eq!(t[3][1..3], ["Warning", "BuildFailed"]);

    // --for a Kustomization: its events and its source's.
    let o = env.flotilla(&["events", "--for", "Kustomization/flux-system"]);
    assert_ok(&o);
    let t = cells(&stdout(&o));
    let objects: Vec<&str> = t[1..].iter().map(|r| r[3].as_str()).collect();
    assert_eq!(
        objects,
        ["GitRepository/flux-system", "Kustomization/flux-system"]
    );

    let o = env.flotilla(&["events", "-A", "--for", "Kustomization/apps"]);
    assert_ok(&o);
    let t = cells(&stdout(&o));
    assert_eq!(t[0][0], "NAMESPACE");
    let objects: Vec<&str> = t[1..].iter().map(|r| r[4].as_str()).collect();
    assert_eq!(objects, ["GitRepository/flux-system", "Kustomization/apps"]);
    // Any other kind: only that object's events.
    let o = env.flotilla(&["events", "--for", "GitRepository/flux-system"]);
    assert_ok(&o);
    let t = cells(&stdout(&o));
    assert_eq!(t.len(), 2, "{t:?}");
    assert_eq!(t[1][3], "GitRepository/flux-system");
    let o = env.flotilla(&["events", "--for", "flux-system"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("expected Kind/name"), "{}", stderr(&o));

    let o = env.flotilla(&["events", "-n", "empty"]);
    assert_ok(&o);
    assert!(stderr(&o).contains("no events found in empty namespace"));
}

#[test]
fn reconcile_waits_for_the_controller_and_reports_failure() {
    let env = Env::start("reconcile");
    let verdicts: Arc<Mutex<BTreeMap<String, (String, String)>>> = Default::default();
    verdicts.lock().unwrap().insert(
        "Kustomization/apps".into(),
        ("False".into(), "kustomize build failed: boom".into()),
    );
    let _fake = env.fake_controller(verdicts.clone());

    let o = env.flotilla(&[
        "reconcile",
        "ks",
        "flux-system",
        "--with-source",
        "--timeout",
        "30s",
    ]);
    assert_ok(&o);
    assert_eq!(
        stdout(&o),
        format!(
            "► annotating GitRepository flux-system in flux-system namespace\n\
             ✔ GitRepository annotated\n\
             ◎ waiting for GitRepository reconciliation\n\
             ✔ fetched revision {NEW_REV}\n\
             ► annotating Kustomization flux-system in flux-system namespace\n\
             ✔ Kustomization annotated\n\
             ◎ waiting for Kustomization reconciliation\n\
             ✔ applied revision {NEW_REV}\n"
        )
    );
    let ks = env.get(&ks_resource(), "flux-system", "flux-system");
    let requested = ks["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"].clone();
    assert_eq!(ks["status"]["lastHandledReconcileAt"], requested);
    // RFC 3339 with a fraction, UTC.
    let requested = requested.as_str().unwrap();
    assert!(
        requested.ends_with('Z') && requested.contains('.'),
        "{requested}"
    );

    let o = env.flotilla(&["reconcile", "kustomization", "apps", "--timeout", "30s"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("Kustomization reconciliation failed: kustomize build failed: boom"),
        "{}",
        stderr(&o)
    );

    let o = env.flotilla(&["reconcile", "source", "git", "flux-system"]);
    assert_ok(&o);
    assert!(stdout(&o).ends_with(&format!("✔ fetched revision {NEW_REV}\n")));

    // No controller answers in `tenants`: the wait ends at the timeout, exit 1.
    let o = env.flotilla(&[
        "reconcile",
        "ks",
        "team-a",
        "-n",
        "tenants",
        "--timeout",
        "1s",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("timed out after 1s"), "{}", stderr(&o));
}
