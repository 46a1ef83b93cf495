//! The API over real HTTPS: authentication, virtual clusters, errors as `metav1.Status`,
//! optimistic concurrency, generation and status, watch semantics, discovery.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::time::Duration;

use common::{start, Client};
use serde_json::{json, Value};

fn cm(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "1"}})
}

#[test]
fn authentication_and_status_errors() {
    let s = start("h-auth");
    let c = s.client();
    assert_eq!(c.with_token(None).get("/api/v1/namespaces").status, 401);
    assert_eq!(
        c.with_token(Some("nope")).get("/api/v1/namespaces").status,
        401
    );
    assert_eq!(c.with_token(None).get("/healthz").status, 200);
    let r = c.get("/api/v1/namespaces/default/configmaps/missing");
    assert_eq!(r.status, 404);
    let st = r.json();
    assert_eq!(
        (
            st["kind"].as_str(),
            st["reason"].as_str(),
            st["code"].as_i64()
        ),
        (Some("Status"), Some("NotFound"), Some(404))
    );
    assert_eq!(st["message"], "configmaps \"missing\" not found");
    assert_eq!(
        c.post("/api/v1/namespaces/default/configmaps", &cm("a"))
            .status,
        201
    );
    let r = c.post("/api/v1/namespaces/default/configmaps", &cm("a"));
    assert_eq!(
        (r.status, r.json()["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );
    // Malformed body: 400 with the reason.
    let r = c.send(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &[("Content-Type", "application/json")],
        b"{not json",
    );
    assert_eq!(
        (r.status, r.json()["reason"].as_str()),
        (400, Some("BadRequest"))
    );
    // Body over the limit: 413.
    let big = vec![b' '; 3 * 1024 * 1024 + 10];
    let r = c.send(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &[("Content-Type", "application/json")],
        &big,
    );
    assert_eq!(r.status, 413);
    // A 1 MiB object works.
    let mut large = cm("large");
    large["data"]["blob"] = json!("x".repeat(1024 * 1024));
    assert_eq!(
        c.post("/api/v1/namespaces/default/configmaps", &large)
            .status,
        201
    );
    assert_eq!(
        c.get("/api/v1/namespaces/default/configmaps/large").json()["data"]["blob"]
            .as_str()
            .map(str::len),
        Some(1024 * 1024)
    );
    // Unknown resource.
    assert_eq!(c.get("/apis/nope.example.com/v1/things").status, 404);
    s.stop();
}

#[test]
fn optimistic_concurrency_generation_and_status() {
    let s = start("h-occ");
    let c = s.client();
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "uid": "client-chosen"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}},
        "status": {"replicas": 9}});
    let created = c
        .post("/apis/apps/v1/namespaces/default/deployments", &d)
        .json();
    assert_ne!(created["metadata"]["uid"], "client-chosen");
    assert_eq!(created["metadata"]["generation"], 1);
    assert!(
        created["status"].get("replicas").is_none(),
        "status is not set on create through the main resource"
    );
    let path = "/apis/apps/v1/namespaces/default/deployments/web";
    let mut stale = created.clone();
    let mut fresh = created.clone();
    fresh["spec"]["replicas"] = json!(2);
    let updated = c.put(path, &fresh);
    assert_eq!(updated.status, 200);
    let updated = updated.json();
    assert_eq!(updated["metadata"]["generation"], 2);
    assert!(
        updated["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > created["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
    );
    stale["spec"]["replicas"] = json!(5);
    let r = c.put(path, &stale);
    assert_eq!(
        (r.status, r.json()["reason"].as_str()),
        (409, Some("Conflict"))
    );
    // Status changes do not bump generation; the main resource ignores status.
    let mut st = updated.clone();
    st["status"] = json!({"replicas": 2, "readyReplicas": 2});
    let after = c.put(&format!("{path}/status"), &st).json();
    assert_eq!(after["metadata"]["generation"], 2);
    assert_eq!(after["status"]["readyReplicas"], 2);
    let r = c.patch(
        path,
        "application/merge-patch+json",
        &json!({"status": {"replicas": 0}}),
    );
    assert_eq!(r.json()["status"]["replicas"], 2);
    // dryRun=All writes nothing.
    let r = c.post(
        "/api/v1/namespaces/default/configmaps?dryRun=All",
        &cm("dry"),
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        c.get("/api/v1/namespaces/default/configmaps/dry").status,
        404
    );
    // generateName.
    let r = c
        .post(
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata": {"generateName": "gen-"}}),
        )
        .json();
    assert!(
        r["metadata"]["name"].as_str().unwrap().starts_with("gen-")
            && r["metadata"]["name"].as_str().unwrap().len() == 9
    );
    s.stop();
}

