//! Outbound connections: per peer address, one task per lane (urgent, bulk) that owns the
//! lane's queue, connects lazily when there is something to send, performs the handshake,
//! writes queued frames, and reads the responses that come back on the connection.
//!
//! - A failed connection attempt fails every message queued at that moment (requests with
//!   [`NetError::ConnectionFailed`] or [`NetError::HandshakeRejected`]) and delays the next
//!   attempt by an exponential backoff; messages queued meanwhile wait for that attempt.
//! - When an established connection closes, requests written to it and not yet answered
//!   fail with [`NetError::ConnectionClosed`]; queued messages stay queued for the next
//!   connection, opened without delay if the closed one had lived at least the maximum
//!   backoff, else after the backoff (a peer that accepts and drops connections at once is
//!   treated like one that refuses them).
//! - A request whose caller has stopped waiting is skipped instead of written.
//! - When one lane connects, the other is connected too ("warmed") if it is not already, so
//!   the peer can route each response by size from the start.

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use futures::StreamExt;
use parking_lot::Mutex;
use tokio::io::{BufWriter, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;
use tokio_util::codec::{FramedRead, LengthDelimitedCodec};
use tokio_util::sync::CancellationToken;

use super::conn::{
    pump, write_raw_frame, FrameSink, Liveness, OutFrame, ProgressReader, PumpEnd, Reservation,
    Signal, WriterContext, WRITE_BUFFER_BYTES,
};
use super::error::{NetError, RemoteError};
use super::messaging::{Inner, Pending};
use super::stats::{bump, GaugeGuard, PeerCounters};
use super::transport::Stream;
use super::wire::{
    handshake_codec, Header, Hello, HelloReply, Kind, MAX_FRAME_BYTES, MIN_PROTOCOL_VERSION,
    PROTOCOL_VERSION,
};
use super::Lane;

type FrameReader = FramedRead<ProgressReader<ReadHalf<Box<dyn Stream>>>, LengthDelimitedCodec>;
type FrameWriter = BufWriter<WriteHalf<Box<dyn Stream>>>;

/// The two lanes to one peer address.
pub(crate) struct PeerLanes {
    to: SocketAddr,
    pub counters: Arc<PeerCounters>,
    lanes: [LaneHandle; 2],
}

struct LaneHandle {
    lane: Lane,
    tx: mpsc::UnboundedSender<OutFrame>,
    /// Bytes queued (or being written); bounded by `max_queue_bytes_per_lane`.
    queued: Arc<AtomicUsize>,
    /// The live connection's token, to close it on demand.
    current: Arc<Mutex<Option<CancellationToken>>>,
    /// Asks the lane to connect even with nothing to send.
    warm: Arc<Notify>,
}

impl PeerLanes {
    /// Creates the lanes to `to` and spawns their tasks.
    pub fn start(inner: &Arc<Inner>, to: SocketAddr) -> Arc<PeerLanes> {
        let counters = inner.counters.peer(to);
        let lanes = Lane::ALL.map(|lane| {
            let (tx, rx) = mpsc::unbounded_channel();
            let handle = LaneHandle {
                lane,
                tx,
                queued: Arc::new(AtomicUsize::new(0)),
                current: Arc::new(Mutex::new(None)),
                warm: Arc::new(Notify::new()),
            };
            (handle, rx)
        });
        let [(urgent, urgent_rx), (bulk, bulk_rx)] = lanes;
        for (own, other, rx) in [(&urgent, &bulk, urgent_rx), (&bulk, &urgent, bulk_rx)] {
            let task = LaneTask {
                inner: inner.clone(),
                to,
                lane: own.lane,
                rx,
                current: own.current.clone(),
                warm: own.warm.clone(),
                other_current: other.current.clone(),
                other_warm: other.warm.clone(),
                counters: counters.clone(),
            };
            inner.tasks.spawn(task.run());
        }
        let lanes = [urgent, bulk];
        Arc::new(PeerLanes {
            to,
            counters,
            lanes,
        })
    }

    /// Attaches a reservation of the frame's bytes in `lane`'s queue, or fails with
    /// [`NetError::Overloaded`] when the queue is full.
    pub fn reserve(
        &self,
        inner: &Inner,
        lane: Lane,
        mut frame: OutFrame,
    ) -> Result<OutFrame, NetError> {
        let handle = &self.lanes[lane.index()];
        let limit_bytes = inner.config.max_queue_bytes_per_lane;
        match Reservation::try_new(&handle.queued, frame.wire_bytes(), limit_bytes) {
            Ok(reservation) => {
                frame.reservation = Some(reservation);
                Ok(frame)
            }
            Err(queued_bytes) => {
                bump(&inner.counters.overloaded);
                bump(&self.counters.dropped);
                Err(NetError::Overloaded {
                    to: self.to,
                    lane: handle.lane,
                    queued_bytes,
                    limit_bytes,
                })
            }
        }
    }

    /// Queues a reserved frame on `lane`.
    pub fn enqueue(&self, lane: Lane, frame: OutFrame) -> Result<(), NetError> {
        self.lanes[lane.index()]
            .tx
            .send(frame)
            .map_err(|_| NetError::Shutdown)
    }

    /// Closes both lanes' current connections.
    pub fn reset(&self) {
        for handle in &self.lanes {
            if let Some(token) = handle.current.lock().as_ref() {
                token.cancel();
            }
        }
    }
}

/// Why connecting failed.
enum ConnectFailure {
    /// Connect error, timeout, or a malformed handshake reply.
    Failed(String),
    /// The peer refused the handshake.
    Rejected(String),
}

impl ConnectFailure {
    fn to_error(&self, to: SocketAddr) -> NetError {
        match self {
            ConnectFailure::Failed(reason) => NetError::ConnectionFailed {
                to,
                reason: reason.clone(),
            },
            ConnectFailure::Rejected(reason) => NetError::HandshakeRejected {
                to,
                reason: reason.clone(),
            },
        }
    }
}

/// An established, handshaken connection.
struct Connection {
    reader: FrameReader,
    writer: FrameWriter,
    version: u8,
    liveness: Arc<Liveness>,
}

struct LaneTask {
    inner: Arc<Inner>,
    to: SocketAddr,
    lane: Lane,
    rx: mpsc::UnboundedReceiver<OutFrame>,
    current: Arc<Mutex<Option<CancellationToken>>>,
    warm: Arc<Notify>,
    /// The other lane to the same peer, to warm it when this one connects.
    other_current: Arc<Mutex<Option<CancellationToken>>>,
    other_warm: Arc<Notify>,
    counters: Arc<PeerCounters>,
}

impl LaneTask {
    async fn run(mut self) {
        let (backoff_min, backoff_max) = (
            self.inner.config.reconnect_backoff_min,
            self.inner.config.reconnect_backoff_max,
        );
        let mut backoff = backoff_min;
        let mut retry_at: Option<Instant> = None;
        let shutdown = self.inner.shutdown.clone();
        loop {
            // Something to send, or a request to connect anyway.
            let first = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                frame = self.rx.recv() => match frame {
                    Some(frame) => Some(frame),
                    None => break,
                },
                _ = self.warm.notified() => None,
            };
            if let Some(at) = retry_at {
                tokio::select! {
                    biased;
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep_until(at) => {}
                }
            }
            let connected = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                connected = self.connect() => connected,
            };
            match connected {
                Err(failure) => {
                    bump(&self.counters.connection_failures);
                    let error = failure.to_error(self.to);
                    tracing::debug!(to = %self.to, lane = %self.lane, %error, "internode connection failed");
                    if let Some(frame) = first {
                        self.fail_frame(frame, &failure);
                    }
                    while let Ok(frame) = self.rx.try_recv() {
                        self.fail_frame(frame, &failure);
                    }
                    retry_at = Some(Instant::now() + backoff);
                    backoff = (backoff * 2).min(backoff_max);
                }
                Ok(connection) => {
                    bump(&self.counters.connects);
                    if self.other_current.lock().is_none() {
                        self.other_warm.notify_one();
                    }
                    let connected_at = Instant::now();
                    if let PumpEnd::QueueClosed = self.serve(connection, first).await {
                        break;
                    }
                    // A connection that lived long was healthy: reconnect at once. One that
                    // closed soon after opening counts as a failure, so a peer that accepts
                    // and drops connections is not hammered.
                    if connected_at.elapsed() >= backoff_max {
                        backoff = backoff_min;
                        retry_at = None;
                    } else {
                        retry_at = Some(Instant::now() + backoff);
                        backoff = (backoff * 2).min(backoff_max);
                    }
                }
            }
        }
    }

    fn fail_frame(&self, frame: OutFrame, failure: &ConnectFailure) {
        if frame.header.kind == Kind::Request {
            self.inner
                .complete(frame.header.id, |_| Err(failure.to_error(self.to)));
        } else {
            bump(&self.counters.dropped);
        }
    }

    async fn connect(&self) -> Result<Connection, ConnectFailure> {
        let timeout = self.inner.config.connect_timeout;
        match tokio::time::timeout(timeout, self.handshake()).await {
            Ok(result) => result,
            Err(_) => Err(ConnectFailure::Failed(format!(
                "no connection and handshake within {} ms",
                timeout.as_millis()
            ))),
        }
    }

    async fn handshake(&self) -> Result<Connection, ConnectFailure> {
        let stream = self
            .inner
            .network
            .connect(self.to)
            .await
            .map_err(|e| ConnectFailure::Failed(e.to_string()))?;
        let (read_half, mut write_half) = tokio::io::split(stream);
        let hello = Hello {
            min_version: MIN_PROTOCOL_VERSION,
            max_version: PROTOCOL_VERSION,
            lane: self.lane,
            host_id: self.inner.config.local,
            incarnation: self.inner.incarnation,
            broadcast: self.inner.broadcast,
            cluster_name: self.inner.config.cluster_name.clone(),
        };
        write_raw_frame(&mut write_half, &hello.encode())
            .await
            .map_err(|e| ConnectFailure::Failed(format!("sending the handshake: {e}")))?;
        let liveness = Arc::new(Liveness::new());
        let mut reader = FramedRead::new(
            ProgressReader::new(read_half, liveness.clone()),
            handshake_codec(),
        );
        let reply = match reader.next().await {
            Some(Ok(frame)) => frame,
            Some(Err(e)) => {
                return Err(ConnectFailure::Failed(format!(
                    "reading the handshake reply: {e}"
                )))
            }
            None => {
                return Err(ConnectFailure::Failed(
                    "connection closed during the handshake".into(),
                ))
            }
        };
        let version = match HelloReply::decode(&reply) {
            Ok(HelloReply::Accepted { version, .. })
                if (MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&version) =>
            {
                version
            }
            Ok(HelloReply::Accepted { version, .. }) => {
                return Err(ConnectFailure::Failed(format!(
                    "the peer chose protocol version {version}, outside \
                     {MIN_PROTOCOL_VERSION}..={PROTOCOL_VERSION}"
                )))
            }
            Ok(HelloReply::Rejected { message, .. }) => {
                return Err(ConnectFailure::Rejected(message))
            }
            Err(e) => {
                return Err(ConnectFailure::Failed(format!(
                    "malformed handshake reply: {e}"
                )))
            }
        };
        reader.decoder_mut().set_max_frame_length(MAX_FRAME_BYTES);
        Ok(Connection {
            reader,
            writer: BufWriter::with_capacity(WRITE_BUFFER_BYTES, write_half),
            version,
            liveness,
        })
    }

    /// Runs one connection until it closes; then fails the requests written to it.
    async fn serve(&mut self, connection: Connection, first: Option<OutFrame>) -> PumpEnd {
        let inner = self.inner.clone();
        let serial = inner.next_conn_serial();
        let token = inner.shutdown.child_token();
        *self.current.lock() = Some(token.clone());
        let _open = GaugeGuard::new(&inner.counters.outbound_open);
        let ping = Arc::new(Signal::default());
        let Connection {
            reader,
            mut writer,
            version,
            liveness,
        } = connection;
        let response_reader = ResponseReader {
            inner: inner.clone(),
            to: self.to,
            version,
            token: token.clone(),
            liveness: liveness.clone(),
            ping: ping.clone(),
            counters: self.counters.clone(),
        };
        let reader_task = inner.tasks.spawn(response_reader.run(reader));
        // Attributed to this connection before anything can close it, so that it fails with
        // the connection rather than waiting for its timeout if it is never written.
        if let Some(frame) = first.as_ref().filter(|f| f.header.kind == Kind::Request) {
            inner.mark_sent(frame.header.id, serial);
        }
        let mut sink = OutboundSink {
            inner: &inner,
            serial,
            lane: self.lane,
            counters: &self.counters,
        };
        let end = pump(
            &mut writer,
            &mut self.rx,
            first,
            WriterContext {
                version,
                token: &token,
                liveness: &liveness,
                control: (&ping, Kind::Ping),
            },
            &mut sink,
        )
        .await;
        if let PumpEnd::Failed(e) = &end {
            tracing::debug!(to = %self.to, lane = %self.lane, error = %e, "internode write failed");
        }
        token.cancel();
        let _ = reader_task.await;
        *self.current.lock() = None;
        let shutting_down = inner.shutdown.is_cancelled();
        inner.fail_pending(
            |pending| pending.conn == Some(serial),
            |pending| {
                if shutting_down {
                    NetError::Shutdown
                } else {
                    NetError::ConnectionClosed { to: pending.to }
                }
            },
        );
        end
    }
}

