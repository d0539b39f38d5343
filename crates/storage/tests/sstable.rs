//! Functional tests of the SSTable layer: round trips, lookups, range iteration, writer
//! protocol (ordering, limits, temporary files), caching and concurrency.

use std::collections::BTreeMap;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use meridian_storage::sstable::{
    BlockCache, Compression, Sstable, SstableError, SstableOpenOptions, SstableStats,
    SstableWriter, SstableWriterConfig, MAX_KEY_SIZE_BYTES,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

type Model = BTreeMap<(i64, Vec<u8>), Vec<u8>>;

fn small_blocks() -> SstableWriterConfig {
    SstableWriterConfig {
        block_size_bytes: 4096,
        index_block_size_bytes: 1024,
        ..SstableWriterConfig::default()
    }
}

fn sample_stats() -> SstableStats {
    SstableStats {
        min_timestamp_micros: -5,
        max_timestamp_micros: 1_700_000_000_000_000,
        min_local_deletion_time_secs: 10,
        max_local_deletion_time_secs: i64::MAX,
        tombstone_count: 3,
        cell_count: 1000,
        row_count: 77,
        min_clustering: Some(vec![0, 1, 2]),
        max_clustering: None,
        extra: b"future".to_vec(),
    }
}

/// Partition payload: partly compressible, partly random, deterministic per seed.
fn payload(rng: &mut StdRng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        if rng.random_bool(0.5) {
            let b = rng.random::<u8>();
            let run = rng.random_range(1..64).min(len - out.len());
            out.extend(std::iter::repeat_n(b, run));
        } else {
            out.push(rng.random());
        }
    }
    out
}

/// Random model with `n` partitions; some tokens are shared by several keys.
fn random_model(rng: &mut StdRng, n: usize, block_size: usize) -> Model {
    let mut model = Model::new();
    while model.len() < n {
        let token = if rng.random_bool(0.1) {
            rng.random_range(-3..3)
        } else {
            rng.random()
        };
        let key_len = rng.random_range(0..24);
        let key: Vec<u8> = (0..key_len).map(|_| rng.random()).collect();
        let len = if rng.random_bool(0.01) {
            rng.random_range(block_size..block_size * 5)
        } else {
            rng.random_range(0..600)
        };
        let data = payload(rng, len);
        model.insert((token, key), data);
    }
    model
}

fn write_model(
    path: &Path,
    model: &Model,
    config: SstableWriterConfig,
) -> meridian_storage::sstable::SstableSummary {
    let mut w = SstableWriter::create(path, config).expect("create");
    for ((token, key), data) in model {
        w.append(*token, key, data).expect("append");
    }
    w.finish(sample_stats()).expect("finish")
}

fn collect(
    it: impl Iterator<Item = Result<(i64, Bytes, Bytes), SstableError>>,
) -> Vec<(i64, Vec<u8>, Vec<u8>)> {
    it.map(|r| {
        let (t, k, d) = r.expect("iteration");
        (t, k.to_vec(), d.to_vec())
    })
    .collect()
}

fn model_entries<'a>(
    it: impl Iterator<Item = (&'a (i64, Vec<u8>), &'a Vec<u8>)>,
) -> Vec<(i64, Vec<u8>, Vec<u8>)> {
    it.map(|((t, k), d)| (*t, k.clone(), d.clone())).collect()
}

