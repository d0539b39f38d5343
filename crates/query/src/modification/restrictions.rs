//! The `WHERE` clause of `UPDATE` and `DELETE` (and the key columns of `INSERT`): which
//! partitions and which rows, ranges of rows or static row a statement writes.
//!
//! Analysis follows Cassandra's `StatementRestrictions` for modification statements: the
//! same checks, messages and order (relations are merged per column as they come; then the
//! partition key, the static-only rule, the clustering columns and finally non-key columns
//! are checked). Binding evaluates the terms into serialized partition keys (the cartesian
//! product of `IN` lists, deduplicated, each checked against Cassandra's key limits) and
//! clusterings or slices (with `DESC` columns and multi-column tuple slices mapped onto
//! clustering order).

use std::cmp::Ordering;

use bytes::Bytes;
use meridian_cql_parser::ast;
use meridian_schema::{ColumnKind, ColumnMetadata, TableMetadata};
use meridian_types::cql_type::CqlType;
use meridian_types::model::{Clustering, ClusteringComparator, ClusteringOrder, Cut, Slice};

use crate::error::QueryError;
use crate::terms::{self, Receiver, TermContext, TermValue};

use super::analysis::{column_receiver, existing_column, named_receiver, Kind};
use super::values;

/// Largest serialized partition key or clustering value (Cassandra's
/// `FBUtilities.MAX_UNSIGNED_SHORT`).
pub(crate) const MAX_KEY_LENGTH_BYTES: usize = 65_535;

/// Most partition keys or clusterings one statement may address through `IN` lists (their
/// cartesian product).
pub(crate) const MAX_KEYS_PER_STATEMENT: usize = 100_000;

/// Where a key column's value comes from.
#[derive(Clone, Debug)]
pub(crate) enum Source<'a> {
    /// A term.
    Term(&'a ast::Term),
    /// The column's entry in the `INSERT JSON` document.
    Json(&'a ColumnMetadata),
}

/// The values restricting one column or a tuple of clustering columns.
#[derive(Clone, Debug)]
pub(crate) enum TupleSource<'a> {
    /// One column's value.
    Single(Source<'a>),
    /// The elements of a tuple literal, one per column.
    Elements(&'a [ast::Term]),
    /// A tuple-valued term (a bind marker) covering all the columns.
    Whole(&'a ast::Term),
}

/// `IN` values.
#[derive(Clone, Debug)]
pub(crate) enum InSource<'a> {
    /// A list of values (or tuples).
    Terms(Vec<TupleSource<'a>>),
    /// `IN ?`: a list-valued marker; of tuples for multi-column relations (`true`).
    Marker(&'a ast::BindMarker, bool),
}

/// One bound of a slice.
#[derive(Clone, Debug)]
pub(crate) struct SliceBound<'a> {
    /// `>=` / `<=` rather than `>` / `<`.
    pub inclusive: bool,
    /// How many columns (from the restriction's first) the bound covers.
    pub width: usize,
    /// The bound value(s).
    pub value: TupleSource<'a>,
}

/// A restriction of one column (or of consecutive clustering columns for multi-column
/// relations).
#[derive(Clone, Debug)]
pub(crate) enum Restriction<'a> {
    /// `=`.
    Eq(TupleSource<'a>),
    /// `IN`.
    In(InSource<'a>),
    /// `>`, `>=`, `<`, `<=` (at least one bound).
    Slice {
        /// Lower bound.
        lower: Option<SliceBound<'a>>,
        /// Upper bound.
        upper: Option<SliceBound<'a>>,
    },
}

impl Restriction<'_> {
    fn is_slice(&self) -> bool {
        matches!(self, Restriction::Slice { .. })
    }
}

/// A clustering restriction: on `columns` (consecutive, the first at `first`).
#[derive(Clone, Debug)]
pub(crate) struct ClusteringRestriction<'a> {
    /// Position of the first restricted column.
    pub first: usize,
    /// The restricted columns.
    pub columns: Vec<&'a ColumnMetadata>,
    /// From a multi-column relation.
    pub multi: bool,
    /// The restriction.
    pub restriction: Restriction<'a>,
}

impl ClusteringRestriction<'_> {
    fn last(&self) -> usize {
        self.first + self.columns.len() - 1
    }
}

/// The analyzed `WHERE` clause.
#[derive(Clone, Debug, Default)]
pub(crate) struct Restrictions<'a> {
    /// One restriction per partition key column, by position.
    pub partition: Vec<(&'a ColumnMetadata, Restriction<'a>)>,
    /// Clustering restrictions sorted by first column.
    pub clustering: Vec<ClusteringRestriction<'a>>,
}

impl Restrictions<'_> {
    /// Cassandra's `hasAllPKColumnsRestrictedByEqualities` (`IN` counts as an equality).
    pub(crate) fn all_key_columns_by_equality(&self, table: &TableMetadata) -> bool {
        let pk_eq = self.partition.iter().all(|(_, r)| !r.is_slice());
        let restricted: usize = self
            .clustering
            .iter()
            .filter(|r| !r.restriction.is_slice())
            .map(|r| r.columns.len())
            .sum();
        pk_eq
            && !self.clustering.iter().any(|r| r.restriction.is_slice())
            && restricted == table.clustering_columns().len()
    }

    /// Whether the partition key or the clustering is restricted by `IN`.
    pub(crate) fn key_has_in(&self) -> bool {
        self.partition
            .iter()
            .any(|(_, r)| matches!(r, Restriction::In(_)))
    }

    /// Whether a clustering column is restricted by `IN`.
    pub(crate) fn clustering_has_in(&self) -> bool {
        self.clustering
            .iter()
            .any(|r| matches!(r.restriction, Restriction::In(_)))
    }

    /// Whether the clustering restrictions select ranges rather than single rows (DELETE
    /// only: a slice, or a prefix of the clustering columns).
    pub(crate) fn is_column_range(&self, table: &TableMetadata) -> bool {
        if self.clustering.is_empty() {
            return false;
        }
        let eq_columns: usize = self
            .clustering
            .iter()
            .filter(|r| !r.restriction.is_slice())
            .map(|r| r.columns.len())
            .sum();
        self.clustering.iter().any(|r| r.restriction.is_slice())
            || eq_columns < table.clustering_columns().len()
    }
}

