//! JSON renderings of CQL values (`SELECT JSON`, `toJson`) and their inverse (`INSERT JSON`,
//! `fromJson`), as Cassandra's types render and parse them (`toJSONString` /
//! `fromJSONObject`).
//!
//! Rendering: numbers as JSON numbers (floating point values as Java prints them, NaN and
//! infinities as `null`), strings, UUIDs, inets, dates, times, durations and blobs (`"0x…"`)
//! as JSON strings, timestamps as `"yyyy-MM-dd HH:mm:ss.SSSZ"` (UTC), lists, sets, tuples
//! and vectors as arrays, maps as objects (non-string keys rendered then quoted), UDTs as
//! objects (field names that are not lower case quoted as `"\"Name\""`). The empty value of a
//! fixed-size type renders as `""`.
//!
//! Parsing follows Jackson's typing of JSON numbers as Cassandra sees them: an integer is an
//! `Integer`, a `Long` or a `BigInteger` depending on its size, a number with a fraction or
//! exponent is a `Double`; each type accepts what Cassandra's type accepts (numbers or their
//! strings, strings for the textual types, nested JSON in strings for collections) with
//! Cassandra's messages.
//!
//! Invariants: parsing never panics on any JSON; recursion is bounded by
//! [`MAX_JSON_DEPTH`]; every produced value is valid for its type.

use std::fmt::Write as _;

use bytes::{BufMut, Bytes, BytesMut};
use meridian_types::cql_type::{compare, CqlType};
use serde_json::Value as Json;

use crate::error::QueryError;
use crate::terms::number::{
    java_double_to_string, java_float_to_string, parse_bigint, varint_from_bytes, varint_to_bytes,
    Decimal,
};
use crate::terms::temporal;
use crate::terms::{native, put_unsigned_vint};

/// Deepest nesting of collections, tuples and UDTs rendered or parsed.
pub const MAX_JSON_DEPTH: usize = 64;

/// Appends `s` as a JSON string body with Jackson's escaping (`"`, `\`, control characters;
/// non-ASCII characters are kept).
fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// `s` as a quoted JSON string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    push_escaped(&mut out, s);
    out.push('"');
    out
}

/// A column or field name as Cassandra writes it in JSON keys: quoted with `"` inside the
/// key when it is not all lower case.
pub fn json_key_name(name: &str) -> String {
    if name != name.to_lowercase() {
        quote(&format!("\"{name}\""))
    } else {
        quote(name)
    }
}

/// Renders a serialized value of `ty` as JSON (`null` for `None`).
pub fn to_json(ty: &CqlType, value: Option<&[u8]>) -> Result<String, QueryError> {
    match value {
        None => Ok("null".to_string()),
        Some(v) => {
            let mut out = String::new();
            write_json(&mut out, ty, v, 0).map_err(QueryError::invalid)?;
            Ok(out)
        }
    }
}

/// `SELECT JSON`: one row as a JSON object of its columns (name, type, value).
pub fn row_to_json(columns: &[(String, CqlType, Option<Bytes>)]) -> Result<String, QueryError> {
    let mut out = String::from("{");
    for (i, (name, ty, value)) in columns.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&json_key_name(name));
        out.push_str(": ");
        out.push_str(&to_json(ty, value.as_deref())?);
    }
    out.push('}');
    Ok(out)
}

/// A reader of length-prefixed serialized elements.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn i32(&mut self) -> Result<i32, String> {
        let (head, tail) = self
            .rest
            .split_first_chunk::<4>()
            .ok_or_else(|| "truncated value".to_string())?;
        self.rest = tail;
        Ok(i32::from_be_bytes(*head))
    }

    fn element(&mut self) -> Result<Option<&'a [u8]>, String> {
        let len = self.i32()?;
        if len < 0 {
            return Ok(None);
        }
        let len = len as usize;
        if self.rest.len() < len {
            return Err("truncated value".to_string());
        }
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        Ok(Some(head))
    }

    fn unsigned_vint(&mut self) -> Result<u64, String> {
        let (&first, tail) = self
            .rest
            .split_first()
            .ok_or_else(|| "truncated value".to_string())?;
        let extra = first.leading_ones() as usize;
        let bytes = tail
            .get(..extra)
            .ok_or_else(|| "truncated value".to_string())?;
        let mut v = u64::from(first) & (0xffu64.checked_shr(extra as u32).unwrap_or(0));
        for &b in bytes {
            v = (v << 8) | u64::from(b);
        }
        self.rest = tail.get(extra..).unwrap_or(&[]);
        Ok(v)
    }
}

