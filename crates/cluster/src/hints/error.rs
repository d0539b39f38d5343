//! Errors of the hint store.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use super::ReplayOutcome;
use crate::ids::HostId;

/// Everything that can go wrong in the hint store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HintError {
    /// The configuration is unusable.
    #[error("invalid hint store configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },

    /// An I/O error. For `store`, the hint was not stored (a partly written record is cut off
    /// again, or at least never read back).
    #[error("hint store I/O error while {operation} {path}: {source}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// An fsync of a segment failed. The hint was written but may not be durable; the
    /// segment takes no more hints (fsyncs are never retried: after a failure the kernel may
    /// have dropped the dirty pages).
    #[error("fsync of hint segment {path} failed: {cause}")]
    SyncFailed {
        /// The segment file.
        path: PathBuf,
        /// The original error (shared by every store that waited on the failed fsync).
        #[source]
        cause: Arc<io::Error>,
    },

    /// Another hint store has the directory open.
    #[error("hint directory is locked by another hint store (lock file {path})")]
    DirectoryLocked {
        /// The lock file.
        path: PathBuf,
    },

    /// Storing the hint would exceed the disk quota (`max_total_bytes`). Nothing was written.
    #[error(
        "hint disk quota exceeded: {used_bytes} bytes used, {needed_bytes} more needed, quota \
         {quota_bytes} bytes"
    )]
    QuotaExceeded {
        /// Bytes of hint files when refusing.
        used_bytes: u64,
        /// Bytes the hint needed (its record, plus a segment header if a segment was due).
        needed_bytes: u64,
        /// The configured quota.
        quota_bytes: u64,
    },

    /// The hint is already older than the hint window: it would never be delivered.
    #[error(
        "hint created at {created_at_micros} us is {age_micros} us old, beyond the hint window \
         of {window_micros} us"
    )]
    WindowExceeded {
        /// The hint's creation time.
        created_at_micros: i64,
        /// Its age at the store's clock.
        age_micros: i64,
        /// The configured window.
        window_micros: i64,
    },

    /// The mutation is larger than a hint may be ([`super::HintConfig::max_mutation_bytes`]).
    #[error("hint mutation of {size_bytes} bytes exceeds the maximum of {max_bytes} bytes")]
    HintTooLarge {
        /// The mutation's size.
        size_bytes: u64,
        /// The maximum.
        max_bytes: u64,
    },

    /// Hints of this target are already being replayed by another caller.
    #[error("hints for {target} are already being replayed")]
    ReplayInProgress {
        /// The target.
        target: HostId,
    },
}

impl HintError {
    /// Builds an [`HintError::Io`].
    pub(crate) fn io(operation: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        HintError::Io {
            operation,
            path: path.into(),
            source,
        }
    }
}

/// Why a replay stopped early. Either way, every hint not yet acknowledged is kept, and what
/// was delivered before the failure is in `outcome`.
#[derive(Debug)]
pub enum ReplayError<E> {
    /// The delivery callback failed: the batch it was given stays pending.
    Delivery {
        /// The callback's error.
        error: E,
        /// What the replay achieved before.
        outcome: ReplayOutcome,
    },
    /// The store failed (reading a segment or recording progress).
    Store {
        /// The store's error.
        error: HintError,
        /// What the replay achieved before.
        outcome: ReplayOutcome,
    },
}

impl<E> ReplayError<E> {
    /// What the replay achieved before it stopped.
    pub fn outcome(&self) -> &ReplayOutcome {
        match self {
            ReplayError::Delivery { outcome, .. } | ReplayError::Store { outcome, .. } => outcome,
        }
    }
}

impl<E: fmt::Display> fmt::Display for ReplayError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Delivery { error, outcome } => write!(
                f,
                "hint delivery failed after {} hints: {error}",
                outcome.hints_delivered
            ),
            ReplayError::Store { error, outcome } => write!(
                f,
                "hint replay failed after {} hints: {error}",
                outcome.hints_delivered
            ),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for ReplayError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReplayError::Delivery { error, .. } => Some(error),
            ReplayError::Store { error, .. } => Some(error),
        }
    }
}
