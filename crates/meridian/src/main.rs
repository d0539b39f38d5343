//! The `meridian` binary. `meridian start` runs one node in the foreground on embedded
//! defaults: data in `./meridian-data`, CQL on 127.0.0.1:9042, datacenter `dc1`, rack
//! `rack1`. SIGTERM or SIGINT drains it: stop accepting, finish what is in flight, flush,
//! exit 0.

mod admin;
mod cluster_cmd;
mod cluster_node;
mod config;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use meridian_cql_server::{CqlServer, ServerConfig};
use meridian_query::context::{load_schema, Node, NodeInfo};
use meridian_query::processor::QueryProcessor;
use meridian_storage::commitlog::SyncMode;
use meridian_storage::{Engine, EngineConfig};
use meridian_types::token::Token;
use serde::{Deserialize, Serialize};

use config::{CommitlogSync, Config, StartArgs};

#[derive(Parser)]
#[command(
    name = "meridian",
    version,
    about = "Meridian: a Cassandra-compatible database"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a node in the foreground.
    Start(StartArgs),
    /// Manage a cluster of local node processes (up, status, stop, start, down).
    Cluster(cluster_cmd::ClusterArgs),
}

/// What a node keeps about itself across restarts.
#[derive(Serialize, Deserialize)]
struct Identity {
    host_id: uuid::Uuid,
    tokens: Vec<i64>,
}

/// mimalloc instead of glibc's malloc: the storage engine and the CQL path allocate small
/// objects on one thread and free them on another (memtables are filled by request threads
/// and freed by the flush thread), where glibc's arena locks and free-list consolidation
/// took a tenth of a write's CPU time (BENCHMARKS.md has the measurements).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Start(args) => match run_start(args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("meridian: {}", error_chain(&e));
                std::process::ExitCode::from(1)
            }
        },
        Command::Cluster(args) => match cluster_cmd::run(args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("meridian cluster: {e}");
                std::process::ExitCode::from(1)
            }
        },
    }
}

/// The error and its causes joined by ": ", leaving out a cause whose text the message before
/// it already carries (our library errors name their source in their own message).
fn error_chain(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if !text.ends_with(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}

fn run_start(args: StartArgs) -> anyhow::Result<()> {
    let config = Config::load(&args)?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log_level)),
        )
        .with_writer(std::io::stderr)
        .init();
    disable_transparent_huge_pages();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("meridian-worker")
        .build()
        .context("start the async runtime")?;
    runtime.block_on(serve(config))
}

/// Loads the node's identity, creating it at first start: a new host id, and the tokens
/// from `initial_token`, or evenly spaced ones for a node without seeds, or none yet (a
/// node joining a cluster chooses them once gossip shows the ring).
fn load_identity(config: &Config) -> anyhow::Result<(Identity, bool)> {
    let path = config.data_dir.join("node.json");
    match std::fs::read(&path) {
        Ok(bytes) => Ok((
            serde_json::from_slice(&bytes)
                .with_context(|| format!("corrupt node identity file {}", path.display()))?,
            false,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let own = format!("{}:{}", config.listen_address, config.storage_port);
            let joins_others = config.seeds.iter().any(|s| s.to_string() != own);
            let tokens = if !config.initial_token.is_empty() {
                config.initial_token.clone()
            } else if joins_others {
                Vec::new()
            } else {
                cluster_node::evenly_spaced(config.num_tokens)
                    .into_iter()
                    .map(|t| t.0)
                    .collect()
            };
            let id = Identity {
                host_id: uuid::Uuid::new_v4(),
                tokens,
            };
            save_identity(&path, &id)?;
            Ok((id, true))
        }
        Err(e) => Err(e).with_context(|| format!("read {}", path.display())),
    }
}

fn save_identity(path: &Path, id: &Identity) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(id)?)
        .with_context(|| format!("write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("write {}", path.display()))?;
    Ok(())
}

/// Turns transparent huge pages off for this process, as Cassandra's and most databases'
/// production guides ask of the whole machine. With them, the first write to each fresh
/// 2 MiB of heap (a growing memtable, memory the allocator took back from the OS) stops the
/// request thread while the kernel zeroes the whole huge page: on a 2-core machine at half
/// of peak write throughput this alone kept the write p99 near 5 ms instead of near 1
/// (benches/cql/README.md). The flag covers every mapping of the process, present and
/// future. A failure is logged and the node runs with the system's setting.
fn disable_transparent_huge_pages() {
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        tracing::warn!(error = %e, "could not turn transparent huge pages off for this process");
    }
}

