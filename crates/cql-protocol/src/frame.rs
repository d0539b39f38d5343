//! Frame header and framing (native protocol v4 §1-2; v3 uses the same 9-byte header).
//!
//! ```text
//! version(1: direction bit | version) flags(1) stream(i16) opcode(1) length(i32) body(length)
//! ```
//!
//! [`decode_frame`] cuts one frame off the front of a connection's read buffer:
//!
//! * `Ok(None)`: more bytes are needed; the buffer is untouched.
//! * The body length is validated against [`FrameLimits::max_frame_size_bytes`] as soon as the
//!   9 header bytes are there, *before* waiting for (and so buffering) the body.
//! * Errors carry the stream id and the version to answer in (see [`FrameError`]); use
//!   [`FrameError::encode_reply`] to write the `PROTOCOL_ERROR` frame the client expects and
//!   [`FrameError::is_fatal`] to know whether the connection must then be closed.
//!
//! # Version negotiation
//!
//! Supported versions are 3 and 4. Any other version byte (with either direction bit) yields
//! [`FrameError::UnsupportedVersion`] as soon as the stream id can be read: 3 bytes for the
//! 8-byte v1/v2 header (1-byte stream), 4 bytes otherwise. Its message is the one Cassandra 3.0
//! used, `Invalid or unsupported protocol version (5); the lowest supported version is 3 and
//! the greatest is 4`, because every driver recognises it:
//!
//! * Python: downgrades when the text contains `unsupported protocol version`;
//! * Java (4.x), C/C++ and C# drivers: look for `Invalid or unsupported protocol version`;
//! * gocql: reads the maximum from `the lowest supported version is \d+ and the greatest is
//!   (\d+)$` (so nothing may follow the number);
//! * the Rust driver speaks v4 only and never negotiates.
//!
//! The reply is sent in v4 (header `0x84`) for versions above 4 and unknown ones, as Cassandra
//! does with its maximum version, and in the client's own version and 8-byte header for v1/v2,
//! which Cassandra also answers in kind. The stream id is echoed.
//!
//! v5 is not implemented, so a v5 frame is rejected the same way whether or not it carries the
//! `USE_BETA` flag (0x10). That is what Cassandra does for a version it does not know; the
//! "Beta version of the protocol used ... USE_BETA flag is unset" answer only applies to a
//! server that implements v5 as beta. Drivers downgrade on either message. On v3/v4 frames the
//! flag is unused and ignored, like every other unknown header flag.

use std::fmt;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use thiserror::Error;

use crate::compression::Compression;
use crate::error::{DecodeError, EncodeError};
use crate::wire;

/// Size of the v3+ frame header in bytes.
pub const HEADER_LENGTH_BYTES: usize = 9;
/// Size of the v1/v2 frame header (1-byte stream id), used only to answer such clients.
pub const LEGACY_HEADER_LENGTH_BYTES: usize = 8;
/// Default [`FrameLimits::max_frame_size_bytes`]: 256 MiB, the limit in the v4 spec.
pub const DEFAULT_MAX_FRAME_SIZE_BYTES: usize = 256 * 1024 * 1024;
/// The `PROTOCOL_ERROR` error code, used by [`FrameError::encode_reply`].
const PROTOCOL_ERROR_CODE: i32 = 0x000A;

/// A protocol version this codec implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolVersion {
    /// Native protocol v3.
    V3,
    /// Native protocol v4.
    V4,
}

impl ProtocolVersion {
    /// The lowest supported version.
    pub const MIN: ProtocolVersion = ProtocolVersion::V3;
    /// The highest supported version.
    pub const MAX: ProtocolVersion = ProtocolVersion::V4;

    /// The version number (3 or 4).
    pub fn as_u8(self) -> u8 {
        match self {
            ProtocolVersion::V3 => 3,
            ProtocolVersion::V4 => 4,
        }
    }

