//! The node's cluster side, wired together: gossip membership, internode messaging, the
//! hint store and the coordinator; token choice for a new node; schema exchange (push on
//! change, pull on a version mismatch seen in gossip); driver events from membership
//! changes; the load published in gossip.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use futures::future::BoxFuture;
use meridian_cluster::coordinator::messages::FIRST_EXTENSION_VERB;
use meridian_cluster::coordinator::{Coordinator, CoordinatorConfig, ExtensionHandler};
use meridian_cluster::hints::{HintConfig, HintStore};
use meridian_cluster::ids::HostId;
use meridian_cluster::membership::gossip::{GossipConfig, GossipMembership};
use meridian_cluster::membership::{ClusterView, LocalUpdate, MemberInfo, Membership, NodeState};
use meridian_cluster::net::{Messaging, NetConfig, Peer, TokioNetwork, Verb};
use meridian_cql_protocol::{Event, StatusChangeType, TopologyChangeType};
use meridian_query::placement::SchemaPlacement;
use meridian_query::Node;
use meridian_types::token::Token;

/// Pull the peer's schema (answer: persisted schema bytes).
pub const VERB_SCHEMA_PULL: Verb = Verb(FIRST_EXTENSION_VERB);
/// Push this node's schema (body: persisted schema bytes; answer: empty).
pub const VERB_SCHEMA_PUSH: Verb = Verb(FIRST_EXTENSION_VERB + 1);

/// How often schema versions seen in gossip are compared with ours.
const SCHEMA_CHECK_INTERVAL: Duration = Duration::from_millis(500);
/// How often the data size is published.
const LOAD_INTERVAL: Duration = Duration::from_secs(10);
/// How long a new node waits to hear of the ring before choosing tokens alone.
const RING_DISCOVERY_WAIT: Duration = Duration::from_secs(8);
/// The same for a seed, which may be the cluster's first node.
const SEED_RING_DISCOVERY_WAIT: Duration = Duration::from_secs(2);

/// What the node needs to join the cluster.
pub struct ClusterSettings {
    pub cluster_name: String,
    pub host_id: HostId,
    pub name: Option<String>,
    pub datacenter: String,
    pub rack: String,
    pub internode_address: SocketAddr,
    pub cql_address: SocketAddr,
    pub seeds: Vec<String>,
    pub tokens: Vec<Token>,
    pub num_tokens: u32,
    pub release_version: String,
    pub hints_dir: std::path::PathBuf,
    pub hints_enabled: bool,
    pub hint_throttle_bytes_per_sec: u64,
    pub batchlog_dir: std::path::PathBuf,
    /// Where the peers this node has heard of are remembered across restarts.
    pub peers_file: std::path::PathBuf,
}

/// The running cluster side.
pub struct ClusterNode {
    pub membership: Arc<GossipMembership>,
    pub messaging: Messaging,
    pub coordinator: Arc<Coordinator>,
}

