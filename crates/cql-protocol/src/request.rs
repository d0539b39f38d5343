//! Request messages (native protocol v4 §4.1): typed bodies, decoding and encoding.
//!
//! Decoding is zero-copy: query strings ([`CqlText`]), prepared ids, paging states and bound
//! values are slices of the frame body. Bound values are validated when the body is decoded
//! and kept as one raw slice in [`QueryValues`], iterated on demand, so decoding an EXECUTE
//! allocates nothing.
//!
//! Unknown bits in the QUERY/EXECUTE flags byte are ignored (v5 moved to an `[int]` and added
//! bits such as 0x80 keyspace, which a v4 peer never sends). BATCH flags must have their four
//! low bits clear, as the spec requires.
//!
//! Named values in BATCH (flag 0x40) are specified in a way that cannot be parsed in one pass:
//! the flags come after the statements whose values they describe (CASSANDRA-10246). The
//! decoder first reads the statements without names; if that fails, or the flags then say
//! names were present, it re-reads them with names and keeps that reading only if its flags
//! do have 0x40. Encoding writes names when the statements' values are named.

use bytes::{BufMut, Bytes, BytesMut};

use crate::compression::Compression;
use crate::consistency::Consistency;
use crate::error::{DecodeError, EncodeError};
use crate::event::EventType;
use crate::frame::{
    Direction, Frame, FrameBuilder, FrameFlags, FrameHeader, FrameLimits, Opcode, ProtocolVersion,
    StreamId,
};
use crate::wire::{self, BytesMap, CqlText, Reader, StringMap, Value};

/// A prepared statement id (`[short bytes]`), opaque to the client.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PreparedId(pub Bytes);

impl PreparedId {
    /// The id bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

mod query_flags {
    pub const VALUES: u8 = 0x01;
    pub const SKIP_METADATA: u8 = 0x02;
    pub const PAGE_SIZE: u8 = 0x04;
    pub const PAGING_STATE: u8 = 0x08;
    pub const SERIAL_CONSISTENCY: u8 = 0x10;
    pub const DEFAULT_TIMESTAMP: u8 = 0x20;
    pub const NAMES_FOR_VALUES: u8 = 0x40;
    /// Bits that must be clear in BATCH flags.
    pub const BATCH_FORBIDDEN: u8 = 0x0F;
}

/// Bound values of a QUERY, EXECUTE or BATCH statement: a `[short]` count of `[value]`s,
/// each preceded by a `[string]` name when `named`.
///
/// Holds the validated encoded values as one zero-copy slice; [`QueryValues::iter`] decodes
/// them lazily. Equality compares the decoded values, not the bytes.
#[derive(Debug, Clone)]
pub struct QueryValues {
    count: u16,
    named: bool,
    version: ProtocolVersion,
    raw: Bytes,
}

impl Default for QueryValues {
    fn default() -> Self {
        QueryValues::empty()
    }
}

impl PartialEq for QueryValues {
    fn eq(&self, other: &Self) -> bool {
        self.count == other.count && self.named == other.named && self.iter().eq(other.iter())
    }
}

impl Eq for QueryValues {}

impl QueryValues {
    /// No values.
    pub fn empty() -> QueryValues {
        QueryValues {
            count: 0,
            named: false,
            version: ProtocolVersion::V4,
            raw: Bytes::new(),
        }
    }

    /// Positional values, to be sent in `version`.
    pub fn positional(values: &[Value], version: ProtocolVersion) -> Result<Self, EncodeError> {
        Self::build(values.iter().map(|v| (None, v)), values.len(), version)
    }

    /// Named values, to be sent in `version`.
    pub fn named<S: AsRef<str>>(
        values: &[(S, Value)],
        version: ProtocolVersion,
    ) -> Result<Self, EncodeError> {
        Self::build(
            values.iter().map(|(n, v)| (Some(n.as_ref()), v)),
            values.len(),
            version,
        )
    }

