//! Cassandra's comparators on serialized values.
//!
//! Per type, as Cassandra's `AbstractType` implementations compare:
//!
//! * `tinyint`, `smallint`, `int`, `bigint`, `counter`, `timestamp`: signed integer order.
//! * `date`, `time`, `inet`, `blob`, `ascii`, `text`, `duration`: unsigned byte order
//!   (Cassandra's `BYTE_ORDER` types; for `date` this is the u32 order with the epoch at
//!   2^31, for valid `time` values it equals the signed order).
//! * `float`, `double`: Java's `Float.compare` / `Double.compare` (`-0.0 < 0.0`, NaN greatest).
//! * `boolean`: `false` (0) before `true` (any other byte).
//! * `varint`: numeric; `decimal`: numeric, so `1.0 == 1.00`.
//! * `uuid`: `UUIDType` — version first, then the timestamp for version 1 (otherwise the
//!   most significant 64 bits unsigned), then the least significant 64 bits unsigned.
//! * `timeuuid`: `TimeUUIDType` — the timestamp (with the version nibble on top, compared
//!   as a signed long), then the last 8 bytes compared as *signed* bytes.
//! * frozen `list`/`set`: element by element, then the shorter first; `map`: key, value,
//!   key, value, ..., then the shorter first; `tuple`/UDT: field by field with missing
//!   trailing fields as null and null before any value; `vector`: element by element.
//!
//! The empty value sorts before every non-empty value. Malformed values (a size impossible
//! for the type, a collection whose structure does not parse, ...) cannot be compared the
//! way Cassandra would (Cassandra throws); they sort after every well-formed value of the
//! type, among themselves by unsigned bytes. Decimals whose unscaled part is longer than
//! `MAX_DECIMAL_COMPARE_UNSCALED_BYTES` (4 KiB) are placed the same way, to bound the work
//! of one comparison. Because whether a value is well-formed is
//! decided for each value on its own, the result is a total order on all byte strings.

use std::cmp::Ordering;

use super::numeric::{
    compare_decimal, compare_varint, decimal_parts, java_double_cmp, java_float_cmp,
};
use super::wire::{read_i32, read_prefixed, read_unsigned_vint, Prefixed};
use super::CqlType;

/// Compares two serialized values of type `ty` with Cassandra's comparator for that type.
///
/// Never panics; a total order on any input (see the module documentation for how empty
/// and malformed values are placed). Frozen sets and maps are compared in their stored
/// element order, which is sorted when they were serialized by a conforming writer.
/// Non-frozen collections and UDTs are compared as if frozen.
pub fn compare(ty: &CqlType, a: &[u8], b: &[u8]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        (false, false) => {}
    }
    match (is_well_formed(ty, a), is_well_formed(ty, b)) {
        (true, true) => compare_well_formed(ty, a, b).unwrap_or_else(|| a.cmp(b)),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

/// Whether a non-empty value has the shape its type's comparator needs. Only the
/// outermost structure is checked: nested values are compared with their own total orders.
fn is_well_formed(ty: &CqlType, v: &[u8]) -> bool {
    match ty {
        CqlType::Frozen(inner) => is_well_formed(inner, v),
        CqlType::Ascii
        | CqlType::Text
        | CqlType::Blob
        | CqlType::Inet
        | CqlType::Date
        | CqlType::Time
        | CqlType::Duration
        | CqlType::Varint => true,
        CqlType::Tinyint | CqlType::Boolean => v.len() == 1,
        CqlType::Smallint => v.len() == 2,
        CqlType::Int | CqlType::Float => v.len() == 4,
        CqlType::Bigint | CqlType::Counter | CqlType::Timestamp | CqlType::Double => v.len() == 8,
        CqlType::Uuid | CqlType::Timeuuid => v.len() == 16,
        CqlType::Decimal => decimal_parts(v).is_some(),
        CqlType::List(_) | CqlType::Set(_) => collection_shape_ok(v, 1),
        CqlType::Map(..) => collection_shape_ok(v, 2),
        CqlType::Tuple(types) => tuple_shape_ok(v, types.len()),
        CqlType::Udt(udt) => tuple_shape_ok(v, udt.fields.len()),
        CqlType::Vector(element, dimension) => vector_shape_ok(element, *dimension, v),
    }
}

/// `i32` count >= 0, then `count * values_per_entry` non-null prefixed values, nothing after.
fn collection_shape_ok(v: &[u8], values_per_entry: usize) -> bool {
    let mut rest = v;
    let Some(count) = read_i32(&mut rest) else {
        return false;
    };
    if count < 0 {
        return false;
    }
    for _ in 0..count {
        for _ in 0..values_per_entry {
            if !matches!(read_prefixed(&mut rest), Some(Prefixed::Value(_))) {
                return false;
            }
        }
    }
    rest.is_empty()
}

/// At most `arity` prefixed fields (negative length = null), nothing after.
fn tuple_shape_ok(v: &[u8], arity: usize) -> bool {
    let mut rest = v;
    for _ in 0..arity {
        if rest.is_empty() {
            return true;
        }
        if read_prefixed(&mut rest).is_none() {
            return false;
        }
    }
    rest.is_empty()
}

fn vector_shape_ok(element: &CqlType, dimension: u32, v: &[u8]) -> bool {
    match element.value_length_if_fixed() {
        Some(width) => (width as u64).checked_mul(u64::from(dimension)) == Some(v.len() as u64),
        None => {
            let mut rest = v;
            for _ in 0..dimension {
                if read_vector_element(&mut rest).is_none() {
                    return false;
                }
            }
            rest.is_empty()
        }
    }
}

/// One element of a vector of variable-width elements: unsigned vint length, then bytes.
pub(super) fn read_vector_element<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let mut cursor = *rest;
    let len = read_unsigned_vint(&mut cursor)?;
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= i32::MAX as usize)?;
    let element = cursor.get(..len)?;
    *rest = cursor.get(len..)?;
    Some(element)
}

