//! In-memory filtering (`ALLOW FILTERING`): bound [`Filter`] expressions decided on rows,
//! with the semantics of Cassandra's `RowFilter`: a null column never satisfies an
//! expression; comparisons use the column type's CQL order; `CONTAINS` looks at list and set
//! elements and map values, `CONTAINS KEY` at map keys, `m[k] = v` at one map entry.

use std::cmp::Ordering;

use bytes::Bytes;
use meridian_types::cql_type::{compare, CqlType};
use meridian_types::model::ColumnData;

use super::restrictions::{Filter, FilterOp};
use super::row::{split_collection, split_map, RowView};

/// Whether `row` satisfies every filter.
pub(crate) fn matches_all(filters: &[Filter], row: &RowView<'_>) -> bool {
    filters.iter().all(|f| matches(f, row))
}

fn matches(filter: &Filter, row: &RowView<'_>) -> bool {
    let ty = &filter.column.ty;
    match &filter.op {
        FilterOp::Contains(_) | FilterOp::ContainsKey(_) | FilterOp::MapEntry(..) => {
            collection_matches(filter, row)
        }
        op => {
            let Some(value) = row.value(&filter.column) else {
                return false;
            };
            let cmp = |other: &Bytes| compare(ty, &value, other);
            match op {
                FilterOp::Eq(v) => cmp(v) == Ordering::Equal,
                FilterOp::Lt(v) => cmp(v) == Ordering::Less,
                FilterOp::Lte(v) => cmp(v) != Ordering::Greater,
                FilterOp::Gt(v) => cmp(v) == Ordering::Greater,
                FilterOp::Gte(v) => cmp(v) != Ordering::Less,
                FilterOp::In(values) => values.iter().any(|v| cmp(v) == Ordering::Equal),
                FilterOp::Contains(_) | FilterOp::ContainsKey(_) | FilterOp::MapEntry(..) => false,
            }
        }
    }
}

/// Elements (or map entries) of a collection value.
enum Elements {
    Values(Vec<Bytes>),
    Entries(Vec<(Bytes, Option<Bytes>)>),
}

fn elements(ty: &CqlType, row: &RowView<'_>, filter: &Filter) -> Option<Elements> {
    // A non-frozen collection's cells already hold its elements (paths and values).
    if let Some(ColumnData::Complex(complex)) = row.column_data(&filter.column) {
        return Some(match ty.unfrozen() {
            CqlType::Map(..) => Elements::Entries(
                complex
                    .cells
                    .iter()
                    .map(|(p, c)| (p.clone(), Some(c.value.clone())))
                    .collect(),
            ),
            CqlType::Set(_) => {
                Elements::Values(complex.cells.iter().map(|(p, _)| p.clone()).collect())
            }
            _ => Elements::Values(complex.cells.iter().map(|(_, c)| c.value.clone()).collect()),
        });
    }
    let value = row.value(&filter.column)?;
    match ty.unfrozen() {
        CqlType::Map(..) => split_map(&value).map(Elements::Entries),
        CqlType::List(_) | CqlType::Set(_) => {
            split_collection(&value).map(|v| Elements::Values(v.into_iter().flatten().collect()))
        }
        _ => None,
    }
}

fn collection_matches(filter: &Filter, row: &RowView<'_>) -> bool {
    let ty = &filter.column.ty;
    let Some(elements) = elements(ty, row, filter) else {
        return false;
    };
    let (key_ty, value_ty) = match ty.unfrozen() {
        CqlType::Map(k, v) => (&**k, &**v),
        CqlType::List(e) | CqlType::Set(e) => (&**e, &**e),
        _ => return false,
    };
    let eq = |t: &CqlType, a: &[u8], b: &[u8]| compare(t, a, b) == Ordering::Equal;
    match (&filter.op, elements) {
        (FilterOp::Contains(v), Elements::Values(values)) => {
            values.iter().any(|e| eq(value_ty, e, v))
        }
        (FilterOp::Contains(v), Elements::Entries(entries)) => entries
            .iter()
            .any(|(_, e)| e.as_ref().is_some_and(|e| eq(value_ty, e, v))),
        (FilterOp::ContainsKey(k), Elements::Entries(entries)) => {
            entries.iter().any(|(key, _)| eq(key_ty, key, k))
        }
        (FilterOp::MapEntry(k, v), Elements::Entries(entries)) => entries
            .iter()
            .any(|(key, e)| eq(key_ty, key, k) && e.as_ref().is_some_and(|e| eq(value_ty, e, v))),
        _ => false,
    }
}
