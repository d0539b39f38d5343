//! Schema statements: `CREATE` / `ALTER` / `DROP` of keyspaces, tables and user-defined
//! types, `USE` and `TRUNCATE`; secondary indexes and materialized views are refused.
//!
//! Each statement is translated from the parser's AST into the schema crate's validated DDL
//! (`meridian_schema::ddl`, which follows Cassandra 5.0's checks and messages), applied with
//! [`Node::update_schema`] (serialised node-wide and persisted before it is published), and
//! answered like Cassandra: a `SCHEMA_CHANGE` result plus the matching event for a change,
//! `Void` for an `IF [NOT] EXISTS` no-op.
//!
//! Storage follows the schema: every non-virtual table of the schema has a storage table
//! with the same id. Invariants kept here:
//! - a new table's storage is created *before* the schema naming it is persisted, so a
//!   published table always has storage; if persisting fails, the new storage is removed;
//! - data is removed (`DROP TABLE`, `DROP KEYSPACE`) only *after* the schema without the
//!   table is persisted, so a failed schema write never loses data;
//! - option changes (compaction, `gc_grace_seconds`, the clustering order of a table whose
//!   clustering columns use an altered user type) reach storage after the schema is
//!   persisted; the compaction options are validated by storage before anything changes.
//!
//! Types written in statements are resolved here ([`resolve_type`]) against the statement
//! keyspace's user types.

use std::collections::{BTreeMap, BTreeSet};

use meridian_cql_parser::ast;
use meridian_cql_protocol::{Event, SchemaChange, SchemaChangeTarget, SchemaChangeType};
use meridian_schema::ddl::{ChangeTarget, ChangeType};
use meridian_schema::{
    AlterKeyspace, AlterTableOp, AlterTypeOp, ClusterTopology, ColumnDef, CreateKeyspace,
    CreateTable, CreateType, DdlOutcome, KeyspaceSchema, OptionValue, Schema, SchemaChangeEvent,
    TableMetadata, UserType,
};
use meridian_storage::compaction_strategy::CompactionStrategyConfig;
use meridian_storage::{StorageError, TableOptions};
use meridian_types::cql_type::CqlType;
use meridian_types::model::{ClusteringOrder, TableId};

use crate::context::{ExecOptions, Node, Session};
use crate::error::QueryError;
use crate::result::QueryResult;

/// Cassandra's message when an unqualified name is used without a current keyspace.
pub const NO_KEYSPACE_MESSAGE: &str =
    "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename";

/// Cassandra 5.0's message when a statement uses column masks (dynamic data masking is
/// disabled by default and Meridian does not implement it).
pub const MASKING_DISABLED_MESSAGE: &str = "Cannot mask columns because dynamic data masking is not enabled. You can enable it with the dynamic_data_masking_enabled property on cassandra.yaml";

/// Cassandra 5.0's message for `CREATE MATERIALIZED VIEW` with views disabled (its default).
pub const VIEWS_DISABLED_MESSAGE: &str =
    "Materialized views are disabled. Enable in cassandra.yaml to use.";

/// The refusal of `CREATE INDEX`.
pub const INDEXES_UNSUPPORTED_MESSAGE: &str = "Secondary indexes are not supported yet";

/// The refusal of counter tables.
pub const COUNTERS_UNSUPPORTED_MESSAGE: &str = "counter tables are not supported yet";

/// Executes a schema statement, `USE` or `TRUNCATE`.
///
/// `options` carries the request parameters; schema statements take their timestamps from
/// the node's clock (as Cassandra's `ClientState.getTimestamp()`), so they do not use it.
pub fn execute(
    node: &Node,
    session: &Session,
    statement: &ast::Statement,
    options: &ExecOptions,
) -> Result<QueryResult, QueryError> {
    let _ = options;
    use ast::Statement as S;
    match statement {
        S::Use(s) => use_keyspace(node, session, s),
        S::Truncate(s) => truncate(node, session, s),
        S::CreateKeyspace(s) => create_keyspace(node, s),
        S::AlterKeyspace(s) => alter_keyspace(node, s),
        S::DropKeyspace(s) => {
            let name = s.name.as_str();
            apply_change(node, |schema| Ok(schema.drop_keyspace(name, s.if_exists)?))
        }
        S::CreateTable(s) => create_table(node, session, s),
        S::AlterTable(s) => alter_table(node, session, s),
        S::DropTable(s) => {
            let keyspace = keyspace_of(&s.name, session)?;
            let table = s.name.name.as_str();
            apply_change(node, |schema| {
                Ok(schema.drop_table(&keyspace, table, s.if_exists)?)
            })
        }
        S::CreateType(s) => create_type(node, session, s),
        S::AlterType(s) => alter_type(node, session, s),
        S::DropType(s) => {
            let keyspace = keyspace_of(&s.name, session)?;
            let name = s.name.name.as_str();
            apply_change(node, |schema| {
                Ok(schema.drop_type(&keyspace, name, s.if_exists)?)
            })
        }
        S::CreateIndex(_) => Err(QueryError::invalid(INDEXES_UNSUPPORTED_MESSAGE)),
        S::DropIndex(s) => {
            // No index can exist: Cassandra's behaviour for a missing index (including the
            // stray quote of its message).
            let keyspace = keyspace_of(&s.name, session)?;
            if s.if_exists {
                return Ok(QueryResult::Void);
            }
            Err(QueryError::invalid(format!(
                "Index '{keyspace}.{}' doesn't exist'",
                s.name.name.as_str()
            )))
        }
        S::CreateMaterializedView(_) => Err(QueryError::invalid(VIEWS_DISABLED_MESSAGE)),
        S::AlterMaterializedView(ast::AlterMaterializedViewStatement {
            if_exists, name, ..
        })
        | S::DropMaterializedView(ast::DropMaterializedViewStatement { if_exists, name }) => {
            // No view can exist: Cassandra's behaviour for a missing view.
            let keyspace = keyspace_of(name, session)?;
            if *if_exists {
                return Ok(QueryResult::Void);
            }
            Err(QueryError::invalid(format!(
                "Materialized view '{keyspace}.{}' doesn't exist",
                name.name.as_str()
            )))
        }
        other => Err(QueryError::server(format!(
            "{} is not a schema statement",
            other.kind_name()
        ))),
    }
}

