//! The write path: `INSERT`, `UPDATE`, `DELETE`, `BATCH` and their conditional
//! (lightweight-transaction) forms, with Cassandra 5.0's semantics and messages.
//!
//! A statement is first analyzed against the schema (`analysis`: the checks Cassandra makes
//! when preparing, in its order), then bound to its values (`apply`, `restrictions`:
//! partition keys, clusterings or slices, timestamp, TTL, operation values), then turned into
//! storage updates: rows with their primary-key liveness (`INSERT` only), cells, cell and
//! collection tombstones, row, range and partition tombstones. Everything one statement or
//! one batch writes becomes **one** [`Mutation`](meridian_types::model::Mutation) with one
//! partition update per partition, applied atomically by the storage engine (one commit-log
//! record).
//!
//! Conditional statements (`cas`) serialise per partition with
//! [`Node::partition_lock`]: read the current rows, evaluate the conditions, write only if
//! they hold, and answer with a `[applied]` row (plus the current values when not applied).
//!
//! Timestamps: `USING TIMESTAMP`, else the client's default timestamp
//! ([`ExecOptions::timestamp_micros`]), else [`Node::next_timestamp_micros`]; a batch shares
//! one timestamp (its own `USING TIMESTAMP` or the default) among statements without theirs.
//!
//! Deviations from Cassandra: counter updates (`c = c + 1`) are refused (counters are not
//! implemented yet); writes to the system keyspaces, whose tables Meridian computes, are
//! refused; a conditional batch using `IN` on the partition key is an `InvalidRequest`
//! (Cassandra fails it with a server error); a list operation by index or value in a
//! conditional batch reads its own row (Cassandra reuses the condition read, which only
//! covers the rows with conditions).

mod analysis;
mod apply;
mod cas;
mod restrictions;
mod values;

use std::sync::OnceLock;

use meridian_cql_parser::ast;
use meridian_cql_parser::Statement;
use meridian_cql_protocol::{Consistency, Value};
use meridian_schema::{ColumnMetadata, Schema, TableMetadata};
use meridian_types::cql_type::CqlType;
use meridian_types::token::PartitionKey;

use crate::context::{BoundValues, ExecOptions, Node, Session};
use crate::error::QueryError;
use crate::result::{PreparedInfo, QueryResult, ResultColumn};
use crate::terms::{self, Receiver, TermContext};
use meridian_cluster::coordinator::WriteType;

use analysis::{Analyzed, Conditions, Dml, Kind};
use apply::{Bound, Collector, Params, Prefetched};
use cas::{CasRequest, RowRef};
use restrictions::ClusteringTarget;
use values::ListPathGenerator;

/// A batch to execute: from a `BEGIN BATCH ... APPLY BATCH` statement
/// ([`BatchInput::from_statement`]) or from a protocol `BATCH` message (a mix of query
/// strings and prepared statements, each with its own values).
#[derive(Clone, Debug)]
pub struct BatchInput {
    /// `LOGGED`, `UNLOGGED` or `COUNTER` (logged and unlogged batches behave the same on a
    /// single node: the batch is one atomic mutation either way).
    pub kind: ast::BatchKind,
    /// The batch-level `USING TIMESTAMP` of a `BATCH` statement text, in microseconds: the
    /// timestamp of every statement without its own. (A protocol batch's default timestamp
    /// travels in [`ExecOptions::timestamp_micros`] instead.)
    pub timestamp: Option<i64>,
    /// The statements (`INSERT`, `UPDATE` or `DELETE`), each with its bound values.
    pub statements: Vec<(Statement, BoundValues)>,
}

impl BatchInput {
    /// The batch of a `BATCH` statement: its statements share `values` (markers are numbered
    /// across the whole batch); its `USING TIMESTAMP` is evaluated here.
    pub fn from_statement(
        batch: &ast::BatchStatement,
        values: &BoundValues,
    ) -> Result<BatchInput, QueryError> {
        use ast::UsingAttributes;
        if batch.using.ttl().is_some() {
            return Err(QueryError::invalid(
                "Global TTL on the BATCH statement is not supported.",
            ));
        }
        let timestamp = match batch.using.timestamp() {
            None => None,
            Some(t) => batch_timestamp(t, values)?,
        };
        let statements = batch
            .statements
            .iter()
            .map(|s| (modification_statement(s), values.clone()))
            .collect();
        Ok(BatchInput {
            kind: batch.kind,
            timestamp,
            statements,
        })
    }
}

