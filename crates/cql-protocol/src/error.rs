//! Error types of the codec.
//!
//! * [`DecodeError`]: a message body (or a primitive inside it) is malformed. The frame it came
//!   from was fully consumed, so the connection can carry on after the server answers a
//!   `PROTOCOL_ERROR` on the frame's stream.
//! * [`EncodeError`]: a value cannot be represented on the wire (a `[string]` longer than
//!   65535 bytes, a body over the frame limit, ...). These are bugs or limits on the server side.
//! * Framing errors live in [`crate::frame::FrameError`] because they carry the stream id and
//!   reply version the server needs to answer.

use thiserror::Error;

/// A malformed body or primitive. Never produced by a panic: every decoder checks lengths
/// against the bytes that remain before reading.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// Fewer bytes remain than the item needs.
    #[error("not enough bytes to read {what}: need {needed_bytes}, {remaining_bytes} remain")]
    Truncated {
        /// The notation being read, e.g. `"[string]"`.
        what: &'static str,
        /// Bytes the item needs.
        needed_bytes: usize,
        /// Bytes left in the body.
        remaining_bytes: usize,
    },
    /// A length prefix is negative where the notation does not allow it.
    #[error("invalid negative length {length} for {what}")]
    NegativeLength {
        /// The notation being read.
        what: &'static str,
        /// The length read.
        length: i32,
    },
    /// A `[value]` length below -2.
    #[error("invalid length for value: {length}")]
    InvalidValueLength {
        /// The length read.
        length: i32,
    },
    /// A string is not valid UTF-8.
    #[error("invalid UTF-8 in {what}")]
    InvalidUtf8 {
        /// The notation being read.
        what: &'static str,
    },
    /// An `[inet]`/`[inetaddr]` whose address size is neither 4 nor 16.
    #[error("invalid IP address length {length_bytes} (must be 4 or 16)")]
    InvalidInetAddressLength {
        /// The size byte read.
        length_bytes: u8,
    },
    /// An `[inet]` port outside 0..=65535.
    #[error("invalid port {port} in [inet]")]
    InvalidPort {
        /// The port read.
        port: i32,
    },
    /// A `[consistency]` code that names no level.
    #[error("unknown consistency level code 0x{code:04X}")]
    UnknownConsistency {
        /// The code read.
        code: u16,
    },
    /// An opcode that is not a request where a request was expected (or the reverse).
    #[error("opcode 0x{opcode:02X} ({name}) is not a {expected}")]
    UnexpectedOpcode {
        /// The opcode byte.
        opcode: u8,
        /// Its name.
        name: &'static str,
        /// `"request"` or `"response"`.
        expected: &'static str,
    },
    /// The direction bit of the version byte does not match the message kind.
    #[error("wrong protocol direction (expected {expected}, got {got}) for opcode 0x{opcode:02X}")]
    WrongDirection {
        /// The direction the decoder wanted.
        expected: &'static str,
        /// The direction in the header.
        got: &'static str,
        /// The opcode byte.
        opcode: u8,
    },
    /// A column type option id that is not defined.
    #[error("unknown column type id 0x{id:04X}")]
    UnknownColumnType {
        /// The option id read.
        id: u16,
    },
    /// Column types nested deeper than [`crate::column_type::MAX_TYPE_NESTING_DEPTH`].
    #[error("column type nested deeper than {max_depth} levels")]
    TypeNestingTooDeep {
        /// The limit.
        max_depth: usize,
    },
    /// A RESULT kind that is not defined.
    #[error("unknown RESULT kind {kind}")]
    UnknownResultKind {
        /// The kind read.
        kind: i32,
    },
    /// An ERROR code that is not defined.
    #[error("unknown error code 0x{code:04X}")]
    UnknownErrorCode {
        /// The code read.
        code: i32,
    },
    /// A BATCH type byte other than 0, 1 or 2.
    #[error("invalid BATCH type {value} (must be 0, 1 or 2)")]
    UnknownBatchType {
        /// The byte read.
        value: u8,
    },
    /// A BATCH statement kind other than 0 or 1.
    #[error("invalid query kind in BATCH messages. Must be 0 or 1 but got {value}")]
    UnknownBatchStatementKind {
        /// The byte read.
        value: u8,
    },
    /// BATCH flags with one of the four low bits set (they must be zero).
    #[error("invalid BATCH flags 0x{flags:02X}: bits 0x0F must be zero")]
    InvalidBatchFlags {
        /// The flags byte read.
        flags: u8,
    },
    /// BATCH flags announce named values (0x40) but the statements cannot be read with names.
    #[error("BATCH flags announce named values but the statements cannot be read with names")]
    BatchNamesUnreadable,
    /// A string naming an enum value (write type, event type, change type, ...) is unknown.
    #[error("unknown {what} {value:?}")]
    UnknownName {
        /// What kind of name it is.
        what: &'static str,
        /// The string read.
        value: String,
    },
    /// A count or length is negative where it must not be.
    #[error("invalid negative count {count} for {what}")]
    NegativeCount {
        /// What was being counted.
        what: &'static str,
        /// The count read.
        count: i32,
    },
    /// A flag combination the protocol version does not allow.
    #[error("{what} is not allowed in protocol version {version}")]
    NotInVersion {
        /// The feature.
        what: &'static str,
        /// The frame's protocol version number.
        version: u8,
    },
    /// The frame body has the compression flag but no compression was negotiated.
    #[error("frame has the COMPRESSION flag but no compression was negotiated")]
    CompressionNotNegotiated,
    /// A compressed body is corrupt.
    #[error("corrupt {algorithm} compressed body: {detail}")]
    CorruptCompressedBody {
        /// `"lz4"` or `"snappy"`.
        algorithm: &'static str,
        /// What the decompressor reported.
        detail: String,
    },
    /// A compressed body claims to decompress to more than the frame limit.
    #[error(
        "decompressed body of {uncompressed_bytes} bytes exceeds the limit of {max_bytes} bytes"
    )]
    DecompressedTooLarge {
        /// Claimed uncompressed size.
        uncompressed_bytes: u64,
        /// The limit.
        max_bytes: usize,
    },
}

