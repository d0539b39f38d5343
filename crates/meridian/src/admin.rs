//! The node's HTTP admin API (axum), on `listen_address:admin_port`.
//!
//! Routes:
//! - `GET /v1/health`: `200 ok` while the node serves (it is started once the CQL listener
//!   is bound, so an answer means the node accepts clients).
//! - `GET /v1/cluster`: this node's view of the cluster as [`ClusterStatus`] JSON.
//! - `GET /v1/replicas?keyspace=K&token=T`: the host ids replicating token T of keyspace K.
//! - `GET /v1/hints`: the hints this node holds, per target node.
//! - `GET /v1/stats`: the coordinator's counters and internode traffic per peer since the
//!   node started, as [`NodeStats`] JSON (`404` on a node without cluster membership).
//!
//! The view comes from an [`AdminSource`]: the node's gossip view
//! (`cluster_node::GossipAdminSource`, [`Membership::Gossip`]). `meridian cluster` reads these routes with its own client, so
//! the JSON shape here is the contract between the two (unknown fields are ignored by the
//! reader; fields are only ever added).
//!
//! Invariants: handlers never panic on a request; at most [`MAX_CONCURRENT_VIEWS`] views
//! are computed at once (each runs on the blocking pool, since a source may walk storage
//! statistics); the server stops accepting when the shutdown future resolves.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

/// Most `/v1/cluster` views computed concurrently; further requests wait their turn.
pub const MAX_CONCURRENT_VIEWS: usize = 8;

/// Where the admin API gets the cluster view from.
pub trait AdminSource: Send + Sync + 'static {
    /// This node's current view of the cluster. Called on the blocking pool; may read
    /// storage statistics, must not block for long.
    fn cluster_status(&self) -> ClusterStatus;

    /// The replicas (host ids, in placement order) of `token` in `keyspace`.
    fn replicas(&self, keyspace: &str, token: i64) -> Result<Vec<uuid::Uuid>, String> {
        let _ = (keyspace, token);
        Err("this node has no cluster membership".into())
    }

    /// Hints this node holds, per target node.
    fn hints(&self) -> Vec<HintBacklog> {
        Vec::new()
    }

    /// The coordinator's counters and internode traffic since the node started. Cheap
    /// (atomics and a short lock).
    fn stats(&self) -> Result<NodeStats, String> {
        Err("this node has no cluster membership".into())
    }
}

/// What `/v1/stats` returns: counters since the node started (they only grow, so a reader
/// measures an interval by subtracting two snapshots).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeStats {
    /// The datacenter of the node answering, when known.
    pub datacenter: Option<String>,
    /// What the coordinator did.
    pub coordinator: CoordinatorCounters,
    /// Internode messaging.
    pub messaging: MessagingCounters,
}

/// The coordinator's counters (`meridian_cluster::coordinator::CoordinatorStats`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinatorCounters {
    /// Mutations sent to remote datacenters: one per remote datacenter per write.
    pub cross_dc_mutations: u64,
    /// Hints stored.
    pub hints_stored: u64,
    /// Hints replayed to their targets.
    pub hints_replayed: u64,
    /// Bytes of the hints replayed.
    pub hint_bytes_replayed: u64,
    /// Read repairs (digest mismatches repaired).
    pub read_repairs: u64,
    /// Speculative read requests sent.
    pub speculative_reads: u64,
}

impl CoordinatorCounters {
    /// A snapshot of `stats`.
    pub fn from_stats(stats: &meridian_cluster::coordinator::CoordinatorStats) -> Self {
        use std::sync::atomic::Ordering::Relaxed;
        CoordinatorCounters {
            cross_dc_mutations: stats.cross_dc_mutations.load(Relaxed),
            hints_stored: stats.hints_stored.load(Relaxed),
            hints_replayed: stats.hints_replayed.load(Relaxed),
            hint_bytes_replayed: stats.hint_bytes_replayed.load(Relaxed),
            read_repairs: stats.read_repairs.load(Relaxed),
            speculative_reads: stats.speculative_reads.load(Relaxed),
        }
    }
}

