//! One table's storage: its memtables, its live SSTables and its directory.
//!
//! The live state is an immutable [`TableView`] swapped atomically (copy on write): readers
//! take a snapshot and never block writers, flushes or compactions; those install a new view.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use meridian_types::model::{
    decode_clustering, decode_partition, decode_partition_slices, encode_clustering,
    ClusteringComparator, Cut, Partition, PartitionStats, Slice, TableId,
};
use meridian_types::token::{PartitionKey, Token};
use parking_lot::{Mutex, RwLock};

use crate::commitlog::CommitLogPosition;
use crate::compaction_strategy::{CompactionStrategyConfig, SstableInfo};
use crate::error::StorageError;
use crate::manifest::{Manifest, ManifestEntry};
use crate::memtable::Memtable;
use crate::sstable::{BlockCache, Sstable, SstableOpenOptions, SstableStats};

/// Cassandra's default `gc_grace_seconds` (10 days).
pub const DEFAULT_GC_GRACE_SECONDS: u32 = 864_000;

/// What the storage engine needs to know about a table.
#[derive(Clone, Debug, PartialEq)]
pub struct TableOptions {
    /// The table's id.
    pub id: TableId,
    /// Keyspace name (for the directory).
    pub keyspace: String,
    /// Table name (for the directory).
    pub name: String,
    /// Order of clustering columns.
    pub comparator: ClusteringComparator,
    /// How long tombstones are kept before compaction may purge them.
    pub gc_grace_seconds: u32,
    /// The compaction strategy.
    pub compaction: CompactionStrategyConfig,
}

impl TableOptions {
    /// Options with Cassandra's defaults for a table.
    pub fn new(
        id: TableId,
        keyspace: impl Into<String>,
        name: impl Into<String>,
        comparator: ClusteringComparator,
    ) -> Self {
        TableOptions {
            id,
            keyspace: keyspace.into(),
            name: name.into(),
            comparator,
            gc_grace_seconds: DEFAULT_GC_GRACE_SECONDS,
            compaction: CompactionStrategyConfig::default(),
        }
    }

    /// The table's directory under the data directory: `<keyspace>/<table>-<id>`.
    pub fn directory(&self, data_dir: &Path) -> PathBuf {
        data_dir
            .join(&self.keyspace)
            .join(format!("{}-{}", self.name, self.id.0.simple()))
    }
}

/// Bit set in the SSTable extra statistics when some partition has a partition deletion or a
/// static row: such SSTables cannot be skipped by clustering range.
const EXTRA_HAS_PARTITION_LEVEL_DATA: u8 = 1;

/// A live SSTable of a table, with what the read path needs from its statistics.
pub struct SstableHandle {
    /// Generation number (file name).
    pub generation: u64,
    /// Leveled-compaction level.
    pub level: u32,
    /// The reader.
    pub reader: Sstable,
    /// The clusterings the SSTable holds lie strictly between these cuts.
    pub clustering_bounds: Option<Slice>,
    /// Some partition has a partition tombstone or a static row.
    pub has_partition_level_data: bool,
    /// When the file was written (its modification time), seconds since the epoch.
    pub created_at_secs: i64,
}

impl SstableHandle {
    /// Opens SSTable `generation` of the table in `dir`.
    pub fn open(
        dir: &Path,
        generation: u64,
        level: u32,
        block_cache: Option<Arc<BlockCache>>,
    ) -> Result<SstableHandle, StorageError> {
        let path = crate::manifest::sstable_path(dir, generation);
        let reader = Sstable::open_with(&path, SstableOpenOptions { block_cache })?;
        let stats = reader.stats();
        let bound = |b: &Option<Vec<u8>>| -> Result<Option<Cut>, StorageError> {
            let Some(b) = b else { return Ok(None) };
            let (flag, prefix) = b.split_last().ok_or_else(|| StorageError::Corrupt {
                path: path.clone(),
                source: meridian_types::model::CodecError::Truncated {
                    what: "clustering bound",
                },
            })?;
            let prefix = decode_clustering(Bytes::copy_from_slice(prefix)).map_err(|source| {
                StorageError::Corrupt {
                    path: path.clone(),
                    source,
                }
            })?;
            Ok(Some(Cut {
                prefix,
                after: *flag != 0,
            }))
        };
        let clustering_bounds = match (bound(&stats.min_clustering)?, bound(&stats.max_clustering)?)
        {
            (Some(start), Some(end)) => Some(Slice { start, end }),
            _ => None,
        };
        let has_partition_level_data = stats
            .extra
            .first()
            .copied()
            .unwrap_or(EXTRA_HAS_PARTITION_LEVEL_DATA)
            & EXTRA_HAS_PARTITION_LEVEL_DATA
            != 0;
        let created_at_secs = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        Ok(SstableHandle {
            generation,
            level,
            reader,
            clustering_bounds,
            has_partition_level_data,
            created_at_secs,
        })
    }

