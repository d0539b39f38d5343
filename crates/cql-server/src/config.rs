//! Server configuration: listen address and every limit the server enforces.
//!
//! Each queue or buffer the server keeps has a named bound here; [`ServerConfig::validate`]
//! rejects values that would make a bound meaningless (zero) or overflow the wire format.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use meridian_cql_protocol::frame::{DEFAULT_MAX_FRAME_SIZE_BYTES, HEADER_LENGTH_BYTES};
use meridian_cql_protocol::wire::MAX_INT_LENGTH;

use crate::error::ServerError;

/// Default native transport port.
pub const DEFAULT_PORT: u16 = 9042;
/// Smallest accepted [`ServerConfig::max_frame_size_bytes`]: room for any error response.
pub const MIN_MAX_FRAME_SIZE_BYTES: usize = 4096;
/// Default [`ServerConfig::max_concurrent_requests_per_connection`].
pub const DEFAULT_MAX_CONCURRENT_REQUESTS_PER_CONNECTION: usize = 1024;
/// Default [`ServerConfig::max_concurrent_requests_total`].
pub const DEFAULT_MAX_CONCURRENT_REQUESTS_TOTAL: usize = 16 * 1024;
/// Default [`ServerConfig::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 8192;
/// Default [`ServerConfig::response_queue_capacity`].
pub const DEFAULT_RESPONSE_QUEUE_CAPACITY: usize = 256;
/// Default [`ServerConfig::event_queue_capacity`].
pub const DEFAULT_EVENT_QUEUE_CAPACITY: usize = 1024;
/// Largest accepted [`ServerConfig::event_queue_capacity`] (tokio's broadcast channel limit is
/// far higher; this keeps the per-event memory of a lagging connection sane).
pub const MAX_EVENT_QUEUE_CAPACITY: usize = 1 << 20;
/// Default [`ServerConfig::handshake_timeout_ms`].
pub const DEFAULT_HANDSHAKE_TIMEOUT_MS: u64 = 10_000;
/// Default [`ServerConfig::shutdown_grace_period_ms`].
pub const DEFAULT_SHUTDOWN_GRACE_PERIOD_MS: u64 = 10_000;
/// The CQL language version advertised in SUPPORTED by default (Cassandra 4.x/5.0's).
pub const DEFAULT_CQL_VERSION: &str = "3.4.7";

/// Configuration of a [`crate::CqlServer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Address to listen on (port 0 picks a free port; see [`crate::CqlServer::local_addr`]).
    pub listen_address: SocketAddr,
    /// Largest frame accepted or sent, header included, before and after decompression.
    /// A larger incoming frame is answered with a PROTOCOL_ERROR and the connection closed.
    pub max_frame_size_bytes: usize,
    /// Requests (QUERY, PREPARE, EXECUTE, BATCH) one connection may have in flight. When it
    /// is reached the server stops reading from that socket until one finishes (TCP
    /// backpressure), so a client cannot queue unbounded work.
    pub max_concurrent_requests_per_connection: usize,
    /// Requests in flight across all connections. Beyond it requests are answered at once
    /// with an OVERLOADED error (0x1001) without reaching the handler.
    pub max_concurrent_requests_total: usize,
    /// Open client connections. A connection accepted beyond it is closed immediately.
    pub max_connections: usize,
    /// Encoded response frames queued for one connection's writer. Request tasks wait (and
    /// keep their per-connection slot) while it is full.
    pub response_queue_capacity: usize,
    /// Events a registered connection may fall behind the [`crate::EventBus`] before it is
    /// disconnected (see the `events` module).
    pub event_queue_capacity: usize,
    /// Close a connection that has received nothing for this long and has nothing in flight.
    /// `None` disables it (Cassandra's default; drivers send an OPTIONS heartbeat every 30 s).
    pub idle_timeout_ms: Option<u64>,
    /// Close a connection that has not completed STARTUP (and authentication) this long after
    /// it was accepted. `None` disables it.
    pub handshake_timeout_ms: Option<u64>,
    /// How long a graceful shutdown waits for in-flight requests before cancelling them.
    pub shutdown_grace_period_ms: u64,
    /// The `CQL_VERSION` advertised in SUPPORTED.
    pub cql_version: String,
    /// Set `TCP_NODELAY` on accepted sockets (responses are already batched per flush).
    pub tcp_nodelay: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen_address: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
            max_frame_size_bytes: DEFAULT_MAX_FRAME_SIZE_BYTES,
            max_concurrent_requests_per_connection: DEFAULT_MAX_CONCURRENT_REQUESTS_PER_CONNECTION,
            max_concurrent_requests_total: DEFAULT_MAX_CONCURRENT_REQUESTS_TOTAL,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            response_queue_capacity: DEFAULT_RESPONSE_QUEUE_CAPACITY,
            event_queue_capacity: DEFAULT_EVENT_QUEUE_CAPACITY,
            idle_timeout_ms: None,
            handshake_timeout_ms: Some(DEFAULT_HANDSHAKE_TIMEOUT_MS),
            shutdown_grace_period_ms: DEFAULT_SHUTDOWN_GRACE_PERIOD_MS,
            cql_version: DEFAULT_CQL_VERSION.to_owned(),
            tcp_nodelay: true,
        }
    }
}

