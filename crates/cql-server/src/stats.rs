//! Server counters and the server-wide in-flight request limit.
//!
//! [`ServerStats`] is shared (`Arc`) by every connection and exposed by the server. Counters
//! only grow; the two gauges (`connections_active`, `requests_in_flight`) go up and down and
//! are maintained by RAII guards, so they return to zero when every connection and request
//! is gone, however it ended. All updates use relaxed atomics: the numbers are for
//! monitoring, except `requests_in_flight`, whose compare-and-swap enforces
//! `max_concurrent_requests_total`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Live counters of a server. Read them with [`ServerStats::snapshot`].
#[derive(Debug, Default)]
pub struct ServerStats {
    connections_accepted: AtomicU64,
    connections_rejected: AtomicU64,
    connections_active: AtomicU64,
    frames_received: AtomicU64,
    requests_handled: AtomicU64,
    requests_in_tasks: AtomicU64,
    requests_in_flight: AtomicU64,
    requests_overloaded: AtomicU64,
    protocol_errors: AtomicU64,
    error_responses: AtomicU64,
    handler_panics: AtomicU64,
    events_sent: AtomicU64,
    event_lag_disconnects: AtomicU64,
    bytes_received: AtomicU64,
    bytes_sent: AtomicU64,
}

/// A point-in-time copy of [`ServerStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsSnapshot {
    /// Connections accepted (within `max_connections`).
    pub connections_accepted: u64,
    /// Connections closed at once because `max_connections` was reached.
    pub connections_rejected: u64,
    /// Connections currently open (gauge).
    pub connections_active: u64,
    /// Well-formed frames read from clients (every opcode).
    pub frames_received: u64,
    /// QUERY/PREPARE/EXECUTE/BATCH requests passed to the handler.
    pub requests_handled: u64,
    /// Of those, the ones that ran in a task of their own: not complete after the reader's
    /// first poll, or read after the reader's inline time budget was spent.
    pub requests_in_tasks: u64,
    /// Handler requests currently running (gauge).
    pub requests_in_flight: u64,
    /// Requests answered OVERLOADED because `max_concurrent_requests_total` was reached.
    pub requests_overloaded: u64,
    /// PROTOCOL_ERROR responses (framing, decoding, handshake order, versions).
    pub protocol_errors: u64,
    /// ERROR responses of any code, protocol errors included.
    pub error_responses: u64,
    /// Handler panics caught (each answered SERVER_ERROR).
    pub handler_panics: u64,
    /// EVENT frames queued to clients.
    pub events_sent: u64,
    /// Registered connections closed because they fell behind the event stream.
    pub event_lag_disconnects: u64,
    /// Bytes read from client sockets.
    pub bytes_received: u64,
    /// Bytes written to client sockets.
    pub bytes_sent: u64,
}

macro_rules! bump {
    ($($(#[$doc:meta])* $name:ident => $field:ident),+ $(,)?) => {
        $(
            $(#[$doc])*
            pub(crate) fn $name(&self, n: u64) {
                self.$field.fetch_add(n, Ordering::Relaxed);
            }
        )+
    };
}

impl ServerStats {
    /// Copies every counter.
    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            connections_accepted: get(&self.connections_accepted),
            connections_rejected: get(&self.connections_rejected),
            connections_active: get(&self.connections_active),
            frames_received: get(&self.frames_received),
            requests_handled: get(&self.requests_handled),
            requests_in_tasks: get(&self.requests_in_tasks),
            requests_in_flight: get(&self.requests_in_flight),
            requests_overloaded: get(&self.requests_overloaded),
            protocol_errors: get(&self.protocol_errors),
            error_responses: get(&self.error_responses),
            handler_panics: get(&self.handler_panics),
            events_sent: get(&self.events_sent),
            event_lag_disconnects: get(&self.event_lag_disconnects),
            bytes_received: get(&self.bytes_received),
            bytes_sent: get(&self.bytes_sent),
        }
    }

    /// Connections currently open.
    pub fn connections_active(&self) -> u64 {
        self.connections_active.load(Ordering::Relaxed)
    }

    /// Handler requests currently running.
    pub fn requests_in_flight(&self) -> u64 {
        self.requests_in_flight.load(Ordering::SeqCst)
    }

    bump! {
        /// Counts accepted connections.
        add_connections_accepted => connections_accepted,
        /// Counts refused connections.
        add_connections_rejected => connections_rejected,
        /// Counts frames read.
        add_frames_received => frames_received,
        /// Counts handler requests.
        add_requests_handled => requests_handled,
        /// Counts handler requests run in their own task.
        add_requests_in_tasks => requests_in_tasks,
        /// Counts OVERLOADED answers.
        add_requests_overloaded => requests_overloaded,
        /// Counts PROTOCOL_ERROR answers.
        add_protocol_errors => protocol_errors,
        /// Counts ERROR answers.
        add_error_responses => error_responses,
        /// Counts caught handler panics.
        add_handler_panics => handler_panics,
        /// Counts EVENT frames.
        add_events_sent => events_sent,
        /// Counts lagging-consumer disconnects.
        add_event_lag_disconnects => event_lag_disconnects,
        /// Counts bytes read.
        add_bytes_received => bytes_received,
        /// Counts bytes written.
        add_bytes_sent => bytes_sent,
    }
}

/// Bounds a gauge of `stats` (`requests_in_flight` or `connections_active`) by a maximum.
#[derive(Debug, Clone)]
pub(crate) struct Limiter {
    stats: Arc<ServerStats>,
    gauge: Gauge,
    max: u64,
}

/// Which gauge a [`Limiter`] bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Gauge {
    /// `requests_in_flight`.
    RequestsInFlight,
    /// `connections_active`.
    ConnectionsActive,
}

