//! [`Sstable`]: an opened, validated SSTable file, shareable across threads, with point
//! lookups and bounded-memory streaming iteration.
//!
//! Invariants:
//! - `open` validates the footer, the file header, the layout, and the CRC32C of the summary,
//!   bloom and statistics sections, and cross-checks them; blocks are validated (CRC32C, kind,
//!   lengths) each time they are read from disk. Only validated blocks enter a [`BlockCache`].
//! - reads use positioned I/O (`pread`) on a shared file handle, so concurrent readers need no
//!   lock; the only shared mutable state is statistics counters and the optional cache.
//! - resident memory: the summary (one entry per index block) and the bloom filter; an
//!   iterator additionally holds one index block and one data block.
//! - every error caused by file content is [`SstableError::Corrupt`] with the path and the
//!   absolute byte offset of the damaged structure.

use std::cmp::Ordering;
use std::fs::File;
use std::ops::Bound;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;

use bytes::Bytes;
use fastbloom::BloomFilter;

use super::bloom::{decode_section, key_hash};
use super::cache::BlockCache;
use super::format::{
    check_file_header, compare_keys, decode_block, decode_footer, decode_stats, decode_summary,
    Corruption, FooterError, IndexBlockView, SectionRef, SummaryEntry, BLOCK_HEADER_SIZE_BYTES,
    BLOCK_KIND_DATA, BLOCK_KIND_INDEX, FILE_HEADER_SIZE_BYTES, FOOTER_SIZE_BYTES, FORMAT_VERSION,
};
use super::writer::build_summary;
use super::{Result, SstableError, SstableStats, SstableSummary};

/// Source of per-process unique table ids (block cache keys).
static NEXT_TABLE_ID: AtomicU64 = AtomicU64::new(1);

/// Options for [`Sstable::open_with`].
#[derive(Debug, Clone, Default)]
pub struct SstableOpenOptions {
    /// Cache for decompressed blocks read by point lookups (iterators read through it but do
    /// not fill it). Typically one cache is shared by every open table.
    pub block_cache: Option<Arc<BlockCache>>,
}

/// Read-path counters of one open table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SstableReadStats {
    /// `get`s that the bloom filter let through and that found the partition.
    pub bloom_true_positives: u64,
    /// `get`s that the bloom filter let through but that found nothing.
    pub bloom_false_positives: u64,
}

struct Inner {
    path: PathBuf,
    file: File,
    table_id: u64,
    file_size_bytes: u64,
    blocks: SectionRef,
    summary_entries: Vec<SummaryEntry>,
    /// `summary_entries[i].last_token`, contiguous so the search stays in few cache lines.
    summary_tokens: Vec<i64>,
    bloom: Option<BloomFilter>,
    bloom_fp_rate: f64,
    stats: SstableStats,
    summary: SstableSummary,
    max_block_uncompressed_bytes: u32,
    cache: Option<Arc<BlockCache>>,
    bloom_true_positives: AtomicU64,
    bloom_false_positives: AtomicU64,
}

/// An open SSTable. Cloning is cheap (shared handle); all methods take `&self` and may be
/// called concurrently from any number of threads.
#[derive(Clone)]
pub struct Sstable {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Sstable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sstable")
            .field("path", &self.inner.path)
            .field("partitions", &self.inner.summary.partition_count)
            .field("file_size_bytes", &self.inner.file_size_bytes)
            .finish()
    }
}

