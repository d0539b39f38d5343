//! `meridian cluster` driven through the real binary: a local cluster's whole life (up,
//! status, stop, start, kill, down --destroy) and its error reports.
//!
//! Each test lays its cluster out on its own random 127.X.Y.Z addresses, so tests running
//! in parallel (or a developer's cluster on 127.0.0.1..) never collide, and a guard runs
//! `meridian cluster down --kill` even when the test fails.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn meridian(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meridian"))
        .args(args)
        .output()
        .expect("run meridian")
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(args: &[&str]) -> String {
    let out = meridian(args);
    assert!(
        out.status.success(),
        "meridian {args:?} failed: {}",
        text(&out)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str]) -> String {
    let out = meridian(args);
    assert!(
        !out.status.success(),
        "meridian {args:?} succeeded: {}",
        text(&out)
    );
    String::from_utf8(out.stderr).unwrap()
}

/// A cluster directory; dropping it stops every node of the cluster in it.
struct Guard {
    dir: tempfile::TempDir,
}

impl Guard {
    fn new() -> Guard {
        Guard {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    fn sub(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for dir in [self.dir.path().to_path_buf(), self.sub("other")] {
            if dir.join("cluster.json").exists() {
                let _ = meridian(&["cluster", "down", "--kill", "--dir", dir.to_str().unwrap()]);
            }
        }
    }
}

/// A first address 127.X.Y.1 of its own for this test.
fn first_address() -> Ipv4Addr {
    let x: u8 = 100 + rand::random::<u8>() % 100;
    Ipv4Addr::new(127, x, rand::random::<u8>(), 1)
}

fn status_json(dir: &str) -> Vec<Value> {
    let out = ok(&["cluster", "status", "--dir", dir, "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    v["nodes"].as_array().unwrap().clone()
}

/// (name, up, pid) of each node.
fn summary(dir: &str) -> Vec<(String, bool, Option<u64>)> {
    status_json(dir)
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap().to_string(),
                n["up"].as_bool().unwrap(),
                n["pid"].as_u64(),
            )
        })
        .collect()
}

/// Whether `pid` is a live, non-zombie process.
fn alive(pid: u64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat[stat.rfind(')').unwrap() + 1..].trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

fn pids(dir: &str) -> Vec<u64> {
    summary(dir).iter().filter_map(|(_, _, p)| *p).collect()
}

#[test]
fn a_two_node_cluster_lives_and_dies() {
    let guard = Guard::new();
    let dir = guard.path();
    let first = first_address();
    let first_s = first.to_string();
    let second = Ipv4Addr::from(u32::from(first) + 1).to_string();

    let out = ok(&[
        "cluster",
        "up",
        "--dir",
        dir,
        "--dc",
        "a=2",
        "--racks",
        "2",
        "--first-address",
        &first_s,
        "--timeout-secs",
        "60",
    ]);
    assert!(out.contains("2 of 2 nodes up"), "{out}");
    assert!(out.contains(&format!("cqlsh {first} 9042")), "{out}");

    // Status: both up, on consecutive addresses, racks spread, each owning its own ring
    // (no membership yet, so every node's view is itself).
    let nodes = status_json(dir);
    assert_eq!(nodes.len(), 2);
    for (n, (name, address, rack)) in nodes
        .iter()
        .zip([("a-1", &first_s, "rack1"), ("a-2", &second, "rack2")])
    {
        assert_eq!(n["name"], name);
        assert_eq!(n["address"], address.as_str());
        assert_eq!(n["cql_address"], format!("{address}:9042"));
        assert_eq!(n["datacenter"], "a");
        assert_eq!(n["rack"], rack);
        assert_eq!(n["up"], true, "{n}");
        assert_eq!(n["state"], "NORMAL");
        assert!(n["pid"].as_u64().is_some_and(alive), "{n}");
        assert!(n["data_size_bytes"].as_u64().unwrap() > 0, "{n}");
        assert!(n["ownership"].as_f64().is_some_and(|o| o > 0.0), "{n}");
        assert!(n["host_id"].is_string());
    }
    // Primary ranges of a datacenter's nodes cover its ring once.
    let owned: f64 = nodes.iter().map(|n| n["ownership"].as_f64().unwrap()).sum();
    assert!((owned - 1.0).abs() < 1e-9, "ownership sums to {owned}");
    assert_ne!(nodes[0]["host_id"], nodes[1]["host_id"]);
    let table = ok(&["cluster", "status", "--dir", dir]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("OWNS"),
        "{table}"
    );
    assert!(
        lines[1].starts_with("a-1 ") && lines[1].contains(" UP "),
        "{table}"
    );
    assert!(
        lines[2].starts_with("a-2 ") && lines[2].contains('%'),
        "{table}"
    );

    // The node's own admin API answers on its address.
    let cluster_json: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(dir).join("cluster.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(cluster_json["nodes"][1]["admin_port"], 7280);
    assert_eq!(cluster_json["seeds"].as_array().unwrap().len(), 2);

    // A second `up` on the running cluster, and one elsewhere on the same addresses.
    let err = fails(&[
        "cluster",
        "up",
        "--dir",
        dir,
        "--dc",
        "a=2",
        "--first-address",
        &first_s,
    ]);
    assert!(err.contains("already has a running cluster"), "{err}");
    let other = guard.sub("other");
    let err = fails(&[
        "cluster",
        "up",
        "--dir",
        other.to_str().unwrap(),
        "--dc",
        "a=1",
        "--first-address",
        &first_s,
    ]);
    assert!(
        err.contains("node a-1: cannot bind") && err.contains(&format!("{first}:9042")),
        "{err}"
    );
    assert!(err.contains("in use"), "{err}");

    // Stop one node gracefully: its process exits and status shows it down.
    let a2_pid = pids(dir)[1];
    let out = ok(&["cluster", "stop", "--dir", dir, "--node", "a-2"]);
    assert!(
        out.contains(&format!("stopped a-2 (pid {a2_pid})")),
        "{out}"
    );
    assert!(!alive(a2_pid));
    let s = summary(dir);
    assert_eq!((s[0].1, s[1].1, s[1].2), (true, false, None), "{s:?}");
    let log = std::fs::read_to_string(guard.sub("a-2/node.log")).unwrap();
    assert!(log.contains("Meridian stopped cleanly"), "{log}");
    let table = ok(&["cluster", "status", "--dir", dir]);
    assert!(table.lines().nth(2).unwrap().contains(" DOWN "), "{table}");

    // Start it again on its data: same host id, new process.
    // Its peer still knows it through gossip.
    let host_id = status_json(dir)[1]["host_id"].clone();
    assert_eq!(
        host_id, nodes[1]["host_id"],
        "a-1's view of the stopped a-2"
    );
    let out = ok(&["cluster", "start", "--dir", dir, "--node", "a-2"]);
    assert!(out.contains("started a-2"), "{out}");
    assert_eq!(status_json(dir)[1]["host_id"], nodes[1]["host_id"]);
    assert!(summary(dir).iter().all(|(_, up, _)| *up));

    // Kill the whole datacenter at once.
    let before = pids(dir);
    let out = ok(&["cluster", "stop", "--dir", dir, "--dc", "a", "--kill"]);
    assert!(
        out.contains("killed a-1") && out.contains("killed a-2"),
        "{out}"
    );
    assert!(before.iter().all(|p| !alive(*p)));
    assert!(summary(dir).iter().all(|(_, up, pid)| !up && pid.is_none()));

    // Start everything again after the crash (commit log replay), then destroy.
    let out = ok(&["cluster", "start", "--dir", dir]);
    assert!(out.contains("2 of 2 nodes up"), "{out}");
    let running = pids(dir);
    assert_eq!(running.len(), 2);
    let out = ok(&["cluster", "down", "--dir", dir, "--destroy"]);
    assert!(out.contains("destroyed"), "{out}");
    assert!(running.iter().all(|p| !alive(*p)));
    assert!(!Path::new(dir).join("cluster.json").exists());
    assert!(!guard.sub("a-1").exists() && !guard.sub("a-2").exists());
}

#[test]
fn a_node_that_dies_during_startup_is_reported_with_its_log() {
    let guard = Guard::new();
    let dir = guard.path();
    let first = first_address().to_string();
    let err = fails(&[
        "cluster",
        "up",
        "--dir",
        dir,
        "--dc",
        "z=1",
        "--first-address",
        &first,
        "--",
        "--log-level",
        "chatty",
    ]);
    assert!(err.contains("node z-1 exited during startup"), "{err}");
    assert!(err.contains("log_level: \"chatty\""), "{err}");
    assert!(err.contains("node.log"), "{err}");
    // The cluster exists, stopped: `up` refuses, `down --destroy` clears it.
    let err = fails(&[
        "cluster",
        "up",
        "--dir",
        dir,
        "--dc",
        "z=1",
        "--first-address",
        &first,
    ]);
    assert!(err.contains("already holds a cluster"), "{err}");
    ok(&["cluster", "down", "--dir", dir, "--destroy"]);
    assert!(!Path::new(dir).join("cluster.json").exists());
}

#[test]
fn bad_requests_are_refused_before_anything_starts() {
    let guard = Guard::new();
    let dir = guard.path();
    let err = fails(&["cluster", "status", "--dir", dir]);
    assert!(err.contains("no cluster in"), "{err}");
    let err = fails(&["cluster", "up", "--dir", dir, "--dc", "east"]);
    assert!(err.contains("NAME=COUNT"), "{err}");
    let err = fails(&["cluster", "up", "--dir", dir, "--dc", "a=1", "--dc", "a=2"]);
    assert!(err.contains("given twice"), "{err}");
    let err = fails(&[
        "cluster", "stop", "--dir", dir, "--node", "a-1", "--dc", "a",
    ]);
    assert!(err.contains("cannot be used with"), "{err}");
    assert!(!Path::new(dir).join("cluster.json").exists());
}
