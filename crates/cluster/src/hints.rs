//! Hinted handoff storage: durable hints per target node, bounded by the hint window and a
//! disk quota, replayed in order when the target comes back.
//!
//! A coordinator that cannot deliver a write to a replica (down, or timed out) stores the
//! encoded mutation as a [`Hint`] for that replica with [`HintStore::store`]; when the replica
//! is up again, [`HintStore::replay`] hands the hints back in batches, in the order they were
//! stored, and forgets them only once the delivery callback has acknowledged them. The
//! mutation bytes are opaque here. All I/O is synchronous file I/O: async callers run the
//! store on blocking threads.
//!
//! Layout: `dir/<host-id>/` per target, holding append-only segment files
//! `hints-<version>-<seq>.log` of length-prefixed, CRC32C-checksummed records and a
//! `progress` file (the delivery watermark); `dir/hints.lock` keeps a second store out. The
//! byte layout is documented in the private `format` submodule (`hints/format.rs`).
//!
//! Invariants:
//! - Records of one target are delivered in the order they were stored: segment sequence
//!   numbers come from one counter, increasing for the life of the directory, and a segment is
//!   only appended to while it is the target's newest.
//! - Every open, and every replay, closes the segment being written: new hints always go to a
//!   new segment, so nothing is appended after a torn tail and a replay only reads segments
//!   that no longer change.
//! - A hint is acknowledged by `store` only once written (and fsynced when
//!   [`HintConfig::sync`]); a failed write is cut off again and the segment closed; a failed
//!   fsync closes the segment and is never retried.
//! - Delivery progress is recorded durably after each acknowledged batch (watermark file
//!   replaced by an atomic rename), *before* a fully delivered segment is deleted. A crash
//!   during replay therefore re-delivers at most the batch that was in flight; re-delivery is
//!   harmless because mutations are idempotent.
//! - Damaged bytes never cause a panic: the first damaged record of a segment (a torn tail
//!   after a crash, or corruption) ends that segment's readable data, with a warning naming
//!   the file and offset; later segments are still read.
//! - Hints older than [`HintConfig::max_hint_window`] are never delivered: refused by `store`,
//!   dropped during replay, and whole expired segments deleted at open and by
//!   [`HintStore::purge_expired`].
//! - The bytes of all segment files never exceed [`HintConfig::max_total_bytes`]: space is
//!   reserved atomically before writing.
//! - Memory is bounded: a replay holds one batch (at most the batch limit plus one hint, and a
//!   hint is at most [`MAX_HINT_RECORD_BYTES`]) and a 256 KiB read buffer; the store keeps a
//!   few counters per segment, never per hint.

mod config;
mod error;
mod format;
mod segment;
mod store;
#[cfg(test)]
mod tests;

use bytes::Bytes;

pub use config::{
    Clock, HintConfig, ManualClock, SystemClock, DEFAULT_MAX_HINT_WINDOW,
    DEFAULT_MAX_SEGMENT_BYTES, DEFAULT_MAX_TOTAL_BYTES, MAX_HINT_WINDOW, MAX_SEGMENT_BYTES,
    MIN_SEGMENT_BYTES,
};
pub use error::{HintError, ReplayError};
pub use format::{
    HeaderDefect, HINT_FORMAT_VERSION, RECORD_HEADER_LEN_BYTES, RECORD_OVERHEAD_BYTES,
    SEGMENT_HEADER_LEN_BYTES,
};
pub use segment::{DamageKind, SegmentDamage, MAX_HINT_RECORD_BYTES};
pub use store::HintStore;

/// A write a target replica missed, kept for later delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// When the hint was created (wall clock, microseconds since the Unix epoch); the hint
    /// expires `max_hint_window` later.
    pub created_at_micros: i64,
    /// The encoded mutation, opaque to the store.
    pub mutation: Bytes,
}

impl Hint {
    /// Bytes the hint takes in a segment: the mutation plus [`RECORD_OVERHEAD_BYTES`].
    pub fn record_bytes(&self) -> u64 {
        self.mutation.len() as u64 + RECORD_OVERHEAD_BYTES
    }
}

/// The undelivered hints of one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HintBacklog {
    /// Number of hints.
    pub hints: u64,
    /// Their size in segment files ([`Hint::record_bytes`] summed).
    pub bytes: u64,
    /// Creation time of the oldest. For a partly delivered segment this counts the oldest
    /// hint of the whole segment, so it may be older than the oldest undelivered hint.
    pub oldest_micros: i64,
}

/// Counters since the store was opened (monotonic).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HintMetrics {
    /// Hints accepted by `store`.
    pub hints_stored: u64,
    /// Their record bytes.
    pub bytes_stored: u64,
    /// Hints acknowledged by a replay's delivery callback.
    pub hints_replayed: u64,
    /// Their record bytes.
    pub bytes_replayed: u64,
    /// Hints dropped because they outlived the hint window: refused by `store`, skipped by
    /// replay, or deleted with an expired segment (at open too).
    pub hints_dropped_expired: u64,
    /// Hints refused by `store` because the disk quota was reached.
    pub hints_dropped_quota: u64,
    /// Hints deleted by `drop_target` or `truncate_all`.
    pub hints_dropped_removed: u64,
    /// Hints lost because a segment turned out damaged during replay (damage found at open
    /// is counted in `damaged_segments` only: the number of hints it cost is unknown).
    pub hints_dropped_damaged: u64,
    /// Damaged places found in segments, at open or during replay.
    pub damaged_segments: u64,
}

/// What one call of [`HintStore::replay`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayOutcome {
    /// Hints acknowledged by the delivery callback.
    pub hints_delivered: u64,
    /// Their record bytes.
    pub bytes_delivered: u64,
    /// Expired hints skipped (never given to the callback).
    pub hints_expired: u64,
    /// Calls of the delivery callback that succeeded.
    pub batches: u64,
    /// Segment files fully delivered and deleted.
    pub segments_completed: u64,
    /// The target was dropped while replaying; the replay stopped.
    pub target_removed: bool,
}

/// What [`HintStore::open`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Targets with a directory.
    pub targets: usize,
    /// Segment files kept, holding undelivered hints.
    pub segments: usize,
    /// Undelivered hints in them.
    pub hints: u64,
    /// Their record bytes.
    pub bytes: u64,
    /// Expired hints deleted with their segments.
    pub hints_expired: u64,
    /// Segment files deleted because nothing in them was left to deliver (delivered before a
    /// crash, expired, or unreadable).
    pub segments_removed: usize,
    /// Damaged places found (each also logged with a warning).
    pub damages: Vec<SegmentDamage>,
}