/// A value that cannot be put on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// A length does not fit the notation's length prefix.
    #[error("{what} of {length} bytes exceeds the maximum of {max} bytes")]
    TooLong {
        /// The notation, e.g. `"[string]"`.
        what: &'static str,
        /// The actual length.
        length: usize,
        /// The maximum the notation allows.
        max: usize,
    },
    /// A collection has more items than its `[short]`/`[int]` count can express.
    #[error("{what} has {count} items, more than the maximum of {max}")]
    TooManyItems {
        /// The collection.
        what: &'static str,
        /// The actual count.
        count: usize,
        /// The maximum.
        max: usize,
    },
    /// The encoded frame is larger than the configured frame limit.
    #[error("encoded frame of {frame_bytes} bytes exceeds the maximum of {max_bytes} bytes")]
    FrameTooLarge {
        /// Header plus body size.
        frame_bytes: usize,
        /// The limit.
        max_bytes: usize,
    },
    /// The number of cells written does not match the column count.
    #[error("rows result has {cells} cells in its last row, expected {column_count}")]
    IncompleteRow {
        /// Cells in the unfinished row.
        cells: usize,
        /// Columns per row.
        column_count: usize,
    },
    /// A struct's fields disagree with each other.
    #[error("inconsistent message: {detail}")]
    Inconsistent {
        /// What is wrong.
        detail: &'static str,
    },
    /// A message that does not exist in the target protocol version.
    #[error("{what} cannot be encoded in protocol version {version}")]
    NotInVersion {
        /// The feature.
        what: &'static str,
        /// The protocol version number.
        version: u8,
    },
    /// The compressor failed.
    #[error("{algorithm} compression failed: {detail}")]
    Compression {
        /// `"lz4"` or `"snappy"`.
        algorithm: &'static str,
        /// What the compressor reported.
        detail: String,
    },
}
