//! Binding an analyzed statement to its values and turning it into storage updates: the
//! equivalent of Cassandra's `UpdateParameters` and the `execute` methods of its
//! `Operation`s (`Constants`, `Lists`, `Sets`, `Maps`, `UserTypes`).
//!
//! Invariants of what is built: one timestamp and one "now" per statement; non-frozen
//! collection overwrites write a collection tombstone at `timestamp - 1` before the elements
//! (so the new elements survive it); list elements get fresh timeuuid paths (appends
//! increasing, prepends decreasing); every partition touched by a statement or batch is one
//! [`Partition`] in a [`Collector`], canonicalized with the table's comparator when the
//! mutation is built.

use std::collections::HashMap;

use bytes::Bytes;
use meridian_schema::{ColumnKind, ColumnMetadata, TableMetadata};
use meridian_storage::{LivePartition, ReadCommand};
use meridian_types::cql_type::CqlType;
use meridian_types::model::{
    Cell, Clustering, ClusteringComparator, ColumnData, ComplexColumn, DeletionTime, LivenessInfo,
    Mutation, Partition, PartitionUpdate, RangeTombstone, Row, Slice, TableId,
};
use meridian_types::token::PartitionKey;

use crate::context::Node;
use crate::error::QueryError;
use crate::terms::{self, Receiver, TermContext, TermValue};

use super::analysis::{named_receiver, Analyzed, Kind, OpKind, Operation};
use super::restrictions::{self, BindContext, ClusteringTarget, Source};
use super::values::{self, ListPathGenerator};

/// Cassandra's maximum TTL: 20 years in seconds.
pub(crate) const MAX_TTL_SECS: i64 = 630_720_000;

/// The column values of an `INSERT JSON` document.
#[derive(Debug, Default)]
pub(crate) struct JsonValues {
    values: HashMap<meridian_types::model::ColumnId, Bytes>,
    default_unset: bool,
}

impl JsonValues {
    /// The value for `column`: its JSON value, or NULL / UNSET when the document has none
    /// (or `null`), depending on `DEFAULT NULL` / `DEFAULT UNSET`.
    pub(crate) fn value(&self, column: &ColumnMetadata) -> TermValue {
        match self.values.get(&column.id) {
            Some(v) => TermValue::Value(v.clone()),
            None if self.default_unset => TermValue::Unset,
            None => TermValue::Null,
        }
    }
}

/// Parses the document of an `INSERT JSON` (Cassandra's `Json.parseJson`).
pub(crate) fn parse_json(
    analyzed: &Analyzed<'_>,
    ctx: &TermContext<'_>,
) -> Result<Option<JsonValues>, QueryError> {
    let Some(json) = &analyzed.json else {
        return Ok(None);
    };
    let text: String = match json.value {
        meridian_cql_parser::ast::JsonValue::Literal(s) => s.clone(),
        meridian_cql_parser::ast::JsonValue::Marker(m) => {
            let receiver = named_receiver(analyzed.table, "[json]".to_string(), CqlType::Text);
            let term = meridian_cql_parser::ast::Term::BindMarker(m.clone());
            match terms::evaluate(&term, &receiver, ctx)? {
                TermValue::Value(b) => String::from_utf8(b.to_vec()).map_err(|_| {
                    QueryError::invalid("Invalid UTF-8 bytes for INSERT JSON values")
                })?,
                TermValue::Null => {
                    return Err(QueryError::invalid("Got null for INSERT JSON values"))
                }
                TermValue::Unset => String::new(),
            }
        }
    };
    let parsed: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        QueryError::invalid(format!(
            "Could not decode JSON string as a map: {e}. (String was: {text})"
        ))
    })?;
    let object = match parsed {
        serde_json::Value::Null => return Err(QueryError::invalid("Got null for INSERT JSON values")),
        serde_json::Value::Object(o) => o,
        other => {
            return Err(QueryError::invalid(format!(
                "Could not decode JSON string as a map: expected a JSON object, got {other}. (String was: {text})"
            )))
        }
    };
    // Quoted keys keep their case; others are lower-cased (Cassandra's
    // handleCaseSensitivity). Later duplicates replace earlier ones.
    let mut entries: Vec<(String, serde_json::Value)> = Vec::with_capacity(object.len());
    for (k, v) in object {
        let name = if k.len() >= 2 && k.starts_with('"') && k.ends_with('"') {
            k[1..k.len() - 1].to_string()
        } else {
            k.to_lowercase()
        };
        if let Some(e) = entries.iter_mut().find(|(n, _)| *n == name) {
            e.1 = v;
        } else {
            entries.push((name, v));
        }
    }
    let mut out = JsonValues {
        values: HashMap::new(),
        default_unset: json.default_unset,
    };
    for column in analyzed.table.columns() {
        let Some(i) = entries.iter().position(|(n, _)| *n == column.name) else {
            continue;
        };
        let (_, v) = entries.remove(i);
        if v.is_null() {
            continue;
        }
        let bytes = crate::json::from_json_column(&column.name, &column.ty, &v)?;
        if let Some(b) = bytes {
            out.values.insert(column.id, b);
        }
    }
    if let Some((name, _)) = entries.first() {
        return Err(QueryError::invalid(format!(
            "JSON values map contains unrecognized column: {name}"
        )));
    }
    Ok(Some(out))
}

