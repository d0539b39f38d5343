//! Server-side DESCRIBE on a node: result columns as cqlsh reads them, listings, element
//! descriptions, the generic form, DESCRIBE CLUSTER, Cassandra's errors, and paging.

mod ddl_support;

use ddl_support::{column_names, run, strings, TestNode, CREATE_KS, TOKENS};
use meridian_query::{ExecOptions, QueryError, QueryResult};
use meridian_schema::describe::{create_keyspace_statement, create_table_statement};
use meridian_types::cql_type::CqlType;
use meridian_types::value::CqlValue;

const LISTING: [&str; 3] = ["keyspace_name", "type", "name"];
const ELEMENT: [&str; 4] = ["keyspace_name", "type", "name", "create_statement"];

/// A node with keyspace `ks` holding a type and two tables, and keyspace `"Other"`.
fn populated() -> TestNode {
    let n = TestNode::new();
    n.ok(CREATE_KS);
    n.ok("CREATE TYPE ks.addr (street text, zip int)");
    n.ok("CREATE TABLE ks.users (id uuid PRIMARY KEY, name text, home frozen<addr>)");
    n.ok("CREATE TABLE ks.\"Events\" (k int, c int, v text, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)");
    n.ok("CREATE KEYSPACE \"Other\" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    n.ok("CREATE TABLE \"Other\".t (k int PRIMARY KEY)");
    n
}

fn invalid(message: &str) -> QueryError {
    QueryError::Invalid(message.into())
}

#[test]
fn result_columns_are_system_describe_text() {
    let n = populated();
    let rs = n.rows("DESCRIBE KEYSPACES");
    assert_eq!(column_names(&rs), LISTING);
    for c in &rs.columns {
        assert_eq!(
            (c.keyspace.as_str(), c.table.as_str()),
            ("system", "describe")
        );
        assert_eq!(c.ty, CqlType::Text);
    }
    let rs = n.rows("DESCRIBE TABLE ks.users");
    assert_eq!(column_names(&rs), ELEMENT);
    assert_eq!(rs.paging_state, None);
}

#[test]
fn keyspaces_listing() {
    let n = populated();
    let rows = strings(&n.rows("DESC KEYSPACES"));
    let names: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    // Every keyspace, system and virtual ones included, by name ignoring case; names are
    // quoted where CQL needs it.
    let mut expected = names.clone();
    expected.sort_by_key(|n| n.trim_matches('"').to_lowercase());
    assert_eq!(names, expected);
    for required in [
        "ks",
        "\"Other\"",
        "system",
        "system_schema",
        "system_virtual_schema",
    ] {
        assert!(
            names.contains(&required),
            "{required} missing from {names:?}"
        );
    }
    for r in &rows {
        assert_eq!(r[0], r[2]);
        assert_eq!(r[1], "keyspace");
    }
}

#[test]
fn tables_and_types_listings() {
    let n = populated();
    let all = strings(&n.rows("DESCRIBE TABLES"));
    assert!(all.contains(&vec!["ks".into(), "table".into(), "\"Events\"".into()]));
    assert!(all.contains(&vec!["\"Other\"".into(), "table".into(), "t".into()]));
    assert!(all.iter().any(|r| r[0] == "system" && r[2] == "local"));

    n.ok("USE ks");
    let rows = strings(&n.rows("DESCRIBE TABLES"));
    assert_eq!(
        rows,
        vec![
            vec!["ks".to_string(), "table".into(), "\"Events\"".into()],
            vec!["ks".to_string(), "table".into(), "users".into()],
        ]
    );
    let rows = strings(&n.rows("DESCRIBE TYPES"));
    assert_eq!(
        rows,
        vec![vec!["ks".to_string(), "type".into(), "addr".into()]]
    );
    // Meridian has no user-defined functions or aggregates.
    for cql in ["DESCRIBE FUNCTIONS", "DESCRIBE AGGREGATES"] {
        let rs = n.rows(cql);
        assert_eq!(column_names(&rs), LISTING);
        assert!(rs.rows.is_empty());
    }
}

