//! Response messages (native protocol v4 §4.2): typed bodies, encoding and decoding.
//!
//! Errors are encoded for the connection's version the way Cassandra does it:
//!
//! * v3 has no Read_failure, Write_failure or Function_failure: read/write failures become
//!   the matching timeouts and function (and CDC write) failures become `Invalid`.
//! * v3 and v4 have no CAS_WRITE_UNKNOWN body: it is sent as a `CAS` write timeout.
//! * Read/write failure reasons are a per-endpoint map only in v5; v3/v4 carry the number of
//!   failures, so [`FailureReasons::ByEndpoint`] is sent as its length.
//!
//! A response frame's body starts with the tracing id (TRACING flag), then warnings
//! (WARNING flag, v4+), then the custom payload (CUSTOM_PAYLOAD flag, v4+). Warnings and
//! custom payloads are dropped for v3 connections, as Cassandra does.

use std::net::IpAddr;

use bytes::{BufMut, Bytes, BytesMut};

use crate::compression::Compression;
use crate::consistency::Consistency;
use crate::error::{DecodeError, EncodeError};
use crate::event::{Event, SchemaChange};
use crate::frame::{
    Direction, Frame, FrameBuilder, FrameFlags, FrameHeader, FrameLimits, Opcode, ProtocolVersion,
    StreamId,
};
use crate::request::PreparedId;
use crate::rows::{self, ColumnSpec, Rows, RowsMetadata};
use crate::wire::{self, BytesMap, Reader, StringMultimap};

/// Cassandra's error codes (§9, plus v5's 0x1600 and 0x1700).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorCode {
    /// 0x0000 Server error.
    ServerError = 0x0000,
    /// 0x000A Protocol error.
    ProtocolError = 0x000A,
    /// 0x0100 Authentication error (bad credentials).
    BadCredentials = 0x0100,
    /// 0x1000 Unavailable.
    Unavailable = 0x1000,
    /// 0x1001 Overloaded.
    Overloaded = 0x1001,
    /// 0x1002 Is_bootstrapping.
    IsBootstrapping = 0x1002,
    /// 0x1003 Truncate_error.
    TruncateError = 0x1003,
    /// 0x1100 Write_timeout.
    WriteTimeout = 0x1100,
    /// 0x1200 Read_timeout.
    ReadTimeout = 0x1200,
    /// 0x1300 Read_failure (v4+).
    ReadFailure = 0x1300,
    /// 0x1400 Function_failure (v4+).
    FunctionFailure = 0x1400,
    /// 0x1500 Write_failure (v4+).
    WriteFailure = 0x1500,
    /// 0x1600 CDC_WRITE_FAILURE.
    CdcWriteFailure = 0x1600,
    /// 0x1700 CAS_WRITE_UNKNOWN (v5).
    CasWriteUnknown = 0x1700,
    /// 0x2000 Syntax_error.
    SyntaxError = 0x2000,
    /// 0x2100 Unauthorized.
    Unauthorized = 0x2100,
    /// 0x2200 Invalid.
    Invalid = 0x2200,
    /// 0x2300 Config_error.
    ConfigError = 0x2300,
    /// 0x2400 Already_exists.
    AlreadyExists = 0x2400,
    /// 0x2500 Unprepared.
    Unprepared = 0x2500,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 20] = [
        ErrorCode::ServerError,
        ErrorCode::ProtocolError,
        ErrorCode::BadCredentials,
        ErrorCode::Unavailable,
        ErrorCode::Overloaded,
        ErrorCode::IsBootstrapping,
        ErrorCode::TruncateError,
        ErrorCode::WriteTimeout,
        ErrorCode::ReadTimeout,
        ErrorCode::ReadFailure,
        ErrorCode::FunctionFailure,
        ErrorCode::WriteFailure,
        ErrorCode::CdcWriteFailure,
        ErrorCode::CasWriteUnknown,
        ErrorCode::SyntaxError,
        ErrorCode::Unauthorized,
        ErrorCode::Invalid,
        ErrorCode::ConfigError,
        ErrorCode::AlreadyExists,
        ErrorCode::Unprepared,
    ];

    /// The wire code.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The error code for a wire code.
    pub fn from_code(code: i32) -> Result<ErrorCode, DecodeError> {
        ErrorCode::ALL
            .into_iter()
            .find(|c| c.code() == code)
            .ok_or(DecodeError::UnknownErrorCode { code })
    }
}

/// The kind of write that timed out or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteType {
    /// `SIMPLE`: a non-batched, non-counter write.
    Simple,
    /// `BATCH`: a logged batch (the batch log was written).
    Batch,
    /// `UNLOGGED_BATCH`.
    UnloggedBatch,
    /// `COUNTER`.
    Counter,
    /// `BATCH_LOG`: the write to the batch log itself.
    BatchLog,
    /// `CAS`: a lightweight transaction.
    Cas,
    /// `VIEW`: a materialized view update.
    View,
    /// `CDC`: CDC space exhausted.
    Cdc,
}

