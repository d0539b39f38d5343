//! Result metadata and `Rows` results (§4.2.5.2), including [`RowsWriter`], which writes a
//! Rows RESULT body straight into the output buffer.
//!
//! Metadata encoding follows Cassandra: the `Global_tables_spec` flag (0x0001) is set exactly
//! when there is at least one column and all columns share one keyspace and table; then the
//! table spec is written once. `Has_more_pages` (0x0002) is set exactly when a paging state is
//! present, and `No_metadata` (0x0004) when column specs are omitted (the client asked for
//! `skip_metadata`, or the statement returns no rows, as in a Prepared result for DML).
//!
//! Invariant kept by [`RowsWriter`]: the body it leaves has exactly `column_count` cells per
//! row and a row count equal to the rows written; a partial last row is an error at
//! [`RowsWriter::finish`].

use bytes::{BufMut, Bytes, BytesMut};

use crate::column_type::ColumnTypeSpec;
use crate::error::{DecodeError, EncodeError};
use crate::frame::ProtocolVersion;
use crate::wire::{self, Reader};

/// RESULT kind of Rows.
pub(crate) const RESULT_KIND_ROWS: i32 = 0x0002;

mod flags {
    pub const GLOBAL_TABLES_SPEC: i32 = 0x0001;
    pub const HAS_MORE_PAGES: i32 = 0x0002;
    pub const NO_METADATA: i32 = 0x0004;
}

/// One column of result metadata, or one bind marker of prepared metadata.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnSpec {
    /// Keyspace of the column's table.
    pub keyspace: String,
    /// Table name.
    pub table: String,
    /// Column name, alias or bind marker name.
    pub name: String,
    /// Wire type.
    pub column_type: ColumnTypeSpec,
}

impl ColumnSpec {
    /// A column spec.
    pub fn new(
        keyspace: impl Into<String>,
        table: impl Into<String>,
        name: impl Into<String>,
        column_type: ColumnTypeSpec,
    ) -> Self {
        ColumnSpec {
            keyspace: keyspace.into(),
            table: table.into(),
            name: name.into(),
            column_type,
        }
    }
}

/// The table shared by all columns, if there is one and at least one column.
fn global_table_spec(columns: &[ColumnSpec]) -> Option<(&str, &str)> {
    let first = columns.first()?;
    columns
        .iter()
        .all(|c| c.keyspace == first.keyspace && c.table == first.table)
        .then_some((first.keyspace.as_str(), first.table.as_str()))
}

/// Writes `[global_table_spec]? col_spec*`; returns whether the global spec was used.
pub(crate) fn encode_column_specs(
    dst: &mut BytesMut,
    columns: &[ColumnSpec],
    global: Option<(&str, &str)>,
    version: ProtocolVersion,
) -> Result<(), EncodeError> {
    if let Some((keyspace, table)) = global {
        wire::write_string(dst, keyspace)?;
        wire::write_string(dst, table)?;
    }
    for column in columns {
        if global.is_none() {
            wire::write_string(dst, &column.keyspace)?;
            wire::write_string(dst, &column.table)?;
        }
        wire::write_string(dst, &column.name)?;
        column.column_type.encode(dst, version)?;
    }
    Ok(())
}

/// Reads `[global_table_spec]? col_spec{count}`.
pub(crate) fn decode_column_specs(
    reader: &mut Reader,
    count: usize,
    has_global: bool,
) -> Result<Vec<ColumnSpec>, DecodeError> {
    let global = if has_global {
        Some((reader.read_string()?, reader.read_string()?))
    } else {
        None
    };
    let min_spec_bytes = if global.is_some() { 4 } else { 8 };
    let mut columns = Vec::with_capacity(count.min(reader.remaining() / min_spec_bytes));
    for _ in 0..count {
        let (keyspace, table) = match &global {
            Some((k, t)) => (k.clone(), t.clone()),
            None => (reader.read_string()?, reader.read_string()?),
        };
        let name = reader.read_string()?;
        let column_type = ColumnTypeSpec::decode(reader)?;
        columns.push(ColumnSpec {
            keyspace,
            table,
            name,
            column_type,
        });
    }
    Ok(columns)
}

/// The columns part of result metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultColumns {
    /// Full column specs.
    Specs(Vec<ColumnSpec>),
    /// `No_metadata`: only the column count.
    NoMetadata {
        /// Columns per row.
        column_count: usize,
    },
}

/// `<metadata>` of a Rows result, also the `<result_metadata>` of a Prepared result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowsMetadata {
    /// Column specs or just their count.
    pub columns: ResultColumns,
    /// Set when more pages follow (`Has_more_pages`).
    pub paging_state: Option<Bytes>,
}

