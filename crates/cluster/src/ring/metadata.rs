//! [`TokenMetadata`]: the nodes that own tokens, their location (datacenter and rack), and
//! the sorted token ring, like Cassandra's `TokenMetadata` with its `Topology`.
//!
//! Invariants (checked by every change, which is refused with a [`RingError`] otherwise):
//! - every node has between 1 and [`MAX_TOKENS_PER_NODE`] tokens, none of them
//!   [`Token::MIN`], no token twice, and non-empty datacenter and rack names;
//! - a token belongs to at most one node (collisions are refused);
//! - `sorted_tokens()` is strictly increasing and holds exactly the tokens of `nodes()`;
//! - the topology (`datacenters()`) counts exactly the nodes of `nodes()`;
//! - `version()` increases by one with every change that alters the ring and never otherwise.

use std::collections::BTreeMap;

use meridian_types::token::Token;

use crate::ids::HostId;

/// Most tokens one node may own (Cassandra's limit on `num_tokens`).
pub const MAX_TOKENS_PER_NODE: usize = 1536;

/// A node's place in the ring: its identity, location and tokens.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeDesc {
    /// The node's permanent identity.
    pub host_id: HostId,
    /// Its datacenter (region).
    pub datacenter: String,
    /// Its rack (availability zone) within the datacenter.
    pub rack: String,
    /// The tokens it owns (kept sorted once in a [`TokenMetadata`]).
    pub tokens: Vec<Token>,
}

/// Errors changing a [`TokenMetadata`].
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RingError {
    /// A node must own at least one token to be in the ring.
    #[error("node {host} has no tokens")]
    NoTokens {
        /// The node.
        host: HostId,
    },
    /// More tokens than [`MAX_TOKENS_PER_NODE`].
    #[error("node {host} has {count} tokens, more than the maximum of {max}", max = MAX_TOKENS_PER_NODE)]
    TooManyTokens {
        /// The node.
        host: HostId,
        /// How many tokens it has.
        count: usize,
    },
    /// [`Token::MIN`] is the ring's origin and never a node's token.
    #[error("node {host} has the minimum token {token}, which cannot be a node token", token = Token::MIN)]
    MinimumToken {
        /// The node.
        host: HostId,
    },
    /// The same token appears twice in one node's list.
    #[error("node {host} lists token {token} twice")]
    DuplicateToken {
        /// The node.
        host: HostId,
        /// The repeated token.
        token: Token,
    },
    /// The token is already owned by another node.
    #[error("token {token} of node {host} is already owned by node {owner}")]
    TokenCollision {
        /// The node being added or updated.
        host: HostId,
        /// The contested token.
        token: Token,
        /// Its current owner.
        owner: HostId,
    },
    /// Datacenter and rack names must not be empty.
    #[error("node {host} has an empty datacenter or rack name")]
    EmptyLocation {
        /// The node.
        host: HostId,
    },
}

/// One datacenter of the ring's topology.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DatacenterInfo {
    /// Node count of each rack (every count is at least 1).
    pub racks: BTreeMap<String, usize>,
    /// Number of nodes in the datacenter (the sum of the rack counts).
    pub node_count: usize,
}

/// The token ring: nodes with their tokens and locations.
///
/// Cheap to query: every change rebuilds a compact indexed form (tokens sorted, each mapped
/// to a node index; each node mapped to datacenter and rack indices) that the replication
/// strategies walk without string comparisons.
#[derive(Clone, Debug, Default)]
pub struct TokenMetadata {
    local_host: Option<HostId>,
    nodes: BTreeMap<HostId, NodeDesc>,
    version: u64,
    datacenters: BTreeMap<String, DatacenterInfo>,
    /// Strictly increasing tokens of all nodes.
    sorted_tokens: Vec<Token>,
    /// For each entry of `sorted_tokens`, the index of its owner in `node_ids`.
    token_nodes: Vec<u32>,
    /// Nodes in host id order (index = node index).
    node_ids: Vec<HostId>,
    /// For each node index, its datacenter index (position in `datacenters`).
    node_dcs: Vec<u32>,
    /// For each node index, its rack index, unique across datacenters.
    node_racks: Vec<u32>,
    /// For each datacenter index, its node count.
    dc_node_counts: Vec<usize>,
    /// For each datacenter index, its rack count.
    dc_rack_counts: Vec<usize>,
    /// Total number of distinct (datacenter, rack) pairs.
    rack_total: usize,
}

