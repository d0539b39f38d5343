//! `system_schema` and `system_virtual_schema` rows: decoded with `CqlValue` against the
//! tables' own column types, they hold what drivers and cqlsh expect.

mod common;

use std::collections::BTreeMap;

use common::*;
use meridian_schema::{system_schema_rows, system_table_rows, virtual_schema_rows, Schema};
use meridian_types::token::murmur3_token;
use meridian_types::value::CqlValue;

/// Decodes the rows of `keyspace.table` into column-name → value maps.
fn decoded(
    schema: &Schema,
    keyspace: &str,
    table: &str,
) -> Vec<BTreeMap<String, Option<CqlValue>>> {
    let meta = schema.table(keyspace, table).expect("table metadata");
    let columns = meta.select_order();
    let rows = system_table_rows(schema, keyspace, table).expect("generated table");
    rows.iter()
        .map(|row| {
            assert_eq!(row.len(), columns.len(), "one cell per column");
            columns
                .iter()
                .zip(row)
                .map(|(c, cell)| {
                    let value = cell.as_ref().map(|b| {
                        CqlValue::deserialize(&c.ty, b)
                            .unwrap_or_else(|e| panic!("{table}.{}: {e}", c.name))
                    });
                    (c.name.clone(), value)
                })
                .collect()
        })
        .collect()
}

fn t(s: &str) -> Option<CqlValue> {
    Some(CqlValue::Text(s.into()))
}

fn find<'a>(
    rows: &'a [BTreeMap<String, Option<CqlValue>>],
    key: &[(&str, &str)],
) -> &'a BTreeMap<String, Option<CqlValue>> {
    rows.iter()
        .find(|r| key.iter().all(|(k, v)| r.get(*k) == Some(&t(v))))
        .unwrap_or_else(|| panic!("no row {key:?}"))
}

#[test]
fn keyspaces_rows() {
    let s = sample_schema();
    let rows = decoded(&s, "system_schema", "keyspaces");
    let names: Vec<String> = rows
        .iter()
        .filter_map(|r| match r.get("keyspace_name") {
            Some(Some(CqlValue::Text(n))) => Some(n.clone()),
            _ => None,
        })
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        vec![
            "shop",
            "system",
            "system_auth",
            "system_distributed",
            "system_schema",
            "system_traces"
        ]
    );
    // Partitions come in token order.
    let tokens: Vec<i64> = names
        .iter()
        .map(|n| murmur3_token(n.as_bytes()).value())
        .collect();
    assert!(tokens.windows(2).all(|w| w[0] <= w[1]), "{names:?}");

    let shop = find(&rows, &[("keyspace_name", "shop")]);
    assert_eq!(
        shop.get("durable_writes"),
        Some(&Some(CqlValue::Boolean(true)))
    );
    assert_eq!(
        shop.get("replication"),
        Some(&Some(CqlValue::Map(vec![
            (
                CqlValue::Text("class".into()),
                CqlValue::Text("org.apache.cassandra.locator.NetworkTopologyStrategy".into())
            ),
            (CqlValue::Text("dc1".into()), CqlValue::Text("3".into())),
        ])))
    );
    let system = find(&rows, &[("keyspace_name", "system")]);
    assert_eq!(
        system.get("replication"),
        Some(&Some(CqlValue::Map(vec![(
            CqlValue::Text("class".into()),
            CqlValue::Text("org.apache.cassandra.locator.LocalStrategy".into())
        )])))
    );
    // Select order: partition key first, then the rest alphabetically.
    let meta = s.table("system_schema", "keyspaces").expect("meta");
    let order: Vec<&str> = meta
        .select_order()
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        order,
        vec!["keyspace_name", "durable_writes", "replication"]
    );
}

