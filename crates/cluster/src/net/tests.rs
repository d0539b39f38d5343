//! Tests of internode messaging over real TCP on 127.0.0.1 (ephemeral ports).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;
use futures::StreamExt;
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};
use tokio_util::codec::{FramedRead, LengthDelimitedCodec};

use super::wire::{self, Header, Hello, HelloReply, Kind, RejectReason};
use super::*;
use crate::ids::HostId;

const ECHO: Verb = Verb(1);
const NEVER: Verb = Verb(2);
const FAIL: Verb = Verb(3);
const PANIC: Verb = Verb(4);
/// Answers with as many bytes as the 8-byte big-endian body says.
const SIZED: Verb = Verb(5);
/// Answers with the body's length as 8 big-endian bytes.
const LEN: Verb = Verb(6);
const UNKNOWN: Verb = Verb(999);

fn host(n: u128) -> HostId {
    HostId(uuid::Uuid::from_u128(n))
}

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn config(cluster: &str, n: u128) -> NetConfig {
    let mut config = NetConfig::new(localhost(), cluster, host(n));
    config.connect_timeout = Duration::from_secs(1);
    config.reconnect_backoff_min = Duration::from_millis(20);
    config.reconnect_backoff_max = Duration::from_millis(200);
    config
}

struct TestHandler {
    requests: AtomicU64,
    last_peer: Mutex<Option<Peer>>,
    oneways: mpsc::UnboundedSender<(Peer, Verb, Bytes)>,
}

impl TestHandler {
    fn new() -> (
        Arc<TestHandler>,
        mpsc::UnboundedReceiver<(Peer, Verb, Bytes)>,
    ) {
        let (tx, rx) = mpsc::unbounded_channel();
        let handler = TestHandler {
            requests: AtomicU64::new(0),
            last_peer: Mutex::new(None),
            oneways: tx,
        };
        (Arc::new(handler), rx)
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

impl MessageHandler for TestHandler {
    fn handle(
        &self,
        from: Peer,
        verb: Verb,
        body: Bytes,
    ) -> BoxFuture<'static, Result<Bytes, RemoteError>> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        *self.last_peer.lock() = Some(from);
        Box::pin(async move {
            match verb {
                ECHO => Ok(body),
                NEVER => std::future::pending().await,
                FAIL => Err(RemoteError::new(
                    RemoteErrorKind::Application(7),
                    "no such thing",
                )),
                PANIC => panic!("deliberate handler panic"),
                SIZED => {
                    let size = <[u8; 8]>::try_from(&body[..])
                        .map(u64::from_be_bytes)
                        .map_err(|_| {
                            RemoteError::new(RemoteErrorKind::InvalidRequest, "need 8 bytes")
                        })?;
                    Ok(Bytes::from(vec![7u8; size as usize]))
                }
                LEN => Ok(Bytes::copy_from_slice(&(body.len() as u64).to_be_bytes())),
                verb => Err(RemoteError::unknown_verb(verb)),
            }
        })
    }

    fn handle_oneway(&self, from: Peer, verb: Verb, body: Bytes) -> BoxFuture<'static, ()> {
        let _ = self.oneways.send((from, verb, body));
        Box::pin(async {})
    }
}

struct Node {
    messaging: Messaging,
    handler: Arc<TestHandler>,
    oneways: mpsc::UnboundedReceiver<(Peer, Verb, Bytes)>,
}

impl Node {
    fn addr(&self) -> SocketAddr {
        self.messaging.local_addr()
    }
}

async fn start_with(config: NetConfig, network: Arc<dyn Network>) -> Node {
    let (handler, oneways) = TestHandler::new();
    let messaging = Messaging::start(config, network, handler.clone())
        .await
        .expect("start messaging");
    Node {
        messaging,
        handler,
        oneways,
    }
}

async fn start(n: u128) -> Node {
    start_with(config("test", n), Arc::new(TokioNetwork)).await
}

async fn echo(from: &Messaging, to: SocketAddr, body: &'static [u8]) -> Result<Bytes, NetError> {
    from.request(to, ECHO, Bytes::from_static(body), Duration::from_secs(5))
        .await
}

/// Polls `condition` every 10 ms for up to `limit`.
async fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    condition()
}

