//! Property tests of commit log replay: random record sizes round trip exactly, and a random
//! byte corruption anywhere in any segment file never panics, never yields a wrong record,
//! loses exactly the records the format cannot vouch for, and is reported once.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use meridian_storage::commitlog::{
    CommitLog, CommitLogConfig, CommitLogPosition, DamageKind, SyncMode, RECORD_HEADER_LEN_BYTES,
    SEGMENT_HEADER_LEN_BYTES,
};
use proptest::prelude::*;

const SEGMENT_SIZE_BYTES: u64 = 4096;

fn config(dir: &Path) -> CommitLogConfig {
    CommitLogConfig {
        sync_mode: SyncMode::Periodic {
            period: Duration::from_secs(3600),
        },
        ..CommitLogConfig::new(dir).with_segment_size(SEGMENT_SIZE_BYTES)
    }
}

fn segment_path(dir: &Path, segment_id: u64) -> PathBuf {
    dir.join(format!("CommitLog-1-{segment_id}.log"))
}

/// Record payload sizes, biased so that segments often end with fewer free bytes than a
/// record header.
fn sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(
        prop_oneof![0usize..64, 64usize..700, 2000usize..=2048],
        1..40,
    )
}

fn make_payloads(sizes: &[usize], seed: u8) -> Vec<Vec<u8>> {
    sizes
        .iter()
        .enumerate()
        .map(|(i, &len)| {
            (0..len)
                .map(|j| (i as u8).wrapping_mul(31) ^ (j as u8) ^ seed)
                .collect()
        })
        .collect()
}

fn write(dir: &Path, payloads: &[Vec<u8>]) -> Vec<CommitLogPosition> {
    let (log, _replay) = CommitLog::open(config(dir)).unwrap();
    let positions = payloads.iter().map(|p| log.append(p).unwrap()).collect();
    log.close().unwrap();
    positions
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_records_round_trip(sizes in sizes(), seed in any::<u8>()) {
        let dir = tempfile::tempdir().unwrap();
        let payloads = make_payloads(&sizes, seed);
        let positions = write(dir.path(), &payloads);
        let (_log, mut replay) = CommitLog::open(config(dir.path())).unwrap();
        let replayed: Vec<_> = replay.by_ref().map(|r| r.unwrap()).collect();
        prop_assert!(replay.truncated_tail().is_none());
        prop_assert!(replay.corruptions().is_empty());
        prop_assert_eq!(replayed.len(), payloads.len());
        for ((record, payload), position) in replayed.iter().zip(&payloads).zip(&positions) {
            prop_assert_eq!(&record.payload, payload);
            prop_assert_eq!(record.position, *position);
        }
    }

    #[test]
    fn random_corruption_is_detected_and_contained(
        sizes in sizes(),
        seed in any::<u8>(),
        pick_record in any::<prop::sample::Index>(),
        pick_byte in any::<prop::sample::Index>(),
        mask in 1u8..=255,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let payloads = make_payloads(&sizes, seed);
        let positions = write(dir.path(), &payloads);
        // Corrupt one byte of the segment holding a randomly picked record, anywhere in the
        // file: segment header, records or the zero padding.
        let victim_segment = positions[pick_record.index(positions.len())].segment_id;
        let path = segment_path(dir.path(), victim_segment);
        let mut bytes = fs::read(&path).unwrap();
        let at = pick_byte.index(bytes.len()) as u64;
        bytes[at as usize] ^= mask;
        fs::write(&path, &bytes).unwrap();

        let in_victim: Vec<usize> =
            (0..payloads.len()).filter(|&i| positions[i].segment_id == victim_segment).collect();
        let record_start = |i: usize| {
            positions[i].offset - RECORD_HEADER_LEN_BYTES - payloads[i].len() as u64
        };
        let data_end = positions[*in_victim.last().unwrap()].offset;
        // Expected: which records are lost and where the damage is reported.
        let (lost, damage_offset): (Vec<usize>, u64) = if at < SEGMENT_HEADER_LEN_BYTES {
            (in_victim.clone(), 0)
        } else if at < data_end {
            let hit = *in_victim.iter().find(|&&i| positions[i].offset > at).unwrap();
            (in_victim.iter().copied().filter(|&i| i >= hit).collect(), record_start(hit))
        } else {
            (Vec::new(), data_end)
        };

        let (_log, mut replay) = CommitLog::open(config(dir.path())).unwrap();
        let replayed: Vec<_> = replay.by_ref().map(|r| r.unwrap()).collect();
        let expected: Vec<usize> = (0..payloads.len()).filter(|i| !lost.contains(i)).collect();
        prop_assert_eq!(replayed.len(), expected.len());
        for (record, &i) in replayed.iter().zip(&expected) {
            prop_assert_eq!(&record.payload, &payloads[i]);
            prop_assert_eq!(record.position, positions[i]);
        }
        let damages: Vec<_> =
            replay.corruptions().iter().chain(replay.truncated_tail()).collect();
        {
            prop_assert_eq!(damages.len(), 1, "damage at {} not reported once", at);
            let damage = damages[0];
            prop_assert_eq!(&damage.path, &path);
            prop_assert_eq!(damage.offset, damage_offset);
            if at >= data_end + RECORD_HEADER_LEN_BYTES {
                prop_assert_eq!(damage.kind, DamageKind::DataAfterEndMarker { nonzero_offset: at });
            }
            let later_records = expected.iter().any(|&i| positions[i].segment_id > victim_segment);
            prop_assert_eq!(replay.truncated_tail().is_some(), !later_records);
        }
    }
}
