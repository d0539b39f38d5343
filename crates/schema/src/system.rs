//! Cassandra 5.0's system keyspaces as [`KeyspaceSchema`]s, with their exact table
//! definitions (columns, types, key structure, options) and Cassandra's deterministic table
//! ids (`nameUUIDFromBytes(keyspace ‖ table)`), so that drivers and cqlsh find the tables they
//! query in `system_schema` and `DESCRIBE` prints them as Cassandra does.
//!
//! * `system` (LocalStrategy): `local`, `peers`, `peers_v2`, `size_estimates`,
//!   `compaction_history`;
//! * `system_schema` (LocalStrategy): `keyspaces`, `tables`, `columns`, `column_masks`,
//!   `dropped_columns`, `triggers`, `views`, `types`, `functions`, `aggregates`, `indexes`;
//! * `system_auth` (SimpleStrategy 1): `roles`, `role_members`, `role_permissions`,
//!   `resource_role_permissons_index` (sic), `network_permissions`;
//! * `system_distributed` (SimpleStrategy 3): `repair_history`, `parent_repair_history`,
//!   `view_build_status`, `partition_denylist`;
//! * `system_traces` (SimpleStrategy 2): `sessions`, `events`;
//! * `system_virtual_schema` (virtual): `keyspaces`, `tables`, `columns`.

use std::collections::BTreeMap;

use meridian_types::cql_type::CqlType;
use meridian_types::model::{ClusteringOrder, ColumnId};

use crate::keyspace::{KeyspaceMetadata, KeyspaceSchema};
use crate::params::TableParams;
use crate::replication::Replication;
use crate::table::{system_table_id, ColumnKind, ColumnMetadata, DroppedColumn, TableMetadata};

/// The node-local system keyspace.
pub const SYSTEM: &str = "system";
/// The schema keyspace.
pub const SYSTEM_SCHEMA: &str = "system_schema";
/// The authentication keyspace.
pub const SYSTEM_AUTH: &str = "system_auth";
/// The repair-history keyspace.
pub const SYSTEM_DISTRIBUTED: &str = "system_distributed";
/// The tracing keyspace.
pub const SYSTEM_TRACES: &str = "system_traces";
/// The virtual keyspace describing virtual keyspaces.
pub const SYSTEM_VIRTUAL_SCHEMA: &str = "system_virtual_schema";
/// Cassandra's virtual keyspace of node views (Meridian models `pending_hints`).
pub const SYSTEM_VIEWS: &str = "system_views";

/// Keyspaces stored only on the local node, never modifiable by users.
pub const LOCAL_SYSTEM_KEYSPACES: [&str; 2] = [SYSTEM, SYSTEM_SCHEMA];
/// Replicated system keyspaces (their replication may be altered).
pub const REPLICATED_SYSTEM_KEYSPACES: [&str; 3] = [SYSTEM_AUTH, SYSTEM_DISTRIBUTED, SYSTEM_TRACES];
/// Virtual system keyspaces.
pub const VIRTUAL_SYSTEM_KEYSPACES: [&str; 2] = [SYSTEM_VIRTUAL_SCHEMA, SYSTEM_VIEWS];

/// Whether `name` is a local system keyspace (case-insensitive, as Cassandra checks).
pub fn is_local_system_keyspace(name: &str) -> bool {
    LOCAL_SYSTEM_KEYSPACES
        .iter()
        .any(|k| k.eq_ignore_ascii_case(name))
}

/// Whether `name` is a replicated system keyspace.
pub fn is_replicated_system_keyspace(name: &str) -> bool {
    REPLICATED_SYSTEM_KEYSPACES
        .iter()
        .any(|k| k.eq_ignore_ascii_case(name))
}

/// Whether `name` is a virtual keyspace.
pub fn is_virtual_keyspace(name: &str) -> bool {
    VIRTUAL_SYSTEM_KEYSPACES
        .iter()
        .any(|k| k.eq_ignore_ascii_case(name))
}

