//! INSERT: row liveness and cells, TTLs and timestamps, NULL and UNSET, static rows,
//! non-frozen collections and UDTs, key validation and Cassandra's error messages.

mod modification_support;

use bytes::Bytes;
use meridian_cql_protocol::Value;
use meridian_query::QueryResult;
use meridian_types::model::{CellState, ClusteringOrder, DeletionTime, LivenessInfo};
use meridian_types::value::CqlValue;
use modification_support::*;

fn simple_table(t: &mut TestNode) {
    t.create_table(
        "t",
        &[
            Col("k", "int", false),
            Col("c", "int", false),
            Col("v", "text", false),
            Col("w", "int", false),
            Col("s", "int", true),
        ],
        &["k"],
        &[("c", ClusteringOrder::Asc)],
        &[],
    );
}

#[test]
fn insert_writes_liveness_and_one_cell_per_column() {
    let mut t = TestNode::new();
    simple_table(&mut t);
    let r = t.ok(
        "INSERT INTO t (k, c, v, w) VALUES (?, ?, ?, ?)",
        vec![int(1), int(2), text("a"), int(7)],
    );
    assert_eq!(r, QueryResult::Void);
    let p = t.partition("t", &b_int(1)).expect("partition");
    assert!(p.deletion.is_live());
    assert!(p.static_row.is_none());
    assert_eq!(p.rows.len(), 1);
    let row = &p.rows[0];
    assert_eq!(row.clustering.0, vec![b_int(2)]);
    assert_eq!(row.liveness, Some(LivenessInfo::live(1000)));
    let v = cell(row, t.col("t", "v"));
    assert_eq!(
        (v.timestamp_micros, v.state, v.value),
        (1000, CellState::Live, b_text("a"))
    );
    assert_eq!(cell(row, t.col("t", "w")).value, b_int(7));
    assert_eq!(row.columns.len(), 2);
}

#[test]
fn ttl_and_timestamp_from_using() {
    let mut t = TestNode::new();
    simple_table(&mut t);
    t.ok(
        "INSERT INTO t (k, c, v) VALUES (?, ?, ?) USING TTL ? AND TIMESTAMP ?",
        vec![int(1), int(1), text("x"), int(100), bigint(42)],
    );
    let p = t.partition("t", &b_int(1)).unwrap();
    let row = &p.rows[0];
    assert_eq!(
        row.liveness,
        Some(LivenessInfo::expiring(42, 100, NOW_SECS))
    );
    let c = cell(row, t.col("t", "v"));
    assert_eq!(c.timestamp_micros, 42);
    assert_eq!(
        c.state,
        CellState::Expiring {
            ttl_secs: 100,
            local_expiration_time_secs: NOW_SECS + 100
        }
    );
}

#[test]
fn table_default_ttl_applies_unless_ttl_is_zero() {
    let mut t = TestNode::new();
    t.create_table(
        "d",
        &[Col("k", "int", false), Col("v", "int", false)],
        &["k"],
        &[],
        &[("default_time_to_live", "50")],
    );
    t.ok("INSERT INTO d (k, v) VALUES (?, ?)", vec![int(1), int(1)]);
    let row = &t.partition("d", &b_int(1)).unwrap().rows[0];
    assert_eq!(cell(row, t.col("d", "v")).ttl_secs(), 50);
    assert_eq!(row.liveness.unwrap().ttl_secs, 50);

    t.ok(
        "INSERT INTO d (k, v) VALUES (?, ?) USING TTL ?",
        vec![int(2), int(1), int(0)],
    );
    let row = &t.partition("d", &b_int(2)).unwrap().rows[0];
    assert_eq!(cell(row, t.col("d", "v")).state, CellState::Live);

    // An unset TTL is the table default; a null TTL is none.
    t.ok(
        "INSERT INTO d (k, v) VALUES (?, ?) USING TTL ?",
        vec![int(3), int(1), Value::Unset],
    );
    assert_eq!(
        cell(
            &t.partition("d", &b_int(3)).unwrap().rows[0],
            t.col("d", "v")
        )
        .ttl_secs(),
        50
    );
    t.ok(
        "INSERT INTO d (k, v) VALUES (?, ?) USING TTL ?",
        vec![int(4), int(1), Value::Null],
    );
    assert_eq!(
        cell(
            &t.partition("d", &b_int(4)).unwrap().rows[0],
            t.col("d", "v")
        )
        .ttl_secs(),
        0
    );
}