    /// The supported version with this number, if any.
    pub fn from_u8(version: u8) -> Option<ProtocolVersion> {
        match version {
            3 => Some(ProtocolVersion::V3),
            4 => Some(ProtocolVersion::V4),
            _ => None,
        }
    }

    /// The name Cassandra lists in SUPPORTED's `PROTOCOL_VERSIONS` (`"4/v4"`).
    pub fn supported_name(self) -> &'static str {
        match self {
            ProtocolVersion::V3 => "3/v3",
            ProtocolVersion::V4 => "4/v4",
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.as_u8())
    }
}

/// Direction of a frame, the high bit of the version byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server (bit clear).
    Request,
    /// Server to client (bit set).
    Response,
}

impl Direction {
    /// The bit in the version byte.
    pub const RESPONSE_BIT: u8 = 0x80;

    fn from_version_byte(byte: u8) -> Direction {
        if byte & Self::RESPONSE_BIT != 0 {
            Direction::Response
        } else {
            Direction::Request
        }
    }

    /// `"REQUEST"` or `"RESPONSE"`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Request => "REQUEST",
            Direction::Response => "RESPONSE",
        }
    }
}

/// The header flags byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FrameFlags(pub u8);

impl FrameFlags {
    /// 0x01: the body is compressed.
    pub const COMPRESSION: u8 = 0x01;
    /// 0x02: tracing requested (request) / tracing id present (response).
    pub const TRACING: u8 = 0x02;
    /// 0x04: a custom payload `[bytes map]` is present (v4+).
    pub const CUSTOM_PAYLOAD: u8 = 0x04;
    /// 0x08: warnings `[string list]` are present (v4+ responses).
    pub const WARNING: u8 = 0x08;
    /// 0x10: the client opts in to a beta protocol version (v5+; ignored here).
    pub const USE_BETA: u8 = 0x10;

    /// True if every bit of `mask` is set.
    pub fn contains(self, mask: u8) -> bool {
        self.0 & mask == mask
    }

    /// Returns the flags with `mask` set or cleared.
    pub fn with(self, mask: u8, on: bool) -> FrameFlags {
        if on {
            FrameFlags(self.0 | mask)
        } else {
            FrameFlags(self.0 & !mask)
        }
    }
}

/// A stream id. Clients use non-negative ids; server-initiated EVENTs use -1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StreamId(pub i16);

