//! `meridian cluster`: a manager of local node processes for development, demos and tests,
//! in the spirit of ccm.
//!
//! - `up --dir DIR --dc east=3 --dc west=3 [--racks 3]` lays a cluster out in DIR (see
//!   [`layout`]), starts every node (the first seed first) and returns once all are up and
//!   agree (see [`ready`]).
//! - `status --dir DIR` prints every node's address, datacenter, rack, up/down, state, pid,
//!   data size and ownership.
//! - `stop --dir DIR [--node NAME | --dc NAME] [--kill]`: SIGTERM and wait, or SIGKILL.
//! - `start --dir DIR [--node NAME | --dc NAME]`: start stopped nodes on their data.
//! - `down --dir DIR [--destroy]`: stop everything; `--destroy` deletes the nodes' files.
//!
//! Invariants: DIR holds `cluster.json` (the layout and last pids) and one directory per
//! node; commands that change anything hold an exclusive lock on `DIR/.cluster.lock`, so
//! two never interleave; a node's process is only signalled after it is recognised as that
//! node (see [`process`]).

pub mod http;
pub mod layout;
pub mod process;
pub mod ready;
pub mod status;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use clap::Subcommand;

use layout::{ClusterFile, DcSpec, NodeEntry, UpPlan};
use ready::Readiness;

/// The lock file inside DIR.
const LOCK_FILE: &str = ".cluster.lock";
/// Pause between checks while waiting for processes to exit.
const EXIT_POLL_INTERVAL: Duration = Duration::from_millis(50);

/// `meridian cluster`.
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    command: ClusterCommand,
}

#[derive(Debug, Subcommand)]
enum ClusterCommand {
    /// Lay out a new cluster in DIR, start every node in the background, and wait until all
    /// are up and agree on the schema.
    Up(UpArgs),
    /// Show every node: address, datacenter, rack, up/down, state, pid, data size,
    /// ownership.
    Status(StatusArgs),
    /// Stop nodes gracefully (SIGTERM, then wait), or at once with --kill (SIGKILL).
    Stop(StopArgs),
    /// Start stopped nodes on their data and wait until they are up.
    Start(StartArgs),
    /// Stop every node; --destroy also deletes their data, logs and the cluster file.
    Down(DownArgs),
}

