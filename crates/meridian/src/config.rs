//! Node configuration: embedded defaults, an optional TOML file (`--config`), and flags, in
//! increasing precedence. Keys use Cassandra's names where Cassandra has one.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context};
use serde::Deserialize;

/// Default `storage_port` (Cassandra's).
pub const DEFAULT_STORAGE_PORT: u16 = 7000;
/// Default `admin_port`.
pub const DEFAULT_ADMIN_PORT: u16 = 7280;
/// Longest accepted `node_name`.
pub const MAX_NODE_NAME_LEN: usize = 64;
/// Most entries accepted in `seeds`.
pub const MAX_SEEDS: usize = 64;

/// One entry of `seeds`: a host (IP address or DNS name) and, once the configuration is
/// complete, always a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seed {
    /// IP address or host name (IPv6 without brackets).
    pub host: String,
    /// Port; `None` only while parsing (then `storage_port` is filled in).
    pub port: Option<u16>,
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bracket = self.host.contains(':');
        match (bracket, self.port) {
            (true, Some(p)) => write!(f, "[{}]:{p}", self.host),
            (false, Some(p)) => write!(f, "{}:{p}", self.host),
            (_, None) => f.write_str(&self.host),
        }
    }
}

impl FromStr for Seed {
    type Err = String;

    /// `host`, `host:port`, an IPv6 address, or `[ipv6]:port`.
    fn from_str(s: &str) -> Result<Seed, String> {
        let s = s.trim();
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("{s:?}: missing ']'"))?;
            match after.strip_prefix(':') {
                Some(p) => (host, Some(p)),
                None if after.is_empty() => (host, None),
                None => return Err(format!("{s:?}: unexpected {after:?} after ']'")),
            }
        } else if s.matches(':').count() > 1 {
            (s, None) // a bare IPv6 address
        } else {
            match s.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (s, None),
            }
        };
        let valid_host = host.parse::<IpAddr>().is_ok()
            || (!host.is_empty()
                && host.len() <= 253
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
        if !valid_host {
            return Err(format!("{s:?}: {host:?} is not an IP address or host name"));
        }
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p > 0 => Some(p),
                _ => return Err(format!("{s:?}: port {p:?} must be between 1 and 65535")),
            },
        };
        Ok(Seed {
            host: host.to_string(),
            port,
        })
    }
}

/// `seeds` as written: comma-separated `host[:port]` entries (Cassandra's seed provider
/// format), in a flag or the file; the file also takes an array of strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedList(pub Vec<Seed>);

impl FromStr for SeedList {
    type Err = String;

    fn from_str(s: &str) -> Result<SeedList, String> {
        s.split(',')
            .filter(|e| !e.trim().is_empty())
            .map(str::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(SeedList)
    }
}

impl<'de> Deserialize<'de> for SeedList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SeedList, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        let joined = match Raw::deserialize(d)? {
            Raw::One(s) => s,
            Raw::Many(v) => v.join(","),
        };
        joined.parse().map_err(serde::de::Error::custom)
    }
}

/// `commitlog_sync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum CommitlogSync {
    /// Acknowledge at once, fsync every `commitlog_sync_period`.
    Periodic,
    /// Acknowledge after fsync (group commit).
    Batch,
}

/// The configuration file. Unknown keys are an error naming the key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub cluster_name: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub listen_address: Option<IpAddr>,
    pub rpc_address: Option<IpAddr>,
    pub native_transport_port: Option<u16>,
    pub dc: Option<String>,
    pub rack: Option<String>,
    pub commitlog_sync: Option<CommitlogSync>,
    pub commitlog_sync_period_in_ms: Option<u64>,
    pub num_tokens: Option<u32>,
    pub log_level: Option<String>,
    pub memtable_space_in_mb: Option<u64>,
    pub compaction_throughput_mb_per_sec: Option<u64>,
    pub max_frame_size_in_mb: Option<u64>,
    pub native_transport_max_concurrent_requests: Option<usize>,
    pub seeds: Option<SeedList>,
    pub initial_token: Option<String>,
    pub hinted_handoff_enabled: Option<bool>,
    pub hinted_handoff_throttle_in_kb: Option<u64>,
    pub storage_port: Option<u16>,
    pub admin_port: Option<u16>,
    pub node_name: Option<String>,
}