fn io_error(path: &Path, source: std::io::Error) -> SstableError {
    SstableError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn corrupt(path: &Path, c: Corruption) -> SstableError {
    SstableError::Corrupt {
        path: path.to_path_buf(),
        offset_bytes: c.offset_bytes,
        reason: c.reason,
    }
}

/// Reads exactly `len` bytes at `offset`; a short file is reported as corruption.
fn read_exact_at(file: &File, path: &Path, offset: u64, len: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    match file.read_exact_at(&mut buf, offset) {
        Ok(()) => Ok(buf),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(corrupt(
            path,
            Corruption::new(
                offset,
                format!("file ends inside a {len}-byte read (truncated after open?)"),
            ),
        )),
        Err(e) => Err(io_error(path, e)),
    }
}

/// Reads a section and verifies its checksum.
fn read_section(
    file: &File,
    path: &Path,
    section: SectionRef,
    expected_crc: u32,
    name: &str,
) -> Result<Vec<u8>> {
    let len = usize::try_from(section.len).map_err(|_| {
        corrupt(
            path,
            Corruption::new(section.offset, format!("{name} section too large")),
        )
    })?;
    let buf = read_exact_at(file, path, section.offset, len)?;
    let crc = crc32c::crc32c(&buf);
    if crc != expected_crc {
        return Err(corrupt(
            path,
            Corruption::new(
                section.offset,
                format!("{name} section checksum mismatch (stored {expected_crc:#010x}, computed {crc:#010x})"),
            ),
        ));
    }
    Ok(buf)
}

impl Sstable {
    /// Opens and validates the SSTable at `path` without a block cache.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, SstableOpenOptions::default())
    }

    /// Opens and validates the SSTable at `path`.
    pub fn open_with(path: impl AsRef<Path>, options: SstableOpenOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|e| io_error(&path, e))?;
        let file_size_bytes = file.metadata().map_err(|e| io_error(&path, e))?.len();
        if file_size_bytes < FILE_HEADER_SIZE_BYTES + FOOTER_SIZE_BYTES {
            return Err(corrupt(
                &path,
                Corruption::new(
                    file_size_bytes,
                    format!("file of {file_size_bytes} bytes is too small to be an SSTable"),
                ),
            ));
        }
        let footer_offset = file_size_bytes - FOOTER_SIZE_BYTES;
        let footer_buf = read_exact_at(&file, &path, footer_offset, FOOTER_SIZE_BYTES as usize)?;
        let footer = decode_footer(&footer_buf, footer_offset).map_err(|e| match e {
            FooterError::Corrupt(c) => corrupt(&path, c),
            FooterError::UnsupportedVersion(found) => SstableError::UnsupportedVersion {
                path: path.clone(),
                found,
                supported: FORMAT_VERSION,
            },
        })?;
        let header = read_exact_at(&file, &path, 0, FILE_HEADER_SIZE_BYTES as usize)?;
        check_file_header(&header).map_err(|c| corrupt(&path, c))?;

        let stats_buf = read_section(&file, &path, footer.stats, footer.stats_crc, "statistics")?;
        let (writer_stats, stats) =
            decode_stats(&stats_buf, footer.stats.offset).map_err(|c| corrupt(&path, c))?;
        drop(stats_buf);

        let summary_buf = Bytes::from(read_section(
            &file,
            &path,
            footer.summary,
            footer.summary_crc,
            "summary",
        )?);
        let summary_entries = decode_summary(&summary_buf, footer.summary.offset, footer.blocks)
            .map_err(|c| corrupt(&path, c))?;

        let bloom_buf = read_section(&file, &path, footer.bloom, footer.bloom_crc, "bloom")?;
        let (mut bloom, bloom_fp_rate) =
            decode_section(&bloom_buf, footer.bloom.offset).map_err(|c| corrupt(&path, c))?;
        drop(bloom_buf);

        // Cross-checks between sections (all individually checksummed; these catch writer
        // bugs and crafted files).
        let stats_at = footer.stats.offset;
        let fail = |reason: String| Err(corrupt(&path, Corruption::new(stats_at, reason)));
        if summary_entries.len() as u64 != writer_stats.index_block_count {
            return fail(format!(
                "summary has {} entries but statistics report {} index blocks",
                summary_entries.len(),
                writer_stats.index_block_count
            ));
        }
        let indexed: u64 = summary_entries
            .iter()
            .map(|e| u64::from(e.entry_count))
            .sum();
        if indexed != writer_stats.partition_count {
            return fail(format!(
                "index blocks hold {indexed} entries but statistics report {} partitions",
                writer_stats.partition_count
            ));
        }
        match (summary_entries.last(), &writer_stats.last_key) {
            (None, None) => {}
            (Some(e), Some((token, key)))
                if e.last_token == *token && e.last_key[..] == key[..] => {}
            _ => return fail("summary and statistics disagree on the last key".to_string()),
        }
        if writer_stats
            .data_disk_bytes
            .checked_add(writer_stats.index_disk_bytes)
            != Some(footer.blocks.len)
        {
            return fail("block sizes in statistics do not add up to the block region".to_string());
        }
        // The bloom probe layout is part of the format; if it ever stopped matching (a
        // library change), reads would silently miss data. Detect that and degrade to "no
        // filter" instead.
        if let (Some(filter), Some((ft, fk)), Some((lt, lk))) =
            (&bloom, &writer_stats.first_key, &writer_stats.last_key)
        {
            if !filter.contains_hash(key_hash(*ft, fk)) || !filter.contains_hash(key_hash(*lt, lk))
            {
                tracing::warn!(path = %path.display(), "bloom filter does not contain the table's own keys; ignoring it");
                bloom = None;
            }
        }

        let summary = build_summary(&writer_stats, footer.bloom.len, file_size_bytes);
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                file,
                table_id: NEXT_TABLE_ID.fetch_add(1, AtomicOrdering::Relaxed),
                file_size_bytes,
                blocks: footer.blocks,
                summary_tokens: summary_entries.iter().map(|e| e.last_token).collect(),
                summary_entries,
                bloom,
                bloom_fp_rate,
                stats,
                summary,
                max_block_uncompressed_bytes: writer_stats.max_block_uncompressed_bytes,
                cache: options.block_cache,
                bloom_true_positives: AtomicU64::new(0),
                bloom_false_positives: AtomicU64::new(0),
            }),
        })
    }

    /// Path the table was opened from.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Size of the file in bytes.
    pub fn file_size_bytes(&self) -> u64 {
        self.inner.file_size_bytes
    }

    /// Caller-supplied statistics stored at write time.
    pub fn stats(&self) -> &SstableStats {
        &self.inner.stats
    }

    /// Writer-computed facts (partition count, key/token range, sizes).
    pub fn summary(&self) -> &SstableSummary {
        &self.inner.summary
    }

    /// False-positive rate the bloom filter was built for (`1.0` if the file has none).
    pub fn bloom_fp_rate(&self) -> f64 {
        if self.inner.bloom.is_some() {
            self.inner.bloom_fp_rate
        } else {
            1.0
        }
    }

    /// Read-path counters since open.
    pub fn read_stats(&self) -> SstableReadStats {
        SstableReadStats {
            bloom_true_positives: self
                .inner
                .bloom_true_positives
                .load(AtomicOrdering::Relaxed),
            bloom_false_positives: self
                .inner
                .bloom_false_positives
                .load(AtomicOrdering::Relaxed),
        }
    }

    /// `false` if the partition is certainly absent (outside the key range or rejected by
    /// the bloom filter); `true` if it may be present.
    pub fn may_contain(&self, token: i64, key: &[u8]) -> bool {
        let s = &self.inner.summary;
        let (Some(first), Some(last)) = (&s.first_key, &s.last_key) else {
            return false;
        };
        if compare_keys((token, key), (first.token, &first.key)) == Ordering::Less
            || compare_keys((token, key), (last.token, &last.key)) == Ordering::Greater
        {
            return false;
        }
        match &self.inner.bloom {
            Some(filter) => filter.contains_hash(key_hash(token, key)),
            None => true,
        }
    }

    /// Returns the data blob of the partition `(token, key)`, if present. Cost: a bloom
    /// probe, a binary search of the resident summary, then at most one index block and one
    /// data block read (each a single `pread`, or a cache hit).
    pub fn get(&self, token: i64, key: &[u8]) -> Result<Option<Bytes>> {
        if !self.may_contain(token, key) {
            return Ok(None);
        }
        let inner = &*self.inner;
        let target = (token, key);
        let idx = inner.summary_lower_bound(target, false);
        let found = match inner.summary_entries.get(idx) {
            None => None,
            Some(entry) => {
                let index_block = inner.load_block(
                    entry.block_offset,
                    entry.block_disk_len,
                    BLOCK_KIND_INDEX,
                    true,
                )?;
                let body_offset = entry.block_offset + BLOCK_HEADER_SIZE_BYTES as u64;
                let view = IndexBlockView::parse(&index_block, body_offset)
                    .map_err(|c| corrupt(&inner.path, c))?;
                let pos = view
                    .lower_bound(target, false)
                    .map_err(|c| corrupt(&inner.path, c))?;
                if pos < view.len() {
                    let e = view.entry(pos).map_err(|c| corrupt(&inner.path, c))?;
                    if e.token == token && e.key == key {
                        let block = inner.load_block(
                            e.block_offset,
                            e.block_disk_len,
                            BLOCK_KIND_DATA,
                            true,
                        )?;
                        Some(inner.slice_partition(
                            &block,
                            e.block_offset,
                            e.offset_in_block,
                            e.length,
                        )?)
                    } else {
                        None
                    }
                } else {
                    None
                }
            }
        };
        if inner.bloom.is_some() {
            let counter = if found.is_some() {
                &inner.bloom_true_positives
            } else {
                &inner.bloom_false_positives
            };
            counter.fetch_add(1, AtomicOrdering::Relaxed);
        }
        Ok(found)
    }

    /// Iterates over every partition in key order.
    pub fn iter(&self) -> SstableIter {
        self.iter_range(Bound::Unbounded, Bound::Unbounded)
    }

    /// Iterates over the partitions whose `(token, key)` lies within the bounds, in key order,
    /// block by block (one index block and one data block resident at a time).
    pub fn iter_range(&self, start: Bound<(i64, &[u8])>, end: Bound<(i64, &[u8])>) -> SstableIter {
        let own = |b: Bound<(i64, &[u8])>| match b {
            Bound::Included((t, k)) => Bound::Included((t, Bytes::copy_from_slice(k))),
            Bound::Excluded((t, k)) => Bound::Excluded((t, Bytes::copy_from_slice(k))),
            Bound::Unbounded => Bound::Unbounded,
        };
        SstableIter::new(self.inner.clone(), own(start), own(end))
    }

    /// Iterates over the partitions whose token lies within the bounds (all keys of a token).
    pub fn iter_token_range(&self, start: Bound<i64>, end: Bound<i64>) -> SstableIter {
        // The empty key is the smallest key of a token.
        let mut empty = false;
        let start = match start {
            Bound::Included(t) => Bound::Included((t, Bytes::new())),
            Bound::Excluded(t) => match t.checked_add(1) {
                Some(next) => Bound::Included((next, Bytes::new())),
                None => {
                    empty = true;
                    Bound::Unbounded
                }
            },
            Bound::Unbounded => Bound::Unbounded,
        };
        let end = match end {
            Bound::Included(t) => match t.checked_add(1) {
                Some(next) => Bound::Excluded((next, Bytes::new())),
                None => Bound::Unbounded,
            },
            Bound::Excluded(t) => Bound::Excluded((t, Bytes::new())),
            Bound::Unbounded => Bound::Unbounded,
        };
        let mut it = SstableIter::new(self.inner.clone(), start, end);
        it.done = empty;
        it
    }
}

