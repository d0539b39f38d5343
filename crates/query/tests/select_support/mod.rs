//! Shared helpers of the `select_*` integration tests: a node on a temporary directory, CQL
//! text run through the DDL, modification and SELECT entry points, paging through results,
//! and decoding of result rows.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use bytes::Bytes;
use meridian_cql_parser::{parse_statement, Statement};
use meridian_cql_protocol::Value;
use meridian_query::context::load_schema;
use meridian_query::{
    ddl, modification, select, BoundValues, ExecOptions, Node, NodeInfo, QueryError, QueryResult,
    ResultSet, Session,
};
use meridian_storage::{Engine, EngineConfig};
use meridian_types::token::Token;
use meridian_types::value::CqlValue;

/// The tokens of the test node.
pub const TOKENS: [i64; 3] = [-6_000_000_000_000_000_000, 42, 3_000_000_000_000_000_000];

/// The identity of the test node.
pub fn info() -> NodeInfo {
    NodeInfo {
        cluster_name: "Test Cluster".into(),
        datacenter: "dc1".into(),
        rack: "rack1".into(),
        host_id: uuid::Uuid::from_u128(0x1234_5678_9abc_def0_1122_3344_5566_7788),
        tokens: TOKENS.iter().map(|t| Token(*t)).collect(),
        listen_address: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
        rpc_address: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)),
        native_port: 9042,
        storage_port: 7000,
        release_version: NodeInfo::RELEASE_VERSION.into(),
        cql_version: NodeInfo::CQL_VERSION.into(),
        partitioner: NodeInfo::PARTITIONER.into(),
    }
}

fn open(dir: &Path) -> Node {
    let path = dir.join("schema.json");
    let schema = load_schema(&path).expect("load schema");
    let tables = ddl::storage_tables(&schema).expect("storage tables");
    let mut config = EngineConfig::new(dir.join("storage"));
    config.commitlog_segment_size_bytes = 4 * 1024 * 1024;
    config.max_mutation_size_bytes = 2 * 1024 * 1024;
    config.auto_compaction = false;
    config.block_cache_bytes = 0;
    let (engine, _) = Engine::open(config, tables).expect("open engine");
    let node = Node::new(engine, info(), schema, path);
    ddl::sync_storage_tables(&node).expect("sync storage");
    node
}

/// A node on a fresh temporary directory with a keyspace `ks` in use.
pub struct TestNode {
    /// Keeps the directory alive.
    pub dir: tempfile::TempDir,
    /// The node.
    pub node: Node,
    /// The client session.
    pub session: Session,
}

impl TestNode {
    /// A fresh node with keyspace `ks` (SimpleStrategy, RF 1) in use.
    pub fn new() -> TestNode {
        let dir = tempfile::tempdir().expect("tempdir");
        let node = open(dir.path());
        let n = TestNode {
            dir,
            node,
            session: Session::new(),
        };
        n.ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        n.ok("USE ks");
        n
    }

    /// Runs one statement with bound values and options.
    pub fn run_with(
        &self,
        cql: &str,
        values: &[Value],
        options: &ExecOptions,
    ) -> Result<QueryResult, QueryError> {
        let statement = parse_statement(cql).map_err(|e| QueryError::Syntax(e.to_string()))?;
        let values = BoundValues {
            values: values.to_vec(),
        };
        match &statement {
            Statement::Select(s) => select::execute(&self.node, &self.session, s, &values, options),
            Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => {
                modification::execute(&self.node, &self.session, &statement, &values, options)
            }
            other => ddl::execute(&self.node, &self.session, other, options),
        }
    }

    /// Runs one statement.
    pub fn run(&self, cql: &str) -> Result<QueryResult, QueryError> {
        self.run_with(cql, &[], &ExecOptions::new())
    }

    /// Runs one statement that must succeed.
    pub fn ok(&self, cql: &str) -> QueryResult {
        self.run(cql)
            .unwrap_or_else(|e| panic!("{cql} failed: {e} ({e:?})"))
    }

    /// Runs one statement that must fail; returns its message.
    pub fn err(&self, cql: &str) -> String {
        match self.run(cql) {
            Ok(r) => panic!("{cql} should fail, returned {r:?}"),
            Err(QueryError::Invalid(m)) => m,
            Err(e) => panic!("{cql} failed with a non-Invalid error: {e:?}"),
        }
    }

    /// Runs a SELECT that must succeed; returns its rows.
    pub fn rows(&self, cql: &str) -> ResultSet {
        self.rows_with(cql, &[], &ExecOptions::new())
    }

    /// Runs a SELECT with values and options that must succeed.
    pub fn rows_with(&self, cql: &str, values: &[Value], options: &ExecOptions) -> ResultSet {
        match self.run_with(cql, values, options) {
            Ok(QueryResult::Rows(rs)) => rs,
            Ok(other) => panic!("{cql} returned {other:?}"),
            Err(e) => panic!("{cql} failed: {e} ({e:?})"),
        }
    }

    /// The rows of a SELECT as values.
    pub fn values(&self, cql: &str) -> Vec<Vec<Option<CqlValue>>> {
        decode(&self.rows(cql))
    }

