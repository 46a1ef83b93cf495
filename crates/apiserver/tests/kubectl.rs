//! kubectl compatibility: the real kubectl (/usr/bin/kubectl) against the server over TLS,
//! through the admin kubeconfig the server writes.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::time::Duration;

use common::{eventually, kubectl_path, start, Kubectl, Server};

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team-a
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: team-a}
data: {a: "1"}
"#;

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              replicas: {type: integer}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
"#;

fn setup(tag: &str) -> Option<(Server, Kubectl)> {
    let bin = kubectl_path()?;
    let server = start(tag);
    let k = Kubectl::new(bin, &server.handle.kubeconfig);
    Some((server, k))
}

#[test]
fn api_resources_and_versions() {
    let Some((server, k)) = setup("k-disc") else {
        return;
    };
    let out = k.ok(&["api-resources"]);
    for needle in [
        "deployments",
        "namespaces",
        "customresourcedefinitions",
        "configmaps",
        "leases",
        "cronjobs",
    ] {
        assert!(out.contains(needle), "api-resources lacks {needle}:\n{out}");
    }
    let v = k.ok(&["api-versions"]);
    assert!(
        v.contains("apps/v1") && v.contains("rbac.authorization.k8s.io/v1"),
        "{v}"
    );
    let version = k.ok(&["version", "-o", "json"]);
    assert!(version.contains("\"serverVersion\""), "{version}");
    server.stop();
}

