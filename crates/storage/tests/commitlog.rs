//! Integration tests of the commit log: round trips, torn tails, corruption, group commit,
//! segment release, failure policy and space backpressure.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use meridian_storage::commitlog::{
    CommitLog, CommitLogConfig, CommitLogError, CommitLogPosition, DamageKind, InjectedFault,
    Replay, ReplayRecord, SyncMode, RECORD_HEADER_LEN_BYTES, SEGMENT_HEADER_LEN_BYTES,
};

const SEGMENT_SIZE_BYTES: u64 = 4096;
/// Periodic mode whose background sync never fires during a test.
const QUIET_PERIODIC: SyncMode = SyncMode::Periodic {
    period: Duration::from_secs(3600),
};

fn config(dir: &Path, sync_mode: SyncMode) -> CommitLogConfig {
    CommitLogConfig {
        sync_mode,
        append_wait_timeout: Duration::from_secs(10),
        ..CommitLogConfig::new(dir).with_segment_size(SEGMENT_SIZE_BYTES)
    }
}

fn payload(i: usize) -> Vec<u8> {
    let len = (i * 37) % 300;
    (0..len).map(|j| (i * 31 + j * 7) as u8).collect()
}

fn replay_all(replay: &mut Replay) -> Vec<ReplayRecord> {
    let records: Vec<ReplayRecord> = replay.by_ref().map(|r| r.unwrap()).collect();
    assert!(replay.is_finished());
    records
}

fn open_and_replay(config: CommitLogConfig) -> (CommitLog, Replay, Vec<ReplayRecord>) {
    let (log, mut replay) = CommitLog::open(config).unwrap();
    let records = replay_all(&mut replay);
    (log, replay, records)
}

/// Segment files of `dir`, in id order.
fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<(u64, PathBuf)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_owned();
            let id = name
                .strip_prefix("CommitLog-1-")?
                .strip_suffix(".log")?
                .parse()
                .ok()?;
            Some((id, p))
        })
        .collect();
    files.sort();
    files.into_iter().map(|(_, p)| p).collect()
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Writes `records` into a fresh log in `dir` and closes it; returns the positions.
fn write_log(dir: &Path, records: &[Vec<u8>]) -> Vec<CommitLogPosition> {
    let (log, _replay) = CommitLog::open(config(dir, QUIET_PERIODIC)).unwrap();
    let positions = records.iter().map(|r| log.append(r).unwrap()).collect();
    log.close().unwrap();
    positions
}

fn assert_replayed(
    records: &[ReplayRecord],
    payloads: &[Vec<u8>],
    positions: &[CommitLogPosition],
) {
    assert_eq!(records.len(), payloads.len());
    for ((record, payload), position) in records.iter().zip(payloads).zip(positions) {
        assert_eq!(&record.payload, payload);
        assert_eq!(record.position, *position);
    }
}

#[test]
fn round_trip_across_several_segments() {
    for mode in [QUIET_PERIODIC, SyncMode::batch_default()] {
        let dir = tempfile::tempdir().unwrap();
        let payloads: Vec<Vec<u8>> = (0..120).map(payload).collect();
        let (log, _replay, replayed) = open_and_replay(config(dir.path(), mode));
        assert!(replayed.is_empty());
        let positions: Vec<CommitLogPosition> =
            payloads.iter().map(|p| log.append(p).unwrap()).collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "positions increase"
        );
        let stats = log.stats();
        assert_eq!(stats.appends, 120);
        assert!(stats.segments >= 4, "{stats:?}");
        assert_eq!(stats.current_position, *positions.last().unwrap());
        log.close().unwrap();
        assert!(segment_files(dir.path()).len() >= 4);

        let (log, replay, replayed) = open_and_replay(config(dir.path(), mode));
        assert_replayed(&replayed, &payloads, &positions);
        assert!(replay.truncated_tail().is_none());
        assert!(replay.corruptions().is_empty());
        // The log continues in a new segment, after every replayed position.
        let next = log.append(b"after restart").unwrap();
        assert!(next > *positions.last().unwrap());
        assert_eq!(
            next.offset,
            SEGMENT_HEADER_LEN_BYTES + RECORD_HEADER_LEN_BYTES + 13
        );
        log.close().unwrap();

        let (_log, _replay, replayed) = open_and_replay(config(dir.path(), mode));
        assert_eq!(replayed.len(), 121);
        assert_eq!(replayed[120].payload, b"after restart");
        assert_eq!(replayed[120].position, next);
    }
}

