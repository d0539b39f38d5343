//! Rows as `SELECT` sees them: a live partition (its key components, static row and rows in
//! the order they are returned) and views of one result row, with the CQL value of every
//! column assembled from its cells.
//!
//! Invariants: a [`LiveData`] only holds live data (no tombstones, no expired cells); the
//! value of a non-frozen collection is its serialized CQL form with elements in CQL order
//! (list elements by their timeuuid cell path, set elements and map keys by the element
//! type's comparator), and an empty collection is null, as in Cassandra; a non-frozen UDT is
//! assembled from its field cells (cell path: the field index as a big-endian `u16`).

use bytes::{BufMut, Bytes, BytesMut};
use meridian_schema::{ColumnKind, ColumnMetadata};
use meridian_types::cql_type::{compare, CqlType};
use meridian_types::model::{Cell, Clustering, ColumnData, ComplexColumn, Row};
use meridian_types::token::{PartitionKey, Token};

/// The live content of one partition, ready to be turned into result rows.
#[derive(Clone, Debug)]
pub(crate) struct LiveData {
    /// The partition key.
    pub key: PartitionKey,
    /// The partition key split into its components, by position.
    pub pk_values: Vec<Bytes>,
    /// The static row, if any static column is live.
    pub static_row: Option<Row>,
    /// Live rows in the order they are read (reversed for reversed queries).
    pub rows: Vec<Row>,
}

/// One result row: a row of a partition, or the partition's static row alone (a partition
/// with static data and no rows).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowView<'a> {
    /// The partition.
    pub partition: &'a LiveData,
    /// The row; `None` for the static-only row.
    pub row: Option<&'a Row>,
}

impl<'a> RowView<'a> {
    /// The row's token.
    pub fn token(&self) -> Token {
        self.partition.key.token()
    }

    /// The row's clustering (`None` for the static-only row).
    pub fn clustering(&self) -> Option<&'a Clustering> {
        self.row.map(|r| &r.clustering)
    }

    /// The data of a regular or static column.
    pub fn column_data(&self, column: &ColumnMetadata) -> Option<&'a ColumnData> {
        match column.kind {
            ColumnKind::Static => self.partition.static_row.as_ref()?.column(column.id),
            ColumnKind::Regular => self.row?.column(column.id),
            _ => None,
        }
    }

    /// The serialized value of `column` in this row (`None` for null).
    pub fn value(&self, column: &ColumnMetadata) -> Option<Bytes> {
        match column.kind {
            ColumnKind::PartitionKey { position } => {
                self.partition.pk_values.get(position as usize).cloned()
            }
            ColumnKind::Clustering { position, .. } => {
                self.clustering()?.0.get(position as usize).cloned()
            }
            ColumnKind::Regular | ColumnKind::Static => {
                column_value(&column.ty, self.column_data(column)?)
            }
        }
    }

    /// The write timestamps of `column`'s cells: one for a single-cell column, one per
    /// element (in CQL order) for a multi-cell one; empty when the column is null.
    pub fn writetimes(&self, column: &ColumnMetadata) -> Vec<Option<i64>> {
        self.cell_metadata(column, &|c: &Cell| Some(c.timestamp_micros))
    }

    /// The remaining TTLs (seconds at `now_secs`) of `column`'s cells, `None` for cells
    /// without a TTL; shaped like [`RowView::writetimes`].
    pub fn ttls(&self, column: &ColumnMetadata, now_secs: i64) -> Vec<Option<i64>> {
        self.cell_metadata(column, &|c: &Cell| {
            let expiry = match c.state {
                meridian_types::model::CellState::Expiring {
                    local_expiration_time_secs,
                    ..
                } => local_expiration_time_secs,
                _ => return None,
            };
            let remaining = expiry.saturating_sub(now_secs);
            (remaining >= 0).then_some(remaining)
        })
    }

    fn cell_metadata(
        &self,
        column: &ColumnMetadata,
        of: &dyn Fn(&Cell) -> Option<i64>,
    ) -> Vec<Option<i64>> {
        match self.column_data(column) {
            None => Vec::new(),
            Some(ColumnData::Simple(cell)) => vec![of(cell)],
            Some(ColumnData::Complex(complex)) => match &column.ty {
                // One entry per field of a UDT, null for fields without a cell.
                CqlType::Udt(udt) => {
                    let mut out = vec![None; udt.fields.len()];
                    for (path, cell) in &complex.cells {
                        if let Some(slot) = udt_field_index(path).and_then(|i| out.get_mut(i)) {
                            *slot = of(cell);
                        }
                    }
                    out
                }
                _ => ordered_cells(&column.ty, complex)
                    .into_iter()
                    .map(|(_, cell)| of(cell))
                    .collect(),
            },
        }
    }
}

