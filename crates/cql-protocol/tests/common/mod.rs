//! Proptest strategies shared by the integration tests.

#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};

use bytes::{Bytes, BytesMut};
use meridian_cql_protocol::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9_ .]{0,12}",
        1 => "\\PC{0,6}",
    ]
}

pub fn blob() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

pub fn consistency() -> impl Strategy<Value = Consistency> {
    proptest::sample::select(Consistency::ALL_LEVELS.to_vec())
}

pub fn version() -> impl Strategy<Value = ProtocolVersion> {
    prop_oneof![Just(ProtocolVersion::V3), Just(ProtocolVersion::V4)]
}

pub fn compression() -> impl Strategy<Value = Option<Compression>> {
    prop_oneof![
        Just(None),
        Just(Some(Compression::Lz4)),
        Just(Some(Compression::Snappy))
    ]
}

pub fn value(version: ProtocolVersion) -> BoxedStrategy<Value> {
    if version >= ProtocolVersion::V4 {
        prop_oneof![
            4 => blob().prop_map(Value::Bytes),
            1 => Just(Value::Null),
            1 => Just(Value::Unset),
        ]
        .boxed()
    } else {
        prop_oneof![4 => blob().prop_map(Value::Bytes), 1 => Just(Value::Null)].boxed()
    }
}

pub fn query_values(version: ProtocolVersion, named: bool) -> BoxedStrategy<QueryValues> {
    if named {
        vec((text(), value(version)), 0..5)
            .prop_map(move |vs| QueryValues::named(&vs, version).expect("encodable"))
            .boxed()
    } else {
        vec(value(version), 0..5)
            .prop_map(move |vs| QueryValues::positional(&vs, version).expect("encodable"))
            .boxed()
    }
}

pub fn query_parameters(version: ProtocolVersion) -> impl Strategy<Value = QueryParameters> {
    (
        consistency(),
        any::<bool>().prop_flat_map(move |named| query_values(version, named)),
        any::<bool>(),
        option::of(any::<i32>()),
        option::of(blob()),
        option::of(consistency()),
        option::of(any::<i64>()),
    )
        .prop_map(
            |(consistency, values, skip_metadata, page_size, paging_state, serial, ts)| {
                QueryParameters {
                    consistency,
                    values,
                    skip_metadata,
                    page_size,
                    paging_state,
                    serial_consistency: serial,
                    default_timestamp_micros: ts,
                }
            },
        )
}

pub fn prepared_id() -> impl Strategy<Value = PreparedId> {
    vec(any::<u8>(), 0..20).prop_map(|v| PreparedId(Bytes::from(v)))
}

pub fn batch(version: ProtocolVersion) -> impl Strategy<Value = Batch> {
    let statement = move |named: bool| {
        (
            prop_oneof![
                text().prop_map(|q| BatchQuery::Query(q.into())),
                prepared_id().prop_map(BatchQuery::Prepared),
            ],
            query_values(version, named),
        )
            .prop_map(|(query, values)| BatchStatement { query, values })
    };
    (
        prop_oneof![
            Just(BatchType::Logged),
            Just(BatchType::Unlogged),
            Just(BatchType::Counter)
        ],
        any::<bool>().prop_flat_map(move |named| vec(statement(named), 0..4)),
        consistency(),
        option::of(consistency()),
        option::of(any::<i64>()),
    )
        .prop_map(|(batch_type, statements, consistency, serial, ts)| Batch {
            batch_type,
            statements,
            consistency,
            serial_consistency: serial,
            default_timestamp_micros: ts,
        })
}