#[test]
fn empty_and_maximal_records_round_trip_and_too_large_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _replay) = CommitLog::open(config(dir.path(), QUIET_PERIODIC)).unwrap();
    let max = log.config().max_record_size_bytes;
    assert_eq!(max, SEGMENT_SIZE_BYTES / 2);
    let too_large = vec![7u8; max as usize + 1];
    match log.append(&too_large) {
        Err(CommitLogError::RecordTooLarge {
            size_bytes,
            max_bytes,
        }) => {
            assert_eq!(size_bytes, max + 1);
            assert_eq!(max_bytes, max);
        }
        other => panic!("expected RecordTooLarge, got {other:?}"),
    }
    let biggest = vec![9u8; max as usize];
    let p1 = log.append(b"").unwrap();
    let p2 = log.append(&biggest).unwrap();
    let p3 = log.append(&biggest).unwrap();
    assert_ne!(
        p2.segment_id, p3.segment_id,
        "two maximal records need two segments"
    );
    assert_eq!(log.stats().appends, 3);
    log.close().unwrap();
    let (_log, _replay, replayed) = open_and_replay(config(dir.path(), QUIET_PERIODIC));
    assert_replayed(
        &replayed,
        &[Vec::new(), biggest.clone(), biggest],
        &[p1, p2, p3],
    );
}

#[test]
fn records_larger_than_the_write_buffer_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let segment = 8 * 1024 * 1024;
    let config = CommitLogConfig {
        total_space_bytes_max: 64 * 1024 * 1024,
        ..config(dir.path(), QUIET_PERIODIC).with_segment_size(segment)
    };
    let (log, _replay) = CommitLog::open(config.clone()).unwrap();
    let big: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let payloads = vec![b"small".to_vec(), big.clone(), b"tail".to_vec(), big];
    let positions: Vec<_> = payloads.iter().map(|p| log.append(p).unwrap()).collect();
    log.close().unwrap();
    let (_log, _replay, replayed) = open_and_replay(config);
    assert_replayed(&replayed, &payloads, &positions);
}

/// Torn tail: the last record cut at every offset (by truncating the file, and by zeroing
/// its bytes as in a preallocated segment) never comes back, all earlier ones do.
#[test]
fn torn_tail_at_every_offset_of_the_last_record() {
    let source = tempfile::tempdir().unwrap();
    // Non-zero bytes, so that zeroing any of them changes the record.
    let payloads: Vec<Vec<u8>> = (0..30)
        .map(|i| (0..40).map(|j| (i * 7 + j) as u8 | 1).collect())
        .collect();
    let positions = write_log(source.path(), &payloads);
    let last_end = positions.last().unwrap().offset;
    let last_start = last_end - RECORD_HEADER_LEN_BYTES - payloads.last().unwrap().len() as u64;
    let last_file_name = segment_files(source.path())
        .last()
        .unwrap()
        .file_name()
        .unwrap()
        .to_owned();

    for zero_fill in [false, true] {
        for cut in last_start..last_end {
            let dir = tempfile::tempdir().unwrap();
            copy_dir(source.path(), dir.path());
            let last_file = dir.path().join(&last_file_name);
            if zero_fill {
                let mut bytes = fs::read(&last_file).unwrap();
                bytes[cut as usize..last_end as usize].fill(0);
                fs::write(&last_file, bytes).unwrap();
            } else {
                OpenOptions::new()
                    .write(true)
                    .open(&last_file)
                    .unwrap()
                    .set_len(cut)
                    .unwrap();
            }
            let (log, replay, replayed) = open_and_replay(config(dir.path(), QUIET_PERIODIC));
            let n = payloads.len() - 1;
            assert_replayed(&replayed, &payloads[..n], &positions[..n]);
            assert!(replay.corruptions().is_empty());
            if cut == last_start {
                // Cut exactly at a record boundary: a clean end, nothing torn.
                assert!(replay.truncated_tail().is_none(), "cut {cut}");
            } else {
                let tail = replay
                    .truncated_tail()
                    .unwrap_or_else(|| panic!("cut {cut} zero {zero_fill}"));
                assert_eq!(tail.path, last_file);
                assert_eq!(tail.offset, last_start);
                assert_eq!(tail.segment_id, positions.last().unwrap().segment_id);
            }
            drop(log);
        }
    }
}

