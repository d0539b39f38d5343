//! System tables as drivers read them at connect time, and PREPARE metadata of SELECTs.

mod select_support;

use meridian_cql_protocol::Value;
use meridian_query::{select, ExecOptions, ResultColumn};
use meridian_types::cql_type::CqlType;
use meridian_types::value::CqlValue;
use select_support::*;

fn set_text() -> CqlType {
    CqlType::Set(Box::new(CqlType::Text))
}

#[test]
fn system_local_row() {
    let n = TestNode::new();
    let rs = n.rows("SELECT * FROM system.local WHERE key = 'local'");
    assert_eq!(
        names(&rs),
        [
            "key",
            "bootstrapped",
            "broadcast_address",
            "broadcast_port",
            "cluster_name",
            "cql_version",
            "data_center",
            "gossip_generation",
            "host_id",
            "listen_address",
            "listen_port",
            "native_protocol_version",
            "partitioner",
            "rack",
            "release_version",
            "rpc_address",
            "rpc_port",
            "schema_version",
            "tokens",
            "truncated_at"
        ]
    );
    assert!(rs
        .columns
        .iter()
        .all(|c| c.keyspace == "system" && c.table == "local"));
    let row = &decode(&rs)[0];
    assert_eq!(rs.rows.len(), 1);
    let get = |name: &str| row[rs.columns.iter().position(|c| c.name == name).expect(name)].clone();
    assert_eq!(get("key"), text("local"));
    assert_eq!(get("bootstrapped"), text("COMPLETED"));
    assert_eq!(get("cluster_name"), text("Test Cluster"));
    assert_eq!(get("release_version"), text("5.0.0"));
    assert_eq!(get("cql_version"), text("3.4.7"));
    assert_eq!(
        get("partitioner"),
        text("org.apache.cassandra.dht.Murmur3Partitioner")
    );
    assert_eq!(get("data_center"), text("dc1"));
    assert_eq!(get("rack"), text("rack1"));
    assert_eq!(
        get("rpc_address"),
        Some(CqlValue::Inet("127.0.0.3".parse().unwrap()))
    );
    assert_eq!(
        get("broadcast_address"),
        Some(CqlValue::Inet("127.0.0.2".parse().unwrap()))
    );
    assert_eq!(
        get("listen_address"),
        Some(CqlValue::Inet("127.0.0.2".parse().unwrap()))
    );
    assert_eq!(get("rpc_port"), int(9042));
    assert_eq!(get("listen_port"), int(7000));
    assert_eq!(get("host_id"), Some(CqlValue::Uuid(info().host_id)));
    assert_eq!(
        get("schema_version"),
        Some(CqlValue::Uuid(n.node.schema().version()))
    );
    let mut tokens: Vec<String> = TOKENS.iter().map(|t| t.to_string()).collect();
    tokens.sort();
    assert_eq!(
        get("tokens"),
        Some(CqlValue::Set(
            tokens.iter().map(|t| CqlValue::Text(t.clone())).collect()
        ))
    );
    assert_eq!(rs.columns[18].ty, set_text());
    // The schema version follows DDL.
    let before = n.node.schema().version();
    n.ok("CREATE TABLE x (k int PRIMARY KEY)");
    let after = n.values("SELECT schema_version FROM system.local WHERE key = 'local'");
    assert_ne!(after[0][0], Some(CqlValue::Uuid(before)));
    assert_eq!(after[0][0], Some(CqlValue::Uuid(n.node.schema().version())));
    assert!(n
        .values("SELECT * FROM system.local WHERE key = 'other'")
        .is_empty());
}

#[test]
fn driver_projections_in_requested_order() {
    let n = TestNode::new();
    let rs = n.rows("SELECT host_id, rpc_address, data_center, rack, tokens, cluster_name FROM system.local WHERE key='local'");
    assert_eq!(
        names(&rs),
        [
            "host_id",
            "rpc_address",
            "data_center",
            "rack",
            "tokens",
            "cluster_name"
        ]
    );
    let types: Vec<CqlType> = rs.columns.iter().map(|c| c.ty.clone()).collect();
    assert_eq!(
        types,
        [
            CqlType::Uuid,
            CqlType::Inet,
            CqlType::Text,
            CqlType::Text,
            set_text(),
            CqlType::Text
        ]
    );
    assert!(decode(&rs)[0].iter().all(Option::is_some));
    let rs = n.rows("SELECT host_id, rpc_address, data_center, rack, tokens FROM system.peers");
    assert_eq!(
        names(&rs),
        ["host_id", "rpc_address", "data_center", "rack", "tokens"]
    );
    assert!(rs.rows.is_empty());
    let rs = n.rows("SELECT * FROM system.peers_v2");
    assert_eq!(
        names(&rs),
        [
            "peer",
            "peer_port",
            "data_center",
            "host_id",
            "native_address",
            "native_port",
            "preferred_ip",
            "preferred_port",
            "rack",
            "release_version",
            "schema_version",
            "tokens"
        ]
    );
    assert!(rs.rows.is_empty());
    let rs = n.rows("SELECT peer, host_id, rpc_address, schema_version FROM system.peers");
    assert_eq!(rs.columns[0].ty, CqlType::Inet);
    assert!(rs.rows.is_empty());
    assert!(n
        .rows("SELECT * FROM system.size_estimates")
        .rows
        .is_empty());
}