/// Internode traffic with one peer, or a sum of several.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Traffic {
    /// Frames sent (requests, responses, one-way messages; urgent and bulk lanes).
    pub messages_sent: u64,
    /// Bytes of those frames, framing included.
    pub bytes_sent: u64,
    /// Frames received.
    pub messages_received: u64,
    /// Bytes of those frames, framing included.
    pub bytes_received: u64,
    /// Messages dropped before sending (full queue, expiry, fault layer).
    pub dropped: u64,
    /// Requests that timed out.
    pub timeouts: u64,
}

impl Traffic {
    /// The traffic counted in `peer`.
    pub fn from_peer(peer: &meridian_cluster::net::PeerStats) -> Self {
        Traffic {
            messages_sent: peer.urgent.messages_sent + peer.bulk.messages_sent,
            bytes_sent: peer.urgent.bytes_sent + peer.bulk.bytes_sent,
            messages_received: peer.messages_received,
            bytes_received: peer.bytes_received,
            dropped: peer.dropped,
            timeouts: peer.timeouts,
        }
    }

    /// Adds `other` to `self` (saturating).
    pub fn add(&mut self, other: &Traffic) {
        self.messages_sent = self.messages_sent.saturating_add(other.messages_sent);
        self.bytes_sent = self.bytes_sent.saturating_add(other.bytes_sent);
        self.messages_received = self
            .messages_received
            .saturating_add(other.messages_received);
        self.bytes_received = self.bytes_received.saturating_add(other.bytes_received);
        self.dropped = self.dropped.saturating_add(other.dropped);
        self.timeouts = self.timeouts.saturating_add(other.timeouts);
    }
}

/// Traffic with one peer address, and who that is when the membership knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerTraffic {
    /// The peer's internode address.
    pub address: SocketAddr,
    /// Its host id, when a member has that address.
    pub host_id: Option<uuid::Uuid>,
    /// Its datacenter, when a member has that address.
    pub datacenter: Option<String>,
    /// The traffic.
    #[serde(flatten)]
    pub traffic: Traffic,
}

/// Internode messaging counters of `/v1/stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagingCounters {
    /// Everything: every peer and `other_peers`.
    pub total: Traffic,
    /// Peers beyond the ones messaging tracks individually, together.
    pub other_peers: Traffic,
    /// Per peer, by address.
    pub peers: Vec<PeerTraffic>,
}

impl MessagingCounters {
    /// The counters of `net`, peers named by `locate` (address to host id and
    /// datacenter).
    pub fn from_net(
        net: &meridian_cluster::net::NetStats,
        locate: impl Fn(SocketAddr) -> Option<(uuid::Uuid, String)>,
    ) -> Self {
        let other_peers = Traffic::from_peer(&net.other_peers);
        let mut total = other_peers;
        let peers = net
            .peers
            .iter()
            .map(|(address, stats)| {
                let traffic = Traffic::from_peer(stats);
                total.add(&traffic);
                let (host_id, datacenter) = locate(*address).unzip();
                PeerTraffic {
                    address: *address,
                    host_id,
                    datacenter,
                    traffic,
                }
            })
            .collect();
        MessagingCounters {
            total,
            other_peers,
            peers,
        }
    }
}

/// One target's hint backlog, for `/v1/hints`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HintBacklog {
    /// The node the hints are for.
    pub target: uuid::Uuid,
    /// Hints waiting.
    pub hints: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Creation time of the oldest (microseconds since the epoch).
    pub oldest_micros: i64,
}

/// Query of `/v1/replicas`.
#[derive(Debug, Deserialize)]
struct ReplicasQuery {
    keyspace: String,
    token: i64,
}

/// What `/v1/cluster` returns: one node's view of the cluster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// The host id of the node answering.
    pub local_host_id: uuid::Uuid,
    /// Where `nodes` comes from.
    #[serde(default)]
    pub membership: Membership,
    /// Every node this node knows, itself included.
    pub nodes: Vec<NodeStatus>,
}

