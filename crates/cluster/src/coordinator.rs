//! The coordinator: any node turns a client's write or read into requests to the replicas
//! that own the data, and answers once the consistency level is met.
//!
//! - Writes go to every replica; the coordinator waits for as many acknowledgements as the
//!   level requires (counting only the local datacenter for `LOCAL_*`, every datacenter's
//!   quorum for `EACH_QUORUM`). A remote datacenter receives the mutation once, at one of
//!   its replicas, which applies it and forwards it to the others there; each acknowledges
//!   to the coordinator directly. Replicas that are down, or do not answer in time, get a
//!   hint stored here and replayed when they come back.
//! - Reads ask the closest replicas: one for data and the others for digests; on a
//!   mismatch the coordinator fetches data from all of them, merges (cell reconciliation),
//!   writes the merged result back to the replicas that differed, and waits for that
//!   (blocking read repair) before answering. A replica that is slow to answer triggers a
//!   speculative request to another replica.
//! - Too few live replicas: `Unavailable` with the required and alive counts, before
//!   anything is sent. Too few answers in time: `WriteTimeout`/`ReadTimeout`.
//!
//! The local replica is served by the storage engine directly, never over the network.
//! Replica placement comes from the ring built from the membership view; each keyspace's
//! strategy comes from the layer above through [`PlacementResolver`].

pub mod batchlog;
mod hints_dispatch;
pub mod messages;
mod range;
mod read;
mod replica;
mod topology;
mod write;

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use meridian_storage::Engine;
use parking_lot::Mutex;

use crate::hints::HintStore;
use crate::ids::HostId;
use crate::membership::Membership;
use crate::net::Messaging;
use crate::ring::ReplicationStrategy;

pub use batchlog::BatchlogStore;
pub use range::RangeBatch;
pub use replica::ExtensionHandler;
pub use topology::Topology;

/// A request's consistency level (the CQL levels; SERIAL levels are only for conditions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConsistencyLevel {
    /// A write is stored somewhere, possibly only as a hint.
    Any,
    /// One replica.
    One,
    /// Two replicas.
    Two,
    /// Three replicas.
    Three,
    /// A majority of all replicas.
    Quorum,
    /// Every replica.
    All,
    /// A majority of the coordinator's datacenter's replicas.
    LocalQuorum,
    /// A majority in every datacenter.
    EachQuorum,
    /// Paxos across datacenters (conditions only).
    Serial,
    /// Paxos in the local datacenter (conditions only).
    LocalSerial,
    /// One replica of the coordinator's datacenter.
    LocalOne,
}

impl ConsistencyLevel {
    /// The CQL name.
    pub fn name(self) -> &'static str {
        match self {
            ConsistencyLevel::Any => "ANY",
            ConsistencyLevel::One => "ONE",
            ConsistencyLevel::Two => "TWO",
            ConsistencyLevel::Three => "THREE",
            ConsistencyLevel::Quorum => "QUORUM",
            ConsistencyLevel::All => "ALL",
            ConsistencyLevel::LocalQuorum => "LOCAL_QUORUM",
            ConsistencyLevel::EachQuorum => "EACH_QUORUM",
            ConsistencyLevel::Serial => "SERIAL",
            ConsistencyLevel::LocalSerial => "LOCAL_SERIAL",
            ConsistencyLevel::LocalOne => "LOCAL_ONE",
        }
    }

    /// Whether only the coordinator's datacenter counts.
    pub fn is_local(self) -> bool {
        matches!(
            self,
            ConsistencyLevel::LocalQuorum
                | ConsistencyLevel::LocalOne
                | ConsistencyLevel::LocalSerial
        )
    }
}

/// What kind of write timed out (the native protocol's write types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteType {
    /// A single-partition write.
    Simple,
    /// A logged batch.
    Batch,
    /// An unlogged batch.
    UnloggedBatch,
    /// A batch-log write.
    BatchLog,
    /// A conditional write.
    Cas,
}

impl WriteType {
    /// The protocol's name.
    pub fn name(self) -> &'static str {
        match self {
            WriteType::Simple => "SIMPLE",
            WriteType::Batch => "BATCH",
            WriteType::UnloggedBatch => "UNLOGGED_BATCH",
            WriteType::BatchLog => "BATCH_LOG",
            WriteType::Cas => "CAS",
        }
    }
}

