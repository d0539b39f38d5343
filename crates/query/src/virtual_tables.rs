//! System tables whose rows are computed rather than stored, and the data sources `SELECT`
//! reads from.
//!
//! * `system.local`: one row (`key = 'local'`) describing this node, with every column of
//!   Cassandra 5.0's table (what cqlsh and the drivers read at connect time);
//! * `system.peers` and `system.peers_v2`: one row per other cluster member, from gossip;
//! * `system_views.pending_hints`: the hints this node holds, per target node;
//! * `system_schema.*` and `system_virtual_schema.*`: generated from the current schema by
//!   the schema crate ([`meridian_schema::rows`]);
//! * every other table of a system keyspace is read from storage when the engine has it,
//!   and is empty otherwise.
//!
//! Generated rows are presented exactly like stored ones (partitions of cells, in token
//! order, rows in clustering order), so `SELECT` applies the same restrictions, filtering,
//! projections, limits and paging to them.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Bound;
use std::sync::OnceLock;

use bytes::Bytes;
use meridian_schema::system::{SYSTEM, SYSTEM_SCHEMA, SYSTEM_VIEWS, SYSTEM_VIRTUAL_SCHEMA};
use meridian_schema::{ColumnKind, Schema, TableMetadata};
use meridian_types::model::{Clustering, LivenessInfo, Partition, Row, Slice};
use meridian_types::token::{composite_partition_key, PartitionKey};
use meridian_types::value::CqlValue;

use crate::context::Node;
use crate::error::QueryError;
use crate::select::executor::{DataSource, PartitionStream};
use crate::select::row::column_data_of;

/// The value of `system.local.bootstrapped` on a running node.
const BOOTSTRAP_COMPLETED: &str = "COMPLETED";
/// The native protocol version Cassandra 5.0 records in `system.local`.
const NATIVE_PROTOCOL_VERSION: &str = "5";
/// Write timestamp given to generated cells.
const GENERATED_TIMESTAMP_MICROS: i64 = 0;

/// Whether `keyspace.table` is generated rather than stored.
pub fn is_generated(keyspace: &str, table: &str) -> bool {
    match keyspace {
        SYSTEM => matches!(table, "local" | "peers" | "peers_v2"),
        SYSTEM_SCHEMA | SYSTEM_VIRTUAL_SCHEMA => true,
        SYSTEM_VIEWS => table == "pending_hints",
        _ => false,
    }
}

/// The rows of a generated table in `SELECT *` column order (see
/// [`TableMetadata::select_order`]), or `None` when `keyspace.table` is not generated.
pub fn generated_rows(
    node: &Node,
    schema: &Schema,
    keyspace: &str,
    table: &str,
) -> Option<Vec<Vec<Option<Bytes>>>> {
    match (keyspace, table) {
        (SYSTEM, "local") => {
            let meta = schema.table(SYSTEM, "local")?;
            Some(vec![local_row(node, schema, meta)])
        }
        (SYSTEM, "peers" | "peers_v2") => {
            let meta = schema.table(SYSTEM, table)?;
            Some(peer_rows(node, meta))
        }
        (SYSTEM_VIEWS, "pending_hints") => {
            let meta = schema.table(SYSTEM_VIEWS, table)?;
            Some(pending_hint_rows(node, meta))
        }
        (SYSTEM_SCHEMA | SYSTEM_VIRTUAL_SCHEMA, _) => {
            meridian_schema::system_table_rows(schema, keyspace, table)
        }
        _ => None,
    }
}

/// When this process first served `system.local`: Cassandra's `gossip_generation` is the
/// node's start time in seconds.
fn gossip_generation() -> i32 {
    static GENERATION: OnceLock<i32> = OnceLock::new();
    *GENERATION.get_or_init(|| {
        let secs = crate::context::now_micros() / 1_000_000;
        i32::try_from(secs).unwrap_or(i32::MAX)
    })
}

