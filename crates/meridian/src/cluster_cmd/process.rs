//! Node processes of a local cluster: starting them detached, recognising them, signalling
//! them, and the files around them (logs, data sizes).
//!
//! A node runs `meridian start` (this same executable) in its own process group, with
//! stdin closed and stdout/stderr appended to its log file, so it outlives the command that
//! started it and a Ctrl-C in that command's terminal does not reach it.
//!
//! Invariant: a recorded pid only counts as the node while it is alive (not a zombie) and,
//! where `/proc` exists, its command line names the node's data directory, so a recycled
//! pid is never taken for (or signalled as) a node.

use std::ffi::OsString;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::layout::{ClusterFile, NodeEntry};
use super::ClusterError;

/// Bytes read from the end of a log to show its last lines.
const LOG_TAIL_BYTES: u64 = 64 * 1024;
/// Reads of an empty `/proc/<pid>/cmdline` (a process mid-exec) before giving up.
const EXEC_RETRIES: usize = 20;
/// Pause between those reads.
const EXEC_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(5);
/// Unit of `st_blocks`.
const DU_BLOCK_BYTES: u64 = 512;
/// Directory depth walked when sizing a data directory.
const MAX_DIR_DEPTH: usize = 16;

/// The arguments of `meridian start` for `node`.
pub fn start_args(cluster: &ClusterFile, node: &NodeEntry) -> Vec<OsString> {
    let seeds = cluster
        .seeds
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut args: Vec<OsString> = vec!["start".into(), "--data-dir".into()];
    args.push(node.data_dir.clone().into_os_string());
    for (flag, value) in [
        ("--listen-address", node.address.to_string()),
        ("--cql-port", node.cql_port.to_string()),
        ("--storage-port", node.storage_port.to_string()),
        ("--admin-port", node.admin_port.to_string()),
        ("--cluster-name", cluster.cluster_name.clone()),
        ("--dc", node.dc.clone()),
        ("--rack", node.rack.clone()),
        ("--name", node.name.clone()),
        ("--seeds", seeds.clone()),
    ] {
        args.push(flag.into());
        args.push(value.into());
    }
    if !node.tokens.is_empty() {
        let tokens: Vec<String> = node.tokens.iter().map(ToString::to_string).collect();
        // One argument: a leading minus sign must not read as a flag.
        args.push(format!("--initial-token={}", tokens.join(",")).into());
    }
    args.extend(cluster.node_args.iter().map(OsString::from));
    args
}

/// Starts `node` detached from this process; returns the child (to notice an early exit).
pub fn spawn(exe: &Path, cluster: &ClusterFile, node: &NodeEntry) -> Result<Child, ClusterError> {
    let io = |what: String| move |source| ClusterError::Io { what, source };
    std::fs::create_dir_all(&node.data_dir)
        .map_err(io(format!("create {}", node.data_dir.display())))?;
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&node.log_file)
        .map_err(io(format!("open {}", node.log_file.display())))?;
    let args = start_args(cluster, node);
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    writeln!(
        log,
        "--- meridian cluster: starting {} at unix time {since_epoch}: {} {}",
        node.name,
        exe.display(),
        args.iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    )
    .map_err(io(format!("write {}", node.log_file.display())))?;
    let stderr = log
        .try_clone()
        .map_err(io(format!("open {}", node.log_file.display())))?;
    Command::new(exe)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(stderr)
        .process_group(0)
        .spawn()
        .map_err(io(format!(
            "start {} for node {}",
            exe.display(),
            node.name
        )))
}

/// Whether the node's recorded process is alive.
pub fn is_running(node: &NodeEntry) -> bool {
    node.pid.is_some_and(|pid| pid_is_node(pid, node))
}

