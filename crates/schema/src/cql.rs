//! Printing schema elements as Cassandra prints them: identifiers quoted only when needed,
//! string literals, Java's `Double.toString`, Cassandra's canonical type strings (its
//! `CQL3Type.toString()`), and the parsing helpers Cassandra's property definitions use
//! (Java's `Integer.valueOf`, `Double.parseDouble` and boolean words).

use std::borrow::Cow;
use std::fmt::Write as _;

use meridian_types::cql_type::CqlType;
pub use meridian_types::value::{cql_identifier as quote_identifier, cql_string_literal};

/// Words that name types: a user-defined type with one of these names must be quoted even
/// where a column name would not need quotes.
const TYPE_WORDS: [&str; 27] = [
    "ascii",
    "bigint",
    "blob",
    "boolean",
    "counter",
    "date",
    "decimal",
    "double",
    "duration",
    "float",
    "inet",
    "int",
    "smallint",
    "text",
    "time",
    "timestamp",
    "timeuuid",
    "tinyint",
    "uuid",
    "varchar",
    "varint",
    "list",
    "set",
    "map",
    "tuple",
    "frozen",
    "vector",
];

/// A user-defined type name as CQL text: quoted when a column name would be, and also when it
/// is a word that names a type (so the result always parses back as the same UDT).
pub fn quote_type_name(name: &str) -> Cow<'_, str> {
    if TYPE_WORDS.contains(&name) {
        Cow::Owned(format!("\"{name}\""))
    } else {
        quote_identifier(name)
    }
}

/// `keyspace.name`, each part quoted if needed (Cassandra's `TableMetadata.toString()`).
pub fn qualified_name(keyspace: &str, name: &str) -> String {
    format!("{}.{}", quote_identifier(keyspace), quote_identifier(name))
}

/// Cassandra's canonical spelling of a type (`CQL3Type.toString()`): native names (`text`,
/// never `varchar`), `map<k, v>` with `", "`, `frozen<…>` on every frozen collection or UDT,
/// including those nested in a frozen type (implicitly frozen there, and printed so, as
/// Cassandra 5.0 does), tuples always as `frozen<tuple<…>>`, UDTs by (quoted if needed) name.
pub fn type_to_cql(ty: &CqlType) -> String {
    let mut out = String::new();
    write_type(&mut out, ty, false);
    out
}

fn write_type(out: &mut String, ty: &CqlType, in_frozen: bool) {
    match ty {
        CqlType::Frozen(inner) => write_frozen(out, inner),
        CqlType::List(_) | CqlType::Set(_) | CqlType::Map(..) | CqlType::Udt(_) if in_frozen => {
            // Inside a frozen type every nested collection or UDT is frozen too, and Cassandra
            // says so: `frozen<map<int, frozen<set<int>>>>`.
            write_frozen(out, ty);
        }
        CqlType::List(e) => {
            out.push_str("list<");
            write_type(out, e, false);
            out.push('>');
        }
        CqlType::Set(e) => {
            out.push_str("set<");
            write_type(out, e, false);
            out.push('>');
        }
        CqlType::Map(k, v) => {
            out.push_str("map<");
            write_type(out, k, false);
            out.push_str(", ");
            write_type(out, v, false);
            out.push('>');
        }
        CqlType::Udt(u) => out.push_str(&quote_type_name(&u.name)),
        CqlType::Tuple(_) => write_frozen(out, ty),
        CqlType::Vector(e, n) => {
            out.push_str("vector<");
            write_type(out, e, in_frozen);
            let _ = write!(out, ", {n}>");
        }
        native => out.push_str(native.native_name().unwrap_or("blob")),
    }
}

/// A frozen collection, UDT or tuple (tuples are always frozen): `frozen<…>`, its components
/// printed in a frozen context; other types print as themselves.
fn write_frozen(out: &mut String, inner: &CqlType) {
    match inner {
        CqlType::Frozen(inner) => write_frozen(out, inner),
        CqlType::List(e) => {
            out.push_str("frozen<list<");
            write_type(out, e, true);
            out.push_str(">>");
        }
        CqlType::Set(e) => {
            out.push_str("frozen<set<");
            write_type(out, e, true);
            out.push_str(">>");
        }
        CqlType::Map(k, v) => {
            out.push_str("frozen<map<");
            write_type(out, k, true);
            out.push_str(", ");
            write_type(out, v, true);
            out.push_str(">>");
        }
        CqlType::Udt(u) => {
            let _ = write!(out, "frozen<{}>", quote_type_name(&u.name));
        }
        CqlType::Tuple(types) => {
            out.push_str("frozen<tuple<");
            for (i, t) in types.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_type(out, t, true);
            }
            out.push_str(">>");
        }
        other => write_type(out, other, true),
    }
}

