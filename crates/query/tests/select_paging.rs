//! Paging: every page holds at most the page size, a paging state is returned only when more
//! may follow (never without a page size), and paging through a result gives exactly the
//! unpaged result: no row skipped or repeated, within and across partitions, with reversed
//! order, IN lists, filtering, LIMIT, PER PARTITION LIMIT, static rows, DISTINCT, GROUP BY
//! and aggregates. A malformed paging state is an InvalidRequest.

mod select_support;

use bytes::Bytes;
use meridian_query::{ExecOptions, QueryError};
use meridian_types::value::CqlValue;
use select_support::*;

/// `t (k int, c int, v int, s int static)`: `partitions` partitions of `rows` rows each,
/// `v = k * 1000 + c`, `s = k`; plus `static_only` partitions holding only a static value.
fn populated(partitions: i32, rows: i32, static_only: i32) -> TestNode {
    let n = TestNode::new();
    n.ok("CREATE TABLE t (k int, c int, v int, s int static, PRIMARY KEY (k, c))");
    n.ok("CREATE TABLE r (k int, c int, v int, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)");
    let mut data = Vec::new();
    for k in 0..partitions {
        for c in 0..rows {
            data.push((
                vec![CqlValue::Int(k)],
                vec![CqlValue::Int(c)],
                vec![("v", CqlValue::Int(k * 1000 + c)), ("s", CqlValue::Int(k))],
            ));
        }
    }
    for k in 0..static_only {
        data.push((
            vec![CqlValue::Int(100_000 + k)],
            vec![],
            vec![("s", CqlValue::Int(-k))],
        ));
    }
    write_rows(&n, "t", data);
    let mut data = Vec::new();
    for k in 0..partitions {
        for c in 0..rows {
            data.push((
                vec![CqlValue::Int(k)],
                vec![CqlValue::Int(c)],
                vec![("v", CqlValue::Int(c))],
            ));
        }
    }
    write_rows(&n, "r", data);
    n
}

fn unpaged(
    n: &TestNode,
    cql: &str,
    values: &[meridian_cql_protocol::Value],
) -> Vec<Vec<Option<Bytes>>> {
    let rs = n.rows_with(cql, values, &ExecOptions::new());
    assert_eq!(
        rs.paging_state, None,
        "{cql}: an unpaged result has no paging state"
    );
    rs.rows
}

/// Pages through `cql` with several page sizes and compares with the unpaged result.
fn check(n: &TestNode, cql: &str, page_sizes: &[i32]) -> usize {
    let expected = unpaged(n, cql, &[]);
    for &p in page_sizes {
        let paged = n.page_all(cql, &[], p);
        assert_eq!(
            paged.len(),
            expected.len(),
            "{cql} with page size {p}: row count"
        );
        assert!(paged == expected, "{cql} with page size {p}: rows differ");
    }
    expected.len()
}

#[test]
fn within_one_large_partition() {
    let n = populated(1, 3000, 0);
    assert_eq!(
        check(
            &n,
            "SELECT c, v FROM t WHERE k = 0",
            &[1000, 999, 3000, 5000]
        ),
        3000
    );
    assert_eq!(
        check(
            &n,
            "SELECT c, v FROM t WHERE k = 0 ORDER BY c DESC",
            &[1000, 7]
        ),
        3000
    );
    assert_eq!(
        check(&n, "SELECT c FROM r WHERE k = 0", &[1000, 3001]),
        3000
    );
    assert_eq!(
        check(&n, "SELECT c FROM r WHERE k = 0 ORDER BY c ASC", &[999]),
        3000
    );
    assert_eq!(
        check(
            &n,
            "SELECT c FROM t WHERE k = 0 AND c >= 100 AND c < 2900",
            &[512]
        ),
        2800
    );
    assert_eq!(
        check(
            &n,
            "SELECT c FROM r WHERE k = 0 AND c >= 100 AND c < 2900 ORDER BY c",
            &[512]
        ),
        2800
    );
    assert_eq!(
        check(
            &n,
            "SELECT c FROM t WHERE k = 0 AND c IN (5, 1, 2999, 77, 1000)",
            &[1, 2]
        ),
        5
    );
}

