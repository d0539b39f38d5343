//! The notations of native protocol §3: `[int]`, `[string]`, `[bytes]`, `[value]`, ...
//!
//! Decoding goes through [`Reader`], a cursor over a [`Bytes`] body. Every read checks the
//! remaining length first and returns a [`DecodeError`] on truncation, negative or oversized
//! lengths and invalid UTF-8; nothing here panics on any input. Byte-valued reads
//! (`[bytes]`, `[short bytes]`, `[value]`, `[long string]`) return zero-copy slices of the body.
//!
//! Encoding is a set of `write_*` functions appending to a [`BytesMut`]. Those whose length
//! prefix can overflow (`[string]` is limited to 65535 bytes) return an [`EncodeError`].
//!
//! Collection reads never pre-allocate more than the remaining bytes could possibly hold, so
//! a two-byte count of 65535 cannot make the decoder reserve megabytes.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::consistency::Consistency;
use crate::error::{DecodeError, EncodeError};
use crate::frame::ProtocolVersion;

/// A `[string map]`: pairs in wire order (duplicates are kept; lookups take the last).
pub type StringMap = Vec<(String, String)>;
/// A `[string multimap]`: keys with a `[string list]` each, in wire order.
pub type StringMultimap = Vec<(String, Vec<String>)>;
/// A `[bytes map]` (custom payloads): values may be null.
pub type BytesMap = Vec<(String, Option<Bytes>)>;

/// Largest length a `[short]`-prefixed item can have.
pub const MAX_SHORT_LENGTH: usize = u16::MAX as usize;
/// Largest length an `[int]`-prefixed item can have.
pub const MAX_INT_LENGTH: usize = i32::MAX as usize;

/// UTF-8 text held as a zero-copy slice of a frame body (query strings, bind-marker names).
///
/// Invariant: the bytes are valid UTF-8; every constructor checks it.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct CqlText(Bytes);

