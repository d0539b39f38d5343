//! SSTable files: immutable, sorted maps from partition key to an opaque per-partition blob.
//!
//! An SSTable is ONE self-contained, versioned file (see `docs/sstable-format.md` for the
//! byte-level layout). Partition keys are ordered by `(token as i64, key bytes unsigned)`,
//! Cassandra's `DecoratedKey` order; the value of each partition is whatever bytes the engine
//! stores (its encoded partition). Writing goes through [`SstableWriter`] (append in strictly
//! increasing key order, then [`SstableWriter::finish`]), reading through [`Sstable`].
//!
//! File structure, in order: a 16-byte header; the block region (LZ4-compressed data blocks
//! of ~`block_size_bytes` holding concatenated partition blobs, interleaved with uncompressed
//! partition-index blocks, every block CRC32C-protected); the summary (one entry per index
//! block: its last key and location), the bloom filter and the statistics sections, each
//! CRC32C-protected; and a fixed 96-byte footer with its own CRC32C.
//!
//! Invariants:
//! - keys in a file are strictly increasing; every partition is contiguous inside exactly one
//!   data block (a partition of at least `block_size_bytes` gets a block of its own);
//! - every byte of a file is covered by a checksum or an exact-value check, and readers
//!   verify them on every read: damaged content yields [`SstableError::Corrupt`] naming the
//!   path and byte offset, never a panic and never wrong data;
//! - reader memory is bounded: the summary and the bloom filter are resident (the summary
//!   has one entry per index block, i.e. roughly one per hundred partitions), everything
//!   else is read block by block on demand with `pread`; caches are bounded ([`BlockCache`]).
//! - a file is only ever visible under its final name once complete and fsynced.

mod bloom;
mod cache;
mod format;
mod reader;
mod writer;

use std::path::PathBuf;

use bytes::Bytes;

pub use cache::{BlockCache, BlockCacheStats};
pub use format::{
    compare_keys, FORMAT_VERSION, MAX_CLUSTERING_STAT_SIZE_BYTES, MAX_EXTRA_STATS_SIZE_BYTES,
    MAX_KEY_SIZE_BYTES, MAX_PARTITION_SIZE_BYTES,
};
pub use reader::{Sstable, SstableIter, SstableOpenOptions, SstableReadStats};
pub use writer::{
    Compression, SstableWriter, SstableWriterConfig, MAX_BLOCK_SIZE_BYTES,
    MAX_INDEX_BLOCK_SIZE_BYTES, MAX_PARTITIONS_PER_DATA_BLOCK, MIN_BLOCK_SIZE_BYTES,
};

/// Result type of this module.
pub type Result<T, E = SstableError> = std::result::Result<T, E>;

/// A partition key with its token, ordered like the SSTable (token, then key bytes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SstableKey {
    /// Partitioner token.
    pub token: i64,
    /// Serialized partition key.
    pub key: Bytes,
}

impl PartialOrd for SstableKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SstableKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        compare_keys((self.token, &self.key), (other.token, &other.key))
    }
}

/// Caller-supplied statistics stored in the file (the engine computes them while writing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SstableStats {
    /// Smallest write timestamp of any cell/tombstone, microseconds.
    pub min_timestamp_micros: i64,
    /// Largest write timestamp, microseconds.
    pub max_timestamp_micros: i64,
    /// Smallest local deletion time (seconds since the epoch).
    pub min_local_deletion_time_secs: i64,
    /// Largest local deletion time (seconds since the epoch).
    pub max_local_deletion_time_secs: i64,
    /// Number of tombstones of any kind.
    pub tombstone_count: u64,
    /// Number of cells.
    pub cell_count: u64,
    /// Number of rows.
    pub row_count: u64,
    /// Smallest clustering prefix, opaque encoding (at most [`MAX_CLUSTERING_STAT_SIZE_BYTES`]).
    pub min_clustering: Option<Vec<u8>>,
    /// Largest clustering prefix, opaque encoding (at most [`MAX_CLUSTERING_STAT_SIZE_BYTES`]).
    pub max_clustering: Option<Vec<u8>>,
    /// Opaque bytes for future use (at most [`MAX_EXTRA_STATS_SIZE_BYTES`]).
    pub extra: Vec<u8>,
}