impl Inner {
    /// Index of the first index block whose last key is `>= target` (`> target` when
    /// `strict`), i.e. the only block that can hold `target` or the first key after it;
    /// `summary_entries.len()` if none.
    fn summary_lower_bound(&self, target: (i64, &[u8]), strict: bool) -> usize {
        let tokens = &self.summary_tokens;
        let lo = tokens.partition_point(|&t| t < target.0);
        let hi = lo
            + tokens
                .get(lo..)
                .map_or(0, |rest| rest.partition_point(|&t| t == target.0));
        // Blocks [lo, hi) end with the target's token: compare keys among them only.
        let tied = self.summary_entries.get(lo..hi).unwrap_or_default();
        lo + tied.partition_point(|e| {
            let ord = e.last_key[..].cmp(target.1);
            if strict {
                ord != Ordering::Greater
            } else {
                ord == Ordering::Less
            }
        })
    }

    /// Returns the verified, decompressed body of the block at `offset`.
    fn load_block(&self, offset: u64, disk_len: u32, kind: u8, fill_cache: bool) -> Result<Bytes> {
        if let Some(cache) = &self.cache {
            if let Some((cached_kind, block)) = cache.get(self.table_id, offset) {
                if cached_kind != kind {
                    return Err(corrupt(
                        &self.path,
                        Corruption::new(
                            offset,
                            format!("block of kind {cached_kind} referenced as kind {kind}"),
                        ),
                    ));
                }
                return Ok(block);
            }
        }
        let end = offset.checked_add(u64::from(disk_len));
        let blocks_end = self.blocks.end().unwrap_or(0);
        if offset < self.blocks.offset
            || end.is_none_or(|e| e > blocks_end)
            || (disk_len as usize) < BLOCK_HEADER_SIZE_BYTES
        {
            return Err(corrupt(
                &self.path,
                Corruption::new(
                    offset,
                    format!("reference to a {disk_len}-byte block outside the block region"),
                ),
            ));
        }
        let raw = read_exact_at(&self.file, &self.path, offset, disk_len as usize)?;
        let body = decode_block(raw, offset, kind, self.max_block_uncompressed_bytes)
            .map_err(|c| corrupt(&self.path, c))?;
        if fill_cache {
            if let Some(cache) = &self.cache {
                cache.insert(self.table_id, offset, kind, body.clone());
            }
        }
        Ok(body)
    }

