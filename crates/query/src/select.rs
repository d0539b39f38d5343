//! `SELECT`: Cassandra's semantics and messages on one node.
//!
//! A statement is analysed against the current schema on every PREPARE and EXECUTE (the
//! schema may have changed in between), in Cassandra's order of checks: the selection's
//! columns, the `ORDER BY` columns, the `WHERE` clause ([`restrictions`]), the selectors
//! ([`selection`]), `DISTINCT`, `GROUP BY`, `ORDER BY`, and finally whether the read needs
//! `ALLOW FILTERING`. Execution binds the values, picks the partitions (by key, or by a
//! token-range scan), the clustering slices and the in-memory filters, and runs the read
//! loop ([`executor`]) over the storage engine or a generated system table
//! ([`crate::virtual_tables`]).
//!
//! Paging: with a page size, a result holds at most that many rows (groups for `GROUP BY`)
//! and carries an opaque paging state ([`paging`]) when more may follow; never without a
//! page size. Aggregates without `GROUP BY` always return their one row, computed over every
//! row.

pub(crate) mod executor;
mod filter;
mod paging;
mod restrictions;
pub(crate) mod row;
mod selection;
mod slices;

use meridian_cql_parser::ast::{self, Order, SelectStatement, Selector};
use meridian_cql_protocol::Consistency;
use meridian_schema::{ColumnKind, ColumnMetadata, Schema, TableMetadata};
use meridian_types::cql_type::CqlType;
use meridian_types::model::ClusteringOrder;

use crate::context::{BoundValues, ExecOptions, Node, Session};
use crate::error::QueryError;
use crate::result::{PreparedInfo, QueryResult, ResultColumn};
use crate::terms::{self, Receiver, TermContext, TermValue};

use executor::{Mode, ReadPlan};
use restrictions::{existing_column, WhereClause, REQUIRES_ALLOW_FILTERING};
use selection::{Selection, TermMode};

fn invalid(message: impl Into<String>) -> QueryError {
    QueryError::invalid(message)
}

/// Evaluates the terms of a statement against its bound values.
pub(crate) struct Binder<'a> {
    keyspace: &'a str,
    table: &'a str,
    ctx: TermContext<'a>,
}

impl Binder<'_> {
    /// Evaluates `term` for a receiver named `name` of type `ty`.
    pub fn eval(
        &self,
        term: &ast::Term,
        name: &str,
        ty: &CqlType,
    ) -> Result<TermValue, QueryError> {
        terms::evaluate(
            term,
            &Receiver::new(self.keyspace, self.table, name, ty.clone()),
            &self.ctx,
        )
    }
}

/// Looks the table up, with Cassandra 5.0's messages (`Schema.validateTable`).
fn resolve_table(
    schema: &Schema,
    session: &Session,
    name: &ast::QualifiedName,
) -> Result<TableMetadata, QueryError> {
    let keyspace = match &name.keyspace {
        Some(k) => k.as_str().to_string(),
        None => session.keyspace().ok_or_else(|| {
            invalid("No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename")
        })?,
    };
    if name.name.as_str().is_empty() {
        return Err(invalid("non-empty table is required"));
    }
    let ks = schema
        .keyspace(&keyspace)
        .ok_or_else(|| invalid(format!("keyspace {keyspace} does not exist")))?;
    ks.tables
        .get(name.name.as_str())
        .cloned()
        .ok_or_else(|| invalid(format!("table {} does not exist", name.name.as_str())))
}

/// A statement analysed against its table.
struct Analyzed<'s> {
    where_clause: WhereClause<'s>,
    selection: Selection,
    mode: Mode,
    reversed: bool,
    post_order: Option<(Vec<usize>, bool)>,
    static_rows: bool,
}

/// The message of an `ANN OF` ordering on a table without vector indexes.
fn ann_error(column: &ColumnMetadata) -> QueryError {
    let float_vector =
        matches!(column.ty.unfrozen(), CqlType::Vector(e, _) if **e == CqlType::Float);
    if float_vector {
        invalid("ANN ordering by vector requires the column to be indexed")
    } else {
        invalid("ANN ordering is only supported on float vector indexes")
    }
}

