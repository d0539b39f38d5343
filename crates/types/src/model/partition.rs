//! Partitions (all the data of one partition key in one table), partition updates and
//! mutations.

use super::cell::{Cell, CellState};
use super::clustering::{ClusteringComparator, RangeTombstoneList, Slice};
use super::deletion::DeletionTime;
use super::row::{merge_sorted, ColumnData, Row};
use super::NO_DELETION_TIME_SECS;
use crate::token::PartitionKey;

/// Identifies a table for its whole life (Cassandra's table id, a UUID).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableId(pub uuid::Uuid);

/// The data of one partition: its tombstones, its static row and its rows in clustering
/// order. Every operation that builds one leaves it canonical: rows sorted and unique, and
/// nothing present that a tombstone of the partition shadows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Partition {
    /// Partition tombstone.
    pub deletion: DeletionTime,
    /// Range tombstones, canonical.
    pub range_tombstones: RangeTombstoneList,
    /// The static row, if any static column has data.
    pub static_row: Option<Row>,
    /// Rows sorted by clustering.
    pub rows: Vec<Row>,
}

impl Default for DeletionTime {
    fn default() -> Self {
        DeletionTime::LIVE
    }
}

/// What compaction may throw away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PurgePolicy {
    /// The current time: expired cells turn into tombstones.
    pub now_secs: i64,
    /// Tombstones deleted before this second are past `gc_grace_seconds`.
    pub gc_before_secs: i64,
    /// Only tombstones with a timestamp below this may go: data that they shadow may still
    /// exist in sources outside the compaction (other SSTables whose bloom filter may hold the
    /// key, memtables) with timestamps from their minimum on.
    pub max_purgeable_timestamp_micros: i64,
}

impl PurgePolicy {
    /// A policy that never purges tombstones (it still converts expired cells).
    pub fn keep_tombstones(now_secs: i64) -> Self {
        PurgePolicy {
            now_secs,
            gc_before_secs: i64::MIN,
            max_purgeable_timestamp_micros: i64::MIN,
        }
    }

    /// Whether a tombstone at `timestamp_micros`, made at `local_deletion_time_secs`, may go.
    pub fn can_purge(&self, timestamp_micros: i64, local_deletion_time_secs: i64) -> bool {
        local_deletion_time_secs < self.gc_before_secs
            && timestamp_micros < self.max_purgeable_timestamp_micros
    }

    fn can_purge_deletion(&self, d: &DeletionTime) -> bool {
        !d.is_live() && self.can_purge(d.marked_for_delete_at_micros, d.local_deletion_time_secs)
    }
}

/// Statistics SSTables keep about their contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionStats {
    /// Smallest timestamp of any cell, liveness or tombstone.
    pub min_timestamp_micros: i64,
    /// Largest timestamp.
    pub max_timestamp_micros: i64,
    /// Smallest local deletion time (tombstones, expiring cells; live data counts as never).
    pub min_local_deletion_time_secs: i64,
    /// Largest local deletion time (`NO_DELETION_TIME_SECS` once any live data is present).
    pub max_local_deletion_time_secs: i64,
    /// Tombstones of every kind, and expiring cells (they will become tombstones).
    pub tombstone_count: u64,
    /// Cells.
    pub cell_count: u64,
    /// Rows, including static rows.
    pub row_count: u64,
}

impl Default for PartitionStats {
    fn default() -> Self {
        PartitionStats {
            min_timestamp_micros: i64::MAX,
            max_timestamp_micros: i64::MIN,
            min_local_deletion_time_secs: i64::MAX,
            max_local_deletion_time_secs: i64::MIN,
            tombstone_count: 0,
            cell_count: 0,
            row_count: 0,
        }
    }
}

impl PartitionStats {
    fn timestamp(&mut self, ts: i64) {
        self.min_timestamp_micros = self.min_timestamp_micros.min(ts);
        self.max_timestamp_micros = self.max_timestamp_micros.max(ts);
    }

    fn ldt(&mut self, ldt: i64) {
        self.min_local_deletion_time_secs = self.min_local_deletion_time_secs.min(ldt);
        self.max_local_deletion_time_secs = self.max_local_deletion_time_secs.max(ldt);
    }

    fn deletion(&mut self, d: &DeletionTime) {
        if !d.is_live() {
            self.timestamp(d.marked_for_delete_at_micros);
            self.ldt(d.local_deletion_time_secs);
            self.tombstone_count += 1;
        }
    }