    fn slice_partition(
        &self,
        block: &Bytes,
        block_offset: u64,
        offset_in_block: u32,
        length: u32,
    ) -> Result<Bytes> {
        let start = offset_in_block as usize;
        match start.checked_add(length as usize) {
            Some(end) if end <= block.len() => Ok(block.slice(start..end)),
            _ => Err(corrupt(
                &self.path,
                Corruption::new(
                    block_offset,
                    format!(
                        "partition [{start}, +{length}) extends past the end of its {}-byte block",
                        block.len()
                    ),
                ),
            )),
        }
    }
}

/// The index block an iterator is walking.
struct IndexCursor {
    body: Bytes,
    body_offset: u64,
    summary_idx: usize,
    next: usize,
}

/// Streaming iterator over a key range of an [`Sstable`]; yields `(token, key, data)`.
/// Holds the table open (shared handle). After the first error it yields nothing more.
pub struct SstableIter {
    inner: Arc<Inner>,
    start: Bound<(i64, Bytes)>,
    end: Bound<(i64, Bytes)>,
    positioned: bool,
    done: bool,
    next_summary: usize,
    index: Option<IndexCursor>,
    data: Option<(u64, Bytes)>,
    prev: Option<(i64, Bytes)>,
}

impl std::fmt::Debug for SstableIter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SstableIter")
            .field("path", &self.inner.path)
            .field("done", &self.done)
            .finish()
    }
}

