//! The persisted (and digested) form of the distributed schema (user keyspaces and the
//! replicated system keyspaces, see [`Schema::distributed_keyspaces`]): plain serde structures with a
//! format version ([`FORMAT_VERSION`]), types spelled as CQL type strings, user types listed
//! in dependency order so that loading resolves every type from the ones before it.
//!
//! The persisted form also carries what merging schemas across nodes needs (see
//! [`crate::merge`]): the change timestamps of keyspaces, tables and types, and the
//! tombstones of dropped elements. These fields are optional and omitted when empty or zero,
//! so files written before they existed load unchanged (every timestamp 0, no tombstones),
//! and the digest behind [`Schema::version`] — the same structures with timestamps and
//! tombstones left out — is the digest of the visible schema only.
//!
//! Loading treats its input as untrusted: it checks the format version, rejects system
//! keyspace names, unresolvable types, tables that break the [`TableMetadata`] invariants and
//! inconsistent timestamps or tombstones, bounds every list, and never panics.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use meridian_types::cql_type::{parse_cql_type, CqlType, UdtType};
use meridian_types::model::{ClusteringOrder, ColumnId, TableId};
use serde::{Deserialize, Serialize};

use crate::error::SchemaError;
use crate::keyspace::{KeyspaceMetadata, KeyspaceSchema, UserType};
use crate::merge::{
    DroppedColumnId, HiddenKeyspace, HiddenType, KeyspaceTombstone, TableStamps, TableTombstone,
    Tombstones, TypeTombstone,
};
use crate::params::TableParams;
use crate::replication::Replication;
use crate::schema::Schema;
use crate::system::{is_builtin_keyspace, REPLICATED_SYSTEM_KEYSPACES};
use crate::table::{ColumnKind, ColumnMetadata, DroppedColumn, TableMetadata};

/// The persisted format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Most keyspaces, tables per keyspace, columns per table, types per keyspace or tombstones a
/// persisted schema may hold (a bound on what untrusted input can make the loader build).
pub const MAX_PERSISTED_ELEMENTS: usize = 100_000;

/// What [`SchemaDto::from_schema`] includes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DtoMode {
    /// Everything: the persisted and exchanged form.
    Persisted,
    /// The visible schema only (no timestamps, no tombstones): the input of the version
    /// digest.
    Digest,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub(crate) struct SchemaDto {
    pub(crate) format_version: u32,
    pub(crate) keyspaces: Vec<KeyspaceDto>,
    #[serde(default, skip_serializing_if = "TombstonesDto::is_empty")]
    pub(crate) tombstones: TombstonesDto,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub(crate) struct KeyspaceDto {
    pub(crate) name: String,
    pub(crate) replication: BTreeMap<String, String>,
    pub(crate) durable_writes: bool,
    pub(crate) types: Vec<TypeDto>,
    pub(crate) tables: Vec<TableDto>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) created_micros: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) timestamp_micros: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct TypeDto {
    pub(crate) name: String,
    pub(crate) fields: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) created_micros: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) timestamp_micros: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub(crate) struct TableDto {
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) columns: Vec<ColumnDto>,
    pub(crate) params: TableParams,
    pub(crate) dropped_columns: Vec<DroppedDto>,
    pub(crate) next_column_id: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stamps: Option<TableStampsDto>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ColumnDto {
    pub(crate) name: String,
    pub(crate) id: u32,
    pub(crate) ty: String,
    pub(crate) kind: KindDto,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct DroppedDto {
    pub(crate) name: String,
    pub(crate) ty: String,
    pub(crate) kind: KindDto,
    pub(crate) dropped_at_micros: i64,
}

/// The change timestamps of a table ([`TableStamps`]); absent when all zero.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TableStampsDto {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) created_micros: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) params_micros: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) key_names_micros: i64,
    /// `(column id, added at)` of regular and static columns with a non-zero timestamp.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) columns: Vec<(u32, i64)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) dropped_column_ids: Vec<DroppedColumnIdDto>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) key_name_history: Vec<(String, i64)>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct DroppedColumnIdDto {
    pub(crate) id: u32,
    pub(crate) name: String,
    pub(crate) added_micros: i64,
    pub(crate) dropped_micros: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub(crate) struct TombstonesDto {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) keyspaces: Vec<KeyspaceTombstoneDto>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) tables: Vec<TableTombstoneDto>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) types: Vec<TypeTombstoneDto>,
}

