//! The CQL request handler: parses and dispatches QUERY, PREPARE, EXECUTE and BATCH, keeps the
//! prepared-statement cache, and turns results and errors into protocol responses.
//!
//! Statements run on tokio's blocking pool, since the storage engine is synchronous (a
//! `batch`-mode write waits for its fsync), unless the node allows inline execution (the
//! `periodic` commit log, where no statement waits on an fsync). The number of statements
//! running at once is bounded by the server's in-flight request limits.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use md5::{Digest, Md5};
use meridian_cql_parser::{ast, parse_statement, Statement};
use meridian_cql_protocol::{
    Batch, BatchQuery, BatchType, PreparedId, PreparedMetadata, QueryParameters, QueryValues,
    Request, Response, ResponseMessage, ResultBody, Rows, RowsMetadata, Value,
};
use meridian_cql_server::{RequestContext, RequestHandler};
use parking_lot::Mutex;

use crate::context::{BoundValues, ExecOptions, Node, Session};
use crate::error::QueryError;
use crate::modification::{self, BatchInput};
use crate::result::{PreparedInfo, QueryResult, ResultColumn};
use crate::{access, ddl, describe, select};

/// Most prepared statements kept; the least recently used is evicted beyond it (drivers
/// re-prepare on `Unprepared`).
pub const PREPARED_STATEMENTS_MAX: usize = 10_000;

/// A prepared statement.
pub struct PreparedStatement {
    /// Its id: MD5 of the keyspace (if any) and the query text, as Cassandra computes it, so
    /// every node gives the same id.
    pub id: Bytes,
    /// The query text.
    pub query: String,
    /// The parsed statement.
    pub statement: Statement,
    /// Bind markers and result columns.
    pub info: PreparedInfo,
    /// The name of each marker (`:name`), in marker order.
    pub marker_names: Vec<Option<String>>,
}

/// Prepared statements by id, least recently used evicted beyond [`PREPARED_STATEMENTS_MAX`].
/// A hit only stamps the entry with a use counter (O(1) on the EXECUTE path); the scan for the
/// oldest entry happens only when an insert overflows the cache.
struct PreparedCache {
    by_id: HashMap<Bytes, (Arc<PreparedStatement>, u64)>,
    uses: u64,
}

impl PreparedCache {
    fn get(&mut self, id: &[u8]) -> Option<Arc<PreparedStatement>> {
        self.uses += 1;
        let uses = self.uses;
        let (found, last_used) = self.by_id.get_mut(id)?;
        *last_used = uses;
        Some(found.clone())
    }

    fn insert(&mut self, p: Arc<PreparedStatement>) {
        self.uses += 1;
        self.by_id.insert(p.id.clone(), (p, self.uses));
        if self.by_id.len() > PREPARED_STATEMENTS_MAX {
            let oldest = self
                .by_id
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(id, _)| id.clone());
            if let Some(id) = oldest {
                self.by_id.remove(&id);
            }
        }
    }
}

/// The request handler of a node.
#[derive(Clone)]
pub struct QueryProcessor {
    inner: Arc<Inner>,
}

struct Inner {
    node: Arc<Node>,
    prepared: Mutex<PreparedCache>,
}

impl QueryProcessor {
    /// A processor executing statements on `node`.
    pub fn new(node: Arc<Node>) -> Self {
        QueryProcessor {
            inner: Arc::new(Inner {
                node,
                prepared: Mutex::new(PreparedCache {
                    by_id: HashMap::new(),
                    uses: 0,
                }),
            }),
        }
    }

    /// The node.
    pub fn node(&self) -> &Arc<Node> {
        &self.inner.node
    }

    /// Parses and executes one statement (QUERY).
    pub fn query(
        &self,
        session: &Session,
        text: &str,
        params: &QueryParameters,
    ) -> Result<QueryResult, QueryError> {
        let statement = parse(text)?;
        let names: Vec<Option<String>> = marker_names(&statement);
        let values = bind_values(&params.values, &names)?;
        let options = exec_options(params);
        self.execute_statement(session, &statement, &values, &options)
    }

    /// Prepares a statement.
    pub fn prepare(
        &self,
        session: &Session,
        text: &str,
    ) -> Result<Arc<PreparedStatement>, QueryError> {
        let statement = parse(text)?;
        let keyspace = session.keyspace();
        let node = &self.inner.node;
        let mut info = match &statement {
            Statement::Select(s) => select::prepare(node, session, s)?,
            Statement::Insert(_)
            | Statement::Update(_)
            | Statement::Delete(_)
            | Statement::Batch(_) => modification::prepare(node, session, &statement)?,
            _ => PreparedInfo::default(),
        };
        // A named marker (`:name`) is described by its own name, as Cassandra does; drivers
        // bind named values by it.
        let names = marker_names(&statement);
        for (col, name) in info.bind_columns.iter_mut().zip(&names) {
            if let Some(name) = name {
                col.name = name.clone();
            }
        }
        let mut hasher = Md5::new();
        if let Some(ks) = &keyspace {
            hasher.update(ks.as_bytes());
        }
        hasher.update(text.as_bytes());
        let id = Bytes::copy_from_slice(&hasher.finalize());
        let prepared = Arc::new(PreparedStatement {
            id,
            query: text.to_string(),
            marker_names: names,
            statement,
            info,
        });
        self.inner.prepared.lock().insert(prepared.clone());
        Ok(prepared)
    }

