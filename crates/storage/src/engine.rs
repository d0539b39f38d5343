//! The storage engine: tables, the commit log, the write and read paths, background flushing
//! and compaction, snapshots and truncation.
//!
//! Write path: the mutation is encoded once, appended to the commit log (in `batch` mode the
//! call returns only after the fsync), then merged into each table's active memtable. A
//! reader/writer barrier makes "appended to the log" and "visible in a memtable" one step as
//! far as memtable switches are concerned, so the commit-log position recorded at a switch
//! separates exactly what a flushed memtable holds from what it does not.
//!
//! Memory: memtables across all tables share one budget. Crossing the cleanup threshold
//! flushes the largest memtable in the background; at the full budget writers wait for a
//! flush (backpressure) and fail with `Overloaded` if none frees space in time.

use std::collections::HashMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use meridian_types::model::{
    decode_mutation, encode_mutation, Mutation, Partition, PurgePolicy, Slice, TableId,
};
use meridian_types::token::PartitionKey;
use parking_lot::{Condvar, Mutex, RwLock};

use crate::commitlog::{CommitLog, CommitLogConfig, SyncMode};
use crate::compaction::{run_compaction, CompactionThrottle};
use crate::compaction_strategy::{self, CompactionTask};
use crate::error::{StorageError, TryApplyError};
use crate::manifest::sync_dir;
use crate::memtable::Memtable;
use crate::sstable::{BlockCache, SstableWriter, SstableWriterConfig};
use crate::table::{encode_for_sstable, ScanIter, SstableStatsBuilder, Table, TableOptions};

/// Where time comes from: the engine asks it for "now" when it purges and expires data, so
/// tests can move time forward.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now_secs(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_secs(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// Default memtable budget shared by all tables.
pub const DEFAULT_MEMTABLE_SPACE_BYTES: u64 = 256 * 1024 * 1024;
/// Default share of the budget at which the largest memtable is flushed.
pub const DEFAULT_MEMTABLE_CLEANUP_THRESHOLD: f64 = 0.5;
/// How long a writer waits for memtable space before failing with `Overloaded`.
pub const DEFAULT_MEMTABLE_BLOCK_TIMEOUT: Duration = Duration::from_secs(2);
/// Cassandra's default `compaction_throughput` (MiB/s; 0 means unthrottled).
pub const DEFAULT_COMPACTION_THROUGHPUT_MIB_PER_SEC: u64 = 64;

/// Default SSTable data block size: small blocks make a point read that misses the block cache
/// read, check and decompress 4 KiB instead of 16 KiB.
pub const DEFAULT_SSTABLE_BLOCK_SIZE_BYTES: u32 = 4 * 1024;

/// Default size of the shared SSTable block cache.
pub const DEFAULT_BLOCK_CACHE_BYTES: u64 = 128 * 1024 * 1024;

