//! The coordinator over real messaging (TCP on 127.0.0.1) in one process: six nodes in two
//! datacenters of three racks, each with its own storage engine, membership set by hand
//! (so tests decide who is down), replication NetworkTopologyStrategy {east: 3, west: 3}.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use meridian_cluster::coordinator::batchlog::StoredBatch;
use meridian_cluster::coordinator::{
    BatchlogStore, ConsistencyLevel, Coordinator, CoordinatorConfig, CoordinatorError, Placement,
    PlacementResolver, WriteType,
};
use meridian_cluster::hints::{HintConfig, HintStore};
use meridian_cluster::ids::HostId;
use meridian_cluster::membership::{MemberInfo, NodeState, StaticMembership};
use meridian_cluster::net::{Messaging, NetConfig, TokioNetwork};
use meridian_cluster::ring::{allocate_tokens, NodeDesc, ReplicationStrategy, TokenMetadata};
use meridian_storage::{Engine, EngineConfig, TableOptions};
use meridian_types::model::{
    Cell, Clustering, ClusteringComparator, ColumnData, ColumnId, LivenessInfo, Mutation,
    Partition, PartitionUpdate, Row, Slice, TableId,
};
use meridian_types::token::PartitionKey;

const TABLE: TableId = TableId(uuid::Uuid::from_u128(0x7ab1e));

struct Fixed(Placement);

impl PlacementResolver for Fixed {
    fn placement(&self, table: TableId) -> Option<Placement> {
        (table == TABLE).then(|| self.0.clone())
    }
}

struct TestNode {
    info: MemberInfo,
    membership: Arc<StaticMembership>,
    coordinator: Arc<Coordinator>,
    messaging: Messaging,
    engine: Engine,
    _dir: tempfile::TempDir,
}

fn strategy() -> ReplicationStrategy {
    ReplicationStrategy::NetworkTopology {
        datacenters: BTreeMap::from([("east".to_string(), 3), ("west".to_string(), 3)]),
    }
}

/// Six member descriptions with balanced tokens.
fn members() -> Vec<MemberInfo> {
    let mut ring = TokenMetadata::new();
    let mut infos = Vec::new();
    for (i, (dc, rack)) in [
        ("east", "rack1"),
        ("east", "rack2"),
        ("east", "rack3"),
        ("west", "rack1"),
        ("west", "rack2"),
        ("west", "rack3"),
    ]
    .into_iter()
    .enumerate()
    {
        let host_id = HostId(uuid::Uuid::from_u128(i as u128 + 1));
        let tokens = allocate_tokens(&ring, dc, rack, 8, 3).unwrap();
        ring.add_or_update(NodeDesc {
            host_id,
            datacenter: dc.into(),
            rack: rack.into(),
            tokens: tokens.clone(),
        })
        .unwrap();
        infos.push(MemberInfo {
            host_id,
            generation: 1,
            name: Some(format!("{dc}-{}", i % 3 + 1)),
            datacenter: dc.into(),
            rack: rack.into(),
            tokens,
            state: NodeState::Normal,
            // Port 0 until the node's messaging has bound: `start_cluster_with` then announces
            // the bound address. (Choosing a free port first and binding it later raced with
            // the ephemeral ports of the other tests' connections: AddrInUse in CI.)
            internode_address: SocketAddr::from(([127, 0, 0, 1], 0)),
            cql_address: SocketAddr::from(([127, 0, 0, 1], 9042)),
            schema_version: None,
            release_version: "5.0.0".into(),
            load_bytes: 0,
        });
    }
    infos
}

async fn start_cluster() -> Vec<TestNode> {
    start_cluster_with(|_| {}).await
}