/// Whether `name` is exactly the name of one of the system keyspaces (case-sensitive: a user
/// keyspace may differ from one only by case, and is then a user keyspace).
pub fn is_builtin_keyspace(name: &str) -> bool {
    LOCAL_SYSTEM_KEYSPACES.contains(&name)
        || REPLICATED_SYSTEM_KEYSPACES.contains(&name)
        || VIRTUAL_SYSTEM_KEYSPACES.contains(&name)
}

/// Whether `name` is any system keyspace (local, replicated or virtual), compared
/// case-insensitively as Cassandra's `SchemaConstants.isSystemKeyspace` does.
pub fn is_system_keyspace(name: &str) -> bool {
    is_local_system_keyspace(name)
        || is_replicated_system_keyspace(name)
        || is_virtual_keyspace(name)
}

fn text() -> CqlType {
    CqlType::Text
}

fn set_of(t: CqlType) -> CqlType {
    CqlType::Set(Box::new(t))
}

fn map_of(k: CqlType, v: CqlType) -> CqlType {
    CqlType::Map(Box::new(k), Box::new(v))
}

fn frozen(t: CqlType) -> CqlType {
    CqlType::Frozen(Box::new(t))
}

fn frozen_text_map() -> CqlType {
    frozen(map_of(text(), text()))
}

fn frozen_text_list() -> CqlType {
    frozen(CqlType::List(Box::new(text())))
}

/// A system table definition: `(name, type)` per column and the key structure.
struct Def<'a> {
    keyspace: &'a str,
    name: &'a str,
    partition_key: &'a [(&'a str, CqlType)],
    clustering: &'a [(&'a str, CqlType)],
    regular: &'a [(&'a str, CqlType)],
}

impl Def<'_> {
    fn build(&self, params: TableParams) -> TableMetadata {
        let mut columns = Vec::new();
        for (i, (name, ty)) in self.partition_key.iter().enumerate() {
            columns.push((
                name.to_string(),
                ty.clone(),
                ColumnKind::PartitionKey { position: i as u32 },
            ));
        }
        for (i, (name, ty)) in self.clustering.iter().enumerate() {
            columns.push((
                name.to_string(),
                ty.clone(),
                ColumnKind::Clustering {
                    position: i as u32,
                    order: ClusteringOrder::Asc,
                },
            ));
        }
        for (name, ty) in self.regular {
            columns.push((name.to_string(), ty.clone(), ColumnKind::Regular));
        }
        let mut table = TableMetadata {
            keyspace: self.keyspace.to_string(),
            name: self.name.to_string(),
            id: system_table_id(self.keyspace, self.name),
            columns: columns
                .into_iter()
                .map(|(name, ty, kind)| ColumnMetadata {
                    name,
                    id: ColumnId(0),
                    ty,
                    kind,
                })
                .collect(),
            params,
            dropped_columns: BTreeMap::new(),
            next_column_id: 0,
            is_virtual: is_virtual_keyspace(self.keyspace),
        };
        table.sort_columns();
        for (i, c) in table.columns.iter_mut().enumerate() {
            c.id = ColumnId(i as u32);
        }
        table.next_column_id = table.columns.len() as u32;
        table
    }
}

fn params(comment: &str, gc_grace_seconds: u32, memtable_flush_period_ms: u32) -> TableParams {
    TableParams {
        comment: comment.to_string(),
        gc_grace_seconds,
        memtable_flush_period_ms,
        ..TableParams::default()
    }
}

const ONE_HOUR_MS: u32 = 3_600_000;
const SEVEN_DAYS_SECS: u32 = 604_800;
const NINETY_DAYS_SECS: u32 = 7_776_000;

fn keyspace(name: &str, replication: Replication, tables: Vec<TableMetadata>) -> KeyspaceSchema {
    let mut ks = KeyspaceSchema::new(KeyspaceMetadata {
        name: name.to_string(),
        replication,
        durable_writes: true,
    });
    for t in tables {
        ks.tables.insert(t.name.clone(), t);
    }
    ks
}

