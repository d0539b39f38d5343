//! One client connection: a reader loop, a writer task, and a task for each request that
//! does not complete at once.
//!
//! ```text
//!  socket ─read─▶ reader loop ─poll once─▶ done: batch ────┐ (QUERY/PREPARE/EXECUTE/BATCH)
//!                   │          └─pending─▶ request task ───┤
//!                   │ inline: OPTIONS, STARTUP,            ├─▶ bounded queue ─▶ writer task ─write─▶ socket
//!                   │ AUTH_RESPONSE, REGISTER ─────────────┘                      ▲
//!                   └ (first REGISTER) subscription ──────────────────────────────┘ EventBus
//! ```
//!
//! Invariants:
//!
//! * **Framing.** The reader cuts frames with [`decode_frame`]. Fatal framing errors
//!   (unsupported version, frame over the size limit) are answered with the codec's
//!   PROTOCOL_ERROR frame, after which the connection is closed once that reply is flushed.
//!   Non-fatal errors (an unknown opcode, a body that does not decode, a request out of
//!   handshake order, a version different from the connection's first frame) are answered
//!   with a PROTOCOL_ERROR on the frame's stream and the connection carries on, as Cassandra
//!   does for v3/v4: the frame was consumed whole, so framing is intact.
//! * **Ordering.** Handshake messages are processed by the reader itself, in order, so
//!   STARTUP's compression applies to every later frame in both directions. Requests run
//!   concurrently and are answered in completion order.
//! * **Backpressure.** A request takes a per-connection permit before it runs and keeps it
//!   until its response is queued for the writer, or joins the reader's batch of answers
//!   (at most `MAX_BATCH_FRAMES` frames and about `MAX_BATCH_BYTES`, handed to the writer
//!   before the reader reads again or waits for a permit). With
//!   `max_concurrent_requests_per_connection` permits taken the reader stops reading. The
//!   writer queue is bounded by `response_queue_capacity`, so a client that does not read
//!   its responses eventually stops being read from.
//! * **Overload.** A request that cannot get one of the server-wide
//!   `max_concurrent_requests_total` slots is answered OVERLOADED at once.
//! * **Failure isolation.** Nothing here panics on client bytes, and handler panics are
//!   caught ([`catch_unwind`]). A vanished client ends the reader; in-flight requests still
//!   run to completion (their answers are dropped) and then every task of the connection
//!   ends, since each one ends when its input (socket or queue) closes.
//! * **Closing.** The writer sends FIN after its last frame. The reader keeps reading and
//!   discarding until the writer is done, then waits briefly for the client's FIN, so that
//!   closing with unread input does not reset replies the client has not read yet.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use meridian_cql_protocol::frame::HEADER_LENGTH_BYTES;
use meridian_cql_protocol::wire::StringMultimap;
use meridian_cql_protocol::{
    decode_frame, decode_request, Compression, ErrorBody, ErrorKind, Event, EventType, Frame,
    FrameError, FrameLimits, Opcode, ProtocolVersion, Request, Response, ResponseMessage, Startup,
    StreamId,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, error, warn};

use crate::config::ServerConfig;
use crate::events::{EventBus, Registrations};
use crate::handler::{AuthOutcome, RequestContext, RequestHandler, StartupOutcome};
use crate::handshake::{negotiate_startup, HandshakeState};
use crate::stats::{Limiter, LimiterSlot, ServerStats};
use crate::sync::{catch_unwind, catch_unwind_sync, TaskCounter, Trigger};

/// Smallest read the reader asks the socket for.
const MIN_READ_BYTES: usize = 8 * 1024;
/// Largest buffer growth per read while a big frame arrives (the frame itself is bounded by
/// `max_frame_size_bytes`).
const MAX_READ_RESERVE_BYTES: usize = 1024 * 1024;
/// The writer's buffer: small frames are coalesced up to this size per write system call.
const WRITE_BUFFER_BYTES: usize = 64 * 1024;
/// Frames the writer takes from its queue before it flushes, so EVENTs are not starved.
const MAX_FRAMES_PER_FLUSH: usize = 256;
/// Most time the reader spends running requests itself between two socket reads. Requests
/// read after that go straight to tasks of their own, which other workers can take: a busy
/// connection is not held to one core, and later requests of a burst do not queue behind a
/// long run of earlier ones.
const MAX_INLINE_WORK_PER_READ: Duration = Duration::from_millis(1);
/// Most responses the reader batches before handing them to the writer.
const MAX_BATCH_FRAMES: usize = 64;
/// Most response bytes the reader batches before handing them to the writer.
const MAX_BATCH_BYTES: usize = 256 * 1024;
/// Scratch buffer for input discarded while a connection closes.
const DISCARD_BUFFER_BYTES: usize = 8 * 1024;
/// How long a closing connection waits for the client's FIN after sending its own.
const CLOSE_LINGER: Duration = Duration::from_millis(1000);
/// Longest panic or encoding-error text put in a SERVER_ERROR message.
const MAX_ERROR_DETAIL_BYTES: usize = 1024;

