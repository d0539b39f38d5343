//! The binary encoding of partitions and mutations, shared by the commit log, SSTables,
//! internode messages and hints. Described byte by byte in `docs/mutation-format.md`.
//!
//! Decoding treats its input as untrusted: every length and count is checked against the
//! bytes that remain before anything is allocated, and malformed input is an error, never a
//! panic.

use std::cmp::Ordering;

use bytes::{BufMut, Bytes, BytesMut};

use super::cell::{Cell, CellState};
use super::clustering::{
    Clustering, ClusteringComparator, Cut, RangeTombstone, RangeTombstoneList, Slice,
};
use super::deletion::{DeletionTime, LivenessInfo};
use super::partition::{Mutation, Partition, PartitionUpdate, TableId};
use super::row::{ColumnData, ColumnId, ComplexColumn, Row};
use crate::token::PartitionKey;

/// Version byte that starts every encoded mutation.
pub const MUTATION_FORMAT_VERSION: u8 = 1;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The input ended inside `what`.
    #[error("truncated input while reading {what}")]
    Truncated {
        /// What was being read.
        what: &'static str,
    },
    /// A value is not valid.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was being read.
        what: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// A format version this build does not know.
    #[error("unsupported mutation format version {version}")]
    UnsupportedVersion {
        /// The version found.
        version: u8,
    },
}

fn invalid(what: &'static str, reason: impl Into<String>) -> CodecError {
    CodecError::Invalid {
        what,
        reason: reason.into(),
    }
}

// ---- primitives -----------------------------------------------------------------------------

fn put_uvarint(buf: &mut BytesMut, v: u64) {
    let (bytes, n) = uvarint_bytes(v);
    buf.put_slice(&bytes[..n]);
}

/// The unsigned LEB128 encoding of `v`: the bytes and how many of them are used.
fn uvarint_bytes(mut v: u64) -> ([u8; 10], usize) {
    let mut out = [0u8; 10];
    let mut n = 0;
    while v >= 0x80 {
        out[n] = (v as u8) | 0x80;
        v >>= 7;
        n += 1;
    }
    out[n] = v as u8;
    (out, n + 1)
}

fn put_ivarint(buf: &mut BytesMut, v: i64) {
    put_uvarint(buf, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_bytes(buf: &mut BytesMut, b: &[u8]) {
    put_uvarint(buf, b.len() as u64);
    buf.put_slice(b);
}

/// A cursor over untrusted bytes. Slices it hands out share the input `Bytes`.
struct Reader {
    buf: Bytes,
    pos: usize,
}

impl Reader {
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, CodecError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or(CodecError::Truncated { what })?;
        self.pos += 1;
        Ok(b)
    }

    fn uvarint(&mut self, what: &'static str) -> Result<u64, CodecError> {
        // One byte: most lengths, counts and flags.
        if let Some(&b) = self.buf.get(self.pos) {
            if b & 0x80 == 0 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8(what)?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                if shift == 63 && b > 1 {
                    return Err(invalid(what, "varint overflows 64 bits"));
                }
                return Ok(v);
            }
        }
        Err(invalid(what, "varint longer than 10 bytes"))
    }

    fn ivarint(&mut self, what: &'static str) -> Result<i64, CodecError> {
        let u = self.uvarint(what)?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    fn u32_varint(&mut self, what: &'static str) -> Result<u32, CodecError> {
        u32::try_from(self.uvarint(what)?).map_err(|_| invalid(what, "does not fit 32 bits"))
    }

    /// A count of items that each take at least one byte: bounded by the remaining input.
    fn count(&mut self, what: &'static str) -> Result<usize, CodecError> {
        let n = self.uvarint(what)?;
        if n > self.remaining() as u64 {
            return Err(invalid(
                what,
                format!("count {n} exceeds the remaining input"),
            ));
        }
        Ok(n as usize)
    }

    fn bytes(&mut self, what: &'static str) -> Result<Bytes, CodecError> {
        let len = self.uvarint(what)?;
        if len > self.remaining() as u64 {
            return Err(CodecError::Truncated { what });
        }
        let end = self.pos + len as usize;
        let out = self.buf.slice(self.pos..end);
        self.pos = end;
        Ok(out)
    }

    fn skip_bytes(&mut self, what: &'static str) -> Result<(), CodecError> {
        let len = self.uvarint(what)?;
        if len > self.remaining() as u64 {
            return Err(CodecError::Truncated { what });
        }
        self.pos += len as usize;
        Ok(())
    }

    fn fixed<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], CodecError> {
        let end = self
            .pos
            .checked_add(N)
            .ok_or(CodecError::Truncated { what })?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or(CodecError::Truncated { what })?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        self.pos = end;
        Ok(out)
    }
}

