//! Schema statements keep storage in sync: tables get storage with the schema's id and
//! clustering order, lose it when dropped (alone or with their keyspace), keep it when a
//! change fails, follow user type changes, are emptied by `TRUNCATE`, and everything
//! survives a restart.

mod ddl_support;

use std::collections::BTreeSet;

use bytes::Bytes;
use ddl_support::{TestNode, CREATE_KS};
use meridian_query::{ddl, QueryError, QueryResult};
use meridian_storage::Engine;
use meridian_types::model::{
    Cell, Clustering, ColumnId, LivenessInfo, Mutation, Partition, PartitionUpdate, Row, Slice,
    TableId,
};
use meridian_types::token::PartitionKey;

fn storage_ids(engine: &Engine) -> BTreeSet<TableId> {
    engine.table_ids().into_iter().collect()
}

fn table_id(n: &TestNode, ks: &str, t: &str) -> TableId {
    n.node.schema().table(ks, t).expect("table exists").id
}

fn key(k: &[u8]) -> PartitionKey {
    PartitionKey::new(Bytes::copy_from_slice(k))
}

/// Writes one live row with one cell straight into storage.
fn write(engine: &Engine, table: TableId, k: &[u8], value: &[u8]) {
    let ts = 1_000;
    let mut row = Row::new(Clustering::EMPTY);
    row.liveness = Some(LivenessInfo::live(ts));
    row.set_cell(ColumnId(1), Cell::live(ts, Bytes::copy_from_slice(value)));
    engine
        .apply(Mutation {
            updates: vec![PartitionUpdate {
                table,
                key: key(k),
                partition: Partition {
                    rows: vec![row],
                    ..Partition::new()
                },
            }],
        })
        .expect("write");
}

fn has_data(engine: &Engine, table: TableId, k: &[u8]) -> bool {
    engine
        .read(table, &key(k), &[Slice::ALL])
        .expect("read")
        .is_some_and(|p| !p.rows.is_empty())
}

#[test]
fn every_stored_schema_table_has_storage() {
    let n = TestNode::new();
    let schema = n.node.schema();
    let expected: BTreeSet<TableId> = schema
        .keyspaces()
        .values()
        .flat_map(|ks| ks.tables.values())
        .filter(|t| !t.is_virtual)
        .map(|t| t.id)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(storage_ids(&n.node.engine), expected);
    // Virtual tables have none.
    let virtual_id = schema
        .table("system_virtual_schema", "keyspaces")
        .expect("virtual table")
        .id;
    assert!(!storage_ids(&n.node.engine).contains(&virtual_id));
}

#[test]
fn create_and_drop_table_follow_schema() {
    let n = TestNode::new();
    n.ok(CREATE_KS);
    n.ok("CREATE TABLE ks.t (k int, c text, d int, v blob, PRIMARY KEY (k, c, d)) WITH CLUSTERING ORDER BY (c DESC, d ASC)");
    let id = table_id(&n, "ks", "t");
    assert!(storage_ids(&n.node.engine).contains(&id));
    let table = n.node.schema().table("ks", "t").cloned().unwrap();
    assert_eq!(
        n.node.engine.comparator(id).expect("storage table"),
        table.clustering_comparator()
    );
    assert_eq!(n.ok("DROP TABLE ks.t"), n_dropped("t"));
    assert!(!storage_ids(&n.node.engine).contains(&id));

    // Recreating the table gives it a new id and fresh storage.
    n.ok("CREATE TABLE ks.t (k int PRIMARY KEY)");
    let new_id = table_id(&n, "ks", "t");
    assert_ne!(new_id, id);
    assert!(storage_ids(&n.node.engine).contains(&new_id));
}

fn n_dropped(table: &str) -> QueryResult {
    QueryResult::SchemaChange(meridian_cql_protocol::SchemaChange {
        change_type: meridian_cql_protocol::SchemaChangeType::Dropped,
        target: meridian_cql_protocol::SchemaChangeTarget::Table {
            keyspace: "ks".into(),
            table: table.into(),
        },
    })
}

