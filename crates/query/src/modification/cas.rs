//! Conditional statements (lightweight transactions) on one node: Cassandra's
//! `CQL3CasRequest` and `ColumnCondition`, with the partition lock standing in for Paxos.
//!
//! A request gathers, for one partition, the conditions of each row (`IF EXISTS`,
//! `IF NOT EXISTS` or column conditions, never mixed on one row) and of the static row, and
//! the updates to apply when they all hold. Under [`Node::partition_lock`] it reads the
//! current (live) rows, evaluates the conditions and, only if they hold, applies the updates
//! as one mutation; the answer is Cassandra's: `[applied]` and, when not applied, the
//! current values of the columns involved.

use std::cmp::Ordering;

use bytes::Bytes;
use meridian_cql_parser::ast::{self, ComparisonOp, ConditionOp};
use meridian_schema::{ColumnKind, ColumnMetadata, TableMetadata};
use meridian_storage::{LivePartition, ReadCommand};
use meridian_types::cql_type::{compare, CqlType};
use meridian_types::model::{Clustering, ColumnData, ColumnId, Row, Slice};
use meridian_types::token::{split_composite_partition_key, PartitionKey};

use crate::context::Node;
use crate::error::QueryError;
use crate::result::{ResultColumn, ResultSet};
use crate::terms::{self, Receiver, TermContext, TermValue};

use super::analysis::{
    column_receiver, named_receiver, Analyzed, ColumnCondition, CondTarget, Conditions,
};
use super::apply::{element_receivers, field_receiver};
use super::values;

/// The operator of a bound condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Cmp(ComparisonOp),
    Contains,
    ContainsKey,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Cmp(c) => c.symbol(),
            Op::Contains => "CONTAINS",
            Op::ContainsKey => "CONTAINS KEY",
        }
    }
}

#[derive(Clone, Debug)]
enum BoundTarget {
    Column,
    Element(Bytes),
    Field(usize),
}

/// A condition with its values bound (`None` = null); `IN` has several values, tested with
/// `=`.
#[derive(Clone, Debug)]
pub(crate) struct BoundCondition<'a> {
    column: &'a ColumnMetadata,
    target: BoundTarget,
    op: Op,
    values: Vec<Option<Bytes>>,
}

fn unset_in_condition() -> QueryError {
    QueryError::invalid("Invalid 'unset' value in condition")
}

fn value_or_null(v: TermValue) -> Result<Option<Bytes>, QueryError> {
    match v {
        TermValue::Value(b) => Ok(Some(b)),
        TermValue::Null => Ok(None),
        TermValue::Unset => Err(unset_in_condition()),
    }
}

/// The receiver of a condition's operand(s).
fn operand_receiver(
    table: &TableMetadata,
    c: &ColumnCondition<'_>,
) -> Result<Receiver, QueryError> {
    let missing = || QueryError::server(format!("no receiver for condition on {}", c.column.name));
    let base = match &c.target {
        CondTarget::Column => column_receiver(table, c.column),
        CondTarget::Element(_) => element_receivers(table, c.column).ok_or_else(missing)?.1,
        CondTarget::Field(i) => field_receiver(table, c.column, *i).ok_or_else(missing)?,
    };
    Ok(match c.op {
        ConditionOp::Contains(_) => match base.ty.unfrozen() {
            CqlType::List(e) | CqlType::Set(e) => {
                named_receiver(table, format!("value({})", base.name), e.as_ref().clone())
            }
            CqlType::Map(_, v) => {
                named_receiver(table, format!("value({})", base.name), v.as_ref().clone())
            }
            _ => base,
        },
        ConditionOp::ContainsKey(_) => match base.ty.unfrozen() {
            CqlType::Map(k, _) => {
                named_receiver(table, format!("key({})", base.name), k.as_ref().clone())
            }
            _ => base,
        },
        _ => base,
    })
}