    fn build<'a>(
        items: impl Iterator<Item = (Option<&'a str>, &'a Value)>,
        len: usize,
        version: ProtocolVersion,
    ) -> Result<Self, EncodeError> {
        let count = u16::try_from(len).map_err(|_| EncodeError::TooManyItems {
            what: "bound values",
            count: len,
            max: wire::MAX_SHORT_LENGTH,
        })?;
        let mut raw = BytesMut::new();
        let mut named = false;
        for (name, value) in items {
            if let Some(name) = name {
                named = true;
                wire::write_string(&mut raw, name)?;
            }
            wire::write_value(&mut raw, value, version)?;
        }
        Ok(QueryValues {
            count,
            named: named && count > 0,
            version,
            raw: raw.freeze(),
        })
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    /// True if there are no values.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// True if each value carries a bind-marker name.
    pub fn is_named(&self) -> bool {
        self.named
    }

    /// The values in order, with their names when [`QueryValues::is_named`].
    pub fn iter(&self) -> QueryValuesIter<'_> {
        QueryValuesIter {
            values: self,
            reader: Reader::new(self.raw.clone()),
            left: self.count,
        }
    }

    /// Reads `count` values (with names if `named`) and validates them.
    fn decode(
        reader: &mut Reader,
        count: u16,
        named: bool,
        version: ProtocolVersion,
    ) -> Result<QueryValues, DecodeError> {
        let mut probe = reader.clone();
        for _ in 0..count {
            if named {
                let len = usize::from(probe.read_u16()?);
                let name = probe.take("[string]", len)?;
                std::str::from_utf8(&name)
                    .map_err(|_| DecodeError::InvalidUtf8 { what: "[string]" })?;
            }
            probe.read_value(version)?;
        }
        let consumed = reader.remaining() - probe.remaining();
        let raw = reader.take("[value]", consumed)?;
        Ok(QueryValues {
            count,
            named: named && count > 0,
            version,
            raw,
        })
    }

    /// Writes the `[short]` count and the values for `version`.
    fn encode_values(
        &self,
        dst: &mut BytesMut,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        dst.put_u16(self.count);
        if version == self.version {
            dst.put_slice(&self.raw);
            return Ok(());
        }
        for (name, value) in self.iter() {
            if let Some(name) = name {
                wire::write_string(dst, name)?;
            }
            wire::write_value(dst, &value, version)?;
        }
        Ok(())
    }
}

/// Iterator over [`QueryValues`]: `(name, value)` pairs. Names borrow from the values'
/// buffer; values are zero-copy [`Bytes`] slices of it.
#[derive(Debug)]
pub struct QueryValuesIter<'a> {
    values: &'a QueryValues,
    reader: Reader,
    left: u16,
}

impl<'a> Iterator for QueryValuesIter<'a> {
    type Item = (Option<&'a str>, Value);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // The bytes were validated when the values were built or decoded, so these reads
        // cannot fail; ending the iteration early is the safe fallback if they ever did.
        let name = if self.values.named {
            let len = usize::from(self.reader.read_u16().ok()?);
            let start = self.values.raw.len() - self.reader.remaining();
            self.reader.skip("[string]", len).ok()?;
            let bytes = self.values.raw.get(start..start + len)?;
            Some(std::str::from_utf8(bytes).ok()?)
        } else {
            None
        };
        let value = self.reader.read_value(self.values.version).ok()?;
        Some((name, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(usize::from(self.left)))
    }
}

/// `<query_parameters>` of QUERY and EXECUTE (§4.1.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParameters {
    /// Consistency level of the operation.
    pub consistency: Consistency,
    /// Bound values (flag 0x01; names with flag 0x40).
    pub values: QueryValues,
    /// Flag 0x02: the client asks for a RESULT without column metadata.
    pub skip_metadata: bool,
    /// Flag 0x04: desired page size in rows (a value ≤ 0 means no paging).
    pub page_size: Option<i32>,
    /// Flag 0x08: paging state from a previous page.
    pub paging_state: Option<Bytes>,
    /// Flag 0x10: serial consistency for conditional updates.
    pub serial_consistency: Option<Consistency>,
    /// Flag 0x20: default write timestamp in microseconds since the epoch.
    pub default_timestamp_micros: Option<i64>,
}