#[test]
fn drop_keyspace_drops_its_tables_storage() {
    let n = TestNode::new();
    n.ok(CREATE_KS);
    n.ok("CREATE TABLE ks.a (k int PRIMARY KEY)");
    n.ok("CREATE TABLE ks.b (k int PRIMARY KEY)");
    let a = table_id(&n, "ks", "a");
    let b = table_id(&n, "ks", "b");
    let before = storage_ids(&n.node.engine);
    assert!(before.contains(&a) && before.contains(&b));
    n.ok("DROP KEYSPACE ks");
    let after = storage_ids(&n.node.engine);
    assert!(!after.contains(&a) && !after.contains(&b));
    assert_eq!(after.len(), before.len() - 2);
}

#[test]
fn failed_changes_leave_storage_alone() {
    let n = TestNode::new();
    n.ok(CREATE_KS);
    let before = storage_ids(&n.node.engine);
    let version = n.node.schema().version();
    // The schema accepts the unified strategy; storage does not implement it.
    let e = n.err("CREATE TABLE ks.t (k int PRIMARY KEY) WITH compaction = {'class': 'UnifiedCompactionStrategy'}");
    assert!(matches!(e, QueryError::Config(_)), "{e:?}");
    assert!(e.to_string().contains("is not supported"), "{e}");
    assert!(n.node.schema().table("ks", "t").is_none());
    assert_eq!(storage_ids(&n.node.engine), before);
    // A refused counter table leaves nothing behind either.
    n.err("CREATE TABLE ks.c (k int PRIMARY KEY, n counter)");
    assert_eq!(storage_ids(&n.node.engine), before);
    assert_eq!(n.node.schema().version(), version);

    n.ok("CREATE TABLE ks.t (k int PRIMARY KEY)");
    let e = n.err("ALTER TABLE ks.t WITH compaction = {'class': 'UnifiedCompactionStrategy'}");
    assert!(matches!(e, QueryError::Config(_)), "{e:?}");
    let t = n.node.schema().table("ks", "t").cloned().unwrap();
    assert!(t.params.compaction["class"].ends_with("SizeTieredCompactionStrategy"));
    // A valid change of strategy is accepted.
    n.ok("ALTER TABLE ks.t WITH compaction = {'class': 'LeveledCompactionStrategy'} AND gc_grace_seconds = 10");
    let t = n.node.schema().table("ks", "t").cloned().unwrap();
    assert!(t.params.compaction["class"].ends_with("LeveledCompactionStrategy"));
    assert_eq!(t.params.gc_grace_seconds, 10);
}

#[test]
fn altered_user_types_reach_the_storage_comparator() {
    let n = TestNode::new();
    n.ok(CREATE_KS);
    n.ok("CREATE TYPE ks.point (x int)");
    n.ok("CREATE TABLE ks.t (k int, p frozen<point>, PRIMARY KEY (k, p))");
    let id = table_id(&n, "ks", "t");
    n.ok("ALTER TYPE ks.point ADD y int");
    let table = n.node.schema().table("ks", "t").cloned().unwrap();
    let comparator = n.node.engine.comparator(id).unwrap();
    assert_eq!(comparator, table.clustering_comparator());
    // The comparator now knows the new field.
    assert!(
        format!("{comparator:?}").contains("\"y\""),
        "{comparator:?}"
    );
}