#[test]
fn log_continues_in_a_new_segment_after_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let payloads: Vec<Vec<u8>> = (0..5).map(|i| vec![i as u8; 50]).collect();
    let positions = write_log(dir.path(), &payloads);
    let torn_file = segment_files(dir.path()).pop().unwrap();
    let cut = positions[4].offset - 10;
    OpenOptions::new()
        .write(true)
        .open(&torn_file)
        .unwrap()
        .set_len(cut)
        .unwrap();

    let (log, replay, replayed) = open_and_replay(config(dir.path(), QUIET_PERIODIC));
    assert_eq!(replayed.len(), 4);
    assert_eq!(replay.truncated_tail().unwrap().offset, positions[3].offset);
    let after = log.append(b"new").unwrap();
    assert!(
        after.segment_id > positions[4].segment_id,
        "never appends after a torn tail"
    );
    log.close().unwrap();
    assert_eq!(
        fs::metadata(&torn_file).unwrap().len(),
        cut,
        "torn segment untouched"
    );

    // Now the damage is followed by records: it is a corruption in the middle of the log.
    let (_log, replay, replayed) = open_and_replay(config(dir.path(), QUIET_PERIODIC));
    assert_eq!(replayed.len(), 5);
    assert_eq!(replayed[4].payload, b"new");
    assert!(replay.truncated_tail().is_none());
    assert_eq!(replay.corruptions().len(), 1);
    assert_eq!(replay.corruptions()[0].path, torn_file);
    assert_eq!(replay.corruptions()[0].offset, positions[3].offset);
}

/// A crash leaves the preallocated spare (an empty segment with a higher id) behind; a torn
/// record before it is still the torn tail of the log.
#[test]
fn torn_tail_before_an_empty_leftover_spare_is_still_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let payloads: Vec<Vec<u8>> = (0..3).map(|i| vec![i as u8; 30]).collect();
    let positions = write_log(dir.path(), &payloads);
    let last = segment_files(dir.path()).pop().unwrap();
    OpenOptions::new()
        .write(true)
        .open(&last)
        .unwrap()
        .set_len(positions[2].offset - 1)
        .unwrap();
    // Build the leftover spare by hand from the documented header format.
    let spare_id = positions[2].segment_id + 1;
    let mut header = Vec::new();
    header.extend_from_slice(b"MRDNCLOG");
    header.extend_from_slice(&1u32.to_le_bytes());
    header.extend_from_slice(&spare_id.to_le_bytes());
    let crc = crc32c::crc32c(&header);
    header.extend_from_slice(&crc.to_le_bytes());
    header.resize(SEGMENT_SIZE_BYTES as usize, 0);
    fs::write(
        dir.path().join(format!("CommitLog-1-{spare_id}.log")),
        header,
    )
    .unwrap();

    let (log, replay, replayed) = open_and_replay(config(dir.path(), QUIET_PERIODIC));
    assert_eq!(replayed.len(), 2);
    assert_eq!(replay.segment_count(), 2);
    let tail = replay.truncated_tail().unwrap();
    assert_eq!(tail.path, last);
    assert_eq!(tail.offset, positions[1].offset);
    assert!(replay.corruptions().is_empty());
    assert!(log.append(b"x").unwrap().segment_id > spare_id);
}

#[test]
fn bit_flips_in_length_or_payload_are_detected() {
    let source = tempfile::tempdir().unwrap();
    let payloads: Vec<Vec<u8>> = (0..8).map(|i| vec![0xA0 + i as u8; 24]).collect();
    let positions = write_log(source.path(), &payloads);
    let file_name = segment_files(source.path())
        .pop()
        .unwrap()
        .file_name()
        .unwrap()
        .to_owned();
    // Flip one bit in every byte of record 5 (its header and payload), one at a time.
    let start = positions[4].offset;
    let end = positions[5].offset;
    for byte in start..end {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(source.path(), dir.path());
        let file = dir.path().join(&file_name);
        let mut bytes = fs::read(&file).unwrap();
        bytes[byte as usize] ^= 1 << (byte % 8);
        fs::write(&file, bytes).unwrap();
        let (_log, replay, replayed) = open_and_replay(config(dir.path(), QUIET_PERIODIC));
        // Records before the damaged one come back; it and the rest of its segment do not.
        assert_replayed(&replayed, &payloads[..5], &positions[..5]);
        let tail = replay.truncated_tail().expect("damage reported");
        assert_eq!(tail.offset, start);
        let expected_kind = if byte < start + 8 {
            DamageKind::LengthChecksumMismatch
        } else {
            DamageKind::PayloadChecksumMismatch
        };
        assert_eq!(tail.kind, expected_kind, "byte {byte}");
    }
}