    /// Executes a prepared statement.
    pub fn execute(
        &self,
        session: &Session,
        id: &[u8],
        params: &QueryParameters,
    ) -> Result<QueryResult, QueryError> {
        let prepared = self.lookup(id)?;
        let values = bind_values(&params.values, &prepared.marker_names)?;
        let options = exec_options(params);
        self.execute_statement(session, &prepared.statement, &values, &options)
    }

    fn lookup(&self, id: &[u8]) -> Result<Arc<PreparedStatement>, QueryError> {
        self.inner
            .prepared
            .lock()
            .get(id)
            .ok_or_else(|| QueryError::Unprepared(id.to_vec()))
    }

    /// Executes a protocol BATCH.
    pub fn batch(&self, session: &Session, batch: &Batch) -> Result<QueryResult, QueryError> {
        let mut statements = Vec::with_capacity(batch.statements.len());
        for s in &batch.statements {
            let (statement, names) = match &s.query {
                BatchQuery::Query(text) => {
                    let st = parse(text.as_str())?;
                    let names = marker_names(&st);
                    (st, names)
                }
                BatchQuery::Prepared(id) => {
                    let p = self.lookup(id.as_bytes())?;
                    (p.statement.clone(), p.marker_names.clone())
                }
            };
            if !matches!(
                statement,
                Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_)
            ) {
                return Err(QueryError::invalid(format!(
                    "Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed (got {})",
                    statement.kind_name()
                )));
            }
            let values = bind_values(&s.values, &names)?;
            statements.push((statement, values));
        }
        let options = ExecOptions {
            consistency: batch.consistency,
            serial_consistency: batch.serial_consistency,
            timestamp_micros: batch.default_timestamp_micros,
            ..ExecOptions::new()
        };
        let input = BatchInput {
            kind: match batch.batch_type {
                BatchType::Logged => ast::BatchKind::Logged,
                BatchType::Unlogged => ast::BatchKind::Unlogged,
                BatchType::Counter => ast::BatchKind::Counter,
            },
            timestamp: None,
            statements,
        };
        modification::execute_batch(&self.inner.node, session, input, &options)
    }

    /// Executes a parsed statement.
    pub fn execute_statement(
        &self,
        session: &Session,
        statement: &Statement,
        values: &BoundValues,
        options: &ExecOptions,
    ) -> Result<QueryResult, QueryError> {
        let node = &self.inner.node;
        match statement {
            Statement::Select(s) => select::execute(node, session, s, values, options),
            Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => {
                modification::execute(node, session, statement, values, options)
            }
            Statement::Batch(b) => {
                let input = BatchInput::from_statement(b, values)?;
                modification::execute_batch(node, session, input, options)
            }
            Statement::Describe(d) => describe::execute_with_options(node, session, d, options),
            Statement::AccessControl(a) => access::execute_access_control(node, a),
            Statement::CreateFunction(f) => access::create_function(node, session, f),
            Statement::CreateAggregate(a) => access::create_aggregate(node, session, a),
            Statement::DropFunction(f) => access::drop_function(node, session, f),
            Statement::CreateTrigger(t) => access::create_trigger(node, session, t),
            Statement::DropTrigger(t) => access::drop_trigger(node, session, t),
            _ => ddl::execute(node, session, statement, options),
        }
    }

    fn respond(&self, session: Session, request: Request) -> Response {
        let result = match &request {
            Request::Query(q) => self
                .query(&session, q.query.as_str(), &q.params)
                .map(|r| to_result_body(r, q.params.page_size)),
            Request::Prepare(p) => self
                .prepare(&session, p.query.as_str())
                .map(|p| prepared_body(&p)),
            Request::Execute(e) => self
                .execute(&session, e.id.as_bytes(), &e.params)
                .map(|r| to_result_body(r, e.params.page_size)),
            Request::Batch(b) => self.batch(&session, b).map(|r| to_result_body(r, None)),
            other => Err(QueryError::server(format!(
                "unexpected {:?} request in the statement handler",
                other.opcode()
            ))),
        };
        match result.and_then(|r| r) {
            Ok(body) => Response::Result(body),
            Err(e) => {
                if matches!(e, QueryError::Server(_)) {
                    tracing::error!(error = %e, "statement failed with a server error");
                }
                Response::Error(e.to_error_body())
            }
        }
    }
}

fn parse(text: &str) -> Result<Statement, QueryError> {
    parse_statement(text).map_err(|e| QueryError::Syntax(e.to_string()))
}

fn marker_names(statement: &Statement) -> Vec<Option<String>> {
    statement
        .bind_markers()
        .iter()
        .map(|m| m.name.as_ref().map(|n| n.as_str().to_string()))
        .collect()
}