#[test]
fn ttl_bounds() {
    let mut t = TestNode::new();
    simple_table(&mut t);
    assert_eq!(
        t.err(
            "INSERT INTO t (k, c) VALUES (?, ?) USING TTL ?",
            vec![int(1), int(1), int(-5)]
        ),
        "A TTL must be greater or equal to 0, but was -5"
    );
    assert_eq!(
        t.err(
            "INSERT INTO t (k, c) VALUES (?, ?) USING TTL ?",
            vec![int(1), int(1), int(630_720_001)]
        ),
        "ttl is too large. requested (630720001) maximum (630720000)"
    );
    assert_eq!(
        t.err(
            "INSERT INTO t (k, c) VALUES (?, ?) USING TIMESTAMP ?",
            vec![int(1), int(1), Value::Null]
        ),
        "Invalid null value of timestamp"
    );
    // Long.MIN_VALUE means "no timestamp" to Cassandra, which refuses it; one above is fine.
    let out_of_bound =
        "Out of bound timestamp, must be in [-9223372036854775807, 9223372036854775807]";
    assert_eq!(
        t.err(
            "INSERT INTO t (k, c) VALUES (?, ?) USING TIMESTAMP -9223372036854775808",
            vec![int(1), int(1)]
        ),
        out_of_bound
    );
    assert_eq!(
        t.err(
            "INSERT INTO t (k, c) VALUES (?, ?) USING TIMESTAMP ?",
            vec![int(1), int(1), bigint(i64::MIN)]
        ),
        out_of_bound
    );
    assert_eq!(
        t.err(
            "BEGIN BATCH USING TIMESTAMP ? INSERT INTO t (k, c) VALUES (1, 1); APPLY BATCH",
            vec![bigint(i64::MIN)]
        ),
        out_of_bound
    );
    t.exec(
        "INSERT INTO t (k, c) VALUES (?, ?) USING TIMESTAMP -9223372036854775807",
        vec![int(1), int(1)],
    )
    .expect("one above Long.MIN_VALUE is a valid timestamp");
}

#[test]
fn statement_timestamp_sources() {
    let mut t = TestNode::new();
    simple_table(&mut t);
    // The client's default timestamp.
    t.exec_with(
        "INSERT INTO t (k, c, w) VALUES (?, ?, ?)",
        vec![int(1), int(1), int(1)],
        &TestNode::options(Some(77)),
    )
    .unwrap();
    assert_eq!(
        t.partition("t", &b_int(1)).unwrap().rows[0]
            .liveness
            .unwrap()
            .timestamp_micros,
        77
    );
    // The server's clock, strictly increasing.
    for k in [2, 3] {
        t.exec_with(
            "INSERT INTO t (k, c, w) VALUES (?, ?, ?)",
            vec![int(k), int(1), int(1)],
            &TestNode::options(None),
        )
        .unwrap();
    }
    let ts = |k| {
        t.partition("t", &b_int(k)).unwrap().rows[0]
            .liveness
            .unwrap()
            .timestamp_micros
    };
    assert!(ts(2) > 1_600_000_000_000_000);
    assert!(ts(3) > ts(2));
}

#[test]
fn null_writes_tombstones_and_unset_skips() {
    let mut t = TestNode::new();
    simple_table(&mut t);
    t.ok(
        "INSERT INTO t (k, c, v, w) VALUES (?, ?, ?, ?)",
        vec![int(1), int(1), Value::Null, Value::Unset],
    );
    let row = &t.partition("t", &b_int(1)).unwrap().rows[0];
    assert!(is_tombstone_at(&cell(row, t.col("t", "v")), 1000));
    assert!(row.column(t.col("t", "w")).is_none());
    assert!(row.liveness.is_some());
}

