//! Schema statements end to end on a node: keyspaces, tables, types, `USE`, the refused
//! statements, `IF [NOT] EXISTS` behaviour, results and Cassandra's error messages and
//! error classes.

mod ddl_support;

use ddl_support::{TestNode, CREATE_KS};
use meridian_cql_protocol::{ErrorKind, SchemaChange, SchemaChangeTarget, SchemaChangeType};
use meridian_query::{QueryError, QueryResult};
use meridian_schema::{ColumnKind, Replication};
use meridian_types::cql_type::CqlType;
use meridian_types::model::ClusteringOrder;

fn change(kind: SchemaChangeType, target: SchemaChangeTarget) -> QueryResult {
    QueryResult::SchemaChange(SchemaChange {
        change_type: kind,
        target,
    })
}

fn keyspace_change(kind: SchemaChangeType, ks: &str) -> QueryResult {
    change(
        kind,
        SchemaChangeTarget::Keyspace {
            keyspace: ks.into(),
        },
    )
}

fn table_change(kind: SchemaChangeType, ks: &str, table: &str) -> QueryResult {
    change(
        kind,
        SchemaChangeTarget::Table {
            keyspace: ks.into(),
            table: table.into(),
        },
    )
}

fn type_change(kind: SchemaChangeType, ks: &str, name: &str) -> QueryResult {
    change(
        kind,
        SchemaChangeTarget::Type {
            keyspace: ks.into(),
            type_name: name.into(),
        },
    )
}

fn invalid(message: &str) -> QueryError {
    QueryError::Invalid(message.into())
}

/// A node with keyspace `ks`.
fn with_keyspace() -> TestNode {
    let n = TestNode::new();
    n.ok(CREATE_KS);
    n
}

#[test]
fn create_keyspace_and_if_not_exists() {
    let n = TestNode::new();
    assert_eq!(
        n.ok(CREATE_KS),
        keyspace_change(SchemaChangeType::Created, "ks")
    );
    let schema = n.node.schema();
    let ks = schema.keyspace("ks").expect("created");
    assert_eq!(
        ks.metadata.replication,
        Replication::Simple {
            replication_factor: 1
        }
    );
    assert!(ks.metadata.durable_writes);

    let e = n.err(CREATE_KS);
    assert_eq!(e.to_string(), "Cannot add existing keyspace \"ks\"");
    assert_eq!(
        e.to_error_body().kind,
        ErrorKind::AlreadyExists {
            keyspace: "ks".into(),
            table: String::new()
        }
    );
    assert_eq!(
        n.ok("CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}"),
        QueryResult::Void
    );
    // The no-op changed nothing.
    assert_eq!(n.node.schema().keyspace("ks"), Some(ks));

    assert_eq!(
        n.ok("CREATE KEYSPACE \"Mixed\" WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1} AND durable_writes = false"),
        keyspace_change(SchemaChangeType::Created, "Mixed")
    );
    let schema = n.node.schema();
    let mixed = schema.keyspace("Mixed").expect("created");
    assert!(!mixed.metadata.durable_writes);
    assert_eq!(mixed.metadata.replication.total_replicas(), 1);
}

