//! Server-side `DESCRIBE` (Cassandra 4.0+), as cqlsh 6.x expects it.
//!
//! Results are rows of the `system.describe` pseudo table, all `text`:
//! - listings (`DESCRIBE KEYSPACES`, `TABLES`, `TYPES`, `FUNCTIONS`, `AGGREGATES`):
//!   `keyspace_name`, `type`, `name`;
//! - elements (`DESCRIBE [FULL] SCHEMA`, `KEYSPACE`, `TABLE`, `TYPE`, generic `DESCRIBE
//!   name`): the same plus `create_statement`, printed by the schema crate exactly as
//!   Cassandra 5.0 prints it;
//! - `DESCRIBE CLUSTER`: `cluster`, `partitioner`, `snitch`, plus `range_ownership`
//!   (`map<text, list<text>>`) when the session uses a non-system keyspace.
//!
//! Listings cover the session's keyspace when it has one, else every keyspace (by name,
//! case-insensitively, like Cassandra). Meridian has no user-defined functions,
//! aggregates, secondary indexes or materialized views, so describing one reports
//! Cassandra's "not found" errors and their listings are empty.
//!
//! Paging follows Cassandra: a page is a slice of the full result, and the paging state
//! records the offset of the next row and the schema version it was computed from; a page
//! requested after the schema changed is refused.

use bytes::{BufMut, Bytes, BytesMut};
use meridian_cql_parser::ast::{self, DescribeTarget};
use meridian_schema::describe::{
    describe_generic, describe_keyspace_rows, describe_keyspaces, describe_listing,
    describe_schema_rows, describe_table_rows, describe_type_rows,
};
use meridian_schema::system::{is_local_system_keyspace, is_system_keyspace};
use meridian_schema::{DescribeRow, ElementType, Replication, Schema};
use meridian_types::cql_type::CqlType;
use meridian_types::value::CqlValue;

use crate::context::{ExecOptions, Node, Session};
use crate::error::QueryError;
use crate::result::{QueryResult, ResultColumn, ResultSet};

/// Keyspace of the result columns.
pub const RESULT_KEYSPACE: &str = "system";
/// Table of the result columns.
pub const RESULT_TABLE: &str = "describe";

/// The snitch `DESCRIBE CLUSTER` reports (Cassandra's default, wrapped in the dynamic
/// snitch, with the `org.apache.cassandra.locator.` prefix trimmed).
pub const SNITCH: &str = "DynamicEndpointSnitch";

/// Cassandra's error when a page is requested after the schema changed.
pub const SCHEMA_CHANGED_WHILE_PAGING_MESSAGE: &str = "The schema has changed since the previous page of the DESCRIBE statement result. Please retry the DESCRIBE statement.";

/// Cassandra's error when an element needs a keyspace and none is given or in use.
pub const NO_KEYSPACE_MESSAGE: &str = "No keyspace specified and no current keyspace";

/// Version tag of Meridian's DESCRIBE paging state.
const PAGING_STATE_VERSION: u16 = 1;
/// Size of the paging state: version, schema version, offset.
const PAGING_STATE_LEN: usize = 2 + 16 + 8;

/// Executes a `DESCRIBE` statement, unpaged.
pub fn execute(
    node: &Node,
    session: &Session,
    statement: &ast::DescribeStatement,
) -> Result<QueryResult, QueryError> {
    execute_with_options(node, session, statement, &ExecOptions::new())
}

/// Executes a `DESCRIBE` statement with the request's paging options (`page_size`,
/// `paging_state`).
pub fn execute_with_options(
    node: &Node,
    session: &Session,
    statement: &ast::DescribeStatement,
    options: &ExecOptions,
) -> Result<QueryResult, QueryError> {
    let schema = node.schema();
    let version = schema.version();
    let offset = match &options.paging_state {
        Some(state) => decode_paging_state(state, version)?,
        None => 0,
    };
    let (columns, rows) = describe(node, session, statement, &schema)?;
    let skip = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(rows.len());
    let page_size = options
        .page_size
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n > 0);
    let end = match page_size {
        Some(n) => skip.saturating_add(n).min(rows.len()),
        None => rows.len(),
    };
    let paging_state = (end < rows.len()).then(|| encode_paging_state(version, end as u64));
    let rows = rows.into_iter().skip(skip).take(end - skip).collect();
    Ok(QueryResult::Rows(ResultSet {
        columns,
        rows,
        paging_state,
    }))
}

type Rows = Vec<Vec<Option<Bytes>>>;

