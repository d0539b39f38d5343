//! Node configuration: embedded defaults, an optional TOML file (`--config`), and flags, in
//! increasing precedence. Keys use Cassandra's names where Cassandra has one.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

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
    /// Address to listen on (default 127.0.0.1).
    #[arg(long)]
    pub listen_address: Option<IpAddr>,
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
            native_transport_max_concurrent_requests
        );
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
        if self.native_transport_port == 0 {
            bail!("native_transport_port: must be between 1 and 65535");
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
