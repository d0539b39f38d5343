//! Compaction strategies.