impl QueryParameters {
    /// Parameters with only a consistency level.
    pub fn with_consistency(consistency: Consistency) -> Self {
        QueryParameters {
            consistency,
            values: QueryValues::empty(),
            skip_metadata: false,
            page_size: None,
            paging_state: None,
            serial_consistency: None,
            default_timestamp_micros: None,
        }
    }

    /// Reads `<consistency><flags>...`.
    pub fn decode(reader: &mut Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
        use query_flags::*;
        let consistency = reader.read_consistency()?;
        let flags = reader.read_u8()?;
        let values = if flags & VALUES != 0 {
            let count = reader.read_u16()?;
            QueryValues::decode(reader, count, flags & NAMES_FOR_VALUES != 0, version)?
        } else {
            QueryValues::empty()
        };
        let page_size = if flags & PAGE_SIZE != 0 {
            Some(reader.read_i32()?)
        } else {
            None
        };
        let paging_state = if flags & PAGING_STATE != 0 {
            reader.read_bytes()?
        } else {
            None
        };
        let serial_consistency = if flags & SERIAL_CONSISTENCY != 0 {
            Some(reader.read_consistency()?)
        } else {
            None
        };
        let default_timestamp_micros = if flags & DEFAULT_TIMESTAMP != 0 {
            Some(reader.read_i64()?)
        } else {
            None
        };
        Ok(QueryParameters {
            consistency,
            values,
            skip_metadata: flags & SKIP_METADATA != 0,
            page_size,
            paging_state,
            serial_consistency,
            default_timestamp_micros,
        })
    }

    /// Appends `<consistency><flags>...`.
    pub fn encode(&self, dst: &mut BytesMut, version: ProtocolVersion) -> Result<(), EncodeError> {
        use query_flags::*;
        let mut flags = 0u8;
        if !self.values.is_empty() {
            flags |= VALUES;
            if self.values.is_named() {
                flags |= NAMES_FOR_VALUES;
            }
        }
        if self.skip_metadata {
            flags |= SKIP_METADATA;
        }
        if self.page_size.is_some() {
            flags |= PAGE_SIZE;
        }
        if self.paging_state.is_some() {
            flags |= PAGING_STATE;
        }
        if self.serial_consistency.is_some() {
            flags |= SERIAL_CONSISTENCY;
        }
        if self.default_timestamp_micros.is_some() {
            flags |= DEFAULT_TIMESTAMP;
        }
        wire::write_consistency(dst, self.consistency);
        dst.put_u8(flags);
        if !self.values.is_empty() {
            self.values.encode_values(dst, version)?;
        }
        if let Some(page_size) = self.page_size {
            dst.put_i32(page_size);
        }
        if let Some(state) = &self.paging_state {
            wire::write_bytes(dst, Some(state))?;
        }
        if let Some(serial) = self.serial_consistency {
            wire::write_consistency(dst, serial);
        }
        if let Some(ts) = self.default_timestamp_micros {
            dst.put_i64(ts);
        }
        Ok(())
    }
}

/// STARTUP (§4.1.1): the connection's options.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Startup {
    /// Options in wire order (`CQL_VERSION`, `COMPRESSION`, `DRIVER_NAME`, ...).
    pub options: StringMap,
}

impl Startup {
    /// The `CQL_VERSION` option key.
    pub const CQL_VERSION: &'static str = "CQL_VERSION";
    /// The `COMPRESSION` option key.
    pub const COMPRESSION: &'static str = "COMPRESSION";

    /// The value of an option (the last one if repeated).
    pub fn get(&self, key: &str) -> Option<&str> {
        wire::string_map_get(&self.options, key)
    }

    /// The requested compression: `Ok(None)` if none was asked for, an
    /// [`DecodeError::UnknownName`] if the algorithm is not supported.
    pub fn compression(&self) -> Result<Option<Compression>, DecodeError> {
        match self.get(Self::COMPRESSION) {
            None => Ok(None),
            Some(name) => {
                Compression::from_name(name)
                    .map(Some)
                    .ok_or_else(|| DecodeError::UnknownName {
                        what: "compression algorithm",
                        value: name.to_owned(),
                    })
            }
        }
    }
}