/// The bound values in marker order: positional values as given, named values matched to
/// the markers' names.
fn bind_values(values: &QueryValues, names: &[Option<String>]) -> Result<BoundValues, QueryError> {
    if !values.is_named() {
        let values: Vec<Value> = values.iter().map(|(_, v)| v).collect();
        if values.len() != names.len() {
            return Err(QueryError::invalid(format!(
                "There were {} markers(?) in CQL but {} bound variables",
                names.len(),
                values.len()
            )));
        }
        return Ok(BoundValues { values });
    }
    let mut by_name: HashMap<String, Value> = HashMap::new();
    for (name, v) in values.iter() {
        by_name.insert(name.unwrap_or_default().to_lowercase(), v);
    }
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let Some(name) = name else {
            return Err(QueryError::invalid(format!(
                "Named values were given but bind marker {i} is not named"
            )));
        };
        let v = by_name
            .get(&name.to_lowercase())
            .cloned()
            .ok_or_else(|| QueryError::invalid(format!("Invalid unset value for column {name}")))?;
        out.push(v);
    }
    Ok(BoundValues { values: out })
}

fn exec_options(params: &QueryParameters) -> ExecOptions {
    ExecOptions {
        consistency: params.consistency,
        serial_consistency: params.serial_consistency,
        timestamp_micros: params.default_timestamp_micros,
        page_size: params.page_size,
        paging_state: params.paging_state.clone(),
        ..ExecOptions::new()
    }
}

fn specs(columns: &[ResultColumn]) -> Vec<meridian_cql_protocol::ColumnSpec> {
    columns.iter().map(ResultColumn::to_spec).collect()
}

fn to_result_body(result: QueryResult, page_size: Option<i32>) -> Result<ResultBody, QueryError> {
    Ok(match result {
        QueryResult::Void => ResultBody::Void,
        QueryResult::SetKeyspace(ks) => ResultBody::SetKeyspace(ks),
        QueryResult::SchemaChange(c) => ResultBody::SchemaChange(c),
        QueryResult::Rows(rs) => {
            // A paging state is only ever sent to a client that asked for pages.
            let paging_state = match page_size {
                Some(n) if n > 0 => rs.paging_state,
                _ => None,
            };
            let mut metadata = RowsMetadata::new(specs(&rs.columns));
            metadata.paging_state = paging_state;
            let rows = Rows::from_rows(metadata, rs.rows)
                .map_err(|e| QueryError::server(format!("encode rows: {e}")))?;
            ResultBody::Rows(rows)
        }
    })
}

fn prepared_body(p: &PreparedStatement) -> Result<ResultBody, QueryError> {
    let result_metadata = if p.info.result_columns.is_empty() {
        RowsMetadata::no_metadata(0)
    } else {
        RowsMetadata::new(specs(&p.info.result_columns))
    };
    Ok(ResultBody::Prepared(meridian_cql_protocol::Prepared {
        id: PreparedId(p.id.clone()),
        metadata: PreparedMetadata {
            pk_indexes: p.info.pk_indexes.clone(),
            columns: specs(&p.info.bind_columns),
        },
        result_metadata,
    }))
}

impl RequestHandler for QueryProcessor {
    type Session = Session;

    fn new_session(&self, _peer: SocketAddr) -> Session {
        Session::new()
    }

    async fn handle(
        &self,
        session: &Session,
        request: Request,
        _context: RequestContext,
    ) -> ResponseMessage {
        if self.inner.node.inline_execution() {
            return ResponseMessage::new(self.respond(session.clone(), request));
        }
        let this = self.clone();
        let session = session.clone();
        let response = match tokio::task::spawn_blocking(move || this.respond(session, request))
            .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "statement task failed");
                Response::Error(QueryError::server(format!("internal error: {e}")).to_error_body())
            }
        };
        ResponseMessage::new(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(id: u32, parsed: &Statement) -> Arc<PreparedStatement> {
        Arc::new(PreparedStatement {
            id: Bytes::copy_from_slice(&id.to_be_bytes()),
            query: "SELECT * FROM t".into(),
            statement: parsed.clone(),
            info: PreparedInfo::default(),
            marker_names: Vec::new(),
        })
    }

    #[test]
    fn prepared_cache_is_bounded_and_evicts_the_least_recently_used() {
        let parsed = parse("SELECT * FROM t").unwrap();
        let mut cache = PreparedCache {
            by_id: HashMap::new(),
            uses: 0,
        };
        let max = PREPARED_STATEMENTS_MAX as u32;
        for id in 0..max {
            cache.insert(statement(id, &parsed));
        }
        // Using statement 0 makes statement 1 the least recently used.
        assert!(cache.get(&0u32.to_be_bytes()).is_some());
        cache.insert(statement(max, &parsed));
        assert_eq!(cache.by_id.len(), PREPARED_STATEMENTS_MAX);
        assert!(cache.get(&0u32.to_be_bytes()).is_some());
        assert!(cache.get(&1u32.to_be_bytes()).is_none());
        assert!(cache.get(&max.to_be_bytes()).is_some());
    }
}