/// Starts gossip and messaging, chooses tokens when the node has none (returns them so the
/// caller persists them), and attaches the coordinator to `node`.
pub async fn start(
    settings: ClusterSettings,
    node: &Arc<Node>,
) -> anyhow::Result<(ClusterNode, Vec<Token>)> {
    let generation = (meridian_query::context::now_micros() / 1_000_000).max(1) as u64;
    let has_tokens = !settings.tokens.is_empty();
    let local = MemberInfo {
        host_id: settings.host_id,
        generation,
        name: settings.name.clone(),
        datacenter: settings.datacenter.clone(),
        rack: settings.rack.clone(),
        tokens: settings.tokens.clone(),
        state: if has_tokens {
            NodeState::Normal
        } else {
            NodeState::Joining
        },
        internode_address: settings.internode_address,
        cql_address: settings.cql_address,
        schema_version: Some(node.schema().version()),
        release_version: settings.release_version.clone(),
        load_bytes: 0,
    };
    let mut gossip = GossipConfig::new(
        settings.cluster_name.clone(),
        settings.internode_address,
        settings.seeds.clone(),
    );
    gossip.known_members = load_peers(&settings.peers_file);
    let membership = GossipMembership::start(gossip, local)
        .await
        .context("start gossip")?;
    let hints = Arc::new(
        HintStore::open(&settings.hints_dir, HintConfig::default())
            .with_context(|| format!("open the hint store {}", settings.hints_dir.display()))?,
    );
    let coordinator = Coordinator::new(
        node.engine.clone(),
        membership.clone(),
        hints,
        CoordinatorConfig {
            hints_enabled: settings.hints_enabled,
            hint_replay_bytes_per_sec: settings.hint_throttle_bytes_per_sec,
            ..CoordinatorConfig::default()
        },
    );
    coordinator.set_resolver(Arc::new(SchemaPlacement(Arc::downgrade(node))));
    coordinator.set_extension_handler(Arc::new(SchemaExchange(Arc::downgrade(node))));
    let net = NetConfig::new(
        settings.internode_address,
        settings.cluster_name.clone(),
        settings.host_id,
    );
    let messaging = Messaging::start(net, Arc::new(TokioNetwork), coordinator.message_handler())
        .await
        .with_context(|| {
            format!(
                "listen for internode messages on {}",
                settings.internode_address
            )
        })?;
    coordinator.attach_messaging(messaging.clone());
    let batchlog = meridian_cluster::coordinator::BatchlogStore::open(&settings.batchlog_dir)
        .with_context(|| format!("open the batch log {}", settings.batchlog_dir.display()))?;
    coordinator.set_batchlog(Arc::new(batchlog));

    let tokens = if has_tokens {
        settings.tokens.clone()
    } else {
        let tokens = choose_tokens(&membership, &settings).await;
        membership.update_local(LocalUpdate::Tokens(tokens.clone()));
        membership.update_local(LocalUpdate::State(NodeState::Normal));
        tokens
    };
    node.attach_cluster(coordinator.clone());

    // Schema: publish our version and push to peers on every change.
    {
        let membership = membership.clone();
        let messaging = messaging.clone();
        node.set_schema_listener(Box::new(move |schema| {
            membership.update_local(LocalUpdate::SchemaVersion(schema.version()));
            let bytes = Bytes::from(schema.to_persisted());
            let view = membership.view();
            for peer in view.peers().filter(|m| m.up) {
                let messaging = messaging.clone();
                let bytes = bytes.clone();
                let addr = peer.info.internode_address;
                tokio::spawn(async move {
                    if let Err(e) = messaging
                        .request(addr, VERB_SCHEMA_PUSH, bytes, Duration::from_secs(10))
                        .await
                    {
                        tracing::debug!(%addr, error = %e, "schema push failed");
                    }
                });
            }
        }));
    }
    spawn_schema_pull(node.clone(), membership.clone(), messaging.clone());
    spawn_events(node.clone(), membership.clone());
    spawn_load(node.clone(), membership.clone());
    spawn_peer_persistence(membership.clone(), settings.peers_file.clone());
    Ok((
        ClusterNode {
            membership,
            messaging,
            coordinator,
        },
        tokens,
    ))
}

