//! JSON: Cassandra's rendering of every type (`SELECT JSON`, `toJson`), its parsing
//! (`INSERT JSON`, `fromJson`) with Jackson's number typing and Cassandra's messages, and
//! round trips for every type.

mod terms_support;

use std::net::IpAddr;

use bytes::Bytes;
use meridian_query::json::{
    self, from_json, from_json_column, parse_json_row, row_to_json, to_json,
};
use meridian_types::cql_type::CqlType;
use meridian_types::value::CqlValue;
use proptest::prelude::*;
use serde_json::Value as Json;
use terms_support::*;

fn render(ty: &CqlType, v: &CqlValue) -> String {
    to_json(ty, Some(&v.to_bytes())).expect("to_json")
}

fn parse(ty: &CqlType, text: &str) -> Result<Option<Bytes>, String> {
    let json: Json = serde_json::from_str(text).expect("valid JSON");
    from_json(ty, &json).map_err(|e| e.to_string())
}

fn samples() -> Vec<(CqlType, CqlValue, &'static str)> {
    use CqlType as T;
    use CqlValue as V;
    let ip = |s: &str| -> IpAddr { s.parse().expect("ip") };
    let uuid = |s: &str| uuid::Uuid::parse_str(s).expect("uuid");
    vec![
        (T::Int, V::Int(-5), "-5"),
        (
            T::Bigint,
            V::Bigint(9_007_199_254_740_993),
            "9007199254740993",
        ),
        (T::Counter, V::Counter(3), "3"),
        (T::Smallint, V::Smallint(300), "300"),
        (T::Tinyint, V::Tinyint(-1), "-1"),
        (
            T::Varint,
            V::Varint(vec![0x01, 0, 0, 0, 0, 0, 0, 0, 0]),
            "18446744073709551616",
        ),
        (
            T::Decimal,
            V::Decimal {
                unscaled: vec![0x30, 0x39],
                scale: 2,
            },
            "123.45",
        ),
        (T::Float, V::Float(1.5), "1.5"),
        (T::Double, V::Double(1e10), "1.0E10"),
        (T::Double, V::Double(0.1), "0.1"),
        (T::Boolean, V::Boolean(true), "true"),
        (
            T::Text,
            V::Text("a\"b\\c\n\u{1}é".into()),
            "\"a\\\"b\\\\c\\n\\u0001é\"",
        ),
        (T::Ascii, V::Ascii("abc".into()), "\"abc\""),
        (
            T::Blob,
            V::Blob(Bytes::from_static(&[0xca, 0xfe])),
            "\"0xcafe\"",
        ),
        (
            T::Uuid,
            V::Uuid(uuid("550e8400-e29b-41d4-a716-446655440000")),
            "\"550e8400-e29b-41d4-a716-446655440000\"",
        ),
        (
            T::Timeuuid,
            V::Timeuuid(uuid("d2177dd0-eaa2-11de-a572-001b779c76e3")),
            "\"d2177dd0-eaa2-11de-a572-001b779c76e3\"",
        ),
        (T::Inet, V::Inet(ip("10.0.0.1")), "\"10.0.0.1\""),
        (T::Inet, V::Inet(ip("::1")), "\"0:0:0:0:0:0:0:1\""),
        (
            T::Timestamp,
            V::Timestamp(1_704_103_200_123),
            "\"2024-01-01 10:00:00.123Z\"",
        ),
        (T::Date, V::Date((1 << 31) + 19_723), "\"2024-01-01\""),
        (
            T::Time,
            V::Time(36_000_000_000_001),
            "\"10:00:00.000000001\"",
        ),
        (
            T::Duration,
            V::Duration {
                months: 14,
                days: 1,
                nanos: 5_400_000_000_000,
            },
            "\"1y2mo1d1h30m\"",
        ),
        (list(T::Int), V::List(vec![V::Int(2), V::Int(1)]), "[2, 1]"),
        (
            set(T::Text),
            V::Set(vec![V::Text("a".into()), V::Text("b".into())]),
            "[\"a\", \"b\"]",
        ),
        (
            map(T::Int, T::Text),
            V::Map(vec![(V::Int(1), V::Text("x".into()))]),
            "{\"1\": \"x\"}",
        ),
        (
            map(T::Text, T::Boolean),
            V::Map(vec![(V::Text("k".into()), V::Boolean(false))]),
            "{\"k\": false}",
        ),
        (
            map(frozen(list(T::Int)), T::Int),
            V::Map(vec![(V::List(vec![V::Int(1), V::Int(2)]), V::Int(3))]),
            "{\"[1, 2]\": 3}",
        ),
        (
            CqlType::Tuple(vec![T::Int, T::Text, T::Int]),
            V::Tuple(vec![Some(V::Int(1)), Some(V::Text("a".into())), None]),
            "[1, \"a\", null]",
        ),
        (
            CqlType::Udt(address_type()),
            V::Udt(vec![
                ("street".into(), Some(V::Text("x".into()))),
                ("zip".into(), None),
                ("Tags".into(), Some(V::Set(vec![V::Text("t".into())]))),
            ]),
            "{\"street\": \"x\", \"zip\": null, \"\\\"Tags\\\"\": [\"t\"]}",
        ),
        (
            CqlType::Vector(Box::new(T::Float), 2),
            V::Vector(vec![V::Float(1.0), V::Float(-2.5)]),
            "[1.0, -2.5]",
        ),
    ]
}

