//! A real full disk: the engine runs on a small tmpfs. Writes fail with a clear error once the
//! disk is full, nothing on disk is corrupted, writes resume once space is freed, and every
//! acknowledged write survives a restart.
//!
//! Mounting needs root (CI runs as root); elsewhere the test says so and does nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use meridian_storage::commitlog::SyncMode;
use meridian_storage::{Engine, EngineConfig, StorageError, TableOptions};
use meridian_types::model::{
    Cell, Clustering, ClusteringComparator, ColumnData, ColumnId, Mutation, Partition,
    PartitionUpdate, Row, Slice, TableId,
};
use meridian_types::token::PartitionKey;

const FS_SIZE_MIB: u64 = 24;

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn table() -> TableId {
    TableId(uuid::Uuid::from_u128(9))
}

fn config(dir: &Path) -> EngineConfig {
    let mut c = EngineConfig::new(dir);
    c.commitlog_sync = SyncMode::Batch {
        window: Duration::ZERO,
    };
    c.commitlog_segment_size_bytes = 1024 * 1024;
    c.max_mutation_size_bytes = 256 * 1024;
    c.memtable_space_bytes = 2 * 1024 * 1024;
    c.memtable_block_timeout = Duration::from_millis(200);
    c.compaction_throughput_mib_per_sec = 0;
    c
}

/// 2000 incompressible bytes derived from `i`.
fn value(i: u64) -> Bytes {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(2000);
    while v.len() < 2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(2000);
    Bytes::from(v)
}

fn mutation(i: u64) -> Mutation {
    let mut row = Row::new(Clustering::EMPTY);
    row.set_cell(ColumnId(0), Cell::live(1, value(i)));
    Mutation {
        updates: vec![PartitionUpdate {
            table: table(),
            key: PartitionKey::new(Bytes::from(format!("key-{i}"))),
            partition: Partition {
                rows: vec![row],
                ..Partition::new()
            },
        }],
    }
}

fn present(e: &Engine, i: u64) -> bool {
    let key = PartitionKey::new(Bytes::from(format!("key-{i}")));
    let Some(p) = e.read(table(), &key, &[Slice::ALL]).unwrap() else {
        return false;
    };
    matches!(
        p.rows.first().and_then(|r| r.column(ColumnId(0))),
        Some(ColumnData::Simple(c)) if c.value == value(i)
    )
}

#[test]
fn full_disk_fails_cleanly_and_writing_resumes_when_space_is_freed() {
    if !is_root() {
        eprintln!("disk_full: not root, cannot mount a small tmpfs; skipping");
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let mnt = base.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let status = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={FS_SIZE_MIB}m"),
            "tmpfs",
        ])
        .arg(&mnt)
        .status()
        .expect("run mount");
    assert!(
        status.success(),
        "mount tmpfs failed although running as root"
    );
    let _mount = Mount(mnt.clone());
    let data = mnt.join("data");

    let t = TableOptions::new(table(), "ks", "t", ClusteringComparator::empty());
    let (e, _) = Engine::open(config(&data), vec![t.clone()]).unwrap();
    let mut acked = Vec::new();
    let mut first_error = None;
    for i in 0..100_000u64 {
        match e.apply(mutation(i)) {
            Ok(()) => acked.push(i),
            Err(err) => {
                first_error = Some(err);
                break;
            }
        }
    }
    let err = first_error.expect("the disk never filled up");
    let text = err.to_string();
    assert!(
        matches!(
            err,
            StorageError::Overloaded { .. } | StorageError::CommitLog(_) | StorageError::Io { .. }
        ) && text.contains("No space left on device"),
        "unclear error: {text}"
    );
    eprintln!("disk full after {} writes: {text}", acked.len());
    assert!(
        acked.len() > 100,
        "only {} writes before the disk filled",
        acked.len()
    );

    // Free space: every byte on this filesystem is the engine's own data, so room comes from
    // growing the filesystem, as an operator would by freeing or adding disk.
    let status = Command::new("mount")
        .args(["-o", &format!("remount,size={}m", FS_SIZE_MIB * 4)])
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut resumed = false;
    let mut i = acked.last().copied().unwrap_or(0) + 1_000_000;
    while Instant::now() < deadline {
        match e.apply(mutation(i)) {
            Ok(()) => {
                acked.push(i);
                resumed = true;
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
        i += 1;
    }
    assert!(resumed, "writes did not resume after space was freed");
    // Writing goes on; a write may still wait for the flush that drains the memtables the
    // full disk left behind (Overloaded after `memtable_block_timeout`), so retry each one for
    // a bounded time, as a client would.
    for j in 0..200 {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match e.apply(mutation(2_000_000 + j)) {
                Ok(()) => break,
                Err(StorageError::Overloaded { .. }) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(err) => panic!("write {j} after space returned failed: {err}"),
            }
        }
        acked.push(2_000_000 + j);
    }
    e.shutdown().unwrap();
    drop(e);

    // Nothing on disk is corrupt and nothing acknowledged is lost.
    let (e, report) = Engine::open(config(&data), vec![t]).unwrap();
    assert!(
        report.damage.iter().all(|d| !d.contains("corrupt")),
        "{report:?}"
    );
    let lost: Vec<u64> = acked.iter().copied().filter(|i| !present(&e, *i)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    e.shutdown().unwrap();
}
