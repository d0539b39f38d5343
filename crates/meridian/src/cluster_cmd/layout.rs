//! The cluster file (`DIR/cluster.json`) and how `meridian cluster up` lays a cluster out.
//!
//! Layout: nodes are numbered across datacenters in the order given; node i (from 0) gets
//! address `first_address + i`, the same ports as every other node (like separate hosts),
//! name `<dc>-<n>` (n from 1 within its datacenter), rack `rack<((n-1) mod K) + 1>`, and
//! files under `DIR/<name>/` (`data/`, `node.log`). Seeds are the first
//! [`SEEDS_PER_DC`] nodes of each datacenter.
//!
//! Invariants of a loaded [`ClusterFile`]: at least one node; node names are unique and
//! are safe single path components (letters, digits, `_`, `-`); addresses are unique.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ClusterError;

/// The cluster file's name inside DIR.
pub const CLUSTER_FILE: &str = "cluster.json";
/// Version of the cluster file format written.
pub const FORMAT_VERSION: u32 = 1;
/// Seeds per datacenter (fewer when the datacenter is smaller).
pub const SEEDS_PER_DC: usize = 2;
/// Most nodes in one local cluster.
pub const MAX_NODES: usize = 64;
/// Most racks per datacenter.
pub const MAX_RACKS: usize = 16;
/// Longest datacenter name (the node configuration's limit).
const MAX_DC_NAME_LEN: usize = 48;

/// `DIR/cluster.json`: everything needed to start, stop and inspect the nodes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClusterFile {
    /// Format version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// `cluster_name` of every node.
    pub cluster_name: String,
    /// Seed addresses (storage port implied), given to every node.
    pub seeds: Vec<IpAddr>,
    /// Extra `meridian start` arguments given to every node.
    #[serde(default)]
    pub node_args: Vec<String>,
    /// The nodes, in numbering order.
    pub nodes: Vec<NodeEntry>,
}

/// One node of a [`ClusterFile`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeEntry {
    /// `<dc>-<n>`; also its directory under DIR.
    pub name: String,
    /// Listen, CQL and admin address.
    pub address: IpAddr,
    /// Datacenter.
    pub dc: String,
    /// Rack.
    pub rack: String,
    /// Whether it is a seed.
    pub seed: bool,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// Where its stdout and stderr go.
    pub log_file: PathBuf,
    /// Process id of the last start, if it was started.
    pub pid: Option<u32>,
    /// CQL port.
    pub cql_port: u16,
    /// Internode TCP and gossip UDP port.
    pub storage_port: u16,
    /// HTTP admin API port.
    pub admin_port: u16,
    /// Tokens chosen for the node's first start (balanced across the planned ring), given
    /// as `--initial-token`; a node ignores them once it has tokens.
    #[serde(default)]
    pub tokens: Vec<i64>,
}

impl NodeEntry {
    /// Where the admin API answers.
    pub fn admin_addr(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.admin_port)
    }

    /// Where CQL clients connect.
    pub fn cql_addr(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.cql_port)
    }
}

/// A `--dc NAME=COUNT` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DcSpec {
    /// Datacenter name.
    pub name: String,
    /// Number of nodes.
    pub nodes: usize,
}

impl std::str::FromStr for DcSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<DcSpec, String> {
        let (name, count) = s
            .split_once('=')
            .ok_or_else(|| format!("{s:?} must be NAME=COUNT, e.g. east=3"))?;
        if !valid_dc_name(name) {
            return Err(format!(
                "{name:?} must be 1 to {MAX_DC_NAME_LEN} letters, digits, '_' or '-'"
            ));
        }
        let nodes = count
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_NODES).contains(n))
            .ok_or_else(|| format!("node count {count:?} must be between 1 and {MAX_NODES}"))?;
        Ok(DcSpec {
            name: name.to_string(),
            nodes,
        })
    }
}

fn valid_dc_name(name: &str) -> bool {
    valid_name(name, MAX_DC_NAME_LEN)
}