#[test]
fn list_paging_selectors_and_watch() {
    let s = start("h-list");
    let c = s.client();
    for i in 0u32..7 {
        let mut o = cm(&format!("o{i}"));
        o["metadata"]["labels"] =
            json!({"parity": if i.is_multiple_of(2) { "even" } else { "odd" }});
        assert_eq!(
            c.post("/api/v1/namespaces/default/configmaps", &o).status,
            201
        );
    }
    let mut names = Vec::new();
    let mut cont = String::new();
    let mut rv = None;
    loop {
        let l = c.get(&format!("/api/v1/namespaces/default/configmaps?limit=3&labelSelector=parity%3Deven&continue={cont}")).json();
        assert_eq!(l["kind"], "ConfigMapList");
        rv.get_or_insert(l["metadata"]["resourceVersion"].clone());
        names.extend(
            l["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["metadata"]["name"].as_str().unwrap().to_string()),
        );
        match l["metadata"]["continue"].as_str() {
            Some(c) if !c.is_empty() => cont = c.to_string(),
            _ => break,
        }
    }
    assert_eq!(names, ["o0", "o2", "o4", "o6"]);
    let one = c
        .get("/api/v1/configmaps?fieldSelector=metadata.name%3Do3")
        .json();
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        c.get("/api/v1/configmaps?fieldSelector=spec.x%3Dy").status,
        400
    );

    // Watch from the list's resourceVersion sees later changes only, with bookmarks.
    let rv = rv.unwrap();
    let rv = rv.as_str().unwrap().to_string();
    let c2 = c.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        c2.post("/api/v1/namespaces/default/configmaps", &cm("late"));
        c2.delete("/api/v1/namespaces/default/configmaps/o1");
    });
    let evs = c.watch(
        &format!("/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=10"),
        Duration::from_secs(10),
        |e| e.iter().any(|e| e["type"] == "DELETED"),
    );
    t.join().unwrap();
    let kinds: Vec<(&str, &str)> = evs
        .iter()
        .filter(|e| e["type"] != "BOOKMARK")
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["object"]["metadata"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(kinds, [("ADDED", "late"), ("DELETED", "o1")]);
    // Without a resourceVersion the current objects come first as ADDED; timeoutSeconds ends it.
    let start = std::time::Instant::now();
    let evs = c.watch(
        "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1",
        Duration::from_secs(5),
        |_| false,
    );
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "timeoutSeconds did not end the watch"
    );
    assert_eq!(evs.iter().filter(|e| e["type"] == "ADDED").count(), 7);
    s.stop();
}

#[test]
fn expired_resource_version_is_an_error_event_inside_the_stream() {
    let s = common::start_in(common::tempdir("h-410"), |cfg| cfg.history = 5);
    let c = s.client();
    let first = c
        .post("/api/v1/namespaces/default/configmaps", &cm("first"))
        .json();
    let rv = first["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    for i in 0..10 {
        c.post(
            "/api/v1/namespaces/default/configmaps",
            &cm(&format!("n{i}")),
        );
    }
    let evs = c.watch(
        &format!("/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}"),
        Duration::from_secs(5),
        |e| !e.is_empty(),
    );
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0]["type"], "ERROR");
    assert_eq!(evs[0]["object"]["code"], 410);
    assert_eq!(evs[0]["object"]["reason"], "Expired");
    s.stop();
}

