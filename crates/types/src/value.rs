//! CQL values as Rust data: [`CqlValue`], with
//!
//! * [`CqlValue::serialize`] / [`CqlValue::to_bytes`]: the native protocol v4 serialized form
//!   (the same bytes Cassandra stores): big-endian fixed-width numbers, collections as an
//!   `i32` element count followed by `i32`-length-prefixed elements, tuples and UDTs as
//!   `i32`-length-prefixed fields (a negative length is a null field), `duration` as three
//!   zig-zag vints, vectors as concatenated fixed-width elements or unsigned-vint-prefixed
//!   elements when the element type has no fixed width;
//! * [`CqlValue::deserialize`]: the inverse, driven by a [`CqlType`]; it treats its input as
//!   untrusted, never panics, never pre-allocates more than the input can hold, and bounds its
//!   recursion by [`MAX_VALUE_DEPTH`];
//! * [`fmt::Display`]: a CQL literal that a CQL parser reads back as the same value (strings
//!   quoted with `''` escapes, blobs as `0x…`, `{k: v}` maps, `{…}` sets, `[…]` lists and
//!   vectors, `(…)` tuples, `{field: v}` UDTs, bare UUIDs, timestamps as integer
//!   milliseconds, dates and times as quoted strings, durations in `1h30m` form).
//!
//! Invariants: for every value `v` built from a type `t` (same shape, UDT fields named as in
//! `t`, tuples and UDTs with one entry per field), `deserialize(t, v.to_bytes()) == v`, and
//! the bytes pass [`crate::cql_type::validate`]. The empty byte string, which Cassandra
//! accepts as "the empty value" for some fixed-width types, has no [`CqlValue`]
//! representation: decoding it for those types yields [`ValueError::EmptyValue`].

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, Bytes, BytesMut};

use crate::cql_type::{CqlType, TypeError, UdtType, MAX_TIME_NANOS};

/// Deepest nesting of collections, tuples, UDTs and vectors that [`CqlValue::deserialize`]
/// follows (the same bound as the type parser's, so any parsed type can be decoded).
pub const MAX_VALUE_DEPTH: usize = crate::cql_type::MAX_TYPE_NESTING_DEPTH;

/// Largest `varint` / `decimal` magnitude, in bytes, that [`fmt::Display`] converts to decimal
/// digits (about 9,860 digits). Larger numbers are printed as `blobAsVarint(0x…)` /
/// `blobAsDecimal(0x…)`, which is valid CQL and keeps formatting linear in the value size.
pub const MAX_DISPLAY_NUMBER_BYTES: usize = 4096;

/// Largest `decimal` scale (in absolute value) printed in positional notation; beyond it the
/// value is printed as `<unscaled>E<exponent>`.
const MAX_POSITIONAL_DECIMAL_SCALE: i64 = 1000;

/// Days between -5877641-06-23 (day 0 of the `date` type) and 1970-01-01.
const DATE_EPOCH_OFFSET_DAYS: i64 = 1 << 31;

/// A CQL value.
///
/// Collections keep their elements in the order given (a set or map built by hand is not
/// sorted or deduplicated here; values decoded from Cassandra-produced bytes are already in
/// Cassandra's order).
#[derive(Clone, Debug, PartialEq)]
pub enum CqlValue {
    /// `ascii`.
    Ascii(String),
    /// `bigint`.
    Bigint(i64),
    /// `blob`.
    Blob(Bytes),
    /// `boolean`.
    Boolean(bool),
    /// `counter` (its current value).
    Counter(i64),
    /// `date`: days with the Unix epoch at 2^31.
    Date(u32),
    /// `decimal`: `unscaled × 10^-scale`.
    Decimal {
        /// Big-endian two's complement unscaled value (non-empty).
        unscaled: Vec<u8>,
        /// Number of digits after the decimal point (negative: trailing zeros).
        scale: i32,
    },
    /// `double`.
    Double(f64),
    /// `duration`; the three fields share one sign.
    Duration {
        /// Months.
        months: i32,
        /// Days.
        days: i32,
        /// Nanoseconds.
        nanos: i64,
    },
    /// `float`.
    Float(f32),
    /// `inet`.
    Inet(IpAddr),
    /// `int`.
    Int(i32),
    /// `smallint`.
    Smallint(i16),
    /// `text` (and `varchar`).
    Text(String),
    /// `time`: nanoseconds since midnight.
    Time(i64),
    /// `timestamp`: milliseconds since the Unix epoch.
    Timestamp(i64),
    /// `timeuuid` (a version 1 UUID).
    Timeuuid(uuid::Uuid),
    /// `tinyint`.
    Tinyint(i8),
    /// `uuid`.
    Uuid(uuid::Uuid),
    /// `varint`: big-endian two's complement (non-empty).
    Varint(Vec<u8>),
    /// `list<T>`.
    List(Vec<CqlValue>),
    /// `set<T>`.
    Set(Vec<CqlValue>),
    /// `map<K, V>`.
    Map(Vec<(CqlValue, CqlValue)>),
    /// `tuple<…>`: one entry per component, `None` for null.
    Tuple(Vec<Option<CqlValue>>),
    /// A user-defined type value: field names and values (`None` for null), in field order.
    Udt(Vec<(String, Option<CqlValue>)>),
    /// `vector<T, n>`.
    Vector(Vec<CqlValue>),
}

/// Why bytes could not be decoded as a value of a type.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueError {
    /// The bytes are not a valid serialized value (Cassandra's validation wording).
    #[error(transparent)]
    Invalid(#[from] TypeError),
    /// The empty byte string, which Cassandra accepts for this type but which has no
    /// [`CqlValue`] representation.
    #[error("empty value for type {type_name} has no CQL value representation")]
    EmptyValue {
        /// CQL name of the type.
        type_name: String,
    },
    /// The type nests more deeply than [`MAX_VALUE_DEPTH`].
    #[error("value nesting deeper than {max_depth} levels")]
    TooDeep {
        /// The limit.
        max_depth: usize,
    },
}