impl SstableIter {
    fn new(inner: Arc<Inner>, start: Bound<(i64, Bytes)>, end: Bound<(i64, Bytes)>) -> Self {
        Self {
            inner,
            start,
            end,
            positioned: false,
            done: false,
            next_summary: 0,
            index: None,
            data: None,
            prev: None,
        }
    }

    fn load_index(&self, summary_idx: usize) -> Result<IndexCursor> {
        let inner = &*self.inner;
        let entry = inner.summary_entries.get(summary_idx).ok_or_else(|| {
            corrupt(
                &inner.path,
                Corruption::new(inner.blocks.offset, "summary index out of range"),
            )
        })?;
        let body = inner.load_block(
            entry.block_offset,
            entry.block_disk_len,
            BLOCK_KIND_INDEX,
            false,
        )?;
        let body_offset = entry.block_offset + BLOCK_HEADER_SIZE_BYTES as u64;
        let view =
            IndexBlockView::parse(&body, body_offset).map_err(|c| corrupt(&inner.path, c))?;
        if view.len() != entry.entry_count as usize {
            return Err(corrupt(
                &inner.path,
                Corruption::new(
                    entry.block_offset,
                    format!(
                        "index block holds {} entries, summary says {}",
                        view.len(),
                        entry.entry_count
                    ),
                ),
            ));
        }
        Ok(IndexCursor {
            body,
            body_offset,
            summary_idx,
            next: 0,
        })
    }

