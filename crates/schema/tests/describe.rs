//! `DESCRIBE` output: golden strings in Cassandra 5.0's exact format, and round trips —
//! the output parses as CQL and, replayed on an empty schema, recreates a schema that
//! describes identically.

mod common;

use common::*;
use meridian_cql_parser::ast::{
    self, AlterTableAction, ColumnDefinition, PropertyValue, Statement, TableOption,
};
use meridian_schema::describe::{
    describe_generic, describe_keyspace_rows, describe_keyspaces, describe_listing,
    describe_schema_rows, ElementType,
};
use meridian_schema::{
    create_table_statement, describe_keyspace, describe_schema, describe_table, describe_type,
    AlterTableOp, ColumnDef, CreateKeyspace, CreateTable, CreateType, OptionValue, Schema,
    SchemaError,
};
use meridian_types::cql_type::CqlType;
use meridian_types::model::{ClusteringOrder, TableId};

const DEFAULT_OPTIONS_TAIL: &str = "    AND caching = {'keys': 'ALL', 'rows_per_partition': 'NONE'}
    AND cdc = false
    AND comment = ''
    AND compaction = {'class': 'org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy', 'max_threshold': '32', 'min_threshold': '4'}
    AND compression = {'chunk_length_in_kb': '16', 'class': 'org.apache.cassandra.io.compress.LZ4Compressor'}
    AND memtable = 'default'
    AND crc_check_chance = 1.0
    AND default_time_to_live = 0
    AND extensions = {}
    AND gc_grace_seconds = 864000
    AND incremental_backups = true
    AND max_index_interval = 2048
    AND memtable_flush_period_in_ms = 0
    AND min_index_interval = 128
    AND read_repair = 'BLOCKING'
    AND speculative_retry = '99p';";

#[test]
fn simple_table_golden() {
    let mut s = Schema::new();
    create_keyspace(&mut s, "ks", simple("1")).expect("ks");
    s.create_table(&simple_table("ks", "t"), id(1)).expect("t");
    let expected = format!(
        "CREATE TABLE ks.t (
    k int PRIMARY KEY,
    v text
) WITH additional_write_policy = '99p'
    AND allow_auto_snapshot = true
    AND bloom_filter_fp_chance = 0.01
{DEFAULT_OPTIONS_TAIL}"
    );
    assert_eq!(describe_table(&s, "ks", "t", false), Ok(expected));
}

#[test]
fn sample_keyspace_golden() {
    let s = sample_schema();
    let expected = "CREATE KEYSPACE shop WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': '3'}  AND durable_writes = true;

CREATE TYPE shop.address (
    street text,
    zip int
);

CREATE TABLE shop.events (
    tenant text,
    day date,
    ts timestamp,
    id uuid,
    owner text static,
    home frozen<address>,
    payload blob,
    attrs map<text, text>,
    tags set<text>,
    PRIMARY KEY ((tenant, day), ts, id)
) WITH CLUSTERING ORDER BY (ts DESC, id ASC)
    AND additional_write_policy = '99p'
    AND allow_auto_snapshot = true
    AND bloom_filter_fp_chance = 0.1
    AND caching = {'keys': 'ALL', 'rows_per_partition': 'NONE'}
    AND cdc = false
    AND comment = 'event log'
    AND compaction = {'class': 'org.apache.cassandra.db.compaction.LeveledCompactionStrategy', 'max_threshold': '32', 'min_threshold': '4'}
    AND compression = {'chunk_length_in_kb': '16', 'class': 'org.apache.cassandra.io.compress.LZ4Compressor'}
    AND memtable = 'default'
    AND crc_check_chance = 1.0
    AND default_time_to_live = 0
    AND extensions = {}
    AND gc_grace_seconds = 3600
    AND incremental_backups = true
    AND max_index_interval = 2048
    AND memtable_flush_period_in_ms = 0
    AND min_index_interval = 128
    AND read_repair = 'BLOCKING'
    AND speculative_retry = '99p';";
    assert_eq!(
        describe_keyspace(&s, "shop", false),
        Ok(expected.to_string())
    );
    let rows = describe_keyspace_rows(&s, "shop", false, false).expect("rows");
    let kinds: Vec<(ElementType, &str)> = rows
        .iter()
        .map(|r| (r.element_type, r.name.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (ElementType::Keyspace, "shop"),
            (ElementType::Type, "address"),
            (ElementType::Table, "events")
        ]
    );
    assert_eq!(
        describe_type(&s, "shop", "address"),
        Ok("CREATE TYPE shop.address (\n    street text,\n    zip int\n);".to_string())
    );
}

