//! On-disk layout of an SSTable file (format version 1): constants, the fixed-size file header
//! and footer, block framing, the summary / bloom / statistics section encodings, and a
//! bounds-checked little-endian decoder.
//!
//! Everything here is pure (no I/O). The byte-level specification lives in
//! `docs/sstable-format.md`; this module is its executable form. Invariants:
//! - every multi-byte integer is little-endian;
//! - every byte of a valid file is covered either by a CRC32C or by an exact-value check
//!   (magic, version, reserved zeros), so there is no unchecked padding;
//! - decoders never index out of bounds: every read goes through [`Decoder`], which returns a
//!   [`Corruption`] naming the absolute file offset of the offending field.

use std::cmp::Ordering;

use bytes::Bytes;

use super::SstableStats;

/// Magic bytes at the start of the file header and of the footer.
pub(crate) const MAGIC: [u8; 8] = *b"MERIDSST";
/// The (only) on-disk format version this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Size of the file header: magic (8) + format version (4) + flags (4).
pub(crate) const FILE_HEADER_SIZE_BYTES: u64 = 16;
/// Size of the fixed footer at the end of the file.
pub(crate) const FOOTER_SIZE_BYTES: u64 = 96;
/// Size of the header in front of every block.
pub(crate) const BLOCK_HEADER_SIZE_BYTES: usize = 16;

/// Block kind byte: a data block (concatenated partition blobs).
pub(crate) const BLOCK_KIND_DATA: u8 = 1;
/// Block kind byte: a partition-index block.
pub(crate) const BLOCK_KIND_INDEX: u8 = 2;
/// Block codec byte: body stored as is.
pub(crate) const CODEC_NONE: u8 = 0;
/// Block codec byte: body is an LZ4 block (raw LZ4 block format, no frame, no size prefix).
pub(crate) const CODEC_LZ4: u8 = 1;

/// Size of an index record: token (8) + block offset (8) + block disk length (4) + offset in
/// block (4) + partition length (4) + key offset in the key area (4).
pub(crate) const INDEX_RECORD_SIZE_BYTES: usize = 32;
/// Offset of the "block disk length" field inside an index record (patched by the writer).
pub(crate) const INDEX_RECORD_DISK_LEN_FIELD_OFFSET: usize = 16;
/// Fixed part of a summary entry: last token (8) + index block offset (8) + index block disk
/// length (4) + entry count (4) + last key length (2).
pub(crate) const SUMMARY_ENTRY_FIXED_SIZE_BYTES: usize = 26;
/// Fixed part of the bloom section: hash count (4) + reserved (4) + fp rate (8) + word count (8).
pub(crate) const BLOOM_SECTION_FIXED_SIZE_BYTES: usize = 24;

/// Largest accepted partition key, in bytes (Cassandra's limit: lengths are `u16`).
pub const MAX_KEY_SIZE_BYTES: usize = u16::MAX as usize;
/// Hard upper bound on one partition's data blob (and therefore on any block's uncompressed
/// size). Keeps every length in a `u32` and well below LZ4's block input limit.
pub const MAX_PARTITION_SIZE_BYTES: u32 = 1 << 30;
/// Largest accepted caller-supplied clustering bound in [`SstableStats`].
pub const MAX_CLUSTERING_STAT_SIZE_BYTES: usize = 1 << 20;
/// Largest accepted [`SstableStats::extra`] payload.
pub const MAX_EXTRA_STATS_SIZE_BYTES: usize = 16 << 20;
/// Upper bound of LZ4's expansion ratio (a match byte encodes at most 255 output bytes).
const LZ4_MAX_EXPANSION: u64 = 256;
/// Largest number of hash functions accepted in a serialized bloom filter.
pub(crate) const MAX_BLOOM_HASHES: u32 = 64;

/// A decoding failure at an absolute file offset. The reader attaches the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Corruption {
    pub(crate) offset_bytes: u64,
    pub(crate) reason: String,
}

impl Corruption {
    pub(crate) fn new(offset_bytes: u64, reason: impl Into<String>) -> Self {
        Self {
            offset_bytes,
            reason: reason.into(),
        }
    }
}

/// Compares two partition keys in SSTable order: token as signed integer, then key bytes as
/// unsigned lexicographic (Cassandra's `DecoratedKey` order).
#[inline]
pub fn compare_keys(a: (i64, &[u8]), b: (i64, &[u8])) -> Ordering {
    a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1))
}

