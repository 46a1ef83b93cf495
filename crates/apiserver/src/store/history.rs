//! The bounded in-memory watch history and the fan-out of new events to watchers.
//!
//! Every committed change becomes an [`Event`]; the last `capacity` events are kept in a ring
//! buffer so a watch can resume from a recent resourceVersion. A watch from a revision older
//! than the history reaches is refused ([`TooOld`], HTTP 410 to the client), as etcd
//! compaction makes kube-apiserver do.
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::broadcast;

use super::Key;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Created.
    Added,
    /// Updated.
    Modified,
    /// Deleted.
    Deleted,
}

impl EventKind {
    /// The watch event type as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "ADDED",
            EventKind::Modified => "MODIFIED",
            EventKind::Deleted => "DELETED",
        }
    }
}

/// One committed change.
#[derive(Debug, Clone)]
pub struct Event {
    /// The revision of the change (the object's resourceVersion).
    pub rev: u64,
    /// What happened.
    pub kind: EventKind,
    /// Which object.
    pub key: Key,
    /// The object after the change (for deletions: the last state, at the deletion revision).
    pub object: Arc<Value>,
    /// For updates and deletions, the object before the change (watches with selectors and
    /// continued lists need it).
    pub previous: Option<Arc<Value>>,
    /// The object's size as stored (JSON bytes), what the history's byte bound counts.
    pub size: usize,
}

/// The requested revision is older than the history reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooOld {
    /// The oldest revision a watch may start from.
    pub oldest: u64,
}

/// A started watch: the events after the requested revision that were already in the history,
/// then the live receiver.
pub struct Subscription {
    /// Events already committed after the requested revision, oldest first.
    pub backlog: Vec<Arc<Event>>,
    /// Events committed from now on.
    pub live: broadcast::Receiver<Arc<Event>>,
}

struct Ring {
    events: VecDeque<Arc<Event>>,
    capacity: usize,
    /// Sum of the events' `size`, and its bound.
    bytes: usize,
    max_bytes: usize,
    /// Every event with `rev > compacted` is in `events`.
    compacted: u64,
}

/// The watch hub.
pub struct Hub {
    ring: Mutex<Ring>,
    tx: broadcast::Sender<Arc<Event>>,
    /// The revision of the last event sent to the watchers.
    last: AtomicU64,
}

impl Hub {
    /// A hub keeping at most `capacity` events and at most `max_bytes` of their objects'
    /// stored size (the newest event is always kept). Objects are held parsed, several
    /// times their JSON size, so the byte bound is what keeps a busy server's memory flat.
    pub fn bounded(revision: u64, capacity: usize, max_bytes: usize) -> Hub {
        let (tx, _) = broadcast::channel(capacity.clamp(1024, 65536));
        Hub {
            ring: Mutex::new(Ring {
                events: VecDeque::with_capacity(capacity.min(4096)),
                capacity: capacity.max(1),
                bytes: 0,
                max_bytes: max_bytes.max(1),
                compacted: revision,
            }),
            tx,
            last: AtomicU64::new(revision),
        }
    }

    /// The revision of the last event sent (every earlier event was sent before it).
    pub fn last_published(&self) -> u64 {
        self.last.load(Ordering::Acquire)
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records committed events (in revision order) and sends them to the watchers.
    pub fn publish(&self, events: Vec<Event>) {
        let mut ring = self.ring();
        for e in events {
            let e = Arc::new(e);
            while !ring.events.is_empty()
                && (ring.events.len() >= ring.capacity || ring.bytes + e.size > ring.max_bytes)
            {
                if let Some(old) = ring.events.pop_front() {
                    ring.compacted = old.rev;
                    ring.bytes -= old.size;
                }
            }
            ring.bytes += e.size;
            ring.events.push_back(e.clone());
            // No receiver is not an error: nobody watches.
            let rev = e.rev;
            let _ = self.tx.send(e);
            self.last.store(rev, Ordering::Release);
        }
    }

    /// Moves the start of the history forward (used when revisions are consumed without
    /// events, e.g. by dropping a whole cluster).
    pub fn skip_to(&self, revision: u64) {
        let mut ring = self.ring();
        if ring.events.is_empty() {
            ring.compacted = ring.compacted.max(revision);
        }
    }

    /// Starts a watch from `from` (events with a revision above it are delivered).
    pub fn subscribe(&self, from: u64) -> Result<Subscription, TooOld> {
        let ring = self.ring();
        if from < ring.compacted {
            return Err(TooOld {
                oldest: ring.compacted,
            });
        }
        let backlog = ring
            .events
            .iter()
            .filter(|e| e.rev > from)
            .cloned()
            .collect();
        let live = self.tx.subscribe();
        Ok(Subscription { backlog, live })
    }

    /// The oldest revision a watch may start from.
    pub fn oldest(&self) -> u64 {
        self.ring().compacted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(rev: u64) -> Event {
        Event {
            rev,
            kind: EventKind::Added,
            key: Key::new("c", "", "configmaps", "ns", &format!("o{rev}")),
            object: Arc::new(Value::Null),
            previous: None,
            size: 100,
        }
    }

    #[test]
    fn the_byte_bound_evicts_oldest_first() {
        let hub = Hub::bounded(0, 100, 250);
        hub.publish((1..=5).map(ev).collect());
        // 100 bytes each, at most 250: the last two stay.
        assert_eq!(hub.oldest(), 3);
        let revs: Vec<u64> = hub
            .subscribe(3)
            .unwrap()
            .backlog
            .iter()
            .map(|e| e.rev)
            .collect();
        assert_eq!(revs, vec![4, 5]);
    }

    #[test]
    fn ring_keeps_the_last_events_and_refuses_older_starts() {
        let hub = Hub::bounded(10, 3, usize::MAX);
        hub.publish((11..=15).map(ev).collect());
        assert_eq!(hub.oldest(), 12);
        assert!(hub.subscribe(11).is_err());
        let s = hub.subscribe(12).unwrap();
        let revs: Vec<u64> = s.backlog.iter().map(|e| e.rev).collect();
        assert_eq!(revs, vec![13, 14, 15]);
        assert!(hub.subscribe(15).unwrap().backlog.is_empty());
    }

    #[tokio::test]
    async fn live_events_reach_every_subscriber() {
        let hub = Hub::bounded(0, 100, usize::MAX);
        let mut a = hub.subscribe(0).unwrap();
        let mut b = hub.subscribe(0).unwrap();
        hub.publish(vec![ev(1), ev(2)]);
        for s in [&mut a, &mut b] {
            assert_eq!(s.live.recv().await.unwrap().rev, 1);
            assert_eq!(s.live.recv().await.unwrap().rev, 2);
        }
    }
}
