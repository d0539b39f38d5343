//! Inbound connections: the accept loop, the acceptor's half of the handshake, reading
//! requests and one-way messages, running handlers, and routing responses.
//!
//! - At most [`NetConfig::max_inbound_connections`](super::NetConfig) are served; more are
//!   closed at accept.
//! - A connection that does not complete its handshake within the connect timeout, sends a
//!   malformed frame, or stays silent past the liveness timeout is closed; nothing it sends
//!   can panic the node.
//! - Each connection has at most `max_inflight_inbound_per_connection` handlers running; at
//!   the limit it is not read (TCP backpressure reaches the sender).
//! - A response travels on the sender's connection of its size class: the peer's urgent and
//!   bulk connections of the same incarnation are paired here, so a large response never
//!   delays an ack. Without the matching connection it goes back on the one the request
//!   came on.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use parking_lot::Mutex;
use tokio::io::{BufWriter, ReadHalf};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::codec::{FramedRead, LengthDelimitedCodec};
use tokio_util::sync::CancellationToken;

use super::conn::{
    pump, write_raw_frame, FrameSink, Liveness, OutFrame, ProgressReader, Signal, WriterContext,
    WRITE_BUFFER_BYTES,
};
use super::error::RemoteError;
use super::faults::Verdict;
use super::messaging::Inner;
use super::stats::{bump, GaugeGuard, PeerCounters};
use super::transport::{Listener, Stream};
use super::wire::{
    handshake_codec, Header, Hello, HelloReply, Kind, RejectReason, MAX_BODY_BYTES,
    MAX_FRAME_BYTES, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION,
};
use super::{Lane, Peer};
use crate::ids::HostId;

type FrameReader = FramedRead<ProgressReader<ReadHalf<Box<dyn Stream>>>, LengthDelimitedCodec>;

/// Pause after a failed accept (e.g. out of file descriptors) before trying again.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
/// The longest error message sent back in an error response, in bytes.
const MAX_REMOTE_ERROR_MESSAGE_BYTES: usize = 64 * 1024;

/// A peer process: its host id and incarnation.
type PeerKey = (HostId, u64);

/// An inbound connection's serial number and writer queue.
type ConnWriter = (u64, mpsc::UnboundedSender<OutFrame>);

/// The writers of each peer process's inbound connections, by lane, for response routing.
#[derive(Default)]
pub(crate) struct InboundPairs {
    map: Mutex<HashMap<PeerKey, [Option<ConnWriter>; 2]>>,
}

impl InboundPairs {
    fn register(&self, key: PeerKey, lane: Lane, serial: u64, tx: mpsc::UnboundedSender<OutFrame>) {
        self.map.lock().entry(key).or_default()[lane.index()] = Some((serial, tx));
    }

    fn deregister(&self, key: PeerKey, lane: Lane, serial: u64) {
        let mut map = self.map.lock();
        if let Some(slots) = map.get_mut(&key) {
            if matches!(&slots[lane.index()], Some((s, _)) if *s == serial) {
                slots[lane.index()] = None;
            }
            if slots.iter().all(Option::is_none) {
                map.remove(&key);
            }
        }
    }

    fn writer(&self, key: PeerKey, lane: Lane) -> Option<mpsc::UnboundedSender<OutFrame>> {
        let map = self.map.lock();
        let (_, tx) = map.get(&key)?[lane.index()].as_ref()?;
        Some(tx.clone())
    }
}

/// Accepts connections until shutdown.
pub(crate) async fn accept_loop(inner: Arc<Inner>, mut listener: Box<dyn Listener>) {
    let slots = Arc::new(Semaphore::new(inner.config.max_inbound_connections));
    loop {
        let accepted = tokio::select! {
            biased;
            _ = inner.shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, remote)) => match slots.clone().try_acquire_owned() {
                Ok(slot) => {
                    inner
                        .tasks
                        .spawn(serve_connection(inner.clone(), stream, remote, slot));
                }
                Err(_) => {
                    bump(&inner.counters.inbound_refused);
                    tracing::warn!(%remote, limit = inner.config.max_inbound_connections,
                        "too many inbound internode connections, refusing one");
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "accepting an internode connection failed");
                tokio::select! {
                    _ = inner.shutdown.cancelled() => break,
                    _ = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => {}
                }
            }
        }
    }
    // The listener is dropped here, freeing the address.
}

/// What the handshake established.
struct Handshaken {
    peer: Peer,
    incarnation: u64,
    lane: Lane,
    version: u8,
}

