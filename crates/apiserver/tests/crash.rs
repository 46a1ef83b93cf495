//! Crash safety: a client writes while the server process is killed with SIGKILL at random
//! moments, 50 rounds. After each restart the store opens, every acknowledged write is there,
//! and resourceVersions keep increasing.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Client;
use serde_json::json;

fn spawn(dir: &Path) -> (Child, Client) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flotilla-apiserver"))
        .arg(dir)
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: std::net::SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("bad line {line:?}"))
        .parse()
        .unwrap();
    let ca = std::fs::read_to_string(dir.join("ca.crt")).unwrap();
    let token = std::fs::read_to_string(dir.join("admin.token")).unwrap();
    (child, Client::new(addr.port(), &ca, token.trim()))
}

fn random_below(n: u64) -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    u64::from_le_bytes(b) % n
}

fn rv(v: &serde_json::Value) -> u64 {
    v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = common::tempdir("crash");
    // name -> (acknowledged value, acknowledged resourceVersion)
    let acked: Arc<Mutex<BTreeMap<String, (u64, u64)>>> = Arc::default();
    let mut max_rv = 0u64;
    let mut total = 0usize;
    for round in 0..50 {
        let (mut child, client) = spawn(&dir);
        // Everything acknowledged so far is there, at least as new as acknowledged.
        for (name, (value, ack_rv)) in acked.lock().unwrap().iter() {
            let r = client.get(&format!("/api/v1/namespaces/default/configmaps/{name}"));
            assert_eq!(
                r.status, 200,
                "round {round}: acknowledged {name} is missing"
            );
            let o = r.json();
            let v: u64 = o["data"]["v"].as_str().unwrap().parse().unwrap();
            assert!(
                v >= *value && rv(&o) >= *ack_rv,
                "round {round}: {name} went back: {o}"
            );
            max_rv = max_rv.max(rv(&o));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let (client, acked, stop) = (client.clone(), acked.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut i = 0u64;
                    let mut last_rv = 0;
                    while !stop.load(Ordering::Relaxed) && i < 10_000 {
                        i += 1;
                        // Alternate creating new objects and updating one per writer.
                        let (name, value) = if i.is_multiple_of(2) { (format!("r{round}-w{w}-{i}"), i) } else { (format!("counter-{w}"), round * 100_000 + i) };
                        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"v": value.to_string()}});
                        let path = "/api/v1/namespaces/default/configmaps";
                        let bytes = body.to_string().into_bytes();
                        let res = if name.starts_with("counter") {
                            match client.try_send("PUT", &format!("{path}/{name}"), "application/json", &bytes) {
                                Ok(r) if r.status == 404 => client.try_send("POST", path, "application/json", &bytes),
                                other => other,
                            }
                        } else {
                            client.try_send("POST", path, "application/json", &bytes)
                        };
                        let Ok(r) = res else { break };
                        if r.status == 200 || r.status == 201 {
                            let o = r.json();
                            let this_rv = rv(&o);
                            assert!(this_rv > last_rv, "resourceVersion did not increase");
                            last_rv = this_rv;
                            acked.lock().unwrap().insert(name, (value, this_rv));
                        } else {
                            break;
                        }
                    }
                    last_rv
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20 + random_below(200)));
        child.kill().unwrap();
        child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            let last = w.join().unwrap();
            assert!(
                last == 0 || last > max_rv,
                "round {round}: resourceVersion {last} not above {max_rv}"
            );
        }
        total = acked.lock().unwrap().len();
    }
    let (mut child, client) = spawn(&dir);
    let list = client.get("/api/v1/namespaces/default/configmaps").json();
    assert!(list["items"].as_array().unwrap().len() >= total);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        total > 50,
        "too few acknowledged writes ({total}) to mean anything"
    );
    eprintln!("crash test: {total} acknowledged objects survived 50 SIGKILLs");
    let _ = std::fs::remove_dir_all(&dir);
}