#[test]
fn keyspace_errors_follow_cassandra() {
    let n = TestNode::new();
    let long = "k".repeat(49);
    assert_eq!(
        n.err(&format!(
            "CREATE KEYSPACE {long} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
        )),
        invalid(&format!(
            "Keyspace name must not be more than 48 characters long (got 49 characters for \"{long}\")"
        ))
    );
    let e = n.err(
        "CREATE KEYSPACE ks WITH replication = {'class': 'NoSuchStrategy', 'replication_factor': 1}",
    );
    assert_eq!(
        e,
        QueryError::Config(
            "Unable to find replication strategy class 'org.apache.cassandra.locator.NoSuchStrategy'"
                .into()
        )
    );
    assert_eq!(e.to_error_body().kind, ErrorKind::ConfigError);
    let e = n.err("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy'} AND foo = 1");
    assert_eq!(e, QueryError::Syntax("Unknown property 'foo'".into()));
    assert_eq!(e.to_error_body().kind, ErrorKind::SyntaxError);
    assert_eq!(
        n.err("CREATE KEYSPACE ks WITH durable_writes = true"),
        invalid("Missing mandatory option 'replication'")
    );
    // System keyspaces cannot be changed.
    let e = n.err("DROP KEYSPACE system");
    assert_eq!(e.to_string(), "system keyspace is not user-modifiable.");
    assert_eq!(e.to_error_body().kind, ErrorKind::Unauthorized);
    assert_eq!(
        n.err("ALTER KEYSPACE system_schema WITH durable_writes = false")
            .to_string(),
        "system_schema keyspace is not user-modifiable."
    );
    assert_eq!(
        n.err("DROP KEYSPACE system_auth").to_string(),
        "Cannot DROP <keyspace system_auth>"
    );
    assert_eq!(
        n.err("DROP KEYSPACE nope"),
        invalid("Keyspace 'nope' doesn't exist")
    );
    assert_eq!(n.ok("DROP KEYSPACE IF EXISTS nope"), QueryResult::Void);
    // Nothing was created by the failed statements.
    assert_eq!(n.node.schema().user_keyspaces().count(), 0);
}

#[test]
fn alter_and_drop_keyspace() {
    let n = with_keyspace();
    assert_eq!(
        n.ok("ALTER KEYSPACE ks WITH durable_writes = false"),
        keyspace_change(SchemaChangeType::Updated, "ks")
    );
    assert!(
        !n.node
            .schema()
            .keyspace("ks")
            .unwrap()
            .metadata
            .durable_writes
    );
    // Setting the current values changes nothing.
    assert_eq!(
        n.ok("ALTER KEYSPACE ks WITH durable_writes = false"),
        QueryResult::Void
    );
    assert_eq!(
        n.ok("ALTER KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2}"),
        keyspace_change(SchemaChangeType::Updated, "ks")
    );
    assert_eq!(
        n.ok("ALTER KEYSPACE IF EXISTS nope WITH durable_writes = true"),
        QueryResult::Void
    );
    assert_eq!(
        n.err("ALTER KEYSPACE nope WITH durable_writes = true"),
        invalid("Keyspace 'nope' doesn't exist")
    );
    // Replicated system keyspaces may be altered, as in Cassandra.
    assert_eq!(
        n.ok("ALTER KEYSPACE system_auth WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}"),
        keyspace_change(SchemaChangeType::Updated, "system_auth")
    );
    n.ok("CREATE TABLE ks.t (k int PRIMARY KEY)");
    assert_eq!(
        n.ok("DROP KEYSPACE ks"),
        keyspace_change(SchemaChangeType::Dropped, "ks")
    );
    assert!(n.node.schema().keyspace("ks").is_none());
    assert_eq!(n.ok("DROP KEYSPACE IF EXISTS ks"), QueryResult::Void);
}

#[test]
fn use_sets_the_session_keyspace() {
    let n = with_keyspace();
    assert_eq!(
        n.err("CREATE TABLE t (k int PRIMARY KEY)"),
        invalid(
            "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename"
        )
    );
    assert_eq!(n.err("USE nope"), invalid("Keyspace 'nope' does not exist"));
    assert_eq!(n.session.keyspace(), None);
    assert_eq!(n.ok("USE ks"), QueryResult::SetKeyspace("ks".into()));
    assert_eq!(n.session.keyspace().as_deref(), Some("ks"));
    assert_eq!(
        n.ok("CREATE TABLE t (k int PRIMARY KEY)"),
        table_change(SchemaChangeType::Created, "ks", "t")
    );
    assert!(n.node.schema().table("ks", "t").is_some());
    assert_eq!(
        n.ok("USE system"),
        QueryResult::SetKeyspace("system".into())
    );
}

