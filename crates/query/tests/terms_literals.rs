//! Literals of every CQL type evaluated for receivers of every type: the serialized values
//! Cassandra produces, and Cassandra's messages for constants that do not fit.

mod terms_support;

use std::net::IpAddr;

use bytes::Bytes;
use meridian_query::terms::TermValue;
use meridian_types::cql_type::CqlType;
use meridian_types::value::CqlValue;
use terms_support::*;

fn uuid(s: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(s).expect("uuid")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

#[test]
fn valid_literals_of_every_native_type() {
    use CqlType as T;
    use CqlValue as V;
    let midnight = 19_723i64 * 86_400_000;
    let cases: Vec<(&str, CqlType, Bytes)> = vec![
        ("42", T::Int, bytes(V::Int(42))),
        ("-7", T::Int, bytes(V::Int(-7))),
        ("9223372036854775807", T::Bigint, bytes(V::Bigint(i64::MAX))),
        ("5", T::Counter, bytes(V::Bigint(5))),
        ("-32768", T::Smallint, bytes(V::Smallint(i16::MIN))),
        ("127", T::Tinyint, bytes(V::Tinyint(127))),
        ("-129", T::Varint, bytes(V::Varint(vec![0xff, 0x7f]))),
        (
            "123456789012345678901234567890",
            T::Varint,
            bytes(V::Varint(vec![
                0x01, 0x8e, 0xe9, 0x0f, 0xf6, 0xc3, 0x73, 0xe0, 0xee, 0x4e, 0x3f, 0x0a, 0xd2,
            ])),
        ),
        (
            "1.50",
            T::Decimal,
            bytes(V::Decimal {
                unscaled: vec![0, 150],
                scale: 2,
            }),
        ),
        (
            "3",
            T::Decimal,
            bytes(V::Decimal {
                unscaled: vec![3],
                scale: 0,
            }),
        ),
        (
            "-1e3",
            T::Decimal,
            bytes(V::Decimal {
                unscaled: vec![0xff],
                scale: -3,
            }),
        ),
        ("1.5", T::Float, bytes(V::Float(1.5))),
        ("3", T::Float, bytes(V::Float(3.0))),
        ("-Infinity", T::Float, bytes(V::Float(f32::NEG_INFINITY))),
        ("1e10", T::Double, bytes(V::Double(1e10))),
        ("Infinity", T::Double, bytes(V::Double(f64::INFINITY))),
        ("7", T::Double, bytes(V::Double(7.0))),
        ("true", T::Boolean, bytes(V::Boolean(true))),
        ("false", T::Boolean, bytes(V::Boolean(false))),
        ("'héllo'", T::Text, bytes(V::Text("héllo".into()))),
        ("'it''s'", T::Ascii, bytes(V::Ascii("it's".into()))),
        ("$$a'b$$", T::Text, bytes(V::Text("a'b".into()))),
        ("''", T::Text, Bytes::new()),
        (
            "0xcafe",
            T::Blob,
            bytes(V::Blob(Bytes::from_static(&[0xca, 0xfe]))),
        ),
        (
            "550e8400-e29b-41d4-a716-446655440000",
            T::Uuid,
            bytes(V::Uuid(uuid("550e8400-e29b-41d4-a716-446655440000"))),
        ),
        (
            "d2177dd0-eaa2-11de-a572-001b779c76e3",
            T::Timeuuid,
            bytes(V::Timeuuid(uuid("d2177dd0-eaa2-11de-a572-001b779c76e3"))),
        ),
        (
            "d2177dd0-eaa2-11de-a572-001b779c76e3",
            T::Uuid,
            bytes(V::Uuid(uuid("d2177dd0-eaa2-11de-a572-001b779c76e3"))),
        ),
        ("'127.0.0.1'", T::Inet, bytes(V::Inet(ip("127.0.0.1")))),
        ("'::1'", T::Inet, bytes(V::Inet(ip("::1")))),
        (
            "'2024-01-01 10:00:00+0000'",
            T::Timestamp,
            bytes(V::Timestamp(midnight + 36_000_000)),
        ),
        (
            "'2024-01-01T10:00:00.5Z'",
            T::Timestamp,
            bytes(V::Timestamp(midnight + 36_000_500)),
        ),
        ("'2024-01-01'", T::Timestamp, bytes(V::Timestamp(midnight))),
        (
            "1704103200000",
            T::Timestamp,
            bytes(V::Timestamp(1_704_103_200_000)),
        ),
        ("'2024-01-01'", T::Date, bytes(V::Date((1 << 31) + 19_723))),
        ("2147483648", T::Date, bytes(V::Date(1 << 31))),
        (
            "'10:00:00.123456789'",
            T::Time,
            bytes(V::Time(36_000_123_456_789)),
        ),
        ("1000", T::Time, bytes(V::Time(1000))),
        (
            "1h30m",
            T::Duration,
            bytes(V::Duration {
                months: 0,
                days: 0,
                nanos: 5_400_000_000_000,
            }),
        ),
        (
            "P1Y2D",
            T::Duration,
            bytes(V::Duration {
                months: 12,
                days: 2,
                nanos: 0,
            }),
        ),
        (
            "-2d",
            T::Duration,
            bytes(V::Duration {
                months: 0,
                days: -2,
                nanos: 0,
            }),
        ),
    ];
    for (text, ty, expected) in cases {
        assert_eq!(
            eval(text, &ty),
            Ok(TermValue::Value(expected)),
            "{text} for {ty}"
        );
    }
}

#[test]
fn frozen_and_reversed_receivers_read_literals_by_their_base_type() {
    assert_eq!(
        value("[1, 2]", &frozen(list(CqlType::Int))),
        value("[1, 2]", &list(CqlType::Int))
    );
}

#[test]
fn nulls() {
    assert_eq!(eval("null", &CqlType::Int), Ok(TermValue::Null));
    assert_eq!(eval("NULL", &list(CqlType::Int)), Ok(TermValue::Null));
    assert_eq!(
        error("null", &CqlType::Counter),
        "Invalid null value for counter increment/decrement"
    );
}

#[test]
fn constants_that_do_not_fit_their_receiver() {
    use CqlType as T;
    let cases: Vec<(&str, CqlType, &str)> = vec![
        (
            "'abc'",
            T::Int,
            "Invalid STRING constant (abc) for \"v\" of type int",
        ),
        (
            "1",
            T::Text,
            "Invalid INTEGER constant (1) for \"v\" of type text",
        ),
        (
            "1.5",
            T::Int,
            "Invalid FLOAT constant (1.5) for \"v\" of type int",
        ),
        (
            "1",
            T::Boolean,
            "Invalid INTEGER constant (1) for \"v\" of type boolean",
        ),
        (
            "'abc'",
            T::Blob,
            "Invalid STRING constant (abc) for \"v\" of type blob",
        ),
        (
            "0x01",
            T::Text,
            "Invalid HEX constant (0x01) for \"v\" of type text",
        ),
        (
            "true",
            T::Int,
            "Invalid BOOLEAN constant (true) for \"v\" of type int",
        ),
        (
            "'1h'",
            T::Duration,
            "Invalid STRING constant (1h) for \"v\" of type duration",
        ),
        (
            "1h",
            T::Timestamp,
            "Invalid DURATION constant (1h) for \"v\" of type timestamp",
        ),
        (
            "'550e8400-e29b-41d4-a716-446655440000'",
            T::Uuid,
            "Invalid STRING constant (550e8400-e29b-41d4-a716-446655440000) for \"v\" of type uuid",
        ),
        (
            "550e8400-e29b-41d4-a716-446655440000",
            T::Text,
            "Invalid UUID constant (550e8400-e29b-41d4-a716-446655440000) for \"v\" of type text",
        ),
        (
            "1",
            list(T::Int),
            "Invalid INTEGER constant (1) for \"v\" of type list<int>",
        ),
        ("2147483648", T::Int, "Unable to make int from '2147483648'"),
        ("32768", T::Smallint, "Unable to make short from '32768'"),
        ("-129", T::Tinyint, "Unable to make byte from '-129'"),
        (
            "9223372036854775808",
            T::Bigint,
            "Unable to make long from '9223372036854775808'",
        ),
        (
            "550e8400-e29b-41d4-a716-446655440000",
            T::Timeuuid,
            "TimeUUID supports only version 1 UUIDs",
        ),
        (
            "'garbage'",
            T::Timestamp,
            "Unable to parse a date/time from 'garbage'",
        ),
        (
            "'2024-13-01'",
            T::Date,
            "Unable to coerce '2024-13-01' to a formatted date (long)",
        ),
        (
            "4294967296",
            T::Date,
            "Unable to make unsigned int (for date) from: '4294967296'",
        ),
        (
            "'25:00:00'",
            T::Time,
            "(TimeType) Unable to coerce '25:00:00' to a formatted time (long)",
        ),
        (
            "86400000000000",
            T::Time,
            "Unable to make long (for time) from: '86400000000000'",
        ),
        (
            "'host.invalid'",
            T::Inet,
            "Unable to make inet address from 'host.invalid'",
        ),
        ("5", T::Duration, "Unable to convert '5' to a duration"),
        (
            "1m1h",
            T::Duration,
            "Invalid duration. The hours are specified after the minutes",
        ),
    ];
    for (text, ty, expected) in cases {
        assert_eq!(error(text, &ty), expected, "{text} for {ty}");
    }
    assert!(error("'é'", &T::Ascii).starts_with("Invalid ASCII character in string literal"));
}

#[test]
fn preferred_types_of_constants() {
    use meridian_cql_parser::ast::Constant;
    use meridian_query::terms::constant_preferred_type as preferred;
    let c = |t: &str| match term(t) {
        meridian_cql_parser::ast::Term::Constant(c) => c,
        other => panic!("{other:?}"),
    };
    assert_eq!(preferred(&c("1")), Some(CqlType::Int));
    assert_eq!(preferred(&c("3000000000")), Some(CqlType::Bigint));
    assert_eq!(preferred(&c("30000000000000000000")), Some(CqlType::Varint));
    assert_eq!(preferred(&c("1.5")), Some(CqlType::Double));
    assert_eq!(
        preferred(&c("0.1000000000000000000001")),
        Some(CqlType::Decimal)
    );
    assert_eq!(preferred(&c("NaN")), Some(CqlType::Double));
    assert_eq!(preferred(&c("'abc'")), Some(CqlType::Ascii));
    assert_eq!(preferred(&c("'é'")), Some(CqlType::Text));
    assert_eq!(
        preferred(&Constant::Uuid(
            "d2177dd0-eaa2-11de-a572-001b779c76e3".into()
        )),
        Some(CqlType::Timeuuid)
    );
    assert_eq!(
        preferred(&Constant::Uuid(
            "550e8400-e29b-41d4-a716-446655440000".into()
        )),
        Some(CqlType::Uuid)
    );
}

mod robustness {
    use super::*;
    use meridian_cql_parser::ast::{Constant, Term};
    use meridian_cql_protocol::Value;
    use meridian_query::context::{BoundValues, ExecOptions};
    use meridian_query::terms::{self, TermContext};
    use meridian_schema::Schema;
    use proptest::prelude::*;

    const NATIVE: [CqlType; 20] = [
        CqlType::Ascii,
        CqlType::Bigint,
        CqlType::Blob,
        CqlType::Boolean,
        CqlType::Counter,
        CqlType::Date,
        CqlType::Decimal,
        CqlType::Double,
        CqlType::Duration,
        CqlType::Float,
        CqlType::Inet,
        CqlType::Int,
        CqlType::Smallint,
        CqlType::Text,
        CqlType::Time,
        CqlType::Timestamp,
        CqlType::Timeuuid,
        CqlType::Tinyint,
        CqlType::Uuid,
        CqlType::Varint,
    ];

    fn constant() -> impl Strategy<Value = Constant> {
        prop_oneof![
            ".{0,24}".prop_map(Constant::String),
            "-?[0-9]{1,40}".prop_map(Constant::Integer),
            "-?[0-9]{1,20}(\\.[0-9]{0,20})?([eE]-?[0-9]{1,4})?".prop_map(Constant::Float),
            "[0-9a-zA-Zµ]{1,12}".prop_map(Constant::Duration),
            "0x[0-9a-f]{0,9}".prop_map(Constant::Hex),
            "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}".prop_map(Constant::Uuid),
            any::<bool>().prop_map(Constant::Boolean),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any constant for any native receiver either fails with a message or gives a value
        /// that is valid for the receiver's type.
        #[test]
        fn constants_never_panic_and_produce_valid_values(c in constant(), t in 0usize..20) {
            let ty = NATIVE[t].clone();
            let schema = Schema::new();
            let bound = BoundValues::none();
            let options = ExecOptions::new();
            let ctx = TermContext { schema: &schema, keyspace: "ks", values: &bound, options: &options };
            let r = receiver(ty.clone());
            if let Ok(TermValue::Value(b)) = terms::evaluate(&Term::Constant(c), &r, &ctx) {
                prop_assert!(meridian_types::cql_type::validate(&ty, &b).is_ok());
            }
        }

        /// Arbitrary bound bytes for collection receivers are validated, never trusted.
        #[test]
        fn bound_garbage_is_rejected_or_valid(bytes in proptest::collection::vec(any::<u8>(), 0..40), t in 0usize..20) {
            let ty = set(frozen(map(NATIVE[t].clone(), list(CqlType::Int))));
            let schema = Schema::new();
            let bound = BoundValues { values: vec![Value::Bytes(Bytes::from(bytes))] };
            let options = ExecOptions::new();
            let ctx = TermContext { schema: &schema, keyspace: "ks", values: &bound, options: &options };
            let marker = term("?");
            if let Ok(TermValue::Value(b)) = terms::evaluate(&marker, &receiver(ty.clone()), &ctx) {
                prop_assert!(meridian_types::cql_type::validate(&ty, &b).is_ok());
            }
        }
    }
}

/// Regression (found by `constants_never_panic_and_produce_valid_values` in CI): the empty
/// string for a type whose values may not be empty (date) was accepted as an empty value that
/// the type's validator then rejects.
#[test]
fn empty_string_for_a_date_is_refused_not_stored_empty() {
    use meridian_cql_parser::ast::{Constant, Term};
    use meridian_query::terms::{self, Receiver, TermContext, TermValue};
    use meridian_query::{BoundValues, ExecOptions};
    use meridian_schema::Schema;
    use meridian_types::cql_type::CqlType;
    let schema = Schema::new();
    let bound = BoundValues::none();
    let options = ExecOptions::new();
    let ctx = TermContext {
        schema: &schema,
        keyspace: "ks",
        values: &bound,
        options: &options,
    };
    let date = Receiver::new("ks", "t", "d", CqlType::Date);
    assert!(terms::evaluate(
        &Term::Constant(Constant::String(String::new())),
        &date,
        &ctx
    )
    .is_err());
    let text = Receiver::new("ks", "t", "s", CqlType::Text);
    assert_eq!(
        terms::evaluate(
            &Term::Constant(Constant::String(String::new())),
            &text,
            &ctx
        )
        .unwrap(),
        TermValue::Value(bytes::Bytes::new())
    );
}
