//! [`GossipMembership`]: membership over chitchat (Scuttlebutt anti-entropy gossip on UDP,
//! phi-accrual failure detection).
//!
//! Each node gossips its [`MemberInfo`] as string key/values (keys below). The chitchat node
//! id is the host id; the generation is the start time in seconds, so a restarted node is a
//! new chitchat incarnation and the old one is forgotten once dead. A background task turns
//! chitchat's state into [`ClusterView`] snapshots every [`REFRESH_INTERVAL`] and publishes a
//! new one only when it differs.
//!
//! Values from peers are untrusted: a malformed value makes that member be skipped (with a
//! warning once), never a panic.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chitchat::transport::UdpTransport;
use chitchat::{spawn_chitchat, ChitchatConfig, ChitchatHandle, ChitchatId, FailureDetectorConfig};
use meridian_types::token::Token;
use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;

use super::{apply_update, ClusterView, LocalUpdate, Member, MemberInfo, Membership, NodeState};
use crate::ids::HostId;

/// How often the view is rebuilt from chitchat's state.
pub const REFRESH_INTERVAL: Duration = Duration::from_millis(200);

const KEY_DC: &str = "dc";
const KEY_RACK: &str = "rack";
const KEY_TOKENS: &str = "tokens";
const KEY_STATE: &str = "state";
const KEY_INTERNODE: &str = "internode";
const KEY_CQL: &str = "cql";
const KEY_SCHEMA: &str = "schema";
const KEY_RELEASE: &str = "release";
const KEY_LOAD: &str = "load";
const KEY_NAME: &str = "name";

/// Gossip settings.
#[derive(Clone, Debug)]
pub struct GossipConfig {
    /// Cluster name: nodes of other clusters are ignored.
    pub cluster_name: String,
    /// UDP address gossip listens on and advertises.
    pub gossip_address: SocketAddr,
    /// Seed gossip addresses (`host:port`; host names are resolved, and re-resolved
    /// periodically).
    pub seeds: Vec<String>,
    /// Interval between gossip rounds.
    pub gossip_interval: Duration,
    /// Phi above which a node is considered down (Cassandra: 8).
    pub phi_threshold: f64,
    /// Members known from a previous run (persisted by the node): they are in the view,
    /// down, until gossip hears from them, so a restarted node never mistakes itself for
    /// the whole cluster.
    pub known_members: Vec<MemberInfo>,
}

impl GossipConfig {
    /// Defaults: one gossip round every 500 ms, phi threshold 8.
    pub fn new(cluster_name: String, gossip_address: SocketAddr, seeds: Vec<String>) -> Self {
        GossipConfig {
            cluster_name,
            gossip_address,
            seeds,
            gossip_interval: Duration::from_millis(500),
            phi_threshold: 8.0,
            known_members: Vec::new(),
        }
    }
}

/// Why gossip could not start.
#[derive(Debug, thiserror::Error)]
#[error("start gossip on {address}: {message}")]
pub struct GossipError {
    /// The gossip address.
    pub address: SocketAddr,
    /// What failed.
    pub message: String,
}

/// Membership over chitchat.
pub struct GossipMembership {
    handle: ChitchatHandle,
    /// Members heard of in this run or a previous one, with their latest information.
    known: Mutex<BTreeMap<HostId, MemberInfo>>,
    local: Mutex<MemberInfo>,
    view: RwLock<Arc<ClusterView>>,
    tx: watch::Sender<Arc<ClusterView>>,
}

