//! The `WHERE` clause of a `SELECT`: relations checked against the table exactly as
//! Cassandra 5.0's `StatementRestrictions` checks them (same rules, order and messages), then
//! bound to values to say what to read:
//!
//! * which partitions: a sorted, de-duplicated list of keys when every partition key column
//!   is restricted by `=` / `IN` (optionally filtered by a `token()` range), otherwise a
//!   token range scan;
//! * which clusterings: normalized storage slices (see [`super::slices`]) built from the
//!   leading `=` / `IN` restrictions and the first slice restriction after them;
//! * what to filter in memory: everything else (`ALLOW FILTERING`), as [`Filter`]s.
//!
//! Restrictions that need filtering are refused without `ALLOW FILTERING` with Cassandra's
//! message; the caller checks the remaining statement-level rule (a key-range read with any
//! restriction needs `ALLOW FILTERING`) through [`WhereClause::needs_filtering`].

use std::cmp::Ordering;
use std::ops::Bound;

use bytes::Bytes;
use meridian_cql_parser::ast::{self, ComparisonOp, InValues, Relation, Term};
use meridian_schema::cql::type_to_cql;
use meridian_schema::{ColumnKind, ColumnMetadata, TableMetadata};
use meridian_storage::{token_end_bound, token_start_bound};
use meridian_types::cql_type::{compare, CqlType};
use meridian_types::model::{Clustering, ClusteringComparator, Slice};
use meridian_types::token::{composite_partition_key, PartitionKey, Token};
use meridian_types::value::cql_identifier;

use super::row::{split_collection, split_tuple};
use super::slices::{self, TupleBound};
use super::Binder;
use crate::error::QueryError;
use crate::terms::{Receiver, TermValue};

/// Cassandra's message for queries that need `ALLOW FILTERING`.
pub(crate) const REQUIRES_ALLOW_FILTERING: &str = "Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING";

/// Most partition keys an `IN` (or the cartesian product of several) may produce.
pub(crate) const MAX_PARTITION_KEYS_IN_SELECT: usize = 100_000;
/// Most clustering prefixes the `IN` restrictions of a query may produce.
pub(crate) const MAX_CLUSTERING_PREFIXES: usize = 100_000;

fn invalid(message: impl Into<String>) -> QueryError {
    QueryError::invalid(message)
}

/// The CQL form of a column name, quoted when needed.
pub(crate) fn col_name(c: &ColumnMetadata) -> String {
    cql_identifier(&c.name).into_owned()
}

/// Looks a column up, with Cassandra's message when it does not exist.
pub(crate) fn existing_column<'t>(
    table: &'t TableMetadata,
    name: &ast::Identifier,
) -> Result<&'t ColumnMetadata, QueryError> {
    table.column(name.as_str()).ok_or_else(|| {
        invalid(format!(
            "Undefined column name {} in table {}",
            cql_identifier(name.as_str()),
            table.qualified_name()
        ))
    })
}

/// The operator of a single-column restriction, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
    Contains,
    ContainsKey,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Lt => "<",
            Op::Lte => "<=",
            Op::Gt => ">",
            Op::Gte => ">=",
            Op::In => "IN",
            Op::Contains => "CONTAINS",
            Op::ContainsKey => "CONTAINS KEY",
        }
    }

    fn from_comparison(op: ComparisonOp, relation: &Relation) -> Result<Op, QueryError> {
        Ok(match op {
            ComparisonOp::Eq => Op::Eq,
            ComparisonOp::Lt => Op::Lt,
            ComparisonOp::Lte => Op::Lte,
            ComparisonOp::Gt => Op::Gt,
            ComparisonOp::Gte => Op::Gte,
            ComparisonOp::Neq => {
                return Err(invalid(format!("Unsupported \"!=\" relation: {relation}")))
            }
        })
    }

    fn is_slice(self) -> bool {
        matches!(self, Op::Lt | Op::Lte | Op::Gt | Op::Gte)
    }
}