impl StreamId {
    /// The stream of server-pushed EVENT frames.
    pub const EVENT: StreamId = StreamId(-1);
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A message opcode (§2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Opcode {
    /// 0x00 ERROR (response).
    Error = 0x00,
    /// 0x01 STARTUP (request).
    Startup = 0x01,
    /// 0x02 READY (response).
    Ready = 0x02,
    /// 0x03 AUTHENTICATE (response).
    Authenticate = 0x03,
    /// 0x05 OPTIONS (request).
    Options = 0x05,
    /// 0x06 SUPPORTED (response).
    Supported = 0x06,
    /// 0x07 QUERY (request).
    Query = 0x07,
    /// 0x08 RESULT (response).
    Result = 0x08,
    /// 0x09 PREPARE (request).
    Prepare = 0x09,
    /// 0x0A EXECUTE (request).
    Execute = 0x0A,
    /// 0x0B REGISTER (request).
    Register = 0x0B,
    /// 0x0C EVENT (response).
    Event = 0x0C,
    /// 0x0D BATCH (request).
    Batch = 0x0D,
    /// 0x0E AUTH_CHALLENGE (response).
    AuthChallenge = 0x0E,
    /// 0x0F AUTH_RESPONSE (request).
    AuthResponse = 0x0F,
    /// 0x10 AUTH_SUCCESS (response).
    AuthSuccess = 0x10,
}

impl Opcode {
    /// The opcode for a byte, if defined.
    pub fn from_u8(byte: u8) -> Option<Opcode> {
        Some(match byte {
            0x00 => Opcode::Error,
            0x01 => Opcode::Startup,
            0x02 => Opcode::Ready,
            0x03 => Opcode::Authenticate,
            0x05 => Opcode::Options,
            0x06 => Opcode::Supported,
            0x07 => Opcode::Query,
            0x08 => Opcode::Result,
            0x09 => Opcode::Prepare,
            0x0A => Opcode::Execute,
            0x0B => Opcode::Register,
            0x0C => Opcode::Event,
            0x0D => Opcode::Batch,
            0x0E => Opcode::AuthChallenge,
            0x0F => Opcode::AuthResponse,
            0x10 => Opcode::AuthSuccess,
            _ => return None,
        })
    }

    /// The byte.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The direction messages with this opcode travel in.
    pub fn direction(self) -> Direction {
        match self {
            Opcode::Startup
            | Opcode::Options
            | Opcode::Query
            | Opcode::Prepare
            | Opcode::Execute
            | Opcode::Register
            | Opcode::Batch
            | Opcode::AuthResponse => Direction::Request,
            Opcode::Error
            | Opcode::Ready
            | Opcode::Authenticate
            | Opcode::Supported
            | Opcode::Result
            | Opcode::Event
            | Opcode::AuthChallenge
            | Opcode::AuthSuccess => Direction::Response,
        }
    }

    /// The spec's name (`"EXECUTE"`).
    pub fn name(self) -> &'static str {
        match self {
            Opcode::Error => "ERROR",
            Opcode::Startup => "STARTUP",
            Opcode::Ready => "READY",
            Opcode::Authenticate => "AUTHENTICATE",
            Opcode::Options => "OPTIONS",
            Opcode::Supported => "SUPPORTED",
            Opcode::Query => "QUERY",
            Opcode::Result => "RESULT",
            Opcode::Prepare => "PREPARE",
            Opcode::Execute => "EXECUTE",
            Opcode::Register => "REGISTER",
            Opcode::Event => "EVENT",
            Opcode::Batch => "BATCH",
            Opcode::AuthChallenge => "AUTH_CHALLENGE",
            Opcode::AuthResponse => "AUTH_RESPONSE",
            Opcode::AuthSuccess => "AUTH_SUCCESS",
        }
    }
}

/// A decoded v3/v4 frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Protocol version.
    pub version: ProtocolVersion,
    /// Request or response.
    pub direction: Direction,
    /// Header flags.
    pub flags: FrameFlags,
    /// Stream id.
    pub stream: StreamId,
    /// Message kind.
    pub opcode: Opcode,
    /// Body length as sent (before decompression).
    pub body_length_bytes: u32,
}

impl FrameHeader {
    /// Appends the 9 header bytes.
    pub fn encode(&self, dst: &mut BytesMut) {
        let direction_bit = match self.direction {
            Direction::Request => 0,
            Direction::Response => Direction::RESPONSE_BIT,
        };
        dst.put_u8(self.version.as_u8() | direction_bit);
        dst.put_u8(self.flags.0);
        dst.put_i16(self.stream.0);
        dst.put_u8(self.opcode.as_u8());
        dst.put_u32(self.body_length_bytes);
    }
}

/// One frame: its header and its body exactly as received (still compressed if the
/// COMPRESSION flag is set; see [`Frame::uncompressed_body`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The header.
    pub header: FrameHeader,
    /// The body, a zero-copy slice of the read buffer.
    pub body: Bytes,
}

impl Frame {
    /// The body with compression undone. A body without the COMPRESSION flag is returned as
    /// is; with the flag, `compression` must be the connection's negotiated algorithm. The
    /// output is limited to `max_frame_size_bytes - 9` bytes.
    pub fn uncompressed_body(
        &self,
        compression: Option<Compression>,
        limits: &FrameLimits,
    ) -> Result<Bytes, DecodeError> {
        if !self.header.flags.contains(FrameFlags::COMPRESSION) {
            return Ok(self.body.clone());
        }
        let compression = compression.ok_or(DecodeError::CompressionNotNegotiated)?;
        let max = limits
            .max_frame_size_bytes
            .saturating_sub(HEADER_LENGTH_BYTES);
        compression.decompress(&self.body, max).map(Bytes::from)
    }
}

