//! The internode wire format: handshake frames and message headers.
//!
//! Framing is tokio-util's `LengthDelimitedCodec` defaults: a 4-byte big-endian length (not
//! counting itself), then the frame. All integers are big-endian.
//!
//! Handshake, connector to acceptor (first frame on a connection, at most
//! [`MAX_HANDSHAKE_FRAME_BYTES`]):
//! ```text
//! magic "MRDN" | min_version u8 | max_version u8 | lane u8 (0 urgent, 1 bulk)
//! | host_id [16] | incarnation u64 | broadcast address | cluster_name_len u16 | cluster_name
//! ```
//! Reply, acceptor to connector:
//! ```text
//! magic "MRDN" | status u8
//!   status 0 (accepted): version u8 | host_id [16] | incarnation u64 | broadcast address
//!   status 1 (rejected): reason u8 | message_len u16 | message (UTF-8)
//! ```
//! An address is `4 | ipv4 [4] | port u16` or `6 | ipv6 [16] | port u16 | scope_id u32`.
//! Decoders ignore trailing bytes after the known fields, so later versions may append.
//!
//! Message frame: a [`HEADER_BYTES`]-byte header, then the body:
//! ```text
//! version u8 | kind u8 | verb u16 | id u64 | expires_in_ms u32
//! ```
//! `expires_in_ms` is how long the sender will wait (0: no expiry stated); the receiver drops
//! work for a request whose sender has given up.
//!
//! Decoding never panics: every read is bounds-checked and returns a [`WireError`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

use bytes::{Bytes, BytesMut};
use thiserror::Error;
use tokio_util::codec::LengthDelimitedCodec;

use super::{Lane, Verb};
use crate::ids::HostId;

/// The internode protocol version this build speaks (and prefers).
pub const PROTOCOL_VERSION: u8 = 1;
/// The oldest internode protocol version this build still accepts.
pub const MIN_PROTOCOL_VERSION: u8 = 1;
/// The largest frame (header plus body) accepted or sent: 64 MiB.
pub const MAX_FRAME_BYTES: usize = 64 * 1024 * 1024;
/// Size of a message header.
pub const HEADER_BYTES: usize = 16;
/// The largest message body: a frame minus its header.
pub const MAX_BODY_BYTES: usize = MAX_FRAME_BYTES - HEADER_BYTES;
/// The largest handshake frame accepted: a connection that announces more is not a Meridian
/// node and is closed before anything is buffered.
pub const MAX_HANDSHAKE_FRAME_BYTES: usize = 4096;
/// The longest cluster name, in bytes of UTF-8.
pub const MAX_CLUSTER_NAME_BYTES: usize = 256;
/// The longest handshake rejection message, in bytes (longer ones are truncated).
pub const MAX_REJECT_MESSAGE_BYTES: usize = 1024;
/// The bytes of framing a message costs besides its body: length prefix and header.
pub const FRAME_OVERHEAD_BYTES: usize = LENGTH_PREFIX_BYTES + HEADER_BYTES;

/// First bytes of every handshake frame.
const MAGIC: [u8; 4] = *b"MRDN";
const LENGTH_PREFIX_BYTES: usize = 4;

/// A malformed frame.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum WireError {
    /// The frame ended before a field.
    #[error("frame truncated: {field} needs {needed_bytes} bytes, {available_bytes} left")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Bytes the field needs.
        needed_bytes: usize,
        /// Bytes left in the frame.
        available_bytes: usize,
    },
    /// A handshake frame did not start with the magic bytes.
    #[error("not a Meridian internode handshake (bad magic {found:02x?})")]
    BadMagic {
        /// The first bytes found.
        found: Vec<u8>,
    },
    /// An enumeration byte had no known meaning.
    #[error("unknown {field} {value}")]
    UnknownValue {
        /// The field.
        field: &'static str,
        /// The byte found.
        value: u8,
    },
    /// A message header carried a version other than the one negotiated.
    #[error("message version {found}, the connection negotiated {expected}")]
    VersionMismatch {
        /// The negotiated version.
        expected: u8,
        /// The version in the header.
        found: u8,
    },
    /// A string was not UTF-8.
    #[error("{field} is not valid UTF-8")]
    InvalidUtf8 {
        /// The field.
        field: &'static str,
    },
    /// A string was longer than its limit.
    #[error("{field} is {size_bytes} bytes, at most {max_bytes} allowed")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its size.
        size_bytes: usize,
        /// The limit.
        max_bytes: usize,
    },
}

