//! The virtual cluster provider: the Flotilla API server's admin API (`/admin/clusters`),
//! spoken over HTTP with the controllers' own `kube::Client`, so a controller process pointed
//! at a separately started `flotilla apiserver` provisions over the network too.
//!
//! A server without the admin API (a real cluster) or refusing it (not the administrator
//! token) is reported as [`Availability::Unavailable`], which the Cluster controller turns
//! into `Ready=False/ProviderUnavailable`.
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::support::{status_code, CapiError};

const ADMIN: &str = "/admin/clusters";
const MAX_NAME: usize = 63;

/// Whether the API server provides virtual clusters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    /// It does; the names of the existing virtual clusters.
    Available(Vec<String>),
    /// It does not; why (a sentence for a condition message).
    Unavailable(String),
}

fn request(method: &str, path: &str, body: Vec<u8>) -> Result<http::Request<Vec<u8>>, CapiError> {
    let mut builder = http::Request::builder().method(method).uri(path);
    if !body.is_empty() {
        builder = builder.header(http::header::CONTENT_TYPE, "application/json");
    }
    builder
        .body(body)
        .map_err(|e| CapiError::Provider(format!("building {method} {path}: {e}")))
}

fn parse(text: &str, what: &str) -> Result<Value, CapiError> {
    serde_json::from_str(text)
        .map_err(|e| CapiError::Provider(format!("{what}: answer is not JSON: {e}")))
}

/// Asks `GET /admin/clusters`.
pub async fn availability(client: &kube::Client) -> Result<Availability, CapiError> {
    match client
        .request_text(request("GET", ADMIN, Vec::new())?)
        .await
    {
        Ok(text) => {
            let v = parse(&text, "listing virtual clusters")?;
            let names = v["clusters"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|n| n.as_str().map(str::to_string))
                        .collect()
                })
                .ok_or_else(|| {
                    CapiError::Provider(format!("GET {ADMIN}: no \"clusters\" list in {text}"))
                })?;
            Ok(Availability::Available(names))
        }
        Err(e) => match status_code(&e).and_then(unavailable_reason) {
            Some(reason) => Ok(Availability::Unavailable(reason)),
            None => Err(CapiError::Provider(format!("GET {ADMIN}: {e}"))),
        },
    }
}

/// Why a server answering `GET /admin/clusters` with `code` has no virtual clusters for us;
/// `None` for answers that are worth retrying.
pub fn unavailable_reason(code: u16) -> Option<String> {
    match code {
        404 | 405 | 501 => Some(format!(
            "the API server has no {ADMIN} endpoint: virtual clusters need the Flotilla API \
             server (flotilla apiserver / flotilla up)"
        )),
        401 | 403 => Some(format!(
            "the API server refused {ADMIN} ({code}): virtual clusters need the Flotilla API \
             server and its administrator credentials"
        )),
        _ => None,
    }
}

fn kubeconfig_of(v: &Value, name: &str) -> Result<String, CapiError> {
    v["kubeconfig"].as_str().map(str::to_string).ok_or_else(|| {
        CapiError::Provider(format!("virtual cluster {name}: answer has no kubeconfig"))
    })
}

/// Creates the virtual cluster `name`, or reads the existing one (idempotent); returns its
/// kubeconfig.
pub async fn ensure(client: &kube::Client, name: &str) -> Result<String, CapiError> {
    let body = serde_json::to_vec(&json!({"name": name}))
        .map_err(|e| CapiError::Provider(format!("encoding request: {e}")))?;
    match client.request_text(request("POST", ADMIN, body)?).await {
        Ok(text) => {
            tracing::info!(virtual_cluster = name, "created virtual cluster");
            kubeconfig_of(&parse(&text, "creating a virtual cluster")?, name)
        }
        Err(e) if status_code(&e) == Some(409) => get(client, name)
            .await?
            .ok_or_else(|| CapiError::Provider(format!("virtual cluster {name} vanished"))),
        Err(e) => Err(CapiError::Provider(format!(
            "creating virtual cluster {name}: {e}"
        ))),
    }
}

/// The kubeconfig of the virtual cluster `name`, `None` when there is none.
pub async fn get(client: &kube::Client, name: &str) -> Result<Option<String>, CapiError> {
    let path = format!("{ADMIN}/{name}");
    match client
        .request_text(request("GET", &path, Vec::new())?)
        .await
    {
        Ok(text) => Ok(Some(kubeconfig_of(
            &parse(&text, "reading a virtual cluster")?,
            name,
        )?)),
        Err(e) if status_code(&e) == Some(404) => Ok(None),
        Err(e) => Err(CapiError::Provider(format!("GET {path}: {e}"))),
    }
}

/// Deletes the virtual cluster `name` (absent is fine).
pub async fn delete(client: &kube::Client, name: &str) -> Result<(), CapiError> {
    let path = format!("{ADMIN}/{name}");
    match client
        .request_text(request("DELETE", &path, Vec::new())?)
        .await
    {
        Ok(_) => {
            tracing::info!(virtual_cluster = name, "deleted virtual cluster");
            Ok(())
        }
        Err(e) if status_code(&e) == Some(404) => Ok(()),
        Err(e) => Err(CapiError::Provider(format!("DELETE {path}: {e}"))),
    }
}

/// Whether `name` is a valid virtual cluster name (`[a-z0-9-]`, at most 63, no dash at
/// either end).
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// The deterministic fallback name of the Cluster `namespace/name`: the name made valid and
/// cut to fit, then `-` and the first 10 hex digits of sha256(`namespace/name`).
pub fn hashed_name(namespace: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{namespace}/{name}").as_bytes());
    let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    let mut prefix: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .take(MAX_NAME - hash.len() - 1)
        .collect();
    let trimmed = prefix.trim_matches('-').len();
    if trimmed == 0 {
        return format!("c-{hash}");
    }
    prefix = prefix.trim_matches('-').to_string();
    format!("{prefix}-{hash}")
}

/// The virtual cluster name for the Cluster `namespace/name`: `name` itself when it is a
/// valid name and `free` says so, otherwise [`hashed_name`].
pub fn choose_name(namespace: &str, name: &str, free: impl Fn(&str) -> bool) -> String {
    if is_valid_name(name) && free(name) {
        name.to_string()
    } else {
        hashed_name(namespace, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_without_the_admin_api_is_unavailable() {
        let real = unavailable_reason(404).unwrap_or_default();
        assert!(
            real.contains("virtual clusters need the Flotilla API server"),
            "{real}"
        );
        assert!(unavailable_reason(403).is_some_and(|r| r.contains("403")));
        assert_eq!(unavailable_reason(500), None);
        assert_eq!(unavailable_reason(409), None);
    }

    #[test]
    fn names_are_valid_and_deterministic() {
        assert_eq!(choose_name("ns", "web", |_| true), "web");
        let a = choose_name("ns", "web", |_| false);
        let b = choose_name("other", "web", |_| false);
        assert!(a.starts_with("web-") && a.len() == 14, "{a}");
        assert_ne!(a, b);
        assert_eq!(a, hashed_name("ns", "web"));
        let dotted = choose_name("ns", "prod.eu-west", |_| true);
        assert!(dotted.starts_with("prod-eu-west-"), "{dotted}");
        let long = "x".repeat(80);
        let n = choose_name("ns", &long, |_| true);
        assert!(is_valid_name(&n) && n.len() == 63, "{n}");
        assert!(is_valid_name(&hashed_name("ns", "...")));
        assert!(!is_valid_name("-a") && !is_valid_name("A") && !is_valid_name(""));
    }
}
