//! Statements written with literals rather than bind markers (the terms engine evaluating
//! them for the write path's receivers), INSERT JSON, and type errors.

mod modification_support;

use bytes::Bytes;
use meridian_types::model::ClusteringOrder;
use meridian_types::value::CqlValue;
use modification_support::*;

fn table(t: &mut TestNode) {
    t.create_table(
        "t",
        &[
            Col("k", "int", false),
            Col("c", "text", false),
            Col("v", "int", false),
            Col("l", "list<int>", false),
            Col("st", "set<text>", false),
            Col("m", "map<int, text>", false),
        ],
        &["k"],
        &[("c", ClusteringOrder::Desc)],
        &[],
    );
}

#[test]
fn literal_values_and_collection_operations() {
    let mut t = TestNode::new();
    table(&mut t);
    t.ok(
        "INSERT INTO t (k, c, v, l, st, m) VALUES (1, 'a', 2, [1, 2], {'x', 'y'}, {1: 'one'}) USING TTL 60",
        vec![],
    );
    t.ok(
        "UPDATE t SET l = [0] + l, st = st - {'x'}, m = m + {2: 'two'} WHERE k = 1 AND c = 'a'",
        vec![],
    );
    t.ok(
        "UPDATE t SET l[2] = 20, m[1] = null WHERE k = 1 AND c = 'a'",
        vec![],
    );
    let row = t.live_rows("t", &b_int(1))[0].clone();
    assert_eq!(cell(&row, t.col("t", "v")).ttl_secs(), 60);
    assert_eq!(
        list_values(&row, t.col("t", "l")),
        vec![b_int(0), b_int(1), b_int(20)]
    );
    let st: Vec<Bytes> = complex(&row, t.col("t", "st"))
        .cells
        .iter()
        .map(|(p, _)| p.clone())
        .collect();
    assert_eq!(st, vec![b_text("y")]);
    let m: Vec<(Bytes, Bytes)> = complex(&row, t.col("t", "m"))
        .cells
        .iter()
        .map(|(p, c)| (p.clone(), c.value.clone()))
        .collect();
    assert_eq!(m, vec![(b_int(2), b_text("two"))]);

    let rs = rows(t.ok(
        "UPDATE t SET v = 3 WHERE k = 1 AND c = 'a' IF v IN (5, 6) AND l[0] = 0",
        vec![],
    ));
    assert_eq!(
        rs.rows,
        vec![vec![
            Some(Bytes::from_static(&[0])),
            Some(b_int(2)),
            Some(
                CqlValue::List(vec![CqlValue::Int(0), CqlValue::Int(1), CqlValue::Int(20)])
                    .to_bytes()
            )
        ]]
    );
    let rs = rows(t.ok("DELETE FROM t WHERE k = 1 AND c = 'a' IF v = 2", vec![]));
    assert_eq!(rs.rows, vec![vec![Some(Bytes::from_static(&[1]))]]);
    assert!(t.live_rows("t", &b_int(1)).is_empty());
}

#[test]
fn type_errors_come_from_the_terms_engine() {
    let mut t = TestNode::new();
    table(&mut t);
    assert_eq!(
        t.err("INSERT INTO t (k, c) VALUES ('x', 'a')", vec![]),
        "Invalid STRING constant (x) for \"k\" of type int"
    );
    assert_eq!(
        t.err("UPDATE t SET l[0] = 'x' WHERE k = 1 AND c = 'a'", vec![]),
        "Invalid STRING constant (x) for \"value(l)\" of type int"
    );
}

#[test]
fn insert_json() {
    let mut t = TestNode::new();
    table(&mut t);
    t.ok(
        "INSERT INTO t JSON '{\"k\": 1, \"c\": \"a\", \"v\": 5, \"l\": [3, 4], \"m\": {\"1\": \"one\"}}'",
        vec![],
    );
    let row = t.partition("t", &b_int(1)).unwrap().rows[0].clone();
    assert!(row.liveness.is_some());
    assert_eq!(cell(&row, t.col("t", "v")).value, b_int(5));
    assert_eq!(list_values(&row, t.col("t", "l")), vec![b_int(3), b_int(4)]);
    // Columns missing from the document are set to null (DEFAULT NULL): the set gets its
    // collection tombstone.
    let st = complex(&row, t.col("t", "st"));
    assert!(!st.deletion.is_live() && st.cells.is_empty());

    // DEFAULT UNSET leaves them alone.
    t.ok(
        "INSERT INTO t JSON ? DEFAULT UNSET",
        vec![text("{\"k\": 2, \"c\": \"b\", \"v\": 1}")],
    );
    let row = t.partition("t", &b_int(2)).unwrap().rows[0].clone();
    assert!(row.column(t.col("t", "st")).is_none());
    assert!(row.column(t.col("t", "l")).is_none());
    t.ok(
        "INSERT INTO t JSON ? DEFAULT UNSET",
        vec![text("{\"k\": 2, \"c\": \"b\", \"l\": [1]}")],
    );
    let row = t.live_rows("t", &b_int(2))[0].clone();
    assert_eq!(cell(&row, t.col("t", "v")).value, b_int(1));

    assert!(t
        .err(
            "INSERT INTO t JSON ?",
            vec![text("{\"k\": 1, \"c\": \"a\", \"v\": \"notanint\"}")]
        )
        .starts_with("Error decoding JSON value for v: Unable to make int from 'notanint'"));
}