/// The `system` keyspace.
pub fn system_keyspace() -> KeyspaceSchema {
    let local_params = |comment: &str| params(comment, 0, ONE_HOUR_MS);
    let mut local = Def {
        keyspace: SYSTEM,
        name: "local",
        partition_key: &[("key", text())],
        clustering: &[],
        regular: &[
            ("bootstrapped", text()),
            ("broadcast_address", CqlType::Inet),
            ("broadcast_port", CqlType::Int),
            ("cluster_name", text()),
            ("cql_version", text()),
            ("data_center", text()),
            ("gossip_generation", CqlType::Int),
            ("host_id", CqlType::Uuid),
            ("listen_address", CqlType::Inet),
            ("listen_port", CqlType::Int),
            ("native_protocol_version", text()),
            ("partitioner", text()),
            ("rack", text()),
            ("release_version", text()),
            ("rpc_address", CqlType::Inet),
            ("rpc_port", CqlType::Int),
            ("schema_version", CqlType::Uuid),
            ("tokens", set_of(text())),
            ("truncated_at", map_of(CqlType::Uuid, CqlType::Blob)),
        ],
    }
    .build(local_params("information about the local node"));
    // Cassandra records the removed thrift_version column as dropped "forever".
    local.dropped_columns.insert(
        "thrift_version".into(),
        DroppedColumn {
            ty: text(),
            kind: ColumnKind::Regular,
            dropped_at_micros: i64::MAX,
        },
    );
    let peers_v2 = Def {
        keyspace: SYSTEM,
        name: "peers_v2",
        partition_key: &[("peer", CqlType::Inet)],
        clustering: &[("peer_port", CqlType::Int)],
        regular: &[
            ("data_center", text()),
            ("host_id", CqlType::Uuid),
            ("preferred_ip", CqlType::Inet),
            ("preferred_port", CqlType::Int),
            ("rack", text()),
            ("release_version", text()),
            ("native_address", CqlType::Inet),
            ("native_port", CqlType::Int),
            ("schema_version", CqlType::Uuid),
            ("tokens", set_of(text())),
        ],
    }
    .build(local_params("information about known peers in the cluster"));
    let peers = Def {
        keyspace: SYSTEM,
        name: "peers",
        partition_key: &[("peer", CqlType::Inet)],
        clustering: &[],
        regular: &[
            ("data_center", text()),
            ("host_id", CqlType::Uuid),
            ("preferred_ip", CqlType::Inet),
            ("rack", text()),
            ("release_version", text()),
            ("rpc_address", CqlType::Inet),
            ("schema_version", CqlType::Uuid),
            ("tokens", set_of(text())),
        ],
    }
    .build(local_params("information about known peers in the cluster"));
    let size_estimates = Def {
        keyspace: SYSTEM,
        name: "size_estimates",
        partition_key: &[("keyspace_name", text())],
        clustering: &[
            ("table_name", text()),
            ("range_start", text()),
            ("range_end", text()),
        ],
        regular: &[
            ("mean_partition_size", CqlType::Bigint),
            ("partitions_count", CqlType::Bigint),
        ],
    }
    .build(local_params(
        "per-table primary range size estimates, table is deprecated in favor of table_estimates",
    ));
    let mut history_params = local_params("week-long compaction history");
    history_params.default_time_to_live_secs = SEVEN_DAYS_SECS;
    let compaction_history = Def {
        keyspace: SYSTEM,
        name: "compaction_history",
        partition_key: &[("id", CqlType::Uuid)],
        clustering: &[],
        regular: &[
            ("bytes_in", CqlType::Bigint),
            ("bytes_out", CqlType::Bigint),
            ("columnfamily_name", text()),
            ("compacted_at", CqlType::Timestamp),
            ("compaction_properties", frozen_text_map()),
            ("keyspace_name", text()),
            ("rows_merged", map_of(CqlType::Int, CqlType::Bigint)),
        ],
    }
    .build(history_params);
    keyspace(
        SYSTEM,
        Replication::Local,
        vec![local, peers, peers_v2, size_estimates, compaction_history],
    )
}