#[test]
fn round_trip_10k_partitions_with_random_sizes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.sst");
    let mut rng = StdRng::seed_from_u64(7);
    let config = small_blocks();
    let model = random_model(&mut rng, 10_000, config.block_size_bytes as usize);
    assert!(model
        .values()
        .any(|d| d.len() > config.block_size_bytes as usize));
    let written = write_model(&path, &model, config);

    let table = Sstable::open(&path).expect("open");
    assert_eq!(table.summary(), &written);
    let s = table.summary();
    assert_eq!(s.partition_count, 10_000);
    let (first, last) = (
        model.keys().next().expect("first"),
        model.keys().last().expect("last"),
    );
    assert_eq!(s.min_token(), Some(first.0));
    assert_eq!(s.max_token(), Some(last.0));
    assert_eq!(
        s.first_key.as_ref().map(|k| k.key.to_vec()),
        Some(first.1.clone())
    );
    assert_eq!(
        s.last_key.as_ref().map(|k| k.key.to_vec()),
        Some(last.1.clone())
    );
    assert_eq!(
        s.data_size_uncompressed_bytes,
        model.values().map(|d| d.len() as u64).sum::<u64>()
    );
    assert!(
        s.data_size_compressed_bytes < s.data_size_uncompressed_bytes,
        "payloads are compressible"
    );
    assert_eq!(
        s.max_partition_size_bytes as usize,
        model.values().map(Vec::len).max().unwrap_or(0)
    );
    assert!(s.data_block_count > 100 && s.index_block_count > 10);
    assert_eq!(
        s.file_size_bytes,
        std::fs::metadata(&path).expect("stat").len()
    );
    assert_eq!(table.file_size_bytes(), s.file_size_bytes);
    assert_eq!(table.stats(), &sample_stats());
    assert_eq!(table.path(), path.as_path());

    assert_eq!(collect(table.iter()), model_entries(model.iter()));
    for ((token, key), data) in &model {
        assert!(table.may_contain(*token, key));
        let got = table.get(*token, key).expect("get").expect("present");
        assert_eq!(&got[..], &data[..]);
    }

    // Absent keys: random ones, and near-misses sharing a present token.
    let mut absent_checked = 0u64;
    for _ in 0..5_000 {
        let token: i64 = rng.random();
        let key: Vec<u8> = (0..8).map(|_| rng.random()).collect();
        if model.contains_key(&(token, key.clone())) {
            continue;
        }
        assert_eq!(table.get(token, &key).expect("get"), None);
        absent_checked += 1;
    }
    for (token, key) in model.keys().take(500) {
        let mut near = key.clone();
        near.push(0);
        if !model.contains_key(&(*token, near.clone())) {
            assert_eq!(table.get(*token, &near).expect("get"), None);
            absent_checked += 1;
        }
    }
    let rs = table.read_stats();
    assert_eq!(rs.bloom_true_positives, 10_000);
    // Configured at 1%: allow generous slack, but a broken filter would let ~all through.
    assert!(
        rs.bloom_false_positives * 100 < absent_checked * 4,
        "bloom let {} of {absent_checked} absent keys through",
        rs.bloom_false_positives
    );
}

#[test]
fn config_variants_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = StdRng::seed_from_u64(11);
    let model = random_model(&mut rng, 1_500, 1024);
    let variants = [
        SstableWriterConfig {
            compression: Compression::None,
            block_size_bytes: 1024,
            ..SstableWriterConfig::default()
        },
        SstableWriterConfig {
            expected_partitions: Some(1_500),
            bloom_fp_rate: 0.001,
            ..SstableWriterConfig::default()
        },
        SstableWriterConfig {
            bloom_fp_rate: 1.0, // no bloom filter at all
            block_size_bytes: 256,
            index_block_size_bytes: 256,
            write_buffer_size_bytes: 4096,
            ..SstableWriterConfig::default()
        },
    ];
    for (i, config) in variants.into_iter().enumerate() {
        let path = dir.path().join(format!("v{i}.sst"));
        let no_bloom = config.bloom_fp_rate >= 1.0;
        write_model(&path, &model, config);
        let table = Sstable::open(&path).expect("open");
        assert_eq!(
            collect(table.iter()),
            model_entries(model.iter()),
            "variant {i}"
        );
        for ((token, key), data) in model.iter().step_by(7) {
            assert_eq!(
                table.get(*token, key).expect("get").as_deref(),
                Some(&data[..])
            );
        }
        assert_eq!(table.get(12345, b"nope").expect("get"), None);
        if no_bloom {
            assert_eq!(table.bloom_fp_rate(), 1.0);
            assert_eq!(table.read_stats().bloom_false_positives, 0);
        }
    }
}

#[test]
fn empty_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("empty.sst");
    let summary = SstableWriter::create(&path, SstableWriterConfig::default())
        .expect("create")
        .finish(SstableStats::default())
        .expect("finish");
    assert_eq!(summary.partition_count, 0);
    assert_eq!(summary.first_key, None);
    let table = Sstable::open(&path).expect("open");
    assert_eq!(table.iter().count(), 0);
    assert_eq!(
        table
            .iter_range(Bound::Included((0, b"")), Bound::Unbounded)
            .count(),
        0
    );
    assert_eq!(table.get(0, b"").expect("get"), None);
    assert!(!table.may_contain(0, b""));
    assert_eq!(table.summary().min_token(), None);
}

/// Small table with many keys per token, for exhaustive bound checks.
fn bounds_model() -> Model {
    let mut model = Model::new();
    for token in [-9i64, -1, 0, 4, i64::MAX] {
        for key in [&b""[..], b"a", b"a\x00", b"b", b"\xff"] {
            let data = format!("{token}/{key:?}").into_bytes();
            model.insert((token, key.to_vec()), data);
        }
    }
    model.insert((i64::MIN, b"min".to_vec()), b"min".to_vec());
    model
}