impl RowsMetadata {
    /// Full metadata for `columns`, last page.
    pub fn new(columns: Vec<ColumnSpec>) -> Self {
        RowsMetadata {
            columns: ResultColumns::Specs(columns),
            paging_state: None,
        }
    }

    /// `No_metadata` with `column_count` columns, last page. `no_metadata(0)` is the result
    /// metadata of a prepared non-SELECT statement.
    pub fn no_metadata(column_count: usize) -> Self {
        RowsMetadata {
            columns: ResultColumns::NoMetadata { column_count },
            paging_state: None,
        }
    }

    /// Sets the paging state (and so `Has_more_pages`).
    pub fn with_paging_state(mut self, paging_state: Option<Bytes>) -> Self {
        self.paging_state = paging_state;
        self
    }

    /// The same metadata without column specs, for a client that sent `skip_metadata`.
    pub fn without_specs(&self) -> Self {
        RowsMetadata {
            columns: ResultColumns::NoMetadata {
                column_count: self.column_count(),
            },
            paging_state: self.paging_state.clone(),
        }
    }

    /// Columns per row.
    pub fn column_count(&self) -> usize {
        match &self.columns {
            ResultColumns::Specs(specs) => specs.len(),
            ResultColumns::NoMetadata { column_count } => *column_count,
        }
    }

    /// The column specs, if present.
    pub fn specs(&self) -> Option<&[ColumnSpec]> {
        match &self.columns {
            ResultColumns::Specs(specs) => Some(specs),
            ResultColumns::NoMetadata { .. } => None,
        }
    }

    /// Appends `<flags><columns_count>[<paging_state>][<global_table_spec>?<col_spec>*]`.
    pub fn encode(&self, dst: &mut BytesMut, version: ProtocolVersion) -> Result<(), EncodeError> {
        let global = self.specs().and_then(global_table_spec);
        let mut f = 0;
        if global.is_some() {
            f |= flags::GLOBAL_TABLES_SPEC;
        }
        if self.paging_state.is_some() {
            f |= flags::HAS_MORE_PAGES;
        }
        if self.specs().is_none() {
            f |= flags::NO_METADATA;
        }
        dst.put_i32(f);
        wire::write_int_count(dst, "result columns", self.column_count())?;
        if let Some(state) = &self.paging_state {
            wire::write_bytes(dst, Some(state))?;
        }
        if let Some(specs) = self.specs() {
            encode_column_specs(dst, specs, global, version)?;
        }
        Ok(())
    }

    /// Reads result metadata.
    pub fn decode(reader: &mut Reader) -> Result<Self, DecodeError> {
        let f = reader.read_i32()?;
        let column_count = reader.read_count("result columns")?;
        let paging_state = if f & flags::HAS_MORE_PAGES != 0 {
            reader.read_bytes()?
        } else {
            None
        };
        let columns = if f & flags::NO_METADATA != 0 {
            ResultColumns::NoMetadata { column_count }
        } else {
            ResultColumns::Specs(decode_column_specs(
                reader,
                column_count,
                f & flags::GLOBAL_TABLES_SPEC != 0,
            )?)
        };
        Ok(RowsMetadata {
            columns,
            paging_state,
        })
    }
}

/// A decoded Rows result: metadata plus the validated row content as one zero-copy slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows {
    /// Result metadata.
    pub metadata: RowsMetadata,
    rows_count: usize,
    content: Bytes,
}

impl Rows {
    /// Builds a Rows result from rows of cells (`None` is null). Every row must have
    /// `metadata.column_count()` cells.
    pub fn from_rows<R>(metadata: RowsMetadata, rows: R) -> Result<Rows, EncodeError>
    where
        R: IntoIterator<Item = Vec<Option<Bytes>>>,
    {
        let column_count = metadata.column_count();
        let mut content = BytesMut::new();
        let mut rows_count = 0usize;
        for row in rows {
            if row.len() != column_count {
                return Err(EncodeError::IncompleteRow {
                    cells: row.len(),
                    column_count,
                });
            }
            for cell in &row {
                wire::write_bytes(&mut content, cell.as_deref())?;
            }
            rows_count += 1;
        }
        Ok(Rows {
            metadata,
            rows_count,
            content: content.freeze(),
        })
    }

    /// Number of rows.
    pub fn rows_count(&self) -> usize {
        self.rows_count
    }

    /// All cells, row by row (`column_count` per row).
    pub fn cells(&self) -> CellsIter {
        CellsIter {
            reader: Reader::new(self.content.clone()),
            left: self.rows_count.saturating_mul(self.metadata.column_count()),
        }
    }