#[test]
fn corruption_in_a_non_last_segment_is_reported_and_later_segments_replay() {
    let dir = tempfile::tempdir().unwrap();
    let payloads: Vec<Vec<u8>> = (0..60).map(|i| vec![i as u8; 200]).collect();
    let positions = write_log(dir.path(), &payloads);
    let files = segment_files(dir.path());
    assert!(files.len() >= 3);
    // Corrupt the payload of the second record of the first segment.
    let first_id = positions[0].segment_id;
    let in_first = positions
        .iter()
        .filter(|p| p.segment_id == first_id)
        .count();
    let mut bytes = fs::read(&files[0]).unwrap();
    let at = (positions[1].offset - 5) as usize;
    bytes[at] ^= 0xFF;
    fs::write(&files[0], bytes).unwrap();

    let (_log, replay, replayed) = open_and_replay(config(dir.path(), QUIET_PERIODIC));
    assert!(replay.truncated_tail().is_none());
    let corruptions = replay.corruptions();
    assert_eq!(corruptions.len(), 1);
    assert_eq!(corruptions[0].path, files[0]);
    assert_eq!(corruptions[0].offset, positions[0].offset);
    assert_eq!(corruptions[0].kind, DamageKind::PayloadChecksumMismatch);
    let mut expected_payloads = vec![payloads[0].clone()];
    let mut expected_positions = vec![positions[0]];
    expected_payloads.extend_from_slice(&payloads[in_first..]);
    expected_positions.extend_from_slice(&positions[in_first..]);
    assert_replayed(&replayed, &expected_payloads, &expected_positions);
}

#[test]
fn damaged_segment_header_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let payloads: Vec<Vec<u8>> = (0..40).map(|i| vec![i as u8; 200]).collect();
    let positions = write_log(dir.path(), &payloads);
    let files = segment_files(dir.path());
    let mut bytes = fs::read(&files[1]).unwrap();
    bytes[13] ^= 0x01; // inside the segment id
    fs::write(&files[1], bytes).unwrap();
    let (_log, replay, replayed) = open_and_replay(config(dir.path(), QUIET_PERIODIC));
    let second_id = segment_id_of(&files[1]);
    assert_eq!(replay.corruptions().len(), 1);
    assert_eq!(replay.corruptions()[0].offset, 0);
    assert!(matches!(
        replay.corruptions()[0].kind,
        DamageKind::BadSegmentHeader(_)
    ));
    let expected: Vec<usize> = (0..payloads.len())
        .filter(|&i| positions[i].segment_id != second_id)
        .collect();
    assert_eq!(replayed.len(), expected.len());
    for (record, &i) in replayed.iter().zip(&expected) {
        assert_eq!(record.payload, payloads[i]);
    }
}

fn segment_id_of(path: &Path) -> u64 {
    let name = path.file_name().unwrap().to_str().unwrap();
    name["CommitLog-1-".len()..name.len() - ".log".len()]
        .parse()
        .unwrap()
}