/// Storage engine configuration.
#[derive(Clone)]
pub struct EngineConfig {
    /// Root directory: `commitlog/` and `data/` live under it.
    pub data_dir: PathBuf,
    /// `periodic` or `batch`.
    pub commitlog_sync: SyncMode,
    /// Commit-log segment size.
    pub commitlog_segment_size_bytes: u64,
    /// Largest mutation accepted (Cassandra: half a segment).
    pub max_mutation_size_bytes: u64,
    /// Memtable budget across all tables.
    pub memtable_space_bytes: u64,
    /// Fraction of the budget at which the largest memtable is flushed.
    pub memtable_cleanup_threshold: f64,
    /// How long a writer waits for memtable space.
    pub memtable_block_timeout: Duration,
    /// Compaction write throttle in MiB/s, 0 for none.
    pub compaction_throughput_mib_per_sec: u64,
    /// Whether compactions start by themselves.
    pub auto_compaction: bool,
    /// Snapshot a table before truncating or dropping it (Cassandra's `auto_snapshot`).
    pub auto_snapshot: bool,
    /// SSTable writer settings.
    pub sstable: SstableWriterConfig,
    /// Bytes of decompressed SSTable blocks cached for point reads, shared by all tables (0
    /// disables the cache).
    pub block_cache_bytes: u64,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Run first on the flush and compaction threads (the binary lowers their CPU priority
    /// there, so that request threads win the CPU when both want it). The engine itself sets
    /// no thread attributes.
    pub background_thread_init: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl EngineConfig {
    /// Defaults (Cassandra's where it has them) for an engine in `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let segment = crate::commitlog::DEFAULT_SEGMENT_SIZE_BYTES;
        EngineConfig {
            data_dir: data_dir.into(),
            commitlog_sync: SyncMode::default(),
            commitlog_segment_size_bytes: segment,
            max_mutation_size_bytes: segment / 2,
            memtable_space_bytes: DEFAULT_MEMTABLE_SPACE_BYTES,
            memtable_cleanup_threshold: DEFAULT_MEMTABLE_CLEANUP_THRESHOLD,
            memtable_block_timeout: DEFAULT_MEMTABLE_BLOCK_TIMEOUT,
            compaction_throughput_mib_per_sec: DEFAULT_COMPACTION_THROUGHPUT_MIB_PER_SEC,
            auto_compaction: true,
            auto_snapshot: true,
            sstable: SstableWriterConfig {
                block_size_bytes: DEFAULT_SSTABLE_BLOCK_SIZE_BYTES,
                ..SstableWriterConfig::default()
            },
            block_cache_bytes: DEFAULT_BLOCK_CACHE_BYTES,
            clock: Arc::new(SystemClock),
            background_thread_init: None,
        }
    }

    fn validate(&self) -> Result<(), StorageError> {
        if !(0.0..=1.0).contains(&self.memtable_cleanup_threshold)
            || self.memtable_cleanup_threshold == 0.0
        {
            return Err(StorageError::Config(format!(
                "memtable_cleanup_threshold must be in (0, 1], got {}",
                self.memtable_cleanup_threshold
            )));
        }
        if self.memtable_space_bytes < 1024 * 1024 {
            return Err(StorageError::Config(format!(
                "memtable_space_bytes must be at least 1 MiB, got {}",
                self.memtable_space_bytes
            )));
        }
        if self.max_mutation_size_bytes > self.commitlog_segment_size_bytes / 2 {
            return Err(StorageError::Config(format!(
                "max_mutation_size_bytes ({}) must be at most half the commit-log segment size ({})",
                self.max_mutation_size_bytes, self.commitlog_segment_size_bytes
            )));
        }
        Ok(())
    }
}

/// What replay at open found.
#[derive(Clone, Debug, Default)]
pub struct ReplayReport {
    /// Mutations re-applied to memtables.
    pub mutations_replayed: u64,
    /// Partition updates skipped because their table no longer exists.
    pub updates_of_unknown_tables: u64,
    /// Updates skipped because their table had flushed them (or was truncated after them).
    pub updates_already_flushed: u64,
    /// Damage found in the commit log (torn tail, corrupt records), as text.
    pub damage: Vec<String>,
}

/// Statistics of one table.
#[derive(Clone, Debug)]
pub struct TableStats {
    /// Live SSTables.
    pub sstable_count: usize,
    /// Bytes of live SSTables on disk.
    pub live_disk_bytes: u64,
    /// Bytes in memtables.
    pub memtable_bytes: u64,
    /// Partitions in memtables.
    pub memtable_partitions: usize,
    /// Partitions in SSTables (counted per SSTable, so a partition in two counts twice).
    pub sstable_partitions: u64,
    /// Per-SSTable: generation, level, size in bytes, partitions, tombstones.
    pub sstables: Vec<SstableStatsLine>,
}

/// One SSTable in [`TableStats`].
#[derive(Clone, Debug)]
pub struct SstableStatsLine {
    /// Generation.
    pub generation: u64,
    /// Level.
    pub level: u32,
    /// Size on disk.
    pub size_bytes: u64,
    /// Partitions.
    pub partitions: u64,
    /// Tombstones (and expiring cells).
    pub tombstones: u64,
    /// Smallest timestamp.
    pub min_timestamp_micros: i64,
    /// Largest timestamp.
    pub max_timestamp_micros: i64,
}

pub(crate) struct Inner {
    config: EngineConfig,
    data_root: PathBuf,
    commitlog: CommitLog,
    tables: RwLock<HashMap<TableId, Arc<Table>>>,
    /// Writers hold it shared from commit-log append to memtable insert; memtable switches
    /// and commit-log discards hold it exclusively.
    write_barrier: RwLock<()>,
    memtable_bytes: AtomicU64,
    space_freed: Condvar,
    space_lock: Mutex<()>,
    work: Condvar,
    work_lock: Mutex<bool>,
    shutdown: AtomicBool,
    throttle: CompactionThrottle,
    block_cache: Option<Arc<BlockCache>>,
    /// Why the last flush failed, until one succeeds.
    last_flush_error: Mutex<Option<String>>,
    /// Bytes written by flushes and compactions (for write amplification).
    pub(crate) bytes_flushed: AtomicU64,
    pub(crate) bytes_compacted: AtomicU64,
}

/// The storage engine. Cheap to clone; all clones share one engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Engine {
    /// Opens the engine in `config.data_dir` with the given tables, replays the commit log
    /// into memtables, and starts the background flush and compaction threads.
    pub fn open(
        config: EngineConfig,
        tables: Vec<TableOptions>,
    ) -> Result<(Engine, ReplayReport), StorageError> {
        config.validate()?;
        let data_root = config.data_dir.join("data");
        std::fs::create_dir_all(&data_root)
            .map_err(|e| StorageError::io("create data dir", &data_root, e))?;
        let block_cache = (config.block_cache_bytes > 0)
            .then(|| Arc::new(BlockCache::new(config.block_cache_bytes as usize)));
        let mut map = HashMap::new();
        for t in tables {
            let id = t.id;
            map.insert(
                id,
                Arc::new(Table::open(t, &data_root, block_cache.clone())?),
            );
        }
        let mut cl_config = CommitLogConfig::new(config.data_dir.join("commitlog"))
            .with_segment_size(config.commitlog_segment_size_bytes);
        cl_config.sync_mode = config.commitlog_sync;
        let (commitlog, replay) = CommitLog::open(cl_config)?;
        let mut report = ReplayReport::default();
        let mut replayed_bytes = 0u64;
        let mut replay = replay;
        for record in replay.by_ref() {
            let record = record?;
            let decoded = decode_mutation(record.payload.into(), &|id| {
                map.get(&id).map(|t: &Arc<Table>| t.options().comparator)
            });
            let decoded = match decoded {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(position = %record.position, error = %e, "skipping undecodable commit-log record");
                    report
                        .damage
                        .push(format!("record at {}: {e}", record.position));
                    continue;
                }
            };
            report.updates_of_unknown_tables += decoded.unknown_tables.len() as u64;
            for u in decoded.mutation.updates {
                let Some(table) = map.get(&u.table) else {
                    continue;
                };
                if table.replay_floor().is_some_and(|t| record.position <= t) {
                    report.updates_already_flushed += 1;
                    continue;
                }
                replayed_bytes += table.apply_to_active(&u.key, u.partition) as u64;
            }
            report.mutations_replayed += 1;
        }
        if let Some(d) = replay.truncated_tail() {
            report.damage.push(format!(
                "torn tail in {} at offset {}: {}",
                d.path.display(),
                d.offset,
                d.kind
            ));
        }
        for d in replay.corruptions() {
            report.damage.push(format!(
                "corruption in {} at offset {}: {}",
                d.path.display(),
                d.offset,
                d.kind
            ));
        }
        let inner = Arc::new(Inner {
            throttle: CompactionThrottle::new(config.compaction_throughput_mib_per_sec),
            block_cache,
            last_flush_error: Mutex::new(None),
            config,
            data_root,
            commitlog,
            tables: RwLock::new(map),
            write_barrier: RwLock::new(()),
            memtable_bytes: AtomicU64::new(replayed_bytes),
            space_freed: Condvar::new(),
            space_lock: Mutex::new(()),
            work: Condvar::new(),
            work_lock: Mutex::new(false),
            shutdown: AtomicBool::new(false),
            bytes_flushed: AtomicU64::new(0),
            bytes_compacted: AtomicU64::new(0),
        });
        let engine = Engine {
            inner,
            threads: Arc::new(Mutex::new(Vec::new())),
        };
        engine.start_background();
        Ok((engine, report))
    }

    fn start_background(&self) {
        let mut threads = self.threads.lock();
        let flusher = self.clone_weak_worker();
        threads.push(self.spawn_background("meridian-flush", move || flusher.flush_loop()));
        if self.inner.config.auto_compaction {
            let compactor = self.clone_weak_worker();
            threads.push(
                self.spawn_background("meridian-compaction", move || compactor.compaction_loop()),
            );
        }
    }

    /// Starts a background thread that runs the configured `background_thread_init` first.
    fn spawn_background(
        &self,
        name: &str,
        run: impl FnOnce() + Send + 'static,
    ) -> std::thread::JoinHandle<()> {
        let init = self.inner.config.background_thread_init.clone();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                if let Some(init) = init {
                    init();
                }
                run()
            })
            .expect("spawning a background thread must succeed at startup")
    }

    fn clone_weak_worker(&self) -> Worker {
        Worker {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// Adds a table (its directory is created; existing files there are loaded).
    pub fn create_table(&self, options: TableOptions) -> Result<(), StorageError> {
        let mut tables = self.inner.tables.write();
        if tables.contains_key(&options.id) {
            return Err(StorageError::TableExists(options.id));
        }
        let id = options.id;
        let table = Table::open(
            options,
            &self.inner.data_root,
            self.inner.block_cache.clone(),
        )?;
        tables.insert(id, Arc::new(table));
        Ok(())
    }

    /// Changes a table's gc grace and compaction options.
    pub fn alter_table(&self, options: TableOptions) -> Result<(), StorageError> {
        let table = self.table(options.id)?;
        table.set_options(options);
        self.inner.wake_background();
        Ok(())
    }

    /// Removes a table and its data (after a snapshot if `auto_snapshot`). Snapshots stay.
    pub fn drop_table(&self, id: TableId) -> Result<(), StorageError> {
        let table = self.table(id)?;
        if self.inner.config.auto_snapshot {
            let name = format!("dropped-{}-{}", self.now_millis(), table.options().name);
            self.snapshot_table(&table, &name, "")?;
        }
        self.inner.tables.write().remove(&id);
        let _flush = table.flush_lock.lock();
        let view = table.view();
        let freed: u64 = view.memtables().map(|m| m.size_bytes() as u64).sum();
        self.inner.release_memtable_bytes(freed);
        for s in &view.sstables {
            remove_file_logged(s.reader.path());
        }
        remove_file_logged(&table.dir().join(crate::manifest::MANIFEST_FILE));
        Ok(())
    }

    fn table(&self, id: TableId) -> Result<Arc<Table>, StorageError> {
        self.inner
            .tables
            .read()
            .get(&id)
            .cloned()
            .ok_or(StorageError::UnknownTable(id))
    }

    /// A table's clustering comparator.
    pub fn comparator(
        &self,
        table: TableId,
    ) -> Result<meridian_types::model::ClusteringComparator, StorageError> {
        Ok(self.table(table)?.options().comparator)
    }

    /// The live SSTable files of a table holding data in a token range (for streaming and
    /// repair), with their sizes.
    pub fn sstables_in_token_range(
        &self,
        table: TableId,
        range: meridian_types::token::TokenRange,
    ) -> Result<Vec<(PathBuf, u64)>, StorageError> {
        let table = self.table(table)?;
        let view = table.view();
        let mut out = Vec::new();
        for s in &view.sstables {
            let summary = s.reader.summary();
            let (Some(lo), Some(hi)) = (summary.min_token(), summary.max_token()) else {
                continue;
            };
            let overlaps = range.unwrap().iter().any(|r| {
                // (start, end] against [lo, hi]; an end of MIN means the end of the ring.
                let end_ok = r.end_inclusive.0 == i64::MIN || lo <= r.end_inclusive.0;
                end_ok && hi > r.start_exclusive.0
            });
            if overlaps {
                out.push((s.reader.path().to_path_buf(), s.reader.file_size_bytes()));
            }
        }
        Ok(out)
    }

    /// The ids of all tables.
    pub fn table_ids(&self) -> Vec<TableId> {
        self.inner.tables.read().keys().copied().collect()
    }

    /// Applies a mutation atomically: durably logged (per the sync mode), then visible to
    /// reads. Fails without applying anything if a table is unknown, the mutation is too
    /// large, memtables stay full, or the commit log has failed.
    pub fn apply(&self, mutation: Mutation) -> Result<(), StorageError> {
        self.apply_now(mutation, true)
    }

    /// [`Engine::apply`] without waiting: an async caller may run it on its own thread.
    ///
    /// It hands the mutation back untouched ([`TryApplyError::WouldBlock`]) instead of
    /// waiting for a batch-mode fsync or for memtable space; whoever gets it back calls
    /// [`Engine::apply`] where waiting is allowed. Otherwise it costs what a periodic-mode
    /// apply costs: a copy into the commit log's buffer (written out to the page cache every
    /// `WRITE_BUFFER_LIMIT_BYTES`, or after a wait for a preallocated segment at a segment
    /// boundary, both bounded) and memtable inserts.
    pub fn try_apply(&self, mutation: Mutation) -> Result<(), TryApplyError> {
        let inner = &self.inner;
        if matches!(inner.config.commitlog_sync, SyncMode::Batch { .. })
            || inner.memtable_bytes.load(AtomicOrdering::Acquire)
                >= inner.config.memtable_space_bytes
        {
            return Err(TryApplyError::WouldBlock(mutation));
        }
        self.apply_now(mutation, false)
            .map_err(TryApplyError::Failed)
    }

    /// The body of [`Engine::apply`]; waits for memtable space only if `may_wait`.
    fn apply_now(&self, mutation: Mutation, may_wait: bool) -> Result<(), StorageError> {
        let inner = &self.inner;
        if inner.shutdown.load(AtomicOrdering::Acquire) {
            return Err(StorageError::ShutDown);
        }
        let tables: Vec<Arc<Table>> = mutation
            .updates
            .iter()
            .map(|u| self.table(u.table))
            .collect::<Result<_, _>>()?;
        let mut buf = BytesMut::new();
        encode_mutation(&mut buf, &mutation);
        let size_bytes = buf.len() as u64;
        if size_bytes > inner.config.max_mutation_size_bytes {
            return Err(StorageError::MutationTooLarge {
                size_bytes,
                max_bytes: inner.config.max_mutation_size_bytes,
            });
        }
        if may_wait {
            inner.wait_for_memtable_space()?;
        }
        let added = {
            let _barrier = inner.write_barrier.read();
            inner.commitlog.append(&buf)?;
            let mut added = 0u64;
            for (u, table) in mutation.updates.into_iter().zip(tables) {
                added += table.apply_to_active(&u.key, u.partition) as u64;
            }
            added
        };
        let total = inner
            .memtable_bytes
            .fetch_add(added, AtomicOrdering::AcqRel)
            + added;
        // Wake the flusher when this write crosses the cleanup threshold; while memtables stay
        // above it the flusher keeps flushing by itself (and polls), so waking it on every
        // write would only cost a lock and a notify per write.
        let threshold =
            inner.config.memtable_space_bytes as f64 * inner.config.memtable_cleanup_threshold;
        if total as f64 >= threshold && ((total - added) as f64) < threshold {
            inner.wake_background();
        }
        Ok(())
    }

    /// Reads a partition restricted to `slices` (sorted, disjoint), with its tombstones.
    /// `None` if no source holds anything for it.
    pub fn read(
        &self,
        table: TableId,
        key: &PartitionKey,
        slices: &[Slice],
    ) -> Result<Option<Partition>, StorageError> {
        self.table(table)?.read(key, slices)
    }

    /// Scans partitions with keys in the bounds, in token order, merged across all sources.
    /// Use [`crate::table::token_start_bound`] and [`crate::table::token_end_bound`] to scan
    /// a token range.
    pub fn scan(
        &self,
        table: TableId,
        start: Bound<PartitionKey>,
        end: Bound<PartitionKey>,
    ) -> Result<ScanIter, StorageError> {
        Ok(self.table(table)?.scan(start, end))
    }

    /// Flushes a table's memtable to an SSTable (and retries memtables whose earlier flush
    /// failed). Returns when the data is in a live SSTable.
    pub fn flush(&self, table: TableId) -> Result<(), StorageError> {
        let table = self.table(table)?;
        self.inner.flush_table(&table)
    }

    /// Flushes every table.
    pub fn flush_all(&self) -> Result<(), StorageError> {
        let tables: Vec<Arc<Table>> = self.inner.tables.read().values().cloned().collect();
        for t in tables {
            self.inner.flush_table(&t)?;
        }
        Ok(())
    }

    /// Compacts all of a table's SSTables now (Cassandra's major compaction).
    pub fn major_compaction(&self, table: TableId) -> Result<(), StorageError> {
        let table = self.table(table)?;
        let options = table.options();
        let view = table.view();
        let infos: Vec<_> = view.sstables.iter().map(|s| s.info()).collect();
        let compacting = table.compacting.lock().clone();
        for task in
            compaction_strategy::major_compaction_tasks(&options.compaction, &infos, &compacting)
        {
            self.inner.run_task(&table, task)?;
        }
        Ok(())
    }

    /// Compacts exactly the given SSTables of a table together (Cassandra's user-defined
    /// compaction). Unknown generations are an error; if any is already being compacted, nothing is done.
    pub fn compact_user_defined(
        &self,
        table: TableId,
        generations: Vec<u64>,
    ) -> Result<(), StorageError> {
        let table = self.table(table)?;
        let view = table.view();
        for g in &generations {
            if !view.sstables.iter().any(|s| s.generation == *g) {
                return Err(StorageError::Config(format!(
                    "no live sstable with generation {g}"
                )));
            }
        }
        let task = CompactionTask {
            inputs: generations,
            output_level: 0,
            max_output_sstable_bytes: None,
            kind: compaction_strategy::TaskKind::Major,
        };
        self.inner.run_task(&table, task)
    }

    /// Runs compactions of `table` until its strategy has nothing more to do (tests and
    /// benchmarks use this when `auto_compaction` is off). Returns the number of tasks run.
    pub fn compact_until_idle(&self, table: TableId) -> Result<usize, StorageError> {
        let table = self.table(table)?;
        let mut n = 0;
        while let Some(task) = self.inner.next_task(&table) {
            self.inner.run_task(&table, task)?;
            n += 1;
        }
        Ok(n)
    }

    /// Takes a named snapshot of every table: flushes, then hard-links the live SSTables into
    /// `<table dir>/snapshots/<name>/` with a `manifest.json` listing the files and the
    /// given schema version. Returns the snapshot directories.
    pub fn snapshot(&self, name: &str, schema_version: &str) -> Result<Vec<PathBuf>, StorageError> {
        validate_snapshot_name(name)?;
        let tables: Vec<Arc<Table>> = self.inner.tables.read().values().cloned().collect();
        let mut dirs = Vec::new();
        for t in tables {
            dirs.push(self.snapshot_table(&t, name, schema_version)?);
        }
        Ok(dirs)
    }

    fn snapshot_table(
        &self,
        table: &Arc<Table>,
        name: &str,
        schema_version: &str,
    ) -> Result<PathBuf, StorageError> {
        self.inner.flush_table(table)?;
        let dir = table.dir().join("snapshots").join(name);
        std::fs::create_dir_all(&dir)
            .map_err(|e| StorageError::io("create snapshot dir", &dir, e))?;
        let view = table.view();
        let mut files = Vec::new();
        for s in &view.sstables {
            let src = s.reader.path();
            let file_name = src
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let dst = dir.join(&file_name);
            if !dst.exists() {
                std::fs::hard_link(src, &dst)
                    .map_err(|e| StorageError::io("link snapshot file", &dst, e))?;
            }
            files.push((file_name, s.level));
        }
        let options = table.options();
        let file_list: Vec<String> = files
            .iter()
            .map(|(f, l)| format!("    {{\"file\": \"{f}\", \"level\": {l}}}"))
            .collect();
        let manifest = format!(
            "{{\n  \"snapshot\": \"{name}\",\n  \"keyspace\": \"{}\",\n  \"table\": \"{}\",\n  \"table_id\": \"{}\",\n  \"schema_version\": \"{}\",\n  \"created_at_secs\": {},\n  \"files\": [\n{}\n  ]\n}}\n",
            json_escape(&options.keyspace),
            json_escape(&options.name),
            options.id.0,
            json_escape(schema_version),
            self.inner.config.clock.now_secs(),
            file_list.join(",\n")
        );
        let path = dir.join("manifest.json");
        std::fs::write(&path, manifest)
            .map_err(|e| StorageError::io("write snapshot manifest", &path, e))?;
        sync_dir(&dir)?;
        Ok(dir)
    }

    /// Removes every row of a table (after a snapshot if `auto_snapshot`).
    pub fn truncate(&self, id: TableId) -> Result<(), StorageError> {
        let table = self.table(id)?;
        if self.inner.config.auto_snapshot {
            let name = format!("truncated-{}-{}", self.now_millis(), table.options().name);
            self.snapshot_table(&table, &name, "")?;
        }
        let _flush = table.flush_lock.lock();
        let cleared = {
            let _barrier = self.inner.write_barrier.write();
            let position = self.inner.commitlog.current_position();
            table.clear(position)?
        };
        let freed: u64 = cleared
            .memtables
            .iter()
            .map(|m| m.size_bytes() as u64)
            .sum();
        self.inner.release_memtable_bytes(freed);
        for s in cleared.sstables {
            remove_file_logged(s.reader.path());
        }
        self.inner.discard_commitlog();
        Ok(())
    }

    /// Statistics of one table.
    pub fn table_stats(&self, id: TableId) -> Result<TableStats, StorageError> {
        let table = self.table(id)?;
        let view = table.view();
        let sstables: Vec<SstableStatsLine> = view
            .sstables
            .iter()
            .map(|s| {
                let stats = s.reader.stats();
                SstableStatsLine {
                    generation: s.generation,
                    level: s.level,
                    size_bytes: s.reader.file_size_bytes(),
                    partitions: s.reader.summary().partition_count,
                    tombstones: stats.tombstone_count,
                    min_timestamp_micros: stats.min_timestamp_micros,
                    max_timestamp_micros: stats.max_timestamp_micros,
                }
            })
            .collect();
        Ok(TableStats {
            sstable_count: sstables.len(),
            live_disk_bytes: sstables.iter().map(|s| s.size_bytes).sum(),
            memtable_bytes: view.memtables().map(|m| m.size_bytes() as u64).sum(),
            memtable_partitions: view.memtables().map(|m| m.partition_count()).sum(),
            sstable_partitions: sstables.iter().map(|s| s.partitions).sum(),
            sstables,
        })
    }

    /// Total bytes written to SSTables by flushes and by compactions since open.
    pub fn bytes_written(&self) -> (u64, u64) {
        (
            self.inner.bytes_flushed.load(AtomicOrdering::Relaxed),
            self.inner.bytes_compacted.load(AtomicOrdering::Relaxed),
        )
    }

    /// Bytes currently held in memtables.
    pub fn memtable_bytes(&self) -> u64 {
        self.inner.memtable_bytes.load(AtomicOrdering::Relaxed)
    }

    /// Forces an fsync of the commit log.
    pub fn sync_commitlog(&self) -> Result<(), StorageError> {
        self.inner.commitlog.sync()?;
        Ok(())
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.inner.config.data_dir
    }

    /// Stops background work, flushes every memtable (so restart needs no replay) and syncs
    /// the commit log. Writes after this fail with `ShutDown`.
    pub fn shutdown(&self) -> Result<(), StorageError> {
        if self.inner.shutdown.swap(true, AtomicOrdering::AcqRel) {
            return Ok(());
        }
        self.inner.wake_background();
        for t in self.threads.lock().drain(..) {
            let _ = t.join();
        }
        let tables: Vec<Arc<Table>> = self.inner.tables.read().values().cloned().collect();
        for t in tables {
            self.inner.flush_table(&t)?;
        }
        self.inner.commitlog.sync()?;
        Ok(())
    }

    /// Stops background threads and drops the engine without flushing memtables or syncing
    /// the commit log beyond what it already did: what a crash leaves behind (tests only).
    #[doc(hidden)]
    pub fn abandon(self) {
        self.inner.shutdown.store(true, AtomicOrdering::Release);
        self.inner.wake_background();
        for t in self.threads.lock().drain(..) {
            let _ = t.join();
        }
    }

    fn now_millis(&self) -> i64 {
        self.inner.config.clock.now_secs() * 1000
            + i64::from(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_millis())
                    .unwrap_or(0),
            )
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown.store(true, AtomicOrdering::Release);
    }
}