#[test]
fn create_table_with_every_key_form() {
    let n = with_keyspace();
    assert_eq!(
        n.ok("CREATE TABLE ks.events (tenant text, day date, at timestamp, seq int, note text, owner text STATIC, tags set<text>, PRIMARY KEY ((tenant, day), at, seq)) WITH CLUSTERING ORDER BY (at DESC, seq ASC) AND comment = 'events' AND gc_grace_seconds = 3600"),
        table_change(SchemaChangeType::Created, "ks", "events")
    );
    let schema = n.node.schema();
    let t = schema.table("ks", "events").expect("created");
    let names = |cols: Vec<&meridian_schema::ColumnMetadata>| -> Vec<String> {
        cols.iter().map(|c| c.name.clone()).collect()
    };
    assert_eq!(names(t.partition_key_columns()), ["tenant", "day"]);
    assert_eq!(names(t.clustering_columns()), ["at", "seq"]);
    assert_eq!(
        t.column("at").unwrap().kind,
        ColumnKind::Clustering {
            position: 0,
            order: ClusteringOrder::Desc
        }
    );
    assert_eq!(
        t.column("seq").unwrap().kind,
        ColumnKind::Clustering {
            position: 1,
            order: ClusteringOrder::Asc
        }
    );
    assert_eq!(t.column("owner").unwrap().kind, ColumnKind::Static);
    assert_eq!(
        t.column("tags").unwrap().ty,
        CqlType::Set(Box::new(CqlType::Text))
    );
    assert_eq!(t.params.comment, "events");
    assert_eq!(t.params.gc_grace_seconds, 3600);

    // Inline primary key, quoted names, every simple type.
    n.ok("CREATE TABLE ks.\"Simple\" (\"Key\" uuid PRIMARY KEY, v varchar, d duration, l list<frozen<map<int, text>>>, tu tuple<int, text>, vec vector<float, 3>)");
    let schema = n.node.schema();
    let t = schema.table("ks", "Simple").expect("created");
    assert_eq!(names(t.partition_key_columns()), ["Key"]);
    assert_eq!(t.column("v").unwrap().ty, CqlType::Text);
    assert_eq!(
        t.column("vec").unwrap().ty,
        CqlType::Vector(Box::new(CqlType::Float), 3)
    );
}

#[test]
fn create_table_if_not_exists_and_already_exists() {
    let n = with_keyspace();
    n.ok("CREATE TABLE ks.t (k int PRIMARY KEY, v text)");
    let before = n.node.schema().table("ks", "t").cloned();
    let e = n.err("CREATE TABLE ks.t (k int PRIMARY KEY)");
    assert_eq!(
        e.to_string(),
        "Cannot add already existing table \"t\" to keyspace \"ks\""
    );
    assert_eq!(
        e.to_error_body().kind,
        ErrorKind::AlreadyExists {
            keyspace: "ks".into(),
            table: "t".into()
        }
    );
    assert_eq!(
        n.ok("CREATE TABLE IF NOT EXISTS ks.t (k int PRIMARY KEY, other blob)"),
        QueryResult::Void
    );
    // Types do not matter for a no-op.
    assert_eq!(
        n.ok("CREATE TABLE IF NOT EXISTS ks.t (k int PRIMARY KEY, u no_such_type)"),
        QueryResult::Void
    );
    assert_eq!(n.node.schema().table("ks", "t").cloned(), before);
    // The keyspace is checked before types.
    assert_eq!(
        n.err("CREATE TABLE nope.t (k int PRIMARY KEY, u no_such_type)"),
        invalid("Keyspace 'nope' doesn't exist")
    );
    assert_eq!(
        n.err("CREATE TABLE ks.t2 (k int PRIMARY KEY, u no_such_type)"),
        invalid("Unknown type ks.no_such_type")
    );
}