/// Where a [`ClusterStatus`] view comes from; tells a reader whether a view that lists
/// only the answering node means "alone" or "has not met its peers yet".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Membership {
    /// The node runs without cluster membership: it knows only itself.
    #[default]
    Local,
    /// `nodes` is the node's gossip view: every node it has heard of, up or down.
    Gossip,
}

/// One node in a [`ClusterStatus`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeStatus {
    /// Display name (`node_name`, e.g. `east-1`), when configured.
    pub name: Option<String>,
    /// Permanent identity.
    pub host_id: uuid::Uuid,
    /// Internode (listen) address.
    pub address: IpAddr,
    /// Where clients reach it for CQL.
    pub cql_address: SocketAddr,
    /// Datacenter.
    pub datacenter: String,
    /// Rack.
    pub rack: String,
    /// Whether the viewing node considers it alive.
    pub up: bool,
    /// Ring state.
    pub state: NodeState,
    /// Live data on disk (SSTables), Cassandra's "Load".
    pub load_bytes: u64,
    /// Fraction (0 to 1) of the token ring whose primary range it holds, when known.
    pub ownership: Option<f64>,
    /// Schema version it announced, when known.
    pub schema_version: Option<String>,
    /// Number of tokens it owns.
    pub tokens: usize,
}

/// A node's ring state, as Cassandra names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum NodeState {
    /// Owns its tokens and serves.
    Normal,
    /// Bootstrapping: receiving data before owning its tokens.
    Joining,
    /// Decommissioning: handing its data over.
    Leaving,
    /// Gone from the ring.
    Left,
}

impl NodeState {
    /// The upper-case name (`NORMAL`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Normal => "NORMAL",
            NodeState::Joining => "JOINING",
            NodeState::Leaving => "LEAVING",
            NodeState::Left => "LEFT",
        }
    }
}

/// Fraction of the Murmur3 ring (2^64 tokens) each node's primary ranges cover: a token
/// `t` owns `(previous token, t]`, the lowest token also owns the wrap-around. `nodes[i]`
/// are node i's tokens; nodes without tokens own 0. The fractions sum to 1 when any node
/// has a token. Duplicate tokens count once, for the first node listing them.
pub fn token_ownership(nodes: &[&[i64]]) -> Vec<f64> {
    let mut ring: Vec<(i64, usize)> = nodes
        .iter()
        .enumerate()
        .flat_map(|(i, tokens)| tokens.iter().map(move |t| (*t, i)))
        .collect();
    ring.sort_by_key(|(t, _)| *t);
    ring.dedup_by_key(|(t, _)| *t);
    let mut owned = vec![0u128; nodes.len()];
    const RING: u128 = 1 << 64;
    if ring.len() == 1 {
        owned[ring[0].1] = RING;
    }
    if ring.len() > 1 {
        for (k, (token, node)) in ring.iter().enumerate() {
            let previous = ring[(k + ring.len() - 1) % ring.len()].0;
            // Distance on the ring, modulo 2^64: the reinterpretation is the point.
            let width = token.wrapping_sub(previous) as u64;
            owned[*node] += u128::from(width);
        }
    }
    owned.iter().map(|w| *w as f64 / RING as f64).collect()
}

/// Why the admin API could not start.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The address could not be bound.
    #[error("bind the admin API on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// A running admin API.