#[test]
fn create_apply_get_label_annotate_scale_patch() {
    let Some((server, k)) = setup("k-basic") else {
        return;
    };
    // An object in a missing namespace is refused.
    let err = k.fails(&["create", "configmap", "x", "-n", "team-a"]);
    assert!(err.contains("namespaces \"team-a\" not found"), "{err}");
    k.ok(&["create", "namespace", "team-a"]);
    // kubectl's typed `create` commands send protobuf.
    k.ok(&[
        "create",
        "deployment",
        "typed",
        "-n",
        "team-a",
        "--image=nginx:1.27",
        "--replicas=0",
    ]);
    let typed = k.ok(&["get", "deploy", "typed", "-n", "team-a", "-o", "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.selector.matchLabels.app}"]);
    assert_eq!(typed, "0 nginx:1.27 typed");
    k.ok(&[
        "create",
        "secret",
        "generic",
        "s",
        "-n",
        "team-a",
        "--from-literal=k=v",
    ]);
    assert_eq!(
        k.ok(&[
            "get",
            "secret",
            "s",
            "-n",
            "team-a",
            "-o",
            "jsonpath={.type} {.data.k}"
        ]),
        "Opaque dg=="
    );
    k.ok(&["create", "serviceaccount", "robot", "-n", "team-a"]);
    let out = k.ok_stdin(&["apply", "-f", "-"], DEPLOYMENT);
    assert!(
        out.contains("deployment.apps/web created") && out.contains("configmap/cfg created"),
        "{out}"
    );
    let out = k.ok_stdin(&["apply", "-f", "-"], DEPLOYMENT);
    assert!(out.contains("deployment.apps/web unchanged"), "{out}");

    let yaml = k.ok(&["get", "deployment", "web", "-n", "team-a", "-o", "yaml"]);
    assert!(
        yaml.contains("replicas: 2") && yaml.contains("uid:") && yaml.contains("resourceVersion:"),
        "{yaml}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&k.ok(&["get", "cm", "cfg", "-n", "team-a", "-o", "json"])).unwrap();
    assert_eq!(json["data"]["a"], "1");
    assert_eq!(
        k.ok(&[
            "get",
            "cm",
            "cfg",
            "-n",
            "team-a",
            "-o",
            "jsonpath={.data.a}"
        ]),
        "1"
    );

    let all = k.ok(&["get", "configmaps", "-A"]);
    let header = all.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("NAMESPACE") && header.contains("NAME") && header.contains("AGE"),
        "{all}"
    );
    assert!(
        all.lines()
            .any(|l| l.starts_with("team-a") && l.contains("cfg")),
        "{all}"
    );

    k.ok(&["label", "cm", "cfg", "-n", "team-a", "tier=front"]);
    k.ok(&["annotate", "cm", "cfg", "-n", "team-a", "note=hello"]);
    let sel = k.ok(&[
        "get",
        "cm",
        "-n",
        "team-a",
        "-l",
        "tier in (front,back)",
        "-o",
        "name",
    ]);
    assert_eq!(sel.trim(), "configmap/cfg");
    assert_eq!(
        k.ok(&[
            "get",
            "cm",
            "-n",
            "team-a",
            "-l",
            "tier!=front",
            "-o",
            "name"
        ])
        .trim(),
        ""
    );
    assert_eq!(
        k.ok(&[
            "get",
            "cm",
            "cfg",
            "-n",
            "team-a",
            "-o",
            "jsonpath={.metadata.annotations.note}"
        ]),
        "hello"
    );

    let gen0 = k.ok(&[
        "get",
        "deploy",
        "web",
        "-n",
        "team-a",
        "-o",
        "jsonpath={.metadata.generation}",
    ]);
    k.ok(&["scale", "deploy", "web", "-n", "team-a", "--replicas=5"]);
    let after = k.ok(&[
        "get",
        "deploy",
        "web",
        "-n",
        "team-a",
        "-o",
        "jsonpath={.spec.replicas} {.metadata.generation}",
    ]);
    let gen0: i64 = gen0.parse().unwrap();
    assert_eq!(after, format!("5 {}", gen0 + 1));

    k.ok(&[
        "patch",
        "cm",
        "cfg",
        "-n",
        "team-a",
        "--type=merge",
        "-p",
        r#"{"data":{"b":"2"}}"#,
    ]);
    k.ok(&["patch", "cm", "cfg", "-n", "team-a", "--type=json", "-p", r#"[{"op":"test","path":"/data/a","value":"1"},{"op":"replace","path":"/data/a","value":"9"}]"#]);
    let err = k.fails(&[
        "patch",
        "cm",
        "cfg",
        "-n",
        "team-a",
        "--type=json",
        "-p",
        r#"[{"op":"test","path":"/data/a","value":"1"}]"#,
    ]);
    assert!(
        err.contains("did not match") || err.contains("test"),
        "{err}"
    );
    k.ok(&[
        "patch",
        "cm",
        "cfg",
        "-n",
        "team-a",
        "--type=strategic",
        "-p",
        r#"{"data":{"c":"3"}}"#,
    ]);
    let data = k.ok(&["get", "cm", "cfg", "-n", "team-a", "-o", "jsonpath={.data}"]);
    let data: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!(data, serde_json::json!({"a": "9", "b": "2", "c": "3"}));
    server.stop();
}

#[test]
fn crd_established_then_custom_resources() {
    let Some((server, k)) = setup("k-crd") else {
        return;
    };
    k.ok_stdin(&["apply", "-f", "-"], CRD);
    k.ok(&[
        "wait",
        "--for=condition=Established",
        "crd/widgets.example.com",
        "--timeout=20s",
    ]);
    k.ok(&["create", "namespace", "team-a"]);
    k.ok_stdin(&["apply", "-f", "-"], "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: team-a}\nspec: {size: 3, replicas: 1}\n");
    let table = k.ok(&["get", "widgets", "-A"]);
    let header = table.lines().next().unwrap_or_default();
    assert!(header.contains("SIZE"), "printer column missing:\n{table}");
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["team-a", "w1", "3"]),
        "{table}"
    );
    assert!(k
        .ok(&["get", "wd", "-n", "team-a", "-o", "name"])
        .contains("widget.example.com/w1"));
    assert!(k
        .ok(&["api-resources", "--api-group=example.com"])
        .contains("widgets"));
    k.ok(&["scale", "widget", "w1", "-n", "team-a", "--replicas=4"]);
    assert_eq!(
        k.ok(&[
            "get",
            "wd",
            "w1",
            "-n",
            "team-a",
            "-o",
            "jsonpath={.spec.replicas}"
        ]),
        "4"
    );
    // Strategic merge patch is refused for custom resources, as kube-apiserver does.
    let err = k.fails(&[
        "patch",
        "wd",
        "w1",
        "-n",
        "team-a",
        "--type=strategic",
        "-p",
        r#"{"spec":{"size":5}}"#,
    ]);
    assert!(
        err.to_lowercase().contains("unsupported")
            || err.contains("415")
            || err.contains("strategic"),
        "{err}"
    );
    k.ok(&["delete", "crd", "widgets.example.com"]);
    assert!(eventually(Duration::from_secs(5), || !k
        .run(&["get", "widgets", "-A"])
        .ok));
    server.stop();
}

#[test]
fn get_watch_receives_events() {
    let Some((server, k)) = setup("k-watch") else {
        return;
    };
    k.ok(&["create", "configmap", "first", "-n", "default"]);
    let mut child = k
        .cmd(&["get", "configmaps", "-n", "default", "-w"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let out = out.clone();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                out.lock().unwrap().push_str(&(line + "\n"));
            }
        })
    };
    // The initial list is printed first; only then is the watch open.
    assert!(
        eventually(Duration::from_secs(20), || out
            .lock()
            .unwrap()
            .contains("first")),
        "no initial list"
    );
    std::thread::sleep(Duration::from_millis(300));
    k.ok(&["create", "configmap", "watched", "-n", "default"]);
    let seen = eventually(Duration::from_secs(20), || {
        out.lock().unwrap().contains("watched")
    });
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    assert!(
        seen,
        "kubectl get -w did not receive the event:\n{}",
        out.lock().unwrap()
    );
    server.stop();
}