#[test]
fn create_table_errors_follow_cassandra() {
    let n = with_keyspace();
    let cases = [
        (
            "CREATE TABLE ks.t (k int PRIMARY KEY, c int, s int STATIC)",
            "Static columns are only useful (and thus allowed) if the table has at least one clustering column",
        ),
        (
            "CREATE TABLE ks.t (k int PRIMARY KEY, v int) WITH COMPACT STORAGE",
            "Compact tables are not allowed in Cassandra starting with 4.0 version.",
        ),
        (
            "CREATE TABLE ks.t (k int PRIMARY KEY, c counter)",
            "counter tables are not supported yet",
        ),
        (
            "CREATE TABLE ks.t (k int PRIMARY KEY, v int, PRIMARY KEY (k))",
            "Multiple PRIMARY KEY specified for table 'ks.t' (exactly one required)",
        ),
        (
            "CREATE TABLE ks.t (k int PRIMARY KEY, k text)",
            "Duplicate column 'k' declaration for table 'ks.t'",
        ),
        (
            "CREATE TABLE ks.t (k int PRIMARY KEY, k text MASKED WITH DEFAULT, v int PRIMARY KEY)",
            "Duplicate column 'k' declaration for table 'ks.t'",
        ),
        (
            "CREATE TABLE ks.t (k int, c int, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC) AND CLUSTERING ORDER BY (c ASC)",
            "Duplicate column 'c' in CLUSTERING ORDER BY clause for table 'ks.t'",
        ),
        (
            "CREATE TABLE ks.t (k int PRIMARY KEY, e text MASKED WITH DEFAULT)",
            "Cannot mask columns because dynamic data masking is not enabled. You can enable it with the dynamic_data_masking_enabled property on cassandra.yaml",
        ),
        (
            "CREATE TABLE ks.t (k int, v int)",
            "No PRIMARY KEY specifed for table 't' (exactly one required)",
        ),
        (
            "CREATE TABLE ks.t (k int, v int, PRIMARY KEY (x))",
            "Unknown column 'x' referenced in PRIMARY KEY for table 't'",
        ),
        (
            "CREATE TABLE ks.t (k list<int> PRIMARY KEY)",
            "Invalid non-frozen collection type list<int> for PRIMARY KEY column 'k'",
        ),
        (
            "CREATE TABLE ks.t (k int PRIMARY KEY, l list<list<int>>)",
            "Non-frozen collections are not allowed inside collections: list<list<int>>",
        ),
        (
            "CREATE TABLE ks.t (k int PRIMARY KEY, u other.addr)",
            "Statement on keyspace ks cannot refer to a user type in keyspace other; user types can only be used in the keyspace they are defined in",
        ),
    ];
    for (cql, message) in cases {
        assert_eq!(n.err(cql), invalid(message), "{cql}");
    }
    assert_eq!(
        n.err("CREATE TABLE ks.t (k int PRIMARY KEY) WITH foo = 1"),
        QueryError::Syntax("Unknown property 'foo'".into())
    );
    assert_eq!(
        n.err("CREATE TABLE ks.t (k int PRIMARY KEY) WITH gc_grace_seconds = -1"),
        QueryError::Config("gc_grace_seconds must be greater than or equal to 0 (got -1)".into())
    );
    let long = "t".repeat(223);
    assert_eq!(
        n.err(&format!("CREATE TABLE ks.{long} (k int PRIMARY KEY)")),
        QueryError::Config(format!(
            "ks.{long}: Table name must not be more than 222 characters long (got 223 characters for \"{long}\")"
        ))
    );
    assert_eq!(
        n.err("CREATE TABLE system.t (k int PRIMARY KEY)")
            .to_string(),
        "system keyspace is not user-modifiable."
    );
    // None of the failed statements left a table behind.
    assert!(n.node.schema().keyspace("ks").unwrap().tables.is_empty());
    // Names up to 222 characters are fine (Cassandra 5.0 keeps 48 only for keyspaces).
    let longest = "t".repeat(222);
    n.ok(&format!("CREATE TABLE ks.{longest} (k int PRIMARY KEY)"));
    assert!(n.node.schema().table("ks", &longest).is_some());
}

