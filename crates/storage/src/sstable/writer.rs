//! [`SstableWriter`]: streams partitions (in strictly increasing key order) into a new SSTable
//! file, then publishes it atomically.
//!
//! Invariants:
//! - the file is written as `<final>.tmp` and only renamed to its final name after everything,
//!   including the footer, has been written and fsynced; the directory is fsynced after the
//!   rename. Until then (and on abort, drop or any error) the temporary file is removed.
//! - writer memory is bounded independently of the table size, except for the summary (one
//!   entry per index block) and the bloom filter (about 1.2 bytes per partition at 1%, or 8
//!   bytes per partition while the partition count is unknown, up to
//!   `MAX_BUFFERED_BLOOM_HASHES`): the current data block, the current index block and one
//!   compression buffer are the only other buffers.
//! - after an I/O error the writer is poisoned ([`SstableError::WriterFailed`]).
//! - index entries are appended to the current index block as soon as their partition is
//!   appended; their data block's offset is already known (nothing else is written before
//!   the current data block) and its on-disk length is patched in when the block is written.
//!   An index block is only ever flushed right after a data block, so every index entry
//!   refers to a data block that precedes its index block in the file.

use std::cmp::Ordering;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::bloom::{key_hash, BloomBuilder};
use super::format::{
    compare_keys, encode_block_header, encode_file_header, encode_footer, encode_stats,
    put_index_record, put_summary_entry, Footer, SectionRef, WriterStats, BLOCK_HEADER_SIZE_BYTES,
    BLOCK_KIND_DATA, BLOCK_KIND_INDEX, CODEC_LZ4, CODEC_NONE, FILE_HEADER_SIZE_BYTES,
    FOOTER_SIZE_BYTES, INDEX_RECORD_DISK_LEN_FIELD_OFFSET, INDEX_RECORD_SIZE_BYTES,
    MAX_CLUSTERING_STAT_SIZE_BYTES, MAX_EXTRA_STATS_SIZE_BYTES, MAX_KEY_SIZE_BYTES,
    MAX_PARTITION_SIZE_BYTES,
};
use super::{Result, SstableError, SstableKey, SstableStats, SstableSummary};

/// Smallest accepted data/index block target size.
pub const MIN_BLOCK_SIZE_BYTES: u32 = 256;
/// Largest accepted data block target size.
pub const MAX_BLOCK_SIZE_BYTES: u32 = 64 << 20;
/// Largest accepted index block target size.
pub const MAX_INDEX_BLOCK_SIZE_BYTES: u32 = 1 << 20;
/// A data block is closed once it holds this many partitions, whatever their size (bounds the
/// index bytes that wait for a block to be written when partitions are tiny).
pub const MAX_PARTITIONS_PER_DATA_BLOCK: usize = 4096;
/// A data block is closed once its partitions' index entries reach this many bytes.
const MAX_PENDING_INDEX_BYTES: usize = 4 << 20;
/// Bounds of the configurable write buffer.
const MIN_WRITE_BUFFER_SIZE_BYTES: usize = 4 << 10;
const MAX_WRITE_BUFFER_SIZE_BYTES: usize = 64 << 20;

/// Block compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// LZ4 block compression; a block that LZ4 does not shrink is stored uncompressed.
    #[default]
    Lz4,
    /// No compression.
    None,
}

/// Tunables of [`SstableWriter`].
#[derive(Debug, Clone, PartialEq)]
pub struct SstableWriterConfig {
    /// Target uncompressed size of a data block (default 16 KiB). Partitions are packed until
    /// the next one would overflow the target; a partition at least this large gets its own
    /// block.
    pub block_size_bytes: u32,
    /// Target size of a partition-index block (default 4 KiB).
    pub index_block_size_bytes: u32,
    /// Bloom filter false-positive rate in `(0, 1]` (default 0.01); `1.0` writes no filter.
    pub bloom_fp_rate: f64,
    /// Expected number of partitions, if known (memtable flush: exact; compaction: sum of the
    /// inputs). Lets the bloom filter be built incrementally instead of buffering 8 bytes per
    /// partition until `finish`. Over-estimates waste bloom space, under-estimates raise the
    /// false-positive rate; neither affects correctness.
    pub expected_partitions: Option<u64>,
    /// Largest accepted partition blob (default and maximum: [`MAX_PARTITION_SIZE_BYTES`]).
    pub max_partition_size_bytes: u32,
    /// Data block compression (default LZ4). Index blocks are never compressed.
    pub compression: Compression,
    /// Size of the user-space write buffer (default 1 MiB).
    pub write_buffer_size_bytes: usize,
}

