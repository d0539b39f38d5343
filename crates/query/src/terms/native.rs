//! Native (non-collection) values as text: Cassandra's `AbstractType.fromString` for every
//! native type (how string, integer, float, boolean, uuid, hex and duration constants become
//! serialized values), and the textual rendering used by `CAST(x AS text)`.
//!
//! Invariants: [`from_string`] returns serialized values that pass
//! `meridian_types::cql_type::validate` for the type, or Cassandra's `MarshalException`
//! message; nothing panics on any input.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use meridian_types::cql_type::CqlType;
use meridian_types::value::CqlValue;

use super::number::{
    java_double_to_string, java_float_to_string, parse_bigint, parse_java_double, parse_java_float,
    varint_from_bytes, varint_to_bytes, Decimal,
};
use super::temporal;

/// Parses the string form of a value of the native type `ty` (Cassandra's `fromString`).
/// The empty string is the empty value, as in Cassandra, for the types whose validator
/// accepts an empty value; for the others (date, time, smallint, ...) it is the validator's
/// error, as Cassandra reports it when it validates the value.
pub fn from_string(ty: &CqlType, text: &str) -> Result<Bytes, String> {
    if text.is_empty() {
        return match meridian_types::cql_type::validate(ty, &[]) {
            Ok(()) => Ok(Bytes::new()),
            Err(e) => Err(e.to_string()),
        };
    }
    let value = match ty.unfrozen() {
        CqlType::Ascii => {
            if !text.is_ascii() {
                return Err("Invalid ASCII character in string literal: \
                    java.nio.charset.UnmappableCharacterException: Input length = 1"
                    .to_string());
            }
            return Ok(Bytes::copy_from_slice(text.as_bytes()));
        }
        CqlType::Text => return Ok(Bytes::copy_from_slice(text.as_bytes())),
        CqlType::Int => CqlValue::Int(
            parse_java_int(text).ok_or_else(|| format!("Unable to make int from '{text}'"))?,
        ),
        CqlType::Bigint | CqlType::Counter => CqlValue::Bigint(
            parse_java_int(text).ok_or_else(|| format!("Unable to make long from '{text}'"))?,
        ),
        CqlType::Smallint => CqlValue::Smallint(
            parse_java_int(text).ok_or_else(|| format!("Unable to make short from '{text}'"))?,
        ),
        CqlType::Tinyint => CqlValue::Tinyint(
            parse_java_int(text).ok_or_else(|| format!("Unable to make byte from '{text}'"))?,
        ),
        CqlType::Varint => {
            let v =
                parse_bigint(text).ok_or_else(|| format!("unable to make int from '{text}'"))?;
            return Ok(Bytes::from(varint_to_bytes(&v)));
        }
        CqlType::Decimal => {
            let v = Decimal::parse(text)
                .ok_or_else(|| format!("unable to make BigDecimal from '{text}'"))?;
            return Ok(Bytes::from(v.to_bytes()));
        }
        CqlType::Float => CqlValue::Float(
            parse_java_float(text).ok_or_else(|| format!("Unable to make float from '{text}'"))?,
        ),
        CqlType::Double => CqlValue::Double(
            parse_java_double(text)
                .ok_or_else(|| format!("Unable to make double from '{text}'"))?,
        ),
        CqlType::Boolean => {
            if text.eq_ignore_ascii_case("true") {
                CqlValue::Boolean(true)
            } else if text.eq_ignore_ascii_case("false") {
                CqlValue::Boolean(false)
            } else {
                return Err(format!("Unable to make boolean from '{text}'"));
            }
        }
        CqlType::Blob => {
            return parse_hex(text)
                .map(Bytes::from)
                .ok_or_else(|| format!("cannot parse '{text}' as hex bytes"))
        }
        CqlType::Uuid => CqlValue::Uuid(
            parse_uuid(text).ok_or_else(|| format!("Unable to make UUID from '{text}'"))?,
        ),
        CqlType::Timeuuid => {
            let u = parse_uuid(text)
                .ok_or_else(|| format!("Unknown timeuuid representation: {text}"))?;
            if u.get_version_num() != 1 {
                return Err("TimeUUID supports only version 1 UUIDs".to_string());
            }
            CqlValue::Timeuuid(u)
        }
        CqlType::Inet => CqlValue::Inet(
            parse_inet(text).ok_or_else(|| format!("Unable to make inet address from '{text}'"))?,
        ),
        CqlType::Timestamp => CqlValue::Timestamp(temporal::parse_timestamp(text)?),
        CqlType::Date => CqlValue::Date(temporal::parse_date(text)?),
        CqlType::Time => CqlValue::Time(temporal::parse_time(text)?),
        CqlType::Duration => {
            let d = temporal::parse_duration(text)?;
            CqlValue::Duration {
                months: d.months,
                days: d.days,
                nanos: d.nanos,
            }
        }
        other => return Err(format!("{other} values have no string form")),
    };
    Ok(value.to_bytes())
}