// ---- data model -----------------------------------------------------------------------------

fn put_deletion(buf: &mut BytesMut, d: &DeletionTime) {
    put_ivarint(buf, d.marked_for_delete_at_micros);
    put_ivarint(buf, d.local_deletion_time_secs);
}

fn get_deletion(r: &mut Reader) -> Result<DeletionTime, CodecError> {
    Ok(DeletionTime::new(
        r.ivarint("deletion timestamp")?,
        r.ivarint("local deletion time")?,
    ))
}

fn put_clustering_inner(buf: &mut BytesMut, c: &Clustering) {
    put_uvarint(buf, c.len() as u64);
    for component in &c.0 {
        put_bytes(buf, component);
    }
}

fn get_clustering(r: &mut Reader) -> Result<Clustering, CodecError> {
    let mut v = Vec::new();
    get_clustering_into(r, &mut v)?;
    Ok(Clustering(v))
}

/// Decodes a clustering into `out`, replacing what it held (and reusing its allocation).
fn get_clustering_into(r: &mut Reader, out: &mut Vec<Bytes>) -> Result<(), CodecError> {
    out.clear();
    let n = r.count("clustering size")?;
    out.reserve(n);
    for _ in 0..n {
        out.push(r.bytes("clustering component")?);
    }
    Ok(())
}

const CELL_LIVE: u8 = 0;
const CELL_EXPIRING: u8 = 1;
const CELL_TOMBSTONE: u8 = 2;

fn put_cell(buf: &mut BytesMut, c: &Cell) {
    match c.state {
        CellState::Live => {
            buf.put_u8(CELL_LIVE);
            put_ivarint(buf, c.timestamp_micros);
            put_bytes(buf, &c.value);
        }
        CellState::Expiring {
            ttl_secs,
            local_expiration_time_secs,
        } => {
            buf.put_u8(CELL_EXPIRING);
            put_ivarint(buf, c.timestamp_micros);
            put_uvarint(buf, u64::from(ttl_secs));
            put_ivarint(buf, local_expiration_time_secs);
            put_bytes(buf, &c.value);
        }
        CellState::Tombstone {
            local_deletion_time_secs,
        } => {
            buf.put_u8(CELL_TOMBSTONE);
            put_ivarint(buf, c.timestamp_micros);
            put_ivarint(buf, local_deletion_time_secs);
        }
    }
}

fn get_cell(r: &mut Reader) -> Result<Cell, CodecError> {
    let kind = r.u8("cell kind")?;
    let timestamp_micros = r.ivarint("cell timestamp")?;
    match kind {
        CELL_LIVE => Ok(Cell {
            timestamp_micros,
            state: CellState::Live,
            value: r.bytes("cell value")?,
        }),
        CELL_EXPIRING => {
            let ttl_secs = r.u32_varint("cell ttl")?;
            if ttl_secs == 0 {
                return Err(invalid("cell ttl", "expiring cell with ttl 0"));
            }
            let local_expiration_time_secs = r.ivarint("cell expiration")?;
            Ok(Cell {
                timestamp_micros,
                state: CellState::Expiring {
                    ttl_secs,
                    local_expiration_time_secs,
                },
                value: r.bytes("cell value")?,
            })
        }
        CELL_TOMBSTONE => Ok(Cell {
            timestamp_micros,
            state: CellState::Tombstone {
                local_deletion_time_secs: r.ivarint("cell deletion time")?,
            },
            value: Bytes::new(),
        }),
        other => Err(invalid("cell kind", format!("unknown kind {other}"))),
    }
}

const ROW_HAS_LIVENESS: u8 = 1;
const ROW_HAS_DELETION: u8 = 2;
const COLUMN_SIMPLE: u8 = 0;
const COLUMN_COMPLEX: u8 = 1;