/// Limits applied while framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimits {
    /// Largest frame accepted or produced, header included, both before and after
    /// decompression. Default [`DEFAULT_MAX_FRAME_SIZE_BYTES`].
    pub max_frame_size_bytes: usize,
}

impl Default for FrameLimits {
    fn default() -> Self {
        FrameLimits {
            max_frame_size_bytes: DEFAULT_MAX_FRAME_SIZE_BYTES,
        }
    }
}

/// A frame whose version is not supported: everything needed to answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsupportedVersion {
    /// The version number the client sent (direction bit removed).
    pub requested_version: u8,
    /// The stream id to echo (read with the requested version's header layout).
    pub stream: i16,
}

impl UnsupportedVersion {
    /// The error message (see the module docs for why this wording).
    pub fn message(&self) -> String {
        format!(
            "Invalid or unsupported protocol version ({}); the lowest supported version is {} and the greatest is {}",
            self.requested_version,
            ProtocolVersion::MIN.as_u8(),
            ProtocolVersion::MAX.as_u8()
        )
    }

    /// True if the client used the 8-byte v1/v2 header, which the reply must use too.
    pub fn uses_legacy_header(&self) -> bool {
        matches!(self.requested_version, 1 | 2)
    }

    /// The version number the reply is sent in: the client's own for v1/v2, else the
    /// highest supported one.
    pub fn reply_version(&self) -> u8 {
        if self.uses_legacy_header() {
            self.requested_version
        } else {
            ProtocolVersion::MAX.as_u8()
        }
    }
}

/// A framing error. See [`FrameError::is_fatal`] for what the server must do after replying.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The version byte names a version other than 3 or 4. Nothing was consumed.
    #[error("{}", .0.message())]
    UnsupportedVersion(UnsupportedVersion),
    /// The header announces a frame larger than the limit. Only the header was examined and
    /// nothing was consumed; the body was not buffered.
    #[error("Request is too big: length {frame_bytes} exceeds maximum allowed length {max_frame_size_bytes}.")]
    FrameTooLarge {
        /// The frame's version.
        version: ProtocolVersion,
        /// The frame's stream.
        stream: StreamId,
        /// Header plus announced body length.
        frame_bytes: u64,
        /// The limit.
        max_frame_size_bytes: usize,
    },
    /// The opcode byte is undefined. The whole frame was consumed, so the connection can
    /// continue after the error reply.
    #[error("Unknown opcode {opcode}")]
    UnknownOpcode {
        /// The frame's version.
        version: ProtocolVersion,
        /// The frame's stream.
        stream: StreamId,
        /// The opcode byte.
        opcode: u8,
    },
}

impl FrameError {
    /// True if the connection must be closed after the reply: the buffer was not advanced
    /// past the offending frame (unsupported version, oversized frame).
    pub fn is_fatal(&self) -> bool {
        match self {
            FrameError::UnsupportedVersion(_) | FrameError::FrameTooLarge { .. } => true,
            FrameError::UnknownOpcode { .. } => false,
        }
    }

    /// The stream id to answer on.
    pub fn stream(&self) -> StreamId {
        match self {
            FrameError::UnsupportedVersion(u) => StreamId(u.stream),
            FrameError::FrameTooLarge { stream, .. } | FrameError::UnknownOpcode { stream, .. } => {
                *stream
            }
        }
    }