/// QUERY (§4.1.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The CQL text.
    pub query: CqlText,
    /// Consistency, values, paging, ...
    pub params: QueryParameters,
}

/// PREPARE (§4.1.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepare {
    /// The CQL text to prepare.
    pub query: CqlText,
}

/// EXECUTE (§4.1.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execute {
    /// Id returned by PREPARE.
    pub id: PreparedId,
    /// Consistency, values, paging, ...
    pub params: QueryParameters,
}

/// The BATCH `<type>` byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchType {
    /// 0: logged batch.
    Logged,
    /// 1: unlogged batch.
    Unlogged,
    /// 2: counter batch.
    Counter,
}

impl BatchType {
    /// The wire byte.
    pub fn as_u8(self) -> u8 {
        match self {
            BatchType::Logged => 0,
            BatchType::Unlogged => 1,
            BatchType::Counter => 2,
        }
    }

    /// The type for a wire byte.
    pub fn from_u8(value: u8) -> Result<Self, DecodeError> {
        match value {
            0 => Ok(BatchType::Logged),
            1 => Ok(BatchType::Unlogged),
            2 => Ok(BatchType::Counter),
            _ => Err(DecodeError::UnknownBatchType { value }),
        }
    }
}

/// What a BATCH statement runs: a query string (kind 0) or a prepared id (kind 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchQuery {
    /// Kind 0: CQL text.
    Query(CqlText),
    /// Kind 1: prepared statement id.
    Prepared(PreparedId),
}

/// One statement of a BATCH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchStatement {
    /// The statement.
    pub query: BatchQuery,
    /// Its bound values.
    pub values: QueryValues,
}

/// BATCH (§4.1.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Logged, unlogged or counter.
    pub batch_type: BatchType,
    /// The statements, in order.
    pub statements: Vec<BatchStatement>,
    /// Consistency level.
    pub consistency: Consistency,
    /// Flag 0x10: serial consistency.
    pub serial_consistency: Option<Consistency>,
    /// Flag 0x20: default timestamp in microseconds.
    pub default_timestamp_micros: Option<i64>,
}

impl Batch {
    fn decode(reader: &mut Reader, version: ProtocolVersion) -> Result<Batch, DecodeError> {
        let start = reader.clone();
        let unnamed = match Self::decode_with_names(reader, version, false) {
            Ok((batch, flags)) if flags & query_flags::NAMES_FOR_VALUES == 0 => return Ok(batch),
            other => other,
        };
        let mut retry = start;
        match Self::decode_with_names(&mut retry, version, true) {
            Ok((batch, flags)) if flags & query_flags::NAMES_FOR_VALUES != 0 => {
                *reader = retry;
                Ok(batch)
            }
            named => match (unnamed, named) {
                (Err(e), _) => Err(e),
                (Ok(_), Err(e)) => Err(e),
                (Ok(_), Ok(_)) => Err(DecodeError::BatchNamesUnreadable),
            },
        }
    }

    fn decode_with_names(
        reader: &mut Reader,
        version: ProtocolVersion,
        named: bool,
    ) -> Result<(Batch, u8), DecodeError> {
        let batch_type = BatchType::from_u8(reader.read_u8()?)?;
        let n = usize::from(reader.read_u16()?);
        // A statement takes at least 1 (kind) + 2 (short bytes) + 2 (value count) bytes.
        let mut statements = Vec::with_capacity(n.min(reader.remaining() / 5));
        for _ in 0..n {
            let query = match reader.read_u8()? {
                0 => BatchQuery::Query(reader.read_long_string()?),
                1 => BatchQuery::Prepared(PreparedId(reader.read_short_bytes()?)),
                value => return Err(DecodeError::UnknownBatchStatementKind { value }),
            };
            let count = reader.read_u16()?;
            let values = QueryValues::decode(reader, count, named, version)?;
            statements.push(BatchStatement { query, values });
        }
        let consistency = reader.read_consistency()?;
        let flags = reader.read_u8()?;
        if flags & query_flags::BATCH_FORBIDDEN != 0 {
            return Err(DecodeError::InvalidBatchFlags { flags });
        }
        let serial_consistency = if flags & query_flags::SERIAL_CONSISTENCY != 0 {
            Some(reader.read_consistency()?)
        } else {
            None
        };
        let default_timestamp_micros = if flags & query_flags::DEFAULT_TIMESTAMP != 0 {
            Some(reader.read_i64()?)
        } else {
            None
        };
        Ok((
            Batch {
                batch_type,
                statements,
                consistency,
                serial_consistency,
                default_timestamp_micros,
            },
            flags,
        ))
    }

