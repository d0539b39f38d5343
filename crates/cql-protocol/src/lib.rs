//! CQL native protocol codec, server side: bytes in, structs out. No I/O, no async runtime.
//!
//! Implements protocol v4 (and v3, which shares the 9-byte header) as specified in
//! Cassandra's `native_protocol_v4.spec`:
//!
//! * [`frame`]: the frame header, [`decode_frame`] (incremental, with the frame size checked
//!   before the body is buffered), version negotiation errors and [`FrameBuilder`].
//! * [`compression`]: LZ4 (Cassandra's length-prefixed block) and Snappy bodies.
//! * [`request`]: every request opcode, decoded zero-copy, and encoded (for tests and tools).
//! * [`response`]: every response opcode, encoded, and decoded (for tests and tools).
//! * [`rows`]: result metadata and [`RowsWriter`], which writes Rows results in place.
//! * [`column_type`]: the `[option]` type descriptions of result metadata.
//! * [`event`]: EVENT bodies and schema change descriptions.
//! * [`wire`]: the `[string]`, `[bytes]`, `[value]`, ... notations.
//!
//! Typical server loop:
//!
//! ```
//! use bytes::BytesMut;
//! use meridian_cql_protocol::*;
//!
//! let limits = FrameLimits::default();
//! // An OPTIONS request on stream 1.
//! let mut read_buf = BytesMut::from(&[0x04, 0x00, 0x00, 0x01, 0x05, 0, 0, 0, 0][..]);
//! let mut out = BytesMut::new();
//! while let Some(frame) = decode_frame(&mut read_buf, &limits).expect("valid frame") {
//!     let message = decode_request(&frame, None, &limits).expect("valid body");
//!     assert_eq!(message.request, Request::Options);
//!     let supported = Response::Supported(vec![
//!         ("CQL_VERSION".into(), vec!["3.4.7".into()]),
//!         ("COMPRESSION".into(), vec!["lz4".into(), "snappy".into()]),
//!     ]);
//!     supported
//!         .encode_frame(&mut out, frame.header.version, frame.header.stream, None, &limits)
//!         .expect("encodable");
//! }
//! assert_eq!(&out[..5], &[0x84, 0x00, 0x00, 0x01, 0x06]);
//! ```
//!
//! Untrusted input never panics: decoders check every length against the bytes that
//! remain, bound recursion and pre-allocation, and report [`DecodeError`]/[`FrameError`].

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)
)]
#![warn(missing_docs)]

pub mod column_type;
pub mod compression;
pub mod consistency;
pub mod error;
pub mod event;
pub mod frame;
pub mod request;
pub mod response;
pub mod rows;
pub mod wire;

pub use column_type::{ColumnTypeSpec, UdtField, UdtSpec};
pub use compression::Compression;
pub use consistency::Consistency;
pub use error::{DecodeError, EncodeError};
pub use event::{
    Event, EventType, SchemaChange, SchemaChangeTarget, SchemaChangeType, StatusChangeType,
    TopologyChangeType,
};
pub use frame::{
    decode_frame, Direction, Frame, FrameBuilder, FrameError, FrameFlags, FrameHeader, FrameLimits,
    Opcode, ProtocolVersion, StreamId, UnsupportedVersion,
};
pub use request::{
    decode_request, Batch, BatchQuery, BatchStatement, BatchType, Execute, Prepare, PreparedId,
    Query, QueryParameters, QueryValues, Request, RequestMessage, Startup,
};
pub use response::{
    begin_response_frame, decode_response, supported_options, EndpointFailure, ErrorBody,
    ErrorCode, ErrorKind, FailureReasonCode, FailureReasons, Prepared, PreparedMetadata, Response,
    ResponseExtras, ResponseMessage, ResultBody, WriteType,
};
pub use rows::{ColumnSpec, ResultColumns, Rows, RowsMetadata, RowsWriter};
pub use wire::{CqlText, Value};
