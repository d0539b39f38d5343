//! Memtables: the in-memory, concurrently writable, sorted part of a table.
//!
//! Partitions live in a lock-free skip list ordered by partition key (token, then key bytes);
//! each partition is guarded by its own mutex and keeps its rows in a B-tree ordered by the
//! table's clustering comparator, so writes to different partitions never contend and a
//! write into a wide partition costs O(log n).
//!
//! A memtable stores updates merged but not shadowed; [`Memtable::get`] and the iterators hand
//! out canonical partitions.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering as AtomicOrdering};

use crossbeam_skiplist::SkipMap;
use meridian_types::model::{
    Clustering, ClusteringComparator, Cut, DeletionTime, Partition, RangeTombstoneList, Row, Slice,
};
use meridian_types::token::PartitionKey;
use parking_lot::Mutex;

use crate::commitlog::CommitLogPosition;

/// A position in clustering order: a row's clustering or a cut between clusterings (cuts are
/// only used to look up ranges). Carries the comparator so that a `BTreeMap` can order it.
#[derive(Clone, Debug)]
struct MemKey {
    pos: Position,
    cmp: ClusteringComparator,
}

#[derive(Clone, Debug)]
enum Position {
    Row(Clustering),
    Cut(Cut),
}

impl Ord for MemKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.pos, &other.pos) {
            (Position::Row(a), Position::Row(b)) => self.cmp.compare(a, b),
            (Position::Cut(a), Position::Cut(b)) => self.cmp.compare_cuts(a, b),
            (Position::Cut(a), Position::Row(b)) => self.cmp.compare_cut_to_clustering(a, b),
            (Position::Row(a), Position::Cut(b)) => {
                self.cmp.compare_cut_to_clustering(b, a).reverse()
            }
        }
    }
}

impl PartialOrd for MemKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(Ord::cmp(self, other))
    }
}

impl PartialEq for MemKey {
    fn eq(&self, other: &Self) -> bool {
        Ord::cmp(self, other) == Ordering::Equal
    }
}

impl Eq for MemKey {}

/// The rows of a memtable partition. Most partitions of most tables hold one row (tables
/// without clustering columns, time-ordered keys), so a single row is kept inline and the
/// B-tree, whose first leaf alone is ~1.6 KB, is only built for a second distinct row.
#[derive(Default)]
enum MemRows {
    #[default]
    Empty,
    One(Row),
    Many(BTreeMap<MemKey, Row>),
}

#[derive(Default)]
struct MemPartition {
    deletion: DeletionTime,
    range_tombstones: RangeTombstoneList,
    static_row: Option<Row>,
    rows: MemRows,
}

impl MemPartition {
    /// Merges `update` in; returns the bytes of structure it allocated besides the update's
    /// own data (a B-tree when the partition gets its second row).
    fn apply(&mut self, cmp: &ClusteringComparator, update: Partition) -> usize {
        let mut overhead = 0;
        self.deletion = self.deletion.max(update.deletion);
        if !update.range_tombstones.is_empty() {
            self.range_tombstones = self.range_tombstones.merge(cmp, &update.range_tombstones);
        }
        if let Some(s) = update.static_row {
            self.static_row = Some(match self.static_row.take() {
                Some(old) => old.merge(s),
                None => s,
            });
        }
        for row in update.rows {
            self.rows = match std::mem::take(&mut self.rows) {
                MemRows::Empty => MemRows::One(row),
                MemRows::One(old) if cmp.compare(&old.clustering, &row.clustering).is_eq() => {
                    MemRows::One(old.merge(row))
                }
                MemRows::One(old) => {
                    overhead += BTREE_OVERHEAD_BYTES;
                    let mut map = BTreeMap::new();
                    insert_row(&mut map, cmp, old);
                    insert_row(&mut map, cmp, row);
                    MemRows::Many(map)
                }
                MemRows::Many(mut map) => {
                    insert_row(&mut map, cmp, row);
                    MemRows::Many(map)
                }
            };
        }
        overhead
    }

    fn to_partition(&self, cmp: &ClusteringComparator, slices: Option<&[Slice]>) -> Partition {
        let rows: Vec<Row> = match (&self.rows, slices) {
            (MemRows::Empty, _) => Vec::new(),
            (MemRows::One(row), None) => vec![row.clone()],
            (MemRows::One(row), Some(slices)) => {
                if slices
                    .iter()
                    .any(|s| cmp.slice_contains(s, &row.clustering))
                {
                    vec![row.clone()]
                } else {
                    Vec::new()
                }
            }
            (MemRows::Many(map), None) => map.values().cloned().collect(),
            (MemRows::Many(map), Some(slices)) => {
                let mut rows = Vec::new();
                for s in slices {
                    let lo = MemKey {
                        pos: Position::Cut(s.start.clone()),
                        cmp: cmp.clone(),
                    };
                    let hi = MemKey {
                        pos: Position::Cut(s.end.clone()),
                        cmp: cmp.clone(),
                    };
                    if lo >= hi {
                        continue;
                    }
                    rows.extend(
                        map.range((Bound::Excluded(lo), Bound::Excluded(hi)))
                            .map(|(_, r)| r.clone()),
                    );
                }
                rows
            }
        };
        let range_tombstones = match slices {
            None => self.range_tombstones.clone(),
            Some(slices) => self.range_tombstones.restricted_to_slices(cmp, slices),
        };
        Partition {
            deletion: self.deletion,
            range_tombstones,
            static_row: self.static_row.clone(),
            rows,
        }
        .canonicalize(cmp)
    }
}