impl WriteType {
    /// Every write type.
    pub const ALL: [WriteType; 8] = [
        WriteType::Simple,
        WriteType::Batch,
        WriteType::UnloggedBatch,
        WriteType::Counter,
        WriteType::BatchLog,
        WriteType::Cas,
        WriteType::View,
        WriteType::Cdc,
    ];

    /// The wire string.
    pub fn name(self) -> &'static str {
        match self {
            WriteType::Simple => "SIMPLE",
            WriteType::Batch => "BATCH",
            WriteType::UnloggedBatch => "UNLOGGED_BATCH",
            WriteType::Counter => "COUNTER",
            WriteType::BatchLog => "BATCH_LOG",
            WriteType::Cas => "CAS",
            WriteType::View => "VIEW",
            WriteType::Cdc => "CDC",
        }
    }

    /// The write type for a wire string.
    pub fn from_name(name: &str) -> Option<WriteType> {
        WriteType::ALL.into_iter().find(|w| w.name() == name)
    }
}

/// Why one replica failed (v5 `<failurecode>`; Cassandra's `RequestFailureReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FailureReasonCode(pub u16);

impl FailureReasonCode {
    /// Unknown reason.
    pub const UNKNOWN: FailureReasonCode = FailureReasonCode(0);
    /// The read scanned too many tombstones.
    pub const READ_TOO_MANY_TOMBSTONES: FailureReasonCode = FailureReasonCode(1);
}

/// One failed replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EndpointFailure {
    /// The replica's address.
    pub endpoint: IpAddr,
    /// Why it failed.
    pub reason: FailureReasonCode,
}

/// The failures of a Read_failure/Write_failure.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FailureReasons {
    /// Only the number of failed replicas (what v3/v4 carry).
    Count(i32),
    /// Each failed replica with its reason (v5's reason map; sent as a count in v3/v4).
    ByEndpoint(Vec<EndpointFailure>),
}

impl FailureReasons {
    /// Number of failed replicas.
    pub fn count(&self) -> i32 {
        match self {
            FailureReasons::Count(n) => *n,
            FailureReasons::ByEndpoint(v) => i32::try_from(v.len()).unwrap_or(i32::MAX),
        }
    }
}

/// An error's code-specific content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// 0x0000.
    ServerError,
    /// 0x000A.
    ProtocolError,
    /// 0x0100.
    BadCredentials,
    /// 0x1000: not enough live replicas.
    Unavailable {
        /// Requested consistency.
        consistency: Consistency,
        /// Replicas needed.
        required: i32,
        /// Replicas known alive.
        alive: i32,
    },
    /// 0x1001.
    Overloaded,
    /// 0x1002.
    IsBootstrapping,
    /// 0x1003.
    TruncateError,
    /// 0x1100.
    WriteTimeout {
        /// Requested consistency.
        consistency: Consistency,
        /// Acknowledgements received.
        received: i32,
        /// Acknowledgements required.
        block_for: i32,
        /// Kind of write.
        write_type: WriteType,
    },
    /// 0x1200.
    ReadTimeout {
        /// Requested consistency.
        consistency: Consistency,
        /// Responses received.
        received: i32,
        /// Responses required.
        block_for: i32,
        /// Whether the replica asked for data answered.
        data_present: bool,
    },
    /// 0x1300.
    ReadFailure {
        /// Requested consistency.
        consistency: Consistency,
        /// Responses received.
        received: i32,
        /// Responses required.
        block_for: i32,
        /// Failed replicas.
        failures: FailureReasons,
        /// Whether the replica asked for data answered.
        data_present: bool,
    },
    /// 0x1400: a user-defined function failed.
    FunctionFailure {
        /// Function keyspace.
        keyspace: String,
        /// Function name.
        function: String,
        /// CQL argument types.
        arg_types: Vec<String>,
    },
    /// 0x1500.
    WriteFailure {
        /// Requested consistency.
        consistency: Consistency,
        /// Acknowledgements received.
        received: i32,
        /// Acknowledgements required.
        block_for: i32,
        /// Failed replicas.
        failures: FailureReasons,
        /// Kind of write.
        write_type: WriteType,
    },
    /// 0x1600.
    CdcWriteFailure,
    /// 0x1700 (v5; a CAS write timeout before).
    CasWriteUnknown {
        /// Requested consistency.
        consistency: Consistency,
        /// Acknowledgements received.
        received: i32,
        /// Acknowledgements required.
        block_for: i32,
    },
    /// 0x2000.
    SyntaxError,
    /// 0x2100.
    Unauthorized,
    /// 0x2200 (also "table does not exist").
    Invalid,
    /// 0x2300.
    ConfigError,
    /// 0x2400: `table` is empty for a keyspace.
    AlreadyExists {
        /// Keyspace.
        keyspace: String,
        /// Table, or `""` when the keyspace exists.
        table: String,
    },
    /// 0x2500: the prepared id is unknown; echo the client's id exactly.
    Unprepared {
        /// The unknown id.
        id: PreparedId,
    },
}

