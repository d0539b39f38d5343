//! Errors of statement execution and their one mapping to CQL error codes.

use meridian_cql_protocol::{Consistency, ErrorBody, ErrorKind, WriteType};

/// Why a statement failed, in the terms of the CQL protocol's error codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// 0x2000: the text does not parse (message in Cassandra's `line L:C ...` form).
    #[error("{0}")]
    Syntax(String),
    /// 0x2200: the statement is invalid (unknown table or column, wrong type, ...).
    #[error("{0}")]
    Invalid(String),
    /// 0x2300: configuration problem (bad replication options, ...).
    #[error("{0}")]
    Config(String),
    /// 0x2400: the keyspace or table exists. `table` is empty for a keyspace.
    #[error("{message}")]
    AlreadyExists {
        /// Keyspace.
        keyspace: String,
        /// Table, or empty.
        table: String,
        /// Message.
        message: String,
    },
    /// 0x2500: the prepared statement id is unknown.
    #[error("Prepared query with ID {} not found", hex(.0))]
    Unprepared(Vec<u8>),
    /// 0x2100.
    #[error("{0}")]
    Unauthorized(String),
    /// 0x1000: not enough live replicas.
    #[error("Cannot achieve consistency level {consistency}")]
    Unavailable {
        /// Requested level.
        consistency: Consistency,
        /// Replicas needed.
        required: i32,
        /// Replicas alive.
        alive: i32,
    },
    /// 0x1100.
    #[error("Operation timed out - received only {received} responses.")]
    WriteTimeout {
        /// Requested level.
        consistency: Consistency,
        /// Acks received.
        received: i32,
        /// Acks required.
        block_for: i32,
        /// Kind of write.
        write_type: WriteType,
    },
    /// 0x1200.
    #[error("Operation timed out - received only {received} responses.")]
    ReadTimeout {
        /// Requested level.
        consistency: Consistency,
        /// Responses received.
        received: i32,
        /// Responses required.
        block_for: i32,
        /// Whether data was received.
        data_present: bool,
    },
    /// 0x1001: the node is overloaded.
    #[error("{0}")]
    Overloaded(String),
    /// 0x1003.
    #[error("{0}")]
    Truncate(String),
    /// 0x1400: a function failed on its arguments.
    #[error("{message}")]
    FunctionFailure {
        /// Keyspace of the function (`system` for native ones).
        keyspace: String,
        /// Function name.
        function: String,
        /// CQL argument types.
        arg_types: Vec<String>,
        /// Message.
        message: String,
    },
    /// 0x0000: an internal error.
    #[error("{0}")]
    Server(String),
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl QueryError {
    /// An InvalidRequest.
    pub fn invalid(message: impl Into<String>) -> Self {
        QueryError::Invalid(message.into())
    }

    /// A server error.
    pub fn server(message: impl Into<String>) -> Self {
        QueryError::Server(message.into())
    }

    /// The protocol ERROR body: the one place where errors become CQL error codes.
    pub fn to_error_body(&self) -> ErrorBody {
        let message = self.to_string();
        let kind = match self {
            QueryError::Syntax(_) => ErrorKind::SyntaxError,
            QueryError::Invalid(_) => ErrorKind::Invalid,
            QueryError::Config(_) => ErrorKind::ConfigError,
            QueryError::AlreadyExists {
                keyspace, table, ..
            } => ErrorKind::AlreadyExists {
                keyspace: keyspace.clone(),
                table: table.clone(),
            },
            QueryError::Unprepared(id) => ErrorKind::Unprepared {
                id: meridian_cql_protocol::PreparedId(bytes::Bytes::copy_from_slice(id)),
            },
            QueryError::Unauthorized(_) => ErrorKind::Unauthorized,
            QueryError::Unavailable {
                consistency,
                required,
                alive,
            } => ErrorKind::Unavailable {
                consistency: *consistency,
                required: *required,
                alive: *alive,
            },
            QueryError::WriteTimeout {
                consistency,
                received,
                block_for,
                write_type,
            } => ErrorKind::WriteTimeout {
                consistency: *consistency,
                received: *received,
                block_for: *block_for,
                write_type: *write_type,
            },
            QueryError::ReadTimeout {
                consistency,
                received,
                block_for,
                data_present,
            } => ErrorKind::ReadTimeout {
                consistency: *consistency,
                received: *received,
                block_for: *block_for,
                data_present: *data_present,
            },
            QueryError::Overloaded(_) => ErrorKind::Overloaded,
            QueryError::Truncate(_) => ErrorKind::TruncateError,
            QueryError::FunctionFailure {
                keyspace,
                function,
                arg_types,
                ..
            } => ErrorKind::FunctionFailure {
                keyspace: keyspace.clone(),
                function: function.clone(),
                arg_types: arg_types.clone(),
            },
            QueryError::Server(_) => ErrorKind::ServerError,
        };
        ErrorBody { message, kind }
    }
}