#[test]
fn static_only_insert_writes_the_static_row() {
    let mut t = TestNode::new();
    simple_table(&mut t);
    t.ok("INSERT INTO t (k, s) VALUES (?, ?)", vec![int(1), int(9)]);
    let p = t.partition("t", &b_int(1)).unwrap();
    assert!(p.rows.is_empty());
    let s = p.static_row.expect("static row");
    assert!(s.liveness.is_none());
    assert_eq!(cell(&s, t.col("t", "s")).value, b_int(9));

    // With the clustering column too: a regular row with its liveness, plus the static row.
    t.ok(
        "INSERT INTO t (k, c, s) VALUES (?, ?, ?)",
        vec![int(2), int(5), int(3)],
    );
    let p = t.partition("t", &b_int(2)).unwrap();
    assert_eq!(p.rows.len(), 1);
    assert!(p.rows[0].liveness.is_some());
    assert!(p.rows[0].columns.is_empty());
    assert_eq!(
        cell(p.static_row.as_ref().unwrap(), t.col("t", "s")).value,
        b_int(3)
    );
}

#[test]
fn non_frozen_collections_overwrite() {
    let mut t = TestNode::new();
    t.create_table(
        "c",
        &[
            Col("k", "int", false),
            Col("l", "list<int>", false),
            Col("st", "set<int>", false),
            Col("m", "map<int, text>", false),
            Col("fl", "frozen<list<int>>", false),
        ],
        &["k"],
        &[],
        &[],
    );
    t.ok(
        "INSERT INTO c (k, l, st, m, fl) VALUES (?, ?, ?, ?, ?)",
        vec![
            int(1),
            ints(&[3, 1, 2]),
            int_set(&[5, 4]),
            int_text_map(&[(2, "b"), (1, "a")]),
            ints(&[7]),
        ],
    );
    let row = t.partition("c", &b_int(1)).unwrap().rows[0].clone();
    let overwrite = DeletionTime::new(999, NOW_SECS);
    let l = complex(&row, t.col("c", "l"));
    assert_eq!(l.deletion, overwrite);
    assert_eq!(l.cells.len(), 3);
    for (path, cell) in &l.cells {
        assert_eq!(uuid::Uuid::from_slice(path).unwrap().get_version_num(), 1);
        assert_eq!(cell.timestamp_micros, 1000);
    }
    assert_eq!(
        list_values(&row, t.col("c", "l")),
        vec![b_int(3), b_int(1), b_int(2)]
    );
    let s = complex(&row, t.col("c", "st"));
    assert_eq!(s.deletion, overwrite);
    let paths: Vec<Bytes> = s.cells.iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(paths, vec![b_int(4), b_int(5)]);
    assert!(s.cells.iter().all(|(_, c)| c.value.is_empty()));
    let m = complex(&row, t.col("c", "m"));
    let entries: Vec<(Bytes, Bytes)> = m
        .cells
        .iter()
        .map(|(p, c)| (p.clone(), c.value.clone()))
        .collect();
    assert_eq!(
        entries,
        vec![(b_int(1), b_text("a")), (b_int(2), b_text("b"))]
    );
    // A frozen collection is one cell holding the serialized value.
    assert_eq!(
        cell(&row, t.col("c", "fl")).value,
        CqlValue::List(vec![CqlValue::Int(7)]).to_bytes()
    );

    // NULL for a non-frozen collection: only the collection tombstone.
    t.ok(
        "INSERT INTO c (k, l) VALUES (?, ?)",
        vec![int(2), Value::Null],
    );
    let row = t.partition("c", &b_int(2)).unwrap().rows[0].clone();
    let l = complex(&row, t.col("c", "l"));
    assert_eq!(l.deletion, DeletionTime::new(1000, NOW_SECS));
    assert!(l.cells.is_empty());
}