#[test]
fn rendering_of_every_type() {
    for (ty, v, expected) in samples() {
        assert_eq!(render(&ty, &v), expected, "{ty}");
    }
    assert_eq!(to_json(&CqlType::Int, None).ok(), Some("null".into()));
    assert_eq!(
        render(&CqlType::Double, &CqlValue::Double(f64::NAN)),
        "null"
    );
    assert_eq!(
        render(&CqlType::Float, &CqlValue::Float(f32::INFINITY)),
        "null"
    );
    // The empty value of a fixed-size type.
    assert_eq!(to_json(&CqlType::Int, Some(&[])).ok(), Some("\"\"".into()));
}

#[test]
fn every_type_round_trips() {
    for (ty, v, text) in samples() {
        assert_eq!(parse(&ty, text), Ok(Some(v.to_bytes())), "{ty} from {text}");
    }
}

#[test]
fn accepted_alternative_forms() {
    use CqlType as T;
    let cases: Vec<(CqlType, &str, CqlValue)> = vec![
        (T::Int, "\"12\"", CqlValue::Int(12)),
        (T::Bigint, "\"-3\"", CqlValue::Bigint(-3)),
        (T::Bigint, "7", CqlValue::Bigint(7)),
        (T::Smallint, "\"5\"", CqlValue::Smallint(5)),
        (T::Varint, "\"42\"", CqlValue::Varint(vec![42])),
        (
            T::Decimal,
            "1.5",
            CqlValue::Decimal {
                unscaled: vec![15],
                scale: 1,
            },
        ),
        (
            T::Decimal,
            "\"1.50\"",
            CqlValue::Decimal {
                unscaled: vec![0, 150],
                scale: 2,
            },
        ),
        (
            T::Decimal,
            "7",
            CqlValue::Decimal {
                unscaled: vec![7],
                scale: 0,
            },
        ),
        (T::Float, "\"NaN\"", CqlValue::Float(f32::NAN)),
        (T::Double, "3", CqlValue::Double(3.0)),
        (T::Boolean, "\"TRUE\"", CqlValue::Boolean(true)),
        (
            T::Timestamp,
            "1704103200000",
            CqlValue::Timestamp(1_704_103_200_000),
        ),
        (
            T::Timestamp,
            "\"2024-01-01T10:00:00Z\"",
            CqlValue::Timestamp(1_704_103_200_000),
        ),
        (
            list(T::Int),
            "\"[1, 2]\"",
            CqlValue::List(vec![CqlValue::Int(1), CqlValue::Int(2)]),
        ),
        (
            set(T::Int),
            "[3, 1, 3]",
            CqlValue::Set(vec![CqlValue::Int(1), CqlValue::Int(3)]),
        ),
        (
            map(T::Int, T::Int),
            "{\"2\": 1, \"1\": 2}",
            CqlValue::Map(vec![
                (CqlValue::Int(1), CqlValue::Int(2)),
                (CqlValue::Int(2), CqlValue::Int(1)),
            ]),
        ),
        (
            CqlType::Udt(address_type()),
            "{\"ZIP\": 5, \"\\\"Tags\\\"\": []}",
            CqlValue::Udt(vec![
                ("street".into(), None),
                ("zip".into(), Some(CqlValue::Int(5))),
                ("Tags".into(), Some(CqlValue::Set(vec![]))),
            ]),
        ),
    ];
    for (ty, text, expected) in cases {
        let got = parse(&ty, text);
        if let CqlValue::Float(f) = expected {
            assert!(f.is_nan());
            assert_eq!(
                got,
                Ok(Some(Bytes::copy_from_slice(&f32::NAN.to_be_bytes())))
            );
            continue;
        }
        assert_eq!(got, Ok(Some(expected.to_bytes())), "{ty} from {text}");
    }
    assert_eq!(parse(&CqlType::Int, "null"), Ok(None));
    assert_eq!(parse(&CqlType::Int, "\"\""), Ok(Some(Bytes::new())));
}