impl CqlValue {
    /// Appends the serialized form of this value to `buf`.
    pub fn serialize(&self, buf: &mut BytesMut) {
        match self {
            CqlValue::Ascii(s) | CqlValue::Text(s) => buf.put_slice(s.as_bytes()),
            CqlValue::Bigint(v) | CqlValue::Counter(v) | CqlValue::Timestamp(v) => buf.put_i64(*v),
            CqlValue::Time(v) => buf.put_i64(*v),
            CqlValue::Blob(b) => buf.put_slice(b),
            CqlValue::Boolean(b) => buf.put_u8(u8::from(*b)),
            CqlValue::Date(d) => buf.put_u32(*d),
            CqlValue::Decimal { unscaled, scale } => {
                buf.put_i32(*scale);
                buf.put_slice(unscaled);
            }
            CqlValue::Double(v) => buf.put_f64(*v),
            CqlValue::Duration {
                months,
                days,
                nanos,
            } => {
                put_signed_vint(buf, i64::from(*months));
                put_signed_vint(buf, i64::from(*days));
                put_signed_vint(buf, *nanos);
            }
            CqlValue::Float(v) => buf.put_f32(*v),
            CqlValue::Inet(IpAddr::V4(a)) => buf.put_slice(&a.octets()),
            CqlValue::Inet(IpAddr::V6(a)) => buf.put_slice(&a.octets()),
            CqlValue::Int(v) => buf.put_i32(*v),
            CqlValue::Smallint(v) => buf.put_i16(*v),
            CqlValue::Timeuuid(u) | CqlValue::Uuid(u) => buf.put_slice(u.as_bytes()),
            CqlValue::Tinyint(v) => buf.put_i8(*v),
            CqlValue::Varint(v) => buf.put_slice(v),
            CqlValue::List(elements) | CqlValue::Set(elements) => {
                put_count(buf, elements.len());
                for e in elements {
                    put_prefixed(buf, Some(e));
                }
            }
            CqlValue::Map(entries) => {
                put_count(buf, entries.len());
                for (k, v) in entries {
                    put_prefixed(buf, Some(k));
                    put_prefixed(buf, Some(v));
                }
            }
            CqlValue::Tuple(fields) => {
                for f in fields {
                    put_prefixed(buf, f.as_ref());
                }
            }
            CqlValue::Udt(fields) => {
                for (_, f) in fields {
                    put_prefixed(buf, f.as_ref());
                }
            }
            CqlValue::Vector(elements) => {
                for e in elements {
                    if e.has_fixed_length() {
                        e.serialize(buf);
                    } else {
                        let bytes = e.to_bytes();
                        put_unsigned_vint(buf, bytes.len() as u64);
                        buf.put_slice(&bytes);
                    }
                }
            }
        }
    }

    /// The serialized form of this value.
    pub fn to_bytes(&self) -> Bytes {
        let mut buf = BytesMut::new();
        self.serialize(&mut buf);
        buf.freeze()
    }

    /// Whether values of this variant's type have a fixed serialized size (Cassandra's
    /// `valueLengthIfFixed`, which decides how vectors lay out their elements). Mirrors
    /// [`CqlType::value_length_if_fixed`].
    fn has_fixed_length(&self) -> bool {
        match self {
            CqlValue::Boolean(_)
            | CqlValue::Int(_)
            | CqlValue::Float(_)
            | CqlValue::Bigint(_)
            | CqlValue::Double(_)
            | CqlValue::Timestamp(_)
            | CqlValue::Uuid(_)
            | CqlValue::Timeuuid(_) => true,
            CqlValue::Vector(elements) => {
                !elements.is_empty() && elements.iter().all(CqlValue::has_fixed_length)
            }
            _ => false,
        }
    }

    /// Decodes a serialized value of type `ty`. Never panics; see the module docs for what
    /// is accepted.
    pub fn deserialize(ty: &CqlType, bytes: &[u8]) -> Result<CqlValue, ValueError> {
        decode(ty, bytes, 0)
    }
}

/// Writes a collection element count.
fn put_count(buf: &mut BytesMut, len: usize) {
    // A collection with more than i32::MAX elements cannot exist in memory.
    buf.put_i32(i32::try_from(len).unwrap_or(i32::MAX));
}

/// Writes an `i32` length then the serialized value, or `-1` for null.
fn put_prefixed(buf: &mut BytesMut, value: Option<&CqlValue>) {
    let Some(value) = value else {
        buf.put_i32(-1);
        return;
    };
    let at = buf.len();
    buf.put_i32(0);
    value.serialize(buf);
    let len = buf.len() - at - 4;
    let len = i32::try_from(len).unwrap_or(i32::MAX).to_be_bytes();
    if let Some(slot) = buf.get_mut(at..at + 4) {
        slot.copy_from_slice(&len);
    }
}

/// Cassandra's unsigned vint: the number of leading one bits of the first byte is the number
/// of extra bytes; the value is big-endian.
fn put_unsigned_vint(buf: &mut BytesMut, value: u64) {
    let bits = 64 - value.leading_zeros() as usize;
    let extra = bits.saturating_sub(7).div_ceil(7).min(8);
    if extra == 8 {
        buf.put_u8(0xff);
        buf.put_u64(value);
        return;
    }
    let first_mask = !(0xffu8 >> extra);
    let first = if extra == 0 {
        value as u8
    } else {
        (value >> (8 * extra)) as u8
    };
    buf.put_u8(first_mask | first);
    let be = value.to_be_bytes();
    buf.put_slice(&be[8 - extra..]);
}

/// Cassandra's signed vint (zig-zag, then unsigned vint).
fn put_signed_vint(buf: &mut BytesMut, value: i64) {
    put_unsigned_vint(buf, ((value << 1) ^ (value >> 63)) as u64);
}

/// A cursor over untrusted bytes.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn i32(&mut self) -> Option<i32> {
        let (head, tail) = self.rest.split_first_chunk::<4>()?;
        self.rest = tail;
        Some(i32::from_be_bytes(*head))
    }

    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        if self.rest.len() < len {
            return None;
        }
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        Some(head)
    }

    fn unsigned_vint(&mut self) -> Option<u64> {
        let (&first, tail) = self.rest.split_first()?;
        let extra = first.leading_ones() as usize;
        let extra_bytes = tail.get(..extra)?;
        let mut value = u64::from(first) & (0xffu64 >> extra);
        for &b in extra_bytes {
            value = (value << 8) | u64::from(b);
        }
        self.rest = tail.get(extra..)?;
        Some(value)
    }

    fn signed_vint(&mut self) -> Option<i64> {
        let n = self.unsigned_vint()?;
        Some(((n >> 1) as i64) ^ -((n & 1) as i64))
    }
}

/// `Ok(array)` when `bytes` has exactly `N` bytes; the empty value and other sizes are errors.
fn exact<const N: usize>(
    type_name: &'static str,
    bytes: &[u8],
    empty_allowed: bool,
) -> Result<[u8; N], ValueError> {
    if bytes.is_empty() && empty_allowed {
        return Err(ValueError::EmptyValue {
            type_name: type_name.to_string(),
        });
    }
    bytes.try_into().map_err(|_| {
        ValueError::Invalid(TypeError::WrongSize {
            type_name,
            actual_bytes: bytes.len(),
        })
    })
}