/// Values of a single-column `IN`.
#[derive(Clone, Debug)]
pub(crate) enum InList<'s> {
    /// `IN (a, b, ...)`.
    Terms(Vec<&'s Term>),
    /// `IN ?`: one list value.
    Marker(&'s ast::BindMarker),
}

/// A restriction on one column.
#[derive(Clone, Debug)]
pub(crate) enum Single<'s> {
    /// `c = v`.
    Eq(&'s Term),
    /// `c IN ...`.
    In(InList<'s>),
    /// `c > a AND c <= b` ...: each bound with its inclusiveness.
    Slice {
        start: Option<(&'s Term, bool)>,
        end: Option<(&'s Term, bool)>,
    },
    /// `CONTAINS`, `CONTAINS KEY` and map-entry equalities.
    Contains {
        values: Vec<&'s Term>,
        keys: Vec<&'s Term>,
        entries: Vec<(&'s Term, &'s Term)>,
    },
}

impl Single<'_> {
    fn is_slice(&self) -> bool {
        matches!(self, Single::Slice { .. })
    }
    fn is_contains(&self) -> bool {
        matches!(self, Single::Contains { .. })
    }
    fn is_eq(&self) -> bool {
        matches!(self, Single::Eq(_))
    }
    fn is_in(&self) -> bool {
        matches!(self, Single::In(_))
    }
}

/// Values for consecutive clustering columns.
#[derive(Clone, Debug)]
pub(crate) enum TupleValue<'s> {
    /// One term per column (single-column relations, tuple literals).
    PerColumn(Vec<&'s Term>),
    /// One tuple-typed term (a marker) for all the columns.
    Whole(&'s Term),
}

/// One bound of a clustering slice.
#[derive(Clone, Debug)]
pub(crate) struct SliceBound<'s> {
    /// Clustering positions the bound's values are for.
    pub columns: Vec<usize>,
    /// The values.
    pub value: TupleValue<'s>,
    /// Whether the bound is included.
    pub inclusive: bool,
}

/// Values of a multi-column `IN`.
#[derive(Clone, Debug)]
pub(crate) enum TupleIn<'s> {
    /// `IN ((1, 2), ?, ...)`.
    Values(Vec<TupleValue<'s>>),
    /// `IN ?`: a list of tuples.
    Marker(&'s ast::BindMarker),
}

/// What a clustering restriction says.
#[derive(Clone, Debug)]
pub(crate) enum ClusteringKind<'s> {
    Eq(TupleValue<'s>),
    In(TupleIn<'s>),
    Slice {
        start: Option<SliceBound<'s>>,
        end: Option<SliceBound<'s>>,
    },
    /// Single-column only (frozen collection clustering columns).
    Contains(Single<'s>),
    /// A single-column `IN` (kept apart for its bind receiver and messages).
    SingleIn(InList<'s>),
}

/// A restriction on consecutive clustering columns.
#[derive(Clone, Debug)]
pub(crate) struct ClusteringRestriction<'s> {
    /// Clustering positions, consecutive and increasing.
    pub columns: Vec<usize>,
    /// Whether it came from (or merged with) a multi-column relation.
    pub multi: bool,
    /// What it says.
    pub kind: ClusteringKind<'s>,
}

impl ClusteringRestriction<'_> {
    fn first(&self) -> usize {
        self.columns.first().copied().unwrap_or(0)
    }
    fn last(&self) -> usize {
        self.columns.last().copied().unwrap_or(0)
    }
    fn is_slice(&self) -> bool {
        matches!(self.kind, ClusteringKind::Slice { .. })
    }
    fn is_contains(&self) -> bool {
        matches!(self.kind, ClusteringKind::Contains(_))
    }
    fn is_eq(&self) -> bool {
        matches!(self.kind, ClusteringKind::Eq(_))
    }
}

/// A `token(...)` restriction.
#[derive(Clone, Debug, Default)]
pub(crate) struct TokenRestriction<'s> {
    /// `token(...) = v`.
    pub eq: Option<&'s Term>,
    /// Lower bound and inclusiveness.
    pub start: Option<(&'s Term, bool)>,
    /// Upper bound and inclusiveness.
    pub end: Option<(&'s Term, bool)>,
    /// The columns as written, for messages.
    pub columns: String,
}

/// The analysed `WHERE` clause.
#[derive(Clone, Debug)]
pub(crate) struct WhereClause<'s> {
    /// Restrictions per partition key column, by position.
    pub pk: Vec<Option<Single<'s>>>,
    /// The `token()` restriction.
    pub token: Option<TokenRestriction<'s>>,
    /// Clustering restrictions sorted by first column; their columns do not overlap.
    pub clustering: Vec<ClusteringRestriction<'s>>,
    /// Restrictions on regular and static columns (one per column).
    pub others: Vec<(ColumnMetadata, Single<'s>)>,
    /// Whether the partition key restrictions are applied by filtering.
    pub pk_needs_filtering: bool,
    /// Whether the clustering restrictions are applied by filtering too.
    pub clustering_needs_filtering: bool,
    /// Whether partitions are read by a range scan rather than by key.
    pub is_key_range: bool,
}

fn contains_single(op: Op, term: &Term) -> Single<'_> {
    match op {
        Op::ContainsKey => Single::Contains {
            values: vec![],
            keys: vec![term],
            entries: vec![],
        },
        _ => Single::Contains {
            values: vec![term],
            keys: vec![],
            entries: vec![],
        },
    }
}

/// Cassandra's `SingleColumnRelation.toReceivers` checks.
fn check_receiver(column: &ColumnMetadata, op: Op, map_key: bool) -> Result<(), QueryError> {
    let ty = &column.ty;
    let name = &column.name;
    if op == Op::ContainsKey && !matches!(ty.unfrozen(), CqlType::Map(..)) {
        return Err(invalid(format!(
            "Cannot use CONTAINS KEY on non-map column {name}"
        )));
    }
    if op == Op::Contains && !ty.is_collection() {
        return Err(invalid(format!(
            "Cannot use CONTAINS on non-collection column {name}"
        )));
    }
    if map_key {
        if matches!(ty.unfrozen(), CqlType::List(_)) {
            return Err(invalid(format!(
                "Indexes on list entries ({name}[index] = value) are not currently supported."
            )));
        }
        if !matches!(ty.unfrozen(), CqlType::Map(..)) {
            return Err(invalid(format!("Column {name} cannot be used as a map")));
        }
        if !ty.is_multi_cell() {
            return Err(invalid(format!(
                "Map-entry equality predicates on frozen map column {name} are not supported"
            )));
        }
        if op != Op::Eq {
            return Err(invalid("Only EQ relations are supported on map entries"));
        }
    }
    if matches!(ty, CqlType::Udt(_)) {
        return Err(invalid(format!(
            "Non-frozen UDT column '{name}' ({}) cannot be restricted by any relation",
            type_to_cql(ty)
        )));
    }
    if ty.is_collection() && ty.is_multi_cell() {
        let legal = matches!(op, Op::Contains | Op::ContainsKey) || (map_key && op == Op::Eq);
        if !legal {
            return Err(invalid(format!(
                "Collection column '{name}' ({}) cannot be restricted by a '{}' relation",
                type_to_cql(ty),
                op.as_str()
            )));
        }
    }
    Ok(())
}

fn check_slice_type(column: &ColumnMetadata) -> Result<(), QueryError> {
    let ty = &column.ty;
    if ty.references_duration() {
        let inner = ty.unfrozen();
        if ty.is_collection() {
            return Err(invalid(
                "Slice restrictions are not supported on collections containing durations",
            ));
        }
        if matches!(inner, CqlType::Tuple(_)) {
            return Err(invalid(
                "Slice restrictions are not supported on tuples containing durations",
            ));
        }
        if matches!(inner, CqlType::Udt(_)) {
            return Err(invalid(
                "Slice restrictions are not supported on UDTs containing durations",
            ));
        }
        return Err(invalid(
            "Slice restrictions are not supported on duration columns",
        ));
    }
    Ok(())
}

/// A relation turned into a restriction, before merging.
enum Converted<'s> {
    Single(ColumnMetadata, Single<'s>),
    Clustering(ClusteringRestriction<'s>),
    Token(TokenRestriction<'s>),
}

fn slice_of<'s>(op: Op, term: &'s Term) -> Single<'s> {
    match op {
        Op::Gt => Single::Slice {
            start: Some((term, false)),
            end: None,
        },
        Op::Gte => Single::Slice {
            start: Some((term, true)),
            end: None,
        },
        Op::Lt => Single::Slice {
            start: None,
            end: Some((term, false)),
        },
        _ => Single::Slice {
            start: None,
            end: Some((term, true)),
        },
    }
}

fn convert<'s>(table: &TableMetadata, relation: &'s Relation) -> Result<Converted<'s>, QueryError> {
    match relation {
        Relation::Compare { column, op, value } => {
            let col = existing_column(table, column)?;
            let op = Op::from_comparison(*op, relation)?;
            if op.is_slice() {
                check_slice_type(col)?;
            }
            check_receiver(col, op, false)?;
            let single = if op == Op::Eq {
                Single::Eq(value)
            } else {
                slice_of(op, value)
            };
            Ok(Converted::Single(col.clone(), single))
        }
        Relation::In { column, values } => {
            let col = existing_column(table, column)?;
            check_receiver(col, Op::In, false)?;
            let single = match values {
                InValues::Terms(terms) if terms.len() == 1 => Single::Eq(&terms[0]),
                InValues::Terms(terms) => Single::In(InList::Terms(terms.iter().collect())),
                InValues::Marker(m) => Single::In(InList::Marker(m)),
            };
            Ok(Converted::Single(col.clone(), single))
        }
        Relation::Contains { column, key, value } => {
            let col = existing_column(table, column)?;
            let op = if *key { Op::ContainsKey } else { Op::Contains };
            check_receiver(col, op, false)?;
            Ok(Converted::Single(col.clone(), contains_single(op, value)))
        }
        Relation::MapElement {
            column,
            key,
            op,
            value,
        } => {
            let col = existing_column(table, column)?;
            let op = Op::from_comparison(*op, relation)?;
            if op.is_slice() {
                check_slice_type(col)?;
            }
            check_receiver(col, op, true)?;
            Ok(Converted::Single(
                col.clone(),
                Single::Contains {
                    values: vec![],
                    keys: vec![],
                    entries: vec![(key, value)],
                },
            ))
        }
        Relation::Like { column, .. } => {
            existing_column(table, column)?;
            Err(invalid(format!(
                "LIKE restriction is only supported on properly indexed columns. {relation} is not valid."
            )))
        }
        Relation::IsNotNull { column } => {
            existing_column(table, column)?;
            Err(invalid(format!("Unsupported restriction: {relation}")))
        }
        Relation::Token { columns, op, value } => {
            let mut defs = Vec::with_capacity(columns.len());
            for c in columns {
                defs.push(existing_column(table, c)?);
            }
            check_token_columns(table, &defs)?;
            let op = Op::from_comparison(*op, relation)?;
            let names = defs
                .iter()
                .map(|c| col_name(c))
                .collect::<Vec<_>>()
                .join(", ");
            let mut t = TokenRestriction {
                columns: names,
                ..TokenRestriction::default()
            };
            match op {
                Op::Eq => t.eq = Some(value),
                Op::Gt => t.start = Some((value, false)),
                Op::Gte => t.start = Some((value, true)),
                Op::Lt => t.end = Some((value, false)),
                _ => t.end = Some((value, true)),
            }
            Ok(Converted::Token(t))
        }
        Relation::MultiColumnCompare { columns, op, value } => {
            let positions = multi_columns(table, columns, relation)?;
            let op = Op::from_comparison(*op, relation)?;
            let tuple = tuple_value(value, positions.len())?;
            let kind = if op == Op::Eq {
                ClusteringKind::Eq(tuple)
            } else {
                let bound = SliceBound {
                    columns: positions.clone(),
                    value: tuple,
                    inclusive: matches!(op, Op::Gte | Op::Lte),
                };
                if matches!(op, Op::Gt | Op::Gte) {
                    ClusteringKind::Slice {
                        start: Some(bound),
                        end: None,
                    }
                } else {
                    ClusteringKind::Slice {
                        start: None,
                        end: Some(bound),
                    }
                }
            };
            Ok(Converted::Clustering(ClusteringRestriction {
                columns: positions,
                multi: true,
                kind,
            }))
        }
        Relation::MultiColumnIn { columns, values } => {
            let positions = multi_columns(table, columns, relation)?;
            let kind = match values {
                InValues::Terms(terms) => {
                    let mut tuples = Vec::with_capacity(terms.len());
                    for t in terms {
                        tuples.push(tuple_value(t, positions.len())?);
                    }
                    if tuples.len() == 1 {
                        ClusteringKind::Eq(tuples.remove(0))
                    } else {
                        ClusteringKind::In(TupleIn::Values(tuples))
                    }
                }
                InValues::Marker(m) => ClusteringKind::In(TupleIn::Marker(m)),
            };
            Ok(Converted::Clustering(ClusteringRestriction {
                columns: positions,
                multi: true,
                kind,
            }))
        }
        Relation::CustomIndex { index, .. } => {
            let name = index.name.as_str();
            if let Some(ks) = &index.keyspace {
                if ks.as_str() != table.keyspace {
                    return Err(invalid(format!(
                        "Target index {name} cannot be used to query {}",
                        table.qualified_name()
                    )));
                }
            }
            Err(invalid(format!(
                "Invalid index expression, index {name} not found for {}",
                table.qualified_name()
            )))
        }
    }
}

/// The term of an `IN ?` marker.
fn marker_term(m: &ast::BindMarker) -> Term {
    Term::BindMarker(m.clone())
}

fn tuple_value(value: &Term, arity: usize) -> Result<TupleValue<'_>, QueryError> {
    match value {
        Term::Tuple(elements) => {
            if elements.len() != arity {
                return Err(invalid(format!(
                    "Expected {arity} elements in value tuple, but got {}: {value}",
                    elements.len()
                )));
            }
            Ok(TupleValue::PerColumn(elements.iter().collect()))
        }
        other => Ok(TupleValue::Whole(other)),
    }
}

fn multi_columns(
    table: &TableMetadata,
    columns: &[ast::Identifier],
    relation: &Relation,
) -> Result<Vec<usize>, QueryError> {
    let mut positions: Vec<usize> = Vec::with_capacity(columns.len());
    for c in columns {
        let def = existing_column(table, c)?;
        let ColumnKind::Clustering { position, .. } = def.kind else {
            return Err(invalid(format!(
                "Multi-column relations can only be applied to clustering columns but was applied to: {}",
                def.name
            )));
        };
        let position = position as usize;
        if positions.contains(&position) {
            return Err(invalid(format!(
                "Column \"{}\" appeared twice in a relation: {relation}",
                def.name
            )));
        }
        if let Some(prev) = positions.last() {
            if position != prev + 1 {
                return Err(invalid(format!(
                    "Clustering columns must appear in the PRIMARY KEY order in multi-column relations: {relation}"
                )));
            }
        }
        positions.push(position);
    }
    Ok(positions)
}

fn check_token_columns(table: &TableMetadata, defs: &[&ColumnMetadata]) -> Result<(), QueryError> {
    let pk = table.partition_key_columns();
    let same = defs.len() == pk.len() && defs.iter().zip(&pk).all(|(a, b)| a.name == b.name);
    if same {
        return Ok(());
    }
    if !pk.iter().all(|p| defs.iter().any(|d| d.name == p.name)) {
        return Err(invalid(
            "The token() function must be applied to all partition key components or none of them",
        ));
    }
    for (i, d) in defs.iter().enumerate() {
        if defs[..i].iter().any(|o| o.name == d.name) {
            return Err(invalid(
                "The token() function contains duplicate partition key components",
            ));
        }
    }
    if defs
        .iter()
        .any(|d| !matches!(d.kind, ColumnKind::PartitionKey { .. }))
    {
        return Err(invalid(
            "The token() function must contains only partition key components",
        ));
    }
    Err(invalid(format!(
        "The token function arguments must be in the partition key order: {}",
        pk.iter()
            .map(|c| col_name(c))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// Merges two single-column restrictions of `column` (Cassandra's `doMergeWith` of the
/// existing one).
fn merge_single<'s>(
    column: &ColumnMetadata,
    existing: Single<'s>,
    new: Single<'s>,
) -> Result<Single<'s>, QueryError> {
    let name = &column.name;
    match existing {
        Single::Eq(_) => Err(invalid(format!(
            "{name} cannot be restricted by more than one relation if it includes an Equal"
        ))),
        Single::In(_) => Err(invalid(format!(
            "{name} cannot be restricted by more than one relation if it includes a IN"
        ))),
        Single::Slice { start, end } => {
            let Single::Slice { start: s2, end: e2 } = new else {
                return Err(invalid(format!(
                    "Column \"{name}\" cannot be restricted by both an equality and an inequality relation"
                )));
            };
            if start.is_some() && s2.is_some() {
                return Err(invalid(format!(
                    "More than one restriction was found for the start bound on {name}"
                )));
            }
            if end.is_some() && e2.is_some() {
                return Err(invalid(format!(
                    "More than one restriction was found for the end bound on {name}"
                )));
            }
            Ok(Single::Slice {
                start: start.or(s2),
                end: end.or(e2),
            })
        }
        Single::Contains {
            mut values,
            mut keys,
            mut entries,
        } => {
            let Single::Contains {
                values: v2,
                keys: k2,
                entries: e2,
            } = new
            else {
                return Err(invalid(format!(
                    "Collection column {name} can only be restricted by CONTAINS, CONTAINS KEY, or map-entry equality"
                )));
            };
            values.extend(v2);
            keys.extend(k2);
            entries.extend(e2);
            Ok(Single::Contains {
                values,
                keys,
                entries,
            })
        }
    }
}

/// A single-column clustering restriction as a clustering restriction.
fn clustering_of<'s>(position: usize, single: Single<'s>) -> ClusteringRestriction<'s> {
    let kind = match single {
        Single::Eq(t) => ClusteringKind::Eq(TupleValue::PerColumn(vec![t])),
        Single::In(list) => ClusteringKind::SingleIn(list),
        Single::Slice { start, end } => {
            let bound = |b: Option<(&'s Term, bool)>| {
                b.map(|(t, inclusive)| SliceBound {
                    columns: vec![position],
                    value: TupleValue::PerColumn(vec![t]),
                    inclusive,
                })
            };
            ClusteringKind::Slice {
                start: bound(start),
                end: bound(end),
            }
        }
        contains @ Single::Contains { .. } => ClusteringKind::Contains(contains),
    };
    ClusteringRestriction {
        columns: vec![position],
        multi: false,
        kind,
    }
}

/// The single-column restriction a non-multi clustering restriction was built from.
fn to_single<'s>(r: ClusteringRestriction<'s>) -> Result<Single<'s>, QueryError> {
    fn one<'s>(b: Option<SliceBound<'s>>) -> Result<Option<(&'s Term, bool)>, QueryError> {
        match b {
            None => Ok(None),
            Some(SliceBound {
                value: TupleValue::PerColumn(v),
                inclusive,
                ..
            }) if v.len() == 1 => Ok(Some((v[0], inclusive))),
            Some(_) => Err(QueryError::server(
                "malformed single-column clustering slice",
            )),
        }
    }
    match r.kind {
        ClusteringKind::Eq(TupleValue::PerColumn(v)) if v.len() == 1 => Ok(Single::Eq(v[0])),
        ClusteringKind::SingleIn(list) => Ok(Single::In(list)),
        ClusteringKind::Slice { start, end } => Ok(Single::Slice {
            start: one(start)?,
            end: one(end)?,
        }),
        ClusteringKind::Contains(s) => Ok(s),
        _ => Err(QueryError::server(
            "malformed single-column clustering restriction",
        )),
    }
}