fn put_row(buf: &mut BytesMut, row: &Row) {
    put_clustering_inner(buf, &row.clustering);
    let mut flags = 0;
    if row.liveness.is_some() {
        flags |= ROW_HAS_LIVENESS;
    }
    if !row.deletion.is_live() {
        flags |= ROW_HAS_DELETION;
    }
    buf.put_u8(flags);
    if let Some(l) = &row.liveness {
        put_ivarint(buf, l.timestamp_micros);
        put_uvarint(buf, u64::from(l.ttl_secs));
        if l.ttl_secs > 0 {
            put_ivarint(buf, l.local_expiration_time_secs);
        }
    }
    if !row.deletion.is_live() {
        put_deletion(buf, &row.deletion);
    }
    put_uvarint(buf, row.columns.len() as u64);
    for (id, data) in &row.columns {
        put_uvarint(buf, u64::from(id.0));
        match data {
            ColumnData::Simple(c) => {
                buf.put_u8(COLUMN_SIMPLE);
                put_cell(buf, c);
            }
            ColumnData::Complex(cc) => {
                buf.put_u8(COLUMN_COMPLEX);
                put_deletion(buf, &cc.deletion);
                put_uvarint(buf, cc.cells.len() as u64);
                for (path, c) in &cc.cells {
                    put_bytes(buf, path);
                    put_cell(buf, c);
                }
            }
        }
    }
}

fn get_row(r: &mut Reader) -> Result<Row, CodecError> {
    let clustering = get_clustering(r)?;
    get_row_body(r, clustering)
}

/// Steps over what [`get_row_body`] reads, checking the same structure but building nothing.
fn skip_row_body(r: &mut Reader) -> Result<(), CodecError> {
    let flags = r.u8("row flags")?;
    if flags & !(ROW_HAS_LIVENESS | ROW_HAS_DELETION) != 0 {
        return Err(invalid("row flags", format!("unknown flags {flags:#x}")));
    }
    if flags & ROW_HAS_LIVENESS != 0 {
        r.ivarint("liveness timestamp")?;
        if r.u32_varint("liveness ttl")? > 0 {
            r.ivarint("liveness expiration")?;
        }
    }
    if flags & ROW_HAS_DELETION != 0 {
        get_deletion(r)?;
    }
    let n = r.count("column count")?;
    for _ in 0..n {
        r.u32_varint("column id")?;
        match r.u8("column kind")? {
            COLUMN_SIMPLE => skip_cell(r)?,
            COLUMN_COMPLEX => {
                get_deletion(r)?;
                let m = r.count("collection size")?;
                for _ in 0..m {
                    r.skip_bytes("cell path")?;
                    skip_cell(r)?;
                }
            }
            other => return Err(invalid("column kind", format!("unknown kind {other}"))),
        }
    }
    Ok(())
}

fn skip_cell(r: &mut Reader) -> Result<(), CodecError> {
    let kind = r.u8("cell kind")?;
    r.ivarint("cell timestamp")?;
    match kind {
        CELL_LIVE => r.skip_bytes("cell value"),
        CELL_EXPIRING => {
            r.u32_varint("cell ttl")?;
            r.ivarint("cell expiration")?;
            r.skip_bytes("cell value")
        }
        CELL_TOMBSTONE => r.ivarint("cell deletion time").map(|_| ()),
        other => Err(invalid("cell kind", format!("unknown kind {other}"))),
    }
}

