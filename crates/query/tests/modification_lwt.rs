//! Conditional statements: IF NOT EXISTS / IF EXISTS / column conditions, the `[applied]`
//! result with the current values, static conditions, collection and UDT conditions, the
//! restrictions on conditional statements, and serialisation under concurrency.

mod modification_support;

use std::sync::Arc;

use bytes::Bytes;
use meridian_cql_protocol::Value;
use meridian_query::ResultSet;
use meridian_types::model::ClusteringOrder;
use meridian_types::value::CqlValue;
use modification_support::*;

const T: Option<Bytes> = Some(Bytes::from_static(&[1]));
const F: Option<Bytes> = Some(Bytes::from_static(&[0]));

fn names(rs: &ResultSet) -> Vec<String> {
    rs.columns.iter().map(|c| c.name.clone()).collect()
}

fn simple(t: &mut TestNode) {
    t.create_table(
        "t",
        &[
            Col("k", "int", false),
            Col("v1", "int", false),
            Col("v2", "text", false),
            Col("v3", "int", false),
        ],
        &["k"],
        &[],
        &[],
    );
}

#[test]
fn insert_if_not_exists() {
    let mut t = TestNode::new();
    simple(&mut t);
    let rs = rows(t.ok(
        "INSERT INTO t (k, v1, v2) VALUES (?, ?, ?) IF NOT EXISTS",
        vec![int(0), int(2), text("foo")],
    ));
    assert_eq!(names(&rs), vec!["[applied]"]);
    assert_eq!(rs.rows, vec![vec![T]]);
    assert_eq!(rs.columns[0].keyspace, "ks");
    assert_eq!(rs.columns[0].table, "t");

    let rs = rows(t.ok(
        "INSERT INTO t (k, v1, v2) VALUES (?, ?, ?) IF NOT EXISTS",
        vec![int(0), int(5), text("bar")],
    ));
    assert_eq!(names(&rs), vec!["[applied]", "k", "v1", "v2", "v3"]);
    assert_eq!(
        rs.rows,
        vec![vec![
            F,
            Some(b_int(0)),
            Some(b_int(2)),
            Some(b_text("foo")),
            None
        ]]
    );
    // Not applied: the row is unchanged.
    let row = &t.live_rows("t", &b_int(0))[0];
    assert_eq!(cell(row, t.col("t", "v1")).value, b_int(2));
}

#[test]
fn update_and_delete_with_conditions() {
    let mut t = TestNode::new();
    simple(&mut t);
    let q = |cql: &str, values: Vec<Value>| rows(t.ok(cql, values)).rows;
    // On a missing row only [applied] comes back.
    assert_eq!(
        q(
            "UPDATE t SET v1 = ? WHERE k = ? IF v1 = ?",
            vec![int(3), int(0), int(4)]
        ),
        vec![vec![F]]
    );
    assert_eq!(
        q(
            "UPDATE t SET v1 = ? WHERE k = ? IF EXISTS",
            vec![int(3), int(0)]
        ),
        vec![vec![F]]
    );
    assert_eq!(
        q("DELETE FROM t WHERE k = ? IF EXISTS", vec![int(0)]),
        vec![vec![F]]
    );
    assert!(t.partition("t", &b_int(0)).is_none());

    t.ok(
        "INSERT INTO t (k, v1, v2) VALUES (?, ?, ?)",
        vec![int(0), int(2), text("foo")],
    );
    assert_eq!(
        q(
            "UPDATE t SET v1 = ? WHERE k = ? IF v1 = ?",
            vec![int(3), int(0), int(4)]
        ),
        vec![vec![F, Some(b_int(2))]]
    );
    assert_eq!(
        q(
            "UPDATE t SET v2 = ?, v1 = ? WHERE k = ? IF v1 = ?",
            vec![text("bar"), int(3), int(0), int(2)]
        ),
        vec![vec![T]]
    );
    assert_eq!(
        q(
            "UPDATE t SET v1 = ? WHERE k = ? IF v1 IN (?, ?)",
            vec![int(4), int(0), int(1), int(3)]
        ),
        vec![vec![T]]
    );
    assert_eq!(
        q(
            "UPDATE t SET v1 = ? WHERE k = ? IF v1 IN ?",
            vec![int(5), int(0), ints(&[1, 2])]
        ),
        vec![vec![F, Some(b_int(4))]]
    );
    assert_eq!(
        q(
            "UPDATE t SET v1 = ? WHERE k = ? IF v1 IN ()",
            vec![int(5), int(0)]
        ),
        vec![vec![F, Some(b_int(4))]]
    );
    assert_eq!(
        q(
            "UPDATE t SET v1 = ? WHERE k = ? IF v1 < ? AND v2 = ?",
            vec![int(5), int(0), int(10), text("bar")]
        ),
        vec![vec![T]]
    );
    assert_eq!(
        q(
            "UPDATE t SET v1 = ? WHERE k = ? IF v1 = ? AND v2 = ?",
            vec![int(6), int(0), int(5), text("foo")]
        ),
        vec![vec![F, Some(b_int(5)), Some(b_text("bar"))]]
    );
    assert_eq!(
        q(
            "UPDATE t SET v1 = ? WHERE k = ? IF v1 != ?",
            vec![int(6), int(0), int(5)]
        ),
        vec![vec![F, Some(b_int(5))]]
    );
    // Conditions on null: v3 is null.
    assert_eq!(
        q(
            "DELETE v1 FROM t WHERE k = ? IF v3 = ?",
            vec![int(0), int(4)]
        ),
        vec![vec![F, None]]
    );
    assert_eq!(
        q(
            "DELETE v1 FROM t WHERE k = ? IF v3 = ?",
            vec![int(0), Value::Null]
        ),
        vec![vec![T]]
    );
    assert_eq!(
        q("DELETE FROM t WHERE k = ? IF EXISTS", vec![int(0)]),
        vec![vec![T]]
    );
    assert!(t.live_rows("t", &b_int(0)).is_empty());

    assert_eq!(
        t.err(
            "UPDATE t SET v1 = ? WHERE k = ? IF v1 = ?",
            vec![int(1), int(0), Value::Unset]
        ),
        "Invalid 'unset' value in condition"
    );
    assert_eq!(
        t.err(
            "UPDATE t SET v1 = ? WHERE k = ? IF v1 > ?",
            vec![int(1), int(0), Value::Null]
        ),
        "Invalid comparison with null for operator \">\""
    );
}