    /// What the compaction strategies see of this SSTable.
    pub fn info(&self) -> SstableInfo {
        let stats = self.reader.stats();
        let summary = self.reader.summary();
        SstableInfo {
            id: self.generation,
            size_bytes: self.reader.file_size_bytes(),
            level: self.level,
            min_token: summary.min_token().unwrap_or(i64::MIN),
            max_token: summary.max_token().unwrap_or(i64::MAX),
            min_timestamp_micros: stats.min_timestamp_micros,
            max_timestamp_micros: stats.max_timestamp_micros,
            max_local_deletion_time_secs: stats.max_local_deletion_time_secs,
            tombstone_count: stats.tombstone_count,
            cell_count: stats.cell_count,
            created_at_secs: self.created_at_secs,
            hotness_reads_per_sec_per_key: 0.0,
            tombstone_drop_times: Vec::new(),
        }
    }

    /// Whether the SSTable may hold data for `key` (token range, then bloom filter).
    pub fn may_contain(&self, key: &PartitionKey) -> bool {
        let s = self.reader.summary();
        let t = key.token().0;
        if s.min_token().is_some_and(|m| t < m) || s.max_token().is_some_and(|m| t > m) {
            return false;
        }
        self.reader.may_contain(t, key.key())
    }

    /// Whether a read of `slices` can skip this SSTable by its clustering bounds.
    pub fn can_skip_slices(&self, cmp: &ClusteringComparator, slices: &[Slice]) -> bool {
        if self.has_partition_level_data {
            return false;
        }
        match &self.clustering_bounds {
            Some(bounds) => !slices.iter().any(|s| cmp.slices_intersect(s, bounds)),
            None => false,
        }
    }
}

/// Accumulates the statistics of an SSTable being written.
pub struct SstableStatsBuilder {
    cmp: ClusteringComparator,
    stats: PartitionStats,
    min_cut: Option<Cut>,
    max_cut: Option<Cut>,
    partition_level: bool,
}

impl SstableStatsBuilder {
    /// A builder for a table with comparator `cmp`.
    pub fn new(cmp: ClusteringComparator) -> Self {
        SstableStatsBuilder {
            cmp,
            stats: PartitionStats::default(),
            min_cut: None,
            max_cut: None,
            partition_level: false,
        }
    }

    fn widen(&mut self, lo: &Cut, hi: &Cut) {
        if self
            .min_cut
            .as_ref()
            .is_none_or(|m| self.cmp.compare_cuts(lo, m).is_lt())
        {
            self.min_cut = Some(lo.clone());
        }
        if self
            .max_cut
            .as_ref()
            .is_none_or(|m| self.cmp.compare_cuts(hi, m).is_gt())
        {
            self.max_cut = Some(hi.clone());
        }
    }

    /// Accounts for one partition.
    pub fn add(&mut self, p: &Partition) {
        self.stats.merge(&p.stats());
        if !p.deletion.is_live() || p.static_row.is_some() {
            self.partition_level = true;
        }
        if let (Some(first), Some(last)) = (p.rows.first(), p.rows.last()) {
            let lo = Cut::before(first.clustering.clone());
            let hi = Cut::after(last.clustering.clone());
            self.widen(&lo, &hi);
        }
        let rts: Vec<(Cut, Cut)> = p
            .range_tombstones
            .iter()
            .map(|rt| (rt.slice.start.clone(), rt.slice.end.clone()))
            .collect();
        for (lo, hi) in rts {
            self.widen(&lo, &hi);
        }
    }