/// One unit of a [`Limiter`], released on drop.
#[derive(Debug)]
pub(crate) struct LimiterSlot {
    stats: Arc<ServerStats>,
    gauge: Gauge,
}

impl Drop for LimiterSlot {
    fn drop(&mut self) {
        gauge_of(&self.stats, self.gauge).fetch_sub(1, Ordering::SeqCst);
    }
}

fn gauge_of(stats: &ServerStats, gauge: Gauge) -> &AtomicU64 {
    match gauge {
        Gauge::RequestsInFlight => &stats.requests_in_flight,
        Gauge::ConnectionsActive => &stats.connections_active,
    }
}

impl Limiter {
    /// A limiter allowing `max` concurrent slots.
    pub(crate) fn new(stats: Arc<ServerStats>, gauge: Gauge, max: usize) -> Limiter {
        Limiter {
            stats,
            gauge,
            max: u64::try_from(max).unwrap_or(u64::MAX),
        }
    }

    /// The limit.
    pub(crate) fn max(&self) -> u64 {
        self.max
    }

    /// Takes a slot, or `None` when `max` are taken.
    pub(crate) fn try_acquire(&self) -> Option<LimiterSlot> {
        let gauge = gauge_of(&self.stats, self.gauge);
        gauge
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |current| {
                (current < self.max).then_some(current + 1)
            })
            .ok()?;
        Some(LimiterSlot {
            stats: Arc::clone(&self.stats),
            gauge: self.gauge,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_bounds_the_gauge() {
        let stats = Arc::new(ServerStats::default());
        let limiter = Limiter::new(Arc::clone(&stats), Gauge::RequestsInFlight, 2);
        let a = limiter.try_acquire().unwrap();
        let b = limiter.try_acquire().unwrap();
        assert!(limiter.try_acquire().is_none());
        assert_eq!(stats.requests_in_flight(), 2);
        drop(a);
        let c = limiter.try_acquire().unwrap();
        drop((b, c));
        assert_eq!(stats.snapshot().requests_in_flight, 0);
        let conns = Limiter::new(Arc::clone(&stats), Gauge::ConnectionsActive, 1);
        let slot = conns.try_acquire().unwrap();
        assert_eq!(stats.connections_active(), 1);
        assert!(conns.try_acquire().is_none());
        drop(slot);
        assert_eq!(stats.connections_active(), 0);
        assert_eq!(limiter.max(), 2);
    }

    #[test]
    fn counters_accumulate() {
        let stats = ServerStats::default();
        stats.add_frames_received(2);
        stats.add_bytes_sent(10);
        stats.add_bytes_sent(5);
        let s = stats.snapshot();
        assert_eq!(s.frames_received, 2);
        assert_eq!(s.bytes_sent, 15);
        assert_eq!(s.protocol_errors, 0);
    }
}