/// Writer-computed facts about an SSTable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SstableSummary {
    /// Number of partitions.
    pub partition_count: u64,
    /// First (smallest) partition key; `None` for an empty table.
    pub first_key: Option<SstableKey>,
    /// Last (largest) partition key; `None` for an empty table.
    pub last_key: Option<SstableKey>,
    /// Number of data blocks.
    pub data_block_count: u64,
    /// Number of partition-index blocks.
    pub index_block_count: u64,
    /// Sum of all partition blob lengths.
    pub data_size_uncompressed_bytes: u64,
    /// On-disk size of all data blocks (block headers included).
    pub data_size_compressed_bytes: u64,
    /// On-disk size of all index blocks (block headers included).
    pub index_size_bytes: u64,
    /// Size of the bloom filter section.
    pub bloom_size_bytes: u64,
    /// Largest single partition blob.
    pub max_partition_size_bytes: u32,
    /// Total file size.
    pub file_size_bytes: u64,
}

impl SstableSummary {
    /// Smallest token in the table.
    pub fn min_token(&self) -> Option<i64> {
        self.first_key.as_ref().map(|k| k.token)
    }

    /// Largest token in the table.
    pub fn max_token(&self) -> Option<i64> {
        self.last_key.as_ref().map(|k| k.token)
    }
}

/// Errors of the SSTable layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SstableError {
    /// An operating-system I/O error.
    #[error("I/O error on SSTable {path}: {source}")]
    Io {
        /// File involved.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file content is damaged or not an SSTable.
    #[error("corrupt SSTable {path} at byte offset {offset_bytes}: {reason}")]
    Corrupt {
        /// File involved.
        path: PathBuf,
        /// Byte offset of the damaged structure.
        offset_bytes: u64,
        /// What is wrong.
        reason: String,
    },
    /// The file was written in a format version this code does not read.
    #[error(
        "SSTable {path} has unsupported format version {found} (this build reads {supported})"
    )]
    UnsupportedVersion {
        /// File involved.
        path: PathBuf,
        /// Version found in the footer.
        found: u32,
        /// Version this build supports.
        supported: u32,
    },
    /// `append` was called with a key not strictly greater than the previous one.
    #[error("out-of-order append to SSTable {path}: key with token {token} is not greater than the previous key (token {previous_token})")]
    OutOfOrder {
        /// File being written.
        path: PathBuf,
        /// Token of the previous key.
        previous_token: i64,
        /// Token of the rejected key.
        token: i64,
    },
    /// A partition key is longer than [`MAX_KEY_SIZE_BYTES`].
    #[error("partition key of {size_bytes} bytes exceeds the limit of {max_bytes} bytes")]
    KeyTooLarge {
        /// Size of the rejected key.
        size_bytes: usize,
        /// Limit.
        max_bytes: usize,
    },
    /// A partition blob is longer than the configured maximum.
    #[error("partition of {size_bytes} bytes exceeds the limit of {max_bytes} bytes")]
    PartitionTooLarge {
        /// Size of the rejected blob.
        size_bytes: usize,
        /// Limit.
        max_bytes: usize,
    },
    /// A caller-supplied statistic exceeds its limit.
    #[error(
        "SSTable statistic {field} of {size_bytes} bytes exceeds the limit of {max_bytes} bytes"
    )]
    StatsTooLarge {
        /// Which field.
        field: &'static str,
        /// Its size.
        size_bytes: usize,
        /// Limit.
        max_bytes: usize,
    },
    /// A structural limit of the format was reached (e.g. too many index blocks).
    #[error("SSTable {path}: {what} limit exceeded")]
    LimitExceeded {
        /// File being written.
        path: PathBuf,
        /// Which limit.
        what: &'static str,
    },
    /// The writer configuration is invalid.
    #[error("invalid SSTable writer configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
    /// The target (or its temporary file) already exists.
    #[error("SSTable {path} already exists")]
    AlreadyExists {
        /// Existing file.
        path: PathBuf,
    },
    /// A previous I/O error left the writer unusable; the temporary file is removed on drop.
    #[error("SSTable writer for {path} failed earlier and cannot continue")]
    WriterFailed {
        /// File being written.
        path: PathBuf,
    },
}