/// The terms of a condition with their receivers, for PREPARE: `(index, receiver)`.
pub(crate) fn collect_receivers(
    table: &TableMetadata,
    c: &ColumnCondition<'_>,
    out: &mut Vec<(usize, Receiver)>,
) -> Result<(), QueryError> {
    if let CondTarget::Element(e) = &c.target {
        if let Some((k, _)) = element_receivers(table, c.column) {
            terms::collect_bind_receivers(e, &k, out)?;
        }
    }
    let receiver = operand_receiver(table, c)?;
    match c.op {
        ConditionOp::Compare(_, t) | ConditionOp::Contains(t) | ConditionOp::ContainsKey(t) => {
            terms::collect_bind_receivers(t, &receiver, out)
        }
        ConditionOp::In(ast::InValues::Terms(ts)) => {
            for t in ts {
                terms::collect_bind_receivers(t, &receiver, out)?;
            }
            Ok(())
        }
        ConditionOp::In(ast::InValues::Marker(m)) => {
            out.push((
                m.index,
                named_receiver(
                    table,
                    format!("in({})", receiver.name),
                    CqlType::List(Box::new(receiver.ty.clone())),
                ),
            ));
            Ok(())
        }
    }
}

/// Binds a condition's terms.
pub(crate) fn bind_condition<'a>(
    table: &TableMetadata,
    c: &ColumnCondition<'a>,
    ctx: &TermContext<'_>,
) -> Result<BoundCondition<'a>, QueryError> {
    let target = match &c.target {
        CondTarget::Column => BoundTarget::Column,
        CondTarget::Field(i) => BoundTarget::Field(*i),
        CondTarget::Element(e) => {
            let Some((k, _)) = element_receivers(table, c.column) else {
                return Err(QueryError::server("element condition on a non-collection"));
            };
            let kind = if matches!(c.column.ty.unfrozen(), CqlType::Map(..)) {
                "map"
            } else {
                "list"
            };
            match terms::evaluate(e, &k, ctx)? {
                TermValue::Value(b) => BoundTarget::Element(b),
                TermValue::Null => {
                    return Err(QueryError::invalid(format!(
                        "Invalid null value for {kind} element access"
                    )))
                }
                TermValue::Unset => return Err(unset_in_condition()),
            }
        }
    };
    let receiver = operand_receiver(table, c)?;
    let (op, values) = match c.op {
        ConditionOp::Compare(op, t) => (
            Op::Cmp(*op),
            vec![value_or_null(terms::evaluate(t, &receiver, ctx)?)?],
        ),
        ConditionOp::Contains(t) => (
            Op::Contains,
            vec![value_or_null(terms::evaluate(t, &receiver, ctx)?)?],
        ),
        ConditionOp::ContainsKey(t) => (
            Op::ContainsKey,
            vec![value_or_null(terms::evaluate(t, &receiver, ctx)?)?],
        ),
        ConditionOp::In(ast::InValues::Terms(ts)) => {
            let mut out = Vec::with_capacity(ts.len());
            for t in ts {
                match terms::evaluate(t, &receiver, ctx)? {
                    TermValue::Unset => {}
                    TermValue::Null => out.push(None),
                    TermValue::Value(b) => out.push(Some(b)),
                }
            }
            (Op::Cmp(ComparisonOp::Eq), out)
        }
        ConditionOp::In(ast::InValues::Marker(m)) => {
            let list_receiver = named_receiver(
                table,
                format!("in({})", receiver.name),
                CqlType::List(Box::new(receiver.ty.clone())),
            );
            let term = ast::Term::BindMarker(m.clone());
            match terms::evaluate(&term, &list_receiver, ctx)? {
                TermValue::Null => {
                    return Err(QueryError::invalid("Invalid null list in IN condition"))
                }
                TermValue::Unset => return Err(unset_in_condition()),
                TermValue::Value(b) => (
                    Op::Cmp(ComparisonOp::Eq),
                    values::split_collection(&b)?
                        .into_iter()
                        .map(|e| e.map(Bytes::copy_from_slice))
                        .collect(),
                ),
            }
        }
    };
    Ok(BoundCondition {
        column: c.column,
        target,
        op,
        values,
    })
}