    fn encode(&self, dst: &mut BytesMut, version: ProtocolVersion) -> Result<(), EncodeError> {
        let named = self.statements.iter().any(|s| s.values.is_named());
        if named
            && self
                .statements
                .iter()
                .any(|s| !s.values.is_named() && !s.values.is_empty())
        {
            return Err(EncodeError::Inconsistent {
                detail: "a BATCH cannot mix named and positional values",
            });
        }
        dst.put_u8(self.batch_type.as_u8());
        wire::write_short_count(dst, "BATCH statements", self.statements.len())?;
        for statement in &self.statements {
            match &statement.query {
                BatchQuery::Query(q) => {
                    dst.put_u8(0);
                    wire::write_long_string(dst, q.as_str())?;
                }
                BatchQuery::Prepared(id) => {
                    dst.put_u8(1);
                    wire::write_short_bytes(dst, id.as_bytes())?;
                }
            }
            statement.values.encode_values(dst, version)?;
        }
        wire::write_consistency(dst, self.consistency);
        let mut flags = 0u8;
        if self.serial_consistency.is_some() {
            flags |= query_flags::SERIAL_CONSISTENCY;
        }
        if self.default_timestamp_micros.is_some() {
            flags |= query_flags::DEFAULT_TIMESTAMP;
        }
        if named {
            flags |= query_flags::NAMES_FOR_VALUES;
        }
        dst.put_u8(flags);
        if let Some(serial) = self.serial_consistency {
            wire::write_consistency(dst, serial);
        }
        if let Some(ts) = self.default_timestamp_micros {
            dst.put_i64(ts);
        }
        Ok(())
    }
}

/// A request body, one variant per request opcode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// STARTUP.
    Startup(Startup),
    /// AUTH_RESPONSE: the SASL token (`[bytes]`, may be null).
    AuthResponse(Option<Bytes>),
    /// OPTIONS (empty body).
    Options,
    /// QUERY.
    Query(Query),
    /// PREPARE.
    Prepare(Prepare),
    /// EXECUTE.
    Execute(Execute),
    /// BATCH.
    Batch(Batch),
    /// REGISTER: event types to push to this connection.
    Register(Vec<EventType>),
}

impl Request {
    /// The opcode of this request.
    pub fn opcode(&self) -> Opcode {
        match self {
            Request::Startup(_) => Opcode::Startup,
            Request::AuthResponse(_) => Opcode::AuthResponse,
            Request::Options => Opcode::Options,
            Request::Query(_) => Opcode::Query,
            Request::Prepare(_) => Opcode::Prepare,
            Request::Execute(_) => Opcode::Execute,
            Request::Batch(_) => Opcode::Batch,
            Request::Register(_) => Opcode::Register,
        }
    }