impl ServerConfig {
    /// Defaults listening on `listen_address`.
    pub fn new(listen_address: SocketAddr) -> Self {
        ServerConfig {
            listen_address,
            ..ServerConfig::default()
        }
    }

    /// Checks that every limit is usable.
    pub fn validate(&self) -> Result<(), ServerError> {
        let invalid =
            |field: &'static str, reason: String| Err(ServerError::InvalidConfig { field, reason });
        // The body length is an [int]; below the minimum an error response might not fit.
        let max_frame = HEADER_LENGTH_BYTES + MAX_INT_LENGTH;
        if !(MIN_MAX_FRAME_SIZE_BYTES..=max_frame).contains(&self.max_frame_size_bytes) {
            return invalid(
                "max_frame_size_bytes",
                format!(
                    "{} is outside {MIN_MAX_FRAME_SIZE_BYTES}..={max_frame}",
                    self.max_frame_size_bytes
                ),
            );
        }
        let positive = [
            (
                "max_concurrent_requests_per_connection",
                self.max_concurrent_requests_per_connection,
            ),
            (
                "max_concurrent_requests_total",
                self.max_concurrent_requests_total,
            ),
            ("max_connections", self.max_connections),
            ("response_queue_capacity", self.response_queue_capacity),
            ("event_queue_capacity", self.event_queue_capacity),
        ];
        for (field, value) in positive {
            if value == 0 {
                return invalid(field, "must be at least 1".to_owned());
            }
        }
        // tokio's semaphore holds at most usize::MAX >> 3 permits.
        if self.max_concurrent_requests_per_connection > tokio::sync::Semaphore::MAX_PERMITS {
            return invalid(
                "max_concurrent_requests_per_connection",
                format!(
                    "{} exceeds {}",
                    self.max_concurrent_requests_per_connection,
                    tokio::sync::Semaphore::MAX_PERMITS
                ),
            );
        }
        if self.event_queue_capacity > MAX_EVENT_QUEUE_CAPACITY {
            return invalid(
                "event_queue_capacity",
                format!(
                    "{} exceeds {MAX_EVENT_QUEUE_CAPACITY}",
                    self.event_queue_capacity
                ),
            );
        }
        for (field, value) in [
            ("idle_timeout_ms", self.idle_timeout_ms),
            ("handshake_timeout_ms", self.handshake_timeout_ms),
        ] {
            if value == Some(0) {
                return invalid(field, "must be at least 1 (use None to disable)".to_owned());
            }
        }
        if self.cql_version.is_empty() {
            return invalid(
                "cql_version",
                "must not be empty (the Python driver requires a value)".to_owned(),
            );
        }
        Ok(())
    }

    pub(crate) fn shutdown_grace_period(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_period_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        ServerConfig::default().validate().unwrap();
        assert_eq!(
            ServerConfig::default().max_frame_size_bytes,
            256 * 1024 * 1024
        );
    }

    #[test]
    fn zero_limits_rejected() {
        let mut config = ServerConfig {
            max_connections: 0,
            ..ServerConfig::default()
        };
        assert!(matches!(
            config.validate(),
            Err(ServerError::InvalidConfig {
                field: "max_connections",
                ..
            })
        ));
        config.max_connections = 1;
        config.max_frame_size_bytes = HEADER_LENGTH_BYTES;
        assert!(matches!(
            config.validate(),
            Err(ServerError::InvalidConfig {
                field: "max_frame_size_bytes",
                ..
            })
        ));
        config.max_frame_size_bytes = MIN_MAX_FRAME_SIZE_BYTES;
        config.idle_timeout_ms = Some(0);
        assert!(matches!(
            config.validate(),
            Err(ServerError::InvalidConfig {
                field: "idle_timeout_ms",
                ..
            })
        ));
        config.idle_timeout_ms = None;
        config.event_queue_capacity = MAX_EVENT_QUEUE_CAPACITY + 1;
        assert!(config.validate().is_err());
        config.event_queue_capacity = 1;
        config.validate().unwrap();
    }
}
