//! [`Messaging`]: the public face of internode messaging, and the state its connection tasks
//! share (pending requests, outbound lanes, inbound connection pairs, counters).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use parking_lot::Mutex;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::config::NetConfig;
use super::conn::OutFrame;
use super::error::{NetError, RemoteError};
use super::faults::{Faults, Verdict};
use super::inbound::{self, InboundPairs};
use super::outbound::PeerLanes;
use super::stats::{bump, Counters, NetStats};
use super::transport::Network;
use super::wire::{Header, Kind, MAX_BODY_BYTES};
use super::{Lane, Peer, Verb};

/// Serves the messages other nodes send to this one.
///
/// Each call runs in its own task, so a slow handler delays nothing but its own answer. A
/// handler still running when the sender's timeout has passed is dropped (its answer would
/// be discarded anyway); a panicking handler costs only its own request, answered with an
/// internal error.
pub trait MessageHandler: Send + Sync + 'static {
    /// Answers a request.
    fn handle(
        &self,
        from: Peer,
        verb: Verb,
        body: Bytes,
    ) -> BoxFuture<'static, Result<Bytes, RemoteError>>;

    /// Processes a one-way message.
    fn handle_oneway(&self, from: Peer, verb: Verb, body: Bytes) -> BoxFuture<'static, ()>;
}

/// Internode messaging of one node. Cheap to clone; the last clone dropped (or
/// [`shutdown`](Messaging::shutdown)) stops every task and closes every connection.
#[derive(Clone)]
pub struct Messaging {
    handle: Arc<Handle>,
}

/// Cancels everything when the last `Messaging` clone goes away (tasks hold only `Inner`).
struct Handle {
    inner: Arc<Inner>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.inner.shutdown.cancel();
    }
}

/// A request awaiting its response.
pub(crate) struct Pending {
    tx: oneshot::Sender<Result<Bytes, NetError>>,
    pub to: SocketAddr,
    pub verb: Verb,
    /// The outbound connection it was written to, once written.
    pub conn: Option<u64>,
}

/// State shared by all tasks of one `Messaging`.
pub(crate) struct Inner {
    pub config: NetConfig,
    pub local_addr: SocketAddr,
    pub broadcast: SocketAddr,
    /// Random per start: tells a restarted peer's connections from its old ones.
    pub incarnation: u64,
    pub network: Arc<dyn Network>,
    pub handler: Arc<dyn MessageHandler>,
    pub faults: Faults,
    pub counters: Counters,
    pub shutdown: CancellationToken,
    pub tasks: TaskTracker,
    pub inbound: InboundPairs,
    pending: Mutex<HashMap<u64, Pending>>,
    next_id: AtomicU64,
    next_conn: AtomicU64,
    peers: Mutex<HashMap<SocketAddr, Arc<PeerLanes>>>,
}