/// The CQL value of a regular or static column from its data.
pub(crate) fn column_value(ty: &CqlType, data: &ColumnData) -> Option<Bytes> {
    match data {
        ColumnData::Simple(cell) => Some(cell.value.clone()),
        ColumnData::Complex(complex) => complex_value(ty, complex),
    }
}

/// The cells of a multi-cell column in CQL order.
pub(crate) fn ordered_cells<'c>(
    ty: &CqlType,
    complex: &'c ComplexColumn,
) -> Vec<(&'c Bytes, &'c Cell)> {
    let mut cells: Vec<(&Bytes, &Cell)> = complex.cells.iter().map(|(p, c)| (p, c)).collect();
    match ty {
        CqlType::List(_) => {
            cells.sort_by(|a, b| compare(&CqlType::Timeuuid, a.0, b.0).then_with(|| a.0.cmp(b.0)))
        }
        CqlType::Set(element) => cells.sort_by(|a, b| compare(element, a.0, b.0)),
        CqlType::Map(key, _) => cells.sort_by(|a, b| compare(key, a.0, b.0)),
        CqlType::Udt(_) => cells.sort_by_key(|a| udt_field_index(a.0)),
        _ => {}
    }
    cells
}

/// The field index a UDT cell path encodes (big-endian `u16`); malformed paths sort last
/// and are ignored when the value is assembled.
pub(crate) fn udt_field_index(path: &[u8]) -> Option<usize> {
    <[u8; 2]>::try_from(path)
        .ok()
        .map(|b| usize::from(u16::from_be_bytes(b)))
}

/// The serialized value of a non-frozen collection or UDT (`None` when it has no cell).
fn complex_value(ty: &CqlType, complex: &ComplexColumn) -> Option<Bytes> {
    if complex.cells.is_empty() {
        return None;
    }
    let cells = ordered_cells(ty, complex);
    let mut out = BytesMut::new();
    match ty {
        CqlType::List(_) => {
            out.put_i32(len_i32(cells.len()));
            for (_, cell) in &cells {
                put_value(&mut out, Some(&cell.value));
            }
        }
        CqlType::Set(_) => {
            out.put_i32(len_i32(cells.len()));
            for (path, _) in &cells {
                put_value(&mut out, Some(path));
            }
        }
        CqlType::Map(..) => {
            out.put_i32(len_i32(cells.len()));
            for (path, cell) in &cells {
                put_value(&mut out, Some(path));
                put_value(&mut out, Some(&cell.value));
            }
        }
        CqlType::Udt(udt) => {
            let mut fields: Vec<Option<&Bytes>> = vec![None; udt.fields.len()];
            for (path, cell) in &cells {
                if let Some(slot) = udt_field_index(path).and_then(|i| fields.get_mut(i)) {
                    *slot = Some(&cell.value);
                }
            }
            for f in fields {
                put_value(&mut out, f);
            }
        }
        // Only multi-cell types have complex data; anything else is unreadable as a value.
        _ => return None,
    }
    Some(out.freeze())
}

fn len_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Appends a `[bytes]` value: `i32` length then the bytes, or -1 for null.
pub(crate) fn put_value(out: &mut BytesMut, value: Option<&Bytes>) {
    match value {
        Some(v) => {
            out.put_i32(len_i32(v.len()));
            out.put_slice(v);
        }
        None => out.put_i32(-1),
    }
}

/// Serializes a list whose elements may be null (the shape of `writetime(collection)`).
pub(crate) fn serialize_list(elements: &[Option<Bytes>]) -> Bytes {
    let mut out = BytesMut::new();
    out.put_i32(len_i32(elements.len()));
    for e in elements {
        put_value(&mut out, e.as_ref());
    }
    out.freeze()
}