fn validate_snapshot_name(name: &str) -> Result<(), StorageError> {
    if name.is_empty()
        || name.len() > 200
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        || name.starts_with('.')
    {
        return Err(StorageError::Config(format!(
            "invalid snapshot name {name:?}: use 1-200 characters among letters, digits, '-', '_' and '.', not starting with '.'"
        )));
    }
    Ok(())
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn remove_file_logged(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(file = %path.display(), error = %e, "could not remove obsolete file");
        }
    }
}

impl Inner {
    fn wake_background(&self) {
        *self.work_lock.lock() = true;
        self.work.notify_all();
    }

    fn release_memtable_bytes(&self, bytes: u64) {
        let _ = self.memtable_bytes.fetch_update(
            AtomicOrdering::AcqRel,
            AtomicOrdering::Acquire,
            |v| Some(v.saturating_sub(bytes)),
        );
        let _g = self.space_lock.lock();
        self.space_freed.notify_all();
    }

    fn wait_for_memtable_space(&self) -> Result<(), StorageError> {
        let limit = self.config.memtable_space_bytes;
        if self.memtable_bytes.load(AtomicOrdering::Acquire) < limit {
            return Ok(());
        }
        self.wake_background();
        let started = Instant::now();
        let deadline = started + self.config.memtable_block_timeout;
        let mut guard = self.space_lock.lock();
        loop {
            let used = self.memtable_bytes.load(AtomicOrdering::Acquire);
            if used < limit {
                return Ok(());
            }
            if self
                .space_freed
                .wait_until(&mut guard, deadline)
                .timed_out()
            {
                let used = self.memtable_bytes.load(AtomicOrdering::Acquire);
                if used < limit {
                    return Ok(());
                }
                let cause = match &*self.last_flush_error.lock() {
                    Some(e) => format!(", last flush failed: {e}"),
                    None => String::new(),
                };
                return Err(StorageError::Overloaded {
                    cause,
                    memtable_bytes: used,
                    limit_bytes: limit,
                    waited_ms: started.elapsed().as_millis() as u64,
                });
            }
        }
    }