#[tokio::test]
async fn request_response_round_trip() {
    let server = start(1).await;
    let client = start(2).await;
    let answer = echo(&client.messaging, server.addr(), b"hello")
        .await
        .unwrap();
    assert_eq!(&answer[..], b"hello");
    assert_eq!(
        *server.handler.last_peer.lock(),
        Some(Peer {
            host_id: host(2),
            addr: client.addr()
        })
    );
    let stats = client.messaging.stats();
    let peer = stats.peers[&server.addr()];
    assert_eq!(peer.urgent.messages_sent, 1);
    assert_eq!(
        peer.urgent.bytes_sent,
        (wire::FRAME_OVERHEAD_BYTES + 5) as u64
    );
    assert_eq!(peer.messages_received, 1);
    assert_eq!(client.messaging.pending_requests(), 0);
    // An empty body is a valid message too.
    let empty = client
        .messaging
        .request(server.addr(), ECHO, Bytes::new(), Duration::from_secs(5))
        .await
        .unwrap();
    assert!(empty.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_requests_on_both_lanes() {
    let server = start(1).await;
    let client = start(2).await;
    let to = server.addr();
    let requests = (0..600u32).map(|i| {
        let messaging = client.messaging.clone();
        // Every 50th body is above the urgent limit and travels on the bulk lane.
        let size = if i % 50 == 0 { 100 * 1024 } else { 16 };
        let body: Bytes = (0..size).map(|j| (i as usize + j) as u8).collect();
        async move {
            let answer = messaging
                .request(to, ECHO, body.clone(), Duration::from_secs(20))
                .await
                .unwrap();
            assert_eq!(answer, body, "answer to request {i}");
        }
    });
    futures::future::join_all(requests).await;
    assert_eq!(server.handler.requests(), 600);
    assert_eq!(client.messaging.pending_requests(), 0);
    let peer = client.messaging.stats().peers[&to];
    assert_eq!(peer.urgent.messages_sent, 588);
    assert_eq!(peer.bulk.messages_sent, 12);
}

#[tokio::test]
async fn timeout_when_the_handler_never_answers() {
    let mut server_config = config("test", 1);
    server_config.max_inflight_inbound_per_connection = 1;
    let server = start_with(server_config, Arc::new(TokioNetwork)).await;
    let client = start(2).await;
    let started = Instant::now();
    let error = client
        .messaging
        .request(
            server.addr(),
            NEVER,
            Bytes::new(),
            Duration::from_millis(200),
        )
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(
            error,
            NetError::Timeout {
                timeout_ms: 200,
                verb: NEVER,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(elapsed >= Duration::from_millis(200) && elapsed < Duration::from_secs(2));
    assert_eq!(client.messaging.pending_requests(), 0);
    let stats = client.messaging.stats();
    assert_eq!(stats.timeouts, 1);
    assert_eq!(stats.peers[&server.addr()].timeouts, 1);
    // The abandoned handler is dropped at the sender's deadline, freeing the connection's
    // only in-flight slot for the next request.
    assert_eq!(
        &echo(&client.messaging, server.addr(), b"next")
            .await
            .unwrap()[..],
        b"next"
    );
    assert!(server.messaging.stats().handler_expired >= 1);
}

#[tokio::test]
async fn dropping_the_request_future_removes_its_entry() {
    let server = start(1).await;
    let client = start(2).await;
    let request =
        client
            .messaging
            .request(server.addr(), NEVER, Bytes::new(), Duration::from_secs(30));
    let outcome = tokio::time::timeout(Duration::from_millis(100), request).await;
    assert!(outcome.is_err());
    assert_eq!(client.messaging.pending_requests(), 0);
}

#[tokio::test]
async fn remote_errors_are_propagated() {
    let server = start(1).await;
    let client = start(2).await;
    let call = |verb| {
        client
            .messaging
            .request(server.addr(), verb, Bytes::new(), Duration::from_secs(5))
    };
    match call(FAIL).await {
        Err(NetError::Remote { from, verb, error }) => {
            assert_eq!(from, server.addr());
            assert_eq!(verb, FAIL);
            assert_eq!(
                error,
                RemoteError::new(RemoteErrorKind::Application(7), "no such thing")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    match call(UNKNOWN).await {
        Err(NetError::Remote { error, .. }) => {
            assert_eq!(error.kind, RemoteErrorKind::UnknownVerb);
            assert!(error.message.contains("999"), "{}", error.message);
        }
        other => panic!("unexpected {other:?}"),
    }
    // A panicking handler costs its own request only.
    match call(PANIC).await {
        Err(NetError::Remote { error, .. }) => {
            assert_eq!(error.kind, RemoteErrorKind::Internal);
            assert!(error.message.contains("panicked"), "{}", error.message);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        &echo(&client.messaging, server.addr(), b"ok").await.unwrap()[..],
        b"ok"
    );
}

#[tokio::test]
async fn connection_failure_when_nothing_listens() {
    let free = {
        let listener = tokio::net::TcpListener::bind(localhost()).await.unwrap();
        listener.local_addr().unwrap()
    };
    let client = start(2).await;
    for _ in 0..2 {
        let started = Instant::now();
        let error = echo(&client.messaging, free, b"x").await.unwrap_err();
        assert!(
            matches!(error, NetError::ConnectionFailed { to, .. } if to == free),
            "{error:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    let stats = client.messaging.stats();
    assert_eq!(stats.peers[&free].connection_failures, 2);
    assert_eq!(stats.peers[&free].connects, 0);
    assert_eq!(client.messaging.pending_requests(), 0);
}

#[tokio::test]
async fn reconnects_after_the_peer_restarts() {
    let server = start(1).await;
    let addr = server.addr();
    let client = start(2).await;
    assert_eq!(
        &echo(&client.messaging, addr, b"one").await.unwrap()[..],
        b"one"
    );

    server.messaging.shutdown().await;
    drop(server);
    let error = client
        .messaging
        .request(
            addr,
            ECHO,
            Bytes::from_static(b"down"),
            Duration::from_millis(500),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            NetError::ConnectionClosed { .. } | NetError::ConnectionFailed { .. }
        ),
        "{error:?}"
    );

    // A new process on the same address (a new incarnation of the same host id).
    let mut restarted_config = config("test", 1);
    restarted_config.listen = addr;
    let restarted = start_with(restarted_config, Arc::new(TokioNetwork)).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match client
            .messaging
            .request(
                addr,
                ECHO,
                Bytes::from_static(b"two"),
                Duration::from_millis(500),
            )
            .await
        {
            Ok(answer) => {
                assert_eq!(&answer[..], b"two");
                break;
            }
            Err(e) => assert!(Instant::now() < deadline, "no reconnection: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(restarted.handler.requests(), 1);
    assert!(client.messaging.stats().peers[&addr].connects >= 2);
}

#[tokio::test]
async fn reset_connections_reconnects_on_the_next_message() {
    let server = start(1).await;
    let client = start(2).await;
    let addr = server.addr();
    echo(&client.messaging, addr, b"a").await.unwrap();
    // Both lanes connect (the bulk one is warmed by the urgent one).
    assert!(
        eventually(Duration::from_secs(2), || client
            .messaging
            .stats()
            .outbound_open
            == 2)
        .await
    );
    client.messaging.reset_connections(addr);
    assert!(
        eventually(Duration::from_secs(2), || client
            .messaging
            .stats()
            .outbound_open
            == 0)
        .await
    );
    assert_eq!(
        &echo(&client.messaging, addr, b"b").await.unwrap()[..],
        b"b"
    );
    assert!(client.messaging.stats().peers[&addr].connects >= 3);
}

#[tokio::test]
async fn forget_peer_closes_its_connections_and_ends_its_lanes() {
    let server = start(1).await;
    let client = start(2).await;
    let addr = server.addr();
    echo(&client.messaging, addr, b"a").await.unwrap();
    assert!(
        eventually(Duration::from_secs(2), || client
            .messaging
            .stats()
            .outbound_open
            == 2)
        .await
    );
    client.messaging.forget_peer(addr);
    assert!(
        eventually(Duration::from_secs(2), || client
            .messaging
            .stats()
            .outbound_open
            == 0)
        .await
    );
    assert!(!client.messaging.stats().peers.contains_key(&addr));
    // The node may come back later: messages to it start afresh.
    assert_eq!(
        &echo(&client.messaging, addr, b"b").await.unwrap()[..],
        b"b"
    );
    assert_eq!(
        client.messaging.stats().peers[&addr].urgent.messages_sent,
        1
    );
}

/// A network whose outbound streams write at most `bytes_per_sec`.
struct ThrottledNetwork {
    bytes_per_sec: f64,
}

impl Network for ThrottledNetwork {
    fn connect(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Stream>>> {
        let bytes_per_sec = self.bytes_per_sec;
        Box::pin(async move {
            let inner = TokioNetwork.connect(addr).await?;
            Ok(Box::new(ThrottledStream {
                inner,
                bytes_per_sec,
                pause: None,
            }) as Box<dyn Stream>)
        })
    }

    fn bind(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
        TokioNetwork.bind(addr)
    }
}

struct ThrottledStream {
    inner: Box<dyn Stream>,
    bytes_per_sec: f64,
    pause: Option<Pin<Box<Sleep>>>,
}

impl AsyncRead for ThrottledStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ThrottledStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(pause) = self.pause.as_mut() {
            ready!(pause.as_mut().poll(cx));
            self.pause = None;
        }
        let len = buf.len().min(64 * 1024);
        let written = ready!(Pin::new(&mut self.inner).poll_write(cx, &buf[..len]))?;
        let pause = Duration::from_secs_f64(written as f64 / self.bytes_per_sec);
        self.pause = Some(Box::pin(tokio::time::sleep(pause)));
        Poll::Ready(Ok(written))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Sends a 20 MiB request over a 40 MiB/s link and measures a small request's round trip
/// while it is in flight. Returns (small round trip, whether the large one was still in
/// flight when the small one completed).
async fn ack_latency_during_large_message(urgent_max_body_bytes: usize) -> (Duration, bool) {
    let server = start(1).await;
    let mut client_config = config("test", 2);
    client_config.urgent_max_body_bytes = urgent_max_body_bytes;
    let client = start_with(
        client_config,
        Arc::new(ThrottledNetwork {
            bytes_per_sec: 40.0 * 1024.0 * 1024.0,
        }),
    )
    .await;
    let to = server.addr();
    // Connect first, so that connection setup is not measured.
    echo(&client.messaging, to, b"warm up").await.unwrap();

    const LARGE_BYTES: usize = 20 * 1024 * 1024;
    let mut large = Box::pin({
        let messaging = client.messaging.clone();
        async move {
            messaging
                .request(
                    to,
                    LEN,
                    Bytes::from(vec![1u8; LARGE_BYTES]),
                    Duration::from_secs(30),
                )
                .await
        }
    });
    // The first poll queues the large message, so it is ahead of the small one whatever
    // the scheduler does next.
    assert!(futures::poll!(large.as_mut()).is_pending());
    let large = tokio::spawn(large);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let answer = echo(&client.messaging, to, b"ack").await.unwrap();
    let small_round_trip = started.elapsed();
    let large_in_flight = !large.is_finished();
    assert_eq!(&answer[..], b"ack");
    let length = large.await.unwrap().unwrap();
    assert_eq!(&length[..], &(LARGE_BYTES as u64).to_be_bytes());
    (small_round_trip, large_in_flight)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_message_on_the_bulk_lane_does_not_delay_an_ack() {
    let (round_trip, large_in_flight) = ack_latency_during_large_message(64 * 1024).await;
    assert!(
        large_in_flight,
        "the 20 MiB message finished too early to measure anything"
    );
    assert!(
        round_trip < Duration::from_millis(250),
        "small request took {round_trip:?} while a large message was in flight"
    );
    // Control: with one lane for everything, the same ack waits behind the large message.
    let (round_trip, _) = ack_latency_during_large_message(32 * 1024 * 1024).await;
    assert!(
        round_trip > Duration::from_millis(300),
        "the control run did not queue the ack behind the large message ({round_trip:?})"
    );
}

#[tokio::test]
async fn large_responses_travel_on_the_bulk_lane() {
    let server = start(1).await;
    let client = start(2).await;
    let to = server.addr();
    echo(&client.messaging, to, b"connect").await.unwrap();
    assert!(
        eventually(Duration::from_secs(2), || server
            .messaging
            .stats()
            .inbound_open
            == 2)
        .await
    );
    let size: u64 = 1024 * 1024;
    let answer = client
        .messaging
        .request(
            to,
            SIZED,
            Bytes::copy_from_slice(&size.to_be_bytes()),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(answer.len() as u64, size);
    assert!(answer.iter().all(|b| *b == 7));
    let server_view = server.messaging.stats().peers[&client.addr()];
    assert_eq!(server_view.urgent.messages_sent, 1, "the small echo answer");
    assert_eq!(server_view.bulk.messages_sent, 1, "the 1 MiB answer");
}

#[tokio::test]
async fn full_queue_is_overloaded_immediately() {
    // A peer that accepts TCP connections and never answers the handshake: whatever is
    // sent to it stays queued.
    let black_hole = tokio::net::TcpListener::bind(localhost()).await.unwrap();
    let to = black_hole.local_addr().unwrap();
    let mut client_config = config("test", 2);
    client_config.max_queue_bytes_per_lane = 1024 * 1024;
    client_config.connect_timeout = Duration::from_secs(30);
    let client = start_with(client_config, Arc::new(TokioNetwork)).await;

    let body = Bytes::from(vec![0u8; 200 * 1024]);
    for i in 0..5 {
        client
            .messaging
            .send_oneway(to, ECHO, body.clone())
            .unwrap_or_else(|e| panic!("message {i}: {e}"));
    }
    match client.messaging.send_oneway(to, ECHO, body.clone()) {
        Err(NetError::Overloaded {
            to: refused_to,
            lane: Lane::Bulk,
            queued_bytes,
            limit_bytes,
        }) => {
            assert_eq!(refused_to, to);
            assert_eq!(queued_bytes, 5 * (200 * 1024 + wire::FRAME_OVERHEAD_BYTES));
            assert_eq!(limit_bytes, 1024 * 1024);
        }
        other => panic!("unexpected {other:?}"),
    }
    // Requests are refused at once, too, without waiting for their timeout.
    let started = Instant::now();
    let error = client
        .messaging
        .request(to, ECHO, body.clone(), Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(matches!(error, NetError::Overloaded { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(client.messaging.pending_requests(), 0);
    // The urgent lane has its own budget.
    client
        .messaging
        .send_oneway(to, ECHO, Bytes::from_static(b"small"))
        .unwrap();
    let stats = client.messaging.stats();
    assert_eq!(stats.overloaded, 2);
    assert_eq!(stats.peers[&to].dropped, 2);
    client.messaging.shutdown().await;
}

/// Connects to `addr` with a raw socket and completes the handshake.
async fn raw_handshake(addr: SocketAddr, cluster: &str) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let hello = Hello {
        min_version: MIN_PROTOCOL_VERSION,
        max_version: PROTOCOL_VERSION,
        lane: Lane::Urgent,
        host_id: host(77),
        incarnation: 1,
        broadcast: "127.0.0.1:1".parse().unwrap(),
        cluster_name: cluster.into(),
    };
    conn::write_raw_frame(&mut stream, &hello.encode())
        .await
        .unwrap();
    let mut reply = FramedRead::new(&mut stream, wire::handshake_codec());
    let frame = reply.next().await.unwrap().unwrap();
    assert!(matches!(
        HelloReply::decode(&frame).unwrap(),
        HelloReply::Accepted {
            version: PROTOCOL_VERSION,
            ..
        }
    ));
    stream
}

/// Waits until the server closes `stream` (EOF or reset), failing after 3 s.
async fn assert_closed(mut stream: tokio::net::TcpStream, case: &str) {
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "{case}: the connection was not closed");
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

#[tokio::test]
async fn garbage_closes_only_that_connection() {
    let server = start(1).await;
    let client = start(2).await;
    let addr = server.addr();
    echo(&client.messaging, addr, b"before").await.unwrap();

    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "http request",
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        ),
        ("bad magic", frame(b"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")),
        ("truncated hello", frame(b"MRDN\x01\x01")),
    ];
    let mut noise = vec![0u8; 4096];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for byte in noise.iter_mut() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        *byte = seed as u8;
    }
    cases.push(("random bytes", noise));
    for (case, bytes) in cases {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _ = stream.write_all(&bytes).await;
        assert_closed(stream, case).await;
    }

    let mut bad_kind = Header::new(Kind::Request, ECHO, 1, 1000).encode();
    bad_kind[1] = 200;
    let mut bad_version = Header::new(Kind::Request, ECHO, 1, 1000).encode();
    bad_version[0] = 99;
    let after_handshake: Vec<(&str, Vec<u8>)> = vec![
        ("unknown kind", frame(&bad_kind)),
        ("wrong version", frame(&bad_version)),
        ("short header", frame(&[1, 0, 0])),
        (
            "response on an inbound connection",
            frame(&Header::new(Kind::Response, ECHO, 1, 0).encode()),
        ),
        (
            "oversized frame",
            (200u32 * 1024 * 1024).to_be_bytes().to_vec(),
        ),
    ];
    for (case, bytes) in after_handshake {
        let mut stream = raw_handshake(addr, "test").await;
        stream.write_all(&bytes).await.unwrap();
        assert_closed(stream, case).await;
    }

    // A well-formed request over a raw connection is answered: the checks above are not
    // refusing everything.
    let mut stream = raw_handshake(addr, "test").await;
    let mut request = Header::new(Kind::Request, ECHO, 42, 1000).encode().to_vec();
    request.extend_from_slice(b"raw");
    stream.write_all(&frame(&request)).await.unwrap();
    let mut responses = FramedRead::new(&mut stream, LengthDelimitedCodec::new());
    let response = responses.next().await.unwrap().unwrap();
    let (header, body) =
        Header::decode_frame(BytesMut::from(&response[..]), PROTOCOL_VERSION).unwrap();
    assert_eq!(
        (header.kind, header.id, &body[..]),
        (Kind::Response, 42, &b"raw"[..])
    );

    assert_eq!(
        &echo(&client.messaging, addr, b"after").await.unwrap()[..],
        b"after"
    );
    assert_eq!(
        client.messaging.stats().peers[&addr].connects,
        2,
        "client connections survived"
    );
    assert!(server.messaging.stats().protocol_errors >= 9);
}

#[tokio::test]
async fn handshake_with_another_cluster_is_refused() {
    let server = start_with(config("alpha", 1), Arc::new(TokioNetwork)).await;
    let client = start_with(config("beta", 2), Arc::new(TokioNetwork)).await;
    match echo(&client.messaging, server.addr(), b"x").await {
        Err(NetError::HandshakeRejected { to, reason }) => {
            assert_eq!(to, server.addr());
            assert!(
                reason.contains("cluster name mismatch")
                    && reason.contains("'alpha'")
                    && reason.contains("'beta'"),
                "{reason}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(server.handler.requests(), 0);
    assert!(server.messaging.stats().handshakes_refused >= 1);
}

#[tokio::test]
async fn handshake_without_a_common_version_is_refused() {
    let server = start(1).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let hello = Hello {
        min_version: 200,
        max_version: 201,
        lane: Lane::Urgent,
        host_id: host(5),
        incarnation: 1,
        broadcast: "127.0.0.1:1".parse().unwrap(),
        cluster_name: "test".into(),
    };
    conn::write_raw_frame(&mut stream, &hello.encode())
        .await
        .unwrap();
    let mut reply = FramedRead::new(&mut stream, wire::handshake_codec());
    let frame = reply.next().await.unwrap().unwrap();
    match HelloReply::decode(&frame).unwrap() {
        HelloReply::Rejected { reason, message } => {
            assert_eq!(reason, RejectReason::UnsupportedVersion);
            assert!(message.contains("200..=201"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_closed(stream, "after rejection").await;
}

#[tokio::test]
async fn host_id_conflict_is_refused() {
    let server = start(1).await;
    // Another process claiming the server's own host id.
    let impostor = start(1).await;
    match echo(&impostor.messaging, server.addr(), b"x").await {
        Err(NetError::HandshakeRejected { reason, .. }) => {
            assert!(reason.contains("host id"), "{reason}")
        }
        other => panic!("unexpected {other:?}"),
    }
    // A node may still talk to itself.
    assert_eq!(
        &echo(&server.messaging, server.addr(), b"me").await.unwrap()[..],
        b"me"
    );
}

#[tokio::test]
async fn one_way_messages_are_delivered() {
    let mut server = start(1).await;
    let client = start(2).await;
    for i in 0..10u8 {
        client
            .messaging
            .send_oneway(server.addr(), Verb(40), Bytes::from(vec![i]))
            .unwrap();
    }
    let mut received = Vec::new();
    for _ in 0..10 {
        let (peer, verb, body) =
            tokio::time::timeout(Duration::from_secs(5), server.oneways.recv())
                .await
                .unwrap()
                .unwrap();
        assert_eq!(peer.host_id, host(2));
        assert_eq!(verb, Verb(40));
        received.push(body[0]);
    }
    received.sort_unstable();
    assert_eq!(received, (0..10).collect::<Vec<_>>());
}

#[tokio::test]
async fn fault_partition_drops_both_directions_until_healed() {
    let server = start(1).await;
    let client = start(2).await;
    let to = server.addr();
    echo(&client.messaging, to, b"up").await.unwrap();

    // Partitioned on the sender: nothing is sent.
    client.messaging.faults().partition(to);
    let error = client
        .messaging
        .request(
            to,
            ECHO,
            Bytes::from_static(b"x"),
            Duration::from_millis(200),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, NetError::Timeout { .. }), "{error:?}");
    assert_eq!(client.messaging.stats().dropped_by_faults, 1);
    assert_eq!(server.handler.requests(), 1);
    client.messaging.faults().heal(to);
    assert_eq!(
        &echo(&client.messaging, to, b"healed").await.unwrap()[..],
        b"healed"
    );

    // Partitioned on the receiver: the request is dropped on arrival, the handler never runs.
    server.messaging.faults().partition(client.addr());
    let error = client
        .messaging
        .request(
            to,
            ECHO,
            Bytes::from_static(b"x"),
            Duration::from_millis(200),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, NetError::Timeout { .. }), "{error:?}");
    assert_eq!(server.handler.requests(), 2);
    assert_eq!(server.messaging.stats().dropped_by_faults, 1);
    server.messaging.faults().clear();
    assert_eq!(
        &echo(&client.messaging, to, b"again").await.unwrap()[..],
        b"again"
    );
}

#[tokio::test]
async fn fault_latency_delays_messages() {
    let server = start(1).await;
    let client = start(2).await;
    let to = server.addr();
    echo(&client.messaging, to, b"connect").await.unwrap();
    client
        .messaging
        .faults()
        .set_destination(
            to,
            FaultRule::delay(Duration::from_millis(150), Duration::from_millis(20)),
        )
        .unwrap();
    let started = Instant::now();
    echo(&client.messaging, to, b"slow").await.unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(150) && elapsed < Duration::from_secs(1),
        "{elapsed:?}"
    );
    // Response latency applies on the responder's side.
    client.messaging.faults().clear();
    server
        .messaging
        .faults()
        .set_global(FaultRule::delay(Duration::from_millis(150), Duration::ZERO))
        .unwrap();
    let started = Instant::now();
    echo(&client.messaging, to, b"slow answer").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn fault_drop_probability_is_seeded() {
    let mut server = start(1).await;
    let mut client_config = config("test", 2);
    client_config.fault_seed = 99;
    let client = start_with(client_config, Arc::new(TokioNetwork)).await;
    let to = server.addr();
    client
        .messaging
        .faults()
        .set_global(FaultRule::drop(0.5))
        .unwrap();
    for i in 0..100u8 {
        client
            .messaging
            .send_oneway(to, Verb(41), Bytes::from(vec![i]))
            .unwrap();
    }
    let dropped = client.messaging.stats().dropped_by_faults;
    assert!((25..=75).contains(&dropped), "{dropped} of 100 dropped");
    // Everything not dropped arrives, and nothing else.
    let mut delivered = 0;
    while delivered < 100 - dropped {
        tokio::time::timeout(Duration::from_secs(5), server.oneways.recv())
            .await
            .expect("a message that was not dropped")
            .unwrap();
        delivered += 1;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(server.oneways.try_recv().is_err());
    // The same seed makes the same choices.
    let faults = Faults::new(99);
    faults.set_global(FaultRule::drop(0.5)).unwrap();
    let replayed = (0..100)
        .filter(|_| faults.decide(to) == faults::Verdict::Drop)
        .count() as u64;
    assert_eq!(replayed, dropped);
    // Dropping everything: nothing arrives.
    client
        .messaging
        .faults()
        .set_global(FaultRule::drop(1.0))
        .unwrap();
    client
        .messaging
        .send_oneway(to, Verb(41), Bytes::new())
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(server.oneways.try_recv().is_err());
}

/// A fake peer that completes the handshake, then reads and ignores everything: a stalled
/// process (or a network that silently eats packets).
async fn silent_peer() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind(localhost()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut hello = FramedRead::new(&mut stream, wire::handshake_codec());
            if hello.next().await.is_none() {
                continue;
            }
            drop(hello);
            let reply = HelloReply::Accepted {
                version: PROTOCOL_VERSION,
                host_id: host(66),
                incarnation: 1,
                broadcast: addr,
            };
            conn::write_raw_frame(&mut stream, &reply.encode())
                .await
                .unwrap();
            held.push(tokio::spawn(async move {
                let mut sink = [0u8; 4096];
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
            }));
        }
    });
    (addr, task)
}

#[tokio::test]
async fn a_silent_connection_is_closed_by_the_liveness_check() {
    let (addr, peer) = silent_peer().await;
    let mut client_config = config("test", 2);
    client_config.liveness_timeout = Duration::from_millis(400);
    let client = start_with(client_config, Arc::new(TokioNetwork)).await;
    let started = Instant::now();
    let error = client
        .messaging
        .request(
            addr,
            ECHO,
            Bytes::from_static(b"x"),
            Duration::from_secs(10),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, NetError::ConnectionClosed { to } if to == addr),
        "{error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(client.messaging.stats().liveness_closes >= 1);
    peer.abort();
}

#[tokio::test]
async fn idle_healthy_connections_stay_open() {
    let mut server_config = config("test", 1);
    server_config.liveness_timeout = Duration::from_millis(500);
    let server = start_with(server_config, Arc::new(TokioNetwork)).await;
    let mut client_config = config("test", 2);
    client_config.liveness_timeout = Duration::from_millis(500);
    let client = start_with(client_config, Arc::new(TokioNetwork)).await;
    let to = server.addr();
    echo(&client.messaging, to, b"a").await.unwrap();
    // Three liveness timeouts without a message: only pings keep the connections open.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    echo(&client.messaging, to, b"b").await.unwrap();
    assert_eq!(client.messaging.stats().liveness_closes, 0);
    assert_eq!(server.messaging.stats().liveness_closes, 0);
    assert_eq!(
        client.messaging.stats().peers[&to].connects,
        2,
        "one per lane, no reconnects"
    );
}

#[tokio::test]
async fn shutdown_fails_pending_and_later_requests() {
    let server = start(1).await;
    let client = start(2).await;
    let to = server.addr();
    let pending = tokio::spawn({
        let messaging = client.messaging.clone();
        async move {
            messaging
                .request(to, NEVER, Bytes::new(), Duration::from_secs(30))
                .await
        }
    });
    assert!(eventually(Duration::from_secs(2), || server.handler.requests() == 1).await);
    client.messaging.shutdown().await;
    let outcome = tokio::time::timeout(Duration::from_secs(2), pending)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(outcome, Err(NetError::Shutdown)), "{outcome:?}");
    assert!(matches!(
        echo(&client.messaging, to, b"x").await,
        Err(NetError::Shutdown)
    ));
    assert!(matches!(
        client.messaging.send_oneway(to, ECHO, Bytes::new()),
        Err(NetError::Shutdown)
    ));
    // The server sees the client go and closes its side.
    assert!(
        eventually(Duration::from_secs(2), || server
            .messaging
            .stats()
            .inbound_open
            == 0)
        .await
    );
}

#[tokio::test]
async fn oversized_bodies_and_bad_configs_are_refused() {
    let client = start(2).await;
    let body = Bytes::from(vec![0u8; MAX_BODY_BYTES + 1]);
    let error = client
        .messaging
        .request(localhost(), ECHO, body, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(
        matches!(error, NetError::MessageTooLarge { size_bytes, max_bytes }
            if size_bytes == MAX_BODY_BYTES + 1 && max_bytes == MAX_BODY_BYTES),
        "{error:?}"
    );

    let (handler, _) = TestHandler::new();
    let start = |config: NetConfig| {
        let handler = handler.clone();
        async move { Messaging::start(config, Arc::new(TokioNetwork), handler).await }
    };
    let mut empty_name = config("test", 1);
    empty_name.cluster_name.clear();
    assert!(matches!(
        start(empty_name).await,
        Err(NetError::InvalidConfig { .. })
    ));
    let unspecified = NetConfig::new("0.0.0.0:0".parse().unwrap(), "test", host(1));
    match start(unspecified).await {
        Err(NetError::InvalidConfig { reason }) => {
            assert!(reason.contains("broadcast_address"), "{reason}")
        }
        other => panic!("unexpected {other:?}"),
    }
    let mut announced = NetConfig::new("0.0.0.0:0".parse().unwrap(), "test", host(1));
    announced.broadcast_address = Some("127.0.0.1:7000".parse().unwrap());
    let node = start(announced).await.unwrap();
    assert_eq!(node.broadcast_address(), "127.0.0.1:7000".parse().unwrap());
    node.shutdown().await;
    let taken = client.messaging.local_addr();
    assert!(matches!(
        start(NetConfig::new(taken, "test", host(1))).await,
        Err(NetError::Bind { .. })
    ));
}
