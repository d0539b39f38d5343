//! Schema changes: `CREATE` / `ALTER` / `DROP` of keyspaces, tables and user-defined types as
//! validated mutations of a [`Schema`], following Cassandra 5.0's statement classes (checks
//! in the same order, same messages, same error classes, same `IF [NOT] EXISTS` behaviour).
//!
//! Every method either leaves the schema unchanged and returns an error, or applies the whole
//! change and returns a [`DdlOutcome`]: [`DdlOutcome::Applied`] with the `SCHEMA_CHANGE`
//! event to send, or [`DdlOutcome::Unchanged`] when nothing changed (an `IF [NOT] EXISTS`
//! no-op, or options set to their current values), which Cassandra answers with a `Void`
//! result.
//!
//! Types in these statements are already resolved [`CqlType`]s (see [`Schema::parse_type`]);
//! table ids are supplied by the caller (this crate does no I/O and draws no random numbers).
//!
//! Every applied change is stamped with the schema clock ([`Schema::observe_time`]): the
//! changed keyspace, table (options, columns, key names) or type records the time, and drops
//! leave tombstones, so that schemas changed on different nodes merge (see [`crate::merge`]).
//! Added columns get ids derived from their definition ([`crate::merge`] explains why), not
//! the next free number.

use std::collections::{BTreeMap, BTreeSet};

use meridian_types::cql_type::CqlType;
use meridian_types::model::{ClusteringOrder, ColumnId, TableId};

use crate::cql::{parse_property_boolean, qualified_name, quote_identifier, type_to_cql};
use crate::error::SchemaError;
use crate::keyspace::{
    expand_user_types, replace_udt, type_references, KeyspaceMetadata, KeyspaceSchema, UserType,
};
use crate::merge::{
    added_column_id, DroppedColumnId, HiddenKeyspace, HiddenType, KeyspaceTombstone, TableStamps,
    TableTombstone, TypeTombstone,
};
use crate::params::{check_property_names, OptionValue, OptionsMode, TableParams};
use crate::persist::check_table_invariants;
use crate::replication::{Replication, ReplicationContext};
use crate::schema::Schema;
use crate::system::{
    is_local_system_keyspace, is_replicated_system_keyspace, is_virtual_keyspace, SYSTEM_AUTH,
};
use crate::table::{ColumnKind, ColumnMetadata, DroppedColumn, TableMetadata};

/// Longest keyspace name Cassandra accepts (`SchemaConstants.NAME_LENGTH`).
pub const MAX_NAME_LENGTH: usize = 48;

/// Longest table name Cassandra 5.0 accepts (`SchemaConstants.TABLE_NAME_LENGTH`): a table's
/// directory is `<table>-<32 hex digits of its id>`, which must fit the 255-byte file name
/// limit of common file systems (Meridian's storage names table directories the same way).
pub const MAX_TABLE_NAME_LENGTH: usize = 255 - 33;

/// What a `SCHEMA_CHANGE` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeType {
    /// `CREATED`.
    Created,
    /// `UPDATED`.
    Updated,
    /// `DROPPED`.
    Dropped,
}

impl ChangeType {
    /// The protocol string.
    pub fn as_str(&self) -> &'static str {
        match self {
            ChangeType::Created => "CREATED",
            ChangeType::Updated => "UPDATED",
            ChangeType::Dropped => "DROPPED",
        }
    }
}

/// The kind of element a `SCHEMA_CHANGE` is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeTarget {
    /// `KEYSPACE`.
    Keyspace,
    /// `TABLE`.
    Table,
    /// `TYPE`.
    Type,
}

impl ChangeTarget {
    /// The protocol string.
    pub fn as_str(&self) -> &'static str {
        match self {
            ChangeTarget::Keyspace => "KEYSPACE",
            ChangeTarget::Table => "TABLE",
            ChangeTarget::Type => "TYPE",
        }
    }
}

/// The `SCHEMA_CHANGE` result / event of an applied change.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SchemaChangeEvent {
    /// What happened.
    pub change: ChangeType,
    /// To what kind of element.
    pub target: ChangeTarget,
    /// The keyspace.
    pub keyspace: String,
    /// The table or type name (`None` for keyspace changes).
    pub name: Option<String>,
}

/// The result of a schema change.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DdlOutcome {
    /// The schema changed; announce this event.
    Applied(SchemaChangeEvent),
    /// Nothing changed (`IF [NOT] EXISTS` no-op or identical options): answer `Void`.
    Unchanged,
}

/// What the cluster topology contributes to replication parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterTopology {
    /// Datacenters with known nodes (empty: unknown, names are not checked).
    pub datacenters: BTreeSet<String>,
    /// `default_keyspace_rf` (Cassandra's default: 1).
    pub default_keyspace_rf: u32,
}

impl Default for ClusterTopology {
    fn default() -> Self {
        ClusterTopology {
            datacenters: BTreeSet::new(),
            default_keyspace_rf: 1,
        }
    }
}

/// `CREATE KEYSPACE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateKeyspace {
    /// Keyspace name.
    pub name: String,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// `WITH` properties (`replication`, `durable_writes`).
    pub properties: Vec<(String, OptionValue)>,
}

/// `ALTER KEYSPACE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlterKeyspace {
    /// Keyspace name.
    pub name: String,
    /// `IF EXISTS`.
    pub if_exists: bool,
    /// `WITH` properties.
    pub properties: Vec<(String, OptionValue)>,
}

/// A column of `CREATE TABLE` or `ALTER TABLE … ADD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnDef {
    /// Column name.
    pub name: String,
    /// Resolved type.
    pub ty: CqlType,
    /// `STATIC`.
    pub is_static: bool,
}

/// `CREATE TABLE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateTable {
    /// Keyspace name.
    pub keyspace: String,
    /// Table name.
    pub name: String,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// Column definitions in statement order.
    pub columns: Vec<ColumnDef>,
    /// Partition key column names in order (empty: no `PRIMARY KEY` given).
    pub partition_key: Vec<String>,
    /// Clustering column names in order.
    pub clustering_key: Vec<String>,
    /// `CLUSTERING ORDER BY` entries in statement order.
    pub clustering_order: Vec<(String, ClusteringOrder)>,
    /// `WITH` properties.
    pub properties: Vec<(String, OptionValue)>,
    /// `WITH COMPACT STORAGE` (refused since Cassandra 4.0).
    pub compact_storage: bool,
}

