//! BATCH: statements merged into one mutation per partition, batch timestamps, protocol
//! batches with per-statement values, batch validation, and conditional batches.

mod modification_support;

use bytes::Bytes;
use meridian_cql_parser::{ast, parse_statement};
use meridian_cql_protocol::Value;
use meridian_query::modification::{self, BatchInput};
use meridian_query::{BoundValues, QueryResult};
use meridian_types::model::ClusteringOrder;
use modification_support::*;

const T: Option<Bytes> = Some(Bytes::from_static(&[1]));
const F: Option<Bytes> = Some(Bytes::from_static(&[0]));

fn table(t: &mut TestNode) {
    t.create_table(
        "t",
        &[
            Col("k", "int", false),
            Col("c", "int", false),
            Col("v", "int", false),
            Col("s", "int", true),
        ],
        &["k"],
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
}

#[test]
fn batch_statements_share_the_batch_timestamp() {
    let mut t = TestNode::new();
    table(&mut t);
    t.ok(
        "BEGIN BATCH USING TIMESTAMP ? \
         INSERT INTO t (k, c, v) VALUES (?, ?, ?); \
         UPDATE t SET v = ? WHERE k = ? AND c = ?; \
         DELETE FROM o WHERE k = ?; \
         APPLY BATCH",
        vec![
            bigint(77),
            int(1),
            int(1),
            int(10),
            int(20),
            int(1),
            int(2),
            int(5),
        ],
    );
    let p = t.partition("t", &b_int(1)).unwrap();
    assert_eq!(p.rows.len(), 2);
    assert_eq!(p.rows[0].liveness.unwrap().timestamp_micros, 77);
    assert_eq!(cell(&p.rows[1], t.col("t", "v")).timestamp_micros, 77);
    assert_eq!(
        t.partition("o", &b_int(5))
            .unwrap()
            .deletion
            .marked_for_delete_at_micros,
        77
    );

    // Without a batch timestamp, one default timestamp for every statement; a statement's
    // own USING TIMESTAMP wins.
    t.ok(
        "BEGIN UNLOGGED BATCH \
         INSERT INTO o (k, v) VALUES (?, ?); \
         INSERT INTO o (k, v) VALUES (?, ?) USING TIMESTAMP ?; \
         APPLY BATCH",
        vec![int(1), int(1), int(2), int(2), bigint(5)],
    );
    let ts = |k| {
        cell(
            &t.partition("o", &b_int(k)).unwrap().rows[0],
            t.col("o", "v"),
        )
        .timestamp_micros
    };
    assert_eq!(ts(1), 1001);
    assert_eq!(ts(2), 5);
}

#[test]
fn later_statements_of_a_batch_merge_with_earlier_ones() {
    let mut t = TestNode::new();
    table(&mut t);
    t.ok(
        "BEGIN BATCH \
         INSERT INTO t (k, c, v) VALUES (?, ?, ?); \
         UPDATE t SET s = ? WHERE k = ?; \
         DELETE v FROM t WHERE k = ? AND c = ?; \
         APPLY BATCH",
        vec![int(1), int(1), int(10), int(3), int(1), int(1), int(1)],
    );
    let p = t.partition("t", &b_int(1)).unwrap();
    assert_eq!(p.rows.len(), 1);
    // Same timestamp: the tombstone wins over the cell.
    assert!(is_tombstone_at(&cell(&p.rows[0], t.col("t", "v")), 1000));
    assert_eq!(
        cell(p.static_row.as_ref().unwrap(), t.col("t", "s")).value,
        b_int(3)
    );
}

#[test]
fn protocol_batches_carry_values_per_statement() {
    let mut t = TestNode::new();
    table(&mut t);
    let stmt = parse_statement("INSERT INTO o (k, v) VALUES (?, ?)").unwrap();
    let input = BatchInput {
        kind: ast::BatchKind::Logged,
        timestamp: None,
        statements: (0..3)
            .map(|i| {
                (
                    stmt.clone(),
                    BoundValues {
                        values: vec![int(i), int(i * 10)],
                    },
                )
            })
            .collect(),
    };
    let r = modification::execute_batch(&t.node, &t.session, input, &TestNode::options(Some(9)))
        .unwrap();
    assert_eq!(r, QueryResult::Void);
    for i in 0..3 {
        let c = cell(
            &t.partition("o", &b_int(i)).unwrap().rows[0],
            t.col("o", "v"),
        );
        assert_eq!((c.value, c.timestamp_micros), (b_int(i * 10), 9));
    }
    let select = parse_statement("SELECT * FROM o").unwrap();
    let input = BatchInput {
        kind: ast::BatchKind::Logged,
        timestamp: None,
        statements: vec![(select, BoundValues::none())],
    };
    let e = modification::execute_batch(&t.node, &t.session, input, &TestNode::options(None))
        .unwrap_err();
    assert!(e.to_string().starts_with(
        "Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed"
    ));
}

#[test]
fn batch_validation() {
    let mut t = TestNode::new();
    table(&mut t);
    t.create_table(
        "cnt",
        &[Col("k", "int", false), Col("n", "counter", false)],
        &["k"],
        &[],
        &[],
    );
    assert_eq!(
        t.err(
            "BEGIN BATCH USING TTL ? INSERT INTO o (k) VALUES (?); APPLY BATCH",
            vec![int(1), int(1)]
        ),
        "Global TTL on the BATCH statement is not supported."
    );
    assert_eq!(
        t.err(
            "BEGIN BATCH USING TIMESTAMP ? INSERT INTO o (k) VALUES (?) USING TIMESTAMP ?; APPLY BATCH",
            vec![bigint(1), int(1), bigint(2)]
        ),
        "Timestamp must be set either on BATCH or individual statements"
    );
    assert_eq!(
        t.err(
            "BEGIN COUNTER BATCH USING TIMESTAMP ? DELETE FROM cnt WHERE k = ?; APPLY BATCH",
            vec![bigint(1), int(1)]
        ),
        "Cannot provide custom timestamp for counter BATCH"
    );
    assert_eq!(
        t.err(
            "BEGIN COUNTER BATCH INSERT INTO o (k) VALUES (?); APPLY BATCH",
            vec![int(1)]
        ),
        "Cannot include non-counter statement in a counter batch"
    );
    assert_eq!(
        t.err(
            "BEGIN BATCH DELETE FROM cnt WHERE k = ?; APPLY BATCH",
            vec![int(1)]
        ),
        "Cannot include a counter statement in a logged batch"
    );
    assert_eq!(
        t.err(
            "BEGIN UNLOGGED BATCH DELETE FROM cnt WHERE k = ?; DELETE FROM o WHERE k = ?; APPLY BATCH",
            vec![int(1), int(1)]
        ),
        "Counter and non-counter mutations cannot exist in the same batch"
    );
    // One invalid statement fails the whole batch: nothing is written.
    assert!(t
        .exec(
            "BEGIN BATCH INSERT INTO o (k, v) VALUES (?, ?); INSERT INTO o (k, v) VALUES (?, ?); APPLY BATCH",
            vec![int(1), int(1), Value::Null, int(1)],
        )
        .is_err());
    assert!(t.partition("o", &b_int(1)).is_none());
}

#[test]
fn conditional_batches() {
    let mut t = TestNode::new();
    table(&mut t);
    let rs = rows(t.ok(
        "BEGIN BATCH \
         INSERT INTO t (k, c, v) VALUES (?, ?, ?) IF NOT EXISTS; \
         INSERT INTO t (k, c, v) VALUES (?, ?, ?); \
         UPDATE t SET s = ? WHERE k = ?; \
         APPLY BATCH",
        vec![
            int(1),
            int(1),
            int(1),
            int(1),
            int(2),
            int(2),
            int(9),
            int(1),
        ],
    ));
    assert_eq!(rs.rows, vec![vec![T]]);
    assert_eq!(t.live_rows("t", &b_int(1)).len(), 2);

    // Not applied: nothing of the batch is written; the result names the primary key
    // columns and the condition columns.
    let rs = rows(t.ok(
        "BEGIN BATCH \
         UPDATE t SET v = ? WHERE k = ? AND c = ? IF v = ?; \
         UPDATE t SET v = ? WHERE k = ? AND c = ? IF v = ?; \
         APPLY BATCH",
        vec![
            int(100),
            int(1),
            int(1),
            int(1),
            int(200),
            int(1),
            int(2),
            int(3),
        ],
    ));
    let names: Vec<&str> = rs.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["[applied]", "k", "c", "v"]);
    assert_eq!(
        rs.rows,
        vec![
            vec![F, Some(b_int(1)), Some(b_int(1)), Some(b_int(1))],
            vec![F, Some(b_int(1)), Some(b_int(2)), Some(b_int(2))],
        ]
    );
    let v = |c: usize| cell(&t.live_rows("t", &b_int(1))[c], t.col("t", "v")).value;
    assert_eq!((v(0), v(1)), (b_int(1), b_int(2)));

    assert_eq!(
        t.err(
            "BEGIN BATCH UPDATE t SET v = ? WHERE k = ? AND c = ? IF v = ?; INSERT INTO t (k, c) VALUES (?, ?); APPLY BATCH",
            vec![int(1), int(1), int(1), int(1), int(2), int(1)]
        ),
        "Batch with conditions cannot span multiple partitions"
    );
    assert_eq!(
        t.err(
            "BEGIN BATCH UPDATE t SET v = ? WHERE k = ? AND c = ? IF v = ?; INSERT INTO o (k) VALUES (?); APPLY BATCH",
            vec![int(1), int(1), int(1), int(1), int(1)]
        ),
        "Batch with conditions cannot span multiple tables"
    );
    assert_eq!(
        t.err(
            "BEGIN BATCH INSERT INTO t (k, c) VALUES (?, ?) IF NOT EXISTS; DELETE FROM t WHERE k = ? AND c = ? IF EXISTS; APPLY BATCH",
            vec![int(1), int(1), int(1), int(1)]
        ),
        "Cannot mix IF EXISTS and IF NOT EXISTS conditions for the same row"
    );
    assert_eq!(
        t.err(
            "BEGIN BATCH USING TIMESTAMP ? UPDATE t SET v = ? WHERE k = ? AND c = ? IF v = ?; APPLY BATCH",
            vec![bigint(3), int(1), int(1), int(1), int(1)]
        ),
        "Cannot provide custom timestamp for conditional BATCH"
    );
}