    /// Decodes a request body (after any custom payload). Trailing bytes are ignored, as the
    /// spec allows.
    pub fn decode_body(
        opcode: Opcode,
        version: ProtocolVersion,
        reader: &mut Reader,
    ) -> Result<Request, DecodeError> {
        Ok(match opcode {
            Opcode::Startup => Request::Startup(Startup {
                options: reader.read_string_map()?,
            }),
            Opcode::AuthResponse => Request::AuthResponse(reader.read_bytes()?),
            Opcode::Options => Request::Options,
            Opcode::Query => {
                let query = reader.read_long_string()?;
                let params = QueryParameters::decode(reader, version)?;
                Request::Query(Query { query, params })
            }
            Opcode::Prepare => Request::Prepare(Prepare {
                query: reader.read_long_string()?,
            }),
            Opcode::Execute => {
                let id = PreparedId(reader.read_short_bytes()?);
                let params = QueryParameters::decode(reader, version)?;
                Request::Execute(Execute { id, params })
            }
            Opcode::Batch => Request::Batch(Batch::decode(reader, version)?),
            Opcode::Register => {
                let names = reader.read_string_list()?;
                let mut types = Vec::with_capacity(names.len());
                for name in names {
                    types.push(EventType::from_name(&name).ok_or(DecodeError::UnknownName {
                        what: "event type",
                        value: name,
                    })?);
                }
                Request::Register(types)
            }
            Opcode::Error
            | Opcode::Ready
            | Opcode::Authenticate
            | Opcode::Supported
            | Opcode::Result
            | Opcode::Event
            | Opcode::AuthChallenge
            | Opcode::AuthSuccess => {
                return Err(DecodeError::UnexpectedOpcode {
                    opcode: opcode.as_u8(),
                    name: opcode.name(),
                    expected: "request",
                })
            }
        })
    }

    /// Appends the request body.
    pub fn encode_body(
        &self,
        dst: &mut BytesMut,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        match self {
            Request::Startup(s) => wire::write_string_map(dst, &s.options),
            Request::AuthResponse(token) => wire::write_bytes(dst, token.as_deref()),
            Request::Options => Ok(()),
            Request::Query(q) => {
                wire::write_long_string(dst, q.query.as_str())?;
                q.params.encode(dst, version)
            }
            Request::Prepare(p) => wire::write_long_string(dst, p.query.as_str()),
            Request::Execute(e) => {
                wire::write_short_bytes(dst, e.id.as_bytes())?;
                e.params.encode(dst, version)
            }
            Request::Batch(b) => b.encode(dst, version),
            Request::Register(types) => {
                let names: Vec<&str> = types.iter().map(|t| t.name()).collect();
                wire::write_string_list(dst, &names)
            }
        }
    }
}

/// A request with its frame-level extras.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMessage {
    /// The TRACING header flag: the client asks for the request to be traced.
    pub tracing: bool,
    /// The custom payload (CUSTOM_PAYLOAD flag, v4+).
    pub custom_payload: Option<BytesMap>,
    /// The request itself.
    pub request: Request,
}

impl RequestMessage {
    /// A request without tracing or custom payload.
    pub fn new(request: Request) -> Self {
        RequestMessage {
            tracing: false,
            custom_payload: None,
            request,
        }
    }

    /// Decodes an (uncompressed) request body given its frame header.
    pub fn decode(header: &FrameHeader, body: Bytes) -> Result<RequestMessage, DecodeError> {
        if header.direction != Direction::Request {
            return Err(DecodeError::WrongDirection {
                expected: Direction::Request.name(),
                got: header.direction.name(),
                opcode: header.opcode.as_u8(),
            });
        }
        let mut reader = Reader::new(body);
        let custom_payload = if header.flags.contains(FrameFlags::CUSTOM_PAYLOAD) {
            if header.version < ProtocolVersion::V4 {
                return Err(DecodeError::NotInVersion {
                    what: "the CUSTOM_PAYLOAD flag",
                    version: header.version.as_u8(),
                });
            }
            Some(reader.read_bytes_map()?)
        } else {
            None
        };
        let request = Request::decode_body(header.opcode, header.version, &mut reader)?;
        Ok(RequestMessage {
            tracing: header.flags.contains(FrameFlags::TRACING),
            custom_payload,
            request,
        })
    }