/// A keyspace exercising quoting, nesting and non-default options.
fn tricky_schema() -> Schema {
    let mut s = Schema::new();
    create_keyspace(
        &mut s,
        "Tricky",
        props(&[
            (
                "replication",
                map(&[("class", "SimpleStrategy"), ("replication_factor", "2")]),
            ),
            ("durable_writes", text("false")),
        ]),
    )
    .expect("keyspace");
    s.create_type(&CreateType {
        keyspace: "Tricky".into(),
        name: "Point".into(),
        if_not_exists: false,
        fields: vec![("x".into(), CqlType::Double), ("Y".into(), CqlType::Double)],
    })
    .expect("Point");
    let point = s.parse_type("Tricky", "frozen<\"Point\">").expect("point");
    s.create_type(&CreateType {
        keyspace: "Tricky".into(),
        name: "a_shape".into(),
        if_not_exists: false,
        fields: vec![
            ("points".into(), frozen(list(point.clone()))),
            ("tags".into(), frozen(set(CqlType::Text))),
        ],
    })
    .expect("a_shape");
    let shape = s.parse_type("Tricky", "a_shape").expect("shape");
    s.create_table(
        &CreateTable {
            keyspace: "Tricky".into(),
            name: "Shapes".into(),
            if_not_exists: false,
            columns: vec![
                col("select", CqlType::Text),
                col("c1", CqlType::Int),
                col("C2", CqlType::Timeuuid),
                static_col("owner", point),
                col("shape", shape),
                col(
                    "nested",
                    map_type(CqlType::Text, frozen(list(frozen(set(CqlType::Int))))),
                ),
                col(
                    "pair",
                    CqlType::Tuple(vec![CqlType::Int, frozen(list(CqlType::Text))]),
                ),
                col("embedding", CqlType::Vector(Box::new(CqlType::Float), 3)),
                col("it's", CqlType::Varint),
            ],
            partition_key: vec!["select".into()],
            clustering_key: vec!["c1".into(), "C2".into()],
            clustering_order: vec![
                ("c1".into(), ClusteringOrder::Asc),
                ("C2".into(), ClusteringOrder::Desc),
            ],
            properties: props(&[
                ("comment", text("it's tricky")),
                (
                    "caching",
                    map(&[("keys", "NONE"), ("rows_per_partition", "100")]),
                ),
                ("compression", map(&[("enabled", "false")])),
                ("speculative_retry", text("50ms")),
                ("default_time_to_live", text("86400")),
                ("bloom_filter_fp_chance", text("0.001")),
                ("cdc", text("true")),
            ]),
            compact_storage: false,
        },
        id(0x51),
    )
    .expect("Shapes");
    s.create_table(
        &CreateTable {
            keyspace: "Tricky".into(),
            name: "counts".into(),
            if_not_exists: false,
            columns: vec![col("k", CqlType::Text), col("n", CqlType::Counter)],
            partition_key: vec!["k".into()],
            clustering_key: vec![],
            clustering_order: vec![],
            properties: vec![],
            compact_storage: false,
        },
        id(0x52),
    )
    .expect("counts");
    // History for WITH INTERNALS: a dropped column, and a dropped and re-added one.
    for op in [
        AlterTableOp::AddColumns {
            if_not_exists: false,
            columns: vec![col("gone", CqlType::Blob), col("back", CqlType::Int)],
        },
        AlterTableOp::DropColumns {
            if_exists: false,
            columns: vec!["gone".into(), "back".into()],
            timestamp_micros: 1_700_000_000_000_000,
        },
        AlterTableOp::AddColumns {
            if_not_exists: false,
            columns: vec![col("back", CqlType::Int)],
        },
    ] {
        s.alter_table("Tricky", "Shapes", false, &op)
            .expect("alter");
    }
    s
}

