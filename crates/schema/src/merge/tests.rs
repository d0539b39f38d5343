//! Tests of schema merging: the lattice properties (commutative, associative, idempotent)
//! over schemas built by random DDL on several replicas with random exchanges, and the
//! semantics of each kind of conflict.

use meridian_types::cql_type::CqlType;
use meridian_types::model::{ClusteringOrder, TableId};
use proptest::prelude::*;

use super::*;
use crate::ddl::{
    AlterKeyspace, AlterTableOp, AlterTypeOp, ClusterTopology, ColumnDef, CreateKeyspace,
    CreateTable, CreateType, DdlOutcome,
};
use crate::params::OptionValue;

fn replication(rf: u32) -> Vec<(String, OptionValue)> {
    vec![(
        "replication".into(),
        OptionValue::Map(vec![
            ("class".into(), "SimpleStrategy".into()),
            ("replication_factor".into(), rf.to_string()),
        ]),
    )]
}

fn create_keyspace(s: &mut Schema, name: &str, rf: u32) -> Result<DdlOutcome, SchemaError> {
    s.create_keyspace(
        &CreateKeyspace {
            name: name.into(),
            if_not_exists: false,
            properties: replication(rf),
        },
        &ClusterTopology::default(),
    )
}

fn alter_keyspace(s: &mut Schema, name: &str, rf: u32) -> Result<DdlOutcome, SchemaError> {
    s.alter_keyspace(
        &AlterKeyspace {
            name: name.into(),
            if_exists: false,
            properties: replication(rf),
        },
        &ClusterTopology::default(),
    )
}

fn col(name: &str, ty: CqlType) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        ty,
        is_static: false,
    }
}

/// `CREATE TABLE ks.name (k int, c int, <columns>, PRIMARY KEY (k, c))`.
fn create_table(
    s: &mut Schema,
    ks: &str,
    name: &str,
    columns: Vec<ColumnDef>,
    id: u128,
) -> Result<DdlOutcome, SchemaError> {
    let mut all = vec![col("k", CqlType::Int), col("c", CqlType::Int)];
    all.extend(columns);
    s.create_table(
        &CreateTable {
            keyspace: ks.into(),
            name: name.into(),
            if_not_exists: false,
            columns: all,
            partition_key: vec!["k".into()],
            clustering_key: vec!["c".into()],
            clustering_order: vec![("c".into(), ClusteringOrder::Asc)],
            properties: vec![],
            compact_storage: false,
        },
        TableId(uuid::Uuid::from_u128(id)),
    )
}

fn add_column(s: &mut Schema, ks: &str, t: &str, c: ColumnDef) -> Result<DdlOutcome, SchemaError> {
    s.alter_table(
        ks,
        t,
        false,
        &AlterTableOp::AddColumns {
            if_not_exists: false,
            columns: vec![c],
        },
    )
}

fn drop_column(s: &mut Schema, ks: &str, t: &str, c: &str) -> Result<DdlOutcome, SchemaError> {
    s.alter_table(
        ks,
        t,
        false,
        &AlterTableOp::DropColumns {
            if_exists: false,
            columns: vec![c.into()],
            timestamp_micros: 1_000,
        },
    )
}

fn set_comment(s: &mut Schema, ks: &str, t: &str, c: &str) -> Result<DdlOutcome, SchemaError> {
    s.alter_table(
        ks,
        t,
        false,
        &AlterTableOp::SetOptions(vec![("comment".into(), OptionValue::Text(c.into()))]),
    )
}

fn rename_key(
    s: &mut Schema,
    ks: &str,
    t: &str,
    from: &str,
    to: &str,
) -> Result<DdlOutcome, SchemaError> {
    s.alter_table(
        ks,
        t,
        false,
        &AlterTableOp::RenameColumns {
            if_exists: false,
            renames: vec![(from.into(), to.into())],
        },
    )
}

fn create_type(
    s: &mut Schema,
    ks: &str,
    name: &str,
    fields: Vec<(&str, CqlType)>,
) -> Result<DdlOutcome, SchemaError> {
    s.create_type(&CreateType {
        keyspace: ks.into(),
        name: name.into(),
        if_not_exists: false,
        fields: fields.into_iter().map(|(n, t)| (n.into(), t)).collect(),
    })
}

fn add_field(
    s: &mut Schema,
    ks: &str,
    ty: &str,
    field: &str,
    t: CqlType,
) -> Result<DdlOutcome, SchemaError> {
    s.alter_type(
        ks,
        ty,
        false,
        &AlterTypeOp::AddField {
            if_not_exists: false,
            name: field.into(),
            ty: t,
        },
    )
}

/// A schema with keyspace `ks` (RF 1) at time `at`.
fn with_keyspace(at: i64) -> Schema {
    let mut s = Schema::new();
    s.observe_time(at);
    create_keyspace(&mut s, "ks", 1).expect("ks");
    s
}

fn merged(a: &Schema, b: &Schema) -> Schema {
    let ab = a.merge(b).expect("merge");
    let ba = b.merge(a).expect("merge");
    assert_eq!(ab, ba, "merge is commutative");
    assert_eq!(ab.version(), ba.version());
    ab
}

