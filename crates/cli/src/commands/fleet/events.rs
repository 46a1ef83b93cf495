//! `flotilla events`: the events of a namespace (or all, or one object's with `--for`), oldest
//! first, as `flux events` prints them: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE.
//!
//! Both APIs are read — core/v1 Events and events.k8s.io/v1 Events — and merged by uid, since
//! a recorder may write either (kube-apiserver serves the same objects through both).
use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use flotilla_model::flux::KustomizationSpec;
use k8s_openapi::api::core::v1::Event as CoreEvent;
use k8s_openapi::api::events::v1::Event as NewEvent;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};

use super::kinds::{GIT_REPOSITORY, KUSTOMIZATION};
use super::{table, EventsArgs};

/// One event, whichever API it came from.
#[derive(Debug)]
struct Row {
    uid: String,
    namespace: String,
    /// Unix seconds of the last occurrence.
    last_seen: i64,
    type_: String,
    reason: String,
    kind: String,
    name: String,
    message: String,
}

pub(super) async fn run(args: EventsArgs) -> Result<ExitCode> {
    let client = super::client(&args.kube).await?;
    let namespace = args.kube.namespace.as_str();
    let wanted = match &args.for_object {
        Some(spec) => Some(targets(&client, spec, namespace).await?),
        None => None,
    };
    let mut rows = core_events(&client, args.all_namespaces, namespace).await?;
    let mut uids: BTreeSet<String> = rows.iter().map(|r| r.uid.clone()).collect();
    for row in new_events(&client, args.all_namespaces, namespace).await {
        if row.uid.is_empty() || uids.insert(row.uid.clone()) {
            rows.push(row);
        }
    }
    if let Some(wanted) = &wanted {
        rows.retain(|r| {
            wanted.iter().any(|(kind, name, ns)| {
                r.kind.eq_ignore_ascii_case(kind) && &r.name == name && &r.namespace == ns
            })
        });
    }
    if rows.is_empty() {
        match (&args.for_object, args.all_namespaces) {
            (Some(o), _) => eprintln!("✗ no events found for {o} in {namespace} namespace"),
            (None, true) => eprintln!("✗ no events found in any namespace"),
            (None, false) => eprintln!("✗ no events found in {namespace} namespace"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    rows.sort_by(|a, b| (a.last_seen, &a.namespace).cmp(&(b.last_seen, &b.namespace)));
    let now = flotilla_apimachinery::time::now_secs();
    let mut header = vec!["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"];
    if args.all_namespaces {
        header.insert(0, "NAMESPACE");
    }
    let lines: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            let mut line = vec![
                flotilla_apimachinery::time::human_duration(now - r.last_seen),
                r.type_,
                r.reason,
                format!("{}/{}", r.kind, r.name),
                r.message.trim_end().to_string(),
            ];
            if args.all_namespaces {
                line.insert(0, r.namespace);
            }
            line
        })
        .collect();
    print!("{}", table::render(Some(&header), &lines));
    Ok(ExitCode::SUCCESS)
}

/// The objects `--for Kind/name` selects: the object, and for a Kustomization its source.
async fn targets(
    client: &kube::Client,
    spec: &str,
    namespace: &str,
) -> Result<Vec<(String, String, String)>> {
    let Some((kind, name)) = spec
        .split_once('/')
        .filter(|(k, n)| !k.is_empty() && !n.is_empty())
    else {
        bail!("--for '{spec}': expected Kind/name, e.g. Kustomization/apps");
    };
    let mut out = vec![(kind.to_string(), name.to_string(), namespace.to_string())];
    if kind.eq_ignore_ascii_case(KUSTOMIZATION.kind) || kind.eq_ignore_ascii_case("ks") {
        out[0].0 = KUSTOMIZATION.kind.to_string();
        match KUSTOMIZATION.api(client, namespace).get_opt(name).await {
            Ok(Some(obj)) => {
                let spec: Option<KustomizationSpec> = obj
                    .data
                    .get("spec")
                    .and_then(|s| serde_json::from_value(s.clone()).ok());
                if let Some(source) = spec.map(|s| s.source_ref) {
                    let ns = source.namespace.unwrap_or_else(|| namespace.to_string());
                    out.push((source.kind, source.name, ns));
                }
            }
            Ok(None) => {}
            Err(e) => tracing::debug!(error = %e, "cannot read the Kustomization's source"),
        }
    } else if kind.eq_ignore_ascii_case("gitrepo") {
        out[0].0 = GIT_REPOSITORY.kind.to_string();
    }
    Ok(out)
}

fn seconds(t: Option<&Timestamp>) -> Option<i64> {
    t.map(|t| t.as_second())
}

async fn core_events(client: &kube::Client, all: bool, namespace: &str) -> Result<Vec<Row>> {
    let api: Api<CoreEvent> = if all {
        Api::all(client.clone())
    } else {
        Api::namespaced(client.clone(), namespace)
    };
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| match &e {
            kube::Error::Api(status) => {
                anyhow!("listing events: {} ({})", status.message, status.code)
            }
            _ => super::transport_error(&e, "listing events"),
        })?;
    Ok(list
        .items
        .into_iter()
        .map(|e| {
            let last_seen = seconds(
                e.series
                    .as_ref()
                    .and_then(|s| s.last_observed_time.as_ref())
                    .map(|t| &t.0),
            )
            .or_else(|| seconds(e.last_timestamp.as_ref().map(|t| &t.0)))
            .or_else(|| seconds(e.event_time.as_ref().map(|t| &t.0)))
            .or_else(|| seconds(e.first_timestamp.as_ref().map(|t| &t.0)))
            .or_else(|| seconds(e.metadata.creation_timestamp.as_ref().map(|t| &t.0)))
            .unwrap_or(0);
            Row {
                uid: e.metadata.uid.unwrap_or_default(),
                namespace: e.metadata.namespace.unwrap_or_default(),
                last_seen,
                type_: e.type_.unwrap_or_default(),
                reason: e.reason.unwrap_or_default(),
                kind: e.involved_object.kind.unwrap_or_default(),
                name: e.involved_object.name.unwrap_or_default(),
                message: e.message.unwrap_or_default(),
            }
        })
        .collect())
}