#[test]
fn batch_mode_group_commit_shares_fsyncs_and_every_ack_replays() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 150;
    let dir = tempfile::tempdir().unwrap();
    let config = CommitLogConfig {
        total_space_bytes_max: 64 * SEGMENT_SIZE_BYTES * 16,
        ..config(
            dir.path(),
            SyncMode::Batch {
                window: Duration::from_millis(1),
            },
        )
        .with_segment_size(SEGMENT_SIZE_BYTES * 16)
    };
    let (log, _replay) = CommitLog::open(config.clone()).unwrap();
    let log = Arc::new(log);
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                let mut acked = Vec::new();
                for i in 0..PER_THREAD {
                    let record = format!("thread {t} record {i}").into_bytes();
                    let position = log.append(&record).unwrap();
                    // Acknowledged means fsynced.
                    assert!(log.stats().synced_position >= position);
                    acked.push((position, record));
                }
                acked
            })
        })
        .collect();
    let mut acked: Vec<(CommitLogPosition, Vec<u8>)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let stats = log.stats();
    assert_eq!(stats.appends, (THREADS * PER_THREAD) as u64);
    assert!(
        stats.fsyncs * 2 < stats.appends,
        "group commit must share fsyncs: {stats:?}"
    );
    Arc::try_unwrap(log).unwrap().close().unwrap();

    acked.sort();
    let (_log, _replay, replayed) = open_and_replay(config);
    let replayed: Vec<(CommitLogPosition, Vec<u8>)> = replayed
        .into_iter()
        .map(|r| (r.position, r.payload))
        .collect();
    assert_eq!(replayed, acked);
}

#[test]
fn periodic_mode_syncs_in_the_background_and_on_demand() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        SyncMode::Periodic {
            period: Duration::from_millis(20),
        },
    );
    let (log, _replay) = CommitLog::open(config).unwrap();
    let position = log.append(b"background").unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while log.stats().synced_position < position {
        assert!(Instant::now() < deadline, "periodic sync did not happen");
        thread::sleep(Duration::from_millis(5));
    }
    assert!(log.stats().fsyncs >= 1);
    let p2 = log.append(b"explicit").unwrap();
    assert_eq!(log.sync().unwrap(), p2);
    assert!(log.stats().synced_position >= p2);
    // Nothing new: no fsync needed.
    let fsyncs = log.stats().fsyncs;
    log.sync().unwrap();
    assert_eq!(log.stats().fsyncs, fsyncs);
}

#[test]
fn segments_are_deleted_after_mark_flushed_up_to() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _replay) = CommitLog::open(config(dir.path(), QUIET_PERIODIC)).unwrap();
    let payloads: Vec<Vec<u8>> = (0..80).map(|i| vec![i as u8; 150]).collect();
    let positions: Vec<_> = payloads.iter().map(|p| log.append(p).unwrap()).collect();
    let before = log.stats();
    assert!(before.segments >= 4, "{before:?}");
    assert_eq!(before.bytes_live, before.segments * SEGMENT_SIZE_BYTES);

    // Flushed up to a record in the middle: only segments wholly before it go.
    let middle = positions[40];
    let deleted = log.mark_flushed_up_to(middle).unwrap();
    let remaining: Vec<u64> = segment_files(dir.path())
        .iter()
        .map(|p| segment_id_of(p))
        .collect();
    assert!(deleted >= 1);
    assert!(
        remaining.iter().all(|&id| id >= middle.segment_id),
        "{remaining:?}"
    );
    assert_eq!(log.stats().segments, before.segments - deleted as u64);
    assert_eq!(log.stats().segments_deleted, deleted as u64);
    // Idempotent.
    assert_eq!(log.mark_flushed_up_to(middle).unwrap(), 0);
    // A position at the exact end of a sealed segment releases it too.
    let last_of_middle_segment = *positions
        .iter()
        .rfind(|p| p.segment_id == middle.segment_id)
        .unwrap();
    assert_eq!(log.mark_flushed_up_to(last_of_middle_segment).unwrap(), 1);

    let beyond = CommitLogPosition {
        segment_id: u64::MAX,
        offset: 0,
    };
    assert!(matches!(
        log.mark_flushed_up_to(beyond),
        Err(CommitLogError::PositionBeyondEnd { .. })
    ));
    // Everything flushed: only the active segment remains.
    log.mark_flushed_up_to(log.current_position()).unwrap();
    assert_eq!(log.stats().segments, 1);
    log.close().unwrap();
    assert_eq!(segment_files(dir.path()).len(), 1);

    // Replay gives the records of the remaining (active) segment only.
    let (_log, _replay, replayed) = open_and_replay(config(dir.path(), QUIET_PERIODIC));
    let last_segment = positions.last().unwrap().segment_id;
    let expected: Vec<usize> = (0..80)
        .filter(|&i| positions[i].segment_id == last_segment)
        .collect();
    assert_eq!(replayed.len(), expected.len());
    for (record, i) in replayed.iter().zip(expected) {
        assert_eq!(record.position, positions[i]);
    }
}

