//! Validation of serialized values, following Cassandra's serializers' `validate`.
//!
//! What is checked, per type:
//!
//! * fixed sizes: `int`/`float` 4 or 0 bytes, `bigint`/`counter`/`timestamp`/`double` 8 or
//!   0, `boolean` 1 or 0, `uuid`/`timeuuid` 16 or 0, `inet` 4, 16 or 0; `smallint` exactly
//!   2, `tinyint` exactly 1, `date` exactly 4, `time` exactly 8 (Cassandra does not accept
//!   the empty value for these four);
//! * `ascii` is 7-bit; `text` is valid UTF-8; `timeuuid` has version 1;
//! * `time` is in `[0, MAX_TIME_NANOS]`;
//! * `decimal` is empty or a 4-byte scale plus a non-empty unscaled varint;
//! * `duration` is three signed vints (months and days fitting in 32 bits) of one sign;
//! * `varint` and `blob`: anything (redundant leading bytes are allowed, as in Cassandra);
//! * collections: `i32` count >= 0, non-null elements (and keys and values), each valid for
//!   its type, nothing after the last one; the empty byte string is not a collection;
//! * tuples and UDTs: at most as many fields as the type (missing trailing fields are
//!   null), each field null or valid; the empty byte string is valid (all fields null);
//! * vectors: non-empty, exactly `dimension` valid elements, nothing after.
//!
//! Deliberate differences from Cassandra, all stricter: `text` uses the strict UTF-8
//! definition (Cassandra's validator also lets through modified-UTF-8 NUL, surrogates and a
//! few malformed sequences); `time` range is checked (Cassandra only checks the size); a
//! `decimal` must have an unscaled part (Cassandra accepts a bare 4-byte scale, which it then
//! fails to read); bytes after a `duration`'s three vints are rejected (Cassandra ignores
//! them).

use super::compare::read_vector_element;
use super::wire::{read_i32, read_prefixed, read_signed_vint, Prefixed};
use super::{CqlType, TypeError, UdtType};

/// The largest valid `time` value: the last nanosecond of a day.
pub const MAX_TIME_NANOS: i64 = 86_399_999_999_999;

/// Checks that `value` is a valid serialized value of type `ty`. Never panics.
pub fn validate(ty: &CqlType, value: &[u8]) -> Result<(), TypeError> {
    let len = value.len();
    let size = |type_name: &'static str, ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(TypeError::WrongSize {
                type_name,
                actual_bytes: len,
            })
        }
    };
    match ty {
        CqlType::Frozen(inner) => validate(inner, value),
        CqlType::Blob | CqlType::Varint => Ok(()),
        CqlType::Ascii => match value.iter().position(|b| !b.is_ascii()) {
            None => Ok(()),
            Some(offset) => Err(TypeError::InvalidAscii {
                offset,
                byte: value.get(offset).copied().unwrap_or_default(),
            }),
        },
        CqlType::Text => {
            std::str::from_utf8(value)
                .map(|_| ())
                .map_err(|e| TypeError::InvalidUtf8 {
                    valid_up_to: e.valid_up_to(),
                })
        }
        CqlType::Int => size("int", len == 4 || len == 0),
        CqlType::Float => size("float", len == 4 || len == 0),
        CqlType::Bigint => size("bigint", len == 8 || len == 0),
        CqlType::Counter => size("counter", len == 8 || len == 0),
        CqlType::Timestamp => size("timestamp", len == 8 || len == 0),
        CqlType::Double => size("double", len == 8 || len == 0),
        CqlType::Boolean => size("boolean", len == 1 || len == 0),
        CqlType::Smallint => size("smallint", len == 2),
        CqlType::Tinyint => size("tinyint", len == 1),
        CqlType::Date => size("date", len == 4),
        CqlType::Inet => size("inet", matches!(len, 0 | 4 | 16)),
        CqlType::Uuid => size("uuid", len == 16 || len == 0),
        CqlType::Timeuuid => {
            size("timeuuid", len == 16 || len == 0)?;
            match value.get(6) {
                Some(b) if b >> 4 != 1 => {
                    Err(TypeError::InvalidTimeUuidVersion { version: b >> 4 })
                }
                _ => Ok(()),
            }
        }
        CqlType::Time => {
            let bytes: [u8; 8] = value.try_into().map_err(|_| TypeError::WrongSize {
                type_name: "time",
                actual_bytes: len,
            })?;
            let nanos = i64::from_be_bytes(bytes);
            if (0..=MAX_TIME_NANOS).contains(&nanos) {
                Ok(())
            } else {
                Err(TypeError::TimeOutOfRange { nanos })
            }
        }
        CqlType::Decimal => size("decimal", len == 0 || len >= 5),
        CqlType::Duration => validate_duration(value),
        CqlType::List(element) => validate_collection("list", &[element], value),
        CqlType::Set(element) => validate_collection("set", &[element], value),
        CqlType::Map(key, val) => validate_collection("map", &[key, val], value),
        CqlType::Tuple(types) => validate_tuple(types, value),
        CqlType::Udt(udt) => validate_udt(udt, value),
        CqlType::Vector(element, dimension) => validate_vector(ty, element, *dimension, value),
    }
}

