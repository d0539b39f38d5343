//! Helpers shared by the integration tests: statement builders and a sample schema with a
//! UDT, a composite partition key, DESC clustering, a static column, collections and
//! non-default options.

#![allow(dead_code)]

use meridian_schema::{
    ClusterTopology, ColumnDef, CreateKeyspace, CreateTable, CreateType, DdlOutcome, OptionValue,
    Schema, SchemaError,
};
use meridian_types::cql_type::CqlType;
use meridian_types::model::{ClusteringOrder, TableId};

pub fn text(v: &str) -> OptionValue {
    OptionValue::Text(v.into())
}

pub fn map(entries: &[(&str, &str)]) -> OptionValue {
    OptionValue::Map(
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

pub fn props(entries: &[(&str, OptionValue)]) -> Vec<(String, OptionValue)> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

pub fn simple(rf: &str) -> Vec<(String, OptionValue)> {
    props(&[(
        "replication",
        map(&[("class", "SimpleStrategy"), ("replication_factor", rf)]),
    )])
}

pub fn topology() -> ClusterTopology {
    ClusterTopology {
        datacenters: ["dc1".to_string(), "dc2".to_string()].into(),
        default_keyspace_rf: 1,
    }
}

pub fn create_keyspace(
    schema: &mut Schema,
    name: &str,
    properties: Vec<(String, OptionValue)>,
) -> Result<DdlOutcome, SchemaError> {
    schema.create_keyspace(
        &CreateKeyspace {
            name: name.into(),
            if_not_exists: false,
            properties,
        },
        &topology(),
    )
}

pub fn col(name: &str, ty: CqlType) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        ty,
        is_static: false,
    }
}

pub fn static_col(name: &str, ty: CqlType) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        ty,
        is_static: true,
    }
}

/// `CREATE TABLE ks.name (k int PRIMARY KEY, v text)`.
pub fn simple_table(ks: &str, name: &str) -> CreateTable {
    CreateTable {
        keyspace: ks.into(),
        name: name.into(),
        if_not_exists: false,
        columns: vec![col("k", CqlType::Int), col("v", CqlType::Text)],
        partition_key: vec!["k".into()],
        clustering_key: vec![],
        clustering_order: vec![],
        properties: vec![],
        compact_storage: false,
    }
}

pub fn id(n: u128) -> TableId {
    TableId(uuid::Uuid::from_u128(n))
}

pub fn list(t: CqlType) -> CqlType {
    CqlType::List(Box::new(t))
}

pub fn set(t: CqlType) -> CqlType {
    CqlType::Set(Box::new(t))
}

pub fn map_type(k: CqlType, v: CqlType) -> CqlType {
    CqlType::Map(Box::new(k), Box::new(v))
}

pub fn frozen(t: CqlType) -> CqlType {
    CqlType::Frozen(Box::new(t))
}

/// The sample schema:
///
/// ```text
/// CREATE KEYSPACE shop WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': '3'};
/// CREATE TYPE shop.address (street text, zip int);
/// CREATE TABLE shop.events (
///     tenant text, day date, ts timestamp, id uuid, owner text static,
///     tags set<text>, attrs map<text, text>, home frozen<address>, payload blob,
///     PRIMARY KEY ((tenant, day), ts, id)
/// ) WITH CLUSTERING ORDER BY (ts DESC) AND comment = 'event log' AND gc_grace_seconds = 3600
///   AND compaction = {'class': 'LeveledCompactionStrategy'};
/// ```
pub fn sample_schema() -> Schema {
    let mut schema = Schema::new();
    create_keyspace(
        &mut schema,
        "shop",
        props(&[(
            "replication",
            map(&[("class", "NetworkTopologyStrategy"), ("dc1", "3")]),
        )]),
    )
    .expect("create keyspace");
    schema
        .create_type(&CreateType {
            keyspace: "shop".into(),
            name: "address".into(),
            if_not_exists: false,
            fields: vec![
                ("street".into(), CqlType::Text),
                ("zip".into(), CqlType::Int),
            ],
        })
        .expect("create type");
    let address = schema
        .parse_type("shop", "frozen<address>")
        .expect("resolve address");
    schema
        .create_table(
            &CreateTable {
                keyspace: "shop".into(),
                name: "events".into(),
                if_not_exists: false,
                columns: vec![
                    col("tenant", CqlType::Text),
                    col("day", CqlType::Date),
                    col("ts", CqlType::Timestamp),
                    col("id", CqlType::Uuid),
                    static_col("owner", CqlType::Text),
                    col("tags", set(CqlType::Text)),
                    col("attrs", map_type(CqlType::Text, CqlType::Text)),
                    col("home", address),
                    col("payload", CqlType::Blob),
                ],
                partition_key: vec!["tenant".into(), "day".into()],
                clustering_key: vec!["ts".into(), "id".into()],
                clustering_order: vec![("ts".into(), ClusteringOrder::Desc)],
                properties: props(&[
                    ("comment", text("event log")),
                    ("gc_grace_seconds", text("3600")),
                    ("compaction", map(&[("class", "LeveledCompactionStrategy")])),
                ]),
                compact_storage: false,
            },
            id(0xe1),
        )
        .expect("create table");
    schema
}
