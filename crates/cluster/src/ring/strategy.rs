//! [`ReplicationStrategy`]: which nodes replicate a token, exactly as Cassandra 5.0's
//! `LocalStrategy`, `SimpleStrategy` and `NetworkTopologyStrategy` compute their natural
//! replicas, and the parsing of stored replication maps.
//!
//! Placement rules (Cassandra's `calculateNaturalReplicas`), starting from the vnode range
//! end `firstToken(token)` and walking the ring clockwise (wrapping once):
//! - `SimpleStrategy`: the owners of the walked tokens, each node once, until
//!   `replication_factor` nodes (or every node) are taken.
//! - `NetworkTopologyStrategy`: one walk for all datacenters. For a datacenter with factor
//!   `rf`, `n` nodes and `r` racks, `min(rf, n)` nodes are taken; a node on a rack not yet
//!   used in this walk is always taken, a node on an already used rack only while fewer than
//!   `rf - r` such repeats were taken. So replicas go to distinct racks while possible, and
//!   when `rf > r` the first nodes met on used racks fill the rest. Datacenters are
//!   interleaved in ring order; the first node taken is the primary.
//! - `LocalStrategy`: the local node only.
//!
//! Invariant: a replica list never holds a node twice; its length is `min(rf, n)` per
//! datacenter (NTS) or `min(rf, nodes)` (Simple).

use std::collections::BTreeMap;

use meridian_types::token::Token;

use super::metadata::TokenMetadata;
use crate::ids::HostId;

/// Package of Cassandra's built-in strategies (short class names are resolved in it).
pub const LOCATOR_PACKAGE: &str = "org.apache.cassandra.locator";
/// Fully qualified `SimpleStrategy` class name.
pub const SIMPLE_STRATEGY_CLASS: &str = "org.apache.cassandra.locator.SimpleStrategy";
/// Fully qualified `NetworkTopologyStrategy` class name.
pub const NETWORK_TOPOLOGY_STRATEGY_CLASS: &str =
    "org.apache.cassandra.locator.NetworkTopologyStrategy";
/// Fully qualified `LocalStrategy` class name.
pub const LOCAL_STRATEGY_CLASS: &str = "org.apache.cassandra.locator.LocalStrategy";

const CLASS_OPTION: &str = "class";
const REPLICATION_FACTOR_OPTION: &str = "replication_factor";

/// How a keyspace is replicated.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReplicationStrategy {
    /// Only the local node (node-local system keyspaces).
    Local,
    /// `SimpleStrategy`: the next `replication_factor` distinct nodes on the ring.
    Simple {
        /// Number of replicas.
        replication_factor: usize,
    },
    /// `NetworkTopologyStrategy`: per-datacenter factors, rack-aware.
    NetworkTopology {
        /// Replicas per datacenter name (datacenters absent or at 0 get none).
        datacenters: BTreeMap<String, usize>,
    },
}

/// Errors parsing a replication map.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplicationError {
    /// The map has no `class`.
    #[error("Missing replication strategy class")]
    MissingClass,
    /// The class is not a supported strategy.
    #[error("Unable to find replication strategy class '{class}'")]
    UnknownClass {
        /// The fully qualified class name.
        class: String,
    },
    /// `SimpleStrategy` without `replication_factor`.
    #[error("SimpleStrategy requires a replication_factor strategy option.")]
    MissingReplicationFactor,
    /// An option the strategy does not know.
    #[error("Unrecognized strategy option {{{option}}} passed to {strategy}")]
    UnrecognizedOption {
        /// The option name.
        option: String,
        /// The strategy's short class name.
        strategy: &'static str,
    },
    /// A factor that is not a 32-bit integer.
    #[error("invalid replication factor {value:?} for {option}: not an integer")]
    NotAnInteger {
        /// The option (`replication_factor` or a datacenter name).
        option: String,
        /// The value given.
        value: String,
    },
    /// A negative factor.
    #[error("Replication factor must be non-negative, found {value} for {option}")]
    Negative {
        /// The option.
        option: String,
        /// The value given.
        value: i32,
    },
    /// Transient replicas (`3/1`) are not supported.
    #[error("Transient replication is disabled (found {value:?} for {option})")]
    Transient {
        /// The option.
        option: String,
        /// The value given.
        value: String,
    },
    /// `replication_factor` given to `NetworkTopologyStrategy`: it must have been expanded
    /// into per-datacenter factors (by the schema layer, which knows the datacenters).
    #[error("replication_factor should not appear as an option to NetworkTopologyStrategy")]
    UnexpandedReplicationFactor,
    /// `NetworkTopologyStrategy` with no datacenter at a factor above 0.
    #[error("Configuration for at least one datacenter must be present")]
    NoDatacenters,
}

