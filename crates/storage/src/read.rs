//! Read commands: what the query layer asks of the engine for `SELECT`. A single-partition
//! read selects clustering slices (ranges; an `IN` list is one slice per value), in forward or
//! reversed clustering order, with a row limit; a range read walks partitions in token order
//! with a per-partition and a total row limit. Results contain only what is live at the
//! read's `now` (TTL expiry is decided here, at read time).

use std::ops::Bound;

use meridian_types::model::{Partition, Row, Slice, TableId};
use meridian_types::token::PartitionKey;

use crate::engine::Engine;
use crate::error::StorageError;

/// What to read of a partition.
#[derive(Clone, Debug)]
pub struct ReadCommand {
    /// Clustering slices, sorted and disjoint (`[Slice::ALL]` for everything).
    pub slices: Vec<Slice>,
    /// Return rows in reversed clustering order (`ORDER BY` against the table's order).
    pub reversed: bool,
    /// At most this many rows per partition (`PER PARTITION LIMIT`).
    pub per_partition_limit: Option<usize>,
    /// At most this many rows in all (`LIMIT`, or the page size).
    pub limit: Option<usize>,
    /// The time TTLs are judged against, in seconds since the epoch.
    pub now_secs: i64,
}

impl ReadCommand {
    /// Every row, forward, no limit.
    pub fn all(now_secs: i64) -> Self {
        ReadCommand {
            slices: vec![Slice::ALL],
            reversed: false,
            per_partition_limit: None,
            limit: None,
            now_secs,
        }
    }
}

/// The live content of one partition as a read returns it: rows in the requested order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LivePartition {
    /// The partition key.
    pub key: PartitionKey,
    /// The static row, if any static column is live.
    pub static_row: Option<Row>,
    /// Live rows, in the requested order, limited.
    pub rows: Vec<Row>,
}

/// The live content of a raw partition for a read command (what [`crate::Engine::read_live`]
/// returns), for callers that obtained the partition elsewhere (the coordinator).
pub fn live(
    key: PartitionKey,
    p: Partition,
    cmd: &ReadCommand,
    budget: Option<usize>,
) -> Option<LivePartition> {
    let view = p.live_view(cmd.now_secs);
    let mut rows = view.rows;
    if cmd.reversed {
        rows.reverse();
    }
    let limit = match (cmd.per_partition_limit, budget) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if let Some(limit) = limit {
        rows.truncate(limit);
    }
    if rows.is_empty() && view.static_row.is_none() {
        return None;
    }
    Some(LivePartition {
        key,
        static_row: view.static_row,
        rows,
    })
}

impl Engine {
    /// Reads the live rows of one partition.
    pub fn read_live(
        &self,
        table: TableId,
        key: &PartitionKey,
        cmd: &ReadCommand,
    ) -> Result<Option<LivePartition>, StorageError> {
        let Some(p) = self.read(table, key, &cmd.slices)? else {
            return Ok(None);
        };
        Ok(live(key.clone(), p, cmd, cmd.limit))
    }

    /// Reads live partitions with keys in the bounds, in token order, until `cmd.limit` rows
    /// (counting a partition with only a static row as one) or `max_partitions` partitions.
    pub fn read_range_live(
        &self,
        table: TableId,
        start: Bound<PartitionKey>,
        end: Bound<PartitionKey>,
        cmd: &ReadCommand,
        max_partitions: Option<usize>,
    ) -> Result<Vec<LivePartition>, StorageError> {
        let mut out = Vec::new();
        let mut rows_left = cmd.limit;
        for item in self.scan(table, start, end)? {
            if rows_left == Some(0) || max_partitions.is_some_and(|m| out.len() >= m) {
                break;
            }
            let (key, p) = item?;
            let restricted = if cmd.slices.len() == 1 && cmd.slices[0] == Slice::ALL {
                p
            } else {
                let cmp = self.comparator(table)?;
                p.restrict(&cmp, &cmd.slices)
            };
            if let Some(lp) = live(key, restricted, cmd, rows_left) {
                let counted = lp.rows.len().max(1);
                rows_left = rows_left.map(|r| r.saturating_sub(counted));
                out.push(lp);
            }
        }
        Ok(out)
    }
}