impl ErrorKind {
    /// The error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            ErrorKind::ServerError => ErrorCode::ServerError,
            ErrorKind::ProtocolError => ErrorCode::ProtocolError,
            ErrorKind::BadCredentials => ErrorCode::BadCredentials,
            ErrorKind::Unavailable { .. } => ErrorCode::Unavailable,
            ErrorKind::Overloaded => ErrorCode::Overloaded,
            ErrorKind::IsBootstrapping => ErrorCode::IsBootstrapping,
            ErrorKind::TruncateError => ErrorCode::TruncateError,
            ErrorKind::WriteTimeout { .. } => ErrorCode::WriteTimeout,
            ErrorKind::ReadTimeout { .. } => ErrorCode::ReadTimeout,
            ErrorKind::ReadFailure { .. } => ErrorCode::ReadFailure,
            ErrorKind::FunctionFailure { .. } => ErrorCode::FunctionFailure,
            ErrorKind::WriteFailure { .. } => ErrorCode::WriteFailure,
            ErrorKind::CdcWriteFailure => ErrorCode::CdcWriteFailure,
            ErrorKind::CasWriteUnknown { .. } => ErrorCode::CasWriteUnknown,
            ErrorKind::SyntaxError => ErrorCode::SyntaxError,
            ErrorKind::Unauthorized => ErrorCode::Unauthorized,
            ErrorKind::Invalid => ErrorCode::Invalid,
            ErrorKind::ConfigError => ErrorCode::ConfigError,
            ErrorKind::AlreadyExists { .. } => ErrorCode::AlreadyExists,
            ErrorKind::Unprepared { .. } => ErrorCode::Unprepared,
        }
    }

    /// The form this error takes on a `version` connection (see the module docs).
    fn for_version(&self, version: ProtocolVersion) -> Option<ErrorKind> {
        match self {
            ErrorKind::CasWriteUnknown {
                consistency,
                received,
                block_for,
            } => Some(ErrorKind::WriteTimeout {
                consistency: *consistency,
                received: *received,
                block_for: *block_for,
                write_type: WriteType::Cas,
            }),
            _ if version >= ProtocolVersion::V4 => None,
            ErrorKind::ReadFailure {
                consistency,
                received,
                block_for,
                data_present,
                ..
            } => Some(ErrorKind::ReadTimeout {
                consistency: *consistency,
                received: *received,
                block_for: *block_for,
                data_present: *data_present,
            }),
            ErrorKind::WriteFailure {
                consistency,
                received,
                block_for,
                write_type,
                ..
            } => Some(ErrorKind::WriteTimeout {
                consistency: *consistency,
                received: *received,
                block_for: *block_for,
                write_type: *write_type,
            }),
            ErrorKind::FunctionFailure { .. } | ErrorKind::CdcWriteFailure => {
                Some(ErrorKind::Invalid)
            }
            _ => None,
        }
    }
}

/// An ERROR body: code-specific content plus the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// Human-readable message.
    pub message: String,
    /// Code and extra fields.
    pub kind: ErrorKind,
}