/// Why a coordinated request failed.
#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    /// Too few replicas alive to even try.
    #[error("Cannot achieve consistency level {}: {required} replicas required, {alive} alive", .consistency.name())]
    Unavailable {
        /// The level.
        consistency: ConsistencyLevel,
        /// Replicas the level needs.
        required: u32,
        /// Replicas alive.
        alive: u32,
    },
    /// Too few acknowledgements in time.
    #[error("Operation timed out - received only {received} responses of {block_for} required for {} write at {}", .write_type.name(), .consistency.name())]
    WriteTimeout {
        /// The level.
        consistency: ConsistencyLevel,
        /// Acknowledgements received.
        received: u32,
        /// Acknowledgements required.
        block_for: u32,
        /// What was written.
        write_type: WriteType,
    },
    /// Too few answers in time.
    #[error("Operation timed out - received only {received} responses of {block_for} required for read at {}", .consistency.name())]
    ReadTimeout {
        /// The level.
        consistency: ConsistencyLevel,
        /// Answers received.
        received: u32,
        /// Answers required.
        block_for: u32,
        /// Whether the data replica answered.
        data_present: bool,
    },
    /// The request is not valid in this cluster (e.g. an unknown keyspace).
    #[error("{0}")]
    Invalid(String),
    /// The local storage engine failed.
    #[error(transparent)]
    Storage(#[from] meridian_storage::StorageError),
    /// Something else failed on the coordinator or a replica.
    #[error("{0}")]
    Internal(String),
}

/// Where a table's data lives: its keyspace and replication strategy.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    /// The keyspace name.
    pub keyspace: Arc<str>,
    /// The keyspace's replication.
    pub strategy: ReplicationStrategy,
}

/// Resolves tables to their placement (implemented by the layer that owns the schema).
pub trait PlacementResolver: Send + Sync + 'static {
    /// The placement of `table`, if the table exists.
    fn placement(&self, table: meridian_types::model::TableId) -> Option<Placement>;
}

/// Timeouts and limits (Cassandra's defaults).
#[derive(Clone, Debug)]
pub struct CoordinatorConfig {
    /// `write_request_timeout` (2 s).
    pub write_timeout: Duration,
    /// `read_request_timeout` (5 s).
    pub read_timeout: Duration,
    /// `range_request_timeout` (10 s).
    pub range_timeout: Duration,
    /// `truncate_request_timeout` (60 s).
    pub truncate_timeout: Duration,
    /// Delay after which a read sends a speculative request to another replica.
    pub speculative_retry_delay: Duration,
    /// `max_hint_window` (3 h): a node down longer gets no more hints.
    pub max_hint_window: Duration,
    /// Bytes of hints sent per replay batch.
    pub hint_batch_bytes: usize,
    /// `hinted_handoff_enabled`: store hints for unreachable replicas.
    pub hints_enabled: bool,
    /// Hints of one target in flight at once during replay.
    pub hint_replay_in_flight: usize,
    /// `hinted_handoff_throttle`: most hint bytes replayed per second per target (0: no
    /// limit but the in-flight window).
    pub hint_replay_bytes_per_sec: u64,
    /// Run storage calls (engine and hint store) directly on the async task instead of on
    /// tokio's blocking pool. For deterministic simulations only (turmoil runs every node
    /// on one thread, and a blocking-pool thread would race with simulated time); a real
    /// node keeps the default `false` so storage never stalls the async workers. (Writes
    /// the engine can apply without waiting, [`meridian_storage::Engine::try_apply`], run
    /// on the calling task either way.)
    pub storage_inline: bool,
}

impl Default for CoordinatorConfig {
    fn default() -> Self {
        CoordinatorConfig {
            write_timeout: Duration::from_millis(2_000),
            read_timeout: Duration::from_millis(5_000),
            range_timeout: Duration::from_millis(10_000),
            truncate_timeout: Duration::from_millis(60_000),
            speculative_retry_delay: Duration::from_millis(50),
            max_hint_window: Duration::from_secs(3 * 3600),
            hint_batch_bytes: 4 * 1024 * 1024,
            hints_enabled: true,
            hint_replay_in_flight: 16,
            hint_replay_bytes_per_sec: 0,
            storage_inline: false,
        }
    }
}