    /// Writes the complete `PROTOCOL_ERROR` (0x000A) frame answering this error: right
    /// version byte and header layout, echoed stream id, message as [`fmt::Display`].
    pub fn encode_reply(&self, dst: &mut BytesMut) {
        let message = self.to_string();
        // Messages are short; clamp defensively to the [string] limit.
        let message = wire::truncate_at_char_boundary(&message, wire::MAX_SHORT_LENGTH);
        let body_len = 4 + 2 + message.len();
        let (version_byte, legacy) = match self {
            FrameError::UnsupportedVersion(u) => (u.reply_version(), u.uses_legacy_header()),
            FrameError::FrameTooLarge { version, .. }
            | FrameError::UnknownOpcode { version, .. } => (version.as_u8(), false),
        };
        let stream = self.stream().0;
        dst.reserve(HEADER_LENGTH_BYTES + body_len);
        dst.put_u8(version_byte | Direction::RESPONSE_BIT);
        dst.put_u8(0);
        if legacy {
            // v1/v2 stream ids are a single signed byte; the id was read from one byte.
            dst.put_i8(i8::try_from(stream).unwrap_or(0));
        } else {
            dst.put_i16(stream);
        }
        dst.put_u8(Opcode::Error.as_u8());
        dst.put_u32(u32::try_from(body_len).unwrap_or(u32::MAX));
        dst.put_i32(PROTOCOL_ERROR_CODE);
        dst.put_u16(u16::try_from(message.len()).unwrap_or(u16::MAX));
        dst.put_slice(message.as_bytes());
    }
}

/// Cuts one frame off the front of `buf`. See the module docs for the contract.
pub fn decode_frame(buf: &mut BytesMut, limits: &FrameLimits) -> Result<Option<Frame>, FrameError> {
    let Some(&version_byte) = buf.first() else {
        return Ok(None);
    };
    let version_number = version_byte & !Direction::RESPONSE_BIT;
    let Some(version) = ProtocolVersion::from_u8(version_number) else {
        return match version_number {
            1 | 2 => match buf.get(2) {
                Some(&stream) => Err(FrameError::UnsupportedVersion(UnsupportedVersion {
                    requested_version: version_number,
                    stream: i16::from(stream as i8),
                })),
                None => Ok(None),
            },
            _ => match buf.get(2..4) {
                Some(&[hi, lo]) => Err(FrameError::UnsupportedVersion(UnsupportedVersion {
                    requested_version: version_number,
                    stream: i16::from_be_bytes([hi, lo]),
                })),
                _ => Ok(None),
            },
        };
    };
    let Some(header_bytes) = buf.first_chunk::<HEADER_LENGTH_BYTES>() else {
        return Ok(None);
    };
    let [_, flags, stream_hi, stream_lo, opcode, l0, l1, l2, l3] = *header_bytes;
    let stream = StreamId(i16::from_be_bytes([stream_hi, stream_lo]));
    let body_length_bytes = u32::from_be_bytes([l0, l1, l2, l3]);
    let frame_bytes = HEADER_LENGTH_BYTES as u64 + u64::from(body_length_bytes);
    if frame_bytes > limits.max_frame_size_bytes as u64 {
        return Err(FrameError::FrameTooLarge {
            version,
            stream,
            frame_bytes,
            max_frame_size_bytes: limits.max_frame_size_bytes,
        });
    }
    // `frame_bytes` is at most `max_frame_size_bytes`, a usize.
    let frame_len = usize::try_from(frame_bytes).unwrap_or(usize::MAX);
    if buf.len() < frame_len {
        return Ok(None);
    }
    let Some(opcode) = Opcode::from_u8(opcode) else {
        buf.advance(frame_len);
        return Err(FrameError::UnknownOpcode {
            version,
            stream,
            opcode,
        });
    };
    let header = FrameHeader {
        version,
        direction: Direction::from_version_byte(version_byte),
        flags: FrameFlags(flags),
        stream,
        opcode,
        body_length_bytes,
    };
    buf.advance(HEADER_LENGTH_BYTES);
    let body = buf.split_to(frame_len - HEADER_LENGTH_BYTES).freeze();
    Ok(Some(Frame { header, body }))
}