fn decode(ty: &CqlType, bytes: &[u8], depth: usize) -> Result<CqlValue, ValueError> {
    if depth >= MAX_VALUE_DEPTH {
        return Err(ValueError::TooDeep {
            max_depth: MAX_VALUE_DEPTH,
        });
    }
    Ok(match ty {
        CqlType::Frozen(inner) => return decode(inner, bytes, depth + 1),
        CqlType::Ascii => match bytes.iter().position(|b| !b.is_ascii()) {
            Some(offset) => {
                return Err(TypeError::InvalidAscii {
                    offset,
                    byte: bytes.get(offset).copied().unwrap_or_default(),
                }
                .into())
            }
            None => CqlValue::Ascii(utf8(bytes)?),
        },
        CqlType::Text => CqlValue::Text(utf8(bytes)?),
        CqlType::Blob => CqlValue::Blob(Bytes::copy_from_slice(bytes)),
        CqlType::Boolean => CqlValue::Boolean(exact::<1>("boolean", bytes, true)?[0] != 0),
        CqlType::Int => CqlValue::Int(i32::from_be_bytes(exact("int", bytes, true)?)),
        CqlType::Float => CqlValue::Float(f32::from_be_bytes(exact("float", bytes, true)?)),
        CqlType::Bigint => CqlValue::Bigint(i64::from_be_bytes(exact("bigint", bytes, true)?)),
        CqlType::Counter => CqlValue::Counter(i64::from_be_bytes(exact("counter", bytes, true)?)),
        CqlType::Timestamp => {
            CqlValue::Timestamp(i64::from_be_bytes(exact("timestamp", bytes, true)?))
        }
        CqlType::Double => CqlValue::Double(f64::from_be_bytes(exact("double", bytes, true)?)),
        CqlType::Smallint => {
            CqlValue::Smallint(i16::from_be_bytes(exact("smallint", bytes, false)?))
        }
        CqlType::Tinyint => CqlValue::Tinyint(i8::from_be_bytes(exact("tinyint", bytes, false)?)),
        CqlType::Date => CqlValue::Date(u32::from_be_bytes(exact("date", bytes, false)?)),
        CqlType::Time => {
            let nanos = i64::from_be_bytes(exact("time", bytes, false)?);
            if !(0..=MAX_TIME_NANOS).contains(&nanos) {
                return Err(TypeError::TimeOutOfRange { nanos }.into());
            }
            CqlValue::Time(nanos)
        }
        CqlType::Uuid => CqlValue::Uuid(uuid::Uuid::from_bytes(exact("uuid", bytes, true)?)),
        CqlType::Timeuuid => {
            let u = uuid::Uuid::from_bytes(exact("timeuuid", bytes, true)?);
            let version = u.as_bytes()[6] >> 4;
            if version != 1 {
                return Err(TypeError::InvalidTimeUuidVersion { version }.into());
            }
            CqlValue::Timeuuid(u)
        }
        CqlType::Inet => match bytes.len() {
            0 => {
                return Err(ValueError::EmptyValue {
                    type_name: "inet".into(),
                })
            }
            4 => CqlValue::Inet(IpAddr::V4(Ipv4Addr::from(exact::<4>("inet", bytes, true)?))),
            16 => CqlValue::Inet(IpAddr::V6(Ipv6Addr::from(exact::<16>(
                "inet", bytes, true,
            )?))),
            n => {
                return Err(TypeError::WrongSize {
                    type_name: "inet",
                    actual_bytes: n,
                }
                .into())
            }
        },
        CqlType::Varint => {
            if bytes.is_empty() {
                return Err(ValueError::EmptyValue {
                    type_name: "varint".into(),
                });
            }
            CqlValue::Varint(bytes.to_vec())
        }
        CqlType::Decimal => {
            if bytes.is_empty() {
                return Err(ValueError::EmptyValue {
                    type_name: "decimal".into(),
                });
            }
            match bytes.split_first_chunk::<4>() {
                Some((scale, unscaled)) if !unscaled.is_empty() => CqlValue::Decimal {
                    unscaled: unscaled.to_vec(),
                    scale: i32::from_be_bytes(*scale),
                },
                _ => {
                    return Err(TypeError::WrongSize {
                        type_name: "decimal",
                        actual_bytes: bytes.len(),
                    }
                    .into())
                }
            }
        }
        CqlType::Duration => decode_duration(bytes)?,
        CqlType::List(element) => CqlValue::List(decode_elements("list", element, bytes, depth)?),
        CqlType::Set(element) => CqlValue::Set(decode_elements("set", element, bytes, depth)?),
        CqlType::Map(key, value) => decode_map(key, value, bytes, depth)?,
        CqlType::Tuple(types) => decode_tuple(types, bytes, depth)?,
        CqlType::Udt(udt) => decode_udt(udt, bytes, depth)?,
        CqlType::Vector(element, dimension) => {
            decode_vector(ty, element, *dimension, bytes, depth)?
        }
    })
}

fn utf8(bytes: &[u8]) -> Result<String, ValueError> {
    std::str::from_utf8(bytes).map(str::to_owned).map_err(|e| {
        TypeError::InvalidUtf8 {
            valid_up_to: e.valid_up_to(),
        }
        .into()
    })
}

fn decode_duration(bytes: &[u8]) -> Result<CqlValue, ValueError> {
    if bytes.len() < 3 {
        return Err(TypeError::WrongSize {
            type_name: "duration",
            actual_bytes: bytes.len(),
        }
        .into());
    }
    let mut r = Reader { rest: bytes };
    let mut next = || r.signed_vint().ok_or(TypeError::DurationTruncated);
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
    let non_negative = months >= 0 && days >= 0 && nanos >= 0;
    let non_positive = months <= 0 && days <= 0 && nanos <= 0;
    if !(non_negative || non_positive) {
        return Err(TypeError::DurationMixedSigns {
            months,
            days,
            nanos,
        }
        .into());
    }
    if !r.rest.is_empty() {
        return Err(TypeError::DurationTrailingBytes {
            extra_bytes: r.rest.len(),
        }
        .into());
    }
    Ok(CqlValue::Duration {
        months,
        days,
        nanos,
    })
}

/// Reads a collection's element count; every element needs at least 4 bytes, which bounds
/// the pre-allocation by the input size.
fn read_count(kind: &'static str, r: &mut Reader<'_>, slots: usize) -> Result<usize, ValueError> {
    let count = r.i32().ok_or(TypeError::CollectionTruncated { kind })?;
    usize::try_from(count)
        .map_err(|_| ValueError::Invalid(TypeError::NegativeCollectionSize { kind, count }))?;
    let count = count as usize;
    if count.saturating_mul(4 * slots) > r.rest.len() {
        return Err(TypeError::CollectionTruncated { kind }.into());
    }
    Ok(count)
}

