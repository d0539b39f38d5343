//! Model-based test of the storage engine against a small, independent reference model of
//! Cassandra's semantics: random writes and every kind of deletion with out-of-order
//! timestamps and TTLs, interleaved with flushes, compactions (which purge tombstones past
//! gc_grace), clock jumps, clean restarts and simulated crashes. After every step that can
//! change what is stored, every partition is read back and compared.
//!
//! Seeds are printed on failure by proptest and replayable (`PROPTEST_CASES`, and the
//! failure persistence file); CI runs a fixed budget.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use meridian_storage::compaction_strategy::CompactionStrategyConfig;
use meridian_storage::{Clock, Engine, EngineConfig, TableOptions};
use meridian_types::cql_type::CqlType;
use meridian_types::model::{
    BoundKind, Cell, Clustering, ClusteringBound, ClusteringComparator, ClusteringOrder,
    ColumnData, ColumnId, ComplexColumn, DeletionTime, LivenessInfo, Mutation, Partition,
    PartitionUpdate, RangeTombstone, RangeTombstoneList, Row, Slice, TableId,
};
use meridian_types::token::PartitionKey;
use proptest::prelude::*;

const GC_GRACE_SECONDS: u32 = 20;
const REGULAR: [u32; 2] = [0, 1];
const SET: u32 = 2;
const STATIC: u32 = 3;

struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now_secs(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn int(v: i32) -> Bytes {
    Bytes::copy_from_slice(&v.to_be_bytes())
}

fn cmp() -> ClusteringComparator {
    ClusteringComparator::new(vec![(CqlType::Int, ClusteringOrder::Desc)])
}

fn table_id() -> TableId {
    TableId(uuid::Uuid::from_u128(7))
}

fn pk(k: u8) -> PartitionKey {
    PartitionKey::new(Bytes::from(vec![b'k', k]))
}

/// One operation of a test run.
#[derive(Clone, Debug)]
enum Op {
    /// INSERT (with liveness) or UPDATE of a regular column.
    Write {
        pk: u8,
        ck: i32,
        col: u32,
        value: u8,
        ts: i64,
        ttl: u32,
        insert: bool,
    },
    /// Add an element to the set column.
    SetAdd {
        pk: u8,
        ck: i32,
        elem: u8,
        ts: i64,
        ttl: u32,
    },
    /// Remove an element from the set column.
    SetRemove {
        pk: u8,
        ck: i32,
        elem: u8,
        ts: i64,
    },
    /// Overwrite the whole set (collection tombstone at ts - 1, then the element).
    SetOverwrite {
        pk: u8,
        ck: i32,
        elem: u8,
        ts: i64,
    },
    /// Write the static column.
    WriteStatic {
        pk: u8,
        value: u8,
        ts: i64,
    },
    /// DELETE col FROM ... WHERE pk AND ck.
    DeleteCell {
        pk: u8,
        ck: i32,
        col: u32,
        ts: i64,
    },
    /// DELETE FROM ... WHERE pk AND ck.
    DeleteRow {
        pk: u8,
        ck: i32,
        ts: i64,
    },
    /// DELETE FROM ... WHERE pk AND ck >= lo AND ck < hi (in clustering terms).
    DeleteRange {
        pk: u8,
        lo: i32,
        hi: i32,
        lo_incl: bool,
        hi_incl: bool,
        ts: i64,
    },
    /// DELETE FROM ... WHERE pk.
    DeletePartition {
        pk: u8,
        ts: i64,
    },
    Flush,
    Compact,
    MajorCompact,
    AdvanceClock(i64),
    Restart,
    Crash,
}

fn op() -> impl Strategy<Value = Op> {
    let pk = 0..4u8;
    let ck = 0..6i32;
    let ts = 1..60i64;
    prop_oneof![
        8 => (pk.clone(), ck.clone(), prop::sample::select(REGULAR.to_vec()), any::<u8>(), ts.clone(), prop_oneof![3 => Just(0u32), 1 => 1..40u32], any::<bool>())
            .prop_map(|(pk, ck, col, value, ts, ttl, insert)| Op::Write { pk, ck, col, value, ts, ttl, insert }),
        3 => (pk.clone(), ck.clone(), 0..4u8, ts.clone(), prop_oneof![3 => Just(0u32), 1 => 1..40u32])
            .prop_map(|(pk, ck, elem, ts, ttl)| Op::SetAdd { pk, ck, elem, ts, ttl }),
        2 => (pk.clone(), ck.clone(), 0..4u8, ts.clone()).prop_map(|(pk, ck, elem, ts)| Op::SetRemove { pk, ck, elem, ts }),
        1 => (pk.clone(), ck.clone(), 0..4u8, 2..60i64).prop_map(|(pk, ck, elem, ts)| Op::SetOverwrite { pk, ck, elem, ts }),
        2 => (pk.clone(), any::<u8>(), ts.clone()).prop_map(|(pk, value, ts)| Op::WriteStatic { pk, value, ts }),
        2 => (pk.clone(), ck.clone(), prop::sample::select(vec![0u32, 1, 2, 3]), ts.clone()).prop_map(|(pk, ck, col, ts)| Op::DeleteCell { pk, ck, col, ts }),
        2 => (pk.clone(), ck.clone(), ts.clone()).prop_map(|(pk, ck, ts)| Op::DeleteRow { pk, ck, ts }),
        2 => (pk.clone(), ck.clone(), ck.clone(), any::<bool>(), any::<bool>(), ts.clone())
            .prop_map(|(pk, lo, hi, lo_incl, hi_incl, ts)| Op::DeleteRange { pk, lo, hi, lo_incl, hi_incl, ts }),
        1 => (pk, ts).prop_map(|(pk, ts)| Op::DeletePartition { pk, ts }),
        2 => Just(Op::Flush),
        1 => Just(Op::Compact),
        1 => Just(Op::MajorCompact),
        2 => (1..30i64).prop_map(Op::AdvanceClock),
        1 => Just(Op::Restart),
        1 => Just(Op::Crash),
    ]
}

/// Where a cell lives: partition, clustering (`None` for the static row), column, set element.
type CellPos = (u8, Option<i32>, u32, Option<u8>);

/// What the reference model remembers: every cell write and every deletion, as facts.
#[derive(Default)]
struct Model {
    /// (pk, ck or None for static, column, set element) -> every cell written there.
    cells: BTreeMap<CellPos, Vec<Cell>>,
    /// (pk, ck) -> liveness infos written by INSERT.
    liveness: BTreeMap<(u8, i32), Vec<LivenessInfo>>,
    /// Deletions with their scope.
    deletions: Vec<(Scope, DeletionTime)>,
}

#[derive(Clone, Debug)]
enum Scope {
    Partition(u8),
    Range { pk: u8, slice: Slice },
    Row(u8, i32),
    Collection(u8, i32, u32),
}

impl Model {
    fn deletion_over(&self, pk: u8, ck: Option<i32>, col: Option<u32>) -> DeletionTime {
        let c = cmp();
        let mut d = DeletionTime::LIVE;
        for (scope, del) in &self.deletions {
            let applies = match scope {
                Scope::Partition(p) => *p == pk,
                Scope::Range { pk: p, slice } => {
                    *p == pk
                        && ck.is_some_and(|ck| c.slice_contains(slice, &Clustering(vec![int(ck)])))
                }
                Scope::Row(p, k) => *p == pk && ck == Some(*k),
                Scope::Collection(p, k, col_id) => {
                    *p == pk && ck == Some(*k) && col == Some(*col_id)
                }
            };
            if applies {
                d = d.max(*del);
            }
        }
        d
    }

    /// The visible value of one cell position at `now`.
    fn visible(&self, key: &CellPos, now: i64) -> Option<Bytes> {
        let cells = self.cells.get(key)?;
        let winner = cells.iter().cloned().reduce(Cell::reconcile)?;
        let del = self.deletion_over(key.0, key.1, key.3.map(|_| key.2));
        if del.deletes(winner.timestamp_micros) || !winner.is_live(now) {
            return None;
        }
        Some(winner.value)
    }

    /// Expected live content of a partition: static values, and per row the visible columns
    /// (absent rows have no live liveness and no live cell).
    fn expected(&self, pk: u8, now: i64) -> Expected {
        let mut exp = Expected::default();
        for key in self.cells.keys().filter(|k| k.0 == pk) {
            if let Some(v) = self.visible(key, now) {
                match key.1 {
                    None => {
                        exp.statics.insert(key.2, v);
                    }
                    Some(ck) => {
                        exp.rows.entry(ck).or_default().insert((key.2, key.3), v);
                    }
                }
            }
        }
        for ((p, ck), infos) in &self.liveness {
            if *p != pk {
                continue;
            }
            let Some(best) = infos.iter().copied().reduce(LivenessInfo::max) else {
                continue;
            };
            let del = self.deletion_over(pk, Some(*ck), None);
            if !del.deletes(best.timestamp_micros) && best.is_live(now) {
                exp.rows.entry(*ck).or_default();
            }
        }
        exp
    }

    /// Largest timestamp of anything that may have been purged by `now` (tombstones and
    /// expired cells past gc grace). Writes below it could legitimately resurrect, so the
    /// generator keeps new timestamps above it.
    fn purge_floor(&self, now: i64) -> i64 {
        let gc_before = now - i64::from(GC_GRACE_SECONDS);
        let mut floor = 0;
        for (_, d) in &self.deletions {
            if d.local_deletion_time_secs < gc_before {
                floor = floor.max(d.marked_for_delete_at_micros);
            }
        }
        for cells in self.cells.values() {
            for c in cells {
                let ldt = if c.is_tombstone() {
                    c.local_deletion_time_secs()
                } else if c.ttl_secs() > 0 {
                    c.local_deletion_time_secs() - i64::from(c.ttl_secs())
                } else {
                    continue;
                };
                if ldt < gc_before && !c.is_live(now) {
                    floor = floor.max(c.timestamp_micros);
                }
            }
        }
        for infos in self.liveness.values() {
            for l in infos {
                if l.is_expiring() && !l.is_live(now) && l.local_expiration_time_secs < gc_before {
                    floor = floor.max(l.timestamp_micros);
                }
            }
        }
        floor
    }
}

#[derive(Default, Debug, PartialEq)]
struct Expected {
    statics: BTreeMap<u32, Bytes>,
    rows: BTreeMap<i32, BTreeMap<(u32, Option<u8>), Bytes>>,
}

fn observed(p: Option<Partition>, now: i64) -> Expected {
    let mut exp = Expected::default();
    let Some(p) = p else { return exp };
    let live = p.live_view(now);
    if let Some(s) = &live.static_row {
        for (id, data) in &s.columns {
            if let ColumnData::Simple(c) = data {
                exp.statics.insert(id.0, c.value.clone());
            }
        }
    }
    for r in &live.rows {
        let ck = i32::from_be_bytes(r.clustering.0[0].as_ref().try_into().unwrap());
        let cols = exp.rows.entry(ck).or_default();
        for (id, data) in &r.columns {
            match data {
                ColumnData::Simple(c) => {
                    cols.insert((id.0, None), c.value.clone());
                }
                ColumnData::Complex(cc) => {
                    for (path, c) in &cc.cells {
                        cols.insert((id.0, Some(path[0])), c.value.clone());
                    }
                }
            }
        }
    }
    exp
}

struct Harness {
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    engine: Option<Engine>,
    model: Model,
    /// Floor for new timestamps, see `Model::purge_floor`.
    ts_floor: i64,
    /// Writes issued so far (makes timestamps unique).
    seq: i64,
    /// Every timestamp issued.
    issued: std::collections::HashSet<i64>,
}

impl Harness {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock(AtomicI64::new(1_000_000)));
        let mut h = Harness {
            dir,
            clock,
            engine: None,
            model: Model::default(),
            ts_floor: 0,
            seq: 0,
            issued: Default::default(),
        };
        h.open();
        h
    }

    fn open(&mut self) {
        let mut config = EngineConfig::new(self.dir.path());
        config.auto_compaction = false;
        config.clock = self.clock.clone();
        config.compaction_throughput_mib_per_sec = 0;
        config.commitlog_segment_size_bytes = 1024 * 1024;
        config.max_mutation_size_bytes = 512 * 1024;
        let mut t = TableOptions::new(table_id(), "ks", "t", cmp());
        t.gc_grace_seconds = GC_GRACE_SECONDS;
        t.compaction = CompactionStrategyConfig::default();
        let (engine, _report) = Engine::open(config, vec![t]).unwrap();
        self.engine = Some(engine);
    }

    fn engine(&self) -> &Engine {
        self.engine.as_ref().unwrap()
    }

    fn now(&self) -> i64 {
        self.clock.now_secs()
    }

    fn apply(&mut self, pk_id: u8, partition: Partition) {
        let m = Mutation {
            updates: vec![PartitionUpdate {
                table: table_id(),
                key: pk(pk_id),
                partition: partition.canonicalize(&cmp()),
            }],
        };
        self.engine().apply(m).unwrap();
    }

    /// The timestamp of the next write: the generated one (out of order) made unique by a
    /// sequence number, and above the purge floor. Unique, because for two writes of the same
    /// cell with equal timestamps Cassandra itself resolves differently before and after
    /// compaction turns an expired cell into a tombstone (its `Cells.resolveRegular` says so);
    /// ties are covered by the reconciliation unit tests instead.
    fn ts(&mut self, ts: i64) -> i64 {
        self.seq += 1;
        let mut ts = (ts * 1000 + self.seq % 1000).max(self.ts_floor + 1);
        while !self.issued.insert(ts) {
            ts += 1;
        }
        ts
    }

    // One call per kind of cell write keeps each `Op` arm a single line; a struct would only
    // restate these names.
    #[allow(clippy::too_many_arguments)]
    fn row_cell(
        &mut self,
        pk_id: u8,
        ck: i32,
        col: u32,
        path: Option<u8>,
        cell: Cell,
        liveness: Option<LivenessInfo>,
        collection_deletion: Option<DeletionTime>,
    ) {
        let mut row = Row::new(Clustering(vec![int(ck)]));
        row.liveness = liveness;
        match path {
            None => row.set_cell(ColumnId(col), cell.clone()),
            Some(e) => row.merge_column(
                ColumnId(col),
                ColumnData::Complex(ComplexColumn {
                    deletion: collection_deletion.unwrap_or(DeletionTime::LIVE),
                    cells: vec![(Bytes::from(vec![e]), cell.clone())],
                }),
            ),
        }
        self.apply(
            pk_id,
            Partition {
                rows: vec![row],
                ..Partition::new()
            },
        );
        self.model
            .cells
            .entry((pk_id, Some(ck), col, path))
            .or_default()
            .push(cell);
        if let Some(l) = liveness {
            self.model.liveness.entry((pk_id, ck)).or_default().push(l);
        }
        if let Some(d) = collection_deletion {
            self.model
                .deletions
                .push((Scope::Collection(pk_id, ck, col), d));
        }
    }

    fn step(&mut self, op: Op) {
        let now = self.now();
        match op {
            Op::Write {
                pk,
                ck,
                col,
                value,
                ts,
                ttl,
                insert,
            } => {
                let ts = self.ts(ts);
                let value = Bytes::from(vec![value]);
                let cell = if ttl > 0 {
                    Cell::expiring(ts, value, ttl, now)
                } else {
                    Cell::live(ts, value)
                };
                let liveness = insert.then(|| {
                    if ttl > 0 {
                        LivenessInfo::expiring(ts, ttl, now)
                    } else {
                        LivenessInfo::live(ts)
                    }
                });
                self.row_cell(pk, ck, col, None, cell, liveness, None);
            }
            Op::SetAdd {
                pk,
                ck,
                elem,
                ts,
                ttl,
            } => {
                let ts = self.ts(ts);
                let cell = if ttl > 0 {
                    Cell::expiring(ts, Bytes::new(), ttl, now)
                } else {
                    Cell::live(ts, Bytes::new())
                };
                self.row_cell(pk, ck, SET, Some(elem), cell, None, None);
            }
            Op::SetRemove { pk, ck, elem, ts } => {
                let ts = self.ts(ts);
                self.row_cell(
                    pk,
                    ck,
                    SET,
                    Some(elem),
                    Cell::tombstone(ts, now),
                    None,
                    None,
                );
            }
            Op::SetOverwrite { pk, ck, elem, ts } => {
                let ts = self.ts(ts).max(2);
                let d = DeletionTime::new(ts - 1, now);
                self.row_cell(
                    pk,
                    ck,
                    SET,
                    Some(elem),
                    Cell::live(ts, Bytes::new()),
                    None,
                    Some(d),
                );
            }
            Op::WriteStatic { pk, value, ts } => {
                let ts = self.ts(ts);
                let cell = Cell::live(ts, Bytes::from(vec![value]));
                let mut row = Row::new(Clustering::EMPTY);
                row.set_cell(ColumnId(STATIC), cell.clone());
                self.apply(
                    pk,
                    Partition {
                        static_row: Some(row),
                        ..Partition::new()
                    },
                );
                self.model
                    .cells
                    .entry((pk, None, STATIC, None))
                    .or_default()
                    .push(cell);
            }
            Op::DeleteCell { pk, ck, col, ts } => {
                let ts = self.ts(ts);
                let d = DeletionTime::new(ts, now);
                if col == SET {
                    let mut row = Row::new(Clustering(vec![int(ck)]));
                    row.merge_column(
                        ColumnId(SET),
                        ColumnData::Complex(ComplexColumn {
                            deletion: d,
                            cells: vec![],
                        }),
                    );
                    self.apply(
                        pk,
                        Partition {
                            rows: vec![row],
                            ..Partition::new()
                        },
                    );
                    self.model
                        .deletions
                        .push((Scope::Collection(pk, ck, SET), d));
                } else if col == STATIC {
                    let cell = Cell::tombstone(ts, now);
                    let mut row = Row::new(Clustering::EMPTY);
                    row.set_cell(ColumnId(STATIC), cell.clone());
                    self.apply(
                        pk,
                        Partition {
                            static_row: Some(row),
                            ..Partition::new()
                        },
                    );
                    self.model
                        .cells
                        .entry((pk, None, STATIC, None))
                        .or_default()
                        .push(cell);
                } else {
                    self.row_cell(pk, ck, col, None, Cell::tombstone(ts, now), None, None);
                }
            }
            Op::DeleteRow { pk, ck, ts } => {
                let ts = self.ts(ts);
                let d = DeletionTime::new(ts, now);
                let mut row = Row::new(Clustering(vec![int(ck)]));
                row.deletion = d;
                self.apply(
                    pk,
                    Partition {
                        rows: vec![row],
                        ..Partition::new()
                    },
                );
                self.model.deletions.push((Scope::Row(pk, ck), d));
            }
            Op::DeleteRange {
                pk,
                lo,
                hi,
                lo_incl,
                hi_incl,
                ts,
            } => {
                let ts = self.ts(ts);
                let d = DeletionTime::new(ts, now);
                let slice = Slice::from_bounds(
                    &ClusteringBound {
                        prefix: Clustering(vec![int(lo)]),
                        kind: if lo_incl {
                            BoundKind::InclusiveStart
                        } else {
                            BoundKind::ExclusiveStart
                        },
                    },
                    &ClusteringBound {
                        prefix: Clustering(vec![int(hi)]),
                        kind: if hi_incl {
                            BoundKind::InclusiveEnd
                        } else {
                            BoundKind::ExclusiveEnd
                        },
                    },
                );
                let c = cmp();
                let rts = RangeTombstoneList::from_ranges(
                    &c,
                    vec![RangeTombstone {
                        slice: slice.clone(),
                        deletion: d,
                    }],
                );
                self.apply(
                    pk,
                    Partition {
                        range_tombstones: rts,
                        ..Partition::new()
                    },
                );
                self.model.deletions.push((Scope::Range { pk, slice }, d));
            }
            Op::DeletePartition { pk, ts } => {
                let ts = self.ts(ts);
                let d = DeletionTime::new(ts, now);
                self.apply(
                    pk,
                    Partition {
                        deletion: d,
                        ..Partition::new()
                    },
                );
                self.model.deletions.push((Scope::Partition(pk), d));
            }
            Op::Flush => self.engine().flush(table_id()).unwrap(),
            Op::Compact => {
                self.engine().compact_until_idle(table_id()).unwrap();
            }
            Op::MajorCompact => self.engine().major_compaction(table_id()).unwrap(),
            Op::AdvanceClock(secs) => {
                self.clock.0.fetch_add(secs, Ordering::SeqCst);
            }
            Op::Restart => {
                self.engine.take().unwrap().shutdown().unwrap();
                self.open();
            }
            Op::Crash => {
                let e = self.engine.take().unwrap();
                e.sync_commitlog().unwrap();
                e.abandon();
                self.open();
            }
        }
        self.ts_floor = self.ts_floor.max(self.model.purge_floor(self.now()));
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let now = self.now();
        for k in 0..4u8 {
            let got = observed(
                self.engine()
                    .read(table_id(), &pk(k), &[Slice::ALL])
                    .unwrap(),
                now,
            );
            let want = self.model.expected(k, now);
            prop_assert_eq!(&got, &want, "partition {} at now={}", k, now);
        }
        // A full scan sees the same partitions.
        let scanned: Vec<_> = self
            .engine()
            .scan(
                table_id(),
                std::ops::Bound::Unbounded,
                std::ops::Bound::Unbounded,
            )
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        for (key, p) in scanned {
            let k = key.key()[1];
            prop_assert_eq!(
                observed(Some(p), now),
                self.model.expected(k, now),
                "scan of partition {}",
                k
            );
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_reference_model(ops in proptest::collection::vec(op(), 1..80)) {
        let mut h = Harness::new();
        for op in ops {
            h.step(op);
            h.check()?;
        }
    }
}