    /// Seeks to the first entry at or after the start bound.
    fn position(&mut self) -> Result<()> {
        let (target, strict) = match &self.start {
            Bound::Unbounded => return Ok(()),
            Bound::Included((t, k)) => ((*t, k.clone()), false),
            Bound::Excluded((t, k)) => ((*t, k.clone()), true),
        };
        let target_ref = (target.0, &target.1[..]);
        let idx = self.inner.summary_lower_bound(target_ref, strict);
        if idx >= self.inner.summary_entries.len() {
            self.done = true;
            return Ok(());
        }
        let mut cursor = self.load_index(idx)?;
        let view = IndexBlockView::parse(&cursor.body, cursor.body_offset)
            .map_err(|c| corrupt(&self.inner.path, c))?;
        cursor.next = view
            .lower_bound(target_ref, strict)
            .map_err(|c| corrupt(&self.inner.path, c))?;
        self.index = Some(cursor);
        self.next_summary = idx + 1;
        Ok(())
    }

    fn past_end(&self, token: i64, key: &[u8]) -> bool {
        match &self.end {
            Bound::Unbounded => false,
            Bound::Included((t, k)) => compare_keys((token, key), (*t, k)) == Ordering::Greater,
            Bound::Excluded((t, k)) => compare_keys((token, key), (*t, k)) != Ordering::Less,
        }
    }

    fn advance(&mut self) -> Result<Option<(i64, Bytes, Bytes)>> {
        if !self.positioned {
            self.positioned = true;
            self.position()?;
            if self.done {
                return Ok(None);
            }
        }
        loop {
            let Some(cursor) = &self.index else {
                if self.next_summary >= self.inner.summary_entries.len() {
                    return Ok(None);
                }
                self.index = Some(self.load_index(self.next_summary)?);
                self.next_summary += 1;
                continue;
            };
            let inner = &*self.inner;
            let view = IndexBlockView::parse(&cursor.body, cursor.body_offset)
                .map_err(|c| corrupt(&inner.path, c))?;
            if cursor.next >= view.len() {
                self.index = None;
                continue;
            }
            let e = view
                .entry(cursor.next)
                .map_err(|c| corrupt(&inner.path, c))?;
            let entry_offset = cursor.body_offset; // precise enough: the index block body
            if self.past_end(e.token, e.key) {
                return Ok(None);
            }
            if let Some((pt, pk)) = &self.prev {
                if compare_keys((*pt, pk), (e.token, e.key)) != Ordering::Less {
                    return Err(corrupt(
                        &inner.path,
                        Corruption::new(
                            entry_offset,
                            "index entries are not in strictly increasing key order",
                        ),
                    ));
                }
            }
            if cursor.next + 1 == view.len() {
                let s = inner.summary_entries.get(cursor.summary_idx);
                if s.is_none_or(|s| s.last_token != e.token || s.last_key[..] != *e.key) {
                    return Err(corrupt(
                        &inner.path,
                        Corruption::new(
                            entry_offset,
                            "last key of index block disagrees with the summary",
                        ),
                    ));
                }
            }
            let key = cursor.body.slice_ref(e.key);
            let (token, block_offset, block_disk_len, offset_in_block, length) = (
                e.token,
                e.block_offset,
                e.block_disk_len,
                e.offset_in_block,
                e.length,
            );
            let block = match &self.data {
                Some((off, block)) if *off == block_offset => block.clone(),
                _ => {
                    let block =
                        inner.load_block(block_offset, block_disk_len, BLOCK_KIND_DATA, false)?;
                    self.data = Some((block_offset, block.clone()));
                    block
                }
            };
            let data = inner.slice_partition(&block, block_offset, offset_in_block, length)?;
            if let Some(cursor) = &mut self.index {
                cursor.next += 1;
            }
            self.prev = Some((token, key.clone()));
            return Ok(Some((token, key, data)));
        }
    }
}

impl Iterator for SstableIter {
    type Item = Result<(i64, Bytes, Bytes)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.advance() {
            Ok(Some(item)) => Some(Ok(item)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
