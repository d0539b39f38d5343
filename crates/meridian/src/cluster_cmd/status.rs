//! `meridian cluster status`: what every node of a local cluster is doing.
//!
//! Each running node is asked for its `/v1/cluster` view. A node's up/down, state,
//! ownership and host id come from its own answer when it gives one, else from another
//! node's view that lists it (a gossip view knows dead peers), else from the process check
//! alone (no live process: down). Data size is the size of its data directory on disk.

use std::time::Duration;

use serde::Serialize;

use crate::admin::{ClusterStatus, Membership, NodeStatus};

use super::layout::ClusterFile;
use super::process;
use super::ready::{fetch_view, Probe};

/// Longest wait for one node's view.
const VIEW_TIMEOUT: Duration = Duration::from_secs(2);

/// One row of the status.
#[derive(Debug, Serialize)]
pub struct NodeReport {
    /// Node name.
    pub name: String,
    /// Listen address.
    pub address: String,
    /// Where CQL clients connect.
    pub cql_address: String,
    /// Datacenter.
    pub datacenter: String,
    /// Rack.
    pub rack: String,
    /// Up or down.
    pub up: bool,
    /// Ring state (`NORMAL`, ...) when a view knows it.
    pub state: Option<String>,
    /// Process id while the process runs.
    pub pid: Option<u32>,
    /// Disk space its data directory takes (as `du` counts it).
    pub data_size_bytes: u64,
    /// Load (live SSTable bytes) as the node reports it.
    pub load_bytes: Option<u64>,
    /// Fraction of the ring it owns, when a view knows it.
    pub ownership: Option<f64>,
    /// Its host id, when a view knows it.
    pub host_id: Option<uuid::Uuid>,
    /// Its log file.
    pub log_file: String,
}

/// The status of every node.
pub fn gather(cluster: &ClusterFile) -> Vec<NodeReport> {
    let running: Vec<bool> = cluster.nodes.iter().map(process::is_running).collect();
    let views: Vec<Option<ClusterStatus>> = cluster
        .nodes
        .iter()
        .zip(&running)
        .map(|(node, running)| {
            if !running {
                return None;
            }
            match fetch_view(node.admin_addr(), VIEW_TIMEOUT) {
                Probe::View(v) => Some(*v),
                Probe::NotHealthy(_) | Probe::NoView(_) => None,
            }
        })
        .collect();
    cluster
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let own: Option<&NodeStatus> = views[i].as_ref().and_then(|v| {
                v.nodes
                    .iter()
                    .find(|n| n.host_id == v.local_host_id && n.address == node.address)
            });
            // Gossip views first: they know about peers; a local view only about itself.
            let mut others: Vec<&ClusterStatus> = views
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .filter_map(|(_, v)| v.as_ref())
                .collect();
            others.sort_by_key(|v| v.membership != Membership::Gossip);
            let seen: Option<&NodeStatus> = own.or_else(|| {
                others
                    .iter()
                    .find_map(|v| v.nodes.iter().find(|n| n.address == node.address))
            });
            NodeReport {
                name: node.name.clone(),
                address: node.address.to_string(),
                cql_address: node.cql_addr().to_string(),
                datacenter: node.dc.clone(),
                rack: node.rack.clone(),
                up: running[i] && seen.is_some_and(|s| s.up),
                state: seen.map(|s| s.state.as_str().to_string()),
                pid: node.pid.filter(|_| running[i]),
                data_size_bytes: process::dir_size_bytes(&node.data_dir),
                load_bytes: seen.map(|s| s.load_bytes),
                ownership: seen.and_then(|s| s.ownership),
                host_id: seen.map(|s| s.host_id),
                log_file: node.log_file.display().to_string(),
            }
        })
        .collect()
}

/// Bytes as a short human size (`512 B`, `1.5 KiB`, `20.0 MiB`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The status as an aligned text table.
pub fn render_table(reports: &[NodeReport]) -> String {
    let header = [
        "NAME",
        "ADDRESS",
        "DATACENTER",
        "RACK",
        "STATUS",
        "STATE",
        "PID",
        "DATA",
        "OWNS",
    ];
    let rows: Vec<[String; 9]> = reports
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.address.clone(),
                r.datacenter.clone(),
                r.rack.clone(),
                if r.up { "UP" } else { "DOWN" }.to_string(),
                r.state.clone().unwrap_or_else(|| "-".into()),
                r.pid.map_or_else(|| "-".into(), |p| p.to_string()),
                human_bytes(r.data_size_bytes),
                r.ownership
                    .map_or_else(|| "-".into(), |o| format!("{:.1}%", o * 100.0)),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: &[&str]| {
        let mut out = String::new();
        for (k, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if k + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.trim_end().to_string()
    };
    let mut out = line(&header);
    out.push('\n');
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        out.push_str(&line(&cells));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(20 << 20), "20.0 MiB");
        assert_eq!(human_bytes(u64::MAX), "16384.0 PiB");
    }

    #[test]
    fn table_is_aligned() {
        let r = |name: &str, up: bool| NodeReport {
            name: name.into(),
            address: "127.0.0.1".into(),
            cql_address: "127.0.0.1:9042".into(),
            datacenter: "east".into(),
            rack: "rack1".into(),
            up,
            state: up.then(|| "NORMAL".into()),
            pid: up.then_some(4242),
            data_size_bytes: 2048,
            load_bytes: None,
            ownership: up.then_some(0.5),
            host_id: None,
            log_file: "x".into(),
        };
        let table = render_table(&[r("east-1", true), r("east-10", false)]);
        assert_eq!(
            table,
            "NAME     ADDRESS    DATACENTER  RACK   STATUS  STATE   PID   DATA     OWNS\n\
             east-1   127.0.0.1  east        rack1  UP      NORMAL  4242  2.0 KiB  50.0%\n\
             east-10  127.0.0.1  east        rack1  DOWN    -       -     2.0 KiB  -\n"
        );
    }
}
