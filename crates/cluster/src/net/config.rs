//! Configuration of internode messaging.

use std::net::SocketAddr;
use std::time::Duration;

use super::error::NetError;
use super::wire::{MAX_BODY_BYTES, MAX_CLUSTER_NAME_BYTES};
use crate::ids::HostId;

/// Settings of a [`Messaging`](super::Messaging) instance. [`NetConfig::new`] fills in the
/// defaults; every field may be changed before `start`.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// The address to bind for internode connections (e.g. `0.0.0.0:7000` or a specific
    /// interface). Port 0 picks a free port.
    pub listen: SocketAddr,
    /// The address other nodes reach this one at, announced in handshakes (Cassandra's
    /// `broadcast_address`). `None`: the bound address, which must then not be unspecified.
    pub broadcast_address: Option<SocketAddr>,
    /// Connections from nodes announcing another cluster name are refused.
    pub cluster_name: String,
    /// This node's host id.
    pub local: HostId,
    /// The timeout callers use when they have no specific one; also the expiry announced for
    /// one-way messages.
    pub request_timeout_default: Duration,
    /// How long connecting plus the handshake may take, in both directions.
    pub connect_timeout: Duration,
    /// Bytes (bodies plus framing) that may wait in each outbound lane's queue to a peer;
    /// beyond it sends fail with [`NetError::Overloaded`]. A single message larger than the
    /// limit is still accepted into an empty queue.
    pub max_queue_bytes_per_lane: usize,
    /// Bodies up to this size travel on the urgent connection, larger ones on the bulk one.
    pub urgent_max_body_bytes: usize,
    /// Requests and one-way messages of one inbound connection being handled at once; at the
    /// limit the connection is not read until a handler finishes (backpressure).
    pub max_inflight_inbound_per_connection: usize,
    /// Requests of this node awaiting responses; beyond it requests fail with
    /// [`NetError::TooManyPending`].
    pub max_pending_requests: usize,
    /// Inbound connections open at once; more are closed at accept.
    pub max_inbound_connections: usize,
    /// Delay before retrying a failed connection attempt; doubles per failure.
    pub reconnect_backoff_min: Duration,
    /// The longest delay between connection attempts.
    pub reconnect_backoff_max: Duration,
    /// A connection on which nothing has been received for this long, while it was not busy
    /// sending either, is closed as dead. Idle connections are pinged at a quarter of it.
    pub liveness_timeout: Duration,
    /// Seed of the fault layer's random choices.
    pub fault_seed: u64,
}

impl NetConfig {
    /// A configuration with Meridian's defaults.
    pub fn new(listen: SocketAddr, cluster_name: impl Into<String>, local: HostId) -> NetConfig {
        NetConfig {
            listen,
            broadcast_address: None,
            cluster_name: cluster_name.into(),
            local,
            request_timeout_default: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(2),
            max_queue_bytes_per_lane: 32 * 1024 * 1024,
            urgent_max_body_bytes: 64 * 1024,
            max_inflight_inbound_per_connection: 1024,
            max_pending_requests: 256 * 1024,
            max_inbound_connections: 1024,
            reconnect_backoff_min: Duration::from_millis(100),
            reconnect_backoff_max: Duration::from_secs(2),
            liveness_timeout: Duration::from_secs(20),
            fault_seed: 0,
        }
    }

    /// How often an idle connection is pinged and checked.
    pub(crate) fn ping_interval(&self) -> Duration {
        (self.liveness_timeout / 4).max(Duration::from_millis(1))
    }

    pub(crate) fn validate(&self) -> Result<(), NetError> {
        let invalid = |reason: String| Err(NetError::InvalidConfig { reason });
        if self.cluster_name.is_empty() {
            return invalid("cluster_name is empty".into());
        }
        if self.cluster_name.len() > MAX_CLUSTER_NAME_BYTES {
            return invalid(format!(
                "cluster_name is {} bytes, at most {MAX_CLUSTER_NAME_BYTES} allowed",
                self.cluster_name.len()
            ));
        }
        if self.urgent_max_body_bytes > MAX_BODY_BYTES {
            return invalid(format!(
                "urgent_max_body_bytes {} exceeds the largest body, {MAX_BODY_BYTES}",
                self.urgent_max_body_bytes
            ));
        }
        for (name, value) in [
            ("max_queue_bytes_per_lane", self.max_queue_bytes_per_lane),
            (
                "max_inflight_inbound_per_connection",
                self.max_inflight_inbound_per_connection,
            ),
            ("max_pending_requests", self.max_pending_requests),
            ("max_inbound_connections", self.max_inbound_connections),
        ] {
            if value == 0 {
                return invalid(format!("{name} must be at least 1"));
            }
        }
        for (name, value) in [
            ("connect_timeout", self.connect_timeout),
            ("liveness_timeout", self.liveness_timeout),
            ("request_timeout_default", self.request_timeout_default),
        ] {
            if value.is_zero() {
                return invalid(format!("{name} must be positive"));
            }
        }
        if self.reconnect_backoff_min > self.reconnect_backoff_max {
            return invalid(format!(
                "reconnect_backoff_min ({} ms) exceeds reconnect_backoff_max ({} ms)",
                self.reconnect_backoff_min.as_millis(),
                self.reconnect_backoff_max.as_millis()
            ));
        }
        if let Some(addr) = self.broadcast_address {
            if addr.ip().is_unspecified() || addr.port() == 0 {
                return invalid(format!(
                    "broadcast_address {addr} must name a reachable address and port"
                ));
            }
        }
        Ok(())
    }
}