async fn start_cluster_with(adjust: impl Fn(&mut CoordinatorConfig)) -> Vec<TestNode> {
    let infos = members();
    let placement = Placement {
        keyspace: Arc::from("ks"),
        strategy: strategy(),
    };
    let mut nodes = Vec::new();
    for info in &infos {
        let mut info = info.clone();
        let dir = tempfile::tempdir().unwrap();
        let options = TableOptions::new(TABLE, "ks", "t", ClusteringComparator::empty());
        let (engine, _) = Engine::open(EngineConfig::new(dir.path()), vec![options]).unwrap();
        let membership = StaticMembership::new(info.host_id, infos.clone());
        let hints =
            Arc::new(HintStore::open(&dir.path().join("hints"), HintConfig::default()).unwrap());
        let mut config = CoordinatorConfig {
            write_timeout: Duration::from_millis(1_000),
            read_timeout: Duration::from_millis(2_000),
            ..CoordinatorConfig::default()
        };
        adjust(&mut config);
        let coordinator = Coordinator::new(engine.clone(), membership.clone(), hints, config);
        coordinator.set_resolver(Arc::new(Fixed(placement.clone())));
        let messaging = Messaging::start(
            NetConfig::new(info.internode_address, "test", info.host_id),
            Arc::new(TokioNetwork),
            coordinator.message_handler(),
        )
        .await
        .unwrap();
        info.internode_address = messaging.local_addr();
        coordinator.attach_messaging(messaging.clone());
        coordinator.set_batchlog(Arc::new(
            BatchlogStore::open(&dir.path().join("batchlog")).unwrap(),
        ));
        nodes.push(TestNode {
            info,
            membership,
            coordinator,
            messaging,
            engine,
            _dir: dir,
        });
    }
    for node in &nodes {
        for other in &nodes {
            node.membership.set_member(other.info.clone());
        }
    }
    nodes
}

fn key(k: &str) -> PartitionKey {
    PartitionKey::new(Bytes::copy_from_slice(k.as_bytes()))
}

fn mutation(k: &str, value: &str, ts: i64) -> Mutation {
    let mut row = Row::new(Clustering::EMPTY);
    row.liveness = Some(LivenessInfo::live(ts));
    row.set_cell(
        ColumnId(0),
        Cell::live(ts, Bytes::copy_from_slice(value.as_bytes())),
    );
    Mutation {
        updates: vec![PartitionUpdate {
            table: TABLE,
            key: key(k),
            partition: Partition {
                rows: vec![row],
                ..Partition::new()
            },
        }],
    }
}

fn value_of(p: &Option<Partition>) -> Option<Vec<u8>> {
    let p = p.as_ref()?;
    let row = p.rows.first()?;
    match row.column(ColumnId(0))? {
        ColumnData::Simple(c) => Some(c.value.to_vec()),
        ColumnData::Complex(_) => None,
    }
}

/// Marks `host` down (or up) in every node's view.
fn set_up(nodes: &[TestNode], host: HostId, up: bool) {
    for n in nodes {
        n.membership.set_up(host, up);
    }
}

fn replicas_of(nodes: &[TestNode], k: &str) -> Vec<HostId> {
    let placement = Placement {
        keyspace: Arc::from("ks"),
        strategy: strategy(),
    };
    nodes[0]
        .coordinator
        .topology()
        .replicas(&placement, key(k).token())
}

