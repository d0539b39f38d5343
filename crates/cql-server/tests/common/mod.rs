//! A test double handler and a raw CQL client built on the codec, shared by the server tests.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use meridian_cql_protocol::*;
use meridian_cql_server::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// Upper bound for anything a test waits for.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The authenticator class the auth-requiring handler announces.
pub const AUTHENTICATOR: &str = "org.apache.cassandra.auth.PasswordAuthenticator";

/// Answers test commands sent as QUERY text:
///
/// * `ECHO <text>`: one row, one varchar column holding `<text>`.
/// * `SLEEP <ms> <text>`: the same after sleeping.
/// * `WAIT <text>`: counts itself in `entered`, waits for a permit of `gate`, then echoes.
/// * `PANIC`: panics.
/// * `USE <ks>` / `KEYSPACE`: sets / reads the session keyspace.
/// * `BIG <n>`: one cell of `n` bytes.
/// * `VOID ...`: a Void result.
///
/// PREPARE, EXECUTE and BATCH get Void.
pub struct TestHandler {
    pub require_auth: bool,
    pub sessions: AtomicUsize,
    pub entered: AtomicUsize,
    pub finished: AtomicUsize,
    pub gate: Semaphore,
}

pub struct TestSession {
    pub keyspace: Mutex<Option<String>>,
}

impl Default for TestHandler {
    fn default() -> Self {
        TestHandler {
            require_auth: false,
            sessions: AtomicUsize::new(0),
            entered: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            gate: Semaphore::new(0),
        }
    }
}

impl TestHandler {
    pub fn new() -> Arc<TestHandler> {
        Arc::new(TestHandler::default())
    }

    pub fn with_auth() -> Arc<TestHandler> {
        Arc::new(TestHandler {
            require_auth: true,
            ..TestHandler::default()
        })
    }

    /// Lets `n` waiting `WAIT` requests go.
    pub fn release(&self, n: usize) {
        self.gate.add_permits(n);
    }

    /// Waits until `n` `WAIT` requests have reached the handler.
    pub async fn wait_entered(&self, n: usize) {
        eventually(|| self.entered.load(Ordering::SeqCst) >= n).await;
    }
}

pub fn text_rows(values: &[&str]) -> ResponseMessage {
    let metadata = RowsMetadata::new(vec![ColumnSpec::new(
        "test",
        "t",
        "value",
        ColumnTypeSpec::Varchar,
    )]);
    let rows = Rows::from_rows(
        metadata,
        values
            .iter()
            .map(|v| vec![Some(Bytes::copy_from_slice(v.as_bytes()))]),
    )
    .expect("rows");
    ResponseMessage::new(Response::Result(ResultBody::Rows(rows)))
}

impl RequestHandler for TestHandler {
    type Session = TestSession;

    fn new_session(&self, _peer: SocketAddr) -> TestSession {
        self.sessions.fetch_add(1, Ordering::SeqCst);
        TestSession {
            keyspace: Mutex::new(None),
        }
    }

    fn startup(&self, _session: &TestSession, _startup: &Startup) -> StartupOutcome {
        if self.require_auth {
            StartupOutcome::Authenticate {
                authenticator: AUTHENTICATOR.to_owned(),
            }
        } else {
            StartupOutcome::Ready
        }
    }

    async fn authenticate(&self, _session: &TestSession, token: Option<Bytes>) -> AuthOutcome {
        match token.as_deref() {
            Some(b"\0user\0pass") => AuthOutcome::Success(None),
            _ => AuthOutcome::Failure(
                "Provided username user and/or password are incorrect".to_owned(),
            ),
        }
    }

    async fn handle(
        &self,
        session: &TestSession,
        request: Request,
        _context: RequestContext,
    ) -> ResponseMessage {
        let Request::Query(query) = request else {
            return ResponseMessage::new(Response::Result(ResultBody::Void));
        };
        let text = query.query.as_str().to_owned();
        let (command, rest) = text.split_once(' ').unwrap_or((text.as_str(), ""));
        match command {
            "ECHO" => text_rows(&[rest]),
            "SLEEP" => {
                let (ms, tag) = rest.split_once(' ').unwrap_or((rest, ""));
                tokio::time::sleep(Duration::from_millis(ms.parse().expect("ms"))).await;
                text_rows(&[tag])
            }
            // Keeps the thread busy (a statement doing synchronous work) before answering.
            "BUSY" => {
                let (ms, tag) = rest.split_once(' ').unwrap_or((rest, ""));
                std::thread::sleep(Duration::from_millis(ms.parse().expect("ms")));
                text_rows(&[tag])
            }
            "WAIT" => {
                self.entered.fetch_add(1, Ordering::SeqCst);
                self.gate.acquire().await.expect("gate open").forget();
                self.finished.fetch_add(1, Ordering::SeqCst);
                text_rows(&[rest])
            }
            "PANIC" => panic!("test handler panic"),
            "USE" => {
                *session.keyspace.lock().unwrap() = Some(rest.to_owned());
                ResponseMessage::new(Response::Result(ResultBody::SetKeyspace(rest.to_owned())))
            }
            "KEYSPACE" => {
                let ks = session.keyspace.lock().unwrap().clone().unwrap_or_default();
                text_rows(&[&ks])
            }
            "BIG" => {
                let n: usize = rest.parse().expect("size");
                text_rows(&[&"a".repeat(n)])
            }
            "VOID" => ResponseMessage::new(Response::Result(ResultBody::Void)),
            _ => ResponseMessage::new(Response::Error(ErrorBody::new(
                ErrorKind::Invalid,
                format!("unknown test command {command}"),
            ))),
        }
    }
}