/// Runs a storage call on the blocking pool, or as a plain task on the current runtime
/// when `inline` ([`CoordinatorConfig::storage_inline`]). Either way the result (or the
/// panic) comes back through the join handle.
pub(crate) fn run_storage<T, F>(inline: bool, f: F) -> tokio::task::JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    if inline {
        tokio::spawn(async move { f() })
    } else {
        tokio::task::spawn_blocking(f)
    }
}

/// Counters of what the coordinator did.
#[derive(Debug, Default)]
pub struct CoordinatorStats {
    /// Mutations sent to remote datacenters (one per datacenter per write).
    pub cross_dc_mutations: AtomicU64,
    /// Hints stored.
    pub hints_stored: AtomicU64,
    /// Hints replayed.
    pub hints_replayed: AtomicU64,
    /// Hint bytes replayed.
    pub hint_bytes_replayed: AtomicU64,
    /// Read repairs (digest mismatches repaired).
    pub read_repairs: AtomicU64,
    /// Speculative read requests sent.
    pub speculative_reads: AtomicU64,
}

/// The coordinator. Cheap to share (`Arc`).
pub struct Coordinator {
    local: HostId,
    engine: Engine,
    membership: Arc<dyn Membership>,
    messaging: OnceLock<Messaging>,
    hints: Arc<HintStore>,
    resolver: OnceLock<Arc<dyn PlacementResolver>>,
    topology: Mutex<Arc<Topology>>,
    config: CoordinatorConfig,
    next_write_id: AtomicU64,
    pending_writes: Mutex<HashMap<u64, Arc<write::WriteTracker>>>,
    down_since: Mutex<HashMap<HostId, std::time::Instant>>,
    stats: CoordinatorStats,
    extension: OnceLock<Arc<dyn ExtensionHandler>>,
    batchlog: OnceLock<Arc<BatchlogStore>>,
}

impl Coordinator {
    /// A coordinator for the local node `local`. Attach messaging with
    /// [`Coordinator::attach_messaging`] and a resolver with [`Coordinator::set_resolver`]
    /// before use.
    pub fn new(
        engine: Engine,
        membership: Arc<dyn Membership>,
        hints: Arc<HintStore>,
        config: CoordinatorConfig,
    ) -> Arc<Coordinator> {
        let view = membership.view();
        let topology = Arc::new(Topology::from_view(&view));
        Arc::new(Coordinator {
            local: view.local,
            engine,
            membership,
            messaging: OnceLock::new(),
            hints,
            resolver: OnceLock::new(),
            topology: Mutex::new(topology),
            config,
            next_write_id: AtomicU64::new(1),
            pending_writes: Mutex::new(HashMap::new()),
            down_since: Mutex::new(HashMap::new()),
            stats: CoordinatorStats::default(),
            extension: OnceLock::new(),
            batchlog: OnceLock::new(),
        })
    }

    /// Attaches the messaging service (once) and starts the background tasks that follow
    /// membership (ring rebuilds, hint replay).
    pub fn attach_messaging(self: &Arc<Self>, messaging: Messaging) {
        if self.messaging.set(messaging).is_ok() {
            hints_dispatch::spawn(self.clone());
        }
    }

    /// The handler to give the messaging service: the replica side of every data verb.
    pub fn message_handler(self: &Arc<Self>) -> Arc<dyn crate::net::MessageHandler> {
        Arc::new(replica::ReplicaHandler(Arc::downgrade(self)))
    }

    /// Gives the coordinator its batch log (once) and starts replaying abandoned batches:
    /// logged batches over several partitions then go through the batch log.
    pub fn set_batchlog(self: &Arc<Self>, store: Arc<BatchlogStore>) {
        if self.batchlog.set(store).is_ok() {
            batchlog::spawn_replay(self);
        }
    }

