//! The node's HTTP admin API (axum), on `listen_address:admin_port`.
//!
//! Routes:
//! - `GET /v1/health`: `200 ok` while the node serves (it is started once the CQL listener
//!   is bound, so an answer means the node accepts clients).
//! - `GET /v1/cluster`: this node's view of the cluster as [`ClusterStatus`] JSON.
//! - `GET /v1/replicas?keyspace=K&token=T`: the host ids replicating token T of keyspace K.
//! - `GET /v1/hints`: the hints this node holds, per target node.
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