/// The `tokens` column (`set<text>`, ordered by the text comparator, no duplicates) of a
/// node owning `tokens`; `None` (null) when it owns none.
fn token_set(tokens: &[meridian_types::token::Token]) -> Option<CqlValue> {
    let mut texts: Vec<String> = tokens.iter().map(|t| t.0.to_string()).collect();
    texts.sort();
    texts.dedup();
    (!texts.is_empty()).then(|| CqlValue::Set(texts.into_iter().map(CqlValue::Text).collect()))
}

fn inet(ip: IpAddr) -> CqlValue {
    CqlValue::Inet(ip)
}

fn text(s: &str) -> CqlValue {
    CqlValue::Text(s.to_string())
}

fn local_row(node: &Node, schema: &Schema, meta: &TableMetadata) -> Vec<Option<Bytes>> {
    let info = &node.info;
    // In a cluster, the tokens a joining node chose after start are in the gossip view.
    let gossiped: Option<Vec<meridian_types::token::Token>> = node.coordinator().and_then(|c| {
        c.membership()
            .view()
            .local_member()
            .map(|m| m.info.tokens.clone())
    });
    let tokens = token_set(gossiped.as_deref().unwrap_or(&info.tokens));
    let value = |column: &str| -> Option<CqlValue> {
        Some(match column {
            "key" => text("local"),
            "bootstrapped" => text(BOOTSTRAP_COMPLETED),
            "broadcast_address" => inet(info.listen_address),
            "broadcast_port" => CqlValue::Int(i32::from(info.storage_port)),
            "cluster_name" => text(&info.cluster_name),
            "cql_version" => text(&info.cql_version),
            "data_center" => text(&info.datacenter),
            "gossip_generation" => CqlValue::Int(gossip_generation()),
            "host_id" => CqlValue::Uuid(info.host_id),
            "listen_address" => inet(info.listen_address),
            "listen_port" => CqlValue::Int(i32::from(info.storage_port)),
            "native_protocol_version" => text(NATIVE_PROTOCOL_VERSION),
            "partitioner" => text(&info.partitioner),
            "rack" => text(&info.rack),
            "release_version" => text(&info.release_version),
            "rpc_address" => inet(info.rpc_address),
            "rpc_port" => CqlValue::Int(i32::from(info.native_port)),
            "schema_version" => CqlValue::Uuid(schema.version()),
            "tokens" => tokens.clone()?,
            _ => return None,
        })
    };
    meta.select_order()
        .iter()
        .map(|c| value(&c.name).map(|v| v.to_bytes()))
        .collect()
}

/// One row per other member of the cluster (as gossip shows it), for `system.peers` and
/// `system.peers_v2`.
fn peer_rows(node: &Node, meta: &TableMetadata) -> Vec<Vec<Option<Bytes>>> {
    let Some(coordinator) = node.coordinator() else {
        return Vec::new();
    };
    let view = coordinator.membership().view();
    let mut rows = Vec::new();
    for m in view.peers() {
        let info = &m.info;
        if info.state == meridian_cluster::membership::NodeState::Left {
            continue;
        }
        let tokens = token_set(&info.tokens);
        let value = |column: &str| -> Option<CqlValue> {
            Some(match column {
                "peer" => inet(info.internode_address.ip()),
                "peer_port" => CqlValue::Int(i32::from(info.internode_address.port())),
                "data_center" => text(&info.datacenter),
                "host_id" => CqlValue::Uuid(info.host_id.0),
                "rack" => text(&info.rack),
                "release_version" => text(&info.release_version),
                "rpc_address" | "native_address" => inet(info.cql_address.ip()),
                "native_port" => CqlValue::Int(i32::from(info.cql_address.port())),
                "schema_version" => CqlValue::Uuid(info.schema_version?),
                "tokens" => tokens.clone()?,
                _ => return None,
            })
        };
        rows.push(
            meta.select_order()
                .iter()
                .map(|c| value(&c.name).map(|v| v.to_bytes()))
                .collect(),
        );
    }
    rows
}

