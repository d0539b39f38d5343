//! UPDATE: cells without row liveness, every assignment form (collections, list indexes with
//! read-before-write, UDT fields), IN lists, static columns, and the errors of the WHERE
//! clause and of the SET part.

mod modification_support;

use bytes::Bytes;
use meridian_cql_protocol::Value;
use meridian_types::model::{ClusteringOrder, DeletionTime};
use meridian_types::value::CqlValue;
use modification_support::*;

fn table(t: &mut TestNode) {
    t.create_table(
        "t",
        &[
            Col("k", "int", false),
            Col("c", "int", false),
            Col("v", "text", false),
            Col("l", "list<int>", false),
            Col("st", "set<int>", false),
            Col("m", "map<int, text>", false),
            Col("fm", "frozen<map<int, text>>", false),
            Col("s", "int", true),
            Col("sl", "list<int>", true),
        ],
        &["k"],
        &[("c", ClusteringOrder::Asc)],
        &[],
    );
}

fn row(t: &TestNode, k: i32) -> meridian_types::model::Row {
    let p = t.partition("t", &b_int(k)).expect("partition");
    assert_eq!(p.rows.len(), 1, "{p:?}");
    p.rows[0].clone()
}

#[test]
fn update_writes_cells_without_liveness() {
    let mut t = TestNode::new();
    table(&mut t);
    t.ok(
        "UPDATE t SET v = ? WHERE k = ? AND c = ?",
        vec![text("a"), int(1), int(2)],
    );
    let r = row(&t, 1);
    assert_eq!(r.liveness, None);
    assert_eq!(cell(&r, t.col("t", "v")).value, b_text("a"));
    t.ok(
        "UPDATE t USING TIMESTAMP ? SET v = ? WHERE k = ? AND c = ?",
        vec![bigint(5), Value::Null, int(1), int(2)],
    );
    let p = t.partition("t", &b_int(1)).unwrap();
    // The older tombstone loses against the existing cell.
    assert_eq!(cell(&p.rows[0], t.col("t", "v")).value, b_text("a"));
    t.ok(
        "UPDATE t USING TTL ? SET v = ? WHERE k = ? AND c = ?",
        vec![int(10), text("b"), int(1), int(3)],
    );
    let p = t.partition("t", &b_int(1)).unwrap();
    assert_eq!(cell(&p.rows[1], t.col("t", "v")).ttl_secs(), 10);
}

#[test]
fn in_restrictions_write_several_rows_and_empty_in_writes_nothing() {
    let mut t = TestNode::new();
    table(&mut t);
    t.ok(
        "UPDATE t SET v = ? WHERE k IN (?, ?) AND c IN (?, ?, ?)",
        vec![text("x"), int(1), int(2), int(3), int(1), int(3)],
    );
    for k in [1, 2] {
        let p = t.partition("t", &b_int(k)).unwrap();
        let cs: Vec<Bytes> = p.rows.iter().map(|r| r.clustering.0[0].clone()).collect();
        assert_eq!(cs, vec![b_int(1), b_int(3)]);
    }
    t.ok(
        "UPDATE t SET v = ? WHERE k IN ? AND c = ?",
        vec![text("y"), ints(&[7, 8]), int(1)],
    );
    assert!(t.partition("t", &b_int(7)).is_some());
    assert!(t.partition("t", &b_int(8)).is_some());
    t.ok(
        "UPDATE t SET v = ? WHERE k IN () AND c = ?",
        vec![text("z"), int(1)],
    );
    t.ok(
        "UPDATE t SET v = ? WHERE k = ? AND c IN ()",
        vec![text("z"), int(9)],
    );
    assert!(t.partition("t", &b_int(9)).is_none());
    // Multi-column equality and IN on the clustering columns.
    t.ok(
        "UPDATE t SET v = ? WHERE k = ? AND (c) = (?)",
        vec![text("m"), int(10), int(4)],
    );
    t.ok(
        "UPDATE t SET v = ? WHERE k = ? AND (c) IN ((?), (?))",
        vec![text("m"), int(10), int(5), int(6)],
    );
    assert_eq!(t.partition("t", &b_int(10)).unwrap().rows.len(), 3);
    let tuple = |i: i32| CqlValue::Tuple(vec![Some(CqlValue::Int(i))]);
    t.ok(
        "UPDATE t SET v = ? WHERE k = ? AND (c) IN ?",
        vec![
            text("n"),
            int(11),
            v(CqlValue::List(vec![tuple(8), tuple(7)])),
        ],
    );
    t.ok(
        "UPDATE t SET v = ? WHERE k = ? AND (c) = ?",
        vec![text("n"), int(11), v(tuple(9))],
    );
    let cs: Vec<Bytes> = t
        .partition("t", &b_int(11))
        .unwrap()
        .rows
        .iter()
        .map(|r| r.clustering.0[0].clone())
        .collect();
    assert_eq!(cs, vec![b_int(7), b_int(8), b_int(9)]);
}