/// An operation with its terms evaluated.
#[derive(Clone, Debug)]
pub(crate) enum BoundKind {
    Set(TermValue),
    SetElement { key: TermValue, value: TermValue },
    SetField { index: usize, value: TermValue },
    Add(TermValue),
    Subtract(TermValue),
    Prepend(TermValue),
    DeleteColumn,
    DeleteElement(TermValue),
    DeleteField(usize),
}

/// A bound operation.
#[derive(Clone, Debug)]
pub(crate) struct BoundOp<'a> {
    pub column: &'a ColumnMetadata,
    pub kind: BoundKind,
}

impl BoundOp<'_> {
    fn is_static(&self) -> bool {
        self.column.kind == ColumnKind::Static
    }
}

/// A statement bound to its values: what to write where.
#[derive(Debug)]
pub(crate) struct Bound<'a> {
    pub analyzed: &'a Analyzed<'a>,
    /// Serialized partition keys.
    pub keys: Vec<Bytes>,
    /// Rows, ranges or static row of each partition.
    pub target: ClusteringTarget,
    /// Write timestamp.
    pub timestamp_micros: i64,
    /// TTL of written cells (0: none).
    pub ttl_secs: u32,
    /// Operations in statement order.
    pub ops: Vec<BoundOp<'a>>,
}

impl Bound<'_> {
    pub(crate) fn requires_read(&self) -> bool {
        self.analyzed.requires_read()
    }
}

/// The receiver of an element index (`idx(c)`), key (`key(c)`), element value (`value(c)`)
/// or UDT field (`c.f`).
pub(crate) fn element_receivers(
    table: &TableMetadata,
    column: &ColumnMetadata,
) -> Option<(Receiver, Receiver)> {
    let name = &column.name;
    match column.ty.unfrozen() {
        CqlType::List(e) => Some((
            named_receiver(table, format!("idx({name})"), CqlType::Int),
            named_receiver(table, format!("value({name})"), e.as_ref().clone()),
        )),
        CqlType::Map(k, v) => Some((
            named_receiver(table, format!("key({name})"), k.as_ref().clone()),
            named_receiver(table, format!("value({name})"), v.as_ref().clone()),
        )),
        CqlType::Set(e) => Some((
            named_receiver(table, format!("value({name})"), e.as_ref().clone()),
            named_receiver(table, format!("value({name})"), e.as_ref().clone()),
        )),
        _ => None,
    }
}

/// The receiver of UDT field `index` of `column` (`c.f`).
pub(crate) fn field_receiver(
    table: &TableMetadata,
    column: &ColumnMetadata,
    index: usize,
) -> Option<Receiver> {
    let CqlType::Udt(u) = column.ty.unfrozen() else {
        return None;
    };
    let (f, ty) = u.fields.get(index)?;
    Some(named_receiver(
        table,
        format!("{}.{f}", column.name),
        ty.clone(),
    ))
}

