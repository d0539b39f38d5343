//! The node as statements see it, the client session, per-request options and bound values.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use meridian_cluster::coordinator::{ConsistencyLevel, Coordinator, WriteType};
use meridian_cql_protocol::{Consistency, Event, Value};
use meridian_cql_server::EventBus;
use meridian_schema::Schema;
use meridian_storage::{Engine, TryApplyError};
use meridian_types::model::{Mutation, Partition, Slice, TableId};
use meridian_types::token::PartitionKey;
use meridian_types::token::Token;
use parking_lot::{Mutex, RwLock};

use crate::error::QueryError;

/// Who this node is: what `system.local` reports.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    /// `cluster_name`.
    pub cluster_name: String,
    /// `data_center`.
    pub datacenter: String,
    /// `rack`.
    pub rack: String,
    /// `host_id`.
    pub host_id: uuid::Uuid,
    /// The node's tokens.
    pub tokens: Vec<Token>,
    /// Address other nodes reach it on.
    pub listen_address: IpAddr,
    /// Address clients reach it on.
    pub rpc_address: IpAddr,
    /// CQL port.
    pub native_port: u16,
    /// Internode port.
    pub storage_port: u16,
    /// Reported Cassandra release (`release_version`).
    pub release_version: String,
    /// Reported CQL version.
    pub cql_version: String,
    /// The partitioner class.
    pub partitioner: String,
}

impl NodeInfo {
    /// Cassandra 5.0-compatible identity for a single node.
    pub const RELEASE_VERSION: &'static str = "5.0.0";
    /// CQL language version reported.
    pub const CQL_VERSION: &'static str = "3.4.7";
    /// The only partitioner.
    pub const PARTITIONER: &'static str = "org.apache.cassandra.dht.Murmur3Partitioner";
}

/// Number of lock stripes serialising conditional statements per partition.
const PARTITION_LOCK_STRIPES: usize = 1024;

/// The node: storage engine, schema, identity, event bus.
pub struct Node {
    /// The storage engine.
    pub engine: Engine,
    /// Who this node is.
    pub info: NodeInfo,
    schema: RwLock<Arc<Schema>>,
    schema_path: PathBuf,
    ddl_lock: Mutex<()>,
    events: OnceLock<EventBus>,
    last_timestamp_micros: AtomicI64,
    partition_locks: Vec<Mutex<()>>,
    inline_execution: std::sync::atomic::AtomicBool,
    cluster: OnceLock<Arc<Coordinator>>,
    schema_listener: OnceLock<SchemaListener>,
}

/// Called with the new schema after every applied schema change (local DDL or a merged
/// remote schema): the cluster layer publishes the version and pushes the schema to peers.
pub type SchemaListener = Box<dyn Fn(&Arc<Schema>) + Send + Sync>;

impl Node {
    /// A node over `engine` whose schema is persisted at `schema_path`.
    pub fn new(engine: Engine, info: NodeInfo, schema: Schema, schema_path: PathBuf) -> Self {
        Node {
            engine,
            info,
            schema: RwLock::new(Arc::new(schema)),
            schema_path,
            ddl_lock: Mutex::new(()),
            events: OnceLock::new(),
            last_timestamp_micros: AtomicI64::new(0),
            partition_locks: (0..PARTITION_LOCK_STRIPES)
                .map(|_| Mutex::new(()))
                .collect(),
            inline_execution: std::sync::atomic::AtomicBool::new(false),
            cluster: OnceLock::new(),
            schema_listener: OnceLock::new(),
        }
    }

    /// Sets the schema-change listener (once).
    pub fn set_schema_listener(&self, listener: SchemaListener) {
        let _ = self.schema_listener.set(listener);
    }

    /// Attaches the cluster coordinator (once). Until then, and while the cluster has a
    /// single member, statements use the storage engine directly.
    pub fn attach_cluster(&self, coordinator: Arc<Coordinator>) {
        let _ = self.cluster.set(coordinator);
    }

    /// The coordinator, attached or not.
    pub fn coordinator(&self) -> Option<&Arc<Coordinator>> {
        self.cluster.get()
    }

    /// The coordinator when the cluster has other members: reads and writes must then go
    /// through it.
    pub fn distributed(&self) -> Option<&Arc<Coordinator>> {
        self.cluster.get().filter(|c| !c.is_single_node())
    }

    /// Writes a mutation: through the coordinator at `consistency` in a cluster, to the
    /// local engine otherwise.
    pub fn write(
        &self,
        mutation: Mutation,
        consistency: Consistency,
        write_type: WriteType,
    ) -> Result<(), QueryError> {
        match self.distributed() {
            None => match self.engine.try_apply(mutation) {
                Ok(()) => Ok(()),
                Err(TryApplyError::Failed(e)) => Err(e.into()),
                // Memtables at their budget (or a batch-mode fsync): this thread waits.
                Err(TryApplyError::WouldBlock(mutation)) => {
                    Ok(may_wait(|| self.engine.apply(mutation))?)
                }
            },
            Some(c) => {
                let cl = cluster_consistency(consistency);
                Ok(block_on(c.write(mutation, cl, write_type))?)
            }
        }
    }

