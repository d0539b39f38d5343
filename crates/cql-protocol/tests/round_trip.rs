//! Property tests: every request and response survives encode → frame → decode, in every
//! supported version and with every compression.

mod common;

use bytes::BytesMut;
use common::*;
use meridian_cql_protocol::*;
use proptest::prelude::*;

fn limits() -> FrameLimits {
    FrameLimits::default()
}

fn decode_one(buf: &mut BytesMut) -> Frame {
    let frame = decode_frame(buf, &limits())
        .expect("valid frame")
        .expect("complete frame");
    assert!(buf.is_empty(), "exactly one frame consumed");
    frame
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn request_round_trip(
        (version, message) in version().prop_flat_map(|v| (Just(v), request_message(v))),
        stream in 0i16..=i16::MAX,
        compression in compression(),
    ) {
        let mut buf = request_frame(&message, version, stream, compression);
        let frame = decode_one(&mut buf);
        prop_assert_eq!(frame.header.version, version);
        prop_assert_eq!(frame.header.direction, Direction::Request);
        prop_assert_eq!(frame.header.stream, StreamId(stream));
        prop_assert_eq!(frame.header.opcode, message.request.opcode());
        if matches!(message.request, Request::Startup(_)) {
            prop_assert!(!frame.header.flags.contains(FrameFlags::COMPRESSION));
        }
        let decoded = decode_request(&frame, compression, &limits()).expect("valid body");
        prop_assert_eq!(decoded, message);
    }

    #[test]
    fn response_round_trip_v4(
        message in response_message_v4(),
        stream in any::<i16>(),
        compression in compression(),
    ) {
        let mut buf = response_frame(&message, ProtocolVersion::V4, stream, compression);
        let frame = decode_one(&mut buf);
        prop_assert_eq!(frame.header.direction, Direction::Response);
        prop_assert_eq!(frame.header.stream, StreamId(stream));
        let decoded = decode_response(&frame, compression, &limits()).expect("valid body");
        prop_assert_eq!(decoded, message);
    }

    #[test]
    fn column_types_round_trip(t in column_type(), version in version()) {
        let mut buf = BytesMut::new();
        t.encode(&mut buf, version).unwrap();
        let mut reader = wire::Reader::new(buf.freeze());
        prop_assert_eq!(ColumnTypeSpec::decode(&mut reader), Ok(t));
        prop_assert_eq!(reader.remaining(), 0);
    }

    #[test]
    fn rows_writer_matches_rows_encoding(rows in rows()) {
        // Writing the cells one by one produces the same bytes as encoding decoded Rows.
        let mut direct = BytesMut::new();
        ResultBody::Rows(rows.clone()).encode(&mut direct, ProtocolVersion::V4).unwrap();
        let mut written = BytesMut::new();
        let mut writer = RowsWriter::begin(&mut written, &rows.metadata, ProtocolVersion::V4).unwrap();
        for cell in rows.cells() {
            writer.write_cell(cell.as_deref()).unwrap();
        }
        prop_assert_eq!(writer.finish().unwrap(), rows.rows_count());
        prop_assert_eq!(written, direct);
    }

    #[test]
    fn query_values_iterate_what_was_built(
        values in proptest::collection::vec(value(ProtocolVersion::V4), 0..8),
    ) {
        let qv = QueryValues::positional(&values, ProtocolVersion::V4).unwrap();
        let collected: Vec<Value> = qv.iter().map(|(name, v)| {
            assert!(name.is_none());
            v
        }).collect();
        prop_assert_eq!(collected, values);
    }
}

#[test]
fn v3_downgrades_are_decodable() {
    // Responses that v3 cannot express natively still decode (to their v3 forms).
    let message = ResponseMessage {
        extras: ResponseExtras {
            tracing_id: Some([7; 16]),
            warnings: vec!["dropped in v3".into()],
            custom_payload: Some(vec![("k".into(), None)]),
        },
        response: Response::Result(ResultBody::Rows(
            Rows::from_rows(
                RowsMetadata::new(vec![ColumnSpec::new("ks", "t", "d", ColumnTypeSpec::Date)]),
                vec![vec![None]],
            )
            .unwrap(),
        )),
    };
    let mut buf = response_frame(&message, ProtocolVersion::V3, 1, None);
    let frame = decode_one(&mut buf);
    assert_eq!(frame.header.flags.0, FrameFlags::TRACING);
    let decoded = decode_response(&frame, None, &limits()).unwrap();
    assert_eq!(decoded.extras.tracing_id, Some([7; 16]));
    assert!(decoded.extras.warnings.is_empty());
    assert_eq!(decoded.response, message.response);
}