impl ErrorBody {
    /// An error with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ErrorBody {
            message: message.into(),
            kind,
        }
    }

    /// Appends the body for a `version` connection. A message longer than a `[string]` can
    /// hold (65535 bytes) is truncated at a character boundary so that the error can still be
    /// reported.
    pub fn encode(&self, dst: &mut BytesMut, version: ProtocolVersion) -> Result<(), EncodeError> {
        let downgraded = self.kind.for_version(version);
        let kind = downgraded.as_ref().unwrap_or(&self.kind);
        dst.put_i32(kind.code().code());
        wire::write_string(
            dst,
            wire::truncate_at_char_boundary(&self.message, wire::MAX_SHORT_LENGTH),
        )?;
        match kind {
            ErrorKind::Unavailable {
                consistency,
                required,
                alive,
            } => {
                wire::write_consistency(dst, *consistency);
                dst.put_i32(*required);
                dst.put_i32(*alive);
            }
            ErrorKind::WriteTimeout {
                consistency,
                received,
                block_for,
                write_type,
            } => {
                wire::write_consistency(dst, *consistency);
                dst.put_i32(*received);
                dst.put_i32(*block_for);
                wire::write_string(dst, write_type.name())?;
            }
            ErrorKind::ReadTimeout {
                consistency,
                received,
                block_for,
                data_present,
            } => {
                wire::write_consistency(dst, *consistency);
                dst.put_i32(*received);
                dst.put_i32(*block_for);
                dst.put_u8(u8::from(*data_present));
            }
            ErrorKind::ReadFailure {
                consistency,
                received,
                block_for,
                failures,
                data_present,
            } => {
                wire::write_consistency(dst, *consistency);
                dst.put_i32(*received);
                dst.put_i32(*block_for);
                dst.put_i32(failures.count());
                dst.put_u8(u8::from(*data_present));
            }
            ErrorKind::FunctionFailure {
                keyspace,
                function,
                arg_types,
            } => {
                wire::write_string(dst, keyspace)?;
                wire::write_string(dst, function)?;
                wire::write_string_list(dst, arg_types)?;
            }
            ErrorKind::WriteFailure {
                consistency,
                received,
                block_for,
                failures,
                write_type,
            } => {
                wire::write_consistency(dst, *consistency);
                dst.put_i32(*received);
                dst.put_i32(*block_for);
                dst.put_i32(failures.count());
                wire::write_string(dst, write_type.name())?;
            }
            ErrorKind::CasWriteUnknown {
                consistency,
                received,
                block_for,
            } => {
                wire::write_consistency(dst, *consistency);
                dst.put_i32(*received);
                dst.put_i32(*block_for);
            }
            ErrorKind::AlreadyExists { keyspace, table } => {
                wire::write_string(dst, keyspace)?;
                wire::write_string(dst, table)?;
            }
            ErrorKind::Unprepared { id } => wire::write_short_bytes(dst, id.as_bytes())?,
            ErrorKind::ServerError
            | ErrorKind::ProtocolError
            | ErrorKind::BadCredentials
            | ErrorKind::Overloaded
            | ErrorKind::IsBootstrapping
            | ErrorKind::TruncateError
            | ErrorKind::CdcWriteFailure
            | ErrorKind::SyntaxError
            | ErrorKind::Unauthorized
            | ErrorKind::Invalid
            | ErrorKind::ConfigError => {}
        }
        Ok(())
    }

    /// Reads an ERROR body.
    pub fn decode(reader: &mut Reader) -> Result<Self, DecodeError> {
        let code = ErrorCode::from_code(reader.read_i32()?)?;
        let message = reader.read_string()?;
        let read_write_type = |reader: &mut Reader| -> Result<WriteType, DecodeError> {
            let name = reader.read_string()?;
            WriteType::from_name(&name).ok_or(DecodeError::UnknownName {
                what: "write type",
                value: name,
            })
        };
        let kind = match code {
            ErrorCode::ServerError => ErrorKind::ServerError,
            ErrorCode::ProtocolError => ErrorKind::ProtocolError,
            ErrorCode::BadCredentials => ErrorKind::BadCredentials,
            ErrorCode::Unavailable => ErrorKind::Unavailable {
                consistency: reader.read_consistency()?,
                required: reader.read_i32()?,
                alive: reader.read_i32()?,
            },
            ErrorCode::Overloaded => ErrorKind::Overloaded,
            ErrorCode::IsBootstrapping => ErrorKind::IsBootstrapping,
            ErrorCode::TruncateError => ErrorKind::TruncateError,
            ErrorCode::WriteTimeout => ErrorKind::WriteTimeout {
                consistency: reader.read_consistency()?,
                received: reader.read_i32()?,
                block_for: reader.read_i32()?,
                write_type: read_write_type(reader)?,
            },
            ErrorCode::ReadTimeout => ErrorKind::ReadTimeout {
                consistency: reader.read_consistency()?,
                received: reader.read_i32()?,
                block_for: reader.read_i32()?,
                data_present: reader.read_u8()? != 0,
            },
            ErrorCode::ReadFailure => ErrorKind::ReadFailure {
                consistency: reader.read_consistency()?,
                received: reader.read_i32()?,
                block_for: reader.read_i32()?,
                failures: FailureReasons::Count(reader.read_i32()?),
                data_present: reader.read_u8()? != 0,
            },
            ErrorCode::FunctionFailure => ErrorKind::FunctionFailure {
                keyspace: reader.read_string()?,
                function: reader.read_string()?,
                arg_types: reader.read_string_list()?,
            },
            ErrorCode::WriteFailure => ErrorKind::WriteFailure {
                consistency: reader.read_consistency()?,
                received: reader.read_i32()?,
                block_for: reader.read_i32()?,
                failures: FailureReasons::Count(reader.read_i32()?),
                write_type: read_write_type(reader)?,
            },
            ErrorCode::CdcWriteFailure => ErrorKind::CdcWriteFailure,
            ErrorCode::CasWriteUnknown => ErrorKind::CasWriteUnknown {
                consistency: reader.read_consistency()?,
                received: reader.read_i32()?,
                block_for: reader.read_i32()?,
            },
            ErrorCode::SyntaxError => ErrorKind::SyntaxError,
            ErrorCode::Unauthorized => ErrorKind::Unauthorized,
            ErrorCode::Invalid => ErrorKind::Invalid,
            ErrorCode::ConfigError => ErrorKind::ConfigError,
            ErrorCode::AlreadyExists => ErrorKind::AlreadyExists {
                keyspace: reader.read_string()?,
                table: reader.read_string()?,
            },
            ErrorCode::Unprepared => ErrorKind::Unprepared {
                id: PreparedId(reader.read_short_bytes()?),
            },
        };
        Ok(ErrorBody { message, kind })
    }
}