fn get_row_body(r: &mut Reader, clustering: Clustering) -> Result<Row, CodecError> {
    let flags = r.u8("row flags")?;
    if flags & !(ROW_HAS_LIVENESS | ROW_HAS_DELETION) != 0 {
        return Err(invalid("row flags", format!("unknown flags {flags:#x}")));
    }
    let liveness = if flags & ROW_HAS_LIVENESS != 0 {
        let timestamp_micros = r.ivarint("liveness timestamp")?;
        let ttl_secs = r.u32_varint("liveness ttl")?;
        let local_expiration_time_secs = if ttl_secs > 0 {
            r.ivarint("liveness expiration")?
        } else {
            super::NO_DELETION_TIME_SECS
        };
        Some(LivenessInfo {
            timestamp_micros,
            ttl_secs,
            local_expiration_time_secs,
        })
    } else {
        None
    };
    let deletion = if flags & ROW_HAS_DELETION != 0 {
        get_deletion(r)?
    } else {
        DeletionTime::LIVE
    };
    let n = r.count("column count")?;
    let mut columns: Vec<(ColumnId, ColumnData)> = Vec::with_capacity(n);
    for _ in 0..n {
        let id = ColumnId(r.u32_varint("column id")?);
        if columns.last().is_some_and(|(last, _)| *last >= id) {
            return Err(invalid("column id", "columns not in increasing id order"));
        }
        let data = match r.u8("column kind")? {
            COLUMN_SIMPLE => ColumnData::Simple(get_cell(r)?),
            COLUMN_COMPLEX => {
                let deletion = get_deletion(r)?;
                let m = r.count("collection size")?;
                let mut cells: Vec<(Bytes, Cell)> = Vec::with_capacity(m);
                for _ in 0..m {
                    let path = r.bytes("cell path")?;
                    if cells.last().is_some_and(|(last, _)| *last >= path) {
                        return Err(invalid("cell path", "paths not in increasing order"));
                    }
                    cells.push((path, get_cell(r)?));
                }
                ColumnData::Complex(ComplexColumn { deletion, cells })
            }
            other => return Err(invalid("column kind", format!("unknown kind {other}"))),
        };
        columns.push((id, data));
    }
    Ok(Row {
        clustering,
        liveness,
        deletion,
        columns,
    })
}

const PARTITION_HAS_DELETION: u8 = 1;
const PARTITION_HAS_STATIC: u8 = 2;
const PARTITION_HAS_ROW_INDEX: u8 = 4;

/// Encodes a canonical partition, appending to `buf`.
pub fn encode_partition(buf: &mut BytesMut, p: &Partition) {
    encode_partition_with_index(buf, p, None);
}

/// [`encode_partition`] with a row index when the rows take at least two intervals of
/// `interval_bytes`: the clustering, ordinal and offset of the first row after every
/// `interval_bytes` of encoded rows, so that [`decode_partition_slices`] can start near a
/// slice instead of stepping over every row before it (SSTables use this; a partition too
/// small for an index is encoded exactly as by [`encode_partition`]).
pub fn encode_partition_indexed(buf: &mut BytesMut, p: &Partition, interval_bytes: usize) {
    encode_partition_with_index(buf, p, Some(interval_bytes.max(1)));
}

fn encode_partition_with_index(buf: &mut BytesMut, p: &Partition, interval_bytes: Option<usize>) {
    // The rows first, aside, when an index may be written (its entries need their offsets;
    // two entries need at least three rows).
    let indexed = interval_bytes
        .filter(|_| p.rows.len() >= 3)
        .map(|interval| {
            let mut rows = BytesMut::new();
            let mut index = BytesMut::new();
            let mut entries = 0u64;
            let mut next_entry_at = interval;
            for (ordinal, row) in p.rows.iter().enumerate() {
                if ordinal > 0 && rows.len() >= next_entry_at {
                    put_uvarint(&mut index, ordinal as u64);
                    put_uvarint(&mut index, rows.len() as u64);
                    put_clustering_inner(&mut index, &row.clustering);
                    entries += 1;
                    next_entry_at = rows.len() + interval;
                }
                put_row(&mut rows, row);
            }
            (entries, index, rows)
        });
    let mut flags = 0;
    if !p.deletion.is_live() {
        flags |= PARTITION_HAS_DELETION;
    }
    if p.static_row.is_some() {
        flags |= PARTITION_HAS_STATIC;
    }
    let has_index = indexed
        .as_ref()
        .is_some_and(|(entries, _, _)| *entries >= 2);
    if has_index {
        flags |= PARTITION_HAS_ROW_INDEX;
    }
    buf.put_u8(flags);
    if !p.deletion.is_live() {
        put_deletion(buf, &p.deletion);
    }
    put_uvarint(buf, p.range_tombstones.len() as u64);
    for rt in p.range_tombstones.iter() {
        put_clustering_inner(buf, &rt.slice.start.prefix);
        put_clustering_inner(buf, &rt.slice.end.prefix);
        buf.put_u8(u8::from(rt.slice.start.after) | (u8::from(rt.slice.end.after) << 1));
        put_deletion(buf, &rt.deletion);
    }
    if let Some(s) = &p.static_row {
        put_row(buf, s);
    }
    put_uvarint(buf, p.rows.len() as u64);
    match indexed {
        Some((entries, index, rows)) if has_index => {
            let mut head = BytesMut::new();
            put_uvarint(&mut head, entries);
            put_uvarint(buf, (head.len() + index.len()) as u64);
            buf.put_slice(&head);
            buf.put_slice(&index);
            buf.put_slice(&rows);
        }
        // Encoded aside, but too narrow for an index.
        Some((_, _, rows)) => buf.put_slice(&rows),
        None => {
            for row in &p.rows {
                put_row(buf, row);
            }
        }
    }
}