/// Java's `Integer.parseInt`: optional sign, ASCII digits, 32-bit range.
fn java_parse_int(s: &str) -> Option<i32> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i32>().ok()
}

/// Cassandra's `ReplicationFactor.fromString` without transient replicas.
fn parse_factor(option: &str, value: &str) -> Result<usize, ReplicationError> {
    if value.contains('/') {
        return Err(ReplicationError::Transient {
            option: option.into(),
            value: value.into(),
        });
    }
    let rf = java_parse_int(value).ok_or_else(|| ReplicationError::NotAnInteger {
        option: option.into(),
        value: value.into(),
    })?;
    usize::try_from(rf).map_err(|_| ReplicationError::Negative {
        option: option.into(),
        value: rf,
    })
}

impl ReplicationStrategy {
    /// Parses a stored CQL replication map (`{'class': ..., ...}`): `class` is a short
    /// (`SimpleStrategy`) or fully qualified name; `SimpleStrategy` takes exactly
    /// `replication_factor`; `NetworkTopologyStrategy` takes per-datacenter factors
    /// (datacenters at 0 are dropped; `replication_factor` must already have been expanded
    /// into datacenters); `LocalStrategy` takes no option.
    pub fn from_options(options: &BTreeMap<String, String>) -> Result<Self, ReplicationError> {
        let class = options
            .get(CLASS_OPTION)
            .ok_or(ReplicationError::MissingClass)?;
        let full = if class.contains('.') {
            class.clone()
        } else {
            format!("{LOCATOR_PACKAGE}.{class}")
        };
        let mut rest = options
            .iter()
            .filter(|(k, _)| k.as_str() != CLASS_OPTION)
            .peekable();
        match full.as_str() {
            LOCAL_STRATEGY_CLASS => match rest.next() {
                Some((option, _)) => Err(ReplicationError::UnrecognizedOption {
                    option: option.clone(),
                    strategy: "LocalStrategy",
                }),
                None => Ok(ReplicationStrategy::Local),
            },
            SIMPLE_STRATEGY_CLASS => {
                if let Some((option, _)) =
                    rest.clone().find(|(k, _)| *k != REPLICATION_FACTOR_OPTION)
                {
                    return Err(ReplicationError::UnrecognizedOption {
                        option: option.clone(),
                        strategy: "SimpleStrategy",
                    });
                }
                let rf = options
                    .get(REPLICATION_FACTOR_OPTION)
                    .ok_or(ReplicationError::MissingReplicationFactor)?;
                Ok(ReplicationStrategy::Simple {
                    replication_factor: parse_factor(REPLICATION_FACTOR_OPTION, rf)?,
                })
            }
            NETWORK_TOPOLOGY_STRATEGY_CLASS => {
                let mut datacenters = BTreeMap::new();
                for (dc, value) in rest {
                    if dc.eq_ignore_ascii_case(REPLICATION_FACTOR_OPTION) {
                        return Err(ReplicationError::UnexpandedReplicationFactor);
                    }
                    let rf = parse_factor(dc, value)?;
                    if rf > 0 {
                        datacenters.insert(dc.clone(), rf);
                    }
                }
                if datacenters.is_empty() {
                    return Err(ReplicationError::NoDatacenters);
                }
                Ok(ReplicationStrategy::NetworkTopology { datacenters })
            }
            _ => Err(ReplicationError::UnknownClass { class: full }),
        }
    }