#[test]
fn table_keyspace_and_type_descriptions() {
    let n = populated();
    let schema = n.node.schema();
    let users = schema.table("ks", "users").unwrap();
    let rows = strings(&n.rows("DESCRIBE TABLE ks.users"));
    assert_eq!(
        rows,
        vec![vec![
            "ks".to_string(),
            "table".into(),
            "users".into(),
            create_table_statement(users, false, false)
        ]]
    );
    assert!(rows[0][3].starts_with("CREATE TABLE ks.users (\n    id uuid PRIMARY KEY,"));

    let rows = strings(&n.rows("DESCRIBE TABLE ks.users WITH INTERNALS"));
    assert!(
        rows[0][3].contains(&format!("ID = {}", users.id.0)),
        "{}",
        rows[0][3]
    );

    let rows = strings(&n.rows("DESCRIBE TYPE ks.addr"));
    assert_eq!(rows[0][..3], ["ks", "type", "addr"]);
    assert_eq!(
        rows[0][3],
        "CREATE TYPE ks.addr (\n    street text,\n    zip int\n);"
    );

    // The keyspace, then its types, then its tables by name ignoring case.
    let rows = strings(&n.rows("DESCRIBE KEYSPACE ks"));
    let summary: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("keyspace", "ks"),
            ("type", "addr"),
            ("table", "\"Events\""),
            ("table", "users")
        ]
    );
    assert_eq!(
        rows[0][3],
        create_keyspace_statement(schema.keyspace("ks").unwrap(), false)
    );
    assert_eq!(
        rows[0][3],
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '1'}  AND durable_writes = true;"
    );
    let rows = strings(&n.rows("DESCRIBE ONLY KEYSPACE ks"));
    assert_eq!(rows.len(), 1);

    // Without a name, the session keyspace.
    assert_eq!(
        n.err("DESCRIBE KEYSPACE"),
        invalid("No keyspace specified and no current keyspace")
    );
    n.ok("USE \"Other\"");
    let rows = strings(&n.rows("DESCRIBE KEYSPACE"));
    assert_eq!(rows[0][2], "\"Other\"");
    assert_eq!(rows.len(), 2);
    let rows = strings(&n.rows("DESCRIBE TABLE t"));
    assert_eq!(rows[0][..3], ["\"Other\"", "table", "t"]);
}

#[test]
fn schema_descriptions() {
    let n = populated();
    let user = strings(&n.rows("DESCRIBE SCHEMA"));
    let keyspaces: Vec<&str> = user
        .iter()
        .filter(|r| r[1] == "keyspace")
        .map(|r| r[2].as_str())
        .collect();
    assert_eq!(keyspaces, ["ks", "\"Other\""]);
    assert_eq!(user.len(), 1 + 1 + 2 + 1 + 1);
    let full = strings(&n.rows("DESCRIBE FULL SCHEMA"));
    assert!(full.len() > user.len());
    assert!(full.iter().any(|r| r[0] == "system" && r[2] == "local"));
    // Virtual keyspaces are described as comments.
    let virtual_ks = full
        .iter()
        .find(|r| r[1] == "keyspace" && r[2] == "system_virtual_schema")
        .expect("virtual keyspace");
    assert!(virtual_ks[3].starts_with("/*"), "{}", virtual_ks[3]);
}

#[test]
fn generic_describe() {
    let n = populated();
    let rows = strings(&n.rows("DESCRIBE ks"));
    assert_eq!(rows[0][..3], ["ks", "keyspace", "ks"]);
    assert_eq!(rows.len(), 4);
    let rows = strings(&n.rows("DESCRIBE ks.users"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][..3], ["ks", "table", "users"]);
    assert_eq!(
        n.err("DESCRIBE ks.nope"),
        invalid("'nope' not found in keyspace 'ks'")
    );
    assert_eq!(
        n.err("DESCRIBE nope"),
        invalid("'nope' not found in keyspaces")
    );
    n.ok("USE ks");
    let rows = strings(&n.rows("DESCRIBE \"Events\""));
    assert_eq!(rows[0][..3], ["ks", "table", "\"Events\""]);
    // A keyspace name wins over a table of the current keyspace.
    let rows = strings(&n.rows("DESCRIBE \"Other\""));
    assert_eq!(rows[0][1], "keyspace");
}

#[test]
fn describe_errors_follow_cassandra() {
    let n = populated();
    let cases = [
        ("DESCRIBE KEYSPACE nope", "'nope' not found in keyspaces"),
        (
            "DESCRIBE TABLE ks.nope",
            "Table 'nope' not found in keyspace 'ks'",
        ),
        ("DESCRIBE TABLE nope.t", "'nope' not found in keyspaces"),
        (
            "DESCRIBE TYPE ks.nope",
            "User defined type 'nope' not found in 'ks'",
        ),
        (
            "DESCRIBE INDEX ks.i",
            "Table for existing index 'i' not found in 'ks'",
        ),
        ("DESCRIBE INDEX nope.i", "'nope' not found in keyspaces"),
        (
            "DESCRIBE MATERIALIZED VIEW ks.v",
            "Materialized view 'v' not found in 'ks'",
        ),
        (
            "DESCRIBE FUNCTION ks.f",
            "User defined function 'f' not found in 'ks'",
        ),
        (
            "DESCRIBE AGGREGATE ks.a",
            "User defined aggregate 'a' not found in 'ks'",
        ),
        (
            "DESCRIBE TABLE users",
            "No keyspace specified and no current keyspace",
        ),
        (
            "DESCRIBE TYPE addr",
            "No keyspace specified and no current keyspace",
        ),
    ];
    for (cql, message) in cases {
        assert_eq!(n.err(cql), invalid(message), "{cql}");
    }
    // Listings of a session keyspace dropped meanwhile.
    n.ok("USE \"Other\"");
    n.ok("DROP KEYSPACE \"Other\"");
    assert_eq!(
        n.err("DESCRIBE TABLES"),
        invalid("'Other' not found in keyspaces")
    );
    assert_eq!(
        n.err("DESCRIBE FUNCTIONS"),
        invalid("'Other' not found in keyspaces")
    );
}