/// Java's `Integer.parseInt` / `Long.parseLong` / ... : optional sign and decimal digits,
/// within the type's range.
fn parse_java_int<T: std::str::FromStr>(text: &str) -> Option<T> {
    let digits = text
        .strip_prefix('-')
        .or_else(|| text.strip_prefix('+'))
        .unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.strip_prefix('+').unwrap_or(text).parse().ok()
}

/// Hex digits (without `0x`) to bytes; `None` for odd lengths or non-hex characters.
pub fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let b = text.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks_exact(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

/// Lower-case hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A UUID in its canonical 8-4-4-4-12 hex form (either case).
pub fn parse_uuid(text: &str) -> Option<uuid::Uuid> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    if !shape_ok {
        return None;
    }
    uuid::Uuid::parse_str(text).ok()
}

/// An IPv4 or IPv6 address literal (or `localhost`).
pub fn parse_inet(text: &str) -> Option<IpAddr> {
    if text.eq_ignore_ascii_case("localhost") {
        return Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let t = text
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(text);
    t.parse().ok()
}

/// Java's `InetAddress.getHostAddress()` of a serialized address: dotted quad, or eight
/// uncompressed lower-case hex groups (IPv4-mapped IPv6 addresses print as IPv4, as Java
/// turns them into `Inet4Address`).
pub fn java_host_address(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => Some(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string()),
        16 => {
            let arr: [u8; 16] = bytes.try_into().ok()?;
            let v6 = Ipv6Addr::from(arr);
            if let Some(v4) = v6.to_ipv4_mapped() {
                return Some(v4.to_string());
            }
            Some(
                v6.segments()
                    .iter()
                    .map(|s| format!("{s:x}"))
                    .collect::<Vec<_>>()
                    .join(":"),
            )
        }
        _ => None,
    }
}