/// The effective configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub cluster_name: String,
    pub data_dir: PathBuf,
    pub listen_address: IpAddr,
    pub rpc_address: IpAddr,
    pub native_transport_port: u16,
    pub dc: String,
    pub rack: String,
    pub commitlog_sync: CommitlogSync,
    pub commitlog_sync_period_in_ms: u64,
    pub num_tokens: u32,
    pub log_level: String,
    pub memtable_space_in_mb: u64,
    pub compaction_throughput_mb_per_sec: u64,
    pub max_frame_size_in_mb: u64,
    pub native_transport_max_concurrent_requests: usize,
    /// `seeds`: the nodes a starting node gossips with first. Ports missing from the
    /// configured addresses are filled in with `storage_port` once the configuration is
    /// complete, so every entry has one.
    pub seeds: Vec<Seed>,
    /// `initial_token`: the tokens of a new node, comma-separated (empty: chosen by the
    /// node, balanced against the ring it learns through gossip). Ignored once the node has
    /// tokens.
    pub initial_token: Vec<i64>,
    /// `hinted_handoff_enabled`: store hints for replicas that miss writes (default true).
    pub hinted_handoff_enabled: bool,
    /// `hinted_handoff_throttle_in_kb`: most KiB of hints replayed per second to one node
    /// (0, the default: as fast as a bounded window of requests goes).
    pub hinted_handoff_throttle_in_kb: u64,
    /// `storage_port`: internode messaging (TCP) and gossip (UDP), on `listen_address`.
    pub storage_port: u16,
    /// `admin_port`: the HTTP admin API (`/v1/health`, `/v1/cluster`), on `listen_address`.
    pub admin_port: u16,
    /// `node_name`: an optional display name (`east-1`), shown by the admin API.
    pub node_name: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        let localhost: IpAddr = [127, 0, 0, 1].into();
        Config {
            cluster_name: "Test Cluster".into(),
            data_dir: PathBuf::from("meridian-data"),
            listen_address: localhost,
            rpc_address: localhost,
            native_transport_port: 9042,
            dc: "dc1".into(),
            rack: "rack1".into(),
            commitlog_sync: CommitlogSync::Periodic,
            commitlog_sync_period_in_ms: 10_000,
            num_tokens: 16,
            log_level: "info".into(),
            memtable_space_in_mb: 256,
            compaction_throughput_mb_per_sec: 64,
            max_frame_size_in_mb: 256,
            native_transport_max_concurrent_requests: 16_384,
            seeds: Vec::new(),
            initial_token: Vec::new(),
            hinted_handoff_enabled: true,
            hinted_handoff_throttle_in_kb: 0,
            storage_port: DEFAULT_STORAGE_PORT,
            admin_port: DEFAULT_ADMIN_PORT,
            node_name: None,
        }
    }
}