impl TokenMetadata {
    /// An empty ring that does not know which node is local.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty ring whose local node is `local` (the replica of `LocalStrategy`).
    pub fn with_local_host(local: HostId) -> Self {
        TokenMetadata {
            local_host: Some(local),
            ..Self::default()
        }
    }

    /// The local node, if set (it need not own tokens).
    pub fn local_host(&self) -> Option<HostId> {
        self.local_host
    }

    /// Sets the local node (not a ring change: the version is unchanged).
    pub fn set_local_host(&mut self, local: HostId) {
        self.local_host = Some(local);
    }

    /// Adds a node or replaces its description (location and tokens). Refused without any
    /// change if the description breaks an invariant of the ring. Tokens are stored sorted.
    /// The version is bumped only if something changed.
    pub fn add_or_update(&mut self, mut desc: NodeDesc) -> Result<(), RingError> {
        let host = desc.host_id;
        if desc.tokens.is_empty() {
            return Err(RingError::NoTokens { host });
        }
        if desc.tokens.len() > MAX_TOKENS_PER_NODE {
            return Err(RingError::TooManyTokens {
                host,
                count: desc.tokens.len(),
            });
        }
        if desc.datacenter.is_empty() || desc.rack.is_empty() {
            return Err(RingError::EmptyLocation { host });
        }
        desc.tokens.sort_unstable();
        if desc.tokens[0] == Token::MIN {
            return Err(RingError::MinimumToken { host });
        }
        if let Some(pair) = desc.tokens.windows(2).find(|w| w[0] == w[1]) {
            return Err(RingError::DuplicateToken {
                host,
                token: pair[0],
            });
        }
        for token in &desc.tokens {
            if let Ok(i) = self.sorted_tokens.binary_search(token) {
                let owner = self.node_ids[self.token_nodes[i] as usize];
                if owner != host {
                    return Err(RingError::TokenCollision {
                        host,
                        token: *token,
                        owner,
                    });
                }
            }
        }
        if self.nodes.get(&host) == Some(&desc) {
            return Ok(());
        }
        self.nodes.insert(host, desc);
        self.rebuild();
        Ok(())
    }

    /// Removes a node; returns its description if it was in the ring.
    pub fn remove(&mut self, host: HostId) -> Option<NodeDesc> {
        let removed = self.nodes.remove(&host)?;
        self.rebuild();
        Some(removed)
    }

    /// A node's description.
    pub fn node(&self, host: HostId) -> Option<&NodeDesc> {
        self.nodes.get(&host)
    }

    /// All nodes, in host id order.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = &NodeDesc> + '_ {
        self.nodes.values()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the ring has no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every node's tokens, strictly increasing.
    pub fn sorted_tokens(&self) -> &[Token] {
        &self.sorted_tokens
    }

    /// The node owning exactly `token` (Cassandra's `getEndpoint`).
    pub fn owner(&self, token: Token) -> Option<HostId> {
        let i = self.sorted_tokens.binary_search(&token).ok()?;
        Some(self.node_ids[self.token_nodes[i] as usize])
    }

    /// The end of the vnode range holding `token` (Cassandra's `firstToken`): the smallest
    /// ring token `>= token`, wrapping to the first one. `None` for an empty ring.
    pub fn range_end(&self, token: Token) -> Option<Token> {
        self.first_index(token).map(|i| self.sorted_tokens[i])
    }

    /// The token preceding `token` on the ring (wrapping), for a token of the ring.
    pub fn predecessor(&self, token: Token) -> Option<Token> {
        let i = self.sorted_tokens.binary_search(&token).ok()?;
        let n = self.sorted_tokens.len();
        Some(self.sorted_tokens[(i + n - 1) % n])
    }

    /// The datacenters with their racks and node counts, by name.
    pub fn datacenters(&self) -> &BTreeMap<String, DatacenterInfo> {
        &self.datacenters
    }

    /// The change counter: starts at 0 and increases by one with every change of nodes,
    /// locations or tokens.
    pub fn version(&self) -> u64 {
        self.version
    }

    // ----- the indexed form, for the strategies -----