    /// The statistics to store.
    pub fn finish(self) -> SstableStats {
        let encode = |c: &Cut| {
            let mut v = encode_clustering(&c.prefix).to_vec();
            v.push(u8::from(c.after));
            v
        };
        SstableStats {
            min_timestamp_micros: self.stats.min_timestamp_micros,
            max_timestamp_micros: self.stats.max_timestamp_micros,
            min_local_deletion_time_secs: self.stats.min_local_deletion_time_secs,
            max_local_deletion_time_secs: self.stats.max_local_deletion_time_secs,
            tombstone_count: self.stats.tombstone_count,
            cell_count: self.stats.cell_count,
            row_count: self.stats.row_count,
            min_clustering: self.min_cut.as_ref().map(encode),
            max_clustering: self.max_cut.as_ref().map(encode),
            extra: vec![if self.partition_level {
                EXTRA_HAS_PARTITION_LEVEL_DATA
            } else {
                0
            }],
        }
    }
}

/// A consistent snapshot of a table's live data.
#[derive(Clone)]
pub struct TableView {
    /// The memtable taking writes.
    pub active: Arc<Memtable>,
    /// Memtables being flushed (oldest first); still read.
    pub flushing: Vec<Arc<Memtable>>,
    /// Live SSTables.
    pub sstables: Vec<Arc<SstableHandle>>,
}

impl TableView {
    /// Every memtable, active first.
    pub fn memtables(&self) -> impl Iterator<Item = &Arc<Memtable>> {
        std::iter::once(&self.active).chain(self.flushing.iter())
    }
}

/// What truncation took out of a table: the files to delete and the memory to release.
pub struct ClearedData {
    /// SSTables no longer live.
    pub sstables: Vec<Arc<SstableHandle>>,
    /// Memtables no longer live.
    pub memtables: Vec<Arc<Memtable>>,
}

/// One table.
pub struct Table {
    options: RwLock<TableOptions>,
    dir: PathBuf,
    view: RwLock<Arc<TableView>>,
    next_generation: AtomicU64,
    replay_floor: Mutex<Option<CommitLogPosition>>,
    /// Serialises flushes of this table.
    pub(crate) flush_lock: Mutex<()>,
    /// Serialises manifest writes.
    manifest_lock: Mutex<()>,
    /// Generations taken by running compactions.
    pub(crate) compacting: Mutex<std::collections::HashSet<u64>>,
    /// What the compaction strategy remembers between decisions.
    pub(crate) strategy_state: Mutex<crate::compaction_strategy::StrategyState>,
    block_cache: Option<Arc<BlockCache>>,
}

