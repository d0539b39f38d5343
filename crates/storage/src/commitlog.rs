//! The commit log: a durable, append-only log of already-encoded records (mutations), in the
//! manner of Cassandra's commit log.
//!
//! The engine above appends the bytes of every mutation before applying it to a memtable,
//! replays the log at startup to rebuild memtables that were not flushed, and tells the log
//! which prefix is durable elsewhere (flushed to SSTables) so old segments can be deleted.
//! The log knows nothing of the data model.
//!
//! Layout: a directory of segment files `CommitLog-<version>-<segment_id>.log`, each
//! preallocated to `segment_size_bytes`, holding length-prefixed, CRC32C-checksummed records
//! (byte-by-byte format in `docs/commitlog-format.md`).
//!
//! Invariants:
//! - Positions ([`CommitLogPosition`]) grow strictly with every append, across restarts too
//!   (segment ids start at `max(now in ms, largest existing id + 1)`).
//! - Records are never appended after a torn tail: every open starts a new segment.
//! - A record is acknowledged durable (batch mode `append`, or `sync`) only after an fsync
//!   that began after the record was written; a failed write or fsync poisons the log and is
//!   never retried.
//! - Memory is bounded: one write buffer of at most [`WRITE_BUFFER_LIMIT_BYTES`], one
//!   preallocated spare segment, and replay holds one record at a time.
//! - Every wait inside `append` and `sync` is bounded by
//!   [`CommitLogConfig::append_wait_timeout`].

mod config;
mod error;
mod fault;
mod format;
mod replay;
mod segment;
mod writer;

use std::fmt;

pub use config::{
    CommitLogConfig, SyncMode, DEFAULT_APPEND_WAIT_TIMEOUT, DEFAULT_GROUP_WINDOW,
    DEFAULT_SEGMENT_SIZE_BYTES, DEFAULT_SYNC_PERIOD, DEFAULT_TOTAL_SPACE_BYTES_MAX,
    MAX_GROUP_WINDOW, MAX_SEGMENT_SIZE_BYTES, MIN_SEGMENT_SIZE_BYTES,
};
pub use error::CommitLogError;
pub use fault::InjectedFault;
pub use format::{HeaderDefect, FORMAT_VERSION, RECORD_HEADER_LEN_BYTES, SEGMENT_HEADER_LEN_BYTES};
pub use replay::{DamageKind, Replay, ReplayDamage, ReplayRecord};
pub use writer::{CommitLog, CommitLogStats, WRITE_BUFFER_LIMIT_BYTES};

/// A place in the log: a byte offset within a segment. Ordered by segment, then offset.
///
/// The position of a record (returned by `append` and given by replay) is the offset just
/// past it, as in Cassandra: `mark_flushed_up_to(p)` covers every record whose position is
/// `<= p`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CommitLogPosition {
    /// Id of the segment (from its file name and header).
    pub segment_id: u64,
    /// Byte offset within the segment file.
    pub offset: u64,
}

impl CommitLogPosition {
    /// The position before every record of the log.
    pub const ZERO: CommitLogPosition = CommitLogPosition {
        segment_id: 0,
        offset: 0,
    };
}

impl fmt::Display for CommitLogPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.segment_id, self.offset)
    }
}