fn modification_statement(s: &ast::ModificationStatement) -> Statement {
    match s {
        ast::ModificationStatement::Insert(i) => Statement::Insert(i.clone()),
        ast::ModificationStatement::Update(u) => Statement::Update(u.clone()),
        ast::ModificationStatement::Delete(d) => Statement::Delete(d.clone()),
    }
}

fn modification_dml(s: &ast::ModificationStatement) -> Dml<'_> {
    match s {
        ast::ModificationStatement::Insert(i) => Dml::Insert(i),
        ast::ModificationStatement::Update(u) => Dml::Update(u),
        ast::ModificationStatement::Delete(d) => Dml::Delete(d),
    }
}

/// A batch's `USING TIMESTAMP` (an integer literal or a marker): `None` when unset.
fn batch_timestamp(term: &ast::Term, values: &BoundValues) -> Result<Option<i64>, QueryError> {
    match term {
        ast::Term::Constant(ast::Constant::Integer(text)) => text
            .parse::<i64>()
            .map(Some)
            .map_err(|_| QueryError::invalid(format!("Invalid timestamp value: {text}"))),
        ast::Term::BindMarker(m) => match values.get(m.index)? {
            Value::Unset => Ok(None),
            Value::Null => Err(QueryError::invalid("Invalid null value of timestamp")),
            Value::Bytes(b) => <[u8; 8]>::try_from(&b[..])
                .map(|a| Some(i64::from_be_bytes(a)))
                .map_err(|_| {
                    QueryError::invalid(format!(
                        "Invalid timestamp value: {} bytes instead of 8",
                        b.len()
                    ))
                }),
        },
        other => Err(QueryError::invalid(format!(
            "Invalid timestamp value: {other}"
        ))),
    }
}

/// The process-wide generator of list element paths.
fn list_paths(node: &Node) -> &'static ListPathGenerator {
    static PATHS: OnceLock<ListPathGenerator> = OnceLock::new();
    PATHS.get_or_init(|| ListPathGenerator::new(&node.info.host_id))
}

fn params<'g>(
    bound: &Bound<'_>,
    options: &ExecOptions,
    paths: &'g ListPathGenerator,
) -> Params<'g> {
    Params {
        timestamp_micros: bound.timestamp_micros,
        ttl_secs: bound.ttl_secs,
        now_secs: options.now_secs(),
        now_micros: options.now_micros,
        paths,
    }
}

fn default_timestamp(node: &Node, options: &ExecOptions) -> i64 {
    options
        .timestamp_micros
        .unwrap_or_else(|| node.next_timestamp_micros())
}

fn term_context<'a>(
    schema: &'a Schema,
    table: &'a TableMetadata,
    values: &'a BoundValues,
    options: &'a ExecOptions,
) -> TermContext<'a> {
    TermContext {
        schema,
        keyspace: &table.keyspace,
        values,
        options,
    }
}

/// Executes an `INSERT`, `UPDATE` or `DELETE` (conditional or not).
pub fn execute(
    node: &Node,
    session: &Session,
    statement: &Statement,
    values: &BoundValues,
    options: &ExecOptions,
) -> Result<QueryResult, QueryError> {
    let dml = match statement {
        Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => Dml::of(statement)?,
        other => {
            return Err(QueryError::server(format!(
                "{} is not a modification statement",
                other.kind_name()
            )))
        }
    };
    let schema = node.schema();
    let keyspace = session.keyspace();
    let analyzed = analysis::analyze(&schema, keyspace.as_deref(), dml)?;
    let ctx = term_context(&schema, analyzed.table, values, options);
    if !analyzed.conditions.is_empty() {
        return execute_conditional(node, &[(&analyzed, &ctx)], None, options, false);
    }
    validate_write_consistency(options, analyzed.requires_read())?;
    let bound = apply::bind(&analyzed, &ctx, default_timestamp(node, options))?;
    let mut collector = Collector::new();
    let mut prefetched = Prefetched::default();
    apply::prefetch(
        node,
        &bound,
        options.now_secs(),
        &mut prefetched,
        options.consistency,
    )?;
    apply::add_updates(
        &bound,
        &mut collector,
        &prefetched,
        &params(&bound, options, list_paths(node)),
    )?;
    apply_collector(node, collector, options, WriteType::Simple)?;
    Ok(QueryResult::Void)
}

