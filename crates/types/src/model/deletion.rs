//! Deletion times (tombstones) and row liveness.

use super::{NO_DELETION_TIME_SECS, NO_TIMESTAMP_MICROS};

/// A tombstone: everything written at or before `marked_for_delete_at_micros` is deleted.
/// `local_deletion_time_secs` is when the deletion happened on the coordinator's clock; it
/// decides when the tombstone may be purged (after `gc_grace_seconds`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeletionTime {
    /// Timestamp of the deletion; data with a timestamp at or below it is shadowed.
    pub marked_for_delete_at_micros: i64,
    /// Wall-clock second the deletion was made.
    pub local_deletion_time_secs: i64,
}

impl DeletionTime {
    /// No deletion at all.
    pub const LIVE: DeletionTime = DeletionTime {
        marked_for_delete_at_micros: NO_TIMESTAMP_MICROS,
        local_deletion_time_secs: NO_DELETION_TIME_SECS,
    };

    /// A deletion at `timestamp_micros` made at `local_deletion_time_secs`.
    pub fn new(timestamp_micros: i64, local_deletion_time_secs: i64) -> Self {
        DeletionTime {
            marked_for_delete_at_micros: timestamp_micros,
            local_deletion_time_secs,
        }
    }

    /// Whether this is the absence of a deletion.
    pub fn is_live(&self) -> bool {
        *self == Self::LIVE
    }

    /// Whether data written at `timestamp_micros` is shadowed by this deletion.
    pub fn deletes(&self, timestamp_micros: i64) -> bool {
        !self.is_live() && timestamp_micros <= self.marked_for_delete_at_micros
    }

    /// Cassandra's `supersedes`: a later timestamp wins, then a later local deletion time.
    pub fn supersedes(&self, other: &DeletionTime) -> bool {
        (
            self.marked_for_delete_at_micros,
            self.local_deletion_time_secs,
        ) > (
            other.marked_for_delete_at_micros,
            other.local_deletion_time_secs,
        )
    }

    /// The winner of two deletions.
    pub fn max(self, other: DeletionTime) -> DeletionTime {
        if other.supersedes(&self) {
            other
        } else {
            self
        }
    }

    /// Whether this deletion is at least as strong as `other` (so `other` is redundant).
    pub fn covers(&self, other: &DeletionTime) -> bool {
        !other.supersedes(self)
    }
}

/// The primary-key liveness of a row: what an `INSERT` writes besides the cells, so that a
/// row inserted with only its primary key exists. `UPDATE` does not write it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LivenessInfo {
    /// Write timestamp of the primary key.
    pub timestamp_micros: i64,
    /// Time to live, 0 for none.
    pub ttl_secs: u32,
    /// When an expiring liveness expires; `NO_DELETION_TIME_SECS` when `ttl_secs == 0`.
    pub local_expiration_time_secs: i64,
}

impl LivenessInfo {
    /// A non-expiring liveness at `timestamp_micros`.
    pub fn live(timestamp_micros: i64) -> Self {
        LivenessInfo {
            timestamp_micros,
            ttl_secs: 0,
            local_expiration_time_secs: NO_DELETION_TIME_SECS,
        }
    }

    /// An expiring liveness: written at `now_secs` with `ttl_secs`.
    pub fn expiring(timestamp_micros: i64, ttl_secs: u32, now_secs: i64) -> Self {
        assert!(ttl_secs > 0, "an expiring liveness needs a positive ttl");
        LivenessInfo {
            timestamp_micros,
            ttl_secs,
            local_expiration_time_secs: now_secs.saturating_add(i64::from(ttl_secs)),
        }
    }

    /// Whether the liveness has a TTL.
    pub fn is_expiring(&self) -> bool {
        self.ttl_secs > 0
    }

    /// Whether the primary key is live at `now_secs`.
    pub fn is_live(&self, now_secs: i64) -> bool {
        !self.is_expiring() || now_secs < self.local_expiration_time_secs
    }

    /// Cassandra's `LivenessInfo.supersedes`: later timestamp; on a tie an expiring info beats
    /// a non-expiring one and the later expiration wins. TTL breaks the last tie so that the
    /// order is total.
    pub fn supersedes(&self, other: &LivenessInfo) -> bool {
        self.order_key() > other.order_key()
    }

    fn order_key(&self) -> (i64, bool, i64, u32) {
        let expiring = self.is_expiring();
        let expiration = if expiring {
            self.local_expiration_time_secs
        } else {
            i64::MIN
        };
        (self.timestamp_micros, expiring, expiration, self.ttl_secs)
    }

    /// The winner of two liveness infos.
    pub fn max(self, other: LivenessInfo) -> LivenessInfo {
        if other.supersedes(&self) {
            other
        } else {
            self
        }
    }
}