#[test]
fn rejected_forms_with_cassandra_messages() {
    use CqlType as T;
    let cases: Vec<(CqlType, &str, &str)> = vec![
        (T::Int, "2147483648", "Expected an int value, but got a Long: 2147483648"),
        (T::Int, "123.456", "Expected an int value, but got a Double: 123.456"),
        (T::Int, "\"xyzz\"", "Unable to make int from 'xyzz'"),
        (T::Int, "true", "Expected an int value, but got a Boolean: true"),
        (T::Bigint, "1.5", "Expected a bigint value, but got a Double: 1.5"),
        (T::Bigint, "18446744073709551616", "Expected a bigint value, but got a BigInteger: 18446744073709551616"),
        (T::Smallint, "32768", "Unable to make short from '32768'"),
        (T::Smallint, "true", "Expected a short value, but got a Boolean: true"),
        (T::Tinyint, "123.456", "Unable to make byte from '123.456'"),
        (T::Varint, "1.5", "Value '1.5' is not a valid representation of a varint value"),
        (T::Decimal, "\"x\"", "Value 'x' is not a valid representation of a decimal value"),
        (T::Float, "[]", "Expected a float value, but got a ArrayList: []"),
        (T::Double, "{\"a\": 1}", "Expected a double value, but got a LinkedHashMap: {a=1}"),
        (T::Boolean, "1", "Expected a boolean value, but got a Integer: 1"),
        (T::Text, "1", "Expected a UTF-8 string, but got a Integer: 1"),
        (T::Ascii, "1", "Expected an ascii string, but got a Integer: 1"),
        (
            T::Blob,
            "\"cafe\"",
            "Value 'cafe' is not a valid blob representation: String representation of blob is missing 0x prefix: cafe",
        ),
        (T::Blob, "\"0xcaf\"", "cannot parse 'caf' as hex bytes"),
        (T::Blob, "1", "Expected a string representation of a blob, but got a Integer: 1"),
        (T::Uuid, "1", "Expected a string representation of a uuid, but got a Integer: 1"),
        (T::Timeuuid, "1", "Expected a string representation of a timeuuid, but got a Integer: 1"),
        (T::Inet, "1", "Expected a string representation of an inet value, but got a Integer: 1"),
        (T::Date, "1", "Expected a string representation of a date value, but got a Integer: 1"),
        (T::Time, "1", "Expected a string representation of a time value, but got a Integer: 1"),
        (T::Duration, "1", "Expected a string representation of a duration, but got a Integer: 1"),
        (T::Timestamp, "1.5", "Expected a long or a datestring representation of a timestamp value, but got a Double: 1.5"),
        (T::Timestamp, "1000", "Expected a long or a datestring representation of a timestamp value, but got a Integer: 1000"),
        (
            CqlType::Tuple(vec![T::Int, T::Text]),
            "[1]",
            "Tuple is missing items (expected 2): [1]",
        ),
        (
            CqlType::Tuple(vec![T::Int, T::Text, T::Int]),
            "[1, \"a\"]",
            "Tuple is missing items (expected 3): [1, a]",
        ),
        (list(T::Int), "1", "Expected a list, but got a Integer: 1"),
        (list(T::Int), "[1, null]", "Invalid null element in list"),
        (set(T::Int), "{}", "Expected a list (representing a set), but got a LinkedHashMap: {}"),
        (map(T::Int, T::Int), "[1]", "Expected a map, but got a ArrayList: [1]"),
        (map(T::Int, T::Int), "{\"1\": null}", "Invalid null value in map"),
        (map(T::Int, T::Int), "{\"a\": 1}", "Unable to make int from 'a'"),
        (CqlType::Tuple(vec![T::Int]), "[1, 2]", "Tuple contains extra items (expected 1, got 2)"),
        (CqlType::Tuple(vec![T::Int]), "1", "Expected a list representation of a tuple, but got a Integer: 1"),
        (CqlType::Udt(address_type()), "{\"nope\": 1}", "Unknown field 'nope' in value of user defined type address"),
        (CqlType::Udt(address_type()), "[]", "Expected a map, but got a ArrayList: []"),
    ];
    for (ty, text, expected) in cases {
        assert_eq!(
            parse(&ty, text),
            Err(expected.to_string()),
            "{ty} from {text}"
        );
    }
}