/// Bounds-checked little-endian reader over a byte slice that sits at `base_offset` in the file.
pub(crate) struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    base_offset: u64,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(buf: &'a [u8], base_offset: u64) -> Self {
        Self {
            buf,
            pos: 0,
            base_offset,
        }
    }

    /// Absolute file offset of the next byte to be read.
    pub(crate) fn offset(&self) -> u64 {
        self.base_offset.saturating_add(self.pos as u64)
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub(crate) fn bytes(&mut self, len: usize, what: &str) -> Result<&'a [u8], Corruption> {
        let end = self.pos.checked_add(len).filter(|&e| e <= self.buf.len());
        match end {
            Some(end) => {
                let out = &self.buf[self.pos..end];
                self.pos = end;
                Ok(out)
            }
            None => Err(Corruption::new(
                self.offset(),
                format!(
                    "truncated {what}: need {len} bytes, {} left",
                    self.remaining()
                ),
            )),
        }
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], Corruption> {
        let slice = self.bytes(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8, Corruption> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &str) -> Result<u16, Corruption> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn u32(&mut self, what: &str) -> Result<u32, Corruption> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn u64(&mut self, what: &str) -> Result<u64, Corruption> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn i64(&mut self, what: &str) -> Result<i64, Corruption> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    /// Fails unless every byte has been consumed.
    pub(crate) fn finish(&self, what: &str) -> Result<(), Corruption> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(Corruption::new(
                self.offset(),
                format!("{} unexpected trailing bytes in {what}", self.remaining()),
            ))
        }
    }
}

pub(crate) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}
pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}
pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}
pub(crate) fn put_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(&v.to_le_bytes());
}

// ---------------------------------------------------------------------------------------------
// File header
// ---------------------------------------------------------------------------------------------

pub(crate) fn encode_file_header() -> [u8; FILE_HEADER_SIZE_BYTES as usize] {
    let mut out = [0u8; FILE_HEADER_SIZE_BYTES as usize];
    out[0..8].copy_from_slice(&MAGIC);
    out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    // bytes 12..16: flags, must be zero in version 1.
    out
}

pub(crate) fn check_file_header(buf: &[u8]) -> Result<(), Corruption> {
    let mut d = Decoder::new(buf, 0);
    if d.bytes(8, "file magic")? != MAGIC {
        return Err(Corruption::new(0, "bad file header magic"));
    }
    let version = d.u32("file header version")?;
    if version != FORMAT_VERSION {
        return Err(Corruption::new(
            8,
            format!("file header version {version} does not match footer version {FORMAT_VERSION}"),
        ));
    }
    if d.u32("file header flags")? != 0 {
        return Err(Corruption::new(12, "non-zero file header flags"));
    }
    d.finish("file header")
}

// ---------------------------------------------------------------------------------------------
// Footer
// ---------------------------------------------------------------------------------------------

/// Location of a checksummed section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SectionRef {
    pub(crate) offset: u64,
    pub(crate) len: u64,
}

impl SectionRef {
    pub(crate) fn end(&self) -> Option<u64> {
        self.offset.checked_add(self.len)
    }
}

/// Decoded footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Footer {
    pub(crate) blocks: SectionRef,
    pub(crate) summary: SectionRef,
    pub(crate) bloom: SectionRef,
    pub(crate) stats: SectionRef,
    pub(crate) summary_crc: u32,
    pub(crate) bloom_crc: u32,
    pub(crate) stats_crc: u32,
}

pub(crate) fn encode_footer(f: &Footer) -> [u8; FOOTER_SIZE_BYTES as usize] {
    let mut v = Vec::with_capacity(FOOTER_SIZE_BYTES as usize);
    v.extend_from_slice(&MAGIC);
    put_u32(&mut v, FORMAT_VERSION);
    put_u32(&mut v, 0); // flags
    for s in [f.blocks, f.summary, f.bloom, f.stats] {
        put_u64(&mut v, s.offset);
        put_u64(&mut v, s.len);
    }
    put_u32(&mut v, f.summary_crc);
    put_u32(&mut v, f.bloom_crc);
    put_u32(&mut v, f.stats_crc);
    let crc = crc32c::crc32c(&v);
    put_u32(&mut v, crc);
    let mut out = [0u8; FOOTER_SIZE_BYTES as usize];
    out.copy_from_slice(&v);
    out
}

/// Outcome of footer decoding that is not plain corruption.
#[derive(Debug)]
pub(crate) enum FooterError {
    Corrupt(Corruption),
    UnsupportedVersion(u32),
}

impl From<Corruption> for FooterError {
    fn from(c: Corruption) -> Self {
        FooterError::Corrupt(c)
    }
}