impl TombstonesDto {
    fn is_empty(&self) -> bool {
        self.keyspaces.is_empty() && self.tables.is_empty() && self.types.is_empty()
    }
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub(crate) struct KeyspaceTombstoneDto {
    pub(crate) name: String,
    pub(crate) dropped_micros: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) hidden: Option<HiddenKeyspaceDto>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct HiddenKeyspaceDto {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) created_micros: i64,
    pub(crate) timestamp_micros: i64,
    pub(crate) replication: BTreeMap<String, String>,
    pub(crate) durable_writes: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct TableTombstoneDto {
    pub(crate) keyspace: String,
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) dropped_micros: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub(crate) struct TypeTombstoneDto {
    pub(crate) keyspace: String,
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dropped_micros: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) hidden: Option<HiddenTypeDto>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct HiddenTypeDto {
    pub(crate) fields: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) created_micros: i64,
    pub(crate) timestamp_micros: i64,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum KindDto {
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
    pub(crate) fn from_schema(schema: &Schema, mode: DtoMode) -> SchemaDto {
        SchemaDto {
            format_version: FORMAT_VERSION,
            keyspaces: schema
                .distributed_keyspaces()
                .map(|ks| KeyspaceDto::from_keyspace(ks, mode))
                .collect(),
            tombstones: match mode {
                DtoMode::Persisted => TombstonesDto::from_tombstones(schema.tombstones()),
                DtoMode::Digest => TombstonesDto::default(),
            },
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
        schema.tombstones = self.tombstones.into_tombstones(&schema)?;
        schema.refresh_version();
        Ok(schema)
    }
}

impl TypeDto {
    pub(crate) fn from_type(t: &UserType, mode: DtoMode) -> TypeDto {
        TypeDto {
            name: t.name.clone(),
            fields: t
                .fields
                .iter()
                .map(|(n, ty)| (n.clone(), ty.to_string()))
                .collect(),
            created_micros: match mode {
                DtoMode::Persisted => t.created_micros,
                DtoMode::Digest => 0,
            },
            timestamp_micros: match mode {
                DtoMode::Persisted => t.timestamp_micros,
                DtoMode::Digest => 0,
            },
        }
    }
}

impl KeyspaceDto {
    fn from_keyspace(ks: &KeyspaceSchema, mode: DtoMode) -> KeyspaceDto {
        KeyspaceDto {
            name: ks.metadata.name.clone(),
            replication: ks.metadata.replication.to_map(),
            durable_writes: ks.metadata.durable_writes,
            types: ks
                .types_in_dependency_order()
                .into_iter()
                .map(|t| TypeDto::from_type(t, mode))
                .collect(),
            tables: ks
                .tables
                .values()
                .map(|t| {
                    let stamps = match mode {
                        DtoMode::Persisted => ks.table_stamps.get(&t.name),
                        DtoMode::Digest => None,
                    };
                    TableDto::from_table(t, stamps)
                })
                .collect(),
            created_micros: match mode {
                DtoMode::Persisted => ks.created_micros,
                DtoMode::Digest => 0,
            },
            timestamp_micros: match mode {
                DtoMode::Persisted => ks.timestamp_micros,
                DtoMode::Digest => 0,
            },
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
        ks.created_micros = self.created_micros;
        ks.timestamp_micros = self.timestamp_micros;
        for t in self.types {
            if t.fields.len() > MAX_PERSISTED_ELEMENTS {
                return Err(SchemaError::corrupt(format!(
                    "too many fields in type {}",
                    t.name
                )));
            }
            let mut fields = Vec::with_capacity(t.fields.len());
            for (name, ty) in t.fields {
                fields.push((name, parse_persisted_type(&ks, &ty)?));
            }
            let ty = UserType {
                keyspace: self.name.clone(),
                name: t.name.clone(),
                fields,
                created_micros: t.created_micros,
                timestamp_micros: t.timestamp_micros,
            };
            if ks.types.insert(t.name.clone(), ty).is_some() {
                return Err(SchemaError::corrupt(format!(
                    "type {} listed twice",
                    t.name
                )));
            }
        }
        for t in self.tables {
            let (table, stamps) = t.into_table(&ks)?;
            if ks.tables.contains_key(&table.name) {
                return Err(SchemaError::corrupt(format!(
                    "table {} listed twice",
                    table.name
                )));
            }
            if stamps != TableStamps::default() {
                ks.table_stamps.insert(table.name.clone(), stamps);
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

/// The user-defined type names a persisted type string refers to (empty when the string is
/// not a type: loading reports that).
pub(crate) fn referenced_type_names(text: &str) -> BTreeSet<String> {
    let names = RefCell::new(BTreeSet::new());
    let resolve = |name: &str| {
        names.borrow_mut().insert(name.to_string());
        Some(UdtType {
            keyspace: String::new(),
            name: name.to_string(),
            fields: Vec::new(),
        })
    };
    if parse_cql_type(text, &resolve).is_err() {
        return BTreeSet::new();
    }
    names.into_inner()
}

/// Checks that `text` is a well-formed type (user-defined type names are not resolved).
fn check_type_syntax(text: &str) -> Result<(), SchemaError> {
    let resolve = |name: &str| {
        Some(UdtType {
            keyspace: String::new(),
            name: name.to_string(),
            fields: Vec::new(),
        })
    };
    parse_cql_type(text, &resolve)
        .map(|_| ())
        .map_err(|e| SchemaError::corrupt(format!("type {text:?}: {e}")))
}

impl TableStampsDto {
    pub(crate) fn from_stamps(s: &TableStamps) -> TableStampsDto {
        TableStampsDto {
            created_micros: s.created_micros,
            params_micros: s.params_micros,
            key_names_micros: s.key_names_micros,
            columns: s
                .columns
                .iter()
                .filter(|(_, ts)| **ts != 0)
                .map(|(id, ts)| (id.0, *ts))
                .collect(),
            dropped_column_ids: s
                .dropped_column_ids
                .iter()
                .map(|(id, d)| DroppedColumnIdDto {
                    id: id.0,
                    name: d.name.clone(),
                    added_micros: d.added_micros,
                    dropped_micros: d.dropped_micros,
                })
                .collect(),
            key_name_history: s
                .key_name_history
                .iter()
                .map(|(n, ts)| (n.clone(), *ts))
                .collect(),
        }
    }
}

impl TableDto {
    pub(crate) fn from_table(t: &TableMetadata, stamps: Option<&TableStamps>) -> TableDto {
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
            stamps: stamps
                .map(TableStampsDto::from_stamps)
                .filter(|s| *s != TableStampsDto::default()),
        }
    }

    fn into_table(self, ks: &KeyspaceSchema) -> Result<(TableMetadata, TableStamps), SchemaError> {
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
        let stamps = match self.stamps {
            None => TableStamps::default(),
            Some(dto) => dto.into_stamps(&table).map_err(|what| corrupt(&what))?,
        };
        Ok((table, stamps))
    }
}

impl TableStampsDto {
    /// The stamps of `table`, checked against it.
    fn into_stamps(self, table: &TableMetadata) -> Result<TableStamps, String> {
        if self.columns.len() > MAX_PERSISTED_ELEMENTS
            || self.dropped_column_ids.len() > MAX_PERSISTED_ELEMENTS
            || self.key_name_history.len() > MAX_PERSISTED_ELEMENTS
        {
            return Err("too many column timestamps".into());
        }
        let mut stamps = TableStamps {
            created_micros: self.created_micros,
            params_micros: self.params_micros,
            key_names_micros: self.key_names_micros,
            ..TableStamps::default()
        };
        for (id, ts) in self.columns {
            let id = ColumnId(id);
            if table
                .column_by_id(id)
                .is_none_or(|c| c.kind.is_primary_key())
            {
                return Err(format!(
                    "timestamp for column id {} that is not a regular or static column",
                    id.0
                ));
            }
            if stamps.columns.insert(id, ts).is_some() {
                return Err(format!("column id {} timestamped twice", id.0));
            }
        }
        for d in self.dropped_column_ids {
            let id = ColumnId(d.id);
            if table.column_by_id(id).is_some() || d.id >= table.next_column_id {
                return Err(format!("dropped column id {} is invalid", d.id));
            }
            let dropped = DroppedColumnId {
                name: d.name,
                added_micros: d.added_micros,
                dropped_micros: d.dropped_micros,
            };
            if stamps.dropped_column_ids.insert(id, dropped).is_some() {
                return Err(format!("dropped column id {} listed twice", d.id));
            }
        }
        for (name, ts) in self.key_name_history {
            if stamps.key_name_history.insert(name.clone(), ts).is_some() {
                return Err(format!("key name {name} listed twice"));
            }
        }
        Ok(stamps)
    }
}

impl TombstonesDto {
    pub(crate) fn from_tombstones(t: &Tombstones) -> TombstonesDto {
        TombstonesDto {
            keyspaces: t
                .keyspaces
                .iter()
                .map(|(name, k)| KeyspaceTombstoneDto {
                    name: name.clone(),
                    dropped_micros: k.dropped_micros,
                    hidden: k.hidden.as_ref().map(|h| HiddenKeyspaceDto {
                        created_micros: h.created_micros,
                        timestamp_micros: h.timestamp_micros,
                        replication: h.metadata.replication.to_map(),
                        durable_writes: h.metadata.durable_writes,
                    }),
                })
                .collect(),
            tables: t
                .tables
                .iter()
                .map(|((keyspace, name), d)| TableTombstoneDto {
                    keyspace: keyspace.clone(),
                    name: name.clone(),
                    id: d.id.0.to_string(),
                    dropped_micros: d.dropped_micros,
                })
                .collect(),
            types: t
                .types
                .iter()
                .map(|((keyspace, name), d)| TypeTombstoneDto {
                    keyspace: keyspace.clone(),
                    name: name.clone(),
                    dropped_micros: d.dropped_micros,
                    hidden: d.hidden.as_ref().map(|h| HiddenTypeDto {
                        fields: h.fields.clone(),
                        created_micros: h.created_micros,
                        timestamp_micros: h.timestamp_micros,
                    }),
                })
                .collect(),
        }
    }

    /// The tombstones, checked against the loaded keyspaces of `schema`: no system keyspace
    /// is named, nothing is listed twice, and a definition is kept hidden only for an element
    /// that is not visible.
    fn into_tombstones(self, schema: &Schema) -> Result<Tombstones, SchemaError> {
        if self.keyspaces.len() > MAX_PERSISTED_ELEMENTS
            || self.tables.len() > MAX_PERSISTED_ELEMENTS
            || self.types.len() > MAX_PERSISTED_ELEMENTS
        {
            return Err(SchemaError::corrupt("too many tombstones"));
        }
        let user_keyspace = |name: &str| -> Result<(), SchemaError> {
            if is_builtin_keyspace(name) {
                return Err(SchemaError::corrupt(format!(
                    "tombstone in system keyspace {name}"
                )));
            }
            Ok(())
        };
        let mut out = Tombstones::default();
        for k in self.keyspaces {
            user_keyspace(&k.name)?;
            let hidden = match k.hidden {
                None => None,
                Some(h) => {
                    if schema.keyspace(&k.name).is_some() {
                        return Err(SchemaError::corrupt(format!(
                            "keyspace {} is both visible and hidden",
                            k.name
                        )));
                    }
                    Some(HiddenKeyspace {
                        metadata: KeyspaceMetadata {
                            name: k.name.clone(),
                            replication: Replication::from_map(&h.replication)?,
                            durable_writes: h.durable_writes,
                        },
                        created_micros: h.created_micros,
                        timestamp_micros: h.timestamp_micros,
                    })
                }
            };
            let tombstone = KeyspaceTombstone {
                dropped_micros: k.dropped_micros,
                hidden,
            };
            if out.keyspaces.insert(k.name.clone(), tombstone).is_some() {
                return Err(SchemaError::corrupt(format!(
                    "keyspace tombstone {} listed twice",
                    k.name
                )));
            }
        }
        for t in self.tables {
            user_keyspace(&t.keyspace)?;
            let id = uuid::Uuid::parse_str(&t.id).map_err(|_| {
                SchemaError::corrupt(format!(
                    "table tombstone {}.{}: invalid id",
                    t.keyspace, t.name
                ))
            })?;
            let tombstone = TableTombstone {
                id: TableId(id),
                dropped_micros: t.dropped_micros,
            };
            if out
                .tables
                .insert((t.keyspace.clone(), t.name.clone()), tombstone)
                .is_some()
            {
                return Err(SchemaError::corrupt(format!(
                    "table tombstone {}.{} listed twice",
                    t.keyspace, t.name
                )));
            }
        }
        for t in self.types {
            user_keyspace(&t.keyspace)?;
            let hidden = match t.hidden {
                None => None,
                Some(h) => {
                    if schema.user_type(&t.keyspace, &t.name).is_some() {
                        return Err(SchemaError::corrupt(format!(
                            "type {}.{} is both visible and hidden",
                            t.keyspace, t.name
                        )));
                    }
                    if h.fields.len() > MAX_PERSISTED_ELEMENTS {
                        return Err(SchemaError::corrupt("too many fields in a hidden type"));
                    }
                    for (_, ty) in &h.fields {
                        check_type_syntax(ty)?;
                    }
                    Some(HiddenType {
                        fields: h.fields,
                        created_micros: h.created_micros,
                        timestamp_micros: h.timestamp_micros,
                    })
                }
            };
            if t.dropped_micros.is_none() && hidden.is_none() {
                return Err(SchemaError::corrupt(format!(
                    "empty type tombstone {}.{}",
                    t.keyspace, t.name
                )));
            }
            let tombstone = TypeTombstone {
                dropped_micros: t.dropped_micros,
                hidden,
            };
            if out
                .types
                .insert((t.keyspace.clone(), t.name.clone()), tombstone)
                .is_some()
            {
                return Err(SchemaError::corrupt(format!(
                    "type tombstone {}.{} listed twice",
                    t.keyspace, t.name
                )));
            }
        }
        Ok(out)
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
