//! `kubectl create <generator>`: every generator kubectl 1.32 offers sends its object as
//! protobuf (`application/vnd.kubernetes.protobuf`). Each is run twice: with
//! `--dry-run=client -o json`, which prints the object kubectl builds, and for real; what the
//! server stored must contain every field kubectl set. `kubectl autoscale` is covered too.
//! Not covered: `kubectl create token`, a TokenRequest on `serviceaccounts/<name>/token`, a
//! subresource this server does not serve (it issues no service-account tokens).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{kubectl_path, start, Kubectl};
use serde_json::Value;

/// Whether `actual` holds everything `expected` sets (empty and null values are what JSON
/// omits and protobuf cannot tell apart, so they are not required).
fn contains(expected: &Value, actual: &Value, path: &str, errs: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                if is_empty(v) {
                    continue;
                }
                let p = format!("{path}.{k}");
                match a.get(k) {
                    Some(av) => contains(v, av, &p, errs),
                    None => errs.push(format!("{p} missing (want {v})")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                contains(ev, av, &format!("{path}[{i}]"), errs);
            }
        }
        (e, a) if e == a => {}
        (e, a) => errs.push(format!("{path}: want {e}, got {a}")),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.values().all(is_empty),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// `args` with `flags` added before `--` (after which the words are a container's command).
fn with_flags<'a>(args: &[&'a str], flags: &[&'a str]) -> Vec<&'a str> {
    let mut out = args.to_vec();
    let at = out.iter().position(|a| *a == "--").unwrap_or(out.len());
    out.splice(at..at, flags.iter().copied());
    out
}

/// Runs one generator for real and checks the stored object against kubectl's own.
fn generate(k: &Kubectl, args: &[&str]) {
    let dry = with_flags(args, &["--dry-run=client", "-o", "json"]);
    let mut expected: Value = serde_json::from_str(&k.ok(&dry)).unwrap();
    if let Some(o) = expected.as_object_mut() {
        o.remove("status");
    }
    let real = with_flags(args, &["-o", "name"]);
    let out = k.run(&real);
    assert!(
        out.ok,
        "kubectl {args:?} failed (the protobuf body was refused?):\n{}",
        out.stderr
    );
    let name = out.stdout.trim().to_string();
    let mut get = vec!["get", name.as_str(), "-o", "json"];
    if let Some(ns) = expected
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
    {
        get.extend(["-n", ns]);
    } else if let Some(i) = args.iter().position(|a| *a == "-n") {
        get.extend(["-n", args[i + 1]]);
    }
    let stored: Value = serde_json::from_str(&k.ok(&get)).unwrap();
    let mut errs = Vec::new();
    contains(&expected, &stored, "", &mut errs);
    assert!(
        errs.is_empty(),
        "kubectl {args:?}: the stored object differs from kubectl's:\n{}\nstored: {stored:#}",
        errs.join("\n")
    );
}

#[test]
fn every_create_generator_round_trips_through_protobuf() {
    let Some(bin) = kubectl_path() else {
        return;
    };
    let server = start("k-create");
    let k = Kubectl::new(bin, &server.handle.kubeconfig);
    let (crt, key) = (server.dir.join("tls.crt"), server.dir.join("tls.key"));
    let (crt, key) = (crt.to_str().unwrap(), key.to_str().unwrap());
    let cert_arg = format!("--cert={crt}");
    let key_arg = format!("--key={key}");
    let ns = ["-n", "team-a"];
    let mut cases: Vec<Vec<&str>> = vec![
        vec!["create", "namespace", "team-a"],
        vec![
            "create",
            "configmap",
            "cm",
            "--from-literal=a=1",
            "--from-literal=b=two",
        ],
        vec![
            "create",
            "secret",
            "generic",
            "generic",
            "--from-literal=user=admin",
            "--type=Opaque",
        ],
        vec![
            "create",
            "secret",
            "docker-registry",
            "registry",
            "--docker-server=registry.example.com",
            "--docker-username=u",
            "--docker-password=p",
            "--docker-email=u@example.com",
        ],
        vec!["create", "secret", "tls", "tls", &cert_arg, &key_arg],
        vec!["create", "serviceaccount", "robot"],
        vec![
            "create",
            "deployment",
            "web",
            "--image=nginx:1.27",
            "--replicas=3",
            "--port=8080",
        ],
        vec![
            "create",
            "deployment",
            "multi",
            "--image=nginx:1.27",
            "--image=busybox:1.36",
        ],
        vec![
            "create",
            "deployment",
            "cmd",
            "--image=busybox:1.36",
            "--",
            "sleep",
            "1d",
        ],
        vec![
            "create",
            "service",
            "clusterip",
            "svc",
            "--tcp=5678:8080",
            "--tcp=80:http",
        ],
        vec![
            "create",
            "service",
            "clusterip",
            "headless",
            "--clusterip=None",
        ],
        vec![
            "create",
            "service",
            "nodeport",
            "np",
            "--tcp=5678:8080",
            "--node-port=30080",
        ],
        vec!["create", "service", "loadbalancer", "lb", "--tcp=443:8443"],
        vec![
            "create",
            "service",
            "externalname",
            "ext",
            "--external-name=db.example.com",
            "--tcp=5432",
        ],
        vec![
            "create",
            "job",
            "job",
            "--image=busybox:1.36",
            "--",
            "echo",
            "hi",
        ],
        vec![
            "create",
            "cronjob",
            "cron",
            "--image=busybox:1.36",
            "--schedule=*/5 * * * *",
            "--restart=OnFailure",
            "--",
            "date",
        ],
        vec!["create", "job", "from-cron", "--from=cronjob/cron"],
        vec![
            "create",
            "ingress",
            "ing",
            "--class=default",
            "--rule=foo.com/bar*=svc1:8080,tls=my-cert",
            "--rule=bar.com/=svc2:http",
            "--default-backend=defsvc:80",
            "--annotation=team=a",
        ],
        vec![
            "create",
            "poddisruptionbudget",
            "pdb-min",
            "--selector=app=web",
            "--min-available=50%",
        ],
        vec![
            "create",
            "poddisruptionbudget",
            "pdb-max",
            "--selector=app=web",
            "--max-unavailable=1",
        ],
        vec![
            "create",
            "priorityclass",
            "high",
            "--value=1000",
            "--description=high",
            "--preemption-policy=Never",
        ],
        vec![
            "create",
            "priorityclass",
            "default-pc",
            "--value=0",
            "--global-default",
        ],
        vec![
            "create",
            "quota",
            "quota",
            "--hard=cpu=1,memory=1G,pods=2,services.nodeports=0",
            "--scopes=BestEffort",
        ],
        vec![
            "create",
            "role",
            "reader",
            "--verb=get",
            "--verb=list",
            "--resource=pods",
            "--resource=deployments.apps",
            "--resource-name=web",
        ],
        vec![
            "create",
            "clusterrole",
            "logs",
            "--verb=get",
            "--non-resource-url=/logs/*",
        ],
        vec![
            "create",
            "clusterrole",
            "nodes",
            "--verb=list",
            "--resource=nodes",
        ],
        vec![
            "create",
            "clusterrole",
            "aggregate",
            "--aggregation-rule=rbac.example.com/aggregate=true",
        ],
        vec![
            "create",
            "rolebinding",
            "rb",
            "--role=reader",
            "--user=alice",
            "--group=devs",
            "--serviceaccount=team-a:robot",
        ],
        vec![
            "create",
            "rolebinding",
            "rb-cluster",
            "--clusterrole=nodes",
            "--user=carol",
        ],
        vec![
            "create",
            "clusterrolebinding",
            "crb",
            "--clusterrole=nodes",
            "--user=bob",
            "--serviceaccount=team-a:robot",
        ],
    ];
    // Not a `create` generator, but a typed command sending protobuf too.
    cases.push(vec![
        "autoscale",
        "deployment",
        "web",
        "--min=2",
        "--max=5",
        "--cpu-percent=80",
    ]);
    for (i, case) in cases.iter().enumerate() {
        let mut args = case.clone();
        // Namespaced generators run in team-a (created by the first case).
        let cluster_scoped = [
            "namespace",
            "priorityclass",
            "clusterrole",
            "clusterrolebinding",
        ];
        if i > 0 && !cluster_scoped.contains(&args[1]) {
            args = with_flags(&args, &ns);
        }
        generate(&k, &args);
    }
    server.stop();
}