/// The storage options of a table: its id, names, clustering comparator,
/// `gc_grace_seconds` and compaction strategy (validated by storage: an unusable
/// `compaction` map is a configuration error).
pub fn storage_table_options(table: &TableMetadata) -> Result<TableOptions, QueryError> {
    let mut options = TableOptions::new(
        table.id,
        table.keyspace.clone(),
        table.name.clone(),
        table.clustering_comparator(),
    );
    options.gc_grace_seconds = table.params.gc_grace_seconds;
    options.compaction = CompactionStrategyConfig::from_cql_options(&table.params.compaction)
        .map_err(|e| QueryError::Config(e.to_string()))?;
    Ok(options)
}

/// The storage options of every non-virtual table of `schema` (what the engine opens with).
pub fn storage_tables(schema: &Schema) -> Result<Vec<TableOptions>, QueryError> {
    stored_tables(schema).map(storage_table_options).collect()
}

/// Makes storage match the current schema: creates the storage table of every non-virtual
/// table that has none and brings the options of the others up to date. The node calls it
/// at start, after opening the engine.
pub fn sync_storage_tables(node: &Node) -> Result<(), QueryError> {
    let schema = node.schema();
    let existing: BTreeSet<TableId> = node.engine.table_ids().into_iter().collect();
    for table in stored_tables(&schema) {
        let options = storage_table_options(table)?;
        if existing.contains(&table.id) {
            node.engine.alter_table(options)?;
        } else {
            match node.engine.create_table(options) {
                Ok(()) | Err(StorageError::TableExists(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// Resolves a type written in a schema statement on `keyspace` (Cassandra's
/// `CQL3Type.Raw.prepare`): user types must belong to `keyspace`; tuple and vector
/// components are frozen; `frozen<…>` of a tuple or vector is the tuple or vector itself.
/// Nesting rules for collections (no non-frozen collections inside collections, no counters
/// or durations where Cassandra refuses them) are checked by the schema's DDL.
pub fn resolve_type(
    ty: &ast::CqlType,
    keyspace: &str,
    schema: &Schema,
) -> Result<CqlType, QueryError> {
    let types = schema.keyspace(keyspace).map(|ks| &ks.types);
    resolve(ty, keyspace, types)
}

// ---------------------------------------------------------------------------------------
// Applying schema changes
// ---------------------------------------------------------------------------------------

/// Non-virtual tables (the ones with storage).
fn stored_tables(schema: &Schema) -> impl Iterator<Item = &TableMetadata> {
    schema
        .keyspaces()
        .values()
        .flat_map(|ks| ks.tables.values())
        .filter(|t| !t.is_virtual)
}

/// What storage must do after a schema change.
#[derive(Default)]
struct StoragePlan {
    create: Vec<TableOptions>,
    alter: Vec<TableOptions>,
    drop: Vec<TableId>,
}

/// Compares the stored tables of two schemas (only keyspaces that differ are looked at).
fn plan_storage(before: &Schema, after: &Schema) -> Result<StoragePlan, QueryError> {
    let mut plan = StoragePlan::default();
    let names: BTreeSet<&String> = before
        .keyspaces()
        .keys()
        .chain(after.keyspaces().keys())
        .collect();
    for name in names {
        let old = before.keyspace(name);
        let new = after.keyspace(name);
        if old == new {
            continue;
        }
        let old_tables = stored_by_id(old);
        let new_tables = stored_by_id(new);
        for (id, table) in &new_tables {
            let options = storage_table_options(table)?;
            match old_tables.get(id) {
                None => plan.create.push(options),
                Some(previous) => {
                    if storage_table_options(previous).ok().as_ref() != Some(&options) {
                        plan.alter.push(options);
                    }
                }
            }
        }
        plan.drop
            .extend(old_tables.keys().filter(|id| !new_tables.contains_key(id)));
    }
    Ok(plan)
}

/// The non-virtual tables of a keyspace by id.
fn stored_by_id(ks: Option<&KeyspaceSchema>) -> BTreeMap<TableId, &TableMetadata> {
    ks.map(|ks| {
        ks.tables
            .values()
            .filter(|t| !t.is_virtual)
            .map(|t| (t.id, t))
            .collect()
    })
    .unwrap_or_default()
}

/// Applies a schema change: runs `change` on a copy of the schema under the node's DDL
/// lock, creates the storage of new tables, persists and publishes the schema, then alters
/// and drops storage tables, publishes the `SCHEMA_CHANGE` event and returns it (or `Void`
/// when nothing changed).
fn apply_change(
    node: &Node,
    change: impl FnOnce(&mut Schema) -> Result<DdlOutcome, QueryError>,
) -> Result<QueryResult, QueryError> {
    let applied = change_with_storage(node, |schema| match change(schema)? {
        DdlOutcome::Applied(event) => Ok(Some(event)),
        _ => Ok(None),
    })?;
    let Some(event) = applied else {
        return Ok(QueryResult::Void);
    };
    let change = schema_change(&event);
    node.publish(Event::SchemaChange(change.clone()));
    Ok(QueryResult::SchemaChange(change))
}

/// Runs `change` on a copy of the schema under the node's DDL lock and keeps storage in
/// step with what it did (local DDL and merges of other nodes' schemas alike): the storage
/// of new tables exists before the schema is persisted and published (and is removed again
/// if that fails); option changes and drops reach storage after. `None` from `change`:
/// nothing to apply.
pub(crate) fn change_with_storage<T>(
    node: &Node,
    change: impl FnOnce(&mut Schema) -> Result<Option<T>, QueryError>,
) -> Result<Option<T>, QueryError> {
    let mut created: Vec<TableId> = Vec::new();
    let result = node.update_schema(|schema| {
        let before = schema.clone();
        let Some(applied) = change(schema)? else {
            return Ok(None);
        };
        let plan = plan_storage(&before, schema)?;
        for options in &plan.create {
            match node.engine.create_table(options.clone()) {
                Ok(()) => created.push(options.id),
                // Storage left over from an earlier attempt with the same id.
                Err(StorageError::TableExists(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Some((applied, plan)))
    });
    let (applied, plan) = match result {
        Ok(Some(applied)) => applied,
        Ok(None) => return Ok(None),
        Err(e) => {
            // The schema was not changed: remove the storage created for it.
            for id in created {
                if let Err(drop_error) = node.engine.drop_table(id) {
                    tracing::error!(table = %id.0, error = %drop_error, "could not remove the storage of a table whose creation failed");
                }
            }
            return Err(e);
        }
    };
    for options in plan.alter {
        let id = options.id;
        if let Err(e) = node.engine.alter_table(options) {
            tracing::error!(table = %id.0, error = %e, "could not apply new table options to storage");
        }
    }
    for id in plan.drop {
        if let Err(e) = node.engine.drop_table(id) {
            tracing::error!(table = %id.0, error = %e, "could not remove the storage of a dropped table");
        }
    }
    Ok(Some(applied))
}

/// The protocol form of a schema change.
pub(crate) fn schema_change(event: &SchemaChangeEvent) -> SchemaChange {
    let change_type = match event.change {
        ChangeType::Created => SchemaChangeType::Created,
        ChangeType::Updated => SchemaChangeType::Updated,
        ChangeType::Dropped => SchemaChangeType::Dropped,
    };
    let keyspace = event.keyspace.clone();
    let name = event.name.clone().unwrap_or_default();
    let target = match event.target {
        ChangeTarget::Keyspace => SchemaChangeTarget::Keyspace { keyspace },
        ChangeTarget::Table => SchemaChangeTarget::Table {
            keyspace,
            table: name,
        },
        ChangeTarget::Type => SchemaChangeTarget::Type {
            keyspace,
            type_name: name,
        },
    };
    SchemaChange {
        change_type,
        target,
    }
}

// ---------------------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------------------

/// The keyspace of a possibly unqualified name: its own, else the session's.
fn keyspace_of(name: &ast::QualifiedName, session: &Session) -> Result<String, QueryError> {
    keyspace_or_session(name.keyspace.as_ref(), session)
}

/// A keyspace written in a statement, else the session's (Cassandra's message without one).
pub(crate) fn keyspace_or_session(
    keyspace: Option<&ast::Identifier>,
    session: &Session,
) -> Result<String, QueryError> {
    match keyspace {
        Some(ks) => Ok(ks.as_str().to_string()),
        None => session
            .keyspace()
            .ok_or_else(|| QueryError::invalid(NO_KEYSPACE_MESSAGE)),
    }
}

/// Cassandra's `QualifiedName.toString()` as the parser saw it (keyspace only if written).
fn written_name(name: &ast::QualifiedName) -> String {
    let table = meridian_schema::cql::quote_identifier(name.name.as_str());
    match &name.keyspace {
        Some(ks) => format!("{}.{table}", ks.as_str()),
        None => table.into_owned(),
    }
}

fn use_keyspace(
    node: &Node,
    session: &Session,
    s: &ast::UseStatement,
) -> Result<QueryResult, QueryError> {
    let keyspace = s.keyspace.as_str();
    if node.schema().keyspace(keyspace).is_none() {
        return Err(QueryError::invalid(format!(
            "Keyspace '{keyspace}' does not exist"
        )));
    }
    session.set_keyspace(keyspace.to_string());
    Ok(QueryResult::SetKeyspace(keyspace.to_string()))
}

fn truncate(
    node: &Node,
    session: &Session,
    s: &ast::TruncateStatement,
) -> Result<QueryResult, QueryError> {
    let keyspace = keyspace_of(&s.table, session)?;
    let name = s.table.name.as_str();
    if name.is_empty() {
        return Err(QueryError::invalid("non-empty table is required"));
    }
    let schema = node.schema();
    let Some(ks) = schema.keyspace(&keyspace) else {
        return Err(QueryError::invalid(format!(
            "keyspace {keyspace} does not exist"
        )));
    };
    let Some(table) = ks.tables.get(name) else {
        return Err(QueryError::invalid(format!("table {name} does not exist")));
    };
    if table.is_virtual {
        return Err(QueryError::invalid(format!(
            "Truncation is not supported by table {}",
            table.qualified_name()
        )));
    }
    match node.distributed() {
        None => node
            .engine
            .truncate(table.id)
            .map_err(|e| QueryError::Truncate(format!("Error during truncate: {e}")))?,
        Some(c) => crate::context::block_on(c.truncate(table.id)).map_err(|e| match e {
            e @ meridian_cluster::coordinator::CoordinatorError::Unavailable { .. } => {
                QueryError::from(e)
            }
            other => QueryError::Truncate(format!("Error during truncate: {other}")),
        })?,
    }
    Ok(QueryResult::Void)
}

/// What the node knows of the cluster, for replication options.
fn topology(node: &Node) -> ClusterTopology {
    // In a cluster: every datacenter gossip knows of.
    let mut datacenters = BTreeSet::from([node.info.datacenter.clone()]);
    if let Some(c) = node.coordinator() {
        for m in c.membership().view().members.values() {
            datacenters.insert(m.info.datacenter.clone());
        }
    }
    ClusterTopology {
        datacenters,
        ..ClusterTopology::default()
    }
}

/// `WITH` properties as the schema crate takes them.
fn properties(props: &[ast::Property]) -> Vec<(String, OptionValue)> {
    props
        .iter()
        .map(|p| (p.name.as_str().to_string(), option_value(&p.value)))
        .collect()
}

fn option_value(value: &ast::PropertyValue) -> OptionValue {
    match value {
        ast::PropertyValue::Constant(c) => OptionValue::Text(c.raw_text()),
        ast::PropertyValue::Keyword(k) => OptionValue::Text(k.clone()),
        ast::PropertyValue::Map(entries) => OptionValue::Map(
            entries
                .iter()
                .map(|(k, v)| (k.raw_text(), v.raw_text()))
                .collect(),
        ),
    }
}

fn create_keyspace(
    node: &Node,
    s: &ast::CreateKeyspaceStatement,
) -> Result<QueryResult, QueryError> {
    let stmt = CreateKeyspace {
        name: s.name.as_str().to_string(),
        if_not_exists: s.if_not_exists,
        properties: properties(&s.properties),
    };
    let topology = topology(node);
    apply_change(node, |schema| Ok(schema.create_keyspace(&stmt, &topology)?))
}

fn alter_keyspace(node: &Node, s: &ast::AlterKeyspaceStatement) -> Result<QueryResult, QueryError> {
    let stmt = AlterKeyspace {
        name: s.name.as_str().to_string(),
        if_exists: s.if_exists,
        properties: properties(&s.properties),
    };
    let topology = topology(node);
    apply_change(node, |schema| Ok(schema.alter_keyspace(&stmt, &topology)?))
}

/// A new table id: a time-based UUID, like Cassandra's `TableId.generate()`.
fn new_table_id(node: &Node) -> TableId {
    let host = node.info.host_id.as_bytes();
    let mut node_id = [0u8; 6];
    node_id.copy_from_slice(&host[10..16]);
    TableId(uuid::Uuid::now_v1(&node_id))
}

/// Resolves the types of `columns` (name, type) the way Cassandra prepares them: in the
/// order of the column names' bytes, the first failure reported.
fn resolve_columns<'a>(
    columns: impl Iterator<Item = (&'a str, &'a ast::CqlType)>,
    keyspace: &str,
    schema: &Schema,
    strict: bool,
) -> Result<Vec<CqlType>, QueryError> {
    let columns: Vec<(&str, &ast::CqlType)> = columns.collect();
    let mut order: Vec<usize> = (0..columns.len()).collect();
    order.sort_by(|a, b| columns[*a].0.as_bytes().cmp(columns[*b].0.as_bytes()));
    let mut resolved = vec![CqlType::Blob; columns.len()];
    for i in order {
        match resolve_type(columns[i].1, keyspace, schema) {
            Ok(ty) => resolved[i] = ty,
            Err(e) if strict => return Err(e),
            // The statement fails or does nothing before types matter: any type will do.
            Err(_) => {}
        }
    }
    Ok(resolved)
}

fn create_table(
    node: &Node,
    session: &Session,
    s: &ast::CreateTableStatement,
) -> Result<QueryResult, QueryError> {
    // Checks Cassandra makes while building the statement: its parser adds the columns one
    // by one and refuses a second definition at once, naming the table as written.
    for (i, c) in s.columns.iter().enumerate() {
        if s.columns[..i].iter().any(|o| o.name == c.name) {
            return Err(QueryError::invalid(format!(
                "Duplicate column '{}' declaration for table '{}'",
                c.name.as_str(),
                written_name(&s.name)
            )));
        }
    }
    if s.columns.iter().any(|c| c.mask.is_some()) {
        return Err(QueryError::invalid(MASKING_DISABLED_MESSAGE));
    }
    let inline_keys: Vec<&ast::ColumnDefinition> =
        s.columns.iter().filter(|c| c.primary_key).collect();
    if inline_keys.len() + s.primary_keys.len() > 1 {
        return Err(QueryError::invalid(format!(
            "Multiple PRIMARY KEY specified for table '{}' (exactly one required)",
            written_name(&s.name)
        )));
    }
    let (partition_key, clustering_key): (Vec<String>, Vec<String>) =
        match (inline_keys.first(), s.primary_keys.first()) {
            (Some(column), _) => (vec![column.name.as_str().to_string()], Vec::new()),
            (None, Some(pk)) => (
                pk.partition_key
                    .iter()
                    .map(|c| c.as_str().to_string())
                    .collect(),
                pk.clustering_columns
                    .iter()
                    .map(|c| c.as_str().to_string())
                    .collect(),
            ),
            (None, None) => (Vec::new(), Vec::new()),
        };
    let mut clustering_order: Vec<(String, ClusteringOrder)> = Vec::new();
    let mut table_properties = Vec::new();
    let mut compact_storage = false;
    for option in &s.options {
        match option {
            ast::TableOption::Property(p) => table_properties.push(p.clone()),
            ast::TableOption::CompactStorage => compact_storage = true,
            ast::TableOption::ClusteringOrder(items) => {
                for item in items {
                    let column = item.column.as_str();
                    if clustering_order.iter().any(|(c, _)| c == column) {
                        return Err(QueryError::invalid(format!(
                            "Duplicate column '{column}' in CLUSTERING ORDER BY clause for table '{}'",
                            written_name(&s.name)
                        )));
                    }
                    let order = match item.order {
                        ast::Order::Asc => ClusteringOrder::Asc,
                        ast::Order::Desc => ClusteringOrder::Desc,
                    };
                    clustering_order.push((column.to_string(), order));
                }
            }
        }
    }
    let keyspace = keyspace_of(&s.name, session)?;
    let name = s.name.name.as_str().to_string();
    let generated_id = new_table_id(node);
    apply_change(node, |schema| {
        // Types only matter once the keyspace exists and the table does not.
        let strict =
            schema.keyspace(&keyspace).is_some() && schema.table(&keyspace, &name).is_none();
        let types = resolve_columns(
            s.columns.iter().map(|c| (c.name.as_str(), &c.ty)),
            &keyspace,
            schema,
            strict,
        )?;
        let stmt = CreateTable {
            keyspace: keyspace.clone(),
            name: name.clone(),
            if_not_exists: s.if_not_exists,
            columns: s
                .columns
                .iter()
                .zip(types)
                .map(|(c, ty)| ColumnDef {
                    name: c.name.as_str().to_string(),
                    ty,
                    is_static: c.is_static,
                })
                .collect(),
            partition_key: partition_key.clone(),
            clustering_key: clustering_key.clone(),
            clustering_order: clustering_order.clone(),
            properties: properties(&table_properties),
            compact_storage,
        };
        let outcome = schema.create_table(&stmt, generated_id)?;
        if matches!(outcome, DdlOutcome::Applied(_))
            && schema
                .table(&keyspace, &name)
                .is_some_and(TableMetadata::is_counter)
        {
            return Err(QueryError::invalid(COUNTERS_UNSUPPORTED_MESSAGE));
        }
        Ok(outcome)
    })
}

fn alter_table(
    node: &Node,
    session: &Session,
    s: &ast::AlterTableStatement,
) -> Result<QueryResult, QueryError> {
    let keyspace = keyspace_of(&s.name, session)?;
    let table = s.name.name.as_str();
    let op = match &s.action {
        ast::AlterTableAction::AlterColumnType { column, .. } => AlterTableOp::AlterColumnType {
            column: column.as_str().to_string(),
        },
        ast::AlterTableAction::AlterColumnMask {
            if_exists,
            column,
            mask,
        } => {
            // Creating masks is refused; dropping one is allowed and, since no column can
            // have a mask, changes nothing once the table and column are found.
            if mask.is_some() {
                return Err(QueryError::invalid(MASKING_DISABLED_MESSAGE));
            }
            let column = column.as_str();
            return apply_change(node, |schema| {
                let outcome = schema.alter_table(
                    &keyspace,
                    table,
                    s.if_exists,
                    &AlterTableOp::SetOptions(Vec::new()),
                )?;
                let found = schema
                    .table(&keyspace, table)
                    .map(|t| t.column(column).is_some());
                if found == Some(false) && !if_exists {
                    return Err(QueryError::invalid(format!(
                        "Column with name '{column}' doesn't exist on table '{table}'"
                    )));
                }
                Ok(outcome)
            });
        }
        ast::AlterTableAction::Add {
            if_not_exists,
            columns,
        } => {
            if columns.iter().any(|c| c.mask.is_some()) {
                return Err(QueryError::invalid(MASKING_DISABLED_MESSAGE));
            }
            let if_not_exists = *if_not_exists;
            return apply_change(node, |schema| {
                let strict = schema.table(&keyspace, table).is_some();
                let types = resolve_columns(
                    columns.iter().map(|c| (c.name.as_str(), &c.ty)),
                    &keyspace,
                    schema,
                    strict,
                )?;
                let op = AlterTableOp::AddColumns {
                    if_not_exists,
                    columns: columns
                        .iter()
                        .zip(types)
                        .map(|(c, ty)| ColumnDef {
                            name: c.name.as_str().to_string(),
                            ty,
                            is_static: c.is_static,
                        })
                        .collect(),
                };
                Ok(schema.alter_table(&keyspace, table, s.if_exists, &op)?)
            });
        }
        ast::AlterTableAction::Drop {
            if_exists,
            columns,
            timestamp,
        } => AlterTableOp::DropColumns {
            if_exists: *if_exists,
            columns: columns.iter().map(|c| c.as_str().to_string()).collect(),
            timestamp_micros: timestamp.unwrap_or_else(|| node.next_timestamp_micros()),
        },
        ast::AlterTableAction::Rename { if_exists, renames } => AlterTableOp::RenameColumns {
            if_exists: *if_exists,
            renames: renames
                .iter()
                .map(|(from, to)| (from.as_str().to_string(), to.as_str().to_string()))
                .collect(),
        },
        ast::AlterTableAction::DropCompactStorage => AlterTableOp::DropCompactStorage,
        ast::AlterTableAction::With(props) => AlterTableOp::SetOptions(properties(props)),
    };
    apply_change(node, |schema| {
        Ok(schema.alter_table(&keyspace, table, s.if_exists, &op)?)
    })
}

fn create_type(
    node: &Node,
    session: &Session,
    s: &ast::CreateTypeStatement,
) -> Result<QueryResult, QueryError> {
    let keyspace = keyspace_of(&s.name, session)?;
    let name = s.name.name.as_str();
    apply_change(node, |schema| {
        let strict = schema
            .keyspace(&keyspace)
            .is_some_and(|ks| !ks.types.contains_key(name));
        if strict {
            // Cassandra checks the field names and the written field types before it
            // resolves any type.
            for (i, f) in s.fields.iter().enumerate() {
                if s.fields[..i].iter().any(|o| o.name == f.name) {
                    return Err(QueryError::invalid(format!(
                        "Duplicate field name '{}' in type '{name}'",
                        f.name.as_str()
                    )));
                }
            }
            for f in &s.fields {
                check_written_field_type(&f.ty)?;
            }
        }
        let types = resolve_columns(
            s.fields.iter().map(|f| (f.name.as_str(), &f.ty)),
            &keyspace,
            schema,
            strict,
        )?;
        let stmt = CreateType {
            keyspace: keyspace.clone(),
            name: name.to_string(),
            if_not_exists: s.if_not_exists,
            fields: s
                .fields
                .iter()
                .zip(types)
                .map(|(f, ty)| (f.name.as_str().to_string(), ty))
                .collect(),
        };
        Ok(schema.create_type(&stmt)?)
    })
}

fn alter_type(
    node: &Node,
    session: &Session,
    s: &ast::AlterTypeStatement,
) -> Result<QueryResult, QueryError> {
    let keyspace = keyspace_of(&s.name, session)?;
    let name = s.name.name.as_str();
    apply_change(node, |schema| {
        let op = match &s.action {
            ast::AlterTypeAction::AlterFieldType { field, .. } => AlterTypeOp::AlterFieldType {
                field: field.as_str().to_string(),
            },
            ast::AlterTypeAction::Add {
                if_not_exists,
                field,
            } => {
                let strict = schema.user_type(&keyspace, name).is_some();
                if strict {
                    check_written_field_type(&field.ty)?;
                }
                let ty = resolve_columns(
                    std::iter::once((field.name.as_str(), &field.ty)),
                    &keyspace,
                    schema,
                    strict,
                )?
                .pop()
                .unwrap_or(CqlType::Blob);
                AlterTypeOp::AddField {
                    if_not_exists: *if_not_exists,
                    name: field.name.as_str().to_string(),
                    ty,
                }
            }
            ast::AlterTypeAction::Rename { if_exists, renames } => AlterTypeOp::RenameFields {
                if_exists: *if_exists,
                renames: renames
                    .iter()
                    .map(|(from, to)| (from.as_str().to_string(), to.as_str().to_string()))
                    .collect(),
            },
        };
        Ok(schema.alter_type(&keyspace, name, s.if_exists, &op)?)
    })
}

// ---------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------

/// The checks Cassandra makes on a user type field's type as written, before resolving it:
/// no counter, and no user type that is not frozen (whether or not that type exists).
fn check_written_field_type(ty: &ast::CqlType) -> Result<(), QueryError> {
    match ty {
        ast::CqlType::Native(ast::NativeType::Counter) => {
            Err(QueryError::invalid("A user type cannot contain counters"))
        }
        ast::CqlType::UserDefined(_) => Err(QueryError::invalid(
            "A user type cannot contain non-frozen UDTs",
        )),
        _ => Ok(()),
    }
}

fn native(t: ast::NativeType) -> CqlType {
    use ast::NativeType as N;
    match t {
        N::Ascii => CqlType::Ascii,
        N::Bigint => CqlType::Bigint,
        N::Blob => CqlType::Blob,
        N::Boolean => CqlType::Boolean,
        N::Counter => CqlType::Counter,
        N::Date => CqlType::Date,
        N::Decimal => CqlType::Decimal,
        N::Double => CqlType::Double,
        N::Duration => CqlType::Duration,
        N::Float => CqlType::Float,
        N::Inet => CqlType::Inet,
        N::Int => CqlType::Int,
        N::Smallint => CqlType::Smallint,
        N::Text | N::Varchar => CqlType::Text,
        N::Time => CqlType::Time,
        N::Timestamp => CqlType::Timestamp,
        N::Timeuuid => CqlType::Timeuuid,
        N::Tinyint => CqlType::Tinyint,
        N::Uuid => CqlType::Uuid,
        N::Varint => CqlType::Varint,
    }
}

fn resolve(
    ty: &ast::CqlType,
    keyspace: &str,
    types: Option<&BTreeMap<String, UserType>>,
) -> Result<CqlType, QueryError> {
    let rec = |t: &ast::CqlType| resolve(t, keyspace, types).map(Box::new);
    Ok(match ty {
        ast::CqlType::Native(n) => native(*n),
        ast::CqlType::List(e) => CqlType::List(rec(e)?),
        ast::CqlType::Set(e) => CqlType::Set(rec(e)?),
        ast::CqlType::Map(k, v) => CqlType::Map(rec(k)?, rec(v)?),
        ast::CqlType::Tuple(elements) => {
            let mut resolved = Vec::with_capacity(elements.len());
            for e in elements {
                if matches!(e, ast::CqlType::Native(ast::NativeType::Counter)) {
                    return Err(QueryError::invalid(
                        "Counters are not allowed inside tuples",
                    ));
                }
                resolved.push(resolve(e, keyspace, types)?.freeze());
            }
            CqlType::Tuple(resolved)
        }
        ast::CqlType::Vector(e, dimension) => {
            let dimension = u32::try_from(*dimension)
                .ok()
                .filter(|d| *d > 0)
                .ok_or_else(|| {
                    QueryError::invalid(format!(
                        "vectors may only have positive dimensions; given {dimension}"
                    ))
                })?;
            CqlType::Vector(Box::new(resolve(e, keyspace, types)?.freeze()), dimension)
        }
        ast::CqlType::Frozen(inner) => {
            if matches!(**inner, ast::CqlType::Native(_) | ast::CqlType::Custom(_)) {
                return Err(QueryError::Syntax(format!(
                    "frozen<> is only allowed on collections, tuples, and user-defined types (got {inner})"
                )));
            }
            resolve(inner, keyspace, types)?.freeze()
        }
        ast::CqlType::UserDefined(name) => {
            if let Some(ks) = &name.keyspace {
                if ks.as_str() != keyspace {
                    return Err(QueryError::invalid(format!(
                        "Statement on keyspace {keyspace} cannot refer to a user type in keyspace {}; user types can only be used in the keyspace they are defined in",
                        ks.as_str()
                    )));
                }
            }
            let type_name = name.name.as_str();
            match types.and_then(|t| t.get(type_name)) {
                Some(u) => CqlType::Udt(u.to_udt_type()),
                None => {
                    return Err(QueryError::invalid(format!(
                        "Unknown type {keyspace}.{type_name}"
                    )))
                }
            }
        }
        ast::CqlType::Custom(class) => {
            return Err(QueryError::invalid(format!(
                "Custom types are not supported (got '{class}')"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use meridian_cql_parser::parse_statement;

    fn ty(text: &str) -> ast::CqlType {
        let stmt = parse_statement(&format!("CREATE TABLE t (k {text} PRIMARY KEY)"))
            .expect("type parses");
        match stmt {
            ast::Statement::CreateTable(t) => t.columns[0].ty.clone(),
            other => panic!("not a table: {other:?}"),
        }
    }

    fn schema_with_type() -> Schema {
        let mut schema = Schema::default();
        schema
            .create_keyspace(
                &CreateKeyspace {
                    name: "ks".into(),
                    if_not_exists: false,
                    properties: vec![(
                        "replication".into(),
                        OptionValue::Map(vec![
                            ("class".into(), "SimpleStrategy".into()),
                            ("replication_factor".into(), "1".into()),
                        ]),
                    )],
                },
                &ClusterTopology::default(),
            )
            .expect("keyspace");
        schema
            .create_type(&CreateType {
                keyspace: "ks".into(),
                name: "addr".into(),
                if_not_exists: false,
                fields: vec![("street".into(), CqlType::Text)],
            })
            .expect("type");
        schema
    }

    #[test]
    fn types_resolve_like_cassandra() {
        let schema = schema_with_type();
        let r = |t: &str| resolve_type(&ty(t), "ks", &schema);
        assert_eq!(r("varchar"), Ok(CqlType::Text));
        assert_eq!(
            r("map<text, frozen<list<int>>>"),
            Ok(CqlType::Map(
                Box::new(CqlType::Text),
                Box::new(CqlType::Frozen(Box::new(CqlType::List(Box::new(
                    CqlType::Int
                )))))
            ))
        );
        let udt = schema.user_type("ks", "addr").expect("udt").to_udt_type();
        assert_eq!(r("addr"), Ok(CqlType::Udt(udt.clone())));
        assert_eq!(
            r("frozen<ks.addr>"),
            Ok(CqlType::Frozen(Box::new(CqlType::Udt(udt.clone()))))
        );
        // Tuple components are frozen; frozen<tuple> is the tuple.
        assert_eq!(
            r("frozen<tuple<int, addr>>"),
            Ok(CqlType::Tuple(vec![
                CqlType::Int,
                CqlType::Frozen(Box::new(CqlType::Udt(udt)))
            ]))
        );
        assert_eq!(
            r("frozen<frozen<set<int>>>"),
            Ok(CqlType::Frozen(Box::new(CqlType::Set(Box::new(
                CqlType::Int
            )))))
        );
        assert_eq!(
            r("vector<float, 3>"),
            Ok(CqlType::Vector(Box::new(CqlType::Float), 3))
        );
    }

    #[test]
    fn type_errors_follow_cassandra() {
        let schema = schema_with_type();
        let r = |t: &str| resolve_type(&ty(t), "ks", &schema).unwrap_err().to_string();
        assert_eq!(r("nope"), "Unknown type ks.nope");
        assert_eq!(
            r("other.addr"),
            "Statement on keyspace ks cannot refer to a user type in keyspace other; user types can only be used in the keyspace they are defined in"
        );
        assert_eq!(
            r("tuple<int, counter>"),
            "Counters are not allowed inside tuples"
        );
        assert_eq!(
            r("vector<float, 0>"),
            "vectors may only have positive dimensions; given 0"
        );
        assert!(r("'org.apache.cassandra.db.marshal.BytesType'").starts_with("Custom types"));
        // Hand-built trees the parser would refuse.
        let frozen_int = ast::CqlType::Frozen(Box::new(ast::CqlType::Native(ast::NativeType::Int)));
        assert_eq!(
            resolve_type(&frozen_int, "ks", &schema),
            Err(QueryError::Syntax(
                "frozen<> is only allowed on collections, tuples, and user-defined types (got int)"
                    .into()
            ))
        );
        // Without the keyspace, user types are unknown.
        assert_eq!(
            resolve_type(&ty("addr"), "missing", &schema)
                .unwrap_err()
                .to_string(),
            "Unknown type missing.addr"
        );
    }

    #[test]
    fn schema_changes_map_to_protocol_changes() {
        let event = SchemaChangeEvent {
            change: ChangeType::Updated,
            target: ChangeTarget::Type,
            keyspace: "ks".into(),
            name: Some("addr".into()),
        };
        assert_eq!(
            schema_change(&event),
            SchemaChange {
                change_type: SchemaChangeType::Updated,
                target: SchemaChangeTarget::Type {
                    keyspace: "ks".into(),
                    type_name: "addr".into()
                }
            }
        );
    }

    #[test]
    fn written_names_quote_like_cassandra() {
        let name = ast::QualifiedName {
            keyspace: Some(ast::Identifier::new("ks")),
            name: ast::Identifier::new("MyTable"),
        };
        assert_eq!(written_name(&name), "ks.\"MyTable\"");
        assert_eq!(
            written_name(&ast::QualifiedName::unqualified(ast::Identifier::new("t"))),
            "t"
        );
    }
}