fn in_bounds(
    k: &(i64, Vec<u8>),
    start: &Bound<(i64, Vec<u8>)>,
    end: &Bound<(i64, Vec<u8>)>,
) -> bool {
    let after_start = match start {
        Bound::Included(s) => k >= s,
        Bound::Excluded(s) => k > s,
        Bound::Unbounded => true,
    };
    let before_end = match end {
        Bound::Included(e) => k <= e,
        Bound::Excluded(e) => k < e,
        Bound::Unbounded => true,
    };
    after_start && before_end
}

fn borrow_bound(b: &Bound<(i64, Vec<u8>)>) -> Bound<(i64, &[u8])> {
    match b {
        Bound::Included((t, k)) => Bound::Included((*t, k)),
        Bound::Excluded((t, k)) => Bound::Excluded((*t, k)),
        Bound::Unbounded => Bound::Unbounded,
    }
}

#[test]
fn range_iteration_bounds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = bounds_model();
    // Tiny blocks so that bounds fall on block and index-block boundaries.
    let config = SstableWriterConfig {
        block_size_bytes: 256,
        index_block_size_bytes: 256,
        ..SstableWriterConfig::default()
    };
    let path = dir.path().join("bounds.sst");
    write_model(&path, &model, config);
    let table = Sstable::open(&path).expect("open");
    assert!(table.summary().index_block_count > 1);

    let mut points: Vec<(i64, Vec<u8>)> = model.keys().cloned().collect();
    for token in [i64::MIN, -10, -9, -5, 0, 3, 4, 5, i64::MAX] {
        for key in [&b""[..], b"a", b"ab", b"\xff\xff"] {
            points.push((token, key.to_vec()));
        }
    }
    let mut bounds = vec![Bound::Unbounded];
    for p in &points {
        bounds.push(Bound::Included(p.clone()));
        bounds.push(Bound::Excluded(p.clone()));
    }
    for start in &bounds {
        for end in &bounds {
            let expected = model_entries(model.iter().filter(|(k, _)| in_bounds(k, start, end)));
            let got = collect(table.iter_range(borrow_bound(start), borrow_bound(end)));
            assert_eq!(got, expected, "start {start:?} end {end:?}");
        }
    }

    // Token ranges.
    let tokens = [i64::MIN, -9, -2, -1, 0, 1, 4, i64::MAX];
    let mut token_bounds = vec![Bound::Unbounded];
    for t in tokens {
        token_bounds.push(Bound::Included(t));
        token_bounds.push(Bound::Excluded(t));
    }
    for start in &token_bounds {
        for end in &token_bounds {
            let expected = model_entries(
                model
                    .iter()
                    .filter(|((t, _), _)| (*start, *end).contains(t)),
            );
            let got = collect(table.iter_token_range(*start, *end));
            assert_eq!(got, expected, "tokens {start:?}..{end:?}");
        }
    }
}

#[test]
fn out_of_order_and_duplicate_appends_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("order.sst");
    let mut w = SstableWriter::create(&path, SstableWriterConfig::default()).expect("create");
    w.append(5, b"m", b"1").expect("first");
    for (token, key) in [(5, &b"m"[..]), (5, b"a"), (4, b"z"), (i64::MIN, b"")] {
        match w.append(token, key, b"x") {
            Err(SstableError::OutOfOrder {
                previous_token: 5,
                token: t,
                ..
            }) => assert_eq!(t, token),
            other => panic!("expected OutOfOrder, got {other:?}"),
        }
    }
    // Same token, larger key (unsigned byte order: 0xff > 'm').
    w.append(5, b"\xff", b"2").expect("greater key");
    w.append(6, b"", b"3").expect("greater token");
    w.finish(SstableStats::default()).expect("finish");
    let table = Sstable::open(&path).expect("open");
    let keys: Vec<(i64, Vec<u8>)> = collect(table.iter())
        .into_iter()
        .map(|(t, k, _)| (t, k))
        .collect();
    assert_eq!(
        keys,
        vec![(5, b"m".to_vec()), (5, b"\xff".to_vec()), (6, Vec::new())]
    );
}

