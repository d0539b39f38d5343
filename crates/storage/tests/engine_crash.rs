//! Real-process crash test of the whole engine: a child process writes through the engine in
//! `batch` mode from several threads (with a tiny memtable budget, so flushes and compactions
//! run all the time) and prints every acknowledged write; the parent kills it with SIGKILL at
//! random moments, many times, reopens the data directory with no manual step and checks that
//! every acknowledged write is there with its value. A second run in `periodic` mode checks
//! that what is lost is bounded by the sync period.
//!
//! (A process kill keeps the page cache, so this checks the write path, flush and compaction
//! atomicity, the manifest and replay under crashes at arbitrary points; fsync itself is
//! covered by the commit log's own tests.)

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use meridian_storage::commitlog::SyncMode;
use meridian_storage::{Engine, EngineConfig, TableOptions};
use meridian_types::model::{
    Cell, Clustering, ClusteringComparator, ColumnData, ColumnId, LivenessInfo, Mutation,
    Partition, PartitionUpdate, Row, Slice, TableId,
};
use meridian_types::token::PartitionKey;
use rand::Rng;

const CHILD_DIR_ENV: &str = "MERIDIAN_ENGINE_CRASH_CHILD_DIR";
const CHILD_MODE_ENV: &str = "MERIDIAN_ENGINE_CRASH_CHILD_MODE";
const CHILD_THREADS: u64 = 4;
const PERIOD_MS: u64 = 50;

fn table() -> TableId {
    TableId(uuid::Uuid::from_u128(5))
}

fn config(dir: &Path, batch: bool) -> EngineConfig {
    let mut c = EngineConfig::new(dir);
    c.commitlog_sync = if batch {
        SyncMode::Batch {
            window: Duration::ZERO,
        }
    } else {
        SyncMode::Periodic {
            period: Duration::from_millis(PERIOD_MS),
        }
    };
    c.commitlog_segment_size_bytes = 256 * 1024;
    c.max_mutation_size_bytes = 64 * 1024;
    c.memtable_space_bytes = 1024 * 1024;
    c.memtable_cleanup_threshold = 0.2;
    c.compaction_throughput_mib_per_sec = 0;
    c
}

fn tables() -> Vec<TableOptions> {
    let mut t = TableOptions::new(table(), "ks", "t", ClusteringComparator::empty());
    let mut o = std::collections::BTreeMap::new();
    o.insert("class".into(), "SizeTieredCompactionStrategy".into());
    o.insert("min_threshold".into(), "2".into());
    t.compaction =
        meridian_storage::compaction_strategy::CompactionStrategyConfig::from_cql_options(&o)
            .unwrap();
    vec![t]
}

fn key(thread: u64, i: u64) -> PartitionKey {
    PartitionKey::new(Bytes::from(format!("t{thread}-{i}")))
}

fn value(thread: u64, i: u64) -> Bytes {
    Bytes::from(format!(
        "value-{thread}-{i}-{}",
        "x".repeat((i % 50) as usize)
    ))
}