/// The result columns and all rows of a statement.
fn describe(
    node: &Node,
    session: &Session,
    statement: &ast::DescribeStatement,
    schema: &Schema,
) -> Result<(Vec<ResultColumn>, Rows), QueryError> {
    let internals = statement.with_internals;
    let current = session.keyspace();
    let current = current.as_deref();
    let element_keyspace = |given: &Option<ast::Identifier>| -> Result<String, QueryError> {
        match (given, current) {
            (Some(ks), _) => Ok(ks.as_str().to_string()),
            (None, Some(ks)) => Ok(ks.to_string()),
            (None, None) => Err(QueryError::invalid(NO_KEYSPACE_MESSAGE)),
        }
    };
    let rows = match &statement.target {
        DescribeTarget::Cluster => return Ok(cluster(node, current, schema)),
        DescribeTarget::Keyspaces => listing(describe_keyspaces(schema)),
        DescribeTarget::Tables => listing(describe_listing(schema, current, ElementType::Table)?),
        DescribeTarget::Types => listing(describe_listing(schema, current, ElementType::Type)?),
        DescribeTarget::Functions | DescribeTarget::Aggregates => {
            // No user-defined functions or aggregates exist; the keyspace in use must.
            if let Some(ks) = current {
                require_keyspace(schema, ks)?;
            }
            listing(Vec::new())
        }
        DescribeTarget::Schema { full } => elements(describe_schema_rows(schema, *full, internals)),
        DescribeTarget::Keyspace { only, name } => {
            let ks = element_keyspace(name)?;
            elements(describe_keyspace_rows(schema, &ks, *only, internals)?)
        }
        DescribeTarget::Table(name) => {
            let ks = element_keyspace(&name.keyspace)?;
            elements(describe_table_rows(
                schema,
                &ks,
                name.name.as_str(),
                internals,
            )?)
        }
        DescribeTarget::Type(name) => {
            let ks = element_keyspace(&name.keyspace)?;
            elements(describe_type_rows(schema, &ks, name.name.as_str())?)
        }
        DescribeTarget::Index(name) => {
            let ks = element_keyspace(&name.keyspace)?;
            require_keyspace(schema, &ks)?;
            return Err(QueryError::invalid(format!(
                "Table for existing index '{}' not found in '{ks}'",
                name.name.as_str()
            )));
        }
        DescribeTarget::MaterializedView(name) => {
            let ks = element_keyspace(&name.keyspace)?;
            require_keyspace(schema, &ks)?;
            return Err(QueryError::invalid(format!(
                "Materialized view '{}' not found in '{ks}'",
                name.name.as_str()
            )));
        }
        DescribeTarget::Function(name) | DescribeTarget::Aggregate(name) => {
            let ks = element_keyspace(&name.keyspace)?;
            require_keyspace(schema, &ks)?;
            let what = if matches!(statement.target, DescribeTarget::Function(_)) {
                "function"
            } else {
                "aggregate"
            };
            return Err(QueryError::invalid(format!(
                "User defined {what} '{}' not found in '{ks}'",
                name.name.as_str()
            )));
        }
        DescribeTarget::Generic(name) => elements(describe_generic(
            schema,
            name.keyspace.as_ref().map(ast::Identifier::as_str),
            name.name.as_str(),
            current,
            internals,
        )?),
    };
    Ok(rows)
}

/// Cassandra's `validateKeyspace`: `'ks' not found in keyspaces`.
fn require_keyspace(schema: &Schema, keyspace: &str) -> Result<(), QueryError> {
    match schema.keyspace(keyspace) {
        Some(_) => Ok(()),
        None => Err(QueryError::invalid(format!(
            "'{keyspace}' not found in keyspaces"
        ))),
    }
}

fn text_column(name: &str) -> ResultColumn {
    ResultColumn::new(RESULT_KEYSPACE, RESULT_TABLE, name, CqlType::Text)
}

fn text(s: &str) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(s.as_bytes()))
}

/// The columns of listings.
pub fn listing_columns() -> Vec<ResultColumn> {
    ["keyspace_name", "type", "name"]
        .into_iter()
        .map(text_column)
        .collect()
}

/// The columns of element descriptions.
pub fn element_columns() -> Vec<ResultColumn> {
    ["keyspace_name", "type", "name", "create_statement"]
        .into_iter()
        .map(text_column)
        .collect()
}

fn listing(rows: Vec<DescribeRow>) -> (Vec<ResultColumn>, Rows) {
    let rows = rows
        .iter()
        .map(|r| {
            vec![
                text(&r.keyspace_name),
                text(r.element_type.as_str()),
                text(&r.name),
            ]
        })
        .collect();
    (listing_columns(), rows)
}

fn elements(rows: Vec<DescribeRow>) -> (Vec<ResultColumn>, Rows) {
    let rows = rows
        .iter()
        .map(|r| {
            vec![
                text(&r.keyspace_name),
                text(r.element_type.as_str()),
                text(&r.name),
                text(&r.create_statement),
            ]
        })
        .collect();
    (element_columns(), rows)
}

