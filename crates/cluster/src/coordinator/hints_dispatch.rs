//! Follows membership: records when peers go down (for the hint window) and replays the
//! hints of peers that are up, as fast as the network and the disk allow (no artificial
//! throttle: batches of [`super::CoordinatorConfig::hint_batch_bytes`], each hint of a
//! batch sent concurrently). Replay of a target runs once at a time; a failure leaves the
//! remaining hints for the next attempt.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::messages::VERB_HINT;
use super::Coordinator;
use crate::hints::{Hint, ReplayError};
use crate::ids::HostId;

/// How often replay is retried for peers with a backlog, besides membership changes.
const RETRY_INTERVAL: Duration = Duration::from_secs(5);

pub(super) fn spawn(coordinator: Arc<Coordinator>) {
    let replaying: Arc<Mutex<HashSet<HostId>>> = Arc::new(Mutex::new(HashSet::new()));
    let mut rx = coordinator.membership.subscribe();
    let weak = Arc::downgrade(&coordinator);
    drop(coordinator);
    tokio::spawn(async move {
        loop {
            let Some(c) = weak.upgrade() else { return };
            let view = c.membership.view();
            for m in view.peers() {
                c.note_down(m.info.host_id, !m.up);
            }
            let backlog: Vec<HostId> = c
                .hints
                .pending()
                .into_iter()
                .filter(|(_, b)| b.hints > 0)
                .map(|(h, _)| h)
                .collect();
            for host in backlog {
                if !view.is_up(host) || !replaying.lock().insert(host) {
                    continue;
                }
                let c = c.clone();
                let replaying = replaying.clone();
                tokio::spawn(async move {
                    c.replay_hints(host).await;
                    replaying.lock().remove(&host);
                });
            }
            drop(c);
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep(RETRY_INTERVAL) => {}
            }
        }
    });
}

impl Coordinator {
    /// Replays every hint for `host` (until a delivery fails).
    pub async fn replay_hints(self: &Arc<Self>, host: HostId) {
        let topology = self.topology();
        let (Some(addr), Some(messaging)) = (topology.address(host), self.messaging.get().cloned())
        else {
            return;
        };
        if self.config.storage_inline {
            return self.replay_hints_inline(host, addr, messaging).await;
        }
        let this = self.clone();
        let handle = tokio::runtime::Handle::current();
        let batch_bytes = self.config.hint_batch_bytes;
        let timeout = self.config.write_timeout;
        let in_flight = self.config.hint_replay_in_flight.max(1);
        let throttle = self.config.hint_replay_bytes_per_sec;
        let result = tokio::task::spawn_blocking(move || {
            this.hints.replay(host, batch_bytes as u64, |batch| {
                use futures::stream::StreamExt;
                let started = std::time::Instant::now();
                // A bounded window of hints in flight: replay is as fast as the target
                // absorbs, without flooding it (or this node) at the expense of clients.
                let sends = futures::stream::iter(
                    batch
                        .iter()
                        .map(|h| messaging.request(addr, VERB_HINT, h.mutation.clone(), timeout)),
                )
                .buffer_unordered(in_flight)
                .collect::<Vec<_>>();
                let results = handle.block_on(sends);
                if let Some(Err(e)) = results.into_iter().find(|r| r.is_err()) {
                    return Err(e.to_string());
                }
                let bytes: usize = batch.iter().map(|h| h.mutation.len()).sum();
                if throttle > 0 {
                    // hinted_handoff_throttle: never faster than the configured rate.
                    let due = std::time::Duration::from_secs_f64(bytes as f64 / throttle as f64);
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
                this.stats
                    .hints_replayed
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                this.stats
                    .hint_bytes_replayed
                    .fetch_add(bytes as u64, Ordering::Relaxed);
                Ok(())
            })
        })
        .await;
        match result {
            Ok(Ok(outcome)) => tracing::info!(%host, ?outcome, "hints replayed"),
            Ok(Err(e)) => tracing::info!(%host, error = %e, "hint replay stopped; will retry"),
            Err(e) => tracing::warn!(%host, error = %e, "hint replay task failed"),
        }
    }

    /// [`Coordinator::replay_hints`] without a blocking thread (`storage_inline`): the store's
    /// replay hands batches to a synchronous callback, which cannot wait for the network on
    /// the runtime's only thread. So each batch is read by one `replay` call whose callback
    /// keeps a copy and declines it (the batch stays pending), delivered asynchronously, and
    /// then acknowledged by a second call that accepts exactly that batch and stops.
    async fn replay_hints_inline(
        self: &Arc<Self>,
        host: HostId,
        addr: std::net::SocketAddr,
        messaging: crate::net::Messaging,
    ) {
        /// Why a `replay` call stopped on purpose.
        #[derive(Debug)]
        struct Stop;
        impl std::fmt::Display for Stop {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("batch held back for asynchronous delivery")
            }
        }
        let batch_bytes = self.config.hint_batch_bytes as u64;
        let timeout = self.config.write_timeout;
        loop {
            let mut batch: Vec<Hint> = Vec::new();
            match self.hints.replay(host, batch_bytes, |b: &[Hint]| {
                batch = b.to_vec();
                Err(Stop)
            }) {
                Ok(_) => return, // nothing (left) to deliver
                Err(ReplayError::Delivery { .. }) => {}
                Err(e) => {
                    tracing::info!(%host, error = %e, "hint replay stopped; will retry");
                    return;
                }
            }
            let sends = batch
                .iter()
                .map(|h| messaging.request(addr, VERB_HINT, h.mutation.clone(), timeout));
            if let Some(Err(e)) = futures::future::join_all(sends)
                .await
                .into_iter()
                .find(|r| r.is_err())
            {
                tracing::info!(%host, error = %e, "hint replay stopped; will retry");
                return;
            }
            let mut acknowledged = false;
            let acked = self.hints.replay(host, batch_bytes, |b: &[Hint]| {
                if !acknowledged && b == batch.as_slice() {
                    acknowledged = true;
                    Ok(())
                } else {
                    Err(Stop)
                }
            });
            if let Err(ReplayError::Store { error, .. }) = acked {
                tracing::info!(%host, %error, "hint replay stopped; will retry");
                return;
            }
            if !acknowledged {
                // The pending hints changed in between (expired ones dropped): start over.
                continue;
            }
            let bytes: usize = batch.iter().map(|h| h.mutation.len()).sum();
            self.stats
                .hints_replayed
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            self.stats
                .hint_bytes_replayed
                .fetch_add(bytes as u64, Ordering::Relaxed);
        }
    }
}
