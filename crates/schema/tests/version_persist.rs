//! Schema version determinism and sensitivity, and the persisted format: round trips through
//! serde and `to_persisted` / `from_persisted`, and refusal of corrupt or foreign data.

mod common;

use common::*;
use meridian_schema::persist::FORMAT_VERSION;
use meridian_schema::{AlterTableOp, CreateTable, CreateType, ErrorKind, Schema, SchemaError};
use meridian_types::cql_type::CqlType;
use meridian_types::model::ClusteringOrder;
use proptest::prelude::*;

/// Builds keyspaces `a` and `b`, three tables and a type, in an order given by `order`
/// (a permutation of the creation steps that respects dependencies) and with table columns
/// declared in forward or reverse order.
fn build(order: &[usize], reverse_columns: bool) -> Schema {
    let mut s = Schema::new();
    create_keyspace(&mut s, "a", simple("1")).expect("a");
    create_keyspace(&mut s, "b", simple("2")).expect("b");
    s.create_type(&CreateType {
        keyspace: "a".into(),
        name: "point".into(),
        if_not_exists: false,
        fields: vec![("x".into(), CqlType::Int), ("y".into(), CqlType::Int)],
    })
    .expect("point");
    let point = s.parse_type("a", "frozen<point>").expect("point resolves");
    let tables = [
        (
            "a",
            "t1",
            1u128,
            vec![
                col("k", CqlType::Int),
                col("v", CqlType::Text),
                col("p", point),
            ],
        ),
        (
            "a",
            "t2",
            2,
            vec![
                col("k", CqlType::Int),
                col("c", CqlType::Int),
                col("m", map_type(CqlType::Text, CqlType::Int)),
            ],
        ),
        (
            "b",
            "t3",
            3,
            vec![col("k", CqlType::Bigint), col("s", set(CqlType::Uuid))],
        ),
    ];
    for &i in order {
        let (ks, name, n, columns) = &tables[i];
        let mut columns = columns.clone();
        if reverse_columns {
            columns.reverse();
        }
        let clustering: Vec<String> = if *name == "t2" {
            vec!["c".into()]
        } else {
            vec![]
        };
        s.create_table(
            &CreateTable {
                keyspace: ks.to_string(),
                name: name.to_string(),
                if_not_exists: false,
                columns,
                partition_key: vec!["k".into()],
                clustering_key: clustering.clone(),
                clustering_order: clustering
                    .iter()
                    .map(|c| (c.clone(), ClusteringOrder::Desc))
                    .collect(),
                properties: vec![],
                compact_storage: false,
            },
            id(*n),
        )
        .expect("table");
    }
    s
}

#[test]
fn version_is_independent_of_build_order() {
    let base = build(&[0, 1, 2], false);
    assert_eq!(base.version().get_version_num(), 3);
    for order in [[2, 1, 0], [1, 0, 2], [0, 2, 1]] {
        assert_eq!(build(&order, false).version(), base.version());
        assert_eq!(build(&order, true).version(), base.version());
    }
    assert_eq!(build(&[0, 1, 2], true), base);
    // Stable across calls and clones.
    assert_eq!(base.clone().version(), base.version());
    assert_ne!(base.version(), Schema::new().version());
}

#[test]
fn any_change_changes_the_version() {
    let base = build(&[0, 1, 2], false);
    let v = base.version();
    let mut versions = vec![v];
    let mut push = |s: &Schema| {
        let nv = s.version();
        assert!(!versions.contains(&nv), "version did not change");
        versions.push(nv);
    };

    let mut s = base.clone();
    s.alter_table(
        "a",
        "t1",
        false,
        &AlterTableOp::SetOptions(props(&[("comment", text("x"))])),
    )
    .expect("comment");
    push(&s);

    let mut s = base.clone();
    s.alter_table(
        "a",
        "t1",
        false,
        &AlterTableOp::DropColumns {
            if_exists: false,
            columns: vec!["v".into()],
            timestamp_micros: 5,
        },
    )
    .expect("drop");
    push(&s);
    // Re-adding the column restores the columns but not the drop record or the id.
    s.alter_table(
        "a",
        "t1",
        false,
        &AlterTableOp::AddColumns {
            if_not_exists: false,
            columns: vec![col("v", CqlType::Text)],
        },
    )
    .expect("re-add");
    push(&s);

    let mut s = base.clone();
    create_keyspace(&mut s, "c", simple("1")).expect("c");
    push(&s);

    let mut s = base.clone();
    s.alter_keyspace(
        &meridian_schema::AlterKeyspace {
            name: "b".into(),
            if_exists: false,
            properties: props(&[("durable_writes", text("false"))]),
        },
        &topology(),
    )
    .expect("alter b");
    push(&s);

    let mut s = base.clone();
    s.alter_type(
        "a",
        "point",
        false,
        &meridian_schema::AlterTypeOp::RenameFields {
            if_exists: false,
            renames: vec![("x".into(), "x0".into())],
        },
    )
    .expect("rename field");
    push(&s);

    let mut s = base.clone();
    s.drop_table("b", "t3", false).expect("drop t3");
    push(&s);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn version_ignores_creation_order(order in Just(vec![0usize, 1, 2]).prop_shuffle(), reverse in any::<bool>()) {
        prop_assert_eq!(build(&order, reverse).version(), build(&[0, 1, 2], false).version());
    }
}

