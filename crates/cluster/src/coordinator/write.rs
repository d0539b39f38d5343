//! The write path: consistency requirements, sending to replicas (with one forwarded
//! message per remote datacenter), waiting for acknowledgements, hints for the missing.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use meridian_storage::TryApplyError;
use meridian_types::model::encode_mutation;
use meridian_types::model::Mutation;
use meridian_types::token::PartitionKey;
use parking_lot::Mutex;
use tokio::sync::Notify;

use super::messages::{to_body, ForwardedMutation, VERB_MUTATION, VERB_MUTATION_FORWARD};
use super::topology::Topology;
use super::{run_storage, ConsistencyLevel, Coordinator, CoordinatorError, Placement, WriteType};
use crate::hints::Hint;
use crate::ids::HostId;
use crate::ring::ReplicationStrategy;

/// How many answers a level needs, and from whom.
#[derive(Clone, Debug)]
pub(crate) enum Requirement {
    /// `block_for` answers from any of `eligible`.
    Total {
        block_for: u32,
        eligible: HashSet<HostId>,
    },
    /// A quorum in every datacenter: (datacenter, block_for, its replicas).
    PerDatacenter(Vec<(String, u32, HashSet<HostId>)>),
}

impl Requirement {
    /// Whether `answered` satisfies the requirement.
    pub(crate) fn satisfied(&self, answered: &HashSet<HostId>) -> bool {
        match self {
            Requirement::Total {
                block_for,
                eligible,
            } => answered.iter().filter(|h| eligible.contains(h)).count() as u32 >= *block_for,
            Requirement::PerDatacenter(dcs) => dcs.iter().all(|(_, block_for, hosts)| {
                answered.iter().filter(|h| hosts.contains(h)).count() as u32 >= *block_for
            }),
        }
    }

    /// Answers counted so far and answers required (for timeout errors).
    pub(crate) fn progress(&self, answered: &HashSet<HostId>) -> (u32, u32) {
        match self {
            Requirement::Total {
                block_for,
                eligible,
            } => (
                answered.iter().filter(|h| eligible.contains(h)).count() as u32,
                *block_for,
            ),
            Requirement::PerDatacenter(dcs) => dcs.iter().fold((0, 0), |(r, b), (_, bf, hosts)| {
                (
                    r + (answered.iter().filter(|h| hosts.contains(h)).count() as u32).min(*bf),
                    b + bf,
                )
            }),
        }
    }
}

fn quorum(rf: usize) -> u32 {
    (rf / 2 + 1) as u32
}

/// The requirement of `cl` for a token whose natural replicas are `replicas`, checked
/// against liveness: `Unavailable` when too few eligible replicas are up.
pub(crate) fn requirement(
    cl: ConsistencyLevel,
    strategy: &ReplicationStrategy,
    topology: &Topology,
    replicas: &[HostId],
) -> Result<Requirement, CoordinatorError> {
    let local_dc = topology.local_datacenter().to_string();
    let total_rf = match strategy {
        ReplicationStrategy::Local => 1,
        other => other.total_replication_factor(),
    };
    let local_rf = match strategy {
        ReplicationStrategy::NetworkTopology { .. } => strategy.replication_factor_in(&local_dc),
        _ => total_rf,
    };
    let all: HashSet<HostId> = replicas.iter().copied().collect();
    let local: HashSet<HostId> = match strategy {
        ReplicationStrategy::NetworkTopology { .. } => replicas
            .iter()
            .copied()
            .filter(|h| topology.datacenter(*h) == Some(local_dc.as_str()))
            .collect(),
        _ => all.clone(),
    };
    let total = |block_for: u32, eligible: HashSet<HostId>| Requirement::Total {
        block_for,
        eligible,
    };
    let req = match cl {
        ConsistencyLevel::Any | ConsistencyLevel::One => total(1, all),
        ConsistencyLevel::Two => total(2, all),
        ConsistencyLevel::Three => total(3, all),
        ConsistencyLevel::Quorum | ConsistencyLevel::Serial => total(quorum(total_rf), all),
        ConsistencyLevel::All => total(total_rf as u32, all),
        ConsistencyLevel::LocalOne => total(1, local),
        ConsistencyLevel::LocalQuorum | ConsistencyLevel::LocalSerial => {
            total(quorum(local_rf), local)
        }
        ConsistencyLevel::EachQuorum => match strategy {
            ReplicationStrategy::NetworkTopology { datacenters } => Requirement::PerDatacenter(
                datacenters
                    .iter()
                    .filter(|(_, rf)| **rf > 0)
                    .map(|(dc, rf)| {
                        let hosts = replicas
                            .iter()
                            .copied()
                            .filter(|h| topology.datacenter(*h) == Some(dc.as_str()))
                            .collect();
                        (dc.clone(), quorum(*rf), hosts)
                    })
                    .collect(),
            ),
            _ => total(quorum(total_rf), all),
        },
    };
    if cl == ConsistencyLevel::Any {
        return Ok(req);
    }
    // Liveness check: the whole requirement must be reachable with the live replicas.
    let alive: HashSet<HostId> = replicas
        .iter()
        .copied()
        .filter(|h| topology.is_up(*h))
        .collect();
    match &req {
        Requirement::Total {
            block_for,
            eligible,
        } => {
            let n = eligible.iter().filter(|h| alive.contains(h)).count() as u32;
            if n < *block_for {
                return Err(CoordinatorError::Unavailable {
                    consistency: cl,
                    required: *block_for,
                    alive: n,
                });
            }
        }
        Requirement::PerDatacenter(dcs) => {
            for (_, block_for, hosts) in dcs {
                let n = hosts.iter().filter(|h| alive.contains(h)).count() as u32;
                if n < *block_for {
                    return Err(CoordinatorError::Unavailable {
                        consistency: cl,
                        required: *block_for,
                        alive: n,
                    });
                }
            }
        }
    }
    Ok(req)
}