/// Whether `pid` is a live (non-zombie) process running `node`.
fn pid_is_node(pid: u32, node: &NodeEntry) -> bool {
    let proc_dir = Path::new("/proc").join(pid.to_string());
    if !Path::new("/proc/self").exists() {
        // No procfs: existence is all that can be checked.
        return to_pid(pid).is_some_and(|p| rustix::process::test_kill_process(p).is_ok());
    }
    let Ok(stat) = std::fs::read_to_string(proc_dir.join("stat")) else {
        return false;
    };
    // "pid (comm) S ...": the command name may itself contain ')'.
    let state = stat
        .rfind(')')
        .and_then(|i| stat.get(i + 1..))
        .and_then(|rest| rest.trim_start().chars().next());
    if matches!(state, None | Some('Z') | Some('X') | Some('x')) {
        return false;
    }
    // A process caught in the middle of exec shows an empty command line for a moment.
    let mut cmdline = Vec::new();
    for _ in 0..EXEC_RETRIES {
        match std::fs::read(proc_dir.join("cmdline")) {
            Ok(c) if c.is_empty() => std::thread::sleep(EXEC_RETRY_PAUSE),
            Ok(c) => {
                cmdline = c;
                break;
            }
            Err(_) => return false,
        }
    }
    let data_dir = node.data_dir.as_os_str().as_encoded_bytes();
    let mut args = cmdline.split(|b| *b == 0);
    while let Some(arg) = args.next() {
        if arg == b"--data-dir" {
            return args.next() == Some(data_dir);
        }
    }
    false
}

fn to_pid(pid: u32) -> Option<rustix::process::Pid> {
    i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
}

/// Sends SIGTERM (or SIGKILL when `kill`) to the node's process, if it is running.
/// Returns whether a signal was sent.
pub fn signal(node: &NodeEntry, kill: bool) -> Result<bool, ClusterError> {
    let Some(pid) = node.pid.filter(|p| pid_is_node(*p, node)) else {
        return Ok(false);
    };
    let Some(target) = to_pid(pid) else {
        return Ok(false);
    };
    let sig = if kill {
        rustix::process::Signal::KILL
    } else {
        rustix::process::Signal::TERM
    };
    match rustix::process::kill_process(target, sig) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::SRCH) => Ok(false),
        Err(e) => Err(ClusterError::Io {
            what: format!("signal node {} (pid {pid})", node.name),
            source: e.into(),
        }),
    }
}

/// The last `lines` lines of a log file (empty when it cannot be read).
pub fn tail(path: &Path, lines: usize) -> String {
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or_default();
    let start = len.saturating_sub(LOG_TAIL_BYTES);
    if f.seek(SeekFrom::Start(start)).is_err() {
        return String::new();
    }
    let mut bytes = Vec::new();
    if f.take(LOG_TAIL_BYTES).read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Disk space taken by the regular files under `path`, as `du` counts it (allocated
/// blocks, so a sparse file counts what it really uses); 0 if it is missing.
pub fn dir_size_bytes(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    fn walk(path: &Path, depth: usize) -> u64 {
        let Ok(entries) = std::fs::read_dir(path) else {
            return 0;
        };
        entries
            .filter_map(Result::ok)
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() && depth < MAX_DIR_DEPTH => walk(&e.path(), depth + 1),
                Ok(t) if t.is_file() => e
                    .metadata()
                    .map(|m| m.blocks().saturating_mul(DU_BLOCK_BYTES))
                    .unwrap_or_default(),
                _ => 0,
            })
            .sum()
    }
    walk(path, 0)
}

