//! The crash-safe object store: redb underneath, one global revision counter used as every
//! object's `resourceVersion`, group commit with `Durability::Immediate` (a write is on disk
//! before it is acknowledged), consistent snapshot lists, and the watch history ([`history`]).
//!
//! All writes go through one writer thread: it takes every pending write, applies them in one
//! transaction (each one's preconditions checked against the state the earlier ones left),
//! commits with fsync, publishes the events in revision order, then answers the callers. A
//! transaction either commits whole or not at all, so a restart never shows half a write.
mod history;
mod keys;

use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;

use redb::{Database, Durability, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde_json::Value;
use tokio::sync::oneshot;

pub use history::{Event, EventKind, Subscription, TooOld};
pub use keys::{Key, Prefix};

const OBJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new("objects");
const CLUSTERS: TableDefinition<&str, &[u8]> = TableDefinition::new("clusters");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const REV: &str = "revision";
/// redb's own page cache.
const CACHE_BYTES: usize = 64 * 1024 * 1024;
/// Most writes committed together in one transaction.
const MAX_BATCH: usize = 512;

/// Store failures.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum StoreError {
    /// The object does not exist.
    #[error("not found")]
    NotFound,
    /// The object exists already.
    #[error("already exists")]
    AlreadyExists,
    /// The expected resourceVersion is not the current one.
    #[error("the object has been modified (current resourceVersion {current})")]
    Conflict {
        /// The stored resourceVersion.
        current: u64,
    },
    /// The database failed.
    #[error("storage error: {0}")]
    Storage(String),
    /// The writer has stopped.
    #[error("the store is closed")]
    Closed,
}

fn se<E: Into<redb::Error>>(e: E) -> StoreError {
    StoreError::Storage(e.into().to_string())
}

/// One write.
#[derive(Debug, Clone)]
pub enum Op {
    /// Create an object; fails if it exists.
    Create {
        /// Where.
        key: Key,
        /// The object (its `metadata.resourceVersion` is set by the store).
        object: Value,
    },
    /// Replace an object; fails if missing or if `expected` is given and differs.
    Update {
        /// Where.
        key: Key,
        /// The new object.
        object: Value,
        /// The resourceVersion the caller read (optimistic concurrency).
        expected: Option<u64>,
    },
    /// Remove an object; fails if missing or if `expected` is given and differs.
    Delete {
        /// Where.
        key: Key,
        /// The resourceVersion the caller read.
        expected: Option<u64>,
    },
    /// Record (or replace) a virtual cluster.
    PutCluster {
        /// Cluster name.
        name: String,
        /// Its record.
        record: Value,
    },
    /// Forget a virtual cluster and every object in it.
    DropCluster {
        /// Cluster name.
        name: String,
    },
}

/// What a successful write did.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The object as stored, with its new resourceVersion.
    Stored(Arc<Value>),
    /// The deleted object, its resourceVersion set to the deletion's revision.
    Deleted(Arc<Value>),
    /// A cluster write; the count of objects removed.
    Cluster(usize),
}

impl Outcome {
    /// The object written or deleted, if any.
    pub fn object(&self) -> Option<&Arc<Value>> {
        match self {
            Outcome::Stored(o) | Outcome::Deleted(o) => Some(o),
            Outcome::Cluster(_) => None,
        }
    }
}

type Reply = oneshot::Sender<Result<Outcome, StoreError>>;

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page {
    /// The matching objects, in key order.
    pub items: Vec<Value>,
    /// The revision of the snapshot read.
    pub revision: u64,
    /// The encoded key of the last object returned, when more matching objects may follow.
    pub next: Option<String>,
}

/// The store.
pub struct Store {
    db: Arc<Database>,
    hub: Arc<history::Hub>,
    tx: Option<mpsc::Sender<(Op, Reply)>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Store {
    fn drop(&mut self) {
        // Closing the channel stops the writer after the writes already queued; joining it
        // releases the database file so the store can be reopened at once.
        self.tx = None;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

/// Parses `metadata.resourceVersion`.
pub fn resource_version(obj: &Value) -> Option<u64> {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}

fn set_resource_version(obj: &mut Value, rev: u64) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("resourceVersion".into(), Value::String(rev.to_string()));
    }
}

impl Store {
    /// Opens (or creates) the store at `path`, keeping `history` watch events in memory.
    pub fn open(path: &Path, history: usize) -> Result<Store, StoreError> {
        Store::open_bounded(path, history, usize::MAX)
    }