/// Tokens for a node that has none: balanced against the ring it hears of through gossip,
/// or evenly spaced from a random offset when it is alone.
async fn choose_tokens(
    membership: &Arc<GossipMembership>,
    settings: &ClusterSettings,
) -> Vec<Token> {
    let has_other_seeds = settings
        .seeds
        .iter()
        .any(|s| *s != settings.internode_address.to_string());
    let own = settings.internode_address.to_string();
    let is_seed = settings.seeds.contains(&own);
    if has_other_seeds {
        // A seed may be the first node of the cluster: it waits only briefly.
        let wait = if is_seed {
            SEED_RING_DISCOVERY_WAIT
        } else {
            RING_DISCOVERY_WAIT
        };
        let deadline = tokio::time::Instant::now() + wait;
        while tokio::time::Instant::now() < deadline {
            let view = membership.view();
            if view
                .peers()
                .any(|m| m.info.state == NodeState::Normal && !m.info.tokens.is_empty())
            {
                // Give gossip a moment to bring the rest of the ring.
                tokio::time::sleep(Duration::from_secs(2)).await;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let view = membership.view();
    let ring = ring_of(&view);
    if ring.is_empty() {
        return evenly_spaced(settings.num_tokens);
    }
    match meridian_cluster::ring::allocate_tokens(
        &ring,
        &settings.datacenter,
        &settings.rack,
        settings.num_tokens as usize,
        3,
    ) {
        Ok(tokens) => tokens,
        Err(e) => {
            tracing::warn!(error = %e, "balanced token allocation failed; spacing tokens evenly");
            evenly_spaced(settings.num_tokens)
        }
    }
}

/// The ring of NORMAL members of a view.
pub fn ring_of(view: &ClusterView) -> meridian_cluster::ring::TokenMetadata {
    let mut ring = meridian_cluster::ring::TokenMetadata::new();
    for m in view.members.values() {
        if m.info.state == NodeState::Normal && !m.info.tokens.is_empty() {
            let _ = ring.add_or_update(meridian_cluster::ring::NodeDesc {
                host_id: m.info.host_id,
                datacenter: m.info.datacenter.clone(),
                rack: m.info.rack.clone(),
                tokens: m.info.tokens.clone(),
            });
        }
    }
    ring
}

/// Evenly spaced tokens from a random offset: a lone node owns the ring evenly.
pub fn evenly_spaced(num_tokens: u32) -> Vec<Token> {
    let n = num_tokens.max(1);
    let step = (u64::MAX / u64::from(n)) as i64;
    let offset: i64 = rand::random::<i64>().rem_euclid(step.max(1));
    (0..i64::from(n))
        .map(|i| {
            i64::MIN
                .wrapping_add(offset)
                .wrapping_add(step.wrapping_mul(i))
        })
        .map(|t| Token(if t == i64::MIN { i64::MIN + 1 } else { t }))
        .collect()
}

/// Answers schema pulls and pushes.
struct SchemaExchange(std::sync::Weak<Node>);

impl ExtensionHandler for SchemaExchange {
    fn handle(
        &self,
        _from: Peer,
        verb: Verb,
        body: Bytes,
    ) -> BoxFuture<'static, Result<Bytes, String>> {
        let node = self.0.upgrade();
        Box::pin(async move {
            let node = node.ok_or("node is shutting down")?;
            match verb {
                VERB_SCHEMA_PULL => Ok(Bytes::from(node.schema().to_persisted())),
                VERB_SCHEMA_PUSH => tokio::task::spawn_blocking(move || {
                    meridian_query::schema_sync::apply_remote_schema(&node, &body)
                        .map(|_| Bytes::new())
                        .map_err(|e| e.to_string())
                })
                .await
                .map_err(|e| format!("schema merge task failed: {e}"))?,
                v => Err(format!("unknown verb {}", v.0)),
            }
        })
    }
}

/// Pulls the schema of any live peer whose gossiped version differs from ours.
fn spawn_schema_pull(node: Arc<Node>, membership: Arc<GossipMembership>, messaging: Messaging) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SCHEMA_CHECK_INTERVAL);
        loop {
            tick.tick().await;
            let ours = node.schema().version();
            let view = membership.view();
            let differing: Vec<SocketAddr> = view
                .peers()
                .filter(|m| m.up && m.info.schema_version.is_some_and(|v| v != ours))
                .map(|m| m.info.internode_address)
                .collect();
            for addr in differing {
                match messaging
                    .request(
                        addr,
                        VERB_SCHEMA_PULL,
                        Bytes::new(),
                        Duration::from_secs(10),
                    )
                    .await
                {
                    Ok(bytes) => {
                        let node = node.clone();
                        let merged = tokio::task::spawn_blocking(move || {
                            meridian_query::schema_sync::apply_remote_schema(&node, &bytes)
                        })
                        .await;
                        match merged {
                            Ok(Ok(_)) => {}
                            Ok(Err(e)) => tracing::warn!(%addr, error = %e, "schema merge failed"),
                            Err(e) => tracing::warn!(%addr, error = %e, "schema merge task failed"),
                        }
                    }
                    Err(e) => tracing::debug!(%addr, error = %e, "schema pull failed"),
                }
            }
            // Our own version may differ from what gossip shows after a merge.
            membership.update_local(LocalUpdate::SchemaVersion(node.schema().version()));
        }
    });
}

