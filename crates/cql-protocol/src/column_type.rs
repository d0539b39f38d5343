//! Column type `[option]`s in result and prepared metadata (native protocol v4 §4.2.5.2).
//!
//! [`ColumnTypeSpec`] is the wire description of a CQL type. Encoding depends on the protocol
//! version, as in Cassandra: a type that the version does not define natively is sent as a
//! `Custom` (0x0000) option carrying its Cassandra marshal class name.
//!
//! | type | v3 | v4 |
//! |---|---|---|
//! | date, time, smallint, tinyint | custom (`SimpleDateType`, `TimeType`, `ShortType`, `ByteType`) | 0x0011-0x0014 |
//! | duration | custom `DurationType` | custom `DurationType` (0x0015 exists only in v5) |
//!
//! Decoding maps those class names back to the typed variants, so decode(encode(t)) == t for
//! every `t` in every version. Decoding is recursive but bounded by
//! [`MAX_TYPE_NESTING_DEPTH`], so hostile input cannot exhaust the stack.

use bytes::{BufMut, BytesMut};

use crate::error::{DecodeError, EncodeError};
use crate::frame::ProtocolVersion;
use crate::wire::{self, Reader};

/// Deepest nesting of collection/UDT/tuple types accepted when decoding.
pub const MAX_TYPE_NESTING_DEPTH: usize = 64;

const MARSHAL_PREFIX: &str = "org.apache.cassandra.db.marshal.";
/// Marshal class of `date`, sent as custom before v4.
pub const SIMPLE_DATE_TYPE_CLASS: &str = "org.apache.cassandra.db.marshal.SimpleDateType";
/// Marshal class of `time`, sent as custom before v4.
pub const TIME_TYPE_CLASS: &str = "org.apache.cassandra.db.marshal.TimeType";
/// Marshal class of `smallint`, sent as custom before v4.
pub const SHORT_TYPE_CLASS: &str = "org.apache.cassandra.db.marshal.ShortType";
/// Marshal class of `tinyint`, sent as custom before v4.
pub const BYTE_TYPE_CLASS: &str = "org.apache.cassandra.db.marshal.ByteType";
/// Marshal class of `duration`, sent as custom before v5.
pub const DURATION_TYPE_CLASS: &str = "org.apache.cassandra.db.marshal.DurationType";

/// A field of a user-defined type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UdtField {
    /// Field name.
    pub name: String,
    /// Field type.
    pub field_type: ColumnTypeSpec,
}

/// A user-defined type description (option 0x0030).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UdtSpec {
    /// Keyspace the type belongs to.
    pub keyspace: String,
    /// Type name.
    pub name: String,
    /// Fields in declaration order.
    pub fields: Vec<UdtField>,
}

/// The wire description of a column type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ColumnTypeSpec {
    /// 0x0000: a custom type, by fully qualified class name.
    Custom(String),
    /// 0x0001 `ascii`.
    Ascii,
    /// 0x0002 `bigint`.
    Bigint,
    /// 0x0003 `blob`.
    Blob,
    /// 0x0004 `boolean`.
    Boolean,
    /// 0x0005 `counter`.
    Counter,
    /// 0x0006 `decimal`.
    Decimal,
    /// 0x0007 `double`.
    Double,
    /// 0x0008 `float`.
    Float,
    /// 0x0009 `int`.
    Int,
    /// 0x000B `timestamp`.
    Timestamp,
    /// 0x000C `uuid`.
    Uuid,
    /// 0x000D `varchar` / `text`.
    Varchar,
    /// 0x000E `varint`.
    Varint,
    /// 0x000F `timeuuid`.
    Timeuuid,
    /// 0x0010 `inet`.
    Inet,
    /// 0x0011 `date` (v4+; custom before).
    Date,
    /// 0x0012 `time` (v4+; custom before).
    Time,
    /// 0x0013 `smallint` (v4+; custom before).
    Smallint,
    /// 0x0014 `tinyint` (v4+; custom before).
    Tinyint,
    /// `duration`: custom `DurationType` in v3/v4.
    Duration,
    /// 0x0020 `list<T>`.
    List(Box<ColumnTypeSpec>),
    /// 0x0021 `map<K, V>`.
    Map(Box<ColumnTypeSpec>, Box<ColumnTypeSpec>),
    /// 0x0022 `set<T>`.
    Set(Box<ColumnTypeSpec>),
    /// 0x0030 user-defined type.
    Udt(UdtSpec),
    /// 0x0031 `tuple<...>`.
    Tuple(Vec<ColumnTypeSpec>),
}

