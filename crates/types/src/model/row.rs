//! Rows: a clustering, the primary-key liveness, a row tombstone and the column data.

use std::cmp::Ordering;

use bytes::Bytes;

use super::cell::Cell;
use super::clustering::Clustering;
use super::deletion::{DeletionTime, LivenessInfo};

/// Identifies a column within its table. Ids are assigned by the schema, never reused, so a
/// dropped and re-added column does not see the old column's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ColumnId(pub u32);

/// A non-frozen collection (or UDT): one cell per element, keyed by a cell path (the set
/// element, the map key, the list element's timeuuid, the UDT field index), plus a tombstone
/// for the collection as a whole (what overwriting the collection writes).
///
/// Cells are kept sorted by unsigned path bytes: a consistent order is all merging needs;
/// presenting elements in their CQL type order is the query layer's concern.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ComplexColumn {
    /// Deletion of the whole collection.
    pub deletion: DeletionTime,
    /// Element cells, sorted by path, paths unique.
    pub cells: Vec<(Bytes, Cell)>,
}

/// The data of one column in a row.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ColumnData {
    /// A regular column, or a frozen collection.
    Simple(Cell),
    /// A non-frozen collection or UDT.
    Complex(ComplexColumn),
}

/// A row. Static rows use the empty clustering.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Row {
    /// The row's clustering (empty for static rows and tables without clustering columns).
    pub clustering: Clustering,
    /// The primary-key liveness written by `INSERT`.
    pub liveness: Option<LivenessInfo>,
    /// The row tombstone (`DeletionTime::LIVE` when none).
    pub deletion: DeletionTime,
    /// Column data, sorted by column id, ids unique.
    pub columns: Vec<(ColumnId, ColumnData)>,
}

impl Row {
    /// An empty row at `clustering`.
    pub fn new(clustering: Clustering) -> Self {
        Row {
            clustering,
            liveness: None,
            deletion: DeletionTime::LIVE,
            columns: Vec::new(),
        }
    }

    /// Whether the row carries nothing at all (no liveness, tombstone or cell).
    pub fn is_empty(&self) -> bool {
        self.liveness.is_none() && self.deletion.is_live() && self.columns.is_empty()
    }

    /// Sets (merges) a simple cell.
    pub fn set_cell(&mut self, column: ColumnId, cell: Cell) {
        self.merge_column(column, ColumnData::Simple(cell));
    }

    /// Merges `data` into the column.
    pub fn merge_column(&mut self, column: ColumnId, data: ColumnData) {
        match self.columns.binary_search_by_key(&column, |(id, _)| *id) {
            Ok(i) => {
                if let Some(slot) = self.columns.get_mut(i) {
                    let old = std::mem::replace(
                        &mut slot.1,
                        ColumnData::Complex(ComplexColumn::default()),
                    );
                    slot.1 = merge_column_data(old, data);
                }
            }
            Err(i) => self.columns.insert(i, (column, data)),
        }
    }

    /// The data of one column.
    pub fn column(&self, column: ColumnId) -> Option<&ColumnData> {
        self.columns
            .binary_search_by_key(&column, |(id, _)| *id)
            .ok()
            .and_then(|i| self.columns.get(i))
            .map(|(_, d)| d)
    }

    /// Merges two rows with the same clustering. Shadowed data is not removed here: see
    /// [`Row::shadow`].
    pub fn merge(self, other: Row) -> Row {
        debug_assert_eq!(self.clustering, other.clustering);
        let liveness = match (self.liveness, other.liveness) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let deletion = self.deletion.max(other.deletion);
        let columns = merge_sorted(
            self.columns,
            other.columns,
            |a, b| a.0.cmp(&b.0),
            |a, b| (a.0, merge_column_data(a.1, b.1)),
        );
        Row {
            clustering: self.clustering,
            liveness,
            deletion,
            columns,
        }
    }

    /// Removes everything shadowed by the row's own tombstone or by `outer` (the partition
    /// and range tombstones covering the row), and the row tombstone itself if `outer` covers
    /// it. Returns whether anything is left.
    pub fn shadow(&mut self, outer: DeletionTime) -> bool {
        if outer.covers(&self.deletion) {
            self.deletion = DeletionTime::LIVE;
        }
        let active = outer.max(self.deletion);
        if !active.is_live() {
            if let Some(l) = self.liveness {
                if active.deletes(l.timestamp_micros) {
                    self.liveness = None;
                }
            }
            self.columns.retain_mut(|(_, data)| match data {
                ColumnData::Simple(cell) => !active.deletes(cell.timestamp_micros),
                ColumnData::Complex(complex) => shadow_complex(complex, active),
            });
        } else {
            self.columns.retain_mut(|(_, data)| match data {
                ColumnData::Simple(_) => true,
                ColumnData::Complex(complex) => shadow_complex(complex, active),
            });
        }
        !self.is_empty()
    }