#[test]
fn a_batch_is_one_mutation_applied_whole_or_not_at_all() {
    let mut t = TestNode::with_engine_config(|c| {
        c.commitlog_segment_size_bytes = 1024 * 1024;
        c.max_mutation_size_bytes = 512 * 1024;
    });
    table(&mut t);
    t.create_table(
        "b",
        &[Col("k", "int", false), Col("v", "blob", false)],
        &["k"],
        &[],
        &[],
    );
    let blob = |n: usize| {
        v(meridian_types::value::CqlValue::Blob(Bytes::from(vec![
            7u8;
            n
        ])))
    };
    // Each statement alone fits; together they exceed the largest mutation: nothing of the
    // batch is applied.
    let batch = "BEGIN BATCH INSERT INTO b (k, v) VALUES (?, ?); INSERT INTO b (k, v) VALUES (?, ?); APPLY BATCH";
    let e = t.err(batch, vec![int(1), blob(300_000), int(2), blob(300_000)]);
    assert!(
        e.starts_with("mutation of ") && e.ends_with("is larger than the maximum of 524288 bytes"),
        "{e}"
    );
    assert!(t.partition("b", &b_int(1)).is_none());
    assert!(t.partition("b", &b_int(2)).is_none());
    t.ok(batch, vec![int(1), blob(100_000), int(2), blob(100_000)]);
    assert!(t.partition("b", &b_int(1)).is_some());
    assert!(t.partition("b", &b_int(2)).is_some());
}
