//! The CQL type system as values: [`CqlType`] describes the type of a column or of a nested
//! value, with
//!
//! * its CQL spelling ([`fmt::Display`]) and the inverse parser [`parse_cql_type`];
//! * Cassandra's comparator on serialized values, [`compare`], which defines clustering
//!   order and the order of elements in frozen sets and maps;
//! * Cassandra's value validation, [`validate`], for values arriving from clients or disk;
//! * type-level properties ([`CqlType::is_multi_cell`], [`CqlType::freeze`], ...).
//!
//! Values are in their serialized form: native protocol v4 / Cassandra storage encoding
//! (big-endian fixed-width numbers; collections as an `i32` count then `i32`-length-prefixed
//! elements; tuples and UDTs as `i32`-length-prefixed fields where a negative length is
//! null and missing trailing fields are null; vectors as concatenated fixed-width elements,
//! or unsigned-vint-prefixed elements when the element type has no fixed width).
//!
//! Invariants: [`compare`] is a total order (a total preorder on bytes: antisymmetric and
//! transitive, with equal-comparing encodings such as `1.0` / `1.00` for decimals) on *any*
//! input, including malformed bytes, and never panics; [`validate`] and [`parse_cql_type`]
//! never panic and report structured [`TypeError`]s.

use std::borrow::Cow;
use std::fmt;

mod compare;
mod numeric;
mod parse;
mod validate;
mod wire;

pub use compare::compare;
pub use parse::{parse_cql_type, MAX_TYPE_NESTING_DEPTH};
pub use validate::{validate, MAX_TIME_NANOS};

/// A CQL type.
///
/// Collections and UDTs without a [`CqlType::Frozen`] wrapper are multi-cell (each element
/// is a separate cell); wrapped in `Frozen` they are a single opaque value. Tuples and
/// vectors are always single values.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CqlType {
    /// US-ASCII text.
    Ascii,
    /// 64-bit signed integer.
    Bigint,
    /// Arbitrary bytes.
    Blob,
    /// `true` / `false`.
    Boolean,
    /// 64-bit counter.
    Counter,
    /// Days since -5877641-06-23, as an unsigned 32-bit integer with the epoch at 2^31.
    Date,
    /// Arbitrary-precision decimal: `i32` scale then a varint unscaled value.
    Decimal,
    /// IEEE-754 double.
    Double,
    /// Months, days and nanoseconds, as three signed vints.
    Duration,
    /// IEEE-754 single.
    Float,
    /// IPv4 (4 bytes) or IPv6 (16 bytes) address.
    Inet,
    /// 32-bit signed integer.
    Int,
    /// 16-bit signed integer.
    Smallint,
    /// UTF-8 text (`varchar` is an alias).
    Text,
    /// Nanoseconds since midnight, in `[0, 86399999999999]`.
    Time,
    /// Milliseconds since the Unix epoch, signed 64-bit.
    Timestamp,
    /// Version 1 (time-based) UUID.
    Timeuuid,
    /// 8-bit signed integer.
    Tinyint,
    /// Any UUID.
    Uuid,
    /// Arbitrary-precision integer (big-endian two's complement).
    Varint,
    /// `list<T>`.
    List(Box<CqlType>),
    /// `set<T>`.
    Set(Box<CqlType>),
    /// `map<K, V>`.
    Map(Box<CqlType>, Box<CqlType>),
    /// `tuple<T1, T2, ...>`.
    Tuple(Vec<CqlType>),
    /// A user-defined type.
    Udt(UdtType),
    /// `frozen<T>`: a collection or UDT stored as one value.
    Frozen(Box<CqlType>),
    /// `vector<T, n>`: exactly `n` non-null elements.
    Vector(Box<CqlType>, u32),
}

/// A user-defined type: its keyspace, name and ordered fields.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UdtType {
    /// Keyspace the type belongs to.
    pub keyspace: String,
    /// Type name (case-sensitive, as stored in the schema).
    pub name: String,
    /// Field names and types, in declaration order.
    pub fields: Vec<(String, CqlType)>,
}

