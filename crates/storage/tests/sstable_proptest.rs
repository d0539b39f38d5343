//! Property test: an SSTable behaves like a `BTreeMap<(token, key), data>` for point lookups,
//! full iteration and range iteration, whatever the block geometry.

use std::collections::BTreeMap;
use std::ops::Bound;

use meridian_storage::sstable::{
    Compression, Sstable, SstableStats, SstableWriter, SstableWriterConfig,
};
use proptest::prelude::*;

type Key = (i64, Vec<u8>);

/// Few tokens and a tiny key alphabet, so that probes, bounds and stored keys collide often.
fn key_strategy() -> impl Strategy<Value = Key> {
    (
        -4i64..4,
        prop::collection::vec(prop::sample::select(vec![0u8, 1, 0x7f, 0x80, 0xff]), 0..3),
    )
}

fn bound_strategy() -> impl Strategy<Value = Bound<Key>> {
    prop_oneof![
        1 => Just(Bound::Unbounded),
        3 => key_strategy().prop_map(Bound::Included),
        3 => key_strategy().prop_map(Bound::Excluded),
    ]
}

fn config_strategy() -> impl Strategy<Value = SstableWriterConfig> {
    (
        prop::sample::select(vec![256u32, 512, 4096]),
        prop::sample::select(vec![256u32, 1024]),
        any::<bool>(),
        prop::option::of(0u64..100),
    )
        .prop_map(|(block, index, lz4, expected)| SstableWriterConfig {
            block_size_bytes: block,
            index_block_size_bytes: index,
            compression: if lz4 {
                Compression::Lz4
            } else {
                Compression::None
            },
            expected_partitions: expected,
            ..SstableWriterConfig::default()
        })
}

fn borrow(b: &Bound<Key>) -> Bound<(i64, &[u8])> {
    match b {
        Bound::Included((t, k)) => Bound::Included((*t, k)),
        Bound::Excluded((t, k)) => Bound::Excluded((*t, k)),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn contains(start: &Bound<Key>, end: &Bound<Key>, k: &Key) -> bool {
    let lo = match start {
        Bound::Included(s) => k >= s,
        Bound::Excluded(s) => k > s,
        Bound::Unbounded => true,
    };
    let hi = match end {
        Bound::Included(e) => k <= e,
        Bound::Excluded(e) => k < e,
        Bound::Unbounded => true,
    };
    lo && hi
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn sstable_matches_btreemap_model(
        model in prop::collection::btree_map(key_strategy(), prop::collection::vec(any::<u8>(), 0..700), 0..60),
        probes in prop::collection::vec(key_strategy(), 0..40),
        ranges in prop::collection::vec((bound_strategy(), bound_strategy()), 0..12),
        config in config_strategy(),
    ) {
        let model: BTreeMap<Key, Vec<u8>> = model;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.sst");
        let mut w = SstableWriter::create(&path, config).expect("create");
        for ((t, k), d) in &model {
            w.append(*t, k, d).expect("append");
        }
        let summary = w.finish(SstableStats::default()).expect("finish");
        prop_assert_eq!(summary.partition_count, model.len() as u64);
        let table = Sstable::open(&path).expect("open");

        let all: Vec<(Key, Vec<u8>)> = table
            .iter()
            .map(|r| r.map(|(t, k, d)| ((t, k.to_vec()), d.to_vec())))
            .collect::<Result<_, _>>()
            .expect("iterate");
        let expected: Vec<(Key, Vec<u8>)> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        prop_assert_eq!(all, expected);

        for probe in probes.iter().chain(model.keys()) {
            let got = table.get(probe.0, &probe.1).expect("get").map(|b| b.to_vec());
            prop_assert_eq!(got.as_ref(), model.get(probe));
            if model.contains_key(probe) {
                prop_assert!(table.may_contain(probe.0, &probe.1));
            }
        }

        for (start, end) in &ranges {
            let got: Vec<Key> = table
                .iter_range(borrow(start), borrow(end))
                .map(|r| r.map(|(t, k, _)| (t, k.to_vec())))
                .collect::<Result<_, _>>()
                .expect("range");
            let want: Vec<Key> = model.keys().filter(|k| contains(start, end, k)).cloned().collect();
            prop_assert_eq!(got, want, "range {:?}..{:?}", start, end);
        }
    }
}
