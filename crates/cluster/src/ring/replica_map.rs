//! [`ReplicaMap`]: the replicas of every vnode range of one ring version under one
//! strategy, precomputed so that finding the replicas of a token (the hot path of every
//! request) is a binary search returning a borrowed slice, with no allocation.
//!
//! Invariants: range ends are the ring's sorted tokens at the version the map was built
//! from; the replica list of range `(prev, end]` is exactly
//! `strategy.replicas(ring, end)`; the replica lists are stored back to back in one vector.

use std::collections::BTreeMap;

use meridian_types::token::{Token, TokenRange};

use super::metadata::TokenMetadata;
use super::strategy::{Plan, ReplicationStrategy, Walker};
use crate::ids::HostId;

/// 2^64, the number of positions on the Murmur3 ring.
const RING_SIZE: f64 = 18_446_744_073_709_551_616.0;

/// The fraction of the ring in `(start, end]`; `start == end` is the whole ring.
pub(crate) fn range_fraction(start: Token, end: Token) -> f64 {
    if start == end {
        return 1.0;
    }
    (end.0.wrapping_sub(start.0) as u64) as f64 / RING_SIZE
}

/// Replicas of every vnode range, for one ring version and one strategy.
#[derive(Clone, Debug)]
pub struct ReplicaMap {
    ring_version: u64,
    strategy: ReplicationStrategy,
    /// Range ends (the ring's sorted tokens); empty for `Local` or an empty ring.
    ends: Vec<Token>,
    /// `replicas[offsets[i]..offsets[i + 1]]` are the replicas of range `i`.
    offsets: Vec<u32>,
    replicas: Vec<HostId>,
    /// The replicas of every token when `ends` is empty (the local node for `Local`).
    everywhere: Vec<HostId>,
    /// Every node of the ring (for ownership).
    nodes: Vec<HostId>,
}

impl ReplicaMap {
    /// Computes the replicas of every vnode range of `ring` under `strategy`.
    pub fn build(ring: &TokenMetadata, strategy: &ReplicationStrategy) -> ReplicaMap {
        let plan = Plan::new(strategy, ring);
        let mut map = ReplicaMap {
            ring_version: ring.version(),
            strategy: strategy.clone(),
            ends: Vec::new(),
            offsets: vec![0],
            replicas: Vec::new(),
            everywhere: Vec::new(),
            nodes: ring.nodes().map(|n| n.host_id).collect(),
        };
        if let Plan::Local = plan {
            map.everywhere.extend(ring.local_host());
            return map;
        }
        let len = ring.sorted_tokens().len();
        map.ends = ring.sorted_tokens().to_vec();
        map.offsets.reserve(len);
        let mut walker = Walker::new(ring);
        for start in 0..len {
            walker.walk(ring, &plan, start);
            map.replicas
                .extend(walker.out.iter().map(|n| ring.node_id(*n)));
            map.offsets.push(map.replicas.len() as u32);
        }
        map
    }

    /// The ring version the map was built from.
    pub fn ring_version(&self) -> u64 {
        self.ring_version
    }

    /// The strategy the map was built for.
    pub fn strategy(&self) -> &ReplicationStrategy {
        &self.strategy
    }

    /// Whether the map was built from `ring` at its current version.
    pub fn is_current(&self, ring: &TokenMetadata) -> bool {
        self.ring_version == ring.version()
    }