/// State shared by the server and all its connections.
pub(crate) struct ServerCore<H: RequestHandler> {
    pub(crate) handler: Arc<H>,
    pub(crate) config: ServerConfig,
    pub(crate) limits: FrameLimits,
    pub(crate) stats: Arc<ServerStats>,
    /// `max_concurrent_requests_total`.
    pub(crate) requests: Limiter,
    pub(crate) bus: EventBus,
    /// The SUPPORTED body.
    pub(crate) supported: StringMultimap,
    /// Fired when shutdown starts: stop accepting and reading; let in-flight requests finish.
    pub(crate) drain: Trigger,
    /// Fired when the grace period is over: cancel everything still running.
    pub(crate) abort: Trigger,
    /// Every task the server spawned (connections, writers, requests).
    pub(crate) tasks: TaskCounter,
}

/// What the reader hands the writer.
enum Outgoing {
    /// An encoded frame.
    Frame(Bytes),
    /// Encoded frames answered by the reader itself, written with one flush.
    Frames(Vec<Bytes>),
    /// Start forwarding events (sent once, on the first REGISTER, before its READY).
    Subscribe(Box<EventSubscription>),
    /// Flush what is queued, then close (after a fatal protocol error).
    Close,
}

/// A connection's view of the event bus.
struct EventSubscription {
    receiver: broadcast::Receiver<Event>,
    registrations: Registrations,
    version: ProtocolVersion,
    compression: Option<Compression>,
}

/// Whether the reader goes on.
#[must_use]
enum Flow {
    Continue,
    Stop,
}

/// Why the reader stopped.
#[derive(Debug)]
enum ReadEnd {
    Eof,
    Io,
    FatalFrameError,
    /// The writer stopped (socket error, event lag, shutdown abort).
    WriterClosed,
    /// Processing a frame found the connection closing or the server draining.
    Stopped,
    Draining,
    HandshakeTimeout,
    IdleTimeout,
}

/// Why the writer stopped.
#[derive(Debug)]
enum WriteEnd {
    /// Every sender is gone and everything was flushed.
    Finished,
    /// [`Outgoing::Close`] was processed.
    Closed,
    /// The client fell behind the event stream by this many events.
    EventLag(u64),
    /// Writing failed (usually: the client went away).
    Io(std::io::Error),
    /// The server's shutdown grace period ran out.
    Aborted,
}

/// Serves one accepted socket until it is closed. `_slot` is its `max_connections` slot.
pub(crate) async fn serve_connection<H: RequestHandler>(
    core: Arc<ServerCore<H>>,
    socket: TcpStream,
    peer: SocketAddr,
    _slot: LimiterSlot,
) {
    if let Err(e) = socket.set_nodelay(core.config.tcp_nodelay) {
        debug!(%peer, error = %e, "cannot set TCP_NODELAY");
    }
    let session = match catch_unwind_sync(|| core.handler.new_session(peer)) {
        Ok(session) => Arc::new(session),
        Err(panic) => {
            core.stats.add_handler_panics(1);
            error!(%peer, %panic, "RequestHandler::new_session panicked; closing the connection");
            return;
        }
    };
    let (mut read_half, write_half) = socket.into_split();
    let (tx, rx) = mpsc::channel(core.config.response_queue_capacity);
    let closed = Trigger::new();
    let writer = core.tasks.spawn(write_loop(
        Arc::clone(&core),
        write_half,
        rx,
        closed.clone(),
        peer,
    ));
    let now = Instant::now();
    let mut connection = Connection {
        permits: Arc::new(Semaphore::new(
            core.config.max_concurrent_requests_per_connection,
        )),
        core: Arc::clone(&core),
        peer,
        session,
        tx,
        closed,
        state: HandshakeState::Uninitialized,
        version: None,
        compression: None,
        registrations: Registrations::default(),
        subscribed: false,
        accepted_at: now,
        last_read_at: now,
        batch: Vec::new(),
        batch_bytes: 0,
        inline_started: None,
    };
    let end = connection.read_loop(&mut read_half).await;
    debug!(%peer, ?end, "connection stopped reading");
    // Releases the reader's queue sender: the writer finishes once in-flight requests have
    // queued their answers.
    drop(connection);
    linger(&core, &mut read_half, writer).await;
}