/// The text a value of native type `ty` becomes when cast to `text` or `ascii` (Cassandra's
/// serializer `toString`); `Err` when the bytes are not a valid value.
pub fn to_text(ty: &CqlType, bytes: &[u8]) -> Result<String, String> {
    let invalid = || format!("invalid {ty} value");
    let fixed = |n: usize| -> Result<&[u8], String> {
        if bytes.len() == n {
            Ok(bytes)
        } else {
            Err(invalid())
        }
    };
    Ok(match ty.unfrozen() {
        CqlType::Ascii | CqlType::Text => {
            String::from_utf8(bytes.to_vec()).map_err(|_| invalid())?
        }
        CqlType::Int => {
            i32::from_be_bytes(fixed(4)?.try_into().map_err(|_| invalid())?).to_string()
        }
        CqlType::Bigint | CqlType::Counter => {
            i64::from_be_bytes(fixed(8)?.try_into().map_err(|_| invalid())?).to_string()
        }
        CqlType::Smallint => {
            i16::from_be_bytes(fixed(2)?.try_into().map_err(|_| invalid())?).to_string()
        }
        CqlType::Tinyint => {
            i8::from_be_bytes(fixed(1)?.try_into().map_err(|_| invalid())?).to_string()
        }
        CqlType::Varint => varint_from_bytes(bytes).to_string(),
        CqlType::Decimal => Decimal::from_bytes(bytes).ok_or_else(invalid)?.to_string(),
        CqlType::Float => java_float_to_string(f32::from_be_bytes(
            fixed(4)?.try_into().map_err(|_| invalid())?,
        )),
        CqlType::Double => java_double_to_string(f64::from_be_bytes(
            fixed(8)?.try_into().map_err(|_| invalid())?,
        )),
        CqlType::Boolean => (fixed(1)?[0] != 0).to_string(),
        CqlType::Blob => format!("0x{}", to_hex(bytes)),
        CqlType::Uuid | CqlType::Timeuuid => uuid::Uuid::from_slice(fixed(16)?)
            .map_err(|_| invalid())?
            .to_string(),
        CqlType::Inet => java_host_address(bytes).ok_or_else(invalid)?,
        CqlType::Timestamp => temporal::format_timestamp_iso(i64::from_be_bytes(
            fixed(8)?.try_into().map_err(|_| invalid())?,
        )),
        CqlType::Date => temporal::format_date(u32::from_be_bytes(
            fixed(4)?.try_into().map_err(|_| invalid())?,
        )),
        CqlType::Time => temporal::format_time(i64::from_be_bytes(
            fixed(8)?.try_into().map_err(|_| invalid())?,
        )),
        CqlType::Duration => match CqlValue::deserialize(ty, bytes).map_err(|_| invalid())? {
            CqlValue::Duration {
                months,
                days,
                nanos,
            } => temporal::format_duration(&temporal::Duration {
                months,
                days,
                nanos,
            }),
            _ => return Err(invalid()),
        },
        other => match CqlValue::deserialize(other, bytes) {
            Ok(v) => v.to_string(),
            Err(_) => return Err(invalid()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(ty: CqlType, text: &str) -> Vec<u8> {
        match from_string(&ty, text) {
            Ok(b) => b.to_vec(),
            Err(e) => panic!("{ty} {text}: {e}"),
        }
    }

    fn err(ty: CqlType, text: &str) -> String {
        match from_string(&ty, text) {
            Ok(b) => panic!("{ty} {text}: unexpected {b:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(ok(CqlType::Int, "-12"), (-12i32).to_be_bytes());
        assert_eq!(ok(CqlType::Int, "+12"), 12i32.to_be_bytes());
        assert_eq!(
            err(CqlType::Int, "2147483648"),
            "Unable to make int from '2147483648'"
        );
        assert_eq!(
            err(CqlType::Bigint, "1.5"),
            "Unable to make long from '1.5'"
        );
        assert_eq!(ok(CqlType::Counter, "5"), 5i64.to_be_bytes());
        assert_eq!(
            err(CqlType::Smallint, "32768"),
            "Unable to make short from '32768'"
        );
        assert_eq!(
            err(CqlType::Tinyint, "128"),
            "Unable to make byte from '128'"
        );
        assert_eq!(ok(CqlType::Varint, "-129"), vec![0xff, 0x7f]);
        assert_eq!(err(CqlType::Varint, "1e3"), "unable to make int from '1e3'");
        assert_eq!(ok(CqlType::Decimal, "1.50"), vec![0, 0, 0, 2, 0, 150]);
        assert_eq!(
            err(CqlType::Decimal, "x"),
            "unable to make BigDecimal from 'x'"
        );
        assert_eq!(ok(CqlType::Double, "NaN"), f64::NAN.to_be_bytes());
        assert_eq!(
            ok(CqlType::Float, "-Infinity"),
            f32::NEG_INFINITY.to_be_bytes()
        );
        assert_eq!(ok(CqlType::Float, "1"), 1f32.to_be_bytes());
        assert_eq!(
            err(CqlType::Double, "1..2"),
            "Unable to make double from '1..2'"
        );
        assert_eq!(ok(CqlType::Int, ""), Vec::<u8>::new());
    }

    #[test]
    fn other_natives() {
        assert_eq!(ok(CqlType::Boolean, "TRUE"), vec![1]);
        assert_eq!(
            err(CqlType::Boolean, "yes"),
            "Unable to make boolean from 'yes'"
        );
        assert_eq!(ok(CqlType::Blob, "cafe"), vec![0xca, 0xfe]);
        assert_eq!(err(CqlType::Blob, "caf"), "cannot parse 'caf' as hex bytes");
        assert!(err(CqlType::Ascii, "é").starts_with("Invalid ASCII character in string literal"));
        assert_eq!(ok(CqlType::Inet, "127.0.0.1"), vec![127, 0, 0, 1]);
        assert_eq!(ok(CqlType::Inet, "::1").len(), 16);
        assert_eq!(
            err(CqlType::Inet, "nope"),
            "Unable to make inet address from 'nope'"
        );
        let u = "550e8400-e29b-41d4-a716-446655440000";
        assert_eq!(ok(CqlType::Uuid, u).len(), 16);
        assert_eq!(
            err(CqlType::Timeuuid, u),
            "TimeUUID supports only version 1 UUIDs"
        );
        assert_eq!(err(CqlType::Uuid, "123"), "Unable to make UUID from '123'");
        assert_eq!(
            err(CqlType::Timeuuid, "123"),
            "Unknown timeuuid representation: 123"
        );
        let hour = CqlValue::Duration {
            months: 0,
            days: 0,
            nanos: 3_600_000_000_000,
        };
        assert_eq!(ok(CqlType::Duration, "1h"), hour.to_bytes().to_vec());
        assert_eq!(
            err(CqlType::Duration, "1x"),
            "Unable to convert '1x' to a duration"
        );
    }

    #[test]
    fn text_renderings() {
        assert_eq!(
            to_text(&CqlType::Double, &1e10f64.to_be_bytes()),
            Ok("1.0E10".into())
        );
        assert_eq!(
            to_text(&CqlType::Float, &1.5f32.to_be_bytes()),
            Ok("1.5".into())
        );
        assert_eq!(to_text(&CqlType::Varint, &[0xff, 0x7f]), Ok("-129".into()));
        assert_eq!(to_text(&CqlType::Boolean, &[1]), Ok("true".into()));
        assert_eq!(
            to_text(&CqlType::Timestamp, &0i64.to_be_bytes()),
            Ok("1970-01-01T00:00:00.000Z".into())
        );
        assert_eq!(
            to_text(&CqlType::Date, &(1u32 << 31).to_be_bytes()),
            Ok("1970-01-01".into())
        );
        assert_eq!(
            to_text(&CqlType::Inet, &Ipv6Addr::LOCALHOST.octets()),
            Ok("0:0:0:0:0:0:0:1".into())
        );
        assert_eq!(
            to_text(
                &CqlType::Inet,
                &Ipv4Addr::new(1, 2, 3, 4).to_ipv6_mapped().octets()
            ),
            Ok("1.2.3.4".into())
        );
        assert!(to_text(&CqlType::Int, &[1]).is_err());
    }
}