#[test]
fn small_pages_across_partitions() {
    let n = populated(20, 7, 5);
    assert_eq!(
        check(&n, "SELECT * FROM t", &[1, 2, 3, 7, 8, 100]),
        20 * 7 + 5
    );
    assert_eq!(
        check(
            &n,
            "SELECT k, c FROM t WHERE k IN (3, 1, 2, 100002)",
            &[1, 2, 5, 6]
        ),
        22
    );
    assert_eq!(
        check(&n, "SELECT * FROM t PER PARTITION LIMIT 3", &[1, 2, 4]),
        20 * 3 + 5
    );
    assert_eq!(
        check(&n, "SELECT * FROM t LIMIT 50", &[1, 7, 49, 50, 51]),
        50
    );
    assert_eq!(
        check(
            &n,
            "SELECT * FROM t PER PARTITION LIMIT 2 LIMIT 13",
            &[1, 3, 5]
        ),
        13
    );
    assert_eq!(check(&n, "SELECT DISTINCT k, s FROM t", &[1, 2, 4]), 25);
    assert_eq!(
        check(
            &n,
            "SELECT k, s FROM t WHERE s > 5 ALLOW FILTERING",
            &[1, 3]
        ),
        14 * 7
    );
    assert_eq!(
        check(
            &n,
            "SELECT * FROM t WHERE v > 3000 AND c < 3 ALLOW FILTERING",
            &[1, 2, 10]
        ),
        2 + 16 * 3
    );
    assert_eq!(
        check(&n, "SELECT * FROM t WHERE c = 2 ALLOW FILTERING", &[1, 4]),
        20
    );
    assert_eq!(
        check(
            &n,
            "SELECT k, c FROM t WHERE token(k) > 0 AND token(k) <= 4000000000000000000",
            &[1, 3]
        ),
        n.values("SELECT k, c FROM t WHERE token(k) > 0 AND token(k) <= 4000000000000000000")
            .len()
    );
}

#[test]
fn ten_thousand_rows_over_many_partitions() {
    let n = populated(200, 50, 0);
    assert_eq!(
        check(&n, "SELECT k, c, v FROM t", &[5000, 1000, 333]),
        10_000
    );
    assert_eq!(
        check(
            &n,
            "SELECT k, c, v FROM t WHERE v > 10 ALLOW FILTERING",
            &[5000, 999]
        ),
        10_000 - 11
    );
    // Unique rows, each exactly once.
    let rows = ints(&n.page_all("SELECT k, c FROM t", &[], 777));
    let mut seen = std::collections::HashSet::new();
    for r in &rows {
        assert!(seen.insert((r[0], r[1])), "row {r:?} repeated");
    }
    assert_eq!(seen.len(), 10_000);
}

#[test]
fn in_lists_with_reversed_order_and_bound_values() {
    let n = populated(10, 30, 0);
    let cql = "SELECT k, c FROM t WHERE k IN ? AND c > ?";
    let keys = bind(CqlValue::List(vec![
        CqlValue::Int(7),
        CqlValue::Int(2),
        CqlValue::Int(5),
    ]));
    let values = [keys, bind_int(10)];
    let expected = unpaged(&n, cql, &values);
    assert_eq!(expected.len(), 3 * 19);
    for p in [1, 4, 19, 20, 100] {
        assert!(n.page_all(cql, &values, p) == expected, "page size {p}");
    }
    assert_eq!(
        check(
            &n,
            "SELECT k, c FROM t WHERE k = 4 ORDER BY c DESC",
            &[1, 4, 29, 30]
        ),
        30
    );
    // IN + ORDER BY needs post-query ordering, which cannot be paged.
    let mut options = ExecOptions::new();
    options.page_size = Some(10);
    let err = n
        .run_with(
            "SELECT k, c FROM t WHERE k IN (1, 2) ORDER BY c DESC",
            &[],
            &options,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot page queries with both ORDER BY and a IN restriction on the partition key; you must either remove the ORDER BY or the IN and sort client side, or disable paging for this query"
    );
    let sorted = ints(&unpaged(
        &n,
        "SELECT k, c FROM t WHERE k IN (1, 2) AND c < 3 ORDER BY c DESC",
        &[],
    ));
    assert_eq!(
        sorted,
        vec![
            vec![Some(1), Some(2)],
            vec![Some(2), Some(2)],
            vec![Some(1), Some(1)],
            vec![Some(2), Some(1)],
            vec![Some(1), Some(0)],
            vec![Some(2), Some(0)],
        ]
    );
}

#[test]
fn aggregates_and_groups() {
    let n = populated(12, 10, 2);
    let mut options = ExecOptions::new();
    options.page_size = Some(3);
    let rs = n.rows_with("SELECT count(*), max(v) FROM t", &[], &options);
    assert_eq!(rs.paging_state, None);
    assert_eq!(
        decode(&rs),
        vec![vec![bigint(12 * 10 + 2), int(11 * 1000 + 9)]]
    );
    let grouped = "SELECT k, count(*), min(c) FROM t WHERE s >= 0 GROUP BY k ALLOW FILTERING";
    let expected = unpaged(&n, grouped, &[]);
    assert_eq!(expected.len(), 13);
    for p in [1, 2, 5, 13, 14] {
        assert!(n.page_all(grouped, &[], p) == expected, "page size {p}");
    }
    let per_row = "SELECT k, c, count(*) FROM t WHERE k IN (1, 2, 3) GROUP BY k, c";
    assert_eq!(check(&n, per_row, &[1, 4, 30]), 30);
    let limited = "SELECT k, count(*) FROM t GROUP BY k LIMIT 5";
    assert_eq!(check(&n, limited, &[1, 2, 5]), 5);
}