/// Splits a serialized list or set into its elements; `None` when malformed. Elements of a
/// client-supplied value are untrusted: lengths are checked against the input.
pub(crate) fn split_collection(bytes: &[u8]) -> Option<Vec<Option<Bytes>>> {
    let mut r = Reader { rest: bytes };
    let count = r.i32()?;
    if count < 0 {
        return None;
    }
    let mut out = Vec::with_capacity((count as usize).min(bytes.len() / 4));
    for _ in 0..count {
        out.push(r.value()?);
    }
    r.rest.is_empty().then_some(out)
}

/// Splits a serialized map into its entries; `None` when malformed.
pub(crate) fn split_map(bytes: &[u8]) -> Option<Vec<(Bytes, Option<Bytes>)>> {
    let mut r = Reader { rest: bytes };
    let count = r.i32()?;
    if count < 0 {
        return None;
    }
    let mut out = Vec::with_capacity((count as usize).min(bytes.len() / 8));
    for _ in 0..count {
        let k = r.value()??;
        let v = r.value()?;
        out.push((k, v));
    }
    r.rest.is_empty().then_some(out)
}

/// Splits a serialized tuple (or frozen UDT) into its fields; missing trailing fields are
/// null. `None` when malformed or longer than `arity`.
pub(crate) fn split_tuple(bytes: &[u8], arity: usize) -> Option<Vec<Option<Bytes>>> {
    let mut r = Reader { rest: bytes };
    let mut out = Vec::with_capacity(arity);
    while !r.rest.is_empty() {
        if out.len() == arity {
            return None;
        }
        out.push(r.value()?);
    }
    out.resize(arity, None);
    Some(out)
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl Reader<'_> {
    fn i32(&mut self) -> Option<i32> {
        let (head, rest) = self.rest.split_first_chunk::<4>()?;
        self.rest = rest;
        Some(i32::from_be_bytes(*head))
    }

    /// A `[bytes]` value; `Some(None)` for null.
    fn value(&mut self) -> Option<Option<Bytes>> {
        let len = self.i32()?;
        if len < 0 {
            return Some(None);
        }
        let len = len as usize;
        if self.rest.len() < len {
            return None;
        }
        let (v, rest) = self.rest.split_at(len);
        self.rest = rest;
        Some(Some(Bytes::copy_from_slice(v)))
    }
}

/// The data of a column holding `value` (a serialized value of `ty`), as cells written at
/// `timestamp_micros`: one cell for single-cell types, one per element for non-frozen
/// collections and UDTs. Used to present generated (virtual) rows like stored ones.
pub(crate) fn column_data_of(ty: &CqlType, value: &Bytes, timestamp_micros: i64) -> ColumnData {
    let cell = |v: Bytes| Cell::live(timestamp_micros, v);
    let complex = |mut cells: Vec<(Bytes, Cell)>| {
        cells.sort_by(|a, b| a.0.cmp(&b.0));
        cells.dedup_by(|a, b| a.0 == b.0);
        ColumnData::Complex(ComplexColumn {
            deletion: meridian_types::model::DeletionTime::LIVE,
            cells,
        })
    };
    match ty {
        CqlType::Set(_) => match split_collection(value) {
            Some(elements) => complex(
                elements
                    .into_iter()
                    .flatten()
                    .map(|e| (e, cell(Bytes::new())))
                    .collect(),
            ),
            None => ColumnData::Simple(cell(value.clone())),
        },
        CqlType::Map(..) => match split_map(value) {
            Some(entries) => complex(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, cell(v.unwrap_or_default())))
                    .collect(),
            ),
            None => ColumnData::Simple(cell(value.clone())),
        },
        CqlType::List(_) => match split_collection(value) {
            Some(elements) => complex(
                elements
                    .into_iter()
                    .enumerate()
                    .map(|(i, e)| (synthetic_list_path(i), cell(e.unwrap_or_default())))
                    .collect(),
            ),
            None => ColumnData::Simple(cell(value.clone())),
        },
        CqlType::Udt(udt) => match split_tuple(value, udt.fields.len()) {
            Some(fields) => complex(
                fields
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, f)| {
                        let index = u16::try_from(i).ok()?;
                        Some((Bytes::copy_from_slice(&index.to_be_bytes()), cell(f?)))
                    })
                    .collect(),
            ),
            None => ColumnData::Simple(cell(value.clone())),
        },
        _ => ColumnData::Simple(cell(value.clone())),
    }
}