    /// The fully qualified class name.
    pub fn class_name(&self) -> &'static str {
        match self {
            ReplicationStrategy::Local => LOCAL_STRATEGY_CLASS,
            ReplicationStrategy::Simple { .. } => SIMPLE_STRATEGY_CLASS,
            ReplicationStrategy::NetworkTopology { .. } => NETWORK_TOPOLOGY_STRATEGY_CLASS,
        }
    }

    /// The factor that governs `LOCAL_*` consistency levels in `datacenter`: the
    /// datacenter's own factor for NTS (0 if absent), the whole factor for `SimpleStrategy`
    /// (as Cassandra), 1 for `LocalStrategy`.
    pub fn replication_factor_in(&self, datacenter: &str) -> usize {
        match self {
            ReplicationStrategy::Local => 1,
            ReplicationStrategy::Simple { replication_factor } => *replication_factor,
            ReplicationStrategy::NetworkTopology { datacenters } => {
                datacenters.get(datacenter).copied().unwrap_or(0)
            }
        }
    }

    /// The total number of replicas asked for (the sum over datacenters for NTS).
    pub fn total_replication_factor(&self) -> usize {
        match self {
            ReplicationStrategy::Local => 1,
            ReplicationStrategy::Simple { replication_factor } => *replication_factor,
            ReplicationStrategy::NetworkTopology { datacenters } => datacenters.values().sum(),
        }
    }

    /// The natural replicas of `token`, primary first, in Cassandra's order. Empty for an
    /// empty ring; for `Local`, the ring's local host (empty if the ring does not know it).
    pub fn replicas(&self, ring: &TokenMetadata, token: Token) -> Vec<HostId> {
        let plan = Plan::new(self, ring);
        let mut walker = Walker::new(ring);
        match plan {
            Plan::Local => ring.local_host().into_iter().collect(),
            _ => match ring.first_index(token) {
                None => Vec::new(),
                Some(start) => {
                    walker.walk(ring, &plan, start);
                    walker.out.iter().map(|n| ring.node_id(*n)).collect()
                }
            },
        }
    }
}

/// A strategy resolved against a ring's indices.
pub(crate) enum Plan {
    Local,
    Simple(usize),
    /// Factor per datacenter index of the ring.
    Nts(Vec<usize>),
}

impl Plan {
    pub(crate) fn new(strategy: &ReplicationStrategy, ring: &TokenMetadata) -> Plan {
        match strategy {
            ReplicationStrategy::Local => Plan::Local,
            ReplicationStrategy::Simple { replication_factor } => Plan::Simple(*replication_factor),
            ReplicationStrategy::NetworkTopology { datacenters } => Plan::Nts(
                ring.datacenters()
                    .keys()
                    .map(|dc| datacenters.get(dc).copied().unwrap_or(0))
                    .collect(),
            ),
        }
    }
}

/// Per-datacenter progress of one NTS walk (Cassandra's `DatacenterEndpoints`).
#[derive(Clone, Copy, Default)]
struct DcFill {
    rf_left: usize,
    repeats_left: isize,
}

/// Reusable scratch space for replica walks.
pub(crate) struct Walker {
    fills: Vec<DcFill>,
    seen_racks: Vec<bool>,
    /// The replicas of the last walk, as node indices, primary first.
    pub(crate) out: Vec<u32>,
}

impl Walker {
    pub(crate) fn new(ring: &TokenMetadata) -> Walker {
        Walker {
            fills: vec![DcFill::default(); ring.dc_node_counts().len()],
            seen_racks: vec![false; ring.rack_total()],
            out: Vec::new(),
        }
    }

