//! Collection, tuple, UDT and vector literals: Cassandra's canonical serialized form (sets
//! sorted and deduplicated by the element comparator, maps sorted by key with the last
//! duplicate winning), nested values, NULL inside collections, bind markers inside
//! literals, and Cassandra's messages for literals that do not fit their receiver.

mod terms_support;

use bytes::Bytes;
use meridian_cql_protocol::Value;
use meridian_query::terms::TermValue;
use meridian_types::cql_type::CqlType;
use meridian_types::value::CqlValue;
use terms_support::*;

fn ints(values: &[i32]) -> Vec<CqlValue> {
    values.iter().map(|v| CqlValue::Int(*v)).collect()
}

#[test]
fn lists_keep_their_order() {
    assert_eq!(
        value("[3, 1, 2, 1]", &list(CqlType::Int)),
        bytes(CqlValue::List(ints(&[3, 1, 2, 1])))
    );
    assert_eq!(
        value("[]", &list(CqlType::Int)),
        bytes(CqlValue::List(vec![]))
    );
}

#[test]
fn sets_are_sorted_and_deduplicated() {
    assert_eq!(
        value("{3, 1, 2, 1}", &set(CqlType::Int)),
        bytes(CqlValue::Set(ints(&[1, 2, 3])))
    );
    assert_eq!(
        value("{-1, 10, 2}", &set(CqlType::Int)),
        bytes(CqlValue::Set(ints(&[-1, 2, 10])))
    );
    assert_eq!(
        value("{'b', 'a', 'ab'}", &set(CqlType::Text)),
        bytes(CqlValue::Set(vec![
            CqlValue::Text("a".into()),
            CqlValue::Text("ab".into()),
            CqlValue::Text("b".into())
        ]))
    );
    // Equal decimals with different scales are one element (the first is kept).
    assert_eq!(
        value("{1.0, 1.00, 0.5}", &set(CqlType::Decimal)),
        bytes(CqlValue::Set(vec![
            CqlValue::Decimal {
                unscaled: vec![5],
                scale: 1
            },
            CqlValue::Decimal {
                unscaled: vec![10],
                scale: 1
            },
        ]))
    );
    assert_eq!(
        value("{}", &set(CqlType::Int)),
        bytes(CqlValue::Set(vec![]))
    );
}

#[test]
fn maps_are_sorted_by_key_with_the_last_duplicate_winning() {
    let m = map(CqlType::Int, CqlType::Text);
    assert_eq!(
        value("{2: 'b', 1: 'a', 2: 'c'}", &m),
        bytes(CqlValue::Map(vec![
            (CqlValue::Int(1), CqlValue::Text("a".into())),
            (CqlValue::Int(2), CqlValue::Text("c".into())),
        ]))
    );
    // `{}` is an empty map for a map receiver.
    assert_eq!(value("{}", &m), bytes(CqlValue::Map(vec![])));
    assert_eq!(
        value("{}", &frozen(m.clone())),
        bytes(CqlValue::Map(vec![]))
    );
}

#[test]
fn nested_collections_are_canonical_at_every_level() {
    let ty = list(frozen(set(CqlType::Int)));
    assert_eq!(
        value("[{2, 1}, {1}]", &ty),
        bytes(CqlValue::List(vec![
            CqlValue::Set(ints(&[1, 2])),
            CqlValue::Set(ints(&[1])),
        ]))
    );
    let ty = map(frozen(set(CqlType::Int)), CqlType::Int);
    assert_eq!(
        value("{{2}: 1, {1, 3}: 2}", &ty),
        bytes(CqlValue::Map(vec![
            (CqlValue::Set(ints(&[1, 3])), CqlValue::Int(2)),
            (CqlValue::Set(ints(&[2])), CqlValue::Int(1)),
        ]))
    );
}