/// `DESCRIBE CLUSTER`.
fn cluster(node: &Node, current: Option<&str>, schema: &Schema) -> (Vec<ResultColumn>, Rows) {
    let partitioner = node
        .info
        .partitioner
        .strip_prefix("org.apache.cassandra.dht.")
        .unwrap_or(&node.info.partitioner);
    let mut columns = vec![
        text_column("cluster"),
        text_column("partitioner"),
        text_column("snitch"),
    ];
    let mut row = vec![
        text(&node.info.cluster_name),
        text(partitioner),
        text(SNITCH),
    ];
    let ownership_keyspace =
        current.filter(|ks| !is_local_system_keyspace(ks) && !is_system_keyspace(ks));
    if let Some(ks) = ownership_keyspace {
        let replicated_here = schema
            .keyspace(ks)
            .is_some_and(|k| replicates_to(&k.metadata.replication, &node.info.datacenter));
        columns.push(ResultColumn::new(
            RESULT_KEYSPACE,
            RESULT_TABLE,
            "range_ownership",
            CqlType::Map(
                Box::new(CqlType::Text),
                Box::new(CqlType::List(Box::new(CqlType::Text))),
            ),
        ));
        row.push(Some(range_ownership(node, replicated_here)));
    }
    (columns, vec![row])
}

/// Whether a keyspace has a replica in `datacenter` (this node's).
fn replicates_to(replication: &Replication, datacenter: &str) -> bool {
    match replication {
        Replication::Simple { replication_factor } => *replication_factor > 0,
        Replication::NetworkTopology { datacenters } => {
            datacenters.get(datacenter).is_some_and(|rf| *rf > 0)
        }
        Replication::Local => true,
    }
}

/// The ranges of the node's tokens, each keyed by its end token, with the endpoints that
/// replicate it (this node, when the keyspace has a replica in its datacenter).
fn range_ownership(node: &Node, replicated_here: bool) -> Bytes {
    let mut tokens: Vec<i64> = node.info.tokens.iter().map(|t| t.0).collect();
    tokens.sort_unstable();
    tokens.dedup();
    let endpoint = std::net::SocketAddr::new(node.info.listen_address, node.info.storage_port);
    let endpoints = if replicated_here {
        vec![CqlValue::Text(endpoint.to_string())]
    } else {
        Vec::new()
    };
    let map = CqlValue::Map(
        tokens
            .into_iter()
            .map(|t| {
                (
                    CqlValue::Text(t.to_string()),
                    CqlValue::List(endpoints.clone()),
                )
            })
            .collect(),
    );
    let mut buf = BytesMut::new();
    map.serialize(&mut buf);
    buf.freeze()
}

fn encode_paging_state(version: uuid::Uuid, offset: u64) -> Bytes {
    let mut buf = BytesMut::with_capacity(PAGING_STATE_LEN);
    buf.put_u16(PAGING_STATE_VERSION);
    buf.put_slice(version.as_bytes());
    buf.put_u64(offset);
    buf.freeze()
}

/// The offset a paging state resumes from; untrusted bytes, checked without panicking.
fn decode_paging_state(state: &[u8], version: uuid::Uuid) -> Result<u64, QueryError> {
    let invalid = || QueryError::invalid("Invalid paging state.");
    if state.len() != PAGING_STATE_LEN {
        return Err(invalid());
    }
    let tag = state.get(0..2).ok_or_else(invalid)?;
    if u16::from_be_bytes([tag[0], tag[1]]) != PAGING_STATE_VERSION {
        return Err(QueryError::invalid("Incompatible paging state"));
    }
    let schema_version = state
        .get(2..18)
        .and_then(|b| uuid::Uuid::from_slice(b).ok())
        .ok_or_else(invalid)?;
    if schema_version != version {
        return Err(QueryError::invalid(SCHEMA_CHANGED_WHILE_PAGING_MESSAGE));
    }
    let offset: [u8; 8] = state
        .get(18..26)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(invalid)?;
    Ok(u64::from_be_bytes(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_states_round_trip_and_reject_garbage() {
        let v = uuid::Uuid::from_u128(7);
        let state = encode_paging_state(v, 42);
        assert_eq!(decode_paging_state(&state, v), Ok(42));
        assert_eq!(
            decode_paging_state(&state, uuid::Uuid::from_u128(8)),
            Err(QueryError::invalid(SCHEMA_CHANGED_WHILE_PAGING_MESSAGE))
        );
        assert_eq!(
            decode_paging_state(&state[..10], v),
            Err(QueryError::invalid("Invalid paging state."))
        );
        let mut wrong = state.to_vec();
        wrong[1] = 9;
        assert_eq!(
            decode_paging_state(&wrong, v),
            Err(QueryError::invalid("Incompatible paging state"))
        );
        assert!(decode_paging_state(&[], v).is_err());
    }

    #[test]
    fn replication_to_this_datacenter() {
        assert!(replicates_to(
            &Replication::Simple {
                replication_factor: 1
            },
            "dc1"
        ));
        let nts = Replication::NetworkTopology {
            datacenters: [("dc2".to_string(), 3)].into_iter().collect(),
        };
        assert!(!replicates_to(&nts, "dc1"));
        assert!(replicates_to(&nts, "dc2"));
    }
}