    /// Flushes the table's active memtable and any memtable whose earlier flush failed.
    fn flush_table(&self, table: &Arc<Table>) -> Result<(), StorageError> {
        let _flush = table.flush_lock.lock();
        {
            let _barrier = self.write_barrier.write();
            if !table.view().active.is_empty() {
                table.switch_memtable(self.commitlog.current_position());
            }
        }
        let pending: Vec<Arc<Memtable>> = table.view().flushing.clone();
        for m in pending {
            if let Err(e) = self.flush_memtable(table, &m) {
                *self.last_flush_error.lock() = Some(e.to_string());
                return Err(e);
            }
        }
        *self.last_flush_error.lock() = None;
        self.discard_commitlog();
        Ok(())
    }

    fn flush_memtable(
        &self,
        table: &Arc<Table>,
        memtable: &Arc<Memtable>,
    ) -> Result<(), StorageError> {
        if memtable.is_empty() {
            table.install(std::slice::from_ref(memtable), &[], Vec::new())?;
            return Ok(());
        }
        let generation = table.next_generation();
        let path = crate::manifest::sstable_path(table.dir(), generation);
        let cmp = memtable.comparator().clone();
        let mut sstable_config = self.config.sstable.clone();
        sstable_config.expected_partitions = Some(memtable.partition_count() as u64);
        let mut writer = SstableWriter::create(&path, sstable_config)?;
        let mut stats = SstableStatsBuilder::new(cmp);
        let mut buf = BytesMut::new();
        for (key, partition) in memtable.range(Bound::Unbounded, Bound::Unbounded) {
            if partition.is_empty() {
                continue;
            }
            stats.add(&partition);
            encode_for_sstable(&mut buf, &partition);
            writer.append(key.token().0, key.key(), &buf)?;
        }
        let summary = writer.finish(stats.finish())?;
        self.bytes_flushed
            .fetch_add(summary.file_size_bytes, AtomicOrdering::Relaxed);
        let handle = Arc::new(table.open_sstable(generation, 0)?);
        table.install(std::slice::from_ref(memtable), &[], vec![handle])?;
        self.release_memtable_bytes(memtable.size_bytes() as u64);
        tracing::debug!(table = %table.options().name, generation, "flushed memtable");
        self.wake_background();
        Ok(())
    }