/// The restrictions of an `INSERT`: each key column equal to its value.
pub(crate) fn from_insert<'a>(
    table: &'a TableMetadata,
    key_values: Vec<(&'a ColumnMetadata, Source<'a>)>,
    static_only: bool,
) -> Result<Restrictions<'a>, QueryError> {
    let mut b = Builder::new(table, Kind::Insert);
    for (column, source) in key_values {
        match column.kind {
            ColumnKind::PartitionKey { .. } => {
                b.add_partition(column, Restriction::Eq(TupleSource::Single(source)))?
            }
            ColumnKind::Clustering { position, .. } => b.add_clustering(ClusteringRestriction {
                first: position as usize,
                columns: vec![column],
                multi: false,
                restriction: Restriction::Eq(TupleSource::Single(source)),
            })?,
            _ => {}
        }
    }
    b.finish(static_only)
}

/// The restrictions of an `UPDATE` or `DELETE` `WHERE` clause.
pub(crate) fn from_where<'a>(
    table: &'a TableMetadata,
    kind: Kind,
    relations: &'a [ast::Relation],
    static_only: bool,
) -> Result<Restrictions<'a>, QueryError> {
    let mut b = Builder::new(table, kind);
    for r in relations {
        b.add_relation(r)?;
    }
    b.finish(static_only)
}

struct Builder<'a> {
    table: &'a TableMetadata,
    kind: Kind,
    partition: Vec<(&'a ColumnMetadata, Restriction<'a>)>,
    clustering: Vec<ClusteringRestriction<'a>>,
    non_key: Vec<&'a ColumnMetadata>,
    token: bool,
}

fn slice_of(op: ast::ComparisonOp, width: usize, value: TupleSource<'_>) -> Restriction<'_> {
    let bound = |inclusive| SliceBound {
        inclusive,
        width,
        value,
    };
    match op {
        ast::ComparisonOp::Gt => Restriction::Slice {
            lower: Some(bound(false)),
            upper: None,
        },
        ast::ComparisonOp::Gte => Restriction::Slice {
            lower: Some(bound(true)),
            upper: None,
        },
        ast::ComparisonOp::Lt => Restriction::Slice {
            lower: None,
            upper: Some(bound(false)),
        },
        _ => Restriction::Slice {
            lower: None,
            upper: Some(bound(true)),
        },
    }
}

/// Merges a new restriction into an existing one on the same column(s) (Cassandra's
/// `mergeWith`), `names` naming the column(s) in messages.
fn merge<'a>(
    existing: Restriction<'a>,
    new: Restriction<'a>,
    names: &str,
) -> Result<Restriction<'a>, QueryError> {
    match existing {
        Restriction::Eq(_) => Err(QueryError::invalid(format!(
            "{names} cannot be restricted by more than one relation if it includes an Equal"
        ))),
        Restriction::In(_) => Err(QueryError::invalid(format!(
            "{names} cannot be restricted by more than one relation if it includes a IN"
        ))),
        Restriction::Slice { lower, upper } => {
            let Restriction::Slice {
                lower: new_lower,
                upper: new_upper,
            } = new
            else {
                return Err(QueryError::invalid(format!(
                    "Column \"{names}\" cannot be restricted by both an equality and an inequality relation"
                )));
            };
            if lower.is_some() && new_lower.is_some() {
                return Err(QueryError::invalid(format!(
                    "More than one restriction was found for the start bound on {names}"
                )));
            }
            if upper.is_some() && new_upper.is_some() {
                return Err(QueryError::invalid(format!(
                    "More than one restriction was found for the end bound on {names}"
                )));
            }
            Ok(Restriction::Slice {
                lower: lower.or(new_lower),
                upper: upper.or(new_upper),
            })
        }
    }
}

impl<'a> Builder<'a> {
    fn new(table: &'a TableMetadata, kind: Kind) -> Self {
        Builder {
            table,
            kind,
            partition: Vec::new(),
            clustering: Vec::new(),
            non_key: Vec::new(),
            token: false,
        }
    }

    fn add_partition(
        &mut self,
        column: &'a ColumnMetadata,
        r: Restriction<'a>,
    ) -> Result<(), QueryError> {
        if let Some(i) = self.partition.iter().position(|(c, _)| c.id == column.id) {
            let (_, existing) = self.partition.remove(i);
            let merged = merge(existing, r, &column.name)?;
            self.partition.insert(i, (column, merged));
        } else {
            self.partition.push((column, r));
        }
        Ok(())
    }