    /// The rows, each as a vector of cells.
    pub fn rows(&self) -> Vec<Vec<Option<Bytes>>> {
        let column_count = self.metadata.column_count();
        let mut out = Vec::with_capacity(self.rows_count);
        let mut cells = self.cells();
        for _ in 0..self.rows_count {
            out.push(cells.by_ref().take(column_count).collect());
        }
        out
    }

    /// Appends `<metadata><rows_count><rows_content>` (without the RESULT kind).
    pub fn encode(&self, dst: &mut BytesMut, version: ProtocolVersion) -> Result<(), EncodeError> {
        self.metadata.encode(dst, version)?;
        wire::write_int_count(dst, "rows", self.rows_count)?;
        dst.put_slice(&self.content);
        Ok(())
    }

    /// Reads `<metadata><rows_count><rows_content>` and validates every cell.
    pub fn decode(reader: &mut Reader) -> Result<Rows, DecodeError> {
        let metadata = RowsMetadata::decode(reader)?;
        let rows_count = reader.read_count("rows")?;
        let cell_count = rows_count.saturating_mul(metadata.column_count());
        // Each cell takes at least its 4-byte length.
        if cell_count > reader.remaining() / 4 {
            return Err(DecodeError::Truncated {
                what: "rows content",
                needed_bytes: cell_count.saturating_mul(4),
                remaining_bytes: reader.remaining(),
            });
        }
        let mut probe = reader.clone();
        for _ in 0..cell_count {
            probe.read_bytes()?;
        }
        let consumed = reader.remaining() - probe.remaining();
        let content = reader.take("rows content", consumed)?;
        Ok(Rows {
            metadata,
            rows_count,
            content,
        })
    }
}

/// Iterator over the cells of [`Rows`], row-major.
#[derive(Debug, Clone)]
pub struct CellsIter {
    reader: Reader,
    left: usize,
}

impl Iterator for CellsIter {
    type Item = Option<Bytes>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // Validated when decoded or built; stop rather than panic if that ever failed.
        self.reader.read_bytes().ok()
    }
}

/// Writes a Rows RESULT body (kind, metadata, row count, cells) directly into a buffer,
/// without allocating per value. The row count is patched in by [`RowsWriter::finish`].
///
/// ```
/// use bytes::BytesMut;
/// use meridian_cql_protocol::{ColumnSpec, ColumnTypeSpec, ProtocolVersion, RowsMetadata, RowsWriter};
///
/// let metadata = RowsMetadata::new(vec![
///     ColumnSpec::new("ks", "t", "k", ColumnTypeSpec::Int),
///     ColumnSpec::new("ks", "t", "v", ColumnTypeSpec::Varchar),
/// ]);
/// let mut body = BytesMut::new();
/// let mut rows = RowsWriter::begin(&mut body, &metadata, ProtocolVersion::V4).unwrap();
/// rows.write_int(1).unwrap();
/// rows.write_text("one").unwrap();
/// rows.write_int(2).unwrap();
/// rows.write_null().unwrap();
/// assert_eq!(rows.finish().unwrap(), 2);
/// ```
#[derive(Debug)]
pub struct RowsWriter<'a> {
    dst: &'a mut BytesMut,
    count_offset: usize,
    column_count: usize,
    cells_in_row: usize,
    rows: usize,
}

impl<'a> RowsWriter<'a> {
    /// Writes the RESULT kind, `metadata` and a row-count placeholder.
    pub fn begin(
        dst: &'a mut BytesMut,
        metadata: &RowsMetadata,
        version: ProtocolVersion,
    ) -> Result<Self, EncodeError> {
        let start = dst.len();
        dst.put_i32(RESULT_KIND_ROWS);
        if let Err(e) = metadata.encode(dst, version) {
            dst.truncate(start);
            return Err(e);
        }
        let count_offset = dst.len();
        dst.put_i32(0);
        Ok(RowsWriter {
            dst,
            count_offset,
            column_count: metadata.column_count(),
            cells_in_row: 0,
            rows: 0,
        })
    }

    /// Like [`RowsWriter::begin`] with metadata already encoded by [`RowsMetadata::encode`]
    /// (servers can cache it per prepared statement). `column_count` must match it.
    pub fn begin_with_encoded_metadata(
        dst: &'a mut BytesMut,
        encoded_metadata: &[u8],
        column_count: usize,
    ) -> Self {
        dst.put_i32(RESULT_KIND_ROWS);
        dst.put_slice(encoded_metadata);
        let count_offset = dst.len();
        dst.put_i32(0);
        RowsWriter {
            dst,
            count_offset,
            column_count,
            cells_in_row: 0,
            rows: 0,
        }
    }