#[test]
fn alter_table_columns_and_options() {
    let n = with_keyspace();
    n.ok("CREATE TABLE ks.t (k int, c int, v text, PRIMARY KEY (k, c))");
    let updated = table_change(SchemaChangeType::Updated, "ks", "t");
    assert_eq!(
        n.ok("ALTER TABLE ks.t ADD (w int, m map<text, int>)"),
        updated
    );
    let schema = n.node.schema();
    let t = schema.table("ks", "t").unwrap();
    assert_eq!(t.column("w").unwrap().kind, ColumnKind::Regular);
    assert_eq!(
        t.column("m").unwrap().ty,
        CqlType::Map(Box::new(CqlType::Text), Box::new(CqlType::Int))
    );
    assert_eq!(n.ok("ALTER TABLE ks.t ADD s int static"), updated);
    assert_eq!(
        n.node
            .schema()
            .table("ks", "t")
            .unwrap()
            .column("s")
            .unwrap()
            .kind,
        ColumnKind::Static
    );
    assert_eq!(
        n.err("ALTER TABLE ks.t ADD v int"),
        invalid("Column with name 'v' already exists")
    );
    assert_eq!(
        n.ok("ALTER TABLE ks.t ADD IF NOT EXISTS v int"),
        QueryResult::Void
    );
    assert_eq!(
        n.err("ALTER TABLE ks.t ADD u no_such_type"),
        invalid("Unknown type ks.no_such_type")
    );

    assert_eq!(
        n.ok("ALTER TABLE ks.t DROP w USING TIMESTAMP 1234"),
        updated
    );
    let schema = n.node.schema();
    let t = schema.table("ks", "t").unwrap();
    assert!(t.column("w").is_none());
    assert_eq!(t.dropped_columns["w"].dropped_at_micros, 1234);
    assert_eq!(
        n.err("ALTER TABLE ks.t DROP k"),
        invalid("Cannot drop PRIMARY KEY column k")
    );
    assert_eq!(
        n.err("ALTER TABLE ks.t DROP c"),
        invalid("Cannot drop PRIMARY KEY column c")
    );
    assert_eq!(
        n.ok("ALTER TABLE ks.t DROP IF EXISTS nope"),
        QueryResult::Void
    );

    assert_eq!(n.ok("ALTER TABLE ks.t RENAME c TO c2 AND k TO k2"), updated);
    let schema = n.node.schema();
    let t = schema.table("ks", "t").unwrap();
    assert_eq!(t.clustering_columns()[0].name, "c2");
    assert_eq!(t.partition_key_columns()[0].name, "k2");
    assert_eq!(
        n.err("ALTER TABLE ks.t RENAME v TO v2"),
        invalid("Cannot rename non PRIMARY KEY column v")
    );

    assert_eq!(
        n.ok("ALTER TABLE ks.t WITH comment = 'hello' AND default_time_to_live = 60"),
        updated
    );
    let schema = n.node.schema();
    let t = schema.table("ks", "t").unwrap();
    assert_eq!(t.params.comment, "hello");
    assert_eq!(t.params.default_time_to_live_secs, 60);
    assert_eq!(
        n.ok("ALTER TABLE ks.t WITH comment = 'hello'"),
        QueryResult::Void
    );
    assert_eq!(
        n.err("ALTER TABLE ks.t WITH bloom_filter_fp_chance = 2"),
        QueryError::Config(
            "bloom_filter_fp_chance must be larger than 6.71E-5 and less than or equal to 1.0 (got 2.0)"
                .into()
        )
    );
    assert_eq!(
        n.err("ALTER TABLE ks.t ALTER v TYPE blob"),
        invalid("Altering column types is no longer supported")
    );
    assert_eq!(
        n.err("ALTER TABLE ks.t ALTER v MASKED WITH DEFAULT"),
        invalid("Cannot mask columns because dynamic data masking is not enabled. You can enable it with the dynamic_data_masking_enabled property on cassandra.yaml")
    );
    // Dropping a mask is allowed; no column has one.
    assert_eq!(
        n.ok("ALTER TABLE ks.t ALTER v DROP MASKED"),
        QueryResult::Void
    );
    assert_eq!(
        n.err("ALTER TABLE ks.t ALTER nope DROP MASKED"),
        invalid("Column with name 'nope' doesn't exist on table 't'")
    );
    assert_eq!(
        n.ok("ALTER TABLE ks.t ALTER IF EXISTS nope DROP MASKED"),
        QueryResult::Void
    );
    assert_eq!(
        n.err("ALTER TABLE ks.nope ADD x int"),
        invalid("Table 'ks.nope' doesn't exist")
    );
    assert_eq!(
        n.ok("ALTER TABLE IF EXISTS ks.nope ADD x no_such_type"),
        QueryResult::Void
    );
    assert_eq!(
        n.err("ALTER TABLE system.local ADD x int").to_string(),
        "system keyspace is not user-modifiable."
    );
}

