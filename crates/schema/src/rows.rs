//! Rows of the `system_schema.*` and `system_virtual_schema.*` tables, generated from a
//! [`Schema`], in the shape a `SELECT *` returns: one `Vec<Option<Bytes>>` per row, cells in
//! the table's `SELECT *` column order ([`TableMetadata::select_order`]), each cell the
//! serialized value (`None` for null), rows in Cassandra's order (partitions by token of
//! `keyspace_name` for `system_schema`, by name for virtual tables; clustering order inside).
//!
//! Contents follow Cassandra 5.0 and what drivers read (see the module docs of the crate):
//! `flags = {'compound'}`, `clustering_order` `asc`/`desc`/`none`, `position` -1 for regular
//! and static columns, canonical type strings, replication maps with full class names, the
//! system keyspaces listed too. Options Cassandra only writes when they differ from their
//! default (`cdc`, `memtable`, `allow_auto_snapshot`, `incremental_backups`) are null
//! otherwise, as in Cassandra.

use std::collections::BTreeMap;

use bytes::Bytes;
use meridian_types::model::Clustering;
use meridian_types::token::murmur3_token;
use meridian_types::value::CqlValue;

use crate::cql::type_to_cql;
use crate::keyspace::KeyspaceSchema;
use crate::schema::Schema;
use crate::system::{SYSTEM_SCHEMA, SYSTEM_VIRTUAL_SCHEMA};
use crate::table::TableMetadata;

/// One row: serialized cells in `SELECT *` order, `None` for null.
pub type Row = Vec<Option<Bytes>>;

/// A row before layout: cell values by column name.
type Cells = BTreeMap<&'static str, CqlValue>;

fn text(s: &str) -> CqlValue {
    CqlValue::Text(s.to_string())
}

fn text_map(map: &BTreeMap<String, String>) -> CqlValue {
    CqlValue::Map(map.iter().map(|(k, v)| (text(k), text(v))).collect())
}

fn text_list<'a>(items: impl Iterator<Item = &'a str>) -> CqlValue {
    CqlValue::List(items.map(text).collect())
}

/// Rows of `system_schema.<table>`, or `None` if there is no such table.
pub fn system_schema_rows(schema: &Schema, table: &str) -> Option<Vec<Row>> {
    let meta = schema.table(SYSTEM_SCHEMA, table)?;
    let stored = || schema.keyspaces().values().filter(|ks| !ks.is_virtual());
    let cells: Vec<Cells> = match table {
        "keyspaces" => stored().map(keyspace_cells).collect(),
        "tables" => stored()
            .flat_map(|ks| ks.tables.values())
            .map(table_cells)
            .collect(),
        "columns" => stored()
            .flat_map(|ks| ks.tables.values())
            .flat_map(column_cells)
            .collect(),
        "dropped_columns" => stored()
            .flat_map(|ks| ks.tables.values())
            .flat_map(dropped_column_cells)
            .collect(),
        "types" => stored().flat_map(type_cells).collect(),
        // Not modelled: no triggers, views, functions, aggregates, indexes or masks exist.
        _ => Vec::new(),
    };
    Some(layout(meta, cells, PartitionOrder::Token))
}

/// Rows of `system_virtual_schema.<table>`, or `None` if there is no such table.
pub fn virtual_schema_rows(schema: &Schema, table: &str) -> Option<Vec<Row>> {
    let meta = schema.table(SYSTEM_VIRTUAL_SCHEMA, table)?;
    let virtual_keyspaces = || schema.keyspaces().values().filter(|ks| ks.is_virtual());
    let cells: Vec<Cells> = match table {
        "keyspaces" => virtual_keyspaces()
            .map(|ks| Cells::from([("keyspace_name", text(ks.name()))]))
            .collect(),
        "tables" => virtual_keyspaces()
            .flat_map(|ks| ks.tables.values())
            .map(|t| {
                Cells::from([
                    ("keyspace_name", text(&t.keyspace)),
                    ("table_name", text(&t.name)),
                    ("comment", text(&t.params.comment)),
                ])
            })
            .collect(),
        "columns" => virtual_keyspaces()
            .flat_map(|ks| ks.tables.values())
            .flat_map(column_cells)
            .collect(),
        _ => Vec::new(),
    };
    Some(layout(meta, cells, PartitionOrder::Name))
}

/// Rows of a schema-describing system table (`system_schema.*` or
/// `system_virtual_schema.*`), or `None` if `keyspace.table` is not one.
pub fn system_table_rows(schema: &Schema, keyspace: &str, table: &str) -> Option<Vec<Row>> {
    match keyspace {
        SYSTEM_SCHEMA => system_schema_rows(schema, table),
        SYSTEM_VIRTUAL_SCHEMA => virtual_schema_rows(schema, table),
        _ => None,
    }
}

fn keyspace_cells(ks: &KeyspaceSchema) -> Cells {
    Cells::from([
        ("keyspace_name", text(ks.name())),
        (
            "durable_writes",
            CqlValue::Boolean(ks.metadata.durable_writes),
        ),
        ("replication", text_map(&ks.metadata.replication.to_map())),
    ])
}

