//! SELECT on a node: selections, column order and types, partition and clustering
//! restrictions, static rows, collections, TTL, limits and Cassandra's errors.

mod select_support;

use meridian_query::ExecOptions;
use meridian_types::cql_type::CqlType;
use meridian_types::value::CqlValue;
use select_support::*;

fn table_with_rows() -> TestNode {
    let n = TestNode::new();
    n.ok("CREATE TABLE t (k int, c int, v text, PRIMARY KEY (k, c))");
    for k in 0..3 {
        for c in 0..4 {
            n.ok(&format!(
                "INSERT INTO t (k, c, v) VALUES ({k}, {c}, 'v{k}{c}')"
            ));
        }
    }
    n
}

#[test]
fn wildcard_columns_in_cassandra_order() {
    let n = TestNode::new();
    n.ok("CREATE TABLE w (k int, c int, b text, a int, s int static, l list<int>, z frozen<set<int>>, PRIMARY KEY (k, c))");
    let rs = n.rows("SELECT * FROM w");
    assert_eq!(names(&rs), ["k", "c", "s", "a", "b", "l", "z"]);
    assert_eq!(rs.columns[5].ty, CqlType::List(Box::new(CqlType::Int)));
    assert!(rs
        .columns
        .iter()
        .all(|c| c.keyspace == "ks" && c.table == "w"));
    assert!(rs.rows.is_empty());
    assert_eq!(rs.paging_state, None);
}

#[test]
fn partition_and_clustering_restrictions() {
    let n = table_with_rows();
    assert_eq!(
        n.values("SELECT c, v FROM t WHERE k = 1"),
        (0..4)
            .map(|c| vec![int(c), text(&format!("v1{c}"))])
            .collect::<Vec<_>>()
    );
    assert_eq!(
        n.values("SELECT c FROM t WHERE k = 1 AND c > 0 AND c <= 2"),
        vec![vec![int(1)], vec![int(2)]]
    );
    assert_eq!(
        n.values("SELECT c FROM t WHERE k = 1 AND c IN (3, 0, 3)"),
        vec![vec![int(0)], vec![int(3)]]
    );
    assert_eq!(
        n.values("SELECT c FROM t WHERE k = 1 AND c IN ()"),
        Vec::<Vec<Option<CqlValue>>>::new()
    );
    assert_eq!(
        n.values("SELECT c FROM t WHERE k = 1 ORDER BY c DESC LIMIT 2"),
        vec![vec![int(3)], vec![int(2)]]
    );
    // IN on the partition key: partitions in key order, duplicates removed.
    assert_eq!(
        n.values("SELECT k, c FROM t WHERE k IN (2, 0, 2) AND c = 1"),
        vec![vec![int(0), int(1)], vec![int(2), int(1)]]
    );
    assert!(n.values("SELECT * FROM t WHERE k = 7").is_empty());
}

#[test]
fn aliases_and_result_types() {
    let n = table_with_rows();
    let rs = n.rows("SELECT v AS value, c FROM t WHERE k = 0 AND c = 0");
    assert_eq!(names(&rs), ["value", "c"]);
    assert_eq!(rs.columns[0].ty, CqlType::Text);
    assert_eq!(decode(&rs), vec![vec![text("v00"), int(0)]]);
}