    /// Reads the live content of one partition at `consistency`.
    pub fn read_live(
        &self,
        table: TableId,
        key: &PartitionKey,
        cmd: &meridian_storage::ReadCommand,
        consistency: Consistency,
    ) -> Result<Option<meridian_storage::LivePartition>, QueryError> {
        if self.distributed().is_none() {
            return Ok(self.engine.read_live(table, key, cmd)?);
        }
        let Some(p) = self.read_partition(table, key, &cmd.slices, consistency)? else {
            return Ok(None);
        };
        Ok(meridian_storage::read::live(key.clone(), p, cmd, cmd.limit))
    }

    /// Reads one partition (with its tombstones) at `consistency`.
    pub fn read_partition(
        &self,
        table: TableId,
        key: &PartitionKey,
        slices: &[Slice],
        consistency: Consistency,
    ) -> Result<Option<Partition>, QueryError> {
        match self.distributed() {
            None => Ok(self.engine.read(table, key, slices)?),
            Some(c) => {
                let cl = cluster_consistency(consistency);
                Ok(block_on(c.read(table, key, slices, cl))?)
            }
        }
    }

    /// Lets statements run on the async workers instead of the blocking pool. Only right
    /// when no statement waits long: the commit log is `periodic` (a write never waits for
    /// an fsync), so the work is memory-bound and a thread hand-off would cost more than it.
    pub fn set_inline_execution(&self, inline: bool) {
        self.inline_execution.store(inline, Ordering::Relaxed);
    }

    /// Whether statements run on the async workers (see [`Node::set_inline_execution`]):
    /// never while the cluster has other members (statements then wait on replicas).
    pub fn inline_execution(&self) -> bool {
        self.inline_execution.load(Ordering::Relaxed) && self.distributed().is_none()
    }

    /// The current schema.
    pub fn schema(&self) -> Arc<Schema> {
        self.schema.read().clone()
    }

    /// Applies a schema change: `change` edits a copy of the schema (and may change storage
    /// tables); on success the new schema is persisted durably, then published. DDL is
    /// serialised node-wide.
    pub fn update_schema<R>(
        &self,
        change: impl FnOnce(&mut Schema) -> Result<R, QueryError>,
    ) -> Result<R, QueryError> {
        let _ddl = self.ddl_lock.lock();
        let mut next = (*self.schema()).clone();
        let result = change(&mut next)?;
        let changed = next.version() != self.schema().version();
        persist_schema(&next, &self.schema_path)?;
        let next = Arc::new(next);
        *self.schema.write() = next.clone();
        if changed {
            if let Some(listener) = self.schema_listener.get() {
                listener(&next);
            }
        }
        Ok(result)
    }

    /// Attaches the event bus of the CQL server (once).
    pub fn set_event_bus(&self, bus: EventBus) {
        let _ = self.events.set(bus);
    }

    /// Publishes an event to registered clients.
    pub fn publish(&self, event: Event) {
        if let Some(bus) = self.events.get() {
            bus.publish(event);
        }
    }

    /// A server-side write timestamp: the current time in microseconds, strictly increasing
    /// across calls (as Cassandra's `ClientState.getTimestamp`).
    pub fn next_timestamp_micros(&self) -> i64 {
        let now = now_micros();
        let mut last = self.last_timestamp_micros.load(Ordering::Relaxed);
        loop {
            let next = now.max(last + 1);
            match self.last_timestamp_micros.compare_exchange_weak(
                last,
                next,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(actual) => last = actual,
            }
        }
    }

    /// The lock serialising conditional statements on one partition of one table.
    pub fn partition_lock(&self, table: &uuid::Uuid, token: Token) -> &Mutex<()> {
        let h = (token.0 as u64) ^ (table.as_u64_pair().0);
        &self.partition_locks[(h as usize) % PARTITION_LOCK_STRIPES]
    }
}

/// Writes the schema atomically and durably (temporary file, fsync, rename, directory fsync).
pub fn persist_schema(schema: &Schema, path: &std::path::Path) -> Result<(), QueryError> {
    let bytes = schema.to_persisted();
    let tmp = path.with_extension("tmp");
    let io = |what: &str, e: std::io::Error| {
        QueryError::server(format!("{what} {}: {e}", path.display()))
    };
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp).map_err(|e| io("create", e))?;
        f.write_all(&bytes).map_err(|e| io("write", e))?;
        f.sync_all().map_err(|e| io("sync", e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io("rename", e))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io("sync directory of", e))?;
    }
    Ok(())
}