/// The receivers of the terms of an operation, in the order they are evaluated:
/// `(term, receiver)` pairs.
pub(crate) fn op_terms<'a>(
    table: &TableMetadata,
    op: &Operation<'a>,
) -> Result<Vec<(&'a meridian_cql_parser::ast::Term, Receiver)>, QueryError> {
    let column = op.column;
    let col = super::analysis::column_receiver(table, column);
    let missing = || QueryError::server(format!("no element receiver for column {}", column.name));
    Ok(match &op.kind {
        OpKind::Set(Source::Term(t)) => vec![(*t, col)],
        OpKind::Set(Source::Json(_)) | OpKind::DeleteColumn | OpKind::DeleteField(_) => Vec::new(),
        OpKind::SetElement { key, value } => {
            let (k, v) = element_receivers(table, column).ok_or_else(missing)?;
            vec![(*value, v), (*key, k)]
        }
        OpKind::SetField { index, value } => {
            vec![(
                *value,
                field_receiver(table, column, *index).ok_or_else(missing)?,
            )]
        }
        OpKind::Add(t) | OpKind::Prepend(t) => vec![(*t, col)],
        OpKind::Subtract(t) => match column.ty.unfrozen() {
            CqlType::Map(k, _) => vec![(
                *t,
                named_receiver(table, column.name.clone(), CqlType::Set(k.clone())),
            )],
            _ => vec![(*t, col)],
        },
        OpKind::DeleteElement(t) => {
            let (k, _) = element_receivers(table, column).ok_or_else(missing)?;
            vec![(*t, k)]
        }
    })
}

fn bind_op<'a>(
    table: &TableMetadata,
    op: &Operation<'a>,
    ctx: &TermContext<'_>,
    json: Option<&JsonValues>,
) -> Result<BoundOp<'a>, QueryError> {
    let terms_of = op_terms(table, op)?;
    let mut values = Vec::with_capacity(terms_of.len());
    for (t, r) in &terms_of {
        values.push(terms::evaluate(t, r, ctx)?);
    }
    let mut it = values.into_iter();
    let mut next = || it.next().unwrap_or(TermValue::Unset);
    let kind = match &op.kind {
        OpKind::Set(Source::Json(c)) => {
            BoundKind::Set(json.map(|j| j.value(c)).unwrap_or(TermValue::Null))
        }
        OpKind::Set(Source::Term(_)) => BoundKind::Set(next()),
        OpKind::SetElement { .. } => {
            let value = next();
            let key = next();
            BoundKind::SetElement { key, value }
        }
        OpKind::SetField { index, .. } => BoundKind::SetField {
            index: *index,
            value: next(),
        },
        OpKind::Add(_) => BoundKind::Add(next()),
        OpKind::Subtract(_) => BoundKind::Subtract(next()),
        OpKind::Prepend(_) => BoundKind::Prepend(next()),
        OpKind::DeleteColumn => BoundKind::DeleteColumn,
        OpKind::DeleteElement(_) => BoundKind::DeleteElement(next()),
        OpKind::DeleteField(i) => BoundKind::DeleteField(*i),
    };
    Ok(BoundOp {
        column: op.column,
        kind,
    })
}

/// Evaluates `USING TIMESTAMP` (Cassandra's `Attributes.getTimestamp`).
pub(crate) fn bind_timestamp(
    analyzed: &Analyzed<'_>,
    ctx: &TermContext<'_>,
    default_micros: i64,
) -> Result<i64, QueryError> {
    let Some(t) = analyzed.timestamp else {
        return Ok(default_micros);
    };
    let receiver = named_receiver(analyzed.table, "[timestamp]".to_string(), CqlType::Bigint);
    match terms::evaluate(t, &receiver, ctx)? {
        TermValue::Unset => Ok(default_micros),
        TermValue::Null => Err(QueryError::invalid("Invalid null value of timestamp")),
        TermValue::Value(b) => <[u8; 8]>::try_from(&b[..])
            .map(i64::from_be_bytes)
            .map_err(|_| {
                QueryError::invalid(format!(
                    "Invalid timestamp value: {} bytes instead of 8",
                    b.len()
                ))
            }),
    }
}

