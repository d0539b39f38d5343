//! The token ring and replica placement, exactly as Cassandra 5.0 computes them. Pure: no
//! I/O, no clocks, no randomness.
//!
//! - [`TokenMetadata`]: the nodes owning tokens (Murmur3 [`Token`]s, virtual nodes), with
//!   their datacenter and rack, the sorted ring and a change counter.
//! - [`ReplicationStrategy`]: `LocalStrategy`, `SimpleStrategy` and
//!   `NetworkTopologyStrategy` parsed from a stored replication map, and their natural
//!   replicas in Cassandra's order (so drivers' token-aware routing picks true replicas).
//! - [`ReplicaMap`]: the replicas of every vnode range precomputed for one ring version and
//!   strategy; per-token lookup is a binary search without allocation. Also the ranges a
//!   node replicates and effective ownership (`nodetool status <keyspace>`).
//! - [`allocate_tokens`]: tokens for a joining node that balance effective ownership in its
//!   datacenter.
//!
//! Ring conventions (Cassandra's): the vnode range of ring token `t` is `(predecessor, t]`;
//! a token belongs to the range of the smallest ring token `>= token`, wrapping past the
//! largest to the smallest; with a single token its range is the whole ring.
//! [`Token::MIN`] is never a node token.
//!
//! Invariants: every node in a [`TokenMetadata`] has at least one token and no token is
//! owned twice; a replica list never repeats a node and lists the primary first;
//! [`ReplicaMap::replicas_for`] equals [`ReplicationStrategy::replicas`] for the ring
//! version the map was built from (property-tested against a literal transcription of
//! Cassandra's `NetworkTopologyStrategy.calculateNaturalReplicas`, and compared with the
//! Python driver's replica map by `tests/ring_vs_driver.py`).
//!
//! [`Token`]: meridian_types::token::Token
//! [`Token::MIN`]: meridian_types::token::Token::MIN

mod allocation;
mod metadata;
mod replica_map;
mod strategy;

pub use allocation::{allocate_tokens, AllocationError};
pub use metadata::{DatacenterInfo, NodeDesc, RingError, TokenMetadata, MAX_TOKENS_PER_NODE};
pub use replica_map::{ownership, ReplicaMap};
pub use strategy::{
    ReplicationError, ReplicationStrategy, LOCAL_STRATEGY_CLASS, LOCATOR_PACKAGE,
    NETWORK_TOPOLOGY_STRATEGY_CLASS, SIMPLE_STRATEGY_CLASS,
};