/// Reads one non-null `i32`-length-prefixed collection element.
fn read_element<'a>(kind: &'static str, r: &mut Reader<'a>) -> Result<&'a [u8], ValueError> {
    let len = r.i32().ok_or(TypeError::CollectionTruncated { kind })?;
    let len =
        usize::try_from(len).map_err(|_| ValueError::Invalid(TypeError::NullCollectionElement))?;
    Ok(r.take(len).ok_or(TypeError::CollectionTruncated { kind })?)
}

fn decode_elements(
    kind: &'static str,
    element: &CqlType,
    bytes: &[u8],
    depth: usize,
) -> Result<Vec<CqlValue>, ValueError> {
    let mut r = Reader { rest: bytes };
    let count = read_count(kind, &mut r, 1)?;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let e = read_element(kind, &mut r)?;
        out.push(decode(element, e, depth + 1)?);
    }
    if !r.rest.is_empty() {
        return Err(TypeError::CollectionTrailingBytes { kind }.into());
    }
    Ok(out)
}

fn decode_map(
    key: &CqlType,
    value: &CqlType,
    bytes: &[u8],
    depth: usize,
) -> Result<CqlValue, ValueError> {
    const KIND: &str = "map";
    let mut r = Reader { rest: bytes };
    let count = read_count(KIND, &mut r, 2)?;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let k = read_element(KIND, &mut r)?;
        let v = read_element(KIND, &mut r)?;
        out.push((decode(key, k, depth + 1)?, decode(value, v, depth + 1)?));
    }
    if !r.rest.is_empty() {
        return Err(TypeError::CollectionTrailingBytes { kind: KIND }.into());
    }
    Ok(CqlValue::Map(out))
}

fn decode_tuple(types: &[CqlType], bytes: &[u8], depth: usize) -> Result<CqlValue, ValueError> {
    let mut r = Reader { rest: bytes };
    let mut out = Vec::with_capacity(types.len());
    for (index, t) in types.iter().enumerate() {
        // Missing trailing fields are null (fields may have been added to the type).
        if r.rest.is_empty() {
            out.push(None);
            continue;
        }
        let len = r
            .i32()
            .ok_or(TypeError::TupleFieldSizeTruncated { index })?;
        match usize::try_from(len) {
            Err(_) => out.push(None),
            Ok(len) => {
                let field = r
                    .take(len)
                    .ok_or(TypeError::TupleFieldTruncated { index })?;
                out.push(Some(decode(t, field, depth + 1)?));
            }
        }
    }
    if !r.rest.is_empty() {
        return Err(TypeError::TupleTrailingBytes.into());
    }
    Ok(CqlValue::Tuple(out))
}

fn decode_udt(udt: &UdtType, bytes: &[u8], depth: usize) -> Result<CqlValue, ValueError> {
    let mut r = Reader { rest: bytes };
    let mut out = Vec::with_capacity(udt.fields.len());
    for (index, (name, t)) in udt.fields.iter().enumerate() {
        if r.rest.is_empty() {
            out.push((name.clone(), None));
            continue;
        }
        let len = r.i32().ok_or_else(|| TypeError::UdtFieldSizeTruncated {
            index,
            field: name.clone(),
        })?;
        match usize::try_from(len) {
            Err(_) => out.push((name.clone(), None)),
            Ok(len) => {
                let field = r.take(len).ok_or_else(|| TypeError::UdtFieldTruncated {
                    index,
                    field: name.clone(),
                })?;
                let value = decode(t, field, depth + 1).map_err(|e| match e {
                    ValueError::Invalid(source) => {
                        ValueError::Invalid(TypeError::UdtFieldInvalid {
                            index,
                            field: name.clone(),
                            source: Box::new(source),
                        })
                    }
                    other => other,
                })?;
                out.push((name.clone(), Some(value)));
            }
        }
    }
    if !r.rest.is_empty() {
        return Err(TypeError::UdtTrailingBytes.into());
    }
    Ok(CqlValue::Udt(out))
}

fn decode_vector(
    ty: &CqlType,
    element: &CqlType,
    dimension: u32,
    bytes: &[u8],
    depth: usize,
) -> Result<CqlValue, ValueError> {
    if bytes.is_empty() {
        return Err(TypeError::EmptyVector.into());
    }
    let truncated = || TypeError::VectorTruncated {
        vector_type: ty.to_string(),
    };
    let dimension = usize::try_from(dimension).map_err(|_| truncated())?;
    let mut r = Reader { rest: bytes };
    // Every element takes at least one byte, which bounds the pre-allocation.
    if dimension > bytes.len() {
        return Err(truncated().into());
    }
    let mut out = Vec::with_capacity(dimension);
    match element.value_length_if_fixed() {
        Some(size) => {
            for _ in 0..dimension {
                let e = r.take(size).ok_or_else(truncated)?;
                out.push(decode(element, e, depth + 1)?);
            }
        }
        None => {
            for _ in 0..dimension {
                let len = r.unsigned_vint().ok_or_else(truncated)?;
                let len = usize::try_from(len)
                    .ok()
                    .filter(|&l| l <= i32::MAX as usize)
                    .ok_or_else(truncated)?;
                let e = r.take(len).ok_or_else(truncated)?;
                out.push(decode(element, e, depth + 1)?);
            }
        }
    }
    if !r.rest.is_empty() {
        return Err(TypeError::VectorTrailingBytes {
            vector_type: ty.to_string(),
            extra_bytes: r.rest.len(),
        }
        .into());
    }
    Ok(CqlValue::Vector(out))
}

/// Cassandra's reserved keywords (CQL 3.4.7, Cassandra 5.0): identifiers equal to one of these
/// (case-insensitively) must be double-quoted.
pub const RESERVED_KEYWORDS: [&str; 57] = [
    "add",
    "allow",
    "alter",
    "and",
    "apply",
    "asc",
    "authorize",
    "batch",
    "begin",
    "by",
    "columnfamily",
    "create",
    "delete",
    "desc",
    "describe",
    "drop",
    "entries",
    "execute",
    "from",
    "full",
    "grant",
    "if",
    "in",
    "index",
    "infinity",
    "insert",
    "into",
    "is",
    "keyspace",
    "limit",
    "materialized",
    "modify",
    "nan",
    "norecursive",
    "not",
    "null",
    "of",
    "on",
    "or",
    "order",
    "primary",
    "rename",
    "revoke",
    "schema",
    "select",
    "set",
    "table",
    "to",
    "token",
    "truncate",
    "unlogged",
    "update",
    "use",
    "using",
    "view",
    "where",
    "with",
];