    fn cell(&mut self, c: &Cell) {
        self.cell_count += 1;
        self.timestamp(c.timestamp_micros);
        self.ldt(c.local_deletion_time_secs());
        if !matches!(c.state, CellState::Live) {
            self.tombstone_count += 1;
        }
    }

    fn row(&mut self, r: &Row) {
        self.row_count += 1;
        self.deletion(&r.deletion);
        if let Some(l) = r.liveness {
            self.timestamp(l.timestamp_micros);
            self.ldt(if l.is_expiring() {
                l.local_expiration_time_secs
            } else {
                NO_DELETION_TIME_SECS
            });
        }
        for (_, data) in &r.columns {
            match data {
                ColumnData::Simple(c) => self.cell(c),
                ColumnData::Complex(cc) => {
                    self.deletion(&cc.deletion);
                    cc.cells.iter().for_each(|(_, c)| self.cell(c));
                }
            }
        }
    }

    /// Folds another partition's statistics in.
    pub fn merge(&mut self, other: &PartitionStats) {
        self.min_timestamp_micros = self.min_timestamp_micros.min(other.min_timestamp_micros);
        self.max_timestamp_micros = self.max_timestamp_micros.max(other.max_timestamp_micros);
        self.min_local_deletion_time_secs = self
            .min_local_deletion_time_secs
            .min(other.min_local_deletion_time_secs);
        self.max_local_deletion_time_secs = self
            .max_local_deletion_time_secs
            .max(other.max_local_deletion_time_secs);
        self.tombstone_count += other.tombstone_count;
        self.cell_count += other.cell_count;
        self.row_count += other.row_count;
    }
}

impl Partition {
    /// An empty partition.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the partition carries nothing (no data and no tombstone).
    pub fn is_empty(&self) -> bool {
        self.deletion.is_live()
            && self.range_tombstones.is_empty()
            && self.static_row.is_none()
            && self.rows.is_empty()
    }

    /// Makes a partition built by hand canonical: sorts and merges rows, merges range
    /// tombstones, removes shadowed data.
    pub fn canonicalize(mut self, cmp: &ClusteringComparator) -> Partition {
        self.rows
            .sort_by(|a, b| cmp.compare(&a.clustering, &b.clustering));
        let mut rows: Vec<Row> = Vec::with_capacity(self.rows.len());
        for r in self.rows.drain(..) {
            match rows.last_mut() {
                Some(last) if cmp.compare(&last.clustering, &r.clustering).is_eq() => {
                    let prev = std::mem::replace(last, Row::new(r.clustering.clone()));
                    *last = prev.merge(r);
                }
                _ => rows.push(r),
            }
        }
        self.rows = rows;
        self.shadow(cmp);
        self
    }

    /// Merges two canonical partitions of the same key into a canonical partition.
    /// Commutative, associative and idempotent.
    pub fn merge(self, cmp: &ClusteringComparator, other: Partition) -> Partition {
        let deletion = self.deletion.max(other.deletion);
        let range_tombstones = self.range_tombstones.merge(cmp, &other.range_tombstones);
        let static_row = match (self.static_row, other.static_row) {
            (Some(a), Some(b)) => Some(a.merge(b)),
            (a, b) => a.or(b),
        };
        let rows = merge_sorted(
            self.rows,
            other.rows,
            |a, b| cmp.compare(&a.clustering, &b.clustering),
            Row::merge,
        );
        let mut merged = Partition {
            deletion,
            range_tombstones,
            static_row,
            rows,
        };
        merged.shadow(cmp);
        merged
    }

    fn shadow(&mut self, cmp: &ClusteringComparator) {
        let deletion = self.deletion;
        self.range_tombstones.remove_covered_by(&deletion);
        if let Some(s) = self.static_row.as_mut() {
            if !s.shadow(deletion) {
                self.static_row = None;
            }
        }
        let rts = &self.range_tombstones;
        self.rows.retain_mut(|r| {
            let outer = if rts.is_empty() {
                deletion
            } else {
                deletion.max(rts.deletion_for(cmp, &r.clustering))
            };
            r.shadow(outer)
        });
    }