fn analyze<'s>(
    schema: &Schema,
    table: &TableMetadata,
    stmt: &'s SelectStatement,
    terms: &mut TermMode<'_, '_>,
) -> Result<Analyzed<'s>, QueryError> {
    // Selected columns must exist (checked before anything else).
    let referenced = selection::referenced_columns(table, &stmt.selection)?;
    let only_static = selection::selects_only_static(table, &stmt.selection, &referenced);

    // ORDER BY columns.
    let mut orderings: Vec<(ColumnMetadata, bool, bool)> = Vec::new();
    for o in &stmt.order_by {
        let column = existing_column(table, &o.column)?.clone();
        let desc = o.order == Some(Order::Desc);
        orderings.push((column, desc, o.ann_of.is_some()));
    }
    if let Some((column, _, _)) = orderings.iter().find(|(_, _, ann)| *ann) {
        if orderings.len() > 1 {
            return Err(invalid("ANN ordering does not support any other ordering"));
        }
        if orderings[0].1 {
            return Err(invalid("Descending ANN ordering is not supported"));
        }
        let column = column.clone();
        // The WHERE clause is checked first, as Cassandra does.
        WhereClause::analyze(table, &stmt.where_clause, stmt.allow_filtering, only_static)?;
        return Err(ann_error(&column));
    }

    let where_clause =
        WhereClause::analyze(table, &stmt.where_clause, stmt.allow_filtering, only_static)?;
    let selection = Selection::compile(table, schema, stmt, terms)?;

    if stmt.distinct {
        if stmt.per_partition_limit.is_some() {
            return Err(invalid(
                "PER PARTITION LIMIT is not allowed with SELECT DISTINCT queries",
            ));
        }
        let restricts_non_static = where_clause.has_clustering_restrictions()
            || where_clause
                .others
                .iter()
                .any(|(c, _)| c.kind != ColumnKind::Static);
        if restricts_non_static {
            return Err(invalid(
                "SELECT DISTINCT with WHERE clause only supports restriction by partition key and/or static columns.",
            ));
        }
        for c in &selection.referenced {
            if !matches!(c.kind, ColumnKind::PartitionKey { .. } | ColumnKind::Static) {
                return Err(invalid(format!(
                    "SELECT DISTINCT queries must only request partition key columns and/or static columns (not {})",
                    c.name
                )));
            }
        }
        if where_clause.is_key_range {
            for c in table.partition_key_columns() {
                if !selection.referenced.iter().any(|r| r.name == c.name) {
                    return Err(invalid(format!(
                        "SELECT DISTINCT queries must request all the partition key columns (missing {})",
                        c.name
                    )));
                }
            }
        }
    }

    let mode = group_by_mode(table, stmt, &where_clause, &selection)?;
    if mode == Mode::AggregateAll && stmt.per_partition_limit.is_some() {
        return Err(invalid(
            "PER PARTITION LIMIT is not allowed with aggregate queries.",
        ));
    }

    let mut reversed = false;
    let mut post_order = None;
    if !orderings.is_empty() {
        if where_clause.is_key_range {
            return Err(invalid(
                "ORDER BY is only supported when the partition key is restricted by an EQ or an IN.",
            ));
        }
        reversed = is_reversed(table, &orderings, &where_clause)?;
        if where_clause.key_is_in() {
            let positions = orderings
                .iter()
                .filter_map(|(c, _, _)| match c.kind {
                    ColumnKind::Clustering { position, .. } => Some(position as usize),
                    _ => None,
                })
                .collect();
            post_order = Some((positions, reversed));
        }
    }

    if !stmt.allow_filtering
        && where_clause.is_key_range
        && !table.is_virtual
        && where_clause.needs_filtering()
    {
        return Err(invalid(REQUIRES_ALLOW_FILTERING));
    }

    let static_rows = !where_clause.selects_specific_rows(table);
    Ok(Analyzed {
        where_clause,
        selection,
        mode,
        reversed,
        post_order,
        static_rows,
    })
}