impl Table {
    /// Opens (or creates) the table in `data_dir`, loading its manifest and live SSTables and
    /// deleting files that an interrupted flush or compaction left behind.
    pub fn open(
        options: TableOptions,
        data_dir: &Path,
        block_cache: Option<Arc<BlockCache>>,
    ) -> Result<Table, StorageError> {
        let dir = options.directory(data_dir);
        std::fs::create_dir_all(&dir).map_err(|e| StorageError::io("create table dir", &dir, e))?;
        let manifest = Manifest::load(&dir)?;
        let live: std::collections::HashSet<u64> =
            manifest.sstables.iter().map(|e| e.generation).collect();
        let mut max_gen = manifest.next_generation;
        let entries =
            std::fs::read_dir(&dir).map_err(|e| StorageError::io("list table dir", &dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| StorageError::io("list table dir", &dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let leftover = match crate::manifest::parse_sstable_name(&name) {
                Some(g) => {
                    max_gen = max_gen.max(g + 1);
                    !live.contains(&g)
                }
                None => name.ends_with(".tmp"),
            };
            if leftover && entry.path().is_file() {
                tracing::info!(file = %entry.path().display(), "removing leftover of an interrupted flush or compaction");
                std::fs::remove_file(entry.path())
                    .map_err(|e| StorageError::io("remove leftover", &entry.path(), e))?;
            }
        }
        let mut sstables = Vec::with_capacity(manifest.sstables.len());
        for e in &manifest.sstables {
            sstables.push(Arc::new(SstableHandle::open(
                &dir,
                e.generation,
                e.level,
                block_cache.clone(),
            )?));
        }
        let cmp = options.comparator.clone();
        Ok(Table {
            options: RwLock::new(options),
            dir,
            view: RwLock::new(Arc::new(TableView {
                active: Arc::new(Memtable::new(cmp, CommitLogPosition::ZERO)),
                flushing: Vec::new(),
                sstables,
            })),
            next_generation: AtomicU64::new(max_gen.max(1)),
            replay_floor: Mutex::new(manifest.replay_floor),
            flush_lock: Mutex::new(()),
            manifest_lock: Mutex::new(()),
            compacting: Mutex::new(Default::default()),
            strategy_state: Mutex::new(Default::default()),
            block_cache,
        })
    }

    /// Opens one of this table's SSTables (sharing the engine's block cache).
    pub fn open_sstable(&self, generation: u64, level: u32) -> Result<SstableHandle, StorageError> {
        SstableHandle::open(&self.dir, generation, level, self.block_cache.clone())
    }

    /// The table's options.
    pub fn options(&self) -> TableOptions {
        self.options.read().clone()
    }

    /// Replaces the options that may change (gc grace, compaction).
    pub fn set_options(&self, options: TableOptions) {
        *self.options.write() = options;
    }

    /// The table's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The current view.
    pub fn view(&self) -> Arc<TableView> {
        self.view.read().clone()
    }

    /// Merges an update into the active memtable; returns the bytes accounted for it. The
    /// view is borrowed under its lock rather than cloned, so a writer never holds the last
    /// reference to a view and never frees a flushed memtable on the write path.
    pub fn apply_to_active(&self, key: &PartitionKey, update: Partition) -> usize {
        self.view.read().active.apply(key, update)
    }

    /// Commit-log records at or before this position are in SSTables already (or were
    /// truncated) and must not be replayed.
    pub fn replay_floor(&self) -> Option<CommitLogPosition> {
        *self.replay_floor.lock()
    }

    /// A fresh generation number.
    pub fn next_generation(&self) -> u64 {
        self.next_generation.fetch_add(1, AtomicOrdering::SeqCst)
    }

    /// Moves the active memtable to the flushing list and starts a new one whose writes all
    /// come at or after `position`. Returns the memtable to flush. Call with writes barred.
    pub fn switch_memtable(&self, position: CommitLogPosition) -> Arc<Memtable> {
        let mut guard = self.view.write();
        let mut view = (**guard).clone();
        let cmp = self.options.read().comparator.clone();
        let old = std::mem::replace(&mut view.active, Arc::new(Memtable::new(cmp, position)));
        old.seal(position);
        view.flushing.push(old.clone());
        *guard = Arc::new(view);
        old
    }

    /// Replaces flushed memtables and/or compacted SSTables with new SSTables, then persists
    /// the manifest. The in-memory view changes only once the manifest is durable.
    pub fn install(
        &self,
        remove_memtables: &[Arc<Memtable>],
        remove_sstables: &[u64],
        add_sstables: Vec<Arc<SstableHandle>>,
    ) -> Result<(), StorageError> {
        let _m = self.manifest_lock.lock();
        let current = self.view();
        let mut view = (*current).clone();
        view.flushing
            .retain(|m| !remove_memtables.iter().any(|r| Arc::ptr_eq(r, m)));
        view.sstables
            .retain(|s| !remove_sstables.contains(&s.generation));
        view.sstables.extend(add_sstables);
        // Flushes of a table run one at a time, oldest memtable first, so once a memtable is
        // in SSTables every record up to its end position is.
        let mut floor = self.replay_floor();
        for m in remove_memtables {
            if let Some(end) = m.end_position() {
                floor = floor.max(Some(end));
            }
        }
        self.persist(&view, floor)?;
        *self.replay_floor.lock() = floor;
        let mut guard = self.view.write();
        // Concurrent memtable switches only touch `active`/`flushing`; carry them over.
        let latest = (**guard).clone();
        view.active = latest.active;
        view.flushing = latest
            .flushing
            .into_iter()
            .filter(|m| !remove_memtables.iter().any(|r| Arc::ptr_eq(r, m)))
            .collect();
        *guard = Arc::new(view);
        Ok(())
    }

    /// Drops every memtable and SSTable (truncate), recording `position` so that replay does
    /// not bring back older commit-log records. Returns the removed SSTables and memtables.
    pub fn clear(&self, position: CommitLogPosition) -> Result<ClearedData, StorageError> {
        let _m = self.manifest_lock.lock();
        let cmp = self.options.read().comparator.clone();
        let empty = TableView {
            active: Arc::new(Memtable::new(cmp, position)),
            flushing: Vec::new(),
            sstables: Vec::new(),
        };
        let floor = self.replay_floor().max(Some(position));
        self.persist(&empty, floor)?;
        *self.replay_floor.lock() = floor;
        let mut guard = self.view.write();
        let old = std::mem::replace(&mut *guard, Arc::new(empty));
        let memtables = old.memtables().cloned().collect();
        Ok(ClearedData {
            sstables: old.sstables.clone(),
            memtables,
        })
    }

    fn persist(
        &self,
        view: &TableView,
        replay_floor: Option<CommitLogPosition>,
    ) -> Result<(), StorageError> {
        let manifest = Manifest {
            sstables: view
                .sstables
                .iter()
                .map(|s| ManifestEntry {
                    generation: s.generation,
                    level: s.level,
                })
                .collect(),
            next_generation: self.next_generation.load(AtomicOrdering::SeqCst),
            replay_floor,
        };
        manifest.store(&self.dir)
    }

    /// Reads partition `key` restricted to `slices`, merging every memtable and every SSTable
    /// that may hold it. The result keeps tombstones (read repair and the query layer need
    /// them); `None` when no source has the partition.
    pub fn read(
        &self,
        key: &PartitionKey,
        slices: &[Slice],
    ) -> Result<Option<Partition>, StorageError> {
        let view = self.view();
        let cmp = self.options.read().comparator.clone();
        // `None` until a source has the partition; the first one found is taken as it is
        // (every source hands out canonical partitions), later ones are merged in.
        let mut result: Option<Partition> = None;
        let add = |result: &mut Option<Partition>, p: Partition| {
            *result = Some(match result.take() {
                Some(r) => r.merge(&cmp, p),
                None => p,
            });
        };
        for m in view.memtables() {
            if let Some(p) = m.get(key, Some(slices)) {
                add(&mut result, p);
            }
        }
        // Newest SSTables first, so that a partition deletion can end the search early.
        let mut candidates: Vec<&Arc<SstableHandle>> = view
            .sstables
            .iter()
            .filter(|s| !s.can_skip_slices(&cmp, slices) && s.may_contain(key))
            .collect();
        candidates.sort_by_key(|s| std::cmp::Reverse(s.reader.stats().max_timestamp_micros));
        for s in candidates {
            if let Some(r) = &result {
                if !r.deletion.is_live()
                    && s.reader.stats().max_timestamp_micros
                        <= r.deletion.marked_for_delete_at_micros
                {
                    break;
                }
            }
            let Some(bytes) = s.reader.get(key.token().0, key.key())? else {
                continue;
            };
            // Only the selected rows are built: a slice of a wide partition does not decode
            // the whole partition.
            let p = decode_partition_slices(bytes, &cmp, slices).map_err(|source| {
                StorageError::Corrupt {
                    path: s.reader.path().to_path_buf(),
                    source,
                }
            })?;
            add(&mut result, p);
        }
        Ok(result)
    }

    /// Scans the partitions with keys within the bounds, in key order, merging all sources.
    pub fn scan(&self, start: Bound<PartitionKey>, end: Bound<PartitionKey>) -> ScanIter {
        let view = self.view();
        let cmp = self.options.read().comparator.clone();
        let mut sources: Vec<Source> = Vec::new();
        for m in view.memtables() {
            sources.push(Source::Memtable(m.clone()));
        }
        for s in &view.sstables {
            sources.push(Source::Sstable(s.clone()));
        }
        ScanIter {
            cmp,
            cursors: sources
                .into_iter()
                .map(|source| Cursor {
                    source,
                    after: start.clone(),
                    buffer: std::collections::VecDeque::new(),
                    exhausted: false,
                })
                .collect(),
            end,
            failed: false,
        }
    }
}

/// A token as a scan bound: every key of tokens above `token` (or at and above it).
pub fn token_start_bound(token: Token, inclusive: bool) -> Bound<PartitionKey> {
    // The empty key sorts first among keys of its token, and no stored key is empty.
    if inclusive {
        Bound::Included(PartitionKey::from_parts(token, Bytes::new()))
    } else if token.0 == i64::MAX {
        Bound::Excluded(PartitionKey::from_parts(
            token,
            Bytes::from_static(&[0xff; 64]),
        ))
    } else {
        Bound::Included(PartitionKey::from_parts(Token(token.0 + 1), Bytes::new()))
    }
}

/// A token as an inclusive scan end: every key of tokens at or below `token`.
pub fn token_end_bound(token: Token) -> Bound<PartitionKey> {
    if token.0 == i64::MAX {
        Bound::Unbounded
    } else {
        Bound::Excluded(PartitionKey::from_parts(Token(token.0 + 1), Bytes::new()))
    }
}

enum Source {
    Memtable(Arc<Memtable>),
    Sstable(Arc<SstableHandle>),
}

/// How many partitions a scan cursor fetches from one source at a time.
const SCAN_BATCH_PARTITIONS: usize = 64;

struct Cursor {
    source: Source,
    after: Bound<PartitionKey>,
    buffer: std::collections::VecDeque<(PartitionKey, Partition)>,
    exhausted: bool,
}

impl Cursor {
    fn fill(
        &mut self,
        cmp: &ClusteringComparator,
        end: &Bound<PartitionKey>,
    ) -> Result<(), StorageError> {
        if !self.buffer.is_empty() || self.exhausted {
            return Ok(());
        }
        let start = self.after.as_ref();
        match &self.source {
            Source::Memtable(m) => {
                self.buffer
                    .extend(m.range(start, end.as_ref()).take(SCAN_BATCH_PARTITIONS));
            }
            Source::Sstable(s) => {
                fn conv(b: Bound<&PartitionKey>) -> Bound<(i64, &[u8])> {
                    match b {
                        Bound::Included(k) => Bound::Included((k.token().0, k.key().as_ref())),
                        Bound::Excluded(k) => Bound::Excluded((k.token().0, k.key().as_ref())),
                        Bound::Unbounded => Bound::Unbounded,
                    }
                }
                for item in s
                    .reader
                    .iter_range(conv(start), conv(end.as_ref()))
                    .take(SCAN_BATCH_PARTITIONS)
                {
                    let (token, key, data) = item?;
                    let p =
                        decode_partition(data, cmp).map_err(|source| StorageError::Corrupt {
                            path: s.reader.path().to_path_buf(),
                            source,
                        })?;
                    self.buffer
                        .push_back((PartitionKey::from_parts(Token(token), key), p));
                }
            }
        }
        match self.buffer.back() {
            Some((k, _)) => self.after = Bound::Excluded(k.clone()),
            None => self.exhausted = true,
        }
        Ok(())
    }
}

/// Iterator over merged partitions of a scan, in key order. Holds a snapshot of the table's
/// sources and fetches from each in bounded batches.
pub struct ScanIter {
    cmp: ClusteringComparator,
    cursors: Vec<Cursor>,
    end: Bound<PartitionKey>,
    failed: bool,
}

impl Iterator for ScanIter {
    type Item = Result<(PartitionKey, Partition), StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        for c in &mut self.cursors {
            if let Err(e) = c.fill(&self.cmp, &self.end) {
                self.failed = true;
                return Some(Err(e));
            }
        }
        let min = self
            .cursors
            .iter()
            .filter_map(|c| c.buffer.front().map(|(k, _)| k))
            .min()?
            .clone();
        let mut merged: Option<Partition> = None;
        for c in &mut self.cursors {
            if c.buffer.front().is_some_and(|(k, _)| *k == min) {
                if let Some((_, p)) = c.buffer.pop_front() {
                    merged = Some(match merged {
                        Some(m) => m.merge(&self.cmp, p),
                        None => p,
                    });
                }
            }
        }
        merged.map(|p| Ok((min, p)))
    }
}

/// Encoded rows between two entries of a partition's row index in SSTables: a slice of a
/// wide partition starts at most this far before its first row (one entry per ~30 rows of
/// 100-byte values; the index costs a few bytes per entry).
pub const ROW_INDEX_INTERVAL_BYTES: usize = 4096;

/// Encodes a partition for an SSTable (with a row index when it is wide enough).
pub fn encode_for_sstable(buf: &mut BytesMut, p: &Partition) {
    buf.clear();
    meridian_types::model::encode_partition_indexed(buf, p, ROW_INDEX_INTERVAL_BYTES);
}
