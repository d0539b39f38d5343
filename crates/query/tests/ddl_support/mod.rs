//! Shared helpers of the `ddl_*` integration tests: a node on a temporary directory (engine,
//! persisted schema, storage synced like at node start) and a way to run CQL text through
//! the DDL and DESCRIBE entry points.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use meridian_cql_parser::{parse_statement, Statement};
use meridian_query::context::load_schema;
use meridian_query::{ddl, describe, ExecOptions, Node, NodeInfo, QueryError, QueryResult};
use meridian_query::{ResultSet, Session};
use meridian_storage::{Engine, EngineConfig};
use meridian_types::token::Token;

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
        listen_address: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)),
        rpc_address: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)),
        native_port: 9042,
        storage_port: 7000,
        release_version: NodeInfo::RELEASE_VERSION.into(),
        cql_version: NodeInfo::CQL_VERSION.into(),
        partitioner: NodeInfo::PARTITIONER.into(),
    }
}

fn engine_config(dir: &Path) -> EngineConfig {
    let mut c = EngineConfig::new(dir.join("storage"));
    c.commitlog_segment_size_bytes = 1024 * 1024;
    c.max_mutation_size_bytes = 512 * 1024;
    c.auto_compaction = false;
    c.block_cache_bytes = 0;
    c
}

/// The schema file of a node directory.
pub fn schema_path(dir: &Path) -> PathBuf {
    dir.join("schema.json")
}

/// Opens (or reopens) the node stored in `dir` the way the node binary does: load the
/// schema, open the engine with its tables, then sync storage.
pub fn open(dir: &Path) -> Node {
    let path = schema_path(dir);
    let schema = load_schema(&path).expect("load schema");
    let tables = ddl::storage_tables(&schema).expect("storage tables");
    let (engine, _) = Engine::open(engine_config(dir), tables).expect("open engine");
    let node = Node::new(engine, info(), schema, path);
    ddl::sync_storage_tables(&node).expect("sync storage");
    node
}

/// A node on a fresh temporary directory, with a session.
pub struct TestNode {
    /// Keeps the directory alive.
    pub dir: tempfile::TempDir,
    /// The node.
    pub node: Node,
    /// A client session.
    pub session: Session,
}

impl TestNode {
    /// A fresh node.
    pub fn new() -> TestNode {
        let dir = tempfile::tempdir().expect("tempdir");
        let node = open(dir.path());
        TestNode {
            dir,
            node,
            session: Session::new(),
        }
    }

    /// Runs one statement.
    pub fn run(&self, cql: &str) -> Result<QueryResult, QueryError> {
        run(&self.node, &self.session, cql, &ExecOptions::new())
    }

    /// Runs one statement that must succeed.
    pub fn ok(&self, cql: &str) -> QueryResult {
        self.run(cql)
            .unwrap_or_else(|e| panic!("{cql} failed: {e} ({e:?})"))
    }

    /// Runs one statement that must fail; returns the error.
    pub fn err(&self, cql: &str) -> QueryError {
        match self.run(cql) {
            Ok(r) => panic!("{cql} should fail, returned {r:?}"),
            Err(e) => e,
        }
    }

    /// Runs a DESCRIBE that must succeed; returns its rows.
    pub fn rows(&self, cql: &str) -> ResultSet {
        match self.ok(cql) {
            QueryResult::Rows(rs) => rs,
            other => panic!("{cql} returned {other:?}"),
        }
    }

    /// Shuts the engine down and reopens the node from its directory.
    pub fn reopen(self) -> TestNode {
        self.node.engine.shutdown().expect("shutdown");
        let TestNode { dir, node, session } = self;
        drop(node);
        let node = open(dir.path());
        TestNode { dir, node, session }
    }
}

/// Parses and runs one statement through `ddl::execute` or `describe::execute_with_options`.
pub fn run(
    node: &Node,
    session: &Session,
    cql: &str,
    options: &ExecOptions,
) -> Result<QueryResult, QueryError> {
    let statement = parse_statement(cql).map_err(|e| QueryError::Syntax(e.to_string()))?;
    match &statement {
        Statement::Describe(d) => describe::execute_with_options(node, session, d, options),
        other => ddl::execute(node, session, other, options),
    }
}

/// A text cell.
pub fn text(cell: &Option<Bytes>) -> String {
    let bytes = cell.as_ref().expect("non-null cell");
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

/// The rows of a result set as strings.
pub fn strings(rs: &ResultSet) -> Vec<Vec<String>> {
    rs.rows
        .iter()
        .map(|r| r.iter().map(text).collect())
        .collect()
}

/// The names of the result columns.
pub fn column_names(rs: &ResultSet) -> Vec<String> {
    rs.columns.iter().map(|c| c.name.clone()).collect()
}

/// The CREATE KEYSPACE statement used by most tests.
pub const CREATE_KS: &str =
    "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}";