fn apply_collector(
    node: &Node,
    collector: Collector,
    options: &ExecOptions,
    write_type: WriteType,
) -> Result<(), QueryError> {
    let mutation = collector.into_mutation();
    if !mutation.updates.is_empty() {
        node.write(mutation, options.consistency, write_type)?;
    }
    Ok(())
}

/// Executes a batch: every statement's writes merged into one mutation, applied atomically;
/// with conditions, all statements must be on one partition and are applied only if all
/// conditions hold.
pub fn execute_batch(
    node: &Node,
    session: &Session,
    batch: BatchInput,
    options: &ExecOptions,
) -> Result<QueryResult, QueryError> {
    let schema = node.schema();
    let keyspace = session.keyspace();
    let mut analyzed: Vec<Analyzed<'_>> = Vec::with_capacity(batch.statements.len());
    for (statement, _) in &batch.statements {
        analyzed.push(analysis::analyze(
            &schema,
            keyspace.as_deref(),
            Dml::of(statement)?,
        )?);
    }
    validate_batch(&batch, &analyzed)?;
    let contexts: Vec<TermContext<'_>> = analyzed
        .iter()
        .zip(&batch.statements)
        .map(|(a, (_, values))| term_context(&schema, a.table, values, options))
        .collect();
    let pairs: Vec<(&Analyzed<'_>, &TermContext<'_>)> =
        analyzed.iter().zip(contexts.iter()).collect();
    let default_ts = batch
        .timestamp
        .unwrap_or_else(|| default_timestamp(node, options));
    if analyzed.iter().any(|a| !a.conditions.is_empty()) {
        return execute_conditional(node, &pairs, Some(default_ts), options, true);
    }
    validate_write_consistency(options, analyzed.iter().any(Analyzed::requires_read))?;
    let mut bounds = Vec::with_capacity(pairs.len());
    for (a, ctx) in &pairs {
        bounds.push(apply::bind(a, ctx, default_ts)?);
    }
    let mut prefetched: Vec<Prefetched> = Vec::with_capacity(bounds.len());
    for b in &bounds {
        let mut p = Prefetched::default();
        apply::prefetch(node, b, options.now_secs(), &mut p, options.consistency)?;
        prefetched.push(p);
    }
    let mut collector = Collector::new();
    for (b, p) in bounds.iter().zip(&prefetched) {
        apply::add_updates(b, &mut collector, p, &params(b, options, list_paths(node)))?;
    }
    let write_type = if batch.kind == ast::BatchKind::Logged {
        WriteType::Batch
    } else {
        WriteType::UnloggedBatch
    };
    apply_collector(node, collector, options, write_type)?;
    Ok(QueryResult::Void)
}