/// 1 to `max_len` letters, digits, `_` or `-` (so also a safe path component).
fn valid_name(name: &str, max_len: usize) -> bool {
    !name.is_empty()
        && name.len() <= max_len
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// What `up` was asked for.
#[derive(Clone, Debug)]
pub struct UpPlan {
    /// Datacenters in order.
    pub dcs: Vec<DcSpec>,
    /// Racks per datacenter.
    pub racks: usize,
    /// Address of the first node.
    pub first_address: Ipv4Addr,
    /// CQL port of every node.
    pub cql_port: u16,
    /// Storage port of every node.
    pub storage_port: u16,
    /// Admin port of every node.
    pub admin_port: u16,
    /// Cluster name.
    pub cluster_name: String,
    /// Extra `meridian start` arguments.
    pub node_args: Vec<String>,
}

impl UpPlan {
    /// The cluster laid out under `dir` (which should be absolute).
    pub fn layout(&self, dir: &Path) -> Result<ClusterFile, ClusterError> {
        let bad = |reason: String| ClusterError::BadPlan { reason };
        if self.dcs.is_empty() {
            return Err(bad("give at least one --dc NAME=COUNT".into()));
        }
        if !(1..=MAX_RACKS).contains(&self.racks) {
            return Err(bad(format!(
                "--racks {} must be between 1 and {MAX_RACKS}",
                self.racks
            )));
        }
        let mut seen = HashSet::new();
        for dc in &self.dcs {
            if !seen.insert(dc.name.as_str()) {
                return Err(bad(format!("datacenter {:?} is given twice", dc.name)));
            }
        }
        let total: usize = self.dcs.iter().map(|d| d.nodes).sum();
        if total > MAX_NODES {
            return Err(bad(format!(
                "{total} nodes: at most {MAX_NODES} are supported"
            )));
        }
        let ports = [self.cql_port, self.storage_port, self.admin_port];
        if ports.contains(&0)
            || ports[0] == ports[1]
            || ports[0] == ports[2]
            || ports[1] == ports[2]
        {
            return Err(bad(format!(
                "the CQL, storage and admin ports must be distinct and non-zero (got {}, {}, {})",
                self.cql_port, self.storage_port, self.admin_port
            )));
        }
        let first = u32::from(self.first_address);
        let last = first.checked_add(total as u32 - 1).ok_or_else(|| {
            bad(format!(
                "{total} addresses from {} overflow",
                self.first_address
            ))
        })?;
        let mut nodes = Vec::with_capacity(total);
        let mut seeds = Vec::new();
        let mut index = first;
        for dc in &self.dcs {
            for n in 1..=dc.nodes {
                let name = format!("{}-{n}", dc.name);
                let address = IpAddr::V4(Ipv4Addr::from(index));
                let seed = n <= SEEDS_PER_DC;
                if seed {
                    seeds.push(address);
                }
                nodes.push(NodeEntry {
                    data_dir: dir.join(&name).join("data"),
                    log_file: dir.join(&name).join("node.log"),
                    name,
                    address,
                    dc: dc.name.clone(),
                    rack: format!("rack{}", (n - 1) % self.racks + 1),
                    seed,
                    pid: None,
                    cql_port: self.cql_port,
                    storage_port: self.storage_port,
                    admin_port: self.admin_port,
                    tokens: Vec::new(),
                });
                index += 1;
            }
        }
        debug_assert_eq!(index - 1, last);
        allocate(&mut nodes)?;
        Ok(ClusterFile {
            format_version: FORMAT_VERSION,
            cluster_name: self.cluster_name.clone(),
            seeds,
            node_args: self.node_args.clone(),
            nodes,
        })
    }
}

/// Virtual nodes per planned node (the node's `num_tokens` default).
pub const PLANNED_NUM_TOKENS: usize = 16;
/// Replication factor the planned ring is balanced for.
pub const PLANNED_REPLICATION_FACTOR: usize = 3;

/// Chooses every node's tokens in numbering order, each balanced against the ones before
/// (as if the nodes joined one by one), so the cluster starts balanced and at once.
fn allocate(nodes: &mut [NodeEntry]) -> Result<(), ClusterError> {
    use meridian_cluster::ring::{allocate_tokens, NodeDesc, TokenMetadata};
    let mut ring = TokenMetadata::new();
    for (i, node) in nodes.iter_mut().enumerate() {
        let tokens = allocate_tokens(
            &ring,
            &node.dc,
            &node.rack,
            PLANNED_NUM_TOKENS,
            PLANNED_REPLICATION_FACTOR,
        )
        .map_err(|e| ClusterError::BadPlan {
            reason: format!("token allocation for {}: {e}", node.name),
        })?;
        let host_id = meridian_cluster::ids::HostId(uuid::Uuid::from_u128(i as u128 + 1));
        ring.add_or_update(NodeDesc {
            host_id,
            datacenter: node.dc.clone(),
            rack: node.rack.clone(),
            tokens: tokens.clone(),
        })
        .map_err(|e| ClusterError::BadPlan {
            reason: format!("token allocation for {}: {e}", node.name),
        })?;
        node.tokens = tokens.into_iter().map(|t| t.0).collect();
    }
    Ok(())
}

impl ClusterFile {
    /// The path of the cluster file in `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(CLUSTER_FILE)
    }

    /// Loads and checks `dir/cluster.json`.
    pub fn load(dir: &Path) -> Result<ClusterFile, ClusterError> {
        let path = Self::path(dir);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ClusterError::NoCluster {
                    dir: dir.to_path_buf(),
                })
            }
            Err(source) => {
                return Err(ClusterError::Io {
                    what: format!("read {}", path.display()),
                    source,
                })
            }
        };
        let bad = |reason: String| ClusterError::BadClusterFile {
            path: path.clone(),
            reason,
        };
        let file: ClusterFile = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        if file.format_version != FORMAT_VERSION {
            return Err(bad(format!(
                "format version {} (this meridian reads {FORMAT_VERSION})",
                file.format_version
            )));
        }
        if file.nodes.is_empty() || file.nodes.len() > MAX_NODES {
            return Err(bad(format!(
                "{} nodes (must be 1 to {MAX_NODES})",
                file.nodes.len()
            )));
        }
        let mut names = HashSet::new();
        let mut addresses = HashSet::new();
        for node in &file.nodes {
            if !valid_name(&node.name, crate::config::MAX_NODE_NAME_LEN)
                || !names.insert(node.name.as_str())
            {
                return Err(bad(format!("bad or duplicate node name {:?}", node.name)));
            }
            if !addresses.insert(node.address) {
                return Err(bad(format!("address {} is used twice", node.address)));
            }
        }
        Ok(file)
    }

    /// Writes `dir/cluster.json` atomically (temporary file, fsync, rename).
    pub fn save(&self, dir: &Path) -> Result<(), ClusterError> {
        use std::io::Write;
        let path = Self::path(dir);
        let tmp = path.with_extension("json.tmp");
        let io = |what: &str, source| ClusterError::Io {
            what: format!("{what} {}", tmp.display()),
            source,
        };
        let json = serde_json::to_vec_pretty(self).map_err(|e| ClusterError::Io {
            what: "encode the cluster file".into(),
            source: std::io::Error::other(e),
        })?;
        let mut f = std::fs::File::create(&tmp).map_err(|e| io("create", e))?;
        f.write_all(&json).map_err(|e| io("write", e))?;
        f.sync_all().map_err(|e| io("sync", e))?;
        std::fs::rename(&tmp, &path).map_err(|source| ClusterError::Io {
            what: format!("rename {} to {}", tmp.display(), path.display()),
            source,
        })
    }

    /// Indices of the nodes named by `node` / `dc` (all when neither is given).
    pub fn select(
        &self,
        dir: &Path,
        node: Option<&str>,
        dc: Option<&str>,
    ) -> Result<Vec<usize>, ClusterError> {
        match (node, dc) {
            (Some(name), _) => self
                .nodes
                .iter()
                .position(|n| n.name == name)
                .map(|i| vec![i])
                .ok_or_else(|| ClusterError::UnknownNode {
                    dir: dir.to_path_buf(),
                    name: name.to_string(),
                    known: self.names(0..self.nodes.len()),
                }),
            (None, Some(dc)) => {
                let picked: Vec<usize> = (0..self.nodes.len())
                    .filter(|i| self.nodes[*i].dc == dc)
                    .collect();
                if picked.is_empty() {
                    let mut dcs: Vec<&str> = self.nodes.iter().map(|n| n.dc.as_str()).collect();
                    dcs.dedup();
                    return Err(ClusterError::UnknownDc {
                        dir: dir.to_path_buf(),
                        name: dc.to_string(),
                        known: dcs.join(", "),
                    });
                }
                Ok(picked)
            }
            (None, None) => Ok((0..self.nodes.len()).collect()),
        }
    }

    /// Comma-separated names of the nodes at `indices`.
    pub fn names(&self, indices: impl IntoIterator<Item = usize>) -> String {
        indices
            .into_iter()
            .filter_map(|i| self.nodes.get(i))
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(dcs: &[(&str, usize)], racks: usize) -> UpPlan {
        UpPlan {
            dcs: dcs
                .iter()
                .map(|(n, c)| DcSpec {
                    name: n.to_string(),
                    nodes: *c,
                })
                .collect(),
            racks,
            first_address: Ipv4Addr::new(127, 0, 0, 1),
            cql_port: 9042,
            storage_port: 7000,
            admin_port: 7280,
            cluster_name: "Test Cluster".into(),
            node_args: vec![],
        }
    }

    #[test]
    fn two_regions_three_zones() {
        let c = plan(&[("east", 3), ("west", 3)], 3)
            .layout(Path::new("/d"))
            .unwrap();
        let got: Vec<(String, String, String, String, bool)> = c
            .nodes
            .iter()
            .map(|n| {
                (
                    n.name.clone(),
                    n.address.to_string(),
                    n.dc.clone(),
                    n.rack.clone(),
                    n.seed,
                )
            })
            .collect();
        let want = [
            ("east-1", "127.0.0.1", "east", "rack1", true),
            ("east-2", "127.0.0.2", "east", "rack2", true),
            ("east-3", "127.0.0.3", "east", "rack3", false),
            ("west-1", "127.0.0.4", "west", "rack1", true),
            ("west-2", "127.0.0.5", "west", "rack2", true),
            ("west-3", "127.0.0.6", "west", "rack3", false),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|(a, b, c, d, e)| {
                (
                    a.to_string(),
                    b.to_string(),
                    c.to_string(),
                    d.to_string(),
                    *e,
                )
            })
            .collect();
        assert_eq!(got, want);
        let seeds: Vec<String> = c.seeds.iter().map(ToString::to_string).collect();
        assert_eq!(seeds, ["127.0.0.1", "127.0.0.2", "127.0.0.4", "127.0.0.5"]);
        assert_eq!(c.nodes[4].data_dir, Path::new("/d/west-2/data"));
        assert_eq!(c.nodes[4].log_file, Path::new("/d/west-2/node.log"));
    }

    #[test]
    fn racks_round_robin_and_single_node_dcs() {
        let c = plan(&[("a", 5), ("b", 1)], 2)
            .layout(Path::new("/d"))
            .unwrap();
        let racks: Vec<&str> = c.nodes.iter().map(|n| n.rack.as_str()).collect();
        assert_eq!(
            racks,
            ["rack1", "rack2", "rack1", "rack2", "rack1", "rack1"]
        );
        assert_eq!(c.seeds.len(), 3);
    }

    #[test]
    fn addresses_continue_past_an_octet() {
        let mut p = plan(&[("a", 3)], 1);
        p.first_address = Ipv4Addr::new(127, 0, 0, 254);
        let c = p.layout(Path::new("/d")).unwrap();
        let a: Vec<String> = c.nodes.iter().map(|n| n.address.to_string()).collect();
        assert_eq!(a, ["127.0.0.254", "127.0.0.255", "127.0.1.0"]);
        p.first_address = Ipv4Addr::new(255, 255, 255, 255);
        assert!(p.layout(Path::new("/d")).is_err());
    }

    #[test]
    fn bad_plans_are_refused() {
        assert!(plan(&[], 1).layout(Path::new("/d")).is_err());
        assert!(plan(&[("a", 1), ("a", 1)], 1)
            .layout(Path::new("/d"))
            .is_err());
        assert!(plan(&[("a", 1)], 0).layout(Path::new("/d")).is_err());
        assert!(plan(&[("a", 40), ("b", 40)], 1)
            .layout(Path::new("/d"))
            .is_err());
        let mut p = plan(&[("a", 1)], 1);
        p.admin_port = 9042;
        assert!(p.layout(Path::new("/d")).is_err());
    }

    #[test]
    fn dc_spec_parsing() {
        assert_eq!(
            "east=3".parse::<DcSpec>().unwrap(),
            DcSpec {
                name: "east".into(),
                nodes: 3
            }
        );
        for bad in ["east", "east=0", "east=x", "=2", "a/b=1", "east=65"] {
            assert!(bad.parse::<DcSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn cluster_file_round_trip_and_checks() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            ClusterFile::load(dir.path()),
            Err(ClusterError::NoCluster { .. })
        ));
        let c = plan(&[("a", 2)], 1).layout(dir.path()).unwrap();
        c.save(dir.path()).unwrap();
        let back = ClusterFile::load(dir.path()).unwrap();
        assert_eq!(back.nodes.len(), 2);
        assert_eq!(back.select(dir.path(), Some("a-2"), None).unwrap(), [1]);
        assert_eq!(back.select(dir.path(), None, Some("a")).unwrap(), [0, 1]);
        let err = back.select(dir.path(), Some("b-1"), None).unwrap_err();
        assert!(err.to_string().contains("a-1, a-2"), "{err}");
        assert!(back.select(dir.path(), None, Some("b")).is_err());

        let mut evil = c.clone();
        evil.nodes[1].name = "../x".into();
        evil.save(dir.path()).unwrap();
        assert!(matches!(
            ClusterFile::load(dir.path()),
            Err(ClusterError::BadClusterFile { .. })
        ));
        std::fs::write(ClusterFile::path(dir.path()), b"{not json").unwrap();
        assert!(matches!(
            ClusterFile::load(dir.path()),
            Err(ClusterError::BadClusterFile { .. })
        ));
    }
}
