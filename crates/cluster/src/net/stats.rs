//! Counters of internode messaging: atomics updated on the hot path, read as a
//! [`NetStats`] snapshot.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use super::Lane;

/// Peer addresses counted individually; traffic with peers beyond this many is counted
/// together in [`NetStats::other_peers`] (the addresses come from handshakes, so their number
/// must not grow the map without bound).
pub const MAX_TRACKED_PEERS: usize = 4096;

/// Messages and bytes one lane to a peer has written to its socket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LaneStats {
    /// Frames written (requests, responses, one-way messages; not pings).
    pub messages_sent: u64,
    /// Bytes of those frames, framing included.
    pub bytes_sent: u64,
}

/// Traffic with one peer address (outbound by destination, inbound by the sender's broadcast
/// address).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerStats {
    /// Sent on urgent connections (requests to the peer, responses to its requests).
    pub urgent: LaneStats,
    /// Sent on bulk connections.
    pub bulk: LaneStats,
    /// Frames received from the peer (requests, responses, one-way messages).
    pub messages_received: u64,
    /// Bytes of those frames, framing included.
    pub bytes_received: u64,
    /// Messages to the peer dropped by the fault layer, a full queue, or expiry before
    /// sending.
    pub dropped: u64,
    /// Requests to the peer that timed out.
    pub timeouts: u64,
    /// Outbound connections established.
    pub connects: u64,
    /// Failed outbound connection attempts (including refused handshakes).
    pub connection_failures: u64,
}

/// A snapshot of messaging counters, totals since start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Per peer address.
    pub peers: BTreeMap<SocketAddr, PeerStats>,
    /// Traffic with peers beyond the first [`MAX_TRACKED_PEERS`] addresses.
    pub other_peers: PeerStats,
    /// Requests that timed out.
    pub timeouts: u64,
    /// Messages dropped by the fault layer (sent or received).
    pub dropped_by_faults: u64,
    /// Sends refused because a lane's queue was full.
    pub overloaded: u64,
    /// Requests whose caller had given up before they reached the socket (not sent).
    pub expired_before_send: u64,
    /// Responses that arrived after their request had completed.
    pub late_responses: u64,
    /// Inbound requests whose handler did not finish before the sender's timeout.
    pub handler_expired: u64,
    /// Handshakes this node refused.
    pub handshakes_refused: u64,
    /// Connections closed because the peer broke the protocol (including garbage bytes).
    pub protocol_errors: u64,
    /// Connections closed because the peer stayed silent past the liveness timeout.
    pub liveness_closes: u64,
    /// Inbound connections refused at accept because of the connection limit.
    pub inbound_refused: u64,
    /// Outbound connections open now.
    pub outbound_open: u64,
    /// Inbound connections open now.
    pub inbound_open: u64,
}

/// Per-peer atomics.
#[derive(Default)]
pub(crate) struct PeerCounters {
    sent_messages: [AtomicU64; 2],
    sent_bytes: [AtomicU64; 2],
    received_messages: AtomicU64,
    received_bytes: AtomicU64,
    pub dropped: AtomicU64,
    pub timeouts: AtomicU64,
    pub connects: AtomicU64,
    pub connection_failures: AtomicU64,
}

impl PeerCounters {
    pub fn sent(&self, lane: Lane, bytes: usize) {
        self.sent_messages[lane.index()].fetch_add(1, Ordering::Relaxed);
        self.sent_bytes[lane.index()].fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn received(&self, bytes: usize) {
        self.received_messages.fetch_add(1, Ordering::Relaxed);
        self.received_bytes
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn snapshot(&self) -> PeerStats {
        let lane = |lane: Lane| LaneStats {
            messages_sent: self.sent_messages[lane.index()].load(Ordering::Relaxed),
            bytes_sent: self.sent_bytes[lane.index()].load(Ordering::Relaxed),
        };
        PeerStats {
            urgent: lane(Lane::Urgent),
            bulk: lane(Lane::Bulk),
            messages_received: self.received_messages.load(Ordering::Relaxed),
            bytes_received: self.received_bytes.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            connects: self.connects.load(Ordering::Relaxed),
            connection_failures: self.connection_failures.load(Ordering::Relaxed),
        }
    }
}

/// Node-wide atomics.
#[derive(Default)]
pub(crate) struct Counters {
    peers: Mutex<HashMap<SocketAddr, Arc<PeerCounters>>>,
    other_peers: Arc<PeerCounters>,
    pub timeouts: AtomicU64,
    pub dropped_by_faults: AtomicU64,
    pub overloaded: AtomicU64,
    pub expired_before_send: AtomicU64,
    pub late_responses: AtomicU64,
    pub handler_expired: AtomicU64,
    pub handshakes_refused: AtomicU64,
    pub protocol_errors: AtomicU64,
    pub liveness_closes: AtomicU64,
    pub inbound_refused: AtomicU64,
    pub outbound_open: AtomicU64,
    pub inbound_open: AtomicU64,
}

impl Counters {
    /// The counters of `addr`, created on first use (the shared overflow counters once
    /// [`MAX_TRACKED_PEERS`] addresses are tracked).
    pub fn peer(&self, addr: SocketAddr) -> Arc<PeerCounters> {
        let mut peers = self.peers.lock();
        if let Some(counters) = peers.get(&addr) {
            return counters.clone();
        }
        if peers.len() >= MAX_TRACKED_PEERS {
            return self.other_peers.clone();
        }
        peers.entry(addr).or_default().clone()
    }

    /// Stops tracking `addr` (a node that left the cluster).
    pub fn forget(&self, addr: SocketAddr) {
        self.peers.lock().remove(&addr);
    }

    pub fn snapshot(&self) -> NetStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        NetStats {
            peers: self
                .peers
                .lock()
                .iter()
                .map(|(addr, counters)| (*addr, counters.snapshot()))
                .collect(),
            other_peers: self.other_peers.snapshot(),
            timeouts: load(&self.timeouts),
            dropped_by_faults: load(&self.dropped_by_faults),
            overloaded: load(&self.overloaded),
            expired_before_send: load(&self.expired_before_send),
            late_responses: load(&self.late_responses),
            handler_expired: load(&self.handler_expired),
            handshakes_refused: load(&self.handshakes_refused),
            protocol_errors: load(&self.protocol_errors),
            liveness_closes: load(&self.liveness_closes),
            inbound_refused: load(&self.inbound_refused),
            outbound_open: load(&self.outbound_open),
            inbound_open: load(&self.inbound_open),
        }
    }
}

/// Increments a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Keeps a gauge incremented while alive.
pub(crate) struct GaugeGuard<'a>(&'a AtomicU64);

impl<'a> GaugeGuard<'a> {
    pub fn new(gauge: &'a AtomicU64) -> GaugeGuard<'a> {
        gauge.fetch_add(1, Ordering::Relaxed);
        GaugeGuard(gauge)
    }
}

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
