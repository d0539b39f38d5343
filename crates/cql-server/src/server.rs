//! The listener: binding, the accept loop, `max_connections`, and graceful shutdown.
//!
//! Shutdown (from [`ShutdownHandle::shutdown`], the future given to [`CqlServer::run`], or
//! [`RunningServer::shutdown`]) drains in three steps:
//!
//! 1. Stop accepting: the listening socket is closed.
//! 2. Every connection stops reading (frames not yet dispatched are dropped, as if they had
//!    arrived after the close) while requests already running finish and their responses
//!    are written; then each connection sends FIN and closes.
//! 3. After `shutdown_grace_period_ms`, whatever is still running is cancelled: handler
//!    futures are dropped and sockets closed.
//!
//! [`ShutdownReport`] says whether step 3 was needed.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use meridian_cql_protocol::{supported_options, Compression, FrameLimits, ProtocolVersion};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::config::ServerConfig;
use crate::connection::{serve_connection, ServerCore};
use crate::error::ServerError;
use crate::events::EventBus;
use crate::handler::RequestHandler;
use crate::stats::{Gauge, Limiter, ServerStats};
use crate::sync::{TaskCounter, Trigger};

/// Pause after an accept error such as "too many open files" before accepting again.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);
/// How long a shutdown waits for cancelled tasks to unwind after the grace period.
const ABORT_WAIT: Duration = Duration::from_secs(5);

/// A bound, not yet running, CQL server. See the crate docs for the lifecycle.
pub struct CqlServer<H: RequestHandler> {
    listener: TcpListener,
    local_addr: SocketAddr,
    connections: Limiter,
    core: Arc<ServerCore<H>>,
}

impl<H: RequestHandler> std::fmt::Debug for CqlServer<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CqlServer")
            .field("local_addr", &self.local_addr)
            .field("config", &self.core.config)
            .finish_non_exhaustive()
    }
}

impl<H: RequestHandler> CqlServer<H> {
    /// Validates `config` and binds its listen address. Connections are accepted once
    /// [`CqlServer::run`] or [`CqlServer::spawn`] is called (the OS queues them until then).
    pub async fn bind(config: ServerConfig, handler: Arc<H>) -> Result<CqlServer<H>, ServerError> {
        config.validate()?;
        let listener = TcpListener::bind(config.listen_address)
            .await
            .map_err(|source| ServerError::Bind {
                address: config.listen_address,
                source,
            })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ServerError::LocalAddr { source })?;
        let stats = Arc::new(ServerStats::default());
        let core = ServerCore {
            handler,
            limits: FrameLimits {
                max_frame_size_bytes: config.max_frame_size_bytes,
            },
            requests: Limiter::new(
                Arc::clone(&stats),
                Gauge::RequestsInFlight,
                config.max_concurrent_requests_total,
            ),
            bus: EventBus::new(config.event_queue_capacity),
            supported: supported_options(
                &config.cql_version,
                &Compression::ALL,
                &[ProtocolVersion::V3, ProtocolVersion::V4],
            ),
            drain: Trigger::new(),
            abort: Trigger::new(),
            tasks: TaskCounter::default(),
            stats: Arc::clone(&stats),
            config,
        };
        let connections =
            Limiter::new(stats, Gauge::ConnectionsActive, core.config.max_connections);
        Ok(CqlServer {
            listener,
            local_addr,
            connections,
            core: Arc::new(core),
        })
    }

    /// The address actually bound (with the real port when the configured one was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The server's counters.
    pub fn stats(&self) -> Arc<ServerStats> {
        Arc::clone(&self.core.stats)
    }

    /// The bus to publish events to registered clients.
    pub fn event_bus(&self) -> EventBus {
        self.core.bus.clone()
    }

    /// A handle that starts a graceful shutdown of [`CqlServer::run`].
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            drain: self.core.drain.clone(),
        }
    }

    /// Accepts connections until `shutdown` completes or [`ShutdownHandle::shutdown`] is
    /// called, then drains: the listener is closed, connections stop reading new requests,
    /// requests already running finish and are answered, connections are closed; after
    /// `shutdown_grace_period_ms` whatever still runs is cancelled. Returns how it went.
    /// Dropping this future before it completes cancels every connection and request at once.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> ShutdownReport {
        let CqlServer {
            listener,
            local_addr,
            connections,
            core,
        } = self;
        let _cancel_if_dropped = CancelOnDrop(Arc::clone(&core));
        info!(%local_addr, "CQL server accepting connections");
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                biased;
                _ = &mut shutdown => break,
                _ = core.drain.fired() => break,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((socket, peer)) => accept(&core, &connections, socket, peer),
                Err(e) if is_per_connection_error(&e) => {
                    debug!(error = %e, "accept failed for one connection")
                }
                Err(e) => {
                    warn!(error = %e, "accepting CQL connections failed; retrying shortly");
                    tokio::select! {
                        biased;
                        _ = &mut shutdown => break,
                        _ = core.drain.fired() => break,
                        _ = tokio::time::sleep(ACCEPT_ERROR_BACKOFF) => {}
                    }
                }
            }
        }
        drop(listener);
        info!(%local_addr, "CQL server shutting down");
        drain(&core).await
    }

    /// Runs the server in a background task; stop it with [`RunningServer::shutdown`].
    pub fn spawn(self) -> RunningServer {
        let local_addr = self.local_addr;
        let stats = self.stats();
        let event_bus = self.event_bus();
        let handle = self.shutdown_handle();
        let task = tokio::spawn(self.run(std::future::pending()));
        RunningServer {
            local_addr,
            stats,
            event_bus,
            handle,
            task: Some(task),
        }
    }
}