/// A length-delimited codec for the handshake phase (small frames only).
pub fn handshake_codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_length(LENGTH_PREFIX_BYTES)
        .max_frame_length(MAX_HANDSHAKE_FRAME_BYTES)
        .new_codec()
}

/// What a message frame is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A request expecting a response with the same id.
    Request,
    /// A successful response; the body is the handler's answer.
    Response,
    /// A failed response; the body is a postcard-encoded `RemoteError`.
    ErrorResponse,
    /// A message without response.
    Oneway,
    /// A liveness probe from the connecting side; answered with `Pong`.
    Ping,
    /// The answer to `Ping`.
    Pong,
}

impl Kind {
    fn to_byte(self) -> u8 {
        match self {
            Kind::Request => 0,
            Kind::Response => 1,
            Kind::ErrorResponse => 2,
            Kind::Oneway => 3,
            Kind::Ping => 4,
            Kind::Pong => 5,
        }
    }

    fn from_byte(value: u8) -> Result<Kind, WireError> {
        Ok(match value {
            0 => Kind::Request,
            1 => Kind::Response,
            2 => Kind::ErrorResponse,
            3 => Kind::Oneway,
            4 => Kind::Ping,
            5 => Kind::Pong,
            value => {
                return Err(WireError::UnknownValue {
                    field: "message kind",
                    value,
                })
            }
        })
    }
}

/// A message header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The protocol version negotiated for the connection.
    pub version: u8,
    /// What the frame is.
    pub kind: Kind,
    /// What the body means.
    pub verb: Verb,
    /// Matches responses to requests; 0 for one-way messages and pings.
    pub id: u64,
    /// How long the sender waits for the outcome (0: not stated).
    pub expires_in_ms: u32,
}

impl Header {
    /// A header of the current protocol version.
    pub fn new(kind: Kind, verb: Verb, id: u64, expires_in_ms: u32) -> Header {
        Header {
            version: PROTOCOL_VERSION,
            kind,
            verb,
            id,
            expires_in_ms,
        }
    }

    /// The header's bytes.
    pub fn encode(&self) -> [u8; HEADER_BYTES] {
        let mut out = [0u8; HEADER_BYTES];
        out[0] = self.version;
        out[1] = self.kind.to_byte();
        out[2..4].copy_from_slice(&self.verb.0.to_be_bytes());
        out[4..12].copy_from_slice(&self.id.to_be_bytes());
        out[12..16].copy_from_slice(&self.expires_in_ms.to_be_bytes());
        out
    }

    /// Splits a message frame into its header and body, checking the version against the one
    /// negotiated for the connection.
    pub fn decode_frame(frame: BytesMut, version: u8) -> Result<(Header, Bytes), WireError> {
        let mut frame = frame.freeze();
        if frame.len() < HEADER_BYTES {
            return Err(WireError::Truncated {
                field: "message header",
                needed_bytes: HEADER_BYTES,
                available_bytes: frame.len(),
            });
        }
        let body = frame.split_off(HEADER_BYTES);
        let mut cursor = Cursor::new(&frame);
        let found = cursor.u8("version")?;
        if found != version {
            return Err(WireError::VersionMismatch {
                expected: version,
                found,
            });
        }
        let kind = Kind::from_byte(cursor.u8("message kind")?)?;
        let verb = Verb(cursor.u16("verb")?);
        let id = cursor.u64("message id")?;
        let expires_in_ms = cursor.u32("expiry")?;
        Ok((
            Header {
                version: found,
                kind,
                verb,
                id,
                expires_in_ms,
            },
            body,
        ))
    }
}

/// The connector's handshake frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// Oldest protocol version the connector speaks.
    pub min_version: u8,
    /// Newest protocol version the connector speaks.
    pub max_version: u8,
    /// Which lane this connection is.
    pub lane: Lane,
    /// The connector's host id.
    pub host_id: HostId,
    /// Distinguishes the connector's process lifetimes (random per start).
    pub incarnation: u64,
    /// Where the connector accepts connections.
    pub broadcast: SocketAddr,
    /// The connector's cluster name.
    pub cluster_name: String,
}