    fn add_clustering(&mut self, new: ClusteringRestriction<'a>) -> Result<(), QueryError> {
        let was_empty = self.clustering.is_empty();
        let overlapping: Vec<usize> = self
            .clustering
            .iter()
            .enumerate()
            .filter(|(_, r)| r.first <= new.last() && new.first <= r.last())
            .map(|(i, _)| i)
            .collect();
        if let Some(&i) = overlapping.first() {
            let existing = &self.clustering[i];
            if existing.multi != new.multi {
                return Err(QueryError::invalid(
                    "Mixing single column relations and multi column relations on clustering columns is not allowed",
                ));
            }
            if new.multi {
                let common: Vec<&str> = new
                    .columns
                    .iter()
                    .filter(|c| existing.columns.iter().any(|e| e.id == c.id))
                    .map(|c| c.name.as_str())
                    .collect();
                let names = common.join(", ");
                if existing.restriction.is_slice()
                    && new.restriction.is_slice()
                    && existing.first != new.first
                {
                    return Err(QueryError::invalid(format!(
                        "Column \"{names}\" cannot be restricted by two inequalities not starting with the same column"
                    )));
                }
                let existing = self.clustering.remove(i);
                let columns = if existing.columns.len() >= new.columns.len() {
                    existing.columns
                } else {
                    new.columns
                };
                let restriction = merge(existing.restriction, new.restriction, &names)?;
                self.insert_sorted(ClusteringRestriction {
                    first: existing.first,
                    columns,
                    multi: true,
                    restriction,
                });
            } else {
                let existing = self.clustering.remove(i);
                let restriction = merge(
                    existing.restriction,
                    new.restriction,
                    &existing.columns[0].name,
                )?;
                self.insert_sorted(ClusteringRestriction {
                    restriction,
                    ..existing
                });
            }
            return Ok(());
        }
        if !was_empty {
            if let Some(last) = self.clustering.iter().max_by_key(|r| r.first) {
                if last.restriction.is_slice() && new.first > last.first {
                    return Err(QueryError::invalid(format!(
                        "Clustering column \"{}\" cannot be restricted (preceding column \"{}\" is restricted by a non-EQ relation)",
                        new.columns[0].name, last.columns[0].name
                    )));
                }
                if new.first < last.first && new.restriction.is_slice() {
                    let next = self
                        .table
                        .clustering_columns()
                        .get(new.first + 1)
                        .map(|c| c.name.clone())
                        .unwrap_or_default();
                    return Err(QueryError::invalid(format!(
                        "PRIMARY KEY column \"{next}\" cannot be restricted (preceding column \"{}\" is restricted by a non-EQ relation)",
                        new.columns[0].name
                    )));
                }
            }
        }
        self.insert_sorted(new);
        Ok(())
    }

    fn insert_sorted(&mut self, r: ClusteringRestriction<'a>) {
        let at = self.clustering.partition_point(|e| e.first < r.first);
        self.clustering.insert(at, r);
    }

    fn single(&mut self, column: &'a ColumnMetadata, r: Restriction<'a>) -> Result<(), QueryError> {
        match column.kind {
            ColumnKind::PartitionKey { .. } => self.add_partition(column, r),
            ColumnKind::Clustering { position, .. } => self.add_clustering(ClusteringRestriction {
                first: position as usize,
                columns: vec![column],
                multi: false,
                restriction: r,
            }),
            _ => {
                self.non_key.push(column);
                Ok(())
            }
        }
    }