/// What `ALTER TABLE` does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlterTableOp {
    /// `ADD [IF NOT EXISTS] …`.
    AddColumns {
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// The new columns.
        columns: Vec<ColumnDef>,
    },
    /// `DROP [IF EXISTS] … [USING TIMESTAMP t]`.
    DropColumns {
        /// `IF EXISTS`.
        if_exists: bool,
        /// The columns.
        columns: Vec<String>,
        /// `USING TIMESTAMP`, or the statement's time, in microseconds.
        timestamp_micros: i64,
    },
    /// `RENAME [IF EXISTS] a TO b AND …`.
    RenameColumns {
        /// `IF EXISTS`.
        if_exists: bool,
        /// `(from, to)` pairs.
        renames: Vec<(String, String)>,
    },
    /// `ALTER c TYPE t` (no longer supported).
    AlterColumnType {
        /// The column.
        column: String,
    },
    /// `WITH …`.
    SetOptions(Vec<(String, OptionValue)>),
    /// `DROP COMPACT STORAGE`.
    DropCompactStorage,
}

/// `CREATE TYPE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateType {
    /// Keyspace name.
    pub keyspace: String,
    /// Type name.
    pub name: String,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// Fields in order, with resolved types.
    pub fields: Vec<(String, CqlType)>,
}

/// What `ALTER TYPE` does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlterTypeOp {
    /// `ADD [IF NOT EXISTS] f t`.
    AddField {
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// Field name.
        name: String,
        /// Resolved field type.
        ty: CqlType,
    },
    /// `RENAME [IF EXISTS] a TO b AND …`.
    RenameFields {
        /// `IF EXISTS`.
        if_exists: bool,
        /// `(from, to)` pairs.
        renames: Vec<(String, String)>,
    },
    /// `ALTER f TYPE t` (no longer supported).
    AlterFieldType {
        /// The field.
        field: String,
    },
}

/// The permission a statement needs (for Cassandra's system keyspace protection, checked
/// during authorization).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Permission {
    Create,
    Alter,
    Drop,
}

impl Permission {
    fn as_str(self) -> &'static str {
        match self {
            Permission::Create => "CREATE",
            Permission::Alter => "ALTER",
            Permission::Drop => "DROP",
        }
    }
}

/// Cassandra's `ClientState.preventSystemKSSchemaModification` and protected auth tables.
fn authorize(keyspace: &str, table: Option<&str>, perm: Permission) -> Result<(), SchemaError> {
    if is_local_system_keyspace(keyspace) || is_virtual_keyspace(keyspace) {
        return Err(SchemaError::unauthorized(format!(
            "{keyspace} keyspace is not user-modifiable."
        )));
    }
    if is_replicated_system_keyspace(keyspace) {
        let resource = match table {
            Some(t) => format!("<table {keyspace}.{t}>"),
            None => format!("<keyspace {keyspace}>"),
        };
        if perm != Permission::Alter {
            return Err(SchemaError::unauthorized(format!(
                "Cannot {} {resource}",
                perm.as_str()
            )));
        }
        if table.is_some() && keyspace.eq_ignore_ascii_case(SYSTEM_AUTH) {
            return Err(SchemaError::unauthorized(format!(
                "{resource} schema is protected"
            )));
        }
    }
    Ok(())
}

