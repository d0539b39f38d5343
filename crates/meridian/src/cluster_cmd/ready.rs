//! When is a local cluster ready: probing nodes' admin APIs and judging their views.
//!
//! A node is ready when it answers `/v1/health`. The cluster is in agreement when every
//! node expected up is ready and its `/v1/cluster` view is consistent:
//! - a [`Membership::Local`] view (a node without cluster membership) lists exactly that
//!   node, up, at its address: there is nothing more it could agree on;
//! - a [`Membership::Gossip`] view lists exactly the cluster's nodes (matched by address),
//!   those expected up as up and `NORMAL`, each with a schema version; and all views
//!   together show a single schema version.
//!
//! Invariant: [`wait`] returns only when the judgement holds for one complete round of
//! probes, and fails fast (with the log's last lines) when a node it started exits.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::admin::{ClusterStatus, Membership, NodeState};

use super::http;
use super::layout::ClusterFile;
use super::process;
use super::{ClusterError, Problem};

/// Pause between probe rounds.
const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// Longest wait for one admin request.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Log lines shown when a node dies during startup.
pub const LOG_LINES_SHOWN: usize = 20;

/// What to wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// Each node answers `/v1/health`.
    Health,
    /// Each node answers and the views agree (see the module docs).
    Agreement,
}

/// What probing one node found.
#[derive(Debug)]
pub enum Probe {
    /// `/v1/health` did not answer 200.
    NotHealthy(String),
    /// Healthy, but `/v1/cluster` could not be read.
    NoView(String),
    /// Healthy, with this view.
    View(Box<ClusterStatus>),
}

/// GET `/v1/health`, then (for agreement) `/v1/cluster`, on the node's admin API.
pub fn probe(addr: std::net::SocketAddr, readiness: Readiness, timeout: Duration) -> Probe {
    match http::get(addr, "/v1/health", timeout) {
        Ok(r) if r.status == 200 => {}
        Ok(r) => return Probe::NotHealthy(format!("/v1/health answered {}", r.status)),
        Err(e) => return Probe::NotHealthy(e.to_string()),
    }
    if readiness == Readiness::Health {
        return Probe::View(Box::new(ClusterStatus {
            local_host_id: uuid::Uuid::nil(),
            membership: Membership::Local,
            nodes: Vec::new(),
        }));
    }
    fetch_view(addr, timeout)
}