/// The nice value of the storage engine's flush and compaction threads.
const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority to [`BACKGROUND_NICE`] (on Linux the nice value is
/// per thread). When the cores are busy, a flush or compaction then gets about a tenth of the
/// CPU the request threads get, instead of an equal share that queues requests up behind it;
/// on idle cores it runs at full speed. A failure is logged and the thread keeps its priority.
fn lower_thread_priority() {
    if let Err(e) = rustix::process::setpriority_process(None, BACKGROUND_NICE) {
        tracing::warn!(error = %e, nice = BACKGROUND_NICE, "could not lower a background thread's priority");
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("create data directory {}", config.data_dir.display()))?;
    let (mut identity, _new) = load_identity(&config)?;
    let schema_path = config.data_dir.join("schema.json");
    let schema = load_schema(&schema_path).map_err(|e| anyhow::anyhow!("{e}"))?;

    let mut engine_config = EngineConfig::new(&config.data_dir);
    engine_config.commitlog_sync = match config.commitlog_sync {
        CommitlogSync::Periodic => SyncMode::Periodic {
            period: Duration::from_millis(config.commitlog_sync_period_in_ms),
        },
        CommitlogSync::Batch => SyncMode::Batch {
            window: Duration::ZERO,
        },
    };
    engine_config.memtable_space_bytes = config.memtable_space_in_mb * 1024 * 1024;
    engine_config.compaction_throughput_mib_per_sec = config.compaction_throughput_mb_per_sec;
    engine_config.background_thread_init = Some(std::sync::Arc::new(lower_thread_priority));
    let tables =
        meridian_query::ddl::storage_tables(&schema).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (engine, report) = tokio::task::block_in_place(|| Engine::open(engine_config, tables))
        .context("open the storage engine")?;
    if !report.damage.is_empty() {
        tracing::warn!(damage = ?report.damage, "commit log replay found damage");
    }
    tracing::info!(mutations = report.mutations_replayed, "commit log replayed");

    let info = NodeInfo {
        cluster_name: config.cluster_name.clone(),
        datacenter: config.dc.clone(),
        rack: config.rack.clone(),
        host_id: identity.host_id,
        tokens: identity.tokens.iter().map(|t| Token(*t)).collect(),
        listen_address: config.listen_address,
        rpc_address: config.rpc_address,
        native_port: config.native_transport_port,
        storage_port: config.storage_port,
        release_version: NodeInfo::RELEASE_VERSION.into(),
        cql_version: NodeInfo::CQL_VERSION.into(),
        partitioner: NodeInfo::PARTITIONER.into(),
    };
    let node = Arc::new(Node::new(engine.clone(), info, schema, schema_path));
    node.set_inline_execution(config.commitlog_sync == CommitlogSync::Periodic);
    let settings = cluster_node::ClusterSettings {
        cluster_name: config.cluster_name.clone(),
        host_id: meridian_cluster::ids::HostId(identity.host_id),
        name: config.node_name.clone(),
        datacenter: config.dc.clone(),
        rack: config.rack.clone(),
        internode_address: std::net::SocketAddr::new(config.listen_address, config.storage_port),
        cql_address: std::net::SocketAddr::new(config.rpc_address, config.native_transport_port),
        seeds: config.seeds.iter().map(|s| s.to_string()).collect(),
        tokens: identity.tokens.iter().map(|t| Token(*t)).collect(),
        num_tokens: config.num_tokens,
        release_version: NodeInfo::RELEASE_VERSION.into(),
        hints_dir: config.data_dir.join("hints"),
        hints_enabled: config.hinted_handoff_enabled,
        hint_throttle_bytes_per_sec: config.hinted_handoff_throttle_in_kb * 1024,
        batchlog_dir: config.data_dir.join("batchlog"),
        peers_file: config.data_dir.join("peers.json"),
    };
    let (cluster, tokens) = cluster_node::start(settings, &node).await?;
    if identity.tokens.is_empty() {
        identity.tokens = tokens.iter().map(|t| t.0).collect();
        save_identity(&config.data_dir.join("node.json"), &identity)?;
    }
    let processor = Arc::new(QueryProcessor::new(node.clone()));
    let server_config = ServerConfig {
        listen_address: std::net::SocketAddr::new(config.rpc_address, config.native_transport_port),
        max_frame_size_bytes: (config.max_frame_size_in_mb * 1024 * 1024) as usize,
        max_concurrent_requests_total: config.native_transport_max_concurrent_requests,
        ..ServerConfig::default()
    };
    let server = CqlServer::bind(server_config, processor)
        .await
        .with_context(|| {
            format!(
                "listen for CQL on {}:{}",
                config.rpc_address, config.native_transport_port
            )
        })?;
    node.set_event_bus(server.event_bus());
    let admin_addr = std::net::SocketAddr::new(config.listen_address, config.admin_port);
    let admin_source = cluster_node::GossipAdminSource {
        node: node.clone(),
        coordinator: cluster.coordinator.clone(),
    };
    let (admin_stop, admin_stopped) = tokio::sync::oneshot::channel::<()>();
    let admin = admin::serve_admin(admin_addr, Arc::new(admin_source), async {
        let _ = admin_stopped.await;
    })
    .await?;
    let addr = server.local_addr();
    println!(
        "Meridian is ready: CQL on {addr} (cluster \"{}\", {}/{}, data in {}, commitlog_sync {:?})",
        config.cluster_name,
        config.dc,
        config.rack,
        config.data_dir.display(),
        config.commitlog_sync
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();

    let report = server.run(shutdown_signal()).await;
    let _ = admin_stop.send(());
    let _ = admin.stopped().await;
    tracing::info!(?report, "CQL server stopped; flushing");
    cluster.membership.shutdown().await;
    cluster.messaging.shutdown().await;
    tokio::task::block_in_place(|| engine.shutdown()).context("flush on shutdown")?;
    println!("Meridian stopped cleanly");
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("install the SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("install the SIGINT handler");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: draining"),
        _ = int.recv() => tracing::info!("SIGINT: draining"),
    }
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot listen on {addr}: {source}")]
    struct Listen {
        addr: &'static str,
        source: std::io::Error,
    }

    #[test]
    fn a_cause_already_in_the_message_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "Address already in use");
        let error = anyhow::Error::new(Listen {
            addr: "127.0.0.1:9042",
            source: io,
        })
        .context("listen for CQL");
        assert_eq!(
            error_chain(&error),
            "listen for CQL: cannot listen on 127.0.0.1:9042: Address already in use"
        );
        let plain = anyhow::anyhow!("bad value").context("config key cql_port");
        assert_eq!(error_chain(&plain), "config key cql_port: bad value");
    }
}
