//! Errors of the commit log.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use super::CommitLogPosition;

/// Everything that can go wrong in the commit log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommitLogError {
    /// The configuration is unusable.
    #[error("invalid commit log configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },

    /// An I/O error that did not poison the log: opening, reading during replay, listing or
    /// deleting segments, or preallocating a new segment (for example `ENOSPC`). Nothing of
    /// the failed append was written; the operation may be retried.
    #[error("commit log I/O error while {operation} {path}: {source}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// An earlier write or fsync failed; the log accepts nothing more (fsyncs are never
    /// retried: after a failed fsync the kernel may have dropped the dirty pages).
    #[error("commit log is poisoned: {operation} of {path} failed: {cause}")]
    Poisoned {
        /// The failed operation ("write" or "fsync").
        operation: &'static str,
        /// The segment file concerned.
        path: PathBuf,
        /// The original error.
        #[source]
        cause: Arc<io::Error>,
    },

    /// The record is larger than `max_record_size_bytes`.
    #[error("record of {size_bytes} bytes exceeds the commit log maximum of {max_bytes} bytes")]
    RecordTooLarge {
        /// Size of the rejected record payload.
        size_bytes: u64,
        /// The configured maximum.
        max_bytes: u64,
    },

    /// A new segment would exceed `total_space_bytes_max` and no segment was released
    /// (through `mark_flushed_up_to`) within the wait bound. Nothing was written.
    #[error(
        "commit log space exhausted: {live_bytes} bytes of segments, bound {max_bytes}; waited \
         {waited_ms} ms for flushed segments to be released"
    )]
    SpaceExhausted {
        /// Bytes of segment files when giving up.
        live_bytes: u64,
        /// The configured bound.
        max_bytes: u64,
        /// How long the append waited.
        waited_ms: u64,
    },

    /// A bounded wait expired. For a group-commit fsync the record was written and may
    /// still become durable: its outcome is unknown.
    #[error("commit log timed out after {waited_ms} ms waiting for {waiting_for}")]
    Timeout {
        /// What was awaited.
        waiting_for: &'static str,
        /// How long.
        waited_ms: u64,
    },

    /// The directory holds segments of a format version this code cannot read.
    #[error("commit log segment {path} has unsupported format version {version}")]
    UnsupportedVersion {
        /// The segment file.
        path: PathBuf,
        /// Its version.
        version: u32,
    },

    /// Another commit log has the directory open.
    #[error("commit log directory {path} is locked by another open commit log")]
    DirectoryLocked {
        /// The lock file.
        path: PathBuf,
    },

    /// `mark_flushed_up_to` was given a position past the end of the log.
    #[error("position {position} is beyond the end of the commit log ({end})")]
    PositionBeyondEnd {
        /// The position given.
        position: CommitLogPosition,
        /// The current end of the log.
        end: CommitLogPosition,
    },
}

impl CommitLogError {
    /// Builds an [`CommitLogError::Io`].
    pub(crate) fn io(operation: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        CommitLogError::Io {
            operation,
            path: path.into(),
            source,
        }
    }
}
