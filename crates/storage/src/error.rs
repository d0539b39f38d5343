//! The storage engine's error type. The CQL layer maps it to protocol error codes in one
//! place; here errors only say precisely what went wrong and where.

use std::path::{Path, PathBuf};

use meridian_types::model::{CodecError, Mutation, TableId};

use crate::commitlog::CommitLogError;
use crate::sstable::SstableError;

/// Everything the storage engine can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The commit log failed (and may have poisoned the engine for writes).
    #[error("commit log: {0}")]
    CommitLog(#[from] CommitLogError),
    /// An SSTable could not be written or read.
    #[error("sstable: {0}")]
    Sstable(#[from] SstableError),
    /// Stored bytes did not decode.
    #[error("corrupt data in {path}: {source}")]
    Corrupt {
        /// The file holding the bytes.
        path: PathBuf,
        /// What was wrong.
        source: CodecError,
    },
    /// A table manifest is unreadable.
    #[error("corrupt manifest {path}: {reason}")]
    CorruptManifest {
        /// The manifest file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// A file-system operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A mutation larger than `max_mutation_size_bytes`.
    #[error("mutation of {size_bytes} bytes is larger than the maximum of {max_bytes} bytes")]
    MutationTooLarge {
        /// Encoded size of the mutation.
        size_bytes: u64,
        /// The configured maximum.
        max_bytes: u64,
    },
    /// The table does not exist (or was dropped).
    #[error("unknown table {0:?}")]
    UnknownTable(TableId),
    /// The table exists already.
    #[error("table {0:?} exists already")]
    TableExists(TableId),
    /// Memtables are full and flushing cannot keep up: the write was not applied.
    #[error("write rejected: memtables hold {memtable_bytes} bytes, over the {limit_bytes}-byte budget, and flushing did not free space within {waited_ms} ms{cause}")]
    Overloaded {
        /// Why flushing is not keeping up, when known (", last flush failed: ...").
        cause: String,
        /// Bytes in memtables.
        memtable_bytes: u64,
        /// The budget.
        limit_bytes: u64,
        /// How long the write waited.
        waited_ms: u64,
    },
    /// The engine is shutting down.
    #[error("storage engine is shut down")]
    ShutDown,
    /// Bad configuration.
    #[error("invalid storage configuration: {0}")]
    Config(String),
}

impl StorageError {
    /// An I/O error with its action and path.
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        StorageError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Why [`crate::Engine::try_apply`] did not apply a mutation.
#[derive(Debug)]
pub enum TryApplyError {
    /// Applying would wait (a batch-mode fsync, memtables at their budget): the mutation is
    /// handed back, nothing was applied.
    WouldBlock(Mutation),
    /// Applying failed, as [`crate::Engine::apply`] would have.
    Failed(StorageError),
}