#[test]
fn list_operations() {
    let mut t = TestNode::new();
    table(&mut t);
    let l = t.col("t", "l");
    let q = |cql: &str, values: Vec<Value>| {
        let mut all = values;
        all.extend([int(1), int(1)]);
        t.ok(cql, all);
    };
    q(
        "UPDATE t SET l = ? WHERE k = ? AND c = ?",
        vec![ints(&[1, 2])],
    );
    q(
        "UPDATE t SET l = l + ? WHERE k = ? AND c = ?",
        vec![ints(&[3, 4])],
    );
    q(
        "UPDATE t SET l = ? + l WHERE k = ? AND c = ?",
        vec![ints(&[-1, 0])],
    );
    q(
        "UPDATE t SET l = ? + l WHERE k = ? AND c = ?",
        vec![ints(&[-2])],
    );
    assert_eq!(
        list_values(&row(&t, 1), l),
        [-2, -1, 0, 1, 2, 3, 4].map(b_int).to_vec()
    );
    // By index (read-before-write): set and delete.
    q(
        "UPDATE t SET l[?] = ? WHERE k = ? AND c = ?",
        vec![int(1), int(100)],
    );
    q("DELETE l[?] FROM t WHERE k = ? AND c = ?", vec![int(0)]);
    assert_eq!(
        list_values(&row(&t, 1), l),
        [100, 0, 1, 2, 3, 4].map(b_int).to_vec()
    );
    // Removal by value.
    q(
        "UPDATE t SET l = l - ? WHERE k = ? AND c = ?",
        vec![ints(&[0, 3, 42])],
    );
    assert_eq!(
        list_values(&row(&t, 1), l),
        [100, 1, 2, 4].map(b_int).to_vec()
    );
    // Setting an element to null deletes it.
    q(
        "UPDATE t SET l[?] = ? WHERE k = ? AND c = ?",
        vec![int(0), Value::Null],
    );
    assert_eq!(list_values(&row(&t, 1), l), [1, 2, 4].map(b_int).to_vec());

    assert_eq!(
        t.err(
            "UPDATE t SET l[?] = ? WHERE k = ? AND c = ?",
            vec![int(5), int(1), int(1), int(1)]
        ),
        "List index 5 out of bound, list has size 3"
    );
    assert_eq!(
        t.err(
            "UPDATE t SET l[?] = ? WHERE k = ? AND c = ?",
            vec![int(0), int(1), int(2), int(2)]
        ),
        "Attempted to set an element on a list which is null"
    );
    assert_eq!(
        t.err(
            "DELETE l[?] FROM t WHERE k = ? AND c = ?",
            vec![int(0), int(2), int(2)]
        ),
        "Attempted to delete an element from a list which is null"
    );
    assert_eq!(
        t.err(
            "UPDATE t SET l[?] = ? WHERE k = ? AND c = ?",
            vec![Value::Null, int(1), int(1), int(1)]
        ),
        "Invalid null value for list index"
    );
}