    /// The replicas of `token`, primary first (as [`ReplicationStrategy::replicas`]).
    pub fn replicas_for(&self, token: Token) -> &[HostId] {
        if self.ends.is_empty() {
            return &self.everywhere;
        }
        let mut i = self.ends.partition_point(|t| *t < token);
        if i == self.ends.len() {
            i = 0;
        }
        &self.replicas[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Every vnode range `(previous token, token]` in ring order with its replicas. For
    /// `Local` (or an empty ring with no replica), one full-ring range (or none).
    pub fn ranges(&self) -> impl Iterator<Item = (TokenRange, &[HostId])> + '_ {
        let whole = (self.ends.is_empty() && !self.everywhere.is_empty())
            .then(|| (TokenRange::full_ring(), self.everywhere.as_slice()));
        let n = self.ends.len();
        (0..n)
            .map(move |i| {
                let start = self.ends[(i + n - 1) % n];
                (
                    TokenRange::new(start, self.ends[i]),
                    &self.replicas[self.offsets[i] as usize..self.offsets[i + 1] as usize],
                )
            })
            .chain(whole)
    }

    /// The vnode ranges `host` replicates, in ring order.
    pub fn ranges_of(&self, host: HostId) -> Vec<TokenRange> {
        self.ranges()
            .filter(|(_, replicas)| replicas.contains(&host))
            .map(|(range, _)| range)
            .collect()
    }

    /// Effective ownership as `nodetool status <keyspace>` shows it: for each node of the
    /// ring, the fraction of the ring (0 to 1) whose data it replicates. Within a
    /// datacenter of `n` nodes the values sum to `min(rf, n)` for NTS (to `min(rf, nodes)`
    /// over the cluster for `SimpleStrategy`); nodes replicating nothing are listed at 0.
    pub fn ownership(&self) -> BTreeMap<HostId, f64> {
        let mut owned: BTreeMap<HostId, f64> = self.nodes.iter().map(|h| (*h, 0.0)).collect();
        for (range, replicas) in self.ranges() {
            let fraction = range_fraction(range.start_exclusive, range.end_inclusive);
            for host in replicas {
                *owned.entry(*host).or_insert(0.0) += fraction;
            }
        }
        owned
    }
}

/// Effective ownership of every node of `ring` under `strategy` (see
/// [`ReplicaMap::ownership`]).
pub fn ownership(ring: &TokenMetadata, strategy: &ReplicationStrategy) -> BTreeMap<HostId, f64> {
    ReplicaMap::build(ring, strategy).ownership()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::NodeDesc;
    use proptest::prelude::*;
    use std::collections::{BTreeSet, HashSet};

    fn host(n: u128) -> HostId {
        HostId(uuid::Uuid::from_u128(n))
    }

    fn add(ring: &mut TokenMetadata, n: u128, dc: &str, rack: &str, tokens: &[i64]) {
        ring.add_or_update(NodeDesc {
            host_id: host(n),
            datacenter: dc.into(),
            rack: rack.into(),
            tokens: tokens.iter().map(|t| Token(*t)).collect(),
        })
        .unwrap();
    }

    fn nts(dcs: &[(&str, usize)]) -> ReplicationStrategy {
        ReplicationStrategy::NetworkTopology {
            datacenters: dcs.iter().map(|(d, rf)| (d.to_string(), *rf)).collect(),
        }
    }

    #[test]
    fn lookups_ranges_and_ownership() {
        let mut ring = TokenMetadata::new();
        let q = 1i64 << 62; // a quarter of the ring
        add(&mut ring, 1, "dc1", "a", &[-q]);
        add(&mut ring, 2, "dc1", "b", &[0]);
        add(&mut ring, 3, "dc1", "c", &[q]);
        add(&mut ring, 4, "dc1", "c", &[2 * (q - 1) + 1]);
        let s = ReplicationStrategy::Simple {
            replication_factor: 2,
        };
        let map = ReplicaMap::build(&ring, &s);
        assert!(map.is_current(&ring));
        assert_eq!(map.strategy(), &s);
        assert_eq!(map.replicas_for(Token(-q)), &[host(1), host(2)]);
        assert_eq!(map.replicas_for(Token(-q + 1)), &[host(2), host(3)]);
        assert_eq!(map.replicas_for(Token(i64::MAX)), &[host(4), host(1)]);
        assert_eq!(map.replicas_for(Token::MIN), &[host(1), host(2)]);
        assert_eq!(
            map.ranges_of(host(1)),
            vec![
                TokenRange::new(Token(i64::MAX), Token(-q)),
                TokenRange::new(Token(q), Token(i64::MAX)),
            ]
        );
        let own = map.ownership();
        assert_eq!(own.len(), 4);
        for (h, o) in &own {
            assert!((o - 0.5).abs() < 1e-9, "{h}: {o}");
        }
        // NTS rf 2 over racks a, b, c: c has two nodes, each replicating half of what a
        // single-node rack does.
        let own = ownership(&ring, &nts(&[("dc1", 2)]));
        let total: f64 = own.values().sum();
        assert!((total - 2.0).abs() < 1e-9);
        ring.remove(host(4));
        assert!(!map.is_current(&ring));
        let own = ownership(&ring, &nts(&[("dc1", 3)]));
        assert!(own.values().all(|o| (o - 1.0).abs() < 1e-12));
        let own = ownership(&ring, &nts(&[("dc2", 3)]));
        assert!(own.values().all(|o| *o == 0.0));
    }

    #[test]
    fn single_token_and_local_and_empty() {
        let mut ring = TokenMetadata::with_local_host(host(7));
        let empty = ReplicaMap::build(&ring, &nts(&[("dc1", 3)]));
        assert!(empty.replicas_for(Token(3)).is_empty());
        assert_eq!(empty.ranges().count(), 0);
        add(&mut ring, 1, "dc1", "a", &[100]);
        let map = ReplicaMap::build(&ring, &nts(&[("dc1", 3)]));
        assert_eq!(map.replicas_for(Token(5)), &[host(1)]);
        assert_eq!(
            map.ranges_of(host(1)),
            vec![TokenRange::new(Token(100), Token(100))]
        );
        assert_eq!(map.ownership()[&host(1)], 1.0);
        let local = ReplicaMap::build(&ring, &ReplicationStrategy::Local);
        assert_eq!(local.replicas_for(Token(5)), &[host(7)]);
        assert_eq!(local.ranges_of(host(7)), vec![TokenRange::full_ring()]);
        assert_eq!(local.ownership()[&host(7)], 1.0);
        assert_eq!(local.ownership()[&host(1)], 0.0);
    }

    // ----- property tests against a literal transcription of Cassandra's algorithm -----

    #[derive(Clone, Debug)]
    struct Spec {
        /// (datacenter, rack, tokens) per node; host ids are the indices.
        nodes: Vec<(String, String, Vec<i64>)>,
    }

    fn build(spec: &Spec) -> TokenMetadata {
        let mut ring = TokenMetadata::new();
        let mut used = HashSet::new();
        for (i, (dc, rack, tokens)) in spec.nodes.iter().enumerate() {
            let tokens: Vec<i64> = tokens
                .iter()
                .copied()
                .filter(|t| *t != i64::MIN && used.insert(*t))
                .collect();
            if tokens.is_empty() {
                continue;
            }
            add(&mut ring, i as u128, dc, rack, &tokens);
        }
        ring
    }

    /// Cassandra's `NetworkTopologyStrategy.calculateNaturalReplicas`, written with strings
    /// and sets as the Java code is, independently of the indexed walker.
    fn reference_nts(
        ring: &TokenMetadata,
        dcs: &BTreeMap<String, usize>,
        token: Token,
    ) -> Vec<HostId> {
        let tokens = ring.sorted_tokens();
        if tokens.is_empty() {
            return vec![];
        }
        let start = tokens.iter().position(|t| *t >= token).unwrap_or(0);
        let mut replicas: Vec<HostId> = vec![];
        let mut seen_racks: HashSet<(String, String)> = HashSet::new();
        // dc -> (rf_left, acceptable_rack_repeats)
        let mut fill: BTreeMap<String, (usize, i64)> = BTreeMap::new();
        for (dc, rf) in dcs {
            let Some(info) = ring.datacenters().get(dc) else {
                continue;
            };
            if *rf == 0 {
                continue;
            }
            fill.insert(
                dc.clone(),
                (
                    (*rf).min(info.node_count),
                    *rf as i64 - info.racks.len() as i64,
                ),
            );
        }
        let mut to_fill = fill.len();
        for k in 0..tokens.len() {
            if to_fill == 0 {
                break;
            }
            let ep = ring.owner(tokens[(start + k) % tokens.len()]).unwrap();
            let desc = ring.node(ep).unwrap();
            let Some(f) = fill.get_mut(&desc.datacenter) else {
                continue;
            };
            if f.0 == 0 || replicas.contains(&ep) {
                continue;
            }
            if seen_racks.insert((desc.datacenter.clone(), desc.rack.clone())) {
            } else if f.1 > 0 {
                f.1 -= 1;
            } else {
                continue;
            }
            replicas.push(ep);
            f.0 -= 1;
            if f.0 == 0 {
                to_fill -= 1;
            }
        }
        replicas
    }

    /// The Python driver's (pre-3.0 Cassandra's) formulation: distinct racks first, nodes
    /// on used racks kept aside and appended once every rack of the datacenter is used.
    /// Same replica set as Cassandra's, possibly in another order.
    fn reference_skipped_hosts(
        ring: &TokenMetadata,
        dcs: &BTreeMap<String, usize>,
        token: Token,
    ) -> BTreeSet<HostId> {
        let tokens = ring.sorted_tokens();
        let mut out = BTreeSet::new();
        if tokens.is_empty() {
            return out;
        }
        let start = tokens.iter().position(|t| *t >= token).unwrap_or(0);
        for (dc, rf) in dcs {
            let Some(info) = ring.datacenters().get(dc) else {
                continue;
            };
            let mut remaining = *rf;
            let mut placed_racks = BTreeSet::new();
            let mut skipped: Vec<HostId> = vec![];
            let mut taken = 0;
            for k in 0..tokens.len() {
                if remaining == 0 || taken == info.node_count {
                    break;
                }
                let ep = ring.owner(tokens[(start + k) % tokens.len()]).unwrap();
                let desc = ring.node(ep).unwrap();
                if desc.datacenter != *dc || out.contains(&ep) {
                    continue;
                }
                if placed_racks.contains(&desc.rack) && placed_racks.len() < info.racks.len() {
                    if !skipped.contains(&ep) {
                        skipped.push(ep);
                    }
                    continue;
                }
                out.insert(ep);
                taken += 1;
                remaining -= 1;
                placed_racks.insert(desc.rack.clone());
                if placed_racks.len() == info.racks.len() {
                    for s in skipped.drain(..) {
                        if remaining == 0 {
                            break;
                        }
                        out.insert(s);
                        taken += 1;
                        remaining -= 1;
                    }
                }
            }
        }
        out
    }

    fn spec_strategy() -> impl Strategy<Value = Spec> {
        let node = (
            0..3usize,
            0..4usize,
            prop::collection::vec(any::<i64>(), 1..5),
        );
        prop::collection::vec(node, 1..14).prop_map(|nodes| Spec {
            nodes: nodes
                .into_iter()
                .map(|(dc, rack, tokens)| (format!("dc{dc}"), format!("r{rack}"), tokens))
                .collect(),
        })
    }

    fn dc_factors() -> impl Strategy<Value = BTreeMap<String, usize>> {
        prop::collection::btree_map((0..3usize).prop_map(|d| format!("dc{d}")), 0..6usize, 1..4)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn replica_map_agrees_with_cassandra(
            spec in spec_strategy(),
            dcs in dc_factors(),
            simple_rf in 1..5usize,
            probes in prop::collection::vec(any::<i64>(), 1..20),
        ) {
            let ring = build(&spec);
            let strategy = ReplicationStrategy::NetworkTopology { datacenters: dcs.clone() };
            let map = ReplicaMap::build(&ring, &strategy);
            let simple = ReplicationStrategy::Simple { replication_factor: simple_rf };
            let simple_map = ReplicaMap::build(&ring, &simple);
            // Probe random tokens, every ring token and its neighbours.
            let mut all: Vec<i64> = probes;
            for t in ring.sorted_tokens() {
                all.extend([t.0, t.0.wrapping_add(1), t.0.wrapping_sub(1)]);
            }
            all.extend([i64::MIN, i64::MAX]);
            for t in all {
                let token = Token(t);
                let expected = reference_nts(&ring, &dcs, token);
                prop_assert_eq!(map.replicas_for(token), expected.as_slice());
                prop_assert_eq!(strategy.replicas(&ring, token), expected.clone());
                let set: BTreeSet<HostId> = expected.iter().copied().collect();
                prop_assert_eq!(set.len(), expected.len());
                prop_assert_eq!(set, reference_skipped_hosts(&ring, &dcs, token));
                // Per datacenter: min(rf, nodes) replicas, on min(rf, racks) distinct racks.
                for (dc, rf) in &dcs {
                    let Some(info) = ring.datacenters().get(dc) else { continue };
                    let in_dc: Vec<&NodeDesc> = expected.iter()
                        .map(|h| ring.node(*h).unwrap())
                        .filter(|d| d.datacenter == *dc)
                        .collect();
                    prop_assert_eq!(in_dc.len(), (*rf).min(info.node_count));
                    let racks: BTreeSet<&str> = in_dc.iter().map(|d| d.rack.as_str()).collect();
                    prop_assert_eq!(racks.len(), (*rf).min(info.racks.len()));
                }
                let simple_replicas = simple_map.replicas_for(token);
                prop_assert_eq!(simple_replicas.len(), simple_rf.min(ring.len()));
                prop_assert_eq!(simple_replicas.to_vec(), simple.replicas(&ring, token));
                if let Some(end) = ring.range_end(token) {
                    prop_assert_eq!(Some(simple_replicas[0]), ring.owner(end));
                }
            }
            // Ownership: per datacenter the fractions sum to min(rf, nodes).
            let own = map.ownership();
            for (dc, info) in ring.datacenters() {
                let rf = dcs.get(dc).copied().unwrap_or(0);
                let sum: f64 = ring.nodes()
                    .filter(|d| d.datacenter == *dc)
                    .map(|d| own[&d.host_id])
                    .sum();
                prop_assert!((sum - rf.min(info.node_count) as f64).abs() < 1e-9, "{dc}: {sum}");
            }
            // ranges_of covers exactly the ranges whose replicas include the host.
            for d in ring.nodes() {
                for range in map.ranges_of(d.host_id) {
                    prop_assert!(map.replicas_for(range.end_inclusive).contains(&d.host_id));
                }
                let count = map.ranges().filter(|(_, r)| r.contains(&d.host_id)).count();
                prop_assert_eq!(map.ranges_of(d.host_id).len(), count);
            }
        }
    }
}