#[test]
fn tables_rows() {
    let s = sample_schema();
    let rows = decoded(&s, "system_schema", "tables");
    let events = find(
        &rows,
        &[("keyspace_name", "shop"), ("table_name", "events")],
    );
    assert_eq!(
        events.get("flags"),
        Some(&Some(CqlValue::Set(vec![CqlValue::Text(
            "compound".into()
        )])))
    );
    assert_eq!(
        events.get("id"),
        Some(&Some(CqlValue::Uuid(uuid::Uuid::from_u128(0xe1))))
    );
    assert_eq!(events.get("comment"), Some(&t("event log")));
    assert_eq!(
        events.get("gc_grace_seconds"),
        Some(&Some(CqlValue::Int(3600)))
    );
    assert_eq!(
        events.get("bloom_filter_fp_chance"),
        Some(&Some(CqlValue::Double(0.1)))
    );
    assert_eq!(events.get("speculative_retry"), Some(&t("99p")));
    assert_eq!(events.get("read_repair"), Some(&t("BLOCKING")));
    assert_eq!(
        events.get("dclocal_read_repair_chance"),
        Some(&Some(CqlValue::Double(0.0)))
    );
    assert_eq!(events.get("extensions"), Some(&Some(CqlValue::Map(vec![]))));
    assert_eq!(
        events.get("caching"),
        Some(&Some(CqlValue::Map(vec![
            (CqlValue::Text("keys".into()), CqlValue::Text("ALL".into())),
            (
                CqlValue::Text("rows_per_partition".into()),
                CqlValue::Text("NONE".into())
            ),
        ])))
    );
    match events.get("compaction") {
        Some(Some(CqlValue::Map(entries))) => assert!(entries.contains(&(
            CqlValue::Text("class".into()),
            CqlValue::Text("org.apache.cassandra.db.compaction.LeveledCompactionStrategy".into())
        ))),
        other => panic!("compaction {other:?}"),
    }
    // Options Cassandra writes only when not default are null.
    assert_eq!(events.get("cdc"), Some(&None));
    assert_eq!(events.get("memtable"), Some(&None));
    // System tables are listed too, so that cqlsh can SELECT them.
    find(
        &rows,
        &[("keyspace_name", "system"), ("table_name", "local")],
    );
    find(
        &rows,
        &[
            ("keyspace_name", "system_schema"),
            ("table_name", "columns"),
        ],
    );
    // Virtual tables are not.
    assert!(rows
        .iter()
        .all(|r| r.get("keyspace_name") != Some(&t("system_virtual_schema"))));
    // Within a partition, rows are in clustering (table name) order.
    let system_schema_tables: Vec<&Option<CqlValue>> = rows
        .iter()
        .filter(|r| r.get("keyspace_name") == Some(&t("system_schema")))
        .filter_map(|r| r.get("table_name"))
        .collect();
    let mut sorted = system_schema_tables.clone();
    sorted.sort_by_key(|v| v.as_ref().map(|v| v.to_string()));
    assert_eq!(system_schema_tables, sorted);
}

#[test]
fn columns_rows() {
    let s = sample_schema();
    let rows = decoded(&s, "system_schema", "columns");
    let expect = [
        ("tenant", "partition_key", 0, "none", "text"),
        ("day", "partition_key", 1, "none", "date"),
        ("ts", "clustering", 0, "desc", "timestamp"),
        ("id", "clustering", 1, "asc", "uuid"),
        ("owner", "static", -1, "none", "text"),
        ("tags", "regular", -1, "none", "set<text>"),
        ("attrs", "regular", -1, "none", "map<text, text>"),
        ("home", "regular", -1, "none", "frozen<address>"),
        ("payload", "regular", -1, "none", "blob"),
    ];
    for (name, kind, position, order, ty) in expect {
        let r = find(
            &rows,
            &[
                ("keyspace_name", "shop"),
                ("table_name", "events"),
                ("column_name", name),
            ],
        );
        assert_eq!(r.get("kind"), Some(&t(kind)), "{name}");
        assert_eq!(
            r.get("position"),
            Some(&Some(CqlValue::Int(position))),
            "{name}"
        );
        assert_eq!(r.get("clustering_order"), Some(&t(order)), "{name}");
        assert_eq!(r.get("type"), Some(&t(ty)), "{name}");
        assert_eq!(
            r.get("column_name_bytes"),
            Some(&Some(CqlValue::Blob(bytes::Bytes::copy_from_slice(
                name.as_bytes()
            )))),
        );
    }
    let tokens = find(
        &rows,
        &[
            ("keyspace_name", "system"),
            ("table_name", "local"),
            ("column_name", "tokens"),
        ],
    );
    assert_eq!(tokens.get("type"), Some(&t("set<text>")));
}

