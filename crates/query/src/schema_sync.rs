//! Schema agreement across nodes: a node's schema in the form nodes exchange
//! ([`local_schema_bytes`]), and the merge of a schema received from another node into the
//! node's own ([`apply_remote_schema`], [`merge_remote_schema`]).
//!
//! Merging is `meridian_schema::merge` (per-element last write wins by change timestamp,
//! tombstones for drops; commutative, associative and idempotent), so nodes that exchange
//! their schemas in any order converge on one schema and one version, and a node that was
//! down catches up with the first schema it receives.
//!
//! Storage follows the merged schema with the same invariants as local DDL (see
//! [`crate::ddl`]):
//! - the storage of tables the merge creates exists *before* the merged schema is persisted
//!   and published (and is removed again if persisting fails);
//! - the storage of tables the merge drops (a concurrent `DROP`, or the losing table of two
//!   created concurrently under one name) is removed only *after* the merged schema is
//!   persisted, so a failed write never loses data;
//! - option changes reach storage after the schema is persisted.
//!
//! Clients registered for `SCHEMA_CHANGE` events get one event per keyspace, table or type
//! the merge created, changed or dropped, as for local DDL.
//!
//! The received bytes are untrusted: they are length-checked and decoded by the schema's
//! validating loader; malformed input is an error, never a panic.

use meridian_cql_protocol::Event;
use meridian_schema::{MergeOutcome, Schema};

use crate::context::Node;
use crate::error::QueryError;

/// Largest schema accepted from another node, in bytes (a schema of thousands of tables is a
/// few megabytes).
pub const MAX_REMOTE_SCHEMA_BYTES: usize = 64 * 1024 * 1024;

/// The node's schema as nodes exchange it: the persisted form, with change timestamps and
/// tombstones (see `meridian_schema::Schema::to_persisted`).
pub fn local_schema_bytes(node: &Node) -> Vec<u8> {
    node.schema().to_persisted()
}

/// Merges a schema received from another node (`bytes` from [`local_schema_bytes`] there)
/// into this node's schema, updates storage, persists and publishes the result, and tells
/// registered clients what changed. Returns whether the schema changed (and was persisted).
pub fn apply_remote_schema(node: &Node, bytes: &[u8]) -> Result<bool, QueryError> {
    merge_remote_schema(node, bytes).map(|outcome| outcome.changed)
}