/// The context handlers need to answer: who asked, and where answers go.
struct InboundConn {
    peer: Peer,
    key: PeerKey,
    /// This connection's writer.
    tx: mpsc::UnboundedSender<OutFrame>,
}

async fn serve_connection(
    inner: Arc<Inner>,
    stream: Box<dyn Stream>,
    remote: SocketAddr,
    _slot: OwnedSemaphorePermit,
) {
    let _open = GaugeGuard::new(&inner.counters.inbound_open);
    let (read_half, mut write_half) = tokio::io::split(stream);
    let liveness = Arc::new(Liveness::new());
    let mut reader = FramedRead::new(
        ProgressReader::new(read_half, liveness.clone()),
        handshake_codec(),
    );
    let handshake = tokio::select! {
        biased;
        _ = inner.shutdown.cancelled() => return,
        result = tokio::time::timeout(
            inner.config.connect_timeout,
            accept_handshake(&inner, &mut reader, &mut write_half, remote),
        ) => result,
    };
    let Handshaken {
        peer,
        incarnation,
        lane,
        version,
    } = match handshake {
        Ok(Some(handshaken)) => handshaken,
        Ok(None) => return,
        Err(_) => {
            tracing::debug!(%remote, "internode handshake timed out");
            return;
        }
    };
    reader.decoder_mut().set_max_frame_length(MAX_FRAME_BYTES);
    tracing::debug!(%remote, peer = %peer.addr, host_id = %peer.host_id, %lane, "inbound internode connection");

    let serial = inner.next_conn_serial();
    let token = inner.shutdown.child_token();
    let key = (peer.host_id, incarnation);
    let (tx, mut rx) = mpsc::unbounded_channel();
    inner.inbound.register(key, lane, serial, tx.clone());
    let counters = inner.counters.peer(peer.addr);
    let pong = Arc::new(Signal::default());
    let conn = Arc::new(InboundConn { peer, key, tx });

    let writer_task = inner.tasks.spawn({
        let token = token.clone();
        let liveness = liveness.clone();
        let pong = pong.clone();
        let counters = counters.clone();
        async move {
            let mut writer = BufWriter::with_capacity(WRITE_BUFFER_BYTES, write_half);
            let mut sink = InboundSink {
                lane,
                counters: &counters,
            };
            pump(
                &mut writer,
                &mut rx,
                None,
                WriterContext {
                    version,
                    token: &token,
                    liveness: &liveness,
                    control: (&pong, Kind::Pong),
                },
                &mut sink,
            )
            .await;
            token.cancel();
        }
    });

    let requests = RequestReader {
        inner: inner.clone(),
        conn,
        version,
        token: token.clone(),
        liveness,
        pong,
        counters,
    };
    requests.run(reader).await;
    token.cancel();
    inner.inbound.deregister(key, lane, serial);
    let _ = writer_task.await;
}

/// Reads and answers the connector's handshake; `None` when the connection is to be closed.
async fn accept_handshake<W: tokio::io::AsyncWrite + Unpin>(
    inner: &Inner,
    reader: &mut FrameReader,
    writer: &mut W,
    remote: SocketAddr,
) -> Option<Handshaken> {
    let frame = match reader.next().await {
        Some(Ok(frame)) => frame,
        Some(Err(e)) => {
            bump(&inner.counters.protocol_errors);
            tracing::debug!(%remote, error = %e, "unreadable internode handshake");
            return None;
        }
        None => return None,
    };
    let hello = match Hello::decode(&frame) {
        Ok(hello) => hello,
        Err(e) => {
            bump(&inner.counters.protocol_errors);
            tracing::debug!(%remote, error = %e, "malformed internode handshake");
            return None;
        }
    };
    let version = PROTOCOL_VERSION.min(hello.max_version);
    let rejection = if version < MIN_PROTOCOL_VERSION.max(hello.min_version) {
        Some((
            RejectReason::UnsupportedVersion,
            format!(
                "no common internode protocol version: this node speaks \
                 {MIN_PROTOCOL_VERSION}..={PROTOCOL_VERSION}, {} speaks {}..={}",
                hello.broadcast, hello.min_version, hello.max_version
            ),
        ))
    } else if hello.cluster_name != inner.config.cluster_name {
        Some((
            RejectReason::ClusterNameMismatch,
            format!(
                "cluster name mismatch: this node belongs to cluster '{}', {} to cluster '{}'",
                inner.config.cluster_name, hello.broadcast, hello.cluster_name
            ),
        ))
    } else if hello.host_id == inner.config.local && hello.incarnation != inner.incarnation {
        Some((
            RejectReason::HostIdConflict,
            format!(
                "{} announced host id {}, which is this node's own",
                hello.broadcast, hello.host_id
            ),
        ))
    } else {
        None
    };
    if let Some((reason, message)) = rejection {
        bump(&inner.counters.handshakes_refused);
        tracing::warn!(%remote, peer = %hello.broadcast, reason = %message, "refusing an internode connection");
        let _ = write_raw_frame(writer, &HelloReply::Rejected { reason, message }.encode()).await;
        return None;
    }
    let reply = HelloReply::Accepted {
        version,
        host_id: inner.config.local,
        incarnation: inner.incarnation,
        broadcast: inner.broadcast,
    };
    if let Err(e) = write_raw_frame(writer, &reply.encode()).await {
        tracing::debug!(%remote, error = %e, "sending the internode handshake reply failed");
        return None;
    }
    Some(Handshaken {
        peer: Peer {
            host_id: hello.host_id,
            addr: hello.broadcast,
        },
        incarnation: hello.incarnation,
        lane: hello.lane,
        version,
    })
}