    /// Index in `sorted_tokens` of the first token `>= token`, wrapping to 0.
    pub(crate) fn first_index(&self, token: Token) -> Option<usize> {
        if self.sorted_tokens.is_empty() {
            return None;
        }
        let i = self.sorted_tokens.partition_point(|t| *t < token);
        Some(if i == self.sorted_tokens.len() { 0 } else { i })
    }

    /// Owner (node index) of each ring position.
    pub(crate) fn token_nodes(&self) -> &[u32] {
        &self.token_nodes
    }

    /// Host id of a node index.
    pub(crate) fn node_id(&self, node: u32) -> HostId {
        self.node_ids[node as usize]
    }

    /// Datacenter index of a node index.
    pub(crate) fn node_dc(&self, node: u32) -> u32 {
        self.node_dcs[node as usize]
    }

    /// Global rack index of a node index.
    pub(crate) fn node_rack(&self, node: u32) -> u32 {
        self.node_racks[node as usize]
    }

    /// Node count of each datacenter index.
    pub(crate) fn dc_node_counts(&self) -> &[usize] {
        &self.dc_node_counts
    }

    /// Rack count of each datacenter index.
    pub(crate) fn dc_rack_counts(&self) -> &[usize] {
        &self.dc_rack_counts
    }

    /// Number of distinct (datacenter, rack) pairs.
    pub(crate) fn rack_total(&self) -> usize {
        self.rack_total
    }

    /// Number of node indices.
    pub(crate) fn node_count(&self) -> usize {
        self.node_ids.len()
    }

