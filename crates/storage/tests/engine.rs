//! Engine-level behaviour: no zombie rows after tombstone purging, truncation surviving
//! restarts, snapshots, corruption reported with file and offset, torn commit-log tails,
//! oversized mutations, backpressure when flushing fails and recovery when it works again.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use meridian_storage::commitlog::SyncMode;
use meridian_storage::compaction_strategy::CompactionStrategyConfig;
use meridian_storage::{Clock, Engine, EngineConfig, StorageError, TableOptions, TryApplyError};
use meridian_types::model::{
    Cell, Clustering, ClusteringComparator, ColumnData, ColumnId, DeletionTime, LivenessInfo,
    Mutation, Partition, PartitionUpdate, Row, Slice, TableId,
};
use meridian_types::token::PartitionKey;

struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now_secs(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

const NOW: i64 = 1_700_000_000;

fn table() -> TableId {
    TableId(uuid::Uuid::from_u128(1))
}

fn options(gc_grace_seconds: u32) -> TableOptions {
    let mut t = TableOptions::new(table(), "ks", "t", ClusteringComparator::empty());
    t.gc_grace_seconds = gc_grace_seconds;
    // Never compact by itself: tests pick what to compact.
    let mut o = BTreeMap::new();
    o.insert(
        "class".to_string(),
        "SizeTieredCompactionStrategy".to_string(),
    );
    o.insert("enabled".to_string(), "false".to_string());
    t.compaction = CompactionStrategyConfig::from_cql_options(&o).unwrap();
    t
}

fn config(dir: &std::path::Path, clock: &Arc<ManualClock>) -> EngineConfig {
    let mut c = EngineConfig::new(dir);
    c.clock = clock.clone();
    c.auto_compaction = false;
    c.compaction_throughput_mib_per_sec = 0;
    c.commitlog_segment_size_bytes = 1024 * 1024;
    c.max_mutation_size_bytes = 512 * 1024;
    c
}

fn key(k: &str) -> PartitionKey {
    PartitionKey::new(Bytes::copy_from_slice(k.as_bytes()))
}

fn write(e: &Engine, k: &str, value: &[u8], ts: i64) {
    let mut row = Row::new(Clustering::EMPTY);
    row.liveness = Some(LivenessInfo::live(ts));
    row.set_cell(ColumnId(0), Cell::live(ts, Bytes::copy_from_slice(value)));
    e.apply(update(
        k,
        Partition {
            rows: vec![row],
            ..Partition::new()
        },
    ))
    .unwrap();
}

fn one_row(value: &[u8], ts: i64) -> Partition {
    let mut row = Row::new(Clustering::EMPTY);
    row.liveness = Some(LivenessInfo::live(ts));
    row.set_cell(ColumnId(0), Cell::live(ts, Bytes::copy_from_slice(value)));
    Partition {
        rows: vec![row],
        ..Partition::new()
    }
}

#[test]
fn try_apply_applies_in_periodic_mode_and_hands_batch_mode_writes_back() {
    let clock = Arc::new(ManualClock(AtomicI64::new(NOW)));
    let dir = tempfile::tempdir().unwrap();
    let (periodic, _) = Engine::open(config(dir.path(), &clock), vec![options(10)]).unwrap();
    periodic.try_apply(update("k", one_row(b"v", 1))).unwrap();
    assert_eq!(value(&periodic, "k", NOW), Some(Bytes::from_static(b"v")));
    drop(periodic);

    // Batch mode waits for an fsync on every write: never without waiting.
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path(), &clock);
    c.commitlog_sync = SyncMode::Batch {
        window: std::time::Duration::ZERO,
    };
    let (batch, _) = Engine::open(c, vec![options(10)]).unwrap();
    match batch.try_apply(update("k", one_row(b"v", 1))) {
        Err(TryApplyError::WouldBlock(m)) => {
            assert_eq!(m, update("k", one_row(b"v", 1)));
            assert_eq!(value(&batch, "k", NOW), None, "nothing applied");
            batch.apply(m).unwrap();
        }
        other => panic!("expected WouldBlock, got {other:?}"),
    }
    assert_eq!(value(&batch, "k", NOW), Some(Bytes::from_static(b"v")));
}