    /// Compaction's purge: expired cells become tombstones, and tombstones that the policy
    /// allows are dropped.
    pub fn purge(&mut self, policy: &PurgePolicy) {
        if policy.can_purge_deletion(&self.deletion) {
            self.deletion = DeletionTime::LIVE;
        }
        self.range_tombstones
            .retain(|rt| !policy.can_purge_deletion(&rt.deletion));
        if let Some(s) = self.static_row.as_mut() {
            if !purge_row(s, policy) {
                self.static_row = None;
            }
        }
        self.rows.retain_mut(|r| purge_row(r, policy));
    }

    /// Only what is live at `now_secs`: no tombstones, no expired data, no rows without live
    /// data. This is what `SELECT` sees.
    pub fn live_view(&self, now_secs: i64) -> Partition {
        Partition {
            deletion: DeletionTime::LIVE,
            range_tombstones: RangeTombstoneList::new(),
            static_row: self.static_row.as_ref().and_then(|r| r.live_part(now_secs)),
            rows: self
                .rows
                .iter()
                .filter_map(|r| r.live_part(now_secs))
                .collect(),
        }
    }

    /// The part of the partition inside the given slices: rows in any slice, range
    /// tombstones clipped to them; the partition tombstone and static row stay. `slices` must
    /// be sorted and disjoint.
    pub fn restrict(&self, cmp: &ClusteringComparator, slices: &[Slice]) -> Partition {
        let rts = self.range_tombstones.restricted_to_slices(cmp, slices);
        let rows = self
            .rows
            .iter()
            .filter(|r| slices.iter().any(|s| cmp.slice_contains(s, &r.clustering)))
            .cloned()
            .collect();
        Partition {
            deletion: self.deletion,
            range_tombstones: rts,
            static_row: self.static_row.clone(),
            rows,
        }
    }

    /// Statistics of the partition's contents.
    pub fn stats(&self) -> PartitionStats {
        let mut s = PartitionStats::default();
        s.deletion(&self.deletion);
        for rt in self.range_tombstones.iter() {
            s.deletion(&rt.deletion);
        }
        if let Some(r) = &self.static_row {
            s.row(r);
        }
        for r in &self.rows {
            s.row(r);
        }
        s
    }

    /// Approximate heap footprint, for memory accounting.
    pub fn size_bytes(&self) -> usize {
        let rts: usize = self
            .range_tombstones
            .iter()
            .map(|r| 64 + r.slice.start.prefix.size_bytes() + r.slice.end.prefix.size_bytes())
            .sum();
        let rows: usize = self.rows.iter().map(Row::size_bytes).sum();
        96 + rts + rows + self.static_row.as_ref().map_or(0, Row::size_bytes)
    }
}

fn purge_row(r: &mut Row, policy: &PurgePolicy) -> bool {
    if policy.can_purge_deletion(&r.deletion) {
        r.deletion = DeletionTime::LIVE;
    }
    if let Some(l) = r.liveness {
        if !l.is_live(policy.now_secs)
            && policy.can_purge(l.timestamp_micros, l.local_expiration_time_secs)
        {
            r.liveness = None;
        }
    }
    r.columns.retain_mut(|(_, data)| match data {
        ColumnData::Simple(c) => purge_cell(c, policy),
        ColumnData::Complex(cc) => {
            if policy.can_purge_deletion(&cc.deletion) {
                cc.deletion = DeletionTime::LIVE;
            }
            cc.cells.retain_mut(|(_, c)| purge_cell(c, policy));
            !cc.deletion.is_live() || !cc.cells.is_empty()
        }
    });
    !r.is_empty()
}

/// Converts an expired cell to its tombstone and reports whether the cell survives.
fn purge_cell(c: &mut Cell, policy: &PurgePolicy) -> bool {
    if let Some(t) = c.expired_to_tombstone(policy.now_secs) {
        *c = t;
    }
    match c.state {
        CellState::Tombstone {
            local_deletion_time_secs,
        } => !policy.can_purge(c.timestamp_micros, local_deletion_time_secs),
        _ => true,
    }
}

/// A change to one partition of one table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionUpdate {
    /// The table.
    pub table: TableId,
    /// The partition key.
    pub key: PartitionKey,
    /// What is written: canonical for the table's clustering comparator.
    pub partition: Partition,
}

/// An atomic group of partition updates: the unit of the commit log, of replication and of
/// hints. All of it is applied or none of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mutation {
    /// The updates.
    pub updates: Vec<PartitionUpdate>,
}
