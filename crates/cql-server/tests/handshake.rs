//! Handshake, version negotiation, compression and malformed input, over real sockets.

mod common;

use std::time::Duration;

use bytes::BytesMut;
use common::*;
use meridian_cql_protocol::frame::UnsupportedVersion;
use meridian_cql_protocol::*;
use meridian_cql_server::ServerConfig;
use tokio::io::AsyncReadExt;

fn supported() -> Response {
    Response::Supported(vec![
        ("CQL_VERSION".to_owned(), vec!["3.4.7".to_owned()]),
        (
            "COMPRESSION".to_owned(),
            vec!["lz4".to_owned(), "snappy".to_owned()],
        ),
        (
            "PROTOCOL_VERSIONS".to_owned(),
            vec!["3/v3".to_owned(), "4/v4".to_owned()],
        ),
    ])
}

#[tokio::test]
async fn options_startup_ready_then_queries_and_heartbeats() {
    let server = start(config(), TestHandler::new()).await;
    let mut client = Client::connect(server.local_addr()).await;
    assert_eq!(client.request(3, Request::Options).await, supported());
    // The Rust driver sends CQL_VERSION 4.0.0 and unknown keys.
    let startup = startup_request(&[
        ("CQL_VERSION", "4.0.0"),
        ("DRIVER_NAME", "scylla-rust-driver"),
        ("APPLICATION_NAME", "x"),
    ]);
    assert_eq!(client.request(1, startup).await, Response::Ready);
    let rows = client.request(2, query("ECHO hello")).await;
    assert_eq!(texts(&rows), vec!["hello"]);
    // OPTIONS is the drivers' heartbeat once the connection is up.
    assert_eq!(client.request(4, Request::Options).await, supported());
    // The session is per connection and shared by its requests.
    let set = client.request(5, query("USE ks1")).await;
    assert_eq!(set, Response::Result(ResultBody::SetKeyspace("ks1".into())));
    assert_eq!(
        texts(&client.request(6, query("KEYSPACE")).await),
        vec!["ks1"]
    );
    let mut other = Client::ready(server.local_addr()).await;
    assert_eq!(texts(&other.request(1, query("KEYSPACE")).await), vec![""]);
    let snapshot = server.stats().snapshot();
    assert_eq!(snapshot.connections_accepted, 2);
    assert_eq!(snapshot.requests_handled, 4);
    assert_eq!(snapshot.protocol_errors, 0);
    let report = server.shutdown().await.unwrap();
    assert!(report.drained);
}

#[tokio::test]
async fn requests_out_of_handshake_order_are_protocol_errors() {
    let server = start(config(), TestHandler::new()).await;
    let mut client = Client::connect(server.local_addr()).await;
    let (code, message) = error_of(&client.request(7, query("ECHO early")).await);
    assert_eq!(code, ErrorCode::ProtocolError);
    assert_eq!(
        message,
        "Unexpected message QUERY, expecting STARTUP or OPTIONS"
    );
    let register = Request::Register(vec![EventType::SchemaChange]);
    let (code, message) = error_of(&client.request(8, register).await);
    assert_eq!(code, ErrorCode::ProtocolError);
    assert_eq!(
        message,
        "Unexpected message REGISTER, expecting STARTUP or OPTIONS"
    );
    // The connection stays usable.
    client.startup(None).await;
    let again = startup_request(&[("CQL_VERSION", "3.0.0")]);
    let (code, message) = error_of(&client.request(9, again).await);
    assert_eq!(code, ErrorCode::ProtocolError);
    assert_eq!(
        message,
        "Unexpected message STARTUP, the connection is already initialized"
    );
    let (code, _) = error_of(&client.request(10, Request::AuthResponse(None)).await);
    assert_eq!(code, ErrorCode::ProtocolError);
    assert_eq!(
        texts(&client.request(11, query("ECHO ok")).await),
        vec!["ok"]
    );
    assert_eq!(server.stats().snapshot().protocol_errors, 4);
}

#[tokio::test]
async fn startup_options_are_validated_like_cassandra() {
    let server = start(config(), TestHandler::new()).await;
    let mut client = Client::connect(server.local_addr()).await;
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("DRIVER_NAME", "x")], "Missing value CQL_VERSION in STARTUP message"),
        (
            &[("CQL_VERSION", "2.0.0")],
            "CQL version 2.0.0 is not supported by the binary protocol (supported version are >= 3.0.0)",
        ),
        (&[("CQL_VERSION", "abc")], "Invalid version value: abc"),
        (
            &[("CQL_VERSION", "3.0.0"), ("COMPRESSION", "zstd")],
            "Unknown compression algorithm: zstd",
        ),
    ];
    for (stream, (options, expected)) in (1i16..).zip(cases) {
        let (code, message) = error_of(&client.request(stream, startup_request(options)).await);
        assert_eq!(code, ErrorCode::ProtocolError);
        assert_eq!(message, expected);
    }
    let ok = startup_request(&[("CQL_VERSION", "3.4.5")]);
    assert_eq!(client.request(20, ok).await, Response::Ready);
}