impl From<meridian_storage::StorageError> for QueryError {
    fn from(e: meridian_storage::StorageError) -> Self {
        match e {
            meridian_storage::StorageError::MutationTooLarge { .. } => {
                QueryError::Invalid(e.to_string())
            }
            meridian_storage::StorageError::Overloaded { .. } => {
                QueryError::Overloaded(e.to_string())
            }
            other => QueryError::Server(other.to_string()),
        }
    }
}

impl From<meridian_schema::SchemaError> for QueryError {
    fn from(e: meridian_schema::SchemaError) -> Self {
        use meridian_schema::ErrorKind as K;
        let message = e.to_string();
        match e.kind() {
            K::Invalid => QueryError::Invalid(message),
            K::Config => QueryError::Config(message),
            K::AlreadyExists { keyspace, table } => QueryError::AlreadyExists {
                keyspace,
                table,
                message,
            },
            K::Syntax => QueryError::Syntax(message),
            K::Unauthorized => QueryError::Unauthorized(message),
            K::Server => QueryError::Server(message),
        }
    }
}

impl From<meridian_cluster::coordinator::CoordinatorError> for QueryError {
    fn from(e: meridian_cluster::coordinator::CoordinatorError) -> Self {
        use meridian_cluster::coordinator::CoordinatorError as C;
        use meridian_cluster::coordinator::{ConsistencyLevel as L, WriteType as W};
        let level = |l: L| match l {
            L::Any => Consistency::Any,
            L::One => Consistency::One,
            L::Two => Consistency::Two,
            L::Three => Consistency::Three,
            L::Quorum => Consistency::Quorum,
            L::All => Consistency::All,
            L::LocalQuorum => Consistency::LocalQuorum,
            L::EachQuorum => Consistency::EachQuorum,
            L::Serial => Consistency::Serial,
            L::LocalSerial => Consistency::LocalSerial,
            L::LocalOne => Consistency::LocalOne,
        };
        match e {
            C::Unavailable {
                consistency,
                required,
                alive,
            } => QueryError::Unavailable {
                consistency: level(consistency),
                required: required as i32,
                alive: alive as i32,
            },
            C::WriteTimeout {
                consistency,
                received,
                block_for,
                write_type,
            } => QueryError::WriteTimeout {
                consistency: level(consistency),
                received: received as i32,
                block_for: block_for as i32,
                write_type: match write_type {
                    W::Simple => WriteType::Simple,
                    W::Batch => WriteType::Batch,
                    W::UnloggedBatch => WriteType::UnloggedBatch,
                    W::BatchLog => WriteType::BatchLog,
                    W::Cas => WriteType::Cas,
                },
            },
            C::ReadTimeout {
                consistency,
                received,
                block_for,
                data_present,
            } => QueryError::ReadTimeout {
                consistency: level(consistency),
                received: received as i32,
                block_for: block_for as i32,
                data_present,
            },
            C::Invalid(m) => QueryError::Invalid(m),
            C::Storage(s) => QueryError::from(s),
            C::Internal(m) => QueryError::Server(m),
        }
    }
}
