use super::*;
use serde_json::json;

fn cm(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "ns"}, "data": {"k": name}})
}

fn key(name: &str) -> Key {
    Key::new("c", "", "configmaps", "ns", name)
}

fn create(s: &Store, name: &str) -> u64 {
    let out = s
        .write_blocking(Op::Create {
            key: key(name),
            object: cm(name),
        })
        .unwrap();
    resource_version(out.object().unwrap()).unwrap()
}

#[test]
fn revisions_increase_and_preconditions_hold() {
    let dir = tempdir();
    let s = Store::open(&dir.join("db"), 100).unwrap();
    let r1 = create(&s, "a");
    let r2 = create(&s, "b");
    assert!(r2 > r1);
    assert_eq!(
        s.write_blocking(Op::Create {
            key: key("a"),
            object: cm("a")
        })
        .unwrap_err(),
        StoreError::AlreadyExists
    );
    let stale = s.write_blocking(Op::Update {
        key: key("a"),
        object: cm("a"),
        expected: Some(r1 + 100),
    });
    assert_eq!(stale.unwrap_err(), StoreError::Conflict { current: r1 });
    let up = s
        .write_blocking(Op::Update {
            key: key("a"),
            object: cm("a"),
            expected: Some(r1),
        })
        .unwrap();
    let r3 = resource_version(up.object().unwrap()).unwrap();
    assert!(r3 > r2);
    assert_eq!(
        s.write_blocking(Op::Update {
            key: key("zz"),
            object: cm("zz"),
            expected: None
        })
        .unwrap_err(),
        StoreError::NotFound
    );
    let del = s
        .write_blocking(Op::Delete {
            key: key("b"),
            expected: None,
        })
        .unwrap();
    assert!(matches!(del, Outcome::Deleted(_)));
    assert!(s.get(&key("b")).unwrap().is_none());
    assert_eq!(s.revision().unwrap(), r3 + 1);
    assert_eq!(
        resource_version(&s.get(&key("a")).unwrap().unwrap()),
        Some(r3)
    );
}

#[test]
fn list_pages_with_filter_and_continue() {
    let dir = tempdir();
    let s = Store::open(&dir.join("db"), 100).unwrap();
    for i in 0..25 {
        create(&s, &format!("o{i:02}"));
    }
    // Another namespace and another resource are outside the prefix.
    s.write_blocking(Op::Create {
        key: Key::new("c", "", "configmaps", "ns2", "x"),
        object: cm("x"),
    })
    .unwrap();
    s.write_blocking(Op::Create {
        key: Key::new("c", "", "secrets", "ns", "x"),
        object: cm("x"),
    })
    .unwrap();
    let prefix = Prefix::namespace("c", "", "configmaps", "ns");
    let even = |o: &Value| {
        o.pointer("/metadata/name")
            .and_then(Value::as_str)
            .is_some_and(|n| n.ends_with(['0', '2', '4', '6', '8']))
    };
    let mut names = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = s.list(&prefix, after.as_deref(), Some(4), &even).unwrap();
        pages += 1;
        names.extend(
            page.items
                .iter()
                .map(|o| o["metadata"]["name"].as_str().unwrap().to_string()),
        );
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(names.len(), 13);
    assert_eq!(names[0], "o00");
    assert_eq!(names[12], "o24");
    assert!(pages >= 4);
    let all = s
        .list(
            &Prefix::resource("c", "", "configmaps"),
            None,
            None,
            &|_| true,
        )
        .unwrap();
    assert_eq!(all.items.len(), 26);
    assert_eq!(all.revision, s.revision().unwrap());
}

#[test]
fn reopen_keeps_everything_acknowledged() {
    let dir = tempdir();
    let path = dir.join("db");
    let last;
    {
        let s = Store::open(&path, 100).unwrap();
        for i in 0..10 {
            create(&s, &format!("o{i}"));
        }
        s.write_blocking(Op::Delete {
            key: key("o3"),
            expected: None,
        })
        .unwrap();
        s.write_blocking(Op::PutCluster {
            name: "x".into(),
            record: json!({"token": "t"}),
        })
        .unwrap();
        last = s.revision().unwrap();
    }
    let s = Store::open(&path, 100).unwrap();
    assert_eq!(s.revision().unwrap(), last);
    assert_eq!(s.count().unwrap(), 9);
    assert!(s.get(&key("o3")).unwrap().is_none());
    assert_eq!(s.clusters().unwrap()[0].1["token"], "t");
    // The history starts at the reopened revision: older starts are too old.
    assert!(s.watch(last - 1).is_err());
    assert!(s.watch(last).is_ok());
    assert!(create(&s, "new") > last);
}

#[tokio::test]
async fn watchers_see_committed_events_in_order() {
    let dir = tempdir();
    let s = Arc::new(Store::open(&dir.join("db"), 100).unwrap());
    let start = s.revision().unwrap();
    let mut sub = s.watch(start).unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.write(Op::Create {
                key: key(&format!("p{i}")),
                object: cm(&format!("p{i}")),
            })
            .await
            .unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut last = start;
    for _ in 0..20 {
        let e = sub.live.recv().await.unwrap();
        assert!(e.rev > last);
        assert_eq!(resource_version(&e.object), Some(e.rev));
        last = e.rev;
    }
    // A late watcher gets the same events from the history.
    let late = s.watch(start).unwrap();
    assert_eq!(late.backlog.len(), 20);
}

#[test]
fn drop_cluster_removes_only_its_objects() {
    let dir = tempdir();
    let s = Store::open(&dir.join("db"), 100).unwrap();
    create(&s, "a");
    s.write_blocking(Op::Create {
        key: Key::new("c2", "", "configmaps", "ns", "a"),
        object: cm("a"),
    })
    .unwrap();
    s.write_blocking(Op::Create {
        key: Key::new("c22", "", "configmaps", "ns", "a"),
        object: cm("a"),
    })
    .unwrap();
    let out = s
        .write_blocking(Op::DropCluster { name: "c2".into() })
        .unwrap();
    assert!(matches!(out, Outcome::Cluster(1)));
    assert_eq!(s.count().unwrap(), 2);
}

pub(crate) fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("flotilla-apiserver-store-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