impl Default for SstableWriterConfig {
    fn default() -> Self {
        Self {
            block_size_bytes: 16 << 10,
            index_block_size_bytes: 4 << 10,
            bloom_fp_rate: 0.01,
            expected_partitions: None,
            max_partition_size_bytes: MAX_PARTITION_SIZE_BYTES,
            compression: Compression::Lz4,
            write_buffer_size_bytes: 1 << 20,
        }
    }
}

impl SstableWriterConfig {
    /// Checks every field against its documented range.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| Err(SstableError::InvalidConfig { reason });
        if !(MIN_BLOCK_SIZE_BYTES..=MAX_BLOCK_SIZE_BYTES).contains(&self.block_size_bytes) {
            return bad(format!(
                "block_size_bytes {} outside [{MIN_BLOCK_SIZE_BYTES}, {MAX_BLOCK_SIZE_BYTES}]",
                self.block_size_bytes
            ));
        }
        if !(MIN_BLOCK_SIZE_BYTES..=MAX_INDEX_BLOCK_SIZE_BYTES)
            .contains(&self.index_block_size_bytes)
        {
            return bad(format!(
                "index_block_size_bytes {} outside [{MIN_BLOCK_SIZE_BYTES}, {MAX_INDEX_BLOCK_SIZE_BYTES}]",
                self.index_block_size_bytes
            ));
        }
        // NaN fails both comparisons.
        if !(self.bloom_fp_rate > 0.0 && self.bloom_fp_rate <= 1.0) {
            return bad(format!(
                "bloom_fp_rate {} outside (0, 1]",
                self.bloom_fp_rate
            ));
        }
        if self.max_partition_size_bytes > MAX_PARTITION_SIZE_BYTES {
            return bad(format!(
                "max_partition_size_bytes {} exceeds {MAX_PARTITION_SIZE_BYTES}",
                self.max_partition_size_bytes
            ));
        }
        if !(MIN_WRITE_BUFFER_SIZE_BYTES..=MAX_WRITE_BUFFER_SIZE_BYTES)
            .contains(&self.write_buffer_size_bytes)
        {
            return bad(format!(
                "write_buffer_size_bytes {} outside [{MIN_WRITE_BUFFER_SIZE_BYTES}, {MAX_WRITE_BUFFER_SIZE_BYTES}]",
                self.write_buffer_size_bytes
            ));
        }
        Ok(())
    }
}

/// Writes one SSTable file. See the module docs for the protocol and guarantees.
pub struct SstableWriter {
    final_path: PathBuf,
    tmp_path: PathBuf,
    /// `None` once the file has been closed (finish/abort).
    out: Option<BufWriter<File>>,
    config: SstableWriterConfig,
    /// Offset in the file of the next byte to be written.
    position: u64,
    failed: bool,
    /// Set once the temporary file no longer needs removing.
    published_or_removed: bool,
    /// Uncompressed body of the current data block.
    data_buf: Vec<u8>,
    /// Positions in `index_records` of the disk-length fields of the current data block's
    /// entries.
    block_patches: Vec<usize>,
    /// Key bytes of the current data block's entries (bounded by `MAX_PENDING_INDEX_BYTES`).
    pending_key_bytes: usize,
    /// Scratch space for LZ4 output.
    compress_buf: Vec<u8>,
    /// Fixed-size records of the current index block.
    index_records: Vec<u8>,
    /// Key area of the current index block.
    index_keys: Vec<u8>,
    /// Entries in the current index block.
    index_count: u32,
    /// Offset in `index_keys` of the last entry's key.
    index_last_key_offset: usize,
    /// Scratch buffer in which index block bodies are assembled.
    index_body: Vec<u8>,
    /// Summary section being built; starts with a 4-byte count placeholder.
    summary_buf: Vec<u8>,
    summary_count: u32,
    bloom: BloomBuilder,
    stats: WriterStats,
}

impl std::fmt::Debug for SstableWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SstableWriter")
            .field("path", &self.final_path)
            .field("partitions", &self.stats.partition_count)
            .field("position", &self.position)
            .field("failed", &self.failed)
            .finish()
    }
}

