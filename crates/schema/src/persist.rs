//! The persisted (and digested) form of the distributed schema (user keyspaces and the
//! replicated system keyspaces, see [`Schema::distributed_keyspaces`]): plain serde structures with a
//! format version ([`FORMAT_VERSION`]), types spelled as CQL type strings, user types listed
//! in dependency order so that loading resolves every type from the ones before it.
//!
//! Loading treats its input as untrusted: it checks the format version, rejects system
//! keyspace names, unresolvable types and tables that break the [`TableMetadata`]
//! invariants, and never panics.

use std::collections::{BTreeMap, BTreeSet};

use meridian_types::cql_type::{parse_cql_type, CqlType};
use meridian_types::model::{ClusteringOrder, ColumnId, TableId};
use serde::{Deserialize, Serialize};

use crate::error::SchemaError;
use crate::keyspace::{KeyspaceMetadata, KeyspaceSchema, UserType};
use crate::params::TableParams;
use crate::replication::Replication;
use crate::schema::Schema;
use crate::system::{is_builtin_keyspace, REPLICATED_SYSTEM_KEYSPACES};
use crate::table::{ColumnKind, ColumnMetadata, DroppedColumn, TableMetadata};

/// The persisted format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Most keyspaces, tables per keyspace, columns per table or types per keyspace a persisted
/// schema may hold (a bound on what untrusted input can make the loader build).
pub const MAX_PERSISTED_ELEMENTS: usize = 100_000;

#[derive(Serialize, Deserialize)]
pub(crate) struct SchemaDto {
    format_version: u32,
    pub(crate) keyspaces: Vec<KeyspaceDto>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct KeyspaceDto {
    name: String,
    replication: BTreeMap<String, String>,
    durable_writes: bool,
    types: Vec<TypeDto>,
    tables: Vec<TableDto>,
}

#[derive(Serialize, Deserialize)]
struct TypeDto {
    name: String,
    fields: Vec<(String, String)>,
}

#[derive(Serialize, Deserialize)]
struct TableDto {
    name: String,
    id: String,
    columns: Vec<ColumnDto>,
    params: TableParams,
    dropped_columns: Vec<DroppedDto>,
    next_column_id: u32,
}

#[derive(Serialize, Deserialize)]
struct ColumnDto {
    name: String,
    id: u32,
    ty: String,
    kind: KindDto,
}

#[derive(Serialize, Deserialize)]
struct DroppedDto {
    name: String,
    ty: String,
    kind: KindDto,
    dropped_at_micros: i64,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
enum KindDto {
    PartitionKey { position: u32 },
    Clustering { position: u32, descending: bool },
    Regular,
    Static,
}

impl From<ColumnKind> for KindDto {
    fn from(k: ColumnKind) -> Self {
        match k {
            ColumnKind::PartitionKey { position } => KindDto::PartitionKey { position },
            ColumnKind::Clustering { position, order } => KindDto::Clustering {
                position,
                descending: order == ClusteringOrder::Desc,
            },
            ColumnKind::Regular => KindDto::Regular,
            ColumnKind::Static => KindDto::Static,
        }
    }
}

impl From<KindDto> for ColumnKind {
    fn from(k: KindDto) -> Self {
        match k {
            KindDto::PartitionKey { position } => ColumnKind::PartitionKey { position },
            KindDto::Clustering {
                position,
                descending,
            } => ColumnKind::Clustering {
                position,
                order: if descending {
                    ClusteringOrder::Desc
                } else {
                    ClusteringOrder::Asc
                },
            },
            KindDto::Regular => ColumnKind::Regular,
            KindDto::Static => ColumnKind::Static,
        }
    }
}

impl SchemaDto {
    pub(crate) fn from_schema(schema: &Schema) -> SchemaDto {
        SchemaDto {
            format_version: FORMAT_VERSION,
            keyspaces: schema
                .distributed_keyspaces()
                .map(KeyspaceDto::from_keyspace)
                .collect(),
        }
    }