/// One row per node this node holds hints for (`system_views.pending_hints`).
fn pending_hint_rows(node: &Node, meta: &TableMetadata) -> Vec<Vec<Option<Bytes>>> {
    let Some(coordinator) = node.coordinator() else {
        return Vec::new();
    };
    let view = coordinator.membership().view();
    let mut rows = Vec::new();
    for (target, backlog) in coordinator.hints().pending() {
        if backlog.hints == 0 {
            continue;
        }
        let member = view.member(target);
        let value = |column: &str| -> Option<CqlValue> {
            Some(match column {
                "host_id" => CqlValue::Uuid(target.0),
                "address" => inet(member?.info.internode_address.ip()),
                "port" => CqlValue::Int(i32::from(member?.info.internode_address.port())),
                "rack" => text(&member?.info.rack),
                "dc" => text(&member?.info.datacenter),
                "status" => text(if member?.up { "UP" } else { "DOWN" }),
                "oldest" => CqlValue::Timestamp(backlog.oldest_micros.div_euclid(1000)),
                "total_hints" => CqlValue::Bigint(backlog.hints as i64),
                "total_size" => CqlValue::Bigint(backlog.bytes as i64),
                _ => return None,
            })
        };
        rows.push(
            meta.select_order()
                .iter()
                .map(|c| value(&c.name).map(|v| v.to_bytes()))
                .collect(),
        );
    }
    rows
}

/// Builds partitions from rows laid out in `SELECT *` order.
fn partitions_of(
    table: &TableMetadata,
    rows: Vec<Vec<Option<Bytes>>>,
) -> Result<BTreeMap<PartitionKey, Partition>, QueryError> {
    let columns = table.select_order();
    let cmp = table.clustering_comparator();
    let mut out: BTreeMap<PartitionKey, Partition> = BTreeMap::new();
    for values in rows {
        let mut pk: Vec<(u32, Bytes)> = Vec::new();
        let mut ck: Vec<(u32, Bytes)> = Vec::new();
        let mut row_cells = Vec::new();
        let mut static_cells = Vec::new();
        for (c, v) in columns.iter().zip(values) {
            match (c.kind, v) {
                (ColumnKind::PartitionKey { position }, Some(v)) => pk.push((position, v)),
                (ColumnKind::Clustering { position, .. }, Some(v)) => ck.push((position, v)),
                (ColumnKind::Regular, Some(v)) => {
                    row_cells.push((c.id, column_data_of(&c.ty, &v, GENERATED_TIMESTAMP_MICROS)))
                }
                (ColumnKind::Static, Some(v)) => {
                    static_cells.push((c.id, column_data_of(&c.ty, &v, GENERATED_TIMESTAMP_MICROS)))
                }
                (ColumnKind::PartitionKey { .. } | ColumnKind::Clustering { .. }, None) => {
                    return Err(QueryError::server(format!(
                        "generated row of {} lacks primary key column {}",
                        table.qualified_name(),
                        c.name
                    )))
                }
                _ => {}
            }
        }
        pk.sort_by_key(|(p, _)| *p);
        ck.sort_by_key(|(p, _)| *p);
        let parts: Vec<&[u8]> = pk.iter().map(|(_, v)| v.as_ref()).collect();
        let key = composite_partition_key(&parts)
            .map_err(|e| QueryError::server(format!("generated partition key: {e}")))?;
        let key = PartitionKey::new(Bytes::from(key));
        let partition = out.entry(key).or_default();
        let mut row = Row::new(Clustering(ck.into_iter().map(|(_, v)| v).collect()));
        row.liveness = Some(LivenessInfo::live(GENERATED_TIMESTAMP_MICROS));
        for (id, data) in row_cells {
            row.merge_column(id, data);
        }
        if !static_cells.is_empty() {
            let mut s = partition
                .static_row
                .take()
                .unwrap_or_else(|| Row::new(Clustering::EMPTY));
            for (id, data) in static_cells {
                s.merge_column(id, data);
            }
            partition.static_row = Some(s);
        }
        partition.rows.push(row);
    }
    for p in out.values_mut() {
        p.rows
            .sort_by(|a, b| cmp.compare(&a.clustering, &b.clustering));
        p.rows
            .dedup_by(|a, b| cmp.compare(&a.clustering, &b.clustering).is_eq());
    }
    Ok(out)
}

