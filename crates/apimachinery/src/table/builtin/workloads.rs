//! Printers of the workload kinds: Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
//! CronJob.
use serde_json::{json, Value};

use super::*;
use crate::table::{age, col, name_of, Col, NAME};

pub(super) const POD: &[Col] = &[
    NAME,
    col("Ready", "string", 0),
    col("Status", "string", 0),
    col("Restarts", "string", 0),
    col("Age", "string", 0),
    col("IP", "string", 1),
    col("Node", "string", 1),
    col("Nominated Node", "string", 1),
    col("Readiness Gates", "string", 1),
];

pub(super) fn pod(o: &Value, now: i64) -> Vec<Value> {
    let total = arr(o, "/spec/containers").len();
    let mut reason = s(o, "/status/phase").to_string();
    if reason.is_empty() {
        reason = "Pending".into();
    }
    if !s(o, "/status/reason").is_empty() {
        reason = s(o, "/status/reason").to_string();
    }
    let (mut ready, mut restarts, mut running) = (0, 0, false);
    for c in arr(o, "/status/containerStatuses").iter().rev() {
        restarts += c["restartCount"].as_i64().unwrap_or(0);
        let st = &c["state"];
        if let Some(r) = st
            .pointer("/waiting/reason")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
        {
            reason = r.to_string();
        } else if let Some(t) = st.get("terminated") {
            reason = match t["reason"].as_str().filter(|r| !r.is_empty()) {
                Some(r) => r.to_string(),
                None => match t["signal"].as_i64().filter(|s| *s != 0) {
                    Some(sig) => format!("Signal:{sig}"),
                    None => format!("ExitCode:{}", t["exitCode"].as_i64().unwrap_or(0)),
                },
            };
        } else if c["ready"].as_bool() == Some(true) && st.get("running").is_some() {
            running = true;
            ready += 1;
        }
    }
    if reason == "Completed" && running {
        reason = "Running".into();
    }
    if o.pointer("/metadata/deletionTimestamp").is_some() {
        reason = if s(o, "/status/reason") == "NodeLost" {
            "Unknown"
        } else {
            "Terminating"
        }
        .into();
    }
    let gates = arr(o, "/spec/readinessGates");
    let gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let conds = arr(o, "/status/conditions");
        let ok = gates
            .iter()
            .filter(|g| {
                conds
                    .iter()
                    .any(|c| c["type"] == g["conditionType"] && c["status"] == "True")
            })
            .count();
        format!("{ok}/{}", gates.len())
    };
    vec![
        json!(name_of(o)),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts.to_string()),
        created(o, now),
        json!(or_none(s(o, "/status/podIP").into())),
        json!(or_none(s(o, "/spec/nodeName").into())),
        json!(or_none(s(o, "/status/nominatedNodeName").into())),
        json!(gates),
    ]
}

pub(super) const WIDE3: [Col; 3] = [
    col("Containers", "string", 1),
    col("Images", "string", 1),
    col("Selector", "string", 1),
];

pub(super) const DEPLOYMENT: &[Col] = &[
    NAME,
    col("Ready", "string", 0),
    col("Up-to-date", "string", 0),
    col("Available", "string", 0),
    col("Age", "string", 0),
    WIDE3[0],
    WIDE3[1],
    WIDE3[2],
];

pub(super) fn wide3(o: &Value) -> [Value; 3] {
    let (c, im) = containers_images(o, "/spec/template/spec/containers");
    [c, im, json!(label_selector(o.pointer("/spec/selector")))]
}

pub(super) fn deployment(o: &Value, now: i64) -> Vec<Value> {
    let desired = o
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let [c, im, sel] = wide3(o);
    vec![
        json!(name_of(o)),
        json!(format!("{}/{desired}", i(o, "/status/readyReplicas"))),
        json!(i(o, "/status/updatedReplicas")),
        json!(i(o, "/status/availableReplicas")),
        created(o, now),
        c,
        im,
        sel,
    ]
}

pub(super) const REPLICASET: &[Col] = &[
    NAME,
    col("Desired", "integer", 0),
    col("Current", "integer", 0),
    col("Ready", "integer", 0),
    col("Age", "string", 0),
    WIDE3[0],
    WIDE3[1],
    WIDE3[2],
];

pub(super) fn replicaset(o: &Value, now: i64) -> Vec<Value> {
    let [c, im, sel] = wide3(o);
    vec![
        json!(name_of(o)),
        json!(o
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1)),
        json!(i(o, "/status/replicas")),
        json!(i(o, "/status/readyReplicas")),
        created(o, now),
        c,
        im,
        sel,
    ]
}

