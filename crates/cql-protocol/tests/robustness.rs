//! Hostile input: truncations, random bytes, mutated frames, oversized lengths and corrupt
//! compressed bodies must produce errors or `Ok(None)`, never panics.

mod common;

use bytes::{BufMut, Bytes, BytesMut};
use common::*;
use meridian_cql_protocol::*;
use proptest::prelude::*;

fn limits() -> FrameLimits {
    FrameLimits::default()
}

/// Decodes every frame in `buf` as both a request and a response with every compression.
/// Returns the number of frames seen; panics only if the codec panics.
fn decode_everything(mut buf: BytesMut, limits: &FrameLimits) -> usize {
    let mut frames = 0;
    loop {
        match decode_frame(&mut buf, limits) {
            Ok(Some(frame)) => {
                frames += 1;
                for c in [None, Some(Compression::Lz4), Some(Compression::Snappy)] {
                    if let Ok(request) = decode_request(&frame, c, limits) {
                        assert_reencodes_request(&request, frame.header.version);
                    }
                    // Responses are not re-encoded: v4 has no CAS_WRITE_UNKNOWN body, so a
                    // decoded 0x1700 legitimately re-encodes as a CAS write timeout.
                    let _ = decode_response(&frame, c, limits);
                }
                // Also decode the body as if it had the other direction / opcodes.
                for opcode in 0u8..=0x10 {
                    if let Some(opcode) = Opcode::from_u8(opcode) {
                        for version in [ProtocolVersion::V3, ProtocolVersion::V4] {
                            let _ = Request::decode_body(
                                opcode,
                                version,
                                &mut wire::Reader::new(frame.body.clone()),
                            );
                            let _ = Response::decode_body(
                                opcode,
                                version,
                                &mut wire::Reader::new(frame.body.clone()),
                            );
                        }
                    }
                }
            }
            Ok(None) => return frames,
            Err(e) => {
                let mut reply = BytesMut::new();
                e.encode_reply(&mut reply);
                if e.is_fatal() {
                    return frames;
                }
            }
        }
    }
}

/// Whatever decodes must encode again and decode to the same message.
fn assert_reencodes_request(request: &RequestMessage, version: ProtocolVersion) {
    let mut buf = BytesMut::new();
    request
        .encode_frame(
            &mut buf,
            version,
            StreamId(0),
            None,
            &FrameLimits::default(),
        )
        .expect("a decoded request re-encodes");
    let frame = decode_frame(&mut buf, &FrameLimits::default())
        .expect("re-encoded frame is valid")
        .expect("re-encoded frame is complete");
    let again = decode_request(&frame, None, &FrameLimits::default()).expect("re-decodes");
    assert_eq!(&again, request);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        decode_everything(BytesMut::from(&bytes[..]), &limits());
    }

    #[test]
    fn random_bodies_behind_valid_headers_never_panic(
        version in prop_oneof![Just(0x03u8), Just(0x04u8), Just(0x83u8), Just(0x84u8)],
        flags in any::<u8>(),
        opcode in 0u8..=0x10,
        body in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let mut buf = BytesMut::new();
        buf.put_slice(&[version, flags, 0, 1, opcode]);
        buf.put_u32(body.len() as u32);
        buf.put_slice(&body);
        decode_everything(buf, &limits());
    }

    #[test]
    fn mutated_valid_frames_never_panic(
        (version, message) in version().prop_flat_map(|v| (Just(v), request_message(v))),
        compression in compression(),
        mutations in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut buf = request_frame(&message, version, 3, compression);
        for (index, byte) in mutations {
            let i = index.index(buf.len());
            buf[i] = byte;
        }
        decode_everything(buf, &limits());
    }

    #[test]
    fn mutated_responses_never_panic(
        message in response_message_v4(),
        compression in compression(),
        mutations in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut buf = response_frame(&message, ProtocolVersion::V4, 3, compression);
        for (index, byte) in mutations {
            let i = index.index(buf.len());
            buf[i] = byte;
        }
        decode_everything(buf, &limits());
    }

    /// Every strict prefix of a valid frame is "need more bytes"; every strict prefix of a
    /// valid body fails to decode (no field is optional once the flags are read).
    #[test]
    fn truncated_requests(
        (version, message) in version().prop_flat_map(|v| (Just(v), request_message(v))),
    ) {
        let full = request_frame(&message, version, 1, None);
        for cut in 0..full.len() {
            let mut buf = BytesMut::from(&full[..cut]);
            prop_assert_eq!(decode_frame(&mut buf, &limits()), Ok(None));
            prop_assert_eq!(buf.len(), cut);
        }
        let mut buf = full.clone();
        let frame = decode_frame(&mut buf, &limits()).unwrap().unwrap();
        for cut in 0..frame.body.len() {
            let body = frame.body.slice(..cut);
            prop_assert!(
                RequestMessage::decode(&frame.header, body).is_err(),
                "prefix {} of {:?} decoded", cut, message
            );
        }
    }

    #[test]
    fn truncated_responses(message in response_message_v4()) {
        let full = response_frame(&message, ProtocolVersion::V4, 1, None);
        for cut in 0..full.len() {
            let mut buf = BytesMut::from(&full[..cut]);
            prop_assert_eq!(decode_frame(&mut buf, &limits()), Ok(None));
        }
        let mut buf = full.clone();
        let frame = decode_frame(&mut buf, &limits()).unwrap().unwrap();
        for cut in 0..frame.body.len() {
            prop_assert!(
                ResponseMessage::decode(&frame.header, frame.body.slice(..cut)).is_err(),
                "prefix {} of {:?} decoded", cut, message
            );
        }
    }

    #[test]
    fn compressed_frames_round_trip_and_corruption_is_detected(
        (version, message) in version().prop_flat_map(|v| (Just(v), request_message(v))),
        compression in prop_oneof![Just(Compression::Lz4), Just(Compression::Snappy)],
    ) {
        let mut buf = request_frame(&message, version, 1, Some(compression));
        let frame = decode_frame(&mut buf, &limits()).unwrap().unwrap();
        prop_assert_eq!(decode_request(&frame, Some(compression), &limits()).unwrap(), message);
        if frame.header.flags.contains(FrameFlags::COMPRESSION) {
            // Cutting the compressed body short is always detected.
            let cut = Frame { header: frame.header, body: frame.body.slice(..frame.body.len() - 1) };
            prop_assert!(decode_request(&cut, Some(compression), &limits()).is_err());
            // The wrong algorithm never panics.
            let other = match compression {
                Compression::Lz4 => Compression::Snappy,
                Compression::Snappy => Compression::Lz4,
            };
            let _ = decode_request(&frame, Some(other), &limits());
        }
    }
}