/// The reader side of a connection.
struct Connection<H: RequestHandler> {
    core: Arc<ServerCore<H>>,
    peer: SocketAddr,
    session: Arc<H::Session>,
    tx: mpsc::Sender<Outgoing>,
    /// Fired by the writer when it stops.
    closed: Trigger,
    /// `max_concurrent_requests_per_connection`.
    permits: Arc<Semaphore>,
    state: HandshakeState,
    /// The version of the first frame; every later frame must use it.
    version: Option<ProtocolVersion>,
    /// Negotiated by STARTUP.
    compression: Option<Compression>,
    registrations: Registrations,
    subscribed: bool,
    accepted_at: Instant,
    last_read_at: Instant,
    /// Responses of requests that completed when the reader first polled them, handed to
    /// the writer together (see [`Connection::dispatch`]).
    batch: Vec<Bytes>,
    batch_bytes: usize,
    /// When the reader first ran a request itself since its last socket read.
    inline_started: Option<Instant>,
}

impl<H: RequestHandler> Connection<H> {
    async fn read_loop(&mut self, reader: &mut OwnedReadHalf) -> ReadEnd {
        let end = self.read_frames(reader).await;
        // Answers already computed still go out, whatever stopped the reader.
        let _ = self.flush_batch().await;
        end
    }

    async fn read_frames(&mut self, reader: &mut OwnedReadHalf) -> ReadEnd {
        let mut buf = BytesMut::with_capacity(MIN_READ_BYTES);
        loop {
            loop {
                match decode_frame(&mut buf, &self.core.limits) {
                    Ok(Some(frame)) => {
                        self.core.stats.add_frames_received(1);
                        if let Flow::Stop = self.on_frame(frame).await {
                            return ReadEnd::Stopped;
                        }
                    }
                    Ok(None) => break,
                    Err(error) => {
                        let flow = self.on_frame_error(&error).await;
                        if error.is_fatal() {
                            return ReadEnd::FatalFrameError;
                        }
                        if let Flow::Stop = flow {
                            return ReadEnd::Stopped;
                        }
                    }
                }
            }
            // Everything buffered is processed: answer it before waiting for more input.
            if let Flow::Stop = self.flush_batch().await {
                return ReadEnd::Stopped;
            }
            self.inline_started = None;
            reserve_for_next_frame(&mut buf);
            let deadline = self.deadline();
            let read = tokio::select! {
                biased;
                _ = self.closed.fired() => return ReadEnd::WriterClosed,
                _ = self.core.drain.fired() => return ReadEnd::Draining,
                _ = sleep_until(deadline) => {
                    match self.on_deadline() {
                        Some(end) => return end,
                        None => continue,
                    }
                }
                read = reader.read_buf(&mut buf) => read,
            };
            match read {
                Ok(0) => return ReadEnd::Eof,
                Ok(n) => {
                    self.core.stats.add_bytes_received(n as u64);
                    self.last_read_at = Instant::now();
                }
                Err(e) => {
                    debug!(peer = %self.peer, error = %e, "read failed");
                    return ReadEnd::Io;
                }
            }
        }
    }