#[test]
fn replayed_segments_are_released_by_mark_flushed_up_to() {
    let dir = tempfile::tempdir().unwrap();
    write_log(
        dir.path(),
        &(0..50).map(|i| vec![i as u8; 150]).collect::<Vec<_>>(),
    );
    let (log, _replay, replayed) = open_and_replay(config(dir.path(), QUIET_PERIODIC));
    let old_segments = segment_files(dir.path()).len() - 1;
    assert!(old_segments >= 2);
    assert_eq!(log.stats().segments as usize, old_segments + 1);
    // Flushing up to the last replayed record keeps only its segment (end unknown).
    log.mark_flushed_up_to(replayed.last().unwrap().position)
        .unwrap();
    assert_eq!(log.stats().segments, 2);
    log.mark_flushed_up_to(log.current_position()).unwrap();
    assert_eq!(log.stats().segments, 1);
}

#[test]
fn injected_write_failure_poisons_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _replay) = CommitLog::open(config(dir.path(), QUIET_PERIODIC)).unwrap();
    let synced = log.append(b"durable").unwrap();
    log.sync().unwrap();
    log.inject_faults(InjectedFault::Write, 1);
    log.append(b"buffered").unwrap(); // periodic mode: only buffered so far
    assert!(matches!(
        log.sync(),
        Err(CommitLogError::Poisoned {
            operation: "write",
            ..
        })
    ));
    // Every later operation fails; nothing is retried.
    for _ in 0..3 {
        assert!(matches!(
            log.append(b"x"),
            Err(CommitLogError::Poisoned { .. })
        ));
    }
    assert!(matches!(log.sync(), Err(CommitLogError::Poisoned { .. })));
    let stats = log.stats();
    assert!(stats.poisoned);
    assert_eq!(stats.synced_position, synced);
    assert!(matches!(log.close(), Err(CommitLogError::Poisoned { .. })));

    let (_log, replay, replayed) = open_and_replay(config(dir.path(), QUIET_PERIODIC));
    assert_eq!(replayed.len(), 1);
    assert_eq!(replayed[0].payload, b"durable");
    assert!(replay.truncated_tail().is_none());
}

#[test]
fn injected_fsync_failure_poisons_batch_mode_and_is_never_retried() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _replay) = CommitLog::open(config(dir.path(), SyncMode::batch_default())).unwrap();
    log.append(b"ok").unwrap();
    log.inject_faults(InjectedFault::Sync, 1);
    let err = log.append(b"fails").unwrap_err();
    assert!(matches!(
        err,
        CommitLogError::Poisoned {
            operation: "fsync",
            ..
        }
    ));
    let fsyncs = log.stats().fsyncs;
    assert!(matches!(
        log.append(b"later"),
        Err(CommitLogError::Poisoned { .. })
    ));
    assert!(matches!(log.sync(), Err(CommitLogError::Poisoned { .. })));
    assert_eq!(log.stats().fsyncs, fsyncs, "no fsync after poisoning");
    assert!(err.to_string().contains("poisoned"));
}

#[test]
fn failed_segment_preallocation_is_a_clean_retryable_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = CommitLogConfig {
        append_wait_timeout: Duration::from_secs(5),
        ..config(dir.path(), QUIET_PERIODIC)
    };
    let (log, _replay) = CommitLog::open(config.clone()).unwrap();
    wait_for(|| log.stats().spare_segments == 1);
    log.inject_faults(InjectedFault::Allocate, u32::MAX);
    let record = vec![1u8; 500];
    let mut acked = Vec::new();
    let err = loop {
        match log.append(&record) {
            Ok(p) => acked.push(p),
            Err(e) => break e,
        }
        assert!(acked.len() < 100, "allocation failure never surfaced");
    };
    match &err {
        CommitLogError::Io {
            operation, source, ..
        } => {
            assert_eq!(*operation, "preallocating segment");
            assert_eq!(source.kind(), std::io::ErrorKind::StorageFull);
        }
        other => panic!("expected Io, got {other:?}"),
    }
    assert!(!log.stats().poisoned);
    assert!(acked.len() >= 8, "the spare was used before failing");
    // Still failing: still a clean error.
    assert!(matches!(
        log.append(&record),
        Err(CommitLogError::Io { .. })
    ));
    // Space is back: writing resumes.
    log.inject_faults(InjectedFault::Allocate, 0);
    acked.push(log.append(&record).unwrap());
    log.close().unwrap();
    assert!(!fs::read_dir(dir.path()).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".tmp")));
    let (_log, replay, replayed) = open_and_replay(config);
    assert_eq!(
        replayed.iter().map(|r| r.position).collect::<Vec<_>>(),
        acked
    );
    assert!(replay.truncated_tail().is_none());
}