    fn before_cell(&self) -> Result<(), EncodeError> {
        if self.column_count == 0 {
            return Err(EncodeError::Inconsistent {
                detail: "cannot write a cell in a result with no columns",
            });
        }
        if self.rows >= wire::MAX_INT_LENGTH {
            return Err(EncodeError::TooManyItems {
                what: "rows",
                count: self.rows + 1,
                max: wire::MAX_INT_LENGTH,
            });
        }
        Ok(())
    }

    fn after_cell(&mut self) {
        self.cells_in_row += 1;
        if self.cells_in_row == self.column_count {
            self.cells_in_row = 0;
            self.rows += 1;
        }
    }

    /// Writes a cell (`None` is null).
    pub fn write_cell(&mut self, value: Option<&[u8]>) -> Result<(), EncodeError> {
        self.before_cell()?;
        wire::write_bytes(self.dst, value)?;
        self.after_cell();
        Ok(())
    }

    /// Writes a null cell.
    pub fn write_null(&mut self) -> Result<(), EncodeError> {
        self.write_cell(None)
    }

    /// Writes a cell whose bytes `serialize` appends to the buffer; its length is patched in.
    pub fn write_cell_with<F>(&mut self, serialize: F) -> Result<(), EncodeError>
    where
        F: FnOnce(&mut BytesMut),
    {
        self.before_cell()?;
        let len_offset = self.dst.len();
        self.dst.put_i32(0);
        serialize(self.dst);
        let len = self.dst.len() - len_offset - 4;
        if len > wire::MAX_INT_LENGTH {
            self.dst.truncate(len_offset);
            return Err(EncodeError::TooLong {
                what: "[bytes]",
                length: len,
                max: wire::MAX_INT_LENGTH,
            });
        }
        let len_bytes = i32::try_from(len).unwrap_or(i32::MAX).to_be_bytes();
        if let Some(slot) = self.dst.get_mut(len_offset..len_offset + 4) {
            slot.copy_from_slice(&len_bytes);
        }
        self.after_cell();
        Ok(())
    }

    /// Writes an `int` cell.
    pub fn write_int(&mut self, v: i32) -> Result<(), EncodeError> {
        self.write_cell(Some(&v.to_be_bytes()))
    }

    /// Writes a `bigint`/`timestamp`/`counter` cell.
    pub fn write_bigint(&mut self, v: i64) -> Result<(), EncodeError> {
        self.write_cell(Some(&v.to_be_bytes()))
    }

    /// Writes a `boolean` cell.
    pub fn write_boolean(&mut self, v: bool) -> Result<(), EncodeError> {
        self.write_cell(Some(&[u8::from(v)]))
    }

    /// Writes a `double` cell.
    pub fn write_double(&mut self, v: f64) -> Result<(), EncodeError> {
        self.write_cell(Some(&v.to_be_bytes()))
    }

    /// Writes a `text`/`ascii` cell.
    pub fn write_text(&mut self, v: &str) -> Result<(), EncodeError> {
        self.write_cell(Some(v.as_bytes()))
    }

    /// Writes a `uuid`/`timeuuid` cell.
    pub fn write_uuid(&mut self, v: &[u8; 16]) -> Result<(), EncodeError> {
        self.write_cell(Some(v))
    }

    /// Complete rows written so far.
    pub fn rows_written(&self) -> usize {
        self.rows
    }