    fn multi_columns(
        &self,
        names: &[ast::Identifier],
        relation: &ast::Relation,
    ) -> Result<Vec<&'a ColumnMetadata>, QueryError> {
        let mut columns = Vec::with_capacity(names.len());
        for n in names {
            let c = existing_column(self.table, n)?;
            if !matches!(c.kind, ColumnKind::Clustering { .. }) {
                return Err(QueryError::invalid(format!(
                    "Multi-column relations can only be applied to clustering columns but was applied to: {}",
                    c.name
                )));
            }
            columns.push(c);
        }
        let ordered = columns
            .windows(2)
            .all(|w| w[1].kind.position() == w[0].kind.position() + 1);
        let starts_at = columns.first().map(|c| c.kind.position());
        let previous_ok = columns.len() == 1 || ordered;
        if !previous_ok || starts_at.is_none() {
            return Err(QueryError::invalid(format!(
                "Clustering columns must appear in the PRIMARY KEY order in multi-column relations: {relation}"
            )));
        }
        Ok(columns)
    }

    fn tuple_value(
        columns: &[&'a ColumnMetadata],
        value: &'a ast::Term,
    ) -> Result<TupleSource<'a>, QueryError> {
        match value {
            ast::Term::Tuple(elements) => {
                if elements.len() != columns.len() {
                    return Err(QueryError::invalid(format!(
                        "Expected {} elements in value tuple, but got {}: {value}",
                        columns.len(),
                        elements.len()
                    )));
                }
                Ok(TupleSource::Elements(elements))
            }
            other => Ok(TupleSource::Whole(other)),
        }
    }

    fn add_relation(&mut self, relation: &'a ast::Relation) -> Result<(), QueryError> {
        use ast::Relation as R;
        match relation {
            R::Compare { column, op, value } => {
                let c = existing_column(self.table, column)?;
                if *op == ast::ComparisonOp::Neq {
                    return Err(QueryError::invalid(format!(
                        "Unsupported \"!=\" relation: {relation}"
                    )));
                }
                let source = TupleSource::Single(Source::Term(value));
                let r = if *op == ast::ComparisonOp::Eq {
                    Restriction::Eq(source)
                } else {
                    slice_of(*op, 1, source)
                };
                self.single(c, r)
            }
            R::In { column, values } => {
                let c = existing_column(self.table, column)?;
                let r = match values {
                    ast::InValues::Terms(ts) => Restriction::In(InSource::Terms(
                        ts.iter()
                            .map(|t| TupleSource::Single(Source::Term(t)))
                            .collect(),
                    )),
                    ast::InValues::Marker(m) => Restriction::In(InSource::Marker(m, false)),
                };
                self.single(c, r)
            }
            R::Contains { column, key, .. } => {
                let c = existing_column(self.table, column)?;
                if *key && !matches!(c.ty.unfrozen(), CqlType::Map(..)) {
                    return Err(QueryError::invalid(format!(
                        "Cannot use CONTAINS KEY on non-map column {}",
                        c.name
                    )));
                }
                if !c.ty.is_collection() {
                    return Err(QueryError::invalid(format!(
                        "Cannot use CONTAINS on non-collection column {}",
                        c.name
                    )));
                }
                self.key_column_unsupported(c, relation)
            }
            R::MapElement { column, .. } | R::Like { column, .. } => {
                let c = existing_column(self.table, column)?;
                self.key_column_unsupported(c, relation)
            }
            R::IsNotNull { column } => {
                existing_column(self.table, column)?;
                Err(QueryError::invalid(format!("Unsupported restriction: {relation}")))
            }
            R::Token { columns, .. } => {
                for c in columns {
                    existing_column(self.table, c)?;
                }
                self.token = true;
                Ok(())
            }
            R::MultiColumnCompare { columns, op, value } => {
                let cols = self.multi_columns(columns, relation)?;
                if *op == ast::ComparisonOp::Neq {
                    return Err(QueryError::invalid(format!(
                        "Unsupported \"!=\" relation: {relation}"
                    )));
                }
                let tuple = Self::tuple_value(&cols, value)?;
                let r = if *op == ast::ComparisonOp::Eq {
                    Restriction::Eq(tuple)
                } else {
                    slice_of(*op, cols.len(), tuple)
                };
                let first = cols[0].kind.position() as usize;
                self.add_clustering(ClusteringRestriction {
                    first,
                    columns: cols,
                    multi: true,
                    restriction: r,
                })
            }
            R::MultiColumnIn { columns, values } => {
                let cols = self.multi_columns(columns, relation)?;
                let r = match values {
                    ast::InValues::Terms(ts) => {
                        let mut out = Vec::with_capacity(ts.len());
                        for t in ts {
                            out.push(Self::tuple_value(&cols, t)?);
                        }
                        Restriction::In(InSource::Terms(out))
                    }
                    ast::InValues::Marker(m) => Restriction::In(InSource::Marker(m, true)),
                };
                let first = cols[0].kind.position() as usize;
                self.add_clustering(ClusteringRestriction {
                    first,
                    columns: cols,
                    multi: true,
                    restriction: r,
                })
            }
            R::CustomIndex { .. } => Err(QueryError::invalid(
                "Custom index expressions cannot be used in WHERE clauses for UPDATE or DELETE statements",
            )),
        }
    }

    /// CONTAINS, map-entry and LIKE relations: filtering on regular columns (refused with
    /// the other non-key restrictions), refused outright on key columns.
    fn key_column_unsupported(
        &mut self,
        c: &'a ColumnMetadata,
        relation: &ast::Relation,
    ) -> Result<(), QueryError> {
        match c.kind {
            ColumnKind::PartitionKey { .. } => Err(QueryError::invalid(format!(
                "Only EQ and IN relation are supported on the partition key (unless you use the token() function) for {} statements",
                self.kind.name()
            ))),
            ColumnKind::Clustering { .. } => Err(QueryError::invalid(format!(
                "Unsupported restriction on clustering column {}: {relation}",
                c.name
            ))),
            _ => {
                self.non_key.push(c);
                Ok(())
            }
        }
    }

    fn finish(self, static_only: bool) -> Result<Restrictions<'a>, QueryError> {
        let type_name = self.kind.name();
        if self.token {
            return Err(QueryError::invalid(format!(
                "The token function cannot be used in WHERE clauses for {type_name} statements"
            )));
        }
        let pk_columns = self.table.partition_key_columns();
        let missing: Vec<&str> = pk_columns
            .iter()
            .filter(|c| !self.partition.iter().any(|(p, _)| p.id == c.id))
            .map(|c| c.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(QueryError::invalid(format!(
                "Some partition key parts are missing: {}",
                missing.join(", ")
            )));
        }
        if self.partition.iter().any(|(_, r)| r.is_slice()) {
            return Err(QueryError::invalid(format!(
                "Only EQ and IN relation are supported on the partition key (unless you use the token() function) for {type_name} statements"
            )));
        }
        if static_only && !self.clustering.is_empty() && self.kind != Kind::Insert {
            return Err(QueryError::invalid(format!(
                "Invalid restrictions on clustering columns since the {type_name} statement modifies only static columns"
            )));
        }
        let clustering_columns = self.table.clustering_columns();
        if self.kind == Kind::Delete {
            // Restrictions must cover a prefix of the clustering columns.
            let mut position = 0usize;
            for r in &self.clustering {
                if r.first != position {
                    let restricted = r.columns[0].name.as_str();
                    let preceding = clustering_columns
                        .get(position)
                        .map(|c| c.name.as_str())
                        .unwrap_or_default();
                    return Err(QueryError::invalid(format!(
                        "PRIMARY KEY column \"{restricted}\" cannot be restricted as preceding column \"{preceding}\" is not restricted"
                    )));
                }
                if !r.restriction.is_slice() {
                    position = r.last() + 1;
                }
            }
        } else {
            if self.clustering.iter().any(|r| r.restriction.is_slice()) {
                return Err(QueryError::invalid(format!(
                    "Slice restrictions are not supported on the clustering columns in {type_name} statements"
                )));
            }
            if !static_only {
                let unrestricted: Vec<&str> = clustering_columns
                    .iter()
                    .filter(|c| {
                        let p = c.kind.position() as usize;
                        !self
                            .clustering
                            .iter()
                            .any(|r| r.first <= p && p <= r.last())
                    })
                    .map(|c| c.name.as_str())
                    .collect();
                if !unrestricted.is_empty() {
                    return Err(QueryError::invalid(format!(
                        "Some clustering keys are missing: {}",
                        unrestricted.join(", ")
                    )));
                }
            }
        }
        if !self.non_key.is_empty() {
            let names: Vec<&str> = self.non_key.iter().map(|c| c.name.as_str()).collect();
            return Err(QueryError::invalid(format!(
                "Non PRIMARY KEY columns found in where clause: {} ",
                names.join(", ")
            )));
        }
        let mut partition = self.partition;
        partition.sort_by_key(|(c, _)| c.kind.position());
        Ok(Restrictions {
            partition,
            clustering: self.clustering,
        })
    }
}