/// `rowValue op value` for a comparison (Cassandra's `compareWithOperator`).
fn compare_with(
    op: Op,
    ty: &CqlType,
    value: Option<&[u8]>,
    row_value: Option<&[u8]>,
) -> Result<bool, QueryError> {
    let Some(value) = value else {
        return match op {
            Op::Cmp(ComparisonOp::Eq) => Ok(row_value.is_none()),
            Op::Cmp(ComparisonOp::Neq) => Ok(row_value.is_some()),
            _ => Err(QueryError::invalid(format!(
                "Invalid comparison with null for operator \"{}\"",
                op.name()
            ))),
        };
    };
    let Some(row_value) = row_value else {
        return Ok(op == Op::Cmp(ComparisonOp::Neq));
    };
    Ok(match op {
        Op::Cmp(c) => satisfies(c, compare(ty, row_value, value)),
        Op::Contains | Op::ContainsKey => {
            frozen_contains(ty, row_value, value, op == Op::ContainsKey)?
        }
    })
}

fn satisfies(op: ComparisonOp, ord: Ordering) -> bool {
    match op {
        ComparisonOp::Eq => ord == Ordering::Equal,
        ComparisonOp::Neq => ord != Ordering::Equal,
        ComparisonOp::Lt => ord == Ordering::Less,
        ComparisonOp::Lte => ord != Ordering::Greater,
        ComparisonOp::Gt => ord == Ordering::Greater,
        ComparisonOp::Gte => ord != Ordering::Less,
    }
}

/// Cassandra's `evaluateComparisonWithOperator`, for a non-zero comparison.
fn unequal_satisfies(op: ComparisonOp, ord: Ordering) -> bool {
    match op {
        ComparisonOp::Eq => false,
        ComparisonOp::Lt | ComparisonOp::Lte => ord == Ordering::Less,
        ComparisonOp::Gt | ComparisonOp::Gte => ord == Ordering::Greater,
        ComparisonOp::Neq => true,
    }
}

/// CONTAINS / CONTAINS KEY on a frozen collection value.
fn frozen_contains(
    ty: &CqlType,
    collection: &[u8],
    value: &[u8],
    key: bool,
) -> Result<bool, QueryError> {
    Ok(match ty.unfrozen() {
        CqlType::List(e) | CqlType::Set(e) => values::split_collection(collection)?
            .into_iter()
            .flatten()
            .any(|x| compare(e, x, value) == Ordering::Equal),
        CqlType::Map(k, v) => values::split_map(collection)?.into_iter().any(|(mk, mv)| {
            if key {
                mk.is_some_and(|x| compare(k, x, value) == Ordering::Equal)
            } else {
                mv.is_some_and(|x| compare(v, x, value) == Ordering::Equal)
            }
        }),
        _ => false,
    })
}

fn simple_value(row: Option<&Row>, id: ColumnId) -> Option<&[u8]> {
    match row?.column(id)? {
        ColumnData::Simple(c) => Some(c.value.as_ref()),
        ColumnData::Complex(_) => None,
    }
}

fn complex_cells<'r>(
    row: Option<&'r Row>,
    column: &ColumnMetadata,
) -> Vec<&'r (Bytes, meridian_types::model::Cell)> {
    match row.and_then(|r| r.column(column.id)) {
        Some(ColumnData::Complex(c)) => values::cells_in_type_order(&column.ty, c),
        _ => Vec::new(),
    }
}