/// A version-1 timeuuid cell path that sorts by `index` (for generated list values).
fn synthetic_list_path(index: usize) -> Bytes {
    // time_low carries the index, everything else is constant: time_mid/hi = 0 with version
    // 1, variant bits set, node 0. The timeuuid comparator orders by timestamp first.
    let mut b = [0u8; 16];
    let index = u32::try_from(index).unwrap_or(u32::MAX);
    b[..4].copy_from_slice(&index.to_be_bytes());
    b[6] = 0x10;
    b[8] = 0x80;
    Bytes::copy_from_slice(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use meridian_types::model::DeletionTime;
    use meridian_types::value::CqlValue;

    fn complex(cells: Vec<(Bytes, Cell)>) -> ComplexColumn {
        let mut cells = cells;
        cells.sort_by(|a, b| a.0.cmp(&b.0));
        ComplexColumn {
            deletion: DeletionTime::LIVE,
            cells,
        }
    }

    #[test]
    fn set_elements_are_in_type_order() {
        let ty = CqlType::Set(Box::new(CqlType::Int));
        // Unsigned byte order puts -1 (0xffffffff) last; int order puts it first.
        let c = complex(vec![
            (CqlValue::Int(5).to_bytes(), Cell::live(1, Bytes::new())),
            (CqlValue::Int(-1).to_bytes(), Cell::live(1, Bytes::new())),
        ]);
        let v = complex_value(&ty, &c).expect("value");
        assert_eq!(
            CqlValue::deserialize(&ty, &v).expect("valid"),
            CqlValue::Set(vec![CqlValue::Int(-1), CqlValue::Int(5)])
        );
    }

    #[test]
    fn map_and_udt_values() {
        let ty = CqlType::Map(Box::new(CqlType::Int), Box::new(CqlType::Text));
        let c = complex(vec![
            (
                CqlValue::Int(2).to_bytes(),
                Cell::live(1, CqlValue::Text("b".into()).to_bytes()),
            ),
            (
                CqlValue::Int(-7).to_bytes(),
                Cell::live(1, CqlValue::Text("a".into()).to_bytes()),
            ),
        ]);
        let v = complex_value(&ty, &c).expect("value");
        assert_eq!(
            CqlValue::deserialize(&ty, &v).expect("valid"),
            CqlValue::Map(vec![
                (CqlValue::Int(-7), CqlValue::Text("a".into())),
                (CqlValue::Int(2), CqlValue::Text("b".into()))
            ])
        );
        let udt = CqlType::Udt(meridian_types::cql_type::UdtType {
            keyspace: "ks".into(),
            name: "u".into(),
            fields: vec![("a".into(), CqlType::Int), ("b".into(), CqlType::Int)],
        });
        let c = complex(vec![(
            Bytes::from_static(&[0, 1]),
            Cell::live(1, CqlValue::Int(9).to_bytes()),
        )]);
        let v = complex_value(&udt, &c).expect("value");
        assert_eq!(
            split_tuple(&v, 2).expect("fields"),
            vec![None, Some(CqlValue::Int(9).to_bytes())]
        );
        assert_eq!(complex_value(&udt, &complex(vec![])), None);
    }

    #[test]
    fn generated_values_round_trip_through_cells() {
        let ty = CqlType::List(Box::new(CqlType::Text));
        let value = CqlValue::List(vec![
            CqlValue::Text("z".into()),
            CqlValue::Text("a".into()),
            CqlValue::Text("m".into()),
        ])
        .to_bytes();
        let data = column_data_of(&ty, &value, 0);
        assert_eq!(column_value(&ty, &data), Some(value));
        let ty = CqlType::Set(Box::new(CqlType::Text));
        let value =
            CqlValue::Set(vec![CqlValue::Text("a".into()), CqlValue::Text("b".into())]).to_bytes();
        assert_eq!(
            column_value(&ty, &column_data_of(&ty, &value, 0)),
            Some(value)
        );
    }

    #[test]
    fn malformed_collections_are_rejected() {
        assert_eq!(split_collection(&[0, 0, 0, 1, 0, 0, 0, 9, 1]), None);
        assert_eq!(split_collection(&[0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(split_collection(&[0, 0]), None);
        assert_eq!(split_map(&[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(split_tuple(&[0, 0, 0, 0, 0, 0, 0, 0], 1), None);
        assert_eq!(split_collection(&[0, 0, 0, 0]), Some(vec![]));
    }
}
