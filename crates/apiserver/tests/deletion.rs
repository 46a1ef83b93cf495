//! Deletion over real HTTPS: foreground cascading with `blockOwnerDeletion`, and graceful
//! deletion of Pods (`gracePeriodSeconds`, from the query and from a DeleteOptions body).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::time::{Duration, Instant};

use common::{eventually, start, Client};
use serde_json::{json, Value};

const CMS: &str = "/api/v1/namespaces/default/configmaps";
const PODS: &str = "/api/v1/namespaces/default/pods";

fn exists(c: &Client, path: &str) -> bool {
    let r = c.get(path);
    assert!(matches!(r.status, 200 | 404), "GET {path}: {}", r.status);
    r.status == 200
}

fn create(c: &Client, coll: &str, obj: &Value) -> Value {
    let r = c.post(coll, obj);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

fn dependent(name: &str, owners: &[(&str, &str, bool)], finalizers: &[&str]) -> Value {
    let refs: Vec<Value> = owners
        .iter()
        .map(|(n, uid, block)| {
            json!({"apiVersion": "v1", "kind": "ConfigMap", "name": n, "uid": uid,
                   "blockOwnerDeletion": block})
        })
        .collect();
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "ownerReferences": refs, "finalizers": finalizers}})
}

fn delete_with(c: &Client, path: &str, options: &Value) -> (u16, Value) {
    let body = serde_json::to_vec(options).unwrap();
    let r = c.send(
        "DELETE",
        path,
        &[("Content-Type", "application/json")],
        &body,
    );
    (r.status, r.json())
}

#[test]
fn foreground_waits_only_for_blocking_dependents() {
    let s = start("d-fg");
    let c = s.client();
    let owner = create(
        &c,
        CMS,
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner"}}),
    );
    let uid = owner["metadata"]["uid"].as_str().unwrap().to_string();
    let other = create(
        &c,
        CMS,
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}}),
    );
    let other_uid = other["metadata"]["uid"].as_str().unwrap().to_string();
    let hold = "example.com/hold";
    // Blocking, held by its own finalizer: keeps the owner waiting.
    create(
        &c,
        CMS,
        &dependent("blocking-held", &[("owner", &uid, true)], &[hold]),
    );
    // Blocking, no finalizer: deleted, then no longer blocks.
    create(
        &c,
        CMS,
        &dependent("blocking-free", &[("owner", &uid, true)], &[]),
    );
    // Not blocking, held: deleted (terminating) but does not keep the owner.
    create(
        &c,
        CMS,
        &dependent("loose-held", &[("owner", &uid, false)], &[hold]),
    );
    // Another owner that stays: only loses the reference.
    create(
        &c,
        CMS,
        &dependent(
            "shared",
            &[("owner", &uid, true), ("other", &other_uid, true)],
            &[],
        ),
    );

    let (code, body) = delete_with(
        &c,
        &format!("{CMS}/owner"),
        &json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"}),
    );
    assert_eq!(code, 200, "{body}");
    assert!(body["metadata"]["deletionTimestamp"].is_string(), "{body}");
    assert_eq!(
        body["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );

    assert!(
        eventually(Duration::from_secs(5), || !exists(
            &c,
            &format!("{CMS}/blocking-free")
        )),
        "the blocking dependent without finalizers was not deleted"
    );
    assert!(eventually(Duration::from_secs(5), || {
        let shared = c.get(&format!("{CMS}/shared")).json();
        shared["metadata"]["ownerReferences"]
            .as_array()
            .is_some_and(|r| r.len() == 1 && r[0]["uid"] == other_uid.as_str())
    }));
    for name in ["blocking-held", "loose-held"] {
        let d = c.get(&format!("{CMS}/{name}")).json();
        assert!(
            d["metadata"]["deletionTimestamp"].is_string(),
            "{name} not being deleted: {d}"
        );
    }
    // The held blocking dependent keeps the owner, marked, for as long as it exists.
    std::thread::sleep(Duration::from_millis(800));
    let o = c.get(&format!("{CMS}/owner"));
    assert_eq!(
        o.status, 200,
        "the owner went before its blocking dependent"
    );
    assert!(o.json()["metadata"]["deletionTimestamp"].is_string());

    let r = c.patch(
        &format!("{CMS}/blocking-held"),
        "application/merge-patch+json",
        &json!({"metadata": {"finalizers": null}}),
    );
    assert_eq!(r.status, 200);
    assert!(
        eventually(Duration::from_secs(5), || !exists(
            &c,
            &format!("{CMS}/owner")
        )),
        "the owner stayed after its last blocking dependent went"
    );
    // The non-blocking dependent did not hold the owner and is still terminating.
    let loose = c.get(&format!("{CMS}/loose-held")).json();
    assert!(
        loose["metadata"]["deletionTimestamp"].is_string(),
        "{loose}"
    );
    assert!(exists(&c, &format!("{CMS}/shared")));
    assert!(exists(&c, &format!("{CMS}/other")));
    s.stop();
}

#[test]
fn foreground_owner_without_dependents_goes_at_once() {
    let s = start("d-fg0");
    let c = s.client();
    create(
        &c,
        CMS,
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "alone"}}),
    );
    let r = c.delete(&format!("{CMS}/alone?propagationPolicy=Foreground"));
    assert_eq!(r.status, 200);
    assert!(eventually(Duration::from_secs(5), || !exists(
        &c,
        &format!("{CMS}/alone")
    )));
    s.stop();
}