/// Writes a frame whose body is produced in place: [`FrameBuilder::begin`] writes the header
/// with a placeholder length, the caller appends the body to the same buffer, and
/// [`FrameBuilder::finish`] compresses it if asked and patches the length.
#[derive(Debug, Clone, Copy)]
#[must_use = "a frame is incomplete until FrameBuilder::finish is called"]
pub struct FrameBuilder {
    start: usize,
}

impl FrameBuilder {
    /// Appends a header with length 0 at the end of `dst`.
    pub fn begin(
        dst: &mut BytesMut,
        version: ProtocolVersion,
        direction: Direction,
        flags: FrameFlags,
        stream: StreamId,
        opcode: Opcode,
    ) -> FrameBuilder {
        let start = dst.len();
        FrameHeader {
            version,
            direction,
            flags: flags.with(FrameFlags::COMPRESSION, false),
            stream,
            opcode,
            body_length_bytes: 0,
        }
        .encode(dst);
        FrameBuilder { start }
    }

    /// Offset of the first body byte in the buffer.
    pub fn body_start(&self) -> usize {
        self.start + HEADER_LENGTH_BYTES
    }

    /// Completes the frame: compresses the body (when `compression` is given and the body is
    /// not empty) and writes its length. Fails, truncating `dst` back to where the frame
    /// began, if the frame would exceed `limits`.
    pub fn finish(
        self,
        dst: &mut BytesMut,
        compression: Option<Compression>,
        limits: &FrameLimits,
    ) -> Result<(), EncodeError> {
        let body_start = self.body_start();
        let result = self.finish_inner(dst, body_start, compression, limits);
        if result.is_err() {
            dst.truncate(self.start);
        }
        result
    }