#[test]
fn describe_edit_diff_explain_and_wait_for_delete() {
    let Some((server, k)) = setup("k-misc") else {
        return;
    };
    k.ok(&[
        "create",
        "configmap",
        "d1",
        "-n",
        "default",
        "--from-literal=a=b",
    ]);
    let d = k.ok(&["describe", "configmap", "d1", "-n", "default"]);
    assert!(d.contains("Name:") && d.contains("d1"), "{d}");
    // edit through KUBE_EDITOR.
    let o = k
        .cmd(&["edit", "cm", "d1", "-n", "default"])
        .env("KUBE_EDITOR", "sed -i s/a:\\ b/a:\\ edited/")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        k.ok(&[
            "get",
            "cm",
            "d1",
            "-n",
            "default",
            "-o",
            "jsonpath={.data.a}"
        ]),
        "edited"
    );
    // diff: exit 1 with a difference (a server-side dry run underneath), nothing written.
    let changed = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d1, namespace: default}\ndata: {a: changed}\n";
    let o = k.run_stdin(&["diff", "-f", "-"], Some(changed));
    assert!(
        !o.ok && o.stdout.contains("+  a: changed"),
        "{}{}",
        o.stdout,
        o.stderr
    );
    assert!(
        !o.stdout.contains("resourceVersion"),
        "the dry run changed the resourceVersion:\n{}",
        o.stdout
    );
    assert_eq!(
        k.ok(&[
            "get",
            "cm",
            "d1",
            "-n",
            "default",
            "-o",
            "jsonpath={.data.a}"
        ]),
        "edited"
    );
    let e = k.ok(&["explain", "deployment.spec.replicas"]);
    assert!(e.contains("replicas"), "{e}");
    let waiter = k
        .cmd(&[
            "wait",
            "--for=delete",
            "cm/d1",
            "-n",
            "default",
            "--timeout=20s",
        ])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    k.ok(&["delete", "cm", "d1", "-n", "default", "--wait=false"]);
    let status = waiter.wait_with_output().unwrap().status;
    assert!(status.success());
    server.stop();
}

fn owned_configmap(name: &str, owner_uid: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: team-a\n  ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: web, uid: {owner_uid}}}]\n"
    )
}