fn delete_row(e: &Engine, k: &str, ts: i64, now: i64) {
    let mut row = Row::new(Clustering::EMPTY);
    row.deletion = DeletionTime::new(ts, now);
    e.apply(update(
        k,
        Partition {
            rows: vec![row],
            ..Partition::new()
        },
    ))
    .unwrap();
}

fn update(k: &str, partition: Partition) -> Mutation {
    Mutation {
        updates: vec![PartitionUpdate {
            table: table(),
            key: key(k),
            partition,
        }],
    }
}

fn value(e: &Engine, k: &str, now: i64) -> Option<Bytes> {
    let p = e.read(table(), &key(k), &[Slice::ALL]).unwrap()?;
    let live = p.live_view(now);
    let row = live.rows.first()?;
    match row.column(ColumnId(0))? {
        ColumnData::Simple(c) => Some(c.value.clone()),
        ColumnData::Complex(_) => None,
    }
}

fn generations(e: &Engine) -> Vec<u64> {
    e.table_stats(table())
        .unwrap()
        .sstables
        .iter()
        .map(|s| s.generation)
        .collect()
}

#[test]
fn deleted_row_never_comes_back_when_an_older_copy_is_outside_the_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock(AtomicI64::new(NOW)));
    let (e, _) = Engine::open(config(dir.path(), &clock), vec![options(10)]).unwrap();
    write(&e, "zombie", b"old", 100);
    e.flush(table()).unwrap();
    let [old] = generations(&e)[..] else {
        panic!("one sstable expected")
    };
    delete_row(&e, "zombie", 200, NOW);
    e.flush(table()).unwrap();
    write(&e, "other", b"x", 300);
    e.flush(table()).unwrap();
    assert_eq!(value(&e, "zombie", NOW), None);

    // gc_grace passes; compact everything but the SSTable holding the old copy.
    clock.0.store(NOW + 3600, Ordering::SeqCst);
    let others: Vec<u64> = generations(&e).into_iter().filter(|g| *g != old).collect();
    assert_eq!(others.len(), 2);
    e.compact_user_defined(table(), others).unwrap();
    assert_eq!(
        value(&e, "zombie", NOW + 3600),
        None,
        "the tombstone was purged too early"
    );
    let stats = e.table_stats(table()).unwrap();
    assert!(stats
        .sstables
        .iter()
        .any(|s| s.generation != old && s.tombstones > 0));

    // After a restart, and after a major compaction that sees both, it stays gone.
    e.shutdown().unwrap();
    drop(e);
    let (e, _) = Engine::open(config(dir.path(), &clock), vec![options(10)]).unwrap();
    assert_eq!(value(&e, "zombie", NOW + 3600), None);
    e.major_compaction(table()).unwrap();
    assert_eq!(value(&e, "zombie", NOW + 3600), None);
    assert_eq!(
        value(&e, "other", NOW + 3600),
        Some(Bytes::from_static(b"x"))
    );
    // Both the row and its tombstone are gone from disk now.
    let stats = e.table_stats(table()).unwrap();
    assert_eq!(stats.sstable_count, 1);
    assert_eq!(stats.sstables[0].tombstones, 0);
    assert_eq!(stats.sstable_partitions, 1);
}

#[test]
fn tombstone_is_kept_before_gc_grace() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock(AtomicI64::new(NOW)));
    let (e, _) = Engine::open(config(dir.path(), &clock), vec![options(1000)]).unwrap();
    write(&e, "k", b"v", 1);
    e.flush(table()).unwrap();
    delete_row(&e, "k", 2, NOW);
    e.flush(table()).unwrap();
    clock.0.store(NOW + 999, Ordering::SeqCst);
    e.major_compaction(table()).unwrap();
    assert_eq!(e.table_stats(table()).unwrap().sstables[0].tombstones, 1);
    // A late write older than the tombstone (a hint, a repair) stays shadowed.
    write(&e, "k", b"late", 1);
    assert_eq!(value(&e, "k", NOW + 999), None);
}

