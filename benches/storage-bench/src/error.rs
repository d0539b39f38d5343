//! The benchmark's error type.

use meridian_storage::error::StorageError;

/// Everything a benchmark run can fail with.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Meridian's storage engine failed.
    #[error("meridian storage: {0}")]
    Meridian(#[from] StorageError),
    /// fjall failed.
    #[error("fjall: {0}")]
    Fjall(#[from] fjall::Error),
    /// A file-system operation of the benchmark itself failed.
    #[error("{action}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// A bad command-line argument.
    #[error("{0}\n(run with --help for the options)")]
    Usage(String),
    /// A compaction strategy option map was rejected.
    #[error("compaction options {options}: {reason}")]
    Strategy {
        /// The options given.
        options: String,
        /// Why they were rejected.
        reason: String,
    },
    /// A read returned something other than what was written: the benchmark stops rather
    /// than report figures for a store that answers wrongly.
    #[error("{engine} answered wrongly for {what} key #{index}: {detail}")]
    WrongRead {
        /// Which store.
        engine: &'static str,
        /// `present` or `absent`.
        what: &'static str,
        /// Index of the key in its key space.
        index: u64,
        /// What came back.
        detail: String,
    },
    /// A benchmark thread panicked.
    #[error("a benchmark thread panicked")]
    ThreadPanicked,
}

impl BenchError {
    /// Whether the error is Meridian's write backpressure (`Overloaded`), which a client
    /// would retry.
    pub fn is_overloaded(&self) -> bool {
        matches!(self, BenchError::Meridian(StorageError::Overloaded { .. }))
    }
}