#[test]
fn insert_json_rows() {
    let row = parse_json_row("{\"K\": 1, \"\\\"Name\\\"\": \"x\", \"v\": null}");
    let mut row = row.expect("row");
    row.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        row,
        vec![
            ("Name".to_string(), serde_json::json!("x")),
            ("k".to_string(), serde_json::json!(1)),
            ("v".to_string(), Json::Null),
        ]
    );
    assert_eq!(
        from_json_column("k", &CqlType::Int, &serde_json::json!("notanint"))
            .map_err(|e| e.to_string()),
        Err("Error decoding JSON value for k: Unable to make int from 'notanint'".into())
    );
    assert_eq!(
        parse_json_row("null").map_err(|e| e.to_string()),
        Err("Got null for INSERT JSON values".into())
    );
    let err = parse_json_row("12.34").map_err(|e| e.to_string());
    assert!(err.is_err_and(|e| e.starts_with("Could not decode JSON string as a map")));
    let err = parse_json_row("{").map_err(|e| e.to_string());
    assert!(err.is_err_and(|e| e.starts_with("Could not decode JSON string as a map")));
}

#[test]
fn select_json_rows() {
    let row = row_to_json(&[
        ("k".into(), CqlType::Int, Some(CqlValue::Int(1).to_bytes())),
        (
            "Name".into(),
            CqlType::Text,
            Some(CqlValue::Text("x".into()).to_bytes()),
        ),
        ("v".into(), list(CqlType::Int), None),
    ]);
    assert_eq!(
        row.ok(),
        Some("{\"k\": 1, \"\\\"Name\\\"\": \"x\", \"v\": null}".into())
    );
    assert_eq!(json::quote("a\tb"), "\"a\\tb\"");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn numbers_and_text_round_trip(i in any::<i64>(), d in any::<f64>(), s in ".{0,16}") {
        let bi = CqlValue::Bigint(i).to_bytes();
        prop_assert_eq!(parse(&CqlType::Bigint, &render(&CqlType::Bigint, &CqlValue::Bigint(i))), Ok(Some(bi)));
        if d.is_finite() {
            let text = render(&CqlType::Double, &CqlValue::Double(d));
            let back = parse(&CqlType::Double, &text);
            prop_assert_eq!(back, Ok(Some(CqlValue::Double(d).to_bytes())), "{}", text);
        }
        let t = CqlValue::Text(s.clone()).to_bytes();
        prop_assert_eq!(parse(&CqlType::Text, &render(&CqlType::Text, &CqlValue::Text(s))), Ok(Some(t)));
    }
}