    /// Sets how tables map to keyspaces and strategies (once).
    pub fn set_resolver(&self, resolver: Arc<dyn PlacementResolver>) {
        let _ = self.resolver.set(resolver);
    }

    /// Sets the handler of extension verbs (>= [`messages::FIRST_EXTENSION_VERB`]) (once).
    pub fn set_extension_handler(&self, handler: Arc<dyn ExtensionHandler>) {
        let _ = self.extension.set(handler);
    }

    /// The local host id.
    pub fn local(&self) -> HostId {
        self.local
    }

    /// The storage engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The membership.
    pub fn membership(&self) -> &Arc<dyn Membership> {
        &self.membership
    }

    /// The messaging service, once attached.
    pub fn messaging(&self) -> Option<&Messaging> {
        self.messaging.get()
    }

    /// The hint store.
    pub fn hints(&self) -> &Arc<HintStore> {
        &self.hints
    }

    /// Counters.
    pub fn stats(&self) -> &CoordinatorStats {
        &self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &CoordinatorConfig {
        &self.config
    }

    /// The current topology (rebuilt when the membership view changed).
    pub fn topology(&self) -> Arc<Topology> {
        let view = self.membership.view();
        let mut guard = self.topology.lock();
        if Arc::ptr_eq(guard.view(), &view) {
            return guard.clone();
        }
        if topology::same_ring(guard.view(), &view) {
            // Only liveness, load or schema versions changed: keep the ring and the
            // cached replica maps, remember the new snapshot.
            *guard = Arc::new(guard.with_view(view));
        } else {
            *guard = Arc::new(Topology::from_view(&view));
        }
        guard.clone()
    }

    /// Whether every replica of every keyspace is this node (a one-node cluster): the
    /// layer above may then read and write storage directly.
    pub fn is_single_node(&self) -> bool {
        let view = self.membership.view();
        view.members.len() == 1
    }

    /// Truncates a table on every node; all must be up (as in Cassandra).
    pub async fn truncate(
        self: &Arc<Self>,
        table: meridian_types::model::TableId,
    ) -> Result<(), CoordinatorError> {
        let topology = self.topology();
        let view = topology.view().clone();
        let members: Vec<_> = view
            .members
            .values()
            .filter(|m| m.info.state != crate::membership::NodeState::Left)
            .collect();
        let alive = members.iter().filter(|m| m.up).count() as u32;
        if alive < members.len() as u32 {
            return Err(CoordinatorError::Unavailable {
                consistency: ConsistencyLevel::All,
                required: members.len() as u32,
                alive,
            });
        }
        let messaging = self.messaging_or_err()?.clone();
        let mut calls = Vec::new();
        for m in members {
            if m.info.host_id == self.local {
                let engine = self.engine.clone();
                let inline = self.config.storage_inline;
                calls.push(futures::future::Either::Left(async move {
                    run_storage(inline, move || engine.truncate(table))
                        .await
                        .map_err(|e| CoordinatorError::Internal(e.to_string()))?
                        .map_err(CoordinatorError::from)
                }));
            } else {
                let addr = m.info.internode_address;
                let messaging = messaging.clone();
                let timeout = self.config.truncate_timeout;
                calls.push(futures::future::Either::Right(async move {
                    messaging
                        .request(
                            addr,
                            messages::VERB_TRUNCATE,
                            bytes::Bytes::copy_from_slice(table.0.as_bytes()),
                            timeout,
                        )
                        .await
                        .map(|_| ())
                        .map_err(|e| CoordinatorError::Internal(format!("truncate on {addr}: {e}")))
                }));
            }
        }
        for r in futures::future::join_all(calls).await {
            r?;
        }
        Ok(())
    }

    fn placement(
        &self,
        table: meridian_types::model::TableId,
    ) -> Result<Placement, CoordinatorError> {
        self.resolver
            .get()
            .and_then(|r| r.placement(table))
            .ok_or_else(|| CoordinatorError::Invalid(format!("unknown table {}", table.0)))
    }

    fn messaging_or_err(&self) -> Result<&Messaging, CoordinatorError> {
        self.messaging
            .get()
            .ok_or_else(|| CoordinatorError::Internal("internode messaging is not started".into()))
    }
}
