//! The two stores under test behind one small interface: Meridian's storage engine (one
//! table, one partition per key, one row, one regular cell, like a Cassandra
//! `INSERT INTO t (k, v) VALUES (?, ?)`) and fjall (one keyspace, key → value).
//!
//! Both are opened in a directory the caller owns and removes; neither adapter caches
//! anything of its own, so every figure is the engine's.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};

use bytes::Bytes;
use meridian_storage::commitlog::SyncMode;
use meridian_storage::compaction_strategy::CompactionStrategyConfig;
use meridian_storage::engine::{Engine, EngineConfig, TableStats};
use meridian_storage::table::TableOptions;
use meridian_types::model::{
    Cell, Clustering, ClusteringComparator, ColumnData, ColumnId, DeletionTime, LivenessInfo,
    Mutation, Partition, PartitionUpdate, Row, Slice, TableId,
};
use meridian_types::token::PartitionKey;

use crate::error::BenchError;

/// A key-value store as the benchmark drives it.
pub trait KvStore: Send + Sync {
    /// Short name for reports.
    fn name(&self) -> &'static str;
    /// Writes `value` under `key` (blind: nothing is read first).
    fn put(&self, key: &[u8], value: &[u8]) -> Result<(), BenchError>;
    /// Reads `key`; the length of its value, or `None` if absent.
    fn get(&self, key: &[u8]) -> Result<Option<usize>, BenchError>;
}

/// Meridian's commit-log durability for a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeridianSync {
    /// `commitlog_sync: periodic` with Cassandra's default 10 s period.
    Periodic,
    /// `commitlog_sync: batch` (group commit, no extra window).
    Batch,
}

impl MeridianSync {
    fn mode(self) -> SyncMode {
        match self {
            MeridianSync::Periodic => SyncMode::periodic_default(),
            MeridianSync::Batch => SyncMode::batch_default(),
        }
    }
}

/// The compaction strategy of the Meridian table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// `SizeTieredCompactionStrategy` with default options.
    SizeTiered,
    /// `LeveledCompactionStrategy` with default options.
    Leveled,
}

impl Strategy {
    /// The CQL class name.
    pub fn class(self) -> &'static str {
        match self {
            Strategy::SizeTiered => "SizeTieredCompactionStrategy",
            Strategy::Leveled => "LeveledCompactionStrategy",
        }
    }

    fn config(self) -> Result<CompactionStrategyConfig, BenchError> {
        let mut options = BTreeMap::new();
        options.insert("class".to_owned(), self.class().to_owned());
        CompactionStrategyConfig::from_cql_options(&options).map_err(|e| BenchError::Strategy {
            options: format!("{options:?}"),
            reason: e.to_string(),
        })
    }
}

/// Meridian's engine with one table `bench.kv`.
pub struct MeridianStore {
    engine: Engine,
    table: TableId,
    /// Next write timestamp (microseconds): strictly increasing so overwrites reconcile
    /// to the last write, as with client timestamps from one clock.
    next_timestamp_micros: AtomicI64,
}

/// Bound on the major compactions tried to get a table down to one SSTable.
pub const MAJOR_COMPACTION_ATTEMPTS: usize = 50;
/// Pause between those attempts (lets a background compaction finish).
const MAJOR_COMPACTION_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

/// The one regular column of the benchmark table.
const VALUE_COLUMN: ColumnId = ColumnId(0);

impl MeridianStore {
    /// The engine's defaults that matter here, as text.
    pub fn describe_defaults() -> String {
        let c = EngineConfig::new("unused");
        format!(
            "memtable budget {} MiB flushed at {:.0}%, {} MiB commit-log segments, {} KiB data blocks ({:?}), bloom fp {}",
            c.memtable_space_bytes >> 20,
            c.memtable_cleanup_threshold * 100.0,
            c.commitlog_segment_size_bytes >> 20,
            c.sstable.block_size_bytes >> 10,
            c.sstable.compression,
            c.sstable.bloom_fp_rate
        )
    }