#[test]
fn collection_literals_that_do_not_fit() {
    let cases: Vec<(&str, CqlType, &str)> = vec![
        ("[1]", set(CqlType::Int), "Unexpected receiver type 'set<int>'; only list and vector are expected"),
        ("[1]", CqlType::Int, "Unexpected receiver type 'int'; only list and vector are expected"),
        ("{1}", list(CqlType::Int), "Invalid set literal for v of type list<int>"),
        ("{1: 2}", set(CqlType::Int), "Invalid map literal for v of type set<int>"),
        ("['a']", list(CqlType::Int), "Invalid list literal for v: value 'a' is not of type int"),
        ("{1, 'a'}", set(CqlType::Int), "Invalid set literal for v: value 'a' is not of type int"),
        ("{'a': 1}", map(CqlType::Int, CqlType::Int), "Invalid map literal for v: key 'a' is not of type int"),
        ("{1: 'a'}", map(CqlType::Int, CqlType::Int), "Invalid map literal for v: value 'a' is not of type int"),
        ("[1, null]", list(CqlType::Int), "null is not supported inside collections"),
        ("{1, null}", set(CqlType::Int), "null is not supported inside collections"),
        ("{1: null}", map(CqlType::Int, CqlType::Int), "null is not supported inside collections"),
        ("[?]", list(CqlType::Int), "Invalid list literal for v: bind variables are not supported inside collection literals"),
        ("{?}", set(CqlType::Int), "Invalid set literal for v: bind variables are not supported inside collection literals"),
        ("{1: ?}", map(CqlType::Int, CqlType::Int), "Invalid map literal for v: bind variables are not supported inside collection literals"),
        ("[2147483648]", list(CqlType::Int), "Unable to make int from '2147483648'"),
    ];
    for (text, ty, expected) in cases {
        assert_eq!(error(text, &ty), expected, "{text} for {ty}");
    }
}

#[test]
fn tuples() {
    let ty = CqlType::Tuple(vec![CqlType::Int, CqlType::Text, CqlType::Int]);
    assert_eq!(
        value("(1, 'a', null)", &ty),
        bytes(CqlValue::Tuple(vec![
            Some(CqlValue::Int(1)),
            Some(CqlValue::Text("a".into())),
            None
        ]))
    );
    // A single term in parentheses is that term when the receiver is not a tuple.
    assert_eq!(value("(7)", &CqlType::Int), bytes(CqlValue::Int(7)));
    let one = CqlType::Tuple(vec![CqlType::Int]);
    assert_eq!(
        value("(7)", &one),
        bytes(CqlValue::Tuple(vec![Some(CqlValue::Int(7))]))
    );
    assert_eq!(
        error("(1, 2)", &one),
        "Invalid tuple literal for v: too many elements. Type frozen<tuple<int>> expects 1 but got 2"
    );
    // Missing trailing components are null, as in Cassandra.
    let pair = CqlType::Tuple(vec![CqlType::Int, CqlType::Text]);
    assert_eq!(
        value("(7)", &pair),
        bytes(CqlValue::Tuple(vec![Some(CqlValue::Int(7))]))
    );
    let two = CqlType::Tuple(vec![CqlType::Int, CqlType::Int]);
    assert_eq!(
        error("('a', 1)", &two),
        "Invalid tuple literal for v: component 0 is not of type int"
    );
    assert_eq!(
        error("(1, 2)", &CqlType::Int),
        "Invalid tuple type literal for v of type int"
    );
    // Sets inside tuples are canonical too.
    let nested = CqlType::Tuple(vec![frozen(set(CqlType::Int))]);
    assert_eq!(
        value("({3, 1})", &nested),
        bytes(CqlValue::Tuple(vec![Some(CqlValue::Set(ints(&[1, 3])))]))
    );
}

#[test]
fn user_type_literals() {
    let ty = CqlType::Udt(address_type());
    assert_eq!(
        value("{street: 'x', zip: 1}", &ty),
        bytes(CqlValue::Udt(vec![
            ("street".into(), Some(CqlValue::Text("x".into()))),
            ("zip".into(), Some(CqlValue::Int(1))),
            ("Tags".into(), None),
        ]))
    );
    assert_eq!(
        value("{\"Tags\": {'b', 'a'}, zip: null}", &frozen(ty.clone())),
        bytes(CqlValue::Udt(vec![
            ("street".into(), None),
            ("zip".into(), None),
            (
                "Tags".into(),
                Some(CqlValue::Set(vec![
                    CqlValue::Text("a".into()),
                    CqlValue::Text("b".into())
                ]))
            ),
        ]))
    );
    assert_eq!(
        error("{zip: 'a'}", &ty),
        "Invalid user type literal for v: field zip is not of type int"
    );
    assert_eq!(
        error("{nope: 1}", &ty),
        "Unknown field 'nope' in value of user defined type address"
    );
    assert_eq!(
        error("{zip: 1}", &CqlType::Int),
        "Invalid user type literal for v of type int"
    );
}

