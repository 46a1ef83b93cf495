//! kube-rs against the server: discovery (legacy and aggregated), server-side apply with
//! `Patch::Apply`, merge and JSON patches, and a `watcher` that survives a server restart and
//! an expired resourceVersion (410 inside the stream, then a relist).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{Discovery, Scope};
use kube::runtime::{watcher, WatchStreamExt};
use kube::Client;
use serde_json::json;

async fn client_for(path: &std::path::Path) -> Client {
    let kc = Kubeconfig::read_from(path).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(cfg).unwrap()
}

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "1"}})).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_and_patches() {
    let dir = common::tempdir("kube-disc");
    let h = flotilla_apiserver::serve(flotilla_apiserver::Config::new(
        &dir,
        "127.0.0.1:0".parse().unwrap(),
    ))
    .await
    .unwrap();
    let client = client_for(&h.kubeconfig).await;
    for aggregated in [false, true] {
        let d = Discovery::new(client.clone());
        let d = if aggregated {
            d.run_aggregated().await.unwrap()
        } else {
            d.run().await.unwrap()
        };
        assert!(d.has_group("apps"), "aggregated={aggregated}");
        let gvk = kube::api::GroupVersionKind::gvk("apps", "v1", "Deployment");
        let (ar, caps) = d.resolve_gvk(&gvk).unwrap();
        assert_eq!(ar.plural, "deployments");
        assert_eq!(caps.scope, Scope::Namespaced);
        let ns = d
            .resolve_gvk(&kube::api::GroupVersionKind::gvk("", "v1", "Namespace"))
            .unwrap();
        assert_eq!(ns.1.scope, Scope::Cluster);
    }

    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "1", "b": "2"}});
    let out = api
        .patch(
            "ssa",
            &PatchParams::apply("kube-test"),
            &Patch::Apply(&applied),
        )
        .await
        .unwrap();
    assert_eq!(out.data.as_ref().unwrap()["b"], "2");
    let managers: Vec<String> = out
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(managers.contains(&"kube-test".to_string()), "{managers:?}");
    // The manager stops applying `b`: it is removed (when the machinery's apply is native).
    let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "3"}});
    let out = api
        .patch(
            "ssa",
            &PatchParams::apply("kube-test"),
            &Patch::Apply(&applied),
        )
        .await
        .unwrap();
    assert_eq!(out.data.as_ref().unwrap()["a"], "3");
    assert!(
        !out.data.as_ref().unwrap().contains_key("b"),
        "a field the manager stopped applying was kept"
    );
    let out = api
        .patch(
            "ssa",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"m": "x"}})),
        )
        .await
        .unwrap();
    assert_eq!(out.data.as_ref().unwrap()["m"], "x");
    let ok: json_patch::Patch = serde_json::from_value(json!([{"op": "test", "path": "/data/m", "value": "x"}, {"op": "add", "path": "/data/j", "value": "y"}])).unwrap();
    let out = api
        .patch("ssa", &PatchParams::default(), &Patch::<()>::Json(ok))
        .await
        .unwrap();
    assert_eq!(out.data.as_ref().unwrap()["j"], "y");
    let bad: json_patch::Patch =
        serde_json::from_value(json!([{"op": "test", "path": "/data/m", "value": "nope"}]))
            .unwrap();
    assert!(api
        .patch("ssa", &PatchParams::default(), &Patch::<()>::Json(bad))
        .await
        .is_err());
    // Errors come back as Status.
    let err = api
        .create(&PostParams::default(), &cm("ssa"))
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(s) => assert_eq!((s.code, s.reason.as_str()), (409, "AlreadyExists")),
        other => panic!("unexpected {other:?}"),
    }
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_survives_restart_and_expired_resource_version() {
    let dir = common::tempdir("kube-watch");
    let h = flotilla_apiserver::serve(flotilla_apiserver::Config::new(
        &dir,
        "127.0.0.1:0".parse().unwrap(),
    ))
    .await
    .unwrap();
    let addr = h.addr;
    let client = client_for(&h.kubeconfig).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let seen: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let inits = Arc::new(Mutex::new(0usize));
    let (seen2, inits2) = (seen.clone(), inits.clone());
    let task = tokio::spawn(async move {
        let mut stream = watcher(api.clone(), watcher::Config::default())
            .default_backoff()
            .boxed();
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(watcher::Event::Init) => *inits2.lock().unwrap() += 1,
                Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => {
                    seen2
                        .lock()
                        .unwrap()
                        .insert(o.metadata.name.unwrap_or_default());
                }
                _ => {}
            }
        }
    });
    let api: Api<ConfigMap> = Api::namespaced(client_for(&h.kubeconfig).await, "default");
    api.create(&PostParams::default(), &cm("before"))
        .await
        .unwrap();
    let wait_for = |name: &'static str| {
        let seen = seen.clone();
        async move {
            for _ in 0..200 {
                if seen.lock().unwrap().contains(name) {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            false
        }
    };
    assert!(
        wait_for("before").await,
        "the watcher did not see the first object"
    );
    h.shutdown().await;
    // While the server is down, the store moves on (other writes), so the watcher's
    // resourceVersion is older than the restarted server's history.
    {
        let store = flotilla_apiserver::store::Store::open(&dir.join("store.redb"), 10).unwrap();
        for i in 0..5 {
            let key = flotilla_apiserver::store::Key::new(
                "default",
                "",
                "configmaps",
                "kube-system",
                &format!("offline-{i}"),
            );
            let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("offline-{i}"), "namespace": "kube-system"}});
            store
                .write(flotilla_apiserver::store::Op::Create { key, object: obj })
                .await
                .unwrap();
        }
    }
    let h = flotilla_apiserver::serve(flotilla_apiserver::Config::new(&dir, addr))
        .await
        .unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client_for(&h.kubeconfig).await, "default");
    api.create(&PostParams::default(), &cm("after"))
        .await
        .unwrap();
    assert!(
        wait_for("after").await,
        "the watcher did not recover after the restart"
    );
    assert!(
        *inits.lock().unwrap() >= 2,
        "the watcher did not relist after the expired resourceVersion"
    );
    task.abort();
    h.shutdown().await;
}

