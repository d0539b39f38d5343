//! Schema changes: outcomes, `IF [NOT] EXISTS`, and Cassandra's validation errors (message
//! and error class) for keyspaces, tables and user-defined types.

mod common;

use common::*;
use meridian_schema::{
    AlterKeyspace, AlterTableOp, AlterTypeOp, ChangeTarget, ChangeType, ColumnKind, CreateKeyspace,
    CreateTable, CreateType, DdlOutcome, ErrorKind, Replication, Schema, SchemaChangeEvent,
    SchemaError,
};
use meridian_types::cql_type::CqlType;
use meridian_types::model::{ClusteringOrder, ColumnId};

fn message(r: Result<DdlOutcome, SchemaError>) -> (String, ErrorKind) {
    let e = r.expect_err("the statement should be refused");
    (e.to_string(), e.kind())
}

fn invalid(msg: &str) -> (String, ErrorKind) {
    (msg.to_string(), ErrorKind::Invalid)
}

fn with_keyspace() -> Schema {
    let mut s = Schema::new();
    create_keyspace(&mut s, "ks", simple("1")).expect("create ks");
    s
}

fn with_table() -> Schema {
    let mut s = with_keyspace();
    s.create_table(&simple_table("ks", "t"), id(1))
        .expect("create t");
    s
}

#[test]
fn keyspace_lifecycle() {
    let mut s = Schema::new();
    assert_eq!(
        create_keyspace(&mut s, "ks", simple("3")),
        Ok(DdlOutcome::Applied(SchemaChangeEvent {
            change: ChangeType::Created,
            target: ChangeTarget::Keyspace,
            keyspace: "ks".into(),
            name: None,
        }))
    );
    let ks = s.keyspace("ks").expect("ks exists");
    assert_eq!(
        ks.metadata.replication,
        Replication::Simple {
            replication_factor: 3
        }
    );
    assert!(ks.metadata.durable_writes);

    let e = create_keyspace(&mut s, "ks", simple("3")).expect_err("exists");
    assert_eq!(e.to_string(), "Cannot add existing keyspace \"ks\"");
    assert_eq!(
        e.kind(),
        ErrorKind::AlreadyExists {
            keyspace: "ks".into(),
            table: String::new()
        }
    );
    let again = CreateKeyspace {
        name: "ks".into(),
        if_not_exists: true,
        properties: simple("1"),
    };
    assert_eq!(
        s.create_keyspace(&again, &topology()),
        Ok(DdlOutcome::Unchanged)
    );

    // ALTER: NTS with replication_factor expands to the known datacenters.
    let alter = AlterKeyspace {
        name: "ks".into(),
        if_exists: false,
        properties: props(&[
            (
                "replication",
                map(&[
                    ("class", "NetworkTopologyStrategy"),
                    ("replication_factor", "2"),
                ]),
            ),
            ("durable_writes", text("false")),
        ]),
    };
    assert!(matches!(
        s.alter_keyspace(&alter, &topology()),
        Ok(DdlOutcome::Applied(SchemaChangeEvent {
            change: ChangeType::Updated,
            ..
        }))
    ));
    let ks = s.keyspace("ks").expect("ks exists");
    assert_eq!(ks.metadata.replication.total_replicas(), 4);
    assert!(!ks.metadata.durable_writes);
    // The same ALTER again changes nothing.
    assert_eq!(
        s.alter_keyspace(&alter, &topology()),
        Ok(DdlOutcome::Unchanged)
    );

    assert!(matches!(
        s.drop_keyspace("ks", false),
        Ok(DdlOutcome::Applied(_))
    ));
    assert_eq!(s.drop_keyspace("ks", true), Ok(DdlOutcome::Unchanged));
    assert_eq!(
        message(s.drop_keyspace("ks", false)),
        invalid("Keyspace 'ks' doesn't exist")
    );
}

