//! The admin endpoint for virtual clusters (administrator token only):
//! `GET /admin/clusters`, `POST /admin/clusters {"name": …}` (answers the cluster's
//! kubeconfig), `GET`/`DELETE /admin/clusters/<name>`.
use axum::http::Method;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};

use super::{error, json};
use crate::clusters::State;
use crate::status::ApiError;
use crate::Error;

fn map(e: Error) -> ApiError {
    match e {
        Error::ClusterExists(n) => ApiError::new(
            409,
            "AlreadyExists",
            format!("cluster \"{n}\" already exists"),
        ),
        Error::NoSuchCluster(n) => {
            ApiError::new(404, "NotFound", format!("cluster \"{n}\" not found"))
        }
        Error::InvalidName(n) => {
            ApiError::new(422, "Invalid", format!("invalid cluster name \"{n}\""))
        }
        other => ApiError::internal(other.to_string()),
    }
}

pub(crate) async fn handle(state: &State, method: &Method, path: &str, body: &Bytes) -> Response {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match (method, segs.as_slice()) {
        (&Method::GET, ["clusters"]) => json(200, &json!({"clusters": state.cluster_names()})),
        (&Method::POST, ["clusters"]) => {
            let v: Value = match serde_json::from_slice(body) {
                Ok(v) => v,
                Err(e) => return error(&ApiError::bad_request(format!("invalid body: {e}"))),
            };
            let Some(name) = v["name"].as_str() else {
                return error(&ApiError::bad_request("\"name\" is required"));
            };
            match state.create_cluster(name).await {
                Ok(c) => json(
                    201,
                    &json!({"name": c.name, "server": format!("{}/clusters/{}", state.server_url, c.name), "token": c.token, "kubeconfig": state.kubeconfig(&c.name, &c.token)}),
                ),
                Err(e) => error(&map(e)),
            }
        }
        (&Method::GET, ["clusters", name]) => match state.cluster(name) {
            Some(c) => json(
                200,
                &json!({"name": c.name, "kubeconfig": state.kubeconfig(&c.name, &c.token)}),
            ),
            None => error(&map(Error::NoSuchCluster(name.to_string()))),
        },
        (&Method::DELETE, ["clusters", name]) => match state.delete_cluster(name).await {
            Ok(()) => json(
                200,
                &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}),
            ),
            Err(e) => error(&map(e)),
        },
        _ => error(&ApiError::no_route()),
    }
}
