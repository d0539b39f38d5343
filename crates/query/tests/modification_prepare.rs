//! PREPARE of modification statements: bind-marker receivers (names and types, as drivers
//! see them), partition key indexes for token-aware routing, and (no) result metadata.

mod modification_support;

use meridian_cql_parser::parse_statement;
use meridian_query::modification;
use meridian_query::PreparedInfo;
use meridian_types::cql_type::CqlType;
use meridian_types::model::ClusteringOrder;
use modification_support::*;

fn prepare(t: &TestNode, cql: &str) -> PreparedInfo {
    let statement = parse_statement(cql).expect("parse");
    modification::prepare(&t.node, &t.session, &statement).unwrap_or_else(|e| panic!("{cql}: {e}"))
}

fn binds(info: &PreparedInfo) -> Vec<(String, CqlType)> {
    info.bind_columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.clone()))
        .collect()
}

fn setup() -> TestNode {
    let mut t = TestNode::new();
    t.create_table(
        "t",
        &[
            Col("a", "int", false),
            Col("b", "text", false),
            Col("c", "int", false),
            Col("v", "text", false),
            Col("l", "list<int>", false),
            Col("m", "map<text, int>", false),
        ],
        &["a", "b"],
        &[("c", ClusteringOrder::Asc)],
        &[],
    );
    t.create_table(
        "o",
        &[Col("k", "int", false), Col("v", "int", false)],
        &["k"],
        &[],
        &[],
    );
    t
}

fn s(name: &str, ty: CqlType) -> (String, CqlType) {
    (name.to_string(), ty)
}

#[test]
fn insert_markers_and_routing_indexes() {
    let t = setup();
    let info = prepare(
        &t,
        "INSERT INTO t (v, b, c, a) VALUES (?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?",
    );
    assert_eq!(
        binds(&info),
        vec![
            s("v", CqlType::Text),
            s("b", CqlType::Text),
            s("c", CqlType::Int),
            s("a", CqlType::Int),
            s("[ttl]", CqlType::Int),
            s("[timestamp]", CqlType::Bigint),
        ]
    );
    // Indexes in partition key order: a is marker 3, b marker 1.
    assert_eq!(info.pk_indexes, vec![3, 1]);
    assert!(info.result_columns.is_empty());
    assert!(info
        .bind_columns
        .iter()
        .all(|c| c.keyspace == "ks" && c.table == "t"));

    // A key column given as a literal: no routing indexes.
    let info = prepare(&t, "INSERT INTO o (k, v) VALUES (1, ?)");
    assert!(info.pk_indexes.is_empty());
    // Named markers keep their names.
    let info = prepare(&t, "INSERT INTO o (k, v) VALUES (:key, :value)");
    assert_eq!(
        binds(&info),
        vec![s("key", CqlType::Int), s("value", CqlType::Int)]
    );
    assert_eq!(info.pk_indexes, vec![0]);
    let info = prepare(&t, "INSERT INTO o JSON ?");
    assert_eq!(binds(&info), vec![s("[json]", CqlType::Text)]);
    assert!(info.pk_indexes.is_empty());
}

#[test]
fn update_and_delete_markers() {
    let t = setup();
    let info = prepare(
        &t,
        "UPDATE t USING TTL ? SET l[?] = ?, m = m + ?, m[?] = ? WHERE a = ? AND b IN ? AND c = ? IF v = ?",
    );
    assert_eq!(
        binds(&info),
        vec![
            s("[ttl]", CqlType::Int),
            s("idx(l)", CqlType::Int),
            s("value(l)", CqlType::Int),
            s(
                "m",
                CqlType::Map(Box::new(CqlType::Text), Box::new(CqlType::Int))
            ),
            s("key(m)", CqlType::Text),
            s("value(m)", CqlType::Int),
            s("a", CqlType::Int),
            s("in(b)", CqlType::List(Box::new(CqlType::Text))),
            s("c", CqlType::Int),
            s("v", CqlType::Text),
        ]
    );
    // b is bound through IN ?: no routing.
    assert!(info.pk_indexes.is_empty());
    let info = prepare(
        &t,
        "DELETE m[?], l FROM t USING TIMESTAMP ? WHERE a = ? AND b = ? AND c IN (?, ?)",
    );
    assert_eq!(
        binds(&info),
        vec![
            s("key(m)", CqlType::Text),
            s("[timestamp]", CqlType::Bigint),
            s("a", CqlType::Int),
            s("b", CqlType::Text),
            s("c", CqlType::Int),
            s("c", CqlType::Int),
        ]
    );
    assert_eq!(info.pk_indexes, vec![2, 3]);
    let info = prepare(
        &t,
        "DELETE FROM t WHERE a = ? AND b = ? AND c = ? IF v IN ? AND l[?] = ?",
    );
    assert_eq!(
        binds(&info)[3..],
        [
            s("in(v)", CqlType::List(Box::new(CqlType::Text))),
            s("idx(l)", CqlType::Int),
            s("value(l)", CqlType::Int),
        ]
    );
    assert!(info.result_columns.is_empty());
    let info = prepare(
        &t,
        "UPDATE t SET m = m - ? WHERE a = ? AND b = ? AND (c) IN ?",
    );
    assert_eq!(
        binds(&info)[0],
        s("m", CqlType::Set(Box::new(CqlType::Text)))
    );
    assert_eq!(
        binds(&info)[3],
        s(
            "in(c)",
            CqlType::List(Box::new(CqlType::Tuple(vec![CqlType::Int])))
        )
    );
}

#[test]
fn batch_markers_and_routing() {
    let t = setup();
    let info = prepare(
        &t,
        "BEGIN BATCH USING TIMESTAMP ? INSERT INTO o (k, v) VALUES (?, ?); UPDATE o SET v = ? WHERE k = ?; APPLY BATCH",
    );
    assert_eq!(
        binds(&info),
        vec![
            s("[timestamp]", CqlType::Bigint),
            s("k", CqlType::Int),
            s("v", CqlType::Int),
            s("v", CqlType::Int),
            s("k", CqlType::Int),
        ]
    );
    assert_eq!(info.bind_columns[0].keyspace, "[batch]");
    // Same table throughout: the last marker bound to the key column routes.
    assert_eq!(info.pk_indexes, vec![4]);
    let info = prepare(
        &t,
        "BEGIN BATCH INSERT INTO o (k, v) VALUES (?, ?); INSERT INTO t (a, b, c) VALUES (?, ?, ?); APPLY BATCH",
    );
    assert!(info.pk_indexes.is_empty());
}

#[test]
fn prepare_reports_statement_errors() {
    let t = setup();
    let statement =
        parse_statement("UPDATE t SET nope = ? WHERE a = ? AND b = ? AND c = ?").unwrap();
    let e = modification::prepare(&t.node, &t.session, &statement).unwrap_err();
    assert_eq!(e.to_string(), "Undefined column name nope in table ks.t");
    let statement = parse_statement("UPDATE t SET v = ? WHERE a = ? AND c = ?").unwrap();
    let e = modification::prepare(&t.node, &t.session, &statement).unwrap_err();
    assert_eq!(e.to_string(), "Some partition key parts are missing: b");
}
