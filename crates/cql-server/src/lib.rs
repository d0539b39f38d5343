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
//! Behaviour, per connection (details in the `connection` module source):
//!
//! * Handshake as in Cassandra: OPTIONS any time (SUPPORTED lists CQL_VERSION,
//!   COMPRESSION lz4/snappy, PROTOCOL_VERSIONS 3/v3 and 4/v4); STARTUP first (CQL_VERSION
//!   ≥ 3.0.0, optional COMPRESSION applied to every later frame both ways), then the
//!   optional SASL exchange, then REGISTER/QUERY/PREPARE/EXECUTE/BATCH. Out-of-order
//!   messages get a PROTOCOL_ERROR with Cassandra's text.
//! * Unsupported versions (v1, v2, v5, DSE 0x41/0x42, anything else) and frames over
//!   `max_frame_size_bytes` get the codec's PROTOCOL_ERROR reply, then the connection is
//!   closed. Other malformed frames (unknown opcode, undecodable body, a version change
//!   mid-connection) get a PROTOCOL_ERROR on their stream and the connection carries on,
//!   since the frame was consumed whole.
//! * Every handler request runs in its own task; answers go out in completion order through
//!   one writer task per connection. At `max_concurrent_requests_per_connection` requests in
//!   flight the connection is not read (TCP backpressure); beyond
//!   `max_concurrent_requests_total` requests are answered OVERLOADED (0x1001).
//! * Handler panics become SERVER_ERROR answers; client bytes never panic the server.
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