fn fixed<const N: usize>(v: &[u8]) -> Option<[u8; N]> {
    v.try_into().ok()
}

/// Compares two non-empty values that passed [`is_well_formed`]. `None` only if that
/// check and this function disagree, which the caller answers with byte order.
fn compare_well_formed(ty: &CqlType, a: &[u8], b: &[u8]) -> Option<Ordering> {
    Some(match ty {
        CqlType::Frozen(inner) => return compare_well_formed(inner, a, b),
        CqlType::Ascii
        | CqlType::Text
        | CqlType::Blob
        | CqlType::Inet
        | CqlType::Date
        | CqlType::Time
        | CqlType::Duration => a.cmp(b),
        CqlType::Tinyint => i8::from_be_bytes(fixed(a)?).cmp(&i8::from_be_bytes(fixed(b)?)),
        CqlType::Smallint => i16::from_be_bytes(fixed(a)?).cmp(&i16::from_be_bytes(fixed(b)?)),
        CqlType::Int => i32::from_be_bytes(fixed(a)?).cmp(&i32::from_be_bytes(fixed(b)?)),
        CqlType::Bigint | CqlType::Counter | CqlType::Timestamp => {
            i64::from_be_bytes(fixed(a)?).cmp(&i64::from_be_bytes(fixed(b)?))
        }
        CqlType::Boolean => (a.first()? != &0).cmp(&(b.first()? != &0)),
        CqlType::Float => {
            java_float_cmp(f32::from_be_bytes(fixed(a)?), f32::from_be_bytes(fixed(b)?))
        }
        CqlType::Double => {
            java_double_cmp(f64::from_be_bytes(fixed(a)?), f64::from_be_bytes(fixed(b)?))
        }
        CqlType::Varint => compare_varint(a, b),
        CqlType::Decimal => compare_decimal(decimal_parts(a)?, decimal_parts(b)?),
        CqlType::Uuid => compare_uuid(fixed(a)?, fixed(b)?),
        CqlType::Timeuuid => compare_timeuuid(fixed(a)?, fixed(b)?),
        CqlType::List(element) | CqlType::Set(element) => compare_collections(&[element], a, b)?,
        CqlType::Map(key, value) => compare_collections(&[key, value], a, b)?,
        CqlType::Tuple(types) => compare_tuples(types.iter(), a, b)?,
        CqlType::Udt(udt) => compare_tuples(udt.fields.iter().map(|(_, t)| t), a, b)?,
        CqlType::Vector(element, dimension) => compare_vectors(element, *dimension, a, b)?,
    })
}

