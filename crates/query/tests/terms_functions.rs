//! Function calls, casts and arithmetic inside terms: overload resolution against the
//! receiver, literal typing, Cassandra's result types, and Cassandra's messages.

mod terms_support;

use bytes::Bytes;
use meridian_cql_parser::ast;
use meridian_query::context::{BoundValues, ExecOptions};
use meridian_query::error::QueryError;
use meridian_query::terms::{self, TermContext, TermValue};
use meridian_types::cql_type::CqlType;
use meridian_types::value::CqlValue;
use terms_support::*;

/// Evaluates a hand-built term (for forms the parser does not produce in `VALUES`).
fn eval_ast(t: &ast::Term, ty: CqlType) -> Result<TermValue, QueryError> {
    let schema = schema();
    let bound = BoundValues::none();
    let options = ExecOptions::new();
    let ctx = TermContext {
        schema: &schema,
        keyspace: "ks",
        values: &bound,
        options: &options,
    };
    terms::evaluate(t, &receiver(ty), &ctx)
}

#[test]
fn time_functions_in_terms() {
    let now = value("now()", &CqlType::Timeuuid);
    assert_eq!(now.len(), 16);
    assert_eq!(now[6] >> 4, 1, "version 1");
    assert_eq!(
        value("currentTimestamp()", &CqlType::Timestamp),
        bytes(CqlValue::Timestamp(1_704_103_200_000))
    );
    assert_eq!(
        value("current_date()", &CqlType::Date),
        bytes(CqlValue::Date((1 << 31) + 19_723))
    );
    // The string literal can only be a date, so toTimestamp(date) is chosen.
    assert_eq!(
        value("toTimestamp('2024-01-02')", &CqlType::Timestamp),
        bytes(CqlValue::Timestamp(19_724 * 86_400_000))
    );
    assert_eq!(
        value("toUnixTimestamp(toTimestamp(now()))", &CqlType::Bigint),
        bytes(CqlValue::Bigint(1_704_103_200_000))
    );
    assert_eq!(
        value(
            "dateOf(minTimeuuid('2024-01-01 10:00:00+0000'))",
            &CqlType::Timestamp
        ),
        bytes(CqlValue::Timestamp(1_704_103_200_000))
    );
    // A timestamp is a valid bigint.
    assert_eq!(
        value("currentTimestamp()", &CqlType::Bigint),
        bytes(CqlValue::Timestamp(1_704_103_200_000))
    );
    assert_eq!(value("uuid()", &CqlType::Uuid).len(), 16);
}

#[test]
fn blob_conversions_in_terms() {
    assert_eq!(
        value("blobAsInt(0x00000001)", &CqlType::Int),
        bytes(CqlValue::Int(1))
    );
    assert_eq!(
        value("intAsBlob(7)", &CqlType::Blob),
        Bytes::copy_from_slice(&7i32.to_be_bytes())
    );
    assert_eq!(
        value("varcharAsBlob('ab')", &CqlType::Blob),
        Bytes::from_static(b"ab")
    );
    assert_eq!(
        error("blobAsInt(0x01)", &CqlType::Int),
        "In call to function system.blobasint, value 0x01 is not a valid binary representation for type int"
    );
    assert_eq!(
        error("blobAsInt('a')", &CqlType::Int),
        "Type error: 'a' cannot be passed as argument 0 of function system.blobasint of type blob"
    );
}

#[test]
fn function_errors() {
    assert_eq!(
        error("foo(1)", &CqlType::Int),
        "Unknown function foo called"
    );
    assert_eq!(
        error("ks.foo(1)", &CqlType::Int),
        "Unknown function ks.foo called"
    );
    assert_eq!(
        error("now()", &CqlType::Int),
        "Type error: cannot assign result of function system.now (type timeuuid) to v (type int)"
    );
    assert_eq!(
        error("now(1)", &CqlType::Timeuuid),
        "Invalid number of arguments in call to function system.now: 0 required but 1 provided"
    );
    let err = error("toUnixTimestamp(1)", &CqlType::Bigint);
    assert!(
        err.starts_with("Ambiguous call to function tounixtimestamp"),
        "{err}"
    );
    let err = error("toUnixTimestamp(true)", &CqlType::Bigint);
    assert!(
        err.starts_with("Invalid call to function tounixtimestamp, none of its type signatures match (known type signatures: system.tounixtimestamp : (timeuuid) -> bigint"),
        "{err}"
    );
    assert_eq!(
        error("toDate(null)", &CqlType::Date),
        "Ambiguous call to function todate (can be matched by following signatures: system.todate : (timeuuid) -> date, system.todate : (timestamp) -> date): use type casts to disambiguate"
    );
    // NULL arguments give NULL once the overload is known.
    assert_eq!(
        eval("toDate((timestamp) null)", &CqlType::Date),
        Ok(TermValue::Null)
    );
}

