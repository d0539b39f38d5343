//! Commit log configuration and its validation.
//!
//! Invariant established by [`CommitLogConfig::validate`]: a record of the maximum size always
//! fits in an empty segment, and the space bound leaves room for the active segment plus one
//! preallocated spare.

use std::path::PathBuf;
use std::time::Duration;

use super::error::CommitLogError;
use super::format::{FORMAT_MAX_PAYLOAD_BYTES, RECORD_HEADER_LEN_BYTES, SEGMENT_HEADER_LEN_BYTES};

/// Default segment size, like Cassandra's `commitlog_segment_size` (32 MiB).
pub const DEFAULT_SEGMENT_SIZE_BYTES: u64 = 32 * 1024 * 1024;
/// Default bound on the bytes of all segment files (Cassandra's `commitlog_total_space`
/// default upper bound, 8 GiB).
pub const DEFAULT_TOTAL_SPACE_BYTES_MAX: u64 = 8 * 1024 * 1024 * 1024;
/// Default period of the background fsync in [`SyncMode::Periodic`] (Cassandra's
/// `commitlog_sync_period`, 10 s).
pub const DEFAULT_SYNC_PERIOD: Duration = Duration::from_secs(10);
/// Default group-commit window of [`SyncMode::Batch`]: no extra wait, writers that arrive
/// while an fsync runs share the next one.
pub const DEFAULT_GROUP_WINDOW: Duration = Duration::ZERO;
/// Default bound on how long an append waits for a segment or a group-commit fsync.
pub const DEFAULT_APPEND_WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Smallest accepted segment size.
pub const MIN_SEGMENT_SIZE_BYTES: u64 = 1024;
/// Largest accepted segment size (Cassandra also caps segments below 2 GiB).
pub const MAX_SEGMENT_SIZE_BYTES: u64 = 1024 * 1024 * 1024;
/// Largest accepted group-commit window.
pub const MAX_GROUP_WINDOW: Duration = Duration::from_secs(1);

/// When appended records are made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// `append` returns at once; a background thread writes buffered records out and fsyncs
    /// every `period` (and [`super::CommitLog::sync`] forces it). A crash (of the process or
    /// the machine) may lose the records of the last period.
    Periodic {
        /// Interval between background fsyncs.
        period: Duration,
    },
    /// `append` returns only once its record is fsynced. Concurrent writers share fsyncs
    /// (group commit): one writer fsyncs for everyone who appended before the fsync began.
    Batch {
        /// How long the group-commit leader waits for more writers before writing and
        /// fsyncing (Cassandra's `commitlog_sync_group_window`). Zero still shares an fsync
        /// among the writers that arrived while the previous one ran.
        window: Duration,
    },
}

impl SyncMode {
    /// Periodic mode with Cassandra's default 10 s period.
    pub const fn periodic_default() -> Self {
        SyncMode::Periodic {
            period: DEFAULT_SYNC_PERIOD,
        }
    }

    /// Batch (group commit) mode with no extra window.
    pub const fn batch_default() -> Self {
        SyncMode::Batch {
            window: DEFAULT_GROUP_WINDOW,
        }
    }
}

impl Default for SyncMode {
    fn default() -> Self {
        Self::periodic_default()
    }
}

/// Configuration of a [`super::CommitLog`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitLogConfig {
    /// Directory holding the segment files (created if missing). One log per directory: it is
    /// locked while open.
    pub dir: PathBuf,
    /// When records become durable.
    pub sync_mode: SyncMode,
    /// Size every new segment file is preallocated to.
    pub segment_size_bytes: u64,
    /// Largest accepted record payload; default half a segment (Cassandra's
    /// `max_mutation_size`).
    pub max_record_size_bytes: u64,
    /// Bound on the bytes of all segment files (live ones plus the preallocated spare). When
    /// a new segment would exceed it, appends wait up to `append_wait_timeout` for
    /// [`super::CommitLog::mark_flushed_up_to`] to release segments, then fail with
    /// [`CommitLogError::SpaceExhausted`].
    pub total_space_bytes_max: u64,
    /// Bound on every wait inside `append` and `sync`: for a new segment (space or
    /// allocation) and for a group-commit fsync.
    pub append_wait_timeout: Duration,
}

