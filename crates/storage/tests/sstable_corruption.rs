//! Damaged files: every single-byte corruption, every truncation, trailing garbage, foreign
//! files and version mismatches must produce an error naming the file (never a panic, never
//! wrong data).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use meridian_storage::sstable::{
    Sstable, SstableError, SstableStats, SstableWriter, SstableWriterConfig,
};

type Entry = (i64, Vec<u8>, Vec<u8>);

/// A small table with several data blocks (some LZ4, some stored raw), a block of its own
/// for a large partition, several index blocks, a bloom filter and all optional stats.
fn build_small_table(path: &Path) -> Vec<Entry> {
    let config = SstableWriterConfig {
        block_size_bytes: 256,
        index_block_size_bytes: 256,
        ..SstableWriterConfig::default()
    };
    let mut entries = Vec::new();
    for i in 0..24i64 {
        let token = i * 1000 - 7000;
        let key = format!("key-{i:02}").into_bytes();
        let data: Vec<u8> = match i % 4 {
            0 => vec![b'a'; 40],                                         // compressible
            1 => (0..37u8).map(|b| b.wrapping_mul(97) ^ 0x5a).collect(), // not compressible
            2 => Vec::new(),                                             // empty partition
            _ => format!("value number {i}").into_bytes(),
        };
        entries.push((token, key, data));
    }
    // A partition larger than a block, in its own block.
    entries.push((
        1_000_000,
        b"large".to_vec(),
        (0..700u32).map(|i| (i % 251) as u8).collect(),
    ));
    let mut w = SstableWriter::create(path, config).expect("create");
    for (t, k, d) in &entries {
        w.append(*t, k, d).expect("append");
    }
    let stats = SstableStats {
        min_clustering: Some(vec![1, 2]),
        max_clustering: Some(vec![3]),
        extra: vec![9; 5],
        ..SstableStats::default()
    };
    let summary = w.finish(stats).expect("finish");
    assert!(
        summary.data_block_count >= 4 && summary.index_block_count >= 2,
        "{summary:?}"
    );
    entries
}

fn error_path(e: &SstableError) -> Option<&Path> {
    match e {
        SstableError::Corrupt { path, .. }
        | SstableError::Io { path, .. }
        | SstableError::UnsupportedVersion { path, .. } => Some(path),
        _ => None,
    }
}

/// Opens the file and reads everything through every API. Returns the first error, or the
/// data read if there was none (asserting it equals `expected`).
fn read_everything(path: &Path, expected: &[Entry]) -> Result<(), SstableError> {
    let table = Sstable::open(path)?;
    let mut seen = Vec::new();
    for item in table.iter() {
        let (t, k, d): (i64, Bytes, Bytes) = item?;
        seen.push((t, k.to_vec(), d.to_vec()));
    }
    for (t, k, _) in expected {
        if let Some(d) = table.get(*t, k)? {
            seen.push((*t, k.clone(), d.to_vec()));
        } else {
            seen.push((*t, k.clone(), b"<missing>".to_vec()));
        }
    }
    for (t, k) in [(0i64, &b"absent"[..]), (-7000, b"key-00x"), (i64::MAX, b"")] {
        if table.get(t, k)?.is_some() {
            seen.push((t, k.to_vec(), b"<phantom>".to_vec()));
        }
    }
    let mut want: Vec<Entry> = expected.to_vec();
    want.extend(expected.iter().cloned());
    assert_eq!(
        seen,
        want,
        "undetected corruption returned wrong data from {}",
        path.display()
    );
    Ok(())
}

fn scratch(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write scratch file");
    p
}

#[test]
fn intact_small_table_reads_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ok.sst");
    let entries = build_small_table(&path);
    read_everything(&path, &entries).expect("intact file");
}

#[test]
fn every_single_byte_corruption_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("orig.sst");
    let entries = build_small_table(&path);
    let original = std::fs::read(&path).expect("read");
    let target = dir.path().join("damaged.sst");
    for offset in 0..original.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut bytes = original.clone();
            bytes[offset] ^= mask;
            std::fs::write(&target, &bytes).expect("write");
            match read_everything(&target, &entries) {
                // The format has no unused padding: every byte is checksummed or checked, so
                // a change is always detected somewhere.
                Ok(()) => panic!("flip {mask:#04x} at offset {offset} went undetected"),
                Err(e) => assert_eq!(
                    error_path(&e),
                    Some(target.as_path()),
                    "offset {offset}: {e}"
                ),
            }
        }
    }
}

#[test]
fn corrupt_errors_name_the_offset_of_the_damaged_block() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("orig.sst");
    let entries = build_small_table(&path);
    let mut bytes = std::fs::read(&path).expect("read");
    // Offset 16 is the first byte of the first data block's header.
    bytes[20] ^= 0x10;
    let target = scratch(dir.path(), "d.sst", &bytes);
    let table = Sstable::open(&target).expect("open succeeds: blocks are verified lazily");
    let (t, k, _) = &entries[0];
    match table.get(*t, k) {
        Err(SstableError::Corrupt {
            path,
            offset_bytes,
            reason,
        }) => {
            assert_eq!(path, target);
            // The damaged field (stored length) lies in the header of the block at offset 16.
            assert!(
                (16..32).contains(&offset_bytes),
                "offset {offset_bytes}: {reason}"
            );
        }
        other => panic!("expected corruption, got {other:?}"),
    }
}