fn node_of(nodes: &[TestNode], host: HostId) -> &TestNode {
    nodes.iter().find(|n| n.info.host_id == host).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_reach_every_replica_and_reads_see_them_at_every_level() {
    let nodes = start_cluster().await;
    let c = &nodes[0].coordinator;
    for (i, cl) in [
        ConsistencyLevel::One,
        ConsistencyLevel::LocalQuorum,
        ConsistencyLevel::Quorum,
        ConsistencyLevel::EachQuorum,
        ConsistencyLevel::All,
    ]
    .into_iter()
    .enumerate()
    {
        let k = format!("k{i}");
        c.write(mutation(&k, "v", 10), cl, WriteType::Simple)
            .await
            .unwrap();
        // A read sees the write when the two sets of replicas overlap; at ONE they need not
        // (the write is acknowledged by one replica, the read asks the closest, which may
        // not have it yet: this failed once on a loaded CI machine), so at ONE the read is
        // retried until the write has reached the replica it asks.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        let got = loop {
            let got = c.read(TABLE, &key(&k), &[Slice::ALL], cl).await.unwrap();
            if cl != ConsistencyLevel::One
                || value_of(&got).is_some()
                || tokio::time::Instant::now() >= deadline
            {
                break got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        assert_eq!(value_of(&got), Some(b"v".to_vec()), "at {cl:?}");
    }
    // Every replica eventually holds the write (ALL wrote them synchronously; the others
    // within the write timeout).
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 0..5 {
        let k = format!("k{i}");
        let replicas = replicas_of(&nodes, &k);
        assert_eq!(replicas.len(), 6);
        for host in replicas {
            let p = node_of(&nodes, host)
                .engine
                .read(TABLE, &key(&k), &[Slice::ALL])
                .unwrap();
            assert_eq!(value_of(&p), Some(b"v".to_vec()), "{k} on {host}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_datacenter_receives_one_message_per_write() {
    let nodes = start_cluster().await;
    let c = &nodes[0].coordinator;
    let west: Vec<SocketAddr> = nodes
        .iter()
        .filter(|n| n.info.datacenter == "west")
        .map(|n| n.info.internode_address)
        .collect();
    let sent = |m: &Messaging| -> u64 {
        let stats = m.stats();
        west.iter()
            .map(|a| {
                stats
                    .peers
                    .get(a)
                    .map_or(0, |s| s.urgent.messages_sent + s.bulk.messages_sent)
            })
            .sum()
    };
    let before = sent(&nodes[0].messaging);
    let writes = 20u64;
    for i in 0..writes {
        c.write(
            mutation(&format!("f{i}"), "v", 1),
            ConsistencyLevel::EachQuorum,
            WriteType::Simple,
        )
        .await
        .unwrap();
    }
    let after = sent(&nodes[0].messaging);
    assert_eq!(after - before, writes, "one message per write to the west");
    assert_eq!(c.stats().cross_dc_mutations.load(Ordering::Relaxed), writes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_counts_and_the_other_datacenter_keeps_serving() {
    let nodes = start_cluster().await;
    // Two of east's three nodes down.
    let east: Vec<HostId> = nodes
        .iter()
        .filter(|n| n.info.datacenter == "east")
        .map(|n| n.info.host_id)
        .collect();
    set_up(&nodes, east[1], false);
    set_up(&nodes, east[2], false);
    let c = &nodes[0].coordinator;
    match c
        .write(
            mutation("u", "v", 1),
            ConsistencyLevel::LocalQuorum,
            WriteType::Simple,
        )
        .await
    {
        Err(CoordinatorError::Unavailable {
            required, alive, ..
        }) => assert_eq!((required, alive), (2, 1)),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    match c
        .read(
            TABLE,
            &key("u"),
            &[Slice::ALL],
            ConsistencyLevel::EachQuorum,
        )
        .await
    {
        Err(CoordinatorError::Unavailable {
            required, alive, ..
        }) => assert_eq!((required, alive), (2, 1)),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // West keeps LOCAL_QUORUM.
    let w = &nodes[3].coordinator;
    w.write(
        mutation("u", "west", 2),
        ConsistencyLevel::LocalQuorum,
        WriteType::Simple,
    )
    .await
    .unwrap();
    let got = w
        .read(
            TABLE,
            &key("u"),
            &[Slice::ALL],
            ConsistencyLevel::LocalQuorum,
        )
        .await
        .unwrap();
    assert_eq!(value_of(&got), Some(b"west".to_vec()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_repair_fixes_a_stale_replica() {
    let nodes = start_cluster().await;
    let c = &nodes[0].coordinator;
    c.write(
        mutation("r", "old", 1),
        ConsistencyLevel::All,
        WriteType::Simple,
    )
    .await
    .unwrap();
    // One replica alone gets a newer value (as if the others missed it).
    let replicas = replicas_of(&nodes, "r");
    let lucky = node_of(&nodes, replicas[1]);
    lucky.engine.apply(mutation("r", "new", 2)).unwrap();
    let got = c
        .read(TABLE, &key("r"), &[Slice::ALL], ConsistencyLevel::All)
        .await
        .unwrap();
    assert_eq!(value_of(&got), Some(b"new".to_vec()));
    assert!(c.stats().read_repairs.load(Ordering::Relaxed) >= 1);
    // Blocking repair: every replica has it now.
    for host in replicas {
        let p = node_of(&nodes, host)
            .engine
            .read(TABLE, &key("r"), &[Slice::ALL])
            .unwrap();
        assert_eq!(value_of(&p), Some(b"new".to_vec()), "replica {host}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hints_are_stored_for_a_down_replica_and_replayed_when_it_returns() {
    let nodes = start_cluster().await;
    let replicas = replicas_of(&nodes, "h");
    let down = replicas[0];
    // The coordinator: a node that is not the down one.
    let coord = nodes.iter().find(|n| n.info.host_id != down).unwrap();
    set_up(&nodes, down, false);
    coord
        .coordinator
        .write(
            mutation("h", "hinted", 5),
            ConsistencyLevel::One,
            WriteType::Simple,
        )
        .await
        .unwrap();
    // Hints for a replica known to be down are stored in the background.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while coord
        .coordinator
        .stats()
        .hints_stored
        .load(Ordering::Relaxed)
        == 0
    {
        assert!(tokio::time::Instant::now() < deadline, "no hint stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let missing = node_of(&nodes, down)
        .engine
        .read(TABLE, &key("h"), &[Slice::ALL])
        .unwrap();
    assert_eq!(value_of(&missing), None);
    set_up(&nodes, down, true);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let p = node_of(&nodes, down)
            .engine
            .read(TABLE, &key("h"), &[Slice::ALL])
            .unwrap();
        if value_of(&p) == Some(b"hinted".to_vec()) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "hint never replayed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        coord
            .coordinator
            .stats()
            .hints_replayed
            .load(Ordering::Relaxed)
            >= 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_replica_times_the_write_out_with_counts() {
    let nodes = start_cluster().await;
    let c = &nodes[0].coordinator;
    // All of east except the coordinator is unreachable but still believed up.
    for n in &nodes[1..3] {
        nodes[0]
            .messaging
            .faults()
            .partition(n.info.internode_address);
    }
    let started = std::time::Instant::now();
    match c
        .write(
            mutation("t", "v", 1),
            ConsistencyLevel::LocalQuorum,
            WriteType::Simple,
        )
        .await
    {
        Err(CoordinatorError::WriteTimeout {
            received,
            block_for,
            write_type,
            ..
        }) => {
            assert_eq!((received, block_for), (1, 2));
            assert_eq!(write_type, WriteType::Simple);
        }
        other => panic!("expected WriteTimeout, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_reads_return_every_partition_once_in_token_order() {
    let nodes = start_cluster().await;
    let c = &nodes[0].coordinator;
    for i in 0..200 {
        c.write(
            mutation(&format!("p{i}"), "v", 1),
            ConsistencyLevel::All,
            WriteType::Simple,
        )
        .await
        .unwrap();
    }
    let mut seen = Vec::new();
    let mut next = Some(std::ops::Bound::Unbounded);
    while let Some(start) = next.take() {
        let batch = c
            .range_batch(
                TABLE,
                start,
                std::ops::Bound::Unbounded,
                7,
                ConsistencyLevel::LocalQuorum,
            )
            .await
            .unwrap();
        seen.extend(batch.partitions.into_iter().map(|(k, _)| k));
        next = batch.next_start;
    }
    assert_eq!(seen.len(), 200);
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "token order, no repeats"
    );
}

fn batchlog_len(n: &TestNode) -> usize {
    BatchlogStore::open(&n._dir.path().join("batchlog"))
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logged_batch_goes_through_the_batch_log_and_is_removed() {
    let nodes = start_cluster().await;
    let c = &nodes[0].coordinator;
    let mut batch = mutation("b1", "x", 3);
    batch.updates.extend(mutation("b2", "y", 3).updates);
    c.write(batch, ConsistencyLevel::All, WriteType::Batch)
        .await
        .unwrap();
    for k in ["b1", "b2"] {
        for host in replicas_of(&nodes, k) {
            let p = node_of(&nodes, host)
                .engine
                .read(TABLE, &key(k), &[Slice::ALL])
                .unwrap();
            assert!(value_of(&p).is_some(), "{k} on {host}");
        }
    }
    // Stored on two east nodes, then removed (one-way messages: eventually).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while nodes.iter().map(batchlog_len).sum::<usize>() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "batch never removed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_batch_is_replayed_by_the_node_holding_it() {
    let nodes = start_cluster().await;
    // As if a coordinator stored the batch on east-2 and died before writing it.
    let mut batch = mutation("a1", "orphan", 4);
    batch.updates.extend(mutation("a2", "orphan", 4).updates);
    let mut encoded = bytes::BytesMut::new();
    meridian_types::model::encode_mutation(&mut encoded, &batch);
    let holder = &nodes[1];
    BatchlogStore::open(&holder._dir.path().join("batchlog"))
        .unwrap()
        .store(&StoredBatch {
            id: uuid::Uuid::new_v4(),
            created_micros: 1,
            mutation: encoded.freeze(),
        })
        .unwrap();
    assert_eq!(holder.coordinator.replay_batchlog().await, 1);
    assert_eq!(batchlog_len(holder), 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for k in ["a1", "a2"] {
        for host in replicas_of(&nodes, k) {
            let p = node_of(&nodes, host)
                .engine
                .read(TABLE, &key(k), &[Slice::ALL])
                .unwrap();
            assert_eq!(value_of(&p), Some(b"orphan".to_vec()), "{k} on {host}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hint_replay_honours_the_throttle() {
    // 40 KiB/s: 200 KiB of hints take at least ~4 s (batches of 64 KiB).
    let nodes = start_cluster_with(|c| {
        c.hint_replay_bytes_per_sec = 40 * 1024;
        c.hint_batch_bytes = 64 * 1024;
    })
    .await;
    let down = nodes[5].info.host_id;
    set_up(&nodes, down, false);
    let value = "x".repeat(10 * 1024);
    for i in 0..20 {
        nodes[0]
            .coordinator
            .write(
                mutation(&format!("t{i}"), &value, 7),
                ConsistencyLevel::One,
                WriteType::Simple,
            )
            .await
            .unwrap();
    }
    let stats = nodes[0].coordinator.stats();
    wait_for_count(
        &stats.hints_stored,
        20,
        Duration::from_secs(5),
        "hints stored",
    )
    .await;
    let started = std::time::Instant::now();
    set_up(&nodes, down, true);
    wait_for_count(
        &stats.hints_replayed,
        20,
        Duration::from_secs(30),
        "hints replayed",
    )
    .await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(3),
        "200 KiB at 40 KiB/s replayed in {took:?}"
    );
}

/// Waits until `counter` reaches `want`, failing the test after `timeout`.
async fn wait_for_count(
    counter: &std::sync::atomic::AtomicU64,
    want: u64,
    timeout: Duration,
    what: &str,
) {
    let deadline = tokio::time::Instant::now() + timeout;
    while counter.load(Ordering::Relaxed) < want {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: {} of {want} after {timeout:?}",
            counter.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