struct InboundSink<'a> {
    lane: Lane,
    counters: &'a PeerCounters,
}

impl FrameSink for InboundSink<'_> {
    fn before_write(&mut self, _frame: &OutFrame) -> bool {
        true
    }

    fn after_write(&mut self, frame: &OutFrame) {
        self.counters.sent(self.lane, frame.wire_bytes());
    }
}

/// Reads requests and one-way messages from an inbound connection and dispatches them.
struct RequestReader {
    inner: Arc<Inner>,
    conn: Arc<InboundConn>,
    version: u8,
    token: CancellationToken,
    liveness: Arc<Liveness>,
    pong: Arc<Signal>,
    counters: Arc<PeerCounters>,
}

impl RequestReader {
    async fn run(self, mut reader: FrameReader) {
        let config = &self.inner.config;
        let inflight = Arc::new(Semaphore::new(config.max_inflight_inbound_per_connection));
        let ping_interval = config.ping_interval();
        let mut ticks = tokio::time::interval_at(Instant::now() + ping_interval, ping_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // Silence only counts while this side is actually waiting to read.
            let waiting_since = Instant::now();
            let frame = loop {
                tokio::select! {
                    biased;
                    _ = self.token.cancelled() => return,
                    frame = reader.next() => break frame,
                    _ = ticks.tick() => {
                        if self.liveness.silent_for() > config.liveness_timeout
                            && waiting_since.elapsed() > config.liveness_timeout
                        {
                            bump(&self.inner.counters.liveness_closes);
                            tracing::info!(peer = %self.conn.peer.addr, "closing a silent inbound internode connection");
                            return;
                        }
                    }
                }
            };
            let frame = match frame {
                Some(Ok(frame)) => frame,
                Some(Err(e)) => {
                    if e.kind() == std::io::ErrorKind::InvalidData {
                        self.protocol_error(&e.to_string());
                    }
                    return;
                }
                None => return,
            };
            let wire_bytes = frame.len() + 4;
            let (header, body) = match Header::decode_frame(frame, self.version) {
                Ok(decoded) => decoded,
                Err(e) => {
                    self.protocol_error(&e.to_string());
                    return;
                }
            };
            match header.kind {
                Kind::Ping => self.pong.raise(),
                Kind::Request | Kind::Oneway => {
                    self.counters.received(wire_bytes);
                    if self.inner.faults.is_partitioned(self.conn.peer.addr) {
                        bump(&self.inner.counters.dropped_by_faults);
                        continue;
                    }
                    let permit = tokio::select! {
                        biased;
                        _ = self.token.cancelled() => return,
                        permit = inflight.clone().acquire_owned() => match permit {
                            Ok(permit) => permit,
                            Err(_) => return,
                        },
                    };
                    let task = Dispatch {
                        inner: self.inner.clone(),
                        conn: self.conn.clone(),
                        header,
                        body,
                        permit,
                    };
                    self.inner.tasks.spawn(task.run());
                }
                other => {
                    self.protocol_error(&format!(
                        "unexpected {other:?} frame on an inbound connection"
                    ));
                    return;
                }
            }
        }
    }

    fn protocol_error(&self, reason: &str) {
        bump(&self.inner.counters.protocol_errors);
        tracing::warn!(peer = %self.conn.peer.addr, reason, "internode protocol error, closing the connection");
    }
}

