//! Aggregates, GROUP BY, DISTINCT, functions, casts, element selection and SELECT JSON.

mod select_support;

use meridian_types::cql_type::CqlType;
use meridian_types::value::CqlValue;
use select_support::*;

fn sales() -> TestNode {
    let n = TestNode::new();
    n.ok("CREATE TABLE s (shop int, day int, item int, qty int, price double, note text, PRIMARY KEY (shop, day, item))");
    for shop in 0..3 {
        for day in 0..3 {
            for item in 0..2 {
                let qty = shop * 10 + day * 2 + item;
                n.ok(&format!(
                    "INSERT INTO s (shop, day, item, qty, price) VALUES ({shop}, {day}, {item}, {qty}, {}.5)",
                    qty
                ));
            }
        }
    }
    n
}

#[test]
fn aggregates_over_everything() {
    let n = sales();
    let rs = n.rows(
        "SELECT count(*), count(1), count(note), min(qty), max(qty), sum(qty), avg(qty) FROM s",
    );
    assert_eq!(
        names(&rs),
        [
            "count",
            "count",
            "system.count(note)",
            "system.min(qty)",
            "system.max(qty)",
            "system.sum(qty)",
            "system.avg(qty)"
        ]
    );
    let total: i32 = (0..3)
        .flat_map(|s| (0..3).flat_map(move |d| (0..2).map(move |i| s * 10 + d * 2 + i)))
        .sum();
    assert_eq!(
        decode(&rs),
        vec![vec![
            bigint(18),
            bigint(18),
            bigint(0),
            int(0),
            int(25),
            int(total),
            int(total / 18)
        ]]
    );
    // Aggregates over no rows still give one row.
    assert_eq!(
        n.values("SELECT count(*), max(qty) FROM s WHERE shop = 99"),
        vec![vec![bigint(0), None]]
    );
    // Plain selectors take the first row's value.
    assert_eq!(
        n.values("SELECT shop, day, count(*) FROM s WHERE shop = 1"),
        vec![vec![int(1), int(0), bigint(6)]]
    );
    assert_eq!(
        n.values("SELECT max(qty) AS m FROM s WHERE shop = 2 AND day = 1"),
        vec![vec![int(23)]]
    );
    assert_eq!(
        n.err("SELECT max(count(*)) FROM s"),
        "aggregate functions cannot be used as arguments of aggregate functions"
    );
}

#[test]
fn group_by() {
    let n = sales();
    let mut per_shop = n.values("SELECT shop, sum(qty) FROM s GROUP BY shop");
    per_shop.sort_by_key(|r| format!("{r:?}"));
    let sum = |shop: i32| {
        (0..3)
            .flat_map(|d| (0..2).map(move |i| shop * 10 + d * 2 + i))
            .sum::<i32>()
    };
    assert_eq!(
        per_shop,
        (0..3)
            .map(|s| vec![int(s), int(sum(s))])
            .collect::<Vec<_>>()
    );
    assert_eq!(
        n.values("SELECT day, count(*), max(item) FROM s WHERE shop = 1 GROUP BY shop, day"),
        (0..3)
            .map(|d| vec![int(d), bigint(2), int(1)])
            .collect::<Vec<_>>()
    );
    assert_eq!(
        n.values("SELECT day, item FROM s WHERE shop = 1 GROUP BY day"),
        (0..3).map(|d| vec![int(d), int(0)]).collect::<Vec<_>>(),
        "GROUP BY with a restricted partition key; first row of each group"
    );
    assert_eq!(
        n.values("SELECT day, count(*) FROM s WHERE shop = 1 GROUP BY shop, day LIMIT 2"),
        vec![vec![int(0), bigint(2)], vec![int(1), bigint(2)]]
    );
    assert_eq!(
        n.values("SELECT shop, day, count(*) FROM s GROUP BY shop, day PER PARTITION LIMIT 1")
            .len(),
        3
    );
    assert!(n
        .values("SELECT shop, count(*) FROM s WHERE shop = 9 GROUP BY shop")
        .is_empty());
}

#[test]
fn distinct() {
    let n = sales();
    let rows = n.values("SELECT DISTINCT shop FROM s");
    assert_eq!(rows.len(), 3);
    assert_eq!(
        n.values("SELECT DISTINCT shop FROM s WHERE shop IN (1, 2, 7)"),
        vec![vec![int(1)], vec![int(2)]]
    );
    assert_eq!(n.values("SELECT DISTINCT shop FROM s LIMIT 2").len(), 2);
    assert_eq!(
        n.values("SELECT DISTINCT token(shop), shop FROM s").len(),
        3
    );
}