/// Non-empty, and only ASCII letters, digits and underscores.
pub fn has_valid_name_characters(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The checks of `AlterSchemaStatement.execute` before a statement is applied.
/// The virtual system keyspaces (`system_views`, `system_virtual_schema`) count as system
/// keyspaces here (Cassandra 5.0.9: "System keyspace 'system_views' is not user-modifiable").
pub fn check_modifiable(schema: &Schema, keyspace: &str) -> Result<(), SchemaError> {
    if is_local_system_keyspace(keyspace) || is_virtual_keyspace(keyspace) {
        return Err(SchemaError::invalid(format!(
            "System keyspace '{keyspace}' is not user-modifiable"
        )));
    }
    if schema
        .keyspace(keyspace)
        .is_some_and(KeyspaceSchema::is_virtual)
    {
        return Err(SchemaError::invalid(format!(
            "Virtual keyspace '{keyspace}' is not user-modifiable"
        )));
    }
    // Cassandra 5.0's `KeyspaceMetadata.validate` wording: the characters first, then the length.
    if !has_valid_name_characters(keyspace) {
        return Err(SchemaError::invalid(format!(
            "Keyspace name must not be empty and must contain alphanumeric or underscore characters only (got \"{keyspace}\")"
        )));
    }
    if keyspace.len() > MAX_NAME_LENGTH {
        return Err(SchemaError::invalid(format!(
            "Keyspace name must not be more than {MAX_NAME_LENGTH} characters long (got {} characters for \"{keyspace}\")",
            keyspace.len()
        )));
    }
    Ok(())
}

fn applied(
    change: ChangeType,
    target: ChangeTarget,
    keyspace: &str,
    name: Option<&str>,
) -> DdlOutcome {
    DdlOutcome::Applied(SchemaChangeEvent {
        change,
        target,
        keyspace: keyspace.to_string(),
        name: name.map(str::to_string),
    })
}

/// Keyspace properties: `(replication map if given, durable_writes if given)`.
type KeyspaceProperties = (Option<BTreeMap<String, String>>, Option<bool>);

/// Cassandra's `KeyspaceAttributes.validate` and getters.
fn keyspace_properties(
    properties: &[(String, OptionValue)],
) -> Result<KeyspaceProperties, SchemaError> {
    check_property_names(properties, &["replication", "durable_writes"])?;
    let mut replication = None;
    let mut durable_writes = None;
    for (name, value) in properties {
        match (name.as_str(), value) {
            ("replication", OptionValue::Map(entries)) => {
                let map: BTreeMap<String, String> = entries.iter().cloned().collect();
                if !map.is_empty() && !map.contains_key("class") {
                    return Err(SchemaError::config("Missing replication strategy class"));
                }
                replication = Some(map);
            }
            ("replication", OptionValue::Text(_)) => {
                return Err(SchemaError::syntax(
                    "Invalid value for property 'replication'. It should be a map.",
                ))
            }
            ("durable_writes", OptionValue::Text(v)) => {
                durable_writes = Some(parse_property_boolean(v).ok_or_else(|| {
                    SchemaError::syntax(format!(
                        "Invalid boolean value {v} for 'durable_writes'. Positive values can be '1', 'true' or 'yes'. Negative values can be '0', 'false' or 'no'."
                    ))
                })?);
            }
            ("durable_writes", OptionValue::Map(_)) => {
                return Err(SchemaError::syntax(
                    "Invalid value for property 'durable_writes'. It should be a string",
                ))
            }
            (other, _) => return Err(SchemaError::syntax(format!("Unknown property '{other}'"))),
        }
    }
    Ok((replication, durable_writes))
}

/// Checks a column or field type the way Cassandra's type preparation does: no non-frozen
/// collections or UDTs inside collections, no counters inside collections, no durations in
/// set elements or map keys.
fn validate_nested_type(ty: &CqlType) -> Result<(), SchemaError> {
    fn inner(ty: &CqlType, in_frozen: bool) -> Result<(), SchemaError> {
        let check_element = |outer: &CqlType, e: &CqlType| -> Result<(), SchemaError> {
            if !in_frozen && e.is_multi_cell() {
                let what = if e.is_collection() {
                    "collections"
                } else {
                    "UDTs"
                };
                return Err(SchemaError::invalid(format!(
                    "Non-frozen {what} are not allowed inside collections: {}",
                    type_to_cql(outer)
                )));
            }
            if e.is_counter() {
                return Err(SchemaError::invalid(format!(
                    "Counters are not allowed inside collections: {}",
                    type_to_cql(outer)
                )));
            }
            Ok(())
        };
        match ty {
            CqlType::Frozen(t) => inner(t, true),
            CqlType::List(e) => {
                check_element(ty, e)?;
                inner(e, in_frozen)
            }
            CqlType::Set(e) => {
                check_element(ty, e)?;
                if e.references_duration() {
                    return Err(SchemaError::invalid(format!(
                        "Durations are not allowed inside sets: {}",
                        type_to_cql(ty)
                    )));
                }
                inner(e, in_frozen)
            }
            CqlType::Map(k, v) => {
                check_element(ty, k)?;
                check_element(ty, v)?;
                if k.references_duration() {
                    return Err(SchemaError::invalid(format!(
                        "Durations are not allowed as map keys: {}",
                        type_to_cql(ty)
                    )));
                }
                inner(k, in_frozen)?;
                inner(v, in_frozen)
            }
            CqlType::Tuple(ts) => ts.iter().try_for_each(|t| inner(t, true)),
            CqlType::Vector(e, _) => inner(e, true),
            // UDT field types were validated when the type was created.
            _ => Ok(()),
        }
    }
    inner(ty, false)
}

/// Column-level checks shared by `CREATE TABLE` and `ALTER TABLE … ADD`.
fn validate_column_type(column: &str, ty: &CqlType, for_add: bool) -> Result<(), SchemaError> {
    validate_nested_type(ty)?;
    if let CqlType::Udt(u) = ty {
        if u.fields.iter().any(|(_, f)| f.is_multi_cell()) {
            return Err(SchemaError::invalid(if for_add {
                format!("Non-frozen UDTs with nested non-frozen collections are not supported for column {column}")
            } else {
                "Non-frozen UDTs with nested non-frozen collections are not supported".to_string()
            }));
        }
    }
    Ok(())
}

/// Cassandra's `TableMetadata.validate` (a `ConfigurationException` on failure).
/// `is_counter` is the table's counter flag, fixed when the table was created (derived from
/// its columns before the statement).
fn validate_table(t: &TableMetadata, is_counter: bool) -> Result<(), SchemaError> {
    // Cassandra 5.0's `TableMetadata.validate` wording, prefixed with `keyspace.table: `.
    if !has_valid_name_characters(&t.name) {
        return Err(SchemaError::config(format!(
            "{}.{}: Table name must not be empty or not contain non-alphanumeric-underscore characters (got \"{}\")",
            t.keyspace, t.name, t.name
        )));
    }
    if t.name.len() > MAX_TABLE_NAME_LENGTH {
        return Err(SchemaError::config(format!(
            "{}.{}: Table name must not be more than {MAX_TABLE_NAME_LENGTH} characters long (got {} characters for \"{}\")",
            t.keyspace,
            t.name,
            t.name.len(),
            t.name
        )));
    }
    t.params.validate()?;
    if t.partition_key_columns().iter().any(|c| c.ty.is_counter()) {
        return Err(SchemaError::config(
            "PRIMARY KEY columns cannot contain counters",
        ));
    }
    let non_key: Vec<&ColumnMetadata> = t
        .columns
        .iter()
        .filter(|c| !c.kind.is_primary_key())
        .collect();
    if is_counter {
        if let Some(c) = non_key.iter().find(|c| !c.ty.is_counter()) {
            return Err(SchemaError::config(format!(
                "Cannot have a non counter column (\"{}\") in a counter table",
                c.name
            )));
        }
    } else if let Some(c) = non_key.iter().find(|c| c.ty.is_counter()) {
        return Err(SchemaError::config(format!(
            "Cannot have a counter column (\"{}\") in a non counter table",
            c.name
        )));
    }
    check_table_invariants(t).map_err(SchemaError::config)
}

/// Records the stamps of table `name` (no entry for all-zero stamps, the canonical form).
fn set_table_stamps(ks: &mut KeyspaceSchema, name: &str, stamps: TableStamps) {
    if stamps == TableStamps::default() {
        ks.table_stamps.remove(name);
    } else {
        ks.table_stamps.insert(name.to_string(), stamps);
    }
}

/// A type's definition as kept in a tombstone.
fn hidden_type(t: &UserType) -> HiddenType {
    HiddenType {
        fields: t
            .fields
            .iter()
            .map(|(n, ty)| (n.clone(), ty.to_string()))
            .collect(),
        created_micros: t.created_micros,
        timestamp_micros: t.timestamp_micros,
    }
}

impl Schema {
    fn keyspace_mut(&mut self, name: &str) -> Result<&mut KeyspaceSchema, SchemaError> {
        self.keyspaces
            .get_mut(name)
            .ok_or_else(|| SchemaError::KeyspaceNotFound {
                keyspace: name.to_string(),
            })
    }

    fn create_keyspace_impl(
        &mut self,
        stmt: &CreateKeyspace,
        topology: &ClusterTopology,
        at: i64,
    ) -> Result<DdlOutcome, SchemaError> {
        check_modifiable(self, &stmt.name)?;
        let (replication, durable_writes) = keyspace_properties(&stmt.properties)?;
        let replication = replication
            .ok_or_else(|| SchemaError::invalid("Missing mandatory option 'replication'"))?;
        if self.keyspaces.contains_key(&stmt.name) {
            if stmt.if_not_exists {
                return Ok(DdlOutcome::Unchanged);
            }
            return Err(SchemaError::KeyspaceAlreadyExists {
                keyspace: stmt.name.clone(),
            });
        }
        let replication = Replication::from_options(
            &replication,
            &ReplicationContext {
                keyspace: &stmt.name,
                known_datacenters: Some(&topology.datacenters),
                default_keyspace_rf: Some(topology.default_keyspace_rf),
                previous: None,
            },
        )?;
        let mut ks = KeyspaceSchema::new(KeyspaceMetadata {
            name: stmt.name.clone(),
            replication,
            durable_writes: durable_writes.unwrap_or(true),
        });
        ks.created_micros = at;
        ks.timestamp_micros = at;
        self.keyspaces.insert(stmt.name.clone(), ks);
        // A re-created keyspace: its last options are visible again.
        if let Some(t) = self.tombstones.keyspaces.get_mut(&stmt.name) {
            t.hidden = None;
        }
        Ok(applied(
            ChangeType::Created,
            ChangeTarget::Keyspace,
            &stmt.name,
            None,
        ))
    }

    fn alter_keyspace_impl(
        &mut self,
        stmt: &AlterKeyspace,
        topology: &ClusterTopology,
        at: i64,
    ) -> Result<DdlOutcome, SchemaError> {
        authorize(&stmt.name, None, Permission::Alter)?;
        check_modifiable(self, &stmt.name)?;
        let (replication, durable_writes) = keyspace_properties(&stmt.properties)?;
        let Some(current) = self.keyspaces.get(&stmt.name) else {
            if stmt.if_exists {
                return Ok(DdlOutcome::Unchanged);
            }
            return Err(SchemaError::invalid(format!(
                "Keyspace '{}' doesn't exist",
                stmt.name
            )));
        };
        let previous = &current.metadata;
        let new_replication = match replication {
            Some(options) if options.contains_key("class") => Replication::from_options(
                &options,
                &ReplicationContext {
                    keyspace: &stmt.name,
                    known_datacenters: Some(&topology.datacenters),
                    default_keyspace_rf: Some(topology.default_keyspace_rf),
                    previous: Some(&previous.replication),
                },
            )?,
            _ => previous.replication.clone(),
        };
        let metadata = KeyspaceMetadata {
            name: stmt.name.clone(),
            replication: new_replication,
            durable_writes: durable_writes.unwrap_or(previous.durable_writes),
        };
        if &metadata == previous {
            return Ok(DdlOutcome::Unchanged);
        }
        let ks = self.keyspace_mut(&stmt.name)?;
        ks.metadata = metadata;
        ks.timestamp_micros = at;
        Ok(applied(
            ChangeType::Updated,
            ChangeTarget::Keyspace,
            &stmt.name,
            None,
        ))
    }

    fn drop_keyspace_impl(
        &mut self,
        name: &str,
        if_exists: bool,
        at: i64,
    ) -> Result<DdlOutcome, SchemaError> {
        authorize(name, None, Permission::Drop)?;
        check_modifiable(self, name)?;
        if let Some(ks) = self.keyspaces.remove(name) {
            // Types are kept hidden (a table created concurrently may still use them); the
            // tables are gone: the keyspace tombstone covers every one created before it.
            for t in ks.types.values() {
                let tombstone = self
                    .tombstones
                    .types
                    .entry((name.to_string(), t.name.clone()))
                    .or_insert(TypeTombstone {
                        dropped_micros: None,
                        hidden: None,
                    });
                tombstone.hidden = Some(hidden_type(t));
            }
            self.tombstones.keyspaces.insert(
                name.to_string(),
                KeyspaceTombstone {
                    dropped_micros: at,
                    hidden: Some(HiddenKeyspace {
                        metadata: ks.metadata,
                        created_micros: ks.created_micros,
                        timestamp_micros: ks.timestamp_micros,
                    }),
                },
            );
            return Ok(applied(
                ChangeType::Dropped,
                ChangeTarget::Keyspace,
                name,
                None,
            ));
        }
        if if_exists {
            return Ok(DdlOutcome::Unchanged);
        }
        Err(SchemaError::invalid(format!(
            "Keyspace '{name}' doesn't exist"
        )))
    }

    fn create_table_impl(
        &mut self,
        stmt: &CreateTable,
        generated_id: TableId,
        at: i64,
    ) -> Result<DdlOutcome, SchemaError> {
        // Checks Cassandra makes while preparing the statement, before authorization.
        if stmt.compact_storage {
            return Err(SchemaError::invalid(
                "Compact tables are not allowed in Cassandra starting with 4.0 version.",
            ));
        }
        for (i, c) in stmt.columns.iter().enumerate() {
            if stmt.columns[..i].iter().any(|o| o.name == c.name) {
                return Err(SchemaError::invalid(format!(
                    "Multiple definition of identifier {}",
                    c.name
                )));
            }
        }
        if stmt.partition_key.is_empty() {
            return Err(SchemaError::invalid(format!(
                "No PRIMARY KEY specifed for table '{}' (exactly one required)",
                stmt.name
            )));
        }
        authorize(&stmt.keyspace, None, Permission::Create)?;
        check_modifiable(self, &stmt.keyspace)?;
        let Some(keyspace) = self.keyspaces.get(&stmt.keyspace) else {
            return Err(SchemaError::KeyspaceNotFound {
                keyspace: stmt.keyspace.clone(),
            });
        };
        if keyspace.tables.contains_key(&stmt.name) {
            if stmt.if_not_exists {
                return Ok(DdlOutcome::Unchanged);
            }
            return Err(SchemaError::TableAlreadyExists {
                keyspace: stmt.keyspace.clone(),
                table: stmt.name.clone(),
            });
        }
        let table = build_table(stmt, generated_id)?;
        if let Some(other) = self.table_by_id(table.id) {
            return Err(SchemaError::config(format!(
                "Table id {} is already used by table {}",
                table.id.0,
                other.qualified_name()
            )));
        }
        let name = table.name.clone();
        let stamps = TableStamps {
            created_micros: at,
            params_micros: at,
            key_names_micros: at,
            columns: table
                .columns
                .iter()
                .filter(|c| !c.kind.is_primary_key())
                .map(|c| (c.id, at))
                .collect(),
            ..TableStamps::default()
        };
        let ks = self.keyspace_mut(&stmt.keyspace)?;
        ks.tables.insert(name.clone(), table);
        set_table_stamps(ks, &name, stamps);
        Ok(applied(
            ChangeType::Created,
            ChangeTarget::Table,
            &stmt.keyspace,
            Some(&name),
        ))
    }

    fn alter_table_impl(
        &mut self,
        keyspace: &str,
        table: &str,
        if_exists: bool,
        op: &AlterTableOp,
        at: i64,
    ) -> Result<DdlOutcome, SchemaError> {
        authorize(keyspace, Some(table), Permission::Alter)?;
        check_modifiable(self, keyspace)?;
        let Some(current) = self.table(keyspace, table) else {
            if if_exists {
                return Ok(DdlOutcome::Unchanged);
            }
            return Err(SchemaError::TableNotFound {
                keyspace: keyspace.to_string(),
                table: table.to_string(),
            });
        };
        let mut updated = current.clone();
        let mut stamps = self
            .keyspaces
            .get(keyspace)
            .map(|ks| ks.table_stamps_of(table))
            .unwrap_or_default();
        match op {
            AlterTableOp::AlterColumnType { .. } => {
                return Err(SchemaError::invalid(
                    "Altering column types is no longer supported",
                ))
            }
            AlterTableOp::DropCompactStorage => {
                return Err(SchemaError::invalid(
                    "Cannot DROP COMPACT STORAGE on table without COMPACT STORAGE",
                ))
            }
            AlterTableOp::AddColumns {
                if_not_exists,
                columns,
            } => add_columns(&mut updated, &mut stamps, columns, *if_not_exists, at)?,
            AlterTableOp::DropColumns {
                if_exists,
                columns,
                timestamp_micros,
            } => drop_columns(
                &mut updated,
                &mut stamps,
                columns,
                *if_exists,
                *timestamp_micros,
                at,
            )?,
            AlterTableOp::RenameColumns { if_exists, renames } => {
                rename_columns(current, &mut updated, renames, *if_exists)?;
                stamps.key_names_micros = at;
                for c in updated.columns.iter().filter(|c| c.kind.is_primary_key()) {
                    stamps.key_name_history.insert(c.name.clone(), at);
                }
            }
            AlterTableOp::SetOptions(properties) => {
                stamps.params_micros = at;
                updated
                    .params
                    .apply_options(properties, OptionsMode::Alter)?;
                if updated.is_counter() && updated.params.default_time_to_live_secs > 0 {
                    return Err(SchemaError::invalid(
                        "Cannot set default_time_to_live on a table with counters",
                    ));
                }
            }
        }
        updated.sort_columns();
        validate_table(&updated, current.is_counter())?;
        if &updated == current {
            return Ok(DdlOutcome::Unchanged);
        }
        let ks = self.keyspace_mut(keyspace)?;
        ks.tables.insert(table.to_string(), updated);
        set_table_stamps(ks, table, stamps);
        Ok(applied(
            ChangeType::Updated,
            ChangeTarget::Table,
            keyspace,
            Some(table),
        ))
    }

    fn drop_table_impl(
        &mut self,
        keyspace: &str,
        table: &str,
        if_exists: bool,
        at: i64,
    ) -> Result<DdlOutcome, SchemaError> {
        authorize(keyspace, Some(table), Permission::Drop)?;
        check_modifiable(self, keyspace)?;
        let removed = self.keyspaces.get_mut(keyspace).and_then(|ks| {
            ks.table_stamps.remove(table);
            ks.tables.remove(table)
        });
        match removed {
            Some(t) => {
                self.tombstones.tables.insert(
                    (keyspace.to_string(), table.to_string()),
                    TableTombstone {
                        id: t.id,
                        dropped_micros: at,
                    },
                );
                Ok(applied(
                    ChangeType::Dropped,
                    ChangeTarget::Table,
                    keyspace,
                    Some(table),
                ))
            }
            None if if_exists => Ok(DdlOutcome::Unchanged),
            None => Err(SchemaError::TableNotFound {
                keyspace: keyspace.to_string(),
                table: table.to_string(),
            }),
        }
    }

    fn create_type_impl(&mut self, stmt: &CreateType, at: i64) -> Result<DdlOutcome, SchemaError> {
        authorize(&stmt.keyspace, None, Permission::Create)?;
        check_modifiable(self, &stmt.keyspace)?;
        let Some(keyspace) = self.keyspaces.get(&stmt.keyspace) else {
            return Err(SchemaError::KeyspaceNotFound {
                keyspace: stmt.keyspace.clone(),
            });
        };
        if keyspace.types.contains_key(&stmt.name) {
            if stmt.if_not_exists {
                return Ok(DdlOutcome::Unchanged);
            }
            return Err(SchemaError::invalid(format!(
                "A user type with name '{}' already exists",
                stmt.name
            )));
        }
        for (i, (name, _)) in stmt.fields.iter().enumerate() {
            if stmt.fields[..i].iter().any(|(n, _)| n == name) {
                return Err(SchemaError::invalid(format!(
                    "Duplicate field name '{name}' in type '{}'",
                    stmt.name
                )));
            }
        }
        for (_, ty) in &stmt.fields {
            validate_field_type(ty)?;
        }
        let ty = UserType {
            keyspace: stmt.keyspace.clone(),
            name: stmt.name.clone(),
            fields: stmt.fields.clone(),
            created_micros: at,
            timestamp_micros: at,
        };
        self.keyspace_mut(&stmt.keyspace)?
            .types
            .insert(stmt.name.clone(), ty);
        // A re-created type: the old definition is no longer needed.
        let key = (stmt.keyspace.clone(), stmt.name.clone());
        if let Some(t) = self.tombstones.types.get_mut(&key) {
            t.hidden = None;
            if t.dropped_micros.is_none() {
                self.tombstones.types.remove(&key);
            }
        }
        Ok(applied(
            ChangeType::Created,
            ChangeTarget::Type,
            &stmt.keyspace,
            Some(&stmt.name),
        ))
    }

    fn alter_type_impl(
        &mut self,
        keyspace: &str,
        name: &str,
        if_exists: bool,
        op: &AlterTypeOp,
        at: i64,
    ) -> Result<DdlOutcome, SchemaError> {
        authorize(keyspace, None, Permission::Alter)?;
        check_modifiable(self, keyspace)?;
        let Some(ks) = self.keyspaces.get(keyspace) else {
            if if_exists {
                return Ok(DdlOutcome::Unchanged);
            }
            return Err(SchemaError::invalid(format!(
                "Type {keyspace}.{name} doesn't exist"
            )));
        };
        let Some(current) = ks.types.get(name) else {
            if if_exists {
                return Ok(DdlOutcome::Unchanged);
            }
            return Err(SchemaError::invalid(format!(
                "Type {keyspace}.{name} doesn't exist"
            )));
        };
        let cql_name = qualified_name(keyspace, name);
        let mut updated = current.clone();
        match op {
            AlterTypeOp::AlterFieldType { .. } => {
                return Err(SchemaError::invalid(
                    "Altering field types is no longer supported",
                ))
            }
            AlterTypeOp::AddField {
                if_not_exists,
                name: field,
                ty,
            } => {
                validate_field_type(ty)?;
                if current.fields.iter().any(|(n, _)| n == field) {
                    if *if_not_exists {
                        return Ok(DdlOutcome::Unchanged);
                    }
                    return Err(SchemaError::invalid(format!(
                        "Cannot add field {field} to type {cql_name}: a field with name {field} already exists"
                    )));
                }
                if type_references(ty, name) {
                    return Err(SchemaError::invalid(format!(
                        "Cannot add new field {field} of type {} to user type {cql_name} as it would create a circular reference",
                        type_to_cql(ty)
                    )));
                }
                let in_partition_key: Vec<String> = ks
                    .tables
                    .values()
                    .filter(|t| {
                        t.partition_key_columns()
                            .iter()
                            .any(|c| type_references(&c.ty, name))
                    })
                    .map(TableMetadata::qualified_name)
                    .collect();
                if !in_partition_key.is_empty() {
                    return Err(SchemaError::invalid(format!(
                        "Cannot add new field {field} of type {} to user type {cql_name} as the type is being used in partition key by the following tables: {}",
                        type_to_cql(ty),
                        in_partition_key.join(", ")
                    )));
                }
                updated.fields.push((field.clone(), ty.clone()));
            }
            AlterTypeOp::RenameFields { if_exists, renames } => {
                for (from, to) in renames {
                    match current.fields.iter().position(|(n, _)| n == from) {
                        Some(i) => {
                            if let Some(f) = updated.fields.get_mut(i) {
                                f.0 = to.clone();
                            }
                        }
                        None if *if_exists => {}
                        None => {
                            return Err(SchemaError::invalid(format!(
                                "Unkown field {from} in user type {cql_name}"
                            )))
                        }
                    }
                }
                for (i, (field, _)) in updated.fields.iter().enumerate() {
                    if updated.fields[..i].iter().any(|(n, _)| n == field) {
                        // Cassandra prints the keyspace where the type name belongs.
                        return Err(SchemaError::invalid(format!(
                            "Duplicate field name {field} in type {keyspace}"
                        )));
                    }
                }
            }
        }
        if &updated == current {
            return Ok(DdlOutcome::Unchanged);
        }
        updated.timestamp_micros = at;
        let udt = updated.to_udt_type();
        let ks = self.keyspace_mut(keyspace)?;
        for t in ks.types.values_mut() {
            for (_, f) in t.fields.iter_mut() {
                *f = replace_udt(f, &udt);
            }
        }
        for table in ks.tables.values_mut() {
            for c in table.columns.iter_mut() {
                c.ty = replace_udt(&c.ty, &udt);
            }
        }
        ks.types.insert(name.to_string(), updated);
        Ok(applied(
            ChangeType::Updated,
            ChangeTarget::Type,
            keyspace,
            Some(name),
        ))
    }

    fn drop_type_impl(
        &mut self,
        keyspace: &str,
        name: &str,
        if_exists: bool,
        at: i64,
    ) -> Result<DdlOutcome, SchemaError> {
        authorize(keyspace, None, Permission::Drop)?;
        check_modifiable(self, keyspace)?;
        let Some(ks) = self
            .keyspaces
            .get(keyspace)
            .filter(|ks| ks.types.contains_key(name))
        else {
            if if_exists {
                return Ok(DdlOutcome::Unchanged);
            }
            return Err(SchemaError::invalid(format!(
                "Type '{keyspace}.{name}' doesn't exist"
            )));
        };
        let users: Vec<&str> = ks
            .types
            .values()
            .filter(|t| t.name != name && t.references_user_type(name))
            .map(|t| t.name.as_str())
            .collect();
        if !users.is_empty() {
            return Err(SchemaError::invalid(format!(
                "Cannot drop user type '{keyspace}.{name}' as it is still used by user types {}",
                users.join(", ")
            )));
        }
        let tables: Vec<&str> = ks
            .tables
            .values()
            .filter(|t| t.references_user_type(name))
            .map(|t| t.name.as_str())
            .collect();
        if !tables.is_empty() {
            return Err(SchemaError::invalid(format!(
                "Cannot drop user type '{keyspace}.{name}' as it is still used by tables {}",
                tables.join(", ")
            )));
        }
        if let Some(t) = self.keyspace_mut(keyspace)?.types.remove(name) {
            self.tombstones.types.insert(
                (keyspace.to_string(), name.to_string()),
                TypeTombstone {
                    dropped_micros: Some(at),
                    hidden: Some(hidden_type(&t)),
                },
            );
        }
        Ok(applied(
            ChangeType::Dropped,
            ChangeTarget::Type,
            keyspace,
            Some(name),
        ))
    }
}

impl Schema {
    /// `CREATE KEYSPACE`.
    pub fn create_keyspace(
        &mut self,
        stmt: &CreateKeyspace,
        topology: &ClusterTopology,
    ) -> Result<DdlOutcome, SchemaError> {
        let at = self.next_change_micros();
        let mut next = self.clone();
        let outcome = next.create_keyspace_impl(stmt, topology, at);
        self.commit(next, outcome)
    }

    /// `ALTER KEYSPACE` (replicated system keyspaces may be altered, as in Cassandra).
    pub fn alter_keyspace(
        &mut self,
        stmt: &AlterKeyspace,
        topology: &ClusterTopology,
    ) -> Result<DdlOutcome, SchemaError> {
        let at = self.next_change_micros();
        let mut next = self.clone();
        let outcome = next.alter_keyspace_impl(stmt, topology, at);
        self.commit(next, outcome)
    }

    /// `DROP KEYSPACE`.
    pub fn drop_keyspace(
        &mut self,
        name: &str,
        if_exists: bool,
    ) -> Result<DdlOutcome, SchemaError> {
        let at = self.next_change_micros();
        let mut next = self.clone();
        let outcome = next.drop_keyspace_impl(name, if_exists, at);
        self.commit(next, outcome)
    }

    /// `CREATE TABLE`. `generated_id` is used unless the statement gives `WITH id = …`.
    pub fn create_table(
        &mut self,
        stmt: &CreateTable,
        generated_id: TableId,
    ) -> Result<DdlOutcome, SchemaError> {
        let at = self.next_change_micros();
        let mut next = self.clone();
        let outcome = next.create_table_impl(stmt, generated_id, at);
        self.commit(next, outcome)
    }

    /// `ALTER TABLE`.
    pub fn alter_table(
        &mut self,
        keyspace: &str,
        table: &str,
        if_exists: bool,
        op: &AlterTableOp,
    ) -> Result<DdlOutcome, SchemaError> {
        let at = self.next_change_micros();
        let mut next = self.clone();
        let outcome = next.alter_table_impl(keyspace, table, if_exists, op, at);
        self.commit(next, outcome)
    }

    /// `DROP TABLE`.
    pub fn drop_table(
        &mut self,
        keyspace: &str,
        table: &str,
        if_exists: bool,
    ) -> Result<DdlOutcome, SchemaError> {
        let at = self.next_change_micros();
        let mut next = self.clone();
        let outcome = next.drop_table_impl(keyspace, table, if_exists, at);
        self.commit(next, outcome)
    }

    /// `CREATE TYPE`.
    pub fn create_type(&mut self, stmt: &CreateType) -> Result<DdlOutcome, SchemaError> {
        let at = self.next_change_micros();
        let mut next = self.clone();
        let outcome = next.create_type_impl(stmt, at);
        self.commit(next, outcome)
    }

    /// `ALTER TYPE`; the new definition replaces the old one in every table and type of the
    /// keyspace that uses it.
    pub fn alter_type(
        &mut self,
        keyspace: &str,
        name: &str,
        if_exists: bool,
        op: &AlterTypeOp,
    ) -> Result<DdlOutcome, SchemaError> {
        let at = self.next_change_micros();
        let mut next = self.clone();
        let outcome = next.alter_type_impl(keyspace, name, if_exists, op, at);
        self.commit(next, outcome)
    }

    /// `DROP TYPE`; refused while other types or tables use the type.
    pub fn drop_type(
        &mut self,
        keyspace: &str,
        name: &str,
        if_exists: bool,
    ) -> Result<DdlOutcome, SchemaError> {
        let at = self.next_change_micros();
        let mut next = self.clone();
        let outcome = next.drop_type_impl(keyspace, name, if_exists, at);
        self.commit(next, outcome)
    }

    /// Replaces this schema with `next` (a copy the statement changed) if the statement
    /// applied, in the canonical form merging produces (see [`crate::merge`]: for example a
    /// type that was dropped on another node and kept only for a table using it goes with the
    /// table's drop), with the version recomputed. Otherwise nothing changes.
    fn commit(
        &mut self,
        next: Schema,
        outcome: Result<DdlOutcome, SchemaError>,
    ) -> Result<DdlOutcome, SchemaError> {
        let mut next = next;
        let outcome = outcome?;
        if let DdlOutcome::Applied(_) = &outcome {
            if next.may_hide_or_prune() {
                next = next.normalized()?;
            } else {
                next.refresh_version();
            }
            *self = next;
        }
        Ok(outcome)
    }
}

/// Field checks of `CREATE TYPE` / `ALTER TYPE … ADD`.
fn validate_field_type(ty: &CqlType) -> Result<(), SchemaError> {
    if ty.is_counter() {
        return Err(SchemaError::invalid("A user type cannot contain counters"));
    }
    if matches!(ty, CqlType::Udt(_)) {
        return Err(SchemaError::invalid(
            "A user type cannot contain non-frozen UDTs",
        ));
    }
    validate_nested_type(ty)
}

/// `CreateTableStatement.builder` plus `TableMetadata.validate`.
fn build_table(stmt: &CreateTable, generated_id: TableId) -> Result<TableMetadata, SchemaError> {
    let mut params = TableParams::default();
    let id_property = params.apply_options(&stmt.properties, OptionsMode::Create)?;
    let id = match id_property {
        Some(text) => TableId(
            uuid::Uuid::parse_str(&text).map_err(|_| SchemaError::config("Invalid table id"))?,
        ),
        None => generated_id,
    };
    for c in &stmt.columns {
        validate_column_type(&c.name, &c.ty, false)?;
    }
    let find = |name: &str| stmt.columns.iter().find(|c| c.name == name);
    let mut seen = BTreeSet::new();
    for name in stmt.partition_key.iter().chain(&stmt.clustering_key) {
        let Some(column) = find(name) else {
            return Err(SchemaError::invalid(format!(
                "Unknown column '{name}' referenced in PRIMARY KEY for table '{}'",
                stmt.name
            )));
        };
        if !seen.insert(name.as_str()) {
            return Err(SchemaError::invalid(format!(
                "Duplicate column '{name}' in PRIMARY KEY clause for table '{}'",
                stmt.name
            )));
        }
        if column.ty.is_multi_cell() {
            // A UDT column prepared from the statement is named `ks.name`, quoted as one
            // identifier (Cassandra's `UTName.toString()` through `maybeQuote`).
            let (what, ty) = match &column.ty {
                CqlType::Udt(u) => (
                    "user-defined",
                    quote_identifier(&format!("{}.{}", u.keyspace, u.name)).into_owned(),
                ),
                ty => ("collection", type_to_cql(ty)),
            };
            return Err(SchemaError::invalid(format!(
                "Invalid non-frozen {what} type {ty} for PRIMARY KEY column '{name}'"
            )));
        }
        if column.ty.is_counter() {
            return Err(SchemaError::invalid(format!(
                "counter type is not supported for PRIMARY KEY column '{name}'"
            )));
        }
        if column.ty.references_duration() {
            return Err(SchemaError::invalid(format!(
                "duration type is not supported for PRIMARY KEY column '{name}'"
            )));
        }
        if column.is_static {
            return Err(SchemaError::invalid(format!(
                "Static column '{name}' cannot be part of the PRIMARY KEY"
            )));
        }
    }
    let not_clustering: Vec<&str> = stmt
        .clustering_order
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| !stmt.clustering_key.iter().any(|c| c == name))
        .collect();
    if !not_clustering.is_empty() {
        return Err(SchemaError::invalid(format!(
            "Only clustering key columns can be defined in CLUSTERING ORDER directive: [{}] are not clustering columns",
            not_clustering.join(", ")
        )));
    }
    if stmt.clustering_order.len() > stmt.clustering_key.len() {
        return Err(SchemaError::invalid(
            "Only clustering columns can be defined in CLUSTERING ORDER directive",
        ));
    }
    for (i, (name, _)) in stmt.clustering_order.iter().enumerate() {
        let expected = stmt
            .clustering_key
            .get(i)
            .map(String::as_str)
            .unwrap_or_default();
        if name != expected {
            if stmt.clustering_order.iter().any(|(n, _)| n == expected) {
                return Err(SchemaError::invalid(format!(
                    "The order of columns in the CLUSTERING ORDER directive must match that of the clustering columns ({expected} must appear before {name})"
                )));
            }
            return Err(SchemaError::invalid(format!(
                "Missing CLUSTERING ORDER for column {expected}"
            )));
        }
    }
    let statics = stmt.columns.iter().any(|c| c.is_static);
    if stmt.clustering_key.is_empty() && statics {
        return Err(SchemaError::invalid(
            "Static columns are only useful (and thus allowed) if the table has at least one clustering column",
        ));
    }
    let has_counters = stmt.columns.iter().any(|c| c.ty.is_counter());
    if has_counters {
        let non_key_non_counter = stmt
            .columns
            .iter()
            .any(|c| !seen.contains(c.name.as_str()) && !c.ty.is_counter());
        if non_key_non_counter {
            return Err(SchemaError::invalid(
                "Cannot mix counter and non counter columns in the same table",
            ));
        }
        if params.default_time_to_live_secs > 0 {
            return Err(SchemaError::invalid(
                "Cannot set default_time_to_live on a table with counters",
            ));
        }
    }
    let mut columns = Vec::with_capacity(stmt.columns.len());
    for c in &stmt.columns {
        let kind = if let Some(p) = stmt.partition_key.iter().position(|n| *n == c.name) {
            ColumnKind::PartitionKey { position: p as u32 }
        } else if let Some(p) = stmt.clustering_key.iter().position(|n| *n == c.name) {
            let order = stmt
                .clustering_order
                .iter()
                .find(|(n, _)| *n == c.name)
                .map_or(ClusteringOrder::Asc, |(_, o)| *o);
            ColumnKind::Clustering {
                position: p as u32,
                order,
            }
        } else if c.is_static {
            ColumnKind::Static
        } else {
            ColumnKind::Regular
        };
        columns.push(ColumnMetadata {
            name: c.name.clone(),
            id: ColumnId(0),
            ty: c.ty.clone(),
            kind,
        });
    }
    let mut table = TableMetadata {
        keyspace: stmt.keyspace.clone(),
        name: stmt.name.clone(),
        id,
        columns,
        params,
        dropped_columns: BTreeMap::new(),
        next_column_id: 0,
        is_virtual: false,
    };
    // Ids follow the canonical column order, so that the same table declared with its
    // columns in another order gets the same metadata.
    table.sort_columns();
    for (i, c) in table.columns.iter_mut().enumerate() {
        c.id = ColumnId(i as u32);
    }
    table.next_column_id = table.columns.len() as u32;
    validate_table(&table, has_counters)?;
    Ok(table)
}