/// events.k8s.io/v1 Events; none when the API is not served.
async fn new_events(client: &kube::Client, all: bool, namespace: &str) -> Vec<Row> {
    let api: Api<NewEvent> = if all {
        Api::all(client.clone())
    } else {
        Api::namespaced(client.clone(), namespace)
    };
    let list = match api.list(&ListParams::default()).await {
        Ok(list) => list,
        Err(e) => {
            tracing::debug!(error = %e, "events.k8s.io/v1 not readable");
            return Vec::new();
        }
    };
    list.items
        .into_iter()
        .map(|e| {
            let last_seen = seconds(e.series.as_ref().map(|s| &s.last_observed_time.0))
                .or_else(|| seconds(e.deprecated_last_timestamp.as_ref().map(|t| &t.0)))
                .or_else(|| seconds(e.event_time.as_ref().map(|t| &t.0)))
                .or_else(|| seconds(e.metadata.creation_timestamp.as_ref().map(|t| &t.0)))
                .unwrap_or(0);
            let regarding = e.regarding.unwrap_or_default();
            Row {
                uid: e.metadata.uid.unwrap_or_default(),
                namespace: e.metadata.namespace.unwrap_or_default(),
                last_seen,
                type_: e.type_.unwrap_or_default(),
                reason: e.reason.unwrap_or_default(),
                kind: regarding.kind.unwrap_or_default(),
                name: regarding.name.unwrap_or_default(),
                message: e.note.unwrap_or_default(),
            }
        })
        .collect()
}