#[test]
fn keyspace_errors() {
    let mut s = Schema::new();
    assert_eq!(
        message(create_keyspace(&mut s, "ks", vec![])),
        invalid("Missing mandatory option 'replication'")
    );
    assert_eq!(
        message(create_keyspace(
            &mut s,
            "ks",
            props(&[("replicas", text("3"))])
        )),
        ("Unknown property 'replicas'".into(), ErrorKind::Syntax)
    );
    assert_eq!(
        message(create_keyspace(
            &mut s,
            "ks",
            props(&[("replication", map(&[("replication_factor", "3")]))])
        )),
        (
            "Missing replication strategy class".into(),
            ErrorKind::Config
        )
    );
    assert_eq!(
        message(create_keyspace(
            &mut s,
            "ks",
            props(&[(
                "replication",
                map(&[("class", "NetworkTopologyStrategy"), ("dc3", "1")])
            )])
        )),
        (
            "Unrecognized strategy option {dc3} passed to NetworkTopologyStrategy for keyspace ks"
                .into(),
            ErrorKind::Config
        )
    );
    assert_eq!(
        message(create_keyspace(&mut s, "system", simple("1"))),
        invalid("System keyspace 'system' is not user-modifiable")
    );
    assert_eq!(
        message(create_keyspace(&mut s, "system_views", simple("1"))),
        invalid("System keyspace 'system_views' is not user-modifiable")
    );
    assert_eq!(
        message(create_keyspace(&mut s, "bad-name", simple("1"))),
        invalid("Keyspace name must not be empty and must contain alphanumeric or underscore characters only (got \"bad-name\")")
    );
    assert_eq!(
        message(create_keyspace(&mut s, "system_auth", simple("1"))).1,
        ErrorKind::AlreadyExists {
            keyspace: "system_auth".into(),
            table: String::new()
        }
    );
    assert_eq!(
        message(s.drop_keyspace("system", false)),
        (
            "system keyspace is not user-modifiable.".into(),
            ErrorKind::Unauthorized
        )
    );
    assert_eq!(
        message(s.drop_keyspace("system_auth", false)),
        (
            "Cannot DROP <keyspace system_auth>".into(),
            ErrorKind::Unauthorized
        )
    );
    assert_eq!(
        message(s.create_table(&simple_table("system_schema", "x"), id(9))),
        (
            "system_schema keyspace is not user-modifiable.".into(),
            ErrorKind::Unauthorized
        )
    );
    // Replicated system keyspaces may be altered; the change is part of the version and is
    // persisted.
    let before = s.version();
    let alter = AlterKeyspace {
        name: "system_auth".into(),
        if_exists: false,
        properties: simple("3"),
    };
    assert!(matches!(
        s.alter_keyspace(&alter, &topology()),
        Ok(DdlOutcome::Applied(_))
    ));
    assert_ne!(s.version(), before);
    let back = Schema::from_persisted(&s.to_persisted()).expect("loads");
    assert_eq!(
        back.keyspace("system_auth")
            .map(|k| &k.metadata.replication),
        Some(&Replication::Simple {
            replication_factor: 3
        })
    );
    assert_eq!(back.version(), s.version());
}

#[test]
fn table_lifecycle() {
    let mut s = with_keyspace();
    let stmt = simple_table("ks", "t");
    assert_eq!(
        s.create_table(&stmt, id(1)),
        Ok(DdlOutcome::Applied(SchemaChangeEvent {
            change: ChangeType::Created,
            target: ChangeTarget::Table,
            keyspace: "ks".into(),
            name: Some("t".into()),
        }))
    );
    let t = s.table("ks", "t").expect("t exists");
    assert_eq!(t.id, id(1));
    assert_eq!(t.flags(), vec!["compound"]);
    assert_eq!(s.table_by_id(id(1)).map(|t| t.name.as_str()), Some("t"));

    let e = s.create_table(&stmt, id(2)).expect_err("exists");
    assert_eq!(
        e.to_string(),
        "Cannot add already existing table \"t\" to keyspace \"ks\""
    );
    assert_eq!(
        e.kind(),
        ErrorKind::AlreadyExists {
            keyspace: "ks".into(),
            table: "t".into()
        }
    );
    let mut ine = stmt.clone();
    ine.if_not_exists = true;
    assert_eq!(s.create_table(&ine, id(2)), Ok(DdlOutcome::Unchanged));

    // WITH id = '…' overrides the generated id; ids are unique.
    let mut with_id = simple_table("ks", "t2");
    with_id.properties = props(&[("id", text("00000000-0000-0000-0000-000000000001"))]);
    assert_eq!(
        message(s.create_table(&with_id, id(3))),
        (
            "Table id 00000000-0000-0000-0000-000000000001 is already used by table ks.t".into(),
            ErrorKind::Config
        )
    );

    assert!(matches!(
        s.drop_table("ks", "t", false),
        Ok(DdlOutcome::Applied(_))
    ));
    assert_eq!(s.drop_table("ks", "t", true), Ok(DdlOutcome::Unchanged));
    assert_eq!(
        message(s.drop_table("ks", "t", false)),
        invalid("Table 'ks.t' doesn't exist")
    );
}