    /// Patches the row count. Fails if the last row is incomplete.
    pub fn finish(self) -> Result<usize, EncodeError> {
        if self.cells_in_row != 0 {
            return Err(EncodeError::IncompleteRow {
                cells: self.cells_in_row,
                column_count: self.column_count,
            });
        }
        let count = i32::try_from(self.rows).unwrap_or(i32::MAX).to_be_bytes();
        if let Some(slot) = self.dst.get_mut(self.count_offset..self.count_offset + 4) {
            slot.copy_from_slice(&count);
        }
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Buf;

    fn metadata() -> RowsMetadata {
        RowsMetadata::new(vec![
            ColumnSpec::new("ks", "t", "k", ColumnTypeSpec::Int),
            ColumnSpec::new("ks", "t", "v", ColumnTypeSpec::Varchar),
        ])
    }

    #[test]
    fn global_table_spec_flag() {
        let mut buf = BytesMut::new();
        metadata().encode(&mut buf, ProtocolVersion::V4).unwrap();
        let mut expected = vec![0, 0, 0, 1, 0, 0, 0, 2, 0, 2, b'k', b's', 0, 1, b't'];
        expected.extend_from_slice(&[0, 1, b'k', 0, 0x09, 0, 1, b'v', 0, 0x0D]);
        assert_eq!(&buf[..], &expected[..]);

        let mixed = RowsMetadata::new(vec![
            ColumnSpec::new("ks", "a", "x", ColumnTypeSpec::Int),
            ColumnSpec::new("ks", "b", "y", ColumnTypeSpec::Int),
        ]);
        let mut buf = BytesMut::new();
        mixed.encode(&mut buf, ProtocolVersion::V4).unwrap();
        assert_eq!(&buf[..4], &[0, 0, 0, 0]);
        assert_eq!(
            RowsMetadata::decode(&mut Reader::new(buf.freeze())),
            Ok(mixed)
        );

        let mut buf = BytesMut::new();
        RowsMetadata::new(vec![])
            .encode(&mut buf, ProtocolVersion::V4)
            .unwrap();
        assert_eq!(&buf[..], &[0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn paging_and_no_metadata_flags() {
        let m = metadata()
            .with_paging_state(Some(Bytes::from_static(b"ps")))
            .without_specs();
        let mut buf = BytesMut::new();
        m.encode(&mut buf, ProtocolVersion::V4).unwrap();
        assert_eq!(&buf[..], &[0, 0, 0, 6, 0, 0, 0, 2, 0, 0, 0, 2, b'p', b's']);
        assert_eq!(RowsMetadata::decode(&mut Reader::new(buf.freeze())), Ok(m));
    }

    #[test]
    fn writer_output_decodes() {
        let mut buf = BytesMut::new();
        let mut w = RowsWriter::begin(&mut buf, &metadata(), ProtocolVersion::V4).unwrap();
        w.write_int(7).unwrap();
        w.write_cell_with(|b| b.put_slice(b"seven")).unwrap();
        w.write_int(8).unwrap();
        w.write_null().unwrap();
        assert_eq!(w.finish().unwrap(), 2);
        let mut body = buf.freeze();
        assert_eq!(body.get_i32(), RESULT_KIND_ROWS);
        let rows = Rows::decode(&mut Reader::new(body)).unwrap();
        assert_eq!(rows.metadata, metadata());
        assert_eq!(
            rows.rows(),
            vec![
                vec![
                    Some(Bytes::from_static(&[0, 0, 0, 7])),
                    Some(Bytes::from_static(b"seven"))
                ],
                vec![Some(Bytes::from_static(&[0, 0, 0, 8])), None],
            ]
        );
        let rebuilt = Rows::from_rows(metadata(), rows.rows()).unwrap();
        assert_eq!(rebuilt, rows);
    }

    #[test]
    fn writer_rejects_partial_rows() {
        let mut buf = BytesMut::new();
        let mut w = RowsWriter::begin(&mut buf, &metadata(), ProtocolVersion::V4).unwrap();
        w.write_int(1).unwrap();
        assert_eq!(
            w.finish(),
            Err(EncodeError::IncompleteRow {
                cells: 1,
                column_count: 2
            })
        );
        let mut buf = BytesMut::new();
        let mut w =
            RowsWriter::begin(&mut buf, &RowsMetadata::new(vec![]), ProtocolVersion::V4).unwrap();
        assert!(w.write_int(1).is_err());
        assert_eq!(w.finish(), Ok(0));
    }

    #[test]
    fn encoded_metadata_variant_matches() {
        let mut cached = BytesMut::new();
        metadata().encode(&mut cached, ProtocolVersion::V4).unwrap();
        let mut a = BytesMut::new();
        let mut w = RowsWriter::begin_with_encoded_metadata(&mut a, &cached, 2);
        w.write_int(1).unwrap();
        w.write_text("x").unwrap();
        w.finish().unwrap();
        let mut b = BytesMut::new();
        let mut w = RowsWriter::begin(&mut b, &metadata(), ProtocolVersion::V4).unwrap();
        w.write_int(1).unwrap();
        w.write_text("x").unwrap();
        w.finish().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn huge_row_counts_rejected_cheaply() {
        // flags 0, 1 column (ks.t.k int), rows_count i32::MAX, no content.
        let mut buf = BytesMut::new();
        RowsMetadata::new(vec![ColumnSpec::new("ks", "t", "k", ColumnTypeSpec::Int)])
            .encode(&mut buf, ProtocolVersion::V4)
            .unwrap();
        buf.put_i32(i32::MAX);
        assert!(matches!(
            Rows::decode(&mut Reader::new(buf.freeze())),
            Err(DecodeError::Truncated {
                what: "rows content",
                ..
            })
        ));
    }
}