pub fn request(version: ProtocolVersion) -> impl Strategy<Value = Request> {
    prop_oneof![
        vec((text(), text()), 0..4).prop_map(|options| Request::Startup(Startup { options })),
        option::of(blob()).prop_map(Request::AuthResponse),
        Just(Request::Options),
        (text(), query_parameters(version)).prop_map(|(q, params)| Request::Query(Query {
            query: q.into(),
            params
        })),
        text().prop_map(|q| Request::Prepare(Prepare { query: q.into() })),
        (prepared_id(), query_parameters(version))
            .prop_map(|(id, params)| Request::Execute(Execute { id, params })),
        batch(version).prop_map(Request::Batch),
        vec(proptest::sample::select(EventType::ALL.to_vec()), 0..4).prop_map(Request::Register),
    ]
}

pub fn bytes_map() -> impl Strategy<Value = Vec<(String, Option<Bytes>)>> {
    vec((text(), option::of(blob())), 0..3)
}

pub fn request_message(version: ProtocolVersion) -> impl Strategy<Value = RequestMessage> {
    let payload = if version >= ProtocolVersion::V4 {
        option::of(bytes_map()).boxed()
    } else {
        Just(None).boxed()
    };
    (any::<bool>(), payload, request(version)).prop_map(|(tracing, custom_payload, request)| {
        RequestMessage {
            tracing,
            custom_payload,
            request,
        }
    })
}

pub fn column_type() -> impl Strategy<Value = ColumnTypeSpec> {
    let leaf = prop_oneof![
        "[a-z.]{1,20}"
            .prop_filter("mapped class names normalise", |c| {
                !ColumnTypeSpec::is_mapped_custom_class(c)
            })
            .prop_map(ColumnTypeSpec::Custom),
        proptest::sample::select(vec![
            ColumnTypeSpec::Ascii,
            ColumnTypeSpec::Bigint,
            ColumnTypeSpec::Blob,
            ColumnTypeSpec::Boolean,
            ColumnTypeSpec::Counter,
            ColumnTypeSpec::Decimal,
            ColumnTypeSpec::Double,
            ColumnTypeSpec::Float,
            ColumnTypeSpec::Int,
            ColumnTypeSpec::Timestamp,
            ColumnTypeSpec::Uuid,
            ColumnTypeSpec::Varchar,
            ColumnTypeSpec::Varint,
            ColumnTypeSpec::Timeuuid,
            ColumnTypeSpec::Inet,
            ColumnTypeSpec::Date,
            ColumnTypeSpec::Time,
            ColumnTypeSpec::Smallint,
            ColumnTypeSpec::Tinyint,
            ColumnTypeSpec::Duration,
        ]),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            inner
                .clone()
                .prop_map(|t| ColumnTypeSpec::List(Box::new(t))),
            inner.clone().prop_map(|t| ColumnTypeSpec::Set(Box::new(t))),
            (inner.clone(), inner.clone())
                .prop_map(|(k, v)| ColumnTypeSpec::Map(Box::new(k), Box::new(v))),
            vec(inner.clone(), 0..4).prop_map(ColumnTypeSpec::Tuple),
            (text(), text(), vec((text(), inner), 0..4)).prop_map(|(keyspace, name, fields)| {
                ColumnTypeSpec::Udt(UdtSpec {
                    keyspace,
                    name,
                    fields: fields
                        .into_iter()
                        .map(|(name, field_type)| UdtField { name, field_type })
                        .collect(),
                })
            }),
        ]
    })
}

pub fn column_specs() -> impl Strategy<Value = Vec<ColumnSpec>> {
    // Either one shared table (global table spec) or per-column tables.
    prop_oneof![
        (text(), text(), vec((text(), column_type()), 0..5)).prop_map(|(ks, table, cols)| {
            cols.into_iter()
                .map(|(name, t)| ColumnSpec::new(ks.clone(), table.clone(), name, t))
                .collect()
        }),
        vec((text(), text(), text(), column_type()), 0..5).prop_map(|cols| {
            cols.into_iter()
                .map(|(ks, table, name, t)| ColumnSpec::new(ks, table, name, t))
                .collect()
        }),
    ]
}