fn common_names(table_ck: &[&ColumnMetadata], a: &[usize], b: &[usize]) -> String {
    a.iter()
        .filter(|p| b.contains(p))
        .filter_map(|p| table_ck.get(*p))
        .map(|c| c.name.clone())
        .collect::<Vec<_>>()
        .join(" ,")
}

/// Merges a new clustering restriction into an existing one overlapping it.
fn merge_clustering<'s>(
    ck: &[&ColumnMetadata],
    existing: ClusteringRestriction<'s>,
    new: ClusteringRestriction<'s>,
) -> Result<ClusteringRestriction<'s>, QueryError> {
    // Single-column restrictions merge like Cassandra's single-column ones unless the other
    // side is multi-column, in which case both are treated as multi-column.
    if !existing.multi && !new.multi {
        let column = ck
            .get(existing.first())
            .copied()
            .ok_or_else(|| QueryError::server("clustering position out of range"))?;
        let merged = merge_single(column, to_single(existing)?, to_single(new)?)?;
        return Ok(clustering_of(
            column.kind.position().max(0) as usize,
            merged,
        ));
    }
    let commons = common_names(ck, &existing.columns, &new.columns);
    let (existing_first, new_first) = (existing.first(), new.first());
    let (existing_columns, new_columns) = (existing.columns, new.columns);
    match existing.kind {
        ClusteringKind::Contains(_) if !new.multi => {
            // Both single would have been handled above.
            Err(invalid(format!(
                "Collection column {commons} can only be restricted by CONTAINS, CONTAINS KEY, or map-entry equality"
            )))
        }
        ClusteringKind::Contains(_) => Err(invalid(format!(
            "Collection column {commons} can only be restricted by CONTAINS, CONTAINS KEY, or map-entry equality"
        ))),
        ClusteringKind::Eq(_) => Err(invalid(format!(
            "{commons} cannot be restricted by more than one relation if it includes an Equal"
        ))),
        ClusteringKind::In(_) | ClusteringKind::SingleIn(_) => Err(invalid(format!(
            "{commons} cannot be restricted by more than one relation if it includes a IN"
        ))),
        ClusteringKind::Slice { start, end } => {
            let ClusteringKind::Slice {
                start: s2,
                end: e2,
            } = new.kind
            else {
                return Err(invalid(format!(
                    "Column \"{commons}\" cannot be restricted by both an equality and an inequality relation"
                )));
            };
            if existing_first != new_first {
                let later = existing_first.max(new_first);
                let name = ck.get(later).map(|c| c.name.clone()).unwrap_or_default();
                return Err(invalid(format!(
                    "Column \"{name}\" cannot be restricted by two inequalities not starting with the same column"
                )));
            }
            if start.is_some() && s2.is_some() {
                return Err(invalid(format!(
                    "More than one restriction was found for the start bound on {commons}"
                )));
            }
            if end.is_some() && e2.is_some() {
                return Err(invalid(format!(
                    "More than one restriction was found for the end bound on {commons}"
                )));
            }
            let columns = if existing_columns.len() >= new_columns.len() {
                existing_columns
            } else {
                new_columns
            };
            Ok(ClusteringRestriction {
                columns,
                multi: true,
                kind: ClusteringKind::Slice {
                    start: start.or(s2),
                    end: end.or(e2),
                },
            })
        }
    }
}

