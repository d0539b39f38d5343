//! Feeds arbitrary bytes to `decode_frame`, then decodes every frame's body as a request
//! (with each compression setting) and as a response. Nothing may panic, and a request that
//! decodes must re-encode and decode back to itself.
//!
//! Run with `cargo +nightly fuzz run decode_frame` from `crates/cql-protocol`.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use meridian_cql_protocol::*;

fuzz_target!(|data: &[u8]| {
    let limits = FrameLimits {
        max_frame_size_bytes: 1 << 20,
    };
    let mut buf = BytesMut::from(data);
    loop {
        match decode_frame(&mut buf, &limits) {
            Ok(Some(frame)) => {
                for compression in [None, Some(Compression::Lz4), Some(Compression::Snappy)] {
                    if let Ok(request) = decode_request(&frame, compression, &limits) {
                        let mut out = BytesMut::new();
                        request
                            .encode_frame(
                                &mut out,
                                frame.header.version,
                                StreamId(0),
                                None,
                                &FrameLimits::default(),
                            )
                            .expect("a decoded request re-encodes");
                        let again = decode_frame(&mut out, &FrameLimits::default())
                            .expect("valid")
                            .expect("complete");
                        let again = decode_request(&again, None, &FrameLimits::default())
                            .expect("re-decodes");
                        assert_eq!(again, request);
                    }
                    let _ = decode_response(&frame, compression, &limits);
                }
            }
            Ok(None) => break,
            Err(error) => {
                let mut reply = BytesMut::new();
                error.encode_reply(&mut reply);
                if error.is_fatal() {
                    break;
                }
            }
        }
    }
});