    /// The next handshake or idle deadline, if any applies.
    fn deadline(&self) -> Option<Instant> {
        let config = &self.core.config;
        let handshake = config
            .handshake_timeout_ms
            .filter(|_| self.state != HandshakeState::Ready)
            .map(|ms| self.accepted_at + Duration::from_millis(ms));
        let idle = config
            .idle_timeout_ms
            .map(|ms| self.last_read_at + Duration::from_millis(ms));
        match (handshake, idle) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// A deadline passed: `Some` to close the connection.
    fn on_deadline(&mut self) -> Option<ReadEnd> {
        let now = Instant::now();
        let config = &self.core.config;
        if let Some(ms) = config.handshake_timeout_ms {
            if self.state != HandshakeState::Ready
                && now >= self.accepted_at + Duration::from_millis(ms)
            {
                debug!(peer = %self.peer, "closing connection: handshake not completed in time");
                return Some(ReadEnd::HandshakeTimeout);
            }
        }
        if let Some(ms) = config.idle_timeout_ms {
            if now >= self.last_read_at + Duration::from_millis(ms) {
                if self.requests_in_flight() == 0 {
                    debug!(peer = %self.peer, "closing idle connection");
                    return Some(ReadEnd::IdleTimeout);
                }
                // Busy, not idle: count from now.
                self.last_read_at = now;
            }
        }
        None
    }

    fn requests_in_flight(&self) -> usize {
        self.core
            .config
            .max_concurrent_requests_per_connection
            .saturating_sub(self.permits.available_permits())
    }

    async fn on_frame(&mut self, frame: Frame) -> Flow {
        let header = frame.header;
        match self.version {
            None => self.version = Some(header.version),
            Some(version) if version != header.version => {
                let message = format!(
                    "Invalid message version. Got {} but previous messages on this connection used {}",
                    header.version.supported_name(),
                    version.supported_name()
                );
                return self
                    .reply_protocol_error(header.version, header.stream, message)
                    .await;
            }
            Some(_) => {}
        }
        if let Err(message) = self.state.check(header.opcode) {
            return self
                .reply_protocol_error(header.version, header.stream, message)
                .await;
        }
        match header.opcode {
            Opcode::Query | Opcode::Prepare | Opcode::Execute | Opcode::Batch => {
                self.dispatch(frame).await
            }
            _ => self.handle_inline(frame).await,
        }
    }

    /// Answers a framing error; see the module docs for which ones close the connection.
    async fn on_frame_error(&mut self, error: &FrameError) -> Flow {
        self.core.stats.add_protocol_errors(1);
        self.core.stats.add_error_responses(1);
        match error {
            FrameError::UnsupportedVersion(_) => {
                debug!(peer = %self.peer, %error, "unsupported protocol version")
            }
            FrameError::FrameTooLarge { .. } | FrameError::UnknownOpcode { .. } => {
                warn!(peer = %self.peer, %error, "invalid frame")
            }
        }
        let mut reply = BytesMut::new();
        error.encode_reply(&mut reply);
        let flow = self.send(Outgoing::Frame(reply.freeze())).await;
        if error.is_fatal() {
            let _ = self.send(Outgoing::Close).await;
            return Flow::Stop;
        }
        flow
    }

    /// OPTIONS, STARTUP, AUTH_RESPONSE and REGISTER, processed in order by the reader.
    async fn handle_inline(&mut self, frame: Frame) -> Flow {
        let version = frame.header.version;
        let stream = frame.header.stream;
        // STARTUP is never compressed (§5): compression starts after it.
        let compression = match frame.header.opcode {
            Opcode::Startup => None,
            _ => self.compression,
        };
        let message = match decode_request(&frame, compression, &self.core.limits) {
            Ok(message) => message,
            Err(e) => {
                return self
                    .reply_protocol_error(version, stream, e.to_string())
                    .await
            }
        };
        match message.request {
            Request::Options => {
                let supported = Response::Supported(self.core.supported.clone());
                self.reply(version, stream, supported).await
            }
            Request::Startup(startup) => self.on_startup(version, stream, startup).await,
            Request::AuthResponse(token) => self.on_auth_response(version, stream, token).await,
            Request::Register(types) => self.on_register(version, stream, types).await,
            Request::Query(_) | Request::Prepare(_) | Request::Execute(_) | Request::Batch(_) => {
                // `on_frame` routes these opcodes to `dispatch`.
                self.reply_error(
                    version,
                    stream,
                    ErrorKind::ServerError,
                    "internal error: request routed to the handshake path".to_owned(),
                )
                .await
            }
        }
    }

    async fn on_startup(
        &mut self,
        version: ProtocolVersion,
        stream: StreamId,
        startup: Startup,
    ) -> Flow {
        let compression = match negotiate_startup(&startup) {
            Ok(compression) => compression,
            Err(message) => return self.reply_protocol_error(version, stream, message).await,
        };
        let outcome = match catch_unwind_sync(|| self.core.handler.startup(&self.session, &startup))
        {
            Ok(outcome) => outcome,
            Err(panic) => {
                self.core.stats.add_handler_panics(1);
                error!(peer = %self.peer, %panic, "RequestHandler::startup panicked");
                return self
                    .reply_error(version, stream, ErrorKind::ServerError, panic_text(&panic))
                    .await;
            }
        };
        debug!(peer = %self.peer, ?compression, ?outcome, "STARTUP accepted");
        self.compression = compression;
        let response = match outcome {
            StartupOutcome::Ready => {
                self.state = HandshakeState::Ready;
                Response::Ready
            }
            StartupOutcome::Authenticate { authenticator } => {
                self.state = HandshakeState::Authenticating;
                Response::Authenticate(authenticator)
            }
        };
        self.reply(version, stream, response).await
    }

    async fn on_auth_response(
        &mut self,
        version: ProtocolVersion,
        stream: StreamId,
        token: Option<Bytes>,
    ) -> Flow {
        let core = Arc::clone(&self.core);
        let session = Arc::clone(&self.session);
        let outcome = tokio::select! {
            biased;
            _ = self.closed.fired() => return Flow::Stop,
            _ = core.drain.fired() => return Flow::Stop,
            outcome = catch_unwind(core.handler.authenticate(&session, token)) => outcome,
        };
        let response = match outcome {
            Ok(AuthOutcome::Challenge(token)) => Response::AuthChallenge(token),
            Ok(AuthOutcome::Success(token)) => {
                self.state = HandshakeState::Ready;
                Response::AuthSuccess(token)
            }
            Ok(AuthOutcome::Failure(message)) => {
                return self
                    .reply_error(version, stream, ErrorKind::BadCredentials, message)
                    .await
            }
            Err(panic) => {
                self.core.stats.add_handler_panics(1);
                error!(peer = %self.peer, %panic, "RequestHandler::authenticate panicked");
                return self
                    .reply_error(version, stream, ErrorKind::ServerError, panic_text(&panic))
                    .await;
            }
        };
        self.reply(version, stream, response).await
    }

    async fn on_register(
        &mut self,
        version: ProtocolVersion,
        stream: StreamId,
        types: Vec<EventType>,
    ) -> Flow {
        self.registrations.add(&types);
        if !self.subscribed && !types.is_empty() {
            self.subscribed = true;
            let subscription = EventSubscription {
                receiver: self.core.bus.subscribe(),
                registrations: self.registrations.clone(),
                version,
                compression: self.compression,
            };
            if let Flow::Stop = self.send(Outgoing::Subscribe(Box::new(subscription))).await {
                return Flow::Stop;
            }
        }
        debug!(peer = %self.peer, ?types, "REGISTER");
        self.reply(version, stream, Response::Ready).await
    }

    /// Runs a handler request once the connection has room for it.
    ///
    /// The reader polls the request once itself. Most requests (a single-node write, a
    /// prepared statement found in the cache) complete in that poll: their answers join
    /// [`Connection::batch`], which goes to the writer when the reader has processed all
    /// it read, so a burst of requests costs one hand-off to the writer and one socket
    /// write instead of a task and a wake-up each. A request still waiting after that poll
    /// (replicas, disk reads on the blocking pool) continues in a task of its own and
    /// queues its answer itself, as does every request once the reader has spent
    /// [`MAX_INLINE_WORK_PER_READ`] on requests since it last read the socket.
    async fn dispatch(&mut self, frame: Frame) -> Flow {
        let permits = Arc::clone(&self.permits);
        if permits.available_permits() == 0 {
            // About to wait for a request to finish: let the finished ones go first.
            if let Flow::Stop = self.flush_batch().await {
                return Flow::Stop;
            }
        }
        let permit = tokio::select! {
            biased;
            _ = self.closed.fired() => return Flow::Stop,
            _ = self.core.drain.fired() => return Flow::Stop,
            permit = permits.acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return Flow::Stop,
            },
        };
        let version = frame.header.version;
        let stream = frame.header.stream;
        let Some(slot) = self.core.requests.try_acquire() else {
            self.core.stats.add_requests_overloaded(1);
            let message = format!(
                "Server is in overloaded state: {} requests are already in flight on this node (max_concurrent_requests_total). Retry later or on another node",
                self.core.requests.max()
            );
            return self
                .reply_error(version, stream, ErrorKind::Overloaded, message)
                .await;
        };
        let task = RequestTask {
            core: Arc::clone(&self.core),
            session: Arc::clone(&self.session),
            peer: self.peer,
            compression: self.compression,
            frame,
            permit,
            slot,
        };
        let mut response = Box::pin(task.respond());
        let now = Instant::now();
        let started = *self.inline_started.get_or_insert(now);
        let polled = if now.duration_since(started) < MAX_INLINE_WORK_PER_READ {
            std::future::poll_fn(|cx| Poll::Ready(response.as_mut().poll(cx))).await
        } else {
            Poll::Pending
        };
        match polled {
            Poll::Ready(Some((bytes, permit))) => {
                self.batch_bytes += bytes.len();
                self.batch.push(bytes);
                // The batch is bounded by its own limits (below) instead of the permit.
                drop(permit);
                if self.batch.len() >= MAX_BATCH_FRAMES || self.batch_bytes >= MAX_BATCH_BYTES {
                    return self.flush_batch().await;
                }
                Flow::Continue
            }
            Poll::Ready(None) => Flow::Continue,
            Poll::Pending => {
                self.core.stats.add_requests_in_tasks(1);
                let core = Arc::clone(&self.core);
                let tx = self.tx.clone();
                self.core.tasks.spawn(async move {
                    let Some((bytes, permit)) = response.await else {
                        return;
                    };
                    tokio::select! {
                        biased;
                        _ = core.abort.fired() => {}
                        // A send error means the connection is closing: the answer has
                        // nowhere to go.
                        _ = tx.send(Outgoing::Frame(bytes)) => {}
                    }
                    drop(permit);
                });
                Flow::Continue
            }
        }
    }