/// Option columns shared by `system_schema.tables` and `system_schema.views`.
fn table_option_columns() -> Vec<(&'static str, CqlType)> {
    vec![
        ("allow_auto_snapshot", CqlType::Boolean),
        ("bloom_filter_fp_chance", CqlType::Double),
        ("caching", frozen_text_map()),
        ("comment", text()),
        ("compaction", frozen_text_map()),
        ("compression", frozen_text_map()),
        ("memtable", text()),
        ("crc_check_chance", CqlType::Double),
        ("dclocal_read_repair_chance", CqlType::Double),
        ("default_time_to_live", CqlType::Int),
        ("extensions", frozen(map_of(text(), CqlType::Blob))),
        ("gc_grace_seconds", CqlType::Int),
        ("incremental_backups", CqlType::Boolean),
        ("id", CqlType::Uuid),
        ("max_index_interval", CqlType::Int),
        ("memtable_flush_period_in_ms", CqlType::Int),
        ("min_index_interval", CqlType::Int),
        ("read_repair_chance", CqlType::Double),
        ("speculative_retry", text()),
        ("additional_write_policy", text()),
        ("cdc", CqlType::Boolean),
        ("read_repair", text()),
    ]
}

/// The `system_schema` keyspace.
pub fn system_schema_keyspace() -> KeyspaceSchema {
    let p = |comment: &str| params(comment, SEVEN_DAYS_SECS, ONE_HOUR_MS);
    let ks = SYSTEM_SCHEMA;
    let keyspaces = Def {
        keyspace: ks,
        name: "keyspaces",
        partition_key: &[("keyspace_name", text())],
        clustering: &[],
        regular: &[
            ("durable_writes", CqlType::Boolean),
            ("replication", frozen_text_map()),
        ],
    }
    .build(p("keyspace definitions"));
    let mut table_columns = table_option_columns();
    table_columns.push(("flags", frozen(set_of(text()))));
    let tables = Def {
        keyspace: ks,
        name: "tables",
        partition_key: &[("keyspace_name", text())],
        clustering: &[("table_name", text())],
        regular: &table_columns,
    }
    .build(p("table definitions"));
    let column_like = [
        ("clustering_order", text()),
        ("column_name_bytes", CqlType::Blob),
        ("kind", text()),
        ("position", CqlType::Int),
        ("type", text()),
    ];
    let columns = Def {
        keyspace: ks,
        name: "columns",
        partition_key: &[("keyspace_name", text())],
        clustering: &[("table_name", text()), ("column_name", text())],
        regular: &column_like,
    }
    .build(p("column definitions"));
    let column_masks = Def {
        keyspace: ks,
        name: "column_masks",
        partition_key: &[("keyspace_name", text())],
        clustering: &[("table_name", text()), ("column_name", text())],
        regular: &[
            ("function_keyspace", text()),
            ("function_name", text()),
            ("function_argument_types", frozen_text_list()),
            ("function_argument_values", frozen_text_list()),
            (
                "function_argument_nulls",
                frozen(CqlType::List(Box::new(CqlType::Boolean))),
            ),
        ],
    }
    .build(p("column dynamic data masks"));
    let dropped_columns = Def {
        keyspace: ks,
        name: "dropped_columns",
        partition_key: &[("keyspace_name", text())],
        clustering: &[("table_name", text()), ("column_name", text())],
        regular: &[
            ("dropped_time", CqlType::Timestamp),
            ("kind", text()),
            ("type", text()),
        ],
    }
    .build(p("dropped column registry"));
    let triggers = Def {
        keyspace: ks,
        name: "triggers",
        partition_key: &[("keyspace_name", text())],
        clustering: &[("table_name", text()), ("trigger_name", text())],
        regular: &[("options", frozen_text_map())],
    }
    .build(p("trigger definitions"));
    let mut view_columns = vec![
        ("base_table_id", CqlType::Uuid),
        ("base_table_name", text()),
        ("where_clause", text()),
        ("include_all_columns", CqlType::Boolean),
    ];
    view_columns.extend(table_option_columns());
    let views = Def {
        keyspace: ks,
        name: "views",
        partition_key: &[("keyspace_name", text())],
        clustering: &[("view_name", text())],
        regular: &view_columns,
    }
    .build(p("view definitions"));
    let types = Def {
        keyspace: ks,
        name: "types",
        partition_key: &[("keyspace_name", text())],
        clustering: &[("type_name", text())],
        regular: &[
            ("field_names", frozen_text_list()),
            ("field_types", frozen_text_list()),
        ],
    }
    .build(p("user defined type definitions"));
    let functions = Def {
        keyspace: ks,
        name: "functions",
        partition_key: &[("keyspace_name", text())],
        clustering: &[
            ("function_name", text()),
            ("argument_types", frozen_text_list()),
        ],
        regular: &[
            ("argument_names", frozen_text_list()),
            ("body", text()),
            ("language", text()),
            ("return_type", text()),
            ("called_on_null_input", CqlType::Boolean),
        ],
    }
    .build(p("user defined function definitions"));
    let aggregates = Def {
        keyspace: ks,
        name: "aggregates",
        partition_key: &[("keyspace_name", text())],
        clustering: &[
            ("aggregate_name", text()),
            ("argument_types", frozen_text_list()),
        ],
        regular: &[
            ("final_func", text()),
            ("initcond", text()),
            ("return_type", text()),
            ("state_func", text()),
            ("state_type", text()),
        ],
    }
    .build(p("user defined aggregate definitions"));
    let indexes = Def {
        keyspace: ks,
        name: "indexes",
        partition_key: &[("keyspace_name", text())],
        clustering: &[("table_name", text()), ("index_name", text())],
        regular: &[("kind", text()), ("options", frozen_text_map())],
    }
    .build(p("secondary index definitions"));
    keyspace(
        SYSTEM_SCHEMA,
        Replication::Local,
        vec![
            keyspaces,
            tables,
            columns,
            column_masks,
            dropped_columns,
            triggers,
            views,
            types,
            functions,
            aggregates,
            indexes,
        ],
    )
}