/// One entry of a partition's row index.
struct RowIndexEntry {
    /// Position of the row among the partition's rows.
    ordinal: usize,
    /// Offset of the row's encoding from the start of the rows.
    offset: usize,
    clustering: Clustering,
}

/// Reads the row index in front of the rows (flag [`PARTITION_HAS_ROW_INDEX`]): its bytes
/// when `parse` is false (stepped over), else its entries, checked to be increasing in
/// ordinal, offset and clustering and to point inside the `rows` rows that follow.
fn get_row_index(
    r: &mut Reader,
    cmp: &ClusteringComparator,
    rows: usize,
    parse: bool,
) -> Result<Vec<RowIndexEntry>, CodecError> {
    let index = r.bytes("row index")?;
    if !parse {
        return Ok(Vec::new());
    }
    let rows_bytes = r.remaining();
    let mut ir = Reader { buf: index, pos: 0 };
    let n = ir.count("row index entry count")?;
    let mut entries: Vec<RowIndexEntry> = Vec::with_capacity(n);
    for _ in 0..n {
        let ordinal = ir.uvarint("row index ordinal")?;
        let offset = ir.uvarint("row index offset")?;
        let clustering = get_clustering(&mut ir)?;
        let in_order = entries.last().is_none_or(|last| {
            (last.ordinal as u64) < ordinal
                && (last.offset as u64) < offset
                && cmp.compare(&last.clustering, &clustering).is_lt()
        });
        if !in_order || ordinal == 0 || ordinal >= rows as u64 || offset >= rows_bytes as u64 {
            return Err(invalid("row index", "entries out of order or out of range"));
        }
        entries.push(RowIndexEntry {
            ordinal: ordinal as usize,
            offset: offset as usize,
            clustering,
        });
    }
    if ir.remaining() != 0 {
        return Err(invalid("row index", "trailing bytes"));
    }
    Ok(entries)
}

fn get_partition(r: &mut Reader, cmp: &ClusteringComparator) -> Result<Partition, CodecError> {
    let (deletion, range_tombstones, static_row, has_index) = get_partition_head(r, cmp)?;
    let m = r.count("row count")?;
    if has_index {
        // Every row is read: the index is not needed.
        get_row_index(r, cmp, m, false)?;
    }
    let mut rows: Vec<Row> = Vec::with_capacity(m);
    for _ in 0..m {
        let row = get_row(r)?;
        if let Some(last) = rows.last() {
            if cmp.compare(&last.clustering, &row.clustering).is_ge() {
                return Err(invalid("row", "rows not in increasing clustering order"));
            }
        }
        rows.push(row);
    }
    Ok(Partition {
        deletion,
        range_tombstones,
        static_row,
        rows,
    })
}

/// What precedes a partition's rows: its deletion, range tombstones and static row, and
/// whether a row index follows the row count.
#[allow(clippy::type_complexity)]
fn get_partition_head(
    r: &mut Reader,
    cmp: &ClusteringComparator,
) -> Result<(DeletionTime, RangeTombstoneList, Option<Row>, bool), CodecError> {
    let flags = r.u8("partition flags")?;
    if flags & !(PARTITION_HAS_DELETION | PARTITION_HAS_STATIC | PARTITION_HAS_ROW_INDEX) != 0 {
        return Err(invalid(
            "partition flags",
            format!("unknown flags {flags:#x}"),
        ));
    }
    let deletion = if flags & PARTITION_HAS_DELETION != 0 {
        get_deletion(r)?
    } else {
        DeletionTime::LIVE
    };
    let n = r.count("range tombstone count")?;
    let mut range_tombstones = RangeTombstoneList::new();
    for _ in 0..n {
        let start = get_clustering(r)?;
        let end = get_clustering(r)?;
        let afters = r.u8("range tombstone bound kinds")?;
        if afters > 3 {
            return Err(invalid(
                "range tombstone bound kinds",
                format!("{afters:#x}"),
            ));
        }
        let slice = Slice {
            start: Cut {
                prefix: start,
                after: afters & 1 != 0,
            },
            end: Cut {
                prefix: end,
                after: afters & 2 != 0,
            },
        };
        let rt = RangeTombstone {
            slice,
            deletion: get_deletion(r)?,
        };
        range_tombstones
            .push_canonical(cmp, rt)
            .map_err(|reason| invalid("range tombstone", reason))?;
    }
    let static_row = if flags & PARTITION_HAS_STATIC != 0 {
        Some(get_row(r)?)
    } else {
        None
    };
    Ok((
        deletion,
        range_tombstones,
        static_row,
        flags & PARTITION_HAS_ROW_INDEX != 0,
    ))
}