    /// Lets the commit log delete segments whose every record is in SSTables.
    fn discard_commitlog(&self) {
        let _barrier = self.write_barrier.write();
        let mut up_to = self.commitlog.current_position();
        for t in self.tables.read().values() {
            for m in t.view().memtables() {
                if !m.is_empty() {
                    up_to = up_to.min(m.start_position());
                }
            }
        }
        if let Err(e) = self.commitlog.mark_flushed_up_to(up_to) {
            tracing::warn!(error = %e, "could not release commit-log segments");
        }
    }

    fn next_task(&self, table: &Arc<Table>) -> Option<CompactionTask> {
        let options = table.options();
        let view = table.view();
        let infos: Vec<_> = view.sstables.iter().map(|s| s.info()).collect();
        let compacting = table.compacting.lock().clone();
        let now = self.config.clock.now_secs();
        compaction_strategy::next_task_with_state(
            &options.compaction,
            &mut table.strategy_state.lock(),
            &infos,
            &compacting,
            now,
            now - i64::from(options.gc_grace_seconds),
        )
    }

    fn run_task(&self, table: &Arc<Table>, task: CompactionTask) -> Result<(), StorageError> {
        {
            let mut c = table.compacting.lock();
            if task.inputs.iter().any(|g| c.contains(g)) {
                return Ok(());
            }
            c.extend(task.inputs.iter().copied());
        }
        let result = match task.kind {
            compaction_strategy::TaskKind::Promote { rewrite: false } => self.relevel(table, &task),
            _ => run_compaction(self, table, &task),
        };
        let mut c = table.compacting.lock();
        for g in &task.inputs {
            c.remove(g);
        }
        result
    }