fn add_columns(
    table: &mut TableMetadata,
    stamps: &mut TableStamps,
    columns: &[ColumnDef],
    if_not_exists: bool,
    at: i64,
) -> Result<(), SchemaError> {
    for c in columns {
        if table.column(&c.name).is_some() {
            if if_not_exists {
                continue;
            }
            return Err(SchemaError::ColumnAlreadyExists {
                column: c.name.clone(),
            });
        }
        if c.is_static && table.clustering_columns().is_empty() {
            return Err(SchemaError::invalid(
                "Static columns are only useful (and thus allowed) if the table has at least one clustering column",
            ));
        }
        validate_column_type(&c.name, &c.ty, true)?;
        let kind = if c.is_static {
            ColumnKind::Static
        } else {
            ColumnKind::Regular
        };
        if let Some(dropped) = table.dropped_columns.get(&c.name) {
            let expanded = expand_user_types(&c.ty);
            if expanded != dropped.ty {
                return Err(SchemaError::invalid(format!(
                    "Cannot re-add previously dropped column '{}' of type {}, incompatible with previous type {}",
                    c.name,
                    type_to_cql(&c.ty),
                    type_to_cql(&dropped.ty)
                )));
            }
            if dropped.kind != kind {
                return Err(SchemaError::invalid(format!(
                    "Cannot re-add previously dropped column '{}' of kind {}, incompatible with previous kind {}",
                    c.name,
                    kind.as_str().to_ascii_uppercase(),
                    dropped.kind.as_str().to_ascii_uppercase()
                )));
            }
            if table.is_counter() {
                return Err(SchemaError::invalid(format!(
                    "Cannot re-add previously dropped counter column {}",
                    c.name
                )));
            }
        }
        let id = added_column_id(table, stamps, &c.name, &c.ty, kind)
            .ok_or_else(|| SchemaError::invalid("Too many columns added to this table"))?;
        table.next_column_id = table.next_column_id.max(id.0.saturating_add(1));
        table.columns.push(ColumnMetadata {
            name: c.name.clone(),
            id,
            ty: c.ty.clone(),
            kind,
        });
        stamps.columns.insert(id, at);
    }
    Ok(())
}