#[test]
fn desc_clustering_order_and_reversed_reads() {
    let n = TestNode::new();
    n.ok("CREATE TABLE d (k int, c int, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)");
    for c in 0..5 {
        n.ok(&format!("INSERT INTO d (k, c) VALUES (0, {c})"));
    }
    let all = |q: &str| -> Vec<i32> {
        n.values(q)
            .into_iter()
            .map(|r| match &r[0] {
                Some(CqlValue::Int(v)) => *v,
                other => panic!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(all("SELECT c FROM d WHERE k = 0"), [4, 3, 2, 1, 0]);
    assert_eq!(
        all("SELECT c FROM d WHERE k = 0 ORDER BY c ASC"),
        [0, 1, 2, 3, 4]
    );
    assert_eq!(all("SELECT c FROM d WHERE k = 0 AND c > 1"), [4, 3, 2]);
    assert_eq!(
        all("SELECT c FROM d WHERE k = 0 AND c > 1 AND c < 4 ORDER BY c"),
        [2, 3]
    );
    assert_eq!(all("SELECT c FROM d WHERE k = 0 AND c IN (1, 3)"), [3, 1]);
    assert_eq!(
        all("SELECT c FROM d WHERE k = 0 AND c IN (1, 3) ORDER BY c ASC"),
        [1, 3]
    );
}

#[test]
fn static_columns_and_static_only_partitions() {
    let n = TestNode::new();
    n.ok("CREATE TABLE s (k int, c int, s int static, v int, PRIMARY KEY (k, c))");
    n.ok("INSERT INTO s (k, c, s, v) VALUES (0, 1, 10, 100)");
    n.ok("INSERT INTO s (k, c, v) VALUES (0, 2, 200)");
    n.ok("INSERT INTO s (k, s) VALUES (1, 11)");
    assert_eq!(
        n.values("SELECT * FROM s WHERE k = 0"),
        vec![
            vec![int(0), int(1), int(10), int(100)],
            vec![int(0), int(2), int(10), int(200)]
        ]
    );
    // A partition with only static data returns one row with nulls...
    assert_eq!(
        n.values("SELECT * FROM s WHERE k = 1"),
        vec![vec![int(1), None, int(11), None]]
    );
    // ...but not when clustering columns are restricted.
    assert!(n.values("SELECT * FROM s WHERE k = 1 AND c = 1").is_empty());
    assert_eq!(
        n.values("SELECT s FROM s WHERE k IN (0, 1)"),
        vec![vec![int(10)], vec![int(10)], vec![int(11)]]
    );
    assert_eq!(n.values("SELECT DISTINCT k, s FROM s"), {
        let mut v = vec![vec![int(0), int(10)], vec![int(1), int(11)]];
        // Token order.
        let t = |k: i32| meridian_types::token::murmur3_token(&k.to_be_bytes());
        v.sort_by_key(|r| match r[0] {
            Some(CqlValue::Int(k)) => t(k),
            _ => unreachable!(),
        });
        v
    });
    assert_eq!(
        n.err("SELECT DISTINCT k, v FROM s"),
        "SELECT DISTINCT queries must only request partition key columns and/or static columns (not v)"
    );
    assert_eq!(
        n.err("SELECT s FROM s WHERE k = 0 AND c = 1"),
        "Cannot restrict clustering columns when selecting only static columns"
    );
}

#[test]
fn collections_are_returned_in_cql_order() {
    let n = TestNode::new();
    n.ok("CREATE TABLE c (k int PRIMARY KEY, l list<int>, s set<text>, m map<int, text>)");
    n.ok("INSERT INTO c (k, l, s, m) VALUES (0, [3, 1, 2], {'b', 'a'}, {5: 'five', -1: 'minus'})");
    n.ok("UPDATE c SET l = l + [9], s = s + {'c'} WHERE k = 0");
    assert_eq!(
        n.values("SELECT l, s, m FROM c WHERE k = 0"),
        vec![vec![
            Some(CqlValue::List(vec![
                CqlValue::Int(3),
                CqlValue::Int(1),
                CqlValue::Int(2),
                CqlValue::Int(9)
            ])),
            Some(CqlValue::Set(vec![
                CqlValue::Text("a".into()),
                CqlValue::Text("b".into()),
                CqlValue::Text("c".into())
            ])),
            Some(CqlValue::Map(vec![
                (CqlValue::Int(-1), CqlValue::Text("minus".into())),
                (CqlValue::Int(5), CqlValue::Text("five".into()))
            ])),
        ]]
    );
    n.ok("INSERT INTO c (k, l) VALUES (1, [])");
    // An empty collection is null.
    assert_eq!(
        n.values("SELECT l, s FROM c WHERE k = 1"),
        vec![vec![None, None]]
    );
}

#[test]
fn writetime_and_ttl() {
    let n = TestNode::new();
    n.ok("CREATE TABLE wt (k int PRIMARY KEY, a int, b int, l list<int>)");
    n.ok("INSERT INTO wt (k, a) VALUES (0, 1) USING TIMESTAMP 1000");
    n.ok("UPDATE wt USING TTL 5000 AND TIMESTAMP 2000 SET b = 2 WHERE k = 0");
    n.ok("UPDATE wt USING TIMESTAMP 3000 SET l = l + [1, 2] WHERE k = 0");
    let rs = n.rows("SELECT writetime(a), writetime(b), ttl(a), ttl(b), writetime(l), maxwritetime(l) FROM wt WHERE k = 0");
    assert_eq!(
        names(&rs),
        [
            "writetime(a)",
            "writetime(b)",
            "ttl(a)",
            "ttl(b)",
            "writetime(l)",
            "maxwritetime(l)"
        ]
    );
    assert_eq!(rs.columns[4].ty, CqlType::List(Box::new(CqlType::Bigint)));
    let row = &decode(&rs)[0];
    assert_eq!(row[0], bigint(1000));
    assert_eq!(row[1], bigint(2000));
    assert_eq!(row[2], None);
    match &row[3] {
        Some(CqlValue::Int(t)) => assert!((4990..=5000).contains(t), "ttl {t}"),
        other => panic!("ttl(b) = {other:?}"),
    }
    assert_eq!(
        row[4],
        Some(CqlValue::List(vec![
            CqlValue::Bigint(3000),
            CqlValue::Bigint(3000)
        ]))
    );
    assert_eq!(row[5], bigint(3000));
    assert_eq!(
        n.err("SELECT writetime(k) FROM wt"),
        "Cannot use selection function writetime on PRIMARY KEY part k"
    );
}

#[test]
fn expired_data_disappears() {
    let n = TestNode::new();
    n.ok("CREATE TABLE e (k int, c int, v int, PRIMARY KEY (k, c))");
    n.ok("INSERT INTO e (k, c, v) VALUES (0, 0, 0) USING TTL 100");
    n.ok("INSERT INTO e (k, c, v) VALUES (0, 1, 1)");
    let mut later = ExecOptions::new();
    later.now_micros += 101 * 1_000_000;
    assert_eq!(n.values("SELECT c FROM e WHERE k = 0").len(), 2);
    let rs = n.rows_with("SELECT c FROM e WHERE k = 0", &[], &later);
    assert_eq!(decode(&rs), vec![vec![int(1)]]);
}

#[test]
fn limits() {
    let n = table_with_rows();
    assert_eq!(n.values("SELECT * FROM t LIMIT 5").len(), 5);
    assert_eq!(n.values("SELECT * FROM t PER PARTITION LIMIT 2").len(), 6);
    assert_eq!(
        n.values("SELECT * FROM t PER PARTITION LIMIT 2 LIMIT 3")
            .len(),
        3
    );
    assert_eq!(
        n.values("SELECT c FROM t WHERE k IN (0, 1) PER PARTITION LIMIT 1"),
        vec![vec![int(0)], vec![int(0)]]
    );
    let rs = n.rows_with(
        "SELECT * FROM t LIMIT ?",
        &[bind_int(2)],
        &ExecOptions::new(),
    );
    assert_eq!(rs.rows.len(), 2);
    assert_eq!(
        n.err("SELECT * FROM t LIMIT 0"),
        "LIMIT must be strictly positive"
    );
    assert_eq!(
        n.err("SELECT * FROM t PER PARTITION LIMIT -1"),
        "LIMIT must be strictly positive"
    );
}

#[test]
fn unknown_tables_and_columns() {
    let n = table_with_rows();
    assert_eq!(n.err("SELECT * FROM nope"), "table nope does not exist");
    assert_eq!(
        n.err("SELECT * FROM nope.t"),
        "keyspace nope does not exist"
    );
    assert_eq!(
        n.err("SELECT x FROM t"),
        "Undefined column name x in table ks.t"
    );
    assert_eq!(
        n.err("SELECT * FROM t WHERE \"K\" = 1"),
        "Undefined column name \"K\" in table ks.t"
    );
    let fresh = TestNode::new();
    let s = meridian_query::Session::new();
    let stmt = match meridian_cql_parser::parse_statement("SELECT * FROM t").unwrap() {
        meridian_cql_parser::Statement::Select(s) => s,
        _ => unreachable!(),
    };
    let e = meridian_query::select::execute(
        &fresh.node,
        &s,
        &stmt,
        &Default::default(),
        &ExecOptions::new(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename"
    );
}
