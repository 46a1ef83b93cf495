//! Installing the CRDs of every API the controllers serve (what `flotilla install` prints)
//! into the cluster they run against, waiting until each is Established.
use flotilla_apply::{Applier, ApplyOptions};
use flotilla_model::crds::{install_set, InstallOptions};

use crate::error::ControllerError;

/// Applies the CRDs (with the schema-less simulated provider kinds when
/// `simulate_infrastructure`) with server-side apply; answers how many were written.
pub async fn crds(
    client: &kube::Client,
    simulate_infrastructure: bool,
) -> Result<usize, ControllerError> {
    let set = install_set(&InstallOptions {
        simulate_infrastructure,
        only: None,
    })
    .map_err(|e| ControllerError::Other(format!("building the CRDs: {e}")))?;
    let applier = Applier::new(client.clone());
    let opts = ApplyOptions {
        field_manager: "flotilla-install".into(),
        ..ApplyOptions::default()
    };
    let changes = applier
        .apply_staged(set, &opts)
        .await
        .map_err(|e| ControllerError::Other(format!("installing the CRDs: {e}")))?;
    Ok(changes
        .changes
        .iter()
        .filter(|c| c.action.is_write())
        .count())
}
