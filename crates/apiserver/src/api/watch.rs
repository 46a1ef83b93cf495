//! Watch: newline-delimited JSON events over a chunked (HTTP/1.1) or streamed (HTTP/2)
//! response; initial events, bookmarks, `timeoutSeconds`, and a too old resourceVersion
//! answered inside the stream as an ERROR event carrying a 410 Status.
use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use super::reads::{prefix, selectors};
use super::selectors::{FieldSelector, LabelSelector};
use super::{error, Req};
use crate::status::ApiError;
use crate::store::{Event, EventKind};

/// How often an idle watch with `allowWatchBookmarks` gets a bookmark.
const BOOKMARK_EVERY: Duration = Duration::from_secs(5);

struct Filter {
    cluster: String,
    group: String,
    resource: String,
    namespace: String,
    name: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn selects(&self, o: &Value) -> bool {
        self.labels.matches(o) && self.fields.matches(o)
    }

    /// The event type this watch sees for `e`, if any: with selectors, an update that makes
    /// an object match is ADDED and one that makes it stop matching is DELETED, as
    /// kube-apiserver's watch cache reports them.
    fn event_type(&self, e: &Event) -> Option<&'static str> {
        let ours = e.key.cluster == self.cluster
            && e.key.group == self.group
            && e.key.resource == self.resource
            && (self.namespace.is_empty() || e.key.namespace == self.namespace)
            && self.name.as_ref().is_none_or(|n| *n == e.key.name);
        if !ours {
            return None;
        }
        let now = self.selects(&e.object);
        match (e.kind, &e.previous) {
            (EventKind::Modified, Some(prev)) => match (self.selects(prev), now) {
                (true, true) => Some("MODIFIED"),
                (false, true) => Some("ADDED"),
                (true, false) => Some("DELETED"),
                (false, false) => None,
            },
            (kind, _) => now.then_some(kind.as_str()),
        }
    }
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut v = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

/// The object of an event, as a one-row Table when the client asked for tables.
fn render(r: &Req, table: bool, obj: &Value) -> Value {
    let obj = &super::reads::present(r, obj.clone());
    if table {
        let mut t = crate::machinery::to_table(&r.info, std::slice::from_ref(obj), true);
        t["metadata"] = json!({"resourceVersion": obj["metadata"]["resourceVersion"]});
        t
    } else {
        obj.clone()
    }
}

/// GET with `watch=true`.
pub(crate) async fn watch(r: Req) -> Response {
    match start(r).await {
        Ok(resp) => resp,
        Err(e) => error(&e),
    }
}

async fn start(r: Req) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(&r)?;
    let table = r.wants_table();
    let bookmarks = r.flag("allowWatchBookmarks");
    let timeout = match r.q("timeoutSeconds") {
        Some(t) => Duration::from_secs(
            t.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds {t:?}")))?,
        ),
        None => Duration::from_secs(1800),
    };
    let filter = Filter {
        cluster: r.cluster.name.clone(),
        group: r.info.group.clone(),
        resource: r.info.plural.clone(),
        namespace: r.namespace.clone(),
        name: r.name.clone(),
        labels,
        fields,
    };
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let send_initial = r.flag("sendInitialEvents");
    let mut initial = Vec::new();
    let from = match r
        .q("resourceVersion")
        .filter(|v| !v.is_empty() && *v != "0")
    {
        Some(v) if !send_initial => v
            .parse::<u64>()
            .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {v:?}")))?,
        _ => {
            let page = r.state.store.list(&prefix(&r), None, None, &|o| {
                filter.labels.matches(o)
                    && filter.fields.matches(o)
                    && filter
                        .name
                        .as_ref()
                        .is_none_or(|n| o["metadata"]["name"] == n.as_str())
            })?;
            initial = page.items;
            page.revision
        }
    };
    let sub = r.state.store.watch(from);
    let mut backlog = Vec::new();
    let mut live = None;
    match sub {
        Err(too_old) => {
            let st = ApiError::expired(format!(
                "too old resource version: {from} ({})",
                too_old.oldest
            ))
            .to_status();
            let _ = tx.try_send(line("ERROR", &st));
        }
        Ok(s) => {
            for o in &initial {
                let _ = tx.send(line("ADDED", &render(&r, table, o))).await;
            }
            if send_initial && bookmarks {
                let b = json!({"kind": r.info.kind, "apiVersion": r.info.api_version(),
                    "metadata": {"resourceVersion": from.to_string(), "annotations": {"k8s.io/initial-events-end": "true"}}});
                let _ = tx.send(line("BOOKMARK", &b)).await;
            }
            backlog = s.backlog;
            live = Some(s.live);
        }
    }
    if let Some(live) = live {
        tokio::spawn(stream_events(
            r, table, bookmarks, timeout, filter, from, backlog, live, tx,
        ));
    }
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    }));
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-cache, private")
        .body(body)
        .unwrap_or_default())
}

#[allow(clippy::too_many_arguments)]
async fn stream_events(
    r: Req,
    table: bool,
    bookmarks: bool,
    timeout: Duration,
    filter: Filter,
    from: u64,
    backlog: Vec<std::sync::Arc<Event>>,
    mut live: broadcast::Receiver<std::sync::Arc<Event>>,
    tx: mpsc::Sender<Bytes>,
) {
    let mut seen = from;
    for e in backlog {
        seen = e.rev;
        if let Some(t) = filter.event_type(&e) {
            if tx
                .send(line(t, &render(&r, table, &e.object)))
                .await
                .is_err()
            {
                return;
            }
        }
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut tick = tokio::time::interval(BOOKMARK_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return,
            _ = tx.closed() => return,
            _ = tick.tick(), if bookmarks => {
                let published = r.state.store.last_published();
                if live.is_empty() {
                    seen = seen.max(published);
                }
                let b = json!({"kind": r.info.kind, "apiVersion": r.info.api_version(), "metadata": {"resourceVersion": seen.to_string()}});
                if tx.send(line("BOOKMARK", &b)).await.is_err() {
                    return;
                }
            }
            ev = live.recv() => match ev {
                Ok(e) => {
                    if e.rev <= seen {
                        continue;
                    }
                    seen = e.rev;
                    if let Some(t) = filter.event_type(&e) {
                        if tx.send(line(t, &render(&r, table, &e.object))).await.is_err() {
                            return;
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let st = ApiError::expired(format!("too old resource version: {seen} (the watch fell behind)")).to_status();
                    let _ = tx.send(line("ERROR", &st)).await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}