/// [`apply_remote_schema`], returning everything the merge changed.
pub fn merge_remote_schema(node: &Node, bytes: &[u8]) -> Result<MergeOutcome, QueryError> {
    if bytes.len() > MAX_REMOTE_SCHEMA_BYTES {
        return Err(QueryError::server(format!(
            "schema from another node is {} bytes, more than the {MAX_REMOTE_SCHEMA_BYTES} accepted",
            bytes.len()
        )));
    }
    let remote = Schema::from_persisted(bytes)
        .map_err(|e| QueryError::server(format!("invalid schema from another node: {e}")))?;
    // Most exchanges bring nothing new: find out without the DDL lock or a disk write. The
    // schema only grows (in the merge order) under DDL and merges, so nothing new now means
    // nothing new later.
    let current = node.schema();
    if current.merge(&remote)? == *current {
        return Ok(MergeOutcome::default());
    }
    let outcome =
        crate::ddl::change_with_storage(node, |schema| Ok(Some(schema.merge_from(&remote)?)))?
            .unwrap_or_default();
    for event in &outcome.events {
        node.publish(Event::SchemaChange(crate::ddl::schema_change(event)));
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};
    use std::path::Path;

    use meridian_cql_parser::{parse_statement, Statement};
    use meridian_storage::{Engine, EngineConfig};
    use meridian_types::model::TableId;
    use meridian_types::token::Token;
    use proptest::prelude::*;

    use super::*;
    use crate::context::load_schema;
    use crate::{
        ddl, modification, select, BoundValues, ExecOptions, NodeInfo, QueryResult, Session,
    };

    fn info(n: u8) -> NodeInfo {
        NodeInfo {
            cluster_name: "Test Cluster".into(),
            datacenter: "dc1".into(),
            rack: "rack1".into(),
            host_id: uuid::Uuid::from_u128(0x5c4e_0000 + u128::from(n)),
            tokens: vec![Token(i64::from(n) * 1_000)],
            listen_address: IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)),
            rpc_address: IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)),
            native_port: 9042,
            storage_port: 7000,
            release_version: NodeInfo::RELEASE_VERSION.into(),
            cql_version: NodeInfo::CQL_VERSION.into(),
            partitioner: NodeInfo::PARTITIONER.into(),
        }
    }

    /// Opens the node stored in `dir` as the node binary does.
    fn open(dir: &Path, n: u8) -> Node {
        let path = dir.join("schema.json");
        let schema = load_schema(&path).expect("load schema");
        let tables = ddl::storage_tables(&schema).expect("storage tables");
        let mut config = EngineConfig::new(dir.join("storage"));
        config.commitlog_segment_size_bytes = 1024 * 1024;
        config.max_mutation_size_bytes = 512 * 1024;
        config.auto_compaction = false;
        config.block_cache_bytes = 0;
        let (engine, _) = Engine::open(config, tables).expect("open engine");
        let node = Node::new(engine, info(n), schema, path);
        ddl::sync_storage_tables(&node).expect("sync storage");
        node
    }

    struct TestNode {
        dir: tempfile::TempDir,
        node: Node,
        session: Session,
        n: u8,
    }

    impl TestNode {
        fn new(n: u8) -> TestNode {
            let dir = tempfile::tempdir().expect("tempdir");
            let node = open(dir.path(), n);
            TestNode {
                dir,
                node,
                session: Session::new(),
                n,
            }
        }

        fn run(&self, cql: &str) -> Result<QueryResult, QueryError> {
            let statement = parse_statement(cql).map_err(|e| QueryError::Syntax(e.to_string()))?;
            let (values, options) = (BoundValues::none(), ExecOptions::new());
            match &statement {
                Statement::Select(s) => {
                    select::execute(&self.node, &self.session, s, &values, &options)
                }
                Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => {
                    modification::execute(&self.node, &self.session, &statement, &values, &options)
                }
                other => ddl::execute(&self.node, &self.session, other, &options),
            }
        }

        fn ok(&self, cql: &str) -> QueryResult {
            self.run(cql)
                .unwrap_or_else(|e| panic!("node {}: {cql} failed: {e} ({e:?})", self.n))
        }

        /// The rows of a SELECT.
        fn row_count(&self, cql: &str) -> usize {
            match self.ok(cql) {
                QueryResult::Rows(rs) => rs.rows.len(),
                other => panic!("{cql} returned {other:?}"),
            }
        }

        /// Pulls the schema of `from`.
        fn pull(&self, from: &TestNode) -> MergeOutcome {
            merge_remote_schema(&self.node, &local_schema_bytes(&from.node))
                .unwrap_or_else(|e| panic!("node {} pulling from {}: {e}", self.n, from.n))
        }

        fn table_id(&self, ks: &str, table: &str) -> Option<TableId> {
            self.node.schema().table(ks, table).map(|t| t.id)
        }

        fn has_storage(&self, id: TableId) -> bool {
            self.node.engine.table_ids().contains(&id)
        }

        /// Shuts the engine down and opens the node again from its directory.
        fn reopen(self) -> TestNode {
            self.node.engine.shutdown().expect("shutdown");
            let TestNode {
                dir,
                node,
                session,
                n,
            } = self;
            drop(node);
            let node = open(dir.path(), n);
            TestNode {
                dir,
                node,
                session,
                n,
            }
        }
    }

    const CREATE_KS: &str =
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}";

    /// Two nodes that share keyspace `ks`.
    fn pair() -> (TestNode, TestNode) {
        let a = TestNode::new(1);
        let b = TestNode::new(2);
        a.ok(CREATE_KS);
        b.pull(&a);
        (a, b)
    }

    fn assert_converged(a: &TestNode, b: &TestNode) {
        let (sa, sb) = (a.node.schema(), b.node.schema());
        assert_eq!(sa.version(), sb.version());
        // The schema clock is node-local (it follows each node's wall clock); everything
        // merged must be equal.
        assert_eq!(
            sa.keyspaces(),
            sb.keyspaces(),
            "same content and timestamps"
        );
        assert_eq!(sa.tombstones(), sb.tombstones(), "same tombstones");
        for t in sa.user_keyspaces().flat_map(|ks| ks.tables.values()) {
            assert!(
                a.has_storage(t.id),
                "node {} lacks storage for {}",
                a.n,
                t.name
            );
            assert!(
                b.has_storage(t.id),
                "node {} lacks storage for {}",
                b.n,
                t.name
            );
        }
    }

    fn event_names(outcome: &MergeOutcome) -> Vec<String> {
        outcome
            .events
            .iter()
            .map(|e| {
                format!(
                    "{} {} {}{}",
                    e.change.as_str(),
                    e.target.as_str(),
                    e.keyspace,
                    e.name.as_ref().map(|n| format!(".{n}")).unwrap_or_default()
                )
            })
            .collect()
    }

    #[test]
    fn a_new_node_takes_the_schema_and_can_use_it() {
        let a = TestNode::new(1);
        a.ok(CREATE_KS);
        a.ok("CREATE TYPE ks.point (x int, y int)");
        a.ok("CREATE TABLE ks.t (k int PRIMARY KEY, v text, p frozen<point>)");
        a.ok("INSERT INTO ks.t (k, v) VALUES (1, 'on a')");
        let b = TestNode::new(2);
        assert_ne!(a.node.schema().version(), b.node.schema().version());
        let outcome = b.pull(&a);
        assert!(outcome.changed);
        assert_eq!(
            event_names(&outcome),
            vec![
                "CREATED KEYSPACE ks",
                "CREATED TYPE ks.point",
                "CREATED TABLE ks.t"
            ]
        );
        assert_converged(&a, &b);
        // The table is usable on B (its own storage: data is not replicated by this).
        b.ok("INSERT INTO ks.t (k, v, p) VALUES (2, 'on b', {x: 1, y: 2})");
        assert_eq!(b.row_count("SELECT * FROM ks.t"), 1);
        b.ok("ALTER TABLE ks.t ADD w int");
        // Nothing new the second time: no change, no write.
        assert!(!apply_remote_schema(&b.node, &local_schema_bytes(&a.node)).expect("apply"));
        // A catches up with B's ALTER.
        let back = a.pull(&b);
        assert_eq!(event_names(&back), vec!["UPDATED TABLE ks.t"]);
        assert_converged(&a, &b);
        // The merged schema is persisted: B restarts with it and its storage.
        let version = b.node.schema().version();
        let b = b.reopen();
        assert_eq!(b.node.schema().version(), version);
        assert_eq!(b.row_count("SELECT * FROM ks.t"), 1);
    }

    /// Both nodes create `ks.t` with different columns, and B adds a table A does not have.
    fn concurrent_creates() -> (TestNode, TestNode) {
        let (a, b) = pair();
        a.ok("CREATE TABLE ks.t (k int PRIMARY KEY, from_a int)");
        b.ok("CREATE TABLE ks.t (k int PRIMARY KEY, from_b text)");
        b.ok("CREATE TABLE ks.only_b (k int PRIMARY KEY)");
        a.ok("INSERT INTO ks.t (k, from_a) VALUES (1, 1)");
        b.ok("INSERT INTO ks.t (k, from_b) VALUES (1, 'b')");
        (a, b)
    }

    #[test]
    fn concurrent_creates_converge_in_either_order() {
        for a_first in [true, false] {
            let (a, b) = concurrent_creates();
            let (id_a, id_b) = (a.table_id("ks", "t"), b.table_id("ks", "t"));
            assert_ne!(id_a, id_b);
            if a_first {
                b.pull(&a);
                a.pull(&b);
            } else {
                a.pull(&b);
                b.pull(&a);
            }
            assert_converged(&a, &b);
            let winner = a.table_id("ks", "t").expect("t");
            let loser = if Some(winner) == id_a { id_b } else { id_a };
            let loser = loser.expect("loser id");
            assert!(
                !a.has_storage(loser) && !b.has_storage(loser),
                "loser's storage dropped"
            );
            assert!(a.table_id("ks", "only_b").is_some());
            let columns = a.node.schema().table("ks", "t").map(|t| t.columns().len());
            assert_eq!(columns, Some(2), "one of the two definitions, whole");
            // The surviving table works on both nodes.
            for n in [&a, &b] {
                n.ok("INSERT INTO ks.t (k) VALUES (7)");
                assert!(n.row_count("SELECT * FROM ks.t") >= 1);
            }
        }
    }

    #[test]
    fn a_drop_beats_a_concurrent_alter_in_either_order() {
        for a_first in [true, false] {
            let (a, b) = pair();
            a.ok("CREATE TABLE ks.t (k int PRIMARY KEY, v int)");
            b.pull(&a);
            let id = a.table_id("ks", "t").expect("t");
            b.ok("INSERT INTO ks.t (k, v) VALUES (1, 1)");
            a.ok("DROP TABLE ks.t");
            b.ok("ALTER TABLE ks.t ADD w text");
            b.ok("ALTER TABLE ks.t WITH comment = 'altered on b'");
            if a_first {
                let outcome = b.pull(&a);
                assert_eq!(event_names(&outcome), vec!["DROPPED TABLE ks.t"]);
                a.pull(&b);
            } else {
                a.pull(&b);
                b.pull(&a);
            }
            assert_converged(&a, &b);
            assert!(a.table_id("ks", "t").is_none());
            assert!(!a.has_storage(id) && !b.has_storage(id));
        }
    }

    #[test]
    fn drop_then_recreate_reaches_a_stale_node() {
        let (a, b) = pair();
        a.ok("CREATE TABLE ks.t (k int PRIMARY KEY, v int)");
        b.pull(&a);
        let old = a.table_id("ks", "t").expect("t");
        b.ok("INSERT INTO ks.t (k, v) VALUES (1, 1)");
        a.ok("DROP TABLE ks.t");
        a.ok("CREATE TABLE ks.t (k int PRIMARY KEY, name text)");
        let new = a.table_id("ks", "t").expect("t again");
        assert_ne!(old, new);
        // B was away during both: one pull brings it up to date.
        let outcome = b.pull(&a);
        assert_eq!(
            event_names(&outcome),
            vec!["DROPPED TABLE ks.t", "CREATED TABLE ks.t"]
        );
        assert_converged(&a, &b);
        assert_eq!(b.table_id("ks", "t"), Some(new));
        assert!(!b.has_storage(old));
        assert_eq!(b.row_count("SELECT * FROM ks.t"), 0, "the old data is gone");
        b.ok("INSERT INTO ks.t (k, name) VALUES (1, 'new')");
        // B's stale copy cannot bring the old table back to A.
        a.pull(&b);
        assert_converged(&a, &b);
        // Nor can a third node that only ever saw the old table.
        let c = TestNode::new(3);
        c.ok(CREATE_KS);
        c.pull(&a);
        assert_converged(&a, &c);
    }

    #[test]
    fn concurrent_keyspace_drop_and_table_create() {
        let (a, b) = pair();
        a.ok("CREATE TABLE ks.t1 (k int PRIMARY KEY)");
        b.pull(&a);
        a.ok("DROP KEYSPACE ks");
        // B has not seen the drop; its next changes are later than it (by the clock, and by
        // the logical clock of schema changes: B made one more change than A).
        b.ok("ALTER TABLE ks.t1 WITH comment = 'altered on b'");
        b.ok("CREATE TABLE ks.t2 (k int PRIMARY KEY)");
        a.pull(&b);
        b.pull(&a);
        assert_converged(&a, &b);
        let schema = a.node.schema();
        let tables: Vec<&String> = schema.keyspace("ks").expect("ks").tables.keys().collect();
        assert_eq!(
            tables,
            vec!["t2"],
            "the table created concurrently keeps the keyspace"
        );
    }

    #[test]
    fn malformed_schemas_are_refused() {
        let a = TestNode::new(1);
        a.ok(CREATE_KS);
        let version = a.node.schema().version();
        for bytes in [
            &b""[..],
            b"{",
            b"null",
            b"{\"format_version\":1}",
            b"{\"format_version\":99,\"keyspaces\":[]}",
            b"{\"format_version\":1,\"keyspaces\":[{\"name\":\"system\",\"replication\":{},\"durable_writes\":true,\"types\":[],\"tables\":[]}]}",
        ] {
            assert!(apply_remote_schema(&a.node, bytes).is_err(), "{bytes:?}");
        }
        assert_eq!(a.node.schema().version(), version);
        let big = vec![b' '; MAX_REMOTE_SCHEMA_BYTES + 1];
        assert!(apply_remote_schema(&a.node, &big).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn mangled_schemas_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
            let a = TestNode::new(1);
            a.ok(CREATE_KS);
            a.ok("CREATE TABLE ks.t (k int PRIMARY KEY, v text)");
            a.ok("DROP TABLE ks.t");
            let mut bytes = local_schema_bytes(&a.node);
            for (at, value) in flips {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            let len = bytes.len();
            bytes.truncate(len - cut.index(len / 4 + 1));
            let b = TestNode::new(2);
            // Accepted or refused, never a panic; the node stays usable either way.
            let _ = apply_remote_schema(&b.node, &bytes);
            b.ok(CREATE_KS.replace("KEYSPACE", "KEYSPACE IF NOT EXISTS").as_str());
        }
    }
}