/// The `system_auth` keyspace.
pub fn system_auth_keyspace() -> KeyspaceSchema {
    let p = |comment: &str| params(comment, NINETY_DAYS_SECS, 0);
    let ks = SYSTEM_AUTH;
    let roles = Def {
        keyspace: ks,
        name: "roles",
        partition_key: &[("role", text())],
        clustering: &[],
        regular: &[
            ("is_superuser", CqlType::Boolean),
            ("can_login", CqlType::Boolean),
            ("salted_hash", text()),
            ("member_of", set_of(text())),
        ],
    }
    .build(p("role definitions"));
    let role_members = Def {
        keyspace: ks,
        name: "role_members",
        partition_key: &[("role", text())],
        clustering: &[("member", text())],
        regular: &[],
    }
    .build(p("role memberships lookup table"));
    let role_permissions = Def {
        keyspace: ks,
        name: "role_permissions",
        partition_key: &[("role", text())],
        clustering: &[("resource", text())],
        regular: &[("permissions", set_of(text()))],
    }
    .build(p("permissions granted to db roles"));
    let resource_index = Def {
        keyspace: ks,
        name: "resource_role_permissons_index",
        partition_key: &[("resource", text())],
        clustering: &[("role", text())],
        regular: &[],
    }
    .build(p(
        "index of db roles with permissions granted on a resource",
    ));
    let network_permissions = Def {
        keyspace: ks,
        name: "network_permissions",
        partition_key: &[("role", text())],
        clustering: &[],
        regular: &[("dcs", frozen(set_of(text())))],
    }
    .build(p("user network permissions"));
    keyspace(
        SYSTEM_AUTH,
        Replication::Simple {
            replication_factor: 1,
        },
        vec![
            roles,
            role_members,
            role_permissions,
            resource_index,
            network_permissions,
        ],
    )
}

