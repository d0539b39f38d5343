//! Shared fixture of the write-path tests: a node over a storage engine in a temporary
//! directory, a keyspace `ks`, helpers to create tables and types through the schema API,
//! to run statements through `modification::execute` / `execute_batch`, and to read back
//! what storage holds (tombstones included).

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};

use bytes::Bytes;
use meridian_cql_parser::{parse_statement, Statement};
use meridian_cql_protocol::Value;
use meridian_query::context::{BoundValues, ExecOptions, Node, NodeInfo, Session};
use meridian_query::modification::{self, BatchInput};
use meridian_query::{QueryError, QueryResult, ResultSet};
use meridian_schema::ddl::{ClusterTopology, ColumnDef, CreateKeyspace, CreateTable, CreateType};
use meridian_schema::{OptionValue, Schema, TableMetadata};
use meridian_storage::{Engine, EngineConfig, ReadCommand, TableOptions};
use meridian_types::cql_type::CqlType;
use meridian_types::model::{
    Cell, CellState, ClusteringOrder, ColumnData, Partition, Row, Slice, TableId,
};
use meridian_types::token::PartitionKey;
use meridian_types::value::CqlValue;

/// The fixed "now" of statements run through [`TestNode::exec`]: 2024-01-01T00:00:00Z.
pub const NOW_MICROS: i64 = 1_704_067_200_000_000;
/// [`NOW_MICROS`] in seconds.
pub const NOW_SECS: i64 = NOW_MICROS / 1_000_000;

pub struct TestNode {
    pub node: Node,
    pub session: Session,
    _dir: tempfile::TempDir,
    next_table: u128,
    next_timestamp: std::sync::atomic::AtomicI64,
}

/// A column of [`TestNode::create_table`]: name, CQL type, static.
pub struct Col<'a>(pub &'a str, pub &'a str, pub bool);

impl TestNode {
    pub fn new() -> TestNode {
        Self::with_engine_config(|_| {})
    }

    /// A node whose engine configuration `configure` adjusts.
    pub fn with_engine_config(configure: impl FnOnce(&mut EngineConfig)) -> TestNode {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = EngineConfig::new(dir.path().join("data"));
        configure(&mut config);
        let (engine, _) = Engine::open(config, Vec::new()).expect("engine");
        let mut schema = Schema::new();
        schema
            .create_keyspace(
                &CreateKeyspace {
                    name: "ks".into(),
                    if_not_exists: false,
                    properties: vec![(
                        "replication".into(),
                        OptionValue::Map(vec![
                            ("class".into(), "SimpleStrategy".into()),
                            ("replication_factor".into(), "1".into()),
                        ]),
                    )],
                },
                &ClusterTopology::default(),
            )
            .expect("keyspace");
        let info = NodeInfo {
            cluster_name: "test".into(),
            datacenter: "dc1".into(),
            rack: "rack1".into(),
            host_id: uuid::Uuid::from_u128(0x5eed),
            tokens: Vec::new(),
            listen_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            rpc_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            native_port: 9042,
            storage_port: 7000,
            release_version: NodeInfo::RELEASE_VERSION.into(),
            cql_version: NodeInfo::CQL_VERSION.into(),
            partitioner: NodeInfo::PARTITIONER.into(),
        };
        let node = Node::new(engine, info, schema, dir.path().join("schema.json"));
        let session = Session::new();
        session.set_keyspace("ks".into());
        TestNode {
            node,
            session,
            _dir: dir,
            next_table: 1,
            next_timestamp: std::sync::atomic::AtomicI64::new(1000),
        }
    }