/// Decodes a partition encoded by [`encode_partition`], checking that rows and range
/// tombstones are in order for `cmp`. The whole input must be consumed.
pub fn decode_partition(bytes: Bytes, cmp: &ClusteringComparator) -> Result<Partition, CodecError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let p = get_partition(&mut r, cmp)?;
    if r.remaining() != 0 {
        return Err(invalid(
            "partition",
            format!("{} trailing bytes", r.remaining()),
        ));
    }
    Ok(p)
}

/// Decodes the part of a partition encoded by [`encode_partition`] that `slices` select: the
/// partition deletion, the static row, the range tombstones cut to the slices and the rows
/// inside them, exactly what [`Partition::restrict`] of the whole partition gives. Rows
/// outside the slices are stepped over without being built, and decoding stops at the first
/// row past the last slice, so reading a few rows of a wide partition costs little more than
/// the rows it keeps. Bytes after that row are not examined.
pub fn decode_partition_slices(
    bytes: Bytes,
    cmp: &ClusteringComparator,
    slices: &[Slice],
) -> Result<Partition, CodecError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let (deletion, all_range_tombstones, static_row, has_index) = get_partition_head(&mut r, cmp)?;
    let range_tombstones = all_range_tombstones.restricted_to_slices(cmp, slices);
    // With the slices in order (what the read path passes), one cursor walks them alongside
    // the rows; otherwise every row is checked against every slice.
    let sorted = slices
        .windows(2)
        .all(|w| cmp.compare_cuts(&w[0].end, &w[1].start) != Ordering::Greater);
    let mut next_slice = 0;
    let m = r.count("row count")?;
    // The row index is only worth parsing to jump ahead, which needs sorted slices.
    let index = if has_index {
        get_row_index(&mut r, cmp, m, sorted && !slices.is_empty())?
    } else {
        Vec::new()
    };
    let rows_start = r.pos;
    // The slice a jump ahead was last tried for.
    let mut jump_tried_for = usize::MAX;
    let mut rows: Vec<Row> = Vec::new();
    // `current` is decoded into in place; after a row stepped over, it is swapped into
    // `skipped` (the clustering the next row must follow), so stepping over rows reuses two
    // buffers instead of allocating one per row.
    let mut current = Clustering(Vec::new());
    let mut skipped = Clustering(Vec::new());
    let mut last_was_skipped = false;
    let mut ordinal = 0;
    while ordinal < m {
        if !index.is_empty() && next_slice < slices.len() && jump_tried_for != next_slice {
            // Every row before the last index entry that precedes the slice's start is
            // outside the slices (earlier slices ended before the current row): go there.
            jump_tried_for = next_slice;
            let start = &slices[next_slice].start;
            let before = index.partition_point(|e| {
                cmp.compare_cut_to_clustering(start, &e.clustering) == Ordering::Greater
            });
            if let Some(entry) = before.checked_sub(1).and_then(|i| index.get(i)) {
                if entry.ordinal > ordinal {
                    ordinal = entry.ordinal;
                    r.pos = rows_start + entry.offset;
                }
            }
        }
        ordinal += 1;
        get_clustering_into(&mut r, &mut current.0)?;
        let previous = if last_was_skipped {
            Some(&skipped)
        } else {
            rows.last().map(|row| &row.clustering)
        };
        if let Some(last) = previous {
            if cmp.compare(last, &current).is_ge() {
                return Err(invalid("row", "rows not in increasing clustering order"));
            }
        }
        let keep = if sorted {
            while next_slice < slices.len()
                && cmp.compare_cut_to_clustering(&slices[next_slice].end, &current)
                    != Ordering::Greater
            {
                next_slice += 1;
            }
            if next_slice == slices.len() {
                break;
            }
            cmp.compare_cut_to_clustering(&slices[next_slice].start, &current) == Ordering::Less
        } else {
            slices.iter().any(|s| cmp.slice_contains(s, &current))
        };
        if keep {
            let clustering = std::mem::take(&mut current);
            rows.push(get_row_body(&mut r, clustering)?);
            last_was_skipped = false;
        } else {
            skip_row_body(&mut r)?;
            std::mem::swap(&mut current, &mut skipped);
            last_was_skipped = true;
        }
    }
    Ok(Partition {
        deletion,
        range_tombstones,
        static_row,
        rows,
    })
}