/// Errors parsing a CQL type or validating a serialized value.
///
/// Validation messages follow Cassandra's wording where Cassandra has one.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypeError {
    /// The type string ended early.
    #[error("unexpected end of type string, expected {expected}")]
    UnexpectedEnd {
        /// What the parser was looking for.
        expected: &'static str,
    },
    /// An unexpected character in a type string.
    #[error("unexpected {found:?} at offset {position} of type string, expected {expected}")]
    UnexpectedChar {
        /// Byte offset in the type string.
        position: usize,
        /// The character found.
        found: char,
        /// What the parser was looking for.
        expected: &'static str,
    },
    /// A name that is neither a native type nor a known user-defined type.
    #[error("unknown type {name:?}")]
    UnknownType {
        /// The name as written (unquoted names lower-cased).
        name: String,
    },
    /// A vector dimension that is not an integer in `1..=2147483647`.
    #[error("invalid vector dimension {text:?}: vectors may only have positive dimensions up to 2147483647")]
    InvalidVectorDimension {
        /// The dimension as written.
        text: String,
    },
    /// `frozen<>` around something that is not a collection, tuple, UDT or vector.
    #[error(
        "frozen<> is only allowed on collections, tuples, and user-defined types (got {inner})"
    )]
    InvalidFrozen {
        /// The wrapped type.
        inner: String,
    },
    /// A `"`-quoted identifier without its closing quote.
    #[error("unterminated quoted identifier starting at offset {position}")]
    UnterminatedQuotedIdentifier {
        /// Byte offset of the opening quote.
        position: usize,
    },
    /// Input left over after a complete type.
    #[error("unexpected trailing input at offset {position} of type string")]
    TrailingInput {
        /// Byte offset of the first unparsed character.
        position: usize,
    },
    /// A type nested more deeply than [`MAX_TYPE_NESTING_DEPTH`].
    #[error("type nesting deeper than {max_depth} levels")]
    NestingTooDeep {
        /// The limit.
        max_depth: usize,
    },
    /// A value whose size is impossible for its type.
    #[error("{}", wrong_size_message(.type_name, .actual_bytes))]
    WrongSize {
        /// CQL name of the type.
        type_name: &'static str,
        /// Size of the value.
        actual_bytes: usize,
    },
    /// A non-ASCII byte in an `ascii` value.
    #[error("Invalid byte for ascii: {}", *.byte as i8)]
    InvalidAscii {
        /// Offset of the byte.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// A `text` value that is not valid UTF-8.
    #[error("String didn't validate: invalid UTF-8 bytes after offset {valid_up_to}")]
    InvalidUtf8 {
        /// Length of the valid UTF-8 prefix.
        valid_up_to: usize,
    },
    /// A `timeuuid` whose version is not 1.
    #[error("Invalid version for TimeUUID type: {version}")]
    InvalidTimeUuidVersion {
        /// The version nibble found.
        version: u8,
    },
    /// A `time` value outside `[0, 86399999999999]`.
    #[error(
        "Invalid time value {nanos}: nanoseconds since midnight must be in [0, 86399999999999]"
    )]
    TimeOutOfRange {
        /// The value found.
        nanos: i64,
    },
    /// A `duration` that ends before its three vints.
    #[error("Not enough bytes to read a duration")]
    DurationTruncated,
    /// A `duration` months or days field that does not fit in 32 bits.
    #[error("The duration {field} must be a 32 bits integer but was: {value}")]
    DurationFieldOverflow {
        /// `"months"` or `"days"`.
        field: &'static str,
        /// The value found.
        value: i64,
    },
    /// A `duration` whose fields have different signs.
    #[error("The duration months, days and nanoseconds must be all of the same sign ({months}, {days}, {nanos})")]
    DurationMixedSigns {
        /// Months.
        months: i32,
        /// Days.
        days: i32,
        /// Nanoseconds.
        nanos: i64,
    },
    /// Bytes after the three vints of a `duration`.
    #[error("Unexpected {extra_bytes} extraneous bytes after duration value")]
    DurationTrailingBytes {
        /// How many.
        extra_bytes: usize,
    },
    /// A collection value that ends early (or is empty).
    #[error("Not enough bytes to read a {kind}")]
    CollectionTruncated {
        /// `"list"`, `"set"` or `"map"`.
        kind: &'static str,
    },
    /// A collection with a negative element count.
    #[error("The data cannot be deserialized as a {kind}")]
    NegativeCollectionSize {
        /// `"list"`, `"set"` or `"map"`.
        kind: &'static str,
        /// The count found.
        count: i32,
    },
    /// A null element, key or value inside a collection.
    #[error("Null value read when not allowed")]
    NullCollectionElement,
    /// Bytes after the last element of a collection.
    #[error("Unexpected extraneous bytes after {kind} value")]
    CollectionTrailingBytes {
        /// `"list"`, `"set"` or `"map"`.
        kind: &'static str,
    },
    /// A tuple that ends inside a field's length.
    #[error("Not enough bytes to read size of {index}th component")]
    TupleFieldSizeTruncated {
        /// Zero-based field index.
        index: usize,
    },
    /// A tuple that ends inside a field.
    #[error("Not enough bytes to read {index}th component")]
    TupleFieldTruncated {
        /// Zero-based field index.
        index: usize,
    },
    /// A tuple with more fields than its type.
    #[error("Invalid remaining data after end of tuple value")]
    TupleTrailingBytes,
    /// A UDT value that ends inside a field's length.
    #[error("Not enough bytes to read size of {index}th field {field}")]
    UdtFieldSizeTruncated {
        /// Zero-based field index.
        index: usize,
        /// Field name.
        field: String,
    },
    /// A UDT value that ends inside a field.
    #[error("Not enough bytes to read {index}th field {field}")]
    UdtFieldTruncated {
        /// Zero-based field index.
        index: usize,
        /// Field name.
        field: String,
    },
    /// A UDT field whose value is invalid for the field's type.
    #[error("Failure validating the {index}th field {field}; {source}")]
    UdtFieldInvalid {
        /// Zero-based field index.
        index: usize,
        /// Field name.
        field: String,
        /// Why the field is invalid.
        source: Box<TypeError>,
    },
    /// A UDT value with more fields than its type.
    #[error("Invalid remaining data after end of UDT value")]
    UdtTrailingBytes,
    /// An empty vector value (vectors are never empty).
    #[error("Invalid empty vector value")]
    EmptyVector,
    /// A vector value that ends before its last element.
    #[error("Not enough bytes to read a {vector_type}")]
    VectorTruncated {
        /// The vector's CQL type.
        vector_type: String,
    },
    /// Bytes after the last element of a vector.
    #[error("Unexpected {extra_bytes} extraneous bytes after {vector_type} value")]
    VectorTrailingBytes {
        /// The vector's CQL type.
        vector_type: String,
        /// How many.
        extra_bytes: usize,
    },
}