#[test]
fn create_table_errors() {
    let mut s = with_keyspace();
    let base = simple_table("ks", "t");
    let check = |s: &mut Schema, stmt: CreateTable, expected: (&str, ErrorKind)| {
        let e = s.create_table(&stmt, id(7)).expect_err("should fail");
        assert_eq!((e.to_string().as_str(), e.kind()), expected);
    };
    check(
        &mut s,
        CreateTable {
            keyspace: "nope".into(),
            ..base.clone()
        },
        ("Keyspace 'nope' doesn't exist", ErrorKind::Invalid),
    );
    check(
        &mut s,
        CreateTable {
            partition_key: vec!["x".into()],
            ..base.clone()
        },
        (
            "Unknown column 'x' referenced in PRIMARY KEY for table 't'",
            ErrorKind::Invalid,
        ),
    );
    check(
        &mut s,
        CreateTable {
            partition_key: vec![],
            ..base.clone()
        },
        (
            "No PRIMARY KEY specifed for table 't' (exactly one required)",
            ErrorKind::Invalid,
        ),
    );
    check(
        &mut s,
        CreateTable {
            columns: vec![col("k", CqlType::Int), col("k", CqlType::Text)],
            ..base.clone()
        },
        ("Multiple definition of identifier k", ErrorKind::Invalid),
    );
    check(
        &mut s,
        CreateTable {
            partition_key: vec!["k".into()],
            clustering_key: vec!["k".into()],
            ..base.clone()
        },
        (
            "Duplicate column 'k' in PRIMARY KEY clause for table 't'",
            ErrorKind::Invalid,
        ),
    );
    check(
        &mut s,
        CreateTable {
            columns: vec![col("k", list(CqlType::Int)), col("v", CqlType::Text)],
            ..base.clone()
        },
        (
            "Invalid non-frozen collection type list<int> for PRIMARY KEY column 'k'",
            ErrorKind::Invalid,
        ),
    );
    check(
        &mut s,
        CreateTable {
            columns: vec![col("k", CqlType::Int), col("v", CqlType::Counter)],
            properties: props(&[("default_time_to_live", text("10"))]),
            ..base.clone()
        },
        (
            "Cannot set default_time_to_live on a table with counters",
            ErrorKind::Invalid,
        ),
    );
    check(
        &mut s,
        CreateTable {
            columns: vec![
                col("k", CqlType::Int),
                col("v", CqlType::Counter),
                col("w", CqlType::Int),
            ],
            ..base.clone()
        },
        (
            "Cannot mix counter and non counter columns in the same table",
            ErrorKind::Invalid,
        ),
    );
    check(
        &mut s,
        CreateTable {
            columns: vec![col("k", CqlType::Int), static_col("v", CqlType::Text)],
            ..base.clone()
        },
        (
            "Static columns are only useful (and thus allowed) if the table has at least one clustering column",
            ErrorKind::Invalid,
        ),
    );
    check(
        &mut s,
        CreateTable {
            columns: vec![
                col("k", CqlType::Int),
                col("a", CqlType::Int),
                col("b", CqlType::Int),
            ],
            clustering_key: vec!["a".into(), "b".into()],
            clustering_order: vec![
                ("b".into(), ClusteringOrder::Desc),
                ("a".into(), ClusteringOrder::Asc),
            ],
            ..base.clone()
        },
        (
            "The order of columns in the CLUSTERING ORDER directive must match that of the clustering columns (a must appear before b)",
            ErrorKind::Invalid,
        ),
    );
    check(
        &mut s,
        CreateTable {
            clustering_order: vec![("v".into(), ClusteringOrder::Desc)],
            ..base.clone()
        },
        (
            "Only clustering key columns can be defined in CLUSTERING ORDER directive: [v] are not clustering columns",
            ErrorKind::Invalid,
        ),
    );
    check(
        &mut s,
        CreateTable {
            columns: vec![col("k", CqlType::Int), col("v", list(set(CqlType::Int)))],
            ..base.clone()
        },
        (
            "Non-frozen collections are not allowed inside collections: list<set<int>>",
            ErrorKind::Invalid,
        ),
    );
    check(
        &mut s,
        CreateTable {
            properties: props(&[("gc_grace_seconds", text("-5"))]),
            ..base.clone()
        },
        (
            "gc_grace_seconds must be greater than or equal to 0 (got -5)",
            ErrorKind::Config,
        ),
    );
    check(
        &mut s,
        CreateTable {
            properties: props(&[("gc_grace", text("5"))]),
            ..base.clone()
        },
        ("Unknown property 'gc_grace'", ErrorKind::Syntax),
    );
    check(
        &mut s,
        CreateTable {
            name: "x".repeat(223),
            ..base.clone()
        },
        (
            &format!("ks.{x}: Table name must not be more than 222 characters long (got 223 characters for \"{x}\")", x = "x".repeat(223)),
            ErrorKind::Config,
        ),
    );
    check(
        &mut s,
        CreateTable {
            compact_storage: true,
            ..base
        },
        (
            "Compact tables are not allowed in Cassandra starting with 4.0 version.",
            ErrorKind::Invalid,
        ),
    );
}