/// `<metadata>` of a Prepared result: the bind markers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PreparedMetadata {
    /// For each partition key column in order, the index of its bind marker (v4+). Empty
    /// when some partition key column is not bound by a plain marker.
    pub pk_indexes: Vec<u16>,
    /// Bind marker specs. The first one's keyspace is what drivers route with.
    pub columns: Vec<ColumnSpec>,
}

impl PreparedMetadata {
    fn encode(&self, dst: &mut BytesMut, version: ProtocolVersion) -> Result<(), EncodeError> {
        let global = self.columns.first().and_then(|first| {
            self.columns
                .iter()
                .all(|c| c.keyspace == first.keyspace && c.table == first.table)
                .then_some((first.keyspace.as_str(), first.table.as_str()))
        });
        dst.put_i32(if global.is_some() { 0x0001 } else { 0 });
        wire::write_int_count(dst, "bind markers", self.columns.len())?;
        if version >= ProtocolVersion::V4 {
            wire::write_int_count(dst, "partition key indexes", self.pk_indexes.len())?;
            for index in &self.pk_indexes {
                dst.put_u16(*index);
            }
        }
        rows::encode_column_specs(dst, &self.columns, global, version)
    }

    fn decode(reader: &mut Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let flags = reader.read_i32()?;
        let count = reader.read_count("bind markers")?;
        let mut pk_indexes = Vec::new();
        if version >= ProtocolVersion::V4 {
            let pk_count = reader.read_count("partition key indexes")?;
            pk_indexes.reserve(pk_count.min(reader.remaining() / 2));
            for _ in 0..pk_count {
                pk_indexes.push(reader.read_u16()?);
            }
        }
        let columns = rows::decode_column_specs(reader, count, flags & 0x0001 != 0)?;
        Ok(PreparedMetadata {
            pk_indexes,
            columns,
        })
    }
}

/// A Prepared result (§4.2.5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// Statement id; must be deterministic and identical on every node.
    pub id: PreparedId,
    /// Bind markers.
    pub metadata: PreparedMetadata,
    /// Metadata of the rows EXECUTE will return (`no_metadata(0)` for non-SELECT).
    pub result_metadata: RowsMetadata,
}

/// A RESULT body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultBody {
    /// 0x0001 Void.
    Void,
    /// 0x0002 Rows.
    Rows(Rows),
    /// 0x0003 Set_keyspace: the keyspace now in use.
    SetKeyspace(String),
    /// 0x0004 Prepared.
    Prepared(Prepared),
    /// 0x0005 Schema_change.
    SchemaChange(SchemaChange),
}

impl ResultBody {
    fn kind(&self) -> i32 {
        match self {
            ResultBody::Void => 0x0001,
            ResultBody::Rows(_) => rows::RESULT_KIND_ROWS,
            ResultBody::SetKeyspace(_) => 0x0003,
            ResultBody::Prepared(_) => 0x0004,
            ResultBody::SchemaChange(_) => 0x0005,
        }
    }

    /// Appends the RESULT body.
    pub fn encode(&self, dst: &mut BytesMut, version: ProtocolVersion) -> Result<(), EncodeError> {
        dst.put_i32(self.kind());
        match self {
            ResultBody::Void => Ok(()),
            ResultBody::Rows(rows) => rows.encode(dst, version),
            ResultBody::SetKeyspace(keyspace) => wire::write_string(dst, keyspace),
            ResultBody::Prepared(prepared) => {
                wire::write_short_bytes(dst, prepared.id.as_bytes())?;
                prepared.metadata.encode(dst, version)?;
                prepared.result_metadata.encode(dst, version)
            }
            ResultBody::SchemaChange(change) => change.encode(dst, version),
        }
    }

    /// Reads a RESULT body.
    pub fn decode(reader: &mut Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
        Ok(match reader.read_i32()? {
            0x0001 => ResultBody::Void,
            rows::RESULT_KIND_ROWS => ResultBody::Rows(Rows::decode(reader)?),
            0x0003 => ResultBody::SetKeyspace(reader.read_string()?),
            0x0004 => ResultBody::Prepared(Prepared {
                id: PreparedId(reader.read_short_bytes()?),
                metadata: PreparedMetadata::decode(reader, version)?,
                result_metadata: RowsMetadata::decode(reader)?,
            }),
            0x0005 => ResultBody::SchemaChange(SchemaChange::decode(reader)?),
            kind => return Err(DecodeError::UnknownResultKind { kind }),
        })
    }
}

/// A response body, one variant per response opcode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// ERROR.
    Error(ErrorBody),
    /// READY.
    Ready,
    /// AUTHENTICATE: the authenticator class name.
    Authenticate(String),
    /// SUPPORTED: option name to supported values.
    Supported(StringMultimap),
    /// RESULT.
    Result(ResultBody),
    /// EVENT.
    Event(Event),
    /// AUTH_CHALLENGE: SASL token.
    AuthChallenge(Option<Bytes>),
    /// AUTH_SUCCESS: final SASL token.
    AuthSuccess(Option<Bytes>),
}