impl Messaging {
    /// Binds [`NetConfig::listen`] and starts accepting connections. Messages to other nodes
    /// open connections lazily.
    pub async fn start(
        config: NetConfig,
        network: Arc<dyn Network>,
        handler: Arc<dyn MessageHandler>,
    ) -> Result<Messaging, NetError> {
        config.validate()?;
        let listener = network
            .bind(config.listen)
            .await
            .map_err(|source| NetError::Bind {
                addr: config.listen,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| NetError::Bind {
            addr: config.listen,
            source,
        })?;
        let broadcast = match config.broadcast_address {
            Some(addr) => addr,
            None if local_addr.ip().is_unspecified() => {
                return Err(NetError::InvalidConfig {
                    reason: format!(
                        "listening on {local_addr}, which other nodes cannot connect to: \
                         set broadcast_address"
                    ),
                })
            }
            None => local_addr,
        };
        let inner = Arc::new(Inner {
            faults: Faults::new(config.fault_seed),
            config,
            local_addr,
            broadcast,
            incarnation: rand::random(),
            network,
            handler,
            counters: Counters::default(),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            inbound: InboundPairs::default(),
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            next_conn: AtomicU64::new(1),
            peers: Mutex::new(HashMap::new()),
        });
        inner
            .tasks
            .spawn(inbound::accept_loop(inner.clone(), listener));
        tracing::info!(listen = %local_addr, broadcast = %broadcast, "internode messaging started");
        Ok(Messaging {
            handle: Arc::new(Handle { inner }),
        })
    }

    fn inner(&self) -> &Arc<Inner> {
        &self.handle.inner
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner().local_addr
    }

    /// The address announced to other nodes.
    pub fn broadcast_address(&self) -> SocketAddr {
        self.inner().broadcast
    }

    /// The configuration in use.
    pub fn config(&self) -> &NetConfig {
        &self.inner().config
    }

    /// Sends a request to the node at `to` and waits for its response, at most `timeout`
    /// (connecting and queueing included). Bodies up to
    /// [`NetConfig::urgent_max_body_bytes`] go on the urgent connection, larger ones on the
    /// bulk connection.
    ///
    /// Errors: [`NetError::Timeout`], [`NetError::ConnectionFailed`] (never sent),
    /// [`NetError::ConnectionClosed`] (sent, outcome unknown),
    /// [`NetError::HandshakeRejected`], [`NetError::Remote`] (the handler's error),
    /// [`NetError::Overloaded`] (lane queue full, nothing sent),
    /// [`NetError::TooManyPending`], [`NetError::MessageTooLarge`], [`NetError::Shutdown`].
    pub async fn request(
        &self,
        to: SocketAddr,
        verb: Verb,
        body: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, NetError> {
        let inner = self.inner();
        inner.check_open()?;
        check_body(&body)?;
        let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = inner.pending.lock();
            if pending.len() >= inner.config.max_pending_requests {
                return Err(NetError::TooManyPending {
                    limit: inner.config.max_pending_requests,
                });
            }
            pending.insert(
                id,
                Pending {
                    tx,
                    to,
                    verb,
                    conn: None,
                },
            );
        }
        // Removes the pending entry however this future ends (timeout, error, drop).
        let _guard = PendingGuard { inner, id };
        let expires_in_ms = u32::try_from(timeout.as_millis())
            .unwrap_or(u32::MAX)
            .max(1);
        let header = Header::new(Kind::Request, verb, id, expires_in_ms);
        inner.send(to, header, body)?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(result)) => result,
            // The sender is only dropped without an answer when messaging shuts down.
            Ok(Err(_)) => Err(NetError::Shutdown),
            Err(_) => {
                bump(&inner.counters.timeouts);
                bump(&inner.counters.peer(to).timeouts);
                Err(NetError::Timeout {
                    to,
                    verb,
                    timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                })
            }
        }
    }

    /// [`request`](Messaging::request) with [`NetConfig::request_timeout_default`].
    pub async fn request_default(
        &self,
        to: SocketAddr,
        verb: Verb,
        body: Bytes,
    ) -> Result<Bytes, NetError> {
        let timeout = self.inner().config.request_timeout_default;
        self.request(to, verb, body, timeout).await
    }

    /// Queues a one-way message to the node at `to`. `Ok` means queued (or dropped by the
    /// fault layer), not delivered: a message queued to an unreachable node is dropped when
    /// connecting fails.
    pub fn send_oneway(&self, to: SocketAddr, verb: Verb, body: Bytes) -> Result<(), NetError> {
        let inner = self.inner();
        inner.check_open()?;
        check_body(&body)?;
        let expires_in_ms = u32::try_from(inner.config.request_timeout_default.as_millis())
            .unwrap_or(u32::MAX)
            .max(1);
        inner.send(to, Header::new(Kind::Oneway, verb, 0, expires_in_ms), body)
    }

    /// Closes the current connections to `to` (both lanes), failing requests in flight on
    /// them with [`NetError::ConnectionClosed`]; the next message reconnects. For the
    /// failure detector to call when it convicts a node.
    pub fn reset_connections(&self, to: SocketAddr) {
        if let Some(lanes) = self.inner().peers.lock().get(&to) {
            lanes.reset();
        }
    }

    /// Forgets the node at `to` (it left the cluster): its lanes send what is already queued,
    /// then close their connections and end; its counters are dropped. A later message to
    /// `to` starts afresh.
    pub fn forget_peer(&self, to: SocketAddr) {
        let inner = self.inner();
        inner.peers.lock().remove(&to);
        inner.counters.forget(to);
    }

    /// The fault layer.
    pub fn faults(&self) -> &Faults {
        &self.inner().faults
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> NetStats {
        self.inner().counters.snapshot()
    }

    /// Stops accepting, closes every connection, fails every pending request with
    /// [`NetError::Shutdown`] and waits for all tasks to end (the listen address is free
    /// when this returns). Later calls fail with [`NetError::Shutdown`].
    pub async fn shutdown(&self) {
        let inner = self.inner();
        inner.shutdown.cancel();
        inner.tasks.close();
        inner.tasks.wait().await;
        inner.fail_pending(|_| true, |_| NetError::Shutdown);
        inner.peers.lock().clear();
    }

    #[cfg(test)]
    pub(crate) fn pending_requests(&self) -> usize {
        self.inner().pending.lock().len()
    }
}

