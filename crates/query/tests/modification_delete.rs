//! DELETE: partition, row and range tombstones (prefixes, slices, DESC columns, tuple
//! slices), column and element deletions, static columns, USING TIMESTAMP, IN lists, and
//! errors.

mod modification_support;

use bytes::Bytes;
use meridian_cql_protocol::Value;
use meridian_types::model::{Clustering, ClusteringOrder, Cut, DeletionTime, Slice};
use modification_support::*;

fn table(t: &mut TestNode, orders: [ClusteringOrder; 2]) {
    t.create_table(
        "t",
        &[
            Col("k", "int", false),
            Col("c1", "int", false),
            Col("c2", "int", false),
            Col("v", "int", false),
            Col("m", "map<int, int>", false),
            Col("st", "set<int>", false),
            Col("s", "int", true),
        ],
        &["k"],
        &[("c1", orders[0]), ("c2", orders[1])],
        &[],
    );
}

fn asc() -> [ClusteringOrder; 2] {
    [ClusteringOrder::Asc, ClusteringOrder::Asc]
}

fn dt(ts: i64) -> DeletionTime {
    DeletionTime::new(ts, NOW_SECS)
}

fn c(values: &[i32]) -> Clustering {
    Clustering(values.iter().map(|v| b_int(*v)).collect())
}

fn ranges(t: &TestNode, k: i32) -> Vec<(Slice, DeletionTime)> {
    t.partition("t", &b_int(k))
        .expect("partition")
        .range_tombstones
        .iter()
        .map(|r| (r.slice.clone(), r.deletion))
        .collect()
}

#[test]
fn partition_and_row_deletions() {
    let mut t = TestNode::new();
    table(&mut t, asc());
    t.ok("DELETE FROM t WHERE k = ?", vec![int(1)]);
    let p = t.partition("t", &b_int(1)).unwrap();
    assert_eq!(p.deletion, dt(1000));
    assert!(p.rows.is_empty() && p.range_tombstones.is_empty());

    t.ok(
        "DELETE FROM t USING TIMESTAMP ? WHERE k = ? AND c1 = ? AND c2 = ?",
        vec![bigint(55), int(2), int(1), int(2)],
    );
    let p = t.partition("t", &b_int(2)).unwrap();
    assert_eq!(p.rows.len(), 1);
    assert_eq!(p.rows[0].clustering, c(&[1, 2]));
    assert_eq!(p.rows[0].deletion, dt(55));

    // IN lists: several partitions, several rows.
    t.ok(
        "DELETE FROM t WHERE k IN (?, ?) AND c1 = ? AND c2 IN (?, ?)",
        vec![int(3), int(4), int(0), int(7), int(8)],
    );
    for k in [3, 4] {
        let p = t.partition("t", &b_int(k)).unwrap();
        let rows: Vec<Clustering> = p.rows.iter().map(|r| r.clustering.clone()).collect();
        assert_eq!(rows, vec![c(&[0, 7]), c(&[0, 8])]);
    }

    // A table without clustering columns: WHERE k deletes the partition.
    t.create_table(
        "p",
        &[Col("k", "int", false), Col("v", "int", false)],
        &["k"],
        &[],
        &[],
    );
    t.ok("DELETE FROM p WHERE k = ?", vec![int(1)]);
    assert!(!t.partition("p", &b_int(1)).unwrap().deletion.is_live());
}