/// Evaluates `USING TTL` (Cassandra's `Attributes.getTimeToLive`): the table's
/// `default_time_to_live` when absent or unset, none for null or 0.
pub(crate) fn bind_ttl(analyzed: &Analyzed<'_>, ctx: &TermContext<'_>) -> Result<u32, QueryError> {
    let default = analyzed.table.params.default_time_to_live_secs;
    let Some(t) = analyzed.ttl else {
        return Ok(default);
    };
    let receiver = named_receiver(analyzed.table, "[ttl]".to_string(), CqlType::Int);
    let ttl = match terms::evaluate(t, &receiver, ctx)? {
        TermValue::Unset => return Ok(default),
        TermValue::Null => return Ok(0),
        TermValue::Value(b) if b.is_empty() => return Ok(0),
        TermValue::Value(b) => <[u8; 4]>::try_from(&b[..])
            .map(i32::from_be_bytes)
            .map_err(|_| {
                QueryError::invalid(format!("Invalid TTL value: {} bytes instead of 4", b.len()))
            })?,
    };
    if ttl < 0 {
        return Err(QueryError::invalid(format!(
            "A TTL must be greater or equal to 0, but was {ttl}"
        )));
    }
    if i64::from(ttl) > MAX_TTL_SECS {
        return Err(QueryError::invalid(format!(
            "ttl is too large. requested ({ttl}) maximum ({MAX_TTL_SECS})"
        )));
    }
    Ok(u32::try_from(ttl).unwrap_or(0))
}

/// Binds a statement: keys, clustering target, timestamp, TTL and operations, in
/// Cassandra's order.
pub(crate) fn bind<'a>(
    analyzed: &'a Analyzed<'a>,
    ctx: &TermContext<'_>,
    default_timestamp_micros: i64,
) -> Result<Bound<'a>, QueryError> {
    let json = parse_json(analyzed, ctx)?;
    let bind_ctx = BindContext {
        terms: ctx,
        table: analyzed.table,
        json: json.as_ref(),
    };
    let keys = restrictions::bind_partition_keys(&bind_ctx, &analyzed.restrictions)?;
    let ranges =
        analyzed.kind == Kind::Delete && analyzed.restrictions.is_column_range(analyzed.table);
    let target = restrictions::bind_clustering(&bind_ctx, &analyzed.restrictions, ranges)?;
    let timestamp_micros = bind_timestamp(analyzed, ctx, default_timestamp_micros)?;
    let ttl_secs = bind_ttl(analyzed, ctx)?;
    // Cassandra's `UpdateParameters`: `Long.MIN_VALUE` means "no timestamp" internally.
    if timestamp_micros == i64::MIN {
        return Err(QueryError::invalid(format!(
            "Out of bound timestamp, must be in [{}, {}]",
            i64::MIN + 1,
            i64::MAX
        )));
    }
    let mut ops = Vec::with_capacity(analyzed.ops.len());
    for op in &analyzed.ops {
        ops.push(bind_op(analyzed.table, op, ctx, json.as_ref())?);
    }
    Ok(Bound {
        analyzed,
        keys,
        target,
        timestamp_micros,
        ttl_secs,
        ops,
    })
}

/// The partitions a statement or batch writes, merged per partition key.
#[derive(Default)]
pub(crate) struct Collector {
    entries: Vec<(TableId, ClusteringComparator, PartitionKey, Partition)>,
    index: HashMap<(TableId, Bytes), usize>,
}

impl Collector {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn partition(&mut self, table: &TableMetadata, key: &Bytes) -> &mut Partition {
        let id = (table.id, key.clone());
        let i = match self.index.get(&id) {
            Some(i) => *i,
            None => {
                self.entries.push((
                    table.id,
                    table.clustering_comparator(),
                    PartitionKey::new(key.clone()),
                    Partition::new(),
                ));
                let i = self.entries.len() - 1;
                self.index.insert(id, i);
                i
            }
        };
        &mut self.entries[i].3
    }

    /// The mutation: one canonical partition update per partition that writes anything
    /// (an empty list appended, say, writes nothing).
    pub(crate) fn into_mutation(self) -> Mutation {
        Mutation {
            updates: self
                .entries
                .into_iter()
                .map(|(table, cmp, key, partition)| PartitionUpdate {
                    table,
                    key,
                    partition: partition.canonicalize(&cmp),
                })
                .filter(|u| !u.partition.is_empty())
                .collect(),
        }
    }
}

/// Current rows read before writing (for list operations by index or value), per key.
#[derive(Default)]
pub(crate) struct Prefetched {
    partitions: HashMap<Bytes, LivePartition>,
}

impl Prefetched {
    pub(crate) fn insert(&mut self, key: Bytes, partition: LivePartition) {
        self.partitions.insert(key, partition);
    }