impl Response {
    /// The opcode of this response.
    pub fn opcode(&self) -> Opcode {
        match self {
            Response::Error(_) => Opcode::Error,
            Response::Ready => Opcode::Ready,
            Response::Authenticate(_) => Opcode::Authenticate,
            Response::Supported(_) => Opcode::Supported,
            Response::Result(_) => Opcode::Result,
            Response::Event(_) => Opcode::Event,
            Response::AuthChallenge(_) => Opcode::AuthChallenge,
            Response::AuthSuccess(_) => Opcode::AuthSuccess,
        }
    }

    /// Appends the response body.
    pub fn encode_body(
        &self,
        dst: &mut BytesMut,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        match self {
            Response::Error(e) => e.encode(dst, version),
            Response::Ready => Ok(()),
            Response::Authenticate(class) => wire::write_string(dst, class),
            Response::Supported(options) => wire::write_string_multimap(dst, options),
            Response::Result(result) => result.encode(dst, version),
            Response::Event(event) => event.encode(dst, version),
            Response::AuthChallenge(token) | Response::AuthSuccess(token) => {
                wire::write_bytes(dst, token.as_deref())
            }
        }
    }

    /// Reads a response body (after tracing id, warnings and custom payload).
    pub fn decode_body(
        opcode: Opcode,
        version: ProtocolVersion,
        reader: &mut Reader,
    ) -> Result<Response, DecodeError> {
        Ok(match opcode {
            Opcode::Error => Response::Error(ErrorBody::decode(reader)?),
            Opcode::Ready => Response::Ready,
            Opcode::Authenticate => Response::Authenticate(reader.read_string()?),
            Opcode::Supported => Response::Supported(reader.read_string_multimap()?),
            Opcode::Result => Response::Result(ResultBody::decode(reader, version)?),
            Opcode::Event => Response::Event(Event::decode(reader)?),
            Opcode::AuthChallenge => Response::AuthChallenge(reader.read_bytes()?),
            Opcode::AuthSuccess => Response::AuthSuccess(reader.read_bytes()?),
            Opcode::Startup
            | Opcode::Options
            | Opcode::Query
            | Opcode::Prepare
            | Opcode::Execute
            | Opcode::Register
            | Opcode::Batch
            | Opcode::AuthResponse => {
                return Err(DecodeError::UnexpectedOpcode {
                    opcode: opcode.as_u8(),
                    name: opcode.name(),
                    expected: "response",
                })
            }
        })
    }

    /// Appends a complete response frame without tracing, warnings or payload.
    pub fn encode_frame(
        &self,
        dst: &mut BytesMut,
        version: ProtocolVersion,
        stream: StreamId,
        compression: Option<Compression>,
        limits: &FrameLimits,
    ) -> Result<(), EncodeError> {
        encode_response_frame(
            dst,
            version,
            stream,
            &ResponseExtras::default(),
            self,
            compression,
            limits,
        )
    }
}

/// The SUPPORTED body every driver can use: `CQL_VERSION` (the Python driver requires it
/// non-empty), `COMPRESSION` (required by the Python driver, may be empty) and
/// `PROTOCOL_VERSIONS` (informational, Cassandra's `"4/v4"` form).
pub fn supported_options(
    cql_version: &str,
    compression: &[Compression],
    versions: &[ProtocolVersion],
) -> StringMultimap {
    vec![
        ("CQL_VERSION".to_owned(), vec![cql_version.to_owned()]),
        (
            "COMPRESSION".to_owned(),
            compression.iter().map(|c| c.name().to_owned()).collect(),
        ),
        (
            "PROTOCOL_VERSIONS".to_owned(),
            versions
                .iter()
                .map(|v| v.supported_name().to_owned())
                .collect(),
        ),
    ]
}

/// Frame-level additions to a response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResponseExtras {
    /// Tracing session id (TRACING flag).
    pub tracing_id: Option<[u8; 16]>,
    /// Warnings (WARNING flag, v4+; empty means no flag).
    pub warnings: Vec<String>,
    /// Custom payload (CUSTOM_PAYLOAD flag, v4+).
    pub custom_payload: Option<BytesMap>,
}

/// A response with its frame-level additions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseMessage {
    /// Tracing id, warnings, custom payload.
    pub extras: ResponseExtras,
    /// The response.
    pub response: Response,
}

impl ResponseMessage {
    /// A response without extras.
    pub fn new(response: Response) -> Self {
        ResponseMessage {
            extras: ResponseExtras::default(),
            response,
        }
    }