#[test]
fn every_truncation_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("orig.sst");
    let entries = build_small_table(&path);
    let original = std::fs::read(&path).expect("read");
    let target = dir.path().join("truncated.sst");
    for len in 0..original.len() {
        std::fs::write(&target, &original[..len]).expect("write");
        match Sstable::open(&target) {
            Ok(_) => panic!("truncation to {len} bytes opened successfully"),
            Err(e) => assert!(
                matches!(&e, SstableError::Corrupt { path, .. } if path == &target),
                "truncation to {len}: {e}"
            ),
        }
    }
    // Trailing garbage moves the footer: also detected.
    let mut longer = original.clone();
    longer.extend_from_slice(&[0u8; 7]);
    std::fs::write(&target, &longer).expect("write");
    assert!(read_everything(&target, &entries).is_err());
}

#[test]
fn truncation_after_open_is_reported_not_panicking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("orig.sst");
    let entries = build_small_table(&path);
    let table = Sstable::open(&path).expect("open");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open for write");
    file.set_len(100).expect("truncate");
    let errors: Vec<SstableError> = entries
        .iter()
        .filter_map(|(t, k, _)| table.get(*t, k).err())
        .collect();
    assert!(!errors.is_empty());
    for e in &errors {
        assert_eq!(error_path(e), Some(path.as_path()), "{e}");
    }
    let iter_errors = table.iter().filter(Result::is_err).count();
    assert_eq!(iter_errors, 1, "an iterator stops after its first error");
}

#[test]
fn foreign_and_missing_files_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, bytes) in [
        ("empty", Vec::new()),
        ("zeros", vec![0u8; 4096]),
        ("text", b"this is not an sstable at all, but it is long enough to hold a footer.....................................".to_vec()),
    ] {
        let p = scratch(dir.path(), name, &bytes);
        match Sstable::open(&p) {
            Err(SstableError::Corrupt { path, .. }) => assert_eq!(path, p),
            other => panic!("{name}: expected Corrupt, got {other:?}"),
        }
    }
    let missing = dir.path().join("missing.sst");
    match Sstable::open(&missing) {
        Err(SstableError::Io { path, source }) => {
            assert_eq!(path, missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn newer_format_version_is_reported_as_unsupported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("orig.sst");
    build_small_table(&path);
    let mut bytes = std::fs::read(&path).expect("read");
    let footer = bytes.len() - 96;
    bytes[footer + 8..footer + 12].copy_from_slice(&2u32.to_le_bytes());
    let crc = crc32c::crc32c(&bytes[footer..footer + 92]);
    bytes[footer + 92..].copy_from_slice(&crc.to_le_bytes());
    let target = scratch(dir.path(), "v2.sst", &bytes);
    match Sstable::open(&target) {
        Err(SstableError::UnsupportedVersion {
            found: 2,
            supported: 1,
            path,
        }) => assert_eq!(path, target),
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
}

#[test]
fn index_pointing_outside_the_block_region_is_refused() {
    // A crafted (checksum-valid) index entry must not cause out-of-range reads.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("orig.sst");
    let entries = build_small_table(&path);
    let table = Sstable::open(&path).expect("open");
    let summary = table.summary().clone();
    drop(table);
    let mut bytes = std::fs::read(&path).expect("read");
    // Locate the first index block: it follows the data blocks it indexes. Scan block headers
    // from the start of the block region.
    let mut pos = 16usize;
    let blocks_end = 16 + (summary.data_size_compressed_bytes + summary.index_size_bytes) as usize;
    let mut index_block = None;
    while pos < blocks_end {
        let stored =
            u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().expect("4 bytes")) as usize;
        if bytes[pos] == 2 {
            index_block = Some((pos, stored));
            break;
        }
        pos += 16 + stored;
    }
    let (block, stored) = index_block.expect("an index block");
    // Body: entry count (4 bytes), then 32-byte records; a record's block offset is at +8.
    let body = block + 16;
    bytes[body + 12..body + 20].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
    let crc = crc32c::crc32c_append(
        crc32c::crc32c(&bytes[block..block + 12]),
        &bytes[body..body + stored],
    );
    bytes[block + 12..block + 16].copy_from_slice(&crc.to_le_bytes());
    let target = scratch(dir.path(), "crafted.sst", &bytes);
    let table = Sstable::open(&target).expect("sections are intact");
    let (t, k, _) = &entries[0];
    assert!(matches!(
        table.get(*t, k),
        Err(SstableError::Corrupt { .. })
    ));
    let err = table.iter().find_map(Result::err).expect("iteration error");
    assert!(matches!(err, SstableError::Corrupt { .. }), "{err}");
}

#[test]
fn bloom_filter_missing_the_tables_own_keys_is_ignored() {
    // Simulates a bloom probe layout that no longer matches (e.g. a library change): the
    // filter is checksum-valid but empty. Reads must fall back to "maybe" and stay correct.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("orig.sst");
    let entries = build_small_table(&path);
    let mut bytes = std::fs::read(&path).expect("read");
    let footer = bytes.len() - 96;
    let field = |at: usize| {
        u64::from_le_bytes(
            bytes[footer + at..footer + at + 8]
                .try_into()
                .expect("8 bytes"),
        )
    };
    let (bloom_offset, bloom_len) = (field(48) as usize, field(56) as usize);
    // Bloom section: hashes u32, reserved u32, fp rate f64, word count u64, words.
    for b in &mut bytes[bloom_offset + 24..bloom_offset + bloom_len] {
        *b = 0;
    }
    let crc = crc32c::crc32c(&bytes[bloom_offset..bloom_offset + bloom_len]);
    bytes[footer + 84..footer + 88].copy_from_slice(&crc.to_le_bytes());
    let footer_crc = crc32c::crc32c(&bytes[footer..footer + 92]);
    bytes[footer + 92..].copy_from_slice(&footer_crc.to_le_bytes());
    let target = scratch(dir.path(), "emptybloom.sst", &bytes);
    let table = Sstable::open(&target).expect("open");
    assert_eq!(table.bloom_fp_rate(), 1.0, "filter must be disabled");
    read_everything(&target, &entries).expect("all data still readable");
}
