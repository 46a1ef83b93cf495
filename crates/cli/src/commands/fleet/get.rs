//! `flotilla get sources git|kustomizations|clusters`: status tables like `flux get`.
use std::process::ExitCode;

use anyhow::Result;
use flotilla_model::capi::ClusterStatus;
use flotilla_model::flux::{GitRepositoryStatus, KustomizationStatus};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject, ListParams};

use super::kinds::{self, Kind, CLUSTER, GIT_REPOSITORY, KUSTOMIZATION};
use super::{table, GetArgs, GetWhat};

pub(super) async fn run(args: GetArgs) -> Result<ExitCode> {
    let client = super::client(&args.kube).await?;
    let kind = match args.what {
        GetWhat::Sources { .. } => GIT_REPOSITORY,
        GetWhat::Kustomizations => KUSTOMIZATION,
        GetWhat::Clusters => CLUSTER,
    };
    let namespace = args.kube.namespace.as_str();
    let api = if args.all_namespaces {
        kind.api_all(&client)
    } else {
        kind.api(&client, namespace)
    };
    let mut objects = api
        .list(&ListParams::default())
        .await
        .map_err(|e| kind.error(e, None, namespace))?
        .items;
    if objects.is_empty() {
        if args.all_namespaces {
            eprintln!("✗ no {} objects found in any namespace", kind.kind);
        } else {
            eprintln!("✗ no {} objects found in {namespace} namespace", kind.kind);
        }
        return Ok(ExitCode::SUCCESS);
    }
    objects.sort_by(|a, b| {
        (kinds::namespace(a), kinds::name(a)).cmp(&(kinds::namespace(b), kinds::name(b)))
    });
    let (header, mut rows) = match args.what {
        GetWhat::Clusters => clusters(&client, &objects).await,
        _ => (
            vec!["NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE"],
            objects.iter().map(|o| flux_row(kind, o)).collect(),
        ),
    };
    let mut header = header;
    if args.all_namespaces {
        header.insert(0, "NAMESPACE");
        for (row, obj) in rows.iter_mut().zip(&objects) {
            row.insert(0, kinds::namespace(obj).to_string());
        }
    }
    let header = (!args.no_header).then_some(header.as_slice());
    print!("{}", table::render(header, &rows));
    Ok(ExitCode::SUCCESS)
}

/// NAME, REVISION, SUSPENDED, READY, MESSAGE of a GitRepository or Kustomization.
fn flux_row(kind: Kind, obj: &DynamicObject) -> Vec<String> {
    let revision = if kind.kind == KUSTOMIZATION.kind {
        kinds::status::<KustomizationStatus>(obj).and_then(|s| s.last_applied_revision)
    } else {
        kinds::status::<GitRepositoryStatus>(obj).and_then(|s| s.artifact.map(|a| a.revision))
    };
    let (ready, message) = kinds::ready(&kinds::conditions(obj));
    vec![
        kinds::name(obj).to_string(),
        revision.unwrap_or_default(),
        kinds::suspended(obj).to_string(),
        ready,
        message,
    ]
}

/// NAME, PHASE, AGE, READY, KUBECONFIG (the `<name>-kubeconfig` Secret, `-` while it does
/// not exist), MESSAGE of Cluster API Clusters.
async fn clusters(
    client: &kube::Client,
    objects: &[DynamicObject],
) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let mut rows = Vec::new();
    for obj in objects {
        let status = kinds::status::<ClusterStatus>(obj);
        let conditions = kinds::conditions(obj);
        let (ready, mut message) = match conditions.iter().find(|c| c.type_ == "Ready") {
            Some(c) => (c.status.clone(), c.message.clone()),
            None => {
                let both = status
                    .as_ref()
                    .is_some_and(|s| s.infrastructure_ready && s.control_plane_ready);
                let ready = if both { "True" } else { "False" };
                (ready.to_string(), String::new())
            }
        };
        if let Some(failure) = status.as_ref().and_then(|s| s.failure_message.clone()) {
            message = failure;
        }
        let secret_name = format!("{}-kubeconfig", kinds::name(obj));
        let secrets: Api<Secret> = Api::namespaced(client.clone(), kinds::namespace(obj));
        let kubeconfig = match secrets.get_opt(&secret_name).await {
            Ok(Some(_)) => secret_name,
            Ok(None) => "-".to_string(),
            Err(e) => {
                tracing::debug!(error = %e, secret = %secret_name, "cannot read the kubeconfig Secret");
                "?".to_string()
            }
        };
        let created = obj
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string());
        rows.push(vec![
            kinds::name(obj).to_string(),
            status
                .and_then(|s| s.phase)
                .unwrap_or_else(|| "Pending".to_string()),
            super::age(created.as_deref()),
            ready,
            kubeconfig,
            message,
        ]);
    }
    let header = vec!["NAME", "PHASE", "AGE", "READY", "KUBECONFIG", "MESSAGE"];
    (header, rows)
}
