//! Internode messaging: how Meridian nodes talk to each other.
//!
//! A [`Messaging`] instance listens on the configured address and sends requests, responses
//! and one-way messages to other nodes over TCP (or any [`Network`], e.g. turmoil's simulated
//! one with feature `sim`). Bodies are opaque [`Bytes`](bytes::Bytes): callers encode them
//! with postcard and name what they mean with a [`Verb`].
//!
//! # Wire format
//! Every frame is a 4-byte big-endian length followed by that many bytes (tokio-util's
//! `LengthDelimitedCodec`), at most [`MAX_FRAME_BYTES`]. A connection starts with a
//! handshake (magic `MRDN`, protocol versions, connection lane, the sender's host id,
//! incarnation, broadcast address and cluster name); the acceptor answers with the negotiated
//! version or a reason for refusing (cluster name or version mismatch, host id conflict).
//! After that each frame is a 16-byte header (protocol version, kind, verb, message id,
//! expiry in ms) followed by the body. See `wire` for the exact layout.
//!
//! # Connections
//! Two outbound connections per peer address, opened lazily: *urgent* for bodies up to
//! [`NetConfig::urgent_max_body_bytes`] and *bulk* for larger ones, so a large mutation never
//! delays an acknowledgement. Requests go out on the sender's outbound connections; responses
//! come back on the connection pair the request arrived on, again split by size. Each lane
//! has a byte-bounded queue ([`NetError::Overloaded`] when full), reconnects with exponential
//! backoff after a failed attempt, and pings an idle peer so that a dead or stalled
//! connection is closed after [`NetConfig::liveness_timeout`] rather than hanging.
//!
//! # Invariants
//! - Nothing received from the network panics: malformed frames are errors that close the
//!   connection they arrived on (other connections are unaffected).
//! - Every buffer is bounded: frames by [`MAX_FRAME_BYTES`], outbound queues by
//!   [`NetConfig::max_queue_bytes_per_lane`], inbound work per connection by
//!   [`NetConfig::max_inflight_inbound_per_connection`] (the reader stops reading when it is
//!   reached), requests awaiting a response by [`NetConfig::max_pending_requests`], inbound
//!   connections by [`NetConfig::max_inbound_connections`].
//! - A request completes exactly once: with its response, a remote error, or a local error
//!   (timeout, connection failure, shutdown); its pending entry is removed in every case,
//!   including when the caller drops the future.
//! - Nothing assumes loopback: the node binds [`NetConfig::listen`] and announces
//!   [`NetConfig::broadcast_address`] (default: the bound address).
//!
//! The [`Faults`] layer drops, delays or partitions messages on the sending side (and drops
//! incoming messages from partitioned peers), driven by a seeded RNG, for tests and the
//! admin API.

mod config;
mod conn;
mod error;
mod faults;
mod inbound;
mod messaging;
mod outbound;
mod stats;
mod transport;
mod wire;

#[cfg(any(test, feature = "sim"))]
pub mod sim;

#[cfg(test)]
mod sim_tests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::SocketAddr;

use crate::ids::HostId;

pub use config::NetConfig;
pub use error::{NetError, RemoteError, RemoteErrorKind};
pub use faults::{FaultError, FaultRule, Faults, FaultsSnapshot};
pub use messaging::{MessageHandler, Messaging};
pub use stats::{LaneStats, NetStats, PeerStats, MAX_TRACKED_PEERS};
pub use transport::{Listener, Network, Stream, TokioNetwork};
pub use wire::{MAX_BODY_BYTES, MAX_FRAME_BYTES, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION};

/// What a message means: the receiving handler dispatches on it. The values are assigned by
/// the modules that define messages and are part of the wire protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Verb(pub u16);

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "verb {}", self.0)
    }
}

/// The node a message came from, as it introduced itself in the connection handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Peer {
    /// The sender's permanent host id.
    pub host_id: HostId,
    /// The sender's broadcast address: where it accepts internode connections.
    pub addr: SocketAddr,
}

/// Which of the two connections to a peer carries a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lane {
    /// Small messages (bodies up to [`NetConfig::urgent_max_body_bytes`]): acks, gossip-adjacent
    /// traffic, small reads and writes.
    Urgent,
    /// Large messages, so that they never delay the urgent ones.
    Bulk,
}

impl Lane {
    /// Both lanes, urgent first.
    pub const ALL: [Lane; 2] = [Lane::Urgent, Lane::Bulk];

    /// The lane a body of `body_bytes` travels on under `urgent_max_body_bytes`.
    pub fn for_body(body_bytes: usize, urgent_max_body_bytes: usize) -> Lane {
        if body_bytes <= urgent_max_body_bytes {
            Lane::Urgent
        } else {
            Lane::Bulk
        }
    }

    fn index(self) -> usize {
        match self {
            Lane::Urgent => 0,
            Lane::Bulk => 1,
        }
    }
}

impl fmt::Display for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lane::Urgent => "urgent",
            Lane::Bulk => "bulk",
        })
    }
}