/// Encodes a clustering on its own (SSTable statistics keep the min and max clustering).
pub fn encode_clustering(c: &Clustering) -> Bytes {
    let mut buf = BytesMut::new();
    put_clustering_inner(&mut buf, c);
    buf.freeze()
}

/// Decodes a clustering encoded by [`encode_clustering`].
pub fn decode_clustering(bytes: Bytes) -> Result<Clustering, CodecError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let c = get_clustering(&mut r)?;
    if r.remaining() != 0 {
        return Err(invalid("clustering", "trailing bytes"));
    }
    Ok(c)
}

/// Encodes a mutation: version byte, then each update's table id, key and partition.
pub fn encode_mutation(buf: &mut BytesMut, m: &Mutation) {
    // One allocation up front: growing the buffer step by step cost a realloc (and glibc a
    // free-list consolidation) per step on every write.
    let estimate_bytes: usize = m
        .updates
        .iter()
        .map(|u| 32 + u.key.key().len() + u.partition.size_bytes())
        .sum();
    buf.reserve(2 + estimate_bytes);
    buf.put_u8(MUTATION_FORMAT_VERSION);
    put_uvarint(buf, m.updates.len() as u64);
    for u in &m.updates {
        buf.put_slice(u.table.0.as_bytes());
        put_bytes(buf, u.key.key());
        // The body goes straight into `buf`; its length prefix is slid in before it after.
        let start = buf.len();
        encode_partition(buf, &u.partition);
        let body_len = buf.len() - start;
        let (len_bytes, n) = uvarint_bytes(body_len as u64);
        buf.put_slice(&len_bytes[..n]);
        buf.copy_within(start..start + body_len, start + n);
        buf[start..start + n].copy_from_slice(&len_bytes[..n]);
    }
}

/// A decoded mutation, and the tables it names that the decoder did not know (their updates
/// are skipped: a table dropped since the mutation was written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedMutation {
    /// The updates of known tables.
    pub mutation: Mutation,
    /// Tables for which `comparator_for` returned `None`.
    pub unknown_tables: Vec<TableId>,
}

/// Decodes a mutation. `comparator_for` gives each table's clustering comparator; updates
/// of tables it does not know (`None`) are skipped and reported.
pub fn decode_mutation(
    bytes: Bytes,
    comparator_for: &dyn Fn(TableId) -> Option<ClusteringComparator>,
) -> Result<DecodedMutation, CodecError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let version = r.u8("mutation version")?;
    if version != MUTATION_FORMAT_VERSION {
        return Err(CodecError::UnsupportedVersion { version });
    }
    let n = r.count("update count")?;
    let mut updates = Vec::with_capacity(n);
    let mut unknown_tables = Vec::new();
    for _ in 0..n {
        let table = TableId(uuid::Uuid::from_bytes(r.fixed::<16>("table id")?));
        let key = PartitionKey::new(r.bytes("partition key")?);
        let body = r.bytes("partition")?;
        let Some(cmp) = comparator_for(table) else {
            unknown_tables.push(table);
            continue;
        };
        let partition = decode_partition(body, &cmp)?;
        updates.push(PartitionUpdate {
            table,
            key,
            partition,
        });
    }
    if r.remaining() != 0 {
        return Err(invalid(
            "mutation",
            format!("{} trailing bytes", r.remaining()),
        ));
    }
    Ok(DecodedMutation {
        mutation: Mutation { updates },
        unknown_tables,
    })
}
