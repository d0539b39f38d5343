//! Byte-exact frames written out by hand from the v4 spec.

use bytes::{Bytes, BytesMut};
use meridian_cql_protocol::*;

fn limits() -> FrameLimits {
    FrameLimits::default()
}

fn frame(header: [u8; 5], body: &[u8]) -> Vec<u8> {
    let mut out = header.to_vec();
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn string(s: &str) -> Vec<u8> {
    let mut out = (s.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(s.as_bytes());
    out
}

fn encode_response(response: &Response, stream: i16) -> Vec<u8> {
    let mut buf = BytesMut::new();
    response
        .encode_frame(
            &mut buf,
            ProtocolVersion::V4,
            StreamId(stream),
            None,
            &limits(),
        )
        .unwrap();
    buf.to_vec()
}

#[test]
fn startup_cql_version_3_0_0() {
    let mut body = vec![0x00, 0x01];
    body.extend(string("CQL_VERSION"));
    body.extend(string("3.0.0"));
    let bytes = frame([0x04, 0x00, 0x00, 0x00, 0x01], &body);
    assert_eq!(
        &bytes[..9],
        &[0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x16]
    );

    let request = RequestMessage::new(Request::Startup(Startup {
        options: vec![("CQL_VERSION".into(), "3.0.0".into())],
    }));
    let mut encoded = BytesMut::new();
    request
        .encode_frame(
            &mut encoded,
            ProtocolVersion::V4,
            StreamId(0),
            Some(Compression::Lz4),
            &limits(),
        )
        .unwrap();
    assert_eq!(&encoded[..], &bytes[..], "STARTUP is never compressed");

    let mut buf = BytesMut::from(&bytes[..]);
    let f = decode_frame(&mut buf, &limits()).unwrap().unwrap();
    let decoded = decode_request(&f, None, &limits()).unwrap();
    assert_eq!(decoded, request);
    let Request::Startup(startup) = decoded.request else {
        unreachable!()
    };
    assert_eq!(startup.get("CQL_VERSION"), Some("3.0.0"));
}

#[test]
fn ready() {
    assert_eq!(
        encode_response(&Response::Ready, 1),
        [0x84, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00]
    );
}

#[test]
fn error_invalid() {
    let message = "unconfigured table peers_v2";
    let mut body = vec![0x00, 0x00, 0x22, 0x00];
    body.extend(string(message));
    assert_eq!(
        encode_response(
            &Response::Error(ErrorBody::new(ErrorKind::Invalid, message)),
            0x0102
        ),
        frame([0x84, 0x00, 0x01, 0x02, 0x00], &body)
    );
}

#[test]
fn error_write_timeout() {
    let mut body = vec![0x00, 0x00, 0x11, 0x00];
    body.extend(string("timeout"));
    body.extend([0x00, 0x06]); // LOCAL_QUORUM
    body.extend([0, 0, 0, 1, 0, 0, 0, 2]);
    body.extend(string("BATCH_LOG"));
    let response = Response::Error(ErrorBody::new(
        ErrorKind::WriteTimeout {
            consistency: Consistency::LocalQuorum,
            received: 1,
            block_for: 2,
            write_type: WriteType::BatchLog,
        },
        "timeout",
    ));
    assert_eq!(
        encode_response(&response, 5),
        frame([0x84, 0, 0, 5, 0], &body)
    );
}

#[test]
fn error_unprepared_echoes_id() {
    let id = [0xDE, 0xAD, 0xBE, 0xEF];
    let mut body = vec![0x00, 0x00, 0x25, 0x00];
    body.extend(string("unknown"));
    body.extend([0x00, 0x04]);
    body.extend(id);
    let response = Response::Error(ErrorBody::new(
        ErrorKind::Unprepared {
            id: PreparedId(Bytes::copy_from_slice(&id)),
        },
        "unknown",
    ));
    assert_eq!(
        encode_response(&response, 9),
        frame([0x84, 0, 0, 9, 0], &body)
    );
}

#[test]
fn supported() {
    let mut body = vec![0x00, 0x02];
    body.extend(string("CQL_VERSION"));
    body.extend([0x00, 0x01]);
    body.extend(string("3.4.7"));
    body.extend(string("COMPRESSION"));
    body.extend([0x00, 0x00]);
    let response = Response::Supported(vec![
        ("CQL_VERSION".into(), vec!["3.4.7".into()]),
        ("COMPRESSION".into(), vec![]),
    ]);
    assert_eq!(
        encode_response(&response, 0),
        frame([0x84, 0, 0, 0, 0x06], &body)
    );
}

#[test]
fn result_void_and_set_keyspace() {
    assert_eq!(
        encode_response(&Response::Result(ResultBody::Void), 2),
        frame([0x84, 0, 0, 2, 0x08], &[0, 0, 0, 1])
    );
    let mut body = vec![0, 0, 0, 3];
    body.extend(string("ks"));
    assert_eq!(
        encode_response(&Response::Result(ResultBody::SetKeyspace("ks".into())), 2),
        frame([0x84, 0, 0, 2, 0x08], &body)
    );
}

#[test]
fn result_prepared() {
    let prepared = Prepared {
        id: PreparedId(Bytes::from_static(&[1, 2])),
        metadata: PreparedMetadata {
            pk_indexes: vec![0],
            columns: vec![ColumnSpec::new("ks", "t", "k", ColumnTypeSpec::Int)],
        },
        result_metadata: RowsMetadata::no_metadata(0),
    };
    let mut body = vec![0, 0, 0, 4, 0, 2, 1, 2];
    body.extend([0, 0, 0, 1]); // flags: global table spec
    body.extend([0, 0, 0, 1]); // 1 bind marker
    body.extend([0, 0, 0, 1, 0, 0]); // pk_count 1, pk_index 0
    body.extend(string("ks"));
    body.extend(string("t"));
    body.extend(string("k"));
    body.extend([0x00, 0x09]);
    body.extend([0, 0, 0, 4, 0, 0, 0, 0]); // result metadata: No_metadata, 0 columns
    assert_eq!(
        encode_response(&Response::Result(ResultBody::Prepared(prepared)), 3),
        frame([0x84, 0, 0, 3, 0x08], &body)
    );
}

#[test]
fn result_schema_change_and_event() {
    let change = SchemaChange {
        change_type: SchemaChangeType::Created,
        target: SchemaChangeTarget::Table {
            keyspace: "ks".into(),
            table: "t".into(),
        },
    };
    let mut body = vec![0, 0, 0, 5];
    body.extend(string("CREATED"));
    body.extend(string("TABLE"));
    body.extend(string("ks"));
    body.extend(string("t"));
    assert_eq!(
        encode_response(
            &Response::Result(ResultBody::SchemaChange(change.clone())),
            4
        ),
        frame([0x84, 0, 0, 4, 0x08], &body)
    );
    let mut event_body = string("SCHEMA_CHANGE");
    event_body.extend_from_slice(&body[4..]);
    assert_eq!(
        encode_response(&Response::Event(Event::SchemaChange(change)), -1),
        frame([0x84, 0, 0xFF, 0xFF, 0x0C], &event_body)
    );
}

#[test]
fn query_as_python_driver_sends_it() {
    // QUERY "SELECT * FROM system.local WHERE key='local'", LOCAL_ONE,
    // flags PAGE_SIZE|SERIAL|DEFAULT_TIMESTAMP, page size 5000, SERIAL, timestamp 1.
    let text = "SELECT * FROM system.local WHERE key='local'";
    let mut body = (text.len() as u32).to_be_bytes().to_vec();
    body.extend(text.as_bytes());
    body.extend([0x00, 0x0A, 0x34]);
    body.extend(5000i32.to_be_bytes());
    body.extend([0x00, 0x08]);
    body.extend(1i64.to_be_bytes());
    let bytes = frame([0x04, 0x00, 0x00, 0x07, 0x07], &body);
    let mut buf = BytesMut::from(&bytes[..]);
    let f = decode_frame(&mut buf, &limits()).unwrap().unwrap();
    let Request::Query(q) = decode_request(&f, None, &limits()).unwrap().request else {
        panic!("not a query")
    };
    assert_eq!(q.query.as_str(), text);
    assert_eq!(q.params.consistency, Consistency::LocalOne);
    assert_eq!(q.params.page_size, Some(5000));
    assert_eq!(q.params.serial_consistency, Some(Consistency::Serial));
    assert_eq!(q.params.default_timestamp_micros, Some(1));
    assert!(q.params.values.is_empty());
    assert!(!q.params.skip_metadata);
    // Re-encoding gives the same bytes.
    let mut again = BytesMut::new();
    RequestMessage::new(Request::Query(q))
        .encode_frame(
            &mut again,
            ProtocolVersion::V4,
            StreamId(7),
            None,
            &limits(),
        )
        .unwrap();
    assert_eq!(&again[..], &bytes[..]);
}