pub fn rows_metadata() -> impl Strategy<Value = RowsMetadata> {
    (
        prop_oneof![
            column_specs().prop_map(ResultColumns::Specs),
            (0usize..6).prop_map(|column_count| ResultColumns::NoMetadata { column_count }),
        ],
        option::of(blob()),
    )
        .prop_map(|(columns, paging_state)| RowsMetadata {
            columns,
            paging_state,
        })
}

pub fn rows() -> impl Strategy<Value = Rows> {
    rows_metadata().prop_flat_map(|metadata| {
        let n = metadata.column_count();
        let row_count = if n == 0 { 0..1usize } else { 0..5usize };
        vec(vec(option::of(blob()), n), row_count)
            .prop_map(move |rows| Rows::from_rows(metadata.clone(), rows).expect("consistent rows"))
    })
}

pub fn socket_addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u8; 16]>().prop_map(IpAddr::from),
    ]
    .prop_flat_map(|ip| any::<u16>().prop_map(move |port| SocketAddr::new(ip, port)))
}

pub fn schema_change() -> impl Strategy<Value = SchemaChange> {
    (
        proptest::sample::select(SchemaChangeType::ALL.to_vec()),
        prop_oneof![
            text().prop_map(|keyspace| SchemaChangeTarget::Keyspace { keyspace }),
            (text(), text())
                .prop_map(|(keyspace, table)| SchemaChangeTarget::Table { keyspace, table }),
            (text(), text()).prop_map(|(keyspace, type_name)| SchemaChangeTarget::Type {
                keyspace,
                type_name
            }),
            (text(), text(), vec(text(), 0..3)).prop_map(|(keyspace, name, arg_types)| {
                SchemaChangeTarget::Function {
                    keyspace,
                    name,
                    arg_types,
                }
            }),
            (text(), text(), vec(text(), 0..3)).prop_map(|(keyspace, name, arg_types)| {
                SchemaChangeTarget::Aggregate {
                    keyspace,
                    name,
                    arg_types,
                }
            }),
        ],
    )
        .prop_map(|(change_type, target)| SchemaChange {
            change_type,
            target,
        })
}

pub fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (
            proptest::sample::select(TopologyChangeType::ALL.to_vec()),
            socket_addr()
        )
            .prop_map(|(change, address)| Event::TopologyChange { change, address }),
        (
            proptest::sample::select(StatusChangeType::ALL.to_vec()),
            socket_addr()
        )
            .prop_map(|(change, address)| Event::StatusChange { change, address }),
        schema_change().prop_map(Event::SchemaChange),
    ]
}

/// Error kinds in the form a v4 peer decodes them back to (no CAS_WRITE_UNKNOWN, failure
/// counts rather than endpoint maps).
pub fn error_kind_v4() -> impl Strategy<Value = ErrorKind> {
    let write_type = proptest::sample::select(WriteType::ALL.to_vec());
    prop_oneof![
        Just(ErrorKind::ServerError),
        Just(ErrorKind::ProtocolError),
        Just(ErrorKind::BadCredentials),
        (consistency(), any::<i32>(), any::<i32>()).prop_map(|(consistency, required, alive)| {
            ErrorKind::Unavailable {
                consistency,
                required,
                alive,
            }
        }),
        Just(ErrorKind::Overloaded),
        Just(ErrorKind::IsBootstrapping),
        Just(ErrorKind::TruncateError),
        (
            consistency(),
            any::<i32>(),
            any::<i32>(),
            write_type.clone()
        )
            .prop_map(|(consistency, received, block_for, write_type)| {
                ErrorKind::WriteTimeout {
                    consistency,
                    received,
                    block_for,
                    write_type,
                }
            }),
        (consistency(), any::<i32>(), any::<i32>(), any::<bool>()).prop_map(
            |(consistency, received, block_for, data_present)| ErrorKind::ReadTimeout {
                consistency,
                received,
                block_for,
                data_present
            }
        ),
        (
            consistency(),
            any::<i32>(),
            any::<i32>(),
            any::<i32>(),
            any::<bool>()
        )
            .prop_map(|(consistency, received, block_for, n, data_present)| {
                ErrorKind::ReadFailure {
                    consistency,
                    received,
                    block_for,
                    failures: FailureReasons::Count(n),
                    data_present,
                }
            }),
        (text(), text(), vec(text(), 0..3)).prop_map(|(keyspace, function, arg_types)| {
            ErrorKind::FunctionFailure {
                keyspace,
                function,
                arg_types,
            }
        }),
        (
            consistency(),
            any::<i32>(),
            any::<i32>(),
            any::<i32>(),
            write_type
        )
            .prop_map(|(consistency, received, block_for, n, write_type)| {
                ErrorKind::WriteFailure {
                    consistency,
                    received,
                    block_for,
                    failures: FailureReasons::Count(n),
                    write_type,
                }
            }),
        Just(ErrorKind::CdcWriteFailure),
        Just(ErrorKind::SyntaxError),
        Just(ErrorKind::Unauthorized),
        Just(ErrorKind::Invalid),
        Just(ErrorKind::ConfigError),
        (text(), text()).prop_map(|(keyspace, table)| ErrorKind::AlreadyExists { keyspace, table }),
        prepared_id().prop_map(|id| ErrorKind::Unprepared { id }),
    ]
}