fn merge_token<'s>(
    existing: TokenRestriction<'s>,
    new: TokenRestriction<'s>,
) -> Result<TokenRestriction<'s>, QueryError> {
    let names = existing.columns.clone();
    if existing.eq.is_some() {
        return Err(invalid(format!(
            "{names} cannot be restricted by more than one relation if it includes an Equal"
        )));
    }
    if new.eq.is_some() {
        return Err(invalid(format!(
            "Columns \"{names}\" cannot be restricted by both an equality and an inequality relation"
        )));
    }
    if existing.start.is_some() && new.start.is_some() {
        return Err(invalid(format!(
            "More than one restriction was found for the start bound on {names}"
        )));
    }
    if existing.end.is_some() && new.end.is_some() {
        return Err(invalid(format!(
            "More than one restriction was found for the end bound on {names}"
        )));
    }
    Ok(TokenRestriction {
        eq: None,
        start: existing.start.or(new.start),
        end: existing.end.or(new.end),
        columns: names,
    })
}

impl<'s> WhereClause<'s> {
    /// Analyses `relations` for `table` as Cassandra does for a `SELECT`.
    /// `selects_only_static`: the selection reads only partition key and static columns.
    pub fn analyze(
        table: &TableMetadata,
        relations: &'s [Relation],
        allow_filtering: bool,
        selects_only_static: bool,
    ) -> Result<WhereClause<'s>, QueryError> {
        let pk_cols = table.partition_key_columns();
        let ck_cols = table.clustering_columns();
        let mut w = WhereClause {
            pk: vec![None; pk_cols.len()],
            token: None,
            clustering: Vec::new(),
            others: Vec::new(),
            pk_needs_filtering: false,
            clustering_needs_filtering: false,
            is_key_range: false,
        };
        for relation in relations {
            match convert(table, relation)? {
                Converted::Token(t) => {
                    w.token = Some(match w.token.take() {
                        None => t,
                        Some(existing) => merge_token(existing, t)?,
                    });
                }
                Converted::Single(col, single) => match col.kind {
                    ColumnKind::PartitionKey { position } => {
                        let slot =
                            w.pk.get_mut(position as usize)
                                .ok_or_else(|| QueryError::server("partition key position"))?;
                        *slot = Some(match slot.take() {
                            None => single,
                            Some(existing) => merge_single(&col, existing, single)?,
                        });
                    }
                    ColumnKind::Clustering { position, .. } => {
                        let r = clustering_of(position as usize, single);
                        w.add_clustering(&ck_cols, r, allow_filtering)?;
                    }
                    ColumnKind::Regular | ColumnKind::Static => {
                        match w.others.iter().position(|(c, _)| c.name == col.name) {
                            Some(i) => {
                                let (c, existing) = w.others.remove(i);
                                let merged = merge_single(&col, existing, single)?;
                                w.others.insert(i, (c, merged));
                            }
                            None => w.others.push((col, single)),
                        }
                    }
                },
                Converted::Clustering(r) => w.add_clustering(&ck_cols, r, allow_filtering)?,
            }
        }

        // Partition key.
        let restricted = w.pk.iter().filter(|r| r.is_some()).count();
        let pk_has_slice_or_contains =
            w.pk.iter()
                .flatten()
                .any(|r| r.is_slice() || r.is_contains());
        w.pk_needs_filtering =
            restricted > 0 && (restricted < pk_cols.len() || pk_has_slice_or_contains);
        let implicit_filtering = table.is_virtual;
        if w.token.is_some() && (w.pk_needs_filtering || restricted < pk_cols.len()) {
            w.is_key_range = true;
        }
        if restricted == 0 {
            w.is_key_range = true;
        }
        if w.pk_needs_filtering {
            if !allow_filtering && !implicit_filtering {
                return Err(invalid(REQUIRES_ALLOW_FILTERING));
            }
            w.is_key_range = true;
        }

        if selects_only_static && !w.clustering.is_empty() {
            return Err(invalid(
                "Cannot restrict clustering columns when selecting only static columns",
            ));
        }

        // Clustering columns.
        if w.clustering.iter().any(|r| r.is_contains()) && !allow_filtering {
            return Err(invalid(
                "Clustering columns can only be restricted with CONTAINS with a secondary index or filtering",
            ));
        }
        w.clustering_needs_filtering = w.compute_clustering_needs_filtering();
        if !w.clustering.is_empty() && w.clustering_needs_filtering && !allow_filtering {
            let restricted: Vec<usize> = w
                .clustering
                .iter()
                .flat_map(|r| r.columns.iter().copied())
                .collect();
            for (i, pos) in restricted.iter().enumerate() {
                if i != *pos {
                    let name =
                        |p: usize| ck_cols.get(p).map(|c| c.name.clone()).unwrap_or_default();
                    return Err(invalid(format!(
                        "PRIMARY KEY column \"{}\" cannot be restricted as preceding column \"{}\" is not restricted",
                        name(*pos),
                        name(i)
                    )));
                }
            }
        }

