//! Read commands: clustering slices (ranges and IN lists), reversed order, limits, per-partition
//! limits, TTL expiry decided at read time, range reads in token order, and which SSTables
//! hold a token range.

use std::ops::Bound;

use bytes::Bytes;
use meridian_storage::read::ReadCommand;
use meridian_storage::{token_end_bound, token_start_bound, Engine, EngineConfig, TableOptions};
use meridian_types::cql_type::CqlType;
use meridian_types::model::{
    BoundKind, Cell, Clustering, ClusteringBound, ClusteringComparator, ClusteringOrder, ColumnId,
    LivenessInfo, Mutation, Partition, PartitionUpdate, Row, Slice, TableId,
};
use meridian_types::token::{PartitionKey, Token, TokenRange};

const NOW: i64 = 1_700_000_000;

fn table() -> TableId {
    TableId(uuid::Uuid::from_u128(3))
}

fn int(v: i32) -> Bytes {
    Bytes::copy_from_slice(&v.to_be_bytes())
}

fn ck(v: i32) -> Clustering {
    Clustering(vec![int(v)])
}

fn open(dir: &std::path::Path) -> Engine {
    let mut c = EngineConfig::new(dir);
    c.auto_compaction = false;
    c.commitlog_segment_size_bytes = 1024 * 1024;
    c.max_mutation_size_bytes = 512 * 1024;
    let cmp = ClusteringComparator::new(vec![(CqlType::Int, ClusteringOrder::Asc)]);
    Engine::open(c, vec![TableOptions::new(table(), "ks", "wide", cmp)])
        .unwrap()
        .0
}

fn key(k: &str) -> PartitionKey {
    PartitionKey::new(Bytes::copy_from_slice(k.as_bytes()))
}

fn write_rows(e: &Engine, k: &str, cks: impl IntoIterator<Item = i32>, ttl: u32) {
    let rows = cks
        .into_iter()
        .map(|c| {
            let mut r = Row::new(ck(c));
            if ttl > 0 {
                r.liveness = Some(LivenessInfo::expiring(1, ttl, NOW));
                r.set_cell(ColumnId(0), Cell::expiring(1, int(c * 10), ttl, NOW));
            } else {
                r.liveness = Some(LivenessInfo::live(1));
                r.set_cell(ColumnId(0), Cell::live(1, int(c * 10)));
            }
            r
        })
        .collect();
    e.apply(Mutation {
        updates: vec![PartitionUpdate {
            table: table(),
            key: key(k),
            partition: Partition {
                rows,
                ..Partition::new()
            },
        }],
    })
    .unwrap();
}

fn cks(p: &meridian_storage::LivePartition) -> Vec<i32> {
    p.rows
        .iter()
        .map(|r| i32::from_be_bytes(r.clustering.0[0].as_ref().try_into().unwrap()))
        .collect()
}

fn range(lo: i32, lo_incl: bool, hi: i32, hi_incl: bool) -> Slice {
    Slice::from_bounds(
        &ClusteringBound {
            prefix: ck(lo),
            kind: if lo_incl {
                BoundKind::InclusiveStart
            } else {
                BoundKind::ExclusiveStart
            },
        },
        &ClusteringBound {
            prefix: ck(hi),
            kind: if hi_incl {
                BoundKind::InclusiveEnd
            } else {
                BoundKind::ExclusiveEnd
            },
        },
    )
}

