//! WHERE clauses: Cassandra's validation messages, multi-column relations (with mixed
//! clustering orders, checked against brute force), token ranges, and filtering.

mod select_support;

use meridian_cql_protocol::Value;
use meridian_query::ExecOptions;
use meridian_types::value::CqlValue;
use select_support::*;

const NEEDS_FILTERING: &str = "Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING";

fn node() -> TestNode {
    let n = TestNode::new();
    n.ok("CREATE TABLE t (a int, b int, c int, d int, e int, s int static, v int, PRIMARY KEY (a, b, c, d))");
    n.ok("CREATE TABLE p (k1 int, k2 int, c int, v int, PRIMARY KEY ((k1, k2), c))");
    n.ok("CREATE TABLE coll (k int PRIMARY KEY, l list<int>, st set<int>, m map<int, int>, fl frozen<list<int>>)");
    n
}

#[test]
fn cassandra_messages() {
    let n = node();
    let cases: &[(&str, &str)] = &[
        ("SELECT * FROM t WHERE a = 0 AND b = 0 AND b > 0", "b cannot be restricted by more than one relation if it includes an Equal"),
        ("SELECT * FROM t WHERE a = 0 AND b > 0 AND b = 0", "Column \"b\" cannot be restricted by both an equality and an inequality relation"),
        ("SELECT * FROM t WHERE a = 0 AND b IN (1, 2) AND b = 0", "b cannot be restricted by more than one relation if it includes a IN"),
        ("SELECT * FROM t WHERE a = 0 AND b > 0 AND b > 1", "More than one restriction was found for the start bound on b"),
        ("SELECT * FROM t WHERE a = 0 AND b < 0 AND b <= 1", "More than one restriction was found for the end bound on b"),
        ("SELECT * FROM t WHERE a IN (1, 2) AND a = 0", "a cannot be restricted by more than one relation if it includes a IN"),
        ("SELECT * FROM t WHERE a = 0 AND c = 1", "PRIMARY KEY column \"c\" cannot be restricted as preceding column \"b\" is not restricted"),
        ("SELECT * FROM t WHERE a = 0 AND b > 0 AND c = 1", "Clustering column \"c\" cannot be restricted (preceding column \"b\" is restricted by a non-EQ relation)"),
        ("SELECT * FROM t WHERE a = 0 AND (c, d) > (0, 0) AND b > 0", "PRIMARY KEY column \"c\" cannot be restricted (preceding column \"b\" is restricted by a non-EQ relation)"),
        // Valid: an empty message means success.
        ("SELECT * FROM t WHERE a = 0", ""),
        ("SELECT * FROM t WHERE b = 0", NEEDS_FILTERING),
        ("SELECT * FROM t WHERE a > 0", NEEDS_FILTERING),
        ("SELECT * FROM t WHERE v = 0", NEEDS_FILTERING),
        ("SELECT * FROM t WHERE a = 0 AND v = 0", NEEDS_FILTERING),
        ("SELECT * FROM t WHERE s = 0", NEEDS_FILTERING),
        ("SELECT * FROM p WHERE k1 = 0", NEEDS_FILTERING),
        ("SELECT * FROM t WHERE a = 0 AND v != 0", "Unsupported \"!=\" relation: v != 0"),
        ("SELECT * FROM t WHERE a = 0 AND v IS NOT NULL", "Unsupported restriction: v IS NOT NULL"),
        ("SELECT * FROM t WHERE a = 0 AND v LIKE 'x%'", "LIKE restriction is only supported on properly indexed columns. v LIKE 'x%' is not valid."),
        ("SELECT * FROM t WHERE x = 0", "Undefined column name x in table ks.t"),
        ("SELECT * FROM t WHERE (a, b) = (0, 0)", "Multi-column relations can only be applied to clustering columns but was applied to: a"),
        ("SELECT * FROM t WHERE a = 0 AND (d, c) = (0, 0)", "Clustering columns must appear in the PRIMARY KEY order in multi-column relations: (d, c) = (0, 0)"),
        ("SELECT * FROM t WHERE a = 0 AND (b, c) > (1, 2, 3)", "Expected 2 elements in value tuple, but got 3: (1, 2, 3)"),
        ("SELECT * FROM t WHERE a = 0 AND (b, b) = (1, 2)", "Column \"b\" appeared twice in a relation: (b, b) = (1, 2)"),
        ("SELECT * FROM t WHERE a = 0 AND (c, d) = (0, 0)", "PRIMARY KEY column \"c\" cannot be restricted as preceding column \"b\" is not restricted"),
        ("SELECT * FROM t WHERE a = 0 AND (b, c, d) > (0, 1, 0) AND c < 1", "Column \"c\" cannot be restricted by two inequalities not starting with the same column"),
        ("SELECT * FROM t WHERE a = 0 AND (b) > (0) AND b > 1", "More than one restriction was found for the start bound on b"),
        ("SELECT * FROM t WHERE a = 0 AND (b) = (0) AND (b) > (1)", "b cannot be restricted by more than one relation if it includes an Equal"),
        ("SELECT * FROM t WHERE a = 0 AND (b) != (0)", "Unsupported \"!=\" relation: (b) != (0)"),
        ("SELECT * FROM t WHERE token(b) > 0", "The token() function must be applied to all partition key components or none of them"),
        ("SELECT * FROM p WHERE token(k2, k1) > 0", "The token function arguments must be in the partition key order: k1, k2"),
        ("SELECT * FROM p WHERE token(k1, k2, k1) > 0", "The token() function contains duplicate partition key components"),
        ("SELECT * FROM p WHERE token(k1, k2, c) > 0", "The token() function must contains only partition key components"),
        ("SELECT * FROM t WHERE token(a) > 0 AND token(a) > 1", "More than one restriction was found for the start bound on a"),
        ("SELECT * FROM t WHERE token(a) = 0 AND token(a) > 1", "a cannot be restricted by more than one relation if it includes an Equal"),
        ("SELECT * FROM coll WHERE k = 0 AND l = [1]", "Collection column 'l' (list<int>) cannot be restricted by a '=' relation"),
        ("SELECT * FROM coll WHERE k = 0 AND st > {1}", "Collection column 'st' (set<int>) cannot be restricted by a '>' relation"),
        ("SELECT * FROM coll WHERE k = 0 AND st IN ({1}, {2})", "Collection column 'st' (set<int>) cannot be restricted by a 'IN' relation"),
        ("SELECT * FROM coll WHERE k = 0 AND l CONTAINS KEY 1", "Cannot use CONTAINS KEY on non-map column l"),
        ("SELECT * FROM t WHERE a = 0 AND v CONTAINS 1", "Cannot use CONTAINS on non-collection column v"),
        ("SELECT * FROM coll WHERE k = 0 AND l[0] = 1", "Indexes on list entries (l[index] = value) are not currently supported."),
        ("SELECT * FROM coll WHERE k = 0 AND m[0] > 1", "Only EQ relations are supported on map entries"),
        ("SELECT * FROM coll WHERE k = 0 AND m CONTAINS 1", NEEDS_FILTERING),
        ("SELECT * FROM t WHERE a = 0 ORDER BY v", "Order by is currently only supported on the clustered columns of the PRIMARY KEY, got v"),
        ("SELECT * FROM t WHERE a = 0 ORDER BY c", "Order by currently only supports the ordering of columns following their declared order in the PRIMARY KEY"),
        ("SELECT * FROM t WHERE a = 0 ORDER BY b ASC, c DESC", "Unsupported order by relation"),
        ("SELECT * FROM t ORDER BY b", "ORDER BY is only supported when the partition key is restricted by an EQ or an IN."),
        ("SELECT * FROM t WHERE a = 0 GROUP BY c", "Group by currently only support groups of columns following their declared order in the PRIMARY KEY"),
        ("SELECT * FROM t WHERE a = 0 GROUP BY v", "Group by is currently only supported on the columns of the PRIMARY KEY, got v"),
        ("SELECT * FROM p GROUP BY k1", "Group by is not supported on only a part of the partition key"),
        ("SELECT count(*) FROM t PER PARTITION LIMIT 1", "PER PARTITION LIMIT is not allowed with aggregate queries."),
        ("SELECT DISTINCT a FROM t PER PARTITION LIMIT 1", "PER PARTITION LIMIT is not allowed with SELECT DISTINCT queries"),
        ("SELECT DISTINCT k1 FROM p", "SELECT DISTINCT queries must request all the partition key columns (missing k2)"),
        ("SELECT DISTINCT a FROM t WHERE a = 0 AND b = 0", "SELECT DISTINCT with WHERE clause only supports restriction by partition key and/or static columns."),
        ("SELECT * FROM t WHERE expr(idx, 'x')", "Invalid index expression, index idx not found for ks.t"),
    ];
    for (cql, message) in cases {
        if message.is_empty() {
            n.ok(cql);
        } else {
            assert_eq!(&n.err(cql), message, "{cql}");
        }
    }
}

