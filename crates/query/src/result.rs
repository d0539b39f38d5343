//! Results of statements and the metadata of prepared statements.

use bytes::Bytes;
use meridian_cql_protocol::{ColumnSpec, ColumnTypeSpec, SchemaChange, UdtField, UdtSpec};
use meridian_types::cql_type::CqlType;

/// A result column (or a bind marker): where it comes from, its name and type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultColumn {
    /// Keyspace.
    pub keyspace: String,
    /// Table.
    pub table: String,
    /// Column name, alias, or marker name (`[limit]`, `in(k)`, ...).
    pub name: String,
    /// Type.
    pub ty: CqlType,
}

impl ResultColumn {
    /// A result column.
    pub fn new(keyspace: &str, table: &str, name: impl Into<String>, ty: CqlType) -> Self {
        ResultColumn {
            keyspace: keyspace.to_string(),
            table: table.to_string(),
            name: name.into(),
            ty,
        }
    }

    /// The protocol column spec.
    pub fn to_spec(&self) -> ColumnSpec {
        ColumnSpec {
            keyspace: self.keyspace.clone(),
            table: self.table.clone(),
            name: self.name.clone(),
            column_type: type_spec(&self.ty),
        }
    }
}

/// The protocol description of a CQL type.
pub fn type_spec(ty: &CqlType) -> ColumnTypeSpec {
    match ty {
        CqlType::Ascii => ColumnTypeSpec::Ascii,
        CqlType::Bigint => ColumnTypeSpec::Bigint,
        CqlType::Blob => ColumnTypeSpec::Blob,
        CqlType::Boolean => ColumnTypeSpec::Boolean,
        CqlType::Counter => ColumnTypeSpec::Counter,
        CqlType::Date => ColumnTypeSpec::Date,
        CqlType::Decimal => ColumnTypeSpec::Decimal,
        CqlType::Double => ColumnTypeSpec::Double,
        CqlType::Duration => ColumnTypeSpec::Duration,
        CqlType::Float => ColumnTypeSpec::Float,
        CqlType::Inet => ColumnTypeSpec::Inet,
        CqlType::Int => ColumnTypeSpec::Int,
        CqlType::Smallint => ColumnTypeSpec::Smallint,
        CqlType::Text => ColumnTypeSpec::Varchar,
        CqlType::Time => ColumnTypeSpec::Time,
        CqlType::Timestamp => ColumnTypeSpec::Timestamp,
        CqlType::Timeuuid => ColumnTypeSpec::Timeuuid,
        CqlType::Tinyint => ColumnTypeSpec::Tinyint,
        CqlType::Uuid => ColumnTypeSpec::Uuid,
        CqlType::Varint => ColumnTypeSpec::Varint,
        CqlType::List(e) => ColumnTypeSpec::List(Box::new(type_spec(e))),
        CqlType::Set(e) => ColumnTypeSpec::Set(Box::new(type_spec(e))),
        CqlType::Map(k, v) => ColumnTypeSpec::Map(Box::new(type_spec(k)), Box::new(type_spec(v))),
        CqlType::Tuple(es) => ColumnTypeSpec::Tuple(es.iter().map(type_spec).collect()),
        CqlType::Udt(u) => ColumnTypeSpec::Udt(UdtSpec {
            keyspace: u.keyspace.clone(),
            name: u.name.clone(),
            fields: u
                .fields
                .iter()
                .map(|(n, t)| UdtField {
                    name: n.clone(),
                    field_type: type_spec(t),
                })
                .collect(),
        }),
        CqlType::Frozen(inner) => type_spec(inner),
        CqlType::Vector(e, n) => ColumnTypeSpec::Custom(format!(
            "org.apache.cassandra.db.marshal.VectorType({},{n})",
            marshal_class(e)
        )),
    }
}

/// Cassandra's marshal class name of a type (for custom type specs).
fn marshal_class(ty: &CqlType) -> String {
    let base = match ty {
        CqlType::Ascii => "AsciiType",
        CqlType::Bigint => "LongType",
        CqlType::Blob => "BytesType",
        CqlType::Boolean => "BooleanType",
        CqlType::Counter => "CounterColumnType",
        CqlType::Date => "SimpleDateType",
        CqlType::Decimal => "DecimalType",
        CqlType::Double => "DoubleType",
        CqlType::Duration => "DurationType",
        CqlType::Float => "FloatType",
        CqlType::Inet => "InetAddressType",
        CqlType::Int => "Int32Type",
        CqlType::Smallint => "ShortType",
        CqlType::Text => "UTF8Type",
        CqlType::Time => "TimeType",
        CqlType::Timestamp => "TimestampType",
        CqlType::Timeuuid => "TimeUUIDType",
        CqlType::Tinyint => "ByteType",
        CqlType::Uuid => "UUIDType",
        CqlType::Varint => "IntegerType",
        _ => "BytesType",
    };
    format!("org.apache.cassandra.db.marshal.{base}")
}

/// Rows of a result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResultSet {
    /// Columns.
    pub columns: Vec<ResultColumn>,
    /// Rows: one serialized value (or null) per column.
    pub rows: Vec<Vec<Option<Bytes>>>,
    /// Present when more pages follow.
    pub paging_state: Option<Bytes>,
}

/// What a statement returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryResult {
    /// Nothing (DML, no-op DDL).
    Void,
    /// Rows.
    Rows(ResultSet),
    /// `USE`.
    SetKeyspace(String),
    /// A schema change happened.
    SchemaChange(SchemaChange),
}

/// What PREPARE returns besides the id: the bind markers and the result columns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreparedInfo {
    /// One column spec per bind marker, in marker order.
    pub bind_columns: Vec<ResultColumn>,
    /// For each partition key column, the index of the marker binding it (empty if some
    /// partition key column is not bound by a marker).
    pub pk_indexes: Vec<u16>,
    /// Result columns (empty for statements without rows).
    pub result_columns: Vec<ResultColumn>,
}