#[test]
fn tricky_table_golden() {
    let s = tricky_schema();
    let t = s.table("Tricky", "Shapes").expect("Shapes");
    let expected = "CREATE TABLE \"Tricky\".\"Shapes\" (
    \"select\" text,
    c1 int,
    \"C2\" timeuuid,
    owner frozen<\"Point\"> static,
    back int,
    embedding vector<float, 3>,
    \"it's\" varint,
    pair frozen<tuple<int, frozen<list<text>>>>,
    nested map<text, frozen<list<frozen<set<int>>>>>,
    shape a_shape,
    PRIMARY KEY (\"select\", c1, \"C2\")
) WITH CLUSTERING ORDER BY (c1 ASC, \"C2\" DESC)
    AND additional_write_policy = '99p'
    AND allow_auto_snapshot = true
    AND bloom_filter_fp_chance = 0.001
    AND caching = {'keys': 'NONE', 'rows_per_partition': '100'}
    AND cdc = true
    AND comment = 'it''s tricky'
    AND compaction = {'class': 'org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy', 'max_threshold': '32', 'min_threshold': '4'}
    AND compression = {'enabled': 'false'}
    AND memtable = 'default'
    AND crc_check_chance = 1.0
    AND default_time_to_live = 86400
    AND extensions = {}
    AND gc_grace_seconds = 864000
    AND incremental_backups = true
    AND max_index_interval = 2048
    AND memtable_flush_period_in_ms = 0
    AND min_index_interval = 128
    AND read_repair = 'BLOCKING'
    AND speculative_retry = '50ms';";
    assert_eq!(create_table_statement(t, false, false), expected);

    let internals = create_table_statement(t, true, false);
    let expected_internals_head = "CREATE TABLE \"Tricky\".\"Shapes\" (
    \"select\" text,
    c1 int,
    \"C2\" timeuuid,
    owner frozen<\"Point\"> static,
    embedding vector<float, 3>,
    \"it's\" varint,
    pair frozen<tuple<int, frozen<list<text>>>>,
    nested map<text, frozen<list<frozen<set<int>>>>>,
    shape a_shape,
    back int,
    gone blob,
    PRIMARY KEY (\"select\", c1, \"C2\")
) WITH ID = 00000000-0000-0000-0000-000000000051
    AND CLUSTERING ORDER BY (c1 ASC, \"C2\" DESC)
    AND additional_write_policy = '99p'";
    assert!(
        internals.starts_with(expected_internals_head),
        "{internals}"
    );
    assert!(
        internals.ends_with(
            "    AND speculative_retry = '50ms';
ALTER TABLE \"Tricky\".\"Shapes\" DROP back USING TIMESTAMP 1700000000000000;
ALTER TABLE \"Tricky\".\"Shapes\" ADD back int;
ALTER TABLE \"Tricky\".\"Shapes\" DROP gone USING TIMESTAMP 1700000000000000;"
        ),
        "{internals}"
    );

    let keyspace = describe_keyspace(&s, "Tricky", false).expect("describe");
    assert!(keyspace.starts_with(
        "CREATE KEYSPACE \"Tricky\" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '2'}  AND durable_writes = false;

CREATE TYPE \"Tricky\".\"Point\" (
    x double,
    \"Y\" double
);

CREATE TYPE \"Tricky\".a_shape (
    points frozen<list<frozen<\"Point\">>>,
    tags frozen<set<text>>
);

CREATE TABLE \"Tricky\".counts (
    k text PRIMARY KEY,
    n counter
) WITH"
    ), "{keyspace}");
    // Tables come by case-insensitive name: counts, then Shapes.
    let tables: Vec<String> = describe_keyspace_rows(&s, "Tricky", false, false)
        .expect("rows")
        .into_iter()
        .filter(|r| r.element_type == ElementType::Table)
        .map(|r| r.name)
        .collect();
    assert_eq!(tables, vec!["counts", "\"Shapes\""]);
}