/// Cassandra's `isReversed`: `ORDER BY` only on clustering columns, in declared order
/// (skipping columns restricted by `=`), all in the same direction relative to the table.
fn is_reversed(
    table: &TableMetadata,
    orderings: &[(ColumnMetadata, bool, bool)],
    where_clause: &WhereClause<'_>,
) -> Result<bool, QueryError> {
    let clustering = table.clustering_columns();
    let mut reversed_map: Vec<Option<bool>> = vec![None; clustering.len()];
    let mut i = 0usize;
    for (column, desc, _) in orderings {
        let ColumnKind::Clustering { position, order } = column.kind else {
            return Err(invalid(format!(
                "Order by is currently only supported on the clustered columns of the PRIMARY KEY, got {}",
                column.name
            )));
        };
        let position = position as usize;
        while i != position {
            let restricted = clustering
                .get(i)
                .is_some_and(|c| where_clause.is_restricted_by_eq(c));
            if !restricted {
                return Err(invalid(
                    "Order by currently only supports the ordering of columns following their declared order in the PRIMARY KEY",
                ));
            }
            i += 1;
        }
        i += 1;
        if let Some(slot) = reversed_map.get_mut(position) {
            *slot = Some(*desc != (order == ClusteringOrder::Desc));
        }
    }
    let mut result: Option<bool> = None;
    for b in reversed_map.into_iter().flatten() {
        match result {
            None => result = Some(b),
            Some(r) if r != b => return Err(invalid("Unsupported order by relation")),
            Some(_) => {}
        }
    }
    Ok(result.unwrap_or(false))
}

/// The aggregation mode: plain rows, aggregates over everything, or `GROUP BY` a primary
/// key prefix (Cassandra's `getAggregationSpecFactory` checks).
fn group_by_mode(
    table: &TableMetadata,
    stmt: &SelectStatement,
    where_clause: &WhereClause<'_>,
    selection: &Selection,
) -> Result<Mode, QueryError> {
    if stmt.group_by.is_empty() {
        return Ok(if selection.is_aggregate() {
            Mode::AggregateAll
        } else {
            Mode::Rows
        });
    }
    let mut pk_columns: Vec<&ColumnMetadata> = table.partition_key_columns();
    pk_columns.extend(table.clustering_columns());
    let mut iter = pk_columns.into_iter().peekable();
    let mut clustering_prefix = 0usize;
    let order_error = || {
        invalid("Group by currently only support groups of columns following their declared order in the PRIMARY KEY")
    };
    for selector in &stmt.group_by {
        let def = match selector {
            Selector::Column(id) => existing_column(table, id)?,
            Selector::Function { .. } => {
                return Err(invalid(format!(
                    "Only column names are supported in the GROUP BY clause, got {selector}"
                )))
            }
            _ => {
                return Err(invalid(
                    "Only column names and monotonic scalar functions are supported in the GROUP BY clause.",
                ))
            }
        };
        if !def.kind.is_primary_key() {
            return Err(invalid(format!(
                "Group by is currently only supported on the columns of the PRIMARY KEY, got {}",
                def.name
            )));
        }
        loop {
            let pk = iter.next().ok_or_else(order_error)?;
            if matches!(pk.kind, ColumnKind::Clustering { .. }) {
                clustering_prefix += 1;
            }
            if pk.name == def.name {
                break;
            }
            if !where_clause.is_restricted_by_eq(pk) {
                return Err(order_error());
            }
        }
    }
    if iter
        .peek()
        .is_some_and(|c| matches!(c.kind, ColumnKind::PartitionKey { .. }))
    {
        return Err(invalid(
            "Group by is not supported on only a part of the partition key",
        ));
    }
    if clustering_prefix > 0 && stmt.distinct {
        return Err(invalid(
            "Grouping on clustering columns is not allowed for SELECT DISTINCT queries",
        ));
    }
    Ok(Mode::GroupBy(clustering_prefix))
}

/// Binds `LIMIT` / `PER PARTITION LIMIT` (`None`: no limit).
fn bind_limit(
    term: Option<&ast::Term>,
    name: &str,
    b: &Binder<'_>,
) -> Result<Option<u32>, QueryError> {
    let Some(term) = term else {
        return Ok(None);
    };
    match b.eval(term, name, &CqlType::Int)? {
        TermValue::Null => Err(invalid("Invalid null value of limit")),
        TermValue::Unset => Ok(None),
        TermValue::Value(v) => {
            let arr: [u8; 4] = v
                .as_ref()
                .try_into()
                .map_err(|_| invalid("Invalid limit value"))?;
            let n = i32::from_be_bytes(arr);
            if n <= 0 {
                return Err(invalid("LIMIT must be strictly positive"));
            }
            Ok(Some(n as u32))
        }
    }
}