#[test]
fn conditional_restrictions() {
    let mut t = TestNode::new();
    simple(&mut t);
    t.create_table(
        "c",
        &[
            Col("k", "text", false),
            Col("s", "text", true),
            Col("i", "int", false),
            Col("v", "text", false),
        ],
        &["k"],
        &[("i", ClusteringOrder::Asc)],
        &[],
    );
    assert_eq!(
        t.err(
            "UPDATE t USING TIMESTAMP ? SET v1 = ? WHERE k = ? IF v1 = ?",
            vec![bigint(1), int(1), int(0), int(1)]
        ),
        "Cannot provide custom timestamp for conditional updates"
    );
    assert_eq!(
        t.err(
            "INSERT INTO t (k) VALUES (?) IF NOT EXISTS USING TIMESTAMP ?",
            vec![int(1), bigint(1)]
        ),
        "Cannot provide custom timestamp for conditional updates"
    );
    assert_eq!(
        t.err(
            "UPDATE t SET v1 = ? WHERE k IN (?, ?) IF v1 = ?",
            vec![int(1), int(0), int(1), int(1)]
        ),
        "IN on the partition key is not supported with conditional updates"
    );
    assert_eq!(
        t.err(
            "UPDATE c SET v = ? WHERE k = ? AND i IN (?, ?) IF EXISTS",
            vec![text("a"), text("k"), int(0), int(1)]
        ),
        "IN on the clustering key columns is not supported with conditional updates"
    );
    assert_eq!(
        t.err(
            "DELETE FROM c WHERE k = ? AND i IN (?, ?) IF v = ?",
            vec![text("k"), int(0), int(1), text("a")]
        ),
        "IN on the clustering key columns is not supported with conditional deletions"
    );
    assert_eq!(
        t.err("DELETE FROM c WHERE k = ? IF EXISTS", vec![text("k")]),
        "DELETE statements must restrict all PRIMARY KEY columns with equality relations in order to delete non static columns"
    );
    assert_eq!(
        t.err("DELETE FROM c WHERE k = ? AND i > ? IF v = ?", vec![text("k"), int(0), text("a")]),
        "DELETE statements must restrict all PRIMARY KEY columns with equality relations in order to delete non static columns"
    );
    assert_eq!(
        t.err(
            "UPDATE t SET v1 = ? WHERE k = ? IF k = ?",
            vec![int(1), int(0), int(0)]
        ),
        "PRIMARY KEY column 'k' cannot have IF conditions"
    );
    assert_eq!(
        t.err(
            "UPDATE t SET v1 = ? WHERE k = ? IF v2 CONTAINS ?",
            vec![int(1), int(0), text("a")]
        ),
        "Cannot use CONTAINS on non-collection column v2"
    );
}