/// The receivers of the markers of a restriction set (for PREPARE), with the partition key
/// position of markers bound directly to a partition key column.
pub(crate) fn collect_receivers(
    table: &TableMetadata,
    restrictions: &Restrictions<'_>,
    out: &mut Vec<(usize, Receiver, Option<usize>)>,
) -> Result<(), QueryError> {
    for (column, r) in &restrictions.partition {
        let pk_position = Some(column.kind.position() as usize);
        collect_restriction(table, &[*column], r, pk_position, out)?;
    }
    for r in &restrictions.clustering {
        collect_restriction(table, &r.columns, &r.restriction, None, out)?;
    }
    Ok(())
}

fn collect_term(
    term: &ast::Term,
    receiver: &Receiver,
    pk_position: Option<usize>,
    out: &mut Vec<(usize, Receiver, Option<usize>)>,
) -> Result<(), QueryError> {
    let mut tmp = Vec::new();
    terms::collect_bind_receivers(term, receiver, &mut tmp)?;
    for (i, r) in tmp {
        let direct = pk_position.filter(|_| r == *receiver);
        out.push((i, r, direct));
    }
    Ok(())
}

fn tuple_receiver(table: &TableMetadata, columns: &[&ColumnMetadata], in_list: bool) -> Receiver {
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let tuple = CqlType::Tuple(columns.iter().map(|c| c.ty.clone()).collect());
    if in_list {
        named_receiver(
            table,
            format!("in({})", names.join(",")),
            CqlType::List(Box::new(tuple)),
        )
    } else {
        named_receiver(table, format!("({})", names.join(",")), tuple)
    }
}

/// The receiver of an `IN ?` marker: `in(c)` of type `list<c's type>` (a list of tuples
/// for multi-column relations).
fn in_receiver(table: &TableMetadata, columns: &[&ColumnMetadata], multi: bool) -> Receiver {
    if !multi {
        named_receiver(
            table,
            format!("in({})", columns[0].name),
            CqlType::List(Box::new(columns[0].ty.clone())),
        )
    } else {
        tuple_receiver(table, columns, true)
    }
}

fn collect_tuple(
    table: &TableMetadata,
    columns: &[&ColumnMetadata],
    source: &TupleSource<'_>,
    pk_position: Option<usize>,
    out: &mut Vec<(usize, Receiver, Option<usize>)>,
) -> Result<(), QueryError> {
    match source {
        TupleSource::Single(Source::Term(t)) => {
            collect_term(t, &column_receiver(table, columns[0]), pk_position, out)
        }
        TupleSource::Single(Source::Json(_)) => Ok(()),
        TupleSource::Elements(elements) => {
            for (t, c) in elements.iter().zip(columns) {
                collect_term(t, &column_receiver(table, c), None, out)?;
            }
            Ok(())
        }
        TupleSource::Whole(t) => collect_term(t, &tuple_receiver(table, columns, false), None, out),
    }
}

fn collect_restriction(
    table: &TableMetadata,
    columns: &[&ColumnMetadata],
    r: &Restriction<'_>,
    pk_position: Option<usize>,
    out: &mut Vec<(usize, Receiver, Option<usize>)>,
) -> Result<(), QueryError> {
    match r {
        Restriction::Eq(s) => collect_tuple(table, columns, s, pk_position, out),
        Restriction::In(InSource::Terms(ts)) => {
            for s in ts {
                collect_tuple(table, columns, s, pk_position, out)?;
            }
            Ok(())
        }
        Restriction::In(InSource::Marker(m, multi)) => {
            out.push((m.index, in_receiver(table, columns, *multi), None));
            Ok(())
        }
        Restriction::Slice { lower, upper } => {
            for b in [lower, upper].into_iter().flatten() {
                collect_tuple(
                    table,
                    &columns[..b.width.min(columns.len())],
                    &b.value,
                    None,
                    out,
                )?;
            }
            Ok(())
        }
    }
}

/// What binding needs besides the restrictions: term evaluation and the `INSERT JSON`
/// values.
pub(crate) struct BindContext<'c, 'a> {
    /// Term evaluation.
    pub terms: &'c TermContext<'c>,
    /// The table.
    pub table: &'a TableMetadata,
    /// JSON column values of an `INSERT JSON`.
    pub json: Option<&'c super::apply::JsonValues>,
}

impl BindContext<'_, '_> {
    fn source(&self, source: &Source<'_>, receiver: &Receiver) -> Result<TermValue, QueryError> {
        match source {
            Source::Term(t) => terms::evaluate(t, receiver, self.terms),
            Source::Json(c) => Ok(self.json.map(|j| j.value(c)).unwrap_or(TermValue::Null)),
        }
    }
}

