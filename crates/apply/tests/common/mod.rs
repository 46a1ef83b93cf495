//! Test harness: the embedded API server in-process on a free port, an admin kube client,
//! an [`Applier`], and raw reads for checking what the server holds.
#![allow(dead_code)]

use std::path::PathBuf;

use flotilla_apply::Applier;
use kube::core::Request;
use serde_json::{json, Value};

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

pub struct Cluster {
    pub handle: flotilla_apiserver::Handle,
    pub client: kube::Client,
    pub applier: Applier,
    pub dir: PathBuf,
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub async fn start(tag: &str) -> Result<Cluster, Box<dyn std::error::Error + Send + Sync>> {
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "flotilla-apply-{tag}-{}-{nanos}-{n}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir)?;
    let handle = flotilla_apiserver::serve(flotilla_apiserver::Config::new(
        &dir,
        "127.0.0.1:0".parse()?,
    ))
    .await?;
    let kc = kube::config::Kubeconfig::read_from(&handle.kubeconfig)?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
    let client = kube::Client::try_from(cfg)?;
    let applier = Applier::new(client.clone());
    Ok(Cluster {
        handle,
        client,
        applier,
        dir,
    })
}

impl Cluster {
    pub async fn stop(self) {
        self.handle.shutdown().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// GET a path; `None` on 404.
    pub async fn get(&self, path: &str) -> Result<Option<Value>, kube::Error> {
        let (collection, name) = split(path);
        let req = Request::new(collection)
            .get(name, &kube::api::GetParams::default())
            .map_err(kube::Error::BuildRequest)?;
        match self.client.request::<Value>(req).await {
            Ok(v) => Ok(Some(v)),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A merge patch on a path (`/status` for the status subresource).
    pub async fn merge_patch(&self, path: &str, patch: &Value) -> Result<Value, kube::Error> {
        let (collection, name) = split(path);
        let req = Request::new(collection)
            .patch(
                name,
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(patch),
            )
            .map_err(kube::Error::BuildRequest)?;
        self.client.request::<Value>(req).await
    }

    pub async fn merge_patch_status(
        &self,
        path: &str,
        patch: &Value,
    ) -> Result<Value, kube::Error> {
        let (collection, name) = split(path);
        let req = Request::new(collection)
            .patch_subresource(
                "status",
                name,
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(patch),
            )
            .map_err(kube::Error::BuildRequest)?;
        self.client.request::<Value>(req).await
    }

    /// `metadata.resourceVersion` of the object at a path.
    pub async fn rv(&self, path: &str) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        let Some(o) = self.get(path).await? else {
            return Err(format!("{path} not found").into());
        };
        Ok(o.pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string())
    }
}

fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

pub fn configmap(ns: &str, name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": ns}, "data": data})
}

pub fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// A namespaced CRD `widgets.example.com` (kind Widget, v1), schema-less.
pub fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                "subresources": {"status": {}}
            }]
        }
    })
}

pub fn widget(ns: &str, name: &str, size: i64) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget",
           "metadata": {"name": name, "namespace": ns}, "spec": {"size": size}})
}