    /// Pages through a SELECT with `page_size`, checking every page; returns all rows.
    pub fn page_all(&self, cql: &str, values: &[Value], page_size: i32) -> Vec<Vec<Option<Bytes>>> {
        let mut options = ExecOptions::new();
        options.page_size = Some(page_size);
        let mut out = Vec::new();
        for page in 0.. {
            assert!(page < 1_000_000, "paging does not end");
            let rs = self.rows_with(cql, values, &options);
            assert!(
                rs.rows.len() <= page_size as usize,
                "{cql}: page of {} rows with page size {page_size}",
                rs.rows.len()
            );
            out.extend(rs.rows);
            match rs.paging_state {
                Some(state) => options.paging_state = Some(state),
                None => break,
            }
        }
        out
    }
}

/// Decodes every cell of a result set with its column's type.
pub fn decode(rs: &ResultSet) -> Vec<Vec<Option<CqlValue>>> {
    rs.rows
        .iter()
        .map(|row| {
            row.iter()
                .zip(&rs.columns)
                .map(|(cell, col)| {
                    cell.as_ref().map(|b| {
                        CqlValue::deserialize(&col.ty, b)
                            .unwrap_or_else(|e| panic!("column {} does not decode: {e}", col.name))
                    })
                })
                .collect()
        })
        .collect()
}

/// The names of a result's columns.
pub fn names(rs: &ResultSet) -> Vec<String> {
    rs.columns.iter().map(|c| c.name.clone()).collect()
}

/// An `int` value.
pub fn int(v: i32) -> Option<CqlValue> {
    Some(CqlValue::Int(v))
}

/// A `bigint` value.
pub fn bigint(v: i64) -> Option<CqlValue> {
    Some(CqlValue::Bigint(v))
}

/// A `text` value.
pub fn text(v: &str) -> Option<CqlValue> {
    Some(CqlValue::Text(v.to_string()))
}

/// A bound `int`.
pub fn bind_int(v: i32) -> Value {
    Value::Bytes(Bytes::copy_from_slice(&v.to_be_bytes()))
}

/// A bound value.
pub fn bind(v: CqlValue) -> Value {
    Value::Bytes(v.to_bytes())
}

/// Decodes the `int` cells of raw rows.
pub fn ints(rows: &[Vec<Option<Bytes>>]) -> Vec<Vec<Option<i32>>> {
    rows.iter()
        .map(|r| {
            r.iter()
                .map(|c| {
                    c.as_ref().map(|b| {
                        i32::from_be_bytes(<[u8; 4]>::try_from(&b[..]).expect("4-byte int"))
                    })
                })
                .collect()
        })
        .collect()
}

/// Writes rows straight to storage (fast bulk loading for paging tests): for each
/// `(partition key components, clustering components, [(column, value)])`, a live row at
/// `timestamp_micros` with primary-key liveness. Static columns go to the static row.
pub fn write_rows(
    n: &TestNode,
    table: &str,
    rows: impl IntoIterator<Item = (Vec<CqlValue>, Vec<CqlValue>, Vec<(&'static str, CqlValue)>)>,
) {
    use meridian_types::model::{
        Cell, Clustering, LivenessInfo, Mutation, Partition, PartitionUpdate, Row, TableId,
    };
    use meridian_types::token::{composite_partition_key, PartitionKey};
    let schema = n.node.schema();
    let meta = schema.table("ks", table).expect("table").clone();
    let cmp = meta.clustering_comparator();
    let mut updates: std::collections::BTreeMap<PartitionKey, Partition> = Default::default();
    let ts = 1_000_000;
    for (pk, ck, cells) in rows {
        let parts: Vec<Bytes> = pk.iter().map(CqlValue::to_bytes).collect();
        let refs: Vec<&[u8]> = parts.iter().map(|b| b.as_ref()).collect();
        let key = PartitionKey::new(Bytes::from(composite_partition_key(&refs).expect("key")));
        let p = updates.entry(key).or_default();
        let mut row = Row::new(Clustering(ck.iter().map(CqlValue::to_bytes).collect()));
        let mut static_row = None;
        if !ck.is_empty() || meta.clustering_columns().is_empty() {
            row.liveness = Some(LivenessInfo::live(ts));
        }
        for (name, v) in cells {
            let col = meta.column(name).expect("column");
            let cell = Cell::live(ts, v.to_bytes());
            if col.kind == meridian_schema::ColumnKind::Static {
                static_row
                    .get_or_insert_with(|| Row::new(Clustering::EMPTY))
                    .set_cell(col.id, cell);
            } else {
                row.set_cell(col.id, cell);
            }
        }
        if let Some(s) = static_row {
            p.static_row = Some(s);
        }
        if row.liveness.is_some() || !row.columns.is_empty() {
            p.rows.push(row);
        }
    }
    let mut batch = Vec::new();
    for (key, mut p) in updates {
        p.rows
            .sort_by(|a, b| cmp.compare(&a.clustering, &b.clustering));
        batch.push(PartitionUpdate {
            table: TableId(meta.id.0),
            key,
            partition: p.canonicalize(&cmp),
        });
        if batch.len() >= 64 {
            n.node
                .engine
                .apply(Mutation {
                    updates: std::mem::take(&mut batch),
                })
                .expect("apply");
        }
    }
    if !batch.is_empty() {
        n.node
            .engine
            .apply(Mutation { updates: batch })
            .expect("apply");
    }
}