impl Hello {
    /// The frame's bytes (without length prefix).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.cluster_name.len());
        out.extend_from_slice(&MAGIC);
        out.push(self.min_version);
        out.push(self.max_version);
        out.push(match self.lane {
            Lane::Urgent => 0,
            Lane::Bulk => 1,
        });
        out.extend_from_slice(self.host_id.0.as_bytes());
        out.extend_from_slice(&self.incarnation.to_be_bytes());
        encode_addr(&mut out, self.broadcast);
        encode_str(&mut out, &self.cluster_name, MAX_CLUSTER_NAME_BYTES);
        out
    }

    /// Parses a handshake frame.
    pub fn decode(frame: &[u8]) -> Result<Hello, WireError> {
        let mut cursor = Cursor::new(frame);
        check_magic(&mut cursor)?;
        let min_version = cursor.u8("minimum version")?;
        let max_version = cursor.u8("maximum version")?;
        let lane = match cursor.u8("lane")? {
            0 => Lane::Urgent,
            1 => Lane::Bulk,
            value => {
                return Err(WireError::UnknownValue {
                    field: "lane",
                    value,
                })
            }
        };
        let host_id = HostId(uuid::Uuid::from_bytes(cursor.array::<16>("host id")?));
        let incarnation = cursor.u64("incarnation")?;
        let broadcast = decode_addr(&mut cursor)?;
        let cluster_name = decode_str(&mut cursor, "cluster name", MAX_CLUSTER_NAME_BYTES)?;
        Ok(Hello {
            min_version,
            max_version,
            lane,
            host_id,
            incarnation,
            broadcast,
            cluster_name,
        })
    }
}

/// Why an acceptor refused a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// The nodes belong to different clusters.
    ClusterNameMismatch,
    /// No protocol version both sides speak.
    UnsupportedVersion,
    /// Another live process announced the acceptor's own host id.
    HostIdConflict,
}

impl RejectReason {
    fn to_byte(self) -> u8 {
        match self {
            RejectReason::ClusterNameMismatch => 1,
            RejectReason::UnsupportedVersion => 2,
            RejectReason::HostIdConflict => 3,
        }
    }

    fn from_byte(value: u8) -> Result<RejectReason, WireError> {
        Ok(match value {
            1 => RejectReason::ClusterNameMismatch,
            2 => RejectReason::UnsupportedVersion,
            3 => RejectReason::HostIdConflict,
            value => {
                return Err(WireError::UnknownValue {
                    field: "rejection reason",
                    value,
                })
            }
        })
    }
}

/// The acceptor's handshake answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HelloReply {
    /// The connection is open for messages of `version`.
    Accepted {
        /// The negotiated protocol version.
        version: u8,
        /// The acceptor's host id.
        host_id: HostId,
        /// The acceptor's incarnation.
        incarnation: u64,
        /// The acceptor's broadcast address.
        broadcast: SocketAddr,
    },
    /// The acceptor refuses the connection and closes it.
    Rejected {
        /// Why.
        reason: RejectReason,
        /// A human-readable explanation.
        message: String,
    },
}

impl HelloReply {
    /// The frame's bytes (without length prefix).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&MAGIC);
        match self {
            HelloReply::Accepted {
                version,
                host_id,
                incarnation,
                broadcast,
            } => {
                out.push(0);
                out.push(*version);
                out.extend_from_slice(host_id.0.as_bytes());
                out.extend_from_slice(&incarnation.to_be_bytes());
                encode_addr(&mut out, *broadcast);
            }
            HelloReply::Rejected { reason, message } => {
                out.push(1);
                out.push(reason.to_byte());
                encode_str(&mut out, message, MAX_REJECT_MESSAGE_BYTES);
            }
        }
        out
    }

    /// Parses a handshake reply.
    pub fn decode(frame: &[u8]) -> Result<HelloReply, WireError> {
        let mut cursor = Cursor::new(frame);
        check_magic(&mut cursor)?;
        match cursor.u8("handshake status")? {
            0 => {
                let version = cursor.u8("version")?;
                let host_id = HostId(uuid::Uuid::from_bytes(cursor.array::<16>("host id")?));
                let incarnation = cursor.u64("incarnation")?;
                let broadcast = decode_addr(&mut cursor)?;
                Ok(HelloReply::Accepted {
                    version,
                    host_id,
                    incarnation,
                    broadcast,
                })
            }
            1 => {
                let reason = RejectReason::from_byte(cursor.u8("rejection reason")?)?;
                let message =
                    decode_str(&mut cursor, "rejection message", MAX_REJECT_MESSAGE_BYTES)?;
                Ok(HelloReply::Rejected { reason, message })
            }
            value => Err(WireError::UnknownValue {
                field: "handshake status",
                value,
            }),
        }
    }
}

fn check_magic(cursor: &mut Cursor<'_>) -> Result<(), WireError> {
    let available = cursor.remaining().min(MAGIC.len());
    match cursor.array::<4>("magic") {
        Ok(found) if found == MAGIC => Ok(()),
        Ok(found) => Err(WireError::BadMagic {
            found: found.to_vec(),
        }),
        Err(_) => Err(WireError::BadMagic {
            found: cursor.peek(available).to_vec(),
        }),
    }
}