    fn finish_inner(
        &self,
        dst: &mut BytesMut,
        body_start: usize,
        compression: Option<Compression>,
        limits: &FrameLimits,
    ) -> Result<(), EncodeError> {
        let body_len = dst.len().saturating_sub(body_start);
        if let Some(compression) = compression.filter(|_| body_len > 0) {
            let compressed = compression.compress(dst.get(body_start..).unwrap_or_default())?;
            dst.truncate(body_start);
            dst.extend_from_slice(&compressed);
            if let Some(flags) = dst.get_mut(self.start + 1) {
                *flags |= FrameFlags::COMPRESSION;
            }
        }
        let body_len = dst.len().saturating_sub(body_start);
        let frame_bytes = HEADER_LENGTH_BYTES + body_len;
        if frame_bytes > limits.max_frame_size_bytes || body_len > wire::MAX_INT_LENGTH {
            return Err(EncodeError::FrameTooLarge {
                frame_bytes,
                max_bytes: limits.max_frame_size_bytes.min(wire::MAX_INT_LENGTH),
            });
        }
        let length = u32::try_from(body_len).unwrap_or(u32::MAX).to_be_bytes();
        if let Some(slot) = dst.get_mut(self.start + 5..body_start) {
            slot.copy_from_slice(&length);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> FrameLimits {
        FrameLimits::default()
    }

    #[test]
    fn needs_more_bytes_until_complete() {
        let frame = [
            0x04, 0x00, 0x00, 0x07, 0x05, 0x00, 0x00, 0x00, 0x02, 0xAB, 0xCD,
        ];
        for cut in 0..frame.len() {
            let mut buf = BytesMut::from(&frame[..cut]);
            assert_eq!(decode_frame(&mut buf, &limits()), Ok(None), "cut {cut}");
            assert_eq!(buf.len(), cut, "buffer untouched");
        }
        let mut buf = BytesMut::from(&frame[..]);
        buf.extend_from_slice(&[0x04]); // start of the next frame
        let f = decode_frame(&mut buf, &limits()).unwrap().unwrap();
        assert_eq!(f.header.version, ProtocolVersion::V4);
        assert_eq!(f.header.direction, Direction::Request);
        assert_eq!(f.header.stream, StreamId(7));
        assert_eq!(f.header.opcode, Opcode::Options);
        assert_eq!(&f.body[..], &[0xAB, 0xCD]);
        assert_eq!(&buf[..], &[0x04]);
    }

    #[test]
    fn oversized_length_rejected_from_header_alone() {
        let limits = FrameLimits {
            max_frame_size_bytes: 1024,
        };
        // 9 header bytes announcing 1016 bytes of body: 1025 > 1024.
        let mut buf = BytesMut::from(&[0x04, 0, 0x01, 0x02, 0x07, 0, 0, 0x03, 0xF8][..]);
        let err = decode_frame(&mut buf, &limits).unwrap_err();
        assert_eq!(
            err,
            FrameError::FrameTooLarge {
                version: ProtocolVersion::V4,
                stream: StreamId(0x0102),
                frame_bytes: 1025,
                max_frame_size_bytes: 1024
            }
        );
        assert!(err.is_fatal());
        assert_eq!(buf.len(), 9);
        // Exactly at the limit is fine (waits for the body).
        let mut buf = BytesMut::from(&[0x04, 0, 0x01, 0x02, 0x07, 0, 0, 0x03, 0xF7][..]);
        assert_eq!(decode_frame(&mut buf, &limits), Ok(None));
        // The default limit rejects a 4 GiB announcement.
        let mut buf = BytesMut::from(&[0x04, 0, 0, 0, 0x07, 0xFF, 0xFF, 0xFF, 0xFF][..]);
        assert!(matches!(
            decode_frame(&mut buf, &FrameLimits::default()),
            Err(FrameError::FrameTooLarge { .. })
        ));
    }

    #[test]
    fn unsupported_versions_carry_stream_and_reply_version() {
        // Python driver's first attempt: DSE_V2 (0x42), stream 0x0102.
        let mut buf = BytesMut::from(&[0x42, 0x00, 0x01, 0x02][..]);
        let err = decode_frame(&mut buf, &limits()).unwrap_err();
        let FrameError::UnsupportedVersion(u) = err.clone() else {
            panic!("{err:?}")
        };
        assert_eq!(u.requested_version, 0x42);
        assert_eq!(u.stream, 0x0102);
        assert_eq!(u.reply_version(), 4);
        assert!(err.is_fatal());
        assert_eq!(
            err.to_string(),
            "Invalid or unsupported protocol version (66); the lowest supported version is 3 and the greatest is 4"
        );
        // Three bytes are not enough to read a v3+ stream id.
        let mut short = BytesMut::from(&[0x05, 0x10, 0x00][..]);
        assert_eq!(decode_frame(&mut short, &limits()), Ok(None));
        // v5 with USE_BETA is rejected too.
        let mut v5 = BytesMut::from(&[0x05, FrameFlags::USE_BETA, 0x00, 0x03][..]);
        assert!(matches!(
            decode_frame(&mut v5, &limits()),
            Err(FrameError::UnsupportedVersion(UnsupportedVersion {
                requested_version: 5,
                stream: 3
            }))
        ));
        // v2: one-byte stream id at offset 2.
        let mut v2 = BytesMut::from(&[0x02, 0x00, 0x05][..]);
        let err = decode_frame(&mut v2, &limits()).unwrap_err();
        assert_eq!(
            err,
            FrameError::UnsupportedVersion(UnsupportedVersion {
                requested_version: 2,
                stream: 5
            })
        );
    }

    #[test]
    fn unsupported_version_reply_bytes() {
        let err = FrameError::UnsupportedVersion(UnsupportedVersion {
            requested_version: 5,
            stream: 0x0203,
        });
        let mut out = BytesMut::new();
        err.encode_reply(&mut out);
        let msg = "Invalid or unsupported protocol version (5); the lowest supported version is 3 and the greatest is 4";
        let mut expected = vec![0x84, 0x00, 0x02, 0x03, 0x00];
        expected.extend_from_slice(&((4 + 2 + msg.len()) as u32).to_be_bytes());
        expected.extend_from_slice(&[0, 0, 0, 0x0A]);
        expected.extend_from_slice(&(msg.len() as u16).to_be_bytes());
        expected.extend_from_slice(msg.as_bytes());
        assert_eq!(&out[..], &expected[..]);

        // The reply to a v2 client is a v2 frame with an 8-byte header.
        let err = FrameError::UnsupportedVersion(UnsupportedVersion {
            requested_version: 2,
            stream: 5,
        });
        let mut out = BytesMut::new();
        err.encode_reply(&mut out);
        assert_eq!(&out[..4], &[0x82, 0x00, 0x05, 0x00]);
        let body_len = u32::from_be_bytes(out[4..8].try_into().unwrap()) as usize;
        assert_eq!(out.len(), LEGACY_HEADER_LENGTH_BYTES + body_len);
    }

    #[test]
    fn unknown_opcode_consumes_frame() {
        let mut buf = BytesMut::from(&[0x04, 0, 0, 9, 0x04, 0, 0, 0, 1, 0xEE, 0x04][..]);
        let err = decode_frame(&mut buf, &limits()).unwrap_err();
        assert_eq!(
            err,
            FrameError::UnknownOpcode {
                version: ProtocolVersion::V4,
                stream: StreamId(9),
                opcode: 4
            }
        );
        assert!(!err.is_fatal());
        assert_eq!(&buf[..], &[0x04]);
        let mut reply = BytesMut::new();
        err.encode_reply(&mut reply);
        assert_eq!(&reply[..5], &[0x84, 0, 0, 9, 0]);
    }

    #[test]
    fn builder_patches_length_and_compresses() {
        let mut dst = BytesMut::new();
        let fb = FrameBuilder::begin(
            &mut dst,
            ProtocolVersion::V4,
            Direction::Response,
            FrameFlags::default(),
            StreamId(3),
            Opcode::Result,
        );
        dst.extend_from_slice(&[0, 0, 0, 1]);
        fb.finish(&mut dst, None, &limits()).unwrap();
        assert_eq!(&dst[..], &[0x84, 0, 0, 3, 0x08, 0, 0, 0, 4, 0, 0, 0, 1]);

        for compression in Compression::ALL {
            let mut dst = BytesMut::new();
            let fb = FrameBuilder::begin(
                &mut dst,
                ProtocolVersion::V4,
                Direction::Response,
                FrameFlags::default(),
                StreamId(3),
                Opcode::Result,
            );
            dst.extend_from_slice(&[5u8; 300]);
            fb.finish(&mut dst, Some(compression), &limits()).unwrap();
            let frame = decode_frame(&mut dst, &limits()).unwrap().unwrap();
            assert!(frame.header.flags.contains(FrameFlags::COMPRESSION));
            assert!(frame.body.len() < 300);
            assert_eq!(
                frame
                    .uncompressed_body(Some(compression), &limits())
                    .unwrap(),
                Bytes::from(vec![5u8; 300])
            );
            assert_eq!(
                frame.uncompressed_body(None, &limits()),
                Err(DecodeError::CompressionNotNegotiated)
            );
        }
    }

    #[test]
    fn builder_enforces_limit() {
        let tight = FrameLimits {
            max_frame_size_bytes: 12,
        };
        let mut dst = BytesMut::from(&b"prev"[..]);
        let fb = FrameBuilder::begin(
            &mut dst,
            ProtocolVersion::V4,
            Direction::Response,
            FrameFlags::default(),
            StreamId(0),
            Opcode::Result,
        );
        dst.extend_from_slice(&[0; 4]);
        assert!(matches!(
            fb.finish(&mut dst, None, &tight),
            Err(EncodeError::FrameTooLarge {
                frame_bytes: 13,
                ..
            })
        ));
        assert_eq!(&dst[..], b"prev");
    }
}