/// GET `/v1/cluster` and decode it.
pub fn fetch_view(addr: std::net::SocketAddr, timeout: Duration) -> Probe {
    match http::get(addr, "/v1/cluster", timeout) {
        Ok(r) if r.status == 200 => match serde_json::from_slice::<ClusterStatus>(&r.body) {
            Ok(view) => Probe::View(Box::new(view)),
            Err(e) => Probe::NoView(format!("/v1/cluster sent an unreadable view: {e}")),
        },
        Ok(r) => Probe::NoView(format!(
            "/v1/cluster answered {}: {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        )),
        Err(e) => Probe::NoView(e.to_string()),
    }
}

/// What keeps the cluster from agreement; empty when it agrees. `probes[k]` is the probe
/// of node `expected_up[k]`.
pub fn assess(cluster: &ClusterFile, expected_up: &[usize], probes: &[Probe]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let known: BTreeMap<IpAddr, usize> = cluster
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.address, i))
        .collect();
    let expected: BTreeSet<usize> = expected_up.iter().copied().collect();
    // Schema version -> names of the nodes some view shows with it.
    let mut versions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (&i, probe) in expected_up.iter().zip(probes) {
        let node = &cluster.nodes[i];
        let mut say = |what: String| problems.push(Problem::node(node, what));
        let view = match probe {
            Probe::NotHealthy(e) => {
                say(format!(
                    "no answer on http://{}/v1/health: {e}",
                    node.admin_addr()
                ));
                continue;
            }
            Probe::NoView(e) => {
                say(e.clone());
                continue;
            }
            Probe::View(view) => view,
        };
        let Some(me) = view.nodes.iter().find(|n| n.host_id == view.local_host_id) else {
            say("its view does not list itself".into());
            continue;
        };
        if me.address != node.address || me.name.as_ref().is_some_and(|n| *n != node.name) {
            say(format!(
                "the node answering is {} at {}, not this cluster's node",
                me.name.as_deref().unwrap_or("(unnamed)"),
                me.address
            ));
            continue;
        }
        match view.membership {
            Membership::Local => {
                if view.nodes.len() != 1 || !me.up {
                    say(format!(
                        "a node without membership lists {} nodes",
                        view.nodes.len()
                    ));
                }
            }
            Membership::Gossip => {
                let mut listed = BTreeSet::new();
                let mut unknown = Vec::new();
                let mut not_ready = Vec::new();
                for seen in &view.nodes {
                    let Some(&j) = known.get(&seen.address) else {
                        unknown.push(seen.address.to_string());
                        continue;
                    };
                    let name = &cluster.nodes[j].name;
                    if !listed.insert(j) {
                        unknown.push(format!("a second entry for {name}"));
                    }
                    if expected.contains(&j) && (!seen.up || seen.state != NodeState::Normal) {
                        let up = if seen.up { "UP" } else { "DOWN" };
                        not_ready.push(format!("{name} {up} {}", seen.state.as_str()));
                    }
                    if seen.up {
                        match &seen.schema_version {
                            Some(v) => {
                                versions.entry(v.clone()).or_default().insert(name.clone());
                            }
                            None => not_ready.push(format!("{name} without a schema version")),
                        }
                    }
                }
                let missing: Vec<&str> = (0..cluster.nodes.len())
                    .filter(|j| !listed.contains(j))
                    .map(|j| cluster.nodes[j].name.as_str())
                    .collect();
                if !missing.is_empty() {
                    say(format!(
                        "sees {} of {} nodes (missing {})",
                        listed.len(),
                        cluster.nodes.len(),
                        missing.join(", ")
                    ));
                }
                if !unknown.is_empty() {
                    say(format!(
                        "sees nodes outside this cluster: {}",
                        unknown.join(", ")
                    ));
                }
                if !not_ready.is_empty() {
                    say(format!("sees {}", not_ready.join(", ")));
                }
            }
        }
    }
    if versions.len() > 1 {
        let shown: Vec<String> = versions
            .iter()
            .map(|(v, names)| {
                format!(
                    "{v} ({})",
                    names.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            })
            .collect();
        problems.push(Problem::cluster(format!(
            "schema versions disagree: {}",
            shown.join("; ")
        )));
    }
    problems
}

/// Waits until the nodes `expected_up` are ready per `readiness`, or `deadline`. Fails at
/// once if one of `children` (nodes started by this command) exits.
pub fn wait(
    dir: &Path,
    cluster: &ClusterFile,
    expected_up: &[usize],
    readiness: Readiness,
    children: &mut [(usize, Child)],
    deadline: Instant,
    timeout: Duration,
) -> Result<(), ClusterError> {
    loop {
        for (i, child) in children.iter_mut() {
            let node = &cluster.nodes[*i];
            match child.try_wait() {
                Ok(Some(status)) => {
                    return Err(ClusterError::NodeDied {
                        dir: dir.to_path_buf(),
                        node: node.name.clone(),
                        status: status.to_string(),
                        log: node.log_file.clone(),
                        tail: process::tail(&node.log_file, LOG_LINES_SHOWN),
                    })
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(ClusterError::Io {
                        what: format!("check node {}", node.name),
                        source: e,
                    })
                }
            }
        }
        let probe_timeout = deadline
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_millis(100), PROBE_TIMEOUT);
        let probes: Vec<Probe> = expected_up
            .iter()
            .map(|&i| probe(cluster.nodes[i].admin_addr(), readiness, probe_timeout))
            .collect();
        let mut problems = if readiness == Readiness::Health {
            expected_up
                .iter()
                .zip(&probes)
                .filter_map(|(&i, p)| match p {
                    Probe::NotHealthy(e) => Some(Problem::node(
                        &cluster.nodes[i],
                        format!(
                            "no answer on http://{}/v1/health: {e}",
                            cluster.nodes[i].admin_addr()
                        ),
                    )),
                    Probe::NoView(_) | Probe::View(_) => None,
                })
                .collect()
        } else {
            assess(cluster, expected_up, &probes)
        };
        if problems.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            for p in &mut problems {
                if let Some(name) = &p.node {
                    if let Some(node) = cluster.nodes.iter().find(|n| &n.name == name) {
                        if !process::is_running(node) {
                            p.what.push_str("; its process is not running");
                        }
                    }
                }
            }
            return Err(ClusterError::Timeout {
                dir: dir.to_path_buf(),
                timeout_secs: timeout.as_secs(),
                problems: super::Problems(problems),
            });
        }
        std::thread::sleep(POLL_INTERVAL.min(deadline.saturating_duration_since(Instant::now())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::NodeStatus;
    use crate::cluster_cmd::layout::{DcSpec, UpPlan};

    fn cluster() -> ClusterFile {
        UpPlan {
            dcs: vec![
                DcSpec {
                    name: "a".into(),
                    nodes: 2,
                },
                DcSpec {
                    name: "b".into(),
                    nodes: 1,
                },
            ],
            racks: 1,
            first_address: "127.0.0.1".parse().unwrap(),
            cql_port: 9042,
            storage_port: 7000,
            admin_port: 7280,
            cluster_name: "c".into(),
            node_args: vec![],
        }
        .layout(Path::new("/d"))
        .unwrap()
    }

    fn status(c: &ClusterFile, i: usize, up: bool, version: &str) -> NodeStatus {
        let n = &c.nodes[i];
        NodeStatus {
            name: Some(n.name.clone()),
            host_id: uuid::Uuid::from_u128(i as u128 + 1),
            address: n.address,
            cql_address: n.cql_addr(),
            datacenter: n.dc.clone(),
            rack: n.rack.clone(),
            up,
            state: NodeState::Normal,
            load_bytes: 0,
            ownership: None,
            schema_version: Some(version.into()),
            tokens: 16,
        }
    }

    fn gossip(me: usize, nodes: Vec<NodeStatus>) -> Probe {
        Probe::View(Box::new(ClusterStatus {
            local_host_id: uuid::Uuid::from_u128(me as u128 + 1),
            membership: Membership::Gossip,
            nodes,
        }))
    }

    fn full(c: &ClusterFile, me: usize, version: &str) -> Probe {
        gossip(me, (0..3).map(|i| status(c, i, true, version)).collect())
    }

    #[test]
    fn local_views_agree_when_each_node_answers_for_itself() {
        let c = cluster();
        let probes: Vec<Probe> = (0..3)
            .map(|i| {
                Probe::View(Box::new(ClusterStatus {
                    local_host_id: uuid::Uuid::from_u128(i as u128 + 1),
                    membership: Membership::Local,
                    nodes: vec![status(&c, i, true, &format!("v{i}"))],
                }))
            })
            .collect();
        assert!(assess(&c, &[0, 1, 2], &probes).is_empty());
        // A view from some other process at the address is not agreement.
        let wrong = Probe::View(Box::new(ClusterStatus {
            local_host_id: uuid::Uuid::from_u128(2),
            membership: Membership::Local,
            nodes: vec![status(&c, 1, true, "v")],
        }));
        let problems = assess(&c, &[0], &[wrong]);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].what.contains("not this cluster's node"),
            "{problems:?}"
        );
    }

    #[test]
    fn gossip_views_must_list_everyone_up_with_one_schema() {
        let c = cluster();
        let ok: Vec<Probe> = (0..3).map(|i| full(&c, i, "v1")).collect();
        assert!(assess(&c, &[0, 1, 2], &ok).is_empty());

        // b-1 has not met the others yet.
        let mut probes: Vec<Probe> = (0..2).map(|i| full(&c, i, "v1")).collect();
        probes.push(gossip(2, vec![status(&c, 2, true, "v1")]));
        let problems = assess(&c, &[0, 1, 2], &probes);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].node.as_deref(), Some("b-1"));
        assert!(problems[0]
            .what
            .contains("sees 1 of 3 nodes (missing a-1, a-2)"));

        // a-1 sees a-2 down; a-2 is joining in b-1's view.
        let mut view0: Vec<NodeStatus> = (0..3).map(|i| status(&c, i, true, "v1")).collect();
        view0[1].up = false;
        let mut view2: Vec<NodeStatus> = (0..3).map(|i| status(&c, i, true, "v1")).collect();
        view2[1].state = NodeState::Joining;
        let probes = vec![gossip(0, view0), full(&c, 1, "v1"), gossip(2, view2)];
        let problems = assess(&c, &[0, 1, 2], &probes);
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "a-1: sees a-2 DOWN NORMAL (log: /d/a-1/node.log)",
                "b-1: sees a-2 UP JOINING (log: /d/b-1/node.log)"
            ]
        );

        // Schema disagreement is reported once, for the cluster.
        let probes = vec![full(&c, 0, "v1"), full(&c, 1, "v1"), full(&c, 2, "v2")];
        let problems = assess(&c, &[0, 1, 2], &probes);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].node.is_none());
        assert!(problems[0]
            .what
            .starts_with("schema versions disagree: v1 (a-1, a-2, b-1); v2"));
    }

    #[test]
    fn stopped_nodes_may_be_down_but_must_be_listed() {
        let c = cluster();
        let mut view: Vec<NodeStatus> = (0..3).map(|i| status(&c, i, true, "v1")).collect();
        view[2].up = false;
        view[2].schema_version = Some("old".into());
        let probes = vec![gossip(0, view.clone()), gossip(1, view.clone())];
        assert!(assess(&c, &[0, 1], &probes).is_empty());
        view.push(NodeStatus {
            address: "10.9.9.9".parse().unwrap(),
            ..status(&c, 0, true, "v1")
        });
        let problems = assess(&c, &[0], &[gossip(0, view)]);
        assert!(
            problems[0].what.contains("outside this cluster: 10.9.9.9"),
            "{problems:?}"
        );
    }

    #[test]
    fn unanswered_probes_name_the_url() {
        let c = cluster();
        let problems = assess(&c, &[1], &[Probe::NotHealthy("connection refused".into())]);
        assert_eq!(
            problems[0].to_string(),
            "a-2: no answer on http://127.0.0.2:7280/v1/health: connection refused (log: /d/a-2/node.log)"
        );
    }
}