#[test]
fn drop_table() {
    let n = with_keyspace();
    n.ok("CREATE TABLE ks.t (k int PRIMARY KEY)");
    assert_eq!(
        n.ok("DROP TABLE ks.t"),
        table_change(SchemaChangeType::Dropped, "ks", "t")
    );
    assert!(n.node.schema().table("ks", "t").is_none());
    assert_eq!(
        n.err("DROP TABLE ks.t"),
        invalid("Table 'ks.t' doesn't exist")
    );
    assert_eq!(n.ok("DROP TABLE IF EXISTS ks.t"), QueryResult::Void);
    assert_eq!(
        n.err("DROP TABLE system_schema.tables").to_string(),
        "system_schema keyspace is not user-modifiable."
    );
}

#[test]
fn user_types() {
    let n = with_keyspace();
    assert_eq!(
        n.ok("CREATE TYPE ks.addr (street text, number int)"),
        type_change(SchemaChangeType::Created, "ks", "addr")
    );
    assert_eq!(
        n.err("CREATE TYPE ks.addr (x int)"),
        invalid("A user type with name 'addr' already exists")
    );
    assert_eq!(
        n.ok("CREATE TYPE IF NOT EXISTS ks.addr (x no_such_type)"),
        QueryResult::Void
    );
    assert_eq!(
        n.err("CREATE TYPE ks.bad (x frozen<no_such_type>)"),
        invalid("Unknown type ks.no_such_type")
    );
    // A bare name is a non-frozen UDT, refused before Cassandra looks it up.
    assert_eq!(
        n.err("CREATE TYPE ks.bad (x no_such_type)"),
        invalid("A user type cannot contain non-frozen UDTs")
    );
    assert_eq!(
        n.err("CREATE TYPE ks.bad (x int, x no_such_type)"),
        invalid("Duplicate field name 'x' in type 'bad'")
    );
    assert_eq!(
        n.err("CREATE TYPE ks.bad (x int, y counter)"),
        invalid("A user type cannot contain counters")
    );
    assert_eq!(
        n.err("CREATE TABLE ks.bad (k addr PRIMARY KEY, v int)"),
        invalid("Invalid non-frozen user-defined type \"ks.addr\" for PRIMARY KEY column 'k'")
    );
    assert_eq!(
        n.err("CREATE TYPE ks.bad (x addr)"),
        invalid("A user type cannot contain non-frozen UDTs")
    );
    n.ok("CREATE TYPE ks.person (name text, home frozen<addr>)");
    n.ok("CREATE TABLE ks.people (id int PRIMARY KEY, p frozen<person>, a addr)");

    assert_eq!(
        n.ok("ALTER TYPE ks.addr ADD zip text"),
        type_change(SchemaChangeType::Updated, "ks", "addr")
    );
    // The new definition reaches the types and tables that use it.
    let schema = n.node.schema();
    let fields = |ty: &CqlType| -> Vec<String> {
        match ty.unfrozen() {
            CqlType::Udt(u) => u.fields.iter().map(|(n, _)| n.clone()).collect(),
            other => panic!("not a UDT: {other:?}"),
        }
    };
    let table = schema.table("ks", "people").unwrap();
    assert_eq!(
        fields(&table.column("a").unwrap().ty),
        ["street", "number", "zip"]
    );
    let person = schema.user_type("ks", "person").unwrap();
    assert_eq!(fields(&person.fields[1].1), ["street", "number", "zip"]);
    assert_eq!(
        n.ok("ALTER TYPE ks.addr ADD IF NOT EXISTS zip int"),
        QueryResult::Void
    );
    // Checked on the written type, before the field's existence and the type's lookup.
    assert_eq!(
        n.err("ALTER TYPE ks.addr ADD IF NOT EXISTS zip no_such_type"),
        invalid("A user type cannot contain non-frozen UDTs")
    );
    assert_eq!(
        n.ok("ALTER TYPE ks.addr RENAME zip TO postcode"),
        type_change(SchemaChangeType::Updated, "ks", "addr")
    );
    assert_eq!(
        n.err("ALTER TYPE ks.addr ALTER street TYPE blob"),
        invalid("Altering field types is no longer supported")
    );
    assert_eq!(
        n.ok("ALTER TYPE IF EXISTS ks.nope ADD x no_such_type"),
        QueryResult::Void
    );
    assert_eq!(
        n.err("ALTER TYPE ks.nope ADD x int"),
        invalid("Type ks.nope doesn't exist")
    );

    assert_eq!(
        n.err("DROP TYPE ks.addr"),
        invalid("Cannot drop user type 'ks.addr' as it is still used by user types person")
    );
    assert_eq!(
        n.err("DROP TYPE ks.person"),
        invalid("Cannot drop user type 'ks.person' as it is still used by tables people")
    );
    n.ok("DROP TABLE ks.people");
    assert_eq!(
        n.ok("DROP TYPE ks.person"),
        type_change(SchemaChangeType::Dropped, "ks", "person")
    );
    assert_eq!(n.ok("DROP TYPE IF EXISTS ks.person"), QueryResult::Void);
    assert_eq!(
        n.err("DROP TYPE ks.person"),
        invalid("Type 'ks.person' doesn't exist")
    );
    // Unqualified names use the session keyspace.
    n.ok("USE ks");
    assert_eq!(
        n.ok("CREATE TYPE t2 (a int)"),
        type_change(SchemaChangeType::Created, "ks", "t2")
    );
}