/// Acknowledgements of one write, shared by the waiting coordinator and the tasks and
/// handlers that receive answers.
pub(crate) struct WriteTracker {
    acked: Mutex<HashSet<HostId>>,
    notify: Notify,
}

impl WriteTracker {
    fn new() -> Arc<WriteTracker> {
        Arc::new(WriteTracker {
            acked: Mutex::new(HashSet::new()),
            notify: Notify::new(),
        })
    }

    /// Records an acknowledgement.
    pub(crate) fn ack(&self, host: HostId) {
        self.acked.lock().insert(host);
        self.notify.notify_waiters();
    }

    fn acked(&self) -> HashSet<HostId> {
        self.acked.lock().clone()
    }
}

impl Coordinator {
    /// Writes `mutation` at `cl`: every partition of it to its replicas. Updates of the same
    /// partition key and keyspace travel together (atomic per partition, as in Cassandra).
    pub async fn write(
        self: &Arc<Self>,
        mutation: Mutation,
        cl: ConsistencyLevel,
        write_type: WriteType,
    ) -> Result<(), CoordinatorError> {
        if write_type == WriteType::Batch && self.batchlog.get().is_some() {
            // A logged batch over several partitions goes through the batch log (one
            // partition is atomic by itself, as in Cassandra).
            let partitions: std::collections::BTreeSet<(
                meridian_types::model::TableId,
                &PartitionKey,
            )> = mutation.updates.iter().map(|u| (u.table, &u.key)).collect();
            let keys: std::collections::BTreeSet<&PartitionKey> =
                partitions.iter().map(|(_, k)| *k).collect();
            if keys.len() > 1 {
                return self.write_logged_batch(mutation, cl).await;
            }
        }
        self.write_unlogged(mutation, cl, write_type).await
    }

    /// Writes `mutation` at `cl` without the batch log.
    pub(crate) async fn write_unlogged(
        self: &Arc<Self>,
        mutation: Mutation,
        cl: ConsistencyLevel,
        write_type: WriteType,
    ) -> Result<(), CoordinatorError> {
        // Group by (keyspace, partition key).
        let mut groups: BTreeMap<(Arc<str>, PartitionKey), (Placement, Mutation)> = BTreeMap::new();
        for update in mutation.updates {
            let placement = self.placement(update.table)?;
            groups
                .entry((placement.keyspace.clone(), update.key.clone()))
                .or_insert_with(|| (placement, Mutation::default()))
                .1
                .updates
                .push(update);
        }
        let topology = self.topology();
        let writes = groups.into_iter().map(|((_, key), (placement, m))| {
            let topology = topology.clone();
            async move {
                self.write_partition(&topology, &placement, key, m, cl, write_type)
                    .await
            }
        });
        for result in futures::future::join_all(writes).await {
            result?;
        }
        Ok(())
    }