#[test]
fn system_schema_tables() {
    let n = TestNode::new();
    n.ok("CREATE TYPE ks.addr (street text, zip int)");
    n.ok("CREATE TABLE ks.t (k int, c text, v map<text, int>, a frozen<addr>, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)");
    let rs =
        n.rows("SELECT keyspace_name, replication, durable_writes FROM system_schema.keyspaces");
    assert_eq!(
        rs.columns[1].ty,
        CqlType::Frozen(Box::new(CqlType::Map(
            Box::new(CqlType::Text),
            Box::new(CqlType::Text)
        )))
    );
    let names_: Vec<Option<CqlValue>> = decode(&rs).into_iter().map(|r| r[0].clone()).collect();
    for ks in ["ks", "system", "system_schema"] {
        assert!(names_.contains(&text(ks)), "{ks} missing");
    }
    let rs = n.rows("SELECT * FROM system_schema.keyspaces WHERE keyspace_name = 'ks'");
    assert_eq!(rs.rows.len(), 1);
    let rs = n.rows("SELECT keyspace_name, table_name, column_name, kind, position, type FROM system_schema.columns WHERE keyspace_name = 'ks' AND table_name = 't'");
    let rows = decode(&rs);
    let find = |c: &str| {
        rows.iter()
            .find(|r| r[2] == text(c))
            .unwrap_or_else(|| panic!("{c}"))
            .clone()
    };
    assert_eq!(find("k")[3..], [text("partition_key"), int(0), text("int")]);
    assert_eq!(find("c")[3..], [text("clustering"), int(0), text("text")]);
    assert_eq!(
        find("v")[3..],
        [text("regular"), int(-1), text("map<text, int>")]
    );
    assert_eq!(
        find("a")[3..],
        [text("regular"), int(-1), text("frozen<addr>")]
    );
    let rs = n.rows("SELECT clustering_order FROM system_schema.columns WHERE keyspace_name = 'ks' AND table_name = 't' AND column_name = 'c'");
    assert_eq!(decode(&rs), vec![vec![text("desc")]]);
    let rs = n.rows(
        "SELECT flags FROM system_schema.tables WHERE keyspace_name = 'ks' AND table_name = 't'",
    );
    assert_eq!(
        decode(&rs),
        vec![vec![Some(CqlValue::Set(vec![CqlValue::Text(
            "compound".into()
        )]))]]
    );
    let rs = n.rows("SELECT type_name, field_names, field_types FROM system_schema.types WHERE keyspace_name = 'ks'");
    assert_eq!(rs.rows.len(), 1);
    for table in ["functions", "aggregates", "triggers", "indexes", "views"] {
        n.rows(&format!("SELECT * FROM system_schema.{table}"));
    }
    // Paged like the Rust driver reads it.
    let all = n.rows("SELECT * FROM system_schema.columns").rows;
    assert!(all.len() > 100);
    assert!(n.page_all("SELECT * FROM system_schema.columns", &[], 37) == all);
    // Filtering rules are those of regular tables...
    assert_eq!(
        n.err("SELECT * FROM system_schema.columns WHERE table_name = 't'"),
        "Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING"
    );
    assert_eq!(
        n.rows("SELECT * FROM system_schema.columns WHERE table_name = 't' ALLOW FILTERING")
            .rows
            .len(),
        4
    );
    // ...but virtual tables filter implicitly.
    n.rows("SELECT * FROM system_virtual_schema.columns WHERE table_name = 'tables'");
    let rs = n.rows("SELECT * FROM system_virtual_schema.keyspaces");
    assert!(decode(&rs)
        .iter()
        .any(|r| r[0] == text("system_virtual_schema")));
}

#[test]
fn unknown_system_tables_are_invalid() {
    let n = TestNode::new();
    assert_eq!(
        n.err("SELECT * FROM system_schema.scylla_tables"),
        "table scylla_tables does not exist"
    );
    assert_eq!(
        n.err("SELECT * FROM system_schema.scylla_keyspaces"),
        "table scylla_keyspaces does not exist"
    );
    let stmt = match meridian_cql_parser::parse_statement(
        "SELECT * FROM system_schema.scylla_tables WHERE keyspace_name = ?",
    )
    .unwrap()
    {
        meridian_cql_parser::Statement::Select(s) => s,
        _ => unreachable!(),
    };
    let err = select::prepare(&n.node, &n.session, &stmt).unwrap_err();
    assert!(matches!(err, meridian_query::QueryError::Invalid(_)));
}