/// One inbound request or one-way message being handled.
struct Dispatch {
    inner: Arc<Inner>,
    conn: Arc<InboundConn>,
    header: Header,
    body: Bytes,
    /// The connection's in-flight slot, held until the answer is written.
    permit: OwnedSemaphorePermit,
}

impl Dispatch {
    async fn run(self) {
        let Dispatch {
            inner,
            conn,
            header,
            body,
            permit,
        } = self;
        let expires_in = match header.expires_in_ms {
            0 => inner.config.request_timeout_default,
            ms => Duration::from_millis(u64::from(ms)),
        };
        let deadline = Instant::now() + expires_in;
        let handler = inner.handler.clone();
        let (peer, verb) = (conn.peer, header.verb);
        if header.kind == Kind::Oneway {
            let call =
                AssertUnwindSafe(async move { handler.handle_oneway(peer, verb, body).await })
                    .catch_unwind();
            tokio::select! {
                _ = inner.shutdown.cancelled() => {}
                outcome = tokio::time::timeout_at(deadline, call) => match outcome {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => tracing::error!(peer = %peer.addr, %verb, "one-way handler panicked"),
                    Err(_) => bump(&inner.counters.handler_expired),
                },
            }
            return;
        }
        let call =
            AssertUnwindSafe(async move { handler.handle(peer, verb, body).await }).catch_unwind();
        let result = tokio::select! {
            _ = inner.shutdown.cancelled() => return,
            outcome = tokio::time::timeout_at(deadline, call) => match outcome {
                Ok(Ok(result)) => result,
                Ok(Err(_)) => {
                    tracing::error!(peer = %peer.addr, %verb, "request handler panicked");
                    Err(RemoteError::internal(format!("the handler of {verb} panicked")))
                }
                Err(_) => {
                    // The sender has given up: an answer would be discarded.
                    bump(&inner.counters.handler_expired);
                    return;
                }
            },
        };
        let mut frame = response_frame(header, result);
        frame.permit = Some(permit);
        match inner.faults.decide(peer.addr) {
            Verdict::Deliver => route(&inner, &conn, frame),
            Verdict::Drop => bump(&inner.counters.dropped_by_faults),
            Verdict::Delay(delay) => {
                tokio::select! {
                    _ = inner.shutdown.cancelled() => {}
                    _ = tokio::time::sleep(delay) => route(&inner, &conn, frame),
                }
            }
        }
    }
}

/// The response frame for `request`'s outcome.
fn response_frame(request: Header, result: Result<Bytes, RemoteError>) -> OutFrame {
    let error = match result {
        Ok(body) if body.len() <= MAX_BODY_BYTES => {
            let header = Header::new(Kind::Response, request.verb, request.id, 0);
            return OutFrame::new(header, body);
        }
        Ok(body) => RemoteError::internal(format!(
            "the response to {} is {} bytes, more than the maximum of {MAX_BODY_BYTES}",
            request.verb,
            body.len()
        )),
        Err(error) => error,
    };
    let header = Header::new(Kind::ErrorResponse, request.verb, request.id, 0);
    OutFrame::new(header, encode_remote_error(error))
}

fn encode_remote_error(mut error: RemoteError) -> Bytes {
    if error.message.len() > MAX_REMOTE_ERROR_MESSAGE_BYTES {
        let mut end = MAX_REMOTE_ERROR_MESSAGE_BYTES;
        while !error.message.is_char_boundary(end) {
            end -= 1;
        }
        error.message.truncate(end);
    }
    match postcard::to_allocvec(&error) {
        Ok(bytes) => Bytes::from(bytes),
        // Serializing a struct of an enum and a string into a vector cannot fail; an empty
        // body still reaches the sender as an undecodable error response.
        Err(_) => Bytes::new(),
    }
}

/// Sends a response on the peer's connection of its size class, else on the connection the
/// request arrived on.
fn route(inner: &Inner, conn: &InboundConn, frame: OutFrame) {
    let lane = Lane::for_body(frame.body.len(), inner.config.urgent_max_body_bytes);
    let tx = inner
        .inbound
        .writer(conn.key, lane)
        .unwrap_or_else(|| conn.tx.clone());
    if let Err(mpsc::error::SendError(frame)) = tx.send(frame) {
        // That connection just closed: fall back to the arrival connection. If it is closed
        // too, the response is lost and the requester sees its connection close.
        let _ = conn.tx.send(frame);
    }
}