/// Executes a `SELECT`.
pub fn execute(
    node: &Node,
    session: &Session,
    statement: &SelectStatement,
    values: &BoundValues,
    options: &ExecOptions,
) -> Result<QueryResult, QueryError> {
    if options.consistency == Consistency::Any {
        return Err(invalid("ANY ConsistencyLevel is only supported for writes"));
    }
    let schema = node.schema();
    let table = resolve_table(&schema, session, &statement.table)?;
    let binder = Binder {
        keyspace: &table.keyspace,
        table: &table.name,
        ctx: TermContext {
            schema: &schema,
            keyspace: &table.keyspace,
            values,
            options,
        },
    };
    let analyzed = analyze(&schema, &table, statement, &mut TermMode::Bind(&binder))?;
    let limit = bind_limit(statement.limit.as_ref(), "[limit]", &binder)?;
    let per_partition_limit = bind_limit(
        statement.per_partition_limit.as_ref(),
        "[per_partition_limit]",
        &binder,
    )?;
    let bound = analyzed.where_clause.bind(&table, &binder)?;
    let source = crate::virtual_tables::source(node, &schema, &table, options.consistency)?;
    let plan = ReadPlan {
        table: &table,
        selection: &analyzed.selection,
        mode: analyzed.mode,
        distinct: statement.distinct,
        reversed: analyzed.reversed,
        static_rows: analyzed.static_rows,
        post_order: analyzed.post_order.clone(),
        limit,
        per_partition_limit,
    };
    let rows = executor::run(&plan, &bound, source.as_ref(), options)?;
    Ok(QueryResult::Rows(rows))
}

/// Prepares a `SELECT`: the bind markers (with Cassandra's names: `k`, `in(k)`,
/// `partition key token`, `[limit]`, `[per_partition_limit]`...), the partition key marker
/// indexes and the result columns.
pub fn prepare(
    node: &Node,
    session: &Session,
    statement: &SelectStatement,
) -> Result<PreparedInfo, QueryError> {
    let schema = node.schema();
    let table = resolve_table(&schema, session, &statement.table)?;
    let mut receivers: Vec<(usize, Receiver)> = Vec::new();
    let analyzed = analyze(
        &schema,
        &table,
        statement,
        &mut TermMode::Collect(&mut receivers),
    )?;
    analyzed
        .where_clause
        .collect_receivers(&table, &mut receivers)?;
    for (term, name) in [
        (statement.limit.as_ref(), "[limit]"),
        (
            statement.per_partition_limit.as_ref(),
            "[per_partition_limit]",
        ),
    ] {
        if let Some(term) = term {
            terms::collect_bind_receivers(
                term,
                &Receiver::new(&table.keyspace, &table.name, name, CqlType::Int),
                &mut receivers,
            )?;
        }
    }
    receivers.sort_by_key(|(i, _)| *i);
    let mut bind_columns: Vec<ResultColumn> = Vec::with_capacity(receivers.len());
    for (i, r) in &receivers {
        if *i != bind_columns.len() {
            // Several receivers for one marker cannot happen in a SELECT; a gap would be a bug.
            return Err(QueryError::server(format!(
                "bind marker {i} of a SELECT has no single receiver"
            )));
        }
        bind_columns.push(ResultColumn::new(
            &r.keyspace,
            &r.table,
            r.name.clone(),
            r.ty.clone(),
        ));
    }
    let mut pk_indexes = Vec::new();
    for c in table.partition_key_columns() {
        let index = receivers
            .iter()
            .rev()
            .find(|(_, r)| r.name == c.name && r.ty == c.ty)
            .and_then(|(i, _)| u16::try_from(*i).ok());
        match index {
            Some(i) => pk_indexes.push(i),
            None => {
                pk_indexes.clear();
                break;
            }
        }
    }
    Ok(PreparedInfo {
        bind_columns,
        pk_indexes,
        result_columns: analyzed.selection.output_columns(),
    })
}