#[test]
fn set_and_map_operations() {
    let mut t = TestNode::new();
    table(&mut t);
    let (st, m) = (t.col("t", "st"), t.col("t", "m"));
    t.ok(
        "UPDATE t SET st = st + ?, m = m + ? WHERE k = ? AND c = ?",
        vec![
            int_set(&[1, 2, 3]),
            int_text_map(&[(1, "a"), (2, "b")]),
            int(1),
            int(1),
        ],
    );
    t.ok(
        "UPDATE t SET st = st - ?, m = m - ? WHERE k = ? AND c = ?",
        vec![int_set(&[2]), int_set(&[1]), int(1), int(1)],
    );
    t.ok(
        "UPDATE t SET m[?] = ? WHERE k = ? AND c = ?",
        vec![int(3), text("c"), int(1), int(1)],
    );
    t.ok(
        "UPDATE t SET m[?] = ? WHERE k = ? AND c = ?",
        vec![int(2), Value::Null, int(1), int(1)],
    );
    let r = row(&t, 1);
    let live = |c: &meridian_types::model::ComplexColumn| -> Vec<(Bytes, Bytes)> {
        c.cells
            .iter()
            .filter(|(_, c)| !c.is_tombstone())
            .map(|(p, c)| (p.clone(), c.value.clone()))
            .collect()
    };
    assert_eq!(
        live(&complex(&r, st)),
        vec![(b_int(1), Bytes::new()), (b_int(3), Bytes::new())]
    );
    assert_eq!(live(&complex(&r, m)), vec![(b_int(3), b_text("c"))]);
    let tomb = complex(&r, m);
    let t1 = tomb.cells.iter().find(|(p, _)| *p == b_int(1)).unwrap();
    assert!(is_tombstone_at(&t1.1, 1001));
    // No overwrite tombstone for additions.
    assert_eq!(tomb.deletion, DeletionTime::LIVE);

    assert_eq!(
        t.err(
            "UPDATE t SET m[?] = ? WHERE k = ? AND c = ?",
            vec![Value::Null, text("a"), int(1), int(1)]
        ),
        "Invalid null map key"
    );
    assert_eq!(
        t.err(
            "UPDATE t SET fm[?] = ? WHERE k = ? AND c = ?",
            vec![int(1), text("a"), int(1), int(1)]
        ),
        "Invalid operation (fm[?] = ?) for frozen collection column fm"
    );
    assert_eq!(
        t.err(
            "UPDATE t SET st[?] = ? WHERE k = ? AND c = ?",
            vec![int(1), int(1), int(1), int(1)]
        ),
        "Invalid operation (st[?] = ?) for set column st"
    );
    assert_eq!(
        t.err(
            "UPDATE t SET v[?] = ? WHERE k = ? AND c = ?",
            vec![int(1), text("a"), int(1), int(1)]
        ),
        "Invalid operation (v[?] = ?) for non collection column v"
    );
    assert_eq!(
        t.err(
            "UPDATE t SET v = v + ? WHERE k = ? AND c = ?",
            vec![text("a"), int(1), int(1)]
        ),
        "Invalid operation (v = v + ?) for non counter column v"
    );
    assert_eq!(
        t.err(
            "UPDATE t SET fm = fm + ? WHERE k = ? AND c = ?",
            vec![int_text_map(&[]), int(1), int(1)]
        ),
        "Invalid operation (fm = fm + ?) for frozen collection column fm"
    );
    assert_eq!(
        t.err(
            "UPDATE t SET st = ? + st WHERE k = ? AND c = ?",
            vec![int_set(&[1]), int(1), int(1)]
        ),
        "Invalid operation (st = ? - st) for non list column st"
    );
}

#[test]
fn udt_field_assignment() {
    let mut t = TestNode::new();
    t.create_type("pt", &[("x", "int"), ("y", "int")]);
    t.create_table(
        "u",
        &[
            Col("k", "int", false),
            Col("p", "pt", false),
            Col("fp", "frozen<pt>", false),
        ],
        &["k"],
        &[],
        &[],
    );
    t.ok("UPDATE u SET p.y = ? WHERE k = ?", vec![int(5), int(1)]);
    t.ok(
        "UPDATE u SET p.x = ? WHERE k = ?",
        vec![Value::Null, int(1)],
    );
    let r = t.partition("u", &b_int(1)).unwrap().rows[0].clone();
    let p = complex(&r, t.col("u", "p"));
    assert_eq!(p.cells[0].0, Bytes::from_static(&[0, 0]));
    assert!(p.cells[0].1.is_tombstone());
    assert_eq!(
        (p.cells[1].0.clone(), p.cells[1].1.value.clone()),
        (Bytes::from_static(&[0, 1]), b_int(5))
    );
    assert_eq!(
        t.err("UPDATE u SET p.z = ? WHERE k = ?", vec![int(1), int(1)]),
        "UDT column p does not have a field named z"
    );
    assert_eq!(
        t.err("UPDATE u SET fp.x = ? WHERE k = ?", vec![int(1), int(1)]),
        "Invalid operation (fp.x = ?) for frozen UDT column fp"
    );
    let whole = CqlValue::Udt(vec![
        ("x".into(), Some(CqlValue::Int(1))),
        ("y".into(), None),
    ]);
    t.ok("UPDATE u SET p = ? WHERE k = ?", vec![v(whole), int(2)]);
    let r = t.partition("u", &b_int(2)).unwrap().rows[0].clone();
    let p = complex(&r, t.col("u", "p"));
    assert_eq!(p.cells.len(), 1);
    assert_eq!(
        p.deletion,
        DeletionTime::new(p.cells[0].1.timestamp_micros - 1, NOW_SECS)
    );
}