#[test]
fn alter_table_columns() {
    let mut s = with_table();
    let add = |columns| AlterTableOp::AddColumns {
        if_not_exists: false,
        columns,
    };
    assert_eq!(
        message(s.alter_table("ks", "t", false, &add(vec![col("v", CqlType::Int)]))),
        invalid("Column with name 'v' already exists")
    );
    assert_eq!(
        s.alter_table(
            "ks",
            "t",
            false,
            &AlterTableOp::AddColumns {
                if_not_exists: true,
                columns: vec![col("v", CqlType::Int)]
            }
        ),
        Ok(DdlOutcome::Unchanged)
    );
    assert!(matches!(
        s.alter_table("ks", "t", false, &add(vec![col("w", list(CqlType::Int))])),
        Ok(DdlOutcome::Applied(_))
    ));
    let t = s.table("ks", "t").expect("t");
    // Added columns get fresh ids derived from their definition (see `merge`).
    let w = t.column("w").map(|c| c.id).expect("w added");
    assert!(w.0 >= meridian_schema::merge::ADDED_COLUMN_ID_MIN);
    assert_eq!(t.columns().iter().filter(|c| c.id == w).count(), 1);
    assert!(t.next_column_id > w.0);
    assert_eq!(
        message(s.alter_table(
            "ks",
            "t",
            false,
            &AlterTableOp::AddColumns {
                if_not_exists: false,
                columns: vec![static_col("s", CqlType::Int)]
            }
        )),
        invalid("Static columns are only useful (and thus allowed) if the table has at least one clustering column")
    );
    assert_eq!(
        message(s.alter_table("ks", "t", false, &add(vec![col("c", CqlType::Counter)]))),
        (
            "Cannot have a counter column (\"c\") in a non counter table".into(),
            ErrorKind::Config
        )
    );

    // Renaming: only primary key columns; the column keeps its id.
    let rename = |from: &str, to: &str| AlterTableOp::RenameColumns {
        if_exists: false,
        renames: vec![(from.into(), to.into())],
    };
    assert_eq!(
        message(s.alter_table("ks", "t", false, &rename("v", "v2"))),
        invalid("Cannot rename non PRIMARY KEY column v")
    );
    assert_eq!(
        message(s.alter_table("ks", "t", false, &rename("k", "v"))),
        invalid("Cannot rename column k to v in table 'ks.t'; another column with that name already exists")
    );
    assert_eq!(
        message(s.alter_table("ks", "t", false, &rename("zz", "k2"))),
        invalid("Column zz was not found in table ks.t")
    );
    assert!(matches!(
        s.alter_table("ks", "t", false, &rename("k", "key")),
        Ok(DdlOutcome::Applied(_))
    ));
    let t = s.table("ks", "t").expect("t");
    assert_eq!(
        t.column("key").map(|c| (c.id, c.kind)),
        Some((ColumnId(0), ColumnKind::PartitionKey { position: 0 }))
    );

    assert_eq!(
        message(s.alter_table(
            "ks",
            "t",
            false,
            &AlterTableOp::AlterColumnType { column: "v".into() }
        )),
        invalid("Altering column types is no longer supported")
    );

    // Dropping records the column; re-adding gives it a new id.
    let drop = |name: &str, ts: i64| AlterTableOp::DropColumns {
        if_exists: false,
        columns: vec![name.into()],
        timestamp_micros: ts,
    };
    assert_eq!(
        message(s.alter_table("ks", "t", false, &drop("key", 10))),
        invalid("Cannot drop PRIMARY KEY column key")
    );
    assert_eq!(
        message(s.alter_table("ks", "t", false, &drop("nope", 10))),
        invalid("Column nope was not found in table 'ks.t'")
    );
    assert!(matches!(
        s.alter_table("ks", "t", false, &drop("v", 1_000_000)),
        Ok(DdlOutcome::Applied(_))
    ));
    let t = s.table("ks", "t").expect("t");
    assert!(t.column("v").is_none());
    let dropped = t.dropped_columns.get("v").expect("v recorded");
    assert_eq!(dropped.ty, CqlType::Text);
    assert_eq!(dropped.dropped_at_micros, 1_000_000);
    assert_eq!(dropped.kind, ColumnKind::Regular);
    assert_eq!(
        message(s.alter_table("ks", "t", false, &add(vec![col("v", CqlType::Int)]))),
        invalid("Cannot re-add previously dropped column 'v' of type int, incompatible with previous type text")
    );
    assert!(matches!(
        s.alter_table("ks", "t", false, &add(vec![col("v", CqlType::Text)])),
        Ok(DdlOutcome::Applied(_))
    ));
    let t = s.table("ks", "t").expect("t");
    let v = t.column("v").map(|c| c.id).expect("v re-added");
    assert!(
        ![ColumnId(0), ColumnId(1), w].contains(&v),
        "ids are never reused"
    );
    assert!(t.dropped_columns.contains_key("v"), "the drop record stays");

    assert_eq!(
        message(s.alter_table("ks", "nope", false, &drop("v", 1))),
        invalid("Table 'ks.nope' doesn't exist")
    );
    assert_eq!(
        s.alter_table("ks", "nope", true, &drop("v", 1)),
        Ok(DdlOutcome::Unchanged)
    );
}