    /// Decodes an (uncompressed) response body given its header.
    pub fn decode(header: &FrameHeader, body: Bytes) -> Result<ResponseMessage, DecodeError> {
        if header.direction != Direction::Response {
            return Err(DecodeError::WrongDirection {
                expected: Direction::Response.name(),
                got: header.direction.name(),
                opcode: header.opcode.as_u8(),
            });
        }
        let mut reader = Reader::new(body);
        let tracing_id = if header.flags.contains(FrameFlags::TRACING) {
            Some(reader.read_uuid()?)
        } else {
            None
        };
        let v4 = header.version >= ProtocolVersion::V4;
        let warnings = if v4 && header.flags.contains(FrameFlags::WARNING) {
            reader.read_string_list()?
        } else {
            Vec::new()
        };
        let custom_payload = if v4 && header.flags.contains(FrameFlags::CUSTOM_PAYLOAD) {
            Some(reader.read_bytes_map()?)
        } else {
            None
        };
        let response = Response::decode_body(header.opcode, header.version, &mut reader)?;
        Ok(ResponseMessage {
            extras: ResponseExtras {
                tracing_id,
                warnings,
                custom_payload,
            },
            response,
        })
    }

    /// Appends a complete response frame.
    pub fn encode_frame(
        &self,
        dst: &mut BytesMut,
        version: ProtocolVersion,
        stream: StreamId,
        compression: Option<Compression>,
        limits: &FrameLimits,
    ) -> Result<(), EncodeError> {
        encode_response_frame(
            dst,
            version,
            stream,
            &self.extras,
            &self.response,
            compression,
            limits,
        )
    }
}

fn encode_response_frame(
    dst: &mut BytesMut,
    version: ProtocolVersion,
    stream: StreamId,
    extras: &ResponseExtras,
    response: &Response,
    compression: Option<Compression>,
    limits: &FrameLimits,
) -> Result<(), EncodeError> {
    let start = dst.len();
    let builder = begin_response_frame(dst, version, stream, response.opcode(), extras)?;
    if let Err(e) = response.encode_body(dst, version) {
        dst.truncate(start);
        return Err(e);
    }
    builder.finish(dst, compression, limits)
}

/// Starts a response frame whose body the caller writes (e.g. with
/// [`crate::RowsWriter`]): writes the header and the extras, and returns the builder to
/// [`FrameBuilder::finish`] once the body is in `dst`.
pub fn begin_response_frame(
    dst: &mut BytesMut,
    version: ProtocolVersion,
    stream: StreamId,
    opcode: Opcode,
    extras: &ResponseExtras,
) -> Result<FrameBuilder, EncodeError> {
    let v4 = version >= ProtocolVersion::V4;
    let warnings = v4 && !extras.warnings.is_empty();
    let payload = if v4 {
        extras.custom_payload.as_ref()
    } else {
        None
    };
    let flags = FrameFlags::default()
        .with(FrameFlags::TRACING, extras.tracing_id.is_some())
        .with(FrameFlags::WARNING, warnings)
        .with(FrameFlags::CUSTOM_PAYLOAD, payload.is_some());
    let start = dst.len();
    let builder = FrameBuilder::begin(dst, version, Direction::Response, flags, stream, opcode);
    if let Some(id) = &extras.tracing_id {
        wire::write_uuid(dst, id);
    }
    let rest = (|| {
        if warnings {
            wire::write_string_list(dst, &extras.warnings)?;
        }
        if let Some(payload) = payload {
            wire::write_bytes_map(dst, payload)?;
        }
        Ok(())
    })();
    match rest {
        Ok(()) => Ok(builder),
        Err(e) => {
            dst.truncate(start);
            Err(e)
        }
    }
}