/// The 60-bit timestamp of a UUID's first 8 bytes moved to the low bits, with the version
/// nibble on top (Cassandra's `TimeUUIDType.reorderTimestampBytes`).
fn reorder_timestamp(msb: u64) -> u64 {
    (msb << 48) | ((msb << 16) & 0xffff_0000_0000) | (msb >> 32)
}

fn uuid_halves(v: [u8; 16]) -> (u64, u64) {
    let (hi, lo) = v.split_at(8);
    let hi: [u8; 8] = hi.try_into().unwrap_or_default();
    let lo: [u8; 8] = lo.try_into().unwrap_or_default();
    (u64::from_be_bytes(hi), u64::from_be_bytes(lo))
}

/// Cassandra's `UUIDType.compareCustom`.
fn compare_uuid(a: [u8; 16], b: [u8; 16]) -> Ordering {
    let (msb_a, lsb_a) = uuid_halves(a);
    let (msb_b, lsb_b) = uuid_halves(b);
    let version_a = (msb_a >> 12) & 0xf;
    let version_b = (msb_b >> 12) & 0xf;
    version_a
        .cmp(&version_b)
        .then_with(|| {
            if version_a == 1 {
                (reorder_timestamp(msb_a) as i64).cmp(&(reorder_timestamp(msb_b) as i64))
            } else {
                msb_a.cmp(&msb_b)
            }
        })
        .then_with(|| lsb_a.cmp(&lsb_b))
}

/// Cassandra's `TimeUUIDType.compareCustom`: timestamp first, then the clock sequence and
/// node bytes compared as signed bytes.
fn compare_timeuuid(a: [u8; 16], b: [u8; 16]) -> Ordering {
    let (msb_a, lsb_a) = uuid_halves(a);
    let (msb_b, lsb_b) = uuid_halves(b);
    // XOR-ing the top bit of bytes 9..16 makes a signed 64-bit comparison equal to a
    // signed comparison byte by byte (Cassandra's `signedBytesToNativeLong`).
    const SIGNED_BYTES: u64 = 0x0080_8080_8080_8080;
    (reorder_timestamp(msb_a) as i64)
        .cmp(&(reorder_timestamp(msb_b) as i64))
        .then_with(|| ((lsb_a ^ SIGNED_BYTES) as i64).cmp(&((lsb_b ^ SIGNED_BYTES) as i64)))
}

/// Frozen list/set (`slot_types` = `[element]`) or map (`[key, value]`).
fn compare_collections(slot_types: &[&CqlType], a: &[u8], b: &[u8]) -> Option<Ordering> {
    let (mut rest_a, mut rest_b) = (a, b);
    let count_a = read_i32(&mut rest_a)?;
    let count_b = read_i32(&mut rest_b)?;
    for _ in 0..count_a.min(count_b) {
        for ty in slot_types {
            let Prefixed::Value(ea) = read_prefixed(&mut rest_a)? else {
                return None;
            };
            let Prefixed::Value(eb) = read_prefixed(&mut rest_b)? else {
                return None;
            };
            let order = compare(ty, ea, eb);
            if order.is_ne() {
                return Some(order);
            }
        }
    }
    Some(count_a.cmp(&count_b))
}

/// Tuples and UDTs: fields in order, a missing trailing field counting as null, null
/// before any value (Cassandra's `TupleType.compareCustom`).
fn compare_tuples<'t>(
    types: impl Iterator<Item = &'t CqlType>,
    a: &[u8],
    b: &[u8],
) -> Option<Ordering> {
    let (mut rest_a, mut rest_b) = (a, b);
    for ty in types {
        let fa = next_tuple_field(&mut rest_a)?;
        let fb = next_tuple_field(&mut rest_b)?;
        let order = match (fa, fb) {
            (Prefixed::Null, Prefixed::Null) => Ordering::Equal,
            (Prefixed::Null, Prefixed::Value(_)) => Ordering::Less,
            (Prefixed::Value(_), Prefixed::Null) => Ordering::Greater,
            (Prefixed::Value(va), Prefixed::Value(vb)) => compare(ty, va, vb),
        };
        if order.is_ne() {
            return Some(order);
        }
    }
    Some(Ordering::Equal)
}

/// The next tuple field; an exhausted value yields null (missing trailing field).
fn next_tuple_field<'a>(rest: &mut &'a [u8]) -> Option<Prefixed<'a>> {
    if rest.is_empty() {
        Some(Prefixed::Null)
    } else {
        read_prefixed(rest)
    }
}