fn encode_addr(out: &mut Vec<u8>, addr: SocketAddr) {
    match addr {
        SocketAddr::V4(v4) => {
            out.push(4);
            out.extend_from_slice(&v4.ip().octets());
            out.extend_from_slice(&v4.port().to_be_bytes());
        }
        SocketAddr::V6(v6) => {
            out.push(6);
            out.extend_from_slice(&v6.ip().octets());
            out.extend_from_slice(&v6.port().to_be_bytes());
            out.extend_from_slice(&v6.scope_id().to_be_bytes());
        }
    }
}

fn decode_addr(cursor: &mut Cursor<'_>) -> Result<SocketAddr, WireError> {
    match cursor.u8("address family")? {
        4 => {
            let ip = Ipv4Addr::from(cursor.array::<4>("IPv4 address")?);
            let port = cursor.u16("port")?;
            Ok(SocketAddr::new(IpAddr::V4(ip), port))
        }
        6 => {
            let ip = Ipv6Addr::from(cursor.array::<16>("IPv6 address")?);
            let port = cursor.u16("port")?;
            let scope_id = cursor.u32("IPv6 scope id")?;
            Ok(SocketAddr::V6(SocketAddrV6::new(ip, port, 0, scope_id)))
        }
        value => Err(WireError::UnknownValue {
            field: "address family",
            value,
        }),
    }
}