impl CqlText {
    /// Validates `bytes` as UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, std::str::Utf8Error> {
        std::str::from_utf8(&bytes)?;
        Ok(CqlText(bytes))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Validated at construction; `from_utf8` is only repeated because `unsafe` is denied.
        std::str::from_utf8(&self.0).expect("CqlText holds UTF-8 validated at construction")
    }

    /// The UTF-8 bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for CqlText {
    fn from(s: &str) -> Self {
        CqlText(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for CqlText {
    fn from(s: String) -> Self {
        CqlText(Bytes::from(s))
    }
}

impl fmt::Debug for CqlText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for CqlText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A bound value, the `[value]` notation: bytes, `null` (length -1) or `not set` (length -2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// A serialized value (possibly empty).
    Bytes(Bytes),
    /// `null`.
    Null,
    /// `not set`: leave the existing value unchanged (v4+).
    Unset,
}

/// A cursor over a message body. See the module docs for its guarantees.
#[derive(Debug, Clone)]
pub struct Reader {
    buf: Bytes,
}

impl Reader {
    /// Reads from `buf`.
    pub fn new(buf: Bytes) -> Self {
        Reader { buf }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &Bytes {
        &self.buf
    }

    /// Consumes the reader, returning the unread bytes.
    pub fn into_rest(self) -> Bytes {
        self.buf
    }

    fn need(&self, what: &'static str, needed_bytes: usize) -> Result<(), DecodeError> {
        if self.buf.len() < needed_bytes {
            return Err(DecodeError::Truncated {
                what,
                needed_bytes,
                remaining_bytes: self.buf.len(),
            });
        }
        Ok(())
    }

    /// Takes `n` bytes as a zero-copy slice.
    pub fn take(&mut self, what: &'static str, n: usize) -> Result<Bytes, DecodeError> {
        self.need(what, n)?;
        Ok(self.buf.split_to(n))
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, what: &'static str, n: usize) -> Result<(), DecodeError> {
        self.need(what, n)?;
        self.buf.advance(n);
        Ok(())
    }

    /// A `[byte]`.
    pub fn read_u8(&mut self) -> Result<u8, DecodeError> {
        self.need("[byte]", 1)?;
        Ok(self.buf.get_u8())
    }

    /// A `[short]` (unsigned).
    pub fn read_u16(&mut self) -> Result<u16, DecodeError> {
        self.need("[short]", 2)?;
        Ok(self.buf.get_u16())
    }

    /// A signed 16-bit integer (stream ids).
    pub fn read_i16(&mut self) -> Result<i16, DecodeError> {
        self.need("[short]", 2)?;
        Ok(self.buf.get_i16())
    }

    /// An `[int]`.
    pub fn read_i32(&mut self) -> Result<i32, DecodeError> {
        self.need("[int]", 4)?;
        Ok(self.buf.get_i32())
    }

    /// A `[long]`.
    pub fn read_i64(&mut self) -> Result<i64, DecodeError> {
        self.need("[long]", 8)?;
        Ok(self.buf.get_i64())
    }

    /// A `[uuid]` (16 raw bytes).
    pub fn read_uuid(&mut self) -> Result<[u8; 16], DecodeError> {
        self.need("[uuid]", 16)?;
        let mut out = [0u8; 16];
        self.buf.copy_to_slice(&mut out);
        Ok(out)
    }

    /// A non-negative `[int]` count.
    pub fn read_count(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        let count = self.read_i32()?;
        usize::try_from(count).map_err(|_| DecodeError::NegativeCount { what, count })
    }

    /// A `[string]` as zero-copy text.
    pub fn read_string_text(&mut self) -> Result<CqlText, DecodeError> {
        let len = usize::from(self.read_u16()?);
        let bytes = self.take("[string]", len)?;
        CqlText::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 { what: "[string]" })
    }

    /// A `[string]`.
    pub fn read_string(&mut self) -> Result<String, DecodeError> {
        let len = usize::from(self.read_u16()?);
        self.need("[string]", len)?;
        let s = std::str::from_utf8(self.buf.get(..len).unwrap_or_default())
            .map_err(|_| DecodeError::InvalidUtf8 { what: "[string]" })?
            .to_owned();
        self.buf.advance(len);
        Ok(s)
    }

    /// A `[long string]` as zero-copy text.
    pub fn read_long_string(&mut self) -> Result<CqlText, DecodeError> {
        let length = self.read_i32()?;
        let len = usize::try_from(length).map_err(|_| DecodeError::NegativeLength {
            what: "[long string]",
            length,
        })?;
        let bytes = self.take("[long string]", len)?;
        CqlText::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 {
            what: "[long string]",
        })
    }

    /// A `[string list]`.
    pub fn read_string_list(&mut self) -> Result<Vec<String>, DecodeError> {
        let n = usize::from(self.read_u16()?);
        let mut out = Vec::with_capacity(n.min(self.remaining() / 2));
        for _ in 0..n {
            out.push(self.read_string()?);
        }
        Ok(out)
    }

    /// A `[bytes]`: `None` for a negative length (null).
    pub fn read_bytes(&mut self) -> Result<Option<Bytes>, DecodeError> {
        let length = self.read_i32()?;
        match usize::try_from(length) {
            Ok(len) => self.take("[bytes]", len).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// A `[short bytes]`.
    pub fn read_short_bytes(&mut self) -> Result<Bytes, DecodeError> {
        let len = usize::from(self.read_u16()?);
        self.take("[short bytes]", len)
    }

    /// A `[value]`. In v4, -1 is null, -2 is unset and anything lower is an error; before v4
    /// every negative length means null (as Cassandra reads it).
    pub fn read_value(&mut self, version: ProtocolVersion) -> Result<Value, DecodeError> {
        let length = self.read_i32()?;
        if let Ok(len) = usize::try_from(length) {
            return self.take("[value]", len).map(Value::Bytes);
        }
        if version < ProtocolVersion::V4 {
            return Ok(Value::Null);
        }
        match length {
            -1 => Ok(Value::Null),
            -2 => Ok(Value::Unset),
            _ => Err(DecodeError::InvalidValueLength { length }),
        }
    }

    /// A `[string map]`.
    pub fn read_string_map(&mut self) -> Result<StringMap, DecodeError> {
        let n = usize::from(self.read_u16()?);
        let mut out = Vec::with_capacity(n.min(self.remaining() / 4));
        for _ in 0..n {
            let k = self.read_string()?;
            let v = self.read_string()?;
            out.push((k, v));
        }
        Ok(out)
    }

    /// A `[string multimap]`.
    pub fn read_string_multimap(&mut self) -> Result<StringMultimap, DecodeError> {
        let n = usize::from(self.read_u16()?);
        let mut out = Vec::with_capacity(n.min(self.remaining() / 4));
        for _ in 0..n {
            let k = self.read_string()?;
            let v = self.read_string_list()?;
            out.push((k, v));
        }
        Ok(out)
    }

    /// A `[bytes map]`.
    pub fn read_bytes_map(&mut self) -> Result<BytesMap, DecodeError> {
        let n = usize::from(self.read_u16()?);
        let mut out = Vec::with_capacity(n.min(self.remaining() / 6));
        for _ in 0..n {
            let k = self.read_string()?;
            let v = self.read_bytes()?;
            out.push((k, v));
        }
        Ok(out)
    }

    /// An `[inetaddr]`: a size byte (4 or 16) and the address.
    pub fn read_inetaddr(&mut self) -> Result<IpAddr, DecodeError> {
        let size = self.read_u8()?;
        match size {
            4 => {
                self.need("[inetaddr]", 4)?;
                let mut octets = [0u8; 4];
                self.buf.copy_to_slice(&mut octets);
                Ok(IpAddr::V4(Ipv4Addr::from(octets)))
            }
            16 => {
                self.need("[inetaddr]", 16)?;
                let mut octets = [0u8; 16];
                self.buf.copy_to_slice(&mut octets);
                Ok(IpAddr::V6(Ipv6Addr::from(octets)))
            }
            _ => Err(DecodeError::InvalidInetAddressLength { length_bytes: size }),
        }
    }

    /// An `[inet]`: an `[inetaddr]` followed by an `[int]` port.
    pub fn read_inet(&mut self) -> Result<SocketAddr, DecodeError> {
        let ip = self.read_inetaddr()?;
        let port = self.read_i32()?;
        let port = u16::try_from(port).map_err(|_| DecodeError::InvalidPort { port })?;
        Ok(SocketAddr::new(ip, port))
    }

    /// A `[consistency]`.
    pub fn read_consistency(&mut self) -> Result<Consistency, DecodeError> {
        Consistency::from_code(self.read_u16()?)
    }
}

fn check_len(what: &'static str, length: usize, max: usize) -> Result<(), EncodeError> {
    if length > max {
        return Err(EncodeError::TooLong { what, length, max });
    }
    Ok(())
}

fn check_count(what: &'static str, count: usize, max: usize) -> Result<(), EncodeError> {
    if count > max {
        return Err(EncodeError::TooManyItems { what, count, max });
    }
    Ok(())
}

/// Converts a length already checked against [`MAX_INT_LENGTH`] to an `[int]`.
fn int_len(len: usize) -> i32 {
    i32::try_from(len).unwrap_or(i32::MAX)
}

/// Converts a length already checked against [`MAX_SHORT_LENGTH`] to a `[short]`.
fn short_len(len: usize) -> u16 {
    u16::try_from(len).unwrap_or(u16::MAX)
}

/// Writes a `[short]` count, failing if `count` exceeds 65535.
pub fn write_short_count(
    dst: &mut BytesMut,
    what: &'static str,
    count: usize,
) -> Result<(), EncodeError> {
    check_count(what, count, MAX_SHORT_LENGTH)?;
    dst.put_u16(short_len(count));
    Ok(())
}

/// Writes an `[int]` count, failing if `count` exceeds `i32::MAX`.
pub fn write_int_count(
    dst: &mut BytesMut,
    what: &'static str,
    count: usize,
) -> Result<(), EncodeError> {
    check_count(what, count, MAX_INT_LENGTH)?;
    dst.put_i32(int_len(count));
    Ok(())
}

/// Writes a `[string]`.
pub fn write_string(dst: &mut BytesMut, s: &str) -> Result<(), EncodeError> {
    check_len("[string]", s.len(), MAX_SHORT_LENGTH)?;
    dst.put_u16(short_len(s.len()));
    dst.put_slice(s.as_bytes());
    Ok(())
}

/// Writes a `[long string]`.
pub fn write_long_string(dst: &mut BytesMut, s: &str) -> Result<(), EncodeError> {
    check_len("[long string]", s.len(), MAX_INT_LENGTH)?;
    dst.put_i32(int_len(s.len()));
    dst.put_slice(s.as_bytes());
    Ok(())
}

/// Writes a `[string list]`.
pub fn write_string_list<S: AsRef<str>>(dst: &mut BytesMut, list: &[S]) -> Result<(), EncodeError> {
    write_short_count(dst, "[string list]", list.len())?;
    for s in list {
        write_string(dst, s.as_ref())?;
    }
    Ok(())
}

/// Writes a `[bytes]`; `None` is written as null (length -1).
pub fn write_bytes(dst: &mut BytesMut, bytes: Option<&[u8]>) -> Result<(), EncodeError> {
    match bytes {
        Some(b) => {
            check_len("[bytes]", b.len(), MAX_INT_LENGTH)?;
            dst.put_i32(int_len(b.len()));
            dst.put_slice(b);
        }
        None => dst.put_i32(-1),
    }
    Ok(())
}

/// Writes a `[short bytes]`.
pub fn write_short_bytes(dst: &mut BytesMut, bytes: &[u8]) -> Result<(), EncodeError> {
    check_len("[short bytes]", bytes.len(), MAX_SHORT_LENGTH)?;
    dst.put_u16(short_len(bytes.len()));
    dst.put_slice(bytes);
    Ok(())
}

/// Writes a `[value]`. `Unset` needs protocol v4 or later.
pub fn write_value(
    dst: &mut BytesMut,
    value: &Value,
    version: ProtocolVersion,
) -> Result<(), EncodeError> {
    match value {
        Value::Bytes(b) => write_bytes(dst, Some(b)),
        Value::Null => {
            dst.put_i32(-1);
            Ok(())
        }
        Value::Unset => {
            if version < ProtocolVersion::V4 {
                return Err(EncodeError::NotInVersion {
                    what: "an unset value",
                    version: version.as_u8(),
                });
            }
            dst.put_i32(-2);
            Ok(())
        }
    }
}

/// Writes a `[string map]`.
pub fn write_string_map<K: AsRef<str>, V: AsRef<str>>(
    dst: &mut BytesMut,
    map: &[(K, V)],
) -> Result<(), EncodeError> {
    write_short_count(dst, "[string map]", map.len())?;
    for (k, v) in map {
        write_string(dst, k.as_ref())?;
        write_string(dst, v.as_ref())?;
    }
    Ok(())
}

/// Writes a `[string multimap]`.
pub fn write_string_multimap<K: AsRef<str>, V: AsRef<str>>(
    dst: &mut BytesMut,
    map: &[(K, Vec<V>)],
) -> Result<(), EncodeError> {
    write_short_count(dst, "[string multimap]", map.len())?;
    for (k, v) in map {
        write_string(dst, k.as_ref())?;
        write_string_list(dst, v)?;
    }
    Ok(())
}

/// Writes a `[bytes map]`.
pub fn write_bytes_map(dst: &mut BytesMut, map: &BytesMap) -> Result<(), EncodeError> {
    write_short_count(dst, "[bytes map]", map.len())?;
    for (k, v) in map {
        write_string(dst, k)?;
        write_bytes(dst, v.as_deref())?;
    }
    Ok(())
}

/// Writes an `[inetaddr]`.
pub fn write_inetaddr(dst: &mut BytesMut, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            dst.put_u8(4);
            dst.put_slice(&v4.octets());
        }
        IpAddr::V6(v6) => {
            dst.put_u8(16);
            dst.put_slice(&v6.octets());
        }
    }
}

/// Writes an `[inet]` (address and `[int]` port).
pub fn write_inet(dst: &mut BytesMut, addr: SocketAddr) {
    write_inetaddr(dst, addr.ip());
    dst.put_i32(i32::from(addr.port()));
}

/// Writes a `[uuid]`.
pub fn write_uuid(dst: &mut BytesMut, uuid: &[u8; 16]) {
    dst.put_slice(uuid);
}

/// Writes a `[consistency]`.
pub fn write_consistency(dst: &mut BytesMut, consistency: Consistency) {
    dst.put_u16(consistency.code());
}

/// The longest prefix of `s` of at most `max_bytes` bytes that ends on a character boundary.
pub fn truncate_at_char_boundary(s: &str, max_bytes: usize) -> &str {
    if s.len() <= max_bytes {
        return s;
    }
    let mut end = max_bytes;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// Last value for `key` in a `[string map]` (Cassandra reads the map into a hash map, so a
/// repeated key keeps its last value).
pub fn string_map_get<'a>(map: &'a [(String, String)], key: &str) -> Option<&'a str> {
    map.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(bytes: &[u8]) -> Reader {
        Reader::new(Bytes::copy_from_slice(bytes))
    }

    #[test]
    fn string_round_trip_and_errors() {
        let mut buf = BytesMut::new();
        write_string(&mut buf, "héllo").unwrap();
        assert_eq!(&buf[..2], &[0, 6]);
        assert_eq!(reader(&buf).read_string().unwrap(), "héllo");
        assert_eq!(reader(&buf).read_string_text().unwrap().as_str(), "héllo");
        // truncated body
        assert!(matches!(
            reader(&buf[..4]).read_string(),
            Err(DecodeError::Truncated {
                what: "[string]",
                needed_bytes: 6,
                remaining_bytes: 2
            })
        ));
        // truncated length prefix
        assert!(matches!(
            reader(&[0]).read_string(),
            Err(DecodeError::Truncated {
                what: "[short]",
                ..
            })
        ));
        // invalid utf-8
        assert_eq!(
            reader(&[0, 2, 0xC3, 0x28]).read_string(),
            Err(DecodeError::InvalidUtf8 { what: "[string]" })
        );
        let long = "x".repeat(70_000);
        assert!(matches!(
            write_string(&mut BytesMut::new(), &long),
            Err(EncodeError::TooLong {
                what: "[string]",
                length: 70_000,
                ..
            })
        ));
        write_long_string(&mut buf, &long).unwrap();
    }

    #[test]
    fn long_string_rejects_negative_and_oversized_lengths() {
        assert_eq!(
            reader(&[0xFF, 0xFF, 0xFF, 0xFE]).read_long_string(),
            Err(DecodeError::NegativeLength {
                what: "[long string]",
                length: -2
            })
        );
        assert!(matches!(
            reader(&[0x7F, 0xFF, 0xFF, 0xFF, b'a']).read_long_string(),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn values_null_unset_and_invalid() {
        let v4 = ProtocolVersion::V4;
        let v3 = ProtocolVersion::V3;
        assert_eq!(reader(&[0xFF; 4]).read_value(v4), Ok(Value::Null));
        assert_eq!(
            reader(&[0xFF, 0xFF, 0xFF, 0xFE]).read_value(v4),
            Ok(Value::Unset)
        );
        assert_eq!(
            reader(&[0xFF, 0xFF, 0xFF, 0xFD]).read_value(v4),
            Err(DecodeError::InvalidValueLength { length: -3 })
        );
        assert_eq!(
            reader(&[0xFF, 0xFF, 0xFF, 0xFD]).read_value(v3),
            Ok(Value::Null)
        );
        assert_eq!(
            reader(&[0, 0, 0, 2, 7, 8]).read_value(v4),
            Ok(Value::Bytes(Bytes::from_static(&[7, 8])))
        );
        assert_eq!(
            reader(&[0, 0, 0, 0]).read_value(v4),
            Ok(Value::Bytes(Bytes::new()))
        );
        let mut buf = BytesMut::new();
        write_value(&mut buf, &Value::Unset, v4).unwrap();
        assert_eq!(&buf[..], &[0xFF, 0xFF, 0xFF, 0xFE]);
        assert!(write_value(&mut buf, &Value::Unset, v3).is_err());
    }

    #[test]
    fn bytes_and_short_bytes() {
        assert_eq!(reader(&[0xFF, 0xFF, 0xFF, 0x00]).read_bytes(), Ok(None));
        assert_eq!(
            reader(&[0, 0, 0, 1, 9]).read_bytes(),
            Ok(Some(Bytes::from_static(&[9])))
        );
        assert!(reader(&[0, 0, 0, 2, 9]).read_bytes().is_err());
        assert_eq!(
            reader(&[0, 1, 9]).read_short_bytes(),
            Ok(Bytes::from_static(&[9]))
        );
        let mut buf = BytesMut::new();
        write_bytes(&mut buf, None).unwrap();
        assert_eq!(&buf[..], &[0xFF; 4]);
    }

    #[test]
    fn inet_round_trip_and_errors() {
        for addr in ["127.0.0.1:9042", "[::1]:65535", "10.1.2.3:0"] {
            let addr: SocketAddr = addr.parse().unwrap();
            let mut buf = BytesMut::new();
            write_inet(&mut buf, addr);
            assert_eq!(reader(&buf).read_inet(), Ok(addr));
        }
        assert_eq!(
            reader(&[5, 1, 2, 3, 4, 5]).read_inet(),
            Err(DecodeError::InvalidInetAddressLength { length_bytes: 5 })
        );
        assert_eq!(
            reader(&[4, 1, 2, 3, 4, 0, 1, 0, 0]).read_inet(),
            Err(DecodeError::InvalidPort { port: 65536 })
        );
    }

    #[test]
    fn maps_round_trip() {
        let map: StringMap = vec![
            ("CQL_VERSION".into(), "3.0.0".into()),
            ("A".into(), "".into()),
        ];
        let mut buf = BytesMut::new();
        write_string_map(&mut buf, &map).unwrap();
        assert_eq!(reader(&buf).read_string_map().unwrap(), map);
        assert_eq!(string_map_get(&map, "CQL_VERSION"), Some("3.0.0"));
        assert_eq!(string_map_get(&map, "B"), None);

        let multimap: StringMultimap = vec![
            ("COMPRESSION".into(), vec![]),
            ("CQL_VERSION".into(), vec!["3.4.7".into()]),
        ];
        let mut buf = BytesMut::new();
        write_string_multimap(&mut buf, &multimap).unwrap();
        assert_eq!(reader(&buf).read_string_multimap().unwrap(), multimap);

        let bytes_map: BytesMap = vec![
            ("k".into(), None),
            ("v".into(), Some(Bytes::from_static(b"x"))),
        ];
        let mut buf = BytesMut::new();
        write_bytes_map(&mut buf, &bytes_map).unwrap();
        assert_eq!(reader(&buf).read_bytes_map().unwrap(), bytes_map);
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_at_char_boundary("abc", 5), "abc");
        assert_eq!(truncate_at_char_boundary("abc", 2), "ab");
        assert_eq!(truncate_at_char_boundary("aé", 2), "a");
        assert_eq!(truncate_at_char_boundary("é", 0), "");
    }

    #[test]
    fn huge_counts_do_not_preallocate() {
        // 65535 strings announced, none present: must fail cleanly without a big reservation.
        assert!(matches!(
            reader(&[0xFF, 0xFF]).read_string_list(),
            Err(DecodeError::Truncated { .. })
        ));
        assert!(matches!(
            reader(&[0xFF, 0xFF, 0, 0]).read_string_multimap(),
            Err(DecodeError::Truncated { .. })
        ));
    }
}