/// Turns membership changes into TOPOLOGY_CHANGE and STATUS_CHANGE events.
fn spawn_events(node: Arc<Node>, membership: Arc<GossipMembership>) {
    let mut rx = membership.subscribe();
    tokio::spawn(async move {
        let mut previous: BTreeMap<HostId, (bool, NodeState, SocketAddr)> = BTreeMap::new();
        let mut first = true;
        loop {
            let view = rx.borrow_and_update().clone();
            let mut current = BTreeMap::new();
            for m in view.peers() {
                current.insert(m.info.host_id, (m.up, m.info.state, m.info.cql_address));
            }
            if !first {
                for (host, (up, state, addr)) in &current {
                    match previous.get(host) {
                        None if *state == NodeState::Normal => {
                            node.publish(Event::TopologyChange {
                                change: TopologyChangeType::NewNode,
                                address: *addr,
                            });
                            if *up {
                                node.publish(Event::StatusChange {
                                    change: StatusChangeType::Up,
                                    address: *addr,
                                });
                            }
                        }
                        None => {}
                        Some((was_up, was_state, _)) => {
                            if *was_state != NodeState::Normal && *state == NodeState::Normal {
                                node.publish(Event::TopologyChange {
                                    change: TopologyChangeType::NewNode,
                                    address: *addr,
                                });
                            }
                            if *state == NodeState::Left && *was_state != NodeState::Left {
                                node.publish(Event::TopologyChange {
                                    change: TopologyChangeType::RemovedNode,
                                    address: *addr,
                                });
                            }
                            if was_up != up {
                                node.publish(Event::StatusChange {
                                    change: if *up {
                                        StatusChangeType::Up
                                    } else {
                                        StatusChangeType::Down
                                    },
                                    address: *addr,
                                });
                            }
                        }
                    }
                }
                for (host, (_, _, addr)) in &previous {
                    if !current.contains_key(host) {
                        node.publish(Event::TopologyChange {
                            change: TopologyChangeType::RemovedNode,
                            address: *addr,
                        });
                    }
                }
            }
            first = false;
            previous = current;
            if rx.changed().await.is_err() {
                return;
            }
        }
    });
}

/// A peer as remembered in the peers file.
#[derive(serde::Serialize, serde::Deserialize, PartialEq)]
struct PeerRecord {
    host_id: uuid::Uuid,
    name: Option<String>,
    datacenter: String,
    rack: String,
    tokens: Vec<i64>,
    state: String,
    internode_address: SocketAddr,
    cql_address: SocketAddr,
    release_version: String,
}

/// The peers remembered by a previous run (none when the file is missing or unreadable).
fn load_peers(path: &std::path::Path) -> Vec<MemberInfo> {
    let records: Vec<PeerRecord> = match std::fs::read(path) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring an unreadable peers file");
                return Vec::new();
            }
        },
        Err(_) => return Vec::new(),
    };
    records
        .into_iter()
        .filter_map(|r| {
            Some(MemberInfo {
                host_id: HostId(r.host_id),
                generation: 0,
                name: r.name,
                datacenter: r.datacenter,
                rack: r.rack,
                tokens: r.tokens.into_iter().map(Token).collect(),
                state: NodeState::parse(&r.state)?,
                internode_address: r.internode_address,
                cql_address: r.cql_address,
                schema_version: None,
                release_version: r.release_version,
                load_bytes: 0,
            })
        })
        .collect()
}

/// Writes the peers file whenever the set of peers or their placement changes.
fn spawn_peer_persistence(membership: Arc<GossipMembership>, path: std::path::PathBuf) {
    let mut rx = membership.subscribe();
    tokio::spawn(async move {
        let mut last: Vec<PeerRecord> = Vec::new();
        loop {
            let view = rx.borrow_and_update().clone();
            let records: Vec<PeerRecord> = view
                .peers()
                .map(|m| PeerRecord {
                    host_id: m.info.host_id.0,
                    name: m.info.name.clone(),
                    datacenter: m.info.datacenter.clone(),
                    rack: m.info.rack.clone(),
                    tokens: m.info.tokens.iter().map(|t| t.0).collect(),
                    state: m.info.state.as_str().to_string(),
                    internode_address: m.info.internode_address,
                    cql_address: m.info.cql_address,
                    release_version: m.info.release_version.clone(),
                })
                .collect();
            if records != last {
                let tmp = path.with_extension("tmp");
                let written = serde_json::to_vec_pretty(&records)
                    .map_err(std::io::Error::other)
                    .and_then(|bytes| std::fs::write(&tmp, bytes))
                    .and_then(|()| std::fs::rename(&tmp, &path));
                match written {
                    Ok(()) => last = records,
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "peers file not written")
                    }
                }
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    });
}

/// Publishes the data size in gossip.
fn spawn_load(node: Arc<Node>, membership: Arc<GossipMembership>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(LOAD_INTERVAL);
        loop {
            tick.tick().await;
            let node2 = node.clone();
            let bytes = tokio::task::spawn_blocking(move || {
                let engine = &node2.engine;
                engine
                    .table_ids()
                    .into_iter()
                    .filter_map(|t| engine.table_stats(t).ok())
                    .map(|s| s.live_disk_bytes + s.memtable_bytes)
                    .sum::<u64>()
            })
            .await
            .unwrap_or(0);
            membership.update_local(LocalUpdate::LoadBytes(bytes));
        }
    });
}