    /// Appends a complete request frame. STARTUP is never compressed (§5).
    pub fn encode_frame(
        &self,
        dst: &mut BytesMut,
        version: ProtocolVersion,
        stream: StreamId,
        compression: Option<Compression>,
        limits: &FrameLimits,
    ) -> Result<(), EncodeError> {
        if self.custom_payload.is_some() && version < ProtocolVersion::V4 {
            return Err(EncodeError::NotInVersion {
                what: "a custom payload",
                version: version.as_u8(),
            });
        }
        let flags = FrameFlags::default()
            .with(FrameFlags::TRACING, self.tracing)
            .with(FrameFlags::CUSTOM_PAYLOAD, self.custom_payload.is_some());
        let start = dst.len();
        let builder = FrameBuilder::begin(
            dst,
            version,
            Direction::Request,
            flags,
            stream,
            self.request.opcode(),
        );
        let body = (|| {
            if let Some(payload) = &self.custom_payload {
                wire::write_bytes_map(dst, payload)?;
            }
            self.request.encode_body(dst, version)
        })();
        if let Err(e) = body {
            dst.truncate(start);
            return Err(e);
        }
        let compression = compression.filter(|_| !matches!(self.request, Request::Startup(_)));
        builder.finish(dst, compression, limits)
    }
}