fn column_names(s: &Schema, ks: &str, t: &str) -> Vec<String> {
    s.table(ks, t)
        .map(|t| t.columns().iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn changes_are_stamped_with_a_strictly_increasing_clock() {
    let mut s = Schema::new();
    assert_eq!(s.last_change_micros(), 0);
    create_keyspace(&mut s, "ks", 1).expect("ks");
    // No time reported: a logical clock.
    assert_eq!(s.keyspace("ks").map(|k| k.timestamp_micros), Some(1));
    s.observe_time(1_000);
    create_table(&mut s, "ks", "t", vec![col("v", CqlType::Text)], 1).expect("t");
    let stamps = s.keyspace("ks").expect("ks").table_stamps_of("t");
    assert_eq!(stamps.created_micros, 1_000);
    assert_eq!(stamps.last_change_micros(), 1_000);
    // The clock did not move: the next change is still newer than everything.
    set_comment(&mut s, "ks", "t", "x").expect("comment");
    let stamps = s.keyspace("ks").expect("ks").table_stamps_of("t");
    assert_eq!(
        (stamps.created_micros, stamps.params_micros),
        (1_000, 1_001)
    );
    create_type(&mut s, "ks", "u", vec![("a", CqlType::Int)]).expect("u");
    assert_eq!(
        s.user_type("ks", "u").map(|u| u.timestamp_micros),
        Some(1_002)
    );
    s.drop_table("ks", "t", false).expect("drop");
    let tombstone = &s.tombstones().tables[&("ks".to_string(), "t".to_string())];
    assert_eq!(tombstone.dropped_micros, 1_003);
    assert_eq!(tombstone.id, TableId(uuid::Uuid::from_u128(1)));
    assert_eq!(s.last_change_micros(), 1_003);
    // A no-op changes nothing, not even the clock.
    assert_eq!(
        s.drop_table("ks", "t", true).expect("if exists"),
        DdlOutcome::Unchanged
    );
    assert_eq!(s.last_change_micros(), 1_003);
}

#[test]
fn timestamps_and_tombstones_persist_and_old_files_load() {
    let mut s = with_keyspace(10);
    create_type(&mut s, "ks", "u", vec![("a", CqlType::Int)]).expect("u");
    create_table(&mut s, "ks", "t", vec![col("v", CqlType::Text)], 1).expect("t");
    create_table(&mut s, "ks", "gone", vec![], 2).expect("gone");
    add_column(&mut s, "ks", "t", col("w", CqlType::Int)).expect("w");
    drop_column(&mut s, "ks", "t", "v").expect("drop v");
    rename_key(&mut s, "ks", "t", "k", "key").expect("rename");
    s.drop_table("ks", "gone", false).expect("drop gone");
    create_keyspace(&mut s, "old", 1).expect("old");
    create_type(&mut s, "old", "p", vec![("x", CqlType::Int)]).expect("p");
    s.drop_keyspace("old", false).expect("drop old");
    let back = Schema::from_persisted(&s.to_persisted()).expect("loads");
    assert_eq!(back, s);
    assert_eq!(back.version(), s.version());
    assert_eq!(back.last_change_micros(), s.last_change_micros());
    assert_eq!(back.tombstones().keyspaces.len(), 1);
    assert!(
        back.tombstones().types[&("old".to_string(), "p".to_string())]
            .hidden
            .is_some()
    );

    // A file from before timestamps: no stamps, no tombstones; everything at time 0.
    let mut json: serde_json::Value = serde_json::from_slice(&s.to_persisted()).expect("json");
    if let Some(obj) = json.as_object_mut() {
        obj.remove("tombstones");
    }
    for ks in json["keyspaces"].as_array_mut().expect("keyspaces") {
        if let Some(obj) = ks.as_object_mut() {
            obj.remove("timestamp_micros");
        }
        for t in ks["tables"].as_array_mut().expect("tables") {
            if let Some(obj) = t.as_object_mut() {
                obj.remove("stamps");
            }
        }
        for t in ks["types"].as_array_mut().expect("types") {
            if let Some(obj) = t.as_object_mut() {
                obj.remove("timestamp_micros");
            }
        }
    }
    let old = Schema::from_persisted(&serde_json::to_vec(&json).expect("json")).expect("old file");
    assert_eq!(
        old.version(),
        s.version(),
        "timestamps are not part of the version"
    );
    assert_ne!(old, s);
    assert_eq!(old.last_change_micros(), 0);
    assert_eq!(old.keyspace("ks").map(|k| k.timestamp_micros), Some(0));
    assert!(old.tombstones().keyspaces.is_empty());
    // Anything stamped beats the unstamped old schema.
    let m = merged(&old, &s);
    assert_eq!(m, s.merge(&s).expect("self merge"));
}

#[test]
fn corrupt_tombstones_are_refused() {
    let mut s = with_keyspace(10);
    create_table(&mut s, "ks", "t", vec![], 1).expect("t");
    s.drop_table("ks", "t", false).expect("drop");
    let json: serde_json::Value = serde_json::from_slice(&s.to_persisted()).expect("json");
    let refuse = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = json.clone();
        edit(&mut v);
        let bytes = serde_json::to_vec(&v).expect("json");
        assert!(
            matches!(
                Schema::from_persisted(&bytes),
                Err(SchemaError::Corrupt { .. })
            ),
            "{v}"
        );
    };
    refuse(&|v| v["tombstones"]["tables"][0]["keyspace"] = "system".into());
    refuse(&|v| v["tombstones"]["tables"][0]["id"] = "nope".into());
    refuse(&|v| {
        let t = v["tombstones"]["tables"][0].clone();
        v["tombstones"]["tables"]
            .as_array_mut()
            .expect("tables")
            .push(t);
    });
    refuse(&|v| {
        v["tombstones"]["keyspaces"] = serde_json::json!([{
            "name": "ks", "dropped_micros": 1,
            "hidden": {"timestamp_micros": 0, "replication": {"class": "org.apache.cassandra.locator.SimpleStrategy", "replication_factor": "1"}, "durable_writes": true}
        }])
    });
    refuse(&|v| v["tombstones"]["types"] = serde_json::json!([{"keyspace": "ks", "name": "u"}]));
    refuse(&|v| {
        v["tombstones"]["types"] = serde_json::json!([{
            "keyspace": "ks", "name": "u", "hidden": {"fields": [["a", "map<int"]], "timestamp_micros": 1}
        }])
    });
    refuse(&|v| {
        v["keyspaces"][0]["tables"] = serde_json::json!([{
            "name": "t", "id": "00000000-0000-0000-0000-000000000009",
            "columns": [{"name": "k", "id": 0, "ty": "int", "kind": {"PartitionKey": {"position": 0}}}],
            "params": v["keyspaces"][1]["tables"][0]["params"].clone(),
            "dropped_columns": [], "next_column_id": 1,
            "stamps": {"columns": [[0, 5]]}
        }]);
    });
}

#[test]
fn a_new_node_takes_everything() {
    let mut a = with_keyspace(100);
    create_type(&mut a, "ks", "u", vec![("a", CqlType::Int)]).expect("u");
    let u = a.parse_type("ks", "frozen<u>").expect("u");
    create_table(&mut a, "ks", "t", vec![col("v", u)], 1).expect("t");
    let b = Schema::new();
    let m = merged(&a, &b);
    assert_eq!(m, a.merge(&a).expect("self"));
    assert_eq!(m.version(), a.version());
    let mut b2 = Schema::new();
    let outcome = b2.merge_from(&a).expect("merge");
    assert!(outcome.changed);
    assert_eq!(
        outcome.created_tables,
        vec![TableId(uuid::Uuid::from_u128(1))]
    );
    let events: Vec<(ChangeType, ChangeTarget, Option<String>)> = outcome
        .events
        .iter()
        .map(|e| (e.change, e.target, e.name.clone()))
        .collect();
    assert_eq!(
        events,
        vec![
            (ChangeType::Created, ChangeTarget::Keyspace, None),
            (ChangeType::Created, ChangeTarget::Type, Some("u".into())),
            (ChangeType::Created, ChangeTarget::Table, Some("t".into())),
        ]
    );
    // Merging again changes nothing.
    let again = b2.merge_from(&a).expect("merge");
    assert_eq!(again, MergeOutcome::default());
}

#[test]
fn concurrent_creates_of_one_table_converge_on_the_later() {
    let base = with_keyspace(100);
    let (mut a, mut b) = (base.clone(), base);
    a.observe_time(200);
    b.observe_time(300);
    create_table(&mut a, "ks", "t", vec![col("a_only", CqlType::Int)], 1).expect("a");
    create_table(&mut b, "ks", "t", vec![col("b_only", CqlType::Text)], 2).expect("b");
    // A keeps altering its table: still the earlier creation.
    a.observe_time(400);
    add_column(&mut a, "ks", "t", col("more", CqlType::Int)).expect("more");
    let m = merged(&a, &b);
    let t = m.table("ks", "t").expect("t");
    assert_eq!(t.id, TableId(uuid::Uuid::from_u128(2)));
    assert_eq!(column_names(&m, "ks", "t"), vec!["k", "c", "b_only"]);
    let mut a2 = a.clone();
    let outcome = a2.merge_from(&b).expect("merge");
    assert_eq!(
        outcome.created_tables,
        vec![TableId(uuid::Uuid::from_u128(2))]
    );
    assert_eq!(
        outcome.dropped_tables,
        vec![TableId(uuid::Uuid::from_u128(1))]
    );
    assert!(outcome
        .events
        .iter()
        .any(|e| e.change == ChangeType::Dropped));
    assert!(outcome
        .events
        .iter()
        .any(|e| e.change == ChangeType::Created));
    // Equal creation times: the larger id wins.
    let base = with_keyspace(100);
    let (mut a, mut b) = (base.clone(), base);
    create_table(&mut a, "ks", "t", vec![], 7).expect("a");
    create_table(&mut b, "ks", "t", vec![], 5).expect("b");
    let m = merged(&a, &b);
    assert_eq!(
        m.table("ks", "t").map(|t| t.id),
        Some(TableId(uuid::Uuid::from_u128(7)))
    );
}

#[test]
fn concurrent_alters_of_different_columns_both_stay() {
    let mut base = with_keyspace(100);
    create_table(&mut base, "ks", "t", vec![col("v", CqlType::Text)], 1).expect("t");
    let (mut a, mut b) = (base.clone(), base);
    a.observe_time(200);
    b.observe_time(210);
    add_column(&mut a, "ks", "t", col("x", CqlType::Int)).expect("x");
    set_comment(&mut a, "ks", "t", "from a").expect("comment a");
    add_column(&mut b, "ks", "t", col("y", CqlType::Text)).expect("y");
    drop_column(&mut b, "ks", "t", "v").expect("drop v");
    set_comment(&mut b, "ks", "t", "from b").expect("comment b");
    let m = merged(&a, &b);
    let t = m.table("ks", "t").expect("t");
    assert_eq!(column_names(&m, "ks", "t"), vec!["k", "c", "x", "y"]);
    assert_eq!(t.params.comment, "from b", "options: last write wins");
    assert!(t.dropped_columns.contains_key("v"));
    // The same column added on both nodes gets the same id and stays one column.
    let (mut a2, mut b2) = (m.clone(), m.clone());
    a2.observe_time(500);
    b2.observe_time(600);
    add_column(&mut a2, "ks", "t", col("z", CqlType::Int)).expect("z a");
    add_column(&mut b2, "ks", "t", col("z", CqlType::Int)).expect("z b");
    let za = a2
        .table("ks", "t")
        .and_then(|t| t.column("z"))
        .map(|c| c.id);
    let zb = b2
        .table("ks", "t")
        .and_then(|t| t.column("z"))
        .map(|c| c.id);
    assert_eq!(za, zb);
    let m2 = merged(&a2, &b2);
    assert_eq!(column_names(&m2, "ks", "t"), vec!["k", "c", "x", "y", "z"]);
    // The same name with different types: the later addition wins, with its own id.
    let (mut a3, mut b3) = (m.clone(), m);
    a3.observe_time(700);
    b3.observe_time(650);
    add_column(&mut a3, "ks", "t", col("w", CqlType::Text)).expect("w a");
    add_column(&mut b3, "ks", "t", col("w", CqlType::Int)).expect("w b");
    let m3 = merged(&a3, &b3);
    let w = m3
        .table("ks", "t")
        .and_then(|t| t.column("w"))
        .cloned()
        .expect("w");
    assert_eq!(w.ty, CqlType::Text);
    assert_eq!(
        Some(w.id),
        a3.table("ks", "t")
            .and_then(|t| t.column("w"))
            .map(|c| c.id)
    );
    // Dropping the winner does not bring the loser back.
    let mut later = m3.clone();
    drop_column(&mut later, "ks", "t", "w").expect("drop w");
    let m4 = merged(&later, &b3);
    assert!(m4.table("ks", "t").expect("t").column("w").is_none());
}

#[test]
fn a_drop_beats_concurrent_alters_and_loses_to_a_later_create() {
    let mut base = with_keyspace(100);
    create_table(&mut base, "ks", "t", vec![col("v", CqlType::Text)], 1).expect("t");
    let (mut a, mut b) = (base.clone(), base.clone());
    a.observe_time(200);
    b.observe_time(300);
    a.drop_table("ks", "t", false).expect("drop");
    add_column(&mut b, "ks", "t", col("x", CqlType::Int)).expect("alter after, concurrently");
    let m = merged(&a, &b);
    assert!(
        m.table("ks", "t").is_none(),
        "the drop applies to the table it dropped"
    );
    let mut b2 = b.clone();
    let outcome = b2.merge_from(&a).expect("merge");
    assert_eq!(
        outcome.dropped_tables,
        vec![TableId(uuid::Uuid::from_u128(1))]
    );

    // Drop, then re-create (new id) on the same node: the new table wins everywhere,
    // including over a node that still has the old one.
    let mut c = a.clone();
    create_table(&mut c, "ks", "t", vec![col("w", CqlType::Int)], 2).expect("re-create");
    let m = merged(&c, &base);
    assert_eq!(
        m.table("ks", "t").map(|t| t.id),
        Some(TableId(uuid::Uuid::from_u128(2)))
    );
    let m = merged(&m, &b);
    assert_eq!(
        m.table("ks", "t").map(|t| t.id),
        Some(TableId(uuid::Uuid::from_u128(2)))
    );
    // A re-create stamped before the drop (a node with a slow clock) loses to it.
    let mut slow = base.clone();
    slow.drop_table("ks", "t", false).expect("drop");
    create_table(&mut slow, "ks", "t", vec![], 3).expect("re-create");
    let mut fast = base;
    fast.observe_time(1_000);
    fast.drop_table("ks", "t", false).expect("drop");
    let m = merged(&slow, &fast);
    assert!(m.table("ks", "t").is_none());
}

#[test]
fn keyspace_drops_and_recreates() {
    let mut base = with_keyspace(100);
    create_table(&mut base, "ks", "t", vec![], 1).expect("t");
    let (mut a, mut b) = (base.clone(), base.clone());
    a.observe_time(200);
    a.drop_keyspace("ks", false).expect("drop ks");
    // A concurrent alter of a table created before the drop: gone with the keyspace.
    b.observe_time(300);
    set_comment(&mut b, "ks", "t", "late").expect("comment");
    alter_keyspace(&mut b, "ks", 3).expect("alter ks");
    let m = merged(&a, &b);
    assert!(m.keyspace("ks").is_none());
    // A table created after the drop (on a node that had not seen it) keeps the keyspace,
    // with its last options.
    create_table(&mut b, "ks", "t2", vec![], 2).expect("t2");
    let m = merged(&a, &b);
    let ks = m.keyspace("ks").expect("kept alive");
    assert_eq!(ks.tables.keys().collect::<Vec<_>>(), vec!["t2"]);
    assert_eq!(
        ks.metadata.replication,
        crate::replication::Replication::Simple {
            replication_factor: 3
        }
    );
    // Re-created after the drop: a fresh keyspace.
    let mut c = a.clone();
    create_keyspace(&mut c, "ks", 2).expect("re-create");
    let m = merged(&c, &base);
    let ks = m.keyspace("ks").expect("re-created");
    assert!(ks.tables.is_empty());
    assert_eq!(ks.metadata.replication.to_map()["replication_factor"], "2");
}

#[test]
fn a_type_in_use_survives_a_concurrent_drop() {
    let mut base = with_keyspace(100);
    create_type(&mut base, "ks", "u", vec![("a", CqlType::Int)]).expect("u");
    let (mut a, mut b) = (base.clone(), base);
    a.observe_time(200);
    a.drop_type("ks", "u", false).expect("drop u");
    b.observe_time(150);
    let u = b.parse_type("ks", "frozen<u>").expect("u");
    create_table(&mut b, "ks", "t", vec![col("v", u)], 1).expect("t uses u");
    let m = merged(&a, &b);
    assert!(m.user_type("ks", "u").is_some(), "kept for the table");
    assert!(m.table("ks", "t").is_some());
    // Once the table is gone, the drop takes effect.
    let mut later = m.clone();
    later.drop_table("ks", "t", false).expect("drop t");
    let m2 = merged(&later, &b);
    assert!(m2.user_type("ks", "u").is_none());
    // A concurrent ALTER TYPE reaches the tables using the type.
    let mut c = m.clone();
    let mut d = m;
    c.observe_time(1_000);
    add_field(&mut c, "ks", "u", "b", CqlType::Text).expect("add field");
    d.observe_time(900);
    let u = d.parse_type("ks", "frozen<u>").expect("u");
    create_table(&mut d, "ks", "t3", vec![col("v", u)], 3).expect("t3");
    let m3 = merged(&c, &d);
    let v = m3
        .table("ks", "t3")
        .and_then(|t| t.column("v"))
        .cloned()
        .expect("v");
    match v.ty {
        CqlType::Frozen(inner) => match *inner {
            CqlType::Udt(u) => assert_eq!(u.fields.len(), 2),
            other => panic!("not a udt: {other:?}"),
        },
        other => panic!("not frozen: {other:?}"),
    }
}

#[test]
fn concurrent_type_cycles_are_broken_deterministically() {
    let mut base = with_keyspace(100);
    create_type(&mut base, "ks", "a", vec![("x", CqlType::Int)]).expect("a");
    create_type(&mut base, "ks", "b", vec![("y", CqlType::Int)]).expect("b");
    let (mut n1, mut n2) = (base.clone(), base);
    n1.observe_time(200);
    let fb = n1.parse_type("ks", "frozen<b>").expect("b");
    add_field(&mut n1, "ks", "a", "to_b", fb).expect("a -> b");
    n2.observe_time(300);
    let fa = n2.parse_type("ks", "frozen<a>").expect("a");
    add_field(&mut n2, "ks", "b", "to_a", fa).expect("b -> a");
    let m = merged(&n1, &n2);
    // The newer change (b -> a) loses its cycle-closing field.
    let b = m.user_type("ks", "b").expect("b");
    assert_eq!(b.fields.len(), 1);
    let a = m.user_type("ks", "a").expect("a");
    assert_eq!(a.fields.len(), 2);
    assert_eq!(Schema::from_persisted(&m.to_persisted()).expect("loads"), m);
    let three = merged(&m, &n2);
    assert_eq!(three, m);
}

#[test]
fn primary_key_renames_merge_as_one() {
    let mut base = with_keyspace(100);
    create_table(&mut base, "ks", "t", vec![col("v", CqlType::Text)], 1).expect("t");
    let (mut a, mut b) = (base.clone(), base);
    a.observe_time(200);
    b.observe_time(300);
    rename_key(&mut a, "ks", "t", "k", "x").expect("k -> x");
    rename_key(&mut b, "ks", "t", "c", "x").expect("c -> x");
    let m = merged(&a, &b);
    assert_eq!(column_names(&m, "ks", "t"), vec!["k", "x", "v"]);
    // A column added under a key name that is later renamed away stays beaten.
    let (mut a, mut b) = (m.clone(), m);
    a.observe_time(400);
    add_column(&mut a, "ks", "t", col("k2", CqlType::Int)).expect("k2");
    b.observe_time(350);
    rename_key(&mut b, "ks", "t", "k", "k2").expect("k -> k2");
    b.observe_time(360);
    rename_key(&mut b, "ks", "t", "k2", "k3").expect("k2 -> k3");
    let m = merged(&a, &b);
    assert_eq!(column_names(&m, "ks", "t"), vec!["k3", "x", "k2", "v"]);
    // A column added concurrently under a name a key column had at a later time loses.
    let (mut a, mut b) = (m.clone(), m);
    a.observe_time(500);
    add_column(&mut a, "ks", "t", col("k4", CqlType::Int)).expect("k4");
    b.observe_time(510);
    rename_key(&mut b, "ks", "t", "k3", "k4").expect("k3 -> k4");
    b.observe_time(520);
    rename_key(&mut b, "ks", "t", "k4", "k5").expect("k4 -> k5");
    let m = merged(&a, &b);
    assert_eq!(column_names(&m, "ks", "t"), vec!["k5", "x", "k2", "v"]);
}

#[test]
fn old_tombstones_are_pruned() {
    let mut a = with_keyspace(100);
    create_table(&mut a, "ks", "t", vec![col("v", CqlType::Int)], 1).expect("t");
    drop_column(&mut a, "ks", "t", "v").expect("drop v");
    create_table(&mut a, "ks", "gone", vec![], 2).expect("gone");
    a.drop_table("ks", "gone", false).expect("drop gone");
    let stale = a.clone();
    assert_eq!(a.tombstones().tables.len(), 1);
    let mut later = a.clone();
    later.observe_time(100 + SCHEMA_TOMBSTONE_RETENTION_MICROS / 2);
    set_comment(&mut later, "ks", "t", "x").expect("comment");
    let m = later.merge(&later).expect("merge");
    assert_eq!(m.tombstones().tables.len(), 1, "within the retention");
    later.observe_time(1_000 + SCHEMA_TOMBSTONE_RETENTION_MICROS);
    set_comment(&mut later, "ks", "t", "y").expect("comment");
    let m = later.merge(&stale).expect("merge");
    assert!(m.tombstones().tables.is_empty(), "pruned");
    assert!(m
        .keyspace("ks")
        .expect("ks")
        .table_stamps_of("t")
        .dropped_column_ids
        .is_empty());
    assert!(m.table("ks", "gone").is_none());
    assert_eq!(m.version(), later.version());
}

#[test]
fn added_column_ids_avoid_used_ones() {
    let mut s = with_keyspace(100);
    create_table(&mut s, "ks", "t", vec![], 1).expect("t");
    for i in 0..50 {
        add_column(&mut s, "ks", "t", col(&format!("c{i}"), CqlType::Int)).expect("add");
    }
    let t = s.table("ks", "t").expect("t");
    let ids: BTreeSet<ColumnId> = t.columns().iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), t.columns().len());
    assert!(t
        .columns()
        .iter()
        .filter(|c| !c.kind.is_primary_key())
        .all(|c| (ADDED_COLUMN_ID_MIN..ADDED_COLUMN_ID_END).contains(&c.id.0)));
    // Drop and re-add with the same type: a new id.
    let old = t.column("c3").map(|c| c.id).expect("c3");
    drop_column(&mut s, "ks", "t", "c3").expect("drop");
    add_column(&mut s, "ks", "t", col("c3", CqlType::Int)).expect("re-add");
    let new = s
        .table("ks", "t")
        .and_then(|t| t.column("c3"))
        .map(|c| c.id);
    assert!(new.is_some_and(|n| n != old));
}