fn key_value(column: &ColumnMetadata, v: TermValue) -> Result<Bytes, QueryError> {
    match v {
        TermValue::Value(b) => Ok(b),
        TermValue::Null => Err(QueryError::invalid(format!(
            "Invalid null value in condition for column {}",
            column.name
        ))),
        TermValue::Unset => Err(QueryError::invalid(format!(
            "Invalid unset value for column {}",
            column.name
        ))),
    }
}

/// The value tuples a restriction allows (each with one value per column).
fn tuples(
    ctx: &BindContext<'_, '_>,
    columns: &[&ColumnMetadata],
    source: &TupleSource<'_>,
) -> Result<Vec<Bytes>, QueryError> {
    match source {
        TupleSource::Single(s) => {
            let v = ctx.source(s, &column_receiver(ctx.table, columns[0]))?;
            Ok(vec![key_value(columns[0], v)?])
        }
        TupleSource::Elements(elements) => {
            let mut out = Vec::with_capacity(elements.len());
            for (t, c) in elements.iter().zip(columns) {
                let v = terms::evaluate(t, &column_receiver(ctx.table, c), ctx.terms)?;
                out.push(key_value(c, v)?);
            }
            Ok(out)
        }
        TupleSource::Whole(t) => {
            let receiver = tuple_receiver(ctx.table, columns, false);
            match terms::evaluate(t, &receiver, ctx.terms)? {
                TermValue::Value(b) => split_tuple(&b, columns),
                TermValue::Null => Err(QueryError::invalid(format!(
                    "Invalid null value in condition for column {}",
                    receiver.name
                ))),
                TermValue::Unset => Err(QueryError::invalid(format!(
                    "Invalid unset value for column {}",
                    receiver.name
                ))),
            }
        }
    }
}

fn split_tuple(bytes: &[u8], columns: &[&ColumnMetadata]) -> Result<Vec<Bytes>, QueryError> {
    let fields = values::split_fields(bytes, columns.len())?;
    fields
        .into_iter()
        .zip(columns)
        .map(|(f, c)| {
            f.map(Bytes::copy_from_slice).ok_or_else(|| {
                QueryError::invalid(format!(
                    "Invalid null value in condition for column {}",
                    c.name
                ))
            })
        })
        .collect()
}

/// The alternatives of an `=` or `IN` restriction: one tuple of values each.
fn alternatives(
    ctx: &BindContext<'_, '_>,
    columns: &[&ColumnMetadata],
    r: &Restriction<'_>,
) -> Result<Vec<Vec<Bytes>>, QueryError> {
    match r {
        Restriction::Eq(s) => Ok(vec![tuples(ctx, columns, s)?]),
        Restriction::In(InSource::Terms(ts)) => {
            let mut out = Vec::with_capacity(ts.len());
            for s in ts {
                out.push(tuples(ctx, columns, s)?);
            }
            Ok(out)
        }
        Restriction::In(InSource::Marker(marker, multi)) => {
            let term = ast::Term::BindMarker((*marker).clone());
            let single = !*multi;
            let receiver = in_receiver(ctx.table, columns, *multi);
            let list = match terms::evaluate(&term, &receiver, ctx.terms)? {
                TermValue::Value(b) => b,
                TermValue::Null => {
                    return Err(QueryError::invalid(format!(
                        "Invalid null value for column {}",
                        columns[0].name
                    )))
                }
                TermValue::Unset => {
                    return Err(QueryError::invalid(format!(
                        "Invalid unset value for column {}",
                        columns[0].name
                    )))
                }
            };
            let mut out = Vec::new();
            for e in values::split_collection(&list)? {
                let Some(e) = e else {
                    return Err(QueryError::invalid(format!(
                        "Invalid null value in condition for column {}",
                        columns[0].name
                    )));
                };
                if single {
                    out.push(vec![Bytes::copy_from_slice(e)]);
                } else {
                    out.push(split_tuple(e, columns)?);
                }
            }
            Ok(out)
        }
        Restriction::Slice { .. } => Err(QueryError::server("slice restriction used as equality")),
    }
}

fn check_length(len: usize) -> Result<(), QueryError> {
    if len > MAX_KEY_LENGTH_BYTES {
        return Err(QueryError::invalid(format!(
            "Key length of {len} is longer than maximum of {MAX_KEY_LENGTH_BYTES}"
        )));
    }
    Ok(())
}

fn too_many(n: usize) -> QueryError {
    QueryError::invalid(format!(
        "IN restrictions select {n} partition keys or rows, more than the maximum of {MAX_KEYS_PER_STATEMENT}"
    ))
}

/// Appends every alternative to every prefix.
fn cartesian(
    prefixes: Vec<Vec<Bytes>>,
    alternatives: Vec<Vec<Bytes>>,
) -> Result<Vec<Vec<Bytes>>, QueryError> {
    let n = prefixes.len().saturating_mul(alternatives.len());
    if n > MAX_KEYS_PER_STATEMENT {
        return Err(too_many(n));
    }
    let mut out = Vec::with_capacity(n);
    for p in &prefixes {
        for a in &alternatives {
            let mut v = p.clone();
            v.extend(a.iter().cloned());
            out.push(v);
        }
    }
    Ok(out)
}