    async fn write_partition(
        self: &Arc<Self>,
        topology: &Arc<Topology>,
        placement: &Placement,
        key: PartitionKey,
        mutation: Mutation,
        cl: ConsistencyLevel,
        write_type: WriteType,
    ) -> Result<(), CoordinatorError> {
        let replicas = topology.replicas(placement, key.token());
        let req = requirement(cl, &placement.strategy, topology, &replicas)?;
        // The encoded form travels to other replicas and into hints; a write whose only
        // replica is this node never needs it.
        let encoded: Bytes = if replicas.iter().any(|&h| h != self.local) {
            let mut encoded = BytesMut::new();
            encode_mutation(&mut encoded, &mutation);
            encoded.freeze()
        } else {
            Bytes::new()
        };

        let write_id = self.next_write_id.fetch_add(1, Ordering::Relaxed);
        let tracker = WriteTracker::new();
        self.pending_writes.lock().insert(write_id, tracker.clone());

        let local_dc = topology.local_datacenter();
        let mut remote_dcs: BTreeMap<&str, Vec<HostId>> = BTreeMap::new();
        let mut hinted: Vec<HostId> = Vec::new();
        let mut local_mutation = Some(mutation);
        for &host in &replicas {
            if host == self.local {
                self.apply_local(local_mutation.take().unwrap_or_default(), &tracker);
            } else if !topology.is_up(host) {
                hinted.push(host);
            } else if topology.datacenter(host) == Some(local_dc) {
                self.send_mutation(topology, host, encoded.clone(), tracker.clone());
            } else {
                let dc = topology.datacenter(host).unwrap_or("");
                remote_dcs.entry(dc).or_default().push(host);
            }
        }
        for (_, hosts) in remote_dcs {
            self.send_forwarded(topology, write_id, &hosts, encoded.clone(), tracker.clone());
        }
        if !hinted.is_empty() {
            // Down replicas get their hints in a task of their own, so a caller that stops
            // waiting cannot skip any; at ANY a stored hint counts as an acknowledgement.
            let this = self.clone();
            let hinted = hinted.clone();
            let encoded = encoded.clone();
            let tracker = tracker.clone();
            tokio::spawn(async move {
                for host in hinted {
                    if this.store_hint(host, encoded.clone()).await && cl == ConsistencyLevel::Any {
                        tracker.ack(host);
                    }
                }
            });
        }

        if hinted.is_empty() {
            let done = {
                let acked = tracker.acked.lock();
                replicas.iter().all(|h| acked.contains(h)) && req.satisfied(&acked)
            };
            if done {
                // Every replica answered already (a local-only write applied inline): no
                // hint can be due and no acknowledgement is still to come.
                self.pending_writes.lock().remove(&write_id);
                return Ok(());
            }
        }

        let deadline = tokio::time::Instant::now() + self.config.write_timeout;
        // Replicas still silent at the deadline get hints. Spawned before waiting, so that
        // they are stored (and the tracker forgotten) even if the caller stops waiting for
        // this write, e.g. because its client went away. It ends as soon as every replica
        // has acknowledged, so a write holds its bytes and tracker only while it must.
        let this = self.clone();
        let pending: Vec<HostId> = replicas
            .iter()
            .copied()
            .filter(|h| !hinted.contains(h))
            .collect();
        let background = tracker.clone();
        tokio::spawn(async move {
            loop {
                let notified = background.notify.notified();
                if pending.iter().all(|h| background.acked.lock().contains(h)) {
                    break;
                }
                if tokio::time::timeout_at(deadline, notified).await.is_err() {
                    break;
                }
            }
            let acked = background.acked();
            for host in pending {
                if !acked.contains(&host) {
                    this.store_hint(host, encoded.clone()).await;
                }
            }
            this.pending_writes.lock().remove(&write_id);
        });
        let outcome = loop {
            let notified = tracker.notify.notified();
            let acked = tracker.acked();
            if req.satisfied(&acked) || (cl == ConsistencyLevel::Any && !acked.is_empty()) {
                break Ok(());
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let acked = tracker.acked();
                if req.satisfied(&acked) {
                    break Ok(());
                }
                let (received, block_for) = req.progress(&acked);
                break Err(CoordinatorError::WriteTimeout {
                    consistency: cl,
                    received,
                    block_for,
                    write_type,
                });
            }
        };
        outcome
    }