#[test]
fn truncate_survives_restart_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock(AtomicI64::new(NOW)));
    let (e, _) = Engine::open(config(dir.path(), &clock), vec![options(10)]).unwrap();
    write(&e, "a", b"1", 1);
    e.flush(table()).unwrap();
    write(&e, "b", b"2", 2);
    e.truncate(table()).unwrap();
    assert_eq!(value(&e, "a", NOW), None);
    assert_eq!(value(&e, "b", NOW), None);
    write(&e, "c", b"3", 3);
    // Crash: the commit log still holds a and b; replay must not bring them back.
    e.sync_commitlog().unwrap();
    e.abandon();
    let (e, report) = Engine::open(config(dir.path(), &clock), vec![options(10)]).unwrap();
    assert!(report.updates_already_flushed >= 2, "{report:?}");
    assert_eq!(value(&e, "a", NOW), None);
    assert_eq!(value(&e, "b", NOW), None);
    assert_eq!(value(&e, "c", NOW), Some(Bytes::from_static(b"3")));
    // auto_snapshot kept the truncated data.
    let snapshots = dir
        .path()
        .join("data/ks")
        .read_dir()
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("snapshots");
    assert_eq!(snapshots.read_dir().unwrap().count(), 1);
}

#[test]
fn snapshot_links_live_sstables_with_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock(AtomicI64::new(NOW)));
    let (e, _) = Engine::open(config(dir.path(), &clock), vec![options(10)]).unwrap();
    write(&e, "a", b"1", 1);
    e.flush(table()).unwrap();
    write(&e, "b", b"2", 2);
    let dirs = e.snapshot("before-upgrade", "schema-v1").unwrap();
    assert_eq!(dirs.len(), 1);
    let manifest = std::fs::read_to_string(dirs[0].join("manifest.json")).unwrap();
    assert!(
        manifest.contains("\"schema_version\": \"schema-v1\""),
        "{manifest}"
    );
    let files: Vec<_> = std::fs::read_dir(&dirs[0])
        .unwrap()
        .map(|f| f.unwrap().file_name().into_string().unwrap())
        .filter(|f| f.ends_with(".sst"))
        .collect();
    // The snapshot flushed first, so both writes are in it.
    assert_eq!(files.len(), 2, "{files:?}");
    for f in &files {
        assert!(manifest.contains(f.as_str()));
    }
    // Compaction removes the live files; the snapshot's hard links keep the data.
    e.major_compaction(table()).unwrap();
    for f in &files {
        assert!(dirs[0].join(f).exists());
    }
    assert!(e.snapshot("../escape", "x").is_err());
}