/// Whether `word` is a reserved CQL keyword (case-insensitive).
pub fn is_reserved_keyword(word: &str) -> bool {
    RESERVED_KEYWORDS
        .iter()
        .any(|k| k.eq_ignore_ascii_case(word))
}

/// An identifier as CQL text: bare when it is a lower-case identifier (`[a-z][a-z0-9_]*`)
/// that is not a reserved keyword, otherwise double-quoted with `"` doubled (Cassandra's
/// `ColumnIdentifier.maybeQuote`).
pub fn cql_identifier(name: &str) -> Cow<'_, str> {
    let mut chars = name.chars();
    let bare = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !is_reserved_keyword(name);
    if bare {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(format!("\"{}\"", name.replace('"', "\"\"")))
    }
}

/// A CQL string literal: single-quoted with `'` doubled.
pub fn cql_string_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Writes `0x` followed by lower-case hex digits.
fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    f.write_str("0x")?;
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

/// Sign and magnitude (big-endian, unsigned) of a big-endian two's complement integer.
fn sign_magnitude(twos: &[u8]) -> (bool, Vec<u8>) {
    let negative = twos.first().is_some_and(|b| b & 0x80 != 0);
    if !negative {
        return (false, twos.to_vec());
    }
    // Magnitude = !x + 1.
    let mut mag: Vec<u8> = twos.iter().map(|b| !b).collect();
    for b in mag.iter_mut().rev() {
        let (sum, carry) = b.overflowing_add(1);
        *b = sum;
        if !carry {
            break;
        }
    }
    (true, mag)
}

/// Decimal digits of an unsigned big-endian magnitude (`"0"` for zero).
fn magnitude_to_decimal(mag: &[u8]) -> String {
    // Little-endian base-2^32 limbs.
    let mut limbs: Vec<u32> = mag
        .rchunks(4)
        .map(|chunk| chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
        .collect();
    while limbs.last() == Some(&0) {
        limbs.pop();
    }
    if limbs.is_empty() {
        return "0".to_string();
    }
    // Repeated division by 10^9, collecting base-10^9 chunks from the least significant.
    const CHUNK: u64 = 1_000_000_000;
    let mut chunks = Vec::new();
    while !limbs.is_empty() {
        let mut rem = 0u64;
        for limb in limbs.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / CHUNK) as u32;
            rem = cur % CHUNK;
        }
        chunks.push(rem as u32);
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
    }
    let mut out = String::new();
    let mut iter = chunks.iter().rev();
    if let Some(first) = iter.next() {
        let _ = write!(out, "{first}");
    }
    for c in iter {
        let _ = write!(out, "{c:09}");
    }
    out
}

/// Civil date `(year, month, day)` of a day count relative to 1970-01-01 (proleptic
/// Gregorian calendar; Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn write_float_literal(f: &mut fmt::Formatter<'_>, v: f64, debug: &dyn fmt::Debug) -> fmt::Result {
    if v.is_nan() {
        f.write_str("NaN")
    } else if v.is_infinite() {
        f.write_str(if v > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        // Rust's `Debug` prints the shortest representation that reads back exactly, always
        // with a `.` or an exponent (e.g. `1.0`, `1e20`, `1.5e-7`): all valid CQL floats.
        write!(f, "{debug:?}")
    }
}

fn write_duration(f: &mut fmt::Formatter<'_>, months: i32, days: i32, nanos: i64) -> fmt::Result {
    if months < 0 || days < 0 || nanos < 0 {
        f.write_char('-')?;
    }
    let months = months.unsigned_abs();
    let days = days.unsigned_abs();
    let nanos = nanos.unsigned_abs();
    if months == 0 && days == 0 && nanos == 0 {
        return f.write_str("0s");
    }
    let mut unit = |value: u64, suffix: &str| -> fmt::Result {
        if value > 0 {
            write!(f, "{value}{suffix}")
        } else {
            Ok(())
        }
    };
    unit(u64::from(months / 12), "y")?;
    unit(u64::from(months % 12), "mo")?;
    unit(u64::from(days), "d")?;
    const NANOS_PER_HOUR: u64 = 3_600_000_000_000;
    unit(nanos / NANOS_PER_HOUR, "h")?;
    unit(nanos % NANOS_PER_HOUR / 60_000_000_000, "m")?;
    unit(nanos % 60_000_000_000 / 1_000_000_000, "s")?;
    unit(nanos % 1_000_000_000 / 1_000_000, "ms")?;
    unit(nanos % 1_000_000 / 1_000, "us")?;
    unit(nanos % 1_000, "ns")
}

fn write_decimal(f: &mut fmt::Formatter<'_>, unscaled: &[u8], scale: i32) -> fmt::Result {
    if unscaled.len() > MAX_DISPLAY_NUMBER_BYTES {
        f.write_str("blobAsDecimal(")?;
        let mut bytes = scale.to_be_bytes().to_vec();
        bytes.extend_from_slice(unscaled);
        write_hex(f, &bytes)?;
        return f.write_str(")");
    }
    let (negative, mag) = sign_magnitude(unscaled);
    let digits = magnitude_to_decimal(&mag);
    if negative {
        f.write_char('-')?;
    }
    let scale = i64::from(scale);
    if scale == 0 {
        return f.write_str(&digits);
    }
    if !(0..=MAX_POSITIONAL_DECIMAL_SCALE).contains(&scale) {
        return write!(f, "{digits}E{}", -scale);
    }
    let scale = scale as usize;
    if digits.len() > scale {
        let (int, frac) = digits.split_at(digits.len() - scale);
        write!(f, "{int}.{frac}")
    } else {
        write!(f, "0.{}{digits}", "0".repeat(scale - digits.len()))
    }
}

fn write_list<'a>(
    f: &mut fmt::Formatter<'_>,
    open: char,
    close: char,
    items: impl Iterator<Item = &'a CqlValue>,
) -> fmt::Result {
    f.write_char(open)?;
    for (i, item) in items.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    f.write_char(close)
}

fn write_optional(f: &mut fmt::Formatter<'_>, value: Option<&CqlValue>) -> fmt::Result {
    match value {
        Some(v) => write!(f, "{v}"),
        None => f.write_str("null"),
    }
}