    /// Applies this node's share of a write. Applied on the caller's thread when the engine
    /// can do so without waiting ([`meridian_storage::Engine::try_apply`]: no task hand-off, no thread
    /// wake-up); otherwise on the blocking pool (a batch-mode fsync, memtables at their
    /// budget). Success acknowledges for this node.
    fn apply_local(self: &Arc<Self>, mutation: Mutation, tracker: &Arc<WriteTracker>) {
        let mutation = match self.engine.try_apply(mutation) {
            Ok(()) => {
                tracker.ack(self.local);
                return;
            }
            Err(TryApplyError::Failed(e)) => {
                tracing::error!(error = %e, "local write failed");
                return;
            }
            Err(TryApplyError::WouldBlock(mutation)) => mutation,
        };
        let engine = self.engine.clone();
        let tracker = tracker.clone();
        let local = self.local;
        let inline = self.config.storage_inline;
        tokio::spawn(async move {
            match run_storage(inline, move || engine.apply(mutation)).await {
                Ok(Ok(())) => tracker.ack(local),
                Ok(Err(e)) => tracing::error!(error = %e, "local write failed"),
                Err(e) => tracing::error!(error = %e, "local write task failed"),
            }
        });
    }

    /// Sends a mutation to one replica; its answer acknowledges.
    fn send_mutation(
        self: &Arc<Self>,
        topology: &Topology,
        host: HostId,
        encoded: Bytes,
        tracker: Arc<WriteTracker>,
    ) {
        let Some(addr) = topology.address(host) else {
            return;
        };
        let Some(messaging) = self.messaging.get().cloned() else {
            return;
        };
        let timeout = self.config.write_timeout;
        tokio::spawn(async move {
            match messaging
                .request(addr, VERB_MUTATION, encoded, timeout)
                .await
            {
                Ok(_) => tracker.ack(host),
                Err(e) => tracing::debug!(%host, error = %e, "write to replica failed"),
            }
        });
    }

    /// Sends a mutation once to a remote datacenter: the first live replica applies it and
    /// forwards to the others, each acknowledging to us.
    fn send_forwarded(
        self: &Arc<Self>,
        topology: &Topology,
        write_id: u64,
        hosts: &[HostId],
        encoded: Bytes,
        tracker: Arc<WriteTracker>,
    ) {
        let Some(messaging) = self.messaging.get().cloned() else {
            return;
        };
        let Some(reply_to) = topology.address(self.local) else {
            return;
        };
        let (first, rest) = match hosts.split_first() {
            Some(x) => x,
            None => return,
        };
        let Some(first_addr) = topology.address(*first) else {
            return;
        };
        let forward_to = rest
            .iter()
            .filter_map(|h| topology.address(*h).map(|a| (*h, a)))
            .collect();
        let body = to_body(&ForwardedMutation {
            write_id,
            reply_to,
            mutation: encoded.to_vec(),
            forward_to,
        });
        self.stats
            .cross_dc_mutations
            .fetch_add(1, Ordering::Relaxed);
        let timeout = self.config.write_timeout;
        let first = *first;
        tokio::spawn(async move {
            match messaging
                .request(first_addr, VERB_MUTATION_FORWARD, body, timeout)
                .await
            {
                Ok(_) => tracker.ack(first),
                Err(e) => tracing::debug!(host = %first, error = %e, "forwarded write failed"),
            }
        });
    }

    /// Stores a hint for `host` unless it has been down longer than the hint window.
    /// Returns whether a hint was stored.
    pub(crate) async fn store_hint(self: &Arc<Self>, host: HostId, encoded: Bytes) -> bool {
        if host == self.local || !self.config.hints_enabled {
            return false;
        }
        let down_since = self.down_since.lock().get(&host).copied();
        if let Some(since) = down_since {
            if since.elapsed() > self.config.max_hint_window {
                return false;
            }
        }
        let hints = self.hints.clone();
        let hint = Hint {
            created_at_micros: now_micros(),
            mutation: encoded,
        };
        let stored = run_storage(self.config.storage_inline, move || hints.store(host, hint)).await;
        match stored {
            Ok(Ok(())) => {
                self.stats.hints_stored.fetch_add(1, Ordering::Relaxed);
                true
            }
            Ok(Err(e)) => {
                tracing::warn!(%host, error = %e, "hint not stored");
                false
            }
            Err(e) => {
                tracing::warn!(%host, error = %e, "hint task failed");
                false
            }
        }
    }

    /// Records an acknowledgement of a forwarded write.
    pub(crate) fn forwarded_ack(&self, write_id: u64, replica: HostId) {
        if let Some(t) = self.pending_writes.lock().get(&write_id) {
            t.ack(replica);
        }
    }

    /// Notes when a host went down (for the hint window).
    pub(crate) fn note_down(&self, host: HostId, down: bool) {
        let mut map = self.down_since.lock();
        if down {
            map.entry(host).or_insert_with(Instant::now);
        } else {
            map.remove(&host);
        }
    }
}

/// Wall-clock microseconds.
pub(crate) fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}