fn validate_duration(value: &[u8]) -> Result<(), TypeError> {
    if value.len() < 3 {
        return Err(TypeError::WrongSize {
            type_name: "duration",
            actual_bytes: value.len(),
        });
    }
    let mut rest = value;
    let mut next = || read_signed_vint(&mut rest).ok_or(TypeError::DurationTruncated);
    let months = next()?;
    let days = next()?;
    let nanos = next()?;
    let months = i32::try_from(months).map_err(|_| TypeError::DurationFieldOverflow {
        field: "months",
        value: months,
    })?;
    let days = i32::try_from(days).map_err(|_| TypeError::DurationFieldOverflow {
        field: "days",
        value: days,
    })?;
    let all_non_negative = months >= 0 && days >= 0 && nanos >= 0;
    let all_non_positive = months <= 0 && days <= 0 && nanos <= 0;
    if !(all_non_negative || all_non_positive) {
        return Err(TypeError::DurationMixedSigns {
            months,
            days,
            nanos,
        });
    }
    if !rest.is_empty() {
        return Err(TypeError::DurationTrailingBytes {
            extra_bytes: rest.len(),
        });
    }
    Ok(())
}

/// Lists and sets (`slot_types` = `[element]`) and maps (`[key, value]`).
fn validate_collection(
    kind: &'static str,
    slot_types: &[&CqlType],
    value: &[u8],
) -> Result<(), TypeError> {
    let truncated = TypeError::CollectionTruncated { kind };
    let mut rest = value;
    let count = read_i32(&mut rest).ok_or(truncated.clone())?;
    if count < 0 {
        return Err(TypeError::NegativeCollectionSize { kind, count });
    }
    // Each element takes at least 4 bytes, so this loop ends within `value.len() / 4`
    // iterations whatever `count` claims.
    for _ in 0..count {
        for ty in slot_types {
            match read_prefixed(&mut rest) {
                None => return Err(truncated),
                Some(Prefixed::Null) => return Err(TypeError::NullCollectionElement),
                Some(Prefixed::Value(element)) => validate(ty, element)?,
            }
        }
    }
    if !rest.is_empty() {
        return Err(TypeError::CollectionTrailingBytes { kind });
    }
    Ok(())
}

fn validate_tuple(types: &[CqlType], value: &[u8]) -> Result<(), TypeError> {
    validate_fields(
        types.iter().map(|t| (None, t)),
        value,
        TypeError::TupleTrailingBytes,
    )
}

fn validate_udt(udt: &UdtType, value: &[u8]) -> Result<(), TypeError> {
    validate_fields(
        udt.fields.iter().map(|(name, t)| (Some(name.as_str()), t)),
        value,
        TypeError::UdtTrailingBytes,
    )
}

/// Tuples and UDTs share one layout: up to one `i32`-length-prefixed field per declared
/// field, a negative length being null. Errors name the field when it has a name (UDTs).
fn validate_fields<'t>(
    fields: impl Iterator<Item = (Option<&'t str>, &'t CqlType)>,
    value: &[u8],
    trailing: TypeError,
) -> Result<(), TypeError> {
    let mut rest = value;
    for (index, (name, ty)) in fields.enumerate() {
        // Fewer fields than declared is fine: the missing ones are null.
        if rest.is_empty() {
            return Ok(());
        }
        let len = read_i32(&mut rest).ok_or_else(|| match name {
            Some(field) => TypeError::UdtFieldSizeTruncated {
                index,
                field: field.to_string(),
            },
            None => TypeError::TupleFieldSizeTruncated { index },
        })?;
        let Ok(len) = usize::try_from(len) else {
            continue; // null field
        };
        let field = rest.get(..len).ok_or_else(|| match name {
            Some(field) => TypeError::UdtFieldTruncated {
                index,
                field: field.to_string(),
            },
            None => TypeError::TupleFieldTruncated { index },
        })?;
        rest = rest.get(len..).unwrap_or_default();
        validate(ty, field).map_err(|e| match name {
            Some(field) => TypeError::UdtFieldInvalid {
                index,
                field: field.to_string(),
                source: Box::new(e),
            },
            None => e,
        })?;
    }
    if !rest.is_empty() {
        return Err(trailing);
    }
    Ok(())
}