impl std::fmt::Debug for Messaging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messaging")
            .field("local_addr", &self.inner().local_addr)
            .field("broadcast", &self.inner().broadcast)
            .finish_non_exhaustive()
    }
}

fn check_body(body: &Bytes) -> Result<(), NetError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(NetError::MessageTooLarge {
            size_bytes: body.len(),
            max_bytes: MAX_BODY_BYTES,
        });
    }
    Ok(())
}

struct PendingGuard<'a> {
    inner: &'a Inner,
    id: u64,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.inner.pending.lock().remove(&self.id);
    }
}

impl Inner {
    pub fn check_open(&self) -> Result<(), NetError> {
        if self.shutdown.is_cancelled() {
            Err(NetError::Shutdown)
        } else {
            Ok(())
        }
    }

    pub fn next_conn_serial(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a request or one-way message through the fault layer and the lane queue.
    fn send(self: &Arc<Self>, to: SocketAddr, header: Header, body: Bytes) -> Result<(), NetError> {
        let lanes = self.lanes(to)?;
        let lane = Lane::for_body(body.len(), self.config.urgent_max_body_bytes);
        let frame = lanes.reserve(self, lane, OutFrame::new(header, body))?;
        match self.faults.decide(to) {
            Verdict::Deliver => lanes.enqueue(lane, frame),
            Verdict::Drop => {
                bump(&self.counters.dropped_by_faults);
                bump(&lanes.counters.dropped);
                Ok(())
            }
            Verdict::Delay(delay) => {
                let inner = self.clone();
                self.tasks.spawn(async move {
                    tokio::select! {
                        _ = inner.shutdown.cancelled() => {}
                        _ = tokio::time::sleep(delay) => {
                            let id = frame.header.id;
                            let is_request = frame.header.kind == Kind::Request;
                            if let Err(e) = lanes.enqueue(lane, frame) {
                                if is_request {
                                    inner.complete(id, |_| Err(e));
                                }
                            }
                        }
                    }
                });
                Ok(())
            }
        }
    }

    /// The lanes to `to`, created (with their tasks) on first use.
    fn lanes(self: &Arc<Self>, to: SocketAddr) -> Result<Arc<PeerLanes>, NetError> {
        let mut peers = self.peers.lock();
        self.check_open()?;
        if let Some(lanes) = peers.get(&to) {
            return Ok(lanes.clone());
        }
        let lanes = PeerLanes::start(self, to);
        peers.insert(to, lanes.clone());
        Ok(lanes)
    }

    /// Completes request `id` with what `result` makes of its entry; false if it is no
    /// longer pending (completed, timed out or abandoned).
    pub fn complete(
        &self,
        id: u64,
        result: impl FnOnce(&Pending) -> Result<Bytes, NetError>,
    ) -> bool {
        let Some(entry) = self.pending.lock().remove(&id) else {
            return false;
        };
        let outcome = result(&entry);
        let _ = entry.tx.send(outcome);
        true
    }

    /// Records that request `id` is being written to connection `conn`; false if nobody
    /// waits for it any more (it is then not sent).
    pub fn mark_sent(&self, id: u64, conn: u64) -> bool {
        match self.pending.lock().get_mut(&id) {
            Some(entry) => {
                entry.conn = Some(conn);
                true
            }
            None => false,
        }
    }

    /// Fails every pending request `select` picks, in id order, with `error`.
    pub fn fail_pending(
        &self,
        select: impl Fn(&Pending) -> bool,
        error: impl Fn(&Pending) -> NetError,
    ) {
        let failed = {
            let mut pending = self.pending.lock();
            let mut ids: Vec<u64> = pending
                .iter()
                .filter(|(_, entry)| select(entry))
                .map(|(id, _)| *id)
                .collect();
            ids.sort_unstable();
            ids.into_iter()
                .filter_map(|id| pending.remove(&id))
                .collect::<Vec<_>>()
        };
        for entry in failed {
            let outcome = error(&entry);
            let _ = entry.tx.send(Err(outcome));
        }
    }
}