    pub(crate) fn into_schema(self) -> Result<Schema, SchemaError> {
        if self.format_version != FORMAT_VERSION {
            return Err(SchemaError::UnsupportedFormat {
                found: self.format_version,
                supported: FORMAT_VERSION,
            });
        }
        if self.keyspaces.len() > MAX_PERSISTED_ELEMENTS {
            return Err(SchemaError::corrupt("too many keyspaces"));
        }
        let mut schema = Schema::new();
        let mut loaded = BTreeSet::new();
        for ks in self.keyspaces {
            let ks = ks.into_keyspace()?;
            if !loaded.insert(ks.metadata.name.clone()) {
                return Err(SchemaError::corrupt(format!(
                    "keyspace {} listed twice",
                    ks.metadata.name
                )));
            }
            // A persisted replicated system keyspace replaces the built-in definition.
            schema.keyspaces.insert(ks.metadata.name.clone(), ks);
        }
        let mut ids = BTreeSet::new();
        for t in schema.keyspaces.values().flat_map(|ks| ks.tables.values()) {
            if !ids.insert(t.id) {
                return Err(SchemaError::corrupt(format!(
                    "table id {} used twice",
                    t.id.0
                )));
            }
        }
        schema.refresh_version();
        Ok(schema)
    }
}

impl KeyspaceDto {
    fn from_keyspace(ks: &KeyspaceSchema) -> KeyspaceDto {
        KeyspaceDto {
            name: ks.metadata.name.clone(),
            replication: ks.metadata.replication.to_map(),
            durable_writes: ks.metadata.durable_writes,
            types: ks
                .types_in_dependency_order()
                .into_iter()
                .map(|t| TypeDto {
                    name: t.name.clone(),
                    fields: t
                        .fields
                        .iter()
                        .map(|(n, ty)| (n.clone(), ty.to_string()))
                        .collect(),
                })
                .collect(),
            tables: ks.tables.values().map(TableDto::from_table).collect(),
        }
    }

    fn into_keyspace(self) -> Result<KeyspaceSchema, SchemaError> {
        if is_builtin_keyspace(&self.name)
            && !REPLICATED_SYSTEM_KEYSPACES.contains(&self.name.as_str())
        {
            return Err(SchemaError::corrupt(format!(
                "system keyspace {} in persisted user schema",
                self.name
            )));
        }
        if self.types.len() > MAX_PERSISTED_ELEMENTS || self.tables.len() > MAX_PERSISTED_ELEMENTS {
            return Err(SchemaError::corrupt(format!(
                "too many types or tables in keyspace {}",
                self.name
            )));
        }
        let replication = Replication::from_map(&self.replication)?;
        let mut ks = KeyspaceSchema::new(KeyspaceMetadata {
            name: self.name.clone(),
            replication,
            durable_writes: self.durable_writes,
        });
        for t in self.types {
            let mut fields = Vec::with_capacity(t.fields.len().min(MAX_PERSISTED_ELEMENTS));
            for (name, ty) in t.fields {
                fields.push((name, parse_persisted_type(&ks, &ty)?));
            }
            let ty = UserType {
                keyspace: self.name.clone(),
                name: t.name.clone(),
                fields,
            };
            if ks.types.insert(t.name.clone(), ty).is_some() {
                return Err(SchemaError::corrupt(format!(
                    "type {} listed twice",
                    t.name
                )));
            }
        }
        for t in self.tables {
            let table = t.into_table(&ks)?;
            if ks.tables.contains_key(&table.name) {
                return Err(SchemaError::corrupt(format!(
                    "table {} listed twice",
                    table.name
                )));
            }
            ks.tables.insert(table.name.clone(), table);
        }
        Ok(ks)
    }
}

fn parse_persisted_type(ks: &KeyspaceSchema, text: &str) -> Result<CqlType, SchemaError> {
    let resolve = |name: &str| ks.types.get(name).map(UserType::to_udt_type);
    parse_cql_type(text, &resolve).map_err(|e| {
        SchemaError::corrupt(format!(
            "type {text:?} in keyspace {}: {e}",
            ks.metadata.name
        ))
    })
}

impl TableDto {
    fn from_table(t: &TableMetadata) -> TableDto {
        TableDto {
            name: t.name.clone(),
            id: t.id.0.to_string(),
            columns: t
                .columns
                .iter()
                .map(|c| ColumnDto {
                    name: c.name.clone(),
                    id: c.id.0,
                    ty: c.ty.to_string(),
                    kind: c.kind.into(),
                })
                .collect(),
            params: t.params.clone(),
            dropped_columns: t
                .dropped_columns
                .iter()
                .map(|(name, d)| DroppedDto {
                    name: name.clone(),
                    ty: d.ty.to_string(),
                    kind: d.kind.into(),
                    dropped_at_micros: d.dropped_at_micros,
                })
                .collect(),
            next_column_id: t.next_column_id,
        }
    }