/// The `system_distributed` keyspace.
pub fn system_distributed_keyspace() -> KeyspaceSchema {
    let p = |comment: &str| params(comment, 864_000, 0);
    let ks = SYSTEM_DISTRIBUTED;
    let repair_history = Def {
        keyspace: ks,
        name: "repair_history",
        partition_key: &[("keyspace_name", text()), ("columnfamily_name", text())],
        clustering: &[("id", CqlType::Timeuuid)],
        regular: &[
            ("parent_id", CqlType::Timeuuid),
            ("range_begin", text()),
            ("range_end", text()),
            ("coordinator", CqlType::Inet),
            ("coordinator_port", CqlType::Int),
            ("participants", set_of(CqlType::Inet)),
            ("participants_v2", set_of(text())),
            ("exception_message", text()),
            ("exception_stacktrace", text()),
            ("status", text()),
            ("started_at", CqlType::Timestamp),
            ("finished_at", CqlType::Timestamp),
        ],
    }
    .build(p("Repair history"));
    let parent_repair_history = Def {
        keyspace: ks,
        name: "parent_repair_history",
        partition_key: &[("parent_id", CqlType::Timeuuid)],
        clustering: &[],
        regular: &[
            ("keyspace_name", text()),
            ("columnfamily_names", set_of(text())),
            ("started_at", CqlType::Timestamp),
            ("finished_at", CqlType::Timestamp),
            ("exception_message", text()),
            ("exception_stacktrace", text()),
            ("requested_ranges", set_of(text())),
            ("successful_ranges", set_of(text())),
            ("options", map_of(text(), text())),
        ],
    }
    .build(p("Repair history"));
    let view_build_status = Def {
        keyspace: ks,
        name: "view_build_status",
        partition_key: &[("keyspace_name", text()), ("view_name", text())],
        clustering: &[("host_id", CqlType::Uuid)],
        regular: &[("status", text())],
    }
    .build(p("Materialized View build status"));
    let partition_denylist = Def {
        keyspace: ks,
        name: "partition_denylist",
        partition_key: &[("ks_name", text()), ("table_name", text())],
        clustering: &[("key", CqlType::Blob)],
        regular: &[],
    }
    .build(p("Partition keys which have been denied access"));
    keyspace(
        SYSTEM_DISTRIBUTED,
        Replication::Simple {
            replication_factor: 3,
        },
        vec![
            repair_history,
            parent_repair_history,
            view_build_status,
            partition_denylist,
        ],
    )
}

/// The `system_traces` keyspace.
pub fn system_traces_keyspace() -> KeyspaceSchema {
    let p = |comment: &str| params(comment, 0, 0);
    let ks = SYSTEM_TRACES;
    let sessions = Def {
        keyspace: ks,
        name: "sessions",
        partition_key: &[("session_id", CqlType::Uuid)],
        clustering: &[],
        regular: &[
            ("command", text()),
            ("client", CqlType::Inet),
            ("coordinator", CqlType::Inet),
            ("coordinator_port", CqlType::Int),
            ("duration", CqlType::Int),
            ("parameters", map_of(text(), text())),
            ("request", text()),
            ("started_at", CqlType::Timestamp),
        ],
    }
    .build(p("tracing sessions"));
    let events = Def {
        keyspace: ks,
        name: "events",
        partition_key: &[("session_id", CqlType::Uuid)],
        clustering: &[("event_id", CqlType::Timeuuid)],
        regular: &[
            ("activity", text()),
            ("source", CqlType::Inet),
            ("source_port", CqlType::Int),
            ("source_elapsed", CqlType::Int),
            ("thread", text()),
        ],
    }
    .build(p("tracing events"));
    keyspace(
        SYSTEM_TRACES,
        Replication::Simple {
            replication_factor: 2,
        },
        vec![sessions, events],
    )
}

