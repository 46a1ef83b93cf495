//! Reading the Secrets and ConfigMaps that specs point at (credentials, SOPS keys,
//! kubeconfigs, substitution variables). Values are never logged.
use std::collections::BTreeMap;

use base64::Engine;
use kube::api::{Api, DynamicObject};
use serde_json::Value;

use crate::error::{is_not_found, ControllerError};

/// A Secret's `data` (decoded) merged with its `stringData`; `None` when it does not exist.
pub async fn secret_data(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Option<BTreeMap<String, Vec<u8>>>, ControllerError> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &crate::resources::secret());
    let obj = match api.get(name).await {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => {
            return Err(ControllerError::kube(
                format!("reading Secret '{namespace}/{name}'"),
                e,
            ))
        }
    };
    let mut out = BTreeMap::new();
    if let Some(Value::Object(data)) = obj.data.get("data") {
        for (k, v) in data {
            let text = v.as_str().unwrap_or_default();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| {
                    ControllerError::InvalidSpec(format!(
                        "Secret '{namespace}/{name}': key '{k}' is not base64"
                    ))
                })?;
            out.insert(k.clone(), bytes);
        }
    }
    if let Some(Value::Object(data)) = obj.data.get("stringData") {
        for (k, v) in data {
            out.insert(
                k.clone(),
                v.as_str().unwrap_or_default().as_bytes().to_vec(),
            );
        }
    }
    Ok(Some(out))
}

/// A ConfigMap's `data`; `None` when it does not exist.
pub async fn config_map_data(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Option<BTreeMap<String, String>>, ControllerError> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &crate::resources::config_map());
    let obj = match api.get(name).await {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => {
            return Err(ControllerError::kube(
                format!("reading ConfigMap '{namespace}/{name}'"),
                e,
            ))
        }
    };
    let mut out = BTreeMap::new();
    if let Some(Value::Object(data)) = obj.data.get("data") {
        for (k, v) in data {
            out.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
        }
    }
    Ok(Some(out))
}