#[test]
fn null_and_unset_values() {
    let n = node();
    let opts = ExecOptions::new();
    let err = |cql: &str, values: &[Value]| -> String {
        match n.run_with(cql, values, &opts) {
            Err(e) => e.to_string(),
            Ok(r) => panic!("{cql} should fail: {r:?}"),
        }
    };
    assert_eq!(
        err("SELECT * FROM t WHERE a = ?", &[Value::Unset]),
        "Invalid unset value for column a"
    );
    assert_eq!(
        err("SELECT * FROM t WHERE a IN ?", &[Value::Unset]),
        "Invalid unset value for column a"
    );
    assert_eq!(
        err(
            "SELECT * FROM t WHERE a IN (?, ?)",
            &[bind_int(1), Value::Unset]
        ),
        "Invalid unset value for column a"
    );
    assert_eq!(
        err("SELECT * FROM t WHERE a = ?", &[Value::Null]),
        "Invalid null value in condition for column a"
    );
    assert_eq!(
        err("SELECT * FROM t WHERE a = 0 AND b IN ?", &[Value::Null]),
        "Invalid null value for column b"
    );
    assert_eq!(
        err("SELECT * FROM t WHERE a = 0 AND b > ?", &[Value::Unset]),
        "Invalid unset value for column b"
    );
    assert_eq!(
        err(
            "SELECT * FROM t WHERE a = 0 AND (b, c) > (?, ?)",
            &[bind_int(1), Value::Null]
        ),
        "Invalid null value in condition for column c"
    );
    assert_eq!(
        err(
            "SELECT * FROM t WHERE a = 0 AND (b, c, d) = (?, ?, ?)",
            &[bind_int(1), bind_int(2), Value::Null]
        ),
        "Invalid null value for column d"
    );
    assert_eq!(
        err(
            "SELECT * FROM t WHERE a = 0 AND (b, c, d) IN ((?, ?, ?), (?, ?, ?))",
            &[
                bind_int(1),
                bind_int(2),
                Value::Null,
                bind_int(2),
                bind_int(1),
                bind_int(4)
            ]
        ),
        "Invalid null value in condition for columns: [b, c, d]"
    );
    assert_eq!(
        err(
            "SELECT * FROM t WHERE a = 0 AND (b, c) = (?, ?)",
            &[Value::Unset, bind_int(1)]
        ),
        "Invalid unset value for tuple field number 0"
    );
    assert_eq!(
        err(
            "SELECT * FROM t WHERE a = 0 AND (b, c) = ?",
            &[Value::Unset]
        ),
        "Invalid unset value for tuple (b,c)"
    );
    assert_eq!(
        err(
            "SELECT * FROM t WHERE v = ? ALLOW FILTERING",
            &[Value::Null]
        ),
        "Unsupported null value for column v"
    );
    assert_eq!(
        err(
            "SELECT * FROM t WHERE v > ? ALLOW FILTERING",
            &[Value::Unset]
        ),
        "Unsupported unset value for column v"
    );
    assert_eq!(
        err(
            "SELECT * FROM coll WHERE m[?] = 1 ALLOW FILTERING",
            &[Value::Null]
        ),
        "Unsupported null map key for column m"
    );
    assert_eq!(
        err(
            "SELECT * FROM coll WHERE m[1] = ? ALLOW FILTERING",
            &[Value::Unset]
        ),
        "Unsupported unset map value for column m"
    );
    assert_eq!(
        err("SELECT * FROM t WHERE token(a) > ?", &[Value::Null]),
        "Invalid null token value"
    );
    assert_eq!(
        err("SELECT * FROM t LIMIT ?", &[Value::Null]),
        "Invalid null value of limit"
    );
    // An unset LIMIT means no limit.
    n.rows_with("SELECT * FROM t LIMIT ?", &[Value::Unset], &opts);
}