    /// Whether the row has live data at `now_secs`: a live primary-key liveness or a live
    /// cell. (A row holding only tombstones does not exist for `SELECT`.)
    pub fn has_live_data(&self, now_secs: i64) -> bool {
        if self.liveness.is_some_and(|l| l.is_live(now_secs)) {
            return true;
        }
        self.columns.iter().any(|(_, d)| match d {
            ColumnData::Simple(c) => c.is_live(now_secs),
            ColumnData::Complex(cc) => cc.cells.iter().any(|(_, c)| c.is_live(now_secs)),
        })
    }

    /// The row with only what is live at `now_secs` (no tombstones, no expired data), or
    /// `None` if nothing is live. Call on shadowed rows.
    pub fn live_part(&self, now_secs: i64) -> Option<Row> {
        if !self.has_live_data(now_secs) {
            return None;
        }
        let mut columns = Vec::with_capacity(self.columns.len());
        for (id, data) in &self.columns {
            match data {
                ColumnData::Simple(c) if c.is_live(now_secs) => {
                    columns.push((*id, ColumnData::Simple(c.clone())));
                }
                ColumnData::Simple(_) => {}
                ColumnData::Complex(cc) => {
                    let cells: Vec<(Bytes, Cell)> = cc
                        .cells
                        .iter()
                        .filter(|(_, c)| c.is_live(now_secs))
                        .cloned()
                        .collect();
                    if !cells.is_empty() {
                        columns.push((
                            *id,
                            ColumnData::Complex(ComplexColumn {
                                deletion: DeletionTime::LIVE,
                                cells,
                            }),
                        ));
                    }
                }
            }
        }
        Some(Row {
            clustering: self.clustering.clone(),
            liveness: self.liveness.filter(|l| l.is_live(now_secs)),
            deletion: DeletionTime::LIVE,
            columns,
        })
    }

    /// Approximate heap footprint, for memory accounting.
    pub fn size_bytes(&self) -> usize {
        let cells: usize = self
            .columns
            .iter()
            .map(|(_, d)| match d {
                ColumnData::Simple(c) => 8 + c.size_bytes(),
                ColumnData::Complex(cc) => {
                    40 + cc
                        .cells
                        .iter()
                        .map(|(p, c)| 32 + p.len() + c.size_bytes())
                        .sum::<usize>()
                }
            })
            .sum();
        96 + self.clustering.size_bytes() + cells
    }
}

fn shadow_complex(complex: &mut ComplexColumn, outer: DeletionTime) -> bool {
    if outer.covers(&complex.deletion) {
        complex.deletion = DeletionTime::LIVE;
    }
    let active = outer.max(complex.deletion);
    if !active.is_live() {
        complex
            .cells
            .retain(|(_, c)| !active.deletes(c.timestamp_micros));
    }
    !complex.deletion.is_live() || !complex.cells.is_empty()
}

/// Merges two column values. A simple cell meeting a complex column (possible only after a
/// schema change from frozen to non-frozen, which CQL forbids) keeps the complex data.
fn merge_column_data(a: ColumnData, b: ColumnData) -> ColumnData {
    match (a, b) {
        (ColumnData::Simple(x), ColumnData::Simple(y)) => ColumnData::Simple(x.reconcile(y)),
        (ColumnData::Complex(x), ColumnData::Complex(y)) => ColumnData::Complex(ComplexColumn {
            deletion: x.deletion.max(y.deletion),
            cells: merge_sorted(
                x.cells,
                y.cells,
                |a, b| a.0.cmp(&b.0),
                |a, b| (a.0, a.1.reconcile(b.1)),
            ),
        }),
        (ColumnData::Complex(x), ColumnData::Simple(_))
        | (ColumnData::Simple(_), ColumnData::Complex(x)) => ColumnData::Complex(x),
    }
}

/// Merges two vectors sorted by `cmp` (each without duplicates), combining equal elements.
pub(crate) fn merge_sorted<T>(
    a: Vec<T>,
    b: Vec<T>,
    mut cmp: impl FnMut(&T, &T) -> Ordering,
    mut combine: impl FnMut(T, T) -> T,
) -> Vec<T> {
    if b.is_empty() {
        return a;
    }
    if a.is_empty() {
        return b;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let mut ia = a.into_iter().peekable();
    let mut ib = b.into_iter().peekable();
    loop {
        let ord = match (ia.peek(), ib.peek()) {
            (Some(x), Some(y)) => cmp(x, y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => break,
        };
        match ord {
            Ordering::Less => out.extend(ia.next()),
            Ordering::Greater => out.extend(ib.next()),
            Ordering::Equal => {
                if let (Some(x), Some(y)) = (ia.next(), ib.next()) {
                    out.push(combine(x, y));
                }
            }
        }
    }
    out
}