fn accept<H: RequestHandler>(
    core: &Arc<ServerCore<H>>,
    connections: &Limiter,
    socket: TcpStream,
    peer: SocketAddr,
) {
    match connections.try_acquire() {
        Some(slot) => {
            core.stats.add_connections_accepted(1);
            debug!(%peer, "connection accepted");
            core.tasks
                .spawn(serve_connection(Arc::clone(core), socket, peer, slot));
        }
        None => {
            core.stats.add_connections_rejected(1);
            warn!(%peer, max_connections = connections.max(), "refusing connection: max_connections reached");
            drop(socket);
        }
    }
}

/// Accept errors that concern one incoming connection, not the listener.
fn is_per_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

async fn drain<H: RequestHandler>(core: &ServerCore<H>) -> ShutdownReport {
    let started = Instant::now();
    core.drain.fire();
    let requests_in_flight_at_start = core.stats.requests_in_flight();
    let grace = core.config.shutdown_grace_period();
    let drained = tokio::time::timeout(grace, core.tasks.idle()).await.is_ok();
    let mut requests_cancelled = 0;
    if !drained {
        requests_cancelled = core.stats.requests_in_flight();
        warn!(
            requests_cancelled,
            tasks = core.tasks.active(),
            "shutdown grace period over; cancelling what is still running"
        );
        core.abort.fire();
        if tokio::time::timeout(ABORT_WAIT, core.tasks.idle())
            .await
            .is_err()
        {
            warn!(
                tasks = core.tasks.active(),
                "tasks still running after cancellation"
            );
        }
    }
    let report = ShutdownReport {
        drained,
        requests_in_flight_at_start,
        requests_cancelled,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    info!(?report, "CQL server stopped");
    report
}

/// Fires both shutdown phases if [`CqlServer::run`] is dropped unfinished.
struct CancelOnDrop<H: RequestHandler>(Arc<ServerCore<H>>);

impl<H: RequestHandler> Drop for CancelOnDrop<H> {
    fn drop(&mut self) {
        self.0.drain.fire();
        self.0.abort.fire();
    }
}

/// How a shutdown went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Everything finished within the grace period; nothing was cancelled.
    pub drained: bool,
    /// Handler requests running when the shutdown started.
    pub requests_in_flight_at_start: u64,
    /// Handler requests cancelled when the grace period ran out.
    pub requests_cancelled: u64,
    /// Time from the start of the drain to the end of the shutdown.
    pub elapsed_ms: u64,
}

/// Starts a graceful shutdown of a running server. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    drain: Trigger,
}

impl ShutdownHandle {
    /// Stops accepting and starts draining. Idempotent; returns at once.
    pub fn shutdown(&self) {
        self.drain.fire();
    }

    /// True once a shutdown was requested.
    pub fn is_shutdown_requested(&self) -> bool {
        self.drain.is_fired()
    }
}

/// A server running in a background task ([`CqlServer::spawn`]). Dropping it starts a
/// graceful shutdown in the background; [`RunningServer::shutdown`] also waits for it.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    stats: Arc<ServerStats>,
    event_bus: EventBus,
    handle: ShutdownHandle,
    task: Option<JoinHandle<ShutdownReport>>,
}

impl RunningServer {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The server's counters.
    pub fn stats(&self) -> Arc<ServerStats> {
        Arc::clone(&self.stats)
    }

    /// The bus to publish events to registered clients.
    pub fn event_bus(&self) -> EventBus {
        self.event_bus.clone()
    }

    /// A handle to start the shutdown from elsewhere.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// Shuts down gracefully and waits until it is done.
    pub async fn shutdown(mut self) -> Result<ShutdownReport, ServerError> {
        self.handle.shutdown();
        self.join().await
    }

    /// Waits until the server stops (after a shutdown requested through a handle).
    pub async fn stopped(mut self) -> Result<ShutdownReport, ServerError> {
        self.join().await
    }

    async fn join(&mut self) -> Result<ShutdownReport, ServerError> {
        let Some(task) = self.task.take() else {
            return Err(ServerError::TaskFailed {
                detail: "the server task was already joined".to_owned(),
            });
        };
        task.await.map_err(|e| ServerError::TaskFailed {
            detail: e.to_string(),
        })
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if self.task.is_some() {
            self.handle.shutdown();
        }
    }
}