#[test]
fn range_deletions_on_prefixes_and_slices() {
    let mut t = TestNode::new();
    table(&mut t, asc());
    t.ok("DELETE FROM t WHERE k = ? AND c1 = ?", vec![int(1), int(5)]);
    assert_eq!(ranges(&t, 1), vec![(Slice::prefix(c(&[5])), dt(1000))]);

    t.ok(
        "DELETE FROM t WHERE k = ? AND c1 = ? AND c2 > ? AND c2 <= ?",
        vec![int(2), int(1), int(3), int(6)],
    );
    assert_eq!(
        ranges(&t, 2),
        vec![(
            Slice {
                start: Cut::after(c(&[1, 3])),
                end: Cut::after(c(&[1, 6]))
            },
            dt(1001)
        )]
    );

    t.ok(
        "DELETE FROM t WHERE k = ? AND c1 >= ?",
        vec![int(3), int(4)],
    );
    assert_eq!(
        ranges(&t, 3),
        vec![(
            Slice {
                start: Cut::before(c(&[4])),
                end: Cut::TOP
            },
            dt(1002)
        )]
    );

    // IN on the prefix: one range per value.
    t.ok(
        "DELETE FROM t WHERE k = ? AND c1 IN (?, ?) AND c2 < ?",
        vec![int(4), int(2), int(1), int(0)],
    );
    assert_eq!(
        ranges(&t, 4),
        vec![
            (
                Slice {
                    start: Cut::before(c(&[1])),
                    end: Cut::before(c(&[1, 0]))
                },
                dt(1003)
            ),
            (
                Slice {
                    start: Cut::before(c(&[2])),
                    end: Cut::before(c(&[2, 0]))
                },
                dt(1003)
            ),
        ]
    );

    // An empty slice deletes nothing.
    t.ok(
        "DELETE FROM t WHERE k = ? AND c1 > ? AND c1 < ?",
        vec![int(5), int(3), int(3)],
    );
    assert!(t.partition("t", &b_int(5)).is_none());
}

#[test]
fn range_deletions_follow_desc_order() {
    let mut t = TestNode::new();
    table(&mut t, [ClusteringOrder::Desc, ClusteringOrder::Asc]);
    for v in 0..6 {
        t.ok(
            "INSERT INTO t (k, c1, c2, v) VALUES (?, ?, ?, ?)",
            vec![int(1), int(v), int(0), int(v)],
        );
    }
    t.ok(
        "DELETE FROM t WHERE k = ? AND c1 > ? AND c1 <= ?",
        vec![int(1), int(1), int(3)],
    );
    // In DESC order the range starts at the upper bound.
    let rts = ranges(&t, 1);
    assert_eq!(rts.len(), 1);
    assert_eq!(
        rts[0].0,
        Slice {
            start: Cut::before(c(&[3])),
            end: Cut::before(c(&[1]))
        }
    );
    let live: Vec<Bytes> = t
        .live_rows("t", &b_int(1))
        .iter()
        .map(|r| r.clustering.0[0].clone())
        .collect();
    assert_eq!(live, [5, 4, 1, 0].map(b_int).to_vec());

    // Tuple slices compare in value order, whatever the column orders.
    t.ok(
        "DELETE FROM t WHERE k = ? AND (c1, c2) > (?, ?) AND (c1, c2) < (?, ?)",
        vec![int(1), int(4), int(-1), int(5), int(1)],
    );
    let live: Vec<Bytes> = t
        .live_rows("t", &b_int(1))
        .iter()
        .map(|r| r.clustering.0[0].clone())
        .collect();
    assert_eq!(live, [1, 0].map(b_int).to_vec());
}

#[test]
fn column_and_element_deletions() {
    let mut t = TestNode::new();
    table(&mut t, asc());
    t.ok(
        "INSERT INTO t (k, c1, c2, v, m, st) VALUES (?, ?, ?, ?, ?, ?)",
        vec![
            int(1),
            int(1),
            int(1),
            int(1),
            v(meridian_types::value::CqlValue::Map(vec![(
                meridian_types::value::CqlValue::Int(1),
                meridian_types::value::CqlValue::Int(10),
            )])),
            int_set(&[1, 2]),
        ],
    );
    t.ok(
        "DELETE v, m FROM t WHERE k = ? AND c1 = ? AND c2 = ?",
        vec![int(1), int(1), int(1)],
    );
    let p = t.partition("t", &b_int(1)).unwrap();
    let row = &p.rows[0];
    assert!(row.deletion.is_live());
    assert!(is_tombstone_at(&cell(row, t.col("t", "v")), 1001));
    let m = complex(row, t.col("t", "m"));
    assert_eq!(m.deletion, dt(1001));
    assert!(m.cells.is_empty());

    t.ok(
        "DELETE st[?], m[?] FROM t WHERE k = ? AND c1 = ? AND c2 = ?",
        vec![int(2), int(5), int(1), int(1), int(1)],
    );
    let p = t.partition("t", &b_int(1)).unwrap();
    let st = complex(&p.rows[0], t.col("t", "st"));
    let live: Vec<Bytes> = st
        .cells
        .iter()
        .filter(|(_, c)| !c.is_tombstone())
        .map(|(p, _)| p.clone())
        .collect();
    assert_eq!(live, vec![b_int(1)]);
    let m = complex(&p.rows[0], t.col("t", "m"));
    assert!(m
        .cells
        .iter()
        .any(|(p, c)| *p == b_int(5) && is_tombstone_at(c, 1002)));

    assert_eq!(
        t.err(
            "DELETE m[?] FROM t WHERE k = ? AND c1 = ? AND c2 = ?",
            vec![Value::Null, int(1), int(1), int(1)]
        ),
        "Invalid null map key"
    );
    assert_eq!(
        t.err(
            "DELETE st[?] FROM t WHERE k = ? AND c1 = ? AND c2 = ?",
            vec![Value::Null, int(1), int(1), int(1)]
        ),
        "Invalid null set element"
    );
    assert_eq!(
        t.err(
            "DELETE v[?] FROM t WHERE k = ? AND c1 = ? AND c2 = ?",
            vec![int(1), int(1), int(1), int(1)]
        ),
        "Invalid deletion operation for non collection column v"
    );
}