#[test]
fn non_frozen_udt_fields_are_cells_keyed_by_position() {
    let mut t = TestNode::new();
    t.create_type(
        "addr",
        &[("street", "text"), ("zip", "int"), ("city", "text")],
    );
    t.create_table(
        "u",
        &[Col("k", "int", false), Col("a", "addr", false)],
        &["k"],
        &[],
        &[],
    );
    let udt = CqlValue::Udt(vec![
        ("street".into(), Some(CqlValue::Text("main".into()))),
        ("zip".into(), None),
        ("city".into(), Some(CqlValue::Text("x".into()))),
    ]);
    t.ok("INSERT INTO u (k, a) VALUES (?, ?)", vec![int(1), v(udt)]);
    let row = t.partition("u", &b_int(1)).unwrap().rows[0].clone();
    let a = complex(&row, t.col("u", "a"));
    assert_eq!(a.deletion, DeletionTime::new(999, NOW_SECS));
    let cells: Vec<(Bytes, Bytes)> = a
        .cells
        .iter()
        .map(|(p, c)| (p.clone(), c.value.clone()))
        .collect();
    assert_eq!(
        cells,
        vec![
            (Bytes::from_static(&[0, 0]), b_text("main")),
            (Bytes::from_static(&[0, 2]), b_text("x"))
        ]
    );
}

#[test]
fn composite_partition_keys_are_serialized_as_cassandra_does() {
    let mut t = TestNode::new();
    t.create_table(
        "cp",
        &[
            Col("a", "int", false),
            Col("b", "text", false),
            Col("v", "int", false),
        ],
        &["a", "b"],
        &[],
        &[],
    );
    t.ok(
        "INSERT INTO cp (a, b, v) VALUES (?, ?, ?)",
        vec![int(1), text("x"), int(3)],
    );
    let key = Bytes::from_static(&[0, 4, 0, 0, 0, 1, 0, 0, 1, b'x', 0]);
    let p = t.partition("cp", &key).expect("composite key");
    assert_eq!(cell(&p.rows[0], t.col("cp", "v")).value, b_int(3));
}

#[test]
fn key_validation() {
    let mut t = TestNode::new();
    simple_table(&mut t);
    t.create_table(
        "b",
        &[
            Col("k", "blob", false),
            Col("c", "blob", false),
            Col("v", "int", false),
        ],
        &["k"],
        &[("c", ClusteringOrder::Asc)],
        &[],
    );
    assert_eq!(
        t.err(
            "INSERT INTO t (k, c) VALUES (?, ?)",
            vec![Value::Null, int(1)]
        ),
        "Invalid null value in condition for column k"
    );
    assert_eq!(
        t.err(
            "INSERT INTO t (k, c) VALUES (?, ?)",
            vec![int(1), Value::Null]
        ),
        "Invalid null value in condition for column c"
    );
    assert_eq!(
        t.err(
            "INSERT INTO t (k, c) VALUES (?, ?)",
            vec![Value::Unset, int(1)]
        ),
        "Invalid unset value for column k"
    );
    let blob = |n: usize| v(CqlValue::Blob(Bytes::from(vec![1u8; n])));
    assert_eq!(
        t.err("INSERT INTO b (k, c) VALUES (?, ?)", vec![blob(0), blob(1)]),
        "Key may not be empty"
    );
    assert_eq!(
        t.err(
            "INSERT INTO b (k, c) VALUES (?, ?)",
            vec![blob(70_000), blob(1)]
        ),
        "Key length of 70000 is longer than maximum of 65535"
    );
    assert_eq!(
        t.err(
            "INSERT INTO b (k, c) VALUES (?, ?)",
            vec![blob(1), blob(65_536)]
        ),
        "Key length of 65536 is longer than maximum of 65535"
    );
    // Empty clustering values are fine.
    t.ok("INSERT INTO b (k, c) VALUES (?, ?)", vec![blob(1), blob(0)]);
}