fn fixed<const N: usize>(v: &[u8], ty: &CqlType) -> Result<[u8; N], String> {
    v.try_into()
        .map_err(|_| format!("invalid {ty} value of {} bytes", v.len()))
}

fn write_json(out: &mut String, ty: &CqlType, v: &[u8], depth: usize) -> Result<(), String> {
    if depth > MAX_JSON_DEPTH {
        return Err("value nesting is too deep for JSON".to_string());
    }
    let fixed_size = matches!(
        ty,
        CqlType::Int
            | CqlType::Bigint
            | CqlType::Counter
            | CqlType::Smallint
            | CqlType::Tinyint
            | CqlType::Float
            | CqlType::Double
            | CqlType::Boolean
            | CqlType::Decimal
            | CqlType::Uuid
            | CqlType::Timeuuid
            | CqlType::Inet
            | CqlType::Timestamp
            | CqlType::Date
            | CqlType::Time
            | CqlType::Duration
    );
    if v.is_empty() && fixed_size {
        out.push_str("\"\"");
        return Ok(());
    }
    match ty {
        CqlType::Frozen(inner) => return write_json(out, inner, v, depth + 1),
        CqlType::Ascii | CqlType::Text => {
            let s = std::str::from_utf8(v).map_err(|_| "invalid UTF-8 text".to_string())?;
            out.push_str(&quote(s));
        }
        CqlType::Int => out.push_str(&i32::from_be_bytes(fixed(v, ty)?).to_string()),
        CqlType::Bigint | CqlType::Counter => {
            out.push_str(&i64::from_be_bytes(fixed(v, ty)?).to_string())
        }
        CqlType::Smallint => out.push_str(&i16::from_be_bytes(fixed(v, ty)?).to_string()),
        CqlType::Tinyint => out.push_str(&i8::from_be_bytes(fixed(v, ty)?).to_string()),
        CqlType::Varint => out.push_str(&varint_from_bytes(v).to_string()),
        CqlType::Decimal => out.push_str(
            &Decimal::from_bytes(v)
                .ok_or_else(|| "invalid decimal value".to_string())?
                .to_string(),
        ),
        CqlType::Float => {
            let f = f32::from_be_bytes(fixed(v, ty)?);
            if f.is_finite() {
                out.push_str(&java_float_to_string(f));
            } else {
                out.push_str("null");
            }
        }
        CqlType::Double => {
            let f = f64::from_be_bytes(fixed(v, ty)?);
            if f.is_finite() {
                out.push_str(&java_double_to_string(f));
            } else {
                out.push_str("null");
            }
        }
        CqlType::Boolean => out.push_str(if fixed::<1>(v, ty)?[0] != 0 {
            "true"
        } else {
            "false"
        }),
        CqlType::Blob => {
            out.push_str("\"0x");
            out.push_str(&native::to_hex(v));
            out.push('"');
        }
        CqlType::Uuid
        | CqlType::Timeuuid
        | CqlType::Inet
        | CqlType::Date
        | CqlType::Time
        | CqlType::Duration => {
            out.push_str(&quote(&native::to_text(ty, v)?));
        }
        CqlType::Timestamp => {
            out.push_str(&quote(&temporal::format_timestamp_json(
                i64::from_be_bytes(fixed(v, ty)?),
            )));
        }
        CqlType::List(e) | CqlType::Set(e) => {
            let mut r = Reader { rest: v };
            let n = r.i32()?;
            out.push('[');
            for i in 0..n.max(0) {
                if i > 0 {
                    out.push_str(", ");
                }
                match r.element()? {
                    Some(b) => write_json(out, e, b, depth + 1)?,
                    None => out.push_str("null"),
                }
            }
            out.push(']');
        }
        CqlType::Map(k, val) => {
            let mut r = Reader { rest: v };
            let n = r.i32()?;
            out.push('{');
            for i in 0..n.max(0) {
                if i > 0 {
                    out.push_str(", ");
                }
                let mut key = String::new();
                match r.element()? {
                    Some(b) => write_json(&mut key, k, b, depth + 1)?,
                    None => key.push_str("null"),
                }
                if key.starts_with('"') {
                    out.push_str(&key);
                } else {
                    out.push_str(&quote(&key));
                }
                out.push_str(": ");
                match r.element()? {
                    Some(b) => write_json(out, val, b, depth + 1)?,
                    None => out.push_str("null"),
                }
            }
            out.push('}');
        }
        CqlType::Tuple(types) => {
            let mut r = Reader { rest: v };
            out.push('[');
            for (i, t) in types.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let element = if r.rest.is_empty() {
                    None
                } else {
                    r.element()?
                };
                match element {
                    Some(b) => write_json(out, t, b, depth + 1)?,
                    None => out.push_str("null"),
                }
            }
            out.push(']');
        }
        CqlType::Udt(u) => {
            let mut r = Reader { rest: v };
            out.push('{');
            for (i, (name, t)) in u.fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&json_key_name(name));
                out.push_str(": ");
                let element = if r.rest.is_empty() {
                    None
                } else {
                    r.element()?
                };
                match element {
                    Some(b) => write_json(out, t, b, depth + 1)?,
                    None => out.push_str("null"),
                }
            }
            out.push('}');
        }
        CqlType::Vector(e, n) => {
            let mut r = Reader { rest: v };
            let size = e.value_length_if_fixed();
            out.push('[');
            for i in 0..*n {
                if i > 0 {
                    out.push_str(", ");
                }
                let len = match size {
                    Some(s) => s,
                    None => usize::try_from(r.unsigned_vint()?)
                        .map_err(|_| "invalid vector".to_string())?,
                };
                if r.rest.len() < len {
                    return Err("truncated vector value".to_string());
                }
                let (head, tail) = r.rest.split_at(len);
                r.rest = tail;
                write_json(out, e, head, depth + 1)?;
            }
            out.push(']');
        }
    }
    Ok(())
}