    /// Opens a fresh engine in `dir` with a block cache of `cache_bytes`: `auto_compaction`
    /// on, compaction unthrottled, other settings at their defaults.
    pub fn open(
        dir: &Path,
        sync: MeridianSync,
        strategy: Strategy,
        cache_bytes: u64,
    ) -> Result<Self, BenchError> {
        let mut config = EngineConfig::new(dir);
        config.block_cache_bytes = cache_bytes;
        config.commitlog_sync = sync.mode();
        config.auto_compaction = true;
        config.compaction_throughput_mib_per_sec = 0;
        let table = TableId(uuid::Uuid::new_v4());
        let mut options = TableOptions::new(table, "bench", "kv", ClusteringComparator::empty());
        options.compaction = strategy.config()?;
        let (engine, _replay) = Engine::open(config, vec![options])?;
        let now_micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        Ok(MeridianStore {
            engine,
            table,
            next_timestamp_micros: AtomicI64::new(now_micros),
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Statistics of the table.
    pub fn stats(&self) -> Result<TableStats, BenchError> {
        Ok(self.engine.table_stats(self.table)?)
    }

    /// Flushes the memtable and compacts everything into one SSTable (size-tiered major
    /// compaction). A major compaction leaves out SSTables that a background compaction is
    /// rewriting at that moment, so it is repeated (at most [`MAJOR_COMPACTION_ATTEMPTS`]
    /// times) until a single SSTable remains.
    pub fn flush_and_compact(&self) -> Result<(), BenchError> {
        self.engine.flush(self.table)?;
        for _ in 0..MAJOR_COMPACTION_ATTEMPTS {
            self.engine.major_compaction(self.table)?;
            if self.stats()?.sstable_count <= 1 {
                break;
            }
            std::thread::sleep(MAJOR_COMPACTION_RETRY_PAUSE);
        }
        Ok(())
    }

    /// Flushes, stops the background threads (waiting for the compaction under way), then
    /// runs every compaction the strategy still asks for on this thread: afterwards the
    /// flushed/compacted byte counters are final.
    pub fn settle(&self) -> Result<usize, BenchError> {
        self.engine.flush(self.table)?;
        self.engine.shutdown()?;
        Ok(self.engine.compact_until_idle(self.table)?)
    }

    /// Stops the engine (flushing memtables).
    pub fn shutdown(&self) -> Result<(), BenchError> {
        Ok(self.engine.shutdown()?)
    }
}

impl KvStore for MeridianStore {
    fn name(&self) -> &'static str {
        "meridian"
    }

    fn put(&self, key: &[u8], value: &[u8]) -> Result<(), BenchError> {
        let ts = self.next_timestamp_micros.fetch_add(1, Ordering::Relaxed);
        let row = Row {
            clustering: Clustering::EMPTY,
            liveness: Some(LivenessInfo::live(ts)),
            deletion: DeletionTime::LIVE,
            columns: vec![(
                VALUE_COLUMN,
                ColumnData::Simple(Cell::live(ts, Bytes::copy_from_slice(value))),
            )],
        };
        let mutation = Mutation {
            updates: vec![PartitionUpdate {
                table: self.table,
                key: PartitionKey::new(Bytes::copy_from_slice(key)),
                partition: Partition {
                    rows: vec![row],
                    ..Partition::new()
                },
            }],
        };
        Ok(self.engine.apply(mutation)?)
    }

    fn get(&self, key: &[u8]) -> Result<Option<usize>, BenchError> {
        let key = PartitionKey::new(Bytes::copy_from_slice(key));
        let Some(partition) = self.engine.read(self.table, &key, &[Slice::ALL])? else {
            return Ok(None);
        };
        let value = partition
            .rows
            .first()
            .and_then(|r| r.column(VALUE_COLUMN))
            .and_then(|c| match c {
                ColumnData::Simple(cell) => Some(cell.value.len()),
                ColumnData::Complex(_) => None,
            });
        Ok(value)
    }
}

/// fjall's durability for a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FjallSync {
    /// `Keyspace::insert` as shipped: each write is flushed to the OS (`PersistMode::Buffer`),
    /// never fsynced by the write.
    Default,
    /// Each write is a one-item `WriteBatch` with `durability(Some(PersistMode::SyncAll))`:
    /// the write returns after its journal fsync.
    SyncAll,
}

/// fjall with one keyspace `kv` at its default options.
pub struct FjallStore {
    db: fjall::Database,
    keyspace: fjall::Keyspace,
    sync: FjallSync,
}

impl FjallStore {
    /// Opens a fresh database in `dir` with a block cache of `cache_bytes`.
    pub fn open(dir: &Path, sync: FjallSync, cache_bytes: u64) -> Result<Self, BenchError> {
        let db = fjall::Database::builder(dir)
            .cache_size(cache_bytes)
            .open()?;
        let keyspace = db.keyspace("kv", fjall::KeyspaceCreateOptions::default)?;
        Ok(FjallStore { db, keyspace, sync })
    }

    /// Number of SSTables ("tables") in the keyspace.
    pub fn table_count(&self) -> usize {
        self.keyspace.table_count()
    }

    /// Bytes on disk of the keyspace's tables.
    pub fn disk_space(&self) -> u64 {
        self.keyspace.disk_space()
    }

    /// Flushes the memtable and runs a major compaction (both block until done).
    pub fn flush_and_compact(&self) -> Result<(), BenchError> {
        self.keyspace.rotate_memtable_and_wait()?;
        self.keyspace.major_compact()?;
        Ok(())
    }

    /// Makes everything written durable.
    pub fn persist(&self) -> Result<(), BenchError> {
        Ok(self.db.persist(fjall::PersistMode::SyncAll)?)
    }
}

impl KvStore for FjallStore {
    fn name(&self) -> &'static str {
        "fjall"
    }

    fn put(&self, key: &[u8], value: &[u8]) -> Result<(), BenchError> {
        match self.sync {
            FjallSync::Default => self.keyspace.insert(key, value)?,
            FjallSync::SyncAll => {
                let mut batch = self
                    .db
                    .batch()
                    .durability(Some(fjall::PersistMode::SyncAll));
                batch.insert(&self.keyspace, key, value);
                batch.commit()?;
            }
        }
        Ok(())
    }

    fn get(&self, key: &[u8]) -> Result<Option<usize>, BenchError> {
        Ok(self.keyspace.get(key)?.map(|v| v.len()))
    }
}
