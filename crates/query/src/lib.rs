//! CQL statement execution on one node.
//!
//! The CQL server (`meridian-cql-server`) hands each QUERY, PREPARE, EXECUTE and BATCH to
//! [`processor::QueryProcessor`], which parses the text (`meridian-cql-parser`), checks it
//! against the schema (`meridian-schema`) and executes it against the storage engine
//! (`meridian-storage`), on a blocking thread since the engine is synchronous.
//!
//! Modules:
//! - [`context`]: the node (engine, schema, identity), sessions, per-request options, bound
//!   values, timestamps.
//! - [`terms`] and [`functions`]: CQL terms (literals, collections, bind markers, function
//!   calls) evaluated into serialized values for their receivers; native functions.
//! - [`ddl`] and [`describe`]: schema statements, `USE`, `TRUNCATE`, server-side `DESCRIBE`.
//! - [`access`]: roles, users, permissions, user-defined functions and aggregates, triggers:
//!   features Meridian does not have, answered as Cassandra does in its default configuration.
//! - [`modification`]: `INSERT`, `UPDATE`, `DELETE`, `BATCH`, conditional statements.
//! - [`select`] and [`virtual_tables`]: `SELECT` on tables and on `system*` virtual tables.
//! - [`result`]: results and prepared-statement metadata; [`error`]: errors, mapped to CQL
//!   error codes in one place.
//!
//! What it must not depend on: networking beyond the server's handler trait, gossip or the
//! coordinator (the single-node executor calls the storage engine directly; the coordinator
//! will sit between them).

pub mod access;
pub mod context;
pub mod ddl;
pub mod describe;
pub mod error;
pub mod functions;
pub mod json;
pub mod modification;
pub mod placement;
pub mod processor;
pub mod result;
pub mod schema_sync;
pub mod select;
pub mod terms;
pub mod virtual_tables;

pub use context::{BoundValues, ExecOptions, Node, NodeInfo, Session};
pub use error::QueryError;
pub use result::{PreparedInfo, QueryResult, ResultColumn, ResultSet};