#[test]
fn oversized_length_rejected_before_body_arrives() {
    let limits = FrameLimits {
        max_frame_size_bytes: 64 * 1024,
    };
    let mut buf = BytesMut::new();
    buf.put_slice(&[0x04, 0x00, 0x00, 0x05, 0x07]);
    buf.put_u32(64 * 1024); // 9 + 65536 > 65536
    buf.put_slice(&[0u8; 100]); // part of the body; the rest never needs to arrive
    let err = decode_frame(&mut buf, &limits).unwrap_err();
    assert_eq!(
        err,
        FrameError::FrameTooLarge {
            version: ProtocolVersion::V4,
            stream: StreamId(5),
            frame_bytes: 9 + 64 * 1024,
            max_frame_size_bytes: 64 * 1024,
        }
    );
    assert!(err.is_fatal());
    let mut reply = BytesMut::new();
    err.encode_reply(&mut reply);
    let mut reply_buf = reply.clone();
    let frame = decode_frame(&mut reply_buf, &FrameLimits::default())
        .unwrap()
        .unwrap();
    assert_eq!(frame.header.stream, StreamId(5));
    let response = decode_response(&frame, None, &FrameLimits::default()).unwrap();
    assert_eq!(
        response.response,
        Response::Error(ErrorBody::new(
            ErrorKind::ProtocolError,
            "Request is too big: length 65545 exceeds maximum allowed length 65536."
        ))
    );
}

#[test]
fn decompressed_size_bounded_by_frame_limit() {
    let limits = FrameLimits {
        max_frame_size_bytes: 1024,
    };
    // A QUERY whose body decompresses to 2000 bytes, in a 100-odd byte frame.
    let query = "x".repeat(2000);
    let message = RequestMessage::new(Request::Prepare(Prepare {
        query: query.as_str().into(),
    }));
    for compression in Compression::ALL {
        let mut buf = request_frame(&message, ProtocolVersion::V4, 1, Some(compression));
        assert!(buf.len() < 1024);
        let frame = decode_frame(&mut buf, &limits).unwrap().unwrap();
        assert!(matches!(
            decode_request(&frame, Some(compression), &limits),
            Err(DecodeError::DecompressedTooLarge {
                max_bytes: 1015,
                ..
            })
        ));
        assert!(decode_request(&frame, Some(compression), &FrameLimits::default()).is_ok());
    }
}

#[test]
fn corrupt_lz4_length_prefix() {
    let message = RequestMessage::new(Request::Prepare(Prepare {
        query: "SELECT * FROM ks.t".into(),
    }));
    let mut buf = request_frame(&message, ProtocolVersion::V4, 1, Some(Compression::Lz4));
    let frame = decode_frame(&mut buf, &limits()).unwrap().unwrap();
    let mut body = frame.body.to_vec();
    body[3] = body[3].wrapping_add(1); // announce one byte more than the block holds
    let corrupt = Frame {
        header: frame.header,
        body: Bytes::from(body),
    };
    assert!(matches!(
        decode_request(&corrupt, Some(Compression::Lz4), &limits()),
        Err(DecodeError::CorruptCompressedBody {
            algorithm: "lz4",
            ..
        })
    ));
}

#[test]
fn many_frames_in_one_buffer() {
    let mut buf = BytesMut::new();
    for stream in 0..50 {
        RequestMessage::new(Request::Options)
            .encode_frame(
                &mut buf,
                ProtocolVersion::V4,
                StreamId(stream),
                None,
                &limits(),
            )
            .unwrap();
    }
    buf.put_slice(&[0x04, 0x00]); // a partial 51st header
    assert_eq!(decode_everything(buf.clone(), &limits()), 50);
    for stream in 0..50 {
        let frame = decode_frame(&mut buf, &limits()).unwrap().unwrap();
        assert_eq!(frame.header.stream, StreamId(stream));
    }
    assert_eq!(decode_frame(&mut buf, &limits()), Ok(None));
    assert_eq!(&buf[..], &[0x04, 0x00]);
}