#[test]
fn indexes_and_views_are_refused() {
    let n = with_keyspace();
    n.ok("CREATE TABLE ks.t (k int PRIMARY KEY, v int)");
    assert_eq!(
        n.err("CREATE INDEX ON ks.t (v)"),
        invalid("Secondary indexes are not supported yet")
    );
    assert_eq!(
        n.err("CREATE CUSTOM INDEX IF NOT EXISTS i ON ks.t (v) USING 'StorageAttachedIndex'"),
        invalid("Secondary indexes are not supported yet")
    );
    assert_eq!(
        n.err("DROP INDEX ks.i"),
        invalid("Index 'ks.i' doesn't exist'")
    );
    assert_eq!(n.ok("DROP INDEX IF EXISTS ks.i"), QueryResult::Void);
    assert_eq!(
        n.err("CREATE MATERIALIZED VIEW ks.mv AS SELECT * FROM ks.t WHERE v IS NOT NULL AND k IS NOT NULL PRIMARY KEY (v, k)"),
        invalid("Materialized views are disabled. Enable in cassandra.yaml to use.")
    );
    assert_eq!(
        n.err("DROP MATERIALIZED VIEW ks.mv"),
        invalid("Materialized view 'ks.mv' doesn't exist")
    );
    assert_eq!(
        n.ok("DROP MATERIALIZED VIEW IF EXISTS ks.mv"),
        QueryResult::Void
    );
    assert_eq!(
        n.err("ALTER MATERIALIZED VIEW ks.mv WITH comment = 'x'"),
        invalid("Materialized view 'ks.mv' doesn't exist")
    );
    assert_eq!(
        n.err("DROP INDEX i"),
        invalid(
            "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename"
        )
    );
}

#[test]
fn other_statements_are_not_schema_statements() {
    let n = TestNode::new();
    let e = n.err("SELECT * FROM system.local");
    assert!(matches!(e, QueryError::Server(_)), "{e:?}");
}