    /// Moves SSTables to the task's output level without rewriting them.
    fn relevel(&self, table: &Arc<Table>, task: &CompactionTask) -> Result<(), StorageError> {
        let mut handles = Vec::with_capacity(task.inputs.len());
        for g in &task.inputs {
            handles.push(Arc::new(table.open_sstable(*g, task.output_level)?));
        }
        table.install(&[], &task.inputs, handles)
    }

    pub(crate) fn purge_policy_for(
        &self,
        table: &Table,
        key: &PartitionKey,
        inputs: &[u64],
    ) -> PurgePolicy {
        let options = table.options();
        let now = self.config.clock.now_secs();
        let view = table.view();
        let mut max_purgeable = i64::MAX;
        for m in view.memtables() {
            if m.contains(key) {
                max_purgeable = max_purgeable.min(m.min_timestamp_micros());
            }
        }
        for s in &view.sstables {
            if !inputs.contains(&s.generation) && s.may_contain(key) {
                max_purgeable = max_purgeable.min(s.reader.stats().min_timestamp_micros);
            }
        }
        PurgePolicy {
            now_secs: now,
            gc_before_secs: now - i64::from(options.gc_grace_seconds),
            max_purgeable_timestamp_micros: max_purgeable,
        }
    }

    pub(crate) fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub(crate) fn throttle(&self) -> &CompactionThrottle {
        &self.throttle
    }
}