impl GossipMembership {
    /// Starts gossip announcing `local`. The refresh task runs until [`Self::shutdown`].
    pub async fn start(
        config: GossipConfig,
        local: MemberInfo,
    ) -> Result<Arc<GossipMembership>, GossipError> {
        let chitchat_id = ChitchatId::new(
            local.host_id.to_string(),
            local.generation,
            config.gossip_address,
        );
        let chitchat_config = ChitchatConfig {
            chitchat_id,
            cluster_id: config.cluster_name.clone(),
            gossip_interval: config.gossip_interval,
            listen_addr: config.gossip_address,
            seed_nodes: config
                .seeds
                .iter()
                .filter(|s| **s != config.gossip_address.to_string())
                .cloned()
                .collect(),
            failure_detector_config: FailureDetectorConfig {
                phi_threshold: config.phi_threshold,
                sampling_window_size: 1_000,
                max_interval: Duration::from_secs(10),
                initial_interval: config.gossip_interval * 2,
                // A dead node stays in the ring until it is removed by an operator, as in
                // Cassandra; its gossip state may be forgotten (the view keeps it as known).
                dead_node_grace_period: Duration::from_secs(3 * 3600),
            },
            marked_for_deletion_grace_period: Duration::from_secs(3600),
            catchup_callback: None,
            extra_liveness_predicate: None,
            protocol_version: chitchat::ProtocolVersion::V0,
        };
        let handle = spawn_chitchat(chitchat_config, encode(&local), &UdpTransport)
            .await
            .map_err(|e| GossipError {
                address: config.gossip_address,
                message: format!("{e:#}"),
            })?;
        let known: BTreeMap<HostId, MemberInfo> = config
            .known_members
            .iter()
            .filter(|m| m.host_id != local.host_id)
            .map(|m| (m.host_id, m.clone()))
            .collect();
        let mut members: BTreeMap<HostId, Member> = known
            .values()
            .map(|info| {
                (
                    info.host_id,
                    Member {
                        info: info.clone(),
                        up: false,
                    },
                )
            })
            .collect();
        members.insert(
            local.host_id,
            Member {
                info: local.clone(),
                up: true,
            },
        );
        let view = Arc::new(ClusterView {
            local: local.host_id,
            members,
        });
        let (tx, _) = watch::channel(view.clone());
        let membership = Arc::new(GossipMembership {
            handle,
            known: Mutex::new(known),
            local: Mutex::new(local),
            view: RwLock::new(view),
            tx,
        });
        let weak = Arc::downgrade(&membership);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REFRESH_INTERVAL);
            let mut warned: HashSet<String> = HashSet::new();
            loop {
                tick.tick().await;
                let Some(m) = weak.upgrade() else { return };
                m.refresh(&mut warned).await;
            }
        });
        Ok(membership)
    }

    /// Stops gossiping (peers will mark this node down).
    pub async fn shutdown(&self) {
        let _ = self.handle.initiate_shutdown();
    }

    async fn refresh(&self, warned: &mut HashSet<String>) {
        let local = self.local.lock().clone();
        let next = self
            .handle
            .with_chitchat(|cc| {
                let live: HashSet<ChitchatId> = cc.live_nodes().cloned().collect();
                let mut members: BTreeMap<HostId, Member> = BTreeMap::new();
                for (id, state) in cc.node_states() {
                    let kv: BTreeMap<&str, &str> = state.key_values().collect();
                    let info = match decode(id, &kv) {
                        Ok(info) => info,
                        Err(why) => {
                            if warned.insert(format!("{id:?}")) {
                                tracing::warn!(node = ?id, %why, "ignoring a malformed gossip state");
                            }
                            continue;
                        }
                    };
                    let up = live.contains(id);
                    let replace = members
                        .get(&info.host_id)
                        .is_none_or(|m| m.info.generation < info.generation);
                    if replace {
                        members.insert(info.host_id, Member { info, up });
                    }
                }
                members
            })
            .await;
        let mut members = next;
        {
            // Remember everyone heard of; those gossip forgot (or has not heard from yet
            // after a restart) stay in the view, down.
            let mut known = self.known.lock();
            for (host, m) in &members {
                if *host != local.host_id {
                    known.insert(*host, m.info.clone());
                }
            }
            for (host, info) in known.iter() {
                members.entry(*host).or_insert_with(|| Member {
                    info: info.clone(),
                    up: false,
                });
            }
        }
        members.insert(
            local.host_id,
            Member {
                info: local.clone(),
                up: true,
            },
        );
        let view = ClusterView {
            local: local.host_id,
            members,
        };
        let mut guard = self.view.write();
        if **guard != view {
            let view = Arc::new(view);
            *guard = view.clone();
            self.tx.send_replace(view);
        }
    }
}