#[tokio::test]
async fn authentication_hook_runs_sasl_exchange() {
    let server = start(config(), TestHandler::with_auth()).await;
    let mut client = Client::connect(server.local_addr()).await;
    let startup = startup_request(&[("CQL_VERSION", "3.0.0")]);
    assert_eq!(
        client.request(1, startup).await,
        Response::Authenticate(AUTHENTICATOR.into())
    );
    let (code, message) = error_of(&client.request(2, query("ECHO x")).await);
    assert_eq!(code, ErrorCode::ProtocolError);
    assert_eq!(message, "Unexpected message QUERY, expecting SASL_RESPONSE");
    // Heartbeats are fine while authenticating.
    assert_eq!(client.request(3, Request::Options).await, supported());
    let wrong = Request::AuthResponse(Some(bytes::Bytes::from_static(b"\0user\0nope")));
    let (code, message) = error_of(&client.request(4, wrong).await);
    assert_eq!(code, ErrorCode::BadCredentials);
    assert_eq!(
        message,
        "Provided username user and/or password are incorrect"
    );
    let right = Request::AuthResponse(Some(bytes::Bytes::from_static(b"\0user\0pass")));
    assert_eq!(client.request(5, right).await, Response::AuthSuccess(None));
    assert_eq!(
        texts(&client.request(6, query("ECHO in")).await),
        vec!["in"]
    );
}

/// The exact bytes the codec answers an unsupported version with.
fn expected_version_reply(requested_version: u8, stream: i16) -> Vec<u8> {
    let mut out = BytesMut::new();
    FrameError::UnsupportedVersion(UnsupportedVersion {
        requested_version,
        stream,
    })
    .encode_reply(&mut out);
    out.to_vec()
}

async fn read_to_end(client: &mut Client) -> Vec<u8> {
    let mut all = client.buf.to_vec();
    tokio::time::timeout(TIMEOUT, client.socket.read_to_end(&mut all))
        .await
        .expect("server closes in time")
        .ok();
    all
}

#[tokio::test]
async fn unsupported_versions_get_the_protocol_error_and_are_closed() {
    let server = start(config(), TestHandler::new()).await;
    let addr = server.local_addr();
    // The Python driver's downgrade sequence, each on a new connection: DSE v2, DSE v1, v5
    // (with USE_BETA as it sends it), then v4 which works. Each frame is an OPTIONS.
    for (version_byte, flags) in [(0x42u8, 0u8), (0x41, 0), (0x05, 0x10)] {
        let mut client = Client::connect(addr).await;
        let stream: i16 = 0x0102;
        let mut frame = vec![version_byte, flags];
        frame.extend_from_slice(&stream.to_be_bytes());
        frame.extend_from_slice(&[0x05, 0, 0, 0, 0]);
        client.send_raw(&frame).await;
        let reply = read_to_end(&mut client).await;
        assert_eq!(
            reply,
            expected_version_reply(version_byte, stream),
            "0x{version_byte:02X}"
        );
        let mut buf = BytesMut::from(&reply[..]);
        let frame = decode_frame(&mut buf, &FrameLimits::default())
            .unwrap()
            .unwrap();
        assert_eq!(frame.header.version, ProtocolVersion::V4);
        let response = decode_response(&frame, None, &FrameLimits::default()).unwrap();
        let (code, message) = error_of(&response.response);
        assert_eq!(code, ErrorCode::ProtocolError);
        assert_eq!(
            message,
            format!(
                "Invalid or unsupported protocol version ({version_byte}); the lowest supported version is 3 and the greatest is 4"
            )
        );
        assert!(message
            .to_lowercase()
            .contains("unsupported protocol version"));
    }
    let mut client = Client::connect(addr).await;
    client.startup(None).await;
    // v1/v2 clients are answered in their own 8-byte header.
    for version_byte in [0x01u8, 0x02] {
        let mut client = Client::connect(addr).await;
        client
            .send_raw(&[version_byte, 0, 9, 0x05, 0, 0, 0, 0])
            .await;
        let reply = read_to_end(&mut client).await;
        assert_eq!(reply, expected_version_reply(version_byte, 9));
        assert_eq!(reply[0], 0x80 | version_byte);
    }
    assert_eq!(server.stats().snapshot().protocol_errors, 5);
}