fn drop_columns(
    table: &mut TableMetadata,
    stamps: &mut TableStamps,
    columns: &[String],
    if_exists: bool,
    timestamp_micros: i64,
    at: i64,
) -> Result<(), SchemaError> {
    for name in columns {
        let Some(column) = table.column(name).cloned() else {
            if if_exists {
                continue;
            }
            return Err(SchemaError::invalid(format!(
                "Column {name} was not found in table '{}'",
                table.qualified_name()
            )));
        };
        if column.kind.is_primary_key() {
            return Err(SchemaError::invalid(format!(
                "Cannot drop PRIMARY KEY column {name}"
            )));
        }
        if matches!(column.ty, CqlType::Udt(_)) {
            return Err(SchemaError::invalid(format!(
                "Cannot drop non-frozen column {name} of user type {}",
                type_to_cql(&column.ty)
            )));
        }
        table.columns.retain(|c| c.name != *name);
        let added_micros = stamps.columns.remove(&column.id).unwrap_or(0);
        stamps.dropped_column_ids.insert(
            column.id,
            DroppedColumnId {
                name: name.clone(),
                added_micros,
                dropped_micros: at,
            },
        );
        table.dropped_columns.insert(
            name.clone(),
            DroppedColumn {
                ty: expand_user_types(&column.ty),
                kind: column.kind,
                dropped_at_micros: timestamp_micros,
            },
        );
    }
    Ok(())
}

fn rename_columns(
    original: &TableMetadata,
    table: &mut TableMetadata,
    renames: &[(String, String)],
    if_exists: bool,
) -> Result<(), SchemaError> {
    for (from, to) in renames {
        let Some(column) = original.column(from) else {
            if if_exists {
                continue;
            }
            return Err(SchemaError::invalid(format!(
                "Column {from} was not found in table {}",
                original.qualified_name()
            )));
        };
        if !column.kind.is_primary_key() {
            return Err(SchemaError::invalid(format!(
                "Cannot rename non PRIMARY KEY column {from}"
            )));
        }
        if original.column(to).is_some() {
            return Err(SchemaError::invalid(format!(
                "Cannot rename column {from} to {to} in table '{}'; another column with that name already exists",
                original.qualified_name()
            )));
        }
        if let Some(c) = table.columns.iter_mut().find(|c| c.id == column.id) {
            c.name = to.clone();
        }
    }
    Ok(())
}