#[derive(Debug, clap::Args)]
struct UpArgs {
    /// Directory of the cluster (created if missing).
    #[arg(long)]
    dir: PathBuf,
    /// A datacenter and its node count; repeat for several, in numbering order.
    #[arg(long = "dc", value_name = "NAME=COUNT", required = true)]
    dcs: Vec<DcSpec>,
    /// Racks per datacenter; nodes are spread over rack1..rackK round-robin.
    #[arg(long, default_value_t = 1)]
    racks: usize,
    /// Address of the first node; node i gets the i-th next address.
    #[arg(long, default_value_t = Ipv4Addr::new(127, 0, 0, 1))]
    first_address: Ipv4Addr,
    /// CQL port on every node's address.
    #[arg(long, default_value_t = 9042)]
    cql_port: u16,
    /// Internode (TCP) and gossip (UDP) port on every node's address.
    #[arg(long, default_value_t = crate::config::DEFAULT_STORAGE_PORT)]
    storage_port: u16,
    /// Admin API port on every node's address.
    #[arg(long, default_value_t = crate::config::DEFAULT_ADMIN_PORT)]
    admin_port: u16,
    /// Cluster name.
    #[arg(long, default_value = "Test Cluster")]
    cluster_name: String,
    /// Seconds to wait for every node to be up and agree.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
    /// Extra `meridian start` arguments for every node, after `--`.
    #[arg(last = true, value_name = "START_ARGS")]
    node_args: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct StatusArgs {
    /// Directory of the cluster.
    #[arg(long)]
    dir: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct Selection {
    /// Only this node.
    #[arg(long, conflicts_with = "dc")]
    node: Option<String>,
    /// Only the nodes of this datacenter.
    #[arg(long)]
    dc: Option<String>,
}

#[derive(Debug, clap::Args)]
struct StopArgs {
    /// Directory of the cluster.
    #[arg(long)]
    dir: PathBuf,
    #[command(flatten)]
    selection: Selection,
    /// SIGKILL instead of SIGTERM: a crash, or a whole region going dark.
    #[arg(long)]
    kill: bool,
    /// Seconds to wait for the processes to exit.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
}

#[derive(Debug, clap::Args)]
struct StartArgs {
    /// Directory of the cluster.
    #[arg(long)]
    dir: PathBuf,
    #[command(flatten)]
    selection: Selection,
    /// Seconds to wait for the nodes to be up and agree.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
}

#[derive(Debug, clap::Args)]
struct DownArgs {
    /// Directory of the cluster.
    #[arg(long)]
    dir: PathBuf,
    /// Also delete every node's data and log, and the cluster file.
    #[arg(long)]
    destroy: bool,
    /// SIGKILL instead of SIGTERM.
    #[arg(long)]
    kill: bool,
    /// Seconds to wait for the processes to exit.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
}

/// Something that keeps a cluster from being ready, about one node or the whole cluster.
#[derive(Debug)]
pub struct Problem {
    /// The node concerned, if one.
    pub node: Option<String>,
    /// Its log.
    pub log: Option<PathBuf>,
    /// What is wrong.
    pub what: String,
}

impl Problem {
    /// A problem of `node`.
    pub fn node(node: &NodeEntry, what: String) -> Problem {
        Problem {
            node: Some(node.name.clone()),
            log: Some(node.log_file.clone()),
            what,
        }
    }

    /// A problem of the whole cluster.
    pub fn cluster(what: String) -> Problem {
        Problem {
            node: None,
            log: None,
            what,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(node) = &self.node {
            write!(f, "{node}: ")?;
        }
        f.write_str(&self.what)?;
        if let Some(log) = &self.log {
            write!(f, " (log: {})", log.display())?;
        }
        Ok(())
    }
}

/// Problems, one per line.
#[derive(Debug)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

/// Why a `meridian cluster` command failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// DIR has no cluster file.
    #[error("no cluster in {} (no cluster.json); create one with `meridian cluster up --dir {} --dc NAME=COUNT`", dir.display(), dir.display())]
    NoCluster {
        /// The directory.
        dir: PathBuf,
    },
    /// DIR's cluster has running nodes.
    #[error("{} already has a running cluster ({running}); see `meridian cluster status --dir {}`, stop it with `meridian cluster down --dir {}`", dir.display(), dir.display(), dir.display())]
    AlreadyRunning {
        /// The directory.
        dir: PathBuf,
        /// The running nodes and their pids.
        running: String,
    },
    /// DIR holds a stopped cluster, or leftovers of one.
    #[error("{} already holds a cluster ({what}); start it on its data with `meridian cluster start --dir {}`, or delete it with `meridian cluster down --dir {} --destroy`", dir.display(), dir.display(), dir.display())]
    AlreadyExists {
        /// The directory.
        dir: PathBuf,
        /// What was found.
        what: String,
    },
    /// The `up` arguments do not describe a cluster.
    #[error("{reason}")]
    BadPlan {
        /// What is wrong.
        reason: String,
    },
    /// The cluster file cannot be used.
    #[error("{}: {reason}", path.display())]
    BadClusterFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A node's address and port cannot be bound.
    #[error("node {node}: cannot bind the {what} port {addr}: {source}{hint}")]
    NotBindable {
        /// The node.
        node: String,
        /// Which port.
        what: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
        /// What to do about it.
        hint: &'static str,
    },
    /// A node exited while the command waited for it.
    #[error("node {node} exited during startup ({status}); last lines of {}:\n{tail}\n(the other nodes keep running; `meridian cluster down --dir {}` stops them)", log.display(), dir.display())]
    NodeDied {
        /// The directory.
        dir: PathBuf,
        /// The node.
        node: String,
        /// How it exited.
        status: String,
        /// Its log.
        log: PathBuf,
        /// The log's last lines.
        tail: String,
    },
    /// Nodes were not ready in time.
    #[error("the cluster was not ready after {timeout_secs} s:\n{problems}the nodes keep running: read their logs, then `meridian cluster down --dir {}` stops them", dir.display())]
    Timeout {
        /// The directory.
        dir: PathBuf,
        /// The limit.
        timeout_secs: u64,
        /// What was still wrong.
        problems: Problems,
    },
    /// Processes did not exit in time.
    #[error("{nodes} did not exit within {timeout_secs} s of {signal}{hint}")]
    StopTimeout {
        /// The nodes and their pids.
        nodes: String,
        /// The limit.
        timeout_secs: u64,
        /// SIGTERM or SIGKILL.
        signal: &'static str,
        /// What to do about it.
        hint: &'static str,
    },
    /// `--node` names no node.
    #[error("no node named {name:?} in {}; the nodes are {known}", dir.display())]
    UnknownNode {
        /// The directory.
        dir: PathBuf,
        /// The name asked for.
        name: String,
        /// The names there are.
        known: String,
    },
    /// `--dc` names no datacenter.
    #[error("no datacenter named {name:?} in {}; the datacenters are {known}", dir.display())]
    UnknownDc {
        /// The directory.
        dir: PathBuf,
        /// The name asked for.
        name: String,
        /// The names there are.
        known: String,
    },
    /// Another command holds DIR's lock.
    #[error("another `meridian cluster` command is working on {}; try again when it has finished", dir.display())]
    Busy {
        /// The directory.
        dir: PathBuf,
    },
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl ClusterError {
    /// A bind failure with advice that fits its cause.
    pub fn not_bindable(
        node: &NodeEntry,
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    ) -> ClusterError {
        let hint = match source.kind() {
            std::io::ErrorKind::AddrInUse => {
                " (in use: another local cluster or Cassandra? `--first-address` picks other addresses)"
            }
            std::io::ErrorKind::AddrNotAvailable => {
                " (the address is not on this host; Linux routes all of 127.0.0.0/8 to lo, elsewhere add a loopback alias, e.g. `sudo ifconfig lo0 alias ADDRESS`)"
            }
            _ => "",
        };
        ClusterError::NotBindable {
            node: node.name.clone(),
            what,
            addr,
            source,
            hint,
        }
    }
}

/// Runs a `meridian cluster` command.
pub fn run(args: ClusterArgs) -> Result<(), ClusterError> {
    match args.command {
        ClusterCommand::Up(a) => up(a),
        ClusterCommand::Status(a) => status(a),
        ClusterCommand::Stop(a) => {
            let dir = absolute(&a.dir)?;
            let _lock = lock(&dir)?;
            let mut cluster = ClusterFile::load(&dir)?;
            let picked =
                cluster.select(&dir, a.selection.node.as_deref(), a.selection.dc.as_deref())?;
            stop_nodes(&dir, &mut cluster, &picked, a.kill, a.timeout_secs)
        }
        ClusterCommand::Start(a) => {
            let dir = absolute(&a.dir)?;
            let _lock = lock(&dir)?;
            let mut cluster = ClusterFile::load(&dir)?;
            let picked =
                cluster.select(&dir, a.selection.node.as_deref(), a.selection.dc.as_deref())?;
            start_nodes(&dir, &mut cluster, &picked, a.timeout_secs)
        }
        ClusterCommand::Down(a) => down(a),
    }
}

fn absolute(dir: &Path) -> Result<PathBuf, ClusterError> {
    std::path::absolute(dir).map_err(|source| ClusterError::Io {
        what: format!("resolve {}", dir.display()),
        source,
    })
}

/// Takes DIR's exclusive lock for the life of the returned file.
fn lock(dir: &Path) -> Result<std::fs::File, ClusterError> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ClusterError::NoCluster {
                dir: dir.to_path_buf(),
            },
            _ => ClusterError::Io {
                what: format!("open {}", path.display()),
                source,
            },
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ClusterError::Busy {
            dir: dir.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(ClusterError::Io {
            what: format!("lock {}", path.display()),
            source,
        }),
    }
}

fn running_list(cluster: &ClusterFile, indices: impl IntoIterator<Item = usize>) -> String {
    indices
        .into_iter()
        .filter_map(|i| cluster.nodes.get(i))
        .map(|n| format!("{} pid {}", n.name, n.pid.unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn up(a: UpArgs) -> Result<(), ClusterError> {
    let dir = absolute(&a.dir)?;
    let plan = UpPlan {
        dcs: a.dcs,
        racks: a.racks,
        first_address: a.first_address,
        cql_port: a.cql_port,
        storage_port: a.storage_port,
        admin_port: a.admin_port,
        cluster_name: a.cluster_name,
        node_args: a.node_args,
    };
    let mut cluster = plan.layout(&dir)?;
    std::fs::create_dir_all(&dir).map_err(|source| ClusterError::Io {
        what: format!("create {}", dir.display()),
        source,
    })?;
    let _lock = lock(&dir)?;
    match ClusterFile::load(&dir) {
        Ok(existing) => {
            let running: Vec<usize> = (0..existing.nodes.len())
                .filter(|i| process::is_running(&existing.nodes[*i]))
                .collect();
            return Err(if running.is_empty() {
                ClusterError::AlreadyExists {
                    dir,
                    what: format!("stopped: {}", existing.names(0..existing.nodes.len())),
                }
            } else {
                ClusterError::AlreadyRunning {
                    running: running_list(&existing, running),
                    dir,
                }
            });
        }
        Err(ClusterError::NoCluster { .. }) => {}
        Err(e) => return Err(e),
    }
    for node in &cluster.nodes {
        let node_dir = dir.join(&node.name);
        if node_dir.exists() {
            return Err(ClusterError::AlreadyExists {
                dir,
                what: format!("{} exists without a cluster file", node_dir.display()),
            });
        }
    }
    for node in &cluster.nodes {
        process::check_bindable(node)?;
    }
    cluster.save(&dir)?;
    let all: Vec<usize> = (0..cluster.nodes.len()).collect();
    start_nodes(&dir, &mut cluster, &all, a.timeout_secs)
}

/// Starts the nodes of `picked` that are not running and waits until they and every
/// running node are up and agree. Without a running seed, one seed starts (and answers)
/// first so the others have someone to meet.
fn start_nodes(
    dir: &Path,
    cluster: &mut ClusterFile,
    picked: &[usize],
    timeout_secs: u64,
) -> Result<(), ClusterError> {
    let timeout = Duration::from_secs(timeout_secs);
    let deadline = Instant::now() + timeout;
    let running: Vec<usize> = (0..cluster.nodes.len())
        .filter(|i| process::is_running(&cluster.nodes[*i]))
        .collect();
    let to_start: Vec<usize> = picked
        .iter()
        .copied()
        .filter(|i| !running.contains(i))
        .collect();
    for &i in picked.iter().filter(|i| running.contains(i)) {
        println!("{} is already running", cluster.nodes[i].name);
    }
    if to_start.is_empty() {
        return Ok(());
    }
    for &i in &to_start {
        process::check_bindable(&cluster.nodes[i])?;
    }
    let exe = std::env::current_exe().map_err(|source| ClusterError::Io {
        what: "find the meridian executable".into(),
        source,
    })?;
    let seed_running = running.iter().any(|&i| cluster.nodes[i].seed);
    let first: Vec<usize> = if seed_running {
        Vec::new()
    } else {
        to_start
            .iter()
            .copied()
            .find(|&i| cluster.nodes[i].seed)
            .into_iter()
            .collect()
    };
    let rest: Vec<usize> = to_start
        .iter()
        .copied()
        .filter(|i| !first.contains(i))
        .collect();
    let mut children: Vec<(usize, Child)> = Vec::new();
    for phase in [first, rest] {
        if phase.is_empty() {
            continue;
        }
        for &i in &phase {
            let child = process::spawn(&exe, cluster, &cluster.nodes[i])?;
            let node = &mut cluster.nodes[i];
            node.pid = Some(child.id());
            println!(
                "started {} on {} (pid {}, log {})",
                node.name,
                node.address,
                child.id(),
                node.log_file.display()
            );
            children.push((i, child));
        }
        cluster.save(dir)?;
        ready::wait(
            dir,
            cluster,
            &phase,
            Readiness::Health,
            &mut children,
            deadline,
            timeout,
        )?;
    }
    let mut expected_up: Vec<usize> = running;
    expected_up.extend(&to_start);
    expected_up.sort_unstable();
    ready::wait(
        dir,
        cluster,
        &expected_up,
        Readiness::Agreement,
        &mut children,
        deadline,
        timeout,
    )?;
    print!("{}", status::render_table(&status::gather(cluster)));
    let first_up = &cluster.nodes[expected_up[0]];
    println!(
        "{} of {} nodes up; connect with: cqlsh {} {}",
        expected_up.len(),
        cluster.nodes.len(),
        first_up.address,
        first_up.cql_port
    );
    Ok(())
}

/// Signals the running nodes of `picked` and waits for their processes to exit.
fn stop_nodes(
    dir: &Path,
    cluster: &mut ClusterFile,
    picked: &[usize],
    kill: bool,
    timeout_secs: u64,
) -> Result<(), ClusterError> {
    let mut signalled = Vec::new();
    for &i in picked {
        let node = &cluster.nodes[i];
        if process::signal(node, kill)? {
            signalled.push(i);
        } else {
            println!("{} is not running", node.name);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(timeout_secs);
    let mut waiting = signalled;
    loop {
        let mut still = Vec::new();
        for i in waiting {
            if process::is_running(&cluster.nodes[i]) {
                still.push(i);
            } else {
                let node = &mut cluster.nodes[i];
                let how = if kill { "killed" } else { "stopped" };
                println!("{how} {} (pid {})", node.name, node.pid.unwrap_or_default());
                node.pid = None;
            }
        }
        waiting = still;
        if waiting.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            cluster.save(dir)?;
            return Err(ClusterError::StopTimeout {
                nodes: running_list(cluster, waiting),
                timeout_secs,
                signal: if kill { "SIGKILL" } else { "SIGTERM" },
                hint: if kill {
                    ""
                } else {
                    "; `--kill` stops them at once"
                },
            });
        }
        std::thread::sleep(EXIT_POLL_INTERVAL);
    }
    cluster.save(dir)
}

fn status(a: StatusArgs) -> Result<(), ClusterError> {
    let dir = absolute(&a.dir)?;
    let cluster = ClusterFile::load(&dir)?;
    let reports = status::gather(&cluster);
    if a.json {
        let json = serde_json::json!({ "dir": dir, "nodes": reports });
        println!("{json:#}");
    } else {
        print!("{}", status::render_table(&reports));
    }
    Ok(())
}

fn down(a: DownArgs) -> Result<(), ClusterError> {
    let dir = absolute(&a.dir)?;
    let lock_file = lock(&dir)?;
    let mut cluster = ClusterFile::load(&dir)?;
    let all: Vec<usize> = (0..cluster.nodes.len()).collect();
    stop_nodes(&dir, &mut cluster, &all, a.kill, a.timeout_secs)?;
    if !a.destroy {
        return Ok(());
    }
    for node in &cluster.nodes {
        // Only DIR/<name>, whatever the file says the data directory is.
        let node_dir = dir.join(&node.name);
        match std::fs::remove_dir_all(&node_dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(ClusterError::Io {
                    what: format!("delete {}", node_dir.display()),
                    source,
                })
            }
        }
    }
    let file = ClusterFile::path(&dir);
    std::fs::remove_file(&file).map_err(|source| ClusterError::Io {
        what: format!("delete {}", file.display()),
        source,
    })?;
    drop(lock_file);
    let _ = std::fs::remove_file(dir.join(LOCK_FILE));
    // DIR itself goes only if nothing else is in it.
    let _ = std::fs::remove_dir(&dir);
    println!("destroyed the cluster in {}", dir.display());
    Ok(())
}