fn pod(name: &str, node: Option<&str>, grace: Option<i64>) -> Value {
    let mut p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}});
    if let Some(n) = node {
        p["spec"]["nodeName"] = json!(n);
    }
    if let Some(g) = grace {
        p["spec"]["terminationGracePeriodSeconds"] = json!(g);
    }
    p
}

#[test]
fn pods_are_deleted_gracefully() {
    let s = start("d-grace");
    let c = s.client();
    // A scheduled Pod deleted with a grace period is marked, then removed after the period.
    create(&c, PODS, &pod("graceful", Some("node-1"), None));
    let start_at = Instant::now();
    let (code, body) = delete_with(
        &c,
        &format!("{PODS}/graceful"),
        &json!({"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 2}),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["metadata"]["deletionGracePeriodSeconds"], 2, "{body}");
    let ts = body["metadata"]["deletionTimestamp"].as_str().unwrap();
    let deadline = flotilla_apiserver::time::parse(ts).unwrap();
    let now = unix_now();
    assert!(
        (1..=3).contains(&(deadline - now)),
        "deletionTimestamp {ts} is not now + 2s"
    );
    assert!(
        exists(&c, &format!("{PODS}/graceful")),
        "removed before the period"
    );
    assert!(eventually(Duration::from_secs(6), || !exists(
        &c,
        &format!("{PODS}/graceful")
    )));
    assert!(
        start_at.elapsed() >= Duration::from_secs(1),
        "removed too early"
    );

    // The default is spec.terminationGracePeriodSeconds; a shorter second delete wins, and 0
    // removes the Pod at once.
    create(&c, PODS, &pod("default", Some("node-1"), Some(60)));
    let body = c.delete(&format!("{PODS}/default")).json();
    assert_eq!(body["metadata"]["deletionGracePeriodSeconds"], 60, "{body}");
    let body = c
        .delete(&format!("{PODS}/default?gracePeriodSeconds=30"))
        .json();
    assert_eq!(body["metadata"]["deletionGracePeriodSeconds"], 30, "{body}");
    let body = c
        .delete(&format!("{PODS}/default?gracePeriodSeconds=45"))
        .json();
    assert_eq!(
        body["metadata"]["deletionGracePeriodSeconds"], 30,
        "a longer period was taken"
    );
    let r = c.delete(&format!("{PODS}/default?gracePeriodSeconds=0"));
    assert_eq!((r.status, r.json()["kind"].as_str()), (200, Some("Status")));
    assert!(!exists(&c, &format!("{PODS}/default")));

    // gracePeriodSeconds=0 on a fresh Pod, an unscheduled Pod: removed at once.
    create(&c, PODS, &pod("forced", Some("node-1"), None));
    let r = c.delete(&format!("{PODS}/forced?gracePeriodSeconds=0"));
    assert_eq!(r.json()["kind"], "Status");
    assert!(!exists(&c, &format!("{PODS}/forced")));
    create(&c, PODS, &pod("pending", None, Some(60)));
    assert_eq!(
        c.delete(&format!("{PODS}/pending")).json()["kind"],
        "Status"
    );
    assert!(!exists(&c, &format!("{PODS}/pending")));

    // Other kinds ignore the grace period.
    create(
        &c,
        CMS,
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}),
    );
    let r = c.delete(&format!("{CMS}/cm?gracePeriodSeconds=30"));
    assert_eq!(r.json()["kind"], "Status");
    assert!(!exists(&c, &format!("{CMS}/cm")));
    s.stop();
}

#[test]
fn a_finalizer_outlives_the_grace_period_and_a_restart_resumes_it() {
    let dir = common::tempdir("d-grace-fin");
    let s = common::start_in(dir.clone(), |_| {});
    let c = s.client();
    let mut p = pod("held", Some("node-1"), None);
    p["metadata"]["finalizers"] = json!(["example.com/hold"]);
    create(&c, PODS, &p);
    create(&c, PODS, &pod("restarted", Some("node-1"), None));
    let body = c
        .delete(&format!("{PODS}/held?gracePeriodSeconds=1"))
        .json();
    assert_eq!(body["metadata"]["deletionGracePeriodSeconds"], 1);
    // Long enough that a loaded machine restarts the server well within it.
    c.delete(&format!("{PODS}/restarted?gracePeriodSeconds=15"));
    s.stop_keep();

    let s = common::start_in(dir, |_| {});
    let c = s.client();
    assert!(exists(&c, &format!("{PODS}/restarted")));
    assert!(
        eventually(Duration::from_secs(25), || !exists(
            &c,
            &format!("{PODS}/restarted")
        )),
        "the grace period was not resumed after a restart"
    );
    // The period is over: the grace is 0, and the finalizer still holds the Pod.
    assert!(eventually(Duration::from_secs(4), || {
        c.get(&format!("{PODS}/held")).json()["metadata"]["deletionGracePeriodSeconds"] == 0
    }));
    let r = c.patch(
        &format!("{PODS}/held"),
        "application/merge-patch+json",
        &json!({"metadata": {"finalizers": null}}),
    );
    assert_eq!(r.status, 200);
    assert!(eventually(Duration::from_secs(5), || !exists(
        &c,
        &format!("{PODS}/held")
    )));
    s.stop();
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn a_removal_interrupted_by_a_stop_finishes_at_start_up() {
    use flotilla_apiserver::store::{Key, Op, Store};
    // A Pod left marked, its grace period over and no finalizer left (a stop between the
    // two writes), and one still in its grace period: written straight into the store.
    let dir = common::tempdir("d-resume");
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = Store::open(&dir.join("store.redb"), 100).unwrap();
        let past = flotilla_apiserver::time::format_unix(unix_now() - 60);
        let soon = flotilla_apiserver::time::format_unix(unix_now() + 3);
        for (name, ts, grace) in [("stuck", past, 0), ("waiting", soon, 3)] {
            let mut p = pod(name, Some("node-1"), None);
            p["metadata"]["namespace"] = json!("default");
            p["metadata"]["uid"] = json!(format!("uid-{name}"));
            p["metadata"]["deletionTimestamp"] = json!(ts);
            p["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
            let key = Key::new("default", "", "pods", "default", name);
            rt.block_on(store.write(Op::Create { key, object: p }))
                .unwrap();
        }
    }
    let s = common::start_in(dir, |_| {});
    let c = s.client();
    assert!(
        eventually(Duration::from_secs(3), || !exists(
            &c,
            &format!("{PODS}/stuck")
        )),
        "the interrupted removal was not finished"
    );
    assert!(
        exists(&c, &format!("{PODS}/waiting")),
        "removed before its deadline"
    );
    assert!(eventually(Duration::from_secs(8), || !exists(
        &c,
        &format!("{PODS}/waiting")
    )));
    s.stop();
}