#[test]
fn virtual_clusters_are_isolated() {
    let s = start("h-vc");
    let admin = s.client();
    let created = admin.post("/admin/clusters", &json!({"name": "blue"}));
    assert_eq!(created.status, 201);
    let blue_token = created.json()["token"].as_str().unwrap().to_string();
    let kubeconfig = s.handle.cluster_kubeconfig("blue").unwrap();
    assert!(kubeconfig.contains("/clusters/blue") && kubeconfig.contains(&blue_token));
    s.rt.block_on(s.handle.create_cluster("green")).unwrap();
    let blue = admin.with_token(Some(&blue_token));
    // Own namespaces; objects do not leak between clusters.
    assert_eq!(
        blue.post(
            "/clusters/blue/api/v1/namespaces/default/configmaps",
            &cm("only-blue")
        )
        .status,
        201
    );
    assert_eq!(
        admin
            .get("/api/v1/namespaces/default/configmaps/only-blue")
            .status,
        404
    );
    assert_eq!(
        admin
            .get("/clusters/green/api/v1/namespaces/default/configmaps/only-blue")
            .status,
        404
    );
    assert_eq!(
        admin
            .get("/clusters/blue/api/v1/namespaces/default/configmaps/only-blue")
            .status,
        200
    );
    // A token of one cluster gets 403 on another and on the admin API.
    assert_eq!(blue.get("/clusters/green/api/v1/namespaces").status, 403);
    assert_eq!(blue.get("/api/v1/namespaces").status, 403);
    assert_eq!(blue.get("/admin/clusters").status, 403);
    // CRDs are per cluster.
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "gadgets.example.com"},
        "spec": {"group": "example.com", "scope": "Cluster", "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                 "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
    assert_eq!(
        blue.post(
            "/clusters/blue/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            &crd
        )
        .status,
        201
    );
    assert_eq!(
        blue.get("/clusters/blue/apis/example.com/v1/gadgets")
            .status,
        200
    );
    assert_eq!(
        admin
            .get("/clusters/green/apis/example.com/v1/gadgets")
            .status,
        404
    );
    // Delete: gone, and its token no longer works.
    assert_eq!(admin.delete("/admin/clusters/blue").status, 200);
    assert_eq!(blue.get("/clusters/blue/api/v1/namespaces").status, 401);
    assert_eq!(admin.get("/clusters/blue/api/v1/namespaces").status, 404);
    s.stop();
}