#[test]
fn malformed_paging_states_are_invalid_requests() {
    let n = populated(3, 3, 0);
    let mut options = ExecOptions::new();
    options.page_size = Some(2);
    let first = n.rows_with("SELECT * FROM t", &[], &options);
    let state = first.paging_state.clone().expect("more pages");
    for bad in [
        Bytes::from_static(b"nonsense"),
        state.slice(..state.len() - 1),
        Bytes::from([state.as_ref(), b"x"].concat()),
    ] {
        options.paging_state = Some(bad);
        let err = n.run_with("SELECT * FROM t", &[], &options).unwrap_err();
        assert_eq!(
            err,
            QueryError::Invalid("Invalid value for the paging state".into())
        );
    }
    // A state of another table is refused too.
    options.paging_state = Some(state);
    let err = n.run_with("SELECT * FROM r", &[], &options).unwrap_err();
    assert_eq!(
        err,
        QueryError::Invalid("Invalid value for the paging state".into())
    );
}

#[test]
fn no_paging_state_without_page_size_or_when_done() {
    let n = populated(2, 5, 0);
    let rs = n.rows("SELECT * FROM t");
    assert_eq!(rs.rows.len(), 10);
    assert_eq!(rs.paging_state, None);
    let mut options = ExecOptions::new();
    options.page_size = Some(100);
    assert_eq!(
        n.rows_with("SELECT * FROM t", &[], &options).paging_state,
        None
    );
    options.page_size = Some(4);
    let rs = n.rows_with("SELECT * FROM t LIMIT 4", &[], &options);
    assert_eq!(rs.rows.len(), 4);
    assert_eq!(rs.paging_state, None, "LIMIT reached: nothing follows");
}

/// Random query shapes, parameters and page sizes: paging always gives the unpaged result.
#[test]
fn random_queries_page_like_unpaged() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let n = populated(25, 9, 4);
    // Some deleted rows and a deleted partition, so reads skip tombstones.
    n.ok("DELETE FROM t WHERE k = 3 AND c = 4");
    n.ok("DELETE FROM t WHERE k = 4");
    n.ok("DELETE FROM r WHERE k = 5 AND c > 2 AND c < 6");
    let templates: &[fn(i32, i32, i32) -> String] = &[
        |a, b, c| format!("SELECT * FROM t WHERE k IN ({a}, {b}, {c})"),
        |a, b, _| format!("SELECT * FROM t WHERE k = {a} AND c >= {b} ORDER BY c DESC"),
        |a, _, _| format!("SELECT k, c FROM t WHERE c > {a} ALLOW FILTERING"),
        |a, b, _| {
            format!(
                "SELECT * FROM t PER PARTITION LIMIT {} LIMIT {}",
                a + 1,
                b * 3 + 1
            )
        },
        |a, _, _| {
            format!(
                "SELECT k, count(*), max(c) FROM t GROUP BY k LIMIT {}",
                a + 1
            )
        },
        |a, b, _| {
            format!("SELECT k, c, count(*) FROM t WHERE k IN ({a}, {b}, 100001) GROUP BY k, c")
        },
        |a, _, _| format!("SELECT DISTINCT k, s FROM t LIMIT {}", a + 1),
        |a, b, _| {
            format!(
                "SELECT * FROM t WHERE token(k) > {}",
                (a - b) as i64 * 300_000_000_000_000_000
            )
        },
        |a, b, _| format!("SELECT * FROM r WHERE k = {a} AND c < {b}"),
        |a, b, _| format!("SELECT c FROM r WHERE k = {a} AND c > {b} ORDER BY c ASC"),
        |a, b, _| {
            format!(
                "SELECT k, c, v FROM t WHERE v < {} AND s > {b} ALLOW FILTERING",
                a * 1000
            )
        },
        |a, b, c| {
            format!("SELECT k, c FROM t WHERE k IN ({a}, {b}) AND c IN ({c}, 1, 7) PER PARTITION LIMIT 2")
        },
        |a, b, _| format!("SELECT * FROM t WHERE k = {a} AND (c) >= ({b}) LIMIT 4"),
        |_, _, _| "SELECT * FROM t".to_string(),
    ];
    let mut runner = TestRunner::new(Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(0..templates.len(), 0i32..25, 0i32..9, 0i32..9, 1i32..12),
            |(t, a, b, c, page)| {
                let cql = templates[t](a, b, c);
                let expected = n.rows_with(&cql, &[], &ExecOptions::new()).rows;
                let paged = n.page_all(&cql, &[], page);
                prop_assert!(paged == expected, "{} with page size {}", cql, page);
                Ok(())
            },
        )
        .expect("paged results equal unpaged ones");
}