#[test]
fn corrupt_sstable_read_names_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock(AtomicI64::new(NOW)));
    let (e, _) = Engine::open(config(dir.path(), &clock), vec![options(10)]).unwrap();
    for i in 0..200 {
        write(&e, &format!("key{i}"), &[b'v'; 100], 1);
    }
    e.flush(table()).unwrap();
    let stats = e.table_stats(table()).unwrap();
    let path = std::fs::read_dir(dir.path().join("data/ks"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join(format!("{}.sst", stats.sstables[0].generation));
    e.shutdown().unwrap();
    drop(e);
    // Flip one bit early in the data section.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[64] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    let (e, _) = Engine::open(config(dir.path(), &clock), vec![options(10)]).unwrap();
    let mut errors = 0;
    for i in 0..200 {
        match e.read(table(), &key(&format!("key{i}")), &[Slice::ALL]) {
            Ok(Some(p)) => {
                // Whatever is returned is right: never wrong data.
                let v = p.live_view(NOW).rows[0].column(ColumnId(0)).cloned();
                assert_eq!(
                    v,
                    Some(ColumnData::Simple(Cell::live(
                        1,
                        Bytes::from(vec![b'v'; 100])
                    )))
                );
            }
            Ok(None) => panic!("key{i} silently missing"),
            Err(err) => {
                let text = err.to_string();
                assert!(text.contains(&path.display().to_string()), "{text}");
                assert!(text.contains("offset"), "{text}");
                errors += 1;
            }
        }
    }
    assert!(errors > 0, "the flipped bit went unnoticed");
}

#[test]
fn torn_commitlog_tail_is_reported_and_the_rest_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock(AtomicI64::new(NOW)));
    let mut c = config(dir.path(), &clock);
    c.commitlog_sync = SyncMode::Batch {
        window: std::time::Duration::ZERO,
    };
    let (e, _) = Engine::open(c.clone(), vec![options(10)]).unwrap();
    for i in 0..10 {
        write(&e, &format!("k{i}"), b"v", 1);
    }
    e.abandon();
    // Cut the newest non-empty segment in the middle of its last record.
    let mut segments: Vec<_> = std::fs::read_dir(dir.path().join("commitlog"))
        .unwrap()
        .map(|f| f.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    segments.sort();
    let mut cut = false;
    for seg in segments.iter().rev() {
        let bytes = std::fs::read(seg).unwrap();
        // Find the end of the data: the last non-zero byte.
        if let Some(last) = bytes.iter().rposition(|b| *b != 0) {
            if last > 40 {
                let mut damaged = bytes.clone();
                for b in &mut damaged[last - 5..=last] {
                    *b = 0;
                }
                std::fs::write(seg, damaged).unwrap();
                cut = true;
                break;
            }
        }
    }
    assert!(cut);
    let (e, report) = Engine::open(c, vec![options(10)]).unwrap();
    assert_eq!(report.mutations_replayed, 9, "{report:?}");
    assert!(
        report.damage.iter().any(|d| d.contains("torn tail")),
        "{report:?}"
    );
    for i in 0..9 {
        assert_eq!(
            value(&e, &format!("k{i}"), NOW),
            Some(Bytes::from_static(b"v"))
        );
    }
    assert_eq!(value(&e, "k9", NOW), None);
}

#[test]
fn oversized_mutation_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock(AtomicI64::new(NOW)));
    let (e, _) = Engine::open(config(dir.path(), &clock), vec![options(10)]).unwrap();
    let mut row = Row::new(Clustering::EMPTY);
    row.set_cell(
        ColumnId(0),
        Cell::live(1, Bytes::from(vec![0u8; 600 * 1024])),
    );
    let err = e
        .apply(update(
            "big",
            Partition {
                rows: vec![row],
                ..Partition::new()
            },
        ))
        .unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::MutationTooLarge {
                max_bytes: 524288,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(value(&e, "big", NOW), None);
}

#[test]
fn unknown_table_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock(AtomicI64::new(NOW)));
    let (e, _) = Engine::open(config(dir.path(), &clock), vec![options(10)]).unwrap();
    let mut m = update("k", Partition::new());
    m.updates[0].table = TableId(uuid::Uuid::from_u128(99));
    assert!(matches!(e.apply(m), Err(StorageError::UnknownTable(_))));
}