#[test]
fn discovery_documents() {
    let s = start("h-disc");
    let c: Client = s.client();
    assert_eq!(c.get("/version").json()["major"], "1");
    let apis = c.get("/apis").json();
    assert!(apis["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "apps"));
    let v1 = c.get("/api/v1").json();
    assert!(v1["resources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "namespaces" && r["namespaced"] == false));
    let apps = c.get("/apis/apps/v1").json();
    assert!(apps["resources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "deployments/scale"));
    let agg = c.send(
        "GET",
        "/apis",
        &[(
            "Accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
        )],
        b"",
    );
    assert!(agg
        .header("content-type")
        .unwrap()
        .contains("as=APIGroupDiscoveryList"));
    let agg = agg.json();
    assert_eq!(agg["kind"], "APIGroupDiscoveryList");
    let apps = agg["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == "apps")
        .unwrap();
    let deploy = apps["versions"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "deployments")
        .unwrap();
    assert_eq!(deploy["scope"], "Namespaced");
    let v3 = c.get("/openapi/v3").json();
    assert!(v3["paths"].get("apis/apps/v1").is_some(), "{v3}");
    assert_eq!(c.get("/openapi/v3/apis/apps/v1").status, 200);
    s.stop();
}

#[test]
fn restart_keeps_objects_and_resource_versions_increase() {
    let dir = common::tempdir("h-restart");
    let s = common::start_in(dir.clone(), |_| {});
    let c = s.client();
    let a = c
        .post("/api/v1/namespaces/default/configmaps", &cm("kept"))
        .json();
    let token = s.handle.admin_token.clone();
    s.stop_keep();
    let s = common::start_in(dir, |_| {});
    assert_eq!(s.handle.admin_token, token, "the admin token is kept");
    let c = s.client();
    let got = c.get("/api/v1/namespaces/default/configmaps/kept").json();
    assert_eq!(got["metadata"]["uid"], a["metadata"]["uid"]);
    let b = c
        .post("/api/v1/namespaces/default/configmaps", &cm("after"))
        .json();
    let rv = |v: &Value| {
        v["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(rv(&b) > rv(&a));
    s.stop();
}

#[test]
fn crd_versions_scope_and_subresources() {
    let s = start("h-crdv");
    let c = s.client();
    let schema = json!({"openAPIV3Schema": {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {"replicas": {"type": "integer"}, "size": {"type": "integer"}}},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}});
    let version = |name: &str, storage: bool| {
        json!({"name": name, "served": true, "storage": storage, "schema": schema,
        "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}}})
    };
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                 "versions": [version("v1", true), version("v1beta1", false)]}});
    let created = c
        .post(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            &crd,
        )
        .json();
    let conds = created["status"]["conditions"].as_array().unwrap();
    assert!(conds
        .iter()
        .any(|c| c["type"] == "Established" && c["status"] == "True"));
    assert!(conds
        .iter()
        .any(|c| c["type"] == "NamesAccepted" && c["status"] == "True"));
    let w = json!({"apiVersion": "example.com/v1beta1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"replicas": 1, "size": 2}});
    let r = c.post("/apis/example.com/v1beta1/namespaces/default/widgets", &w);
    assert_eq!(r.status, 201);
    let w1 = c
        .get("/apis/example.com/v1/namespaces/default/widgets/w")
        .json();
    assert_eq!(w1["apiVersion"], "example.com/v1");
    assert_eq!(w1["metadata"]["generation"], 1);
    // Cluster-scoped paths do not serve a namespaced kind.
    assert_eq!(c.get("/apis/example.com/v1/widgets/w").status, 404);
    // Status changes through /status keep generation; spec changes bump it.
    let mut st = w1.clone();
    st["status"] = json!({"replicas": 1});
    let after = c
        .put(
            "/apis/example.com/v1/namespaces/default/widgets/w/status",
            &st,
        )
        .json();
    assert_eq!(
        (
            after["metadata"]["generation"].as_i64(),
            after["status"]["replicas"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let scaled = c.patch(
        "/apis/example.com/v1/namespaces/default/widgets/w/scale",
        "application/merge-patch+json",
        &json!({"spec": {"replicas": 3}}),
    );
    assert_eq!(scaled.json()["kind"], "Scale");
    let w2 = c
        .get("/apis/example.com/v1/namespaces/default/widgets/w")
        .json();
    assert_eq!(
        (
            w2["spec"]["replicas"].as_i64(),
            w2["metadata"]["generation"].as_i64()
        ),
        (Some(3), Some(2))
    );
    // Deleting the CRD stops serving the kind.
    assert_eq!(
        c.delete("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")
            .status,
        200
    );
    assert!(common::eventually(Duration::from_secs(5), || c
        .get("/apis/example.com/v1/namespaces/default/widgets")
        .status
        == 404));
    s.stop();
}

#[test]
fn watch_with_a_selector_sees_objects_enter_and_leave_it() {
    let s = start("h-selwatch");
    let c = s.client();
    let labelled = |name: &str, tier: &str| {
        let mut o = cm(name);
        o["metadata"]["labels"] = json!({"tier": tier});
        o
    };
    c.post(
        "/api/v1/namespaces/default/configmaps",
        &labelled("in", "front"),
    );
    let rv = c
        .post(
            "/api/v1/namespaces/default/configmaps",
            &labelled("out", "back"),
        )
        .json()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let c2 = c.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let p = "application/merge-patch+json";
        c2.patch(
            "/api/v1/namespaces/default/configmaps/out",
            p,
            &json!({"metadata": {"labels": {"tier": "front"}}}),
        );
        c2.patch(
            "/api/v1/namespaces/default/configmaps/in",
            p,
            &json!({"metadata": {"labels": {"tier": "back"}}}),
        );
        c2.patch(
            "/api/v1/namespaces/default/configmaps/out",
            p,
            &json!({"data": {"x": "y"}}),
        );
    });
    let evs = c.watch(
        &format!("/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}&labelSelector=tier%3Dfront"),
        Duration::from_secs(10),
        |e| e.len() >= 3,
    );
    t.join().unwrap();
    let got: Vec<(&str, &str)> = evs
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["object"]["metadata"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("ADDED", "out"), ("DELETED", "in"), ("MODIFIED", "out")]
    );
    s.stop();
}

#[test]
fn continued_lists_show_the_first_pages_snapshot() {
    let s = common::start_in(common::tempdir("h-snap"), |cfg| cfg.history = 50);
    let c = s.client();
    let base = "/api/v1/namespaces/default/configmaps";
    for i in 0..6 {
        c.post(base, &cm(&format!("o{i}")));
    }
    let page = |cont: &str| c.get(&format!("{base}?limit=2&continue={cont}")).json();
    let names = |l: &Value| -> Vec<String> {
        l["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                format!(
                    "{}={}",
                    o["metadata"]["name"].as_str().unwrap(),
                    o["data"]["a"].as_str().unwrap()
                )
            })
            .collect()
    };
    let p1 = page("");
    assert_eq!(names(&p1), ["o0=1", "o1=1"]);
    // Changes after the first page: an update, a deletion, a creation inside the range.
    c.patch(
        &format!("{base}/o3"),
        "application/merge-patch+json",
        &json!({"data": {"a": "2"}}),
    );
    c.delete(&format!("{base}/o4"));
    c.post(base, &cm("o2a"));
    let p2 = page(p1["metadata"]["continue"].as_str().unwrap());
    assert_eq!(
        p2["metadata"]["resourceVersion"],
        p1["metadata"]["resourceVersion"]
    );
    assert_eq!(names(&p2), ["o2=1", "o3=1"]);
    let p3 = page(p2["metadata"]["continue"].as_str().unwrap());
    assert_eq!(names(&p3), ["o4=1", "o5=1"]);
    assert!(p3["metadata"]
        .get("continue")
        .is_none_or(|c| c.as_str() == Some("")));
    // Once the history no longer reaches the snapshot: 410 Expired.
    let p1 = page("");
    for i in 0..60 {
        c.post(base, &cm(&format!("z{i}")));
    }
    let r = c.get(&format!(
        "{base}?limit=2&continue={}",
        p1["metadata"]["continue"].as_str().unwrap()
    ));
    assert_eq!(
        (r.status, r.json()["reason"].as_str()),
        (410, Some("Expired"))
    );
    s.stop();
}

#[test]
fn protobuf_bodies_of_unknown_kinds_get_415() {
    let s = start("h-proto");
    let c = s.client();
    let field = |num: u8, payload: &[u8]| {
        [vec![num << 3 | 2, payload.len() as u8], payload.to_vec()].concat()
    };
    let type_meta = [field(1, b"v1"), field(2, b"Pod")].concat();
    let body = [
        b"k8s\0".to_vec(),
        field(1, &type_meta),
        field(2, &field(1, &field(1, b"p"))),
    ]
    .concat();
    let r = c.send(
        "POST",
        "/api/v1/namespaces/default/pods",
        &[("Content-Type", "application/vnd.kubernetes.protobuf")],
        &body,
    );
    let st = r.json();
    assert_eq!(
        (r.status, st["reason"].as_str()),
        (415, Some("UnsupportedMediaType")),
        "{st}"
    );
    assert!(st["message"].as_str().unwrap().contains("\"Pod\""), "{st}");
    // A ConfigMap in protobuf is stored.
    let type_meta = [field(1, b"v1"), field(2, b"ConfigMap")].concat();
    let body = [
        b"k8s\0".to_vec(),
        field(1, &type_meta),
        field(2, &field(1, &field(1, b"pb"))),
    ]
    .concat();
    let r = c.send(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &[("Content-Type", "application/vnd.kubernetes.protobuf")],
        &body,
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        c.get("/api/v1/namespaces/default/configmaps/pb").status,
        200
    );
    s.stop();
}

#[test]
fn no_op_writes_are_not_stored() {
    let s = common::start("noop");
    let c = s.client();
    let path = "/api/v1/namespaces/default/configmaps";
    let apply = |data: &str| {
        c.patch(
            &format!("{path}/cfg?fieldManager=m&force=true"),
            "application/apply-patch+yaml",
            &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"k": data}}),
        )
    };
    let rv = |r: &common::Resp| {
        r.json()["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = rv(&apply("a"));
    // The same apply again, a no-op merge patch and a no-op update keep the resourceVersion,
    // as kube-apiserver does; a real change moves it.
    assert_eq!(rv(&apply("a")), first);
    let merged = c.patch(
        &format!("{path}/cfg"),
        "application/merge-patch+json",
        &json!({"data": {"k": "a"}}),
    );
    assert_eq!(rv(&merged), first);
    let current = c.get(&format!("{path}/cfg")).json();
    assert_eq!(rv(&c.put(&format!("{path}/cfg"), &current)), first);
    let changed = rv(&apply("b"));
    assert_ne!(changed, first);
    assert_eq!(c.get(&format!("{path}/cfg")).json()["data"]["k"], "b");
    s.stop();
}

#[test]
fn secret_string_data_is_folded_and_status_apply_keeps_status() {
    let s = common::start("sd");
    let c = s.client();
    let made = c
        .post(
            "/api/v1/namespaces/default/secrets",
            &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                "data": {"a": "eA=="}, "stringData": {"a": "override", "b": "plain"}}),
        )
        .json();
    assert!(made.get("stringData").is_none(), "{made}");
    assert_eq!(made["data"]["a"], "b3ZlcnJpZGU=");
    assert_eq!(made["data"]["b"], "cGxhaW4=");
    let applied = c
        .patch(
            "/api/v1/namespaces/default/secrets/t?fieldManager=m",
            "application/apply-patch+yaml",
            &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t"}, "stringData": {"k": "v"}}),
        )
        .json();
    assert_eq!(applied["data"]["k"], "dg==");
    assert!(applied.get("stringData").is_none());

    // Server-side apply to /status writes status (and nothing else), owned by the manager
    // with subresource "status".
    let d = "/apis/apps/v1/namespaces/default/deployments";
    c.post(d, &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}));
    let r = c.patch(
        &format!("{d}/web/status?fieldManager=ctl&force=true"),
        "application/apply-patch+yaml",
        &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 5}, "status": {"readyReplicas": 1, "replicas": 1}}),
    );
    assert_eq!(r.status, 200, "{}", r.json());
    let got = c.get(&format!("{d}/web")).json();
    assert_eq!(got["status"]["readyReplicas"], 1);
    assert_eq!(
        got["spec"]["replicas"], 1,
        "spec is not written through /status"
    );
    let mf = got["metadata"]["managedFields"].as_array().unwrap();
    assert!(
        mf.iter().any(|m| m["manager"] == "ctl"
            && m["subresource"] == "status"
            && m["operation"] == "Apply"),
        "{mf:?}"
    );
    s.stop();
}