#[test]
fn slices_in_lists_reversed_and_limits_across_memtable_and_sstables() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    write_rows(&e, "p", (0..50).filter(|c| c % 2 == 0), 0);
    e.flush(table()).unwrap();
    write_rows(&e, "p", (0..50).filter(|c| c % 2 == 1), 0);

    let mut cmd = ReadCommand::all(NOW);
    cmd.slices = vec![range(10, true, 15, false)];
    assert_eq!(
        cks(&e.read_live(table(), &key("p"), &cmd).unwrap().unwrap()),
        vec![10, 11, 12, 13, 14]
    );

    cmd.slices = vec![range(10, false, 15, true)];
    cmd.reversed = true;
    assert_eq!(
        cks(&e.read_live(table(), &key("p"), &cmd).unwrap().unwrap()),
        vec![15, 14, 13, 12, 11]
    );

    // IN (3, 7, 40): one slice per value.
    cmd.slices = vec![
        Slice::prefix(ck(3)),
        Slice::prefix(ck(7)),
        Slice::prefix(ck(40)),
    ];
    cmd.reversed = false;
    assert_eq!(
        cks(&e.read_live(table(), &key("p"), &cmd).unwrap().unwrap()),
        vec![3, 7, 40]
    );

    cmd.slices = vec![Slice::ALL];
    cmd.limit = Some(3);
    cmd.reversed = true;
    assert_eq!(
        cks(&e.read_live(table(), &key("p"), &cmd).unwrap().unwrap()),
        vec![49, 48, 47]
    );

    cmd.slices = vec![range(100, true, 200, true)];
    assert_eq!(e.read_live(table(), &key("p"), &cmd).unwrap(), None);
}

#[test]
fn ttl_expiry_is_decided_at_read_time() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    write_rows(&e, "t", [1, 2], 10);
    write_rows(&e, "t", [3], 0);
    e.flush(table()).unwrap();
    let mut cmd = ReadCommand::all(NOW + 9);
    assert_eq!(
        cks(&e.read_live(table(), &key("t"), &cmd).unwrap().unwrap()),
        vec![1, 2, 3]
    );
    cmd.now_secs = NOW + 10;
    assert_eq!(
        cks(&e.read_live(table(), &key("t"), &cmd).unwrap().unwrap()),
        vec![3]
    );
}

#[test]
fn range_reads_walk_token_order_with_per_partition_and_total_limits() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let names: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
    for (i, n) in names.iter().enumerate() {
        write_rows(&e, n, 0..5, 0);
        if i == 10 {
            e.flush(table()).unwrap();
        }
    }
    let mut by_token: Vec<PartitionKey> = names.iter().map(|n| key(n)).collect();
    by_token.sort();

    let mut cmd = ReadCommand::all(NOW);
    cmd.per_partition_limit = Some(2);
    let all = e
        .read_range_live(table(), Bound::Unbounded, Bound::Unbounded, &cmd, None)
        .unwrap();
    assert_eq!(all.len(), 20);
    assert!(all.iter().all(|p| cks(p) == vec![0, 1]));
    assert_eq!(
        all.iter().map(|p| p.key.clone()).collect::<Vec<_>>(),
        by_token
    );

    // Paging: 7 rows at a time, restarting after the last key seen.
    cmd.per_partition_limit = None;
    cmd.limit = Some(7);
    let page = e
        .read_range_live(table(), Bound::Unbounded, Bound::Unbounded, &cmd, None)
        .unwrap();
    assert_eq!(
        page.iter().map(|p| p.rows.len()).collect::<Vec<_>>(),
        vec![5, 2]
    );
    let next = e
        .read_range_live(
            table(),
            Bound::Excluded(page[1].key.clone()),
            Bound::Unbounded,
            &cmd,
            None,
        )
        .unwrap();
    assert_eq!(next[0].key, by_token[2]);

    // A token range (start, end] selects exactly the keys whose token is in it.
    let lo = by_token[4].token();
    let hi = by_token[9].token();
    let got = e
        .read_range_live(
            table(),
            token_start_bound(lo, false),
            token_end_bound(hi),
            &ReadCommand::all(NOW),
            None,
        )
        .unwrap();
    assert_eq!(
        got.iter().map(|p| p.key.clone()).collect::<Vec<_>>(),
        by_token[5..=9].to_vec()
    );

    // Which SSTables hold a range: the flushed one holds the first 11 keys.
    let files = e
        .sstables_in_token_range(table(), TokenRange::new(Token::MIN, Token::MIN))
        .unwrap();
    assert_eq!(files.len(), 1);
    let first_flushed_token = names[..=10].iter().map(|n| key(n).token()).min().unwrap();
    let before = TokenRange::new(Token::MIN, Token(first_flushed_token.0 - 1));
    assert!(e
        .sstables_in_token_range(table(), before)
        .unwrap()
        .is_empty());
}