/// The whole-column comparison of a non-frozen collection with one condition value
/// (`setOrListAppliesTo` / `mapAppliesTo`).
fn collection_applies(
    column: &ColumnMetadata,
    cells: &[&(Bytes, meridian_types::model::Cell)],
    value: &[u8],
    op: ComparisonOp,
) -> Result<bool, QueryError> {
    // The condition's elements (list order; sets and maps sorted like the cells).
    let (elem_ty, cond): (&CqlType, Vec<(Bytes, Option<Bytes>)>) = match column.ty.unfrozen() {
        CqlType::List(e) => (
            e,
            values::split_collection(value)?
                .into_iter()
                .map(|x| (Bytes::copy_from_slice(x.unwrap_or_default()), None))
                .collect(),
        ),
        CqlType::Set(e) => {
            let elems: Vec<&[u8]> = values::split_collection(value)?
                .into_iter()
                .flatten()
                .collect();
            (
                e,
                values::sort_dedup(e, elems)
                    .into_iter()
                    .map(|x| (Bytes::copy_from_slice(x), None))
                    .collect(),
            )
        }
        CqlType::Map(k, _) => {
            let entries: Vec<(&[u8], &[u8])> = values::split_map(value)?
                .into_iter()
                .filter_map(|(k, v)| Some((k?, v?)))
                .collect();
            (
                k,
                values::sort_dedup_entries(k, entries)
                    .into_iter()
                    .map(|(k, v)| (Bytes::copy_from_slice(k), Some(Bytes::copy_from_slice(v))))
                    .collect(),
            )
        }
        _ => return Ok(false),
    };
    let is_list = matches!(column.ty.unfrozen(), CqlType::List(_));
    let map_value_ty = match column.ty.unfrozen() {
        CqlType::Map(_, v) => Some(v.as_ref()),
        _ => None,
    };
    let mut ci = cond.iter();
    for (path, cell) in cells.iter().map(|c| (&c.0, &c.1)) {
        let Some((ck, cv)) = ci.next() else {
            return Ok(matches!(
                op,
                ComparisonOp::Gt | ComparisonOp::Gte | ComparisonOp::Neq
            ));
        };
        let cell_key: &[u8] = if is_list { &cell.value } else { path };
        let ord = compare(elem_ty, cell_key, ck);
        if ord != Ordering::Equal {
            return Ok(unequal_satisfies(op, ord));
        }
        if let (Some(vt), Some(cv)) = (map_value_ty, cv) {
            let ord = compare(vt, &cell.value, cv);
            if ord != Ordering::Equal {
                return Ok(unequal_satisfies(op, ord));
            }
        }
    }
    if ci.next().is_some() {
        return Ok(matches!(
            op,
            ComparisonOp::Lt | ComparisonOp::Lte | ComparisonOp::Neq
        ));
    }
    Ok(matches!(
        op,
        ComparisonOp::Eq | ComparisonOp::Lte | ComparisonOp::Gte
    ))
}