/// Cassandra's wording for a value of the wrong size.
fn wrong_size_message(type_name: &str, actual_bytes: &usize) -> String {
    let n = *actual_bytes;
    match type_name {
        "int" => format!("Expected 4 or 0 byte int ({n})"),
        "bigint" | "counter" => format!("Expected 8 or 0 byte long ({n})"),
        "timestamp" => format!("Expected 8 or 0 byte long for date ({n})"),
        "smallint" => format!("Expected 2 bytes for a smallint ({n})"),
        "tinyint" => format!("Expected 1 byte for a tinyint ({n})"),
        "float" => format!("Expected 4 or 0 byte value for a float ({n})"),
        "double" => format!("Expected 8 or 0 byte value for a double ({n})"),
        "boolean" => format!("Expected 1 or 0 byte value ({n})"),
        "date" => format!("Expected 4 byte long for date ({n})"),
        "time" => format!("Expected 8 byte long for time ({n})"),
        "uuid" | "timeuuid" => format!("UUID should be 16 or 0 bytes ({n})"),
        "inet" => format!("Expected 4 or 16 byte inetaddress; got {n} bytes"),
        "decimal" => format!("Expected 0 or at least 5 bytes for a decimal ({n})"),
        "duration" => format!("Expected at least 3 bytes for a duration ({n})"),
        other => format!("Invalid {other} value size ({n})"),
    }
}

/// The native (non-parameterized) types with their CQL names.
const NATIVE_TYPES: [(&str, CqlType); 20] = [
    ("ascii", CqlType::Ascii),
    ("bigint", CqlType::Bigint),
    ("blob", CqlType::Blob),
    ("boolean", CqlType::Boolean),
    ("counter", CqlType::Counter),
    ("date", CqlType::Date),
    ("decimal", CqlType::Decimal),
    ("double", CqlType::Double),
    ("duration", CqlType::Duration),
    ("float", CqlType::Float),
    ("inet", CqlType::Inet),
    ("int", CqlType::Int),
    ("smallint", CqlType::Smallint),
    ("text", CqlType::Text),
    ("time", CqlType::Time),
    ("timestamp", CqlType::Timestamp),
    ("timeuuid", CqlType::Timeuuid),
    ("tinyint", CqlType::Tinyint),
    ("uuid", CqlType::Uuid),
    ("varint", CqlType::Varint),
];

/// Words that name a type in CQL and therefore must be quoted to be used as a UDT name.
const TYPE_KEYWORDS: [&str; 7] = ["varchar", "list", "set", "map", "tuple", "frozen", "vector"];

