//! The CQL native protocol server (v3/v4 over TCP, tokio): connections, framing, the
//! handshake, compression, limits, backpressure and server-pushed events. Statements are
//! executed by a [`RequestHandler`]; this crate knows nothing about CQL statements, schema
//! or storage.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use meridian_cql_server::*;
//! # use meridian_cql_protocol::{Request, Response, ResponseMessage, ResultBody};
//! struct Handler;
//! impl RequestHandler for Handler {
//!     type Session = ();
//!     fn new_session(&self, _peer: std::net::SocketAddr) {}
//!     async fn handle(&self, _: &(), _: Request, _: RequestContext) -> ResponseMessage {
//!         ResponseMessage::new(Response::Result(ResultBody::Void))
//!     }
//! }
//! # async fn example() -> Result<(), ServerError> {
//! let config = ServerConfig::new("127.0.0.1:9042".parse().unwrap());
//! let server = CqlServer::bind(config, Arc::new(Handler)).await?.spawn();
//! let events = server.event_bus(); // publish topology/status/schema events here
//! // ...
//! let report = server.shutdown().await?; // stop accepting, finish in-flight requests
//! # Ok(()) }
//! ```
//!
//! Modules:
//! * `server`: binding, accepting, `max_connections`, graceful shutdown ([`CqlServer`],
//!   [`RunningServer`], [`ShutdownHandle`], [`ShutdownReport`]).
//! * `connection`: one connection's reader, writer and request tasks; the invariants on
//!   framing errors, ordering, backpressure and overload are documented there.
//! * `handshake`: OPTIONS/STARTUP/AUTH/REGISTER ordering and STARTUP validation.
//! * `handler`: the [`RequestHandler`] trait, sessions and the authentication hook.
//! * `events`: the [`EventBus`] and its slow-consumer policy (disconnect).
//! * `stats`: [`ServerStats`] counters.
//! * `config`: [`ServerConfig`], every limit with its default.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)
)]
#![warn(missing_docs)]

mod config;
mod connection;
mod error;
mod events;
mod handler;
mod handshake;
mod server;
mod stats;
mod sync;

pub use config::{
    ServerConfig, DEFAULT_CQL_VERSION, DEFAULT_EVENT_QUEUE_CAPACITY, DEFAULT_HANDSHAKE_TIMEOUT_MS,
    DEFAULT_MAX_CONCURRENT_REQUESTS_PER_CONNECTION, DEFAULT_MAX_CONCURRENT_REQUESTS_TOTAL,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_PORT, DEFAULT_RESPONSE_QUEUE_CAPACITY,
    DEFAULT_SHUTDOWN_GRACE_PERIOD_MS, MAX_EVENT_QUEUE_CAPACITY, MIN_MAX_FRAME_SIZE_BYTES,
};
pub use error::ServerError;
pub use events::EventBus;
pub use handler::{AuthOutcome, RequestContext, RequestHandler, StartupOutcome};
pub use server::{CqlServer, RunningServer, ShutdownHandle, ShutdownReport};
pub use stats::{ServerStats, StatsSnapshot};