/// Loads a persisted schema; a missing file is the empty schema.
pub fn load_schema(path: &std::path::Path) -> Result<Schema, QueryError> {
    match std::fs::read(path) {
        Ok(bytes) => Schema::from_persisted(&bytes).map_err(|e| {
            QueryError::server(format!("corrupt schema file {}: {e}", path.display()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Schema::new()),
        Err(e) => Err(QueryError::server(format!(
            "read schema {}: {e}",
            path.display()
        ))),
    }
}

/// Runs a coordinator future to completion from a statement's (synchronous) thread. A
/// coordinator exists only inside the node's runtime (it owns tasks there), and statements
/// run on that runtime's workers or blocking pool, so the current handle is always there.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let handle = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| handle.block_on(future))
}

/// Runs `f`, which may wait for a while. On a worker of the multi-threaded runtime (a
/// statement executed inline, see [`Node::set_inline_execution`]) the worker first hands its
/// other tasks to another thread, so one waiting statement does not stall every connection
/// queued behind it; elsewhere (the blocking pool, no runtime) it simply runs.
fn may_wait<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// The coordinator's consistency level for a protocol one.
pub fn cluster_consistency(c: Consistency) -> ConsistencyLevel {
    match c {
        Consistency::Any => ConsistencyLevel::Any,
        Consistency::One => ConsistencyLevel::One,
        Consistency::Two => ConsistencyLevel::Two,
        Consistency::Three => ConsistencyLevel::Three,
        Consistency::Quorum => ConsistencyLevel::Quorum,
        Consistency::All => ConsistencyLevel::All,
        Consistency::LocalQuorum => ConsistencyLevel::LocalQuorum,
        Consistency::EachQuorum => ConsistencyLevel::EachQuorum,
        Consistency::Serial => ConsistencyLevel::Serial,
        Consistency::LocalSerial => ConsistencyLevel::LocalSerial,
        Consistency::LocalOne => ConsistencyLevel::LocalOne,
    }
}

/// Wall-clock microseconds since the epoch.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// One client connection's state. Requests of a connection run concurrently, so it is
/// shared behind locks; clones share the same state.
#[derive(Debug, Default, Clone)]
pub struct Session {
    keyspace: Arc<Mutex<Option<String>>>,
}

impl Session {
    /// A session with no keyspace.
    pub fn new() -> Self {
        Self::default()
    }

    /// The keyspace set by `USE`.
    pub fn keyspace(&self) -> Option<String> {
        self.keyspace.lock().clone()
    }

    /// Sets the keyspace (`USE`).
    pub fn set_keyspace(&self, keyspace: String) {
        *self.keyspace.lock() = Some(keyspace);
    }
}

/// Per-request options from the QUERY/EXECUTE/BATCH parameters.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// Consistency level.
    pub consistency: Consistency,
    /// Serial consistency for conditional statements.
    pub serial_consistency: Option<Consistency>,
    /// Client-supplied default timestamp (microseconds), used when the statement has none.
    pub timestamp_micros: Option<i64>,
    /// Page size in rows (`None` or <= 0: unpaged).
    pub page_size: Option<i32>,
    /// Paging state from the previous page.
    pub paging_state: Option<Bytes>,
    /// The request's "now" in microseconds (for now(), TTL expiry and server timestamps).
    pub now_micros: i64,
}

impl ExecOptions {
    /// Defaults: ONE, unpaged, now.
    pub fn new() -> Self {
        ExecOptions {
            consistency: Consistency::One,
            serial_consistency: None,
            timestamp_micros: None,
            page_size: None,
            paging_state: None,
            now_micros: now_micros(),
        }
    }

    /// "Now" in seconds.
    pub fn now_secs(&self) -> i64 {
        self.now_micros.div_euclid(1_000_000)
    }
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// The values bound to a statement's markers, in marker order (named values are reordered
/// by the processor before execution).
#[derive(Clone, Debug, Default)]
pub struct BoundValues {
    /// One value per marker.
    pub values: Vec<Value>,
}

impl BoundValues {
    /// No values.
    pub fn none() -> Self {
        Self::default()
    }

    /// The value of marker `index`, or an error naming the count mismatch.
    pub fn get(&self, index: usize) -> Result<&Value, QueryError> {
        self.values.get(index).ok_or_else(|| {
            QueryError::invalid(format!(
                "There were {} markers(?) in CQL but {} bound variables",
                index + 1,
                self.values.len()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::may_wait;

    #[test]
    fn may_wait_runs_anywhere_a_statement_can_run() {
        assert_eq!(may_wait(|| 1), 1);
        let current = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // `block_in_place` would panic here: the helper must not use it.
        assert_eq!(current.block_on(async { may_wait(|| 2) }), 2);
        let multi = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        assert_eq!(multi.block_on(async { may_wait(|| 3) }), 3);
        let on_worker = multi.block_on(async { tokio::spawn(async { may_wait(|| 4) }).await });
        assert_eq!(on_worker.unwrap(), 4);
        let on_blocking_pool =
            multi.block_on(async { tokio::task::spawn_blocking(|| may_wait(|| 5)).await });
        assert_eq!(on_blocking_pool.unwrap(), 5);
    }
}