    /// Hands the batched responses to the writer.
    async fn flush_batch(&mut self) -> Flow {
        if self.batch.is_empty() {
            return Flow::Continue;
        }
        let frames = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        self.send_now(Outgoing::Frames(frames)).await
    }

    async fn reply_protocol_error(
        &mut self,
        version: ProtocolVersion,
        stream: StreamId,
        message: String,
    ) -> Flow {
        self.core.stats.add_protocol_errors(1);
        debug!(peer = %self.peer, %stream, %message, "protocol error");
        self.reply_error(version, stream, ErrorKind::ProtocolError, message)
            .await
    }

    async fn reply_error(
        &mut self,
        version: ProtocolVersion,
        stream: StreamId,
        kind: ErrorKind,
        message: String,
    ) -> Flow {
        self.reply(
            version,
            stream,
            Response::Error(ErrorBody::new(kind, message)),
        )
        .await
    }

    async fn reply(
        &mut self,
        version: ProtocolVersion,
        stream: StreamId,
        response: Response,
    ) -> Flow {
        let bytes = encode_response(
            &self.core,
            &ResponseMessage::new(response),
            version,
            stream,
            self.compression,
        );
        self.send(Outgoing::Frame(bytes)).await
    }

    /// Queues `outgoing` for the writer after the batched responses.
    async fn send(&mut self, outgoing: Outgoing) -> Flow {
        if let Flow::Stop = self.flush_batch().await {
            return Flow::Stop;
        }
        self.send_now(outgoing).await
    }