#[test]
fn truncate_removes_data() {
    let n = TestNode::new();
    n.ok(CREATE_KS);
    n.ok("CREATE TABLE ks.t (k blob PRIMARY KEY, v blob)");
    let id = table_id(&n, "ks", "t");
    write(&n.node.engine, id, b"a", b"1");
    write(&n.node.engine, id, b"b", b"2");
    assert!(has_data(&n.node.engine, id, b"a"));
    assert_eq!(n.ok("TRUNCATE ks.t"), QueryResult::Void);
    assert!(!has_data(&n.node.engine, id, b"a"));
    assert!(!has_data(&n.node.engine, id, b"b"));
    // The table still works.
    write(&n.node.engine, id, b"c", b"3");
    assert!(has_data(&n.node.engine, id, b"c"));
    n.ok("USE ks");
    assert_eq!(n.ok("TRUNCATE TABLE t"), QueryResult::Void);
    assert!(!has_data(&n.node.engine, id, b"c"));

    assert_eq!(
        n.err("TRUNCATE ks.nope"),
        QueryError::Invalid("table nope does not exist".into())
    );
    assert_eq!(
        n.err("TRUNCATE nope.t"),
        QueryError::Invalid("keyspace nope does not exist".into())
    );
    assert_eq!(
        n.err("TRUNCATE system_virtual_schema.keyspaces"),
        QueryError::Invalid(
            "Truncation is not supported by table system_virtual_schema.keyspaces".into()
        )
    );
}

#[test]
fn schema_and_data_survive_a_restart() {
    let n = TestNode::new();
    n.ok(CREATE_KS);
    n.ok("CREATE TYPE ks.addr (street text, zip int)");
    n.ok("CREATE TABLE ks.t (k blob PRIMARY KEY, v blob, a frozen<addr>) WITH comment = 'kept'");
    n.ok("CREATE TABLE ks.gone (k int PRIMARY KEY)");
    n.ok("ALTER TABLE ks.t DROP a");
    n.ok("DROP TABLE ks.gone");
    let id = table_id(&n, "ks", "t");
    write(&n.node.engine, id, b"k1", b"v1");
    n.node.engine.flush_all().expect("flush");
    let schema = n.node.schema();
    let version = schema.version();

    let n = n.reopen();
    let reopened = n.node.schema();
    assert_eq!(reopened.version(), version);
    assert_eq!(reopened.keyspace("ks"), schema.keyspace("ks"));
    assert_eq!(reopened.table("ks", "t").unwrap().params.comment, "kept");
    assert!(reopened
        .table("ks", "t")
        .unwrap()
        .dropped_columns
        .contains_key("a"));
    assert!(reopened.table("ks", "gone").is_none());
    assert!(storage_ids(&n.node.engine).contains(&id));
    assert!(has_data(&n.node.engine, id, b"k1"));

    // DDL keeps working after the restart, and IF NOT EXISTS sees the old objects.
    assert_eq!(
        n.ok("CREATE TABLE IF NOT EXISTS ks.t (k int PRIMARY KEY)"),
        QueryResult::Void
    );
    n.ok("CREATE TABLE ks.t2 (k int PRIMARY KEY)");
    assert!(storage_ids(&n.node.engine).contains(&table_id(&n, "ks", "t2")));
}

#[test]
fn sync_creates_missing_storage() {
    let n = TestNode::new();
    n.ok(CREATE_KS);
    n.ok("CREATE TABLE ks.t (k int PRIMARY KEY)");
    let id = table_id(&n, "ks", "t");
    // Storage lost the table (e.g. opened without it): syncing brings it back.
    n.node.engine.drop_table(id).expect("drop storage");
    assert!(!storage_ids(&n.node.engine).contains(&id));
    ddl::sync_storage_tables(&n.node).expect("sync");
    assert!(storage_ids(&n.node.engine).contains(&id));
    // Syncing again is harmless.
    ddl::sync_storage_tables(&n.node).expect("sync again");
    let options = ddl::storage_tables(&n.node.schema()).expect("options");
    assert_eq!(options.len(), storage_ids(&n.node.engine).len());
}

#[test]
fn schema_version_tracks_changes() {
    let n = TestNode::new();
    let v0 = n.node.schema().version();
    n.ok(CREATE_KS);
    let v1 = n.node.schema().version();
    assert_ne!(v0, v1);
    // A no-op leaves it unchanged.
    n.ok("CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    assert_eq!(n.node.schema().version(), v1);
    n.ok("CREATE TABLE ks.t (k int PRIMARY KEY)");
    assert_ne!(n.node.schema().version(), v1);
}