impl CommitLogConfig {
    /// A configuration with the defaults: periodic sync every 10 s, 32 MiB segments, records
    /// up to 16 MiB, 8 GiB of segments, 30 s wait bound.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        CommitLogConfig {
            dir: dir.into(),
            sync_mode: SyncMode::default(),
            segment_size_bytes: DEFAULT_SEGMENT_SIZE_BYTES,
            max_record_size_bytes: DEFAULT_SEGMENT_SIZE_BYTES / 2,
            total_space_bytes_max: DEFAULT_TOTAL_SPACE_BYTES_MAX,
            append_wait_timeout: DEFAULT_APPEND_WAIT_TIMEOUT,
        }
    }

    /// Sets the segment size and the maximum record size to half of it.
    pub fn with_segment_size(mut self, segment_size_bytes: u64) -> Self {
        self.segment_size_bytes = segment_size_bytes;
        self.max_record_size_bytes = segment_size_bytes / 2;
        self
    }

    /// Checks the configuration; see the module invariants.
    pub fn validate(&self) -> Result<(), CommitLogError> {
        let invalid = |reason: String| Err(CommitLogError::InvalidConfig { reason });
        if !(MIN_SEGMENT_SIZE_BYTES..=MAX_SEGMENT_SIZE_BYTES).contains(&self.segment_size_bytes) {
            return invalid(format!(
                "segment_size_bytes {} outside [{MIN_SEGMENT_SIZE_BYTES}, {MAX_SEGMENT_SIZE_BYTES}]",
                self.segment_size_bytes
            ));
        }
        let max_fitting =
            self.segment_size_bytes - SEGMENT_HEADER_LEN_BYTES - RECORD_HEADER_LEN_BYTES;
        if self.max_record_size_bytes > max_fitting.min(FORMAT_MAX_PAYLOAD_BYTES) {
            return invalid(format!(
                "max_record_size_bytes {} does not fit in a {}-byte segment (at most {})",
                self.max_record_size_bytes,
                self.segment_size_bytes,
                max_fitting.min(FORMAT_MAX_PAYLOAD_BYTES)
            ));
        }
        let min_total = self.segment_size_bytes.saturating_mul(2);
        if self.total_space_bytes_max < min_total {
            return invalid(format!(
                "total_space_bytes_max {} is below two segments ({min_total}): the active \
                 segment and a preallocated spare",
                self.total_space_bytes_max
            ));
        }
        if self.append_wait_timeout.is_zero() {
            return invalid("append_wait_timeout must be positive".to_owned());
        }
        match self.sync_mode {
            SyncMode::Periodic { period } if period.is_zero() => {
                invalid("periodic sync period must be positive".to_owned())
            }
            SyncMode::Batch { window } if window > MAX_GROUP_WINDOW => invalid(format!(
                "group commit window {window:?} exceeds {MAX_GROUP_WINDOW:?}"
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let config = CommitLogConfig::new("/tmp/x");
        config.validate().unwrap();
        assert_eq!(config.max_record_size_bytes, 16 * 1024 * 1024);
        CommitLogConfig::new("/tmp/x")
            .with_segment_size(MIN_SEGMENT_SIZE_BYTES)
            .validate()
            .unwrap();
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let base = CommitLogConfig::new("/tmp/x").with_segment_size(64 * 1024);
        let cases = [
            CommitLogConfig {
                segment_size_bytes: 10,
                ..base.clone()
            },
            CommitLogConfig {
                max_record_size_bytes: 64 * 1024,
                ..base.clone()
            },
            CommitLogConfig {
                total_space_bytes_max: 64 * 1024,
                ..base.clone()
            },
            CommitLogConfig {
                append_wait_timeout: Duration::ZERO,
                ..base.clone()
            },
            CommitLogConfig {
                sync_mode: SyncMode::Periodic {
                    period: Duration::ZERO,
                },
                ..base.clone()
            },
            CommitLogConfig {
                sync_mode: SyncMode::Batch {
                    window: Duration::from_secs(5),
                },
                ..base.clone()
            },
        ];
        for case in cases {
            assert!(
                matches!(case.validate(), Err(CommitLogError::InvalidConfig { .. })),
                "{case:?}"
            );
        }
        let largest = CommitLogConfig {
            max_record_size_bytes: 64 * 1024 - SEGMENT_HEADER_LEN_BYTES - RECORD_HEADER_LEN_BYTES,
            ..base
        };
        largest.validate().unwrap();
    }
}