/// Decompresses and decodes a request frame. `compression` is the connection's negotiated
/// algorithm (None before STARTUP or when none was chosen).
pub fn decode_request(
    frame: &Frame,
    compression: Option<Compression>,
    limits: &FrameLimits,
) -> Result<RequestMessage, DecodeError> {
    let body = frame.uncompressed_body(compression, limits)?;
    RequestMessage::decode(&frame.header, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4() -> ProtocolVersion {
        ProtocolVersion::V4
    }

    fn body_of(request: &Request) -> Bytes {
        let mut buf = BytesMut::new();
        request.encode_body(&mut buf, v4()).unwrap();
        buf.freeze()
    }

    fn decode(opcode: Opcode, body: Bytes) -> Result<Request, DecodeError> {
        Request::decode_body(opcode, v4(), &mut Reader::new(body))
    }

    #[test]
    fn query_values_iterate_zero_copy() {
        let values = QueryValues::named(
            &[
                ("a", Value::Bytes(Bytes::from_static(b"xy"))),
                ("b", Value::Null),
                ("c", Value::Unset),
            ],
            v4(),
        )
        .unwrap();
        let items: Vec<_> = values.iter().collect();
        assert_eq!(
            items,
            vec![
                (Some("a"), Value::Bytes(Bytes::from_static(b"xy"))),
                (Some("b"), Value::Null),
                (Some("c"), Value::Unset),
            ]
        );
        assert!(QueryValues::positional(&[Value::Unset], ProtocolVersion::V3).is_err());
    }

    #[test]
    fn execute_decodes_all_parameters() {
        let params = QueryParameters {
            consistency: Consistency::LocalQuorum,
            values: QueryValues::positional(
                &[
                    Value::Bytes(Bytes::from_static(&[0, 0, 0, 1])),
                    Value::Null,
                    Value::Unset,
                ],
                v4(),
            )
            .unwrap(),
            skip_metadata: true,
            page_size: Some(5000),
            paging_state: Some(Bytes::from_static(b"state")),
            serial_consistency: Some(Consistency::LocalSerial),
            default_timestamp_micros: Some(1_700_000_000_000_000),
        };
        let request = Request::Execute(Execute {
            id: PreparedId(Bytes::from_static(&[0xAA; 16])),
            params,
        });
        let body = body_of(&request);
        // id, consistency, flags 0x01|0x02|0x04|0x08|0x10|0x20
        assert_eq!(&body[..2], &[0, 16]);
        assert_eq!(&body[18..21], &[0x00, 0x06, 0x3F]);
        assert_eq!(decode(Opcode::Execute, body), Ok(request));
    }

    #[test]
    fn invalid_value_length_rejected() {
        // QUERY "x", ONE, flags VALUES, 1 value of length -3.
        let body = Bytes::from_static(&[0, 0, 0, 1, b'x', 0, 1, 1, 0, 1, 0xFF, 0xFF, 0xFF, 0xFD]);
        assert_eq!(
            decode(Opcode::Query, body),
            Err(DecodeError::InvalidValueLength { length: -3 })
        );
    }

    #[test]
    fn batch_with_and_without_names() {
        for named in [false, true] {
            let values = if named {
                QueryValues::named(&[("k", Value::Bytes(Bytes::from_static(b"1")))], v4()).unwrap()
            } else {
                QueryValues::positional(&[Value::Bytes(Bytes::from_static(b"1"))], v4()).unwrap()
            };
            let batch = Request::Batch(Batch {
                batch_type: BatchType::Unlogged,
                statements: vec![
                    BatchStatement {
                        query: BatchQuery::Query("INSERT INTO t (k) VALUES (:k)".into()),
                        values: values.clone(),
                    },
                    BatchStatement {
                        query: BatchQuery::Prepared(PreparedId(Bytes::from_static(b"id"))),
                        values,
                    },
                ],
                consistency: Consistency::Quorum,
                serial_consistency: Some(Consistency::Serial),
                default_timestamp_micros: Some(42),
            });
            assert_eq!(decode(Opcode::Batch, body_of(&batch)), Ok(batch));
        }
    }

    #[test]
    fn batch_rejects_low_flag_bits_and_bad_kinds() {
        // type 0, 0 statements, consistency ONE, flags 0x04
        let body = Bytes::from_static(&[0, 0, 0, 0, 1, 0x04]);
        assert_eq!(
            decode(Opcode::Batch, body),
            Err(DecodeError::InvalidBatchFlags { flags: 0x04 })
        );
        let body = Bytes::from_static(&[0, 0, 1, 7]);
        assert_eq!(
            decode(Opcode::Batch, body),
            Err(DecodeError::UnknownBatchStatementKind { value: 7 })
        );
        let body = Bytes::from_static(&[3, 0, 0]);
        assert_eq!(
            decode(Opcode::Batch, body),
            Err(DecodeError::UnknownBatchType { value: 3 })
        );
    }

    #[test]
    fn batch_names_flag_without_readable_names() {
        // One statement "q" with one value "ab" and flags 0x40: without names the trailer
        // says names were present; with names "ab" is read as a name and nothing fits.
        let mut buf = BytesMut::new();
        buf.put_u8(0);
        buf.put_u16(1);
        buf.put_u8(0);
        wire::write_long_string(&mut buf, "q").unwrap();
        buf.put_u16(1);
        wire::write_bytes(&mut buf, Some(b"ab")).unwrap();
        wire::write_consistency(&mut buf, Consistency::One);
        buf.put_u8(0x40);
        assert!(decode(Opcode::Batch, buf.freeze()).is_err());
    }

    #[test]
    fn register_and_startup() {
        let register = Request::Register(vec![
            EventType::TopologyChange,
            EventType::StatusChange,
            EventType::SchemaChange,
        ]);
        assert_eq!(decode(Opcode::Register, body_of(&register)), Ok(register));
        let bad = Request::Startup(Startup::default());
        let mut buf = BytesMut::new();
        wire::write_string_list(&mut buf, &["NOPE"]).unwrap();
        assert!(matches!(
            decode(Opcode::Register, buf.freeze()),
            Err(DecodeError::UnknownName {
                what: "event type",
                ..
            })
        ));
        assert_eq!(decode(Opcode::Startup, body_of(&bad)), Ok(bad));

        let startup = Startup {
            options: vec![
                ("CQL_VERSION".into(), "4.0.0".into()),
                ("COMPRESSION".into(), "LZ4".into()),
            ],
        };
        assert_eq!(startup.get(Startup::CQL_VERSION), Some("4.0.0"));
        assert_eq!(startup.compression(), Ok(Some(Compression::Lz4)));
        let zstd = Startup {
            options: vec![("COMPRESSION".into(), "zstd".into())],
        };
        assert!(zstd.compression().is_err());
    }

    #[test]
    fn response_opcodes_are_not_requests() {
        assert!(matches!(
            decode(Opcode::Ready, Bytes::new()),
            Err(DecodeError::UnexpectedOpcode { opcode: 0x02, .. })
        ));
    }
}