pub struct AdminServer {
    local_addr: SocketAddr,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl AdminServer {
    /// The address it is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Waits until it has stopped (after the shutdown future resolved and in-flight
    /// requests finished).
    pub async fn stopped(self) -> std::io::Result<()> {
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}

#[derive(Clone)]
struct AppState {
    source: Arc<dyn AdminSource>,
    views: Arc<Semaphore>,
}

/// The admin routes over `source`.
pub fn router(source: Arc<dyn AdminSource>) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/cluster", get(cluster))
        .route("/v1/replicas", get(replicas))
        .route("/v1/hints", get(hints))
        .route("/v1/stats", get(stats))
        .with_state(AppState {
            source,
            views: Arc::new(Semaphore::new(MAX_CONCURRENT_VIEWS)),
        })
}

/// Binds `addr` (errors are returned here, before anything runs) and serves the admin
/// API in a task until `shutdown` resolves.
pub async fn serve_admin(
    addr: SocketAddr,
    source: Arc<dyn AdminSource>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<AdminServer, AdminError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| AdminError::Bind { addr, source })?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| AdminError::Bind { addr, source })?;
    let app = router(source);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    });
    let server = AdminServer { local_addr, task };
    tracing::info!(local_addr = %server.local_addr(), "admin API listening");
    Ok(server)
}

async fn health() -> &'static str {
    "ok"
}

async fn replicas(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<ReplicasQuery>,
) -> Result<Json<Vec<uuid::Uuid>>, (StatusCode, String)> {
    state
        .source
        .replicas(&q.keyspace, q.token)
        .map(Json)
        .map_err(|e| (StatusCode::BAD_REQUEST, e))
}

async fn hints(State(state): State<AppState>) -> Json<Vec<HintBacklog>> {
    let source = state.source.clone();
    Json(
        tokio::task::spawn_blocking(move || source.hints())
            .await
            .unwrap_or_default(),
    )
}

async fn stats(State(state): State<AppState>) -> Result<Json<NodeStats>, (StatusCode, String)> {
    let source = state.source.clone();
    match tokio::task::spawn_blocking(move || source.stats()).await {
        Ok(Ok(stats)) => Ok(Json(stats)),
        Ok(Err(e)) => Err((StatusCode::NOT_FOUND, e)),
        Err(e) => Err((
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("computing the stats failed: {e}"),
        )),
    }
}