#[test]
fn failing_flushes_apply_backpressure_then_writes_resume() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock(AtomicI64::new(NOW)));
    let mut c = config(dir.path(), &clock);
    c.memtable_space_bytes = 1024 * 1024;
    c.memtable_block_timeout = std::time::Duration::from_millis(300);
    let (e, _) = Engine::open(c.clone(), vec![options(10)]).unwrap();
    // Make every flush fail: the table directory disappears (as on a failed disk).
    let table_dir = std::fs::read_dir(dir.path().join("data/ks"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_dir_all(&table_dir).unwrap();
    let mut overloaded = None;
    for i in 0..100_000 {
        let mut row = Row::new(Clustering::EMPTY);
        row.set_cell(ColumnId(0), Cell::live(1, Bytes::from(vec![7u8; 1000])));
        match e.apply(update(
            &format!("k{i}"),
            Partition {
                rows: vec![row],
                ..Partition::new()
            },
        )) {
            Ok(()) => {}
            Err(err) => {
                overloaded = Some((i, err));
                break;
            }
        }
    }
    let (written, err) = overloaded.expect("writes never hit the memtable budget");
    assert!(matches!(err, StorageError::Overloaded { .. }), "{err}");
    // A write that must not wait is handed back at once, untouched, instead of waiting.
    let started = std::time::Instant::now();
    let refused = e.try_apply(update("no-wait", one_row(b"x", 3)));
    match refused {
        Err(TryApplyError::WouldBlock(m)) => assert_eq!(m, update("no-wait", one_row(b"x", 3))),
        other => panic!("expected WouldBlock, got {other:?}"),
    }
    assert!(started.elapsed() < std::time::Duration::from_millis(200));
    assert!(
        e.memtable_bytes() <= 2 * 1024 * 1024,
        "memtables grew to {}",
        e.memtable_bytes()
    );
    // The disk comes back: flushing drains the memtables and writes are accepted again.
    std::fs::create_dir_all(&table_dir).unwrap();
    e.flush(table()).unwrap();
    write(&e, "after", b"ok", 2);
    assert_eq!(value(&e, "after", NOW), Some(Bytes::from_static(b"ok")));
    e.try_apply(update("no-wait", one_row(b"y", 4))).unwrap();
    assert_eq!(value(&e, "no-wait", NOW), Some(Bytes::from_static(b"y")));
    // Nothing acknowledged was lost.
    for i in (0..written).step_by(97) {
        assert!(value(&e, &format!("k{i}"), NOW).is_some(), "k{i} lost");
    }
}

/// Regression (found by the model-based test): an expiring cell and a live cell with the same
/// timestamp must reconcile the same way before and after compaction turns the expired cell
/// into a tombstone. Cassandra (CASSANDRA-14592) lets the expiring cell win from the start.
#[test]
fn expiring_and_live_cells_with_equal_timestamps_reconcile_the_same_before_and_after_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock(AtomicI64::new(NOW)));
    let (e, _) = Engine::open(config(dir.path(), &clock), vec![options(1000)]).unwrap();
    let mut row = Row::new(Clustering::EMPTY);
    row.set_cell(
        ColumnId(0),
        Cell::expiring(37, Bytes::from_static(b"e"), 1, NOW),
    );
    e.apply(update(
        "k",
        Partition {
            rows: vec![row],
            ..Partition::new()
        },
    ))
    .unwrap();
    e.flush(table()).unwrap();
    clock.0.store(NOW + 1, Ordering::SeqCst);
    let mut row = Row::new(Clustering::EMPTY);
    row.set_cell(ColumnId(0), Cell::live(37, Bytes::from_static(b"l")));
    e.apply(update(
        "k",
        Partition {
            rows: vec![row],
            ..Partition::new()
        },
    ))
    .unwrap();
    let before = value(&e, "k", NOW + 1);
    e.major_compaction(table()).unwrap();
    let after = value(&e, "k", NOW + 1);
    assert_eq!(before, after);
    assert_eq!(after, None);
}

#[test]
fn background_thread_init_runs_first_on_the_flush_and_compaction_threads() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock(AtomicI64::new(NOW)));
    let mut c = config(dir.path(), &clock);
    c.auto_compaction = true;
    let seen: Arc<parking_lot::Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    c.background_thread_init = Some(Arc::new(move || {
        let name = std::thread::current().name().unwrap_or("?").to_string();
        record.lock().push(name);
    }));
    let (e, _) = Engine::open(c, vec![options(10)]).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while seen.lock().len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let mut names = seen.lock().clone();
    names.sort();
    assert_eq!(names, ["meridian-compaction", "meridian-flush"]);
    e.shutdown().unwrap();
}