/// Decodes and validates the footer found at `footer_offset` (= file size - footer size),
/// including the layout rule that sections are contiguous, in order, and cover the whole file.
pub(crate) fn decode_footer(buf: &[u8], footer_offset: u64) -> Result<Footer, FooterError> {
    let mut d = Decoder::new(buf, footer_offset);
    if d.bytes(8, "footer magic")? != MAGIC {
        return Err(Corruption::new(
            footer_offset,
            "bad footer magic (not an SSTable, or truncated)",
        )
        .into());
    }
    let body_len = FOOTER_SIZE_BYTES as usize - 4;
    let stored_crc_bytes = buf
        .get(body_len..FOOTER_SIZE_BYTES as usize)
        .ok_or_else(|| Corruption::new(footer_offset, "footer too short"))?;
    let stored_crc = u32::from_le_bytes([
        stored_crc_bytes[0],
        stored_crc_bytes[1],
        stored_crc_bytes[2],
        stored_crc_bytes[3],
    ]);
    let computed = crc32c::crc32c(buf.get(..body_len).unwrap_or_default());
    if computed != stored_crc {
        return Err(Corruption::new(
            footer_offset,
            format!(
                "footer checksum mismatch (stored {stored_crc:#010x}, computed {computed:#010x})"
            ),
        )
        .into());
    }
    let version = d.u32("footer version")?;
    if version != FORMAT_VERSION {
        return Err(FooterError::UnsupportedVersion(version));
    }
    let flags_offset = d.offset();
    if d.u32("footer flags")? != 0 {
        return Err(Corruption::new(flags_offset, "non-zero footer flags").into());
    }
    let mut sections = [SectionRef { offset: 0, len: 0 }; 4];
    for s in &mut sections {
        s.offset = d.u64("section offset")?;
        s.len = d.u64("section length")?;
    }
    let footer = Footer {
        blocks: sections[0],
        summary: sections[1],
        bloom: sections[2],
        stats: sections[3],
        summary_crc: d.u32("summary crc")?,
        bloom_crc: d.u32("bloom crc")?,
        stats_crc: d.u32("stats crc")?,
    };
    d.u32("footer crc")?;
    d.finish("footer")?;

    // Layout: header | blocks | summary | bloom | stats | footer, contiguous, no gaps.
    let mut expected = FILE_HEADER_SIZE_BYTES;
    for (name, s) in [
        ("blocks", footer.blocks),
        ("summary", footer.summary),
        ("bloom", footer.bloom),
        ("stats", footer.stats),
    ] {
        if s.offset != expected {
            return Err(Corruption::new(
                footer_offset,
                format!(
                    "{name} section starts at {} but {expected} was expected",
                    s.offset
                ),
            )
            .into());
        }
        expected = s.end().ok_or_else(|| {
            Corruption::new(footer_offset, format!("{name} section length overflows"))
        })?;
    }
    if expected != footer_offset {
        return Err(Corruption::new(
            footer_offset,
            format!("sections end at {expected} but the footer starts at {footer_offset}"),
        )
        .into());
    }
    Ok(footer)
}

// ---------------------------------------------------------------------------------------------
// Blocks
// ---------------------------------------------------------------------------------------------