/// Cassandra's `BatchStatement.validate`.
fn validate_batch(batch: &BatchInput, analyzed: &[Analyzed<'_>]) -> Result<(), QueryError> {
    let has_conditions = analyzed.iter().any(|a| !a.conditions.is_empty());
    if batch.timestamp.is_some() {
        if has_conditions {
            return Err(QueryError::invalid(
                "Cannot provide custom timestamp for conditional BATCH",
            ));
        }
        if batch.kind == ast::BatchKind::Counter {
            return Err(QueryError::invalid(
                "Cannot provide custom timestamp for counter BATCH",
            ));
        }
    }
    let mut has_counters = false;
    let mut has_non_counters = false;
    for a in analyzed {
        if batch.timestamp.is_some() && a.timestamp.is_some() {
            return Err(QueryError::invalid(
                "Timestamp must be set either on BATCH or individual statements",
            ));
        }
        if a.table.is_counter() {
            has_counters = true;
        } else {
            has_non_counters = true;
        }
    }
    if batch.timestamp.is_some() && has_counters {
        return Err(QueryError::invalid(
            "Cannot provide custom timestamp for a BATCH containing counters",
        ));
    }
    if batch.kind == ast::BatchKind::Counter && has_non_counters {
        return Err(QueryError::invalid(
            "Cannot include non-counter statement in a counter batch",
        ));
    }
    if has_counters && has_non_counters {
        return Err(QueryError::invalid(
            "Counter and non-counter mutations cannot exist in the same batch",
        ));
    }
    if batch.kind == ast::BatchKind::Logged && has_counters {
        return Err(QueryError::invalid(
            "Cannot include a counter statement in a logged batch",
        ));
    }
    if has_conditions {
        if let Some(first) = analyzed.first() {
            if analyzed.iter().any(|a| a.table.id != first.table.id) {
                return Err(QueryError::invalid(
                    "Batch with conditions cannot span multiple tables",
                ));
            }
        }
    }
    Ok(())
}

/// Cassandra's `ConsistencyLevel.validateForWrite` (and, for statements reading lists
/// first, `validateForRead`).
fn validate_write_consistency(
    options: &ExecOptions,
    requires_read: bool,
) -> Result<(), QueryError> {
    if options.consistency.is_serial() {
        return Err(QueryError::invalid(
            "You must use conditional updates for serializable writes",
        ));
    }
    if requires_read && options.consistency == Consistency::Any {
        return Err(QueryError::invalid(
            "Write operation require a read but consistency ANY is not supported on reads",
        ));
    }
    Ok(())
}

/// Cassandra's `validateForCas` (serial consistency, `SERIAL` when absent) and
/// `validateForCasCommit` (the commit consistency).
fn validate_cas_consistency(options: &ExecOptions) -> Result<(), QueryError> {
    if !options
        .serial_consistency
        .unwrap_or(Consistency::Serial)
        .is_serial()
    {
        return Err(QueryError::invalid(
            "Invalid consistency for conditional update. Must be one of SERIAL or LOCAL_SERIAL",
        ));
    }
    if options.consistency.is_serial() {
        return Err(QueryError::invalid(format!(
            "{} is not supported as conditional update commit consistency. Use ANY if you mean \"make sure it is accepted but I don't care how many replicas commit it for non-SERIAL reads\"",
            options.consistency.name()
        )));
    }
    Ok(())
}

fn conditional_word(kind: Kind) -> &'static str {
    if kind == Kind::Delete {
        "deletions"
    } else {
        "updates"
    }
}

/// Until Paxos exists, a conditional statement is linearizable only when this node is the
/// partition's only replica: anything else is refused rather than silently racy.
fn check_cas_placement(
    node: &Node,
    table: &meridian_schema::TableMetadata,
    token: meridian_types::token::Token,
) -> Result<(), QueryError> {
    let Some(coordinator) = node.distributed() else {
        return Ok(());
    };
    let Some(placement) = crate::placement::placement_of(&node.schema(), table.id) else {
        return Ok(());
    };
    let replicas = coordinator.topology().replicas(&placement, token);
    if replicas.len() == 1 && replicas[0] == coordinator.local() {
        return Ok(());
    }
    Err(QueryError::invalid(format!(
        "Conditional statements (lightweight transactions) on keyspace {} are not supported yet in a \
         multi-node cluster: the partition has {} replica(s){}, and Meridian does not implement \
         Paxos yet, so the condition could not be checked atomically",
        table.keyspace,
        replicas.len(),
        if replicas.contains(&coordinator.local()) { "" } else { " on other nodes" }
    )))
}