/// A server configuration on a free loopback port.
pub fn config() -> ServerConfig {
    ServerConfig::new("127.0.0.1:0".parse().unwrap())
}

pub async fn start(config: ServerConfig, handler: Arc<TestHandler>) -> RunningServer {
    CqlServer::bind(config, handler)
        .await
        .expect("bind")
        .spawn()
}

/// Polls `condition` until it holds (or panics after [`TIMEOUT`]).
pub async fn eventually(mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached in time"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub fn query(text: &str) -> Request {
    Request::Query(Query {
        query: text.into(),
        params: QueryParameters::with_consistency(Consistency::One),
    })
}

pub fn startup_request(options: &[(&str, &str)]) -> Request {
    Request::Startup(Startup {
        options: options
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    })
}

/// The text values of a one-column Rows result.
pub fn texts(response: &Response) -> Vec<String> {
    match response {
        Response::Result(ResultBody::Rows(rows)) => rows
            .rows()
            .into_iter()
            .map(|row| {
                let cell = row.into_iter().next().flatten().expect("non-null cell");
                String::from_utf8(cell.to_vec()).expect("utf-8")
            })
            .collect(),
        other => panic!("expected rows, got {other:?}"),
    }
}

/// The code and message of an ERROR.
pub fn error_of(response: &Response) -> (ErrorCode, String) {
    match response {
        Response::Error(e) => (e.kind.code(), e.message.clone()),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// A raw CQL client speaking through the codec.
pub struct Client {
    pub socket: TcpStream,
    pub buf: BytesMut,
    pub version: ProtocolVersion,
    pub compression: Option<Compression>,
    pub limits: FrameLimits,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let socket = tokio::time::timeout(TIMEOUT, TcpStream::connect(addr))
            .await
            .expect("connect in time")
            .expect("connect");
        Client {
            socket,
            buf: BytesMut::new(),
            version: ProtocolVersion::V4,
            compression: None,
            limits: FrameLimits::default(),
        }
    }

    /// Connects and completes STARTUP (no compression).
    pub async fn ready(addr: SocketAddr) -> Client {
        let mut client = Client::connect(addr).await;
        client.startup(None).await;
        client
    }

    pub fn encode(&self, stream: i16, request: Request) -> BytesMut {
        let mut out = BytesMut::new();
        RequestMessage::new(request)
            .encode_frame(
                &mut out,
                self.version,
                StreamId(stream),
                self.compression,
                &self.limits,
            )
            .expect("encode request");
        out
    }

    pub async fn send(&mut self, stream: i16, request: Request) {
        let bytes = self.encode(stream, request);
        self.send_raw(&bytes).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.socket.write_all(bytes).await.expect("write");
    }

    /// The next frame, or `None` if the server closed the connection.
    pub async fn next_frame(&mut self) -> Option<Frame> {
        tokio::time::timeout(TIMEOUT, self.next_frame_inner())
            .await
            .expect("a frame or EOF in time")
    }

    async fn next_frame_inner(&mut self) -> Option<Frame> {
        loop {
            if let Some(frame) = decode_frame(&mut self.buf, &self.limits).expect("valid frame") {
                return Some(frame);
            }
            match self.socket.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    pub async fn recv_frame(&mut self) -> Frame {
        self.next_frame().await.expect("connection closed early")
    }

    pub fn decode(&self, frame: &Frame) -> Response {
        decode_response(frame, self.compression, &self.limits)
            .expect("decodable response")
            .response
    }

    /// The next response with its stream id.
    pub async fn recv(&mut self) -> (StreamId, Response) {
        let frame = self.recv_frame().await;
        (frame.header.stream, self.decode(&frame))
    }

    /// Sends `request` on `stream` and returns the response, which must come on `stream`.
    pub async fn request(&mut self, stream: i16, request: Request) -> Response {
        self.send(stream, request).await;
        let (got, response) = self.recv().await;
        assert_eq!(got, StreamId(stream), "answer on the request's stream");
        response
    }

    pub async fn startup(&mut self, compression: Option<Compression>) {
        let mut options = vec![("CQL_VERSION", "3.0.0"), ("DRIVER_NAME", "test")];
        if let Some(c) = compression {
            options.push(("COMPRESSION", c.name()));
        }
        let response = self.request(0, startup_request(&options)).await;
        assert_eq!(response, Response::Ready);
        self.compression = compression;
    }

    /// Asserts that no frame arrives within `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        if let Ok(frame) = tokio::time::timeout(wait, self.next_frame_inner()).await {
            panic!("expected nothing, got {frame:?}");
        }
    }

    /// Asserts that the server closes the connection without sending anything more.
    pub async fn expect_closed(&mut self) {
        if let Some(frame) = self.next_frame().await {
            panic!("expected the connection to close, got {frame:?}");
        }
    }
}