#[test]
fn functions_and_casts() {
    let n = sales();
    let rs = n.rows("SELECT CAST(qty AS text), CAST(qty AS double), CAST(qty AS int), token(shop) FROM s WHERE shop = 1 AND day = 2 AND item = 1");
    assert_eq!(
        names(&rs),
        [
            "cast(qty as text)",
            "cast(qty as double)",
            "cast(qty as int)",
            "system.token(shop)"
        ]
    );
    assert_eq!(rs.columns[0].ty, CqlType::Text);
    let row = &decode(&rs)[0];
    assert_eq!(row[0], text("15"));
    assert_eq!(row[1], Some(CqlValue::Double(15.0)));
    assert_eq!(row[2], int(15));
    let rs = n.rows("SELECT toJson(qty), intAsBlob(qty), blobAsInt(intAsBlob(qty)) FROM s WHERE shop = 0 AND day = 0 AND item = 1");
    assert_eq!(names(&rs)[0], "system.tojson(qty)");
    let row = &decode(&rs)[0];
    assert_eq!(row[0], text("1"));
    assert_eq!(
        row[1],
        Some(CqlValue::Blob(bytes::Bytes::from_static(&[0, 0, 0, 1])))
    );
    assert_eq!(row[2], int(1));
    assert_eq!(
        n.values(
            "SELECT qty + 1, (bigint) 3, qty * 2 FROM s WHERE shop = 0 AND day = 0 AND item = 1"
        ),
        vec![vec![int(2), bigint(3), int(2)]]
    );
    assert!(n
        .err("SELECT nosuchfn(qty) FROM s")
        .starts_with("Unknown function"));
    assert_eq!(
        n.err("SELECT 3 FROM s"),
        "Cannot infer type for term 3 in selection clause (try using a cast to force a type)"
    );
}

#[test]
fn select_json() {
    let n = TestNode::new();
    n.ok("CREATE TABLE j (k int, \"Mixed\" text, l list<int>, m map<text, int>, PRIMARY KEY (k))");
    n.ok("INSERT INTO j (k, \"Mixed\", l, m) VALUES (1, 'a\"b', [1, 2], {'x': 1})");
    let rs = n.rows("SELECT JSON * FROM j");
    assert_eq!(names(&rs), ["[json]"]);
    assert_eq!(rs.columns[0].ty, CqlType::Text);
    assert_eq!(
        decode(&rs),
        vec![vec![text(
            r#"{"k": 1, "\"Mixed\"": "a\"b", "l": [1, 2], "m": {"x": 1}}"#
        )]]
    );
    assert_eq!(
        n.values("SELECT JSON k AS key, count(*) FROM j"),
        vec![vec![text(r#"{"key": 1, "count": 1}"#)]]
    );
}

#[test]
fn element_field_and_slice_selection() {
    let n = TestNode::new();
    n.ok("CREATE TYPE addr (street text, zip int)");
    n.ok(
        "CREATE TABLE e (k int PRIMARY KEY, m map<int, text>, s set<int>, fa frozen<addr>, a addr)",
    );
    n.ok("INSERT INTO e (k, m, s, fa, a) VALUES (0, {1: 'one', 2: 'two', 3: 'three'}, {5, 6, 7}, {street: 'x', zip: 9}, {street: 'y', zip: 8})");
    let rs =
        n.rows("SELECT m[2], s[6], s[9], fa.zip, a.street, m[2..3], s[..5] FROM e WHERE k = 0");
    assert_eq!(names(&rs)[0], "m[2]");
    assert_eq!(names(&rs)[3], "fa.zip");
    let row = &decode(&rs)[0];
    assert_eq!(row[0], text("two"));
    assert_eq!(row[1], int(6));
    assert_eq!(row[2], None);
    assert_eq!(row[3], int(9));
    assert_eq!(row[4], text("y"));
    assert_eq!(
        row[5],
        Some(CqlValue::Map(vec![
            (CqlValue::Int(2), CqlValue::Text("two".into())),
            (CqlValue::Int(3), CqlValue::Text("three".into()))
        ]))
    );
    assert_eq!(row[6], Some(CqlValue::Set(vec![CqlValue::Int(5)])));
    assert!(n.err("SELECT fa.nope FROM e").contains("has no field nope"));
    // writetime of a non-frozen UDT: one timestamp per field; of a field: one timestamp.
    n.ok("UPDATE e USING TIMESTAMP 5 SET a = {street: 'z', zip: 1} WHERE k = 1");
    n.ok("UPDATE e USING TIMESTAMP 7 SET a.zip = 2 WHERE k = 1");
    let rs = n.rows("SELECT writetime(a), writetime(a.zip), writetime(fa) FROM e WHERE k = 1");
    assert_eq!(
        names(&rs),
        ["writetime(a)", "writetime(a.zip)", "writetime(fa)"]
    );
    assert_eq!(
        decode(&rs),
        vec![vec![
            Some(CqlValue::List(vec![
                CqlValue::Bigint(5),
                CqlValue::Bigint(7)
            ])),
            bigint(7),
            None
        ]]
    );
}