async fn cluster(
    State(state): State<AppState>,
) -> Result<Json<ClusterStatus>, (StatusCode, String)> {
    let unavailable = |what: String| (StatusCode::SERVICE_UNAVAILABLE, what);
    let _permit = state
        .views
        .acquire()
        .await
        .map_err(|_| unavailable("the admin API is shutting down".into()))?;
    let source = state.source.clone();
    tokio::task::spawn_blocking(move || source.cluster_status())
        .await
        .map(Json)
        .map_err(|e| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("computing the cluster view failed: {e}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster_cmd::http;
    use meridian_cluster::net::{LaneStats, NetStats, PeerStats};
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    #[test]
    fn ownership_of_one_node_is_the_whole_ring() {
        assert_eq!(token_ownership(&[&[42]]), vec![1.0]);
        assert_eq!(token_ownership(&[&[i64::MIN + 1, 0, 7]]), vec![1.0]);
        assert_eq!(token_ownership(&[&[]]), vec![0.0]);
        assert!(token_ownership(&[]).is_empty());
    }

    #[test]
    fn ownership_splits_the_ring_by_primary_ranges() {
        // Node 0 at 0 owns (2^62, 2^64) ∪ [..0]: three quarters; node 1 at 2^62 a quarter.
        let own = token_ownership(&[&[0], &[1 << 62], &[]]);
        assert_eq!(own, vec![0.75, 0.25, 0.0]);
        let own = token_ownership(&[&[i64::MIN + 1, 0], &[-(1 << 62), 1 << 62]]);
        assert!((own[0] - 0.5).abs() < 1e-12 && (own[1] - 0.5).abs() < 1e-12);
        let sum: f64 = token_ownership(&[&[5, -9, 1 << 40], &[77, i64::MAX], &[3]])
            .iter()
            .sum();
        assert!((sum - 1.0).abs() < 1e-12);
    }

    struct Fixed(ClusterStatus);
    impl AdminSource for Fixed {
        fn cluster_status(&self) -> ClusterStatus {
            self.0.clone()
        }
    }

    fn sample() -> ClusterStatus {
        let id = uuid::Uuid::from_u128(7);
        ClusterStatus {
            local_host_id: id,
            membership: Membership::Gossip,
            nodes: vec![NodeStatus {
                name: Some("east-1".into()),
                host_id: id,
                address: [127, 0, 0, 1].into(),
                cql_address: "127.0.0.1:9042".parse().unwrap(),
                datacenter: "east".into(),
                rack: "rack1".into(),
                up: true,
                state: NodeState::Joining,
                load_bytes: 1234,
                ownership: Some(0.5),
                schema_version: Some("v".into()),
                tokens: 16,
            }],
        }
    }

    #[test]
    fn json_shape_is_stable() {
        let json = serde_json::to_value(sample()).unwrap();
        assert_eq!(json["membership"], "gossip");
        assert_eq!(json["nodes"][0]["state"], "JOINING");
        assert_eq!(json["nodes"][0]["address"], "127.0.0.1");
        assert_eq!(json["nodes"][0]["cql_address"], "127.0.0.1:9042");
        assert_eq!(json["local_host_id"], uuid::Uuid::from_u128(7).to_string());
        // A reader tolerates views without `membership` (it means local) and extra fields.
        let mut old = json.clone();
        old.as_object_mut().unwrap().remove("membership");
        old["extra"] = 1.into();
        let back: ClusterStatus = serde_json::from_value(old).unwrap();
        assert_eq!(back.membership, Membership::Local);
    }

    fn peer_stats(sent: (u64, u64), bulk: (u64, u64), received: (u64, u64)) -> PeerStats {
        PeerStats {
            urgent: LaneStats {
                messages_sent: sent.0,
                bytes_sent: sent.1,
            },
            bulk: LaneStats {
                messages_sent: bulk.0,
                bytes_sent: bulk.1,
            },
            messages_received: received.0,
            bytes_received: received.1,
            dropped: 1,
            timeouts: 2,
            ..PeerStats::default()
        }
    }

    fn sample_stats() -> NodeStats {
        let east: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        let west: SocketAddr = "127.0.0.4:7000".parse().unwrap();
        let stranger: SocketAddr = "10.0.0.9:7000".parse().unwrap();
        let mut net = NetStats::default();
        net.peers
            .insert(east, peer_stats((3, 300), (1, 1000), (5, 50)));
        net.peers
            .insert(west, peer_stats((7, 700), (0, 0), (2, 20)));
        net.peers
            .insert(stranger, peer_stats((1, 10), (0, 0), (0, 0)));
        net.other_peers = peer_stats((10, 1), (0, 0), (0, 0));
        let locate = |addr: SocketAddr| match addr {
            a if a == east => Some((uuid::Uuid::from_u128(1), "east".to_string())),
            a if a == west => Some((uuid::Uuid::from_u128(4), "west".to_string())),
            _ => None,
        };
        let coordinator = meridian_cluster::coordinator::CoordinatorStats::default();
        coordinator
            .cross_dc_mutations
            .fetch_add(42, Ordering::Relaxed);
        coordinator
            .hint_bytes_replayed
            .fetch_add(9000, Ordering::Relaxed);
        NodeStats {
            datacenter: Some("east".into()),
            coordinator: CoordinatorCounters::from_stats(&coordinator),
            messaging: MessagingCounters::from_net(&net, locate),
        }
    }

    #[test]
    fn stats_sum_lanes_and_peers_and_name_known_peers() {
        let stats = sample_stats();
        assert_eq!(stats.coordinator.cross_dc_mutations, 42);
        assert_eq!(stats.coordinator.hint_bytes_replayed, 9000);
        assert_eq!(stats.coordinator.hints_stored, 0);
        let m = &stats.messaging;
        assert_eq!(m.peers.len(), 3);
        // In address order.
        let addresses: Vec<String> = m.peers.iter().map(|p| p.address.to_string()).collect();
        assert_eq!(
            addresses,
            ["10.0.0.9:7000", "127.0.0.1:7000", "127.0.0.4:7000"]
        );
        let east = &m.peers[1];
        assert_eq!(east.host_id, Some(uuid::Uuid::from_u128(1)));
        assert_eq!(east.datacenter.as_deref(), Some("east"));
        // Urgent and bulk lanes together.
        assert_eq!(
            (east.traffic.messages_sent, east.traffic.bytes_sent),
            (4, 1300)
        );
        let stranger = m.peers.iter().find(|p| p.host_id.is_none()).unwrap();
        assert_eq!(stranger.datacenter, None);
        // Totals include every peer and the untracked ones.
        assert_eq!(m.total.messages_sent, 4 + 7 + 1 + 10);
        assert_eq!(m.total.bytes_sent, 1300 + 700 + 10 + 1);
        assert_eq!(m.total.messages_received, 7);
        assert_eq!(m.total.dropped, 4);
        assert_eq!(m.total.timeouts, 8);
        assert_eq!(m.other_peers.messages_sent, 10);
        // Peer traffic is flat in JSON, beside the peer's identity.
        let json = serde_json::to_value(&stats).unwrap();
        let peer = &json["messaging"]["peers"][2];
        assert_eq!(peer["address"], "127.0.0.4:7000");
        assert_eq!(peer["datacenter"], "west");
        assert_eq!(peer["messages_sent"], 7);
        assert_eq!(json["coordinator"]["cross_dc_mutations"], 42);
        assert_eq!(json["messaging"]["total"]["bytes_received"], 70);
        let back: NodeStats = serde_json::from_value(json).unwrap();
        assert_eq!(back, stats);
    }

    struct WithStats(NodeStats);
    impl AdminSource for WithStats {
        fn cluster_status(&self) -> ClusterStatus {
            sample()
        }
        fn stats(&self) -> Result<NodeStats, String> {
            Ok(self.0.clone())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stats_route_serves_the_source_or_404_without_cluster() {
        let with = serve_admin(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(WithStats(sample_stats())),
            std::future::pending(),
        )
        .await
        .unwrap()
        .local_addr();
        let without = serve_admin(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(Fixed(sample())),
            std::future::pending(),
        )
        .await
        .unwrap()
        .local_addr();
        let timeout = Duration::from_secs(5);
        let (found, missing) = tokio::task::spawn_blocking(move || {
            (
                http::get(with, "/v1/stats", timeout).unwrap(),
                http::get(without, "/v1/stats", timeout).unwrap(),
            )
        })
        .await
        .unwrap();
        assert_eq!(found.status, 200);
        let parsed: NodeStats = serde_json::from_slice(&found.body).unwrap();
        assert_eq!(parsed, sample_stats());
        assert_eq!(missing.status, 404);
        assert!(String::from_utf8_lossy(&missing.body).contains("no cluster membership"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn routes_answer_and_shutdown_stops_the_server() {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = serve_admin(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(Fixed(sample())),
            async {
                let _ = stopped.await;
            },
        )
        .await
        .unwrap();
        let addr = server.local_addr();
        let timeout = Duration::from_secs(5);
        let (health, view, missing) = tokio::task::spawn_blocking(move || {
            (
                http::get(addr, "/v1/health", timeout).unwrap(),
                http::get(addr, "/v1/cluster", timeout).unwrap(),
                http::get(addr, "/v1/nope", timeout).unwrap(),
            )
        })
        .await
        .unwrap();
        assert_eq!((health.status, health.body.as_slice()), (200, &b"ok"[..]));
        assert_eq!(view.status, 200);
        let parsed: ClusterStatus = serde_json::from_slice(&view.body).unwrap();
        assert_eq!(parsed, sample());
        assert_eq!(missing.status, 404);

        // A second bind on the same address names it.
        let err = serve_admin(addr, Arc::new(Fixed(sample())), std::future::pending())
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains(&addr.to_string()), "{err}");

        stop.send(()).unwrap();
        server.stopped().await.unwrap();
        let refused =
            tokio::task::spawn_blocking(move || http::get(addr, "/v1/health", timeout)).await;
        assert!(refused.unwrap().is_err());
    }
}