#[test]
fn system_and_virtual_elements() {
    let s = Schema::new();
    assert_eq!(
        describe_keyspace_rows(&s, "system", true, false)
            .expect("system")
            .into_iter()
            .map(|r| r.create_statement)
            .collect::<Vec<_>>(),
        vec!["CREATE KEYSPACE system WITH replication = {'class': 'LocalStrategy'}  AND durable_writes = true;"]
    );
    let rows = describe_keyspace_rows(&s, "system_virtual_schema", false, false).expect("virtual");
    assert_eq!(
        rows[0].create_statement,
        "/*\nWarning: Keyspace system_virtual_schema is a virtual keyspace and cannot be recreated with CQL.\nStructure, for reference:\nVIRTUAL KEYSPACE system_virtual_schema;\n*/"
    );
    assert_eq!(
        describe_table(&s, "system_virtual_schema", "tables", false),
        Ok("/*\nWarning: Table system_virtual_schema.tables is a virtual table and cannot be recreated with CQL.\nStructure, for reference:\nVIRTUAL TABLE system_virtual_schema.tables (\n    keyspace_name text,\n    table_name text,\n    comment text,\n    PRIMARY KEY (keyspace_name, table_name)\n) WITH CLUSTERING ORDER BY (table_name ASC)\n    AND comment = 'virtual table definitions';\n*/".to_string())
    );
    let local = describe_table(&s, "system", "local", false).expect("local");
    assert!(
        local.starts_with(
            "CREATE TABLE system.local (\n    key text PRIMARY KEY,\n    bootstrapped text,"
        ),
        "{local}"
    );
    assert!(local.contains("\n    AND comment = 'information about the local node'\n"));
    assert!(local.contains("\n    AND gc_grace_seconds = 0\n"));
    assert!(local.contains("\n    AND memtable_flush_period_in_ms = 3600000\n"));
    assert!(local.contains("    tokens set<text>,\n    truncated_at map<uuid, blob>\n) WITH"));
}

#[test]
fn listings_and_errors() {
    let s = sample_schema();
    let names: Vec<String> = describe_keyspaces(&s).into_iter().map(|r| r.name).collect();
    assert_eq!(
        names,
        vec![
            "shop",
            "system",
            "system_auth",
            "system_distributed",
            "system_schema",
            "system_traces",
            "system_views",
            "system_virtual_schema"
        ]
    );
    let tables = describe_listing(&s, Some("shop"), ElementType::Table).expect("tables");
    assert_eq!(tables.len(), 1);
    assert_eq!(
        (tables[0].keyspace_name.as_str(), tables[0].name.as_str()),
        ("shop", "events")
    );
    assert_eq!(
        describe_listing(&s, Some("nope"), ElementType::Type).map_err(|e| e.to_string()),
        Err("'nope' not found in keyspaces".to_string())
    );
    assert_eq!(
        describe_table(&s, "shop", "nope", false).map_err(|e| e.to_string()),
        Err("Table 'nope' not found in keyspace 'shop'".to_string())
    );
    assert_eq!(
        describe_type(&s, "shop", "nope").map_err(|e| e.to_string()),
        Err("User defined type 'nope' not found in 'shop'".to_string())
    );
    assert_eq!(
        describe_generic(&s, None, "shop", None, false).map(|r| r.len()),
        Ok(3)
    );
    assert_eq!(
        describe_generic(&s, None, "events", Some("shop"), false).map(|r| r.len()),
        Ok(1)
    );
    assert_eq!(
        describe_generic(&s, Some("shop"), "nope", None, false).map_err(|e| e.to_string()),
        Err("'nope' not found in keyspace 'shop'".to_string())
    );
    // DESCRIBE SCHEMA shows user keyspaces only; FULL adds the system ones.
    let rows = describe_schema_rows(&s, false, false);
    assert!(rows.iter().all(|r| r.keyspace_name == "shop"));
    let full = describe_schema_rows(&s, true, false);
    assert!(full.iter().any(|r| r.keyspace_name == "system_auth"));
}