#[test]
fn arithmetic_on_literals() {
    assert_eq!(value("1 + 2", &CqlType::Int), bytes(CqlValue::Int(3)));
    assert_eq!(
        value("2147483647 + 1", &CqlType::Int),
        bytes(CqlValue::Int(i32::MIN))
    );
    // With a bigint receiver the bigint overload is chosen.
    assert_eq!(value("1 + 2", &CqlType::Bigint), bytes(CqlValue::Bigint(3)));
    assert_eq!(value("7 % 3 * 2", &CqlType::Int), bytes(CqlValue::Int(2)));
    assert_eq!(value("7 / 2", &CqlType::Int), bytes(CqlValue::Int(3)));
    assert_eq!(
        value("1.5 * 2", &CqlType::Double),
        bytes(CqlValue::Double(3.0))
    );
    assert_eq!(
        value("(decimal) 1 / 3", &CqlType::Decimal),
        value("0.33333333333333333333333333333333", &CqlType::Decimal)
    );
    assert_eq!(
        value("(tinyint) 100 + (tinyint) 100", &CqlType::Tinyint),
        bytes(CqlValue::Tinyint(-56))
    );
    assert_eq!(
        error("1 / 0", &CqlType::Int),
        "the operation 'int / int' failed: / by zero"
    );
    assert_eq!(
        error("true + 1", &CqlType::Int),
        "the '+' operation is not supported between true and 1"
    );
    // Overloads whose result does not fit the receiver are not candidates.
    assert_eq!(
        error("(bigint) 1 + 1", &CqlType::Int),
        "the '+' operation is not supported between (bigint)1 and 1"
    );
    assert_eq!(
        value("'a' + 'b'", &CqlType::Text),
        Bytes::from_static(b"ab")
    );
}

#[test]
fn temporal_arithmetic() {
    assert_eq!(
        value("'2024-01-31' + 1mo", &CqlType::Date),
        bytes(CqlValue::Date((1 << 31) + 19_723 + 59))
    );
    assert_eq!(
        value("'2024-01-01 10:00:00+0000' - 1h", &CqlType::Timestamp),
        bytes(CqlValue::Timestamp(1_704_103_200_000 - 3_600_000))
    );
    assert_eq!(
        value("currentDate() - 1d", &CqlType::Date),
        bytes(CqlValue::Date((1 << 31) + 19_722))
    );
    assert_eq!(
        error("'2024-01-01' + 1h", &CqlType::Date),
        "the operation 'date + duration' failed: The duration must have a day precision. Was: 1h"
    );
}

#[test]
fn negation_and_casts() {
    let negate = ast::Term::Negate(Box::new(term("5")));
    assert_eq!(
        eval_ast(&negate, CqlType::Int),
        Ok(TermValue::Value(bytes(CqlValue::Int(-5))))
    );
    assert_eq!(
        eval_ast(&negate, CqlType::Decimal),
        Ok(TermValue::Value(bytes(CqlValue::Decimal {
            unscaled: vec![0xfb],
            scale: 0
        })))
    );
    let cast = ast::Term::Cast {
        term: Box::new(term("(double) 3.9")),
        ty: ast::NativeType::Int,
    };
    assert_eq!(
        eval_ast(&cast, CqlType::Int),
        Ok(TermValue::Value(bytes(CqlValue::Int(3))))
    );
    let cast = ast::Term::Cast {
        term: Box::new(term("(double) 1e10")),
        ty: ast::NativeType::Text,
    };
    assert_eq!(
        eval_ast(&cast, CqlType::Text),
        Ok(TermValue::Value(Bytes::from_static(b"1.0E10")))
    );
    let bad = ast::Term::Cast {
        term: Box::new(term("true")),
        ty: ast::NativeType::Inet,
    };
    assert_eq!(
        eval_ast(&bad, CqlType::Inet).map_err(|e| e.to_string()),
        Err("true cannot be cast to inet".into())
    );
}

#[test]
fn json_functions_in_terms() {
    assert_eq!(
        value("fromJson('5')", &CqlType::Int),
        bytes(CqlValue::Int(5))
    );
    assert_eq!(
        value(
            "fromJson('{\"b\": 2, \"a\": 1}')",
            &map(CqlType::Text, CqlType::Int)
        ),
        bytes(CqlValue::Map(vec![
            (CqlValue::Text("a".into()), CqlValue::Int(1)),
            (CqlValue::Text("b".into()), CqlValue::Int(2)),
        ]))
    );
    assert_eq!(eval("fromJson('null')", &CqlType::Int), Ok(TermValue::Null));
    assert_eq!(
        error("fromJson('2147483648')", &CqlType::Int),
        "org.apache.cassandra.serializers.MarshalException: Expected an int value, but got a Long: 2147483648"
    );
    assert_eq!(value("toJson(1)", &CqlType::Text), Bytes::from_static(b"1"));
    assert_eq!(
        value("toJson('a')", &CqlType::Text),
        Bytes::from_static(b"\"a\"")
    );
    assert_eq!(
        error("toJson(?)", &CqlType::Text),
        "Cannot infer type of argument ? in call to function system.tojson: use type casts to disambiguate"
    );
}
