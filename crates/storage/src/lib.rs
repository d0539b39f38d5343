//! Meridian's storage engine: a Cassandra-model LSM tree.
//!
//! - [`engine::Engine`] is the entry point: tables, the write path (commit log, then
//!   memtables), reads merging memtables and SSTables, background flush and compaction,
//!   snapshots, truncation.
//! - [`commitlog`] is a durable log of encoded mutations with `periodic` and `batch` sync.
//! - [`memtable`] holds recent writes in memory, sorted.
//! - [`sstable`] is the immutable on-disk file format.
//! - [`compaction_strategy`] decides what to compact (size-tiered, leveled, time-window);
//!   [`compaction`] executes it, purging tombstones only when that cannot resurrect data.
//! - [`manifest`] records each table's live SSTables so the live set survives any crash.
//!
//! What it must not depend on: networking, gossip, the coordinator or tokio. It is driven
//! through plain method calls and runs its background work on its own threads. Its data
//! model (cells, rows, tombstones and their reconciliation) is `meridian_types::model`.

pub mod commitlog;
pub mod compaction;
pub mod compaction_strategy;
pub mod engine;
pub mod error;
pub mod manifest;
pub mod memtable;
pub mod read;
pub mod sstable;
pub mod table;

pub use engine::{Clock, Engine, EngineConfig, ReplayReport, SystemClock, TableStats};
pub use error::{StorageError, TryApplyError};
pub use read::{LivePartition, ReadCommand};
pub use table::{token_end_bound, token_start_bound, TableOptions};