    /// [`Store::open`] with the watch history also bounded to `history_bytes` of stored
    /// object size.
    pub fn open_bounded(
        path: &Path,
        history: usize,
        history_bytes: usize,
    ) -> Result<Store, StoreError> {
        // redb's page cache defaults to 1 GiB; the OS page cache serves reads beyond this.
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(se)?;
        let txn = db.begin_write().map_err(se)?;
        let revision = {
            txn.open_table(OBJECTS).map_err(se)?;
            txn.open_table(CLUSTERS).map_err(se)?;
            let meta = txn.open_table(META).map_err(se)?;
            let rev = meta.get(REV).map_err(se)?.map(|g| g.value()).unwrap_or(0);
            rev
        };
        txn.commit().map_err(se)?;
        let db = Arc::new(db);
        let hub = Arc::new(history::Hub::bounded(revision, history, history_bytes));
        let (tx, rx) = mpsc::channel::<(Op, Reply)>();
        let (wdb, whub) = (db.clone(), hub.clone());
        let writer = std::thread::Builder::new()
            .name("apiserver-store-writer".into())
            .spawn(move || writer(&wdb, &whub, &rx))
            .map_err(|e| StoreError::Storage(e.to_string()))?;
        Ok(Store {
            db,
            hub,
            tx: Some(tx),
            writer: Some(writer),
        })
    }