/// Flags of `meridian start`; they override the file.
#[derive(Debug, Default, clap::Args)]
pub struct StartArgs {
    /// A TOML configuration file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Where data lives (default ./meridian-data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on for other nodes and the admin API; also the CQL address unless
    /// --rpc-address is given (default 127.0.0.1).
    #[arg(long)]
    pub listen_address: Option<IpAddr>,
    /// Address clients connect to for CQL (default: the listen address).
    #[arg(long)]
    pub rpc_address: Option<IpAddr>,
    /// CQL port (default 9042).
    #[arg(long)]
    pub cql_port: Option<u16>,
    /// Cluster name (default "Test Cluster").
    #[arg(long)]
    pub cluster_name: Option<String>,
    /// Datacenter (default dc1).
    #[arg(long)]
    pub dc: Option<String>,
    /// Rack (default rack1).
    #[arg(long)]
    pub rack: Option<String>,
    /// Commit log durability (default periodic).
    #[arg(long, value_enum)]
    pub commitlog_sync: Option<CommitlogSync>,
    /// Log level: error, warn, info, debug, trace (default info).
    #[arg(long)]
    pub log_level: Option<String>,
    /// Seed nodes, comma-separated `host[:port]` (port default: the storage port).
    #[arg(long)]
    pub seeds: Option<SeedList>,
    /// Internode TCP and gossip UDP port (default 7000).
    #[arg(long)]
    pub storage_port: Option<u16>,
    /// HTTP admin API port, on the listen address (default 7280).
    #[arg(long)]
    pub admin_port: Option<u16>,
    /// Display name of this node, e.g. east-1 (config key `node_name`).
    #[arg(long = "name")]
    pub node_name: Option<String>,
    /// Tokens of a new node, comma-separated (config key `initial_token`).
    #[arg(long)]
    pub initial_token: Option<String>,
    /// Virtual nodes of a new node (default 16).
    #[arg(long)]
    pub num_tokens: Option<u32>,
    /// Store hints for replicas that miss writes (default true).
    #[arg(long)]
    pub hinted_handoff_enabled: Option<bool>,
}

/// Parses an `initial_token` list.
fn parse_tokens(text: &str) -> anyhow::Result<Vec<i64>> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<i64>()
                .map_err(|e| anyhow::anyhow!("initial_token: {t:?} is not a Murmur3 token: {e}"))
        })
        .collect()
}

impl Config {
    /// Defaults, then the file, then the flags; validated.
    pub fn load(args: &StartArgs) -> anyhow::Result<Config> {
        let mut c = Config::default();
        if let Some(path) = &args.config {
            c.apply_file(path)?;
        }
        if let Some(v) = &args.data_dir {
            c.data_dir = v.clone();
        }
        if let Some(v) = args.listen_address {
            c.listen_address = v;
            c.rpc_address = v;
        }
        if let Some(v) = args.rpc_address {
            c.rpc_address = v;
        }
        if let Some(v) = args.cql_port {
            c.native_transport_port = v;
        }
        if let Some(v) = &args.cluster_name {
            c.cluster_name = v.clone();
        }
        if let Some(v) = &args.dc {
            c.dc = v.clone();
        }
        if let Some(v) = &args.rack {
            c.rack = v.clone();
        }
        if let Some(v) = args.commitlog_sync {
            c.commitlog_sync = v;
        }
        if let Some(v) = &args.log_level {
            c.log_level = v.clone();
        }
        if let Some(v) = &args.seeds {
            c.seeds = v.0.clone();
        }
        if let Some(v) = args.storage_port {
            c.storage_port = v;
        }
        if let Some(v) = args.admin_port {
            c.admin_port = v;
        }
        if let Some(v) = &args.node_name {
            c.node_name = Some(v.clone());
        }
        if let Some(v) = &args.initial_token {
            c.initial_token = parse_tokens(v)?;
        }
        if let Some(v) = args.num_tokens {
            c.num_tokens = v;
        }
        if let Some(v) = args.hinted_handoff_enabled {
            c.hinted_handoff_enabled = v;
        }
        for seed in &mut c.seeds {
            seed.port.get_or_insert(c.storage_port);
        }
        c.validate()?;
        Ok(c)
    }

