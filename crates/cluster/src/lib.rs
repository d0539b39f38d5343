//! Meridian's cluster layer: what turns single-node storage into a masterless,
//! datacenter-aware cluster.
//!
//! - [`ids`]: identifiers shared by every module (host ids, datacenter and rack names).
//! - [`ring`]: token metadata, replication strategies (SimpleStrategy,
//!   NetworkTopologyStrategy exactly as Cassandra places replicas) and balanced token
//!   allocation. Pure: no I/O.
//! - [`net`]: internode messaging: a versioned envelope over framed TCP, one urgent and one
//!   bulk connection per peer, request/response with timeouts, bounded queues, and a fault
//!   layer for tests.
//! - [`hints`]: durable hints per target node, bounded by a window and a disk quota.
//! - [`membership`]: the membership trait, cluster views, chitchat gossip.
//! - [`coordinator`]: consistency levels, the write and read paths, read repair, hint
//!   replay, and the replica side of every data verb.
//!
//! Dependency rule: this crate depends on `types` and `storage` only; it knows nothing of
//! CQL syntax, the native protocol or the schema's DDL (the query crate above translates).

pub mod coordinator;
pub mod hints;
pub mod ids;
pub mod membership;
pub mod net;
pub mod ring;

#[cfg(test)]
mod sim_tests;