/// The Java class Jackson would give a JSON value (for Cassandra's messages).
fn java_class(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "Boolean",
        Json::Number(n) => match java_number(n) {
            JavaNumber::Integer(_) => "Integer",
            JavaNumber::Long(_) => "Long",
            JavaNumber::BigInteger(_) => "BigInteger",
            JavaNumber::Double(_) => "Double",
        },
        Json::String(_) => "String",
        Json::Array(_) => "ArrayList",
        Json::Object(_) => "LinkedHashMap",
    }
}

/// A JSON number as Jackson types it.
enum JavaNumber {
    Integer(i32),
    Long(i64),
    BigInteger(num_bigint::BigInt),
    Double(f64),
}

fn java_number(n: &serde_json::Number) -> JavaNumber {
    let text = n.to_string();
    if !text.contains(['.', 'e', 'E']) {
        if let Ok(v) = text.parse::<i32>() {
            return JavaNumber::Integer(v);
        }
        if let Ok(v) = text.parse::<i64>() {
            return JavaNumber::Long(v);
        }
        if let Some(v) = parse_bigint(&text) {
            return JavaNumber::BigInteger(v);
        }
    }
    JavaNumber::Double(text.parse::<f64>().unwrap_or(f64::NAN))
}

/// Java's `toString()` of the object Jackson makes of a JSON value.
fn java_string(v: &Json) -> String {
    match v {
        Json::Null => "null".to_string(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => match java_number(n) {
            JavaNumber::Integer(i) => i.to_string(),
            JavaNumber::Long(i) => i.to_string(),
            JavaNumber::BigInteger(i) => i.to_string(),
            JavaNumber::Double(d) => java_double_to_string(d),
        },
        Json::String(s) => s.clone(),
        Json::Array(items) => format!(
            "[{}]",
            items.iter().map(java_string).collect::<Vec<_>>().join(", ")
        ),
        Json::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{k}={}", java_string(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn expected(what: &str, v: &Json) -> String {
    format!(
        "Expected {what}, but got a {}: {}",
        java_class(v),
        java_string(v)
    )
}

/// Reads a JSON value as a serialized value of `ty` (`None` for JSON `null`); errors carry
/// Cassandra's `MarshalException` message.
pub fn from_json(ty: &CqlType, json: &Json) -> Result<Option<Bytes>, QueryError> {
    if json.is_null() {
        return Ok(None);
    }
    parse_value(ty, json, 0)
        .map(Some)
        .map_err(QueryError::invalid)
}

/// [`from_json`] for a column of `INSERT JSON`: `Error decoding JSON value for <name>: ...`.
pub fn from_json_column(
    name: &str,
    ty: &CqlType,
    json: &Json,
) -> Result<Option<Bytes>, QueryError> {
    if json.is_null() {
        return Ok(None);
    }
    parse_value(ty, json, 0)
        .map(Some)
        .map_err(|e| QueryError::invalid(format!("Error decoding JSON value for {name}: {e}")))
}

/// The `fromJson(text)` function: parses `text` and reads it as `ty`; failures are function
/// failures as Cassandra reports them.
pub fn from_json_function(
    ty: &CqlType,
    function: &str,
    text: &str,
) -> Result<Option<Bytes>, QueryError> {
    let failure = |message: String| QueryError::FunctionFailure {
        keyspace: "system".to_string(),
        function: function.trim_start_matches("system.").to_string(),
        arg_types: vec!["text".to_string()],
        message,
    };
    let json: Json = serde_json::from_str(text).map_err(|e| {
        failure(format!(
            "execution of '{function}[text]' failed: Could not decode JSON string '{text}': {e}"
        ))
    })?;
    if json.is_null() {
        return Ok(None);
    }
    parse_value(ty, &json, 0).map(Some).map_err(|e| {
        // Cassandra 5.0 reports the marshalling error alone, without the
        // "execution of ... failed" prefix.
        failure(format!(
            "org.apache.cassandra.serializers.MarshalException: {e}"
        ))
    })
}

/// Parses the text of `INSERT JSON` into (column name, value) pairs, with Cassandra's
/// handling of names: `"\"Name\""` keeps its case, other names are lower-cased; a later
/// duplicate wins.
pub fn parse_json_row(text: &str) -> Result<Vec<(String, Json)>, QueryError> {
    let json: Json = serde_json::from_str(text).map_err(|e| {
        QueryError::invalid(format!(
            "Could not decode JSON string as a map: {e}. (String was: {text})"
        ))
    })?;
    let map = match json {
        Json::Object(map) => map,
        Json::Null => return Err(QueryError::invalid("Got null for INSERT JSON values")),
        other => {
            return Err(QueryError::invalid(format!(
                "Could not decode JSON string as a map: expected a JSON object but got {}. (String was: {text})",
                java_class(&other)
            )))
        }
    };
    let mut out: Vec<(String, Json)> = Vec::with_capacity(map.len());
    for (key, value) in map {
        let name = if key.len() >= 2 && key.starts_with('"') && key.ends_with('"') {
            key[1..key.len() - 1].to_string()
        } else {
            key.to_lowercase()
        };
        if let Some(existing) = out.iter_mut().find(|(n, _)| *n == name) {
            existing.1 = value;
        } else {
            out.push((name, value));
        }
    }
    Ok(out)
}

fn from_native_string(ty: &CqlType, s: &str) -> Result<Bytes, String> {
    native::from_string(ty, s)
}

fn pack_elements(elements: &[Bytes]) -> Bytes {
    let mut buf = BytesMut::new();
    buf.put_i32(i32::try_from(elements.len()).unwrap_or(i32::MAX));
    for e in elements {
        buf.put_i32(i32::try_from(e.len()).unwrap_or(i32::MAX));
        buf.put_slice(e);
    }
    buf.freeze()
}

/// A decoded JSON array as Java's `List.toString` prints the parsed list (Cassandra's messages
/// quote it so): `[a, 1, [2, 3]]`, strings unquoted.
fn java_list_text(items: &[Json]) -> String {
    fn item(v: &Json) -> String {
        match v {
            Json::String(s) => s.clone(),
            Json::Array(a) => java_list_text(a),
            Json::Object(m) => {
                let fields: Vec<String> =
                    m.iter().map(|(k, v)| format!("{k}={}", item(v))).collect();
                format!("{{{}}}", fields.join(", "))
            }
            other => other.to_string(),
        }
    }
    let parts: Vec<String> = items.iter().map(item).collect();
    format!("[{}]", parts.join(", "))
}

/// A JSON string holding JSON, decoded (collections, tuples and UDTs accept those).
fn decode_nested(v: &Json) -> Result<Option<Json>, String> {
    match v {
        Json::String(s) => serde_json::from_str(s)
            .map(Some)
            .map_err(|e| format!("Error decoding JSON string: {e}")),
        _ => Ok(None),
    }
}

fn parse_value(ty: &CqlType, v: &Json, depth: usize) -> Result<Bytes, String> {
    if depth > MAX_JSON_DEPTH {
        return Err("JSON value nesting is too deep".to_string());
    }
    let number_text = |v: &Json| -> Option<String> {
        match v {
            Json::Number(n) => Some(java_string(&Json::Number(n.clone()))),
            _ => None,
        }
    };
    match ty {
        CqlType::Frozen(inner) => parse_value(inner, v, depth + 1),
        CqlType::Ascii => match v {
            Json::String(s) => from_native_string(ty, s),
            _ => Err(expected("an ascii string", v)),
        },
        CqlType::Text => match v {
            Json::String(s) => Ok(Bytes::copy_from_slice(s.as_bytes())),
            _ => Err(expected("a UTF-8 string", v)),
        },
        CqlType::Int => match v {
            Json::String(s) => from_native_string(ty, s),
            Json::Number(n) => match java_number(n) {
                JavaNumber::Integer(i) => Ok(Bytes::copy_from_slice(&i.to_be_bytes())),
                _ => Err(expected("an int value", v)),
            },
            _ => Err(expected("an int value", v)),
        },
        CqlType::Bigint | CqlType::Counter => match v {
            Json::String(s) => from_native_string(ty, s),
            Json::Number(n) => match java_number(n) {
                JavaNumber::Integer(i) => Ok(Bytes::copy_from_slice(&i64::from(i).to_be_bytes())),
                JavaNumber::Long(i) => Ok(Bytes::copy_from_slice(&i.to_be_bytes())),
                _ => Err(expected("a bigint value", v)),
            },
            _ => Err(expected("a bigint value", v)),
        },
        CqlType::Smallint | CqlType::Tinyint => {
            let what = if *ty == CqlType::Smallint {
                "a short value"
            } else {
                "a byte value"
            };
            match v {
                Json::String(s) => from_native_string(ty, s),
                Json::Number(_) => from_native_string(ty, &number_text(v).unwrap_or_default()),
                _ => Err(expected(what, v)),
            }
        }
        CqlType::Varint => {
            let text = java_string(v);
            match (v, parse_bigint(&text)) {
                (Json::String(_) | Json::Number(_), Some(b)) => {
                    Ok(Bytes::from(varint_to_bytes(&b)))
                }
                _ => Err(format!(
                    "Value '{text}' is not a valid representation of a varint value"
                )),
            }
        }
        CqlType::Decimal => {
            let text = java_string(v);
            match (v, Decimal::parse(&text)) {
                (Json::String(_) | Json::Number(_), Some(d)) => Ok(Bytes::from(d.to_bytes())),
                _ => Err(format!(
                    "Value '{text}' is not a valid representation of a decimal value"
                )),
            }
        }
        CqlType::Float => match v {
            Json::String(s) => from_native_string(ty, s),
            Json::Number(n) => {
                let f = match java_number(n) {
                    JavaNumber::Integer(i) => i as f32,
                    JavaNumber::Long(i) => i as f32,
                    JavaNumber::BigInteger(b) => crate::terms::number::bigint_to_f64(&b) as f32,
                    JavaNumber::Double(d) => d as f32,
                };
                Ok(Bytes::copy_from_slice(&f.to_be_bytes()))
            }
            _ => Err(expected("a float value", v)),
        },
        CqlType::Double => match v {
            Json::String(s) => from_native_string(ty, s),
            Json::Number(n) => {
                let f = match java_number(n) {
                    JavaNumber::Integer(i) => f64::from(i),
                    JavaNumber::Long(i) => i as f64,
                    JavaNumber::BigInteger(b) => crate::terms::number::bigint_to_f64(&b),
                    JavaNumber::Double(d) => d,
                };
                Ok(Bytes::copy_from_slice(&f.to_be_bytes()))
            }
            _ => Err(expected("a double value", v)),
        },
        CqlType::Boolean => match v {
            Json::String(s) => from_native_string(ty, s),
            Json::Bool(b) => Ok(Bytes::copy_from_slice(&[u8::from(*b)])),
            _ => Err(expected("a boolean value", v)),
        },
        CqlType::Blob => match v {
            Json::String(s) => {
                let Some(hex) = s.strip_prefix("0x") else {
                    return Err(format!(
                        "Value '{s}' is not a valid blob representation: String representation of blob is missing 0x prefix: {s}"
                    ));
                };
                native::parse_hex(hex)
                    .map(Bytes::from)
                    .ok_or_else(|| format!("cannot parse '{hex}' as hex bytes"))
            }
            _ => Err(expected("a string representation of a blob", v)),
        },
        CqlType::Uuid
        | CqlType::Timeuuid
        | CqlType::Inet
        | CqlType::Date
        | CqlType::Time
        | CqlType::Duration => {
            let what = match ty {
                CqlType::Uuid => "a string representation of a uuid",
                CqlType::Timeuuid => "a string representation of a timeuuid",
                CqlType::Inet => "a string representation of an inet value",
                CqlType::Date => "a string representation of a date value",
                CqlType::Time => "a string representation of a time value",
                _ => "a string representation of a duration",
            };
            match v {
                Json::String(s) => from_native_string(ty, s),
                _ => Err(expected(what, v)),
            }
        }
        CqlType::Timestamp => match v {
            Json::String(s) => from_native_string(ty, s),
            // Cassandra 5.0 (`TimestampType.fromJSONObject`) takes a Long only: a number that
            // Jackson reads as an Integer (it fits in 32 bits) is refused.
            Json::Number(n) => match java_number(n) {
                JavaNumber::Long(i) => Ok(Bytes::copy_from_slice(&i.to_be_bytes())),
                _ => Err(expected(
                    "a long or a datestring representation of a timestamp value",
                    v,
                )),
            },
            _ => Err(expected(
                "a long or a datestring representation of a timestamp value",
                v,
            )),
        },
        CqlType::List(e) | CqlType::Set(e) => {
            let decoded = decode_nested(v)?;
            let v = decoded.as_ref().unwrap_or(v);
            let is_set = matches!(ty, CqlType::Set(_));
            let Json::Array(items) = v else {
                return Err(expected(
                    if is_set {
                        "a list (representing a set)"
                    } else {
                        "a list"
                    },
                    v,
                ));
            };
            let mut elements = Vec::with_capacity(items.len());
            for item in items {
                if item.is_null() {
                    return Err(format!(
                        "Invalid null element in {}",
                        if is_set { "set" } else { "list" }
                    ));
                }
                elements.push(parse_value(e, item, depth + 1)?);
            }
            if is_set {
                elements.sort_by(|a, b| compare(e, a, b));
                elements.dedup_by(|b, a| compare(e, a, b) == std::cmp::Ordering::Equal);
            }
            Ok(pack_elements(&elements))
        }
        CqlType::Map(k, val) => {
            let decoded = decode_nested(v)?;
            let v = decoded.as_ref().unwrap_or(v);
            let Json::Object(map) = v else {
                return Err(expected("a map", v));
            };
            let mut entries: Vec<(Bytes, Bytes)> = Vec::with_capacity(map.len());
            for (key, value) in map {
                if value.is_null() {
                    return Err("Invalid null value in map".to_string());
                }
                let kb = parse_value(k, &Json::String(key.clone()), depth + 1)?;
                let vb = parse_value(val, value, depth + 1)?;
                entries.push((kb, vb));
            }
            entries.sort_by(|(a, _), (b, _)| compare(k, a, b));
            let mut deduped: Vec<(Bytes, Bytes)> = Vec::with_capacity(entries.len());
            for (kb, vb) in entries {
                match deduped.last_mut() {
                    Some((lk, lv)) if compare(k, lk, &kb) == std::cmp::Ordering::Equal => *lv = vb,
                    _ => deduped.push((kb, vb)),
                }
            }
            let mut buf = BytesMut::new();
            buf.put_i32(i32::try_from(deduped.len()).unwrap_or(i32::MAX));
            for (kb, vb) in &deduped {
                buf.put_i32(i32::try_from(kb.len()).unwrap_or(i32::MAX));
                buf.put_slice(kb);
                buf.put_i32(i32::try_from(vb.len()).unwrap_or(i32::MAX));
                buf.put_slice(vb);
            }
            Ok(buf.freeze())
        }
        CqlType::Tuple(types) => {
            let decoded = decode_nested(v)?;
            let v = decoded.as_ref().unwrap_or(v);
            let Json::Array(items) = v else {
                return Err(expected("a list representation of a tuple", v));
            };
            if items.len() > types.len() {
                return Err(format!(
                    "Tuple contains extra items (expected {}, got {})",
                    types.len(),
                    items.len()
                ));
            }
            if items.len() < types.len() {
                return Err(format!(
                    "Tuple is missing items (expected {}): {}",
                    types.len(),
                    java_list_text(items)
                ));
            }
            let mut buf = BytesMut::new();
            for (i, t) in types.iter().enumerate() {
                match items.get(i) {
                    Some(item) if !item.is_null() => {
                        let b = parse_value(t, item, depth + 1)?;
                        buf.put_i32(i32::try_from(b.len()).unwrap_or(i32::MAX));
                        buf.put_slice(&b);
                    }
                    _ => buf.put_i32(-1),
                }
            }
            Ok(buf.freeze())
        }
        CqlType::Udt(u) => {
            let decoded = decode_nested(v)?;
            let v = decoded.as_ref().unwrap_or(v);
            let Json::Object(map) = v else {
                return Err(expected("a map", v));
            };
            let mut fields: Vec<(String, &Json)> = Vec::with_capacity(map.len());
            for (key, value) in map {
                let name = if key.len() >= 2 && key.starts_with('"') && key.ends_with('"') {
                    key[1..key.len() - 1].to_string()
                } else {
                    key.to_lowercase()
                };
                fields.push((name, value));
            }
            if let Some((unknown, _)) = fields
                .iter()
                .find(|(n, _)| !u.fields.iter().any(|(f, _)| f == n))
            {
                return Err(format!(
                    "Unknown field '{unknown}' in value of user defined type {}",
                    u.name
                ));
            }
            let mut buf = BytesMut::new();
            for (name, t) in &u.fields {
                match fields.iter().rev().find(|(n, _)| n == name) {
                    Some((_, value)) if !value.is_null() => {
                        let b = parse_value(t, value, depth + 1)?;
                        buf.put_i32(i32::try_from(b.len()).unwrap_or(i32::MAX));
                        buf.put_slice(&b);
                    }
                    _ => buf.put_i32(-1),
                }
            }
            Ok(buf.freeze())
        }
        CqlType::Vector(e, n) => {
            let decoded = decode_nested(v)?;
            let v = decoded.as_ref().unwrap_or(v);
            let Json::Array(items) = v else {
                return Err(expected("a list", v));
            };
            if items.len() != *n as usize {
                return Err(format!(
                    "Invalid vector literal for {ty}; expected {n} elements, but given {}",
                    items.len()
                ));
            }
            let fixed_size = e.value_length_if_fixed().is_some();
            let mut buf = BytesMut::new();
            for item in items {
                if item.is_null() {
                    return Err("Invalid null element in vector".to_string());
                }
                let b = parse_value(e, item, depth + 1)?;
                if !fixed_size {
                    put_unsigned_vint(&mut buf, b.len() as u64);
                }
                buf.put_slice(&b);
            }
            Ok(buf.freeze())
        }
    }
}