/// The admin API's view of a clustered node: its gossip view.
pub struct GossipAdminSource {
    pub node: Arc<Node>,
    pub coordinator: Arc<Coordinator>,
}

impl crate::admin::AdminSource for GossipAdminSource {
    fn cluster_status(&self) -> crate::admin::ClusterStatus {
        use crate::admin::{ClusterStatus, Membership as Kind, NodeState as S, NodeStatus};
        let view = self.coordinator.membership().view();
        let members: Vec<_> = view.members.values().collect();
        // Ownership within each datacenter (each datacenter holds its own copy of the ring,
        // so shares across datacenters would mean nothing).
        let mut ownership = vec![0.0; members.len()];
        let mut dcs: Vec<&str> = members.iter().map(|m| m.info.datacenter.as_str()).collect();
        dcs.sort_unstable();
        dcs.dedup();
        for dc in dcs {
            let idx: Vec<usize> = (0..members.len())
                .filter(|i| members[*i].info.datacenter == dc)
                .collect();
            let lists: Vec<Vec<i64>> = idx
                .iter()
                .map(|i| {
                    let m = members[*i];
                    if m.info.state == NodeState::Normal {
                        m.info.tokens.iter().map(|t| t.0).collect()
                    } else {
                        Vec::new()
                    }
                })
                .collect();
            let refs: Vec<&[i64]> = lists.iter().map(|v| v.as_slice()).collect();
            for (i, owned) in idx.iter().zip(crate::admin::token_ownership(&refs)) {
                ownership[*i] = owned;
            }
        }
        let local_schema = self.node.schema().version();
        let nodes = members
            .iter()
            .zip(ownership)
            .map(|(m, owned)| {
                let info = &m.info;
                NodeStatus {
                    name: info.name.clone(),
                    host_id: info.host_id.0,
                    address: info.internode_address.ip(),
                    cql_address: info.cql_address,
                    datacenter: info.datacenter.clone(),
                    rack: info.rack.clone(),
                    up: m.up,
                    state: match info.state {
                        NodeState::Normal => S::Normal,
                        NodeState::Joining => S::Joining,
                        NodeState::Leaving => S::Leaving,
                        NodeState::Left => S::Left,
                    },
                    load_bytes: info.load_bytes,
                    ownership: (!info.tokens.is_empty()).then_some(owned),
                    schema_version: if info.host_id == view.local {
                        Some(local_schema.to_string())
                    } else {
                        info.schema_version.map(|v| v.to_string())
                    },
                    tokens: info.tokens.len(),
                }
            })
            .collect();
        ClusterStatus {
            local_host_id: view.local.0,
            membership: Kind::Gossip,
            nodes,
        }
    }

    fn replicas(&self, keyspace: &str, token: i64) -> Result<Vec<uuid::Uuid>, String> {
        let schema = self.node.schema();
        let ks = schema
            .keyspace(keyspace)
            .ok_or_else(|| format!("keyspace {keyspace} does not exist"))?;
        let placement = meridian_cluster::coordinator::Placement {
            keyspace: Arc::from(keyspace),
            strategy: meridian_query::placement::strategy_of(&ks.metadata.replication),
        };
        Ok(self
            .coordinator
            .topology()
            .replicas(&placement, Token(token))
            .into_iter()
            .map(|h| h.0)
            .collect())
    }

    fn stats(&self) -> Result<crate::admin::NodeStats, String> {
        let view = self.coordinator.membership().view();
        let members: std::collections::HashMap<SocketAddr, (uuid::Uuid, String)> = view
            .members
            .values()
            .map(|m| {
                (
                    m.info.internode_address,
                    (m.info.host_id.0, m.info.datacenter.clone()),
                )
            })
            .collect();
        let net = self
            .coordinator
            .messaging()
            .map(|m| m.stats())
            .unwrap_or_default();
        Ok(crate::admin::NodeStats {
            datacenter: view
                .members
                .get(&view.local)
                .map(|m| m.info.datacenter.clone()),
            coordinator: crate::admin::CoordinatorCounters::from_stats(self.coordinator.stats()),
            messaging: crate::admin::MessagingCounters::from_net(&net, |addr| {
                members.get(&addr).cloned()
            }),
        })
    }

    fn hints(&self) -> Vec<crate::admin::HintBacklog> {
        self.coordinator
            .hints()
            .pending()
            .into_iter()
            .map(|(target, b)| crate::admin::HintBacklog {
                target: target.0,
                hints: b.hints,
                bytes: b.bytes,
                oldest_micros: b.oldest_micros,
            })
            .collect()
    }
}
