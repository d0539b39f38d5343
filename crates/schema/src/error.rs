//! The one error type of this crate, [`SchemaError`], and its classification
//! ([`SchemaError::kind`]) into the CQL native protocol error classes, so that the server maps
//! error codes in one place.
//!
//! Messages follow Cassandra 5.0's wording (including its quirks), because drivers and tests
//! compare them.

/// The CQL error class of a [`SchemaError`], with the protocol error code it maps to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// `Invalid` (0x2200): `InvalidRequestException`.
    Invalid,
    /// `Already_exists` (0x2400): the body carries the keyspace and the table (`""` when the
    /// keyspace itself already exists).
    AlreadyExists {
        /// Keyspace name.
        keyspace: String,
        /// Table name, empty for a keyspace.
        table: String,
    },
    /// `Config_error` (0x2300): `ConfigurationException`.
    Config,
    /// `Syntax_error` (0x2000): `SyntaxException` (Cassandra reports unknown and malformed
    /// properties this way).
    Syntax,
    /// `Unauthorized` (0x2100): schema changes Cassandra refuses during authorization, such
    /// as dropping a replicated system keyspace.
    Unauthorized,
    /// `Server_error` (0x0000): the persisted schema could not be read.
    Server,
}

impl ErrorKind {
    /// The native protocol error code.
    pub fn code(&self) -> u16 {
        match self {
            ErrorKind::Invalid => 0x2200,
            ErrorKind::AlreadyExists { .. } => 0x2400,
            ErrorKind::Config => 0x2300,
            ErrorKind::Syntax => 0x2000,
            ErrorKind::Unauthorized => 0x2100,
            ErrorKind::Server => 0x0000,
        }
    }
}

/// Errors of schema lookups, validation and persistence.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaError {
    /// A statement names a keyspace that does not exist.
    #[error("Keyspace '{keyspace}' doesn't exist")]
    KeyspaceNotFound {
        /// The keyspace.
        keyspace: String,
    },
    /// A statement names a table that does not exist.
    #[error("Table '{keyspace}.{table}' doesn't exist")]
    TableNotFound {
        /// The keyspace.
        keyspace: String,
        /// The table.
        table: String,
    },
    /// `CREATE KEYSPACE` of an existing keyspace.
    #[error("Cannot add existing keyspace \"{keyspace}\"")]
    KeyspaceAlreadyExists {
        /// The keyspace.
        keyspace: String,
    },
    /// `CREATE TABLE` of an existing table.
    #[error("Cannot add already existing table \"{table}\" to keyspace \"{keyspace}\"")]
    TableAlreadyExists {
        /// The keyspace.
        keyspace: String,
        /// The table.
        table: String,
    },
    /// `ALTER TABLE … ADD` of a column that exists.
    #[error("Column with name '{column}' already exists")]
    ColumnAlreadyExists {
        /// The column.
        column: String,
    },
    /// Any other `InvalidRequestException`.
    #[error("{message}")]
    Invalid {
        /// Cassandra's message.
        message: String,
    },
    /// Any other `ConfigurationException`.
    #[error("{message}")]
    Config {
        /// Cassandra's message.
        message: String,
    },
    /// A malformed or unknown property (`SyntaxException` in Cassandra).
    #[error("{message}")]
    Syntax {
        /// Cassandra's message.
        message: String,
    },
    /// A schema change on a system keyspace that Cassandra refuses during authorization.
    #[error("{message}")]
    Unauthorized {
        /// Cassandra's message.
        message: String,
    },
    /// Persisted schema written by a newer (or unknown) format.
    #[error("unsupported persisted schema format version {found} (this build reads version {supported})")]
    UnsupportedFormat {
        /// Version found in the data.
        found: u32,
        /// Version this build writes and reads.
        supported: u32,
    },
    /// Persisted schema that does not describe a valid schema.
    #[error("corrupt persisted schema: {message}")]
    Corrupt {
        /// What is wrong.
        message: String,
    },
}

impl SchemaError {
    /// The CQL error class (and so the protocol error code) of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SchemaError::KeyspaceAlreadyExists { keyspace } => ErrorKind::AlreadyExists {
                keyspace: keyspace.clone(),
                table: String::new(),
            },
            SchemaError::TableAlreadyExists { keyspace, table } => ErrorKind::AlreadyExists {
                keyspace: keyspace.clone(),
                table: table.clone(),
            },
            SchemaError::KeyspaceNotFound { .. }
            | SchemaError::TableNotFound { .. }
            | SchemaError::ColumnAlreadyExists { .. }
            | SchemaError::Invalid { .. } => ErrorKind::Invalid,
            SchemaError::Config { .. } => ErrorKind::Config,
            SchemaError::Syntax { .. } => ErrorKind::Syntax,
            SchemaError::Unauthorized { .. } => ErrorKind::Unauthorized,
            SchemaError::UnsupportedFormat { .. } | SchemaError::Corrupt { .. } => {
                ErrorKind::Server
            }
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        SchemaError::Invalid {
            message: message.into(),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        SchemaError::Config {
            message: message.into(),
        }
    }

    pub(crate) fn syntax(message: impl Into<String>) -> Self {
        SchemaError::Syntax {
            message: message.into(),
        }
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        SchemaError::Unauthorized {
            message: message.into(),
        }
    }

    pub(crate) fn corrupt(message: impl Into<String>) -> Self {
        SchemaError::Corrupt {
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_codes() {
        let e = SchemaError::TableAlreadyExists {
            keyspace: "ks".into(),
            table: "t".into(),
        };
        assert_eq!(
            e.to_string(),
            "Cannot add already existing table \"t\" to keyspace \"ks\""
        );
        assert_eq!(
            e.kind(),
            ErrorKind::AlreadyExists {
                keyspace: "ks".into(),
                table: "t".into()
            }
        );
        assert_eq!(e.kind().code(), 0x2400);
        let e = SchemaError::KeyspaceAlreadyExists {
            keyspace: "ks".into(),
        };
        assert_eq!(e.to_string(), "Cannot add existing keyspace \"ks\"");
        assert_eq!(
            e.kind(),
            ErrorKind::AlreadyExists {
                keyspace: "ks".into(),
                table: String::new()
            }
        );
        assert_eq!(SchemaError::config("x").kind().code(), 0x2300);
        assert_eq!(SchemaError::syntax("x").kind().code(), 0x2000);
        assert_eq!(SchemaError::invalid("x").kind().code(), 0x2200);
        assert_eq!(SchemaError::unauthorized("x").kind().code(), 0x2100);
        assert_eq!(
            SchemaError::KeyspaceNotFound {
                keyspace: "x".into()
            }
            .to_string(),
            "Keyspace 'x' doesn't exist"
        );
    }
}