    fn row(
        &self,
        cmp: &ClusteringComparator,
        key: &Bytes,
        clustering: Option<&Clustering>,
    ) -> Option<&Row> {
        let p = self.partitions.get(key)?;
        match clustering {
            None => p.static_row.as_ref(),
            Some(c) => p
                .rows
                .iter()
                .find(|r| cmp.compare(&r.clustering, c).is_eq()),
        }
    }
}

/// Reads what a statement's list operations need: the rows it writes (or the static row)
/// of each of its partitions, live data only.
pub(crate) fn prefetch(
    node: &Node,
    bound: &Bound<'_>,
    now_secs: i64,
    into: &mut Prefetched,
    consistency: meridian_cql_protocol::Consistency,
) -> Result<(), QueryError> {
    if !bound.requires_read() {
        return Ok(());
    }
    let slices: Vec<Slice> = match &bound.target {
        ClusteringTarget::Rows(rows) => rows.iter().cloned().map(Slice::prefix).collect(),
        ClusteringTarget::Unrestricted if bound.analyzed.applies_only_to_static() => Vec::new(),
        ClusteringTarget::Unrestricted => vec![Slice::ALL],
        ClusteringTarget::Slices(_) => return Ok(()),
    };
    for key in &bound.keys {
        if into.partitions.contains_key(key) {
            continue;
        }
        let cmd = ReadCommand {
            slices: slices.clone(),
            reversed: false,
            per_partition_limit: None,
            limit: None,
            now_secs,
        };
        let pk = PartitionKey::new(key.clone());
        if let Some(p) = node.read_live(bound.analyzed.table.id, &pk, &cmd, consistency)? {
            into.insert(key.clone(), p);
        }
    }
    Ok(())
}

/// What every cell of a statement is written with.
pub(crate) struct Params<'g> {
    pub timestamp_micros: i64,
    pub ttl_secs: u32,
    pub now_secs: i64,
    pub now_micros: i64,
    pub paths: &'g ListPathGenerator,
}

impl Params<'_> {
    fn cell(&self, value: Bytes) -> Cell {
        if self.ttl_secs > 0 {
            Cell::expiring(self.timestamp_micros, value, self.ttl_secs, self.now_secs)
        } else {
            Cell::live(self.timestamp_micros, value)
        }
    }

    fn tombstone(&self) -> Cell {
        Cell::tombstone(self.timestamp_micros, self.now_secs)
    }

    fn deletion(&self) -> DeletionTime {
        DeletionTime::new(self.timestamp_micros, self.now_secs)
    }

    fn liveness(&self) -> LivenessInfo {
        if self.ttl_secs > 0 {
            LivenessInfo::expiring(self.timestamp_micros, self.ttl_secs, self.now_secs)
        } else {
            LivenessInfo::live(self.timestamp_micros)
        }
    }
}

fn complex(deletion: DeletionTime, cells: Vec<(Bytes, Cell)>) -> ColumnData {
    let mut cells = cells;
    cells.sort_by(|a, b| a.0.cmp(&b.0));
    // Equal paths in one operation (duplicate set elements): the last one stays.
    let mut out: Vec<(Bytes, Cell)> = Vec::with_capacity(cells.len());
    for (p, c) in cells {
        match out.last_mut() {
            Some(last) if last.0 == p => last.1 = last.1.clone().reconcile(c),
            _ => out.push((p, c)),
        }
    }
    ColumnData::Complex(ComplexColumn {
        deletion,
        cells: out,
    })
}

fn null_in_collection() -> QueryError {
    QueryError::invalid("null is not supported inside collections")
}

/// The live cells of a list column in list order.
fn list_cells<'r>(existing: Option<&'r Row>, column: &ColumnMetadata) -> Vec<&'r (Bytes, Cell)> {
    match existing.and_then(|r| r.column(column.id)) {
        Some(ColumnData::Complex(c)) => values::cells_in_type_order(&column.ty, c),
        _ => Vec::new(),
    }
}

fn list_index(v: &TermValue, unset_message: Option<&str>) -> Result<Option<i32>, QueryError> {
    match v {
        TermValue::Null => Err(QueryError::invalid("Invalid null value for list index")),
        TermValue::Unset => match unset_message {
            Some(m) => Err(QueryError::invalid(m)),
            None => Ok(None),
        },
        TermValue::Value(b) => <[u8; 4]>::try_from(&b[..])
            .map(|a| Some(i32::from_be_bytes(a)))
            .map_err(|_| QueryError::invalid("Invalid list index: expected 4 bytes")),
    }
}