fn wait_for(mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "condition not reached in time");
        thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn space_bound_applies_backpressure_then_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = CommitLogConfig {
        total_space_bytes_max: 3 * SEGMENT_SIZE_BYTES,
        append_wait_timeout: Duration::from_millis(300),
        ..config(dir.path(), QUIET_PERIODIC)
    };
    let (log, _replay) = CommitLog::open(config).unwrap();
    let record = vec![2u8; 1000];
    let started = Instant::now();
    let err = loop {
        match log.append(&record) {
            Ok(_) => assert!(started.elapsed() < Duration::from_secs(5)),
            Err(e) => break e,
        }
    };
    match err {
        CommitLogError::SpaceExhausted {
            live_bytes,
            max_bytes,
            waited_ms,
        } => {
            assert_eq!(max_bytes, 3 * SEGMENT_SIZE_BYTES);
            assert_eq!(live_bytes, 3 * SEGMENT_SIZE_BYTES);
            assert!(waited_ms >= 300);
        }
        other => panic!("expected SpaceExhausted, got {other:?}"),
    }
    assert!(!log.stats().poisoned);
    assert_eq!(log.stats().segments, 3);

    // An appender blocked on space resumes once the engine releases flushed segments.
    let log = Arc::new(log);
    let flushed = log.current_position();
    let releaser = {
        let log = Arc::clone(&log);
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            log.mark_flushed_up_to(flushed).unwrap()
        })
    };
    let position = log.append(&record).unwrap();
    assert!(position > flushed);
    assert_eq!(releaser.join().unwrap(), 2);
}

#[test]
fn a_directory_holds_one_open_log_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _replay) = CommitLog::open(config(dir.path(), QUIET_PERIODIC)).unwrap();
    assert!(matches!(
        CommitLog::open(config(dir.path(), QUIET_PERIODIC)),
        Err(CommitLogError::DirectoryLocked { .. })
    ));
    drop(log);
    let (log, _replay) = CommitLog::open(config(dir.path(), QUIET_PERIODIC)).unwrap();
    log.close().unwrap();
}

#[test]
fn drop_syncs_buffered_records_and_removes_the_spare() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (log, _replay) = CommitLog::open(config(dir.path(), QUIET_PERIODIC)).unwrap();
        wait_for(|| log.stats().spare_segments == 1);
        log.append(b"buffered only").unwrap();
    }
    assert_eq!(segment_files(dir.path()).len(), 1, "spare removed");
    let (_log, _replay, replayed) = open_and_replay(config(dir.path(), QUIET_PERIODIC));
    assert_eq!(replayed.len(), 1);
    assert_eq!(replayed[0].payload, b"buffered only");
}

#[test]
fn invalid_configuration_is_rejected_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let bad = CommitLogConfig {
        max_record_size_bytes: SEGMENT_SIZE_BYTES,
        ..config(dir.path(), QUIET_PERIODIC)
    };
    assert!(matches!(
        CommitLog::open(bad),
        Err(CommitLogError::InvalidConfig { .. })
    ));
}

#[test]
fn a_segment_full_to_less_than_a_record_header_replays_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    // 24-byte segment header + two records of 12 + 2000 and 12 + 2043 bytes leaves 5 bytes.
    let payloads = vec![vec![1u8; 2000], vec![2u8; 2043], vec![3u8; 10]];
    let positions = write_log(dir.path(), &payloads);
    assert_eq!(positions[1].offset, SEGMENT_SIZE_BYTES - 5);
    assert_ne!(positions[2].segment_id, positions[1].segment_id);
    let (_log, replay, replayed) = open_and_replay(config(dir.path(), QUIET_PERIODIC));
    assert_replayed(&replayed, &payloads, &positions);
    assert!(replay.truncated_tail().is_none());
    assert!(replay.corruptions().is_empty());
}