#[test]
fn static_conditions() {
    let mut t = TestNode::new();
    t.create_table(
        "c",
        &[
            Col("k", "text", false),
            Col("s", "text", true),
            Col("i", "int", false),
            Col("v", "text", false),
        ],
        &["k"],
        &[("i", ClusteringOrder::Asc)],
        &[],
    );
    let k = text("k");
    t.ok(
        "INSERT INTO c (k, s, i, v) VALUES (?, ?, ?, ?)",
        vec![k.clone(), text("s"), int(0), text("v")],
    );
    assert_eq!(
        rows(t.ok(
            "DELETE v FROM c WHERE k = ? AND i = ? IF EXISTS",
            vec![k.clone(), int(0)]
        ))
        .rows,
        vec![vec![T]]
    );
    assert_eq!(
        rows(t.ok(
            "DELETE FROM c WHERE k = ? AND i = ? IF EXISTS",
            vec![k.clone(), int(0)]
        ))
        .rows,
        vec![vec![T]]
    );
    // Only the static row is left.
    let rs = rows(t.ok(
        "DELETE v FROM c WHERE k = ? AND i = ? IF s = ?",
        vec![k.clone(), int(0), text("z")],
    ));
    assert_eq!(names(&rs), vec!["[applied]", "s"]);
    assert_eq!(rs.rows, vec![vec![F, Some(b_text("s"))]]);
    assert_eq!(
        rows(t.ok(
            "DELETE v FROM c WHERE k = ? AND i = ? IF v = ?",
            vec![k.clone(), int(0), text("z")]
        ))
        .rows,
        vec![vec![F]]
    );
    let rs = rows(t.ok(
        "DELETE v FROM c WHERE k = ? AND i = ? IF v = ? AND s = ?",
        vec![k.clone(), int(0), text("z"), text("z")],
    ));
    assert_eq!(names(&rs), vec!["[applied]", "v", "s"]);
    assert_eq!(rs.rows, vec![vec![F, None, Some(b_text("s"))]]);

    // Static-only conditional update with only the partition key.
    assert_eq!(
        rows(t.ok(
            "UPDATE c SET s = ? WHERE k = ? IF s = ?",
            vec![text("s2"), k.clone(), text("s")]
        ))
        .rows,
        vec![vec![T]]
    );
    let p = t.partition("c", &b_text("k")).unwrap();
    assert_eq!(
        cell(p.static_row.as_ref().unwrap(), t.col("c", "s")).value,
        b_text("s2")
    );
    // Static IF NOT EXISTS.
    let rs = rows(t.ok(
        "INSERT INTO c (k, s) VALUES (?, ?) IF NOT EXISTS",
        vec![k.clone(), text("s3")],
    ));
    assert_eq!(rs.rows[0][0], F);
    let rs = rows(t.ok(
        "INSERT INTO c (k, s) VALUES (?, ?) IF NOT EXISTS",
        vec![text("other"), text("s3")],
    ));
    assert_eq!(rs.rows, vec![vec![T]]);
}