/// Background work holds only a weak reference, so dropping the last `Engine` ends it.
struct Worker {
    inner: std::sync::Weak<Inner>,
}

/// How often background threads look for work without being woken.
const BACKGROUND_POLL: Duration = Duration::from_millis(500);

impl Worker {
    fn wait(&self) -> bool {
        let Some(inner) = self.inner.upgrade() else {
            return false;
        };
        if inner.shutdown.load(AtomicOrdering::Acquire) {
            return false;
        }
        let mut woken = inner.work_lock.lock();
        if !*woken {
            inner.work.wait_for(&mut woken, BACKGROUND_POLL);
        }
        *woken = false;
        !inner.shutdown.load(AtomicOrdering::Acquire)
    }

    fn flush_loop(self) {
        while self.wait() {
            let Some(inner) = self.inner.upgrade() else {
                return;
            };
            let threshold =
                inner.config.memtable_space_bytes as f64 * inner.config.memtable_cleanup_threshold;
            while (inner.memtable_bytes.load(AtomicOrdering::Acquire) as f64) >= threshold {
                if inner.shutdown.load(AtomicOrdering::Acquire) {
                    return;
                }
                let largest = inner
                    .tables
                    .read()
                    .values()
                    .max_by_key(|t| t.view().memtables().map(|m| m.size_bytes()).sum::<usize>())
                    .cloned();
                let Some(table) = largest else { break };
                if let Err(e) = inner.flush_table(&table) {
                    tracing::error!(table = %table.options().name, error = %e, "memtable flush failed; will retry");
                    std::thread::sleep(BACKGROUND_POLL);
                    break;
                }
            }
        }
    }

    fn compaction_loop(self) {
        while self.wait() {
            loop {
                let Some(inner) = self.inner.upgrade() else {
                    return;
                };
                if inner.shutdown.load(AtomicOrdering::Acquire) {
                    return;
                }
                let tables: Vec<Arc<Table>> = inner.tables.read().values().cloned().collect();
                let mut ran = false;
                for t in tables {
                    if let Some(task) = inner.next_task(&t) {
                        if let Err(e) = inner.run_task(&t, task) {
                            tracing::error!(table = %t.options().name, error = %e, "compaction failed");
                        } else {
                            ran = true;
                        }
                    }
                }
                if !ran {
                    break;
                }
            }
        }
    }
}