impl BoundCondition<'_> {
    /// Whether the condition holds for `row` (`None`: the row does not exist).
    fn applies_to(&self, row: Option<&Row>) -> Result<bool, QueryError> {
        let column = self.column;
        let ty = &column.ty;
        match &self.target {
            BoundTarget::Column if ty.is_multi_cell() && ty.is_collection() => {
                let cells = complex_cells(row, column);
                for value in &self.values {
                    let Some(value) = value else {
                        match self.op {
                            Op::Cmp(ComparisonOp::Eq) => {
                                if cells.is_empty() {
                                    return Ok(true);
                                }
                                continue;
                            }
                            Op::Cmp(ComparisonOp::Neq) => return Ok(!cells.is_empty()),
                            op => {
                                return Err(QueryError::invalid(format!(
                                    "Invalid comparison with null for operator \"{}\"",
                                    op.name()
                                )))
                            }
                        }
                    };
                    let applies = match self.op {
                        Op::Contains | Op::ContainsKey => {
                            let keys = matches!(ty, CqlType::Set(_))
                                || (matches!(ty, CqlType::Map(..)) && self.op == Op::ContainsKey);
                            let elem_ty = match ty {
                                CqlType::List(e) | CqlType::Set(e) => e.as_ref(),
                                CqlType::Map(k, v) => {
                                    if self.op == Op::ContainsKey {
                                        k.as_ref()
                                    } else {
                                        v.as_ref()
                                    }
                                }
                                _ => ty,
                            };
                            cells.iter().any(|c| {
                                let x: &[u8] = if keys { &c.0 } else { &c.1.value };
                                compare(elem_ty, x, value) == Ordering::Equal
                            })
                        }
                        Op::Cmp(op) => collection_applies(column, &cells, value, op)?,
                    };
                    if applies {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            BoundTarget::Column => {
                let current = if ty.is_multi_cell() {
                    match row.and_then(|r| r.column(column.id)) {
                        Some(ColumnData::Complex(c)) => values::complex_value(ty, c),
                        _ => None,
                    }
                } else {
                    simple_value(row, column.id).map(Bytes::copy_from_slice)
                };
                self.any_value(ty, current.as_deref())
            }
            BoundTarget::Element(element) => match ty.unfrozen() {
                CqlType::Map(k, v) => {
                    let current: Option<Bytes> = if ty.is_multi_cell() {
                        complex_cells(row, column)
                            .into_iter()
                            .find(|c| compare(k, &c.0, element) == Ordering::Equal)
                            .map(|c| c.1.value.clone())
                    } else {
                        match simple_value(row, column.id) {
                            Some(m) => values::split_map(m)?
                                .into_iter()
                                .find(|(mk, _)| {
                                    mk.is_some_and(|x| compare(k, x, element) == Ordering::Equal)
                                })
                                .and_then(|(_, mv)| mv.map(Bytes::copy_from_slice)),
                            None => None,
                        }
                    };
                    self.any_value(v, current.as_deref())
                }
                CqlType::List(e) => {
                    let idx = <[u8; 4]>::try_from(&element[..])
                        .map(i32::from_be_bytes)
                        .map_err(|_| QueryError::invalid("Invalid list index: expected 4 bytes"))?;
                    if idx < 0 {
                        return Err(QueryError::invalid(format!(
                            "Invalid negative list index {idx}"
                        )));
                    }
                    let i = usize::try_from(idx).unwrap_or(usize::MAX);
                    let current: Option<Bytes> = if ty.is_multi_cell() {
                        complex_cells(row, column).get(i).map(|c| c.1.value.clone())
                    } else {
                        match simple_value(row, column.id) {
                            Some(l) => values::split_collection(l)?
                                .get(i)
                                .copied()
                                .flatten()
                                .map(Bytes::copy_from_slice),
                            None => None,
                        }
                    };
                    self.any_value(e, current.as_deref())
                }
                _ => Ok(false),
            },
            BoundTarget::Field(i) => {
                let CqlType::Udt(u) = ty.unfrozen() else {
                    return Ok(false);
                };
                let field_ty = u.fields.get(*i).map(|f| &f.1).unwrap_or(ty);
                let current: Option<Bytes> = if ty.is_multi_cell() {
                    complex_cells(row, column)
                        .into_iter()
                        .find(|c| values::field_index(&c.0) == Some(*i))
                        .map(|c| c.1.value.clone())
                } else {
                    match simple_value(row, column.id) {
                        Some(v) => values::split_fields(v, u.fields.len())?
                            .get(*i)
                            .copied()
                            .flatten()
                            .map(Bytes::copy_from_slice),
                        None => None,
                    }
                };
                self.any_value(field_ty, current.as_deref())
            }
        }
    }

    fn any_value(&self, ty: &CqlType, current: Option<&[u8]>) -> Result<bool, QueryError> {
        for v in &self.values {
            if compare_with(self.op, ty, v.as_deref(), current)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Which row a condition or update applies to.
#[derive(Clone, Debug)]
pub(crate) enum RowRef {
    /// The static row.
    Static,
    /// A regular row.
    Row(Clustering),
}

/// The conditions on one row.
#[derive(Debug)]
enum RowCondition<'a> {
    Exists,
    NotExists,
    Columns(Vec<BoundCondition<'a>>),
}

/// A conditional request on one partition.
pub(crate) struct CasRequest<'a> {
    table: &'a TableMetadata,
    key: Bytes,
    rows: Vec<(Clustering, RowCondition<'a>)>,
    static_condition: Option<RowCondition<'a>>,
    /// Static columns read (`None`: all).
    statics_read: Option<Vec<ColumnId>>,
    /// Regular columns read (`None`: all).
    regulars_read: Option<Vec<ColumnId>>,
}

impl<'a> CasRequest<'a> {
    /// A request on partition `key` of `table`.
    pub(crate) fn new(table: &'a TableMetadata, key: Bytes) -> Self {
        CasRequest {
            table,
            key,
            rows: Vec::new(),
            static_condition: None,
            statics_read: Some(Vec::new()),
            regulars_read: Some(Vec::new()),
        }
    }

    /// The partition key.
    pub(crate) fn key(&self) -> &Bytes {
        &self.key
    }

    /// Records what a statement of the request reads (Cassandra's `columnsToRead`).
    pub(crate) fn add_statement_columns(&mut self, analyzed: &Analyzed<'a>) {
        let mut condition_columns: Vec<&ColumnMetadata> =
            analyzed.conditions.columns().unwrap_or_default();
        condition_columns.extend(
            analyzed
                .ops
                .iter()
                .filter(|o| o.requires_read())
                .map(|o| o.column),
        );
        if analyzed.updates_static_row() {
            self.statics_read = None;
        }
        if analyzed.updates_regular_rows() {
            self.regulars_read = None;
        }
        for c in condition_columns {
            let set = if c.kind == ColumnKind::Static {
                &mut self.statics_read
            } else {
                &mut self.regulars_read
            };
            if let Some(ids) = set {
                if !ids.contains(&c.id) {
                    ids.push(c.id);
                }
            }
        }
    }

    fn slot(&mut self, row: &RowRef) -> Option<&mut RowCondition<'a>> {
        match row {
            RowRef::Static => self.static_condition.as_mut(),
            RowRef::Row(c) => {
                let cmp = self.table.clustering_comparator();
                self.rows
                    .iter_mut()
                    .find(|(k, _)| cmp.compare(k, c).is_eq())
                    .map(|(_, r)| r)
            }
        }
    }

    fn set(&mut self, row: &RowRef, condition: RowCondition<'a>) {
        match row {
            RowRef::Static => self.static_condition = Some(condition),
            RowRef::Row(c) => self.rows.push((c.clone(), condition)),
        }
    }

    /// Adds `IF EXISTS` (`exists`) or `IF NOT EXISTS` on `row`.
    pub(crate) fn add_exists(&mut self, row: &RowRef, exists: bool) -> Result<(), QueryError> {
        match self.slot(row) {
            None => {
                self.set(
                    row,
                    if exists {
                        RowCondition::Exists
                    } else {
                        RowCondition::NotExists
                    },
                );
                Ok(())
            }
            Some(RowCondition::Exists) if exists => Ok(()),
            Some(RowCondition::NotExists) if !exists => Ok(()),
            Some(RowCondition::Exists | RowCondition::NotExists) => Err(QueryError::invalid(
                "Cannot mix IF EXISTS and IF NOT EXISTS conditions for the same row",
            )),
            Some(RowCondition::Columns(_)) => Err(QueryError::invalid(format!(
                "Cannot mix IF conditions and IF {}EXISTS for the same row",
                if exists { "" } else { "NOT " }
            ))),
        }
    }

    /// Adds column conditions on `row`.
    pub(crate) fn add_conditions(
        &mut self,
        row: &RowRef,
        conditions: Vec<BoundCondition<'a>>,
    ) -> Result<(), QueryError> {
        match self.slot(row) {
            None => {
                self.set(row, RowCondition::Columns(conditions));
                Ok(())
            }
            Some(RowCondition::Columns(existing)) => {
                existing.extend(conditions);
                Ok(())
            }
            Some(_) => Err(QueryError::invalid(
                "Cannot mix IF conditions and IF NOT EXISTS for the same row",
            )),
        }
    }

    /// Adds the conditions of a statement on `row`.
    pub(crate) fn add_statement_conditions(
        &mut self,
        analyzed: &Analyzed<'a>,
        row: &RowRef,
        ctx: &TermContext<'_>,
    ) -> Result<(), QueryError> {
        match &analyzed.conditions {
            Conditions::None => Ok(()),
            Conditions::IfExists => self.add_exists(row, true),
            Conditions::IfNotExists => self.add_exists(row, false),
            Conditions::Columns(cs) => {
                let mut regular = Vec::new();
                let mut statics = Vec::new();
                for c in cs {
                    let b = bind_condition(self.table, c, ctx)?;
                    if c.column.kind == ColumnKind::Static {
                        statics.push(b);
                    } else {
                        regular.push(b);
                    }
                }
                if !regular.is_empty() {
                    self.add_conditions(row, regular)?;
                }
                if !statics.is_empty() {
                    self.add_conditions(&RowRef::Static, statics)?;
                }
                Ok(())
            }
        }
    }

    /// Reads the current state: the rows with conditions (or, with only static conditions,
    /// the first live row, to tell an empty partition from one without static data) and the
    /// static row, restricted to the columns read.
    pub(crate) fn read(&mut self, node: &Node, now_secs: i64) -> Result<Current, QueryError> {
        let cmp = self.table.clustering_comparator();
        self.rows.sort_by(|a, b| cmp.compare(&a.0, &b.0));
        let cmd = if self.rows.is_empty() {
            ReadCommand {
                slices: vec![Slice::ALL],
                reversed: false,
                per_partition_limit: None,
                limit: Some(1),
                now_secs,
            }
        } else {
            ReadCommand {
                slices: self
                    .rows
                    .iter()
                    .map(|(c, _)| Slice::prefix(c.clone()))
                    .collect(),
                reversed: false,
                per_partition_limit: None,
                limit: None,
                now_secs,
            }
        };
        let pk = PartitionKey::new(self.key.clone());
        let live: Option<LivePartition> = node.engine.read_live(self.table.id, &pk, &cmd)?;
        let (static_row, rows) = match live {
            Some(p) => (p.static_row, p.rows),
            None => (None, Vec::new()),
        };
        let static_row = static_row
            .map(|r| mask(r, self.statics_read.as_deref()))
            .filter(|r| !r.columns.is_empty());
        let rows = rows
            .into_iter()
            .map(|r| mask(r, self.regulars_read.as_deref()))
            .collect();
        Ok(Current { static_row, rows })
    }

    /// Whether every condition holds.
    pub(crate) fn applies_to(&self, current: &Current) -> Result<bool, QueryError> {
        if let Some(c) = &self.static_condition {
            if !condition_holds(c, current.static_row.as_ref())? {
                return Ok(false);
            }
        }
        let cmp = self.table.clustering_comparator();
        for (clustering, c) in &self.rows {
            let row = current
                .rows
                .iter()
                .find(|r| cmp.compare(&r.clustering, clustering).is_eq());
            if !condition_holds(c, row)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The answer of a request that was not applied: `[applied]` then the values of
    /// `columns` (every column when `None`) in each current row.
    pub(crate) fn failure_result(
        &self,
        current: &Current,
        columns: Option<&[&ColumnMetadata]>,
        with_primary_key: bool,
    ) -> Result<ResultSet, QueryError> {
        let table = self.table;
        let selected: Vec<&ColumnMetadata> = match columns {
            None => table.select_order(),
            Some(cs) => {
                let mut out: Vec<&ColumnMetadata> = Vec::new();
                if with_primary_key {
                    out.extend(table.partition_key_columns());
                    out.extend(table.clustering_columns());
                }
                for c in cs {
                    if !out.iter().any(|o| o.id == c.id) {
                        out.push(c);
                    }
                }
                out
            }
        };
        let pk_columns = table.partition_key_columns();
        let key_parts = split_composite_partition_key(&self.key, pk_columns.len())
            .map_err(|e| QueryError::server(format!("stored partition key: {e}")))?;
        let mut result_columns = vec![applied_column(table)];
        result_columns.extend(selected.iter().map(|c| {
            ResultColumn::new(&table.keyspace, &table.name, c.name.clone(), c.ty.clone())
        }));
        let value_of = |c: &ColumnMetadata, row: Option<&Row>| -> Option<Bytes> {
            match c.kind {
                ColumnKind::PartitionKey { position } => key_parts
                    .get(position as usize)
                    .map(|p| Bytes::copy_from_slice(p)),
                ColumnKind::Clustering { position, .. } => {
                    row.and_then(|r| r.clustering.0.get(position as usize).cloned())
                }
                ColumnKind::Static => column_value(c, current.static_row.as_ref()),
                ColumnKind::Regular => column_value(c, row),
            }
        };
        let not_applied = Some(Bytes::from_static(&[0]));
        let mut rows = Vec::new();
        for r in &current.rows {
            let mut out = vec![not_applied.clone()];
            out.extend(selected.iter().map(|c| value_of(c, Some(r))));
            rows.push(out);
        }
        if rows.is_empty() && current.static_row.is_some() {
            let mut out = vec![not_applied.clone()];
            out.extend(selected.iter().map(|c| value_of(c, None)));
            rows.push(out);
        }
        if rows.is_empty() {
            rows.push(vec![not_applied]);
            result_columns.truncate(1);
        }
        Ok(ResultSet {
            columns: result_columns,
            rows,
            paging_state: None,
        })
    }
}

fn condition_holds(c: &RowCondition<'_>, row: Option<&Row>) -> Result<bool, QueryError> {
    Ok(match c {
        RowCondition::Exists => row.is_some(),
        RowCondition::NotExists => row.is_none(),
        RowCondition::Columns(cs) => {
            for b in cs {
                if !b.applies_to(row)? {
                    return Ok(false);
                }
            }
            true
        }
    })
}

fn mask(mut row: Row, read: Option<&[ColumnId]>) -> Row {
    if let Some(ids) = read {
        row.columns.retain(|(id, _)| ids.contains(id));
    }
    row
}

fn column_value(c: &ColumnMetadata, row: Option<&Row>) -> Option<Bytes> {
    match row?.column(c.id)? {
        ColumnData::Simple(cell) => Some(cell.value.clone()),
        ColumnData::Complex(cc) => values::complex_value(&c.ty, cc),
    }
}

/// The current state of the rows a request reads.
pub(crate) struct Current {
    /// The static row (only the static columns read), if it has data.
    pub static_row: Option<Row>,
    /// The live rows read, in clustering order.
    pub rows: Vec<Row>,
}

fn applied_column(table: &TableMetadata) -> ResultColumn {
    ResultColumn::new(&table.keyspace, &table.name, "[applied]", CqlType::Boolean)
}

/// The answer of an applied conditional request.
pub(crate) fn applied_result(table: &TableMetadata) -> ResultSet {
    ResultSet {
        columns: vec![applied_column(table)],
        rows: vec![vec![Some(Bytes::from_static(&[1]))]],
        paging_state: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(v: i32) -> Vec<u8> {
        v.to_be_bytes().to_vec()
    }

    #[test]
    fn comparisons_with_null_follow_cassandra() {
        let eq = Op::Cmp(ComparisonOp::Eq);
        let neq = Op::Cmp(ComparisonOp::Neq);
        let lt = Op::Cmp(ComparisonOp::Lt);
        let one = int(1);
        let ty = CqlType::Int;
        assert!(compare_with(eq, &ty, None, None).unwrap());
        assert!(!compare_with(eq, &ty, None, Some(&one)).unwrap());
        assert!(compare_with(neq, &ty, None, Some(&one)).unwrap());
        assert_eq!(
            compare_with(lt, &ty, None, Some(&one))
                .unwrap_err()
                .to_string(),
            "Invalid comparison with null for operator \"<\""
        );
        // A missing value only satisfies !=.
        assert!(compare_with(neq, &ty, Some(&one), None).unwrap());
        assert!(!compare_with(lt, &ty, Some(&one), None).unwrap());
        assert!(compare_with(lt, &ty, Some(&int(2)), Some(&one)).unwrap());
        assert!(!compare_with(Op::Cmp(ComparisonOp::Gt), &ty, Some(&int(2)), Some(&one)).unwrap());
    }

    #[test]
    fn frozen_collections_answer_contains() {
        let list = CqlType::Frozen(Box::new(CqlType::List(Box::new(CqlType::Int))));
        let value = values::join_collection([&int(3)[..], &int(4)[..]].into_iter());
        assert!(frozen_contains(&list, &value, &int(4), false).unwrap());
        assert!(!frozen_contains(&list, &value, &int(5), false).unwrap());
        let map = CqlType::Frozen(Box::new(CqlType::Map(
            Box::new(CqlType::Int),
            Box::new(CqlType::Int),
        )));
        let value = values::join_map([(&int(1)[..], &int(10)[..])].into_iter());
        assert!(frozen_contains(&map, &value, &int(1), true).unwrap());
        assert!(!frozen_contains(&map, &value, &int(1), false).unwrap());
        assert!(frozen_contains(&map, &value, &int(10), false).unwrap());
    }

    #[test]
    fn unequal_comparisons() {
        assert!(!unequal_satisfies(ComparisonOp::Eq, Ordering::Less));
        assert!(unequal_satisfies(ComparisonOp::Lte, Ordering::Less));
        assert!(!unequal_satisfies(ComparisonOp::Gte, Ordering::Less));
        assert!(unequal_satisfies(ComparisonOp::Neq, Ordering::Greater));
        assert!(satisfies(ComparisonOp::Gte, Ordering::Equal));
    }
}