#[test]
fn alter_table_options() {
    let mut s = with_table();
    let set = |p| AlterTableOp::SetOptions(p);
    assert!(matches!(
        s.alter_table(
            "ks",
            "t",
            false,
            &set(props(&[
                ("comment", text("hello")),
                ("gc_grace_seconds", text("10"))
            ]))
        ),
        Ok(DdlOutcome::Applied(_))
    ));
    let t = s.table("ks", "t").expect("t");
    assert_eq!(t.params.comment, "hello");
    assert_eq!(t.params.gc_grace_seconds, 10);
    // Unchanged options: no schema change.
    assert_eq!(
        s.alter_table("ks", "t", false, &set(props(&[("comment", text("hello"))]))),
        Ok(DdlOutcome::Unchanged)
    );
    assert_eq!(
        message(s.alter_table(
            "ks",
            "t",
            false,
            &set(props(&[(
                "id",
                text("00000000-0000-0000-0000-000000000009")
            )]))
        )),
        ("Cannot alter table id.".into(), ErrorKind::Config)
    );
    assert_eq!(
        message(s.alter_table(
            "system_auth",
            "roles",
            false,
            &set(props(&[("comment", text("x"))]))
        )),
        (
            "<table system_auth.roles> schema is protected".into(),
            ErrorKind::Unauthorized
        )
    );
    assert!(matches!(
        s.alter_table(
            "system_traces",
            "events",
            false,
            &set(props(&[("default_time_to_live", text("86400"))]))
        ),
        Ok(DdlOutcome::Applied(_))
    ));
}