fn prepare(n: &TestNode, cql: &str) -> meridian_query::PreparedInfo {
    let stmt = match meridian_cql_parser::parse_statement(cql).unwrap() {
        meridian_cql_parser::Statement::Select(s) => s,
        _ => unreachable!(),
    };
    select::prepare(&n.node, &n.session, &stmt).unwrap_or_else(|e| panic!("{cql}: {e}"))
}

fn spec(name: &str, ty: CqlType) -> (String, CqlType) {
    (name.to_string(), ty)
}

fn specs(cols: &[ResultColumn]) -> Vec<(String, CqlType)> {
    cols.iter()
        .map(|c| (c.name.clone(), c.ty.clone()))
        .collect()
}

#[test]
fn prepared_metadata() {
    let n = TestNode::new();
    n.ok(
        "CREATE TABLE t (k1 int, k2 text, c1 int, c2 int, v text, PRIMARY KEY ((k1, k2), c1, c2))",
    );
    let p = prepare(
        &n,
        "SELECT v, c1 FROM t WHERE k2 = ? AND k1 = ? AND (c1, c2) > ? LIMIT ?",
    );
    assert_eq!(
        specs(&p.bind_columns),
        [
            spec("k2", CqlType::Text),
            spec("k1", CqlType::Int),
            spec("(c1,c2)", CqlType::Tuple(vec![CqlType::Int, CqlType::Int])),
            spec("[limit]", CqlType::Int),
        ]
    );
    assert_eq!(p.pk_indexes, [1, 0]);
    assert_eq!(
        specs(&p.result_columns),
        [spec("v", CqlType::Text), spec("c1", CqlType::Int)]
    );
    assert!(p
        .bind_columns
        .iter()
        .all(|c| c.keyspace == "ks" && c.table == "t"));

    let p = prepare(&n, "SELECT * FROM t WHERE k1 IN ? AND k2 = ? AND c1 IN (?, ?) AND (c2) IN ? PER PARTITION LIMIT ?");
    assert_eq!(
        specs(&p.bind_columns),
        [
            spec("in(k1)", CqlType::List(Box::new(CqlType::Int))),
            spec("k2", CqlType::Text),
            spec("c1", CqlType::Int),
            spec("c1", CqlType::Int),
            spec(
                "in(c2)",
                CqlType::List(Box::new(CqlType::Tuple(vec![CqlType::Int])))
            ),
            spec("[per_partition_limit]", CqlType::Int),
        ]
    );
    assert!(p.pk_indexes.is_empty(), "k1 is bound by an IN marker");
    let p = prepare(
        &n,
        "SELECT count(*) FROM t WHERE token(k1, k2) > ? AND token(k1, k2) <= ?",
    );
    assert_eq!(
        specs(&p.bind_columns),
        [
            spec("partition key token", CqlType::Bigint),
            spec("partition key token", CqlType::Bigint)
        ]
    );
    assert_eq!(specs(&p.result_columns), [spec("count", CqlType::Bigint)]);
    let p = prepare(&n, "SELECT JSON v FROM t WHERE k1 = ? AND k2 = ?");
    assert_eq!(specs(&p.result_columns), [spec("[json]", CqlType::Text)]);
    assert_eq!(p.pk_indexes, [0, 1]);
    let p = prepare(
        &n,
        "SELECT host_id, rpc_address, data_center, rack, tokens FROM system.peers",
    );
    assert_eq!(p.result_columns.len(), 5);
    assert!(p
        .result_columns
        .iter()
        .all(|c| c.keyspace == "system" && c.table == "peers"));

    // Executing with the bound values.
    let mut opts = ExecOptions::new();
    opts.page_size = Some(1024);
    n.ok("INSERT INTO t (k1, k2, c1, c2, v) VALUES (1, 'a', 1, 1, 'x')");
    n.ok("INSERT INTO t (k1, k2, c1, c2, v) VALUES (1, 'a', 2, 0, 'y')");
    let rs = n.rows_with(
        "SELECT v, c1 FROM t WHERE k2 = ? AND k1 = ? AND (c1, c2) > ? LIMIT ?",
        &[
            bind(CqlValue::Text("a".into())),
            bind_int(1),
            bind(CqlValue::Tuple(vec![
                Some(CqlValue::Int(1)),
                Some(CqlValue::Int(1)),
            ])),
            bind_int(10),
        ],
        &opts,
    );
    assert_eq!(decode(&rs), vec![vec![text("y"), int(2)]]);
    let rs = n.rows_with(
        "SELECT v FROM t WHERE k1 IN ? AND k2 = 'a' AND (c1, c2) IN ?",
        &[
            bind(CqlValue::List(vec![CqlValue::Int(1), CqlValue::Int(2)])),
            bind(CqlValue::List(vec![
                CqlValue::Tuple(vec![Some(CqlValue::Int(2)), Some(CqlValue::Int(0))]),
                CqlValue::Tuple(vec![Some(CqlValue::Int(1)), Some(CqlValue::Int(1))]),
            ])),
        ],
        &opts,
    );
    assert_eq!(decode(&rs), vec![vec![text("x")], vec![text("y")]]);
    let _ = Value::Null;
}
