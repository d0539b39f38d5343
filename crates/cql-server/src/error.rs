//! The server's error type (binding and configuration; per-request failures are CQL ERROR
//! responses, never Rust errors).

use std::io;
use std::net::SocketAddr;

use thiserror::Error;

/// Why the server could not start or stop cleanly.
#[derive(Debug, Error)]
pub enum ServerError {
    /// A configuration value is unusable.
    #[error("invalid server configuration: {field}: {reason}")]
    InvalidConfig {
        /// The [`crate::ServerConfig`] field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The listening socket could not be bound.
    #[error("cannot listen for CQL clients on {address}: {source}")]
    Bind {
        /// The configured address.
        address: SocketAddr,
        /// The operating system's error.
        source: io::Error,
    },
    /// The bound socket's address could not be read.
    #[error("cannot read the CQL listener's local address: {source}")]
    LocalAddr {
        /// The operating system's error.
        source: io::Error,
    },
    /// The background task running the server panicked or was cancelled.
    #[error("the CQL server task failed: {detail}")]
    TaskFailed {
        /// What the runtime reported.
        detail: String,
    },
}