    /// Computes into `out` the replicas of the range ending at ring position `start`.
    pub(crate) fn walk(&mut self, ring: &TokenMetadata, plan: &Plan, start: usize) {
        self.out.clear();
        let owners = ring.token_nodes();
        let len = owners.len();
        match plan {
            Plan::Local => {}
            Plan::Simple(rf) => {
                let want = (*rf).min(ring.node_count());
                for k in 0..len {
                    if self.out.len() >= want {
                        break;
                    }
                    let node = owners[(start + k) % len];
                    if !self.out.contains(&node) {
                        self.out.push(node);
                    }
                }
            }
            Plan::Nts(dc_rf) => {
                let mut dcs_to_fill = 0usize;
                for (d, fill) in self.fills.iter_mut().enumerate() {
                    let rf = dc_rf.get(d).copied().unwrap_or(0);
                    let nodes = ring.dc_node_counts()[d];
                    *fill = DcFill::default();
                    if rf > 0 && nodes > 0 {
                        fill.rf_left = rf.min(nodes);
                        fill.repeats_left = rf as isize - ring.dc_rack_counts()[d] as isize;
                        dcs_to_fill += 1;
                    }
                }
                self.seen_racks.iter_mut().for_each(|s| *s = false);
                for k in 0..len {
                    if dcs_to_fill == 0 {
                        break;
                    }
                    let node = owners[(start + k) % len];
                    let fill = &mut self.fills[ring.node_dc(node) as usize];
                    if fill.rf_left == 0 || self.out.contains(&node) {
                        continue;
                    }
                    let rack = ring.node_rack(node) as usize;
                    if !self.seen_racks[rack] {
                        self.seen_racks[rack] = true;
                    } else if fill.repeats_left > 0 {
                        fill.repeats_left -= 1;
                    } else {
                        continue;
                    }
                    self.out.push(node);
                    fill.rf_left -= 1;
                    if fill.rf_left == 0 {
                        dcs_to_fill -= 1;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::NodeDesc;

    fn opts(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn host(n: u128) -> HostId {
        HostId(uuid::Uuid::from_u128(n))
    }

    fn nts(dcs: &[(&str, usize)]) -> ReplicationStrategy {
        ReplicationStrategy::NetworkTopology {
            datacenters: dcs.iter().map(|(d, rf)| (d.to_string(), *rf)).collect(),
        }
    }

    /// A ring from `(host, dc, rack, tokens)`.
    fn ring(nodes: &[(u128, &str, &str, &[i64])]) -> TokenMetadata {
        let mut ring = TokenMetadata::with_local_host(host(999));
        for (n, dc, rack, tokens) in nodes {
            ring.add_or_update(NodeDesc {
                host_id: host(*n),
                datacenter: dc.to_string(),
                rack: rack.to_string(),
                tokens: tokens.iter().map(|t| Token(*t)).collect(),
            })
            .unwrap();
        }
        ring
    }

    fn ids(hosts: Vec<HostId>) -> Vec<u128> {
        hosts.iter().map(|h| h.0.as_u128()).collect()
    }

    #[test]
    fn parses_replication_maps() {
        assert_eq!(
            ReplicationStrategy::from_options(&opts(&[
                ("class", "SimpleStrategy"),
                ("replication_factor", "3")
            ])),
            Ok(ReplicationStrategy::Simple {
                replication_factor: 3
            })
        );
        assert_eq!(
            ReplicationStrategy::from_options(&opts(&[
                (
                    "class",
                    "org.apache.cassandra.locator.NetworkTopologyStrategy"
                ),
                ("east", "3"),
                ("west", "+2"),
                ("north", "0"),
            ])),
            Ok(nts(&[("east", 3), ("west", 2)]))
        );
        assert_eq!(
            ReplicationStrategy::from_options(&opts(&[("class", "LocalStrategy")])),
            Ok(ReplicationStrategy::Local)
        );
        let s = ReplicationStrategy::from_options(&opts(&[
            ("class", "NetworkTopologyStrategy"),
            ("east", "3"),
            ("west", "2"),
        ]))
        .unwrap();
        assert_eq!(s.replication_factor_in("east"), 3);
        assert_eq!(s.replication_factor_in("south"), 0);
        assert_eq!(s.total_replication_factor(), 5);
        assert_eq!(s.class_name(), NETWORK_TOPOLOGY_STRATEGY_CLASS);
        let simple = ReplicationStrategy::Simple {
            replication_factor: 2,
        };
        assert_eq!(simple.replication_factor_in("any"), 2);
        assert_eq!(ReplicationStrategy::Local.total_replication_factor(), 1);
    }

    #[test]
    fn refuses_bad_replication_maps() {
        use ReplicationError as E;
        let cases: Vec<(Vec<(&str, &str)>, ReplicationError)> = vec![
            (vec![("replication_factor", "3")], E::MissingClass),
            (
                vec![("class", "FooStrategy")],
                E::UnknownClass {
                    class: "org.apache.cassandra.locator.FooStrategy".into(),
                },
            ),
            (
                vec![("class", "simplestrategy"), ("replication_factor", "1")],
                E::UnknownClass {
                    class: "org.apache.cassandra.locator.simplestrategy".into(),
                },
            ),
            (
                vec![("class", "SimpleStrategy")],
                E::MissingReplicationFactor,
            ),
            (
                vec![
                    ("class", "SimpleStrategy"),
                    ("replication_factor", "1"),
                    ("dc1", "1"),
                ],
                E::UnrecognizedOption {
                    option: "dc1".into(),
                    strategy: "SimpleStrategy",
                },
            ),
            (
                vec![("class", "SimpleStrategy"), ("replication_factor", "three")],
                E::NotAnInteger {
                    option: "replication_factor".into(),
                    value: "three".into(),
                },
            ),
            (
                vec![
                    ("class", "SimpleStrategy"),
                    ("replication_factor", "3000000000"),
                ],
                E::NotAnInteger {
                    option: "replication_factor".into(),
                    value: "3000000000".into(),
                },
            ),
            (
                vec![("class", "SimpleStrategy"), ("replication_factor", " 3")],
                E::NotAnInteger {
                    option: "replication_factor".into(),
                    value: " 3".into(),
                },
            ),
            (
                vec![("class", "NetworkTopologyStrategy"), ("dc1", "-1")],
                E::Negative {
                    option: "dc1".into(),
                    value: -1,
                },
            ),
            (
                vec![("class", "NetworkTopologyStrategy"), ("dc1", "3/1")],
                E::Transient {
                    option: "dc1".into(),
                    value: "3/1".into(),
                },
            ),
            (
                vec![
                    ("class", "NetworkTopologyStrategy"),
                    ("replication_factor", "3"),
                ],
                E::UnexpandedReplicationFactor,
            ),
            (
                vec![("class", "NetworkTopologyStrategy"), ("dc1", "0")],
                E::NoDatacenters,
            ),
            (vec![("class", "NetworkTopologyStrategy")], E::NoDatacenters),
            (
                vec![("class", "LocalStrategy"), ("replication_factor", "1")],
                E::UnrecognizedOption {
                    option: "replication_factor".into(),
                    strategy: "LocalStrategy",
                },
            ),
        ];
        for (map, expected) in cases {
            assert_eq!(
                ReplicationStrategy::from_options(&opts(&map)),
                Err(expected),
                "{map:?}"
            );
        }
    }

    #[test]
    fn simple_strategy_walks_distinct_nodes_and_wraps() {
        let r = ring(&[
            (1, "dc1", "r1", &[0, 40]),
            (2, "dc1", "r1", &[10]),
            (3, "dc2", "r1", &[20, 30]),
        ]);
        let s = ReplicationStrategy::Simple {
            replication_factor: 2,
        };
        // Range (40, 0] holds 41 (wrap-around) and i64::MIN.
        assert_eq!(ids(s.replicas(&r, Token(41))), vec![1, 2]);
        assert_eq!(ids(s.replicas(&r, Token(i64::MIN))), vec![1, 2]);
        assert_eq!(ids(s.replicas(&r, Token(i64::MAX))), vec![1, 2]);
        // The range end itself belongs to the range.
        assert_eq!(ids(s.replicas(&r, Token(10))), vec![2, 3]);
        assert_eq!(ids(s.replicas(&r, Token(11))), vec![3, 1]);
        // Node 3 owns 20 and 30: skipped the second time.
        assert_eq!(ids(s.replicas(&r, Token(15))), vec![3, 1]);
        let s5 = ReplicationStrategy::Simple {
            replication_factor: 5,
        };
        assert_eq!(ids(s5.replicas(&r, Token(35))), vec![1, 2, 3]);
        let s0 = ReplicationStrategy::Simple {
            replication_factor: 0,
        };
        assert!(s0.replicas(&r, Token(35)).is_empty());
        assert!(s.replicas(&TokenMetadata::new(), Token(1)).is_empty());
    }

    #[test]
    fn local_strategy_is_the_local_node() {
        let r = ring(&[(1, "dc1", "r1", &[0])]);
        assert_eq!(
            ids(ReplicationStrategy::Local.replicas(&r, Token(5))),
            vec![999]
        );
        assert!(ReplicationStrategy::Local
            .replicas(&TokenMetadata::new(), Token(5))
            .is_empty());
    }

    #[test]
    fn nts_places_on_distinct_racks() {
        // dc1: racks a, a, b, c in ring order 0..; dc2 interleaved.
        let r = ring(&[
            (1, "dc1", "a", &[0]),
            (2, "dc1", "a", &[10]),
            (3, "dc1", "b", &[20]),
            (4, "dc1", "c", &[30]),
            (5, "dc2", "x", &[5]),
            (6, "dc2", "y", &[25]),
        ]);
        let s = nts(&[("dc1", 3), ("dc2", 1)]);
        // From 0: 1(a) 5(dc2) 2(a, skipped: 3 racks >= rf) 3(b) 6(dc2 done) 4(c).
        assert_eq!(ids(s.replicas(&r, Token(-3))), vec![1, 5, 3, 4]);
        // From 10: 2(a) 3(b) 6(dc2) 4(c).
        assert_eq!(ids(s.replicas(&r, Token(10))), vec![2, 3, 6, 4]);
        // From 30 (wrap): 4(c) 1(a) 5(dc2) 2(a, skipped) 3(b).
        assert_eq!(ids(s.replicas(&r, Token(26))), vec![4, 1, 5, 3]);
        // A datacenter not in the strategy gets nothing.
        assert_eq!(ids(nts(&[("dc2", 2)]).replicas(&r, Token(0))), vec![5, 6]);
        // A datacenter unknown to the ring is ignored.
        assert_eq!(
            ids(nts(&[("dc9", 2), ("dc2", 1)]).replicas(&r, Token(0))),
            vec![5]
        );
    }

    #[test]
    fn nts_rf_above_racks_takes_first_repeats() {
        // Two racks, rf 3: one repeat allowed, the first met.
        let r = ring(&[
            (1, "dc1", "a", &[0]),
            (2, "dc1", "a", &[10]),
            (3, "dc1", "a", &[20]),
            (4, "dc1", "b", &[30]),
            (5, "dc1", "b", &[40]),
        ]);
        let s = nts(&[("dc1", 3)]);
        // 1(a new) 2(a repeat, allowed) 3(a, no more repeats) 4(b new): done.
        assert_eq!(ids(s.replicas(&r, Token(0))), vec![1, 2, 4]);
        // 4(b) 5(b repeat) 1(a).
        assert_eq!(ids(s.replicas(&r, Token(25))), vec![4, 5, 1]);
        // 5(b) 1(a) 2(a repeat).
        assert_eq!(ids(s.replicas(&r, Token(35))), vec![5, 1, 2]);
        // rf 4 with 2 racks: two repeats.
        let s4 = nts(&[("dc1", 4)]);
        assert_eq!(ids(s4.replicas(&r, Token(0))), vec![1, 2, 3, 4]);
        assert_eq!(ids(s4.replicas(&r, Token(15))), vec![3, 4, 5, 1]);
    }

    #[test]
    fn nts_uneven_racks_skip_same_rack_nodes() {
        // Racks a (3 nodes), b (1 node), c (1 node), rf 3: always one node per rack.
        let r = ring(&[
            (1, "dc1", "a", &[0, 50]),
            (2, "dc1", "a", &[10, 60]),
            (3, "dc1", "a", &[20, 70]),
            (4, "dc1", "b", &[30]),
            (5, "dc1", "c", &[80]),
        ]);
        let s = nts(&[("dc1", 3)]);
        assert_eq!(ids(s.replicas(&r, Token(0))), vec![1, 4, 5]);
        assert_eq!(ids(s.replicas(&r, Token(55))), vec![2, 5, 4]);
        assert_eq!(ids(s.replicas(&r, Token(81))), vec![1, 4, 5]);
        for t in (-10..90).step_by(5) {
            let reps = s.replicas(&r, Token(t));
            let racks: std::collections::BTreeSet<_> = reps
                .iter()
                .map(|h| r.node(*h).unwrap().rack.clone())
                .collect();
            assert_eq!(racks.len(), 3, "token {t}: {reps:?}");
        }
    }

    #[test]
    fn nts_rf_above_nodes_takes_every_node_of_the_datacenter() {
        let r = ring(&[
            (1, "dc1", "a", &[0]),
            (2, "dc1", "a", &[10]),
            (3, "dc2", "x", &[20]),
            (4, "dc1", "b", &[30]),
        ]);
        let s = nts(&[("dc1", 5), ("dc2", 2)]);
        assert_eq!(ids(s.replicas(&r, Token(15))), vec![3, 4, 1, 2]);
        assert_eq!(ids(s.replicas(&r, Token(1))), vec![2, 3, 4, 1]);
    }

    #[test]
    fn nts_single_rack_is_simple_strategy_within_the_datacenter() {
        let r = ring(&[
            (1, "dc1", "a", &[0, 35]),
            (2, "dc1", "a", &[10]),
            (3, "dc1", "a", &[20]),
            (4, "dc2", "a", &[5, 25]),
        ]);
        let s = nts(&[("dc1", 2)]);
        assert_eq!(ids(s.replicas(&r, Token(11))), vec![3, 1]);
        assert_eq!(ids(s.replicas(&r, Token(21))), vec![1, 2]);
        assert_eq!(ids(s.replicas(&r, Token(36))), vec![1, 2]);
    }
}