#[tokio::test]
async fn protocol_v3_is_served_and_versions_cannot_change_mid_connection() {
    let server = start(config(), TestHandler::new()).await;
    let mut v3 = Client::connect(server.local_addr()).await;
    v3.version = ProtocolVersion::V3;
    v3.startup(None).await;
    v3.send(1, query("ECHO three")).await;
    let frame = v3.recv_frame().await;
    assert_eq!(frame.header.version, ProtocolVersion::V3);
    assert_eq!(texts(&v3.decode(&frame)), vec!["three"]);

    let mut mixed = Client::ready(server.local_addr()).await;
    mixed.version = ProtocolVersion::V3;
    let (code, message) = error_of(&mixed.request(2, query("ECHO x")).await);
    assert_eq!(code, ErrorCode::ProtocolError);
    assert_eq!(
        message,
        "Invalid message version. Got 3/v3 but previous messages on this connection used 4/v4"
    );
    mixed.version = ProtocolVersion::V4;
    assert_eq!(texts(&mixed.request(3, query("ECHO y")).await), vec!["y"]);
}

#[tokio::test]
async fn lz4_and_snappy_apply_to_both_directions_after_startup() {
    let server = start(config(), TestHandler::new()).await;
    for compression in Compression::ALL {
        let mut client = Client::connect(server.local_addr()).await;
        client.startup(Some(compression)).await;
        // A compressed request carrying a compressible query text.
        let padding = "b".repeat(5000);
        let request = client.encode(1, query(&format!("ECHO {padding}")));
        assert_ne!(
            request[1] & FrameFlags::COMPRESSION,
            0,
            "request compressed"
        );
        assert!(request.len() < 1000);
        client.send_raw(&request).await;
        let frame = client.recv_frame().await;
        assert!(frame.header.flags.contains(FrameFlags::COMPRESSION));
        assert!(
            frame.body.len() < 1000,
            "{compression:?} response compressed"
        );
        assert_eq!(texts(&client.decode(&frame)), vec![padding.clone()]);
        // Large responses too, and every later response (here an error and SUPPORTED).
        client.send(2, query("BIG 100000")).await;
        let frame = client.recv_frame().await;
        assert!(frame.header.flags.contains(FrameFlags::COMPRESSION));
        assert_eq!(texts(&client.decode(&frame))[0].len(), 100_000);
        client.send(3, Request::Options).await;
        let frame = client.recv_frame().await;
        assert!(frame.header.flags.contains(FrameFlags::COMPRESSION));
        assert_eq!(client.decode(&frame), supported());
    }
}

#[tokio::test]
async fn compressed_frame_without_negotiation_is_rejected() {
    let server = start(config(), TestHandler::new()).await;
    let mut client = Client::ready(server.local_addr()).await;
    client.compression = Some(Compression::Lz4);
    let bytes = client.encode(4, query("ECHO z"));
    client.compression = None;
    client.send_raw(&bytes).await;
    let (stream, response) = client.recv().await;
    assert_eq!(stream, StreamId(4));
    let (code, message) = error_of(&response);
    assert_eq!(code, ErrorCode::ProtocolError);
    assert_eq!(
        message,
        "frame has the COMPRESSION flag but no compression was negotiated"
    );
    assert_eq!(texts(&client.request(5, query("ECHO z")).await), vec!["z"]);
}

#[tokio::test]
async fn malformed_input_is_answered_and_never_disturbs_other_connections() {
    let server = start(config(), TestHandler::new()).await;
    let addr = server.local_addr();
    let mut bystander = Client::ready(addr).await;

    // Garbage where a header should be: PROTOCOL_ERROR, then the connection is closed.
    let mut garbage = Client::connect(addr).await;
    garbage.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let reply = read_to_end(&mut garbage).await;
    let mut buf = BytesMut::from(&reply[..]);
    let frame = decode_frame(&mut buf, &FrameLimits::default())
        .unwrap()
        .unwrap();
    let response = decode_response(&frame, None, &FrameLimits::default()).unwrap();
    assert_eq!(error_of(&response.response).0, ErrorCode::ProtocolError);
    assert!(buf.is_empty(), "nothing after the error");

    // A QUERY whose body is cut short: PROTOCOL_ERROR on its stream; framing is intact, so
    // the connection carries on (as Cassandra does for v4).
    let mut client = Client::ready(addr).await;
    let mut truncated = vec![0x04, 0, 0, 5, 0x07, 0, 0, 0, 3];
    truncated.extend_from_slice(&[0, 0, 0]);
    client.send_raw(&truncated).await;
    let (stream, response) = client.recv().await;
    assert_eq!(stream, StreamId(5));
    assert_eq!(error_of(&response).0, ErrorCode::ProtocolError);
    // An undefined opcode: same.
    client
        .send_raw(&[0x04, 0, 0, 6, 0x04, 0, 0, 0, 1, 0xEE])
        .await;
    let (stream, response) = client.recv().await;
    assert_eq!(stream, StreamId(6));
    assert_eq!(
        error_of(&response),
        (ErrorCode::ProtocolError, "Unknown opcode 4".to_owned())
    );
    // A response opcode sent by a client.
    client.send_raw(&[0x04, 0, 0, 7, 0x02, 0, 0, 0, 0]).await;
    let (stream, response) = client.recv().await;
    assert_eq!(stream, StreamId(7));
    assert_eq!(error_of(&response).0, ErrorCode::ProtocolError);
    assert_eq!(
        texts(&client.request(8, query("ECHO still")).await),
        vec!["still"]
    );

    assert_eq!(
        texts(&bystander.request(1, query("ECHO fine")).await),
        vec!["fine"]
    );
}