    fn into_table(self, ks: &KeyspaceSchema) -> Result<TableMetadata, SchemaError> {
        let corrupt = |what: &str| {
            SchemaError::corrupt(format!("table {}.{}: {what}", ks.metadata.name, self.name))
        };
        if self.columns.len() > MAX_PERSISTED_ELEMENTS
            || self.dropped_columns.len() > MAX_PERSISTED_ELEMENTS
        {
            return Err(corrupt("too many columns"));
        }
        let id = uuid::Uuid::parse_str(&self.id).map_err(|_| corrupt("invalid id"))?;
        let mut columns = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            columns.push(ColumnMetadata {
                name: c.name.clone(),
                id: ColumnId(c.id),
                ty: parse_persisted_type(ks, &c.ty)?,
                kind: c.kind.into(),
            });
        }
        let mut dropped_columns = BTreeMap::new();
        for d in &self.dropped_columns {
            dropped_columns.insert(
                d.name.clone(),
                DroppedColumn {
                    ty: parse_persisted_type(ks, &d.ty)?,
                    kind: d.kind.into(),
                    dropped_at_micros: d.dropped_at_micros,
                },
            );
        }
        let mut table = TableMetadata {
            keyspace: ks.metadata.name.clone(),
            name: self.name.clone(),
            id: TableId(id),
            columns,
            params: self.params,
            dropped_columns,
            next_column_id: self.next_column_id,
            is_virtual: false,
        };
        table.sort_columns();
        check_table_invariants(&table).map_err(|what| corrupt(&what))?;
        table
            .params
            .validate()
            .map_err(|e| corrupt(&e.to_string()))?;
        Ok(table)
    }
}

/// The structural invariants of [`TableMetadata`]; `Err` says which one is broken.
pub(crate) fn check_table_invariants(t: &TableMetadata) -> Result<(), String> {
    let mut names = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for c in &t.columns {
        if !names.insert(c.name.as_str()) {
            return Err(format!("column {} defined twice", c.name));
        }
        if !ids.insert(c.id) || c.id.0 >= t.next_column_id {
            return Err(format!("column {} has an invalid id", c.name));
        }
    }
    let pk: Vec<i32> = t
        .partition_key_columns()
        .iter()
        .map(|c| c.kind.position())
        .collect();
    if pk.is_empty() || pk.iter().enumerate().any(|(i, p)| *p != i as i32) {
        return Err("partition key positions are not 0..n".into());
    }
    let ck: Vec<i32> = t
        .clustering_columns()
        .iter()
        .map(|c| c.kind.position())
        .collect();
    if ck.iter().enumerate().any(|(i, p)| *p != i as i32) {
        return Err("clustering positions are not 0..n".into());
    }
    if t.dropped_columns.values().any(|d| d.kind.is_primary_key()) {
        return Err("a dropped column is a key column".into());
    }
    Ok(())
}
