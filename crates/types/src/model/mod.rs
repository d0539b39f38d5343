//! The Cassandra data model: cells, rows, tombstones, partitions and mutations, with
//! Cassandra's reconciliation rules and one binary encoding shared by the commit log, SSTables,
//! internode messages and hints.
//!
//! Reconciliation is a join on a lattice: merging is commutative, associative and idempotent,
//! so replicas, hints, repair and compaction may deliver data in any order and converge.
//! Deletions are kept as data (tombstones) and shadow everything with a timestamp at or below
//! theirs; merging drops shadowed data eagerly, which keeps results canonical.

mod cell;
mod clustering;
mod codec;
mod deletion;
mod partition;
mod row;

pub use cell::{Cell, CellState};
pub use clustering::{
    BoundKind, Clustering, ClusteringBound, ClusteringComparator, ClusteringOrder, Cut,
    RangeTombstone, RangeTombstoneList, Slice,
};
pub use codec::{
    decode_clustering, decode_mutation, decode_partition, decode_partition_slices,
    encode_clustering, encode_mutation, encode_partition, encode_partition_indexed, CodecError,
    DecodedMutation, MUTATION_FORMAT_VERSION,
};
pub use deletion::{DeletionTime, LivenessInfo};
pub use partition::{Mutation, Partition, PartitionStats, PartitionUpdate, PurgePolicy, TableId};
pub use row::{ColumnData, ColumnId, ComplexColumn, Row};

/// Local deletion time meaning "never deleted / never expires" (Cassandra's
/// `NO_DELETION_TIME`).
pub const NO_DELETION_TIME_SECS: i64 = i64::MAX;

/// Timestamp meaning "no timestamp" (Cassandra's `Long.MIN_VALUE` for live deletion times).
pub const NO_TIMESTAMP_MICROS: i64 = i64::MIN;

#[cfg(test)]
mod tests;