    /// Creates `ks.name` with the given columns, partition key, clustering columns (with
    /// their order) and table options.
    pub fn create_table(
        &mut self,
        name: &str,
        columns: &[Col<'_>],
        partition_key: &[&str],
        clustering: &[(&str, ClusteringOrder)],
        properties: &[(&str, &str)],
    ) -> TableMetadata {
        let id = TableId(uuid::Uuid::from_u128(0xabc0_0000 + self.next_table));
        self.next_table += 1;
        let schema = self.node.schema();
        let defs: Vec<ColumnDef> = columns
            .iter()
            .map(|Col(n, t, s)| ColumnDef {
                name: n.to_string(),
                ty: schema.parse_type("ks", t).expect("type"),
                is_static: *s,
            })
            .collect();
        let stmt = CreateTable {
            keyspace: "ks".into(),
            name: name.into(),
            if_not_exists: false,
            columns: defs,
            partition_key: partition_key.iter().map(|s| s.to_string()).collect(),
            clustering_key: clustering.iter().map(|(s, _)| s.to_string()).collect(),
            clustering_order: clustering
                .iter()
                .map(|(s, o)| (s.to_string(), *o))
                .collect(),
            properties: properties
                .iter()
                .map(|(k, v)| (k.to_string(), OptionValue::Text(v.to_string())))
                .collect(),
            compact_storage: false,
        };
        self.node
            .update_schema(|s| {
                s.create_table(&stmt, id)?;
                Ok(())
            })
            .expect("create table");
        let table = self.table(name);
        self.node
            .engine
            .create_table(TableOptions::new(
                table.id,
                "ks",
                name,
                table.clustering_comparator(),
            ))
            .expect("storage table");
        table
    }

    /// Creates the user type `ks.name`.
    pub fn create_type(&self, name: &str, fields: &[(&str, &str)]) {
        let schema = self.node.schema();
        let fields: Vec<(String, CqlType)> = fields
            .iter()
            .map(|(n, t)| (n.to_string(), schema.parse_type("ks", t).expect("type")))
            .collect();
        self.node
            .update_schema(|s| {
                s.create_type(&CreateType {
                    keyspace: "ks".into(),
                    name: name.into(),
                    if_not_exists: false,
                    fields,
                })?;
                Ok(())
            })
            .expect("create type");
    }

    pub fn table(&self, name: &str) -> TableMetadata {
        self.node
            .schema()
            .table("ks", name)
            .expect("table exists")
            .clone()
    }

    /// Options with the fixed "now" and client timestamp `ts`.
    pub fn options(ts: Option<i64>) -> ExecOptions {
        ExecOptions {
            timestamp_micros: ts,
            now_micros: NOW_MICROS,
            ..ExecOptions::new()
        }
    }

    /// Runs a statement with the fixed "now" and a client timestamp: 1000 for the first
    /// statement of the node, then 1001, 1002, ...
    pub fn exec(&self, cql: &str, values: Vec<Value>) -> Result<QueryResult, QueryError> {
        let ts = self
            .next_timestamp
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.exec_with(cql, values, &Self::options(Some(ts)))
    }

    pub fn exec_with(
        &self,
        cql: &str,
        values: Vec<Value>,
        options: &ExecOptions,
    ) -> Result<QueryResult, QueryError> {
        let statement = parse_statement(cql).map_err(|e| QueryError::Syntax(e.to_string()))?;
        let values = BoundValues { values };
        match &statement {
            Statement::Batch(b) => {
                let input = BatchInput::from_statement(b, &values)?;
                modification::execute_batch(&self.node, &self.session, input, options)
            }
            _ => modification::execute(&self.node, &self.session, &statement, &values, options),
        }
    }

    /// Runs a statement that must succeed.
    pub fn ok(&self, cql: &str, values: Vec<Value>) -> QueryResult {
        match self.exec(cql, values) {
            Ok(r) => r,
            Err(e) => panic!("{cql}: {e}"),
        }
    }

    /// The message of a statement that must fail.
    pub fn err(&self, cql: &str, values: Vec<Value>) -> String {
        match self.exec(cql, values) {
            Ok(r) => panic!("{cql} succeeded: {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    /// Everything storage holds for a partition, tombstones included.
    pub fn partition(&self, table: &str, key: &Bytes) -> Option<Partition> {
        let t = self.table(table);
        self.node
            .engine
            .read(t.id, &PartitionKey::new(key.clone()), &[Slice::ALL])
            .expect("read")
    }

    /// The live rows of a partition (at the fixed "now").
    pub fn live_rows(&self, table: &str, key: &Bytes) -> Vec<Row> {
        let t = self.table(table);
        self.node
            .engine
            .read_live(
                t.id,
                &PartitionKey::new(key.clone()),
                &ReadCommand::all(NOW_SECS),
            )
            .expect("read")
            .map(|p| p.rows)
            .unwrap_or_default()
    }

    /// The id of column `name` of `table`.
    pub fn col(&self, table: &str, name: &str) -> meridian_types::model::ColumnId {
        self.table(table).column(name).expect("column").id
    }
}

/// The rows of a `Rows` result.
pub fn rows(r: QueryResult) -> ResultSet {
    match r {
        QueryResult::Rows(rs) => rs,
        other => panic!("expected rows, got {other:?}"),
    }
}

pub fn v(value: CqlValue) -> Value {
    Value::Bytes(value.to_bytes())
}

pub fn int(i: i32) -> Value {
    v(CqlValue::Int(i))
}

pub fn text(s: &str) -> Value {
    v(CqlValue::Text(s.into()))
}

pub fn bigint(i: i64) -> Value {
    v(CqlValue::Bigint(i))
}

pub fn ints(values: &[i32]) -> Value {
    v(CqlValue::List(
        values.iter().map(|i| CqlValue::Int(*i)).collect(),
    ))
}

pub fn int_set(values: &[i32]) -> Value {
    v(CqlValue::Set(
        values.iter().map(|i| CqlValue::Int(*i)).collect(),
    ))
}

pub fn int_text_map(entries: &[(i32, &str)]) -> Value {
    v(CqlValue::Map(
        entries
            .iter()
            .map(|(k, s)| (CqlValue::Int(*k), CqlValue::Text(s.to_string())))
            .collect(),
    ))
}

pub fn b_int(i: i32) -> Bytes {
    Bytes::copy_from_slice(&i.to_be_bytes())
}

pub fn b_text(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// The simple cell of `column` in `row`.
pub fn cell(row: &Row, column: meridian_types::model::ColumnId) -> Cell {
    match row.column(column) {
        Some(ColumnData::Simple(c)) => c.clone(),
        other => panic!("expected a simple cell, got {other:?}"),
    }
}

/// The complex data of `column` in `row`.
pub fn complex(
    row: &Row,
    column: meridian_types::model::ColumnId,
) -> meridian_types::model::ComplexColumn {
    match row.column(column) {
        Some(ColumnData::Complex(c)) => c.clone(),
        other => panic!("expected complex data, got {other:?}"),
    }
}

/// Live element values of a list column, in list (timeuuid path) order.
pub fn list_values(row: &Row, column: meridian_types::model::ColumnId) -> Vec<Bytes> {
    let mut cells: Vec<(Bytes, Cell)> = complex(row, column)
        .cells
        .into_iter()
        .filter(|(_, c)| !c.is_tombstone())
        .collect();
    cells.sort_by(|a, b| meridian_types::cql_type::compare(&CqlType::Timeuuid, &a.0, &b.0));
    cells.into_iter().map(|(_, c)| c.value).collect()
}

pub fn is_tombstone_at(c: &Cell, ts: i64) -> bool {
    c.timestamp_micros == ts
        && matches!(c.state, CellState::Tombstone { local_deletion_time_secs } if local_deletion_time_secs == NOW_SECS)
}