#[test]
fn persistence_round_trips() {
    let mut s = sample_schema();
    merge(&mut s, build(&[0, 1, 2], false));
    s.alter_table(
        "shop",
        "events",
        false,
        &AlterTableOp::DropColumns {
            if_exists: false,
            columns: vec!["payload".into(), "home".into()],
            timestamp_micros: 1_700_000_000_000_000,
        },
    )
    .expect("drop");
    let bytes = s.to_persisted();
    let back = Schema::from_persisted(&bytes).expect("loads");
    assert_eq!(back, s);
    assert_eq!(back.version(), s.version());

    let json = serde_json::to_string(&s).expect("serializes");
    let via_serde: Schema = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(via_serde, s);
    // Local system keyspaces are not persisted; replicated ones are.
    assert!(!json.contains("\"system_schema\""));
    assert!(json.contains("\"system_auth\""));
    assert!(json.contains(&format!("\"format_version\":{FORMAT_VERSION}")));
}

/// Adds `other`'s user keyspaces to `s` (test helper built on the public DDL API).
fn merge(s: &mut Schema, other: Schema) {
    let bytes = other.to_persisted();
    let mut value: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    let mut mine: serde_json::Value = serde_json::from_slice(&s.to_persisted()).expect("json");
    if let (Some(a), Some(b)) = (
        mine.get_mut("keyspaces").and_then(|k| k.as_array_mut()),
        value.get_mut("keyspaces").and_then(|k| k.as_array_mut()),
    ) {
        let present: Vec<serde_json::Value> = a.iter().map(|k| k["name"].clone()).collect();
        a.extend(b.drain(..).filter(|k| !present.contains(&k["name"])));
    }
    *s = Schema::from_persisted(&serde_json::to_vec(&mine).expect("json")).expect("merged");
}

#[test]
fn corrupt_data_is_refused() {
    let s = sample_schema();
    let bytes = s.to_persisted();
    let mut value: serde_json::Value = serde_json::from_slice(&bytes).expect("json");

    let mut newer = value.clone();
    newer["format_version"] = serde_json::json!(FORMAT_VERSION + 1);
    let e = Schema::from_persisted(&serde_json::to_vec(&newer).expect("json")).expect_err("newer");
    assert_eq!(
        e,
        SchemaError::UnsupportedFormat {
            found: FORMAT_VERSION + 1,
            supported: FORMAT_VERSION
        }
    );
    assert_eq!(e.kind(), ErrorKind::Server);

    assert!(matches!(
        Schema::from_persisted(b"not json"),
        Err(SchemaError::Corrupt { .. })
    ));

    let mut system = value.clone();
    system["keyspaces"][0]["name"] = serde_json::json!("system");
    assert!(matches!(
        Schema::from_persisted(&serde_json::to_vec(&system).expect("json")),
        Err(SchemaError::Corrupt { .. })
    ));

    // A column whose type names a missing UDT.
    value["keyspaces"][0]["types"] = serde_json::json!([]);
    let e = Schema::from_persisted(&serde_json::to_vec(&value).expect("json")).expect_err("udt");
    assert!(e.to_string().contains("unknown type"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mangled_persisted_schemas_never_panic(
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let mut bytes = sample_schema().to_persisted();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let end = cut.index(bytes.len() + 1);
        let _ = Schema::from_persisted(&bytes[..end]);
    }
}

#[test]
fn keyspaces_named_like_system_ones_are_user_keyspaces() {
    let mut s = Schema::new();
    create_keyspace(&mut s, "System_Auth", simple("1")).expect("distinct from system_auth");
    assert_eq!(s.user_keyspaces().count(), 1);
    assert_ne!(s.version(), Schema::new().version());
    let back = Schema::from_persisted(&s.to_persisted()).expect("loads");
    assert_eq!(back, s);
}