#[test]
fn delete_with_each_cascade_and_namespace_deletion() {
    let Some((server, k)) = setup("k-delete") else {
        return;
    };
    k.ok(&["create", "namespace", "team-a"]);
    let exists = |name: &str| k.run(&["get", "cm", name, "-n", "team-a"]).ok;
    for (cascade, dependent_survives) in [
        ("orphan", true),
        ("background", false),
        ("foreground", false),
    ] {
        k.ok_stdin(&["apply", "-f", "-"], DEPLOYMENT);
        let uid = k.ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "team-a",
            "-o",
            "jsonpath={.metadata.uid}",
        ]);
        let dep = format!("dep-{cascade}");
        k.ok_stdin(&["apply", "-f", "-"], &owned_configmap(&dep, &uid));
        k.ok(&[
            "delete",
            "deploy",
            "web",
            "-n",
            "team-a",
            &format!("--cascade={cascade}"),
        ]);
        assert!(
            !k.run(&["get", "deploy", "web", "-n", "team-a"]).ok,
            "{cascade}: owner still there"
        );
        if dependent_survives {
            assert!(exists(&dep), "orphan: the dependent was deleted");
            let refs = k.ok(&[
                "get",
                "cm",
                &dep,
                "-n",
                "team-a",
                "-o",
                "jsonpath={.metadata.ownerReferences}",
            ]);
            assert!(
                refs.trim().is_empty(),
                "orphan: ownerReferences kept: {refs}"
            );
        } else {
            assert!(
                eventually(Duration::from_secs(5), || !exists(&dep)),
                "{cascade}: the dependent survived"
            );
        }
    }
    // A finalizer holds deletion until it is removed.
    k.ok_stdin(&["apply", "-f", "-"], "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, namespace: team-a, finalizers: [example.com/hold]}\n");
    k.ok(&["delete", "cm", "held", "-n", "team-a", "--wait=false"]);
    let ts = k.ok(&[
        "get",
        "cm",
        "held",
        "-n",
        "team-a",
        "-o",
        "jsonpath={.metadata.deletionTimestamp}",
    ]);
    assert!(!ts.is_empty(), "no deletionTimestamp");
    k.ok(&[
        "patch",
        "cm",
        "held",
        "-n",
        "team-a",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    assert!(eventually(Duration::from_secs(5), || !exists("held")));

    k.ok(&["create", "configmap", "inside", "-n", "team-a"]);
    k.ok(&["delete", "namespace", "team-a", "--timeout=20s"]);
    assert!(!k.run(&["get", "namespace", "team-a"]).ok);
    assert!(k
        .ok(&["get", "configmaps", "-A", "-o", "name"])
        .trim()
        .is_empty());
    server.stop();
}

#[test]
fn server_side_apply_and_dry_run() {
    let Some((server, k)) = setup("k-ssa") else {
        return;
    };
    k.ok(&["create", "namespace", "team-a"]);
    let out = k.ok_stdin(
        &["apply", "--server-side", "--field-manager=alice", "-f", "-"],
        DEPLOYMENT,
    );
    assert!(out.contains("serverside-applied"), "{out}");
    let out = k.ok_stdin(
        &["apply", "--server-side", "--field-manager=alice", "-f", "-"],
        &DEPLOYMENT.replace("replicas: 2", "replicas: 3"),
    );
    assert!(out.contains("serverside-applied"), "{out}");
    assert_eq!(
        k.ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "team-a",
            "-o",
            "jsonpath={.spec.replicas}"
        ]),
        "3"
    );
    let managers = k.ok(&[
        "get",
        "deploy",
        "web",
        "-n",
        "team-a",
        "--show-managed-fields",
        "-o",
        "jsonpath={.metadata.managedFields[*].manager}",
    ]);
    assert!(managers.contains("alice"), "{managers}");
    // dryRun=All writes nothing.
    k.ok(&[
        "create",
        "configmap",
        "dry",
        "-n",
        "team-a",
        "--dry-run=server",
    ]);
    assert!(!k.run(&["get", "cm", "dry", "-n", "team-a"]).ok);
    let o = k.run_stdin(
        &["apply", "--server-side", "--field-manager=bob", "-f", "-"],
        Some(&DEPLOYMENT.replace("replicas: 2", "replicas: 7")),
    );
    assert!(
        !o.ok && o.stderr.contains("conflict"),
        "expected a conflict: {}{}",
        o.stdout,
        o.stderr
    );
    k.ok_stdin(
        &[
            "apply",
            "--server-side",
            "--field-manager=bob",
            "--force-conflicts",
            "-f",
            "-",
        ],
        &DEPLOYMENT.replace("replicas: 2", "replicas: 7"),
    );
    assert_eq!(
        k.ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "team-a",
            "-o",
            "jsonpath={.spec.replicas}"
        ]),
        "7"
    );
    server.stop();
}

#[test]
fn delete_pods_with_grace_periods() {
    let Some((server, k)) = setup("k-grace") else {
        return;
    };
    let pod = |name: &str| {
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  nodeName: node-1\n  containers: [{{name: c, image: nginx:1.27}}]\n")
    };
    let gone = |name: &str| !k.run(&["get", "pod", name]).ok;
    // kubectl waits for the Pod to go, which is once the period is over.
    k.ok_stdin(&["apply", "-f", "-"], &pod("slow"));
    let t = std::time::Instant::now();
    k.ok(&["delete", "pod", "slow", "--grace-period=2"]);
    assert!(
        t.elapsed() >= Duration::from_millis(1500),
        "removed before its grace period: {:?}",
        t.elapsed()
    );
    assert!(gone("slow"));
    // --force --grace-period=0 removes it at once.
    k.ok_stdin(&["apply", "-f", "-"], &pod("forced"));
    k.ok(&[
        "delete",
        "pod",
        "forced",
        "--force",
        "--grace-period=0",
        "--wait=false",
    ]);
    assert!(gone("forced"));
    // The default period (30 s) shows; --now (1 s) shortens it.
    k.ok_stdin(&["apply", "-f", "-"], &pod("default"));
    k.ok(&["delete", "pod", "default", "--wait=false"]);
    let grace = k.ok(&[
        "get",
        "pod",
        "default",
        "-o",
        "jsonpath={.metadata.deletionGracePeriodSeconds}",
    ]);
    assert_eq!(grace, "30");
    k.ok(&["delete", "pod", "default", "--now", "--wait=false"]);
    assert!(eventually(Duration::from_secs(5), || gone("default")));
    server.stop();
}