impl CqlType {
    /// The CQL name of a native type (`None` for parameterized types and UDTs).
    pub fn native_name(&self) -> Option<&'static str> {
        NATIVE_TYPES
            .iter()
            .find(|(_, t)| t == self)
            .map(|(name, _)| *name)
    }

    /// The type without any `frozen<>` wrappers.
    pub fn unfrozen(&self) -> &CqlType {
        let mut t = self;
        while let CqlType::Frozen(inner) = t {
            t = inner;
        }
        t
    }

    /// Whether values of this type are stored as several cells: a non-frozen list, set, map
    /// or UDT.
    pub fn is_multi_cell(&self) -> bool {
        matches!(
            self,
            CqlType::List(_) | CqlType::Set(_) | CqlType::Map(..) | CqlType::Udt(_)
        )
    }

    /// Whether this is a list, set or map, frozen or not.
    pub fn is_collection(&self) -> bool {
        matches!(
            self.unfrozen(),
            CqlType::List(_) | CqlType::Set(_) | CqlType::Map(..)
        )
    }

    /// Whether this is the `counter` type.
    pub fn is_counter(&self) -> bool {
        matches!(self, CqlType::Counter)
    }

    /// The frozen version of this type: multi-cell collections and UDTs are wrapped in
    /// [`CqlType::Frozen`]; every other type (already frozen, tuple, vector, native) is
    /// returned unchanged.
    pub fn freeze(self) -> CqlType {
        if self.is_multi_cell() {
            CqlType::Frozen(Box::new(self))
        } else {
            self
        }
    }

    /// Whether `duration` occurs anywhere in this type.
    pub fn references_duration(&self) -> bool {
        self.any_component(&|t| matches!(t, CqlType::Duration))
    }

    /// Whether `counter` occurs anywhere in this type.
    pub fn references_counter(&self) -> bool {
        self.any_component(&|t| matches!(t, CqlType::Counter))
    }

    fn any_component(&self, pred: &dyn Fn(&CqlType) -> bool) -> bool {
        if pred(self) {
            return true;
        }
        match self {
            CqlType::List(t) | CqlType::Set(t) | CqlType::Frozen(t) | CqlType::Vector(t, _) => {
                t.any_component(pred)
            }
            CqlType::Map(k, v) => k.any_component(pred) || v.any_component(pred),
            CqlType::Tuple(ts) => ts.iter().any(|t| t.any_component(pred)),
            CqlType::Udt(u) => u.fields.iter().any(|(_, t)| t.any_component(pred)),
            _ => false,
        }
    }

    /// Whether the type can be a clustering (or partition) key column: not multi-cell, not a
    /// counter and without `duration` anywhere inside (Cassandra rejects durations in
    /// primary keys because they have no meaningful order).
    pub fn is_comparable_for_clustering(&self) -> bool {
        !self.is_multi_cell() && !self.references_duration() && !self.references_counter()
    }

    /// The size in bytes of every non-empty value of this type when it is fixed (Cassandra's
    /// `valueLengthIfFixed`); it decides how vectors of this type are serialized.
    pub fn value_length_if_fixed(&self) -> Option<usize> {
        match self {
            CqlType::Boolean => Some(1),
            CqlType::Int | CqlType::Float => Some(4),
            CqlType::Bigint | CqlType::Double | CqlType::Timestamp => Some(8),
            CqlType::Uuid | CqlType::Timeuuid => Some(16),
            CqlType::Vector(element, dimension) => element
                .value_length_if_fixed()?
                .checked_mul(usize::try_from(*dimension).ok()?),
            CqlType::Frozen(inner) => inner.value_length_if_fixed(),
            _ => None,
        }
    }

    /// Cassandra's comparator for values of this type; see [`compare`].
    pub fn compare(&self, a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        compare(self, a, b)
    }

    /// Validates a serialized value of this type; see [`validate`].
    pub fn validate(&self, value: &[u8]) -> Result<(), TypeError> {
        validate(self, value)
    }
}

/// Quotes an identifier when it cannot be written bare: anything but a lower-case
/// identifier, or a word that names a type.
fn maybe_quote(name: &str) -> Cow<'_, str> {
    let mut chars = name.chars();
    let bare = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !NATIVE_TYPES.iter().any(|(n, _)| *n == name)
        && !TYPE_KEYWORDS.contains(&name);
    if bare {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(format!("\"{}\"", name.replace('"', "\"\"")))
    }
}

impl fmt::Display for UdtType {
    /// The type's name, quoted if needed (the keyspace is not printed).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&maybe_quote(&self.name))
    }
}