/// Generated partitions held in memory.
pub(crate) struct MemorySource {
    table: TableMetadata,
    partitions: BTreeMap<PartitionKey, Partition>,
}

impl DataSource for MemorySource {
    fn read(&self, key: &PartitionKey, slices: &[Slice]) -> Result<Option<Partition>, QueryError> {
        let cmp = self.table.clustering_comparator();
        Ok(self.partitions.get(key).map(|p| p.restrict(&cmp, slices)))
    }

    fn scan<'a>(
        &'a self,
        start: Bound<PartitionKey>,
        end: Bound<PartitionKey>,
    ) -> Result<PartitionStream<'a>, QueryError> {
        if let (Bound::Included(s) | Bound::Excluded(s), Bound::Included(e) | Bound::Excluded(e)) =
            (&start, &end)
        {
            // BTreeMap::range panics on inverted bounds; such a range is empty.
            let inverted = s > e
                || (s == e
                    && !(matches!(start, Bound::Included(_)) && matches!(end, Bound::Included(_))));
            if inverted {
                return Ok(Box::new(std::iter::empty()));
            }
        }
        Ok(Box::new(
            self.partitions
                .range((start, end))
                .map(|(k, p)| Ok((k.clone(), p.clone()))),
        ))
    }
}

/// A table of the storage engine: local, or through the coordinator in a cluster.
pub(crate) struct StorageSource<'n> {
    node: &'n Node,
    table: meridian_types::model::TableId,
    consistency: meridian_cql_protocol::Consistency,
}

/// Partitions a coordinator range-read batch asks for.
const RANGE_BATCH_PARTITIONS: u32 = 256;

impl DataSource for StorageSource<'_> {
    fn read(&self, key: &PartitionKey, slices: &[Slice]) -> Result<Option<Partition>, QueryError> {
        self.node
            .read_partition(self.table, key, slices, self.consistency)
    }

    fn scan<'a>(
        &'a self,
        start: Bound<PartitionKey>,
        end: Bound<PartitionKey>,
    ) -> Result<PartitionStream<'a>, QueryError> {
        let Some(coordinator) = self.node.distributed() else {
            let iter = self.node.engine.scan(self.table, start, end)?;
            return Ok(Box::new(iter.map(|r| r.map_err(QueryError::from))));
        };
        let cl = crate::context::cluster_consistency(self.consistency);
        let table = self.table;
        let coordinator = coordinator.clone();
        // Batches fetched on demand, one ring segment (or limit) at a time.
        let mut next: Option<Bound<PartitionKey>> = Some(start);
        let mut buffered: std::collections::VecDeque<(PartitionKey, Partition)> =
            std::collections::VecDeque::new();
        Ok(Box::new(std::iter::from_fn(move || loop {
            if let Some(p) = buffered.pop_front() {
                return Some(Ok(p));
            }
            let from = next.take()?;
            match crate::context::block_on(coordinator.range_batch(
                table,
                from,
                end.clone(),
                RANGE_BATCH_PARTITIONS,
                cl,
            )) {
                Ok(batch) => {
                    buffered.extend(batch.partitions);
                    next = batch.next_start;
                }
                Err(e) => return Some(Err(QueryError::from(e))),
            }
        })))
    }
}

/// Where `SELECT` reads `table` from.
pub(crate) fn source<'n>(
    node: &'n Node,
    schema: &Schema,
    table: &TableMetadata,
    consistency: meridian_cql_protocol::Consistency,
) -> Result<Box<dyn DataSource + 'n>, QueryError> {
    if let Some(rows) = generated_rows(node, schema, &table.keyspace, &table.name) {
        return Ok(Box::new(MemorySource {
            table: table.clone(),
            partitions: partitions_of(table, rows)?,
        }));
    }
    let stored = !table.is_system() || node.engine.table_ids().contains(&table.id);
    if stored {
        Ok(Box::new(StorageSource {
            node,
            table: table.id,
            consistency,
        }))
    } else {
        Ok(Box::new(MemorySource {
            table: table.clone(),
            partitions: BTreeMap::new(),
        }))
    }
}