    async fn send_now(&self, outgoing: Outgoing) -> Flow {
        tokio::select! {
            biased;
            _ = self.closed.fired() => Flow::Stop,
            sent = self.tx.send(outgoing) => match sent {
                Ok(()) => Flow::Continue,
                Err(_) => Flow::Stop,
            },
        }
    }
}

/// One QUERY/PREPARE/EXECUTE/BATCH (see [`Connection::dispatch`] for where it runs).
struct RequestTask<H: RequestHandler> {
    core: Arc<ServerCore<H>>,
    session: Arc<H::Session>,
    peer: SocketAddr,
    compression: Option<Compression>,
    frame: Frame,
    /// The connection's permit: held until the response is queued.
    permit: OwnedSemaphorePermit,
    /// The server-wide slot: held while the handler runs.
    slot: LimiterSlot,
}

impl<H: RequestHandler> RequestTask<H> {
    /// Runs the request and encodes its answer; `None` if the server's shutdown grace
    /// period ran out first. The permit comes back with the answer: whoever queues the
    /// answer for the writer holds it until then.
    async fn respond(self) -> Option<(Bytes, OwnedSemaphorePermit)> {
        let RequestTask {
            core,
            session,
            peer,
            compression,
            frame,
            permit,
            slot,
        } = self;
        let version = frame.header.version;
        let stream = frame.header.stream;
        let response = match decode_request(&frame, compression, &core.limits) {
            Err(e) => {
                core.stats.add_protocol_errors(1);
                debug!(%peer, %stream, error = %e, "undecodable request body");
                ResponseMessage::new(Response::Error(ErrorBody::new(
                    ErrorKind::ProtocolError,
                    e.to_string(),
                )))
            }
            Ok(message) => {
                drop(frame);
                core.stats.add_requests_handled(1);
                let context = RequestContext {
                    peer,
                    version,
                    stream,
                    tracing: message.tracing,
                    custom_payload: message.custom_payload,
                };
                let handled = tokio::select! {
                    biased;
                    _ = core.abort.fired() => return None,
                    handled = catch_unwind(core.handler.handle(&session, message.request, context)) => handled,
                };
                match handled {
                    Ok(response) => response,
                    Err(panic) => {
                        core.stats.add_handler_panics(1);
                        error!(%peer, %stream, %panic, "request handler panicked");
                        ResponseMessage::new(Response::Error(ErrorBody::new(
                            ErrorKind::ServerError,
                            panic_text(&panic),
                        )))
                    }
                }
            }
        };
        // The handler is done: free the server-wide slot even if the client reads slowly.
        drop(slot);
        let bytes = encode_response(&core, &response, version, stream, compression);
        Some((bytes, permit))
    }
}