fn table_cells(t: &TableMetadata) -> Cells {
    let p = &t.params;
    let mut cells = Cells::from([
        ("keyspace_name", text(&t.keyspace)),
        ("table_name", text(&t.name)),
        ("id", CqlValue::Uuid(t.id.0)),
        (
            "flags",
            CqlValue::Set(t.flags().into_iter().map(text).collect()),
        ),
        (
            "bloom_filter_fp_chance",
            CqlValue::Double(p.bloom_filter_fp_chance),
        ),
        ("comment", text(&p.comment)),
        ("dclocal_read_repair_chance", CqlValue::Double(0.0)),
        (
            "default_time_to_live",
            CqlValue::Int(p.default_time_to_live_secs as i32),
        ),
        ("gc_grace_seconds", CqlValue::Int(p.gc_grace_seconds as i32)),
        (
            "max_index_interval",
            CqlValue::Int(p.max_index_interval as i32),
        ),
        (
            "memtable_flush_period_in_ms",
            CqlValue::Int(p.memtable_flush_period_ms as i32),
        ),
        (
            "min_index_interval",
            CqlValue::Int(p.min_index_interval as i32),
        ),
        ("read_repair_chance", CqlValue::Double(0.0)),
        ("speculative_retry", text(&p.speculative_retry.to_string())),
        (
            "additional_write_policy",
            text(&p.additional_write_policy.to_string()),
        ),
        ("crc_check_chance", CqlValue::Double(p.crc_check_chance)),
        ("caching", text_map(&p.caching.to_map())),
        ("compaction", text_map(&p.compaction)),
        ("compression", text_map(&p.compression)),
        ("read_repair", text(&p.read_repair.to_string())),
        (
            "extensions",
            CqlValue::Map(
                p.extensions
                    .iter()
                    .map(|(k, v)| (text(k), CqlValue::Blob(Bytes::copy_from_slice(v))))
                    .collect(),
            ),
        ),
    ]);
    // Cassandra writes these only when they differ from their defaults.
    if p.cdc {
        cells.insert("cdc", CqlValue::Boolean(true));
    }
    if p.memtable != "default" {
        cells.insert("memtable", text(&p.memtable));
    }
    if !p.allow_auto_snapshot {
        cells.insert("allow_auto_snapshot", CqlValue::Boolean(false));
    }
    if !p.incremental_backups {
        cells.insert("incremental_backups", CqlValue::Boolean(false));
    }
    cells
}

fn column_cells(t: &TableMetadata) -> Vec<Cells> {
    t.columns
        .iter()
        .map(|c| {
            Cells::from([
                ("keyspace_name", text(&t.keyspace)),
                ("table_name", text(&t.name)),
                ("column_name", text(&c.name)),
                ("clustering_order", text(c.kind.clustering_order_str())),
                (
                    "column_name_bytes",
                    CqlValue::Blob(Bytes::copy_from_slice(c.name.as_bytes())),
                ),
                ("kind", text(c.kind.as_str())),
                ("position", CqlValue::Int(c.kind.position())),
                ("type", text(&type_to_cql(&c.ty))),
            ])
        })
        .collect()
}

fn dropped_column_cells(t: &TableMetadata) -> Vec<Cells> {
    t.dropped_columns
        .iter()
        .map(|(name, d)| {
            Cells::from([
                ("keyspace_name", text(&t.keyspace)),
                ("table_name", text(&t.name)),
                ("column_name", text(name)),
                // Microseconds to milliseconds, truncating like TimeUnit.toMillis.
                (
                    "dropped_time",
                    CqlValue::Timestamp(d.dropped_at_micros / 1000),
                ),
                ("kind", text(d.kind.as_str())),
                ("type", text(&type_to_cql(&d.ty))),
            ])
        })
        .collect()
}

fn type_cells(ks: &KeyspaceSchema) -> Vec<Cells> {
    ks.types
        .values()
        .map(|t| {
            Cells::from([
                ("keyspace_name", text(&t.keyspace)),
                ("type_name", text(&t.name)),
                (
                    "field_names",
                    text_list(t.fields.iter().map(|(n, _)| n.as_str())),
                ),
                (
                    "field_types",
                    CqlValue::List(
                        t.fields
                            .iter()
                            .map(|(_, ty)| CqlValue::Text(type_to_cql(ty)))
                            .collect(),
                    ),
                ),
            ])
        })
        .collect()
}

/// How partitions of a generated table are ordered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PartitionOrder {
    /// Murmur3 token order (regular tables).
    Token,
    /// Key byte order (virtual tables with a local partitioner over text).
    Name,
}

/// Lays out cells in `SELECT *` order and sorts rows by partition, then clustering.
fn layout(meta: &TableMetadata, rows: Vec<Cells>, order: PartitionOrder) -> Vec<Row> {
    let columns = meta.select_order();
    let pk: Vec<&str> = meta
        .partition_key_columns()
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let ck: Vec<&str> = meta
        .clustering_columns()
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let comparator = meta.clustering_comparator();
    let bytes_of = |cells: &Cells, name: &str| -> Bytes {
        cells.get(name).map(CqlValue::to_bytes).unwrap_or_default()
    };
    let mut keyed: Vec<(i64, Bytes, Clustering, Row)> = rows
        .into_iter()
        .map(|cells| {
            // Every generated table has a single-column partition key.
            let key = pk.first().map(|n| bytes_of(&cells, n)).unwrap_or_default();
            let token = match order {
                PartitionOrder::Token => murmur3_token(&key).value(),
                PartitionOrder::Name => 0,
            };
            let clustering = Clustering(ck.iter().map(|n| bytes_of(&cells, n)).collect());
            let row = columns
                .iter()
                .map(|c| cells.get(c.name.as_str()).map(CqlValue::to_bytes))
                .collect();
            (token, key, clustering, row)
        })
        .collect();
    keyed.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.cmp(&b.1))
            .then_with(|| comparator.compare(&a.2, &b.2))
    });
    keyed.into_iter().map(|(_, _, _, row)| row).collect()
}