#[test]
fn insert_errors() {
    let mut t = TestNode::new();
    simple_table(&mut t);
    assert_eq!(
        t.err(
            "INSERT INTO t (c, v) VALUES (?, ?)",
            vec![int(1), text("a")]
        ),
        "Some partition key parts are missing: k"
    );
    assert_eq!(
        t.err(
            "INSERT INTO t (k, v) VALUES (?, ?)",
            vec![int(1), text("a")]
        ),
        "Some clustering keys are missing: c"
    );
    assert_eq!(
        t.err(
            "INSERT INTO t (k, c, nope) VALUES (?, ?, ?)",
            vec![int(1), int(1), int(1)]
        ),
        "Undefined column name nope in table ks.t"
    );
    assert_eq!(
        t.err(
            "INSERT INTO t (k, c, \"Nope\") VALUES (?, ?, ?)",
            vec![int(1), int(1), int(1)]
        ),
        "Undefined column name \"Nope\" in table ks.t"
    );
    assert_eq!(
        t.err(
            "INSERT INTO t (k, c, v, v) VALUES (?, ?, ?, ?)",
            vec![int(1), int(1), text("a"), text("b")]
        ),
        "The column names contains duplicates"
    );
    assert_eq!(
        t.err(
            "INSERT INTO t (k, c, v) VALUES (?, ?)",
            vec![int(1), int(1)]
        ),
        "Unmatched column names/values"
    );
    assert_eq!(
        t.err("INSERT INTO nope (k) VALUES (?)", vec![int(1)]),
        "table nope does not exist"
    );
    assert_eq!(
        t.err("INSERT INTO nokeyspace.t (k) VALUES (?)", vec![int(1)]),
        "keyspace nokeyspace does not exist"
    );
    assert_eq!(
        t.err("INSERT INTO system.local (key) VALUES (?)", vec![text("x")]),
        "system keyspace is not user-modifiable."
    );
    let no_ks = TestNode::new();
    let session = meridian_query::Session::new();
    let e = meridian_query::modification::execute(
        &no_ks.node,
        &session,
        &meridian_cql_parser::parse_statement("INSERT INTO t (k) VALUES (1)").unwrap(),
        &meridian_query::BoundValues::none(),
        &TestNode::options(None),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename"
    );
}

#[test]
fn counter_tables_refuse_insert_and_counter_updates() {
    let mut t = TestNode::new();
    t.create_table(
        "cnt",
        &[Col("k", "int", false), Col("n", "counter", false)],
        &["k"],
        &[],
        &[],
    );
    assert_eq!(
        t.err(
            "INSERT INTO cnt (k, n) VALUES (?, ?)",
            vec![int(1), bigint(1)]
        ),
        "INSERT statements are not allowed on counter tables, use UPDATE instead"
    );
    assert_eq!(
        t.err(
            "UPDATE cnt SET n = n + ? WHERE k = ?",
            vec![bigint(1), int(1)]
        ),
        "Counter updates (n = n + ?) are not supported by this node yet"
    );
    assert_eq!(
        t.err("UPDATE cnt SET n = ? WHERE k = ?", vec![bigint(1), int(1)]),
        "Cannot set the value of counter column n (counters can only be incremented/decremented, not set)"
    );
}

#[test]
fn insert_json_errors_and_defaults() {
    let mut t = TestNode::new();
    simple_table(&mut t);
    assert_eq!(
        t.err("INSERT INTO t JSON ?", vec![Value::Null]),
        "Got null for INSERT JSON values"
    );
    assert_eq!(
        t.err("INSERT INTO t JSON 'null'", vec![]),
        "Got null for INSERT JSON values"
    );
    assert!(t
        .err("INSERT INTO t JSON '\"notamap\"'", vec![])
        .starts_with("Could not decode JSON string as a map"));
    assert!(t
        .err("INSERT INTO t JSON '{\"k\": '", vec![])
        .starts_with("Could not decode JSON string as a map"));
    assert_eq!(
        t.err("INSERT INTO t JSON '{\"zzz\": 1}'", vec![]),
        "JSON values map contains unrecognized column: zzz"
    );
    // Missing (or null) key columns are null keys.
    assert_eq!(
        t.err("INSERT INTO t JSON '{\"k\": null}'", vec![]),
        "Invalid null value in condition for column k"
    );
    // Quoted keys keep their case: "\"K\"" is not column k.
    assert_eq!(
        t.err("INSERT INTO t JSON '{\"\\\"K\\\"\": null}'", vec![]),
        "JSON values map contains unrecognized column: K"
    );
}
