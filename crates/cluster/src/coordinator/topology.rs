//! [`Topology`]: a membership view with the token ring built from it and, per keyspace, the
//! precomputed replica map. Immutable once built except for the lazily filled map cache;
//! rebuilt whenever the view changes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use meridian_types::token::Token;
use parking_lot::Mutex;

use super::Placement;
use crate::ids::HostId;
use crate::membership::{ClusterView, NodeState};
use crate::ring::{NodeDesc, ReplicaMap, ReplicationStrategy, TokenMetadata};

/// Whether two views give the same ring: the same members with the same datacenter,
/// rack, tokens and state (liveness, load and schema versions do not matter).
pub(crate) fn same_ring(a: &ClusterView, b: &ClusterView) -> bool {
    a.local == b.local
        && a.members.len() == b.members.len()
        && a.members
            .iter()
            .zip(b.members.iter())
            .all(|((ha, ma), (hb, mb))| {
                ha == hb
                    && ma.info.tokens == mb.info.tokens
                    && ma.info.state == mb.info.state
                    && ma.info.datacenter == mb.info.datacenter
                    && ma.info.rack == mb.info.rack
                    && ma.info.internode_address == mb.info.internode_address
            })
}

/// Replica maps by keyspace, with the strategy each was built for.
type MapCache = HashMap<Arc<str>, (ReplicationStrategy, Arc<ReplicaMap>)>;

/// A view, its ring and cached replica maps.
pub struct Topology {
    view: Arc<ClusterView>,
    ring: Arc<TokenMetadata>,
    maps: Mutex<MapCache>,
}

impl Topology {
    /// Builds the ring from the members in state NORMAL (or LEAVING) with tokens.
    pub fn from_view(view: &Arc<ClusterView>) -> Topology {
        let mut ring = TokenMetadata::new();
        for m in view.members.values() {
            let owns = matches!(m.info.state, NodeState::Normal | NodeState::Leaving);
            if !owns || m.info.tokens.is_empty() {
                continue;
            }
            let desc = NodeDesc {
                host_id: m.info.host_id,
                datacenter: m.info.datacenter.clone(),
                rack: m.info.rack.clone(),
                tokens: m.info.tokens.clone(),
            };
            if let Err(e) = ring.add_or_update(desc) {
                tracing::warn!(host = %m.info.host_id, error = %e, "member left out of the ring");
            }
        }
        Topology {
            view: view.clone(),
            ring: Arc::new(ring),
            maps: Mutex::new(HashMap::new()),
        }
    }

    /// The same ring and maps over an equal view snapshot.
    pub fn with_view(&self, view: Arc<ClusterView>) -> Topology {
        Topology {
            view,
            ring: self.ring.clone(),
            maps: Mutex::new(self.maps.lock().clone()),
        }
    }

    /// The view.
    pub fn view(&self) -> &Arc<ClusterView> {
        &self.view
    }

    /// The ring.
    pub fn ring(&self) -> &Arc<TokenMetadata> {
        &self.ring
    }

    /// The replica map of a placement (built on first use).
    pub fn replica_map(&self, placement: &Placement) -> Arc<ReplicaMap> {
        let mut maps = self.maps.lock();
        if let Some((strategy, map)) = maps.get(&placement.keyspace) {
            if *strategy == placement.strategy {
                return map.clone();
            }
        }
        let map = Arc::new(ReplicaMap::build(&self.ring, &placement.strategy));
        maps.insert(
            placement.keyspace.clone(),
            (placement.strategy.clone(), map.clone()),
        );
        map
    }

    /// The natural replicas of `token` under `placement`, primary first.
    pub fn replicas(&self, placement: &Placement, token: Token) -> Vec<HostId> {
        if matches!(placement.strategy, ReplicationStrategy::Local) || self.ring.is_empty() {
            return vec![self.view.local];
        }
        self.replica_map(placement).replicas_for(token).to_vec()
    }

    /// The datacenter of a host.
    pub fn datacenter(&self, host: HostId) -> Option<&str> {
        self.view.member(host).map(|m| m.info.datacenter.as_str())
    }

    /// The local node's datacenter.
    pub fn local_datacenter(&self) -> &str {
        self.view.local_datacenter().unwrap_or("")
    }

    /// The internode address of a host.
    pub fn address(&self, host: HostId) -> Option<SocketAddr> {
        self.view.member(host).map(|m| m.info.internode_address)
    }

    /// Whether a host is up.
    pub fn is_up(&self, host: HostId) -> bool {
        host == self.view.local || self.view.is_up(host)
    }

    /// Sorts hosts by proximity to the local node: itself, its datacenter, then the rest
    /// (stable otherwise, so the primary replica stays first within a group).
    pub fn sort_by_proximity(&self, hosts: &mut [HostId]) {
        let local = self.view.local;
        let dc = self.local_datacenter();
        hosts.sort_by_key(|h| {
            if *h == local {
                0
            } else if self.datacenter(*h) == Some(dc) {
                1
            } else {
                2
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::membership::{Member, MemberInfo};
    use std::collections::BTreeMap;

    fn view(up: bool, load: u64, token: i64) -> ClusterView {
        let host = HostId(uuid::Uuid::from_u128(1));
        let info = MemberInfo {
            host_id: host,
            generation: 1,
            name: None,
            datacenter: "dc1".into(),
            rack: "rack1".into(),
            tokens: vec![Token(token)],
            state: NodeState::Normal,
            internode_address: ([127, 0, 0, 1], 7000).into(),
            cql_address: ([127, 0, 0, 1], 9042).into(),
            schema_version: None,
            release_version: "5.0.0".into(),
            load_bytes: load,
        };
        ClusterView {
            local: host,
            members: BTreeMap::from([(host, Member { info, up })]),
        }
    }

    #[test]
    fn liveness_and_load_do_not_change_the_ring_but_tokens_do() {
        assert!(same_ring(&view(true, 1, 5), &view(false, 99, 5)));
        assert!(!same_ring(&view(true, 1, 5), &view(true, 1, 6)));
    }
}
