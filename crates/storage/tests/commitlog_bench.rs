//! Throughput check of the commit log, ignored by default (meaningful only in release):
//! `cargo test --release -p meridian-storage --test commitlog_bench -- --ignored --nocapture`.
//!
//! Target: 100-byte appends at >= 1M records/s from one thread in periodic mode.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use meridian_storage::commitlog::{CommitLog, CommitLogConfig, SyncMode};

#[test]
#[ignore = "throughput measurement; run in release"]
fn periodic_single_thread_append_throughput() {
    const RECORDS: u64 = 3_000_000;
    let dir = tempfile::tempdir().unwrap();
    let (log, _replay) = CommitLog::open(CommitLogConfig::new(dir.path())).unwrap();
    let record = [7u8; 100];
    let started = Instant::now();
    for _ in 0..RECORDS {
        log.append(&record).unwrap();
    }
    log.sync().unwrap();
    let elapsed = started.elapsed();
    let per_second = RECORDS as f64 / elapsed.as_secs_f64();
    println!("periodic: {RECORDS} appends + sync in {elapsed:?}: {per_second:.0} records/s");
    println!("{:?}", log.stats());
    if cfg!(not(debug_assertions)) {
        assert!(per_second >= 1_000_000.0, "{per_second:.0} records/s");
    }
}

#[test]
#[ignore = "throughput measurement; run in release"]
fn batch_eight_threads_group_commit() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let config = CommitLogConfig {
        sync_mode: SyncMode::Batch {
            window: Duration::ZERO,
        },
        ..CommitLogConfig::new(dir.path())
    };
    let (log, _replay) = CommitLog::open(config).unwrap();
    let log = Arc::new(log);
    let started = Instant::now();
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                for _ in 0..PER_THREAD {
                    log.append(&[1u8; 100]).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let stats = log.stats();
    println!(
        "batch: {} appends in {:?} with {} fsyncs ({:.1} appends per fsync)",
        stats.appends,
        started.elapsed(),
        stats.fsyncs,
        stats.appends as f64 / stats.fsyncs as f64
    );
    assert!(stats.fsyncs < stats.appends);
}