/// The serialized partition keys a statement writes, deduplicated, in restriction order.
/// Errors follow Cassandra's `validateKey`.
pub(crate) fn bind_partition_keys(
    ctx: &BindContext<'_, '_>,
    restrictions: &Restrictions<'_>,
) -> Result<Vec<Bytes>, QueryError> {
    let mut combos: Vec<Vec<Bytes>> = vec![Vec::new()];
    for (column, r) in &restrictions.partition {
        let alts = alternatives(ctx, &[*column], r)?;
        combos = cartesian(combos, alts)?;
    }
    let mut keys: Vec<Bytes> = Vec::with_capacity(combos.len());
    for combo in combos {
        let key = if combo.len() == 1 {
            combo.into_iter().next().unwrap_or_default()
        } else {
            let total: usize = combo.iter().map(|c| c.len() + 3).sum();
            check_length(total)?;
            let parts: Vec<&[u8]> = combo.iter().map(|c| c.as_ref()).collect();
            let composite = meridian_types::token::composite_partition_key(&parts)
                .map_err(|e| QueryError::invalid(e.to_string()))?;
            Bytes::from(composite)
        };
        if key.is_empty() {
            return Err(QueryError::invalid("Key may not be empty"));
        }
        check_length(key.len())?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// What rows of each partition a statement writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ClusteringTarget {
    /// No clustering restriction: the partition (for DELETE), the only row of a table
    /// without clustering columns, or the static row.
    Unrestricted,
    /// Full clusterings (possibly none, for an empty `IN`), sorted and deduplicated.
    Rows(Vec<Clustering>),
    /// Ranges of rows (DELETE), sorted.
    Slices(Vec<Slice>),
}

/// Binds the clustering restrictions.
pub(crate) fn bind_clustering(
    ctx: &BindContext<'_, '_>,
    restrictions: &Restrictions<'_>,
    ranges: bool,
) -> Result<ClusteringTarget, QueryError> {
    if restrictions.clustering.is_empty() {
        return Ok(ClusteringTarget::Unrestricted);
    }
    let cmp = ctx.table.clustering_comparator();
    let mut prefixes: Vec<Vec<Bytes>> = vec![Vec::new()];
    let mut slice: Option<&ClusteringRestriction<'_>> = None;
    for r in &restrictions.clustering {
        if r.restriction.is_slice() {
            slice = Some(r);
            break;
        }
        let alts = alternatives(ctx, &r.columns, &r.restriction)?;
        prefixes = cartesian(prefixes, alts)?;
    }
    for p in &prefixes {
        for v in p {
            check_length(v.len())?;
        }
    }
    if !ranges {
        let mut rows: Vec<Clustering> = prefixes.into_iter().map(Clustering).collect();
        rows.sort_by(|a, b| cmp.compare(a, b));
        rows.dedup_by(|a, b| cmp.compare(a, b) == Ordering::Equal);
        return Ok(ClusteringTarget::Rows(rows));
    }
    let mut slices = Vec::new();
    match slice {
        None => {
            for p in prefixes {
                slices.push(Slice::prefix(Clustering(p)));
            }
        }
        Some(r) => {
            let Restriction::Slice { lower, upper } = &r.restriction else {
                return Err(QueryError::server("slice restriction expected"));
            };
            let lower = bind_bound(ctx, r, lower.as_ref())?;
            let upper = bind_bound(ctx, r, upper.as_ref())?;
            for p in prefixes {
                slices.extend(slices_for(
                    &cmp,
                    r.first,
                    &p,
                    lower.as_ref(),
                    upper.as_ref(),
                ));
            }
        }
    }
    slices.retain(|s| !cmp.slice_is_empty(s));
    slices.sort_by(|a, b| cmp.compare_cuts(&a.start, &b.start));
    Ok(ClusteringTarget::Slices(slices))
}

/// A bound value: its tuple and inclusiveness.
struct BoundValue {
    values: Vec<Bytes>,
    inclusive: bool,
}

fn bind_bound(
    ctx: &BindContext<'_, '_>,
    r: &ClusteringRestriction<'_>,
    bound: Option<&SliceBound<'_>>,
) -> Result<Option<BoundValue>, QueryError> {
    let Some(b) = bound else { return Ok(None) };
    let columns = &r.columns[..b.width.min(r.columns.len())];
    let values = tuples(ctx, columns, &b.value)?;
    for v in &values {
        check_length(v.len())?;
    }
    Ok(Some(BoundValue {
        values,
        inclusive: b.inclusive,
    }))
}

/// The order of clustering column `position`.
fn order_of(cmp: &ClusteringComparator, position: usize) -> ClusteringOrder {
    cmp.columns()
        .get(position)
        .map(|(_, o)| *o)
        .unwrap_or(ClusteringOrder::Asc)
}

fn with(prefix: &[Bytes], v: &Bytes) -> Clustering {
    let mut c = prefix.to_vec();
    c.push(v.clone());
    Clustering(c)
}

/// The slice of rows whose column at `position` (after `prefix`) lies beyond one value
/// bound: above it for a lower bound, below it for an upper bound, mapped onto clustering
/// order (reversed for DESC columns).
fn one_sided(
    cmp: &ClusteringComparator,
    position: usize,
    prefix: &[Bytes],
    value: &Bytes,
    inclusive: bool,
    lower: bool,
) -> Slice {
    let whole = Slice::prefix(Clustering(prefix.to_vec()));
    let at = with(prefix, value);
    // In clustering order, is the allowed side after the value?
    let after_side = lower == (order_of(cmp, position) == ClusteringOrder::Asc);
    if after_side {
        Slice {
            start: if inclusive {
                Cut::before(at)
            } else {
                Cut::after(at)
            },
            end: whole.end,
        }
    } else {
        Slice {
            start: whole.start,
            end: if inclusive {
                Cut::after(at)
            } else {
                Cut::before(at)
            },
        }
    }
}

/// The rows whose columns from `first` compare (as a tuple, in value order) beyond the
/// bound: a union of disjoint slices.
fn bound_slices(
    cmp: &ClusteringComparator,
    first: usize,
    prefix: &[Bytes],
    bound: &BoundValue,
    lower: bool,
) -> Vec<Slice> {
    let n = bound.values.len();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut p = prefix.to_vec();
        p.extend(bound.values[..i].iter().cloned());
        let inclusive = i + 1 == n && bound.inclusive;
        out.push(one_sided(
            cmp,
            first + i,
            &p,
            &bound.values[i],
            inclusive,
            lower,
        ));
    }
    out
}