mod id {
    pub const CUSTOM: u16 = 0x0000;
    pub const ASCII: u16 = 0x0001;
    pub const BIGINT: u16 = 0x0002;
    pub const BLOB: u16 = 0x0003;
    pub const BOOLEAN: u16 = 0x0004;
    pub const COUNTER: u16 = 0x0005;
    pub const DECIMAL: u16 = 0x0006;
    pub const DOUBLE: u16 = 0x0007;
    pub const FLOAT: u16 = 0x0008;
    pub const INT: u16 = 0x0009;
    pub const TIMESTAMP: u16 = 0x000B;
    pub const UUID: u16 = 0x000C;
    pub const VARCHAR: u16 = 0x000D;
    pub const VARINT: u16 = 0x000E;
    pub const TIMEUUID: u16 = 0x000F;
    pub const INET: u16 = 0x0010;
    pub const DATE: u16 = 0x0011;
    pub const TIME: u16 = 0x0012;
    pub const SMALLINT: u16 = 0x0013;
    pub const TINYINT: u16 = 0x0014;
    pub const LIST: u16 = 0x0020;
    pub const MAP: u16 = 0x0021;
    pub const SET: u16 = 0x0022;
    pub const UDT: u16 = 0x0030;
    pub const TUPLE: u16 = 0x0031;
}

impl ColumnTypeSpec {
    /// The option id this type is sent with in `version` (0x0000 when sent as custom).
    pub fn option_id(&self, version: ProtocolVersion) -> u16 {
        if self.custom_class(version).is_some() {
            return id::CUSTOM;
        }
        match self {
            ColumnTypeSpec::Custom(_) | ColumnTypeSpec::Duration => id::CUSTOM,
            ColumnTypeSpec::Ascii => id::ASCII,
            ColumnTypeSpec::Bigint => id::BIGINT,
            ColumnTypeSpec::Blob => id::BLOB,
            ColumnTypeSpec::Boolean => id::BOOLEAN,
            ColumnTypeSpec::Counter => id::COUNTER,
            ColumnTypeSpec::Decimal => id::DECIMAL,
            ColumnTypeSpec::Double => id::DOUBLE,
            ColumnTypeSpec::Float => id::FLOAT,
            ColumnTypeSpec::Int => id::INT,
            ColumnTypeSpec::Timestamp => id::TIMESTAMP,
            ColumnTypeSpec::Uuid => id::UUID,
            ColumnTypeSpec::Varchar => id::VARCHAR,
            ColumnTypeSpec::Varint => id::VARINT,
            ColumnTypeSpec::Timeuuid => id::TIMEUUID,
            ColumnTypeSpec::Inet => id::INET,
            ColumnTypeSpec::Date => id::DATE,
            ColumnTypeSpec::Time => id::TIME,
            ColumnTypeSpec::Smallint => id::SMALLINT,
            ColumnTypeSpec::Tinyint => id::TINYINT,
            ColumnTypeSpec::List(_) => id::LIST,
            ColumnTypeSpec::Map(_, _) => id::MAP,
            ColumnTypeSpec::Set(_) => id::SET,
            ColumnTypeSpec::Udt(_) => id::UDT,
            ColumnTypeSpec::Tuple(_) => id::TUPLE,
        }
    }