        // Regular and static columns.
        if !w.others.is_empty() && !allow_filtering && !implicit_filtering {
            return Err(invalid(REQUIRES_ALLOW_FILTERING));
        }
        Ok(w)
    }

    fn add_clustering(
        &mut self,
        ck: &[&ColumnMetadata],
        new: ClusteringRestriction<'s>,
        allow_filtering: bool,
    ) -> Result<(), QueryError> {
        let overlapping: Vec<usize> = self
            .clustering
            .iter()
            .enumerate()
            .filter(|(_, r)| r.columns.iter().any(|c| new.columns.contains(c)))
            .map(|(i, _)| i)
            .collect();
        // Ordering checks look at the restrictions before this one is added.
        let last = self
            .clustering
            .iter()
            .max_by_key(|r| r.last())
            .map(|r| (r.first(), r.is_slice()));
        let next_after = |p: usize| -> Option<usize> {
            self.clustering
                .iter()
                .flat_map(|r| r.columns.iter().copied())
                .filter(|c| *c > p)
                .min()
        };
        let new_first = new.first();
        let new_is_slice = new.is_slice();
        let merged = if let Some(&first) = overlapping.first() {
            let mut merged = merge_clustering(ck, self.clustering[first].clone(), new.clone())?;
            for &i in &overlapping[1..] {
                merged = merge_clustering(ck, self.clustering[i].clone(), new.clone())?;
            }
            merged
        } else {
            new
        };
        if !allow_filtering {
            if let Some((last_first, last_is_slice)) = last {
                let name = |p: usize| ck.get(p).map(|c| c.name.clone()).unwrap_or_default();
                if last_is_slice && new_first > last_first {
                    return Err(invalid(format!(
                        "Clustering column \"{}\" cannot be restricted (preceding column \"{}\" is restricted by a non-EQ relation)",
                        name(new_first),
                        name(last_first)
                    )));
                }
                if new_first < last_first && new_is_slice {
                    let next = next_after(new_first).unwrap_or(last_first);
                    return Err(invalid(format!(
                        "PRIMARY KEY column \"{}\" cannot be restricted (preceding column \"{}\" is restricted by a non-EQ relation)",
                        name(next),
                        name(new_first)
                    )));
                }
            }
        }
        for &i in overlapping.iter().rev() {
            self.clustering.remove(i);
        }
        let at = self
            .clustering
            .iter()
            .position(|r| r.first() > merged.first())
            .unwrap_or(self.clustering.len());
        self.clustering.insert(at, merged);
        Ok(())
    }

    fn compute_clustering_needs_filtering(&self) -> bool {
        let mut position = 0;
        for r in &self.clustering {
            if r.is_contains() || r.first() != position {
                return true;
            }
            if !r.is_slice() {
                position = r.last() + 1;
            }
        }
        false
    }

    /// Whether a key-range read with these restrictions filters data (Cassandra's
    /// `StatementRestrictions.needFiltering`): any restriction to filter, or clustering
    /// restrictions at all.
    pub fn needs_filtering(&self) -> bool {
        self.pk_needs_filtering
            || self.clustering_needs_filtering
            || !self.others.is_empty()
            || !self.clustering.is_empty()
    }

    /// Whether some rows are selected specifically (clustering or regular column
    /// restrictions): then partitions with only static data return nothing.
    pub fn selects_specific_rows(&self, table: &TableMetadata) -> bool {
        !self.clustering.is_empty()
            || self.others.iter().any(|(c, _)| {
                table
                    .column(&c.name)
                    .is_some_and(|c| c.kind == ColumnKind::Regular)
            })
    }

    /// Whether `column` is restricted by `=` (Cassandra's `isColumnRestrictedByEq`).
    pub fn is_restricted_by_eq(&self, column: &ColumnMetadata) -> bool {
        match column.kind {
            ColumnKind::PartitionKey { position } => self
                .pk
                .get(position as usize)
                .is_some_and(|r| r.as_ref().is_some_and(|r| r.is_eq())),
            ColumnKind::Clustering { position, .. } => self
                .clustering
                .iter()
                .any(|r| r.columns.contains(&(position as usize)) && r.is_eq()),
            _ => self
                .others
                .iter()
                .any(|(c, r)| c.name == column.name && r.is_eq()),
        }
    }

    /// Whether the partition key has an `IN` restriction.
    pub fn key_is_in(&self) -> bool {
        self.pk.iter().flatten().any(|r| r.is_in())
    }

    /// Whether any clustering column is restricted.
    pub fn has_clustering_restrictions(&self) -> bool {
        !self.clustering.is_empty()
    }

    /// Appends the receivers of every bind marker, for PREPARE.
    pub fn collect_receivers(
        &self,
        table: &TableMetadata,
        out: &mut Vec<(usize, Receiver)>,
    ) -> Result<(), QueryError> {
        let recv = |name: &str, ty: &CqlType| {
            Receiver::new(&table.keyspace, &table.name, name, ty.clone())
        };
        let pk_cols = table.partition_key_columns();
        for (i, r) in self.pk.iter().enumerate() {
            if let (Some(r), Some(col)) = (r, pk_cols.get(i)) {
                collect_single(col, r, &recv, out)?;
            }
        }
        if let Some(t) = &self.token {
            let rc = recv("partition key token", &CqlType::Bigint);
            for term in [t.eq, t.start.map(|s| s.0), t.end.map(|e| e.0)]
                .into_iter()
                .flatten()
            {
                crate::terms::collect_token_bound_receivers(term, table, &rc, out)?;
            }
        }
        let ck = table.clustering_columns();
        for r in &self.clustering {
            let cols: Vec<&ColumnMetadata> = r
                .columns
                .iter()
                .filter_map(|p| ck.get(*p).copied())
                .collect();
            match &r.kind {
                ClusteringKind::Eq(v) => collect_tuple(&cols, v, &recv, out)?,
                ClusteringKind::In(TupleIn::Values(vs)) => {
                    for v in vs {
                        collect_tuple(&cols, v, &recv, out)?;
                    }
                }
                ClusteringKind::In(TupleIn::Marker(m)) => {
                    let (name, ty) = tuple_receiver(&cols);
                    crate::terms::collect_bind_receivers(
                        &marker_term(m),
                        &recv(&format!("in{name}"), &CqlType::List(Box::new(ty))),
                        out,
                    )?;
                }
                ClusteringKind::SingleIn(list) => {
                    if let Some(col) = cols.first() {
                        collect_single(col, &Single::In(list.clone()), &recv, out)?;
                    }
                }
                ClusteringKind::Contains(s) => {
                    if let Some(col) = cols.first() {
                        collect_single(col, s, &recv, out)?;
                    }
                }
                ClusteringKind::Slice { start, end } => {
                    for b in [start, end].into_iter().flatten() {
                        let bcols: Vec<&ColumnMetadata> = b
                            .columns
                            .iter()
                            .filter_map(|p| ck.get(*p).copied())
                            .collect();
                        collect_tuple(&bcols, &b.value, &recv, out)?;
                    }
                }
            }
        }
        for (col, r) in &self.others {
            collect_single(col, r, &recv, out)?;
        }
        Ok(())
    }
}