    /// Commits one write durably and returns what it did.
    pub async fn write(&self, op: Op) -> Result<Outcome, StoreError> {
        let (reply, rx) = oneshot::channel();
        let tx = self.tx.as_ref().ok_or(StoreError::Closed)?;
        tx.send((op, reply)).map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// [`Store::write`] for callers outside an async runtime.
    pub fn write_blocking(&self, op: Op) -> Result<Outcome, StoreError> {
        let (reply, rx) = oneshot::channel();
        let tx = self.tx.as_ref().ok_or(StoreError::Closed)?;
        tx.send((op, reply)).map_err(|_| StoreError::Closed)?;
        rx.blocking_recv().map_err(|_| StoreError::Closed)?
    }

    /// The current revision.
    pub fn revision(&self) -> Result<u64, StoreError> {
        let r = self.db.begin_read().map_err(se)?;
        let meta = r.open_table(META).map_err(se)?;
        let rev = meta.get(REV).map_err(se)?.map(|g| g.value()).unwrap_or(0);
        Ok(rev)
    }

    /// Reads one object.
    pub fn get(&self, key: &Key) -> Result<Option<Value>, StoreError> {
        let r = self.db.begin_read().map_err(se)?;
        let t = r.open_table(OBJECTS).map_err(se)?;
        let v = t.get(key.encode().as_str()).map_err(se)?;
        match v {
            Some(g) => serde_json::from_slice(g.value())
                .map(Some)
                .map_err(|e| StoreError::Storage(e.to_string())),
            None => Ok(None),
        }
    }

    /// Lists objects under `prefix` from one snapshot, after the encoded key `after`, keeping
    /// those `keep` accepts, at most `limit` of them.
    pub fn list(
        &self,
        prefix: &Prefix,
        after: Option<&str>,
        limit: Option<usize>,
        keep: &dyn Fn(&Value) -> bool,
    ) -> Result<Page, StoreError> {
        let r = self.db.begin_read().map_err(se)?;
        let meta = r.open_table(META).map_err(se)?;
        let revision = meta.get(REV).map_err(se)?.map(|g| g.value()).unwrap_or(0);
        let t = r.open_table(OBJECTS).map_err(se)?;
        let start = match after {
            Some(a) if a.starts_with(prefix.as_str()) => a.to_string(),
            _ => prefix.as_str().to_string(),
        };
        let mut items = Vec::new();
        let mut next = None;
        for entry in t.range(start.as_str()..).map_err(se)? {
            let (k, v) = entry.map_err(se)?;
            let k = k.value();
            if !k.starts_with(prefix.as_str()) {
                break;
            }
            if Some(k) == after {
                continue;
            }
            if limit.is_some_and(|l| items.len() >= l) {
                next = items.last().map(|(k, _): &(String, Value)| k.clone());
                break;
            }
            let obj: Value = serde_json::from_slice(v.value())
                .map_err(|e| StoreError::Storage(e.to_string()))?;
            if keep(&obj) {
                items.push((k.to_string(), obj));
            }
        }
        Ok(Page {
            items: items.into_iter().map(|(_, o)| o).collect(),
            revision,
            next,
        })
    }

    /// Every object under `prefix` whose stored JSON contains `needle`, with its key (a cheap
    /// byte scan first, so only candidates are parsed).
    pub fn scan_containing(
        &self,
        prefix: &Prefix,
        needle: &str,
    ) -> Result<Vec<(Key, Value)>, StoreError> {
        let r = self.db.begin_read().map_err(se)?;
        let t = r.open_table(OBJECTS).map_err(se)?;
        let needle = needle.as_bytes();
        let mut out = Vec::new();
        for entry in t.range(prefix.as_str()..).map_err(se)? {
            let (k, v) = entry.map_err(se)?;
            if !k.value().starts_with(prefix.as_str()) {
                break;
            }
            let bytes = v.value();
            if needle.is_empty() || bytes.windows(needle.len()).any(|w| w == needle) {
                if let (Some(key), Ok(obj)) =
                    (Key::decode(k.value()), serde_json::from_slice(bytes))
                {
                    out.push((key, obj));
                }
            }
        }
        Ok(out)
    }

    /// Counts every object (all clusters).
    pub fn count(&self) -> Result<u64, StoreError> {
        let r = self.db.begin_read().map_err(se)?;
        let t = r.open_table(OBJECTS).map_err(se)?;
        t.len().map_err(se)
    }

    /// Every recorded virtual cluster, with its record.
    pub fn clusters(&self) -> Result<Vec<(String, Value)>, StoreError> {
        let r = self.db.begin_read().map_err(se)?;
        let t = r.open_table(CLUSTERS).map_err(se)?;
        let mut out = Vec::new();
        for entry in t.iter().map_err(se)? {
            let (k, v) = entry.map_err(se)?;
            let rec = serde_json::from_slice(v.value())
                .map_err(|e| StoreError::Storage(e.to_string()))?;
            out.push((k.value().to_string(), rec));
        }
        Ok(out)
    }

    /// Starts a watch of every change after revision `from`.
    pub fn watch(&self, from: u64) -> Result<Subscription, TooOld> {
        self.hub.subscribe(from)
    }

    /// The changes committed after revision `from` (oldest first), if the history reaches
    /// back that far.
    pub fn changes_since(&self, from: u64) -> Result<Vec<Arc<Event>>, TooOld> {
        self.hub.subscribe(from).map(|s| s.backlog)
    }

    /// The revision of the last event sent to watchers.
    pub fn last_published(&self) -> u64 {
        self.hub.last_published()
    }

    /// The oldest revision a watch may start from.
    pub fn oldest_watchable(&self) -> u64 {
        self.hub.oldest()
    }
}

/// The objects the writer stored last, by encoded key: an update's `previous` (kept in the
/// watch history) is then the very allocation the previous event holds, instead of a second
/// copy decoded from disk — the history costs one object per event, not two. The writer is
/// the only writer, so the map is exact; it is cleared when a commit fails or a cluster is
/// dropped, and trimmed to what the history still holds.
type Recent = std::collections::HashMap<String, Arc<Value>>;

fn writer(db: &Database, hub: &history::Hub, rx: &mpsc::Receiver<(Op, Reply)>) {
    let mut recent = Recent::new();
    let mut commits = 0u64;
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(x) => batch.push(x),
                Err(_) => break,
            }
        }
        let (ops, replies): (Vec<Op>, Vec<Reply>) = batch.into_iter().unzip();
        commits += 1;
        if commits.is_multiple_of(256) {
            let oldest = hub.oldest();
            recent.retain(|_, o| resource_version(o).unwrap_or(0) > oldest);
        }
        match commit(db, ops, &mut recent) {
            Ok((results, events, last_rev, skipped)) => {
                if skipped {
                    hub.skip_to(last_rev);
                }
                hub.publish(events);
                for (reply, res) in replies.into_iter().zip(results) {
                    let _ = reply.send(res);
                }
            }
            Err(e) => {
                recent.clear();
                tracing::error!(error = %e, "store commit failed");
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

type Committed = (Vec<Result<Outcome, StoreError>>, Vec<Event>, u64, bool);

fn commit(db: &Database, ops: Vec<Op>, recent: &mut Recent) -> Result<Committed, StoreError> {
    let mut txn = db.begin_write().map_err(se)?;
    txn.set_durability(Durability::Immediate);
    let mut results = Vec::with_capacity(ops.len());
    let mut events = Vec::new();
    let mut skipped = false;
    let rev = {
        let mut objects = txn.open_table(OBJECTS).map_err(se)?;
        let mut clusters = txn.open_table(CLUSTERS).map_err(se)?;
        let mut meta = txn.open_table(META).map_err(se)?;
        let mut rev = meta.get(REV).map_err(se)?.map(|g| g.value()).unwrap_or(0);
        for op in ops {
            let res = match op {
                Op::Create { key, mut object } => {
                    let k = key.encode();
                    if objects.get(k.as_str()).map_err(se)?.is_some() {
                        Err(StoreError::AlreadyExists)
                    } else {
                        rev += 1;
                        set_resource_version(&mut object, rev);
                        let bytes = serde_json::to_vec(&object)
                            .map_err(|e| StoreError::Storage(e.to_string()))?;
                        objects.insert(k.as_str(), bytes.as_slice()).map_err(se)?;
                        let object = Arc::new(object);
                        recent.insert(k, object.clone());
                        events.push(Event {
                            rev,
                            kind: EventKind::Added,
                            key,
                            object: object.clone(),
                            previous: None,
                            size: bytes.len(),
                        });
                        Ok(Outcome::Stored(object))
                    }
                }
                Op::Update {
                    key,
                    mut object,
                    expected,
                } => {
                    let k = key.encode();
                    let previous: Option<Arc<Value>> = match recent.get(&k) {
                        Some(o) => Some(o.clone()),
                        None => objects.get(k.as_str()).map_err(se)?.map(|g| {
                            Arc::new(serde_json::from_slice(g.value()).unwrap_or(Value::Null))
                        }),
                    };
                    let current = previous.as_ref().map(|o| resource_version(o).unwrap_or(0));
                    match (current, expected) {
                        (None, _) => Err(StoreError::NotFound),
                        (Some(cur), Some(exp)) if cur != exp => {
                            Err(StoreError::Conflict { current: cur })
                        }
                        _ => {
                            rev += 1;
                            set_resource_version(&mut object, rev);
                            let bytes = serde_json::to_vec(&object)
                                .map_err(|e| StoreError::Storage(e.to_string()))?;
                            objects.insert(k.as_str(), bytes.as_slice()).map_err(se)?;
                            let object = Arc::new(object);
                            recent.insert(k, object.clone());
                            events.push(Event {
                                rev,
                                kind: EventKind::Modified,
                                key,
                                object: object.clone(),
                                previous,
                                size: bytes.len(),
                            });
                            Ok(Outcome::Stored(object))
                        }
                    }
                }
                Op::Delete { key, expected } => {
                    let k = key.encode();
                    let mut size = 0;
                    let current: Option<Value> =
                        objects.get(k.as_str()).map_err(se)?.and_then(|g| {
                            size = g.value().len();
                            serde_json::from_slice(g.value()).ok()
                        });
                    match current {
                        None => Err(StoreError::NotFound),
                        Some(cur)
                            if expected.is_some_and(|e| Some(e) != resource_version(&cur)) =>
                        {
                            Err(StoreError::Conflict {
                                current: resource_version(&cur).unwrap_or(0),
                            })
                        }
                        Some(mut cur) => {
                            objects.remove(k.as_str()).map_err(se)?;
                            recent.remove(&k);
                            let before = Arc::new(cur.clone());
                            rev += 1;
                            set_resource_version(&mut cur, rev);
                            let object = Arc::new(cur);
                            events.push(Event {
                                rev,
                                kind: EventKind::Deleted,
                                key,
                                object: object.clone(),
                                previous: Some(before),
                                size,
                            });
                            Ok(Outcome::Deleted(object))
                        }
                    }
                }
                Op::PutCluster { name, record } => {
                    let bytes = serde_json::to_vec(&record)
                        .map_err(|e| StoreError::Storage(e.to_string()))?;
                    clusters
                        .insert(name.as_str(), bytes.as_slice())
                        .map_err(se)?;
                    Ok(Outcome::Cluster(0))
                }
                Op::DropCluster { name } => {
                    clusters.remove(name.as_str()).map_err(se)?;
                    recent.clear();
                    let prefix = Prefix::cluster(&name);
                    let mut doomed = Vec::new();
                    for entry in objects.range(prefix.as_str()..).map_err(se)? {
                        let (k, _) = entry.map_err(se)?;
                        if !k.value().starts_with(prefix.as_str()) {
                            break;
                        }
                        doomed.push(k.value().to_string());
                    }
                    for k in &doomed {
                        objects.remove(k.as_str()).map_err(se)?;
                    }
                    if !doomed.is_empty() {
                        rev += 1;
                        skipped = true;
                    }
                    Ok(Outcome::Cluster(doomed.len()))
                }
            };
            results.push(res);
        }
        meta.insert(REV, rev).map_err(se)?;
        rev
    };
    txn.commit().map_err(se)?;
    Ok((results, events, rev, skipped))
}

#[cfg(test)]
mod tests;