#[tokio::test]
async fn frames_over_the_limit_are_refused_and_close_the_connection() {
    let limit = 4096;
    let server = start(
        ServerConfig {
            max_frame_size_bytes: limit,
            ..config()
        },
        TestHandler::new(),
    )
    .await;
    let addr = server.local_addr();
    // A frame of exactly the limit is accepted.
    let mut client = Client::ready(addr).await;
    let overhead = client.encode(1, query("VOID ")).len();
    let exact = client.encode(1, query(&format!("VOID {}", "p".repeat(limit - overhead))));
    assert_eq!(exact.len(), limit);
    client.send_raw(&exact).await;
    assert_eq!(client.recv().await.1, Response::Result(ResultBody::Void));
    // A response over the limit becomes a SERVER_ERROR.
    let (code, message) = error_of(&client.request(2, query("BIG 5000")).await);
    assert_eq!(code, ErrorCode::ServerError);
    assert!(
        message.starts_with("The response could not be encoded"),
        "{message}"
    );
    // One byte more is refused from the header alone, before the body is sent.
    let body_len = (limit - 9 + 1) as u32;
    let mut header = vec![0x04, 0, 0, 3, 0x07];
    header.extend_from_slice(&body_len.to_be_bytes());
    client.send_raw(&header).await;
    let (stream, response) = client.recv().await;
    assert_eq!(stream, StreamId(3));
    assert_eq!(
        error_of(&response),
        (
            ErrorCode::ProtocolError,
            format!(
                "Request is too big: length {} exceeds maximum allowed length {limit}.",
                limit + 1
            )
        )
    );
    client.expect_closed().await;
    let mut other = Client::ready(addr).await;
    assert_eq!(texts(&other.request(1, query("ECHO ok")).await), vec!["ok"]);
}

/// Deterministic pseudo-random bytes (SplitMix64).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

#[tokio::test]
async fn random_bytes_never_panic_the_server() {
    static PANICS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        default_hook(info);
    }));
    let server = start(
        meridian_cql_server::ServerConfig {
            max_frame_size_bytes: 64 * 1024,
            ..config()
        },
        TestHandler::new(),
    )
    .await;
    let addr = server.local_addr();
    let ready_prefix = Client::connect(addr)
        .await
        .encode(0, startup_request(&[("CQL_VERSION", "3.0.0")]));
    for seed in 0..120u64 {
        let mut client = Client::connect(addr).await;
        let mut input = Vec::new();
        // Half the connections get past STARTUP first; some noise starts with a valid v4
        // request header so that bodies, not just headers, are exercised.
        if seed % 2 == 0 {
            input.extend_from_slice(&ready_prefix);
        }
        let mut junk = noise(seed, 64 + (seed as usize * 37) % 2000);
        if seed % 3 == 0 {
            let opcode = [0x01u8, 0x05, 0x07, 0x09, 0x0A, 0x0B, 0x0D, 0x0F][(seed % 8) as usize];
            let body_len = (junk.len() - 9) as u32;
            junk[..5].copy_from_slice(&[0x04, (seed % 4) as u8 * 2, 0, 1, opcode]);
            junk[5..9].copy_from_slice(&body_len.to_be_bytes());
        }
        input.extend_from_slice(&junk);
        client.send_raw(&input).await;
        // Read whatever comes back until the server closes or goes quiet.
        let _ = tokio::time::timeout(Duration::from_millis(20), read_to_end(&mut client)).await;
    }
    let mut healthy = Client::ready(addr).await;
    assert_eq!(
        texts(&healthy.request(1, query("ECHO ok")).await),
        vec!["ok"]
    );
    assert_eq!(PANICS.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(server.stats().snapshot().handler_panics, 0);
    assert!(server.stats().snapshot().protocol_errors > 0);
    let _ = std::panic::take_hook();
}