impl fmt::Display for CqlValue {
    /// The value as a CQL literal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CqlValue::Ascii(s) | CqlValue::Text(s) => f.write_str(&cql_string_literal(s)),
            CqlValue::Bigint(v) | CqlValue::Counter(v) | CqlValue::Timestamp(v) => {
                write!(f, "{v}")
            }
            CqlValue::Blob(b) => write_hex(f, b),
            CqlValue::Boolean(b) => write!(f, "{b}"),
            CqlValue::Date(d) => {
                let days = i64::from(*d) - DATE_EPOCH_OFFSET_DAYS;
                let (year, month, day) = civil_from_days(days);
                if (0..=9999).contains(&year) {
                    write!(f, "'{year:04}-{month:02}-{day:02}'")
                } else {
                    // Cassandra reads a quoted integer as the raw day number.
                    write!(f, "'{d}'")
                }
            }
            CqlValue::Decimal { unscaled, scale } => write_decimal(f, unscaled, *scale),
            CqlValue::Double(v) => write_float_literal(f, *v, v),
            CqlValue::Duration {
                months,
                days,
                nanos,
            } => write_duration(f, *months, *days, *nanos),
            CqlValue::Float(v) => write_float_literal(f, f64::from(*v), v),
            CqlValue::Inet(a) => write!(f, "'{a}'"),
            CqlValue::Int(v) => write!(f, "{v}"),
            CqlValue::Smallint(v) => write!(f, "{v}"),
            CqlValue::Time(nanos) => {
                let n = *nanos;
                write!(
                    f,
                    "'{:02}:{:02}:{:02}.{:09}'",
                    n / 3_600_000_000_000,
                    n / 60_000_000_000 % 60,
                    n / 1_000_000_000 % 60,
                    n % 1_000_000_000
                )
            }
            CqlValue::Timeuuid(u) | CqlValue::Uuid(u) => write!(f, "{u}"),
            CqlValue::Tinyint(v) => write!(f, "{v}"),
            CqlValue::Varint(v) => {
                if v.len() > MAX_DISPLAY_NUMBER_BYTES {
                    f.write_str("blobAsVarint(")?;
                    write_hex(f, v)?;
                    return f.write_str(")");
                }
                let (negative, mag) = sign_magnitude(v);
                if negative {
                    f.write_char('-')?;
                }
                f.write_str(&magnitude_to_decimal(&mag))
            }
            CqlValue::List(items) | CqlValue::Vector(items) => {
                write_list(f, '[', ']', items.iter())
            }
            CqlValue::Set(items) => write_list(f, '{', '}', items.iter()),
            CqlValue::Map(entries) => {
                f.write_char('{')?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_char('}')
            }
            CqlValue::Tuple(fields) => {
                f.write_char('(')?;
                for (i, v) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_optional(f, v.as_ref())?;
                }
                f.write_char(')')
            }
            CqlValue::Udt(fields) => {
                f.write_char('{')?;
                for (i, (name, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: ", cql_identifier(name))?;
                    write_optional(f, v.as_ref())?;
                }
                f.write_char('}')
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;

    fn udt_type(fields: Vec<CqlType>) -> CqlType {
        CqlType::Udt(UdtType {
            keyspace: "ks".into(),
            name: "u".into(),
            fields: fields
                .into_iter()
                .enumerate()
                .map(|(i, t)| (format!("f{i}"), t))
                .collect(),
        })
    }

    fn arb_native_type() -> impl Strategy<Value = CqlType> {
        prop_oneof![
            Just(CqlType::Ascii),
            Just(CqlType::Bigint),
            Just(CqlType::Blob),
            Just(CqlType::Boolean),
            Just(CqlType::Counter),
            Just(CqlType::Date),
            Just(CqlType::Decimal),
            Just(CqlType::Double),
            Just(CqlType::Duration),
            Just(CqlType::Float),
            Just(CqlType::Inet),
            Just(CqlType::Int),
            Just(CqlType::Smallint),
            Just(CqlType::Text),
            Just(CqlType::Time),
            Just(CqlType::Timestamp),
            Just(CqlType::Timeuuid),
            Just(CqlType::Tinyint),
            Just(CqlType::Uuid),
            Just(CqlType::Varint),
        ]
    }

    fn arb_type() -> impl Strategy<Value = CqlType> {
        arb_native_type().prop_recursive(3, 24, 3, |inner| {
            prop_oneof![
                inner.clone().prop_map(|t| CqlType::List(Box::new(t))),
                inner.clone().prop_map(|t| CqlType::Set(Box::new(t))),
                (inner.clone(), inner.clone())
                    .prop_map(|(k, v)| CqlType::Map(Box::new(k), Box::new(v))),
                vec(inner.clone(), 1..4).prop_map(CqlType::Tuple),
                vec(inner.clone(), 1..4).prop_map(udt_type),
                inner
                    .clone()
                    .prop_map(|t| CqlType::Frozen(Box::new(CqlType::List(Box::new(t))))),
                (inner, 1u32..4).prop_map(|(t, n)| CqlType::Vector(Box::new(t), n)),
            ]
        })
    }

    fn arb_duration() -> impl Strategy<Value = CqlValue> {
        (0..=i32::MAX, 0..=i32::MAX, 0..=i64::MAX, any::<bool>()).prop_map(
            |(months, days, nanos, negative)| {
                if negative {
                    CqlValue::Duration {
                        months: -months,
                        days: -days,
                        nanos: -nanos,
                    }
                } else {
                    CqlValue::Duration {
                        months,
                        days,
                        nanos,
                    }
                }
            },
        )
    }

    /// Values of a type (floats are never NaN so that `==` can compare them).
    fn arb_value(ty: &CqlType) -> BoxedStrategy<CqlValue> {
        match ty {
            CqlType::Ascii => "[ -~]{0,12}".prop_map(CqlValue::Ascii).boxed(),
            CqlType::Bigint => any::<i64>().prop_map(CqlValue::Bigint).boxed(),
            CqlType::Blob => vec(any::<u8>(), 0..12)
                .prop_map(|b| CqlValue::Blob(b.into()))
                .boxed(),
            CqlType::Boolean => any::<bool>().prop_map(CqlValue::Boolean).boxed(),
            CqlType::Counter => any::<i64>().prop_map(CqlValue::Counter).boxed(),
            CqlType::Date => any::<u32>().prop_map(CqlValue::Date).boxed(),
            CqlType::Decimal => (vec(any::<u8>(), 1..12), any::<i32>())
                .prop_map(|(unscaled, scale)| CqlValue::Decimal { unscaled, scale })
                .boxed(),
            CqlType::Double => any::<f64>()
                .prop_filter("not NaN", |v| !v.is_nan())
                .prop_map(CqlValue::Double)
                .boxed(),
            CqlType::Duration => arb_duration().boxed(),
            CqlType::Float => any::<f32>()
                .prop_filter("not NaN", |v| !v.is_nan())
                .prop_map(CqlValue::Float)
                .boxed(),
            CqlType::Inet => prop_oneof![
                any::<[u8; 4]>().prop_map(|b| CqlValue::Inet(IpAddr::from(b))),
                any::<[u8; 16]>().prop_map(|b| CqlValue::Inet(IpAddr::from(b))),
            ]
            .boxed(),
            CqlType::Int => any::<i32>().prop_map(CqlValue::Int).boxed(),
            CqlType::Smallint => any::<i16>().prop_map(CqlValue::Smallint).boxed(),
            CqlType::Text => ".{0,12}".prop_map(CqlValue::Text).boxed(),
            CqlType::Time => (0..=MAX_TIME_NANOS).prop_map(CqlValue::Time).boxed(),
            CqlType::Timestamp => any::<i64>().prop_map(CqlValue::Timestamp).boxed(),
            CqlType::Timeuuid => any::<[u8; 16]>()
                .prop_map(|mut b| {
                    b[6] = (b[6] & 0x0f) | 0x10;
                    CqlValue::Timeuuid(uuid::Uuid::from_bytes(b))
                })
                .boxed(),
            CqlType::Tinyint => any::<i8>().prop_map(CqlValue::Tinyint).boxed(),
            CqlType::Uuid => any::<[u8; 16]>()
                .prop_map(|b| CqlValue::Uuid(uuid::Uuid::from_bytes(b)))
                .boxed(),
            CqlType::Varint => vec(any::<u8>(), 1..12).prop_map(CqlValue::Varint).boxed(),
            CqlType::Frozen(inner) => arb_value(inner),
            CqlType::List(e) => vec(arb_value(e), 0..3).prop_map(CqlValue::List).boxed(),
            CqlType::Set(e) => vec(arb_value(e), 0..3).prop_map(CqlValue::Set).boxed(),
            CqlType::Map(k, v) => vec((arb_value(k), arb_value(v)), 0..3)
                .prop_map(CqlValue::Map)
                .boxed(),
            CqlType::Tuple(types) => types
                .iter()
                .map(|t| proptest::option::of(arb_value(t)))
                .collect::<Vec<_>>()
                .prop_map(CqlValue::Tuple)
                .boxed(),
            CqlType::Udt(u) => {
                let names: Vec<String> = u.fields.iter().map(|(n, _)| n.clone()).collect();
                u.fields
                    .iter()
                    .map(|(_, t)| proptest::option::of(arb_value(t)))
                    .collect::<Vec<_>>()
                    .prop_map(move |values| {
                        CqlValue::Udt(names.iter().cloned().zip(values).collect())
                    })
                    .boxed()
            }
            CqlType::Vector(e, n) => {
                let n = *n as usize;
                vec(arb_value(e), n..=n).prop_map(CqlValue::Vector).boxed()
            }
        }
    }

    fn arb_typed_value() -> impl Strategy<Value = (CqlType, CqlValue)> {
        arb_type().prop_flat_map(|t| {
            let values = arb_value(&t);
            (Just(t), values)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn round_trip((ty, value) in arb_typed_value()) {
            let bytes = value.to_bytes();
            prop_assert_eq!(ty.validate(&bytes), Ok(()), "bytes of {} fail validation", value);
            let decoded = CqlValue::deserialize(&ty, &bytes);
            prop_assert_eq!(decoded.as_ref(), Ok(&value));
            prop_assert_eq!(decoded.unwrap_or(CqlValue::Int(0)).to_bytes(), bytes);
        }

        #[test]
        fn decoding_garbage_never_panics(
            ty in arb_type(),
            bytes in vec(any::<u8>(), 0..48),
        ) {
            let _ = CqlValue::deserialize(&ty, &bytes);
        }

        #[test]
        fn decoding_agrees_with_validation((ty, value) in arb_typed_value(), cut in any::<prop::sample::Index>()) {
            // Any truncation that validation rejects must be rejected by decoding too.
            let bytes = value.to_bytes();
            let truncated = &bytes[..cut.index(bytes.len() + 1)];
            if ty.validate(truncated).is_err() {
                prop_assert!(CqlValue::deserialize(&ty, truncated).is_err());
            }
        }

        #[test]
        fn varint_display_matches_i128(v in any::<i64>()) {
            let bytes = v.to_be_bytes().to_vec();
            prop_assert_eq!(CqlValue::Varint(bytes).to_string(), v.to_string());
        }
    }

    #[test]
    fn fixed_width_encodings() {
        assert_eq!(&CqlValue::Int(1).to_bytes()[..], &[0, 0, 0, 1]);
        assert_eq!(&CqlValue::Boolean(true).to_bytes()[..], &[1]);
        assert_eq!(&CqlValue::Smallint(-2).to_bytes()[..], &[0xff, 0xfe]);
        assert_eq!(
            &CqlValue::Decimal {
                unscaled: vec![0x30, 0x39],
                scale: 2
            }
            .to_bytes()[..],
            &[0, 0, 0, 2, 0x30, 0x39]
        );
        // Duration: zig-zag vints; 128 needs two bytes.
        assert_eq!(
            &CqlValue::Duration {
                months: 1,
                days: -0,
                nanos: 64
            }
            .to_bytes()[..],
            &[2, 0, 0x80, 0x80]
        );
    }

    #[test]
    fn collection_encoding() {
        let list = CqlValue::List(vec![CqlValue::Int(7), CqlValue::Int(8)]);
        assert_eq!(
            &list.to_bytes()[..],
            &[0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0, 8]
        );
        let tuple = CqlValue::Tuple(vec![Some(CqlValue::Tinyint(1)), None]);
        assert_eq!(
            &tuple.to_bytes()[..],
            &[0, 0, 0, 1, 1, 0xff, 0xff, 0xff, 0xff]
        );
        // Vectors of fixed-width elements are concatenated; others are vint-prefixed.
        let fixed = CqlValue::Vector(vec![CqlValue::Float(1.0), CqlValue::Float(2.0)]);
        assert_eq!(fixed.to_bytes().len(), 8);
        let variable = CqlValue::Vector(vec![CqlValue::Text("ab".into())]);
        assert_eq!(&variable.to_bytes()[..], &[2, b'a', b'b']);
    }

    #[test]
    fn decoding_errors() {
        let list = CqlType::List(Box::new(CqlType::Int));
        assert_eq!(
            CqlValue::deserialize(&list, &[0xff, 0xff, 0xff, 0xff]),
            Err(ValueError::Invalid(TypeError::NegativeCollectionSize {
                kind: "list",
                count: -1
            }))
        );
        // A huge count with few bytes fails without allocating.
        assert!(CqlValue::deserialize(&list, &[0x7f, 0xff, 0xff, 0xff]).is_err());
        assert_eq!(
            CqlValue::deserialize(&list, &[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]),
            Err(ValueError::Invalid(TypeError::NullCollectionElement))
        );
        assert_eq!(
            CqlValue::deserialize(&CqlType::Int, &[]),
            Err(ValueError::EmptyValue {
                type_name: "int".into()
            })
        );
        assert_eq!(
            CqlValue::deserialize(&CqlType::Int, &[1, 2]).map_err(|e| e.to_string()),
            Err("Expected 4 or 0 byte int (2)".to_string())
        );
        assert!(CqlValue::deserialize(&CqlType::Timeuuid, &[0; 16]).is_err());
        assert!(CqlValue::deserialize(&CqlType::Time, &(-1i64).to_be_bytes()).is_err());
        let udt = udt_type(vec![CqlType::Int, CqlType::Text]);
        // Missing trailing fields decode as null.
        assert_eq!(
            CqlValue::deserialize(&udt, &[0, 0, 0, 4, 0, 0, 0, 1]),
            Ok(CqlValue::Udt(vec![
                ("f0".into(), Some(CqlValue::Int(1))),
                ("f1".into(), None)
            ]))
        );
        let bad_field = CqlValue::deserialize(&udt, &[0, 0, 0, 1, 0]);
        assert!(matches!(
            bad_field,
            Err(ValueError::Invalid(TypeError::UdtFieldInvalid {
                index: 0,
                ..
            }))
        ));
    }

    #[test]
    fn depth_is_bounded() {
        let mut ty = CqlType::Int;
        let mut value = CqlValue::Int(1);
        for _ in 0..(MAX_VALUE_DEPTH + 5) {
            ty = CqlType::List(Box::new(ty));
            value = CqlValue::List(vec![value]);
        }
        assert_eq!(
            CqlValue::deserialize(&ty, &value.to_bytes()),
            Err(ValueError::TooDeep {
                max_depth: MAX_VALUE_DEPTH
            })
        );
    }

    #[test]
    fn nan_bits_survive() {
        let nan = f64::from_bits(0x7ff8_0000_0000_0123);
        let bytes = CqlValue::Double(nan).to_bytes();
        match CqlValue::deserialize(&CqlType::Double, &bytes) {
            Ok(CqlValue::Double(v)) => assert_eq!(v.to_bits(), nan.to_bits()),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn display_as_cql_literals() {
        let cases: Vec<(CqlValue, &str)> = vec![
            (CqlValue::Text("it's".into()), "'it''s'"),
            (CqlValue::Blob(Bytes::from_static(&[0xca, 0xfe])), "0xcafe"),
            (CqlValue::Blob(Bytes::new()), "0x"),
            (CqlValue::Boolean(false), "false"),
            (CqlValue::Int(-5), "-5"),
            (CqlValue::Double(1.0), "1.0"),
            (CqlValue::Double(1e20), "1e20"),
            (CqlValue::Double(f64::NAN), "NaN"),
            (CqlValue::Float(f32::NEG_INFINITY), "-Infinity"),
            (CqlValue::Varint(vec![0xff]), "-1"),
            (CqlValue::Varint(vec![0x00, 0x80]), "128"),
            (
                CqlValue::Varint(vec![0x01, 0, 0, 0, 0, 0, 0, 0, 0]),
                "18446744073709551616",
            ),
            (
                CqlValue::Decimal {
                    unscaled: vec![0x30, 0x39],
                    scale: 2,
                },
                "123.45",
            ),
            (
                CqlValue::Decimal {
                    unscaled: vec![0xfb],
                    scale: 3,
                },
                "-0.005",
            ),
            (
                CqlValue::Decimal {
                    unscaled: vec![0x0c],
                    scale: -3,
                },
                "12E3",
            ),
            (CqlValue::Date(1 << 31), "'1970-01-01'"),
            (CqlValue::Date((1 << 31) + 19_723), "'2024-01-01'"),
            (CqlValue::Date(0), "'0'"),
            (CqlValue::Time(3_723_000_000_004), "'01:02:03.000000004'"),
            (CqlValue::Timestamp(1_700_000_000_000), "1700000000000"),
            (
                CqlValue::Inet(
                    "127.0.0.1"
                        .parse()
                        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                ),
                "'127.0.0.1'",
            ),
            (
                CqlValue::Duration {
                    months: 14,
                    days: 3,
                    nanos: 5_400_000_000_007,
                },
                "1y2mo3d1h30m7ns",
            ),
            (
                CqlValue::Duration {
                    months: 0,
                    days: -1,
                    nanos: 0,
                },
                "-1d",
            ),
            (
                CqlValue::Duration {
                    months: 0,
                    days: 0,
                    nanos: 0,
                },
                "0s",
            ),
            (
                CqlValue::Map(vec![(CqlValue::Text("a".into()), CqlValue::Int(1))]),
                "{'a': 1}",
            ),
            (
                CqlValue::Set(vec![CqlValue::Int(1), CqlValue::Int(2)]),
                "{1, 2}",
            ),
            (CqlValue::List(vec![]), "[]"),
            (
                CqlValue::Tuple(vec![Some(CqlValue::Int(1)), None]),
                "(1, null)",
            ),
            (
                CqlValue::Udt(vec![
                    ("street".into(), Some(CqlValue::Text("x".into()))),
                    ("Zip".into(), None),
                    ("select".into(), Some(CqlValue::Int(1))),
                ]),
                "{street: 'x', \"Zip\": null, \"select\": 1}",
            ),
            (
                CqlValue::Uuid(uuid::Uuid::from_u128(
                    0x0123_4567_89ab_cdef_0123_4567_89ab_cdef,
                )),
                "01234567-89ab-cdef-0123-456789abcdef",
            ),
            (
                CqlValue::Vector(vec![CqlValue::Float(0.5), CqlValue::Float(1.5)]),
                "[0.5, 1.5]",
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(value.to_string(), expected, "{value:?}");
        }
        let huge = CqlValue::Varint(vec![1; MAX_DISPLAY_NUMBER_BYTES + 1]);
        assert!(huge.to_string().starts_with("blobAsVarint(0x0101"));
    }

    #[test]
    fn identifiers() {
        assert_eq!(cql_identifier("abc_1"), "abc_1");
        assert_eq!(cql_identifier("Abc"), "\"Abc\"");
        assert_eq!(cql_identifier("select"), "\"select\"");
        assert_eq!(cql_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(cql_identifier("1a"), "\"1a\"");
        assert_eq!(cql_identifier(""), "\"\"");
        assert_eq!(cql_identifier("key"), "key");
        assert!(is_reserved_keyword("KEYSPACE"));
        assert!(!is_reserved_keyword("keyspaces"));
    }
}