/// Executes conditional statements (one, or a batch) on one partition.
fn execute_conditional(
    node: &Node,
    statements: &[(&Analyzed<'_>, &TermContext<'_>)],
    batch_timestamp: Option<i64>,
    options: &ExecOptions,
    is_batch: bool,
) -> Result<QueryResult, QueryError> {
    let default_ts = batch_timestamp.unwrap_or_else(|| default_timestamp(node, options));
    let Some((first, _)) = statements.first() else {
        return Ok(QueryResult::Void);
    };
    let table = first.table;
    let mut request: Option<CasRequest<'_>> = None;
    let mut condition_columns: Option<Vec<&ColumnMetadata>> = Some(Vec::new());
    let mut bounds: Vec<Bound<'_>> = Vec::with_capacity(statements.len());
    for (analyzed, ctx) in statements {
        if analyzed.restrictions.key_has_in() {
            return Err(QueryError::invalid(if is_batch {
                "Batch with conditions cannot span multiple partitions (you cannot use IN on the partition key)".to_string()
            } else {
                format!(
                    "IN on the partition key is not supported with conditional {}",
                    conditional_word(analyzed.kind)
                )
            }));
        }
        let bound = apply::bind(analyzed, ctx, default_ts)?;
        let Some(key) = bound.keys.first().cloned() else {
            return Err(QueryError::server(
                "conditional statement without a partition key",
            ));
        };
        match &request {
            None => request = Some(CasRequest::new(table, key)),
            Some(r) if *r.key() != key => {
                return Err(QueryError::invalid(
                    "Batch with conditions cannot span multiple partitions",
                ))
            }
            Some(_) => {}
        }
        if analyzed.restrictions.clustering_has_in() {
            return Err(QueryError::invalid(format!(
                "IN on the clustering key columns is not supported with conditional {}",
                conditional_word(analyzed.kind)
            )));
        }
        let Some(req) = request.as_mut() else {
            return Err(QueryError::server("conditional request missing"));
        };
        let row = match &bound.target {
            ClusteringTarget::Slices(_) => None,
            ClusteringTarget::Rows(rows) => rows.first().cloned().map(RowRef::Row),
            ClusteringTarget::Unrestricted if analyzed.applies_only_to_static() => {
                Some(RowRef::Static)
            }
            ClusteringTarget::Unrestricted => {
                Some(RowRef::Row(meridian_types::model::Clustering::EMPTY))
            }
        };
        if let Some(row) = &row {
            req.add_statement_conditions(analyzed, row, ctx)?;
        }
        match &analyzed.conditions {
            Conditions::None => {}
            Conditions::IfExists | Conditions::IfNotExists => condition_columns = None,
            Conditions::Columns(_) => {
                if let (Some(cols), Some(new)) =
                    (condition_columns.as_mut(), analyzed.conditions.columns())
                {
                    for c in new {
                        if !cols.iter().any(|o| o.id == c.id) {
                            cols.push(c);
                        }
                    }
                }
            }
        }
        req.add_statement_columns(analyzed);
        bounds.push(bound);
    }
    let Some(mut request) = request else {
        return Ok(QueryResult::Void);
    };
    validate_cas_consistency(options)?;
    let token = PartitionKey::new(request.key().clone()).token();
    check_cas_placement(node, table, token)?;
    let _guard = node.partition_lock(&table.id.0, token).lock();
    let current = request.read(node, options.now_secs())?;
    if !request.applies_to(&current)? {
        let result = request.failure_result(&current, condition_columns.as_deref(), is_batch)?;
        return Ok(QueryResult::Rows(result));
    }
    let mut collector = Collector::new();
    for b in &bounds {
        let mut p = Prefetched::default();
        apply::prefetch(node, b, options.now_secs(), &mut p, options.consistency)?;
        apply::add_updates(b, &mut collector, &p, &params(b, options, list_paths(node)))?;
    }
    apply_collector(node, collector, options, WriteType::Cas)?;
    Ok(QueryResult::Rows(cas::applied_result(table)))
}

/// Receivers of the markers of an analyzed statement: `(index, receiver, partition key
/// position when the marker binds that column directly)`.
fn statement_receivers(
    analyzed: &Analyzed<'_>,
    out: &mut Vec<(usize, Receiver, Option<usize>)>,
) -> Result<(), QueryError> {
    let table = analyzed.table;
    let mut plain: Vec<(usize, Receiver)> = Vec::new();
    if let Some(t) = analyzed.timestamp {
        let r = analysis::named_receiver(table, "[timestamp]".to_string(), CqlType::Bigint);
        terms::collect_bind_receivers(t, &r, &mut plain)?;
    }
    if let Some(t) = analyzed.ttl {
        let r = analysis::named_receiver(table, "[ttl]".to_string(), CqlType::Int);
        terms::collect_bind_receivers(t, &r, &mut plain)?;
    }
    if let Some(json) = &analyzed.json {
        if let ast::JsonValue::Marker(m) = json.value {
            plain.push((
                m.index,
                analysis::named_receiver(table, "[json]".to_string(), CqlType::Text),
            ));
        }
    }
    if let Conditions::Columns(cs) = &analyzed.conditions {
        for c in cs {
            cas::collect_receivers(table, c, &mut plain)?;
        }
    }
    for op in &analyzed.ops {
        for (t, r) in apply::op_terms(table, op)? {
            terms::collect_bind_receivers(t, &r, &mut plain)?;
        }
    }
    out.extend(plain.into_iter().map(|(i, r)| (i, r, None)));
    restrictions::collect_receivers(table, &analyzed.restrictions, out)
}