/// The child: writes forever, printing `ACK <thread> <i>` after each acknowledged write.
/// Does nothing when not started by the parent.
#[test]
fn engine_crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return;
    };
    let batch = std::env::var(CHILD_MODE_ENV).as_deref() == Ok("batch");
    let start: u64 = std::env::var("MERIDIAN_ENGINE_CRASH_START")
        .unwrap()
        .parse()
        .unwrap();
    let (engine, _) = Engine::open(config(Path::new(&dir), batch), tables()).unwrap();
    println!("OPEN");
    let engine = Arc::new(engine);
    let threads: Vec<_> = (0..CHILD_THREADS)
        .map(|t| {
            let engine = Arc::clone(&engine);
            std::thread::spawn(move || {
                for i in start.. {
                    let mut row = Row::new(Clustering::EMPTY);
                    row.liveness = Some(LivenessInfo::live(i as i64));
                    row.set_cell(ColumnId(0), Cell::live(i as i64, value(t, i)));
                    engine
                        .apply(Mutation {
                            updates: vec![PartitionUpdate {
                                table: table(),
                                key: key(t, i),
                                partition: Partition {
                                    rows: vec![row],
                                    ..Partition::new()
                                },
                            }],
                        })
                        .unwrap();
                    println!("ACK {t} {i}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Runs the child until killed after `run_for`; returns acknowledged (thread, i) with the
/// time each acknowledgement was read, and the kill time.
fn run_child(
    dir: &Path,
    batch: bool,
    start: u64,
    run_for: Duration,
) -> (Vec<(u64, u64, Instant)>, Instant) {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "engine_crash_child",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_DIR_ENV, dir)
        .env(CHILD_MODE_ENV, if batch { "batch" } else { "periodic" })
        .env("MERIDIAN_ENGINE_CRASH_START", start.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut acks = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let mut parts = line.split_whitespace();
            if parts.next() == Some("ACK") {
                let t: u64 = parts.next().unwrap().parse().unwrap();
                let i: u64 = parts.next().unwrap().parse().unwrap();
                acks.push((t, i, Instant::now()));
            }
        }
        acks
    });
    std::thread::sleep(run_for);
    let killed_at = Instant::now();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    (reader.join().unwrap(), killed_at)
}

fn stored(engine: &Engine, t: u64, i: u64) -> Option<Bytes> {
    let p = engine.read(table(), &key(t, i), &[Slice::ALL]).unwrap()?;
    let live = p.live_view(i64::MAX / 2);
    match live.rows.first()?.column(ColumnId(0))? {
        ColumnData::Simple(c) => Some(c.value.clone()),
        ColumnData::Complex(_) => None,
    }
}

#[test]
fn batch_mode_never_loses_an_acknowledged_write_across_kills() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::rng();
    let mut all: HashMap<(u64, u64), ()> = HashMap::new();
    let mut start = 0;
    let rounds = 8;
    for round in 0..rounds {
        let run_for = Duration::from_millis(rng.random_range(150..900));
        let (acks, _) = run_child(dir.path(), true, start, run_for);
        assert!(
            !acks.is_empty() || round > 0,
            "the child acknowledged nothing"
        );
        for (t, i, _) in &acks {
            all.insert((*t, *i), ());
            start = start.max(i + 1);
        }
        // Reopen with no manual step and check every write acknowledged so far.
        let (engine, report) = Engine::open(config(dir.path(), true), tables()).unwrap();
        let mut missing = Vec::new();
        for (t, i) in all.keys() {
            if stored(&engine, *t, *i) != Some(value(*t, *i)) {
                missing.push((*t, *i));
            }
        }
        assert!(
            missing.is_empty(),
            "round {round}: {} acknowledged writes lost, e.g. {:?}; replay {report:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        engine.abandon();
    }
    assert!(
        all.len() > 100,
        "too few writes to mean anything: {}",
        all.len()
    );
}

#[test]
fn periodic_mode_loses_at_most_the_sync_window() {
    let dir = tempfile::tempdir().unwrap();
    let mut start = 0;
    for round in 0..3 {
        let (acks, killed_at) = run_child(
            dir.path(),
            false,
            start,
            Duration::from_millis(400 + 200 * round),
        );
        assert!(!acks.is_empty());
        start = acks
            .iter()
            .map(|(_, i, _)| i + 1)
            .max()
            .unwrap_or(start)
            .max(start);
        let (engine, _) = Engine::open(config(dir.path(), false), tables()).unwrap();
        // Writes acknowledged more than a sync period (plus scheduling slack) before the kill
        // must have been synced.
        let window = Duration::from_millis(PERIOD_MS * 2 + 300);
        let mut lost_old = 0;
        let mut lost_recent = 0;
        for (t, i, at) in &acks {
            if stored(&engine, *t, *i).is_none() {
                if killed_at.duration_since(*at) > window {
                    lost_old += 1;
                } else {
                    lost_recent += 1;
                }
            }
        }
        assert_eq!(lost_old, 0, "round {round}: writes older than the sync window were lost ({lost_recent} recent ones too)");
        engine.abandon();
    }
}