// ---------------------------------------------------------------------------------------
// Round trip: DESCRIBE output → parser → schema changes → same DESCRIBE output.
// ---------------------------------------------------------------------------------------

fn option_value(v: &PropertyValue) -> OptionValue {
    match v {
        PropertyValue::Constant(c) => OptionValue::Text(c.raw_text()),
        PropertyValue::Keyword(k) => OptionValue::Text(k.clone()),
        PropertyValue::Map(entries) => OptionValue::Map(
            entries
                .iter()
                .map(|(k, v)| (k.raw_text(), v.raw_text()))
                .collect(),
        ),
    }
}

fn properties(ps: &[ast::Property]) -> Vec<(String, OptionValue)> {
    ps.iter()
        .map(|p| (p.name.as_str().to_string(), option_value(&p.value)))
        .collect()
}

fn column(s: &Schema, ks: &str, name: &str, ty: &ast::CqlType, is_static: bool) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        ty: s.parse_type(ks, &ty.to_string()).expect("type resolves"),
        is_static,
    }
}

/// Applies parsed DDL to `s` (the statements `DESCRIBE` produces).
fn replay(s: &mut Schema, cql: &str) -> Result<(), SchemaError> {
    let statements = meridian_cql_parser::parse_statements(cql)
        .unwrap_or_else(|e| panic!("DESCRIBE output does not parse: {e}\n{cql}"));
    let mut next_id = 1000u128;
    for st in statements {
        match st {
            Statement::CreateKeyspace(k) => {
                s.create_keyspace(
                    &CreateKeyspace {
                        name: k.name.as_str().into(),
                        if_not_exists: k.if_not_exists,
                        properties: properties(&k.properties),
                    },
                    &topology(),
                )?;
            }
            Statement::CreateType(t) => {
                let ks = t
                    .name
                    .keyspace
                    .as_ref()
                    .expect("qualified")
                    .as_str()
                    .to_string();
                let fields = t
                    .fields
                    .iter()
                    .map(|f| {
                        (
                            f.name.as_str().to_string(),
                            s.parse_type(&ks, &f.ty.to_string()).expect("field type"),
                        )
                    })
                    .collect();
                s.create_type(&CreateType {
                    keyspace: ks,
                    name: t.name.name.as_str().into(),
                    if_not_exists: t.if_not_exists,
                    fields,
                })?;
            }
            Statement::CreateTable(t) => {
                let ks = t
                    .name
                    .keyspace
                    .as_ref()
                    .expect("qualified")
                    .as_str()
                    .to_string();
                let columns: Vec<ColumnDef> = t
                    .columns
                    .iter()
                    .map(|c: &ColumnDefinition| column(s, &ks, c.name.as_str(), &c.ty, c.is_static))
                    .collect();
                let (partition_key, clustering_key) = match t.primary_keys.first() {
                    Some(pk) => (
                        pk.partition_key
                            .iter()
                            .map(|i| i.as_str().to_string())
                            .collect(),
                        pk.clustering_columns
                            .iter()
                            .map(|i| i.as_str().to_string())
                            .collect(),
                    ),
                    None => (
                        t.columns
                            .iter()
                            .filter(|c| c.primary_key)
                            .map(|c| c.name.as_str().to_string())
                            .collect(),
                        vec![],
                    ),
                };
                let mut props = vec![];
                let mut clustering_order = vec![];
                let mut compact_storage = false;
                for o in &t.options {
                    match o {
                        TableOption::Property(p) => {
                            props.extend(properties(std::slice::from_ref(p)))
                        }
                        TableOption::ClusteringOrder(items) => {
                            clustering_order = items
                                .iter()
                                .map(|i| {
                                    (
                                        i.column.as_str().to_string(),
                                        if i.order == ast::Order::Desc {
                                            ClusteringOrder::Desc
                                        } else {
                                            ClusteringOrder::Asc
                                        },
                                    )
                                })
                                .collect()
                        }
                        TableOption::CompactStorage => compact_storage = true,
                    }
                }
                next_id += 1;
                s.create_table(
                    &CreateTable {
                        keyspace: ks,
                        name: t.name.name.as_str().into(),
                        if_not_exists: t.if_not_exists,
                        columns,
                        partition_key,
                        clustering_key,
                        clustering_order,
                        properties: props,
                        compact_storage,
                    },
                    TableId(uuid::Uuid::from_u128(next_id)),
                )?;
            }
            Statement::AlterTable(a) => {
                let ks = a
                    .name
                    .keyspace
                    .as_ref()
                    .expect("qualified")
                    .as_str()
                    .to_string();
                let table = a.name.name.as_str().to_string();
                let op = match &a.action {
                    AlterTableAction::Drop {
                        if_exists,
                        columns,
                        timestamp,
                    } => AlterTableOp::DropColumns {
                        if_exists: *if_exists,
                        columns: columns.iter().map(|c| c.as_str().to_string()).collect(),
                        timestamp_micros: timestamp.unwrap_or(0),
                    },
                    AlterTableAction::Add {
                        if_not_exists,
                        columns,
                    } => AlterTableOp::AddColumns {
                        if_not_exists: *if_not_exists,
                        columns: columns
                            .iter()
                            .map(|c| column(s, &ks, c.name.as_str(), &c.ty, c.is_static))
                            .collect(),
                    },
                    other => panic!("unexpected ALTER TABLE in DESCRIBE output: {other:?}"),
                };
                s.alter_table(&ks, &table, false, &op)?;
            }
            other => panic!("unexpected statement in DESCRIBE output: {other:?}"),
        }
    }
    Ok(())
}

fn assert_round_trip(original: &Schema) {
    for with_internals in [false, true] {
        let text = describe_schema(original, false, with_internals);
        let mut recreated = Schema::new();
        replay(&mut recreated, &text).unwrap_or_else(|e| panic!("replay failed: {e}\n{text}"));
        assert_eq!(describe_schema(&recreated, false, with_internals), text);
        if with_internals {
            // Ids and drop records come back too.
            for ks in original.user_keyspaces() {
                for t in ks.tables.values() {
                    let r = recreated
                        .table(ks.name(), &t.name)
                        .expect("table recreated");
                    assert_eq!(r.id, t.id);
                    assert_eq!(r.dropped_columns, t.dropped_columns);
                    assert_eq!(r.params, t.params);
                }
            }
        }
    }
}

#[test]
fn describe_output_recreates_the_schema() {
    assert_round_trip(&sample_schema());
    assert_round_trip(&tricky_schema());
}

#[test]
fn full_schema_parses() {
    // Including system and virtual keyspaces (whose statements are comments or CREATEs).
    let text = describe_schema(&tricky_schema(), true, true);
    meridian_cql_parser::parse_statements(&text)
        .unwrap_or_else(|e| panic!("does not parse: {e}\n{text}"));
}