/// Decompresses and decodes a response frame.
pub fn decode_response(
    frame: &Frame,
    compression: Option<Compression>,
    limits: &FrameLimits,
) -> Result<ResponseMessage, DecodeError> {
    let body = frame.uncompressed_body(compression, limits)?;
    ResponseMessage::decode(&frame.header, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(body: &ErrorBody, version: ProtocolVersion) -> Bytes {
        let mut buf = BytesMut::new();
        body.encode(&mut buf, version).unwrap();
        buf.freeze()
    }

    #[test]
    fn error_codes_are_cassandras() {
        assert_eq!(ErrorCode::ServerError.code(), 0x0000);
        assert_eq!(ErrorCode::ProtocolError.code(), 0x000A);
        assert_eq!(ErrorCode::BadCredentials.code(), 0x0100);
        assert_eq!(ErrorCode::Unavailable.code(), 0x1000);
        assert_eq!(ErrorCode::WriteTimeout.code(), 0x1100);
        assert_eq!(ErrorCode::ReadTimeout.code(), 0x1200);
        assert_eq!(ErrorCode::ReadFailure.code(), 0x1300);
        assert_eq!(ErrorCode::FunctionFailure.code(), 0x1400);
        assert_eq!(ErrorCode::WriteFailure.code(), 0x1500);
        assert_eq!(ErrorCode::Invalid.code(), 0x2200);
        assert_eq!(ErrorCode::AlreadyExists.code(), 0x2400);
        assert_eq!(ErrorCode::Unprepared.code(), 0x2500);
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(code.code()), Ok(code));
        }
        assert!(ErrorCode::from_code(0x2600).is_err());
        for w in WriteType::ALL {
            assert_eq!(WriteType::from_name(w.name()), Some(w));
        }
    }

    #[test]
    fn unavailable_golden_bytes() {
        let body = ErrorBody::new(
            ErrorKind::Unavailable {
                consistency: Consistency::Quorum,
                required: 2,
                alive: 1,
            },
            "no",
        );
        assert_eq!(
            &encode(&body, ProtocolVersion::V4)[..],
            &[0, 0, 0x10, 0, 0, 2, b'n', b'o', 0, 4, 0, 0, 0, 2, 0, 0, 0, 1]
        );
    }

    #[test]
    fn failures_are_counts_in_v4_and_timeouts_in_v3() {
        let body = ErrorBody::new(
            ErrorKind::WriteFailure {
                consistency: Consistency::One,
                received: 0,
                block_for: 1,
                failures: FailureReasons::ByEndpoint(vec![EndpointFailure {
                    endpoint: "10.0.0.1".parse().unwrap(),
                    reason: FailureReasonCode::UNKNOWN,
                }]),
                write_type: WriteType::Simple,
            },
            "failed",
        );
        let decoded =
            ErrorBody::decode(&mut Reader::new(encode(&body, ProtocolVersion::V4))).unwrap();
        assert_eq!(
            decoded.kind,
            ErrorKind::WriteFailure {
                consistency: Consistency::One,
                received: 0,
                block_for: 1,
                failures: FailureReasons::Count(1),
                write_type: WriteType::Simple,
            }
        );
        let v3 = ErrorBody::decode(&mut Reader::new(encode(&body, ProtocolVersion::V3))).unwrap();
        assert_eq!(
            v3.kind,
            ErrorKind::WriteTimeout {
                consistency: Consistency::One,
                received: 0,
                block_for: 1,
                write_type: WriteType::Simple,
            }
        );
        let cas = ErrorBody::new(
            ErrorKind::CasWriteUnknown {
                consistency: Consistency::Serial,
                received: 1,
                block_for: 2,
            },
            "cas",
        );
        let v4 = ErrorBody::decode(&mut Reader::new(encode(&cas, ProtocolVersion::V4))).unwrap();
        assert_eq!(
            v4.kind,
            ErrorKind::WriteTimeout {
                consistency: Consistency::Serial,
                received: 1,
                block_for: 2,
                write_type: WriteType::Cas,
            }
        );
        let function = ErrorBody::new(
            ErrorKind::FunctionFailure {
                keyspace: "ks".into(),
                function: "f".into(),
                arg_types: vec!["int".into()],
            },
            "boom",
        );
        let v3 =
            ErrorBody::decode(&mut Reader::new(encode(&function, ProtocolVersion::V3))).unwrap();
        assert_eq!(v3, ErrorBody::new(ErrorKind::Invalid, "boom"));
    }

    #[test]
    fn supported_options_shape() {
        assert_eq!(
            supported_options("3.4.7", &[], &[ProtocolVersion::V4]),
            vec![
                ("CQL_VERSION".to_owned(), vec!["3.4.7".to_owned()]),
                ("COMPRESSION".to_owned(), vec![]),
                ("PROTOCOL_VERSIONS".to_owned(), vec!["4/v4".to_owned()]),
            ]
        );
        let with = supported_options(
            "3.4.7",
            &Compression::ALL,
            &[ProtocolVersion::V3, ProtocolVersion::V4],
        );
        assert_eq!(with[1].1, vec!["lz4".to_owned(), "snappy".to_owned()]);
        assert_eq!(with[2].1, vec!["3/v3".to_owned(), "4/v4".to_owned()]);
    }

    #[test]
    fn long_messages_are_truncated() {
        let body = ErrorBody::new(ErrorKind::Invalid, "é".repeat(40_000));
        let decoded =
            ErrorBody::decode(&mut Reader::new(encode(&body, ProtocolVersion::V4))).unwrap();
        assert_eq!(decoded.message.len(), 65534);
        assert!(body.message.starts_with(&decoded.message));
    }

    #[test]
    fn prepared_v3_has_no_pk_indexes() {
        let prepared = ResultBody::Prepared(Prepared {
            id: PreparedId(Bytes::from_static(b"0123456789abcdef")),
            metadata: PreparedMetadata {
                pk_indexes: vec![0],
                columns: vec![ColumnSpec::new("ks", "t", "k", crate::ColumnTypeSpec::Int)],
            },
            result_metadata: RowsMetadata::no_metadata(0),
        });
        for (version, pk) in [
            (ProtocolVersion::V4, vec![0]),
            (ProtocolVersion::V3, vec![]),
        ] {
            let mut buf = BytesMut::new();
            prepared.encode(&mut buf, version).unwrap();
            let ResultBody::Prepared(decoded) =
                ResultBody::decode(&mut Reader::new(buf.freeze()), version).unwrap()
            else {
                panic!("not prepared")
            };
            assert_eq!(decoded.metadata.pk_indexes, pk);
        }
    }
}
