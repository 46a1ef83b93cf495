//! Shared harness of the Cluster API integration tests: the embedded API server in-process
//! with the CRDs installed by server-side apply (simulated provider kinds included), the
//! controllers in a task, and bounded polling.
#![allow(dead_code)]
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use flotilla_controllers::capi::{self, CapiOptions};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use serde_json::{json, Value};

pub const WAIT: Duration = Duration::from_secs(20);

pub fn ok<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e}"),
    }
}

/// Polls `f` every 100 ms until it gives `Some`, panicking with `what` after [`WAIT`].
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {WAIT:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

pub struct Env {
    pub handle: Option<flotilla_apiserver::Handle>,
    pub admin: kube::Client,
    controllers: Option<tokio::task::JoinHandle<()>>,
    dir: PathBuf,
}

pub fn res(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: format!("{group}/{version}"),
        kind: kind.into(),
        plural: plural.into(),
    }
}

pub fn clusters_ar() -> ApiResource {
    res("cluster.x-k8s.io", "v1beta1", "Cluster", "clusters")
}

impl Env {
    /// A server with the CRDs installed (simulated kinds included), no controllers yet.
    pub async fn server(tag: &str) -> Env {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("FLOTILLA_LOG"))
            .with_test_writer()
            .try_init();
        let dir = std::env::temp_dir().join(format!(
            "flotilla-capi-{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let addr = ok("127.0.0.1:0".parse(), "address");
        let handle = ok(
            flotilla_apiserver::serve(flotilla_apiserver::Config::new(&dir, addr)).await,
            "starting the API server",
        );
        let kubeconfig = ok(
            std::fs::read_to_string(&handle.kubeconfig),
            "admin kubeconfig",
        );
        let admin = ok(
            capi::workload::client_from_kubeconfig(&kubeconfig).await,
            "admin client",
        );
        install_crds(&admin).await;
        Env {
            handle: Some(handle),
            admin,
            controllers: None,
            dir,
        }
    }

    /// A server with the CRDs and the controllers running with the admin client.
    pub async fn start(tag: &str, simulate: bool) -> Env {
        let mut env = Env::server(tag).await;
        env.run_controllers(env.admin.clone(), simulate);
        env
    }

    pub fn run_controllers(&mut self, client: kube::Client, simulate: bool) {
        let opts = CapiOptions {
            simulate_infrastructure: simulate,
            concurrency: 4,
        };
        self.controllers = Some(tokio::spawn(async move {
            if let Err(e) = capi::run(client, opts).await {
                panic!("capi::run: {e}");
            }
        }));
    }

    pub fn stop_controllers(&mut self) {
        if let Some(t) = self.controllers.take() {
            t.abort();
        }
    }

    pub async fn stop(mut self) {
        self.stop_controllers();
        if let Some(h) = self.handle.take() {
            h.shutdown().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    pub fn handle(&self) -> &flotilla_apiserver::Handle {
        match &self.handle {
            Some(h) => h,
            None => panic!("the server is stopped"),
        }
    }

    pub fn dyn_api(&self, ar: &ApiResource, ns: &str) -> Api<DynamicObject> {
        Api::namespaced_with(self.admin.clone(), ns, ar)
    }

    pub async fn apply(&self, ar: &ApiResource, ns: &str, body: Value) {
        let name = body["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        ok(
            self.dyn_api(ar, ns)
                .patch(
                    &name,
                    &PatchParams::apply("test").force(),
                    &Patch::Apply(&body),
                )
                .await,
            &format!("applying {} {ns}/{name}", ar.kind),
        );
    }

    pub async fn namespace(&self, ns: &str) {
        let api: Api<Namespace> = Api::all(self.admin.clone());
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        ok(
            api.patch(ns, &PatchParams::apply("test"), &Patch::Apply(&body))
                .await,
            "namespace",
        );
    }

    /// Applies a Cluster whose infrastructureRef is `infra` (`apiVersion`, `kind`).
    pub async fn cluster(&self, ns: &str, name: &str, infra: (&str, &str), labels: Value) {
        self.apply(
            &clusters_ar(),
            ns,
            json!({
                "apiVersion": "cluster.x-k8s.io/v1beta1",
                "kind": "Cluster",
                "metadata": {"name": name, "namespace": ns, "labels": labels},
                "spec": {"infrastructureRef": {"apiVersion": infra.0, "kind": infra.1, "name": name}},
            }),
        )
        .await;
    }

    pub async fn get_cluster(&self, ns: &str, name: &str) -> Option<DynamicObject> {
        self.dyn_api(&clusters_ar(), ns)
            .get_opt(name)
            .await
            .ok()
            .flatten()
    }

    /// Waits for phase Provisioned; returns the Cluster.
    pub async fn provisioned(&self, ns: &str, name: &str) -> DynamicObject {
        eventually(&format!("Cluster {ns}/{name} Provisioned"), || async {
            self.get_cluster(ns, name)
                .await
                .filter(|c| c.data.pointer("/status/phase") == Some(&json!("Provisioned")))
        })
        .await
    }

    /// A client of the Cluster's workload cluster, from its kubeconfig Secret.
    pub async fn workload(&self, ns: &str, name: &str) -> kube::Client {
        let secret = ok(
            Api::<Secret>::namespaced(self.admin.clone(), ns)
                .get(&format!("{name}-kubeconfig"))
                .await,
            "kubeconfig Secret",
        );
        let bytes = secret
            .data
            .and_then(|d| d.get("value").map(|v| v.0.clone()))
            .unwrap_or_default();
        ok(
            capi::workload::client_from_kubeconfig(&String::from_utf8_lossy(&bytes)).await,
            "workload client",
        )
    }

    /// `GET /admin/clusters/<name>`: `Ok(kubeconfig)` or the HTTP status code.
    pub async fn admin_get(&self, vc: &str) -> Result<String, u16> {
        let req = ok(
            http::Request::get(format!("/admin/clusters/{vc}")).body(Vec::new()),
            "request",
        );
        match self.admin.request_text(req).await {
            Ok(t) => Ok(t),
            Err(kube::Error::Api(s)) => Err(s.code),
            Err(e) => panic!("admin GET {vc}: {e}"),
        }
    }
}

pub async fn install_crds(client: &kube::Client) {
    let set = ok(
        flotilla_model::crds::install_set(&flotilla_model::crds::InstallOptions {
            simulate_infrastructure: true,
            only: None,
        }),
        "CRD set",
    );
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in set {
        let name = crd["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        ok(
            api.patch(
                &name,
                &PatchParams::apply("test").force(),
                &Patch::Apply(&crd),
            )
            .await,
            &format!("installing CRD {name}"),
        );
    }
}

pub fn condition<'a>(obj: &'a DynamicObject, type_: &str) -> Option<&'a Value> {
    obj.data
        .pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

pub const VC: (&str, &str) = ("infrastructure.flotilla.dev/v1alpha1", "VirtualCluster");
pub const AWS: (&str, &str) = ("infrastructure.cluster.x-k8s.io/v1beta2", "AWSCluster");