fn tmp_path_for(final_path: &Path) -> PathBuf {
    let mut s = final_path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

impl SstableWriter {
    /// Starts writing a new SSTable that will be published at `final_path`. Fails with
    /// [`SstableError::AlreadyExists`] if the final file or `<final>.tmp` already exists.
    pub fn create(final_path: impl AsRef<Path>, config: SstableWriterConfig) -> Result<Self> {
        config.validate()?;
        let final_path = final_path.as_ref().to_path_buf();
        let tmp_path = tmp_path_for(&final_path);
        if std::fs::symlink_metadata(&final_path).is_ok() {
            return Err(SstableError::AlreadyExists { path: final_path });
        }
        let file = match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp_path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(SstableError::AlreadyExists { path: tmp_path });
            }
            Err(source) => {
                return Err(SstableError::Io {
                    path: tmp_path,
                    source,
                })
            }
        };
        let out = BufWriter::with_capacity(config.write_buffer_size_bytes, file);
        let bloom = BloomBuilder::new(config.bloom_fp_rate, config.expected_partitions);
        let mut writer = Self {
            final_path,
            tmp_path,
            out: Some(out),
            data_buf: Vec::with_capacity(config.block_size_bytes as usize),
            config,
            position: 0,
            failed: false,
            published_or_removed: false,
            block_patches: Vec::new(),
            compress_buf: Vec::new(),
            pending_key_bytes: 0,
            index_records: Vec::new(),
            index_keys: Vec::new(),
            index_count: 0,
            index_last_key_offset: 0,
            index_body: Vec::new(),
            summary_buf: vec![0u8; 4],
            summary_count: 0,
            bloom,
            stats: WriterStats::default(),
        };
        writer.write_raw(&encode_file_header())?;
        Ok(writer)
    }

    /// Final path of the table being written.
    pub fn path(&self) -> &Path {
        &self.final_path
    }

    /// Partitions appended so far.
    pub fn partition_count(&self) -> u64 {
        self.stats.partition_count
    }

    /// Approximate size the file would have if finished now (for splitting compaction output).
    pub fn estimated_file_size_bytes(&self) -> u64 {
        self.position
            + self.data_buf.len() as u64
            + self.index_records.len() as u64
            + self.index_keys.len() as u64
            + self.summary_buf.len() as u64
            + FOOTER_SIZE_BYTES
    }

    /// Appends one partition. Keys must be strictly increasing in `(token, key)` order;
    /// otherwise [`SstableError::OutOfOrder`] is returned and nothing is written (the writer
    /// stays usable). Oversized keys or blobs are refused the same way.
    pub fn append(&mut self, token: i64, key: &[u8], data: &[u8]) -> Result<()> {
        self.check_usable()?;
        if key.len() > MAX_KEY_SIZE_BYTES {
            return Err(SstableError::KeyTooLarge {
                size_bytes: key.len(),
                max_bytes: MAX_KEY_SIZE_BYTES,
            });
        }
        let max_partition = self.config.max_partition_size_bytes as usize;
        if data.len() > max_partition {
            return Err(SstableError::PartitionTooLarge {
                size_bytes: data.len(),
                max_bytes: max_partition,
            });
        }
        if let Some((prev_token, prev_key)) = &self.stats.last_key {
            if compare_keys((token, key), (*prev_token, prev_key)) != Ordering::Greater {
                return Err(SstableError::OutOfOrder {
                    path: self.final_path.clone(),
                    previous_token: *prev_token,
                    token,
                });
            }
        }
        // Bounded by max_partition_size_bytes <= MAX_PARTITION_SIZE_BYTES (fits u32).
        let length = data.len() as u32;
        let target = self.config.block_size_bytes as usize;
        if data.len() >= target {
            // Large partition: its own block, compressed straight from the caller's slice.
            self.flush_data_block()?;
            self.add_index_entry(token, key, 0, length)?;
            self.write_data_block(data)?;
        } else {
            if !self.block_patches.is_empty() && self.data_buf.len() + data.len() > target {
                self.flush_data_block()?;
            }
            let offset_in_block = self.data_buf.len() as u32;
            self.add_index_entry(token, key, offset_in_block, length)?;
            self.data_buf.extend_from_slice(data);
            if self.data_buf.len() >= target
                || self.block_patches.len() >= MAX_PARTITIONS_PER_DATA_BLOCK
                || self.pending_index_bytes() >= MAX_PENDING_INDEX_BYTES
            {
                self.flush_data_block()?;
            }
        }
        self.bloom.insert(key_hash(token, key));
        let s = &mut self.stats;
        s.partition_count += 1;
        s.data_uncompressed_bytes += u64::from(length);
        s.max_partition_bytes = s.max_partition_bytes.max(length);
        if s.first_key.is_none() {
            s.first_key = Some((token, key.to_vec()));
        }
        match &mut s.last_key {
            Some((t, k)) => {
                *t = token;
                k.clear();
                k.extend_from_slice(key);
            }
            None => s.last_key = Some((token, key.to_vec())),
        }
        Ok(())
    }

    /// Completes the table: writes the remaining blocks, summary, bloom filter, statistics and
    /// footer, fsyncs the file, renames it to its final name and fsyncs the directory.
    /// On error nothing is left behind (best effort: the temporary file, or the final file if
    /// the directory sync failed, is removed).
    pub fn finish(mut self, stats: SstableStats) -> Result<SstableSummary> {
        self.check_usable()?;
        for (field, value, max) in [
            (
                "min_clustering",
                stats.min_clustering.as_ref().map_or(0, Vec::len),
                MAX_CLUSTERING_STAT_SIZE_BYTES,
            ),
            (
                "max_clustering",
                stats.max_clustering.as_ref().map_or(0, Vec::len),
                MAX_CLUSTERING_STAT_SIZE_BYTES,
            ),
            ("extra", stats.extra.len(), MAX_EXTRA_STATS_SIZE_BYTES),
        ] {
            if value > max {
                return Err(SstableError::StatsTooLarge {
                    field,
                    size_bytes: value,
                    max_bytes: max,
                });
            }
        }
        self.flush_data_block()?;
        self.flush_index_block()?;
        let blocks = SectionRef {
            offset: FILE_HEADER_SIZE_BYTES,
            len: self.position - FILE_HEADER_SIZE_BYTES,
        };

        let mut summary = std::mem::take(&mut self.summary_buf);
        summary[0..4].copy_from_slice(&self.summary_count.to_le_bytes());
        let summary_ref = self.write_section(&summary)?;
        let summary_crc = crc32c::crc32c(&summary);
        drop(summary);

        let bloom = std::mem::replace(&mut self.bloom, BloomBuilder::Disabled).finish();
        let bloom_ref = self.write_section(&bloom)?;
        let bloom_crc = crc32c::crc32c(&bloom);
        drop(bloom);

        let stats_bytes = encode_stats(&self.stats, &stats);
        let stats_ref = self.write_section(&stats_bytes)?;
        let stats_crc = crc32c::crc32c(&stats_bytes);

        let footer = Footer {
            blocks,
            summary: summary_ref,
            bloom: bloom_ref,
            stats: stats_ref,
            summary_crc,
            bloom_crc,
            stats_crc,
        };
        self.write_raw(&encode_footer(&footer))?;
        let file_size_bytes = self.position;

        let out = self.out.take().ok_or_else(|| SstableError::WriterFailed {
            path: self.final_path.clone(),
        })?;
        let file = out.into_inner().map_err(|e| {
            self.failed = true;
            SstableError::Io {
                path: self.tmp_path.clone(),
                source: e.into_error(),
            }
        })?;
        file.sync_all().map_err(|source| {
            self.failed = true;
            SstableError::Io {
                path: self.tmp_path.clone(),
                source,
            }
        })?;
        drop(file);
        std::fs::rename(&self.tmp_path, &self.final_path).map_err(|source| SstableError::Io {
            path: self.final_path.clone(),
            source,
        })?;
        self.published_or_removed = true;
        if let Err(source) = sync_parent_dir(&self.final_path) {
            // Not durable: do not leave a file the caller believes was never written.
            let _ = std::fs::remove_file(&self.final_path);
            return Err(SstableError::Io {
                path: self.final_path.clone(),
                source,
            });
        }
        tracing::debug!(
            path = %self.final_path.display(),
            partitions = self.stats.partition_count,
            file_size_bytes,
            "sstable written"
        );
        Ok(build_summary(&self.stats, bloom_ref.len, file_size_bytes))
    }

    /// Abandons the table and removes the temporary file.
    pub fn abort(mut self) -> Result<()> {
        self.close_discarding_buffer();
        self.published_or_removed = true;
        match std::fs::remove_file(&self.tmp_path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(SstableError::Io {
                path: self.tmp_path.clone(),
                source,
            }),
        }
    }

    /// Closes the file without flushing buffered bytes (the file is about to be removed).
    fn close_discarding_buffer(&mut self) {
        if let Some(out) = self.out.take() {
            let (file, _unwritten) = out.into_parts();
            drop(file);
        }
    }

    fn check_usable(&self) -> Result<()> {
        if self.failed || self.out.is_none() {
            return Err(SstableError::WriterFailed {
                path: self.final_path.clone(),
            });
        }
        Ok(())
    }

    fn io_failure(&mut self, source: std::io::Error) -> SstableError {
        self.failed = true;
        SstableError::Io {
            path: self.tmp_path.clone(),
            source,
        }
    }

    fn write_raw(&mut self, bytes: &[u8]) -> Result<()> {
        let res = match self.out.as_mut() {
            Some(out) => out.write_all(bytes),
            None => {
                return Err(SstableError::WriterFailed {
                    path: self.final_path.clone(),
                })
            }
        };
        res.map_err(|e| self.io_failure(e))?;
        self.position += bytes.len() as u64;
        Ok(())
    }

    fn write_section(&mut self, bytes: &[u8]) -> Result<SectionRef> {
        let offset = self.position;
        self.write_raw(bytes)?;
        Ok(SectionRef {
            offset,
            len: bytes.len() as u64,
        })
    }

    /// Bytes of index entries waiting for the current data block to be written.
    fn pending_index_bytes(&self) -> usize {
        self.block_patches.len() * INDEX_RECORD_SIZE_BYTES + self.pending_key_bytes
    }

    /// Adds an index entry for a partition of the current data block, which will be written
    /// at `self.position` (nothing else is written before it).
    fn add_index_entry(
        &mut self,
        token: i64,
        key: &[u8],
        offset_in_block: u32,
        length: u32,
    ) -> Result<()> {
        let limit = |what| SstableError::LimitExceeded {
            path: self.final_path.clone(),
            what,
        };
        let key_offset = u32::try_from(self.index_keys.len())
            .ok()
            .filter(|o| o.checked_add(key.len() as u32).is_some())
            .ok_or_else(|| limit("index block key area"))?;
        let count = self
            .index_count
            .checked_add(1)
            .ok_or_else(|| limit("index block entry count"))?;
        let record_start = self.index_records.len();
        put_index_record(
            &mut self.index_records,
            token,
            self.position,
            offset_in_block,
            length,
            key_offset,
        );
        self.index_keys.extend_from_slice(key);
        self.index_count = count;
        self.index_last_key_offset = key_offset as usize;
        self.block_patches
            .push(record_start + INDEX_RECORD_DISK_LEN_FIELD_OFFSET);
        self.pending_key_bytes += key.len();
        Ok(())
    }

    fn flush_data_block(&mut self) -> Result<()> {
        if self.block_patches.is_empty() {
            return Ok(());
        }
        let body = std::mem::take(&mut self.data_buf);
        let res = self.write_data_block(&body);
        self.data_buf = body;
        self.data_buf.clear();
        res
    }

    /// Writes a data block holding the partitions registered in `block_patches`.
    fn write_data_block(&mut self, body: &[u8]) -> Result<()> {
        let compress = self.config.compression == Compression::Lz4;
        let disk_len = self.write_block(BLOCK_KIND_DATA, body, compress)?;
        for &pos in &self.block_patches {
            self.index_records[pos..pos + 4].copy_from_slice(&disk_len.to_le_bytes());
        }
        self.block_patches.clear();
        self.pending_key_bytes = 0;
        let s = &mut self.stats;
        s.data_block_count += 1;
        s.data_disk_bytes += u64::from(disk_len);
        s.max_block_uncompressed_bytes = s.max_block_uncompressed_bytes.max(body.len() as u32);
        let index_block_len = 4 + self.index_records.len() + self.index_keys.len();
        if index_block_len >= self.config.index_block_size_bytes as usize {
            self.flush_index_block()?;
        }
        Ok(())
    }

    fn flush_index_block(&mut self) -> Result<()> {
        if self.index_count == 0 {
            return Ok(());
        }
        // The summary records the block's last key, read back from our own buffers.
        let last_record = self.index_records.len() - INDEX_RECORD_SIZE_BYTES;
        let mut token_bytes = [0u8; 8];
        token_bytes.copy_from_slice(&self.index_records[last_record..last_record + 8]);
        let last_token = i64::from_le_bytes(token_bytes);
        let last_key = self.index_keys[self.index_last_key_offset..].to_vec();

        let count = self.index_count;
        let mut body = std::mem::take(&mut self.index_body);
        body.clear();
        body.extend_from_slice(&count.to_le_bytes());
        body.extend_from_slice(&self.index_records);
        body.extend_from_slice(&self.index_keys);
        let block_offset = self.position;
        let res = self.write_block(BLOCK_KIND_INDEX, &body, false);
        let body_len = body.len();
        self.index_body = body;
        self.index_records.clear();
        self.index_keys.clear();
        self.index_count = 0;
        let disk_len = res?;

        self.summary_count =
            self.summary_count
                .checked_add(1)
                .ok_or_else(|| SstableError::LimitExceeded {
                    path: self.final_path.clone(),
                    what: "index block count",
                })?;
        put_summary_entry(
            &mut self.summary_buf,
            last_token,
            &last_key,
            block_offset,
            disk_len,
            count,
        );
        let s = &mut self.stats;
        s.index_block_count += 1;
        s.index_disk_bytes += u64::from(disk_len);
        s.max_block_uncompressed_bytes = s.max_block_uncompressed_bytes.max(body_len as u32);
        Ok(())
    }

    /// Frames, checksums and writes one block; returns its on-disk length.
    fn write_block(&mut self, kind: u8, body: &[u8], compress: bool) -> Result<u32> {
        let uncompressed_len =
            u32::try_from(body.len()).map_err(|_| SstableError::LimitExceeded {
                path: self.final_path.clone(),
                what: "block size",
            })?;
        let mut codec = CODEC_NONE;
        let mut compressed_len = 0usize;
        if compress && !body.is_empty() {
            let max = lz4_flex::block::get_maximum_output_size(body.len());
            if self.compress_buf.len() < max {
                self.compress_buf.resize(max, 0);
            }
            if let Ok(n) = lz4_flex::block::compress_into(body, &mut self.compress_buf[..max]) {
                if n < body.len() {
                    codec = CODEC_LZ4;
                    compressed_len = n;
                }
            }
        }
        let stored: &[u8] = if codec == CODEC_LZ4 {
            &self.compress_buf[..compressed_len]
        } else {
            body
        };
        let disk_len = u32::try_from(BLOCK_HEADER_SIZE_BYTES + stored.len()).map_err(|_| {
            SstableError::LimitExceeded {
                path: self.final_path.clone(),
                what: "block size",
            }
        })?;
        let header = encode_block_header(kind, codec, stored, uncompressed_len);
        let res = match self.out.as_mut() {
            Some(out) => out.write_all(&header).and_then(|()| out.write_all(stored)),
            None => {
                return Err(SstableError::WriterFailed {
                    path: self.final_path.clone(),
                })
            }
        };
        // Do not keep a huge scratch buffer around after an oversized partition.
        let retain =
            2 * lz4_flex::block::get_maximum_output_size(self.config.block_size_bytes as usize);
        if self.compress_buf.len() > retain {
            self.compress_buf = Vec::new();
        }
        res.map_err(|e| self.io_failure(e))?;
        self.position += u64::from(disk_len);
        Ok(disk_len)
    }
}