/// Prepares an `INSERT`, `UPDATE`, `DELETE` or `BATCH`: the bind markers' receivers in
/// marker order (named markers carry their name), the partition key indexes drivers route
/// with, and no result metadata (Cassandra returns none for modification statements, even
/// conditional ones).
pub fn prepare(
    node: &Node,
    session: &Session,
    statement: &Statement,
) -> Result<PreparedInfo, QueryError> {
    let schema = node.schema();
    let keyspace = session.keyspace();
    let mut receivers: Vec<(usize, Receiver, Option<usize>)> = Vec::new();
    let mut pk_table: Option<&TableMetadata> = None;
    match statement {
        Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => {
            let analyzed = analysis::analyze(&schema, keyspace.as_deref(), Dml::of(statement)?)?;
            statement_receivers(&analyzed, &mut receivers)?;
            pk_table = Some(analyzed.table);
        }
        Statement::Batch(batch) => {
            use ast::UsingAttributes;
            if batch.using.ttl().is_some() {
                return Err(QueryError::invalid(
                    "Global TTL on the BATCH statement is not supported.",
                ));
            }
            if let Some(t) = batch.using.timestamp() {
                let r = Receiver::new("[batch]", "[batch]", "[timestamp]", CqlType::Bigint);
                let mut plain = Vec::new();
                terms::collect_bind_receivers(t, &r, &mut plain)?;
                receivers.extend(plain.into_iter().map(|(i, r)| (i, r, None)));
            }
            let mut tables: Vec<&TableMetadata> = Vec::new();
            for s in &batch.statements {
                let analyzed =
                    analysis::analyze(&schema, keyspace.as_deref(), modification_dml(s))?;
                let mut own = Vec::new();
                statement_receivers(&analyzed, &mut own)?;
                // Only markers of the first table's statements may give routing indexes.
                receivers.extend(own);
                tables.push(analyzed.table);
            }
            if let Some(first) = tables.first() {
                if tables.iter().all(|t| t.id == first.id) {
                    pk_table = Some(first);
                }
            }
        }
        other => {
            return Err(QueryError::server(format!(
                "{} is not a modification statement",
                other.kind_name()
            )))
        }
    }
    let markers = statement.bind_markers();
    let mut bind_columns = Vec::with_capacity(markers.len());
    for (i, marker) in markers.iter().enumerate() {
        let Some((_, r, _)) = receivers.iter().find(|(idx, _, _)| *idx == i) else {
            return Err(QueryError::server(format!(
                "no receiver found for bind marker {i}"
            )));
        };
        let name = marker
            .name
            .as_ref()
            .map(|n| n.as_str().to_string())
            .unwrap_or_else(|| r.name.clone());
        bind_columns.push(ResultColumn::new(&r.keyspace, &r.table, name, r.ty.clone()));
    }
    let pk_indexes = match pk_table {
        Some(table) => partition_key_indexes(table, &receivers),
        None => Vec::new(),
    };
    Ok(PreparedInfo {
        bind_columns,
        pk_indexes,
        result_columns: Vec::new(),
    })
}

/// For each partition key column, the last marker bound to it directly; empty unless every
/// partition key column has one (Cassandra's `getPartitionKeyBindVariableIndexes`).
fn partition_key_indexes(
    table: &TableMetadata,
    receivers: &[(usize, Receiver, Option<usize>)],
) -> Vec<u16> {
    let n = table.partition_key_columns().len();
    let mut out: Vec<Option<u16>> = vec![None; n];
    let mut sorted: Vec<&(usize, Receiver, Option<usize>)> = receivers.iter().collect();
    sorted.sort_by_key(|(i, _, _)| *i);
    for (i, r, pk) in sorted {
        if let Some(p) = pk {
            if r.table == table.name && r.keyspace == table.keyspace {
                if let (Some(slot), Ok(i)) = (out.get_mut(*p), u16::try_from(*i)) {
                    *slot = Some(i);
                }
            }
        }
    }
    out.into_iter()
        .collect::<Option<Vec<u16>>>()
        .unwrap_or_default()
}