fn compare_vectors(element: &CqlType, dimension: u32, a: &[u8], b: &[u8]) -> Option<Ordering> {
    let (mut rest_a, mut rest_b) = (a, b);
    let width = element.value_length_if_fixed();
    for _ in 0..dimension {
        let (ea, eb) = match width {
            Some(w) => {
                let (ea, ta) = (rest_a.get(..w)?, rest_a.get(w..)?);
                let (eb, tb) = (rest_b.get(..w)?, rest_b.get(w..)?);
                rest_a = ta;
                rest_b = tb;
                (ea, eb)
            }
            None => (
                read_vector_element(&mut rest_a)?,
                read_vector_element(&mut rest_b)?,
            ),
        };
        let order = compare(element, ea, eb);
        if order.is_ne() {
            return Some(order);
        }
    }
    Some(Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::super::wire::test_support::*;
    use super::super::UdtType;
    use super::*;
    use proptest::prelude::*;
    use Ordering::{Equal, Greater, Less};

    /// Asserts that `values` are in strictly increasing order, pairwise.
    fn assert_increasing(ty: &CqlType, values: &[Vec<u8>]) {
        for (i, a) in values.iter().enumerate() {
            assert_eq!(compare(ty, a, a), Equal, "{ty}: {a:02x?} vs itself");
            for b in &values[i + 1..] {
                assert_eq!(compare(ty, a, b), Less, "{ty}: {a:02x?} < {b:02x?}");
                assert_eq!(compare(ty, b, a), Greater, "{ty}: {b:02x?} > {a:02x?}");
            }
        }
    }

    fn decimal(scale: i32, unscaled: &[u8]) -> Vec<u8> {
        let mut out = scale.to_be_bytes().to_vec();
        out.extend_from_slice(unscaled);
        out
    }

    fn timeuuid(timestamp_100ns: u64, clock_and_node: [u8; 8]) -> Vec<u8> {
        let time_low = (timestamp_100ns & 0xffff_ffff) as u32;
        let time_mid = ((timestamp_100ns >> 32) & 0xffff) as u16;
        let time_hi = ((timestamp_100ns >> 48) & 0x0fff) as u16 | 0x1000;
        let mut out = Vec::with_capacity(16);
        out.extend_from_slice(&time_low.to_be_bytes());
        out.extend_from_slice(&time_mid.to_be_bytes());
        out.extend_from_slice(&time_hi.to_be_bytes());
        out.extend_from_slice(&clock_and_node);
        out
    }

    #[test]
    fn integers_are_signed() {
        let ty = CqlType::Int;
        let vals: Vec<Vec<u8>> = [i32::MIN, -1, 0, 1, 256, i32::MAX]
            .iter()
            .map(|v| v.to_be_bytes().to_vec())
            .collect();
        let mut with_empty = vec![vec![]];
        with_empty.extend(vals);
        assert_increasing(&ty, &with_empty);
        assert_increasing(
            &CqlType::Tinyint,
            &[vec![], vec![0x80], vec![0xff], vec![0], vec![0x7f]],
        );
        assert_increasing(
            &CqlType::Timestamp,
            &[(-5i64).to_be_bytes().to_vec(), 5i64.to_be_bytes().to_vec()],
        );
        assert_increasing(
            &CqlType::Smallint,
            &[
                (-300i16).to_be_bytes().to_vec(),
                2i16.to_be_bytes().to_vec(),
            ],
        );
    }

    #[test]
    fn date_is_unsigned_with_epoch_in_the_middle() {
        let epoch = 1u32 << 31;
        let vals: Vec<Vec<u8>> = [0, epoch - 1, epoch, epoch + 1, u32::MAX]
            .iter()
            .map(|v| v.to_be_bytes().to_vec())
            .collect();
        assert_increasing(&CqlType::Date, &vals);
    }

    #[test]
    fn varint_numeric_order_with_varied_encodings() {
        let vals = vec![
            vec![0xff, 0x7f],             // -129
            vec![0x80],                   // -128
            vec![0xff, 0xff, 0xff],       // -1, padded
            vec![0x00],                   // 0
            vec![0x01],                   // 1
            vec![0x00, 0xff],             // 255
            vec![0x01, 0x00],             // 256
            vec![0x00, 0x00, 0x01, 0x01], // 257, padded
        ];
        assert_increasing(&CqlType::Varint, &vals);
        assert_eq!(compare(&CqlType::Varint, &[0xff], &[0xff, 0xff]), Equal);
        assert_eq!(compare(&CqlType::Varint, &[0x01], &[0x00, 0x01]), Equal);
        assert_eq!(compare(&CqlType::Varint, &[], &[0x80]), Less);
    }

    #[test]
    fn decimal_numeric_order() {
        let ty = CqlType::Decimal;
        // 1.0 == 1.00 < 1.01
        assert_eq!(compare(&ty, &decimal(1, &[10]), &decimal(2, &[100])), Equal);
        assert_eq!(compare(&ty, &decimal(2, &[100]), &decimal(2, &[101])), Less);
        assert_increasing(
            &ty,
            &[
                vec![],
                decimal(0, &[0x80]),       // -128
                decimal(1, &[0xf1]),       // -1.5
                decimal(0, &[0]),          // 0
                decimal(3, &[0x01]),       // 0.001
                decimal(0, &[1]),          // 1
                decimal(-2, &[1]),         // 100
                decimal(0, &[0x00, 0xc8]), // 200
                decimal(0, &[0x01, 0x00]), // 256
                vec![0, 0, 0, 1],          // scale only: malformed
            ],
        );
    }

    #[test]
    fn floats_follow_java_order() {
        let f = |x: f32| x.to_be_bytes().to_vec();
        assert_increasing(
            &CqlType::Float,
            &[
                vec![],
                f(f32::NEG_INFINITY),
                f(-1.0),
                f(-0.0),
                f(0.0),
                f(f32::MIN_POSITIVE),
                f(f32::INFINITY),
                f(f32::NAN),
            ],
        );
        let d = |x: f64| x.to_be_bytes().to_vec();
        assert_increasing(&CqlType::Double, &[d(-0.0), d(0.0), d(f64::NAN)]);
        assert_eq!(
            compare(&CqlType::Double, &d(f64::NAN), &d(-f64::NAN)),
            Equal
        );
    }

    #[test]
    fn booleans() {
        assert_increasing(&CqlType::Boolean, &[vec![], vec![0], vec![1]]);
        assert_eq!(compare(&CqlType::Boolean, &[1], &[7]), Equal);
    }

    #[test]
    fn timeuuid_orders_by_timestamp_not_bytes() {
        let node = [0x80, 0, 0, 0, 0, 0, 0, 1];
        // Timestamp 0x1_0000_0000 has time_low 0, so its bytes start lower than those of
        // timestamp 0xffff_ffff, yet it is later.
        let earlier = timeuuid(0xffff_ffff, node);
        let later = timeuuid(0x1_0000_0000, node);
        assert!(earlier > later, "byte order is the opposite");
        assert_eq!(compare(&CqlType::Timeuuid, &earlier, &later), Less);
        // Same timestamp: the last 8 bytes compare as signed bytes (0x80 < 0x7f).
        let neg = timeuuid(5, [0x80, 0, 0, 0, 0, 0, 0, 0]);
        let pos = timeuuid(5, [0x7f, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(compare(&CqlType::Timeuuid, &neg, &pos), Less);
        let neg_tail = timeuuid(5, [0, 0, 0, 0, 0, 0, 0, 0xff]);
        let pos_tail = timeuuid(5, [0, 0, 0, 0, 0, 0, 0, 0x01]);
        assert_eq!(compare(&CqlType::Timeuuid, &neg_tail, &pos_tail), Less);
        // UUIDType compares the same tail unsigned.
        assert_eq!(compare(&CqlType::Uuid, &neg, &pos), Greater);
        assert_eq!(compare(&CqlType::Uuid, &earlier, &later), Less);
    }

    #[test]
    fn uuid_orders_by_version_first() {
        let mut v4_bytes = [0u8; 16];
        v4_bytes[6] = 0x40;
        let mut v1_bytes = [0xffu8; 16];
        v1_bytes[6] = 0x1f;
        let mut v4_small = [0u8; 16];
        v4_small[6] = 0x40;
        v4_small[15] = 1;
        assert_increasing(
            &CqlType::Uuid,
            &[
                vec![],
                vec![0u8; 16], // version 0 (nil)
                v1_bytes.to_vec(),
                v4_bytes.to_vec(),
                v4_small.to_vec(),
                vec![1, 2, 3], // malformed
            ],
        );
    }

    #[test]
    fn frozen_collections_compare_element_wise() {
        let int = |v: i32| v.to_be_bytes();
        let list = CqlType::Frozen(Box::new(CqlType::List(Box::new(CqlType::Int))));
        assert_increasing(
            &list,
            &[
                vec![],
                collection(&[]),
                collection(&[&int(-5)]),
                collection(&[&int(-5), &int(0)]),
                collection(&[&int(1)]),
                collection(&[&int(1), &int(-1)]),
                collection(&[&int(2)]),
                vec![0, 0, 0, 1], // count 1 but no element: malformed
            ],
        );
        let map = CqlType::Frozen(Box::new(CqlType::Map(
            Box::new(CqlType::Text),
            Box::new(CqlType::Int),
        )));
        assert_increasing(
            &map,
            &[
                map_bytes(&[(b"a", &int(9))]),
                map_bytes(&[(b"a", &int(10))]),
                map_bytes(&[(b"a", &int(10)), (b"b", &int(0))]),
                map_bytes(&[(b"b", &int(-100))]),
            ],
        );
    }

    fn map_bytes(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
        map(entries)
    }

    #[test]
    fn tuples_treat_missing_fields_as_null() {
        let int = |v: i32| v.to_be_bytes();
        let ty = CqlType::Tuple(vec![CqlType::Int, CqlType::Int]);
        let short = tuple(&[Some(&int(1))]);
        let explicit_null = tuple(&[Some(&int(1)), None]);
        assert_eq!(compare(&ty, &short, &explicit_null), Equal);
        assert_increasing(
            &ty,
            &[
                tuple(&[None, Some(&int(7))]),
                tuple(&[Some(&[]), None]),
                tuple(&[Some(&int(1))]),
                tuple(&[Some(&int(1)), Some(&int(0))]),
                tuple(&[Some(&int(2)), None]),
            ],
        );
        let udt = CqlType::Udt(UdtType {
            keyspace: "ks".into(),
            name: "u".into(),
            fields: vec![("a".into(), CqlType::Text), ("b".into(), CqlType::Int)],
        });
        assert_increasing(
            &udt,
            &[
                tuple(&[Some(b"a")]),
                tuple(&[Some(b"a"), Some(&int(-1))]),
                tuple(&[Some(b"b")]),
                // three fields for a two-field type: malformed
                tuple(&[Some(b"a"), Some(&int(0)), Some(&int(0))]),
            ],
        );
    }

    #[test]
    fn vectors_compare_element_wise() {
        let f = |xs: &[f32]| xs.iter().flat_map(|x| x.to_be_bytes()).collect::<Vec<u8>>();
        let ty = CqlType::Vector(Box::new(CqlType::Float), 2);
        assert_increasing(
            &ty,
            &[
                f(&[-1.0, 5.0]),
                f(&[-0.0, 0.0]),
                f(&[0.0, -3.0]),
                f(&[0.0, 1.0]),
            ],
        );
        let text = CqlType::Vector(Box::new(CqlType::Text), 2);
        let enc = |a: &[u8], b: &[u8]| {
            let mut out = unsigned_vint(a.len() as u64);
            out.extend_from_slice(a);
            out.extend(unsigned_vint(b.len() as u64));
            out.extend_from_slice(b);
            out
        };
        assert_increasing(
            &text,
            &[
                enc(b"", b"z"),
                enc(b"a", b""),
                enc(b"a", b"b"),
                enc(b"b", b""),
            ],
        );
    }

    #[test]
    fn byte_order_types() {
        assert_increasing(
            &CqlType::Text,
            &[vec![], b"a".to_vec(), b"ab".to_vec(), vec![0xc3, 0xa9]],
        );
        assert_increasing(&CqlType::Inet, &[vec![10, 0, 0, 1], vec![192, 168, 0, 1]]);
        assert_increasing(
            &CqlType::Time,
            &[
                0i64.to_be_bytes().to_vec(),
                86_399_999_999_999i64.to_be_bytes().to_vec(),
            ],
        );
    }

    // ---- total order on arbitrary bytes ----

    /// Mostly well-formed values of `ty` (from `good`), sometimes mangled or random.
    fn values_of(good: BoxedStrategy<Vec<u8>>) -> BoxedStrategy<Vec<u8>> {
        prop_oneof![
            4 => good.clone(),
            1 => Just(Vec::new()),
            1 => proptest::collection::vec(any::<u8>(), 0..24),
            1 => (good.clone(), any::<prop::sample::Index>()).prop_map(|(v, i)| {
                let mut v = v;
                if !v.is_empty() {
                    let at = i.index(v.len());
                    v.truncate(at);
                }
                v
            }),
            1 => (good, any::<prop::sample::Index>(), any::<u8>()).prop_map(|(v, i, b)| {
                let mut v = v;
                if !v.is_empty() {
                    let at = i.index(v.len());
                    v[at] = b;
                }
                v
            }),
        ]
        .boxed()
    }

    fn small_int_bytes() -> BoxedStrategy<Vec<u8>> {
        (-3i32..3).prop_map(|v| v.to_be_bytes().to_vec()).boxed()
    }

    fn cases() -> Vec<(CqlType, BoxedStrategy<Vec<u8>>)> {
        let int_list = proptest::collection::vec(small_int_bytes(), 0..3)
            .prop_map(|els| {
                let refs: Vec<&[u8]> = els.iter().map(Vec::as_slice).collect();
                collection(&refs)
            })
            .boxed();
        let tuple_vals = proptest::collection::vec(
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..3)),
            0..3,
        )
        .prop_map(|fields| {
            let refs: Vec<Option<&[u8]>> = fields.iter().map(|f| f.as_deref()).collect();
            tuple(&refs)
        })
        .boxed();
        let decimals = ((-2i32..3), proptest::collection::vec(any::<u8>(), 1..3))
            .prop_map(|(s, u)| decimal(s, &u))
            .boxed();
        let uuids = (any::<u128>(), 0u8..6)
            .prop_map(|(v, version)| {
                let mut b = v.to_be_bytes();
                b[6] = (b[6] & 0x0f) | (version << 4);
                b.to_vec()
            })
            .boxed();
        let floats = prop_oneof![
            Just(f32::NAN),
            Just(-0.0f32),
            Just(0.0f32),
            any::<f32>(),
            (-2i8..2).prop_map(f32::from)
        ]
        .prop_map(|f| f.to_be_bytes().to_vec())
        .boxed();
        vec![
            (CqlType::Int, small_int_bytes()),
            (
                CqlType::Varint,
                proptest::collection::vec(any::<u8>(), 1..4).boxed(),
            ),
            (CqlType::Decimal, decimals),
            (CqlType::Float, floats),
            (
                CqlType::Boolean,
                proptest::collection::vec(any::<u8>(), 1..2).boxed(),
            ),
            (CqlType::Uuid, uuids.clone()),
            (CqlType::Timeuuid, uuids),
            (
                CqlType::Frozen(Box::new(CqlType::List(Box::new(CqlType::Int)))),
                int_list.clone(),
            ),
            (
                CqlType::Frozen(Box::new(CqlType::Map(
                    Box::new(CqlType::Int),
                    Box::new(CqlType::Int),
                ))),
                int_list,
            ),
            (
                CqlType::Tuple(vec![CqlType::Varint, CqlType::Boolean, CqlType::Blob]),
                tuple_vals,
            ),
        ]
    }

    fn typed_values() -> impl Strategy<Value = (CqlType, Vec<Vec<u8>>)> {
        (0..cases().len()).prop_flat_map(|case| {
            let (ty, good) = cases().swap_remove(case);
            (Just(ty), proptest::collection::vec(values_of(good), 12))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn compare_is_a_total_order((ty, mut values) in typed_values()) {
            for a in &values {
                prop_assert_eq!(compare(&ty, a, a), Equal);
                for b in &values {
                    prop_assert_eq!(compare(&ty, a, b), compare(&ty, b, a).reverse());
                }
            }
            for a in &values {
                for b in &values {
                    for c in &values {
                        if compare(&ty, a, b).is_le() && compare(&ty, b, c).is_le() {
                            prop_assert!(
                                compare(&ty, a, c).is_le(),
                                "{} {:02x?} <= {:02x?} <= {:02x?}", ty, a, b, c
                            );
                        }
                    }
                }
            }
            values.sort_by(|a, b| compare(&ty, a, b));
            for (i, a) in values.iter().enumerate() {
                for b in &values[i + 1..] {
                    prop_assert_ne!(compare(&ty, a, b), Greater);
                }
            }
        }
    }
}