struct OutboundSink<'a> {
    inner: &'a Inner,
    serial: u64,
    lane: Lane,
    counters: &'a PeerCounters,
}

impl FrameSink for OutboundSink<'_> {
    fn before_write(&mut self, frame: &OutFrame) -> bool {
        if frame.header.kind == Kind::Request && !self.inner.mark_sent(frame.header.id, self.serial)
        {
            bump(&self.inner.counters.expired_before_send);
            bump(&self.counters.dropped);
            return false;
        }
        true
    }

    fn after_write(&mut self, frame: &OutFrame) {
        self.counters.sent(self.lane, frame.wire_bytes());
    }
}

/// Reads the responses (and pongs) arriving on an outbound connection, and watches its
/// liveness.
struct ResponseReader {
    inner: Arc<Inner>,
    to: SocketAddr,
    version: u8,
    token: CancellationToken,
    liveness: Arc<Liveness>,
    ping: Arc<Signal>,
    counters: Arc<PeerCounters>,
}

impl ResponseReader {
    async fn run(self, mut reader: FrameReader) {
        let ping_interval = self.inner.config.ping_interval();
        let liveness_timeout = self.inner.config.liveness_timeout;
        let mut ticks = tokio::time::interval_at(Instant::now() + ping_interval, ping_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let frame = tokio::select! {
                biased;
                _ = self.token.cancelled() => break,
                frame = reader.next() => frame,
                _ = ticks.tick() => {
                    if self.liveness.is_dead(liveness_timeout) {
                        bump(&self.inner.counters.liveness_closes);
                        tracing::info!(to = %self.to, silent_ms = self.liveness.silent_for().as_millis() as u64,
                            "closing a silent internode connection");
                        break;
                    }
                    if self.liveness.silent_for() >= ping_interval {
                        self.ping.raise();
                    }
                    continue;
                }
            };
            let frame = match frame {
                Some(Ok(frame)) => frame,
                Some(Err(e)) => {
                    if e.kind() == std::io::ErrorKind::InvalidData {
                        self.protocol_error(&e.to_string());
                    }
                    break;
                }
                None => break,
            };
            let wire_bytes = frame.len() + 4;
            let (header, body) = match Header::decode_frame(frame, self.version) {
                Ok(decoded) => decoded,
                Err(e) => {
                    self.protocol_error(&e.to_string());
                    break;
                }
            };
            match header.kind {
                Kind::Pong => {}
                Kind::Response | Kind::ErrorResponse => {
                    self.counters.received(wire_bytes);
                    if self.inner.faults.is_partitioned(self.to) {
                        bump(&self.inner.counters.dropped_by_faults);
                        continue;
                    }
                    let to = self.to;
                    let kind = header.kind;
                    let delivered = self.inner.complete(header.id, |pending| {
                        response_outcome(kind, body, pending, to)
                    });
                    if !delivered {
                        bump(&self.inner.counters.late_responses);
                    }
                }
                other => {
                    self.protocol_error(&format!(
                        "unexpected {other:?} frame on an outbound connection"
                    ));
                    break;
                }
            }
        }
        self.token.cancel();
    }

    fn protocol_error(&self, reason: &str) {
        bump(&self.inner.counters.protocol_errors);
        tracing::warn!(peer = %self.to, reason, "internode protocol error, closing the connection");
    }
}

fn response_outcome(
    kind: Kind,
    body: bytes::Bytes,
    pending: &Pending,
    from: SocketAddr,
) -> Result<bytes::Bytes, NetError> {
    if kind == Kind::Response {
        return Ok(body);
    }
    match postcard::from_bytes::<RemoteError>(&body) {
        Ok(error) => Err(NetError::Remote {
            from,
            verb: pending.verb,
            error,
        }),
        Err(e) => Err(NetError::Protocol {
            peer: from,
            reason: format!("undecodable error response to {}: {e}", pending.verb),
        }),
    }
}
