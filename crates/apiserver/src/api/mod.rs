//! Request handling: authentication, the virtual-cluster prefix, kube-apiserver's URL layout
//! (`/api/v1/...`, `/apis/G/V/[namespaces/NS/]RESOURCE[/NAME[/SUBRESOURCE]]`), and dispatch to
//! the verbs.
mod admin;
mod delete;
mod discovery;
pub mod gc;
pub mod objects;
mod patch;
mod protobuf;
mod reads;
pub mod selectors;
mod watch;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use flotilla_apimachinery::ResourceInfo;
use http_body_util::BodyExt;
use serde_json::Value;

use crate::clusters::{Cluster, State, DEFAULT_CLUSTER};
use crate::status::ApiError;

/// The axum router serving everything.
pub fn router(state: Arc<State>) -> axum::Router {
    axum::Router::new().fallback(move |req: Request| {
        let state = state.clone();
        async move { handle(state, req).await }
    })
}

/// A JSON response.
pub(crate) fn json(code: u16, v: &Value) -> Response {
    json_as(code, v, "application/json")
}

pub(crate) fn json_as(code: u16, v: &Value, content_type: &str) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap_or_default()
}

pub(crate) fn error(e: &ApiError) -> Response {
    json(e.code, &e.to_status())
}

fn text(code: u16, s: &str) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::OK))
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(s.to_string()))
        .unwrap_or_default()
}

/// A request for a resource.
pub(crate) struct Req {
    pub state: Arc<State>,
    pub cluster: Arc<Cluster>,
    pub info: ResourceInfo,
    pub namespace: String,
    pub name: Option<String>,
    pub sub: Option<String>,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Req {
    pub fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }

    pub fn flag(&self, k: &str) -> bool {
        matches!(self.q(k), Some("true") | Some("1"))
    }

    pub fn dry_run(&self) -> bool {
        self.q("dryRun").is_some_and(|v| v == "All")
    }