/// Builds the 16-byte block header; the CRC32C covers header bytes 0..12 followed by `stored`.
pub(crate) fn encode_block_header(
    kind: u8,
    codec: u8,
    stored: &[u8],
    uncompressed_len: u32,
) -> [u8; BLOCK_HEADER_SIZE_BYTES] {
    let mut h = [0u8; BLOCK_HEADER_SIZE_BYTES];
    h[0] = kind;
    h[1] = codec;
    // h[2..4]: reserved, zero.
    // Callers guarantee stored.len() fits (bounded by MAX_PARTITION_SIZE_BYTES + LZ4 overhead).
    let stored_len = u32::try_from(stored.len()).unwrap_or(u32::MAX);
    h[4..8].copy_from_slice(&stored_len.to_le_bytes());
    h[8..12].copy_from_slice(&uncompressed_len.to_le_bytes());
    let crc = crc32c::crc32c_append(crc32c::crc32c(&h[..12]), stored);
    h[12..16].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Validates a whole on-disk block (`raw` = header + stored body, read from `block_offset`)
/// and returns its uncompressed body. `raw` is consumed so that stored-uncompressed blocks are
/// returned without copying.
pub(crate) fn decode_block(
    raw: Vec<u8>,
    block_offset: u64,
    expected_kind: u8,
    max_uncompressed_len: u32,
) -> Result<Bytes, Corruption> {
    let (kind, codec, stored_len, uncompressed_len, stored_crc) = {
        let mut d = Decoder::new(&raw, block_offset);
        let kind = d.u8("block kind")?;
        let codec = d.u8("block codec")?;
        let reserved = d.u16("block reserved")?;
        if reserved != 0 {
            return Err(Corruption::new(
                block_offset + 2,
                "non-zero reserved block header bytes",
            ));
        }
        let stored_len = d.u32("block stored length")?;
        let uncompressed_len = d.u32("block uncompressed length")?;
        let crc = d.u32("block crc")?;
        (kind, codec, stored_len, uncompressed_len, crc)
    };
    let body_len = raw.len() - BLOCK_HEADER_SIZE_BYTES;
    if stored_len as usize != body_len {
        return Err(Corruption::new(
            block_offset + 4,
            format!(
                "block stored length {stored_len} does not match the indexed block size {body_len}"
            ),
        ));
    }
    let computed =
        crc32c::crc32c_append(crc32c::crc32c(&raw[..12]), &raw[BLOCK_HEADER_SIZE_BYTES..]);
    if computed != stored_crc {
        return Err(Corruption::new(
            block_offset,
            format!(
                "block checksum mismatch (stored {stored_crc:#010x}, computed {computed:#010x})"
            ),
        ));
    }
    if kind != expected_kind {
        return Err(Corruption::new(
            block_offset,
            format!("block kind {kind} found where kind {expected_kind} was expected"),
        ));
    }
    if uncompressed_len > max_uncompressed_len {
        return Err(Corruption::new(
            block_offset + 8,
            format!("block uncompressed length {uncompressed_len} exceeds the file's maximum {max_uncompressed_len}"),
        ));
    }
    match codec {
        CODEC_NONE => {
            if uncompressed_len != stored_len {
                return Err(Corruption::new(
                    block_offset + 8,
                    "uncompressed block has differing stored and uncompressed lengths",
                ));
            }
            Ok(Bytes::from(raw).slice(BLOCK_HEADER_SIZE_BYTES..))
        }
        CODEC_LZ4 => {
            // LZ4 cannot expand data more than ~255x: refuse before allocating.
            if u64::from(uncompressed_len) > u64::from(stored_len) * LZ4_MAX_EXPANSION + 64 {
                return Err(Corruption::new(
                    block_offset + 8,
                    format!("LZ4 block of {stored_len} bytes cannot expand to {uncompressed_len}"),
                ));
            }
            let mut out = vec![0u8; uncompressed_len as usize];
            match lz4_flex::block::decompress_into(&raw[BLOCK_HEADER_SIZE_BYTES..], &mut out) {
                Ok(n) if n == out.len() => Ok(Bytes::from(out)),
                Ok(n) => Err(Corruption::new(
                    block_offset + BLOCK_HEADER_SIZE_BYTES as u64,
                    format!("LZ4 block decompressed to {n} bytes, header says {uncompressed_len}"),
                )),
                Err(e) => Err(Corruption::new(
                    block_offset + BLOCK_HEADER_SIZE_BYTES as u64,
                    format!("LZ4 decompression failed: {e}"),
                )),
            }
        }
        other => Err(Corruption::new(
            block_offset + 1,
            format!("unknown block codec {other}"),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Index blocks
// ---------------------------------------------------------------------------------------------

/// One partition-index entry, borrowed from an index block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndexEntry<'a> {
    pub(crate) token: i64,
    pub(crate) key: &'a [u8],
    pub(crate) block_offset: u64,
    pub(crate) block_disk_len: u32,
    pub(crate) offset_in_block: u32,
    pub(crate) length: u32,
}

/// Appends an index record (with a block disk length of 0, patched once the data block is
/// written) to `records`, and the key to `keys`. `key_offset` is the key's offset in the
/// block's key area (`keys.len()` before the call, as u32).
pub(crate) fn put_index_record(
    records: &mut Vec<u8>,
    token: i64,
    block_offset: u64,
    offset_in_block: u32,
    length: u32,
    key_offset: u32,
) {
    put_i64(records, token);
    put_u64(records, block_offset);
    put_u32(records, 0); // block disk length, patched later
    put_u32(records, offset_in_block);
    put_u32(records, length);
    put_u32(records, key_offset);
}

#[inline]
fn u32_at(buf: &[u8], pos: usize) -> Option<u32> {
    let b = buf.get(pos..pos.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

#[inline]
fn u64_at(buf: &[u8], pos: usize) -> Option<u64> {
    let b = buf.get(pos..pos.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Some(u64::from_le_bytes(a))
}

/// A validated view over an uncompressed index block body:
/// `count: u32 | records: [32-byte record; count] | key area`.
/// Records are fixed-size so that the binary search touches few cache lines and only reads
/// a key when tokens tie.
pub(crate) struct IndexBlockView<'a> {
    body: &'a [u8],
    /// Absolute file offset of the body (block offset + header size), for error reporting.
    body_offset: u64,
    count: usize,
    keys_start: usize,
}

impl<'a> IndexBlockView<'a> {
    pub(crate) fn parse(body: &'a [u8], body_offset: u64) -> Result<Self, Corruption> {
        let count = u32_at(body, 0).ok_or_else(|| {
            Corruption::new(body_offset, "index block shorter than its entry count")
        })? as usize;
        let keys_start = count
            .checked_mul(INDEX_RECORD_SIZE_BYTES)
            .and_then(|n| n.checked_add(4))
            .filter(|&n| n <= body.len())
            .ok_or_else(|| {
                Corruption::new(
                    body_offset,
                    format!(
                        "index block entry count {count} does not fit in {} bytes",
                        body.len()
                    ),
                )
            })?;
        if count == 0 {
            return Err(Corruption::new(body_offset, "empty index block"));
        }
        Ok(Self {
            body,
            body_offset,
            count,
            keys_start,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.count
    }

    #[inline]
    fn record_start(i: usize) -> usize {
        4 + i * INDEX_RECORD_SIZE_BYTES
    }

    fn bad_record(&self, i: usize, reason: &str) -> Corruption {
        Corruption::new(
            self.body_offset + Self::record_start(i) as u64,
            format!("index record {i}: {reason}"),
        )
    }

    /// Token of entry `i` (`i < len()`, guaranteed in bounds by `parse`).
    #[inline]
    fn token(&self, i: usize) -> Result<i64, Corruption> {
        u64_at(self.body, Self::record_start(i))
            .map(|t| t as i64)
            .ok_or_else(|| self.bad_record(i, "out of range"))
    }

    /// Key of entry `i`: from its key offset to the next entry's (or the end of the block).
    fn key(&self, i: usize) -> Result<&'a [u8], Corruption> {
        let keys = &self.body[self.keys_start..];
        let start = u32_at(self.body, Self::record_start(i) + 28)
            .ok_or_else(|| self.bad_record(i, "out of range"))?;
        let end = if i + 1 < self.count {
            u32_at(self.body, Self::record_start(i + 1) + 28)
                .ok_or_else(|| self.bad_record(i + 1, "out of range"))?
        } else {
            u32::try_from(keys.len()).unwrap_or(u32::MAX)
        };
        keys.get(start as usize..end as usize)
            .filter(|k| k.len() <= MAX_KEY_SIZE_BYTES)
            .ok_or_else(|| self.bad_record(i, &format!("invalid key range [{start}, {end})")))
    }

    /// Decodes entry `i` (`i < len()`).
    pub(crate) fn entry(&self, i: usize) -> Result<IndexEntry<'a>, Corruption> {
        if i >= self.count {
            return Err(self.bad_record(i, "index past the entry count"));
        }
        let r = Self::record_start(i);
        let field = |off: usize| {
            u32_at(self.body, r + off).ok_or_else(|| self.bad_record(i, "out of range"))
        };
        Ok(IndexEntry {
            token: self.token(i)?,
            key: self.key(i)?,
            block_offset: u64_at(self.body, r + 8)
                .ok_or_else(|| self.bad_record(i, "out of range"))?,
            block_disk_len: field(16)?,
            offset_in_block: field(20)?,
            length: field(24)?,
        })
    }

    /// Index of the first entry whose key is `>= target` (or `> target` when `strict`);
    /// `len()` when there is none. Binary search over the fixed-size records; keys are only
    /// read when tokens are equal.
    pub(crate) fn lower_bound(
        &self,
        target: (i64, &[u8]),
        strict: bool,
    ) -> Result<usize, Corruption> {
        let (mut lo, mut hi) = (0usize, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let ord = match self.token(mid)?.cmp(&target.0) {
                Ordering::Equal => self.key(mid)?.cmp(target.1),
                other => other,
            };
            let go_right = if strict {
                ord != Ordering::Greater
            } else {
                ord == Ordering::Less
            };
            if go_right {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }
}

// ---------------------------------------------------------------------------------------------
// Summary section
// ---------------------------------------------------------------------------------------------

/// One summary entry: where an index block is and the last key it holds.
#[derive(Debug, Clone)]
pub(crate) struct SummaryEntry {
    pub(crate) last_token: i64,
    pub(crate) last_key: Bytes,
    pub(crate) block_offset: u64,
    pub(crate) block_disk_len: u32,
    pub(crate) entry_count: u32,
}

pub(crate) fn put_summary_entry(
    out: &mut Vec<u8>,
    last_token: i64,
    last_key: &[u8],
    block_offset: u64,
    block_disk_len: u32,
    entry_count: u32,
) {
    put_i64(out, last_token);
    put_u64(out, block_offset);
    put_u32(out, block_disk_len);
    put_u32(out, entry_count);
    put_u16(out, u16::try_from(last_key.len()).unwrap_or(u16::MAX));
    out.extend_from_slice(last_key);
}

/// Decodes the summary section (`count: u32 | entries…`). Keys are zero-copy slices of
/// `section`. Validates strictly increasing keys and offsets, and that every index block lies
/// inside `blocks`.
pub(crate) fn decode_summary(
    section: &Bytes,
    section_offset: u64,
    blocks: SectionRef,
) -> Result<Vec<SummaryEntry>, Corruption> {
    let mut d = Decoder::new(section, section_offset);
    let count = d.u32("summary entry count")? as usize;
    // Each entry needs at least the fixed part: bounds the allocation by the section size.
    if count > d.remaining() / SUMMARY_ENTRY_FIXED_SIZE_BYTES {
        return Err(Corruption::new(
            section_offset,
            format!("summary entry count {count} does not fit in the section"),
        ));
    }
    let blocks_end = blocks.end().unwrap_or(u64::MAX);
    let mut out: Vec<SummaryEntry> = Vec::with_capacity(count);
    for _ in 0..count {
        let entry_offset = d.offset();
        let last_token = d.i64("summary token")?;
        let block_offset = d.u64("summary block offset")?;
        let block_disk_len = d.u32("summary block length")?;
        let entry_count = d.u32("summary entry count")?;
        let key_len = d.u16("summary key length")? as usize;
        let key_start = d.position();
        d.bytes(key_len, "summary key")?;
        let last_key = section.slice(key_start..key_start + key_len);
        let block_end = block_offset.checked_add(u64::from(block_disk_len));
        if block_offset < blocks.offset
            || block_end.is_none_or(|e| e > blocks_end)
            || (block_disk_len as usize) < BLOCK_HEADER_SIZE_BYTES
        {
            return Err(Corruption::new(
                entry_offset,
                format!(
                    "index block [{block_offset}, +{block_disk_len}) lies outside the block region"
                ),
            ));
        }
        if entry_count == 0 {
            return Err(Corruption::new(
                entry_offset,
                "summary entry with zero index entries",
            ));
        }
        if let Some(prev) = out.last() {
            if compare_keys((prev.last_token, &prev.last_key), (last_token, &last_key))
                != Ordering::Less
                || prev.block_offset >= block_offset
            {
                return Err(Corruption::new(
                    entry_offset,
                    "summary entries are not strictly increasing",
                ));
            }
        }
        out.push(SummaryEntry {
            last_token,
            last_key,
            block_offset,
            block_disk_len,
            entry_count,
        });
    }
    d.finish("summary section")?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Statistics section
// ---------------------------------------------------------------------------------------------

/// Statistics computed by the writer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WriterStats {
    pub(crate) partition_count: u64,
    pub(crate) data_block_count: u64,
    pub(crate) index_block_count: u64,
    pub(crate) data_uncompressed_bytes: u64,
    pub(crate) data_disk_bytes: u64,
    pub(crate) index_disk_bytes: u64,
    pub(crate) max_block_uncompressed_bytes: u32,
    pub(crate) max_partition_bytes: u32,
    /// `(token, key)` of the first and last partitions; `None` iff the table is empty.
    pub(crate) first_key: Option<(i64, Vec<u8>)>,
    pub(crate) last_key: Option<(i64, Vec<u8>)>,
}

fn put_opt_blob(out: &mut Vec<u8>, v: &Option<Vec<u8>>) {
    match v {
        None => out.push(0),
        Some(b) => {
            out.push(1);
            put_u32(out, u32::try_from(b.len()).unwrap_or(u32::MAX));
            out.extend_from_slice(b);
        }
    }
}

fn put_opt_key(out: &mut Vec<u8>, v: &Option<(i64, Vec<u8>)>) {
    match v {
        None => out.push(0),
        Some((token, key)) => {
            out.push(1);
            put_i64(out, *token);
            put_u16(out, u16::try_from(key.len()).unwrap_or(u16::MAX));
            out.extend_from_slice(key);
        }
    }
}

pub(crate) fn encode_stats(w: &WriterStats, s: &SstableStats) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + s.extra.len());
    put_u64(&mut out, w.partition_count);
    put_u64(&mut out, w.data_block_count);
    put_u64(&mut out, w.index_block_count);
    put_u64(&mut out, w.data_uncompressed_bytes);
    put_u64(&mut out, w.data_disk_bytes);
    put_u64(&mut out, w.index_disk_bytes);
    put_u32(&mut out, w.max_block_uncompressed_bytes);
    put_u32(&mut out, w.max_partition_bytes);
    put_opt_key(&mut out, &w.first_key);
    put_opt_key(&mut out, &w.last_key);
    put_i64(&mut out, s.min_timestamp_micros);
    put_i64(&mut out, s.max_timestamp_micros);
    put_i64(&mut out, s.min_local_deletion_time_secs);
    put_i64(&mut out, s.max_local_deletion_time_secs);
    put_u64(&mut out, s.tombstone_count);
    put_u64(&mut out, s.cell_count);
    put_u64(&mut out, s.row_count);
    put_opt_blob(&mut out, &s.min_clustering);
    put_opt_blob(&mut out, &s.max_clustering);
    put_u32(&mut out, u32::try_from(s.extra.len()).unwrap_or(u32::MAX));
    out.extend_from_slice(&s.extra);
    out
}

fn get_presence(d: &mut Decoder<'_>, what: &str) -> Result<bool, Corruption> {
    let at = d.offset();
    match d.u8(what)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(Corruption::new(
            at,
            format!("invalid presence byte {other} for {what}"),
        )),
    }
}

fn get_opt_blob(
    d: &mut Decoder<'_>,
    what: &str,
    max_len: usize,
) -> Result<Option<Vec<u8>>, Corruption> {
    if !get_presence(d, what)? {
        return Ok(None);
    }
    let at = d.offset();
    let len = d.u32(what)? as usize;
    if len > max_len {
        return Err(Corruption::new(
            at,
            format!("{what} length {len} exceeds limit {max_len}"),
        ));
    }
    Ok(Some(d.bytes(len, what)?.to_vec()))
}

fn get_opt_key(d: &mut Decoder<'_>, what: &str) -> Result<Option<(i64, Vec<u8>)>, Corruption> {
    if !get_presence(d, what)? {
        return Ok(None);
    }
    let token = d.i64(what)?;
    let len = d.u16(what)? as usize;
    Ok(Some((token, d.bytes(len, what)?.to_vec())))
}

pub(crate) fn decode_stats(
    buf: &[u8],
    section_offset: u64,
) -> Result<(WriterStats, SstableStats), Corruption> {
    let mut d = Decoder::new(buf, section_offset);
    let mut w = WriterStats {
        partition_count: d.u64("partition count")?,
        data_block_count: d.u64("data block count")?,
        index_block_count: d.u64("index block count")?,
        data_uncompressed_bytes: d.u64("uncompressed data size")?,
        data_disk_bytes: d.u64("compressed data size")?,
        index_disk_bytes: d.u64("index size")?,
        max_block_uncompressed_bytes: d.u32("max block size")?,
        max_partition_bytes: d.u32("max partition size")?,
        first_key: None,
        last_key: None,
    };
    w.first_key = get_opt_key(&mut d, "first key")?;
    w.last_key = get_opt_key(&mut d, "last key")?;
    let mut s = SstableStats {
        min_timestamp_micros: d.i64("min timestamp")?,
        max_timestamp_micros: d.i64("max timestamp")?,
        min_local_deletion_time_secs: d.i64("min local deletion time")?,
        max_local_deletion_time_secs: d.i64("max local deletion time")?,
        tombstone_count: d.u64("tombstone count")?,
        cell_count: d.u64("cell count")?,
        row_count: d.u64("row count")?,
        ..SstableStats::default()
    };
    s.min_clustering = get_opt_blob(&mut d, "min clustering", MAX_CLUSTERING_STAT_SIZE_BYTES)?;
    s.max_clustering = get_opt_blob(&mut d, "max clustering", MAX_CLUSTERING_STAT_SIZE_BYTES)?;
    let at = d.offset();
    let extra_len = d.u32("extra stats length")? as usize;
    if extra_len > MAX_EXTRA_STATS_SIZE_BYTES {
        return Err(Corruption::new(
            at,
            format!("extra stats length {extra_len} exceeds limit"),
        ));
    }
    s.extra = d.bytes(extra_len, "extra stats")?.to_vec();
    d.finish("statistics section")?;
    if w.max_block_uncompressed_bytes > MAX_PARTITION_SIZE_BYTES {
        return Err(Corruption::new(
            section_offset + 48,
            "max block size exceeds the format limit",
        ));
    }
    if (w.partition_count == 0) != w.first_key.is_none()
        || w.first_key.is_none() != w.last_key.is_none()
    {
        return Err(Corruption::new(
            section_offset,
            "partition count disagrees with first/last key presence",
        ));
    }
    Ok((w, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footer_round_trip_and_layout_checks() {
        let f = Footer {
            blocks: SectionRef {
                offset: 16,
                len: 100,
            },
            summary: SectionRef {
                offset: 116,
                len: 30,
            },
            bloom: SectionRef {
                offset: 146,
                len: 32,
            },
            stats: SectionRef {
                offset: 178,
                len: 200,
            },
            summary_crc: 1,
            bloom_crc: 2,
            stats_crc: 3,
        };
        let enc = encode_footer(&f);
        let dec = decode_footer(&enc, 378).expect("valid footer");
        assert_eq!(dec, f);
        // Wrong footer position → layout error.
        assert!(matches!(
            decode_footer(&enc, 379),
            Err(FooterError::Corrupt(_))
        ));
    }

    #[test]
    fn block_round_trip_both_codecs() {
        let body = b"hello hello hello hello hello hello".to_vec();
        let header = encode_block_header(BLOCK_KIND_DATA, CODEC_NONE, &body, body.len() as u32);
        let mut raw = header.to_vec();
        raw.extend_from_slice(&body);
        let out = decode_block(raw, 1000, BLOCK_KIND_DATA, 1 << 20).expect("valid");
        assert_eq!(&out[..], &body[..]);

        let compressed = lz4_flex::block::compress(&body);
        let header =
            encode_block_header(BLOCK_KIND_DATA, CODEC_LZ4, &compressed, body.len() as u32);
        let mut raw = header.to_vec();
        raw.extend_from_slice(&compressed);
        let out = decode_block(raw.clone(), 1000, BLOCK_KIND_DATA, 1 << 20).expect("valid");
        assert_eq!(&out[..], &body[..]);
        // Wrong kind and over-limit size are refused.
        assert!(decode_block(raw.clone(), 1000, BLOCK_KIND_INDEX, 1 << 20).is_err());
        assert!(decode_block(raw, 1000, BLOCK_KIND_DATA, 4).is_err());

        // The most compressible input there is still passes the expansion bound.
        let zeros = vec![0u8; 4 << 20];
        let compressed = lz4_flex::block::compress(&zeros);
        let header =
            encode_block_header(BLOCK_KIND_DATA, CODEC_LZ4, &compressed, zeros.len() as u32);
        let mut raw = header.to_vec();
        raw.extend_from_slice(&compressed);
        let out = decode_block(raw, 0, BLOCK_KIND_DATA, 1 << 30).expect("zeros decode");
        assert_eq!(out.len(), zeros.len());

        // A checksum-valid header claiming an impossible expansion is refused up front.
        let tiny = lz4_flex::block::compress(&[0u8; 8]);
        let header = encode_block_header(BLOCK_KIND_DATA, CODEC_LZ4, &tiny, 1 << 30);
        let mut raw = header.to_vec();
        raw.extend_from_slice(&tiny);
        let err = decode_block(raw, 0, BLOCK_KIND_DATA, 1 << 30).expect_err("refused");
        assert!(err.reason.contains("cannot expand"), "{}", err.reason);
    }

    #[test]
    fn index_block_view_rejects_bad_counts() {
        assert!(IndexBlockView::parse(&[], 0).is_err());
        assert!(IndexBlockView::parse(&[0, 0, 0, 0], 0).is_err());
        assert!(IndexBlockView::parse(&[0xff, 0xff, 0xff, 0xff], 0).is_err());
        let mut body = Vec::new();
        put_u32(&mut body, 2);
        put_index_record(&mut body, 5, 16, 0, 3, 0);
        put_index_record(&mut body, 5, 16, 3, 4, 1);
        body.extend_from_slice(b"kl");
        let view = IndexBlockView::parse(&body, 0).expect("valid");
        let e = view.entry(0).expect("entry");
        assert_eq!((e.token, e.key, e.length), (5, &b"k"[..], 3));
        assert_eq!(view.entry(1).expect("entry").key, b"l");
        assert!(view.entry(2).is_err());
        assert_eq!(view.lower_bound((5, b"k"), false).expect("search"), 0);
        assert_eq!(view.lower_bound((5, b"k"), true).expect("search"), 1);
        assert_eq!(view.lower_bound((5, b"z"), false).expect("search"), 2);
        // A key offset pointing backwards is corruption, not a panic.
        body[4 + 32 + 28] = 9;
        let view = IndexBlockView::parse(&body, 0).expect("valid header");
        assert!(view.entry(0).is_err());
        assert!(view.entry(1).is_err());
    }
}