#[test]
fn describe_cluster() {
    let n = populated();
    let rs = n.rows("DESCRIBE CLUSTER");
    assert_eq!(column_names(&rs), ["cluster", "partitioner", "snitch"]);
    assert_eq!(
        strings(&rs),
        vec![vec![
            "Test Cluster".to_string(),
            "Murmur3Partitioner".into(),
            "DynamicEndpointSnitch".into()
        ]]
    );
    // A system keyspace in use adds nothing.
    n.ok("USE system");
    assert_eq!(n.rows("DESCRIBE CLUSTER").columns.len(), 3);

    n.ok("USE ks");
    let rs = n.rows("DESCRIBE CLUSTER");
    assert_eq!(
        column_names(&rs),
        ["cluster", "partitioner", "snitch", "range_ownership"]
    );
    let map_type = CqlType::Map(
        Box::new(CqlType::Text),
        Box::new(CqlType::List(Box::new(CqlType::Text))),
    );
    assert_eq!(rs.columns[3].ty, map_type);
    let bytes = rs.rows[0][3].clone().expect("ownership");
    let CqlValue::Map(entries) = CqlValue::deserialize(&map_type, &bytes).expect("decodes") else {
        panic!("not a map");
    };
    let expected: Vec<(CqlValue, CqlValue)> = TOKENS
        .iter()
        .map(|t| {
            (
                CqlValue::Text(t.to_string()),
                CqlValue::List(vec![CqlValue::Text("127.0.0.1:7000".into())]),
            )
        })
        .collect();
    assert_eq!(entries, expected);

    // A keyspace without replicas owns its ranges on no endpoint.
    n.ok("CREATE KEYSPACE far WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 0}");
    n.ok("USE far");
    let rs = n.rows("DESCRIBE CLUSTER");
    let bytes = rs.rows[0][3].clone().expect("ownership");
    let CqlValue::Map(entries) = CqlValue::deserialize(&map_type, &bytes).expect("decodes") else {
        panic!("not a map");
    };
    assert_eq!(entries.len(), TOKENS.len());
    assert!(entries
        .iter()
        .all(|(_, v)| *v == CqlValue::List(Vec::new())));
}

fn page(
    n: &TestNode,
    cql: &str,
    size: i32,
    state: Option<bytes::Bytes>,
) -> Result<meridian_query::ResultSet, QueryError> {
    let options = ExecOptions {
        page_size: Some(size),
        paging_state: state,
        ..ExecOptions::new()
    };
    match run(&n.node, &n.session, cql, &options)? {
        QueryResult::Rows(rs) => Ok(rs),
        other => panic!("{other:?}"),
    }
}

#[test]
fn paging_slices_the_full_result() {
    let n = populated();
    let all = n.rows("DESCRIBE FULL SCHEMA").rows;
    assert!(all.len() > 7);
    let mut collected = Vec::new();
    let mut state = None;
    let mut pages = 0;
    loop {
        let rs = page(&n, "DESCRIBE FULL SCHEMA", 7, state).expect("page");
        assert!(rs.rows.len() <= 7);
        collected.extend(rs.rows);
        pages += 1;
        match rs.paging_state {
            Some(s) => state = Some(s),
            None => break,
        }
    }
    assert_eq!(collected, all);
    assert_eq!(pages, all.len().div_ceil(7));

    // A schema change between pages is refused.
    let first = page(&n, "DESCRIBE FULL SCHEMA", 3, None).expect("page");
    n.ok("CREATE TABLE ks.extra (k int PRIMARY KEY)");
    assert_eq!(
        page(&n, "DESCRIBE FULL SCHEMA", 3, first.paging_state).unwrap_err(),
        invalid("The schema has changed since the previous page of the DESCRIBE statement result. Please retry the DESCRIBE statement.")
    );
    // A forged paging state is refused.
    assert_eq!(
        page(
            &n,
            "DESCRIBE FULL SCHEMA",
            3,
            Some(bytes::Bytes::from_static(b"junk"))
        )
        .unwrap_err(),
        invalid("Invalid paging state.")
    );
    // Without a page size, everything at once.
    let rs = page(&n, "DESCRIBE FULL SCHEMA", 0, None).expect("unpaged");
    assert_eq!(rs.paging_state, None);
    assert_eq!(rs.rows.len(), all.len() + 1);
}