/// Checks that the node's ports can be bound on its address (CQL, storage and admin over
/// TCP, gossip over UDP), so a clash is reported before anything starts.
pub fn check_bindable(node: &NodeEntry) -> Result<(), ClusterError> {
    let tcp = [
        ("CQL", node.cql_port),
        ("storage", node.storage_port),
        ("admin", node.admin_port),
    ];
    for (what, port) in tcp {
        let addr = SocketAddr::new(node.address, port);
        TcpListener::bind(addr)
            .map_err(|source| ClusterError::not_bindable(node, what, addr, source))?;
    }
    let addr = SocketAddr::new(node.address, node.storage_port);
    UdpSocket::bind(addr)
        .map_err(|source| ClusterError::not_bindable(node, "gossip (UDP)", addr, source))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn entry(dir: &Path) -> NodeEntry {
        NodeEntry {
            name: "a-1".into(),
            address: IpAddr::from([127, 0, 0, 1]),
            dc: "a".into(),
            rack: "rack1".into(),
            seed: true,
            data_dir: dir.join("a-1/data"),
            log_file: dir.join("a-1/node.log"),
            pid: None,
            cql_port: 9042,
            storage_port: 7000,
            admin_port: 7280,
            tokens: Vec::new(),
        }
    }

    #[test]
    fn start_args_name_everything_a_node_needs() {
        let dir = Path::new("/c");
        let cluster = ClusterFile {
            format_version: 1,
            cluster_name: "Test Cluster".into(),
            seeds: vec![[127, 0, 0, 1].into(), [127, 0, 0, 4].into()],
            node_args: vec!["--log-level".into(), "debug".into()],
            nodes: vec![entry(dir)],
        };
        let args: Vec<String> = start_args(&cluster, &cluster.nodes[0])
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert_eq!(
            args.join(" "),
            "start --data-dir /c/a-1/data --listen-address 127.0.0.1 --cql-port 9042 \
             --storage-port 7000 --admin-port 7280 --cluster-name Test Cluster --dc a \
             --rack rack1 --name a-1 --seeds 127.0.0.1,127.0.0.4 --log-level debug"
        );
    }

    #[test]
    fn a_pid_that_is_not_the_node_does_not_count() {
        let dir = tempfile::tempdir().unwrap();
        let mut node = entry(dir.path());
        assert!(!is_running(&node));
        // This test process is alive but is not running the node's data directory.
        node.pid = Some(std::process::id());
        assert!(!is_running(&node));
        assert!(!signal(&node, false).unwrap());
        node.pid = Some(u32::MAX);
        assert!(!is_running(&node));
    }

    #[test]
    fn a_live_child_with_the_data_dir_counts_until_it_exits() {
        let dir = tempfile::tempdir().unwrap();
        let mut node = entry(dir.path());
        // The extra arguments become the shell's positional parameters; two commands keep
        // the shell from exec-ing `sleep` (which would drop them from the command line).
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("sleep 30; exit 0")
            .arg("--data-dir")
            .arg(&node.data_dir)
            .spawn()
            .unwrap();
        node.pid = Some(child.id());
        assert!(is_running(&node));
        assert!(signal(&node, true).unwrap());
        let _ = child.wait();
        assert!(!is_running(&node));
    }

    #[test]
    fn tail_and_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("node.log");
        std::fs::write(&log, "one\ntwo\nthree\n").unwrap();
        assert_eq!(tail(&log, 2), "two\nthree");
        assert_eq!(tail(&dir.path().join("missing"), 2), "");
        std::fs::create_dir_all(dir.path().join("x/y")).unwrap();
        std::fs::write(dir.path().join("x/y/f"), [1u8; 100_000]).unwrap();
        let sparse = std::fs::File::create(dir.path().join("x/sparse")).unwrap();
        sparse.set_len(1 << 30).unwrap();
        let size = dir_size_bytes(&dir.path().join("x"));
        assert!((100_000..200_000).contains(&size), "{size}");
        assert_eq!(dir_size_bytes(&dir.path().join("nope")), 0);
    }

    #[test]
    fn a_taken_port_is_reported_with_the_node_and_address() {
        let dir = tempfile::tempdir().unwrap();
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut node = entry(dir.path());
        node.cql_port = held.local_addr().unwrap().port();
        node.storage_port = 0;
        node.admin_port = 0;
        let err = check_bindable(&node).unwrap_err().to_string();
        assert!(
            err.contains("a-1") && err.contains(&held.local_addr().unwrap().to_string()),
            "{err}"
        );
    }
}