/// The virtual `system_virtual_schema` keyspace.
pub fn system_virtual_schema_keyspace() -> KeyspaceSchema {
    let p = |comment: &str| params(comment, 864_000, 0);
    let ks = SYSTEM_VIRTUAL_SCHEMA;
    let keyspaces = Def {
        keyspace: ks,
        name: "keyspaces",
        partition_key: &[("keyspace_name", text())],
        clustering: &[],
        regular: &[],
    }
    .build(p("virtual keyspace definitions"));
    let tables = Def {
        keyspace: ks,
        name: "tables",
        partition_key: &[("keyspace_name", text())],
        clustering: &[("table_name", text())],
        regular: &[("comment", text())],
    }
    .build(p("virtual table definitions"));
    let columns = Def {
        keyspace: ks,
        name: "columns",
        partition_key: &[("keyspace_name", text())],
        clustering: &[("table_name", text()), ("column_name", text())],
        regular: &[
            ("clustering_order", text()),
            ("column_name_bytes", CqlType::Blob),
            ("kind", text()),
            ("position", CqlType::Int),
            ("type", text()),
        ],
    }
    .build(p("virtual column definitions"));
    keyspace(
        SYSTEM_VIRTUAL_SCHEMA,
        Replication::Local,
        vec![keyspaces, tables, columns],
    )
}

/// The virtual `system_views` keyspace: what this node sees (Cassandra's names).
pub fn system_views_keyspace() -> KeyspaceSchema {
    let pending_hints = Def {
        keyspace: SYSTEM_VIEWS,
        name: "pending_hints",
        partition_key: &[("host_id", CqlType::Uuid)],
        clustering: &[],
        regular: &[
            ("address", CqlType::Inet),
            ("port", CqlType::Int),
            ("rack", text()),
            ("dc", text()),
            ("status", text()),
            ("files", CqlType::Int),
            ("newest", CqlType::Timestamp),
            ("oldest", CqlType::Timestamp),
            ("total_hints", CqlType::Bigint),
            ("total_size", CqlType::Bigint),
        ],
    }
    .build(params("hints this node holds for other nodes", 0, 0));
    keyspace(SYSTEM_VIEWS, Replication::Local, vec![pending_hints])
}

/// Every system keyspace this crate models.
pub fn system_keyspaces() -> Vec<KeyspaceSchema> {
    vec![
        system_views_keyspace(),
        system_keyspace(),
        system_schema_keyspace(),
        system_auth_keyspace(),
        system_distributed_keyspace(),
        system_traces_keyspace(),
        system_virtual_schema_keyspace(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert!(is_local_system_keyspace("System"));
        assert!(is_replicated_system_keyspace("system_auth"));
        assert!(is_virtual_keyspace("system_views"));
        assert!(is_system_keyspace("system_traces"));
        assert!(!is_system_keyspace("systemx"));
        assert!(is_builtin_keyspace("system_auth"));
        assert!(!is_builtin_keyspace("System_Auth"));
    }

    #[test]
    fn tables_are_well_formed() {
        for ks in system_keyspaces() {
            for (name, t) in &ks.tables {
                assert_eq!(name, &t.name);
                assert_eq!(t.keyspace, ks.metadata.name);
                assert_eq!(t.id, system_table_id(&t.keyspace, &t.name));
                assert!(!t.partition_key_columns().is_empty(), "{name}");
                let mut names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                assert_eq!(names.len(), t.columns.len(), "{name}");
                assert_eq!(t.is_virtual, ks.is_virtual());
            }
        }
        let local = system_keyspace();
        let local = local.tables.get("local").expect("system.local");
        assert_eq!(local.partition_key_columns()[0].name, "key",);
        assert_eq!(local.params.gc_grace_seconds, 0);
        let schema = system_schema_keyspace();
        let columns = schema.tables.get("columns").expect("system_schema.columns");
        let clustering: Vec<&str> = columns
            .clustering_columns()
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(clustering, vec!["table_name", "column_name"]);
    }
}