/// What a partition's row B-tree costs beyond its rows (its first leaf), for accounting.
const BTREE_OVERHEAD_BYTES: usize = 1600;

fn insert_row(map: &mut BTreeMap<MemKey, Row>, cmp: &ClusteringComparator, row: Row) {
    let key = MemKey {
        pos: Position::Row(row.clustering.clone()),
        cmp: cmp.clone(),
    };
    match map.entry(key) {
        std::collections::btree_map::Entry::Occupied(mut e) => {
            let old = std::mem::replace(e.get_mut(), Row::new(Clustering::EMPTY));
            *e.get_mut() = old.merge(row);
        }
        std::collections::btree_map::Entry::Vacant(e) => {
            e.insert(row);
        }
    }
}

/// One memtable of one table.
pub struct Memtable {
    cmp: ClusteringComparator,
    /// Boxed so that a skip-list node stays small: a search reads each node's key and then its
    /// tower, which follows the value in the node; with the partition (about 250 bytes) inline,
    /// every level of every search touched two cache lines instead of one.
    partitions: SkipMap<PartitionKey, Box<Mutex<MemPartition>>>,
    size_bytes: AtomicUsize,
    updates: AtomicU64,
    min_timestamp_micros: AtomicI64,
    start_position: CommitLogPosition,
    end_position: std::sync::OnceLock<CommitLogPosition>,
}

impl Memtable {
    /// An empty memtable; every write it will receive is at or after `start_position` in the
    /// commit log.
    pub fn new(cmp: ClusteringComparator, start_position: CommitLogPosition) -> Self {
        Memtable {
            cmp,
            partitions: SkipMap::new(),
            size_bytes: AtomicUsize::new(0),
            updates: AtomicU64::new(0),
            min_timestamp_micros: AtomicI64::new(i64::MAX),
            start_position,
            end_position: std::sync::OnceLock::new(),
        }
    }

    /// Merges an update into the partition `key`. Returns the bytes accounted for it.
    pub fn apply(&self, key: &PartitionKey, update: Partition) -> usize {
        let size = update.size_bytes() + key.key().len() + 64;
        let stats = update.stats();
        if !update.deletion.is_live() || stats.min_timestamp_micros != i64::MAX {
            let ts = stats
                .min_timestamp_micros
                .min(update.deletion.marked_for_delete_at_micros);
            self.min_timestamp_micros
                .fetch_min(ts, AtomicOrdering::Relaxed);
        }
        let entry = self.partitions.get_or_insert_with(key.clone(), || {
            Box::new(Mutex::new(MemPartition::default()))
        });
        let size = size + entry.value().lock().apply(&self.cmp, update);
        self.size_bytes.fetch_add(size, AtomicOrdering::Relaxed);
        self.updates.fetch_add(1, AtomicOrdering::Relaxed);
        size
    }

    /// The canonical partition `key`, restricted to `slices` if given.
    pub fn get(&self, key: &PartitionKey, slices: Option<&[Slice]>) -> Option<Partition> {
        let entry = self.partitions.get(key)?;
        let p = entry.value().lock().to_partition(&self.cmp, slices);
        Some(p)
    }

    /// Whether the memtable may hold data for `key`.
    pub fn contains(&self, key: &PartitionKey) -> bool {
        self.partitions.contains_key(key)
    }

    /// Canonical partitions with keys inside the bounds, in key order.
    pub fn range<'a>(
        &'a self,
        start: Bound<&PartitionKey>,
        end: Bound<&PartitionKey>,
    ) -> impl Iterator<Item = (PartitionKey, Partition)> + 'a {
        let start = start.cloned();
        let end = end.cloned();
        self.partitions.range((start, end)).map(move |e| {
            (
                e.key().clone(),
                e.value().lock().to_partition(&self.cmp, None),
            )
        })
    }

    /// Bytes accounted to this memtable.
    pub fn size_bytes(&self) -> usize {
        self.size_bytes.load(AtomicOrdering::Relaxed)
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.updates.load(AtomicOrdering::Relaxed) == 0
    }

    /// Number of partitions.
    pub fn partition_count(&self) -> usize {
        self.partitions.len()
    }

    /// Smallest timestamp written (`i64::MAX` if none): tombstones older than data here must
    /// not be purged by compaction.
    pub fn min_timestamp_micros(&self) -> i64 {
        self.min_timestamp_micros.load(AtomicOrdering::Relaxed)
    }

    /// The commit-log position before every write in this memtable.
    pub fn start_position(&self) -> CommitLogPosition {
        self.start_position
    }

    /// Records that every write of this memtable is at or before `position` (set when the
    /// memtable stops taking writes).
    pub fn seal(&self, position: CommitLogPosition) {
        let _ = self.end_position.set(position);
    }

    /// The commit-log position after every write in this memtable, once sealed.
    pub fn end_position(&self) -> Option<CommitLogPosition> {
        self.end_position.get().copied()
    }

    /// The table's clustering comparator.
    pub fn comparator(&self) -> &ClusteringComparator {
        &self.cmp
    }
}