#[test]
fn user_types() {
    let mut s = with_keyspace();
    let create = |name: &str, fields: Vec<(&str, CqlType)>| CreateType {
        keyspace: "ks".into(),
        name: name.into(),
        if_not_exists: false,
        fields: fields.into_iter().map(|(n, t)| (n.into(), t)).collect(),
    };
    assert!(matches!(
        s.create_type(&create(
            "address",
            vec![("street", CqlType::Text), ("zip", CqlType::Int)]
        )),
        Ok(DdlOutcome::Applied(SchemaChangeEvent {
            target: ChangeTarget::Type,
            ..
        }))
    ));
    assert_eq!(
        message(s.create_type(&create("address", vec![("a", CqlType::Int)]))),
        invalid("A user type with name 'address' already exists")
    );
    assert_eq!(
        message(s.create_type(&create(
            "dup",
            vec![("a", CqlType::Int), ("a", CqlType::Text)]
        ))),
        invalid("Duplicate field name 'a' in type 'dup'")
    );
    assert_eq!(
        message(s.create_type(&create("c", vec![("a", CqlType::Counter)]))),
        invalid("A user type cannot contain counters")
    );
    let address = s.parse_type("ks", "address").expect("resolves");
    assert_eq!(
        message(s.create_type(&create("c", vec![("a", address)]))),
        invalid("A user type cannot contain non-frozen UDTs")
    );
    assert_eq!(
        s.parse_type("ks", "frozen<nope>")
            .map_err(|e| e.to_string()),
        Err("Unknown type ks.nope".to_string())
    );

    // A type used by another type and by a table cannot be dropped.
    let frozen_address = s.parse_type("ks", "frozen<address>").expect("resolves");
    s.create_type(&create("person", vec![("home", frozen_address.clone())]))
        .expect("person");
    assert_eq!(
        message(s.drop_type("ks", "address", false)),
        invalid("Cannot drop user type 'ks.address' as it is still used by user types person")
    );
    let mut table = simple_table("ks", "people");
    table.columns.push(col("addr", frozen_address));
    s.create_table(&table, id(5)).expect("people");
    s.drop_type("ks", "person", false).expect("person unused");
    assert_eq!(
        message(s.drop_type("ks", "address", false)),
        invalid("Cannot drop user type 'ks.address' as it is still used by tables people")
    );
    assert_eq!(
        message(s.drop_type("ks", "nope", false)),
        invalid("Type 'ks.nope' doesn't exist")
    );
    assert_eq!(s.drop_type("ks", "nope", true), Ok(DdlOutcome::Unchanged));

    // ALTER TYPE: new fields reach the tables using the type.
    let add = AlterTypeOp::AddField {
        if_not_exists: false,
        name: "city".into(),
        ty: CqlType::Text,
    };
    assert!(matches!(
        s.alter_type("ks", "address", false, &add),
        Ok(DdlOutcome::Applied(_))
    ));
    let column = s
        .table("ks", "people")
        .and_then(|t| t.column("addr"))
        .expect("addr");
    match &column.ty {
        CqlType::Frozen(inner) => match inner.as_ref() {
            CqlType::Udt(u) => assert_eq!(u.fields.len(), 3),
            other => panic!("unexpected {other:?}"),
        },
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        message(s.alter_type("ks", "address", false, &add)),
        invalid("Cannot add field city to type ks.address: a field with name city already exists")
    );
    let self_ref = s.parse_type("ks", "frozen<address>").expect("resolves");
    assert_eq!(
        message(s.alter_type(
            "ks",
            "address",
            false,
            &AlterTypeOp::AddField {
                if_not_exists: false,
                name: "next".into(),
                ty: self_ref
            }
        )),
        invalid("Cannot add new field next of type frozen<address> to user type ks.address as it would create a circular reference")
    );
    assert!(matches!(
        s.alter_type(
            "ks",
            "address",
            false,
            &AlterTypeOp::RenameFields {
                if_exists: false,
                renames: vec![("zip".into(), "postcode".into())]
            }
        ),
        Ok(DdlOutcome::Applied(_))
    ));
    assert_eq!(
        message(s.alter_type(
            "ks",
            "address",
            false,
            &AlterTypeOp::RenameFields {
                if_exists: false,
                renames: vec![("nope".into(), "x".into())]
            }
        )),
        invalid("Unkown field nope in user type ks.address")
    );
    assert_eq!(
        message(s.alter_type(
            "ks",
            "address",
            false,
            &AlterTypeOp::AlterFieldType {
                field: "city".into()
            }
        )),
        invalid("Altering field types is no longer supported")
    );
    assert_eq!(
        message(s.alter_type("ks", "nope", false, &add)),
        invalid("Type ks.nope doesn't exist")
    );
    // A type used in a partition key cannot gain fields.
    let mut keyed = simple_table("ks", "keyed");
    keyed.columns = vec![
        col(
            "k",
            s.parse_type("ks", "frozen<address>").expect("resolves"),
        ),
        col("v", CqlType::Int),
    ];
    s.create_table(&keyed, id(6)).expect("keyed");
    assert_eq!(
        message(s.alter_type(
            "ks",
            "address",
            false,
            &AlterTypeOp::AddField {
                if_not_exists: false,
                name: "country".into(),
                ty: CqlType::Text
            }
        )),
        invalid("Cannot add new field country of type text to user type ks.address as the type is being used in partition key by the following tables: ks.keyed")
    );
}