/// The SERVER_ERROR message for a caught panic.
fn panic_text(panic: &str) -> String {
    let detail =
        meridian_cql_protocol::wire::truncate_at_char_boundary(panic, MAX_ERROR_DETAIL_BYTES);
    format!("Unexpected server error: {detail}")
}

/// Encodes `response` as a frame. If it cannot be encoded (typically: larger than
/// `max_frame_size_bytes`), a SERVER_ERROR saying why is encoded instead.
fn encode_response<H: RequestHandler>(
    core: &ServerCore<H>,
    response: &ResponseMessage,
    version: ProtocolVersion,
    stream: StreamId,
    compression: Option<Compression>,
) -> Bytes {
    let mut out = BytesMut::new();
    let is_error = matches!(response.response, Response::Error(_));
    match response.encode_frame(&mut out, version, stream, compression, &core.limits) {
        Ok(()) => {
            if is_error {
                core.stats.add_error_responses(1);
            }
            out.freeze()
        }
        Err(e) => {
            error!(%stream, error = %e, "cannot encode a response; answering SERVER_ERROR");
            out.clear();
            let detail = e.to_string();
            let detail = meridian_cql_protocol::wire::truncate_at_char_boundary(
                &detail,
                MAX_ERROR_DETAIL_BYTES,
            );
            let fallback = ResponseMessage::new(Response::Error(ErrorBody::new(
                ErrorKind::ServerError,
                format!("The response could not be encoded: {detail}"),
            )));
            core.stats.add_error_responses(1);
            if let Err(e) =
                fallback.encode_frame(&mut out, version, stream, compression, &core.limits)
            {
                // Only possible with a frame limit below the config minimum.
                error!(%stream, error = %e, "cannot encode the SERVER_ERROR either");
                out.clear();
            }
            out.freeze()
        }
    }
}

