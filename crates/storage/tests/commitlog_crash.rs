//! Real-process crash test: a child process appends to a commit log and reports every
//! acknowledged position on stdout; the parent kills it with SIGKILL mid-stream, reopens the
//! directory and checks that every acknowledged record is replayed with its payload.
//!
//! (A process kill keeps the page cache, so this checks the write path, the rotation and the
//! replay of whatever state a crash leaves, not power-loss durability of fsync.)

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use meridian_storage::commitlog::{CommitLog, CommitLogConfig, CommitLogPosition, SyncMode};

const CHILD_DIR_ENV: &str = "MERIDIAN_COMMITLOG_CRASH_CHILD_DIR";
const CHILD_MODE_ENV: &str = "MERIDIAN_COMMITLOG_CRASH_CHILD_MODE";
const CHILD_THREADS: usize = 4;

fn config(dir: &Path, batch: bool) -> CommitLogConfig {
    let sync_mode = if batch {
        SyncMode::batch_default()
    } else {
        SyncMode::Periodic {
            period: Duration::from_millis(5),
        }
    };
    CommitLogConfig {
        sync_mode,
        total_space_bytes_max: 1024 * 1024 * 1024,
        ..CommitLogConfig::new(dir).with_segment_size(64 * 1024)
    }
}

fn payload(thread: usize, i: u64) -> Vec<u8> {
    let mut bytes = format!("t{thread}-r{i}-").into_bytes();
    bytes.resize(bytes.len() + (i % 97) as usize, b'a' + thread as u8);
    bytes
}

/// The child: appends forever from several threads, printing `ACK <thread> <i> <segment>
/// <offset>` after each acknowledged append (batch mode) or after each `sync` covering it
/// (periodic mode). Does nothing when not started by the parent.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return;
    };
    let batch = std::env::var(CHILD_MODE_ENV).as_deref() == Ok("batch");
    let (log, mut replay) = CommitLog::open(config(Path::new(&dir), batch)).unwrap();
    let previously = replay.by_ref().count();
    println!("REPLAYED {previously}");
    let log = Arc::new(log);
    let threads: Vec<_> = (0..CHILD_THREADS)
        .map(|t| {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                let mut pending = Vec::new();
                for i in 0.. {
                    let position = log.append(&payload(t, i)).unwrap();
                    pending.push((i, position));
                    if !batch && i % 16 != 15 {
                        continue;
                    }
                    if !batch {
                        log.sync().unwrap();
                    }
                    for (i, p) in pending.drain(..) {
                        println!("ACK {t} {i} {} {}", p.segment_id, p.offset);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

fn run_and_kill(
    dir: &Path,
    batch: bool,
    run_for: Duration,
) -> Vec<(usize, u64, CommitLogPosition)> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_ENV, dir)
        .env(CHILD_MODE_ENV, if batch { "batch" } else { "periodic" })
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = thread::spawn(move || {
        let mut acked = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let fields: Vec<&str> = line.split_whitespace().collect();
            if let ["ACK", t, i, segment, offset] = fields[..] {
                acked.push((
                    t.parse().unwrap(),
                    i.parse().unwrap(),
                    CommitLogPosition {
                        segment_id: segment.parse().unwrap(),
                        offset: offset.parse().unwrap(),
                    },
                ));
            }
        }
        acked
    });
    let started = Instant::now();
    while started.elapsed() < run_for {
        assert!(child.try_wait().unwrap().is_none(), "child exited early");
        thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    reader.join().unwrap()
}

fn check_crash_recovery(batch: bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut all_acked: HashMap<CommitLogPosition, Vec<u8>> = HashMap::new();
    // Two crashes in a row: the second run starts from the first one's wreckage.
    for round in 0..2 {
        let acked = run_and_kill(dir.path(), batch, Duration::from_millis(400));
        assert!(
            acked.len() > 50,
            "round {round}: too few acknowledged records ({})",
            acked.len()
        );
        for (t, i, position) in acked {
            all_acked.insert(position, payload(t, i));
        }
    }
    let (_log, mut replay) = CommitLog::open(config(dir.path(), batch)).unwrap();
    let replayed: HashMap<CommitLogPosition, Vec<u8>> = replay
        .by_ref()
        .map(|r| {
            let r = r.unwrap();
            (r.position, r.payload)
        })
        .collect();
    for (position, payload) in &all_acked {
        assert_eq!(
            replayed.get(position),
            Some(payload),
            "acknowledged record at {position} not replayed intact"
        );
    }
    // Killing a process cannot tear a write that already returned; any damage must be
    // after the last acknowledged record of its segment.
    for damage in replay.corruptions().iter().chain(replay.truncated_tail()) {
        let last_acked_in_segment = all_acked
            .keys()
            .filter(|p| p.segment_id == damage.segment_id)
            .map(|p| p.offset)
            .max()
            .unwrap_or(0);
        assert!(damage.offset >= last_acked_in_segment, "{damage:?}");
    }
}

#[test]
fn acknowledged_batch_records_survive_process_kill() {
    check_crash_recovery(true);
}

#[test]
fn synced_periodic_records_survive_process_kill() {
    check_crash_recovery(false);
}