impl fmt::Display for CqlType {
    /// CQL syntax, e.g. `map<text, frozen<list<int>>>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = self.native_name() {
            return f.write_str(name);
        }
        match self {
            CqlType::List(t) => write!(f, "list<{t}>"),
            CqlType::Set(t) => write!(f, "set<{t}>"),
            CqlType::Map(k, v) => write!(f, "map<{k}, {v}>"),
            CqlType::Tuple(ts) => {
                f.write_str("tuple<")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str(">")
            }
            CqlType::Udt(u) => write!(f, "{u}"),
            CqlType::Frozen(t) => write!(f, "frozen<{t}>"),
            CqlType::Vector(t, n) => write!(f, "vector<{t}, {n}>"),
            // Native types were printed above.
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udt(name: &str) -> UdtType {
        UdtType {
            keyspace: "ks".into(),
            name: name.into(),
            fields: vec![("a".into(), CqlType::Int), ("b".into(), CqlType::Text)],
        }
    }

    #[test]
    fn display_uses_cql_syntax() {
        let t = CqlType::Map(
            Box::new(CqlType::Text),
            Box::new(CqlType::Frozen(Box::new(CqlType::List(Box::new(
                CqlType::Int,
            ))))),
        );
        assert_eq!(t.to_string(), "map<text, frozen<list<int>>>");
        assert_eq!(
            CqlType::Tuple(vec![CqlType::Int, CqlType::Udt(udt("addr"))]).to_string(),
            "tuple<int, addr>"
        );
        assert_eq!(
            CqlType::Vector(Box::new(CqlType::Float), 3).to_string(),
            "vector<float, 3>"
        );
        assert_eq!(CqlType::Udt(udt("MyType")).to_string(), "\"MyType\"");
        assert_eq!(CqlType::Udt(udt("list")).to_string(), "\"list\"");
        assert_eq!(CqlType::Udt(udt("a\"b")).to_string(), "\"a\"\"b\"");
        assert_eq!(CqlType::Udt(udt("ok_1")).to_string(), "ok_1");
        for (name, t) in NATIVE_TYPES.iter() {
            assert_eq!(t.to_string(), *name);
        }
    }

    #[test]
    fn type_properties() {
        let list = CqlType::List(Box::new(CqlType::Int));
        assert!(list.is_multi_cell());
        assert!(list.is_collection());
        assert!(!list.is_comparable_for_clustering());
        let frozen = list.clone().freeze();
        assert_eq!(frozen, CqlType::Frozen(Box::new(list.clone())));
        assert!(!frozen.is_multi_cell());
        assert!(frozen.is_collection());
        assert!(frozen.is_comparable_for_clustering());
        assert_eq!(frozen.clone().freeze(), frozen);

        let u = CqlType::Udt(udt("t"));
        assert!(u.is_multi_cell());
        assert!(!u.is_collection());
        assert!(u.clone().freeze().is_comparable_for_clustering());

        let tuple = CqlType::Tuple(vec![CqlType::Int]);
        assert_eq!(tuple.clone().freeze(), tuple);
        assert!(!tuple.is_multi_cell());

        assert!(CqlType::Counter.is_counter());
        assert!(!CqlType::Counter.is_comparable_for_clustering());
        assert!(!CqlType::Duration.is_comparable_for_clustering());
        let frozen_durations =
            CqlType::Frozen(Box::new(CqlType::List(Box::new(CqlType::Duration))));
        assert!(!frozen_durations.is_comparable_for_clustering());
        assert!(CqlType::Timeuuid.is_comparable_for_clustering());
        assert!(CqlType::Vector(Box::new(CqlType::Float), 2).is_comparable_for_clustering());
    }

    #[test]
    fn fixed_lengths() {
        assert_eq!(CqlType::Int.value_length_if_fixed(), Some(4));
        assert_eq!(CqlType::Smallint.value_length_if_fixed(), None);
        assert_eq!(CqlType::Date.value_length_if_fixed(), None);
        assert_eq!(
            CqlType::Vector(Box::new(CqlType::Vector(Box::new(CqlType::Double), 3)), 2)
                .value_length_if_fixed(),
            Some(48)
        );
        assert_eq!(
            CqlType::Vector(Box::new(CqlType::Text), 2).value_length_if_fixed(),
            None
        );
    }

    #[test]
    fn error_messages_follow_cassandra() {
        let e = TypeError::WrongSize {
            type_name: "int",
            actual_bytes: 3,
        };
        assert_eq!(e.to_string(), "Expected 4 or 0 byte int (3)");
        let e = TypeError::InvalidAscii {
            offset: 0,
            byte: 0xc3,
        };
        assert_eq!(e.to_string(), "Invalid byte for ascii: -61");
        let e = TypeError::UdtFieldInvalid {
            index: 1,
            field: "b".into(),
            source: Box::new(TypeError::InvalidUtf8 { valid_up_to: 0 }),
        };
        assert!(e
            .to_string()
            .starts_with("Failure validating the 1th field b; String didn't validate"));
    }
}
