//! Meridian's storage engine: a Cassandra-model LSM tree.
//!
//! What it must not depend on: networking, gossip, the coordinator or tokio. It is driven
//! through plain method calls and runs its background work (flushes, compactions) on its own
//! threads.

pub mod commitlog;
pub mod compaction_strategy;
pub mod sstable;