    /// The class name a native type is downgraded to in `version`, if it must be.
    fn custom_class(&self, version: ProtocolVersion) -> Option<&'static str> {
        match self {
            ColumnTypeSpec::Duration => Some(DURATION_TYPE_CLASS),
            ColumnTypeSpec::Date if version < ProtocolVersion::V4 => Some(SIMPLE_DATE_TYPE_CLASS),
            ColumnTypeSpec::Time if version < ProtocolVersion::V4 => Some(TIME_TYPE_CLASS),
            ColumnTypeSpec::Smallint if version < ProtocolVersion::V4 => Some(SHORT_TYPE_CLASS),
            ColumnTypeSpec::Tinyint if version < ProtocolVersion::V4 => Some(BYTE_TYPE_CLASS),
            _ => None,
        }
    }

    /// Appends the `[option]`.
    pub fn encode(&self, dst: &mut BytesMut, version: ProtocolVersion) -> Result<(), EncodeError> {
        if let Some(class) = self.custom_class(version) {
            dst.put_u16(id::CUSTOM);
            return wire::write_string(dst, class);
        }
        dst.put_u16(self.option_id(version));
        match self {
            ColumnTypeSpec::Custom(class) => wire::write_string(dst, class)?,
            ColumnTypeSpec::List(element) | ColumnTypeSpec::Set(element) => {
                element.encode(dst, version)?
            }
            ColumnTypeSpec::Map(key, value) => {
                key.encode(dst, version)?;
                value.encode(dst, version)?;
            }
            ColumnTypeSpec::Udt(udt) => {
                wire::write_string(dst, &udt.keyspace)?;
                wire::write_string(dst, &udt.name)?;
                wire::write_short_count(dst, "UDT fields", udt.fields.len())?;
                for field in &udt.fields {
                    wire::write_string(dst, &field.name)?;
                    field.field_type.encode(dst, version)?;
                }
            }
            ColumnTypeSpec::Tuple(elements) => {
                wire::write_short_count(dst, "tuple elements", elements.len())?;
                for element in elements {
                    element.encode(dst, version)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Reads an `[option]`.
    pub fn decode(reader: &mut Reader) -> Result<ColumnTypeSpec, DecodeError> {
        Self::decode_at_depth(reader, 0)
    }

    fn decode_at_depth(reader: &mut Reader, depth: usize) -> Result<ColumnTypeSpec, DecodeError> {
        if depth >= MAX_TYPE_NESTING_DEPTH {
            return Err(DecodeError::TypeNestingTooDeep {
                max_depth: MAX_TYPE_NESTING_DEPTH,
            });
        }
        let option_id = reader.read_u16()?;
        Ok(match option_id {
            id::CUSTOM => Self::from_custom_class(reader.read_string()?),
            id::ASCII => ColumnTypeSpec::Ascii,
            id::BIGINT => ColumnTypeSpec::Bigint,
            id::BLOB => ColumnTypeSpec::Blob,
            id::BOOLEAN => ColumnTypeSpec::Boolean,
            id::COUNTER => ColumnTypeSpec::Counter,
            id::DECIMAL => ColumnTypeSpec::Decimal,
            id::DOUBLE => ColumnTypeSpec::Double,
            id::FLOAT => ColumnTypeSpec::Float,
            id::INT => ColumnTypeSpec::Int,
            id::TIMESTAMP => ColumnTypeSpec::Timestamp,
            id::UUID => ColumnTypeSpec::Uuid,
            id::VARCHAR => ColumnTypeSpec::Varchar,
            id::VARINT => ColumnTypeSpec::Varint,
            id::TIMEUUID => ColumnTypeSpec::Timeuuid,
            id::INET => ColumnTypeSpec::Inet,
            id::DATE => ColumnTypeSpec::Date,
            id::TIME => ColumnTypeSpec::Time,
            id::SMALLINT => ColumnTypeSpec::Smallint,
            id::TINYINT => ColumnTypeSpec::Tinyint,
            id::LIST => ColumnTypeSpec::List(Box::new(Self::decode_at_depth(reader, depth + 1)?)),
            id::SET => ColumnTypeSpec::Set(Box::new(Self::decode_at_depth(reader, depth + 1)?)),
            id::MAP => {
                let key = Self::decode_at_depth(reader, depth + 1)?;
                let value = Self::decode_at_depth(reader, depth + 1)?;
                ColumnTypeSpec::Map(Box::new(key), Box::new(value))
            }
            id::UDT => {
                let keyspace = reader.read_string()?;
                let name = reader.read_string()?;
                let n = usize::from(reader.read_u16()?);
                // Each field needs at least a 2-byte name length and a 2-byte option id.
                let mut fields = Vec::with_capacity(n.min(reader.remaining() / 4));
                for _ in 0..n {
                    let name = reader.read_string()?;
                    let field_type = Self::decode_at_depth(reader, depth + 1)?;
                    fields.push(UdtField { name, field_type });
                }
                ColumnTypeSpec::Udt(UdtSpec {
                    keyspace,
                    name,
                    fields,
                })
            }
            id::TUPLE => {
                let n = usize::from(reader.read_u16()?);
                let mut elements = Vec::with_capacity(n.min(reader.remaining() / 2));
                for _ in 0..n {
                    elements.push(Self::decode_at_depth(reader, depth + 1)?);
                }
                ColumnTypeSpec::Tuple(elements)
            }
            other => return Err(DecodeError::UnknownColumnType { id: other }),
        })
    }

    /// Maps the marshal class names of types sent as custom back to their variants.
    fn from_custom_class(class: String) -> ColumnTypeSpec {
        match class.strip_prefix(MARSHAL_PREFIX) {
            Some("SimpleDateType") => ColumnTypeSpec::Date,
            Some("TimeType") => ColumnTypeSpec::Time,
            Some("ShortType") => ColumnTypeSpec::Smallint,
            Some("ByteType") => ColumnTypeSpec::Tinyint,
            Some("DurationType") => ColumnTypeSpec::Duration,
            _ => ColumnTypeSpec::Custom(class),
        }
    }

    /// True if `class` is one of the names [`ColumnTypeSpec::decode`] maps to a typed variant
    /// (so `Custom(class)` would not survive a round trip).
    pub fn is_mapped_custom_class(class: &str) -> bool {
        !matches!(
            Self::from_custom_class(class.to_owned()),
            ColumnTypeSpec::Custom(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn encode(t: &ColumnTypeSpec, v: ProtocolVersion) -> Vec<u8> {
        let mut buf = BytesMut::new();
        t.encode(&mut buf, v).unwrap();
        buf.to_vec()
    }

    fn decode(bytes: &[u8]) -> Result<ColumnTypeSpec, DecodeError> {
        ColumnTypeSpec::decode(&mut Reader::new(Bytes::copy_from_slice(bytes)))
    }

    #[test]
    fn native_ids_match_spec() {
        let v4 = ProtocolVersion::V4;
        let cases = [
            (ColumnTypeSpec::Ascii, 0x0001),
            (ColumnTypeSpec::Bigint, 0x0002),
            (ColumnTypeSpec::Blob, 0x0003),
            (ColumnTypeSpec::Boolean, 0x0004),
            (ColumnTypeSpec::Counter, 0x0005),
            (ColumnTypeSpec::Decimal, 0x0006),
            (ColumnTypeSpec::Double, 0x0007),
            (ColumnTypeSpec::Float, 0x0008),
            (ColumnTypeSpec::Int, 0x0009),
            (ColumnTypeSpec::Timestamp, 0x000B),
            (ColumnTypeSpec::Uuid, 0x000C),
            (ColumnTypeSpec::Varchar, 0x000D),
            (ColumnTypeSpec::Varint, 0x000E),
            (ColumnTypeSpec::Timeuuid, 0x000F),
            (ColumnTypeSpec::Inet, 0x0010),
            (ColumnTypeSpec::Date, 0x0011),
            (ColumnTypeSpec::Time, 0x0012),
            (ColumnTypeSpec::Smallint, 0x0013),
            (ColumnTypeSpec::Tinyint, 0x0014),
        ];
        for (t, code) in cases {
            assert_eq!(encode(&t, v4), (code as u16).to_be_bytes(), "{t:?}");
            assert_eq!(decode(&encode(&t, v4)), Ok(t));
        }
        // set<text> = 0x0022 0x000D, as drivers expect for system.local.tokens.
        assert_eq!(
            encode(&ColumnTypeSpec::Set(Box::new(ColumnTypeSpec::Varchar)), v4),
            [0x00, 0x22, 0x00, 0x0D]
        );
        assert_eq!(
            encode(
                &ColumnTypeSpec::Map(
                    Box::new(ColumnTypeSpec::Varchar),
                    Box::new(ColumnTypeSpec::Int)
                ),
                v4
            ),
            [0x00, 0x21, 0x00, 0x0D, 0x00, 0x09]
        );
    }

    #[test]
    fn version_dependent_custom_types() {
        let duration = encode(&ColumnTypeSpec::Duration, ProtocolVersion::V4);
        assert_eq!(&duration[..2], &[0, 0]);
        assert_eq!(&duration[4..], DURATION_TYPE_CLASS.as_bytes());
        assert_eq!(decode(&duration), Ok(ColumnTypeSpec::Duration));

        let v3_date = encode(&ColumnTypeSpec::Date, ProtocolVersion::V3);
        assert_eq!(&v3_date[4..], SIMPLE_DATE_TYPE_CLASS.as_bytes());
        assert_eq!(decode(&v3_date), Ok(ColumnTypeSpec::Date));
        for (t, class) in [
            (ColumnTypeSpec::Time, TIME_TYPE_CLASS),
            (ColumnTypeSpec::Smallint, SHORT_TYPE_CLASS),
            (ColumnTypeSpec::Tinyint, BYTE_TYPE_CLASS),
        ] {
            let bytes = encode(&t, ProtocolVersion::V3);
            assert_eq!(&bytes[4..], class.as_bytes());
            assert_eq!(decode(&bytes), Ok(t));
        }
        assert!(ColumnTypeSpec::is_mapped_custom_class(DURATION_TYPE_CLASS));
        assert!(!ColumnTypeSpec::is_mapped_custom_class("com.example.Foo"));
    }

    #[test]
    fn udt_and_tuple() {
        let t = ColumnTypeSpec::Udt(UdtSpec {
            keyspace: "ks".into(),
            name: "address".into(),
            fields: vec![
                UdtField {
                    name: "street".into(),
                    field_type: ColumnTypeSpec::Varchar,
                },
                UdtField {
                    name: "zips".into(),
                    field_type: ColumnTypeSpec::Tuple(vec![
                        ColumnTypeSpec::Int,
                        ColumnTypeSpec::Date,
                    ]),
                },
            ],
        });
        let bytes = encode(&t, ProtocolVersion::V4);
        assert_eq!(&bytes[..2], &[0x00, 0x30]);
        assert_eq!(decode(&bytes), Ok(t));
    }

    #[test]
    fn hostile_input() {
        assert_eq!(
            decode(&[0x00, 0x0A]),
            Err(DecodeError::UnknownColumnType { id: 0x000A })
        );
        assert_eq!(
            decode(&[0x00, 0x15]),
            Err(DecodeError::UnknownColumnType { id: 0x0015 })
        );
        // list<list<list<...>>> deeper than the limit.
        let deep: Vec<u8> = std::iter::repeat_n([0x00, 0x20], 10_000)
            .flatten()
            .collect();
        assert_eq!(
            decode(&deep),
            Err(DecodeError::TypeNestingTooDeep {
                max_depth: MAX_TYPE_NESTING_DEPTH
            })
        );
        // A UDT announcing 65535 fields with none present.
        assert!(decode(&[0x00, 0x30, 0, 1, b'k', 0, 1, b'u', 0xFF, 0xFF]).is_err());
    }
}