#[test]
fn vectors() {
    let ty = CqlType::Vector(Box::new(CqlType::Float), 2);
    assert_eq!(
        value("[1.0, 2.5]", &ty),
        bytes(CqlValue::Vector(vec![
            CqlValue::Float(1.0),
            CqlValue::Float(2.5)
        ]))
    );
    assert_eq!(
        error("[1.0]", &ty),
        "Invalid vector literal for v of type vector<float, 2>; expected 2 elements, but given 1"
    );
    let texts = CqlType::Vector(Box::new(CqlType::Text), 2);
    assert_eq!(
        value("['a', 'bc']", &texts),
        bytes(CqlValue::Vector(vec![
            CqlValue::Text("a".into()),
            CqlValue::Text("bc".into())
        ]))
    );
}

#[test]
fn bound_values_are_validated_and_made_canonical() {
    let int_set = set(CqlType::Int);
    let unsorted = bytes(CqlValue::Set(ints(&[3, 1, 3])));
    assert_eq!(
        eval_with("?", &int_set, vec![Value::Bytes(unsorted)]),
        Ok(TermValue::Value(bytes(CqlValue::Set(ints(&[1, 3])))))
    );
    let m = map(CqlType::Text, CqlType::Int);
    let unsorted = bytes(CqlValue::Map(vec![
        (CqlValue::Text("b".into()), CqlValue::Int(1)),
        (CqlValue::Text("a".into()), CqlValue::Int(2)),
    ]));
    assert_eq!(
        eval_with("?", &m, vec![Value::Bytes(unsorted)]),
        Ok(TermValue::Value(bytes(CqlValue::Map(vec![
            (CqlValue::Text("a".into()), CqlValue::Int(2)),
            (CqlValue::Text("b".into()), CqlValue::Int(1)),
        ]))))
    );
    assert_eq!(
        eval_with(
            "?",
            &CqlType::Int,
            vec![Value::Bytes(Bytes::from_static(&[1, 2, 3]))]
        ),
        Err("Expected 4 or 0 byte int (3)".to_string())
    );
    assert_eq!(
        eval_with("?", &CqlType::Int, vec![Value::Null]),
        Ok(TermValue::Null)
    );
    assert_eq!(
        eval_with("?", &CqlType::Int, vec![Value::Unset]),
        Ok(TermValue::Unset)
    );
    assert!(eval_with("?", &CqlType::Int, vec![]).is_err());
    // Markers inside tuples and user types are allowed.
    let pair = CqlType::Tuple(vec![CqlType::Int, CqlType::Text]);
    assert_eq!(
        eval_with(
            "(?, 'x')",
            &pair,
            vec![Value::Bytes(bytes(CqlValue::Int(5)))]
        ),
        Ok(TermValue::Value(bytes(CqlValue::Tuple(vec![
            Some(CqlValue::Int(5)),
            Some(CqlValue::Text("x".into()))
        ]))))
    );
    assert_eq!(
        eval_with("(?, 'x')", &pair, vec![Value::Unset]),
        Err("Invalid unset value for tuple field number 0".to_string())
    );
}

#[test]
fn type_hints() {
    assert_eq!(value("(int) 1", &CqlType::Int), bytes(CqlValue::Int(1)));
    // An int is a valid varint.
    assert_eq!(value("(int) 1", &CqlType::Varint), bytes(CqlValue::Int(1)));
    assert_eq!(
        eval_with(
            "(bigint) ?",
            &CqlType::Bigint,
            vec![Value::Bytes(bytes(CqlValue::Bigint(9)))]
        ),
        Ok(TermValue::Value(bytes(CqlValue::Bigint(9))))
    );
    assert_eq!(
        error("(text) 'a'", &CqlType::Int),
        "Cannot assign value (text)'a' to v of type int"
    );
    assert_eq!(
        error("(int) 'a'", &CqlType::Int),
        "Cannot cast value 'a' to type int"
    );
    let udt = frozen(CqlType::Udt(address_type()));
    assert_eq!(
        value("(frozen<address>) {zip: 2}", &udt),
        value("{zip: 2}", &udt)
    );
    assert_eq!(
        error("(frozen<nope>) {zip: 2}", &udt),
        "Unknown type ks.nope"
    );
}
