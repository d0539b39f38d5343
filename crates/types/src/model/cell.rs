//! Cells: one value of one column (or one element of a non-frozen collection).

use bytes::Bytes;

use super::NO_DELETION_TIME_SECS;

/// What a cell is: a live value, a value with a TTL, or a tombstone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CellState {
    /// A value with no expiry.
    Live,
    /// A value that expires at `local_expiration_time_secs`.
    Expiring {
        /// The TTL it was written with.
        ttl_secs: u32,
        /// When it stops being live.
        local_expiration_time_secs: i64,
    },
    /// A deleted cell.
    Tombstone {
        /// When the deletion was made (gc_grace counts from here).
        local_deletion_time_secs: i64,
    },
}

/// A cell: timestamped value or tombstone.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cell {
    /// Write timestamp.
    pub timestamp_micros: i64,
    /// Live, expiring or tombstone.
    pub state: CellState,
    /// The value; empty for tombstones.
    pub value: Bytes,
}

impl Cell {
    /// A live cell.
    pub fn live(timestamp_micros: i64, value: Bytes) -> Self {
        Cell {
            timestamp_micros,
            state: CellState::Live,
            value,
        }
    }

    /// An expiring cell written at `now_secs` with `ttl_secs` (> 0).
    pub fn expiring(timestamp_micros: i64, value: Bytes, ttl_secs: u32, now_secs: i64) -> Self {
        assert!(ttl_secs > 0, "an expiring cell needs a positive ttl");
        Cell {
            timestamp_micros,
            state: CellState::Expiring {
                ttl_secs,
                local_expiration_time_secs: now_secs.saturating_add(i64::from(ttl_secs)),
            },
            value,
        }
    }

    /// A cell tombstone.
    pub fn tombstone(timestamp_micros: i64, local_deletion_time_secs: i64) -> Self {
        Cell {
            timestamp_micros,
            state: CellState::Tombstone {
                local_deletion_time_secs,
            },
            value: Bytes::new(),
        }
    }

    /// Whether this cell is a tombstone (expired cells are not, until purged: see
    /// [`Cell::is_live`]).
    pub fn is_tombstone(&self) -> bool {
        matches!(self.state, CellState::Tombstone { .. })
    }

    /// The local deletion time as Cassandra defines it: the deletion time of a tombstone, the
    /// expiry of an expiring cell, `NO_DELETION_TIME_SECS` for a live cell.
    pub fn local_deletion_time_secs(&self) -> i64 {
        match self.state {
            CellState::Live => NO_DELETION_TIME_SECS,
            CellState::Expiring {
                local_expiration_time_secs,
                ..
            } => local_expiration_time_secs,
            CellState::Tombstone {
                local_deletion_time_secs,
            } => local_deletion_time_secs,
        }
    }

    /// TTL of the cell, 0 when none.
    pub fn ttl_secs(&self) -> u32 {
        match self.state {
            CellState::Expiring { ttl_secs, .. } => ttl_secs,
            _ => 0,
        }
    }

    /// Whether the cell holds a value at `now_secs`.
    pub fn is_live(&self, now_secs: i64) -> bool {
        match self.state {
            CellState::Live => true,
            CellState::Expiring {
                local_expiration_time_secs,
                ..
            } => now_secs < local_expiration_time_secs,
            CellState::Tombstone { .. } => false,
        }
    }

    /// The tombstone an expired cell becomes: its deletion time is the write time (expiry
    /// minus TTL), so gc_grace counts from when it was written, as in Cassandra.
    pub fn expired_to_tombstone(&self, now_secs: i64) -> Option<Cell> {
        match self.state {
            CellState::Expiring {
                ttl_secs,
                local_expiration_time_secs,
            } if now_secs >= local_expiration_time_secs => Some(Cell::tombstone(
                self.timestamp_micros,
                local_expiration_time_secs.saturating_sub(i64::from(ttl_secs)),
            )),
            _ => None,
        }
    }

    /// Cassandra's reconciliation (`Cells.resolveRegular`): the higher timestamp wins. On equal
    /// timestamps a cell carrying a deletion time (tombstone or expiring) beats a live cell,
    /// since an expiring cell becomes a tombstone later and the outcome must not depend on when
    /// it is reconciled (CASSANDRA-14592); a tombstone beats an expiring cell; then the later
    /// local deletion time wins; then the greater value (unsigned bytes). The TTL breaks the
    /// last tie, which makes this a total order and so the merge commutative, associative and
    /// idempotent.
    pub fn supersedes(&self, other: &Cell) -> bool {
        self.order_key() > other.order_key()
    }

    fn order_key(&self) -> (i64, u8, i64, &[u8], u32) {
        let rank = match self.state {
            CellState::Live => 0,
            CellState::Expiring { .. } => 1,
            CellState::Tombstone { .. } => 2,
        };
        (
            self.timestamp_micros,
            rank,
            self.local_deletion_time_secs(),
            self.value.as_ref(),
            self.ttl_secs(),
        )
    }

    /// The winner of two cells.
    pub fn reconcile(self, other: Cell) -> Cell {
        if other.supersedes(&self) {
            other
        } else {
            self
        }
    }

    /// Approximate heap footprint, for memory accounting.
    pub fn size_bytes(&self) -> usize {
        32 + self.value.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_timestamp_wins() {
        let a = Cell::live(1, Bytes::from_static(b"z"));
        let b = Cell::live(2, Bytes::from_static(b"a"));
        assert_eq!(a.clone().reconcile(b.clone()), b);
        assert_eq!(b.clone().reconcile(a), b);
    }

    #[test]
    fn tombstone_beats_live_on_tie() {
        let live = Cell::live(5, Bytes::from_static(b"v"));
        let dead = Cell::tombstone(5, 100);
        assert_eq!(live.clone().reconcile(dead.clone()), dead);
        assert_eq!(dead.clone().reconcile(live), dead);
    }

    #[test]
    fn later_deletion_time_then_greater_value_wins() {
        let a = Cell::tombstone(5, 100);
        let b = Cell::tombstone(5, 200);
        assert_eq!(a.reconcile(b.clone()), b);
        let x = Cell::live(5, Bytes::from_static(b"\x01"));
        let y = Cell::live(5, Bytes::from_static(b"\xff"));
        assert_eq!(x.reconcile(y.clone()), y);
        // An expiring cell beats a live one of the same timestamp whatever their values: it
        // will be a tombstone once expired, and the winner must not change with the clock
        // (CASSANDRA-14592).
        let e = Cell::expiring(5, Bytes::from_static(b"\x00"), 10, 0);
        let l = Cell::live(5, Bytes::from_static(b"\xff"));
        assert_eq!(e.clone().reconcile(l.clone()), e);
        assert_eq!(l.reconcile(e.clone()), e);
        // A tombstone beats an expiring cell of the same timestamp.
        let t = Cell::tombstone(5, 1);
        assert_eq!(e.reconcile(t.clone()), t);
    }

    #[test]
    fn expired_cell_becomes_tombstone_at_write_time() {
        let e = Cell::expiring(7, Bytes::from_static(b"v"), 10, 1000);
        assert!(e.is_live(1009));
        assert!(!e.is_live(1010));
        assert_eq!(e.expired_to_tombstone(1009), None);
        assert_eq!(e.expired_to_tombstone(1010), Some(Cell::tombstone(7, 1000)));
    }
}