fn validate_vector(
    vector_type: &CqlType,
    element: &CqlType,
    dimension: u32,
    value: &[u8],
) -> Result<(), TypeError> {
    if value.is_empty() {
        return Err(TypeError::EmptyVector);
    }
    let truncated = || TypeError::VectorTruncated {
        vector_type: vector_type.to_string(),
    };
    let mut rest = value;
    match element.value_length_if_fixed() {
        Some(width) => {
            let expected = (width as u64).saturating_mul(u64::from(dimension));
            if (value.len() as u64) < expected {
                return Err(truncated());
            }
            for _ in 0..dimension {
                let item = rest.get(..width).ok_or_else(truncated)?;
                rest = rest.get(width..).unwrap_or_default();
                validate(element, item)?;
            }
        }
        None => {
            // Each element takes at least one byte, so this ends within `value.len()`
            // iterations whatever the dimension.
            for _ in 0..dimension {
                let item = read_vector_element(&mut rest).ok_or_else(truncated)?;
                validate(element, item)?;
            }
        }
    }
    if !rest.is_empty() {
        return Err(TypeError::VectorTrailingBytes {
            vector_type: vector_type.to_string(),
            extra_bytes: rest.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::wire::test_support::*;
    use super::*;
    use proptest::prelude::*;

    fn ok(ty: &CqlType, v: &[u8]) {
        assert_eq!(validate(ty, v), Ok(()), "{ty} {v:02x?}");
    }

    fn err(ty: &CqlType, v: &[u8]) -> String {
        match validate(ty, v) {
            Ok(()) => panic!("{ty} {v:02x?} should be invalid"),
            Err(e) => e.to_string(),
        }
    }

    fn duration(months: i64, days: i64, nanos: i64) -> Vec<u8> {
        let mut out = signed_vint(months);
        out.extend(signed_vint(days));
        out.extend(signed_vint(nanos));
        out
    }

    #[test]
    fn fixed_sizes() {
        ok(&CqlType::Int, &[]);
        ok(&CqlType::Int, &[0; 4]);
        assert_eq!(err(&CqlType::Int, &[0; 3]), "Expected 4 or 0 byte int (3)");
        assert_eq!(
            err(&CqlType::Bigint, &[0; 4]),
            "Expected 8 or 0 byte long (4)"
        );
        assert_eq!(
            err(&CqlType::Timestamp, &[0; 9]),
            "Expected 8 or 0 byte long for date (9)"
        );
        assert_eq!(
            err(&CqlType::Smallint, &[]),
            "Expected 2 bytes for a smallint (0)"
        );
        assert_eq!(
            err(&CqlType::Tinyint, &[1, 2]),
            "Expected 1 byte for a tinyint (2)"
        );
        assert_eq!(
            err(&CqlType::Date, &[]),
            "Expected 4 byte long for date (0)"
        );
        ok(&CqlType::Date, &[0x80, 0, 0, 0]);
        assert_eq!(
            err(&CqlType::Time, &[0; 4]),
            "Expected 8 byte long for time (4)"
        );
        assert_eq!(
            err(&CqlType::Float, &[0; 8]),
            "Expected 4 or 0 byte value for a float (8)"
        );
        assert_eq!(
            err(&CqlType::Double, &[0; 4]),
            "Expected 8 or 0 byte value for a double (4)"
        );
        assert_eq!(
            err(&CqlType::Boolean, &[0, 1]),
            "Expected 1 or 0 byte value (2)"
        );
        assert_eq!(
            err(&CqlType::Uuid, &[0; 15]),
            "UUID should be 16 or 0 bytes (15)"
        );
        ok(&CqlType::Inet, &[127, 0, 0, 1]);
        ok(&CqlType::Inet, &[0; 16]);
        ok(&CqlType::Inet, &[]);
        assert!(err(&CqlType::Inet, &[0; 5]).starts_with("Expected 4 or 16 byte inetaddress"));
        ok(&CqlType::Counter, &[0; 8]);
        ok(&CqlType::Varint, &[0, 0, 0, 1]);
        ok(&CqlType::Varint, &[]);
        ok(&CqlType::Blob, &[0xff; 3]);
        ok(&CqlType::Decimal, &[]);
        ok(&CqlType::Decimal, &[0, 0, 0, 2, 1]);
        assert!(validate(&CqlType::Decimal, &[0, 0, 0, 2]).is_err());
    }

    #[test]
    fn text_and_ascii() {
        ok(&CqlType::Ascii, b"hello\x7f");
        assert_eq!(
            err(&CqlType::Ascii, b"h\x80"),
            "Invalid byte for ascii: -128"
        );
        ok(&CqlType::Text, "château".as_bytes());
        ok(&CqlType::Text, b"");
        assert_eq!(
            validate(&CqlType::Text, b"ab\xff"),
            Err(TypeError::InvalidUtf8 { valid_up_to: 2 })
        );
        assert!(err(&CqlType::Text, b"\xc3").starts_with("String didn't validate"));
    }

    #[test]
    fn uuids_and_time() {
        let mut v1 = [0u8; 16];
        v1[6] = 0x11;
        let mut v4 = [0u8; 16];
        v4[6] = 0x4f;
        ok(&CqlType::Timeuuid, &v1);
        ok(&CqlType::Timeuuid, &[]);
        ok(&CqlType::Uuid, &v4);
        assert_eq!(
            validate(&CqlType::Timeuuid, &v4),
            Err(TypeError::InvalidTimeUuidVersion { version: 4 })
        );
        ok(&CqlType::Time, &0i64.to_be_bytes());
        ok(&CqlType::Time, &MAX_TIME_NANOS.to_be_bytes());
        assert_eq!(
            validate(&CqlType::Time, &(MAX_TIME_NANOS + 1).to_be_bytes()),
            Err(TypeError::TimeOutOfRange {
                nanos: MAX_TIME_NANOS + 1
            })
        );
        assert!(validate(&CqlType::Time, &(-1i64).to_be_bytes()).is_err());
    }

    #[test]
    fn durations() {
        ok(&CqlType::Duration, &duration(1, 2, 3));
        ok(&CqlType::Duration, &duration(-1, 0, -3_000_000_000));
        ok(&CqlType::Duration, &duration(0, 0, 0));
        assert_eq!(
            err(&CqlType::Duration, &[0, 0]),
            "Expected at least 3 bytes for a duration (2)"
        );
        assert_eq!(
            err(&CqlType::Duration, &duration(1, -1, 0)),
            "The duration months, days and nanoseconds must be all of the same sign (1, -1, 0)"
        );
        assert_eq!(
            validate(&CqlType::Duration, &duration(i64::from(i32::MAX) + 1, 0, 0)),
            Err(TypeError::DurationFieldOverflow {
                field: "months",
                value: i64::from(i32::MAX) + 1
            })
        );
        assert_eq!(
            validate(&CqlType::Duration, &[0, 0, 0xc0]),
            Err(TypeError::DurationTruncated)
        );
        let mut trailing = duration(1, 1, 1);
        trailing.push(0);
        assert_eq!(
            validate(&CqlType::Duration, &trailing),
            Err(TypeError::DurationTrailingBytes { extra_bytes: 1 })
        );
    }

    #[test]
    fn collections() {
        let list = CqlType::List(Box::new(CqlType::Int));
        ok(&list, &collection(&[]));
        ok(&list, &collection(&[&[0, 0, 0, 1], &[]]));
        assert_eq!(err(&list, &[]), "Not enough bytes to read a list");
        assert_eq!(
            err(&list, &collection(&[&[0, 1]])),
            "Expected 4 or 0 byte int (2)"
        );
        assert_eq!(
            err(&list, &[0xff, 0xff, 0xff, 0xff]),
            "The data cannot be deserialized as a list"
        );
        assert_eq!(
            err(&list, &[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]),
            "Null value read when not allowed"
        );
        assert_eq!(
            err(&list, &[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]),
            "Not enough bytes to read a list"
        );
        let mut trailing = collection(&[]);
        trailing.push(0);
        assert_eq!(
            err(&list, &trailing),
            "Unexpected extraneous bytes after list value"
        );

        let set = CqlType::Frozen(Box::new(CqlType::Set(Box::new(CqlType::Text))));
        ok(&set, &collection(&[b"a", b"b"]));
        assert!(err(&set, &collection(&[b"\xff"])).starts_with("String didn't validate"));

        let map = CqlType::Map(Box::new(CqlType::Text), Box::new(CqlType::Boolean));
        ok(&map, &map_of(&[(b"k", &[1])]));
        assert_eq!(
            err(&map, &[0, 0, 0, 1, 0, 0, 0, 1, b'k']),
            "Not enough bytes to read a map"
        );
        let nested = CqlType::Map(
            Box::new(CqlType::Int),
            Box::new(CqlType::Frozen(Box::new(CqlType::List(Box::new(
                CqlType::Int,
            ))))),
        );
        ok(
            &nested,
            &map_of(&[(&[0, 0, 0, 1], &collection(&[&[0, 0, 0, 2]]))]),
        );
        assert!(validate(&nested, &map_of(&[(&[0, 0, 0, 1], &[0, 0])])).is_err());
    }

    fn map_of(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
        map(entries)
    }

    #[test]
    fn tuples_and_udts() {
        let ty = CqlType::Tuple(vec![CqlType::Int, CqlType::Text]);
        ok(&ty, &[]);
        ok(&ty, &tuple(&[Some(&[0, 0, 0, 1])]));
        ok(&ty, &tuple(&[None, Some(b"x")]));
        assert_eq!(
            err(&ty, &[0, 0]),
            "Not enough bytes to read size of 0th component"
        );
        assert_eq!(
            err(&ty, &[0, 0, 0, 4, 1]),
            "Not enough bytes to read 0th component"
        );
        assert_eq!(
            err(&ty, &tuple(&[None, None, None])),
            "Invalid remaining data after end of tuple value"
        );
        assert_eq!(
            err(&ty, &tuple(&[Some(&[1])])),
            "Expected 4 or 0 byte int (1)"
        );

        let udt = CqlType::Udt(UdtType {
            keyspace: "ks".into(),
            name: "u".into(),
            fields: vec![("a".into(), CqlType::Int), ("b".into(), CqlType::Text)],
        });
        ok(&udt, &tuple(&[Some(&[0, 0, 0, 1]), Some(b"x")]));
        assert_eq!(
            err(&udt, &tuple(&[None, Some(b"\xff")])),
            "Failure validating the 1th field b; String didn't validate: invalid UTF-8 bytes after offset 0"
        );
        assert_eq!(
            err(&udt, &[0, 0, 0]),
            "Not enough bytes to read size of 0th field a"
        );
        assert_eq!(
            err(&udt, &[0, 0, 0, 9]),
            "Not enough bytes to read 0th field a"
        );
        assert_eq!(
            err(&udt, &tuple(&[None, None, None])),
            "Invalid remaining data after end of UDT value"
        );
    }

    #[test]
    fn vectors() {
        let floats = CqlType::Vector(Box::new(CqlType::Float), 2);
        ok(&floats, &[0; 8]);
        assert_eq!(err(&floats, &[]), "Invalid empty vector value");
        assert_eq!(
            err(&floats, &[0; 7]),
            "Not enough bytes to read a vector<float, 2>"
        );
        assert_eq!(
            err(&floats, &[0; 9]),
            "Unexpected 1 extraneous bytes after vector<float, 2> value"
        );
        let texts = CqlType::Vector(Box::new(CqlType::Text), 2);
        ok(&texts, &[1, b'a', 0]);
        assert_eq!(
            err(&texts, &[1, b'a']),
            "Not enough bytes to read a vector<text, 2>"
        );
        assert!(err(&texts, &[1, 0xff, 0]).starts_with("String didn't validate"));
        let huge = CqlType::Vector(Box::new(CqlType::Int), u32::MAX);
        assert!(validate(&huge, &[0; 8]).is_err());
        let huge_var = CqlType::Vector(Box::new(CqlType::Varint), u32::MAX);
        assert!(validate(&huge_var, &[0; 8]).is_err());
    }

    fn all_test_types() -> Vec<CqlType> {
        let natives = super::super::NATIVE_TYPES.iter().map(|(_, t)| t.clone());
        let mut types: Vec<CqlType> = natives.collect();
        types.extend([
            CqlType::List(Box::new(CqlType::Int)),
            CqlType::Map(Box::new(CqlType::Text), Box::new(CqlType::Duration)),
            CqlType::Tuple(vec![CqlType::Decimal, CqlType::Timeuuid]),
            CqlType::Vector(Box::new(CqlType::Smallint), 3),
            CqlType::Vector(Box::new(CqlType::Double), 2),
        ]);
        types
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn validate_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            for ty in all_test_types() {
                let _ = validate(&ty, &bytes);
            }
        }

        #[test]
        fn valid_durations_roundtrip(m in any::<i32>(), d in any::<i32>(), n in any::<i64>()) {
            let result = validate(&CqlType::Duration, &duration(m.into(), d.into(), n));
            let same_sign = (m >= 0 && d >= 0 && n >= 0) || (m <= 0 && d <= 0 && n <= 0);
            prop_assert_eq!(result.is_ok(), same_sign);
        }
    }
}