#[test]
fn collection_and_udt_conditions() {
    let mut t = TestNode::new();
    t.create_type("pt", &[("x", "int"), ("y", "int")]);
    t.create_table(
        "c",
        &[
            Col("k", "int", false),
            Col("l", "list<int>", false),
            Col("m", "map<int, text>", false),
            Col("st", "set<int>", false),
            Col("fl", "frozen<list<int>>", false),
            Col("p", "pt", false),
        ],
        &["k"],
        &[],
        &[],
    );
    let point = v(CqlValue::Udt(vec![
        ("x".into(), Some(CqlValue::Int(1))),
        ("y".into(), Some(CqlValue::Int(2))),
    ]));
    t.ok(
        "INSERT INTO c (k, l, m, st, fl, p) VALUES (?, ?, ?, ?, ?, ?)",
        vec![
            int(1),
            ints(&[5, 6]),
            int_text_map(&[(1, "a")]),
            int_set(&[3, 1]),
            ints(&[9]),
            point.clone(),
        ],
    );
    let applied = |cql: &str, values: Vec<Value>| rows(t.ok(cql, values)).rows[0][0].clone();
    assert_eq!(
        applied(
            "UPDATE c SET l = ? WHERE k = ? IF l = ?",
            vec![ints(&[5, 6]), int(1), ints(&[5, 6])]
        ),
        T
    );
    assert_eq!(
        applied(
            "UPDATE c SET l = ? WHERE k = ? IF l > ?",
            vec![ints(&[5, 6]), int(1), ints(&[5])]
        ),
        T
    );
    assert_eq!(
        applied(
            "UPDATE c SET l = ? WHERE k = ? IF l < ?",
            vec![ints(&[5, 6]), int(1), ints(&[5, 6])]
        ),
        F
    );
    assert_eq!(
        applied(
            "UPDATE c SET l = ? WHERE k = ? IF l[?] = ?",
            vec![ints(&[5, 6]), int(1), int(1), int(6)]
        ),
        T
    );
    assert_eq!(
        applied(
            "UPDATE c SET l = ? WHERE k = ? IF l[?] = ?",
            vec![ints(&[5, 6]), int(1), int(7), Value::Null]
        ),
        T
    );
    assert_eq!(
        applied(
            "UPDATE c SET m = ? WHERE k = ? IF m[?] = ?",
            vec![int_text_map(&[(1, "a")]), int(1), int(1), text("a")]
        ),
        T
    );
    assert_eq!(
        applied(
            "UPDATE c SET m = ? WHERE k = ? IF m CONTAINS KEY ?",
            vec![int_text_map(&[(1, "a")]), int(1), int(2)]
        ),
        F
    );
    assert_eq!(
        applied(
            "UPDATE c SET st = ? WHERE k = ? IF st = ?",
            vec![int_set(&[1, 3]), int(1), int_set(&[3, 1])]
        ),
        T
    );
    assert_eq!(
        applied(
            "UPDATE c SET st = ? WHERE k = ? IF st CONTAINS ?",
            vec![int_set(&[1, 3]), int(1), int(3)]
        ),
        T
    );
    assert_eq!(
        applied(
            "UPDATE c SET fl = ? WHERE k = ? IF fl[?] = ?",
            vec![ints(&[9]), int(1), int(0), int(9)]
        ),
        T
    );
    assert_eq!(
        applied(
            "UPDATE c SET fl = ? WHERE k = ? IF fl CONTAINS ?",
            vec![ints(&[9]), int(1), int(8)]
        ),
        F
    );
    assert_eq!(
        applied(
            "UPDATE c SET p = ? WHERE k = ? IF p.y = ?",
            vec![point.clone(), int(1), int(2)]
        ),
        T
    );
    assert_eq!(
        applied(
            "UPDATE c SET p = ? WHERE k = ? IF p = ?",
            vec![point.clone(), int(1), point.clone()]
        ),
        T
    );
    // A failed whole-collection condition reports the collection as clients see it.
    let rs = rows(t.ok(
        "UPDATE c SET st = ? WHERE k = ? IF st = ?",
        vec![int_set(&[1]), int(1), int_set(&[2])],
    ));
    assert_eq!(
        rs.rows,
        vec![vec![
            F,
            Some(CqlValue::Set(vec![CqlValue::Int(1), CqlValue::Int(3)]).to_bytes())
        ]]
    );
    assert_eq!(
        t.err(
            "UPDATE c SET l = ? WHERE k = ? IF l[?] = ?",
            vec![ints(&[1]), int(1), int(-1), int(1)]
        ),
        "Invalid negative list index -1"
    );
    assert_eq!(
        t.err(
            "UPDATE c SET l = ? WHERE k = ? IF st[?] = ?",
            vec![ints(&[1]), int(1), int(1), int(1)]
        ),
        "Invalid element access syntax for set column st"
    );
    assert_eq!(
        t.err(
            "UPDATE c SET l = ? WHERE k = ? IF p.z = ?",
            vec![ints(&[1]), int(1), int(1)]
        ),
        "Unknown field z for column p"
    );
}

#[test]
fn concurrent_compare_and_set_is_serialised() {
    let mut t = TestNode::new();
    simple(&mut t);
    t.ok("INSERT INTO t (k, v1) VALUES (?, ?)", vec![int(0), int(0)]);
    let t = Arc::new(t);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let t = t.clone();
            std::thread::spawn(move || {
                let mut successes = 0;
                for _ in 0..25 {
                    // Read the current value, then try to increment it.
                    let current = t.live_rows("t", &b_int(0))[0].clone();
                    let v = i32::from_be_bytes(
                        cell(&current, t.col("t", "v1")).value[..]
                            .try_into()
                            .unwrap(),
                    );
                    let r = t
                        .exec_with(
                            "UPDATE t SET v1 = ? WHERE k = ? IF v1 = ?",
                            vec![int(v + 1), int(0), int(v)],
                            &TestNode::options(None),
                        )
                        .unwrap();
                    if rows(r).rows[0][0] == T {
                        successes += 1;
                    }
                }
                successes
            })
        })
        .collect();
    let total: i32 = threads.into_iter().map(|h| h.join().unwrap()).sum();
    let final_value = cell(&t.live_rows("t", &b_int(0))[0], t.col("t", "v1")).value;
    assert_eq!(final_value, b_int(total));
}