    fn rebuild(&mut self) {
        self.version += 1;
        let mut datacenters: BTreeMap<String, DatacenterInfo> = BTreeMap::new();
        for desc in self.nodes.values() {
            let dc = datacenters.entry(desc.datacenter.clone()).or_default();
            *dc.racks.entry(desc.rack.clone()).or_default() += 1;
            dc.node_count += 1;
        }
        // Index datacenters and racks in name order.
        let mut rack_index: BTreeMap<(&str, &str), u32> = BTreeMap::new();
        let mut dc_index: BTreeMap<&str, u32> = BTreeMap::new();
        for (d, (name, info)) in datacenters.iter().enumerate() {
            dc_index.insert(name, d as u32);
            for rack in info.racks.keys() {
                let next = rack_index.len() as u32;
                rack_index.insert((name, rack), next);
            }
        }
        self.node_ids = self.nodes.keys().copied().collect();
        self.node_dcs = self
            .nodes
            .values()
            .map(|d| dc_index[d.datacenter.as_str()])
            .collect();
        self.node_racks = self
            .nodes
            .values()
            .map(|d| rack_index[&(d.datacenter.as_str(), d.rack.as_str())])
            .collect();
        self.dc_node_counts = datacenters.values().map(|d| d.node_count).collect();
        self.dc_rack_counts = datacenters.values().map(|d| d.racks.len()).collect();
        self.rack_total = rack_index.len();
        let mut ring: Vec<(Token, u32)> = self
            .nodes
            .values()
            .enumerate()
            .flat_map(|(i, d)| d.tokens.iter().map(move |t| (*t, i as u32)))
            .collect();
        ring.sort_unstable();
        self.sorted_tokens = ring.iter().map(|(t, _)| *t).collect();
        self.token_nodes = ring.iter().map(|(_, n)| *n).collect();
        self.datacenters = datacenters;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn host(n: u128) -> HostId {
        HostId(uuid::Uuid::from_u128(n))
    }

    fn desc(n: u128, dc: &str, rack: &str, tokens: &[i64]) -> NodeDesc {
        NodeDesc {
            host_id: host(n),
            datacenter: dc.into(),
            rack: rack.into(),
            tokens: tokens.iter().map(|t| Token(*t)).collect(),
        }
    }

    #[test]
    fn add_update_remove_and_versions() {
        let mut ring = TokenMetadata::new();
        assert!(ring.is_empty());
        assert_eq!(ring.version(), 0);
        ring.add_or_update(desc(1, "dc1", "r1", &[30, 10])).unwrap();
        ring.add_or_update(desc(2, "dc1", "r2", &[20])).unwrap();
        ring.add_or_update(desc(3, "dc2", "r1", &[-5])).unwrap();
        assert_eq!(ring.version(), 3);
        assert_eq!(
            ring.sorted_tokens(),
            &[Token(-5), Token(10), Token(20), Token(30)]
        );
        assert_eq!(
            ring.node(host(1)).unwrap().tokens,
            vec![Token(10), Token(30)]
        );
        assert_eq!(ring.owner(Token(20)), Some(host(2)));
        assert_eq!(ring.owner(Token(21)), None);
        assert_eq!(ring.range_end(Token(21)), Some(Token(30)));
        assert_eq!(ring.range_end(Token(30)), Some(Token(30)));
        assert_eq!(ring.range_end(Token(31)), Some(Token(-5)));
        assert_eq!(ring.range_end(Token::MIN), Some(Token(-5)));
        assert_eq!(ring.predecessor(Token(-5)), Some(Token(30)));
        assert_eq!(ring.predecessor(Token(20)), Some(Token(10)));
        let dcs = ring.datacenters();
        assert_eq!(dcs["dc1"].node_count, 2);
        assert_eq!(dcs["dc1"].racks.len(), 2);
        assert_eq!(dcs["dc2"].racks["r1"], 1);

        // An identical description is not a change.
        ring.add_or_update(desc(1, "dc1", "r1", &[10, 30])).unwrap();
        assert_eq!(ring.version(), 3);
        // A move is, and frees the old token.
        ring.add_or_update(desc(1, "dc1", "r2", &[11, 30])).unwrap();
        assert_eq!(ring.version(), 4);
        assert_eq!(ring.owner(Token(10)), None);
        assert_eq!(ring.datacenters()["dc1"].racks.len(), 1);
        assert_eq!(ring.datacenters()["dc1"].racks["r2"], 2);

        assert_eq!(ring.remove(host(3)).unwrap().datacenter, "dc2");
        assert_eq!(ring.remove(host(3)), None);
        assert_eq!(ring.version(), 5);
        assert!(!ring.datacenters().contains_key("dc2"));
        assert_eq!(ring.nodes().len(), 2);
    }

    #[test]
    fn collisions_and_bad_descriptions_are_refused_without_change() {
        let mut ring = TokenMetadata::new();
        ring.add_or_update(desc(1, "dc1", "r1", &[10, 20])).unwrap();
        let before = ring.version();
        assert_eq!(
            ring.add_or_update(desc(2, "dc1", "r1", &[5, 20])),
            Err(RingError::TokenCollision {
                host: host(2),
                token: Token(20),
                owner: host(1)
            })
        );
        assert_eq!(
            ring.add_or_update(desc(2, "dc1", "r1", &[])),
            Err(RingError::NoTokens { host: host(2) })
        );
        assert_eq!(
            ring.add_or_update(desc(2, "dc1", "r1", &[7, 3, 7])),
            Err(RingError::DuplicateToken {
                host: host(2),
                token: Token(7)
            })
        );
        assert_eq!(
            ring.add_or_update(desc(2, "dc1", "r1", &[i64::MIN, 3])),
            Err(RingError::MinimumToken { host: host(2) })
        );
        assert_eq!(
            ring.add_or_update(desc(2, "", "r1", &[3])),
            Err(RingError::EmptyLocation { host: host(2) })
        );
        let many: Vec<i64> = (0..=MAX_TOKENS_PER_NODE as i64).collect();
        assert!(matches!(
            ring.add_or_update(desc(2, "dc1", "r1", &many)),
            Err(RingError::TooManyTokens { count, .. }) if count == MAX_TOKENS_PER_NODE + 1
        ));
        assert_eq!(ring.version(), before);
        assert_eq!(ring.len(), 1);
        assert!(ring.node(host(2)).is_none());
        // A node may keep its own tokens when it is updated.
        ring.add_or_update(desc(1, "dc1", "r2", &[10, 20])).unwrap();
        assert_eq!(ring.owner(Token(10)), Some(host(1)));
    }

    #[test]
    fn local_host_is_not_a_ring_change() {
        let mut ring = TokenMetadata::with_local_host(host(9));
        assert_eq!(ring.local_host(), Some(host(9)));
        ring.set_local_host(host(8));
        assert_eq!(ring.local_host(), Some(host(8)));
        assert_eq!(ring.version(), 0);
        assert_eq!(ring.range_end(Token(0)), None);
    }
}