pub(super) const STATEFULSET: &[Col] = &[
    NAME,
    col("Ready", "string", 0),
    col("Age", "string", 0),
    WIDE3[0],
    WIDE3[1],
];

pub(super) fn statefulset(o: &Value, now: i64) -> Vec<Value> {
    let [c, im, _] = wide3(o);
    let desired = o
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    vec![
        json!(name_of(o)),
        json!(format!("{}/{desired}", i(o, "/status/readyReplicas"))),
        created(o, now),
        c,
        im,
    ]
}

pub(super) const DAEMONSET: &[Col] = &[
    NAME,
    col("Desired", "integer", 0),
    col("Current", "integer", 0),
    col("Ready", "integer", 0),
    col("Up-to-date", "integer", 0),
    col("Available", "integer", 0),
    col("Node Selector", "string", 0),
    col("Age", "string", 0),
    WIDE3[0],
    WIDE3[1],
    WIDE3[2],
];

pub(super) fn daemonset(o: &Value, now: i64) -> Vec<Value> {
    let [c, im, sel] = wide3(o);
    vec![
        json!(name_of(o)),
        json!(i(o, "/status/desiredNumberScheduled")),
        json!(i(o, "/status/currentNumberScheduled")),
        json!(i(o, "/status/numberReady")),
        json!(i(o, "/status/updatedNumberScheduled")),
        json!(i(o, "/status/numberAvailable")),
        json!(or_none(map_selector(
            o.pointer("/spec/template/spec/nodeSelector")
        ))),
        created(o, now),
        c,
        im,
        sel,
    ]
}

pub(super) const JOB: &[Col] = &[
    NAME,
    col("Status", "string", 0),
    col("Completions", "string", 0),
    col("Duration", "string", 0),
    col("Age", "string", 0),
    WIDE3[0],
    WIDE3[1],
    WIDE3[2],
];

pub(super) fn job(o: &Value, now: i64) -> Vec<Value> {
    let cond = |t: &str| {
        arr(o, "/status/conditions")
            .iter()
            .any(|c| c["type"] == t && c["status"] == "True")
    };
    let status = if cond("Failed") {
        "Failed"
    } else if cond("Complete") {
        "Complete"
    } else if o.pointer("/metadata/deletionTimestamp").is_some() {
        "Terminating"
    } else if cond("FailureTarget") {
        "FailureTarget"
    } else if cond("SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else if cond("Suspended") {
        "Suspended"
    } else {
        "Running"
    };
    let succeeded = i(o, "/status/succeeded");
    let completions = match o.pointer("/spec/completions").and_then(Value::as_i64) {
        Some(c) => format!("{succeeded}/{c}"),
        None => match o.pointer("/spec/parallelism").and_then(Value::as_i64) {
            Some(p) if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let start = o
        .pointer("/status/startTime")
        .and_then(Value::as_str)
        .and_then(crate::time::parse_rfc3339);
    let end = o
        .pointer("/status/completionTime")
        .and_then(Value::as_str)
        .and_then(crate::time::parse_rfc3339);
    let duration = match (start, end) {
        (None, _) => String::new(),
        (Some(st), None) => crate::time::human_duration(now - st),
        (Some(st), Some(en)) => crate::time::human_duration(en - st),
    };
    let [c, im, sel] = wide3(o);
    vec![
        json!(name_of(o)),
        json!(status),
        json!(completions),
        json!(duration),
        created(o, now),
        c,
        im,
        sel,
    ]
}

pub(super) const CRONJOB: &[Col] = &[
    NAME,
    col("Schedule", "string", 0),
    col("Timezone", "string", 0),
    col("Suspend", "boolean", 0),
    col("Active", "integer", 0),
    col("Last Schedule", "string", 0),
    col("Age", "string", 0),
    WIDE3[0],
    WIDE3[1],
    WIDE3[2],
];

pub(super) fn cronjob(o: &Value, now: i64) -> Vec<Value> {
    let last = match o.pointer("/status/lastScheduleTime") {
        Some(t) => age(Some(t), now),
        None => "<none>".into(),
    };
    let (c, im) = containers_images(o, "/spec/jobTemplate/spec/template/spec/containers");
    let suspend = match o.pointer("/spec/suspend").and_then(Value::as_bool) {
        Some(true) => "True",
        _ => "False",
    };
    vec![
        json!(name_of(o)),
        json!(s(o, "/spec/schedule")),
        json!(or_none(s(o, "/spec/timeZone").into())),
        json!(suspend),
        json!(len(o, "/status/active")),
        json!(last),
        created(o, now),
        c,
        im,
        json!(label_selector(o.pointer("/spec/jobTemplate/spec/selector"))),
    ]
}