#[test]
fn consistency_levels_of_writes() {
    use meridian_cql_protocol::Consistency;
    let mut t = TestNode::new();
    simple(&mut t);
    t.create_table(
        "l",
        &[Col("k", "int", false), Col("l", "list<int>", false)],
        &["k"],
        &[],
        &[],
    );
    let with = |consistency, serial| meridian_query::ExecOptions {
        consistency,
        serial_consistency: serial,
        ..TestNode::options(None)
    };
    let run = |cql: &str, values: Vec<Value>, o: &meridian_query::ExecOptions| {
        t.exec_with(cql, values, o).map_err(|e| e.to_string())
    };
    assert_eq!(
        run(
            "INSERT INTO t (k, v1) VALUES (?, ?)",
            vec![int(1), int(1)],
            &with(Consistency::Serial, None)
        ),
        Err("You must use conditional updates for serializable writes".to_string())
    );
    assert!(run(
        "INSERT INTO t (k, v1) VALUES (?, ?)",
        vec![int(1), int(1)],
        &with(Consistency::Any, None)
    )
    .is_ok());
    assert_eq!(
        run(
            "UPDATE l SET l[?] = ? WHERE k = ?",
            vec![int(0), int(1), int(1)],
            &with(Consistency::Any, None)
        ),
        Err(
            "Write operation require a read but consistency ANY is not supported on reads"
                .to_string()
        )
    );
    assert_eq!(
        run(
            "INSERT INTO t (k, v1) VALUES (?, ?) IF NOT EXISTS",
            vec![int(2), int(1)],
            &with(Consistency::One, Some(Consistency::Quorum))
        ),
        Err(
            "Invalid consistency for conditional update. Must be one of SERIAL or LOCAL_SERIAL"
                .to_string()
        )
    );
    assert!(run(
        "INSERT INTO t (k, v1) VALUES (?, ?) IF NOT EXISTS",
        vec![int(2), int(1)],
        &with(Consistency::Quorum, Some(Consistency::LocalSerial))
    )
    .is_ok());
    assert!(run(
        "INSERT INTO t (k, v1) VALUES (?, ?) IF NOT EXISTS",
        vec![int(3), int(1)],
        &with(Consistency::LocalSerial, None)
    )
    .unwrap_err()
    .starts_with("LOCAL_SERIAL is not supported as conditional update commit consistency."));
}

#[test]
fn not_applied_if_not_exists_reports_columns_in_select_order() {
    let mut t = TestNode::new();
    t.create_table(
        "w",
        &[
            Col("k", "int", false),
            Col("c", "int", false),
            Col("b", "list<int>", false),
            Col("a", "int", false),
            Col("s", "int", true),
        ],
        &["k"],
        &[("c", ClusteringOrder::Asc)],
        &[],
    );
    t.ok(
        "INSERT INTO w (k, c, a, b, s) VALUES (?, ?, ?, ?, ?)",
        vec![int(1), int(2), int(3), ints(&[4]), int(5)],
    );
    // Wildcard order: key, clustering, statics, then regular columns by name (collections
    // included). Static columns are only read when the statement writes some.
    let rs = rows(t.ok(
        "INSERT INTO w (k, c, a) VALUES (?, ?, ?) IF NOT EXISTS",
        vec![int(1), int(2), int(9)],
    ));
    assert_eq!(names(&rs), vec!["[applied]", "k", "c", "s", "a", "b"]);
    let list = CqlValue::List(vec![CqlValue::Int(4)]).to_bytes();
    assert_eq!(
        rs.rows,
        vec![vec![
            F,
            Some(b_int(1)),
            Some(b_int(2)),
            None,
            Some(b_int(3)),
            Some(list.clone())
        ]]
    );
    let rs = rows(t.ok(
        "INSERT INTO w (k, c, s) VALUES (?, ?, ?) IF NOT EXISTS",
        vec![int(1), int(2), int(9)],
    ));
    assert_eq!(
        rs.rows,
        vec![vec![
            F,
            Some(b_int(1)),
            Some(b_int(2)),
            Some(b_int(5)),
            Some(b_int(3)),
            Some(list)
        ]]
    );
}