impl Drop for SstableWriter {
    fn drop(&mut self) {
        if !self.published_or_removed {
            self.close_discarding_buffer();
            if let Err(e) = std::fs::remove_file(&self.tmp_path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(path = %self.tmp_path.display(), error = %e, "failed to remove temporary sstable");
                }
            }
        }
    }
}

fn sync_parent_dir(path: &Path) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}

/// Builds the public summary from the writer statistics.
pub(crate) fn build_summary(
    w: &WriterStats,
    bloom_size_bytes: u64,
    file_size_bytes: u64,
) -> SstableSummary {
    let key = |k: &Option<(i64, Vec<u8>)>| {
        k.as_ref().map(|(token, key)| SstableKey {
            token: *token,
            key: Bytes::copy_from_slice(key),
        })
    };
    SstableSummary {
        partition_count: w.partition_count,
        first_key: key(&w.first_key),
        last_key: key(&w.last_key),
        data_block_count: w.data_block_count,
        index_block_count: w.index_block_count,
        data_size_uncompressed_bytes: w.data_uncompressed_bytes,
        data_size_compressed_bytes: w.data_disk_bytes,
        index_size_bytes: w.index_disk_bytes,
        bloom_size_bytes,
        max_partition_size_bytes: w.max_partition_bytes,
        file_size_bytes,
    }
}