#[test]
fn immutable_fields_are_refused_with_422() {
    let s = common::start("immut");
    let c = s.client();
    let d = "/apis/apps/v1/namespaces/default/deployments";
    let dep = |sel: &str| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": sel}}, "template": {"metadata": {"labels": {"app": sel}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}})
    };
    assert_eq!(c.post(d, &dep("a")).status, 201);
    let r = c.patch(
        &format!("{d}/web?fieldManager=m&force=true"),
        "application/apply-patch+yaml",
        &dep("b"),
    );
    assert_eq!(r.status, 422, "{}", r.json());
    let body = r.json();
    assert_eq!(body["reason"], "Invalid");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("spec.selector: Invalid value"),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("field is immutable"),
        "{body}"
    );
    // Replicas stay mutable.
    let mut more = dep("a");
    more["spec"]["replicas"] = json!(3);
    assert_eq!(
        c.patch(
            &format!("{d}/web?fieldManager=m&force=true"),
            "application/apply-patch+yaml",
            &more
        )
        .status,
        200
    );

    let cms = "/api/v1/namespaces/default/configmaps";
    c.post(cms, &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "frozen"}, "immutable": true, "data": {"k": "v"}}));
    let r = c.patch(
        &format!("{cms}/frozen"),
        "application/merge-patch+json",
        &json!({"data": {"k": "w"}}),
    );
    assert_eq!(r.status, 422);
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("data: Forbidden: field is immutable when `immutable` is set"));
    s.stop();
}
