//! Server-pushed events: the [`EventBus`] the node publishes to, and the per-connection
//! registration set.
//!
//! The bus is a bounded tokio broadcast channel of [`Event`]s. A connection subscribes when
//! it first REGISTERs; its writer task encodes each event whose type it registered for as an
//! EVENT frame on stream -1, in the connection's protocol version and compression.
//!
//! Publishing never blocks and never waits for a connection. A connection whose writer falls
//! more than `event_queue_capacity` events behind (a client that does not read its socket)
//! is **disconnected**: skipping events silently would leave the driver with stale topology
//! or schema, whereas a closed control connection makes every driver reconnect and refetch
//! everything. The disconnect is counted in `event_lag_disconnects` and logged.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use meridian_cql_protocol::{Event, EventType};
use tokio::sync::broadcast;

use crate::config::MAX_EVENT_QUEUE_CAPACITY;

/// Where the node publishes topology, status and schema events for registered clients.
/// Cheap to clone; all clones feed the same subscribers.
///
/// Publishing never blocks. A connection receives the events of the types it REGISTERed
/// for, as EVENT frames on stream -1. A connection whose writer falls more than
/// `event_queue_capacity` events behind (its client does not read) is disconnected rather
/// than silently skipping events, so that its driver reconnects and refetches topology and
/// schema; see `StatsSnapshot::event_lag_disconnects`.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
}

impl EventBus {
    /// A bus holding up to `capacity` undelivered events per subscriber (clamped to
    /// 1..=[`MAX_EVENT_QUEUE_CAPACITY`]).
    pub fn new(capacity: usize) -> EventBus {
        let (sender, _) = broadcast::channel(capacity.clamp(1, MAX_EVENT_QUEUE_CAPACITY));
        EventBus { sender }
    }

    /// Sends `event` to every connection registered on this bus (connections filter by the
    /// event types they registered for). Returns the number of subscribed connections; 0
    /// when none is registered, which is not an error.
    pub fn publish(&self, event: Event) -> usize {
        self.sender.send(event).unwrap_or(0)
    }

    /// Connections currently subscribed (those that sent at least one REGISTER).
    pub fn subscriber_count(&self) -> usize {
        self.sender.receiver_count()
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

/// The event types one connection registered for, shared between its reader (which adds
/// types on REGISTER) and its writer (which filters events).
#[derive(Debug, Clone, Default)]
pub(crate) struct Registrations {
    mask: Arc<AtomicU8>,
}

fn bit(event_type: EventType) -> u8 {
    match event_type {
        EventType::TopologyChange => 0x01,
        EventType::StatusChange => 0x02,
        EventType::SchemaChange => 0x04,
    }
}

impl Registrations {
    /// Adds `types` (REGISTER is cumulative, as in Cassandra).
    pub(crate) fn add(&self, types: &[EventType]) {
        let bits = types.iter().fold(0u8, |acc, t| acc | bit(*t));
        self.mask.fetch_or(bits, Ordering::SeqCst);
    }

    /// True if `event_type` was registered.
    pub(crate) fn contains(&self, event_type: EventType) -> bool {
        self.mask.load(Ordering::SeqCst) & bit(event_type) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meridian_cql_protocol::StatusChangeType;

    #[test]
    fn registrations_accumulate() {
        let r = Registrations::default();
        assert!(!r.contains(EventType::SchemaChange));
        r.add(&[EventType::SchemaChange]);
        r.add(&[EventType::StatusChange]);
        assert!(r.contains(EventType::SchemaChange));
        assert!(r.contains(EventType::StatusChange));
        assert!(!r.contains(EventType::TopologyChange));
    }

    #[test]
    fn publish_without_subscribers_is_fine() {
        let bus = EventBus::new(0);
        let event = Event::StatusChange {
            change: StatusChangeType::Up,
            address: "127.0.0.1:9042".parse().unwrap(),
        };
        assert_eq!(bus.publish(event.clone()), 0);
        let mut rx = bus.subscribe();
        assert_eq!(bus.subscriber_count(), 1);
        assert_eq!(bus.publish(event.clone()), 1);
        assert_eq!(rx.try_recv().unwrap(), event);
    }
}
