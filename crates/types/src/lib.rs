//! Meridian's shared vocabulary: partition tokens (Murmur3, exactly as Cassandra and the
//! drivers compute them), CQL types with Cassandra's comparators, and the Cassandra data
//! model (cells, rows, tombstones, mutations) with its reconciliation rules and binary
//! encoding.
//!
//! This crate is pure: it does no I/O, spawns nothing and does not depend on tokio. Every
//! decoder here treats its input as untrusted and returns errors instead of panicking.

pub mod cql_type;
pub mod model;
pub mod token;
pub mod value;