/// `t` with b, c, d in 0..4 in partition 0: 64 rows.
fn cube(n: &TestNode, table: &str) {
    let mut rows = Vec::new();
    for b in 0..4 {
        for c in 0..4 {
            for d in 0..4 {
                rows.push((
                    vec![CqlValue::Int(0)],
                    vec![CqlValue::Int(b), CqlValue::Int(c), CqlValue::Int(d)],
                    vec![("v", CqlValue::Int(b * 100 + c * 10 + d))],
                ));
            }
        }
    }
    write_rows(n, table, rows);
}

/// A predicate on the (b, c, d) of a row.
type Predicate = Box<dyn Fn(&[i32]) -> bool>;

fn tuple_cmp(row: &[i32], bound: &[i32]) -> std::cmp::Ordering {
    row.iter()
        .zip(bound)
        .map(|(a, b)| a.cmp(b))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

#[test]
fn multi_column_slices_with_mixed_orders_match_brute_force() {
    let n = TestNode::new();
    let orders = [
        "b ASC, c ASC, d ASC",
        "b DESC, c ASC, d DESC",
        "b ASC, c DESC, d ASC",
        "b DESC, c DESC, d DESC",
    ];
    let relations: &[(&str, Predicate)] = &[
        (
            "(b, c) > (1, 2)",
            Box::new(|r| tuple_cmp(&r[..2], &[1, 2]).is_gt()),
        ),
        (
            "(b, c, d) >= (1, 2, 3)",
            Box::new(|r| tuple_cmp(r, &[1, 2, 3]).is_ge()),
        ),
        (
            "(b, c, d) < (2, 1, 1)",
            Box::new(|r| tuple_cmp(r, &[2, 1, 1]).is_lt()),
        ),
        (
            "(b, c) > (0, 3) AND (b, c) <= (2, 1)",
            Box::new(|r| {
                tuple_cmp(&r[..2], &[0, 3]).is_gt() && tuple_cmp(&r[..2], &[2, 1]).is_le()
            }),
        ),
        (
            "(b, c) > (1, 1) AND b < 3",
            Box::new(|r| tuple_cmp(&r[..2], &[1, 1]).is_gt() && r[0] < 3),
        ),
        (
            "b = 2 AND (c, d) <= (1, 2)",
            Box::new(|r| r[0] == 2 && tuple_cmp(&r[1..], &[1, 2]).is_le()),
        ),
        (
            "b IN (3, 1) AND c > 1 AND c <= 2",
            Box::new(|r| (r[0] == 1 || r[0] == 3) && r[1] > 1 && r[1] <= 2),
        ),
        (
            "(b, c) IN ((3, 0), (1, 2), (1, 2)) AND d > 1",
            Box::new(|r| [(3, 0), (1, 2)].contains(&(r[0], r[1])) && r[2] > 1),
        ),
        ("(b, c, d) = (2, 2, 2)", Box::new(|r| r == [2, 2, 2])),
    ];
    for (i, order) in orders.iter().enumerate() {
        let table = format!("m{i}");
        n.ok(&format!(
            "CREATE TABLE {table} (a int, b int, c int, d int, v int, PRIMARY KEY (a, b, c, d)) WITH CLUSTERING ORDER BY ({order})"
        ));
        cube(&n, &table);
        let all: Vec<Vec<i32>> = ints(
            &n.rows(&format!("SELECT b, c, d FROM {table} WHERE a = 0"))
                .rows,
        )
        .into_iter()
        .map(|r| r.into_iter().map(|x| x.expect("non-null")).collect())
        .collect();
        assert_eq!(all.len(), 64);
        for (relation, pred) in relations {
            let expected: Vec<Vec<i32>> = all.iter().filter(|r| pred(r)).cloned().collect();
            for reversed in [false, true] {
                let order_by = if reversed { " ORDER BY b DESC" } else { "" };
                // ORDER BY b DESC reverses the table's order only when b is ASC.
                let cql = format!(
                    "SELECT b, c, d FROM {table} WHERE a = 0 AND {relation}{}",
                    if reversed {
                        order_by_for(order)
                    } else {
                        order_by.into()
                    }
                );
                let got: Vec<Vec<i32>> = ints(&n.rows(&cql).rows)
                    .into_iter()
                    .map(|r| r.into_iter().map(|x| x.expect("non-null")).collect())
                    .collect();
                let mut want = expected.clone();
                if reversed {
                    want.reverse();
                }
                assert_eq!(got, want, "{cql}");
                // Paged with tiny pages gives the same rows.
                let paged: Vec<Vec<i32>> = ints(&n.page_all(&cql, &[], 3))
                    .into_iter()
                    .map(|r| r.into_iter().map(|x| x.expect("non-null")).collect())
                    .collect();
                assert_eq!(paged, want, "{cql} paged");
            }
        }
    }
}

#[test]
fn clustering_filtering_skips_what_slices_handle() {
    let n = node();
    cube(&n, "t");
    let rows = |cql: &str| -> Vec<Vec<i32>> {
        ints(&n.rows(cql).rows)
            .into_iter()
            .map(|r| r.into_iter().map(|x| x.expect("non-null")).collect())
            .collect()
    };
    let all = rows("SELECT b, c, d FROM t WHERE a = 0");
    let want: Vec<Vec<i32>> = all
        .iter()
        .filter(|r| tuple_cmp(&r[..2], &[1, 2]).is_gt() && r[2] == 3)
        .cloned()
        .collect();
    assert_eq!(
        rows("SELECT b, c, d FROM t WHERE a = 0 AND (b, c) > (1, 2) AND d = 3 ALLOW FILTERING"),
        want
    );
    let want: Vec<Vec<i32>> = all
        .iter()
        .filter(|r| r[0] > 1 && r[1] == 2)
        .cloned()
        .collect();
    assert_eq!(
        rows("SELECT b, c, d FROM t WHERE a = 0 AND b > 1 AND c = 2 ALLOW FILTERING"),
        want
    );
    let want: Vec<Vec<i32>> = all
        .iter()
        .filter(|r| r[0] == 1 && r[2] < 2)
        .cloned()
        .collect();
    assert_eq!(
        rows("SELECT b, c, d FROM t WHERE a = 0 AND b = 1 AND d < 2 ALLOW FILTERING"),
        want
    );
    assert_eq!(
        n.err("SELECT * FROM t WHERE a = 0 AND (c, d) < (2, 2) AND v = 0 ALLOW FILTERING"),
        "Multi-column slice restrictions cannot be used for filtering."
    );
}

/// The `ORDER BY` that reverses a table with the given clustering order.
fn order_by_for(order: &str) -> String {
    let flipped: Vec<String> = order
        .split(", ")
        .map(|part| {
            let (col, dir) = part.split_once(' ').expect("column and direction");
            format!("{col} {}", if dir == "ASC" { "DESC" } else { "ASC" })
        })
        .collect();
    format!(" ORDER BY {}", flipped.join(", "))
}

#[test]
fn token_restrictions() {
    let n = TestNode::new();
    n.ok("CREATE TABLE tk (k int PRIMARY KEY, v int)");
    write_rows(
        &n,
        "tk",
        (0..50).map(|k| {
            (
                vec![CqlValue::Int(k)],
                vec![],
                vec![("v", CqlValue::Int(k))],
            )
        }),
    );
    let token = |k: i32| meridian_types::token::murmur3_token(&k.to_be_bytes()).0;
    let all: Vec<i32> = (0..50).collect();
    let keys = |cql: &str| -> Vec<i32> {
        ints(&n.rows(cql).rows)
            .into_iter()
            .map(|r| r[0].expect("k"))
            .collect()
    };
    let mut by_token = all.clone();
    by_token.sort_by_key(|k| token(*k));
    assert_eq!(keys("SELECT k FROM tk"), by_token);
    let pivot = token(by_token[20]);
    let upper = token(by_token[40]);
    assert_eq!(
        keys(&format!("SELECT k FROM tk WHERE token(k) > {pivot}")),
        by_token[21..]
    );
    assert_eq!(
        keys(&format!("SELECT k FROM tk WHERE token(k) >= {pivot}")),
        by_token[20..]
    );
    assert_eq!(
        keys(&format!(
            "SELECT k FROM tk WHERE token(k) > {pivot} AND token(k) <= {upper}"
        )),
        by_token[21..=40]
    );
    assert_eq!(
        keys(&format!("SELECT k FROM tk WHERE token(k) = {pivot}")),
        by_token[20..=20]
    );
    // An inverted or empty range returns nothing (no wrap-around).
    assert!(keys(&format!(
        "SELECT k FROM tk WHERE token(k) > {upper} AND token(k) < {pivot}"
    ))
    .is_empty());
    assert!(keys(&format!(
        "SELECT k FROM tk WHERE token(k) > {pivot} AND token(k) < {pivot}"
    ))
    .is_empty());
    // token() with complete key restrictions filters the keys.
    let k = by_token[30];
    assert_eq!(
        keys(&format!(
            "SELECT k FROM tk WHERE k = {k} AND token(k) > {pivot}"
        )),
        vec![k]
    );
    assert!(keys(&format!(
        "SELECT k FROM tk WHERE k = {k} AND token(k) < {pivot}"
    ))
    .is_empty());
    // token(k) in the selection.
    let rs = n.rows(&format!("SELECT token(k), k FROM tk WHERE k = {k}"));
    assert_eq!(names(&rs), ["system.token(k)", "k"]);
    assert_eq!(decode(&rs), vec![vec![bigint(token(k)), int(k)]]);
}

#[test]
fn filtering() {
    let n = node();
    n.ok("INSERT INTO t (a, b, c, d, v, s) VALUES (1, 1, 1, 1, 10, 100)");
    n.ok("INSERT INTO t (a, b, c, d, v) VALUES (1, 1, 2, 1, 20)");
    n.ok("INSERT INTO t (a, b, c, d, v) VALUES (2, 1, 1, 1, 30)");
    n.ok("INSERT INTO t (a, s) VALUES (3, 300)");
    n.ok("INSERT INTO t (a, b, c, d, s) VALUES (4, 0, 0, 0, 400)");
    let sorted = |mut v: Vec<Vec<Option<CqlValue>>>| {
        v.sort_by_key(|r| format!("{r:?}"));
        v
    };
    assert_eq!(
        sorted(n.values("SELECT a, v FROM t WHERE v >= 20 ALLOW FILTERING")),
        vec![vec![int(1), int(20)], vec![int(2), int(30)]]
    );
    assert_eq!(
        n.values("SELECT a, v FROM t WHERE v IN (10, 30, 99) AND a = 1 ALLOW FILTERING"),
        vec![vec![int(1), int(10)]]
    );
    assert_eq!(
        sorted(n.values("SELECT a, c FROM t WHERE c = 1 ALLOW FILTERING")),
        vec![vec![int(1), int(1)], vec![int(2), int(1)]]
    );
    assert_eq!(
        n.values("SELECT a, c FROM t WHERE a = 1 AND c > 1 ALLOW FILTERING"),
        vec![vec![int(1), int(2)]]
    );
    // Static filters keep whole partitions, static-only ones included.
    assert_eq!(
        sorted(n.values("SELECT a, s FROM t WHERE s >= 300 ALLOW FILTERING")),
        vec![vec![int(3), int(300)], vec![int(4), int(400)]]
    );
    // A regular column restriction excludes static-only rows.
    assert!(n
        .values("SELECT a FROM t WHERE a = 3 AND v = 1 ALLOW FILTERING")
        .is_empty());
    // Partial partition key and partition key slices.
    n.ok("INSERT INTO p (k1, k2, c, v) VALUES (1, 1, 1, 1)");
    n.ok("INSERT INTO p (k1, k2, c, v) VALUES (1, 2, 1, 2)");
    n.ok("INSERT INTO p (k1, k2, c, v) VALUES (2, 1, 1, 3)");
    assert_eq!(
        sorted(n.values("SELECT v FROM p WHERE k1 = 1 ALLOW FILTERING")),
        vec![vec![int(1)], vec![int(2)]]
    );
    assert_eq!(
        n.values("SELECT v FROM p WHERE k1 > 1 ALLOW FILTERING"),
        vec![vec![int(3)]]
    );
    // Collections.
    n.ok("INSERT INTO coll (k, l, st, m, fl) VALUES (1, [1, 2], {3, 4}, {5: 6}, [7, 8])");
    n.ok("INSERT INTO coll (k, l, st, m, fl) VALUES (2, [2, 3], {4}, {6: 5}, [9])");
    let keys = |cql: &str| -> Vec<i32> {
        let mut v: Vec<i32> = ints(&n.rows(cql).rows)
            .into_iter()
            .map(|r| r[0].expect("k"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        keys("SELECT k FROM coll WHERE l CONTAINS 2 ALLOW FILTERING"),
        [1, 2]
    );
    assert_eq!(
        keys("SELECT k FROM coll WHERE st CONTAINS 3 ALLOW FILTERING"),
        [1]
    );
    assert_eq!(
        keys("SELECT k FROM coll WHERE m CONTAINS 5 ALLOW FILTERING"),
        [2]
    );
    assert_eq!(
        keys("SELECT k FROM coll WHERE m CONTAINS KEY 5 ALLOW FILTERING"),
        [1]
    );
    assert_eq!(
        keys("SELECT k FROM coll WHERE m[6] = 5 ALLOW FILTERING"),
        [2]
    );
    assert_eq!(
        keys("SELECT k FROM coll WHERE fl CONTAINS 8 ALLOW FILTERING"),
        [1]
    );
    assert_eq!(
        keys("SELECT k FROM coll WHERE fl = [9] ALLOW FILTERING"),
        [2]
    );
    assert_eq!(
        keys("SELECT k FROM coll WHERE l CONTAINS 2 AND l CONTAINS 1 ALLOW FILTERING"),
        [1]
    );
}