#[derive(Debug, thiserror::Error)]
enum ReconcileError {
    #[error("{0}")]
    Kube(#[from] kube::Error),
}

struct Ctx {
    client: Client,
    cleaned: Mutex<Vec<String>>,
}

async fn reconcile(
    obj: Arc<ConfigMap>,
    ctx: Arc<Ctx>,
) -> Result<kube::runtime::controller::Action, kube::runtime::finalizer::Error<ReconcileError>> {
    use kube::runtime::controller::Action;
    use kube::runtime::finalizer::{finalizer, Event};
    let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), "default");
    let api2 = api.clone();
    finalizer(&api, "example.com/cleanup", obj, |ev| {
        let (api, ctx) = (api2.clone(), ctx.clone());
        async move {
            match ev {
                Event::Apply(o) => {
                    let name = o.metadata.name.clone().unwrap_or_default();
                    let labelled = o
                        .metadata
                        .labels
                        .as_ref()
                        .is_some_and(|l| l.contains_key("reconciled"));
                    if !labelled {
                        let patch = json!({"metadata": {"labels": {"reconciled": "yes"}}});
                        api.patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                            .await?;
                    }
                    Ok(Action::await_change())
                }
                Event::Cleanup(o) => {
                    ctx.cleaned
                        .lock()
                        .unwrap()
                        .push(o.metadata.name.clone().unwrap_or_default());
                    Ok(Action::await_change())
                }
            }
        }
    })
    .await
}

fn error_policy(
    _obj: Arc<ConfigMap>,
    _err: &kube::runtime::finalizer::Error<ReconcileError>,
    _ctx: Arc<Ctx>,
) -> kube::runtime::controller::Action {
    kube::runtime::controller::Action::requeue(Duration::from_millis(200))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_with_the_finalizer_helper() {
    let dir = common::tempdir("kube-ctl");
    let h = flotilla_apiserver::serve(flotilla_apiserver::Config::new(
        &dir,
        "127.0.0.1:0".parse().unwrap(),
    ))
    .await
    .unwrap();
    let client = client_for(&h.kubeconfig).await;
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        cleaned: Mutex::new(Vec::new()),
    });
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let controller = tokio::spawn(
        kube::runtime::Controller::new(api.clone(), watcher::Config::default())
            .run(reconcile, error_policy, ctx.clone())
            .for_each(|_| async {}),
    );
    api.create(&PostParams::default(), &cm("ctl"))
        .await
        .unwrap();
    let mut ready = false;
    for _ in 0..200 {
        let o = api.get("ctl").await.unwrap();
        let fin = o
            .metadata
            .finalizers
            .unwrap_or_default()
            .contains(&"example.com/cleanup".to_string());
        let lab = o
            .metadata
            .labels
            .unwrap_or_default()
            .get("reconciled")
            .map(String::as_str)
            == Some("yes");
        if fin && lab {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the controller did not add its finalizer and label");
    api.delete("ctl", &Default::default()).await.unwrap();
    let mut gone = false;
    for _ in 0..200 {
        if api.get_opt("ctl").await.unwrap().is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        gone,
        "the object was not deleted after its finalizer was removed"
    );
    assert_eq!(*ctx.cleaned.lock().unwrap(), vec!["ctl".to_string()]);
    controller.abort();
    h.shutdown().await;
}
