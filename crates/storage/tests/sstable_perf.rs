//! Throughput / latency smoke benchmark of the SSTable layer. Ignored by default; run with
//! `cargo test --release -p meridian-storage --test sstable_perf -- --ignored --nocapture`.
//! It checks correctness of what it reads and prints write MB/s, point-read µs and scan MB/s.

use std::sync::Arc;
use std::time::Instant;

use meridian_storage::sstable::{
    BlockCache, Sstable, SstableOpenOptions, SstableStats, SstableWriter, SstableWriterConfig,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const PARTITIONS: u64 = 300_000;

fn key(i: u64) -> (i64, Vec<u8>) {
    // Spread tokens like Murmur3 would; keys are 16-byte ids.
    let token = (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 1) as i64;
    (token, format!("pk-{i:013}").into_bytes())
}

fn value(i: u64, rng: &mut StdRng) -> Vec<u8> {
    let len = rng.random_range(64..256);
    let mut v = format!("row {i} column values ").into_bytes();
    v.resize(len, b'x');
    for b in v.iter_mut().step_by(7) {
        *b = rng.random();
    }
    v
}

#[test]
#[ignore = "benchmark; run in release with --ignored"]
fn sstable_point_read_and_write_throughput() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bench.sst");
    let mut rng = StdRng::seed_from_u64(1);
    let mut keys: Vec<(i64, Vec<u8>, u64)> = (0..PARTITIONS)
        .map(|i| {
            let (t, k) = key(i);
            (t, k, i)
        })
        .collect();
    keys.sort();
    let values: Vec<Vec<u8>> = (0..PARTITIONS).map(|i| value(i, &mut rng)).collect();

    let started = Instant::now();
    let config = SstableWriterConfig {
        expected_partitions: Some(PARTITIONS),
        ..SstableWriterConfig::default()
    };
    let mut w = SstableWriter::create(&path, config).expect("create");
    for (t, k, i) in &keys {
        w.append(*t, k, &values[*i as usize]).expect("append");
    }
    let summary = w.finish(SstableStats::default()).expect("finish");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "write: {} partitions, {:.1} MB raw, {:.1} MB file in {:.3}s = {:.0} MB/s raw (incl. fsync)",
        PARTITIONS,
        summary.data_size_uncompressed_bytes as f64 / 1e6,
        summary.file_size_bytes as f64 / 1e6,
        secs,
        summary.data_size_uncompressed_bytes as f64 / 1e6 / secs
    );

    let lookups: Vec<usize> = (0..200_000)
        .map(|_| rng.random_range(0..keys.len()))
        .collect();
    for (label, cache) in [
        ("no cache", None),
        ("64 MiB cache", Some(Arc::new(BlockCache::new(64 << 20)))),
        ("256 MiB cache", Some(Arc::new(BlockCache::new(256 << 20)))),
    ] {
        let table = Sstable::open_with(
            &path,
            SstableOpenOptions {
                block_cache: cache.clone(),
            },
        )
        .expect("open");
        for pass in 0..2 {
            let started = Instant::now();
            for &j in &lookups {
                let (t, k, i) = &keys[j];
                let got = table.get(*t, k).expect("get").expect("present");
                assert_eq!(got.len(), values[*i as usize].len());
            }
            let per = started.elapsed().as_secs_f64() * 1e6 / lookups.len() as f64;
            println!(
                "get present ({label}, pass {pass}): {per:.2} µs/op; cache {:?}",
                cache.as_ref().map(|c| c.stats())
            );
        }
        let started = Instant::now();
        let mut absent = 0;
        for j in 0..200_000u64 {
            if table.get(j as i64, b"absent-key").expect("get").is_none() {
                absent += 1;
            }
        }
        assert_eq!(absent, 200_000);
        let per = started.elapsed().as_secs_f64() * 1e6 / 200_000.0;
        println!(
            "get absent ({label}): {per:.3} µs/op, {:?}",
            table.read_stats()
        );
    }

    let table = Sstable::open(&path).expect("open");
    let started = Instant::now();
    let mut n = 0u64;
    let mut bytes = 0u64;
    for item in table.iter() {
        let (_, _, d) = item.expect("iter");
        n += 1;
        bytes += d.len() as u64;
    }
    assert_eq!(n, PARTITIONS);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "scan: {n} partitions in {secs:.3}s = {:.0} MB/s",
        bytes as f64 / 1e6 / secs
    );
}