#[test]
fn static_columns() {
    let mut t = TestNode::new();
    table(&mut t);
    t.ok("UPDATE t SET s = ? WHERE k = ?", vec![int(4), int(1)]);
    let p = t.partition("t", &b_int(1)).unwrap();
    assert!(p.rows.is_empty());
    assert_eq!(
        cell(p.static_row.as_ref().unwrap(), t.col("t", "s")).value,
        b_int(4)
    );
    // A static list set by index reads the static row.
    t.ok(
        "UPDATE t SET sl = ? WHERE k = ?",
        vec![ints(&[1, 2]), int(1)],
    );
    t.ok(
        "UPDATE t SET sl[?] = ? WHERE k = ?",
        vec![int(1), int(9), int(1)],
    );
    let p = t.partition("t", &b_int(1)).unwrap();
    assert_eq!(
        list_values(p.static_row.as_ref().unwrap(), t.col("t", "sl")),
        vec![b_int(1), b_int(9)]
    );
    // Static and regular together need the full primary key.
    t.ok(
        "UPDATE t SET s = ?, v = ? WHERE k = ? AND c = ?",
        vec![int(5), text("r"), int(2), int(3)],
    );
    let p = t.partition("t", &b_int(2)).unwrap();
    assert_eq!(p.rows.len(), 1);
    assert!(p.static_row.is_some());
    assert_eq!(
        t.err("UPDATE t SET s = ? WHERE k = ? AND c = ?", vec![int(1), int(1), int(1)]),
        "Invalid restrictions on clustering columns since the UPDATE statement modifies only static columns"
    );
    assert_eq!(
        t.err(
            "UPDATE t SET s = ?, v = ? WHERE k = ?",
            vec![int(1), text("a"), int(1)]
        ),
        "Some clustering keys are missing: c"
    );
}

#[test]
fn where_clause_errors() {
    let mut t = TestNode::new();
    table(&mut t);
    t.create_table(
        "t2",
        &[
            Col("a", "int", false),
            Col("b", "int", false),
            Col("c1", "int", false),
            Col("c2", "int", false),
            Col("v", "int", false),
        ],
        &["a", "b"],
        &[("c1", ClusteringOrder::Asc), ("c2", ClusteringOrder::Desc)],
        &[],
    );
    let e = |cql: &str, n: usize| t.err(cql, (0..n).map(|i| int(i as i32)).collect());
    assert_eq!(
        e("UPDATE t SET v = ? WHERE c = ?", 2),
        "Some partition key parts are missing: k"
    );
    assert_eq!(
        e("UPDATE t2 SET v = ? WHERE a = ? AND c1 = ? AND c2 = ?", 4),
        "Some partition key parts are missing: b"
    );
    assert_eq!(
        e("UPDATE t2 SET v = ? WHERE a = ? AND b = ?", 3),
        "Some clustering keys are missing: c1, c2"
    );
    assert_eq!(
        e("UPDATE t2 SET v = ? WHERE a = ? AND b = ? AND c2 = ?", 4),
        "Some clustering keys are missing: c1"
    );
    assert_eq!(
        e("UPDATE t SET k = ? WHERE k = ? AND c = ?", 3),
        "PRIMARY KEY part k found in SET part"
    );
    assert_eq!(
        e("UPDATE t SET nope = ? WHERE k = ? AND c = ?", 3),
        "Undefined column name nope in table ks.t"
    );
    assert_eq!(
        e("UPDATE t SET v = ? WHERE nope = ? AND c = ?", 3),
        "Undefined column name nope in table ks.t"
    );
    assert_eq!(
        e("UPDATE t SET v = ? WHERE k = ? AND c > ?", 3),
        "Slice restrictions are not supported on the clustering columns in UPDATE statements"
    );
    assert_eq!(
        e(
            "UPDATE t2 SET v = ? WHERE a = ? AND b = ? AND (c1, c2) > (?, ?)",
            5
        ),
        "Slice restrictions are not supported on the clustering columns in UPDATE statements"
    );
    assert!(e("UPDATE t SET v = ? WHERE k > ? AND c = ?", 3).starts_with(
        "Only EQ and IN relation are supported on the partition key (unless you use the token() function)"
    ));
    assert_eq!(
        e("UPDATE t SET v = ? WHERE k = ? AND c = ? AND v = ?", 4),
        "Non PRIMARY KEY columns found in where clause: v "
    );
    assert_eq!(
        e("UPDATE t SET v = ? WHERE token(k) = ? AND c = ?", 3),
        "The token function cannot be used in WHERE clauses for UPDATE statements"
    );
    assert_eq!(
        e("UPDATE t SET v = ? WHERE k = ? AND c = ? AND c = ?", 4),
        "c cannot be restricted by more than one relation if it includes an Equal"
    );
    assert_eq!(
        e(
            "UPDATE t SET v = ? WHERE k IN (?, ?) AND k = ? AND c = ?",
            5
        ),
        "k cannot be restricted by more than one relation if it includes a IN"
    );
    assert_eq!(
        e("UPDATE t SET v = ? WHERE k = ? AND c CONTAINS ?", 3),
        "Cannot use CONTAINS on non-collection column c"
    );
    assert_eq!(
        e(
            "UPDATE t2 SET v = ? WHERE a = ? AND b = ? AND (a, c1) = (?, ?)",
            5
        ),
        "Multi-column relations can only be applied to clustering columns but was applied to: a"
    );
    assert_eq!(
        e("UPDATE t SET v = ? WHERE k = ? AND c != ?", 3),
        "Unsupported \"!=\" relation: c != ?"
    );
}