#[test]
fn static_column_deletion_needs_only_the_partition_key() {
    let mut t = TestNode::new();
    table(&mut t, asc());
    t.ok("DELETE s FROM t WHERE k = ?", vec![int(1)]);
    let p = t.partition("t", &b_int(1)).unwrap();
    assert!(p.rows.is_empty());
    assert!(is_tombstone_at(
        &cell(p.static_row.as_ref().unwrap(), t.col("t", "s")),
        1000
    ));
    assert_eq!(
        t.err("DELETE s FROM t WHERE k = ? AND c1 = ? AND c2 = ?", vec![int(1), int(1), int(1)]),
        "Invalid restrictions on clustering columns since the DELETE statement modifies only static columns"
    );
}

#[test]
fn delete_errors() {
    let mut t = TestNode::new();
    table(&mut t, asc());
    let e = |cql: &str, n: usize| t.err(cql, (0..n).map(|i| int(i as i32)).collect());
    assert_eq!(
        e("DELETE v FROM t WHERE k = ? AND c1 = ?", 2),
        "Range deletions are not supported for specific columns"
    );
    assert_eq!(
        e("DELETE v FROM t WHERE k = ?", 1),
        "Range deletions are not supported for specific columns"
    );
    assert_eq!(
        e("DELETE FROM t WHERE k = ? AND c2 = ?", 2),
        "PRIMARY KEY column \"c2\" cannot be restricted as preceding column \"c1\" is not restricted"
    );
    assert_eq!(
        e("DELETE FROM t WHERE k = ? AND c1 > ? AND c2 = ?", 3),
        "Clustering column \"c2\" cannot be restricted (preceding column \"c1\" is restricted by a non-EQ relation)"
    );
    assert_eq!(
        e("DELETE FROM t WHERE k = ? AND c1 > ? AND c1 > ?", 3),
        "More than one restriction was found for the start bound on c1"
    );
    assert_eq!(
        e("DELETE FROM t WHERE k = ? AND c1 > ? AND c1 = ?", 3),
        "Column \"c1\" cannot be restricted by both an equality and an inequality relation"
    );
    assert_eq!(
        e("DELETE c1 FROM t WHERE k = ?", 1),
        "Invalid identifier c1 for deletion (should not be a PRIMARY KEY part)"
    );
    assert_eq!(
        e("DELETE FROM t WHERE c1 = ?", 1),
        "Some partition key parts are missing: k"
    );
    assert_eq!(
        e("DELETE FROM t WHERE k = ? AND v = ?", 2),
        "Non PRIMARY KEY columns found in where clause: v "
    );
    assert_eq!(
        e("DELETE FROM t WHERE k = ? AND (c2, c1) = (?, ?)", 3),
        "Clustering columns must appear in the PRIMARY KEY order in multi-column relations: (c2, c1) = (?, ?)"
    );
    assert_eq!(
        e("DELETE FROM t WHERE k = ? AND (c1, c2) > (?)", 2),
        "Expected 2 elements in value tuple, but got 1: (?)"
    );
}