#[test]
fn limits_are_enforced_with_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("limits.sst");
    let config = SstableWriterConfig {
        max_partition_size_bytes: 1000,
        ..SstableWriterConfig::default()
    };
    let mut w = SstableWriter::create(&path, config).expect("create");
    let big_key = vec![0u8; MAX_KEY_SIZE_BYTES + 1];
    assert!(matches!(
        w.append(0, &big_key, b""),
        Err(SstableError::KeyTooLarge { .. })
    ));
    assert!(matches!(
        w.append(0, b"k", &[0u8; 1001]),
        Err(SstableError::PartitionTooLarge {
            size_bytes: 1001,
            max_bytes: 1000
        })
    ));
    let max_key = vec![0xabu8; MAX_KEY_SIZE_BYTES];
    w.append(0, &max_key, &[1u8; 1000])
        .expect("maximum sizes are accepted");
    let too_big_stats = SstableStats {
        extra: vec![0u8; meridian_storage::sstable::MAX_EXTRA_STATS_SIZE_BYTES + 1],
        ..SstableStats::default()
    };
    assert!(matches!(
        w.finish(too_big_stats),
        Err(SstableError::StatsTooLarge { field: "extra", .. })
    ));
    assert!(!path.exists());

    for bad in [
        SstableWriterConfig {
            block_size_bytes: 10,
            ..SstableWriterConfig::default()
        },
        SstableWriterConfig {
            index_block_size_bytes: u32::MAX,
            ..SstableWriterConfig::default()
        },
        SstableWriterConfig {
            bloom_fp_rate: 0.0,
            ..SstableWriterConfig::default()
        },
        SstableWriterConfig {
            bloom_fp_rate: f64::NAN,
            ..SstableWriterConfig::default()
        },
        SstableWriterConfig {
            max_partition_size_bytes: u32::MAX,
            ..SstableWriterConfig::default()
        },
        SstableWriterConfig {
            write_buffer_size_bytes: 0,
            ..SstableWriterConfig::default()
        },
    ] {
        assert!(matches!(
            SstableWriter::create(&path, bad),
            Err(SstableError::InvalidConfig { .. })
        ));
    }
}

#[test]
fn max_key_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("maxkey.sst");
    let key = vec![0xabu8; MAX_KEY_SIZE_BYTES];
    let mut w = SstableWriter::create(&path, SstableWriterConfig::default()).expect("create");
    w.append(1, &key, b"data").expect("append");
    w.finish(SstableStats::default()).expect("finish");
    let table = Sstable::open(&path).expect("open");
    assert_eq!(
        table.get(1, &key).expect("get").as_deref(),
        Some(&b"data"[..])
    );
}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn temporary_file_lifecycle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.sst");

    let mut w = SstableWriter::create(&path, SstableWriterConfig::default()).expect("create");
    assert_eq!(dir_entries(dir.path()), vec!["t.sst.tmp".to_string()]);
    assert!(matches!(
        SstableWriter::create(&path, SstableWriterConfig::default()),
        Err(SstableError::AlreadyExists { .. })
    ));
    w.append(1, b"a", b"x").expect("append");
    assert!(w.estimated_file_size_bytes() > 0);
    w.abort().expect("abort");
    assert!(dir_entries(dir.path()).is_empty());

    let mut w = SstableWriter::create(&path, SstableWriterConfig::default()).expect("create");
    w.append(1, b"a", b"x").expect("append");
    drop(w);
    assert!(
        dir_entries(dir.path()).is_empty(),
        "drop removes the temporary file"
    );

    let mut w = SstableWriter::create(&path, SstableWriterConfig::default()).expect("create");
    w.append(1, b"a", b"x").expect("append");
    assert_eq!(w.partition_count(), 1);
    w.finish(SstableStats::default()).expect("finish");
    assert_eq!(dir_entries(dir.path()), vec!["t.sst".to_string()]);

    // Never overwrite an existing table.
    assert!(matches!(
        SstableWriter::create(&path, SstableWriterConfig::default()),
        Err(SstableError::AlreadyExists { .. })
    ));
    assert_eq!(dir_entries(dir.path()), vec!["t.sst".to_string()]);
}

#[test]
fn concurrent_reads_with_shared_block_cache() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Sstable>();
    assert_send_sync::<BlockCache>();
    fn assert_send<T: Send + 'static>() {}
    assert_send::<meridian_storage::sstable::SstableIter>();

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.sst");
    let mut rng = StdRng::seed_from_u64(3);
    let model = Arc::new(random_model(&mut rng, 2_000, 4096));
    write_model(&path, &model, small_blocks());
    let cache = Arc::new(BlockCache::new(256 << 10));
    let table = Sstable::open_with(
        &path,
        SstableOpenOptions {
            block_cache: Some(cache.clone()),
        },
    )
    .expect("open");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let table = table.clone();
            let model = model.clone();
            std::thread::spawn(move || {
                for _ in 0..3 {
                    for ((token, key), data) in model.iter().skip(t).step_by(3) {
                        let got = table.get(*token, key).expect("get").expect("present");
                        assert_eq!(&got[..], &data[..]);
                    }
                }
                // Iterators are independent of each other and of the cache.
                assert_eq!(table.iter().count(), model.len());
            })
        })
        .collect();
    for t in threads {
        t.join().expect("reader thread");
    }
    let stats = cache.stats();
    assert!(
        stats.hits > 0,
        "repeated reads must hit the cache: {stats:?}"
    );
    assert!(stats.used_bytes <= cache.capacity_bytes() as u64);
}