/// Makes room for the rest of the frame being received, within
/// [`MIN_READ_BYTES`]..=[`MAX_READ_RESERVE_BYTES`] per read.
fn reserve_for_next_frame(buf: &mut BytesMut) {
    // `decode_frame` checked the announced length against the limit before returning
    // `Ok(None)`, so it may guide the reservation.
    let missing = buf
        .get(5..HEADER_LENGTH_BYTES)
        .and_then(|len| <[u8; 4]>::try_from(len).ok())
        .map(|len| {
            let frame_len = HEADER_LENGTH_BYTES.saturating_add(u32::from_be_bytes(len) as usize);
            frame_len.saturating_sub(buf.len())
        })
        .unwrap_or(0);
    let want = missing.clamp(MIN_READ_BYTES, MAX_READ_RESERVE_BYTES);
    if buf.capacity() - buf.len() < want {
        buf.reserve(want);
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// After the reader stopped: discard input until the writer is done, then wait up to
/// [`CLOSE_LINGER`] for the client's FIN (see the module docs).
async fn linger<H: RequestHandler>(
    core: &ServerCore<H>,
    reader: &mut OwnedReadHalf,
    mut writer: JoinHandle<()>,
) {
    let mut scratch = vec![0u8; DISCARD_BUFFER_BYTES];
    let mut eof = false;
    loop {
        tokio::select! {
            biased;
            _ = core.abort.fired() => return,
            _ = &mut writer => break,
            read = reader.read(&mut scratch), if !eof => match read {
                Ok(0) | Err(_) => eof = true,
                Ok(n) => core.stats.add_bytes_received(n as u64),
            },
        }
    }
    if eof {
        return;
    }
    let wait_for_fin = async {
        loop {
            tokio::select! {
                biased;
                _ = core.abort.fired() => return,
                read = reader.read(&mut scratch) => match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => core.stats.add_bytes_received(n as u64),
                },
            }
        }
    };
    let _ = tokio::time::timeout(CLOSE_LINGER, wait_for_fin).await;
}

/// The writer task: serialises frames and events onto the socket.
async fn write_loop<H: RequestHandler>(
    core: Arc<ServerCore<H>>,
    write_half: OwnedWriteHalf,
    mut rx: mpsc::Receiver<Outgoing>,
    closed: Trigger,
    peer: SocketAddr,
) {
    let mut writer = BufWriter::with_capacity(WRITE_BUFFER_BYTES, write_half);
    let end = tokio::select! {
        biased;
        _ = core.abort.fired() => WriteEnd::Aborted,
        end = pump(&core, &mut writer, &mut rx) => end,
    };
    closed.fire();
    rx.close();
    match &end {
        WriteEnd::EventLag(missed) => {
            core.stats.add_event_lag_disconnects(1);
            warn!(%peer, missed_events = missed, "closing connection: it fell behind the event stream");
        }
        WriteEnd::Io(e) => debug!(%peer, error = %e, "write failed; closing connection"),
        WriteEnd::Finished | WriteEnd::Closed | WriteEnd::Aborted => {
            debug!(%peer, ?end, "writer done")
        }
    }
    if !matches!(end, WriteEnd::Io(_) | WriteEnd::Aborted) {
        // Everything was flushed by `pump`; this sends FIN.
        tokio::select! {
            biased;
            _ = core.abort.fired() => {}
            _ = writer.shutdown() => {}
        }
    }
    // Dropping the write half also shuts the write side down.
}

/// What woke the writer.
enum Next {
    Message(Option<Outgoing>),
    Event(Result<Event, RecvError>),
}

async fn pump<H: RequestHandler>(
    core: &ServerCore<H>,
    writer: &mut BufWriter<OwnedWriteHalf>,
    rx: &mut mpsc::Receiver<Outgoing>,
) -> WriteEnd {
    let mut events: Option<Box<EventSubscription>> = None;
    loop {
        let next = tokio::select! {
            message = rx.recv() => Next::Message(message),
            event = next_event(&mut events) => Next::Event(event),
        };
        let step = match next {
            Next::Message(message) => write_message(core, writer, &mut events, message).await,
            Next::Event(event) => write_event(core, writer, &mut events, event).await,
        };
        if let Some(end) = step {
            return end;
        }
        // Coalesce whatever else is already queued into the same flush.
        for _ in 0..MAX_FRAMES_PER_FLUSH {
            let Ok(message) = rx.try_recv() else { break };
            if let Some(end) = write_message(core, writer, &mut events, Some(message)).await {
                return end;
            }
        }
        if let Err(e) = writer.flush().await {
            return WriteEnd::Io(e);
        }
    }
}

async fn next_event(events: &mut Option<Box<EventSubscription>>) -> Result<Event, RecvError> {
    match events {
        Some(subscription) => subscription.receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// Writes one queued item; `Some` ends the writer.
async fn write_message<H: RequestHandler>(
    core: &ServerCore<H>,
    writer: &mut BufWriter<OwnedWriteHalf>,
    events: &mut Option<Box<EventSubscription>>,
    message: Option<Outgoing>,
) -> Option<WriteEnd> {
    match message {
        Some(Outgoing::Frame(bytes)) => {
            if let Err(e) = writer.write_all(&bytes).await {
                return Some(WriteEnd::Io(e));
            }
            core.stats.add_bytes_sent(bytes.len() as u64);
            None
        }
        Some(Outgoing::Frames(frames)) => {
            for bytes in frames {
                if let Err(e) = writer.write_all(&bytes).await {
                    return Some(WriteEnd::Io(e));
                }
                core.stats.add_bytes_sent(bytes.len() as u64);
            }
            None
        }
        Some(Outgoing::Subscribe(subscription)) => {
            *events = Some(subscription);
            None
        }
        Some(Outgoing::Close) => Some(match writer.flush().await {
            Ok(()) => WriteEnd::Closed,
            Err(e) => WriteEnd::Io(e),
        }),
        None => Some(match writer.flush().await {
            Ok(()) => WriteEnd::Finished,
            Err(e) => WriteEnd::Io(e),
        }),
    }
}

/// Writes one event if the connection registered for its type; `Some` ends the writer.
async fn write_event<H: RequestHandler>(
    core: &ServerCore<H>,
    writer: &mut BufWriter<OwnedWriteHalf>,
    events: &mut Option<Box<EventSubscription>>,
    event: Result<Event, RecvError>,
) -> Option<WriteEnd> {
    let subscription = events.as_ref()?;
    match event {
        Ok(event) => {
            if !subscription.registrations.contains(event.event_type()) {
                return None;
            }
            let mut out = BytesMut::new();
            if let Err(e) = Response::Event(event).encode_frame(
                &mut out,
                subscription.version,
                StreamId::EVENT,
                subscription.compression,
                &core.limits,
            ) {
                error!(error = %e, "cannot encode an EVENT frame; skipping it");
                return None;
            }
            if let Err(e) = writer.write_all(&out).await {
                return Some(WriteEnd::Io(e));
            }
            core.stats.add_events_sent(1);
            core.stats.add_bytes_sent(out.len() as u64);
            None
        }
        Err(RecvError::Lagged(missed)) => Some(WriteEnd::EventLag(missed)),
        Err(RecvError::Closed) => {
            *events = None;
            None
        }
    }
}