/// Java's `Double.toString`: `1.0`, `0.01`, `1.0E-4`, `1.0E7`, `NaN`, `Infinity`.
pub fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // Shortest round-trip digits and decimal exponent, from Rust's `{:e}` (e.g. "1.2345e-5").
    let sci = format!("{:e}", v.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if v < 0.0 { "-" } else { "" };
    let abs = v.abs();
    if (1e-3..1e7).contains(&abs) {
        // Plain notation with at least one fractional digit.
        let point = exponent + 1; // digits before the decimal point
        let (int, frac) = if point <= 0 {
            (
                "0".to_string(),
                format!("{}{digits}", "0".repeat(point.unsigned_abs() as usize)),
            )
        } else {
            let point = point as usize;
            if digits.len() > point {
                (digits[..point].to_string(), digits[point..].to_string())
            } else {
                (
                    format!("{digits}{}", "0".repeat(point - digits.len())),
                    String::new(),
                )
            }
        };
        let frac = if frac.is_empty() { "0".into() } else { frac };
        format!("{sign}{int}.{frac}")
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exponent}")
    }
}

/// Java's `Integer.valueOf(String)`: optional sign, decimal digits, in `i32` range.
pub fn java_parse_int(s: &str) -> Option<i32> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i32>().ok()
}

/// Java's `Double.parseDouble(String)` for decimal input: surrounding whitespace is ignored,
/// an optional trailing `d`/`f` type suffix is accepted, and `NaN` / `Infinity` are spelled
/// exactly so.
pub fn java_parse_double(s: &str) -> Option<f64> {
    let t = s.trim_matches(|c: char| c <= ' ');
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if unsigned == "NaN" || unsigned == "Infinity" {
        return t.replace("Infinity", "inf").parse().ok();
    }
    let body = unsigned
        .strip_suffix(['d', 'D', 'f', 'F'])
        .unwrap_or(unsigned);
    let bytes = body.as_bytes();
    // Digits, one optional `.`, an optional exponent whose sign follows the `e` directly.
    let well_formed = !body.is_empty()
        && bytes.iter().enumerate().all(|(i, b)| match b {
            b'0'..=b'9' | b'.' | b'e' | b'E' => true,
            b'+' | b'-' => i > 0 && matches!(bytes[i - 1], b'e' | b'E'),
            _ => false,
        })
        && bytes.iter().any(u8::is_ascii_digit);
    if !well_formed {
        return None;
    }
    let sign = if t.starts_with('-') { "-" } else { "" };
    format!("{sign}{body}").parse().ok()
}