fn intersect(cmp: &ClusteringComparator, a: &Slice, b: &Slice) -> Option<Slice> {
    let start = if cmp.compare_cuts(&a.start, &b.start) == Ordering::Less {
        b.start.clone()
    } else {
        a.start.clone()
    };
    let end = if cmp.compare_cuts(&a.end, &b.end) == Ordering::Greater {
        b.end.clone()
    } else {
        a.end.clone()
    };
    let s = Slice { start, end };
    (!cmp.slice_is_empty(&s)).then_some(s)
}

fn slices_for(
    cmp: &ClusteringComparator,
    first: usize,
    prefix: &[Bytes],
    lower: Option<&BoundValue>,
    upper: Option<&BoundValue>,
) -> Vec<Slice> {
    let whole = vec![Slice::prefix(Clustering(prefix.to_vec()))];
    let lows = lower.map_or_else(
        || whole.clone(),
        |b| bound_slices(cmp, first, prefix, b, true),
    );
    let highs = upper.map_or(whole, |b| bound_slices(cmp, first, prefix, b, false));
    let mut out = Vec::new();
    for l in &lows {
        for h in &highs {
            if let Some(s) = intersect(cmp, l, h) {
                out.push(s);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(v: i32) -> Bytes {
        Bytes::copy_from_slice(&v.to_be_bytes())
    }

    fn cmp(orders: &[ClusteringOrder]) -> ClusteringComparator {
        ClusteringComparator::new(orders.iter().map(|o| (CqlType::Int, *o)).collect())
    }

    fn contains(c: &ClusteringComparator, slices: &[Slice], row: &[i32]) -> bool {
        let clustering = Clustering(row.iter().map(|v| int(*v)).collect());
        slices.iter().any(|s| c.slice_contains(s, &clustering))
    }

    #[test]
    fn single_column_slices_follow_the_column_order() {
        for order in [ClusteringOrder::Asc, ClusteringOrder::Desc] {
            let c = cmp(&[order, ClusteringOrder::Asc]);
            let lower = BoundValue {
                values: vec![int(2)],
                inclusive: false,
            };
            let upper = BoundValue {
                values: vec![int(5)],
                inclusive: true,
            };
            let s = slices_for(&c, 0, &[], Some(&lower), Some(&upper));
            for v in 0..8 {
                assert_eq!(contains(&c, &s, &[v, 0]), v > 2 && v <= 5, "{order:?} {v}");
            }
        }
    }

    fn order(desc: bool) -> ClusteringOrder {
        if desc {
            ClusteringOrder::Desc
        } else {
            ClusteringOrder::Asc
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Any pair of tuple bounds, any column orders: the slices hold exactly the rows
        /// whose values compare (as tuples) within the bounds.
        #[test]
        fn tuple_bounds_match_value_comparison(
            desc in proptest::array::uniform2(proptest::bool::ANY),
            lower in proptest::option::of((proptest::collection::vec(0i32..4, 1..=2), proptest::bool::ANY)),
            upper in proptest::option::of((proptest::collection::vec(0i32..4, 1..=2), proptest::bool::ANY)),
        ) {
            let c = cmp(&[order(desc[0]), order(desc[1])]);
            let bound = |b: &Option<(Vec<i32>, bool)>| b.as_ref().map(|(v, inclusive)| BoundValue {
                values: v.iter().map(|x| int(*x)).collect(),
                inclusive: *inclusive,
            });
            let (lo, hi) = (bound(&lower), bound(&upper));
            let s = slices_for(&c, 0, &[], lo.as_ref(), hi.as_ref());
            // Tuple comparison against a bound of width n looks at the first n values.
            let within = |row: [i32; 2], b: &(Vec<i32>, bool), is_lower: bool| {
                let prefix = &row[..b.0.len()];
                let ord = prefix.cmp(&b.0[..]);
                match (is_lower, b.1) {
                    (true, true) => ord != Ordering::Less,
                    (true, false) => ord == Ordering::Greater,
                    (false, true) => ord != Ordering::Greater,
                    (false, false) => ord == Ordering::Less,
                }
            };
            for a in -1..5 {
                for b in -1..5 {
                    let expected = lower.as_ref().is_none_or(|l| within([a, b], l, true))
                        && upper.as_ref().is_none_or(|u| within([a, b], u, false));
                    proptest::prop_assert_eq!(contains(&c, &s, &[a, b]), expected, "({}, {})", a, b);
                }
            }
        }
    }

    #[test]
    fn tuple_slices_compare_in_value_order_for_mixed_orders() {
        let c = cmp(&[ClusteringOrder::Asc, ClusteringOrder::Desc]);
        let lower = BoundValue {
            values: vec![int(1), int(2)],
            inclusive: false,
        };
        let upper = BoundValue {
            values: vec![int(3)],
            inclusive: false,
        };
        let s = slices_for(&c, 0, &[], Some(&lower), Some(&upper));
        for a in 0..5 {
            for b in 0..5 {
                let expected = (a, b) > (1, 2) && a < 3;
                assert_eq!(contains(&c, &s, &[a, b]), expected, "({a}, {b})");
            }
        }
    }
}