pub fn prepared() -> impl Strategy<Value = Prepared> {
    (
        prepared_id(),
        vec(any::<u16>(), 0..4),
        column_specs(),
        rows_metadata(),
    )
        .prop_map(|(id, pk_indexes, columns, result_metadata)| Prepared {
            id,
            metadata: PreparedMetadata {
                pk_indexes,
                columns,
            },
            result_metadata,
        })
}

/// Responses in v4-canonical form.
pub fn response_v4() -> impl Strategy<Value = Response> {
    prop_oneof![
        (error_kind_v4(), text())
            .prop_map(|(kind, message)| Response::Error(ErrorBody { message, kind })),
        Just(Response::Ready),
        text().prop_map(Response::Authenticate),
        vec((text(), vec(text(), 0..3)), 0..4).prop_map(Response::Supported),
        Just(Response::Result(ResultBody::Void)),
        rows().prop_map(|r| Response::Result(ResultBody::Rows(r))),
        text().prop_map(|k| Response::Result(ResultBody::SetKeyspace(k))),
        prepared().prop_map(|p| Response::Result(ResultBody::Prepared(p))),
        schema_change().prop_map(|c| Response::Result(ResultBody::SchemaChange(c))),
        event().prop_map(Response::Event),
        option::of(blob()).prop_map(Response::AuthChallenge),
        option::of(blob()).prop_map(Response::AuthSuccess),
    ]
}

pub fn response_message_v4() -> impl Strategy<Value = ResponseMessage> {
    (
        option::of(any::<[u8; 16]>()),
        vec(text(), 0..3),
        option::of(bytes_map()),
        response_v4(),
    )
        .prop_map(
            |(tracing_id, warnings, custom_payload, response)| ResponseMessage {
                extras: ResponseExtras {
                    tracing_id,
                    warnings,
                    custom_payload,
                },
                response,
            },
        )
}

/// Encodes a request frame.
pub fn request_frame(
    message: &RequestMessage,
    version: ProtocolVersion,
    stream: i16,
    compression: Option<Compression>,
) -> BytesMut {
    let mut buf = BytesMut::new();
    message
        .encode_frame(
            &mut buf,
            version,
            StreamId(stream),
            compression,
            &FrameLimits::default(),
        )
        .expect("encodable request");
    buf
}

/// Encodes a response frame.
pub fn response_frame(
    message: &ResponseMessage,
    version: ProtocolVersion,
    stream: i16,
    compression: Option<Compression>,
) -> BytesMut {
    let mut buf = BytesMut::new();
    message
        .encode_frame(
            &mut buf,
            version,
            StreamId(stream),
            compression,
            &FrameLimits::default(),
        )
        .expect("encodable response");
    buf
}