/// Writes `value` with a u16 length, truncated at a character boundary to `max_bytes`.
fn encode_str(out: &mut Vec<u8>, value: &str, max_bytes: usize) {
    let mut end = value.len().min(max_bytes).min(usize::from(u16::MAX));
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    let bytes = value.as_bytes().get(..end).unwrap_or_default();
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

fn decode_str(
    cursor: &mut Cursor<'_>,
    field: &'static str,
    max_bytes: usize,
) -> Result<String, WireError> {
    let len = usize::from(cursor.u16(field)?);
    if len > max_bytes {
        return Err(WireError::TooLong {
            field,
            size_bytes: len,
            max_bytes,
        });
    }
    let bytes = cursor.take(field, len)?;
    String::from_utf8(bytes.to_vec()).map_err(|_| WireError::InvalidUtf8 { field })
}

/// A bounds-checked reader over a byte slice.
struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8]) -> Cursor<'a> {
        Cursor { buf }
    }

    fn remaining(&self) -> usize {
        self.buf.len()
    }

    fn peek(&self, len: usize) -> &'a [u8] {
        self.buf.get(..len).unwrap_or(self.buf)
    }

    fn take(&mut self, field: &'static str, len: usize) -> Result<&'a [u8], WireError> {
        match self.buf.split_at_checked(len) {
            Some((head, tail)) => {
                self.buf = tail;
                Ok(head)
            }
            None => Err(WireError::Truncated {
                field,
                needed_bytes: len,
                available_bytes: self.buf.len(),
            }),
        }
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], WireError> {
        let bytes = self.take(field, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, WireError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    fn u64(&mut self, field: &'static str) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hello() -> Hello {
        Hello {
            min_version: MIN_PROTOCOL_VERSION,
            max_version: PROTOCOL_VERSION,
            lane: Lane::Bulk,
            host_id: HostId(uuid::Uuid::from_u128(
                0x1234_5678_9abc_def0_1122_3344_5566_7788,
            )),
            incarnation: 0xdead_beef,
            broadcast: "10.1.2.3:7000".parse().unwrap(),
            cluster_name: "Test Cluster".into(),
        }
    }

    #[test]
    fn header_layout_is_fixed() {
        let header = Header::new(
            Kind::ErrorResponse,
            Verb(0x0102),
            0x0304_0506_0708_090a,
            0x0b0c_0d0e,
        );
        assert_eq!(
            header.encode(),
            [1, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
        );
    }

    #[test]
    fn header_round_trip_with_body() {
        let header = Header::new(Kind::Request, Verb(7), 42, 2000);
        let mut frame = BytesMut::from(&header.encode()[..]);
        frame.extend_from_slice(b"body");
        let (decoded, body) = Header::decode_frame(frame, PROTOCOL_VERSION).unwrap();
        assert_eq!(decoded, header);
        assert_eq!(&body[..], b"body");
    }

    #[test]
    fn header_errors() {
        let short = BytesMut::from(&[1u8, 0, 0][..]);
        assert!(matches!(
            Header::decode_frame(short, 1),
            Err(WireError::Truncated { .. })
        ));
        let mut bad_kind = Header::new(Kind::Request, Verb(1), 1, 1).encode();
        bad_kind[1] = 9;
        assert_eq!(
            Header::decode_frame(BytesMut::from(&bad_kind[..]), 1),
            Err(WireError::UnknownValue {
                field: "message kind",
                value: 9
            })
        );
        let header = Header::new(Kind::Request, Verb(1), 1, 1).encode();
        assert_eq!(
            Header::decode_frame(BytesMut::from(&header[..]), 2),
            Err(WireError::VersionMismatch {
                expected: 2,
                found: 1
            })
        );
    }

    #[test]
    fn hello_round_trip_v4_and_v6() {
        let mut h = hello();
        assert_eq!(Hello::decode(&h.encode()).unwrap(), h);
        h.broadcast = "[fe80::1%3]:7001".parse().unwrap();
        h.lane = Lane::Urgent;
        assert_eq!(Hello::decode(&h.encode()).unwrap(), h);
    }

    #[test]
    fn hello_rejects_bad_magic_and_truncation() {
        assert!(matches!(
            Hello::decode(b"GET / HTTP/1.1\r\n"),
            Err(WireError::BadMagic { .. })
        ));
        assert!(matches!(
            Hello::decode(b"MR"),
            Err(WireError::BadMagic { .. })
        ));
        let bytes = hello().encode();
        for len in 4..bytes.len() {
            assert!(
                Hello::decode(&bytes[..len]).is_err(),
                "prefix of {len} bytes decoded"
            );
        }
    }

    #[test]
    fn cluster_name_limit_is_enforced_both_ways() {
        let mut h = hello();
        h.cluster_name = "é".repeat(MAX_CLUSTER_NAME_BYTES);
        // Encoding truncates at a character boundary within the limit.
        let decoded = Hello::decode(&h.encode()).unwrap();
        assert_eq!(decoded.cluster_name.len(), MAX_CLUSTER_NAME_BYTES);
        // A frame announcing a longer name is refused.
        let mut bytes = hello().encode();
        let name_len_at = bytes.len() - hello().cluster_name.len() - 2;
        bytes[name_len_at..name_len_at + 2].copy_from_slice(&1000u16.to_be_bytes());
        bytes.extend(std::iter::repeat_n(b'x', 1000));
        assert!(matches!(
            Hello::decode(&bytes),
            Err(WireError::TooLong { .. })
        ));
    }

    #[test]
    fn reply_round_trips() {
        let accepted = HelloReply::Accepted {
            version: 1,
            host_id: HostId(uuid::Uuid::from_u128(9)),
            incarnation: 77,
            broadcast: "192.168.0.9:7000".parse().unwrap(),
        };
        assert_eq!(HelloReply::decode(&accepted.encode()).unwrap(), accepted);
        let rejected = HelloReply::Rejected {
            reason: RejectReason::ClusterNameMismatch,
            message: "wrong cluster".into(),
        };
        assert_eq!(HelloReply::decode(&rejected.encode()).unwrap(), rejected);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Hello::decode(&bytes);
            let _ = HelloReply::decode(&bytes);
            let _ = Header::decode_frame(BytesMut::from(&bytes[..]), PROTOCOL_VERSION);
            let mut magic = MAGIC.to_vec();
            magic.extend_from_slice(&bytes);
            let _ = Hello::decode(&magic);
            let _ = HelloReply::decode(&magic);
        }

        #[test]
        fn header_round_trips(kind in 0u8..6, verb: u16, id: u64, expiry: u32, body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let header = Header::new(Kind::from_byte(kind).unwrap(), Verb(verb), id, expiry);
            let mut frame = BytesMut::from(&header.encode()[..]);
            frame.extend_from_slice(&body);
            let (decoded, decoded_body) = Header::decode_frame(frame, PROTOCOL_VERSION).unwrap();
            prop_assert_eq!(decoded, header);
            prop_assert_eq!(&decoded_body[..], &body[..]);
        }

        #[test]
        fn hello_round_trips(name in "[a-zA-Z0-9 _-]{0,64}", host: u128, incarnation: u64, ip: [u8; 4], port: u16, bulk: bool) {
            let h = Hello {
                min_version: 1,
                max_version: 3,
                lane: if bulk { Lane::Bulk } else { Lane::Urgent },
                host_id: HostId(uuid::Uuid::from_u128(host)),
                incarnation,
                broadcast: SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), port),
                cluster_name: name,
            };
            prop_assert_eq!(Hello::decode(&h.encode()).unwrap(), h);
        }
    }
}