/// Cassandra's boolean property words: `1`/`true`/`yes` and `0`/`false`/`no`, any case.
pub fn parse_property_boolean(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meridian_types::cql_type::UdtType;

    fn udt(name: &str) -> CqlType {
        CqlType::Udt(UdtType {
            keyspace: "ks".into(),
            name: name.into(),
            fields: vec![("a".into(), CqlType::Int)],
        })
    }

    fn frozen(t: CqlType) -> CqlType {
        CqlType::Frozen(Box::new(t))
    }

    fn list(t: CqlType) -> CqlType {
        CqlType::List(Box::new(t))
    }

    #[test]
    fn canonical_type_strings() {
        assert_eq!(type_to_cql(&CqlType::Text), "text");
        assert_eq!(
            type_to_cql(&CqlType::Map(
                Box::new(CqlType::Text),
                Box::new(CqlType::Int)
            )),
            "map<text, int>"
        );
        assert_eq!(
            type_to_cql(&frozen(list(CqlType::Int))),
            "frozen<list<int>>"
        );
        // Non-frozen collection of frozen collections keeps the inner frozen<>.
        assert_eq!(
            type_to_cql(&list(frozen(CqlType::Set(Box::new(CqlType::Int))))),
            "list<frozen<set<int>>>"
        );
        // Nested frozen inside frozen is implicit.
        assert_eq!(
            type_to_cql(&frozen(list(frozen(CqlType::Set(Box::new(CqlType::Int)))))),
            "frozen<list<frozen<set<int>>>>"
        );
        assert_eq!(type_to_cql(&udt("address")), "address");
        assert_eq!(type_to_cql(&frozen(udt("address"))), "frozen<address>");
        assert_eq!(
            type_to_cql(&list(frozen(udt("Addr")))),
            "list<frozen<\"Addr\">>"
        );
        assert_eq!(
            type_to_cql(&CqlType::Tuple(vec![
                CqlType::Int,
                frozen(list(CqlType::Text))
            ])),
            "frozen<tuple<int, frozen<list<text>>>>"
        );
        assert_eq!(
            type_to_cql(&CqlType::Vector(Box::new(CqlType::Float), 3)),
            "vector<float, 3>"
        );
        assert_eq!(type_to_cql(&frozen(udt("text"))), "frozen<\"text\">");
        // As Cassandra 5.0 prints them (system_schema.columns.type and DESCRIBE).
        let pair = CqlType::Tuple(vec![CqlType::Int, CqlType::Int]);
        assert_eq!(
            type_to_cql(&CqlType::Tuple(vec![CqlType::Int, CqlType::Text])),
            "frozen<tuple<int, text>>"
        );
        assert_eq!(
            type_to_cql(&list(pair.clone())),
            "list<frozen<tuple<int, int>>>"
        );
        assert_eq!(
            type_to_cql(&CqlType::Tuple(vec![CqlType::Int, pair])),
            "frozen<tuple<int, frozen<tuple<int, int>>>>"
        );
        assert_eq!(
            type_to_cql(&frozen(list(udt("u")))),
            "frozen<list<frozen<u>>>"
        );
        assert_eq!(
            type_to_cql(&frozen(CqlType::Map(
                Box::new(CqlType::Int),
                Box::new(CqlType::Set(Box::new(CqlType::Int)))
            ))),
            "frozen<map<int, frozen<set<int>>>>"
        );
    }

    #[test]
    fn java_doubles() {
        for (v, s) in [
            (0.01, "0.01"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (6.71e-5, "6.71E-5"),
            (1e-7, "1.0E-7"),
            (1e7, "1.0E7"),
            (1234567.0, "1234567.0"),
            (0.001, "0.001"),
            (1.23, "1.23"),
            (-2.5, "-2.5"),
            (100.0, "100.0"),
            (0.0, "0.0"),
            (f64::INFINITY, "Infinity"),
        ] {
            assert_eq!(java_double(v), s);
        }
    }

    #[test]
    fn java_number_parsing() {
        assert_eq!(java_parse_int("+3"), Some(3));
        assert_eq!(java_parse_int("-3"), Some(-3));
        assert_eq!(java_parse_int(" 3"), None);
        assert_eq!(java_parse_int("3.0"), None);
        assert_eq!(java_parse_int("99999999999"), None);
        assert_eq!(java_parse_double("0.1"), Some(0.1));
        assert_eq!(java_parse_double(" 1e-3 "), Some(0.001));
        assert_eq!(java_parse_double("2d"), Some(2.0));
        assert_eq!(java_parse_double("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(java_parse_double("inf"), None);
        assert_eq!(java_parse_double("abc"), None);
        assert_eq!(java_parse_double(""), None);
        assert_eq!(java_parse_double("+-1"), None);
        assert_eq!(java_parse_double("1e+3"), Some(1000.0));
        assert!(java_parse_double("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_property_boolean("YES"), Some(true));
        assert_eq!(parse_property_boolean("0"), Some(false));
        assert_eq!(parse_property_boolean("maybe"), None);
    }

    #[test]
    fn identifiers() {
        assert_eq!(qualified_name("ks", "MyTable"), "ks.\"MyTable\"");
        assert_eq!(quote_type_name("list"), "\"list\"");
        assert_eq!(quote_type_name("address"), "address");
    }
}
