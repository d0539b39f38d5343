//! Meridian's schema: keyspace, table and user-defined type metadata, validated schema
//! changes, the schema version, Cassandra 5.0's system keyspaces, the rows of the
//! `system_schema` / `system_virtual_schema` tables, and `DESCRIBE` output.
//!
//! The crate is pure: no I/O, no threads, no clocks, no randomness. Callers supply what
//! needs the outside world (new table ids, drop timestamps, the known datacenters).
//!
//! * [`Schema`] holds every keyspace; system keyspaces ([`system`]) are always present and
//!   immutable; user keyspaces change only through the DDL methods ([`ddl`]), which validate
//!   like Cassandra (same checks, order, messages and error classes, see [`SchemaError`]).
//! * [`Schema::version`] digests the distributed schema (user keyspaces and the replicated
//!   system keyspaces; MD5, as a version 3 UUID): the same content gives the same version on
//!   every node.
//! * [`Schema`] implements serde `Serialize` / `Deserialize` (the distributed keyspaces, with
//!   a format version; see [`persist`]).
//! * [`merge`] combines the schemas of two nodes (per-element last write wins by change
//!   timestamp, tombstones for drops) so that DDL on any node converges everywhere.
//! * [`rows`] generates `system_schema.*` and `system_virtual_schema.*` rows;
//!   [`describe`] prints `CREATE` statements exactly as Cassandra 5.0's `DESCRIBE`.

pub mod cql;
pub mod ddl;
pub mod describe;
pub mod error;
pub mod keyspace;
pub mod merge;
pub mod params;
pub mod persist;
pub mod replication;
pub mod rows;
pub mod schema;
pub mod system;
pub mod table;

pub use ddl::{
    AlterKeyspace, AlterTableOp, AlterTypeOp, ChangeTarget, ChangeType, ClusterTopology, ColumnDef,
    CreateKeyspace, CreateTable, CreateType, DdlOutcome, SchemaChangeEvent,
};
pub use describe::{
    create_keyspace_statement, create_table_statement, create_type_statement, describe_keyspace,
    describe_schema, describe_table, describe_type, DescribeRow, ElementType,
};
pub use error::{ErrorKind, SchemaError};
pub use keyspace::{KeyspaceMetadata, KeyspaceSchema, UserType};
pub use merge::{MergeOutcome, TableStamps, Tombstones};
pub use params::{Caching, OptionValue, ReadRepair, SpeculativeRetry, TableParams};
pub use replication::{Replication, ReplicationContext};
pub use rows::{system_schema_rows, system_table_rows, virtual_schema_rows, Row};
pub use schema::Schema;
pub use table::{ColumnKind, ColumnMetadata, DroppedColumn, TableMetadata};