fn tuple_receiver(cols: &[&ColumnMetadata]) -> (String, CqlType) {
    let name = format!(
        "({})",
        cols.iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    let ty = CqlType::Tuple(cols.iter().map(|c| c.ty.clone()).collect());
    (name, ty)
}

fn element_type(ty: &CqlType, key: bool) -> CqlType {
    match ty.unfrozen() {
        CqlType::List(e) | CqlType::Set(e) => (**e).clone(),
        CqlType::Map(k, v) => {
            if key {
                (**k).clone()
            } else {
                (**v).clone()
            }
        }
        other => other.clone(),
    }
}

fn collect_single(
    col: &ColumnMetadata,
    r: &Single<'_>,
    recv: &dyn Fn(&str, &CqlType) -> Receiver,
    out: &mut Vec<(usize, Receiver)>,
) -> Result<(), QueryError> {
    let column = recv(&col.name, &col.ty);
    match r {
        Single::Eq(t) => crate::terms::collect_bind_receivers(t, &column, out)?,
        Single::In(InList::Terms(ts)) => {
            for t in ts {
                crate::terms::collect_bind_receivers(t, &column, out)?;
            }
        }
        Single::In(InList::Marker(m)) => crate::terms::collect_bind_receivers(
            &marker_term(m),
            &recv(
                &format!("in({})", col.name),
                &CqlType::List(Box::new(col.ty.clone())),
            ),
            out,
        )?,
        Single::Slice { start, end } => {
            for (t, _) in [start, end].into_iter().flatten() {
                crate::terms::collect_bind_receivers(t, &column, out)?;
            }
        }
        Single::Contains {
            values,
            keys,
            entries,
        } => {
            let is_map = matches!(col.ty.unfrozen(), CqlType::Map(..));
            let value_name = format!("value({})", col.name);
            for t in values {
                crate::terms::collect_bind_receivers(
                    t,
                    &recv(&value_name, &element_type(&col.ty, false)),
                    out,
                )?;
            }
            for t in keys {
                crate::terms::collect_bind_receivers(
                    t,
                    &recv(&format!("key({})", col.name), &element_type(&col.ty, true)),
                    out,
                )?;
            }
            for (k, v) in entries {
                crate::terms::collect_bind_receivers(
                    k,
                    &recv(&format!("key({})", col.name), &element_type(&col.ty, true)),
                    out,
                )?;
                let _ = is_map;
                crate::terms::collect_bind_receivers(
                    v,
                    &recv(&value_name, &element_type(&col.ty, false)),
                    out,
                )?;
            }
        }
    }
    Ok(())
}

fn collect_tuple(
    cols: &[&ColumnMetadata],
    v: &TupleValue<'_>,
    recv: &dyn Fn(&str, &CqlType) -> Receiver,
    out: &mut Vec<(usize, Receiver)>,
) -> Result<(), QueryError> {
    match v {
        TupleValue::PerColumn(terms) => {
            for (t, c) in terms.iter().zip(cols) {
                crate::terms::collect_bind_receivers(t, &recv(&c.name, &c.ty), out)?;
            }
        }
        TupleValue::Whole(t) => {
            let (name, ty) = tuple_receiver(cols);
            crate::terms::collect_bind_receivers(t, &recv(&name, &ty), out)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Binding.
// ---------------------------------------------------------------------------------------

/// A filter operator with its bound operand(s).
#[derive(Clone, Debug)]
pub(crate) enum FilterOp {
    Eq(Bytes),
    Lt(Bytes),
    Lte(Bytes),
    Gt(Bytes),
    Gte(Bytes),
    In(Vec<Bytes>),
    Contains(Bytes),
    ContainsKey(Bytes),
    MapEntry(Bytes, Bytes),
}

/// One in-memory filter expression on a column.
#[derive(Clone, Debug)]
pub(crate) struct Filter {
    /// The column.
    pub column: ColumnMetadata,
    /// The operator and operands.
    pub op: FilterOp,
}

/// Which partitions to read.
#[derive(Clone, Debug)]
pub(crate) enum PartitionSelection {
    /// These keys, in this order (sorted by the partition key type, de-duplicated).
    Keys(Vec<PartitionKey>),
    /// A scan of keys within the bounds, in token order.
    Range {
        /// Lower bound.
        start: Bound<PartitionKey>,
        /// Upper bound.
        end: Bound<PartitionKey>,
    },
}

/// The `WHERE` clause with values.
#[derive(Clone, Debug)]
pub(crate) struct BoundWhere {
    /// Which partitions.
    pub partitions: PartitionSelection,
    /// Which clusterings (normalized); empty selects no row.
    pub slices: Vec<Slice>,
    /// Filters on partition key and static columns (decided once per partition).
    pub partition_filters: Vec<Filter>,
    /// Filters on clustering and regular columns (decided per row).
    pub row_filters: Vec<Filter>,
}

fn bytes_of(
    value: TermValue,
    column: &ColumnMetadata,
    null_message: impl FnOnce() -> String,
) -> Result<Bytes, QueryError> {
    match value {
        TermValue::Value(b) => Ok(b),
        TermValue::Null => Err(invalid(null_message())),
        TermValue::Unset => Err(invalid(format!(
            "Invalid unset value for column {}",
            column.name
        ))),
    }
}

impl WhereClause<'_> {
    /// Binds the restrictions: filters first (as Cassandra builds its row filter first),
    /// then partitions and clustering slices.
    pub fn bind(&self, table: &TableMetadata, b: &Binder<'_>) -> Result<BoundWhere, QueryError> {
        let pk_cols = table.partition_key_columns();
        let ck_cols = table.clustering_columns();
        let cmp = table.clustering_comparator();

        let mut partition_filters = Vec::new();
        let mut row_filters = Vec::new();
        if self.pk_needs_filtering {
            for (i, col) in pk_cols.iter().enumerate() {
                if let Some(r) = self.pk.get(i).and_then(|r| r.as_ref()) {
                    bind_filters(col, r, b, &mut partition_filters)?;
                }
            }
        }
        if self.clustering_needs_filtering {
            // Restrictions handled by the slices are not filtered again (Cassandra's
            // `ClusteringColumnRestrictions.addToRowFilter`).
            let mut position = 0;
            for r in &self.clustering {
                if r.is_contains() || r.first() != position {
                    self.bind_clustering_filter(r, &ck_cols, b, &mut row_filters)?;
                    continue;
                }
                if !r.is_slice() {
                    position = r.last() + 1;
                }
            }
        }
        for (col, r) in &self.others {
            if col.kind == ColumnKind::Static {
                bind_filters(col, r, b, &mut partition_filters)?;
            } else {
                bind_filters(col, r, b, &mut row_filters)?;
            }
        }

        let token = match &self.token {
            None => None,
            Some(t) => Some(bind_token(t, b)?),
        };
        let partitions = if !self.is_key_range {
            let mut per_column: Vec<Vec<Bytes>> = Vec::with_capacity(pk_cols.len());
            for (i, col) in pk_cols.iter().enumerate() {
                let values = match self.pk.get(i).and_then(|r| r.as_ref()) {
                    Some(Single::Eq(t)) => {
                        let v = b.eval(t, &col.name, &col.ty)?;
                        vec![bytes_of(v, col, || {
                            format!("Invalid null value in condition for column {}", col.name)
                        })?]
                    }
                    Some(Single::In(list)) => bind_in_list(list, col, b)?,
                    _ => return Err(QueryError::server("partition key restriction missing")),
                };
                per_column.push(values);
            }
            let keys = partition_keys(&pk_cols, per_column)?;
            let keys = match &token {
                Some(range) => keys
                    .into_iter()
                    .filter(|k| range.contains(k.token()))
                    .collect(),
                None => keys,
            };
            PartitionSelection::Keys(keys)
        } else {
            let (start, end) = match &token {
                Some(range) => range.bounds(),
                None => (Bound::Unbounded, Bound::Unbounded),
            };
            PartitionSelection::Range { start, end }
        };

        let slices = self.bind_slices(&cmp, &ck_cols, b)?;
        Ok(BoundWhere {
            partitions,
            slices,
            partition_filters,
            row_filters,
        })
    }

    fn bind_clustering_filter(
        &self,
        r: &ClusteringRestriction<'_>,
        ck_cols: &[&ColumnMetadata],
        b: &Binder<'_>,
        out: &mut Vec<Filter>,
    ) -> Result<(), QueryError> {
        let cols: Vec<&ColumnMetadata> = r
            .columns
            .iter()
            .filter_map(|p| ck_cols.get(*p).copied())
            .collect();
        match &r.kind {
            ClusteringKind::Slice { .. } if r.multi => Err(invalid(
                "Multi-column slice restrictions cannot be used for filtering.",
            )),
            ClusteringKind::In(_) => Err(invalid("Multicolumn IN filters are not supported")),
            ClusteringKind::Eq(v) => {
                for (col, value) in cols.iter().zip(bind_tuple_filter(v, &cols, b)?) {
                    out.push(Filter {
                        column: (*col).clone(),
                        op: FilterOp::Eq(value),
                    });
                }
                Ok(())
            }
            ClusteringKind::SingleIn(list) => match cols.first() {
                Some(col) => bind_filters(col, &Single::In(list.clone()), b, out),
                None => Ok(()),
            },
            ClusteringKind::Contains(single) => match cols.first() {
                Some(col) => bind_filters(col, single, b, out),
                None => Ok(()),
            },
            ClusteringKind::Slice { start, end } => {
                let Some(col) = cols.first() else {
                    return Ok(());
                };
                let single = Single::Slice {
                    start: single_bound(start)?,
                    end: single_bound(end)?,
                };
                bind_filters(col, &single, b, out)
            }
        }
    }

    fn bind_slices(
        &self,
        cmp: &ClusteringComparator,
        ck_cols: &[&ColumnMetadata],
        b: &Binder<'_>,
    ) -> Result<Vec<Slice>, QueryError> {
        let mut prefixes: Vec<Clustering> = vec![Clustering::EMPTY];
        let mut position = 0;
        for r in &self.clustering {
            if r.is_contains() || r.first() != position {
                break;
            }
            let cols: Vec<&ColumnMetadata> = r
                .columns
                .iter()
                .filter_map(|p| ck_cols.get(*p).copied())
                .collect();
            match &r.kind {
                ClusteringKind::Slice { start, end } => {
                    let bound =
                        |x: &Option<SliceBound<'_>>| -> Result<Option<TupleBound>, QueryError> {
                            match x {
                                None => Ok(None),
                                Some(sb) => {
                                    let bcols: Vec<&ColumnMetadata> = sb
                                        .columns
                                        .iter()
                                        .filter_map(|p| ck_cols.get(*p).copied())
                                        .collect();
                                    if !r.multi && single_null(&sb.value, &bcols, b)? {
                                        // Cassandra binds a null single-column slice bound
                                        // as the empty value, which sorts before every other
                                        // (`c > null` selects every row, `c < null` none);
                                        // an unset one is an error.
                                        return Ok(Some(TupleBound {
                                            values: vec![Bytes::new()],
                                            inclusive: sb.inclusive,
                                        }));
                                    }
                                    Ok(Some(TupleBound {
                                        values: bind_tuple(&sb.value, &bcols, b, false, r.multi)?,
                                        inclusive: sb.inclusive,
                                    }))
                                }
                            }
                        };
                    let (lo, hi) = (bound(start)?, bound(end)?);
                    let mut out = Vec::new();
                    for p in &prefixes {
                        out.extend(slices::bounded(cmp, p, lo.as_ref(), hi.as_ref()));
                    }
                    return Ok(slices::normalize(cmp, out));
                }
                ClusteringKind::Eq(v) => {
                    let values = bind_tuple(v, &cols, b, true, r.multi)?;
                    for p in &mut prefixes {
                        p.0.extend(values.iter().cloned());
                    }
                }
                ClusteringKind::SingleIn(list) => {
                    let col = cols
                        .first()
                        .ok_or_else(|| QueryError::server("clustering IN without column"))?;
                    let values = bind_in_list(list, col, b)?;
                    prefixes = cartesian(prefixes, values.into_iter().map(|v| vec![v]).collect())?;
                }
                ClusteringKind::In(tuples) => {
                    let values = bind_tuple_in(tuples, &cols, b)?;
                    prefixes = cartesian(prefixes, values)?;
                }
                ClusteringKind::Contains(_) => break,
            }
            position = r.last() + 1;
        }
        let all = prefixes.into_iter().map(Slice::prefix).collect();
        Ok(slices::normalize(cmp, all))
    }
}

/// The term of a single-column slice bound.
fn single_bound<'s>(b: &Option<SliceBound<'s>>) -> Result<Option<(&'s Term, bool)>, QueryError> {
    match b {
        None => Ok(None),
        Some(SliceBound {
            value: TupleValue::PerColumn(v),
            inclusive,
            ..
        }) if v.len() == 1 => Ok(Some((v[0], *inclusive))),
        Some(SliceBound {
            value: TupleValue::Whole(t),
            inclusive,
            ..
        }) => Ok(Some((*t, *inclusive))),
        Some(_) => Err(QueryError::server("malformed single-column slice bound")),
    }
}

/// Binds tuple values for filtering (null values are refused like `RowFilter` does).
fn bind_tuple_filter(
    v: &TupleValue<'_>,
    cols: &[&ColumnMetadata],
    b: &Binder<'_>,
) -> Result<Vec<Bytes>, QueryError> {
    match v {
        TupleValue::PerColumn(terms) => terms
            .iter()
            .zip(cols)
            .map(|(t, c)| filter_value(c, &c.name, &c.ty, t, b, "value "))
            .collect(),
        TupleValue::Whole(_) => {
            let values = bind_tuple(v, cols, b, true, true)?;
            Ok(values)
        }
    }
}

fn cartesian(
    prefixes: Vec<Clustering>,
    values: Vec<Vec<Bytes>>,
) -> Result<Vec<Clustering>, QueryError> {
    let total = prefixes.len().saturating_mul(values.len());
    if total > MAX_CLUSTERING_PREFIXES {
        return Err(invalid(format!(
            "The cartesian product of the IN restrictions on clustering columns selects {total} clusterings; the most allowed is {MAX_CLUSTERING_PREFIXES}"
        )));
    }
    let mut out = Vec::with_capacity(total);
    for p in &prefixes {
        for v in &values {
            let mut c = p.0.clone();
            c.extend(v.iter().cloned());
            out.push(Clustering(c));
        }
    }
    Ok(out)
}

/// Sorted, de-duplicated partition keys from the values of each partition key column.
fn partition_keys(
    pk_cols: &[&ColumnMetadata],
    per_column: Vec<Vec<Bytes>>,
) -> Result<Vec<PartitionKey>, QueryError> {
    let total = per_column
        .iter()
        .fold(1usize, |acc, v| acc.saturating_mul(v.len()));
    if total > MAX_PARTITION_KEYS_IN_SELECT {
        return Err(invalid(format!(
            "The cartesian product of the IN restrictions on the partition key selects {total} partitions; the most allowed is {MAX_PARTITION_KEYS_IN_SELECT}"
        )));
    }
    let mut combos: Vec<Vec<Bytes>> = vec![Vec::new()];
    for values in &per_column {
        let mut next = Vec::with_capacity(combos.len() * values.len());
        for c in &combos {
            for v in values {
                let mut n = c.clone();
                n.push(v.clone());
                next.push(n);
            }
        }
        combos = next;
    }
    let cmp_components = |a: &Vec<Bytes>, b: &Vec<Bytes>| -> Ordering {
        for ((x, y), col) in a.iter().zip(b).zip(pk_cols) {
            match compare(&col.ty, x, y) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        Ordering::Equal
    };
    combos.sort_by(cmp_components);
    combos.dedup_by(|a, b| cmp_components(a, b) == Ordering::Equal);
    let mut keys = Vec::with_capacity(combos.len());
    for c in combos {
        let parts: Vec<&[u8]> = c.iter().map(|b| b.as_ref()).collect();
        let key = composite_partition_key(&parts).map_err(|e| invalid(e.to_string()))?;
        if key.is_empty() {
            return Err(invalid("Key may not be empty"));
        }
        if key.len() > usize::from(u16::MAX) {
            return Err(invalid(format!(
                "Key length of {} is longer than maximum of {}",
                key.len(),
                u16::MAX
            )));
        }
        keys.push(PartitionKey::new(Bytes::from(key)));
    }
    Ok(keys)
}

fn bind_in_list(
    list: &InList<'_>,
    col: &ColumnMetadata,
    b: &Binder<'_>,
) -> Result<Vec<Bytes>, QueryError> {
    match list {
        InList::Terms(terms) => {
            let mut out = Vec::with_capacity(terms.len());
            for t in terms {
                let v = b.eval(t, &col.name, &col.ty)?;
                out.push(bytes_of(v, col, || {
                    format!("Invalid null value in condition for column {}", col.name)
                })?);
            }
            Ok(out)
        }
        InList::Marker(m) => {
            let ty = CqlType::List(Box::new(col.ty.clone()));
            match b.eval(&marker_term(m), &format!("in({})", col.name), &ty)? {
                TermValue::Null => Err(invalid(format!(
                    "Invalid null value for column {}",
                    col.name
                ))),
                TermValue::Unset => Err(invalid(format!(
                    "Invalid unset value for column {}",
                    col.name
                ))),
                TermValue::Value(v) => {
                    let elements = split_collection(&v).ok_or_else(|| {
                        invalid(format!("Invalid list value for in({})", col.name))
                    })?;
                    elements
                        .into_iter()
                        .map(|e| {
                            e.ok_or_else(|| {
                                invalid(format!(
                                    "Invalid null value in condition for column {}",
                                    col.name
                                ))
                            })
                        })
                        .collect()
                }
            }
        }
    }
}

/// Whether a single-column value binds to null.
fn single_null(
    value: &TupleValue<'_>,
    cols: &[&ColumnMetadata],
    b: &Binder<'_>,
) -> Result<bool, QueryError> {
    match (value, cols) {
        (TupleValue::PerColumn(terms), [col]) => match terms.as_slice() {
            [term] => Ok(matches!(b.eval(term, &col.name, &col.ty)?, TermValue::Null)),
            _ => Ok(false),
        },
        _ => Ok(false),
    }
}

/// Binds tuple values for `cols`. `equality`: the null message of `=` / `IN` restrictions;
/// `multi`: the values come from a multi-column relation (tuple messages).
fn bind_tuple(
    v: &TupleValue<'_>,
    cols: &[&ColumnMetadata],
    b: &Binder<'_>,
    equality: bool,
    multi: bool,
) -> Result<Vec<Bytes>, QueryError> {
    let null_msg = |c: &ColumnMetadata| {
        if equality && multi {
            format!("Invalid null value for column {}", c.name)
        } else {
            format!("Invalid null value in condition for column {}", c.name)
        }
    };
    match v {
        TupleValue::PerColumn(terms) => {
            let mut out = Vec::with_capacity(terms.len());
            for (i, (t, c)) in terms.iter().zip(cols).enumerate() {
                match b.eval(t, &c.name, &c.ty)? {
                    TermValue::Value(v) => out.push(v),
                    TermValue::Null => return Err(invalid(null_msg(c))),
                    TermValue::Unset if multi => {
                        return Err(invalid(format!(
                            "Invalid unset value for tuple field number {i}"
                        )))
                    }
                    TermValue::Unset => {
                        return Err(invalid(format!(
                            "Invalid unset value for column {}",
                            c.name
                        )))
                    }
                }
            }
            Ok(out)
        }
        TupleValue::Whole(t) => {
            let (name, ty) = tuple_receiver(cols);
            match b.eval(t, &name, &ty)? {
                TermValue::Value(v) => {
                    let fields = split_tuple(&v, cols.len())
                        .ok_or_else(|| invalid(format!("Invalid tuple value for {name}")))?;
                    fields
                        .into_iter()
                        .zip(cols)
                        .map(|(f, c)| f.ok_or_else(|| invalid(null_msg(c))))
                        .collect()
                }
                TermValue::Null => Err(invalid(format!(
                    "Invalid null value in condition for columns: [{}]",
                    cols.iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
                TermValue::Unset => Err(invalid(format!("Invalid unset value for tuple {name}"))),
            }
        }
    }
}

fn bind_tuple_in(
    tuples: &TupleIn<'_>,
    cols: &[&ColumnMetadata],
    b: &Binder<'_>,
) -> Result<Vec<Vec<Bytes>>, QueryError> {
    let names = || {
        format!(
            "[{}]",
            cols.iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    match tuples {
        TupleIn::Values(vs) => {
            let mut out = Vec::with_capacity(vs.len());
            for v in vs {
                let values = bind_tuple(v, cols, b, true, true).map_err(|e| match e {
                    QueryError::Invalid(m) if m.starts_with("Invalid null value") => invalid(
                        format!("Invalid null value in condition for columns: {}", names()),
                    ),
                    other => other,
                })?;
                out.push(values);
            }
            Ok(out)
        }
        TupleIn::Marker(m) => {
            let (name, ty) = tuple_receiver(cols);
            let list_ty = CqlType::List(Box::new(ty));
            match b.eval(&marker_term(m), &format!("in{name}"), &list_ty)? {
                TermValue::Null => Err(invalid("Invalid null value for IN restriction")),
                TermValue::Unset => Err(invalid("Invalid unset value for IN restriction")),
                TermValue::Value(v) => {
                    let elements = split_collection(&v)
                        .ok_or_else(|| invalid(format!("Invalid list value for in{name}")))?;
                    let mut out = Vec::with_capacity(elements.len());
                    for e in elements {
                        let e =
                            e.ok_or_else(|| invalid("Invalid null value for IN restriction"))?;
                        let fields = split_tuple(&e, cols.len())
                            .ok_or_else(|| invalid(format!("Invalid tuple value for {name}")))?;
                        let mut values = Vec::with_capacity(fields.len());
                        for f in fields {
                            values.push(f.ok_or_else(|| {
                                invalid(format!(
                                    "Invalid null value in condition for columns: {}",
                                    names()
                                ))
                            })?);
                        }
                        out.push(values);
                    }
                    Ok(out)
                }
            }
        }
    }
}

fn filter_value(
    col: &ColumnMetadata,
    name: &str,
    ty: &CqlType,
    t: &Term,
    b: &Binder<'_>,
    what: &str,
) -> Result<Bytes, QueryError> {
    match b.eval(t, name, ty)? {
        TermValue::Value(v) => Ok(v),
        TermValue::Null => Err(invalid(format!(
            "Unsupported null {what}for column {}",
            col.name
        ))),
        TermValue::Unset => Err(invalid(format!(
            "Unsupported unset {what}for column {}",
            col.name
        ))),
    }
}

fn bind_filters(
    col: &ColumnMetadata,
    r: &Single<'_>,
    b: &Binder<'_>,
    out: &mut Vec<Filter>,
) -> Result<(), QueryError> {
    let push = |out: &mut Vec<Filter>, op: FilterOp| {
        out.push(Filter {
            column: col.clone(),
            op,
        })
    };
    match r {
        Single::Eq(t) => {
            let v = filter_value(col, &col.name, &col.ty, t, b, "value ")?;
            push(out, FilterOp::Eq(v));
        }
        Single::In(list) => {
            let values = match list {
                InList::Terms(_) | InList::Marker(_) => bind_in_list(list, col, b)?,
            };
            push(out, FilterOp::In(values));
        }
        Single::Slice { start, end } => {
            if let Some((t, inc)) = start {
                let v = filter_value(col, &col.name, &col.ty, t, b, "value ")?;
                push(
                    out,
                    if *inc {
                        FilterOp::Gte(v)
                    } else {
                        FilterOp::Gt(v)
                    },
                );
            }
            if let Some((t, inc)) = end {
                let v = filter_value(col, &col.name, &col.ty, t, b, "value ")?;
                push(
                    out,
                    if *inc {
                        FilterOp::Lte(v)
                    } else {
                        FilterOp::Lt(v)
                    },
                );
            }
        }
        Single::Contains {
            values,
            keys,
            entries,
        } => {
            let value_ty = element_type(&col.ty, false);
            let key_ty = element_type(&col.ty, true);
            for t in values {
                let v = filter_value(
                    col,
                    &format!("value({})", col.name),
                    &value_ty,
                    t,
                    b,
                    "value ",
                )?;
                push(out, FilterOp::Contains(v));
            }
            for t in keys {
                let v = filter_value(col, &format!("key({})", col.name), &key_ty, t, b, "value ")?;
                push(out, FilterOp::ContainsKey(v));
            }
            for (k, v) in entries {
                let k = filter_value(
                    col,
                    &format!("key({})", col.name),
                    &key_ty,
                    k,
                    b,
                    "map key ",
                )?;
                let v = filter_value(
                    col,
                    &format!("value({})", col.name),
                    &value_ty,
                    v,
                    b,
                    "map value ",
                )?;
                push(out, FilterOp::MapEntry(k, v));
            }
        }
    }
    Ok(())
}

/// A bound token range.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TokenRange {
    start: Option<(Token, bool)>,
    end: Option<(Token, bool)>,
    empty: bool,
}

impl TokenRange {
    fn contains(&self, t: Token) -> bool {
        if self.empty {
            return false;
        }
        let above = match self.start {
            None => true,
            Some((s, _)) if s == Token::MIN => true,
            Some((s, true)) => t >= s,
            Some((s, false)) => t > s,
        };
        let below = match self.end {
            None => true,
            Some((e, _)) if e == Token::MIN => true,
            Some((e, true)) => t <= e,
            Some((e, false)) => t < e,
        };
        above && below
    }

    fn bounds(&self) -> (Bound<PartitionKey>, Bound<PartitionKey>) {
        if self.empty {
            // An empty scan: start after the end.
            let k = PartitionKey::from_parts(Token::MAX, Bytes::new());
            return (Bound::Excluded(k.clone()), Bound::Excluded(k));
        }
        let start = match self.start {
            None => Bound::Unbounded,
            Some((s, _)) if s == Token::MIN => Bound::Unbounded,
            Some((s, inclusive)) => token_start_bound(s, inclusive),
        };
        let end = match self.end {
            None => Bound::Unbounded,
            Some((e, _)) if e == Token::MIN => Bound::Unbounded,
            Some((e, true)) => token_end_bound(e),
            Some((e, false)) => Bound::Excluded(PartitionKey::from_parts(e, Bytes::new())),
        };
        (start, end)
    }
}

fn bind_token(t: &TokenRestriction<'_>, b: &Binder<'_>) -> Result<TokenRange, QueryError> {
    let value = |term: &Term| -> Result<Token, QueryError> {
        match b.eval(term, "partition key token", &CqlType::Bigint)? {
            TermValue::Value(v) => {
                let arr: [u8; 8] = v
                    .as_ref()
                    .try_into()
                    .map_err(|_| invalid("Invalid token value"))?;
                Ok(Token(i64::from_be_bytes(arr)))
            }
            TermValue::Null => Err(invalid("Invalid null token value")),
            TermValue::Unset => Err(invalid("Invalid unset value for partition key token")),
        }
    };
    let (start, end) = match t.eq {
        Some(term) => {
            let v = value(term)?;
            (Some((v, true)), Some((v, true)))
        }
        None => (
            t.start
                .map(|(term, inc)| value(term).map(|v| (v, inc)))
                .transpose()?,
            t.end
                .map(|(term, inc)| value(term).map(|v| (v, inc)))
                .transpose()?,
        ),
    };
    let empty = match (start, end) {
        (Some((s, si)), Some((e, ei))) if s != Token::MIN && e != Token::MIN => {
            s > e || (s == e && !(si && ei))
        }
        _ => false,
    };
    Ok(TokenRange { start, end, empty })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_ranges() {
        let r = TokenRange {
            start: Some((Token(5), false)),
            end: Some((Token(10), true)),
            empty: false,
        };
        assert!(!r.contains(Token(5)));
        assert!(r.contains(Token(6)));
        assert!(r.contains(Token(10)));
        assert!(!r.contains(Token(11)));
        let all = TokenRange {
            start: Some((Token::MIN, false)),
            end: Some((Token::MIN, false)),
            empty: false,
        };
        assert!(all.contains(Token(0)));
        assert!(matches!(all.bounds(), (Bound::Unbounded, Bound::Unbounded)));
    }
}
