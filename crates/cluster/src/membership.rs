//! Cluster membership: who is in the cluster, where (datacenter, rack, addresses), which
//! tokens they own, their state, and whether they are up.
//!
//! The rest of the node sees membership only through the [`Membership`] trait and the
//! immutable [`ClusterView`] snapshots it publishes. Two implementations:
//! - [`gossip::GossipMembership`]: chitchat (Scuttlebutt gossip over UDP with a phi-accrual
//!   failure detector, Cassandra's own design) on the node's storage port;
//! - [`StaticMembership`]: members and liveness set by hand, for simulations and tests.
//!
//! Invariants: a view always contains the local node, up; a host id appears once (the
//! incarnation with the highest generation wins, so a restarted node replaces its previous
//! incarnation); views are versioned and a new version is published only when something a
//! reader can see changed.

pub mod gossip;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use meridian_types::token::Token;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::ids::HostId;

/// Where a node is in its life cycle (Cassandra's gossip `STATUS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NodeState {
    /// Taking ownership of tokens; not yet a replica for reads.
    Joining,
    /// Owns its tokens.
    Normal,
    /// Handing its ranges over before leaving.
    Leaving,
    /// Gone from the ring.
    Left,
}

impl NodeState {
    /// The name used in gossip, the admin API and `nodetool`-style output.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Joining => "JOINING",
            NodeState::Normal => "NORMAL",
            NodeState::Leaving => "LEAVING",
            NodeState::Left => "LEFT",
        }
    }

    /// Parses [`NodeState::as_str`] output.
    pub fn parse(s: &str) -> Option<NodeState> {
        Some(match s {
            "JOINING" => NodeState::Joining,
            "NORMAL" => NodeState::Normal,
            "LEAVING" => NodeState::Leaving,
            "LEFT" => NodeState::Left,
            _ => return None,
        })
    }
}

impl fmt::Display for NodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one node publishes about itself.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberInfo {
    /// Permanent identity.
    pub host_id: HostId,
    /// Incarnation: increases with every start (seconds since the epoch at start).
    pub generation: u64,
    /// Display name (`east-1`), if configured.
    pub name: Option<String>,
    /// Datacenter (region).
    pub datacenter: String,
    /// Rack (availability zone).
    pub rack: String,
    /// Owned tokens (empty while a joining node has not chosen them).
    pub tokens: Vec<Token>,
    /// Life-cycle state.
    pub state: NodeState,
    /// Address of the internode messaging service.
    pub internode_address: SocketAddr,
    /// Address clients reach the CQL service on.
    pub cql_address: SocketAddr,
    /// Schema version digest.
    pub schema_version: Option<uuid::Uuid>,
    /// Release version reported to drivers.
    pub release_version: String,
    /// Bytes of data on disk (approximate).
    pub load_bytes: u64,
}

/// A member as the local node sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// What it publishes.
    pub info: MemberInfo,
    /// Whether the failure detector considers it alive.
    pub up: bool,
}

/// An immutable snapshot of the cluster as the local node sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterView {
    /// The local node.
    pub local: HostId,
    /// Every known member, the local node included.
    pub members: BTreeMap<HostId, Member>,
}

impl ClusterView {
    /// A member by host id.
    pub fn member(&self, host: HostId) -> Option<&Member> {
        self.members.get(&host)
    }

    /// Whether `host` is known and up.
    pub fn is_up(&self, host: HostId) -> bool {
        self.members.get(&host).is_some_and(|m| m.up)
    }

    /// The local node's entry.
    pub fn local_member(&self) -> Option<&Member> {
        self.members.get(&self.local)
    }

    /// The local node's datacenter.
    pub fn local_datacenter(&self) -> Option<&str> {
        self.local_member().map(|m| m.info.datacenter.as_str())
    }

    /// Members other than the local node.
    pub fn peers(&self) -> impl Iterator<Item = &Member> {
        self.members
            .values()
            .filter(|m| m.info.host_id != self.local)
    }
}

/// Which local fields a node can change while running.
#[derive(Clone, Debug, PartialEq)]
pub enum LocalUpdate {
    /// New tokens (a joining node that chose them).
    Tokens(Vec<Token>),
    /// New life-cycle state.
    State(NodeState),
    /// New schema version.
    SchemaVersion(uuid::Uuid),
    /// New data size.
    LoadBytes(u64),
}

/// Membership as the rest of the node sees it.
pub trait Membership: Send + Sync + 'static {
    /// The current view.
    fn view(&self) -> Arc<ClusterView>;
    /// A receiver notified on every new view.
    fn subscribe(&self) -> watch::Receiver<Arc<ClusterView>>;
    /// Publishes a change of the local node's own information.
    fn update_local(&self, update: LocalUpdate);
}

/// Applies `update` to `info`; returns whether anything changed.
pub(crate) fn apply_update(info: &mut MemberInfo, update: LocalUpdate) -> bool {
    match update {
        LocalUpdate::Tokens(tokens) => replace(&mut info.tokens, tokens),
        LocalUpdate::State(state) => replace(&mut info.state, state),
        LocalUpdate::SchemaVersion(v) => replace(&mut info.schema_version, Some(v)),
        LocalUpdate::LoadBytes(b) => replace(&mut info.load_bytes, b),
    }
}

fn replace<T: PartialEq>(slot: &mut T, value: T) -> bool {
    if *slot == value {
        false
    } else {
        *slot = value;
        true
    }
}

/// Membership set by hand: for deterministic simulations and tests. Liveness changes only
/// when the test says so.
pub struct StaticMembership {
    view: RwLock<Arc<ClusterView>>,
    tx: watch::Sender<Arc<ClusterView>>,
}

impl StaticMembership {
    /// A membership whose local node is `local` (which must be in `members`).
    pub fn new(local: HostId, members: Vec<MemberInfo>) -> Arc<StaticMembership> {
        assert!(
            members.iter().any(|m| m.host_id == local),
            "the local node must be a member"
        );
        let view = Arc::new(ClusterView {
            local,
            members: members
                .into_iter()
                .map(|info| (info.host_id, Member { info, up: true }))
                .collect(),
        });
        let (tx, _) = watch::channel(view.clone());
        Arc::new(StaticMembership {
            view: RwLock::new(view),
            tx,
        })
    }

    /// Marks `host` up or down (as a failure detector would).
    pub fn set_up(&self, host: HostId, up: bool) {
        self.modify(|v| {
            if let Some(m) = v.members.get_mut(&host) {
                m.up = up;
            }
        });
    }

    /// Replaces or adds a member's information.
    pub fn set_member(&self, info: MemberInfo) {
        self.modify(|v| {
            let up = v.members.get(&info.host_id).is_none_or(|m| m.up);
            v.members.insert(info.host_id, Member { info, up });
        });
    }

    fn modify(&self, f: impl FnOnce(&mut ClusterView)) {
        let mut guard = self.view.write();
        let mut next = (**guard).clone();
        f(&mut next);
        if next != **guard {
            let next = Arc::new(next);
            *guard = next.clone();
            self.tx.send_replace(next);
        }
    }
}

impl Membership for StaticMembership {
    fn view(&self) -> Arc<ClusterView> {
        self.view.read().clone()
    }

    fn subscribe(&self) -> watch::Receiver<Arc<ClusterView>> {
        self.tx.subscribe()
    }

    fn update_local(&self, update: LocalUpdate) {
        self.modify(|v| {
            let local = v.local;
            if let Some(m) = v.members.get_mut(&local) {
                apply_update(&mut m.info, update);
            }
        });
    }
}