#[test]
fn sample_schema_structure() {
    let s = sample_schema();
    let t = s.table("shop", "events").expect("events");
    let order: Vec<&str> = t.columns().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        order,
        vec!["tenant", "day", "ts", "id", "owner", "home", "payload", "attrs", "tags"]
    );
    let select: Vec<&str> = t.select_order().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        select,
        vec!["tenant", "day", "ts", "id", "owner", "attrs", "home", "payload", "tags"]
    );
    assert_eq!(
        t.params.bloom_filter_fp_chance, 0.1,
        "leveled compaction default"
    );
    let cmp = t.clustering_comparator();
    assert_eq!(cmp.len(), 2);
    assert_eq!(cmp.columns()[0].1, ClusteringOrder::Desc);
    // Ids follow the canonical order.
    let ids: Vec<u32> = t.columns().iter().map(|c| c.id.0).collect();
    assert_eq!(ids, (0..9).collect::<Vec<u32>>());
}

#[test]
fn qualified_type_names() {
    let mut s = with_keyspace();
    create_keyspace(&mut s, "other", simple("1")).expect("other");
    s.create_type(&CreateType {
        keyspace: "ks".into(),
        name: "Point".into(),
        if_not_exists: false,
        fields: vec![("x".into(), CqlType::Int)],
    })
    .expect("Point");
    let a = s
        .parse_type("ks", "frozen<ks.\"Point\">")
        .expect("own keyspace");
    let b = s
        .parse_type("ks", "frozen<\"Point\">")
        .expect("unqualified");
    assert_eq!(a, b);
    assert_eq!(
        s.parse_type("ks", "map<text, KS . \"Point\">").map(|_| ()),
        Ok(())
    );
    assert_eq!(
        s.parse_type("ks", "frozen<other.\"Point\">").map_err(|e| e.to_string()),
        Err("Statement on keyspace ks cannot refer to a user type in keyspace other; user types can only be used in the keyspace they are defined in".to_string())
    );
    assert_eq!(
        s.parse_type("ks", "frozen<point>")
            .map_err(|e| e.to_string()),
        Err("Unknown type ks.point".to_string())
    );
    assert!(s.parse_type("ks", "map<text").is_err());
}