// ---------------------------------------------------------------------------------------
// Lattice properties over random DDL on replicas with random exchanges
// ---------------------------------------------------------------------------------------

const KEYSPACES: [&str; 2] = ["k0", "k1"];
const TABLES: [&str; 2] = ["t0", "t1"];
const COLUMNS: [&str; 3] = ["c0", "c1", "c2"];
const TYPES: [&str; 2] = ["u0", "u1"];
const REPLICAS: usize = 3;

#[derive(Clone, Debug)]
enum Op {
    CreateKeyspace {
        ks: usize,
        rf: u32,
    },
    AlterKeyspace {
        ks: usize,
        rf: u32,
    },
    DropKeyspace {
        ks: usize,
    },
    CreateTable {
        ks: usize,
        table: usize,
        columns: Vec<(usize, usize)>,
    },
    DropTable {
        ks: usize,
        table: usize,
    },
    AddColumn {
        ks: usize,
        table: usize,
        column: usize,
        ty: usize,
    },
    DropColumn {
        ks: usize,
        table: usize,
        column: usize,
    },
    RenameKey {
        ks: usize,
        table: usize,
        to: usize,
    },
    SetComment {
        ks: usize,
        table: usize,
        comment: u8,
    },
    CreateType {
        ks: usize,
        ty: usize,
        field: usize,
    },
    AddField {
        ks: usize,
        ty: usize,
        field: usize,
    },
    DropType {
        ks: usize,
        ty: usize,
    },
    Sync {
        from: usize,
    },
    Tick {
        micros: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let ks = 0..KEYSPACES.len();
    let table = 0..TABLES.len();
    let column = 0..COLUMNS.len();
    prop_oneof![
        1 => (ks.clone(), 1u32..4).prop_map(|(ks, rf)| Op::CreateKeyspace { ks, rf }),
        1 => (ks.clone(), 1u32..4).prop_map(|(ks, rf)| Op::AlterKeyspace { ks, rf }),
        1 => ks.clone().prop_map(|ks| Op::DropKeyspace { ks }),
        3 => (ks.clone(), table.clone(), proptest::collection::vec((column.clone(), 0..4usize), 0..3))
            .prop_map(|(ks, table, columns)| Op::CreateTable { ks, table, columns }),
        1 => (ks.clone(), table.clone()).prop_map(|(ks, table)| Op::DropTable { ks, table }),
        4 => (ks.clone(), table.clone(), column.clone(), 0..4usize)
            .prop_map(|(ks, table, column, ty)| Op::AddColumn { ks, table, column, ty }),
        3 => (ks.clone(), table.clone(), column).prop_map(|(ks, table, column)| Op::DropColumn { ks, table, column }),
        1 => (ks.clone(), table.clone(), 0..3usize).prop_map(|(ks, table, to)| Op::RenameKey { ks, table, to }),
        2 => (ks.clone(), table, any::<u8>()).prop_map(|(ks, table, comment)| Op::SetComment { ks, table, comment: comment % 4 }),
        2 => (ks.clone(), 0..TYPES.len(), 0..3usize).prop_map(|(ks, ty, field)| Op::CreateType { ks, ty, field }),
        2 => (ks.clone(), 0..TYPES.len(), 0..3usize).prop_map(|(ks, ty, field)| Op::AddField { ks, ty, field }),
        1 => (ks, 0..TYPES.len()).prop_map(|(ks, ty)| Op::DropType { ks, ty }),
        4 => (0..REPLICAS).prop_map(|from| Op::Sync { from }),
        2 => (0i64..50).prop_map(|micros| Op::Tick { micros }),
    ]
}

/// A column type of the pool (user types may not exist on the replica: then `None`).
fn pool_type(s: &Schema, ks: &str, i: usize) -> Option<CqlType> {
    let text = ["int", "text", "frozen<u0>", "list<int>"][i % 4];
    s.parse_type(ks, text).ok()
}

struct Replica {
    schema: Schema,
    /// Its wall clock (`None`: never reported, a logical clock).
    clock: Option<i64>,
}

fn apply(replicas: &mut [Replica], at: usize, op: &Op, next_id: &mut u128) {
    if let Op::Sync { from } = op {
        let other = replicas[*from].schema.clone();
        replicas[at]
            .schema
            .merge_from(&other)
            .expect("merging schemas built by DDL never fails");
        return;
    }
    let r = &mut replicas[at];
    if let Op::Tick { micros } = op {
        if let Some(c) = &mut r.clock {
            *c += micros;
        }
        return;
    }
    if let Some(c) = r.clock {
        r.schema.observe_time(c);
    }
    let s = &mut r.schema;
    // Failed statements leave the schema unchanged; their errors are irrelevant here.
    let _ = match op {
        Op::CreateKeyspace { ks, rf } => create_keyspace(s, KEYSPACES[*ks], *rf),
        Op::AlterKeyspace { ks, rf } => alter_keyspace(s, KEYSPACES[*ks], *rf),
        Op::DropKeyspace { ks } => s.drop_keyspace(KEYSPACES[*ks], false),
        Op::CreateTable { ks, table, columns } => {
            let ks = KEYSPACES[*ks];
            let mut defs: Vec<ColumnDef> = Vec::new();
            for (c, ty) in columns {
                if let Some(ty) = pool_type(s, ks, *ty) {
                    if !defs.iter().any(|d| d.name == COLUMNS[*c]) {
                        defs.push(col(COLUMNS[*c], ty));
                    }
                }
            }
            *next_id += 1;
            create_table(s, ks, TABLES[*table], defs, *next_id)
        }
        Op::DropTable { ks, table } => s.drop_table(KEYSPACES[*ks], TABLES[*table], false),
        Op::AddColumn {
            ks,
            table,
            column,
            ty,
        } => match pool_type(s, KEYSPACES[*ks], *ty) {
            Some(ty) => add_column(s, KEYSPACES[*ks], TABLES[*table], col(COLUMNS[*column], ty)),
            None => Ok(DdlOutcome::Unchanged),
        },
        Op::DropColumn { ks, table, column } => {
            drop_column(s, KEYSPACES[*ks], TABLES[*table], COLUMNS[*column])
        }
        Op::RenameKey { ks, table, to } => {
            let names = ["k", "kk", "c0"];
            let current = s
                .table(KEYSPACES[*ks], TABLES[*table])
                .and_then(|t| t.partition_key_columns().first().map(|c| c.name.clone()));
            match current {
                Some(from) => rename_key(s, KEYSPACES[*ks], TABLES[*table], &from, names[*to]),
                None => Ok(DdlOutcome::Unchanged),
            }
        }
        Op::SetComment { ks, table, comment } => {
            set_comment(s, KEYSPACES[*ks], TABLES[*table], &comment.to_string())
        }
        Op::CreateType { ks, ty, field } => {
            let other = format!("frozen<{}>", TYPES[1 - *ty]);
            let field_ty = if *field == 2 {
                s.parse_type(KEYSPACES[*ks], &other).ok()
            } else {
                Some(CqlType::Int)
            };
            match field_ty {
                Some(f) => create_type(s, KEYSPACES[*ks], TYPES[*ty], vec![("f", f)]),
                None => Ok(DdlOutcome::Unchanged),
            }
        }
        Op::AddField { ks, ty, field } => {
            let other = format!("frozen<{}>", TYPES[1 - *ty]);
            let field_ty = if *field == 2 {
                s.parse_type(KEYSPACES[*ks], &other).ok()
            } else {
                Some(CqlType::Text)
            };
            match field_ty {
                Some(f) => add_field(s, KEYSPACES[*ks], TYPES[*ty], &format!("g{field}"), f),
                None => Ok(DdlOutcome::Unchanged),
            }
        }
        Op::DropType { ks, ty } => s.drop_type(KEYSPACES[*ks], TYPES[*ty], false),
        Op::Sync { .. } | Op::Tick { .. } => Ok(DdlOutcome::Unchanged),
    };
}

/// The schema every replica starts from: both keyspaces, a type, and tables using them.
fn base_schema() -> Schema {
    let mut s = Schema::new();
    for (i, ks) in KEYSPACES.iter().enumerate() {
        create_keyspace(&mut s, ks, 1).expect("keyspace");
        create_type(&mut s, ks, TYPES[0], vec![("f", CqlType::Int)]).expect("type");
        let u = s.parse_type(ks, "frozen<u0>").expect("u0");
        create_table(
            &mut s,
            ks,
            TABLES[0],
            vec![col(COLUMNS[0], u)],
            1_000 + i as u128,
        )
        .expect("table");
    }
    s
}

/// Runs `ops` on replicas that start from [`base_schema`]; returns their schemas.
fn run(clocks: &[Option<i64>], ops: &[(usize, Op)]) -> Vec<Schema> {
    let base = base_schema();
    let mut replicas: Vec<Replica> = clocks
        .iter()
        .map(|c| Replica {
            schema: base.clone(),
            clock: *c,
        })
        .collect();
    let mut next_id = 0u128;
    for (at, op) in ops {
        apply(&mut replicas, at % REPLICAS, op, &mut next_id);
    }
    replicas.into_iter().map(|r| r.schema).collect()
}

fn replica_clocks() -> impl Strategy<Value = Vec<Option<i64>>> {
    proptest::collection::vec(proptest::option::weighted(0.75, 0i64..40), REPLICAS)
}

fn ops() -> impl Strategy<Value = Vec<(usize, Op)>> {
    proptest::collection::vec((0..REPLICAS, op()), 1..48)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn merge_is_commutative_associative_and_idempotent(clocks in replica_clocks(), ops in ops()) {
        let s = run(&clocks, &ops);
        let (a, b, c) = (&s[0], &s[1], &s[2]);
        let m = |x: &Schema, y: &Schema| x.merge(y).expect("merge");
        for x in &s {
            let xx = m(x, x);
            // DDL leaves schemas in the canonical form merging produces.
            prop_assert_eq!(&xx, x);
            prop_assert_eq!(Schema::from_persisted(&x.to_persisted()).expect("loads"), x.clone());
        }
        let ab = m(a, b);
        prop_assert_eq!(&ab, &m(b, a));
        prop_assert_eq!(m(&ab, c), m(a, &m(b, c)));
        prop_assert_eq!(m(&m(a, c), b), m(&ab, c));
        prop_assert_eq!(m(&ab, a), ab.clone());
        let all = m(&ab, c);
        prop_assert_eq!(Schema::from_persisted(&all.to_persisted()).expect("loads"), all.clone());
    }

    #[test]
    fn exchanging_schemas_converges_in_any_order(clocks in replica_clocks(), ops in ops(), order in Just(vec![0usize, 1, 2]).prop_shuffle()) {
        let mut s = run(&clocks, &ops);
        // Gossip-like: each replica pulls from the next, around the ring in a random order,
        // until information has had time to travel the whole ring.
        for _ in 0..REPLICAS {
            for &i in &order {
                let from = s[(i + 1) % REPLICAS].clone();
                s[i].merge_from(&from).expect("merge");
            }
        }
        for x in &s[1..] {
            prop_assert_eq!(x, &s[0]);
            prop_assert_eq!(x.version(), s[0].version());
        }
    }
}