/// Writes the elements of a whole collection or UDT value into a non-frozen column.
fn write_elements(
    column: &ColumnMetadata,
    value: &[u8],
    params: &Params<'_>,
    cells: &mut Vec<(Bytes, Cell)>,
) -> Result<(), QueryError> {
    match column.ty.unfrozen() {
        CqlType::List(_) => {
            for e in values::split_collection(value)? {
                let e = e.ok_or_else(null_in_collection)?;
                let path = params.paths.next_append(params.now_micros);
                cells.push((path, params.cell(Bytes::copy_from_slice(e))));
            }
        }
        CqlType::Set(_) => {
            for e in values::split_collection(value)? {
                let e = e.ok_or_else(null_in_collection)?;
                cells.push((Bytes::copy_from_slice(e), params.cell(Bytes::new())));
            }
        }
        CqlType::Map(..) => {
            for (k, v) in values::split_map(value)? {
                let (Some(k), Some(v)) = (k, v) else {
                    return Err(null_in_collection());
                };
                cells.push((
                    Bytes::copy_from_slice(k),
                    params.cell(Bytes::copy_from_slice(v)),
                ));
            }
        }
        CqlType::Udt(u) => {
            for (i, f) in values::split_fields(value, u.fields.len())?
                .into_iter()
                .enumerate()
            {
                if let Some(f) = f {
                    cells.push((
                        values::field_path(i),
                        params.cell(Bytes::copy_from_slice(f)),
                    ));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Applies one bound operation to `row` (Cassandra's `Operation.execute`).
fn execute_op(
    op: &BoundOp<'_>,
    row: &mut Row,
    existing: Option<&Row>,
    params: &Params<'_>,
) -> Result<(), QueryError> {
    let column = op.column;
    let id = column.id;
    let multi = column.ty.is_multi_cell();
    let live = DeletionTime::LIVE;
    match &op.kind {
        BoundKind::Set(v) => {
            if multi {
                if matches!(v, TermValue::Unset) {
                    return Ok(());
                }
                let overwrite =
                    DeletionTime::new(params.timestamp_micros.saturating_sub(1), params.now_secs);
                let mut cells = Vec::new();
                if let TermValue::Value(b) = v {
                    write_elements(column, b, params, &mut cells)?;
                }
                row.merge_column(id, complex(overwrite, cells));
            } else {
                match v {
                    TermValue::Unset => {}
                    TermValue::Null => row.set_cell(id, params.tombstone()),
                    TermValue::Value(b) => row.set_cell(id, params.cell(b.clone())),
                }
            }
        }
        BoundKind::SetElement { key, value } => match column.ty.unfrozen() {
            CqlType::List(_) => {
                let Some(idx) = list_index(key, Some("Invalid unset value for list index"))? else {
                    return Ok(());
                };
                let cells = list_cells(existing, column);
                if cells.is_empty() {
                    return Err(QueryError::invalid(
                        "Attempted to set an element on a list which is null",
                    ));
                }
                let Some(target) = usize::try_from(idx).ok().and_then(|i| cells.get(i)) else {
                    return Err(QueryError::invalid(format!(
                        "List index {idx} out of bound, list has size {}",
                        cells.len()
                    )));
                };
                let path = target.0.clone();
                match value {
                    TermValue::Null => {
                        row.merge_column(id, complex(live, vec![(path, params.tombstone())]))
                    }
                    TermValue::Unset => {}
                    TermValue::Value(b) => {
                        row.merge_column(id, complex(live, vec![(path, params.cell(b.clone()))]))
                    }
                }
            }
            _ => {
                let path = match key {
                    TermValue::Null => return Err(QueryError::invalid("Invalid null map key")),
                    TermValue::Unset => return Err(QueryError::invalid("Invalid unset map key")),
                    TermValue::Value(k) => k.clone(),
                };
                match value {
                    TermValue::Null => {
                        row.merge_column(id, complex(live, vec![(path, params.tombstone())]))
                    }
                    TermValue::Unset => {}
                    TermValue::Value(b) => {
                        row.merge_column(id, complex(live, vec![(path, params.cell(b.clone()))]))
                    }
                }
            }
        },
        BoundKind::SetField { index, value } => {
            let path = values::field_path(*index);
            match value {
                TermValue::Unset => {}
                TermValue::Null => {
                    row.merge_column(id, complex(live, vec![(path, params.tombstone())]))
                }
                TermValue::Value(b) => {
                    row.merge_column(id, complex(live, vec![(path, params.cell(b.clone()))]))
                }
            }
        }
        BoundKind::Add(v) => {
            if let TermValue::Value(b) = v {
                let mut cells = Vec::new();
                write_elements(column, b, params, &mut cells)?;
                row.merge_column(id, complex(live, cells));
            }
        }
        BoundKind::Prepend(v) => {
            if let TermValue::Value(b) = v {
                let elements = values::split_collection(b)?;
                let paths = params.paths.next_prepend(params.now_micros, elements.len());
                let mut cells = Vec::with_capacity(elements.len());
                for (e, path) in elements.into_iter().zip(paths) {
                    let e = e.ok_or_else(null_in_collection)?;
                    cells.push((path, params.cell(Bytes::copy_from_slice(e))));
                }
                row.merge_column(id, complex(live, cells));
            }
        }
        BoundKind::Subtract(v) => {
            let TermValue::Value(b) = v else {
                return Ok(());
            };
            let elements = values::split_collection(b)?;
            let mut cells = Vec::new();
            match column.ty.unfrozen() {
                CqlType::List(_) => {
                    let discard: Vec<&[u8]> = elements.into_iter().flatten().collect();
                    for (path, cell) in list_cells(existing, column)
                        .into_iter()
                        .map(|c| (&c.0, &c.1))
                    {
                        if discard.contains(&cell.value.as_ref()) {
                            cells.push((path.clone(), params.tombstone()));
                        }
                    }
                }
                _ => {
                    for e in elements {
                        let e = e.ok_or_else(null_in_collection)?;
                        cells.push((Bytes::copy_from_slice(e), params.tombstone()));
                    }
                }
            }
            if !cells.is_empty() {
                row.merge_column(id, complex(live, cells));
            }
        }
        BoundKind::DeleteColumn => {
            if multi {
                row.merge_column(id, complex(params.deletion(), Vec::new()));
            } else {
                row.set_cell(id, params.tombstone());
            }
        }
        BoundKind::DeleteElement(k) => {
            let path = match column.ty.unfrozen() {
                CqlType::List(_) => {
                    let Some(idx) = list_index(k, None)? else {
                        return Ok(());
                    };
                    let cells = list_cells(existing, column);
                    if cells.is_empty() {
                        return Err(QueryError::invalid(
                            "Attempted to delete an element from a list which is null",
                        ));
                    }
                    let Some(target) = usize::try_from(idx).ok().and_then(|i| cells.get(i)) else {
                        return Err(QueryError::invalid(format!(
                            "List index {idx} out of bound, list has size {}",
                            cells.len()
                        )));
                    };
                    target.0.clone()
                }
                CqlType::Set(_) => match k {
                    TermValue::Null => return Err(QueryError::invalid("Invalid null set element")),
                    TermValue::Unset => return Ok(()),
                    TermValue::Value(e) => e.clone(),
                },
                _ => match k {
                    TermValue::Null => return Err(QueryError::invalid("Invalid null map key")),
                    TermValue::Unset => return Err(QueryError::invalid("Invalid unset map key")),
                    TermValue::Value(e) => e.clone(),
                },
            };
            row.merge_column(id, complex(live, vec![(path, params.tombstone())]));
        }
        BoundKind::DeleteField(i) => {
            row.merge_column(
                id,
                complex(live, vec![(values::field_path(*i), params.tombstone())]),
            );
        }
    }
    Ok(())
}

fn range_deletions_unsupported() -> QueryError {
    QueryError::invalid("Range deletions are not supported for specific columns")
}

/// Adds what `bound` writes in partition `key` to `partition` (Cassandra's
/// `addUpdateForKey`), for a statement's own clustering target.
fn add_for_key(
    bound: &Bound<'_>,
    key: &Bytes,
    partition: &mut Partition,
    prefetched: &Prefetched,
    params: &Params<'_>,
) -> Result<(), QueryError> {
    let analyzed = bound.analyzed;
    let table = analyzed.table;
    let cmp = table.clustering_comparator();
    match &bound.target {
        ClusteringTarget::Slices(slices) => {
            if !bound.ops.is_empty() {
                return Err(range_deletions_unsupported());
            }
            for s in slices {
                partition.range_tombstones.add(
                    &cmp,
                    RangeTombstone {
                        slice: s.clone(),
                        deletion: params.deletion(),
                    },
                );
            }
            Ok(())
        }
        ClusteringTarget::Rows(rows) => {
            for c in rows {
                add_for_clustering(bound, key, Some(c), partition, prefetched, params, &cmp)?;
            }
            Ok(())
        }
        ClusteringTarget::Unrestricted => {
            if analyzed.applies_only_to_static() {
                add_for_clustering(bound, key, None, partition, prefetched, params, &cmp)
            } else {
                add_for_clustering(
                    bound,
                    key,
                    Some(&Clustering::EMPTY),
                    partition,
                    prefetched,
                    params,
                    &cmp,
                )
            }
        }
    }
}

fn merge_static(partition: &mut Partition, row: Row) {
    if row.is_empty() {
        return;
    }
    partition.static_row = Some(match partition.static_row.take() {
        Some(existing) => existing.merge(row),
        None => row,
    });
}

fn push_row(partition: &mut Partition, row: Row) {
    if !row.is_empty() {
        partition.rows.push(row);
    }
}

/// `clustering` is `None` for the static row.
fn add_for_clustering(
    bound: &Bound<'_>,
    key: &Bytes,
    clustering: Option<&Clustering>,
    partition: &mut Partition,
    prefetched: &Prefetched,
    params: &Params<'_>,
    cmp: &ClusteringComparator,
) -> Result<(), QueryError> {
    let analyzed = bound.analyzed;
    let table = analyzed.table;
    let regular: Vec<&BoundOp<'_>> = bound.ops.iter().filter(|o| !o.is_static()).collect();
    let statics: Vec<&BoundOp<'_>> = bound.ops.iter().filter(|o| o.is_static()).collect();
    let clustering_count = table.clustering_columns().len();
    if analyzed.kind == Kind::Delete {
        if regular.is_empty() && statics.is_empty() {
            let Some(c) = clustering else {
                return Ok(());
            };
            if c.is_empty() {
                partition.deletion = partition.deletion.max(params.deletion());
            } else if c.len() == clustering_count {
                let mut row = Row::new(c.clone());
                row.deletion = params.deletion();
                partition.rows.push(row);
            } else {
                partition.range_tombstones.add(
                    cmp,
                    RangeTombstone {
                        slice: Slice::prefix(c.clone()),
                        deletion: params.deletion(),
                    },
                );
            }
            return Ok(());
        }
        if !regular.is_empty() {
            let Some(c) = clustering else {
                return Err(range_deletions_unsupported());
            };
            if c.is_empty() && clustering_count != 0 {
                return Err(range_deletions_unsupported());
            }
            let mut row = Row::new(c.clone());
            let existing = prefetched.row(cmp, key, Some(c));
            for op in &regular {
                execute_op(op, &mut row, existing, params)?;
            }
            push_row(partition, row);
        }
    } else if let Some(c) = clustering.filter(|_| analyzed.updates_regular_rows()) {
        let mut row = Row::new(c.clone());
        if analyzed.kind == Kind::Insert {
            row.liveness = Some(params.liveness());
        }
        let existing = prefetched.row(cmp, key, Some(c));
        for op in &regular {
            execute_op(op, &mut row, existing, params)?;
        }
        push_row(partition, row);
    }
    if !statics.is_empty() {
        let mut row = Row::new(Clustering::EMPTY);
        let existing = prefetched.row(cmp, key, None);
        for op in &statics {
            execute_op(op, &mut row, existing, params)?;
        }
        merge_static(partition, row);
    }
    Ok(())
}

/// Adds everything `bound` writes to `collector`.
pub(crate) fn add_updates(
    bound: &Bound<'_>,
    collector: &mut Collector,
    prefetched: &Prefetched,
    params: &Params<'_>,
) -> Result<(), QueryError> {
    if matches!(&bound.target, ClusteringTarget::Rows(r) if r.is_empty())
        || matches!(&bound.target, ClusteringTarget::Slices(s) if s.is_empty())
    {
        return Ok(());
    }
    for key in &bound.keys {
        let partition = collector.partition(bound.analyzed.table, key);
        add_for_key(bound, key, partition, prefetched, params)?;
    }
    Ok(())
}