    pub fn accept(&self) -> &str {
        self.headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn wants_table(&self) -> bool {
        self.accept().contains("as=Table")
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn subject(&self) -> crate::status::Subject<'_> {
        crate::status::Subject {
            group: &self.info.group,
            resource: &self.info.plural,
            name: self.name.as_deref().unwrap_or(""),
        }
    }

    pub fn key(&self, name: &str) -> crate::store::Key {
        crate::store::Key::new(
            &self.cluster.name,
            &self.info.group,
            &self.info.plural,
            &self.namespace,
            name,
        )
    }

    /// The manager name: `fieldManager`, else from the user agent, as kube-apiserver does.
    pub fn manager(&self) -> String {
        if let Some(m) = self.q("fieldManager") {
            return m.to_string();
        }
        let ua = self
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("unknown");
        ua.split('/').next().unwrap_or("unknown").to_string()
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

async fn handle(state: Arc<State>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let query: HashMap<String, String> =
        serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default();
    // The virtual-cluster prefix.
    let (cluster_name, rest) = match path.strip_prefix("/clusters/") {
        Some(r) => {
            let (name, rest) = r.split_once('/').unwrap_or((r, ""));
            (name.to_string(), format!("/{rest}"))
        }
        None => (DEFAULT_CLUSTER.to_string(), path.clone()),
    };
    let public = matches!(
        rest.as_str(),
        "/healthz" | "/livez" | "/readyz" | "/version"
    ) || rest.starts_with("/healthz/")
        || rest.starts_with("/livez/")
        || rest.starts_with("/readyz/");
    let token = bearer(&parts.headers);
    let is_admin = token == Some(state.admin_token.as_str());
    if !public && !is_admin {
        let Some(token) = token else {
            return error(&ApiError::new(401, "Unauthorized", "Unauthorized"));
        };
        match state.cluster_of_token(token) {
            None => return error(&ApiError::new(401, "Unauthorized", "Unauthorized")),
            Some(own) if own != cluster_name || path.starts_with("/admin/") => {
                return error(&ApiError::forbidden(format!(
                    "the token of cluster \"{own}\" may not access {}",
                    if path.starts_with("/admin/") {
                        "the admin API".to_string()
                    } else {
                        format!("cluster \"{cluster_name}\"")
                    }
                )))
            }
            Some(_) => {}
        }
    }
    if let Some(admin_path) = path.strip_prefix("/admin/") {
        let body = match read_body(&state, body).await {
            Ok(b) => b,
            Err(e) => return error(&e),
        };
        return admin::handle(&state, &parts.method, admin_path, &body).await;
    }
    let Some(cluster) = state.cluster(&cluster_name) else {
        return error(&ApiError::new(
            404,
            "NotFound",
            format!("cluster \"{cluster_name}\" not found"),
        ));
    };
    match rest.as_str() {
        "/healthz" | "/livez" | "/readyz" => return text(200, "ok"),
        p if p.starts_with("/healthz/")
            || p.starts_with("/livez/")
            || p.starts_with("/readyz/") =>
        {
            return text(200, "ok")
        }
        "/version" => return json(200, &discovery::version()),
        _ => {}
    }
    let accept = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if let Some(r) = discovery::handle(&state, &cluster, &rest, &accept) {
        return r;
    }
    let segs: Vec<&str> = rest
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (group, version, tail) = match segs.as_slice() {
        ["api", v, tail @ ..] => ("", *v, tail),
        ["apis", g, v, tail @ ..] => (*g, *v, tail),
        _ => return error(&ApiError::no_route()),
    };
    if tail.is_empty() {
        return error(&ApiError::no_route());
    }
    // kube-apiserver's RequestInfo: `namespaces/NS/...` unless what follows is a namespace
    // subresource.
    let mut namespace = String::new();
    let mut tail: &[&str] = tail;
    if tail[0] == "namespaces" && tail.len() > 1 {
        namespace = tail[1].to_string();
        if tail.len() > 2 && !matches!(tail[2], "status" | "finalize") {
            tail = &tail[2..];
        }
    }
    let Some(info) = state.resource(&cluster, group, version, tail[0]) else {
        return error(&ApiError::no_route());
    };
    if !info.namespaced {
        namespace.clear();
    }
    let name = tail.get(1).map(|s| s.to_string());
    let sub = tail.get(2).map(|s| s.to_string());
    if tail.len() > 3 {
        return error(&ApiError::no_route());
    }
    if let Some(s) = &sub {
        let ok = (s == "status" && info.subresources.status)
            || (s == "scale" && info.subresources.scale.is_some());
        if !(ok || (info.plural == "namespaces" && s == "finalize")) {
            return error(&ApiError::no_route());
        }
    }
    let body = match read_body(&state, body).await {
        Ok(b) => b,
        Err(e) => return error(&e),
    };
    let r = Req {
        state,
        cluster,
        info,
        namespace,
        name,
        sub,
        query,
        headers: parts.headers,
        body,
    };
    let method = parts.method;
    let res = match (&method, r.name.is_some()) {
        (&Method::GET, _) if r.flag("watch") => return watch::watch(r).await,
        (&Method::GET, true) => reads::get(&r).await,
        (&Method::GET, false) => reads::list(&r).await,
        (&Method::POST, false) => objects::create(&r).await,
        (&Method::PUT, true) => objects::update(&r).await,
        (&Method::PATCH, true) => patch::patch(&r).await,
        (&Method::DELETE, true) => delete::delete(&r).await,
        (&Method::DELETE, false) => delete::delete_collection(&r).await,
        _ => Err(ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )),
    };
    match res {
        Ok(r) => r,
        Err(e) => error(&e),
    }
}

async fn read_body(state: &State, body: Body) -> Result<Bytes, ApiError> {
    match http_body_util::Limited::new(body, state.max_body)
        .collect()
        .await
    {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ApiError::new(
                413,
                "RequestEntityTooLarge",
                format!("Request entity too large: limit is {}", state.max_body),
            ))
        }
        Err(e) => Err(ApiError::bad_request(format!(
            "reading the request body: {e}"
        ))),
    }
}

/// Parses a JSON (or YAML) request body into an object.
pub(crate) fn parse_body(r: &Req) -> Result<Value, ApiError> {
    let ct = r.content_type();
    if ct.contains("protobuf") {
        let unsupported = |msg: String| {
            ApiError::new(
                415,
                "UnsupportedMediaType",
                format!("{msg} - accepted media types include: application/json, application/yaml"),
            )
        };
        return match protobuf::decode(&r.body) {
            Ok(protobuf::Decoded::Object(v)) => Ok(v),
            Ok(protobuf::Decoded::UnknownKind(api_version, kind)) => Err(unsupported(format!(
                "the protobuf encoding of {api_version:?}, kind {kind:?} is not supported by this server"
            ))),
            Err(protobuf::PbError::Unsupported(e)) => Err(unsupported(e)),
            Err(protobuf::PbError::Malformed(e)) => Err(ApiError::bad_request(format!(
                "the object provided is unrecognized: {e}"
            ))),
        };
    }
    if ct.contains("cbor") {
        return Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml ({ct})"),
        ));
    }
    let parsed = serde_json::from_slice::<Value>(&r.body).or_else(|e| {
        if r.content_type().contains("yaml") {
            let text = std::str::from_utf8(&r.body).map_err(|e| e.to_string())?;
            flotilla_yaml::parse_one(text).map_err(|e| e.to_string())
        } else {
            Err(e.to_string())
        }
    });
    match parsed {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(ApiError::bad_request(
            "the request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::bad_request(format!(
            "the object provided is unrecognized: couldn't get version/kind; json parse error: {e}"
        ))),
    }
}