#[test]
fn types_and_dropped_columns_rows() {
    let mut s = sample_schema();
    s.alter_table(
        "shop",
        "events",
        false,
        &meridian_schema::AlterTableOp::DropColumns {
            if_exists: false,
            columns: vec!["home".into()],
            timestamp_micros: 1_234_567_890,
        },
    )
    .expect("drop home");
    let rows = decoded(&s, "system_schema", "types");
    let address = find(
        &rows,
        &[("keyspace_name", "shop"), ("type_name", "address")],
    );
    assert_eq!(
        address.get("field_names"),
        Some(&Some(CqlValue::List(vec![
            CqlValue::Text("street".into()),
            CqlValue::Text("zip".into())
        ])))
    );
    assert_eq!(
        address.get("field_types"),
        Some(&Some(CqlValue::List(vec![
            CqlValue::Text("text".into()),
            CqlValue::Text("int".into())
        ])))
    );
    let rows = decoded(&s, "system_schema", "dropped_columns");
    let home = find(&rows, &[("keyspace_name", "shop"), ("column_name", "home")]);
    // The UDT is recorded as the equivalent tuple.
    assert_eq!(home.get("type"), Some(&t("frozen<tuple<text, int>>")));
    assert_eq!(home.get("kind"), Some(&t("regular")));
    assert_eq!(
        home.get("dropped_time"),
        Some(&Some(CqlValue::Timestamp(1_234_567)))
    );
    find(
        &rows,
        &[
            ("keyspace_name", "system"),
            ("column_name", "thrift_version"),
        ],
    );
}

#[test]
fn empty_and_unknown_tables() {
    let s = Schema::new();
    for table in [
        "triggers",
        "views",
        "functions",
        "aggregates",
        "indexes",
        "column_masks",
    ] {
        assert_eq!(system_schema_rows(&s, table), Some(vec![]), "{table}");
    }
    assert_eq!(system_schema_rows(&s, "scylla_tables"), None);
    assert_eq!(system_table_rows(&s, "system", "local"), None);
}

#[test]
fn virtual_schema_rows_describe_virtual_keyspaces() {
    let s = Schema::new();
    let ks = decoded(&s, "system_virtual_schema", "keyspaces");
    assert_eq!(ks.len(), 2);
    assert_eq!(ks[0].get("keyspace_name"), Some(&t("system_views")));
    assert_eq!(
        ks[1].get("keyspace_name"),
        Some(&t("system_virtual_schema"))
    );
    let tables = decoded(&s, "system_virtual_schema", "tables");
    let names: Vec<&Option<CqlValue>> = tables.iter().filter_map(|r| r.get("table_name")).collect();
    assert_eq!(
        names,
        vec![
            &t("pending_hints"),
            &t("columns"),
            &t("keyspaces"),
            &t("tables")
        ]
    );
    let columns = decoded(&s, "system_virtual_schema", "columns");
    let c = find(
        &columns,
        &[("table_name", "tables"), ("column_name", "comment")],
    );
    assert_eq!(c.get("kind"), Some(&t("regular")));
    assert_eq!(virtual_schema_rows(&s, "nope"), None);
}