    fn apply_file(&mut self, path: &Path) -> anyhow::Result<()> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("read configuration file {}", path.display()))?;
        let f: FileConfig = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("invalid configuration file {}: {e}", path.display()))?;
        macro_rules! set {
            ($($k:ident),*) => { $( if let Some(v) = f.$k { self.$k = v; } )* };
        }
        set!(
            cluster_name,
            data_dir,
            listen_address,
            native_transport_port,
            dc,
            rack,
            commitlog_sync,
            commitlog_sync_period_in_ms,
            num_tokens,
            log_level,
            memtable_space_in_mb,
            compaction_throughput_mb_per_sec,
            max_frame_size_in_mb,
            native_transport_max_concurrent_requests,
            storage_port,
            admin_port
        );
        if let Some(v) = f.seeds {
            self.seeds = v.0;
        }
        if let Some(v) = f.hinted_handoff_enabled {
            self.hinted_handoff_enabled = v;
        }
        if let Some(v) = f.hinted_handoff_throttle_in_kb {
            self.hinted_handoff_throttle_in_kb = v;
        }
        if let Some(v) = &f.initial_token {
            self.initial_token = parse_tokens(v)?;
        }
        if let Some(v) = f.node_name {
            self.node_name = Some(v);
        }
        self.rpc_address = f.rpc_address.unwrap_or(self.listen_address);
        Ok(())
    }

    /// Checks every key, naming the key and the problem.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.cluster_name.trim().is_empty() {
            bail!("cluster_name: must not be empty");
        }
        for (key, v) in [("dc", &self.dc), ("rack", &self.rack)] {
            if v.is_empty()
                || v.len() > 48
                || !v
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                bail!("{key}: {v:?} must be 1 to 48 letters, digits, '_' or '-'");
            }
        }
        if let Some(name) = &self.node_name {
            if name.is_empty()
                || name.len() > MAX_NODE_NAME_LEN
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
            {
                bail!(
                    "node_name: {name:?} must be 1 to {MAX_NODE_NAME_LEN} letters, digits, '_', '-' or '.'"
                );
            }
        }
        if self.initial_token.contains(&i64::MIN) {
            bail!(
                "initial_token: {} is the partitioner's minimum token, which no node may own",
                i64::MIN
            );
        }
        let mut sorted = self.initial_token.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != self.initial_token.len() {
            bail!("initial_token: a token appears twice");
        }
        let ports = [
            ("native_transport_port", self.native_transport_port),
            ("storage_port", self.storage_port),
            ("admin_port", self.admin_port),
        ];
        for (i, (key, port)) in ports.iter().enumerate() {
            if *port == 0 {
                bail!("{key}: must be between 1 and 65535");
            }
            if let Some((other, _)) = ports[..i].iter().find(|(_, p)| p == port) {
                bail!("{key}: {port} is already used by {other}");
            }
        }
        if self.seeds.len() > MAX_SEEDS {
            bail!(
                "seeds: {} addresses, at most {MAX_SEEDS} are allowed",
                self.seeds.len()
            );
        }
        if !(1..=256).contains(&self.num_tokens) {
            bail!("num_tokens: {} must be between 1 and 256", self.num_tokens);
        }
        if !(1..=600_000).contains(&self.commitlog_sync_period_in_ms) {
            bail!(
                "commitlog_sync_period_in_ms: {} must be between 1 and 600000",
                self.commitlog_sync_period_in_ms
            );
        }
        if self.memtable_space_in_mb < 8 {
            bail!(
                "memtable_space_in_mb: {} must be at least 8",
                self.memtable_space_in_mb
            );
        }
        if !(1..=2047).contains(&self.max_frame_size_in_mb) {
            bail!(
                "max_frame_size_in_mb: {} must be between 1 and 2047",
                self.max_frame_size_in_mb
            );
        }
        if self.native_transport_max_concurrent_requests == 0 {
            bail!("native_transport_max_concurrent_requests: must be positive");
        }
        if !["error", "warn", "info", "debug", "trace"].contains(&self.log_level.as_str()) {
            bail!(
                "log_level: {:?} must be one of error, warn, info, debug, trace",
                self.log_level
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(f: impl FnOnce(&mut StartArgs)) -> StartArgs {
        let mut a = StartArgs::default();
        f(&mut a);
        a
    }

    #[test]
    fn defaults_have_cassandra_ports_and_no_seeds() {
        let c = Config::load(&StartArgs::default()).unwrap();
        assert_eq!(c.storage_port, 7000);
        assert_eq!(c.admin_port, 7280);
        assert_eq!(c.native_transport_port, 9042);
        assert!(c.seeds.is_empty());
        assert_eq!(c.node_name, None);
    }

    #[test]
    fn seeds_take_the_storage_port_when_none_is_given() {
        let c = Config::load(&args(|a| {
            a.seeds = Some(
                "127.0.0.1, 10.0.0.2:7001,[::1]:7002,::2,seed-0.example"
                    .parse()
                    .unwrap(),
            );
            a.storage_port = Some(7100);
        }))
        .unwrap();
        let shown: Vec<String> = c.seeds.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "127.0.0.1:7100",
                "10.0.0.2:7001",
                "[::1]:7002",
                "[::2]:7100",
                "seed-0.example:7100"
            ]
        );
    }

    #[test]
    fn bad_seeds_are_refused_with_the_entry() {
        for bad in [
            "10.0.0.1:0",
            "10.0.0.1:x",
            "[::1",
            "[::1]x",
            "a b",
            "h:70000",
        ] {
            let err = bad.parse::<SeedList>().unwrap_err();
            assert!(err.contains(bad.trim()), "{bad}: {err}");
        }
    }

    #[test]
    fn rpc_address_flag_overrides_the_listen_address() {
        let c = Config::load(&args(|a| {
            a.listen_address = Some([127, 0, 0, 5].into());
            a.rpc_address = Some([127, 0, 0, 6].into());
        }))
        .unwrap();
        assert_eq!(c.listen_address, IpAddr::from([127, 0, 0, 5]));
        assert_eq!(c.rpc_address, IpAddr::from([127, 0, 0, 6]));
        let c = Config::load(&args(|a| a.listen_address = Some([127, 0, 0, 5].into()))).unwrap();
        assert_eq!(c.rpc_address, IpAddr::from([127, 0, 0, 5]));
    }

    #[test]
    fn ports_must_differ() {
        let err = Config::load(&args(|a| {
            a.admin_port = Some(9042);
        }))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "admin_port: 9042 is already used by native_transport_port"
        );
        let err = Config::load(&args(|a| a.storage_port = Some(0))).unwrap_err();
        assert!(err.to_string().starts_with("storage_port:"), "{err}");
    }

    #[test]
    fn node_name_is_validated() {
        let c = Config::load(&args(|a| a.node_name = Some("east-1".into()))).unwrap();
        assert_eq!(c.node_name.as_deref(), Some("east-1"));
        let err = Config::load(&args(|a| a.node_name = Some("east 1".into()))).unwrap_err();
        assert!(err.to_string().starts_with("node_name:"), "{err}");
    }

    #[test]
    fn file_keys_and_flag_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meridian.toml");
        std::fs::write(
            &path,
            "seeds = [\"127.0.0.1\", \"127.0.0.2:7001\"]\nstorage_port = 7010\nadmin_port = 7290\nnode_name = \"west-2\"\n",
        )
        .unwrap();
        let c = Config::load(&args(|a| a.config = Some(path.clone()))).unwrap();
        assert_eq!(c.storage_port, 7010);
        assert_eq!(c.admin_port, 7290);
        assert_eq!(c.node_name.as_deref(), Some("west-2"));
        let shown: Vec<String> = c.seeds.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["127.0.0.1:7010", "127.0.0.2:7001"]);

        std::fs::write(&path, "seeds = \"127.0.0.3\"\n").unwrap();
        let c = Config::load(&args(|a| {
            a.config = Some(path.clone());
            a.seeds = Some("127.0.0.4".parse().unwrap());
        }))
        .unwrap();
        assert_eq!(c.seeds[0].to_string(), "127.0.0.4:7000");

        std::fs::write(&path, "seed = \"127.0.0.3\"\n").unwrap();
        let err = Config::load(&args(|a| a.config = Some(path.clone()))).unwrap_err();
        assert!(err.to_string().contains("seed"), "{err}");
    }
}