impl Membership for GossipMembership {
    fn view(&self) -> Arc<ClusterView> {
        self.view.read().clone()
    }

    fn subscribe(&self) -> watch::Receiver<Arc<ClusterView>> {
        self.tx.subscribe()
    }

    fn update_local(&self, update: LocalUpdate) {
        let info = {
            let mut local = self.local.lock();
            if !apply_update(&mut local, update) {
                return;
            }
            local.clone()
        };
        // Publish to gossip (async lock) and to the local view at once.
        let chitchat = self.handle.chitchat();
        let kv = encode(&info);
        tokio::spawn(async move {
            let mut cc = chitchat.lock().await;
            let state = cc.self_node_state();
            for (k, v) in kv {
                if state.get(&k) != Some(v.as_str()) {
                    state.set(k, v);
                }
            }
        });
        let mut guard = self.view.write();
        let mut next = (**guard).clone();
        next.members.insert(info.host_id, Member { info, up: true });
        let next = Arc::new(next);
        *guard = next.clone();
        self.tx.send_replace(next);
    }
}

fn encode(info: &MemberInfo) -> Vec<(String, String)> {
    let tokens = info
        .tokens
        .iter()
        .map(|t| t.0.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let mut kv = vec![
        (KEY_DC.to_string(), info.datacenter.clone()),
        (KEY_RACK.to_string(), info.rack.clone()),
        (KEY_TOKENS.to_string(), tokens),
        (KEY_STATE.to_string(), info.state.as_str().to_string()),
        (
            KEY_INTERNODE.to_string(),
            info.internode_address.to_string(),
        ),
        (KEY_CQL.to_string(), info.cql_address.to_string()),
        (KEY_RELEASE.to_string(), info.release_version.clone()),
        (KEY_LOAD.to_string(), info.load_bytes.to_string()),
    ];
    if let Some(v) = info.schema_version {
        kv.push((KEY_SCHEMA.to_string(), v.to_string()));
    }
    if let Some(name) = &info.name {
        kv.push((KEY_NAME.to_string(), name.clone()));
    }
    kv
}

fn decode(id: &ChitchatId, kv: &BTreeMap<&str, &str>) -> Result<MemberInfo, String> {
    let get = |k: &str| kv.get(k).copied().ok_or_else(|| format!("missing key {k}"));
    let host_id = uuid::Uuid::parse_str(&id.node_id)
        .map(HostId)
        .map_err(|e| format!("node id is not a host id: {e}"))?;
    let tokens_text = get(KEY_TOKENS)?;
    let tokens = if tokens_text.is_empty() {
        Vec::new()
    } else {
        tokens_text
            .split(',')
            .map(|t| t.parse::<i64>().map(Token))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("bad token list: {e}"))?
    };
    let state_text = get(KEY_STATE)?;
    Ok(MemberInfo {
        host_id,
        generation: id.generation_id,
        name: kv.get(KEY_NAME).map(|s| s.to_string()),
        datacenter: get(KEY_DC)?.to_string(),
        rack: get(KEY_RACK)?.to_string(),
        tokens,
        state: NodeState::parse(state_text).ok_or_else(|| format!("bad state {state_text}"))?,
        internode_address: get(KEY_INTERNODE)?
            .parse()
            .map_err(|e| format!("bad internode address: {e}"))?,
        cql_address: get(KEY_CQL)?
            .parse()
            .map_err(|e| format!("bad CQL address: {e}"))?,
        schema_version: match kv.get(KEY_SCHEMA) {
            Some(s) => Some(uuid::Uuid::parse_str(s).map_err(|e| format!("bad schema: {e}"))?),
            None => None,
        },
        release_version: get(KEY_RELEASE)?.to_string(),
        load_bytes: get(KEY_LOAD)?
            .parse()
            .map_err(|e| format!("bad load: {e}"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(n: u8, port: u16) -> MemberInfo {
        MemberInfo {
            host_id: HostId(uuid::Uuid::from_u128(n as u128)),
            generation: 1,
            name: Some(format!("n{n}")),
            datacenter: "dc1".into(),
            rack: format!("rack{n}"),
            tokens: vec![Token(i64::from(n) * 1000), Token(-5)],
            state: NodeState::Normal,
            internode_address: ([127, 0, 0, 1], port).into(),
            cql_address: ([127, 0, 0, 1], 9042).into(),
            schema_version: Some(uuid::Uuid::from_u128(7)),
            release_version: "5.0.0".into(),
            load_bytes: 12,
        }
    }

    #[test]
    fn encode_decode_round_trip() {
        let i = info(3, 7000);
        let id = ChitchatId::new(i.host_id.to_string(), 1, i.internode_address);
        let kv = encode(&i);
        let map: BTreeMap<&str, &str> = kv.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(decode(&id, &map).unwrap(), i);
    }

    #[test]
    fn malformed_values_are_errors() {
        let i = info(3, 7000);
        let id = ChitchatId::new(i.host_id.to_string(), 1, i.internode_address);
        for (key, bad) in [
            (KEY_TOKENS, "1,x"),
            (KEY_STATE, "SLEEPING"),
            (KEY_CQL, "nowhere"),
            (KEY_LOAD, "-1"),
        ] {
            let kv = encode(&i);
            let mut map: BTreeMap<&str, &str> =
                kv.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            map.insert(key, bad);
            assert!(decode(&id, &map).is_err(), "{key}={bad} accepted");
        }
        let bad_id = ChitchatId::new("not-a-uuid", 1, i.internode_address);
        let kv = encode(&i);
        let map: BTreeMap<&str, &str> = kv.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert!(decode(&bad_id, &map).is_err());
    }

    fn free_udp_port() -> u16 {
        std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    async fn wait_for(m: &GossipMembership, what: &str, f: impl Fn(&ClusterView) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if f(&m.view()) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}: {:?}",
                m.view()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn three_nodes_discover_each_other_and_detect_a_dead_one() {
        let ports: Vec<u16> = (0..3).map(|_| free_udp_port()).collect();
        let seed: SocketAddr = ([127, 0, 0, 1], ports[0]).into();
        let mut nodes = Vec::new();
        for (i, port) in ports.iter().enumerate() {
            let addr: SocketAddr = ([127, 0, 0, 1], *port).into();
            let mut cfg = GossipConfig::new("test".into(), addr, vec![seed.to_string()]);
            cfg.gossip_interval = Duration::from_millis(100);
            let m = GossipMembership::start(cfg, info(i as u8 + 1, *port))
                .await
                .unwrap();
            nodes.push(m);
        }
        for m in &nodes {
            wait_for(m, "all three up", |v| {
                v.members.len() == 3 && v.members.values().all(|m| m.up)
            })
            .await;
        }
        // A local update reaches the others.
        nodes[1].update_local(LocalUpdate::SchemaVersion(uuid::Uuid::from_u128(99)));
        let h1 = HostId(uuid::Uuid::from_u128(2));
        wait_for(&nodes[0], "schema version gossiped", |v| {
            v.member(h1).and_then(|m| m.info.schema_version) == Some(uuid::Uuid::from_u128(99))
        })
        .await;
        // Stop node 3: the others mark it down.
        let dead = nodes.pop().unwrap();
        dead.shutdown().await;
        let h3 = HostId(uuid::Uuid::from_u128(3));
        for m in &nodes {
            wait_for(m, "node 3 down", |v| v.member(h3).is_some_and(|m| !m.up)).await;
        }
    }
}
